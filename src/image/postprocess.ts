// From a model's output to an answer: softmax over the class axis (max-subtracted, in float64,
// so large logits neither overflow nor lose the small classes), top-k with labels, and for
// semantic segmentation the per-pixel argmax class map and a colour overlay in the Pascal VOC
// palette (the VOC development kit's bit-interleaved colour map) blended over the input image.
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import { labelSet, type LabelSetName } from '../labels/index';
import type { RawImage } from '../runtime/platform';

function checkTensor(t: Tensor, what: string): void {
  if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape))
    throw new ValueError(`${what}: expected a tensor { data: Float32Array, shape: number[] }`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) throw new ShapeError(`${what}: shape [${t.shape.join(', ')}] holds ${n} values but data has ${t.data.length}`);
}

/**
 * Softmax over one axis (default: the class axis 1 of `[N, C, ...]`, or axis 0 of a 1-D
 * tensor): exp(x − max) / Σ exp(x − max), computed in float64. Returns a new tensor of the same shape.
 */
export function softmax(t: Tensor, axis?: number): Tensor {
  checkTensor(t, 'softmax');
  const rank = t.shape.length;
  const ax = axis ?? (rank >= 2 ? 1 : 0);
  if (!Number.isInteger(ax) || ax < -rank || ax >= rank)
    throw new ValueError(`softmax: axis ${String(axis)} is outside a tensor of rank ${rank}`);
  const a = ax < 0 ? ax + rank : ax;
  const outer = t.shape.slice(0, a).reduce((x, y) => x * y, 1);
  const C = t.shape[a];
  const inner = t.shape.slice(a + 1).reduce((x, y) => x * y, 1);
  const out = new Float32Array(t.data.length);
  const e = new Float64Array(C);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * C * inner + i;
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, t.data[base + c * inner]);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += e[c] = Math.exp(t.data[base + c * inner] - max);
      for (let c = 0; c < C; c++) out[base + c * inner] = e[c] / sum;
    }
  }
  return { data: out, shape: t.shape.slice() };
}

/** One entry of a top-k list. */
export interface Prediction {
  /** Class index in the model's output. */
  index: number;
  /** The class name from the labels, or the index as a string when no labels were given. */
  label: string;
  /** The output value as given (pass softmax output for probabilities). */
  score: number;
}

function topKRow(row: ArrayLike<number>, k: number, labels: readonly string[] | undefined, what: string): Prediction[] {
  const C = row.length;
  const order: number[] = [];
  for (let i = 0; i < C; i++) {
    if (Number.isNaN(row[i])) throw new ValueError(`topK: ${what} holds NaN at class ${i}`);
    order.push(i);
  }
  // highest score first; equal scores keep the lower index first (Array.prototype.sort is stable)
  order.sort((a, b) => row[b] - row[a]);
  return order.slice(0, Math.min(k, C)).map((i) => ({ index: i, label: labels ? labels[i] : String(i), score: row[i] }));
}

/**
 * The k highest-scoring classes, best first (ties: lower index first; k larger than the class
 * count gives every class). `labels`: class names, or a label set name ('imagenet', 'coco',
 * 'voc', 'mnist'); their count must equal the class count.
 *
 * - a `Tensor` `[N, C]` (or `[N, C, 1, 1]`): one list per batch item, `Prediction[][]`;
 * - a flat array of C scores (`Float32Array`, `number[]`): one list, `Prediction[]`.
 */
export function topK(output: Tensor, k: number, labels?: readonly string[] | LabelSetName): Prediction[][];
export function topK(output: Float32Array | readonly number[], k: number, labels?: readonly string[] | LabelSetName): Prediction[];
export function topK(
  output: Tensor | Float32Array | readonly number[],
  k: number,
  labels?: readonly string[] | LabelSetName,
): Prediction[] | Prediction[][] {
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`topK: k must be a positive integer, got ${String(k)}`);
  const names = typeof labels === 'string' ? labelSet(labels) : labels;
  const flat = output instanceof Float32Array || Array.isArray(output);
  let N: number;
  let C: number;
  if (flat) {
    N = 1;
    C = (output as ArrayLike<number>).length;
  } else {
    const t = output as Tensor;
    checkTensor(t, 'topK');
    const s = t.shape;
    if (s.length < 2 || s.slice(2).some((d) => d !== 1))
      throw new ShapeError(`topK: expected scores [N, C] (or [N, C, 1, 1]), got shape [${s.join(', ')}]; for a segmentation map use segmentationMap`);
    [N, C] = s;
  }
  if (names && names.length !== C)
    throw new ValueError(`topK: ${names.length} labels for an output of ${C} classes${typeof labels === 'string' ? ` (label set '${labels}')` : ''}`);
  if (flat) return topKRow(output as ArrayLike<number>, k, names, 'the output');
  const data = (output as Tensor).data;
  return Array.from({ length: N }, (_, n) => topKRow(data.subarray(n * C, (n + 1) * C), k, names, `batch item ${n}`));
}

