// Specs for resizeGrad.ts (Resize forward/backward, MaxUnpool forward/backward, pooling indices
// to flat NCHW floats) and lrnGrad.ts (LRN forward/backward), NCHW, against the scalar
// references of resizeGrad_ref.ts on odd sizes (H, W, OH, OW not multiples of 4, shrinking and
// growing, NC not a multiple of the split), with tables of every shape (random taps, repeated
// and clamped taps, weights 0 and 1); every backward against central finite differences of its
// forward (and, the linear ones, the adjoint identity <f(x), g> = <x, f*(g)> in float64);
// sentinels past every output; each parallel kernel split into 2, 3 and 5 parts must give the
// whole call's bits.
import { resize_fwd_f32, resize_grad_f32, maxunpool_fwd_f32, maxunpool_grad_f32, maxpool_indices_f32 } from '../resizeGrad';
import { lrn_fwd_f32, lrn_grad_f32 } from '../lrnGrad';
import { at, ld, fail, check, bitDiffs, fillRandom, fill, floats, resetArena, SPLITS } from './gemm_ref';
import { resetRnd, rndInt } from './math_ref';
import { resizeRef, resizeGradRef, unpoolRef, unpoolGradRef, lrnRef } from './resizeGrad_ref';

const SENTINEL: f32 = 777.25;
resetRnd(24681357);
function nearDiffs(got: usize, want: usize, n: i32, tol: f64, what: string): i32 {
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const g = <f64>ld(got, i), w = <f64>ld(want, i);
    if (!(Math.abs(g - w) <= tol * (1 + Math.abs(w)))) {
      if (bad == 0) fail(`${what}: ${i} got ${g} want ${w}`);
      bad++;
    }
  }
  return bad;
}
function dot(a: usize, b: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += <f64>ld(a, i) * <f64>ld(b, i);
  return s;
}

/**
 * A table of `outLen` entries into `len` inputs: kind 0 random taps and weights, 1 half_pixel
 * bilinear (clamped at both ends), 2 align_corners, 3 nearest floor(o·len/outLen).
 */
function table(len: i32, outLen: i32, kind: i32): usize {
  const t = floats(outLen * 3);
  for (let o = 0; o < outLen; o++) {
    let i0 = 0, i1 = 0;
    let w: f64 = 0;
    if (kind == 0) {
      i0 = rndInt(len);
      i1 = rndInt(3) == 0 ? i0 : rndInt(len);
      w = <f64>rndInt(1001) / 1000;
    } else if (kind == 3) {
      i0 = i1 = min(<i32>Math.floor(<f64>o * <f64>len / <f64>outLen), len - 1);
    } else {
      const s = kind == 1 ? (<f64>o + 0.5) * <f64>len / <f64>outLen - 0.5 : outLen == 1 ? 0 : <f64>o * <f64>(len - 1) / <f64>(outLen - 1);
      const f = Math.floor(s);
      i0 = min(max(<i32>f, 0), len - 1);
      i1 = min(max(<i32>f + 1, 0), len - 1);
      w = s - f;
    }
    store<i32>(t + <usize>o * 12, i0);
    store<i32>(t + <usize>o * 12 + 4, i1);
    store<f32>(t + <usize>o * 12 + 8, <f32>w);
  }
  return t;
}

