// Specs for the fused residual-add epilogue (qpost.ts) of qgemm_q8, qdwconv_q8 and qwino_q8: a
// producer called with a post block must give the bytes of the same producer without one, then
// QLinearAdd on its output by the independent scalar rule (qconv_ref.ts's qaddRef, with the
// producer's bytes as operand a or as operand b). Odd M, N,
// C (not multiples of 4/8/16), strided output rows / pixels whose padding bytes must stay
// untouched (the add's other operand has the same strides), uint8 and int8, clamped adds,
// several L2 panel blocks in the GEMM, and every split into 2, 3 and 5 parts.
import { qgemm_packed_size, qgemm_pack, qgemm_q8, qgemm_scratch_size } from '../qgemm';
import { qdwconv_pack, qdwconv_packed_size, qdwconv_q8, qdwconv_scratch_size } from '../qconv';
import { qwino_q8, qwino_scratch_size, qwino_stream_pack, qwino_stream_size, qwino_pack, qwino_packed_size } from '../qwinograd';
import { floats, resetArena, SPLITS } from './gemm_ref';
import { countByteDiffs, fillBytes, nextRand, randInt } from './qgemm_ref';
import { qaddRef } from './qconv_ref';

const SENTINEL: u8 = 0xa5;
/** Post kinds (qpost.ts): QLinearAdd with the producer's bytes as a, as b. */
const ADD_A: i32 = 1, ADD_B: i32 = 2;

function bytes(n: i32): usize {
  return floats((n + 3) >> 2);
}

// the step of the current case
let gOther: usize = 0;
let gRa: f32 = 0, gRb: f32 = 0, gFixed: f32 = 0;
let gLo: i32 = 0, gHi: i32 = 0;

/** A random operand, ratios and clamp for a case of `outBytes` output bytes. */
function setStep(outBytes: i32, signed: bool, clamp: bool): void {
  gOther = bytes(outBytes);
  fillBytes(gOther, outBytes, signed ? -128 : 0, signed ? 127 : 255);
  gRa = <f32>(0.3 + <f64>(nextRand() % 1000) / 1500.0);
  gRb = <f32>(0.2 + <f64>(nextRand() % 1000) / 1500.0);
  const za = signed ? randInt(-20, 20) : randInt(100, 150), zb = signed ? randInt(-20, 20) : randInt(100, 150);
  const zc = signed ? randInt(-10, 10) : randInt(110, 140);
  gFixed = <f32>zc - (gRa * <f32>za + gRb * <f32>zb);
  gLo = clamp ? zc : -1000;
  gHi = clamp ? zc + 60 : 1000;
}

/** The post block of `kind` for the output at y (the add's operand: gOther, same layout as y). */
function block(kind: i32, y: usize, signed: bool): usize {
  const p = bytes(32);
  store<i32>(p, kind);
  store<i32>(p, <i32>(gOther - y), 4);
  store<i32>(p, signed ? 1 : 0, 8);
  store<f32>(p, gRa, 12);
  store<f32>(p, gRb, 16);
  store<f32>(p, gFixed, 20);
  store<i32>(p, gLo, 24);
  store<i32>(p, gHi, 28);
  return p;
}

/**
 * ref := the unfused output u (outBytes), then the step on `rows` runs of n bytes ld apart by
 * the scalar rules (bytes between the runs stay u's).
 */
function refStep(kind: i32, u: usize, ref: usize, outBytes: i32, rows: i32, n: i32, ld: i32, signed: bool): void {
  memory.copy(ref, u, outBytes);
  for (let r = 0; r < rows; r++) {
    const o = <usize>(r * ld);
    if (kind == ADD_A) qaddRef(u + o, gOther + o, n, signed, gRa, gRb, gFixed, gLo, gHi, ref + o);
    else qaddRef(gOther + o, u + o, n, signed, gRa, gRb, gFixed, gLo, gHi, ref + o);
  }
}

