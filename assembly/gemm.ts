// GEMM family: C = act(A·B + bias + R), f32, WebAssembly baseline SIMD (no FMA; the relaxed
// build fuses each multiply-add, see madd).
//
// The Goto / BLIS decomposition: the weight matrix B is packed once into panels of 8 output
// columns; strips of 4 rows of A sweep a block of panels that fits in L2. The micro-kernel
// takes 2 rows × 16 columns (two adjacent panels) one k step at a time: 4 contiguous B
// vectors, one broadcast load (v128.load32_splat) per row, 8 f32x4.mul + 8 f32x4.add into 8
// accumulators. An odd last panel gets a 4-row × 8-column tile of the same shape. Bias,
// residual and the clamp activations are applied in registers before the single store;
// activations beyond the clamp family (SiLU, GELU, hard-swish, sigmoid, ...) run over each
// freshly stored 4-row strip of a panel block while it is still in cache.
//
// Why this shape (Node 20 / V8 11.3 on a 2-core Zen 5 EPYC; V8 allocates 15 xmm registers):
// each tile needs accumulators + B vectors + one splat + one product register ≤ 15, or V8
// spills. TurboFan schedules a loop body's loads ahead of its arithmetic, so unrolling k
// multiplies the live B vectors: the former 6x8 tile unrolled by 4 spilled ~48 registers per
// iteration and ran at 35-38 GFLOP/s at 512³. The 2x16 tile, not unrolled, keeps every value
// in a register and runs at 50-54 GFLOP/s (about 15 of the 16 FLOP per cycle that two mul and
// two add pipes give), with 4x8 at ~43, 3x8 at ~40, 2x12 at ~40, and everything unrolled or
// with 12 accumulators (6x8, 4x12, 3x16) at 21-38. Every output element still sums its
// products in k order from the bias, so results equal the scalar reference's bits.
//
// Packed B layout (gemm_pack, also written by conv2d_pack): ceil(N/8) panels, each
//   [8 bias floats][K rows × 8 floats], columns past N padded with zeros.
// Half-stored form (the host narrows gemm_pack's panels, CompileOptions.weightStorage
// 'float16'): the same panels with each weight an IEEE binary16 (u16), the bias still f32:
//   [8 bias floats][K rows × 8 halves], 32 + 16·K bytes a panel.
// gemm_f16 widens one L2 block of such panels at a time into the caller's scratch
// (gemm_half_scratch_size) right before the strips of A sweep it, the way qgemm.ts widens its
// int8 panels: the tiles are gemm()'s own, so each output gets the bits gemm() gives on the
// widened weights, and the widening is paid once per block per call, not once per strip.
// Baseline SIMD has no f16 instructions: a half's exponent and mantissa are shifted into an
// f32's place and multiplied by 2^112 (the bias difference 127 - 15), which is exact and also
// turns the half subnormals (f32 subnormals after the shift) into their normal f32 values;
// the sign is OR-ed back (see widenHalf4). The widening costs ~0.2 ns a weight per call (one
// thread, gemm_f16 against gemm_f32 on the same weights): ~1.0x at M = 3136, 1.06x at M = 49,
// 3.3x at M = 1 (1280 -> 1000, 0.08 -> 0.28 ms, the f32 panels cache-resident between calls).
import { ACT_CLAMP, ACT_NONE, ACT_RELU } from './codes';
import { unary_f32 } from './eltwise';
import { partStart, splitRows } from './parallel';
import { loadLanes, madd, storeLanes } from './window';

/** Output columns per packed panel: two f32x4 vectors. */
const NR: i32 = 8;
/** Rows of A per strip: two 2x16 tiles, or one 4x8 tile on an odd last panel. */
const MR: i32 = 4;
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

/** Bytes of one half-stored panel: 8 f32 bias then K rows of 8 binary16 weights. */
// @ts-ignore: decorator
@inline function halfPanelBytes(K: i32): i32 {
  return (NR << 2) + ((K * NR) << 1);
}

/** Bytes of a half-stored packed matrix of N outputs, K deep (gemm_packed_size's panels, weights as halves). */
export function gemm_half_packed_bytes(N: i32, K: i32): i32 {
  return ((N + NR - 1) / NR) * halfPanelBytes(K);
}

