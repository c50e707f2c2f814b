// wasmcnn-internal layout conversions inserted by the layout pass: _ToNHWC and _ToPlain are
// one blocked transpose each, or nothing at all when C == 1 or H*W == 1 (same bytes).
import type { Node } from '../graph/ir';
import type { InferCtx, OpDef } from './types';
import { ShapeError } from '../errors';
import { shapeStr } from '../graph/ir';
import { attrInt, planCopy } from './util';

function trivial(n: Node, ctx: InferCtx): boolean {
  const [, C, H, W] = ctx.shape(n.inputs[0]);
  return C === 1 || H * W === 1;
}

export const layoutConvert: OpDef = {
  ops: ['_ToNHWC', '_ToPlain'],
  layout: 'any',
  infer: (n, ctx) => [ctx.shape(n.inputs[0])],
  layoutRule: (n) => (n.op === '_ToNHWC' ? { input: 'plain', output: 'nhwc' } : { input: 'nhwc', output: 'plain' }),
  alias: trivial,
  plan(n, ctx) {
    const [N, C, H, W] = ctx.shape(n.inputs[0]);
    const x = ctx.ptr(n.inputs[0]);
    const y = ctx.ptr(n.outputs[0]);
    // iterate over the destination in its own order
    if (n.op === '_ToNHWC') return planCopy(ctx, y, x, [N, H * W, C], [H * W * C, C, 1], [C * H * W, 1, H * W]);
    return planCopy(ctx, y, x, [N, C, H * W], [C * H * W, H * W, 1], [H * W * C, 1, C]);
  },
};

/** The shuffle's group count: required, and a divisor of the channels. */
function shuffleGroups(n: Node, C: number): number {
  const g = attrInt(n, 'groups', 0);
  if (g < 1 || C % g !== 0) throw new ShapeError(`ChannelShuffle node '${n.name}': groups=${g} must divide the ${C} channels`);
  return g;
}

/** Channel shuffle (ShuffleNet, Zhang et al. 2018) on NHWC: channel g*(C/g)+i moves to i*g+g'. */
export const channelShuffle: OpDef = {
  ops: ['ChannelShuffle'],
  layout: 'nhwc',
  infer(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    if (x.length !== 4) throw new ShapeError(`ChannelShuffle node '${n.name}': input ${shapeStr(x)} is not 4-D`);
    shuffleGroups(n, x[1]);
    return [x];
  },
  plan(n, ctx) {
    const [N, C, H, W] = ctx.shape(n.inputs[0]);
    const g = shuffleGroups(n, C);
    const per = C / g;
    // out[p][i*g + j] = in[p][j*per + i]
    return planCopy(ctx, ctx.ptr(n.outputs[0]), ctx.ptr(n.inputs[0]), [N * H * W, per, g], [C, g, 1], [C, 1, per]);
  },
};
