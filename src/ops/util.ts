// Attribute access, broadcasting and stride helpers shared by the op files.
import { ShapeError, UnsupportedOpError } from '../errors';
import type { AttrValue, IntTensor, Node, Tensor } from '../graph/ir';
import { numel, shapeStr } from '../graph/ir';
import type { InferCtx, Layout, PlanCtx } from './types';
import { attrInt, attrInts, MAX_I32 } from './attrs';

export { attrFinite, attrFloat, attrFloats, attrInt, attrInts, attrIntIn, attrIntsIn, attrString, input, MAX_I32, normAxis } from './attrs';

/**
 * Work of one float through a memory-bound elementwise pass, in multiply-accumulates (the unit of
 * PlanCtx.parallel's threshold): a load, a few vector ops and a store against ~0.06 ns per MAC.
 */
export const ELEMENT_MACS = 8;

/**
 * Most elements one tensor may have: its float32 bytes must fit wasm32's 4 GiB address space
 * (in practice less: weights, the arena and the other tensors share it).
 */
export const MAX_ELEMENTS = 2 ** 30 - 1;

/** Numpy-style multidirectional broadcast of shapes. */
export function broadcast(n: Node, shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o])
        throw new ShapeError(
          `${n.op} node '${n.name}': shapes ${shapes.map(shapeStr).join(' and ')} do not broadcast`,
        );
    }
  }
  return out;
}

export function denseStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** NCHW axis order of the NHWC physical dims. */
export const NHWC_PERM = [0, 2, 3, 1];

/** Physical position of logical axis `a` of a value in `layout` (rank-4 nhwc only remaps). */
export function physAxis(layout: Layout, a: number): number {
  return layout === 'nhwc' ? [0, 3, 1, 2][a] : a;
}

/**
 * Strides (in floats) to read an operand of logical shape `s` broadcast against logical
 * output shape `out`, expressed in the output's physical dim order.
 */
export function broadcastStrides(
  s: readonly number[],
  out: readonly number[],
  layout: Layout,
  sLayout: Layout,
  pixelStride?: number,
): number[] {
  const rank = out.length;
  const aligned = new Array<number>(rank).fill(1);
  for (let i = 0; i < s.length; i++) aligned[rank - s.length + i] = s[i];
  // strides of the operand as stored
  let logicalStrides: number[];
  if (sLayout === 'nhwc') {
    const [, C, H, W] = aligned;
    const S = pixelStride ?? C;
    logicalStrides = [H * W * S, 1, W * S, S];
  } else {
    logicalStrides = denseStrides(aligned);
  }
  const st = logicalStrides.map((v, i) => (aligned[i] === 1 ? 0 : v));
  return layout === 'nhwc' ? NHWC_PERM.map((p) => st[p]) : st;
}

/** Strides (floats) of a value as stored, in physical dim order; NHWC slices use their pixel stride. */
export function physStrides(ctx: PlanCtx, name: string): number[] {
  const p = ctx.phys(name);
  if (ctx.layout(name) !== 'nhwc') return denseStrides(p);
  const [, H, W] = p;
  const S = ctx.stride(name);
  return [H * W * S, W * S, S, 1];
}

export function physShape(shape: readonly number[], layout: Layout): number[] {
  return layout === 'nhwc' ? NHWC_PERM.map((p) => shape[p]) : shape.slice();
}

/** Drop size-1 dims and merge dims that are contiguous for every operand (fewer loop levels). */
export function simplifyDims(shape: number[], strides: number[][]): { shape: number[]; strides: number[][] } {
  const keep: number[] = [];
  for (let i = 0; i < shape.length; i++) if (shape[i] !== 1) keep.push(i);
  let sh = keep.map((i) => shape[i]);
  let st = strides.map((s) => keep.map((i) => s[i]));
  if (sh.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  const outSh: number[] = [sh[sh.length - 1]];
  const outSt = st.map((s) => [s[s.length - 1]]);
  for (let i = sh.length - 2; i >= 0; i--) {
    const canMerge = st.every((s, j) => s[i] === outSt[j][0] * outSh[0]);
    if (canMerge) {
      outSh[0] *= sh[i];
    } else {
      outSh.unshift(sh[i]);
      outSt.forEach((s, j) => s.unshift(st[j][i]));
    }
  }
  sh = outSh;
  st = outSt;
  return { shape: sh, strides: st };
}

/** Write rank/shape/strides arrays for the nd kernels; returns their addresses. */
export function ndParams(ctx: PlanCtx, shape: number[], ...strides: number[][]): { rank: number; shape: number; strides: number[] } {
  if (shape.length > 6) throw new ShapeError(`tensor of rank ${shape.length} exceeds the 6 dims the kernels take`);
  return {
    rank: shape.length,
    shape: ctx.mem.putI32(shape),
    strides: strides.map((s) => ctx.mem.putI32(s)),
  };
}

/** Plan a strided copy (transpose, slice, concat piece) with the copy_nd kernel. */
export function planCopy(
  ctx: PlanCtx,
  dst: number,
  src: number,
  shape: number[],
  dstStrides: number[],
  srcStrides: number[],
): () => void {
  const simp = simplifyDims(shape, [dstStrides, srcStrides]);
  const p = ndParams(ctx, simp.shape, simp.strides[0], simp.strides[1]);
  const k = ctx.k;
  return () => k.copy_nd_f32(dst, src, p.rank, p.shape, p.strides[0], p.strides[1]);
}

/** Values of a constant input read as shape arithmetic (pads, axes, sizes): every entry must be an integer. */
export function intOf(ctx: InferCtx, n: Node, name: string | undefined, what: string): number[] | undefined {
  const v = floatsOf(ctx, n, name, what);
  if (v && v.some((x) => !Number.isInteger(x)))
    throw new ShapeError(`${n.op} node '${n.name}': ${what} ('${name}') must hold integers, got [${v.slice(0, 8).join(', ')}]`);
  return v;
}

/** Values of a constant input that may be fractional (Resize scales, Clip bounds, a Pad value); NaN is refused. */
export function floatsOf(ctx: InferCtx, n: Node, name: string | undefined, what: string): number[] | undefined {
  if (!name) return undefined;
  const t = ctx.int(name);
  const f = t ? undefined : ctx.float(name);
  if (!t && !f) throw new UnsupportedOpError(n.op, n.name, `${what} ('${name}') must be a constant known at load time`);
  const v = t ? t.ints : Array.from(f!.data);
  if (v.some((x) => Number.isNaN(x))) throw new ShapeError(`${n.op} node '${n.name}': ${what} ('${name}') holds NaN`);
  return v;
}

/** Inputs that must be weights known at load time (not activations). */
export function requireConst(ctx: InferCtx, n: Node, indices: number[]): void {
  for (const i of indices) {
    const name = n.inputs[i];
    if (name && !ctx.float(name) && !ctx.int(name))
      throw new UnsupportedOpError(n.op, n.name, `input ${i} ('${name}') must be a constant weight, not a value computed at run time`);
  }
}

export function floatTensor(data: Float32Array, shape: number[]): Tensor {
  return { data, shape };
}

export function intTensor(ints: number[], shape: number[]): IntTensor {
  return { ints, shape };
}

export function checkNumel(n: Node, shape: number[], expect: number, what: string): void {
  if (numel(shape) !== expect)
    throw new ShapeError(`${n.op} node '${n.name}': ${what} ${shapeStr(shape)} has ${numel(shape)} elements, expected ${expect}`);
}
