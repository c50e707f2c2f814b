// qgemm_q8 (int8 GEMM, requantizing epilogue) against the f32 GEMMs at the same shapes:
// matmul_f32 (B in place) and gemm_f32 (pre-packed B, the conv path), single-threaded,
// interleaved in one process; rates from medians, GOPS counting a multiply and an add per
// product as for GFLOP/s. Run: node bench/qgemm.js [relaxed [pairs]] (after npm run build:wasm;
// Node 20 needs --experimental-wasm-relaxed-simd for relaxed): the relaxed build in its i8
// k-quad mode (relaxed dots), or with `pairs` in the baseline build's k-pair mode.
import { loadWasmcnn, medianCallMs, qgemmCase, randomFloats } from './wasm.js';

const file = process.argv[2] === 'relaxed' ? 'wasmcnn-relaxed.wasm' : 'wasmcnn.wasm';
const w = await loadWasmcnn(new URL(`../dist/${file}`, import.meta.url));
const { k, memory, alloc, f32 } = w;
const mode = process.argv[2] === 'relaxed' ? k.qgemm_relaxed_dots(process.argv[3] === 'pairs' ? 0 : 1) : 0;

function shape(M, N, K) {
  const a = alloc(M * K * 4), b = alloc(K * N * 4), c = alloc(M * N * 4);
  f32(a, M * K).set(randomFloats(M * K, 1));
  f32(b, K * N).set(randomFloats(K * N, 2));
  const packed = alloc(k.gemm_packed_size(N, K) * 4);
  k.gemm_pack(b, N, K, K, 0, packed);
  const q = qgemmCase(w, M, N, K);
  const ops = 2 * M * N * K;
  const fns = {
    matmul: () => k.matmul_f32(M, N, K, a, K, b, N, c, N, 0, 1),
    gemm: () => k.gemm_f32(M, N, K, a, K, packed, c, N, 0, 0, 0, 0, 0, 0, 1),
    qgemm: q.run,
  };
  // interleaved rounds; the minimum of the per-round medians
  const best = { matmul: Infinity, gemm: Infinity, qgemm: Infinity };
  for (let round = 0; round < 3; round++) for (const [name, fn] of Object.entries(fns)) best[name] = Math.min(best[name], medianCallMs(fn, ops, 11));
  const rate = (t) => (ops / t / 1e6).toFixed(1);
  console.log(`${M}x${N}x${K}`.padEnd(14), `matmul_f32 ${rate(best.matmul)} GFLOP/s (${best.matmul.toFixed(2)} ms)`,
    `gemm_f32 ${rate(best.gemm)} GFLOP/s (${best.gemm.toFixed(2)} ms)`, `qgemm_q8 ${rate(best.qgemm)} GOPS (${best.qgemm.toFixed(2)} ms)`,
    `int8/matmul time ${(best.qgemm / best.matmul).toFixed(2)}x`, `int8/gemm time ${(best.qgemm / best.gemm).toFixed(2)}x`);
}

console.log(file, mode ? 'i8 k-quads, relaxed dots' : 'i8 k-pairs, widened to i16');
for (const [M, N, K] of [[256, 256, 256], [3136, 64, 576], [784, 128, 1152], [196, 256, 2304]]) shape(M, N, K);
