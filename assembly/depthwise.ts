// Depthwise convolution (MobileNets, Howard et al. 2017; groups == C == OC) on NHWC
// activations, vectorised over channels with f32x4, with optional dilation (DeepLab, Chen et
// al. 2017) and a fused ReLU / clamp epilogue.
//
// Packed weights: one tile per 4 channels (the last tile zero-padded), each tile holding the
// 4 biases followed by the KH*KW taps, row-major, 4 channels a tap:
//   tile t: [bias c..c+3][tap(0,0) c..c+3][tap(0,1) c..c+3] ... [tap(KH-1,KW-1) c..c+3]
// so one channel tile's whole filter is one contiguous (1 + KH*KW) * 16-byte run.
//
// Loop structure of dwconv_f32:
//   * interior output pixels (every tap inside the input) of square 3x3 / 5x5 / 7x7 kernels
//     run without bounds checks in pixel blocks (blockPixels): 3x3 as [channel tile] x
//     [pixels] with the taps held in registers and one accumulator summing the bias, then
//     the taps in (kh, kw) order as the per-pixel path does (three accumulators, with their
//     three extra live registers, made V8 spill: 10-25% slower), 5x5 / 7x7 as [pixel triples] x
//     [channel tile pairs]; stride and dilation are plain pointer steps, so s1, s2 and dilated
//     kernels all run at the same speed;
//   * border pixels, other kernel shapes and the C % 4 remainder channels take the generic
//     per-pixel path, which clips the tap range once per pixel instead of testing every tap
//     and sums four channel tiles at a time;
//   * the remainder tile loads and stores only the C % 4 live lanes (never reads or writes
//     past the tensor's channels).
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_DH, G_DW,
  G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0, G_ACT_P1, ACT_RELU, ACT_CLAMP,
} from './codes';
import { partStart } from './parallel';
import { geo, interiorHi, interiorLo, loadPart, storePart, tapHi, tapLo } from './window';

// Output pixels per block in the interior loop. Each channel tile's pass over a block touches
// KH rows x (block * stride + (KW-1) * dilation) pixels, one cache line each, and the next three
// tiles reuse those lines, so they must stay in L1. When the pixel stride has a large power-of-
// two factor (C = 256: 1 KiB) the lines crowd into 4096 / that factor sets of a 32 KiB 8-way L1
// (4 sets for 1 KiB), so the block is sized to fit those sets' 8 ways; otherwise 32 pixels.
// Measured (GFLOP/s, 3x3 s1 33x33x256 / 56x56x144): fixed 32: 15.0 / 24.0; fixed 8: 20.6 / 19.7;
// this rule: 20.8 / 24.3.
@inline function blockPixels(ps: usize, KH: i32, KW: i32, SW: i32, DW: i32): i32 {
  const low = <i32>(ps & (~ps + 1)); // largest power of two dividing the pixel stride
  const sets = 4096 / min(4096, max(64, low));
  const cols = (sets << 3) / max(1, KH);
  return max(4, min(32, (cols - (KW - 1) * DW) / SW));
}

/** Floats of packed weights dwconv_pack writes for this geometry. */
export function dwconv_packed_size(g: usize): i32 {
  const C = geo(g, G_C);
  const taps = geo(g, G_KH) * geo(g, G_KW);
  return ((C + 3) & ~3) * (1 + taps);
}

/** Packs PyTorch/ONNX depthwise weights [C][1][KH][KW] (+ bias [C] or 0) into channel tiles. */
export function dwconv_pack(w: usize, bias: usize, g: usize, dst: usize): void {
  const C = geo(g, G_C);
  const taps = geo(g, G_KH) * geo(g, G_KW);
  const tiles = (C + 3) >> 2;
  const tileF = (1 + taps) << 2;
  for (let t = 0; t < tiles; t++) {
    const base = dst + (<usize>(t * tileF) << 2);
    for (let l = 0; l < 4; l++) {
      const c = (t << 2) + l;
      const live = c < C;
      store<f32>(base + (<usize>l << 2), live && bias != 0 ? load<f32>(bias + (<usize>c << 2)) : 0);
      for (let k = 0; k < taps; k++) {
        store<f32>(
          base + (<usize>(((1 + k) << 2) + l) << 2),
          live ? load<f32>(w + (<usize>(c * taps + k) << 2)) : 0,
        );
      }
    }
  }
}

