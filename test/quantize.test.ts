// quantize() (issue 18 item 3, post-training static quantization): LeNet-5 with its bundled
// weights calibrated on 200 MNIST training digits keeps its held-out accuracy (≤ 0.2 points lost on
// 1,000 digits); zoo models with synthetic weights keep SQNR ≥ 30 dB of their float logits on
// inputs from the calibration distribution; exportOnnx of the int8 model runs in onnxruntime-node
// (its QDQ transformer fuses the same QLinearConv / QLinearMatMul / QLinearAdd) with our int8
// outputs; the plan runs fused int8 steps; bad options throw ValueError naming the option.
// References: the float model (accuracy, SQNR) and onnxruntime (the int8 outputs); the histogram
// thresholds against values worked out by hand.
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel, exportOnnx, GraphBuilder, init, loadOnnx, modelBuilder, quantize, ValueError, type Model, type Tensor } from '../src/index';
import { parseOnnx } from '../src/onnx/reader';
import { loadMnistSplit } from '../src/data/mnist';
import { entropyThreshold, percentileThreshold } from '../src/quant/quantize';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));

/** Signal-to-quantization-noise ratio of b against a over all inputs, in dB. */
async function sqnr(f: Model, q: Model, xs: Tensor[]): Promise<number> {
  let sig = 0, noise = 0;
  for (const x of xs) {
    const a = (await f.predict(x)).data, b = (await q.predict(x)).data;
    for (let i = 0; i < a.length; i++) {
      sig += a[i] ** 2;
      noise += (a[i] - b[i]) ** 2;
    }
  }
  return 10 * Math.log10(sig / noise);
}

/** One quantization step of the output: the scale of the DequantizeLinear that writes it (through Identity). */
function outputStep(q: Model): number {
  const g = q.sourceGraph;
  let v = g.outputs[0].name;
  for (;;) {
    const p = g.nodes.find((n) => n.outputs.includes(v))!;
    if (p.op === 'DequantizeLinear') return g.initializers.get(p.inputs[1])!.data[0];
    v = p.inputs[0];
  }
}

