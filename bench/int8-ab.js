// Whole int8 models on two kernel builds, interleaved in one process: the A/B for a change of an
// int8 kernel and its packing. Each model is built as bench/int8.js builds it (zoo model with
// synthetic weights, quantize() on 4 synthetic calibration inputs, QDQ export) once, by build A's
// host; both builds load that same file (loadOnnx), 1 thread, baseline SIMD.
//   node bench/int8-ab.js /tmp/before/dist dist [mobilenet_v2,efficientnet_b0] [--runs 15] [--rounds 3]
// Prints per model each build's weightBytes over the float32 model's (bench/int8.js's wmem
// int8/f32), the minimum over `rounds` of the per-round median latency (`runs` interleaved runs
// a round), B/A, and whether the outputs are bit-identical. Each dist's own wasmcnn.wasm is used.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const pos = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const [distA, distB, list = 'mobilenet_v2,efficientnet_b0'] = pos;
if (!distA || !distB) {
  console.error('usage: node bench/int8-ab.js <distA> <distB> [model,model] [--runs N] [--rounds N]');
  process.exit(2);
}
const runs = opt('runs', 15), rounds = opt('rounds', 3);
const dists = [distA, distB].map((d) => resolve(d));
const libs = await Promise.all(dists.map((d) => import(pathToFileURL(resolve(d, 'node.js')).href)));
for (let i = 0; i < 2; i++) await libs[i].init({ simd: 'baseline', wasm: resolve(dists[i], 'wasmcnn.wasm') });
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

for (const name of list.split(',')) {
  const A = libs[0];
  const f = await A.createModel(name, { weights: A.syntheticWeights(A.modelBuilder(name).weightShapes()) });
  const inName = f.inputNames[0], shape = f.inputShapes[inName];
  const calibration = [1, 2, 3, 4].map((seed) => ({ [inName]: A.syntheticInput(shape, `calibration${seed}`) }));
  const feeds = { [inName]: A.syntheticInput(shape, 'bench') };
  const quantized = await A.quantize(f, { calibration });
  const bytes = A.exportOnnx(quantized);
  quantized.dispose();
  const f32Bytes = f.weightBytes;
  f.dispose();
  const models = [];
  for (const lib of libs) models.push(await lib.loadOnnx(bytes));
  for (const m of models) for (let i = 0; i < 2; i++) m.runSync(feeds);
  const best = [Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    const t = [[], []];
    for (let k = 0; k < runs; k++)
      for (let j = 0; j < 2; j++) {
        const i = (k + j) % 2;
        const s = performance.now();
        models[i].runSync(feeds);
        t[i].push(performance.now() - s);
      }
    for (let i = 0; i < 2; i++) best[i] = Math.min(best[i], med(t[i]));
  }
  const [ya, yb] = models.map((m) => Object.values(m.runSync(feeds))[0].data);
  const same = ya.length === yb.length && ya.every((v, i) => Object.is(v, yb[i]));
  const w = models.map((m) => m.weightBytes);
  console.log(`${name.padEnd(18)}wmem int8/f32 A ${(w[0] / f32Bytes).toFixed(3)} (${w[0]} B)  B ${(w[1] / f32Bytes).toFixed(3)} (${w[1]} B)  ` +
    `A ${best[0].toFixed(2)} ms  B ${best[1].toFixed(2)} ms  B/A ${(best[1] / best[0]).toFixed(3)}  outputs ${same ? 'bit-identical' : 'DIFFER'}`);
  for (const m of models) m.dispose();
}
process.exit(0);
