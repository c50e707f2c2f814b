// The int8 residual add a producing kernel applies to the bytes it has just stored (issue 18):
// the arithmetic of qadd_q8 (onnxruntime's x86 QLinearAdd rule), kept here once for that kernel
// (qconv.ts) and for the epilogues of qgemm_q8, qdwconv_q8 and qwino_q8, which run it over each
// freshly stored strip of output rows while it is still in cache instead of a separate pass over
// three tensors. The producer first stores its own requantized bytes (the conv's output type and
// zero point), then the add rewrites them in place: the same bytes as the unfused producer →
// _QAdd sequence. Measured (bench/ab.js --int8, one thread, B/A interleaved, loaded 2-core
// machine): resnet50 0.94-1.01 over 7 runs, median 0.98 (its 16 adds took ~5.6 ms of ~99 in the
// profile: mostly the rule's arithmetic), mobilenet_v2 and efficientnet_b0 1.00. That
// arithmetic then went to the plain f32 form where it provably rounds alike (addRun): qadd_q8
// on 800 KB 0.52-0.62x the time at calibrated-looking ratios; resnet50 0.98x, mobilenet_v2 0.99x.
// A byte table (_QLut: efficientnet_b0's 65 SiLU / Sigmoid steps, 1.94 of 17.6 ms) applied the
// same way did not pay: efficientnet_b0 1.011 (the table pass is bound by its three memory
// operations a byte, not by reading its input from beyond L2), so _QLut stays its own step.
// Not exported by index.ts: these helpers are not wasm functions.
import { MAGIC, MAGIC_BITS, narrow16, roundLanes } from './requant';

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
 * QLinearAdd of n bytes, qadd_q8's rule (y may be a or b: each step reads its bytes before it
 * stores them): y[i] = clamp(roundHalfEven(fma(a[i], ra, fma(b[i], rb, fixed))), lo, hi), lo/hi
 * already within the type's range.
 *
 * The exact form (fmaLanes) costs ~9 SIMD instructions a byte. So 16 bytes a step first take
 * the plain f32 form, a multiply and an add each, rounded four times instead of twice: every
 * magnitude on the way is below 2^e (2^e > 255·(|ra| + |rb|) + |fixed|), each rounding is off
 * by at most U = 2^(e−25), and the two forms differ by at most 6U. Where every lane's value is
 * more than 32U = 2^(e−20) from a .5 tie, both round to the same integer; a step with a lane
 * nearer (about 2^(e−19) of the lanes: a step in 50 at ratios near 1, and the ties the
 * twice-rounded form gets wrong are among them) is redone in the exact form. Calls whose
 * values could reach 2^20 take the exact form throughout (the magic-number rounding needs
 * |v| < 2^22).
 */
// @ts-ignore: decorator
@inline export function addRun(a: usize, b: usize, n: i32, signed: i32, ra: f32, rb: f32, fixed: f32, lo: i32, hi: i32, y: usize): void {
  const vra = f64x2.splat(<f64>ra), vrb = f64x2.splat(<f64>rb), vf = f32x4.splat(fixed);
  const flo = <f32>lo, fhi = <f32>hi;
  const vlo = f32x4.splat(flo), vhi = f32x4.splat(fhi), off = i32x4.splat(MAGIC_BITS);
  let i = 0;
  const m = 255.0 * (abs(<f64>ra) + abs(<f64>rb)) + abs(<f64>fixed);
  if (m < 1048576.0) {
    // 2^e > m (with room for the roundings), then the tie margin 32U = 2^(e−20)
    const e = <i32>((reinterpret<u64>(m * 1.0001 + 1.0) >> 52) & 0x7ff) - 1022;
    const near = <f32>(0.5 - reinterpret<f64>(<u64>(e - 20 + 1023) << 52));
    if (signed != 0) i = addFast(true, a, b, n, ra, rb, fixed, lo, hi, near, vra, vrb, vf, vlo, vhi, off, y);
    else i = addFast(false, a, b, n, ra, rb, fixed, lo, hi, near, vra, vrb, vf, vlo, vhi, off, y);
  }
  for (; i + 8 <= n; i += 8) addExact8(a, b, i, signed, vra, vrb, vf, vlo, vhi, off, y);
  for (; i < n; i++) {
    const ai: i32 = signed != 0 ? <i32>load<i8>(a + <usize>i) : <i32>load<u8>(a + <usize>i);
    const bi: i32 = signed != 0 ? <i32>load<i8>(b + <usize>i) : <i32>load<u8>(b + <usize>i);
    let v = <f32>(<f64>ai * <f64>ra + <f64>(<f32>(<f64>bi * <f64>rb + <f64>fixed)));
    v = v < flo ? flo : v;
    v = v > fhi ? fhi : v;
    store<u8>(y + <usize>i, <u8>(reinterpret<i32>(v + 12582912.0) - MAGIC_BITS));
  }
}

