// qgemm_q8 across kernel builds and GEMM modes, interleaved in one process (Node 20 needs
// --experimental-wasm-relaxed-simd for a relaxed build): node bench/qgemm-ab.js name=path.wasm[:quads|:udot] ...
// e.g. base=dist/wasmcnn.wasm pairs=dist/wasmcnn-relaxed.wasm quads=dist/wasmcnn-relaxed.wasm:quads
// (:quads packs in the relaxed build's i8 k-quad mode 1, :udot in mode 2). Rates from the minimum over ROUNDS (5)
// rounds of per-round medians, or with STAT=min (for a loaded machine) the minimum over ROUNDS (300) rounds of one
// short timed batch per build; times relative to the first build; bytes compared with the first.
// SHAPES=MxNxK,... replaces the shapes below (e.g. SHAPES=12544x96x16,3136x144x24 for mobilenet_v2's small-K 1x1s).
import { loadWasmcnn, medianCallMs, qgemmCase } from './wasm.js';

const builds = [];
for (const arg of process.argv.slice(2)) {
  const [name, spec] = arg.split('=');
  const [path, mode] = spec.split(':');
  const w = await loadWasmcnn(new URL(path, `file://${process.cwd()}/`));
  const m = { quads: 1, udot: 2 }[mode] ?? 0;
  if (m && w.k.qgemm_relaxed_dots(m) !== m) throw new Error(`${path}: no relaxed-dot mode ${m}`);
  builds.push({ name, w });
}
// conv GEMMs (resnet50's im2col and 1x1 shapes, 7x7 stages) and a fully connected layer (one strip of rows)
const shapes = process.env.SHAPES ? process.env.SHAPES.split(',').map((s) => s.split('x').map(Number)) : [[256, 256, 256], [3136, 64, 576], [784, 128, 1152], [196, 256, 2304], [49, 512, 4608], [49, 2048, 512], [1, 1000, 1280]];
const byMin = process.env.STAT === 'min';
// CLAMP=lo,hi: output bounds narrower than the type's (a fused ReLU6's), so the epilogue clamps
const clamp = process.env.CLAMP ? (([lo, hi]) => ({ lo, hi }))(process.env.CLAMP.split(',').map(Number)) : undefined;
const rounds = +(process.env.ROUNDS || (byMin ? 300 : 5));
for (const [M, N, K] of shapes) {
  const fns = builds.map(({ name, w }) => {
    const q = qgemmCase(w, M, N, K, clamp);
    return { name, fn: q.run, y: q.y };
  });
  const ops = 2 * M * N * K;
  const best = fns.map(() => Infinity);
  const reps = Math.max(1, Math.round(4e7 / ops));
  const batch = (fn) => {
    const t = performance.now();
    for (let j = 0; j < reps; j++) fn();
    return (performance.now() - t) / reps;
  };
  if (byMin) fns.forEach((f) => batch(f.fn));
  for (let r = 0; r < rounds; r++) fns.forEach((f, i) => (best[i] = Math.min(best[i], byMin ? batch(f.fn) : medianCallMs(f.fn, ops, 7))));
  const y0 = fns[0].y();
  const same = fns.map((f) => f.y().every((v, i) => v === y0[i]));
  console.log(`${M}x${N}x${K}`.padEnd(14), fns.map((f, i) => `${f.name} ${(ops / best[i] / 1e6).toFixed(1)} GOPS (${(best[i] / best[0]).toFixed(2)}x time)${same[i] ? '' : ' DIFFERENT BYTES'}`).join('  '));
}
