// Vector (f32x4) approximations of exp, expm1, log, log1p, sigmoid, tanh, erf/erfc shared by
// the element-wise kernels. Internal to the kernels (not exported from index.ts).
//
// Sources of the approximations (math facts and published coefficients, code written here):
// - exp / expm1: Cody & Waite argument reduction (W. J. Cody, W. Waite, "Software Manual for
//   the Elementary Functions", 1980): x = n ln2 + r, |r| <= ln2/2, ln2 split in a short exact
//   head 0.693359375 and a tail -2.12194440e-4; e^r = 1 + r + r^2 P(r) with the degree-5
//   minimax polynomial P of the Cephes Math Library expf.c (S. L. Moshier, 1984-1992).
//   The scale 2^n is applied as two exact powers of two so that subnormal results round once.
// - log: mantissa in [sqrt(1/2), sqrt 2), log(1+f) = f - f^2/2 + f^3 Q(f) with the degree-8
//   polynomial Q of Cephes logf.c; log1p via the Goldberg/Kahan trick
//   log1p(x) = log(u) * x / (u - 1), u = 1 + x (D. Goldberg, "What every computer scientist
//   should know about floating-point arithmetic", 1991, Theorem 4).
// - tanh: |x| < 0.625: x + x^3 T(x^2) with the Cephes tanhf.c odd polynomial (no cancellation
//   near 0); otherwise (1 - e)/(1 + e) with e = exp(-2|x|), sign restored.
// - sigmoid: e = exp(-|x|), 1/(1+e) for x >= 0 and e/(1+e) for x < 0 (no overflow, correct
//   subnormal tail).
// - erf: |x| < 1: x P(x^2), P a degree-6 polynomial fitted here (iterated weighted least
//   squares on Chebyshev nodes against erf(x)/x, relative fit error 1.2e-9 on [0, 1]);
//   |x| >= 1: erf = 1 - erfc, erfc from the Chebyshev-fitted formula of Numerical Recipes
//   (Press et al., "Numerical Recipes in C", 2nd ed., sec. 6.2, erfcc: fractional error
//   < 1.2e-7 everywhere): erfc(z) = t exp(-z^2 - 1.26551223 + t(1.00002368 + ...)),
//   t = 1/(1 + z/2). vphiFast (GELU's Phi): a rational u P(u^2) / Q(u^2) fitted by tools/fit_erf.py.
// Special values: NaN propagates; exp(+-Inf) = Inf/0; log(0) = -Inf, log(<0) = NaN;
// sigmoid/tanh/erf saturate exactly to their limits.

// ---- exp ----
// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// 1.5 * 2^23: adding it rounds |v| < 2^22 to an integer held in the low mantissa bits
// @ts-ignore: decorator
@inline const SHIFTER: f32 = 12582912.0;
// @ts-ignore: decorator
@inline const SHIFTER_BITS: i32 = 0x4b400000;
// Cephes expf.c polynomial: e^r ~ 1 + r + r^2 (((((P0 r + P1) r + P2) r + P3) r + P4) r + P5)
// @ts-ignore: decorator
@inline const EXP_P0: f32 = 1.9875691500e-4;
// @ts-ignore: decorator
@inline const EXP_P1: f32 = 1.3981999507e-3;
// @ts-ignore: decorator
@inline const EXP_P2: f32 = 8.3334519073e-3;
// @ts-ignore: decorator
@inline const EXP_P3: f32 = 4.1665795894e-2;
// @ts-ignore: decorator
@inline const EXP_P4: f32 = 1.6666665459e-1;
// @ts-ignore: decorator
@inline const EXP_P5: f32 = 5.0000001201e-1;

/** e^r - 1 for |r| <= ln2/2 (no cancellation): r + r^2 P(r). */
// @ts-ignore: decorator
@inline function expm1Reduced(r: v128): v128 {
  let p = f32x4.add(f32x4.mul(f32x4.splat(EXP_P0), r), f32x4.splat(EXP_P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P5));
  return f32x4.add(f32x4.mul(f32x4.mul(r, r), p), r);
}

/**
 * e^r · 2^n (vexp, vexpHL) for the reduced argument r, n the integer the shifter sum t holds in
 * its low mantissa bits (n in [-150, 129]): 2^n is applied as 2^n1 · 2^n2, both normal floats
 * (n1, n2 in [-75, 65]), so p · 2^n1 is exact and · 2^n2 rounds once.
 */
