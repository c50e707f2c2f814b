// Data augmentation for training batches, run by the wasm kernels of assembly/augment.ts.
// Every functional form equals torchvision 0.14's tensor functional form for the same parameters
// (torchvision/transforms/functional.py and functional_tensor.py): F.affine and F.rotate
// (bilinear, fill), F.hflip, F.resized_crop (bilinear, antialias=False), F.adjust_brightness,
// adjust_contrast, adjust_saturation, adjust_hue, F.normalize. Gaussian noise follows
// torchvision v2's GaussianNoise (mean 0, sigma, clip to [0, 1]) with its own documented
// counter-based stream (aug_noise_f32: lowbias32 hash of (seed, element index), Box–Muller).
// The random transforms draw their parameters with torchvision's ranges and rules
// (RandomAffine, RandomRotation, RandomHorizontalFlip, RandomResizedCrop with its 10 attempts
// and centre-crop fallback, ColorJitter with its random order) from a seeded Mulberry32
// generator (rng.ts), one draw per image of the batch.
//
// Batches are NCHW float tensors { data: Float32Array, shape: [N, C, H, W] }. Everything here is
// synchronous once `await ready()` has resolved (it creates the shared host kernel instance,
// src/runtime/host.ts); calling a transform before that throws a ValueError saying so.
import { ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import { hostRuntime, type HostRuntime } from '../runtime/host';
import { Rng } from './rng';

export { Rng } from './rng';

let runtime: HostRuntime | undefined;

/**
 * Loads the kernels the augmentation runs on (the shared single-thread host instance). Await it
 * once before calling any transform; afterwards every call here is synchronous. Pass a runtime
 * to run on that one instead (its memory above `base` is used as scratch by each call).
 */
export async function ready(rt?: HostRuntime): Promise<void> {
  runtime = rt ?? (await hostRuntime());
}

/**
 * Load the kernels the augmentation transforms run on (once; the shared host instance). Every
 * transform, pipeline and functional form is synchronous afterwards; before, it is a ValueError.
 */
export function initAugmentation(): Promise<void> {
  return ready();
}

function rtOrThrow(): HostRuntime {
  if (!runtime) throw new ValueError('augmentation: call `await ready()` (from src/train/augment) before applying transforms');
  return runtime;
}

// ---- batches in wasm memory -----------------------------------------------------------------

/** A batch in the kernel memory (internal to the transforms): byte address and NCHW dims. */
export interface Buf {
  p: number;
  n: number;
  c: number;
  h: number;
  w: number;
}

function dims(batch: Tensor, what: string): [number, number, number, number] {
  const s = batch?.shape;
  if (!batch || !(batch.data instanceof Float32Array) || !Array.isArray(s) || s.length !== 4)
    throw new ValueError(`${what}: expected an NCHW batch { data: Float32Array, shape: [N, C, H, W] }, got shape ${JSON.stringify(s)}`);
  if (!s.every((d) => Number.isInteger(d) && d >= 1))
    throw new ValueError(`${what}: batch dimensions must be positive integers, got [${s.join(', ')}]`);
  const count = s[0] * s[1] * s[2] * s[3];
  if (batch.data.length !== count)
    throw new ValueError(`${what}: data has ${batch.data.length} values, shape [${s.join(', ')}] needs ${count}`);
  return [s[0], s[1], s[2], s[3]];
}

function size(b: Buf): number {
  return b.n * b.c * b.h * b.w;
}

function newBuf(rt: HostRuntime, n: number, c: number, h: number, w: number): Buf {
  return { p: rt.mem.alloc(n * c * h * w * 4), n, c, h, w };
}

function copyIn(rt: HostRuntime, batch: Tensor, what: string): Buf {
  const [n, c, h, w] = dims(batch, what);
  rt.mem.reset(rt.base);
  const b = newBuf(rt, n, c, h, w);
  rt.mem.f32.set(batch.data, b.p >>> 2);
  return b;
}

function copyOut(rt: HostRuntime, b: Buf): Tensor {
  const data = rt.mem.f32.slice(b.p >>> 2, (b.p >>> 2) + size(b));
  return { data, shape: [b.n, b.c, b.h, b.w] };
}

/** One value per image: a number for all, or an array of N. */
function perImage<T>(v: T | readonly T[], n: number, what: string): T[] {
  if (Array.isArray(v)) {
    if (v.length !== n) throw new ValueError(`${what}: ${v.length} per-image values for a batch of ${n}`);
    return v.slice() as T[];
  }
  return new Array<T>(n).fill(v as T);
}

function checkChannels(b: Buf, what: string): void {
  if (b.c !== 1 && b.c !== 3) throw new ValueError(`${what}: images must have 1 or 3 channels (torchvision's rule), got ${b.c}`);
}

// ---- the operations on wasm buffers -----------------------------------------------------------

/** Parameters of {@link affine} (torchvision F.affine). */
export interface AffineParams {
  /** Rotation in degrees, clockwise (F.affine's sign; F.rotate's is the opposite). */
  angle: number;
  /** Translation in pixels [x, y] (default [0, 0]). */
  translate?: readonly [number, number];
  /** Scale, > 0 (default 1). */
  scale?: number;
  /** Shear in degrees: x only, or [x, y] (default 0). */
  shear?: number | readonly [number, number];
  /** Value outside the image (default 0). */
  fill?: number;
}

/**
 * The kernel's map (output pixel index → input pixel coordinate) for F.affine's parameters:
 * torchvision's _get_inverse_affine_matrix (centre at the image centre), then its
 * _gen_affine_grid and grid_sample's unnormalisation (align_corners=False) folded in:
 * x_in = m0·(j + ½ − W/2) + m1·(i + ½ − H/2) + m2 + W/2 − ½, and likewise for y.
 */
export function affineMap(p: AffineParams, h: number, w: number): number[] {
  const [tx, ty] = p.translate ?? [0, 0];
  const scale = p.scale ?? 1;
  const shear = typeof p.shear === 'number' ? [p.shear, 0] : p.shear ? [p.shear[0], p.shear[1]] : [0, 0];
  const vals = [p.angle, tx, ty, scale, shear[0], shear[1], p.fill ?? 0];
  if (!vals.every(Number.isFinite)) throw new ValueError(`affine: parameters must be finite numbers, got ${JSON.stringify(p)}`);
  if (!(scale > 0)) throw new ValueError(`affine: scale must be positive, got ${scale}`);
  const rad = Math.PI / 180;
  const rot = p.angle * rad, sx = shear[0] * rad, sy = shear[1] * rad;
  // rotation-shear matrix without scale, [[a, b], [c, d]] (determinant 1)
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  // its inverse over the scale, then the inverse translation (centre (0, 0) in centred coordinates)
  const m0 = d / scale, m1 = -b / scale, m3 = -c / scale, m4 = a / scale;
  const m2 = m0 * -tx + m1 * -ty, m5 = m3 * -tx + m4 * -ty;
  const ox = 0.5 - w / 2, oy = 0.5 - h / 2;
  return [m0, m1, m0 * ox + m1 * oy + m2 + w / 2 - 0.5, m3, m4, m3 * ox + m4 * oy + m5 + h / 2 - 0.5];
}

function opAffine(rt: HostRuntime, x: Buf, params: AffineParams[]): Buf {
  const fills = params.map((p) => p.fill ?? 0);
  const mats = params.flatMap((p) => affineMap(p, x.h, x.w));
  const y = newBuf(rt, x.n, x.c, x.h, x.w);
  const pm = rt.mem.putF32(mats);
  if (fills.every((f) => f === fills[0])) {
    rt.k.aug_affine_f32(x.n, x.c, x.h, x.w, x.h, x.w, x.p, y.p, pm, fills[0], 0, 1);
  } else {
    // one fill per call: image by image
    const img = x.c * x.h * x.w * 4;
    for (let i = 0; i < x.n; i++) rt.k.aug_affine_f32(1, x.c, x.h, x.w, x.h, x.w, x.p + i * img, y.p + i * img, pm + i * 24, fills[i], 0, 1);
  }
  return y;
}

/** A crop box in input pixels (torchvision's top, left, height, width). */
export interface CropBox {
  /** First row, in input pixels (may lie outside the image: zeros there). */
  top: number;
  /** First column, in input pixels. */
  left: number;
  /** Rows taken. */
  height: number;
  /** Columns taken. */
  width: number;
}

function sizePair(size: number | readonly [number, number], what: string): [number, number] {
  const s: [number, number] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  if (!s.every((v) => Number.isInteger(v) && v >= 1)) throw new ValueError(`${what}: size must be positive integers, got ${JSON.stringify(size)}`);
  return s;
}

function opResizedCrop(rt: HostRuntime, x: Buf, boxes: CropBox[], size: [number, number]): Buf {
  const flat: number[] = [];
  for (const b of boxes) {
    const v = [b.top, b.left, b.height, b.width];
    if (!v.every(Number.isInteger) || b.height < 1 || b.width < 1)
      throw new ValueError(`resizedCrop: a box needs integer top/left and positive integer height/width, got ${JSON.stringify(b)}`);
    flat.push(...v);
  }
  const y = newBuf(rt, x.n, x.c, size[0], size[1]);
  const pb = rt.mem.putI32(flat);
  rt.k.aug_resized_crop_f32(x.n, x.c, x.h, x.w, size[0], size[1], x.p, y.p, pb, 0, 1);
  return y;
}

function opFlip(rt: HostRuntime, x: Buf, flags: boolean[]): Buf {
  const pf = rt.mem.putI32(flags.map((f) => (f ? 1 : 0)));
  rt.k.aug_hflip_f32(x.n, x.c, x.h, x.w, x.p, x.p, pf);
  return x;
}

type ColorOp = 'brightness' | 'contrast' | 'saturation' | 'hue';

function checkFactor(op: ColorOp, f: number): void {
  if (op === 'hue' ? !(f >= -0.5 && f <= 0.5) : !(f >= 0 && Number.isFinite(f)))
    throw new ValueError(op === 'hue' ? `adjustHue: factor must be in [-0.5, 0.5], got ${f}` : `adjust ${op}: factor must be finite and >= 0, got ${f}`);
}

/** One colour adjustment on images [first, first + count) in place, one factor each. */
function opColor(rt: HostRuntime, x: Buf, op: ColorOp, factors: number[], first = 0, count = x.n): void {
  checkChannels(x, `adjust ${op}`);
  factors.forEach((f) => checkFactor(op, f));
  const hw = x.h * x.w;
  const p = x.p + first * x.c * hw * 4;
  if ((op === 'saturation' || op === 'hue') && x.c === 1) return; // torchvision: unchanged
  const pf = rt.mem.putF32(factors);
  if (op === 'brightness') rt.k.aug_brightness_f32(count, x.c * hw, p, p, pf);
  else if (op === 'contrast') rt.k.aug_contrast_f32(count, x.c, hw, p, p, pf);
  else if (op === 'saturation') rt.k.aug_saturation_f32(count, hw, p, p, pf);
  else rt.k.aug_hue_f32(count, hw, p, p, pf);
}

function opNoise(rt: HostRuntime, x: Buf, stds: number[], seed: number, clip: boolean): void {
  stds.forEach((s) => {
    if (!(s >= 0 && Number.isFinite(s))) throw new ValueError(`gaussianNoise: std must be finite and >= 0, got ${s}`);
  });
  const ps = rt.mem.putF32(stds);
  rt.k.aug_noise_f32(x.n, x.c * x.h * x.w, x.p, x.p, ps, seed >>> 0, clip ? 1 : 0);
}

function opNormalize(rt: HostRuntime, x: Buf, mean: readonly number[], std: readonly number[]): void {
  if (mean.length !== x.c || std.length !== x.c)
    throw new ValueError(`normalize: ${mean.length} means and ${std.length} stds for ${x.c} channels`);
  if (!std.every((s) => s !== 0 && Number.isFinite(s))) throw new ValueError(`normalize: std must be finite and nonzero, got [${std.join(', ')}]`);
  const pm = rt.mem.putF32(mean), ps = rt.mem.putF32(std);
  rt.k.aug_normalize_f32(x.n, x.c, x.h * x.w, x.p, x.p, pm, ps);
}

// ---- functional forms (explicit parameters; one value for the batch or one per image) -----------

/** torchvision F.affine(img, angle, translate, scale, shear, BILINEAR, fill) on every image (or per image). */
export function affine(batch: Tensor, params: AffineParams | readonly AffineParams[]): Tensor {
  const rt = rtOrThrow();
  const x = copyIn(rt, batch, 'affine');
  return copyOut(rt, opAffine(rt, x, perImage(params, x.n, 'affine')));
}

/** torchvision F.rotate(img, angle, BILINEAR, expand=False, fill): counter-clockwise degrees. */
export function rotate(batch: Tensor, angle: number | readonly number[], fill = 0): Tensor {
  const rt = rtOrThrow();
  const x = copyIn(rt, batch, 'rotate');
  return copyOut(rt, opAffine(rt, x, perImage(angle, x.n, 'rotate').map((a) => ({ angle: -a, fill }))));
}

/** torchvision F.hflip; `flags` (one per image) picks which images flip (default: all). */
export function hflip(batch: Tensor, flags?: readonly boolean[]): Tensor {
  const rt = rtOrThrow();
  const x = copyIn(rt, batch, 'hflip');
  return copyOut(rt, opFlip(rt, x, flags ? perImage(flags, x.n, 'hflip') : new Array<boolean>(x.n).fill(true)));
}

/** torchvision F.resized_crop(img, top, left, height, width, size, BILINEAR, antialias=False). */
export function resizedCrop(batch: Tensor, box: CropBox | readonly CropBox[], size: number | readonly [number, number]): Tensor {
  const rt = rtOrThrow();
  const x = copyIn(rt, batch, 'resizedCrop');
  return copyOut(rt, opResizedCrop(rt, x, perImage(box, x.n, 'resizedCrop'), sizePair(size, 'resizedCrop')));
}

function colorForm(op: ColorOp, batch: Tensor, factor: number | readonly number[]): Tensor {
  const rt = rtOrThrow();
  const x = copyIn(rt, batch, `adjust ${op}`);
  opColor(rt, x, op, perImage(factor, x.n, `adjust ${op}`));
  return copyOut(rt, x);
}

/** torchvision F.adjust_brightness: clamp(f·x, 0, 1). 1 or 3 channels. */
export function adjustBrightness(batch: Tensor, factor: number | readonly number[]): Tensor {
  return colorForm('brightness', batch, factor);
}

/** torchvision F.adjust_contrast: blend with the image's mean grey level, clamped to [0, 1]. */
export function adjustContrast(batch: Tensor, factor: number | readonly number[]): Tensor {
  return colorForm('contrast', batch, factor);
}

/** torchvision F.adjust_saturation: blend with the grey image, clamped to [0, 1] (1 channel: unchanged). */
export function adjustSaturation(batch: Tensor, factor: number | readonly number[]): Tensor {
  return colorForm('saturation', batch, factor);
}

/** torchvision F.adjust_hue: hue shifted by `factor` turns (in [-0.5, 0.5]) in HSV (1 channel: unchanged). */
export function adjustHue(batch: Tensor, factor: number | readonly number[]): Tensor {
  return colorForm('hue', batch, factor);
}

/**
 * x + std·z, z standard normal from the stream `seed` (value k of the batch from
 * aug_normal_f32(seed, k): a lowbias32 hash of (seed, k), 23-bit uniforms, Box–Muller in f32), so the
 * noise depends only on the seed and the element's position. clip (default true, as torchvision
 * v2's GaussianNoise) clamps the result to [0, 1].
 */
export function addGaussianNoise(batch: Tensor, std: number | readonly number[], seed: number, options: { clip?: boolean } = {}): Tensor {
  const rt = rtOrThrow();
  const x = copyIn(rt, batch, 'addGaussianNoise');
  opNoise(rt, x, perImage(std, x.n, 'addGaussianNoise'), seed, options.clip ?? true);
  return copyOut(rt, x);
}

// ---- random transforms ----------------------------------------------------------------------

/** What a transform drew for one batch: its name and one parameter record per image. */
export interface DrawnParams {
  /** The transform's name (e.g. 'randomAffine'). */
  transform: string;
  /** What it drew for each image of the batch, in batch order. */
  perImage: unknown[];
}

/** A random (or fixed) transform for {@link augmentation}; make one with the factories below. */
export interface Transform {
  /** The factory that made it (e.g. 'colorJitter'). */
  readonly name: string;
  /** @internal Draws this batch's parameters and applies them to the batch in wasm memory. */
  run(rt: HostRuntime, x: Buf, rng: Rng): { out: Buf; drawn: unknown[] };
}

/** (lo, hi) from a number d → (center − d, center + d) or a pair, checked against bounds. */
function range(v: number | readonly [number, number], name: string, center: number, lo = -Infinity, hi = Infinity, clipZero = false): [number, number] {
  let r: [number, number];
  if (typeof v === 'number') {
    if (!(v >= 0)) throw new ValueError(`${name}: a single number must be >= 0, got ${v}`);
    r = [center - v, center + v];
    if (clipZero) r[0] = Math.max(r[0], 0);
  } else r = [v[0], v[1]];
  if (!(r[0] <= r[1] && r[0] >= lo && r[1] <= hi && r.every(Number.isFinite)))
    throw new ValueError(`${name}: range must be [min, max] within [${lo}, ${hi}], got [${r.join(', ')}]`);
  return r;
}

/** Python's round(): halves to even (torchvision's int(round(...)) on crop sizes and translations). */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Options of {@link randomAffine}: torchvision RandomAffine's. */
export interface RandomAffineOptions {
  /** Rotation range in degrees: d → [−d, d], or [min, max]. */
  degrees: number | readonly [number, number];
  /** Largest shift as fractions of width and height, [fx, fy] in [0, 1]: shift uniform in ±fx·W, rounded. */
  translate?: readonly [number, number];
  /** Scale range [min, max] (> 0). */
  scale?: readonly [number, number];
  /** Shear in degrees: s → x in [−s, s]; [min, max] for x; [xmin, xmax, ymin, ymax] for both. */
  shear?: number | readonly [number, number] | readonly [number, number, number, number];
  /** Value outside the image (default 0). */
  fill?: number;
}

/** torchvision RandomAffine (bilinear): angle, translation, scale and shear drawn per image. */
export function randomAffine(options: RandomAffineOptions): Transform {
  const degrees = range(options.degrees, 'randomAffine degrees', 0);
  const translate = options.translate;
  if (translate && !(translate.length === 2 && translate.every((t) => t >= 0 && t <= 1)))
    throw new ValueError(`randomAffine: translate must be two fractions in [0, 1], got ${JSON.stringify(translate)}`);
  const scale = options.scale;
  if (scale && !(scale.length === 2 && scale.every((s) => s > 0 && Number.isFinite(s)) && scale[0] <= scale[1]))
    throw new ValueError(`randomAffine: scale must be [min, max] with 0 < min <= max, got ${JSON.stringify(scale)}`);
  let shear: number[] | undefined;
  const sh = options.shear;
  if (sh !== undefined) {
    if (typeof sh === 'number') shear = range(sh, 'randomAffine shear', 0);
    else if (sh.length === 2) shear = range([sh[0], sh[1]], 'randomAffine shear', 0);
    else if (sh.length === 4) shear = [...range([sh[0], sh[1]], 'randomAffine shear x', 0), ...range([sh[2], sh[3]], 'randomAffine shear y', 0)];
    else throw new ValueError(`randomAffine: shear must be a number or 2 or 4 numbers, got ${JSON.stringify(sh)}`);
  }
  const fill = options.fill ?? 0;
  return {
    name: 'randomAffine',
    run(rt, x, rng) {
      const drawn: AffineParams[] = [];
      for (let i = 0; i < x.n; i++) {
        // torchvision's get_params order: angle, tx, ty, scale, shear x, shear y
        const angle = rng.uniform(degrees[0], degrees[1]);
        let t: [number, number] = [0, 0];
        if (translate) {
          const mx = translate[0] * x.w, my = translate[1] * x.h;
          t = [roundHalfEven(rng.uniform(-mx, mx)), roundHalfEven(rng.uniform(-my, my))];
        }
        const s = scale ? rng.uniform(scale[0], scale[1]) : 1;
        let shx = 0, shy = 0;
        if (shear) {
          shx = rng.uniform(shear[0], shear[1]);
          if (shear.length === 4) shy = rng.uniform(shear[2], shear[3]);
        }
        drawn.push({ angle, translate: t, scale: s, shear: [shx, shy], fill });
      }
      return { out: opAffine(rt, x, drawn), drawn };
    },
  };
}

/** torchvision RandomRotation (bilinear, expand=False): angle drawn per image, counter-clockwise. */
export function randomRotation(degrees: number | readonly [number, number], options: { fill?: number } = {}): Transform {
  const r = range(degrees, 'randomRotation degrees', 0);
  const fill = options.fill ?? 0;
  return {
    name: 'randomRotation',
    run(rt, x, rng) {
      const angles = Array.from({ length: x.n }, () => rng.uniform(r[0], r[1]));
      const out = opAffine(rt, x, angles.map((a) => ({ angle: -a, fill })));
      return { out, drawn: angles.map((angle) => ({ angle })) };
    },
  };
}

/** torchvision RandomHorizontalFlip: each image flips with probability p (default 0.5). */
export function randomHorizontalFlip(p = 0.5): Transform {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`randomHorizontalFlip: p must be in [0, 1], got ${p}`);
  return {
    name: 'randomHorizontalFlip',
    run(rt, x, rng) {
      const flags = Array.from({ length: x.n }, () => rng.next() < p);
      return { out: opFlip(rt, x, flags), drawn: flags.map((flip) => ({ flip })) };
    },
  };
}

