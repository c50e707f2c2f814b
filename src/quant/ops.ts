// Op definitions of int8 inference (src/quant/lower.ts writes these nodes): QuantizeLinear and
// DequantizeLinear of activations (ONNX opset 13, per tensor), and the fused _QConv, _QGemm,
// _QAdd, _QGap, _QMaxPool, _QLut steps on the kernels of assembly/qgemm.ts and assembly/qconv.ts
// (a _QConv / _QGemm may carry a fused residual _QAdd: see postBlock). Activations are
// NHWC bytes (4-D) or plain bytes (2-D); every scale and zero point is in the node's attributes.
// The QLinear* ops a file holds are listed too (shape rules only): lowering replaces them before
// any plan, and a graph that still holds one is refused by name.
import type { Node } from '../graph/ir';
import type { Window } from '../ops/geometry';
import type { InferCtx, OpDef, PlanCtx, Step } from '../ops/types';
import { numel, ShapeError, shapeStr, UnsupportedOpError, ValueError } from '../lazy/kit';
import { dynamicParams } from '../graph/eval/integer';
import { ADD_PREFIX, postAttrs } from './lower';

/** What this lazily loaded module takes from the eager engine (bound by model.ts when it loads it). */
export interface QuantLib {
  window2d: (n: Node, H: number, W: number, kernel: number[], ceilMode?: boolean) => Window;
  /** The unary_f32 op code and parameters of a float activation node (src/ops/unary.ts). */
  unaryCode: (n: Node, ctx: InferCtx) => { act: number; p0: number; p1: number };
}

let lib: QuantLib;

/** Binds the eager helpers the planners use (model.ts calls it after importing this module). */
export function bindQuantLib(l: QuantLib): void {
  lib = l;
}

const num = (n: Node, k: string): number => n.attrs[k] as number;

/** What a packing's bytes depend on: the weights (arrays by identity), then the variant's numbers. */
type PackKey = (Int8Array | number[] | string | number | undefined)[];

/**
 * Packs int8 weights once: stages them (or what `ints()` makes of them) as bytes above a freshly
 * reserved block of `bytes`, calls `pack(staged, dst)` and gives the staging space back; returns
 * the packed weights' address. The plans of a dynamic model share one packing per key, as the
 * float packers do (a new input shape costs no re-packing).
 */
function packBytes(ctx: PlanCtx, key: PackKey, ints: Int8Array | (() => Int8Array), bytes: number, pack: (w: number, dst: number) => void): number {
  const make = (): number => {
    const packed = ctx.mem.alloc(bytes);
    const mark = ctx.mem.mark();
    pack(putBytes(ctx, typeof ints === 'function' ? ints() : ints), packed);
    ctx.mem.reset(mark);
    return packed;
  };
  return ctx.shared ? ctx.shared(key as Parameters<NonNullable<PlanCtx['shared']>>[0], make) : make();
}

/** Kernel instances whose int8 GEMM mode is set (their memory holds the choice). */
const dotsChosen = new WeakSet<object>();
/** The mode the first timing chose: the engine and CPU stay the same for every later instance. */
let dotsMode: number | undefined;

/**
 * The relaxed GEMM modes this engine runs exactly, judged in its first tier (a fresh module's
 * first call runs in V8's baseline compiler): 1 when relaxed_dot_i8x16_i7x16_add_s adds its
 * accumulator (V8 11.3's x64 baseline compiler, Node 20 with --experimental-wasm-relaxed-simd,
 * can return twice the dot instead), 2 as well when it multiplies a full-range unsigned second
 * operand exactly (x86 AVX-VNNI's vpdpbusd; the relaxed-SIMD spec lets an engine pick, and ask
 * only 0..127); none where relaxed SIMD does not validate.
 * (func (param i32 i32 i32) (result i32) (i32x4.extract_lane 0 (relaxed_dot (i8x16.splat p0) (i8x16.splat p1) (i32x4.splat p2))))
 */
function relaxedModes(): number[] {
  try {
    const m = new WebAssembly.Module(Uint8Array.from([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 127, 127, 127, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 100, 0, 0,
      10, 22, 1, 20, 0, 32, 0, 253, 15, 32, 1, 253, 15, 32, 2, 253, 17, 253, 147, 2, 253, 27, 0, 11,
    ]));
    const d = new WebAssembly.Instance(m).exports.d as (w: number, x: number, acc: number) => number;
    if (d(2, 3, 100) !== 124) return [];
    return d(-128, 255, 7) === -130553 && d(127, 255, 0) === 129540 ? [1, 2] : [1];
  } catch {
    return [];
  }
}

/**
 * Chooses a kernel instance's int8 GEMM mode once, before its first packing: in the relaxed
 * build, i8 k-quads (1 byte a weight) run by relaxed dots on split 7-bit activations (mode 1) or
 * on the bytes as they are (mode 2, where the engine multiplies those exactly), when that runs
 * faster on this CPU than k-pairs (also 1 byte a weight, widened to i16 in the kernel's
 * scratch; mode 0, the baseline build's only one). Every mode gives the same bytes; only speed differs, and no feature test shows it: V8 turns
 * the relaxed dot into one AVX-VNNI vpdpbusd where the CPU has that (mode 1 then takes ~0.9x
 * the pairs' time, mode 2 ~0.4x) and into three instructions elsewhere (mode 1 ~2.2x; V8 11.3
 * always). So a 64×64×256 GEMM is timed in each mode, interleaved, once per instance: up to 24
 * rounds or ~100 ms, long enough for V8 to tier the kernel up (its first tier's timings hide the
 * difference), the best of each mode kept; quads win ties within 3% (they need no widening
 * pass). The choice is timed once a process and set in each later instance.
 */
