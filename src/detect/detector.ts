// model.detect(): a detection zoo model's post-processing, run on its raw outputs. The network
// itself holds torchvision's transform (normalisation and the resize to the transform's size)
// and the head; this file turns the head's outputs into boxes in the input image's pixels
// (src/detect/ssd.ts for SSD). The zoo entry that builds a detector hands this code to the model
// (DetectorSpec.run): a program that never creates a detector bundles none of it, and no
// dynamic import is needed (a module both imported and lazily loaded lands in esbuild's eager
// shared chunks).
import type { Tensor } from '../graph/ir';
import { ShapeError, ValueError } from '../errors';
import { fromImage, type ImageSource } from '../image/fromImage';
import type { Model } from '../model';
import type { DefaultBoxOptions } from './anchors';
import type { FasterRcnnSpec } from './rcnn';
import { ssdDetections } from './ssd';
import type { Detections } from './yolo';

/**
 * What a detection model's post-processing needs (attached by the zoo), one form per kind of
 * detector. @internal
 */
export type DetectorSpec = SsdDetectorSpec | DenseDetectorSpec | FasterRcnnSpec;

/** SSD (ssdlite320, ssd300): the transform's fixed resize is inside the network. @internal */
export interface SsdDetectorSpec {
  kind: 'ssd';
  /** The transform's fixed [height, width] (the head's input size). */
  transformSize: [number, number];
  /** Each head level's [height, width] at the transform's size, finest first. */
  featureSizes: [number, number][];
  defaultBoxes: DefaultBoxOptions;
  /** Output names: softmax class scores [N, A, K] and box deltas [N, A, 4]. */
  scores: string;
  deltas: string;
  scoreThreshold: number;
  iouThreshold: number;
  topkCandidates: number;
  maxDetections: number;
  /** The post-processing: detectImages, set by the zoo. */
  run: (model: Model, spec: DetectorSpec, input: ImageSource | Tensor, options: DetectOptions) => Promise<Detections[]>;
}

/**
 * RetinaNet and FCOS (src/detect/dense.ts): torchvision's GeneralizedRCNNTransform (min_size /
 * max_size resize, padding) runs on the host before the network; the network's input is the
 * padded, normalised batch. @internal
 */
export interface DenseDetectorSpec {
  kind: 'retinanet' | 'fcos';
  /** GeneralizedRCNNTransform's min_size, max_size, image_mean, image_std, size_divisible. */
  minSize: number;
  maxSize: number;
  mean: readonly number[];
  std: readonly number[];
  sizeDivisible: number;
  /** log2 of the finest pyramid level's stride (3: P3 at stride 8). */
  firstLevel: number;
  /** AnchorGenerator's sizes and aspect ratios, one list per level. */
  anchorSizes: readonly (readonly number[])[];
  aspectRatios: readonly (readonly number[])[];
  /** Output names: class logits [N, A, K], box deltas [N, A, 4], FCOS's centerness [N, A, 1]. */
  logits: string;
  deltas: string;
  ctrness?: string;
  scoreThreshold: number;
  iouThreshold: number;
  topkCandidates: number;
  maxDetections: number;
  /** The whole detect(): detectDense, set by the zoo. */
  run: (model: Model, spec: DetectorSpec, input: ImageSource | Tensor, options: DetectOptions) => Promise<Detections[]>;
}

/** Options of {@link Model.detect}: each overrides the model's torchvision default. */
export interface DetectOptions {
  /** Class scores must be strictly above this (ssdlite320: 0.001). */
  scoreThreshold?: number;
  /** Class-aware NMS IoU threshold (ssdlite320: 0.55). */
  iouThreshold?: number;
  /** Detections kept per image (ssdlite320: 300). */
  maxDetections?: number;
}

/** Refuses unknown detect() options by name. */
export function checkDetectOptions(o: DetectOptions): void {
  for (const [k, v] of Object.entries(o ?? {}))
    if (v !== undefined && !['scoreThreshold', 'iouThreshold', 'maxDetections'].includes(k))
      throw new ValueError(`detect(): unknown option '${k}' (options: scoreThreshold, iouThreshold, maxDetections)`);
}

/** Runs `model` on images `x` ([N, 3, H, W] in [0, 1]) and post-processes each image. */
export async function runDetector(model: Model, spec: SsdDetectorSpec, x: Tensor, o: DetectOptions): Promise<Detections[]> {
  if (!(x?.data instanceof Float32Array) || !Array.isArray(x.shape) || x.shape.length !== 4 || x.shape[1] !== 3)
    throw new ShapeError(`detect() takes images as [N, 3, H, W] (RGB in [0, 1]), got [${(x?.shape ?? []).join(', ')}]`);
  checkDetectOptions(o);
  const [N, , H, W] = x.shape;
  const out = await model.run({ [model.inputNames[0]]: x });
  const scores = out[spec.scores], deltas = out[spec.deltas];
  const A = deltas.shape[1], K = scores.shape[2];
  const dets: Detections[] = [];
  for (let n = 0; n < N; n++) {
    dets.push(
      await ssdDetections(
        { data: scores.data.subarray(n * A * K, (n + 1) * A * K), shape: [A, K] },
        { data: deltas.data.subarray(n * A * 4, (n + 1) * A * 4), shape: [A, 4] },
        {
          transformSize: spec.transformSize,
          imageSize: [H, W],
          featureSizes: spec.featureSizes,
          defaultBoxes: spec.defaultBoxes,
          scoreThreshold: o.scoreThreshold ?? spec.scoreThreshold,
          iouThreshold: o.iouThreshold ?? spec.iouThreshold,
          topkCandidates: spec.topkCandidates,
          maxDetections: o.maxDetections ?? spec.maxDetections,
        },
      ),
    );
  }
  return dets;
}

/** An image (anything fromImage takes) or an [N, 3, H, W] tensor in [0, 1], detected image by image. */
export async function detectImages(model: Model, spec: DetectorSpec, input: ImageSource | Tensor, options: DetectOptions): Promise<Detections[]> {
  const isTensor = typeof input === 'object' && input !== null && 'shape' in input && (input as Tensor).data instanceof Float32Array;
  if (spec.kind !== 'ssd') throw new ValueError(`detectImages: a '${spec.kind}' detector has its own post-processing`);
  return runDetector(model, spec, isTensor ? (input as Tensor) : await fromImage(input as ImageSource), options);
}
