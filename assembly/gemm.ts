// GEMM family: C = act(A·B + bias + R), f32, WebAssembly baseline SIMD (no FMA; the relaxed
// build fuses each multiply-add, see madd).
//
// The Goto / BLIS decomposition: the weight matrix B is packed once into panels of 8 output
// columns, and a 6x8 register-tile micro-kernel (6 rows of A × two f32x4 accumulators each,
// 12 v128 accumulators) sweeps a 6-row strip of A across a block of panels that fits in L2.
// K is unrolled by 4. Per k step the tile loads 2 contiguous B vectors, gets each A row's value
// as a splat and issues 12 f32x4.mul + 12 f32x4.add; every load has an immediate offset.
// Rows 0-2 load 4 consecutive k of their A row as one v128 per 4 steps and splat lanes with
// i32x4.shuffle; rows 3-5 use broadcast loads (v128.load32_splat), balancing shuffle and load
// ports. Bias, residual and the activation are applied in registers before the single store;
// activations beyond the clamp family (SiLU, GELU, hard-swish, sigmoid, ...) run over each
// freshly stored 6-row strip of a panel block while it is still in cache.
// (Measured on Node 20 / V8, 2-core EPYC: TurboFan schedules a block's loads ahead of its
// arithmetic, so loaded values must stay few or they spill. All-broadcast ran ~10% slower than
// this mix, all-shuffle ~4% slower; unrolling by 1, 2 or 8 instead of 4 was 10-30% slower.)
//
// Packed B layout (gemm_pack, also written by conv2d_pack): ceil(N/8) panels, each
//   [8 bias floats][K rows × 8 floats], columns past N padded with zeros.
import { ACT_CLAMP, ACT_NONE, ACT_RELU } from './codes';
import { unary_f32 } from './eltwise';
import { partStart, splitRows } from './parallel';
import { loadPart, storePart } from './window';

/** Output columns per packed panel: two f32x4 vectors. */
const NR: i32 = 8;
/** Rows of A per full register tile. */
const MR: i32 = 6;
/** Bytes of packed B that one strip of A sweeps before moving on (half of a 512 KiB L2). */
const L2_BLOCK_BYTES: i32 = 256 * 1024;

/** Floats of one packed panel: 8 bias floats then K rows of 8. */
@inline function panelFloats(K: i32): i32 {
  return NR * (K + 1);
}

/** Floats needed for the packed B of an N-output, K-deep weight matrix. */
export function gemm_packed_size(N: i32, K: i32): i32 {
  return ((N + NR - 1) / NR) * panelFloats(K);
}

/** Packs w ([N][K] row-major, row stride ldw floats) and bias ([N] or 0) into 8-column panels. */
export function gemm_pack(w: usize, N: i32, K: i32, ldw: i32, bias: usize, dst: usize): void {
  const panels = (N + NR - 1) / NR;
  for (let p = 0; p < panels; p++) {
    const panel = dst + ((<usize>p * <usize>panelFloats(K)) << 2);
    for (let j = 0; j < NR; j++) {
      const n = p * NR + j;
      const valid = n < N;
      store<f32>(panel + (<usize>j << 2), valid && bias != 0 ? load<f32>(bias + (<usize>n << 2)) : 0);
      const row = w + ((<usize>n * <usize>ldw) << 2);
      let out = panel + (<usize>(NR + j) << 2);
      for (let k = 0; k < K; k++) {
        store<f32>(out, valid ? load<f32>(row + (<usize>k << 2)) : 0);
        out += NR << 2;
      }
    }
  }
}

/**
 * acc + a·b. The `relaxed` build (--enable relaxed-simd, dist/wasmcnn-relaxed.wasm) uses one
 * f32x4.relaxed_madd (a fused multiply-add where the CPU has one: rounding differs from mul+add
 * in the last bit); the baseline build never sees the relaxed branch (compile-time constant).
 */
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** The first n (1..4) floats at p. */
@inline function loadCols(p: usize, n: i32): v128 {
  return n == 4 ? v128.load(p) : loadPart(p, n);
}

/** Stores the first n (1..4) lanes of v at p. */
@inline function storeCols(p: usize, v: v128, n: i32): void {
  if (n == 4) v128.store(p, v);
  else storePart(p, v, n);
}

/**
 * Epilogue of one tile row: + residual, activation clamp [lo, hi] (ReLU is [0, +inf]), store
 * the first nr columns of C (never beyond).
 */