/** qgemm_q8 M×N×K with each post kind against qgemm_q8 without + the scalar step; wrong bytes. */
function gemmCase(M: i32, N: i32, K: i32, aSigned: bool, ySigned: bool, clamp: bool): i32 {
  resetArena();
  const lda = K + 3, ldy = N + 5, outBytes = M * ldy;
  const a = bytes(M * lda), w = bytes(N * K), bias = bytes(4 * N), scale = bytes(4 * N);
  fillBytes(a, M * lda, aSigned ? -128 : 0, aSigned ? 127 : 255);
  fillBytes(w, N * K, -128, 127);
  for (let n = 0; n < N; n++) store<i32>(bias + (<usize>n << 2), randInt(-20000, 20000));
  const spread = 60.0 / (Math.sqrt(<f64>K) * 11000.0);
  for (let n = 0; n < N; n++) store<f32>(scale + (<usize>n << 2), <f32>(spread * (0.5 + <f64>(nextRand() % 1000) / 1000.0)));
  const packed = bytes(qgemm_packed_size(N, K));
  qgemm_pack(w, N, K, packed);
  const scratch = bytes(5 * qgemm_scratch_size(K));
  const u = bytes(outBytes), ref = bytes(outBytes), y = bytes(outBytes);
  const as = aSigned ? 1 : 0, ys = ySigned ? 1 : 0, za = aSigned ? 7 : 131, zy = ySigned ? -5 : 120;
  memory.fill(u, SENTINEL, outBytes);
  qgemm_q8(M, N, K, a, lda, as, za, packed, bias, scale, 1, zy, -1000, 1000, u, ldy, ys, scratch, 0, 0, 1);
  setStep(outBytes, ySigned, clamp);
  let bad = 0;
  for (let kind = ADD_A; kind <= ADD_B; kind++) {
    refStep(kind, u, ref, outBytes, M, N, ldy, ySigned);
    memory.fill(y, SENTINEL, outBytes);
    qgemm_q8(M, N, K, a, lda, as, za, packed, bias, scale, 1, zy, -1000, 1000, y, ldy, ys, scratch, block(kind, y, ySigned), 0, 1);
    bad += countByteDiffs(y, ref, outBytes);
    for (let s = 0; s < SPLITS.length; s++) {
      memory.fill(y, SENTINEL, outBytes);
      const post = block(kind, y, ySigned);
      for (let part = 0; part < SPLITS[s]; part++)
        qgemm_q8(M, N, K, a, lda, as, za, packed, bias, scale, 1, zy, -1000, 1000, y, ldy, ys, scratch, post, part, SPLITS[s]);
      bad += countByteDiffs(y, ref, outBytes);
    }
  }
  return bad;
}

function geom(N: i32, H: i32, W: i32, C: i32, inStride: i32, K: i32, S: i32, P: i32, OH: i32, OW: i32): usize {
  const g = bytes(4 * 15);
  const v: i32[] = [N, H, W, C, inStride, K, K, S, S, P, P, 1, 1, OH, OW];
  for (let i = 0; i < 15; i++) store<i32>(g + (<usize>i << 2), v[i]);
  return g;
}

