// Specs for qconv.ts against the scalar references in qconv_ref.ts: dense convs through
// qim2col_q8 + qgemm_q8 (and the 1x1 path straight on the NHWC input), depthwise convs, on odd
// sizes (channels not multiples of 4/8/16, odd spatial sizes, stride 2, padding, dilation, a
// strided input), uint8 and int8 activations and outputs, per-tensor and per-channel scales,
// ReLU clamps, depthwise convs also on extreme bytes (|x − zx| = 255, |w| = 128); QuantizeLinear /
// DequantizeLinear / QLinearAdd / QLinearGlobalAveragePool on odd lengths; qlut_q8 (a byte table)
// on odd lengths; every splittable kernel split into 2, 3 and 5 parts gives the whole call's bytes.
import { qgemm_pack, qgemm_packed_size, qgemm_q8, qgemm_scratch_size } from '../qgemm';
import { dequant_i32_f32, dequantize_q8_f32, qadd_q8, qmul_q8, qlut_q8, qmaxpool_q8, qdwconv_i32, qdwconv_pack, qdwconv_packed_size, qdwconv_q8, qdwconv_scratch_size, qgap_q8, qim2col_q8, quantize_f32_q8, range_f32 } from '../qconv';
import { floats, resetArena, SPLITS } from './gemm_ref';
import { countByteDiffs, fillBytes, nextRand, randInt } from './qgemm_ref';
import { dequantizeRef, qaddRef, qmulRef, qconvRef, qgapRef, qmaxpoolRef, quantizeRef } from './qconv_ref';

const SENTINEL: u8 = 0xa5;

function bytes(n: i32): usize {
  return floats((n + 3) >> 2);
}

/** The 15-int conv geometry block qim2col_q8 / qdwconv_q8 read. */
function geom(N: i32, H: i32, W: i32, C: i32, inStride: i32, K: i32, S: i32, P: i32, D: i32, OH: i32, OW: i32): usize {
  const g = bytes(4 * 15);
  const v: i32[] = [N, H, W, C, inStride, K, K, S, S, P, P, D, D, OH, OW];
  for (let i = 0; i < 15; i++) store<i32>(g + (<usize>i << 2), v[i]);
  return g;
}

function outDim(size: i32, k: i32, s: i32, p: i32, d: i32): i32 {
  return (size + 2 * p - d * (k - 1) - 1) / s + 1;
}

/** Random per-channel (or one) scales that spread outputs over the type's range. */
function fillScales(scale: usize, n: i32, depth: i32): void {
  const spread = 60.0 / (Math.sqrt(<f64>depth) * 11000.0);
  for (let i = 0; i < n; i++) store<f32>(scale + (<usize>i << 2), <f32>(spread * (0.5 + <f64>(nextRand() % 1000) / 1000.0)));
}

/** One dense conv: qim2col_q8 (or the NHWC input for a 1x1 s1 p0 conv) + qgemm_q8 vs qconvRef; returns wrong bytes. */
function denseCase(
  N: i32, H: i32, W: i32, C: i32, OC: i32, K: i32, S: i32, P: i32, D: i32, xSigned: bool, zx: i32, ySigned: bool, zy: i32,
  perChannel: bool, relu: bool, dense: bool = false,
): i32 {
  resetArena();
  const inStride = dense ? C : C + 3; // unless dense, the input is a channel slice of a wider buffer
  const OH = outDim(H, K, S, P, D), OW = outDim(W, K, S, P, D);
  const KK = K * K * C, M = N * OH * OW;
  const g = geom(N, H, W, C, inStride, K, S, P, D, OH, OW);
  const x = bytes(N * H * W * inStride), w = bytes(OC * KK), wr = bytes(OC * KK), bias = bytes(4 * OC), scale = bytes(4 * OC);
  fillBytes(x, N * H * W * inStride, xSigned ? -128 : 0, xSigned ? 127 : 255);
  fillBytes(w, OC * KK, -128, 127);
  for (let o = 0; o < OC; o++) store<i32>(bias + (<usize>o << 2), randInt(-20000, 20000));
  fillScales(scale, OC, KK);
  // ONNX [OC][C][K][K] → qgemm rows in im2col order [OC][K][K][C]
  for (let o = 0; o < OC; o++)
    for (let c = 0; c < C; c++)
      for (let t = 0; t < K * K; t++)
        store<i8>(wr + <usize>(o * KK + t * C + c), load<i8>(w + <usize>((o * C + c) * K * K + t)));
  const packed = bytes(qgemm_packed_size(OC, KK));
  qgemm_pack(wr, OC, KK, packed);
  const lo = relu ? zy : -1000, hi = 1000;
  const outBytes = M * OC;
  // im2col rows with 64 bytes of sentinel after them: nothing may be written past the rows
  const y = bytes(outBytes + 16), ref = bytes(outBytes + 16), col = bytes(M * KK + 64), yp = bytes(outBytes + 16);
  memory.fill(col, 0x3c, M * KK + 64);
  const wide = bytes(qgemm_scratch_size(KK));
  memory.fill(y, SENTINEL, outBytes + 16);
  memory.fill(ref, SENTINEL, outBytes + 16);
  qconvRef(N, H, W, C, inStride, OC, 1, K, K, S, S, P, P, D, D, OH, OW, x, xSigned, zx, w, bias, scale, perChannel, zy, lo, hi, ref, ySigned);
  const xs = xSigned ? 1 : 0, ys = ySigned ? 1 : 0, pc = perChannel ? 1 : 0;
  const direct = K == 1 && S == 1 && P == 0;
  if (!direct) qim2col_q8(g, x, zx, col, 0, 1);
  qgemm_q8(M, OC, KK, direct ? x : col, direct ? inStride : KK, xs, zx, packed, bias, scale, pc, zy, lo, hi, y, OC, ys, wide, 0, 0, 1);
  let bad = countByteDiffs(y, ref, outBytes + 16);
  if (!direct) {
    for (let i = M * KK; i < M * KK + 64; i++) if (load<u8>(col + <usize>i) != 0x3c) bad++;
    for (let s = 0; s < SPLITS.length; s++) {
      const col2 = bytes(M * KK + 64);
      memory.fill(col2, 0x3c, M * KK + 64);
      // the last part first: a part writing into the next one's rows would show
      for (let part = SPLITS[s] - 1; part >= 0; part--) qim2col_q8(g, x, zx, col2, part, SPLITS[s]);
      bad += countByteDiffs(col2, col, M * KK + 64);
    }
  }
  return bad;
}