@inline function finishRow(v0: v128, v1: v128, c: usize, r: usize, nr: i32, act: i32, lo: v128, hi: v128): void {
  if (r != 0) {
    if (nr == NR) {
      v0 = f32x4.add(v0, v128.load(r));
      v1 = f32x4.add(v1, v128.load(r, 16));
    } else {
      // nr < 8 columns: read only those (the lanes past them are never stored)
      v0 = f32x4.add(v0, loadCols(r, min(nr, 4)));
      if (nr > 4) v1 = f32x4.add(v1, loadCols(r + 16, nr - 4));
    }
  }
  if (act != ACT_NONE) {
    v0 = f32x4.pmin(f32x4.pmax(v0, lo), hi);
    v1 = f32x4.pmin(f32x4.pmax(v1, lo), hi);
  }
  if (nr == NR) {
    v128.store(c, v0);
    v128.store(c, v1, 16);
  } else {
    storeCols(c, v0, min(nr, 4));
    if (nr > 4) storeCols(c + 16, v1, nr - 4);
  }
}

/**
 * The MRx8 micro-kernel (MR = 1..6, a compile-time constant after inlining: rows past MR
 * are dead code). PACKED: b is a packed panel (bias first, rows 32 bytes apart); otherwise b
 * points at 8 columns of a row-major B with rows ldb bytes apart and the bias is zero.
 * All strides (lda, ldb, ldc, ldr) are in bytes here.
 */
