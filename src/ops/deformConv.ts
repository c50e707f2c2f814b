// ONNX DeformConv (opset 19+; torchvision.ops.deform_conv2d): deformable convolution v1
// (Dai et al. 2017) and, with the mask input, v2 (Zhu et al. 2019), 2-D, NHWC.
// Inputs: X, W [OC, C/group, KH, KW] (constant), offset [N, 2·OG·KH·KW, OH, OW] with (dy, dx)
// pairs, optional B [OC] and mask [N, OG·KH·KW, OH, OW]; OG = offset_group.
// Offset and mask reach the kernel NHWC (the layout pass converts activations; constants are
// transposed here at plan time), i.e. per output pixel in (og, kh, kw[, dy/dx]) order — the
// layout assembly/deform.ts documents. Weights are packed with conv2d_pack (same GEMM).
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { shapeStr } from '../graph/ir';
import type { InferCtx, OpDef, PlanCtx } from './types';
import { attrInt, attrInts, input, requireConst } from './util';
import { geomBlock, packWeights, window2d, type Window } from './window';

function geometry(n: Node, ctx: InferCtx): { x: number[]; w: number[]; win: Window; groups: number; og: number } {
  const x = ctx.shape(n.inputs[0]);
  const w = ctx.shape(n.inputs[1]);
  if (x.length !== 4)
    throw new UnsupportedOpError('DeformConv', n.name, `only 2-D deformable convolution (4-D input) is supported, got ${shapeStr(x)}`);
  if (w.length !== 4)
    throw new ShapeError(`DeformConv node '${n.name}': weight '${n.inputs[1]}' must be 4-D, got ${shapeStr(w)}`);
  const groups = attrInt(n, 'group', 1);
  const og = attrInt(n, 'offset_group', 1);
  const C = x[1];
  if (groups < 1 || C % groups !== 0 || w[0] % groups !== 0 || w[1] * groups !== C)
    throw new ShapeError(`DeformConv node '${n.name}': input ${shapeStr(x)} with group=${groups} does not fit weight ${shapeStr(w)}`);
  if (og < 1 || C % og !== 0)
    throw new ShapeError(`DeformConv node '${n.name}': offset_group=${og} does not divide the ${C} input channels`);
  const ks = attrInts(n, 'kernel_shape', [w[2], w[3]])!;
  if (ks.length !== 2 || ks[0] !== w[2] || ks[1] !== w[3])
    throw new ShapeError(`DeformConv node '${n.name}': kernel_shape ${shapeStr(ks)} disagrees with weight ${shapeStr(w)}`);
  return { x, w, win: window2d(n, x[2], x[3], ks), groups, og };
}

/** Address of an offset/mask tensor as NHWC floats: an activation as laid out, a constant transposed now. */
function nhwcPtr(ctx: PlanCtx, name: string, shape: number[]): number {
  const t = ctx.float(name);
  if (!t) {
    if (ctx.layout(name) !== 'nhwc')
      throw new UnsupportedOpError('DeformConv', name, 'offset/mask activation is not in NHWC layout');
    return ctx.ptr(name);
  }
  const [N, C, H, W] = shape;
  const out = new Float32Array(t.data.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < H * W; p++) out[(n * H * W + p) * C + c] = t.data[(n * C + c) * H * W + p];
  return ctx.mem.putF32(out);
}

export const deformConv: OpDef = {
  ops: ['DeformConv'],
  layout: 'nhwc',
  infer(n, ctx) {
    requireConst(ctx, n, [1, 3]);
    const { x, w, win, og } = geometry(n, ctx);
    const taps = win.kh * win.kw;
    const expect = (i: number, ch: number, what: string) => {
      const name = input(n, i);
      if (!name) return;
      const s = ctx.shape(name);
      const want = [x[0], ch, win.oh, win.ow];
      if (s.join() !== want.join())
        throw new ShapeError(`DeformConv node '${n.name}': ${what} '${name}' has shape ${shapeStr(s)}, expected ${shapeStr(want)}`);
    };
    if (!input(n, 2)) throw new ShapeError(`DeformConv node '${n.name}': the offset input is required`);
    expect(2, 2 * og * taps, 'offset');
    expect(4, og * taps, 'mask');
    const b = input(n, 3);
    if (b) {
      const bs = ctx.shape(b);
      if (bs.length !== 1 || bs[0] !== w[0])
        throw new ShapeError(`DeformConv node '${n.name}': bias '${b}' has shape ${shapeStr(bs)}, expected [${w[0]}]`);
    }
    return [[x[0], w[0], win.oh, win.ow]];
  },
  macs(n, ctx) {
    const { x, w, win } = geometry(n, ctx);
    return x[0] * win.oh * win.ow * w[0] * w[1] * w[2] * w[3];
  },
  plan(n: Node, ctx: PlanCtx) {
    const { x, w, win, groups, og } = geometry(n, ctx);
    const { k } = ctx;
    const weight = ctx.weight(n.inputs[1]);
    const biasName = input(n, 3);
    const bias = biasName ? ctx.weight(biasName) : undefined;
    const g = geomBlock(ctx, win, { N: x[0], H: x[2], W: x[3], C: x[1], OC: w[0], groups });
    const packed = packWeights(ctx, k.conv2d_packed_size(g), weight, bias, (wp, bp, dst) => k.conv2d_pack(wp, bp, g, dst));
    const offName = n.inputs[2];
    const off = nhwcPtr(ctx, offName, ctx.shape(offName));
    const maskName = input(n, 4);
    const mask = maskName ? nhwcPtr(ctx, maskName, ctx.shape(maskName)) : 0;
    const s = ctx.scratch(k.deform_scratch_size(g));
    const xi = ctx.ptr(n.inputs[0]);
    const yo = ctx.ptr(n.outputs[0]);
    return () => k.deform_conv_f32(g, xi, off, mask, og, packed, yo, s.ptr);
  },
};
