// Load-time validation and the run-time policies around it: every attribute and dim checked
// against the operator's definition and wasm32's limits before anything is allocated or run
// (typed errors, never a wasm trap, a hang or garbage), feeds checked before use, non-finite
// inputs and weights refused, memory above 2 GiB addressed correctly, and the Model lifecycle.
// Expected values come from the ONNX operator definitions and scalar loops written here.
import { describe, expect, it } from 'vitest';
import {
  GraphError, loadOnnx, ShapeError, UnsupportedOpError, ValueError, WasmCnnError, WeightsError,
} from '../src/index';
import { emptyGraph, type Graph, type Node } from '../src/graph/ir';
import { compileGraph } from '../src/model';
import { Mem } from '../src/runtime/memory';
import { graphToOnnx } from '../src/onnx/writer';

type Floats = Record<string, { data: Float32Array | number[]; shape: number[] }>;

/** A graph of `nodes` on input 'x', output = the last node's first output. */
function graph(nodes: Node[], inputShape: number[], floats: Floats = {}, ints: Record<string, number[]> = {}, opset = 13): Graph {
  const g = emptyGraph();
  g.opset = opset;
  g.inputs.push({ name: 'x', shape: inputShape });
  g.nodes = nodes;
  g.outputs.push({ name: nodes[nodes.length - 1].outputs[0] });
  for (const [k, t] of Object.entries(floats)) g.initializers.set(k, { data: Float32Array.from(t.data), shape: t.shape });
  for (const [k, v] of Object.entries(ints)) g.intConstants.set(k, { ints: v, shape: [v.length] });
  return g;
}
const node = (op: string, inputs: string[], attrs: Node['attrs'] = {}, outputs = ['y'], name = `${op.toLowerCase()}1`): Node =>
  ({ name, op, inputs, outputs, attrs });

/** Load through the ONNX file format (writer + reader + compile), returning the model or the error. */
async function load(g: Graph): Promise<Awaited<ReturnType<typeof loadOnnx>> | Error> {
  return loadOnnx(graphToOnnx(g)).catch((e: Error) => e);
}

async function expectError<T extends Error>(g: Graph, type: new (...a: never[]) => T, ...patterns: RegExp[]): Promise<T> {
  const t = performance.now();
  const e = await load(g);
  expect(e, `expected ${type.name}`).toBeInstanceOf(type);
  for (const p of patterns) expect((e as Error).message).toMatch(p);
  // refused at load, before any large allocation or loop
  expect(performance.now() - t).toBeLessThan(2000);
  return e as T;
}

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => (i % 7) - 3);

