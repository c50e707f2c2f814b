/// <reference types="@as-pect/assembly/types/as-pect" />
// math.ts approximations against AS Math (f64) / f64 references; errors in f32 ulps of the
// correctly rounded result. Each sweep: evenly spaced points + random points + special values.
import { vexp, vexpm1, vlog, vlog1p, vsigmoid, vtanh, verf, vOnePlusErf, vphiFast } from '../math';
import { erfRef, erfcRef, sigmoidRef, ulpErr, rnd, resetRnd } from './math_ref';

function fExp(x: v128): v128 { return vexp(x); }
function fExpm1(x: v128): v128 { return vexpm1(x); }
function fLog(x: v128): v128 { return vlog(x); }
function fLog1p(x: v128): v128 { return vlog1p(x); }
function fSigmoid(x: v128): v128 { return vsigmoid(x); }
function fTanh(x: v128): v128 { return vtanh(x); }
function fErf(x: v128): v128 { return verf(x); }
function fOnePlusErf(x: v128): v128 { return vOnePlusErf(x); }
function fPhiFast(x: v128): v128 { return vphiFast(x); }

function rExp(x: f64): f64 { return Math.exp(x); }
function rExpm1(x: f64): f64 { return Math.expm1(x); }
function rLog(x: f64): f64 { return Math.log(x); }
function rLog1p(x: f64): f64 { return Math.log1p(x); }
function rTanh(x: f64): f64 { return Math.tanh(x); }
function rOnePlusErf(x: f64): f64 { return x < 0 ? erfcRef(-x) : 1 + erfRef(x); }

const XS = new StaticArray<f32>(4);
const YS = new StaticArray<f32>(4);

/** Max ulp error of f vs ref over n evenly spaced and n random points in [lo, hi]. */
function sweep(f: (x: v128) => v128, ref: (x: f64) => f64, lo: f64, hi: f64, n: i32, logScale: bool = false): f64 {
  let worst: f64 = 0;
  let worstX: f64 = 0;
  resetRnd(7);
  for (let i = 0; i < 2 * n; i += 4) {
    for (let l = 0; l < 4; l++) {
      const k = i + l;
      const t = k < n ? <f64>k / <f64>(n - 1) : rnd();
      const xv: f64 = logScale ? Math.exp(Math.log(lo) + t * (Math.log(hi) - Math.log(lo))) : lo + t * (hi - lo);
      XS[l] = <f32>xv;
    }
    v128.store(changetype<usize>(YS), f(v128.load(changetype<usize>(XS))));
    for (let l = 0; l < 4; l++) {
      const xl = XS[l];
      const e = ulpErr(YS[l], ref(<f64>xl));
      if (e > worst) { worst = e; worstX = xl; }
    }
  }
  log<string>('  [' + lo.toString() + ', ' + hi.toString() + '] max ulp ' + worst.toString() + ' at x=' + worstX.toString());
  return worst;
}

function at(f: (x: v128) => v128, x: f32): f32 { return f32x4.extract_lane(f(f32x4.splat(x)), 0); }

describe('math: exp', () => {
  it('<= 2 ulp on [-87.3, 88.7] and in the subnormal range (abs)', () => {
    expect(sweep(fExp, rExp, -87.3, 88.72, 100000)).toBeLessThanOrEqual(2.0);
    expect(sweep(fExp, rExp, -1e-3, 1e-3, 10000)).toBeLessThanOrEqual(2.0);
    expect(sweep(fExp, rExp, -103.9, -87.4, 10000)).toBeLessThanOrEqual(2.0); // ulp of subnormals
  });
  it('limits, NaN', () => {
    expect(at(fExp, 100)).toBe(Infinity);
    expect(at(fExp, 89)).toBe(Infinity);
    expect(at(fExp, Infinity)).toBe(Infinity);
    expect(at(fExp, -100)).toBeCloseTo(<f32>Math.exp(-100), 44);
    expect(at(fExp, -110)).toBe(0);
    expect(at(fExp, -Infinity)).toBe(0);
    expect(at(fExp, 0)).toBe(1);
    expect(isNaN(at(fExp, NaN))).toBe(true);
  });
});

describe('math: expm1', () => {
  it('<= 2 ulp near 0 and on [-30, 88]', () => {
    expect(sweep(fExpm1, rExpm1, -1, 1, 50000)).toBeLessThanOrEqual(2.0);
    expect(sweep(fExpm1, rExpm1, 1e-30, 1e-2, 20000, true)).toBeLessThanOrEqual(2.0);
    expect(sweep(fExpm1, rExpm1, -30, 88.7, 50000)).toBeLessThanOrEqual(2.0);
  });
  it('limits', () => {
    expect(at(fExpm1, -100)).toBe(-1);
    expect(at(fExpm1, -Infinity)).toBe(-1);
    expect(at(fExpm1, 100)).toBe(Infinity);
    expect(at(fExpm1, 0)).toBe(0);
    expect(isNaN(at(fExpm1, NaN))).toBe(true);
  });
});

