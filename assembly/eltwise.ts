// Element-wise, activation, normalisation and reduction kernels (f32, WebAssembly SIMD f32x4).
//
// Semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/):
// Relu, Clip, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Elu, Selu, Celu, Softplus,
// Softsign, Mish, ThresholdedRelu, Shrink, Gelu (approximate none/tanh), Abs, Neg, Exp, Log,
// Sqrt, Erf, Reciprocal, Floor, Ceil, Pow; Add/Sub/Mul/Div/Max/Min/Pow/PRelu with numpy
// broadcasting; Softmax/LogSoftmax (opset 13, one axis); LayerNormalization (Ba et al. 2016,
// arXiv:1607.06450); BatchNormalization in inference form; InstanceNormalization (Ulyanov et
// al. 2016, arXiv:1607.08022); LRN (Krizhevsky et al. 2012, ONNX window convention);
// ReduceSum/Mean/Max/Min/Prod/SumSquare/L1/L2/LogSumExp.
// Transcendentals come from ./math (sources cited there).
//
// All kernels are leaf functions: byte pointers, element counts, strides in floats; no
// allocation, no exceptions. Outputs may alias inputs exactly (y == x) but not partially.

import {
  ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_LEAKY, ACT_SIGMOID, ACT_TANH, ACT_HARDSIGMOID,
  ACT_HARDSWISH, ACT_SILU, ACT_GELU_ERF, ACT_GELU_TANH, ACT_ELU, ACT_SELU, ACT_CELU,
  ACT_SOFTPLUS, ACT_SOFTSIGN, ACT_MISH, ACT_THRESHOLDED_RELU, ACT_ABS, ACT_NEG, ACT_EXP,
  ACT_LOG, ACT_SQRT, ACT_ERF, ACT_RECIPROCAL, ACT_FLOOR, ACT_CEIL, ACT_SHRINK,
  ACT_SCALE_SHIFT, ACT_SQUARE, ACT_POW_SCALAR,
  BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_MAX, BIN_MIN, BIN_POW, BIN_PRELU,
  RED_SUM, RED_MEAN, RED_MAX, RED_MIN, RED_PROD, RED_SUMSQ, RED_L1, RED_L2, RED_LOGSUMEXP,
} from './codes';
import { vexp, vexpm1, vlog, vlog1p, vsigmoid, vsigmoidAct, vtanh, verf, vphiFast } from './math';
import { mergeDims } from './layout';
import { partStart } from './parallel';

// ============================================================================================
// Unary
// ============================================================================================
// Each op is a @final class with one inlined vector method; the generic row loop is
// instantiated once per op so dispatch happens outside the loops. Scalar remainders run the
// same vector code on a splat so remainder lanes agree bit for bit with vector lanes.

// @ts-ignore: decorator
@inline function splat(v: f32): v128 { return f32x4.splat(v); }

@final class UNone { @inline v(x: v128, p0: v128, p1: v128): v128 { return x; } }
// The clamps use pmin/pmax (one instruction each under V8; f32x4.min/max take about eight):
// with x as the first operand of pmax(x, lo) and pmin(x, hi), a NaN x comes out as NaN.
@final class URelu { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.pmax(x, splat(0)); } }
@final class UClamp { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.pmin(f32x4.pmax(x, p0), p1); } }
@final class ULeaky {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    return v128.bitselect(x, f32x4.mul(x, p0), f32x4.ge(x, splat(0)));
  }
}
@final class USigmoid { @inline v(x: v128, p0: v128, p1: v128): v128 { return vsigmoid(x); } }
@final class UTanh { @inline v(x: v128, p0: v128, p1: v128): v128 { return vtanh(x); } }
@final class UHardSigmoid {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    return f32x4.pmax(f32x4.pmin(f32x4.add(f32x4.mul(x, p0), p1), splat(1)), splat(0));
  }
}
@final class UHardSwish {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    // x * relu6(x + 3) / 6 (PyTorch's form)
    const t = f32x4.pmin(f32x4.pmax(f32x4.add(x, splat(3)), splat(0)), splat(6));
    return f32x4.div(f32x4.mul(x, t), splat(6));
  }
}
@final class USilu { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.mul(x, vsigmoidAct(x)); } }
@final class UGeluErf {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    // x Phi(x), Phi to 2.1e-7 absolute (vphiFast): GELU is a network activation, and the
    // accurate erf (verf) costs several times as much. Where Phi saturates to 0, x·0 is exactly
    // 0 (x = -Inf gives NaN, as PyTorch's formula does).
    return f32x4.mul(x, vphiFast(x));
  }
}
@final class UGeluTanh {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    // 0.5 x (1 + tanh(u)) == x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
    const x3 = f32x4.mul(f32x4.mul(x, x), x);
    const u = f32x4.mul(f32x4.add(x, f32x4.mul(x3, splat(0.044715))), splat(0.7978845608028654));
    return f32x4.mul(x, vsigmoid(f32x4.add(u, u)));
  }
}
@final class UElu {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    const neg = f32x4.mul(p0, vexpm1(f32x4.min(x, splat(0))));
    return v128.bitselect(neg, x, f32x4.lt(x, splat(0)));
  }
}
@final class USelu {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    const neg = f32x4.mul(p0, vexpm1(f32x4.min(x, splat(0))));
    return f32x4.mul(p1, v128.bitselect(x, neg, f32x4.gt(x, splat(0))));
  }
}
@final class UCelu {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    const neg = f32x4.mul(p0, vexpm1(f32x4.div(f32x4.min(x, splat(0)), p0)));
    return f32x4.add(f32x4.max(x, splat(0)), f32x4.min(neg, splat(0)));
  }
}
@final class USoftplus {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    // max(x, 0) + log1p(exp(-|x|)): no overflow, accurate in both tails
    return f32x4.add(f32x4.max(x, splat(0)), vlog1p(vexp(f32x4.neg(f32x4.abs(x)))));
  }
}
@final class USoftsign {
  @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.div(x, f32x4.add(splat(1), f32x4.abs(x))); }
}
@final class UMish {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    // tanh(log(1 + e)) = n / (n + 2), n = e (e + 2), e = exp(x): no cancellation; x > 20: x
    const e = vexp(f32x4.min(x, splat(20)));
    const n = f32x4.mul(e, f32x4.add(e, splat(2)));
    const r = f32x4.mul(x, f32x4.div(n, f32x4.add(n, splat(2))));
    return v128.bitselect(x, r, f32x4.gt(x, splat(20)));
  }
}
@final class UThresholdedRelu {
  @inline v(x: v128, p0: v128, p1: v128): v128 { return v128.and(x, f32x4.gt(x, p0)); }
}
@final class UAbs { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.abs(x); } }
@final class UNeg { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.neg(x); } }
@final class UExp { @inline v(x: v128, p0: v128, p1: v128): v128 { return vexp(x); } }
@final class ULog { @inline v(x: v128, p0: v128, p1: v128): v128 { return vlog(x); } }
@final class USqrt { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.sqrt(x); } }
@final class UErf { @inline v(x: v128, p0: v128, p1: v128): v128 { return verf(x); } }
@final class URecip { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.div(splat(1), x); } }
@final class UFloor { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.floor(x); } }
@final class UCeil { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.ceil(x); } }
@final class UShrink {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    const lo = v128.and(f32x4.add(x, p1), f32x4.lt(x, f32x4.neg(p0)));
    const hi = v128.and(f32x4.sub(x, p1), f32x4.gt(x, p0));
    return v128.or(lo, hi);
  }
}
@final class UScaleShift { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.add(f32x4.mul(x, p0), p1); } }
@final class USquare { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.mul(x, x); } }
@final class UCube { @inline v(x: v128, p0: v128, p1: v128): v128 { return f32x4.mul(f32x4.mul(x, x), x); } }
@final class UPowHalf {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    // Math.pow(x, 0.5): pow(-0, .5) = +0, pow(-Inf, .5) = +Inf (sqrt gives -0 and NaN)
    const s = f32x4.add(f32x4.sqrt(x), splat(0));
    return v128.bitselect(splat(Infinity), s, f32x4.eq(x, splat(-Infinity)));
  }
}
@final class UOne { @inline v(x: v128, p0: v128, p1: v128): v128 { return splat(1); } }
@final class UPowScalar {
  @inline v(x: v128, p0: v128, p1: v128): v128 {
    const p = f32x4.extract_lane(p0, 0);
    let r = f32x4.splat(Mathf.pow(f32x4.extract_lane(x, 0), p));
    r = f32x4.replace_lane(r, 1, Mathf.pow(f32x4.extract_lane(x, 1), p));
    r = f32x4.replace_lane(r, 2, Mathf.pow(f32x4.extract_lane(x, 2), p));
    return f32x4.replace_lane(r, 3, Mathf.pow(f32x4.extract_lane(x, 3), p));
  }
}

