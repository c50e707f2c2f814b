// Specs for gemm.ts (gemm_pack / gemm_f32 / matmul_f32) against the scalar references in
// gemm_ref.ts: remainders in every dimension, strided A/C, untouched columns past N,
// residual on and off (also in place), each epilogue activation; every case also split into
// 2, 3 and 5 parts (the worker pool's pieces, run in turn) must give the whole call's bits.
import { ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_SILU, ACT_SIGMOID, ACT_HARDSWISH, ACT_GELU_TANH } from '../codes';
import { gemm_packed_size, gemm_pack, gemm_f32, matmul_f32, gemm_peak_probe } from '../gemm';
import { gemmRef, matmulRef, fillRandom, fill, countMismatches, countBitDiffs, floats, resetArena, SPLITS } from './gemm_ref';

const SIZES: i32[] = [1, 3, 7, 13, 17, 33];
const SENTINEL: f32 = 12345.5;

/** Runs one gemm_f32 case against the reference; returns the number of wrong floats. */
function gemmCase(M: i32, N: i32, K: i32, withRes: bool, act: i32, inPlace: bool = false): i32 {
  resetArena();
  const lda = K + 3, ldw = K + 1, ldc = N + 5, ldr = inPlace ? ldc : N + 2;
  const a = floats(M * lda), w = floats(N * ldw), bias = floats(N);
  const packed = floats(gemm_packed_size(N, K));
  const c = floats((M + 1) * ldc), ref = floats((M + 1) * ldc);
  fillRandom(a, M * lda);
  fillRandom(w, N * ldw);
  fillRandom(bias, N);
  fill(c, (M + 1) * ldc, SENTINEL);
  fill(ref, (M + 1) * ldc, SENTINEL);
  let res: usize = 0;
  if (withRes) {
    if (inPlace) {
      fillRandom(c, M * ldc);
      for (let i = 0; i < M * ldc; i++) store<f32>(ref + (<usize>i << 2), load<f32>(c + (<usize>i << 2)));
      res = c;
    } else {
      res = floats(M * ldr);
      fillRandom(res, M * ldr);
    }
  }
  gemm_pack(w, N, K, ldw, bias, packed);
  // the reference reads its residual from ref itself when in place (same values as c had)
  gemmRef(M, N, K, a, lda, w, ldw, bias, ref, ldc, inPlace ? ref : res, ldr, act, -0.25, 0.5);
  gemm_f32(M, N, K, a, lda, packed, c, ldc, res, ldr, act, -0.25, 0.5, 0, 1);
  // compares everything, so columns past N and the row past M must still hold the sentinel
  let bad = countMismatches(c, ref, (M + 1) * ldc);
  if (!inPlace) {
    // the pieces of a split call, run one after another, give the whole call's bits
    const cp = floats((M + 1) * ldc);
    for (let s = 0; s < SPLITS.length; s++) {
      fill(cp, (M + 1) * ldc, SENTINEL);
      for (let part = 0; part < SPLITS[s]; part++)
        gemm_f32(M, N, K, a, lda, packed, cp, ldc, res, ldr, act, -0.25, 0.5, part, SPLITS[s]);
      bad += countBitDiffs(cp, c, (M + 1) * ldc);
    }
  }
  return bad;
}

function matmulCase(M: i32, N: i32, K: i32): i32 {
  resetArena();
  const lda = K + 2, ldb = N + 3, ldc = N + 4;
  const a = floats(M * lda), b = floats(K * ldb);
  const c = floats((M + 1) * ldc), ref = floats((M + 1) * ldc);
  fillRandom(a, M * lda);
  fillRandom(b, K * ldb);
  fill(c, (M + 1) * ldc, SENTINEL);
  fill(ref, (M + 1) * ldc, SENTINEL);
  matmulRef(M, N, K, a, lda, b, ldb, ref, ldc);
  matmul_f32(M, N, K, a, lda, b, ldb, c, ldc, 0, 1);
  let bad = countMismatches(c, ref, (M + 1) * ldc);
  const cp = floats((M + 1) * ldc);
  for (let s = 0; s < SPLITS.length; s++) {
    fill(cp, (M + 1) * ldc, SENTINEL);
    for (let part = 0; part < SPLITS[s]; part++) matmul_f32(M, N, K, a, lda, b, ldb, cp, ldc, part, SPLITS[s]);
    bad += countBitDiffs(cp, c, (M + 1) * ldc);
  }
  return bad;
}

describe('gemm_pack', () => {
  it('sizes whole 8-column panels of bias + K rows', () => {
    expect<i32>(gemm_packed_size(8, 5)).toBe(48);
    expect<i32>(gemm_packed_size(9, 5)).toBe(96);
    expect<i32>(gemm_packed_size(1, 1)).toBe(16);
  });
  it('zero-fills a missing bias', () => {
    const w = floats(3 * 2), packed = floats(gemm_packed_size(3, 2));
    fill(packed, 24, SENTINEL);
    fillRandom(w, 6);
    gemm_pack(w, 3, 2, 2, 0, packed);
    for (let j = 0; j < 8; j++) expect<f32>(load<f32>(packed + (<usize>j << 2))).toBe(0);
    expect<f32>(load<f32>(packed + (<usize>(8 + 1) << 2))).toBe(load<f32>(w + 8)); // k=0, n=1
    expect<f32>(load<f32>(packed + (<usize>(16 + 7) << 2))).toBe(0); // padding column
  });
});