/**
 * Bytes of scratch one part of gemm_f16 needs for N outputs K deep: one L2 block of panels
 * widened to f32 (or two panels, when a panel pair alone is larger: a deep K with few rows),
 * or the whole matrix's f32 panels when they are fewer.
 */
export function gemm_half_scratch_size(N: i32, K: i32): i32 {
  return min(gemm_packed_size(N, K) << 2, max(L2_BLOCK_BYTES, 2 * (panelFloats(K) << 2)));
}

/**
 * The binary16 bits of x rounded to nearest, ties to even (the sign kept); 0x7c00 | sign once x
 * rounds to ±Infinity (|x| ≥ 65520) and 0x7e00 | sign for NaN. Normal halves: the exponent
 * rebiased (127 → 15) by adding (15 − 127) << 23, then the 13 dropped fraction bits rounded by
 * adding 0xfff plus the kept lowest bit (a carry moves into the exponent, as it should).
 * Below 2^-14 (subnormal halves and 0): x + 0.5 in f32 rounds x to a multiple of 2^-24, the
 * ulp of [0.5, 1) and the subnormal half step, ties to even; its fraction bits are the half's.
 */
// @ts-ignore: decorator
@inline function halfBits(x: f32): u32 {
  const b = reinterpret<u32>(x);
  const sign = (b >> 16) & 0x8000, a = b & 0x7fffffff;
  if (a >= 0x477ff000) return sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00);
  if (a < 0x38800000) return sign | (reinterpret<u32>(reinterpret<f32>(a) + 0.5) - 0x3f000000);
  return sign | ((a + 0xc8000fff + ((a >> 13) & 1)) >> 13);
}

/**
 * Narrows `count` f32 panels K deep at src (gemm_pack's layout) into the half-stored form at dst
 * (gemm_half_packed_bytes: each panel's 8 bias floats as they are, then its 8·K weights as
 * halfBits). Returns 0, dst partly written, when a weight rounds to ±Infinity or is NaN (the
 * layer keeps float32), else 1.
 */
export function gemm_narrow_panels(src: usize, count: i32, K: i32, dst: usize): i32 {
  const n = NR * K;
  for (let p = 0; p < count; p++) {
    const s = src + (<usize>p * <usize>panelFloats(K) << 2), d = dst + <usize>p * <usize>halfPanelBytes(K);
    memory.copy(d, s, NR << 2);
    for (let i = 0; i < n; i++) {
      const h = halfBits(load<f32>(s + (<usize>(NR + i) << 2)));
      if ((h & 0x7c00) == 0x7c00) return 0;
      store<u16>(d + (NR << 2) + (<usize>i << 1), <u16>h);
    }
  }
  return 1;
}

/** 2^112 as an f32: scales a half's exponent field, placed in an f32's, from bias 15 to bias 127. */
const HALF_REBIAS: f32 = 5192296858534827628530496329220096.0;

/**
 * Four binary16 values, sign-extended to i32 lanes, as f32: exponent and mantissa shifted into
 * the f32 fields (bits 13..27) then × 2^112, exact for normals and subnormals alike (a half
 * subnormal m·2^-24 becomes the f32 subnormal m·2^-136, × 2^112 is m·2^-24 again); the sign
 * (bit 31, set by the sign extension) is OR-ed in last, so -0 stays -0. Finite halves only:
 * the host never stores Infinity or NaN (such a layer keeps float32).
 */
// @ts-ignore: decorator
@inline function widenHalf4(x: v128, rebias: v128): v128 {
  const mag = f32x4.mul(v128.and(i32x4.shl(x, 13), i32x4.splat(0x0fffe000)), rebias);
  return v128.or(mag, v128.and(x, i32x4.splat(0x80000000)));
}

/**
 * Widens rows k0 .. k0 + rows - 1 of `count` half-stored panels (K deep, at src) into f32
 * panels at dst, `bias` first (the panel's 8 bias floats, copied) when set: dst panels are
 * 32·rows (+ 32) bytes apart. One 16-byte load of 8 halves gives one f32 row (two stores).
 */