function resizeCase(NC: i32, H: i32, W: i32, OH: i32, OW: i32, kind: i32): i32 {
  resetArena();
  const linear = kind == 3 ? 0 : 1;
  const what = `resize NC${NC} ${H}x${W} -> ${OH}x${OW} kind${kind}`;
  const ty = table(H, OH, kind), tx = table(W, OW, kind);
  const nx = NC * H * W, ny = NC * OH * OW;
  const x = floats(nx);
  fillRandom(x, nx);
  const y = floats(ny + 4), yr = floats(ny + 4);
  fill(y, ny + 4, SENTINEL); fill(yr, ny + 4, SENTINEL);
  resize_fwd_f32(x, y, NC, H, W, OH, OW, ty, tx, linear, 0, 1);
  resizeRef(x, yr, NC, H, W, OH, OW, ty, tx, linear);
  let bad = bitDiffs(y, yr, ny + 4, `fwd ${what}`);
  const g = floats(ny);
  fillRandom(g, ny);
  const dx = floats(nx + 4), dxr = floats(nx + 4);
  fill(dx, nx + 4, SENTINEL); fill(dxr, nx + 4, SENTINEL);
  resize_grad_f32(g, dx, NC, H, W, OH, OW, ty, tx, linear, 0, 1);
  resizeGradRef(g, dxr, NC, H, W, OH, OW, ty, tx, linear);
  bad += nearDiffs(dx, dxr, nx + 4, 1e-5, `grad ${what}`);
  // adjoint identity: <resize(x), g> = <x, resize_grad(g)>
  const l = dot(y, g, ny), r = dot(x, dx, nx);
  if (!(Math.abs(l - r) <= 1e-5 * (1 + Math.abs(l)))) { if (bad == 0) fail(`adjoint ${what}: ${l} vs ${r}`); bad++; }
  // finite differences of L = Σ y·g on a few inputs
  const eps: f32 = 1e-2;
  const yt = floats(ny);
  for (let i = 0; i < nx; i += max(1, nx / 23)) {
    const v = ld(x, i);
    store<f32>(at(x, i), v + eps);
    const hiV = <f64>ld(x, i);
    resize_fwd_f32(x, yt, NC, H, W, OH, OW, ty, tx, linear, 0, 1);
    const up = dot(yt, g, ny);
    store<f32>(at(x, i), v - eps);
    const loV = <f64>ld(x, i);
    resize_fwd_f32(x, yt, NC, H, W, OH, OW, ty, tx, linear, 0, 1);
    const dn = dot(yt, g, ny);
    store<f32>(at(x, i), v);
    const fd = (up - dn) / (hiV - loV);
    if (!(Math.abs(<f64>ld(dx, i) - fd) <= 1e-2 * (1e-2 + Math.abs(fd)))) { if (bad == 0) fail(`FD ${what}: x ${i} analytic ${ld(dx, i)} FD ${fd}`); bad++; }
  }
  for (let s = 0; s < SPLITS.length; s++) {
    const parts = SPLITS[s];
    const ys = floats(ny + 4), dxs = floats(nx + 4);
    fill(ys, ny + 4, SENTINEL); fill(dxs, nx + 4, SENTINEL);
    for (let p = 0; p < parts; p++) {
      resize_fwd_f32(x, ys, NC, H, W, OH, OW, ty, tx, linear, p, parts);
      resize_grad_f32(g, dxs, NC, H, W, OH, OW, ty, tx, linear, p, parts);
    }
    bad += bitDiffs(ys, y, ny + 4, `fwd split ${parts} ${what}`) + bitDiffs(dxs, dx, nx + 4, `grad split ${parts} ${what}`);
  }
  return bad;
}