// ---- partial-tile helpers: touch only the first `n` (1..3) lanes in memory ----

@inline function epilogue(a: v128, lo: v128, hi: v128): v128 {
  // pmax/pmin are single instructions and keep NaN (NaN < x is false).
  return f32x4.pmin(f32x4.pmax(a, lo), hi);
}

// ---- generic path: one output pixel, channel tiles [t0, t1) plus the remainder tile if rem ----
// ip: input pixel (ih0, iw0) of this output's window corner, possibly outside the tensor
//     (computed with wrapping arithmetic; only in-range taps are dereferenced).
function dwPixel(
  ip: usize, op: usize, pk: usize, t0: i32, t1: i32, rem: i32,
  kh0: i32, kh1: i32, kw0: i32, kw1: i32, KW: i32,
  rowStep: usize, colStep: usize, tileB: usize, lo: v128, hi: v128,
): void {
  // four tiles at a time: four independent sums instead of one add chain waiting on the last
  let t = t0;
  for (; t + 4 <= t1; t += 4) dwPixelTiles(4, ip, op, pk, t, 4, kh0, kh1, kw0, kw1, KW, rowStep, colStep, tileB, lo, hi);
  if (t + 2 <= t1) {
    dwPixelTiles(2, ip, op, pk, t, 4, kh0, kh1, kw0, kw1, KW, rowStep, colStep, tileB, lo, hi);
    t += 2;
  }
  if (t < t1) dwPixelTiles(1, ip, op, pk, t, 4, kh0, kh1, kw0, kw1, KW, rowStep, colStep, tileB, lo, hi);
  if (rem != 0) dwPixelTiles(1, ip, op, pk, t1, rem, kh0, kh1, kw0, kw1, KW, rowStep, colStep, tileB, lo, hi);
}

/**
 * TILES (1, 2 or 4) adjacent channel tiles from tile t of one output pixel, taps clipped to
 * [kh0, kh1) x [kw0, kw1); each tile's sum runs from its bias through the taps in (kh, kw)
 * order. lanes < 4 (TILES 1 only): the remainder tile, whose loads and store touch only those
 * lanes. 4 accumulators + 8 loads + product fit V8's 15 xmm registers.
 */
// @ts-ignore: decorator
@inline function dwPixelTiles(
  TILES: i32, ip: usize, op: usize, pk: usize, t: i32, lanes: i32,
  kh0: i32, kh1: i32, kw0: i32, kw1: i32, KW: i32,
  rowStep: usize, colStep: usize, tileB: usize, lo: v128, hi: v128,
): void {
  const w = pk + <usize>t * tileB;
  const c = <usize>t << 4;
  let a0 = v128.load(w), a1 = a0, a2 = a0, a3 = a0;
  if (TILES > 1) a1 = v128.load(w + tileB);
  if (TILES > 2) {
    a2 = v128.load(w + 2 * tileB);
    a3 = v128.load(w + 3 * tileB);
  }
  for (let kh = kh0; kh < kh1; kh++) {
    let x = ip + c + <usize>kh * rowStep + <usize>kw0 * colStep;
    let wk = w + 16 + (<usize>(kh * KW + kw0) << 4);
    for (let kw = kw0; kw < kw1; kw++) {
      a0 = f32x4.add(a0, f32x4.mul(lanes == 4 ? v128.load(x) : loadPart(x, lanes), v128.load(wk)));
      if (TILES > 1) a1 = f32x4.add(a1, f32x4.mul(v128.load(x, 16), v128.load(wk + tileB)));
      if (TILES > 2) {
        a2 = f32x4.add(a2, f32x4.mul(v128.load(x, 32), v128.load(wk + 2 * tileB)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(x, 48), v128.load(wk + 3 * tileB)));
      }
      x += colStep;
      wk += 16;
    }
  }
  if (lanes < 4) {
    storePart(op + c, epilogue(a0, lo, hi), lanes);
    return;
  }
  v128.store(op + c, epilogue(a0, lo, hi));
  if (TILES > 1) v128.store(op + c, epilogue(a1, lo, hi), 16);
  if (TILES > 2) {
    v128.store(op + c, epilogue(a2, lo, hi), 32);
    v128.store(op + c, epilogue(a3, lo, hi), 48);
  }
}

