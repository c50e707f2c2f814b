// Sliding-window geometry for Conv and pooling (ONNX Conv/MaxPool/AveragePool attribute rules):
// auto_pad, explicit pads, dilation, ceil_mode; and the kernels' geometry block.
import * as C from '../../assembly/codes';
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node, Tensor } from '../graph/ir';
import { shapeStr } from '../graph/ir';
import type { PlanCtx } from './types';
import { attrFloat, attrInt, attrInts, attrString, MAX_I32 } from './util';

export interface Window {
  kh: number; kw: number;
  sh: number; sw: number;
  dh: number; dw: number;
  pt: number; pl: number; pb: number; pr: number;
  oh: number; ow: number;
}

/**
 * Resolve a 2-D window from the node's attributes for input H x W and kernel kh x kw, checking
 * every value against ONNX's definition and the kernels' i32 parameters: kernel, strides and
 * dilations >= 1, pads >= 0 (for pooling also smaller than the kernel, as onnxruntime requires:
 * a window wholly in the padding has no value), the dilated kernel within the padded input.
 * A stride longer than the padded input leaves one window on that axis whatever its value, so
 * it is handed to the kernels clamped to the padded length (same result, no i32 overflow).
 */
export function window2d(n: Node, H: number, W: number, kernel: number[], ceilMode = false): Window {
  if (kernel.length !== 2)
    throw new UnsupportedOpError(n.op, n.name, `only 2-D windows are supported (kernel ${shapeStr(kernel)})`);
  const bad = (what: string): never => {
    throw new ShapeError(`${n.op} node '${n.name}': ${what}`);
  };
  const [kh, kw] = kernel;
  let [sh, sw] = attrInts(n, 'strides', [1, 1])!;
  const [dh, dw] = attrInts(n, 'dilations', [1, 1])!;
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  const rawPads = attrInts(n, 'pads', [0, 0, 0, 0])!;
  if (attrInts(n, 'strides', [1, 1])!.length !== 2) bad(`strides ${shapeStr(attrInts(n, 'strides')!)} must have 2 entries`);
  if (attrInts(n, 'dilations', [1, 1])!.length !== 2) bad(`dilations ${shapeStr(attrInts(n, 'dilations')!)} must have 2 entries`);
  if (rawPads.length !== 4) bad(`pads ${shapeStr(rawPads)} must have 4 entries`);
  let [pt, pl, pb, pr] = rawPads;
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh < 1 || kw < 1)
    bad('strides, dilations and kernel must be >= 1');
  for (const [what, v] of [['kernel', [kh, kw]], ['dilations', [dh, dw]]] as const)
    if (v.some((x) => x > MAX_I32)) bad(`${what} ${shapeStr(v)} exceed ${MAX_I32}`);
  // the dilated kernel must fit the padded input below, so bound it by what an input can be
  const ekh = dh * (kh - 1) + 1;
  const ekw = dw * (kw - 1) + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    if (sh > H) sh = H;
    if (sw > W) sw = W;
    const oh = Math.ceil(H / sh);
    const ow = Math.ceil(W / sw);
    const th = Math.max(0, (oh - 1) * sh + ekh - H);
    const tw = Math.max(0, (ow - 1) * sw + ekw - W);
    const upper = autoPad === 'SAME_UPPER';
    pt = upper ? Math.floor(th / 2) : Math.ceil(th / 2);
    pb = th - pt;
    pl = upper ? Math.floor(tw / 2) : Math.ceil(tw / 2);
    pr = tw - pl;
  } else if (autoPad === 'VALID') {
    pt = pl = pb = pr = 0;
  } else if (autoPad !== 'NOTSET') {
    throw new UnsupportedOpError(n.op, n.name, `auto_pad '${autoPad}'`);
  }
  if ([pt, pl, pb, pr].some((p) => p < 0))
    throw new UnsupportedOpError(n.op, n.name, `negative pads ${[pt, pl, pb, pr]}`);
  const pooling = n.op === 'MaxPool' || n.op === 'AveragePool';
  if (pooling && autoPad === 'NOTSET' && (pt >= kh || pb >= kh || pl >= kw || pr >= kw))
    bad(`pads ${shapeStr([pt, pl, pb, pr])} must be smaller than the ${kh}x${kw} kernel`);
  if (H + pt + pb > MAX_I32 || W + pl + pr > MAX_I32) bad(`pads ${shapeStr([pt, pl, pb, pr])} exceed ${MAX_I32}`);
  // one window per axis once the stride reaches past the padded input: any such stride is the same
  sh = Math.min(sh, H + pt + pb);
  sw = Math.min(sw, W + pl + pr);
  const out = (size: number, p0: number, p1: number, ek: number, s: number): number => {
    const span = size + p0 + p1 - ek;
    if (span < 0) return 0;
    let o = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    // the last window must start inside the input or its leading pad (PyTorch and ONNX rule)
    if (ceilMode && (o - 1) * s >= size + p0) o--;
    return o;
  };
  const oh = out(H, pt, pb, ekh, sh);
  const ow = out(W, pl, pr, ekw, sw);
  if (oh < 1 || ow < 1)
    throw new ShapeError(
      `${n.op} node '${n.name}': a ${kh}x${kw} window (dilation ${dh}x${dw}) does not fit the ${H}x${W} input with pads ${[pt, pl, pb, pr]}`,
    );
  return { kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow };
}

