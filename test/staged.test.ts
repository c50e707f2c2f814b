// Graphs with a data-dependent part (src/graph/infer.ts split, src/graph/eval/tail.ts): the wasm
// body runs first, then NonZero/TopK/comparisons and everything reading them on the host, with
// runs of Gemm/MatMul/Conv in that tail planned in wasm per run-time shape ("islands"). Each
// case is an ONNX model written with the repo's writer and run in onnxruntime-node on the same
// inputs (the reference): equal shapes, exact integers, floats within 1e-5.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphError, loadOnnx, ShapeError, ValueError } from '../src/index';
import { emptyGraph, type Graph, type Tensor } from '../src/graph/ir';
import { graphToOnnx } from '../src/onnx/writer';
import { compileGraph } from '../src/model';
import { tailProgram } from '../src/graph/eval/tail';

/** Deterministic values in [-scale, scale). */
function rnd(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

async function ortRun(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, { data: number[]; dims: number[]; type: string }>> {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data, t.shape)])));
  return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, { data: Array.from(t.data as ArrayLike<number | bigint>, Number), dims: Array.from(t.dims), type: t.type }]));
}

function expectSame(got: Record<string, Tensor>, want: Awaited<ReturnType<typeof ortRun>>, what: string): void {
  for (const [k, w] of Object.entries(want)) {
    const g = got[k];
    expect(g.shape, `${what}: ${k} shape`).toEqual(w.dims);
    if (w.type === 'int64' || w.type === 'bool') {
      expect(g.dtype, `${what}: ${k} dtype`).toBe(w.type);
      expect(Array.from(g.data), `${what}: ${k}`).toEqual(w.data);
    } else {
      expect(g.dtype).toBeUndefined();
      w.data.forEach((v, i) => expect(Math.abs(g.data[i] - v), `${what}: ${k}[${i}]`).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(v)));
    }
  }
}

/**
 * A detector-like graph: a convolution and a sigmoid (the body), per-position best score, the
 * positions above a threshold (NonZero: data-dependent count), their rows gathered, then a Gemm
 * and a MatMul on those rows with a Relu between (one wasm island: the Relu joins it).
 */
function detectorLike(shape: number[], threshold: number): Graph {
  const g = emptyGraph();
  g.opset = 17;
  g.inputs = [{ name: 'x', shape, dtype: 'float' }];
  g.outputs = [{ name: 'y', dtype: 'float' }, { name: 'ids', dtype: 'int' }, { name: 'best', dtype: 'float' }];
  g.initializers.set('w', { data: rnd(4 * 3 * 9, 1, 0.5), shape: [4, 3, 3, 3] });
  g.initializers.set('b', { data: rnd(4, 2, 0.2), shape: [4] });
  g.initializers.set('thr', { data: Float32Array.of(threshold), shape: [] });
  g.initializers.set('w2', { data: rnd(4 * 5, 3), shape: [4, 5] });
  g.initializers.set('b2', { data: rnd(5, 4, 0.1), shape: [5] });
  g.initializers.set('w3', { data: rnd(5 * 3, 5), shape: [5, 3] });
  g.intConstants.set('flat', { ints: [4, -1], shape: [2] });
  g.intConstants.set('ax0', { ints: [0], shape: [1] });
  const node = (name: string, op: string, inputs: string[], outputs: string[], attrs = {}) => g.nodes.push({ name, op, inputs, outputs, attrs });
  node('conv', 'Conv', ['x', 'w', 'b'], ['c'], { pads: [1, 1, 1, 1] });
  node('sig', 'Sigmoid', ['c'], ['s']);
  node('flat', 'Reshape', ['s', 'flat'], ['r']);
  node('tr', 'Transpose', ['r'], ['t'], { perm: [1, 0] });
  node('best', 'ReduceMax', ['t'], ['best'], { axes: [1], keepdims: 0 });
  node('gt', 'Greater', ['best', 'thr'], ['mask']);
  node('nz', 'NonZero', ['mask'], ['idx']);
  node('sq', 'Squeeze', ['idx', 'ax0'], ['ids']);
  node('rows', 'Gather', ['t', 'ids'], ['rows'], { axis: 0 });
  node('fc', 'Gemm', ['rows', 'w2', 'b2'], ['h']);
  node('act', 'Relu', ['h'], ['a']);
  node('proj', 'MatMul', ['a', 'w3'], ['y']);
  return g;
}