function chooseDots(ctx: PlanCtx): void {
  const { k, mem } = ctx;
  if (dotsChosen.has(k)) return;
  dotsChosen.add(k);
  if (dotsMode !== undefined) {
    k.qgemm_relaxed_dots(dotsMode);
    return;
  }
  const modes = [0, ...relaxedModes()];
  if (modes.length === 1 || k.qgemm_relaxed_dots(1) !== 1) {
    k.qgemm_relaxed_dots((dotsMode = 0));
    return;
  }
  const M = 64, N = 64, K = 256;
  const mark = mem.mark();
  const a = mem.alloc(M * K), w = mem.alloc(N * K), y = mem.alloc(M * N), scale = mem.putF32(new Float32Array([1 / 65536]));
  const scratch = mem.alloc(k.qgemm_scratch_size(K));
  const packed = modes.map((mode) => {
    k.qgemm_relaxed_dots(mode);
    const p = mem.alloc(k.qgemm_packed_size(N, K));
    k.qgemm_pack(w, N, K, p);
    return p;
  });
  const best = modes.map(() => Infinity);
  const start = performance.now();
  for (let round = 0; round < 24 && performance.now() - start < 100; round++) {
    for (let i = 0; i < modes.length; i++) {
      const t0 = performance.now();
      for (let r = 0; r < 16; r++) k.qgemm_q8(M, N, K, a, K, 0, 128, packed[i], 0, scale, 0, 128, 0, 255, y, N, 0, scratch, 0, 0, 1);
      best[i] = Math.min(best[i], performance.now() - t0);
    }
  }
  mem.reset(mark);
  let q = 1;
  for (let i = 2; i < modes.length; i++) if (best[i] < best[q]) q = i;
  k.qgemm_relaxed_dots((dotsMode = best[q] <= 1.03 * best[0] ? modes[q] : 0));
}

/** Packs int8 weights [N][K] for qgemm_q8 (in the mode chooseDots picks for the instance). */
function qgemmPacked(ctx: PlanCtx, key: PackKey, ints: Int8Array | (() => Int8Array), N: number, K: number): number {
  chooseDots(ctx);
  const { k } = ctx;
  return packBytes(ctx, ['qgemm', ...key, N, K], ints, k.qgemm_packed_size(N, K), (wb, dst) => k.qgemm_pack(wb, N, K, dst));
}

/** Copy int8 values into fresh wasm memory; returns the address. */
function putBytes(ctx: PlanCtx, ints: Int8Array): number {
  const p = ctx.mem.alloc(Math.max(ints.length, 1));
  new Int8Array(ctx.mem.memory.buffer, p, ints.length).set(ints);
  return p;
}

/** i32 values (zero padded to `len`) into wasm memory. */
function putInts(ctx: PlanCtx, v: ArrayLike<number>, len = v.length): number {
  const a = new Int32Array(Math.max(len, 1));
  a.set(Array.from(v));
  return ctx.mem.putI32(a);
}

/** f32 values (padded to `len` with the last) into wasm memory. */
function putFloats(ctx: PlanCtx, v: ArrayLike<number>, len = v.length): number {
  const a = new Float32Array(Math.max(len, 1));
  for (let i = 0; i < a.length; i++) a[i] = v[Math.min(i, v.length - 1)];
  return ctx.mem.putF32(a);
}

function sameShape(n: Node, ctx: InferCtx): number[][] {
  return [ctx.shape(n.inputs[0]).slice()];
}

/** ONNX QuantizeLinear of an activation (per tensor): float → NHWC/plain bytes. */
const quantize: OpDef = {
  ops: ['QuantizeLinear'],
  layout: 'any',
  // a 4-D result is stored NHWC like every 4-D int8 value: the float input is converted first
  layoutRule: (n, ctx) => (ctx.shape(n.inputs[0]).length === 4 ? { input: 'nhwc', output: 'nhwc' } : { input: 'plain', output: 'plain' }),
  infer: sameShape,
  plan(n, ctx) {
    const { k } = ctx;
    const x = ctx.ptr(n.inputs[0]), y = ctx.ptr(n.outputs[0]);
    const len = numel(ctx.shape(n.inputs[0]));
    const s = num(n, '_s'), z = num(n, '_z'), sg = num(n, '_sg');
    return () => k.quantize_f32_q8(x, len, s, z, sg, y);
  },
};

/** ONNX DequantizeLinear of an activation (per tensor): bytes → float, in the input's layout. */
const dequantize: OpDef = {
  ops: ['DequantizeLinear'],
  layout: 'any',
  infer: sameShape,
  plan(n, ctx) {
    const { k } = ctx;
    const x = ctx.ptr(n.inputs[0]), y = ctx.ptr(n.outputs[0]);
    const len = numel(ctx.shape(n.inputs[0]));
    const s = num(n, '_s'), z = num(n, '_z'), sg = num(n, '_sg');
    return () => k.dequantize_q8_f32(x, len, sg, z, s, y);
  },
};

