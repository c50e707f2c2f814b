// Box coding and box utilities of torchvision 0.14's detection models (Girshick et al., "Rich
// feature hierarchies…", 2014, appendix C; Faster R-CNN's parameterisation): BoxCoder.decode
// (deltas (dx, dy, dw, dh) divided by the weights, dw and dh clamped to log(1000/16), applied to
// reference boxes' centres and sizes), BoxLinearCoder.decode (FCOS, Tian et al. 2019: distances
// from the reference centre to the four edges, optionally in units of the reference size),
// clip_boxes_to_image and remove_small_boxes, in float32 operation by operation as torchvision
// computes them.
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import { type BoxesInput, boxArray, sizePair } from './args';
import type { Detections } from './yolo';

const f = Math.fround;

/** torchvision's bbox_xform_clip: log(1000 / 16), the largest dw, dh passed to exp. */
export const BBOX_XFORM_CLIP = 4.135166556742356; // Math.log(62.5), a literal so bundlers can drop it when unused

/** Options of {@link decodeBoxes}: torchvision `BoxCoder(weights, bbox_xform_clip)`. */
export interface BoxCoderOptions {
  /** (wx, wy, ww, wh) dividing the deltas: (1, 1, 1, 1) in RetinaNet and the RPN, (10, 10, 5, 5) in the R-CNN box head and SSD. Default (1, 1, 1, 1). */
  weights?: readonly [number, number, number, number];
  /** Upper clamp of dw and dh before exp. Default log(1000 / 16). */
  clip?: number;
}

/**
 * `torchvision.models.detection._utils.BoxCoder(weights).decode`: apply regression deltas to
 * reference boxes (anchors, default boxes or proposals).
 *
 * @param deltas N rows of 4·k deltas (k boxes per reference, e.g. one per class), flat or [N, 4k].
 * @param reference N (x1, y1, x2, y2) reference boxes, flat or [N, 4].
 * @returns N·k decoded (x1, y1, x2, y2) boxes, row-major like the deltas (N rows of 4·k values).
 * @throws ShapeError when the deltas are not N rows of a multiple of 4; ValueError for non-finite
 *   values or non-positive weights.
 */
export function decodeBoxes(deltas: Float32Array | Tensor, reference: BoxesInput, options: BoxCoderOptions = {}): Float32Array {
  const ref = boxArray(reference, 'decodeBoxes: reference');
  const n = ref.length / 4;
  const d = deltas instanceof Float32Array ? deltas : deltas?.data;
  if (!(d instanceof Float32Array)) throw new ValueError('decodeBoxes: deltas must be a Float32Array or a { data: Float32Array, shape } tensor');
  if (n === 0 ? d.length !== 0 : d.length % (4 * n) !== 0)
    throw new ShapeError(`decodeBoxes: ${d.length} deltas for ${n} reference boxes; expected N rows of 4·k values`);
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) throw new ValueError(`decodeBoxes: deltas[${i}] is ${d[i]}; deltas must be finite`);
  const w = options.weights ?? [1, 1, 1, 1];
  if (!Array.isArray(w) || w.length !== 4 || !w.every((v) => Number.isFinite(v) && v > 0))
    throw new ValueError(`decodeBoxes: weights must be 4 finite numbers > 0, got ${JSON.stringify(w)}`);
  const clip = options.clip ?? BBOX_XFORM_CLIP;
  if (typeof clip !== 'number' || Number.isNaN(clip)) throw new ValueError(`decodeBoxes: clip must be a number, got ${String(clip)}`);
  const [wx, wy, ww, wh] = w.map(f);
  const c = f(clip);
  const per = n === 0 ? 0 : d.length / n;
  const out = new Float32Array(d.length);
  for (let i = 0; i < n; i++) {
    const width = f(ref[i * 4 + 2] - ref[i * 4]), height = f(ref[i * 4 + 3] - ref[i * 4 + 1]);
    const cx = f(ref[i * 4] + f(0.5 * width)), cy = f(ref[i * 4 + 1] + f(0.5 * height));
    for (let j = i * per; j < (i + 1) * per; j += 4) {
      const dx = f(d[j] / wx), dy = f(d[j + 1] / wy);
      const dw = Math.min(f(d[j + 2] / ww), c), dh = Math.min(f(d[j + 3] / wh), c);
      const px = f(f(dx * width) + cx), py = f(f(dy * height) + cy);
      const pw = f(f(Math.exp(dw)) * width), ph = f(f(Math.exp(dh)) * height);
      const hw = f(0.5 * pw), hh = f(0.5 * ph);
      out[j] = px - hw;
      out[j + 1] = py - hh;
      out[j + 2] = px + hw;
      out[j + 3] = py + hh;
    }
  }
  return out;
}

/** Options of {@link decodeBoxesLinear}: torchvision `BoxLinearCoder(normalize_by_size)`. */
export interface BoxLinearCoderOptions {
  /** The distances are in units of the reference box's width / height (FCOS's setting). Default true. */
  normalizeBySize?: boolean;
}

