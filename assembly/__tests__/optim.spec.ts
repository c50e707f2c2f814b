/// <reference types="@as-pect/assembly/types/as-pect" />
// optim.ts against scalar f64 references written from the pseudo-code of PyTorch 1.13's
// torch.optim documentation (SGD, Adam, AdamW, RMSprop), three steps on odd sizes; the
// dropout generator for split invariance and its keep rate; sumsq / scale.
// (The bit-level PyTorch comparison is test/optim-kernels.test.ts, on tools/optim_fixtures.py.)
import { sgd_step_f32, adam_step_f32, rmsprop_step_f32, sumsq_f32, scale_f32, dropout_mask_f32, dropout_uniform } from '../optim';
import { rnd, resetRnd } from './math_ref';

// @ts-ignore: decorator
@inline function P(a: StaticArray<f32>): usize { return changetype<usize>(a); }

const n = 11;
const STEPS = 3;

function rand(k: i32, lo: f64, hi: f64): StaticArray<f32> {
  const a = new StaticArray<f32>(k);
  for (let i = 0; i < k; i++) a[i] = <f32>(lo + (hi - lo) * rnd());
  return a;
}
function zeros(k: i32): StaticArray<f32> { return new StaticArray<f32>(k); }
function z64(k: i32): StaticArray<f64> { return new StaticArray<f64>(k); }

/** Counts w entries off the f64 reference by more than 1e-5 relative (+1e-7). */
function off(w: StaticArray<f32>, ref: StaticArray<f64>, what: string): i32 {
  let bad = 0;
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(<f64>w[i] - ref[i]) <= 1e-5 * Math.abs(ref[i]) + 1e-7)) {
      if (bad < 3) log<string>(what + ' [' + i.toString() + '] got ' + w[i].toString() + ' ref ' + ref[i].toString());
      bad++;
    }
  }
  return bad;
}

describe('sgd_step_f32', () => {
  it('follows the documented SGD update (momentum, dampening, nesterov, weight decay) over 3 steps', () => {
    // [momentum, dampening, weightDecay, nesterov]
    const cfg: f64[] = [0, 0, 0, 0, 0, 0, 0.01, 0, 0.9, 0, 0, 0, 0.9, 0.3, 0.01, 0, 0.9, 0, 0.02, 1];
    for (let k = 0; k < cfg.length; k += 4) {
      resetRnd(100 + k);
      const mom = cfg[k], damp = cfg[k + 1], wd = cfg[k + 2], nest = <i32>cfg[k + 3];
      const lr = 0.05;
      const w = rand(n, -1, 1), buf = zeros(n);
      const rw = z64(n), rb = z64(n);
      for (let i = 0; i < n; i++) rw[i] = <f64>w[i];
      for (let t = 1; t <= STEPS; t++) {
        const g = rand(n, -1, 1);
        sgd_step_f32(n, P(w), P(g), mom != 0 ? P(buf) : 0, lr, mom, damp, wd, nest, t == 1 ? 1 : 0);
        for (let i = 0; i < n; i++) {
          let gi = <f64>g[i] + wd * rw[i];
          if (mom != 0) {
            rb[i] = t > 1 ? mom * rb[i] + (1 - damp) * gi : gi;
            gi = nest ? gi + mom * rb[i] : rb[i];
          }
          rw[i] -= lr * gi;
        }
        expect(off(w, rw, 'sgd cfg ' + (k / 4).toString())).toBe(0);
      }
    }
  });
});

describe('adam_step_f32', () => {
  it('follows the documented Adam / AdamW / AMSGrad updates over 3 steps', () => {
    // [weightDecay, decoupled, amsgrad]
    const cfg: i32[] = [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1];
    const lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (let k = 0; k < cfg.length; k += 3) {
      resetRnd(200 + k);
      const wd: f64 = cfg[k] ? 0.05 : 0;
      const dec = cfg[k + 1], ams = cfg[k + 2];
      const w = rand(n, -1, 1), m = zeros(n), v = zeros(n), vm = zeros(n);
      const rw = z64(n), rm = z64(n), rv = z64(n), rvm = z64(n);
      for (let i = 0; i < n; i++) rw[i] = <f64>w[i];
      for (let t = 1; t <= STEPS; t++) {
        const g = rand(n, -1, 1);
        adam_step_f32(n, P(w), P(g), P(m), P(v), ams ? P(vm) : 0, lr, b1, b2, eps, wd, dec, ams, t);
        for (let i = 0; i < n; i++) {
          let gi = <f64>g[i];
          if (dec) rw[i] -= lr * wd * rw[i];
          else gi += wd * rw[i];
          rm[i] = b1 * rm[i] + (1 - b1) * gi;
          rv[i] = b2 * rv[i] + (1 - b2) * gi * gi;
          const mh = rm[i] / (1 - Math.pow(b1, t));
          // AMSGrad: PyTorch keeps the maximum of the raw second moment and divides it by the
          // current bias correction (torch/optim/adam.py), which the docs write as max of v-hat
          rvm[i] = Math.max(rvm[i], rv[i]);
          const vh = (ams ? rvm[i] : rv[i]) / (1 - Math.pow(b2, t));
          rw[i] -= lr * mh / (Math.sqrt(vh) + eps);
        }
        expect(off(w, rw, 'adam cfg ' + (k / 3).toString())).toBe(0);
      }
    }
  });
});

