// Element-wise ops of the host evaluator with ONNX semantics (docs/Operators.md): unary math
// (Floor, Ceil, Round half to even, Exp, Log, Sqrt, Reciprocal, Neg, Abs, Sign, ...), binary
// arithmetic with multidirectional broadcasting (integer Div truncates, Mod with fmod 0/1),
// comparisons and logical ops to bool, variadic Min/Max/Sum/Mean, Where, Clip, Softmax and
// LogSoftmax (opset < 13 flattening and opset 13 single-axis forms), and Cast between float32,
// integer types and bool.
import { ShapeError, UnsupportedOpError, ValueError } from '../../lazy/kit';
import type { Node } from '../ir';
import { alloc, attrNum, bcast2, bcastIndex, bcastShape, checkInts, foldSize, make, MAX_INT, type Bcast2, type Const, type Kind, type Values } from './core';

type F1 = (a: number) => number;
type F2 = (a: number, b: number) => number;

/** Round half to even (ONNX Round, numpy.round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}

const UNARY: Record<string, F1> = {
  Neg: (a) => -a,
  Abs: Math.abs,
  Sign: (a) => (a > 0 ? 1 : a < 0 ? -1 : a === 0 ? 0 : NaN),
  Sqrt: Math.sqrt,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Round: roundHalfEven,
  Exp: Math.exp,
  Log: Math.log,
  Reciprocal: (a) => 1 / a,
  Relu: (a) => (a > 0 ? a : 0),
  Sigmoid: (a) => 1 / (1 + Math.exp(-a)),
  Tanh: Math.tanh,
  Sin: Math.sin,
  Cos: Math.cos,
  Erf: erf,
  IsNaN: (a) => +Number.isNaN(a),
  Not: (a) => +!a,
};
/** Unary ops whose result keeps an int input's kind (the rest compute in float). */
const INT_SAFE_UNARY = new Set(['Neg', 'Abs', 'Sign', 'Relu', 'Floor', 'Ceil', 'Round']);

/** Error function (Abramowitz-Stegun 7.1.26 is too coarse; this is a series/continued fraction to ~1e-15). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // continued fraction for erfc (Lentz), accurate for |x| >= 2.5
  let f = ax;
  let c = ax;
  let d = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    d = ax + a * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + a / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return x < 0 ? erfc - 1 : 1 - erfc;
}

export const UNARY_OPS = new Set(Object.keys(UNARY));

export function unary(n: Node, x: Const): Const {
  const f = UNARY[n.op];
  const kind: Kind = n.op === 'Not' || n.op === 'IsNaN' ? 'bool' : x.kind !== 'float' && INT_SAFE_UNARY.has(n.op) ? x.kind === 'bool' ? 'int' : x.kind : 'float';
  const len = x.v.length;
  const out = alloc(kind, len);
  const v = x.v;
  if (kind === 'float') {
    if (!unaryFast(n.op, v, out as Float32Array)) for (let i = 0; i < len; i++) out[i] = f(v[i]);
  }
  else for (let i = 0; i < len; i++) out[i] = f(v[i]) + 0; // ints have no -0
  const r: Const = { v: out, shape: x.shape.slice(), kind };
  if (kind === 'int' && x.dt !== undefined) r.dt = x.dt;
  return r;
}

const intDiv: F2 = (a, b) => {
  if (b === 0) throw new ValueError(`integer division by zero`);
  return Math.trunc(a / b);
};
const ARITH_INT: Record<string, F2> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: intDiv,
  // an int base keeps its type: a float exponent's result truncates, as a C cast of pow()
  Pow: (a, b) => {
    if (b < 0 && a === 0) return intDiv(1, 0);
    return Math.trunc(a ** b) + 0;
  },
};
const ARITH_FLOAT: Record<string, F2> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
};
const COMPARE: Record<string, F2> = {
  Equal: (a, b) => +(a === b),
  Less: (a, b) => +(a < b),
  Greater: (a, b) => +(a > b),
  LessOrEqual: (a, b) => +(a <= b),
  GreaterOrEqual: (a, b) => +(a >= b),
  And: (a, b) => +(!!a && !!b),
  Or: (a, b) => +(!!a || !!b),
  Xor: (a, b) => +(!!a !== !!b),
};
/** Integer Mod: the result takes the divisor's sign (fmod = 0). */
const modInt: F2 = (a, b) => {
  if (b === 0) throw new ValueError(`integer Mod by zero`);
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
};
/** Float Mod with fmod = 0 (the divisor's sign, as numpy.mod). */
const modFloat: F2 = (a, b) => {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
};
/** C fmod: the result takes the dividend's sign (fmod = 1). */
const fmod: F2 = (a, b) => a % b;
const fmodInt: F2 = (a, b) => {
  if (b === 0) throw new ValueError(`integer Mod by zero`);
  return (a % b) + 0;
};
const minF: F2 = (a, b) => (a < b || Number.isNaN(a) ? a : b);
const maxF: F2 = (a, b) => (a > b || Number.isNaN(a) ? a : b);