/**
 * Scratch for the largest split of a depthwise call (SPLITS' parts × qdwconv_scratch_size),
 * filled with a byte pattern: the kernels must write every scratch byte they read.
 */
function dwScratch(g: usize): usize {
  let parts = 1;
  for (let i = 0; i < SPLITS.length; i++) parts = max(parts, SPLITS[i]);
  const n = parts * qdwconv_scratch_size(g);
  const s = bytes(n);
  memory.fill(s, 0x5a, n);
  return s;
}

/** One depthwise conv vs qconvRef (groups = C) and its splits; returns wrong bytes. */
function dwCase(
  N: i32, H: i32, W: i32, C: i32, K: i32, S: i32, P: i32, D: i32, xSigned: bool, zx: i32, ySigned: bool, zy: i32, perChannel: bool, relu6: bool,
  KW: i32 = 0, extreme: bool = false, hugeScale: bool = false,
): i32 {
  resetArena();
  if (KW == 0) KW = K;
  const inStride = C + 5, outStride = C + 2;
  const OH = outDim(H, K, S, P, D), OW = outDim(W, KW, S, P, D);
  const T = K * KW, C16 = (C + 15) & ~15; // bias and scale padded to 16 channels
  const g = geom(N, H, W, C, inStride, K, S, P, D, OH, OW);
  store<i32>(g + 24, KW);
  const x = bytes(N * H * W * inStride), w = bytes(C * T), bias = bytes(4 * C16), scale = bytes(4 * C16);
  fillBytes(x, N * H * W * inStride, xSigned ? -128 : 0, xSigned ? 127 : 255);
  fillBytes(w, C * T, -128, 127);
  for (let c = 0; c < C; c++) store<i32>(bias + (<usize>c << 2), randInt(-5000, 5000));
  fillScales(scale, C, T);
  if (extreme) {
    // inputs and weights only at their types' ends, zx at one end: |x − zx| = 255 against |w| =
    // 128 and 127 (the widest products the kernel's i16 lanes and pair dots hold), scales small
    // enough that the sums do not saturate
    const xlo = xSigned ? -128 : 0, xhi = xSigned ? 127 : 255;
    for (let i = 0; i < N * H * W * inStride; i++) store<u8>(x + <usize>i, <u8>((nextRand() & 1) != 0 ? xhi : xlo));
    for (let i = 0; i < C * T; i++) store<i8>(w + <usize>i, (nextRand() & 3) != 0 ? -128 : 127);
    for (let c = 0; c < C; c++) store<f32>(scale + (<usize>c << 2), <f32>(100.0 / (<f64>T * 32640.0)));
  }
  // scales of 1000: |sum · scale| far past 2^22, where the rounding needs the float clamp first
  if (hugeScale) for (let c = 0; c < C; c++) store<f32>(scale + (<usize>c << 2), 1000);
  const packed = bytes(qdwconv_packed_size(C, T));
  qdwconv_pack(w, C, K, KW, bias, zx, xSigned ? 1 : 0, packed);
  const scratch = dwScratch(g);
  const lo = relu6 ? zy : -1000, hi = relu6 ? zy + 40 : 1000;
  const outBytes = N * OH * OW * outStride;
  const y = bytes(outBytes), ref = bytes(N * OH * OW * C), yp = bytes(outBytes);
  memory.fill(y, SENTINEL, outBytes);
  qconvRef(N, H, W, C, inStride, C, C, K, KW, S, S, P, P, D, D, OH, OW, x, xSigned, zx, w, bias, scale, perChannel, zy, lo, hi, ref, ySigned);
  const xs = xSigned ? 1 : 0, ys = ySigned ? 1 : 0, pc = perChannel ? 1 : 0;
  qdwconv_q8(g, x, xs, zx, packed, bias, scale, pc, zy, lo, hi, y, outStride, ys, scratch, 0, 0, 1);
  let bad = 0;
  for (let p = 0; p < N * OH * OW; p++) {
    bad += countByteDiffs(y + <usize>(p * outStride), ref + <usize>(p * C), C);
    // bytes past C of each output pixel stay untouched
    for (let j = C; j < outStride; j++) if (load<u8>(y + <usize>(p * outStride + j)) != SENTINEL) bad++;
  }
  for (let s = 0; s < SPLITS.length; s++) {
    memory.fill(yp, SENTINEL, outBytes);
    for (let part = 0; part < SPLITS[s]; part++)
      qdwconv_q8(g, x, xs, zx, packed, bias, scale, pc, zy, lo, hi, yp, outStride, ys, scratch, 0, part, SPLITS[s]);
    bad += countByteDiffs(yp, y, outBytes);
  }
  return bad;
}

