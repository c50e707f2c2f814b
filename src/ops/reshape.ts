// ONNX Reshape, Flatten, Squeeze, Unsqueeze: new logical shape, same row-major data, so the
// output is the input's buffer (no copy, no step).
import { ShapeError } from '../errors';
import type { Node } from '../graph/ir';
import { shapeStr } from '../graph/ir';
import { reshapeTarget, squeezeShape, unsqueezeShape } from '../graph/constEval';
import type { InferCtx, OpDef } from './types';
import { attrInt, attrInts, input, intOf, normAxis } from './util';

function outShape(n: Node, ctx: InferCtx): number[] {
  const x = ctx.shape(n.inputs[0]);
  try {
    switch (n.op) {
      case 'Reshape':
        return reshapeTarget(x, intOf(ctx, n, input(n, 1), 'shape') ?? attrInts(n, 'shape')!, attrInt(n, 'allowzero', 0) !== 0);
      case 'Flatten': {
        const a = x.length === 0 ? 0 : attrInt(n, 'axis', 1) === x.length ? x.length : normAxis(n, attrInt(n, 'axis', 1), x.length);
        const outer = x.slice(0, a).reduce((p, q) => p * q, 1);
        const inner = x.slice(a).reduce((p, q) => p * q, 1);
        return [outer, inner];
      }
      case 'Squeeze':
        return squeezeShape(x, intOf(ctx, n, input(n, 1), 'axes') ?? attrInts(n, 'axes'));
      default:
        return unsqueezeShape(x, intOf(ctx, n, input(n, 1), 'axes') ?? attrInts(n, 'axes')!);
    }
  } catch (e) {
    if (e instanceof ShapeError) throw e;
    throw new ShapeError(`${n.op} node '${n.name}': input '${n.inputs[0]}' ${shapeStr(x)}: ${(e as Error).message}`);
  }
}

export const reshape: OpDef = {
  ops: ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'],
  layout: 'plain',
  infer: (n, ctx) => [outShape(n, ctx)],
  alias: () => true,
  plan: () => undefined,
};
