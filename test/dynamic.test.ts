// Dynamic input shapes (issue 15, item 1): a model whose inputs have symbolic dims (ONNX
// dim_param, CompileOptions.dynamicAxes, zoo inputSize 'dynamic') runs on any concrete shape,
// each new shape planned once and cached in an LRU whose plans share the packed weights.
// References: PyTorch's outputs at each shape (tools/export_dynamic_fixture.py), onnxruntime-node
// on the same file, and the same graph compiled statically at that shape (same kernels, so equal
// bit for bit).
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/builder';
import { createModel, init, loadOnnx, ShapeError, ValueError } from '../src/index';
import type { Model, Tensor } from '../src/model';
import { modelBuilder } from '../models/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

const DIR = new URL('./fixtures/dynamic_fpn/', import.meta.url);
const BYTES = readFileSync(new URL('model.onnx', DIR));
const META = JSON.parse(readFileSync(new URL('meta.json', DIR), 'utf8')) as {
  runs: { input: number[]; prob: number[]; pooled: number[] }[];
};
const f32 = (file: string) => {
  const b = readFileSync(new URL(file, DIR));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

type Stats = { shapes: string[]; plans: number; packs: number; sharedBytes: number; planBytes: number[]; regionBytes: number };
/** The arrays BatchNorm folding gave the executed graph's convs (the last planned shape's). */
const folded = (m: Model) => [...m.graph.initializers].filter(([k]) => /bias_folded|weight_scale/.test(k)).map(([, t]) => t.data);
const stats = (m: Model) => (m as unknown as { planStats(): Stats }).planStats();

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** A small FPN-like net built with GraphBuilder (3x3 convs that take Winograd, depthwise, BN, nearest up-sampling, residual add). */
function fpnNet(shape: number[]): GraphBuilder {
  const b = new GraphBuilder();
  let x = b.input('x', shape);
  x = b.relu(b.batchNorm(b.conv(x, 'c1', { out: 16, kernel: 3, stride: 2, pad: 1, bias: false }), 'bn1'));
  const s = b.relu(b.conv(x, 'c2', { out: 32, kernel: 3, pad: 1 }));
  const d = b.conv(s, 'c3', { out: 32, kernel: 3, stride: 2, pad: 1, groups: 32 });
  const u = b.node('Resize', [d, '', b.constant([1, 1, 2, 2], [4])], { mode: 'nearest' })[0];
  b.output(b.conv(b.add(u, s), 'head', { out: 4, kernel: 1 }), 'y');
  return b;
}

describe('dynamic input shapes', () => {
  it('an ONNX export with dim_param batch/height/width runs at every shape: PyTorch, onnxruntime-node and a static plan agree', async () => {
    const m = await loadOnnx(BYTES);
    expect(m.dynamic).toBe(true);
    expect(m.inputSignature.x).toEqual([-1, 3, -1, -1]);
    // nothing planned yet: shapes say -1 where they vary, layer tables wait for a shape
    expect(m.inputShapes.x).toEqual([-1, 3, -1, -1]);
    expect(() => m.summary()).toThrow(ValueError);
    expect(m.paramCount).toBeGreaterThan(0);
    const session = await ort.InferenceSession.create(BYTES);
    for (const [i, r] of META.runs.entries()) {
      const x: Tensor = { data: f32(`input_${i}.bin`), shape: r.input };
      const y = await m.run({ x });
      expect(y.prob.shape).toEqual(r.prob);
      expect(y.pooled.shape).toEqual(r.pooled);
      expect(maxDiff(y.prob.data, f32(`prob_${i}.bin`))).toBeLessThan(1e-5);
      expect(maxDiff(y.pooled.data, f32(`pooled_${i}.bin`))).toBeLessThan(1e-5);
      const o = await session.run({ x: new ort.Tensor('float32', x.data, x.shape) });
      expect(maxDiff(y.prob.data, o.prob.data as Float32Array)).toBeLessThan(1e-5);
      // the same file planned for this one shape runs the same kernels: equal bit for bit
      const fixed = await loadOnnx(BYTES, { inputShapes: { x: r.input } });
      expect(fixed.dynamic).toBe(false);
      const z = fixed.runSync({ x });
      expect(y.prob.data).toEqual(z.prob.data);
      expect(y.pooled.data).toEqual(z.pooled.data);
      // introspection describes the shape just run
      expect(m.inputShapes.x).toEqual(r.input);
      expect(m.outputShapes).toEqual({ prob: r.prob, pooled: r.pooled });
      expect(m.layerInfo().map((l) => l.outputShape)).toEqual(fixed.layerInfo().map((l) => l.outputShape));
      expect(m.summary()).toBe(fixed.summary());
      expect(m.profile({ x }, { runs: 1 }).map((p) => [p.op, p.macs])).toEqual(fixed.profile({ x }, { runs: 1 }).map((p) => [p.op, p.macs]));
      fixed.dispose();
    }
    m.dispose();
  });

  it('weights are packed once: new shapes cost planning only, cached shapes nothing', async () => {
    const b = fpnNet([1, 3, 32, 32]);
    const weights = syntheticWeights(b.weightShapes());
    const m = await b.build(weights, { dynamicAxes: { x: [0, 2, 3] }, planCache: 3 });
    expect(m.inputShapes.x).toEqual([1, 3, 32, 32]); // the shape given is planned at once
    const first = stats(m);
    expect(first.plans).toBe(1);
    // c1, c2 (Winograd at these sizes), c3 (depthwise), head, and the Resize scales copied in
    expect(first.packs).toBeGreaterThanOrEqual(4);
    // bn1 folded into c1: a scale and a bias, made once; later plans take the same arrays
    const folds = folded(m);
    expect(folds.length).toBe(2);
    const shapes = [[2, 3, 48, 64], [1, 3, 40, 56], [3, 3, 24, 24]];
    for (const s of shapes) {
      const x = syntheticInput(s, `x${s}`);
      const y = m.runSync({ x });
      const ref = await fpnNet(s).build(weights);
      expect(y.y.data).toEqual(ref.runSync({ x }).y.data);
      ref.dispose();
    }
    const after = stats(m);
    expect(after.plans).toBe(4);
    expect(after.packs).toBe(first.packs);
    expect(folded(m).length).toBe(2);
    folded(m).forEach((a, i) => expect(a).toBe(folds[i]));
    // the LRU holds the 3 most recent shapes, least recent first; the first one was evicted
    expect(after.shapes).toEqual(['2x3x48x64', '1x3x40x56', '3x3x24x24']);
    // a cached shape plans nothing and packs nothing; it becomes the most recent
    const bytes = m.memoryBytes;
    m.runSync({ x: syntheticInput([2, 3, 48, 64], 'again') });
    expect(stats(m).plans).toBe(4);
    expect(stats(m).shapes).toEqual(['1x3x40x56', '3x3x24x24', '2x3x48x64']);
    // an evicted shape is planned again, still without re-packing
    m.runSync({ x: syntheticInput([1, 3, 32, 32], 'back') });
    expect(stats(m).plans).toBe(5);
    expect(stats(m).packs).toBe(first.packs);
    expect(stats(m).shapes).toEqual(['3x3x24x24', '2x3x48x64', '1x3x32x32']);
    expect(m.memoryBytes).toBe(bytes); // the evicted plan's space was reused
    expect(stats(m).regionBytes).toBeGreaterThan(0);
    m.dispose();
  });

  it('memory stays bounded over 100 shapes (cache of 2): weights + the largest activation region, twice at most', async () => {
    const b = fpnNet([1, 3, 32, 32]);
    const m = await b.build(syntheticWeights(b.weightShapes()), { dynamicAxes: { x: [2, 3] }, planCache: 2 });
    // static data and weights: what the first plan's own blocks and regions do not account for
    const s0 = stats(m);
    const base = m.memoryBytes - s0.planBytes[0] - s0.regionBytes;
    let largestRegion = 0;
    let largestPlan = 0;
    for (let i = 0; i < 100; i++) {
      // sizes wander up and down (8..120, multiples of 4 for the x2 up-sampling to meet its
      // lateral map), the worst case for a first-fit free list
      const h = 8 + 4 * ((i * 37) % 29);
      const w = 8 + 4 * ((i * 53) % 27);
      m.runSync({ x: syntheticInput([1, 3, h, w], `m${i}`) });
      const s = stats(m);
      expect(s.shapes.length).toBeLessThanOrEqual(2);
      largestRegion = Math.max(largestRegion, s.regionBytes);
      largestPlan = Math.max(largestPlan, ...s.planBytes);
    }
    expect(stats(m).plans).toBe(101);
    // plans share one activation region (and one scratch region), replaced by a larger one when
    // a shape needs it: at most the old and the new one live at once, plus each cached plan's
    // kernel parameters ((planCache + 1) plans while the newest is made)
    const bound = base + 2 * largestRegion + 3 * largestPlan + 65536;
    expect(m.memoryBytes).toBeLessThanOrEqual(bound);
    console.log(`100 shapes, planCache 2: memoryBytes ${m.memoryBytes} <= ${bound} (weights+static ${base}, largest regions ${largestRegion}, plan parameters ${largestPlan})`);
    m.dispose();
  });

  it('a shape the graph cannot take is a ShapeError naming the node and the dims; the model keeps working', async () => {
    // a Flatten + Linear head takes one feature size only
    const make = (shape: number[]) => {
      const b = new GraphBuilder();
      const x = b.input('x', shape);
      const c = b.relu(b.conv(x, 'conv', { out: 4, kernel: 3, pad: 1 }));
      b.output(b.linear(b.flatten(c), 'fc', 5), 'logits');
      return b;
    };
    const b = make([1, 2, 6, 6]);
    const weights = syntheticWeights(b.weightShapes());
    const m = await b.build(weights, { dynamicAxes: { x: [0, 2, 3] } });
    const good = syntheticInput([1, 2, 6, 6], 'good');
    const before = m.runSync({ x: good }).logits.data;
    const held = stats(m);
    const e = (() => {
      try {
        m.runSync({ x: syntheticInput([1, 2, 7, 6], 'bad') });
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e).toBeInstanceOf(ShapeError);
    expect(e!.message).toContain("input shape 'x' [1, 2, 7, 6]");
    expect(e!.message).toMatch(/fc/);
    expect(e!.message).toMatch(/168|\[1, 168\]/); // 4 channels x 7 x 6 features
    // the failed plan kept nothing: same plans, same shared weights
    expect(stats(m)).toEqual(held);
    // a channel count the weights do not take, a wrong rank: named at the input
    expect(() => m.runSync({ x: syntheticInput([1, 3, 6, 6], 'c') })).toThrow(/input 'x': expected shape \[-1, 2, -1, -1\]/);
    expect(() => m.runSync({ x: syntheticInput([2, 6, 6], 'r') })).toThrow(ShapeError);
    // good shapes still run, including another batch
    expect(m.runSync({ x: good }).logits.data).toEqual(before);
    const two = syntheticInput([2, 2, 6, 6], 'two');
    const y2 = m.runSync({ x: two }).logits;
    expect(y2.shape).toEqual([2, 5]);
    const ref = await make([2, 2, 6, 6]).build(weights);
    expect(y2.data).toEqual(ref.runSync({ x: two }).logits.data);
  });

  it("zoo inputSize 'dynamic': any batch and size, equal to the model built for that size", async () => {
    const name = 'mobilenet_v3_small';
    const weights = syntheticWeights(modelBuilder(name).weightShapes());
    const m = await createModel(name, { weights, inputSize: 'dynamic' });
    expect(m.dynamic).toBe(true);
    expect(m.inputSignature.input ?? Object.values(m.inputSignature)[0]).toEqual([-1, 3, -1, -1]);
    expect(Object.values(m.inputShapes)[0]).toEqual([1, 3, 224, 224]); // planned at the native size
    for (const [n, h, w] of [[1, 160, 128], [2, 96, 96]]) {
      const x = syntheticInput([n, 3, h, w], `zoo${h}`);
      const y = await m.predict(x);
      const ref = await createModel(name, { weights, inputSize: [h, w], batch: n });
      expect(y.shape).toEqual([n, 1000]);
      expect(y.data).toEqual((await ref.predict(x)).data);
      ref.dispose();
    }
    m.dispose();
    // a classifier whose adaptive pool is built for one feature-map size refuses by name
    expect(() => modelBuilder('vgg11', { inputSize: 'dynamic' })).toThrow(/vgg11: option inputSize 'dynamic' is not supported: node '.*' is built for one input size/);
    expect(() => modelBuilder('lenet5', { inputSize: 'dynamic' })).toThrow(ValueError);
  });

  it('fixed-shape models are unchanged: not dynamic, wrong shapes refused as before', async () => {
    const b = fpnNet([1, 3, 16, 16]);
    const m = await b.build(syntheticWeights(b.weightShapes()));
    expect(m.dynamic).toBe(false);
    expect(m.inputSignature.x).toEqual([1, 3, 16, 16]);
    expect((m as unknown as { planStats(): unknown }).planStats()).toBeUndefined();
    expect(() => m.runSync({ x: syntheticInput([1, 3, 32, 32]) })).toThrow(/input 'x': expected shape \[1, 3, 16, 16\]/);
    // an ONNX file with only a symbolic batch is planned at load for batch 1 (as before) and takes other batches
    const o = await loadOnnx(BYTES, { inputShapes: { x: [-1, 3, 32, 32] } });
    expect(o.dynamic).toBe(true);
    expect(o.inputShapes.x).toEqual([1, 3, 32, 32]);
    expect(o.summary()).toContain('total params');
    const y = o.runSync({ x: syntheticInput([2, 3, 32, 32]) });
    expect(y.prob.shape).toEqual([2, 1, 16, 16]);
    await expect(loadOnnx(BYTES, { planCache: 0 })).rejects.toThrow(ValueError);
  });

  it('on 2 threads, every plan of a dynamic model runs on the one pool and memory it was created with: bit-identical to 1 thread', async () => {
    const wasm = readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url));
    const wasmThreads = readFileSync(new URL('../dist/wasmcnn-mt.wasm', import.meta.url));
    try {
      await init({ wasm, threads: 1 });
      const one = await loadOnnx(BYTES, { planCache: 2 });
      await init({ wasm, wasmThreads, threads: 2 });
      const two = await loadOnnx(BYTES, { planCache: 2 });
      expect(two.threads).toBe(2);
      for (const s of [[1, 3, 64, 64], [2, 3, 96, 128], [1, 3, 37, 53], [1, 3, 64, 64], [1, 3, 200, 160]]) {
        const x = syntheticInput(s, `t${s}`);
        const a = await one.run({ x });
        const b = await two.run({ x });
        expect(b.prob.data).toEqual(a.prob.data);
        expect(b.pooled.data).toEqual(a.pooled.data);
      }
      expect(stats(two).shapes).toEqual(['1x3x64x64', '1x3x200x160']);
      one.dispose();
      two.dispose();
    } finally {
      await init({ wasm, threads: 1 });
    }
  });
});

describe('compiling leaves the graph it is given as it was', () => {
  it("a model's sourceGraph compiled again (static and dynamic) still exports and compiles", async () => {
    const { compileGraph } = await import('../src/model');
    const { exportOnnx } = await import('../src/onnx/export');
    const b = modelBuilder('mobilenet_v2', { inputSize: 32, widthMultiplier: 0.35, numClasses: 10 });
    const m0 = await b.build(syntheticWeights(b.weightShapes()));
    const before = JSON.stringify(m0.sourceGraph.nodes);
    const x = syntheticInput([2, 3, 32, 32]);
    const want = (await (await compileGraph(m0.sourceGraph, { dynamicAxes: { input: [0] } })).run({ input: x })).logits.data;
    const again = await compileGraph(m0.sourceGraph, { dynamicAxes: { input: [0] } });
    expect((await again.run({ input: x })).logits.data).toEqual(want);
    await compileGraph(m0.sourceGraph);
    expect(JSON.stringify(m0.sourceGraph.nodes)).toBe(before);
    const back = await loadOnnx(exportOnnx(m0));
    expect(back.outputNames).toEqual(m0.outputNames);
  });
});
