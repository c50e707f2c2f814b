// wasmcnn benchmark: GEMM throughput against the micro-kernel's measured peak, and conv layers
// against @tensorflow/tfjs-backend-wasm 4.22 (XNNPACK, 1 thread) in the same process.
// Run after `npm run build`:  node bench/run.js
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { loadWasmcnn } from './wasm.js';
import { benchGemm, benchPeak } from './gemm.js';
import { LAYERS, benchLayer } from './conv.js';

const TARGET_SIZE = 256;
const TARGET_GFLOPS = 16;
const CHAIN = 8;

const pad = (s, n) => String(s).padEnd(n);
const num = (x, d = 2) => x.toFixed(d);

const wm = await loadWasmcnn(new URL('../dist/wasmcnn.wasm', import.meta.url), 1024);
const { k } = wm;

console.log(`wasmcnn bench — Node ${process.version}, single thread, WebAssembly SIMD128 (no relaxed SIMD)\n`);

// 1. GEMM
const peak = benchPeak(wm);
console.log('GEMM gemm_f32, M = N = K (median of 11 runs, warm-up excluded)');
console.log(`peak of the 6x8 f32x4 mul+add tile (gemm_peak_probe, operands in L1): ${num(peak.gflops)} GFLOP/s`);
console.log(`${pad('size', 8)}${pad('ms', 10)}${pad('GFLOP/s', 10)}${pad('share of peak', 15)}best run GFLOP/s`);
let target;
for (const n of [64, 128, 256, 512, 1024]) {
  const r = benchGemm(wm, n);
  if (n === TARGET_SIZE) target = r;
  console.log(`${pad(n, 8)}${pad(num(r.ms, 3), 10)}${pad(num(r.gflops), 10)}${pad(num((100 * r.gflops) / peak.gflops, 0) + '%', 15)}${num(r.bestGflops)}`);
}
console.log(
  `target: ${TARGET_SIZE}^3 >= ${TARGET_GFLOPS} GFLOP/s — ${target.gflops >= TARGET_GFLOPS ? 'MET' : 'NOT MET'} (${num(target.gflops)})\n`,
);

// 2. Conv layers against tfjs-backend-wasm
const tfjsDist = fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
setWasmPaths(tfjsDist.endsWith('/') ? tfjsDist : tfjsDist + '/');
setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();
console.log(`Conv layers vs tfjs-backend-wasm ${tf.version_core} (XNNPACK, 1 thread), batch 1, bias, no activation`);
console.log(`time per layer inside a chain of ${CHAIN} layers, median of 15 interleaved rounds (3 warm-up rounds excluded)`);
console.log(
  `${pad('layer', 32)}${pad('wasmcnn ms', 12)}${pad('GFLOP/s', 9)}${pad('tfjs ms', 10)}${pad('GFLOP/s', 9)}${pad('wasmcnn/tfjs', 14)}max|diff|`,
);
const hasDw = typeof k.dwconv_f32 === 'function';
for (const l of LAYERS) {
  if (l.kind === 'dw' && !hasDw) {
    console.log(`${pad(l.name, 32)}skipped: dwconv_f32 not in the wasm yet`);
    continue;
  }
  const r = benchLayer(wm, l, { chain: CHAIN });
  console.log(
    `${pad(l.name + (r.chained ? '' : ' *'), 32)}${pad(num(r.msOurs, 3), 12)}${pad(num(r.gflopsOurs, 1), 9)}` +
      `${pad(num(r.msTheirs, 3), 10)}${pad(num(r.gflopsTheirs, 1), 9)}${pad(num(r.ratio), 14)}${r.maxDiff.toExponential(1)}`,
  );
}
console.log('ratio < 1: wasmcnn faster. * stride 2 changes the shape: the chain repeats the layer on the same resident input.');