/** qdwconv_q8 KxK stride S pad P with each post kind; wrong bytes. */
function dwCase(N: i32, H: i32, W: i32, C: i32, K: i32, S: i32, P: i32, xSigned: bool, ySigned: bool, clamp: bool): i32 {
  resetArena();
  const inStride = C + 5, outStride = C + 2, T = K * K, C16 = (C + 15) & ~15;
  const OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
  const g = geom(N, H, W, C, inStride, K, S, P, OH, OW);
  const x = bytes(N * H * W * inStride), w = bytes(C * T), bias = bytes(4 * C16), scale = bytes(4 * C16);
  fillBytes(x, N * H * W * inStride, xSigned ? -128 : 0, xSigned ? 127 : 255);
  fillBytes(w, C * T, -128, 127);
  for (let c = 0; c < C; c++) store<i32>(bias + (<usize>c << 2), randInt(-5000, 5000));
  for (let c = 0; c < C; c++) store<f32>(scale + (<usize>c << 2), <f32>(40.0 / (Math.sqrt(<f64>T) * 11000.0) * (0.5 + <f64>(nextRand() % 1000) / 1000.0)));
  const xs = xSigned ? 1 : 0, ys = ySigned ? 1 : 0, zx = xSigned ? -3 : 128, zy = ySigned ? 4 : 125;
  const packed = bytes(qdwconv_packed_size(C, T));
  qdwconv_pack(w, C, K, K, bias, zx, xs, packed);
  const scratch = bytes(5 * qdwconv_scratch_size(g)); // parts up to SPLITS' 5
  const pixels = N * OH * OW, outBytes = pixels * outStride;
  const u = bytes(outBytes), ref = bytes(outBytes), y = bytes(outBytes);
  memory.fill(u, SENTINEL, outBytes);
  qdwconv_q8(g, x, xs, zx, packed, bias, scale, 1, zy, -1000, 1000, u, outStride, ys, scratch, 0, 0, 1);
  setStep(outBytes, ySigned, clamp);
  let bad = 0;
  for (let kind = ADD_A; kind <= ADD_B; kind++) {
    refStep(kind, u, ref, outBytes, pixels, C, outStride, ySigned);
    memory.fill(y, SENTINEL, outBytes);
    qdwconv_q8(g, x, xs, zx, packed, bias, scale, 1, zy, -1000, 1000, y, outStride, ys, scratch, block(kind, y, ySigned), 0, 1);
    bad += countByteDiffs(y, ref, outBytes);
    for (let s = 0; s < SPLITS.length; s++) {
      memory.fill(y, SENTINEL, outBytes);
      const post = block(kind, y, ySigned);
      for (let part = 0; part < SPLITS[s]; part++)
        qdwconv_q8(g, x, xs, zx, packed, bias, scale, 1, zy, -1000, 1000, y, outStride, ys, scratch, post, part, SPLITS[s]);
      bad += countByteDiffs(y, ref, outBytes);
    }
  }
  return bad;
}

/** qwino_q8 (stored and streamed weights) 3x3 pad 1 with each post kind; wrong bytes. */
function winoCase(N: i32, H: i32, W: i32, C: i32, OC: i32, xSigned: bool, ySigned: bool, clamp: bool): i32 {
  resetArena();
  const inStride = C + 3, outStride = OC + 2;
  const OH = H, OW = W;
  const g = geom(N, H, W, C, inStride, 3, 1, 1, OH, OW);
  const x = bytes(N * H * W * inStride), w = bytes(OC * C * 9), bias = bytes(4 * OC), scale = bytes(4 * OC);
  fillBytes(x, N * H * W * inStride, xSigned ? -128 : 0, xSigned ? 127 : 255);
  fillBytes(w, OC * C * 9, -128, 127);
  for (let o = 0; o < OC; o++) store<i32>(bias + (<usize>o << 2), randInt(-20000, 20000));
  const spread = 60.0 / (Math.sqrt(<f64>(9 * C)) * 11000.0);
  for (let o = 0; o < OC; o++) store<f32>(scale + (<usize>o << 2), <f32>(spread * (0.5 + <f64>(nextRand() % 1000) / 1000.0)));
  const packed = bytes(qwino_packed_size(C, OC)), raw = bytes(qwino_stream_size(C, OC));
  qwino_pack(w, C, OC, packed);
  qwino_stream_pack(w, C, OC, raw);
  const scratch = bytes(5 * qwino_scratch_size(g, OC, 1) + 64);
  const xs = xSigned ? 1 : 0, ys = ySigned ? 1 : 0, zx = xSigned ? 2 : 127, zy = ySigned ? -2 : 130;
  const pixels = N * OH * OW, outBytes = pixels * outStride;
  const u = bytes(outBytes), ref = bytes(outBytes), y = bytes(outBytes);
  setStep(outBytes, ySigned, clamp);
  let bad = 0;
  for (let streamed = 0; streamed < 2; streamed++) {
    const wp = streamed != 0 ? raw : packed;
    memory.fill(u, SENTINEL, outBytes);
    qwino_q8(g, x, xs, zx, wp, streamed, OC, bias, scale, 1, zy, -1000, 1000, u, outStride, ys, scratch, 0, 0, 1);
    for (let kind = ADD_A; kind <= ADD_B; kind++) {
      refStep(kind, u, ref, outBytes, pixels, OC, outStride, ySigned);
      memory.fill(y, SENTINEL, outBytes);
      qwino_q8(g, x, xs, zx, wp, streamed, OC, bias, scale, 1, zy, -1000, 1000, y, outStride, ys, scratch, block(kind, y, ySigned), 0, 1);
      bad += countByteDiffs(y, ref, outBytes);
      for (let s = 0; s < SPLITS.length; s++) {
        memory.fill(y, SENTINEL, outBytes);
        const post = block(kind, y, ySigned);
        for (let part = 0; part < SPLITS[s]; part++)
          qwino_q8(g, x, xs, zx, wp, streamed, OC, bias, scale, 1, zy, -1000, 1000, y, outStride, ys, scratch, post, part, SPLITS[s]);
        bad += countByteDiffs(y, ref, outBytes);
      }
    }
  }
  return bad;
}

