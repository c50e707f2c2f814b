/// <reference types="@as-pect/assembly/types/as-pect" />
// math.ts approximations against AS Math (f64) / f64 references; errors in f32 ulps of the
// correctly rounded result. Each sweep: evenly spaced points + random points + special values.
import { vexp, vexpm1, vlog, vlog1p, vsigmoid, vtanh, verf, vOnePlusErf, verfFast } from '../math';
import { erfRef, erfcRef, sigmoidRef, ulpErr, rnd, resetRnd } from './math_ref';

function fExp(x: v128): v128 { return vexp(x); }
function fExpm1(x: v128): v128 { return vexpm1(x); }
function fLog(x: v128): v128 { return vlog(x); }
function fLog1p(x: v128): v128 { return vlog1p(x); }
function fSigmoid(x: v128): v128 { return vsigmoid(x); }
function fTanh(x: v128): v128 { return vtanh(x); }
function fErf(x: v128): v128 { return verf(x); }
function fOnePlusErf(x: v128): v128 { return vOnePlusErf(x); }
function fErfFast(x: v128): v128 { return verfFast(x); }

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

/** An erf: exactly 1 from `one` up, -1 from `minusOne` down and at -Inf, 0 at 0, NaN at NaN. */
function expectErfLimits(f: (x: v128) => v128, one: f32, minusOne: f32): void {
  expect(at(f, one)).toBe(1);
  expect(at(f, minusOne)).toBe(-1);
  expect(at(f, Infinity)).toBe(1);
  expect(at(f, -Infinity)).toBe(-1);
  expect(at(f, 0)).toBe(0);
  expect(isNaN(at(f, NaN))).toBe(true);
}

describe('math: erf', () => {
  it('<= 2.5 ulp on [-6, 6] and near 0', () => {
    expect(sweep(fErf, erfRef, -6, 6, 100000)).toBeLessThanOrEqual(2.5);
    expect(sweep(fErf, erfRef, 1e-30, 1, 50000, true)).toBeLessThanOrEqual(2.5);
  });
  it('1 + erf(x) keeps relative accuracy in the negative tail (<= 6 ulp down to -9)', () => {
    expect(sweep(fOnePlusErf, rOnePlusErf, -9, 4, 100000)).toBeLessThanOrEqual(6.0);
  });
  it('exact limits, NaN', () => {
    expectErfLimits(fErf, 4, -10);
  });
});

describe('math: erfFast (GELU)', () => {
  it('absolute error <= 4.2e-7 on [-8, 8] (tools/fit_erf.py), odd', () => {
    let worst: f64 = 0;
    for (let i = 0; i <= 400000; i++) {
      const x = <f32>(-8.0 + 16.0 * <f64>i / 400000.0);
      worst = Math.max(worst, Math.abs(<f64>at(fErfFast, x) - erfRef(<f64>x)));
      if (at(fErfFast, -x) != -at(fErfFast, x)) worst = Infinity;
    }
    log<string>('  erfFast max |error| ' + worst.toString());
    expect(worst).toBeLessThanOrEqual(4.2e-7);
  });
  it('saturates exactly, NaN', () => {
    expectErfLimits(fErfFast, 3.95, -4);
  });
});
