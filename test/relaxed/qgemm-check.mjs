// The relaxed build's int8 GEMM (i8 k-quad panels, i32x4.relaxed_dot_i8x16_i7x16_add_s) against an
// exact scalar reference and against the baseline build (whose qgemm_q8 the as-pect specs check
// against assembly/__tests__/qgemm_ref.ts): odd M, N, K with K ≡ 0..3 (mod 4), uint8 and int8
// activations and outputs, extreme operands (a = 255 / −128 / 127 against w = −128 / 127), zero
// points at the type's ends, per-channel scales, bias, strided rows, bytes past N and M untouched,
// and every case split into 2, 3 and 5 parts. Needs an engine with relaxed SIMD: Node 20 runs it as
// `node --experimental-wasm-relaxed-simd test/relaxed/qgemm-check.mjs` (test/relaxed-simd.test.ts
// does). Prints "N passed, M failed" and exits non-zero on a failure.
import { readFile } from 'node:fs/promises';

const dist = new URL('../../dist/', import.meta.url);
const PAGE = 65536;

async function load(file) {
  const bytes = await readFile(new URL(file, dist));
  const memory = new WebAssembly.Memory({ initial: 64 });
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory, abort() {} } });
  const k = instance.exports;
  const base = (k.heap_base() + 63) & ~63;
  let top = base;
  return {
    k, memory,
    reset() { top = base; },
    alloc(n) {
      const at = top;
      top = (top + n + 63) & ~63;
      if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / PAGE));
      return at;
    },
  };
}

let seed = 12345;
function rand() {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed;
}
const randInt = (lo, hi) => lo + (rand() % (hi - lo + 1));

/** Fills n values in lo..hi, or (mode 'ends') only lo and hi, or (mode 'hi') only hi. */
function values(n, lo, hi, mode) {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = mode === 'ends' ? (rand() & 1 ? hi : lo) : mode === 'hi' ? hi : randInt(lo, hi);
  return out;
}

/** Exact Σ_k (a − za)·w + bias: |sums| < 2^31, so doubles hold them exactly. */
function refI32(M, N, K, a, za, w, bias) {
  const y = new Int32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n] : 0;
      for (let kk = 0; kk < K; kk++) s += (a[m * K + kk] - za) * w[n * K + kk];
      y[m * N + n] = s;
    }
  }
  return y;
}

/** Runs one case in one build; returns { q8 whole, q8 parts[], i32 whole, i32 parts[] } as byte arrays. */
function run(b, c, afterPack = () => {}) {
  const { k, memory } = b;
  b.reset();
  const { M, N, K, aSigned, za, ySigned, zy, perChannel, lo, hi } = c;
  const lda = K + 3, ldy = N + 5, ldyI = N + 3;
  const pa = b.alloc(M * lda + 16), pw = b.alloc(N * K), pb = b.alloc(4 * N), ps = b.alloc(4 * N);
  const pp = b.alloc(k.qgemm_packed_size(N, K));
  const qBytes = (M + 1) * ldy, iBytes = 4 * (M + 1) * ldyI;
  const py = b.alloc(qBytes), pi = b.alloc(iBytes);
  const psc = b.alloc(5 * k.qgemm_scratch_size(K)); // one widened weight block per part
  const u8 = new Uint8Array(memory.buffer);
  u8.fill(0x5a, pa, pa + M * lda + 16); // bytes between rows and past the last row: never read into a sum
  for (let m = 0; m < M; m++) for (let kk = 0; kk < K; kk++) u8[pa + m * lda + kk] = c.a[m * K + kk] & 255;
  for (let i = 0; i < N * K; i++) u8[pw + i] = c.w[i] & 255;
  new Int32Array(memory.buffer, pb, N).set(c.bias);
  new Float32Array(memory.buffer, ps, N).set(c.scale);
  k.qgemm_pack(pw, N, K, pp);
  afterPack();
  const out = { q8: [], i32: [] };
  for (const parts of [1, 2, 3, 5]) {
    new Uint8Array(memory.buffer).fill(0xa5, py, py + qBytes);
    new Uint8Array(memory.buffer).fill(0xa5, pi, pi + iBytes);
    for (let part = 0; part < parts; part++) {
      k.qgemm_q8(M, N, K, pa, lda, aSigned, za, pp, pb, ps, perChannel, zy, lo, hi, py, ldy, ySigned, psc, 0, part, parts);
      k.qgemm_i32(M, N, K, pa, lda, aSigned, za, pp, pb, pi, ldyI, psc, part, parts);
    }
    out.q8.push(new Uint8Array(memory.buffer, py, qBytes).slice());
    out.i32.push(new Int32Array(memory.buffer, pi, iBytes >> 2).slice());
  }
  return out;
}

