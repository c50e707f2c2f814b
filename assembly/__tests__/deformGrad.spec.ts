// Specs for deformGrad.ts (deformable convolution training kernels, NCHW, torchvision layouts):
// deform_im2col_f32 against a plain scalar reference with torchvision's bilinear rule; the input,
// offset and mask gradients against central finite differences of the scalar loss
// L = Σ r·cols computed in f64 (r random); offsets keep every sample position's fractional part
// in [0.1, 0.9] (away from the interpolant's kinks at integers) and reach outside the image on
// every side. Odd channels and sizes, KH != KW, strides and dilations 1..2, asymmetric pads,
// offset groups 1..3, with and without mask, large offsets and small ones (runs of
// positions with every corner inside); every kernel split into 2, 3 and 5 parts must give
// the whole call's bits.
import { deform_im2col_f32, deform_col2im_f32, deform_grad_offset_f32 } from '../deformGrad';
import { at, ld, fail, check, bitDiffs, fillRandom, fill, floats, resetArena, SPLITS } from './gemm_ref';

// the case under test
let C = 0, H = 0, W = 0, KH = 0, KW = 0, SH = 0, SW = 0, PT = 0, PL = 0, DH = 0, DW = 0, OH = 0, OW = 0, OG = 0;
let X: usize = 0, OFF: usize = 0, MASK: usize = 0, R: usize = 0;
// a perturbation the reference loss applies while reading: tensor 0 = x, 1 = offset, 2 = mask
let pertKind = -1, pertIdx = -1;
let pertDelta: f64 = 0;

function val(kind: i32, p: usize, i: i32): f64 {
  let v = <f64>ld(p, i);
  if (kind == pertKind && i == pertIdx) v += pertDelta;
  return v;
}

/** torchvision's bilinear sample of channel c at (y, x), in f64. */
function sampleRef(c: i32, y: f64, x: f64): f64 {
  if (y <= -1 || y >= <f64>H || x <= -1 || x >= <f64>W) return 0;
  const y0 = <i32>Math.floor(y), x0 = <i32>Math.floor(x), y1 = y0 + 1, x1 = x0 + 1;
  const ly = y - <f64>y0, lx = x - <f64>x0, hy = 1 - ly, hx = 1 - lx;
  let v: f64 = 0;
  const base = c * H * W;
  if (y0 >= 0 && x0 >= 0) v += hy * hx * val(0, X, base + y0 * W + x0);
  if (y0 >= 0 && x1 < W) v += hy * lx * val(0, X, base + y0 * W + x1);
  if (y1 < H && x0 >= 0) v += ly * hx * val(0, X, base + y1 * W + x0);
  if (y1 < H && x1 < W) v += ly * lx * val(0, X, base + y1 * W + x1);
  return v;
}

/** cols entry (c, kh, kw, oh, ow) written the plainest way, in f64. */
function colRef(c: i32, kh: i32, kw: i32, oh: i32, ow: i32): f64 {
  const KK = KH * KW, OHW = OH * OW;
  const og = c / (C / OG);
  const tap = kh * KW + kw;
  const p = oh * OW + ow;
  const dy = val(1, OFF, (og * 2 * KK + 2 * tap) * OHW + p);
  const dx = val(1, OFF, (og * 2 * KK + 2 * tap + 1) * OHW + p);
  const m: f64 = MASK != 0 ? val(2, MASK, (og * KK + tap) * OHW + p) : 1;
  const y = <f64>(oh * SH - PT + kh * DH) + dy;
  const x = <f64>(ow * SW - PL + kw * DW) + dx;
  return m * sampleRef(c, y, x);
}

/** L = Σ r · cols, f64. */
function lossRef(): f64 {
  let L: f64 = 0;
  for (let c = 0; c < C; c++)
    for (let kh = 0; kh < KH; kh++)
      for (let kw = 0; kw < KW; kw++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            const row = (c * KH + kh) * KW + kw;
            L += <f64>ld(R, row * OH * OW + oh * OW + ow) * colRef(c, kh, kw, oh, ow);
          }
  return L;
}

/** Central difference of lossRef in element i of tensor `kind`. */
function fd(kind: i32, i: i32, h: f64): f64 {
  pertKind = kind;
  pertIdx = i;
  pertDelta = h;
  const up = lossRef();
  pertDelta = -h;
  const down = lossRef();
  pertKind = -1;
  return (up - down) / (2 * h);
}