// @ts-ignore: decorator
@inline function expScaled(r: v128, t: v128): v128 {
  const p = f32x4.add(expm1Reduced(r), f32x4.splat(1.0));
  const n = i32x4.sub(t, i32x4.splat(SHIFTER_BITS));
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** e^x per lane; ~1 ulp over the whole range, overflow to +Inf above ~88.72, 0 below ~-103.97. */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  // Clamp keeps n in [-150, 129]; NaN survives min/max (wasm fmin/fmax propagate NaN).
  // pmax/pmin with x first keep NaN (and are single instructions, unlike max/min in V8)
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-104.0)), f32x4.splat(89.0));
  // round to nearest via the 1.5 * 2^23 shifter: n sits in the low mantissa bits of t
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(SHIFTER));
  const fn = f32x4.sub(t, f32x4.splat(SHIFTER));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(fn, f32x4.splat(LN2_HI))), f32x4.mul(fn, f32x4.splat(LN2_LO)));
  return expScaled(r, t);
}

/** e^(hi + lo) per lane for an exact head hi and a small tail lo (|lo| << 1). */
// @ts-ignore: decorator
@inline export function vexpHL(hi: v128, lo: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(f32x4.add(hi, lo), f32x4.splat(-104.0)), f32x4.splat(89.0));
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(SHIFTER));
  const fn = f32x4.sub(t, f32x4.splat(SHIFTER));
  const hc = f32x4.pmin(f32x4.pmax(hi, f32x4.splat(-120.0)), f32x4.splat(120.0));
  let r = f32x4.add(f32x4.sub(hc, f32x4.mul(fn, f32x4.splat(LN2_HI))), lo);
  r = f32x4.sub(r, f32x4.mul(fn, f32x4.splat(LN2_LO)));
  r = f32x4.pmin(f32x4.pmax(r, f32x4.splat(-0.5)), f32x4.splat(0.5)); // only bites when clamped
  return expScaled(r, t);
}

/** e^x - 1 per lane, accurate near 0 (no cancellation); ~1-2 ulp. */
// @ts-ignore: decorator
@inline export function vexpm1(x: v128): v128 {
  // Clamped to [-30, 80]: expm1(-30) rounds to -1; above 80 the plain exp path takes over.
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-30.0)), f32x4.splat(80.0));
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(SHIFTER));
  const fn = f32x4.sub(t, f32x4.splat(SHIFTER));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(fn, f32x4.splat(LN2_HI))), f32x4.mul(fn, f32x4.splat(LN2_LO)));
  const q = expm1Reduced(r);
  const s = i32x4.shl(i32x4.add(i32x4.sub(t, i32x4.splat(SHIFTER_BITS)), i32x4.splat(127)), 23); // 2^n, n in [-44, 116]
  // e^x - 1 = 2^n (e^r - 1) + (2^n - 1); 2^n - 1 is exact for the n that matter (|n| <= 24).
  let res = f32x4.add(f32x4.mul(s, q), f32x4.sub(s, f32x4.splat(1.0)));
  const big = f32x4.gt(x, f32x4.splat(80.0));
  if (v128.any_true(big)) res = v128.bitselect(vexp(x), res, big);
  return res;
}

// ---- log ----
// Cephes logf.c polynomial Q (highest degree first)
// @ts-ignore: decorator
@inline const LOG_Q0: f32 = 7.0376836292e-2;
// @ts-ignore: decorator
@inline const LOG_Q1: f32 = -1.1514610310e-1;
// @ts-ignore: decorator
@inline const LOG_Q2: f32 = 1.1676998740e-1;
// @ts-ignore: decorator
@inline const LOG_Q3: f32 = -1.2420140846e-1;
// @ts-ignore: decorator
@inline const LOG_Q4: f32 = 1.4249322787e-1;
// @ts-ignore: decorator
@inline const LOG_Q5: f32 = -1.6668057665e-1;
// @ts-ignore: decorator
@inline const LOG_Q6: f32 = 2.0000714765e-1;
// @ts-ignore: decorator
@inline const LOG_Q7: f32 = -2.4999993993e-1;
// @ts-ignore: decorator
@inline const LOG_Q8: f32 = 3.3333331174e-1;

