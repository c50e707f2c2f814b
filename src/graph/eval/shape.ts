// Shape and layout ops of the host evaluator with ONNX semantics (docs/Operators.md): Shape
// (start/end), Size, Reshape (allowzero), Flatten, Squeeze/Unsqueeze (axes as attribute or
// input), Concat, Split (split input/attribute, num_outputs), Slice (negative and clamped
// starts/ends, negative steps), Transpose, Expand, Tile, ConstantOfShape, Range, Identity,
// DepthToSpace/SpaceToDepth (DCR and CRD) and Pad (constant, reflect, edge, wrap).
import { numel, reshapeTarget, ShapeError, shapeSlice, sliceRanges, squeezeShape, unsqueezeShape, ValueError } from '../../lazy/kit';
import type { Node } from '../ir';
import { alloc, attrInts, attrNum, axisOf, bcastIndex, bcastShape, checkInts, copy2d, foldSize, intsOf, like, make, scalarOf, strides, type Const, type Kind, type Values } from './core';

/** out[i] = x[base + Σ coord_d · st_d] over the output's coordinates (an odometer walk). */
export function strided(x: Const, shape0: number[], base: number, st0: number[]): Const {
  const len = foldSize(shape0);
  const out = alloc(x.kind, len);
  if (len === 0) return like(x, out, shape0);
  // size-1 dims never advance: drop them; a dim steps as one with the dim before it when that
  // one's step is the whole of its span (a slice along one axis is then rows of the rest)
  const shape: number[] = [];
  const st: number[] = [];
  for (let d = 0; d < shape0.length; d++) {
    if (shape0[d] === 1) continue;
    const q = shape.length - 1;
    if (q >= 0 && st[q] === shape0[d] * st0[d]) {
      shape[q] *= shape0[d];
      st[q] = st0[d];
    } else {
      shape.push(shape0[d]);
      st.push(st0[d]);
    }
  }
  // the last two dims are copy2d's rows, an odometer walks the rest
  const r = shape.length;
  const inner = r ? shape[r - 1] : 1;
  const rows = r > 1 ? shape[r - 2] : 1;
  const block = rows * inner;
  const v = x.v;
  const coord = new Array(Math.max(r - 2, 0)).fill(0);
  let off = base;
  for (let i = 0; i < len; i += block) {
    copy2d(out, i, inner, v, off, r > 1 ? st[r - 2] : 0, r ? st[r - 1] : 0, rows, inner);
    for (let d = r - 3; d >= 0; d--) {
      coord[d]++;
      off += st[d];
      if (coord[d] < shape[d]) break;
      off -= st[d] * coord[d];
      coord[d] = 0;
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
  // each part's rows go into their columns of the result's rows
  const outer = numel(shape.slice(0, a));
  const row = numel(shape.slice(a));
  let col = 0;
  for (const p of parts) {
    const chunk = numel(p.shape.slice(a));
    copy2d(out, col, row, p.v, 0, chunk, 1, outer, chunk);
    col += chunk;
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

/** Elements from which a row-broadcast Expand fills its values only when they are read. */
const LAZY_EXPAND = 1 << 16;

export function expand(x: Const, target: number[]): Const {
  const shape = bcastShape(x.shape, target);
  const len = foldSize(shape);
  if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
  const v = x.v;
  // each element repeated over trailing broadcast dims (an index [k, 1, 1, 1] expanded to
  // [k, C, 7, 7], as MultiScaleRoIAlign's export does): contiguous fills
  const pad = shape.length - x.shape.length;
  let cut = shape.length;
  while (cut > 0 && (cut - 1 < pad || x.shape[cut - 1 - pad] === 1)) cut--;
  if (shape.slice(0, cut).every((d, i) => (i < pad ? 1 : x.shape[i - pad]) === d)) {
    const inner = len / Math.max(v.length, 1);
    const fill = () => {
      const out = alloc(x.kind, len);
      for (let i = 0; i < v.length && inner > 0; i++) out.fill(v[i], i * inner, (i + 1) * inner);
      return out;
    };
    if (v.length !== shape[0]) return like(x, fill(), shape);
    // one value per row along axis 0 (rowValues); a large one's values are filled on first read,
    // which a row scatter (MultiScaleRoIAlign's ScatterElements) never makes: 1.9M int64s at 150 rois
    const res = like(x, len < LAZY_EXPAND ? fill() : [], shape);
    if (len >= LAZY_EXPAND) {
      let out: Values | undefined;
      Object.defineProperty(res, 'v', { get: () => (out ??= fill()), enumerable: true });
    }
    res.rowValues = v;
    return res;
  }
  const out = alloc(x.kind, len);
  const idx = bcastIndex(shape, x.shape)!;
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

/** ConstantOfShape; `into`, when given, may hand over an array of the result's kind and length to fill instead of a new one. */
export function constantOfShape(n: Node, shapeIn: Const, into?: (kind: Kind, len: number) => Values | undefined): Const {
  const shape = Array.from(shapeIn.v);
  const len = foldSize(shape);
  const val = n.attrs.value as { data?: Float32Array; ints?: number[] } | undefined;
  const kind: Kind = !val || val.data ? 'float' : 'int';
  const given = into?.(kind, len);
  const v = given && given.length === len ? given : alloc(kind, len);
  if (!val) return { v: given ? v.fill(0) : v, shape, kind };
  if (val.data) return { v: v.fill(val.data[0]), shape, kind };
  return { v: v.fill(val.ints![0]), shape, kind };
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

/**
 * DepthToSpace (mode DCR: depth as [block, block, C']; CRD: as [C', block, block]) and
 * SpaceToDepth (the inverse of DCR) on NCHW, as a reshape, a transpose and a reshape (the
 * decomposition the operator spec gives).
 */
export function depthSpace(n: Node, x: Const): Const {
  const b = attrNum(n, 'blocksize', 0);
  if (x.shape.length !== 4) throw new ShapeError(`input of shape [${x.shape}] is not NCHW`);
  if (!(Number.isInteger(b) && b >= 1)) throw new ValueError(`blocksize ${b} is not a positive integer`);
  const [N, C, H, W] = x.shape;
  if (n.op === 'SpaceToDepth') {
    if (H % b || W % b) throw new ShapeError(`spatial size ${H}x${W} is not a multiple of blocksize ${b}`);
    const t = transpose({ ...x, shape: [N, C, H / b, b, W / b, b] }, [0, 3, 5, 1, 2, 4]);
    return { ...t, shape: [N, C * b * b, H / b, W / b] };
  }
  if (C % (b * b)) throw new ShapeError(`${C} channels are not a multiple of blocksize² ${b * b}`);
  const c = C / (b * b);
  const crd = n.attrs.mode === 'CRD';
  if (!crd && (n.attrs.mode ?? 'DCR') !== 'DCR') throw new ValueError(`mode '${n.attrs.mode}' is neither DCR nor CRD`);
  const t = crd
    ? transpose({ ...x, shape: [N, c, b, b, H, W] }, [0, 1, 4, 2, 5, 3])
    : transpose({ ...x, shape: [N, b, b, c, H, W] }, [0, 3, 4, 1, 5, 2]);
  return { ...t, shape: [N, c, H * b, W * b] };
}

/**
 * Pad (modes constant, reflect, edge, wrap) with pads as input (opset 11+, optionally for
 * `axes`, opset 18) or attribute (before 11). Negative pads remove elements first; the
 * positive ones then pad what is left. reflect needs pads smaller than the dim, edge and reflect
 * a non-empty dim, as onnxruntime refuses them.
 */
export function pad(n: Node, x: Const, padsIn: Const | null, valIn: Const | null, axesIn: Const | null): Const {
  const r = x.shape.length;
  const mode = (n.attrs.mode as string | undefined) ?? 'constant';
  if (!['constant', 'reflect', 'edge', 'wrap'].includes(mode)) throw new ValueError(`mode '${mode}' is unknown`);
  const raw = intsOf(padsIn) ?? attrInts(n, 'pads');
  if (!raw) throw new ShapeError('no pads given');
  const axes = (intsOf(axesIn) ?? x.shape.map((_, i) => i)).map((a) => axisOf(a, r, 'pad axis'));
  if (raw.length !== 2 * axes.length) throw new ShapeError(`${raw.length} pads for ${axes.length} axes (want ${2 * axes.length})`);
  const begin = new Array<number>(r).fill(0);
  const end = new Array<number>(r).fill(0);
  axes.forEach((a, i) => {
    begin[a] = raw[i];
    end[a] = raw[i + axes.length];
  });
  const value = valIn && valIn.v.length ? valIn.v[0] : attrNum(n, 'value', 0);
  // per axis: the cropped source range [lo, lo + d), then for each output index its source or -1
  const shape: number[] = [];
  const maps: Int32Array[] = [];
  for (let a = 0; a < r; a++) {
    const lo = Math.max(-begin[a], 0);
    const d = x.shape[a] - lo - Math.max(-end[a], 0);
    const pb = Math.max(begin[a], 0);
    const pe = Math.max(end[a], 0);
    if (d < 0) throw new ShapeError(`pads [${begin[a]}, ${end[a]}] remove more than the ${x.shape[a]} elements of axis ${a}`);
    const len = d + pb + pe;
    if ((pb || pe) && mode !== 'constant') {
      if (d === 0) throw new ShapeError(`${mode} padding of an empty axis ${a}`);
      if (mode === 'reflect' && (pb >= d || pe >= d)) throw new ShapeError(`reflect pads [${pb}, ${pe}] are not smaller than the size ${d} of axis ${a}`);
    }
    const m = new Int32Array(len);
    for (let i = 0; i < len; i++) {
      let s = i - pb;
      if (s < 0 || s >= d) {
        if (mode === 'constant') s = -1;
        else if (mode === 'edge') s = s < 0 ? 0 : d - 1;
        else if (mode === 'reflect') s = s < 0 ? -s : 2 * (d - 1) - s;
        else s = ((s % d) + d) % d;
      }
      m[i] = s < 0 ? -1 : s + lo;
    }
    shape.push(len);
    maps.push(m);
  }
  const total = foldSize(shape);
  const out = alloc(x.kind, total);
  if (!total) return like(x, out, shape);
  const st = strides(x.shape);
  const v = x.v;
  const inner = r ? maps[r - 1] : new Int32Array(1);
  const innerSt = r ? st[r - 1] : 0;
  const coord = new Array(Math.max(r - 1, 0)).fill(0);
  for (let o = 0; o < total; o += inner.length) {
    // the row's base offset, or -1 when an outer coordinate falls in constant padding
    let base = 0;
    for (let a = 0; a < r - 1; a++) {
      const s = maps[a][coord[a]];
      if (s < 0) {
        base = -1;
        break;
      }
      base += s * st[a];
    }
    for (let j = 0; j < inner.length; j++) out[o + j] = base < 0 || inner[j] < 0 ? value : v[base + inner[j] * innerSt];
    for (let a = r - 2; a >= 0; a--) {
      if (++coord[a] < shape[a]) break;
      coord[a] = 0;
    }
  }
  if (x.kind === 'int') checkInts(out, 'Pad');
  return like(x, out, shape);
}
