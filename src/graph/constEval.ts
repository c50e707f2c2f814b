// Load-time evaluation of nodes whose inputs are all constants: the Shape/Gather/Unsqueeze/
// Concat/arithmetic chains exporters emit to compute reshape targets, and small float folds
// (a Reshape or Transpose of a weight). Plain JS on small arrays; the run never sees these nodes.
import { UnsupportedOpError } from '../errors';
import type { IntTensor, Node, Tensor } from './ir';
import { numel } from './ir';

/** A constant as the evaluator sees it: numbers with a shape and a kind. */
export interface Const {
  v: number[] | Float32Array;
  shape: number[];
  kind: 'float' | 'int';
}

export function fromInt(t: IntTensor): Const {
  return { v: t.ints, shape: t.shape, kind: 'int' };
}
export function fromFloat(t: Tensor): Const {
  return { v: t.data, shape: t.shape, kind: 'float' };
}
export function toStored(c: Const): { float?: Tensor; int?: IntTensor } {
  return c.kind === 'float'
    ? { float: { data: c.v instanceof Float32Array ? c.v : Float32Array.from(c.v), shape: c.shape } }
    : { int: { ints: Array.from(c.v), shape: c.shape } };
}

function strides(shape: number[]): number[] {
  const s: number[] = new Array(shape.length);
  let a = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = a;
    a *= shape[i];
  }
  return s;
}

function bcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Element index of operand `shape` for flat output index `i` of `out` under broadcasting. */
function bIndex(i: number, out: number[], outSt: number[], shape: number[]): number {
  let idx = 0;
  let mul = 1;
  for (let d = out.length - 1, s = shape.length - 1; s >= 0; d--, s--) {
    const coord = Math.floor(i / outSt[d]) % out[d];
    if (shape[s] !== 1) idx += coord * mul;
    mul *= shape[s];
  }
  return idx;
}

/**
 * Most elements a constant folded at load may have (16M: 64 MB as float32, more as a JS array).
 * Shape arithmetic never comes near it; a ConstantOfShape or Range of absurd size would
 * otherwise allocate until the process dies or hangs.
 */
const MAX_FOLD = 1 << 24;

/** Elements of a folded constant's shape, refusing dims that are not counts or totals past MAX_FOLD. */
function foldSize(shape: number[]): number {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new Error(`shape [${shape}] is not a list of sizes`);
  const n = numel(shape);
  if (n > MAX_FOLD) throw new Error(`a constant of shape [${shape}] (${n} elements) is larger than the ${MAX_FOLD} folded at load`);
  return n;
}

function elementwise(ins: Const[], f: (...x: number[]) => number, kind: 'float' | 'int'): Const {
  let out: number[] = [];
  for (const c of ins) out = bcastShape(out, c.shape);
  const st = strides(out);
  const n = foldSize(out);
  const v: number[] = new Array(n);
  for (let i = 0; i < n; i++) v[i] = f(...ins.map((c) => c.v[bIndex(i, out, st, c.shape)]));
  return { v: kind === 'float' ? Float32Array.from(v) : v, shape: out, kind };
}

function axisOf(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

function attr(n: Node, k: string): unknown {
  return n.attrs[k];
}

function takeAlong(c: Const, axis: number, indices: number[]): Const {
  const shape = c.shape.slice();
  const outer = numel(shape.slice(0, axis));
  const inner = numel(shape.slice(axis + 1));
  const dim = shape[axis];
  foldSize([outer, indices.length, inner]);
  const v: number[] = [];
  for (let o = 0; o < outer; o++)
    for (const raw of indices) {
      const i = raw < 0 ? raw + dim : raw;
      if (i < 0 || i >= dim) throw new Error(`index ${raw} out of range for a dim of ${dim}`);
      for (let j = 0; j < inner; j++) v.push(c.v[(o * dim + i) * inner + j]);
    }
  shape[axis] = indices.length;
  return { v: c.kind === 'float' ? Float32Array.from(v) : v, shape, kind: c.kind };
}

function transpose(c: Const, perm: number[]): Const {
  const shape = perm.map((p) => c.shape[p]);
  const inSt = strides(c.shape);
  const outSt = strides(shape);
  const n = foldSize(shape);
  const v: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += (Math.floor(i / outSt[d]) % shape[d]) * inSt[perm[d]];
    v[i] = c.v[src];
  }
  return { v: c.kind === 'float' ? Float32Array.from(v) : v, shape, kind: c.kind };
}

