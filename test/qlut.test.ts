// int8 activations as byte tables (_QLut): DequantizeLinear → an elementwise float op → QuantizeLinear
// maps each of the 256 input bytes to one output byte, and the int8 plan runs it as one lookup.
// References, element by element over all 256 input bytes, both activation types: the float op
// as wasmcnn's float engine computes it on the dequantized values, quantized by the ONNX rule
// written out here (f32 division, clamp, round half to even, + zero point): equal; onnxruntime-node
// running the same QDQ graph: within one step. And quantize() of an EfficientNet (SiLU after every
// conv, a Sigmoid gate in each squeeze-excitation) plans no float activation.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { emptyGraph, type Graph, type Node } from '../src/graph/ir';
import { exportOnnx, modelBuilder, quantize } from '../src/index';
import { compileGraph } from '../src/model';
import { graphToOnnx } from '../src/onnx/writer';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

const f32 = Math.fround;

interface Q {
  scale: number;
  zp: number;
  signed: boolean;
}

/** ONNX QuantizeLinear of one f32 value, written from the spec (saturate(roundHalfEven(x / scale) + zp)). */
function quantizeRef(v: number, p: Q): number {
  const [tmin, tmax] = p.signed ? [-128, 127] : [0, 255];
  const d = f32(v / f32(p.scale));
  if (Number.isNaN(d)) return tmin;
  const fl = Math.floor(d), frac = d - fl;
  const r = frac > 0.5 || (frac === 0.5 && fl % 2 !== 0) ? fl + 1 : fl;
  return Math.min(tmax, Math.max(tmin, r + p.zp));
}

/** The float op(s) of a case: nodes from 'x' to 'y' (one op, or a gate times x as PyTorch exports SiLU). */
type Body = (node: (op: string, inputs: string[], outputs: string[], attrs?: Node['attrs']) => void, g: Graph) => void;

const CASES: [string, Body, number][] = [
  // name, the float body, opset (Gelu is opset 20)
  ['Sigmoid', (node) => node('Sigmoid', ['x'], ['y']), 13],
  ['Tanh', (node) => node('Tanh', ['x'], ['y']), 13],
  ['HardSigmoid', (node) => node('HardSigmoid', ['x'], ['y'], { alpha: 0.25, beta: 0.4 }), 13],
  ['HardSwish', (node) => node('HardSwish', ['x'], ['y']), 14],
  ['LeakyRelu', (node) => node('LeakyRelu', ['x'], ['y'], { alpha: 0.1 }), 13],
  ['Elu', (node) => node('Elu', ['x'], ['y'], { alpha: 0.7 }), 13],
  ['Softplus', (node) => node('Softplus', ['x'], ['y']), 13],
  ['Gelu', (node) => node('Gelu', ['x'], ['y']), 20],
  ['Gelu tanh', (node) => node('Gelu', ['x'], ['y'], { approximate: 'tanh' }), 20],
  ['Relu', (node) => node('Relu', ['x'], ['y']), 13],
  [
    'Clip',
    (node, g) => {
      g.initializers.set('lo', { data: Float32Array.of(-0.75), shape: [] });
      g.initializers.set('hi', { data: Float32Array.of(1.5), shape: [] });
      node('Clip', ['x', 'lo', 'hi'], ['y']);
    },
    13,
  ],
  [
    'SiLU as x·Sigmoid(x)',
    (node) => {
      node('Sigmoid', ['x'], ['s']);
      node('Mul', ['x', 's'], ['y']);
    },
    13,
  ],
  [
    'HardSwish as HardSigmoid(x; 1/6, 1/2)·x',
    (node) => {
      node('HardSigmoid', ['x'], ['s'], { alpha: 1 / 6, beta: 0.5 });
      node('Mul', ['s', 'x'], ['y']);
    },
    13,
  ],
  ['Tanh then Relu (a clamp in the table)', (node) => {
    node('Tanh', ['x'], ['t']);
    node('Relu', ['t'], ['y']);
  }, 13],
];

