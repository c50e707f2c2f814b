// Scalar reference for qgemm.ts, written from the requantization rule of onnxruntime's
// MlasRequantizeOutput / the ONNX QuantizeLinear spec in the plainest way: an i64 sum of
// (a − za)·w over the unpacked weights, + bias, converted to f32, times the f32 scale, clamped
// to [lo − zy, hi − zy] (lo/hi cut to the output type), rounded half to even by floor and
// comparison (no magic number, no SIMD), + zy.

/** The byte at p + i as an integer of the given signedness. */
export function byteAt(p: usize, i: i32, signed: bool): i32 {
  return signed ? <i32>load<i8>(p + <usize>i) : <i32>load<u8>(p + <usize>i);
}

/** x rounded to the nearest integer, ties to the even one. */
export function roundHalfEven(x: f64): f64 {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return Math.floor(f / 2) * 2 == f ? f : f + 1;
}

/**
 * y[m][n] for m < M, n < N: w int8 [N][K] (row stride K), a rows lda bytes apart, bias i32 [N]
 * or 0, scale f32 [N] (perChannel) or one f32, y rows ldy bytes apart.
 */
export function qgemmRef(
  M: i32, N: i32, K: i32, a: usize, lda: i32, aSigned: bool, za: i32, w: usize, bias: usize,
  scale: usize, perChannel: bool, zy: i32, lo: i32, hi: i32, y: usize, ldy: i32, ySigned: bool,
): void {
  const tmin = ySigned ? -128 : 0, tmax = ySigned ? 127 : 255;
  if (lo < tmin) lo = tmin;
  if (hi > tmax) hi = tmax;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s: i64 = 0;
      for (let k = 0; k < K; k++) s += <i64>(byteAt(a, m * lda + k, aSigned) - za) * <i64>byteAt(w, n * K + k, true);
      if (bias != 0) s += <i64>load<i32>(bias + (<usize>n << 2));
      assert(s >= -2147483648 && s <= 2147483647, 'reference sum exceeds i32');
      const sc = load<f32>(scale + (perChannel ? <usize>n << 2 : 0));
      // f32(acc) (nearest even) then one f32 product, as MLAS does
      let v: f32 = <f32>(<i32>s) * sc;
      const vlo = <f32>(lo - zy), vhi = <f32>(hi - zy);
      if (v < vlo) v = vlo;
      if (v > vhi) v = vhi;
      const q = <i32>roundHalfEven(<f64>v) + zy;
      store<u8>(y + <usize>(m * ldy + n), <u8>q);
    }
  }
}

let seed: u32 = 987654321;
/** Next xorshift32 value. */
export function nextRand(): u32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

/** A pseudo-random integer in [lo, hi]. */
export function randInt(lo: i32, hi: i32): i32 {
  return lo + <i32>(nextRand() % <u32>(hi - lo + 1));
}

/** Fills n bytes with pseudo-random integers in [lo, hi] (stored as their low byte). */
export function fillBytes(p: usize, n: i32, lo: i32, hi: i32): void {
  for (let i = 0; i < n; i++) store<u8>(p + <usize>i, <u8>randInt(lo, hi));
}

/** Number of the n bytes at a and b that differ. */
export function countByteDiffs(a: usize, b: usize, n: i32): i32 {
  let bad = 0;
  for (let i = 0; i < n; i++) if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) bad++;
  return bad;
}

/** y[m][n] = Σ_k (a − za)·w + bias[n] (i64, checked to fit i32), y rows ldy i32 apart. */
export function qgemmI32Ref(
  M: i32, N: i32, K: i32, a: usize, lda: i32, aSigned: bool, za: i32, w: usize, bias: usize, y: usize, ldy: i32,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s: i64 = 0;
      for (let k = 0; k < K; k++) s += <i64>(byteAt(a, m * lda + k, aSigned) - za) * <i64>byteAt(w, n * K + k, true);
      if (bias != 0) s += <i64>load<i32>(bias + (<usize>n << 2));
      assert(s >= -2147483648 && s <= 2147483647, 'reference sum exceeds i32');
      store<i32>(y + (<usize>(m * ldy + n) << 2), <i32>s);
    }
  }
}
