// The zoo models the browser page (test/browser/page.html) and the Node/Deno/Bun check
// (test/runtimes/check.mjs) run on 1 and on 2 threads, so both cover the same split kernels:
// LeNet-5 (5x5 convs) at batch 8, MobileNetV2 (depthwise, pointwise, classifier GEMM) and
// ResNet-18 (Winograd 3x3 convs), each with kernel calls well above the size below which a call
// stays on one thread (MIN_PARALLEL_MACS in src/model.ts). Imports the built package as they do.
import { createModel, modelBuilder, syntheticInput, syntheticWeights } from '../dist/index.js';

const ZOO = [['lenet5', { batch: 8 }], ['mobilenet_v2', { inputSize: 128 }], ['resnet18', { inputSize: 32 }]].map(([name, o]) => [
  name,
  name === 'lenet5' ? o : { ...o, weights: syntheticWeights(modelBuilder(name, o).weightShapes()) },
]);

/** Runs every model once under the current init() and disposes it: { name: { threads, data } }. */
export async function runZoo() {
  const out = {};
  for (const [name, opts] of ZOO) {
    const m = await createModel(name, opts);
    const data = (await m.predict(syntheticInput(m.inputShapes[m.inputNames[0]]))).data;
    out[name] = { threads: m.threads, data: Array.from(data) };
    m.dispose();
  }
  return out;
}
