// SSD's post-processing (Liu et al. 2016, "SSD: Single Shot MultiBox Detector"), as torchvision
// 0.14's SSD.postprocess_detections and GeneralizedRCNNTransform.postprocess compute it in eval
// mode: box deltas decoded against the default boxes (BoxCoder weights 10, 10, 5, 5), clipped to
// the transformed image; per class (background excluded) the scores above the threshold, their
// top `topkCandidates`; class-aware NMS over all of them; the best `maxDetections`; boxes mapped
// back from the transform's size to the image's (float32 ratios, as torchvision's resize_boxes).
import type { Tensor } from '../graph/ir';
import { ShapeError } from '../errors';
import { defaultBoxes, type DefaultBoxOptions } from './anchors';
import { integer, sizePair, unitInterval } from './args';
import { clipBoxesToImage, decodeBoxes, keptDetections } from './boxes';
import { nonMaxSuppression, sortByScore } from './nms';
import type { Detections } from './yolo';

/** Options of {@link ssdDetections}: torchvision's SSD settings (ssdlite320's defaults in brackets). */
export interface SsdPostprocessOptions {
  /** The [height, width] the head ran at: the transform's fixed size (320 for ssdlite320, 300 for ssd300). */
  transformSize: number | readonly [number, number];
  /** The image's [height, width]: boxes are mapped back to it. */
  imageSize: number | readonly [number, number];
  /** Each head level's map size (a number for square maps, or [height, width]), finest first. */
  featureSizes: readonly (number | readonly [number, number])[];
  /** The default boxes (SSDLITE320_DEFAULT_BOXES, SSD300_DEFAULT_BOXES). */
  defaultBoxes: DefaultBoxOptions;
  /** Class scores must be strictly above this [0.001]. */
  scoreThreshold?: number;
  /** Class-aware NMS threshold [0.55]. */
  iouThreshold?: number;
  /** Candidates kept per class before NMS [300]. */
  topkCandidates?: number;
  /** Detections kept [300]. */
  maxDetections?: number;
}

const f = Math.fround;

/**
 * Detections of one image from an SSD head: `scores` [anchors, classes] (softmax probabilities,
 * class 0 the background) and `deltas` [anchors, 4], as torchvision's SSD returns them in eval
 * mode (boxes in the image's pixels, labels as the head numbers its classes).
 *
 * @throws ShapeError when scores, deltas and the default boxes disagree; ValueError for bad options.
 */
export async function ssdDetections(scores: Tensor, deltas: Tensor, o: SsdPostprocessOptions): Promise<Detections> {
  const [th, tw] = sizePair(o.transformSize as number | number[], 'ssdDetections: transformSize');
  const [ih, iw] = sizePair(o.imageSize as number | number[], 'ssdDetections: imageSize');
  const scoreThr = unitInterval(o.scoreThreshold, 0.001, 'ssdDetections: scoreThreshold');
  const iou = unitInterval(o.iouThreshold, 0.55, 'ssdDetections: iouThreshold');
  const topk = integer(o.topkCandidates, 300, 1, 'ssdDetections: topkCandidates');
  const maxDet = integer(o.maxDetections, 300, 1, 'ssdDetections: maxDetections');
  // torch compares the float32 scores with the Python threshold in float32
  const thr32 = f(scoreThr);
  const anchors = defaultBoxes([th, tw], o.featureSizes, o.defaultBoxes);
  const A = anchors.length / 4;
  const sShape = scores?.shape ?? [];
  const K = sShape[sShape.length - 1];
  if (!(scores?.data instanceof Float32Array) || scores.data.length !== A * K || !(K >= 2))
    throw new ShapeError(`ssdDetections: scores must be [${A}, classes] for ${A} default boxes, got [${sShape.join(', ')}]`);
  if (!(deltas?.data instanceof Float32Array) || deltas.data.length !== A * 4)
    throw new ShapeError(`ssdDetections: deltas must be [${A}, 4], got [${(deltas?.shape ?? []).join(', ')}]`);
  const boxes = clipBoxesToImage(decodeBoxes(deltas.data, anchors, { weights: [10, 10, 5, 5] }), [th, tw]);
  const s = scores.data;
  // per class: candidates above the threshold, the best topk of them (score order, ties by anchor)
  const cand: number[] = [];
  const candScore: number[] = [];
  const candLabel: number[] = [];
  const above: number[] = [];
  for (let c = 1; c < K; c++) {
    above.length = 0;
    for (let a = 0; a < A; a++) if (s[a * K + c] > thr32) above.push(a);
    if (above.length === 0) continue;
    const cs = new Float32Array(above.length);
    above.forEach((a, i) => (cs[i] = s[a * K + c]));
    const order = sortByScore(cs, Int32Array.from(above.keys()));
    const n = Math.min(topk, order.length);
    for (let i = 0; i < n; i++) {
      cand.push(above[order[i]]);
      candScore.push(cs[order[i]]);
      candLabel.push(c);
    }
  }
  const cb = new Float32Array(cand.length * 4);
  cand.forEach((a, i) => cb.set(boxes.subarray(a * 4, a * 4 + 4), i * 4));
  const keep = await nonMaxSuppression(cb, Float32Array.from(candScore), { iouThreshold: iou, classes: candLabel, maxDetections: maxDet });
  return keptDetections(cb, candScore, candLabel, keep, [ih, iw], [th, tw]);
}
