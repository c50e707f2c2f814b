// Scalar f64 references for the spec files (slow, straightforward).
// erf: power series erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*...*(2n+1))
// (Abramowitz & Stegun 7.1.6, all terms positive); erfc(x), x >= 2: the continued fraction
// A&S 7.1.14, evaluated backwards.

export function erfRef(x: f64): f64 {
  if (isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return x > 0 ? 1 : -1;
  if (ax >= 2) { const c = erfcRef(ax); return x > 0 ? 1 - c : c - 1; }
  let term = ax, sum = ax;
  const x2 = ax * ax;
  for (let n = 1; n < 400; n++) {
    term *= 2 * x2 / (2 * n + 1);
    sum += term;
    if (term < 1e-18 * sum) break;
  }
  const r = 2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum;
  return x < 0 ? -r : r;
}

export function erfcRef(x: f64): f64 {
  if (x < 2) return 1 - erfRef(x);
  // erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  let f: f64 = x;
  for (let k = 300; k >= 1; k--) f = x + (<f64>k / 2) / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export function sigmoidRef(x: f64): f64 { return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)); }
export function softplusRef(x: f64): f64 { return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)); }

/** Units in the last place of the f32 nearest to ref; NaN==NaN and equal infinities give 0. */
export function ulpErr(y: f32, ref: f64): f64 {
  if (isNaN(ref)) return isNaN(y) ? 0 : Infinity;
  const r32 = <f32>ref;
  if (!isFinite(r32)) return <f64>y == <f64>r32 ? 0 : Infinity;
  if (isNaN(y)) return Infinity;
  const e = <i32>((reinterpret<u32>(r32) >> 23) & 0xff);
  const ulp = Math.pow(2, <f64>(max(e, 1) - 150));
  return Math.abs(<f64>y - ref) / ulp;
}

/** Deterministic pseudo-random numbers in [0, 1). */
let seed: u32 = 12345;
export function rnd(): f64 {
  seed = seed * 1664525 + 1013904223;
  return <f64>(seed >> 8) / 16777216.0;
}
export function resetRnd(s: u32): void { seed = s; }
/** rnd() scaled to [-1, 1), as f32. */
export function rndSym(): f32 {
  return <f32>(rnd() * 2 - 1);
}
/** Deterministic pseudo-random integer in [0, n), from the same generator. */
export function rndInt(n: i32): i32 {
  seed = seed * 1664525 + 1013904223;
  return <i32>((seed >> 8) % <u32>n);
}
