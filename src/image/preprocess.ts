// Preprocessing of decoded pixels into the NCHW float tensor a CNN takes, equal to torchvision's
// tensor pipeline: to_tensor (x / 255) → [Grayscale] → Resize(size, interpolation, antialias) →
// CenterCrop(crop) → Normalize(mean, std). The coordinate rules are PyTorch's (torch 1.13
// `interpolate`, align_corners=False): antialiased bilinear is the separable triangle filter of
// `_upsample_bilinear2d_aa` (PIL's), whose support scales with the downsampling factor; plain
// bilinear the 2-tap `upsample_bilinear2d`; antialiased bicubic the same separable filter with
// Keys' cubic kernel (a = −0.5, `_upsample_bicubic2d_aa`); plain bicubic the 4-tap
// `upsample_bicubic2d` (a = −0.75, border samples repeated); nearest the legacy 'nearest'
// (floor(o · in/out)).
// Output sizes follow torchvision 0.14's `_compute_resized_output_size` and `center_crop` (zero
// padding when the crop is larger, offsets rounded half to even as Python's round).
//
// The host turns these rules into per-axis tables (start, count, weights) for the crop window
// only, and lists the source rows the vertical windows read (all of them when antialiasing, a
// few when nearest-sampling a large image); assembly/image.ts runs the two passes and the
// normalisation in one wasm instance that is
// created on first use, reused, and grows to the largest image seen (memory is never returned
// to the engine, but a call allocates nothing once it has seen a larger image).
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import type { Kernels } from '../runtime/kernels';
import type { Mem } from '../runtime/memory';
import type { RawImage } from '../runtime/platform';
import { hostRuntime, type HostRuntime } from '../runtime/host';

/** Options of `fromImage`: torchvision's Resize → CenterCrop → Normalize, in that order. */
export interface ImageOptions {
  /**
   * Resize. A number: the shorter side becomes `size`, the longer keeps the aspect ratio
   * (truncated, as torchvision's `Resize(int)`); `[height, width]`: exactly that size.
   * Omitted: no resize.
   */
  size?: number | readonly [number, number];
  /**
   * Center crop after the resize: a number (square) or `[height, width]`. A crop larger than
   * the image pads with zeros (before normalisation), as torchvision's CenterCrop. Omitted: no crop.
   */
  crop?: number | readonly [number, number];
  /** Per-channel mean subtracted from the [0, 1]-scaled values (one value, or one per channel). Default 0. */
  mean?: readonly number[];
  /** Per-channel divisor after the mean (one value, or one per channel). Default 1. */
  std?: readonly number[];
  /**
   * Channels of the tensor: 3 (RGB; a grey image is repeated) or 1 (grey; colour images are
   * converted with torchvision's `rgb_to_grayscale` weights 0.2989 R + 0.587 G + 0.114 B).
   * An alpha channel is always dropped. Default 3.
   */
  channels?: 1 | 3;
  /**
   * Resampling for `size`, as torch 1.13's `interpolate(align_corners=False)` on the float tensor
   * (torchvision 0.14's `Resize(size, interpolation, antialias)` on a tensor):
   * - 'bilinear' (default): with `antialias`, the triangle filter widened by the down-sampling
   *   factor (PIL's); without, 2-tap bilinear.
   * - 'bicubic': with `antialias`, Keys' cubic convolution with a = −0.5 widened by the
   *   down-sampling factor, weights normalised per output (PIL's BICUBIC; up-sampling uses the
   *   same 4-tap a = −0.5 filter); without, 4-tap cubic convolution with a = −0.75 and samples
   *   past the border repeated (torch's plain bicubic). Values may overshoot [0, 1] before
   *   normalisation, as torchvision's on float tensors (no clamping).
   * - 'nearest': PyTorch's legacy 'nearest' (source = floor(o · in / out)); `antialias` is ignored.
   *
   * The `interpolation` of a zoo model's `modelPreprocessing(name)` is one of these.
   */
  interpolation?: 'bilinear' | 'bicubic' | 'nearest';
  /**
   * Bilinear and bicubic: low-pass filter when down-sampling (PIL, torchvision >= 0.17 default,
   * `antialias=True`). Default true; false gives torch `interpolate`'s plain 2-tap bilinear or
   * 4-tap bicubic.
   */
  antialias?: boolean;
  /**
   * Not used here: a zoo model's `modelPreprocessing(name)` carries its label set, and passes to
   * `fromImage` as it is.
   */
  labels?: string;
  /** Not used here: where a zoo model's preprocessing comes from (see `labels`). */
  reference?: string;
}

