// ONNX attribute readers with load-time validation, and the i32 bound of kernel parameters:
// the part of the op helpers that planning, shape inference and the receptive-field analysis
// all read (src/ops/util.ts re-exports them for the op files).
import { ShapeError, UnsupportedOpError } from '../errors';
import type { AttrValue, Node } from '../graph/ir';
import { shapeStr } from '../graph/ir';

/**
 * Largest value a kernel parameter (a size, count, stride or index handed to the wasm as an
 * i32) may take. Every attribute that reaches a kernel is checked against it at load.
 */
export const MAX_I32 = 2 ** 31 - 1;

/** An integer attribute (ONNX int64, read as a JS number); throws naming the node if it is not one. */
export function attrInt(n: Node, key: string, dflt: number): number {
  const v = n.attrs[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new UnsupportedOpError(n.op, n.name, `attribute ${key} must be an int, got ${describe(v)}`);
  return v;
}

/** An integer attribute that must lie in [min, max] (ONNX's definition and wasm32's limits). */
export function attrIntIn(n: Node, key: string, dflt: number, min: number, max: number): number {
  const v = attrInt(n, key, dflt);
  if (v < min || v > max) throw new ShapeError(`${n.op} node '${n.name}': attribute ${key}=${v} is outside [${min}, ${max}]`);
  return v;
}

/** A float attribute; NaN is refused (±Infinity stays, e.g. Clip's open bounds). */
export function attrFloat(n: Node, key: string, dflt: number): number {
  const v = n.attrs[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v))
    throw new UnsupportedOpError(n.op, n.name, `attribute ${key} must be a float, got ${describe(v)}`);
  return v;
}

/** A finite float attribute (epsilon, alpha, beta, bias of normalisations and activations). */
export function attrFinite(n: Node, key: string, dflt: number): number {
  const v = attrFloat(n, key, dflt);
  if (!Number.isFinite(v)) throw new ShapeError(`${n.op} node '${n.name}': attribute ${key}=${v} must be finite`);
  return v;
}

/** A list-of-ints attribute (a single int is a list of one); every entry must be an integer. */
export function attrInts(n: Node, key: string, dflt?: number[]): number[] | undefined {
  const v: AttrValue | undefined = n.attrs[key];
  if (v === undefined) return dflt;
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x)))
    throw new UnsupportedOpError(n.op, n.name, `attribute ${key} must be a list of ints, got ${describe(v)}`);
  return v as number[];
}

/** A list-of-ints attribute of exactly `len` entries, each in [min, max]. */
export function attrIntsIn(n: Node, key: string, dflt: number[], len: number, min: number, max: number): number[] {
  const v = attrInts(n, key, dflt)!;
  if (v.length !== len)
    throw new ShapeError(`${n.op} node '${n.name}': attribute ${key} [${v.join(', ')}] must have ${len} entries`);
  for (const x of v)
    if (x < min || x > max) throw new ShapeError(`${n.op} node '${n.name}': attribute ${key} [${v.join(', ')}] has ${x}, outside [${min}, ${max}]`);
  return v;
}

/** A short printable form of an attribute value for error messages. */
function describe(v: unknown): string {
  if (Array.isArray(v)) return `[${v.slice(0, 8).map((x) => describe(x)).join(', ')}${v.length > 8 ? ', ...' : ''}]`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number') return String(v);
  return typeof v === 'object' && v ? 'a tensor' : String(v);
}

export function attrString(n: Node, key: string, dflt: string): string {
  const v = n.attrs[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new UnsupportedOpError(n.op, n.name, `attribute ${key} must be a string`);
  return v;
}

/** Input i if present ('' or missing means omitted). */
export function input(n: Node, i: number): string | undefined {
  const s = n.inputs[i];
  return s ? s : undefined;
}

export function normAxis(n: Node, axis: number, rank: number): number {
  if (!Number.isInteger(axis)) throw new ShapeError(`${n.op} node '${n.name}': axis ${axis} is not an integer`);
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1))
    throw new ShapeError(`${n.op} node '${n.name}': axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** A list-of-floats attribute (Upsample-7's scales); NaN is refused. */
export function attrFloats(n: Node, key: string): number[] | undefined {
  const v: AttrValue | undefined = n.attrs[key];
  if (v === undefined) return undefined;
  const list = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'number' || Number.isNaN(x)))
    throw new UnsupportedOpError(n.op, n.name, `attribute ${key} must be a list of floats, got ${describe(v)}`);
  return list as number[];
}
