// ONNX DeformConv (opset 19+; torchvision.ops.deform_conv2d): deformable convolution v1
// (Dai et al. 2017) and, with the mask input, v2 (Zhu et al. 2019), 2-D, NHWC.
// Inputs: X, W [OC, C/group, KH, KW] (constant), offset [N, 2·OG·KH·KW, OH, OW] with (dy, dx)
// pairs, optional B [OC] and mask [N, OG·KH·KW, OH, OW]; OG = offset_group.
// Offset and mask reach the kernel NHWC (the layout pass converts activations; constants are
// transposed here at plan time), i.e. per output pixel in (og, kh, kw[, dy/dx]) order — the
// layout assembly/deform.ts documents. Weights are packed with conv2d_pack (same GEMM). The
// planner loads with the rare ops' chunk (src/ops/rarePlans.ts).
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { shapeStr } from '../graph/ir';
import { planRare } from './rare';
import type { InferCtx, OpDef } from './types';
import { attrInt, attrInts, input, requireConst } from './util';
import { window2d, type Window } from './window';

/** Shapes, window and groups of a DeformConv node (also the planner's, src/ops/rarePlans.ts). */
export function deformGeometry(n: Node, ctx: InferCtx): { x: number[]; w: number[]; win: Window; groups: number; og: number } {
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

export const deformConv: OpDef = {
  ops: ['DeformConv'],
  layout: 'nhwc',
  infer(n, ctx) {
    requireConst(ctx, n, [1, 3]);
    const { x, w, win, og } = deformGeometry(n, ctx);
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
    const { x, w, win } = deformGeometry(n, ctx);
    return x[0] * win.oh * win.ow * w[0] * w[1] * w[2] * w[3];
  },
  plan: planRare,
};