function widenHalfPanels(src: usize, count: i32, K: i32, k0: i32, rows: i32, bias: bool, dst: usize): void {
  const rebias = f32x4.splat(HALF_REBIAS);
  for (let p = 0; p < count; p++) {
    if (bias) {
      v128.store(dst, v128.load(src));
      v128.store(dst, v128.load(src, 16), 16);
      dst += NR << 2;
    }
    let s = src + (NR << 2) + (<usize>k0 << 4);
    const end = s + (<usize>rows << 4);
    for (; s < end; s += 16) {
      const h = v128.load(s);
      v128.store(dst, widenHalf4(i32x4.extend_low_i16x8_s(h), rebias));
      v128.store(dst, widenHalf4(i32x4.extend_high_i16x8_s(h), rebias), 16);
      dst += NR << 2;
    }
    src += <usize>halfPanelBytes(K);
  }
}

/**
 * The f32 form of a half-stored packed matrix (N outputs, K deep): gemm_pack's layout at dst,
 * each weight widened exactly. gemm_f16 widens the same way a block at a time; this whole-matrix
 * form serves tests and any caller that wants the float32 panels back.
 */
export function gemm_unpack_half(src: usize, N: i32, K: i32, dst: usize): void {
  widenHalfPanels(src, (N + NR - 1) / NR, K, 0, K, true, dst);
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
      v0 = f32x4.add(v0, loadLanes(r, min(nr, 4)));
      if (nr > 4) v1 = f32x4.add(v1, loadLanes(r + 16, nr - 4));
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
    storeLanes(c, v0, min(nr, 4));
    if (nr > 4) storeLanes(c + 16, v1, nr - 4);
  }
}

/**
 * ROWS (1 or 2) rows of A × 16 columns: two adjacent 8-column panels, the second `pst` bytes
 * after the first; its last nr2 (1..8) columns are stored. One k step per iteration: 4 B
 * vectors, one broadcast load per row, 8 multiply-adds. 8 accumulators + 4 B + splat +
 * product = 15 xmm registers: V8 keeps everything in registers (see the file header).
 * PACKED: the panels start with their 8 bias floats and rows are 32 bytes apart; otherwise
 * B is read in place, rows bstep bytes apart, and the bias is zero. SEG (gemm_segmented): each
 * row of A is K / segK runs of segK floats, segSkip bytes between the end of one and the next.
 */
@inline function tile16(
  ROWS: i32, PACKED: bool, SEG: bool, ACC: bool, K: i32, segK: i32, segSkip: usize, a: usize, lda: usize, b: usize, pst: usize, bstep: usize,
  c: usize, ldc: usize, r: usize, ldr: usize, nr2: i32, act: i32, lo: v128, hi: v128,
): void {
  let q = b + pst;
  let c00: v128, c01: v128, c02: v128, c03: v128;
  let c10: v128, c11: v128, c12: v128, c13: v128;
  if (ACC) {
    // a later k chunk (chunkedGemm): each row resumes from the partial sums stored in C
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c02 = loadLanes(c + (NR << 2), min(nr2, 4)); c03 = nr2 > 4 ? loadLanes(c + (NR << 2) + 16, nr2 - 4) : c02;
    if (ROWS > 1) {
      const d = c + ldc;
      c10 = v128.load(d); c11 = v128.load(d, 16);
      c12 = loadLanes(d + (NR << 2), min(nr2, 4)); c13 = nr2 > 4 ? loadLanes(d + (NR << 2) + 16, nr2 - 4) : c12;
    } else {
      c10 = c00; c11 = c01; c12 = c02; c13 = c03;
    }
  } else {
    if (PACKED) {
      c00 = v128.load(b); c01 = v128.load(b, 16);
      c02 = v128.load(q); c03 = v128.load(q, 16);
      b += NR << 2;
      q += NR << 2;
    } else {
      c00 = f32x4.splat(0); c01 = c00; c02 = c00; c03 = c00;
    }
    c10 = c00; c11 = c01; c12 = c02; c13 = c03;
  }
  let a0 = a, a1 = a + lda;
  // SEG: one pass of the k loop per run of A (a do-while, so without SEG there is no outer loop)
  let segs = SEG ? K / segK : 1;
  const inner = SEG ? segK : K;
  do {
    for (let k = 0; k < inner; k++) {
      const b0 = v128.load(b), b1 = v128.load(b, 16), b2 = v128.load(q), b3 = v128.load(q, 16);
      let x = v128.load32_splat(a0);
      c00 = madd(c00, x, b0); c01 = madd(c01, x, b1); c02 = madd(c02, x, b2); c03 = madd(c03, x, b3);
      if (ROWS > 1) {
        x = v128.load32_splat(a1);
        c10 = madd(c10, x, b0); c11 = madd(c11, x, b1); c12 = madd(c12, x, b2); c13 = madd(c13, x, b3);
      }
      a0 += 4; a1 += 4; b += bstep; q += bstep;
    }
    if (SEG) { a0 += segSkip; a1 += segSkip; }
  } while (SEG && --segs > 0);
  finishRow(c00, c01, c, r, NR, act, lo, hi);
  finishRow(c02, c03, c + (NR << 2), r != 0 ? r + (NR << 2) : 0, nr2, act, lo, hi);
  if (ROWS > 1) {
    c += ldc;
    r = r != 0 ? r + ldr : 0;
    finishRow(c10, c11, c, r, NR, act, lo, hi);
    finishRow(c12, c13, c + (NR << 2), r != 0 ? r + (NR << 2) : 0, nr2, act, lo, hi);
  }
}