describe('qim2col_q8 + qgemm_q8 (dense int8 conv)', () => {
  it('3x3 pad 1 stride 1, uint8 in / uint8 out, per-channel scales, odd channels', () => {
    expect<i32>(denseCase(1, 7, 5, 3, 5, 3, 1, 1, 1, false, 128, false, 3, true, false)).toBe(0);
    expect<i32>(denseCase(2, 5, 9, 13, 19, 3, 1, 1, 1, false, 0, false, 255, true, false)).toBe(0);
  });
  it('3x3 stride 2 pad 1, int8 in / int8 out, per-tensor scale, ReLU', () => {
    expect<i32>(denseCase(1, 9, 7, 5, 17, 3, 2, 1, 1, true, -3, true, -128, false, true)).toBe(0);
    expect<i32>(denseCase(1, 8, 8, 17, 33, 3, 2, 1, 1, true, 127, true, 5, true, true)).toBe(0);
  });
  it('5x5 pad 2, dilation 2, stride 1 and 2; 7x7 stem stride 2 pad 3', () => {
    expect<i32>(denseCase(1, 11, 9, 6, 7, 5, 1, 2, 2, false, 77, true, 0, true, false)).toBe(0);
    expect<i32>(denseCase(1, 11, 13, 3, 9, 7, 2, 3, 1, false, 0, false, 0, true, true)).toBe(0);
  });
  it('dense inputs: a window row inside the image copied as one run of KW·C bytes (3, 6, 9, 21, 30, 35 bytes), C 33 borders', () => {
    // the stems: 3x3 s2 p1 and 7x7 s2 p3 on 3 channels; runs below 4, 4..8, 16..32 and over 32 bytes
    expect<i32>(denseCase(1, 13, 11, 3, 16, 3, 2, 1, 1, false, 128, false, 0, true, true, true)).toBe(0);
    expect<i32>(denseCase(1, 17, 15, 3, 9, 7, 2, 3, 1, true, -4, true, 0, true, false, true)).toBe(0);
    expect<i32>(denseCase(1, 6, 7, 1, 5, 3, 1, 0, 1, false, 9, false, 0, true, false, true)).toBe(0);
    expect<i32>(denseCase(1, 7, 6, 2, 5, 3, 1, 1, 1, false, 250, false, 0, true, false, true)).toBe(0);
    expect<i32>(denseCase(1, 9, 8, 6, 7, 5, 1, 2, 1, true, 100, false, 0, true, false, true)).toBe(0);
    expect<i32>(denseCase(1, 9, 10, 7, 3, 5, 2, 2, 1, false, 3, true, 0, false, false, true)).toBe(0);
    expect<i32>(denseCase(1, 5, 6, 33, 5, 3, 1, 1, 1, false, 77, false, 0, true, false, true)).toBe(0);
    // windows inside the image down to the last row and column (even W, no padding): the
    // 16-byte moves of the last pixels end at the rows' end (and at a part's end in the splits)
    expect<i32>(denseCase(1, 12, 14, 3, 16, 3, 2, 1, 1, false, 128, false, 0, true, true, true)).toBe(0);
    expect<i32>(denseCase(2, 9, 9, 3, 8, 3, 1, 0, 1, true, 5, false, 0, true, false, true)).toBe(0);
    expect<i32>(denseCase(1, 10, 11, 3, 5, 7, 1, 0, 1, false, 3, true, 0, false, false, true)).toBe(0);
    // dilation 2: taps are not adjacent, one copy a tap
    expect<i32>(denseCase(1, 9, 9, 3, 4, 3, 1, 2, 2, false, 1, false, 0, true, false, true)).toBe(0);
  });
  it('1x1 stride 1 straight on the (strided) NHWC input; 1x1 stride 2 through im2col', () => {
    expect<i32>(denseCase(2, 5, 3, 21, 37, 1, 1, 0, 1, false, 200, false, 10, true, false)).toBe(0);
    expect<i32>(denseCase(1, 7, 7, 9, 11, 1, 2, 0, 1, true, 0, true, 0, false, false)).toBe(0);
  });
});

