// GEMM throughput: gemm_f32 at M = N = K, and the peak of the micro-kernel's instruction mix
// (gemm_peak_probe), both single-threaded.
import { randomFloats, median, now } from './wasm.js';

/** GFLOP/s of gemm_f32 at n×n×n: warm-up excluded, median of `runs` timed runs. */
export function benchGemm(w, n, runs = 11) {
  const { k, alloc, f32 } = w;
  const a = alloc(n * n * 4), wt = alloc(n * n * 4), bias = alloc(n * 4);
  const packed = alloc(k.gemm_packed_size(n, n) * 4), c = alloc(n * n * 4);
  f32(a, n * n).set(randomFloats(n * n, 1));
  f32(wt, n * n).set(randomFloats(n * n, 2));
  f32(bias, n).set(randomFloats(n, 3));
  k.gemm_pack(wt, n, n, n, bias, packed);
  const flops = 2 * n * n * n;
  // each timed sample runs long enough (>= ~20 ms) for the timer to be accurate
  const reps = Math.max(1, Math.round(4e8 / flops));
  const run = () => {
    const t0 = now();
    for (let i = 0; i < reps; i++) k.gemm_f32(n, n, n, a, n, packed, c, n, 0, 0, 0, 0, 0, 0, 1);
    return (now() - t0) / reps;
  };
  for (let i = 0; i < 3; i++) run(); // warm-up: lets V8 tier the kernel up to TurboFan
  const times = [];
  for (let i = 0; i < runs; i++) times.push(run());
  const ms = median(times);
  return { n, ms, gflops: flops / ms / 1e6, bestGflops: flops / Math.min(...times) / 1e6 };
}

/** GFLOP/s of gemm_peak_probe (same tile and instruction mix as the kernel, operands in L1). */
export function benchPeak(w, runs = 11) {
  const { k } = w;
  const iters = 50000;
  // wasm has no on-stack replacement: many short calls first so the timed calls run optimised code
  for (let i = 0; i < 300; i++) k.gemm_peak_probe(100);
  const flops = iters * k.gemm_peak_probe_flops_per_iter();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    k.gemm_peak_probe(iters);
    times.push(now() - t0);
  }
  return { gflops: flops / median(times) / 1e6 };
}
