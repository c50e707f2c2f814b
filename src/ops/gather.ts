// ONNX Gather on an activation with constant indices (e.g. taking one token or one row):
// one strided copy per index. Expand (broadcast to a shape) is a copy with stride-0 dims.
// Both planners load with the rare ops' chunk (src/ops/rarePlans.ts): a CNN rarely gathers or
// expands activations (its Gathers are mostly of shapes, x.size(0), folded before planning).
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { planRare } from './rare';
import type { InferCtx, OpDef } from './types';
import { attrInt, broadcast, input, intOf, normAxis } from './util';

/** Input shape, axis, indices (made non-negative and checked) and their shape of a Gather node (also the planner's, src/ops/rarePlans.ts). */
export function gatherIndices(n: Node, ctx: InferCtx) {
  const x = ctx.shape(n.inputs[0]);
  const axis = normAxis(n, attrInt(n, 'axis', 0), x.length);
  const t = ctx.int(n.inputs[1]);
  if (!t) throw new UnsupportedOpError('Gather', n.name, 'indices must be constant');
  const idx = t.ints.map((i) => (i < 0 ? i + x[axis] : i));
  if (idx.some((i) => i < 0 || i >= x[axis]))
    throw new ShapeError(`Gather node '${n.name}': index out of range for dim ${axis} of size ${x[axis]}`);
  return { x, axis, idx, ishape: t.shape };
}

export const gather: OpDef = {
  ops: ['Gather'],
  layout: 'plain',
  infer(n, ctx) {
    const { x, axis, ishape } = gatherIndices(n, ctx);
    return [[...x.slice(0, axis), ...ishape, ...x.slice(axis + 1)]];
  },
  plan: planRare,
};

export const expand: OpDef = {
  ops: ['Expand'],
  layout: 'plain',
  infer(n, ctx) {
    const target = intOf(ctx, n, input(n, 1), 'shape')!;
    return [broadcast(n, [ctx.shape(n.inputs[0]), target])];
  },
  plan: planRare,
};
