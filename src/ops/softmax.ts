// ONNX Softmax / LogSoftmax. From opset 13 along one axis (any layout: the axis is mapped to
// its physical position); before 13 over the input flattened to 2-D at `axis`.
import type { Node } from '../graph/ir';
import { numel } from '../graph/ir';
import type { InferCtx, OpDef } from './types';
import { attrInt, normAxis, physAxis } from './util';

function axisOf(n: Node, ctx: InferCtx): number {
  const x = ctx.shape(n.inputs[0]);
  return normAxis(n, attrInt(n, 'axis', ctx.opset < 13 ? 1 : -1), x.length);
}

export const softmax: OpDef = {
  ops: ['Softmax', 'LogSoftmax'],
  layout: 'any',
  infer(n, ctx) {
    axisOf(n, ctx);
    return [ctx.shape(n.inputs[0])];
  },
  layoutRule(n, ctx, inLayout) {
    return ctx.opset < 13 ? { input: 'plain', output: 'plain' } : { input: inLayout, output: inLayout };
  },
  plan(n, ctx) {
    const xname = n.inputs[0];
    const a = axisOf(n, ctx);
    const phys = ctx.phys(xname);
    let outer: number, len: number, inner: number;
    if (ctx.opset < 13) {
      outer = numel(phys.slice(0, a));
      len = numel(phys.slice(a));
      inner = 1;
    } else {
      const p = physAxis(ctx.layout(xname), a);
      outer = numel(phys.slice(0, p));
      len = phys[p];
      inner = numel(phys.slice(p + 1));
    }
    const k = ctx.k;
    const x = ctx.ptr(xname);
    const y = ctx.ptr(n.outputs[0]);
    const log = n.op === 'LogSoftmax' ? 1 : 0;
    return () => k.softmax_f32(x, y, outer, len, inner, log);
  },
};
