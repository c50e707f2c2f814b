// int8 GEMM with a requantizing epilogue: Y = requant(A·Wᵀ), A uint8 or int8 activations with a
// zero point, W int8 weights (symmetric: zero point 0, as PyTorch's per-channel qint8 and
// onnxruntime's quantizer default), i32 accumulation, WebAssembly baseline SIMD.
//
// Sums. i32x4.dot_i16x8_s multiplies 8 i16 lane pairs and adds adjacent products: with B packed
// as (w[n][k], w[n][k+1]) i16 pairs for 4 columns n and A as the pair (a[m][k], a[m][k+1])
// broadcast to every lane pair, one dot + one i32x4.add advance 4 columns by 2 k steps. The
// driver widens each strip of 4 rows of A to i16 once per L2 block of panels (widenStrip), so
// the broadcast is one v128.load32_splat (a plain load on x86); broadcasting bytes instead
// (v128.load16_splat then i16x8.extend_low_i8x16_u/s) put two shuffle-port instructions per row
// and k-pair beside the 8 dots and 8 adds: 0.86-0.92x the time with the widened strips
// (bench/qgemm-ab.js, 72-76 -> 81-84 GOPS on resnet50's GEMM shapes; 1.0x at 49x512x4608,
// whose 147 KB panels make one-panel blocks: a strip is widened for each panel there. Keeping
// the byte broadcast for such blocks would gain nothing measurable and cost a second set of
// tiles in the wasm, ~30 KB). The activation zero
// point is not subtracted in the loop: Σ(a − za)·w = Σ a·w − za·Σ w, with Σ_k w[n][k] stored
// in the packed panel (an exact integer identity; i32 cannot overflow for K < 2^16 since
// |a·w| ≤ 255·128). An odd last k uses v128.load8_splat (a, a) against (w, 0), so no byte past
// K - 1 of a row of A is ever read.
//
// Requantization: the rule of onnxruntime's MLAS (MlasRequantizeOutput in requantize.cpp, the
// output processor of QLinearConv and QLinearMatMul on x86; ARM64 builds may opt into a
// fixed-point variant), which is also the ONNX QuantizeLinear rule (saturate(round half to even
// (x / y_scale) + zero point)) applied to the dequantized accumulator:
//   v   = f32(acc + bias[n])           i32 → f32 rounding to nearest even (cvtdq2ps)
//   v   = v · scale[n]                 one f32 multiply (scale = x_scale·w_scale[n]/y_scale,
//                                      evaluated in f32 in that order by the host, as ORT does)
//   v   = min(max(v, lo − zy), hi − zy)  clamp in float (lo/hi: output ints, the type's range
//                                      narrowed by a fused ReLU / ReLU6)
//   y   = roundHalfEven(v) + zy        ORT: _mm_cvtps_epi32 (MXCSR nearest-even) or the
//                                      1.5·2^23 "magic number" add on its scalar/NEON paths
// We use the magic-number form: after the clamp |v| ≤ 255 < 2^22, so v + 12582912 rounds to an
// integer half-to-even in the f32 add and its bits minus 0x4B400000 are that integer; zy folds
// into the subtraction. This gives exactly ORT's bytes (same conversion, same product, same
// clamp, same ties): bench/qgemm-ort.js compares qgemm_q8 with onnxruntime-node 1.30's
// QLinearMatMul on random odd shapes (uint8 and int8, per-column scales, ~20k exact ties) and
// finds no differing byte. A gemmlowp-style fixed-point multiplier + rounding right shift (what
// old ORT releases used) applies a 31-bit rather than a 24-bit scale to the exact integer and
// rounds ties away from zero, so it differs from today's ORT by one step on ties and
// near-ties; it is not used. Clamping before rounding equals clamping after: the bounds are
// integers and rounding is monotone.
//
// Blocking and tiles follow gemm.ts (its header explains the shapes: V8 keeps 15 xmm registers):
// strips of 4 rows, a 2-row × 16-column tile (8 i32 accumulators + 4 B vectors + 1 widened A
// pair + 1 product) and a 1..4-row × 8-column tile for a last panel of at most 8 columns. The
// panels are 16 columns wide (not gemm.ts's 8-column pairs) so the tile walks one B pointer
// with constant offsets and ends its loop on that pointer: the loop's scalar bookkeeping is a
// fifth of its instructions, and this cut it from 7 to 5 (int8 runs ~2x the multiply-adds per
// SIMD instruction of f32, so the bookkeeping weighs twice as much). The 16 columns of one
// tile row narrow (i16x8.narrow, i8x16.narrow) into one 16-byte store. Unrolling the k loop by
// two k-pairs spilled (as gemm.ts found for f32) and ran ~20% slower.
//
// Speed (bench/qgemm-ab.js, one thread, 2-vCPU EPYC, Node 20, helper load on the machine): ~84 GOPS
// at 256³ and ~81-84 at resnet50's conv GEMMs, against gemm_f32's ~48 GFLOP/s: int8 takes
// ~0.57x the f32 time (before the widened strips of A: ~77 GOPS, 0.60-0.64x).
//
// Weights are packed as i8 pairs (1 byte a weight) but multiplied as i16 pairs: widening them in
// the tile costs 1.16-1.2x the time (i16x8.load8x8_s, one pmovsxbw on x86) or 1.19-1.25x (one
// 16-byte load, i16x8.extend_low/high_i8x16_s), as the loads of i16 panels were the cheapest
// part of the loop. So the driver widens one L2 block of panels at a time into the caller's
// scratch (qgemm_scratch_size: 256 KiB a part) and the tiles read that copy once per strip of
// rows: the widening is paid once per call, not once per strip (same time as i16 panels within
// noise from M = 196, ~1.05x at M = 49; interleaved minimums, bench/qgemm-ab.js). A call of one
// strip (M ≤ 4: fully connected layers, squeeze-excite) widens in the tile instead (~1.25x the
// i16 panels' time, against ~2x for a separate widening pass).
//
// The relaxed build adds two modes (qgemm_relaxed_dots; src/quant picks one per engine and CPU
// by timing them): i8 k-quads (1 byte a weight) and i32x4.relaxed_dot_i8x16_i7x16_add_s, with
// the activations split into two 7-bit operands (mode 1, exact on every engine: see the relaxed
// tiles), or as they are (mode 2, only where the engine multiplies full-range unsigned bytes
// exactly, as AVX-VNNI's vpdpbusd does). All modes give the same bytes. Their relative speed is
// the engine's and CPU's (bench/qgemm-ab.js, one thread, same build, interleaved): V8 15 with
// AVX-VNNI (one vpdpbusd a dot) mode 1 0.88-0.92x the pairs' time, mode 2 0.41-0.42x (~220 GOPS);
// V8 15 without it (pmaddubsw + pmaddwd + paddd) mode 1 2.2x; V8 11.3 (Node 20) 2.1-2.6x.
//
// Packed W layout (qgemm_pack), bytes: a 16-byte header (i32 mode: 0 k-pairs, 1 or 2 k-quads;
// zero padding), then ceil(N/16) panels, each
//   [16 × i32 column sums Σ_k w[n][k]] then
//   k-pairs: [ceil(K/2) rows × 16 columns × (i8 w[n][k], i8 w[n][k+1])], or
//   k-quads: [ceil(K/4) rows × 16 columns × (i8 w[n][k], .., i8 w[n][k+3])]
// columns past N and the k past K are zero.
import { partStart, splitRows } from './parallel';
import { loadLanes, storeLanes } from './window';
import { bounded, MAGIC_BITS, narrow16, requantLanes, roundLanes, storeBytes } from './requant';
import { applyPost } from './qpost';

