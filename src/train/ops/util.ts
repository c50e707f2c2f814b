// Helpers the training rules share: element-wise steps over buffers (copy, add, multiply with
// broadcast), summing a gradient back over broadcast axes, and writing an input's gradient
// whether it is the first share (overwrite) or not (add).
import { numel } from '../../lazy/kit';
import type { InferCtx } from '../../ops/types';
import { SINK_SLOT, type TrainCtx } from '../program';

type Step = () => void;

/** out = a (op) b with NumPy broadcasting of a's and b's shapes to `out`'s. */
/** An address known at plan time, or read when the step runs (scratch is placed after planning). */
export type Addr = number | { ptr: number };
const at = (a: Addr) => (typeof a === 'number' ? a : a.ptr);

export function binaryStep(ctx: TrainCtx, op: number, out: Addr, a: Addr, aShape: number[], b: Addr, bShape: number[], outShape: number[]): Step {
  const rank = outShape.length;
  const strides = (s: number[]) => {
    const pad = [...new Array(rank - s.length).fill(1), ...s];
    const st = new Array<number>(rank);
    let m = 1;
    for (let d = rank - 1; d >= 0; d--) {
      st[d] = pad[d] === 1 && outShape[d] !== 1 ? 0 : m;
      m *= pad[d];
    }
    return st;
  };
  const r = Math.max(rank, 1);
  const shapeP = ctx.mem.putI32(rank ? outShape : [1]);
  const aP = ctx.mem.putI32(rank ? strides(aShape) : [1]);
  const bP = ctx.mem.putI32(rank ? strides(bShape) : [1]);
  const k = ctx.k;
  return () => k.binary_f32(op, at(out), at(a), at(b), r, shapeP, aP, bP);
}

/** dst[0..n) = src[0..n) (host copy inside the one memory). */
export function copyStep(ctx: TrainCtx, dst: Addr, src: Addr, n: number): Step {
  const mem = ctx.mem;
  return () => mem.f32.copyWithin(at(dst) >>> 2, at(src) >>> 2, (at(src) >>> 2) + n);
}

/** dst += src over n floats. */
export function addStep(ctx: TrainCtx, dst: Addr, src: Addr, n: number): Step {
  return binaryStep(ctx, ctx.lib.codes.BIN_ADD, dst, dst, [n], src, [n], [n]);
}

/** Write a gradient of n floats into `sink`: copy when it is the first share, else add. */
export function sinkFrom(ctx: TrainCtx, name: string, src: Addr, n: number): Step {
  const s = ctx.sink(name);
  return s.add ? addStep(ctx, s.ptr, src, n) : copyStep(ctx, s.ptr, src, n);
}

/**
 * For kernels that overwrite their output: the address to write input `name`'s gradient to
 * (the gradient itself, or scratch when another share is already there) and the step after.
 */
export function overwriteSink(ctx: TrainCtx, name: string): { dst: () => number; after: Step } {
  const s = ctx.sink(name);
  const n = numel(ctx.shape(name));
  if (!s.add) return { dst: () => s.ptr, after: () => {} };
  const tmp = ctx.scratch(n * 4, SINK_SLOT);
  return { dst: () => tmp.ptr, after: addStep(ctx, s.ptr, tmp, n) };
}

/** For kernels that accumulate: the gradient of input `name`, zeroed first unless another share is there. */
export function accumulateSink(ctx: TrainCtx, name: string): { ptr: number; before: Step } {
  const s = ctx.sink(name);
  const n = numel(ctx.shape(name));
  const k = ctx.k;
  return { ptr: s.ptr, before: s.add ? () => {} : () => k.fill_f32(s.ptr, n, 0) };
}

/**
 * Sum a gradient of shape `full` over the axes where `target` (right-aligned, NumPy rules) is 1
 * or missing, into `dst` (target's numel floats, overwritten): the adjoint of broadcasting.
 */
export function reduceToStep(ctx: TrainCtx, src: Addr, full: number[], target: number[], dst: Addr): Step {
  const rank = full.length;
  const t = [...new Array(rank - target.length).fill(1), ...target];
  // runs of consecutive axes that are all reduced or all kept
  const groups: { size: number; reduce: boolean }[] = [];
  for (let d = 0; d < rank; d++) {
    const reduce = t[d] === 1 && full[d] !== 1;
    const last = groups[groups.length - 1];
    if (last && last.reduce === reduce) last.size *= full[d];
    else groups.push({ size: full[d], reduce });
  }
  const n = numel(full);
  if (!groups.some((g) => g.reduce)) return copyStep(ctx, dst, src, n);
  const k = ctx.k;
  const tmp = ctx.scratch(n * 4, 2);
  // innermost reduced group first: [outer][r][inner] -> [outer][inner], repeatedly
  const calls: { outer: number; r: number; inner: number }[] = [];
  const sizes = groups.map((g) => g.size);
  for (let i = groups.length - 1; i >= 0; i--) {
    if (!groups[i].reduce) continue;
    const outer = sizes.slice(0, i).reduce((a, b) => a * b, 1);
    const inner = sizes.slice(i + 1).reduce((a, b) => a * b, 1);
    calls.push({ outer, r: sizes[i], inner });
    sizes[i] = 1;
  }
  return () => {
    let from = at(src);
    calls.forEach((c, j) => {
      const last = j === calls.length - 1;
      // every reduction at least halves the floats: intermediate results alternate between
      // the two halves of the scratch (never in place), the last goes to dst
      const to = last ? at(dst) : tmp.ptr + (j % 2) * Math.floor(n / 2) * 4;
      k.reduce_f32(ctx.lib.codes.RED_SUM, from, to, c.outer, c.r, c.inner);
      from = to;
    });
  };
}

/** Dense row-major strides of a shape. */
export function stridesOf(shape: number[]): number[] {
  const st = new Array<number>(shape.length);
  let m = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = m;
    m *= shape[d];
  }
  return st;
}

/** dst (dense over `shape`) = src read through `srcStrides` (a transpose, a channel shuffle, a slice). */
export function gatherStep(ctx: TrainCtx, dst: Addr, src: Addr, shape: number[], srcStrides: number[]): Step {
  const shapeP = ctx.mem.putI32(shape);
  const dP = ctx.mem.putI32(stridesOf(shape));
  const sP = ctx.mem.putI32(srcStrides);
  const k = ctx.k;
  return () => k.copy_nd_f32(at(dst), at(src), shape.length, shapeP, dP, sP);
}

/** Input `name`'s gradient from a step that writes it whole (dense): straight into it, or via scratch then added. */
export function wholeSink(ctx: TrainCtx, name: string, write: (dst: Addr) => Step): Step {
  const s = ctx.sink(name);
  if (!s.add) return write(s.ptr);
  const n = numel(ctx.shape(name));
  const tmp = ctx.scratch(n * 4, SINK_SLOT);
  const w = write(tmp);
  const add = addStep(ctx, s.ptr, tmp, n);
  return () => (w(), add());
}

/** The inference engine's view of the graph's shapes and constants, for the shared geometry and attribute readers. */
export function inferCtx(ctx: TrainCtx): InferCtx {
  const g = ctx.graph;
  return { graph: g, opset: g.opset, shape: ctx.shape, int: (v) => g.intConstants.get(v), float: (v) => g.initializers.get(v) };
}