/** Geometry of a _QConv: input [N, C, H, W], weight [OC, C/g, KH, KW], window. */
function convGeometry(n: Node, ctx: InferCtx): { x: number[]; w: number[]; win: Window; depthwise: boolean } {
  const x = ctx.shape(n.inputs[0]);
  const w = (n.attrs._w as { shape: number[] }).shape;
  if (x.length !== 4) throw new UnsupportedOpError('QLinearConv', n.name, `only 2-D convolution (4-D input) is supported, got ${shapeStr(x)}`);
  const group = num(n, 'group');
  const depthwise = group > 1;
  if ((depthwise && (x[1] !== group || w[0] !== group)) || (!depthwise && w[1] !== x[1]))
    throw new ShapeError(`Conv node '${n.name}': input ${shapeStr(x)} with group=${group} does not fit weight ${shapeStr(w)}`);
  const win = lib.window2d(n, x[2], x[3], [w[2], w[3]]);
  return { x, w, win, depthwise };
}

/** The 15-int geometry block of qim2col_q8 / qdwconv_q8: C channels of pixels inStride bytes apart. */
function geomBlock(ctx: PlanCtx, x: number[], C: number, win: Window, inStride = C): number {
  return ctx.mem.putI32([x[0], x[2], x[3], C, inStride, win.kh, win.kw, win.sh, win.sw, win.pt, win.pl, win.dh, win.dw, win.oh, win.ow]);
}

/**
 * Largest C of qwino_q8: 4·Σ(x − zx)·w must fit i32 (C·9·255·128·4 < 2^31; assembly/qwinograd.ts).
 */
const QWINO_MAX_CHANNELS = 1827;

/**
 * Filters above this (C·OC) take qwino_q8 only in its streamed form (raw weights, 9·C·OC bytes);
 * its stored U (32·C·OC bytes) would be most of a model's int8 weights.
 */
const QWINO_LARGE_FILTER = 256 * 256;

/** Output tiles (2x2) of one image from which qwino_q8 streams its weights (see qwinoForm). */
const QWINO_STREAM_TILES = 16;

/**
 * Fewest input channels for qwino_q8: its V rows hold channels 8 at a time, so a 3-channel stem
 * transforms 8 and im2col's 27-byte rows win.
 */
const QWINO_MIN_CHANNELS = 8;

/**
 * Dense 3x3, stride 1, dilation 1 (any pads), 8 to 1827 input channels, at least 16 output
 * pixels: exact integer Winograd F(2x2, 3x3), the same bytes as im2col + qgemm_q8. 'stream': raw
 * int8 weights (9·C·OC bytes), turned into U inside the call; 'stored': U packed at plan time
 * (32·C·OC bytes), only where the transform is not paid back by enough tiles and the filter is
 * small. Times (one thread,
 * `node bench/qwino.js`: weights rotated through more copies than the L3 holds, loaded 2-core
 * machine), streamed against stored and against im2col + qgemm_q8: 1.02x / 0.48x at 56x56
 * 64 -> 64, 0.98x / 0.44x at 28x28 128, 0.94x / 0.45x at 14x14 256, 0.94x / 0.62x at 7x7 512
 * (16 tiles), 0.92x / 0.64x at 7x7 256, 1.01x / 0.64x at 56x56 16; with fewer tiles the
 * transform shows: 1.11x at 5x5 128 (stored 0.67x im2col), 1.42x at 4x4 256 (stored 0.47x),
 * 1.82x at 2x2 512. Under 16 output pixels im2col stays (2x2 512: stored 0.92x, 1x1: 3 of 4
 * outputs wasted). Under 8 channels im2col stays: qwino 1.57x its time at 224x224 3 -> 64, 1.60x at
 * 112x112 3 -> 16, 1.25x at 56x56 4 -> 32 (0.81x at 56x56 8 -> 32).
 */
function qwinoForm(win: Window, C: number, OC: number): 'stream' | 'stored' | undefined {
  if (!(win.kh === 3 && win.kw === 3 && win.sh === 1 && win.sw === 1 && win.dh === 1 && win.dw === 1 &&
    C >= QWINO_MIN_CHANNELS && C <= QWINO_MAX_CHANNELS && win.oh * win.ow >= 16)) return undefined;
  if (((win.oh + 1) >> 1) * ((win.ow + 1) >> 1) >= QWINO_STREAM_TILES) return 'stream';
  return C * OC <= QWINO_LARGE_FILTER ? 'stored' : undefined;
}

/**
 * Conv weights [OC][CG][KH][KW] of outputs first .. first + count − 1 as GEMM rows in im2col's
 * (ky, kx, c) order: [count][KH][KW][CG] (T = KH·KW taps).
 */
function im2colRows(w: Int8Array, first: number, count: number, CG: number, T: number): Int8Array {
  const K = CG * T;
  const r = new Int8Array(count * K);
  for (let o = 0; o < count; o++) for (let c = 0; c < CG; c++) for (let t = 0; t < T; t++) r[o * K + t * CG + c] = w[((first + o) * CG + c) * T + t];
  return r;
}