function makeCase(M, N, K, aSigned, ySigned, opMode) {
  const aLo = aSigned ? -128 : 0, aHi = aSigned ? 127 : 255;
  const za = opMode === 'ends' ? (rand() & 1 ? aLo : aHi) : randInt(aLo, aHi);
  const zy = ySigned ? randInt(-128, 127) : randInt(0, 255);
  const a = values(M * K, aLo, aHi, opMode === 'ext' ? 'hi' : opMode);
  const w = values(N * K, -128, 127, opMode === 'ext' ? 'ends' : opMode);
  if (opMode === 'ext') for (let i = 0; i < N * K; i++) w[i] = -128; // a = 255 (127) against w = −128: the largest products
  const bias = values(N, -30000, 30000);
  const spread = 60 / (Math.sqrt(K) * 11000);
  const scale = Float32Array.from({ length: N }, () => spread * (0.5 + (rand() % 1000) / 1000));
  const perChannel = rand() & 1;
  return { M, N, K, aSigned, za, ySigned, zy, perChannel, lo: -1000, hi: 1000, a, w, bias, scale };
}

/**
 * Whether this engine's first tier adds relaxed_dot_i8x16_i7x16_add_s's accumulator: a fresh
 * module's first call runs in V8's baseline compiler (Liftoff), whose x64 code in V8 11.3 (Node
 * 20) could take the accumulator's register as scratch and return twice the dot instead.
 * (func (param i32 i32 i32) (result i32) (i32x4.extract_lane 0 (relaxed_dot (i8x16.splat p0) (i8x16.splat p1) (i32x4.splat p2))))
 */
function probeDot() {
  const bytes = Uint8Array.from([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f, 3, 2, 1, 0, 7, 5, 1, 1, 0x64, 0, 0,
    0x0a, 0x16, 1, 0x14, 0, 0x20, 0, 0xfd, 0x0f, 0x20, 1, 0xfd, 0x0f, 0x20, 2, 0xfd, 0x11, 0xfd, 0x93, 0x02, 0xfd, 0x1b, 0, 0x0b,
  ]);
  return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.d;
}
const fusedDotRight = () => probeDot()(2, 3, 100) === 4 * 6 + 100;
/** Whether the dot multiplies a full-range unsigned second operand exactly (x86 AVX-VNNI's vpdpbusd). */
const unsignedDotExact = () => {
  const d = probeDot();
  return d(-128, 255, 7) === 4 * -128 * 255 + 7 && d(127, 255, 0) === 4 * 127 * 255;
};

