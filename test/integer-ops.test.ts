// Dynamic quantization (issue 18 item 3: ConvInteger and MatMulInteger among the QOperator ops):
// onnxruntime's `quantize_dynamic` writes each Conv / MatMul as DynamicQuantizeLinear on the
// activation, ConvInteger / MatMulInteger against 8-bit weights, Cast to float and a Mul by
// x_scale·w_scale (then the float bias). Hand-built graphs of exactly that form, with odd sizes,
// padding, strides, dilation and groups, uint8 and int8 weights, run in wasmcnn and in
// onnxruntime-node on the same file: the outputs must be equal (integer sums are exact and the
// float steps after them are the same float32 operations). A float64 direct convolution of the
// dequantized integers checks the per-channel weight zero points onnxruntime does not take.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { emptyGraph, type Graph, type IntTensor } from '../src/graph/ir';
import { createModel, exportOnnx, loadOnnx, modelBuilder, syntheticWeights, UnsupportedOpError, ValueError } from '../src/index';
import { dynamicQuantized } from './dynamic-quant';
import { compileGraph } from '../src/model';
import { parseOnnx } from '../src/onnx/reader';
import { graphToOnnx } from '../src/onnx/writer';
import { rand } from './reference';

type Elem = 'uint8' | 'int8';

/** Deterministic 8-bit weights spread over the type's whole range. */
function weights(shape: number[], elem: Elem, seed: number): IntTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const lo = elem === 'int8' ? -128 : 0;
  return { ints: Array.from({ length: n }, (_, i) => lo + ((i * 97 + seed * 31 + ((i * i) % 13)) % 256)), shape, elem };
}

interface DynSpec {
  op: 'ConvInteger' | 'MatMulInteger';
  /** 'wasm': one planned _QDyn step (w − zero point fits int8); 'host': the ONNX ops on the host evaluator. */
  path?: 'wasm' | 'host';
  x: number[];
  w: number[];
  elem: Elem;
  wzp: number[];
  attrs?: Record<string, number[] | number>;
  bias: number[];
  /** A float op on x before DynamicQuantizeLinear (Sqrt: NaN for a negative input, made inside the graph). */
  pre?: string;
}

/** x → DynamicQuantizeLinear → op(x_q, W, x_zp, W_zp) → Cast → Mul(x_scale · W_scale) → Add(bias) → y. */
function dynGraph(s: DynSpec): Graph {
  const g = emptyGraph();
  g.opset = 13;
  g.inputs = [{ name: 'x', shape: s.x }];
  g.intConstants.set('W', weights(s.w, s.elem, s.w.length));
  g.intConstants.set('W_zp', { ints: s.wzp, shape: s.wzp.length === 1 ? [] : [s.wzp.length], elem: s.elem });
  g.initializers.set('W_scale', { data: Float32Array.of(0.0123), shape: [] });
  if (s.bias.length) g.initializers.set('B', { data: Float32Array.from(rand([s.bias.reduce((a, b) => a * b, 1)], 5).data), shape: s.bias });
  const node = (op: string, inputs: string[], outputs: string[], attrs = {}) => g.nodes.push({ name: `${op}_${g.nodes.length}`, op, inputs, outputs, attrs });
  if (s.pre) node(s.pre, ['x'], ['x_pre']);
  node('DynamicQuantizeLinear', [s.pre ? 'x_pre' : 'x'], ['x_q', 'x_scale', 'x_zp']);
  node(s.op, ['x_q', 'W', 'x_zp', 'W_zp'], ['acc'], s.attrs ?? {});
  node('Cast', ['acc'], ['acc_f'], { to: 1 });
  node('Mul', ['x_scale', 'W_scale'], ['scales']);
  node('Mul', ['acc_f', 'scales'], [s.bias.length ? 'y0' : 'y']);
  if (s.bias.length) node('Add', ['y0', 'B'], ['y']);
  g.outputs = [{ name: 'y' }];
  return g;
}