describe('fused residual-add epilogue (qpost.ts)', () => {
  it('the add changes the bytes, and a and b differ (the cases test something)', () => {
    resetArena();
    setStep(64, false, false);
    const u = bytes(64), r1 = bytes(64), r2 = bytes(64);
    fillBytes(u, 64, 0, 255);
    refStep(ADD_A, u, r1, 64, 1, 64, 64, false);
    refStep(ADD_B, u, r2, 64, 1, 64, 64, false);
    expect<bool>(countByteDiffs(u, r1, 64) > 32).toBe(true);
    expect<bool>(countByteDiffs(r1, r2, 64) > 16).toBe(true);
  });
  it('qgemm_q8: odd M, N, K, uint8 / int8, strided rows, one strip and many, splits', () => {
    expect<i32>(gemmCase(1, 13, 37, false, false, false)).toBe(0);
    expect<i32>(gemmCase(3, 45, 5, true, true, true)).toBe(0);
    expect<i32>(gemmCase(37, 67, 13, false, false, true)).toBe(0);
    expect<i32>(gemmCase(37, 67, 13, true, true, false)).toBe(0);
    expect<i32>(gemmCase(22, 5, 67, false, true, false)).toBe(0);
    // N·K over one L2 block of widened panels: several blocks per strip
    expect<i32>(gemmCase(9, 301, 523, false, false, false)).toBe(0);
  });
  it('qdwconv_q8: 3x3 / 5x5, strides 1 and 2, C % 16 != 0, uint8 / int8, splits', () => {
    expect<i32>(dwCase(1, 7, 9, 19, 3, 1, 1, false, false, false)).toBe(0);
    expect<i32>(dwCase(2, 9, 6, 35, 3, 2, 1, true, true, true)).toBe(0);
    expect<i32>(dwCase(1, 11, 10, 5, 5, 2, 2, false, true, false)).toBe(0);
    expect<i32>(dwCase(1, 6, 7, 16, 3, 1, 1, true, false, true)).toBe(0);
    expect<i32>(dwCase(1, 9, 13, 33, 5, 1, 2, true, true, false)).toBe(0);
    expect<i32>(dwCase(1, 7, 11, 17, 3, 1, 0, false, false, true)).toBe(0);
  });
  it('qwino_q8: stored and streamed, odd sizes and channels, uint8 / int8, splits', () => {
    expect<i32>(winoCase(1, 7, 9, 13, 19, false, false, false)).toBe(0);
    expect<i32>(winoCase(2, 5, 6, 8, 37, true, true, true)).toBe(0);
    expect<i32>(winoCase(1, 9, 5, 21, 5, false, true, true)).toBe(0);
  });
});