/** ONNX Reshape target resolution (0 copies the input dim unless allowzero, -1 infers). */
export function reshapeTarget(inShape: number[], target: number[], allowZero: boolean): number[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? inShape[i] : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1) throw new Error(`more than one -1 in reshape target [${target}]`);
  if (neg === 1) {
    const total = numel(inShape);
    if (known === 0 || total % known !== 0) throw new Error(`cannot reshape [${inShape}] to [${target}]`);
    out[out.indexOf(-1)] = total / known;
  }
  if (numel(out) !== numel(inShape)) throw new Error(`cannot reshape [${inShape}] to [${target}]`);
  return out;
}

export function squeezeShape(shape: number[], axes: number[] | undefined): number[] {
  if (!axes) return shape.filter((d) => d !== 1);
  const a = axes.map((x) => axisOf(x, shape.length));
  for (const x of a) if (shape[x] !== 1) throw new Error(`cannot squeeze dim ${x} of size ${shape[x]}`);
  return shape.filter((_, i) => !a.includes(i));
}

export function unsqueezeShape(shape: number[], axes: number[]): number[] {
  const r = shape.length + axes.length;
  const a = axes.map((x) => axisOf(x, r)).sort((x, y) => x - y);
  if (a.some((x, i) => !Number.isInteger(x) || x < 0 || x >= r || x === a[i - 1]))
    throw new Error(`unsqueeze axes [${axes}] are out of range for rank ${r} or repeated`);
  const out = shape.slice();
  for (const x of a) out.splice(x, 0, 1);
  return out;
}

/** Resolve ONNX Slice starts/ends/axes/steps into per-axis [start, count, step]. */
export function sliceRanges(shape: number[], starts: number[], ends: number[], axes?: number[], steps?: number[]) {
  const rank = shape.length;
  const r = shape.map((d) => ({ start: 0, count: d, step: 1 }));
  const ax = axes ?? starts.map((_, i) => i);
  if (starts.length !== ax.length || ends.length !== ax.length || (steps && steps.length !== ax.length))
    throw new Error(`starts, ends, axes and steps differ in length (${starts.length}, ${ends.length}, ${ax.length}, ${steps ? steps.length : '-'})`);
  const seen = new Set<number>();
  for (let i = 0; i < ax.length; i++) {
    const a = axisOf(ax[i], rank);
    if (!Number.isInteger(a) || a < 0 || a >= rank || seen.has(a)) throw new Error(`axis ${ax[i]} is out of range for rank ${rank} or repeated`);
    seen.add(a);
    const d = shape[a];
    const step = steps ? steps[i] : 1;
    if (step === 0) throw new Error('slice step 0');
    if (![starts[i], ends[i], step].every((v) => typeof v === 'number' && !Number.isNaN(v))) throw new Error(`starts/ends/steps [${starts[i]}, ${ends[i]}, ${step}] are not numbers`);
    let s = starts[i];
    let e = ends[i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      r[a] = { start: s, count: Math.max(0, Math.ceil((e - s) / step)), step };
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      r[a] = { start: s, count: Math.max(0, Math.ceil((s - e) / -step)), step };
    }
    // one element taken: the step is never applied, so keep it small for the kernels' i32 strides
    if (r[a].count <= 1) r[a].step = 1;
  }
  return r;
}

