// Specs for qgemm.ts (qgemm_pack / qgemm_q8) against the scalar reference in qgemm_ref.ts:
// every mix of odd M, N, K (K odd, not a multiple of 2/8/16), uint8 and int8 activations and
// outputs, zero points at the type's extremes, per-tensor and per-channel scales, ties
// (scaled values exactly x.5: round half to even, checked by hand too), clamp bounds, strided
// A and Y with untouched bytes past N and past M; every case split into 2, 3 and 5 parts
// (the pool's pieces, run in turn) must give the whole call's bytes.
import { qgemm_packed_size, qgemm_pack, qgemm_q8, qgemm_i32, qgemm_scratch_size } from '../qgemm';
import { floats, resetArena, SPLITS } from './gemm_ref';
import { qgemmRef, qgemmI32Ref, fillBytes, randInt, nextRand, countByteDiffs, roundHalfEven } from './qgemm_ref';

const SIZES: i32[] = [1, 3, 5, 13, 37, 67];
const SENTINEL: u8 = 0xa5;

/** A 16-byte aligned zeroed buffer of n bytes from the test arena. */
function bytes(n: i32): usize {
  return floats((n + 3) >> 2);
}

// scale modes
const SCALE_SPREAD = 0; // random scales that spread outputs over the type's range
const SCALE_POW2 = 1; // powers of two near the spread scale: exact products, occasional ties
const SCALE_HALF = 2; // 0.5 / 0.25 (with small operands: ties everywhere)
const SCALE_HUGE = 3; // 1000: |acc·scale| far past 2^23 (only a float clamp before rounding gives the bounds)

/**
 * Runs one case against the reference and the split calls against the whole call; returns the
 * number of wrong bytes. aLo..aHi / wLo..wHi: operand ranges.
 */
function qCase(
  M: i32, N: i32, K: i32, aSigned: bool, za: i32, ySigned: bool, zy: i32, perChannel: bool, lo: i32, hi: i32,
  withBias: bool, scaleMode: i32, aLo: i32 = 999, aHi: i32 = 999, wLo: i32 = -128, wHi: i32 = 127,
): i32 {
  resetArena();
  if (aLo == 999) { aLo = aSigned ? -128 : 0; aHi = aSigned ? 127 : 255; }
  const lda = K + 3, ldy = N + 5, outBytes = (M + 1) * ldy;
  const a = bytes(M * lda), w = bytes(N * K), bias = withBias ? bytes(4 * N) : 0, scale = bytes(4 * N);
  const packed = bytes(qgemm_packed_size(N, K));
  const y = bytes(outBytes), ref = bytes(outBytes), yp = bytes(outBytes);
  const scratch = bytes(5 * qgemm_scratch_size(K));
  fillBytes(a, M * lda, aLo, aHi);
  fillBytes(w, N * K, wLo, wHi);
  if (withBias) for (let n = 0; n < N; n++) store<i32>(bias + (<usize>n << 2), randInt(-20000, 20000));
  // a typical |Σ (a − za)·w| for full-range operands is ~ sqrt(K)·150·74
  const spread = 60.0 / (Math.sqrt(<f64>K) * 11000.0);
  const e = Math.round(Math.log2(spread));
  for (let n = 0; n < N; n++) {
    let s: f64;
    if (scaleMode == SCALE_SPREAD) s = spread * (0.5 + <f64>(nextRand() % 1000) / 1000.0);
    else if (scaleMode == SCALE_POW2) s = Math.pow(2, e + <f64>(n % 3 - 1));
    else if (scaleMode == SCALE_HALF) s = n % 2 == 0 ? 0.5 : 0.25;
    else s = 1000;
    store<f32>(scale + (<usize>n << 2), <f32>s);
  }
  memory.fill(y, SENTINEL, outBytes);
  memory.fill(ref, SENTINEL, outBytes);
  qgemm_pack(w, N, K, packed);
  qgemmRef(M, N, K, a, lda, aSigned, za, w, bias, scale, perChannel, zy, lo, hi, ref, ldy, ySigned);
  const as = aSigned ? 1 : 0, ys = ySigned ? 1 : 0, pc = perChannel ? 1 : 0;
  qgemm_q8(M, N, K, a, lda, as, za, packed, bias, scale, pc, zy, lo, hi, y, ldy, ys, scratch, 0, 0, 1);
  let bad = countByteDiffs(y, ref, outBytes);
  for (let s = 0; s < SPLITS.length; s++) {
    memory.fill(yp, SENTINEL, outBytes);
    for (let part = 0; part < SPLITS[s]; part++) {
      qgemm_q8(M, N, K, a, lda, as, za, packed, bias, scale, pc, zy, lo, hi, yp, ldy, ys, scratch, 0, part, SPLITS[s]);
    }
    bad += countByteDiffs(yp, y, outBytes);
  }
  return bad;
}