/** An output axis of the pipeline: `out` values read through a (start, count, weights) table. */
export interface AxisTable {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  /** Widest window (weights per entry). */
  K: number;
}

const f = Math.fround;

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535)
    throw new ValueError(`fromImage: ${what} must be an integer from 1 to 65535, got ${String(v)}`);
  return v;
}

function pair(v: number | readonly [number, number], what: string): [number, number] {
  if (typeof v === 'number') return [positiveInt(v, what), positiveInt(v, what)];
  if (!Array.isArray(v) || v.length !== 2)
    throw new ValueError(`fromImage: ${what} must be a number or [height, width], got ${JSON.stringify(v)}`);
  return [positiveInt(v[0], `${what}[0] (height)`), positiveInt(v[1], `${what}[1] (width)`)];
}

/** torchvision 0.14 `_compute_resized_output_size`: [height, width] after Resize(size). */
export function resizedSize(height: number, width: number, size: number | readonly [number, number]): [number, number] {
  if (typeof size !== 'number') return pair(size, 'size');
  const s = positiveInt(size, 'size');
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((s * long) / short);
  return width <= height ? [newLong, s] : [s, newLong];
}

/** Python's round() (half to even) of d / 2 for an integer d >= 0. */
function halfRoundEven(d: number): number {
  if (d % 2 === 0) return d / 2;
  const h = (d - 1) / 2;
  return h % 2 === 0 ? h : h + 1;
}

/** First resized index of a centered window of `crop` over `size` (negative: zero padding, torchvision's split). */
export function cropOffset(size: number, crop: number): number {
  return crop > size ? -Math.floor((crop - size) / 2) : halfRoundEven(size - crop);
}

/** Resampling rule of an axis: antialiased or plain bilinear, antialiased or plain bicubic, legacy nearest. */
export type Mode = 'aa' | 'linear' | 'cubic-aa' | 'cubic' | 'nearest';

/** aten's antialiasing triangle filter (bilinear, interp_size 2), in float. */
const triangle = (x: number): number => (x < 1 ? f(1 - x) : 0);

/**
 * aten's antialiasing cubic filter (bicubic, interp_size 4): Keys' cubic convolution with
 * a = −0.5 (PIL's), formed in double from the float distance and rounded.
 */
function keysHalf(x: number): number {
  const a = -0.5;
  if (x < 1) return f(((a + 2) * x - (a + 3)) * x * x + 1);
  if (x < 2) return f((((x - 5) * x + 8) * x - 4) * a);
  return 0;
}