/** Natural log per lane; ~1 ulp; log(0) = -Inf, log(x<0) = NaN, log(Inf) = Inf, subnormals ok. */
// @ts-ignore: decorator
@inline export function vlog(x: v128): v128 {
  // Scale subnormals up by 2^25 so the exponent field is meaningful.
  const sub = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(33554432.0)), x, sub);
  const bits = xs;
  // exponent such that m = mantissa in [0.5, 1)
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126));
  e = i32x4.sub(e, v128.and(sub, i32x4.splat(25)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  // m < sqrt(1/2): e -= 1, f = 2m - 1; else f = m - 1
  const lo = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = i32x4.add(e, lo); // lo lanes are -1
  m = f32x4.add(m, v128.and(lo, m));
  const f = f32x4.sub(m, f32x4.splat(1.0));
  const fe = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(f, f);
  let q = f32x4.add(f32x4.mul(f32x4.splat(LOG_Q0), f), f32x4.splat(LOG_Q1));
  q = f32x4.add(f32x4.mul(q, f), f32x4.splat(LOG_Q2));
  q = f32x4.add(f32x4.mul(q, f), f32x4.splat(LOG_Q3));
  q = f32x4.add(f32x4.mul(q, f), f32x4.splat(LOG_Q4));
  q = f32x4.add(f32x4.mul(q, f), f32x4.splat(LOG_Q5));
  q = f32x4.add(f32x4.mul(q, f), f32x4.splat(LOG_Q6));
  q = f32x4.add(f32x4.mul(q, f), f32x4.splat(LOG_Q7));
  q = f32x4.add(f32x4.mul(q, f), f32x4.splat(LOG_Q8));
  let y = f32x4.mul(f32x4.mul(f, z), q);
  y = f32x4.add(y, f32x4.mul(fe, f32x4.splat(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  let r = f32x4.add(f32x4.add(f, y), f32x4.mul(fe, f32x4.splat(LN2_HI)));
  // special values
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0.0)));
  r = v128.bitselect(x, r, f32x4.eq(x, f32x4.splat(Infinity)));
  r = v128.bitselect(f32x4.splat(NaN), r, v128.not(f32x4.ge(x, f32x4.splat(0.0)))); // x < 0 or NaN
  return r;
}

/** log(1 + x) per lane, accurate for tiny x (Goldberg's trick). */
// @ts-ignore: decorator
@inline export function vlog1p(x: v128): v128 {
  const u = f32x4.add(x, f32x4.splat(1.0));
  const d = f32x4.sub(u, f32x4.splat(1.0));
  const l = vlog(u);
  // u == 1: log1p(x) = x; u == Inf: Inf (d is Inf, keep l)
  const corr = f32x4.mul(l, f32x4.div(x, d));
  let r = v128.bitselect(x, corr, f32x4.eq(d, f32x4.splat(0.0)));
  r = v128.bitselect(l, r, f32x4.eq(u, f32x4.splat(Infinity)));
  return r;
}

// ---- sigmoid / tanh ----
/** 1 / (1 + e^-x) per lane; exact limits 0 and 1, correct tiny tail for x < 0. */
// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  const e = vexp(f32x4.neg(f32x4.abs(x)));
  const num = v128.bitselect(e, f32x4.splat(1.0), f32x4.lt(x, f32x4.splat(0.0)));
  return f32x4.div(num, f32x4.add(e, f32x4.splat(1.0)));
}

/**
 * 1 / (1 + e^-x) per lane for activations (SiLU): relative error ~2e-7 (spec: 2e-6), fewer
 * instructions than vsigmoid. e^-|x| is computed on [-87, 0], where 2^n is one normal float
 * (no two-step scaling), with Cephes' polynomial without its r^7 term; for x <= -87 the result
 * is 0 (the true value is below 1.7e-38). NaN propagates.
 */
// @ts-ignore: decorator
@inline export function vsigmoidAct(x: v128): v128 {
  // -|x| clamped to [-87, 0]; pmax keeps NaN (its comparison fails)
  const a = f32x4.pmax(v128.or(x, f32x4.splat(-0.0)), f32x4.splat(-87.0));
  const t = f32x4.add(f32x4.mul(a, f32x4.splat(LOG2E)), f32x4.splat(SHIFTER));
  const fn = f32x4.sub(t, f32x4.splat(SHIFTER));
  const r = f32x4.sub(f32x4.sub(a, f32x4.mul(fn, f32x4.splat(LN2_HI))), f32x4.mul(fn, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(EXP_P1), r), f32x4.splat(EXP_P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P5));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(r, r), p), r), f32x4.splat(1.0));
  // 2^n as bits: (n + 127) << 23 with n = bits(t) - bits(SHIFTER), n in [-126, 0]
  let e = f32x4.mul(p, i32x4.shl(i32x4.sub(t, i32x4.splat(SHIFTER_BITS - 127)), 23));
  e = v128.andnot(e, f32x4.le(a, f32x4.splat(-87.0))); // the clamped tail is 0 (SiLU(-Inf) = NaN as in PyTorch)
  const num = v128.bitselect(e, f32x4.splat(1.0), f32x4.lt(x, f32x4.splat(0.0)));
  return f32x4.div(num, f32x4.add(e, f32x4.splat(1.0)));
}

