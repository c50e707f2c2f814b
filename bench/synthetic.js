// Synthetic weights keyed by state_dict name: the scheme of src/weights/synthetic.ts (which the
// built package does not export), so the benchmark builds zoo models without checkpoints.
import { uniform } from './uniform.js';

/** Values of one named weight: BN statistics, norm scales and biases in their usual ranges. */
export function syntheticTensor(key, shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = uniform(key, n);
  const data = new Float32Array(n);
  const leaf = key.slice(key.lastIndexOf('.') + 1);
  const oneD = shape.length <= 1;
  if (leaf === 'running_mean') for (let i = 0; i < n; i++) data[i] = 0.2 * u[i];
  else if (leaf === 'running_var') for (let i = 0; i < n; i++) data[i] = 1 + 0.5 * u[i];
  else if (leaf === 'bias') for (let i = 0; i < n; i++) data[i] = 0.1 * u[i];
  else if (oneD || /gamma|layer_scale|scale/.test(leaf)) for (let i = 0; i < n; i++) data[i] = 1 + 0.25 * u[i];
  else {
    const a = Math.sqrt(3 / (n / shape[0]));
    for (let i = 0; i < n; i++) data[i] = u[i] * a;
  }
  return { data, shape: shape.slice() };
}

export function syntheticWeights(shapes) {
  const m = new Map();
  for (const [k, s] of shapes) m.set(k, syntheticTensor(k, s));
  return m;
}