async function both(g: Graph, x: Float32Array, steps?: string[]): Promise<{ got: Float32Array; want: Float32Array; shape: number[] }> {
  const shape = g.inputs[0].shape!;
  const m = await compileGraph(g);
  if (steps) steps.push(...m.profile({ x: { data: x, shape } }, { runs: 1 }).map((s) => s.op));
  const r = await m.run({ x: { data: x, shape } });
  const name = g.outputs[0].name;
  m.dispose();
  const s = await ort.InferenceSession.create(graphToOnnx(g), { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const o = (await s.run({ x: new ort.Tensor('float32', x, shape) }))[name];
  expect(r[name].shape).toEqual(o.dims);
  return { got: r[name].data as Float32Array, want: o.data as Float32Array, shape: r[name].shape };
}

const CASES: [string, DynSpec][] = [
  ['MatMulInteger [3, 7] x [7, 5], uint8 weights, zero point 128', { op: 'MatMulInteger', x: [3, 7], w: [7, 5], elem: 'uint8', wzp: [128], bias: [5] }],
  ['MatMulInteger [2, 3, 19] x [19, 6], int8 weights, zero point 0', { op: 'MatMulInteger', x: [2, 3, 19], w: [19, 6], elem: 'int8', wzp: [0], bias: [6] }],
  ['MatMulInteger [4, 9] x [9, 3], int8 weights, zero point -3 (w − zp leaves int8: row sums carry it)', { op: 'MatMulInteger', x: [4, 9], w: [9, 3], elem: 'int8', wzp: [-3], bias: [3] }],
  ['MatMulInteger [5, 37] x [37, 6], uint8 weights, zero point 5 (onnxruntime QUInt8)', { op: 'MatMulInteger', x: [5, 37], w: [37, 6], elem: 'uint8', wzp: [5], bias: [6] }],
  ['ConvInteger 3x3 pad 1, [1, 3, 9, 8] → 5 channels, uint8 weights', {
    op: 'ConvInteger', x: [1, 3, 9, 8], w: [5, 3, 3, 3], elem: 'uint8', wzp: [128], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, bias: [1, 5, 1, 1],
  }],
  ['ConvInteger 3x2 stride (2, 1), pads (0, 1, 2, 0), dilation (1, 2), batch 2, int8 weights', {
    op: 'ConvInteger', x: [2, 4, 11, 10], w: [3, 4, 3, 2], elem: 'int8', wzp: [0], attrs: { strides: [2, 1], pads: [0, 1, 2, 0], dilations: [1, 2] }, bias: [1, 3, 1, 1],
  }],
  ['ConvInteger grouped (3 groups), auto_pad SAME_UPPER 3x3, uint8 weights around 128', {
    op: 'ConvInteger', x: [1, 6, 7, 5], w: [9, 2, 3, 3], elem: 'uint8', wzp: [128], attrs: { group: 3, auto_pad: 'SAME_UPPER' as unknown as number }, bias: [1, 9, 1, 1],
  }],
  ['ConvInteger depthwise 3x3 stride 2 pad 1, [2, 19, 9, 11], int8 weights', {
    op: 'ConvInteger', x: [2, 19, 9, 11], w: [19, 1, 3, 3], elem: 'int8', wzp: [0], attrs: { group: 19, strides: [2, 2], pads: [1, 1, 1, 1] }, bias: [1, 19, 1, 1],
  }],
  ['ConvInteger depthwise 5x5 dilation 2 pad 3, [1, 21, 12, 10] (one whole vector and one lane past 16 channels), uint8 weights around 128', {
    op: 'ConvInteger', x: [1, 21, 12, 10], w: [21, 1, 5, 5], elem: 'uint8', wzp: [128], attrs: { group: 21, dilations: [2, 2], pads: [3, 3, 3, 3] }, bias: [1, 21, 1, 1],
  }],
  ['ConvInteger depthwise 3x3 pad 1, [1, 34, 7, 9] (two whole 16-channel blocks and 2 channels), no bias', {
    op: 'ConvInteger', x: [1, 34, 7, 9], w: [34, 1, 3, 3], elem: 'int8', wzp: [0], attrs: { group: 34, pads: [1, 1, 1, 1] }, bias: [],
  }],
  ['ConvInteger 1x1 [1, 21, 5, 6] → 13 channels, int8 weights (direct GEMM, no im2col)', {
    op: 'ConvInteger', x: [1, 21, 5, 6], w: [13, 21, 1, 1], elem: 'int8', wzp: [0], bias: [1, 13, 1, 1],
  }],
  ['ConvInteger 3x3 pad 1 with uint8 weights, zero point 97 (w − 128 and row sums)', {
    op: 'ConvInteger', x: [1, 3, 6, 5], w: [4, 3, 3, 3], elem: 'uint8', wzp: [97], attrs: { pads: [1, 1, 1, 1] }, bias: [1, 4, 1, 1],
  }],
  ['ConvInteger 1x1 [1, 21, 5, 6] → 13 channels, uint8 weights, zero point 200 (direct GEMM and row sums)', {
    op: 'ConvInteger', x: [1, 21, 5, 6], w: [13, 21, 1, 1], elem: 'uint8', wzp: [200], bias: [1, 13, 1, 1],
  }],
  ['ConvInteger depthwise 3x3 stride 2, [1, 19, 9, 8], uint8 weights, zero point 31 (per-output sums)', {
    op: 'ConvInteger', x: [1, 19, 9, 8], w: [19, 1, 3, 3], elem: 'uint8', wzp: [31], attrs: { group: 19, strides: [2, 2], pads: [1, 1, 1, 1] }, bias: [1, 19, 1, 1],
  }],
  ['ConvInteger grouped (3 groups) with uint8 weights, zero point 97 (not fused: host)', {
    op: 'ConvInteger', path: 'host', x: [1, 6, 7, 5], w: [9, 2, 3, 3], elem: 'uint8', wzp: [97], attrs: { group: 3, pads: [1, 1, 1, 1] }, bias: [1, 9, 1, 1],
  }],
];

/** The plain 3x3 conv case (the error tests build on it). */
const CONV3X3 = CASES.find(([n]) => n.startsWith('ConvInteger 3x3 pad 1, [1, 3, 9, 8]'))![1];

describe('dynamic quantization: DynamicQuantizeLinear → ConvInteger / MatMulInteger → Cast → Mul', () => {
  for (const [name, spec] of CASES)
    it(`${name}: equal to onnxruntime-node`, async () => {
      const n = spec.x.reduce((a, b) => a * b, 1);
      // an asymmetric range (so the zero point is not 0 or 255) and a run of exact ties
      const x = Float32Array.from(rand([n], n).data, (v, i) => (i % 17 === 0 ? 0 : 3 * v + 0.7));
      const steps: string[] = [];
      const { got, want } = await both(dynGraph(spec), x, steps);
      if (spec.path === 'host') expect(steps).toEqual(expect.arrayContaining([`${spec.op} (host)`]));
      else {
        // the chain is one planned int8 step, nothing on the host
        expect(steps).toContain('_QDyn');
        expect(steps.filter((o) => o.includes('(host)') || /Integer|Dynamic|Cast/.test(o))).toEqual([]);
      }
      expect(want.length).toBeGreaterThan(10);
      expect(new Set(Array.from(want)).size).toBeGreaterThan(want.length / 3);
      expect(Array.from(got)).toEqual(Array.from(want));
    });

  it('DynamicQuantizeLinear alone: bytes, scale and zero point equal onnxruntime-node (negative-only, positive-only, all-zero, mixed inputs)', async () => {
    const g = emptyGraph();
    g.opset = 13;
    g.inputs = [{ name: 'x', shape: [2, 13] }];
    // the uint8 results leave through Cast to float (exact), as the writer types graph outputs float or int64
    g.nodes = [
      { name: 'dq', op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['yq', 's', 'zq'], attrs: {} },
      { name: 'cy', op: 'Cast', inputs: ['yq'], outputs: ['y'], attrs: { to: 1 } },
      { name: 'cz', op: 'Cast', inputs: ['zq'], outputs: ['z'], attrs: { to: 1 } },
    ];
    g.outputs = [{ name: 'y' }, { name: 's' }, { name: 'z' }];
    const s = await ort.InferenceSession.create(graphToOnnx(g), { intraOpNumThreads: 1, logSeverityLevel: 3 });
    const m = await compileGraph(g);
    const base = rand([26], 3).data;
    const inputs = [
      Float32Array.from(base, (v) => -Math.abs(v) * 5 - 0.1),
      Float32Array.from(base, (v) => Math.abs(v) * 0.3 + 0.01),
      new Float32Array(26),
      Float32Array.from(base, (v, i) => (i === 3 ? 2.55 : i === 4 ? -1.275 : v * 2)),
      // range [-3.125, 4.84375]: scale 2^-5 exactly, zero point 100, and x / scale = k + 0.5 ties
      // (0.5, 2.5, 4.5, -1.5, -3.5: half to even gives 0, 2, 4, -2, -4; half up would not)
      Float32Array.from(base, (v, i) => [-3.125, 4.84375, 0.015625, 0.078125, 0.140625, -0.046875, -0.109375][i] ?? v),
    ];
    for (const x of inputs) {
      const want = await s.run({ x: new ort.Tensor('float32', x, [2, 13]) });
      const got = await m.run({ x: { data: x, shape: [2, 13] } });
      for (const k of ['y', 's', 'z']) expect(Array.from(got[k].data)).toEqual(Array.from(want[k].data as ArrayLike<number>, Number));
    }
    // NaN has no quantization range: a typed error, not bytes
    const bad = base.slice();
    bad[7] = NaN;
    await expect(m.run({ x: { data: bad, shape: [2, 13] } })).rejects.toThrow(ValueError);
    m.dispose();
  });

  it('a planned _QDyn step refuses NaN and infinity made inside the graph with a ValueError, then runs on as before', async () => {
    // Sqrt of a negative input is NaN, of +inf... the graph's input itself must be finite (run() checks it), so the
    // non-finite values come from Sqrt (NaN) and from Reciprocal of 0 (±inf)
    for (const [pre, bad] of [['Sqrt', -1], ['Reciprocal', 0], ['Reciprocal', -0]] as const) {
      for (const shape of [[1, 3, 9, 8], [3, 5, 7]]) {
        const mm = shape.length === 3;
        const spec: DynSpec = mm
          ? { op: 'MatMulInteger', x: shape, w: [7, 4], elem: 'int8', wzp: [0], bias: [4], pre }
          : { ...CONV3X3, pre };
        const m = await compileGraph(dynGraph(spec));
        const n = shape.reduce((a, b) => a * b, 1);
        const x = Float32Array.from(rand([n], 2).data, (v) => Math.abs(v) + 0.5);
        const before = Array.from((await m.run({ x: { data: x, shape } })).y.data);
        // element 8: in range_f32's 4-lane loop; n - 1: its scalar tail when n % 4 != 0 (105 = 3·5·7)
        for (const at of [8, n - 1]) {
          const y = x.slice();
          y[at] = bad;
          await expect(m.run({ x: { data: y, shape } })).rejects.toThrow(ValueError);
          await expect(m.run({ x: { data: y, shape } })).rejects.toThrow(/NaN or infinity/);
        }
        expect(Array.from((await m.run({ x: { data: x, shape } })).y.data)).toEqual(before);
        m.dispose();
      }
    }
  });

  it('per-output-channel weight zero points: equal to a float64 direct convolution of the dequantized integers', async () => {
    const spec: DynSpec = {
      op: 'ConvInteger', x: [1, 3, 6, 7], w: [4, 3, 3, 3], elem: 'uint8', wzp: [120, 3, 255, 131], attrs: { pads: [1, 0, 1, 2] }, bias: [1, 4, 1, 1],
    };
    const g = dynGraph(spec);
    const x = Float32Array.from(rand([126], 11).data);
    const m = await compileGraph(g);
    const got = (await m.run({ x: { data: x, shape: spec.x } })).y;
    m.dispose();
    // reference: quantize x as DynamicQuantizeLinear defines it, then a plain convolution
    const f = Math.fround;
    const lo = Math.min(0, ...x), hi = Math.max(0, ...x);
    const scale = f(f(hi - lo) / 255);
    const rhe = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
    const zp = rhe(Math.min(255, Math.max(0, f(-f(lo / scale)))));
    const xq = Array.from(x, (v) => Math.min(255, Math.max(0, rhe(f(v / scale)) + zp)));
    const W = g.intConstants.get('W')!.ints;
    const B = g.initializers.get('B')!.data;
    const [OH, OW] = [6 + 2 - 2, 7 + 2 - 2];
    expect(got.shape).toEqual([1, 4, OH, OW]);
    const sm = f(scale * 0.0123);
    for (let m2 = 0; m2 < 4; m2++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          for (let c = 0; c < 3; c++)
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++) {
                const iy = oy - 1 + ky, ix = ox + kx;
                if (iy < 0 || iy >= 6 || ix >= 7) continue;
                acc += (xq[(c * 6 + iy) * 7 + ix] - zp) * (W[((m2 * 3 + c) * 3 + ky) * 3 + kx] - spec.wzp[m2]);
              }
          expect(got.data[(m2 * OH + oy) * OW + ox]).toBe(f(f(acc * sm) + B[m2]));
        }
  });

  it('ConvInteger reading a QuantizeLinear step (a static int8 value) is refused by name', async () => {
    const g = dynGraph(CONV3X3);
    g.initializers.set('qs', { data: Float32Array.of(0.02), shape: [] });
    g.intConstants.set('qz', { ints: [128], shape: [], elem: 'uint8' });
    g.nodes[0] = { name: 'q', op: 'QuantizeLinear', inputs: ['x', 'qs', 'qz'], outputs: ['x_q'], attrs: {} };
    g.nodes[1].inputs[2] = 'qz';
    g.nodes[3].inputs[0] = 'qs';
    await expect(compileGraph(g)).rejects.toThrow(UnsupportedOpError);
    await expect(compileGraph(g)).rejects.toThrow(/ConvInteger.*x_q/);
  });
});

describe("zoo models in onnxruntime's quantize_dynamic form (test/dynamic-quant.ts)", () => {
  for (const [name, size] of [['mobilenet_v2', 96], ['resnet18', 64]] as const)
    it(`${name} at ${size}x${size}: every conv one _QDyn step, outputs equal onnxruntime-node's up to float summation order`, async () => {
      const f = await createModel(name, { weights: syntheticWeights(modelBuilder(name).weightShapes()), inputSize: size });
      const file = dynamicQuantized(exportOnnx(f));
      const shape = [1, 3, size, size];
      const x = Float32Array.from(rand(shape, 21).data);
      const m = await loadOnnx(file);
      const steps = m.profile({ [m.inputNames[0]]: { data: x, shape } }, { runs: 1 }).map((s) => s.op);
      const convs = f.layers.filter((l) => l.op === 'Conv').length;
      expect(steps.filter((o) => o === '_QDyn').length).toBe(convs);
      // resnet18's downsampling 1x1 convs read their block's input with its first 3x3: one DynamicQuantizeLinear for both
      const dqls = parseOnnx(file).graph.nodes.filter((n) => n.op === 'DynamicQuantizeLinear').length;
      if (name === 'resnet18') expect(dqls).toBe(convs - 3);
      expect(steps.filter((o) => o.includes('(host)'))).toEqual([]);
      const got = Object.values(await m.run({ [m.inputNames[0]]: { data: x, shape } }))[0].data;
      const s = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, logSeverityLevel: 3 });
      const want = (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) }))[s.outputNames[0]].data as Float32Array;
      const ref = Object.values(await f.run({ [f.inputNames[0]]: { data: x, shape } }))[0].data;
      let scale = 0, off = 0, noise = 0;
      for (let i = 0; i < want.length; i++) {
        scale = Math.max(scale, Math.abs(want[i]));
        off = Math.max(off, Math.abs(got[i] - want[i]));
        noise = Math.max(noise, Math.abs(ref[i] - want[i]));
      }
      // the integer parts are exact; only the float pooling and classifier sum in another order
      expect(off).toBeLessThan(1e-5 * scale + 1e-6);
      // and the quantized model is a quantization of the float one (not exact, not far)
      expect(noise).toBeGreaterThan(off);
      expect(noise).toBeLessThan(0.25 * scale);
      m.dispose();
      f.dispose();
    }, 60_000);
});
