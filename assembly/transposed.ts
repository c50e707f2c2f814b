// Transposed convolution (ONNX ConvTranspose, PyTorch ConvTranspose2d; the "deconvolution" of
// Zeiler & Fergus 2014 / Noh et al. 2015) on NHWC activations, as GEMM + col2im: the zeros
// a naive form inserts between input pixels are never multiplied.
//
// Per group: every input pixel is one GEMM row (A = the NHWC pixel rows, Cg deep); its
// KH·KW·OCg columns are that pixel's contribution to each kernel tap (B = the weights, packed
// once). col2im then adds each tap's OCg-vector into the output pixel
//   (oh, ow) = (ih·SH − PT + kh·DH, iw·SW − PL + kw·DW)
// when it lies inside [0, OH) x [0, OW). Overlapping taps (the "checkerboard" of stride <
// kernel) sum, as PyTorch computes them. Output pixels start at the bias. Output padding,
// ONNX output_shape and auto_pad only change G_OH/G_OW and the pads; the host resolves them.
//
// Geometry block (codes.ts G_*): G_H/G_W/G_C input, G_OH/G_OW/G_OC output, G_PT/G_PL the
// ONNX begin pads (G_PB/G_PR are not read: the output extent is G_OH/G_OW), G_KH/G_KW,
// strides, dilations, G_GROUPS, G_IN_STRIDE/G_OUT_STRIDE pixel strides. G_ACT is not applied.
//
// Packed layout (convt_pack): per group one gemm_pack matrix with N = KH·KW·OCg columns in
// (kh, kw, oc) order, K = Cg, zero bias slots; then OC bias floats (zeros without bias).
// Input pixels go through the GEMM in blocks so the column scratch stays bounded.
//
// Tiled layers (stride = kernel, no padding, dilation or output padding, one group: U-Net's and
// the DB text detector's 2x2 stride-2 up-convolutions) give every output pixel exactly one tap,
// so each GEMM row's taps plus the bias are stored in place: no pass setting the output to the
// bias and no read-modify-write scatter.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_DH, G_DW,
  G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, ACT_NONE,
} from './codes';
import { gemm, gemm_packed_size } from './gemm';
import { copyFloats, geo } from './window';

const NR: i32 = 8;
/** Budget for one block of GEMM output columns (bytes). */
const COLS_BUDGET_BYTES: i32 = 192 * 1024;
const MIN_BLOCK_ROWS: i32 = 6;
const MAX_BLOCK_ROWS: i32 = 240;

/**
 * Stride equal to the kernel, no padding or dilation, no output padding, one group: every
 * output pixel is one tap of one input pixel.
 */
@inline function tiled(g: usize): bool {
  return geo(g, G_GROUPS) == 1 && geo(g, G_KH) == geo(g, G_SH) && geo(g, G_KW) == geo(g, G_SW) &&
    geo(g, G_DH) == 1 && geo(g, G_DW) == 1 && geo(g, G_PT) == 0 && geo(g, G_PL) == 0 &&
    geo(g, G_OH) == geo(g, G_H) * geo(g, G_KH) && geo(g, G_OW) == geo(g, G_W) * geo(g, G_KW);
}

/** GEMM columns per group: KH·KW·(OC/groups). */
@inline function groupCols(g: usize): i32 {
  return geo(g, G_KH) * geo(g, G_KW) * (geo(g, G_OC) / geo(g, G_GROUPS));
}

function blockRows(g: usize): i32 {
  let rows = COLS_BUDGET_BYTES / max(1, groupCols(g) << 2);
  rows = min(MAX_BLOCK_ROWS, max(MIN_BLOCK_ROWS, rows / 6 * 6));
  return min(rows, geo(g, G_N) * geo(g, G_H) * geo(g, G_W));
}

/** Floats of packed weights: per group gemm_packed_size(KH·KW·OCg, Cg), then OC bias floats. */
export function convt_packed_size(g: usize): i32 {
  const groups = geo(g, G_GROUPS);
  return groups * gemm_packed_size(groupCols(g), geo(g, G_C) / groups) + geo(g, G_OC);
}

/** Packs w ([C][OC/groups][KH][KW], ONNX/PyTorch) and bias ([OC] or 0); see the header. */
export function convt_pack(w: usize, bias: usize, g: usize, dst: usize): void {
  const groups = geo(g, G_GROUPS);
  const KH = geo(g, G_KH), KW = geo(g, G_KW);
  const Cg = geo(g, G_C) / groups, OC = geo(g, G_OC), OCg = OC / groups;
  const cols = groupCols(g);
  const groupFloats = gemm_packed_size(cols, Cg);
  const panels = (cols + NR - 1) / NR;
  for (let gi = 0; gi < groups; gi++) {
    for (let p = 0; p < panels; p++) {
      const panel = dst + ((<usize>gi * groupFloats + <usize>p * NR * (Cg + 1)) << 2);
      for (let j = 0; j < NR; j++) {
        const col = p * NR + j;
        const valid = col < cols;
        const tap = col / OCg, oc = col % OCg;
        store<f32>(panel + (<usize>j << 2), 0);
        for (let c = 0; c < Cg; c++) {
          const v: f32 = valid
            ? load<f32>(w + ((<usize>((gi * Cg + c) * OCg + oc) * <usize>(KH * KW) + <usize>tap) << 2))
            : 0;
          store<f32>(panel + (<usize>((c + 1) * NR + j) << 2), v);
        }
      }
    }
  }
  const b = dst + (<usize>(groups * groupFloats) << 2);
  for (let oc = 0; oc < OC; oc++) store<f32>(b + (<usize>oc << 2), bias != 0 ? load<f32>(bias + (<usize>oc << 2)) : 0);
}

