/// <reference types="@as-pect/assembly/types/as-pect" />
// eltwise.ts kernels against the scalar references in eltwise_ref.ts / math_ref.ts.
import { SPLITS } from './gemm_ref';
import {
  ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_LEAKY, ACT_SIGMOID, ACT_TANH, ACT_HARDSIGMOID,
  ACT_HARDSWISH, ACT_SILU, ACT_GELU_ERF, ACT_GELU_TANH, ACT_ELU, ACT_SELU, ACT_CELU,
  ACT_SOFTPLUS, ACT_SOFTSIGN, ACT_MISH, ACT_THRESHOLDED_RELU, ACT_ABS, ACT_NEG, ACT_EXP,
  ACT_LOG, ACT_SQRT, ACT_ERF, ACT_RECIPROCAL, ACT_FLOOR, ACT_CEIL, ACT_SHRINK,
  ACT_SCALE_SHIFT, ACT_SQUARE, ACT_POW_SCALAR, ACT_COUNT, ACT_HARDSHRINK_UNUSED,
  BIN_COUNT, BIN_POW, BIN_SUB,
  RED_SUM, RED_MEAN, RED_MAX, RED_MIN, RED_PROD, RED_SUMSQ, RED_L1, RED_L2, RED_LOGSUMEXP, RED_COUNT,
} from '../codes';
import {
  unary_f32, binary_f32, binary_prepare, binary_rows_f32, softmax_f32, layernorm_f32, channel_affine_f32, instancenorm_f32,
  lrn_f32, reduce_f32, fill_f32, find_nonfinite_f32,
} from '../eltwise';
import { unaryRef, binaryRef, close } from './eltwise_ref';
import { rnd, resetRnd } from './math_ref';
import { SPLITS } from './gemm_ref';

// @ts-ignore: decorator
@inline function P(a: StaticArray<f32>): usize { return changetype<usize>(a); }
// @ts-ignore: decorator
@inline function PI(a: StaticArray<i32>): usize { return changetype<usize>(a); }

const SENT: f32 = 777.25;

function sweepValues(): StaticArray<f32> {
  const base: f32[] = [0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 1e-3, -1e-3, 0.3, -0.3, 0.5, -0.5, 0.625, -0.625,
    1, -1, 2.5, -2.5, 3, -3, 6, -6, 9, -9, 15, -15, 20, -20, 30, -30, 50, -50, 88, -88, 100, -100, 1000, -1000,
    Infinity, -Infinity, NaN];
  const n = base.length + 400;
  const v = new StaticArray<f32>(n);
  for (let i = 0; i < base.length; i++) v[i] = base[i];
  for (let i = 0; i < 400; i++) v[base.length + i] = <f32>(-12.0 + 24.0 * <f64>i / 399.0);
  return v;
}

// per-op parameters and relative tolerance (see the test names)
function p0Of(op: i32): f32 {
  if (op == ACT_CLAMP) return -1; if (op == ACT_LEAKY) return 0.1; if (op == ACT_HARDSIGMOID) return 0.2;
  if (op == ACT_ELU) return 0.7; if (op == ACT_SELU) return 1.6732632; if (op == ACT_CELU) return 1.5;
  if (op == ACT_THRESHOLDED_RELU) return 1.0; if (op == ACT_SHRINK) return 0.5; if (op == ACT_SCALE_SHIFT) return 2.0;
  if (op == ACT_POW_SCALAR) return 1.7;
  return 0;
}
function p1Of(op: i32): f32 {
  if (op == ACT_CLAMP) return 6; if (op == ACT_HARDSIGMOID) return 0.5; if (op == ACT_SELU) return 1.050701;
  if (op == ACT_SHRINK) return 0.2; if (op == ACT_SCALE_SHIFT) return -1.0;
  return 0;
}
// exact-arithmetic ops: 1 rounding; primitives: ~2.5 ulp; composites: conditioning of f32
// inputs (e.g. gelu_tanh(-10) amplifies the rounding of u by |2u|) -> 2e-6 relative
function rtolOf(op: i32): f64 {
  if (op == ACT_EXP || op == ACT_LOG || op == ACT_SIGMOID || op == ACT_TANH || op == ACT_ERF ||
      op == ACT_SQRT || op == ACT_RECIPROCAL) return 3e-7;
  if (op == ACT_SILU || op == ACT_GELU_ERF || op == ACT_GELU_TANH || op == ACT_ELU || op == ACT_SELU ||
      op == ACT_CELU || op == ACT_SOFTPLUS || op == ACT_SOFTSIGN || op == ACT_MISH || op == ACT_HARDSWISH ||
      op == ACT_HARDSIGMOID || op == ACT_POW_SCALAR) return 2e-6;
  return 1.2e-7;
}
// absolute floor: f32 cancellation inherent in the op's own formula (p0 x + p1 near 0, ...)
function atolOf(op: i32): f64 {
  return rtolOf(op) == 2e-6 ? 1e-7 : 1e-37;
}

