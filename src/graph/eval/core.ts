// Host evaluator core: the value type every host-evaluated op reads and writes (float32, int64
// as exact JS numbers, bool as 0/1), shape and broadcasting helpers (ONNX docs/Broadcasting.md,
// multidirectional), the element cap, and the typed-error conventions of the evaluator.
import { numel, ShapeError, ValueError } from '../../lazy/kit';
import type { Node } from '../ir';

/** Element kind of a host value: float32, integer (exact within ±2^53), or bool (0/1). */
export type Kind = 'float' | 'int' | 'bool';

/** Value storage: Float32Array for floats; Float64Array (or a number[] from a folded constant) for ints; Uint8Array (or number[]) for bools. */
export type Values = number[] | Float32Array | Float64Array | Uint8Array;

/**
 * A tensor as the host evaluator sees it: row-major values with a shape and a kind. Results are
 * typed arrays: Float32Array for floats, Float64Array for ints (exact to 2^53), Uint8Array for
 * bools (0/1); inputs may also hold ints and bools as plain number arrays. `dt` is the ONNX
 * element type (TensorProto.DataType) of an int value when it is not int64 (Cast to int32,
 * ArgMax's int64, ...), so narrow integer types keep their wrap-around range.
 */
export interface Const {
  v: Values;
  shape: number[];
  kind: Kind;
  dt?: number;
  /**
   * Set by Expand when the value varies along axis 0 only: row i (of shape[0]) holds rowValues[i]
   * everywhere. ScatterElements then reads its row indices here instead of scanning every element.
   */
  rowValues?: Values;
}

/**
 * Most elements a host-evaluated tensor may have (16M: 64 MB as float32, more as a JS array).
 * Shape arithmetic never comes near it; a ConstantOfShape, Tile or Range of absurd size would
 * otherwise allocate until the process dies or hangs.
 */
export const MAX_FOLD = 1 << 24;

/** Largest magnitude an int64 value may have here: JS numbers are exact up to 2^53 - 1. */
export const MAX_INT = Number.MAX_SAFE_INTEGER;

/** Elements of a result's shape, refusing dims that are not counts and totals past MAX_FOLD. */
export function foldSize(shape: readonly number[]): number {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new ShapeError(`shape [${shape}] is not a list of sizes`);
  const n = numel(shape);
  if (n > MAX_FOLD) throw new ShapeError(`a tensor of shape [${shape}] (${n} elements) is larger than the ${MAX_FOLD} the host evaluator computes`);
  return n;
}

/** A new value array for `n` elements of `kind`. */
export function alloc(kind: Kind, n: number): Float32Array | Float64Array | Uint8Array {
  return kind === 'float' ? new Float32Array(n) : kind === 'int' ? new Float64Array(n) : new Uint8Array(n);
}

/** A value of `kind` from plain numbers (floats rounded to float32). */
export function make(kind: Kind, v: ArrayLike<number>, shape: number[], dt?: number): Const {
  const keep = Array.isArray(v) || v instanceof Float64Array || (kind === 'bool' && v instanceof Uint8Array);
  const c: Const = {
    v: kind === 'float' ? (v instanceof Float32Array ? v : Float32Array.from(v)) : keep ? (v as Values) : kind === 'int' ? Float64Array.from(v) : Uint8Array.from(v),
    shape,
    kind,
  };
  if (dt !== undefined && kind === 'int' && dt !== 7) c.dt = dt;
  return c;
}

/** Same kind (and int type) as `like`, new values and shape. */
export function like(c: Const, v: Values, shape: number[]): Const {
  const o: Const = { v, shape, kind: c.kind };
  if (c.dt !== undefined) o.dt = c.dt;
  return o;
}

export function strides(shape: readonly number[]): number[] {
  const s: number[] = new Array(shape.length);
  let a = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = a;
    a *= shape[i];
  }
  return s;
}

/** Multidirectional (numpy) broadcast of shapes. */
export function bcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new ShapeError(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * For each element of `out` (row-major), the flat index of the element of an operand of shape
 * `shape` broadcast to it; undefined when the shapes are equal (the identity). An odometer walk:
 * no division per element.
 */
export function bcastIndex(out: readonly number[], shape: readonly number[]): Int32Array | undefined {
  if (out.length === shape.length && out.every((d, i) => d === shape[i])) return undefined;
  const n = numel(out);
  const idx = new Int32Array(n);
  if (numel(shape) === 1 || n === 0) return idx;
  const r = out.length;
  const st = strides(shape);
  const bst: number[] = new Array(r).fill(0);
  for (let d = 0; d < r; d++) {
    const s = d - (r - shape.length);
    if (s >= 0 && shape[s] !== 1) bst[d] = st[s];
  }
  const coord = new Array(r).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = off;
    for (let d = r - 1; d >= 0; d--) {
      coord[d]++;
      off += bst[d];
      if (coord[d] < out[d]) break;
      off -= bst[d] * coord[d];
      coord[d] = 0;
    }
  }
  return idx;
}