// Cephes tanhf.c: tanh(x) = x + x^3 T(x^2) for |x| < 0.625
// @ts-ignore: decorator
@inline const TANH_T0: f32 = -5.70498872745e-3;
// @ts-ignore: decorator
@inline const TANH_T1: f32 = 2.06390887954e-2;
// @ts-ignore: decorator
@inline const TANH_T2: f32 = -5.37397155531e-2;
// @ts-ignore: decorator
@inline const TANH_T3: f32 = 1.33314422036e-1;
// @ts-ignore: decorator
@inline const TANH_T4: f32 = -3.33332819422e-1;

/** tanh per lane; ~2 ulp; exact +-1 for |x| >= ~9, odd, NaN propagates. */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  // large branch: (1 - e) / (1 + e), e = e^{-2|x|}
  const e = vexp(f32x4.mul(ax, f32x4.splat(-2.0)));
  const one = f32x4.splat(1.0);
  let big = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  big = v128.or(big, v128.and(x, f32x4.splat(-0.0)));
  // small branch: odd polynomial
  const z = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(f32x4.splat(TANH_T0), z), f32x4.splat(TANH_T1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(TANH_T2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(TANH_T3));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(TANH_T4));
  // or-ing the sign keeps tanh(-0) = -0
  const small = v128.or(f32x4.add(f32x4.mul(f32x4.mul(x, z), p), x), v128.and(x, f32x4.splat(-0.0)));
  return v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.625)));
}

// ---- erf / erfc ----
// erf(x)/x = P(x^2) on |x| <= 1, fitted here (see header), relative error 1.2e-9.
// @ts-ignore: decorator
@inline const ERF_A0: f32 = 1.128379166e0;
// @ts-ignore: decorator
@inline const ERF_A1: f32 = -3.761262585e-1;
// @ts-ignore: decorator
@inline const ERF_A2: f32 = 1.128358535e-1;
// @ts-ignore: decorator
@inline const ERF_A3: f32 = -2.685381872e-2;
// @ts-ignore: decorator
@inline const ERF_A4: f32 = 5.188338687e-3;
// @ts-ignore: decorator
@inline const ERF_A5: f32 = -8.010279323e-4;
// @ts-ignore: decorator
@inline const ERF_A6: f32 = 7.854118319e-5;

/** erf(x) for |x| <= 1 (odd polynomial, keeps relative accuracy near 0). */
// @ts-ignore: decorator
@inline export function verfSmall(x: v128): v128 {
  const z = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(f32x4.splat(ERF_A6), z), f32x4.splat(ERF_A5));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(ERF_A4));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(ERF_A3));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(ERF_A2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(ERF_A1));
  // x * A0 = x + x (A0 - 1): the big term x is exact, the rounding falls on the small one
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(ERF_A0 - 1.0));
  return f32x4.add(f32x4.mul(x, p), x);
}

/** erfc(z) for z >= 0 (Numerical Recipes erfcc, fractional error < 1.2e-7); 0 for large z. */
// @ts-ignore: decorator
@inline export function verfcPos(zin: v128): v128 {
  const z = f32x4.pmin(zin, f32x4.splat(11.0)); // erfc(11) underflows to 0; keeps Inf out
  const t = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.mul(z, f32x4.splat(0.5)), f32x4.splat(1.0)));
  let p = f32x4.add(f32x4.mul(t, f32x4.splat(0.17087277)), f32x4.splat(-0.82215223));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.48851587));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.13520398));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.27886807));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.18628806));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.09678418));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.37409196));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.00002368));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.26551223));
  // -z^2 as an exact head -zh^2 (zh: z with 12 significant bits) plus a small tail, so the
  // exponential keeps its relative accuracy for large z (a rounded z^2 ~ 80 would cost ~80 ulp)
  const zh = v128.and(z, i32x4.splat(0xfffff000));
  const lo = f32x4.sub(p, f32x4.mul(f32x4.sub(z, zh), f32x4.add(z, zh)));
  return f32x4.mul(t, vexpHL(f32x4.neg(f32x4.mul(zh, zh)), lo));
}

