// exportOnnx: zoo models (synthetic weights, reduced input sizes) and a graph of every
// wasmcnn-internal op are exported to ONNX opset 17, then (a) re-loaded with loadOnnx and
// (b) run in onnxruntime-node (native CPU); both must reproduce the model's own outputs.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { listModels, modelBuilder } from '../models/index';
import type { Graph } from '../src/graph/ir';
import { emptyGraph } from '../src/graph/ir';
import { loadOnnx } from '../src/index';
import { compileGraph, type Model } from '../src/model';
import { exportOnnx, type ExportOnnxOptions } from '../src/onnx/export';
import { parseOnnx } from '../src/onnx/reader';
import { syntheticInput, syntheticTensor, syntheticWeights } from '../src/weights/synthetic';

const INTERNAL = new Set(['Silu', 'ChannelShuffle', 'ChannelLayerNorm', 'Gelu', 'Mish']);

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(b.length).toBe(a.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Exports, checks the file is plain ONNX 17, and compares loadOnnx and onnxruntime-node outputs. */
async function checkExport(m: Model, opts: ExportOnnxOptions = {}): Promise<void> {
  const bytes = exportOnnx(m, opts);
  const parsed = parseOnnx(bytes);
  expect(parsed.opset).toBe(opts.opset ?? 17);
  const ops = new Set(parsed.graph.nodes.map((n) => n.op));
  for (const op of ops) expect(INTERNAL.has(op) || op.startsWith('_'), `op ${op} in the export`).toBe(false);

  const feeds = Object.fromEntries(m.inputNames.map((n) => [n, syntheticInput(m.inputShapes[n], n)]));
  const ref = await m.run(feeds);

  const back = await loadOnnx(bytes);
  const again = await back.run(feeds);
  for (const name of m.outputNames) {
    const scale = Math.max(1e-30, maxAbs(ref[name].data));
    expect(maxDiff(ref[name].data, again[name].data) / scale, `loadOnnx '${name}'`).toBeLessThanOrEqual(1e-5);
  }

  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const ortFeeds = Object.fromEntries(
    Object.entries(feeds).map(([n, t]) => [n, new ort.Tensor('float32', t.data, t.shape)]),
  );
  const res = await session.run(ortFeeds);
  for (const name of m.outputNames) {
    const got = res[name].data as Float32Array;
    const tol = 1e-4 * Math.max(1, maxAbs(ref[name].data));
    expect(maxDiff(ref[name].data, got), `onnxruntime '${name}'`).toBeLessThanOrEqual(tol);
  }
  await session.release();
}

const ZOO: [string, number, ExportOnnxOptions?][] = [
  ['resnet18', 64],
  ['mobilenet_v3_small', 64],
  ['efficientnet_b0', 64],
  ['shufflenet_v2_x1_0', 64],
  ['shufflenet_v1_g3', 64],
  ['convnext_tiny', 64],
  ['convnext_tiny', 64, { layerNorm2d: 'reduce' }],
  ['ghostnet_050', 64],
  ['mobilenetv4_hybrid_medium', 96],
];

describe('exportOnnx on zoo models', () => {
  const registered = new Set(listModels());
  for (const [name, size, opts] of ZOO) {
    it.skipIf(!registered.has(name))(`${name} @${size}${opts ? ' ' + JSON.stringify(opts) : ''}`, async () => {
      const b = modelBuilder(name, { inputSize: size });
      const m = await b.build(syntheticWeights(b.weightShapes()));
      await checkExport(m, opts);
    });
  }
});

/** A small graph with every internal op and opset-18 forms (ReduceMean axes input, Split num_outputs). */
function internalOpsGraph(): Graph {
  const g = emptyGraph();
  g.opset = 18;
  g.inputs = [{ name: 'x', shape: [1, 8, 5, 6] }];
  const w = (name: string, shape: number[]) => g.initializers.set(name, syntheticTensor(name, shape));
  w('conv.weight', [8, 8, 3, 3]);
  w('conv.bias', [8]);
  w('ln.weight', [8]);
  w('ln.bias', [8]);
  w('ln2.weight', [8, 1, 1]);
  g.intConstants.set('axes', { ints: [2, 3], shape: [2] });
  const node = (op: string, inputs: string[], outputs: string[], attrs = {}) =>
    g.nodes.push({ name: `${op}_${g.nodes.length}`, op, inputs, outputs, attrs });
  node('Conv', ['x', 'conv.weight', 'conv.bias'], ['c'], { pads: [1, 1, 1, 1] });
  node('Silu', ['c'], ['s']);
  node('ChannelShuffle', ['s'], ['sh'], { groups: 2 });
  node('ChannelLayerNorm', ['sh', 'ln.weight', 'ln.bias'], ['ln'], { epsilon: 1e-6 });
  node('Gelu', ['ln'], ['ge'], { approximate: 'tanh' });
  node('Gelu', ['ge'], ['ge2']);
  node('Mish', ['ge2'], ['mi']);
  node('ChannelLayerNorm', ['mi', 'ln2.weight'], ['ln2']);
  node('Split', ['ln2'], ['p', 'q'], { axis: 1, num_outputs: 2 });
  node('Add', ['p', 'q'], ['pq']);
  node('ReduceMean', ['pq', 'axes'], ['y'], { keepdims: 1 });
  g.outputs = [{ name: 'y' }, { name: 'ln2' }];
  return g;
}

describe('exportOnnx decompositions', () => {
  for (const form of ['transpose', 'reduce'] as const)
    it(`Silu, ChannelShuffle, ChannelLayerNorm (${form}), Gelu (erf, tanh), Mish; opset 18 -> 17`, async () => {
      const m = await compileGraph(internalOpsGraph());
      expect(new Set(m.sourceGraph.nodes.map((n) => n.op))).toEqual(
        new Set(['Conv', 'Silu', 'ChannelShuffle', 'ChannelLayerNorm', 'Gelu', 'Mish', 'Split', 'Add', 'ReduceMean']),
      );
      await checkExport(m, { layerNorm2d: form });
    });

  it('keeps Gelu and Mish at opset 20 and puts Reduce axes back as an input', async () => {
    const m = await compileGraph(internalOpsGraph());
    const parsed = parseOnnx(exportOnnx(m, { opset: 20 }));
    const ops = parsed.graph.nodes.map((n) => n.op);
    expect(ops).toContain('Gelu');
    expect(ops).toContain('Mish');
    const rm = parsed.graph.nodes.find((n) => n.op === 'ReduceMean')!;
    expect(rm.inputs.length).toBe(2);
    expect(rm.attrs.axes).toBeUndefined();
  });

  // (with align_corners onnxruntime 1.30 differs from the ONNX reference implementation, which
  // wasmcnn follows: a port of the reference gave wasmcnn's values to 1e-7 and onnxruntime's to 0.5)
  it('Resize with antialias=1 (opset 18) equals onnxruntime: scales on an odd image, sizes', async () => {
    for (const [attrs, scales, sizes] of [
      [{}, [1, 1, 0.37, 0.61], undefined],
      [{ coordinate_transformation_mode: 'pytorch_half_pixel' }, undefined, [1, 5, 11, 29]],
    ] as [Record<string, string>, number[] | undefined, number[] | undefined][]) {
      const g = emptyGraph();
      g.opset = 18;
      g.inputs.push({ name: 'x', shape: [1, 5, 37, 29] });
      if (scales) g.initializers.set('scales', { data: Float32Array.from(scales), shape: [4] });
      else g.intConstants.set('sizes', { ints: sizes!, shape: [4] });
      g.nodes.push({ name: 'r', op: 'Resize', inputs: ['x', '', scales ? 'scales' : '', scales ? '' : 'sizes'], outputs: ['y'], attrs: { mode: 'linear', antialias: 1, ...attrs } });
      g.outputs.push({ name: 'y' });
      await checkExport(await compileGraph(g), { opset: 18 });
    }
  });

  it('1-D Conv (grouped, strided, dilated, padded), ConvTranspose, MaxPool and AveragePool over [N, C, L], and an ECA gate, equal onnxruntime', async () => {
    const g = emptyGraph();
    g.opset = 11; // axes as attributes; the file is written at opset 17
    g.inputs.push({ name: 'x', shape: [2, 6, 23] });
    const w = (name: string, shape: number[]) => (g.initializers.set(name, syntheticTensor(name, shape)), name);
    const node = (op: string, inputs: string[], attrs: Graph['nodes'][number]['attrs'] = {}, outputs = [`${op}${g.nodes.length}`]) => {
      g.nodes.push({ name: `n${g.nodes.length}`, op, inputs, outputs, attrs });
      return outputs[0];
    };
    let v = node('Conv', ['x', w('c1.weight', [8, 3, 5]), w('c1.bias', [8])], { kernel_shape: [5], strides: [2], pads: [2, 1], dilations: [1], group: 2 });
    v = node('Relu', [v]);
    v = node('Conv', [v, w('c2.weight', [8, 8, 3])], { kernel_shape: [3], dilations: [2], pads: [2, 2] });
    v = node('ConvTranspose', [v, w('t.weight', [8, 4, 3]), w('t.bias', [4])], { kernel_shape: [3], strides: [2], pads: [1, 0], output_padding: [1] });
    v = node('MaxPool', [v], { kernel_shape: [3], strides: [2], pads: [1, 1] });
    v = node('AveragePool', [v], { kernel_shape: [2], strides: [1], pads: [0, 1], count_include_pad: 0 });
    // ECA (Wang et al. 2020): a 1-D conv across the channels of the pooled map gates them
    const p = node('ReduceMean', [v], { axes: [2], keepdims: 0 });
    const t = node('Unsqueeze', [p], { axes: [1] });
    const e = node('Conv', [t, w('eca.weight', [1, 1, 3])], { pads: [1, 1] });
    const gate = node('Sigmoid', [node('Unsqueeze', [node('Squeeze', [e], { axes: [1] })], { axes: [2] })]);
    g.outputs.push({ name: node('Mul', [v, gate]) });
    const bytes = exportOnnx({ sourceGraph: g } as unknown as Model);
    const m = await loadOnnx(bytes);
    const x = syntheticInput([2, 6, 23], 'x');
    const y = Object.values(await m.run({ x }))[0];
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
    const ref = Object.values(await session.run({ x: new ort.Tensor('float32', x.data, x.shape) }))[0];
    expect(y.shape).toEqual(ref.dims);
    expect(maxDiff(y.data, ref.data as Float32Array)).toBeLessThanOrEqual(1e-5 * Math.max(1, maxAbs(y.data)));
    await session.release();
  });

  it('rejects opsets it cannot write', async () => {
    const m = await compileGraph(internalOpsGraph());
    expect(() => exportOnnx(m, { opset: 9 })).toThrow(/opset 9/);
  });
});