/** Per-pixel classes of a segmentation output. */
export interface ClassMap {
  /** Class index per pixel, row-major. */
  data: Int32Array;
  /** Width in pixels (the logits' W). */
  width: number;
  /** Height in pixels (the logits' H). */
  height: number;
  /** Number of classes in the logits. */
  classes: number;
}

/**
 * Segmentation logits `[N, C, H, W]` → the class of each pixel (argmax over C; ties: lower
 * class) for batch item `item` (default 0).
 */
export function segmentationMap(logits: Tensor, item = 0): ClassMap {
  checkTensor(logits, 'segmentationMap');
  if (logits.shape.length !== 4) throw new ShapeError(`segmentationMap: expected logits [N, C, H, W], got [${logits.shape.join(', ')}]`);
  const [N, C, H, W] = logits.shape;
  if (!Number.isInteger(item) || item < 0 || item >= N) throw new ValueError(`segmentationMap: item ${item} is outside a batch of ${N}`);
  const plane = H * W;
  const base = item * C * plane;
  const data = new Int32Array(plane);
  const best = logits.data.slice(base, base + plane);
  for (let c = 1; c < C; c++) {
    const off = base + c * plane;
    for (let p = 0; p < plane; p++) {
      const v = logits.data[off + p];
      if (v > best[p]) {
        best[p] = v;
        data[p] = c;
      }
    }
  }
  return { data, width: W, height: H, classes: C };
}

/**
 * The Pascal VOC colour map, `n` RGB triples (default 256): class i's bits 0/1/2 go to the top
 * bits of R/G/B, then bits 3/4/5 to the next bits, and so on (background black, class 1
 * (128, 0, 0), class 15 'person' (192, 128, 128)).
 */
export function vocPalette(n = 256): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    let r = 0;
    let g = 0;
    let b = 0;
    for (let j = 0, c = i; j < 8; j++, c >>= 3) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
    }
    out.set([r, g, b], i * 3);
  }
  return out;
}

/** Options of `segmentationOverlay`. */
export interface OverlayOptions {
  /** Weight of the class colour: 0 leaves the image, 1 paints solid colour. Default 0.5. */
  alpha?: number;
  /** RGB triples, one per class. Default: the Pascal VOC colour map. */
  palette?: Uint8Array | readonly number[];
  /** A class left uncoloured (the image shows through), or null to colour every class. Default 0 (background). */
  background?: number | null;
}

/**
 * A colour overlay of a class map on the image it came from: the map is scaled to the image size
 * (nearest, PyTorch's rule: source = floor(dst · in / out)) and each pixel becomes
 * round((1 − alpha) · image + alpha · colour) per channel. Returns RGBA pixels, alpha 255.
 * `image` may have 1, 3 or 4 channels (e.g. fromImage's decoded input; `toRawImage`).
 */
export function segmentationOverlay(map: ClassMap, image: RawImage, options: OverlayOptions = {}): RawImage {
  const alpha = options.alpha ?? 0.5;
  if (!(typeof alpha === 'number' && alpha >= 0 && alpha <= 1)) throw new ValueError(`segmentationOverlay: alpha must be in [0, 1], got ${String(alpha)}`);
  const palette = options.palette ?? vocPalette();
  const background = options.background === undefined ? 0 : options.background;
  const colours = Math.floor(palette.length / 3);
  const { width: W, height: H, channels: ch } = image;
  if (!(ch === 1 || ch === 3 || ch === 4) || !(W > 0 && H > 0) || image.data.length < W * H * ch)
    throw new ValueError(`segmentationOverlay: the image must be { data, width, height, channels: 1 | 3 | 4 } with width·height·channels bytes`);
  if (map.data.length !== map.width * map.height) throw new ShapeError(`segmentationOverlay: the class map is ${map.width}x${map.height} but holds ${map.data.length} values`);
  const out = new Uint8Array(W * H * 4);
  const sy = Math.fround(map.height / H);
  const sx = Math.fround(map.width / W);
  const near = (o: number, s: number, n: number, out: number) => (n === out ? o : Math.min(Math.floor(Math.fround(o * s)), n - 1));
  for (let y = 0; y < H; y++) {
    const my = near(y, sy, map.height, H);
    for (let x = 0; x < W; x++) {
      const c = map.data[my * map.width + near(x, sx, map.width, W)];
      const p = y * W + x;
      const paint = c !== background && c >= 0 && c < colours;
      if (c >= colours) throw new ValueError(`segmentationOverlay: class ${c} has no colour in a palette of ${colours}`);
      for (let k = 0; k < 3; k++) {
        const v = image.data[p * ch + (ch === 1 ? 0 : k)];
        out[p * 4 + k] = paint ? Math.round((1 - alpha) * v + alpha * palette[c * 3 + k]) : v;
      }
      out[p * 4 + 3] = 255;
    }
  }
  return { data: out, width: W, height: H, channels: 4 };
}
