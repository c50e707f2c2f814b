// int8 kernels around qgemm.ts for quantized CNNs (ONNX QLinearConv / QLinearAdd /
// QLinearGlobalAveragePool and QuantizeLinear / DequantizeLinear, opset 13 semantics), NHWC:
//
// - qim2col_q8: the im2col rows of a KxK / strided / padded / dilated convolution, one row of
//   K = KH·KW·C bytes per output pixel in (ky, kx, c) order, so qgemm_q8 (packed weights
//   [OC][KH][KW][C]) computes the conv. Padded taps hold the activation zero point, whose
//   (a − za) is 0: the sum is that of the taps inside the image, as ONNX QLinearConv defines it.
//   A 1x1 stride-1 unpadded conv needs no im2col (the NHWC activations are the A matrix).
// - qdwconv_q8: depthwise conv, 16 channels a SIMD step. Interior pixels (every tap inside the
//   image; each output row's run of them without per-pixel bounds work) start from bias − zx·Σw
//   (packed) and take the taps in pairs: two taps' bytes interleaved (one byte shuffle) and
//   widened give the per-channel pairs one i32x4.dot_i16x8_s multiplies with tap-pair packed
//   weights (4 channels x 2 taps, one byte a weight, widened to i16 once per call into the
//   host's scratch: then a plain v128.load, where a widening v128.load8x8_s is a shuffle uop
//   too; 0.93-0.97x the time); border pixels take the same pairs from the bias, of (x − zx)
//   widened to i16 (exact: |x − zx| ≤ 255, |w| ≤ 128), a tap outside the image reading zx (so
//   adding 0) and pairs wholly outside skipped; then the requantizing epilogue shared with
//   qgemm_q8 (requant.ts: MlasRequantizeOutput).
//   Building each input column's widened pairs once per output row (shared by the KW / SW
//   pixels that read them) measured slower on 3x3 (1.1-1.4x): the kernel is bound by loads and
//   dispatch under V8, not by its shuffles, and a pixel then loads 8 vectors a tap pair.
// - quantize_f32_q8 (ONNX QuantizeLinear: saturate(roundHalfEven(x / scale) + zp), computed as
//   onnxruntime's MlasQuantizeLinear: an f32 division, clamp to [min − zp, max − zp], round,
//   + zp; NaN becomes the type's minimum as MAXPS makes it) and dequantize_q8_f32 (ONNX
//   DequantizeLinear: f32(x − zp) · scale, one f32 product).
// - qmul_q8: ONNX QLinearMul as onnxruntime's x86 MlasQLinearMul (exact integer product, one f32
//   multiply and add, round half even), same-shape or per-channel / scalar broadcast of b.
// - qadd_q8: ONNX QLinearAdd as onnxruntime's x86 MlasQLinearAdd computes it:
//   c = saturate(roundHalfEven((fixed + a·(sa/sc)) + b·(sb/sc))), fixed = zc − (sa/sc·za + sb/sc·zb),
//   every step an f32 operation in that order (the host computes the ratios and `fixed` in f32);
//   its loop lives in qpost.ts, which qgemm_q8, qdwconv_q8 and qwino_q8 also run on each strip
//   of rows they store when a residual add is fused into them (their `post` argument).
// - qlut_q8: a 256-entry byte table (an elementwise op between DequantizeLinear and
//   QuantizeLinear: Sigmoid, Silu, HardSwish, ... whose table the host computes at plan time).
// - qmaxpool_q8: MaxPool on the bytes (quantization is monotone: the max commutes with it).
// - qgap_q8: QLinearGlobalAveragePool (NHWC): exact i32 channel sums, then
//   requant(Σx − zx·HW, scale = x_scale / (y_scale · HW)) as MlasQLinearGlobalAveragePoolNhwc.
import { partStart } from './parallel';
import { geo, interiorHi, interiorLo, tapHi, tapLo } from './window';
import { bounded, loadBytes8, MAGIC_BITS, narrow16, requantLanes, roundLanes, storeBytes } from './requant';
import { addHi, addLo, addRun, applyPost } from './qpost';

// Conv geometry travels as a block of 15 i32 (the thread pool carries at most 24 arguments):
//   [N, H, W, C, inStride, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW]
// (PH/PW: top/left padding; the bottom/right padding is implied by OH/OW.)

/** Output rows (n, oy) of a conv: the unit the (part, parts) split cuts. */
// @ts-ignore: decorator
@inline function rowRange(rows: i32, part: i32, parts: i32): i64 {
  const r0 = partStart(rows, 1, part, parts), r1 = partStart(rows, 1, part + 1, parts);
  return (<i64>r1 << 32) | <i64>r0;
}

/**
 * im2col for an int8 NHWC conv: dst row (n·OH + oy)·OW + ox holds, for each tap (ky, kx) in
 * order, the C bytes of input pixel (oy·SH − PH + ky·DH, ox·SW − PW + kx·DW), or C bytes of za
 * for a tap outside the image. Input pixels are inStride bytes apart. Rows are K = KH·KW·C bytes.
 * g: the geometry block (see above).
 * (part, parts): bands of output rows (n, oy).
 */
export function qim2col_q8(g: usize, x: usize, za: i32, dst: usize, part: i32, parts: i32): void {
  const N = geo(g, 0), H = geo(g, 1), W = geo(g, 2), C = geo(g, 3), inStride = geo(g, 4), KH = geo(g, 5), KW = geo(g, 6);
  const SH = geo(g, 7), SW = geo(g, 8), PH = geo(g, 9), PW = geo(g, 10), DH = geo(g, 11), DW = geo(g, 12), OH = geo(g, 13), OW = geo(g, 14);
  const K = KH * KW * C;
  const range = rowRange(N * OH, part, parts);
  const r0 = <i32>range, r1 = <i32>(range >> 32);
  // a window row whose KW taps are all inside the image is one run of KW·C bytes when the taps
  // are adjacent pixels of a dense input (the 3-channel stems: 9 or 21 bytes a run, not 3 copies)
  const runs = DW == 1 && inStride == C;
  const vza = i8x16.splat(<i8>za);
  const run = KW * C;
  // the stems' runs (9 or 21 bytes) move as one or two 16-byte loads and stores (see shortRuns)
  const short = runs && run <= 32;
  const xEnd = x + <usize>N * <usize>H * <usize>W * <usize>C, dEnd = dst + <usize>r1 * <usize>OW * <usize>K;
  const ox0 = (PW + SW - 1) / SW, ox1 = min(OW, W - KW + PW >= 0 ? (W - KW + PW) / SW + 1 : 0);
  for (let r = r0; r < r1; r++) {
    const n = r / OH, oy = r - n * OH;
    const d = dst + <usize>r * <usize>OW * <usize>K;
    const iy0 = oy * SH - PH;
    if (short && iy0 >= 0 && iy0 + (KH - 1) * DH < H && ox0 < ox1) {
      // every window row inside the image: the columns whose runs are all inside go by shortRuns
      const rowStep = <usize>DH * <usize>W * <usize>C;
      const src = x + (<usize>(n * H + iy0) * <usize>W) * <usize>C - <usize>PW * <usize>C;
      const e = shortRuns(src, <usize>SW * <usize>C, rowStep, KH, run, ox0, ox1, d, <usize>K, xEnd, dEnd);
      if (e == ox1) {
        im2colPixels(x, n, H, W, C, inStride, KH, KW, SH, SW, PH, PW, DH, DW, oy, 0, ox0, d, vza, za, runs);
        im2colPixels(x, n, H, W, C, inStride, KH, KW, SH, SW, PH, PW, DH, DW, oy, ox1, OW, d + <usize>ox1 * <usize>K, vza, za, runs);
        continue;
      }
    }
    im2colPixels(x, n, H, W, C, inStride, KH, KW, SH, SW, PH, PW, DH, DW, oy, 0, OW, d, vza, za, runs);
  }
}

/**
 * im2col rows of output pixels [ox0, ox1) of row oy whose window rows are all inside the image
 * and whose runs of KW·C ≤ 32 bytes are too: each run one or two 16-byte loads and stores
 * (bytes past a run are rewritten by the next run, or by the next pixel's first), so long as
 * the loads end by xEnd and the stores by dEnd; returns the first pixel not done (ox1 when all
 * were). src: the input at window row 0, column −PW; d: pixel 0's im2col row.
 */
