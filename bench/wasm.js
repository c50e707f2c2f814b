// Loads dist/wasmcnn.wasm into a fresh imported memory and hands out a bump allocator above
// heap_base(), so the benchmarks can place weights, activations and params blocks.
import { readFile } from 'node:fs/promises';

const PAGE = 65536;

/** Instantiates the kernel module with `pages` pages of memory (grown as needed by alloc). */
export async function loadWasmcnn(wasmUrl, pages = 1024) {
  const bytes = await readFile(wasmUrl);
  const memory = new WebAssembly.Memory({ initial: pages });
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory, abort() {} } });
  const k = instance.exports;
  let top = (k.heap_base() + 63) & ~63;
  /** Reserves `bytes` bytes (64-byte aligned) and returns the byte offset. */
  function alloc(bytes) {
    const at = top;
    top = (top + bytes + 63) & ~63;
    if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / PAGE));
    return at;
  }
  /** A fresh Float32Array view (views detach on grow, so never cache one across alloc). */
  const f32 = (ptr, n) => new Float32Array(memory.buffer, ptr, n);
  const i32 = (ptr, n) => new Int32Array(memory.buffer, ptr, n);
  return { k, memory, alloc, f32, i32 };
}

/** Deterministic pseudo-random floats in [-1, 1) (xorshift32). */
export function randomFloats(n, seed = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/**
 * Median ms of each contender ({ who, run }: run may return a promise) over `runs` rounds after
 * `warmup`, the order rotating each round so none always runs first.
 */
export async function interleavedMedians(contenders, runs, warmup) {
  const times = Object.fromEntries(contenders.map((c) => [c.who, []]));
  for (let r = 0; r < warmup + runs; r++)
    for (let j = 0; j < contenders.length; j++) {
      const c = contenders[(j + r) % contenders.length];
      const t = performance.now();
      await c.run();
      if (r >= warmup) times[c.who].push(performance.now() - t);
    }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length & 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const now = () => performance.now();

/**
 * Median time of one call of fn in ms: `runs` samples (after 3 warm-up samples), each repeating fn
 * enough times for about 4e8 operations (`ops` per call), so short kernels are not timer noise.
 */
export function medianCallMs(fn, ops, runs) {
  const reps = Math.max(1, Math.round(4e8 / ops));
  const sample = () => {
    const t0 = now();
    for (let i = 0; i < reps; i++) fn();
    return (now() - t0) / reps;
  };
  for (let i = 0; i < 3; i++) sample();
  const ts = [];
  for (let i = 0; i < runs; i++) ts.push(sample());
  return median(ts);
}

/**
 * A qgemm_q8 call on deterministic data in kernel instance `w` (from loadWasmcnn): uint8 A [M][K]
 * (zero point 128), int8 W [N][K] packed, bias 100, one scale. run() calls it; y() copies the bytes.
 */
export function qgemmCase(w, M, N, K, { lo = 0, hi = 255 } = {}) {
  const { k, memory, alloc } = w;
  const qa = alloc(M * K), qw = alloc(N * K), qy = alloc(M * N), bias = alloc(N * 4), scale = alloc(N * 4);
  const qpacked = alloc(k.qgemm_packed_size(N, K));
  // builds before k-pair panels of int8 (no qgemm_scratch_size) take no scratch argument
  const scratch = k.qgemm_scratch_size ? alloc(k.qgemm_scratch_size(K)) : -1;
  const bytes = new Uint8Array(memory.buffer);
  randomFloats(M * K, 3).forEach((v, i) => (bytes[qa + i] = Math.floor((v + 1) * 127.9)));
  randomFloats(N * K, 4).forEach((v, i) => (bytes[qw + i] = Math.floor(v * 127.9) & 255));
  new Int32Array(memory.buffer, bias, N).fill(100);
  new Float32Array(memory.buffer, scale, N).fill(1 / (Math.sqrt(K) * 4000));
  k.qgemm_pack(qw, N, K, qpacked);
  return {
    run: scratch < 0
      ? () => k.qgemm_q8(M, N, K, qa, K, 0, 128, qpacked, bias, scale, 1, 128, lo, hi, qy, N, 0, 0, 0, 0, 1)
      : () => k.qgemm_q8(M, N, K, qa, K, 0, 128, qpacked, bias, scale, 1, 128, lo, hi, qy, N, 0, scratch, 0, 0, 1),
    y: () => new Uint8Array(memory.buffer, qy, M * N).slice(),
  };
}
