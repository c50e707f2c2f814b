// Deformable convolution, v1 (Dai et al. 2017, "Deformable Convolutional Networks") and v2 with
// a modulation mask (Zhu et al. 2019, "Deformable ConvNets v2"); ONNX DeformConv and
// torchvision.ops.deform_conv2d semantics, NHWC.
//
// Each output pixel's im2col row is gathered by bilinear sampling instead of reading the grid:
// tap (kh, kw) of output (oh, ow) samples input channel c at
//   y = oh·SH − PT + kh·DH + dy,   x = ow·SW − PL + kw·DW + dx
// with (dy, dx) the offsets of c's offset group (C / offset_groups channels per group) at that
// output pixel and tap, times the mask value (v2; 1 without a mask). torchvision's rule: a
// point with y <= −1, y >= H, x <= −1 or x >= W samples 0; otherwise the four corners
// floor/floor+1 are blended and corners outside the input count as 0. The gather is
// vectorised over channels (NHWC: one offset-group's channels of a pixel are contiguous).
// Then the rows go through the same GEMM as conv2d: weights are packed by conv.ts's
// conv2d_pack / conv2d_packed_size with the same geometry block (K in (kh, kw, c) order).
//
// Offsets and mask are NHWC activations (their NCHW channel axis innermost):
//   offset: per output pixel 2·OG·KH·KW floats in order (og, kh, kw, {dy, dx});
//   mask:   per output pixel OG·KH·KW floats in order (og, kh, kw); mask = 0 means none.
// Geometry block (G_*) as for conv2d; G_ACT (none/relu/clamp) applies in the GEMM epilogue.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_DH, G_DW,
  G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0, G_ACT_P1,
} from './codes';
import { gemm, gemm_packed_size } from './gemm';
import { geo, zeroFloats } from './window';

const ROWS_BUDGET_BYTES: i32 = 192 * 1024;
const MIN_BLOCK_ROWS: i32 = 6;
const MAX_BLOCK_ROWS: i32 = 240;

@inline function groupK(g: usize): i32 {
  return geo(g, G_KH) * geo(g, G_KW) * (geo(g, G_C) / geo(g, G_GROUPS));
}

function blockRows(g: usize): i32 {
  let rows = ROWS_BUDGET_BYTES / max(1, groupK(g) << 2);
  rows = min(MAX_BLOCK_ROWS, max(MIN_BLOCK_ROWS, rows / 6 * 6));
  return min(rows, geo(g, G_N) * geo(g, G_OH) * geo(g, G_OW));
}

/** Scratch bytes deform_conv_f32 needs: one block of sampled im2col rows. */
export function deform_scratch_size(g: usize): i32 {
  return blockRows(g) * groupK(g) * 4;
}

/**
 * dst[0..n) = Σ corners w·p[0..n), skipping corners whose `ok` bit is clear (bit 0: (y0,x0),
 * 1: (y0,x1), 2: (y1,x0), 3: (y1,x1)); skipped corners are never read.
 */
@inline function blend(
  dst: usize, n: i32, ok: i32,
  p00: usize, p01: usize, p10: usize, p11: usize, w00: f32, w01: f32, w10: f32, w11: f32,
): void {
  const v00 = f32x4.splat(w00), v01 = f32x4.splat(w01), v10 = f32x4.splat(w10), v11 = f32x4.splat(w11);
  let i = 0;
  if (ok == 15) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let a = f32x4.mul(v128.load(p00 + o), v00);
      a = f32x4.add(a, f32x4.mul(v128.load(p01 + o), v01));
      a = f32x4.add(a, f32x4.mul(v128.load(p10 + o), v10));
      a = f32x4.add(a, f32x4.mul(v128.load(p11 + o), v11));
      v128.store(dst + o, a);
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(dst + o, load<f32>(p00 + o) * w00 + load<f32>(p01 + o) * w01 +
        load<f32>(p10 + o) * w10 + load<f32>(p11 + o) * w11);
    }
    return;
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let a = f32x4.splat(0);
    if (ok & 1) a = f32x4.add(a, f32x4.mul(v128.load(p00 + o), v00));
    if (ok & 2) a = f32x4.add(a, f32x4.mul(v128.load(p01 + o), v01));
    if (ok & 4) a = f32x4.add(a, f32x4.mul(v128.load(p10 + o), v10));
    if (ok & 8) a = f32x4.add(a, f32x4.mul(v128.load(p11 + o), v11));
    v128.store(dst + o, a);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let a: f32 = 0;
    if (ok & 1) a += load<f32>(p00 + o) * w00;
    if (ok & 2) a += load<f32>(p01 + o) * w01;
    if (ok & 4) a += load<f32>(p10 + o) * w10;
    if (ok & 8) a += load<f32>(p11 + o) * w11;
    store<f32>(dst + o, a);
  }
}

