// ONNX ConvTranspose (2-D; PyTorch ConvTranspose2d): strides, pads, output_padding, dilations,
// group, output_shape and auto_pad, on NHWC activations. The kernel (assembly/transposed.ts) is
// GEMM + col2im: no inserted zeros are multiplied; overlapping taps sum as PyTorch computes them.
// Output-size and pad rules follow the ONNX operator spec and its reference implementation:
//   out = stride·(in − 1) + output_padding + (kernel − 1)·dilation + 1 − pad_begin − pad_end,
// and with output_shape (or auto_pad SAME_*, where output_shape = in·stride) the total padding
// stride·(in − 1) + output_padding + (kernel − 1)·dilation + 1 − output_shape is split
// begin = total − ⌊total/2⌋ (SAME_UPPER: ⌊total/2⌋), which may be negative at the end (the
// output then extends past the last tap; those pixels hold the bias).
// The planner loads with the rare ops' chunk (src/ops/rarePlans.ts).
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { shapeStr } from '../graph/ir';
import { planRare } from './rare';
import type { InferCtx, OpDef } from './types';
import { attrInt, attrInts, attrString, input, MAX_ELEMENTS, MAX_I32, requireConst } from './util';
import type { Window } from './window';

export interface Geometry { x: number[]; w: number[]; win: Window; groups: number; oc: number }

/** Shapes, groups and window (pads resolved from output_shape / auto_pad) of a ConvTranspose node; the planner (src/ops/rarePlans.ts) and the training rule reuse it. */
export function convTransposeGeometry(n: Node, ctx: InferCtx): Geometry {
  const x = ctx.shape(n.inputs[0]);
  const w = ctx.shape(n.inputs[1]);
  if (x.length !== 4)
    throw new UnsupportedOpError('ConvTranspose', n.name, `only 2-D transposed convolution (4-D input) is supported, got input ${shapeStr(x)}`);
  if (w.length !== 4)
    throw new ShapeError(`ConvTranspose node '${n.name}': weight '${n.inputs[1]}' must be 4-D, got ${shapeStr(w)}`);
  const groups = attrInt(n, 'group', 1);
  if (groups < 1 || w[0] !== x[1] || x[1] % groups !== 0)
    throw new ShapeError(
      `ConvTranspose node '${n.name}': input ${shapeStr(x)} with group=${groups} does not fit weight '${n.inputs[1]}' ${shapeStr(w)} ([C, OC/group, KH, KW])`,
    );
  const ks = attrInts(n, 'kernel_shape', [w[2], w[3]])!;
  if (ks.length !== 2 || ks[0] !== w[2] || ks[1] !== w[3])
    throw new ShapeError(`ConvTranspose node '${n.name}': kernel_shape ${shapeStr(ks)} disagrees with weight ${shapeStr(w)}`);
  const [kh, kw] = ks;
  const [sh, sw] = attrInts(n, 'strides', [1, 1])!;
  const [dh, dw] = attrInts(n, 'dilations', [1, 1])!;
  const [oph, opw] = attrInts(n, 'output_padding', [0, 0])!;
  if ([sh, sw, dh, dw].some((v) => !(v >= 1 && v <= MAX_I32)) || attrInts(n, 'strides', [1, 1])!.length !== 2 || attrInts(n, 'dilations', [1, 1])!.length !== 2)
    throw new ShapeError(`ConvTranspose node '${n.name}': strides and dilations must be 2 values in [1, ${MAX_I32}]`);
  if (oph < 0 || opw < 0 || oph >= Math.max(sh, dh) || opw >= Math.max(sw, dw))
    throw new ShapeError(`ConvTranspose node '${n.name}': output_padding ${[oph, opw]} must be smaller than the stride or dilation`);
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad))
    throw new UnsupportedOpError('ConvTranspose', n.name, `auto_pad '${autoPad}'`);
  const H = x[2], W = x[3];
  const full = (i: number, s: number, op: number, k: number, d: number) => s * (i - 1) + op + (k - 1) * d + 1;
  let outShape = attrInts(n, 'output_shape');
  if (outShape && outShape.length > 2) outShape = outShape.slice(-2);
  if (!outShape && (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')) outShape = [H * sh, W * sw];
  let pt: number, pl: number, pb: number, pr: number;
  let oh: number, ow: number;
  if (outShape) {
    if (outShape.length !== 2) throw new ShapeError(`ConvTranspose node '${n.name}': output_shape ${shapeStr(outShape)} must have 2 spatial sizes`);
    [oh, ow] = outShape;
    const th = full(H, sh, oph, kh, dh) - oh;
    const tw = full(W, sw, opw, kw, dw) - ow;
    const upper = autoPad === 'SAME_UPPER';
    pt = upper ? Math.floor(th / 2) : th - Math.floor(th / 2);
    pl = upper ? Math.floor(tw / 2) : tw - Math.floor(tw / 2);
    pb = th - pt;
    pr = tw - pl;
    // output_shape may exceed the full size (negative total padding: ONNX's reference pads the
    // output with zeros there); it is bounded by the element limit below
    if (![oh, ow, th, tw].every((v) => Number.isSafeInteger(v)))
      throw new ShapeError(`ConvTranspose node '${n.name}': output_shape ${shapeStr(outShape)} is not a pair of sizes`);
  } else {
    [pt, pl, pb, pr] = autoPad === 'VALID' ? [0, 0, 0, 0] : attrInts(n, 'pads', [0, 0, 0, 0])!;
    if (attrInts(n, 'pads', [0, 0, 0, 0])!.length !== 4 || [pt, pl, pb, pr].some((p) => p > MAX_I32))
      throw new ShapeError(`ConvTranspose node '${n.name}': pads must be 4 values up to ${MAX_I32}`);
    if ([pt, pl, pb, pr].some((p) => p < 0))
      throw new UnsupportedOpError('ConvTranspose', n.name, `negative pads ${[pt, pl, pb, pr]}`);
    oh = full(H, sh, oph, kh, dh) - pt - pb;
    ow = full(W, sw, opw, kw, dw) - pl - pr;
  }
  if (!(oh >= 1 && ow >= 1) || oh * ow > MAX_ELEMENTS)
    throw new ShapeError(`ConvTranspose node '${n.name}': output would be ${oh}x${ow} (input ${H}x${W}, pads ${[pt, pl, pb, pr]})`);
  return { x, w, groups, oc: w[1] * groups, win: { kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow } };
}

export const convTranspose: OpDef = {
  ops: ['ConvTranspose'],
  layout: 'nhwc',
  infer(n, ctx) {
    requireConst(ctx, n, [1, 2]);
    const { x, win, oc } = convTransposeGeometry(n, ctx);
    const b = input(n, 2);
    if (b) {
      const bs = ctx.shape(b);
      if (bs.length !== 1 || bs[0] !== oc)
        throw new ShapeError(`ConvTranspose node '${n.name}': bias '${b}' has shape ${shapeStr(bs)}, expected [${oc}]`);
    }
    return [[x[0], oc, win.oh, win.ow]];
  },
  macs(n, ctx) {
    const { x, w } = convTransposeGeometry(n, ctx);
    return x[0] * x[2] * x[3] * w[0] * w[1] * w[2] * w[3];
  },
  plan: planRare,
};