/**
 * _QConv: int8 2-D convolution with a requantizing epilogue. Dense convs run qgemm_q8 on the
 * NHWC input itself (1x1, stride 1, no padding), qwino_q8 (3x3 stride 1) or qgemm_q8 on
 * qim2col_q8's rows; depthwise convs run qdwconv_q8. A residual _QAdd that lower.ts fused into
 * it (_post = 'add', the other operand as input 1) runs in each kernel's epilogue (postBlock;
 * resnet50 int8 median 0.98x the time of separate adds, bench/ab.js --int8).
 */
const qconv: OpDef = {
  ops: ['_QConv'],
  layout: 'nhwc',
  infer(n, ctx) {
    const { x, w, win } = convGeometry(n, ctx);
    return [fusedAddShape(n, ctx, [x[0], w[0], win.oh, win.ow])];
  },
  macs(n, ctx) {
    const { x, w, win } = convGeometry(n, ctx);
    return x[0] * win.oh * win.ow * w[0] * w[1] * w[2] * w[3];
  },
  plan(n, ctx) {
    const { x, w, win, depthwise } = convGeometry(n, ctx);
    const { k } = ctx;
    const [N, C] = x;
    const OC = w[0], T = w[2] * w[3];
    const wt = n.attrs._w as unknown as { ints: Int8Array };
    const rs = n.attrs._rs as number[];
    const perChannel = rs.some((s) => s !== rs[0]) ? 1 : 0;
    const bias = n.attrs._b as number[] | undefined;
    const xi = ctx.ptr(n.inputs[0]), yo = ctx.ptr(n.outputs[0]);
    const post = postBlock(n, ctx);
    const xz = num(n, '_xz'), xsg = num(n, '_xsg'), yz = num(n, '_yz'), ysg = num(n, '_ysg'), lo = num(n, '_lo'), hi = num(n, '_hi');
    const macs = N * win.oh * win.ow * OC * w[1] * T;
    if (depthwise) {
      const C16 = (C + 15) & ~15;
      const bp = putInts(ctx, bias ?? [], C16);
      // interior pixels start from bias − zx·Σw (packed with the weights)
      const packed = packBytes(ctx, ['qdw', wt.ints, bias, xz, xsg, C, w[2], w[3]], wt.ints, k.qdwconv_packed_size(C, T), (wb, dst) => k.qdwconv_pack(wb, C, w[2], w[3], bp, xz, xsg, dst));
      const sp = putFloats(ctx, rs, C16);
      const g = geomBlock(ctx, x, C, win);
      const s = ctx.scratch(ctx.threads * k.qdwconv_scratch_size(g));
      return ctx.parallel('qdwconv_q8', [g, xi, xsg, xz, packed, bp, sp, perChannel, yz, lo, hi, yo, OC, ysg, s, post], macs);
    }
    const bp = bias ? putInts(ctx, bias) : 0;
    const sp = putFloats(ctx, perChannel ? rs : [rs[0]]);
    const form = qwinoForm(win, C, OC);
    if (form) {
      const streamed = form === 'stream' ? 1 : 0;
      const packed = streamed
        ? packBytes(ctx, ['qwinos', wt.ints, C, OC], wt.ints, k.qwino_stream_size(C, OC), (wb, dst) => k.qwino_stream_pack(wb, C, OC, dst))
        : packBytes(ctx, ['qwino', wt.ints, C, OC], wt.ints, k.qwino_packed_size(C, OC), (wb, dst) => k.qwino_pack(wb, C, OC, dst));
      const g = geomBlock(ctx, x, C, win);
      const s = ctx.scratch(ctx.threads * k.qwino_scratch_size(g, OC, streamed));
      return ctx.parallel('qwino_q8', [g, xi, xsg, xz, packed, streamed, OC, bp, sp, perChannel, yz, lo, hi, yo, OC, ysg, s, post], macs);
    }
    // weights [OC][C][KH][KW] → rows in im2col order [OC][KH][KW][C] (1x1: already)
    const K = C * T;
    const packed = qgemmPacked(ctx, [wt.ints], T === 1 ? wt.ints : () => im2colRows(wt.ints, 0, OC, C, T), OC, K);
    const M = N * win.oh * win.ow;
    const direct = T === 1 && win.sh === 1 && win.sw === 1 && win.pt + win.pl + win.pb + win.pr === 0;
    // scratch: im2col's rows (unless direct), then each thread's widened weight block
    const colBytes = direct ? 0 : (M * K + 63) & ~63;
    const s = ctx.scratch(colBytes + ctx.threads * k.qgemm_scratch_size(K));
    const wide = { get ptr() { return s.ptr + colBytes; } };
    const gemm = (a: number | { ptr: number }, lda: number): Step =>
      ctx.parallel('qgemm_q8', [M, OC, K, a, lda, xsg, xz, packed, bp, sp, perChannel, yz, lo, hi, yo, OC, ysg, wide, post], macs);
    if (direct) return gemm(xi, C);
    const col = s;
    const g = geomBlock(ctx, x, C, win);
    const im2col = ctx.parallel('qim2col_q8', [g, xi, xz, col], M * K);
    const mm = gemm(col, K);
    return () => {
      im2col();
      mm();
    };
  },
};