/** Runs unary op on a rows x cols block with ld > cols, checks values and untouched gaps. */
function checkUnary(op: i32, p0: f32, p1: f32, rows: i32, cols: i32, ldx: i32, ldy: i32, inPlace: bool): i32 {
  const vals = sweepValues();
  const x = new StaticArray<f32>(rows * ldx + 4);
  const y = new StaticArray<f32>(rows * ldy + 4);
  let k = 0;
  for (let i = 0; i < x.length; i++) { x[i] = vals[k]; k = (k + 1) % vals.length; }
  for (let i = 0; i < y.length; i++) y[i] = SENT;
  const orig = new StaticArray<f32>(x.length);
  for (let i = 0; i < x.length; i++) orig[i] = x[i];
  const out = inPlace ? x : y;
  const ldo = inPlace ? ldx : ldy;
  unary_f32(op, P(x), P(out), rows, cols, ldx, ldo, p0, p1, 0, 1);
  let bad = 0;
  if (!inPlace) {
    // split into parts run one after another (rows, or 4-float column groups): the same bits
    for (let sp = 0; sp < SPLITS.length; sp++) {
      const z = new StaticArray<f32>(y.length);
      for (let i = 0; i < z.length; i++) z[i] = SENT;
      for (let part = 0; part < SPLITS[sp]; part++) unary_f32(op, P(x), P(z), rows, cols, ldx, ldo, p0, p1, part, SPLITS[sp]);
      for (let i = 0; i < z.length; i++) if (reinterpret<u32>(z[i]) != reinterpret<u32>(y[i])) bad++;
    }
  }
  const rtol = rtolOf(op);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < ldo; c++) {
      const got = out[r * ldo + c];
      if (c < cols) {
        const xv = orig[r * ldx + c];
        const ref = unaryRef(op, <f64>xv, <f64>p0, <f64>p1);
        // GELU (erf form) uses verfFast: |erf error| <= 4.2e-7 (tools/fit_erf.py), so 0.5|x| 4.2e-7 absolute
        const atol = op == ACT_GELU_ERF ? 2.1e-7 * Math.max(1, Math.abs(<f64>xv)) + 1e-7 : atolOf(op);
        if (!close(got, ref, rtol, atol)) {
          if (bad < 5) log<string>('op ' + op.toString() + ' x=' + xv.toString() + ' got ' + got.toString() + ' ref ' + ref.toString());
          bad++;
        }
      } else {
        const want = inPlace ? orig[r * ldx + c] : SENT;
        if (!(got == want || (isNaN(got) && isNaN(want)))) bad++;
      }
    }
  }
  return bad;
}

describe('find_nonfinite_f32', () => {
  it('finds the first NaN or ±Infinity at every position of odd lengths, and nothing in finite data', () => {
    const bad: f32[] = [NaN, Infinity, -Infinity];
    for (let n = 1; n <= 37; n += 6) {
      const x = new StaticArray<f32>(n);
      // finite extremes included: the largest float, the smallest subnormal, -0
      for (let i = 0; i < n; i++) x[i] = i % 4 == 0 ? f32.MAX_VALUE : i % 4 == 1 ? -f32.MAX_VALUE : i % 4 == 2 ? f32.MIN_VALUE : -0.0;
      expect(find_nonfinite_f32(P(x), n)).toBe(-1);
      for (let k = 0; k < n; k++)
        for (let b = 0; b < bad.length; b++) {
          const keep = x[k];
          x[k] = bad[b];
          if (k + 1 < n) x[n - 1] = bad[(b + 1) % 3]; // a later bad value must not be reported instead
          expect(find_nonfinite_f32(P(x), n)).toBe(k);
          x[k] = keep;
          if (k + 1 < n) x[n - 1] = (n - 1) % 4 == 0 ? f32.MAX_VALUE : (n - 1) % 4 == 1 ? -f32.MAX_VALUE : (n - 1) % 4 == 2 ? f32.MIN_VALUE : -0.0;
        }
    }
  });
});