/**
 * Samples the im2col rows of `count` output pixels from flat pixel `pix0` for conv group gi
 * (channels [gi·Cg, (gi+1)·Cg)); row r holds KH·KW·Cg floats in (kh, kw, c) order.
 */
function sampleBlock(
  g: usize, input: usize, offset: usize, mask: usize, OG: i32, gi: i32, pix0: i32, count: i32, dst: usize,
): void {
  const H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C), OH = geo(g, G_OH), OW = geo(g, G_OW);
  const KH = geo(g, G_KH), KW = geo(g, G_KW), SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL), DH = geo(g, G_DH), DW = geo(g, G_DW);
  const Cg = C / geo(g, G_GROUPS), Cog = C / OG;
  const inS = geo(g, G_IN_STRIDE);
  const taps = KH * KW;
  const K = taps * Cg;
  const c0 = gi * Cg, c1 = c0 + Cg;
  const og0 = c0 / Cog, og1 = (c1 - 1) / Cog;
  const pixB = <usize>inS << 2;
  const Hf = <f32>H, Wf = <f32>W;
  let ow = pix0 % OW;
  let oh = (pix0 / OW) % OH;
  let n = pix0 / (OW * OH);
  for (let r = 0; r < count; r++) {
    const pix = pix0 + r;
    const img = input + <usize>(n * H) * <usize>W * pixB;
    const offPix = offset + (<usize>pix * <usize>(2 * OG * taps) << 2);
    const maskPix = mask != 0 ? mask + (<usize>pix * <usize>(OG * taps) << 2) : 0;
    const row = dst + (<usize>r * <usize>K << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const tap = kh * KW + kw;
        const ty = <f32>(oh * SH - PT + kh * DH), tx = <f32>(ow * SW - PL + kw * DW);
        for (let og = og0; og <= og1; og++) {
          const cs = max(c0, og * Cog), ce = min(c1, (og + 1) * Cog);
          const out = row + (<usize>(tap * Cg + cs - c0) << 2);
          const oi = <usize>(og * taps + tap);
          const y = ty + load<f32>(offPix + (oi << 3));
          const x = tx + load<f32>(offPix + (oi << 3), 4);
          const m: f32 = maskPix != 0 ? load<f32>(maskPix + (oi << 2)) : 1;
          if (!(y > -1 && y < Hf && x > -1 && x < Wf)) {
            zeroFloats(out, ce - cs);
            continue;
          }
          const yf = Mathf.floor(y), xf = Mathf.floor(x);
          const y0 = <i32>yf, x0 = <i32>xf;
          const ly = y - yf, lx = x - xf, hy: f32 = 1 - ly, hx: f32 = 1 - lx;
          let ok = 0;
          if (y0 >= 0 && x0 >= 0) ok |= 1;
          if (y0 >= 0 && x0 + 1 < W) ok |= 2;
          if (y0 + 1 < H && x0 >= 0) ok |= 4;
          if (y0 + 1 < H && x0 + 1 < W) ok |= 8;
          const p00 = img + (<usize>(y0 * W + x0) * pixB) + (<usize>cs << 2);
          const rowB = <usize>W * pixB;
          blend(out, ce - cs, ok, p00, p00 + pixB, p00 + rowB, p00 + rowB + pixB,
            hy * hx * m, hy * lx * m, ly * hx * m, ly * lx * m);
        }
      }
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
}

/**
 * NHWC deformable conv2d: output = act(deform_conv(input, offset, mask, w) + bias).
 * packed: conv2d_pack(w, bias, g, packed); OG: offset groups (divides C); mask: 0 for v1.
 * scratch: deform_scratch_size(g) bytes.
 */
export function deform_conv_f32(
  g: usize, input: usize, offset: usize, mask: usize, OG: i32, packed: usize, output: usize, scratch: usize,
): void {
  const groups = geo(g, G_GROUPS);
  const OCg = geo(g, G_OC) / groups;
  const outS = geo(g, G_OUT_STRIDE);
  const act = geo(g, G_ACT);
  const p0 = reinterpret<f32>(geo(g, G_ACT_P0)), p1 = reinterpret<f32>(geo(g, G_ACT_P1));
  const K = groupK(g);
  const groupPackedBytes = <usize>gemm_packed_size(OCg, K) << 2;
  const pixels = geo(g, G_N) * geo(g, G_OH) * geo(g, G_OW);
  const rows = blockRows(g);
  for (let pix0 = 0; pix0 < pixels; pix0 += rows) {
    const count = min(rows, pixels - pix0);
    const outBlock = output + ((<usize>pix0 * <usize>outS) << 2);
    for (let gi = 0; gi < groups; gi++) {
      sampleBlock(g, input, offset, mask, OG, gi, pix0, count, scratch);
      gemm(
        count, OCg, K, scratch, K, packed + <usize>gi * groupPackedBytes,
        outBlock + (<usize>(gi * OCg) << 2), outS, 0, 0, act, p0, p1,
      );
    }
  }
}
