// Faster R-CNN's eval-mode pipeline around its two networks (models/rcnn.ts), as torchvision
// 0.14's GeneralizedRCNN computes it (Ren et al. 2015, "Faster R-CNN"; Lin et al. 2017, FPN):
//   GeneralizedRCNNTransform  (x - mean) / std; resize keeping the aspect ratio so the short side
//       is min_size unless the long side would pass max_size (scale in float32, as PyTorch's
//       reciprocal-then-multiply, output size floor(side · scale), F.interpolate bilinear, align_corners=False, recompute_scale_factor,
//       computed here as PyTorch's CPU upsample_bilinear2d does in float32); zero padding of the
//       batch to multiples of 32. On the host (src/detect/transform.ts): the output size depends
//       on the image's.
//   the first network (backbone, FPN, RPN head), then per image the RPN's proposals
//       (src/detect/rpn.ts) with AnchorGenerator's anchors on the padded size;
//   MultiScaleRoIAlign (7x7, sampling ratio 2, canonical LevelMapper: src/detect/multiScale.ts);
//   the second network (TwoMLPHead, FastRCNNPredictor) over the proposals, in blocks of the
//       fixed row count it was planned for (rows are independent; the last block is zero-padded);
//   RoIHeads.postprocess_detections: softmax, BoxCoder(10, 10, 5, 5) decoding per class, clip,
//       background dropped, scores > 0.05, boxes smaller than 1e-2 dropped, class-aware NMS 0.5,
//       the best 100; boxes mapped back to the input image's pixels (float32 ratios).
import type { Tensor } from '../graph/ir';
import { ShapeError, ValueError } from '../errors';
import { fromImage, type ImageSource } from '../image/fromImage';
import type { Model } from '../model';
import { type AnchorOptions, gridAnchors } from './anchors';
import { integer, unitInterval } from './args';
import { clipBoxesToImage, decodeBoxes, keptDetections, removeSmallBoxes } from './boxes';
import { checkDetectOptions, type DetectOptions, type DetectorSpec } from './detector';
import { multiScaleRoIAlign } from './multiScale';
import { nonMaxSuppression } from './nms';
import { type Proposals, rpnProposals } from './rpn';
import { generalizedRcnnTransform } from './transform';
import type { Detections } from './yolo';

/** What a Faster R-CNN model's detect() needs (attached by the zoo, models/rcnn.ts). @internal */
export interface FasterRcnnSpec {
  kind: 'fasterrcnn';
  /** The transform's min_size and max_size. */
  minSize: number;
  maxSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** The batch is zero-padded to multiples of this (32). */
  sizeDivisible: number;
  anchors: AnchorOptions;
  /** Pyramid levels: the first network's outputs 'objectness.l', 'deltas.l'. */
  levels: number;
  /** Levels RoIAlign reads: outputs 'features.l'. */
  roiLevels: number;
  preNmsTopN: number;
  postNmsTopN: number;
  rpnNmsThreshold: number;
  rpnScoreThreshold: number;
  /** The second network: [postNmsTopN, C·7·7] → 'class_logits', 'box_regression'. */
  boxHead: Model;
  classes: number;
  scoreThreshold: number;
  iouThreshold: number;
  maxDetections: number;
  run: (model: Model, spec: DetectorSpec, input: ImageSource | Tensor, options: DetectOptions) => Promise<Detections[]>;
  /** Frees the second network (called by Model.dispose). */
  dispose: () => void;
}

/** Everything a Faster R-CNN computes for one image of a batch (test hooks and detect()). @internal */
export interface FasterRcnnImage {
  proposals: Proposals;
  /** The box head's outputs for the proposals: [P, classes] and [P, classes·4]. */
  classLogits: Float32Array;
  boxRegression: Float32Array;
  detections: Detections;
}