@inline function tile(
  MR: i32, PACKED: bool, K: i32, a: usize, lda: usize, b: usize, ldb: usize,
  c: usize, ldc: usize, r: usize, ldr: usize, nr: i32, act: i32, lo: v128, hi: v128,
): void {
  let c00: v128, c01: v128;
  if (PACKED) {
    c00 = v128.load(b);
    c01 = v128.load(b, 16);
    b += NR << 2;
  } else {
    c00 = f32x4.splat(0);
    c01 = c00;
  }
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  let c40 = c00, c41 = c01, c50 = c00, c51 = c01;
  let a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
  let b0: v128, b1: v128, x: v128;
  let k = 0;
  if (PACKED) {
    for (; k + 4 <= K; k += 4) {
      const v0 = v128.load(a0);
      const v1 = MR > 1 ? v128.load(a1) : v0;
      const v2 = MR > 2 ? v128.load(a2) : v0;
      b0 = v128.load(b, 0); b1 = v128.load(b, 16);
      x = i32x4.shuffle(v0, v0, 0, 0, 0, 0); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
      if (MR > 1) { x = i32x4.shuffle(v1, v1, 0, 0, 0, 0); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); }
      if (MR > 2) { x = i32x4.shuffle(v2, v2, 0, 0, 0, 0); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1); }
      if (MR > 3) { x = v128.load32_splat(a3, 0); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1); }
      if (MR > 4) { x = v128.load32_splat(a4, 0); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1); }
      if (MR > 5) { x = v128.load32_splat(a5, 0); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1); }
      b0 = v128.load(b, 32); b1 = v128.load(b, 48);
      x = i32x4.shuffle(v0, v0, 1, 1, 1, 1); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
      if (MR > 1) { x = i32x4.shuffle(v1, v1, 1, 1, 1, 1); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); }
      if (MR > 2) { x = i32x4.shuffle(v2, v2, 1, 1, 1, 1); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1); }
      if (MR > 3) { x = v128.load32_splat(a3, 4); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1); }
      if (MR > 4) { x = v128.load32_splat(a4, 4); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1); }
      if (MR > 5) { x = v128.load32_splat(a5, 4); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1); }
      b0 = v128.load(b, 64); b1 = v128.load(b, 80);
      x = i32x4.shuffle(v0, v0, 2, 2, 2, 2); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
      if (MR > 1) { x = i32x4.shuffle(v1, v1, 2, 2, 2, 2); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); }
      if (MR > 2) { x = i32x4.shuffle(v2, v2, 2, 2, 2, 2); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1); }
      if (MR > 3) { x = v128.load32_splat(a3, 8); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1); }
      if (MR > 4) { x = v128.load32_splat(a4, 8); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1); }
      if (MR > 5) { x = v128.load32_splat(a5, 8); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1); }
      b0 = v128.load(b, 96); b1 = v128.load(b, 112);
      x = i32x4.shuffle(v0, v0, 3, 3, 3, 3); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
      if (MR > 1) { x = i32x4.shuffle(v1, v1, 3, 3, 3, 3); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); }
      if (MR > 2) { x = i32x4.shuffle(v2, v2, 3, 3, 3, 3); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1); }
      if (MR > 3) { x = v128.load32_splat(a3, 12); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1); }
      if (MR > 4) { x = v128.load32_splat(a4, 12); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1); }
      if (MR > 5) { x = v128.load32_splat(a5, 12); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1); }
      a0 += 16; a1 += 16; a2 += 16; a3 += 16; a4 += 16; a5 += 16;
      b += 4 * NR << 2;
    }
  } else {
    // B read in place: the 4 rows of this k block are ldb bytes apart
    for (; k + 4 <= K; k += 4) {
      const v0 = v128.load(a0);
      const v1 = MR > 1 ? v128.load(a1) : v0;
      const v2 = MR > 2 ? v128.load(a2) : v0;
      const v3 = MR > 3 ? v128.load(a3) : v0;
      const v4 = MR > 4 ? v128.load(a4) : v0;
      const v5 = MR > 5 ? v128.load(a5) : v0;
      b0 = v128.load(b); b1 = v128.load(b, 16);
      x = i32x4.shuffle(v0, v0, 0, 0, 0, 0); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
      if (MR > 1) { x = i32x4.shuffle(v1, v1, 0, 0, 0, 0); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); }
      if (MR > 2) { x = i32x4.shuffle(v2, v2, 0, 0, 0, 0); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1); }
      if (MR > 3) { x = i32x4.shuffle(v3, v3, 0, 0, 0, 0); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1); }
      if (MR > 4) { x = i32x4.shuffle(v4, v4, 0, 0, 0, 0); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1); }
      if (MR > 5) { x = i32x4.shuffle(v5, v5, 0, 0, 0, 0); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1); }
      b0 = v128.load(b + ldb); b1 = v128.load(b + ldb, 16);
      x = i32x4.shuffle(v0, v0, 1, 1, 1, 1); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
      if (MR > 1) { x = i32x4.shuffle(v1, v1, 1, 1, 1, 1); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); }
      if (MR > 2) { x = i32x4.shuffle(v2, v2, 1, 1, 1, 1); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1); }
      if (MR > 3) { x = i32x4.shuffle(v3, v3, 1, 1, 1, 1); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1); }
      if (MR > 4) { x = i32x4.shuffle(v4, v4, 1, 1, 1, 1); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1); }
      if (MR > 5) { x = i32x4.shuffle(v5, v5, 1, 1, 1, 1); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1); }
      b0 = v128.load(b + 2 * ldb); b1 = v128.load(b + 2 * ldb, 16);
      x = i32x4.shuffle(v0, v0, 2, 2, 2, 2); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
      if (MR > 1) { x = i32x4.shuffle(v1, v1, 2, 2, 2, 2); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); }
      if (MR > 2) { x = i32x4.shuffle(v2, v2, 2, 2, 2, 2); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1); }
      if (MR > 3) { x = i32x4.shuffle(v3, v3, 2, 2, 2, 2); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1); }
      if (MR > 4) { x = i32x4.shuffle(v4, v4, 2, 2, 2, 2); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1); }
      if (MR > 5) { x = i32x4.shuffle(v5, v5, 2, 2, 2, 2); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1); }
      b0 = v128.load(b + 3 * ldb); b1 = v128.load(b + 3 * ldb, 16);
      x = i32x4.shuffle(v0, v0, 3, 3, 3, 3); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
      if (MR > 1) { x = i32x4.shuffle(v1, v1, 3, 3, 3, 3); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); }
      if (MR > 2) { x = i32x4.shuffle(v2, v2, 3, 3, 3, 3); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1); }
      if (MR > 3) { x = i32x4.shuffle(v3, v3, 3, 3, 3, 3); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1); }
      if (MR > 4) { x = i32x4.shuffle(v4, v4, 3, 3, 3, 3); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1); }
      if (MR > 5) { x = i32x4.shuffle(v5, v5, 3, 3, 3, 3); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1); }
      a0 += 16; a1 += 16; a2 += 16; a3 += 16; a4 += 16; a5 += 16;
      b += 4 * ldb;
    }
  }
  for (; k < K; k++) {
      b0 = v128.load(b, 0); b1 = v128.load(b, 16);
      x = v128.load32_splat(a0); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1); a0 += 4;
      if (MR > 1) { x = v128.load32_splat(a1); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); a1 += 4; }
      if (MR > 2) { x = v128.load32_splat(a2); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1); a2 += 4; }
      if (MR > 3) { x = v128.load32_splat(a3); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1); a3 += 4; }
      if (MR > 4) { x = v128.load32_splat(a4); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1); a4 += 4; }
      if (MR > 5) { x = v128.load32_splat(a5); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1); a5 += 4; }
      b += PACKED ? <usize>(NR << 2) : ldb;
  }
  finishRow(c00, c01, c, r, nr, act, lo, hi);
  if (MR > 1) finishRow(c10, c11, c + ldc, r != 0 ? r + ldr : 0, nr, act, lo, hi);
  if (MR > 2) finishRow(c20, c21, c + 2 * ldc, r != 0 ? r + 2 * ldr : 0, nr, act, lo, hi);
  if (MR > 3) finishRow(c30, c31, c + 3 * ldc, r != 0 ? r + 3 * ldr : 0, nr, act, lo, hi);
  if (MR > 4) finishRow(c40, c41, c + 4 * ldc, r != 0 ? r + 4 * ldr : 0, nr, act, lo, hi);
  if (MR > 5) finishRow(c50, c51, c + 5 * ldc, r != 0 ? r + 5 * ldr : 0, nr, act, lo, hi);
}

