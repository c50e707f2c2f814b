// Anchor boxes of the anchor-based detectors, as torchvision 0.14 makes them:
// - AnchorGenerator (Faster R-CNN, Ren et al. 2015; RetinaNet, Lin et al. 2017): per level, base
//   anchors (−w/2, −h/2, w/2, h/2) for every aspect ratio × size (h = size·√r, w = size/√r, in
//   float32, rounded half to even), shifted to every cell at the level's stride
//   (image size // map size, integer division);
// - DefaultBoxGenerator (SSD, Liu et al. 2016): per level, (cx, cy, w, h) default boxes for
//   scales s_k and √(s_k·s_k+1) and each aspect ratio's pair, centred at (i + 0.5) / f_k, clipped
//   to [0, 1] when asked, then scaled to image pixels as (x1, y1, x2, y2).
// Plain host functions: they run once per image size.
import { ValueError } from '../errors';
import { sizePair } from './args';

const f = Math.fround;

/** torch.round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function positiveList(v: readonly number[], what: string): readonly number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0))
    throw new ValueError(`${what} must be a non-empty list of finite numbers > 0, got ${JSON.stringify(v)}`);
  return v;
}

function sizeList(v: readonly (number | readonly number[])[], what: string): [number, number][] {
  if (!Array.isArray(v) || v.length === 0) throw new ValueError(`${what} must be a non-empty list of [height, width] sizes`);
  return v.map((s, i) => sizePair(s as number | number[], `${what}[${i}]`));
}

/**
 * Base anchors of one level (torchvision `AnchorGenerator.generate_anchors`): for each aspect
 * ratio r (height / width), for each size s: (−w/2, −h/2, w/2, h/2) with h = s·√r, w = s/√r,
 * rounded half to even. Returns A·4 values, A = ratios × sizes.
 */
export function baseAnchors(sizes: readonly number[], aspectRatios: readonly number[]): Float32Array {
  positiveList(sizes, 'baseAnchors: sizes');
  positiveList(aspectRatios, 'baseAnchors: aspectRatios');
  const out = new Float32Array(sizes.length * aspectRatios.length * 4);
  let o = 0;
  for (const r of aspectRatios) {
    const hr = f(Math.sqrt(f(r)));
    const wr = f(1 / hr);
    for (const s of sizes) {
      const w = f(wr * f(s)), h = f(hr * f(s));
      out[o++] = roundHalfEven(f(-w / 2));
      out[o++] = roundHalfEven(f(-h / 2));
      out[o++] = roundHalfEven(f(w / 2));
      out[o++] = roundHalfEven(f(h / 2));
    }
  }
  return out;
}

/** Options of {@link gridAnchors}: torchvision `AnchorGenerator(sizes, aspect_ratios)`. */
export interface AnchorOptions {
  /** Anchor sizes (pixels) per level, e.g. `[[32], [64], [128], [256], [512]]` (Faster R-CNN FPN). */
  sizes: readonly (readonly number[])[];
  /** Aspect ratios (height / width) per level, e.g. `[[0.5, 1, 2], …]` (one list per level). */
  aspectRatios: readonly (readonly number[])[];
}

/**
 * All anchors of an image, equal to torchvision's `AnchorGenerator(sizes, aspect_ratios)` for one
 * image: level by level, cell by cell (row-major), the level's base anchors shifted by the cell's
 * offset (x·stride_w, y·stride_h), stride = image size // map size.
 *
 * @param imageSize The size of the batched (padded) image tensor, [height, width].
 * @param featureSizes Each level's map size [height, width], in the order of `options.sizes`.
 * @returns (x1, y1, x2, y2) rows: Σ H·W·A anchors · 4 values.
 * @throws ValueError when the number of levels of sizes, ratios and maps differ, or a size is not positive.
 */
export function gridAnchors(imageSize: number | readonly [number, number], featureSizes: readonly (number | readonly [number, number])[], options: AnchorOptions): Float32Array {
  const [ih, iw] = sizePair(imageSize as number | number[], 'gridAnchors: imageSize');
  const grids = sizeList(featureSizes, 'gridAnchors: featureSizes');
  const { sizes, aspectRatios } = options ?? ({} as AnchorOptions);
  if (!Array.isArray(sizes) || !Array.isArray(aspectRatios) || sizes.length !== grids.length || aspectRatios.length !== grids.length)
    throw new ValueError(`gridAnchors: options.sizes, options.aspectRatios and featureSizes must have one entry per level (got ${sizes?.length}, ${aspectRatios?.length}, ${grids.length})`);
  const bases = grids.map((_, l) => baseAnchors(sizes[l], aspectRatios[l]));
  const total = grids.reduce((t, [h, w], l) => t + h * w * bases[l].length, 0);
  const out = new Float32Array(total);
  let o = 0;
  grids.forEach(([gh, gw], l) => {
    const sh = Math.floor(ih / gh), sw = Math.floor(iw / gw);
    const base = bases[l];
    for (let y = 0; y < gh; y++)
      for (let x = 0; x < gw; x++) {
        const dx = x * sw, dy = y * sh;
        for (let a = 0; a < base.length; a += 4) {
          out[o++] = dx + base[a];
          out[o++] = dy + base[a + 1];
          out[o++] = dx + base[a + 2];
          out[o++] = dy + base[a + 3];
        }
      }
  });
  return out;
}

