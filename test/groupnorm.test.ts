// GroupNorm as torch.onnx exports it (FCOS's heads): Reshape to [N, groups, -1], a 3-D
// InstanceNormalization with unit scale and zero bias, Reshape back, then the per-channel affine
// as Mul/Add. Checked against onnxruntime-node on the same file, plus a 3-D InstanceNormalization
// with per-channel scale and bias.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/index';
import { emptyGraph, type Graph } from '../src/graph/ir';
import { graphToOnnx } from '../src/onnx/writer';

function rnd(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

async function compare(g: Graph, shape: number[]): Promise<void> {
  const bytes = graphToOnnx(g);
  const x = rnd(shape.reduce((a, b) => a * b, 1), 5, 3);
  const model = await loadOnnx(bytes);
  const got = await model.run({ x: { data: x, shape } });
  const s = await ort.InferenceSession.create(bytes);
  const want = (await s.run({ x: new ort.Tensor('float32', x, shape) })).y;
  expect(got.y.shape).toEqual(Array.from(want.dims));
  const w = want.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(got.y.data[i] - w[i]));
  expect(worst).toBeLessThan(2e-5);
  model.dispose();
}

describe('InstanceNormalization on 3-D input', () => {
  it('torch.onnx GroupNorm(4 groups, 12 channels) on [2, 12, 5, 7] equals onnxruntime', async () => {
    const g = emptyGraph();
    g.opset = 11;
    g.inputs = [{ name: 'x', shape: [2, 12, 5, 7], dtype: 'float' }];
    g.outputs = [{ name: 'y', dtype: 'float' }];
    g.intConstants.set('grouped', { ints: [2, 4, -1], shape: [3] });
    g.intConstants.set('back', { ints: [2, 12, 5, 7], shape: [4] });
    g.initializers.set('one', { data: new Float32Array(4).fill(1), shape: [4] });
    g.initializers.set('zero', { data: new Float32Array(4), shape: [4] });
    g.initializers.set('gamma', { data: rnd(12, 2), shape: [12, 1, 1] });
    g.initializers.set('beta', { data: rnd(12, 3), shape: [12, 1, 1] });
    const node = (name: string, op: string, inputs: string[], outputs: string[], attrs = {}) => g.nodes.push({ name, op, inputs, outputs, attrs });
    node('r1', 'Reshape', ['x', 'grouped'], ['a']);
    node('in', 'InstanceNormalization', ['a', 'one', 'zero'], ['b'], { epsilon: 1e-5 });
    node('r2', 'Reshape', ['b', 'back'], ['c']);
    node('mul', 'Mul', ['c', 'gamma'], ['d']);
    node('add', 'Add', ['d', 'beta'], ['y']);
    await compare(g, [2, 12, 5, 7]);
  });

  it('per-channel scale and bias on [3, 5, 11]', async () => {
    const g = emptyGraph();
    g.inputs = [{ name: 'x', shape: [3, 5, 11], dtype: 'float' }];
    g.outputs = [{ name: 'y', dtype: 'float' }];
    g.initializers.set('s', { data: rnd(5, 8), shape: [5] });
    g.initializers.set('b', { data: rnd(5, 9), shape: [5] });
    g.nodes.push({ name: 'in', op: 'InstanceNormalization', inputs: ['x', 's', 'b'], outputs: ['y'], attrs: { epsilon: 1e-3 } });
    await compare(g, [3, 5, 11]);
  });
});
