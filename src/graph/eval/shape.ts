// Shape and layout ops of the host evaluator with ONNX semantics (docs/Operators.md): Shape
// (start/end), Size, Reshape (allowzero), Flatten, Squeeze/Unsqueeze (axes as attribute or
// input), Concat, Split (split input/attribute, num_outputs), Slice (negative and clamped
// starts/ends, negative steps), Transpose, Expand, Tile, ConstantOfShape, Range, Identity.
import { ShapeError, ValueError } from '../../errors';
import type { Node } from '../ir';
import { numel } from '../ir';
import { alloc, attrInts, attrNum, axisOf, bcastIndex, bcastShape, checkInts, foldSize, intsOf, like, make, scalarOf, strides, type Const } from './core';

/** ONNX Reshape target resolution (0 copies the input dim unless allowzero, -1 infers). */
export function reshapeTarget(inShape: number[], target: number[], allowZero: boolean): number[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? inShape[i] : d));
  if (out.some((d) => d === undefined || !Number.isSafeInteger(d) || d < -1)) throw new Error(`cannot reshape [${inShape}] to [${target}]`);
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
  const a = axes.map((x) => (x < 0 ? x + shape.length : x));
  for (const x of a) if (!(x >= 0 && x < shape.length)) throw new Error(`squeeze axis ${x} is out of range for rank ${shape.length}`);
  for (const x of a) if (shape[x] !== 1) throw new Error(`cannot squeeze dim ${x} of size ${shape[x]}`);
  return shape.filter((_, i) => !a.includes(i));
}

export function unsqueezeShape(shape: number[], axes: number[]): number[] {
  const r = shape.length + axes.length;
  const a = axes.map((x) => (x < 0 ? x + r : x)).sort((x, y) => x - y);
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
    const a = ax[i] < 0 ? ax[i] + rank : ax[i];
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
      // the spec clamps a backward start to [0, d - 1] (a start before the first element takes
      // the first), the end to [-1, d - 1]
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      r[a] = { start: s, count: Math.max(0, Math.ceil((s - e) / -step)), step };
    }
    // one element taken: the step is never applied, so keep it small for the kernels' i32 strides
    if (r[a].count <= 1) r[a].step = 1;
  }
  return r;
}

/** out[i] = x[base + Σ coord_d · st_d] over the output's coordinates (an odometer walk). */
export function strided(x: Const, shape0: number[], base: number, st0: number[]): Const {
  const len = foldSize(shape0);
  const out = alloc(x.kind, len);
  const v = x.v;
  // size-1 dims never advance: drop them so the walk's inner dim is a real one
  const keep = shape0.map((d) => d !== 1);
  const shape = shape0.filter((_, i) => keep[i]);
  const st = st0.filter((_, i) => keep[i]);
  const r = shape.length;
  if (r === 0) {
    if (len) out[0] = v[base];
    return like(x, out, shape0);
  }
  const inner = shape[r - 1];
  const ist = st[r - 1];
  if (len > 0) {
    // rows along the last dim in a tight loop, the odometer over the rest
    const coord = new Array(r).fill(0);
    let off = base;
    for (let i = 0; i < len; i += inner) {
      for (let j = 0, p = off; j < inner; j++, p += ist) out[i + j] = v[p];
      for (let d = r - 2; d >= 0; d--) {
        coord[d]++;
        off += st[d];
        if (coord[d] < shape[d]) break;
        off -= st[d] * coord[d];
        coord[d] = 0;
      }
    }
  }
  return like(x, out, shape0);
}

export function transpose(x: Const, perm: number[]): Const {
  const r = x.shape.length;
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
    throw new ShapeError(`perm [${perm}] is not a permutation of the ${r} axes`);
  const st = strides(x.shape);
  return strided(x, perm.map((p) => x.shape[p]), 0, perm.map((p) => st[p]));
}

export function slice(x: Const, starts: number[], ends: number[], axes?: number[], steps?: number[]): Const {
  const r = sliceRanges(x.shape, starts, ends, axes, steps);
  const st = strides(x.shape);
  let base = 0;
  for (let d = 0; d < r.length; d++) if (r[d].count > 0) base += r[d].start * st[d];
  return strided(x, r.map((q) => q.count), base, r.map((q, d) => q.step * st[d]));
}

export function concat(parts: Const[], axis: number): Const {
  if (!parts.length) throw new ValueError('Concat needs at least one input');
  const rank = parts[0].shape.length;
  const a = axisOf(axis, rank);
  for (const p of parts)
    if (p.shape.length !== rank || p.shape.some((d, i) => i !== a && d !== parts[0].shape[i]))
      throw new ShapeError(`inputs of shapes ${parts.map((q) => `[${q.shape}]`).join(', ')} do not concatenate on axis ${axis}`);
  const shape = parts[0].shape.slice();
  shape[a] = parts.reduce((s, p) => s + p.shape[a], 0);
  const len = foldSize(shape);
  const kind = parts.some((p) => p.kind === 'float') ? 'float' : parts[0].kind;
  const out = alloc(kind, len);
  const outer = numel(shape.slice(0, a));
  const chunks = parts.map((p) => numel(p.shape.slice(a)));
  let k = 0;
  for (let o = 0; o < outer; o++)
    for (let q = 0; q < parts.length; q++) {
      const chunk = chunks[q];
      const v = parts[q].v;
      for (let j = 0, s = o * chunk; j < chunk; j++) out[k++] = v[s + j];
    }
  return { ...like(parts[0], out, shape), kind };
}