function shortRuns(src: usize, step: usize, rowStep: usize, KH: i32, run: i32, ox0: i32, ox1: i32, d: usize, K: usize, xEnd: usize, dEnd: usize): i32 {
  const two = run > 16;
  const lastRow = <usize>(KH - 1) * rowStep;
  for (let ox = ox0; ox < ox1; ox++) {
    const s = src + <usize>ox * step, p = d + <usize>ox * K;
    if (s + lastRow + 32 > xEnd || p + K + 32 > dEnd) return ox;
    let o: usize = 0, q = p;
    for (let ky = 0; ky < KH; ky++) {
      v128.store(q, v128.load(s + o));
      if (two) v128.store(q, v128.load(s + o, 16), 16);
      o += rowStep;
      q += <usize>run;
    }
  }
  return ox1;
}

/** The im2col rows of output pixels [oxa, oxb) of row oy (qim2col_q8's general path); d: pixel oxa's row. */
function im2colPixels(
  x: usize, n: i32, H: i32, W: i32, C: i32, inStride: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32,
  oy: i32, oxa: i32, oxb: i32, d: usize, vza: v128, za: i32, runs: bool,
): void {
  for (let ox = oxa; ox < oxb; ox++) {
    const ix0 = ox * SW - PW;
    const rowIn = runs && ix0 >= 0 && ix0 + KW <= W;
    for (let ky = 0; ky < KH; ky++) {
      const iy = oy * SH - PH + ky * DH;
      const rowOk = iy >= 0 && iy < H;
      const src = x + (<usize>(n * H + iy) * <usize>W) * <usize>inStride;
      if (rowOk && rowIn) {
        copyBytes(d, src + <usize>ix0 * <usize>inStride, KW * C);
        d += <usize>(KW * C);
        continue;
      }
      for (let kx = 0; kx < KW; kx++) {
        const ix = ix0 + kx * DW;
        if (rowOk && ix >= 0 && ix < W) copyBytes(d, src + <usize>ix * <usize>inStride, C);
        else fillBytes(d, vza, za, C);
        d += <usize>C;
      }
    }
  }
}

/**
 * dst[0..n) = src[0..n) (non-overlapping), nothing outside either range touched: runs of up to
 * 32 bytes as two overlapping 16-, 8- or 4-byte moves (no call), longer ones by memory.copy.
 */
// @ts-ignore: decorator
@inline function copyBytes(d: usize, s: usize, n: i32): void {
  if (n > 32) memory.copy(d, s, <usize>n);
  else if (n >= 16) {
    const a = v128.load(s), b = v128.load(s + <usize>(n - 16));
    v128.store(d, a);
    v128.store(d + <usize>(n - 16), b);
  } else if (n >= 8) {
    const a = load<u64>(s), b = load<u64>(s + <usize>(n - 8));
    store<u64>(d, a);
    store<u64>(d + <usize>(n - 8), b);
  } else if (n >= 4) {
    const a = load<u32>(s), b = load<u32>(s + <usize>(n - 4));
    store<u32>(d, a);
    store<u32>(d + <usize>(n - 4), b);
  } else for (let i = 0; i < n; i++) store<u8>(d + <usize>i, load<u8>(s + <usize>i));
}

/** dst[0..n) = the byte b (v: b in every lane), nothing past n written. */
// @ts-ignore: decorator
@inline function fillBytes(d: usize, v: v128, b: i32, n: i32): void {
  if (n > 32) memory.fill(d, <u8>b, <usize>n);
  else if (n >= 16) {
    v128.store(d, v);
    v128.store(d + <usize>(n - 16), v);
  } else if (n >= 8) {
    v128.store64_lane(d, v, 0);
    v128.store64_lane(d + <usize>(n - 8), v, 0);
  } else if (n >= 4) {
    v128.store32_lane(d, v, 0);
    v128.store32_lane(d + <usize>(n - 4), v, 0);
  } else for (let i = 0; i < n; i++) store<u8>(d + <usize>i, <u8>b);
}

/** Channels per depthwise SIMD block: 16 bytes of input, four i32x4 accumulators. */
const DW_BLOCK: i32 = 16;

/** Bytes of the packed depthwise weights for C channels and T taps (qdwconv_q8's layout). */
export function qdwconv_packed_size(C: i32, T: i32): i32 {
  const C16 = (C + 15) & ~15;
  return ((T + 1) >> 1) * C16 * 2 + C16 * 4;
}

/**
 * Bytes of scratch of one part of qdwconv_q8 / qdwconv_i32 (g: the geometry block): the packed
 * weight pairs widened to i16, [C16/16][ceil(T/2)][16][2] (see widenPairs).
 */
export function qdwconv_scratch_size(g: usize): i32 {
  const C16 = (geo(g, 3) + 15) & ~15;
  return ((geo(g, 5) * geo(g, 6) + 1) >> 1) * C16 * 4;
}

/**
 * The taps of pair q of a KH x KW window (the order qdwconv_pack packs and interior pixels sum
 * them): rows 2i and 2i+1 at each column (vertical pairs), then, for an odd KH, the last row's
 * columns in twos, an odd KW's last column alone (partner −1, weight zero). (t0 << 16) | (t1 & 0xffff).
 */
function tapPair(KH: i32, KW: i32, q: i32): i32 {
  const vert = (KH >> 1) * KW;
  let t0: i32, t1: i32;
  if (q < vert) {
    const ky = (q / KW) << 1, kx = q % KW;
    t0 = ky * KW + kx;
    t1 = t0 + KW;
  } else {
    t0 = (KH - 1) * KW + ((q - vert) << 1);
    t1 = t0 + 1 < KH * KW ? t0 + 1 : -1;
  }
  return (t0 << 16) | (t1 & 0xffff);
}

/**
 * Packs int8 depthwise weights w ([C][KH·KW] bytes, zero point 0, as ONNX stores [C][1][KH][KW])
 * for qdwconv_q8 (C16 = C rounded up to 16, padding channels zero), one byte a weight:
 *   i8 [C16/16][ceil(T/2)][16][2]: per 16-channel block, its tap pairs in tapPair's order (32
 *     bytes each, one block's pairs contiguous), (w[t0][c], w[t1][c]) interleaved per channel
 *     (zero for a missing partner); each call widens them to i16 in its scratch (widenPairs),
 *     where 16 bytes are the pairs of 4 channels one i32x4.dot_i16x8_s multiplies (interior and
 *     border pixels alike);
 *   i32 [C16]: bias[c] − zx·Σ_t w[t][c], the interior pixels' starting sum: Σ (x − zx)·w =
 *     Σ x·w − zx·Σ w when every tap is inside the image (bias: i32 [C] or 0 for none; for int8
 *     inputs (xSigned) with zx + 128, as qdwconv_q8 reads them as uint8).
 */
export function qdwconv_pack(w: usize, C: i32, KH: i32, KW: i32, bias: usize, zx: i32, xSigned: i32, dst: usize): void {
  // int8 inputs are read as uint8 x + 128 with zero point zx + 128 (qdwconv_q8)
  if (xSigned != 0) zx += 128;
  const C16 = (C + 15) & ~15, T = KH * KW;
  const P = (T + 1) >> 1;
  for (let q = 0; q < P; q++) {
    const tp = tapPair(KH, KW, q);
    const t0 = tp >> 16, t1 = <i32>(<i16>tp);
    for (let c = 0; c < C16; c++) {
      const p = dst + <usize>((((c >> 4) * P + q) * DW_BLOCK + (c & 15)) * 2);
      store<i8>(p, c < C ? load<i8>(w + <usize>(c * T + t0)) : 0);
      store<i8>(p + 1, c < C && t1 >= 0 ? load<i8>(w + <usize>(c * T + t1)) : 0);
    }
  }
  const ib = dst + <usize>(P * C16 * 2);
  for (let c = 0; c < C16; c++) {
    let sum = 0;
    if (c < C) for (let t = 0; t < T; t++) sum += <i32>load<i8>(w + <usize>(c * T + t));
    const b = c < C && bias != 0 ? load<i32>(bias + (<usize>c << 2)) : 0;
    store<i32>(ib + (<usize>c << 2), b - zx * sum);
  }
}

/** The first n (1..16) bytes at p (the rest zero), nothing past them read. */
// @ts-ignore: decorator
@inline function loadBytes16(p: usize, n: i32): v128 {
  if (n >= 16) return v128.load(p);
  if (n <= 8) return loadBytes8(p, n);
  return i64x2.replace_lane(v128.load64_zero(p), 1, i64x2.extract_lane(loadBytes8(p + 8, n - 8), 0));
}

