// Specs for poolGrad.ts (pooling forward with indices and backward, NCHW planes) against the
// scalar references of poolGrad_ref.ts: odd H, W, KH != KW, strides 1..3, dilation 1..2,
// asymmetric pads, ceil_mode sizes (partial last windows), count_include_pad on and off, NaN
// taps; every gradient also against central finite differences of the forward (max pooling on
// inputs spaced wider than the step, so no window changes its argmax); sentinels past every
// output; each parallel kernel split into 2, 3 and 5 parts must give the whole call's bits.
import { maxpool_fwd_f32, maxpool_grad_f32, avgpool_fwd_f32, avgpool_grad_f32, global_avgpool_grad_f32 } from '../poolGrad';
import { at, ld, copy, near, fail, check, bitDiffs, fillRandom, fill, floats, resetArena, SPLITS } from './gemm_ref';
import { resetRnd, rndInt } from './math_ref';
import { maxpoolRef, maxpoolGradRef, avgpoolRef, avgpoolGradRef } from './poolGrad_ref';
import { poolOutSize } from './pool_ref';

const SENTINEL: f32 = 777.25;
resetRnd(987654);

/** Fills n floats with the distinct values 0.01·k - 1 (k < n) in a random order. */
function fillSpaced(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(at(p, i), <f32>(<f64>i * 0.01 - 1));
  for (let i = n - 1; i > 0; i--) {
    const j = rndInt(i + 1);
    const t = ld(p, i);
    store<f32>(at(p, i), ld(p, j));
    store<f32>(at(p, j), t);
  }
}

