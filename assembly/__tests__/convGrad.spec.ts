// Specs for convGrad.ts (training kernels, NCHW) against the scalar references of
// convGrad_ref.ts: mm_f32 for every transpose pair, accumulate on and off, odd M, N, K and
// strided operands (exact bits, sentinels past every row and past the scratch); im2col / col2im
// against the references and the adjoint identity <im2col(x), c> = <x, col2im(c)>; depthwise
// forward / input-gradient exactly against the references, the weight gradient and bias
// gradient against f64 sums, and every gradient against central finite differences of the
// forward; each parallel kernel split into 2, 3 and 5 parts must give the whole call's bits.
import {
  mm_scratch_bytes, mm_f32, im2col_f32, col2im_f32, dw_fwd_f32, dw_grad_input_f32, dw_grad_weight_f32, bias_grad_f32,
} from '../convGrad';
import { at, ld, copy, near, fail, check, bitDiffs, fillRandom, fill, countBitDiffs, floats, resetArena, SPLITS } from './gemm_ref';
import { mmRef, im2colRef, col2imRef, dwFwdRef, dwGradInputRef, dwGradWeightRef } from './convGrad_ref';

const SENTINEL: f32 = 12345.5;

function outSize(I: i32, K: i32, S: i32, P0: i32, P1: i32, D: i32): i32 {
  return (I + P0 + P1 - ((K - 1) * D + 1)) / S + 1;
}

const MM_SIZES: i32[] = [1, 3, 5, 13, 37, 67];

/** One mm_f32 case against mmRef (exact) and split into 2, 3, 5 parts (same bits). */
function mmCase(transA: i32, transB: i32, M: i32, N: i32, K: i32, acc: i32): i32 {
  resetArena();
  const lda = (transA != 0 ? M : K) + 3, ldb = (transB != 0 ? K : N) + 1, ldc = N + 2;
  const aRows = transA != 0 ? K : M, bRows = transB != 0 ? N : K;
  const a = floats(aRows * lda), b = floats(bRows * ldb);
  fillRandom(a, aRows * lda);
  fillRandom(b, bRows * ldb);
  const total = (M + 1) * ldc;
  const c = floats(total), ref = floats(total), init = floats(total);
  fill(init, total, SENTINEL);
  fillRandom(init, M * ldc);
  // columns past N keep the sentinel in every row
  for (let m = 0; m < M; m++) for (let n = N; n < ldc; n++) store<f32>(at(init, m * ldc + n), SENTINEL);
  copy(c, init, total);
  copy(ref, init, total);
  const sFloats = mm_scratch_bytes(M, N, K, transA, transB, 5) >> 2;
  const scratch = floats(sFloats + 8);
  fill(scratch + (<usize>sFloats << 2), 8, SENTINEL);
  mmRef(transA, transB, M, N, K, a, lda, b, ldb, ref, ldc, acc);
  mm_f32(transA, transB, M, N, K, a, lda, b, ldb, c, ldc, acc, scratch, 0, 1);
  const what = `mm tA${transA} tB${transB} M${M} N${N} K${K} acc${acc}`;
  let bad = bitDiffs(c, ref, total, what);
  for (let s = 0; s < SPLITS.length; s++) {
    const z = floats(total);
    copy(z, init, total);
    for (let p = 0; p < SPLITS[s]; p++) mm_f32(transA, transB, M, N, K, a, lda, b, ldb, z, ldc, acc, scratch, p, SPLITS[s]);
    const d = countBitDiffs(z, c, total);
    if (d != 0 && bad == 0) fail(`${what}: split ${SPLITS[s]} differs from the whole call in ${d} floats`);
    bad += d;
  }
  for (let i = 0; i < 8; i++) {
    if (ld(scratch, sFloats + i) != SENTINEL) {
      if (bad == 0) fail(`${what}: wrote past its scratch`);
      bad++;
    }
  }
  return bad;
}

