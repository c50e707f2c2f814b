// Shape and layout ops of the host evaluator with ONNX semantics (docs/Operators.md): Shape
// (start/end), Size, Reshape (allowzero), Flatten, Squeeze/Unsqueeze (axes as attribute or
// input), Concat, Split (split input/attribute, num_outputs), Slice (negative and clamped
// starts/ends, negative steps), Transpose, Expand, Tile, ConstantOfShape, Range, Identity.
import { ShapeError, ValueError } from '../../errors';
import type { Node } from '../ir';
import { numel } from '../ir';
import { reshapeTarget, shapeSlice, sliceRanges, squeezeShape, unsqueezeShape } from '../shapes';
import { alloc, attrInts, attrNum, axisOf, bcastIndex, bcastShape, checkInts, foldSize, intsOf, like, make, scalarOf, strides, type Const } from './core';

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

export { reshapeTarget, shapeSlice, sliceRanges, squeezeShape, unsqueezeShape };