/**
 * ROWS (1..4) rows × one 8-column panel (the odd panel left over by the 16-column tiles); nr
 * (1..8) columns stored. 8 accumulators + 2 B + 4 splats + product = 15 registers. PACKED and
 * SEG as for tile16.
 */
@inline function tile8(
  ROWS: i32, PACKED: bool, SEG: bool, ACC: bool, K: i32, segK: i32, segSkip: usize, a: usize, lda: usize, b: usize, bstep: usize,
  c: usize, ldc: usize, r: usize, ldr: usize, nr: i32, act: i32, lo: v128, hi: v128,
): void {
  let c00: v128, c01: v128;
  if (ACC) {
    c00 = loadLanes(c, min(nr, 4)); c01 = nr > 4 ? loadLanes(c + 16, nr - 4) : c00;
  } else if (PACKED) {
    c00 = v128.load(b); c01 = v128.load(b, 16);
    b += NR << 2;
  } else {
    c00 = f32x4.splat(0); c01 = c00;
  }
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  if (ACC) {
    // a later k chunk: every row resumes from its own partial sums in C
    if (ROWS > 1) { c10 = loadLanes(c + ldc, min(nr, 4)); c11 = nr > 4 ? loadLanes(c + ldc + 16, nr - 4) : c10; }
    if (ROWS > 2) { c20 = loadLanes(c + 2 * ldc, min(nr, 4)); c21 = nr > 4 ? loadLanes(c + 2 * ldc + 16, nr - 4) : c20; }
    if (ROWS > 3) { c30 = loadLanes(c + 3 * ldc, min(nr, 4)); c31 = nr > 4 ? loadLanes(c + 3 * ldc + 16, nr - 4) : c30; }
  }
  let a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
  let segs = SEG ? K / segK : 1;
  const inner = SEG ? segK : K;
  do {
    for (let k = 0; k < inner; k++) {
      const b0 = v128.load(b), b1 = v128.load(b, 16);
      const x0 = v128.load32_splat(a0);
      c00 = madd(c00, x0, b0); c01 = madd(c01, x0, b1);
      if (ROWS > 1) { const x1 = v128.load32_splat(a1); c10 = madd(c10, x1, b0); c11 = madd(c11, x1, b1); }
      if (ROWS > 2) { const x2 = v128.load32_splat(a2); c20 = madd(c20, x2, b0); c21 = madd(c21, x2, b1); }
      if (ROWS > 3) { const x3 = v128.load32_splat(a3); c30 = madd(c30, x3, b0); c31 = madd(c31, x3, b1); }
      a0 += 4; a1 += 4; a2 += 4; a3 += 4; b += bstep;
    }
    if (SEG) { a0 += segSkip; a1 += segSkip; a2 += segSkip; a3 += segSkip; }
  } while (SEG && --segs > 0);
  finishRow(c00, c01, c, r, nr, act, lo, hi);
  if (ROWS > 1) finishRow(c10, c11, c + ldc, r != 0 ? r + ldr : 0, nr, act, lo, hi);
  if (ROWS > 2) finishRow(c20, c21, c + 2 * ldc, r != 0 ? r + 2 * ldr : 0, nr, act, lo, hi);
  if (ROWS > 3) finishRow(c30, c31, c + 3 * ldc, r != 0 ? r + 3 * ldr : 0, nr, act, lo, hi);
}

