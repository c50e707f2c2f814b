// ONNX Gather on an activation with constant indices (e.g. taking one token or one row):
// one strided copy per index. Expand (broadcast to a shape) is a copy with stride-0 dims.
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { numel } from '../graph/ir';
import type { InferCtx, OpDef } from './types';
import { attrInt, broadcast, broadcastStrides, denseStrides, input, intOf, normAxis, planCopy } from './util';

function indices(n: Node, ctx: InferCtx) {
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
    const { x, axis, ishape } = indices(n, ctx);
    return [[...x.slice(0, axis), ...ishape, ...x.slice(axis + 1)]];
  },
  plan(n, ctx) {
    const { x, axis, idx } = indices(n, ctx);
    const outer = numel(x.slice(0, axis));
    const inner = numel(x.slice(axis + 1));
    const xi = ctx.ptr(n.inputs[0]);
    const yo = ctx.ptr(n.outputs[0]);
    const steps = idx.map((i, j) =>
      planCopy(ctx, yo + j * inner * 4, xi + i * inner * 4, [outer, inner], [idx.length * inner, 1], [x[axis] * inner, 1]),
    );
    return () => { for (const s of steps) s(); };
  },
};

export const expand: OpDef = {
  ops: ['Expand'],
  layout: 'plain',
  infer(n, ctx) {
    const target = intOf(ctx, n, input(n, 1), 'shape')!;
    return [broadcast(n, [ctx.shape(n.inputs[0]), target])];
  },
  plan(n, ctx) {
    const out = ctx.shape(n.outputs[0]);
    const st = broadcastStrides(ctx.shape(n.inputs[0]), out, 'plain', 'plain');
    return planCopy(ctx, ctx.ptr(n.outputs[0]), ctx.ptr(n.inputs[0]), out, denseStrides(out), st);
  },
};
