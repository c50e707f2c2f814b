/// <reference types="@as-pect/assembly/types/as-pect" />
// normGrad.ts against plain f64 references written here from the definitions (batch / layer
// normalisation, PyTorch's running-statistics rule) and central finite differences of the f64
// forward on the loss L = sum r * y (r random), on odd sizes.
import { bn_train_fwd_f32, bn_train_bwd_f32, bn_eval_bwd_f32, layernorm_train_fwd_f32, layernorm_bwd_f32 } from '../normGrad';
import { rnd, resetRnd } from './math_ref';

// @ts-ignore: decorator
@inline function P(a: StaticArray<f32>): usize { return changetype<usize>(a); }

function rand(n: i32, lo: f64, hi: f64): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = <f32>(lo + (hi - lo) * rnd());
  return a;
}
function copy(a: StaticArray<f32>): StaticArray<f32> {
  const b = new StaticArray<f32>(a.length);
  for (let i = 0; i < a.length; i++) b[i] = a[i];
  return b;
}

/** BatchNorm training forward in f64, NCHW, from the definition; returns sum r * y. */
function bnLoss(x: StaticArray<f64>, N: i32, C: i32, HW: i32, g: StaticArray<f64>, b: StaticArray<f64>, eps: f64, r: StaticArray<f32>): f64 {
  let L: f64 = 0;
  const M = <f64>(N * HW);
  for (let c = 0; c < C; c++) {
    let s: f64 = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) s += x[(n * C + c) * HW + i];
    const mu = s / M;
    let q: f64 = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) { const d = x[(n * C + c) * HW + i] - mu; q += d * d; }
    const sd = Math.sqrt(q / M + eps);
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) {
      const k = (n * C + c) * HW + i;
      L += <f64>r[k] * ((x[k] - mu) / sd * g[c] + b[c]);
    }
  }
  return L;
}

/** LayerNorm forward in f64 over rows x n; returns sum r * y. */
function lnLoss(x: StaticArray<f64>, rows: i32, n: i32, g: StaticArray<f64>, b: StaticArray<f64>, eps: f64, r: StaticArray<f32>): f64 {
  let L: f64 = 0;
  for (let j = 0; j < rows; j++) {
    let s: f64 = 0;
    for (let i = 0; i < n; i++) s += x[j * n + i];
    const mu = s / <f64>n;
    let q: f64 = 0;
    for (let i = 0; i < n; i++) { const d = x[j * n + i] - mu; q += d * d; }
    const sd = Math.sqrt(q / <f64>n + eps);
    for (let i = 0; i < n; i++) L += <f64>r[j * n + i] * ((x[j * n + i] - mu) / sd * g[i] + b[i]);
  }
  return L;
}

function to64(a: StaticArray<f32>): StaticArray<f64> {
  const b = new StaticArray<f64>(a.length);
  for (let i = 0; i < a.length; i++) b[i] = <f64>a[i];
  return b;
}
function ones64(n: i32, v: f64): StaticArray<f64> {
  const b = new StaticArray<f64>(n);
  for (let i = 0; i < n; i++) b[i] = v;
  return b;
}

/** |got - ref| within rtol of ref plus atol of the largest |ref| (cancellation in the backward). */
function countBad(got: StaticArray<f32>, ref: StaticArray<f64>, rtol: f64, atolScale: f64, what: string): i32 {
  let mx: f64 = 0;
  for (let i = 0; i < ref.length; i++) mx = Math.max(mx, Math.abs(ref[i]));
  let bad = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(<f64>got[i] - ref[i]) <= rtol * Math.abs(ref[i]) + atolScale * mx)) {
      if (bad < 4) log<string>(what + '[' + i.toString() + '] got ' + got[i].toString() + ' ref ' + ref[i].toString());
      bad++;
    }
  }
  return bad;
}

