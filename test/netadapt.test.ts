// NetAdapt (Yang et al., ECCV 2018): the channel-pruning surgery checked against an independent
// construction (the original network with the pruned channels' filters, biases and BatchNorm
// affine parameters set to zero computes the same outputs, since those channels then carry
// exact zeros), coupling groups counted from the architectures' stage tables, the latency
// table's JSON round trip, and a tiny adaptation of LeNet-5 that saves, exports and reloads.
import { describe, expect, it } from 'vitest';
import {
  GraphBuilder, ValueError, accuracy, couplingGroups, createModel, exportOnnx, latencyTableFromJSON, loadOnnx, loadSafetensors,
  measureLatencyTable, modelBuilder, netAdapt, predictLatency, predictionError, pruneChannels, saveSafetensors, syntheticWeights,
} from '../src/index';
import type { Tensor } from '../src/graph/ir';
import { compileGraph, type Model } from '../src/model';
import { loadMnistSplit } from '../src/data/mnist';

const IN = [2, 3, 11, 9];

/**
 * A residual block (a and b meet at an Add), a depthwise conv on the sum, a Concat of two
 * branches (c: 5 channels, d: 6), a 1x1 conv e and a Linear after Flatten. Odd sizes throughout.
 */
function net(): GraphBuilder {
  const b = new GraphBuilder();
  const x = b.input('input', IN);
  const a = b.relu(b.batchNorm(b.conv(x, 'a', { out: 7, kernel: 3, pad: 1 }), 'a_bn'));
  const r = b.batchNorm(b.conv(a, 'b', { out: 7, kernel: 3, pad: 1, bias: false }), 'b_bn');
  const y = b.relu(b.add(a, r));
  const dw = b.relu6(b.batchNorm(b.conv(y, 'dw', { out: 7, kernel: 3, pad: 1, groups: 7 }), 'dw_bn'));
  const c = b.relu(b.batchNorm(b.conv(dw, 'c', { out: 5, kernel: 1, bias: false }), 'c_bn'));
  const d = b.relu(b.conv(y, 'd', { out: 6, kernel: 3, pad: 1 }));
  const e = b.relu(b.conv(b.concat([c, d]), 'e', { out: 4, kernel: 1 }));
  b.output(b.linear(b.flatten(e), 'fc', 10), 'logits');
  return b;
}

function rand(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  let s = seed * 2654435761 >>> 0 || 1;
  const n = shape.reduce((p, q) => p * q, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return { data, shape };
}

function weights(b: GraphBuilder): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  let seed = 3;
  for (const [name, shape] of b.weightShapes()) m.set(name, name.endsWith('running_var') ? rand(shape, seed++, 0.5, 1.5) : rand(shape, seed++, -0.5, 0.5));
  return m;
}

/** Copy of `w` with channels `chs` of axis 0 of each named tensor set to zero. */
function zeroed(w: Map<string, Tensor>, names: string[], chs: number[]): Map<string, Tensor> {
  const out = new Map(w);
  for (const n of names) {
    const t = w.get(n);
    if (!t) throw new Error(`no weight ${n}`);
    const data = t.data.slice();
    const per = data.length / t.shape[0];
    for (const c of chs) data.fill(0, c * per, (c + 1) * per);
    out.set(n, { data, shape: t.shape });
  }
  return out;
}

const complement = (C: number, keep: number[]) => Array.from({ length: C }, (_, i) => i).filter((i) => !keep.includes(i));

