// _QMul (issue 18 item 3: Mul among the QDQ ops recognised into int8 steps): DQ(a) · DQ(b) → Q
// with one operand broadcast into the other, in hand-built QDQ graphs whose second operand is
// computed from the first (a squeeze-excite gate from GlobalAveragePool + Sigmoid, a per-pixel
// map from ReduceMean over channels), so both are int8 activations. The plan must hold one
// _QMul step and no float Mul; the bytes are compared with onnxruntime-node on the same file
// (which fuses the pattern into its QLinearMul) and with the float reference quantized here.
// A pair of shapes neither of which broadcasts into the other is refused with a typed error.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { emptyGraph, type Graph } from '../src/graph/ir';
import { UnsupportedOpError } from '../src/index';
import { compileGraph } from '../src/model';
import { graphToOnnx } from '../src/onnx/writer';
import { rand } from './reference';

const f32 = Math.fround;
const SHAPE = [2, 19, 5, 7];

interface Q {
  scale: number;
  zp: number;
  signed: boolean;
}

/**
 * in → Q/DQ (x) → gate(x) → Q/DQ (g) → Mul(x, g) (or Mul(g, x)) → Q → DQ(scale 1, zp 0) → out, so
 * the output holds the bytes of the product. gate: 'se' (GlobalAveragePool → Sigmoid: [N, C, 1,
 * 1]), 'map' (ReduceMean over channels → Sigmoid: [N, 1, H, W]) or 'same' (Sigmoid: [N, C, H, W]).
 */
function mulGraph(gate: 'se' | 'map' | 'same', p: { x: Q; g: Q; y: Q }, gateFirst: boolean, shapeIn = SHAPE): Graph {
  const g = emptyGraph();
  g.opset = 13;
  const elem = p.x.signed ? 'int8' : 'uint8';
  const q = (name: string, v: Q) => {
    g.initializers.set(`${name}_s`, { data: Float32Array.of(v.scale), shape: [] });
    g.intConstants.set(`${name}_z`, { ints: [v.zp], shape: [], elem });
  };
  q('x', p.x);
  q('g', p.g);
  q('y', p.y);
  g.initializers.set('one', { data: Float32Array.of(1), shape: [] });
  g.intConstants.set('zero', { ints: [0], shape: [], elem });
  g.inputs = [{ name: 'in', shape: shapeIn }];
  const node = (op: string, inputs: string[], outputs: string[], attrs = {}) =>
    g.nodes.push({ name: `${op.toLowerCase()}_${g.nodes.length}`, op, inputs, outputs, attrs });
  node('QuantizeLinear', ['in', 'x_s', 'x_z'], ['x_q']);
  node('DequantizeLinear', ['x_q', 'x_s', 'x_z'], ['x']);
  if (gate === 'se') node('GlobalAveragePool', ['x'], ['pre']);
  else if (gate === 'map') node('ReduceMean', ['x'], ['pre'], { axes: [1], keepdims: 1 });
  else node('Identity', ['x'], ['pre']);
  node('Sigmoid', ['pre'], ['gate']);
  node('QuantizeLinear', ['gate', 'g_s', 'g_z'], ['g_q']);
  node('DequantizeLinear', ['g_q', 'g_s', 'g_z'], ['gd']);
  node('Mul', gateFirst ? ['gd', 'x'] : ['x', 'gd'], ['y']);
  node('QuantizeLinear', ['y', 'y_s', 'y_z'], ['y_q']);
  node('DequantizeLinear', ['y_q', 'one', 'zero'], ['out']);
  g.outputs = [{ name: 'out' }];
  return g;
}

const PARAMS: [string, { x: Q; g: Q; y: Q }][] = [
  ['uint8', { x: { scale: 0.017, zp: 121, signed: false }, g: { scale: 1 / 255, zp: 0, signed: false }, y: { scale: 0.011, zp: 118, signed: false } }],
  ['int8', { x: { scale: 0.016, zp: 3, signed: true }, g: { scale: 1 / 255, zp: -128, signed: true }, y: { scale: 0.0093, zp: -5, signed: true } }],
];

describe('_QMul: DQ(a) · DQ(b) → Q as one int8 step', () => {
  for (const gate of ['se', 'map', 'same'] as const)
    for (const [type, p] of PARAMS)
      it(`${gate === 'se' ? 'per-channel gate' : gate === 'map' ? 'per-pixel map' : 'same shape'}, ${type}: one _QMul, bytes equal onnxruntime's`, async () => {
        const x = Float32Array.from(rand(SHAPE, 7 + gate.length).data, (v) => 2 * v);
        for (const gateFirst of [false, true]) {
          const m = await compileGraph(mulGraph(gate, p, gateFirst));
          const steps = m.profile({ in: { data: x, shape: SHAPE } }, { runs: 1 }).map((s) => s.op);
          expect(steps.filter((o) => o === '_QMul').length).toBe(1);
          expect(steps).not.toContain('Mul');
          const got = (await m.run({ in: { data: x, shape: SHAPE } })).out.data;
          const s = await ort.InferenceSession.create(graphToOnnx(mulGraph(gate, p, gateFirst)), { intraOpNumThreads: 1, logSeverityLevel: 3 });
          const want = (await s.run({ in: new ort.Tensor('float32', x, SHAPE) }))[s.outputNames[0]].data as Float32Array;
          let off = 0, exact = 0;
          for (let i = 0; i < want.length; i++) {
            off = Math.max(off, Math.abs(want[i] - got[i]));
            if (want[i] === got[i]) exact++;
          }
          // the products spread over many output levels, and onnxruntime's QLinearMul gives the same bytes
          expect(new Set(Array.from(want)).size).toBeGreaterThan(40);
          expect(off).toBeLessThanOrEqual(1);
          expect(exact / want.length).toBeGreaterThanOrEqual(0.99);
          m.dispose();
        }
      });

  it('operands neither of which broadcasts into the other: UnsupportedOpError naming the node and shapes', async () => {
    // x [2, 19, 5, 7] times its channel-mean map [2, 1, 5, 7] works; [1, 19, 5, 1] against a map
    // of [1, 1, 5, 7] broadcasts both ways (the float op would give [1, 19, 5, 7])
    const g = mulGraph('map', PARAMS[0][1], false, [1, 19, 5, 1]);
    const map = g.nodes.find((n) => n.op === 'ReduceMean')!;
    // make the map's width 7: the gate's input is the mean of a separate [1, 1, 5, 7] input
    g.inputs.push({ name: 'in2', shape: [1, 1, 5, 7] });
    map.op = 'Identity';
    map.attrs = {};
    map.inputs = ['in2'];
    await expect(compileGraph(g)).rejects.toThrow(UnsupportedOpError);
    await expect(compileGraph(g)).rejects.toThrow(/\[1, 19, 5, 1\].*\[1, 1, 5, 7\]|\[1, 1, 5, 7\].*\[1, 19, 5, 1\]/);
  });
});