describe('mm_f32', () => {
  it('every transpose pair, accumulate off and on, M, N, K in 1, 3, 5, 13, 37, 67: exact bits, any split', () => {
    let bad = 0;
    for (let t = 0; t < 4; t++) {
      for (let i = 0; i < MM_SIZES.length; i++) for (let j = 0; j < MM_SIZES.length; j++) for (let k = 0; k < MM_SIZES.length; k++) {
        bad += mmCase(t & 1, t >> 1, MM_SIZES[i], MM_SIZES[j], MM_SIZES[k], (i + j + k + t) & 1);
      }
    }
    check(bad);
  });
  it('K = 0 gives C = 0 (or leaves C when accumulating); wide N split by columns', () => {
    let bad = 0;
    bad += mmCase(0, 0, 3, 5, 0, 0) + mmCase(1, 1, 3, 5, 0, 1);
    bad += mmCase(0, 1, 2, 200, 9, 1) + mmCase(1, 0, 5, 131, 3, 0);
    check(bad);
  });
  it('deep K: op(B) packed in several L2 column blocks (the last one partial), every transpose pair', () => {
    let bad = 0;
    for (let t = 0; t < 4; t++) {
      bad += mmCase(t & 1, t >> 1, 5, 131, 1100, t & 1); // 6-panel blocks: 48 + 48 + 35 columns
      bad += mmCase(t & 1, t >> 1, 9, 37, 3001, (t >> 1) ^ 1); // 2-panel blocks: 16 + 16 + 5
    }
    check(bad);
  });
});

/** im2col / col2im for one geometry: references (exact), adjoint identity (f64). */
function colsCase(C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, PB: i32, PR: i32, DH: i32, DW: i32): i32 {
  resetArena();
  const OH = outSize(H, KH, SH, PT, PB, DH), OW = outSize(W, KW, SW, PL, PR, DW);
  if (OH < 1 || OW < 1) return 0;
  const what = `C${C} ${H}x${W} k${KH}x${KW} s${SH},${SW} p${PT},${PL},${PB},${PR} d${DH},${DW}`;
  const nx = C * H * W, nc = C * KH * KW * OH * OW;
  const x = floats(nx + 4), cols = floats(nc + 4), colsRef = floats(nc + 4);
  fillRandom(x, nx);
  fill(cols, nc + 4, SENTINEL);
  fill(colsRef, nc + 4, SENTINEL);
  im2col_f32(x, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, cols);
  im2colRef(x, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, colsRef);
  let bad = bitDiffs(cols, colsRef, nc + 4, `im2col ${what}`);
  // col2im accumulates into a random x
  const g = floats(nc), x0 = floats(nx + 4), xk = floats(nx + 4), xr = floats(nx + 4);
  fillRandom(g, nc);
  fillRandom(x0, nx);
  fill(x0 + (<usize>nx << 2), 4, SENTINEL);
  copy(xk, x0, nx + 4);
  copy(xr, x0, nx + 4);
  col2im_f32(g, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, xk);
  col2imRef(g, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, xr);
  bad += bitDiffs(xk, xr, nx + 4, `col2im ${what}`);
  // adjoint: <im2col(x), g> == <x, col2im(g)>, with col2im into zeros
  const xz = floats(nx);
  col2im_f32(g, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, xz);
  let lhs: f64 = 0, rhs: f64 = 0, mag: f64 = 0;
  for (let i = 0; i < nc; i++) {
    lhs += <f64>ld(cols, i) * <f64>ld(g, i);
    mag += Math.abs(<f64>ld(cols, i) * <f64>ld(g, i));
  }
  for (let i = 0; i < nx; i++) rhs += <f64>ld(x, i) * <f64>ld(xz, i);
  if (!(Math.abs(lhs - rhs) <= 1e-6 * (1 + mag))) {
    if (bad == 0) fail(`adjoint ${what}: <im2col(x), g> = ${lhs}, <x, col2im(g)> = ${rhs}`);
    bad++;
  }
  return bad;
}

describe('im2col_f32 / col2im_f32', () => {
  it('odd sizes, strides 1..3, dilation 1..2, asymmetric pads, KH != KW: references and the adjoint identity', () => {
    let bad = 0;
    for (let s = 1; s <= 3; s++) for (let d = 1; d <= 2; d++) {
      bad += colsCase(3, 7, 9, 3, 2, s, s, 1, 0, 2, 1, d, d);
      bad += colsCase(1, 11, 5, 1, 3, s, 4 - s, 0, 2, 0, 1, d, 3 - d);
      bad += colsCase(5, 5, 13, 3, 3, s, 1, 1, 1, 1, 1, 1, d);
      bad += colsCase(2, 9, 7, 5, 4, 1, s, 2, 3, 1, 2, d, 1);
    }
    // taps that fall wholly in the pad, 1x1, the window wider than the image
    bad += colsCase(2, 3, 3, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1);
    bad += colsCase(3, 5, 7, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1);
    bad += colsCase(1, 2, 2, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1);
    check(bad);
  });
});

// ---- depthwise convolution ----

/** L = Σ y·g in f64 for the forward at (x, w, bias). */
function dwLoss(
  x: usize, w: usize, bias: usize, y: usize, g: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
): f64 {
  dw_fwd_f32(x, w, bias, y, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, 0, 1);
  let s: f64 = 0;
  for (let i = 0; i < N * C * OH * OW; i++) s += <f64>ld(y, i) * <f64>ld(g, i);
  return s;
}

