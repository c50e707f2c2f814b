// Deterministic synthetic weights keyed by state_dict name, implemented identically in
// tools/synthetic.py, so zoo fixtures store only PyTorch's outputs: both sides regenerate the
// same float32 weights. Also handy to smoke-test a model without a checkpoint.
//
// value i of a key: x = seed + i * 0x9e3779b9 (seed = FNV-1a 32-bit of the UTF-8 key), mixed by
// the lowbias32 integer hash (x ^= x>>16; x *= 0x7feb352d; x ^= x>>15; x *= 0x846ca68b;
// x ^= x>>16), u = top 24 bits mapped to [-1, 1), exact in float32. Counter-based, so numpy
// computes it vectorised. Roles by key and shape:
//   *.running_mean -> 0.2u          *.running_var -> 1 + 0.5u  (in [0.5, 1.5))
//   *.gamma (timm layer scale) -> 0.1 + 0.025u, so deep residual stacks stay well conditioned
//   1-D *.weight / gamma / scale -> 1 + 0.25u (norm scales, layer scale)
//   *.bias and other 1-D -> 0.1u    >= 2-D -> u * sqrt(3 / fan_in), fan_in = numel / shape[0]
import type { Tensor } from '../graph/ir';
import { numel } from '../graph/ir';

export function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(key)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** u_i in [-1, 1) for i = 0..n-1 of the key's stream, mapped by `f` into a Float32Array. */
function stream(key: string, n: number, f: (u: number) => number): Float32Array {
  const seed = fnv1a(key);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let x = (seed + Math.imul(i, 0x9e3779b9)) | 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b);
    x ^= x >>> 16;
    out[i] = f((x >>> 8) / 8388608 - 1);
  }
  return out;
}

/** n values in [-1, 1) from the key's stream (exact in float32). */
export function uniformStream(key: string, n: number): Float32Array {
  return stream(key, n, (u) => u);
}

/** The synthetic value of one named weight of the given shape. */
export function syntheticTensor(key: string, shape: number[]): Tensor {
  const n = numel(shape);
  const leaf = key.slice(key.lastIndexOf('.') + 1);
  const oneD = shape.filter((d) => d !== 1).length <= 1 && shape.length <= 1;
  let f: (u: number) => number;
  if (leaf === 'running_mean') f = (u) => 0.2 * u;
  else if (leaf === 'running_var') f = (u) => 1 + 0.5 * u;
  else if (leaf === 'bias') f = (u) => 0.1 * u;
  else if (leaf === 'gamma') f = (u) => 0.1 + 0.025 * u; // timm layer scale: keep residual branches small
  else if (oneD || /gamma|layer_scale|scale/.test(leaf)) f = (u) => 1 + 0.25 * u;
  else {
    const a = Math.sqrt(3 / (n / shape[0]));
    f = (u) => u * a;
  }
  return { data: stream(key, n, f), shape: shape.slice() };
}

/** Synthetic weights for every name a network declares. */
export function syntheticWeights(shapes: Map<string, number[]>): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const [k, s] of shapes) m.set(k, syntheticTensor(k, s));
  return m;
}

/** A synthetic input: uniform [-1, 1) from the stream of `key`. */
export function syntheticInput(shape: number[], key = 'input'): Tensor {
  return { data: uniformStream(key, numel(shape)), shape: shape.slice() };
}
