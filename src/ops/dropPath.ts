// DropPath (stochastic depth, Huang et al. 2016, "Deep Networks with Stochastic Depth"; the
// per-sample form of torchvision.ops.stochastic_depth, mode 'row'): a wasmcnn-internal op the zoo
// builds into training forms (EfficientNet, ConvNeXt residual branches). Attributes: `ratio` p in
// [0, 1), `mode` 'row'. At inference it is the identity (graph/cleanup.ts removes it before
// planning; a DropPath that is itself a graph output is planned as a copy); its training rule,
// which drops whole samples, is src/train/ops/dropPath.ts.
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import type { OpDef } from './types';
import { attrFloat, attrString } from './util';
import { unary } from './unary';

/** The drop probability and mode of a DropPath node, checked (ratio in [0, 1), mode 'row'). */
export function dropPathAttrs(n: Node): { p: number; mode: string } {
  const p = attrFloat(n, 'ratio', 0);
  const mode = attrString(n, 'mode', 'row');
  if (mode !== 'row') throw new UnsupportedOpError('DropPath', n.name, `mode '${mode}' (only 'row')`);
  if (!(p >= 0 && p < 1)) throw new ShapeError(`DropPath node '${n.name}': ratio must be in [0, 1), got ${p}`);
  return { p, mode };
}

/** DropPath: identity at inference; the shape rule checks the attributes and a batch axis exists. */
export const dropPath: OpDef = {
  ops: ['DropPath'],
  layout: 'any',
  stridedIn: true,
  stridedOut: true,
  infer(n, ctx) {
    dropPathAttrs(n);
    const s = ctx.shape(n.inputs[0]);
    if (s.length < 1) throw new ShapeError(`DropPath node '${n.name}': input needs a batch axis, got a scalar`);
    return [s];
  },
  plan(n, ctx) {
    return unary.plan({ ...n, op: 'Identity' }, ctx);
  },
};