/** Output columns per packed panel: four i32x4 accumulators a row. */
const NR: i32 = 16;
/** Rows of A per strip. */
const MR: i32 = 4;
/**
 * Byte at which qgemm_relaxed_dots keeps the packing mode: 1 when the relaxed build's qgemm_pack
 * writes i8 k-quads for i32x4.relaxed_dot_i8x16_i7x16_add_s, 0 (the default, and always in the
 * baseline build) for i8 k-pairs widened to i16 for i32x4.dot_i16x8_s (both 1 byte a weight).
 * Packed weights record their mode in their header, so weights packed in either mode run right.
 */
const QUADS_AT: usize = memory.data(16);
// @ts-ignore: decorator
@inline function quads(): bool {
  return ASC_FEATURE_RELAXED_SIMD && load<u8>(QUADS_AT) != 0;
}
/** The packing mode in force: 0 k-pairs, 1 k-quads with split activations, 2 k-quads as they are. */
// @ts-ignore: decorator
@inline function mode(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? <i32>load<u8>(QUADS_AT) : 0;
}
/** Bytes before the panels: the i32 mode (1: k-quads) then padding to 16. */
const HEADER: i32 = 16;
/** The mode packed weights were written in (0 in the baseline build). */
// @ts-ignore: decorator
@inline function packedMode(packed: usize): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? load<i32>(packed) : 0;
}
/** Bytes of a panel's column sums (16 × i32) and of one k-quad row (16 columns × 4 i8). */
const ROW_BYTES: i32 = 64;
/** Bytes of one packed k-pair row: 16 columns × 2 i8 (widened to 16 × 2 i16 in the scratch). */
const PAIR_BYTES: i32 = 32;
/** Bytes of packed W one strip of A sweeps before moving on (half of a 512 KiB L2). */
const L2_BLOCK_BYTES: i32 = 256 * 1024;

/** Bytes of one packed panel: the column sums then ceil(K/4) k-quad or ceil(K/2) k-pair rows. */
// @ts-ignore: decorator
@inline function panelBytes(QUADS: bool, K: i32): i32 {
  return ROW_BYTES + (QUADS ? ROW_BYTES * ((K + 3) >> 2) : PAIR_BYTES * ((K + 1) >> 1));
}

/** Bytes of one k-pair panel widened for the tiles: the column sums then ceil(K/2) rows of 16 × 2 i16. */
// @ts-ignore: decorator
@inline function wideBytes(K: i32): i32 {
  return ROW_BYTES * (1 + ((K + 1) >> 1));
}

/**
 * Bytes of scratch one part of qgemm_q8 / qgemm_i32 needs for weights of depth K: one L2 block
 * of k-pair panels widened to i16 (or one panel, when a panel alone is larger), then a strip of
 * 4 rows of A widened to i16 (widenStrip).
 */
export function qgemm_scratch_size(K: i32): i32 {
  return panelScratch(K) + MR * stripRowBytes(K);
}

/** Bytes of the scratch's first region: one L2 block of widened k-pair panels (or one panel, when larger). */
// @ts-ignore: decorator
@inline function panelScratch(K: i32): i32 {
  return max(L2_BLOCK_BYTES, wideBytes(K));
}

/** Bytes of one row of A widened to i16 (K rounded up to even, the pad zero), a multiple of 16. */
// @ts-ignore: decorator
@inline function stripRowBytes(K: i32): i32 {
  return ((K + 1) & ~1) * 2 + 15 & ~15;
}

/**
 * Widens `rows` rows of A (K bytes each, lda apart; int8 when SIGNED, else uint8) into i16 rows
 * stripRowBytes(K) apart at dst, an odd K's pad lane zero: the tiles then broadcast a k-pair
 * with one v128.load32_splat (a plain load on x86) instead of load16_splat + extend (two
 * shuffle-port instructions, the tile's only ones besides the dots).
 */
function widenStrip(SIGNED: bool, a: usize, lda: usize, rows: i32, K: i32, dst: usize): void {
  const rb = <usize>stripRowBytes(K);
  for (let r = 0; r < rows; r++) {
    const s = a + <usize>r * lda, d = dst + <usize>r * rb;
    let k = 0;
    for (; k + 16 <= K; k += 16) widen16(SIGNED, s + <usize>k, d + (<usize>k << 1));
    if (k < K && K >= 16) {
      // the last 16 bytes of the row again (overlapping what is done: the same values)
      widen16(SIGNED, s + <usize>(K - 16), d + (<usize>(K - 16) << 1));
      k = K;
    }
    for (; k < K; k++) store<i16>(d + (<usize>k << 1), SIGNED ? <i16>load<i8>(s + <usize>k) : <i16>load<u8>(s + <usize>k));
    if (K & 1) store<i16>(d + (<usize>K << 1), 0);
  }
}

/** The 16 bytes at s (int8 when SIGNED, else uint8) as 16 i16 at d. */
// @ts-ignore: decorator
@inline function widen16(SIGNED: bool, s: usize, d: usize): void {
  const v = v128.load(s);
  v128.store(d, SIGNED ? i16x8.extend_low_i8x16_s(v) : i16x8.extend_low_i8x16_u(v));
  v128.store(d, SIGNED ? i16x8.extend_high_i8x16_s(v) : i16x8.extend_high_i8x16_u(v), 16);
}

/**
 * Widens `count` packed k-pair panels at src (i8 pairs) into the tiles' form at dst: in place
 * of the column sums Σw, the call's constant part of each column's sum, bias[n] − za·Σw[n]
 * (wrapping i32, the same value modulo 2^32 as the epilogue's acc − za·Σw + bias in any order),
 * so the tiles start their sums from it (FOLD); each row's 16 × 2 i8 as 16 × 2 i16 (two loads, four
 * extends). The panels' columns are n, n + 1, ...: nLeft of them exist (bias read only there).
 */
function widenPanels(src: usize, count: i32, K: i32, dst: usize, za: v128, bias: usize, n: i32, nLeft: i32): void {
  const rows = (K + 1) >> 1;
  const z = i32x4.splat(0);
  for (let p = 0; p < count; p++) {
    for (let i = 0; i < ROW_BYTES; i += 16) {
      const nv = min(4, nLeft - p * NR - (i >> 2));
      const b = bias != 0 && nv > 0 ? loadLanes(bias + (<usize>(n + p * NR + (i >> 2)) << 2), nv) : z;
      v128.store(dst + <usize>i, i32x4.sub(b, i32x4.mul(za, v128.load(src + <usize>i))));
    }
    let s = src + ROW_BYTES, d = dst + ROW_BYTES;
    for (let q = 0; q < rows; q++) {
      widen16(true, s, d);
      widen16(true, s + 16, d + 32);
      s += PAIR_BYTES;
      d += ROW_BYTES;
    }
    src += <usize>panelBytes(false, K);
    dst += <usize>wideBytes(K);
  }
}

/**
 * Relaxed build: on = 1 or 2 makes qgemm_packed_size and qgemm_pack use i8 k-quads, run by
 * relaxed dots on split 7-bit activations (1) or on the activation bytes as they are (2: only
 * for engines that multiply a full-range unsigned operand exactly, see utile), 0 the baseline
 * build's i8 k-pairs; returns the mode now in force (always 0 in the baseline build). qgemm_q8
 * and qgemm_i32 follow each packed matrix's own mode. Only for engines that compute relaxed_dot_i8x16_i7x16_add_s right in every tier:
 * V8 11.3's Liftoff (Node 20 with --experimental-wasm-relaxed-simd) drops its accumulator
 * (test/relaxed/qgemm-check.mjs shows it).
 */