/** erf per lane; ~2 ulp; exact +-1 for |x| >= ~3.9, odd, NaN propagates. */
// @ts-ignore: decorator
@inline export function verf(x: v128): v128 {
  const ax = f32x4.abs(x);
  const small = f32x4.lt(ax, f32x4.splat(1.0));
  const ps = verfSmall(x);
  if (!v128.any_true(v128.not(small))) return ps;
  // erfc(+Inf): t = 0, exp(-Inf) = 0 -> 0 -> erf = 1
  let big = f32x4.sub(f32x4.splat(1.0), verfcPos(ax));
  big = v128.or(big, v128.and(x, f32x4.splat(-0.0)));
  return v128.bitselect(ps, big, small);
}

/** 1 + erf(x) per lane, without cancellation for x << 0 (= erfc(-x)). */
// @ts-ignore: decorator
@inline export function vOnePlusErf(x: v128): v128 {
  const ax = f32x4.abs(x);
  // polynomial on (-0.5, 1): below -0.5 1 + erf(x) = erfc(|x|) avoids the cancellation
  const small = v128.and(f32x4.lt(x, f32x4.splat(1.0)), f32x4.gt(x, f32x4.splat(-0.5)));
  const ps = f32x4.add(verfSmall(x), f32x4.splat(1.0));
  if (!v128.any_true(v128.not(small))) return ps;
  const c = verfcPos(ax);
  const big = v128.bitselect(c, f32x4.sub(f32x4.splat(2.0), c), f32x4.lt(x, f32x4.splat(0.0)));
  return v128.bitselect(ps, big, small);
}

// tools/fit_erf.py fits erf(u) ~= u P(u^2) / Q(u^2) on |u| <= 3.92 (P, Q of degree 5, absolute
// error <= 4.2e-7 in float32). vphiFast takes it with u = x / sqrt 2 substituted: coefficient i
// over 2^i, and P over 2 sqrt 2 as well, so Phi(x) = 1/2 + x P'(x^2) / Q'(x^2) needs no scaling
// of x and no (1 + erf) / 2 (against GELU through erf: 1.03 -> 0.94 ns per float, same error).
const PHI_P: f64 = 0.35355339059327373; // 1 / (2 sqrt 2)
/**
 * The normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 per lane, for GELU = x Phi(x): |x| clamped
 * to 3.95 sqrt 2, where the quotient reaches 1/2, and the result to [0, 1], so the tails are
 * exactly 0 and 1. Absolute error <= 2.1e-7 plus rounding: what an activation inside a network
 * needs, at under half the cost of an exp and a division. NaN propagates (pmin/pmax keep their
 * first operand when the comparison fails).
 */
// @ts-ignore: decorator
@inline export function vphiFast(x: v128): v128 {
  const u = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-5.586143571373726)), f32x4.splat(5.586143571373726));
  const t = f32x4.mul(u, u);
  let p = f32x4.add(f32x4.mul(f32x4.splat(<f32>(2.0346642486401834e-6 / 32 * PHI_P)), t), f32x4.splat(<f32>(2.8746051248162985e-4 / 16 * PHI_P)));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(<f32>(3.867947030812502e-3 / 8 * PHI_P)));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(<f32>(5.305930972099304e-2 / 4 * PHI_P)));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(<f32>(0.19275663793087006 / 2 * PHI_P)));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(<f32>(1.128378987312317 * PHI_P)));
  let q = f32x4.add(f32x4.mul(f32x4.splat(<f32>(3.806890526902862e-5 / 32)), t), f32x4.splat(<f32>(1.188002759590745e-3 / 16)));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(<f32>(1.5171555802226067e-2 / 8)));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(<f32>(0.11508136987686157 / 4)));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(<f32>(0.5041577816009521 / 2)));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(1.0));
  const h = f32x4.add(f32x4.div(f32x4.mul(u, p), q), f32x4.splat(0.5));
  return f32x4.pmin(f32x4.pmax(h, f32x4.splat(0.0)), f32x4.splat(1.0));
}
