// Training rules for Softmax and LogSoftmax (opset 13+: along one axis; before 13: over the
// input flattened to 2-D at `axis`), on softmax_f32. Backward with y the saved output:
//   Softmax:    dx = y ⊙ (dy − Σ_axis dy ⊙ y)
//   LogSoftmax: dx = dy − exp(y) ⊙ Σ_axis dy
// composed from the element-wise and reduction kernels (four passes).
import { numel } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { binaryStep, inferCtx, wholeSink } from './util';

export function softmax(n: Node, ctx: TrainCtx): TrainStep {
  const { attrInt, normAxis, codes, unaryCode } = ctx.lib;
  const x = ctx.shape(n.inputs[0]);
  const opset = ctx.graph.opset;
  const a = normAxis(n, attrInt(n, 'axis', opset < 13 ? 1 : -1), x.length);
  const outer = numel(x.slice(0, a));
  const len = opset < 13 ? numel(x.slice(a)) : x[a];
  const inner = opset < 13 ? 1 : numel(x.slice(a + 1));
  const log = n.op === 'LogSoftmax';
  const k = ctx.k;
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const forward = () => k.softmax_f32(xp, yp, outer, len, inner, log ? 1 : 0);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  // LogSoftmax's backward needs exp(y): the Exp activation's code
  const exp = log ? unaryCode({ ...n, op: 'Exp' }, inferCtx(ctx)).act : 0;
  const full = [outer, len, inner];
  const sum = [outer, 1, inner];
  const count = numel(x);
  const tmp = ctx.scratch(count * 4, 0);
  const red = ctx.scratch(outer * inner * 4, 1);
  const backward = wholeSink(ctx, n.inputs[0], (dst) => {
    if (log) {
      // p = exp(y); dx = dy − p ⊙ Σ dy
      const steps = [
        () => k.reduce_f32(codes.RED_SUM, dy, red.ptr, outer, len, inner),
        () => ctx.call('unary_f32', count, exp, yp, tmp.ptr, 1, count, count, count, 0, 0),
        binaryStep(ctx, codes.BIN_MUL, tmp, tmp, full, red, sum, full),
        binaryStep(ctx, codes.BIN_SUB, dst, dy, full, tmp, full, full),
      ];
      return () => steps.forEach((s) => s());
    }
    const steps = [
      binaryStep(ctx, codes.BIN_MUL, tmp, dy, full, yp, full, full),
      () => k.reduce_f32(codes.RED_SUM, tmp.ptr, red.ptr, outer, len, inner),
      binaryStep(ctx, codes.BIN_SUB, tmp, dy, full, red, sum, full),
      binaryStep(ctx, codes.BIN_MUL, dst, tmp, full, yp, full, full),
    ];
    return () => steps.forEach((s) => s());
  });
  return { forward, backward };
}
