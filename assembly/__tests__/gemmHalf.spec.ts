// Specs for gemm.ts's half-stored panels: the widening (every finite binary16 bit pattern
// against halfToF32Ref, a decode from the format's definition) and gemm_f16 against gemm_f32 on
// the same weights widened by the reference and packed by gemm_pack (bit for bit: the tiles
// are the same), on odd sizes, several L2 blocks, k chunks, residuals, activations and splits.
import { ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_SILU } from '../codes';
import {
  gemm_f16, gemm_f32, gemm_half_packed_bytes, gemm_half_scratch_size, gemm_narrow_panels, gemm_pack, gemm_packed_size, gemm_unpack_half,
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

/**
 * The binary16 bits nearest to a finite x (ties to even) from the format's definition, in f64:
 * |x| = m·2^(e−10) with e the exponent (at least −14: subnormals), m rounded half to even;
 * 0x7c00 past the largest half (|x| ≥ 65520 rounds up to 2^16).
 */
function f32ToHalfRef(x: f32): i32 {
  const sign = reinterpret<u32>(x) >> 31 != 0 ? 0x8000 : 0;
  const a = Math.abs(<f64>x);
  if (a >= 65520) return sign | 0x7c00;
  if (a == 0) return sign;
  let e = <i32>Math.floor(Math.log2(a));
  if (Math.pow(2, <f64>e) > a) e--;
  if (Math.pow(2, <f64>(e + 1)) <= a) e++;
  if (e < -14) e = -14;
  const q = Math.pow(2, <f64>(e - 10));
  const m = a / q;
  let r = Math.floor(m);
  const frac = m - r;
  if (frac > 0.5 || (frac == 0.5 && (<i64>r & 1) != 0)) r += 1;
  const ri = <i32>r;
  if (e == -14 && ri < 1024) return sign | ri;
  return sign | (((e + 15) << 10) + ri - 1024);
}

/** gemm_narrow_panels on one 8 x K panel of the given values (bias 0); the half bits at [n = i % 8][k = i / 8], or -1 for a refused panel. */
function narrowed(values: usize, count: i32, out: usize): i32 {
  const K = (count + 7) / 8;
  const src = floats(gemm_packed_size(8, K)), dst = floats(gemm_half_packed_bytes(8, K) >> 2);
  for (let i = 0; i < 8; i++) store<f32>(src + (<usize>i << 2), <f32>i);
  for (let i = 0; i < 8 * K; i++) store<f32>(src + (<usize>(8 + i) << 2), i < count ? load<f32>(values + (<usize>i << 2)) : 0);
  if (gemm_narrow_panels(src, 1, K, dst) == 0) return -1;
  // the bias floats pass unchanged
  for (let i = 0; i < 8; i++) if (load<f32>(dst + (<usize>i << 2)) != <f32>i) return -2;
  for (let i = 0; i < count; i++) store<i32>(out + (<usize>i << 2), <i32>load<u16>(dst + 32 + (<usize>i << 1)));
  return 0;
}

describe('gemm_narrow_panels (float32 -> binary16, round to nearest even)', () => {
  it('every finite half, the midpoints between neighbours (ties to even) and one f32 ulp either side, against f32ToHalfRef', () => {
    let bad = 0;
    for (let base = 0; base < 0x7c00; base += 1024) {
      resetArena();
      const vals = floats(4 * 1024 * 2), out = floats(4 * 1024 * 2);
      let c = 0;
      for (let h = base; h < base + 1024; h++) {
        const v = halfToF32Ref(h), next = halfToF32Ref(h + 1);
        const mid = <f32>((<f64>v + <f64>next) / 2);
        const sign: f32 = (h & 1) != 0 ? -1 : 1;
        store<f32>(vals + (<usize>(c++) << 2), sign * v);
        store<f32>(vals + (<usize>(c++) << 2), sign * mid);
        store<f32>(vals + (<usize>(c++) << 2), sign * reinterpret<f32>(reinterpret<u32>(mid) + 1));
        store<f32>(vals + (<usize>(c++) << 2), sign * reinterpret<f32>(reinterpret<u32>(mid) - (mid > 0 ? 1 : 0)));
      }
      // the last midpoint (65504 / 65536) and above round to infinity: refused; keep them out of this batch
      if (base + 1024 >= 0x7c00) c -= 3;
      if (narrowed(vals, c, out) != 0) bad += 1000;
      for (let i = 0; i < c; i++) if (load<i32>(out + (<usize>i << 2)) != f32ToHalfRef(load<f32>(vals + (<usize>i << 2)))) bad++;
    }
    expect<i32>(bad).toBe(0);
  });
  it('signed zeros and the smallest values; 65504 kept, 65519.99 rounds to 65504, 65520 / Infinity / NaN refused', () => {
    resetArena();
    const vals = floats(8), out = floats(8);
    const keep: f32[] = [0, -0.0, 2.9802322e-8, 2.9802326e-8, -5.9604645e-8, 65504, 65519.996, -65519.996];
    const want: i32[] = [0, 0x8000, 0, 1, 0x8001, 0x7bff, 0x7bff, 0xfbff];
    for (let i = 0; i < 8; i++) store<f32>(vals + (<usize>i << 2), keep[i]);
    expect<i32>(narrowed(vals, 8, out)).toBe(0);
    for (let i = 0; i < 8; i++) expect<i32>(load<i32>(out + (<usize>i << 2))).toBe(want[i]);
    const refused: f32[] = [65520, -65520, Infinity, -Infinity, NaN, 1e30];
    for (let i = 0; i < refused.length; i++) {
      store<f32>(vals, refused[i]);
      expect<i32>(narrowed(vals, 1, out)).toBe(-1);
    }
  });
  it('random f32 values over the half range against f32ToHalfRef', () => {
    let bad = 0;
    resetArena();
    const n = 4096, vals = floats(n), out = floats(n);
    for (let r = 0; r < 8; r++) {
      for (let i = 0; i < n; i++) {
        // exponents 2^-27 .. 2^15, random fraction and sign
        const h = randomHalf(30);
        const jitter = <u32>(<u32>(h * 2654435761) >>> 19);
        store<f32>(vals + (<usize>i << 2), reinterpret<f32>((reinterpret<u32>(halfToF32Ref(h)) & 0xffffe000) | jitter) * (r < 4 ? 1 : 0.125));
      }
      if (narrowed(vals, n, out) != 0) bad += 1000;
      for (let i = 0; i < n; i++) if (load<i32>(out + (<usize>i << 2)) != f32ToHalfRef(load<f32>(vals + (<usize>i << 2)))) bad++;
    }
    expect<i32>(bad).toBe(0);
  });
});