describe('qdwconv_q8 (depthwise int8 conv)', () => {
  it('3x3 pad 1 stride 1 and 2, channels 1, 3, 9, 13, 24, 37', () => {
    const cs: i32[] = [1, 3, 9, 13, 24, 37];
    for (let i = 0; i < cs.length; i++) {
      expect<i32>(dwCase(1, 7, 9, cs[i], 3, 1, 1, 1, false, 128, false, 0, true, false)).toBe(0);
      expect<i32>(dwCase(2, 9, 7, cs[i], 3, 2, 1, 1, true, -7, true, -128, true, false)).toBe(0);
    }
  });
  it('5x5 pad 2 stride 2, dilation 2, per-tensor scale, ReLU6 clamp', () => {
    expect<i32>(dwCase(1, 11, 13, 19, 5, 2, 2, 1, false, 3, false, 3, false, true)).toBe(0);
    expect<i32>(dwCase(1, 9, 9, 10, 3, 1, 2, 2, true, 0, false, 128, true, true)).toBe(0);
    // even and single tap counts (interior tap pairs without / with only an odd last tap)
    expect<i32>(dwCase(1, 6, 7, 21, 2, 1, 0, 1, false, 128, false, 0, true, false)).toBe(0);
    expect<i32>(dwCase(1, 5, 5, 9, 1, 2, 0, 1, true, 4, true, 0, true, false)).toBe(0);
    expect<i32>(dwCase(1, 12, 10, 16, 7, 1, 3, 1, false, 128, false, 0, true, false)).toBe(0);
    // kernel larger than the padded image in places: 7x7 on 3x5
    expect<i32>(dwCase(1, 3, 5, 11, 7, 1, 3, 1, false, 255, true, 0, true, false)).toBe(0);
  });
  it('whole 16-channel blocks and a remainder: 3x3 s1/s2 C 48, 5x5 s1/s2 C 40 (EfficientNet), odd H/W', () => {
    expect<i32>(dwCase(1, 9, 11, 48, 3, 1, 1, 1, true, -5, false, 7, true, false)).toBe(0);
    expect<i32>(dwCase(1, 11, 9, 48, 3, 2, 1, 1, false, 131, true, 3, true, true)).toBe(0);
    expect<i32>(dwCase(1, 13, 11, 40, 5, 1, 2, 1, false, 17, false, 120, true, false)).toBe(0);
    expect<i32>(dwCase(2, 11, 15, 40, 5, 2, 2, 1, true, 0, true, 0, false, false)).toBe(0);
    // padding 0 (interior from column 0), stride 2 with pad 1 (interior from column 1)
    expect<i32>(dwCase(1, 8, 9, 32, 3, 1, 0, 1, false, 255, false, 0, true, false)).toBe(0);
    expect<i32>(dwCase(1, 10, 10, 33, 3, 2, 1, 1, true, 127, true, -1, true, false)).toBe(0);
  });
  it('non-square windows: 3x5, 5x3, 2x3, 3x2 (vertical tap pairs, the odd last row in twos)', () => {
    expect<i32>(dwCase(1, 9, 10, 20, 3, 1, 1, 1, false, 100, false, 9, true, false, 5)).toBe(0);
    expect<i32>(dwCase(1, 10, 9, 17, 5, 1, 1, 1, true, 3, true, 2, true, false, 3)).toBe(0);
    expect<i32>(dwCase(1, 7, 8, 35, 2, 1, 1, 1, false, 0, false, 30, true, false, 3)).toBe(0);
    expect<i32>(dwCase(1, 8, 7, 16, 3, 1, 1, 1, true, -100, true, 5, true, false, 2)).toBe(0);
  });
  it('interior and border pairs: C 3 / 17 / 33, 3x3 and 5x5, strides 1 and 2, padding 0 / 1 / 2, odd H and W, every sign / scale mix', () => {
    const cs: i32[] = [3, 17, 33];
    let n = 0;
    for (let ci = 0; ci < cs.length; ci++)
      for (let K = 3; K <= 5; K += 2)
        for (let S = 1; S <= 2; S++)
          for (let P = 0; P <= 2; P++) {
            // the 36 cases cycle through uint8 / int8 in and out, per-channel / per-tensor, ReLU6
            const xs = (n & 1) != 0, ys = (n & 2) != 0, pc = (n & 4) == 0, relu6 = n % 3 == 0;
            const zx = xs ? -9 + n : 140 - n, zy = ys ? 3 : 120;
            expect<i32>(dwCase(1 + (n % 5 == 4 ? 1 : 0), 11 + (n & 2), 19 + (n % 3) * 2, cs[ci], K, S, P, 1, xs, zx, ys, zy, pc, relu6)).toBe(0);
            n++;
          }
  });
  it('keeps the float clamp where |sum · scale| may pass 2^22 (scales of 1000), with and without ReLU6 bounds', () => {
    expect<i32>(dwCase(1, 7, 9, 33, 3, 1, 1, 1, false, 128, false, 7, true, true, 0, false, true)).toBe(0);
    expect<i32>(dwCase(1, 9, 7, 32, 3, 2, 1, 1, true, -3, true, -5, false, false, 0, false, true)).toBe(0);
    expect<i32>(dwCase(1, 8, 8, 48, 5, 1, 2, 1, false, 0, true, 0, true, true, 0, false, true)).toBe(0);
  });
  it('interior and border pairs: wide rows (37 columns), dilation 2 with strides 1 and 2, non-square 5x3 / 3x5 stride 2', () => {
    expect<i32>(dwCase(1, 7, 37, 33, 3, 1, 1, 1, false, 128, false, 0, true, false)).toBe(0);
    expect<i32>(dwCase(1, 9, 37, 17, 5, 2, 2, 1, true, 5, true, 0, false, false)).toBe(0);
    expect<i32>(dwCase(1, 11, 15, 17, 3, 2, 2, 2, false, 77, true, -5, true, false)).toBe(0);
    expect<i32>(dwCase(1, 13, 17, 33, 5, 1, 4, 2, true, -1, false, 60, true, true)).toBe(0);
    expect<i32>(dwCase(1, 12, 13, 3, 5, 2, 1, 1, false, 9, false, 30, true, false, 3)).toBe(0);
    expect<i32>(dwCase(1, 11, 14, 19, 3, 2, 1, 1, true, 0, true, 2, false, false, 5)).toBe(0);
  });
  it('extreme bytes: x at its type\'s ends, zx at one end, weights -128 / 127 (border and interior, 3x3 and 5x5)', () => {
    expect<i32>(dwCase(1, 9, 10, 37, 3, 1, 1, 1, false, 255, false, 128, true, false, 0, true)).toBe(0);
    expect<i32>(dwCase(1, 9, 10, 37, 3, 1, 1, 1, false, 0, false, 128, true, false, 0, true)).toBe(0);
    expect<i32>(dwCase(1, 11, 9, 21, 5, 2, 2, 1, true, -128, true, 0, true, false, 0, true)).toBe(0);
    expect<i32>(dwCase(1, 8, 11, 19, 3, 1, 1, 1, true, 127, true, 0, false, false, 5, true)).toBe(0);
  });
});

/**
 * qdwconv_i32 (ConvInteger with group = C) against plain i32 sums Σ (x − zx)·w over the taps
 * inside the image, uint8 x (the range DynamicQuantizeLinear gives), output pixels C + 2 i32
 * apart (the two past C must stay untouched), whole and split; returns wrong values.
 */
function dwSumsCase(N: i32, H: i32, W: i32, C: i32, K: i32, S: i32, P: i32, D: i32, zx: i32, extreme: bool): i32 {
  resetArena();
  const OH = outDim(H, K, S, P, D), OW = outDim(W, K, S, P, D), T = K * K, C16 = (C + 15) & ~15, os = C + 2;
  const g = geom(N, H, W, C, C, K, S, P, D, OH, OW);
  const x = bytes(N * H * W * C), w = bytes(C * T), zero = bytes(4 * C16), packed = bytes(qdwconv_packed_size(C, T));
  fillBytes(x, N * H * W * C, 0, 255);
  fillBytes(w, C * T, -128, 127);
  if (extreme) {
    for (let i = 0; i < N * H * W * C; i++) store<u8>(x + <usize>i, (nextRand() & 1) != 0 ? 255 : 0);
    for (let i = 0; i < C * T; i++) store<i8>(w + <usize>i, (nextRand() & 3) != 0 ? -128 : 127);
  }
  qdwconv_pack(w, C, K, K, zero, zx, 0, packed);
  const scratch = dwScratch(g);
  const outBytes = N * OH * OW * os * 4;
  const y = bytes(outBytes), yp = bytes(outBytes);
  memory.fill(y, SENTINEL, outBytes);
  qdwconv_i32(g, x, zx, packed, zero, y, os * 4, scratch, 0, 1);
  let bad = 0;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const p = ((n * OH + oy) * OW + ox) * os;
        for (let c = 0; c < C; c++) {
          let sum = 0;
          for (let ky = 0; ky < K; ky++)
            for (let kx = 0; kx < K; kx++) {
              const iy = oy * S - P + ky * D, ix = ox * S - P + kx * D;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              sum += (<i32>load<u8>(x + <usize>(((n * H + iy) * W + ix) * C + c)) - zx) * <i32>load<i8>(w + <usize>(c * T + ky * K + kx));
            }
          if (load<i32>(y + (<usize>(p + c) << 2)) != sum) bad++;
        }
        for (let j = C; j < os; j++) if (load<u32>(y + (<usize>(p + j) << 2)) != 0xa5a5a5a5) bad++;
      }
  for (let s = 0; s < SPLITS.length; s++) {
    memory.fill(yp, SENTINEL, outBytes);
    for (let part = 0; part < SPLITS[s]; part++) qdwconv_i32(g, x, zx, packed, zero, yp, os * 4, scratch, part, SPLITS[s]);
    bad += countByteDiffs(yp, y, outBytes);
  }
  return bad;
}