/**
 * Ops whose vector function is a long dependent chain (exp, erf, a division): two vectors per
 * iteration let the chains overlap. 8-16% faster for these (GELU 1.06 -> 0.98 ns per element,
 * SiLU 1.18 -> 1.08, tanh 2.1 -> 1.8); the short ops (clamps, hard-swish) ran slower so.
 */
// @ts-ignore: decorator
@inline function twoPerStep<O>(): bool {
  const id = idof<O>();
  return id == idof<UGeluErf>() || id == idof<USilu>() || id == idof<USigmoid>() || id == idof<UTanh>() ||
    id == idof<UGeluTanh>() || id == idof<UMish>() || id == idof<UElu>() || id == idof<USelu>() || id == idof<UCelu>() ||
    id == idof<USoftplus>() || id == idof<UExp>() || id == idof<ULog>() || id == idof<UErf>();
}

function unaryRows<O>(x: usize, y: usize, rows: i32, cols: i32, ldx: i32, ldy: i32, p0: f32, p1: f32): void {
  const o = changetype<O>(0);
  const v0 = f32x4.splat(p0);
  const v1 = f32x4.splat(p1);
  const sx = <usize>ldx << 2;
  const sy = <usize>ldy << 2;
  for (let r = 0; r < rows; r++) {
    const px = x + <usize>r * sx;
    const py = y + <usize>r * sy;
    let c = 0;
    if (twoPerStep<O>()) for (; c + 8 <= cols; c += 8) {
      const off = <usize>c << 2;
      const r0 = o.v(v128.load(px + off), v0, v1), r1 = o.v(v128.load(px + off, 16), v0, v1);
      v128.store(py + off, r0);
      v128.store(py + off, r1, 16);
    }
    for (; c + 4 <= cols; c += 4) {
      const off = <usize>c << 2;
      v128.store(py + off, o.v(v128.load(px + off), v0, v1));
    }
    for (; c < cols; c++) {
      const off = <usize>c << 2;
      store<f32>(py + off, f32x4.extract_lane(o.v(f32x4.splat(load<f32>(px + off)), v0, v1), 0));
    }
  }
}

/**
 * y[r][c] = f(x[r][c]) over a strided rows x cols block; f is the ACT_* code `op` with params p0, p1.
 * part / parts: a band of rows, or of 4-float column groups when there are fewer rows than parts
 * (parallel.ts; every lane runs the same vector function, so any cut gives the same bits).
 */
export function unary_f32(
  op: i32, x: usize, y: usize, rows: i32, cols: i32, ldx: i32, ldy: i32, p0: f32, p1: f32, part: i32, parts: i32,
): void {
  if (rows <= 0 || cols <= 0) return;
  if (rows == 1 || (ldx == cols && ldy == cols)) {
    cols = rows * cols;
    rows = 1;
  }
  if (parts > 1) {
    if (rows >= parts) {
      const r0 = partStart(rows, 1, part, parts);
      x += (<usize>r0 * <usize>ldx) << 2;
      y += (<usize>r0 * <usize>ldy) << 2;
      rows = partStart(rows, 1, part + 1, parts) - r0;
    } else {
      const c0 = partStart(cols, 4, part, parts);
      x += <usize>c0 << 2;
      y += <usize>c0 << 2;
      cols = partStart(cols, 4, part + 1, parts) - c0;
    }
    if (rows <= 0 || cols <= 0) return;
  }
  switch (op) {
    case ACT_NONE: {
      if (x == y && ldx == ldy) return;
      unaryRows<UNone>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    }
    case ACT_RELU: unaryRows<URelu>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_CLAMP: unaryRows<UClamp>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_LEAKY: unaryRows<ULeaky>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_SIGMOID: unaryRows<USigmoid>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_TANH: unaryRows<UTanh>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_HARDSIGMOID: unaryRows<UHardSigmoid>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_HARDSWISH: unaryRows<UHardSwish>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_SILU: unaryRows<USilu>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_GELU_ERF: unaryRows<UGeluErf>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_GELU_TANH: unaryRows<UGeluTanh>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_ELU: unaryRows<UElu>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_SELU: unaryRows<USelu>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_CELU: unaryRows<UCelu>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_SOFTPLUS: unaryRows<USoftplus>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_SOFTSIGN: unaryRows<USoftsign>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_MISH: unaryRows<UMish>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_THRESHOLDED_RELU: unaryRows<UThresholdedRelu>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_ABS: unaryRows<UAbs>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_NEG: unaryRows<UNeg>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_EXP: unaryRows<UExp>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_LOG: unaryRows<ULog>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_SQRT: unaryRows<USqrt>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_ERF: unaryRows<UErf>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_RECIPROCAL: unaryRows<URecip>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_FLOOR: unaryRows<UFloor>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_CEIL: unaryRows<UCeil>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_SHRINK: unaryRows<UShrink>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_SCALE_SHIFT: unaryRows<UScaleShift>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_SQUARE: unaryRows<USquare>(x, y, rows, cols, ldx, ldy, p0, p1); break;
    case ACT_POW_SCALAR: {
      if (p0 == 1) unaryRows<UNone>(x, y, rows, cols, ldx, ldy, p0, p1);
      else if (p0 == 2) unaryRows<USquare>(x, y, rows, cols, ldx, ldy, p0, p1);
      else if (p0 == 3) unaryRows<UCube>(x, y, rows, cols, ldx, ldy, p0, p1);
      else if (p0 == 0.5) unaryRows<UPowHalf>(x, y, rows, cols, ldx, ldy, p0, p1);
      else if (p0 == 0) unaryRows<UOne>(x, y, rows, cols, ldx, ldy, p0, p1);
      else if (p0 == -1) unaryRows<URecip>(x, y, rows, cols, ldx, ldy, p0, p1);
      else unaryRows<UPowScalar>(x, y, rows, cols, ldx, ldy, p0, p1);
      break;
    }
    default: break;
  }
}