describe('unary_f32', () => {
  it('every ACT_* op on a contiguous sweep (0, +-tiny, +-large, +-Inf, NaN, -12..12); rtol per op class (1.2e-7 exact ops, 3e-7 primitives, 2e-6 + 1e-7 abs composites)', () => {
    for (let op = 0; op < ACT_COUNT; op++) {
      if (op == ACT_HARDSHRINK_UNUSED) continue;
      const n = sweepValues().length;
      expect<i32>(checkUnary(op, p0Of(op), p1Of(op), 1, n, n, n, false)).toBe(0, 'op ' + op.toString());
    }
  });
  it('strided blocks: cols 1,3,5,7,13 with ld > cols, gaps untouched', () => {
    const colsList: i32[] = [1, 3, 5, 7, 13];
    for (let op = 0; op < ACT_COUNT; op++) {
      if (op == ACT_HARDSHRINK_UNUSED) continue;
      for (let i = 0; i < colsList.length; i++) {
        const c = colsList[i];
        expect<i32>(checkUnary(op, p0Of(op), p1Of(op), 5, c, c + 3, c + 2, false)).toBe(0, 'op ' + op.toString());
      }
    }
  });
  it('in place (y == x), strided and contiguous', () => {
    for (let op = 0; op < ACT_COUNT; op++) {
      if (op == ACT_HARDSHRINK_UNUSED) continue;
      expect<i32>(checkUnary(op, p0Of(op), p1Of(op), 4, 13, 17, 17, true)).toBe(0);
      expect<i32>(checkUnary(op, p0Of(op), p1Of(op), 3, 9, 9, 9, true)).toBe(0);
    }
  });
  it('POW_SCALAR special exponents 0, 0.5, 1, 2, 3, -1, -0.5 match Math.pow', () => {
    const ps: f32[] = [0, 0.5, 1, 2, 3, -1, -0.5, 2.5];
    for (let i = 0; i < ps.length; i++) {
      const n = sweepValues().length;
      expect<i32>(checkUnary(ACT_POW_SCALAR, ps[i], 0, 1, n, n, n, false)).toBe(0);
    }
  });
  it('limits: sigmoid(+-100), tanh(+-20), erf(+-5) exact; exp(-100) tiny', () => {
    const x = new StaticArray<f32>(4);
    const y = new StaticArray<f32>(4);
    x[0] = 100; x[1] = -100; x[2] = 20; x[3] = -20;
    unary_f32(ACT_SIGMOID, P(x), P(y), 1, 2, 2, 2, 0, 0, 0, 1);
    expect<f32>(y[0]).toBe(1); expect<f32>(y[1]).toBeLessThan(1e-43);
    unary_f32(ACT_TANH, P(x) + 8, P(y), 1, 2, 2, 2, 0, 0, 0, 1);
    expect<f32>(y[0]).toBe(1); expect<f32>(y[1]).toBe(-1);
    x[0] = 5; x[1] = -5;
    unary_f32(ACT_ERF, P(x), P(y), 1, 2, 2, 2, 0, 0, 0, 1);
    expect<f32>(y[0]).toBe(1); expect<f32>(y[1]).toBe(-1);
  });
});

// ---- binary ----

function denseStrides(rank: i32, shape: StaticArray<i32>, st: StaticArray<i32>): void {
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) { st[d] = shape[d] == 1 ? 0 : s; s *= shape[d]; }
}

