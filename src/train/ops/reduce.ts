// Training rules for ReduceMean / ReduceSum / ReduceMax over constant axes (the orientation
// pooling of C4 networks, global means): the reduction kernel forward; backward the gradient
// broadcast back (scaled by 1/count for the mean), or routed to the first maximum of each
// window, as torch.max(dim) does.
import { numel, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { binaryStep, wholeSink } from './util';

export function reduce(n: Node, ctx: TrainCtx): TrainStep {
  const { attrInts, codes } = ctx.lib;
  const { BIN_MUL, RED_MAX, RED_MEAN, RED_SUM } = codes;
  const x = ctx.shape(n.inputs[0]);
  const rank = x.length;
  const given = attrInts(n, 'axes') ?? (n.inputs[1] ? ctx.graph.intConstants.get(n.inputs[1])?.ints : undefined);
  if (n.inputs[1] && !given) throw new UnsupportedOpError(n.op, n.name, 'axes that are not constant');
  const axes = (given ?? x.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  // one contiguous run of axes: [outer][r][inner]
  if (axes.some((a, i) => i > 0 && a !== axes[i - 1] + 1)) throw new UnsupportedOpError(n.op, n.name, 'training over non-adjacent axes');
  const outer = numel(x.slice(0, axes[0]));
  const r = numel(axes.map((a) => x[a]));
  const inner = numel(x.slice(axes[axes.length - 1] + 1));
  const op = n.op === 'ReduceMax' ? RED_MAX : n.op === 'ReduceSum' ? RED_SUM : RED_MEAN;
  const k = ctx.k;
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const forward = () => k.reduce_f32(op, xp, yp, outer, r, inner);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const full = [outer, r, inner];
  if (op !== RED_MAX) {
    // dx = dy broadcast over the reduced axes, times 1/r for the mean
    const scale = ctx.mem.putF32([op === RED_MEAN ? 1 / r : 1]);
    return { forward, backward: wholeSink(ctx, n.inputs[0], (dst) => binaryStep(ctx, BIN_MUL, dst, dy, [outer, 1, inner], scale, [1], full)) };
  }
  const mem = ctx.mem;
  return {
    forward,
    backward: wholeSink(ctx, n.inputs[0], (dst) => () => {
      const f = mem.f32;
      const d = (typeof dst === 'number' ? dst : dst.ptr) >>> 2;
      const xs = xp >>> 2;
      const ys = yp >>> 2;
      const gs = dy >>> 2;
      f.fill(0, d, d + outer * r * inner);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          const y = f[ys + o * inner + i];
          for (let j = 0; j < r; j++) {
            const at = (o * r + j) * inner + i;
            if (f[xs + at] === y || (y !== y && f[xs + at] !== f[xs + at])) {
              f[d + at] = f[gs + o * inner + i];
              break;
            }
          }
        }
    }),
  };
}
