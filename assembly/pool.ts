// Max / average pooling (ONNX MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool; PyTorch
// MaxPool2d / AvgPool2d semantics) on NHWC activations, vectorised over channels with f32x4.
//
// Windows are dilated (G_DH / G_DW) and padded (G_PT / G_PL / G_PB / G_PR). Padding never
// takes part in a max. The average divides by
//   * without FLAG_COUNT_INCLUDE_PAD: the number of window taps inside the input;
//   * with it: the number of window taps inside the padded extent [-PT, H+PB) x [-PL, W+PR),
//     so taps that exist only because ceil_mode added a partial last window are not counted
//     (PyTorch avg_pool2d and the ONNX reference agree on this; see the ONNX backend case
//     test_averagepool_2d_ceil_last_window_starts_on_pad).
// Each output pixel clips its tap range once, then loops channel tiles with the window taps
// inside; the C % 4 remainder loads and stores only its live lanes.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR, G_DH, G_DW,
  G_IN_STRIDE, G_OUT_STRIDE, G_FLAGS, FLAG_COUNT_INCLUDE_PAD,
} from './codes';
import { partStart } from './parallel';
import { geo, loadLanes, loadPart, storePart, tapHi, tapLo } from './window';

// One channel tile (nc = 1..4 live lanes at p, the window corner plus the tile's channels) of a
// max (isMax) or average pool over taps [kh0,kh1) x [kw0,kw1): the max, or the plain sum.
// Max: pmax(acc, v) (one instruction; f32x4.max is about eight under V8) keeps the earlier tap on
// ties, as PyTorch does, but drops a NaN tap: NaN lanes are collected apart and set at the end
// (all bits set: a NaN), so any NaN in the window gives NaN.
@inline function poolTile(
  isMax: bool, p: usize, nc: i32, kh0: i32, kh1: i32, kw0: i32, kw1: i32, rowStep: usize, colStep: usize,
): v128 {
  let acc = isMax ? f32x4.splat(-Infinity) : f32x4.splat(0);
  let nan = f32x4.splat(0);
  for (let kh = kh0; kh < kh1; kh++) {
    const rp = p + <usize>kh * rowStep;
    for (let kw = kw0; kw < kw1; kw++) {
      const v = loadLanes(rp + <usize>kw * colStep, nc);
      if (isMax) {
        acc = f32x4.pmax(acc, v);
        nan = v128.or(nan, f32x4.ne(v, v));
      } else {
        acc = f32x4.add(acc, v);
      }
    }
  }
  return isMax ? v128.or(acc, nan) : acc;
}

// A 3x3 max window wholly inside the input, one full channel tile: poolTile's taps without its
// loops (the window of most CNN stems' max pool). Same order, same bits.
@inline function max3x3Tile(p: usize, rowStep: usize, colStep: usize): v128 {
  const c2 = colStep << 1;
  let acc = f32x4.splat(-Infinity);
  let nan = f32x4.splat(0);
  for (let kh = 0; kh < 3; kh++) {
    const v0 = v128.load(p), v1 = v128.load(p + colStep), v2 = v128.load(p + c2);
    acc = f32x4.pmax(f32x4.pmax(f32x4.pmax(acc, v0), v1), v2);
    nan = v128.or(nan, v128.or(v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)), f32x4.ne(v2, v2)));
    p += rowStep;
  }
  return v128.or(acc, nan);
}

// One output pixel: every full channel tile, then the C % 4 remainder; the average divides the
// sum by `scale` (the divisor, splatted). ip: the window corner (may lie outside the input; only
// valid taps are read).
@inline function poolPixel(
  isMax: bool, ip: usize, op: usize, full: i32, rem: i32,
  kh0: i32, kh1: i32, kw0: i32, kw1: i32, rowStep: usize, colStep: usize, scale: v128,
): void {
  if (isMax && kh0 == 0 && kh1 == 3 && kw0 == 0 && kw1 == 3) {
    for (let t = 0; t < full; t++) {
      const c = <usize>t << 4;
      v128.store(op + c, max3x3Tile(ip + c, rowStep, colStep));
    }
  } else {
    for (let t = 0; t < full; t++) {
      const c = <usize>t << 4;
      const r = poolTile(isMax, ip + c, 4, kh0, kh1, kw0, kw1, rowStep, colStep);
      v128.store(op + c, isMax ? r : f32x4.div(r, scale));
    }
  }
  if (rem != 0) {
    const c = <usize>full << 4;
    const r = poolTile(isMax, ip + c, rem, kh0, kh1, kw0, kw1, rowStep, colStep);
    storePart(op + c, isMax ? r : f32x4.div(r, scale), rem);
  }
}