/** out shape `shape`; a has shape sa (1 or shape[d]), b has sb; checks every op exactly. */
function checkBinary(rank: i32, shape: StaticArray<i32>, sa: StaticArray<i32>, sb: StaticArray<i32>, swapPrelu: bool = false): i32 {
  let total = 1, na = 1, nb = 1;
  for (let d = 0; d < rank; d++) { total *= shape[d]; na *= sa[d]; nb *= sb[d]; }
  const a = new StaticArray<f32>(na);
  const b = new StaticArray<f32>(nb);
  for (let i = 0; i < na; i++) a[i] = <f32>(rnd() * 8 - 4);
  for (let i = 0; i < nb; i++) b[i] = <f32>(rnd() * 4 + 0.25) * (rnd() < 0.3 ? -1 : 1);
  if (na > 2) { a[1] = NaN; a[2] = 0; }
  const ast = new StaticArray<i32>(6);
  const bst = new StaticArray<i32>(6);
  denseStrides(rank, sa, ast);
  denseStrides(rank, sb, bst);
  const out = new StaticArray<f32>(total + 1);
  const idx = new StaticArray<i32>(6);
  let bad = 0;
  for (let op = 0; op < BIN_COUNT; op++) {
    out[total] = SENT;
    binary_f32(op, P(out), P(a), P(b), rank, PI(shape), PI(ast), PI(bst));
    for (let d = 0; d < 6; d++) idx[d] = 0;
    for (let i = 0; i < total; i++) {
      let oa = 0, ob = 0;
      for (let d = 0; d < rank; d++) { oa += idx[d] * ast[d]; ob += idx[d] * bst[d]; }
      const ref = binaryRef(op, a[oa], b[ob]);
      const got = out[i];
      if (!(got == ref || (isNaN(got) && isNaN(ref)))) {
        if (bad < 3) log<string>('bin op ' + op.toString() + ' i=' + i.toString() + ' got ' + got.toString() + ' ref ' + ref.toString());
        bad++;
      }
      for (let d = rank - 1; d >= 0; d--) { idx[d]++; if (idx[d] < shape[d]) break; idx[d] = 0; }
    }
    if (out[total] != SENT) bad++;
  }
  // the threads' form: parameters prepared once, bands of rows run in turn give the same bits
  const prm = new StaticArray<i32>(24);
  if (binary_prepare(rank, PI(shape), PI(ast), PI(bst), PI(prm)) != 0) {
    binary_f32(BIN_SUB, P(out), P(a), P(b), rank, PI(shape), PI(ast), PI(bst));
    const cut = new StaticArray<f32>(total + 1);
    for (let s = 0; s < SPLITS.length; s++) {
      for (let i = 0; i <= total; i++) cut[i] = SENT;
      for (let part = 0; part < SPLITS[s]; part++) binary_rows_f32(BIN_SUB, P(cut), P(a), P(b), PI(prm), part, SPLITS[s]);
      for (let i = 0; i < total; i++) if (reinterpret<u32>(cut[i]) != reinterpret<u32>(out[i])) bad++;
      if (cut[total] != SENT) bad++;
    }
  }
  return bad;
}

function arr(v: i32[]): StaticArray<i32> {
  const a = new StaticArray<i32>(6);
  for (let i = 0; i < v.length; i++) a[i] = v[i];
  return a;
}

describe('binary_f32', () => {
  it('same shape, ranks 1..6, odd sizes (exact vs f32 scalar ops)', () => {
    resetRnd(11);
    expect<i32>(checkBinary(1, arr([13]), arr([13]), arr([13]))).toBe(0);
    expect<i32>(checkBinary(2, arr([3, 7]), arr([3, 7]), arr([3, 7]))).toBe(0);
    expect<i32>(checkBinary(6, arr([2, 1, 3, 2, 3, 5]), arr([2, 1, 3, 2, 3, 5]), arr([2, 1, 3, 2, 3, 5]))).toBe(0);
  });
  it('NCHW per-channel (b innermost broadcast, splat path) and scalar b / scalar a', () => {
    expect<i32>(checkBinary(4, arr([2, 5, 3, 7]), arr([2, 5, 3, 7]), arr([1, 5, 1, 1]))).toBe(0);
    expect<i32>(checkBinary(3, arr([2, 3, 9]), arr([2, 3, 9]), arr([1, 1, 1]))).toBe(0);
    expect<i32>(checkBinary(3, arr([2, 3, 9]), arr([1, 1, 1]), arr([2, 3, 9]))).toBe(0);
    expect<i32>(checkBinary(3, arr([2, 3, 9]), arr([2, 3, 1]), arr([2, 3, 9]))).toBe(0);
  });
  it('NHWC squeeze-excitation channel scale (b [N,1,1,C]) with C 16 and 13', () => {
    expect<i32>(checkBinary(4, arr([2, 3, 5, 16]), arr([2, 3, 5, 16]), arr([2, 1, 1, 16]))).toBe(0);
    expect<i32>(checkBinary(4, arr([2, 3, 5, 13]), arr([2, 3, 5, 13]), arr([2, 1, 1, 13]))).toBe(0);
  });
  it('six dims that cannot merge (alternating broadcasts): every carry of the row walk', () => {
    expect<i32>(checkBinary(6, arr([2, 3, 2, 3, 2, 3]), arr([2, 1, 2, 1, 2, 1]), arr([1, 3, 1, 3, 1, 3]))).toBe(0);
    expect<i32>(checkBinary(6, arr([2, 3, 2, 3, 2, 3]), arr([1, 3, 1, 3, 1, 3]), arr([2, 1, 2, 1, 2, 1]))).toBe(0);
    expect<i32>(checkBinary(6, arr([3, 2, 3, 2, 2, 5]), arr([3, 2, 1, 2, 2, 1]), arr([1, 2, 3, 1, 2, 5]))).toBe(0);
  });
  it('broadcast in every position, both sides, random shapes of rank 1..6', () => {
    resetRnd(99);
    const sh = new StaticArray<i32>(6), sa = new StaticArray<i32>(6), sb = new StaticArray<i32>(6);
    for (let t = 0; t < 120; t++) {
      const rank = 1 + (t % 6);
      for (let d = 0; d < rank; d++) {
        sh[d] = 1 + <i32>(rnd() * 5);
        const r = rnd();
        sa[d] = r < 0.25 ? 1 : sh[d];
        sb[d] = r > 0.7 ? 1 : sh[d];
      }
      expect<i32>(checkBinary(rank, sh, sa, sb)).toBe(0);
    }
  });
});