/** _QGemm: y[m][n] = requant(Σ_k (a[m][k] − za)·W[n][k] + bias[n]) over the last axis of a. */
const qgemm: OpDef = {
  ops: ['_QGemm'],
  layout: 'plain',
  infer(n, ctx) {
    const a = ctx.shape(n.inputs[0]);
    const [N, K] = (n.attrs._w as { shape: number[] }).shape;
    if (a.length < 2 || a[a.length - 1] !== K) throw new ShapeError(`${n.name}: input ${shapeStr(a)} does not fit weights [${N}, ${K}] (K = ${K})`);
    return [fusedAddShape(n, ctx, [...a.slice(0, -1), N])];
  },
  macs(n, ctx) {
    const a = ctx.shape(n.inputs[0]);
    return numel(a) * (n.attrs._w as { shape: number[] }).shape[0];
  },
  plan(n, ctx) {
    const { k } = ctx;
    const a = ctx.shape(n.inputs[0]);
    const w = n.attrs._w as unknown as { ints: Int8Array; shape: number[] };
    const [N, K] = w.shape;
    const M = numel(a) / K;
    const rs = n.attrs._rs as number[];
    const perChannel = rs.some((s) => s !== rs[0]) ? 1 : 0;
    const bias = n.attrs._b as number[] | undefined;
    const packed = qgemmPacked(ctx, [w.ints], w.ints, N, K);
    const bp = bias ? putInts(ctx, bias) : 0;
    const sp = putFloats(ctx, perChannel ? rs : [rs[0]]);
    const wide = ctx.scratch(ctx.threads * k.qgemm_scratch_size(K));
    const args = [M, N, K, ctx.ptr(n.inputs[0]), K, num(n, '_xsg'), num(n, '_xz'), packed, bp, sp, perChannel, num(n, '_yz'), num(n, '_lo'), num(n, '_hi'), ctx.ptr(n.outputs[0]), N, num(n, '_ysg'), wide, postBlock(n, ctx)];
    return ctx.parallel('qgemm_q8', args, M * N * K);
  },
};

/**
 * Geometry of a _QDyn: GEMM rows M, output columns N, depth K (per group), groups G, and for a
 * conv its input shape and window.
 */
function dynGeometry(n: Node, ctx: InferCtx): { M: number; N: number; K: number; G: number; out: number[]; conv?: { x: number[]; win: Window } } {
  const x = ctx.shape(n.inputs[0]);
  const w = (n.attrs._w as { shape: number[] }).shape;
  if (num(n, '_mm')) {
    const [N, K] = w;
    if (x.length < 1 || x[x.length - 1] !== K) throw new ShapeError(`MatMulInteger node '${n.name}': input ${shapeStr(x)} does not fit weights [${K}, ${N}]`);
    return { M: numel(x) / K, N, K, G: 1, out: [...x.slice(0, -1), N] };
  }
  const G = num(n, 'group');
  if (x.length !== 4 || x[1] !== w[1] * G) throw new ShapeError(`ConvInteger node '${n.name}': input ${shapeStr(x)} with group=${G} does not fit weight ${shapeStr(w)}`);
  const win = lib.window2d(n, x[2], x[3], [w[2], w[3]]);
  return { M: x[0] * win.oh * win.ow, N: w[0], K: w[1] * w[2] * w[3], G, out: [x[0], w[0], win.oh, win.ow], conv: { x, win } };
}

/**
 * _QDyn (src/quant/dynamic.ts): DynamicQuantizeLinear → ConvInteger / MatMulInteger → Cast →
 * Mul(x_scale · w_scale) [→ Add(b)] of a dynamically quantized file, float in and out. Per run:
 * the input's range (range_f32), DynamicQuantizeLinear's scale and zero point from it (in float32
 * as onnxruntime, src/graph/eval/integer.ts), uint8 bytes (quantize_f32_q8: the same division,
 * clamp and rounding), the exact i32 sums (qgemm_i32 per group; qim2col_q8 first for a window
 * with taps beside the pixel, its padding the run's zero point), written into the float output's
 * own buffer and turned there into f32(acc)·f32(x_scale·w_scale[n]) (+ b[n]). Groups (depthwise
 * too) are separate GEMMs over their channel slice. One thread: the zero point and scale are the
 * run's, so the kernels are called here rather than through the pool's fixed arguments. An
 * input with NaN or infinity has no range: ValueError.
 */
