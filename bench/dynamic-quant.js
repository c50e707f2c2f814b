// Dynamically quantized models (onnxruntime's quantize_dynamic form: DynamicQuantizeLinear →
// ConvInteger → Cast → Mul → Add per conv, written by test/dynamic-quant.ts from the zoo model's
// float export with synthetic weights), part of bench/run.js's int8 section: wasmcnn (its _QDyn
// steps), wasmcnn's float32 model and onnxruntime-web on the same dynamic file, one thread each,
// interleaved in one process; the median of `runs` rounds, and how far wasmcnn's output is from
// onnxruntime-web's (relative to the output's largest magnitude).
import { tsImport } from 'tsx/esm/api';
import * as ortWeb from 'onnxruntime-web';
import { init, loadOnnx, createModel, modelBuilder, syntheticWeights, syntheticInput, exportOnnx } from '../dist/node.js';
import { interleavedMedians } from './wasm.js';
import { setupOrtWeb } from './models.js';

export async function benchDynamicModel(name, { runs = 10, warmup = 2 } = {}) {
  const { dynamicQuantized } = await tsImport('../test/dynamic-quant.ts', import.meta.url);
  await init({ simd: 'baseline' });
  const f = await createModel(name, { weights: syntheticWeights(modelBuilder(name).weightShapes()) });
  const inName = f.inputNames[0];
  const shape = f.inputShapes[inName];
  const feeds = { [inName]: syntheticInput(shape, 'bench') };
  const bytes = dynamicQuantized(exportOnnx(f));
  const q = await loadOnnx(bytes);
  setupOrtWeb();
  const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const webFeeds = { [web.inputNames[0]]: new ortWeb.Tensor('float32', feeds[inName].data, shape) };
  const ours = q.runSync(feeds)[q.outputNames[0]].data;
  const theirs = (await web.run(webFeeds))[web.outputNames[0]].data;
  let off = 0, big = 0;
  for (let i = 0; i < ours.length; i++) {
    off = Math.max(off, Math.abs(ours[i] - theirs[i]));
    big = Math.max(big, Math.abs(theirs[i]));
  }
  const contenders = [
    { who: 'dynamic', run: async () => q.runSync(feeds) },
    { who: 'float32', run: async () => f.runSync(feeds) },
    { who: 'ort-web', run: () => web.run(webFeeds) },
  ];
  const ms = await interleavedMedians(contenders, runs, warmup);
  q.dispose();
  f.dispose();
  await web.release();
  return { name, ms, relDiff: off / big };
}

export async function benchDynamicModels(names, { runs = 10, log = console.log } = {}) {
  const pad = (s, n) => String(s).padEnd(n);
  log(`\nint8, dynamic quantization (onnxruntime quantize_dynamic form of the zoo model: DynamicQuantizeLinear -> ConvInteger -> Cast -> Mul -> Add), 1 thread each; median of ${runs} interleaved rounds`);
  log(`${pad('model', 18)}${['dynamic ms', 'float32 ms', 'ort-web ms', 'dyn/f32', 'dyn/ort-web', 'max|diff|/max|y|'].map((c) => pad(c, 17)).join('')}`);
  for (const name of names) {
    try {
      const r = await benchDynamicModel(name, { runs });
      const cells = [r.ms.dynamic.toFixed(1), r.ms.float32.toFixed(1), r.ms['ort-web'].toFixed(1), (r.ms.dynamic / r.ms.float32).toFixed(2), (r.ms.dynamic / r.ms['ort-web']).toFixed(2), r.relDiff.toExponential(1)];
      log(`${pad(name, 18)}${cells.map((c) => pad(c, 17)).join('')}`);
    } catch (e) {
      log(`${pad(name, 18)}error: ${String(e?.message ?? e).split('\n')[0]}`);
    }
  }
}