// ============================================================================================
// Binary with broadcasting
// ============================================================================================

@final class BAdd { @inline v(a: v128, b: v128): v128 { return f32x4.add(a, b); } }
@final class BSub { @inline v(a: v128, b: v128): v128 { return f32x4.sub(a, b); } }
@final class BMul { @inline v(a: v128, b: v128): v128 { return f32x4.mul(a, b); } }
@final class BDiv { @inline v(a: v128, b: v128): v128 { return f32x4.div(a, b); } }
@final class BMax { @inline v(a: v128, b: v128): v128 { return f32x4.max(a, b); } }
@final class BMin { @inline v(a: v128, b: v128): v128 { return f32x4.min(a, b); } }
@final class BPrelu {
  @inline v(a: v128, b: v128): v128 { return v128.bitselect(a, f32x4.mul(a, b), f32x4.ge(a, splat(0))); }
}
@final class BPow {
  @inline v(a: v128, b: v128): v128 {
    let r = f32x4.splat(Mathf.pow(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
    r = f32x4.replace_lane(r, 1, Mathf.pow(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
    r = f32x4.replace_lane(r, 2, Mathf.pow(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
    return f32x4.replace_lane(r, 3, Mathf.pow(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
  }
}

// Normalised iteration space (dims of size 1 dropped, contiguous neighbours merged), padded
// at the front to 6 dims: shape, a strides, b strides, 8 i32 apart. Static scratch of
// binary_f32.
const BIN_SHAPE: usize = memory.data(96, 16);

// @ts-ignore: decorator
@inline function geti(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function seti(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }

/** Drops size-1 dims and merges mergeable neighbours of (shape, s1, s2) into dst arrays padded
 *  at the front to 6 dims (size 1, stride 0). Returns false when some dim is 0 (empty). */
function normalise2(rank: i32, shape: usize, s1: usize, s2: usize, oShape: usize, o1: usize, o2: usize): bool {
  const n = mergeDims(rank, shape, s1, s2, oShape, o1, o2);
  if (n == 0) return false;
  // shift right to 6 dims
  const pad = 6 - n;
  for (let d = n - 1; d >= 0; d--) {
    seti(oShape, d + pad, geti(oShape, d));
    seti(o1, d + pad, geti(o1, d));
    seti(o2, d + pad, geti(o2, d));
  }
  for (let d = 0; d < pad; d++) {
    seti(oShape, d, 1); seti(o1, d, 0); seti(o2, d, 0);
  }
  return true;
}

// @ts-ignore: decorator
@inline const MODE_VV: i32 = 0; // a, b contiguous
// @ts-ignore: decorator
@inline const MODE_VS: i32 = 1; // a contiguous, b scalar along the row
// @ts-ignore: decorator
@inline const MODE_SV: i32 = 2; // a scalar, b contiguous
// @ts-ignore: decorator
@inline const MODE_GEN: i32 = 3; // general strides

// @ts-ignore: decorator
@inline function binRow<O>(o: O, mode: i32, out: usize, pa: usize, pb: usize, n: i32, sa: i32, sb: i32): void {
  let i = 0;
  if (mode == MODE_VV) {
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, o.v(v128.load(pa + off), v128.load(pb + off)));
    }
    for (; i < n; i++) {
      const off = <usize>i << 2;
      store<f32>(out + off, f32x4.extract_lane(o.v(f32x4.splat(load<f32>(pa + off)), f32x4.splat(load<f32>(pb + off))), 0));
    }
  } else if (mode == MODE_VS) {
    const vb = f32x4.splat(load<f32>(pb));
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, o.v(v128.load(pa + off), vb));
    }
    for (; i < n; i++) {
      const off = <usize>i << 2;
      store<f32>(out + off, f32x4.extract_lane(o.v(f32x4.splat(load<f32>(pa + off)), vb), 0));
    }
  } else if (mode == MODE_SV) {
    const va = f32x4.splat(load<f32>(pa));
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, o.v(va, v128.load(pb + off)));
    }
    for (; i < n; i++) {
      const off = <usize>i << 2;
      store<f32>(out + off, f32x4.extract_lane(o.v(va, f32x4.splat(load<f32>(pb + off))), 0));
    }
  } else {
    const ba = <usize>sa << 2;
    const bb = <usize>sb << 2;
    for (; i < n; i++) {
      const va = f32x4.splat(load<f32>(pa + <usize>i * ba));
      const vb = f32x4.splat(load<f32>(pb + <usize>i * bb));
      store<f32>(out + (<usize>i << 2), f32x4.extract_lane(o.v(va, vb), 0));
    }
  }
}

/**
 * Rows [r0, r1) of a binary op's normalised iteration space (params: BIN_SHAPE's layout), a row
 * being the innermost dim; the outer five are walked as an odometer from row r0.
 */
function binLoop<O>(out: usize, a: usize, b: usize, prm: usize, part: i32, parts: i32): void {
  const o = changetype<O>(0);
  const SA = prm + 32, SB = prm + 64;
  const n0 = geti(prm, 0), n1 = geti(prm, 1), n2 = geti(prm, 2), n3 = geti(prm, 3), n4 = geti(prm, 4);
  const n = geti(prm, 5);
  const a0 = <usize>geti(SA, 0) << 2, a1 = <usize>geti(SA, 1) << 2, a2 = <usize>geti(SA, 2) << 2;
  const a3 = <usize>geti(SA, 3) << 2, a4 = <usize>geti(SA, 4) << 2;
  const b0 = <usize>geti(SB, 0) << 2, b1 = <usize>geti(SB, 1) << 2, b2 = <usize>geti(SB, 2) << 2;
  const b3 = <usize>geti(SB, 3) << 2, b4 = <usize>geti(SB, 4) << 2;
  const sa = geti(SA, 5), sb = geti(SB, 5);
  let mode = MODE_GEN;
  if (sa == 1 && sb == 1) mode = MODE_VV;
  else if (sa == 1 && sb == 0) mode = MODE_VS;
  else if (sa == 0 && sb == 1) mode = MODE_SV;
  // part / parts (parallel.ts): a band of rows, or, with too few rows to share (two same-shape
  // operands merge into one), a band of 4-float columns of every row; all ops are lane-wise
  const rows = n0 * n1 * n2 * n3 * n4;
  let r0 = 0, r1 = rows, k0 = 0, k1 = n;
  if (rows >= 4 * parts || n < 4 * parts) {
    r0 = partStart(rows, 1, part, parts);
    r1 = partStart(rows, 1, part + 1, parts);
  } else {
    k0 = partStart(n, 4, part, parts);
    k1 = partStart(n, 4, part + 1, parts);
  }
  if (r0 >= r1 || k0 >= k1) return;
  const cols = k1 - k0;
  const kOut = <usize>k0 << 2, kA = <usize>(k0 * sa) << 2, kB = <usize>(k0 * sb) << 2;
  let i4 = r0 % n4, q = r0 / n4;
  let i3 = q % n3; q /= n3;
  let i2 = q % n2; q /= n2;
  let i1 = q % n1;
  const i0 = q / n1;
  let pa1 = a + <usize>i0 * a0 + <usize>i1 * a1, pb1 = b + <usize>i0 * b0 + <usize>i1 * b1;
  let pa2 = pa1 + <usize>i2 * a2, pb2 = pb1 + <usize>i2 * b2;
  let pa3 = pa2 + <usize>i3 * a3, pb3 = pb2 + <usize>i3 * b3;
  let pa = pa3 + <usize>i4 * a4, pb = pb3 + <usize>i4 * b4;
  const rowBytes = <usize>n << 2;
  let po = out + <usize>r0 * rowBytes;
  for (let r = r0; r < r1; r++) {
    binRow<O>(o, mode, po + kOut, pa + kA, pb + kB, cols, sa, sb);
    po += rowBytes;
    // next row: carry through the dims that wrap
    if (++i4 < n4) { pa += a4; pb += b4; continue; }
    i4 = 0;
    if (++i3 < n3) { pa3 += a3; pb3 += b3; }
    else {
      i3 = 0;
      if (++i2 < n2) { pa2 += a2; pb2 += b2; }
      else {
        i2 = 0;
        if (++i1 < n1) { pa1 += a1; pb1 += b1; }
        else { i1 = 0; pa1 += a0 - <usize>(n1 - 1) * a1; pb1 += b0 - <usize>(n1 - 1) * b1; }
        pa2 = pa1; pb2 = pb1;
      }
      pa3 = pa2; pb3 = pb2;
    }
    pa = pa3; pb = pb3;
  }
}

/**
 * Normalises a binary op's iteration space (shape, aStrides, bStrides: rank i32 each) into
 * params (3 x 8 i32, written once when the step is planned, so threads only read it).
 * Returns 0 when it is empty.
 */
export function binary_prepare(rank: i32, shape: usize, aStrides: usize, bStrides: usize, params: usize): i32 {
  return normalise2(rank, shape, aStrides, bStrides, params, params + 32, params + 64) ? 1 : 0;
}

/**
 * out = a (op) b over params from binary_prepare: out dense row-major, a and b read through
 * their strides (0 broadcasts). part / parts: a band of rows (the innermost dim's runs), or of
 * columns when there are few rows.
 */
export function binary_rows_f32(op: i32, out: usize, a: usize, b: usize, params: usize, part: i32, parts: i32): void {
  switch (op) {
    case BIN_ADD: binLoop<BAdd>(out, a, b, params, part, parts); break;
    case BIN_SUB: binLoop<BSub>(out, a, b, params, part, parts); break;
    case BIN_MUL: binLoop<BMul>(out, a, b, params, part, parts); break;
    case BIN_DIV: binLoop<BDiv>(out, a, b, params, part, parts); break;
    case BIN_MAX: binLoop<BMax>(out, a, b, params, part, parts); break;
    case BIN_MIN: binLoop<BMin>(out, a, b, params, part, parts); break;
    case BIN_POW: binLoop<BPow>(out, a, b, params, part, parts); break;
    case BIN_PRELU: binLoop<BPrelu>(out, a, b, params, part, parts); break;
    default: break;
  }
}

/** out = a (op) b with broadcasting: out dense row-major of shape[0..rank); a, b read at
 *  sum idx_d * stride_d (stride 0 broadcasts). shape/aStrides/bStrides are i32 arrays.
 *  Single-threaded (normalises into static scratch); planned steps use binary_prepare once
 *  and binary_rows_f32. */
export function binary_f32(op: i32, out: usize, a: usize, b: usize, rank: i32, shape: usize, aStrides: usize, bStrides: usize): void {
  if (binary_prepare(rank, shape, aStrides, bStrides, BIN_SHAPE) != 0) binary_rows_f32(op, out, a, b, BIN_SHAPE, 0, 1);
}

// ============================================================================================
// Horizontal helpers
// ============================================================================================

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}
// @ts-ignore: decorator
@inline function hmax(v: v128): f32 {
  const s = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return Mathf.max(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1));
}
// Row helpers of softmax / log-softmax and ReduceLogSumExp along a contiguous axis (called, not
// inlined: three inlined copies of the exp loops cost 2.1 KB of wasm and measured no faster).

/** Max of the n contiguous floats at p: four-lane maxima, then the tail. */
function rowMax(p: usize, n: i32): f32 {
  let vm = f32x4.splat(-Infinity);
  let k = 0;
  for (; k + 4 <= n; k += 4) vm = f32x4.max(vm, v128.load(p + (<usize>k << 2)));
  let m = hmax(vm);
  for (; k < n; k++) m = Mathf.max(m, load<f32>(p + (<usize>k << 2)));
  return m;
}
/**
 * Σ_k exp(x[k] - m) over the n contiguous floats at p (mv = splat(m)): four-lane partial sums,
 * the tail summed apart. out != 0: each exp(x[k] - m) is also stored there (softmax's numerators).
 */
function rowSumExp(p: usize, n: i32, mv: v128, out: usize): f32 {
  let vs = f32x4.splat(0), ts = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k << 2;
    const e = vexp(f32x4.sub(v128.load(p + off), mv));
    vs = f32x4.add(vs, e);
    if (out != 0) v128.store(out + off, e);
  }
  for (; k < n; k++) {
    const off = <usize>k << 2;
    const e = vexp(f32x4.sub(f32x4.splat(load<f32>(p + off)), mv));
    ts = f32x4.add(ts, e);
    if (out != 0) store<f32>(out + off, f32x4.extract_lane(e, 0));
  }
  return hsum(vs) + f32x4.extract_lane(ts, 0);
}
// @ts-ignore: decorator
@inline function ldv(p: usize, wide: bool): v128 { return wide ? v128.load(p) : f32x4.splat(load<f32>(p)); }
// @ts-ignore: decorator
@inline function stv(p: usize, v: v128, wide: bool): void {
  if (wide) v128.store(p, v); else store<f32>(p, f32x4.extract_lane(v, 0));
}

