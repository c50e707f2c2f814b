// Scalar references for the GEMM family (gemm.ts): plain loops, accumulating in the kernel's
// order (bias, then k = 0..K-1, then residual, then activation), so results match closely.
// Also the helpers the specs share: buffer access (at, ld), random fills, the test arena,
// comparisons and failure reporting (fail, check), SPLITS.
import { ACT_RELU, ACT_CLAMP, ACT_SILU, ACT_GELU_TANH, ACT_HARDSWISH, ACT_SIGMOID } from '../codes';

/** Address of float (or i32) i of the buffer at p. */
// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}
/** Float i of the buffer at p. */
// @ts-ignore: decorator
@inline export function ld(p: usize, i: i32): f32 {
  return load<f32>(at(p, i));
}

export function applyAct(x: f32, act: i32, p0: f32, p1: f32): f32 {
  if (act == ACT_RELU) return x < 0 ? 0 : x;
  if (act == ACT_CLAMP) return x < p0 ? p0 : x > p1 ? p1 : x;
  // activations the epilogue applies after the store (formulas from codes.ts, in f64)
  const d = <f64>x;
  if (act == ACT_SIGMOID) return <f32>(1 / (1 + Math.exp(-d)));
  if (act == ACT_SILU) return <f32>(d / (1 + Math.exp(-d)));
  if (act == ACT_HARDSWISH) return <f32>(d * Math.min(Math.max(d / 6 + 0.5, 0), 1));
  if (act == ACT_GELU_TANH) return <f32>(0.5 * d * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (d + 0.044715 * d * d * d))));
  return x;
}

/** C = act(A·Wᵀ + bias + R) with w [N][K] (row stride ldw), bias [N] or 0, res or 0. */
export function gemmRef(
  M: i32, N: i32, K: i32, a: usize, lda: i32, w: usize, ldw: i32, bias: usize,
  c: usize, ldc: i32, res: usize, ldr: i32, act: i32, p0: f32, p1: f32,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s: f32 = bias != 0 ? load<f32>(at(bias, n)) : 0;
      for (let k = 0; k < K; k++) s += load<f32>(at(a, m * lda + k)) * load<f32>(at(w, n * ldw + k));
      if (res != 0) s += load<f32>(at(res, m * ldr + n));
      store<f32>(at(c, m * ldc + n), applyAct(s, act, p0, p1));
    }
  }
}

/** C = A·B with B row-major [K][N] (row stride ldb). */
export function matmulRef(M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s: f32 = 0;
      for (let k = 0; k < K; k++) s += load<f32>(at(a, m * lda + k)) * load<f32>(at(b, k * ldb + n));
      store<f32>(at(c, m * ldc + n), s);
    }
  }
}

let seed: u32 = 12345;
/** Fills n floats with deterministic pseudo-random values in [-1, 1). */
export function fillRandom(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    store<f32>(at(p, i), <f32>(<f64>seed / 2147483648.0 - 1.0));
  }
}

export function fill(p: usize, n: i32, v: f32): void {
  for (let i = 0; i < n; i++) store<f32>(at(p, i), v);
}

/** dst[0..n) = src[0..n) (floats). */
export function copy(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

/** |got - want| <= tol·(scale + |want|): a gradient against its finite-difference estimate. */
export function near(got: f64, want: f64, tol: f64, scale: f64): bool {
  return Math.abs(got - want) <= tol * (scale + Math.abs(want));
}

/** Number of the n floats at got that differ from ref by more than 1e-5·(1 + |ref|). */
export function countMismatches(got: usize, ref: usize, n: i32): i32 {
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const r = load<f32>(at(ref, i)), x = load<f32>(at(got, i));
    if (!(Mathf.abs(x - r) <= 1e-5 * (1 + Mathf.abs(r)))) bad++;
  }
  return bad;
}

/** Number of the n floats at a and b whose bits differ (split-vs-whole checks: must be exact). */
export function countBitDiffs(a: usize, b: usize, n: i32): i32 {
  let bad = 0;
  for (let i = 0; i < n; i++) if (load<u32>(at(a, i)) != load<u32>(at(b, i))) bad++;
  return bad;
}

// A spec's comparisons record what they found wrong with fail(); check(bad) reports the last
// message recorded when bad != 0 (comparisons record only their first difference).
let lastError: string = '';

/** Records msg as the failure check() reports. */
export function fail(msg: string): void {
  lastError = msg;
}

/** Expects bad == 0; otherwise traces the recorded failure and fails the test with it. */
export function check(bad: i32): void {
  if (bad != 0) trace(lastError);
  expect<i32>(bad).toBe(0, lastError);
}