// ---- interior runs: `n` consecutive output pixels of one channel tile, no bounds checks ----
// ip: input at the first pixel's window corner (+ channel offset), sIn: input step between
// outputs (stride * pixel bytes), cs / rs: byte step between taps along a row / down a column
// (dilation included), w: the channel tile's packed filter (bias first).

/**
 * `n` pixels of one channel tile, the nine taps held in registers, one accumulator summing the
 * bias then the taps of kernel rows [LO, HI) in (kh, kw) order, as the per-pixel path does
 * (three accumulators, with the bias and taps held, left too few of V8's 15 xmm registers).
 * Kernel row kh reads input row ip + kh·rs. Interior rows take all three; a top or bottom
 * output row of the image leaves out the kernel row that falls into the padding (LO, HI are
 * compile-time, so each variant is its own loop with one moving input pointer).
 */
// @ts-ignore: decorator
@inline function dw3x3Loop(
  LO: i32, HI: i32, ip: usize, rs: usize, op: usize, n: i32, sIn: usize, cs: usize, sOut: usize,
  w: usize, lo: v128, hi: v128,
): void {
  const w00 = v128.load(w, 16), w01 = v128.load(w, 32), w02 = v128.load(w, 48);
  const w10 = v128.load(w, 64), w11 = v128.load(w, 80), w12 = v128.load(w, 96);
  const w20 = v128.load(w, 112), w21 = v128.load(w, 128), w22 = v128.load(w, 144);
  const cs2 = cs << 1;
  for (let i = 0; i < n; i++) {
    let a = v128.load(w);
    if (LO == 0) {
      a = f32x4.add(a, f32x4.mul(v128.load(ip), w00));
      a = f32x4.add(a, f32x4.mul(v128.load(ip + cs), w01));
      a = f32x4.add(a, f32x4.mul(v128.load(ip + cs2), w02));
    }
    const r1 = ip + rs;
    a = f32x4.add(a, f32x4.mul(v128.load(r1), w10));
    a = f32x4.add(a, f32x4.mul(v128.load(r1 + cs), w11));
    a = f32x4.add(a, f32x4.mul(v128.load(r1 + cs2), w12));
    if (HI == 3) {
      const r2 = r1 + rs;
      a = f32x4.add(a, f32x4.mul(v128.load(r2), w20));
      a = f32x4.add(a, f32x4.mul(v128.load(r2 + cs), w21));
      a = f32x4.add(a, f32x4.mul(v128.load(r2 + cs2), w22));
    }
    v128.store(op, epilogue(a, lo, hi));
    ip += sIn;
    op += sOut;
  }
}

/** `n` interior pixels of one channel tile: all three kernel rows. */
function dw3x3Run(
  ip: usize, op: usize, n: i32, sIn: usize, cs: usize, rs: usize, sOut: usize, w: usize, lo: v128, hi: v128,
): void {
  dw3x3Loop(0, 3, ip, rs, op, n, sIn, cs, sOut, w, lo, hi);
}

/**
 * A top or bottom output row's interior pixels: kernel rows [kh0, kh1), kh0 <= 1 < kh1 (its
 * own function: the interior loop compiled beside these variants ran ~10% slower).
 */