describe('qdwconv_i32, range_f32, dequant_i32_f32 (dynamic quantization)', () => {
  it('depthwise i32 sums: channels 1, 3, 18, 19, 34 (block remainders 1..3, 2 whole), 3x3 s1/s2, 5x5 dilation 2, extreme bytes', () => {
    const cs: i32[] = [1, 3, 18, 19, 34];
    for (let i = 0; i < cs.length; i++) {
      expect<i32>(dwSumsCase(1, 7, 9, cs[i], 3, 1, 1, 1, 128, false)).toBe(0);
      expect<i32>(dwSumsCase(2, 9, 7, cs[i], 3, 2, 1, 1, 0, false)).toBe(0);
    }
    expect<i32>(dwSumsCase(1, 12, 11, 21, 5, 1, 3, 2, 255, false)).toBe(0);
    expect<i32>(dwSumsCase(1, 9, 10, 37, 3, 1, 1, 1, 0, true)).toBe(0);
    expect<i32>(dwSumsCase(1, 9, 10, 37, 5, 2, 2, 1, 255, true)).toBe(0);
    // C 17 / 33 (a whole block and a remainder), padding 0 and 2, odd sizes, 5x5 stride 2
    expect<i32>(dwSumsCase(1, 9, 13, 17, 3, 1, 0, 1, 200, false)).toBe(0);
    expect<i32>(dwSumsCase(2, 11, 15, 33, 5, 2, 2, 1, 7, false)).toBe(0);
    expect<i32>(dwSumsCase(1, 10, 17, 33, 5, 1, 2, 1, 128, false)).toBe(0);
  });
  it('range_f32: min(0, x), max(0, x) and the NaN / infinity flag, in the 4-lane loop and the tail', () => {
    resetArena();
    const n = 23, x = floats(n), out = floats(3);
    for (let i = 0; i < n; i++) store<f32>(x + (<usize>i << 2), <f32>(i % 7) * 0.25 + 0.5);
    range_f32(x, n, out);
    expect<f32>(load<f32>(out)).toBe(0);
    expect<f32>(load<f32>(out, 4)).toBe(2.0);
    expect<f32>(load<f32>(out, 8)).toBe(0);
    store<f32>(x + 40, -3.5);
    store<f32>(x + 88, 9.25); // element 22: the scalar tail
    range_f32(x, n, out);
    expect<f32>(load<f32>(out)).toBe(-3.5);
    expect<f32>(load<f32>(out, 4)).toBe(9.25);
    const bads: f32[] = [NaN, Infinity, -Infinity];
    const ats: i32[] = [3, 21];
    for (let b = 0; b < 3; b++)
      for (let a = 0; a < 2; a++) {
        const keep = load<f32>(x + (<usize>ats[a] << 2));
        store<f32>(x + (<usize>ats[a] << 2), bads[b]);
        range_f32(x, n, out);
        expect<f32>(load<f32>(out, 8)).toBe(1);
        store<f32>(x + (<usize>ats[a] << 2), keep);
      }
  });
  it('dequant_i32_f32: f32(acc)·scale[n] then + bias[n], two roundings, rows of 7 (one vector and 3 left), with and without bias', () => {
    resetArena();
    const rows = 3, N = 7, y = floats(rows * N), ref = floats(rows * N), sc = floats(N), b = floats(N);
    for (let n = 0; n < N; n++) {
      store<f32>(sc + (<usize>n << 2), <f32>(0.0123 + <f64>n * 1e-3));
      store<f32>(b + (<usize>n << 2), <f32>(<f64>n * 0.37 - 1.0));
    }
    for (let pass = 0; pass < 2; pass++) {
      const bias = pass == 0 ? b : 0;
      for (let i = 0; i < rows * N; i++) {
        // sums beyond 2^24 round in the conversion
        const acc = (i % 3 == 0 ? 16777217 + i * 2 : i * 12345 - 70000) * (i % 2 == 0 ? 1 : -1);
        store<i32>(y + (<usize>i << 2), acc);
        let v = <f32>acc * load<f32>(sc + (<usize>(i % N) << 2));
        if (bias != 0) v = v + load<f32>(b + (<usize>(i % N) << 2));
        store<f32>(ref + (<usize>i << 2), v);
      }
      dequant_i32_f32(y, rows, N, sc, bias, 0, 0, 0, 0);
      for (let i = 0; i < rows * N; i++) expect<f32>(load<f32>(y + (<usize>i << 2))).toBe(load<f32>(ref + (<usize>i << 2)));
    }
  });
});