/** Options of {@link randomResizedCrop}: torchvision's defaults scale [0.08, 1], ratio [3/4, 4/3]. */
export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image's (default [0.08, 1]). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio width / height, drawn log-uniformly (default [3/4, 4/3]). */
  ratio?: readonly [number, number];
}

/**
 * torchvision RandomResizedCrop.get_params: up to 10 attempts of area fraction uniform in
 * `scale` and aspect ratio log-uniform in `ratio`, w = round(√(A·r)), h = round(√(A/r)),
 * accepted when it fits, placed uniformly; else the centre crop clamped to the ratio range.
 */
export function drawCropBox(rng: Rng, height: number, width: number, scale: readonly [number, number], ratio: readonly [number, number]): CropBox {
  const area = height * width;
  const logLo = Math.log(ratio[0]), logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(0, height - h + 1);
      const left = rng.int(0, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width, h = height;
  if (inRatio < Math.min(ratio[0], ratio[1])) h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  else if (inRatio > Math.max(ratio[0], ratio[1])) w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** torchvision RandomResizedCrop (bilinear, antialias=False): a box per image, resized to `size`. */
export function randomResizedCrop(size: number | readonly [number, number], options: RandomResizedCropOptions = {}): Transform {
  const out = sizePair(size, 'randomResizedCrop');
  const scale = options.scale ?? [0.08, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  if (!(scale[0] <= scale[1] && scale[0] >= 0 && Number.isFinite(scale[1])))
    throw new ValueError(`randomResizedCrop: scale must be [min, max] with 0 <= min <= max, got ${JSON.stringify(scale)}`);
  if (!(ratio[0] <= ratio[1] && ratio[0] > 0 && Number.isFinite(ratio[1])))
    throw new ValueError(`randomResizedCrop: ratio must be [min, max] with 0 < min <= max, got ${JSON.stringify(ratio)}`);
  return {
    name: 'randomResizedCrop',
    run(rt, x, rng) {
      const boxes = Array.from({ length: x.n }, () => drawCropBox(rng, x.h, x.w, scale, ratio));
      return { out: opResizedCrop(rt, x, boxes, out), drawn: boxes };
    },
  };
}

/** Options of {@link colorJitter}: torchvision ColorJitter's (a number d: [max(0, 1 − d), 1 + d]; hue h: [−h, h]). */
export interface ColorJitterOptions {
  /** Factor range: d gives [max(0, 1 - d), 1 + d], or a [min, max] pair. */
  brightness?: number | readonly [number, number];
  /** Factor range, as brightness. */
  contrast?: number | readonly [number, number];
  /** Factor range, as brightness (three channels). */
  saturation?: number | readonly [number, number];
  /** Hue shift range in turns: h gives [-h, h] (h ≤ 0.5), or a pair within [-0.5, 0.5]. */
  hue?: number | readonly [number, number];
}

/**
 * torchvision ColorJitter: per image a random order of the four adjustments (randperm(4)) and a
 * factor for each one asked for; adjustments whose range is exactly [1, 1] ([0, 0] for hue) are skipped.
 */
export function colorJitter(options: ColorJitterOptions): Transform {
  const ops: ColorOp[] = ['brightness', 'contrast', 'saturation', 'hue'];
  const ranges = ops.map((op) => {
    const v = options[op];
    if (v === undefined) return undefined;
    const r = op === 'hue' ? range(v, 'colorJitter hue', 0, -0.5, 0.5) : range(v, `colorJitter ${op}`, 1, 0, Infinity, true);
    const center = op === 'hue' ? 0 : 1;
    return r[0] === center && r[1] === center ? undefined : r;
  });
  return {
    name: 'colorJitter',
    run(rt, x, rng) {
      const drawn = [];
      for (let i = 0; i < x.n; i++) {
        // torchvision's get_params order: the permutation, then b, c, s, h
        const order = rng.permutation(4);
        const factors = ranges.map((r) => (r ? rng.uniform(r[0], r[1]) : undefined));
        const rec: Record<string, unknown> = { order: order.filter((k) => factors[k] !== undefined).map((k) => ops[k]) };
        for (const k of order) {
          const f = factors[k];
          if (f === undefined) continue;
          rec[ops[k]] = f;
          opColor(rt, x, ops[k], [f], i, 1);
        }
        drawn.push(rec);
      }
      return { out: x, drawn };
    },
  };
}

/**
 * Gaussian noise with standard deviation `std` (a number, or [min, max] drawn per image),
 * modelled on torchvision v2's GaussianNoise (mean 0, clip to [0, 1] unless clip: false). Each
 * apply draws a 32-bit stream seed from the pipeline's generator (see {@link addGaussianNoise}).
 */
export function gaussianNoise(std: number | readonly [number, number], options: { clip?: boolean } = {}): Transform {
  const r: [number, number] = typeof std === 'number' ? [std, std] : [std[0], std[1]];
  if (!(r[0] >= 0 && r[0] <= r[1] && Number.isFinite(r[1]))) throw new ValueError(`gaussianNoise: std must be >= 0 (or [min, max]), got ${JSON.stringify(std)}`);
  const clip = options.clip ?? true;
  return {
    name: 'gaussianNoise',
    run(rt, x, rng) {
      const seed = rng.nextU32();
      const stds = Array.from({ length: x.n }, () => (r[0] === r[1] ? r[0] : rng.uniform(r[0], r[1])));
      opNoise(rt, x, stds, seed, clip);
      return { out: x, drawn: stds.map((s) => ({ std: s, seed })) };
    },
  };
}

/** torchvision Normalize as a transform: (x − mean[c]) / std[c]. */
export function normalize(mean: readonly number[], std: readonly number[]): Transform;
/** torchvision F.normalize on a batch: (x − mean[c]) / std[c]. */
export function normalize(batch: Tensor, mean: readonly number[], std: readonly number[]): Tensor;
export function normalize(a: Tensor | readonly number[], b: readonly number[], c?: readonly number[]): Transform | Tensor {
  if (!Array.isArray(a)) {
    const rt = rtOrThrow();
    const x = copyIn(rt, a as Tensor, 'normalize');
    opNormalize(rt, x, b, c ?? []);
    return copyOut(rt, x);
  }
  const mean = (a as readonly number[]).slice(), std = b.slice();
  return {
    name: 'normalize',
    run(rt, x) {
      opNormalize(rt, x, mean, std);
      return { out: x, drawn: new Array<unknown>(x.n).fill({}) };
    },
  };
}

// ---- the pipeline ---------------------------------------------------------------------------

/** A seeded augmentation pipeline (see {@link augmentation}). */
export interface Augmentation {
  /**
   * Applies the transforms in order to a batch, each image with its own draw; returns a new
   * tensor (the input is not modified). Synchronous; needs `await ready()` first. Successive
   * calls continue the generator, so a pipeline made again with the same seed repeats them all.
   */
  apply(batch: Tensor): Tensor;
  /** What the last `apply` drew, one entry per transform (empty before the first). */
  params(): DrawnParams[];
}

/** Options of {@link augmentation}. */
export interface AugmentationOptions {
  /** Seed of the Mulberry32 generator every draw comes from (default 0). */
  seed?: number;
}

/**
 * A pipeline of transforms (randomAffine, randomRotation, randomHorizontalFlip,
 * randomResizedCrop, colorJitter, gaussianNoise, normalize) applied in order with parameters
 * drawn per image from one seeded generator: the same seed gives the same augmented batches.
 */
export function augmentation(transforms: readonly Transform[], options: AugmentationOptions = {}): Augmentation {
  const rng = new Rng(options.seed ?? 0);
  const list = transforms.slice();
  let last: DrawnParams[] = [];
  return {
    apply(batch: Tensor): Tensor {
      const rt = rtOrThrow();
      let x = copyIn(rt, batch, 'augmentation.apply');
      const drawnAll: DrawnParams[] = [];
      for (const t of list) {
        const { out, drawn } = t.run(rt, x, rng);
        x = out;
        drawnAll.push({ transform: t.name, perImage: drawn });
      }
      last = drawnAll;
      return copyOut(rt, x);
    },
    params() {
      return last;
    },
  };
}