function maxCase(NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, PB: i32, PR: i32, DH: i32, DW: i32, ceil: bool, nanEvery: i32): i32 {
  resetArena();
  const OH = poolOutSize(H, KH, SH, PT, PB, DH, ceil), OW = poolOutSize(W, KW, SW, PL, PR, DW, ceil);
  if (OH < 1 || OW < 1) return 0;
  const what = `max NC${NC} ${H}x${W} k${KH}x${KW} s${SH},${SW} p${PT},${PL},${PB},${PR} d${DH},${DW} ceil${ceil} nan${nanEvery} -> ${OH}x${OW}`;
  const HW = H * W, OHW = OH * OW, nx = NC * HW, ny = NC * OHW;
  const x = floats(nx);
  fillSpaced(x, nx);
  if (nanEvery > 0) for (let i = 3; i < nx; i += nanEvery) store<f32>(at(x, i), NaN);
  // a window of ties: first max in scan order
  if (nx > 8) { store<f32>(at(x, 1), 5); store<f32>(at(x, 2), 5); }
  const y = floats(ny + 4), yr = floats(ny + 4), idx = floats(ny + 4), ir = floats(ny + 4);
  fill(y, ny + 4, SENTINEL); fill(yr, ny + 4, SENTINEL); fill(idx, ny + 4, SENTINEL); fill(ir, ny + 4, SENTINEL);
  maxpool_fwd_f32(x, y, idx, NC, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, 0, 1);
  maxpoolRef(x, yr, ir, NC, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
  let bad = bitDiffs(y, yr, ny + 4, `fwd y ${what}`) + bitDiffs(idx, ir, ny + 4, `fwd idx ${what}`);
  const g = floats(ny);
  fillRandom(g, ny);
  const dx = floats(nx + 4), dxr = floats(nx + 4);
  fill(dx, nx + 4, SENTINEL); fill(dxr, nx + 4, SENTINEL);
  maxpool_grad_f32(g, idx, dx, NC, HW, OHW, 0, 1);
  maxpoolGradRef(g, ir, dxr, NC, HW, OHW);
  bad += bitDiffs(dx, dxr, nx + 4, `grad ${what}`);
  // finite differences of L = Σ y·g (no NaN, no ties: every window's argmax stays put)
  if (nanEvery == 0) {
    fillSpaced(x, nx);
    maxpool_fwd_f32(x, y, idx, NC, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, 0, 1);
    maxpool_grad_f32(g, idx, dx, NC, HW, OHW, 0, 1);
    const eps: f32 = 1e-3;
    const yt = floats(ny), it = floats(ny);
    for (let i = 0; i < nx; i++) {
      const v = ld(x, i);
      store<f32>(at(x, i), v + eps);
      const hiV = <f64>ld(x, i);
      maxpool_fwd_f32(x, yt, it, NC, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, 0, 1);
      let up: f64 = 0;
      for (let o = 0; o < ny; o++) up += <f64>ld(yt, o) * <f64>ld(g, o);
      store<f32>(at(x, i), v - eps);
      const loV = <f64>ld(x, i);
      maxpool_fwd_f32(x, yt, it, NC, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, 0, 1);
      let dn: f64 = 0;
      for (let o = 0; o < ny; o++) dn += <f64>ld(yt, o) * <f64>ld(g, o);
      store<f32>(at(x, i), v);
      const fd = (up - dn) / (hiV - loV);
      if (!near(<f64>ld(dx, i), fd, 1e-2, 1e-2)) { if (bad == 0) fail(`FD ${what}: x ${i} analytic ${ld(dx, i)} FD ${fd}`); bad++; }
    }
  }
  for (let s = 0; s < SPLITS.length; s++) {
    const parts = SPLITS[s];
    const ys = floats(ny + 4), is = floats(ny + 4), dxs = floats(nx + 4);
    fill(ys, ny + 4, SENTINEL); fill(is, ny + 4, SENTINEL); fill(dxs, nx + 4, SENTINEL);
    for (let p = 0; p < parts; p++) {
      maxpool_fwd_f32(x, ys, is, NC, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, p, parts);
      maxpool_grad_f32(g, is, dxs, NC, HW, OHW, p, parts);
    }
    maxpool_fwd_f32(x, y, idx, NC, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, 0, 1);
    maxpool_grad_f32(g, idx, dx, NC, HW, OHW, 0, 1);
    bad += bitDiffs(ys, y, ny + 4, `fwd split ${parts} ${what}`) + bitDiffs(is, idx, ny + 4, `idx split ${parts} ${what}`);
    bad += bitDiffs(dxs, dx, nx + 4, `grad split ${parts} ${what}`);
  }
  return bad;
}

function avgCase(NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, PB: i32, PR: i32, ceil: bool, incl: i32): i32 {
  resetArena();
  const OH = poolOutSize(H, KH, SH, PT, PB, 1, ceil), OW = poolOutSize(W, KW, SW, PL, PR, 1, ceil);
  if (OH < 1 || OW < 1) return 0;
  const what = `avg NC${NC} ${H}x${W} k${KH}x${KW} s${SH},${SW} p${PT},${PL},${PB},${PR} ceil${ceil} incl${incl} -> ${OH}x${OW}`;
  const nx = NC * H * W, ny = NC * OH * OW;
  const x = floats(nx);
  fillRandom(x, nx);
  const y = floats(ny + 4), yr = floats(ny + 4);
  fill(y, ny + 4, SENTINEL); fill(yr, ny + 4, SENTINEL);
  avgpool_fwd_f32(x, y, NC, H, W, KH, KW, SH, SW, PT, PL, PB, PR, OH, OW, incl, 0, 1);
  avgpoolRef(x, yr, NC, H, W, KH, KW, SH, SW, PT, PL, PB, PR, OH, OW, incl);
  let bad = bitDiffs(y, yr, ny + 4, `fwd ${what}`);
  const g = floats(ny);
  fillRandom(g, ny);
  const dx = floats(nx + 4), dxr = floats(nx + 4);
  fill(dx, nx + 4, SENTINEL); fill(dxr, nx + 4, SENTINEL);
  avgpool_grad_f32(g, dx, NC, H, W, KH, KW, SH, SW, PT, PL, PB, PR, OH, OW, incl, 0, 1);
  avgpoolGradRef(g, dxr, NC, H, W, KH, KW, SH, SW, PT, PL, PB, PR, OH, OW, incl);
  bad += bitDiffs(dx, dxr, nx + 4, `grad ${what}`);
  // finite differences (the forward is linear in x)
  const eps: f32 = 1e-2;
  const yt = floats(ny);
  for (let i = 0; i < nx; i++) {
    const v = ld(x, i);
    store<f32>(at(x, i), v + eps);
    const hiV = <f64>ld(x, i);
    avgpool_fwd_f32(x, yt, NC, H, W, KH, KW, SH, SW, PT, PL, PB, PR, OH, OW, incl, 0, 1);
    let up: f64 = 0;
    for (let o = 0; o < ny; o++) up += <f64>ld(yt, o) * <f64>ld(g, o);
    store<f32>(at(x, i), v - eps);
    const loV = <f64>ld(x, i);
    avgpool_fwd_f32(x, yt, NC, H, W, KH, KW, SH, SW, PT, PL, PB, PR, OH, OW, incl, 0, 1);
    let dn: f64 = 0;
    for (let o = 0; o < ny; o++) dn += <f64>ld(yt, o) * <f64>ld(g, o);
    store<f32>(at(x, i), v);
    const fd = (up - dn) / (hiV - loV);
    if (!near(<f64>ld(dx, i), fd, 1e-2, 1e-2)) { if (bad == 0) fail(`FD ${what}: x ${i} analytic ${ld(dx, i)} FD ${fd}`); bad++; }
  }
  for (let s = 0; s < SPLITS.length; s++) {
    const parts = SPLITS[s];
    const ys = floats(ny + 4), dxs = floats(nx + 4);
    fill(ys, ny + 4, SENTINEL); fill(dxs, nx + 4, SENTINEL);
    for (let p = 0; p < parts; p++) {
      avgpool_fwd_f32(x, ys, NC, H, W, KH, KW, SH, SW, PT, PL, PB, PR, OH, OW, incl, p, parts);
      avgpool_grad_f32(g, dxs, NC, H, W, KH, KW, SH, SW, PT, PL, PB, PR, OH, OW, incl, p, parts);
    }
    bad += bitDiffs(ys, y, ny + 4, `fwd split ${parts} ${what}`) + bitDiffs(dxs, dx, nx + 4, `grad split ${parts} ${what}`);
  }
  return bad;
}

describe('maxpool_fwd_f32 / maxpool_grad_f32', () => {
  it('odd sizes, KH != KW, strides 1..3, dilation 1..2, asymmetric pads, ceil_mode: reference, FD, splits', () => {
    let bad = 0;
    for (let s = 1; s <= 3; s++) for (let d = 1; d <= 2; d++) for (let c = 0; c < 2; c++) {
      bad += maxCase(3, 7, 9, 3, 2, s, s, 1, 0, 1, 1, d, d, c == 1, 0);
      bad += maxCase(2, 11, 5, 2, 3, s, 4 - s, 0, 1, 0, 1, d, 3 - d, c == 1, 0);
      bad += maxCase(5, 5, 13, 3, 3, 1, s, 1, 1, 1, 1, 1, d, c == 1, 0);
    }
    bad += maxCase(6, 13, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, 0); // ResNet stem shape
    bad += maxCase(2, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, 0); // windows mostly pad
    check(bad);
  });
  it('NaN taps win and propagate; all -inf windows point at their first in-bounds tap', () => {
    let bad = 0;
    bad += maxCase(3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, 11);
    bad += maxCase(2, 11, 7, 2, 3, 2, 1, 0, 1, 1, 0, 1, 2, true, 5);
    resetArena();
    const x = floats(6), y = floats(6), idx = floats(6), yr = floats(6), ir = floats(6);
    fill(x, 6, -Infinity);
    maxpool_fwd_f32(x, y, idx, 1, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 2, 3, 0, 1);
    maxpoolRef(x, yr, ir, 1, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 2, 3);
    bad += bitDiffs(idx, ir, 6, 'all -inf idx') + bitDiffs(y, yr, 6, 'all -inf y');
    // PyTorch 1.13 gives indices [[0, 0, 1], [0, 0, 1]] here
    const want: i32[] = [0, 0, 1, 0, 0, 1];
    for (let i = 0; i < 6; i++) if (load<i32>(at(idx, i)) != want[i]) { if (bad == 0) fail(`all -inf: idx ${i} = ${load<i32>(at(idx, i))}`); bad++; }
    check(bad);
  });
});

describe('avgpool_fwd_f32 / avgpool_grad_f32', () => {
  it('odd sizes, KH != KW, strides 1..3, asymmetric pads, ceil_mode, count_include_pad both ways: reference, FD, splits', () => {
    let bad = 0;
    for (let s = 1; s <= 3; s++) for (let c = 0; c < 2; c++) for (let incl = 0; incl < 2; incl++) {
      bad += avgCase(3, 7, 9, 3, 2, s, s, 1, 0, 1, 1, c == 1, incl);
      bad += avgCase(2, 11, 5, 2, 3, s, 4 - s, 0, 1, 1, 1, c == 1, incl);
      bad += avgCase(5, 5, 13, 3, 3, 1, s, 1, 1, 1, 1, c == 1, incl);
    }
    // ONNX's ceil window starting on the pad: 2x2, k3 s3 p1
    bad += avgCase(1, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, true, 0) + avgCase(1, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, true, 1);
    check(bad);
  });
  it('partial last window with ceil_mode: include-pad divisor counts only up to H + PB', () => {
    resetArena();
    // 1x4 row, k3 s2 p0 ceil -> 2 outputs; the second window [2, 5) is cut at W + PR = 4: divisor 2 either way
    const x = floats(4), y = floats(2);
    store<f32>(x, 1); store<f32>(at(x, 1), 2); store<f32>(at(x, 2), 3); store<f32>(at(x, 3), 5);
    avgpool_fwd_f32(x, y, 1, 1, 4, 1, 3, 1, 2, 0, 0, 0, 0, 1, 2, 1, 0, 1);
    expect<f32>(ld(y, 0)).toBe(2);
    expect<f32>(ld(y, 1)).toBe(4);
    // the same row with PL = PR = 1, count_include_pad: 3 outputs, the last window [3, 5) cut
    // at W + PR = 5 has pool_size 2 (PyTorch 1.13 gives [1, 3.3333, 2.5])
    const z = floats(3);
    avgpool_fwd_f32(x, z, 1, 1, 4, 1, 3, 1, 2, 0, 1, 0, 1, 1, 3, 1, 0, 1);
    expect<f32>(ld(z, 0)).toBe(1);
    expect<f32>(ld(z, 1)).toBe(<f32>10 / <f32>3);
    expect<f32>(ld(z, 2)).toBe(2.5);
  });
});

describe('global_avgpool_grad_f32', () => {
  it('dx = dy / HW over every plane, odd HW, overwritten; FD of the mean', () => {
    let bad = 0;
    const HWs: i32[] = [1, 3, 7, 49, 51];
    for (let h = 0; h < HWs.length; h++) {
      resetArena();
      const NC = 5, HW = HWs[h];
      const dy = floats(NC), dx = floats(NC * HW + 4), x = floats(NC * HW);
      fillRandom(dy, NC);
      fillRandom(x, NC * HW);
      fill(dx, NC * HW + 4, SENTINEL);
      global_avgpool_grad_f32(dy, dx, NC, HW);
      for (let p = 0; p < NC; p++) for (let i = 0; i < HW; i++) {
        const got = ld(dx, p * HW + i), want = ld(dy, p) / <f32>HW;
        if (reinterpret<u32>(got) != reinterpret<u32>(want)) { if (bad == 0) fail(`global HW${HW}: ${p},${i} got ${got} want ${want}`); bad++; }
        // FD of L = Σ_p dy[p]·mean(x[p]) along x[p][i], mean in f64
        const v = ld(x, p * HW + i), eps: f32 = 1e-2;
        let up: f64 = 0, dn: f64 = 0;
        store<f32>(at(x, p * HW + i), v + eps);
        for (let j = 0; j < HW; j++) up += <f64>ld(x, p * HW + j);
        const hiV = <f64>ld(x, p * HW + i);
        store<f32>(at(x, p * HW + i), v - eps);
        for (let j = 0; j < HW; j++) dn += <f64>ld(x, p * HW + j);
        const loV = <f64>ld(x, p * HW + i);
        store<f32>(at(x, p * HW + i), v);
        const fd = <f64>ld(dy, p) * (up - dn) / <f64>HW / (hiV - loV);
        if (!near(<f64>got, fd, 1e-4, 1e-4)) { if (bad == 0) fail(`global FD HW${HW}: analytic ${got} FD ${fd}`); bad++; }
      }
      for (let i = NC * HW; i < NC * HW + 4; i++) if (ld(dx, i) != SENTINEL) { if (bad == 0) fail(`global HW${HW}: wrote past dx`); bad++; }
    }
    check(bad);
  });
});