const qdyn: OpDef = {
  ops: ['_QDyn'],
  layout: 'any',
  layoutRule: (n) => (num(n, '_mm') ? { input: 'plain', output: 'plain' } : { input: 'nhwc', output: 'nhwc' }),
  infer: (n, ctx) => [dynGeometry(n, ctx).out],
  macs(n, ctx) {
    const { M, N, K } = dynGeometry(n, ctx);
    return M * N * K;
  },
  plan(n, ctx) {
    const { k, mem } = ctx;
    const { M, N, K, G, conv } = dynGeometry(n, ctx);
    const w = n.attrs._w as unknown as { ints: Int8Array; shape: number[] };
    const T = conv ? w.shape[2] * w.shape[3] : 1;
    const CG = conv ? w.shape[1] : K, C = CG * G, NG = N / G;
    // depthwise (one input and one output channel a group): qdwconv_i32, its weights packed each
    // run (the sums start from −zx·Σw, and zx is the run's); other groups: a GEMM each
    const x = conv?.x;
    const dw = !!x && G > 1 && G === N && CG === 1;
    const wRaw = dw ? putBytes(ctx, w.ints) : 0;
    const dwPacked = dw ? ctx.mem.alloc(k.qdwconv_packed_size(N, T)) : 0;
    const dwZero = dw ? putInts(ctx, [], (N + 15) & ~15) : 0;
    // weights taken as w − s with (s − zw)·Σ(x − zx) added (dynamic.ts): the sums per output row,
    // or per output for depthwise (the same kernel with weights of 1)
    const factor = num(n, '_wf') ?? 0;
    const ones = dw && factor ? putBytes(ctx, new Int8Array(N * T).fill(1)) : 0;
    const onesPacked = ones ? ctx.mem.alloc(k.qdwconv_packed_size(N, T)) : 0;
    // each group's weights as im2col rows (one 1x1 group: already)
    const packs = dw ? [] : Array.from({ length: G }, (_, gi) =>
      qgemmPacked(ctx, [w.ints, gi], G === 1 && T === 1 ? w.ints : () => im2colRows(w.ints, gi * NG, NG, CG, T), NG, K));
    const ws = Float32Array.from(n.attrs._ws as number[]);
    const bias = n.attrs._b as number[] | undefined;
    const bp = bias ? putFloats(ctx, bias) : 0;
    const sp = putFloats(ctx, ws);
    const rp = putFloats(ctx, [0, 0, 0]);
    const xi = ctx.ptr(n.inputs[0]), yo = ctx.ptr(n.outputs[0]);
    const len = numel(ctx.shape(n.inputs[0]));
    const win = conv?.win;
    const direct = dw || !win || (T === 1 && win.sh === 1 && win.sw === 1 && win.pt + win.pl + win.pb + win.pr === 0);
    // im2col of one group: CG channels of pixels C bytes apart (depthwise: all C channels)
    const geo = x && win && (dw || !direct) ? geomBlock(ctx, x, dw ? C : CG, win, C) : 0;
    // scratch: the input's bytes, one group's im2col rows (unless direct), the GEMM's widened
    // weight block (depthwise: qdwconv_i32's widened weight pairs)
    const xBytes = (len + 63) & ~63;
    const colBytes = direct ? 0 : (M * K + 63) & ~63;
    const sumBytes = factor ? ((dw ? M * N : M) * 4 + 63) & ~63 : 0;
    const s = ctx.scratch(xBytes + colBytes + sumBytes + (dw ? k.qdwconv_scratch_size(geo) : k.qgemm_scratch_size(K)));
    const f = Math.fround;
    return () => {
      k.range_f32(xi, len, rp);
      const r = mem.f32.subarray(rp >>> 2, (rp >>> 2) + 3);
      if (r[2] !== 0) throw new ValueError(`DynamicQuantizeLinear of node '${n.name}': the input holds NaN or infinity, which have no quantization range`);
      const { scale, zp } = dynamicParams(r[0], r[1]);
      const xq = s.ptr, col = s.ptr + xBytes, sums = col + colBytes, wide = sums + sumBytes;
      k.quantize_f32_q8(xi, len, scale, zp, 0, xq);
      const sv = mem.f32;
      for (let c = 0; c < N; c++) sv[(sp >>> 2) + c] = f(scale * ws[c]);
      if (dw) {
        k.qdwconv_pack(wRaw, N, w.shape[2], w.shape[3], dwZero, zp, 0, dwPacked);
        k.qdwconv_i32(geo, xq, zp, dwPacked, dwZero, yo, N * 4, wide, 0, 1);
        if (factor) {
          k.qdwconv_pack(ones, N, w.shape[2], w.shape[3], dwZero, zp, 0, onesPacked);
          k.qdwconv_i32(geo, xq, zp, onesPacked, dwZero, sums, N * 4, wide, 0, 1);
        }
      }
      for (let gi = 0; gi < packs.length; gi++) {
        // the group's A: its channel slice of the bytes, or im2col's rows of it
        const a = direct ? xq + gi * CG : col, lda = direct ? C : K;
        if (!direct) k.qim2col_q8(geo, xq + gi * CG, zp, col, 0, 1);
        // one group when factor != 0 (dynamic.ts): the row sums of its A
        if (factor) k.rowsum_u8(a, M, K, lda, zp, sums);
        k.qgemm_i32(M, NG, K, a, lda, 0, zp, packs[gi], 0, yo + gi * NG * 4, N, wide, 0, 1);
      }
      k.dequant_i32_f32(yo, M, N, sp, bp, factor ? sums : 0, dw ? N : 1, dw ? 1 : 0, factor);
    };
  },
};

/** _QAdd: QLinearAdd of two same-shape int8 tensors (onnxruntime's float rule; see assembly/qconv.ts). */
const qadd: OpDef = {
  ops: ['_QAdd'],
  layout: 'any',
  infer(n, ctx) {
    const a = ctx.shape(n.inputs[0]), b = ctx.shape(n.inputs[1]);
    if (a.join() !== b.join()) throw new UnsupportedOpError('QLinearAdd', n.name, `broadcasting int8 add (${shapeStr(a)} + ${shapeStr(b)})`);
    return [a.slice()];
  },
  plan(n, ctx) {
    const len = numel(ctx.shape(n.inputs[0]));
    const args = [ctx.ptr(n.inputs[0]), ctx.ptr(n.inputs[1]), len, num(n, '_sg'), num(n, '_ra'), num(n, '_rb'), num(n, '_fixed'), num(n, '_lo'), num(n, '_hi'), ctx.ptr(n.outputs[0])];
    return ctx.parallel('qadd_q8', args, len);
  },
};