/** Options of {@link defaultBoxes}: torchvision `DefaultBoxGenerator`. */
export interface DefaultBoxOptions {
  /** Extra aspect ratios per level (each adds a (w, h) and an (h, w) box), e.g. `[[2, 3], …]`. */
  aspectRatios: readonly (readonly number[])[];
  /** Smallest scale when `scales` is not given. Default 0.15. */
  minRatio?: number;
  /** Largest scale when `scales` is not given. Default 0.9. */
  maxRatio?: number;
  /** Scales s_k per level plus one more (levels + 1 values); default: evenly from minRatio to maxRatio, then 1. */
  scales?: readonly number[];
  /** Stride per level in pixels (ssd300: [8, 16, 32, 64, 100, 300]); default: the map size sets the centres. */
  steps?: readonly number[];
  /** Clip each (w, h) to [0, 1] before scaling. Default true. */
  clip?: boolean;
}

/** torchvision's ssdlite320_mobilenet_v3_large default boxes: `DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95)`. */
export const SSDLITE320_DEFAULT_BOXES: DefaultBoxOptions = /*#__PURE__*/ Object.freeze({
  aspectRatios: [[2, 3], [2, 3], [2, 3], [2, 3], [2, 3], [2, 3]],
  minRatio: 0.2,
  maxRatio: 0.95,
});

/** torchvision's ssd300_vgg16 default boxes (scales 0.07 … 1.05, steps 8 … 300). */
export const SSD300_DEFAULT_BOXES: DefaultBoxOptions = /*#__PURE__*/ Object.freeze({
  aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
  scales: [0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
  steps: [8, 16, 32, 64, 100, 300],
});

/**
 * SSD default boxes of an image, equal to torchvision's `DefaultBoxGenerator` for one image:
 * level by level, cell by cell (row-major), box by box, as (x1, y1, x2, y2) in pixels of the
 * batched image tensor.
 *
 * @param imageSize The batched image tensor's [height, width] (e.g. 320 for ssdlite320).
 * @param featureSizes Each level's map size (a number for square maps, or [height, width]).
 * @returns Σ H·W·(2 + 2·ratios) boxes · 4 values.
 * @throws ValueError when the levels of ratios, scales, steps and maps disagree, or values are not positive.
 */
export function defaultBoxes(imageSize: number | readonly [number, number], featureSizes: readonly (number | readonly [number, number])[], options: DefaultBoxOptions): Float32Array {
  const [ih, iw] = sizePair(imageSize as number | number[], 'defaultBoxes: imageSize');
  const grids = sizeList(featureSizes, 'defaultBoxes: featureSizes');
  const ratios = options?.aspectRatios;
  const L = grids.length;
  if (!Array.isArray(ratios) || ratios.length !== L)
    throw new ValueError(`defaultBoxes: options.aspectRatios must have one list per level (${L}), got ${JSON.stringify(ratios)}`);
  ratios.forEach((r, l) => {
    // an empty list is allowed (the level has its two square boxes only)
    if (!Array.isArray(r) || r.length > 0) positiveList(r, `defaultBoxes: aspectRatios[${l}]`);
  });
  let scales: readonly number[];
  if (options.scales !== undefined) {
    scales = positiveList(options.scales, 'defaultBoxes: scales');
    if (scales.length !== L + 1) throw new ValueError(`defaultBoxes: scales must have levels + 1 = ${L + 1} values, got ${scales.length}`);
  } else {
    const lo = options.minRatio ?? 0.15, hi = options.maxRatio ?? 0.9;
    positiveList([lo, hi], 'defaultBoxes: [minRatio, maxRatio]');
    if (L > 1) {
      const range = hi - lo;
      const s: number[] = [];
      for (let k = 0; k < L; k++) s.push(lo + (range * k) / (L - 1.0));
      s.push(1.0);
      scales = s;
    } else scales = [lo, hi];
  }
  if (options.steps !== undefined) {
    positiveList(options.steps, 'defaultBoxes: steps');
    if (options.steps.length !== L) throw new ValueError(`defaultBoxes: steps must have one value per level (${L}), got ${options.steps.length}`);
  }
  const clip = options.clip ?? true;
  const pairs = grids.map((_, k) => {
    const sk = scales[k], sp = Math.sqrt(scales[k] * scales[k + 1]);
    const wh: number[] = [sk, sk, sp, sp];
    for (const ar of ratios[k]) {
      const q = Math.sqrt(ar);
      const w = scales[k] * q, h = scales[k] / q;
      wh.push(w, h, h, w);
    }
    return wh.map((v) => f(clip ? Math.min(Math.max(f(v), 0), 1) : v));
  });
  const total = grids.reduce((t, [h, w], k) => t + h * w * pairs[k].length * 2, 0); // (w, h) pairs → 4 values a box
  const out = new Float32Array(total);
  let o = 0;
  grids.forEach(([gh, gw], k) => {
    // centres (i + 0.5) / f_k in float32, f_k = image / step (a double made float32) or the map size
    const fx = f(options.steps ? iw / options.steps[k] : gw), fy = f(options.steps ? ih / options.steps[k] : gh);
    const wh = pairs[k];
    for (let y = 0; y < gh; y++) {
      const cy = f((y + 0.5) / fy);
      for (let x = 0; x < gw; x++) {
        const cx = f((x + 0.5) / fx);
        for (let p = 0; p < wh.length; p += 2) {
          const hw = f(0.5 * wh[p]), hh = f(0.5 * wh[p + 1]);
          out[o++] = f(f(cx - hw) * iw);
          out[o++] = f(f(cy - hh) * ih);
          out[o++] = f(f(cx + hw) * iw);
          out[o++] = f(f(cy + hh) * ih);
        }
      }
    }
  });
  return out;
}
