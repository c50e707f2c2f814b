// Indexing ops of the host evaluator with ONNX semantics (docs/Operators.md): Gather,
// GatherElements, GatherND (batch_dims), ScatterND and ScatterElements (reduction none, add,
// mul, max, min), NonZero (row-major order), TopK (largest/smallest; ties keep the lower index
// first, as onnxruntime), ArgMax/ArgMin (keepdims, select_last_index) and CumSum (exclusive,
// reverse). Index values may be negative (counted from the end); out-of-range ones are a
// ValueError, never a read outside the tensor.
import { numel, ShapeError, ValueError } from '../../lazy/kit';
import type { Node } from '../ir';
import { alloc, attrNum, axisOf, checkInts, copy2d, copyRowsAt, foldSize, indexIn, like, scalarOf, strides, type Const, type Values } from './core';

export function gather(n: Node, x: Const, idx: Const): Const {
  const a = axisOf(attrNum(n, 'axis', 0), x.shape.length);
  const dim = x.shape[a];
  const outer = numel(x.shape.slice(0, a));
  const inner = numel(x.shape.slice(a + 1));
  const shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  const len = foldSize(shape);
  const out = alloc(x.kind, len);
  const iv = idx.v;
  const m = iv.length;
  const norm = new Int32Array(m);
  for (let j = 0; j < m; j++) norm[j] = indexIn(iv[j], dim, 'Gather index');
  // the offset of each row of `inner` values picked, in the result's order
  const offs = new Int32Array(outer * m);
  for (let o = 0, t = 0; o < outer; o++) for (let j = 0; j < m; j++) offs[t++] = (o * dim + norm[j]) * inner;
  copyRowsAt(out, x.v, offs, inner);
  return like(x, out, shape);
}

export function gatherElements(n: Node, x: Const, idx: Const): Const {
  const r = x.shape.length;
  const a = axisOf(attrNum(n, 'axis', 0), r);
  if (idx.shape.length !== r) throw new ShapeError(`indices of shape [${idx.shape}] and data of shape [${x.shape}] differ in rank`);
  for (let d = 0; d < r; d++)
    if (d !== a && idx.shape[d] > x.shape[d]) throw new ShapeError(`indices of shape [${idx.shape}] exceed data of shape [${x.shape}] on axis ${d}`);
  const len = foldSize(idx.shape);
  const out = alloc(x.kind, len);
  const st = strides(x.shape);
  const coord = new Array(r).fill(0);
  const dim = x.shape[a];
  const v = x.v;
  const iv = idx.v;
  for (let i = 0; i < len; i++) {
    let off = 0;
    for (let d = 0; d < r; d++) off += (d === a ? indexIn(iv[i], dim, 'GatherElements index') : coord[d]) * st[d];
    out[i] = v[off];
    for (let d = r - 1; d >= 0; d--) {
      if (++coord[d] < idx.shape[d]) break;
      coord[d] = 0;
    }
  }
  return like(x, out, idx.shape.slice());
}

/** Shared index walk of GatherND/ScatterND: for each index tuple, the flat offset of its slice. */
function ndOffsets(x: Const, idx: Const, b: number, what: string): { offs: Int32Array; slice: number; tuples: number } {
  const r = x.shape.length;
  const q = idx.shape.length;
  if (q < 1) throw new ShapeError(`${what} indices must have rank ≥ 1`);
  const k = idx.shape[q - 1];
  if (b < 0 || b >= Math.min(r, q)) throw new ShapeError(`batch_dims ${b} is out of range for data rank ${r} and indices rank ${q}`);
  for (let d = 0; d < b; d++)
    if (idx.shape[d] !== x.shape[d]) throw new ShapeError(`batch dims of data [${x.shape}] and indices [${idx.shape}] differ`);
  if (k > r - b) throw new ShapeError(`index tuples of length ${k} are longer than the ${r - b} non-batch dims of data [${x.shape}]`);
  const st = strides(x.shape);
  const slice = numel(x.shape.slice(b + k));
  const tuples = numel(idx.shape.slice(0, q - 1));
  const perBatch = numel(idx.shape.slice(b, q - 1));
  const batchStride = b ? st[b - 1] : 0;
  const offs = new Int32Array(tuples);
  const iv = idx.v;
  const label = `${what} index`;
  for (let t = 0; t < tuples; t++) {
    let off = Math.floor(t / perBatch) * batchStride;
    for (let j = 0; j < k; j++) off += indexIn(iv[t * k + j], x.shape[b + j], label) * st[b + j];
    offs[t] = off;
  }
  return { offs, slice, tuples };
}

