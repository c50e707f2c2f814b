// int8 against float32 (issue 18 item 3's targets: int8 time <= 0.6x wasmcnn's float32 and
// <= 0.5x onnxruntime-web's on the same QDQ file), the int8 section of bench/run.js: zoo models
// with synthetic weights, quantized by quantize() on synthetic calibration inputs and exported as
// QDQ ONNX; wasmcnn's int8 model (loadOnnx of that file), its float32 model and onnxruntime-web
// (wasm SIMD, 1 thread) on the same QDQ file, interleaved in one process; time to first result of
// both engines on the QDQ file; memoryBytes int8/float32 and weightBytes (its packed weights'
// part) int8/float32; how far wasmcnn's int8 output is from onnxruntime-web's in output
// quantization steps. (ResNet blocks alone: bench/int8-resnet.js.)
import * as ortWeb from 'onnxruntime-web';
import { init, loadOnnx, createModel, modelBuilder, syntheticWeights, syntheticInput, quantize, exportOnnx } from '../dist/node.js';
import { interleavedMedians, now } from './wasm.js';
import { setupOrtWeb, timeToFirstResult } from './models.js';

/** Models of the int8 section (the three). */
export const INT8_MODELS = ['mobilenet_v2', 'efficientnet_b0', 'resnet50'];

/**
 * One zoo model: float32 (synthetic weights) → quantize() (4 synthetic calibration inputs,
 * defaults: per-channel int8 weights, uint8 activations, minmax) → QDQ file. Returns medians of
 * `runs` interleaved rounds (int8, float32, ort-web on the QDQ file, and the relaxed build's int8
 * when `relaxed`), time to first result, memory and the int8 outputs' distance from onnxruntime-web.
 */
export async function benchInt8Model(name, { runs = 10, warmup = 2, relaxed = false } = {}) {
  await init({ simd: 'baseline' });
  const f = await createModel(name, { weights: syntheticWeights(modelBuilder(name).weightShapes()) });
  const inName = f.inputNames[0];
  const shape = f.inputShapes[inName];
  const calibration = [1, 2, 3, 4].map((seed) => ({ [inName]: syntheticInput(shape, `calibration${seed}`) }));
  const feeds = { [inName]: syntheticInput(shape, 'bench') };
  const tq = now();
  const quantized = await quantize(f, { calibration });
  const quantizeMs = now() - tq;
  const bytes = exportOnnx(quantized);
  quantized.dispose();
  const q = await loadOnnx(bytes);
  setupOrtWeb();
  const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const webFeeds = { [web.inputNames[0]]: new ortWeb.Tensor('float32', feeds[inName].data, shape) };
  const contenders = [
    { who: 'int8', run: async () => q.runSync(feeds) },
    { who: 'float32', run: async () => f.runSync(feeds) },
    { who: 'ort-web', run: () => web.run(webFeeds) },
  ];
  let qr;
  if (relaxed) {
    await init({ simd: 'relaxed' });
    qr = await loadOnnx(bytes);
    await init({ simd: 'baseline' });
    contenders.push({ who: 'int8-relaxed', run: async () => qr.runSync(feeds) });
  }
  // output agreement, in steps of the output's quantization (the last DequantizeLinear's scale)
  const ours = q.runSync(feeds)[q.outputNames[0]].data;
  const theirs = (await web.run(webFeeds))[web.outputNames[0]].data;
  const step = outputStep(q.sourceGraph);
  let maxSteps = 0;
  for (let i = 0; i < ours.length; i++) maxSteps = Math.max(maxSteps, Math.abs(ours[i] - theirs[i]) / step);
  const ms = await interleavedMedians(contenders, runs, warmup);
  const memory = { int8: q.memoryBytes, float32: f.memoryBytes };
  const weights = { int8: q.weightBytes, float32: f.weightBytes };
  q.dispose();
  qr?.dispose();
  f.dispose();
  await web.release();
  const ttfr = await timeToFirstResult(bytes, feeds, feeds[inName]);
  return { name, ms, ttfr, memory, weights, maxSteps, quantizeMs, fileMB: bytes.length / 1e6 };
}

/** The scale of the DequantizeLinear that makes the graph's first output (1 when there is none). */
function outputStep(g) {
  const out = g.outputs[0].name;
  const dq = g.nodes.find((n) => n.op === 'DequantizeLinear' && n.outputs.includes(out));
  const s = dq && g.initializers.get(dq.inputs[1]);
  return s ? s.data[0] : 1;
}

/** Section int8 of bench/run.js: one row per model (errors reported on the row). */
export async function benchInt8Models(names, { runs = 10, relaxed = false, log = console.log } = {}) {
  const pad = (s, n) => String(s).padEnd(n);
  const num = (x, d = 2) => (x === undefined ? '—' : x.toFixed(d));
  log(`\nint8 (quantize() of the zoo model, synthetic weights and calibration, QDQ export; uint8 activations, per-channel int8 weights), 1 thread each; median of ${runs} interleaved rounds`);
  // [header, decimals] per column
  const cols = [['int8 ms', 1], ['float32 ms', 1], ['ort-web ms', 1], ...(relaxed ? [['relaxed int8', 1]] : []), ['int8/f32', 2], ['int8/ort-web', 2],
    ['load', 0], ['first run', 0], ['ort total', 0], ['ttfr ratio', 2], ['mem int8/f32', 2], ['wmem int8/f32', 3], ['max steps', 2]];
  const width = cols.map(([c]) => Math.max(13, c.length + 1));
  log(`${pad('model', 18)}${cols.map(([c], i) => pad(c, width[i])).join('')}`);
  for (const name of names) {
    try {
      const r = await benchInt8Model(name, { runs, relaxed });
      const t = r.ttfr;
      const cells = [r.ms.int8, r.ms.float32, r.ms['ort-web'], ...(relaxed ? [r.ms['int8-relaxed']] : []), r.ms.int8 / r.ms.float32, r.ms.int8 / r.ms['ort-web'],
        t.load, t.first, t.webTotal, t.total / t.webTotal, r.memory.int8 / r.memory.float32, r.weights.int8 / r.weights.float32, r.maxSteps];
      log(`${pad(name, 18)}${cells.map((v, i) => pad(num(v, cols[i][1]), width[i])).join('')}`);
    } catch (e) {
      log(`${pad(name, 18)}error: ${String(e?.message ?? e).split('\n')[0]}`);
    }
  }
  log('targets (issue 18): int8/f32 <= 0.6, int8/ort-web <= 0.5; load + first run = wasmcnn loadOnnx + first run() of the QDQ file (ms, min of 3), ttfr ratio over ort-web create + first run; mem = memoryBytes, wmem = weightBytes (target <= 0.27); max steps = max |wasmcnn int8 - ort-web| over the output scale (target <= 1)');
}