/** Split: sizes from the input (opset 13+) or attribute; else equal parts (ceil-sized, last smaller, with num_outputs as opset 18). */
export function split(n: Node, x: Const, splitIn: Const | null): Const[] {
  const a = axisOf(attrNum(n, 'axis', 0), x.shape.length);
  const dim = x.shape[a];
  const k = n.outputs.length;
  let sizes = intsOf(splitIn) ?? attrInts(n, 'split');
  if (!sizes) {
    const num = attrNum(n, 'num_outputs', 0);
    if (num && num !== k) throw new ShapeError(`num_outputs ${num} differs from the ${k} outputs`);
    const chunk = num ? Math.ceil(dim / k) : dim / k;
    if (!Number.isInteger(chunk) || chunk * (k - 1) > dim) throw new ShapeError(`a dim of size ${dim} does not split evenly into ${k} outputs`);
    sizes = Array.from({ length: k }, (_, i) => (i < k - 1 ? chunk : dim - chunk * (k - 1)));
  }
  if (sizes.length !== k || sizes.some((s) => !(s >= 0)) || sizes.reduce((p, q) => p + q, 0) !== dim)
    throw new ShapeError(`split sizes [${sizes}] do not cover a dim of size ${dim} in ${k} outputs`);
  const out: Const[] = [];
  let s = 0;
  for (const sz of sizes) {
    out.push(slice(x, [s], [s + sz], [a]));
    s += sz;
  }
  return out;
}

export function expand(x: Const, target: number[]): Const {
  const shape = bcastShape(x.shape, target);
  const len = foldSize(shape);
  const idx = bcastIndex(shape, x.shape);
  if (!idx) return x;
  const out = alloc(x.kind, len);
  const v = x.v;
  for (let i = 0; i < len; i++) out[i] = v[idx[i]];
  return like(x, out, shape);
}

export function tile(x: Const, repeats: number[]): Const {
  const r = x.shape.length;
  if (repeats.length !== r || repeats.some((q) => !Number.isInteger(q) || q < 0))
    throw new ShapeError(`repeats [${repeats}] must be ${r} non-negative counts for an input of shape [${x.shape}]`);
  const shape = x.shape.map((d, i) => d * repeats[i]);
  const len = foldSize(shape);
  const out = alloc(x.kind, len);
  const st = strides(x.shape);
  const coord = new Array(r).fill(0);
  const v = x.v;
  let off = 0;
  for (let i = 0; i < len; i++) {
    out[i] = v[off];
    for (let d = r - 1; d >= 0; d--) {
      coord[d]++;
      off += st[d];
      if (coord[d] % x.shape[d] === 0) off -= st[d] * x.shape[d];
      if (coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  return like(x, out, shape);
}

export function constantOfShape(n: Node, shapeIn: Const): Const {
  const shape = Array.from(shapeIn.v);
  const len = foldSize(shape);
  const val = n.attrs.value as { data?: Float32Array; ints?: number[] } | undefined;
  if (!val) return { v: new Float32Array(len), shape, kind: 'float' };
  if (val.data) return { v: new Float32Array(len).fill(val.data[0]), shape, kind: 'float' };
  return { v: new Float64Array(len).fill(val.ints![0]), shape, kind: 'int' };
}

/** ONNX Range: ceil((limit - start) / delta) values start, start + delta, ... (accumulated in float32 for floats, as onnxruntime). */
export function range(s: Const, l: Const, d: Const): Const {
  const start = scalarOf(s, 'start');
  const limit = scalarOf(l, 'limit');
  const delta = scalarOf(d, 'delta');
  if (delta === 0) throw new ValueError('Range delta is 0');
  // floats: the difference in float32 first, as onnxruntime computes it
  const diff = s.kind === 'float' ? Math.fround(limit - start) : limit - start;
  const count = Math.max(Math.ceil(diff / delta), 0);
  if (!Number.isFinite(count)) throw new ValueError(`Range(${start}, ${limit}, ${delta}) has no finite length`);
  foldSize([count]);
  if (s.kind === 'float') {
    const out = new Float32Array(count);
    let x = start;
    for (let i = 0; i < count; i++) {
      out[i] = x;
      x = Math.fround(x + delta);
    }
    return { v: out, shape: [count], kind: 'float' };
  }
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = start + i * delta;
  checkInts(out, 'Range');
  return make('int', out, [count], s.dt);
}

/** Shape's output for an input shape (start/end clamped after adding the rank to negatives). */
export function shapeSlice(n: Node, s: number[]): Const {
  const r = s.length;
  let start = attrNum(n, 'start', 0);
  let end = attrNum(n, 'end', r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  const v = s.slice(Math.min(Math.max(0, start), r), Math.min(Math.max(0, end), r));
  return { v, shape: [v.length], kind: 'int' };
}