// ============================================================================================
// Softmax / LogSoftmax
// ============================================================================================

/** Softmax over `axis` for 4 adjacent columns (wide) or one column (splat), column stride sb bytes. */
function softmaxCols(px: usize, py: usize, axis: i32, sb: usize, log: bool, wide: bool): void {
  let m = f32x4.splat(-Infinity);
  for (let k = 0; k < axis; k++) m = f32x4.max(m, ldv(px + <usize>k * sb, wide));
  let s = f32x4.splat(0);
  if (log) {
    for (let k = 0; k < axis; k++) s = f32x4.add(s, vexp(f32x4.sub(ldv(px + <usize>k * sb, wide), m)));
    const l = vlog(s);
    for (let k = 0; k < axis; k++) {
      const off = <usize>k * sb;
      stv(py + off, f32x4.sub(f32x4.sub(ldv(px + off, wide), m), l), wide);
    }
  } else {
    for (let k = 0; k < axis; k++) {
      const off = <usize>k * sb;
      const e = vexp(f32x4.sub(ldv(px + off, wide), m));
      s = f32x4.add(s, e);
      stv(py + off, e, wide);
    }
    for (let k = 0; k < axis; k++) {
      const off = <usize>k * sb;
      stv(py + off, f32x4.div(ldv(py + off, wide), s), wide);
    }
  }
}