const INT_BIN: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => Math.trunc(a / b),
  Pow: (a, b) => a ** b,
  Max: Math.max,
  Min: Math.min,
  Mod: (a, b) => a - Math.floor(a / b) * b,
  Equal: (a, b) => +(a === b),
  Less: (a, b) => +(a < b),
  Greater: (a, b) => +(a > b),
  LessOrEqual: (a, b) => +(a <= b),
  GreaterOrEqual: (a, b) => +(a >= b),
  And: (a, b) => +(!!a && !!b),
  Or: (a, b) => +(!!a || !!b),
};
const FLOAT_BIN: Record<string, (a: number, b: number) => number> = {
  ...INT_BIN,
  Div: (a, b) => a / b,
};
const UN: Record<string, (a: number) => number> = {
  Neg: (a) => -a, Abs: Math.abs, Sqrt: Math.sqrt, Floor: Math.floor, Ceil: Math.ceil,
  Exp: Math.exp, Log: Math.log, Reciprocal: (a) => 1 / a, Not: (a) => +!a, Relu: (a) => Math.max(a, 0),
  Sigmoid: (a) => 1 / (1 + Math.exp(-a)), Tanh: Math.tanh,
};

// ONNX TensorProto data types that are floating point
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

/**
 * Evaluate `n` on constant inputs (missing entries in `ins` are non-constant). `shapeOf` gives
 * known shapes for Shape/Size. Returns undefined when the node must run at inference time.
 */
export function evalConst(n: Node, ins: (Const | undefined)[], shapeOf: (name: string) => number[] | undefined): Const[] | undefined {
  try {
    return evalInner(n, ins, shapeOf);
  } catch (e) {
    if (e instanceof UnsupportedOpError) throw e;
    throw new UnsupportedOpError(n.op, n.name, `cannot evaluate constant inputs: ${(e as Error).message}`);
  }
}