/** Keys' cubic convolution with a = −0.75, the four taps of aten's plain bicubic at fraction t. */
function cubicCoefficients(t: number): [number, number, number, number] {
  const A = -0.75;
  const near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1; // |x| <= 1
  const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 < |x| < 2
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/**
 * Table for output indices lo .. lo + n − 1 of an axis resized from `inSize` to `outSize`
 * (indices outside 0 .. outSize − 1 are padding: count 0).
 */
export function axisTable(inSize: number, outSize: number, lo: number, n: number, mode: Mode): AxisTable {
  const windows: { s: number; w: number[] }[] = [];
  const scale = f(inSize / outSize);
  for (let c = 0; c < n; c++) {
    const o = lo + c;
    if (o < 0 || o >= outSize) {
      windows.push({ s: 0, w: [] });
      continue;
    }
    if (mode === 'nearest') {
      // aten nearest_idx: identity and exact 2x up-sampling are special-cased
      let i: number;
      if (outSize === inSize) i = o;
      else if (outSize === 2 * inSize) i = o >> 1;
      else i = Math.min(Math.floor(f(o * scale)), inSize - 1);
      windows.push({ s: i, w: [1] });
    } else if (mode === 'linear') {
      // aten upsample_bilinear2d, align_corners=False: src = scale (o + 0.5) − 0.5, clamped at 0
      // (scale in float; torch 1.13's CPU build forms src and the weights in double, then rounds)
      const src = Math.max(scale * (o + 0.5) - 0.5, 0);
      const i0 = Math.trunc(src);
      const l1 = Math.min(Math.max(src - i0, 0), 1);
      if (i0 < inSize - 1) windows.push({ s: i0, w: [f(1 - l1), f(l1)] });
      else windows.push({ s: i0, w: [f(f(1 - l1) + f(l1))] });
    } else if (mode === 'cubic') {
      // aten upsample_bicubic2d, align_corners=False: src = scale (o + 0.5) − 0.5, not clamped;
      // taps floor(src) − 1 .. floor(src) + 2 at fraction t = src − floor(src), each index
      // clamped into the image (scale in float, src and the weights in double, as for bilinear).
      // Clamped taps that land on the same border sample are merged, so the window stays a run
      // of consecutive samples.
      const src = scale * (o + 0.5) - 0.5;
      const i0 = Math.floor(src);
      const taps = cubicCoefficients(src - i0);
      const at = (k: number) => Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      const s = at(0);
      const w = new Array<number>(at(3) - s + 1).fill(0);
      for (let k = 0; k < 4; k++) w[at(k) - s] += taps[k];
      windows.push({ s, w: w.map(f) });
    } else {
      // aten _compute_weights_aa, in float as aten does: the filter (triangle for bilinear,
      // interp_size 2; cubic a = −0.5 for bicubic, interp_size 4) stretched by the
      // down-sampling factor, centred on scale (o + 0.5), weights normalised to sum 1
      const cubic = mode === 'cubic-aa';
      const filter = cubic ? keysHalf : triangle;
      const half = cubic ? 2 : 1; // interp_size / 2
      const support = scale >= 1 ? f(half * scale) : half;
      const invscale = scale >= 1 ? f(1 / scale) : 1;
      const center = f(scale * (o + 0.5));
      const xmin = Math.max(Math.trunc(f(center - support) + 0.5), 0);
      const xsize = Math.min(Math.trunc(f(center + support) + 0.5), inSize) - xmin;
      const w: number[] = [];
      let total = 0;
      for (let j = 0; j < xsize; j++) {
        const v = filter(Math.abs(f((f(j + xmin - center) + 0.5) * invscale)));
        w.push(v);
        total = f(total + v);
      }
      if (total !== 0) for (let j = 0; j < xsize; j++) w[j] = f(w[j] / total);
      windows.push({ s: xmin, w });
    }
  }
  const K = Math.max(1, ...windows.map((x) => x.w.length));
  const t: AxisTable = { start: new Int32Array(n), count: new Int32Array(n), weights: new Float32Array(n * K), K };
  windows.forEach((x, i) => {
    t.start[i] = x.s;
    t.count[i] = x.w.length;
    t.weights.set(x.w, i * K);
  });
  return t;
}

function perChannel(v: readonly number[] | undefined, C: number, dflt: number, what: string): number[] {
  if (v === undefined) return new Array<number>(C).fill(dflt);
  if (!Array.isArray(v) || (v.length !== 1 && v.length !== C) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw new ValueError(`fromImage: ${what} must be 1 or ${C} finite numbers (one per channel), got ${JSON.stringify(v)}`);
  if (what === 'std' && v.some((x) => x === 0)) throw new ValueError(`fromImage: std must not contain 0, got ${JSON.stringify(v)}`);
  return v.length === C ? v.slice() : new Array<number>(C).fill(v[0]);
}

/** Checks a RawImage's fields; returns its row stride in bytes. */
export function checkRawImage(img: RawImage, what = 'image'): number {
  if (!img || typeof img !== 'object') throw new ValueError(`fromImage: ${what} is not an image`);
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ValueError(`fromImage: ${what} has size ${String(width)}x${String(height)}; width and height must be positive integers`);
  if (channels !== 1 && channels !== 3 && channels !== 4)
    throw new ValueError(`fromImage: ${what} has ${String(channels)} channels; RawImage channels must be 1, 3 or 4`);
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray))
    throw new ValueError(`fromImage: ${what}.data must be a Uint8Array or Uint8ClampedArray of 8-bit samples`);
  const need = width * height * channels;
  if (data.length < need)
    throw new ValueError(`fromImage: ${what} is ${width}x${height} with ${channels} channels (${need} bytes) but its data holds ${data.length} bytes`);
  return width * channels;
}