/** Bytes 0..7 of v widened to i16 (unsigned: int8 inputs are flipped to uint8 first, see qdwconv_q8). */
// @ts-ignore: decorator
@inline function widenLo(v: v128): v128 {
  return i16x8.extend_low_i8x16_u(v);
}

/** Bytes 8..15 of v widened to i16 (unsigned). */
// @ts-ignore: decorator
@inline function widenHi(v: v128): v128 {
  return i16x8.extend_high_i8x16_u(v);
}

/**
 * 16 bytes at p as uint8: for T = i8 xor flip (0x80 in every byte turns int8 x into uint8
 * x + 128), for T = u8 as they are (decided at compile time: no xor on the uint8 path).
 */
// @ts-ignore: decorator
@inline function ldx<T>(p: usize, flip: v128): v128 {
  if (isSigned<T>()) return v128.xor(v128.load(p), flip);
  return v128.load(p);
}

/** The first nc bytes at p as ldx<T> reads them (the bytes past nc are flip's or 0: their weights are zero). */
// @ts-ignore: decorator
@inline function ldxPart<T>(p: usize, nc: i32, flip: v128): v128 {
  if (isSigned<T>()) return v128.xor(loadBytes16(p, nc), flip);
  return loadBytes16(p, nc);
}

/** Bytes 0..7 of u and v interleaved (u0, v0, u1, v1, ...): widened, two taps of channels 0..3 / 4..7 for a dot. */
// @ts-ignore: decorator
@inline function zipLo(u: v128, v: v128): v128 {
  return i8x16.shuffle(u, v, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

/** Bytes 8..15 of u and v interleaved: two taps of channels 8..15. */
// @ts-ignore: decorator
@inline function zipHi(u: v128, v: v128): v128 {
  return i8x16.shuffle(u, v, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

/**
 * The 16 bytes of a block's four accumulators when |acc · scale| < 2^22 (dwDriver checks it
 * with requant.ts's bounded): no float clamp, [lo, hi] on the bytes (vlo/vhi are byte splats
 * then, in the uint8 form), one branch for the scales (padded to C16) where the float path
 * tests pc per vector.
 */
// @ts-ignore: decorator
@inline function dwBytes(a0: v128, a1: v128, a2: v128, a3: v128, sp: usize, pc: bool, one: v128, vlo: v128, vhi: v128, off: v128, yflip: v128): v128 {
  let s0 = one, s1 = one, s2 = one, s3 = one;
  if (pc) {
    s0 = v128.load(sp); s1 = v128.load(sp, 16); s2 = v128.load(sp, 32); s3 = v128.load(sp, 48);
  }
  const q = narrow16(
    roundLanes(f32x4.mul(f32x4.convert_i32x4_s(a0), s0), off), roundLanes(f32x4.mul(f32x4.convert_i32x4_s(a1), s1), off),
    roundLanes(f32x4.mul(f32x4.convert_i32x4_s(a2), s2), off), roundLanes(f32x4.mul(f32x4.convert_i32x4_s(a3), s3), off), 0);
  return v128.xor(i8x16.min_u(i8x16.max_u(q, vlo), vhi), yflip);
}

/**
 * Requantizes the four accumulators of a 16-channel block and stores its nc bytes at yo
 * (scale per channel at sp when pc, else `one`); `raw` (qdwconv_i32): stores the nc i32 sums.
 */
// @ts-ignore: decorator
@inline function dwStore(
  raw: bool, a0: v128, a1: v128, a2: v128, a3: v128, sp: usize, pc: bool, rounds: bool, one: v128, vlo: v128, vhi: v128, off: v128, yflip: v128, yo: usize, nc: i32,
): void {
  if (raw) {
    if (nc == DW_BLOCK) {
      v128.store(yo, a0);
      v128.store(yo, a1, 16);
      v128.store(yo, a2, 32);
      v128.store(yo, a3, 48);
    } else {
      // channels [0, nc): whole vectors, then the lanes of the next
      let v = a0, p = yo, left = nc;
      for (let q = 0; q < 4 && left > 0; q++) {
        v = q == 0 ? a0 : q == 1 ? a1 : q == 2 ? a2 : a3;
        if (left >= 4) v128.store(p, v);
        else {
          store<i32>(p, i32x4.extract_lane(v, 0));
          if (left > 1) store<i32>(p, i32x4.extract_lane(v, 1), 4);
          if (left > 2) store<i32>(p, i32x4.extract_lane(v, 2), 8);
        }
        p += 16;
        left -= 4;
      }
    }
    return;
  }
  if (rounds && nc == DW_BLOCK) {
    // the common block, in straight-line code
    v128.store(yo, dwBytes(a0, a1, a2, a3, sp, pc, one, vlo, vhi, off, yflip));
    return;
  }
  let v: v128;
  if (rounds) v = dwBytes(a0, a1, a2, a3, sp, pc, one, vlo, vhi, off, yflip);
  else {
    const q0 = requantLanes(a0, pc ? v128.load(sp) : one, vlo, vhi, off);
    const q1 = requantLanes(a1, pc ? v128.load(sp, 16) : one, vlo, vhi, off);
    const q2 = requantLanes(a2, pc ? v128.load(sp, 32) : one, vlo, vhi, off);
    const q3 = requantLanes(a3, pc ? v128.load(sp, 48) : one, vlo, vhi, off);
    v = v128.xor(narrow16(q0, q1, q2, q3, 0), yflip);
  }
  if (nc == DW_BLOCK) v128.store(yo, v);
  else storeBytes(yo, v, nc);
}

/**
 * Interior output pixels [ox0, ox1) of one output row: every tap inside the image, no bounds
 * checks. xr: the input at the window corner of output pixel 0 (+ ox·sIn per pixel). Each
 * 16-channel block starts from the packed bias − zx·Σw and adds the taps in pairs: the two
 * taps' 16 bytes interleaved (zipLo/zipHi) and widened give, per group of 4 channels, the
 * (x[t0][c], x[t1][c]) pairs one i32x4.dot_i16x8_s multiplies with the packed weight pairs (x as
 * it is: products of 8-bit values, two per lane, fit i32; the zero point is in the start). 3x3
 * is unrolled; other windows loop over tapPair's order. The C % 16 remainder loads only its bytes.
 */
// @ts-ignore: decorator
@inline function dwInterior<T>(
  raw: bool, flip: v128, K3: bool, KH: i32, KW: i32, C: i32, xr: usize, sIn: usize, rowStep: usize, tapStep: usize, ox0: i32, ox1: i32,
  pairs: usize, ib: usize, scale: usize, pc: bool, rounds: bool, one: v128, vlo: v128, vhi: v128, off: v128,
  yflip: v128, yr: usize, outStride: usize,
): void {
  const full = C & ~15;
  const vert = (KH >> 1) * KW, lastRow = <usize>(KH - 1) * rowStep, P = (KH * KW + 1) >> 1;
  for (let ox = ox0; ox < ox1; ox++) {
    const px = xr + <usize>ox * sIn, yo = yr + <usize>ox * outStride;
    for (let c0 = 0; c0 < C; c0 += DW_BLOCK) {
      const nc = min(DW_BLOCK, C - c0);
      const part = c0 >= full;
      const bp = ib + (<usize>c0 << 2);
      let a = v128.load(bp), b = v128.load(bp, 16), c = v128.load(bp, 32), d = v128.load(bp, 48);
      let wq = pairs + (<usize>(c0 * P) << 2);
      const p0 = px + <usize>c0;
      if (K3 && !part) {
        // pairs (0,3) (1,4) (2,5) (6,7) (8, −)
        const p1 = p0 + rowStep, p2 = p1 + rowStep;
        {
          const u = ldx<T>(p0, flip), v = ldx<T>(p1, flip);
          const l = zipLo(u, v), h = zipHi(u, v);
          a = i32x4.add(a, i32x4.dot_i16x8_s(widenLo(l), v128.load(wq)));
          b = i32x4.add(b, i32x4.dot_i16x8_s(widenHi(l), v128.load(wq, 16)));
          c = i32x4.add(c, i32x4.dot_i16x8_s(widenLo(h), v128.load(wq, 32)));
          d = i32x4.add(d, i32x4.dot_i16x8_s(widenHi(h), v128.load(wq, 48)));
        }
        {
          const w = wq + 64;
          const u = ldx<T>(p0 + tapStep, flip), v = ldx<T>(p1 + tapStep, flip);
          const l = zipLo(u, v), h = zipHi(u, v);
          a = i32x4.add(a, i32x4.dot_i16x8_s(widenLo(l), v128.load(w)));
          b = i32x4.add(b, i32x4.dot_i16x8_s(widenHi(l), v128.load(w, 16)));
          c = i32x4.add(c, i32x4.dot_i16x8_s(widenLo(h), v128.load(w, 32)));
          d = i32x4.add(d, i32x4.dot_i16x8_s(widenHi(h), v128.load(w, 48)));
        }
        {
          const w = wq + 128;
          const u = ldx<T>(p0 + 2 * tapStep, flip), v = ldx<T>(p1 + 2 * tapStep, flip);
          const l = zipLo(u, v), h = zipHi(u, v);
          a = i32x4.add(a, i32x4.dot_i16x8_s(widenLo(l), v128.load(w)));
          b = i32x4.add(b, i32x4.dot_i16x8_s(widenHi(l), v128.load(w, 16)));
          c = i32x4.add(c, i32x4.dot_i16x8_s(widenLo(h), v128.load(w, 32)));
          d = i32x4.add(d, i32x4.dot_i16x8_s(widenHi(h), v128.load(w, 48)));
        }
        {
          const w = wq + 192;
          const u = ldx<T>(p2, flip), v = ldx<T>(p2 + tapStep, flip);
          const l = zipLo(u, v), h = zipHi(u, v);
          a = i32x4.add(a, i32x4.dot_i16x8_s(widenLo(l), v128.load(w)));
          b = i32x4.add(b, i32x4.dot_i16x8_s(widenHi(l), v128.load(w, 16)));
          c = i32x4.add(c, i32x4.dot_i16x8_s(widenLo(h), v128.load(w, 32)));
          d = i32x4.add(d, i32x4.dot_i16x8_s(widenHi(h), v128.load(w, 48)));
        }
        {
          // the single last tap: its partner weight is zero, so the partner lane may be anything
          const w = wq + 256;
          const u = ldx<T>(p2 + 2 * tapStep, flip);
          const l = zipLo(u, u), h = zipHi(u, u);
          a = i32x4.add(a, i32x4.dot_i16x8_s(widenLo(l), v128.load(w)));
          b = i32x4.add(b, i32x4.dot_i16x8_s(widenHi(l), v128.load(w, 16)));
          c = i32x4.add(c, i32x4.dot_i16x8_s(widenLo(h), v128.load(w, 32)));
          d = i32x4.add(d, i32x4.dot_i16x8_s(widenHi(h), v128.load(w, 48)));
        }
      } else {
        // vertical pairs: rows (2i, 2i+1) at each column
        let row = p0;
        for (let q = 0; q < vert; q += KW) {
          let p = row;
          for (let kx = 0; kx < KW; kx++) {
            const u = part ? ldxPart<T>(p, nc, flip) : ldx<T>(p, flip), v = part ? ldxPart<T>(p + rowStep, nc, flip) : ldx<T>(p + rowStep, flip);
            const l = zipLo(u, v), h = zipHi(u, v);
            a = i32x4.add(a, i32x4.dot_i16x8_s(widenLo(l), v128.load(wq)));
            b = i32x4.add(b, i32x4.dot_i16x8_s(widenHi(l), v128.load(wq, 16)));
            c = i32x4.add(c, i32x4.dot_i16x8_s(widenLo(h), v128.load(wq, 32)));
            d = i32x4.add(d, i32x4.dot_i16x8_s(widenHi(h), v128.load(wq, 48)));
            wq += 64;
            p += tapStep;
          }
          row += rowStep << 1;
        }
        if (KH & 1) {
          // the last row's columns in twos, an odd last one with itself (zero partner weight)
          let p = p0 + lastRow;
          for (let kx = 0; kx < KW; kx += 2) {
            const u = part ? ldxPart<T>(p, nc, flip) : ldx<T>(p, flip);
            const q = kx + 1 < KW ? p + tapStep : p;
            const v = part ? ldxPart<T>(q, nc, flip) : ldx<T>(q, flip);
            const l = zipLo(u, v), h = zipHi(u, v);
            a = i32x4.add(a, i32x4.dot_i16x8_s(widenLo(l), v128.load(wq)));
            b = i32x4.add(b, i32x4.dot_i16x8_s(widenHi(l), v128.load(wq, 16)));
            c = i32x4.add(c, i32x4.dot_i16x8_s(widenLo(h), v128.load(wq, 32)));
            d = i32x4.add(d, i32x4.dot_i16x8_s(widenHi(h), v128.load(wq, 48)));
            wq += 64;
            p += tapStep << 1;
          }
        }
      }
      dwStore(raw, a, b, c, d, scale + (<usize>c0 << 2), pc, rounds, one, vlo, vhi, off, yflip, raw ? yo + (<usize>c0 << 2) : yo + <usize>c0, nc);
    }
  }
}

/**
 * Border output pixels [ox0, ox1) of one output row (some tap outside the image): from the
 * bias, the tap pairs (tapPair's order, the interior's weights) with a tap inside the image, ky
 * in [ky0, ky1) and kx clipped per pixel; a tap outside reads zx (the uint8 zero point, vzb) in
 * place of its bytes, so its (x − zx) is 0. Pairs as the interior's, but of (x − zx) widened to
 * i16 (exact: |x − zx| ≤ 255, |w| ≤ 128, two products a lane fit i32).
 * xr: the input row of tap ky0 at image column 0.
 */
// @ts-ignore: decorator
@inline function dwBorder(
  raw: bool, flip: v128, W: i32, C: i32, KH: i32, KW: i32, SW: i32, PW: i32, DW: i32, inStride: i32, ky0: i32, ky1: i32, xr: usize, rowStep: usize, tapStep: usize,
  ox0: i32, ox1: i32, pairs: usize, vzb: v128, vz: v128, bias: usize, scale: usize, pc: bool, rounds: bool, one: v128, vlo: v128, vhi: v128, off: v128,
  yflip: v128, yr: usize, outStride: usize,
): void {
  const vert = KH >> 1, last = KH - 1, P = (KH * KW + 1) >> 1;
  const lastIn = (KH & 1) != 0 && last >= ky0 && last < ky1;
  for (let ox = ox0; ox < ox1; ox++) {
    let kx0 = 0, kx1 = KW;
    while (kx0 < KW && ox * SW - PW + kx0 * DW < 0) kx0++;
    while (kx1 > kx0 && ox * SW - PW + (kx1 - 1) * DW >= W) kx1--;
    // tap (ky, kx) inside the image is at corner + ky·rowStep + kx·tapStep (corner itself may lie outside)
    const corner = xr - <usize>ky0 * rowStep + <usize>(ox * SW - PW) * <usize>inStride;
    const yo = yr + <usize>ox * outStride;
    for (let c0 = 0; c0 < C; c0 += DW_BLOCK) {
      const nc = min(DW_BLOCK, C - c0);
      const bp = bias + (<usize>c0 << 2);
      let a = v128.load(bp), b = v128.load(bp, 16), c = v128.load(bp, 32), d = v128.load(bp, 48);
      const p0 = corner + <usize>c0, w0 = pairs + (<usize>(c0 * P) << 2);
      // vertical pairs: rows (2i, 2i+1) at each column
      for (let i = 0; i < vert; i++) {
        const ky = i << 1;
        const in0 = ky >= ky0 && ky < ky1, in1 = ky + 1 >= ky0 && ky + 1 < ky1;
        if (!in0 && !in1) continue;
        const row = p0 + <usize>ky * rowStep, wr = w0 + <usize>(i * KW << 6);
        for (let kx = kx0; kx < kx1; kx++) {
          const p = row + <usize>kx * tapStep, w = wr + <usize>(kx << 6);
          const u = in0 ? ldxPart<i8>(p, nc, flip) : vzb, v = in1 ? ldxPart<i8>(p + rowStep, nc, flip) : vzb;
          const l = zipLo(u, v), h = zipHi(u, v);
          a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.sub(widenLo(l), vz), v128.load(w)));
          b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.sub(widenHi(l), vz), v128.load(w, 16)));
          c = i32x4.add(c, i32x4.dot_i16x8_s(i16x8.sub(widenLo(h), vz), v128.load(w, 32)));
          d = i32x4.add(d, i32x4.dot_i16x8_s(i16x8.sub(widenHi(h), vz), v128.load(w, 48)));
        }
      }
      if (lastIn) {
        // the last row's columns in twos (an odd last one alone: its partner weight is zero)
        const row = p0 + <usize>last * rowStep, wr = w0 + <usize>(vert * KW << 6);
        for (let kx = kx0 & ~1; kx < kx1; kx += 2) {
          const p = row + <usize>kx * tapStep, w = wr + <usize>((kx >> 1) << 6);
          const u = kx >= kx0 ? ldxPart<i8>(p, nc, flip) : vzb, v = kx + 1 < kx1 ? ldxPart<i8>(p + tapStep, nc, flip) : vzb;
          const l = zipLo(u, v), h = zipHi(u, v);
          a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.sub(widenLo(l), vz), v128.load(w)));
          b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.sub(widenHi(l), vz), v128.load(w, 16)));
          c = i32x4.add(c, i32x4.dot_i16x8_s(i16x8.sub(widenLo(h), vz), v128.load(w, 32)));
          d = i32x4.add(d, i32x4.dot_i16x8_s(i16x8.sub(widenHi(h), vz), v128.load(w, 48)));
        }
      }
      dwStore(raw, a, b, c, d, scale + (<usize>c0 << 2), pc, rounds, one, vlo, vhi, off, yflip, raw ? yo + (<usize>c0 << 2) : yo + <usize>c0, nc);
    }
  }
}