/** Softmax (log != 0: log-softmax) along the middle dim of a dense [outer][axis][inner] block. */
export function softmax_f32(x: usize, y: usize, outer: i32, axis: i32, inner: i32, log: i32): void {
  const lg = log != 0;
  const block = <usize>axis * <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const bx = x + <usize>o * block;
    const by = y + <usize>o * block;
    if (inner == 1) {
      // vectorise along the axis
      const n = axis;
      const m = rowMax(bx, n);
      const mv = f32x4.splat(m);
      let k = 0;
      if (lg) {
        const l = Mathf.log(rowSumExp(bx, n, mv, 0));
        const lv = f32x4.splat(l);
        for (; k + 4 <= n; k += 4) {
          const off = <usize>k << 2;
          v128.store(by + off, f32x4.sub(f32x4.sub(v128.load(bx + off), mv), lv));
        }
        for (; k < n; k++) {
          const off = <usize>k << 2;
          store<f32>(by + off, (load<f32>(bx + off) - m) - l);
        }
      } else {
        const sv = f32x4.splat(rowSumExp(bx, n, mv, by));
        for (; k + 4 <= n; k += 4) {
          const off = <usize>k << 2;
          v128.store(by + off, f32x4.div(v128.load(by + off), sv));
        }
        for (; k < n; k++) {
          const off = <usize>k << 2;
          store<f32>(by + off, load<f32>(by + off) / f32x4.extract_lane(sv, 0));
        }
      }
    } else {
      const sb = <usize>inner << 2;
      let j = 0;
      if (inner >= 4) {
        for (; j + 4 <= inner; j += 4) softmaxCols(bx + (<usize>j << 2), by + (<usize>j << 2), axis, sb, lg, true);
      }
      for (; j < inner; j++) softmaxCols(bx + (<usize>j << 2), by + (<usize>j << 2), axis, sb, lg, false);
    }
  }
}

// ============================================================================================
// Layer norm, channel affine, instance norm
// ============================================================================================

/** Per row of n contiguous floats: (x - mean) / sqrt(var + eps) * gamma + beta (two-pass). */
export function layernorm_f32(x: usize, y: usize, rows: i32, n: i32, gamma: usize, beta: usize, eps: f32): void {
  const rowBytes = <usize>n << 2;
  const hasG = gamma != 0;
  const hasB = beta != 0;
  for (let r = 0; r < rows; r++) {
    const px = x + <usize>r * rowBytes;
    const py = y + <usize>r * rowBytes;
    let v0 = f32x4.splat(0), v1 = f32x4.splat(0);
    let k = 0;
    for (; k + 8 <= n; k += 8) {
      v0 = f32x4.add(v0, v128.load(px + (<usize>k << 2)));
      v1 = f32x4.add(v1, v128.load(px + (<usize>k << 2), 16));
    }
    for (; k + 4 <= n; k += 4) v0 = f32x4.add(v0, v128.load(px + (<usize>k << 2)));
    let sum = hsum(f32x4.add(v0, v1));
    for (; k < n; k++) sum += load<f32>(px + (<usize>k << 2));
    const mean = sum / <f32>n;
    const mv = f32x4.splat(mean);
    v0 = f32x4.splat(0); v1 = f32x4.splat(0);
    k = 0;
    for (; k + 8 <= n; k += 8) {
      const d0 = f32x4.sub(v128.load(px + (<usize>k << 2)), mv);
      const d1 = f32x4.sub(v128.load(px + (<usize>k << 2), 16), mv);
      v0 = f32x4.add(v0, f32x4.mul(d0, d0));
      v1 = f32x4.add(v1, f32x4.mul(d1, d1));
    }
    for (; k + 4 <= n; k += 4) {
      const d0 = f32x4.sub(v128.load(px + (<usize>k << 2)), mv);
      v0 = f32x4.add(v0, f32x4.mul(d0, d0));
    }
    let ss = hsum(f32x4.add(v0, v1));
    for (; k < n; k++) {
      const d = load<f32>(px + (<usize>k << 2)) - mean;
      ss += d * d;
    }
    const rstd = <f32>1 / Mathf.sqrt(ss / <f32>n + eps);
    const rv = f32x4.splat(rstd);
    k = 0;
    for (; k + 4 <= n; k += 4) {
      const off = <usize>k << 2;
      let v = f32x4.mul(f32x4.sub(v128.load(px + off), mv), rv);
      if (hasG) v = f32x4.mul(v, v128.load(gamma + off));
      if (hasB) v = f32x4.add(v, v128.load(beta + off));
      v128.store(py + off, v);
    }
    for (; k < n; k++) {
      const off = <usize>k << 2;
      let v = (load<f32>(px + off) - mean) * rstd;
      if (hasG) v *= load<f32>(gamma + off);
      if (hasB) v += load<f32>(beta + off);
      store<f32>(py + off, v);
    }
  }
}

