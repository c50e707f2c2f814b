// Post-processing of the dense one-stage detectors, as torchvision 0.14 computes it in eval mode:
// RetinaNet (Lin et al. 2017, "Focal Loss for Dense Object Detection", RetinaNet.
// postprocess_detections) and FCOS (Tian et al. 2019, "FCOS: Fully Convolutional One-Stage Object
// Detection", FCOS.postprocess_detections). Per pyramid level: scores (sigmoid of the class
// logits; FCOS: sqrt(sigmoid(logit) · sigmoid(centerness))) over anchors × classes, those above
// the threshold, their best topk_candidates; boxes decoded against the level's anchors
// (RetinaNet: BoxCoder weights (1, 1, 1, 1); FCOS: BoxLinearCoder normalised by the anchor's
// size), clipped to the resized image; then class-aware NMS over all levels, the best
// detections_per_img, and boxes mapped back to the input image (GeneralizedRCNNTransform.
// postprocess). detectDense runs the whole detector: the transform (src/detect/transform.ts), the
// network, this post-processing.
import type { Tensor } from '../graph/ir';
import { ShapeError, ValueError } from '../errors';
import { fromImage, type ImageSource } from '../image/fromImage';
import type { Model } from '../model';
import { gridAnchors } from './anchors';
import { boxArray, integer, sizePair, unitInterval } from './args';
import { clipBoxesToImage, decodeBoxes, decodeBoxesLinear, keptDetections } from './boxes';
import { checkDetectOptions, type DenseDetectorSpec, type DetectOptions, type DetectorSpec } from './detector';
import { nonMaxSuppression, topkByScore } from './nms';
import { generalizedRcnnTransform } from './transform';
import type { Detections } from './yolo';

const f = Math.fround;

/** Float32 logistic sigmoid. */
const sigmoid = (x: number) => f(1 / (1 + Math.exp(-x)));

/** Options of {@link denseDetections}. */
export interface DensePostprocessOptions {
  /** 'retinanet' (sigmoid scores, BoxCoder) or 'fcos' (centerness-weighted scores, BoxLinearCoder). */
  kind: 'retinanet' | 'fcos';
  /** Anchors of the padded batch image, (x1, y1, x2, y2) rows, level after level (gridAnchors). */
  anchors: Float32Array;
  /** Anchors of each level (H·W·A), finest first. */
  levelAnchors: readonly number[];
  /** The resized image's [height, width] (boxes are clipped to it). */
  imageSize: readonly [number, number];
  /** The input image's [height, width] (boxes are mapped back to it). */
  originalSize: readonly [number, number];
  /** Scores must be strictly above this (RetinaNet 0.05, FCOS 0.2). */
  scoreThreshold: number;
  /** Class-aware NMS IoU threshold (RetinaNet 0.5, FCOS 0.6). */
  iouThreshold: number;
  /** Candidates kept per level before NMS (1000). */
  topkCandidates: number;
  /** Detections kept (RetinaNet 300, FCOS 100). */
  maxDetections: number;
}

/**
 * Detections of one image from a RetinaNet or FCOS head: `logits` [anchors, classes], `deltas`
 * [anchors, 4] and, for FCOS, `ctrness` [anchors] (all raw head outputs, levels concatenated,
 * as torchvision's heads lay them out), equal to torchvision's postprocess_detections followed
 * by the transform's postprocess (boxes in the original image's pixels).
 *
 * @throws ShapeError when the outputs, anchors and level counts disagree; ValueError for bad
 *   options or non-finite anchors.
 */