/**
 * The n weight bytes at wp (qdwconv_pack's pairs) widened to i16 at dst: read once per call
 * and part, so the kernels take a weight vector with a v128.load, where v128.load8x8_s is a
 * load and a shuffle uop (4 a tap pair; 0.93-0.97x the time), while the model keeps one byte
 * a weight. n: a multiple of 32.
 */
// @ts-ignore: decorator
@inline function widenPairs(wp: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i += 32) {
    const s = wp + <usize>i, d = dst + (<usize>i << 1);
    v128.store(d, v128.load8x8_s(s));
    v128.store(d, v128.load8x8_s(s, 8), 16);
    v128.store(d, v128.load8x8_s(s, 16), 32);
    v128.store(d, v128.load8x8_s(s, 24), 48);
  }
}

// @ts-ignore: decorator
@inline function dwDriver(
  raw: bool, xSigned: i32, N: i32, H: i32, W: i32, C: i32, inStride: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32,
  DH: i32, DW: i32, OH: i32, OW: i32, x: usize, zx: i32, wp: usize, bias: usize, scale: usize, perChannel: i32,
  zy: i32, lo: i32, hi: i32, y: usize, outStride: i32, ySigned: i32, wide: usize, post: usize, r0: i32, r1: i32,
): void {
  const C16 = (C + 15) & ~15, T = KH * KW;
  // int8 bytes are flipped to uint8 (x + 128, zero point zx + 128) on load and int8 outputs
  // computed as uint8 (zero point zy + 128) and flipped on store: one code path (a ternary on
  // the type inside the loops compiles to both widenings and a select)
  const flip = i8x16.splat(xSigned != 0 ? -128 : 0), yflip = i8x16.splat(ySigned != 0 ? -128 : 0);
  const zu = zx + (xSigned != 0 ? 128 : 0); // the zero point of the uint8 bytes
  const vz = i16x8.splat(<i16>zu), vzb = i8x16.splat(<i8>zu);
  const tmin = ySigned != 0 ? -128 : 0, tmax = ySigned != 0 ? 127 : 255;
  lo = max(lo, tmin);
  hi = min(hi, tmax);
  const one = v128.load32_splat(scale);
  const pc = perChannel != 0;
  // without the float clamp when the magic-number rounding is exact for every sum (qgemm.ts's
  // EPI_CLAMP): [lo, hi] is then applied to the bytes (uint8 form: int8 bounds + 128); raw
  // sums (qdwconv_i32) are not requantized
  const rounds = !raw && bounded(KH * KW, bias, scale, perChannel, 0, C);
  const yb = ySigned != 0 ? 128 : 0;
  const vlo = rounds ? i8x16.splat(<i8>(lo + yb)) : f32x4.splat(<f32>(lo - zy)), vhi = rounds ? i8x16.splat(<i8>(hi + yb)) : f32x4.splat(<f32>(hi - zy));
  const off = i32x4.splat(MAGIC_BITS - zy - yb);
  // the weight pairs widened to i16 in this part's scratch; the interior's start sums stay packed
  const pairBytes = ((T + 1) >> 1) * C16 * 2;
  const pairs = wide, ib = wp + <usize>pairBytes;
  widenPairs(wp, pairBytes, pairs);
  const rowB = <usize>W * <usize>inStride;
  const rowStep = <usize>DH * rowB, tapStep = <usize>DW * <usize>inStride, sIn = <usize>SW * <usize>inStride;
  const os = <usize>outStride;
  // output columns whose taps are all inside the image along x
  const owLo = interiorLo(PW, SW), owHi = interiorHi(W, PW, KW, DW, SW, OW, owLo);
  const K3 = KH == 3 && KW == 3;
  for (let r = r0; r < r1; r++) {
    const n = r / OH, oy = r - n * OH;
    // taps inside the image along y: ky in [ky0, ky1)
    const iy0 = oy * SH - PH;
    const ky0 = tapLo(iy0, DH), ky1 = tapHi(iy0, DH, KH, H);
    const yr = y + <usize>((n * OH + oy) * OW) * os;
    // the input row of tap ky0 (at image column 0); for an interior row, ky0 = 0
    const xr = x + (<usize>(n * H) * <usize>W) * <usize>inStride + <usize>(iy0 + ky0 * DH) * rowB;
    if (ky0 == 0 && ky1 == KH && owLo < owHi) {
      dwBorder(raw, flip, W, C, KH, KW, SW, PW, DW, inStride, ky0, ky1, xr, rowStep, tapStep, 0, owLo, pairs, vzb, vz, bias, scale, pc, rounds, one, vlo, vhi, off, yflip, yr, os);
      // window corner of output pixel 0 (column −PW: wraps, only interior pixels add it back)
      const xc = xr - <usize>PW * <usize>inStride;
      if (xSigned != 0) {
        if (K3) dwInterior<i8>(raw, flip, true, 3, 3, C, xc, sIn, rowStep, tapStep, owLo, owHi, pairs, ib, scale, pc, rounds, one, vlo, vhi, off, yflip, yr, os);
        else dwInterior<i8>(raw, flip, false, KH, KW, C, xc, sIn, rowStep, tapStep, owLo, owHi, pairs, ib, scale, pc, rounds, one, vlo, vhi, off, yflip, yr, os);
      } else if (K3) dwInterior<u8>(raw, flip, true, 3, 3, C, xc, sIn, rowStep, tapStep, owLo, owHi, pairs, ib, scale, pc, rounds, one, vlo, vhi, off, yflip, yr, os);
      else dwInterior<u8>(raw, flip, false, KH, KW, C, xc, sIn, rowStep, tapStep, owLo, owHi, pairs, ib, scale, pc, rounds, one, vlo, vhi, off, yflip, yr, os);
      dwBorder(raw, flip, W, C, KH, KW, SW, PW, DW, inStride, ky0, ky1, xr, rowStep, tapStep, owHi, OW, pairs, vzb, vz, bias, scale, pc, rounds, one, vlo, vhi, off, yflip, yr, os);
    } else {
      dwBorder(raw, flip, W, C, KH, KW, SW, PW, DW, inStride, ky0, ky1, xr, rowStep, tapStep, 0, OW, pairs, vzb, vz, bias, scale, pc, rounds, one, vlo, vhi, off, yflip, yr, os);
    }
    // a fused elementwise step on the row just stored (qpost.ts)
    if (post != 0) applyPost(post, yr, os, OW, C);
  }
}