/** One max pool vs qmaxpoolRef and its splits; returns wrong bytes. */
function poolCase(N: i32, H: i32, W: i32, C: i32, K: i32, S: i32, P: i32, D: i32, signed: bool): i32 {
  resetArena();
  const inStride = C + 3;
  const OH = outDim(H, K, S, P, D), OW = outDim(W, K, S, P, D);
  const g = geom(N, H, W, C, inStride, K, S, P, D, OH, OW);
  const x = bytes(N * H * W * inStride);
  fillBytes(x, N * H * W * inStride, signed ? -128 : 0, signed ? 127 : 255);
  const outBytes = N * OH * OW * C + 16;
  const y = bytes(outBytes), ref = bytes(outBytes), yp = bytes(outBytes);
  memory.fill(y, SENTINEL, outBytes);
  memory.fill(ref, SENTINEL, outBytes);
  qmaxpoolRef(N, H, W, C, inStride, K, S, P, D, OH, OW, x, signed, ref);
  qmaxpool_q8(g, x, signed ? 1 : 0, y, 0, 1);
  let bad = countByteDiffs(y, ref, outBytes);
  for (let s = 0; s < SPLITS.length; s++) {
    memory.fill(yp, SENTINEL, outBytes);
    for (let part = 0; part < SPLITS[s]; part++) qmaxpool_q8(g, x, signed ? 1 : 0, yp, part, SPLITS[s]);
    bad += countByteDiffs(yp, y, outBytes);
  }
  return bad;
}

describe('qmaxpool_q8', () => {
  it('3x3 stride 2 pad 1, 2x2 stride 2, dilated, odd channels, uint8 and int8', () => {
    expect<i32>(poolCase(2, 9, 11, 13, 3, 2, 1, 1, false)).toBe(0);
    expect<i32>(poolCase(1, 8, 7, 37, 2, 2, 0, 1, true)).toBe(0);
    expect<i32>(poolCase(1, 10, 9, 16, 3, 1, 2, 2, true)).toBe(0);
    expect<i32>(poolCase(1, 5, 5, 3, 3, 1, 1, 1, false)).toBe(0);
  });
});

describe('quantize_f32_q8 / dequantize_q8_f32', () => {
  it('match QuantizeLinear (ties to even, saturation) on odd lengths, uint8 and int8', () => {
    resetArena();
    const n = 16 * 5 + 7;
    const x = floats(n), y = bytes(n + 16), ref = bytes(n + 16);
    for (let i = 0; i < n; i++) {
      // values on and near half-steps of 0.5, and out of range
      const v: f32 = i % 5 == 0 ? <f32>(randInt(-300, 300)) * 0.25 : <f32>(randInt(-200000, 200000)) / 997.0;
      store<f32>(x + (<usize>i << 2), v);
    }
    const scales: f32[] = [0.5, 0.37, 1.0 / 3.0];
    const zps: i32[] = [0, 128, 255, -128, 5, 127];
    for (let s = 0; s < scales.length; s++)
      for (let z = 0; z < zps.length; z++) {
        const signed = zps[z] < 0 || zps[z] == 5 || (zps[z] == 127 && s == 1);
        if (!signed && zps[z] < 0) continue;
        memory.fill(y, SENTINEL, n + 16);
        memory.fill(ref, SENTINEL, n + 16);
        quantize_f32_q8(x, n, scales[s], zps[z], signed ? 1 : 0, y);
        quantizeRef(x, n, scales[s], zps[z], signed, ref);
        expect<i32>(countByteDiffs(y, ref, n + 16)).toBe(0);
      }
    // by hand: 2.5 / 1 → 2, 3.5 → 4, -0.5 → 0 (uint8 zp 10: 12, 14, 10)
    store<f32>(x, 2.5); store<f32>(x + 4, 3.5); store<f32>(x + 8, -0.5);
    quantize_f32_q8(x, 3, 1.0, 10, 0, y);
    expect<u8>(load<u8>(y)).toBe(12);
    expect<u8>(load<u8>(y + 1)).toBe(14);
    expect<u8>(load<u8>(y + 2)).toBe(10);
  });
  it('dequantize: f32(x − zp) · scale', () => {
    resetArena();
    const n = 8 * 3 + 5;
    const x = bytes(n), y = floats(n), ref = floats(n);
    fillBytes(x, n, 0, 255);
    dequantize_q8_f32(x, n, 0, 131, 0.0173, y);
    dequantizeRef(x, n, false, 131, 0.0173, ref);
    expect<i32>(countByteDiffs(y, ref, 4 * n)).toBe(0);
    dequantize_q8_f32(x, n, 1, -9, 0.25, y);
    dequantizeRef(x, n, true, -9, 0.25, ref);
    expect<i32>(countByteDiffs(y, ref, 4 * n)).toBe(0);
  });
});

/** One qmul_q8 broadcast vs qmulRef, whole and split into 2/3/5 parts; returns wrong bytes. */
function mulCase(d0: i32, d1: i32, d2: i32, L: i32, s0: i32, s1: i32, s2: i32, s3: i32, signed: bool, lo: i32, hi: i32, ratio: f32): i32 {
  resetArena();
  const n = d0 * d1 * d2 * L, nb = (d0 - 1) * s0 + (d1 - 1) * s1 + (d2 - 1) * s2 + (L - 1) * s3 + 1;
  const a = bytes(n), b = bytes(nb), y = bytes(n + 16), ref = bytes(n + 16), yp = bytes(n + 16);
  fillBytes(a, n, signed ? -128 : 0, signed ? 127 : 255);
  fillBytes(b, nb, signed ? -128 : 0, signed ? 127 : 255);
  const za = signed ? -5 : 131, zb = signed ? 17 : 90;
  const zc: f32 = signed ? -3 : 128;
  const sg = signed ? 1 : 0;
  memory.fill(y, SENTINEL, n + 16);
  memory.fill(ref, SENTINEL, n + 16);
  qmul_q8(a, b, y, d0, d1, d2, L, s0, s1, s2, s3, sg, za, zb, ratio, zc, lo, hi, 0, 1);
  qmulRef(a, b, d0, d1, d2, L, s0, s1, s2, s3, signed, za, zb, ratio, zc, lo, hi, ref);
  let bad = countByteDiffs(y, ref, n + 16);
  for (let s = 0; s < SPLITS.length; s++) {
    memory.fill(yp, SENTINEL, n + 16);
    for (let part = 0; part < SPLITS[s]; part++) qmul_q8(a, b, yp, d0, d1, d2, L, s0, s1, s2, s3, sg, za, zb, ratio, zc, lo, hi, part, SPLITS[s]);
    bad += countByteDiffs(yp, y, n + 16);
  }
  return bad;
}

