// Per-step profile of one zoo model: each planned step (one kernel call, after fusion) timed on
// its own over many runs, grouped by kernel. Reads Model's private step list (bench only): the
// proposed public hook is `model.profile(feeds, { runs }) → { node, op, kernel, ms }[]`, with
// compileGraph keeping the node of every step.
import { createModel, modelBuilder, init, syntheticWeights } from '../dist/index.js';
import { median, now, randomFloats } from './wasm.js';

const kernelOf = (step) => /\bk\.(\w+)\(/.exec(String(step))?.[1] ?? 'host';

export async function profileModel(name, { runs = 10, log = console.log } = {}) {
  await init({ simd: 'baseline' });
  const shapes = modelBuilder(name).weightShapes();
  const model = await createModel(name, { weights: syntheticWeights(shapes) });
  const steps = model.steps;
  if (!Array.isArray(steps)) return log(`profile: this Model has no step list to time`);
  const inName = model.inputNames[0];
  const shape = model.inputShapes[inName];
  model.runSync({ [inName]: { data: randomFloats(shape.reduce((a, b) => a * b, 1), 5), shape } });
  const times = steps.map(() => []);
  for (let r = 0; r < runs + 2; r++)
    for (let i = 0; i < steps.length; i++) {
      const t = now();
      steps[i]();
      if (r >= 2) times[i].push(now() - t);
    }
  const ms = times.map(median);
  const total = ms.reduce((a, b) => a + b, 0);
  const byKernel = new Map();
  steps.forEach((s, i) => {
    const k = kernelOf(s);
    const e = byKernel.get(k) ?? { ms: 0, n: 0 };
    e.ms += ms[i];
    e.n++;
    byKernel.set(k, e);
  });
  const convs = model.graph.nodes.filter((n) => n.op === 'Conv' || n.op === 'Gemm' || n.op === 'MatMul');
  log(`Profile: ${name}, ${steps.length} steps (${convs.length} conv/gemm nodes after fusion), sum of per-step medians ${total.toFixed(1)} ms`);
  log('by kernel:');
  for (const [k, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms))
    log(`  ${k.padEnd(26)}${String(e.n).padStart(4)} steps ${e.ms.toFixed(2).padStart(9)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%`);
  log('slowest steps:');
  const order = ms.map((m, i) => i).sort((a, b) => ms[b] - ms[a]).slice(0, 12);
  for (const i of order) log(`  step ${String(i).padStart(3)} ${kernelOf(steps[i]).padEnd(24)}${ms[i].toFixed(2).padStart(8)} ms`);
  model.dispose();
}
