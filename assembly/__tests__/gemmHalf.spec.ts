// Specs for gemm.ts's half-stored panels: the widening (every finite binary16 bit pattern
// against halfToF32Ref, a decode from the format's definition) and gemm_f16 against gemm_f32 on
// the same weights widened by the reference and packed by gemm_pack (bit for bit: the tiles
// are the same), on odd sizes, several L2 blocks, k chunks, residuals, activations and splits.
import { ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_SILU } from '../codes';
import {
  gemm_f16, gemm_f32, gemm_half_packed_bytes, gemm_half_scratch_size, gemm_pack, gemm_packed_size, gemm_unpack_half,
} from '../gemm';
import {
  countBitDiffs, countMismatches, fill, fillRandom, floats, gemmRef, halfToF32Ref, packHalfRef, randomHalf, resetArena, SPLITS,
} from './gemm_ref';

const SENTINEL: f32 = 12345.5;

/** gemm_unpack_half of one matrix holding the given half bits (N = 8 columns, K rows): f32 bits at [n][k]. */
function widenAll(bits: usize, K: i32, out: usize): void {
  const packed = floats(gemm_half_packed_bytes(8, K) >> 2), wide = floats(gemm_packed_size(8, K));
  packHalfRef(bits, 8, K, 0, packed);
  gemm_unpack_half(packed, 8, K, wide);
  for (let n = 0; n < 8; n++)
    for (let k = 0; k < K; k++) store<u32>(out + (<usize>(n * K + k) << 2), load<u32>(wide + (<usize>((k + 1) * 8 + n) << 2)));
}

/** Widens `count` half patterns through gemm_unpack_half; returns how many differ in bits from halfToF32Ref. */
function widenMismatches(first: i32, count: i32): i32 {
  resetArena();
  const K = (count + 7) / 8;
  const bits = floats((8 * K + 1) / 2), out = floats(8 * K);
  for (let i = 0; i < 8 * K; i++) store<u16>(bits + (<usize>i << 1), <u16>(i < count ? first + i : 0));
  widenAll(bits, K, out);
  let bad = 0;
  for (let i = 0; i < count; i++) if (load<u32>(out + (<usize>i << 2)) != reinterpret<u32>(halfToF32Ref(first + i))) bad++;
  return bad;
}

/** One half pattern through gemm_unpack_half, as f32. */
function widenOne(h: i32): f32 {
  resetArena();
  const bits = floats(32), out = floats(64);
  store<u16>(bits + 6, <u16>h); // [n = 0][k = 3] of an 8 x 8 matrix
  widenAll(bits, 8, out);
  return load<f32>(out + 12);
}

/**
 * gemm_f16 on half panels of random finite halves (exponents 0..maxExp, so subnormals too)
 * against gemm_f32 on the same weights decoded by halfToF32Ref and packed by gemm_pack: bits
 * must be equal (also each split into 2, 3 and 5 parts), and within tolerance of gemmRef.
 * Returns the count of wrong floats.
 */
function halfCase(M: i32, N: i32, K: i32, withRes: bool, act: i32, maxExp: i32 = 16): i32 {
  resetArena();
  const lda = K + 3, ldc = N + 5, ldr = N + 2;
  const a = floats(M * lda), w = floats(N * K), hb = floats((N * K + 1) / 2), bias = floats(N);
  fillRandom(a, M * lda);
  fillRandom(bias, N);
  for (let i = 0; i < N * K; i++) {
    const h = randomHalf(maxExp);
    store<u16>(hb + (<usize>i << 1), <u16>h);
    store<f32>(w + (<usize>i << 2), halfToF32Ref(h));
  }
  const p32 = floats(gemm_packed_size(N, K)), p16 = floats(gemm_half_packed_bytes(N, K) >> 2);
  gemm_pack(w, N, K, K, bias, p32);
  packHalfRef(hb, N, K, bias, p16);
  const res = withRes ? floats(M * ldr) : 0;
  if (withRes) fillRandom(res, M * ldr);
  const c32 = floats((M + 1) * ldc), c16 = floats((M + 1) * ldc), ref = floats((M + 1) * ldc);
  fill(c32, (M + 1) * ldc, SENTINEL);
  fill(c16, (M + 1) * ldc, SENTINEL);
  fill(ref, (M + 1) * ldc, SENTINEL);
  const scratch = floats((gemm_half_scratch_size(N, K) >> 2) * 5);
  gemm_f32(M, N, K, a, lda, p32, c32, ldc, res, ldr, act, -0.25, 0.5, 0, 1);
  gemm_f16(M, N, K, a, lda, p16, c16, ldc, res, ldr, act, -0.25, 0.5, scratch, 0, 1);
  gemmRef(M, N, K, a, lda, w, K, bias, ref, ldc, res, ldr, act, -0.25, 0.5);
  let bad = countBitDiffs(c16, c32, (M + 1) * ldc) + countMismatches(c16, ref, (M + 1) * ldc);
  for (let s = 0; s < SPLITS.length; s++) {
    fill(c16, (M + 1) * ldc, SENTINEL);
    for (let part = 0; part < SPLITS[s]; part++) gemm_f16(M, N, K, a, lda, p16, c16, ldc, res, ldr, act, -0.25, 0.5, scratch, part, SPLITS[s]);
    bad += countBitDiffs(c16, c32, (M + 1) * ldc);
  }
  return bad;
}

