// ONNX Conv (2-D): dense, grouped, dilated and depthwise convolution on NHWC activations.
// Depthwise (group == C == OC) runs the depthwise kernels; dense 3x3 stride-1 layers Winograd
// F(4x4, 3x3) or F(2x2, 3x3) (assembly/winograd.ts); everything else conv2d (1x1 as a plain
// GEMM, KxK through im2col + GEMM, or reading the input in place when it has few channels).
// Fused epilogue: bias, residual (input 3), clamp-type act. With weightStorage 'float16' the
// GEMM panels of 1x1 and im2col convs are half-stored (FLAG_CONV_HALF), the others float32.
import * as Codes from '../../assembly/codes';
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { shapeStr } from '../graph/ir';
import type { InferCtx, OpDef, PlanCtx } from './types';
import { attrInt, attrInts, input, requireConst } from './util';
import { fusedAct, geomBlock, packWeights, panelsAt, window2d, type Window } from './window';

function geometry(n: Node, ctx: InferCtx): { x: number[]; w: number[]; win: Window; groups: number } {
  const x = ctx.shape(n.inputs[0]);
  const w = ctx.shape(n.inputs[1]);
  if (x.length !== 4)
    throw new UnsupportedOpError('Conv', n.name, `only 2-D convolution (4-D input) is supported, got input ${shapeStr(x)}`);
  if (w.length !== 4)
    throw new ShapeError(`Conv node '${n.name}': weight '${n.inputs[1]}' must be 4-D, got ${shapeStr(w)}`);
  const groups = attrInt(n, 'group', 1);
  const C = x[1];
  if (groups < 1 || C % groups !== 0 || w[0] % groups !== 0 || w[1] * groups !== C)
    throw new ShapeError(
      `Conv node '${n.name}': input ${shapeStr(x)} with group=${groups} does not fit weight '${n.inputs[1]}' ${shapeStr(w)}`,
    );
  const ks = attrInts(n, 'kernel_shape', [w[2], w[3]])!;
  if (ks[0] !== w[2] || ks[1] !== w[3])
    throw new ShapeError(`Conv node '${n.name}': kernel_shape ${shapeStr(ks)} disagrees with weight ${shapeStr(w)}`);
  return { x, w, win: window2d(n, x[2], x[3], ks), groups };
}

export function isDepthwise(n: Node, ctx: InferCtx): boolean {
  const x = ctx.shape(n.inputs[0]);
  const w = ctx.shape(n.inputs[1]);
  return attrInt(n, 'group', 1) === x[1] && w[0] === x[1] && x[1] > 1;
}

/**
 * Channels from which Winograd F(2x2, 3x3) beat im2col + GEMM (Node 20, 2-core EPYC, one
 * thread): 0.55x the time at 56x56 64->64, 0.45-0.66x from 128 to 512 channels, 0.78-0.89x at
 * 8 channels; 1.14x at 3 input channels (the 224x224 stem), so small C stays on im2col.
 */
const WINOGRAD_MIN_CHANNELS = 8;

/**
 * Largest C·OC given F(4x4, 3x3) instead of F(2x2, 3x3). F(4x4) multiplies 2.25x less but packs
 * 36 floats per 9 weights (F(2x2): 16) and streams them once per block of tiles. Measured one
 * thread, F(4x4) / F(2x2) time: 0.61 at 56x56 64->64, 0.64 at 28x28 128->128 and 56x56 96->96,
 * 0.62 at 28x28 192->192, 0.67 at 112x112 48->48, 0.92 at 56x56 128->32; 0.97 at 14x14
 * 256->256 and 1.29 at 14x14 384->384, where the transformed filters (9-21 MB) no longer stay
 * in cache between blocks.
 */
const WINOGRAD_F4_MAX_FILTER = 192 * 192;