describe('bn_train_fwd_f32 / bn_train_bwd_f32', () => {
  it('forward: batch statistics, y, saved mean / invstd and PyTorch running stats (unbiased var)', () => {
    resetRnd(11);
    const N = 3, C = 5, HW = 7;
    const T = N * C * HW;
    const x = rand(T, -2, 3);
    const gamma = rand(C, 0.5, 1.5), beta = rand(C, -1, 1);
    const y = new StaticArray<f32>(T), mean = new StaticArray<f32>(C), invstd = new StaticArray<f32>(C);
    const rm = rand(C, -1, 1), rv = rand(C, 0.5, 2);
    const rm0 = copy(rm), rv0 = copy(rv);
    const eps = 1e-5, mom = 0.1;
    bn_train_fwd_f32(P(x), P(y), N, C, HW, P(gamma), P(beta), eps, mom, P(mean), P(invstd), P(rm), P(rv));
    const M = <f64>(N * HW);
    for (let c = 0; c < C; c++) {
      let s: f64 = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) s += <f64>x[(n * C + c) * HW + i];
      const mu = s / M;
      let q: f64 = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) { const d = <f64>x[(n * C + c) * HW + i] - mu; q += d * d; }
      const is = 1 / Math.sqrt(q / M + eps);
      expect(Math.abs(<f64>mean[c] - mu) <= 1e-6 * (1 + Math.abs(mu))).toBe(true);
      expect(Math.abs(<f64>invstd[c] - is) <= 1e-6 * is).toBe(true);
      expect(Math.abs(<f64>rm[c] - (0.9 * <f64>rm0[c] + 0.1 * mu)) <= 1e-6).toBe(true);
      expect(Math.abs(<f64>rv[c] - (0.9 * <f64>rv0[c] + 0.1 * q / (M - 1))) <= 1e-6 * (1 + <f64>rv[c])).toBe(true, 'runVar');
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) {
        const k = (n * C + c) * HW + i;
        const ref = (<f64>x[k] - mu) * is * <f64>gamma[c] + <f64>beta[c];
        expect(Math.abs(<f64>y[k] - ref) <= 2e-6 * (1 + Math.abs(ref))).toBe(true);
      }
    }
    // no affine, no running stats (pointers 0): plain standardisation
    bn_train_fwd_f32(P(x), P(y), N, C, HW, 0, 0, eps, mom, P(mean), P(invstd), 0, 0);
    for (let c = 0; c < C; c++) {
      let s: f64 = 0, q: f64 = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) { const v = <f64>y[(n * C + c) * HW + i]; s += v; q += v * v; }
      expect(Math.abs(s / M) <= 1e-6).toBe(true);
      expect(Math.abs(q / M - 1) <= 1e-3).toBe(true); // eps shrinks the variance slightly
    }
  });

  it('backward matches finite differences of L = sum r y for x, gamma, beta; dgamma / dbeta accumulate', () => {
    resetRnd(5);
    const N = 3, C = 5, HW = 7;
    const T = N * C * HW;
    const x = rand(T, -2, 3), r = rand(T, -1, 1);
    const gamma = rand(C, 0.5, 1.5), beta = rand(C, -1, 1);
    const y = new StaticArray<f32>(T), mean = new StaticArray<f32>(C), invstd = new StaticArray<f32>(C);
    const eps = 1e-5;
    bn_train_fwd_f32(P(x), P(y), N, C, HW, P(gamma), P(beta), eps, 0.1, P(mean), P(invstd), 0, 0);
    const dx = new StaticArray<f32>(T), dg = rand(C, -1, 1), db = rand(C, -1, 1);
    const dg0 = copy(dg), db0 = copy(db);
    bn_train_bwd_f32(P(x), P(r), P(dx), N, C, HW, P(gamma), P(mean), P(invstd), P(dg), P(db));
    const x64 = to64(x), g64 = to64(gamma), b64 = to64(beta);
    const h = 1e-4;
    const fx = new StaticArray<f64>(T);
    for (let k = 0; k < T; k++) {
      const v = x64[k];
      x64[k] = v + h; const lp = bnLoss(x64, N, C, HW, g64, b64, eps, r);
      x64[k] = v - h; const lm = bnLoss(x64, N, C, HW, g64, b64, eps, r);
      x64[k] = v;
      fx[k] = (lp - lm) / (2 * h);
    }
    expect(countBad(dx, fx, 1e-3, 1e-4, 'dx')).toBe(0);
    const fg = new StaticArray<f64>(C), fb = new StaticArray<f64>(C);
    const dgd = new StaticArray<f32>(C), dbd = new StaticArray<f32>(C);
    for (let c = 0; c < C; c++) {
      let v = g64[c];
      g64[c] = v + h; let lp = bnLoss(x64, N, C, HW, g64, b64, eps, r);
      g64[c] = v - h; let lm = bnLoss(x64, N, C, HW, g64, b64, eps, r);
      g64[c] = v; fg[c] = (lp - lm) / (2 * h);
      v = b64[c];
      b64[c] = v + h; lp = bnLoss(x64, N, C, HW, g64, b64, eps, r);
      b64[c] = v - h; lm = bnLoss(x64, N, C, HW, g64, b64, eps, r);
      b64[c] = v; fb[c] = (lp - lm) / (2 * h);
      dgd[c] = dg[c] - dg0[c];
      dbd[c] = db[c] - db0[c];
    }
    expect(countBad(dgd, fg, 1e-4, 1e-5, 'dgamma')).toBe(0);
    expect(countBad(dbd, fb, 1e-4, 1e-5, 'dbeta')).toBe(0);
    // in place over dy, without gamma (gamma = 1) and without parameter gradients
    const ones = new StaticArray<f32>(C);
    for (let c = 0; c < C; c++) ones[c] = 1;
    const a = new StaticArray<f32>(T);
    bn_train_bwd_f32(P(x), P(r), P(a), N, C, HW, P(ones), P(mean), P(invstd), 0, 0);
    const b = copy(r);
    bn_train_bwd_f32(P(x), P(b), P(b), N, C, HW, 0, P(mean), P(invstd), 0, 0);
    let diff = 0;
    for (let k = 0; k < T; k++) if (a[k] != b[k]) diff++;
    expect(diff).toBe(0);
  });

  it('bn_eval_bwd_f32: dy * gamma / sqrt(runVar + eps)', () => {
    resetRnd(9);
    const N = 2, C = 3, HW = 5;
    const T = N * C * HW;
    const dy = rand(T, -1, 1), gamma = rand(C, -2, 2), rv = rand(C, 0.1, 3);
    const dx = new StaticArray<f32>(T);
    bn_eval_bwd_f32(P(dy), P(dx), N, C, HW, P(gamma), P(rv), 1e-3);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < HW; i++) {
      const k = (n * C + c) * HW + i;
      const ref = <f64>dy[k] * <f64>gamma[c] / Math.sqrt(<f64>rv[c] + 1e-3);
      expect(Math.abs(<f64>dx[k] - ref) <= 1e-6 * (1 + Math.abs(ref))).toBe(true);
    }
  });
});