describe('rmsprop_step_f32', () => {
  it('follows the documented RMSprop update (centered, momentum, weight decay) over 3 steps', () => {
    // [centered, momentum, weightDecay]
    const cfg: f64[] = [0, 0, 0, 1, 0, 0, 0, 0.9, 0, 1, 0.9, 0.01];
    const lr = 0.01, alpha = 0.99, eps = 1e-8;
    for (let k = 0; k < cfg.length; k += 3) {
      resetRnd(300 + k);
      const cen = <i32>cfg[k], mom = cfg[k + 1], wd = cfg[k + 2];
      const w = rand(n, -1, 1), sq = zeros(n), buf = zeros(n), ga = zeros(n);
      const rw = z64(n), rs = z64(n), rb = z64(n), rg = z64(n);
      for (let i = 0; i < n; i++) rw[i] = <f64>w[i];
      for (let t = 1; t <= STEPS; t++) {
        const g = rand(n, -1, 1);
        rmsprop_step_f32(n, P(w), P(g), P(sq), mom > 0 ? P(buf) : 0, cen ? P(ga) : 0, lr, alpha, eps, wd, mom, cen);
        for (let i = 0; i < n; i++) {
          const gi = <f64>g[i] + wd * rw[i];
          rs[i] = alpha * rs[i] + (1 - alpha) * gi * gi;
          let vt = rs[i];
          if (cen) {
            rg[i] = alpha * rg[i] + (1 - alpha) * gi;
            vt -= rg[i] * rg[i];
          }
          if (mom > 0) {
            rb[i] = mom * rb[i] + gi / (Math.sqrt(vt) + eps);
            rw[i] -= lr * rb[i];
          } else rw[i] -= lr * gi / (Math.sqrt(vt) + eps);
        }
        expect(off(w, rw, 'rmsprop cfg ' + (k / 3).toString())).toBe(0);
      }
    }
  });
});

describe('sumsq_f32 / scale_f32', () => {
  it('sum of squares in f64 and in-place scaling on odd lengths', () => {
    resetRnd(7);
    for (let k = 1; k <= 23; k += 11) {
      const x = rand(k, -3, 3);
      let s: f64 = 0;
      for (let i = 0; i < k; i++) s += <f64>x[i] * <f64>x[i];
      expect(Math.abs(sumsq_f32(P(x), k) - s) <= 1e-12 * s).toBe(true);
      const y = new StaticArray<f32>(k + 1);
      for (let i = 0; i < k; i++) y[i] = x[i];
      y[k] = 5;
      scale_f32(P(y), k, 0.37);
      for (let i = 0; i < k; i++) expect(y[i]).toBe(x[i] * <f32>0.37);
      expect(y[k]).toBe(5);
    }
  });
});

describe('dropout_mask_f32', () => {
  it('is a function of (seed, index): any split gives the same mask; values 0 or 1/(1-p); keep rate 1-p', () => {
    const N = 10007;
    const p: f32 = 0.3;
    const a = new StaticArray<f32>(N), b = new StaticArray<f32>(N);
    dropout_mask_f32(P(a), N, p, 12345, 1000);
    // pieces of odd lengths at odd offsets
    let i0 = 0, len = 1;
    while (i0 < N) {
      const l = min(len, N - i0);
      dropout_mask_f32(P(b) + (<usize>i0 << 2), l, p, 12345, 1000 + i0);
      i0 += l;
      len = len * 3 + 1;
    }
    const keep = <f32>(1.0 / (1.0 - <f64>p));
    let diff = 0, kept = 0, other = 0, scal = 0;
    for (let i = 0; i < N; i++) {
      if (reinterpret<u32>(a[i]) != reinterpret<u32>(b[i])) diff++;
      if (a[i] == keep) kept++;
      else if (a[i] != 0) other++;
      const want: f32 = dropout_uniform(12345, <u32>(1000 + i)) >= p ? keep : 0;
      if (want != a[i]) scal++;
    }
    expect(diff).toBe(0);
    expect(other).toBe(0);
    expect(scal).toBe(0);
    // binomial: mean 0.7 N, sd sqrt(N 0.21) ~ 46; allow 5 sd
    expect(Math.abs(<f64>kept - 0.7 * <f64>N) < 230).toBe(true, 'kept ' + kept.toString());
    // another seed gives another mask
    dropout_mask_f32(P(b), N, p, 12346, 1000);
    diff = 0;
    for (let i = 0; i < N; i++) if (a[i] != b[i]) diff++;
    expect(diff > N / 4).toBe(true);
    // neighbouring indices are not correlated: P(both kept) ~ 0.49
    let both = 0;
    for (let i = 0; i + 1 < N; i++) if (a[i] != 0 && a[i + 1] != 0) both++;
    expect(Math.abs(<f64>both / <f64>(N - 1) - 0.49) < 0.03).toBe(true);
    // p = 0 keeps all at 1; p = 1 drops all
    dropout_mask_f32(P(b), 13, 0, 1, 0);
    for (let i = 0; i < 13; i++) expect(b[i]).toBe(1);
    dropout_mask_f32(P(b), 13, 1, 1, 0);
    for (let i = 0; i < 13; i++) expect(b[i]).toBe(0);
  });
});
