// The int8 residual add a producing kernel applies to the bytes it has just stored (issue 18):
// the arithmetic of qadd_q8 (onnxruntime's x86 QLinearAdd rule), kept here once for that kernel
// (qconv.ts) and for the epilogues of qgemm_q8, qdwconv_q8 and qwino_q8, which run it over each
// freshly stored strip of output rows while it is still in cache instead of a separate pass over
// three tensors. The producer first stores its own requantized bytes (the conv's output type and
// zero point), then the add rewrites them in place: the same bytes as the unfused producer →
// _QAdd sequence. Measured (bench/ab.js --int8, one thread, B/A interleaved, loaded 2-core
// machine): resnet50 0.94-1.01 over 7 runs, median 0.98 (its 16 adds took ~5.6 ms of ~99 in the
// profile: mostly the rule's arithmetic, which stays), mobilenet_v2 and efficientnet_b0 1.00.
// A byte table (_QLut: efficientnet_b0's 65 SiLU / Sigmoid steps, 1.94 of 17.6 ms) applied the
// same way did not pay: efficientnet_b0 1.011 (the table pass is bound by its three memory
// operations a byte, not by reading its input from beyond L2), so _QLut stays its own step.
// Not exported by index.ts: these helpers are not wasm functions.
import { MAGIC_BITS, narrow16, roundLanes } from './requant';

/** Post-step kinds (word 0 of a post block): QLinearAdd with the producer's bytes as operand a. */
export const POST_ADD_A: i32 = 1;
/** QLinearAdd with the producer's bytes as operand b. */
export const POST_ADD_B: i32 = 2;

// A post block (the host writes it at plan time; 0 for none), 32 bytes:
//   i32 kind; i32 the other operand's offset from the output (other − y, wrapping: the two have
//   one layout); i32 signed; f32 ra; f32 rb; f32 fixed; i32 lo; i32 hi (as qadd_q8 takes them).

/**
 * fma(x, r, c) on 4 lanes (x: i32x4 of 8-bit values, r: f64x2 splat, c: f32x4), each rounded once
 * to f32: the products and sums are exact in f64 (see qadd_q8).
 */
// @ts-ignore: decorator
@inline function fmaLanes(x: v128, r: v128, c: v128): v128 {
  const xh = i8x16.shuffle(x, x, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  const ch = i8x16.shuffle(c, c, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  const lo = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(x), r), f64x2.promote_low_f32x4(c)));
  const hi = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(xh), r), f64x2.promote_low_f32x4(ch)));
  return i8x16.shuffle(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

/**
 * QLinearAdd of n bytes, qadd_q8's rule (y may be a or b: each step reads its 8 bytes before it
 * stores them): y[i] = clamp(roundHalfEven(fma(a[i], ra, fma(b[i], rb, fixed))), lo, hi), lo/hi
 * already within the type's range.
 */
// @ts-ignore: decorator
@inline export function addRun(a: usize, b: usize, n: i32, signed: i32, ra: f32, rb: f32, fixed: f32, lo: i32, hi: i32, y: usize): void {
  const vra = f64x2.splat(<f64>ra), vrb = f64x2.splat(<f64>rb), vf = f32x4.splat(fixed);
  const flo = <f32>lo, fhi = <f32>hi;
  const vlo = f32x4.splat(flo), vhi = f32x4.splat(fhi), off = i32x4.splat(MAGIC_BITS);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const va = v128.load64_zero(a + <usize>i), vb = v128.load64_zero(b + <usize>i);
    const ha = signed != 0 ? i16x8.extend_low_i8x16_s(va) : i16x8.extend_low_i8x16_u(va);
    const hb = signed != 0 ? i16x8.extend_low_i8x16_s(vb) : i16x8.extend_low_i8x16_u(vb);
    const v0 = fmaLanes(i32x4.extend_low_i16x8_s(ha), vra, fmaLanes(i32x4.extend_low_i16x8_s(hb), vrb, vf));
    const v1 = fmaLanes(i32x4.extend_high_i16x8_s(ha), vra, fmaLanes(i32x4.extend_high_i16x8_s(hb), vrb, vf));
    const q0 = roundLanes(f32x4.pmin(f32x4.pmax(v0, vlo), vhi), off);
    const q1 = roundLanes(f32x4.pmin(f32x4.pmax(v1, vlo), vhi), off);
    v128.store64_lane(y + <usize>i, narrow16(q0, q1, q0, q1, signed), 0);
  }
  for (; i < n; i++) {
    const ai: i32 = signed != 0 ? <i32>load<i8>(a + <usize>i) : <i32>load<u8>(a + <usize>i);
    const bi: i32 = signed != 0 ? <i32>load<i8>(b + <usize>i) : <i32>load<u8>(b + <usize>i);
    let v = <f32>(<f64>ai * <f64>ra + <f64>(<f32>(<f64>bi * <f64>rb + <f64>fixed)));
    v = v < flo ? flo : v;
    v = v > fhi ? fhi : v;
    store<u8>(y + <usize>i, <u8>(reinterpret<i32>(v + 12582912.0) - MAGIC_BITS));
  }
}

/** qadd_q8's bounds: lo/hi cut to the type's range. */
// @ts-ignore: decorator
@inline export function addLo(lo: i32, signed: i32): i32 {
  return max(lo, signed != 0 ? -128 : 0);
}
// @ts-ignore: decorator
@inline export function addHi(hi: i32, signed: i32): i32 {
  return min(hi, signed != 0 ? 127 : 255);
}

/**
 * Applies the post step at `post` (a post block; 0: none) in place to `rows` runs of n bytes,
 * the first at p, ld bytes apart (runs that touch are taken as one). Not inlined: the producers
 * call it once per strip of rows, and their main loops stay as they were.
 */
export function applyPost(post: usize, p: usize, ld: usize, rows: i32, n: i32): void {
  if (post == 0 || rows <= 0 || n <= 0) return;
  if (<usize>n == ld) {
    n *= rows;
    rows = 1;
  }
  const kind = load<i32>(post), arg = load<i32>(post, 4);
  const signed = load<i32>(post, 8);
  const ra = load<f32>(post, 12), rb = load<f32>(post, 16), fixed = load<f32>(post, 20);
  const lo = addLo(load<i32>(post, 24), signed), hi = addHi(load<i32>(post, 28), signed);
  for (let r = 0; r < rows; r++) {
    const y = p + <usize>r * ld, o = y + <usize>arg;
    if (kind == POST_ADD_A) addRun(y, o, n, signed, ra, rb, fixed, lo, hi, y);
    else addRun(o, y, n, signed, ra, rb, fixed, lo, hi, y);
  }
}