// ---- softmax ----

function checkSoftmax(outer: i32, axis: i32, inner: i32, lg: i32, scale: f64, inPlace: bool): i32 {
  const n = outer * axis * inner;
  const x = new StaticArray<f32>(n);
  const y = new StaticArray<f32>(n + 1);
  for (let i = 0; i < n; i++) x[i] = <f32>((rnd() * 2 - 1) * scale);
  if (n > 3) x[3] = <f32>(1000.0 * (scale > 100 ? 1 : 0) + x[3]);
  const orig = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) orig[i] = x[i];
  y[n] = SENT;
  softmax_f32(P(x), inPlace ? P(x) : P(y), outer, axis, inner, lg);
  const out = inPlace ? x : y;
  let bad = 0;
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
    let m: f64 = -Infinity;
    for (let k = 0; k < axis; k++) m = Math.max(m, <f64>orig[(o * axis + k) * inner + j]);
    let s: f64 = 0;
    for (let k = 0; k < axis; k++) s += Math.exp(<f64>orig[(o * axis + k) * inner + j] - m);
    for (let k = 0; k < axis; k++) {
      const i = (o * axis + k) * inner + j;
      const d = <f64>orig[i] - m;
      const ref = lg ? d - Math.log(s) : Math.exp(d) / s;
      if (!close(out[i], ref, 2e-6, lg ? 2e-6 : 1e-7)) {
        if (bad < 3) log<string>('softmax got ' + out[i].toString() + ' ref ' + ref.toString());
        bad++;
      }
    }
  }
  if (!inPlace && y[n] != SENT) bad++;
  return bad;
}

describe('softmax_f32', () => {
  it('inner 1 (vector along axis), inner 2/3 (columns), inner >= 4 with remainders; rtol 2e-6', () => {
    resetRnd(5);
    const axes: i32[] = [1, 3, 4, 7, 10, 1000];
    const inners: i32[] = [1, 2, 3, 4, 5, 9, 16];
    for (let lg = 0; lg < 2; lg++) for (let a = 0; a < axes.length; a++) for (let j = 0; j < inners.length; j++) {
      if (axes[a] == 1000 && inners[j] > 4) continue;
      expect<i32>(checkSoftmax(2, axes[a], inners[j], lg, 10, false)).toBe(0);
    }
  });
  it('large inputs (|x| ~ 1000) do not overflow; in place works', () => {
    for (let lg = 0; lg < 2; lg++) {
      expect<i32>(checkSoftmax(3, 11, 1, lg, 1000, false)).toBe(0);
      expect<i32>(checkSoftmax(2, 5, 6, lg, 1000, false)).toBe(0);
      expect<i32>(checkSoftmax(2, 13, 1, lg, 50, true)).toBe(0);
      expect<i32>(checkSoftmax(2, 5, 7, lg, 50, true)).toBe(0);
    }
  });
});

// ---- layernorm / channel affine / instancenorm ----

