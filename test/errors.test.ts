// Bad input gets a typed error that names the problem: unsupported ops, missing
// initializers, shape mismatches, corrupted files, wrong feeds, NaN, use after dispose.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FormatError, GraphError, loadOnnx, ShapeError, UnsupportedOpError, ValueError, WasmCnnError,
} from '../src/index';
import { emptyGraph, type Graph, type Node } from '../src/graph/ir';
import { graphToOnnx } from '../src/onnx/writer';

function graph(nodes: Node[], inputShape = [1, 2, 5, 5], inits: Record<string, number[]> = {}): Graph {
  const g = emptyGraph();
  g.opset = 13;
  g.inputs.push({ name: 'x', shape: inputShape });
  g.nodes = nodes;
  g.outputs.push({ name: nodes[nodes.length - 1].outputs[0] });
  for (const [k, shape] of Object.entries(inits))
    g.initializers.set(k, { data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape });
  return g;
}
const node = (op: string, inputs: string[], outputs: string[], attrs = {}, name = `${op}_node`): Node => ({ name, op, inputs, outputs, attrs });

describe('typed errors', () => {
  it('unsupported op names op and node', async () => {
    const bytes = graphToOnnx(graph([node('Unique', ['x'], ['y'], {}, 'uniq1')]));
    const e = await loadOnnx(bytes).catch((x) => x);
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/Unique/);
    expect(e.message).toMatch(/uniq1/);
  });

  it('missing initializer names the node and tensor', async () => {
    const g = graph([node('Conv', ['x', 'W'], ['y'], { kernel_shape: [3, 3] }, 'conv7')]);
    g.outputs[0].shape = [1, 4, 3, 3];
    const bytes = graphToOnnx(g);
    const e = await loadOnnx(bytes).catch((x) => x);
    expect(e).toBeInstanceOf(WasmCnnError);
    expect(e.message).toMatch(/conv7/);
    expect(e.message).toMatch(/'W'/);
  });

  it('shape mismatch names node, tensor and shapes', async () => {
    const bytes = graphToOnnx(graph([node('Conv', ['x', 'W'], ['y'], {}, 'conv3')], [1, 2, 5, 5], { W: [4, 3, 3, 3] }));
    const e = await loadOnnx(bytes).catch((x) => x);
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/conv3/);
    expect(e.message).toMatch(/\[4, 3, 3, 3\]/);
    expect(e.message).toMatch(/\[1, 2, 5, 5\]/);
  });

  it('a 1-D window with malformed attributes is a typed error naming the node (found by the fuzzer: a TypeError)', async () => {
    const { compileGraph } = await import('../src/model');
    for (const attrs of [{ kernel_shape: [3], strides: 2 }, { kernel_shape: [3], pads: [1] }, { kernel_shape: [3], dilations: ['a'] }]) {
      const e = await compileGraph(graph([node('MaxPool', ['x'], ['y'], attrs, 'pool1d')], [1, 2, 9])).catch((x) => x);
      expect(e).toBeInstanceOf(WasmCnnError);
      expect(e.message).toMatch(/pool1d/);
    }
    // well formed, it runs: [1, 2, 9] pooled by 3 with stride 2 -> [1, 2, 4]
    const m = await compileGraph(graph([node('MaxPool', ['x'], ['y'], { kernel_shape: [3], strides: [2] }, 'pool1d')], [1, 2, 9]));
    const y = await m.predict({ data: Float32Array.from({ length: 18 }, (_, i) => i), shape: [1, 2, 9] });
    expect(y.shape).toEqual([1, 2, 4]);
    expect(Array.from(y.data)).toEqual([2, 4, 6, 8, 11, 13, 15, 17]);
  });

  it('a graph reading an undefined value is a GraphError', async () => {
    const g = graph([node('Add', ['x', 'ghost'], ['y'], {}, 'add1')]);
    const e = await (async () => {
      const { compileGraph } = await import('../src/model');
      return compileGraph(g);
    })().catch((x) => x);
    expect(e).toBeInstanceOf(GraphError);
    expect(e.message).toMatch(/ghost/);
  });

  it('truncated and corrupted files give FormatError, never a trap', async () => {
    const bytes = readFileSync(new URL('../../shared/onnx-backend-tests/pytorch-converted/test_Conv2d/model.onnx', import.meta.url));
    for (const cut of [0, 1, 7, 64, bytes.length >> 1, bytes.length - 1]) {
      const e = await loadOnnx(bytes.subarray(0, cut)).catch((x) => x);
      expect(e, `cut at ${cut}`).toBeInstanceOf(WasmCnnError);
    }
    let seed = 1;
    for (let i = 0; i < 200; i++) {
      const b = new Uint8Array(bytes);
      seed = (seed * 1103515245 + 12345) >>> 0;
      b[seed % b.length] ^= 1 + (seed >>> 24) % 255;
      const r = await loadOnnx(b).then((m) => m, (x) => x);
      if (r instanceof Error) expect(r, `flip ${i}: ${r.message}`).toBeInstanceOf(WasmCnnError);
    }
    expect(await loadOnnx(new TextEncoder().encode('not a model')).catch((x) => x)).toBeInstanceOf(FormatError);
  });

  it('feeds are checked: shape, names, type, NaN; disposed models refuse to run', async () => {
    const m = await loadOnnx(graphToOnnx(graph([node('Relu', ['x'], ['y'])])));
    const ok = { data: new Float32Array(50), shape: [1, 2, 5, 5] };
    expect((await m.run({ x: ok })).y.shape).toEqual([1, 2, 5, 5]);
    await expect(m.run({ x: { data: new Float32Array(50), shape: [1, 5, 5, 2] } })).rejects.toThrow(ShapeError);
    await expect(m.run({ x: { data: new Float32Array(49), shape: [1, 2, 5, 5] } })).rejects.toThrow(ShapeError);
    await expect(m.run({ z: ok } as never)).rejects.toThrow(ValueError);
    await expect(m.run({})).rejects.toThrow(/missing input 'x'/);
    // the first NaN is named, whether it sits in a 16-float block or in the tail
    for (const at of [0, 5, 17, 49]) {
      const nan = new Float32Array(50);
      nan[at] = NaN;
      nan[Math.min(49, at + 20)] = NaN;
      await expect(m.run({ x: { data: nan, shape: [1, 2, 5, 5] } })).rejects.toThrow(new RegExp(`NaN at index ${at}$`));
    }
    // a NaN-free run after a refused one computes from the new feed
    expect((await m.run({ x: ok })).y.data.every((v) => !Number.isNaN(v))).toBe(true);
    m.dispose();
    await expect(m.run({ x: ok })).rejects.toThrow(/disposed/);
  });

  it('a model larger than wasm32 memory is a WasmCnnError naming the size, not a RangeError', async () => {
    const { compileGraph } = await import('../src/model');
    // 1 x 16 x 20000 x 20000 floats: one tensor of 25.6 GB, refused by shape inference
    const big = graph([{ name: 'r', op: 'Relu', inputs: ['x'], outputs: ['y'], attrs: {} }], [1, 16, 20000, 20000]);
    const err = await compileGraph(big).catch((e) => e);
    expect(err).toBeInstanceOf(ShapeError);
    expect(String(err.message)).toMatch(/input 'x' has shape \[1, 16, 20000, 20000\]: .*23\.8 GiB.* 4 GiB/);
    // each tensor fits (3.8 GiB) but input + output do not (Softmax, unlike an element-wise op,
    // cannot write over its input): refused by the allocator, before any grow
    const two = graph([{ name: 's', op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: {} }], [1, 16, 8000, 8000]);
    const err2 = await compileGraph(two).catch((e) => e);
    expect(err2).toBeInstanceOf(WasmCnnError);
    expect(String(err2.message)).toMatch(/needs \d+ MiB of wasm memory; wasm32 addresses at most 4096 MiB/);
  });

  it('symbolic dims stay dynamic unless inputShapes fixes them', async () => {
    const g = graph([node('Relu', ['x'], ['y'])], [-1, 3, -1, 4]);
    const d = await loadOnnx(graphToOnnx(g));
    expect(d.dynamic).toBe(true);
    expect(d.inputSignature.x).toEqual([-1, 3, -1, 4]);
    // a fixed dim of the file is still checked, naming the input and the signature
    const e = await d.run({ x: { data: new Float32Array(2 * 3 * 7 * 5), shape: [2, 3, 7, 5] } }).catch((x) => x);
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/input 'x': expected shape \[-1, 3, -1, 4\]/);
    const m = await loadOnnx(graphToOnnx(g), { inputShapes: { x: [2, 3, 7, 4] } });
    expect(m.dynamic).toBe(false);
    expect(m.inputShapes.x).toEqual([2, 3, 7, 4]);
  });
});