/**
 * Depthwise int8 conv (group = C, one output per channel), NHWC:
 *   y[n][oy][ox][c] = requant(Σ_taps (x − zx)·w[c][tap] + bias[c])
 * requant as qgemm_q8: clamp(roundHalfEven(f32(acc) · scale[c]) + zy, lo, hi). x: uint8
 * (xSigned 0) or int8, pixels inStride bytes apart; wp from qdwconv_pack (with this zx and
 * bias); bias i32 [C16] (C rounded up to 16, zero padded; required: pass zeros for none); scale
 * f32 [C16] when perChannel, else one f32; y pixels outStride bytes apart (C written). g: the
 * geometry block (see above). scratch: parts × qdwconv_scratch_size(g) bytes. post: 0, or a
 * fused residual QLinearAdd (qpost.ts) applied to each output row right after it is stored.
 * (part, parts): bands of output rows (n, oy).
 */
export function qdwconv_q8(
  g: usize, x: usize, xSigned: i32, zx: i32, wp: usize, bias: usize, scale: usize, perChannel: i32,
  zy: i32, lo: i32, hi: i32, y: usize, outStride: i32, ySigned: i32, scratch: usize, post: usize, part: i32, parts: i32,
): void {
  const N = geo(g, 0), H = geo(g, 1), W = geo(g, 2), C = geo(g, 3), inStride = geo(g, 4), KH = geo(g, 5), KW = geo(g, 6);
  const SH = geo(g, 7), SW = geo(g, 8), PH = geo(g, 9), PW = geo(g, 10), DH = geo(g, 11), DW = geo(g, 12), OH = geo(g, 13), OW = geo(g, 14);
  const range = rowRange(N * OH, part, parts);
  const r0 = <i32>range, r1 = <i32>(range >> 32);
  if (r0 >= r1) return;
  const wide = scratch + <usize>part * <usize>qdwconv_scratch_size(g);
  dwDriver(false, xSigned, N, H, W, C, inStride, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, x, zx, wp, bias, scale, perChannel, zy, lo, hi, y, outStride, ySigned, wide, post, r0, r1);
}