export function qgemm_relaxed_dots(on: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  const m = on == 2 ? 2 : on != 0 ? 1 : 0;
  store<u8>(QUADS_AT, <u8>m);
  return m;
}

/** Bytes needed for the packed form of an int8 weight matrix with N outputs and depth K. */
export function qgemm_packed_size(N: i32, K: i32): i32 {
  return HEADER + ((N + NR - 1) / NR) * panelBytes(quads(), K);
}

/**
 * Packs int8 weights w ([N][K] row-major, row stride K bytes; one row per output channel,
 * zero point 0) into a header and 16-column panels of i8 k-pairs, or i8 k-quads in the relaxed
 * build's quad mode (qgemm_relaxed_dots), with their column sums (see the file header).
 */
export function qgemm_pack(w: usize, N: i32, K: i32, dst: usize): void {
  const panels = (N + NR - 1) / NR;
  const q4 = quads();
  const KSTEP = q4 ? 4 : 2;
  const rows = (K + KSTEP - 1) / KSTEP;
  const rowBytes = q4 ? ROW_BYTES : PAIR_BYTES;
  memory.fill(dst, 0, HEADER);
  store<i32>(dst, mode());
  dst += HEADER;
  for (let p = 0; p < panels; p++) {
    const panel = dst + <usize>p * <usize>panelBytes(q4, K);
    for (let j = 0; j < NR; j++) {
      const n = p * NR + j;
      const row = w + <usize>n * <usize>K;
      let sum = 0;
      let q = 0;
      if (!q4 && n < N) {
        // a real column's whole k-pairs, without the bounds checks of the general loop below
        let at = panel + <usize>(ROW_BYTES + 2 * j);
        for (; 2 * q + 1 < K; q++) {
          const v0 = <i32>load<i8>(row + <usize>(2 * q)), v1 = <i32>load<i8>(row + <usize>(2 * q + 1));
          sum += v0 + v1;
          store<u16>(at, (<u32>v0 & 0xff) | ((<u32>v1 & 0xff) << 8));
          at += <usize>PAIR_BYTES;
        }
      }
      for (; q < rows; q++) {
        // column j's KSTEP bytes of panel row q: KSTEP weights of KSTEP k, zero past N and K
        const at = panel + <usize>(ROW_BYTES + rowBytes * q + KSTEP * j);
        for (let t = 0; t < KSTEP; t++) {
          const k = KSTEP * q + t;
          const v: i32 = n < N && k < K ? <i32>load<i8>(row + <usize>k) : 0;
          sum += v;
          store<i8>(at + <usize>t, <i8>v);
        }
      }
      store<i32>(panel + (<usize>j << 2), sum);
    }
  }
}

/**
 * Columns 4h..4h+3 of a k-pair row at p as the tiles multiply them, (w[k], w[k+1]) i16 pairs:
 * from a widened panel (I8 false) as they are, from a packed panel (I8 true) widened by the load.
 */
// @ts-ignore: decorator
@inline function bpairs(I8: bool, p: usize, h: i32): v128 {
  return I8 ? v128.load8x8_s(p + <usize>(8 * h)) : v128.load(p + <usize>(16 * h));
}

/** (a[k], a[k+1]) widened to i16 and broadcast to all 4 lane pairs (A16: A is widenStrip's i16 rows). */
// @ts-ignore: decorator
@inline function pairSplat(A16: bool, SIGNED: bool, p: usize): v128 {
  if (A16) return v128.load32_splat(p);
  const v = v128.load16_splat(p);
  return SIGNED ? i16x8.extend_low_i8x16_s(v) : i16x8.extend_low_i8x16_u(v);
}

/** (a[k], a[k]) for an odd last k (its partner weight is zero): reads one byte only. */
// @ts-ignore: decorator
@inline function lastSplat(SIGNED: bool, p: usize): v128 {
  const v = v128.load8_splat(p);
  return SIGNED ? i16x8.extend_low_i8x16_s(v) : i16x8.extend_low_i8x16_u(v);
}

// @ts-ignore: decorator
@inline function dotAdd(acc: v128, x: v128, b: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, b));
}

// The epilogue's per-call values travel as the last arguments of every inlined helper below:
// za (i32x4 activation zero point), lo/hi (under EPI_CLAMP f32x4 bounds lo − zy, hi − zy, else
// byte splats of lo, hi: see toBytes), off (i32x4 magic
// bits − zy), scale (f32 [N] or one), epi (EPI_* flags), bias (i32 [N] or 0), ySigned. Arguments,
// not a static block: the threads of the shared-memory build run parts of one call at once.

/** epi flag: one scale per column (else one for all). */
const EPI_PER_CHANNEL: i32 = 1;
/**
 * epi flag: clamp to [lo, hi] in float before rounding. Off when |acc · scale| < 2^22 for any
 * accumulator the call can make (qgemm_q8 checks it): the magic-number rounding is then exact,
 * the saturating narrows clamp to the type's range and toBytes to [lo, hi] (the
 * bounds of a fused ReLU / ReLU6) on the bytes: rounding is monotone and the bounds are
 * integers, so clamping the rounded values equals clamping before rounding. Two of the float
 * epilogue's ~7 SIMD operations a vector become two per 16 bytes.
 */
const EPI_CLAMP: i32 = 2;

/**
 * 16 rounded i32 lanes as bytes: narrowed with saturation to the output type (int8 when
 * ySigned, else uint8), then clamped to [lo, hi] (byte splats) unless EPI_CLAMP clamped them in float.
 */
// @ts-ignore: decorator
@inline function toBytes(q0: v128, q1: v128, q2: v128, q3: v128, lo: v128, hi: v128, epi: i32, ySigned: i32): v128 {
  return (epi & EPI_CLAMP) != 0 ? narrow16(q0, q1, q2, q3, ySigned) : bytesOf(q0, q1, q2, q3, lo, hi, ySigned);
}

/**
 * 16 rounded i32 lanes narrowed to bytes and clamped to [lo, hi] (byte splats) under one test of
 * the output type; max then min, as the float clamp: bounds lo > hi give hi.
 */
// @ts-ignore: decorator
@inline function bytesOf(q0: v128, q1: v128, q2: v128, q3: v128, lo: v128, hi: v128, ySigned: i32): v128 {
  const h0 = i16x8.narrow_i32x4_s(q0, q1), h1 = i16x8.narrow_i32x4_s(q2, q3);
  return ySigned != 0
    ? i8x16.min_s(i8x16.max_s(i8x16.narrow_i16x8_s(h0, h1), lo), hi)
    : i8x16.min_u(i8x16.max_u(i8x16.narrow_i16x8_u(h0, h1), lo), hi);
}

/**
 * Σ(a − za)·w + bias of columns n..n+3 (nv of them valid, 1..4): the sums Σ_k w are at `sums`,
 * or (FOLD: a panel widenPanels wrote, whose bias − za·Σw the tile started its sums from) acc is.
 */
// @ts-ignore: decorator
@inline function exact(FOLD: bool, acc: v128, sums: usize, n: i32, nv: i32, za: v128, bias: usize): v128 {
  if (FOLD) return acc;
  acc = i32x4.sub(acc, i32x4.mul(za, v128.load(sums)));
  if (bias != 0) acc = i32x4.add(acc, loadLanes(bias + (<usize>n << 2), nv));
  return acc;
}

