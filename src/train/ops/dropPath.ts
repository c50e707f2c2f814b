// Training rule of DropPath (stochastic depth, Huang et al. 2016; torchvision.ops.stochastic_depth
// with mode 'row', as torchvision's EfficientNet and ConvNeXt apply it to residual branches): in
// training mode each sample of the batch is kept with probability 1 - p and then scaled by
// 1 / (1 - p), or zeroed whole; in eval mode (or p = 0) the identity. The per-sample mask comes
// from the inverted-dropout kernel dropout_mask_f32 over N values (one per sample), drawn from
// the step's seed salted by the node's position, as the Dropout rule (shape.ts) does. Backward:
// dx = dy * mask, the same mask broadcast over each sample.
import { ShapeError, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { maskedRule } from './shape';

/** DropPath: y = x * mask[n] per sample n in training mode (one mask value per sample), else y = x. */
export function dropPath(n: Node, ctx: TrainCtx): TrainStep {
  const p = ctx.lib.attrFloat(n, 'ratio', 0);
  const mode = n.attrs.mode ?? 'row';
  if (mode !== 'row') throw new UnsupportedOpError('DropPath', n.name, `mode '${String(mode)}' (only 'row')`);
  if (!(p >= 0 && p < 1)) throw new ShapeError(`DropPath node '${n.name}': ratio must be in [0, 1), got ${p}`);
  const shape = ctx.shape(n.inputs[0]);
  return maskedRule(n, ctx, p, [shape[0], ...shape.slice(1).map(() => 1)]);
}