@inline function pool2d(isMax: bool, g: usize, input: usize, output: usize, part: i32, parts: i32): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C);
  const OH = geo(g, G_OH), OW = geo(g, G_OW);
  const KH = geo(g, G_KH), KW = geo(g, G_KW);
  const SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL), PB = geo(g, G_PB), PR = geo(g, G_PR);
  const DH = geo(g, G_DH), DW = geo(g, G_DW);
  const includePad = (geo(g, G_FLAGS) & FLAG_COUNT_INCLUDE_PAD) != 0;
  const ps = <usize>geo(g, G_IN_STRIDE) << 2;
  const ops = <usize>geo(g, G_OUT_STRIDE) << 2;
  const rowB = <usize>W * ps;
  const colStep = <usize>DW * ps;
  const rowStep = <usize>DH * rowB;
  const full = C >> 2;
  const rem = C & 3;
  const HP = H + PT + PB;
  const WP = W + PL + PR;

  // output rows (n·OH + oh) of this part (parallel.ts)
  const r1 = partStart(N * OH, 1, part + 1, parts);
  for (let r = partStart(N * OH, 1, part, parts); r < r1; r++) {
    const n = r / OH, oh = r % OH;
    const inImg = input + <usize>n * <usize>H * rowB;
    const outImg = output + <usize>(n * OH) * <usize>OW * ops;
    const ih0 = oh * SH - PT;
    const kh0 = tapLo(ih0, DH), kh1 = tapHi(ih0, DH, KH, H);
    let padH = 0;
    if (!isMax && includePad) padH = max(0, tapHi(ih0 + PT, DH, KH, HP) - tapLo(ih0 + PT, DH));
    const inRow = inImg + <usize>ih0 * rowB; // wraps for ih0 < 0; only valid rows are read
    const outRow = outImg + <usize>oh * <usize>OW * ops;
    for (let ow = 0; ow < OW; ow++) {
      const iw0 = ow * SW - PL;
      const kw0 = tapLo(iw0, DW), kw1 = tapHi(iw0, DW, KW, W);
      let scale = f32x4.splat(0);
      if (!isMax) {
        let cnt = 0;
        if (includePad) {
          cnt = padH * max(0, tapHi(iw0 + PL, DW, KW, WP) - tapLo(iw0 + PL, DW));
        } else {
          cnt = max(0, kh1 - kh0) * max(0, kw1 - kw0);
        }
        // An empty window (impossible with valid pads) sums to 0: divide by 1, not 0.
        scale = f32x4.splat(cnt > 0 ? <f32>cnt : 1);
      }
      poolPixel(isMax, inRow + <usize>iw0 * ps, outRow + <usize>ow * ops, full, rem,
        kh0, kh1, kw0, kw1, rowStep, colStep, scale);
    }
  }
}

/**
 * Max pooling over the dilated window; padded positions never win. An empty window gives
 * -Infinity. part / parts: a band of output rows.
 */
export function maxpool_f32(g: usize, input: usize, output: usize, part: i32, parts: i32): void {
  pool2d(true, g, input, output, part, parts);
}

/** Average pooling; G_FLAGS & FLAG_COUNT_INCLUDE_PAD selects the divisor (see header); part / parts as maxpool_f32. */
export function avgpool_f32(g: usize, input: usize, output: usize, part: i32, parts: i32): void {
  pool2d(false, g, input, output, part, parts);
}

// Pixels summed into a block partial before the partial joins the running total, which is
// compensated (Kahan): the error of an HW-long mean stays near O(GP_BLOCK) ulps whatever HW is.
const GP_BLOCK: i32 = 64;

@inline function reduceOp(isMax: bool, a: v128, b: v128): v128 {
  return isMax ? f32x4.max(a, b) : f32x4.add(a, b);
}

// Kahan step: returns the new total s + b; `comp` carries the lost low-order part (in/out via
// the caller's local, passed back through kahanComp).
@inline function kahanSum(s: v128, b: v128, comp: v128): v128 {
  return f32x4.add(s, f32x4.sub(b, comp));
}
@inline function kahanComp(s: v128, t: v128, b: v128, comp: v128): v128 {
  return f32x4.sub(f32x4.sub(t, s), f32x4.sub(b, comp));
}

