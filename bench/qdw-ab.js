// qdwconv_q8 (int8 depthwise conv) across kernel builds, interleaved in one process: every
// depthwise layer of mobilenet_v2 and efficientnet_b0 (NHWC uint8 activations, zero point 128,
// per-channel scales, ReLU6-like clamp), each build's packed weights from its own qdwconv_pack.
//   node bench/qdw-ab.js before=/tmp/before/dist/wasmcnn.wasm after=dist/wasmcnn.wasm
// Per layer: the minimum over ROUNDS (default 7) rounds of each build's median call time, the
// ratio to the first build, the packed weight bytes, and whether the output bytes equal the
// first build's; then the sum over each model's layers.
import { loadWasmcnn, medianCallMs, randomFloats } from './wasm.js';

// [H (= W), C, K, S] of the depthwise convs, padding K >> 1
const MODELS = {
  mobilenet_v2: [[112, 32, 3, 1], [112, 96, 3, 2], [56, 144, 3, 1], [56, 144, 3, 2], [28, 192, 3, 1], [28, 192, 3, 1], [28, 192, 3, 2],
    [14, 384, 3, 1], [14, 384, 3, 1], [14, 384, 3, 1], [14, 384, 3, 1], [14, 576, 3, 1], [14, 576, 3, 1], [14, 576, 3, 2], [7, 960, 3, 1], [7, 960, 3, 1], [7, 960, 3, 1]],
  efficientnet_b0: [[112, 32, 3, 1], [112, 96, 3, 2], [56, 144, 3, 1], [56, 144, 5, 2], [28, 240, 5, 1], [28, 240, 3, 2], [14, 480, 3, 1], [14, 480, 3, 1],
    [14, 480, 5, 1], [14, 672, 5, 1], [14, 672, 5, 1], [14, 672, 5, 2], [7, 1152, 5, 1], [7, 1152, 5, 1], [7, 1152, 5, 1], [7, 1152, 3, 1]],
};

const builds = [];
for (const arg of process.argv.slice(2)) {
  const [name, path] = arg.split('=');
  builds.push({ name, w: await loadWasmcnn(new URL(path, `file://${process.cwd()}/`)) });
}
if (builds.length < 2) {
  console.error('usage: node bench/qdw-ab.js name=a.wasm name=b.wasm ...');
  process.exit(2);
}
const rounds = +(process.env.ROUNDS || 7);

/** One depthwise layer in build w: returns run() and y() (a copy of the output bytes). */
function dwCase(w, H, C, K, S) {
  const { k, memory, alloc } = w;
  const P = K >> 1, OH = Math.floor((H + 2 * P - K) / S) + 1, T = K * K, C16 = (C + 15) & ~15;
  const x = alloc(H * H * C), wt = alloc(C * T), bias = alloc(C16 * 4), scale = alloc(C16 * 4), y = alloc(OH * OH * C), g = alloc(60);
  const packedBytes = k.qdwconv_packed_size(C, T);
  const packed = alloc(packedBytes);
  const bytes = new Uint8Array(memory.buffer);
  randomFloats(H * H * C, 3).forEach((v, i) => (bytes[x + i] = Math.floor((v + 1) * 127.9)));
  randomFloats(C * T, 4).forEach((v, i) => (bytes[wt + i] = Math.floor(v * 127.9) & 255));
  new Int32Array(memory.buffer, bias, C16).fill(100);
  const sc = new Float32Array(memory.buffer, scale, C16);
  randomFloats(C16, 5).forEach((v, i) => (sc[i] = (1.5 + v) / (Math.sqrt(T) * 4000)));
  new Int32Array(memory.buffer, g, 15).set([1, H, H, C, C, K, K, S, S, P, P, 1, 1, OH, OH]);
  k.qdwconv_pack(wt, C, K, K, bias, 128, 0, packed);
  // builds that widen the weight pairs per call take a scratch argument (one part's bytes) before post
  const scratch = k.qdwconv_scratch_size ? [alloc(k.qdwconv_scratch_size(g))] : [];
  return {
    run: () => k.qdwconv_q8(g, x, 0, 128, packed, bias, scale, 1, 128, 128, 128 + 100, y, C, 0, ...scratch, 0, 0, 1),
    y: () => new Uint8Array(memory.buffer, y, OH * OH * C).slice(),
    macs: OH * OH * C * T,
    packedBytes,
  };
}

for (const [model, layers] of Object.entries(MODELS)) {
  console.log(`\n${model}`);
  const total = builds.map(() => 0);
  for (const [H, C, K, S] of layers) {
    const cases = builds.map(({ w }) => dwCase(w, H, C, K, S));
    const best = cases.map(() => Infinity);
    for (let r = 0; r < rounds; r++)
      for (let j = 0; j < cases.length; j++) {
        const i = (r + j) % cases.length;
        best[i] = Math.min(best[i], medianCallMs(cases[i].run, cases[i].macs * 2 * 10, 7));
      }
    cases.forEach((c) => c.run());
    const y0 = cases[0].y();
    best.forEach((b, i) => (total[i] += b));
    console.log(`${H}x${H}x${C} k${K} s${S}`.padEnd(20), cases.map((c, i) => {
      const same = c.y().every((v, j) => v === y0[j]);
      return `${builds[i].name} ${(best[i] * 1e3).toFixed(1)} us (${(best[i] / best[0]).toFixed(3)}x) ${c.packedBytes} B${same ? '' : ' DIFFERENT BYTES'}`;
    }).join('  '));
  }
  console.log(`${'sum'.padEnd(20)}`, total.map((t, i) => `${builds[i].name} ${(t * 1e3).toFixed(1)} us (${(t / total[0]).toFixed(3)}x)`).join('  '));
}