/** Flat NCHW indices into the NC x GH x GW grid: mostly in-plane (with repeats), some outside. */
function unpoolCase(NC: i32, H: i32, W: i32, GH: i32, GW: i32, OH: i32, OW: i32): i32 {
  resetArena();
  const what = `unpool NC${NC} ${H}x${W} grid ${GH}x${GW} out ${OH}x${OW}`;
  const HW = H * W, GHW = GH * GW, nx = NC * HW, ny = NC * OH * OW;
  const x = floats(nx), idx = floats(nx);
  fillRandom(x, nx);
  for (let p = 0; p < NC; p++)
    for (let i = 0; i < HW; i++) {
      const r = rndInt(20);
      const q = r == 0 ? -1 - rndInt(3) : r == 1 ? ((p + 1) % NC) * GHW + rndInt(GHW) : r == 2 ? NC * GHW + rndInt(5) : p * GHW + rndInt(GHW);
      store<f32>(at(idx, p * HW + i), <f32>q);
    }
  const y = floats(ny + 4), yr = floats(ny + 4);
  fill(y, ny + 4, SENTINEL); fill(yr, ny + 4, SENTINEL);
  maxunpool_fwd_f32(x, idx, y, NC, HW, GH, GW, OH, OW, 0, 1);
  unpoolRef(x, idx, yr, NC, HW, GH, GW, OH, OW);
  let bad = bitDiffs(y, yr, ny + 4, `fwd ${what}`);
  const g = floats(ny);
  fillRandom(g, ny);
  const dx = floats(nx + 4), dxr = floats(nx + 4);
  fill(dx, nx + 4, SENTINEL); fill(dxr, nx + 4, SENTINEL);
  maxunpool_grad_f32(g, idx, dx, NC, HW, GH, GW, OH, OW, 0, 1);
  unpoolGradRef(g, idx, dxr, NC, HW, GH, GW, OH, OW);
  bad += bitDiffs(dx, dxr, nx + 4, `grad ${what}`);
  // finite differences where each index is unique (a later write hides an earlier input's
  // value, whose forward derivative is 0 while torch's gather-backward gives it dy: there the
  // reference is the definition above)
  for (let p = 0; p < NC; p++)
    for (let i = 0; i < HW; i++) store<f32>(at(idx, p * HW + i), <f32>(p * GHW + ((i * 7) % GHW)));
  if (HW <= GHW && GHW % 7 != 0) {
    maxunpool_grad_f32(g, idx, dx, NC, HW, GH, GW, OH, OW, 0, 1);
    const yt = floats(ny);
    const eps: f32 = 1e-2;
    for (let i = 0; i < nx; i += max(1, nx / 17)) {
      const v = ld(x, i);
      store<f32>(at(x, i), v + eps);
      const hiV = <f64>ld(x, i);
      maxunpool_fwd_f32(x, idx, yt, NC, HW, GH, GW, OH, OW, 0, 1);
      const up = dot(yt, g, ny);
      store<f32>(at(x, i), v - eps);
      const loV = <f64>ld(x, i);
      maxunpool_fwd_f32(x, idx, yt, NC, HW, GH, GW, OH, OW, 0, 1);
      const dn = dot(yt, g, ny);
      store<f32>(at(x, i), v);
      const fd = (up - dn) / (hiV - loV);
      if (!(Math.abs(<f64>ld(dx, i) - fd) <= 1e-3 * (1e-2 + Math.abs(fd)))) { if (bad == 0) fail(`FD ${what}: x ${i} analytic ${ld(dx, i)} FD ${fd}`); bad++; }
    }
  }
  for (let s = 0; s < SPLITS.length; s++) {
    const parts = SPLITS[s];
    const ys = floats(ny + 4), dxs = floats(nx + 4), yw = floats(ny + 4), dxw = floats(nx + 4);
    fill(ys, ny + 4, SENTINEL); fill(dxs, nx + 4, SENTINEL); fill(yw, ny + 4, SENTINEL); fill(dxw, nx + 4, SENTINEL);
    maxunpool_fwd_f32(x, idx, yw, NC, HW, GH, GW, OH, OW, 0, 1);
    maxunpool_grad_f32(g, idx, dxw, NC, HW, GH, GW, OH, OW, 0, 1);
    for (let p = 0; p < parts; p++) {
      maxunpool_fwd_f32(x, idx, ys, NC, HW, GH, GW, OH, OW, p, parts);
      maxunpool_grad_f32(g, idx, dxs, NC, HW, GH, GW, OH, OW, p, parts);
    }
    bad += bitDiffs(ys, yw, ny + 4, `fwd split ${parts} ${what}`) + bitDiffs(dxs, dxw, nx + 4, `grad split ${parts} ${what}`);
  }
  return bad;
}

function lrnCase(N: i32, C: i32, HW: i32, size: i32, alpha: f32, beta: f32, bias: f32): i32 {
  resetArena();
  const what = `lrn N${N} C${C} HW${HW} size${size} a${alpha} b${beta} k${bias}`;
  const n = N * C * HW;
  const x = floats(n);
  fillRandom(x, n);
  for (let i = 0; i < n; i++) store<f32>(at(x, i), ld(x, i) * 2);
  const y = floats(n + 4), yr = floats(n + 4), s = floats(n + 4);
  fill(y, n + 4, SENTINEL); fill(yr, n + 4, SENTINEL); fill(s, n + 4, SENTINEL);
  lrn_fwd_f32(x, y, s, N, C, HW, size, alpha, beta, bias, 0, 1);
  lrnRef(x, yr, N, C, HW, size, alpha, beta, bias);
  let bad = nearDiffs(y, yr, n + 4, 2e-6, `fwd ${what}`);
  const g = floats(n);
  fillRandom(g, n);
  const dx = floats(n + 4);
  fill(dx, n + 4, SENTINEL);
  lrn_grad_f32(g, x, y, s, dx, N, C, HW, size, alpha, beta, 0, 1);
  if (load<f32>(at(dx, n)) != SENTINEL) { if (bad == 0) fail(`grad sentinel ${what}`); bad++; }
  // central differences of L = Σ y·g through the float64 reference
  const yt = floats(n);
  const eps: f32 = 1e-2;
  for (let i = 0; i < n; i += max(1, n / 29)) {
    const v = ld(x, i);
    store<f32>(at(x, i), v + eps);
    const hiV = <f64>ld(x, i);
    lrnRef(x, yt, N, C, HW, size, alpha, beta, bias);
    const up = dot(yt, g, n);
    store<f32>(at(x, i), v - eps);
    const loV = <f64>ld(x, i);
    lrnRef(x, yt, N, C, HW, size, alpha, beta, bias);
    const dn = dot(yt, g, n);
    store<f32>(at(x, i), v);
    const fd = (up - dn) / (hiV - loV);
    if (!(Math.abs(<f64>ld(dx, i) - fd) <= 2e-3 * (1e-1 + Math.abs(fd)))) { if (bad == 0) fail(`FD ${what}: x ${i} analytic ${ld(dx, i)} FD ${fd}`); bad++; }
  }
  for (let sp = 0; sp < SPLITS.length; sp++) {
    const parts = SPLITS[sp];
    const ys = floats(n + 4), ss = floats(n + 4), dxs = floats(n + 4);
    fill(ys, n + 4, SENTINEL); fill(ss, n + 4, SENTINEL); fill(dxs, n + 4, SENTINEL);
    for (let p = 0; p < parts; p++) lrn_fwd_f32(x, ys, ss, N, C, HW, size, alpha, beta, bias, p, parts);
    for (let p = 0; p < parts; p++) lrn_grad_f32(g, x, ys, ss, dxs, N, C, HW, size, alpha, beta, p, parts);
    bad += bitDiffs(ys, y, n + 4, `fwd split ${parts} ${what}`) + bitDiffs(ss, s, n + 4, `s split ${parts} ${what}`);
    bad += bitDiffs(dxs, dx, n + 4, `grad split ${parts} ${what}`);
  }
  return bad;
}

