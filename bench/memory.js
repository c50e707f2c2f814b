// Memory while loading and running a model (wasmcnn alone), one child process per model so
// each starts clean: the weights handed to createModel (synthetic, as a state_dict map), how
// much the process's peak RSS and the V8 heap grow while createModel runs, the model's wasm
// memory, and whether a run grows anything. The wasm memory (packed weights, activation arena,
// scratch: all a run touches) over weights + the two largest activations is the issue's
// peak-memory ratio (target <= 1.3).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MEMORY_MODELS = ['resnet50', 'densenet121', 'vgg16', 'mobilenet_v2', 'convnext_tiny'];

const CHILD = `
import { createModel, modelBuilder, syntheticWeights, syntheticInput } from '../dist/node.js';
const name = process.argv[1];
const w = syntheticWeights(modelBuilder(name).weightShapes());
let bytes = 0;
for (const t of w.values()) bytes += t.data.byteLength;
globalThis.gc();
const before = process.memoryUsage();
const peak0 = process.resourceUsage().maxRSS * 1024;
const m = await createModel(name, { weights: w });
const peak1 = process.resourceUsage().maxRSS * 1024;
globalThis.gc();
const after = process.memoryUsage();
const wasm = m.memoryBytes;
const x = syntheticInput(m.inputShapes[m.inputNames[0]]);
m.runSync({ [m.inputNames[0]]: x });
const peak2 = process.resourceUsage().maxRSS * 1024;
// the issue's yardstick: weights plus the two largest activations (layer outputs)
const acts = m.layerInfo().map((l) => 4 * l.outputShape.reduce((a, b) => a * b, 1)).sort((a, b) => b - a);
const floor = bytes + (acts[0] ?? 0) + (acts[1] ?? 0);
console.log(JSON.stringify({ name, bytes, floor, rssGrowth: peak1 - Math.max(peak0, before.rss), heapGrowth: after.heapUsed - before.heapUsed, wasm, wasmAfterRun: m.memoryBytes, runRssGrowth: peak2 - peak1 }));
`;

export function benchMemory(models) {
  const cwd = fileURLToPath(new URL('.', import.meta.url));
  return models.map((name) =>
    JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD, name], { cwd, encoding: 'utf8' }).trim()),
  );
}