/**
 * Depthwise int8 conv without requantization (ONNX ConvInteger with group = C): the exact i32
 * sums Σ_taps (x − zx)·w[c][tap] of qdwconv_q8, x uint8, stored as i32 [N][OH][OW][C] (pixels
 * outStride bytes apart). wp from qdwconv_pack with this zx and bias (i32 [C16], zeros for
 * none: the sums start from it). g, scratch, (part, parts): as qdwconv_q8.
 */
export function qdwconv_i32(g: usize, x: usize, zx: i32, wp: usize, bias: usize, y: usize, outStride: i32, scratch: usize, part: i32, parts: i32): void {
  const N = geo(g, 0), H = geo(g, 1), W = geo(g, 2), C = geo(g, 3), inStride = geo(g, 4), KH = geo(g, 5), KW = geo(g, 6);
  const SH = geo(g, 7), SW = geo(g, 8), PH = geo(g, 9), PW = geo(g, 10), DH = geo(g, 11), DW = geo(g, 12), OH = geo(g, 13), OW = geo(g, 14);
  const range = rowRange(N * OH, part, parts);
  const r0 = <i32>range, r1 = <i32>(range >> 32);
  if (r0 >= r1) return;
  const wide = scratch + <usize>part * <usize>qdwconv_scratch_size(g);
  dwDriver(true, 0, N, H, W, C, inStride, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, x, zx, wp, bias, bias, 0, 0, 0, 255, y, outStride, 0, wide, 0, r0, r1);
}

/**
 * ONNX QuantizeLinear, per tensor: y[i] = saturate(roundHalfEven(x[i] / scale) + zp) as
 * onnxruntime computes it (f32 division, clamp, round half even; NaN → the type's minimum).
 * y: n bytes, uint8 (ySigned 0) or int8.
 */
export function quantize_f32_q8(x: usize, n: i32, scale: f32, zp: i32, ySigned: i32, y: usize): void {
  const tmin = ySigned != 0 ? -128 : 0, tmax = ySigned != 0 ? 127 : 255;
  const flo = <f32>(tmin - zp), fhi = <f32>(tmax - zp);
  // int8 computed as uint8 (zero point zp + 128) and flipped: one narrowing (a runtime choice of
  // two compiles to both and a select)
  const flip = i8x16.splat(ySigned != 0 ? -128 : 0);
  const vs = f32x4.splat(scale), vlo = f32x4.splat(flo), vhi = f32x4.splat(fhi), off = i32x4.splat(MAGIC_BITS - zp - (ySigned != 0 ? 128 : 0));
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    // pmax(lo, v) is lo when v is NaN
    const q0 = roundLanes(f32x4.pmin(f32x4.pmax(vlo, f32x4.div(v128.load(p), vs)), vhi), off);
    const q1 = roundLanes(f32x4.pmin(f32x4.pmax(vlo, f32x4.div(v128.load(p, 16), vs)), vhi), off);
    const q2 = roundLanes(f32x4.pmin(f32x4.pmax(vlo, f32x4.div(v128.load(p, 32), vs)), vhi), off);
    const q3 = roundLanes(f32x4.pmin(f32x4.pmax(vlo, f32x4.div(v128.load(p, 48), vs)), vhi), off);
    v128.store(y + <usize>i, v128.xor(narrow16(q0, q1, q2, q3, 0), flip));
  }
  for (; i < n; i++) {
    let v = load<f32>(x + (<usize>i << 2)) / scale;
    v = flo < v ? v : flo;
    v = v < fhi ? v : fhi;
    const q = reinterpret<i32>(v + 12582912.0) - (MAGIC_BITS - zp);
    store<u8>(y + <usize>i, <u8>q);
  }
}

/** ONNX DequantizeLinear, per tensor: y[i] = f32(x[i] − zp) · scale; x uint8 (xSigned 0) or int8. */
export function dequantize_q8_f32(x: usize, n: i32, xSigned: i32, zp: i32, scale: f32, y: usize): void {
  // int8 read as uint8 x + 128 with zero point zp + 128 (x − zp unchanged): one widening
  const flip = i8x16.splat(xSigned != 0 ? -128 : 0);
  const vz = i32x4.splat(zp + (xSigned != 0 ? 128 : 0)), vs = f32x4.splat(scale);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = i16x8.extend_low_i8x16_u(v128.xor(v128.load64_zero(x + <usize>i), flip));
    const lo = i32x4.sub(i32x4.extend_low_i16x8_s(h), vz), hi = i32x4.sub(i32x4.extend_high_i16x8_s(h), vz);
    const p = y + (<usize>i << 2);
    v128.store(p, f32x4.mul(f32x4.convert_i32x4_s(lo), vs));
    v128.store(p, f32x4.mul(f32x4.convert_i32x4_s(hi), vs), 16);
  }
  for (; i < n; i++) {
    const q: i32 = xSigned != 0 ? <i32>load<i8>(x + <usize>i) : <i32>load<u8>(x + <usize>i);
    store<f32>(y + (<usize>i << 2), <f32>(q - zp) * scale);
  }
}

/**
 * The range of n floats for ONNX DynamicQuantizeLinear: out[0] = min(0, min x), out[1] = max(0,
 * max x), out[2] = 1 when some x is NaN or infinite (no range: the host refuses the input), else 0.
 */
