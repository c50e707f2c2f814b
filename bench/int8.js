// int8 against float32 in wasmcnn on the same network (issue 18 item 3's target: int8 time
// <= 0.6x float32): a ResNet basic block (1x64x56x56, two 3x3 convs, residual, ReLU) and a
// MobileNetV2 inverted residual (1x32x56x56, 1x1 expand x6 + ReLU6, depthwise 3x3 + ReLU6, 1x1
// project, residual), each as a QDQ int8 model (uint8 activations, int8 per-channel weights) and
// as the float32 model with the same weights (tools/int8_bench_models.py writes both). One
// thread, the two models' runs interleaved in one process; the minimum of per-round medians.
// Run: /usr/bin/python3 tools/int8_bench_models.py && npm run build:js && node bench/int8.js [DIR]
import { readFileSync } from 'node:fs';
import { init, loadOnnx } from '../dist/node.js';
import { median, now } from './wasm.js';

const dir = process.argv[2] ?? '/tmp/wasmcnn-int8-bench';
await init({ simd: 'baseline', threads: 1 });

function timeRuns(model, feeds, runs) {
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    model.runSync(feeds);
    ts.push(now() - t0);
  }
  return median(ts);
}

for (const name of ['resnet_block', 'mobilenet_block']) {
  const q = await loadOnnx(readFileSync(`${dir}/${name}_int8.onnx`));
  const f = await loadOnnx(readFileSync(`${dir}/${name}_f32.onnx`));
  const shape = q.inputShapes.x;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37) * 2.5;
  const feeds = { x: { data, shape } };
  const best = { int8: Infinity, f32: Infinity };
  for (let round = 0; round < 7; round++) {
    best.int8 = Math.min(best.int8, timeRuns(q, feeds, 15));
    best.f32 = Math.min(best.f32, timeRuns(f, feeds, 15));
  }
  // where the int8 time goes
  const prof = q.profile(feeds, { runs: 15 }).map((p) => `${p.op} ${p.ms.toFixed(3)}`).join(', ');
  const fprof = f.profile(feeds, { runs: 15 }).map((p) => `${p.op} ${p.ms.toFixed(3)}`).join(', ');
  console.log(`${name}: int8 ${best.int8.toFixed(3)} ms, float32 ${best.f32.toFixed(3)} ms, int8/float32 ${(best.int8 / best.f32).toFixed(2)}x`);
  console.log(`  int8 steps: ${prof}`);
  console.log(`  f32 steps:  ${fprof}`);
  q.dispose();
  f.dispose();
}
