// qwino_q8 (exact integer Winograd F(2x2, 3x3), assembly/qwinograd.ts) with its stored U and with
// its streamed raw weights, against qim2col_q8 + qgemm_q8 on 3x3 stride-1 pad-1 convs, one
// thread, interleaved in one process: the minimum of per-round medians, and whether all give the
// same bytes. Each path's packed weights rotate
// through copies totalling >= 48 MB (more than the L3), so they come from memory as they do
// inside a whole model; `--cached` uses one copy. Run: npm run build:wasm && node bench/qwino.js
// [--cached] ['[[H, C, OC], ...]']
import { loadWasmcnn, median, now, randomFloats } from './wasm.js';

const args = process.argv.slice(2);
const cached = args.includes('--cached');
const list = args.find((a) => a.startsWith('['));
const shapes = list ? JSON.parse(list) : [[56, 64, 64], [28, 128, 128], [14, 256, 256], [7, 512, 512], [4, 256, 256], [3, 512, 512], [2, 512, 512], [1, 512, 512], [56, 16, 16], [112, 3, 16]];
const { k, memory, alloc } = await loadWasmcnn(new URL('../dist/wasmcnn.wasm', import.meta.url), 2048);

for (const [H, C, OC] of shapes) {
  const W = H, M = H * W, K = 9 * C;
  const x = alloc(M * C), wt = alloc(OC * K), wr = alloc(OC * K), col = alloc(M * K), g = alloc(60);
  const y1 = alloc(M * OC), y2 = alloc(M * OC), bias = alloc(OC * 4), scale = alloc(OC * 4);
  new Int32Array(memory.buffer, g, 15).set([1, H, W, C, C, 3, 3, 1, 1, 1, 1, 1, 1, H, W]);
  let b = new Uint8Array(memory.buffer);
  randomFloats(M * C, 3).forEach((v, i) => (b[x + i] = Math.floor((v + 1) * 127.9)));
  randomFloats(OC * K, 4).forEach((v, i) => (b[wt + i] = Math.floor(v * 127.9) & 255));
  // qgemm rows in im2col order [OC][ky][kx][C]
  for (let o = 0; o < OC; o++) for (let c = 0; c < C; c++) for (let t = 0; t < 9; t++) b[wr + o * K + t * C + c] = b[wt + (o * C + c) * 9 + t];
  new Int32Array(memory.buffer, bias, OC).fill(100);
  const sc = new Float32Array(memory.buffer, scale, OC);
  for (let i = 0; i < OC; i++) sc[i] = (0.5 + (i % 7) / 7) / (Math.sqrt(K) * 1500);
  const copies = (bytes) => (cached ? 1 : Math.max(2, Math.ceil(48e6 / bytes)));
  const qps = Array.from({ length: copies(k.qgemm_packed_size(OC, K)) }, () => {
    const p = alloc(k.qgemm_packed_size(OC, K));
    k.qgemm_pack(wr, OC, K, p);
    return p;
  });
  const wps = Array.from({ length: copies(k.qwino_packed_size(C, OC)) }, () => {
    const p = alloc(k.qwino_packed_size(C, OC));
    k.qwino_pack(wt, C, OC, p);
    return p;
  });
  const sps = Array.from({ length: copies(k.qwino_stream_size(C, OC)) }, () => {
    const p = alloc(k.qwino_stream_size(C, OC));
    k.qwino_stream_pack(wt, C, OC, p);
    return p;
  });
  const y3 = alloc(M * OC);
  const scr = alloc(k.qwino_scratch_size(g, OC, 1)), qscr = alloc(k.qgemm_scratch_size(K));
  let i1 = 0, i2 = 0, i3 = 0;
  const im2col = () => {
    k.qim2col_q8(g, x, 128, col, 0, 1);
    k.qgemm_q8(M, OC, K, col, K, 0, 128, qps[i1++ % qps.length], bias, scale, 1, 100, 0, 255, y1, OC, 0, qscr, 0, 0, 1);
  };
  const wino = () => k.qwino_q8(g, x, 0, 128, wps[i2++ % wps.length], 0, OC, bias, scale, 1, 100, 0, 255, y2, OC, 0, scr, 0, 0, 1);
  const stream = () => k.qwino_q8(g, x, 0, 128, sps[i3++ % sps.length], 1, OC, bias, scale, 1, 100, 0, 255, y3, OC, 0, scr, 0, 0, 1);
  im2col();
  wino();
  stream();
  b = new Uint8Array(memory.buffer);
  let diff = 0;
  for (let i = 0; i < M * OC; i++) if (b[y1 + i] !== b[y2 + i] || b[y1 + i] !== b[y3 + i]) diff++;
  const reps = Math.max(1, Math.round(2e7 / (M * K * OC)));
  const sample = (fn) => {
    const t0 = now();
    for (let r = 0; r < reps; r++) fn();
    return (now() - t0) / reps;
  };
  const best = { im2col: Infinity, wino: Infinity, stream: Infinity };
  for (let round = 0; round < 7; round++)
    for (const [name, fn] of Object.entries({ im2col, wino, stream })) {
      const ts = [];
      for (let s = 0; s < 9; s++) ts.push(sample(fn));
      best[name] = Math.min(best[name], median(ts));
    }
  console.log(`${H}x${W} ${C}->${OC}: im2col + qgemm_q8 ${best.im2col.toFixed(3)} ms, qwino_q8 stored ${best.wino.toFixed(3)} ms, ` +
    `streamed ${best.stream.toFixed(3)} ms; wino/im2col ${(best.wino / best.im2col).toFixed(2)}x, ` +
    `streamed/stored ${(best.stream / best.wino).toFixed(2)}x, streamed/im2col ${(best.stream / best.im2col).toFixed(2)}x; ` +
    `differing bytes ${diff} of ${M * OC}`);
}
