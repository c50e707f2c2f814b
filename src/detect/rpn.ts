// Region proposals of a Region Proposal Network (Ren et al. 2015, "Faster R-CNN", section 3.1),
// as torchvision 0.14's RegionProposalNetwork.filter_proposals computes them in eval mode, for one
// image: per pyramid level the `preNmsTopN` highest objectness logits (torch.topk), their deltas
// decoded against the anchors (BoxCoder weights 1, 1, 1, 1), sigmoid scores, boxes clipped to the
// image, boxes smaller than `minSize` on a side removed, scores below `scoreThreshold` removed
// (>=, as torchvision), NMS per level (batched_nms with the level as the class), the best
// `postNmsTopN`. Sorting and NMS use the kernels of src/detect/nms.ts.
import { ShapeError } from '../errors';
import { integer, positive, sizePair, unitInterval } from './args';
import { clipBoxesToImage, decodeBoxes, removeSmallBoxes } from './boxes';
import { nonMaxSuppression, sortByScore } from './nms';

/** Options of {@link rpnProposals}: torchvision's RegionProposalNetwork test settings. */
export interface RpnOptions {
  /** The image's (resized, unpadded) [height, width]: proposals are clipped to it. */
  imageSize: number | readonly [number, number];
  /** Candidates kept per level before NMS (rpn_pre_nms_top_n_test). */
  preNmsTopN: number;
  /** Proposals kept after NMS (rpn_post_nms_top_n_test). */
  postNmsTopN: number;
  /** NMS IoU threshold (rpn_nms_thresh, 0.7). */
  nmsThreshold?: number;
  /** Proposals whose sigmoid score is below this are dropped (rpn_score_thresh; 0 or 0.05). */
  scoreThreshold?: number;
  /** Smallest box side kept (1e-3). */
  minSize?: number;
}

/** One image's proposals: (x1, y1, x2, y2) rows and their objectness probabilities, best first. */
export interface Proposals {
  /** (x1, y1, x2, y2) per proposal, in the resized image's pixels. */
  boxes: Float32Array;
  /** Objectness probability (sigmoid of the logit) per proposal, decreasing. */
  scores: Float32Array;
}

const f = Math.fround;

/**
 * Proposals of one image from the RPN's per-level outputs: `objectness[l]` holds the level's
 * H·W·A logits, `deltas[l]` its H·W·A·4 box deltas, `anchors` all levels' anchors (gridAnchors
 * order: level by level, the same H·W·A rows).
 *
 * @throws ShapeError when the levels' logits, deltas and anchors disagree.
 */
export async function rpnProposals(objectness: readonly Float32Array[], deltas: readonly Float32Array[], anchors: Float32Array, o: RpnOptions): Promise<Proposals> {
  const size = sizePair(o.imageSize as number | number[], 'rpnProposals: imageSize');
  const pre = integer(o.preNmsTopN, 1000, 1, 'rpnProposals: preNmsTopN');
  const post = integer(o.postNmsTopN, 1000, 1, 'rpnProposals: postNmsTopN');
  const iou = unitInterval(o.nmsThreshold, 0.7, 'rpnProposals: nmsThreshold');
  const thr = unitInterval(o.scoreThreshold, 0, 'rpnProposals: scoreThreshold');
  const minSize = o.minSize === undefined ? 1e-3 : positive(o.minSize, 'rpnProposals: minSize');
  const total = objectness.reduce((t, x) => t + x.length, 0);
  if (deltas.length !== objectness.length || deltas.some((d, l) => d.length !== objectness[l].length * 4) || anchors.length !== total * 4)
    throw new ShapeError(`rpnProposals: per level, deltas must hold 4 values for each of the ${total} objectness logits and anchors`);
  // per level: the preNmsTopN best logits (torch.topk order: by value, ties by position)
  const rows: number[] = [];
  const logit: number[] = [];
  const level: number[] = [];
  let offset = 0;
  objectness.forEach((x, l) => {
    const order = sortByScore(x, Int32Array.from(x.keys()));
    const k = Math.min(pre, order.length);
    for (let i = 0; i < k; i++) {
      rows.push(offset + order[i]);
      logit.push(x[order[i]]);
      level.push(l);
    }
    offset += x.length;
  });
  const n = rows.length;
  const d = new Float32Array(n * 4);
  const a = new Float32Array(n * 4);
  let base = 0;
  const starts = objectness.map((x) => ((base += x.length), base - x.length));
  rows.forEach((r, i) => {
    const l = level[i];
    d.set(deltas[l].subarray((r - starts[l]) * 4, (r - starts[l]) * 4 + 4), i * 4);
    a.set(anchors.subarray(r * 4, r * 4 + 4), i * 4);
  });
  const boxes = clipBoxesToImage(decodeBoxes(d, a), size);
  const score = Float32Array.from(logit, (v) => f(1 / (1 + Math.exp(-v))));
  // remove small boxes, then low scores (>= as torchvision)
  const keep = Array.from(removeSmallBoxes(boxes, minSize)).filter((i) => score[i] >= thr);
  const kb = new Float32Array(keep.length * 4);
  keep.forEach((i, j) => kb.set(boxes.subarray(i * 4, i * 4 + 4), j * 4));
  const ks = Float32Array.from(keep, (i) => score[i]);
  const kept = await nonMaxSuppression(kb, ks, { iouThreshold: iou, classes: keep.map((i) => level[i]), maxDetections: post });
  const out: Proposals = { boxes: new Float32Array(kept.length * 4), scores: new Float32Array(kept.length) };
  kept.forEach((k, j) => {
    out.boxes.set(kb.subarray(k * 4, k * 4 + 4), j * 4);
    out.scores[j] = ks[k];
  });
  return out;
}
