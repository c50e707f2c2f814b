// qgemm_q8 across kernel builds and GEMM modes, interleaved in one process (Node 20 needs
// --experimental-wasm-relaxed-simd for a relaxed build): node bench/qgemm-ab.js name=path.wasm[:quads|:udot] ...
// e.g. base=dist/wasmcnn.wasm pairs=dist/wasmcnn-relaxed.wasm quads=dist/wasmcnn-relaxed.wasm:quads
// (:quads packs in the relaxed build's i8 k-quad mode 1, :udot in mode 2). Rates from the minimum over ROUNDS (5)
// rounds of per-round medians; times relative to the first build; bytes compared with the first.
import { loadWasmcnn, medianCallMs, randomFloats } from './wasm.js';

const builds = [];
for (const arg of process.argv.slice(2)) {
  const [name, spec] = arg.split('=');
  const [path, mode] = spec.split(':');
  const w = await loadWasmcnn(new URL(path, `file://${process.cwd()}/`));
  const m = { quads: 1, udot: 2 }[mode] ?? 0;
  if (m && w.k.qgemm_relaxed_dots(m) !== m) throw new Error(`${path}: no relaxed-dot mode ${m}`);
  builds.push({ name, w });
}
const shapes = [[256, 256, 256], [3136, 64, 576], [784, 128, 1152], [196, 256, 2304], [49, 512, 4608]];
const rounds = +(process.env.ROUNDS || 5);
for (const [M, N, K] of shapes) {
  const fns = builds.map(({ name, w }) => {
    const { k, memory, alloc } = w;
    const qa = alloc(M * K), qw = alloc(N * K), qy = alloc(M * N), bias = alloc(N * 4), scale = alloc(N * 4);
    const qpacked = alloc(k.qgemm_packed_size(N, K));
    const bytes = new Uint8Array(memory.buffer);
    randomFloats(M * K, 3).forEach((v, i) => (bytes[qa + i] = Math.floor((v + 1) * 127.9)));
    randomFloats(N * K, 4).forEach((v, i) => (bytes[qw + i] = Math.floor(v * 127.9) & 255));
    new Int32Array(memory.buffer, bias, N).fill(100);
    new Float32Array(memory.buffer, scale, N).fill(1 / (Math.sqrt(K) * 4000));
    k.qgemm_pack(qw, N, K, qpacked);
    return { name, fn: () => k.qgemm_q8(M, N, K, qa, K, 0, 128, qpacked, bias, scale, 1, 128, 0, 255, qy, N, 0, 0, 1), y: () => new Uint8Array(memory.buffer, qy, M * N).slice() };
  });
  const ops = 2 * M * N * K;
  const best = fns.map(() => Infinity);
  for (let r = 0; r < rounds; r++) fns.forEach((f, i) => (best[i] = Math.min(best[i], medianCallMs(f.fn, ops, 7))));
  const y0 = fns[0].y();
  const same = fns.map((f) => f.y().every((v, i) => v === y0[i]));
  console.log(`${M}x${N}x${K}`.padEnd(14), fns.map((f, i) => `${f.name} ${(ops / best[i] / 1e6).toFixed(1)} GOPS (${(best[i] / best[0]).toFixed(2)}x time)${same[i] ? '' : ' DIFFERENT BYTES'}`).join('  '));
}