/** The float graph: input 'x' [1, 16, 4, 4] through the body to 'y'. */
function floatGraph(body: Body, opset: number): Graph {
  const g = emptyGraph();
  g.opset = opset;
  g.inputs = [{ name: 'x', shape: [1, 16, 4, 4] }];
  const node = (op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}) =>
    g.nodes.push({ name: `${op.toLowerCase()}_${g.nodes.length}`, op, inputs, outputs, attrs });
  body(node, g);
  g.outputs = [{ name: 'y' }];
  return g;
}

/**
 * The QDQ graph: in → Q(xp) → DQ → body → Q(yp) → DQ(scale 1, zero point 0) → out, so the output
 * holds the integer values of the quantized result.
 */
function qdqGraph(body: Body, opset: number, xp: Q, yp: Q): Graph {
  const g = floatGraph(body, opset);
  const elem = xp.signed ? 'int8' : 'uint8';
  g.initializers.set('xs', { data: Float32Array.of(xp.scale), shape: [] });
  g.intConstants.set('xz', { ints: [xp.zp], shape: [], elem });
  g.initializers.set('ys', { data: Float32Array.of(yp.scale), shape: [] });
  g.intConstants.set('yz', { ints: [yp.zp], shape: [], elem });
  g.initializers.set('one', { data: Float32Array.of(1), shape: [] });
  g.intConstants.set('zero', { ints: [0], shape: [], elem });
  g.inputs = [{ name: 'in', shape: [1, 16, 4, 4] }];
  g.nodes.unshift(
    { name: 'q_in', op: 'QuantizeLinear', inputs: ['in', 'xs', 'xz'], outputs: ['x_q'], attrs: {} },
    { name: 'dq_in', op: 'DequantizeLinear', inputs: ['x_q', 'xs', 'xz'], outputs: ['x'], attrs: {} },
  );
  g.nodes.push(
    { name: 'q_out', op: 'QuantizeLinear', inputs: ['y', 'ys', 'yz'], outputs: ['y_q'], attrs: {} },
    { name: 'dq_out', op: 'DequantizeLinear', inputs: ['y_q', 'one', 'zero'], outputs: ['out'], attrs: {} },
  );
  g.outputs = [{ name: 'out' }];
  return g;
}

const PARAMS: [string, Q, Q][] = [
  ['uint8', { scale: 0.03, zp: 137, signed: false }, { scale: 0.017, zp: 61, signed: false }],
  ['int8', { scale: 0.025, zp: -9, signed: true }, { scale: 0.014, zp: -70, signed: true }],
];

