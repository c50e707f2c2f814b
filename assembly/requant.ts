// The int8 requantization epilogue shared by every int8 kernel (qgemm.ts, qconv.ts): onnxruntime's
// MlasRequantizeOutput rule, which is also the ONNX QuantizeLinear rule applied to a dequantized
// i32 accumulator (qgemm.ts's header derives it and explains the magic-number rounding):
//   v = f32(acc) · scale;  v = clamp(v, lo − zy, hi − zy);  y = roundHalfEven(v) + zy
// Kept here, not in an exported kernel file, so that assembly/index.ts's `export *` does not
// export these v128 helpers as wasm functions.

/** 1.5·2^23: adding it to |v| < 2^22 leaves round-half-even(v) in the low mantissa bits. */
export const MAGIC: f32 = 12582912.0;
/** The bits of MAGIC as an f32: (bits of v + MAGIC) − MAGIC_BITS is roundHalfEven(v). */
export const MAGIC_BITS: i32 = 0x4b400000;

/**
 * Requantizes 4 exact i32 accumulators: f32(acc) · s, clamped to [lo, hi] (f32 lanes holding
 * the output bounds minus zy), rounded half to even, plus zy (off = splat(MAGIC_BITS − zy)).
 */
// @ts-ignore: decorator
@inline export function requantLanes(acc: v128, s: v128, lo: v128, hi: v128, off: v128): v128 {
  let v = f32x4.mul(f32x4.convert_i32x4_s(acc), s);
  v = f32x4.pmin(f32x4.pmax(v, lo), hi);
  return i32x4.sub(f32x4.add(v, f32x4.splat(MAGIC)), off);
}

/** Rounds 4 f32 lanes already clamped to |v| < 2^22 half to even, minus (off − MAGIC_BITS). */
// @ts-ignore: decorator
@inline export function roundLanes(v: v128, off: v128): v128 {
  return i32x4.sub(f32x4.add(v, f32x4.splat(MAGIC)), off);
}

/** Narrows 16 i32 lanes (already within the output type's range) to 16 bytes. */
// @ts-ignore: decorator
@inline export function narrow16(q0: v128, q1: v128, q2: v128, q3: v128, ySigned: i32): v128 {
  const h0 = i16x8.narrow_i32x4_s(q0, q1), h1 = i16x8.narrow_i32x4_s(q2, q3);
  return ySigned != 0 ? i8x16.narrow_i16x8_s(h0, h1) : i8x16.narrow_i16x8_u(h0, h1);
}

/** Stores the first n (1..16) bytes of v at p, nothing past them. */
// @ts-ignore: decorator
@inline export function storeBytes(p: usize, v: v128, n: i32): void {
  if (n == 16) {
    v128.store(p, v);
    return;
  }
  if (n >= 8) {
    v128.store64_lane(p, v, 0);
    let hi = i64x2.extract_lane(v, 1);
    for (let j = 8; j < n; j++) {
      store<u8>(p + <usize>j, <u8>hi);
      hi >>= 8;
    }
  } else {
    let lo = i64x2.extract_lane(v, 0);
    for (let j = 0; j < n; j++) {
      store<u8>(p + <usize>j, <u8>lo);
      lo >>= 8;
    }
  }
}

/** The first n (0..8) bytes at p in the low 8 bytes of a vector (the rest zero), nothing past them read. */
// @ts-ignore: decorator
@inline export function loadBytes8(p: usize, n: i32): v128 {
  if (n >= 8) return v128.load64_zero(p);
  let v: i64 = 0;
  for (let j = 0; j < n; j++) v |= <i64>load<u8>(p + <usize>j) << (<i64>j << 3);
  return i64x2.replace_lane(i64x2.splat(0), 0, v);
}

/**
 * Whether every accumulator of columns (channels) n0..n0+N-1 times its scale is below 2^22 in
 * magnitude, so the magic-number rounding is exact without a float clamp first (qgemm.ts's
 * EPI_CLAMP, qconv.ts's depthwise): |Σ_k (a − za)·w + bias| ≤ K·255·128 + max|bias| over a
 * depth of K products. bias: i32 [n0 + N] or 0; scale: f32 [n0 + N] when perChannel, else one.
 * A NaN or infinite scale fails the test.
 */
export function bounded(K: i32, bias: usize, scale: usize, perChannel: i32, n0: i32, N: i32): bool {
  let s: f32 = 0, b: f64 = 0;
  const count = perChannel != 0 ? N : 1, first = perChannel != 0 ? n0 : 0;
  for (let i = 0; i < count; i++) s = max(s, abs(load<f32>(scale + (<usize>(first + i) << 2))));
  if (bias != 0) for (let i = 0; i < N; i++) b = max(b, abs(<f64>load<i32>(bias + (<usize>(n0 + i) << 2))));
  return (<f64>K * 32640.0 + b) * <f64>s < 4194304.0;
}
