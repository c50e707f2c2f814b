// Per-step profile of one zoo model with model.profile(): each executed step (one node after
// fusion) timed on its own over many runs, then grouped by op and listed slowest first.
import { createModel, modelBuilder, init, syntheticWeights } from '../dist/node.js';
import { randomFloats } from './wasm.js';

export async function profileModel(name, { runs = 10, log = console.log } = {}) {
  await init({ simd: 'baseline', threads: 1 });
  const shapes = modelBuilder(name).weightShapes();
  const model = await createModel(name, { weights: syntheticWeights(shapes) });
  const inName = model.inputNames[0];
  const shape = model.inputShapes[inName];
  const rows = model.profile({ [inName]: { data: randomFloats(shape.reduce((a, b) => a * b, 1), 5), shape } }, { runs });
  const total = rows.reduce((a, r) => a + r.ms, 0);
  const byOp = new Map();
  for (const r of rows) {
    const e = byOp.get(r.op) ?? { ms: 0, n: 0, macs: 0 };
    e.ms += r.ms;
    e.n++;
    e.macs += r.macs;
    byOp.set(r.op, e);
  }
  const gmacs = (macs, ms) => (macs && ms ? ((macs / ms) * 1e-6).toFixed(1) : '');
  log(`Profile: ${name}, ${rows.length} steps after fusion, sum of per-step medians ${total.toFixed(1)} ms (model.profile, ${runs} runs)`);
  log('by op:');
  for (const [op, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms))
    log(`  ${op.padEnd(26)}${String(e.n).padStart(4)} steps ${e.ms.toFixed(2).padStart(9)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${gmacs(e.macs, e.ms).padStart(6)} GMAC/s`);
  log('slowest steps:');
  for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, 12))
    log(`  ${r.node.slice(0, 40).padEnd(42)}${r.op.padEnd(22)}${r.ms.toFixed(2).padStart(8)} ms ${gmacs(r.macs, r.ms).padStart(6)} GMAC/s`);
  model.dispose();
}