describe('half-stored panels: widening', () => {
  it('widens every finite binary16 pattern to the bits of its value (63488 patterns)', () => {
    let checked = 0;
    for (let s = 0; s < 2; s++) {
      // exponent 31 (Infinity, NaN) is never stored: 0x0000..0x7bff and 0x8000..0xfbff
      expect<i32>(widenMismatches(s << 15, 0x7c00)).toBe(0);
      checked += 0x7c00;
    }
    expect<i32>(checked).toBe(65536 - 2048);
  });
  it('keeps signed zeros, subnormals, the extremes and ordinary values', () => {
    expect<u32>(reinterpret<u32>(widenOne(0x0000))).toBe(0);
    expect<u32>(reinterpret<u32>(widenOne(0x8000))).toBe(0x80000000);
    expect<f32>(widenOne(0x0001)).toBe(5.960464477539063e-8); // 2^-24, least subnormal
    expect<f32>(widenOne(0x8001)).toBe(-5.960464477539063e-8);
    expect<f32>(widenOne(0x03ff)).toBe(6.097555160522461e-5); // 1023·2^-24, largest subnormal
    expect<f32>(widenOne(0x0200)).toBe(3.0517578125e-5); // 2^-15
    expect<f32>(widenOne(0x0400)).toBe(6.103515625e-5); // 2^-14, least normal
    expect<f32>(widenOne(0x7bff)).toBe(65504); // largest finite
    expect<f32>(widenOne(0xfbff)).toBe(-65504);
    expect<f32>(widenOne(0x3c00)).toBe(1);
    expect<f32>(widenOne(0xc000)).toBe(-2);
    expect<f32>(widenOne(0x3555)).toBe(0.333251953125);
  });
});

describe('gemm_f16', () => {
  it('equals gemm_f32 on the widened weights for remainders in M, N and K', () => {
    const S: i32[] = [1, 3, 7, 13, 17, 33];
    let idx = 0;
    for (let i = 0; i < S.length; i++)
      for (let j = 0; j < S.length; j++)
        for (let l = 0; l < S.length; l++) {
          expect<i32>(halfCase(S[i], S[j], S[l], idx % 2 == 1, idx % 3)).toBe(0, `M=${S[i]} N=${S[j]} K=${S[l]}`);
          idx++;
        }
  });
  it('widens block after block (several L2 blocks of panels, panel bands for the split)', () => {
    // K = 301: a 9.7 KiB panel, 26 a block; N = 483: 61 panels, 3 blocks
    expect<i32>(halfCase(29, 483, 301, true, ACT_RELU)).toBe(0);
    expect<i32>(halfCase(3, 483, 301, false, ACT_SILU)).toBe(0);
    expect<i32>(halfCase(70, 67, 130, false, ACT_CLAMP, 30)).toBe(0);
  });
  it('runs a deep weight in k chunks (K > 4096, more than 8 rows) and one pass with a residual or few rows', () => {
    expect<i32>(halfCase(11, 37, 4133, false, ACT_CLAMP)).toBe(0);
    expect<i32>(halfCase(13, 19, 6151, false, ACT_SILU)).toBe(0);
    expect<i32>(halfCase(13, 19, 6151, true, ACT_NONE)).toBe(0);
    expect<i32>(halfCase(5, 21, 4133, false, ACT_RELU)).toBe(0);
  });
});