/**
 * _QMul: QLinearMul (and DQ → Mul → Q) of int8 tensors with numpy broadcasting of one operand
 * into the other (same shape, per-channel squeeze-excite gates, per-pixel attention maps,
 * scalars): onnxruntime's x86 rule (assembly/qconv.ts qmul_q8). The broadcast operand's element
 * strides are taken in the other's physical order (NHWC or plain), so any layout of either works.
 */
const qmul: OpDef = {
  ops: ['_QMul'],
  layout: 'any',
  infer(n, ctx) {
    return [mulOperands(n, ctx.shape(n.inputs[0]), ctx.shape(n.inputs[1])).shape];
  },
  plan(n, ctx) {
    const { big, swap, shape } = mulOperands(n, ctx.shape(n.inputs[0]), ctx.shape(n.inputs[1]));
    const a = n.inputs[big], b = n.inputs[1 - big];
    const r = shape.length;
    // a's physical axes as logical ones (NHWC: N, H, W, C), b's element stride per logical axis
    const perm = ctx.layout(a) === 'nhwc' ? [0, 2, 3, 1] : shape.map((_, i) => i);
    const bShape = ctx.shape(b);
    const bLog = [...new Array(r - bShape.length).fill(1), ...bShape];
    const bPhysOrder = ctx.layout(b) === 'nhwc' ? [0, 2, 3, 1] : bLog.map((_, i) => i);
    const strideOf = new Array<number>(r).fill(0);
    let step = 1;
    for (let p = r - 1; p >= 0; p--) {
      const l = bPhysOrder[p];
      strideOf[l] = bLog[l] === 1 ? 0 : step;
      step *= bLog[l];
    }
    const dims = [1, 1, 1, 1], strides = [0, 0, 0, 0];
    perm.forEach((l, p) => {
      dims[4 - r + p] = shape[l];
      strides[4 - r + p] = strideOf[l];
    });
    const za = num(n, swap ? '_zb' : '_za'), zb = num(n, swap ? '_za' : '_zb');
    const args = [ctx.ptr(a), ctx.ptr(b), ctx.ptr(n.outputs[0]), ...dims, ...strides, num(n, '_sg'), za, zb, num(n, '_ratio'), num(n, '_zc'), num(n, '_lo'), num(n, '_hi')];
    return ctx.parallel('qmul_q8', args, numel(shape));
  },
};

/** Which _QMul operand the other broadcasts into (numpy rules, ranks up to 4), and the output shape. */
function mulOperands(n: Node, a: number[], b: number[]): { big: number; swap: boolean; shape: number[] } {
  const into = (x: number[], y: number[]) =>
    y.length <= x.length && y.every((d, i) => d === 1 || d === x[x.length - y.length + i]);
  const big = into(a, b) ? 0 : into(b, a) ? 1 : -1;
  const shape = big === 1 ? b : a;
  if (big < 0 || shape.length > 4)
    throw new UnsupportedOpError('QLinearMul', n.name, `int8 multiply of ${shapeStr(a)} and ${shapeStr(b)} (one operand must broadcast into the other, rank at most 4)`);
  return { big, swap: big === 1, shape: shape.slice() };
}

/** The window of a _QMaxPool (checked as ONNX MaxPool's: pads smaller than the kernel, ceil_mode). */
function poolWindow(n: Node, ctx: InferCtx): { x: number[]; win: Window } {
  const x = ctx.shape(n.inputs[0]);
  if (x.length !== 4) throw new UnsupportedOpError('MaxPool', n.name, `int8 max pooling of a ${x.length}-D input`);
  const ks = n.attrs.kernel_shape as number[];
  return { x, win: lib.window2d({ ...n, op: 'MaxPool' }, x[2], x[3], ks, n.attrs.ceil_mode === 1) };
}

/** _QMaxPool: MaxPool on int8 NHWC bytes (the max of the bytes; quantization is monotone). */
const qmaxpool: OpDef = {
  ops: ['_QMaxPool'],
  layout: 'nhwc',
  infer(n, ctx) {
    const { x, win } = poolWindow(n, ctx);
    return [[x[0], x[1], win.oh, win.ow]];
  },
  plan(n, ctx) {
    const { x, win } = poolWindow(n, ctx);
    const g = geomBlock(ctx, x, x[1], win);
    return ctx.parallel('qmaxpool_q8', [g, ctx.ptr(n.inputs[0]), num(n, '_sg'), ctx.ptr(n.outputs[0])], x[0] * win.oh * win.ow * x[1] * win.kh * win.kw);
  },
};