export const BINARY_OPS = new Set([...Object.keys(ARITH_INT), ...Object.keys(COMPARE), 'Mod', 'BitShift']);
export const VARIADIC_OPS = new Set(['Min', 'Max', 'Sum', 'Mean']);

/**
 * The float ops detector tails run on whole score maps, as plain loops (calling the op's function
 * per element costs several times more once many ops share the call site). False: not one of them.
 */
function unaryFast(op: string, v: Values, out: Float32Array): boolean {
  const len = out.length;
  switch (op) {
    case 'Sigmoid':
      for (let i = 0; i < len; i++) out[i] = 1 / (1 + Math.exp(-v[i]));
      return true;
    case 'Exp':
      for (let i = 0; i < len; i++) out[i] = Math.exp(v[i]);
      return true;
    case 'Relu':
      for (let i = 0; i < len; i++) out[i] = v[i] > 0 ? v[i] : 0;
      return true;
    case 'Neg':
      for (let i = 0; i < len; i++) out[i] = -v[i];
      return true;
    case 'Sqrt':
      for (let i = 0; i < len; i++) out[i] = Math.sqrt(v[i]);
      return true;
    case 'Log':
      for (let i = 0; i < len; i++) out[i] = Math.log(v[i]);
      return true;
  }
  return false;
}

/**
 * Float32 arithmetic, Min/Max and comparisons as plain loops over a two-level broadcast (see
 * bcast2), a value of b that repeats along a row read once per row: calling the op's function
 * per element costs several times more once many ops share the call site, and these loops only
 * ever see Float32Array operands. Comparisons are +(x < y): no branch on the data. False: not
 * one of them.
 */