/** The stages of a Faster R-CNN on images `x` [N, 3, H, W] in [0, 1]. @internal */
export async function fasterRcnnStages(model: Model, spec: FasterRcnnSpec, x: Tensor, o: DetectOptions = {}): Promise<{ batch: Tensor; resized: [number, number]; images: FasterRcnnImage[] }> {
  if (!(x?.data instanceof Float32Array) || !Array.isArray(x.shape) || x.shape.length !== 4 || x.shape[1] !== 3 || x.shape.some((v) => !Number.isInteger(v) || v < 1) || x.data.length !== x.shape.reduce((a, b) => a * b, 1))
    throw new ShapeError(`detect() takes images as [N, 3, H, W] (RGB in [0, 1]), got [${(x?.shape ?? []).join(', ')}]`);
  const scoreThr = unitInterval(o.scoreThreshold, spec.scoreThreshold, 'detect(): scoreThreshold');
  const iou = unitInterval(o.iouThreshold, spec.iouThreshold, 'detect(): iouThreshold');
  const maxDet = integer(o.maxDetections, spec.maxDetections, 1, 'detect(): maxDetections');
  const [N, , H, W] = x.shape;
  const { images: batch, imageSize: resized } = generalizedRcnnTransform(x, spec);
  const [, , ph, pw] = batch.shape;
  const out = await model.run({ [model.inputNames[0]]: batch });
  const objectness: Tensor[] = [], deltas: Tensor[] = [], sizes: [number, number][] = [];
  for (let l = 0; l < spec.levels; l++) {
    objectness.push(out[`objectness.${l}`]);
    deltas.push(out[`deltas.${l}`]);
  }
  const features: Tensor[] = [];
  for (let l = 0; l < spec.roiLevels; l++) features.push(out[`features.${l}`]);
  // each level's map size: objectness is [N, H, W, A]
  for (let l = 0; l < spec.levels; l++) sizes.push([objectness[l].shape[1], objectness[l].shape[2]]);
  const anchors = gridAnchors([ph, pw], sizes, spec.anchors);
  const props: Proposals[] = [];
  for (let n = 0; n < N; n++) {
    const obj = objectness.map((t) => t.data.subarray((n * t.data.length) / N, ((n + 1) * t.data.length) / N));
    const del = deltas.map((t) => t.data.subarray((n * t.data.length) / N, ((n + 1) * t.data.length) / N));
    props.push(
      await rpnProposals(obj, del, anchors, {
        imageSize: resized, preNmsTopN: spec.preNmsTopN, postNmsTopN: spec.postNmsTopN,
        nmsThreshold: spec.rpnNmsThreshold, scoreThreshold: spec.rpnScoreThreshold,
      }),
    );
  }
  const pooled = await multiScaleRoIAlign(features, props.map((p) => p.boxes), Array(N).fill(resized), { outputSize: 7, samplingRatio: 2 });
  const row = pooled.data.length / Math.max(1, pooled.shape[0]);
  const images: FasterRcnnImage[] = [];
  let first = 0;
  for (let n = 0; n < N; n++) {
    const P = props[n].boxes.length / 4;
    const { classLogits, boxRegression } = await boxHead(spec, pooled.data.subarray(first * row, (first + P) * row), P, row);
    first += P;
    const detections = boxDetections(props[n].boxes, classLogits, boxRegression, spec.classes, resized, [H, W], scoreThr, iou, maxDet);
    images.push({ proposals: props[n], classLogits, boxRegression, detections: await detections });
  }
  return { batch, resized, images };
}

/** The second network over P pooled rows, in blocks of its planned row count. */
async function boxHead(spec: FasterRcnnSpec, rows: Float32Array, P: number, row: number): Promise<{ classLogits: Float32Array; boxRegression: Float32Array }> {
  const R = spec.postNmsTopN, K = spec.classes;
  const classLogits = new Float32Array(P * K), boxRegression = new Float32Array(P * K * 4);
  const feed = new Float32Array(R * row);
  for (let s = 0; s < P; s += R) {
    const m = Math.min(R, P - s);
    feed.fill(0);
    feed.set(rows.subarray(s * row, (s + m) * row));
    const y = await spec.boxHead.run({ rois: { data: feed, shape: [R, row] } });
    classLogits.set(y.class_logits.data.subarray(0, m * K), s * K);
    boxRegression.set(y.box_regression.data.subarray(0, m * K * 4), s * K * 4);
  }
  return { classLogits, boxRegression };
}

/** RoIHeads.postprocess_detections and transform.postprocess for one image. */
async function boxDetections(
  proposals: Float32Array, logits: Float32Array, regression: Float32Array, K: number,
  resized: [number, number], original: [number, number], scoreThr: number, iou: number, maxDet: number,
): Promise<Detections> {
  const P = proposals.length / 4;
  const boxes = clipBoxesToImage(decodeBoxes(regression, proposals, { weights: [10, 10, 5, 5] }), resized);
  // softmax over the classes (in double, rounded once)
  const scores = new Float32Array(P * K);
  for (let p = 0; p < P; p++) {
    let m = -Infinity;
    for (let c = 0; c < K; c++) m = Math.max(m, logits[p * K + c]);
    let s = 0;
    for (let c = 0; c < K; c++) s += Math.exp(logits[p * K + c] - m);
    for (let c = 0; c < K; c++) scores[p * K + c] = Math.exp(logits[p * K + c] - m) / s;
  }
  // every (proposal, class) pair but the background, in that order, above the threshold
  const cand: number[] = [];
  for (let p = 0; p < P; p++) for (let c = 1; c < K; c++) if (scores[p * K + c] > scoreThr) cand.push(p * K + c);
  const cb = new Float32Array(cand.length * 4);
  cand.forEach((j, i) => cb.set(boxes.subarray(j * 4, j * 4 + 4), i * 4));
  const small = removeSmallBoxes(cb, 1e-2);
  const kb = new Float32Array(small.length * 4);
  small.forEach((i, j) => kb.set(cb.subarray(i * 4, i * 4 + 4), j * 4));
  const ks = Float32Array.from(small, (i) => scores[cand[i]]);
  const kl = Int32Array.from(small, (i) => cand[i] % K);
  const keep = await nonMaxSuppression(kb, ks, { iouThreshold: iou, classes: kl, maxDetections: maxDet });
  return keptDetections(kb, ks, kl, keep, original, resized);
}

/** Model.detect() of a Faster R-CNN: an image (anything fromImage takes) or an [N, 3, H, W] tensor in [0, 1]. */
export async function detectFasterRcnn(model: Model, spec: DetectorSpec, input: ImageSource | Tensor, options: DetectOptions): Promise<Detections[]> {
  if (spec.kind !== 'fasterrcnn') throw new ValueError(`detectFasterRcnn: a '${spec.kind}' detector`);
  checkDetectOptions(options);
  const isTensor = typeof input === 'object' && input !== null && 'shape' in input && (input as Tensor).data instanceof Float32Array;
  const x = isTensor ? (input as Tensor) : await fromImage(input as ImageSource);
  return (await fasterRcnnStages(model, spec, x, options)).images.map((i) => i.detections);
}