function dw3x3EdgeRun(
  ip: usize, op: usize, n: i32, sIn: usize, cs: usize, rs: usize, sOut: usize, w: usize, lo: v128, hi: v128,
  kh0: i32, kh1: i32,
): void {
  if (kh0 == 0) dw3x3Loop(0, 2, ip, rs, op, n, sIn, cs, sOut, w, lo, hi);
  else if (kh1 == 3) dw3x3Loop(1, 3, ip, rs, op, n, sIn, cs, sOut, w, lo, hi);
  else dw3x3Loop(1, 2, ip, rs, op, n, sIn, cs, sOut, w, lo, hi);
}

// 5x5 and 7x7: pixel-outer, channel-inner (the taps no longer fit in registers, so each
// tap's contiguous run of channels streams through whole cache lines; neighbouring pixels find
// their shared columns in L1). Measured against the former tile-outer 2-pixel runs (GFLOP/s,
// 56x56x96 7x7 / 28x28x240 5x5): 18.8 / 19.0 -> 23.5 / 21.7; for 3x3 the same structure was
// 5-10% slower than dw3x3Run with its taps in registers.
/**
 * PX (2 or 3) output pixels × TILES (2 or 1) channel tiles of a KxK window: each tap's
 * weight vector is loaded once for all pixels; PX·TILES accumulators sum the bias, then the
 * taps in (kh, kw) order as dwPixel does. npx < PX: only the first npx pixels are real (the
 * others repeat the first's input, nothing stored for them). TurboFan loads a step's operands
 * before its arithmetic: 6 accumulators + 8 loads + product = V8's 15 xmm registers (4 tiles ×
 * 2 pixels, 8 + 12 + 1, spilled and ran 30% slower). Against 2 pixels × 2 tiles, interleaved
 * GMAC/s: 7x7 56x56x96 12.9 -> 13.6, 5x5 7x7x1152 11.0 -> 12.1, 5x5 14x14x672 s2 10.2 -> 11.4.
 */
@inline function dwTiles(
  K: i32, TILES: i32, PX: i32, p: usize, sIn: usize, o: usize, sOut: usize, npx: i32, w: usize,
  cs: usize, rs: usize, lo: v128, hi: v128,
): void {
  const TB = <usize>(1 + K * K) << 4;
  const s1 = npx > 1 ? sIn : 0, s2 = npx > 2 ? sIn << 1 : 0;
  let a0 = v128.load(w), b0 = a0, c0 = a0, a1 = a0, b1 = a0, c1 = a0;
  if (TILES > 1) {
    a1 = v128.load(w + TB);
    b1 = a1;
    c1 = a1;
  }
  let wp = w + 16;
  for (let kh = 0; kh < K; kh++) {
    let pc = p;
    for (let kw = 0; kw < K; kw++) {
      const w0 = v128.load(wp);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(pc), w0));
      b0 = f32x4.add(b0, f32x4.mul(v128.load(pc + s1), w0));
      if (PX > 2) c0 = f32x4.add(c0, f32x4.mul(v128.load(pc + s2), w0));
      if (TILES > 1) {
        const w1 = v128.load(wp + TB);
        a1 = f32x4.add(a1, f32x4.mul(v128.load(pc, 16), w1));
        b1 = f32x4.add(b1, f32x4.mul(v128.load(pc + s1, 16), w1));
        if (PX > 2) c1 = f32x4.add(c1, f32x4.mul(v128.load(pc + s2, 16), w1));
      }
      wp += 16;
      pc += cs;
    }
    p += rs;
  }
  v128.store(o, epilogue(a0, lo, hi));
  if (TILES > 1) v128.store(o, epilogue(a1, lo, hi), 16);
  if (npx > 1) {
    v128.store(o + sOut, epilogue(b0, lo, hi));
    if (TILES > 1) v128.store(o + sOut, epilogue(b1, lo, hi), 16);
  }
  if (PX > 2 && npx > 2) {
    const o2 = o + (sOut << 1);
    v128.store(o2, epilogue(c0, lo, hi));
    if (TILES > 1) v128.store(o2, epilogue(c1, lo, hi), 16);
  }
}

