/// <reference types="@as-pect/assembly/types/as-pect" />
// loss.ts against plain f64 losses written here from the PyTorch documentation formulas, and
// every gradient against central finite differences of that f64 loss (odd sizes).
import { softmax_xent_f32, bce_logits_f32, mse_f32, smooth_l1_f32 } from '../loss';
import { rnd, resetRnd } from './math_ref';

// @ts-ignore: decorator
@inline function P(a: StaticArray<f32>): usize { return changetype<usize>(a); }
// @ts-ignore: decorator
@inline function PI(a: StaticArray<i32>): usize { return changetype<usize>(a); }

function rand(n: i32, lo: f64, hi: f64): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = <f32>(lo + (hi - lo) * rnd());
  return a;
}

/** Cross entropy in f64: the weighted mean of -sum_c y_ic w_c log softmax(x_i)_c, y the smoothed one-hot, over sum_i w[t_i]. */
function xentRef(x: StaticArray<f64>, N: i32, C: i32, t: StaticArray<i32>, w: StaticArray<f32> | null, s: f64): f64 {
  let num: f64 = 0, den: f64 = 0;
  for (let i = 0; i < N; i++) {
    let z: f64 = 0;
    for (let c = 0; c < C; c++) z += Math.exp(x[i * C + c]);
    const wt = w ? <f64>w[t[i]] : 1.0;
    den += wt;
    for (let c = 0; c < C; c++) {
      const logp = x[i * C + c] - Math.log(z);
      const wc = w ? <f64>w[c] : 1.0;
      // PyTorch: (1 - s) * nll (target weight) + s / C * (-sum_c w_c logp_c)
      if (c == t[i]) num -= (1 - s) * wt * logp;
      num -= s / <f64>C * wc * logp;
    }
  }
  return num / den;
}

function bceRef(x: StaticArray<f64>, t: StaticArray<f32>, pw: f64): f64 {
  let s: f64 = 0;
  for (let i = 0; i < x.length; i++) {
    const sg = 1 / (1 + Math.exp(-x[i]));
    const ti = <f64>t[i];
    s -= pw * ti * Math.log(sg) + (1 - ti) * Math.log(1 - sg);
  }
  return s / <f64>x.length;
}
function mseRef(x: StaticArray<f64>, t: StaticArray<f32>): f64 {
  let s: f64 = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - <f64>t[i]) * (x[i] - <f64>t[i]);
  return s / <f64>x.length;
}
function sl1Ref(x: StaticArray<f64>, t: StaticArray<f32>, beta: f64): f64 {
  let s: f64 = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - <f64>t[i]);
    s += d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
  }
  return s / <f64>x.length;
}

function to64(a: StaticArray<f32>): StaticArray<f64> {
  const b = new StaticArray<f64>(a.length);
  for (let i = 0; i < a.length; i++) b[i] = <f64>a[i];
  return b;
}

// which loss the finite differences run on
let KIND = 0;
let gN = 0, gC = 0, gS: f64 = 0, gPw: f64 = 1, gBeta: f64 = 1;
let gT: StaticArray<i32> = new StaticArray<i32>(0);
let gW: StaticArray<f32> | null = null;
let gTf: StaticArray<f32> = new StaticArray<f32>(0);
function lossOf(x: StaticArray<f64>): f64 {
  if (KIND == 0) return xentRef(x, gN, gC, gT, gW, gS);
  if (KIND == 1) return bceRef(x, gTf, gPw);
  if (KIND == 2) return mseRef(x, gTf);
  return sl1Ref(x, gTf, gBeta);
}
/** Counts gradient entries away from the finite difference of lossOf at x. */
function checkGrad(x: StaticArray<f32>, dx: StaticArray<f32>, what: string): i32 {
  const x64 = to64(x);
  const h = 1e-5;
  let bad = 0;
  for (let k = 0; k < x.length; k++) {
    const v = x64[k];
    x64[k] = v + h; const lp = lossOf(x64);
    x64[k] = v - h; const lm = lossOf(x64);
    x64[k] = v;
    const fd = (lp - lm) / (2 * h);
    if (!(Math.abs(<f64>dx[k] - fd) <= 1e-4 * Math.abs(fd) + 1e-7)) {
      if (bad < 4) log<string>(what + ' [' + k.toString() + '] got ' + dx[k].toString() + ' fd ' + fd.toString());
      bad++;
    }
  }
  return bad;
}