/** One strip of `rows` (< MR) rows of A against panels [p0, p1): the M remainder. */
@inline function remainderStrip(
  rows: i32, PACKED: bool, K: i32, a: usize, lda: usize, b: usize, ldb: usize, panelStep: usize,
  c: usize, ldc: usize, r: usize, ldr: usize, N: i32, p0: i32, p1: i32, act: i32, lo: v128, hi: v128,
): void {
  for (let p = p0; p < p1; p++) {
    const nr = min(NR, N - p * NR);
    const bp = b + <usize>p * panelStep;
    const cp = c + (<usize>(p * NR) << 2);
    const rp = r != 0 ? r + (<usize>(p * NR) << 2) : 0;
    if (rows == 1) tile(1, PACKED, K, a, lda, bp, ldb, cp, ldc, rp, ldr, nr, act, lo, hi);
    else if (rows == 2) tile(2, PACKED, K, a, lda, bp, ldb, cp, ldc, rp, ldr, nr, act, lo, hi);
    else if (rows == 3) tile(3, PACKED, K, a, lda, bp, ldb, cp, ldc, rp, ldr, nr, act, lo, hi);
    else if (rows == 4) tile(4, PACKED, K, a, lda, bp, ldb, cp, ldc, rp, ldr, nr, act, lo, hi);
    else tile(5, PACKED, K, a, lda, bp, ldb, cp, ldc, rp, ldr, nr, act, lo, hi);
  }
}

/**
 * Shared driver: blocks of panels sized for L2, 6-row strips of A across each block, then the
 * M remainder. `panels` counts the 8-column panels to compute; panelStep is the byte distance
 * between panels of B.
 */
@inline function gemmDriver(
  PACKED: bool, M: i32, N: i32, K: i32, panels: i32, a: usize, lda: usize, b: usize, ldb: usize,
  panelStep: usize, c: usize, ldc: usize, r: usize, ldr: usize, act: i32, lo: v128, hi: v128,
  post: i32, p0: f32, p1: f32,
): void {
  const ldcFloats = <i32>(ldc >> 2);
  const blockBytes = PACKED ? <i32>panelStep : K * (NR << 2);
  const panelsPerBlock = max(1, L2_BLOCK_BYTES / max(1, blockBytes));
  for (let pb = 0; pb < panels; pb += panelsPerBlock) {
    const pe = min(panels, pb + panelsPerBlock);
    let m = 0;
    for (; m + MR <= M; m += MR) {
      const am = a + <usize>m * lda;
      const cm = c + <usize>m * ldc;
      const rm = r != 0 ? r + <usize>m * ldr : 0;
      for (let p = pb; p < pe; p++) {
        const nr = min(NR, N - p * NR);
        const col = <usize>(p * NR) << 2;
        tile(MR, PACKED, K, am, lda, b + <usize>p * panelStep, ldb, cm + col, ldc, rm != 0 ? rm + col : 0, ldr, nr, act, lo, hi);
      }
      if (post != ACT_NONE) {
        const c0 = pb * NR;
        unary_f32(post, cm + (<usize>c0 << 2), cm + (<usize>c0 << 2), MR, min(N, pe * NR) - c0, ldcFloats, ldcFloats, p0, p1, 0, 1);
      }
    }
    const rows = M - m;
    if (rows > 0) {
      remainderStrip(
        rows, PACKED, K, a + <usize>m * lda, lda, b, ldb, panelStep,
        c + <usize>m * ldc, ldc, r != 0 ? r + <usize>m * ldr : 0, ldr, N, pb, pe, act, lo, hi,
      );
      if (post != ACT_NONE) {
        const cr = c + <usize>m * ldc + (<usize>(pb * NR) << 2);
        unary_f32(post, cr, cr, rows, min(N, pe * NR) - pb * NR, ldcFloats, ldcFloats, p0, p1, 0, 1);
      }
    }
  }
}

