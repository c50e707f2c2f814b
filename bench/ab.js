// A/B of two builds of wasmcnn on whole models, interleaved in one process: the way to measure a
// kernel or planning change on this noisy shared machine. Build the "before" tree elsewhere
// (e.g. `git worktree add /tmp/before HEAD~1 && cd /tmp/before && npm ci && npm run build`), then
//   node bench/ab.js /tmp/before/dist dist resnet50,mobilenet_v2 [--threads 2] [--runs 25] [--rounds 1] [--int8] [--steps]
// prints each model's latency under A and B (the minimum over `rounds` of each round's median of
// `runs` interleaved runs), B/A, and the max |difference| of the outputs (0: bit-identical).
// --int8: the model as bench/int8.js builds it (synthetic weights, quantize() on 4 synthetic
// calibration inputs, QDQ export, by build A's host), the same file loaded by both builds, and
// each build's weightBytes over the float32 model's (the int8 section's wmem int8/f32).
// --steps: first the steps (model.profile(), the builds alternated, minimum over rounds) of
// at least 0.02 ms whose time differs by more than 3% between the builds.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { randomFloats } from './wasm.js';

const [distA, distB, list = 'resnet50,mobilenet_v2'] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
if (!distA || !distB) {
  console.error('usage: node bench/ab.js <distA> <distB> [model,model] [--threads N] [--runs N] [--rounds N] [--int8] [--steps]');
  process.exit(2);
}
const threads = opt('threads', 1), runs = opt('runs', 25), rounds = opt('rounds', 1);
const int8 = process.argv.includes('--int8');
const steps = process.argv.includes('--steps');
const load = (d) => import(pathToFileURL(resolve(d, 'node.js')).href);
const libs = [await load(distA), await load(distB)];
for (const lib of libs) await lib.init({ simd: 'baseline', threads });

/** Both builds' models of `name`, the feeds, and the float32 model's weightBytes (--int8). */
async function models(name) {
  const A = libs[0];
  const float = (lib) => lib.createModel(name, { weights: lib.syntheticWeights(lib.modelBuilder(name).weightShapes()) });
  if (!int8) {
    const ms = await Promise.all(libs.map(float));
    const inName = ms[0].inputNames[0], shape = ms[0].inputShapes[inName];
    return { ms, feeds: { [inName]: { data: randomFloats(shape.reduce((a, b) => a * b, 1), 5), shape } } };
  }
  const f = await float(A);
  const inName = f.inputNames[0], shape = f.inputShapes[inName];
  const calibration = [1, 2, 3, 4].map((seed) => ({ [inName]: A.syntheticInput(shape, `calibration${seed}`) }));
  const quantized = await A.quantize(f, { calibration });
  const bytes = A.exportOnnx(quantized);
  quantized.dispose();
  const f32Bytes = f.weightBytes;
  f.dispose();
  const ms = [];
  for (const lib of libs) ms.push(await lib.loadOnnx(bytes));
  return { ms, feeds: { [inName]: A.syntheticInput(shape, 'bench') }, f32Bytes };
}

const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const name of list.split(',')) {
  const { ms, feeds, f32Bytes } = await models(name);
  for (const m of ms) for (let i = 0; i < 2; i++) m.runSync(feeds);
  if (steps) {
    // model.profile() per build, alternated, the minimum over rounds of each step's time
    const t = [[], []];
    let rows = [];
    for (let round = 0; round < rounds; round++)
      for (let b = 0; b < 2; b++) {
        const p = ms[b].profile(feeds, { runs });
        if (b === 0) rows = p;
        p.forEach((r, i) => (t[b][i] = Math.min(t[b][i] ?? Infinity, r.ms)));
      }
    rows.forEach((r, i) => {
      const q = t[1][i] / t[0][i];
      if (t[0][i] > 0.02 && Math.abs(q - 1) > 0.03)
        console.log(`  ${String(i).padStart(4)} ${r.op.padEnd(14)} ${r.node.slice(0, 36).padEnd(36)} A ${t[0][i].toFixed(3)} ms  B ${t[1][i].toFixed(3)} ms  B/A ${q.toFixed(3)}`);
    });
  }
  const best = [Infinity, Infinity];
  // With threads, each build has its own pool, whose workers spin for 2 ms after a job (SPIN_MS,
  // src/runtime/threads.ts) and would take a core from the other build's run: each round runs
  // a build 4 times in a row and keeps the last 3 (by then the other pool's workers sleep).
  const reps = threads > 1 ? 4 : 1;
  for (let round = 0; round < rounds; round++) {
    const t = [[], []];
    for (let r = 0; r < runs; r++)
      for (let j = 0; j < 2; j++) {
        const b = (r + j) % 2;
        for (let i = 0; i < reps; i++) {
          const s = performance.now();
          ms[b].runSync(feeds);
          if (i > 0 || reps === 1) t[b].push(performance.now() - s);
        }
      }
    for (let b = 0; b < 2; b++) best[b] = Math.min(best[b], med(t[b]));
  }
  const [ya, yb] = ms.map((m) => Object.values(m.runSync(feeds))[0].data);
  let d = 0;
  for (let i = 0; i < ya.length; i++) d = Math.max(d, Math.abs(ya[i] - yb[i]));
  const w = f32Bytes ? `  wmem int8/f32 A ${(ms[0].weightBytes / f32Bytes).toFixed(3)} B ${(ms[1].weightBytes / f32Bytes).toFixed(3)}` : '';
  console.log(`${name.padEnd(24)}A ${best[0].toFixed(2)} ms  B ${best[1].toFixed(2)} ms  B/A ${(best[1] / best[0]).toFixed(3)}  max|diff| ${d.toExponential(1)}${w}`);
  for (const m of ms) m.dispose();
}
process.exit(0);