export function gatherND(n: Node, x: Const, idx: Const): Const {
  const b = attrNum(n, 'batch_dims', 0);
  const { offs, slice, tuples } = ndOffsets(x, idx, b, 'GatherND');
  const k = idx.shape[idx.shape.length - 1];
  const shape = [...idx.shape.slice(0, -1), ...x.shape.slice(b + k)];
  foldSize(shape);
  const out = alloc(x.kind, tuples * slice);
  copyRowsAt(out, x.v, offs, slice);
  return like(x, out, shape);
}

type Reduce = (a: number, b: number) => number;
const SCATTER: Record<string, Reduce | undefined> = {
  none: undefined,
  add: (a, b) => a + b,
  mul: (a, b) => a * b,
  max: (a, b) => (a > b ? a : b),
  min: (a, b) => (a < b ? a : b),
};
function reductionOf(n: Node): Reduce | undefined {
  const r = (n.attrs.reduction as string | undefined) ?? 'none';
  if (!(r in SCATTER)) throw new ValueError(`unknown reduction '${r}'`);
  return SCATTER[r];
}

function finish(x: Const, out: Values, what: string): Const {
  if (x.kind === 'int') checkInts(out, what);
  return like(x, out, x.shape.slice());
}

/** ScatterND; `inPlace`: x's values are read by nothing else and receive the result. */
export function scatterND(n: Node, x: Const, idx: Const, upd: Const, inPlace = false): Const {
  const red = reductionOf(n);
  const { offs, slice, tuples } = ndOffsets(x, idx, 0, 'ScatterND');
  const k = idx.shape[idx.shape.length - 1];
  const want = [...idx.shape.slice(0, -1), ...x.shape.slice(k)];
  if (want.length !== upd.shape.length || want.some((d, i) => d !== upd.shape[i]))
    throw new ShapeError(`updates of shape [${upd.shape}] should be [${want}] for data [${x.shape}] and indices [${idx.shape}]`);
  const out = inPlace ? x.v : x.v.slice();
  const u = upd.v;
  for (let t = 0; t < tuples; t++) {
    const o = offs[t];
    if (red) for (let j = 0; j < slice; j++) out[o + j] = red(out[o + j], u[t * slice + j]);
    else for (let j = 0; j < slice; j++) out[o + j] = u[t * slice + j];
  }
  return finish(x, out, 'ScatterND');
}

/** ScatterElements; `inPlace`: x's values are read by nothing else and receive the result. */
export function scatterElements(n: Node, x: Const, idx: Const, upd: Const, inPlace = false): Const {
  const red = reductionOf(n);
  const r = x.shape.length;
  const a = axisOf(attrNum(n, 'axis', 0), r);
  if (idx.shape.length !== r || upd.shape.length !== r || idx.shape.some((d, i) => d !== upd.shape[i]))
    throw new ShapeError(`indices [${idx.shape}] and updates [${upd.shape}] must have one shape, of the rank of data [${x.shape}]`);
  for (let d = 0; d < r; d++)
    if (d !== a && idx.shape[d] > x.shape[d]) throw new ShapeError(`indices of shape [${idx.shape}] exceed data of shape [${x.shape}] on axis ${d}`);
  const out = inPlace ? x.v : x.v.slice();
  const dim = x.shape[a];
  // whole rows along axis 0 (each index row one value, as an expanded row index): row copies
  if (a === 0 && !red && r > 1 && idx.shape.every((d, i) => i === 0 || d === x.shape[i]) && rowScatter(out, idx, upd, dim)) return finish(x, out, 'ScatterElements');
  const st = strides(x.shape);
  const coord = new Array(r).fill(0);
  const len = idx.v.length;
  for (let i = 0; i < len; i++) {
    let off = 0;
    for (let d = 0; d < r; d++) off += (d === a ? indexIn(idx.v[i], dim, 'ScatterElements index') : coord[d]) * st[d];
    out[off] = red ? red(out[off], upd.v[i]) : upd.v[i];
    for (let d = r - 1; d >= 0; d--) {
      if (++coord[d] < idx.shape[d]) break;
      coord[d] = 0;
    }
  }
  return finish(x, out, 'ScatterElements');
}

/**
 * ScatterElements on axis 0 when every row of `idx` holds one index: copy each update row to its
 * data row. False (nothing written) when some row's indices differ; the caller scatters per element.
 */