describe('a graph with a data-dependent tail', () => {
  it('equals onnxruntime: body in wasm, NonZero on the host, Gemm/MatMul islands at each run-time row count', async () => {
    const bytes = graphToOnnx(detectorLike([1, 3, -1, -1], 0.7));
    const model = await loadOnnx(bytes);
    expect(model.dynamic).toBe(true);
    const counts = new Set<number>();
    for (const [h, w, seed] of [[8, 10, 1], [9, 7, 2], [8, 10, 3]]) {
      const feeds = { x: { data: rnd(3 * h * w, seed, 2), shape: [1, 3, h, w] } };
      const got = await model.run(feeds);
      expectSame(got, await ortRun(bytes, feeds), `${h}x${w} seed ${seed}`);
      counts.add(got.ids.shape[0]);
    }
    // the threshold keeps a data-dependent number of rows: the islands planned several shapes
    expect(counts.size).toBeGreaterThan(1);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    // profile() reports the tail: host nodes and wasm islands, after the body's steps; the Relu
    // between the two wasm ops joins their island instead of running on the host
    const rows = model.profile({ x: { data: rnd(3 * 80, 9, 2), shape: [1, 3, 8, 10] } }, { runs: 2 });
    expect(rows.map((r) => r.op)).toEqual(expect.arrayContaining(['NonZero (host)', 'Gemm+Relu+MatMul']));
    expect(rows.map((r) => r.op)).not.toContain('Relu (host)');
    expect(rows.findIndex((r) => r.op === 'Gemm+Relu+MatMul')).toBeGreaterThan(rows.findIndex((r) => r.op.startsWith('Conv')));
    model.dispose();
  });

  it('returns empty results when nothing passes the threshold (islands on zero rows)', async () => {
    const bytes = graphToOnnx(detectorLike([1, 3, 6, 6], 2));
    const model = await loadOnnx(bytes);
    const feeds = { x: { data: rnd(3 * 36, 4, 2), shape: [1, 3, 6, 6] } };
    const got = await model.run(feeds);
    expect(got.y.shape).toEqual([0, 3]);
    expect(got.ids.shape).toEqual([0]);
    expectSame(got, await ortRun(bytes, feeds), 'empty');
    model.dispose();
  });

  it('runs a torch.onnx export of detection post-processing (TopK, NonZero, Where, Mod) at two anchor counts', async () => {
    for (const opset of [11, 17]) {
      const bytes = readFileSync(new URL(`fixtures/host-eval/tail_opset${opset}.onnx`, import.meta.url));
      const model = await loadOnnx(bytes);
      for (const count of [200, 57]) {
        const a = new Float32Array(count * 4);
        for (let i = 0; i < count; i++) {
          const x = 100 + 80 * Math.sin(i), y = 100 + 80 * Math.cos(i * 1.3);
          a.set([x, y, x + 30 + 10 * Math.sin(i * 7), y + 40], i * 4);
        }
        const feeds = {
          logits: { data: rnd(count * 6, count, 4), shape: [count, 6] },
          deltas: { data: rnd(count * 4, count + 1), shape: [count, 4] },
          anchors: { data: a, shape: [count, 4] },
        };
        const got = await model.run(feeds);
        expectSame(got, await ortRun(bytes, feeds), `opset ${opset}, ${count} anchors`);
        expect(got.labels.dtype).toBe('int64');
      }
      model.dispose();
    }
  });

  it('refuses an integer output float32 cannot hold exactly, naming it', async () => {
    const g = emptyGraph();
    g.inputs = [{ name: 'x', shape: [2], dtype: 'float' }];
    g.outputs = [{ name: 'n', dtype: 'int' }];
    g.nodes.push({ name: 'cast', op: 'Cast', inputs: ['x'], outputs: ['n'], attrs: { to: 7 } });
    const model = await loadOnnx(graphToOnnx(g));
    const ok = await model.run({ x: { data: Float32Array.of(3.7, -16777216), shape: [2] } });
    expect(Array.from(ok.n.data)).toEqual([3, -16777216]);
    await expect(model.run({ x: { data: Float32Array.of(1, 33554432), shape: [2] } })).rejects.toThrow(ValueError);
    await expect(model.run({ x: { data: Float32Array.of(1, 33554432), shape: [2] } })).rejects.toThrow(/output 'n'.*33554432.*index 1/);
    model.dispose();
  });

  it('names the node when a tail op meets a shape it cannot take', async () => {
    const g = emptyGraph();
    g.inputs = [{ name: 'x', shape: [-1], dtype: 'float' }];
    g.outputs = [{ name: 'y', dtype: 'float' }];
    g.initializers.set('zero', { data: Float32Array.of(0), shape: [] });
    g.initializers.set('w', { data: rnd(6, 1), shape: [3, 2] });
    g.nodes.push({ name: 'pos', op: 'Greater', inputs: ['x', 'zero'], outputs: ['m'], attrs: {} });
    g.nodes.push({ name: 'nz', op: 'NonZero', inputs: ['m'], outputs: ['i'], attrs: {} });
    g.nodes.push({ name: 'asf', op: 'Cast', inputs: ['i'], outputs: ['f'], attrs: { to: 1 } });
    g.nodes.push({ name: 'mm', op: 'MatMul', inputs: ['f', 'w'], outputs: ['y'], attrs: {} });
    const model = await loadOnnx(graphToOnnx(g));
    // [1, k] @ [3, 2]: k must be 3
    const ok = await model.run({ x: { data: Float32Array.of(1, -1, 2, 3), shape: [4] } });
    expect(ok.y.shape).toEqual([1, 2]);
    const bad = model.run({ x: { data: Float32Array.of(1, 2), shape: [2] } });
    await expect(bad).rejects.toThrow(ShapeError);
    await expect(model.run({ x: { data: Float32Array.of(1, 2), shape: [2] } })).rejects.toThrow(/MatMul node 'mm'/);
    model.dispose();
  });

  it('returns outputs that are constants for the input shape (Shape of a dynamic input)', async () => {
    const g = emptyGraph();
    g.inputs = [{ name: 'x', shape: [1, -1, -1], dtype: 'float' }];
    g.outputs = [{ name: 's', dtype: 'int' }, { name: 'y', dtype: 'float' }];
    g.nodes.push({ name: 'shape', op: 'Shape', inputs: ['x'], outputs: ['s'], attrs: {} });
    g.nodes.push({ name: 'relu', op: 'Relu', inputs: ['x'], outputs: ['y'], attrs: {} });
    const model = await loadOnnx(graphToOnnx(g));
    for (const [h, w] of [[2, 3], [5, 1]]) {
      const got = await model.run({ x: { data: rnd(h * w, h), shape: [1, h, w] } });
      expect(got.s.dtype).toBe('int64');
      expect(Array.from(got.s.data)).toEqual([1, h, w]);
      expect(got.y.shape).toEqual([1, h, w]);
    }
    model.dispose();
  });

  it('takes integer inputs at run time (an embedding lookup: Gather of a weight by fed indices)', async () => {
    const g = emptyGraph();
    g.inputs = [{ name: 'ids', shape: [-1], dtype: 'int' }, { name: 'x', shape: [1, 4], dtype: 'float' }];
    g.outputs = [{ name: 'y', dtype: 'float' }];
    g.initializers.set('emb', { data: rnd(5 * 4, 7), shape: [5, 4] });
    g.nodes.push({ name: 'lookup', op: 'Gather', inputs: ['emb', 'ids'], outputs: ['e'], attrs: { axis: 0 } });
    g.nodes.push({ name: 'relu', op: 'Relu', inputs: ['x'], outputs: ['r'], attrs: {} });
    g.nodes.push({ name: 'add', op: 'Add', inputs: ['e', 'r'], outputs: ['y'], attrs: {} });
    const bytes = graphToOnnx(g);
    const model = await loadOnnx(bytes);
    expect(model.inputNames).toEqual(['ids', 'x']);
    expect(model.inputSignature.ids).toEqual([-1]);
    const s = await ort.InferenceSession.create(bytes);
    for (const ids of [[4, 0, 2], [1]]) {
      const x = rnd(4, ids.length, 2);
      const got = await model.run({ ids: { data: BigInt64Array.from(ids.map(BigInt)), shape: [ids.length] }, x: { data: x, shape: [1, 4] } });
      const r = await s.run({ ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [ids.length]), x: new ort.Tensor('float32', x, [1, 4]) });
      expect(got.y.shape).toEqual(Array.from(r.y.dims));
      Array.from(r.y.data as Float32Array).forEach((v, i) => expect(got.y.data[i]).toBeCloseTo(v, 6));
    }
    // Int32Array works too; an index out of range is a typed error naming the node
    expect((await model.run({ ids: { data: Int32Array.of(3), shape: [1] }, x: { data: rnd(4, 1), shape: [1, 4] } })).y.shape).toEqual([1, 4]);
    await expect(model.run({ ids: { data: Int32Array.of(9), shape: [1] }, x: { data: rnd(4, 1), shape: [1, 4] } })).rejects.toThrow(/Gather node 'lookup'/);
    await expect(model.run({ ids: { data: Float32Array.of(1.5), shape: [1] }, x: { data: rnd(4, 1), shape: [1, 4] } })).rejects.toThrow(ValueError);
    await expect(model.run({ ids: { data: Int32Array.of(1, 2), shape: [3] }, x: { data: rnd(4, 1), shape: [1, 4] } })).rejects.toThrow(ShapeError);
    model.dispose();
  });

  it('RoiAlign in a tail runs on the wasm kernel and equals onnxruntime (avg and max, both coordinate modes, fixed and adaptive sampling)', async () => {
    const rois = Float32Array.of(0, 0, 8, 6, 2.5, 1.25, 15, 11, -3, 4, 5, 30, 7, 7, 7.5, 7.2, 1, 2, 40, 3);
    for (const [mode, ctm, ratio, opset] of [['avg', 'half_pixel', 2, 16], ['max', 'output_half_pixel', 0, 16], ['avg', undefined, 0, 10], ['max', 'half_pixel', 3, 16]] as const) {
      const g = emptyGraph();
      g.opset = opset;
      g.inputs = [{ name: 'x', shape: [2, 5, 9, 11], dtype: 'float' }];
      g.outputs = [{ name: 'y', dtype: 'float' }];
      g.initializers.set('rois', { data: rois, shape: [5, 4] });
      g.intConstants.set('bi', { ints: [0, 1, 1, 0, 1], shape: [5] });
      const attrs: Record<string, number | string> = { mode, output_height: 3, output_width: 4, sampling_ratio: ratio, spatial_scale: 0.5 };
      if (ctm) attrs.coordinate_transformation_mode = ctm;
      g.nodes.push({ name: 'roi', op: 'RoiAlign', inputs: ['x', 'rois', 'bi'], outputs: ['y'], attrs });
      const bytes = graphToOnnx(g);
      const model = await loadOnnx(bytes);
      const feeds = { x: { data: rnd(2 * 5 * 9 * 11, 3, 2), shape: [2, 5, 9, 11] } };
      expectSame(await model.run(feeds), await ortRun(bytes, feeds), `${mode} ${ctm} sampling ${ratio} opset ${opset}`);
      model.dispose();
    }
  });

  /**
   * The start of MultiScaleRoIAlign's merge on x [rows, cols]: the rows whose maximum is positive
   * ('rows', a data-dependent count r), zeros of their shape ('zeros', 'shp'), and row indices
   * r-1 .. 0 expanded to that shape ('idx'), with the constants they and the callers use; returns
   * a function that adds a node.
   */
  function rowScatter(g: ReturnType<typeof emptyGraph>) {
    g.initializers.set('thr', { data: Float32Array.of(0), shape: [] });
    for (const [k, v] of [['ax0', 0], ['ax1', 1], ['flat', -1], ['st0', 0], ['st1', 1]] as const) g.intConstants.set(k, { ints: [v], shape: [1] });
    for (const [k, v] of [['zero', 0], ['one', 1], ['minus1', -1]] as const) g.intConstants.set(k, { ints: [v], shape: [] });
    const node = (name: string, op: string, inputs: string[], outputs: string[], attrs = {}) => g.nodes.push({ name, op, inputs, outputs, attrs });
    node('max', 'ReduceMax', ['x'], ['m'], { axes: [1], keepdims: 0 });
    node('gt', 'Greater', ['m', 'thr'], ['mask']);
    node('nz', 'NonZero', ['mask'], ['nzi']);
    node('sq', 'Squeeze', ['nzi', 'ax0'], ['ids']);
    node('rows', 'Gather', ['x', 'ids'], ['rows'], { axis: 0 });
    node('shp', 'Shape', ['rows'], ['shp']);
    node('zeros', 'ConstantOfShape', ['shp'], ['zeros'], { value: { data: Float32Array.of(0), shape: [1] } });
    node('r', 'Gather', ['shp', 'zero'], ['r'], { axis: 0 });
    node('rm1', 'Sub', ['r', 'one'], ['rm1']);
    node('rev', 'Range', ['rm1', 'minus1', 'minus1'], ['rev']);
    node('col', 'Unsqueeze', ['rev', 'ax1'], ['col']);
    node('idx', 'Expand', ['col', 'shp'], ['idx']);
    return node;
  }

  it('scatters into a zero tensor made in the tail as onnxruntime does, in place only where nothing else reads it', async () => {
    // MultiScaleRoIAlign's merge: ConstantOfShape zeros, ScatterElements of row-expanded indices,
    // a second ScatterElements on the first's result. The zeros are also read after the first
    // scatter through a Reshape (same array) and must stay zeros; the first result is dead after
    // the second scatter, which may write into it.
    const g = emptyGraph();
    g.opset = 17;
    g.inputs = [{ name: 'x', shape: [6, 4], dtype: 'float' }];
    g.outputs = [{ name: 's2', dtype: 'float' }, { name: 'zflat', dtype: 'float' }];
    const node = rowScatter(g);
    node('zflat', 'Reshape', ['zeros', 'flat'], ['zflat']);
    node('sc1', 'ScatterElements', ['zeros', 'idx', 'rows'], ['s1'], { axis: 0 });
    node('dbl', 'Add', ['rows', 'rows'], ['dbl']);
    node('idx0', 'Slice', ['idx', 'st0', 'st1'], ['idx0']);
    node('dbl0', 'Slice', ['dbl', 'st0', 'st1'], ['dbl0']);
    node('sc2', 'ScatterElements', ['s1', 'idx0', 'dbl0'], ['s2'], { axis: 0 });
    const bytes = graphToOnnx(g);
    const model = await loadOnnx(bytes);
    const counts = new Set<number>();
    for (const seed of [1, 2, 1]) {
      const feeds = { x: { data: rnd(24, seed), shape: [6, 4] } };
      const got = await model.run(feeds);
      expectSame(got, await ortRun(bytes, feeds), `seed ${seed}`);
      expect(got.zflat.data.every((v) => v === 0)).toBe(true);
      counts.add(got.s2.shape[0]);
    }
    expect(counts.size).toBeGreaterThan(1);
    model.dispose();
  });

  it('computes a repeated tail node once (same op, inputs and attributes), never writing in place into a shared result', async () => {
    // NonZero of one mask twice (retinanet's export does so for its 1.8M scores), a scatter
    // repeated after the scatter that could otherwise write in place into the first one's
    // result, a Softmax twice on different axes (not shared)
    const g = emptyGraph();
    g.opset = 17;
    g.inputs = [{ name: 'x', shape: [6, 4], dtype: 'float' }];
    g.outputs = ['nz2', 's1b', 's2', 'sm0', 'sm1', 'sm0b'].map((name) => ({ name, dtype: name === 'nz2' ? 'int' : 'float' }) as const);
    const node = rowScatter(g);
    node('nz2', 'NonZero', ['mask'], ['nz2']);
    node('sc1', 'ScatterElements', ['zeros', 'idx', 'rows'], ['s1'], { axis: 0 });
    node('dbl', 'Add', ['rows', 'rows'], ['dbl']);
    node('idx0', 'Slice', ['idx', 'st0', 'st1'], ['idx0']);
    node('dbl0', 'Slice', ['dbl', 'st0', 'st1'], ['dbl0']);
    node('sc2', 'ScatterElements', ['s1', 'idx0', 'dbl0'], ['s2'], { axis: 0 });
    node('sc1b', 'ScatterElements', ['zeros', 'idx', 'rows'], ['s1b'], { axis: 0 });
    node('sm0', 'Softmax', ['rows'], ['sm0'], { axis: 0 });
    node('sm1', 'Softmax', ['rows'], ['sm1'], { axis: 1 });
    node('sm0b', 'Softmax', ['rows'], ['sm0b'], { axis: 0 });
    const bytes = graphToOnnx(g);
    const model = await loadOnnx(bytes);
    for (const seed of [1, 2]) {
      const feeds = { x: { data: rnd(24, seed), shape: [6, 4] } };
      expectSame(await model.run(feeds), await ortRun(bytes, feeds), `seed ${seed}`);
    }
    const steps = (model as unknown as { tail: { steps: { host?: { name: string }; same?: { name: string } }[] } }).tail.steps;
    const shared = Object.fromEntries(steps.filter((st) => st.same).map((st) => [st.host!.name, st.same!.name]));
    expect(shared).toEqual({ nz2: 'nz', sc1b: 'sc1', sm0b: 'sm0' });
    model.dispose();
  });

  it('shares a tail node only when its attributes are the same numbers (-0 is not 0) and it may be shared', () => {
    const n = (name: string, op: string, inputs: string[], attrs: Record<string, unknown> = {}, outputs = [`${name}_y`]) => ({ name, op, inputs, outputs, attrs }) as Graph['nodes'][number];
    const nodes = [
      n('a', 'Clip', ['x'], { min: 0 }), n('b', 'Clip', ['x'], { min: -0 }), n('c', 'Clip', ['x'], { min: 0 }),
      n('d', 'Transpose', ['x'], { perm: [1, 0] }), n('e', 'Transpose', ['x'], { perm: [1, 0] }), n('f', 'Transpose', ['x'], { perm: [0, 1] }),
      n('g', 'TopK', ['x', 'k'], {}, ['g0', 'g1']), n('h', 'TopK', ['x', 'k'], {}, ['h0', '']), n('i', 'TopK', ['x', 'k'], {}, ['i0', 'i1']),
      n('j', 'ConstantOfShape', ['s']), n('k2', 'ConstantOfShape', ['s']),
      n('l', 'Gather', ['x', 'k'], { axis: 0 }), n('m', 'Gather', ['k', 'x'], { axis: 0 }),
    ];
    const split = { nodes, boundary: ['x'], outputs: [], initializers: new Map(), intConstants: new Map() };
    const prog = tailProgram(split as never, 17, () => false);
    const shared = Object.fromEntries(prog.steps.flatMap((st) => ('host' in st && st.same ? [[st.host.name, st.same.name]] : [])));
    expect(shared).toEqual({ c: 'a', e: 'd', i: 'g' });
  });

  it('recycles a large tail result across runs only when it does not outlive the run', async () => {
    // zeros of [r, 16384] scattered into and read by a MatMul island: its array is refilled by
    // the next run (at the same r) instead of a new one; every run still equals onnxruntime
    const W = 16384;
    const g = emptyGraph();
    g.opset = 17;
    g.inputs = [{ name: 'x', shape: [6, W], dtype: 'float' }];
    g.outputs = [{ name: 'y', dtype: 'float' }];
    g.initializers.set('w', { data: rnd(W * 3, 7, 0.01), shape: [W, 3] });
    const node = rowScatter(g);
    node('idx0', 'Slice', ['idx', 'st0', 'st1'], ['idx0']);
    node('rows0', 'Slice', ['rows', 'st0', 'st1'], ['rows0']);
    node('sc1', 'ScatterElements', ['zeros', 'idx0', 'rows0'], ['s1'], { axis: 0 });
    node('mm', 'MatMul', ['s1', 'w'], ['y']);
    const bytes = graphToOnnx(g);
    const model = await loadOnnx(bytes);
    // rows with a positive or a negative maximum: r = 4, 4 (other values), 5, 4
    const x = (signs: number[], seed: number) => {
      const d = rnd(6 * W, seed, 0.5);
      signs.forEach((sg, i) => { for (let j = 0; j < W; j++) d[i * W + j] = sg * (Math.abs(d[i * W + j]) + 0.1); });
      return { x: { data: d, shape: [6, W] } };
    };
    const recycled = () => (model as unknown as { tail: { recycled: Map<string, unknown> } }).tail.recycled.get('zeros');
    const seen: unknown[] = [];
    for (const [signs, seed] of [[[1, -1, 1, 1, -1, 1], 1], [[1, 1, -1, 1, 1, -1], 2], [[1, 1, 1, -1, 1, 1], 3], [[-1, 1, 1, 1, 1, -1], 4]] as const) {
      const feeds = x([...signs], seed);
      const got = await model.run(feeds);
      expectSame(got, await ortRun(bytes, feeds), `signs ${signs}`);
      seen.push(recycled());
    }
    expect(seen[0]).toBeInstanceOf(Float32Array);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).not.toBe(seen[1]);
    model.dispose();
  });

  it('returns a large RoiAlign result of its own each run (a graph output is never recycled)', async () => {
    const g = emptyGraph();
    g.opset = 16;
    g.inputs = [{ name: 'x', shape: [1, 64, 12, 12], dtype: 'float' }];
    g.outputs = [{ name: 'y', dtype: 'float' }];
    const rois = rnd(20 * 4, 5, 5).map((v) => Math.abs(v));
    for (let r = 0; r < 20; r++) { rois[r * 4 + 2] += 4; rois[r * 4 + 3] += 4; }
    g.initializers.set('rois', { data: rois, shape: [20, 4] });
    g.intConstants.set('bi', { ints: new Array(20).fill(0), shape: [20] });
    g.nodes.push({ name: 'roi', op: 'RoiAlign', inputs: ['x', 'rois', 'bi'], outputs: ['y'], attrs: { output_height: 8, output_width: 8, sampling_ratio: 2, spatial_scale: 0.75 } });
    const bytes = graphToOnnx(g);
    const model = await loadOnnx(bytes);
    const feeds1 = { x: { data: rnd(64 * 144, 1), shape: [1, 64, 12, 12] } };
    const first = await model.run(feeds1);
    const kept = first.y.data.slice();
    const feeds2 = { x: { data: rnd(64 * 144, 2), shape: [1, 64, 12, 12] } };
    expectSame(await model.run(feeds2), await ortRun(bytes, feeds2), 'second input');
    expect(first.y.data).toEqual(kept);
    expectSame(first, await ortRun(bytes, feeds1), 'first input');
    model.dispose();
  });

  it('a RoiAlign whose output would be huge is the evaluator\'s typed error, not a giant allocation', async () => {
    const g = emptyGraph();
    g.opset = 16;
    g.inputs = [{ name: 'x', shape: [1, 4, 5, 5], dtype: 'float' }];
    g.outputs = [{ name: 'y', dtype: 'float' }];
    g.initializers.set('rois', { data: Float32Array.of(0, 0, 4, 4), shape: [1, 4] });
    g.intConstants.set('bi', { ints: [0], shape: [1] });
    g.nodes.push({ name: 'roi', op: 'RoiAlign', inputs: ['x', 'rois', 'bi'], outputs: ['y'], attrs: { output_height: 30000, output_width: 30000 } });
    const model = await loadOnnx(graphToOnnx(g));
    const wasmBytes = () => (model as unknown as { backing: { mem: { memory: WebAssembly.Memory } } }).backing.mem.memory.buffer.byteLength;
    const before = wasmBytes();
    await expect(model.run({ x: { data: rnd(100, 1), shape: [1, 4, 5, 5] } })).rejects.toThrow(/RoiAlign node 'roi'/);
    expect(wasmBytes()).toBe(before);
    model.dispose();
  });

  it('refuses an integer input of unknown rank with a ShapeError naming it (found by the fuzzer)', async () => {
    const g = emptyGraph();
    g.inputs = [{ name: 'ids', dtype: 'int' }, { name: 'x', shape: [3], dtype: 'float' }];
    g.outputs = [{ name: 'y', dtype: 'float' }];
    g.nodes.push({ name: 'sum', op: 'Sum', inputs: ['ids', 'x'], outputs: ['y'], attrs: {} });
    await expect(loadOnnx(graphToOnnx(g))).rejects.toThrow(/input 'ids' has no declared rank/);
  });

  it('refuses a tail that reads a value nothing makes', async () => {
    const graph = () => {
      const g = emptyGraph();
      g.inputs = [{ name: 'x', shape: [4], dtype: 'float' }];
      g.outputs = [{ name: 'i', dtype: 'int' }];
      g.nodes.push({ name: 'nz', op: 'NonZero', inputs: ['x'], outputs: ['k'], attrs: {} });
      g.nodes.push({ name: 'add', op: 'Add', inputs: ['k', 'ghost'], outputs: ['i'], attrs: {} });
      return g;
    };
    // (the ONNX reader refuses such a file first: this is the compile path GraphBuilder and the zoo use)
    await expect(compileGraph(graph())).rejects.toThrow(GraphError);
    await expect(compileGraph(graph())).rejects.toThrow(/node 'add' \(Add\) reads 'ghost'/);
  });
});