/** Scratch bytes convt_f32 needs: one block of GEMM output rows. */
export function convt_scratch_size(g: usize): i32 {
  return blockRows(g) * groupCols(g) * 4;
}

/** dst[i] = a[i] + b[i] for i < n (dst may be a), eight at a time. */
@inline function sumFloats(dst: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
    v128.store(dst + o, f32x4.add(v128.load(a + o, 16), v128.load(b + o, 16)), 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/**
 * NHWC transposed convolution: output = convT(input, w) + bias. Writes the OC channels of every
 * output pixel. packed: from convt_pack; scratch: convt_scratch_size(g) bytes.
 */
export function convt_f32(g: usize, input: usize, packed: usize, output: usize, scratch: usize): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W);
  const OH = geo(g, G_OH), OW = geo(g, G_OW), OC = geo(g, G_OC);
  const KH = geo(g, G_KH), KW = geo(g, G_KW), SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL), DH = geo(g, G_DH), DW = geo(g, G_DW);
  const groups = geo(g, G_GROUPS);
  const Cg = geo(g, G_C) / groups, OCg = OC / groups;
  const inS = geo(g, G_IN_STRIDE), outS = geo(g, G_OUT_STRIDE);
  const cols = groupCols(g);
  const groupPackedBytes = <usize>gemm_packed_size(cols, Cg) << 2;
  const bias = packed + <usize>groups * groupPackedBytes;
  const outPixB = <usize>outS << 2;
  if (tiled(g)) {
    tiledConvt(N, H, W, Cg, OC, KH, KW, inS, outS, input, packed, bias, output, scratch, blockRows(g));
    return;
  }

  // every output pixel starts at the bias
  const outPixels = N * OH * OW;
  for (let p = 0; p < outPixels; p++) copyFloats(output + <usize>p * outPixB, bias, OC);

  const pixels = N * H * W;
  const rows = blockRows(g);
  const rowB = <usize>cols << 2;
  for (let pix0 = 0; pix0 < pixels; pix0 += rows) {
    const count = min(rows, pixels - pix0);
    for (let gi = 0; gi < groups; gi++) {
      gemm(
        count, cols, Cg, input + ((<usize>pix0 * <usize>inS + <usize>(gi * Cg)) << 2), inS,
        packed + <usize>gi * groupPackedBytes, scratch, cols, 0, 0, ACT_NONE, 0, 0,
      );
      // col2im: scatter-add each row's taps into the output
      let iw = pix0 % W;
      let ih = (pix0 / W) % H;
      let n = pix0 / (W * H);
      const outG = output + (<usize>(gi * OCg) << 2);
      for (let r = 0; r < count; r++) {
        const src = scratch + <usize>r * rowB;
        const oh0 = ih * SH - PT, ow0 = iw * SW - PL;
        // kernel columns landing inside [0, OW): kwLo <= kw < kwHi
        let kwLo = 0, kwHi = KW;
        while (kwLo < KW && ow0 + kwLo * DW < 0) kwLo++;
        while (kwHi > kwLo && ow0 + (kwHi - 1) * DW >= OW) kwHi--;
        for (let kh = 0; kh < KH; kh++) {
          const oh = oh0 + kh * DH;
          if (oh < 0 || oh >= OH) continue;
          const orow = outG + <usize>((n * OH + oh) * OW) * outPixB;
          for (let kw = kwLo; kw < kwHi; kw++) {
            const o = orow + <usize>(ow0 + kw * DW) * outPixB;
            sumFloats(o, o, src + (<usize>((kh * KW + kw) * OCg) << 2), OCg);
          }
        }
        if (++iw == W) {
          iw = 0;
          if (++ih == H) {
            ih = 0;
            n++;
          }
        }
      }
    }
  }
}

/**
 * A tiled layer (see tiled()): input pixel (n, ih, iw)'s taps (kh, kw, ·) are output pixel
 * (n, ih·KH + kh, iw·KW + kw): each GEMM row's OC-float runs plus the bias stored in place.
 */
function tiledConvt(
  N: i32, H: i32, W: i32, C: i32, OC: i32, KH: i32, KW: i32, inS: i32, outS: i32, input: usize, packed: usize,
  bias: usize, output: usize, scratch: usize, rows: i32,
): void {
  const cols = KH * KW * OC, OW = W * KW;
  const rowB = <usize>cols << 2, outPixB = <usize>outS << 2;
  const pixels = N * H * W;
  for (let pix0 = 0; pix0 < pixels; pix0 += rows) {
    const count = min(rows, pixels - pix0);
    gemm(count, cols, C, input + ((<usize>pix0 * <usize>inS) << 2), inS, packed, scratch, cols, 0, 0, ACT_NONE, 0, 0);
    for (let r = 0; r < count; r++) {
      const p = pix0 + r;
      const iw = p % W, nh = p / W; // nh = n·H + ih
      const src = scratch + <usize>r * rowB;
      for (let kh = 0; kh < KH; kh++) {
        const dst = output + (<usize>((nh * KH + kh) * OW + iw * KW) * outPixB);
        const s = src + (<usize>(kh * KW * OC) << 2);
        for (let kw = 0; kw < KW; kw++) sumFloats(dst + <usize>kw * outPixB, s + (<usize>(kw * OC) << 2), bias, OC);
      }
    }
  }
}