describe('_QLut: DQ → activation → Q as a byte table', () => {
  for (const [name, body, opset] of CASES)
    for (const [type, xp, yp] of PARAMS)
      it(`${name}, ${type}: all 256 bytes as DQ → float op → Q (equal), onnxruntime within one step`, async () => {
        // the 256 byte values b, fed as their dequantized floats (ONNX DequantizeLinear: the f32
        // product (b − zp)·scale, the scale an f32 too): Q gives b back
        const bytes = Array.from({ length: 256 }, (_, i) => (xp.signed ? i - 128 : i));
        const deq = Float32Array.from(bytes, (b) => f32((b - xp.zp) * f32(xp.scale)));
        const q = await compileGraph(qdqGraph(body, opset, xp, yp));
        const steps = q.profile({ in: { data: deq, shape: [1, 16, 4, 4] } }, { runs: 1 }).map((p) => p.op);
        expect(steps).toContain('_QLut');
        expect(steps.filter((o) => !['QuantizeLinear', 'DequantizeLinear', '_QLut', '_ToNHWC', '_ToPlain'].includes(o))).toEqual([]);
        const got = (await q.run({ in: { data: deq, shape: [1, 16, 4, 4] } })).out.data;
        // reference: the float op on the dequantized values (wasmcnn's float engine), quantized here
        const fm = await compileGraph(floatGraph(body, opset));
        const fy = (await fm.run({ x: { data: deq, shape: [1, 16, 4, 4] } })).y.data;
        const want = Array.from(fy, (v) => quantizeRef(v, yp));
        expect(Array.from(got)).toEqual(want);
        // the outputs spread over many levels (the parameters exercise the table, not one saturated value)
        expect(new Set(want).size).toBeGreaterThan(40);
        // onnxruntime (its own float op and QuantizeLinear) within one step
        const s = await ort.InferenceSession.create(graphToOnnx(qdqGraph(body, opset, xp, yp)), { intraOpNumThreads: 1, logSeverityLevel: 3 });
        const r = await s.run({ in: new ort.Tensor('float32', deq, [1, 16, 4, 4]) });
        const ortY = r[s.outputNames[0]].data as Float32Array;
        let off = 0;
        for (let i = 0; i < 256; i++) off = Math.max(off, Math.abs(ortY[i] - got[i]));
        expect(off).toBeLessThanOrEqual(1);
        q.dispose();
        fm.dispose();
      });

  it('quantize(): an EfficientNet plans no float activation (SiLU, the gates: all tables) and no float multiply (the squeeze-excite scaling: _QMul); onnxruntime runs the export to the same values', async () => {
    const b = modelBuilder('efficientnet_b0', { widthMultiplier: 0.35, inputSize: 32, numClasses: 10, batch: 1 });
    const f = await b.build(syntheticWeights(b.weightShapes()));
    const shape = f.inputShapes[f.inputNames[0]];
    const cal = Array.from({ length: 8 }, (_, i) => syntheticInput(shape, `calibration${i}`));
    const xs = Array.from({ length: 3 }, (_, i) => syntheticInput(shape, `measure${i}`));
    const acts = f.sourceGraph.nodes.filter((n) => n.op === 'Silu' || n.op === 'Sigmoid').length;
    for (const activations of ['uint8', 'int8'] as const) {
      const q = await quantize(f, { calibration: cal, activations });
      const steps = q.profile({ [q.inputNames[0]]: xs[0] }, { runs: 1 }).map((p) => p.op);
      expect(steps.filter((o) => ['Silu', 'Sigmoid', 'HardSwish', 'Tanh'].includes(o))).toEqual([]);
      expect(steps.filter((o) => o === '_QLut').length).toBe(acts);
      // each block's x · gate (per-channel broadcast) is one int8 step, not DQ → Mul → Q
      const gates = f.sourceGraph.nodes.filter((n) => n.op === 'Mul').length;
      expect(gates).toBeGreaterThan(0);
      // float steps left: the input's QuantizeLinear and the logits' DequantizeLinear, each with the
      // one of the flatten between the pooled features and the classifier (a reshape of NHWC bytes)
      expect(steps.filter((o) => o === 'Mul')).toEqual([]);
      expect(steps.filter((o) => o === 'QuantizeLinear' || o === 'DequantizeLinear').length).toBe(4);
      expect(steps.filter((o) => o === '_QMul').length).toBe(gates);
      const s = await ort.InferenceSession.create(exportOnnx(q), { intraOpNumThreads: 1, logSeverityLevel: 3 });
      // one step of the output: the scale of the DequantizeLinear writing it (through Identity)
      const g = q.sourceGraph;
      let v = g.outputs[0].name, step = 0;
      for (let p = g.nodes.find((n) => n.outputs.includes(v)); p; p = g.nodes.find((n) => n.outputs.includes(v))) {
        if (p.op === 'DequantizeLinear') {
          step = g.initializers.get(p.inputs[1])!.data[0];
          break;
        }
        v = p.inputs[0];
      }
      expect(step).toBeGreaterThan(0);
      let off = 0, exact = 0, count = 0;
      for (const x of xs) {
        const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
        const want = r[s.outputNames[0]].data as Float32Array, got = (await q.predict(x)).data;
        for (let i = 0; i < want.length; i++) {
          off = Math.max(off, Math.abs(got[i] - want[i]) / step);
          if (got[i] === want[i]) exact++;
          count++;
        }
      }
      console.log(`efficientnet_b0 ${activations}: ${steps.filter((o) => o === '_QLut').length} tables; vs onnxruntime max ${off} steps, ${exact}/${count} exact`);
      expect(off).toBeLessThanOrEqual(1 + 1e-3);
      expect(exact / count).toBeGreaterThanOrEqual(0.9);
      q.dispose();
    }
    f.dispose();
  });
});
