// Multi-scale RoIAlign over a feature pyramid (Lin et al., "Feature Pyramid Networks for Object
// Detection", 2017, eq. 1) as torchvision.ops.MultiScaleRoIAlign (torchvision 0.14): each level's
// scale is 2^round(log2(map height / image height)) with the image size the largest of the batch;
// a box of side s = sqrt(area) goes to level floor(k0 + log2(s / 224) + 1e-6) clamped to the
// pyramid (k0 = 4, canonical size 224), all in float32 as torchvision computes it; each level
// pools its boxes with RoIAlign (aligned=false) at that level's scale.
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import { boxArray, integer, positive } from './args';
import { roiAlignRun, roiParams } from './roiAlign';
import { hostRuntime } from '../runtime/host';

/** Options of {@link multiScaleRoIAlign}. */
export interface MultiScaleRoIAlignOptions {
  /** Output bins per box: a number (square) or [height, width] (torchvision's output_size, e.g. 7). */
  outputSize: number | readonly [number, number];
  /** Samples per bin and axis; <= 0 adaptive (torchvision's sampling_ratio, e.g. 2). Default 2. */
  samplingRatio?: number;
  /** Box side that maps to `canonicalLevel` (torchvision's canonical_scale). Default 224. */
  canonicalScale?: number;
  /** Pyramid level of a `canonicalScale` box (torchvision's canonical_level, k0). Default 4. */
  canonicalLevel?: number;
  /** Added before flooring the level (torchvision's LevelMapper eps). Default 1e-6. */
  eps?: number;
  /**
   * Layout of the maps and of the result: 'nchw' (default; maps [N, C, H, W], result [K, C, OH, OW])
   * or 'nhwc' (maps [N, H, W, C], result [K, OH, OW, C]: the engine's layout, no transposes).
   */
  layout?: 'nchw' | 'nhwc';
}

const f = Math.fround;

/** torch.round (half to even) of a float. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The pyramid level (0 = finest given map) of each box, torchvision's LevelMapper. */
export function fpnLevels(boxes: Float32Array, kMin: number, kMax: number, canonicalScale = 224, canonicalLevel = 4, eps = 1e-6): Int32Array {
  const n = boxes.length / 4;
  const out = new Int32Array(n);
  const e = f(eps), s0 = f(canonicalScale);
  for (let i = 0; i < n; i++) {
    const area = f(f(boxes[i * 4 + 2] - boxes[i * 4]) * f(boxes[i * 4 + 3] - boxes[i * 4 + 1]));
    const s = f(Math.sqrt(area));
    // a negative area (one inverted axis) has no level: torchvision's NaN level matches none and
    // leaves the box's output at zero, silently; here it is an error
    if (area < 0)
      throw new ValueError(`multiScaleRoIAlign: box ${i} (${Array.from(boxes.subarray(i * 4, i * 4 + 4)).join(', ')}) has a negative area (x2 < x1 or y2 < y1)`);
    const lvl = Math.floor(f(f(canonicalLevel + f(Math.log2(f(s / s0)))) + e));
    out[i] = Math.min(Math.max(lvl, kMin), kMax) - kMin; // a zero-area box (log2(0) = -Infinity) goes to the finest level
  }
  return out;
}

/**
 * RoIAlign over a feature pyramid, equal to torchvision's
 * `MultiScaleRoIAlign(featmap_names, output_size, sampling_ratio)(features, boxes, image_shapes)`:
 * each box is pooled from the level its size maps to (FPN eq. 1, k0 = 4, canonical 224).
 *
 * @param features The pyramid's maps, finest first, each [N, C, H, W] (or [N, H, W, C] with
 *   `layout: 'nhwc'`), all of the same N and C.
 * @param boxes (x1, y1, x2, y2) rows in image pixels: one Float32Array (or [K, 4] tensor) per image
 *   of the batch, or a single one for a batch of one.
 * @param imageSize The (unpadded) image size [height, width], or one per image; the level scales
 *   are inferred from the largest, as torchvision does.
 * @returns [K, C, OH, OW] (or [K, OH, OW, C] with `layout: 'nhwc'`) for all boxes, image after
 *   image, in the order given.
 * @throws ShapeError for maps of different batch or channel counts, or more box lists than images;
 *   ValueError for non-finite boxes, a box of negative area (torchvision leaves its output at zero),
 *   bad sizes, or level scales that are not successive powers of two.
 */