function rowScatter(out: Values, idx: Const, upd: Const, dim: number): boolean {
  const rows = idx.shape[0];
  const inner = rows ? numel(idx.shape) / rows : 0;
  // an index expanded from one value per row (Expand's rowValues) needs no scan, nor its
  // values (which Expand then never fills)
  const known = idx.rowValues && idx.rowValues.length === rows ? idx.rowValues : undefined;
  const iv = known ? [] : idx.v;
  if (!known)
    for (let q = 0; q < rows; q++) {
      const v0 = iv[q * inner];
      for (let j = 1; j < inner; j++) if (iv[q * inner + j] !== v0) return false;
    }
  const uv = upd.v;
  const typed = out instanceof Float32Array && uv instanceof Float32Array;
  for (let q = 0; q < rows; q++) {
    const t = indexIn(known ? known[q] : iv[q * inner], dim, 'ScatterElements index') * inner;
    if (typed) out.set(uv.subarray(q * inner, (q + 1) * inner), t);
    else for (let j = 0; j < inner; j++) out[t + j] = uv[q * inner + j];
  }
  return true;
}

/** NonZero: int64 [rank, count] of the coordinates of non-zero elements, row-major. */
export function nonZero(x: Const): Const {
  const shape = x.shape.length ? x.shape : [1];
  const r = shape.length;
  const v = x.v;
  const at = v instanceof Uint8Array ? nonZerosU8(v) : nonZeros(v);
  const count = at.length;
  const out = new Float64Array(r * count);
  // coordinates of the non-zeros only, from their flat index (scores past a threshold are few)
  for (let c = 0; c < count; c++) {
    let q = at[c];
    for (let d = r - 1; d > 0; d--) {
      const dim = shape[d];
      const t = Math.floor(q / dim);
      out[d * count + c] = q - t * dim;
      q = t;
    }
    out[c] = q;
  }
  return { v: out, shape: [r, count], kind: 'int' };
}

/** The flat indices of the non-zero values, in order: counted without a branch on the values, then found with one when they are few (predictable) and without when not (half a mask may be set). */
function nonZeros(v: Values): Int32Array {
  let count = 0;
  for (let i = 0; i < v.length; i++) count += +(v[i] !== 0);
  const at = new Int32Array(count);
  if (count * 8 < v.length) {
    for (let i = 0, c = 0; c < count; i++) if (v[i] !== 0) at[c++] = i;
  } else
    for (let i = 0, c = 0; c < count; i++) {
      at[c] = i;
      c += +(v[i] !== 0);
    }
  return at;
}

/** nonZeros of a bool mask (a detector's scores past a threshold: millions of values), on a loop that sees no other array type. */
function nonZerosU8(v: Uint8Array): Int32Array {
  let count = 0;
  for (let i = 0; i < v.length; i++) count += +(v[i] !== 0);
  const at = new Int32Array(count);
  if (count * 8 < v.length) {
    for (let i = 0, c = 0; c < count; i++) if (v[i] !== 0) at[c++] = i;
  } else
    for (let i = 0, c = 0; c < count; i++) {
      at[c] = i;
      c += +(v[i] !== 0);
    }
  return at;
}

/**
 * TopK along `axis`: the k largest (or smallest) values and their int64 indices. Each row is
 * scanned once keeping the best k in a binary heap whose root is the worst kept (ties: the
 * higher index is worse), then the heap is emptied worst first into the result's back. NaN ranks
 * first both for largest and smallest, as onnxruntime orders it.
 */
export function topK(n: Node, x: Const, kIn: Const): [Const, Const] {
  const r = x.shape.length;
  const a = axisOf(attrNum(n, 'axis', -1), r);
  const k = scalarOf(kIn, 'K');
  const dim = x.shape[a];
  if (!Number.isInteger(k) || k < 0 || k > dim) throw new ValueError(`K = ${k} is out of range for a dim of size ${dim}`);
  const sgn = attrNum(n, 'largest', 1) !== 0 ? 1 : -1;
  const outer = numel(x.shape.slice(0, a));
  const inner = numel(x.shape.slice(a + 1));
  const shape = x.shape.slice();
  shape[a] = k;
  const len = foldSize(shape);
  const vals = alloc(x.kind, len);
  const inds = new Float64Array(len);
  const v = x.v;
  const row = alloc(x.kind, dim);
  const heap = new Int32Array(k);
  for (let o = 0; o < outer; o++)
    for (let t = 0; t < inner; t++) {
      const base = o * dim * inner + t;
      copy2d(row, 0, 0, v, base, 0, inner, 1, dim);
      const size = k > 0 ? bestOf(row, dim, heap, k, sgn) : 0;
      // the heap's root is the worst kept: take it off into the last free place
      for (let end = size - 1; end >= 0; end--) {
        const p = o * k * inner + t + end * inner;
        vals[p] = row[heap[0]];
        inds[p] = heap[0];
        heap[0] = heap[end];
        siftDown(row, heap, end, sgn);
      }
    }
  return [like(x, vals, shape), { v: inds, shape: shape.slice(), kind: 'int' }];
}