function evalInner(n: Node, ins: (Const | undefined)[], shapeOf: (name: string) => number[] | undefined): Const[] | undefined {
  const op = n.op;
  if (op === 'Shape' || op === 'Size') {
    const s = shapeOf(n.inputs[0]);
    if (!s) return undefined;
    if (op === 'Size') return [{ v: [numel(s)], shape: [], kind: 'int' }];
    let start = (attr(n, 'start') as number | undefined) ?? 0;
    let end = (attr(n, 'end') as number | undefined) ?? s.length;
    if (start < 0) start += s.length;
    if (end < 0) end += s.length;
    const v = s.slice(Math.max(0, start), Math.min(s.length, end));
    return [{ v, shape: [v.length], kind: 'int' }];
  }
  const present = n.inputs.map((name, i) => (name ? ins[i] : null));
  if (present.some((c) => c === undefined)) return undefined;
  const c = present as (Const | null)[];
  const x = c[0]!;
  const ints = (k: number) => (c[k] ? Array.from(c[k]!.v) : undefined);
  switch (op) {
    case 'Identity':
    case 'Dropout':
      return [x];
    case 'Cast': {
      const to = attr(n, 'to') as number;
      const kind = FLOAT_TYPES.has(to) ? 'float' : 'int';
      const v = Array.from(x.v).map((a) => (kind === 'int' ? (to === 9 ? +!!a : Math.trunc(a)) : a));
      return [{ v: kind === 'float' ? Float32Array.from(v) : v, shape: x.shape, kind }];
    }
    case 'Reshape': {
      const shape = reshapeTarget(x.shape, ints(1)!, ((attr(n, 'allowzero') as number) ?? 0) !== 0);
      return [{ ...x, shape }];
    }
    case 'Flatten': {
      const a = axisOf((attr(n, 'axis') as number | undefined) ?? 1, x.shape.length);
      return [{ ...x, shape: [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))] }];
    }
    case 'Squeeze':
      return [{ ...x, shape: squeezeShape(x.shape, ints(1) ?? (attr(n, 'axes') as number[] | undefined)) }];
    case 'Unsqueeze':
      return [{ ...x, shape: unsqueezeShape(x.shape, ints(1) ?? (attr(n, 'axes') as number[])) }];
    case 'Concat': {
      const parts = c.filter((p): p is Const => !!p);
      const rank = parts[0].shape.length;
      const a = axisOf(attr(n, 'axis') as number, rank);
      const outer = numel(parts[0].shape.slice(0, a));
      const v: number[] = [];
      for (let o = 0; o < outer; o++)
        for (const p of parts) {
          const chunk = numel(p.shape.slice(a));
          for (let j = 0; j < chunk; j++) v.push(p.v[o * chunk + j]);
        }
      const shape = parts[0].shape.slice();
      shape[a] = parts.reduce((s, p) => s + p.shape[a], 0);
      const kind = parts.every((p) => p.kind === 'int') ? 'int' : 'float';
      return [{ v: kind === 'float' ? Float32Array.from(v) : v, shape, kind }];
    }
    case 'Gather': {
      const idx = c[1]!;
      const a = axisOf((attr(n, 'axis') as number | undefined) ?? 0, x.shape.length);
      const g = takeAlong(x, a, Array.from(idx.v));
      const shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
      return [{ ...g, shape }];
    }
    case 'Slice': {
      const starts = ints(1) ?? (attr(n, 'starts') as number[]);
      const ends = ints(2) ?? (attr(n, 'ends') as number[]);
      const axes = ints(3) ?? (attr(n, 'axes') as number[] | undefined);
      const steps = ints(4);
      const r = sliceRanges(x.shape, starts, ends, axes, steps);
      const shape = r.map((q) => q.count);
      const st = strides(x.shape);
      const ost = strides(shape);
      const total = foldSize(shape);
      const v: number[] = new Array(total);
      for (let i = 0; i < total; i++) {
        let src = 0;
        for (let d = 0; d < shape.length; d++) src += (r[d].start + (Math.floor(i / ost[d]) % shape[d]) * r[d].step) * st[d];
        v[i] = x.v[src];
      }
      return [{ v: x.kind === 'float' ? Float32Array.from(v) : v, shape, kind: x.kind }];
    }
    case 'Transpose': {
      const perm = (attr(n, 'perm') as number[] | undefined) ?? x.shape.map((_, i) => x.shape.length - 1 - i);
      return [transpose(x, perm)];
    }
    case 'ConstantOfShape': {
      const shape = Array.from(x.v);
      const val = n.attrs.value as { data?: Float32Array; ints?: number[] } | undefined;
      const fill = val ? (val.data ? val.data[0] : val.ints![0]) : 0;
      const kind = val && !val.data ? 'int' : 'float';
      const total = foldSize(shape);
      return [{ v: kind === 'float' ? new Float32Array(total).fill(fill) : new Array(total).fill(fill), shape, kind }];
    }
    case 'Range': {
      const [s, l, d] = [x.v[0], c[1]!.v[0], c[2]!.v[0]];
      const count = Math.max(Math.ceil((l - s) / d), 0);
      if (!Number.isFinite(count)) throw new Error(`Range(${s}, ${l}, ${d}) has no finite length`);
      foldSize([count]);
      const v = Array.from({ length: count }, (_, i) => s + i * d);
      return [{ v: x.kind === 'float' ? Float32Array.from(v) : v, shape: [count], kind: x.kind }];
    }
    case 'Expand': {
      const shape = bcastShape(x.shape, ints(1)!);
      return [expandTo(x, shape)];
    }
    case 'Where': {
      const kind = c[1]!.kind === 'float' || c[2]!.kind === 'float' ? 'float' : 'int';
      return [elementwise([x, c[1]!, c[2]!], (q, a, b) => (q ? a : b), kind)];
    }
  }
  if (op in INT_BIN || op === 'Sum' || op === 'Mean') {
    const parts = c.filter((p): p is Const => !!p);
    const kind = parts.every((p) => p.kind === 'int') && !['Mean'].includes(op) ? 'int' : 'float';
    if (op === 'Sum' || op === 'Mean') {
      const s = elementwise(parts, (...a) => a.reduce((p, q) => p + q, 0) / (op === 'Mean' ? a.length : 1), kind);
      return [s];
    }
    const f = kind === 'int' ? INT_BIN[op] : FLOAT_BIN[op];
    const logical = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or'].includes(op);
    return [elementwise(parts, f, logical ? 'int' : kind)];
  }
  if (op in UN) return [elementwise([x], UN[op], op === 'Not' ? 'int' : x.kind)];
  return undefined;
}

function expandTo(x: Const, shape: number[]): Const {
  const st = strides(shape);
  const n = foldSize(shape);
  const v: number[] = new Array(n);
  for (let i = 0; i < n; i++) v[i] = x.v[bIndex(i, shape, st, x.shape)];
  return { v: x.kind === 'float' ? Float32Array.from(v) : v, shape, kind: x.kind };
}
