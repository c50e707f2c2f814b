// Shape arithmetic of ONNX ops that both planning and the host evaluator need (Reshape's target
// with 0 and -1, Squeeze/Unsqueeze axes, Slice's clamped ranges, Shape's start/end): plain
// functions on dims, kept apart from the evaluator (src/graph/eval/) so that planning a model
// does not load every host op.
import type { Const } from './eval/core';
import type { Node } from './ir';
import { numel } from './ir';

const attr = (n: Node, k: string, def: number): number => {
  const v = n.attrs[k];
  return typeof v === 'number' ? v : def;
};

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

/** Shape's output for an input shape (start/end clamped after adding the rank to negatives). */
export function shapeSlice(n: Node, s: number[]): Const {
  const r = s.length;
  let start = attr(n, 'start', 0);
  let end = attr(n, 'end', r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  const v = s.slice(Math.min(Math.max(0, start), r), Math.min(Math.max(0, end), r));
  return { v, shape: [v.length], kind: 'int' };
}