describe('tensor sizes against wasm32', () => {
  it('a tensor larger than wasm32 memory is a ShapeError at load, not a TypeError from Memory.grow', async () => {
    await expectError(graph([node('Relu', ['x'])], [20000, 20000, 20000, 20000]), ShapeError, /input 'x'/, /4 GiB/);
    // a node's output that is too large names the node
    await expectError(
      graph([node('Pad', ['x', 'p'])], [1, 1, 2, 2], {}, { p: [0, 0, 0, 0, 0, 0, 40000, 40000] }),
      ShapeError, /Pad node 'pad1'/, /output 'y'/,
    );
  });

  it('the allocator refuses more than 4 GiB with a WasmCnnError naming sizes in MiB', () => {
    const mem = new Mem();
    let err: unknown;
    try {
      mem.ensure(5 * 2 ** 30);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WasmCnnError);
    expect((err as Error).message).toBe('the model needs 5120 MiB of wasm memory; wasm32 addresses at most 4096 MiB');
    expect(() => mem.ensure(Infinity)).toThrow(WasmCnnError);
    // an engine that refuses to grow (here a memory declared with a 2-page maximum): the message
    // gives the real sizes, not "past 0 MiB" (64 KiB rounded down)
    const small = new Mem();
    Object.defineProperty(small, 'memory', { value: new WebAssembly.Memory({ initial: 1, maximum: 2 }) });
    expect(() => small.ensure(3 * 65536)).toThrow(
      'the model needs 0.19 MiB of wasm memory; the engine refused to grow it from 0.06 MiB (its limit, or the machine\'s memory, is lower)',
    );
  });

  it('kernel parameters that do not fit 32 bits are refused before they reach the kernels', () => {
    const mem = new Mem();
    mem.setBase(1024);
    expect(() => mem.putI32([1, 2 ** 40])).toThrow(/kernel parameter 1099511627776 at position 1/);
    expect(() => mem.putI32([0.5])).toThrow(WasmCnnError);
    // addresses up to 4 GiB pass as u32
    expect(() => mem.putI32([2 ** 32 - 1, -(2 ** 31)])).not.toThrow();
  });

  it('memory between 2 and 4 GiB is addressed as unsigned: writes land where they are read', () => {
    // a Mem grown past 2^31 bytes (grow reserves; untouched pages cost nothing): a signed shift of
    // an address above 2 GiB gave a negative offset and Int32Array.set threw a RangeError
    const mem = new Mem();
    mem.setBase(1024);
    mem.alloc(2 ** 31 + 4096);
    const pf = mem.putF32(Float32Array.of(1.5, -2.5));
    const pi = mem.putI32([7, -9, 2 ** 31 + 64]);
    expect(pf).toBeGreaterThan(2 ** 31);
    expect(Array.from(mem.f32.subarray(pf / 4, pf / 4 + 2))).toEqual([1.5, -2.5]);
    expect(Array.from(mem.i32.subarray(pi / 4, pi / 4 + 3))).toEqual([7, -9, -(2 ** 31) + 64]);
  });

  it('a model whose kernel parameters sit above 2 GiB loads (planning writes them there)', async () => {
    // Pad 1x1x2x2 to 1x1x23172x23172 (2.0 GiB of floats) before a GlobalMaxPool: the arena
    // crosses 2^31 bytes and every parameter block of the plan lies above it. Running it would
    // fault in 2 GiB of pages (about 30 s here), so this stops at load; the Mem test above checks
    // the addressing the run uses.
    const g = graph(
      [node('Pad', ['x', 'p'], {}, ['padded'], 'pad1'), node('GlobalMaxPool', ['padded'], {}, ['y'], 'gmp1')],
      [1, 1, 2, 2], {}, { p: [0, 0, 0, 0, 0, 0, 23170, 23170] },
    );
    const m = await load(g);
    if (m instanceof Error) throw m;
    expect(m.memoryBytes).toBeGreaterThan(2 ** 31);
    expect(m.outputShapes.y).toEqual([1, 1, 1, 1]);
    m.dispose();
  });

  it('constant folding refuses tensors of absurd size instead of allocating them', async () => {
    await expectError(
      graph([node('ConstantOfShape', ['s'], {}, ['c']), node('Add', ['x', 'c'])], [1, 1, 2, 2], {}, { s: [1e9, 1e9] }),
      UnsupportedOpError, /ConstantOfShape/, /larger than/,
    );
    await expectError(
      graph([node('Range', ['a', 'b', 'd'], {}, ['r']), node('Add', ['x', 'r'])], [1, 1, 2, 2], {}, { a: [0], b: [1e12], d: [1] }),
      UnsupportedOpError, /Range/,
    );
  });
});