/** Bytes i..i+7 of the QLinearAdd in the exact form (two FMAs, each rounded once, in f64). */
// @ts-ignore: decorator
@inline function addExact8(a: usize, b: usize, i: i32, signed: i32, vra: v128, vrb: v128, vf: v128, vlo: v128, vhi: v128, off: v128, y: usize): void {
  const va = v128.load64_zero(a + <usize>i), vb = v128.load64_zero(b + <usize>i);
  const ha = signed != 0 ? i16x8.extend_low_i8x16_s(va) : i16x8.extend_low_i8x16_u(va);
  const hb = signed != 0 ? i16x8.extend_low_i8x16_s(vb) : i16x8.extend_low_i8x16_u(vb);
  const v0 = fmaLanes(i32x4.extend_low_i16x8_s(ha), vra, fmaLanes(i32x4.extend_low_i16x8_s(hb), vrb, vf));
  const v1 = fmaLanes(i32x4.extend_high_i16x8_s(ha), vra, fmaLanes(i32x4.extend_high_i16x8_s(hb), vrb, vf));
  const q0 = roundLanes(f32x4.pmin(f32x4.pmax(v0, vlo), vhi), off);
  const q1 = roundLanes(f32x4.pmin(f32x4.pmax(v1, vlo), vhi), off);
  v128.store64_lane(y + <usize>i, narrow16(q0, q1, q0, q1, signed), 0);
}

/** 4 lanes of the plain f32 form: a·ra + (b·rb + fixed), each operation rounded. */
// @ts-ignore: decorator
@inline function addPlain(a: v128, b: v128, ra: v128, rb: v128, f: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(a), ra), f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(b), rb), f));
}

/**
 * Whether a lane of v (below 2^22) lies within 0.5 − near of a .5 tie, as an all-ones lane;
 * m = v + MAGIC (the magic-number rounding's sum, which the caller also turns into the integer).
 */
// @ts-ignore: decorator
@inline function nearTie(v: v128, m: v128, near: v128): v128 {
  return f32x4.ge(f32x4.abs(f32x4.sub(v, f32x4.sub(m, f32x4.splat(MAGIC)))), near);
}

/**
 * addRun's plain-form steps over whole 16-byte blocks (see addRun); a block with a lane near a
 * tie is redone by addExact8. Returns the bytes done. The clamp to [lo, hi] is on the bytes
 * (saturating narrows, then min/max): rounding commutes with clamping to integer bounds.
 */
// @ts-ignore: decorator
@inline function addFast(
  SIGNED: bool, a: usize, b: usize, n: i32, ra: f32, rb: f32, fixed: f32, lo: i32, hi: i32, near: f32,
  vra: v128, vrb: v128, vf: v128, vlo: v128, vhi: v128, off: v128, y: usize,
): i32 {
  const fra = f32x4.splat(ra), frb = f32x4.splat(rb), vnear = f32x4.splat(near);
  const blo = i8x16.splat(<i8>lo), bhi = i8x16.splat(<i8>hi);
  let i = 0, redo = 0;
  for (; i + 16 <= n; i += 16) {
    const xa = v128.load(a + <usize>i), xb = v128.load(b + <usize>i);
    const la = SIGNED ? i16x8.extend_low_i8x16_s(xa) : i16x8.extend_low_i8x16_u(xa), ha = SIGNED ? i16x8.extend_high_i8x16_s(xa) : i16x8.extend_high_i8x16_u(xa);
    const lb = SIGNED ? i16x8.extend_low_i8x16_s(xb) : i16x8.extend_low_i8x16_u(xb), hb = SIGNED ? i16x8.extend_high_i8x16_s(xb) : i16x8.extend_high_i8x16_u(xb);
    const v0 = addPlain(i32x4.extend_low_i16x8_s(la), i32x4.extend_low_i16x8_s(lb), fra, frb, vf);
    const v1 = addPlain(i32x4.extend_high_i16x8_s(la), i32x4.extend_high_i16x8_s(lb), fra, frb, vf);
    const v2 = addPlain(i32x4.extend_low_i16x8_s(ha), i32x4.extend_low_i16x8_s(hb), fra, frb, vf);
    const v3 = addPlain(i32x4.extend_high_i16x8_s(ha), i32x4.extend_high_i16x8_s(hb), fra, frb, vf);
    const mg = f32x4.splat(MAGIC);
    const m0 = f32x4.add(v0, mg), m1 = f32x4.add(v1, mg), m2 = f32x4.add(v2, mg), m3 = f32x4.add(v3, mg);
    const bad = v128.or(v128.or(nearTie(v0, m0, vnear), nearTie(v1, m1, vnear)), v128.or(nearTie(v2, m2, vnear), nearTie(v3, m3, vnear)));
    if (v128.any_true(bad)) {
      addExact8(a, b, i, SIGNED ? 1 : 0, vra, vrb, vf, vlo, vhi, off, y);
      addExact8(a, b, i + 8, SIGNED ? 1 : 0, vra, vrb, vf, vlo, vhi, off, y);
      // scales in simple ratios (a .5 step, exactly, in every other lane) can make most steps
      // redo: past one in two (where the plain form stops paying) the rest of the call is
      // left to the exact form
      if (++redo << 1 > (i >> 4) + 16) return i + 16;
      continue;
    }
    // (bits of v + MAGIC) − MAGIC_BITS: roundLanes' integer, from the sums taken above
    let q = narrow16(i32x4.sub(m0, off), i32x4.sub(m1, off), i32x4.sub(m2, off), i32x4.sub(m3, off), SIGNED ? 1 : 0);
    q = SIGNED ? i8x16.min_s(i8x16.max_s(q, blo), bhi) : i8x16.min_u(i8x16.max_u(q, blo), bhi);
    v128.store(y + <usize>i, q);
  }
  return i;
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