/**
 * Whether row[i] ranks below row[j] for TopK (`sgn` 1: largest first, -1: smallest first): its
 * value is worse, or ties and i is the higher index; NaN ranks above every number.
 */
function worse(row: Values, i: number, j: number, sgn: number): boolean {
  const p = row[i];
  const q = row[j];
  if (p === q || (p !== p && q !== q)) return i > j;
  if (p !== p) return false;
  if (q !== q) return true;
  return sgn * p < sgn * q;
}

/** The best k of row[0 .. dim) into `heap`, a binary heap with the worst at its root; returns how many (k). */
function bestOf(row: Values, dim: number, heap: Int32Array, k: number, sgn: number): number {
  let size = 0;
  for (let j = 0; j < dim; j++) {
    if (size < k) {
      // sift up
      let c = size++;
      heap[c] = j;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(row, heap[c], heap[p], sgn)) break;
        const tmp = heap[p];
        heap[p] = heap[c];
        heap[c] = tmp;
        c = p;
      }
    } else {
      // fast rejection (the common case once the heap holds good values): not better than the root
      const y = row[j];
      const rt = row[heap[0]];
      if (y === y && rt === rt ? sgn * y <= sgn * rt : !worse(row, heap[0], j, sgn)) continue;
      heap[0] = j;
      siftDown(row, heap, k, sgn);
    }
  }
  return size;
}

/** Restore the heap property of heap[0 .. size) from its root down. */
function siftDown(row: Values, heap: Int32Array, size: number, sgn: number): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    const m = l + 1 < size && worse(row, heap[l + 1], heap[l], sgn) ? l + 1 : l;
    if (!worse(row, heap[m], heap[c], sgn)) break;
    const tmp = heap[m];
    heap[m] = heap[c];
    heap[c] = tmp;
    c = m;
  }
}

export function argMinMax(n: Node, x: Const): Const {
  const r = x.shape.length;
  const a = axisOf(attrNum(n, 'axis', 0), r);
  const keep = attrNum(n, 'keepdims', 1) !== 0;
  const last = attrNum(n, 'select_last_index', 0) !== 0;
  const isMax = n.op === 'ArgMax';
  const dim = x.shape[a];
  if (dim === 0) throw new ShapeError(`${n.op} over an empty axis ${a}`);
  const outer = numel(x.shape.slice(0, a));
  const inner = numel(x.shape.slice(a + 1));
  const out = new Float64Array(outer * inner);
  const v = x.v;
  for (let o = 0; o < outer; o++)
    for (let t = 0; t < inner; t++) {
      const base = o * dim * inner + t;
      let bi = 0;
      let bv = v[base];
      for (let j = 1; j < dim; j++) {
        const y = v[base + j * inner];
        const better = isMax ? y > bv || (last && y === bv) : y < bv || (last && y === bv);
        if (better) {
          bi = j;
          bv = y;
        }
      }
      out[o * inner + t] = bi;
    }
  const shape = keep ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  return { v: out, shape, kind: 'int' };
}

export function cumSum(n: Node, x: Const, axisIn: Const): Const {
  const r = x.shape.length;
  const a = axisOf(scalarOf(axisIn, 'axis'), r);
  const excl = attrNum(n, 'exclusive', 0) !== 0;
  const rev = attrNum(n, 'reverse', 0) !== 0;
  const dim = x.shape[a];
  const outer = numel(x.shape.slice(0, a));
  const inner = numel(x.shape.slice(a + 1));
  const out = alloc(x.kind, x.v.length);
  const v = x.v;
  const f32 = x.kind === 'float';
  for (let o = 0; o < outer; o++)
    for (let t = 0; t < inner; t++) {
      const base = o * dim * inner + t;
      let acc = 0;
      for (let s = 0; s < dim; s++) {
        const j = rev ? dim - 1 - s : s;
        const p = base + j * inner;
        if (excl) {
          out[p] = acc;
          acc += v[p];
        } else {
          acc += v[p];
          out[p] = acc;
        }
        if (f32) acc = Math.fround(acc);
      }
    }
  if (!f32) checkInts(out, 'CumSum');
  return like(x, out, x.shape.slice());
}
