// Non-maximum suppression: greedy NMS as torchvision.ops.nms and its class-aware form
// torchvision.ops.batched_nms (torchvision 0.14). Boxes are visited in decreasing score order
// (ties: the lower index first, the order of the stable sort torchvision's nms kernel asks of
// torch.sort); a box is dropped when its IoU with an already kept box of the same class is
// strictly greater than the threshold. batched_nms separates classes by offsetting each class's
// coordinates up to 1,000 boxes (its IoUs can then round differently by an ulp, which matters only
// for an IoU within ~1e-7 of the threshold) and by one nms per class above, where it re-sorts the
// kept boxes with torch.sort(stable=False), whose order among equal scores is arbitrary: only
// there can the order of tied detections differ from torchvision's (the set is the same).
// The sort runs here (one native Float64Array sort of packed (score, index) keys: ~1 ms for
// 10,000 boxes, a few percent of the whole); IoU and the suppression loop run in wasm
// (assembly/detect.ts, vectorised over the later boxes), in float32 exactly as torchvision.
import { ShapeError, ValueError } from '../errors';
import { type BoxesInput, boxArray, integer, unitInterval } from './args';
import { hostRuntime } from '../runtime/host';

/** Options of {@link nonMaxSuppression}. */
export interface NmsOptions {
  /**
   * A box is suppressed when its IoU with a kept, higher-scoring box (of the same class, with
   * `classes`) is strictly greater than this (torchvision's rule). In [0, 1]; default 0.5.
   */
  iouThreshold?: number;
  /**
   * Boxes whose score is not strictly greater than this are dropped before suppression (as
   * torchvision's detectors and ONNX NonMaxSuppression filter). In [0, 1]; default: keep every score.
   */
  scoreThreshold?: number;
  /**
   * Class of each box (N integers): boxes of different classes never suppress each other
   * (`torchvision.ops.batched_nms`). Omitted: one class (`torchvision.ops.nms`).
   */
  classes?: Int32Array | readonly number[];
  /** Keep at most this many boxes (the highest-scoring survivors). Default: no limit. */
  maxDetections?: number;
}

/** Positions up to 2^21 fit beside a 32-bit score key in a double's 53-bit mantissa. */
const POS_BITS = 2 ** 21;

/**
 * Positions of `scores` in decreasing score order, ties by increasing position (a stable sort).
 * Each key is (flipped order-preserving score bits) · 2^21 + position, exact in a double, so
 * the engine's native numeric sort does the work.
 */
export function sortByScore(scores: Float32Array, candidates: Int32Array): Int32Array {
  const m = candidates.length;
  const out = new Int32Array(m);
  if (m > POS_BITS) {
    out.set(candidates);
    out.sort((a, b) => scores[b] - scores[a] || a - b);
    return out;
  }
  const keys = new Float64Array(m);
  // made here, not at module level, so that bundles which never call this drop the module whole
  const bits = new Float32Array(1);
  const bitsU = new Uint32Array(bits.buffer);
  for (let i = 0; i < m; i++) {
    bits[0] = scores[candidates[i]] + 0; // -0 + 0 = +0: both zeros tie, as in torch.sort
    const u = bitsU[0];
    const mono = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0; // increasing with the score
    keys[i] = (0xffffffff - mono) * POS_BITS + i;
  }
  keys.sort();
  for (let i = 0; i < m; i++) out[i] = candidates[keys[i] % POS_BITS];
  return out;
}

/**
 * The `k` best of `scores` (positions), in {@link sortByScore}'s order: decreasing score, ties by
 * increasing position; equal to sorting them all and keeping the first k (torch's
 * `scores.topk(k)` up to the order of equal scores), in linear time plus a sort of the k: a
 * quickselect finds the k-th score, then the positions above it and the first ones at it are
 * sorted. For heads whose candidates run into millions (a dense detector's anchors × classes).
 */
export function topkByScore(scores: Float32Array, k: number): Int32Array {
  const n = scores.length;
  if (n <= k) return sortByScore(scores, Int32Array.from(scores.keys()));
  if (k <= 0) return new Int32Array(0);
  const a = scores.slice();
  // quickselect (Hoare partition, median of three, decreasing order) for the k-th largest
  let lo = 0, hi = n - 1;
  const t = k - 1;
  let kth = NaN;
  while (Number.isNaN(kth)) {
    if (lo >= hi) {
      kth = a[t];
      break;
    }
    const mid = (lo + hi) >> 1;
    const x = a[lo], y = a[mid], z = a[hi];
    const pivot = x > y ? (y > z ? y : x > z ? z : x) : x > z ? x : y > z ? z : y;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const v = a[i];
        a[i] = a[j];
        a[j] = v;
        i++;
        j--;
      }
    }
    if (t <= j) hi = j;
    else if (t >= i) lo = i;
    else kth = a[t];
  }
  const picked = new Int32Array(k);
  let m = 0;
  for (let i = 0; i < n; i++) if (scores[i] > kth) picked[m++] = i;
  for (let i = 0; i < n && m < k; i++) if (scores[i] === kth) picked[m++] = i;
  return sortByScore(scores, picked);
}