function binaryFast(op: string, av: Float32Array, bv: Float32Array, out: Float32Array | Uint8Array, p: Bcast2): boolean {
  const { outer, inner, a0, a1, b0, b1 } = p;
  switch (op) {
    case 'Add':
      for (let o = 0, k = 0; o < outer; o++) {
        const end = k + inner;
        let i = o * a0;
        let j = o * b0;
        if (b1 === 0) for (const y = bv[j]; k < end; k++, i += a1) out[k] = av[i] + y;
        else for (; k < end; k++, i += a1, j += b1) out[k] = av[i] + bv[j];
      }
      return true;
    case 'Sub':
      for (let o = 0, k = 0; o < outer; o++) {
        const end = k + inner;
        let i = o * a0;
        let j = o * b0;
        if (b1 === 0) for (const y = bv[j]; k < end; k++, i += a1) out[k] = av[i] - y;
        else for (; k < end; k++, i += a1, j += b1) out[k] = av[i] - bv[j];
      }
      return true;
    case 'Mul':
      for (let o = 0, k = 0; o < outer; o++) {
        const end = k + inner;
        let i = o * a0;
        let j = o * b0;
        if (b1 === 0) for (const y = bv[j]; k < end; k++, i += a1) out[k] = av[i] * y;
        else for (; k < end; k++, i += a1, j += b1) out[k] = av[i] * bv[j];
      }
      return true;
    case 'Div':
      for (let o = 0, k = 0; o < outer; o++) {
        const end = k + inner;
        let i = o * a0;
        let j = o * b0;
        if (b1 === 0) for (const y = bv[j]; k < end; k++, i += a1) out[k] = av[i] / y;
        else for (; k < end; k++, i += a1, j += b1) out[k] = av[i] / bv[j];
      }
      return true;
    case 'Min': // minF
      for (let o = 0, k = 0; o < outer; o++)
        for (let end = k + inner, i = o * a0, j = o * b0; k < end; k++, i += a1, j += b1) {
          const x = av[i];
          const y = bv[j];
          out[k] = x < y || x !== x ? x : y;
        }
      return true;
    case 'Max': // maxF
      for (let o = 0, k = 0; o < outer; o++)
        for (let end = k + inner, i = o * a0, j = o * b0; k < end; k++, i += a1, j += b1) {
          const x = av[i];
          const y = bv[j];
          out[k] = x > y || x !== x ? x : y;
        }
      return true;
    case 'Equal':
      for (let o = 0, k = 0; o < outer; o++) {
        const end = k + inner;
        let i = o * a0;
        let j = o * b0;
        if (b1 === 0) for (const y = bv[j]; k < end; k++, i += a1) out[k] = +(av[i] === y);
        else for (; k < end; k++, i += a1, j += b1) out[k] = +(av[i] === bv[j]);
      }
      return true;
    case 'Less':
      for (let o = 0, k = 0; o < outer; o++) {
        const end = k + inner;
        let i = o * a0;
        let j = o * b0;
        if (b1 === 0) for (const y = bv[j]; k < end; k++, i += a1) out[k] = +(av[i] < y);
        else for (; k < end; k++, i += a1, j += b1) out[k] = +(av[i] < bv[j]);
      }
      return true;
    case 'Greater':
      for (let o = 0, k = 0; o < outer; o++) {
        const end = k + inner;
        let i = o * a0;
        let j = o * b0;
        if (b1 === 0) for (const y = bv[j]; k < end; k++, i += a1) out[k] = +(av[i] > y);
        else for (; k < end; k++, i += a1, j += b1) out[k] = +(av[i] > bv[j]);
      }
      return true;
    case 'LessOrEqual':
      for (let o = 0, k = 0; o < outer; o++) {
        const end = k + inner;
        let i = o * a0;
        let j = o * b0;
        if (b1 === 0) for (const y = bv[j]; k < end; k++, i += a1) out[k] = +(av[i] <= y);
        else for (; k < end; k++, i += a1, j += b1) out[k] = +(av[i] <= bv[j]);
      }
      return true;
    case 'GreaterOrEqual':
      for (let o = 0, k = 0; o < outer; o++) {
        const end = k + inner;
        let i = o * a0;
        let j = o * b0;
        if (b1 === 0) for (const y = bv[j]; k < end; k++, i += a1) out[k] = +(av[i] >= y);
        else for (; k < end; k++, i += a1, j += b1) out[k] = +(av[i] >= bv[j]);
      }
      return true;
  }
  return false;
}

/** `op`: the op `f` computes (binaryFast may have a loop for it); Sum and Mean fold with Add. */
function bcastApply(a: Const, b: Const, f: F2, kind: Kind, op: string): Const {
  const shape = bcastShape(a.shape, b.shape);
  const len = foldSize(shape);
  const av = a.v;
  const bv = b.v;
  const out = alloc(kind, len);
  if (op && av instanceof Float32Array && bv instanceof Float32Array) {
    const p = bcast2(shape, a.shape, b.shape);
    if (p && binaryFast(op, av, bv, out as Float32Array | Uint8Array, p)) return { v: out, shape, kind };
  }
  // one side a single value (a threshold, a constant): no index table
  if (bv.length === 1 && av.length === len) {
    const y = bv[0];
    for (let i = 0; i < len; i++) out[i] = f(av[i], y);
    return { v: out, shape, kind };
  }
  if (av.length === 1 && bv.length === len) {
    const x = av[0];
    for (let i = 0; i < len; i++) out[i] = f(x, bv[i]);
    return { v: out, shape, kind };
  }
  const ia = bcastIndex(shape, a.shape);
  const ib = bcastIndex(shape, b.shape);
  if (!ia && !ib) for (let i = 0; i < len; i++) out[i] = f(av[i], bv[i]);
  else if (!ia) for (let i = 0; i < len; i++) out[i] = f(av[i], bv[ib![i]]);
  else if (!ib) for (let i = 0; i < len; i++) out[i] = f(av[ia[i]], bv[i]);
  else for (let i = 0; i < len; i++) out[i] = f(av[ia[i]], bv[ib[i]]);
  return { v: out, shape, kind };
}