describe('resize_fwd_f32 / resize_grad_f32', () => {
  it('odd sizes, up and down, random / half_pixel / align_corners / nearest tables: reference, adjoint, FD, splits', () => {
    let bad = 0;
    for (let kind = 0; kind < 4; kind++) {
      bad += resizeCase(3, 5, 7, 11, 13, kind); // growing, non-integer ratios
      bad += resizeCase(5, 9, 6, 4, 3, kind); // shrinking
      bad += resizeCase(2, 3, 5, 6, 10, kind); // exactly x2
      bad += resizeCase(7, 1, 1, 3, 5, kind); // 1x1 planes
      bad += resizeCase(4, 6, 9, 1, 1, kind); // to one pixel
    }
    check(bad);
  });
});

describe('maxunpool_fwd_f32 / maxunpool_grad_f32', () => {
  it('repeated and out-of-plane indices, output_shape larger and smaller than the grid: reference, FD, splits', () => {
    let bad = 0;
    bad += unpoolCase(3, 3, 5, 6, 10, 6, 10); // 2x2/2 pool grid
    bad += unpoolCase(5, 4, 3, 9, 7, 9, 7); // odd grid
    bad += unpoolCase(2, 3, 3, 7, 6, 8, 9); // output larger than the grid
    bad += unpoolCase(4, 3, 4, 7, 9, 5, 6); // output cropping the grid
    check(bad);
  });
});

describe('maxpool_indices_f32', () => {
  it('per-plane i32 indices to flat NCHW floats', () => {
    resetArena();
    const NC = 5, HW = 37, OHW = 11;
    const idx = floats(NC * OHW), out = floats(NC * OHW + 4);
    fill(out, NC * OHW + 4, SENTINEL);
    for (let i = 0; i < NC * OHW; i++) store<i32>(at(idx, i), rndInt(HW));
    maxpool_indices_f32(idx, out, NC, HW, OHW);
    let bad = 0;
    for (let p = 0; p < NC; p++)
      for (let o = 0; o < OHW; o++) {
        const want = <f32>(p * HW + load<i32>(at(idx, p * OHW + o)));
        if (ld(out, p * OHW + o) != want) { if (bad == 0) fail(`indices ${p},${o}: ${ld(out, p * OHW + o)} want ${want}`); bad++; }
      }
    if (ld(out, NC * OHW) != SENTINEL) { fail('indices sentinel'); bad++; }
    check(bad);
  });
});

describe('lrn_fwd_f32 / lrn_grad_f32', () => {
  it('odd C and HW, sizes 1..7, betas 0.75 / 0.5 / 1 / other: float64 reference, FD, splits', () => {
    let bad = 0;
    bad += lrnCase(2, 7, 13, 5, 0.5, 0.75, 1);
    bad += lrnCase(3, 5, 9, 3, 1.5, 0.5, 2);
    bad += lrnCase(1, 9, 6, 7, 0.8, 1, 1.5);
    bad += lrnCase(2, 4, 11, 5, 0.9, 0.6, 1.2);
    bad += lrnCase(2, 3, 5, 1, 0.7, 0.75, 1);
    bad += lrnCase(1, 6, 3, 9, 2, 0.75, 2); // window wider than C
    check(bad);
  });
});
