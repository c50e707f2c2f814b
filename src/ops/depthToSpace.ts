// ONNX DepthToSpace (opsets 1, 11, 13; modes DCR and CRD) and SpaceToDepth (opsets 1, 13) on
// NHWC activations (assembly/shuffle.ts). DepthToSpace in CRD mode is PyTorch's pixel_shuffle,
// the periodic shuffling of the sub-pixel convolution (Shi et al. 2016, ESPCN):
//   DCR: y[n, c, h*r + i, w*r + j] = x[n, (i*r + j)*C + c, h, w]
//   CRD: y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]
// SpaceToDepth is the inverse of DCR (ONNX defines no mode for it; torch's pixel_unshuffle, the
// inverse of CRD, is SpaceToDepth followed by a channel shuffle of r*r groups, see
// GraphBuilder.pixelUnshuffle). The planner loads with the rare ops' chunk (src/ops/rarePlans.ts).
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { numel, shapeStr } from '../graph/ir';
import { planRare } from './rare';
import type { InferCtx, OpDef } from './types';
import { attrInt, attrString, MAX_ELEMENTS } from './util';

export interface Shuffle {
  /** Block size r. */
  r: number;
  crd: boolean;
  /** Batch, the small map's height and width, the large map's channels. */
  N: number;
  H: number;
  W: number;
  C: number;
  out: number[];
}

/**
 * Attributes checked against the input shape: the block size, the mode, divisibility and size
 * limits (also the planner's, src/ops/rarePlans.ts).
 */
export function blockShuffle(n: Node, ctx: InferCtx): Shuffle {
  const toSpace = n.op === 'DepthToSpace';
  const x = ctx.shape(n.inputs[0]);
  if (x.length !== 4) throw new ShapeError(`${n.op} node '${n.name}': input ${shapeStr(x)} must be 4-D [N, C, H, W]`);
  if (n.attrs.blocksize === undefined) throw new UnsupportedOpError(n.op, n.name, 'the blocksize attribute is required');
  const r = attrInt(n, 'blocksize', 0);
  // r*r must not overflow the channel arithmetic; sizes are bounded by MAX_ELEMENTS below
  if (r < 1 || r > 46340) throw new ShapeError(`${n.op} node '${n.name}': blocksize ${r} must be in [1, 46340]`);
  const mode = toSpace ? attrString(n, 'mode', 'DCR') : 'DCR';
  if (mode !== 'DCR' && mode !== 'CRD') throw new UnsupportedOpError(n.op, n.name, `mode '${mode}' (ONNX defines 'DCR' and 'CRD')`);
  const [N, C, H, W] = x;
  let s: Shuffle;
  if (toSpace) {
    if (C % (r * r) !== 0)
      throw new ShapeError(`DepthToSpace node '${n.name}': ${C} channels of input ${shapeStr(x)} are not divisible by blocksize^2 = ${r * r}`);
    s = { r, crd: mode === 'CRD', N, H, W, C: C / (r * r), out: [N, C / (r * r), H * r, W * r] };
  } else {
    if (H % r !== 0 || W % r !== 0)
      throw new ShapeError(`SpaceToDepth node '${n.name}': height ${H} and width ${W} of input ${shapeStr(x)} must be divisible by blocksize ${r}`);
    s = { r, crd: false, N, H: H / r, W: W / r, C, out: [N, C * r * r, H / r, W / r] };
  }
  if (s.out.some((d) => d > MAX_ELEMENTS) || numel(s.out) > MAX_ELEMENTS)
    throw new ShapeError(`${n.op} node '${n.name}': output ${shapeStr(s.out)} of input ${shapeStr(x)} is larger than wasm32 memory holds`);
  return s;
}

/** DepthToSpace (DCR / CRD) and SpaceToDepth: one block-moving pass each, NHWC in and out. */
export const depthToSpace: OpDef = {
  ops: ['DepthToSpace', 'SpaceToDepth'],
  layout: 'nhwc',
  infer: (n, ctx) => [blockShuffle(n, ctx).out],
  plan: planRare,
};
