/// <reference types="@as-pect/assembly/types/as-pect" />
// unary_grad_f32 (eltwiseGrad.ts): central finite differences of the plain f64 forward
// references (eltwise_ref.ts) away from the kinks, PyTorch 1.13's values at the kinks, and
// bit-identical results for any split. prelu_grad_f32 against the derivative of the f64
// PReLU written out per element.
import {
  ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_LEAKY, ACT_SIGMOID, ACT_TANH, ACT_HARDSIGMOID,
  ACT_HARDSWISH, ACT_SILU, ACT_GELU_ERF, ACT_GELU_TANH, ACT_ELU, ACT_SELU,
} from '../codes';
import { unary_f32 } from '../eltwise';
import { prelu_grad_f32, unary_grad_f32 } from '../eltwiseGrad';
import { unaryRef } from './eltwise_ref';
import { rnd, resetRnd } from './math_ref';
import { SPLITS } from './gemm_ref';

// @ts-ignore: decorator
@inline function P(a: StaticArray<f32>): usize { return changetype<usize>(a); }

const OPS: i32[] = [ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_LEAKY, ACT_SIGMOID, ACT_TANH, ACT_HARDSIGMOID,
  ACT_HARDSWISH, ACT_SILU, ACT_GELU_ERF, ACT_GELU_TANH, ACT_ELU];

function p0Of(op: i32): f32 {
  if (op == ACT_CLAMP) return -1.5; if (op == ACT_LEAKY) return 0.1; if (op == ACT_HARDSIGMOID) return <f32>(1.0 / 6.0);
  if (op == ACT_ELU) return 0.7;
  return 0;
}
function p1Of(op: i32): f32 {
  if (op == ACT_CLAMP) return 2; if (op == ACT_HARDSIGMOID) return 0.5;
  return 0;
}
/** Distance from x to the op's nearest kink (Infinity for smooth ops). */
function kinkDist(op: i32, x: f64): f64 {
  if (op == ACT_RELU || op == ACT_LEAKY || op == ACT_ELU) return Math.abs(x);
  if (op == ACT_CLAMP) return Math.min(Math.abs(x + 1.5), Math.abs(x - 2));
  if (op == ACT_HARDSIGMOID || op == ACT_HARDSWISH) return Math.min(Math.abs(x + 3), Math.abs(x - 3));
  return Infinity;
}