/** Our int8 outputs against onnxruntime's run of exportOnnx(q): max difference in output steps, exact count. */
async function againstOrt(q: Model, xs: Tensor[]): Promise<{ steps: number; exact: number; count: number }> {
  const s = await ort.InferenceSession.create(exportOnnx(q), { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const step = outputStep(q);
  let steps = 0, exact = 0, count = 0;
  for (const x of xs) {
    const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
    const want = r[s.outputNames[0]].data as Float32Array;
    const got = (await q.predict(x)).data;
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      steps = Math.max(steps, Math.abs(got[i] - want[i]) / step);
      if (got[i] === want[i]) exact++;
      count++;
    }
  }
  return { steps, exact, count };
}

const ops = (m: Model, x: Tensor) => m.profile({ [m.inputNames[0]]: x }, { runs: 1 }).map((p) => p.op);
const FLOAT_OPS = ['Conv', 'Gemm', 'MatMul', 'Add', 'GlobalAveragePool', 'MaxPool', 'BatchNormalization'];

describe('quantize: LeNet-5 on MNIST', () => {
  const { train, heldOut } = loadMnistSplit();
  const digit = (d: { image: Float32Array }): Tensor => ({ data: d.image, shape: [1, 1, 32, 32] });
  const calibration = train.slice(0, 200).map(digit);
  const test = heldOut.slice(0, 1000);

  it('loses at most 0.2 points of held-out accuracy (minmax, percentile, entropy), onnxruntime agrees', async () => {
    const f = await createModel('lenet5');
    let floatOk = 0;
    const want = test.map((d) => d.label);
    const floatPred: number[] = [];
    for (const d of test) floatPred.push(argmax((await f.predict(digit(d))).data));
    floatOk = floatPred.filter((p, i) => p === want[i]).length;
    for (const method of ['minmax', 'percentile', 'entropy'] as const) {
      const q = await quantize(f, { calibration, method });
      let ok = 0;
      for (const d of test) if (argmax((await q.predict(digit(d))).data) === d.label) ok++;
      const drop = (100 * (floatOk - ok)) / test.length;
      console.log(`lenet5 ${method}: float ${(floatOk / 10).toFixed(1)}%, int8 ${(ok / 10).toFixed(1)}% (${drop.toFixed(1)} points lost)`);
      expect(drop).toBeLessThanOrEqual(0.2 + 1e-9);
      expect(ok).toBeGreaterThanOrEqual(970);
      const plan = ops(q, calibration[0]);
      expect(plan.filter((o) => o === '_QConv').length).toBe(2);
      expect(plan.filter((o) => o === '_QGemm').length).toBe(3);
      expect(plan.filter((o) => FLOAT_OPS.includes(o))).toEqual([]);
      if (method === 'minmax') {
        const r = await againstOrt(q, test.slice(0, 100).map(digit));
        console.log(`lenet5 int8 vs onnxruntime: max ${r.steps} steps, ${r.exact}/${r.count} exact`);
        expect(r.steps).toBeLessThanOrEqual(1 + 1e-3);
        expect(r.exact / r.count).toBeGreaterThanOrEqual(0.99);
      }
      q.dispose();
    }
    // a batch-dynamic int8 model: each sample's logits as the batch-1 model's, and its export
    // (the batch a symbolic dim) runs in onnxruntime at batch 3 with the same outputs
    const q1 = await quantize(f, { calibration });
    const qd = await quantize(f, { calibration, compile: { dynamicAxes: { input: [0] } } });
    const batch: Tensor = { data: new Float32Array(3 * 1024), shape: [3, 1, 32, 32] };
    test.slice(0, 3).forEach((d, i) => batch.data.set(d.image, i * 1024));
    const yb = (await qd.predict(batch)).data;
    for (let i = 0; i < 3; i++) expect(Array.from(yb.subarray(i * 10, i * 10 + 10))).toEqual(Array.from((await q1.predict(digit(test[i]))).data));
    const sd = await ort.InferenceSession.create(exportOnnx(qd), { intraOpNumThreads: 1, logSeverityLevel: 3 });
    const rd = await sd.run({ [sd.inputNames[0]]: new ort.Tensor('float32', batch.data, batch.shape) });
    expect(Array.from(rd[sd.outputNames[0]].data as Float32Array)).toEqual(Array.from(yb));
    // the export holds real 8-bit and int32 initializers, and loads back into the same int8 model
    const bytes = exportOnnx(q1);
    const types = parseOnnx(bytes).graph.intConstants;
    expect([...types.values()].some((t) => t.elem === 'int8')).toBe(true);
    expect([...types.values()].some((t) => t.elem === 'uint8')).toBe(true);
    const back = await loadOnnx(bytes);
    for (const d of test.slice(0, 20)) expect(Array.from((await back.predict(digit(d))).data)).toEqual(Array.from((await q1.predict(digit(d))).data));
    expect(exportOnnx(back).length).toBeGreaterThan(0);
    back.dispose();
    q1.dispose();
    qd.dispose();
    // the float model is left as it was
    expect(argmax((await f.predict(digit(test[0]))).data)).toBe(floatPred[0]);
    f.dispose();
  });
});

describe('quantize: zoo models (synthetic weights), SQNR of the logits', () => {
  // The target is 30 dB; an 8-bit uniform quantizer of a full-scale signal gives ~50 dB
  // per tensor, and the error of ~20-50 layers adds up. Inputs from the calibration distribution
  // (uniform [-1, 1), the synthetic input), 24 to calibrate, 12 others to measure.
  // Against onnxruntime, within one output step (the issue's bound). resnet18's residual Adds
  // once differed by a step (one element of 2048 where two separately rounded products and sums
  // land exactly on 54.5 but the FMAs onnxruntime's AVX2 QLinearAdd uses give 54.50002); _QAdd
  // now rounds each multiply-add once as that kernel does, and both models match exactly here.
  const cases: [string, Record<string, unknown>, number][] = [
    ['mobilenet_v2', { widthMultiplier: 0.35, inputSize: 32, numClasses: 10, batch: 1 }, 1],
    ['resnet18', { inputSize: 32, numClasses: 10, batch: 1 }, 1],
  ];
  for (const [name, opts, tolerance] of cases) {
    it(`${name}: SQNR ≥ 30 dB (per-channel, uint8, minmax); fused plan; onnxruntime runs the export (within ${tolerance} output step)`, async () => {
      const b = modelBuilder(name, opts);
      const f = await b.build(syntheticWeights(b.weightShapes()));
      const shape = f.inputShapes[f.inputNames[0]];
      const cal = Array.from({ length: 24 }, (_, i) => syntheticInput(shape, `calibration${i}`));
      const xs = Array.from({ length: 12 }, (_, i) => syntheticInput(shape, `measure${i}`));
      const q = await quantize(f, { calibration: cal });
      const db = await sqnr(f, q, xs);
      const plan = ops(q, xs[0]);
      console.log(`${name} minmax: SQNR ${db.toFixed(1)} dB; ${plan.filter((o) => o === '_QConv').length} _QConv, ${plan.filter((o) => o === '_QAdd').length} _QAdd, ${q.graph.nodes.filter((n) => n.attrs._post === 'add').length} adds fused into convs`);
      expect(db).toBeGreaterThanOrEqual(30);
      expect(plan.filter((o) => o === '_QConv').length).toBe(f.sourceGraph.nodes.filter((n) => n.op === 'Conv').length);
      // every residual Add runs in int8: as a _QAdd step or fused into the conv that makes one operand
      const adds = f.sourceGraph.nodes.filter((n) => n.op === 'Add').length;
      expect(adds).toBeGreaterThan(0);
      expect(plan.filter((o) => o === '_QAdd').length + q.graph.nodes.filter((n) => n.attrs._post === 'add').length).toBe(adds);
      expect(plan).toContain('_QGap');
      expect(plan.filter((o) => FLOAT_OPS.includes(o))).toEqual([]);
      const r = await againstOrt(q, xs.slice(0, 4));
      console.log(`${name} int8 vs onnxruntime: max ${r.steps} steps, ${r.exact}/${r.count} exact`);
      expect(r.steps).toBeLessThanOrEqual(tolerance + 1e-3);
      expect(r.exact / r.count).toBeGreaterThanOrEqual(tolerance === 1 ? 0.9 : 0.75);
      q.dispose();
      f.dispose();
    });
  }

  it('mobilenet_v2: the other methods and settings (SQNR printed; int8 activations and per-tensor weights run in onnxruntime too)', async () => {
    const [name, opts] = cases[0];
    const b = modelBuilder(name, opts);
    const f = await b.build(syntheticWeights(b.weightShapes()));
    const shape = f.inputShapes[f.inputNames[0]];
    const cal = Array.from({ length: 24 }, (_, i) => syntheticInput(shape, `calibration${i}`));
    const xs = Array.from({ length: 12 }, (_, i) => syntheticInput(shape, `measure${i}`));
    const settings = [
      { method: 'percentile' as const, min: 30 },
      // KL-optimal clipping trades the MSE SQNR measures for resolution of the bulk
      { method: 'entropy' as const, min: 15 },
      { activations: 'int8' as const, min: 30 },
      { activations: 'int8' as const, symmetric: true, min: 25 },
      // (synthetic weights share one bound per tensor: per-channel scales gain little here)
      { perChannel: false, min: 30 },
    ];
    for (const { min, ...s } of settings) {
      const q = await quantize(f, { calibration: cal, ...s });
      const db = await sqnr(f, q, xs);
      console.log(`${name} ${JSON.stringify(s)}: SQNR ${db.toFixed(1)} dB`);
      expect(db).toBeGreaterThanOrEqual(min);
      const weightScales = q.sourceGraph.nodes
        .filter((n) => n.op === 'DequantizeLinear' && q.sourceGraph.intConstants.get(n.inputs[0])?.elem === 'int8' && n.inputs[2])
        .map((n) => q.sourceGraph.initializers.get(n.inputs[1])!.data.length);
      expect(weightScales.length).toBe(53);
      if (s.perChannel === false) expect(weightScales.every((l) => l === 1)).toBe(true);
      else expect(weightScales.some((l) => l > 1)).toBe(true);
      if (s.activations || s.perChannel === false) {
        const r = await againstOrt(q, xs.slice(0, 2));
        console.log(`  vs onnxruntime: max ${r.steps} steps, ${r.exact}/${r.count} exact`);
        expect(r.steps).toBeLessThanOrEqual(1 + 1e-3);
      }
      q.dispose();
    }
    f.dispose();
  });
});

describe('quantize: 3x3 stride-1 convs (exact integer Winograd, assembly/qwinograd.ts)', () => {
  // Dense 3x3 stride-1 convs run qwino_q8 (src/quant/ops.ts); its bytes must equal onnxruntime's
  // QLinearConv (im2col-free, so nothing of qgemm_q8 is shared but the epilogue). Odd spatial
  // sizes (partial 2x2 tiles), pads 1, 0 and one-sided, channels not multiples of 2/8/16, a
  // 40-channel layer over many tile blocks, both activation types, both weight scale kinds.
  it('onnxruntime gives the same bytes on every element (uint8 / int8, per-channel / per-tensor)', async () => {
    const b = new GraphBuilder();
    let x = b.input('x', [1, 3, 23, 19]);
    x = b.relu(b.conv(x, 'c1', { out: 13, kernel: 3, pad: 1 }));
    x = b.relu(b.conv(x, 'c2', { out: 40, kernel: 3, pad: [1, 0, 0, 1] }));
    x = b.conv(x, 'c3', { out: 21, kernel: 3, pad: 0 });
    x = b.relu(b.conv(x, 'c4', { out: 7, kernel: 3, pad: [0, 1, 1, 0] }));
    b.output(x, 'y');
    const f = await b.build(syntheticWeights(b.weightShapes()));
    const shape = f.inputShapes.x;
    const cal = Array.from({ length: 6 }, (_, i) => syntheticInput(shape, `calibration${i}`));
    const xs = Array.from({ length: 3 }, (_, i) => syntheticInput(shape, `measure${i}`));
    for (const s of [{}, { activations: 'int8' as const }, { perChannel: false }, { activations: 'int8' as const, perChannel: false }]) {
      const q = await quantize(f, { calibration: cal, ...s });
      expect(ops(q, xs[0]).filter((o) => o === '_QConv').length).toBe(4);
      const r = await againstOrt(q, xs);
      console.log(`3x3 stride-1 ${JSON.stringify(s)} vs onnxruntime: max ${r.steps} steps, ${r.exact}/${r.count} exact`);
      expect(r.exact).toBe(r.count);
      q.dispose();
    }
    f.dispose();
  });
  it('on 2 threads (bands of tile blocks, output panels or rows) the same bytes as on 1', async () => {
    const wasm = readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url));
    const wasmThreads = readFileSync(new URL('../dist/wasmcnn-mt.wasm', import.meta.url));
    const make = async () => {
      const b = new GraphBuilder();
      // 2 x 7 x 6 tiles: c1 (2 panels) splits its 2 tile blocks, c2 (4 panels) its panels; dw
      // (qdwconv_q8, 171600 MACs: split) its output rows, each part widening the weights into its scratch
      let x = b.input('x', [2, 5, 13, 11]);
      x = b.relu(b.conv(x, 'c1', { out: 24, kernel: 3, pad: 1 }));
      x = b.relu(b.conv(x, 'dw', { out: 24, kernel: 5, pad: 2, groups: 24 }));
      x = b.conv(x, 'c2', { out: 56, kernel: 3, pad: 1 });
      b.output(b.conv(x, 'c3', { out: 9, kernel: 3, pad: [0, 1, 1, 1] }), 'y');
      const f = await b.build(syntheticWeights(b.weightShapes()));
      const cal = [0, 1, 2].map((i) => syntheticInput(f.inputShapes.x, `calibration${i}`));
      return quantize(f, { calibration: cal });
    };
    try {
      await init({ wasm, threads: 1 });
      const one = await make();
      await init({ wasm, wasmThreads, threads: 2 });
      const two = await make();
      expect(two.threads).toBe(2);
      for (let i = 0; i < 3; i++) {
        const x = syntheticInput(one.inputShapes.x, `measure${i}`);
        expect(Array.from((await two.predict(x)).data)).toEqual(Array.from((await one.predict(x)).data));
      }
      one.dispose();
      two.dispose();
    } finally {
      await init({ wasm, threads: 1 });
    }
  });
});

