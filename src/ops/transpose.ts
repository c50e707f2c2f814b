// ONNX Transpose. A general permutation is one strided copy; the NCHW<->NHWC permutations
// that channel-last blocks (ConvNeXt's LayerNorm and MLP) wrap around themselves are free:
// the NHWC buffer already holds the permuted tensor.
import { ShapeError } from '../errors';
import type { Node } from '../graph/ir';
import type { InferCtx, OpDef } from './types';
import { attrInts, denseStrides, planCopy } from './util';

function perm(n: Node, ctx: InferCtx): number[] {
  const x = ctx.shape(n.inputs[0]);
  const p = attrInts(n, 'perm') ?? x.map((_, i) => x.length - 1 - i);
  if (p.length !== x.length || [...p].sort((a, b) => a - b).some((v, i) => v !== i))
    throw new ShapeError(`Transpose node '${n.name}': perm [${p}] is not a permutation of ${x.length} axes`);
  return p;
}

const TO_CHANNEL_LAST = '0,2,3,1';
const TO_CHANNEL_FIRST = '0,3,1,2';

export const transpose: OpDef = {
  ops: ['Transpose'],
  layout: 'plain',
  infer(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    return [perm(n, ctx).map((a) => x[a])];
  },
  /** nhwc input + (0,2,3,1) → plain output, same bytes; plain input + (0,3,1,2) → nhwc output. */
  layoutRule(n, ctx, inLayout) {
    const p = perm(n, ctx).join();
    if (inLayout === 'nhwc' && p === TO_CHANNEL_LAST) return { input: 'nhwc', output: 'plain', alias: true };
    if (inLayout === 'plain' && p === TO_CHANNEL_FIRST) return { input: 'plain', output: 'nhwc', alias: true };
    return undefined;
  },
  plan(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    const p = perm(n, ctx);
    const inSt = denseStrides(x);
    const out = p.map((a) => x[a]);
    return planCopy(ctx, ctx.ptr(n.outputs[0]), ctx.ptr(n.inputs[0]), out, denseStrides(out), p.map((a) => inSt[a]));
  },
};