/**
 * y[r][c] = clamp(x[r][c] * scale[c] + shift[c], lo, hi) (scale 0 -> 1, shift 0 -> 0): a
 * standalone batch norm with its ReLU / ReLU6 in the same pass (lo = -Inf, hi = +Inf for none;
 * NaN passes through).
 */
export function channel_affine_f32(
  x: usize, y: usize, rows: i32, C: i32, ldx: i32, ldy: i32, scale: usize, shift: usize, lo: f32, hi: f32,
  part: i32, parts: i32,
): void {
  // part / parts: a band of rows (parallel.ts)
  const r0 = partStart(rows, 1, part, parts);
  rows = partStart(rows, 1, part + 1, parts) - r0;
  x += (<usize>r0 * <usize>ldx) << 2;
  y += (<usize>r0 * <usize>ldy) << 2;
  const hasS = scale != 0;
  const hasB = shift != 0;
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  const sx = <usize>ldx << 2;
  const sy = <usize>ldy << 2;
  for (let r = 0; r < rows; r++) {
    const px = x + <usize>r * sx;
    const py = y + <usize>r * sy;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const off = <usize>c << 2;
      let v = v128.load(px + off);
      if (hasS) v = f32x4.mul(v, v128.load(scale + off));
      if (hasB) v = f32x4.add(v, v128.load(shift + off));
      // pmax/pmin keep v when the comparison fails, so NaN propagates
      v128.store(py + off, f32x4.pmin(f32x4.pmax(v, vlo), vhi));
    }
    for (; c < C; c++) {
      const off = <usize>c << 2;
      let v = load<f32>(px + off);
      if (hasS) v *= load<f32>(scale + off);
      if (hasB) v += load<f32>(shift + off);
      store<f32>(py + off, v < lo ? lo : v > hi ? hi : v);
    }
  }
}

/** Instance norm over HW of a 16-channel block (4 vectors) at px (pixel stride sb bytes). */
function inBlock16(px: usize, py: usize, HW: i32, sb: usize, scale: usize, bias: usize, eps: f32): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  for (let p = 0; p < HW; p++) {
    const q = px + <usize>p * sb;
    s0 = f32x4.add(s0, v128.load(q));
    s1 = f32x4.add(s1, v128.load(q, 16));
    s2 = f32x4.add(s2, v128.load(q, 32));
    s3 = f32x4.add(s3, v128.load(q, 48));
  }
  const inv = f32x4.splat(<f32>HW);
  const m0 = f32x4.div(s0, inv), m1 = f32x4.div(s1, inv), m2 = f32x4.div(s2, inv), m3 = f32x4.div(s3, inv);
  s0 = f32x4.splat(0); s1 = f32x4.splat(0); s2 = f32x4.splat(0); s3 = f32x4.splat(0);
  for (let p = 0; p < HW; p++) {
    const q = px + <usize>p * sb;
    const d0 = f32x4.sub(v128.load(q), m0), d1 = f32x4.sub(v128.load(q, 16), m1);
    const d2 = f32x4.sub(v128.load(q, 32), m2), d3 = f32x4.sub(v128.load(q, 48), m3);
    s0 = f32x4.add(s0, f32x4.mul(d0, d0));
    s1 = f32x4.add(s1, f32x4.mul(d1, d1));
    s2 = f32x4.add(s2, f32x4.mul(d2, d2));
    s3 = f32x4.add(s3, f32x4.mul(d3, d3));
  }
  const ev = f32x4.splat(eps);
  const one = f32x4.splat(1);
  let k0 = f32x4.div(one, f32x4.sqrt(f32x4.add(f32x4.div(s0, inv), ev)));
  let k1 = f32x4.div(one, f32x4.sqrt(f32x4.add(f32x4.div(s1, inv), ev)));
  let k2 = f32x4.div(one, f32x4.sqrt(f32x4.add(f32x4.div(s2, inv), ev)));
  let k3 = f32x4.div(one, f32x4.sqrt(f32x4.add(f32x4.div(s3, inv), ev)));
  if (scale != 0) {
    k0 = f32x4.mul(k0, v128.load(scale)); k1 = f32x4.mul(k1, v128.load(scale, 16));
    k2 = f32x4.mul(k2, v128.load(scale, 32)); k3 = f32x4.mul(k3, v128.load(scale, 48));
  }
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  if (bias != 0) {
    b0 = v128.load(bias); b1 = v128.load(bias, 16); b2 = v128.load(bias, 32); b3 = v128.load(bias, 48);
  }
  for (let p = 0; p < HW; p++) {
    const q = px + <usize>p * sb;
    const w = py + <usize>p * sb;
    v128.store(w, f32x4.add(f32x4.mul(f32x4.sub(v128.load(q), m0), k0), b0));
    v128.store(w, f32x4.add(f32x4.mul(f32x4.sub(v128.load(q, 16), m1), k1), b1), 16);
    v128.store(w, f32x4.add(f32x4.mul(f32x4.sub(v128.load(q, 32), m2), k2), b2), 32);
    v128.store(w, f32x4.add(f32x4.mul(f32x4.sub(v128.load(q, 48), m3), k3), b3), 48);
  }
}

/** Instance norm of 4 adjacent channels (wide) or one channel (splat). */
function inBlock(px: usize, py: usize, HW: i32, sb: usize, scale: usize, bias: usize, eps: f32, wide: bool): void {
  let s = f32x4.splat(0);
  for (let p = 0; p < HW; p++) s = f32x4.add(s, ldv(px + <usize>p * sb, wide));
  const inv = f32x4.splat(<f32>HW);
  const m = f32x4.div(s, inv);
  s = f32x4.splat(0);
  for (let p = 0; p < HW; p++) {
    const d = f32x4.sub(ldv(px + <usize>p * sb, wide), m);
    s = f32x4.add(s, f32x4.mul(d, d));
  }
  let k = f32x4.div(f32x4.splat(1), f32x4.sqrt(f32x4.add(f32x4.div(s, inv), f32x4.splat(eps))));
  if (scale != 0) k = f32x4.mul(k, ldv(scale, wide));
  const b = bias != 0 ? ldv(bias, wide) : f32x4.splat(0);
  for (let p = 0; p < HW; p++) {
    const off = <usize>p * sb;
    stv(py + off, f32x4.add(f32x4.mul(f32x4.sub(ldv(px + off, wide), m), k), b), wide);
  }
}

