// Initial weights for training from scratch, as PyTorch's module constructors make them:
// Conv and Linear weights from kaiming_uniform_(a = √5), i.e. U(-1/√fan_in, 1/√fan_in), their
// biases from the same bound; BatchNorm/LayerNorm weight 1 and bias 0, running mean 0 and
// running variance 1. Drawn from a seeded generator (xorshift128+ style, documented below), so a
// seed gives the same network on every runtime.
import { ValueError } from '../errors';
import type { Tensor } from '../graph/ir';

/** A seeded uniform generator in [0, 1): splitmix32 of a counter (one stream per seed). */
export function uniformSource(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 8) / 16777216;
  };
}

/**
 * PyTorch-default initial weights for `shapes` (state_dict names to shapes, e.g. from
 * `modelBuilder(name).weightShapes()`). Names ending in `running_mean` / `running_var` and
 * one-dimensional `weight`s beside a running variance (normalisation layers) get their
 * constants; every other `weight` is uniform in ±1/√fan_in and its `bias` with the same bound
 * (`scheme: 'kaiming'`: weights in ±√(6/fan_in), biases as PyTorch's).
 */
export function initWeights(shapes: Map<string, number[]>, options: { seed?: number; scheme?: 'pytorch' | 'kaiming' } = {}): Map<string, Tensor> {
  // 'kaiming': He et al. 2015's uniform bound √(6 / fan_in) for weights (ReLU networks without
  // normalisation, whose activations PyTorch's default bound shrinks layer by layer)
  const gain = options.scheme === 'kaiming' ? Math.sqrt(6) : 1;
  const rand = uniformSource(options.seed ?? 0);
  const out = new Map<string, Tensor>();
  const fanIn = (name: string): number | undefined => {
    const s = shapes.get(name);
    return s && s.length >= 2 ? s.slice(1).reduce((a, b) => a * b, 1) : undefined;
  };
  for (const [name, shape] of shapes) {
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new ValueError(`initWeights: bad shape for '${name}'`);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const dot = name.lastIndexOf('.');
    const base = dot >= 0 ? name.slice(0, dot + 1) : '';
    const leaf = name.slice(dot + 1);
    const norm = shapes.has(base + 'running_var') || (shape.length === 1 && shapes.has(base + 'weight') && shapes.get(base + 'weight')!.length === 1);
    if (leaf === 'running_var' || (norm && leaf === 'weight')) data.fill(1);
    else if (leaf === 'running_mean' || leaf === 'num_batches_tracked' || (norm && leaf === 'bias')) data.fill(0);
    else {
      const fan = leaf === 'bias' ? fanIn(base + 'weight') : fanIn(name);
      const bound = fan ? (leaf === 'bias' ? 1 : gain) / Math.sqrt(fan) : 0;
      for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * bound;
    }
    out.set(name, { data, shape: shape.slice() });
  }
  return out;
}
