// Sliding-window geometry for Conv and pooling (ONNX Conv/MaxPool/AveragePool attribute rules):
// auto_pad, explicit pads, dilation, ceil_mode; and the kernels' geometry block.
import * as C from '../../assembly/codes';
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node, Tensor } from '../graph/ir';
import { numel, packKey, shapeStr } from '../graph/ir';
import type { PlanCtx } from './types';
import { attrFloat, attrInt, attrInts, attrString, MAX_I32 } from './util';
import type { Window } from './geometry';

export { window2d, type Window } from './geometry';

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
 * `panels` ([count, K]: the packing is `count` GEMM panels K deep, gemm.ts's layout): with
 * CompileOptions.weightStorage 'float16' they are stored half (src/ops/half.ts narrowPacked), and
 * then the address returned is odd (bit 0 set; addresses are 64-byte aligned; see panelsAt).
 */
export function packWeights(
  ctx: PlanCtx, floats: number, weight: Tensor, bias: Tensor | undefined,
  pack: (w: number, bias: number, dst: number) => void, scale?: Float32Array, variant = '', panels?: [number, number],
): number {
  const { mem } = ctx;
  const make = () => {
    const packed = mem.alloc(floats * 4);
    const mark = mem.mark();
    const wp = mem.putTensor(weight);
    if (scale) {
      // w[o][j] *= scale[o] in the wasm (a broadcasting multiply: the same f32 products, SIMD)
      const per = numel(weight.shape) / scale.length;
      const dims = mem.putI32([scale.length, per, per, 1, 1, 0]);
      ctx.k.binary_f32(C.BIN_MUL, wp, wp, mem.putF32(scale), 2, dims, dims + 8, dims + 16);
    }
    pack(wp, bias ? mem.putTensor(bias) : 0, packed);
    mem.reset(mark);
    return packed;
  };
  const made = panels && ctx.half ? () => ctx.half!.narrowPacked(ctx, make, panels[0], panels[1]) : make;
  // shared between the plans of a dynamic model only when the caller names its packing variant
  return ctx.shared && variant ? ctx.shared(['conv', variant, floats, packKey(weight), weight.shape.join(), bias && packKey(bias), scale], made) : made();
}

/** A packWeights / packGemm result: the panels' address and whether they are half-stored (bit 0). */
export function panelsAt(p: number): { ptr: number; half: boolean } {
  const half = p % 2;
  return { ptr: p - half, half: half === 1 };
}
