// Specs for augment.ts (training augmentation: affine warp, resized crop, flip, colour jitter,
// noise, normalise; torchvision 0.14's tensor functional forms) against plain scalar references
// written from torchvision's formulas, on odd sizes (widths not multiples of 4, remainders in
// every dimension), per-image parameters, in-place calls, and split-vs-whole bit identity.
import {
  aug_affine_f32, aug_resized_crop_f32, aug_hflip_f32, aug_brightness_f32, aug_contrast_f32,
  aug_saturation_f32, aug_hue_f32, aug_noise_f32, aug_normal_f32, aug_normalize_f32, aug_hash_u32,
} from '../augment';
import { at, fillRandom, fill, countMismatches, countBitDiffs, floats, resetArena, SPLITS } from './gemm_ref';

const SENTINEL: f32 = 777.25;

/** Random values in [0, 1] (images), from the shared [-1, 1) generator. */
function fillImage(p: usize, n: i32): void {
  fillRandom(p, n);
  for (let i = 0; i < n; i++) store<f32>(at(p, i), Mathf.abs(load<f32>(at(p, i))));
}

function clampRef(v: f64): f64 {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

// ---- affine ---------------------------------------------------------------------------------

/** Pixel (xi, yi) of plane p or 0 outside; inside(...) 1 or 0. */
function pix(p: usize, H: i32, W: i32, xi: i32, yi: i32): f64 {
  if (xi < 0 || yi < 0 || xi >= W || yi >= H) return 0;
  return <f64>load<f32>(at(p, yi * W + xi));
}
function inside(H: i32, W: i32, xi: i32, yi: i32): f64 {
  return xi < 0 || yi < 0 || xi >= W || yi >= H ? 0 : 1;
}

function affineRef(N: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, x: usize, y: usize, mats: usize, fillv: f32): void {
  for (let n = 0; n < N; n++) {
    const m = mats + (<usize>(n * 6) << 2);
    for (let c = 0; c < C; c++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      const sx = <f64>load<f32>(m) * ox + <f64>load<f32>(m, 4) * oy + <f64>load<f32>(m, 8);
      const sy = <f64>load<f32>(m, 12) * ox + <f64>load<f32>(m, 16) * oy + <f64>load<f32>(m, 20);
      const x0 = <i32>Math.floor(sx), y0 = <i32>Math.floor(sy);
      const fx = sx - Math.floor(sx), fy = sy - Math.floor(sy);
      const p = x + (<usize>((n * C + c) * H * W) << 2);
      const v = (1 - fx) * (1 - fy) * pix(p, H, W, x0, y0) + fx * (1 - fy) * pix(p, H, W, x0 + 1, y0)
        + (1 - fx) * fy * pix(p, H, W, x0, y0 + 1) + fx * fy * pix(p, H, W, x0 + 1, y0 + 1);
      const mask = (1 - fx) * (1 - fy) * inside(H, W, x0, y0) + fx * (1 - fy) * inside(H, W, x0 + 1, y0)
        + (1 - fx) * fy * inside(H, W, x0, y0 + 1) + fx * fy * inside(H, W, x0 + 1, y0 + 1);
      store<f32>(at(y, ((n * C + c) * OH + oy) * OW + ox), <f32>(v * mask + (1 - mask) * <f64>fillv));
    }
  }
}

/** Per-image maps: a rotation by `deg` (+ 17° per image) about the centre, scaled, shifted. */
function makeMats(N: i32, H: i32, W: i32, deg: f64, scale: f64, tx: f64, ty: f64): usize {
  const m = floats(N * 6);
  for (let n = 0; n < N; n++) {
    const t = (deg + 17 * n) * Math.PI / 180, cs = Math.cos(t) / scale, sn = Math.sin(t) / scale;
    const cx = (<f64>W - 1) / 2, cy = (<f64>H - 1) / 2;
    store<f32>(at(m, n * 6), <f32>cs);
    store<f32>(at(m, n * 6 + 1), <f32>sn);
    store<f32>(at(m, n * 6 + 2), <f32>(cx - cs * cx - sn * cy - tx));
    store<f32>(at(m, n * 6 + 3), <f32>-sn);
    store<f32>(at(m, n * 6 + 4), <f32>cs);
    store<f32>(at(m, n * 6 + 5), <f32>(cy + sn * cx - cs * cy - ty));
  }
  return m;
}

function runAffine(N: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, deg: f64, scale: f64, tx: f64, ty: f64, fillv: f32): i32 {
  resetArena();
  const inF = N * C * H * W, outF = N * C * OH * OW;
  const x = floats(inF);
  fillImage(x, inF);
  const mats = makeMats(N, H, W, deg, scale, tx, ty);
  const out = floats(outF + 1), ref = floats(outF + 1), part = floats(outF + 1);
  fill(out, outF + 1, SENTINEL);
  fill(ref, outF + 1, SENTINEL);
  aug_affine_f32(N, C, H, W, OH, OW, x, out, mats, fillv, 0, 1);
  affineRef(N, C, H, W, OH, OW, x, ref, mats, fillv);
  let bad = countMismatches(out, ref, outF + 1);
  for (let s = 0; s < SPLITS.length; s++) {
    fill(part, outF + 1, SENTINEL);
    for (let p = 0; p < SPLITS[s]; p++) aug_affine_f32(N, C, H, W, OH, OW, x, part, mats, fillv, p, SPLITS[s]);
    bad += countBitDiffs(part, out, outF + 1);
  }
  return bad;
}

describe('aug_affine_f32', () => {
  it('identity map copies', () => {
    expect<i32>(runAffine(1, 3, 5, 7, 5, 7, 0, 1, 0, 0, 0)).toBe(0);
  });
  it('rotations per image, odd sizes, C = 1..5', () => {
    for (let C = 1; C <= 5; C++) expect<i32>(runAffine(3, C, 13, 17, 13, 17, 33, 1, 0, 0, 0)).toBe(0);
  });
  it('scale, translation, fill, other output size', () => {
    expect<i32>(runAffine(2, 3, 11, 9, 7, 13, -50, 0.8, 2.5, -1.25, 0.5)).toBe(0);
    expect<i32>(runAffine(2, 3, 11, 9, 11, 9, 90, 1.2, 0, 3, 0)).toBe(0);
  });
  it('maps far outside the image give the fill', () => {
    expect<i32>(runAffine(1, 2, 6, 5, 6, 5, 10, 1, 1000, -3000, 0.25)).toBe(0);
  });
});

// ---- resized crop ---------------------------------------------------------------------------

function cropRef(N: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, x: usize, y: usize, boxes: usize): void {
  for (let n = 0; n < N; n++) {
    const top = load<i32>(at(boxes, n * 4)), left = load<i32>(at(boxes, n * 4 + 1));
    const bh = load<i32>(at(boxes, n * 4 + 2)), bw = load<i32>(at(boxes, n * 4 + 3));
    for (let c = 0; c < C; c++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      // torch upsample_bilinear2d, align_corners=False, on the zero-padded crop
      let sy = (<f64>oy + 0.5) * <f64>bh / <f64>OH - 0.5;
      let sx = (<f64>ox + 0.5) * <f64>bw / <f64>OW - 0.5;
      if (sy < 0) sy = 0;
      if (sx < 0) sx = 0;
      const y0 = <i32>sy, x0 = <i32>sx;
      const y1 = min(y0 + 1, bh - 1), x1 = min(x0 + 1, bw - 1);
      const ly = sy - y0, lx = sx - x0;
      const p = x + (<usize>((n * C + c) * H * W) << 2);
      const v = (1 - ly) * ((1 - lx) * pix(p, H, W, left + x0, top + y0) + lx * pix(p, H, W, left + x1, top + y0))
        + ly * ((1 - lx) * pix(p, H, W, left + x0, top + y1) + lx * pix(p, H, W, left + x1, top + y1));
      store<f32>(at(y, ((n * C + c) * OH + oy) * OW + ox), <f32>v);
    }
  }
}

function runCrop(N: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, top: i32, left: i32, bh: i32, bw: i32): i32 {
  resetArena();
  const inF = N * C * H * W, outF = N * C * OH * OW;
  const x = floats(inF);
  fillImage(x, inF);
  const boxes = floats(N * 4);
  for (let n = 0; n < N; n++) {
    // a different box per image: shifted by n, grown by n
    store<i32>(at(boxes, n * 4), top + n);
    store<i32>(at(boxes, n * 4 + 1), left - n);
    store<i32>(at(boxes, n * 4 + 2), bh + n);
    store<i32>(at(boxes, n * 4 + 3), bw + 2 * n);
  }
  const out = floats(outF + 1), ref = floats(outF + 1), part = floats(outF + 1);
  fill(out, outF + 1, SENTINEL);
  fill(ref, outF + 1, SENTINEL);
  aug_resized_crop_f32(N, C, H, W, OH, OW, x, out, boxes, 0, 1);
  cropRef(N, C, H, W, OH, OW, x, ref, boxes);
  let bad = countMismatches(out, ref, outF + 1);
  for (let s = 0; s < SPLITS.length; s++) {
    fill(part, outF + 1, SENTINEL);
    for (let p = 0; p < SPLITS[s]; p++) aug_resized_crop_f32(N, C, H, W, OH, OW, x, part, boxes, p, SPLITS[s]);
    bad += countBitDiffs(part, out, outF + 1);
  }
  return bad;
}

describe('aug_resized_crop_f32', () => {
  it('upsampling crops, per-image boxes', () => {
    expect<i32>(runCrop(3, 3, 13, 17, 13, 17, 2, 5, 6, 7)).toBe(0);
  });
  it('downsampling the whole image, C = 1..4', () => {
    for (let C = 1; C <= 4; C++) expect<i32>(runCrop(1, C, 13, 17, 5, 7, 0, 0, 13, 17)).toBe(0);
  });
  it('boxes reaching outside the image (zero padded)', () => {
    expect<i32>(runCrop(2, 3, 9, 11, 10, 6, -2, 8, 7, 5)).toBe(0);
    expect<i32>(runCrop(2, 3, 9, 11, 9, 10, 1, -3, 6, 8)).toBe(0);
    expect<i32>(runCrop(1, 2, 6, 7, 8, 12, -4, -5, 14, 16)).toBe(0);
  });
  it('one output pixel, one input pixel', () => {
    expect<i32>(runCrop(2, 2, 5, 5, 1, 1, 1, 1, 3, 3)).toBe(0);
    expect<i32>(runCrop(1, 2, 5, 5, 4, 3, 2, 2, 1, 1)).toBe(0);
  });
});

// ---- flip -----------------------------------------------------------------------------------

function runFlip(N: i32, C: i32, H: i32, W: i32, inPlace: bool): i32 {
  resetArena();
  const n = N * C * H * W;
  const x = floats(n), keep = floats(n), ref = floats(n + 1), flags = floats(N);
  fillRandom(x, n);
  memory.copy(keep, x, <usize>n << 2);
  for (let i = 0; i < N; i++) store<i32>(at(flags, i), i % 2 == 0 ? 1 : 0);
  for (let b = 0; b < N; b++) for (let r = 0; r < C * H; r++) for (let j = 0; j < W; j++) {
    const src = b % 2 == 0 ? W - 1 - j : j;
    store<f32>(at(ref, (b * C * H + r) * W + j), load<f32>(at(keep, (b * C * H + r) * W + src)));
  }
  store<f32>(at(ref, n), SENTINEL);
  let out = x;
  if (!inPlace) {
    out = floats(n + 1);
    fill(out, n + 1, SENTINEL);
  }
  aug_hflip_f32(N, C, H, W, x, out, flags);
  return countBitDiffs(out, ref, inPlace ? n : n + 1);
}

describe('aug_hflip_f32', () => {
  it('widths 1..13 (vector and scalar parts), flags per image', () => {
    for (let W = 1; W <= 13; W++) expect<i32>(runFlip(3, 3, 5, W, false)).toBe(0);
  });
  it('in place', () => {
    for (let W = 1; W <= 13; W++) expect<i32>(runFlip(2, 2, 3, W, true)).toBe(0);
  });
});

// ---- colour ---------------------------------------------------------------------------------

const KIND_BRIGHT = 0, KIND_CONTRAST = 1, KIND_SAT = 2, KIND_HUE = 3;

function grayRef(r: f32, g: f32, b: f32): f32 {
  return <f32>0.2989 * r + <f32>0.587 * g + <f32>0.114 * b;
}

/** torchvision's _rgb2hsv → shift → _hsv2rgb, written out per pixel in f64. */
function hueRef(r: f64, g: f64, b: f64, hf: f64, out: StaticArray<f64>): void {
  const mx = Math.max(Math.max(r, g), b), mn = Math.min(Math.min(r, g), b);
  const cr = mx - mn;
  const s = mx == mn ? 0 : cr / mx;
  let h: f64 = 0;
  if (mx != mn) {
    const rc = (mx - r) / cr, gc = (mx - g) / cr, bc = (mx - b) / cr;
    if (mx == r) h = bc - gc;
    else if (mx == g) h = 2 + rc - bc;
    else h = 4 + gc - rc;
  }
  h = (h / 6 + 1) % 1.0;
  h = h + hf;
  h = h - Math.floor(h);
  let i = <i32>Math.floor(h * 6);
  const f = h * 6 - Math.floor(h * 6);
  i = ((i % 6) + 6) % 6;
  const p = clampRef(mx * (1 - s)), q = clampRef(mx * (1 - s * f)), t = clampRef(mx * (1 - s * (1 - f)));
  const v = mx;
  const R: f64[] = [v, q, p, p, t, v], G: f64[] = [t, v, v, q, p, p], B: f64[] = [p, p, t, v, v, q];
  out[0] = R[i];
  out[1] = G[i];
  out[2] = B[i];
}

function colorRef(kind: i32, N: i32, C: i32, HW: i32, x: usize, y: usize, factors: usize): void {
  const o = new StaticArray<f64>(3);
  for (let n = 0; n < N; n++) {
    const f = <f64>load<f32>(at(factors, n));
    const p = x + (<usize>(n * C * HW) << 2), q = y + (<usize>(n * C * HW) << 2);
    let mean: f64 = 0;
    if (kind == KIND_CONTRAST) {
      for (let i = 0; i < HW; i++) {
        if (C == 3) mean += <f64>grayRef(load<f32>(at(p, i)), load<f32>(at(p, HW + i)), load<f32>(at(p, 2 * HW + i)));
        else mean += <f64>load<f32>(at(p, i));
      }
      mean /= HW;
    }
    for (let i = 0; i < HW; i++) {
      if (kind == KIND_HUE) {
        hueRef(load<f32>(at(p, i)), load<f32>(at(p, HW + i)), load<f32>(at(p, 2 * HW + i)), f, o);
        for (let c = 0; c < 3; c++) store<f32>(at(q, c * HW + i), <f32>o[c]);
        continue;
      }
      const g = C == 3 ? <f64>grayRef(load<f32>(at(p, i)), load<f32>(at(p, HW + i)), load<f32>(at(p, 2 * HW + i))) : 0;
      for (let c = 0; c < C; c++) {
        const v = <f64>load<f32>(at(p, c * HW + i));
        const other = kind == KIND_BRIGHT ? 0 : kind == KIND_CONTRAST ? mean : g;
        store<f32>(at(q, c * HW + i), <f32>clampRef(f * v + (1 - f) * other));
      }
    }
  }
}

function runColor(kind: i32, N: i32, C: i32, HW: i32, inPlace: bool): i32 {
  resetArena();
  const n = N * C * HW;
  const x = floats(n + 1), ref = floats(n + 1), factors = floats(N);
  fillImage(x, n);
  // a grey pixel and a saturated one at the start of each image (hue's special cases)
  for (let b = 0; b < N; b++) {
    for (let c = 0; c < C; c++) store<f32>(at(x, (b * C + c) * HW), 0.5);
    if (HW > 1) for (let c = 0; c < C; c++) store<f32>(at(x, (b * C + c) * HW + 1), c == b % C ? 1 : 0);
  }
  for (let b = 0; b < N; b++) {
    const f: f32 = kind == KIND_HUE ? <f32>-0.45 + <f32>0.31 * <f32>b : <f32>0.35 + <f32>0.5 * <f32>b;
    store<f32>(at(factors, b), f);
  }
  store<f32>(at(x, n), SENTINEL);
  colorRef(kind, N, C, HW, x, ref, factors);
  store<f32>(at(ref, n), SENTINEL);
  let out = x;
  if (!inPlace) {
    out = floats(n + 1);
    fill(out, n + 1, SENTINEL);
  }
  if (kind == KIND_BRIGHT) aug_brightness_f32(N, C * HW, x, out, factors);
  else if (kind == KIND_CONTRAST) aug_contrast_f32(N, C, HW, x, out, factors);
  else if (kind == KIND_SAT) aug_saturation_f32(N, HW, x, out, factors);
  else aug_hue_f32(N, HW, x, out, factors);
  return countMismatches(out, ref, n + 1);
}

describe('colour jitter kernels', () => {
  it('brightness, C = 1 and 3, odd planes, per-image factors', () => {
    expect<i32>(runColor(KIND_BRIGHT, 4, 3, 13 * 17, false)).toBe(0);
    expect<i32>(runColor(KIND_BRIGHT, 3, 1, 7, true)).toBe(0);
  });
  it('contrast (grey mean per image), C = 1 and 3', () => {
    expect<i32>(runColor(KIND_CONTRAST, 4, 3, 13 * 17, false)).toBe(0);
    expect<i32>(runColor(KIND_CONTRAST, 3, 1, 11, true)).toBe(0);
  });
  it('saturation, in place and not', () => {
    for (let HW = 1; HW <= 9; HW++) expect<i32>(runColor(KIND_SAT, 3, 3, HW, false)).toBe(0);
    expect<i32>(runColor(KIND_SAT, 4, 3, 13 * 17, true)).toBe(0);
  });
  it('hue over all sectors, in place and not', () => {
    expect<i32>(runColor(KIND_HUE, 4, 3, 13 * 17, false)).toBe(0);
    expect<i32>(runColor(KIND_HUE, 4, 3, 5, true)).toBe(0);
  });
});

// ---- noise, normalise -----------------------------------------------------------------------

/** The documented stream, recomputed exactly: lowbias32 twice, 23-bit uniforms, Box–Muller in f64. */
function lowbias(v: u32): u32 {
  v ^= v >> 16;
  v *= 0x7feb352d;
  v ^= v >> 15;
  v *= 0x846ca68b;
  v ^= v >> 16;
  return v;
}
function hashRef(seed: u32, k: u32): u32 {
  return lowbias(lowbias(k ^ (seed * 0x9e3779b9)) ^ seed);
}
function normalRef(seed: u32, k: u32): f64 {
  const j = k & ~1;
  const u1 = (<f64>(hashRef(seed, j) >> 9) + 0.5) / 8388608.0, u2 = (<f64>(hashRef(seed, j + 1) >> 9) + 0.5) / 8388608.0;
  const r = Math.sqrt(-2 * Math.log(u1));
  return (k & 1) == 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
}

function runNoise(N: i32, CHW: i32, seed: u32, clip: i32): i32 {
  resetArena();
  const n = N * CHW;
  const x = floats(n + 1), out = floats(n + 1), ref = floats(n + 1), stds = floats(N);
  fillImage(x, n);
  for (let b = 0; b < N; b++) store<f32>(at(stds, b), <f32>0.1 * <f32>(b + 1));
  for (let k = 0; k < n; k++) {
    let v = <f64>load<f32>(at(x, k)) + <f64>load<f32>(at(stds, k / CHW)) * normalRef(seed, <u32>k);
    if (clip != 0) v = clampRef(v);
    store<f32>(at(ref, k), <f32>v);
  }
  store<f32>(at(ref, n), SENTINEL);
  fill(out, n + 1, SENTINEL);
  aug_noise_f32(N, CHW, x, out, stds, seed, clip);
  let bad = countMismatches(out, ref, n + 1);
  // in place gives the same
  aug_noise_f32(N, CHW, x, x, stds, seed, clip);
  bad += countBitDiffs(x, out, n);
  return bad;
}

describe('aug_noise_f32', () => {
  it('equals the documented hash + Box–Muller stream, odd image sizes', () => {
    expect<i32>(runNoise(3, 13 * 17 * 3, 7, 0)).toBe(0);
    expect<i32>(runNoise(4, 5, 0xdeadbeef, 1)).toBe(0);
    expect<i32>(runNoise(1, 1, 1, 0)).toBe(0);
  });
  it('every position (vector groups, odd heads, tails) gives aug_normal_f32 bit for bit', () => {
    resetArena();
    const N = 3, CHW = 13, n = N * CHW;
    const x = floats(n), y = floats(n), ones = floats(N);
    fill(ones, N, 1);
    aug_noise_f32(N, CHW, x, y, ones, 99, 0);
    let bad = 0;
    for (let k = 0; k < n; k++) if (load<u32>(at(y, k)) != reinterpret<u32>(aug_normal_f32(99, <u32>k))) bad++;
    expect<i32>(bad).toBe(0);
  });
  it('hash and normal exports follow the same stream', () => {
    expect<u32>(aug_hash_u32(11, 12345)).toBe(hashRef(11, 12345));
    expect<bool>(Math.abs(<f64>aug_normal_f32(5, 9) - normalRef(5, 9)) < 1e-6).toBe(true);
  });
  it('20000 draws: mean ~0, variance ~1, within 2e-6 of the f64 formula', () => {
    let s: f64 = 0, s2: f64 = 0, worst: f64 = 0;
    for (let k: u32 = 0; k < 20000; k++) {
      const z = <f64>aug_normal_f32(3, k);
      worst = Math.max(worst, Math.abs(z - normalRef(3, k)));
      s += z;
      s2 += z * z;
    }
    expect<bool>(Math.abs(s / 20000) < 0.03).toBe(true);
    expect<bool>(Math.abs(s2 / 20000 - 1) < 0.05).toBe(true);
    // the f32 log / sin / cos stay close to the exact formula
    expect<bool>(worst < 2e-6).toBe(true);
  });
});

function runNormalize(N: i32, C: i32, HW: i32): i32 {
  resetArena();
  const n = N * C * HW;
  const x = floats(n + 1), out = floats(n + 1), ref = floats(n + 1), mean = floats(C), std = floats(C);
  fillImage(x, n);
  for (let c = 0; c < C; c++) {
    store<f32>(at(mean, c), <f32>0.4 + <f32>0.03 * <f32>c);
    store<f32>(at(std, c), <f32>0.2 + <f32>0.01 * <f32>c);
  }
  for (let b = 0; b < N; b++) for (let c = 0; c < C; c++) for (let i = 0; i < HW; i++) {
    const k = (b * C + c) * HW + i;
    store<f32>(at(ref, k), (load<f32>(at(x, k)) - load<f32>(at(mean, c))) / load<f32>(at(std, c)));
  }
  store<f32>(at(ref, n), SENTINEL);
  fill(out, n + 1, SENTINEL);
  aug_normalize_f32(N, C, HW, x, out, mean, std);
  // f32 subtract then divide is exact IEEE arithmetic: bit-identical to the reference
  return countBitDiffs(out, ref, n + 1);
}

describe('aug_normalize_f32', () => {
  it('per channel, planes 1..9 and 13·17', () => {
    for (let HW = 1; HW <= 9; HW++) expect<i32>(runNormalize(2, 3, HW)).toBe(0);
    expect<i32>(runNormalize(3, 5, 13 * 17)).toBe(0);
  });
});