const relaxed = await load('wasmcnn-relaxed.wasm');
const baseline = await load('wasmcnn.wasm');
let passed = 0, failed = 0;
function check(name, ok) {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${name}`);
  }
}
const eq = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);

check('baseline build has no relaxed-dot mode', baseline.k.qgemm_relaxed_dots(1) === 0);
const modes = [0];
if (fusedDotRight()) modes.push(1);
else console.log('skip: i8 k-quad modes (this engine miscomputes i32x4.relaxed_dot_i8x16_i7x16_add_s in its first tier)');
if (modes.length > 1 && unsignedDotExact()) modes.push(2);
else console.log('skip: mode 2 (this engine\'s relaxed dot does not multiply full-range unsigned bytes exactly)');
for (const mode of modes) {
  check(`mode ${mode} set`, relaxed.k.qgemm_relaxed_dots(mode) === mode);
  const tag = ['i8 pairs', 'i8 quads', 'i8 quads unsigned'][mode];
  const Ms = [1, 2, 3, 5, 13], Ns = [1, 7, 9, 16, 17, 33, 67], Ks = [1, 2, 3, 4, 5, 6, 7, 13, 37, 64, 67, 130];
  let idx = 0;
  for (const M of Ms) for (const N of Ns) for (const K of Ks) {
    const opMode = ['rand', 'ends', 'ext'][idx % 3];
    const c = makeCase(M, N, K, (idx >> 1) & 1, (idx >> 2) & 1, opMode);
    idx++;
    const name = `${tag} M=${M} N=${N} K=${K} aSigned=${c.aSigned} ySigned=${c.ySigned} ${opMode}`;
    const r = run(relaxed, c), b = run(baseline, c);
    const ref = refI32(M, N, K, c.a, c.za, c.w, c.bias);
    const ldyI = N + 3;
    let exact = true;
    for (let m = 0; m < M; m++) for (let n = 0; n < ldyI; n++) {
      const want = n < N ? ref[m * N + n] : 0xa5a5a5a5 | 0;
      if (r.i32[0][m * ldyI + n] !== want) exact = false;
    }
    for (let i = M * ldyI; i < r.i32[0].length; i++) if (r.i32[0][i] !== (0xa5a5a5a5 | 0)) exact = false;
    check(`${name}: qgemm_i32 exact`, exact);
    check(`${name}: qgemm_q8 equals the baseline build`, eq(r.q8[0], b.q8[0]));
    check(`${name}: qgemm_i32 equals the baseline build`, eq(r.i32[0], b.i32[0]));
    check(`${name}: parts equal the whole call`, r.q8.every((x) => eq(x, r.q8[0])) && r.i32.every((x) => eq(x, r.i32[0])));
  }
  // deep K, many panels (L2 blocks), bands of columns
  for (const [M, N, K] of [[3, 20, 1001], [9, 600, 999], [70, 67, 576], [7, 330, 9]]) {
    for (const aSigned of [0, 1]) {
      const c = makeCase(M, N, K, aSigned, aSigned, 'rand');
      const r = run(relaxed, c), b = run(baseline, c);
      const name = `${tag} M=${M} N=${N} K=${K} aSigned=${aSigned}`;
      check(`${name}: equals the baseline build`, eq(r.q8[0], b.q8[0]) && eq(r.i32[0], b.i32[0]));
      check(`${name}: parts equal the whole call`, r.q8.every((x) => eq(x, r.q8[0])) && r.i32.every((x) => eq(x, r.i32[0])));
    }
  }
  // packed size: a 16-byte header, 16-column panels of 16 i32 column sums (64 bytes) + rows of
  // k-quads (16 x 4 bytes) or k-pairs (16 x 2 bytes): 1 byte a weight either way
  const panelOf = (K) => 64 + (mode ? 64 * Math.ceil(K / 4) : 32 * Math.ceil(K / 2));
  check(`${tag} packed size`, relaxed.k.qgemm_packed_size(64, 576) === 16 + 4 * panelOf(576) && relaxed.k.qgemm_packed_size(17, 5) === 16 + 2 * panelOf(5));
}
// weights packed in either mode run in that mode whatever the mode is when they run
if (modes.length > 1) {
  const c = makeCase(13, 37, 67, 1, 0, 'rand');
  const want = run(baseline, c);
  for (const m of modes) {
    relaxed.k.qgemm_relaxed_dots(m);
    const { k } = relaxed;
    relaxed.reset();
    // pack in mode m, run after switching to the next mode
    const got = run(relaxed, c, () => k.qgemm_relaxed_dots(modes[(modes.indexOf(m) + 1) % modes.length]));
    check(`weights packed in mode ${m} run in it`, eq(got.q8[0], want.q8[0]));
  }
}
relaxed.k.qgemm_relaxed_dots(0);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