/** Instance norm on dense NHWC: per (n, c) statistics over HW; scale/bias [C] (0 -> 1/0). */
export function instancenorm_f32(x: usize, y: usize, N: i32, HW: i32, C: i32, scale: usize, bias: usize, eps: f32): void {
  const sb = <usize>C << 2;
  const img = <usize>HW * sb;
  for (let n = 0; n < N; n++) {
    const bx = x + <usize>n * img;
    const by = y + <usize>n * img;
    let c = 0;
    for (; c + 16 <= C; c += 16) {
      const off = <usize>c << 2;
      inBlock16(bx + off, by + off, HW, sb, scale != 0 ? scale + off : 0, bias != 0 ? bias + off : 0, eps);
    }
    for (; c + 4 <= C; c += 4) {
      const off = <usize>c << 2;
      inBlock(bx + off, by + off, HW, sb, scale != 0 ? scale + off : 0, bias != 0 ? bias + off : 0, eps, true);
    }
    for (; c < C; c++) {
      const off = <usize>c << 2;
      inBlock(bx + off, by + off, HW, sb, scale != 0 ? scale + off : 0, bias != 0 ? bias + off : 0, eps, false);
    }
  }
}

// ============================================================================================
// LRN
// ============================================================================================

// Squares of a window of channels, so that in-place (y == x) works: block of LRN_CAP floats.
// @ts-ignore: decorator
@inline const LRN_CAP: i32 = 2048;
const LRN_SQ: usize = memory.data(LRN_CAP * 4 + 16, 16);

// @ts-ignore: decorator
@inline function lrnScale(base: v128, mode: i32, nb: v128): v128 {
  // returns base^-beta
  if (mode == 0) { // beta = 0.75
    const s = f32x4.sqrt(base);
    return f32x4.div(f32x4.splat(1), f32x4.mul(s, f32x4.sqrt(s)));
  } else if (mode == 1) { // beta = 0.5
    return f32x4.div(f32x4.splat(1), f32x4.sqrt(base));
  } else if (mode == 2) { // beta = 1
    return f32x4.div(f32x4.splat(1), base);
  }
  return vexp(f32x4.mul(nb, vlog(base)));
}

/** ONNX LRN across the contiguous channel axis of each row (C channels, rows dense):
 *  y = x / (bias + alpha/size * sum_{c' in window} x[c']^2)^beta. Requires size < LRN_CAP/2. */
export function lrn_f32(x: usize, y: usize, rows: i32, C: i32, size: i32, alpha: f32, beta: f32, bias: f32): void {
  const lo = (size - 1) >> 1;
  const hi = size - 1 - lo;
  const B = LRN_CAP - size - 4;
  const mode = beta == 0.75 ? 0 : beta == 0.5 ? 1 : beta == 1 ? 2 : 3;
  const nb = f32x4.splat(-beta);
  const av = f32x4.splat(alpha / <f32>size);
  const bv = f32x4.splat(bias);
  const rowBytes = <usize>C << 2;
  for (let r = 0; r < rows; r++) {
    const px = x + <usize>r * rowBytes;
    const py = y + <usize>r * rowBytes;
    // S[k] = sq[c0 - lo + k]
    for (let k = 0; k < lo; k++) store<f32>(LRN_SQ + (<usize>k << 2), 0);
    for (let c0 = 0; c0 < C; c0 += B) {
      const cnt = min(B, C - c0);
      for (let j = 0; j < cnt + hi; j++) {
        const c = c0 + j;
        let v: f32 = 0;
        if (c < C) { v = load<f32>(px + (<usize>c << 2)); v *= v; }
        store<f32>(LRN_SQ + (<usize>(lo + j) << 2), v);
      }
      let j = 0;
      for (; j + 4 <= cnt; j += 4) {
        let s = f32x4.splat(0);
        for (let k = 0; k < size; k++) s = f32x4.add(s, v128.load(LRN_SQ + (<usize>(j + k) << 2)));
        const off = <usize>(c0 + j) << 2;
        const base = f32x4.add(bv, f32x4.mul(av, s));
        v128.store(py + off, f32x4.mul(v128.load(px + off), lrnScale(base, mode, nb)));
      }
      for (; j < cnt; j++) {
        let s: f32 = 0;
        for (let k = 0; k < size; k++) s += load<f32>(LRN_SQ + (<usize>(j + k) << 2));
        const off = <usize>(c0 + j) << 2;
        const base = f32x4.add(bv, f32x4.mul(av, f32x4.splat(s)));
        store<f32>(py + off, load<f32>(px + off) * f32x4.extract_lane(lrnScale(base, mode, nb), 0));
      }
      // keep the squares of the last lo channels for the next block
      for (let k = 0; k < lo; k++) {
        store<f32>(LRN_SQ + (<usize>k << 2), load<f32>(LRN_SQ + (<usize>(cnt + k) << 2)));
      }
    }
  }
}

// ============================================================================================
// Reductions
// ============================================================================================

@final class RSum {
  @inline init(): v128 { return splat(0); }
  @inline acc(a: v128, x: v128): v128 { return f32x4.add(a, x); }
  @inline merge(a: v128, b: v128): v128 { return f32x4.add(a, b); }
  @inline fin(a: v128, r: f32): v128 { return a; }
}
@final class RMean {
  @inline init(): v128 { return splat(0); }
  @inline acc(a: v128, x: v128): v128 { return f32x4.add(a, x); }
  @inline merge(a: v128, b: v128): v128 { return f32x4.add(a, b); }
  @inline fin(a: v128, r: f32): v128 { return f32x4.div(a, f32x4.splat(r)); }
}
@final class RMax {
  @inline init(): v128 { return splat(-Infinity); }
  @inline acc(a: v128, x: v128): v128 { return f32x4.max(a, x); }
  @inline merge(a: v128, b: v128): v128 { return f32x4.max(a, b); }
  @inline fin(a: v128, r: f32): v128 { return a; }
}
@final class RMin {
  @inline init(): v128 { return splat(Infinity); }
  @inline acc(a: v128, x: v128): v128 { return f32x4.min(a, x); }
  @inline merge(a: v128, b: v128): v128 { return f32x4.min(a, b); }
  @inline fin(a: v128, r: f32): v128 { return a; }
}
@final class RProd {
  @inline init(): v128 { return splat(1); }
  @inline acc(a: v128, x: v128): v128 { return f32x4.mul(a, x); }
  @inline merge(a: v128, b: v128): v128 { return f32x4.mul(a, b); }
  @inline fin(a: v128, r: f32): v128 { return a; }
}
@final class RSumSq {
  @inline init(): v128 { return splat(0); }
  @inline acc(a: v128, x: v128): v128 { return f32x4.add(a, f32x4.mul(x, x)); }
  @inline merge(a: v128, b: v128): v128 { return f32x4.add(a, b); }
  @inline fin(a: v128, r: f32): v128 { return a; }
}
@final class RL1 {
  @inline init(): v128 { return splat(0); }
  @inline acc(a: v128, x: v128): v128 { return f32x4.add(a, f32x4.abs(x)); }
  @inline merge(a: v128, b: v128): v128 { return f32x4.add(a, b); }
  @inline fin(a: v128, r: f32): v128 { return a; }
}
@final class RL2 {
  @inline init(): v128 { return splat(0); }
  @inline acc(a: v128, x: v128): v128 { return f32x4.add(a, f32x4.mul(x, x)); }
  @inline merge(a: v128, b: v128): v128 { return f32x4.add(a, b); }
  @inline fin(a: v128, r: f32): v128 { return f32x4.sqrt(a); }
}