describe('softmax_xent_f32', () => {
  it('loss and dlogits with / without class weights, label smoothing and ignored rows (N = 7, C = 5)', () => {
    resetRnd(31);
    const N = 7, C = 5;
    const x = rand(N * C, -4, 4);
    const t = new StaticArray<i32>(N);
    for (let i = 0; i < N; i++) t[i] = <i32>(rnd() * C) % C;
    const w = rand(C, 0.2, 2);
    const dx = new StaticArray<f32>(N * C);
    KIND = 0; gN = N; gC = C; gT = t;
    for (let withW = 0; withW < 2; withW++) {
      for (let si = 0; si < 3; si++) {
        const s: f32 = si == 0 ? 0 : si == 1 ? 0.1 : 0.35;
        gW = withW ? w : null; gS = <f64>s;
        const loss = softmax_xent_f32(P(x), N, C, PI(t), withW ? P(w) : 0, s, -100, P(dx));
        const ref = xentRef(to64(x), N, C, t, gW, gS);
        expect(Math.abs(<f64>loss - ref) <= 1e-6 * Math.abs(ref)).toBe(true, 'loss ' + loss.toString() + ' ref ' + ref.toString());
        expect(checkGrad(x, dx, 'xent w' + withW.toString() + ' s' + s.toString())).toBe(0);
        // no gradient pointer: the same loss
        expect(softmax_xent_f32(P(x), N, C, PI(t), withW ? P(w) : 0, s, -100, 0)).toBe(loss);
      }
    }
    // large logits: log-sum-exp stays finite
    const big = rand(N * C, 500, 900);
    const lb = softmax_xent_f32(P(big), N, C, PI(t), 0, 0, -100, P(dx));
    expect(isFinite(lb)).toBe(true);
    // ignored rows (target == ignore) take no part: the loss of the other rows alone, 0 rows
    const keep = [0, 2, 3, 5, 6];
    const xs = new StaticArray<f32>(keep.length * C), ts = new StaticArray<i32>(keep.length), dxs = new StaticArray<f32>(keep.length * C);
    for (let j = 0; j < keep.length; j++) {
      ts[j] = t[keep[j]];
      for (let c = 0; c < C; c++) xs[j * C + c] = x[keep[j] * C + c];
    }
    const ti = new StaticArray<i32>(N);
    for (let i = 0; i < N; i++) ti[i] = keep.includes(i) ? t[i] : 255;
    for (let withW = 0; withW < 2; withW++) {
      const li = softmax_xent_f32(P(x), N, C, PI(ti), withW ? P(w) : 0, 0.2, 255, P(dx));
      const ls = softmax_xent_f32(P(xs), keep.length, C, PI(ts), withW ? P(w) : 0, 0.2, 255, P(dxs));
      expect(li).toBe(ls);
      for (let i = 0; i < N; i++) {
        const j = keep.indexOf(i);
        for (let c = 0; c < C; c++) expect(dx[i * C + c]).toBe(j < 0 ? <f32>0 : dxs[j * C + c]);
      }
    }
    // only ignored rows: 0 / 0
    for (let i = 0; i < N; i++) ti[i] = 255;
    expect(isNaN(softmax_xent_f32(P(x), N, C, PI(ti), 0, 0, 255, P(dx)))).toBe(true);
    // a target outside [0, C) gives NaN
    t[3] = C;
    expect(isNaN(softmax_xent_f32(P(x), N, C, PI(t), 0, 0, -100, P(dx)))).toBe(true);
    t[3] = -1;
    expect(isNaN(softmax_xent_f32(P(x), N, C, PI(t), 0, 0, -100, 0))).toBe(true);
  });
});

describe('bce_logits_f32 / mse_f32 / smooth_l1_f32', () => {
  it('losses and gradients on 23 elements', () => {
    resetRnd(41);
    const n = 23;
    const x = rand(n, -5, 5), t = rand(n, 0, 1);
    const dx = new StaticArray<f32>(n);
    gTf = t;
    KIND = 1;
    for (let k = 0; k < 2; k++) {
      const pw: f32 = k == 0 ? 1 : 2.5;
      gPw = <f64>pw;
      const l = bce_logits_f32(P(x), P(t), n, pw, P(dx));
      const ref = bceRef(to64(x), t, gPw);
      expect(Math.abs(<f64>l - ref) <= 1e-6 * Math.abs(ref)).toBe(true, 'bce');
      expect(checkGrad(x, dx, 'bce')).toBe(0);
    }
    // far logits: the stable form stays finite
    const far = rand(n, -200, 200);
    expect(isFinite(bce_logits_f32(P(far), P(t), n, 1, 0))).toBe(true);
    KIND = 2;
    const lm = mse_f32(P(x), P(t), n, P(dx));
    expect(Math.abs(<f64>lm - mseRef(to64(x), t)) <= 1e-6 * mseRef(to64(x), t)).toBe(true, 'mse');
    expect(checkGrad(x, dx, 'mse')).toBe(0);
    KIND = 3;
    const tt = rand(n, -5, 5); // differences on both sides of beta
    gTf = tt;
    const betas: f32[] = [1, 0.5, 3];
    for (let b = 0; b < betas.length; b++) {
      gBeta = <f64>betas[b];
      const l = smooth_l1_f32(P(x), P(tt), n, betas[b], P(dx));
      const ref = sl1Ref(to64(x), tt, gBeta);
      expect(Math.abs(<f64>l - ref) <= 1e-6 * ref).toBe(true, 'smooth_l1');
      expect(checkGrad(x, dx, 'smooth_l1')).toBe(0);
    }
    // beta = 0: L1 with sign(0) = 0
    const a = new StaticArray<f32>(3), c = new StaticArray<f32>(3), g = new StaticArray<f32>(3);
    a[0] = 1; a[1] = -2; a[2] = 4; c[0] = 3; c[1] = -3; c[2] = 4;
    expect(smooth_l1_f32(P(a), P(c), 3, 0, P(g))).toBe(<f32>1);
    expect(g[0]).toBe(<f32>(-1.0 / 3));
    expect(g[1]).toBe(<f32>(1.0 / 3));
    expect(g[2]).toBe(0);
  });
});