function numKind(a: Const, b: Const): Kind {
  return a.kind === 'float' || b.kind === 'float' ? 'float' : 'int';
}

export function binary(n: Node, a: Const, b: Const): Const {
  const op = n.op;
  if (op in COMPARE) return bcastApply(a, b, COMPARE[op], 'bool', op);
  if (op === 'BitShift') {
    const left = n.attrs.direction === 'LEFT';
    const r = bcastApply(a, b, left ? (x, y) => x * 2 ** y : (x, y) => Math.floor(x / 2 ** y), 'int', op);
    const range = a.dt !== undefined ? INT_RANGE[a.dt] : undefined;
    if (range && range[2] < 64) {
      // the unsigned types BitShift takes: bits shifted past the top are lost
      r.dt = a.dt;
      const v = r.v;
      for (let i = 0; i < v.length; i++) v[i] = wrapInt(v[i], range[2], range[3]);
    } else checkInts(r.v, 'BitShift');
    return r;
  }
  // Pow's result has the base's type; the others need equal types (float wins if mixed)
  const kind = op === 'Pow' ? (a.kind === 'float' ? 'float' : 'int') : numKind(a, b);
  let f: F2;
  if (op === 'Mod') f = attrNum(n, 'fmod', 0) ? (kind === 'float' ? fmod : fmodInt) : kind === 'float' ? modFloat : modInt;
  else f = kind === 'float' ? ARITH_FLOAT[op] : ARITH_INT[op];
  const r = bcastApply(a, b, f, kind, op);
  if (kind === 'int') {
    checkInts(r.v, op);
    if (a.dt !== undefined) {
      // a narrow integer type wraps on overflow (two's complement), as onnxruntime's C++ arithmetic
      r.dt = a.dt;
      const range = INT_RANGE[a.dt];
      if (range && range[2] < 64) {
        const v = r.v;
        for (let i = 0; i < v.length; i++) if (v[i] < range[0] || v[i] > range[1]) v[i] = wrapInt(v[i], range[2], range[3]);
      }
    }
  }
  return r;
}

/** Min/Max/Sum/Mean over any number of inputs, broadcast together, folded left to right. */
export function variadic(n: Node, parts: Const[]): Const {
  const op = n.op;
  if (!parts.length) throw new ValueError(`${op} needs at least one input`);
  const kind: Kind = parts.some((p) => p.kind === 'float') ? 'float' : 'int';
  const f = op === 'Min' ? minF : op === 'Max' ? maxF : (x: number, y: number) => x + y;
  let acc: Const = { ...parts[0], kind, v: kind === 'float' && !(parts[0].v instanceof Float32Array) ? Float32Array.from(parts[0].v) : parts[0].v };
  for (let i = 1; i < parts.length; i++) acc = bcastApply(acc, parts[i], f, kind, op === 'Min' || op === 'Max' ? op : 'Add');
  if (op === 'Mean') {
    const k = parts.length;
    const v = acc.v.slice();
    for (let i = 0; i < v.length; i++) v[i] = kind === 'float' ? v[i] / k : Math.trunc(v[i] / k);
    acc = { v, shape: acc.shape, kind };
  }
  if (kind === 'int') checkInts(acc.v, op);
  return acc;
}

/** Clip to [min, max] (inputs from opset 11, attributes before); NaN stays NaN. */
export function clip(n: Node, x: Const, lo: Const | null, hi: Const | null): Const {
  const min = lo ? lo.v[0] : attrNum(n, 'min', -Infinity);
  const max = hi ? hi.v[0] : attrNum(n, 'max', Infinity);
  const v = x.v;
  const out = alloc(x.kind, v.length);
  for (let i = 0; i < v.length; i++) {
    const y = v[i] < min ? min : v[i];
    out[i] = y > max ? max : y; // min > max gives max, as the spec says
  }
  const r: Const = { v: out, shape: x.shape.slice(), kind: x.kind };
  if (x.dt !== undefined) r.dt = x.dt;
  return r;
}