/**
 * A deep weight (K > 2·2048, more than 8 rows, no residual) runs in k chunks (chunkedGemm); the
 * same call with an all-zero residual runs in one pass. Returns the floats whose bits differ.
 */
function chunkedSameBits(M: i32, N: i32, K: i32, act: i32): i32 {
  resetArena();
  const a = floats(M * K), w = floats(N * K), bias = floats(N), zeros = floats(M * N);
  const packed = floats(gemm_packed_size(N, K));
  const chunked = floats(M * N), whole = floats(M * N);
  fillRandom(a, M * K);
  fillRandom(w, N * K);
  fillRandom(bias, N);
  gemm_pack(w, N, K, K, bias, packed);
  gemm_f32(M, N, K, a, K, packed, chunked, N, 0, 0, act, -0.25, 0.5, 0, 1);
  gemm_f32(M, N, K, a, K, packed, whole, N, zeros, N, act, -0.25, 0.5, 0, 1);
  return countBitDiffs(chunked, whole, M * N);
}

describe('gemm_f32', () => {
  it('matches the reference on every size mix (remainders in M, N, K)', () => {
    let idx = 0;
    for (let i = 0; i < SIZES.length; i++) {
      for (let j = 0; j < SIZES.length; j++) {
        for (let l = 0; l < SIZES.length; l++) {
          const act = idx % 3, withRes = (idx / 3) % 2 == 1;
          expect<i32>(gemmCase(SIZES[i], SIZES[j], SIZES[l], withRes, act)).toBe(0, `M=${SIZES[i]} N=${SIZES[j]} K=${SIZES[l]}`);
          idx++;
        }
      }
    }
  });
  it('splits into bands of panel pairs when B outweighs A (N > M, many panels)', () => {
    // 17 panels: columns for 2 parts; 42 panels: columns for 2, 3 and 5 parts
    expect<i32>(gemmCase(13, 130, 17, false, ACT_RELU)).toBe(0);
    expect<i32>(gemmCase(7, 330, 9, true, ACT_NONE)).toBe(0);
    expect<i32>(gemmCase(1, 333, 5, false, ACT_CLAMP)).toBe(0);
    // 13 row strips would share evenly, but N > M with 13 panel pairs: columns for 2 and 3 parts
    expect<i32>(gemmCase(49, 200, 9, true, ACT_RELU)).toBe(0);
  });
  it('applies each activation with and without a residual', () => {
    for (let act = ACT_NONE; act <= ACT_CLAMP; act++) {
      expect<i32>(gemmCase(19, 21, 23, false, act)).toBe(0);
      expect<i32>(gemmCase(19, 21, 23, true, act)).toBe(0);
    }
  });
  it('applies other activations per stored strip (SiLU, sigmoid, hard-swish, GELU) incl. M and N remainders', () => {
    const acts: i32[] = [ACT_SILU, ACT_SIGMOID, ACT_HARDSWISH, ACT_GELU_TANH];
    for (let i = 0; i < acts.length; i++) {
      expect<i32>(gemmCase(19, 21, 23, false, acts[i])).toBe(0);
      expect<i32>(gemmCase(13, 67, 33, true, acts[i])).toBe(0);
      expect<i32>(gemmCase(1, 3, 7, true, acts[i])).toBe(0);
    }
  });
  it('accepts the residual in place (res == c)', () => {
    expect<i32>(gemmCase(13, 17, 33, true, ACT_RELU, true)).toBe(0);
    expect<i32>(gemmCase(12, 16, 8, true, ACT_NONE, true)).toBe(0);
  });
  it('runs a deep weight (K > 4096) in k chunks: the reference within tolerance, one pass bit for bit, splits equal', () => {
    expect<i32>(gemmCase(11, 21, 4133, false, ACT_CLAMP)).toBe(0);
    expect<i32>(gemmCase(13, 19, 6151, false, ACT_SILU)).toBe(0);
    expect<i32>(chunkedSameBits(11, 21, 4133, ACT_RELU)).toBe(0);
    expect<i32>(chunkedSameBits(17, 35, 8200, ACT_SILU)).toBe(0);
    expect<i32>(chunkedSameBits(9, 8, 4097, ACT_NONE)).toBe(0);
  });
  it('handles larger blocks (several panels, K unroll and remainder)', () => {
    expect<i32>(gemmCase(70, 67, 130, true, ACT_CLAMP)).toBe(0);
    expect<i32>(gemmCase(64, 64, 64, false, ACT_NONE)).toBe(0);
  });
});

describe('matmul_f32', () => {
  it('matches the reference on every size mix', () => {
    for (let i = 0; i < SIZES.length; i++) {
      for (let j = 0; j < SIZES.length; j++) {
        for (let l = 0; l < SIZES.length; l++) {
          expect<i32>(matmulCase(SIZES[i], SIZES[j], SIZES[l])).toBe(0, `M=${SIZES[i]} N=${SIZES[j]} K=${SIZES[l]}`);
        }
      }
    }
    expect<i32>(matmulCase(50, 40, 70)).toBe(0);
  });
});

describe('gemm_peak_probe', () => {
  it('returns a finite, non-zero sum', () => {
    const s = gemm_peak_probe(10);
    expect<bool>(s > 0 && isFinite(s)).toBe(true);
  });
});