const f32bits = new Float32Array(1);
const i32bits = new Int32Array(f32bits.buffer);
export function floatBits(x: number): number {
  f32bits[0] = x;
  return i32bits[0];
}

export interface GeomArgs {
  N: number; H: number; W: number; C: number; OC: number; groups: number;
  inStride?: number; outStride?: number; resStride?: number;
  act?: number; p0?: number; p1?: number; flags?: number;
}

/** Write a geometry block (codes.ts G_* layout) into the model's memory; returns its address. */
export function geomBlock(ctx: PlanCtx, w: Window, a: GeomArgs): number {
  const g = new Array<number>(C.G_SIZE).fill(0);
  g[C.G_N] = a.N; g[C.G_H] = a.H; g[C.G_W] = a.W; g[C.G_C] = a.C;
  g[C.G_OH] = w.oh; g[C.G_OW] = w.ow; g[C.G_OC] = a.OC;
  g[C.G_KH] = w.kh; g[C.G_KW] = w.kw; g[C.G_SH] = w.sh; g[C.G_SW] = w.sw;
  g[C.G_PT] = w.pt; g[C.G_PL] = w.pl; g[C.G_PB] = w.pb; g[C.G_PR] = w.pr;
  g[C.G_DH] = w.dh; g[C.G_DW] = w.dw; g[C.G_GROUPS] = a.groups;
  g[C.G_IN_STRIDE] = a.inStride ?? a.C;
  g[C.G_OUT_STRIDE] = a.outStride ?? a.OC;
  g[C.G_ACT] = a.act ?? C.ACT_NONE;
  g[C.G_ACT_P0] = floatBits(a.p0 ?? 0);
  g[C.G_ACT_P1] = floatBits(a.p1 ?? 0);
  g[C.G_FLAGS] = a.flags ?? 0;
  g[C.G_RES_STRIDE] = a.resStride ?? a.OC;
  return ctx.mem.putI32(g);
}

/** The clamp-family activation fused into a node by the epilogue pass (attrs _act/_p0/_p1). */
export function fusedAct(n: Node): { act: number; p0: number; p1: number } {
  return { act: attrInt(n, '_act', C.ACT_NONE), p0: attrFloat(n, '_p0', 0), p1: attrFloat(n, '_p1', 0) };
}

/**
 * Packs a conv-family weight once: stages the PyTorch/ONNX-layout weight (each output channel's
 * kernel times scale[o] when a folded BatchNorm / layer scale is given) and bias in wasm
 * memory, calls `pack(w, bias, dst)` into `floats` freshly reserved floats, and gives the
 * staging space back. Returns the packed weights' address. `variant` names the packing (kernel
 * family and flags): with it, the plans of a model with dynamic input shapes share the result.
 */
export function packWeights(
  ctx: PlanCtx, floats: number, weight: Tensor, bias: Tensor | undefined,
  pack: (w: number, bias: number, dst: number) => void, scale?: Float32Array, variant = '',
): number {
  const { mem } = ctx;
  const make = () => {
    const packed = mem.alloc(floats * 4);
    const mark = mem.mark();
    const wp = mem.putF32(weight.data);
    if (scale) {
      const f = mem.f32;
      const per = weight.data.length / scale.length;
      for (let o = 0; o < scale.length; o++) {
        const base = (wp >>> 2) + o * per;
        for (let j = 0; j < per; j++) f[base + j] *= scale[o];
      }
    }
    pack(wp, bias ? mem.putF32(bias.data) : 0, packed);
    mem.reset(mark);
    return packed;
  };
  // shared between the plans of a dynamic model only when the caller names its packing variant
  return ctx.shared && variant ? ctx.shared(['conv', variant, floats, weight.data, weight.shape.join(), bias?.data, scale], make) : make();
}
