// mm_f32 (training products with transposed operands, convGrad.ts) against matmul_f32 and
// gemm_f32 (pre-packed B) at the same shapes, single-threaded, interleaved in one process; the
// ratio is of medians. Run: node bench/mm.js (after npm run build:wasm).
import { loadWasmcnn, medianCallMs, randomFloats } from './wasm.js';

const w = await loadWasmcnn(new URL('../dist/wasmcnn.wasm', import.meta.url));
const { k, alloc, f32 } = w;

/** Times fn (median of `runs` samples, each >= ~20 ms of work); returns GFLOP/s. */
function rate(fn, flops, runs = 9) {
  return flops / medianCallMs(fn, flops, runs) / 1e6;
}

function shape(M, N, K) {
  const big = Math.max(M, N) * Math.max(N, K, M);
  const a = alloc(M * K * 4), b = alloc(K * N * 4), c = alloc(M * N * 4);
  f32(a, M * K).set(randomFloats(M * K, 1));
  f32(b, K * N).set(randomFloats(K * N, 2));
  const packed = alloc(k.gemm_packed_size(N, K) * 4);
  k.gemm_pack(b, N, K, K, 0, packed); // gemm_f32 reads B as [N][K] panels (timing only)
  const scratch = alloc(Math.max(...[0, 1, 2, 3].map((t) => k.mm_scratch_bytes(M, N, K, t & 1, t >> 1, 1))));
  const flops = 2 * M * N * K;
  const row = { shape: `${M}x${N}x${K}` };
  row.matmul = rate(() => k.matmul_f32(M, N, K, a, K, b, N, c, N, 0, 1), flops);
  row.gemm = rate(() => k.gemm_f32(M, N, K, a, K, packed, c, N, 0, 0, 0, 0, 0, 0, 1), flops);
  for (let t = 0; t < 4; t++) {
    const tA = t & 1, tB = t >> 1;
    const lda = tA ? M : K, ldb = tB ? K : N;
    row[`mm tA${tA}tB${tB}`] = rate(() => k.mm_f32(tA, tB, M, N, K, a, lda, b, ldb, c, N, 1, scratch, 0, 1), flops);
  }
  void big;
  return row;
}

const shapes = [[64, 64, 64], [128, 128, 128], [256, 256, 256], [512, 512, 512],
  // conv backward at a ResNet stage (dW = dY·colsᵀ: 64 x 576 x 3136; dcols = Wᵀ·dY: 576 x 3136 x 64), Linear
  [64, 576, 3136], [576, 3136, 64], [128, 1000, 512], [37, 67, 13]];
const rows = [];
for (const [M, N, K] of shapes) {
  const r = shape(M, N, K);
  rows.push(r);
  const f = (x) => x.toFixed(1);
  console.log(r.shape.padEnd(14), 'matmul', f(r.matmul), 'gemm', f(r.gemm),
    ...[0, 1, 2, 3].map((t) => `tA${t & 1}tB${t >> 1} ${f(r[`mm tA${t & 1}tB${t >> 1}`])} (${(100 * r[`mm tA${t & 1}tB${t >> 1}`] / r.matmul).toFixed(0)}%)`));
}
