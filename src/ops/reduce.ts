// ONNX Reduce* (Mean, Sum, Max, Min, Prod, SumSquare, L1, L2, LogSumExp) over axes that are
// adjacent in memory (the layout decides which are): one [outer][r][inner] reduction.
import * as C from '../../assembly/codes';
import { UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { numel } from '../graph/ir';
import type { InferCtx, Layout, OpDef } from './types';
import { attrInt, attrInts, input, intOf, normAxis, physAxis, ELEMENT_MACS } from './util';

const CODES: Record<string, number> = {
  ReduceSum: C.RED_SUM, ReduceMean: C.RED_MEAN, ReduceMax: C.RED_MAX, ReduceMin: C.RED_MIN,
  ReduceProd: C.RED_PROD, ReduceSumSquare: C.RED_SUMSQ, ReduceL1: C.RED_L1, ReduceL2: C.RED_L2,
  ReduceLogSumExp: C.RED_LOGSUMEXP,
};

function axesOf(n: Node, ctx: InferCtx): number[] {
  const x = ctx.shape(n.inputs[0]);
  const fromInput = n.op === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
  const axes = fromInput ? intOf(ctx, n, input(n, 1), 'axes') : attrInts(n, 'axes');
  if (!axes || axes.length === 0) {
    if (attrInt(n, 'noop_with_empty_axes', 0)) return [];
    return x.map((_, i) => i);
  }
  return [...new Set(axes.map((a) => normAxis(n, a, x.length)))].sort((a, b) => a - b);
}

/** Order of the kept logical axes as they sit in memory for `layout`. */
function keptPhysicalOrder(rank: number, axes: number[], layout: Layout): number[] {
  const order = layout === 'nhwc' ? [0, 2, 3, 1] : Array.from({ length: rank }, (_, i) => i);
  return order.filter((a) => !axes.includes(a));
}

export const reduce: OpDef = {
  ops: Object.keys(CODES),
  layout: 'any',
  infer(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    const axes = axesOf(n, ctx);
    const keep = attrInt(n, 'keepdims', 1) !== 0;
    return [keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))];
  },
  layoutRule(n, ctx, inLayout) {
    if (inLayout !== 'nhwc') return { input: 'plain', output: 'plain' };
    const axes = axesOf(n, ctx);
    if (attrInt(n, 'keepdims', 1) !== 0) return { input: 'nhwc', output: 'nhwc' };
    // dropping axes keeps the NHWC bytes valid as a plain tensor only if the kept order agrees
    const kept = keptPhysicalOrder(4, axes, 'nhwc');
    const sorted = [...kept].sort((a, b) => a - b);
    return kept.join() === sorted.join() ? { input: 'nhwc', output: 'plain' } : { input: 'plain', output: 'plain' };
  },
  plan(n, ctx) {
    const xname = n.inputs[0];
    const layout = ctx.layout(xname);
    const phys = ctx.phys(xname);
    const axes = axesOf(n, ctx).map((a) => physAxis(layout, a)).sort((a, b) => a - b);
    const x = ctx.ptr(xname);
    const y = ctx.ptr(n.outputs[0]);
    const k = ctx.k;
    if (axes.length === 0) {
      const count = numel(phys);
      return ctx.parallel('unary_f32', [C.ACT_NONE, x, y, 1, count, count, count, 0, 0], count * ELEMENT_MACS);
    }
    // size-1 axes do not break adjacency
    const real = axes.filter((a) => phys[a] !== 1);
    const lo = real.length ? real[0] : axes[0];
    const hi = real.length ? real[real.length - 1] : axes[0];
    for (let a = lo; a <= hi; a++)
      if (!axes.includes(a) && phys[a] !== 1)
        throw new UnsupportedOpError(n.op, n.name, `reducing axes that are not adjacent in memory (${axesOf(n, ctx)})`);
    const outer = numel(phys.slice(0, lo));
    const r = numel(phys.slice(lo, hi + 1));
    const inner = numel(phys.slice(hi + 1));
    const code = CODES[n.op];
    return () => k.reduce_f32(code, x, y, outer, r, inner);
  },
};