describe('unary_grad_f32', () => {
  it('matches central finite differences of the f64 forward for every supported op (odd n, away from kinks)', () => {
    const n = 203;
    resetRnd(7);
    const x = new StaticArray<f32>(n), y = new StaticArray<f32>(n), dy = new StaticArray<f32>(n), dx = new StaticArray<f32>(n);
    for (let k = 0; k < OPS.length; k++) {
      const op = OPS[k];
      const p0 = p0Of(op), p1 = p1Of(op);
      for (let i = 0; i < n; i++) {
        let v = -6.0 + 12.0 * rnd();
        while (kinkDist(op, v) < 1e-2) v = -6.0 + 12.0 * rnd();
        x[i] = <f32>v;
        dy[i] = <f32>(rnd() * 2 - 1);
      }
      unary_f32(op, P(x), P(y), 1, n, n, n, p0, p1, 0, 1);
      unary_grad_f32(op, P(x), P(y), P(dy), P(dx), n, p0, p1, 0, 1);
      let bad = 0;
      for (let i = 0; i < n; i++) {
        const xv = <f64>x[i];
        const h = 1e-5;
        const fd = (unaryRef(op, xv + h, p0, p1) - unaryRef(op, xv - h, p0, p1)) / (2 * h);
        const ref = <f64>dy[i] * fd;
        if (!(Math.abs(<f64>dx[i] - ref) <= 1e-4 * Math.abs(ref) + 2e-6)) {
          if (bad < 4) log<string>('op ' + op.toString() + ' x=' + xv.toString() + ' got ' + dx[i].toString() + ' fd ' + ref.toString());
          bad++;
        }
      }
      expect(bad).toBe(0, 'op ' + op.toString());
    }
  });

  it('takes PyTorch 1.13 values at the kinks', () => {
    const x = new StaticArray<f32>(1), y = new StaticArray<f32>(1), dy = new StaticArray<f32>(1), dx = new StaticArray<f32>(1);
    dy[0] = 2;
    // [op, x, p0, p1, expected dx for dy = 2]
    const cases: f64[] = [
      ACT_RELU, 0, 0, 0, 0,
      ACT_RELU, -0.0, 0, 0, 0,
      ACT_CLAMP, -1, -1, 1, 0, // hardtanh: strictly inside only
      ACT_CLAMP, 1, -1, 1, 0,
      ACT_CLAMP, 0, 0, 6, 0, // ReLU6 at 0
      ACT_CLAMP, 6, 0, 6, 0,
      ACT_CLAMP, 5.5, 0, 6, 2,
      ACT_LEAKY, 0, 0.1, 0, 0.2, // slope at x <= 0
      ACT_HARDSIGMOID, -3, 1.0 / 6.0, 0.5, 0,
      ACT_HARDSIGMOID, 3, 1.0 / 6.0, 0.5, 0,
      ACT_HARDSIGMOID, 2.5, 1.0 / 6.0, 0.5, 2.0 / 6.0,
      ACT_HARDSWISH, -3.0001, 0, 0, 0,
      ACT_HARDSWISH, -3, 0, 0, -1, // x/3 + 0.5 at x = -3
      ACT_HARDSWISH, 3, 0, 0, 3, // 1.5 at x = 3
      ACT_HARDSWISH, 3.0001, 0, 0, 2,
      ACT_ELU, 0, 0.7, 0, 1.4, // alpha exp(0) at x <= 0
    ];
    for (let k = 0; k < cases.length; k += 5) {
      const op = <i32>cases[k];
      x[0] = <f32>cases[k + 1];
      unary_grad_f32(op, P(x), P(x), P(dy), P(dx), 1, <f32>cases[k + 2], <f32>cases[k + 3], 0, 1);
      expect(Math.abs(<f64>dx[0] - cases[k + 4]) <= 1e-6).toBe(true, 'op ' + op.toString() + ' x=' + x[0].toString() + ' got ' + dx[0].toString());
    }
    // sigmoid / tanh read the saved y, not x
    x[0] = 100; y[0] = 0.25;
    unary_grad_f32(ACT_SIGMOID, P(x), P(y), P(dy), P(dx), 1, 0, 0, 0, 1);
    expect(dx[0]).toBe(<f32>(2 * 0.75 * 0.25));
    unary_grad_f32(ACT_TANH, P(x), P(y), P(dy), P(dx), 1, 0, 0, 0, 1);
    expect(dx[0]).toBe(<f32>(2 * (1 - 0.0625)));
    // relu masks a non-finite dy to 0 where x <= 0, as PyTorch's threshold_backward selects
    x[0] = -1; dy[0] = Infinity;
    unary_grad_f32(ACT_RELU, P(x), P(x), P(dy), P(dx), 1, 0, 0, 0, 1);
    expect(dx[0]).toBe(0);
  });

  it('is bit-identical for any split, in place over dy too; unsupported ops write NaN', () => {
    const n = 37;
    resetRnd(3);
    const x = new StaticArray<f32>(n), y = new StaticArray<f32>(n), dy = new StaticArray<f32>(n);
    const a = new StaticArray<f32>(n), b = new StaticArray<f32>(n);
    for (let i = 0; i < n; i++) { x[i] = <f32>(rnd() * 8 - 4); dy[i] = <f32>(rnd() * 2 - 1); }
    for (let k = 0; k < OPS.length; k++) {
      const op = OPS[k];
      unary_f32(op, P(x), P(y), 1, n, n, n, p0Of(op), p1Of(op), 0, 1);
      unary_grad_f32(op, P(x), P(y), P(dy), P(a), n, p0Of(op), p1Of(op), 0, 1);
      for (let s = 0; s < SPLITS.length; s++) {
        for (let i = 0; i < n; i++) b[i] = 777;
        for (let part = 0; part < SPLITS[s]; part++) unary_grad_f32(op, P(x), P(y), P(dy), P(b), n, p0Of(op), p1Of(op), part, SPLITS[s]);
        let diff = 0;
        for (let i = 0; i < n; i++) if (reinterpret<u32>(a[i]) != reinterpret<u32>(b[i])) diff++;
        expect(diff).toBe(0, 'op ' + op.toString() + ' parts ' + SPLITS[s].toString());
      }
      for (let i = 0; i < n; i++) b[i] = dy[i];
      unary_grad_f32(op, P(x), P(y), P(b), P(b), n, p0Of(op), p1Of(op), 0, 1);
      let diff = 0;
      for (let i = 0; i < n; i++) if (reinterpret<u32>(a[i]) != reinterpret<u32>(b[i])) diff++;
      expect(diff).toBe(0, 'in place, op ' + op.toString());
    }
    unary_grad_f32(ACT_SELU, P(x), P(y), P(dy), P(a), n, 1.6, 1.05, 0, 1);
    let nan = 0;
    for (let i = 0; i < n; i++) if (isNaN(a[i])) nan++;
    expect(nan).toBe(n);
  });
});

describe('prelu_grad_f32', () => {
  it('equals the f64 derivatives of PReLU per channel and shared (odd planes, x = 0 on the slope side)', () => {
    const N = 3, C = 5, HW = 11;
    const n = N * C * HW;
    resetRnd(11);
    const x = new StaticArray<f32>(n), dy = new StaticArray<f32>(n), dx = new StaticArray<f32>(n);
    const a = new StaticArray<f32>(C), da = new StaticArray<f32>(C);
    for (let i = 0; i < n; i++) {
      x[i] = i % 7 == 0 ? 0 : <f32>(rnd() * 4 - 2);
      dy[i] = <f32>(rnd() * 2 - 1);
    }
    for (let c = 0; c < C; c++) a[c] = <f32>(0.1 + 0.13 * <f64>c);
    for (let shared = 0; shared < 2; shared++) {
      for (let c = 0; c < C; c++) da[c] = 0.5; // accumulates onto what is there
      prelu_grad_f32(P(x), P(a), P(dy), P(dx), P(da), N, C, HW, shared == 0 ? 1 : 0);
      const want = new StaticArray<f64>(C);
      for (let i = 0; i < n; i++) {
        const c = (i / HW) % C;
        const slope = <f64>a[shared == 0 ? c : 0];
        const xv = <f64>x[i], g = <f64>dy[i];
        // y = x for x > 0, slope * x otherwise (PyTorch: the slope side at x = 0)
        const ref = xv > 0 ? g : slope * g;
        expect(Math.abs(<f64>dx[i] - ref) <= 1e-7 * Math.abs(ref)).toBe(true);
        if (!(xv > 0)) want[shared == 0 ? c : 0] += xv * g;
      }
      for (let c = 0; c < (shared == 0 ? C : 1); c++)
        expect(Math.abs(<f64>da[c] - 0.5 - want[c]) <= 1e-5 * (1 + Math.abs(want[c]))).toBe(true);
      if (shared == 1) for (let c = 1; c < C; c++) expect(da[c]).toBe(<f32>0.5);
    }
  });
});