describe('quantize: calibration thresholds', () => {
  it('percentile: the bin edge below which p% of the mass lies', () => {
    const h = new Float64Array(2048).fill(1);
    expect(percentileThreshold(h, 8, 50)).toBeCloseTo(4, 12);
    expect(percentileThreshold(h, 8, 100)).toBe(8);
    h.fill(0);
    h[99] = 999;
    h[2047] = 1;
    // 99.9% of the mass is in bin 99: its upper edge
    expect(percentileThreshold(h, 2048, 99.9)).toBe(100);
  });

  it('entropy: a histogram that 256 levels represent exactly keeps its support', () => {
    // mass only in the first 256 bins, unequal: at 256 bins Q = P (KL 0); any wider threshold
    // merges unequal neighbours (KL > 0)
    const h = new Float64Array(2048);
    for (let k = 0; k < 256; k++) h[k] = 1 + (k % 7);
    expect(entropyThreshold(h, 2048, 256)).toBe(256);
    // a long thin tail beyond: still clipped near the bulk, well below the maximum
    for (let k = 256; k < 2048; k += 64) h[k] = 1;
    const t = entropyThreshold(h, 2048, 128);
    expect(t).toBeGreaterThanOrEqual(128);
    expect(t).toBeLessThan(2048);
  });
});

