// Scalar f64 references for eltwise.spec.ts, written straight from the ONNX operator
// definitions (https://onnx.ai/onnx/operators/) without any of the kernels' tricks.
import {
  ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_LEAKY, ACT_SIGMOID, ACT_TANH, ACT_HARDSIGMOID,
  ACT_HARDSWISH, ACT_SILU, ACT_GELU_ERF, ACT_GELU_TANH, ACT_ELU, ACT_SELU, ACT_CELU,
  ACT_SOFTPLUS, ACT_SOFTSIGN, ACT_MISH, ACT_THRESHOLDED_RELU, ACT_ABS, ACT_NEG, ACT_EXP,
  ACT_LOG, ACT_SQRT, ACT_ERF, ACT_RECIPROCAL, ACT_FLOOR, ACT_CEIL, ACT_SHRINK,
  ACT_SCALE_SHIFT, ACT_SQUARE, ACT_POW_SCALAR,
  BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_MAX, BIN_MIN, BIN_POW, BIN_PRELU,
} from '../codes';
import { erfRef, erfcRef, sigmoidRef, softplusRef } from './math_ref';

export function unaryRef(op: i32, x: f64, p0: f64, p1: f64): f64 {
  switch (op) {
    case ACT_NONE: return x;
    case ACT_RELU: return isNaN(x) ? x : (x > 0 ? x : 0);
    case ACT_CLAMP: return isNaN(x) ? x : Math.min(Math.max(x, p0), p1);
    case ACT_LEAKY: return x >= 0 ? x : p0 * x;
    case ACT_SIGMOID: return sigmoidRef(x);
    case ACT_TANH: return Math.tanh(x);
    case ACT_HARDSIGMOID: return isNaN(x) ? x : Math.max(0, Math.min(1, p0 * x + p1));
    case ACT_HARDSWISH: return isNaN(x) ? x : x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case ACT_SILU: return x * sigmoidRef(x);
    case ACT_GELU_ERF: return x < 0 ? 0.5 * x * erfcRef(-x / Math.SQRT2) : 0.5 * x * (1 + erfRef(x / Math.SQRT2));
    case ACT_GELU_TANH: return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case ACT_ELU: return x >= 0 ? x : p0 * Math.expm1(x);
    case ACT_SELU: return p1 * (x > 0 ? x : p0 * Math.expm1(x));
    case ACT_CELU: return isNaN(x) ? x : Math.max(0, x) + Math.min(0, p0 * Math.expm1(x / p0));
    case ACT_SOFTPLUS: return softplusRef(x);
    case ACT_SOFTSIGN: return x / (1 + Math.abs(x));
    case ACT_MISH: return x * Math.tanh(softplusRef(x));
    case ACT_THRESHOLDED_RELU: return x > p0 ? x : 0;
    case ACT_ABS: return Math.abs(x);
    case ACT_NEG: return -x;
    case ACT_EXP: return Math.exp(x);
    case ACT_LOG: return Math.log(x);
    case ACT_SQRT: return Math.sqrt(x);
    case ACT_ERF: return erfRef(x);
    case ACT_RECIPROCAL: return 1 / x;
    case ACT_FLOOR: return Math.floor(x);
    case ACT_CEIL: return Math.ceil(x);
    case ACT_SHRINK: return x < -p0 ? x + p1 : (x > p0 ? x - p1 : 0);
    case ACT_SCALE_SHIFT: return p0 * x + p1;
    case ACT_SQUARE: return x * x;
    case ACT_POW_SCALAR: return Math.pow(x, p0);
  }
  return NaN;
}

/** f32 scalar reference of the binary ops (same rounding as the kernels: exact compare). */
export function binaryRef(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case BIN_ADD: return a + b;
    case BIN_SUB: return a - b;
    case BIN_MUL: return a * b;
    case BIN_DIV: return a / b;
    case BIN_MAX: return isNaN(a) || isNaN(b) ? NaN : Mathf.max(a, b);
    case BIN_MIN: return isNaN(a) || isNaN(b) ? NaN : Mathf.min(a, b);
    case BIN_POW: return Mathf.pow(a, b);
    case BIN_PRELU: return a >= 0 ? a : a * b;
  }
  return NaN;
}

/** |y - ref| <= rtol |ref| + atol, NaN == NaN, infinities exact (ref rounded to f32 first). */
export function close(y: f32, ref: f64, rtol: f64, atol: f64): bool {
  if (isNaN(ref)) return isNaN(y);
  const r32 = <f32>ref;
  if (!isFinite(r32)) return <f64>y == <f64>r32;
  if (isNaN(y)) return false;
  return Math.abs(<f64>y - ref) <= rtol * Math.abs(ref) + atol;
}