export async function denseDetections(logits: Float32Array, deltas: Float32Array, ctrness: Float32Array | undefined, o: DensePostprocessOptions): Promise<Detections> {
  const what = 'denseDetections';
  if (o?.kind !== 'retinanet' && o?.kind !== 'fcos') throw new ValueError(`${what}: kind must be 'retinanet' or 'fcos', got ${String(o?.kind)}`);
  const anchors = boxArray(o.anchors, `${what}: anchors`);
  const A = anchors.length / 4;
  if (!Array.isArray(o.levelAnchors) || !o.levelAnchors.every((n) => Number.isInteger(n) && n >= 0) || o.levelAnchors.reduce((t, n) => t + n, 0) !== A)
    throw new ShapeError(`${what}: levelAnchors ${JSON.stringify(o.levelAnchors)} must be counts that add up to the ${A} anchors`);
  const imageSize = sizePair(o.imageSize, `${what}: imageSize`);
  const originalSize = sizePair(o.originalSize, `${what}: originalSize`);
  const thr = unitInterval(o.scoreThreshold, 0, `${what}: scoreThreshold`);
  // torch compares a float32 tensor with a Python number in float32
  const thr32 = f(thr);
  const iou = unitInterval(o.iouThreshold, 0.5, `${what}: iouThreshold`);
  const topk = integer(o.topkCandidates, 1000, 1, `${what}: topkCandidates`);
  const maxDet = integer(o.maxDetections, 100, 1, `${what}: maxDetections`);
  const K = logits?.length / A;
  if (!(logits instanceof Float32Array) || !(deltas instanceof Float32Array) || !Number.isInteger(K) || K < 1 || deltas.length !== A * 4 || (o.kind === 'fcos' && !(ctrness instanceof Float32Array && ctrness.length === A)))
    throw new ShapeError(`${what}: the head's outputs (${logits?.length} logits, ${deltas?.length} deltas${ctrness ? `, ${ctrness.length} centerness` : ''}) do not fit ${A} anchors${o.kind === 'fcos' ? ' (FCOS needs one centerness a location)' : ''}`);
  // sigmoid(x) > t only if x > logit(t): a cheap pre-filter (with a margin) before the exact test
  const logitOf = (t: number) => (t <= 0 ? -Infinity : t >= 1 ? Infinity : Math.log(t / (1 - t)) - 1e-3);
  const boxes: number[] = [];
  const scores: number[] = [];
  const labels: number[] = [];
  // candidates of a level (positions anchor · K + class, and scores), grown as needed
  let idx = new Int32Array(1024);
  let sc = new Float32Array(1024);
  let start = 0;
  for (const n of o.levelAnchors) {
    let m = 0;
    for (let a = start; a < start + n; a++) {
      let cut: number;
      let ctr = 1;
      if (o.kind === 'fcos') {
        ctr = sigmoid(ctrness![a]);
        // sqrt(s · ctr) > t needs s > t² / ctr
        cut = logitOf((thr * thr) / ctr);
      } else cut = logitOf(thr);
      if (cut === Infinity) continue;
      for (let k = 0; k < K; k++) {
        const x = logits[a * K + k];
        if (!(x > cut)) continue;
        const s = o.kind === 'fcos' ? f(Math.sqrt(f(sigmoid(x) * ctr))) : sigmoid(x);
        if (!(s > thr32)) continue;
        if (m === idx.length) {
          const i2 = new Int32Array(m * 2), s2 = new Float32Array(m * 2);
          i2.set(idx);
          s2.set(sc);
          idx = i2;
          sc = s2;
        }
        idx[m] = (a - start) * K + k;
        sc[m++] = s;
      }
    }
    // torch's scores.topk(min(topk_candidates, count)): the best, by decreasing score
    const order = topkByScore(sc.subarray(0, m), topk);
    const c = order.length;
    const ref = new Float32Array(c * 4);
    const d = new Float32Array(c * 4);
    for (let i = 0; i < c; i++) {
      const a = start + Math.floor(idx[order[i]] / K);
      ref.set(anchors.subarray(a * 4, a * 4 + 4), i * 4);
      d.set(deltas.subarray(a * 4, a * 4 + 4), i * 4);
      scores.push(sc[order[i]]);
      labels.push(idx[order[i]] % K);
    }
    const decoded = o.kind === 'fcos' ? decodeBoxesLinear(d, ref, { normalizeBySize: true }) : decodeBoxes(d, ref, { weights: [1, 1, 1, 1] });
    for (const v of clipBoxesToImage(decoded, imageSize)) boxes.push(v);
    start += n;
  }
  const cb = Float32Array.from(boxes);
  const keep = await nonMaxSuppression(cb, Float32Array.from(scores), { iouThreshold: iou, classes: labels, maxDetections: maxDet });
  return keptDetections(cb, scores, labels, keep, originalSize, imageSize);
}