/**
 * Requantizes 4 accumulators of columns n..n+3 (nv of them valid, 1..4) of the panel whose
 * column sums are at `sums`: acc − za·Σw + bias → f32 · scale → clamp → round half even + zy (i32).
 */
// @ts-ignore: decorator
@inline function requant(FOLD: bool, acc: v128, sums: usize, n: i32, nv: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32): v128 {
  acc = exact(FOLD, acc, sums, n, nv, za, bias);
  const s = (epi & EPI_PER_CHANNEL) != 0 ? loadLanes(scale + (<usize>n << 2), nv) : v128.load32_splat(scale);
  if ((epi & EPI_CLAMP) != 0) return requantLanes(acc, s, lo, hi, off);
  return roundLanes(f32x4.mul(f32x4.convert_i32x4_s(acc), s), off);
}

/** One exact i32 tile row of 16 columns, n2 (1..8) of the second 8 stored (v2 = min(n2, 4)). */
// @ts-ignore: decorator
@inline function row32(FOLD: bool, c0: v128, c1: v128, c2: v128, c3: v128, b: usize, y: usize, n0: i32, n2: i32, v2: i32, za: v128, bias: usize): void {
  v128.store(y, exact(FOLD, c0, b, n0, 4, za, bias));
  v128.store(y, exact(FOLD, c1, b + 16, n0 + 4, 4, za, bias), 16);
  storeLanes(y + 32, exact(FOLD, c2, b + 32, n0 + 8, v2, za, bias), v2);
  if (n2 > 4) storeLanes(y + 48, exact(FOLD, c3, b + 48, n0 + 12, n2 - 4, za, bias), n2 - 4);
}

/**
 * ROWS (1 or 2) rows × one 16-column panel at b (columns n0.., nc of them (9..16) stored). Per
 * k-pair: 4 B vectors, one widened A pair per row, 8 dot + 8 add.
 */
