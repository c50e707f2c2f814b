// Helpers shared by the window kernels (conv, depthwise, pooling, unpooling, resize,
// transposed and deformable conv): reading the geometry block, clipping a tap range to the
// input, loading/storing the 1-3 channel tail of a row without touching memory past it, and
// copying or zeroing runs of floats (im2col rows).

/** Field `f` (a G_* offset of codes.ts) of the geometry block at `g`. */
// @ts-ignore: decorator
@inline export function geo(g: usize, f: i32): i32 {
  return load<i32>(g + (<usize>f << 2));
}

/** First of K taps spaced D apart starting at input index i0 that lands at or after 0. */
// @ts-ignore: decorator
@inline export function tapLo(i0: i32, D: i32): i32 {
  return i0 >= 0 ? 0 : (D - 1 - i0) / D;
}

/** One past the last of K taps spaced D apart starting at i0 that lands before `size`. */
// @ts-ignore: decorator
@inline export function tapHi(i0: i32, D: i32, K: i32, size: i32): i32 {
  if (i0 >= size) return 0;
  const n = (size - i0 + D - 1) / D;
  return n < K ? n : K;
}

/**
 * Interior outputs along one axis (every tap of the window inside the input): from
 * interiorLo(P, S) up to interiorHi(...). Window o starts at o·S - P; its K taps, D apart, must
 * land in [0, size). interiorHi never returns less than lo, so lo >= hi means none.
 */
// @ts-ignore: decorator
@inline export function interiorLo(P: i32, S: i32): i32 {
  return (P + S - 1) / S;
}

// @ts-ignore: decorator
@inline export function interiorHi(size: i32, P: i32, K: i32, D: i32, S: i32, O: i32, lo: i32): i32 {
  const last = size - 1 + P - (K - 1) * D; // the last window start inside, plus the pad
  return last < 0 ? lo : max(lo, min(O, last / S + 1));
}

/** Loads the first n (1..3) floats at p into the low lanes; the rest are zero. */
// @ts-ignore: decorator
@inline export function loadPart(p: usize, n: i32): v128 {
  if (n == 1) return v128.load32_zero(p);
  if (n == 2) return v128.load64_zero(p);
  return v128.load32_lane(p + 8, v128.load64_zero(p), 2);
}

/** Stores the low n (1..3) lanes of v at p, nothing past them. */
// @ts-ignore: decorator
@inline export function storePart(p: usize, v: v128, n: i32): void {
  if (n == 1) {
    v128.store32_lane(p, v, 0);
  } else {
    v128.store64_lane(p, v, 0);
    if (n == 3) v128.store32_lane(p + 8, v, 2);
  }
}

/** The first n (1..4) floats at p; lanes past n are zero. */
// @ts-ignore: decorator
@inline export function loadLanes(p: usize, n: i32): v128 {
  return n == 4 ? v128.load(p) : loadPart(p, n);
}

/** Stores the first n (1..4) lanes of v at p, nothing past them. */
// @ts-ignore: decorator
@inline export function storeLanes(p: usize, v: v128, n: i32): void {
  if (n == 4) v128.store(p, v);
  else storePart(p, v, n);
}

/** dst[0..n) = src[0..n), four floats at a time. */
// @ts-ignore: decorator
@inline export function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** dst[0..n) = 0. */
// @ts-ignore: decorator
@inline export function zeroFloats(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), z);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

/**
 * acc + a·b. The `relaxed` build (--enable relaxed-simd, dist/wasmcnn-relaxed.wasm) uses one
 * f32x4.relaxed_madd (a fused multiply-add where the CPU has one: rounding differs from mul+add
 * in the last bit); the baseline build never sees the relaxed branch (compile-time constant).
 * Every f32 kernel whose sums must equal the GEMM's bits (conv.ts's one-channel path) uses it.
 */
// @ts-ignore: decorator
@inline export function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/**
 * Bytes between matrices a kernel walks one cache line of each at a time (the Winograd
 * positions' V and M): at least `bytes`, an odd number of 64-byte lines. With a power-of-two
 * stride those lines share a few L1 sets of 8 ways and evict each other: float F(4x4) at 16
 * tiles x 64 channels or 8 x 128 (4 KiB apart) ran 56x56 64->32 and 128->24 at 1.75-2x the time
 * of the odd stride (densenet121 whole model 0.88x, resnet50 unchanged).
 */
// @ts-ignore: decorator
@inline export function lineStride(bytes: i32): i32 {
  const lines = (bytes + 63) >> 6;
  return (lines | 1) << 6;
}