/** Options checked and resolved against an image's size. */
interface Plan {
  C: 1 | 3;
  gray: boolean;
  outH: number;
  outW: number;
  y: AxisTable;
  x: AxisTable;
  mean: number[];
  std: number[];
}

function plan(img: RawImage, o: ImageOptions): Plan {
  if (o === null || typeof o !== 'object') throw new ValueError('fromImage: options must be an object');
  const known = ['size', 'crop', 'mean', 'std', 'channels', 'interpolation', 'antialias', 'labels', 'reference'];
  for (const key of Object.keys(o))
    if (!known.includes(key)) throw new ValueError(`fromImage: unknown option '${key}' (known: ${known.join(', ')})`);
  const C = o.channels ?? 3;
  if (C !== 1 && C !== 3) throw new ValueError(`fromImage: channels must be 1 or 3, got ${String(C)}`);
  const interp = o.interpolation ?? 'bilinear';
  if (interp !== 'bilinear' && interp !== 'bicubic' && interp !== 'nearest')
    throw new ValueError(`fromImage: interpolation must be 'bilinear', 'bicubic' or 'nearest', got '${String(interp)}'`);
  if (o.antialias !== undefined && typeof o.antialias !== 'boolean')
    throw new ValueError(`fromImage: antialias must be true or false, got ${String(o.antialias)}`);
  const aa = o.antialias !== false;
  const mode: Mode = interp === 'nearest' ? 'nearest' : interp === 'bicubic' ? (aa ? 'cubic-aa' : 'cubic') : aa ? 'aa' : 'linear';
  const [rh, rw] = o.size === undefined ? [img.height, img.width] : resizedSize(img.height, img.width, o.size);
  const [outH, outW] = o.crop === undefined ? [rh, rw] : pair(o.crop, 'crop');
  return {
    C,
    gray: C === 1 && img.channels !== 1,
    outH,
    outW,
    y: axisTable(img.height, rh, cropOffset(rh, outH), outH, mode),
    x: axisTable(img.width, rw, cropOffset(rw, outW), outW, mode),
    mean: perChannel(o.mean, C, 0, 'mean'),
    std: perChannel(o.std, C, 1, 'std'),
  };
}

/** The kernel instance preprocessing runs on: the shared host instance (src/runtime/host.ts). */
export const preprocessRuntime = hostRuntime;

/**
 * Decoded pixels → NCHW float tensor [1, C, H, W] (see ImageOptions), on the wasm kernels.
 * Synchronous once `preprocessRuntime()` has resolved; `fromImage` is the usual entry.
 */
export async function preprocess(img: RawImage, options: ImageOptions = {}): Promise<Tensor> {
  const rt = await preprocessRuntime();
  return preprocessWith(rt, img, options);
}

