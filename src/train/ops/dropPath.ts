// Training rule of DropPath (stochastic depth, Huang et al. 2016; torchvision.ops.stochastic_depth
// with mode 'row', as torchvision's EfficientNet and ConvNeXt apply it to residual branches): in
// training mode each sample of the batch is kept with probability 1 - p and then scaled by
// 1 / (1 - p), or zeroed whole; in eval mode (or p = 0) the identity. The per-sample mask comes
// from the inverted-dropout kernel dropout_mask_f32 over N values (one per sample), drawn from
// the step's seed salted by the node's position, as the Dropout rule (shape.ts) does. Backward:
// dx = dy * mask, the same mask broadcast over each sample.
import type { Node } from '../../graph/ir';
import { numel } from '../../graph/ir';
import { ShapeError, UnsupportedOpError } from '../../errors';
import type { TrainCtx, TrainStep } from '../program';
import { addStep, binaryStep, copyStep, sinkFrom } from './util';

/** The seed a DropPath or Dropout node at position `index` of the graph draws its mask from. */
export function maskSeed(stepSeed: number, index: number): number {
  return (stepSeed + Math.imul(index + 1, 0x9e3779b1)) | 0;
}

/** DropPath: y = x * mask[n] per sample n (mask from dropout_mask_f32 over the batch) in training mode, else y = x. */
export function dropPath(n: Node, ctx: TrainCtx): TrainStep {
  const { attrFloat, codes } = ctx.lib;
  const { BIN_MUL } = codes;
  const p = attrFloat(n, 'ratio', 0);
  const mode = n.attrs.mode ?? 'row';
  if (mode !== 'row') throw new UnsupportedOpError('DropPath', n.name, `mode '${String(mode)}' (only 'row')`);
  if (!(p >= 0 && p < 1)) throw new ShapeError(`DropPath node '${n.name}': ratio must be in [0, 1), got ${p}`);
  const shape = ctx.shape(n.inputs[0]);
  const count = numel(shape);
  const N = shape[0];
  // the mask as [N, 1, ..., 1]: one factor per sample, broadcast over the rest
  const maskShape = [N, ...shape.slice(1).map(() => 1)];
  const k = ctx.k;
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const mask = ctx.keep(N * 4);
  const apply = binaryStep(ctx, BIN_MUL, yp, xp, shape, mask, maskShape, shape);
  const copy = copyStep(ctx, yp, xp, count);
  const index = ctx.graph.nodes.indexOf(n);
  let masked = false;
  const forward = () => {
    masked = ctx.state.training && p > 0;
    if (!masked) return copy();
    k.dropout_mask_f32(mask, N, p, maskSeed(ctx.state.seed, index), 0);
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