/**
 * C[m][n] = act(sum_k A[m][k]·B[k][n] + bias[n] + R[m][n]) for m < M, n < N.
 * A: row-major, row stride lda floats. packed: from gemm_pack. C: row stride ldc, only columns
 * 0..N-1 written. res: residual with row stride ldr, or 0; it may be the same buffer as c (same
 * stride): each tile reads R before it stores C. act: ACT_NONE, ACT_RELU, ACT_CLAMP (p0..p1) in
 * registers, or any other unary op code (codes.ts) applied to each stored strip while in cache.
 */
export function gemm(
  M: i32, N: i32, K: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32,
  res: usize, ldr: i32, act: i32, p0: f32, p1: f32,
): void {
  const inRegisters = act <= ACT_CLAMP;
  const lo = f32x4.splat(act == ACT_RELU ? 0 : p0);
  const hi = f32x4.splat(act == ACT_RELU ? Infinity : p1);
  const panels = (N + NR - 1) / NR;
  gemmDriver(
    true, M, N, K, panels, a, <usize>lda << 2, packed, 0, <usize>panelFloats(K) << 2,
    c, <usize>ldc << 2, res, <usize>ldr << 2, inRegisters ? act : ACT_NONE, lo, hi,
    inRegisters ? ACT_NONE : act, p0, p1,
  );
}

/**
 * gemm() split for the worker pool: part `part` of `parts` computes a band of 6-row strips or a
 * band of 8-column panels, whichever divides more evenly (parallel.ts).
 */
export function gemm_f32(
  M: i32, N: i32, K: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32,
  res: usize, ldr: i32, act: i32, p0: f32, p1: f32, part: i32, parts: i32,
): void {
  if (parts > 1) {
    const panels = (N + NR - 1) / NR;
    if (splitRows((M + MR - 1) / MR, panels, parts)) {
      const m0 = partStart(M, MR, part, parts), m1 = partStart(M, MR, part + 1, parts);
      a += (<usize>m0 * <usize>lda) << 2;
      c += (<usize>m0 * <usize>ldc) << 2;
      if (res != 0) res += (<usize>m0 * <usize>ldr) << 2;
      M = m1 - m0;
    } else {
      const q0 = partStart(panels, 1, part, parts), q1 = partStart(panels, 1, part + 1, parts);
      const n0 = q0 * NR;
      packed += (<usize>q0 * <usize>panelFloats(K)) << 2;
      c += <usize>n0 << 2;
      if (res != 0) res += <usize>n0 << 2;
      N = min(N, q1 * NR) - n0;
    }
    if (M <= 0 || N <= 0) return;
  }
  gemm(M, N, K, a, lda, packed, c, ldc, res, ldr, act, p0, p1);
}

/**
 * Plain C = A·B, B row-major [K][N] with row stride ldb (MatMul between two activations).
 * Full 8-column panels use the micro-kernel reading B in place; the last N % 8 columns are
 * scalar dot products, so no read goes past column N-1 of B.
 */
export function matmul_f32(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, part: i32, parts: i32,
): void {
  // parts: bands of 6-row strips (parallel.ts)
  const m0 = partStart(M, MR, part, parts);
  M = partStart(M, MR, part + 1, parts) - m0;
  if (M <= 0) return;
  a += (<usize>m0 * <usize>lda) << 2;
  c += (<usize>m0 * <usize>ldc) << 2;
  const zero = f32x4.splat(0);
  const fullPanels = N / NR;
  gemmDriver(
    false, M, N, K, fullPanels, a, <usize>lda << 2, b, <usize>ldb << 2, <usize>(NR << 2),
    c, <usize>ldc << 2, 0, 0, ACT_NONE, zero, zero, ACT_NONE, 0, 0,
  );
  for (let n = fullPanels * NR; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const arow = a + ((<usize>m * <usize>lda) << 2);
      let bp = b + (<usize>n << 2);
      let sum: f32 = 0;
      for (let k = 0; k < K; k++) {
        sum += load<f32>(arow + (<usize>k << 2)) * load<f32>(bp);
        bp += <usize>ldb << 2;
      }
      store<f32>(c + ((<usize>m * <usize>ldc + <usize>n) << 2), sum);
    }
  }
}