/** Reduce a column group (4 adjacent columns when wide, else 1) over r rows of stride sb bytes. */
// @ts-ignore: decorator
@inline function redCols<O>(o: O, px: usize, r: i32, sb: usize, wide: bool): v128 {
  let a = o.init();
  for (let k = 0; k < r; k++) a = o.acc(a, ldv(px + <usize>k * sb, wide));
  return o.fin(a, <f32>r);
}

function reduceLoop<O>(x: usize, y: usize, outer: i32, r: i32, inner: i32): void {
  const o = changetype<O>(0);
  const sb = <usize>inner << 2;
  const block = <usize>r * sb;
  for (let oi = 0; oi < outer; oi++) {
    const bx = x + <usize>oi * block;
    const by = y + <usize>oi * sb;
    if (inner == 1) {
      // contiguous run of r values: vectorise along r
      let a = o.init();
      let t = o.init();
      let k = 0;
      for (; k + 4 <= r; k += 4) a = o.acc(a, v128.load(bx + (<usize>k << 2)));
      for (; k < r; k++) t = o.acc(t, f32x4.splat(load<f32>(bx + (<usize>k << 2))));
      a = o.merge(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1));
      a = o.merge(a, v128.shuffle<f32>(a, a, 1, 0, 3, 2));
      store<f32>(by, f32x4.extract_lane(o.fin(o.merge(a, t), <f32>r), 0));
      continue;
    }
    let j = 0;
    if (inner >= 4) {
      for (; j + 16 <= inner; j += 16) {
        const q = bx + (<usize>j << 2);
        let a0 = o.init(), a1 = o.init(), a2 = o.init(), a3 = o.init();
        for (let k = 0; k < r; k++) {
          const p = q + <usize>k * sb;
          a0 = o.acc(a0, v128.load(p));
          a1 = o.acc(a1, v128.load(p, 16));
          a2 = o.acc(a2, v128.load(p, 32));
          a3 = o.acc(a3, v128.load(p, 48));
        }
        const w = by + (<usize>j << 2);
        v128.store(w, o.fin(a0, <f32>r));
        v128.store(w, o.fin(a1, <f32>r), 16);
        v128.store(w, o.fin(a2, <f32>r), 32);
        v128.store(w, o.fin(a3, <f32>r), 48);
      }
      for (; j + 4 <= inner; j += 4) {
        v128.store(by + (<usize>j << 2), redCols<O>(o, bx + (<usize>j << 2), r, sb, true));
      }
    }
    for (; j < inner; j++) {
      store<f32>(by + (<usize>j << 2), f32x4.extract_lane(redCols<O>(o, bx + (<usize>j << 2), r, sb, false), 0));
    }
  }
}

/** log(sum exp) of a column group; m = max, infinite max returned as is (-Inf: all -Inf). */
function lseCols(px: usize, r: i32, sb: usize, wide: bool): v128 {
  let m = f32x4.splat(-Infinity);
  for (let k = 0; k < r; k++) m = f32x4.max(m, ldv(px + <usize>k * sb, wide));
  // infinite max: use 0 as the shift so the result is exactly +-Inf
  const isInf = f32x4.eq(f32x4.abs(m), f32x4.splat(Infinity));
  m = v128.andnot(m, isInf);
  let s = f32x4.splat(0);
  for (let k = 0; k < r; k++) s = f32x4.add(s, vexp(f32x4.sub(ldv(px + <usize>k * sb, wide), m)));
  return f32x4.add(vlog(s), m);
}

function reduceLse(x: usize, y: usize, outer: i32, r: i32, inner: i32): void {
  const sb = <usize>inner << 2;
  const block = <usize>r * sb;
  for (let oi = 0; oi < outer; oi++) {
    const bx = x + <usize>oi * block;
    const by = y + <usize>oi * sb;
    let j = 0;
    if (inner == 1) {
      let m = rowMax(bx, r);
      if (Mathf.abs(m) == Infinity) m = 0;
      store<f32>(by, Mathf.log(rowSumExp(bx, r, f32x4.splat(m), 0)) + m);
      continue;
    }
    if (inner >= 4) {
      for (; j + 4 <= inner; j += 4) v128.store(by + (<usize>j << 2), lseCols(bx + (<usize>j << 2), r, sb, true));
    }
    for (; j < inner; j++) store<f32>(by + (<usize>j << 2), f32x4.extract_lane(lseCols(bx + (<usize>j << 2), r, sb, false), 0));
  }
}

/** Reduce the middle dim of dense [outer][r][inner] into [outer][inner] with RED_* op. */
export function reduce_f32(op: i32, x: usize, y: usize, outer: i32, r: i32, inner: i32): void {
  switch (op) {
    case RED_SUM: reduceLoop<RSum>(x, y, outer, r, inner); break;
    case RED_MEAN: reduceLoop<RMean>(x, y, outer, r, inner); break;
    case RED_MAX: reduceLoop<RMax>(x, y, outer, r, inner); break;
    case RED_MIN: reduceLoop<RMin>(x, y, outer, r, inner); break;
    case RED_PROD: reduceLoop<RProd>(x, y, outer, r, inner); break;
    case RED_SUMSQ: reduceLoop<RSumSq>(x, y, outer, r, inner); break;
    case RED_L1: reduceLoop<RL1>(x, y, outer, r, inner); break;
    case RED_L2: reduceLoop<RL2>(x, y, outer, r, inner); break;
    case RED_LOGSUMEXP: reduceLse(x, y, outer, r, inner); break;
    default: break;
  }
}

// ============================================================================================
// Fill, NaN scan
// ============================================================================================

/** dst[0..n) = value. */
export function fill_f32(dst: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = dst + (<usize>i << 2);
    v128.store(p, v); v128.store(p, v, 16); v128.store(p, v, 32); v128.store(p, v, 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), value);
}

/**
 * Index of the first NaN or ±Infinity in x[0..n), or -1 (the host's check of every input feed):
 * x - x is NaN exactly for those (Infinity - Infinity is NaN), 0 for every finite x.
 */
export function find_nonfinite_f32(x: usize, n: i32): i32 {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    const za = f32x4.sub(a, a), zb = f32x4.sub(b, b), zc = f32x4.sub(c, c), zd = f32x4.sub(d, d);
    const bad = v128.or(v128.or(f32x4.ne(za, za), f32x4.ne(zb, zb)), v128.or(f32x4.ne(zc, zc), f32x4.ne(zd, zd)));
    if (v128.any_true(bad)) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    const z = v - v;
    if (z != z) return i;
  }
  return -1;
}