export async function multiScaleRoIAlign(
  features: readonly Tensor[],
  boxes: Float32Array | Tensor | readonly (Float32Array | Tensor)[],
  imageSize: readonly [number, number] | readonly (readonly [number, number])[],
  options: MultiScaleRoIAlignOptions,
): Promise<Tensor> {
  const what = 'multiScaleRoIAlign';
  const layout = options?.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw new ValueError(`${what}: layout must be 'nchw' or 'nhwc', got ${String(layout)}`);
  const nhwc = layout === 'nhwc';
  const form = nhwc ? '[N, H, W, C]' : '[N, C, H, W]';
  if (!Array.isArray(features) || features.length === 0) throw new ValueError(`${what}: features must be a non-empty array of ${form} tensors`);
  // [N, C, H, W] of every map, whatever the layout
  const shapes = features.map((t: Tensor, i: number): number[] => {
    if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape) || t.shape.length !== 4 || t.shape.some((d: number) => !Number.isInteger(d) || d < 1) || t.shape.reduce((a: number, b: number) => a * b, 1) !== t.data.length)
      throw new ShapeError(`${what}: features[${i}] must be an ${form} tensor with matching data`);
    const cAxis = nhwc ? 3 : 1;
    if (t.shape[0] !== features[0].shape[0] || t.shape[cAxis] !== features[0].shape[cAxis])
      throw new ShapeError(`${what}: features[${i}] has shape [${t.shape.join(', ')}], features[0] [${features[0].shape.join(', ')}]: batch and channels must agree`);
    return nhwc ? [t.shape[0], t.shape[3], t.shape[1], t.shape[2]] : t.shape;
  });
  const [N, C] = shapes[0];
  const p = roiParams({ outputSize: options?.outputSize, samplingRatio: options?.samplingRatio ?? 2, aligned: false }, what);
  const canonicalScale = positive(options.canonicalScale ?? 224, `${what}: canonicalScale`);
  const canonicalLevel = integer(options.canonicalLevel, 4, 0, `${what}: canonicalLevel`);
  const eps = options.eps ?? 1e-6;
  if (!Number.isFinite(eps)) throw new ValueError(`${what}: eps must be finite`);

  const lists = Array.isArray(boxes) ? boxes : [boxes as Float32Array | Tensor];
  if (lists.length > N) throw new ShapeError(`${what}: ${lists.length} box lists for a batch of ${N}`);
  const parts = lists.map((b, i) => boxArray(b, `${what}: boxes[${i}]`));
  const sizes = (typeof imageSize[0] === 'number' ? [imageSize] : imageSize) as readonly (readonly number[])[];
  if (sizes.length === 0) throw new ValueError(`${what}: imageSize must not be empty`);
  let maxH = 0;
  for (const s of sizes) {
    if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => Number.isInteger(v) && v >= 1))
      throw new ValueError(`${what}: imageSize must be [height, width] of positive integers (or a list of them), got ${JSON.stringify(imageSize)}`);
    maxH = Math.max(maxH, s[0]);
  }
  // torchvision's _infer_scale: 2^round(log2(h_map / h_image)) in float32, from the heights only
  const scales = shapes.map((s) => 2 ** roundHalfEven(f(Math.log2(f(s[2] / maxH)))));
  const kMin = -Math.log2(scales[0]), kMax = -Math.log2(scales[scales.length - 1]);
  if (kMax - kMin !== features.length - 1)
    throw new ValueError(`${what}: the maps' scales (${scales.join(', ')}) are not successive powers of two (finest first)`);

  const all = new Float32Array(parts.reduce((s, b) => s + b.length, 0));
  const batch = new Int32Array(all.length / 4);
  let o = 0;
  parts.forEach((b, i) => {
    all.set(b, o);
    batch.fill(i, o / 4, (o + b.length) / 4);
    o += b.length;
  });
  const K = batch.length;
  const levels = fpnLevels(all, kMin, kMax, canonicalScale, canonicalLevel, eps);
  const bin = p.OH * p.OW;
  const out = new Float32Array(K * C * bin);
  const rt = await hostRuntime();
  // no await from here on: each level's result is a view of the instance's memory
  for (let l = 0; l < features.length; l++) {
    const idx: number[] = [];
    for (let i = 0; i < K; i++) if (levels[i] === l) idx.push(i);
    if (idx.length === 0) continue;
    const rois = new Float32Array(idx.length * 5);
    idx.forEach((i, r) => {
      rois[r * 5] = batch[i];
      rois.set(all.subarray(i * 4, i * 4 + 4), r * 5 + 1);
    });
    const [, , H, W] = shapes[l];
    const y = roiAlignRun(rt, features[l].data, !nhwc, N, H, W, C, rois, { ...p, scale: scales[l] });
    // y: [k, C, OH, OW] (or [k, OH, OW, C]) → rows idx[r] of the result
    idx.forEach((i, r) => out.set(y.subarray(r * bin * C, (r + 1) * bin * C), i * bin * C));
  }
  return { data: out, shape: nhwc ? [K, p.OH, p.OW, C] : [K, C, p.OH, p.OW] };
}