async function outputs(m: Model, x: Tensor): Promise<Float32Array> {
  return (await m.run({ input: x })).logits.data;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('pruneChannels', () => {
  const w = weights(net());
  const x = rand(IN, 99);

  // each case: the layer pruned, channels kept, and the tensors whose pruned channels are zeroed
  // in the original so that those channels carry zeros all the way (filters, biases, BN gamma/beta,
  // and the depthwise filters the channels pass through)
  const cases: { layer: string; C: number; keep: number[]; zero: string[] }[] = [
    {
      layer: 'b', C: 7, keep: [0, 2, 3, 5],
      zero: ['a.weight', 'a.bias', 'a_bn.weight', 'a_bn.bias', 'b.weight', 'b_bn.weight', 'b_bn.bias', 'dw.weight', 'dw.bias', 'dw_bn.weight', 'dw_bn.bias'],
    },
    { layer: 'c', C: 5, keep: [1, 3, 4], zero: ['c.weight', 'c_bn.weight', 'c_bn.bias'] },
    { layer: 'd', C: 6, keep: [0, 5], zero: ['d.weight', 'd.bias'] },
    { layer: 'e', C: 4, keep: [2], zero: ['e.weight', 'e.bias'] },
  ];
  for (const k of cases)
    it(`prunes '${k.layer}' (and what its channels reach) like zeroing those channels in the original`, async () => {
      const b = net();
      const orig = await b.build(w);
      const pruned = pruneChannels(orig.sourceGraph, w, k.layer, k.keep);
      const small = await compileGraph(pruned.graph);
      const ref = await net().build(zeroed(w, k.zero, complement(k.C, k.keep)));
      expect(maxDiff(await outputs(small, x), await outputs(ref, x))).toBeLessThanOrEqual(1e-5);
      // and the pruning changed the function (the zeroed channels mattered)
      expect(maxDiff(await outputs(orig, x), await outputs(ref, x))).toBeGreaterThan(1e-3);
      expect(small.paramCount).toBeLessThan(orig.paramCount);
      for (const m of [orig, small, ref]) m.dispose();
    });

  it('prunes the residual partner with its group and follows the concat offset', async () => {
    const orig = await net().build(w);
    const { weights: pw } = pruneChannels(orig.sourceGraph, w, 'a', [1, 6]);
    expect(pw.get('a.weight')!.shape).toEqual([2, 3, 3, 3]);
    expect(pw.get('b.weight')!.shape).toEqual([2, 2, 3, 3]);
    expect(pw.get('dw.weight')!.shape).toEqual([2, 1, 3, 3]);
    expect(pw.get('c.weight')!.shape).toEqual([5, 2, 1, 1]);
    expect(pw.get('d.weight')!.shape).toEqual([6, 2, 3, 3]);
    const p2 = pruneChannels(orig.sourceGraph, w, 'd', [0, 5]).weights;
    // e reads concat channels 0..4 (c) and 5..10 (d): d's channels 0 and 5 are e's 5 and 10
    const e = w.get('e.weight')!;
    const e2 = p2.get('e.weight')!;
    expect(e2.shape).toEqual([4, 7, 1, 1]);
    for (let o = 0; o < 4; o++) expect([...e2.data.subarray(o * 7, o * 7 + 7)]).toEqual([0, 1, 2, 3, 4, 5, 10].map((i) => e.data[o * 11 + i]));
    // fc reads e's channel c as its 99 (11x9) consecutive columns
    const f2 = pruneChannels(orig.sourceGraph, w, 'e', [3]).weights.get('fc.weight')!;
    expect(f2.shape).toEqual([10, 99]);
    expect(f2.data[5 * 99 + 7]).toBe(w.get('fc.weight')!.data[5 * 396 + 3 * 99 + 7]);
    orig.dispose();
  });

  it('finds the coupling groups and refuses what it cannot follow, naming the node', async () => {
    const orig = await net().build(w);
    const g = orig.sourceGraph;
    const groups = couplingGroups(g, w);
    expect(groups.map((x) => x.layers)).toEqual([['a', 'b'], ['c'], ['d'], ['e'], ['fc']]);
    expect(groups.map((x) => x.prunable)).toEqual([true, true, true, true, false]);
    expect(() => pruneChannels(g, w, 'fc', [0, 1])).toThrow(/last layer/);
    expect(() => pruneChannels(g, w, 'dw', [0])).toThrow(ValueError);
    expect(() => pruneChannels(g, w, 'c', [3, 1])).toThrow(/ascending/);
    orig.dispose();
    // a grouped (not depthwise) consumer, and a Reshape, are refused by name
    const b = new GraphBuilder();
    const x0 = b.input('input', [1, 4, 5, 5]);
    const h = b.conv(x0, 'p', { out: 6, kernel: 1 });
    const q = b.conv(h, 'grp', { out: 6, kernel: 3, pad: 1, groups: 2 });
    b.output(b.flatten(b.globalAvgPool(b.conv(q, 'r', { out: 3, kernel: 1 }))), 'logits');
    const m = await b.build(weights(b));
    expect(() => pruneChannels(m.sourceGraph, new Map(), 'p', [0, 1, 2])).toThrow(/'grp'.*grouped/);
    expect(couplingGroups(m.sourceGraph).find((x) => x.layers[0] === 'p')!.prunable).toBe(false);
    m.dispose();
  });
});

describe('couplingGroups on the zoo', () => {
  it('resnet18: one group per residual stage (stem or downsample conv + each block\'s conv2)', async () => {
    const b = modelBuilder('resnet18', { inputSize: 32, numClasses: 10 });
    const m = await b.build(syntheticWeights(b.weightShapes()));
    const groups = couplingGroups(m.sourceGraph);
    // torchvision resnet18: 4 stages x 2 BasicBlocks; every block's output is added to its input
    const stages = 4;
    const blocks = 2;
    const coupled = groups.filter((g) => g.layers.length > 1);
    expect(coupled.length).toBe(stages);
    // stage 1: the stem conv (through maxpool) + 2 conv2; later stages: downsample conv + 2 conv2
    for (const g of coupled) expect(g.layers.length).toBe(1 + blocks);
    // 20 convs + fc, 2 joined per stage
    expect(groups.length).toBe(21 - stages * blocks);
    m.dispose();
  });

  it('mobilenet_v2: one group per inverted-residual stage with more than one block', async () => {
    const b = modelBuilder('mobilenet_v2', { widthMultiplier: 0.35, inputSize: 32, numClasses: 10 });
    const m = await b.build(syntheticWeights(b.weightShapes()));
    const groups = couplingGroups(m.sourceGraph);
    // Sandler et al. 2018, Table 2: repeats n per stage; blocks 2..n of a stage add their input
    const n = [1, 2, 3, 4, 3, 3, 1];
    const coupled = groups.filter((g) => g.layers.length > 1);
    expect(coupled.map((g) => g.layers.length)).toEqual(n.filter((r) => r > 1));
    expect(coupled.every((g) => g.prunable)).toBe(true);
    // only the classifier is not prunable
    expect(groups.filter((g) => !g.prunable).map((g) => g.layers)).toEqual([['classifier.1']]);
    m.dispose();
  });
});

describe('latency table', () => {
  it('round-trips through JSON and predicts a number', async () => {
    const m = await createModel('lenet5');
    const table = await measureLatencyTable(m.sourceGraph, { grid: 2, runs: 1, rounds: 1 });
    expect(Object.keys(table.layers).sort()).toEqual(['classifier.0', 'classifier.2', 'classifier.4', 'features.0', 'features.3']);
    const back = latencyTableFromJSON(JSON.stringify(table));
    expect(back).toEqual(table);
    const p = predictLatency(back, m.sourceGraph);
    expect(p).toBeGreaterThan(0);
    expect(p).toBe(predictLatency(table, m.sourceGraph));
    const e = predictionError(back, m, 3);
    expect(Number.isFinite(e.error)).toBe(true);
    // reuse: nothing measured again, same entries
    let measured = 0;
    const again = await measureLatencyTable(m.sourceGraph, { reuse: back, onProgress: () => measured++ });
    expect(measured).toBe(0);
    expect(again.entries).toEqual(table.entries);
    expect(() => latencyTableFromJSON('{"version":2}')).toThrow(ValueError);
    m.dispose();
  });
});

describe('netAdapt', () => {
  it('adapts LeNet-5 in 2 iterations: lower predicted latency, a model that runs, saves and exports', async () => {
    const { train, heldOut } = loadMnistSplit();
    const stack = (ds: { image: Float32Array; label: number }[]) => {
      const x = new Float32Array(ds.length * 1024);
      ds.forEach((d, i) => x.set(d.image, i * 1024));
      return { x: { data: x, shape: [ds.length, 1, 32, 32] }, y: Int32Array.from(ds, (d) => d.label) };
    };
    const data = stack(train.slice(0, 256));
    const val = stack(heldOut.slice(0, 100));
    const m = await createModel('lenet5');
    const rows: number[] = [];
    const r = await netAdapt(m, {
      budget: { fraction: 0.3 }, evaluate: (mm) => accuracy(mm, val), data, batchSize: 16, shortTermSteps: 2, longTermSteps: 2,
      maxIterations: 2, tableOptions: { grid: 4, runs: 2, rounds: 1, batch: 4 }, onIteration: (row) => rows.push(row.iteration),
    });
    expect(rows).toEqual([0, 1, 2, 3]);
    const h = r.history;
    expect(h.map((x) => x.stage)).toEqual(['start', 'short-term', 'short-term', 'long-term']);
    expect(h[2].predictedMs).toBeLessThan(h[1].predictedMs);
    expect(h[1].predictedMs).toBeLessThan(h[0].predictedMs);
    expect(h[1].filtersRemoved).toBeGreaterThan(0);
    expect(r.model.paramCount).toBeLessThan(m.paramCount);
    expect(predictLatency(r.table, r.model.sourceGraph)).toBeCloseTo(h[3].predictedMs, 10);
    const x = { data: val.x.data.slice(0, 4 * 1024), shape: [4, 1, 32, 32] };
    const y = await outputs(r.model, x);
    expect(y.length).toBe(40);
    expect(y.every(Number.isFinite)).toBe(true);
    // saved weights load back into the pruned graph; the ONNX file computes the same outputs
    const st = loadSafetensors(saveSafetensors(r.model));
    const sd = r.model.stateDict();
    expect([...st.keys()].sort()).toEqual([...sd.keys()].sort());
    for (const [k, t] of sd) expect(st.get(k)!.shape).toEqual(t.shape);
    const back = await loadOnnx(exportOnnx(r.model));
    expect(maxDiff(await outputs(back, x), y)).toBeLessThanOrEqual(1e-5);
    for (const mm of [m, r.model, back]) mm.dispose();
  }, 120_000);
});