/** Central difference of L along element i of p (eps 1e-2): the forward is linear in x, w and bias. */
function dwFD(
  p: usize, i: i32, x: usize, w: usize, bias: usize, y: usize, g: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
): f64 {
  const v = ld(p, i);
  const eps: f32 = 1e-2;
  store<f32>(at(p, i), v + eps);
  const up = dwLoss(x, w, bias, y, g, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
  const hiV = <f64>ld(p, i);
  store<f32>(at(p, i), v - eps);
  const dn = dwLoss(x, w, bias, y, g, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
  const loV = <f64>ld(p, i);
  store<f32>(at(p, i), v);
  return (up - dn) / (hiV - loV);
}

function dwCase(N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, PB: i32, PR: i32, DH: i32, DW: i32, withBias: bool): i32 {
  resetArena();
  const OH = outSize(H, KH, SH, PT, PB, DH), OW = outSize(W, KW, SW, PL, PR, DW);
  if (OH < 1 || OW < 1) return 0;
  const what = `dw N${N} C${C} ${H}x${W} k${KH}x${KW} s${SH},${SW} p${PT},${PL},${PB},${PR} d${DH},${DW} bias${withBias}`;
  const nx = N * C * H * W, ny = N * C * OH * OW, nw = C * KH * KW;
  const x = floats(nx + 4), w = floats(nw), bias = withBias ? floats(C) : 0;
  fillRandom(x, nx);
  fillRandom(w, nw);
  if (withBias) fillRandom(bias, C);
  let bad = 0;
  // forward: reference bits, sentinels past the end, splits
  const y = floats(ny + 4), yr = floats(ny + 4);
  fill(y, ny + 4, SENTINEL);
  fill(yr, ny + 4, SENTINEL);
  dw_fwd_f32(x, w, bias, y, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, 0, 1);
  dwFwdRef(x, w, bias, yr, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
  bad += bitDiffs(y, yr, ny + 4, `fwd ${what}`);
  const g = floats(ny);
  fillRandom(g, ny);
  // input gradient: overwritten (garbage beforehand), reference bits
  const dx = floats(nx + 4), dxr = floats(nx + 4);
  fill(dx, nx + 4, SENTINEL);
  fill(dxr, nx + 4, SENTINEL);
  dw_grad_input_f32(g, w, dx, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, 0, 1);
  dwGradInputRef(g, w, dxr, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
  bad += bitDiffs(dx, dxr, nx + 4, `grad_input ${what}`);
  // weight gradient: accumulates onto a start value; f64 reference
  const dw0 = floats(nw + 4), dwk = floats(nw + 4);
  fillRandom(dw0, nw);
  fill(dw0 + (<usize>nw << 2), 4, SENTINEL);
  copy(dwk, dw0, nw + 4);
  dw_grad_weight_f32(x, g, dwk, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, 0, 1);
  const wr = new StaticArray<f64>(nw), wm = new StaticArray<f64>(nw);
  dwGradWeightRef(x, g, wr, wm, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
  for (let i = 0; i < nw; i++) {
    const want = <f64>ld(dw0, i) + wr[i];
    if (!near(<f64>ld(dwk, i), want, 1e-6, 1 + wm[i])) {
      if (bad == 0) fail(`grad_weight ${what}: w ${i} got ${ld(dwk, i)} want ${want}`);
      bad++;
    }
  }
  for (let i = nw; i < nw + 4; i++) if (ld(dwk, i) != SENTINEL) { if (bad == 0) fail(`grad_weight ${what}: wrote past dw`); bad++; }
  // bias gradient (bias_grad_f32 over the same dy)
  if (withBias) {
    const db = floats(C);
    fillRandom(db, C);
    const db0 = floats(C);
    copy(db0, db, C);
    bias_grad_f32(g, N, C, OH * OW, db);
    for (let c = 0; c < C; c++) {
      let s: f64 = ld(db0, c), m: f64 = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < OH * OW; i++) { const v = <f64>ld(g, (n * C + c) * OH * OW + i); s += v; m += Math.abs(v); }
      if (!near(<f64>ld(db, c), s, 1e-6, 1 + m)) { if (bad == 0) fail(`bias_grad ${what}: c ${c} got ${ld(db, c)} want ${s}`); bad++; }
    }
    // finite differences for the bias
    for (let c = 0; c < C; c++) {
      const fd = dwFD(bias, c, x, w, bias, yr, g, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
      const an = <f64>ld(db, c) - <f64>ld(db0, c);
      if (!near(an, fd, 1e-2, 1e-2 * <f64>(N * OH * OW))) { if (bad == 0) fail(`bias FD ${what}: c ${c} analytic ${an} FD ${fd}`); bad++; }
    }
  }
  // finite differences for x (every element) and w (every tap)
  for (let i = 0; i < nx; i++) {
    const fd = dwFD(x, i, x, w, bias, yr, g, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
    if (!near(<f64>ld(dx, i), fd, 1e-2, 1e-2 * <f64>(KH * KW))) { if (bad == 0) fail(`x FD ${what}: ${i} analytic ${ld(dx, i)} FD ${fd}`); bad++; }
  }
  for (let i = 0; i < nw; i++) {
    const fd = dwFD(w, i, x, w, bias, yr, g, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
    const an = <f64>ld(dwk, i) - <f64>ld(dw0, i);
    if (!near(an, fd, 1e-2, 1e-2 * <f64>(N * OH * OW))) { if (bad == 0) fail(`w FD ${what}: ${i} analytic ${an} FD ${fd}`); bad++; }
  }
  // splits: the same bits as the whole call
  for (let s = 0; s < SPLITS.length; s++) {
    const parts = SPLITS[s];
    const ys = floats(ny + 4), dxs = floats(nx + 4), dws = floats(nw + 4);
    fill(ys, ny + 4, SENTINEL);
    fill(dxs, nx + 4, SENTINEL);
    copy(dws, dw0, nw + 4);
    for (let p = 0; p < parts; p++) {
      dw_fwd_f32(x, w, bias, ys, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, p, parts);
      dw_grad_input_f32(g, w, dxs, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, p, parts);
      dw_grad_weight_f32(x, g, dws, N, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, p, parts);
    }
    bad += bitDiffs(ys, y, ny + 4, `fwd split ${parts} ${what}`);
    bad += bitDiffs(dxs, dx, nx + 4, `grad_input split ${parts} ${what}`);
    bad += bitDiffs(dws, dwk, nw + 4, `grad_weight split ${parts} ${what}`);
  }
  return bad;
}

describe('dw_fwd_f32 / dw_grad_input_f32 / dw_grad_weight_f32 / bias_grad_f32', () => {
  it('strides 1..3, dilation 1..2, asymmetric pads, KH != KW, odd C, H, W: references, FD, splits', () => {
    let bad = 0;
    for (let s = 1; s <= 3; s++) for (let d = 1; d <= 2; d++) {
      bad += dwCase(2, 3, 7, 9, 3, 3, s, s, 1, 1, 1, 1, d, d, true);
      bad += dwCase(1, 5, 9, 11, 3, 2, s, 4 - s, 2, 0, 1, 1, d, 3 - d, (s & 1) == 0);
      bad += dwCase(3, 1, 5, 13, 5, 3, 1, s, 2, 1, 2, 3, 1, d, true);
    }
    // MobileNet-like 3x3 s1 and s2 with remainders past multiples of 4 in W
    bad += dwCase(2, 7, 13, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true);
    bad += dwCase(1, 3, 14, 15, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, false);
    // the window larger than the image, pads all round
    bad += dwCase(1, 2, 2, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, true);
    check(bad);
  });
  it('bias_grad_f32 with HW = 1 (Linear) and odd HW', () => {
    resetArena();
    let bad = 0;
    const Ns: i32[] = [1, 3, 5], Cs: i32[] = [1, 3, 5, 13], HWs: i32[] = [1, 3, 7, 37];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 4; b++) for (let h = 0; h < 4; h++) {
      resetArena();
      const N = Ns[a], C = Cs[b], HW = HWs[h];
      const dy = floats(N * C * HW), db = floats(C + 4), db0 = floats(C);
      fillRandom(dy, N * C * HW);
      fillRandom(db, C);
      fill(db + (<usize>C << 2), 4, SENTINEL);
      copy(db0, db, C);
      bias_grad_f32(dy, N, C, HW, db);
      for (let c = 0; c < C; c++) {
        let s: f64 = ld(db0, c), m: f64 = 0;
        for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) { const v = <f64>ld(dy, (n * C + c) * HW + i); s += v; m += Math.abs(v); }
        if (!near(<f64>ld(db, c), s, 1e-6, 1 + m)) { if (bad == 0) fail(`bias_grad N${N} C${C} HW${HW}: c ${c} got ${ld(db, c)} want ${s}`); bad++; }
      }
      for (let i = C; i < C + 4; i++) if (ld(db, i) != SENTINEL) { if (bad == 0) fail(`bias_grad N${N} C${C} HW${HW}: wrote past db`); bad++; }
    }
    check(bad);
  });
});