function preprocessWith(rt: HostRuntime, img: RawImage, options: ImageOptions): Tensor {
  const stride = checkRawImage(img);
  const p = plan(img, options);
  const { mem, k } = rt;
  // the source rows some vertical window reads, in order (a window's rows stay consecutive in
  // the list, so its start becomes the list position of its first row)
  const used = new Int32Array(img.height).fill(-1);
  for (let i = 0; i < p.outH; i++) for (let r = 0; r < p.y.count[i]; r++) used[p.y.start[i] + r] = 0;
  const rows: number[] = [];
  used.forEach((u, r) => {
    if (u === 0) used[r] = rows.push(r) - 1;
  });
  const vStart = p.y.start.map((s, i) => (p.y.count[i] ? used[s] : 0));
  mem.reset(rt.base);
  const srcBytes = img.height * stride;
  const src = mem.alloc(srcBytes + 4); // + 4: a 3-byte pixel is read as 4 bytes
  const xs = mem.alloc(p.outW * 4);
  const xc = mem.alloc(p.outW * 4);
  const xw = mem.alloc(p.outW * p.x.K * 4);
  const rowList = mem.alloc(rows.length * 4);
  const ys = mem.alloc(p.outH * 4);
  const yc = mem.alloc(p.outH * 4);
  const yw = mem.alloc(p.outH * p.y.K * 4);
  const mean = mem.alloc(16);
  const std = mem.alloc(16);
  const mid = mem.alloc(rows.length * p.outW * 16);
  const out = mem.alloc(p.C * p.outH * p.outW * 4);
  const u8 = new Uint8Array(mem.memory.buffer);
  u8.set(img.data.subarray(0, srcBytes), src);
  u8.fill(0, src + srcBytes, src + srcBytes + 4);
  const i32 = mem.i32;
  const f32 = mem.f32;
  i32.set(p.x.start, xs >> 2);
  i32.set(p.x.count, xc >> 2);
  f32.set(p.x.weights, xw >> 2);
  i32.set(rows, rowList >> 2);
  i32.set(vStart, ys >> 2);
  i32.set(p.y.count, yc >> 2);
  f32.set(p.y.weights, yw >> 2);
  // lanes: one per channel (a grey tensor reads lane 0; the unused lane gets a harmless 1)
  const lanes = (v: number[]) => [0, 1, 2, 3].map((c) => (c < p.C ? v[c] : p.C === 1 ? v[0] : 1));
  f32.set(lanes(p.mean), mean >> 2);
  f32.set(lanes(p.std), std >> 2);
  k.image_resample_h(src, stride, img.channels, rowList, rows.length, p.outW, xs, xc, xw, p.x.K, mid);
  k.image_resample_v(mid, p.outW, p.outH, ys, yc, yw, p.y.K, p.gray ? 1 : 0, mean, std, p.C, out);
  const n = p.C * p.outH * p.outW;
  const data = mem.f32.slice(out >> 2, (out >> 2) + n);
  return { data, shape: [1, p.C, p.outH, p.outW] };
}

/** Stacks [1, C, H, W] tensors into [N, C, H, W]; a ShapeError names the first that differs. */
export function concatBatch(parts: Tensor[]): Tensor {
  const s = parts[0].shape;
  parts.forEach((t, i) => {
    if (t.shape.some((d, j) => d !== s[j]))
      throw new ShapeError(
        `fromImages: image ${i} comes out ${t.shape.slice(1).join('x')} but image 0 comes out ${s.slice(1).join('x')}; give crop or size: [h, w] so every image has one size`,
      );
  });
  const size = parts[0].data.length;
  const data = new Float32Array(size * parts.length);
  parts.forEach((t, i) => data.set(t.data, i * size));
  return { data, shape: [parts.length, s[1], s[2], s[3]] };
}