/**
 * A broadcast as two nested loops: `outer` rows of `inner` elements of the result, operand a's
 * flat index advancing by a0 per row and a1 per element (0 where a repeats), b's by b0 and b1.
 */
export interface Bcast2 {
  outer: number;
  inner: number;
  a0: number;
  a1: number;
  b0: number;
  b1: number;
}

/**
 * How operands of shapes `a` and `b` broadcast to `out` (their bcastShape) as two nested loops:
 * the result's dims grouped into runs along which each operand either varies or repeats
 * (same-shape and scalar operands: one run; [n, k] with [n, 1] or [k]: two). Undefined when
 * that takes more than two runs ([n, 1, k] with [n, m, k]).
 */
export function bcast2(out: readonly number[], a: readonly number[], b: readonly number[]): Bcast2 | undefined {
  const r = out.length;
  // runs from the last dim: each operand's presence (1: it varies) and the run's size
  const runs: { pa: number; pb: number; size: number }[] = [];
  for (let d = r - 1; d >= 0; d--) {
    if (out[d] === 1) continue;
    const pa = (a[d - (r - a.length)] ?? 1) === 1 ? 0 : 1;
    const pb = (b[d - (r - b.length)] ?? 1) === 1 ? 0 : 1;
    const last = runs[runs.length - 1];
    if (last && last.pa === pa && last.pb === pb) last.size *= out[d];
    else if (runs.length === 2) return undefined;
    else runs.push({ pa, pb, size: out[d] });
  }
  const [i, o] = runs;
  const inner = i ? i.size : 1;
  const ia = i ? i.pa : 0;
  const ib = i ? i.pb : 0;
  return {
    outer: o ? o.size : 1,
    inner,
    a0: o && o.pa ? (ia ? inner : 1) : 0,
    a1: ia,
    b0: o && o.pb ? (ib ? inner : 1) : 0,
    b1: ib,
  };
}

/**
 * out[o0 + r·oRow + j] = v[s0 + r·sRow + j·sStep] for r < rows, j < len: block copies of
 * contiguous rows of 16+ values between arrays of one type, else a loop (one of its own for
 * float32 arrays, so that the detector tails' large float copies run on a loop that sees no other
 * array type and stays fast).
 */
export function copy2d(out: Values, o0: number, oRow: number, v: Values, s0: number, sRow: number, sStep: number, rows: number, len: number): void {
  if (sStep === 1 && len >= 16 && v.constructor === out.constructor) {
    const src = v as Float32Array;
    const dst = out as Float32Array;
    for (let r = 0; r < rows; r++) dst.set(src.subarray(s0 + r * sRow, s0 + r * sRow + len), o0 + r * oRow);
  } else if (out instanceof Float32Array && v instanceof Float32Array) copyF32(out, o0, oRow, v, s0, sRow, sStep, rows, len);
  else
    for (let r = 0; r < rows; r++)
      for (let j = 0, o = o0 + r * oRow, s = s0 + r * sRow; j < len; j++, s += sStep) out[o + j] = v[s];
}

/** copy2d's loop for float32 arrays (rows of one value: a Concat interleaving columns, one loop). */
function copyF32(out: Float32Array, o0: number, oRow: number, v: Float32Array, s0: number, sRow: number, sStep: number, rows: number, len: number): void {
  if (len === 1) for (let r = 0, o = o0, s = s0; r < rows; r++, o += oRow, s += sRow) out[o] = v[s];
  else
    for (let r = 0; r < rows; r++)
      for (let j = 0, o = o0 + r * oRow, s = s0 + r * sRow; j < len; j++, s += sStep) out[o + j] = v[s];
}

/** out[t·len + j] = v[offs[t] + j] for each row t of offs and j < len: the rows a gather picks, copied as copy2d does. */
export function copyRowsAt(out: Values, v: Values, offs: Int32Array, len: number): void {
  const n = offs.length;
  if (len >= 16 && v.constructor === out.constructor) {
    const src = v as Float32Array;
    const dst = out as Float32Array;
    for (let t = 0; t < n; t++) dst.set(src.subarray(offs[t], offs[t] + len), t * len);
  } else if (out instanceof Float32Array && v instanceof Float32Array) rowsAtF32(out, v, offs, len);
  else for (let t = 0, k = 0; t < n; t++) for (let j = 0, s = offs[t]; j < len; j++) out[k++] = v[s + j];
}