/** npx (<= PX) pixels × `full` channel tiles, two tiles at a time. */
@inline function dwRunTiles(
  K: i32, PX: i32, ip: usize, op: usize, sIn: usize, sOut: usize, npx: i32, w: usize, full: i32,
  cs: usize, rs: usize, lo: v128, hi: v128,
): void {
  const TB = <usize>(1 + K * K) << 4;
  let t = 0;
  for (; t + 2 <= full; t += 2) {
    const c = <usize>t << 4;
    dwTiles(K, 2, PX, ip + c, sIn, op + c, sOut, npx, w + <usize>t * TB, cs, rs, lo, hi);
  }
  for (; t < full; t++) {
    const c = <usize>t << 4;
    dwTiles(K, 1, PX, ip + c, sIn, op + c, sOut, npx, w + <usize>t * TB, cs, rs, lo, hi);
  }
}

/** `n` interior output pixels from input corner ip / output op (steps sIn / sOut), `full` tiles. */
@inline function dwRun(
  K: i32, ip: usize, op: usize, n: i32, sIn: usize, cs: usize, rs: usize, sOut: usize,
  w: usize, full: i32, lo: v128, hi: v128,
): void {
  // threes, and the last 2, 4 or 1 pixels in twos (a lone one wastes half a pass, a third
  // pixel slot a third)
  let i = 0;
  for (; n - i >= 3 && n - i != 4; i += 3) {
    dwRunTiles(K, 3, ip, op, sIn, sOut, 3, w, full, cs, rs, lo, hi);
    ip += sIn * 3;
    op += sOut * 3;
  }
  for (; i < n; i += 2) {
    dwRunTiles(K, 2, ip, op, sIn, sOut, min(2, n - i), w, full, cs, rs, lo, hi);
    ip += sIn << 1;
    op += sOut << 1;
  }
}

/**
 * Depthwise convolution y = act(bias + sum of taps), NHWC, geometry block g, weights packed by
 * dwconv_pack. Square 3x3 / 5x5 / 7x7 kernels (any stride, any dilation) take the
 * register-tiled interior path; everything else the generic clipped-window path.
 * part / parts: this call computes a band of output rows (parallel.ts).
 */