/**
 * Softmax / LogSoftmax. From opset 13 along one axis (default -1); before, over the flattened
 * dims from `axis` (default 1) on, as those opsets define it.
 */
export function softmax(n: Node, x: Const, opset: number): Const {
  const r = x.shape.length;
  const a0 = attrNum(n, 'axis', opset >= 13 ? -1 : 1);
  const a = a0 < 0 ? a0 + r : a0;
  if (!(a >= 0 && a < Math.max(r, 1))) throw new ShapeError(`axis ${a0} is out of range for rank ${r}`);
  let outer: number;
  let dim: number;
  let inner: number;
  if (opset >= 13) {
    outer = x.shape.slice(0, a).reduce((p, q) => p * q, 1);
    dim = x.shape[a] ?? 1;
    inner = x.shape.slice(a + 1).reduce((p, q) => p * q, 1);
  } else {
    outer = x.shape.slice(0, a).reduce((p, q) => p * q, 1);
    dim = x.shape.slice(a).reduce((p, q) => p * q, 1);
    inner = 1;
  }
  const log = n.op === 'LogSoftmax';
  const hard = n.op === 'Hardmax';
  const v = x.v;
  const out = new Float32Array(v.length);
  const ex = new Float64Array(dim);
  for (let o = 0; o < outer; o++)
    for (let t = 0; t < inner; t++) {
      const base = o * dim * inner + t;
      let m = -Infinity;
      for (let j = 0; j < dim; j++) m = Math.max(m, v[base + j * inner]);
      if (hard) {
        // Hardmax: 1 at the first maximum along the axis (onnx.ai Hardmax), 0 elsewhere
        let j = 0;
        while (j < dim - 1 && !(v[base + j * inner] === m)) j++;
        out[base + j * inner] = 1;
        continue;
      }
      let sum = 0;
      for (let j = 0; j < dim; j++) {
        const e = Math.exp(v[base + j * inner] - m);
        ex[j] = e;
        sum += e;
      }
      const ls = Math.log(sum);
      for (let j = 0; j < dim; j++) {
        const p = base + j * inner;
        out[p] = log ? v[p] - m - ls : ex[j] / sum;
      }
    }
  return { v: out, shape: x.shape.slice(), kind: 'float' };
}

export function where(c: Const, a: Const, b: Const): Const {
  const kind = a.kind === 'float' || b.kind === 'float' ? 'float' : a.kind;
  const shape = bcastShape(bcastShape(c.shape, a.shape), b.shape);
  const len = foldSize(shape);
  const ic = bcastIndex(shape, c.shape);
  const ia = bcastIndex(shape, a.shape);
  const ib = bcastIndex(shape, b.shape);
  const out = alloc(kind, len);
  const cv = c.v;
  const av = a.v;
  const bv = b.v;
  for (let i = 0; i < len; i++) out[i] = cv[ic ? ic[i] : i] ? av[ia ? ia[i] : i] : bv[ib ? ib[i] : i];
  const r: Const = { v: out, shape, kind };
  if (a.dt !== undefined) r.dt = a.dt;
  return r;
}

// ---- Cast ------------------------------------------------------------------------------------

/** ONNX data types that are floating point (computed as float32 here). */
export const FLOAT_TYPES = new Set([1, 10, 11, 16]);
/** Integer types: [min, max, bits, signed]. */
const INT_RANGE: Record<number, [number, number, number, boolean]> = {
  2: [0, 255, 8, false],
  3: [-128, 127, 8, true],
  4: [0, 65535, 16, false],
  5: [-32768, 32767, 16, true],
  6: [-(2 ** 31), 2 ** 31 - 1, 32, true],
  7: [-MAX_INT, MAX_INT, 64, true],
  12: [0, 2 ** 32 - 1, 32, false],
  13: [0, MAX_INT, 64, false],
};