/** copyRowsAt's loop for float32 arrays. */
function rowsAtF32(out: Float32Array, v: Float32Array, offs: Int32Array, len: number): void {
  const n = offs.length;
  for (let t = 0, k = 0; t < n; t++) for (let j = 0, s = offs[t]; j < len; j++) out[k++] = v[s + j];
}

/** Normalise a possibly negative axis for `rank`, refusing one out of range. */
export function axisOf(a: number, rank: number, what = 'axis'): number {
  const x = a < 0 ? a + rank : a;
  if (!Number.isInteger(x) || x < 0 || x >= Math.max(rank, 1)) throw new ShapeError(`${what} ${a} is out of range for rank ${rank}`);
  return x;
}

/** Check that every value of an int result is exactly representable (|v| ≤ 2^53 - 1); turns -0 into 0. */
export function checkInts(v: Values, what: string): void {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!(x <= MAX_INT && x >= -MAX_INT))
      throw new ValueError(`${what}: int64 result ${x} is beyond ±2^53, which the host evaluator cannot hold exactly`);
    if (x === 0) v[i] = 0;
  }
}

/** Normalise index `raw` into [0, dim), refusing one outside [-dim, dim). */
export function indexIn(raw: number, dim: number, what: string): number {
  const i = raw < 0 ? raw + dim : raw;
  if (!(i >= 0 && i < dim)) throw new ValueError(`${what} ${raw} is out of range for a dim of size ${dim}`);
  return i;
}

export function attrNum(n: Node, k: string, def: number): number {
  const v = n.attrs[k];
  return typeof v === 'number' ? v : def;
}

export function attrInts(n: Node, k: string): number[] | undefined {
  const v = n.attrs[k];
  return Array.isArray(v) ? (v as number[]) : undefined;
}

/** The values of an int input as numbers (undefined when the input is omitted). */
export function intsOf(c: Const | null | undefined): number[] | undefined {
  return c ? Array.from(c.v) : undefined;
}

/** A scalar's value (a one-element tensor of any rank). */
export function scalarOf(c: Const, what: string): number {
  if (c.v.length !== 1) throw new ShapeError(`${what} must hold one value, has shape [${c.shape}]`);
  return c.v[0];
}

/** Typed arrays a host value is read from (a run's feed) or written to (a run's result). */
export type HostArray = Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;

/**
 * A host value from a typed array: Float32Array as float; BigInt64Array as int64, refusing
 * (ValueError naming `what`) any value beyond ±(2^53 - 1), which a JS number would round;
 * other integer arrays as ints, or as bools (non-zero → 1) when `bool` is set.
 */
export function fromTyped(data: HostArray, shape: number[], what: string, bool = false): Const {
  const n = foldSize(shape);
  if (data.length !== n) throw new ShapeError(`${what}: ${data.length} values for shape [${shape}]`);
  if (data instanceof Float32Array) return { v: data, shape: shape.slice(), kind: 'float' };
  const v = bool ? new Uint8Array(n) : new Float64Array(n);
  if (data instanceof BigInt64Array) {
    const lim = BigInt(MAX_INT);
    for (let i = 0; i < n; i++) {
      const b = data[i];
      if (b > lim || b < -lim) throw new ValueError(`${what}: int64 value ${b} (element ${i}) is beyond ±2^53, which the host evaluator cannot hold exactly`);
      v[i] = Number(b);
    }
  } else for (let i = 0; i < n; i++) v[i] = data[i];
  if (bool) {
    for (let i = 0; i < n; i++) v[i] = data[i] !== 0 && data[i] !== 0n ? 1 : 0;
    return { v, shape: shape.slice(), kind: 'bool' };
  }
  const dt = data instanceof Int32Array ? 6 : data instanceof Int16Array ? 5 : data instanceof Int8Array ? 3 : data instanceof Uint8Array ? 2 : data instanceof Uint16Array ? 4 : data instanceof Uint32Array ? 12 : 7;
  return make('int', v, shape.slice(), dt);
}

/** A host value as a typed array: float → Float32Array, int → BigInt64Array, bool → Uint8Array. */
export function toTyped(c: Const): Float32Array | BigInt64Array | Uint8Array {
  if (c.kind === 'float') return c.v instanceof Float32Array ? c.v : Float32Array.from(c.v);
  if (c.kind === 'bool') return Uint8Array.from(c.v);
  const out = new BigInt64Array(c.v.length);
  for (let i = 0; i < out.length; i++) out[i] = BigInt(c.v[i]);
  return out;
}