/**
 * F(4x4) for a Winograd layer: small filters, outputs of at least 28x28 pixels (the time saved
 * grows with the pixels, the extra packed weights do not), and 4x4 tiles that waste at most 15%
 * more output than 2x2 tiles (at 14x14 128->32, computing 16x16, F(4x4) took 1.17x F(2x2)'s
 * time). Narrow layers gain as much as wide ones, F(4x4) / F(2x2) time (one thread, the conv
 * alone, min of 5 interleaved rounds): 0.51-0.57 at PaddleOCR-det's 96->24 FPN and head convs
 * (92x120, 184x240), DenseNet's 128->32 (56x56, 28x28), 160->24 to 256->32, 12->12 to 48->24;
 * densenet121 whole 0.88x for 5.9 MB more packed weights (38.7 -> 44.6 MB).
 */
function useF4(win: Window, C: number, OC: number): boolean {
  const padded = (n: number, m: number) => Math.ceil(n / m) * m;
  return C * OC <= WINOGRAD_F4_MAX_FILTER && win.oh * win.ow >= 28 * 28 &&
    padded(win.oh, 4) * padded(win.ow, 4) <= 1.15 * padded(win.oh, 2) * padded(win.ow, 2);
}

/**
 * Winograd's transformed filters (16/9 of the weights) come from memory every run once they are
 * big; small outputs then cannot pay for them. So a layer with C·OC above this and fewer than
 * 14x14 output pixels stays on im2col: ResNet-50's 7x7 512->512 layers took 4.9 ms with F(2x2)
 * against about 4.7 ms with im2col inside the whole model (one thread), and F(2x2) held 15 MB
 * more; VGG-16's 14x14 and 28x28 512->512 layers are 7% faster with F(2x2). 256->256 (4 MB
 * transformed) pays even on small maps (one thread, per-step minima inside the whole model):
 * fasterrcnn_mobilenet_v3_large_320_fpn's FPN and RPN convs at 10x14 2.7 -> 1.7 ms and at 5x7
 * 0.67 -> 0.45 ms (whole run 0.96x), retinanet's at 10x16 2.8 -> 1.7 ms and 5x8 0.69 -> 0.5 ms,
 * AlexNet's conv5 at 13x13 (whole run 0.81-0.95x); GoogLeNet's 7x7 160->320 level.
 */
const WINOGRAD_STREAMED_FILTER = 256 * 256;

/** Dense 3x3, stride 1, dilation 1, with a clamp-family epilogue: the Winograd kernel's domain. */
function useWinograd(win: Window, groups: number, C: number, OC: number, act: number): boolean {
  return groups === 1 && win.kh === 3 && win.kw === 3 && win.sh === 1 && win.sw === 1 &&
    win.dh === 1 && win.dw === 1 && C >= WINOGRAD_MIN_CHANNELS && OC >= WINOGRAD_MIN_CHANNELS &&
    (C * OC <= WINOGRAD_STREAMED_FILTER || win.oh * win.ow >= 14 * 14) && act <= Codes.ACT_CLAMP;
}

/**
 * Input channels up to which conv2d reads the input in place instead of through im2col
 * (FLAG_CONV_DIRECT, assembly/conv.ts). Direct / im2col time, one thread: 0.61-0.77 on the
 * 224x224 3-channel 3x3 stride-2 stems (16-32 outputs), 0.91 on ResNet's 7x7 stem, 0.90 on
 * ConvNeXt's 4x4 patchify, 0.92 at 112x112 32->32 stride 2, 0.95 at 48->48, 1.00-1.05 from 48
 * to 256 channels, where im2col's copy is a small part of a long GEMM depth.
 */
const DIRECT_MAX_CHANNELS = 32;

/**
 * The direct path's domain: one group, adjacent taps along a row, a dense input, few channels
 * (at least one: with none, im2col + GEMM's k-less sums give the bias, where the direct kernel
 * would divide by zero).
 */
function useDirect(win: Window, groups: number, C: number, inStride: number): boolean {
  return groups === 1 && win.dw === 1 && inStride === C && C >= 1 && C <= DIRECT_MAX_CHANNELS;
}

