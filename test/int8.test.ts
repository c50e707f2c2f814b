// int8 inference (issue 18 item 3): quantized ONNX models in both forms (QOperator: QLinearConv,
// QLinearMatMul, QLinearAdd, QLinearGlobalAveragePool, MaxPool on int8; QDQ: Q/DQ around Conv, Gemm, Add, MaxPool,
// GlobalAveragePool; a PyTorch eager-quantized CNN) written by tools/int8_fixtures.py, run in
// wasmcnn and in onnxruntime-node on the same random input: every output element within one
// quantization step of onnxruntime's (the reference), most equal. The plan of a QDQ conv holds
// the fused int8 step, not Dequantize → Conv → Quantize; what is not fused runs as DQ → float →
// Q; weights the int8 GEMM cannot take are refused by name.
import { readdirSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { init, loadOnnx, ShapeError, UnsupportedOpError } from '../src/index';
import { parseOnnx } from '../src/onnx/reader';
import { graphToOnnx } from '../src/onnx/writer';

const DIR = new URL('./fixtures/int8/', import.meta.url);
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.onnx') && !f.startsWith('bad_')).sort();

/** Deterministic input in about [-2, 2] (xorshift). */
function input(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 4 - 2;
  }
  return out;
}

/** The scale of the DequantizeLinear writing the graph output: one quantization step of it. */
function outputStep(bytes: Uint8Array): number {
  const { graph } = parseOnnx(bytes);
  const out = graph.outputs[0].name;
  const dq = graph.nodes.find((n) => n.outputs[0] === out && n.op === 'DequantizeLinear')!;
  return graph.initializers.get(dq.inputs[1])!.data[0];
}

async function compare(file: string): Promise<{ maxSteps: number; exact: number; count: number; ops: string[]; distinct: number }> {
  const bytes = new Uint8Array(readFileSync(new URL(file, DIR)));
  const model = await loadOnnx(bytes);
  const shape = model.inputShapes[model.inputNames[0]];
  const x = input(shape.reduce((a, b) => a * b, 1), 1234 + file.length);
  const feeds = { [model.inputNames[0]]: { data: x, shape } };
  const got = (await model.run(feeds))[model.outputNames[0]].data;
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) });
  const want = r[s.outputNames[0]].data as Float32Array;
  expect(got.length).toBe(want.length);
  const step = outputStep(bytes);
  let maxSteps = 0, exact = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]) / step;
    maxSteps = Math.max(maxSteps, d);
    if (got[i] === want[i]) exact++;
  }
  const ops = model.profile(feeds, { runs: 1 }).map((p) => p.op);
  model.dispose();
  return { maxSteps, exact, count: want.length, ops, distinct: new Set(want).size };
}

describe('int8 models against onnxruntime-node', () => {
  it('has fixtures of both forms, both activation types and a PyTorch export', () => {
    expect(FILES.filter((f) => f.startsWith('qop_')).length).toBeGreaterThanOrEqual(12);
    expect(FILES.filter((f) => f.startsWith('qdq_')).length).toBeGreaterThanOrEqual(6);
    expect(FILES.some((f) => f.endsWith('_s8.onnx')) && FILES.some((f) => f.endsWith('_u8.onnx'))).toBe(true);
  });
  for (const f of FILES) {
    it(`${f}: every element within one step, nearly all equal`, async () => {
      const { maxSteps, exact, count, ops, distinct } = await compare(f);
      // the outputs spread over many quantization levels (not one saturated value)
      expect(distinct).toBeGreaterThanOrEqual(Math.min(8, count / 2));
      console.log(`${f}: max ${maxSteps.toFixed(3)} steps, ${exact}/${count} exact (${((100 * exact) / count).toFixed(1)}%); steps ${ops.join(' ')}`);
      expect(maxSteps).toBeLessThanOrEqual(1 + 1e-3);
      expect(exact / count).toBeGreaterThanOrEqual(0.9);
      // fused: no float conv, gemm, add or pooling runs between quantized tensors
      expect(ops.filter((o) => ['Conv', 'Gemm', 'MatMul', 'Add', 'GlobalAveragePool', 'MaxPool'].includes(o))).toEqual([]);
    });
  }
});

