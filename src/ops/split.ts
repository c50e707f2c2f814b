// ONNX Split (sizes from the 'split' input or attribute, or equal parts / num_outputs), in
// either layout: each output is a strided copy of its slice of the input.
import { ShapeError } from '../errors';
import type { Node } from '../graph/ir';
import type { InferCtx, OpDef } from './types';
import { attrInt, attrInts, denseStrides, input, intOf, normAxis, physAxis, physShape, physStrides, planCopy } from './util';

function sizes(n: Node, ctx: InferCtx): { axis: number; parts: number[] } {
  const x = ctx.shape(n.inputs[0]);
  const axis = normAxis(n, attrInt(n, 'axis', 0), x.length);
  const given = intOf(ctx, n, input(n, 1), 'split') ?? attrInts(n, 'split');
  const count = n.outputs.length;
  let parts: number[];
  if (given) parts = given;
  else {
    const per = Math.ceil(x[axis] / count);
    parts = Array.from({ length: count }, (_, i) => Math.max(0, Math.min(per, x[axis] - i * per)));
  }
  if (parts.length !== count || parts.reduce((a, b) => a + b, 0) !== x[axis])
    throw new ShapeError(`Split node '${n.name}': parts [${parts}] do not cover dim ${axis} (${x[axis]}) in ${count} outputs`);
  return { axis, parts };
}

export const split: OpDef = {
  ops: ['Split'],
  layout: 'any',
  stridedIn: true,
  infer(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    const { axis, parts } = sizes(n, ctx);
    return parts.map((p) => x.map((d, i) => (i === axis ? p : d)));
  },
  plan(n, ctx) {
    const { axis, parts } = sizes(n, ctx);
    const xname = n.inputs[0];
    const layout = ctx.layout(xname);
    const pa = physAxis(layout, axis);
    const xst = physStrides(ctx, xname);
    const xi = ctx.ptr(xname);
    let offset = 0;
    const steps = n.outputs.map((o, i) => {
      const op = physShape(ctx.shape(o), layout);
      const step = planCopy(ctx, ctx.ptr(o), xi + offset * xst[pa] * 4, op, denseStrides(op), xst);
      offset += parts[i];
      return step;
    });
    return () => { for (const s of steps) s(); };
  },
};