describe('layernorm_f32', () => {
  it('rows x n for n 1,3,4,7,8,13,64,768 with/without gamma, beta; |err| <= 2e-5 max(1,|ref|)', () => {
    resetRnd(3);
    const ns: i32[] = [1, 3, 4, 7, 8, 13, 64, 768];
    for (let t = 0; t < ns.length; t++) for (let gb = 0; gb < 4; gb++) {
      const n = ns[t], rows = 3;
      const x = new StaticArray<f32>(rows * n);
      const g = new StaticArray<f32>(n), b = new StaticArray<f32>(n);
      for (let i = 0; i < rows * n; i++) x[i] = <f32>(rnd() * 6 - 2 + 100);
      for (let i = 0; i < n; i++) { g[i] = <f32>(rnd() + 0.5); b[i] = <f32>(rnd() - 0.5); }
      const y = new StaticArray<f32>(rows * n);
      const hasG = (gb & 1) != 0, hasB = (gb & 2) != 0;
      layernorm_f32(P(x), P(y), rows, n, hasG ? P(g) : 0, hasB ? P(b) : 0, 1e-5);
      let bad = 0;
      for (let r = 0; r < rows; r++) {
        let m: f64 = 0;
        for (let i = 0; i < n; i++) m += <f64>x[r * n + i];
        m /= n;
        let v: f64 = 0;
        for (let i = 0; i < n; i++) { const d = <f64>x[r * n + i] - m; v += d * d; }
        v /= n;
        for (let i = 0; i < n; i++) {
          let ref = (<f64>x[r * n + i] - m) / Math.sqrt(v + 1e-5);
          if (hasG) ref *= <f64>g[i];
          if (hasB) ref += <f64>b[i];
          if (Math.abs(<f64>y[r * n + i] - ref) > 2e-5 * Math.max(1, Math.abs(ref))) bad++;
        }
      }
      expect<i32>(bad).toBe(0);
    }
  });
  it('in place', () => {
    const x = new StaticArray<f32>(10);
    for (let i = 0; i < 10; i++) x[i] = <f32>i;
    layernorm_f32(P(x), P(x), 2, 5, 0, 0, 0);
    expect<f32>(x[0]).toBeCloseTo(-1.4142135, 5);
    expect<f32>(x[7]).toBeCloseTo(0, 6);
  });
});

describe('channel_affine_f32', () => {
  it('strided rows, C 1..13, scale/shift optional (exact f32)', () => {
    resetRnd(4);
    for (let C = 1; C <= 13; C++) for (let m = 0; m < 4; m++) {
      const rows = 3, ldx = C + 2, ldy = C + 1;
      const x = new StaticArray<f32>(rows * ldx), y = new StaticArray<f32>(rows * ldy);
      const s = new StaticArray<f32>(C), h = new StaticArray<f32>(C);
      for (let i = 0; i < x.length; i++) x[i] = <f32>(rnd() * 4 - 2);
      for (let i = 0; i < y.length; i++) y[i] = SENT;
      for (let i = 0; i < C; i++) { s[i] = <f32>rnd(); h[i] = <f32>(rnd() - 0.5); }
      channel_affine_f32(P(x), P(y), rows, C, ldx, ldy, (m & 1) != 0 ? P(s) : 0, (m & 2) != 0 ? P(h) : 0, -Infinity, Infinity, 0, 1);
      let bad = 0;
      // split into bands of rows run one after another: the same bits
      for (let sp = 0; sp < SPLITS.length; sp++) {
        const z = new StaticArray<f32>(y.length);
        for (let i = 0; i < z.length; i++) z[i] = SENT;
        for (let part = 0; part < SPLITS[sp]; part++)
          channel_affine_f32(P(x), P(z), rows, C, ldx, ldy, (m & 1) != 0 ? P(s) : 0, (m & 2) != 0 ? P(h) : 0, -Infinity, Infinity, part, SPLITS[sp]);
        for (let i = 0; i < z.length; i++) if (reinterpret<u32>(z[i]) != reinterpret<u32>(y[i])) bad++;
      }
      for (let r = 0; r < rows; r++) for (let c = 0; c < ldy; c++) {
        const got = y[r * ldy + c];
        if (c >= C) { if (got != SENT) bad++; continue; }
        let ref = x[r * ldx + c];
        if ((m & 1) != 0) ref *= s[c];
        if ((m & 2) != 0) ref += h[c];
        if (got != ref) bad++;
      }
      expect<i32>(bad).toBe(0);
    }
  });
});