describe('int8 planning', () => {
  it('a QDQ conv + ReLU plans one fused _QConv step, not Dequantize → Conv → Quantize', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('qdq_conv3x3_relu_u8.onnx', DIR)));
    const model = await loadOnnx(bytes);
    const shape = model.inputShapes.x;
    const ops = model.profile({ x: { data: input(shape.reduce((a, b) => a * b, 1), 7), shape } }, { runs: 1 }).map((p) => p.op);
    expect(ops.filter((o) => o !== '_ToNHWC' && o !== '_ToPlain')).toEqual(['QuantizeLinear', '_QConv', 'DequantizeLinear']);
    // int8 activations take a byte each: the quantized input and the conv output
    expect([...model.graph.qtypes!.values()]).toEqual(['u8', 'u8']);
  });
  it('the PyTorch export fuses every conv and the classifier', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('torch_qnnpack_cnn.onnx', DIR)));
    const model = await loadOnnx(bytes);
    const shape = model.inputShapes.x;
    const ops = model.profile({ x: { data: input(shape.reduce((a, b) => a * b, 1), 9), shape } }, { runs: 1 }).map((p) => p.op);
    expect(ops.filter((o) => o === '_QConv').length).toBe(3);
    expect(ops).toContain('_QGemm');
    expect(ops).not.toContain('Conv');
  });
  it('a bias that is not one value per output channel is a ShapeError naming the node (QOperator and QDQ)', async () => {
    // a fuzzed file's longer bias reached the planner's Int32Array.set as a RangeError
    for (const [file, op, b] of [['qop_conv3x3_u8.onnx', 'QLinearConv', 8], ['qdq_conv3x3_relu_u8.onnx', 'Conv', 2]] as const) {
      const g = parseOnnx(new Uint8Array(readFileSync(new URL(file, DIR)))).graph;
      const n = g.nodes.find((x) => x.op === op)!;
      // the weight's constant (QDQ: behind its DequantizeLinear) gives the output channels
      const shapeOf = (name: string): number[] =>
        g.initializers.get(name)?.shape ?? g.intConstants.get(name)?.shape ?? shapeOf(g.nodes.find((x) => x.outputs[0] === name)!.inputs[0]);
      const OC = shapeOf(n.inputs[op === 'Conv' ? 1 : 3])[0];
      if (op === 'QLinearConv') {
        const ints = g.intConstants.get(n.inputs[b])!;
        g.intConstants.set(n.inputs[b], { ...ints, ints: [...ints.ints, 1], shape: [OC + 1] });
      } else {
        // a float bias on the QDQ conv (quantized at load), one value too many
        g.initializers.set('long_bias', { data: new Float32Array(OC + 1).fill(0.25), shape: [OC + 1] });
        n.inputs[b] = 'long_bias';
      }
      const err = await loadOnnx(graphToOnnx(g)).catch((e) => e);
      expect(err, file).toBeInstanceOf(ShapeError);
      expect(String(err.message)).toContain(`'${n.name}'`);
      expect(String(err.message)).toMatch(/bias of (\d+) values for (\d+) output channels/);
    }
  });
  it('weights whose zero point leaves int8 after shifting are refused, naming the node', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('bad_wzp.onnx', DIR)));
    const err = await loadOnnx(bytes).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect(String(err.message)).toMatch(/qlinearconv_\d+|QLinearConv/);
    expect(String(err.message)).toMatch(/zero point/);
  });
  it('on 2 threads and at new input shapes (dynamic plans), the int8 steps give the bytes of 1 thread', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('qdq_cnn_u8.onnx', DIR)));
    const wasm = readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url));
    const wasmThreads = readFileSync(new URL('../dist/wasmcnn-mt.wasm', import.meta.url));
    const opts = { dynamicAxes: { x: [0, 2, 3] } };
    try {
      await init({ wasm, threads: 1 });
      const one = await loadOnnx(bytes, opts);
      await init({ wasm, wasmThreads, threads: 2 });
      const two = await loadOnnx(bytes, opts);
      expect(two.threads).toBe(2);
      for (const shape of [[2, 3, 64, 64], [1, 3, 37, 53], [2, 3, 15, 13], [1, 3, 96, 80]]) {
        const x = { data: input(shape.reduce((a, b) => a * b, 1), shape[2]), shape };
        const a = (await one.run({ x }))[one.outputNames[0]];
        const b = (await two.run({ x }))[two.outputNames[0]];
        expect(a.shape).toEqual([shape[0], 10]);
        expect(b.data).toEqual(a.data);
      }
      one.dispose();
      two.dispose();
    } finally {
      await init({ wasm, threads: 1 });
    }
  });
  it('a dynamic int8 model packs its weights once: a new input shape plans without packing them again', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('qdq_cnn_u8.onnx', DIR)));
    const m = await loadOnnx(bytes, { dynamicAxes: { x: [0, 2, 3] } });
    const run = (shape: number[]) => m.run({ x: { data: input(shape.reduce((a, b) => a * b, 1), shape[2]), shape } });
    await run([1, 3, 64, 64]);
    const first = m.planStats()!;
    expect(first.packs).toBeGreaterThan(0);
    await run([1, 3, 96, 80]);
    const second = m.planStats()!;
    expect(second.plans).toBe(first.plans + 1);
    expect(second.packs).toBe(first.packs);
    m.dispose();
  });
});
