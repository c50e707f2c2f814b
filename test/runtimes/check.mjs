// Runs in Node, Deno and Bun alike: loads the built package (the wasm found next to the
// bundle), runs LeNet-5 on a fixed input with the baseline and the default kernels and an ONNX
// model from the conformance data, the same models on 1 and on 2 threads, and prints the
// results as JSON on one line.
import { readFileSync } from 'node:fs';
// the file the package's 'node' condition (which Deno and Bun match too) points at
import { createModel, init, loadOnnx } from '../../dist/node.js';
import { runZoo } from '../threads-zoo.js';

const input = new Float32Array(32 * 32).map((_, i) => ((i * 37) % 101) / 100);
const x = { data: input, shape: [1, 1, 32, 32] };
const lenet = await createModel('lenet5');
const auto = Array.from((await lenet.predict(x)).data);
await init({ simd: 'baseline' });
const baseline = Array.from((await (await createModel('lenet5')).predict(x)).data);
const onnxUrl = new URL('../../../shared/onnx-backend-tests/pytorch-converted/test_Conv2d/model.onnx', import.meta.url);
const bytes = new Uint8Array(readFileSync(onnxUrl));
const conv = await loadOnnx(bytes);
const shape = conv.inputShapes[conv.inputNames[0]];
const n = shape.reduce((a, b) => a * b, 1);
const y = Array.from((await conv.predict({ data: new Float32Array(n).map((_, i) => ((i * 13) % 29) / 29 - 0.5), shape })).data);

// Threads: the shared zoo set (test/threads-zoo.js) on 1 thread and on 2, with both kernel
// builds (the -mt.wasm files). Its models are disposed, which ends the workers: the process
// must exit by itself (Deno cannot let a process with live workers exit), with no
// init({ threads: 1 }) to stop the pool.
const threads = {};
for (const simd of ['baseline', 'auto']) {
  try {
    await init({ simd, threads: 1 });
    const one = await runZoo();
    await init({ threads: 2 });
    threads[simd] = { one, two: await runZoo() };
  } catch (e) {
    threads[simd] = { error: String((e && e.message) || e) };
  }
}
console.log(JSON.stringify({ auto, baseline, conv: y, threads }));
