// Threads: the same zoo model on 1 and on 2 threads (init({ threads })), interleaved in one
// process, baseline SIMD; reports each median and the 2-thread / 1-thread ratio, and checks the
// two outputs are bit-identical.
import { createModel, init, modelBuilder, syntheticWeights } from '../dist/node.js';
import { median, now, randomFloats } from './wasm.js';

export const THREAD_MODELS = ['resnet50', 'mobilenet_v2'];

export async function benchThreads(names, runs, threads = 2) {
  const rows = [];
  for (const name of names) {
    const weights = syntheticWeights(modelBuilder(name).weightShapes());
    await init({ simd: 'baseline', threads: 1 });
    const one = await createModel(name, { weights });
    await init({ simd: 'baseline', threads });
    const many = await createModel(name, { weights });
    const inName = one.inputNames[0];
    const shape = one.inputShapes[inName];
    const feeds = { [inName]: { data: randomFloats(shape.reduce((a, b) => a * b, 1), 3), shape } };
    const t1 = [], tn = [];
    let same = true;
    for (let r = 0; r < runs + 2; r++) {
      let t = now();
      const y1 = one.runSync(feeds)[one.outputNames[0]].data;
      if (r >= 2) t1.push(now() - t);
      t = now();
      const yn = many.runSync(feeds)[many.outputNames[0]].data;
      if (r >= 2) tn.push(now() - t);
      const a = new Uint32Array(y1.buffer), b = new Uint32Array(yn.buffer);
      same &&= a.length === b.length && a.every((v, i) => v === b[i]);
    }
    rows.push({ name, threads: many.threads, ms1: median(t1), msN: median(tn), same });
    one.dispose();
    many.dispose();
  }
  await init({ threads: 1 });
  return rows;
}