/** Mismatches of n floats at got against the finite differences of tensor `kind`. */
function checkFd(got: usize, kind: i32, n: i32, what: string): i32 {
  let bad = 0;
  let scale: f64 = 0;
  const want = new Array<f64>(n);
  for (let i = 0; i < n; i++) {
    want[i] = fd(kind, i, 1e-3);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  for (let i = 0; i < n; i++) {
    const g = <f64>ld(got, i);
    if (!(Math.abs(g - want[i]) <= 1e-4 * (scale + 1))) {
      if (bad == 0) fail(`${what}: element ${i} of ${n} got ${g} want ${want[i]}`);
      bad++;
    }
  }
  return bad;
}

/** Random offsets in about [-reach, reach] whose fractional part lies in [0.1, 0.9]. */
function fillOffsets(p: usize, n: i32, reach: f32): void {
  fillRandom(p, n);
  for (let i = 0; i < n; i++) {
    const v = ld(p, i) * reach;
    const f = v - Mathf.floor(v);
    store<f32>(at(p, i), Mathf.floor(v) + 0.1 + 0.8 * f);
  }
}

/** One geometry: forward against the reference, gradients against finite differences, parts vs whole. */
function runCase(
  c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, pb: i32, pr: i32,
  dh: i32, dw: i32, og: i32, withMask: bool, reach: f32 = 3.5,
): i32 {
  resetArena();
  C = c; H = h; W = w; KH = kh; KW = kw; SH = sh; SW = sw; PT = pt; PL = pl; DH = dh; DW = dw; OG = og;
  OH = (H + pt + pb - ((KH - 1) * DH + 1)) / SH + 1;
  OW = (W + pl + pr - ((KW - 1) * DW + 1)) / SW + 1;
  const KK = KH * KW, OHW = OH * OW;
  const nx = C * H * W, noff = 2 * OG * KK * OHW, nm = OG * KK * OHW, ncols = C * KK * OHW;
  X = floats(nx);
  OFF = floats(noff);
  MASK = withMask ? floats(nm) : 0;
  R = floats(ncols);
  fillRandom(X, nx);
  fillOffsets(OFF, noff, reach);
  if (withMask) fillRandom(MASK, nm);
  fillRandom(R, ncols);
  let bad = 0;
  const what = `C${C} ${H}x${W} k${KH}x${KW} s${SH},${SW} p${PT},${PL},${pb},${pr} d${DH},${DW} og${OG} mask ${withMask}`;

  // samples must reach outside the image on every side
  let outTop = false, outBottom = false, outLeft = false, outRight = false;
  for (let g = 0; g < OG; g++)
    for (let t = 0; t < KK; t++)
      for (let p = 0; p < OHW; p++) {
        const y = <f32>((p / OW) * SH - PT + (t / KW) * DH) + ld(OFF, (g * 2 * KK + 2 * t) * OHW + p);
        const x = <f32>((p % OW) * SW - PL + (t % KW) * DW) + ld(OFF, (g * 2 * KK + 2 * t + 1) * OHW + p);
        if (y <= -1) outTop = true;
        if (y >= <f32>H) outBottom = true;
        if (x <= -1) outLeft = true;
        if (x >= <f32>W) outRight = true;
      }
  expect<bool>(outTop && outBottom && outLeft && outRight).toBe(true, what + ': samples outside on every side');
  // runs of four positions whose corners are all inside (branch-free paths)
  let interiorRuns = 0;
  for (let g = 0; g < OG; g++)
    for (let t = 0; t < KK; t++)
      for (let p = 0; p + 4 <= OHW; p += 4) {
        let all = true;
        for (let q = p; q < p + 4; q++) {
          const y = <f32>((q / OW) * SH - PT + (t / KW) * DH) + ld(OFF, (g * 2 * KK + 2 * t) * OHW + q);
          const x = <f32>((q % OW) * SW - PL + (t % KW) * DW) + ld(OFF, (g * 2 * KK + 2 * t + 1) * OHW + q);
          if (!(y >= 0 && y < <f32>(H - 1) && x >= 0 && x < <f32>(W - 1))) all = false;
        }
        if (all) interiorRuns++;
      }
  if (reach < 2) expect<i32>(interiorRuns).toBeGreaterThan(10, what + ': interior runs of four');

  // forward against the plain reference
  const cols = floats(ncols);
  fill(cols, ncols, -777.25);
  deform_im2col_f32(X, OFF, MASK, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, cols, 0, 1);
  for (let ci = 0; ci < C; ci++)
    for (let a = 0; a < KH; a++)
      for (let b = 0; b < KW; b++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            const i = ((ci * KH + a) * KW + b) * OHW + oh * OW + ow;
            const want = colRef(ci, a, b, oh, ow);
            if (!(Math.abs(<f64>ld(cols, i) - want) <= 1e-5 * (1 + Math.abs(want)))) {
              if (bad == 0) fail(`${what} im2col: ${i} got ${ld(cols, i)} want ${want}`);
              bad++;
            }
          }

  // input gradient (dL/dcols = r), accumulating onto a random start
  const dx0 = floats(nx), dx = floats(nx);
  fillRandom(dx0, nx);
  memory.copy(dx, dx0, <usize>nx << 2);
  deform_col2im_f32(R, OFF, MASK, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, dx, 0, 1);
  const dxOnly = floats(nx);
  deform_col2im_f32(R, OFF, MASK, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, dxOnly, 0, 1);
  bad += checkFd(dxOnly, 0, nx, what + ' dx');
  for (let i = 0; i < nx; i++) {
    if (Mathf.abs(ld(dx, i) - (ld(dx0, i) + ld(dxOnly, i))) > 1e-6 * (1 + Mathf.abs(ld(dx, i)))) {
      if (bad == 0) fail(`${what} dx does not accumulate at ${i}`);
      bad++;
    }
  }

  // offset and mask gradients (overwrite), then accumulate mode
  const doff = floats(noff), dmask = floats(nm);
  fill(doff, noff, 99);
  fill(dmask, nm, 99);
  deform_grad_offset_f32(X, R, OFF, MASK, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, doff, withMask ? dmask : 0, 0, 0, 1);
  bad += checkFd(doff, 1, noff, what + ' doffset');
  if (withMask) bad += checkFd(dmask, 2, nm, what + ' dmask');
  const accOff = floats(noff), accMask = floats(nm), start = floats(noff + nm);
  fillRandom(start, noff + nm);
  memory.copy(accOff, start, <usize>noff << 2);
  memory.copy(accMask, at(start, noff), <usize>nm << 2);
  deform_grad_offset_f32(X, R, OFF, MASK, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, accOff, withMask ? accMask : 0, 1, 0, 1);
  for (let i = 0; i < noff; i++) {
    if (load<u32>(at(accOff, i)) != reinterpret<u32>(ld(start, i) + ld(doff, i))) {
      if (bad == 0) fail(`${what} doffset accumulate at ${i}`);
      bad++;
    }
  }
  if (withMask)
    for (let i = 0; i < nm; i++) {
      if (load<u32>(at(accMask, i)) != reinterpret<u32>(ld(start, noff + i) + ld(dmask, i))) {
        if (bad == 0) fail(`${what} dmask accumulate at ${i}`);
        bad++;
      }
    }
  // only the offset gradient wanted: the mask buffer is left alone
  if (!withMask) for (let i = 0; i < nm; i++) if (ld(dmask, i) != 99) bad++;

  // parts: every split gives the whole call's bits
  const parts: i32[] = [1, 2, 3];
  for (let s = 0; s < SPLITS.length; s++) parts.push(SPLITS[s]);
  for (let s = 1; s < parts.length; s++) {
    const P = parts[s];
    const c2 = floats(ncols), dx2 = floats(nx), off2 = floats(noff), m2 = floats(nm);
    fill(c2, ncols, -777.25);
    for (let part = 0; part < P; part++) {
      deform_im2col_f32(X, OFF, MASK, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, c2, part, P);
      deform_col2im_f32(R, OFF, MASK, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, dx2, part, P);
      deform_grad_offset_f32(X, R, OFF, MASK, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, off2, withMask ? m2 : 0, 0, part, P);
    }
    bad += bitDiffs(c2, cols, ncols, `${what} im2col parts ${P}`);
    bad += bitDiffs(dx2, dxOnly, nx, `${what} col2im parts ${P}`);
    bad += bitDiffs(off2, doff, noff, `${what} doffset parts ${P}`);
    if (withMask) bad += bitDiffs(m2, dmask, nm, `${what} dmask parts ${P}`);
  }
  return bad;
}

describe('deform_im2col_f32 / deform_col2im_f32 / deform_grad_offset_f32', () => {
  test('v2, one offset group, KH != KW, asymmetric pads', () => {
    check(runCase(5, 7, 6, 2, 3, 1, 1, 1, 0, 0, 2, 1, 1, 1, true));
  });
  test('v1, two offset groups, stride 2x1, dilation 2x1', () => {
    check(runCase(6, 9, 7, 3, 2, 2, 1, 0, 1, 1, 0, 2, 1, 2, false));
  });
  test('v2, three offset groups, stride 2, dilation 1x2, odd sizes', () => {
    check(runCase(9, 5, 8, 3, 3, 2, 2, 2, 1, 1, 2, 1, 2, 3, true));
  });
  test('v1, 1x3 kernel, stride 1x2, pads left only', () => {
    check(runCase(3, 6, 5, 1, 3, 1, 2, 0, 2, 0, 0, 1, 1, 1, false));
  });
  test('v2, two offset groups, small offsets (mostly interior runs of four), 3x2, pad 1', () => {
    check(runCase(4, 13, 10, 3, 2, 1, 1, 1, 1, 1, 0, 1, 1, 2, true, 1.2));
  });
  test('v2, two offset groups, 3x3, stride 1, pad 1, dilation 2', () => {
    check(runCase(6, 11, 9, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 2, true));
  });
});