/** qgemm_i32 against the exact reference (i32 rows, sentinel past N and M) and its splits. */
function i32Case(M: i32, N: i32, K: i32, aSigned: bool, za: i32, withBias: bool): i32 {
  resetArena();
  const lda = K + 1, ldy = N + 3, outBytes = 4 * (M + 1) * ldy;
  const a = bytes(M * lda), w = bytes(N * K), bias = withBias ? bytes(4 * N) : 0;
  const packed = bytes(qgemm_packed_size(N, K));
  const y = bytes(outBytes), ref = bytes(outBytes), yp = bytes(outBytes);
  const scratch = bytes(5 * qgemm_scratch_size(K));
  fillBytes(a, M * lda, aSigned ? -128 : 0, aSigned ? 127 : 255);
  fillBytes(w, N * K, -128, 127);
  if (withBias) for (let n = 0; n < N; n++) store<i32>(bias + (<usize>n << 2), randInt(-100000, 100000));
  memory.fill(y, SENTINEL, outBytes);
  memory.fill(ref, SENTINEL, outBytes);
  qgemm_pack(w, N, K, packed);
  qgemmI32Ref(M, N, K, a, lda, aSigned, za, w, bias, ref, ldy);
  const as = aSigned ? 1 : 0;
  qgemm_i32(M, N, K, a, lda, as, za, packed, bias, y, ldy, scratch, 0, 1);
  let bad = countByteDiffs(y, ref, outBytes);
  for (let s = 0; s < SPLITS.length; s++) {
    memory.fill(yp, SENTINEL, outBytes);
    for (let part = 0; part < SPLITS[s]; part++) qgemm_i32(M, N, K, a, lda, as, za, packed, bias, yp, ldy, scratch, part, SPLITS[s]);
    bad += countByteDiffs(yp, y, outBytes);
  }
  return bad;
}

describe('qgemm reference', () => {
  it('rounds half to even', () => {
    expect<f64>(roundHalfEven(0.5)).toBe(0);
    expect<f64>(roundHalfEven(1.5)).toBe(2);
    expect<f64>(roundHalfEven(2.5)).toBe(2);
    expect<f64>(roundHalfEven(-0.5)).toBe(0);
    expect<f64>(roundHalfEven(-1.5)).toBe(-2);
    expect<f64>(roundHalfEven(-2.5)).toBe(-2);
    expect<f64>(roundHalfEven(2.4999)).toBe(2);
    expect<f64>(roundHalfEven(-2.5001)).toBe(-3);
  });
});