// @ts-ignore: decorator
@inline function tile16(
  OUT32: bool, I8: bool, A16: bool, ROWS: i32, SIGNED: bool, K: i32, a: usize, lda: usize, b: usize, y: usize, ldy: usize, n0: i32, nc: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32,
): void {
  const RB: usize = I8 ? PAIR_BYTES : ROW_BYTES;
  let p = b + ROW_BYTES;
  // A16: an odd K's last pair is (a, 0) against (w, 0), a whole pair like the others
  const end = p + <usize>((A16 ? K + 1 : K) >> 1) * RB;
  const AS: usize = A16 ? 4 : 2;
  const z = i32x4.splat(0);
  // a widened panel's sums start from its bias − za·Σw (exact's FOLD): one add less per vector
  const i0 = I8 ? z : v128.load(b), i1 = I8 ? z : v128.load(b, 16), i2 = I8 ? z : v128.load(b, 32), i3 = I8 ? z : v128.load(b, 48);
  let c00 = i0, c01 = i1, c02 = i2, c03 = i3, c10 = i0, c11 = i1, c12 = i2, c13 = i3;
  let a0 = a, a1 = a + lda;
  while (p < end) {
    const b0 = bpairs(I8, p, 0), b1 = bpairs(I8, p, 1), b2 = bpairs(I8, p, 2), b3 = bpairs(I8, p, 3);
    let x = pairSplat(A16, SIGNED, a0);
    c00 = dotAdd(c00, x, b0); c01 = dotAdd(c01, x, b1); c02 = dotAdd(c02, x, b2); c03 = dotAdd(c03, x, b3);
    if (ROWS > 1) {
      x = pairSplat(A16, SIGNED, a1);
      c10 = dotAdd(c10, x, b0); c11 = dotAdd(c11, x, b1); c12 = dotAdd(c12, x, b2); c13 = dotAdd(c13, x, b3);
    }
    a0 += AS; a1 += AS; p += RB;
  }
  if (!A16 && (K & 1)) {
    const b0 = bpairs(I8, p, 0), b1 = bpairs(I8, p, 1), b2 = bpairs(I8, p, 2), b3 = bpairs(I8, p, 3);
    let x = lastSplat(SIGNED, a0);
    c00 = dotAdd(c00, x, b0); c01 = dotAdd(c01, x, b1); c02 = dotAdd(c02, x, b2); c03 = dotAdd(c03, x, b3);
    if (ROWS > 1) {
      x = lastSplat(SIGNED, a1);
      c10 = dotAdd(c10, x, b0); c11 = dotAdd(c11, x, b1); c12 = dotAdd(c12, x, b2); c13 = dotAdd(c13, x, b3);
    }
  }
  finish16(!I8, OUT32, c00, c01, c02, c03, b, y, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  if (ROWS > 1) finish16(!I8, OUT32, c10, c11, c12, c13, b, y + ldy, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
}

/** 4 whole columns' accumulators (exact's) times their scales s, rounded half to even, + zy (no float clamp). */
// @ts-ignore: decorator
@inline function scaled(FOLD: bool, acc: v128, sums: usize, n: i32, s: v128, za: v128, off: v128, bias: usize): v128 {
  return roundLanes(f32x4.mul(f32x4.convert_i32x4_s(exact(FOLD, acc, sums, n, 4, za, bias)), s), off);
}

/** One tile row of a 16-column panel whose column sums are at b: nc (9..16) columns stored. */
// @ts-ignore: decorator
@inline function finish16(FOLD: bool, OUT32: bool, c0: v128, c1: v128, c2: v128, c3: v128, b: usize, y: usize, n0: i32, nc: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32): void {
  // valid columns of the second half: 1..8; a vector with none is not requantized (its bias
  // and scale would lie past N)
  const n2 = nc - 8;
  const v2 = min(n2, 4);
  if (OUT32) {
    row32(FOLD, c0, c1, c2, c3, b, y, n0, n2, v2, za, bias);
    return;
  }
  if (nc == NR && (epi & EPI_CLAMP) == 0) {
    // the common row (16 columns, no float clamp) in straight-line code: the general path below
    // tests the flags and the columns left per vector (~0.9x the time of 1x1 convs of K = 16..32)
    let s0: v128, s1: v128, s2: v128, s3: v128;
    if ((epi & EPI_PER_CHANNEL) != 0) {
      const sp = scale + (<usize>n0 << 2);
      s0 = v128.load(sp); s1 = v128.load(sp, 16); s2 = v128.load(sp, 32); s3 = v128.load(sp, 48);
    } else {
      s0 = v128.load32_splat(scale); s1 = s0; s2 = s0; s3 = s0;
    }
    v128.store(y, bytesOf(
      scaled(FOLD, c0, b, n0, s0, za, off, bias), scaled(FOLD, c1, b + 16, n0 + 4, s1, za, off, bias),
      scaled(FOLD, c2, b + 32, n0 + 8, s2, za, off, bias), scaled(FOLD, c3, b + 48, n0 + 12, s3, za, off, bias), lo, hi, ySigned));
    return;
  }
  storeBytes(y, toBytes(
    requant(FOLD, c0, b, n0, 4, za, lo, hi, off, scale, epi, bias, ySigned), requant(FOLD, c1, b + 16, n0 + 4, 4, za, lo, hi, off, scale, epi, bias, ySigned),
    requant(FOLD, c2, b + 32, n0 + 8, v2, za, lo, hi, off, scale, epi, bias, ySigned), n2 > 4 ? requant(FOLD, c3, b + 48, n0 + 12, n2 - 4, za, lo, hi, off, scale, epi, bias, ySigned) : i32x4.splat(0), lo, hi, epi, ySigned), nc);
}

/** One requantized 8-column tile row: nc (1..8) bytes stored. */
// @ts-ignore: decorator
@inline function finish8(FOLD: bool, OUT32: bool, c0: v128, c1: v128, sums: usize, y: usize, n0: i32, nc: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32): void {
  if (OUT32) {
    storeLanes(y, exact(FOLD, c0, sums, n0, min(nc, 4), za, bias), min(nc, 4));
    if (nc > 4) storeLanes(y + 16, exact(FOLD, c1, sums + 16, n0 + 4, nc - 4, za, bias), nc - 4);
    return;
  }
  const q0 = requant(FOLD, c0, sums, n0, min(nc, 4), za, lo, hi, off, scale, epi, bias, ySigned);
  const q1 = nc > 4 ? requant(FOLD, c1, sums + 16, n0 + 4, nc - 4, za, lo, hi, off, scale, epi, bias, ySigned) : i32x4.splat(0);
  const v = toBytes(q0, q1, q0, q1, lo, hi, epi, ySigned);
  if (nc == 8) v128.store64_lane(y, v, 0);
  else storeBytes(y, v, nc);
}

/** ROWS (1..4) rows × the first 8 columns of a panel (a last panel of nc ≤ 8 columns, all stored). */
// @ts-ignore: decorator
@inline function tile8(
  OUT32: bool, I8: bool, A16: bool, ROWS: i32, SIGNED: bool, K: i32, a: usize, lda: usize, b: usize, y: usize, ldy: usize, n0: i32, nc: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32,
): void {
  const RB: usize = I8 ? PAIR_BYTES : ROW_BYTES;
  let p = b + ROW_BYTES;
  const end = p + <usize>((A16 ? K + 1 : K) >> 1) * RB;
  const AS: usize = A16 ? 4 : 2;
  const z = i32x4.splat(0);
  const i0 = I8 ? z : v128.load(b), i1 = I8 ? z : v128.load(b, 16);
  let c00 = i0, c01 = i1, c10 = i0, c11 = i1, c20 = i0, c21 = i1, c30 = i0, c31 = i1;
  let a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
  while (p < end) {
    const b0 = bpairs(I8, p, 0), b1 = bpairs(I8, p, 1);
    const x0 = pairSplat(A16, SIGNED, a0);
    c00 = dotAdd(c00, x0, b0); c01 = dotAdd(c01, x0, b1);
    if (ROWS > 1) { const x1 = pairSplat(A16, SIGNED, a1); c10 = dotAdd(c10, x1, b0); c11 = dotAdd(c11, x1, b1); }
    if (ROWS > 2) { const x2 = pairSplat(A16, SIGNED, a2); c20 = dotAdd(c20, x2, b0); c21 = dotAdd(c21, x2, b1); }
    if (ROWS > 3) { const x3 = pairSplat(A16, SIGNED, a3); c30 = dotAdd(c30, x3, b0); c31 = dotAdd(c31, x3, b1); }
    a0 += AS; a1 += AS; a2 += AS; a3 += AS; p += RB;
  }
  if (!A16 && (K & 1)) {
    const b0 = bpairs(I8, p, 0), b1 = bpairs(I8, p, 1);
    const x0 = lastSplat(SIGNED, a0);
    c00 = dotAdd(c00, x0, b0); c01 = dotAdd(c01, x0, b1);
    if (ROWS > 1) { const x1 = lastSplat(SIGNED, a1); c10 = dotAdd(c10, x1, b0); c11 = dotAdd(c11, x1, b1); }
    if (ROWS > 2) { const x2 = lastSplat(SIGNED, a2); c20 = dotAdd(c20, x2, b0); c21 = dotAdd(c21, x2, b1); }
    if (ROWS > 3) { const x3 = lastSplat(SIGNED, a3); c30 = dotAdd(c30, x3, b0); c31 = dotAdd(c31, x3, b1); }
  }
  finish8(!I8, OUT32, c00, c01, b, y, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  if (ROWS > 1) finish8(!I8, OUT32, c10, c11, b, y + ldy, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  if (ROWS > 2) finish8(!I8, OUT32, c20, c21, b, y + 2 * ldy, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  if (ROWS > 3) finish8(!I8, OUT32, c30, c31, b, y + 3 * ldy, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
}

// ---- relaxed build: i8 k-quads and i32x4.relaxed_dot_i8x16_i7x16_add_s ----
// relaxed_dot(w, x, acc) adds 16 products w[i]·x[i] (w signed i8) in quads to acc's 4 lanes; it is
// deterministic only when every x byte is within 0..127 (V8 on x86 lowers it to pmaddubsw with
// x as the unsigned operand and i16 pair sums, which cannot saturate then). Weights are the
// signed operand, 4 k a lane; activations are split into two 7-bit operands a = 2·(a >> 1) +
// (a & 1) (int8 ones made unsigned first: a ^ 0x80 = a + 128, the 128·Σw of which joins the zero
// point's za·Σw), each with its own accumulator: Σ a·w = 2·Σ hi·w + Σ lo·w, exact in i32.

/**
 * 4 activation bytes at p broadcast to every lane (r of them, 1..3, for a last partial quad, the
 * rest zero: nothing past them is read), int8 ones made unsigned (xor 0x80).
 */
// @ts-ignore: decorator
@inline function quadSplat(SIGNED: bool, p: usize, r: i32): v128 {
  let v: v128;
  if (r == 4) v = v128.load32_splat(p);
  else {
    let x: u32 = <u32>load<u8>(p);
    if (r > 1) x |= <u32>load<u8>(p + 1) << 8;
    if (r > 2) x |= <u32>load<u8>(p + 2) << 16;
    v = i32x4.splat(x);
  }
  return SIGNED ? v128.xor(v, i8x16.splat(-128)) : v;
}

/** acc + the 4-product quads of w (i8) and x (0..127). */
// @ts-ignore: decorator
@inline function rdot(acc: v128, w: v128, x: v128): v128 {
  return i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, acc);
}

/** 2·h + l: the exact sums from the high-7-bit and low-bit accumulators. */
// @ts-ignore: decorator
@inline function comb(h: v128, l: v128): v128 {
  return i32x4.add(i32x4.shl(h, 1), l);
}

/**
 * ROWS (1 or 2) rows × the first CV (2 or 4) column vectors of the panel at b; nc of the
 * tile's columns stored (1..8 for CV 2, 9..16 for CV 4). Per k-quad:
 * CV weight vectors, per row one quad splat split in two, 2·CV relaxed dots.
 */
// @ts-ignore: decorator
@inline function rtile(
  OUT32: bool, ROWS: i32, CV: i32, SIGNED: bool, K: i32, a: usize, lda: usize, b: usize, y: usize, ldy: usize, n0: i32, nc: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32,
): void {
  let p = b + ROW_BYTES;
  const end = p + <usize>(K >> 2) * ROW_BYTES;
  const z = i32x4.splat(0), one = i8x16.splat(1);
  let h00 = z, h01 = z, h02 = z, h03 = z, l00 = z, l01 = z, l02 = z, l03 = z;
  let h10 = z, h11 = z, l10 = z, l11 = z;
  let a0 = a, a1 = a + lda;
  while (p < end) {
    const w0 = v128.load(p), w1 = v128.load(p, 16);
    let v = quadSplat(SIGNED, a0, 4);
    let x = i8x16.shr_u(v, 1);
    h00 = rdot(h00, w0, x); h01 = rdot(h01, w1, x);
    if (CV > 2) { h02 = rdot(h02, v128.load(p, 32), x); h03 = rdot(h03, v128.load(p, 48), x); }
    x = v128.and(v, one);
    l00 = rdot(l00, w0, x); l01 = rdot(l01, w1, x);
    if (CV > 2) { l02 = rdot(l02, v128.load(p, 32), x); l03 = rdot(l03, v128.load(p, 48), x); }
    if (ROWS > 1) {
      v = quadSplat(SIGNED, a1, 4);
      x = i8x16.shr_u(v, 1);
      h10 = rdot(h10, w0, x); h11 = rdot(h11, w1, x);
      x = v128.and(v, one);
      l10 = rdot(l10, w0, x); l11 = rdot(l11, w1, x);
    }
    a0 += 4; a1 += 4; p += ROW_BYTES;
  }
  const r = K & 3;
  if (r != 0) {
    const w0 = v128.load(p), w1 = v128.load(p, 16);
    let v = quadSplat(SIGNED, a0, r);
    let x = i8x16.shr_u(v, 1);
    h00 = rdot(h00, w0, x); h01 = rdot(h01, w1, x);
    if (CV > 2) { h02 = rdot(h02, v128.load(p, 32), x); h03 = rdot(h03, v128.load(p, 48), x); }
    x = v128.and(v, one);
    l00 = rdot(l00, w0, x); l01 = rdot(l01, w1, x);
    if (CV > 2) { l02 = rdot(l02, v128.load(p, 32), x); l03 = rdot(l03, v128.load(p, 48), x); }
    if (ROWS > 1) {
      v = quadSplat(SIGNED, a1, r);
      x = i8x16.shr_u(v, 1);
      h10 = rdot(h10, w0, x); h11 = rdot(h11, w1, x);
      x = v128.and(v, one);
      l10 = rdot(l10, w0, x); l11 = rdot(l11, w1, x);
    }
  }
  if (CV > 2) {
    finish16(false, OUT32, comb(h00, l00), comb(h01, l01), comb(h02, l02), comb(h03, l03), b, y, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
    return;
  }
  finish8(false, OUT32, comb(h00, l00), comb(h01, l01), b, y, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  if (ROWS > 1) finish8(false, OUT32, comb(h10, l10), comb(h11, l11), b, y + ldy, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
}

/**
 * Mode 2 (engines whose relaxed dot multiplies a full-range unsigned second operand exactly, as
 * x86's AVX-VNNI vpdpbusd does: src/quant checks it): ROWS (1 or 2) rows × the first CV (2 or 4)
 * column vectors of the panel at b, the activation bytes (int8 ones xor 0x80) as they are, one
 * relaxed dot per weight vector and row; nc of the tile's columns stored.
 */
// @ts-ignore: decorator
@inline function utile(
  OUT32: bool, ROWS: i32, CV: i32, SIGNED: bool, K: i32, a: usize, lda: usize, b: usize, y: usize, ldy: usize, n0: i32, nc: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32,
): void {
  let p = b + ROW_BYTES;
  const end = p + <usize>(K >> 2) * ROW_BYTES;
  const z = i32x4.splat(0);
  let c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
  let a0 = a, a1 = a + lda;
  while (p < end) {
    const w0 = v128.load(p), w1 = v128.load(p, 16);
    const w2 = CV > 2 ? v128.load(p, 32) : z, w3 = CV > 2 ? v128.load(p, 48) : z;
    let x = quadSplat(SIGNED, a0, 4);
    c00 = rdot(c00, w0, x); c01 = rdot(c01, w1, x);
    if (CV > 2) { c02 = rdot(c02, w2, x); c03 = rdot(c03, w3, x); }
    if (ROWS > 1) {
      x = quadSplat(SIGNED, a1, 4);
      c10 = rdot(c10, w0, x); c11 = rdot(c11, w1, x);
      if (CV > 2) { c12 = rdot(c12, w2, x); c13 = rdot(c13, w3, x); }
    }
    a0 += 4; a1 += 4; p += ROW_BYTES;
  }
  const r = K & 3;
  if (r != 0) {
    const w0 = v128.load(p), w1 = v128.load(p, 16);
    const w2 = CV > 2 ? v128.load(p, 32) : z, w3 = CV > 2 ? v128.load(p, 48) : z;
    let x = quadSplat(SIGNED, a0, r);
    c00 = rdot(c00, w0, x); c01 = rdot(c01, w1, x);
    if (CV > 2) { c02 = rdot(c02, w2, x); c03 = rdot(c03, w3, x); }
    if (ROWS > 1) {
      x = quadSplat(SIGNED, a1, r);
      c10 = rdot(c10, w0, x); c11 = rdot(c11, w1, x);
      if (CV > 2) { c12 = rdot(c12, w2, x); c13 = rdot(c13, w3, x); }
    }
  }
  if (CV > 2) {
    finish16(false, OUT32, c00, c01, c02, c03, b, y, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
    if (ROWS > 1) finish16(false, OUT32, c10, c11, c12, c13, b, y + ldy, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
    return;
  }
  finish8(false, OUT32, c00, c01, b, y, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  if (ROWS > 1) finish8(false, OUT32, c10, c11, b, y + ldy, n0, nc, za, lo, hi, off, scale, epi, bias, ySigned);
}

/** Mode 2's tiles over one strip of `rows` (1..4) rows × one panel: 2-row tiles, then one row. */
// @ts-ignore: decorator
@inline function ustrip(
  OUT32: bool, SIGNED: bool, rows: i32, K: i32, am: usize, lda: usize, bp: usize, yp: usize, ldy: usize, nn: i32, nc: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32,
): void {
  let i = 0;
  if (nc > 8) {
    for (; i + 2 <= rows; i += 2) utile(OUT32, 2, 4, SIGNED, K, am + <usize>i * lda, lda, bp, yp + <usize>i * ldy, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
    if (i < rows) utile(OUT32, 1, 4, SIGNED, K, am + <usize>i * lda, lda, bp, yp + <usize>i * ldy, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
    return;
  }
  for (; i + 2 <= rows; i += 2) utile(OUT32, 2, 2, SIGNED, K, am + <usize>i * lda, lda, bp, yp + <usize>i * ldy, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  if (i < rows) utile(OUT32, 1, 2, SIGNED, K, am + <usize>i * lda, lda, bp, yp + <usize>i * ldy, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
}

/**
 * The relaxed tiles over one strip of `rows` (1..4) rows × one panel of nc columns: a 1-row ×
 * 16-column tile (8 accumulators) per row of a full panel, 2-row × 8-column tiles for a last
 * panel of at most 8 columns. (Two 2 × 8 halves of a full panel ran 1.1-1.7x slower.)
 */
// @ts-ignore: decorator
@inline function rstrip(
  OUT32: bool, SIGNED: bool, rows: i32, K: i32, am: usize, lda: usize, bp: usize, yp: usize, ldy: usize, nn: i32, nc: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32,
): void {
  if (nc > 8) {
    for (let i = 0; i < rows; i++) rtile(OUT32, 1, 4, SIGNED, K, am + <usize>i * lda, lda, bp, yp + <usize>i * ldy, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
    return;
  }
  let i = 0;
  for (; i + 2 <= rows; i += 2) rtile(OUT32, 2, 2, SIGNED, K, am + <usize>i * lda, lda, bp, yp + <usize>i * ldy, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  if (i < rows) rtile(OUT32, 1, 2, SIGNED, K, am + <usize>i * lda, lda, bp, yp + <usize>i * ldy, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
}

/**
 * The k-pair tiles over one strip of `rows` (1..4) rows × one panel of nc columns: 2-row ×
 * 16-column tiles, a 1..4-row × 8-column tile for a last panel of at most 8 columns; I8: the
 * panel is the packed one (i8 pairs), else its widened copy.
 */
// @ts-ignore: decorator
@inline function pstrip(
  OUT32: bool, I8: bool, A16: bool, SIGNED: bool, rows: i32, K: i32, am: usize, lda: usize, bp: usize, yp: usize, ldy: usize, nn: i32, nc: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32,
): void {
  if (nc > 8) {
    let i = 0;
    for (; i + 2 <= rows; i += 2) tile16(OUT32, I8, A16, 2, SIGNED, K, am + <usize>i * lda, lda, bp, yp + <usize>i * ldy, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
    if (i < rows) tile16(OUT32, I8, A16, 1, SIGNED, K, am + <usize>i * lda, lda, bp, yp + <usize>i * ldy, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  } else if (rows == 4) tile8(OUT32, I8, A16, 4, SIGNED, K, am, lda, bp, yp, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  else if (rows == 3) tile8(OUT32, I8, A16, 3, SIGNED, K, am, lda, bp, yp, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  else if (rows == 2) tile8(OUT32, I8, A16, 2, SIGNED, K, am, lda, bp, yp, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
  else tile8(OUT32, I8, A16, 1, SIGNED, K, am, lda, bp, yp, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
}

/**
 * Blocks of panels sized for L2; across each block, strips of 4 rows: 2-row × 16-column tiles
 * over the panels, a 1..4-row × 8-column tile for a last panel of at most 8 columns.
 * Columns 0..N-1 relative to `packed` / `y`; n0 is the first column's index into bias/scale.
 */
// @ts-ignore: decorator
@inline function qgemmDriver(
  OUT32: bool, SIGNED: bool, ONE_STRIP: bool, pm: i32, M: i32, N: i32, K: i32, a: usize, lda: usize, packed: usize, y: usize, ldy: usize, n0: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32, scratch: usize, post: usize,
): void {
  const panels = (N + NR - 1) / NR;
  const pstep = <usize>panelBytes(pm != 0, K);
  // k-pair panels are widened to i16 one L2 block at a time, the tiles reading the widened copy
  // once per strip of rows; ONE_STRIP (M ≤ 4, mode 0) reads the packed panels, widening as it loads
  const wstep = pm != 0 || ONE_STRIP ? pstep : <usize>wideBytes(K);
  const perBlock = max(1, L2_BLOCK_BYTES / <i32>wstep);
  for (let pb = 0; pb < panels; pb += perBlock) {
    const pe = min(panels, pb + perBlock);
    let base = packed + <usize>pb * pstep;
    if (pm == 0 && !ONE_STRIP) {
      widenPanels(base, pe - pb, K, scratch, za, bias, n0 + pb * NR, N - pb * NR);
      base = scratch;
    }
    // the widened panels' tiles read each strip of A widened to i16 (widenStrip) after the panels
    const A16 = pm == 0 && !ONE_STRIP;
    const aw = scratch + <usize>panelScratch(K), awStep = <usize>stripRowBytes(K);
    for (let m = 0; m < M; m += MR) {
      const rows = min(MR, M - m);
      let am = a + <usize>m * lda;
      const ym = y + <usize>m * ldy;
      if (A16) {
        widenStrip(SIGNED, am, lda, rows, K, aw);
        am = aw;
      }
      const al = A16 ? awStep : lda;
      for (let p = pb; p < pe; p++) {
        const nc = min(NR, N - p * NR);
        const bp = base + <usize>(p - pb) * wstep;
        const yp = ym + (<usize>(p * NR) << (OUT32 ? 2 : 0)), nn = n0 + p * NR;
        if (ASC_FEATURE_RELAXED_SIMD && pm == 2) ustrip(OUT32, SIGNED, rows, K, am, lda, bp, yp, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
        else if (ASC_FEATURE_RELAXED_SIMD && pm == 1) rstrip(OUT32, SIGNED, rows, K, am, lda, bp, yp, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
        else if (ONE_STRIP) pstrip(OUT32, true, false, SIGNED, rows, K, am, lda, bp, yp, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
        else pstrip(OUT32, false, true, SIGNED, rows, K, am, al, bp, yp, ldy, nn, nc, za, lo, hi, off, scale, epi, bias, ySigned);
      }
      // a fused elementwise step (qpost.ts) on the strip's bytes of this block, still in cache
      if (!OUT32 && post != 0) applyPost(post, ym + <usize>(pb * NR), ldy, rows, min(N, pe * NR) - pb * NR);
    }
  }
}

/**
 * The driver for one packing mode, output type Y (u8: requantized bytes, i32: exact sums) and
 * activation type A (u8, i8), each its own function. Inlined side by side into qgemm_q8 and
 * qgemm_i32 they made two huge functions: Binaryen's -O3 took ~10 minutes a build target over
 * them, and V8 compiled their loops 4-30% slower (measured when the one-strip driver was split
 * off). oneStrip: one strip of rows (M ≤ 4) over k-pair panels, the tiles reading the packed
 * panels and widening as they load (a separate widening pass would cost as much as the strip).
 */
function oneStrip<Y, A>(M: i32, N: i32, K: i32, a: usize, lda: usize, packed: usize, y: usize, ldy: usize, n0: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32, scratch: usize, post: usize): void {
  qgemmDriver(sizeof<Y>() == 4, isSigned<A>(), true, 0, M, N, K, a, lda, packed, y, ldy, n0, za, lo, hi, off, scale, epi, bias, ySigned, scratch, post);
}
function drivePairs<Y, A>(M: i32, N: i32, K: i32, a: usize, lda: usize, packed: usize, y: usize, ldy: usize, n0: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32, scratch: usize, post: usize): void {
  qgemmDriver(sizeof<Y>() == 4, isSigned<A>(), false, 0, M, N, K, a, lda, packed, y, ldy, n0, za, lo, hi, off, scale, epi, bias, ySigned, scratch, post);
}
function driveQuads<Y, A>(M: i32, N: i32, K: i32, a: usize, lda: usize, packed: usize, y: usize, ldy: usize, n0: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32, scratch: usize, post: usize): void {
  qgemmDriver(sizeof<Y>() == 4, isSigned<A>(), false, 1, M, N, K, a, lda, packed, y, ldy, n0, za, lo, hi, off, scale, epi, bias, ySigned, scratch, post);
}
function driveUnsignedQuads<Y, A>(M: i32, N: i32, K: i32, a: usize, lda: usize, packed: usize, y: usize, ldy: usize, n0: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32, scratch: usize, post: usize): void {
  qgemmDriver(sizeof<Y>() == 4, isSigned<A>(), false, 2, M, N, K, a, lda, packed, y, ldy, n0, za, lo, hi, off, scale, epi, bias, ySigned, scratch, post);
}

/** qgemm_q8's and qgemm_i32's call of the driver for packing mode pm. */
// @ts-ignore: decorator
@inline function qgemmRun<Y, A>(pm: i32, M: i32, N: i32, K: i32, a: usize, lda: usize, packed: usize, y: usize, ldy: usize, n0: i32, za: v128, lo: v128, hi: v128, off: v128, scale: usize, epi: i32, bias: usize, ySigned: i32, scratch: usize, post: usize): void {
  if (pm == 0 && M <= MR) oneStrip<Y, A>(M, N, K, a, lda, packed, y, ldy, n0, za, lo, hi, off, scale, epi, bias, ySigned, scratch, post);
  else if (ASC_FEATURE_RELAXED_SIMD && pm == 2) driveUnsignedQuads<Y, A>(M, N, K, a, lda, packed, y, ldy, n0, za, lo, hi, off, scale, epi, bias, ySigned, scratch, post);
  else if (ASC_FEATURE_RELAXED_SIMD && pm == 1) driveQuads<Y, A>(M, N, K, a, lda, packed, y, ldy, n0, za, lo, hi, off, scale, epi, bias, ySigned, scratch, post);
  else drivePairs<Y, A>(M, N, K, a, lda, packed, y, ldy, n0, za, lo, hi, off, scale, epi, bias, ySigned, scratch, post);
}

/** The zero point the tiles' sums need: the relaxed tiles see int8 activations as a + 128. */
// @ts-ignore: decorator
@inline function zaPacked(q4: bool, za: i32, aSigned: i32): i32 {
  return q4 && aSigned != 0 ? za + 128 : za;
}

/**
 * Quantized GEMM with a requantizing epilogue, for m < M, n < N:
 *   y[m][n] = clamp(roundHalfEven(f32(Σ_k (a[m][k] − za)·w[n][k] + bias[n]) · scale[n]) + zy, lo, hi)
 * (the f32 product, clamp and rounding exactly as onnxruntime's MlasRequantizeOutput: see the
 * file header). a: rows of K bytes, row stride lda bytes, uint8 (aSigned 0) or int8 (aSigned 1),
 * zero point za in the same type's range. packed: from qgemm_pack (int8 weights, zero point 0).
 * bias: i32 [N] or 0. scale: f32 [N] when perChannel != 0, else one f32. y: bytes, row stride
 * ldy, uint8 (ySigned 0) or int8 (ySigned 1) with zero point zy; only columns 0..N-1 written.
 * lo/hi: output clamp in output ints (the type's range, narrowed by a fused ReLU to zy.. or
 * ReLU6 to zy..zy+round(6/y_scale)); they are cut to the type's range here.
 * scratch: parts × qgemm_scratch_size(K) bytes (each part widens k-pair panels into its own).
 * post: 0, or a fused residual QLinearAdd (qpost.ts) applied in place to each 4-row strip of a
 * panel block right after its tiles store it (each part to its own rows and columns).
 * (part, parts): bands of 4-row strips or of 16-column panels (parallel.ts); every output
 * byte is computed by the same instructions for any parts.
 */
export function qgemm_q8(
  M: i32, N: i32, K: i32, a: usize, lda: i32, aSigned: i32, za: i32, packed: usize, bias: usize,
  scale: usize, perChannel: i32, zy: i32, lo: i32, hi: i32, y: usize, ldy: i32, ySigned: i32, scratch: usize, post: usize, part: i32, parts: i32,
): void {
  const pm = packedMode(packed), q4 = pm != 0;
  packed += HEADER;
  scratch += <usize>part * <usize>qgemm_scratch_size(K);
  let n0 = 0;
  if (parts > 1) {
    const panels = (N + NR - 1) / NR;
    // as gemm_f32: a band of rows streams all of W, a band of columns all of A
    const byRows = (M >= N || panels < 4 * parts) && splitRows((M + MR - 1) / MR, panels, parts);
    if (byRows) {
      const m0 = partStart(M, MR, part, parts), m1 = partStart(M, MR, part + 1, parts);
      a += <usize>m0 * <usize>lda;
      y += <usize>m0 * <usize>ldy;
      M = m1 - m0;
    } else {
      const q0 = partStart(panels, 1, part, parts), q1 = partStart(panels, 1, part + 1, parts);
      n0 = q0 * NR;
      packed += <usize>q0 * <usize>panelBytes(q4, K);
      y += <usize>n0;
      N = min(N, q1 * NR) - n0;
    }
  }
  if (M <= 0 || N <= 0) return;
  const tmin = ySigned != 0 ? -128 : 0, tmax = ySigned != 0 ? 127 : 255;
  lo = max(lo, tmin);
  hi = min(hi, tmax);
  const vza = i32x4.splat(zaPacked(q4, za, aSigned)), off = i32x4.splat(MAGIC_BITS - zy);
  // (one strip of rows, a fully connected layer: the epilogue is too small a share to pay for the scan)
  const rounds = M > MR && bounded(K, bias, scale, perChannel, n0, N);
  const vlo = rounds ? i8x16.splat(<i8>lo) : f32x4.splat(<f32>(lo - zy)), vhi = rounds ? i8x16.splat(<i8>hi) : f32x4.splat(<f32>(hi - zy));
  const epi = (perChannel != 0 ? EPI_PER_CHANNEL : 0) | (rounds ? 0 : EPI_CLAMP);
  if (aSigned != 0) qgemmRun<u8, i8>(pm, M, N, K, a, <usize>lda, packed, y, <usize>ldy, n0, vza, vlo, vhi, off, scale, epi, bias, ySigned, scratch, post);
  else qgemmRun<u8, u8>(pm, M, N, K, a, <usize>lda, packed, y, <usize>ldy, n0, vza, vlo, vhi, off, scale, epi, bias, ySigned, scratch, post);
}

/**
 * The exact accumulators of qgemm_q8 without requantization (ONNX MatMulInteger / ConvInteger,
 * or an epilogue the host applies itself): y[m][n] = Σ_k (a[m][k] − za)·w[n][k] + bias[n] as
 * i32, y row stride ldy i32 elements, only columns 0..N-1 written. Operands, scratch and
 * (part, parts) as for qgemm_q8; the sums wrap modulo 2^32 as onnxruntime's do (they cannot for K < 65536).
 */
export function qgemm_i32(
  M: i32, N: i32, K: i32, a: usize, lda: i32, aSigned: i32, za: i32, packed: usize, bias: usize,
  y: usize, ldy: i32, scratch: usize, part: i32, parts: i32,
): void {
  const pm = packedMode(packed), q4 = pm != 0;
  packed += HEADER;
  scratch += <usize>part * <usize>qgemm_scratch_size(K);
  let n0 = 0;
  if (parts > 1) {
    const panels = (N + NR - 1) / NR;
    const byRows = (M >= N || panels < 4 * parts) && splitRows((M + MR - 1) / MR, panels, parts);
    if (byRows) {
      const m0 = partStart(M, MR, part, parts), m1 = partStart(M, MR, part + 1, parts);
      a += <usize>m0 * <usize>lda;
      y += (<usize>m0 * <usize>ldy) << 2;
      M = m1 - m0;
    } else {
      const q0 = partStart(panels, 1, part, parts), q1 = partStart(panels, 1, part + 1, parts);
      n0 = q0 * NR;
      packed += <usize>q0 * <usize>panelBytes(q4, K);
      y += <usize>n0 << 2;
      N = min(N, q1 * NR) - n0;
    }
  }
  if (M <= 0 || N <= 0) return;
  const vza = i32x4.splat(zaPacked(q4, za, aSigned)), z = i32x4.splat(0);
  const ldyBytes = <usize>ldy << 2;
  if (aSigned != 0) qgemmRun<i32, i8>(pm, M, N, K, a, <usize>lda, packed, y, ldyBytes, n0, vza, z, z, z, 0, 0, bias, 0, scratch, 0);
  else qgemmRun<i32, u8>(pm, M, N, K, a, <usize>lda, packed, y, ldyBytes, n0, vza, z, z, z, 0, 0, bias, 0, scratch, 0);
}