/** FLOPs per iteration of gemm_peak_probe: 4 k steps × 6 rows × 2 vectors × 4 lanes × (mul + add). */
export function gemm_peak_probe_flops_per_iter(): i32 {
  return 4 * MR * 2 * 4 * 2;
}

/** The probe's operands: a 6x4 block of A and a 4x8 block of B, re-read every iteration (L1). */
const probeA = memory.data(4 * MR * 4, 16);
const probeB = memory.data(4 * NR * 4, 16);

/**
 * The micro-kernel's inner loop without its data stream: the same 4-step unrolled body (3 A
 * row loads, then per k step 2 B loads, 3 lane shuffles + 3 broadcast loads, 12 f32x4.mul +
 * 12 f32x4.add into 12 accumulators) reading the same 224 bytes every iteration, so all
 * operands hit L1. Its rate is the attainable peak of this instruction mix. (Splatting 6
 * scalars held in registers instead needs more than x64's 16 xmm registers: it spilled and
 * measured 3x slower.)
 */
export function gemm_peak_probe(iters: i32): f32 {
  for (let i = 0; i < 4 * MR; i++) store<f32>(probeA + (<usize>i << 2), <f32>(i + 1) * 1e-3);
  for (let i = 0; i < 4 * NR; i++) store<f32>(probeB + (<usize>i << 2), <f32>(i + 1) * 1e-3);
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  let b0: v128, b1: v128, x: v128;
  const a0 = probeA, a1 = a0 + 16, a2 = a1 + 16, a3 = a2 + 16, a4 = a3 + 16, a5 = a4 + 16;
  const b = probeB;
  for (let i = 0; i < iters; i++) {
    const v0 = v128.load(a0), v1 = v128.load(a1), v2 = v128.load(a2);
    b0 = v128.load(b, 0); b1 = v128.load(b, 16);
    x = i32x4.shuffle(v0, v0, 0, 0, 0, 0); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
    x = i32x4.shuffle(v1, v1, 0, 0, 0, 0); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1);
    x = i32x4.shuffle(v2, v2, 0, 0, 0, 0); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1);
    x = v128.load32_splat(a3, 0); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1);
    x = v128.load32_splat(a4, 0); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1);
    x = v128.load32_splat(a5, 0); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1);
    b0 = v128.load(b, 32); b1 = v128.load(b, 48);
    x = i32x4.shuffle(v0, v0, 1, 1, 1, 1); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
    x = i32x4.shuffle(v1, v1, 1, 1, 1, 1); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1);
    x = i32x4.shuffle(v2, v2, 1, 1, 1, 1); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1);
    x = v128.load32_splat(a3, 4); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1);
    x = v128.load32_splat(a4, 4); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1);
    x = v128.load32_splat(a5, 4); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1);
    b0 = v128.load(b, 64); b1 = v128.load(b, 80);
    x = i32x4.shuffle(v0, v0, 2, 2, 2, 2); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
    x = i32x4.shuffle(v1, v1, 2, 2, 2, 2); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1);
    x = i32x4.shuffle(v2, v2, 2, 2, 2, 2); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1);
    x = v128.load32_splat(a3, 8); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1);
    x = v128.load32_splat(a4, 8); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1);
    x = v128.load32_splat(a5, 8); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1);
    b0 = v128.load(b, 96); b1 = v128.load(b, 112);
    x = i32x4.shuffle(v0, v0, 3, 3, 3, 3); c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
    x = i32x4.shuffle(v1, v1, 3, 3, 3, 3); c10 = madd(c10, x, b0); c11 = madd(c11, x, b1);
    x = i32x4.shuffle(v2, v2, 3, 3, 3, 3); c20 = madd(c20, x, b0); c21 = madd(c21, x, b1);
    x = v128.load32_splat(a3, 12); c30 = madd(c30, x, b0); c31 = madd(c31, x, b1);
    x = v128.load32_splat(a4, 12); c40 = madd(c40, x, b0); c41 = madd(c41, x, b1);
    x = v128.load32_splat(a5, 12); c50 = madd(c50, x, b0); c51 = madd(c51, x, b1);
  }
  let s = f32x4.add(f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)), f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)));
  s = f32x4.add(s, f32x4.add(f32x4.add(c40, c41), f32x4.add(c50, c51)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
