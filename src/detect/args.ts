// Argument checks shared by the detection building blocks: box arrays (flat Float32Array of
// N·4, or a { data, shape: [N, 4] } tensor), thresholds, sizes. Every failure is a ValueError or
// ShapeError naming the function and the argument.
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';

/** Boxes as (x1, y1, x2, y2) rows: a flat Float32Array of N·4 values or a tensor of shape [N, 4]. */
export type BoxesInput = Float32Array | Tensor;

/** The flat data of `boxes` (N·4 finite values), checked; `what` names the function and argument. */
export function boxArray(boxes: BoxesInput, what: string, width = 4): Float32Array {
  let data: Float32Array;
  if (boxes instanceof Float32Array) data = boxes;
  else if (boxes && typeof boxes === 'object' && (boxes as Tensor).data instanceof Float32Array && Array.isArray((boxes as Tensor).shape)) {
    const { data: d, shape } = boxes as Tensor;
    if (shape.length !== 2 || shape[1] !== width || shape[0] * width !== d.length)
      throw new ShapeError(`${what} must have shape [N, ${width}] (and N·${width} values), got shape [${shape.join(', ')}] with ${d.length} values`);
    data = d;
  } else throw new ValueError(`${what} must be a Float32Array of N·${width} values or a { data: Float32Array, shape: [N, ${width}] } tensor`);
  if (data.length % width !== 0)
    throw new ShapeError(`${what} must hold N·${width} values (${width} per box), got ${data.length}`);
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw new ValueError(`${what}: value ${i} (box ${Math.floor(i / width)}) is ${data[i]}; boxes must be finite`);
  return data;
}

/** A threshold in [0, 1]; `undefined` gives `fallback`. */
export function unitInterval(v: number | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ValueError(`${what} must be a number in [0, 1], got ${String(v)}`);
  return v;
}

/** An integer >= min (or `fallback` when undefined). */
export function integer(v: number | undefined, fallback: number, min: number, what: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ValueError(`${what} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

/** [height, width] of positive integers, from a number (square) or a pair. */
export function sizePair(v: number | readonly number[], what: string): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => Number.isInteger(x) && x >= 1))
    throw new ValueError(`${what} must be a positive integer or [height, width] of positive integers, got ${JSON.stringify(v)}`);
  return [pair[0], pair[1]];
}

/** A finite number > 0. */
export function positive(v: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValueError(`${what} must be a finite number > 0, got ${String(v)}`);
  return v;
}
