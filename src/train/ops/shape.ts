// Training rules for ops that move values without arithmetic: Reshape, Flatten, Squeeze,
// Unsqueeze and Identity (a copy each way), Concat and Split (blocks copied out and back),
// Transpose and ChannelShuffle (strided copies, inverted for the gradient), and Dropout (in
// training mode a seeded mask scaled by 1/(1-p), PyTorch's inverted dropout).
import { numel, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { addStep, binaryStep, copyStep, gatherStep, sinkFrom, stridesOf, wholeSink } from './util';

export function passThrough(n: Node, ctx: TrainCtx): TrainStep {
  const count = numel(ctx.shape(n.inputs[0]));
  const forward = copyStep(ctx, ctx.ptr(n.outputs[0]), ctx.ptr(n.inputs[0]), count);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  return { forward, backward: sinkFrom(ctx, n.inputs[0], ctx.grad(n.outputs[0]), count) };
}

export function dropout(n: Node, ctx: TrainCtx): TrainStep {
  const shape = ctx.shape(n.inputs[0]);
  let p = ctx.lib.attrFloat(n, 'ratio', 0.5);
  const r = n.inputs[1] ? ctx.constant(n.inputs[1]) : undefined;
  if (n.inputs[1] && !r) throw new UnsupportedOpError('Dropout', n.name, 'a ratio that is not a constant');
  if (r) p = r[0];
  if (n.outputs.length > 1 && n.outputs[1]) throw new UnsupportedOpError('Dropout', n.name, 'the mask output');
  if (!(p >= 0 && p < 1)) throw new UnsupportedOpError('Dropout', n.name, `ratio ${p}`);
  return maskedRule(n, ctx, p, shape);
}

/** The seed a Dropout or DropPath node at position `index` of the graph draws its mask from. */
export function maskSeed(stepSeed: number, index: number): number {
  return (stepSeed + Math.imul(index + 1, 0x9e3779b1)) | 0;
}

/**
 * Inverted dropout of probability p with a mask of `maskShape` broadcast over the input (the
 * input's shape for Dropout, [N, 1, …] for DropPath): in training mode y = x · mask, the mask
 * drawn by dropout_mask_f32 from the step's seed salted by the node's position (each node its
 * own stream); else a copy. Backward: dx = dy · mask, or dy.
 */
export function maskedRule(n: Node, ctx: TrainCtx, p: number, maskShape: number[]): TrainStep {
  const { BIN_MUL } = ctx.lib.codes;
  const shape = ctx.shape(n.inputs[0]);
  const count = numel(shape);
  const k = ctx.k;
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const maskCount = numel(maskShape);
  const mask = ctx.keep(maskCount * 4);
  const apply = binaryStep(ctx, BIN_MUL, yp, xp, shape, mask, maskShape, shape);
  const copy = copyStep(ctx, yp, xp, count);
  const index = ctx.graph.nodes.indexOf(n);
  let masked = false;
  const forward = () => {
    masked = ctx.state.training && p > 0;
    if (!masked) return copy();
    k.dropout_mask_f32(mask, maskCount, p, maskSeed(ctx.state.seed, index), 0);
    apply();
  };
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const s = ctx.sink(n.inputs[0]);
  const tmp = ctx.scratch(count * 4, 0);
  const maskedGrad = binaryStep(ctx, BIN_MUL, s.add ? tmp : s.ptr, dy, shape, mask, maskShape, shape);
  const add = s.add ? addStep(ctx, s.ptr, tmp, count) : () => {};
  const plain = sinkFrom(ctx, n.inputs[0], dy, count);
  return { forward, backward: () => (masked ? (maskedGrad(), add()) : plain()) };
}

export function concat(n: Node, ctx: TrainCtx): TrainStep {
  const { attrInt, normAxis } = ctx.lib;
  const y = ctx.shape(n.outputs[0]);
  const axis = normAxis(n, attrInt(n, 'axis', 1), y.length);
  const outer = numel(y.slice(0, axis));
  const rowY = numel(y.slice(axis));
  const yp = ctx.ptr(n.outputs[0]);
  const parts = n.inputs.map((name) => ({ name, ptr: ctx.ptr(name), row: numel(ctx.shape(name).slice(axis)) }));
  const mem = ctx.mem;
  const forward = () => {
    const f = mem.f32;
    for (let o = 0; o < outer; o++) {
      let at = (yp >>> 2) + o * rowY;
      for (const p of parts) {
        const src = (p.ptr >>> 2) + o * p.row;
        f.copyWithin(at, src, src + p.row);
        at += p.row;
      }
    }
  };
  if (!ctx.needsGrad(n.outputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const steps: (() => void)[] = [];
  let offset = 0;
  for (const p of parts) {
    const start = offset;
    offset += p.row;
    if (!ctx.needsGrad(p.name)) continue;
    // gather this input's blocks of dY into scratch, then write or add them into its gradient
    const tmp = ctx.scratch(outer * p.row * 4, 0);
    steps.push(() => {
      const f = mem.f32;
      for (let o = 0; o < outer; o++) {
        const src = (dy >>> 2) + o * rowY + start;
        f.copyWithin((tmp.ptr >>> 2) + o * p.row, src, src + p.row);
      }
    }, sinkFrom(ctx, p.name, tmp, outer * p.row));
  }
  return { forward, backward: () => steps.forEach((s) => s()) };
}

export function transpose(n: Node, ctx: TrainCtx): TrainStep {
  const { attrInts } = ctx.lib;
  const x = ctx.shape(n.inputs[0]);
  const perm = attrInts(n, 'perm') ?? x.map((_, i) => x.length - 1 - i);
  const y = perm.map((a) => x[a]);
  const xs = stridesOf(x);
  const forward = gatherStep(ctx, ctx.ptr(n.outputs[0]), ctx.ptr(n.inputs[0]), y, perm.map((a) => xs[a]));
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  // dx = dy transposed back: dx[i] over x's shape reads dy at the inverse permutation
  const inv = new Array<number>(perm.length);
  perm.forEach((a, d) => (inv[a] = d));
  const ys = stridesOf(y);
  const dy = ctx.grad(n.outputs[0]);
  return { forward, backward: wholeSink(ctx, n.inputs[0], (dst) => gatherStep(ctx, dst, dy, x, inv.map((d) => ys[d]))) };
}

export function channelShuffle(n: Node, ctx: TrainCtx): TrainStep {
  const { attrInt } = ctx.lib;
  const [N, C, H, W] = ctx.shape(n.inputs[0]);
  const g = attrInt(n, 'groups', 1);
  const HW = H * W;
  const per = C / g;
  // y[n, j·g + i] = x[n, i·per + j]: y as [N, per, g, HW] reads x at strides [C·HW, HW, per·HW, 1]
  const forward = gatherStep(ctx, ctx.ptr(n.outputs[0]), ctx.ptr(n.inputs[0]), [N, per, g, HW], [C * HW, HW, per * HW, 1]);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  return { forward, backward: wholeSink(ctx, n.inputs[0], (dst) => gatherStep(ctx, dst, dy, [N, g, per, HW], [C * HW, HW, g * HW, 1])) };
}

export function split(n: Node, ctx: TrainCtx): TrainStep {
  const { attrInt, normAxis } = ctx.lib;
  const x = ctx.shape(n.inputs[0]);
  const axis = normAxis(n, attrInt(n, 'axis', 0), x.length);
  const xs = stridesOf(x);
  const xp = ctx.ptr(n.inputs[0]);
  const outs = n.outputs.map((o, i) => ({ o, i, shape: ctx.shape(o) }));
  let offset = 0;
  const starts = outs.map((r) => {
    const s = offset;
    offset += r.shape[axis];
    return s;
  });
  const steps = outs.map((r, i) => gatherStep(ctx, ctx.ptr(r.o), xp + starts[i] * xs[axis] * 4, r.shape, xs));
  const forward = () => steps.forEach((s) => s());
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const total = numel(x);
  const k = ctx.k;
  // the whole gradient in scratch: zero where an output takes no gradient, dY_i scattered in place
  const tmp = ctx.scratch(total * 4, 0);
  const scatter = outs
    .filter((r) => ctx.needsGrad(r.o))
    .map(({ o, i, shape }) => {
      const shapeP = ctx.mem.putI32(shape);
      const dP = ctx.mem.putI32(xs);
      const sP = ctx.mem.putI32(stridesOf(shape));
      const dy = ctx.grad(o);
      return () => k.copy_nd_f32(tmp.ptr + starts[i] * xs[axis] * 4, dy, shape.length, shapeP, dP, sP);
    });
  const sink = sinkFrom(ctx, n.inputs[0], tmp, total);
  return { forward, backward: () => (k.fill_f32(tmp.ptr, total, 0), scatter.forEach((s) => s()), sink()) };
}
