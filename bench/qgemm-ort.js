// qgemm_q8 against onnxruntime-node's QLinearMatMul (MLAS on this CPU) on random odd shapes,
// uint8 and int8 activations, per-column weight scales, zero points across the range: counts
// output bytes that differ and by how much. The requantization scale is computed as ORT's
// QLinearMatMul does, in f32: a_scale · b_scale[n] / y_scale.
// Run: /usr/bin/python3 tools/qgemm_ort_model.py /tmp && node bench/qgemm-ort.js /tmp
import ort from 'onnxruntime-node';
import { loadWasmcnn } from './wasm.js';

const dir = process.argv[2] ?? '/tmp';
const w = await loadWasmcnn(new URL(process.env.WASM ?? '../dist/wasmcnn.wasm', import.meta.url));
const { k, memory, alloc } = w;
const f = Math.fround;

let seed = 12345;
const rnd = () => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
};
const randInt = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

const sizes = [1, 3, 5, 13, 37, 67, 130];
const total = { bytes: 0, diff: 0, maxStep: 0, ties: 0 };
for (const signed of [false, true]) {
  const session = await ort.InferenceSession.create(`${dir}/qlmm_${signed ? 's8s8' : 'u8s8'}.onnx`);
  const TA = signed ? Int8Array : Uint8Array, tname = signed ? 'int8' : 'uint8';
  const lo = signed ? -128 : 0, hi = signed ? 127 : 255;
  for (let c = 0; c < 60; c++) {
    const M = sizes[randInt(0, sizes.length - 1)], N = sizes[randInt(0, sizes.length - 1)], K = sizes[randInt(0, sizes.length - 1)];
    // every third case: ties (scales 2^-1 / 2^-2, small operands: many sums scale to exactly x.5)
    const ties = c % 3 === 0;
    const za = randInt(lo, hi), zy = randInt(lo, hi);
    const a = TA.from({ length: M * K }, () => (ties ? Math.min(hi, Math.max(lo, za + randInt(-3, 3))) : randInt(lo, hi)));
    const b = Int8Array.from({ length: K * N }, () => (ties ? randInt(-3, 3) : randInt(-128, 127))); // [K][N]
    const aScale = ties ? 2 ** -randInt(1, 2) : f(0.01 + rnd() * 0.05), yScale = ties ? 1 : f(0.05 + rnd() * 0.5);
    const bScale = Float32Array.from({ length: N }, () => (ties ? 1 : 0.001 + rnd() * 0.01));
    const feeds = {
      a: new ort.Tensor(tname, a, [M, K]),
      a_scale: new ort.Tensor('float32', Float32Array.of(aScale), []),
      a_zp: new ort.Tensor(tname, TA.of(za), []),
      b: new ort.Tensor('int8', b, [K, N]),
      b_scale: new ort.Tensor('float32', bScale, [N]),
      b_zp: new ort.Tensor('int8', new Int8Array(N), [N]),
      y_scale: new ort.Tensor('float32', Float32Array.of(yScale), []),
      y_zp: new ort.Tensor(tname, TA.of(zy), []),
    };
    const want = (await session.run(feeds)).y.data;
    // ours: weights as [N][K], scale per column in f32 as ORT computes it
    const pa = alloc(M * K), pw = alloc(N * K), ps = alloc(4 * N), py = alloc(M * N), pp = alloc(k.qgemm_packed_size(N, K)), pscr = alloc(k.qgemm_scratch_size(K));
    new TA(memory.buffer, pa, M * K).set(a);
    const wt = new Int8Array(memory.buffer, pw, N * K);
    for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) wt[n * K + kk] = b[kk * N + n];
    const sc = new Float32Array(memory.buffer, ps, N);
    for (let n = 0; n < N; n++) sc[n] = f(f(aScale * bScale[n]) / yScale);
    k.qgemm_pack(pw, N, K, pp);
    k.qgemm_q8(M, N, K, pa, K, signed ? 1 : 0, za, pp, 0, ps, 1, zy, lo, hi, py, N, signed ? 1 : 0, pscr, 0, 0, 1);
    const got = new TA(memory.buffer, py, M * N);
    for (let i = 0; i < M * N; i++) {
      total.bytes++;
      if (ties) {
        // count exact halves: the f32 product of the integer sum and the scale
        const m = Math.floor(i / N), n = i % N;
        let s = 0;
        for (let kk = 0; kk < K; kk++) s += (a[m * K + kk] - za) * b[kk * N + n];
        const v = f(s * sc[n]);
        if (v - Math.floor(v) === 0.5 && v > lo - zy && v < hi - zy) total.ties++;
      }
      if (got[i] !== want[i]) {
        total.diff++;
        total.maxStep = Math.max(total.maxStep, Math.abs(got[i] - want[i]));
      }
    }
  }
}
console.log(`onnxruntime-node ${ort.env.versions?.common ?? ''}: ${total.bytes} output bytes (${total.ties} exact ties), ${total.diff} differ, largest difference ${total.maxStep} step(s)`);
process.exit(total.diff ? 1 : 0);