describe('quantize: options', () => {
  it('throws ValueError naming the option', async () => {
    const f = await createModel('lenet5');
    const x: Tensor = { data: new Float32Array(1024), shape: [1, 1, 32, 32] };
    await expect(quantize(f, { calibration: [] })).rejects.toThrow(ValueError);
    await expect(quantize(f, { calibration: [] })).rejects.toThrow(/calibration/);
    await expect(quantize(f, { calibration: (function* () {})() })).rejects.toThrow(/calibration is empty/);
    await expect(quantize(f, { calibration: 5 as never })).rejects.toThrow(/calibration/);
    await expect(quantize(f, { calibration: [x], method: 'kl' as never })).rejects.toThrow(/options\.method/);
    await expect(quantize(f, { calibration: [x], activations: 'int4' as never })).rejects.toThrow(/options\.activations/);
    await expect(quantize(f, { calibration: [x], percentile: 0 })).rejects.toThrow(/options\.percentile/);
    await expect(quantize(f, { calibration: [x], perChannel: 'yes' as never })).rejects.toThrow(/options\.perChannel/);
    await expect(quantize(f, { calibration: [x], symmetric: true })).rejects.toThrow(/options\.symmetric/);
    const q = await quantize(f, { calibration: [x, x] });
    await expect(quantize(q, { calibration: [x] })).rejects.toThrow(/already quantized/);
    q.dispose();
    f.dispose();
  });
});