describe('channel_affine_f32 with a clamp (batch norm + ReLU / ReLU6)', () => {
  it('clamps to [lo, hi] after the affine map, NaN passes through', () => {
    const C = 7, rows = 2;
    const x = new StaticArray<f32>(rows * C), y = new StaticArray<f32>(rows * C), s = new StaticArray<f32>(C);
    for (let i = 0; i < x.length; i++) x[i] = <f32>(i - 6);
    x[3] = NaN;
    for (let i = 0; i < C; i++) s[i] = <f32>(i + 1) * 0.5;
    channel_affine_f32(P(x), P(y), rows, C, C, C, P(s), 0, 0, 6, 0, 1);
    for (let i = 0; i < x.length; i++) {
      if (i == 3) { expect<bool>(isNaN(y[i])).toBe(true); continue; }
      const v = x[i] * s[i % C];
      expect<f32>(y[i]).toBe(v < 0 ? 0 : v > 6 ? 6 : v);
    }
  });
});

describe('instancenorm_f32', () => {
  it('NHWC, C in {1,3,4,5,16,21,37} (16-blocks, 4-blocks, single channels), |err| <= 2e-5', () => {
    resetRnd(8);
    const cs: i32[] = [1, 3, 4, 5, 16, 21, 37];
    for (let t = 0; t < cs.length; t++) {
      const N = 2, HW = 29, C = cs[t];
      const x = new StaticArray<f32>(N * HW * C), y = new StaticArray<f32>(N * HW * C);
      const s = new StaticArray<f32>(C), b = new StaticArray<f32>(C);
      for (let i = 0; i < x.length; i++) x[i] = <f32>(rnd() * 3 + <f64>(i % C));
      for (let i = 0; i < C; i++) { s[i] = <f32>(rnd() + 0.5); b[i] = <f32>(rnd() - 0.5); }
      instancenorm_f32(P(x), P(y), N, HW, C, P(s), P(b), 1e-5);
      let bad = 0;
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
        let m: f64 = 0;
        for (let p = 0; p < HW; p++) m += <f64>x[(n * HW + p) * C + c];
        m /= HW;
        let v: f64 = 0;
        for (let p = 0; p < HW; p++) { const d = <f64>x[(n * HW + p) * C + c] - m; v += d * d; }
        v /= HW;
        for (let p = 0; p < HW; p++) {
          const i = (n * HW + p) * C + c;
          const ref = (<f64>x[i] - m) / Math.sqrt(v + 1e-5) * <f64>s[c] + <f64>b[c];
          if (Math.abs(<f64>y[i] - ref) > 2e-5 * Math.max(1, Math.abs(ref))) bad++;
        }
      }
      expect<i32>(bad).toBe(0);
      // in place matches out of place
      instancenorm_f32(P(x), P(x), N, HW, C, P(s), P(b), 1e-5);
      let diff = 0;
      for (let i = 0; i < x.length; i++) if (x[i] != y[i]) diff++;
      expect<i32>(diff).toBe(0);
    }
  });
});

// ---- LRN ----

function checkLrn(rows: i32, C: i32, size: i32, alpha: f32, beta: f32, bias: f32, inPlace: bool): i32 {
  const x = new StaticArray<f32>(rows * C);
  const y = new StaticArray<f32>(rows * C);
  for (let i = 0; i < x.length; i++) x[i] = <f32>(rnd() * 20 - 10);
  const orig = new StaticArray<f32>(x.length);
  for (let i = 0; i < x.length; i++) orig[i] = x[i];
  lrn_f32(P(x), inPlace ? P(x) : P(y), rows, C, size, alpha, beta, bias);
  const out = inPlace ? x : y;
  const lo = (size - 1) / 2, hi = size - 1 - lo;
  let bad = 0;
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) {
    let s: f64 = 0;
    for (let k = max(0, c - lo); k <= min(C - 1, c + hi); k++) { const v = <f64>orig[r * C + k]; s += v * v; }
    const ref = <f64>orig[r * C + c] / Math.pow(<f64>bias + <f64>alpha / size * s, <f64>beta);
    if (!close(out[r * C + c], ref, 2e-6, 1e-30)) {
      if (bad < 3) log<string>('lrn got ' + out[r * C + c].toString() + ' ref ' + ref.toString());
      bad++;
    }
  }
  return bad;
}

