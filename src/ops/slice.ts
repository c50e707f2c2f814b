// ONNX Slice (starts/ends/axes/steps, negative steps included) as one strided copy, in
// either layout.
import type { Node } from '../graph/ir';
import { sliceRanges } from '../graph/constEval';
import type { InferCtx, OpDef } from './types';
import { attrInts, denseStrides, input, intOf, physShape, physStrides, planCopy, NHWC_PERM } from './util';
import { ShapeError } from '../errors';

function ranges(n: Node, ctx: InferCtx) {
  const x = ctx.shape(n.inputs[0]);
  const starts = intOf(ctx, n, input(n, 1), 'starts') ?? attrInts(n, 'starts');
  const ends = intOf(ctx, n, input(n, 2), 'ends') ?? attrInts(n, 'ends');
  if (!starts || !ends) throw new ShapeError(`Slice node '${n.name}': starts and ends are required`);
  const axes = intOf(ctx, n, input(n, 3), 'axes') ?? attrInts(n, 'axes');
  const steps = intOf(ctx, n, input(n, 4), 'steps');
  try {
    return sliceRanges(x, starts, ends, axes, steps);
  } catch (e) {
    throw new ShapeError(`Slice node '${n.name}': ${(e as Error).message}`);
  }
}

export const slice: OpDef = {
  ops: ['Slice'],
  layout: 'any',
  stridedIn: true,
  infer: (n, ctx) => [ranges(n, ctx).map((r) => r.count)],
  plan(n, ctx) {
    const xname = n.inputs[0];
    const layout = ctx.layout(xname);
    let r = ranges(n, ctx);
    if (layout === 'nhwc') r = NHWC_PERM.map((p) => r[p]);
    const xst = physStrides(ctx, xname);
    const start = r.reduce((acc, q, d) => acc + q.start * xst[d], 0);
    const out = physShape(ctx.shape(n.outputs[0]), layout);
    return planCopy(ctx, ctx.ptr(n.outputs[0]), ctx.ptr(xname) + start * 4, out, denseStrides(out), r.map((q, d) => q.step * xst[d]));
  },
};