describe('layernorm_train_fwd_f32 / layernorm_bwd_f32', () => {
  it('forward and backward against f64 definitions and finite differences, with and without gamma / beta', () => {
    resetRnd(21);
    const rows = 5, n = 13;
    const T = rows * n;
    const x = rand(T, -3, 2), r = rand(T, -1, 1);
    const gamma = rand(n, 0.5, 1.5), beta = rand(n, -1, 1);
    const eps = 1e-5;
    for (let affine = 0; affine < 2; affine++) {
      const gp = affine ? P(gamma) : 0, bp = affine ? P(beta) : 0;
      const y = new StaticArray<f32>(T), mean = new StaticArray<f32>(rows), invstd = new StaticArray<f32>(rows);
      layernorm_train_fwd_f32(P(x), P(y), rows, n, gp, bp, eps, P(mean), P(invstd));
      const x64 = to64(x);
      const g64 = affine ? to64(gamma) : ones64(n, 1), b64 = affine ? to64(beta) : ones64(n, 0);
      for (let j = 0; j < rows; j++) {
        let s: f64 = 0;
        for (let i = 0; i < n; i++) s += x64[j * n + i];
        const mu = s / <f64>n;
        let q: f64 = 0;
        for (let i = 0; i < n; i++) { const d = x64[j * n + i] - mu; q += d * d; }
        const is = 1 / Math.sqrt(q / <f64>n + eps);
        expect(Math.abs(<f64>mean[j] - mu) <= 1e-6 * (1 + Math.abs(mu))).toBe(true);
        expect(Math.abs(<f64>invstd[j] - is) <= 1e-6 * is).toBe(true);
        for (let i = 0; i < n; i++) {
          const ref = (x64[j * n + i] - mu) * is * g64[i] + b64[i];
          expect(Math.abs(<f64>y[j * n + i] - ref) <= 2e-6 * (1 + Math.abs(ref))).toBe(true);
        }
      }
      const dx = new StaticArray<f32>(T), dg = rand(n, -1, 1), db = rand(n, -1, 1);
      const dg0 = copy(dg), db0 = copy(db);
      layernorm_bwd_f32(P(x), P(r), P(dx), rows, n, gp, P(mean), P(invstd), affine ? P(dg) : 0, affine ? P(db) : 0);
      const h = 1e-4;
      const fx = new StaticArray<f64>(T);
      for (let k = 0; k < T; k++) {
        const v = x64[k];
        x64[k] = v + h; const lp = lnLoss(x64, rows, n, g64, b64, eps, r);
        x64[k] = v - h; const lm = lnLoss(x64, rows, n, g64, b64, eps, r);
        x64[k] = v;
        fx[k] = (lp - lm) / (2 * h);
      }
      expect(countBad(dx, fx, 1e-3, 1e-4, 'ln dx')).toBe(0);
      if (affine) {
        const fg = new StaticArray<f64>(n), fb = new StaticArray<f64>(n);
        const dgd = new StaticArray<f32>(n), dbd = new StaticArray<f32>(n);
        for (let i = 0; i < n; i++) {
          let v = g64[i];
          g64[i] = v + h; let lp = lnLoss(x64, rows, n, g64, b64, eps, r);
          g64[i] = v - h; let lm = lnLoss(x64, rows, n, g64, b64, eps, r);
          g64[i] = v; fg[i] = (lp - lm) / (2 * h);
          v = b64[i];
          b64[i] = v + h; lp = lnLoss(x64, rows, n, g64, b64, eps, r);
          b64[i] = v - h; lm = lnLoss(x64, rows, n, g64, b64, eps, r);
          b64[i] = v; fb[i] = (lp - lm) / (2 * h);
          dgd[i] = dg[i] - dg0[i];
          dbd[i] = db[i] - db0[i];
        }
        expect(countBad(dgd, fg, 1e-4, 1e-5, 'ln dgamma')).toBe(0);
        expect(countBad(dbd, fb, 1e-4, 1e-5, 'ln dbeta')).toBe(0);
        // in place over dy with parameter gradients: the same dx and the same increments
        const b = copy(r), dg2 = copy(dg0), db2 = copy(db0);
        layernorm_bwd_f32(P(x), P(b), P(b), rows, n, gp, P(mean), P(invstd), P(dg2), P(db2));
        let diff = 0;
        for (let k = 0; k < T; k++) if (b[k] != dx[k]) diff++;
        for (let i = 0; i < n; i++) if (dg2[i] != dg[i] || db2[i] != db[i]) diff++;
        expect(diff).toBe(0);
      } else {
        // in place over dy (no parameter gradients)
        const b = copy(r);
        layernorm_bwd_f32(P(x), P(b), P(b), rows, n, 0, P(mean), P(invstd), 0, 0);
        let diff = 0;
        for (let k = 0; k < T; k++) if (b[k] != dx[k]) diff++;
        expect(diff).toBe(0);
      }
    }
  });
});