describe('lrn_f32', () => {
  it('size 3 and 5 (and even 4), odd C, beta 0.75/0.5/1/0.6; rtol 2e-6', () => {
    resetRnd(21);
    const cs: i32[] = [1, 3, 5, 7, 13, 64, 96];
    const betas: f32[] = [0.75, 0.5, 1.0, 0.6];
    for (let t = 0; t < cs.length; t++) for (let s = 3; s <= 5; s++) for (let bi = 0; bi < 4; bi++) {
      expect<i32>(checkLrn(3, cs[t], s, 1e-4 * 100, betas[bi], 2.0, false)).toBe(0);
    }
  });
  it('in place, and C larger than the kernel scratch block (5000 channels)', () => {
    resetRnd(22);
    expect<i32>(checkLrn(2, 13, 5, 0.01, 0.75, 1.0, true)).toBe(0);
    expect<i32>(checkLrn(1, 5000, 5, 0.01, 0.75, 1.0, true)).toBe(0);
    expect<i32>(checkLrn(1, 5000, 3, 0.01, 0.6, 1.0, false)).toBe(0);
  });
});

// ---- reductions ----

function redRef(op: i32, x: StaticArray<f32>, base: i32, r: i32, inner: i32): f64 {
  let acc: f64 = op == RED_PROD ? 1 : op == RED_MAX ? -Infinity : op == RED_MIN ? Infinity : 0;
  let m: f64 = -Infinity;
  if (op == RED_LOGSUMEXP) for (let k = 0; k < r; k++) m = Math.max(m, <f64>x[base + k * inner]);
  for (let k = 0; k < r; k++) {
    const v = <f64>x[base + k * inner];
    if (op == RED_SUM || op == RED_MEAN) acc += v;
    else if (op == RED_MAX) acc = Math.max(acc, v);
    else if (op == RED_MIN) acc = Math.min(acc, v);
    else if (op == RED_PROD) acc *= v;
    else if (op == RED_SUMSQ || op == RED_L2) acc += v * v;
    else if (op == RED_L1) acc += Math.abs(v);
    else if (op == RED_LOGSUMEXP) acc += Math.exp(v - m);
  }
  if (op == RED_MEAN) acc /= r;
  if (op == RED_L2) acc = Math.sqrt(acc);
  if (op == RED_LOGSUMEXP) acc = Math.log(acc) + m;
  return acc;
}

describe('reduce_f32', () => {
  it('every RED_* op; inner 1 (vector along r), 2, 3, 4, 5, 16, 21, 37; r 1..9 and 50; rtol 1e-5', () => {
    resetRnd(31);
    const inners: i32[] = [1, 2, 3, 4, 5, 16, 21, 37];
    const rs: i32[] = [1, 2, 3, 5, 8, 9, 50];
    for (let op = 0; op < RED_COUNT; op++) for (let a = 0; a < inners.length; a++) for (let b = 0; b < rs.length; b++) {
      const outer = 2, inner = inners[a], r = rs[b];
      const x = new StaticArray<f32>(outer * r * inner);
      for (let i = 0; i < x.length; i++) x[i] = <f32>(op == RED_PROD ? 0.8 + rnd() * 0.4 : rnd() * 10 - 5);
      const y = new StaticArray<f32>(outer * inner + 1);
      y[outer * inner] = SENT;
      reduce_f32(op, P(x), P(y), outer, r, inner);
      let bad = 0;
      for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
        const ref = redRef(op, x, o * r * inner + j, r, inner);
        if (!close(y[o * inner + j], ref, 1e-5, 1e-5)) {
          if (bad < 3) log<string>('red op ' + op.toString() + ' got ' + y[o * inner + j].toString() + ' ref ' + ref.toString());
          bad++;
        }
      }
      if (y[outer * inner] != SENT) bad++;
      expect<i32>(bad).toBe(0);
    }
  });
  it('logsumexp of large and infinite values', () => {
    const x = new StaticArray<f32>(8);
    const y = new StaticArray<f32>(2);
    x[0] = 1000; x[1] = 1000; x[2] = -1000; x[3] = 999;
    x[4] = -Infinity; x[5] = -Infinity; x[6] = -Infinity; x[7] = -Infinity;
    reduce_f32(RED_LOGSUMEXP, P(x), P(y), 2, 4, 1);
    expect<f32>(y[0]).toBeCloseTo(<f32>(1000 + Math.log(2 + Math.exp(-1))), 3);
    expect<f32>(y[1]).toBe(-Infinity);
  });
});

describe('fill_f32', () => {
  it('fills n = 0..37 exactly, nothing past n', () => {
    for (let n = 0; n < 38; n++) {
      const a = new StaticArray<f32>(n + 1);
      a[n] = SENT;
      fill_f32(P(a), n, 2.5);
      let bad = 0;
      for (let i = 0; i < n; i++) if (a[i] != 2.5) bad++;
      if (a[n] != SENT) bad++;
      expect<i32>(bad).toBe(0);
    }
  });
});