describe('qmul_q8 (QLinearMul, onnxruntime x86 order)', () => {
  it('same shape, per-channel (NHWC and NCHW rows), per-pixel maps, a scalar, a strided b; uint8 and int8; ReLU clamp; ties', () => {
    for (let sg = 0; sg < 2; sg++) {
      const signed = sg == 1;
      // ratios: a general one, one that saturates, and 0.5 (products land on .5: ties to even)
      const ratios: f32[] = [0.00731, 0.9, 0.5];
      for (let k = 0; k < 3; k++) {
        const r = ratios[k];
        // same shape: one row of 93 bytes
        expect<i32>(mulCase(1, 1, 1, 16 * 5 + 13, 0, 0, 0, 1, signed, -1000, 1000, r)).toBe(0);
        // NHWC [2][3][5][19] x per-channel b [2][19] (squeeze-excite)
        expect<i32>(mulCase(2, 3, 5, 19, 19, 0, 0, 1, signed, -1000, 1000, r)).toBe(0);
        // NCHW [2][21][3][7] x per-channel b [2][21]: one byte a row
        expect<i32>(mulCase(2, 21, 3, 7, 21, 1, 0, 0, signed, -1000, 1000, r)).toBe(0);
        // NHWC [1][4][5][11] x a per-pixel map [1][1][4][5] (spatial attention): one byte a pixel
        expect<i32>(mulCase(1, 4, 5, 11, 0, 5, 1, 0, signed, -1000, 1000, r)).toBe(0);
        // a scalar b, clamped below at the zero point (a fused ReLU)
        expect<i32>(mulCase(1, 1, 1, 37, 0, 0, 0, 0, signed, signed ? -3 : 128, 1000, r)).toBe(0);
        // a strided b (NCHW b against NHWC a): element j of a row 6 bytes apart
        expect<i32>(mulCase(1, 2, 6, 5, 0, 1 * 6 * 5, 1, 6, signed, -1000, 1000, r)).toBe(0);
      }
    }
  });
});