/**
 * Greedy non-maximum suppression, equal to `torchvision.ops.nms(boxes, scores, iou_threshold)`,
 * or with `classes` to `torchvision.ops.batched_nms(boxes, scores, classes, iou_threshold)`.
 *
 * @param boxes (x1, y1, x2, y2) per box: a Float32Array of N·4 values or a `{ data, shape: [N, 4] }`
 *   tensor. Values must be finite; zero-area and inverted boxes are taken as torchvision takes them
 *   (a zero-area box suppresses nothing and is suppressed by nothing).
 * @param scores One score per box (N finite numbers; any range, e.g. logits), compared as float32
 *   (as torchvision's float tensors): plain numbers are rounded to float32 first.
 * @returns The indices of the kept boxes (into `boxes`), in decreasing score order; equal scores
 *   keep their index order (torchvision's order on CPU).
 * @throws ShapeError when the counts of boxes, scores and classes differ; ValueError for
 *   non-finite boxes or scores, thresholds outside [0, 1], a negative or fractional maxDetections.
 */
export async function nonMaxSuppression(boxes: BoxesInput, scores: Float32Array | readonly number[], options: NmsOptions = {}): Promise<Int32Array> {
  const b = boxArray(boxes, 'nonMaxSuppression: boxes');
  const n = b.length / 4;
  const iou = unitInterval(options.iouThreshold, 0.5, 'nonMaxSuppression: iouThreshold');
  const scoreThr = options.scoreThreshold === undefined ? undefined : unitInterval(options.scoreThreshold, 0, 'nonMaxSuppression: scoreThreshold');
  const maxDet = integer(options.maxDetections, 0, 0, 'nonMaxSuppression: maxDetections');
  if (options.maxDetections === 0) return new Int32Array(0);
  if (!scores || typeof scores.length !== 'number') throw new ValueError('nonMaxSuppression: scores must be a Float32Array or an array of numbers');
  if (scores.length !== n) throw new ShapeError(`nonMaxSuppression: ${n} boxes but ${scores.length} scores`);
  const s = scores instanceof Float32Array ? scores : Float32Array.from(scores);
  for (let i = 0; i < n; i++) if (!Number.isFinite(s[i])) throw new ValueError(`nonMaxSuppression: scores[${i}] is ${s[i]}; scores must be finite`);
  let cls: Int32Array | undefined;
  if (options.classes !== undefined) {
    const c = options.classes;
    if (!c || typeof c.length !== 'number') throw new ValueError('nonMaxSuppression: classes must be an Int32Array or an array of integers');
    if (c.length !== n) throw new ShapeError(`nonMaxSuppression: ${n} boxes but ${c.length} classes`);
    for (let i = 0; i < n; i++)
      if (!Number.isInteger(c[i]) || c[i] < -(2 ** 31) || c[i] >= 2 ** 31) throw new ValueError(`nonMaxSuppression: classes[${i}] is ${c[i]}; classes must be 32-bit integers`);
    cls = c instanceof Int32Array ? c : Int32Array.from(c);
  }
  let candidates: Int32Array;
  if (scoreThr === undefined) {
    candidates = new Int32Array(n);
    for (let i = 0; i < n; i++) candidates[i] = i;
  } else {
    let m = 0;
    const tmp = new Int32Array(n);
    for (let i = 0; i < n; i++) if (s[i] > scoreThr) tmp[m++] = i;
    candidates = tmp.subarray(0, m);
  }
  const order = sortByScore(s, candidates);
  return suppress(b, order, cls, iou, maxDet);
}

/**
 * The wasm suppression loop over `order` (box indices by decreasing score): returns the kept
 * indices, at most maxKeep (0: no limit). For the detection heads that sort their own candidates.
 */
export async function suppress(boxes: Float32Array, order: Int32Array, classes: Int32Array | undefined, iou: number, maxKeep: number): Promise<Int32Array> {
  const m = order.length;
  if (m === 0) return new Int32Array(0);
  const { mem, k, base } = await hostRuntime();
  mem.reset(base);
  const x1 = mem.alloc(m * 4), y1 = mem.alloc(m * 4), x2 = mem.alloc(m * 4), y2 = mem.alloc(m * 4);
  const area = mem.alloc(m * 4), dead = mem.alloc(m * 4), keep = mem.alloc(m * 4);
  const cls = classes ? mem.alloc(m * 4) : 0;
  const f = mem.f32, i32 = mem.i32;
  const X1 = x1 >> 2, Y1 = y1 >> 2, X2 = x2 >> 2, Y2 = y2 >> 2, CL = cls >> 2;
  for (let j = 0; j < m; j++) {
    const o = order[j] * 4;
    f[X1 + j] = boxes[o];
    f[Y1 + j] = boxes[o + 1];
    f[X2 + j] = boxes[o + 2];
    f[Y2 + j] = boxes[o + 3];
    if (classes) i32[CL + j] = classes[order[j]];
  }
  const kept = k.nms_f32(m, x1, y1, x2, y2, area, cls, iou, maxKeep, dead, keep);
  const out = new Int32Array(kept);
  const K = keep >> 2;
  for (let j = 0; j < kept; j++) out[j] = order[mem.i32[K + j]];
  return out;
}