/**
 * Shared driver: blocks of panels sized for L2 (an even count); across each block, strips of
 * MR = 4 rows of A: 2-row × 16-column tiles over the panel pairs, then one 4-row tile for an
 * odd last panel; a post-pass activation runs over each strip while it is in cache.
 * `panels` counts the 8-column panels to compute; panelStep is the byte distance between
 * panels of B, bstep between its rows.
 */
@inline function gemmDriver(
  PACKED: bool, SEG: bool, ACC: bool, K: i32, segK: i32, segSkip: usize, M: i32, N: i32, panels: i32, a: usize, lda: usize, b: usize, bstep: usize,
  panelStep: usize, c: usize, ldc: usize, r: usize, ldr: usize, act: i32, lo: v128, hi: v128,
  post: i32, p0: f32, p1: f32,
): void {
  const ldcFloats = <i32>(ldc >> 2);
  // the bytes of one panel a strip reads: the whole panel, or (a k chunk) K rows of it
  const blockBytes = PACKED && <usize>K * (NR << 2) + (NR << 2) == panelStep ? <i32>panelStep : K * (NR << 2);
  const panelsPerBlock = max(2, L2_BLOCK_BYTES / max(1, blockBytes)) & ~1;
  for (let pb = 0; pb < panels; pb += panelsPerBlock) {
    const pe = min(panels, pb + panelsPerBlock);
    const pairEnd = pb + ((pe - pb) & ~1);
    for (let m = 0; m < M; m += MR) {
      const rows = min(MR, M - m);
      const am = a + <usize>m * lda;
      const cm = c + <usize>m * ldc;
      const rm = r != 0 ? r + <usize>m * ldr : 0;
      for (let p = pb; p < pairEnd; p += 2) {
        const nr2 = min(NR, N - (p + 1) * NR);
        const bp = b + <usize>p * panelStep;
        const col = <usize>(p * NR) << 2;
        let i = 0;
        for (; i + 2 <= rows; i += 2) {
          const rr = rm != 0 ? rm + <usize>i * ldr + col : 0;
          tile16(2, PACKED, SEG, ACC, K, segK, segSkip, am + <usize>i * lda, lda, bp, panelStep, bstep, cm + <usize>i * ldc + col, ldc, rr, ldr, nr2, act, lo, hi);
        }
        if (i < rows) {
          const rr = rm != 0 ? rm + <usize>i * ldr + col : 0;
          tile16(1, PACKED, SEG, ACC, K, segK, segSkip, am + <usize>i * lda, lda, bp, panelStep, bstep, cm + <usize>i * ldc + col, ldc, rr, ldr, nr2, act, lo, hi);
        }
      }
      if (pairEnd < pe) {
        const nr = min(NR, N - pairEnd * NR);
        const bp = b + <usize>pairEnd * panelStep;
        const col = <usize>(pairEnd * NR) << 2;
        const cp = cm + col, rp = rm != 0 ? rm + col : 0;
        if (rows == 4) tile8(4, PACKED, SEG, ACC, K, segK, segSkip, am, lda, bp, bstep, cp, ldc, rp, ldr, nr, act, lo, hi);
        else if (rows == 3) tile8(3, PACKED, SEG, ACC, K, segK, segSkip, am, lda, bp, bstep, cp, ldc, rp, ldr, nr, act, lo, hi);
        else if (rows == 2) tile8(2, PACKED, SEG, ACC, K, segK, segSkip, am, lda, bp, bstep, cp, ldc, rp, ldr, nr, act, lo, hi);
        else tile8(1, PACKED, SEG, ACC, K, segK, segSkip, am, lda, bp, bstep, cp, ldc, rp, ldr, nr, act, lo, hi);
      }
      if (post != ACT_NONE) {
        const cs = cm + (<usize>(pb * NR) << 2);
        unary_f32(post, cs, cs, rows, min(N, pe * NR) - pb * NR, ldcFloats, ldcFloats, p0, p1, 0, 1);
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
  if (K > 2 * KC && M > 2 * MR && res == 0) chunkedGemm(M, N, K, a, lda, packed, c, ldc, act, p0, p1);
  else packedGemm(false, K, 0, 0, M, N, a, lda, packed, c, ldc, res, ldr, act, p0, p1);
}

/** Depth of one k chunk of chunkedGemm: a panel pair's chunk is 128 KiB, two pairs fill the L2 block. */
const KC: i32 = 2048;

/**
 * gemm() for a weight too deep for a panel pair to stay in L2 while the strips of A sweep it
 * (a detector's box head: K = 256·7·7 = 12544, one pair 800 KiB): k runs in chunks of KC; the
 * first chunk starts from the bias as usual, each later one resumes every row from the partial
 * sums it stored in C (tile ACC mode), and only the last applies the activation. The sums
 * still run in k order from the bias through f32 accumulators, so the bits equal gemm()'s in
 * one pass. Not used with a residual (C may be the residual's buffer).
 */
function chunkedGemm(
  M: i32, N: i32, K: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32, act: i32, p0: f32, p1: f32,
): void {
  const panels = (N + NR - 1) / NR;
  const panelStep = <usize>panelFloats(K) << 2;
  for (let k0 = 0; k0 < K; k0 += KC) {
    // B rows k0.. of every panel: past the panel's 8 bias floats and k0 rows of 8
    const b = k0 == 0 ? packed : packed + ((<usize>(NR + k0 * NR)) << 2);
    kChunk(M, N, panels, K, k0, min(KC, K - k0), a, lda, b, panelStep, c, ldc, act, p0, p1);
  }
}

/**
 * One k chunk of chunkedGemm: B rows k0 .. k0 + kc - 1 of `panels` panels panelStep bytes apart
 * at b (the first chunk's rows follow the panels' bias). The first chunk starts from the bias,
 * a later one resumes from the partial sums in C; the last applies the activation.
 */
function kChunk(
  M: i32, N: i32, panels: i32, K: i32, k0: i32, kc: i32, a: usize, lda: i32, b: usize, panelStep: usize,
  c: usize, ldc: i32, act: i32, p0: f32, p1: f32,
): void {
  const inRegisters = act <= ACT_CLAMP;
  const last = k0 + kc == K;
  const lo = f32x4.splat(act == ACT_RELU ? 0 : p0);
  const hi = f32x4.splat(act == ACT_RELU ? Infinity : p1);
  const none = f32x4.splat(0);
  const ra = last && inRegisters ? act : ACT_NONE;
  const post = last && !inRegisters ? act : ACT_NONE;
  const ak = a + (<usize>k0 << 2);
  if (k0 == 0) {
    gemmDriver(
      true, false, false, kc, 0, 0, M, N, panels, ak, <usize>lda << 2, b, <usize>(NR << 2), panelStep,
      c, <usize>ldc << 2, 0, 0, ra, last ? lo : none, last ? hi : none, post, p0, p1,
    );
  } else {
    gemmDriver(
      true, false, true, kc, 0, 0, M, N, panels, ak, <usize>lda << 2, b, <usize>(NR << 2), panelStep,
      c, <usize>ldc << 2, 0, 0, ra, lo, hi, post, p0, p1,
    );
  }
}

/**
 * gemm() on half-stored panels (file header): per L2 block of panels (and per k chunk where
 * gemm() chunks k), widens the block into scratch (gemm_half_scratch_size(N, K) bytes) and runs
 * gemm()'s driver on the f32 copy, in gemm()'s order, so every output has the bits gemm() gives
 * on the widened weights (gemm_unpack_half).
 */
export function gemm_h(
  M: i32, N: i32, K: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32,
  res: usize, ldr: i32, act: i32, p0: f32, p1: f32, scratch: usize,
): void {
  const panels = (N + NR - 1) / NR;
  const hstep = <usize>halfPanelBytes(K);
  const chunked = K > 2 * KC && M > 2 * MR && res == 0;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = chunked ? min(KC, K - k0) : K;
    // f32 rows of one widened panel: the bias row with the first chunk
    const rows = k0 == 0 ? kc + 1 : kc;
    const perBlock = max(2, L2_BLOCK_BYTES / (rows * (NR << 2))) & ~1;
    for (let pb = 0; pb < panels; pb += perBlock) {
      const pe = min(panels, pb + perBlock);
      const n = min(N, pe * NR) - pb * NR;
      const col = <usize>(pb * NR) << 2;
      widenHalfPanels(packed + <usize>pb * hstep, pe - pb, K, k0, kc, k0 == 0, scratch);
      if (chunked) kChunk(M, n, pe - pb, K, k0, kc, a, lda, scratch, <usize>rows * (NR << 2), c + col, ldc, act, p0, p1);
      else gemm(M, n, K, a, lda, scratch, c + col, ldc, res != 0 ? res + col : 0, ldr, act, p0, p1);
    }
    if (!chunked) break;
  }
}

/**
 * gemm() whose A rows are not stored whole: row m is `segs` runs of K floats, run s starting
 * segStride floats after run s - 1 (the packed B is segs·K deep). A direct convolution reads
 * its input this way: one run per kernel row, KW·C floats of adjacent NHWC pixels (conv.ts).
 * The sums run in the same k order as over a whole row, so the bits equal gemm()'s on the
 * gathered rows.
 */
export function gemm_segmented(
  M: i32, N: i32, segs: i32, K: i32, segStride: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32,
  res: usize, ldr: i32, act: i32, p0: f32, p1: f32,
): void {
  packedGemm(true, segs * K, K, <usize>(segStride - K) << 2, M, N, a, lda, packed, c, ldc, res, ldr, act, p0, p1);
}

/** gemm() and gemm_segmented(): SEG (a compile-time constant) picks the A walk. */
@inline function packedGemm(
  SEG: bool, K: i32, segK: i32, segSkip: usize, M: i32, N: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32,
  res: usize, ldr: i32, act: i32, p0: f32, p1: f32,
): void {
  const inRegisters = act <= ACT_CLAMP;
  const lo = f32x4.splat(act == ACT_RELU ? 0 : p0);
  const hi = f32x4.splat(act == ACT_RELU ? Infinity : p1);
  const panels = (N + NR - 1) / NR;
  gemmDriver(
    true, SEG, false, K, segK, segSkip, M, N, panels, a, <usize>lda << 2, packed, <usize>(NR << 2), <usize>panelFloats(K) << 2,
    c, <usize>ldc << 2, res, <usize>ldr << 2, inRegisters ? act : ACT_NONE, lo, hi,
    inRegisters ? ACT_NONE : act, p0, p1,
  );
}

/**
 * gemm() split for the worker pool: part `part` of `parts` computes a band of 16-column panel
 * pairs when B is the larger operand (N > M) and there are at least 4 pairs a part, otherwise
 * a band of 4-row strips or of panel pairs as splitRows picks (parallel.ts).
 */
export function gemm_f32(
  M: i32, N: i32, K: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32,
  res: usize, ldr: i32, act: i32, p0: f32, p1: f32, part: i32, parts: i32,
): void {
  gemmPart(false, M, N, K, a, lda, packed, c, ldc, res, ldr, act, p0, p1, 0, part, parts);
}

/**
 * gemm_f32 on half-stored panels (gemm_h): the same split; scratch holds parts ×
 * gemm_half_scratch_size(N, K) bytes, one block a part.
 */
export function gemm_f16(
  M: i32, N: i32, K: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32,
  res: usize, ldr: i32, act: i32, p0: f32, p1: f32, scratch: usize, part: i32, parts: i32,
): void {
  gemmPart(true, M, N, K, a, lda, packed, c, ldc, res, ldr, act, p0, p1, scratch + <usize>part * <usize>gemm_half_scratch_size(N, K), part, parts);
}

/** gemm_f32 and gemm_f16: HALF (a compile-time constant) picks the panels' form. */
// @ts-ignore: decorator
@inline function gemmPart(
  HALF: bool, M: i32, N: i32, K: i32, a: usize, lda: i32, packed: usize, c: usize, ldc: i32,
  res: usize, ldr: i32, act: i32, p0: f32, p1: f32, scratch: usize, part: i32, parts: i32,
): void {
  if (parts > 1) {
    const panels = (N + NR - 1) / NR, pairs = (panels + 1) >> 1;
    // A band of rows streams all of B, a band of columns all of A: when B is the larger (N > M,
    // a 7x7 or 14x14 map's 1x1 conv) and there are 4 panel pairs a part, cut columns
    const byRows = (M >= N || pairs < 4 * parts) && splitRows((M + MR - 1) / MR, pairs, parts);
    if (byRows) {
      const m0 = partStart(M, MR, part, parts), m1 = partStart(M, MR, part + 1, parts);
      a += (<usize>m0 * <usize>lda) << 2;
      c += (<usize>m0 * <usize>ldc) << 2;
      if (res != 0) res += (<usize>m0 * <usize>ldr) << 2;
      M = m1 - m0;
    } else {
      const q0 = partStart(panels, 2, part, parts), q1 = partStart(panels, 2, part + 1, parts);
      const n0 = q0 * NR;
      packed += <usize>q0 * <usize>(HALF ? halfPanelBytes(K) : panelFloats(K) << 2);
      c += <usize>n0 << 2;
      if (res != 0) res += <usize>n0 << 2;
      N = min(N, q1 * NR) - n0;
    }
    if (M <= 0 || N <= 0) return;
  }
  if (HALF) gemm_h(M, N, K, a, lda, packed, c, ldc, res, ldr, act, p0, p1, scratch);
  else gemm(M, N, K, a, lda, packed, c, ldc, res, ldr, act, p0, p1);
}

/**
 * Plain C = A·B, B row-major [K][N] with row stride ldb (MatMul between two activations).
 * Full 8-column panels use the micro-kernel reading B in place; the last N % 8 columns are
 * scalar dot products, so no read goes past column N-1 of B.
 */
export function matmul_f32(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, part: i32, parts: i32,
): void {
  // parts: bands of 4-row strips (parallel.ts)
  const m0 = partStart(M, MR, part, parts);
  M = partStart(M, MR, part + 1, parts) - m0;
  if (M <= 0) return;
  a += (<usize>m0 * <usize>lda) << 2;
  c += (<usize>m0 * <usize>ldc) << 2;
  const zero = f32x4.splat(0);
  const fullPanels = N / NR;
  gemmDriver(
    false, false, false, K, 0, 0, M, N, fullPanels, a, <usize>lda << 2, b, <usize>ldb << 2, <usize>(NR << 2),
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

/** k steps per gemm_peak_probe iteration (the tile's set-up and stores are amortised as in GEMM). */
const PROBE_K: i32 = 1024;

/** FLOPs per iteration of gemm_peak_probe: one 2x16 tile over PROBE_K steps, mul + add. */
export function gemm_peak_probe_flops_per_iter(): i32 {
  return 2 * 2 * NR * PROBE_K * 2;
}

/** The probe's operands: 2 rows of A (8 KiB), 2 panels of B holding one k row, a 2x16 C tile. */
const probeA = memory.data(2 * PROBE_K * 4, 16);
const probeB = memory.data(2 * 2 * NR * 4, 16);
const probeC = memory.data(2 * 2 * NR * 4, 16);

/**
 * The micro-kernel without its data stream: `iters` calls of the same 2x16 tile whose B rows
 * are all one row (B step 0), so every operand is an L1 hit. Its rate is the attainable peak of
 * the kernel's instruction mix; GEMM's share of it shows what blocking and memory cost.
 */
export function gemm_peak_probe(iters: i32): f32 {
  for (let i = 0; i < 2 * PROBE_K; i++) store<f32>(probeA + (<usize>i << 2), <f32>(i % 13 + 1) * 1e-3);
  for (let i = 0; i < 4 * NR; i++) store<f32>(probeB + (<usize>i << 2), <f32>(i % 7 + 1) * 1e-3);
  const zero = f32x4.splat(0);
  for (let i = 0; i < iters; i++) {
    tile16(2, true, false, false, PROBE_K, 0, 0, probeA, PROBE_K << 2, probeB, 2 * NR << 2, 0, probeC, 2 * NR << 2, 0, 0, NR, ACT_NONE, zero, zero);
  }
  let s: f32 = 0;
  for (let i = 0; i < 4 * NR; i++) s += load<f32>(probeC + (<usize>i << 2));
  return s;
}
