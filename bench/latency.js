// wasmcnn-only latency of zoo models (batch 1, one thread, synthetic weights): the numbers the
// issues' closing notes quote. Entries: `name`, `name:deploy` (RepVGG inference form),
// `name@512` (input size). Median of `runs` after 2 warm-up runs; models run one after another.
import { init, createModel, modelBuilder, syntheticWeights, syntheticInput } from '../dist/node.js';
import { median, now } from './wasm.js';

export const LATENCY_MODELS = [
  'resnet50', 'densenet121', 'vgg16', 'repvgg_a0', 'repvgg_a0:deploy', 'mobilenet_v2', 'mobilenet_v3_large',
  'efficientnet_b0', 'convnext_tiny', 'shufflenet_v2_x1_0', 'ghostnet_100', 'mobilenetv4_conv_small',
  'deeplabv3_mobilenet_v3_large@512',
];

function parse(entry) {
  const [left, size] = entry.split('@');
  const [name, flag] = left.split(':');
  const opts = {};
  if (flag === 'deploy') opts.deploy = true;
  if (size) opts.inputSize = Number(size);
  return { name, opts };
}

export async function benchLatency(entries, runs) {
  await init({ simd: 'baseline' });
  const rows = [];
  for (const entry of entries) {
    const { name, opts } = parse(entry);
    const m = await createModel(name, { ...opts, weights: syntheticWeights(modelBuilder(name, opts).weightShapes()) });
    const shape = m.inputShapes[m.inputNames[0]];
    const x = syntheticInput(shape);
    const feeds = { [m.inputNames[0]]: x };
    for (let i = 0; i < 2; i++) m.runSync(feeds);
    const ts = [];
    for (let i = 0; i < runs; i++) {
      const t = now();
      m.runSync(feeds);
      ts.push(now() - t);
    }
    rows.push({ entry, shape, ms: median(ts), best: Math.min(...ts) });
    m.dispose();
  }
  return rows;
}