describe('math: log', () => {
  it('<= 2 ulp over the positive range incl. subnormals', () => {
    expect(sweep(fLog, rLog, 1e-45, 3e38, 100000, true)).toBeLessThanOrEqual(2.0);
    expect(sweep(fLog, rLog, 0.5, 2, 50000)).toBeLessThanOrEqual(2.0);
  });
  it('log1p <= 2.5 ulp', () => {
    expect(sweep(fLog1p, rLog1p, 1e-30, 1e30, 50000, true)).toBeLessThanOrEqual(2.5);
    expect(sweep(fLog1p, rLog1p, -0.99, 1, 50000)).toBeLessThanOrEqual(2.5);
  });
  it('special values', () => {
    expect(at(fLog, 0)).toBe(-Infinity);
    expect(at(fLog, 1)).toBe(0);
    expect(at(fLog, Infinity)).toBe(Infinity);
    expect(isNaN(at(fLog, -1))).toBe(true);
    expect(isNaN(at(fLog, NaN))).toBe(true);
    expect(at(fLog1p, -1)).toBe(-Infinity);
    expect(at(fLog1p, Infinity)).toBe(Infinity);
    expect(at(fLog1p, 1e-30)).toBe(1e-30);
  });
});

describe('math: sigmoid', () => {
  it('<= 2.5 ulp on [-103, 20] (relative, incl. the tiny tail)', () => {
    expect(sweep(fSigmoid, sigmoidRef, -103, 20, 100000)).toBeLessThanOrEqual(2.5);
    expect(sweep(fSigmoid, sigmoidRef, -1e-3, 1e-3, 10000)).toBeLessThanOrEqual(2.5);
  });
  it('exact limits, NaN', () => {
    expect(at(fSigmoid, 100)).toBe(1);
    expect(at(fSigmoid, Infinity)).toBe(1);
    expect(at(fSigmoid, -Infinity)).toBe(0);
    expect(at(fSigmoid, -200)).toBe(0);
    expect(at(fSigmoid, 0)).toBe(0.5);
    expect(isNaN(at(fSigmoid, NaN))).toBe(true);
  });
});

describe('math: tanh', () => {
  it('<= 2 ulp on [-20, 20] and near 0', () => {
    expect(sweep(fTanh, rTanh, -20, 20, 100000)).toBeLessThanOrEqual(2.0);
    expect(sweep(fTanh, rTanh, 1e-30, 1, 50000, true)).toBeLessThanOrEqual(2.0);
    expect(sweep(fTanh, rTanh, 0.5, 1, 50000)).toBeLessThanOrEqual(2.0);
  });
  it('exact limits, odd, NaN', () => {
    expect(at(fTanh, 20)).toBe(1);
    expect(at(fTanh, -20)).toBe(-1);
    expect(at(fTanh, Infinity)).toBe(1);
    expect(at(fTanh, -Infinity)).toBe(-1);
    expect(at(fTanh, 1e-20)).toBe(1e-20);
    expect<f32>(1 / at(fTanh, -0.0)).toBe(-Infinity);
    expect(isNaN(at(fTanh, NaN))).toBe(true);
  });
});

describe('math: erf', () => {
  it('<= 2.5 ulp on [-6, 6] and near 0', () => {
    expect(sweep(fErf, erfRef, -6, 6, 100000)).toBeLessThanOrEqual(2.5);
    expect(sweep(fErf, erfRef, 1e-30, 1, 50000, true)).toBeLessThanOrEqual(2.5);
  });
  it('1 + erf(x) keeps relative accuracy in the negative tail (<= 6 ulp down to -9)', () => {
    expect(sweep(fOnePlusErf, rOnePlusErf, -9, 4, 100000)).toBeLessThanOrEqual(6.0);
  });
  it('exact limits, NaN', () => {
    expect(at(fErf, 4)).toBe(1);
    expect(at(fErf, -10)).toBe(-1);
    expect(at(fErf, Infinity)).toBe(1);
    expect(at(fErf, -Infinity)).toBe(-1);
    expect(at(fErf, 0)).toBe(0);
    expect(isNaN(at(fErf, NaN))).toBe(true);
  });
});

describe('math: phiFast (GELU)', () => {
  it('absolute error <= 2.2e-7 on [-12, 12] (tools/fit_erf.py), Phi(x) + Phi(-x) = 1', () => {
    let worst: f64 = 0, asym: f64 = 0;
    for (let i = 0; i <= 480000; i++) {
      const x = <f32>(-12.0 + 24.0 * <f64>i / 480000.0);
      worst = Math.max(worst, Math.abs(<f64>at(fPhiFast, x) - 0.5 * (1 + erfRef(<f64>x * Math.SQRT1_2))));
      asym = Math.max(asym, Math.abs(<f64>at(fPhiFast, x) + <f64>at(fPhiFast, -x) - 1));
    }
    log<string>('  phiFast max |error| ' + worst.toString() + ', max |Phi(x) + Phi(-x) - 1| ' + asym.toString());
    expect(worst).toBeLessThanOrEqual(2.2e-7);
    expect(asym).toBeLessThanOrEqual(1.2e-7);
  });
  it('saturates exactly to 0 and 1, 1/2 at 0, NaN', () => {
    expect(at(fPhiFast, 5.6)).toBe(1);
    expect(at(fPhiFast, -5.6)).toBe(0);
    expect(at(fPhiFast, Infinity)).toBe(1);
    expect(at(fPhiFast, -Infinity)).toBe(0);
    expect(at(fPhiFast, 0)).toBe(0.5);
    expect(isNaN(at(fPhiFast, NaN))).toBe(true);
  });
});