/** _QGap: QLinearGlobalAveragePool on NHWC bytes; output [N, C, 1, 1]. */
const qgap: OpDef = {
  ops: ['_QGap'],
  layout: 'nhwc',
  infer(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    if (x.length !== 4) throw new UnsupportedOpError('QLinearGlobalAveragePool', n.name, `4-D input expected, got ${shapeStr(x)}`);
    return [[x[0], x[1], 1, 1]];
  },
  plan(n, ctx) {
    const { k } = ctx;
    const [N, C, H, W] = ctx.shape(n.inputs[0]);
    const HW = H * W;
    // onnxruntime: x_scale / (y_scale · HW) in f32
    const scale = Math.fround(num(n, '_xs') / Math.fround(num(n, '_ys') * HW));
    const x = ctx.ptr(n.inputs[0]), y = ctx.ptr(n.outputs[0]);
    const xsg = num(n, '_xsg'), xz = num(n, '_xz'), yz = num(n, '_yz'), ysg = num(n, '_ysg');
    return () => k.qgap_q8(N, HW, C, C, x, xsg, xz, scale, yz, ysg, y);
  },
};

/**
 * _QLut: DequantizeLinear → an elementwise float op → QuantizeLinear as one byte table. The table
 * is made at plan time by the very steps the unfused chain runs (dequantize_q8_f32, unary_f32
 * with the op's code, quantize_f32_q8) on the 256 input bytes, then clamped to [_lo, _hi] (a
 * fused Relu/Clip after the op), so each byte maps as DQ → op → Q would map it.
 * _act: the float op, whose attributes are the node's own (a Clip's bounds as min/max).
 */
const qlut: OpDef = {
  ops: ['_QLut'],
  layout: 'any',
  infer: sameShape,
  plan(n, ctx) {
    const { k } = ctx;
    // the float op with its own attributes (a Clip's bounds as min/max: the opset < 11 form)
    const attrs = Object.fromEntries(Object.entries(n.attrs).filter(([a]) => !a.startsWith('_')));
    const { act, p0, p1 } = lib.unaryCode({ name: n.name, op: n.attrs._act as string, inputs: [], outputs: [], attrs }, { opset: 10 } as InferCtx);
    const table = ctx.mem.alloc(256);
    const mark = ctx.mem.mark();
    const bytes = ctx.mem.alloc(256), xf = ctx.mem.alloc(1024), yf = ctx.mem.alloc(1024);
    new Uint8Array(ctx.mem.memory.buffer, bytes, 256).set(Array.from({ length: 256 }, (_, i) => i));
    k.dequantize_q8_f32(bytes, 256, num(n, '_xsg'), num(n, '_xz'), num(n, '_xs'), xf);
    k.unary_f32(act, xf, yf, 1, 256, 256, 256, p0, p1, 0, 1);
    k.quantize_f32_q8(yf, 256, num(n, '_ys'), num(n, '_yz'), num(n, '_ysg'), table);
    const t = num(n, '_ysg') ? new Int8Array(ctx.mem.memory.buffer, table, 256) : new Uint8Array(ctx.mem.memory.buffer, table, 256);
    const lo = num(n, '_lo'), hi = num(n, '_hi');
    for (let i = 0; i < 256; i++) t[i] = Math.min(hi, Math.max(lo, t[i]));
    ctx.mem.reset(mark);
    const len = numel(ctx.shape(n.inputs[0]));
    return ctx.parallel('qlut_q8', [ctx.ptr(n.inputs[0]), len, table, ctx.ptr(n.outputs[0])], len);
  },
};

/** Post-step kinds of assembly/qpost.ts: QLinearAdd with the producer's bytes as operand a, as b. */
const POST_ADD_A = 1, POST_ADD_B = 2;

/**
 * The post block (assembly/qpost.ts) of a _QConv / _QGemm that took a residual _QAdd into its
 * epilogue (src/quant/lower.ts fuseResidualAdds), or 0: 32 bytes, the kind, the add's other
 * operand's offset from the output (both contiguous, one shape), then the add's parameters as
 * qadd_q8 takes them.
 */
function postBlock(n: Node, ctx: PlanCtx): number {
  if (n.attrs._post !== 'add') return 0;
  const a = postAttrs(n, ADD_PREFIX);
  const words = new Int32Array(8), f = new Float32Array(words.buffer);
  words[0] = num(n, '_addA') ? POST_ADD_A : POST_ADD_B;
  words[1] = (ctx.ptr(n.inputs[1]) - ctx.ptr(n.outputs[0])) | 0;
  words[2] = a._sg as number;
  f[3] = a._ra as number;
  f[4] = a._rb as number;
  f[5] = a._fixed as number;
  words[6] = a._lo as number;
  words[7] = a._hi as number;
  return ctx.mem.putI32(words);
}

/** The output shape of a _QConv / _QGemm, checked against a fused add's other operand (same shape, as _QAdd). */
function fusedAddShape(n: Node, ctx: InferCtx, y: number[]): number[] {
  if (n.attrs._post !== 'add') return y;
  const b = ctx.shape(n.inputs[1]);
  if (b.join() !== y.join()) throw new UnsupportedOpError('QLinearAdd', n.name, `broadcasting int8 add (${shapeStr(y)} + ${shapeStr(b)})`);
  return y;
}

/** The int8 ops, for src/ops/index.ts's table (registered when this module loads). */
export const QUANT_OPDEFS: readonly OpDef[] = [quantize, dequantize, qconv, qgemm, qdyn, qadd, qmul, qgap, qmaxpool, qlut];