describe('window attributes (Conv, pooling)', () => {
  it('a Conv stride past the padded input computes the one window per axis instead of dividing by zero', async () => {
    // x 1x1x5x3, kernel 3x1 of ones, stride [2^40, 1]: one output row, the column sums of rows 0..2
    const g = graph([node('Conv', ['x', 'W'], { strides: [2 ** 40, 1] })], [1, 1, 5, 3], { W: { data: [1, 1, 1], shape: [1, 1, 3, 1] } });
    const m = await load(g);
    if (m instanceof Error) throw m;
    expect(m.outputShapes.y).toEqual([1, 1, 1, 3]);
    const x = ramp(15);
    const want = [0, 1, 2].map((c) => x[c] + x[3 + c] + x[6 + c]);
    expect(Array.from((await m.run({ x: { data: x, shape: [1, 1, 5, 3] } })).y.data)).toEqual(want);
  });

  it('a Conv over zero input channels gives its bias (no trap), and so does a MatMul over zero columns', async () => {
    // a fuzzed file fed a [N, 0, H, W] initializer to a 3x3 stride-2 Conv: the direct kernel divided by C = 0.
    // Summing no products leaves the bias: y[n][o][i][j] = B[o].
    const conv = graph([node('Conv', ['Z', 'W', 'B'], { strides: [2, 2], pads: [1, 1, 1, 1] })], [1, 1], {
      Z: { data: [], shape: [2, 0, 5, 5] }, W: { data: [], shape: [3, 0, 3, 3] }, B: { data: [0.5, -2, 7], shape: [3] },
    });
    const m = await load(conv);
    if (m instanceof Error) throw m;
    const y = (await m.run({ x: { data: new Float32Array([1]), shape: [1, 1] } })).y;
    expect(y.shape).toEqual([2, 3, 3, 3]);
    expect(Array.from(y.data)).toEqual(Array.from({ length: 54 }, (_, i) => [0.5, -2, 7][Math.floor(i / 9) % 3]));
    // MatMul [2, 0] x [0, 3]: planned rows were numel / K = 0 / 0 (an internal error)
    const mm = await load(graph([node('MatMul', ['Z', 'W'])], [1, 1], { Z: { data: [], shape: [2, 0] }, W: { data: [], shape: [0, 3] } }));
    if (mm instanceof Error) throw mm;
    const p = (await mm.run({ x: { data: new Float32Array([1]), shape: [1, 1] } })).y;
    expect(p.shape).toEqual([2, 3]);
    expect(Array.from(p.data)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('a MaxPool stride past the padded input gives the first window, as ONNX defines', async () => {
    const g = graph([node('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2 ** 33, 2 ** 33] })], [1, 1, 4, 4]);
    const m = await load(g);
    if (m instanceof Error) throw m;
    const x = ramp(16);
    expect(Array.from((await m.run({ x: { data: x, shape: [1, 1, 4, 4] } })).y.data)).toEqual([Math.max(x[0], x[1], x[4], x[5])]);
  });

  it('pooling kernels, pads and dilations out of range are ShapeErrors naming the node', async () => {
    const pool = (attrs: Node['attrs']) => graph([node('MaxPool', ['x'], attrs, ['y'], 'mp7')], [1, 1, 4, 4]);
    await expectError(pool({ kernel_shape: [1, 2 ** 32] }), ShapeError, /mp7/, /4294967296/);
    await expectError(pool({ kernel_shape: [2, 2], pads: [1e6, 0, 0, 0] }), ShapeError, /mp7/, /smaller than the 2x2 kernel/);
    await expectError(pool({ kernel_shape: [2, 2], pads: [2, 0, 0, 0] }), ShapeError, /smaller than the 2x2 kernel/);
    await expectError(pool({ kernel_shape: [2, 2], strides: [0, 1] }), ShapeError, />= 1/);
    await expectError(pool({ kernel_shape: [2, 2], dilations: [2 ** 31, 1] }), ShapeError, /dilations/);
    await expectError(pool({ kernel_shape: [2, 2], strides: [1] }), ShapeError, /strides \[1\] must have 2 entries/);
    await expectError(pool({ kernel_shape: [2, 2], pads: [0, 0] }), ShapeError, /pads \[0, 0\] must have 4 entries/);
    await expectError(pool({ kernel_shape: [2.5, 2] }), UnsupportedOpError, /kernel_shape must be a list of ints/);
  });

  it('Conv pads beyond i32 and ConvTranspose strides beyond i32 are refused', async () => {
    const w = { W: { data: [1], shape: [1, 1, 1, 1] } };
    await expectError(graph([node('Conv', ['x', 'W'], { pads: [2 ** 31, 0, 0, 0] })], [1, 1, 2, 2], w), ShapeError, /conv1/);
    await expectError(graph([node('ConvTranspose', ['x', 'W'], { strides: [2 ** 40, 1] })], [1, 1, 2, 2], w), ShapeError, /convtranspose1/, /strides/);
    await expectError(graph([node('ConvTranspose', ['x', 'W'], { strides: [2 ** 20, 2 ** 20] })], [1, 1, 2, 2], w), ShapeError, /convtranspose1/);
  });

  it('MaxUnpool strides and pads are checked', async () => {
    const g = (attrs: Node['attrs']) => graph([node('MaxUnpool', ['x', 'x'], { kernel_shape: [2, 2], ...attrs })], [1, 1, 2, 2]);
    await expectError(g({ strides: [0, 2] }), ShapeError, /maxunpool1/, /strides/);
    await expectError(g({ pads: [-1, 0, 0, 0] }), ShapeError, /pads/);
  });
});

describe('other attributes', () => {
  it('LRN size must be odd and within the kernel window; valid sizes run', async () => {
    for (const size of [65536, 1e6, 2 ** 31, 2 ** 40, 4, 0, -3])
      await expectError(graph([node('LRN', ['x'], { size })], [1, 3, 4, 4]), ShapeError, /LRN node 'lrn1'/, new RegExp(`size=${size}`));
    await expectError(graph([node('LRN', ['x'], {})], [1, 3, 4, 4]), ShapeError, /size attribute is required/);
    await expectError(graph([node('LRN', ['x'], { size: 3, beta: Infinity })], [1, 3, 4, 4]), ShapeError, /beta/);
    // size 5 on 3 channels (wider than the channels: legal, alpha / 5): the ONNX formula by hand
    const m = await load(graph([node('LRN', ['x'], { size: 5, alpha: 0.5, beta: 0.75, bias: 2 })], [1, 3, 1, 1]));
    if (m instanceof Error) throw m;
    const x = Float32Array.of(1, -2, 3);
    const sq = [1, 4, 9];
    const want = [0, 1, 2].map((c) => {
      const s = sq.slice(Math.max(0, c - 2), c + 3).reduce((a, b) => a + b, 0);
      return x[c] / (2 + (0.5 / 5) * s) ** 0.75;
    });
    const got = (await m.run({ x: { data: x, shape: [1, 3, 1, 1] } })).y.data;
    want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
  });

  it('Resize axes out of range or repeated are ShapeErrors, not an endless loop', async () => {
    const s = { s: { data: [2], shape: [1] } };
    for (const axes of [[2 ** 31 - 1], [2 ** 31], [-5], [4]])
      await expectError(graph([node('Resize', ['x', '', 's'], { axes })], [1, 1, 4, 4], s), ShapeError, /resize1/, /out of range/);
    await expectError(
      graph([node('Resize', ['x', '', 's'], { axes: [2, 2] })], [1, 1, 4, 4], { s: { data: [2, 2], shape: [2] } }, {}, 18),
      ShapeError, /repeat an axis/,
    );
    await expectError(graph([node('Resize', ['x', '', 's'], { axes: [3] })], [1, 1, 4, 4], { s: { data: [1e30], shape: [1] } }, {}, 18), ShapeError, /larger than/);
  });

  it('Pad pads read from a float initializer must be integers', async () => {
    await expectError(graph([node('Pad', ['x', 'p'])], [1, 1, 2, 2], { p: { data: [0, 0, 1.5, 0, 0, 0, 0, 0], shape: [8] } }), ShapeError, /pads/, /integers/);
  });

  it("ops and attributes reserved for wasmcnn's own passes are refused from a file", async () => {
    await expectError(graph([node('_ToNHWC', ['x'])], [1, 2, 2, 2]), UnsupportedOpError, /_ToNHWC/, /reserved/);
    await expectError(graph([node('Relu', ['x'], { _act: 99 })], [1, 2, 2, 2]), UnsupportedOpError, /'_act' is reserved/);
    await expectError(graph([node('ChannelShuffle', ['x'], { groups: 0 })], [1, 4, 2, 2]), ShapeError, /groups=0/);
    await expectError(graph([node('ChannelShuffle', ['x'], { groups: 3 })], [1, 4, 2, 2]), ShapeError, /must divide the 4 channels/);
  });

  it('a value produced twice and a cycle are GraphErrors (graphs built in code; the ONNX reader refuses them as FormatErrors)', async () => {
    const compileErr = (g: Graph) => compileGraph(g).then(() => undefined, (e: Error) => e);
    const twice = await compileErr(graph([node('Relu', ['x'], {}, ['y'], 'a'), node('Sigmoid', ['x'], {}, ['y'], 'b')], [1, 2]));
    expect(twice).toBeInstanceOf(GraphError);
    expect(twice!.message).toMatch(/node 'b' \(Sigmoid\) writes 'y'/);
    expect(await compileErr(graph([node('Relu', ['x'], {}, ['x'], 'a')], [1, 2]))).toBeInstanceOf(GraphError);
    const cycle = await compileErr(graph([node('Add', ['x', 'v'], {}, ['u'], 'a'), node('Relu', ['u'], {}, ['v'], 'b')], [1, 2]));
    expect(cycle).toBeInstanceOf(GraphError);
    expect(cycle!.message).toMatch(/reads 'v'/);
  });
});

describe('feeds', () => {
  const relu = async () => {
    const m = await load(graph([node('Relu', ['x'])], [1, 1, 2, 2]));
    if (m instanceof Error) throw m;
    return m;
  };

  it('malformed feeds are ValueErrors or ShapeErrors naming the problem, never TypeErrors', async () => {
    const m = await relu();
    const data = new Float32Array(4);
    const cases: [unknown, typeof ValueError | typeof ShapeError, RegExp][] = [
      [null, ValueError, /takes an object of named tensors.*got null/],
      [undefined, ValueError, /got undefined/],
      ['x', ValueError, /got the string "x"/],
      [[data], ValueError, /got \[/],
      [{ x: null }, ValueError, /input 'x' must be \{ data: Float32Array, shape: number\[\] \}, got null/],
      [{ x: 5 }, ValueError, /got number 5/],
      [{ x: { data, shape: '1x1x2x2' } }, ShapeError, /expected shape \[1, 1, 2, 2\], got the string "1x1x2x2"/],
      [{ x: { data, shape: null } }, ShapeError, /got null/],
      [{ x: { data, shape: [1, 1, 2, 2, 1] } }, ShapeError, /got \[1, 1, 2, 2, 1\]/],
      [{ x: { data: [0, 0, 0, 0], shape: [1, 1, 2, 2] } }, ValueError, /data must be a Float32Array, got \[0, 0, 0, 0\]/],
      [{ x: { shape: [1, 1, 2, 2] } }, ValueError, /data must be a Float32Array, got undefined/],
    ];
    for (const [feeds, type, msg] of cases) {
      const e = await m.run(feeds as never).catch((x: Error) => x);
      expect(e, JSON.stringify(feeds)).toBeInstanceOf(type);
      expect((e as Error).message).toMatch(msg);
      expect(() => m.runSync(feeds as never)).toThrow(type);
    }
    await expect(m.predict(null as never)).rejects.toThrow(ValueError);
  });

  it('NaN and ±Infinity in a feed are ValueErrors naming the index unless allowNonFinite', async () => {
    const m = await relu();
    for (const [v, at] of [[Infinity, 0], [-Infinity, 3], [NaN, 2]] as const) {
      const x = Float32Array.of(1, 2, 3, 4);
      x[at] = v;
      await expect(m.run({ x: { data: x, shape: [1, 1, 2, 2] } })).rejects.toThrow(new RegExp(`input 'x' holds ${v} at index ${at}$`));
      const out = await m.run({ x: { data: x, shape: [1, 1, 2, 2] } }, { allowNonFinite: true });
      expect(out.y.data[at]).toBe(Math.max(0, v) || (Number.isNaN(v) ? NaN : 0));
    }
    // large finite values are data, not errors
    const big = await m.run({ x: { data: Float32Array.of(3e38, -3e38, 1, 0), shape: [1, 1, 2, 2] } });
    expect(Array.from(big.y.data)).toEqual([Math.fround(3e38), 0, 1, 0]);
  });
});

describe('weights policy', () => {
  const conv = (w: number[], b: number[]) =>
    graph([node('Conv', ['x', 'W', 'B'], {}, ['y'], 'c1')], [1, 1, 2, 2], { W: { data: w, shape: [1, 1, 1, 1] }, B: { data: b, shape: [1] } });

  it('NaN or ±Infinity in a parameter is a WeightsError naming the tensor at load', async () => {
    await expectError(conv([NaN], [0]), WeightsError, /weight 'W'/, /Conv node 'c1'/, /NaN at index 0/);
    await expectError(conv([1], [-Infinity]), WeightsError, /weight 'B'/, /-Infinity/);
    const add = (v: number) => graph([node('Add', ['x', 'm'])], [1, 2], { m: { data: [0, v], shape: [2] } });
    await expectError(add(NaN), WeightsError, /weight 'm'/);
  });

  it('±Infinity stays allowed where it is a setting or a mask', async () => {
    // an additive -Infinity mask and Clip's open upper bound
    const mask = await load(graph([node('Add', ['x', 'm'])], [1, 2], { m: { data: [0, -Infinity], shape: [2] } }));
    if (mask instanceof Error) throw mask;
    expect(Array.from((await mask.run({ x: { data: Float32Array.of(1, 2), shape: [1, 2] } })).y.data)).toEqual([1, -Infinity]);
    const clip = await load(graph([node('Clip', ['x', 'lo', 'hi'])], [1, 2], { lo: { data: [-1], shape: [] }, hi: { data: [Infinity], shape: [] } }));
    if (clip instanceof Error) throw clip;
    expect(Array.from((await clip.run({ x: { data: Float32Array.of(-5, 7), shape: [1, 2] } })).y.data)).toEqual([-1, 7]);
  });
});

describe('model lifecycle', () => {
  it('dispose() is idempotent; summary() and layerInfo() work after it; running does not', async () => {
    const g = graph([node('Conv', ['x', 'W'], {}, ['y'], 'c1')], [1, 1, 3, 3], { W: { data: [2], shape: [1, 1, 1, 1] } });
    const m = await compileGraph(g);
    const before = m.summary();
    expect(m.disposed).toBe(false);
    m.dispose();
    expect(m.disposed).toBe(true);
    expect(() => m.dispose()).not.toThrow();
    expect(m.summary()).toBe(before);
    expect(m.layerInfo()[0]).toMatchObject({ name: 'c1', op: 'Conv', params: 1, macs: 9 });
    expect(m.paramCount).toBe(1);
    const x = { x: { data: new Float32Array(9), shape: [1, 1, 3, 3] } };
    await expect(m.run(x)).rejects.toThrow(/disposed/);
    expect(() => m.runSync(x)).toThrow(WasmCnnError);
    expect(() => m.profile(x)).toThrow(/disposed/);
  });
});

describe('slices and normalisations', () => {
  it('Slice axes out of range or repeated are ShapeErrors; a huge step over one element runs', async () => {
    const sl = (ints: Record<string, number[]>) => graph([node('Slice', ['x', 'st', 'en', 'ax', 'sp'])], [1, 2, 4, 4], {}, ints);
    await expectError(sl({ st: [0], en: [1], ax: [2 ** 31 - 1], sp: [1] }), ShapeError, /slice1/, /out of range/);
    await expectError(sl({ st: [0, 0], en: [1, 1], ax: [2, -2], sp: [1, 1] }), ShapeError, /repeated/);
    await expectError(sl({ st: [0, 0], en: [1], ax: [2, 3], sp: [1, 1] }), ShapeError, /differ in length/);
    const m = await load(sl({ st: [1], en: [4], ax: [3], sp: [2 ** 40] }));
    if (m instanceof Error) throw m;
    expect(m.outputShapes.y).toEqual([1, 2, 4, 1]);
    const x = ramp(32);
    const want = Array.from({ length: 8 }, (_, r) => x[r * 4 + 1]);
    expect(Array.from((await m.run({ x: { data: x, shape: [1, 2, 4, 4] } })).y.data)).toEqual(want);
  });

  it('InstanceNormalization scale and bias must have one value per channel', async () => {
    const g = graph([node('InstanceNormalization', ['x', 's', 'b'])], [1, 3, 2, 2], { s: { data: [1, 1], shape: [2] }, b: { data: [0, 0, 0], shape: [3] } });
    await expectError(g, ShapeError, /instancenormalization1/, /'s' has 2/);
  });
});

describe('reshapes', () => {
  it('Unsqueeze axes out of range or repeated are ShapeErrors, not a silently appended dim', async () => {
    for (const axes of [[2 ** 31], [5], [-6], [0, 0]])
      await expectError(graph([node('Unsqueeze', ['x', 'a'])], [1, 4], {}, { a: axes }), ShapeError, /unsqueeze1/, /out of range .* or repeated/);
    const m = await load(graph([node('Unsqueeze', ['x', 'a'])], [1, 4], {}, { a: [-1, 1] }));
    if (m instanceof Error) throw m;
    expect(m.outputShapes.y).toEqual([1, 1, 4, 1]);
  });
});

describe('activations', () => {
  it('Clip bounds must be scalars (an empty min left the kernel argument undefined)', async () => {
    const clip = (lo: number[], hi: number[]) =>
      graph([node('LeakyRelu', ['x'], { alpha: 0.1 }, ['a'], 'lr'), node('Clip', ['a', 'lo', 'hi'], {}, ['y'], 'clip3')], [1, 3, 3, 3],
        { lo: { data: lo, shape: [lo.length] }, hi: { data: hi, shape: [hi.length] } });
    await expectError(clip([], [1]), ShapeError, /Clip node 'clip3': min must hold one value, got 0/);
    await expectError(clip([0], [1, 2]), ShapeError, /max must hold one value, got 2/);
    const m = await load(clip([-0.05], [1]));
    if (m instanceof Error) throw m;
    const x = ramp(27);
    const want = Array.from(x, (v) => Math.min(1, Math.max(-0.05, v > 0 ? v : Math.fround(0.1) * v)));
    const got = (await m.run({ x: { data: x, shape: [1, 3, 3, 3] } })).y.data;
    want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
  });
});
