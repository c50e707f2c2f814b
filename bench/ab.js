// A/B of two builds of wasmcnn on whole models, interleaved in one process: the way to measure a
// kernel or planning change on this noisy shared machine. Build the "before" tree elsewhere
// (e.g. `git worktree add /tmp/before HEAD~1 && cd /tmp/before && npm ci && npm run build`), then
//   node bench/ab.js /tmp/before/dist dist resnet50,mobilenet_v2 [--threads 2] [--runs 25]
// prints each model's median latency under A and B, B/A, and the max |difference| of the outputs.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { randomFloats } from './wasm.js';

const [distA, distB, list = 'resnet50,mobilenet_v2'] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
if (!distA || !distB) {
  console.error('usage: node bench/ab.js <distA> <distB> [model,model] [--threads N] [--runs N]');
  process.exit(2);
}
const threads = opt('threads', 1), runs = opt('runs', 25);
const load = (d) => import(pathToFileURL(resolve(d, 'index.js')).href);
const libs = [await load(distA), await load(distB)];
for (const lib of libs) await lib.init({ simd: 'baseline', threads });

for (const name of list.split(',')) {
  const ms = [];
  for (const lib of libs) {
    const m = await lib.createModel(name, { weights: lib.syntheticWeights(lib.modelBuilder(name).weightShapes()) });
    const inName = m.inputNames[0], shape = m.inputShapes[inName];
    ms.push({ m, feeds: { [inName]: { data: randomFloats(shape.reduce((a, b) => a * b, 1), 5), shape } } });
  }
  for (const { m, feeds } of ms) for (let i = 0; i < 2; i++) m.runSync(feeds);
  const t = [[], []];
  // With threads, each build has its own pool, whose workers spin for 2 ms after a job (SPIN_MS,
  // src/runtime/threads.ts) and would take a core from the other build's run: each round runs
  // a build 4 times in a row and keeps the last 3 (by then the other pool's workers sleep).
  const reps = threads > 1 ? 4 : 1;
  for (let r = 0; r < runs; r++)
    for (let j = 0; j < 2; j++) {
      const { m, feeds } = ms[(r + j) % 2];
      for (let i = 0; i < reps; i++) {
        const s = performance.now();
        m.runSync(feeds);
        if (i > 0 || reps === 1) t[(r + j) % 2].push(performance.now() - s);
      }
    }
  const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  const [ya, yb] = ms.map(({ m, feeds }) => Object.values(m.runSync(feeds))[0].data);
  let d = 0;
  for (let i = 0; i < ya.length; i++) d = Math.max(d, Math.abs(ya[i] - yb[i]));
  console.log(`${name.padEnd(24)}A ${med(t[0]).toFixed(2)} ms  B ${med(t[1]).toFixed(2)} ms  B/A ${(med(t[1]) / med(t[0])).toFixed(3)}  max|diff| ${d.toExponential(1)}`);
  for (const { m } of ms) m.dispose();
}
process.exit(0);