export function range_f32(x: usize, n: i32, out: usize): void {
  let lo = f32x4.splat(0), hi = f32x4.splat(0), bad = i32x4.splat(0);
  const inf = f32x4.splat(Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    lo = f32x4.pmin(lo, v);
    hi = f32x4.pmax(hi, v);
    // |v| < inf is false for NaN and ±inf
    bad = v128.or(bad, v128.not(f32x4.lt(f32x4.abs(v), inf)));
  }
  let l = min(min(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), min(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
  let h = max(max(f32x4.extract_lane(hi, 0), f32x4.extract_lane(hi, 1)), max(f32x4.extract_lane(hi, 2), f32x4.extract_lane(hi, 3)));
  let b = v128.any_true(bad);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (!(Mathf.abs(v) < Infinity)) b = true;
    else {
      l = min(l, v);
      h = max(h, v);
    }
  }
  store<f32>(out, l);
  store<f32>(out, h, 4);
  store<f32>(out, b ? 1 : 0, 8);
}

/**
 * In place, rows x N: the i32 sums at y become f32(acc) · scale[n] (+ bias[n] when bias != 0),
 * two float32 roundings as ONNX's Cast → Mul → Add after ConvInteger / MatMulInteger compute
 * them (cvtdq2ps rounds an i32 beyond 2^24 to nearest even, as a C++ cast does). With corr != 0,
 * acc + corr[r·cr + n·cn]·factor (wrapping i32) first: the weights' zero point part of the sums
 * (a weight w − zw taken as (w − s) + (s − zw), factor = s − zw, corr the sums of (x − zx)).
 */
export function dequant_i32_f32(y: usize, rows: i32, N: i32, scale: usize, bias: usize, corr: usize, cr: i32, cn: i32, factor: i32): void {
  const full = N & ~3;
  const vf = i32x4.splat(factor);
  for (let r = 0; r < rows; r++) {
    const row = y + ((<usize>r * <usize>N) << 2);
    const cRow = corr + ((<usize>r * <usize>cr) << 2);
    let n = 0;
    for (; n < full; n += 4) {
      const p = row + (<usize>n << 2), q = <usize>n << 2;
      let acc = v128.load(p);
      if (corr != 0) acc = i32x4.add(acc, i32x4.mul(cn != 0 ? v128.load(cRow + q) : v128.load32_splat(cRow), vf));
      let v = f32x4.mul(f32x4.convert_i32x4_s(acc), v128.load(scale + q));
      if (bias != 0) v = f32x4.add(v, v128.load(bias + q));
      v128.store(p, v);
    }
    for (; n < N; n++) {
      const p = row + (<usize>n << 2), q = <usize>n << 2;
      let acc = load<i32>(p);
      if (corr != 0) acc += load<i32>(cRow + (<usize>(n * cn) << 2)) * factor;
      let v = <f32>acc * load<f32>(scale + q);
      if (bias != 0) v += load<f32>(bias + q);
      store<f32>(p, v);
    }
  }
}

/**
 * out[m] = Σ_k (a[m·lda + k] − za) for M rows of K uint8 bytes (i32; exact for K < 2^23): the
 * per-row sums a weight zero point multiplies (dequant_i32_f32's corr).
 */
export function rowsum_u8(a: usize, M: i32, K: i32, lda: i32, za: i32, out: usize): void {
  for (let m = 0; m < M; m++) {
    const row = a + <usize>m * <usize>lda;
    let acc = i32x4.splat(0);
    let k = 0;
    for (; k + 16 <= K; k += 16) acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(v128.load(row + <usize>k))));
    let s = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
    for (; k < K; k++) s += <i32>load<u8>(row + <usize>k);
    store<i32>(out + (<usize>m << 2), s - K * za);
  }
}

/**
 * ONNX QLinearMul (and DQ → Mul → Q), as onnxruntime's x86 MlasQLinearMul computes it: the
 * product of the zero-point-free integers, exact in i32, then one f32 multiply and one f32 add,
 * rounded half to even:
 *   y = saturate(roundHalfEven(f32(f32((a − za)·(b − zb)) · ratio) + zc)),  ratio = f32(sa·sb)/sc
 * (the host computes ratio in f32 in that order), clamped to [lo, hi] (the type's range,
 * narrowed by a fused ReLU; clamping before rounding equals saturating after, and keeps the
 * magic-number rounding's |v| < 2^22). a and y: d0 × d1 × d2 rows of L bytes (a's physical
 * order); b broadcast onto them: element (i0, i1, i2, j) reads b[i0·s0 + i1·s1 + i2·s2 + j·s3]
 * (a stride 0 along a broadcast axis; s3 = 1 runs 8 lanes a step, s3 = 0 splats one byte a row).
 * a, b, y: one type (signed 0: uint8, 1: int8). (part, parts): bands of rows, or of 16-byte runs
 * of a single row.
 */
export function qmul_q8(
  a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, L: i32, s0: i32, s1: i32, s2: i32, s3: i32, signed: i32,
  za: i32, zb: i32, ratio: f32, zc: f32, lo: i32, hi: i32, part: i32, parts: i32,
): void {
  const tmin = signed != 0 ? -128 : 0, tmax = signed != 0 ? 127 : 255;
  lo = max(lo, tmin);
  hi = min(hi, tmax);
  const rows = d0 * d1 * d2;
  let r0 = 0, r1 = rows, c0 = 0, c1 = L;
  if (rows == 1) {
    c0 = partStart(L, 16, part, parts);
    c1 = partStart(L, 16, part + 1, parts);
  } else {
    r0 = partStart(rows, 1, part, parts);
    r1 = partStart(rows, 1, part + 1, parts);
  }
  if (signed != 0) mulRows(true, a, b, y, r0, r1, c0, c1, d1, d2, L, s0, s1, s2, s3, za, zb, ratio, zc, lo, hi);
  else mulRows(false, a, b, y, r0, r1, c0, c1, d1, d2, L, s0, s1, s2, s3, za, zb, ratio, zc, lo, hi);
}

/** 8 bytes of one type widened to i16, minus the zero point (|x − z| ≤ 255). */
// @ts-ignore: decorator
@inline function debias8(SIGNED: bool, v: v128, z: v128): v128 {
  return i16x8.sub(SIGNED ? i16x8.extend_low_i8x16_s(v) : i16x8.extend_low_i8x16_u(v), z);
}

/** 4 exact products (i32) → f32 · ratio + zc, clamped, rounded half to even (i32). */
// @ts-ignore: decorator
@inline function mulLanes(p: v128, vr: v128, vzc: v128, vlo: v128, vhi: v128, off: v128): v128 {
  const v = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(p), vr), vzc);
  return roundLanes(f32x4.pmin(f32x4.pmax(v, vlo), vhi), off);
}

/** One byte of one type at p, as i32. */
// @ts-ignore: decorator
@inline function byteOf(SIGNED: bool, p: usize): i32 {
  return SIGNED ? <i32>load<i8>(p) : <i32>load<u8>(p);
}

// @ts-ignore: decorator
@inline function mulRows(
  SIGNED: bool, a: usize, b: usize, y: usize, r0: i32, r1: i32, c0: i32, c1: i32, d1: i32, d2: i32, L: i32,
  s0: i32, s1: i32, s2: i32, s3: i32, za: i32, zb: i32, ratio: f32, zc: f32, lo: i32, hi: i32,
): void {
  const vza = i16x8.splat(<i16>za), vzb = i16x8.splat(<i16>zb);
  const vr = f32x4.splat(ratio), vzc = f32x4.splat(zc);
  const flo = <f32>lo, fhi = <f32>hi;
  const vlo = f32x4.splat(flo), vhi = f32x4.splat(fhi), off = i32x4.splat(MAGIC_BITS);
  const sg = SIGNED ? 1 : 0;
  for (let r = r0; r < r1; r++) {
    const ar = a + <usize>r * <usize>L, yr = y + <usize>r * <usize>L;
    const i2 = r % d2, i1 = (r / d2) % d1, i0 = r / (d1 * d2);
    const br = b + <usize>(i0 * s0 + i1 * s1 + i2 * s2);
    let c = c0;
    if (s3 <= 1) {
      const bs = i16x8.splat(<i16>(byteOf(SIGNED, br) - zb));
      for (; c + 8 <= c1; c += 8) {
        const da = debias8(SIGNED, v128.load64_zero(ar + <usize>c), vza);
        const db = s3 == 0 ? bs : debias8(SIGNED, v128.load64_zero(br + <usize>c), vzb);
        const q0 = mulLanes(i32x4.extmul_low_i16x8_s(da, db), vr, vzc, vlo, vhi, off);
        const q1 = mulLanes(i32x4.extmul_high_i16x8_s(da, db), vr, vzc, vlo, vhi, off);
        v128.store64_lane(yr + <usize>c, narrow16(q0, q1, q0, q1, sg), 0);
      }
    }
    for (; c < c1; c++) {
      const p = (byteOf(SIGNED, ar + <usize>c) - za) * (byteOf(SIGNED, br + <usize>c * <usize>s3) - zb);
      let v = <f32>p * ratio + zc;
      v = v < flo ? flo : v;
      v = v > fhi ? fhi : v;
      store<u8>(yr + <usize>c, <u8>(reinterpret<i32>(v + 12582912.0) - MAGIC_BITS));
    }
  }
}

/**
 * ONNX QLinearAdd of two same-shape tensors, as onnxruntime's AVX2 kernel (qladd_avx2.cpp) on
 * x86: two fused multiply-adds, B's first, for i < n
 *   y[i] = clamp(roundHalfEven(fma(f32(a[i]), ra, fma(f32(b[i]), rb, fixed))), lo, hi)
 * with ra = sa/sc, rb = sb/sc, fixed = zc − (ra·za + rb·zb) computed by the host in f32; lo/hi
 * the output bounds (the type's range, narrowed by a fused ReLU). a, b, y: n bytes of one type
 * (signed 0: uint8, 1: int8). (part, parts): contiguous runs of 16 elements.
 * Baseline wasm has no FMA: each is computed in f64 and rounded once to f32. The product of an
 * 8-bit integer and an f32 (≤ 32 significant bits) is exact in f64, and so is its sum with an f32
 * of the magnitudes quantization produces (within 53 bits), so the one rounding is the FMA's.
 * (A separate multiply and add rounds twice and lands on a different side of a .5 tie now and
 * then: one quantization step off onnxruntime. So that cheaper form is used only where its
 * value is provably too far from a tie for the two to differ: see qpost.ts addRun.)
 */