/** Round to the nearest IEEE half (ties to even; overflow to ±Infinity), returned widened. */
export function f16Round(x: number): number {
  const ax = Math.abs(x);
  if (!(ax > 0) || ax === Infinity) return x; // 0, -0, NaN, ±Infinity
  if (ax >= 65520) return x > 0 ? Infinity : -Infinity; // past the largest half plus half an ulp
  let e = Math.floor(Math.log2(ax));
  if (2 ** e > ax) e--;
  else if (2 ** (e + 1) <= ax) e++;
  const ulp = 2 ** (Math.max(e, -14) - 10); // subnormal halves share the 2^-24 spacing
  return roundHalfEven(x / ulp) * ulp;
}

const bfF32 = new Float32Array(1);
const bfU32 = new Uint32Array(bfF32.buffer);
/** Round a float32 to the nearest bfloat16 (ties to even), returned widened. */
export function bf16Round(x: number): number {
  bfF32[0] = x;
  const b = bfU32[0];
  if (x !== x) return x;
  bfU32[0] = ((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000) >>> 0;
  return bfF32[0];
}

/** Wrap an exact integer into an integer type of `bits` (two's complement), as ONNX Cast does. */
function wrapInt(x: number, bits: number, signed: boolean): number {
  const m = 2 ** bits;
  let r = ((x % m) + m) % m;
  if (signed && r >= m / 2) r -= m;
  return r;
}

/**
 * ONNX Cast. To float16/bfloat16 the value is rounded to that type (ties to even) and kept
 * widened in float32. float → int truncates toward zero; NaN, infinities and values outside the target
 * type are refused (ONNX leaves them undefined). int → narrower int wraps (two's complement).
 * int → float is refused for values float32 cannot hold exactly (|v| > 2^24 and not
 * representable), rather than rounded silently. Anything → bool is `v != 0` (NaN is true).
 */
export function cast(n: Node, x: Const): Const {
  const to = attrNum(n, 'to', 0);
  const v = x.v;
  const len = v.length;
  if (to === 9) {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = v[i] !== 0 ? 1 : 0;
    return { v: out, shape: x.shape.slice(), kind: 'bool' };
  }
  if (FLOAT_TYPES.has(to)) {
    const narrow = to === 10 ? f16Round : to === 16 ? bf16Round : undefined;
    // float32 to float32 (or double, held as float32): the same values; values are never written in place
    if (!narrow && x.kind === 'float' && v instanceof Float32Array) return { v, shape: x.shape.slice(), kind: 'float' };
    const out = new Float32Array(len);
    if (narrow) for (let i = 0; i < len; i++) out[i] = narrow(v[i]);
    else for (let i = 0; i < len; i++) out[i] = v[i];
    if (x.kind !== 'float')
      for (let i = 0; i < len; i++)
        if (out[i] !== v[i])
          throw new ValueError(`int value ${v[i]} (element ${i}) cannot be converted to float exactly (float32 holds integers exactly only up to 2^24)`);
    return { v: out, shape: x.shape.slice(), kind: 'float' };
  }
  const range = INT_RANGE[to];
  if (!range) throw new UnsupportedOpError('Cast', n.name, `cast to data type ${to}`);
  const [lo, hi, bits, signed] = range;
  const out = new Float64Array(len);
  if (x.kind === 'float') {
    for (let i = 0; i < len; i++) {
      const t = Math.trunc(v[i]);
      if (!(t >= lo && t <= hi)) throw new ValueError(`float value ${v[i]} (element ${i}) is outside the range of data type ${to} [${lo}, ${hi}]`);
      out[i] = t + 0;
    }
  } else if (bits === 64) {
    for (let i = 0; i < len; i++) {
      if (!signed && v[i] < 0) throw new ValueError(`negative value ${v[i]} (element ${i}) cast to an unsigned 64-bit type is beyond 2^53`);
      out[i] = v[i];
    }
  } else for (let i = 0; i < len; i++) out[i] = wrapInt(v[i], bits, signed);
  return make('int', out, x.shape.slice(), to);
}