/**
 * `torchvision.models.detection._utils.BoxLinearCoder(normalize_by_size).decode` (FCOS): each
 * reference box's centre minus (l, t) and plus (r, b), the distances scaled by the reference
 * box's width and height when `normalizeBySize`.
 *
 * @param deltas N rows of (l, t, r, b), flat or [N, 4].
 * @param reference N (x1, y1, x2, y2) reference boxes (anchors), flat or [N, 4].
 * @returns N decoded (x1, y1, x2, y2) boxes.
 * @throws ShapeError when deltas and reference boxes differ in count; ValueError for non-finite values.
 */
export function decodeBoxesLinear(deltas: BoxesInput, reference: BoxesInput, options: BoxLinearCoderOptions = {}): Float32Array {
  const ref = boxArray(reference, 'decodeBoxesLinear: reference');
  const d = boxArray(deltas, 'decodeBoxesLinear: deltas');
  if (d.length !== ref.length) throw new ShapeError(`decodeBoxesLinear: ${d.length / 4} delta rows for ${ref.length / 4} reference boxes`);
  const norm = options.normalizeBySize ?? true;
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i += 4) {
    const cx = f(0.5 * f(ref[i] + ref[i + 2])), cy = f(0.5 * f(ref[i + 1] + ref[i + 3]));
    const w = norm ? f(ref[i + 2] - ref[i]) : 1, h = norm ? f(ref[i + 3] - ref[i + 1]) : 1;
    out[i] = cx - f(d[i] * w);
    out[i + 1] = cy - f(d[i + 1] * h);
    out[i + 2] = cx + f(d[i + 2] * w);
    out[i + 3] = cy + f(d[i + 3] * h);
  }
  return out;
}

/**
 * `torchvision.ops.clip_boxes_to_image`: x coordinates clamped to [0, width], y to [0, height].
 *
 * @param boxes (x1, y1, x2, y2) rows, flat or [N, 4].
 * @param imageSize [height, width] (or one number for a square).
 * @returns A new array of the clipped boxes.
 */
export function clipBoxesToImage(boxes: BoxesInput, imageSize: number | readonly [number, number]): Float32Array {
  const b = boxArray(boxes, 'clipBoxesToImage: boxes');
  const [h, w] = sizePair(imageSize as number | number[], 'clipBoxesToImage: imageSize');
  const out = new Float32Array(b.length);
  for (let i = 0; i < b.length; i += 4) {
    out[i] = Math.min(Math.max(b[i], 0), w);
    out[i + 1] = Math.min(Math.max(b[i + 1], 0), h);
    out[i + 2] = Math.min(Math.max(b[i + 2], 0), w);
    out[i + 3] = Math.min(Math.max(b[i + 3], 0), h);
  }
  return out;
}

/**
 * `torchvision.ops.remove_small_boxes`: the indices of the boxes whose width and height are both
 * at least `minSize`.
 *
 * @param boxes (x1, y1, x2, y2) rows, flat or [N, 4].
 * @param minSize The smallest width and height kept (>= 0).
 * @returns Indices of the boxes kept, increasing.
 */
export function removeSmallBoxes(boxes: BoxesInput, minSize: number): Int32Array {
  const b = boxArray(boxes, 'removeSmallBoxes: boxes');
  if (typeof minSize !== 'number' || !(minSize >= 0) || !Number.isFinite(minSize))
    throw new ValueError(`removeSmallBoxes: minSize must be a finite number >= 0, got ${String(minSize)}`);
  const keep: number[] = [];
  const m = f(minSize);
  for (let i = 0; i < b.length; i += 4) if (f(b[i + 2] - b[i]) >= m && f(b[i + 3] - b[i + 1]) >= m) keep.push(i / 4);
  return Int32Array.from(keep);
}

/**
 * The detections kept by NMS (`keep`: indices into the candidates, best first) mapped back to
 * the input image as torchvision's GeneralizedRCNNTransform.postprocess does: resize_boxes
 * multiplies x by the float32 ratio original / resized width, y by the height ratio.
 */
export function keptDetections(
  boxes: Float32Array, scores: ArrayLike<number>, labels: ArrayLike<number>, keep: ArrayLike<number>,
  original: readonly [number, number], resized: readonly [number, number],
): Detections {
  const rh = f(f(original[0]) / f(resized[0])), rw = f(f(original[1]) / f(resized[1]));
  const out: Detections = { boxes: new Float32Array(keep.length * 4), scores: new Float32Array(keep.length), labels: new Int32Array(keep.length) };
  for (let i = 0; i < keep.length; i++) {
    const k = keep[i];
    out.boxes[i * 4] = f(boxes[k * 4] * rw);
    out.boxes[i * 4 + 1] = f(boxes[k * 4 + 1] * rh);
    out.boxes[i * 4 + 2] = f(boxes[k * 4 + 2] * rw);
    out.boxes[i * 4 + 3] = f(boxes[k * 4 + 3] * rh);
    out.scores[i] = scores[k];
    out.labels[i] = labels[k];
  }
  return out;
}