/** Number of the n words at got and want whose bits differ; records the first (as f32 and as i32). */
export function bitDiffs(got: usize, want: usize, n: i32, what: string): i32 {
  let bad = 0;
  for (let i = 0; i < n; i++) {
    if (load<u32>(at(got, i)) != load<u32>(at(want, i))) {
      if (bad == 0) fail(`${what}: word ${i} got ${ld(got, i)} (${load<i32>(at(got, i))}) want ${ld(want, i)} (${load<i32>(at(want, i))})`);
      bad++;
    }
  }
  return bad;
}

/** Thread counts every parallel kernel's pieces are checked at (run one after another here). */
export const SPLITS: i32[] = [2, 3, 5];

// Test buffers come from one unmanaged block (heap.alloc: the GC never moves or frees it),
// handed out by a bump pointer that each case resets.
const ARENA_BYTES: usize = 8 << 20;
let arena: usize = 0;
let arenaTop: usize = 0;

/** Forgets every buffer handed out so far. */
export function resetArena(): void {
  if (arena == 0) arena = heap.alloc(ARENA_BYTES);
  arenaTop = arena;
}

/** A zeroed, 16-byte aligned buffer of n floats; returns its address. */
export function floats(n: i32): usize {
  if (arena == 0) resetArena();
  const p = (arenaTop + 15) & ~15;
  const bytes = <usize>max(n, 1) << 2;
  assert(p + bytes <= arena + ARENA_BYTES, 'test arena exhausted');
  memory.fill(p, 0, bytes);
  arenaTop = p + bytes;
  return p;
}

/**
 * IEEE binary16 bits → f32 from the format's definition (sign, 5-bit exponent biased by 15,
 * 10-bit fraction): ±m·2^-24 for exponent 0, ±(1024 + m)·2^(e-25) otherwise, computed in f64
 * (exact) and rounded to f32 (exact: every finite half is an f32). Exponent 31 is not finite.
 */
export function halfToF32Ref(h: i32): f32 {
  const e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const v: f64 = e == 0 ? <f64>m * Math.pow(2, -24) : <f64>(1024 + m) * Math.pow(2, <f64>(e - 25));
  return <f32>((h & 0x8000) != 0 ? -v : v);
}

/** A pseudo-random finite half: random sign and fraction, exponent 0..maxExp (0: subnormal or zero). */
export function randomHalf(maxExp: i32): i32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  const e = <i32>((seed >> 11) % <u32>(maxExp + 1));
  return (<i32>(seed >> 31) << 15) | (e << 10) | <i32>(seed & 0x3ff);
}

/**
 * Writes the half-stored GEMM panels (gemm.ts's header) from half bits h ([N][K] u16, row
 * stride K) and bias ([N] f32 or 0): per 8 columns, 8 f32 bias then K rows of 8 u16; columns
 * past N zero. Plain loops over the documented layout, independent of the host's packer.
 */
export function packHalfRef(h: usize, N: i32, K: i32, bias: usize, dst: usize): void {
  const panels = (N + 7) / 8;
  for (let p = 0; p < panels; p++) {
    const panel = dst + <usize>p * <usize>(32 + 16 * K);
    for (let j = 0; j < 8; j++) {
      const n = p * 8 + j;
      store<f32>(panel + (<usize>j << 2), n < N && bias != 0 ? load<f32>(at(bias, n)) : 0);
      for (let k = 0; k < K; k++) store<u16>(panel + 32 + (<usize>(k * 8 + j) << 1), n < N ? load<u16>(h + (<usize>(n * K + k) << 1)) : 0);
    }
  }
}

/** The binary16 bits of an f32 that is exactly a finite half (a value halfToF32Ref gave). */
export function halfBitsExact(v: f32): i32 {
  const b = reinterpret<u32>(v);
  const sign = <i32>(b >> 16) & 0x8000;
  const a = Mathf.abs(v);
  if (a < 6.103515625e-5) return sign | <i32>(a * 16777216.0); // subnormal or zero: m·2^-24
  return sign | ((<i32>((b >> 23) & 0xff) - 112) << 10) | <i32>((b >> 13) & 0x3ff);
}

/** gemm_pack-layout f32 panels (count of them, K deep) whose weights are exact halves, as half-stored panels. */
export function narrowPanelsRef(src: usize, count: i32, K: i32, dst: usize): void {
  for (let p = 0; p < count; p++) {
    const s = src + <usize>p * <usize>(32 * (K + 1)), d = dst + <usize>p * <usize>(32 + 16 * K);
    for (let j = 0; j < 8; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + (<usize>j << 2)));
    for (let i = 0; i < 8 * K; i++) store<u16>(d + 32 + (<usize>i << 1), <u16>halfBitsExact(load<f32>(s + 32 + (<usize>i << 2))));
  }
}