/** A side after the backbone's stride-2 steps (3x3/7x7 convs and pools with "same" padding: ceil(x / 2) each). */
function halve(x: number, times: number): number {
  for (let i = 0; i < times; i++) x = Math.ceil(x / 2);
  return x;
}

/**
 * A RetinaNet or FCOS zoo model's detect(): torchvision's transform on the host, the network on
 * the padded batch, then {@link denseDetections} image by image.
 */
export async function detectDense(model: Model, spec: DetectorSpec, input: ImageSource | Tensor, options: DetectOptions): Promise<Detections[]> {
  const s = spec as DenseDetectorSpec;
  checkDetectOptions(options);
  const isTensor = typeof input === 'object' && input !== null && 'shape' in input && (input as Tensor).data instanceof Float32Array;
  const x = isTensor ? (input as Tensor) : await fromImage(input as ImageSource);
  if (!(x?.data instanceof Float32Array) || !Array.isArray(x.shape) || x.shape.length !== 4 || x.shape[1] !== 3)
    throw new ShapeError(`detect() takes images as [N, 3, H, W] (RGB in [0, 1]), got [${(x?.shape ?? []).join(', ')}]`);
  const scoreThreshold = unitInterval(options.scoreThreshold, s.scoreThreshold, 'detect(): scoreThreshold');
  const iouThreshold = unitInterval(options.iouThreshold, s.iouThreshold, 'detect(): iouThreshold');
  const maxDetections = integer(options.maxDetections, s.maxDetections, 1, 'detect(): maxDetections');
  const [N, , H, W] = x.shape;
  const t = generalizedRcnnTransform(x, { minSize: s.minSize, maxSize: s.maxSize, mean: s.mean, std: s.std, sizeDivisible: s.sizeDivisible });
  const [, , ph, pw] = t.images.shape;
  const out = await model.run({ [model.inputNames[0]]: t.images });
  // the pyramid's levels: strides 2^first … 2^(first + levels − 1)
  const grids = s.anchorSizes.map((_, l) => [halve(ph, s.firstLevel + l), halve(pw, s.firstLevel + l)] as [number, number]);
  const anchors = gridAnchors([ph, pw], grids, { sizes: s.anchorSizes, aspectRatios: s.aspectRatios });
  const levelAnchors = grids.map(([h, w], l) => h * w * s.anchorSizes[l].length * s.aspectRatios[l].length);
  const A = anchors.length / 4;
  const logits = out[s.logits], deltas = out[s.deltas], ctr = s.ctrness ? out[s.ctrness] : undefined;
  if (deltas.shape[1] !== A) throw new ShapeError(`detect(): the head gives ${deltas.shape[1]} boxes for ${A} anchors at ${ph}x${pw}`);
  const K = logits.shape[2];
  const dets: Detections[] = [];
  for (let n = 0; n < N; n++)
    dets.push(
      await denseDetections(logits.data.subarray(n * A * K, (n + 1) * A * K), deltas.data.subarray(n * A * 4, (n + 1) * A * 4), ctr?.data.subarray(n * A, (n + 1) * A), {
        kind: s.kind,
        anchors,
        levelAnchors,
        imageSize: t.imageSize,
        originalSize: [H, W],
        scoreThreshold,
        iouThreshold,
        topkCandidates: s.topkCandidates,
        maxDetections,
      }),
    );
  return dets;
}