describe('qadd_q8 / qgap_q8', () => {
  it('QLinearAdd in onnxruntime order, odd length, clamps, splits', () => {
    resetArena();
    const n = 16 * 4 + 11;
    const a = bytes(n), b = bytes(n), y = bytes(n + 16), ref = bytes(n + 16), yp = bytes(n + 16);
    for (let sg = 0; sg < 2; sg++) {
      const signed = sg == 1;
      fillBytes(a, n, signed ? -128 : 0, signed ? 127 : 255);
      fillBytes(b, n, signed ? -128 : 0, signed ? 127 : 255);
      const ra: f32 = 0.75, rb: f32 = 0.4125;
      const za = signed ? -3 : 120, zb = signed ? 10 : 131, zc = signed ? 2 : 128;
      const fixed: f32 = <f32>zc - (ra * <f32>za + rb * <f32>zb);
      const los: i32[] = [-1000, zc];
      for (let l = 0; l < 2; l++) {
        memory.fill(y, SENTINEL, n + 16);
        memory.fill(ref, SENTINEL, n + 16);
        qadd_q8(a, b, n, sg, ra, rb, fixed, los[l], 1000, y, 0, 1);
        qaddRef(a, b, n, signed, ra, rb, fixed, los[l], 1000, ref);
        expect<i32>(countByteDiffs(y, ref, n + 16)).toBe(0);
        for (let s = 0; s < SPLITS.length; s++) {
          memory.fill(yp, SENTINEL, n + 16);
          for (let part = 0; part < SPLITS[s]; part++) qadd_q8(a, b, n, sg, ra, rb, fixed, los[l], 1000, yp, part, SPLITS[s]);
          expect<i32>(countByteDiffs(yp, y, n + 16)).toBe(0);
        }
      }
    }
  });
  it('QLinearAdd rounds each multiply-add once, as an FMA: ties of the twice-rounded form go the other way', () => {
    // found by search, checked in exact arithmetic: (fixed + f32(a·ra)) rounds to 95.5 exactly
    // (→ 96, ties to even), a·ra + fixed is 95.4999923... (→ 95); and 50.5 (→ 50) vs 50.5000038 (→ 51)
    resetArena();
    const a = bytes(16), b = bytes(16), y = bytes(16);
    const ras: f32[] = [0.6814272999763489, 0.3023034632205963], fixeds: f32[] = [-6.714099884033203, 19.060441970825195];
    const as: u8[] = [150, 104], want: i32[] = [95, 51];
    for (let c = 0; c < 2; c++) {
      memory.fill(a, as[c], 16);
      memory.fill(b, 0, 16);
      qadd_q8(a, b, 16, 0, ras[c], 0.5, fixeds[c], 0, 255, y, 0, 1);
      for (let i = 0; i < 16; i++) expect<i32>(<i32>load<u8>(y + <usize>i)).toBe(want[c]);
      qadd_q8(a, b, 3, 0, ras[c], 0.5, fixeds[c], 0, 255, y, 0, 1); // the scalar tail
      expect<i32>(<i32>load<u8>(y + 2)).toBe(want[c]);
    }
  });
  it('QLinearAdd: the plain f32 form\'s near misses of a .5 tie take the exact form', () => {
    // found by search (scratch arithmetic in f64, the FMAs exact there): the plain form
    // a·ra + (b·rb + fixed), rounded after each operation, lands a few ulps off a tie on its
    // other side (164.50001526 → 165 where the FMA form's 164.5 → 164; 31.500004 vs 31.499996)
    resetArena();
    const n = 32;
    const a = bytes(n), b = bytes(n), y = bytes(n), ref = bytes(n);
    const ras: f32[] = [1.397792100906372, 0.9407975077629089, 0.8936349749565125, 1.5255073308944702, 1.341275691986084, 0.3877260088920593, 1.6485192775726318, 1.1686304807662964];
    const rbs: f32[] = [0.4244486689567566, 1.6293070316314697, 0.6846358180046082, 0.5816043019294739, 1.1003528833389282, 1.5503242015838623, 0.3327169418334961, 0.8775842785835266];
    const fixeds: f32[] = [81.2125015258789, -360.7456359863281, -114.93287658691406, -165.93251037597656, 55.59785461425781, -185.39195251464844, -312.87725830078125, -144.5249786376953];
    const as: u8[] = [11, 12, 16, 237, 4, 3, 211, 229], bs: u8[] = [160, 251, 193, 17, 105, 243, 206, 13];
    for (let c = 0; c < 8; c++) {
      memory.fill(a, as[c], n);
      memory.fill(b, bs[c], n);
      qadd_q8(a, b, n, 0, ras[c], rbs[c], fixeds[c], 0, 255, y, 0, 1);
      qaddRef(a, b, n, false, ras[c], rbs[c], fixeds[c], 0, 255, ref);
      expect<i32>(countByteDiffs(y, ref, n)).toBe(0);
    }
  });
  it('QLinearAdd on long runs: random ratios, ratios whose ties are exact (the exact form takes over), ratios too large for the plain form', () => {
    resetArena();
    const n = 4096 + 35;
    const a = bytes(n), b = bytes(n), y = bytes(n + 16), ref = bytes(n + 16), yp = bytes(n + 16);
    for (let c = 0; c < 9; c++) {
      const signed = (c & 1) == 1;
      fillBytes(a, n, signed ? -128 : 0, signed ? 127 : 255);
      fillBytes(b, n, signed ? -128 : 0, signed ? 127 : 255);
      let ra = <f32>(0.05 + <f64>(nextRand() % 100000) / 50000.0), rb = <f32>(0.05 + <f64>(nextRand() % 100000) / 50000.0);
      let fixed = <f32>(<f64>(<i32>(nextRand() % 60000) - 30000) / 100.0);
      if (c == 6 || c == 7) {
        // every other lane an exact .5 tie
        ra = 1;
        rb = 0.5;
        fixed = signed ? 0 : -64;
      } else if (c == 8) {
        ra = 5000;
        rb = -3000;
        fixed = 12.25;
      }
      const lo = c % 3 == 0 ? (signed ? -20 : 30) : signed ? -128 : 0, hi = c % 3 == 0 ? (signed ? 90 : 200) : signed ? 127 : 255;
      memory.fill(y, SENTINEL, n + 16);
      memory.fill(ref, SENTINEL, n + 16);
      qadd_q8(a, b, n, signed ? 1 : 0, ra, rb, fixed, lo, hi, y, 0, 1);
      qaddRef(a, b, n, signed, ra, rb, fixed, lo, hi, ref);
      expect<i32>(countByteDiffs(y, ref, n + 16)).toBe(0);
      // in place (y is a), as a fused residual add stores it
      memory.copy(yp, a, n);
      qadd_q8(yp, b, n, signed ? 1 : 0, ra, rb, fixed, lo, hi, yp, 0, 1);
      expect<i32>(countByteDiffs(yp, ref, n)).toBe(0);
    }
  });
  it('QLinearGlobalAveragePool NHWC on odd HW and channels', () => {
    resetArena();
    const cs: i32[] = [1, 7, 8, 13, 37];
    for (let i = 0; i < cs.length; i++) {
      const N = 2, HW = 5 * 7, C = cs[i], inStride = C + 1;
      const x = bytes(N * HW * inStride), y = bytes(N * C + 16), ref = bytes(N * C + 16);
      fillBytes(x, N * HW * inStride, 0, 255);
      memory.fill(y, SENTINEL, N * C + 16);
      memory.fill(ref, SENTINEL, N * C + 16);
      const scale: f32 = <f32>0.8 / (<f32>0.37 * <f32>HW);
      qgap_q8(N, HW, C, inStride, x, 0, 100, scale, 3, 0, y);
      qgapRef(N, HW, C, inStride, x, false, 100, scale, 3, false, ref);
      expect<i32>(countByteDiffs(y, ref, N * C + 16)).toBe(0);
      qgap_q8(N, HW, C, inStride, x, 1, -5, scale, -2, 1, y);
      qgapRef(N, HW, C, inStride, x, true, -5, scale, -2, true, ref);
      expect<i32>(countByteDiffs(y, ref, N * C + 16)).toBe(0);
      // int8 in, uint8 out and the reverse
      qgap_q8(N, HW, C, inStride, x, 1, 7, scale, 130, 0, y);
      qgapRef(N, HW, C, inStride, x, true, 7, scale, 130, false, ref);
      expect<i32>(countByteDiffs(y, ref, N * C + 16)).toBe(0);
      qgap_q8(N, HW, C, inStride, x, 0, 140, scale, -9, 1, y);
      qgapRef(N, HW, C, inStride, x, false, 140, scale, -9, true, ref);
      expect<i32>(countByteDiffs(y, ref, N * C + 16)).toBe(0);
    }
  });
});

/** qlut_q8 on n bytes (a random table) against the plain lookup, whole and split; bytes past n untouched; returns wrong bytes. */
function lutCase(n: i32): i32 {
  resetArena();
  const x = bytes(n), table = bytes(256), y = bytes(n + 16), yp = bytes(n + 16);
  fillBytes(x, n, 0, 255);
  fillBytes(table, 256, 0, 255);
  memory.fill(y, SENTINEL, n + 16);
  qlut_q8(x, n, table, y, 0, 1);
  let bad = 0;
  for (let i = 0; i < n; i++) if (load<u8>(y + <usize>i) != load<u8>(table + <usize>load<u8>(x + <usize>i))) bad++;
  for (let i = n; i < n + 16; i++) if (load<u8>(y + <usize>i) != SENTINEL) bad++;
  for (let s = 0; s < SPLITS.length; s++) {
    memory.fill(yp, SENTINEL, n + 16);
    for (let part = 0; part < SPLITS[s]; part++) qlut_q8(x, n, table, yp, part, SPLITS[s]);
    bad += countByteDiffs(yp, y, n + 16);
  }
  return bad;
}

describe('qlut_q8', () => {
  it('every byte through the table: lengths 1, 7, 8, 9, 31, 100, 1037', () => {
    const ns: i32[] = [1, 7, 8, 9, 31, 100, 1037];
    for (let i = 0; i < ns.length; i++) expect<i32>(lutCase(ns[i])).toBe(0);
  });
});