describe('qgemm_pack', () => {
  it('sizes a 16-byte header and whole 16-column panels of column sums + k-pair rows (1 byte a weight)', () => {
    // a panel: 64 bytes of column sums, then 32 bytes (16 columns x 2 k) per k-pair
    expect<i32>(qgemm_packed_size(8, 5)).toBe(16 + 64 + 32 * 3);
    expect<i32>(qgemm_packed_size(16, 5)).toBe(16 + 64 + 32 * 3);
    expect<i32>(qgemm_packed_size(17, 5)).toBe(16 + 2 * (64 + 32 * 3));
    expect<i32>(qgemm_packed_size(1, 1)).toBe(16 + 64 + 32);
    expect<i32>(qgemm_packed_size(3, 16)).toBe(16 + 64 + 32 * 8);
    expect<i32>(qgemm_packed_size(64, 576)).toBe(16 + 4 * (64 + 576 * 16));
  });
  it('stores the mode (0: k-pairs), column sums and (w[k], w[k+1]) i8 pairs, zero past N and past an odd K', () => {
    resetArena();
    // N = 2, K = 3: w = [[1, -2, 3], [-128, 127, -5]]
    const w = bytes(6), packed = bytes(qgemm_packed_size(2, 3) + 16);
    memory.fill(packed, 0x77, qgemm_packed_size(2, 3) + 16);
    store<i8>(w, 1); store<i8>(w + 1, -2); store<i8>(w + 2, 3);
    store<i8>(w + 3, -128); store<i8>(w + 4, 127); store<i8>(w + 5, -5);
    qgemm_pack(w, 2, 3, packed);
    expect<i32>(load<i32>(packed)).toBe(0);
    expect<i32>(load<i32>(packed + 12)).toBe(0);
    const p = packed + 16;
    expect<i32>(load<i32>(p)).toBe(2);
    expect<i32>(load<i32>(p + 4)).toBe(-6);
    expect<i32>(load<i32>(p + 8)).toBe(0); // padding columns
    expect<i32>(load<i32>(p + 60)).toBe(0);
    // k-pair 0 row at byte 64: column n at 64 + 2n
    expect<i8>(load<i8>(p + 64)).toBe(1);
    expect<i8>(load<i8>(p + 65)).toBe(-2);
    expect<i8>(load<i8>(p + 66)).toBe(-128);
    expect<i8>(load<i8>(p + 67)).toBe(127);
    for (let i = 68; i < 96; i++) expect<i8>(load<i8>(p + i)).toBe(0, `byte ${i}`);
    // k-pair 1 at byte 96: (w[2], 0)
    expect<i8>(load<i8>(p + 96)).toBe(3);
    expect<i8>(load<i8>(p + 97)).toBe(0);
    expect<i8>(load<i8>(p + 98)).toBe(-5);
    expect<i8>(load<i8>(p + 99)).toBe(0);
    for (let i = 100; i < 128; i++) expect<i8>(load<i8>(p + i)).toBe(0, `byte ${i}`);
    // nothing written past the packed size
    expect<u8>(load<u8>(packed + qgemm_packed_size(2, 3))).toBe(0x77);
  });
});