@inline function globalPool(
  isMax: bool, N: i32, HW: i32, C: i32, input: usize, inStride: i32, output: usize, outStride: i32,
  part: i32, parts: i32,
): void {
  const ps = <usize>inStride << 2;
  const init = isMax ? f32x4.splat(-Infinity) : f32x4.splat(0);
  const div = f32x4.splat(<f32>HW);
  const full = C >> 2;
  // part / parts: a run of 16-channel groups (each channel's sum is the whole call's)
  const c0 = partStart(C, 16, part, parts), c1 = partStart(C, 16, part + 1, parts);
  if (c0 >= c1) return; // an empty part (it would redo the remainder tile of the one before)
  const tEnd = min(full, c1 >> 2);
  const rem = c1 == C ? C & 3 : 0;
  for (let n = 0; n < N; n++) {
    const img = input + <usize>n * <usize>HW * ps;
    const op = output + (<usize>n * <usize>outStride << 2);
    let t = c0 >> 2;
    // Four channel tiles (16 channels, one 64-byte line) per pass over the pixels.
    for (; t + 4 <= tEnd; t += 4) {
      const c = <usize>t << 4;
      let s0 = init, s1 = init, s2 = init, s3 = init;
      let k0 = f32x4.splat(0), k1 = f32x4.splat(0), k2 = f32x4.splat(0), k3 = f32x4.splat(0);
      for (let p0 = 0; p0 < HW; p0 += GP_BLOCK) {
        const pe = min(HW, p0 + GP_BLOCK);
        let b0 = init, b1 = init, b2 = init, b3 = init;
        let ip = img + <usize>p0 * ps + c;
        for (let p = p0; p < pe; p++) {
          b0 = reduceOp(isMax, b0, v128.load(ip));
          b1 = reduceOp(isMax, b1, v128.load(ip, 16));
          b2 = reduceOp(isMax, b2, v128.load(ip, 32));
          b3 = reduceOp(isMax, b3, v128.load(ip, 48));
          ip += ps;
        }
        if (isMax) {
          s0 = f32x4.max(s0, b0);
          s1 = f32x4.max(s1, b1);
          s2 = f32x4.max(s2, b2);
          s3 = f32x4.max(s3, b3);
        } else {
          let t = kahanSum(s0, b0, k0); k0 = kahanComp(s0, t, b0, k0); s0 = t;
          t = kahanSum(s1, b1, k1); k1 = kahanComp(s1, t, b1, k1); s1 = t;
          t = kahanSum(s2, b2, k2); k2 = kahanComp(s2, t, b2, k2); s2 = t;
          t = kahanSum(s3, b3, k3); k3 = kahanComp(s3, t, b3, k3); s3 = t;
        }
      }
      if (!isMax) {
        s0 = f32x4.div(s0, div);
        s1 = f32x4.div(s1, div);
        s2 = f32x4.div(s2, div);
        s3 = f32x4.div(s3, div);
      }
      v128.store(op + c, s0);
      v128.store(op + c, s1, 16);
      v128.store(op + c, s2, 32);
      v128.store(op + c, s3, 48);
    }
    // the tiles left over from the fours, then the remainder tile (rem != 0 only where tEnd == full)
    for (; t <= tEnd; t++) {
      if (t == tEnd && rem == 0) break;
      const c = <usize>t << 4;
      const tail = t == full;
      let s = init;
      let k = f32x4.splat(0);
      for (let p0 = 0; p0 < HW; p0 += GP_BLOCK) {
        const pe = min(HW, p0 + GP_BLOCK);
        let b = init;
        let ip = img + <usize>p0 * ps + c;
        if (tail) {
          for (let p = p0; p < pe; p++) {
            b = reduceOp(isMax, b, loadPart(ip, rem));
            ip += ps;
          }
        } else {
          for (let p = p0; p < pe; p++) {
            b = reduceOp(isMax, b, v128.load(ip));
            ip += ps;
          }
        }
        if (isMax) {
          s = f32x4.max(s, b);
        } else {
          const t = kahanSum(s, b, k);
          k = kahanComp(s, t, b, k);
          s = t;
        }
      }
      if (!isMax) s = f32x4.div(s, div);
      if (tail) storePart(op + c, s, rem);
      else v128.store(op + c, s);
    }
  }
}

/**
 * Mean over the HW pixels of each batch item: output pixel n at output + 4 * n * outStride.
 * part / parts: a run of 16-channel groups (parallel.ts).
 */
export function global_avgpool_f32(
  N: i32, HW: i32, C: i32, input: usize, inStride: i32, output: usize, outStride: i32, part: i32, parts: i32,
): void {
  globalPool(false, N, HW, C, input, inStride, output, outStride, part, parts);
}

/** Max over the HW pixels of each batch item; part / parts as global_avgpool_f32. */
export function global_maxpool_f32(
  N: i32, HW: i32, C: i32, input: usize, inStride: i32, output: usize, outStride: i32, part: i32, parts: i32,
): void {
  globalPool(true, N, HW, C, input, inStride, output, outStride, part, parts);
}
