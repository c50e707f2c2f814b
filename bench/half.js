// weightStorage 'float16' against 'float32' in one build and one process (README, half-precision
// weights): per model, weightBytes and memoryBytes of both, the build time of both, and the
// steady latency interleaved (rounds alternate which goes first; per-run times, their minimum
// and median), with the outputs' largest difference relative to the float32 output's largest value.
//   node bench/half.js [resnet50,mobilenet_v2,fc] [runs 5] [rounds 6]
// 'fc' is a Faster R-CNN box head's fully connected layer: 150 x 12544 times 12544 -> 1024.
import { performance } from 'node:perf_hooks';
import { createModel, GraphBuilder, modelBuilder, syntheticInput, syntheticWeights } from '../dist/node.js';

const names = (process.argv[2] ?? 'resnet50,mobilenet_v2,fc').split(',');
const runs = Number(process.argv[3] ?? 5), rounds = Number(process.argv[4] ?? 6);

async function build(name, weightStorage) {
  if (name === 'fc') {
    const b = new GraphBuilder();
    b.output(b.linear(b.input('x', [150, 12544]), 'fc', 1024), 'y');
    return b.build(syntheticWeights(b.weightShapes()), { weightStorage });
  }
  return createModel(name, { weights: syntheticWeights(modelBuilder(name).weightShapes()), weightStorage });
}

const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const ratio = (a, b) => +(a / b).toFixed(3);
for (const name of names) {
  const t0 = performance.now();
  const f32 = await build(name, 'float32');
  const t1 = performance.now();
  const f16 = await build(name, 'float16');
  const t2 = performance.now();
  const input = f32.inputNames[0];
  const feeds = { [input]: syntheticInput(f32.inputShapes[input]) };
  const o32 = f32.runSync(feeds)[f32.outputNames[0]].data.slice(), o16 = f16.runSync(feeds)[f16.outputNames[0]].data;
  let d = 0, m = 0;
  for (let i = 0; i < o32.length; i++) {
    d = Math.max(d, Math.abs(o16[i] - o32[i]));
    m = Math.max(m, Math.abs(o32[i]));
  }
  const t = { f32: [], f16: [] };
  for (let r = 0; r < rounds; r++)
    for (const [k, model] of r % 2 ? [['f16', f16], ['f32', f32]] : [['f32', f32], ['f16', f16]])
      for (let i = 0; i < runs; i++) {
        const s = performance.now();
        model.runSync(feeds);
        t[k].push(performance.now() - s);
      }
  console.log(JSON.stringify({
    name,
    weightBytes: [f32.weightBytes, f16.weightBytes, ratio(f16.weightBytes, f32.weightBytes)],
    memoryBytes: [f32.memoryBytes, f16.memoryBytes, ratio(f16.memoryBytes, f32.memoryBytes)],
    buildMs: [Math.round(t1 - t0), Math.round(t2 - t1)],
    msMin: [+Math.min(...t.f32).toFixed(2), +Math.min(...t.f16).toFixed(2)],
    msMedian: [+median(t.f32).toFixed(2), +median(t.f16).toFixed(2)],
    latency: { min: ratio(Math.min(...t.f16), Math.min(...t.f32)), median: ratio(median(t.f16), median(t.f32)) },
    outRelDiff: +(d / m).toExponential(2),
  }));
  f32.dispose();
  f16.dispose();
}