describe('qgemm_q8', () => {
  it('rounds exact halves to even (hand-computed)', () => {
    resetArena();
    // M = 1, K = 1, a = [1], w = [1, 3, 5, -3, -1, -5, 7]: acc = w; scale 0.5 gives
    // 0.5, 1.5, 2.5, -1.5, -0.5, -2.5, 3.5 → 0, 2, 2, -2, 0, -2, 4
    const N = 7;
    const a = bytes(1), w = bytes(N), scale = bytes(4), packed = bytes(qgemm_packed_size(N, 1)), y = bytes(16), sc = bytes(qgemm_scratch_size(1));
    store<u8>(a, 1);
    const ws: i32[] = [1, 3, 5, -3, -1, -5, 7];
    const want: i32[] = [0, 2, 2, -2, 0, -2, 4];
    for (let n = 0; n < N; n++) store<i8>(w + <usize>n, <i8>ws[n]);
    store<f32>(scale, 0.5);
    qgemm_pack(w, N, 1, packed);
    memory.fill(y, SENTINEL, 16);
    qgemm_q8(1, N, 1, a, 1, 0, 0, packed, 0, scale, 0, 0, -128, 127, y, 16, 1, sc, 0, 0, 1);
    for (let n = 0; n < N; n++) expect<i8>(load<i8>(y + <usize>n)).toBe(<i8>want[n], `n=${n}`);
    expect<u8>(load<u8>(y + 7)).toBe(SENTINEL);
    // uint8 output with zero point 3 and activation zero point 1 (a − za = 0: all zy) / 0
    qgemm_q8(1, N, 1, a, 1, 0, 0, packed, 0, scale, 0, 3, 0, 255, y, 16, 0, sc, 0, 0, 1);
    for (let n = 0; n < N; n++) expect<u8>(load<u8>(y + <usize>n)).toBe(<u8>(want[n] + 3), `n=${n}`);
    qgemm_q8(1, N, 1, a, 1, 0, 1, packed, 0, scale, 0, 3, 0, 255, y, 16, 0, sc, 0, 0, 1);
    for (let n = 0; n < N; n++) expect<u8>(load<u8>(y + <usize>n)).toBe(3);
  });

  it('matches the reference on every mix of odd M, N, K', () => {
    let idx = 0;
    for (let i = 0; i < SIZES.length; i++) {
      for (let j = 0; j < SIZES.length; j++) {
        for (let l = 0; l < SIZES.length; l++) {
          const aSigned = idx % 2 == 1, ySigned = (idx / 2) % 2 == 1;
          const za = aSigned ? randInt(-128, 127) : randInt(0, 255);
          const zy = ySigned ? randInt(-128, 127) : randInt(0, 255);
          const mode = idx % 3;
          expect<i32>(qCase(SIZES[i], SIZES[j], SIZES[l], aSigned, za, ySigned, zy, (idx / 4) % 2 == 0, -1000, 1000, idx % 5 != 0, mode))
            .toBe(0, `M=${SIZES[i]} N=${SIZES[j]} K=${SIZES[l]}`);
          idx++;
        }
      }
    }
  });

  it('handles zero points at the type extremes', () => {
    const zu: i32[] = [0, 128, 255], zs: i32[] = [-128, 0, 127];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        expect<i32>(qCase(37, 67, 13, false, zu[i], false, zu[j], true, 0, 255, true, SCALE_SPREAD)).toBe(0);
        expect<i32>(qCase(5, 19, 67, true, zs[i], true, zs[j], false, -128, 127, true, SCALE_SPREAD)).toBe(0);
        expect<i32>(qCase(13, 21, 37, false, zu[i], true, zs[j], true, -128, 127, false, SCALE_POW2)).toBe(0);
        expect<i32>(qCase(3, 37, 5, true, zs[i], false, zu[j], false, 0, 255, true, SCALE_POW2)).toBe(0);
      }
    }
  });

  it('rounds ties half to even on many x.5 values (small operands, scales 0.5 and 0.25)', () => {
    // |acc| ≤ 13·3·3: products 0.5·odd and 0.25·(2 mod 4) are exact halves
    expect<i32>(qCase(13, 37, 13, false, 100, true, 0, true, -128, 127, false, SCALE_HALF, 97, 103, -3, 3)).toBe(0);
    expect<i32>(qCase(37, 13, 5, true, -2, false, 128, true, 0, 255, true, SCALE_HALF, -5, 1, -3, 3)).toBe(0);
    expect<i32>(qCase(5, 67, 3, false, 0, true, -1, false, -128, 127, false, SCALE_HALF, 0, 3, -2, 2)).toBe(0);
  });

  it('clamps to the bounds (ReLU, ReLU6-like, bounds past the type)', () => {
    expect<i32>(qCase(37, 67, 37, false, 128, false, 10, true, 10, 255, true, SCALE_SPREAD)).toBe(0); // ReLU
    expect<i32>(qCase(37, 67, 37, false, 128, false, 10, true, 10, 60, true, SCALE_SPREAD)).toBe(0); // ReLU6
    expect<i32>(qCase(13, 21, 67, true, 0, true, -128, false, -128, -100, true, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(13, 21, 67, true, 5, true, -3, true, -1000, 1000, true, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(5, 13, 5, false, 7, false, 0, true, 200, 100, true, SCALE_SPREAD)).toBe(0); // lo > hi: all hi
    // whole 16-column panels (the epilogue's straight-line row): lo > hi, per-tensor int8 ReLU6-like bounds
    expect<i32>(qCase(9, 32, 21, false, 3, false, 0, true, 200, 100, true, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(9, 48, 19, true, -3, true, 4, false, -20, 50, true, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(11, 64, 33, false, 100, true, -7, true, -7, 60, false, SCALE_POW2)).toBe(0);
    // and 8-column last panels (N = 24, 40: tile8's byte clamp on a whole 8-column row)
    expect<i32>(qCase(9, 24, 21, false, 3, false, 9, true, 9, 70, true, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(13, 40, 19, true, -3, true, 4, false, -20, 50, true, SCALE_POW2)).toBe(0);
    expect<i32>(qCase(7, 8, 37, false, 0, true, -2, true, -128, 127, false, SCALE_SPREAD)).toBe(0);
  });

  it('saturates right without the float clamp and keeps it where |acc·scale| may pass 2^22', () => {
    // full-range bounds, scales 0.5 / 0.25 on full-range operands: most outputs saturate, and
    // |acc·scale| < 2^22 lets qgemm_q8 leave the clamp to the narrowing stores
    expect<i32>(qCase(37, 67, 37, false, 128, false, 0, true, 0, 255, true, SCALE_HALF)).toBe(0);
    expect<i32>(qCase(13, 37, 67, true, -3, true, 5, false, -128, 127, false, SCALE_HALF)).toBe(0);
    // scales of 1000: accumulators times scale reach ±10^8, where the magic-number rounding of
    // an unclamped value would wrap (a large negative value would come out as the maximum)
    expect<i32>(qCase(37, 67, 37, false, 128, false, 0, true, 0, 255, true, SCALE_HUGE)).toBe(0);
    expect<i32>(qCase(13, 37, 67, true, -3, true, 5, false, -128, 127, false, SCALE_HUGE)).toBe(0);
    expect<i32>(qCase(5, 21, 13, false, 0, true, -128, true, -1000, 1000, true, SCALE_HUGE)).toBe(0);
  });

  it('stores 9..12-column panel remainders (a half-empty last vector)', () => {
    expect<i32>(qCase(7, 25, 9, false, 17, false, 200, true, 0, 255, true, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(6, 28, 11, true, -7, true, 3, false, -128, 127, false, SCALE_POW2)).toBe(0);
    expect<i32>(qCase(2, 44, 1, false, 255, true, -128, true, -128, 127, true, SCALE_SPREAD)).toBe(0);
  });

  it('splits into bands of panels when the weights outweigh the rows', () => {
    expect<i32>(qCase(13, 130, 17, false, 3, false, 128, true, 0, 255, true, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(7, 330, 9, true, -1, true, 0, true, -128, 127, false, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(1, 333, 5, false, 255, true, 5, false, -128, 127, true, SCALE_POW2)).toBe(0);
    expect<i32>(qCase(49, 200, 9, false, 0, false, 0, true, 0, 255, true, SCALE_SPREAD)).toBe(0);
  });

  it('handles deep K and many panels (L2 blocks)', () => {
    expect<i32>(qCase(3, 20, 1001, false, 128, false, 128, true, 0, 255, true, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(70, 67, 576, false, 0, false, 0, true, 0, 255, true, SCALE_SPREAD)).toBe(0);
    expect<i32>(qCase(9, 600, 999, true, -128, true, 0, true, -128, 127, true, SCALE_SPREAD)).toBe(0);
    // one widened panel larger than an L2 block (and than the block-sized scratch)
    expect<i32>(qCase(5, 21, 8201, false, 3, false, 0, true, 0, 255, true, SCALE_SPREAD)).toBe(0);
  });
});

describe('qgemm_i32', () => {
  it('gives the exact sums on every mix of odd M, N, K', () => {
    let idx = 0;
    for (let i = 0; i < SIZES.length; i++) {
      for (let j = 0; j < SIZES.length; j++) {
        for (let l = 0; l < SIZES.length; l++) {
          const aSigned = idx % 2 == 1;
          const za = aSigned ? randInt(-128, 127) : randInt(0, 255);
          expect<i32>(i32Case(SIZES[i], SIZES[j], SIZES[l], aSigned, za, idx % 3 != 0)).toBe(0, `M=${SIZES[i]} N=${SIZES[j]} K=${SIZES[l]}`);
          idx++;
        }
      }
    }
  });
  it('handles extreme zero points, 9..12-column remainders, column splits and deep K', () => {
    expect<i32>(i32Case(5, 28, 13, false, 255, true)).toBe(0);
    expect<i32>(i32Case(7, 25, 9, true, -128, false)).toBe(0);
    expect<i32>(i32Case(3, 330, 17, false, 0, true)).toBe(0);
    expect<i32>(i32Case(9, 600, 999, true, 127, true)).toBe(0);
    expect<i32>(i32Case(70, 67, 576, false, 128, true)).toBe(0);
  });
});