export function qadd_q8(a: usize, b: usize, n: i32, signed: i32, ra: f32, rb: f32, fixed: f32, lo: i32, hi: i32, y: usize, part: i32, parts: i32): void {
  const i0 = partStart(n, 16, part, parts), i1 = partStart(n, 16, part + 1, parts);
  const o = <usize>i0;
  addRun(a + o, b + o, i1 - i0, signed, ra, rb, fixed, addLo(lo, signed), addHi(hi, signed), y + o);
}

/**
 * QLinearGlobalAveragePool on NHWC: y[n][c] = requant(Σ_p x[n][p][c] − zx·HW) with one f32
 * scale (x_scale / (y_scale · HW), computed by the host in f32 as onnxruntime does), zero point
 * zy, the type's bounds. x pixels inStride bytes apart; y [N][C] bytes. Sums are exact i32
 * (HW < 2^23).
 */
export function qgap_q8(N: i32, HW: i32, C: i32, inStride: i32, x: usize, xSigned: i32, zx: i32, scale: f32, zy: i32, ySigned: i32, y: usize): void {
  const tmin = ySigned != 0 ? -128 : 0, tmax = ySigned != 0 ? 127 : 255;
  // int8 in and out through uint8 (x + 128, zero points + 128, flipped back on store): one
  // widening and one narrowing in the loops (a runtime choice of two compiles to both and a select)
  const xflip = i8x16.splat(xSigned != 0 ? -128 : 0), yflip = i8x16.splat(ySigned != 0 ? -128 : 0);
  const vlo = f32x4.splat(<f32>(tmin - zy)), vhi = f32x4.splat(<f32>(tmax - zy)), off = i32x4.splat(MAGIC_BITS - zy - (ySigned != 0 ? 128 : 0));
  const vs = f32x4.splat(scale), vb = i32x4.splat(-(zx + (xSigned != 0 ? 128 : 0)) * HW);
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>HW * <usize>inStride;
    for (let c0 = 0; c0 < C; c0 += 8) {
      const nc = min(8, C - c0);
      let a0 = vb, a1 = vb;
      let p = xn + <usize>c0;
      if (nc == 8) {
        for (let i = 0; i < HW; i++) {
          const h = i16x8.extend_low_i8x16_u(v128.xor(v128.load64_zero(p), xflip));
          a0 = i32x4.add(a0, i32x4.extend_low_i16x8_u(h));
          a1 = i32x4.add(a1, i32x4.extend_high_i16x8_u(h));
          p += <usize>inStride;
        }
      } else {
        for (let i = 0; i < HW; i++) {
          const h = i16x8.extend_low_i8x16_u(v128.xor(loadBytes8(p, nc), xflip));
          a0 = i32x4.add(a0, i32x4.extend_low_i16x8_u(h));
          a1 = i32x4.add(a1, i32x4.extend_high_i16x8_u(h));
          p += <usize>inStride;
        }
      }
      const q0 = requantLanes(a0, vs, vlo, vhi, off), q1 = requantLanes(a1, vs, vlo, vhi, off);
      const v = v128.xor(narrow16(q0, q1, q0, q1, 0), yflip);
      storeBytes(y + <usize>(n * C + c0), v, nc);
    }
  }
}

/**
 * ONNX MaxPool on int8 NHWC bytes (QOperator MaxPool on uint8/int8, or QDQ DQ → MaxPool → Q with
 * one scale and zero point: quantization is monotone, so the max of the bytes is the bytes of the
 * max): y[n][oy][ox][c] = max over the window's taps inside the image (padding never wins).
 * g: the geometry block (see above; C = channels, inStride = pixel stride of x); y pixels C
 * bytes apart. 16 channels a step (u8x16.max / i8x16.max). (part, parts): bands of output rows.
 */
export function qmaxpool_q8(g: usize, x: usize, signed: i32, y: usize, part: i32, parts: i32): void {
  const N = geo(g, 0), H = geo(g, 1), W = geo(g, 2), C = geo(g, 3), inStride = geo(g, 4), KH = geo(g, 5), KW = geo(g, 6);
  const SH = geo(g, 7), SW = geo(g, 8), PH = geo(g, 9), PW = geo(g, 10), DH = geo(g, 11), DW = geo(g, 12), OH = geo(g, 13), OW = geo(g, 14);
  const range = rowRange(N * OH, part, parts);
  const r0 = <i32>range, r1 = <i32>(range >> 32);
  for (let r = r0; r < r1; r++) {
    const n = r / OH, oy = r - n * OH;
    let ky0 = 0, ky1 = KH;
    while (ky0 < KH && oy * SH - PH + ky0 * DH < 0) ky0++;
    while (ky1 > ky0 && oy * SH - PH + (ky1 - 1) * DH >= H) ky1--;
    for (let ox = 0; ox < OW; ox++) {
      let kx0 = 0, kx1 = KW;
      while (kx0 < KW && ox * SW - PW + kx0 * DW < 0) kx0++;
      while (kx1 > kx0 && ox * SW - PW + (kx1 - 1) * DW >= W) kx1--;
      const yo = y + <usize>((n * OH + oy) * OW + ox) * <usize>C;
      const first = x + (<usize>(n * H + oy * SH - PH + ky0 * DH) * <usize>W + <usize>(ox * SW - PW + kx0 * DW)) * <usize>inStride;
      for (let c0 = 0; c0 < C; c0 += 16) {
        const nc = min(16, C - c0);
        let m = i8x16.splat(signed != 0 ? -128 : 0);
        let row = first + <usize>c0;
        for (let ky = ky0; ky < ky1; ky++) {
          let p = row;
          for (let kx = kx0; kx < kx1; kx++) {
            const v = loadBytes16(p, nc);
            m = signed != 0 ? i8x16.max_s(m, v) : i8x16.max_u(m, v);
            p += <usize>DW * <usize>inStride;
          }
          row += <usize>DH * <usize>W * <usize>inStride;
        }
        storeBytes(yo + <usize>c0, m, nc);
      }
    }
  }
}

/**
 * A 256-entry byte table applied to n bytes: y[i] = table[x[i]] (x read as unsigned, so an int8
 * value v indexes entry v & 255). An elementwise float op between DequantizeLinear and
 * QuantizeLinear maps each input byte to one output byte; the host computes the table once.
 * Plain byte loads, 8 a step: measured in V8 (1 MB, x64) 0.23 ms against 0.38 ms for 16 bytes a
 * step through i8x16.swizzle of the table's 16 chunks (each swizzle is two instructions there,
 * and 16 chunks make 64 vector operations per 16 bytes) and 0.26 ms for 4-byte loads split by shifts.
 * (part, parts): contiguous runs of 16 bytes.
 */
export function qlut_q8(x: usize, n: i32, table: usize, y: usize, part: i32, parts: i32): void {
  const i0 = partStart(n, 16, part, parts), i1 = partStart(n, 16, part + 1, parts);
  let i = i0;
  for (; i + 8 <= i1; i += 8) {
    const p = x + <usize>i, q = y + <usize>i;
    store<u8>(q, load<u8>(table + <usize>load<u8>(p)));
    store<u8>(q, load<u8>(table + <usize>load<u8>(p, 1)), 1);
    store<u8>(q, load<u8>(table + <usize>load<u8>(p, 2)), 2);
    store<u8>(q, load<u8>(table + <usize>load<u8>(p, 3)), 3);
    store<u8>(q, load<u8>(table + <usize>load<u8>(p, 4)), 4);
    store<u8>(q, load<u8>(table + <usize>load<u8>(p, 5)), 5);
    store<u8>(q, load<u8>(table + <usize>load<u8>(p, 6)), 6);
    store<u8>(q, load<u8>(table + <usize>load<u8>(p, 7)), 7);
  }
  for (; i < i1; i++) store<u8>(y + <usize>i, load<u8>(table + <usize>load<u8>(x + <usize>i)));
}