export const conv: OpDef = {
  ops: ['Conv'],
  layout: 'nhwc',
  stridedIn: true,
  stridedOut: true,
  // a fused residual: every path's epilogue (gemm.ts tiles, the Winograd output transform)
  // reads an output element's residual before it stores that element
  inPlace: (n) => (n.inputs[3] ? [3] : []),
  infer(n, ctx) {
    requireConst(ctx, n, [1, 2]);
    const { x, w, win } = geometry(n, ctx);
    const b = input(n, 2);
    if (b) {
      const bs = ctx.shape(b);
      if (bs.length !== 1 || bs[0] !== w[0])
        throw new ShapeError(`Conv node '${n.name}': bias '${b}' has shape ${shapeStr(bs)}, expected [${w[0]}]`);
    }
    const out = [x[0], w[0], win.oh, win.ow];
    const r = input(n, 3);
    if (r && ctx.shape(r).join() !== out.join())
      throw new ShapeError(`Conv node '${n.name}': residual '${r}' ${shapeStr(ctx.shape(r))} != output ${shapeStr(out)}`);
    return [out];
  },
  macs(n, ctx) {
    const { x, w, win } = geometry(n, ctx);
    return x[0] * win.oh * win.ow * w[0] * w[1] * w[2] * w[3];
  },
  plan(n: Node, ctx: PlanCtx) {
    const { x, w, win, groups } = geometry(n, ctx);
    const { k } = ctx;
    const weight = ctx.weight(n.inputs[1]);
    const biasName = input(n, 2);
    const bias = biasName ? ctx.weight(biasName) : undefined;
    const res = input(n, 3);
    const a = fusedAct(n);
    const dw = isDepthwise(n, ctx);
    const wino = !dw && useWinograd(win, groups, x[1], w[0], a.act);
    const inStride = ctx.stride(n.inputs[0]);
    const direct = !dw && !wino && useDirect(win, groups, x[1], inStride);
    const g = geomBlock(ctx, win, {
      N: x[0], H: x[2], W: x[3], C: x[1], OC: w[0], groups, ...a,
      inStride, outStride: ctx.stride(n.outputs[0]), resStride: res ? ctx.stride(res) : w[0],
      flags: (wino && useF4(win, x[1], w[0]) ? Codes.FLAG_WINO_F4 : 0) | (direct ? Codes.FLAG_CONV_DIRECT : 0),
    });
    const size = dw ? k.dwconv_packed_size(g) : wino ? k.wino_packed_size(g) : k.conv2d_packed_size(g);
    const scaleName = n.attrs._wscale as string | undefined;
    // a folded BatchNorm / layer scale multiplies each output channel's kernel
    const scale = scaleName ? ctx.weight(scaleName).data : undefined;
    // im2col and 1x1 convs' GEMM panels may be stored half (weightStorage 'float16', src/ops/half.ts)
    const panels = ctx.half?.convPanels(win, w, groups, dw || wino, direct);
    const { ptr: packed, half } = panelsAt(packWeights(ctx, size, weight, bias, (wp, bp, dst) => {
      if (dw) k.dwconv_pack(wp, bp, g, dst);
      else if (wino) k.wino_pack(wp, bp, g, dst);
      else k.conv2d_pack(wp, bp, g, dst);
    }, scale, `${dw ? 'dw' : wino ? 'wino' : 'gemm'}:${groups}:${wino && useF4(win, x[1], w[0]) ? 'f4' : ''}`, panels));
    if (half) ctx.mem.i32[(g >>> 2) + Codes.G_FLAGS] |= Codes.FLAG_CONV_HALF;
    const xi = ctx.ptr(n.inputs[0]);
    const yo = ctx.ptr(n.outputs[0]);
    const macs = this.macs!(n, ctx);
    if (dw) {
      if (res) throw new UnsupportedOpError('Conv', n.name, 'residual epilogue on a depthwise conv');
      return ctx.parallel('dwconv_f32', [g, xi, packed, yo], macs);
    }
    const ri = res ? ctx.ptr(res) : 0;
    // one scratch block per thread (the kernels offset it by part)
    const s = ctx.scratch(ctx.threads * (wino ? k.wino_scratch_size(g) : k.conv2d_scratch_size(g)));
    const kernel = wino ? 'wino_conv_f32' : 'conv2d_f32';
    return ctx.parallel(kernel, [g, xi, packed, yo, ri, s], macs);
  },
};