export function dwconv_f32(g: usize, input: usize, packed: usize, output: usize, part: i32, parts: i32): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C);
  const OH = geo(g, G_OH), OW = geo(g, G_OW);
  const KH = geo(g, G_KH), KW = geo(g, G_KW);
  const SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL);
  const DH = geo(g, G_DH), DW = geo(g, G_DW);
  const act = geo(g, G_ACT);
  let lo = f32x4.splat(-Infinity);
  let hi = f32x4.splat(Infinity);
  if (act == ACT_RELU) {
    lo = f32x4.splat(0);
  } else if (act == ACT_CLAMP) {
    lo = f32x4.splat(reinterpret<f32>(geo(g, G_ACT_P0)));
    hi = f32x4.splat(reinterpret<f32>(geo(g, G_ACT_P1)));
  }

  const ps = <usize>geo(g, G_IN_STRIDE) << 2; // bytes between input pixels
  const ops = <usize>geo(g, G_OUT_STRIDE) << 2; // bytes between output pixels
  const rowB = <usize>W * ps;
  const colStep = <usize>DW * ps;
  const rowStep = <usize>DH * rowB;
  const sIn = <usize>SW * ps;
  const tileB = <usize>(1 + KH * KW) << 4;
  const full = C >> 2;
  const rem = C & 3;

  const blk = blockPixels(ps, KH, KW, SW, DW);
  // Which fast path (0: none).
  const K = KH == KW && (KH == 3 || KH == 5 || KH == 7) ? KH : 0;

  // Interior output range: every tap inside the input.
  let ohLo = 0, ohHi = 0, owLo = 0, owHi = 0;
  if (K != 0) {
    ohLo = interiorLo(PT, SH);
    ohHi = interiorHi(H, PT, KH, DH, SH, OH, ohLo);
    owLo = interiorLo(PL, SW);
    owHi = interiorHi(W, PL, KW, DW, SW, OW, owLo);
    if (owLo >= owHi || full == 0) { ohLo = 0; ohHi = 0; }
  }

  // output rows (n·OH + oh) of this part
  const r1 = partStart(N * OH, 1, part + 1, parts);
  for (let r = partStart(N * OH, 1, part, parts); r < r1; r++) {
    const n = r / OH, oh = r % OH;
    const inImg = input + <usize>n * <usize>H * rowB;
    const outImg = output + <usize>(n * OH) * <usize>OW * ops;
    const ih0 = oh * SH - PT;
    const kh0 = tapLo(ih0, DH), kh1 = tapHi(ih0, DH, KH, H);
    const inRow = inImg + <usize>ih0 * rowB; // wraps for ih0 < 0; only valid rows are read
    const outRow = outImg + <usize>oh * <usize>OW * ops;
    const interiorRow = oh >= ohLo && oh < ohHi;
    // 3x3 top and bottom rows run their interior columns too, without the kernel row in the padding
    const edgeRow = !interiorRow && K == 3 && owLo < owHi && full > 0 && kh0 <= 1 && kh1 > 1;
    if (!interiorRow && !edgeRow) {
      for (let ow = 0; ow < OW; ow++) dwBorder(inRow, outRow, ow, packed, full, rem, kh0, kh1, SW, PL, W, DW, KW, ps, ops, rowStep, colStep, tileB, lo, hi);
      continue;
    }
    for (let ow = 0; ow < owLo; ow++) dwBorder(inRow, outRow, ow, packed, full, rem, kh0, kh1, SW, PL, W, DW, KW, ps, ops, rowStep, colStep, tileB, lo, hi);
    // interior columns: fast path for full tiles, generic for the remainder
    for (let b0 = owLo; b0 < owHi; b0 += blk) {
      const nb = min(blk, owHi - b0);
      const ip = inRow + <usize>(b0 * SW - PL) * ps;
      const op = outRow + <usize>b0 * ops;
      if (edgeRow) {
        for (let t = 0; t < full; t++) {
          const c = <usize>t << 4;
          dw3x3EdgeRun(ip + c, op + c, nb, sIn, colStep, rowStep, ops, packed + <usize>t * tileB, lo, hi, kh0, kh1);
        }
      } else if (K == 3) {
        for (let t = 0; t < full; t++) {
          const c = <usize>t << 4;
          dw3x3Run(ip + c, op + c, nb, sIn, colStep, rowStep, ops, packed + <usize>t * tileB, lo, hi);
        }
      } else if (K == 5) dwRun(5, ip, op, nb, sIn, colStep, rowStep, ops, packed, full, lo, hi);
      else dwRun(7, ip, op, nb, sIn, colStep, rowStep, ops, packed, full, lo, hi);
      if (rem != 0) {
        for (let j = 0; j < nb; j++) {
          dwPixel(ip + <usize>j * sIn, op + <usize>j * ops, packed, full, full, rem,
            kh0, kh1, 0, KW, KW, rowStep, colStep, tileB, lo, hi);
        }
      }
    }
    for (let ow = owHi; ow < OW; ow++) dwBorder(inRow, outRow, ow, packed, full, rem, kh0, kh1, SW, PL, W, DW, KW, ps, ops, rowStep, colStep, tileB, lo, hi);
  }
}

/** Output pixel ow of a row through the generic path, its taps clipped to the input. */
@inline function dwBorder(
  inRow: usize, outRow: usize, ow: i32, packed: usize, full: i32, rem: i32, kh0: i32, kh1: i32,
  SW: i32, PL: i32, W: i32, DW: i32, KW: i32, ps: usize, ops: usize, rowStep: usize, colStep: usize,
  tileB: usize, lo: v128, hi: v128,
): void {
  const iw0 = ow * SW - PL;
  dwPixel(inRow + <usize>iw0 * ps, outRow + <usize>ow * ops, packed, 0, full, rem,
    kh0, kh1, tapLo(iw0, DW), tapHi(iw0, DW, KW, W), KW, rowStep, colStep, tileB, lo, hi);
}
