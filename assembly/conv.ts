// conv2d, NHWC, on the geometry block of codes.ts (G_*), as a GEMM against weights packed by
// gemm_pack's 8-column panel layout, one packed matrix per group.
//
// - 1x1, stride 1, pad 0: the NHWC pixel rows already are the GEMM's A (row stride
//   G_IN_STRIDE), so each group is one gemm_f32 call; no scratch.
// - Everything else: im2col in blocks of output pixels. A block of up to ~240 output pixels is
//   gathered into scratch rows of K = KH·KW·(C/groups) floats in (kh, kw, c) order, taps that
//   fall into the padding read as zeros, then gemm_f32 writes that block's output pixels
//   (and adds the residual / applies the activation in registers). Scratch stays bounded.
// - Direct (FLAG_CONV_DIRECT, few input channels): pixels whose window lies inside the image
//   read the input in place through gemm_segmented; the border pixels take the im2col path.
//   With one input channel, stride 1 across and few filters, the interior runs oneChannelRow
//   instead: four adjacent output pixels per vector, so its cost follows the filter count.
// - FLAG_CONV_HALF: the panels hold binary16 weights (gemm.ts's half-stored form, the host's
//   CompileOptions.weightStorage 'float16'); each GEMM call widens them one L2 block at a time
//   in the scratch after the im2col block (gemm_f16 / gemm_h). The direct path reads f32 panels
//   in place, so a direct conv is never half-stored (the host keeps its few weights float32).
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_DH, G_DW,
  G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0, G_ACT_P1, G_RES_STRIDE, G_FLAGS, FLAG_CONV_DIRECT, FLAG_CONV_HALF,
  ACT_CLAMP, ACT_NONE, ACT_RELU,
} from './codes';
import { unary_f32 } from './eltwise';
import {
  gemm, gemm_f16, gemm_f32, gemm_h, gemm_half_packed_bytes, gemm_half_scratch_size, gemm_packed_size, gemm_segmented,
} from './gemm';
import { partStart, splitRows } from './parallel';
import { copyFloats, geo, interiorHi, interiorLo, madd, zeroFloats } from './window';

/** Output columns per packed panel (gemm.ts's layout: 8 bias floats, then K rows of 8). */
const NR: i32 = 8;
/** Scratch budget for one block of im2col rows (bytes): fits in L2 next to the weights. */
const IM2COL_BUDGET_BYTES: i32 = 192 * 1024;
/** Bounds on the output pixels per im2col block (a multiple of the GEMM's 4-row strip). */
const MIN_BLOCK_ROWS: i32 = 4;
const MAX_BLOCK_ROWS: i32 = 240;
/**
 * Fewest output pixels per im2col block with half-stored weights (FLAG_CONV_HALF): each block's
 * GEMM widens every weight once (~2 SIMD instructions a weight, against 0.5 a weight for each
 * row of the block), so deep kernels keep blocks of 64 rows (a 3x3 512-channel layer: 1.2 MB of
 * scratch) instead of the budget's 8, and the widening stays within a few % of the GEMM.
 */
const HALF_MIN_BLOCK_ROWS: i32 = 64;

/** 1x1, stride 1, no padding: the input pixels are the GEMM rows as they stand. */
function isPointwise(g: usize): bool {
  return geo(g, G_KH) == 1 && geo(g, G_KW) == 1 && geo(g, G_SH) == 1 && geo(g, G_SW) == 1 &&
    geo(g, G_PT) == 0 && geo(g, G_PL) == 0 && geo(g, G_OH) == geo(g, G_H) && geo(g, G_OW) == geo(g, G_W);
}

/** GEMM depth per group: KH·KW·(C/groups). */
@inline function groupK(g: usize): i32 {
  return geo(g, G_KH) * geo(g, G_KW) * (geo(g, G_C) / geo(g, G_GROUPS));
}

/** FLAG_CONV_HALF: the panels hold binary16 weights. */
function isHalf(g: usize): bool {
  return (geo(g, G_FLAGS) & FLAG_CONV_HALF) != 0;
}

/** Bytes of one group's packed weights: f32 panels, or half-stored ones. */
function groupPackedBytes(g: usize, OCg: i32, K: i32): usize {
  return isHalf(g) ? <usize>gemm_half_packed_bytes(OCg, K) : <usize>gemm_packed_size(OCg, K) << 2;
}

/** Bytes of one im2col block of scratch, 16-byte aligned (half-stored weights widen after it). */
function im2colBytes(g: usize): i32 {
  return (blockRows(g) * groupK(g) * 4 + 15) & ~15;
}

/**
 * Output pixels per im2col block: as many as the budget allows, then evened out over the
 * blocks that takes (49 pixels: 2 blocks of 28 and 21, not 48 and 1, so a cut by blocks is even).
 */
function blockRows(g: usize): i32 {
  let rows = IM2COL_BUDGET_BYTES / max(1, groupK(g) << 2);
  rows = min(MAX_BLOCK_ROWS, max(isHalf(g) ? HALF_MIN_BLOCK_ROWS : MIN_BLOCK_ROWS, rows / 4 * 4));
  const pixels = geo(g, G_N) * geo(g, G_OH) * geo(g, G_OW);
  const blocks = max(1, (pixels + rows - 1) / rows);
  return max(1, min(rows, min(pixels, ((pixels + blocks - 1) / blocks + 3) & ~3))); // 1: no output
}

/** Floats of packed weights: one gemm_pack matrix (OC/groups outputs, K deep) per group. */
export function conv2d_packed_size(g: usize): i32 {
  const groups = geo(g, G_GROUPS);
  return groups * gemm_packed_size(geo(g, G_OC) / groups, groupK(g));
}

/**
 * Packs w ([OC][C/groups][KH][KW], PyTorch/ONNX) and bias ([OC] or 0) into gemm_pack's panel
 * layout, per group, with the K axis reordered to (kh, kw, c) to match the im2col rows.
 */
export function conv2d_pack(w: usize, bias: usize, g: usize, dst: usize): void {
  const groups = geo(g, G_GROUPS);
  const KH = geo(g, G_KH), KW = geo(g, G_KW);
  const Cg = geo(g, G_C) / groups, OCg = geo(g, G_OC) / groups;
  const K = KH * KW * Cg;
  const groupFloats = gemm_packed_size(OCg, K);
  const panels = (OCg + NR - 1) / NR;
  for (let gi = 0; gi < groups; gi++) {
    for (let p = 0; p < panels; p++) {
      const panel = dst + ((<usize>gi * groupFloats + <usize>p * NR * (K + 1)) << 2);
      for (let j = 0; j < NR; j++) {
        const ocg = p * NR + j;
        const valid = ocg < OCg;
        const oc = gi * OCg + ocg;
        store<f32>(panel + (<usize>j << 2), valid && bias != 0 ? load<f32>(bias + (<usize>oc << 2)) : 0);
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            for (let c = 0; c < Cg; c++) {
              const k = (kh * KW + kw) * Cg + c;
              const v: f32 = valid ? load<f32>(w + ((<usize>((oc * Cg + c) * KH + kh) * KW + kw) << 2)) : 0;
              store<f32>(panel + (<usize>((k + 1) * NR + j) << 2), v);
            }
          }
        }
      }
    }
  }
}

/**
 * Scratch bytes one part of conv2d_f32 needs: one block of im2col rows (none for the pointwise
 * path), then with FLAG_CONV_HALF one block of widened panels (gemm_half_scratch_size).
 */
export function conv2d_scratch_size(g: usize): i32 {
  const half = isHalf(g) ? gemm_half_scratch_size(geo(g, G_OC) / geo(g, G_GROUPS), groupK(g)) : 0;
  if (isPointwise(g)) return half;
  return im2colBytes(g) + half;
}

/**
 * Gathers the im2col rows of `count` output pixels starting at flat pixel index `pix0`
 * ((n·OH + oh)·OW + ow) for the group whose input channels start at `input` (already offset
 * by the group's first channel). Row r holds K = KH·KW·Cg floats in (kh, kw, c) order.
 */
function im2colBlock(g: usize, input: usize, Cg: i32, pix0: i32, count: i32, dst: usize): void {
  const H = geo(g, G_H), W = geo(g, G_W), OH = geo(g, G_OH), OW = geo(g, G_OW);
  const KH = geo(g, G_KH), KW = geo(g, G_KW), SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL), DH = geo(g, G_DH), DW = geo(g, G_DW);
  const inS = geo(g, G_IN_STRIDE);
  const tapBytes = <usize>Cg << 2;
  // taps of one kernel row are contiguous in the input when they are adjacent pixels of a dense tensor
  const rowContiguous = DW == 1 && inS == Cg;
  let ow = pix0 % OW;
  let oh = (pix0 / OW) % OH;
  let n = pix0 / (OW * OH);
  let out = dst;
  for (let r = 0; r < count; r++) {
    const ih0 = oh * SH - PT, iw0 = ow * SW - PL;
    // kernel columns whose input column is inside the image: kwLo <= kw < kwHi
    let kwLo = 0, kwHi = KW;
    while (kwLo < KW && iw0 + kwLo * DW < 0) kwLo++;
    while (kwHi > kwLo && iw0 + (kwHi - 1) * DW >= W) kwHi--;
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) {
        zeroFloats(out, KW * Cg);
      } else {
        const rowBase = input + ((<usize>(n * H + ih) * <usize>W) * <usize>inS << 2);
        if (kwLo > 0) zeroFloats(out, kwLo * Cg);
        if (rowContiguous) {
          copyFloats(out + <usize>kwLo * tapBytes, rowBase + (<usize>(iw0 + kwLo) * <usize>inS << 2), (kwHi - kwLo) * Cg);
        } else {
          for (let kw = kwLo; kw < kwHi; kw++) {
            copyFloats(out + <usize>kw * tapBytes, rowBase + (<usize>(iw0 + kw * DW) * <usize>inS << 2), Cg);
          }
        }
        if (kwHi < KW) zeroFloats(out + <usize>kwHi * tapBytes, (KW - kwHi) * Cg);
      }
      out += <usize>KW * tapBytes;
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
 * NHWC conv2d: output = act(conv(input, w) + bias + res). Writes only the OC channels of each
 * output pixel. res (0 = none): OC channels per pixel, G_RES_STRIDE floats apart.
 * scratch: parts × conv2d_scratch_size(g) bytes (one block per part). part / parts: this call
 * computes a band of output pixels (whole im2col blocks) or, for groups = 1 when that divides
 * more evenly, a band of 8-channel output panels over every block (parallel.ts).
 */
export function conv2d_f32(
  g: usize, input: usize, packed: usize, output: usize, res: usize, scratch: usize, part: i32, parts: i32,
): void {
  const groups = geo(g, G_GROUPS);
  const Cg = geo(g, G_C) / groups, OCg = geo(g, G_OC) / groups;
  const inS = geo(g, G_IN_STRIDE), outS = geo(g, G_OUT_STRIDE), resS = geo(g, G_RES_STRIDE);
  const act = geo(g, G_ACT);
  const p0 = reinterpret<f32>(geo(g, G_ACT_P0)), p1 = reinterpret<f32>(geo(g, G_ACT_P1));
  const K = groupK(g);
  const groupBytes = groupPackedBytes(g, OCg, K);
  const pixels = geo(g, G_N) * geo(g, G_OH) * geo(g, G_OW);

  if (isPointwise(g)) {
    for (let gi = 0; gi < groups; gi++) {
      const outCh = <usize>(gi * OCg) << 2;
      const x = input + (<usize>(gi * Cg) << 2), w = packed + <usize>gi * groupBytes;
      const y = output + outCh, r = res != 0 ? res + outCh : 0;
      if (isHalf(g)) gemm_f16(pixels, OCg, Cg, x, inS, w, y, outS, r, resS, act, p0, p1, scratch, part, parts);
      else gemm_f32(pixels, OCg, Cg, x, inS, w, y, outS, r, resS, act, p0, p1, part, parts);
    }
    return;
  }

  const rows = blockRows(g);
  scratch += <usize>part * <usize>conv2d_scratch_size(g);
  if (isDirect(g)) {
    convDirect(g, input, packed, output, res, scratch, rows, part, parts);
    return;
  }
  const blocks = (pixels + rows - 1) / rows;
  // this part's blocks [b0, b1) and output panels [q0, q1)
  const panels = (OCg + NR - 1) / NR;
  let b0 = 0, b1 = blocks, q0 = 0, q1 = panels;
  if (parts > 1) {
    if (groups > 1 || splitRows(blocks, (panels + 1) >> 1, parts)) {
      b0 = partStart(blocks, 1, part, parts);
      b1 = partStart(blocks, 1, part + 1, parts);
    } else {
      q0 = partStart(panels, 2, part, parts);
      q1 = partStart(panels, 2, part + 1, parts);
    }
  }
  const n0 = q0 * NR, nCols = min(OCg, q1 * NR) - n0;
  if (nCols <= 0) return;
  const colBytes = <usize>n0 << 2;
  const panelOff = <usize>q0 * (isHalf(g) ? <usize>gemm_half_packed_bytes(NR, K) : <usize>(NR * (K + 1)) << 2);
  for (let b = b0; b < b1; b++) {
    const pix0 = b * rows;
    const count = min(rows, pixels - pix0);
    for (let gi = 0; gi < groups; gi++) {
      const outCh = (<usize>(gi * OCg) << 2) + colBytes;
      im2colRun(
        g, input + (<usize>(gi * Cg) << 2), Cg, packed + <usize>gi * groupBytes + panelOff, nCols,
        output + outCh, res != 0 ? res + outCh : 0, scratch, rows, pix0, count,
      );
    }
  }
}

/**
 * The direct path (FLAG_CONV_DIRECT, set by the host where it wins: few input channels, e.g. a
 * 3-channel stem): for one group, no dilation across columns and a dense input, the KW·C taps
 * of one kernel row are adjacent floats of the input, and output pixels SW·C floats apart. So
 * an output row's interior pixels (every tap inside the image) are a gemm_segmented call that
 * reads the input in place: KH runs of KW·C floats per pixel, no im2col copy. Pixels whose
 * window crosses the padding go through im2col blocks as before. Same k order: same bits.
 */
function isDirect(g: usize): bool {
  return (geo(g, G_FLAGS) & (FLAG_CONV_DIRECT | FLAG_CONV_HALF)) == FLAG_CONV_DIRECT && geo(g, G_GROUPS) == 1 && geo(g, G_DW) == 1 &&
    geo(g, G_IN_STRIDE) == geo(g, G_C);
}

function convDirect(
  g: usize, input: usize, packed: usize, output: usize, res: usize, scratch: usize, rows: i32, part: i32, parts: i32,
): void {
  const H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C), OH = geo(g, G_OH), OW = geo(g, G_OW), OC = geo(g, G_OC);
  const KH = geo(g, G_KH), KW = geo(g, G_KW), SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL), DH = geo(g, G_DH);
  const outS = geo(g, G_OUT_STRIDE), resS = geo(g, G_RES_STRIDE);
  const act = geo(g, G_ACT);
  const p0 = reinterpret<f32>(geo(g, G_ACT_P0)), p1 = reinterpret<f32>(geo(g, G_ACT_P1));
  // interior outputs: ohLo <= oh < ohHi, owLo <= ow < owHi
  const ohLo = interiorLo(PT, SH), owLo = interiorLo(PL, SW);
  const ohHi = interiorHi(H, PT, KH, DH, SH, OH, ohLo), owHi = interiorHi(W, PL, KW, 1, SW, OW, owLo);
  const oneChannel = C == 1 && SW == 1 && res == 0 && OC <= ONE_CHANNEL_MAX_OC;
  // this part's output rows (image-major)
  const allRows = geo(g, G_N) * OH;
  const r1 = partStart(allRows, 1, part + 1, parts);
  for (let row = partStart(allRows, 1, part, parts); row < r1; row++) {
    const n = row / OH, oh = row % OH;
    const pix = row * OW;
    if (oh < ohLo || oh >= ohHi || owLo >= owHi) {
      im2colRun(g, input, C, packed, OC, output, res, scratch, rows, pix, OW);
      continue;
    }
    if (owLo > 0) im2colRun(g, input, C, packed, OC, output, res, scratch, rows, pix, owLo);
    let a = input + ((<usize>((n * H + oh * SH - PT) * W + owLo * SW - PL) * <usize>C) << 2);
    let p = pix + owLo;
    let count = owHi - owLo;
    if (oneChannel) {
      // whole vectors of 4 pixels here, the last 0-3 through the GEMM below (same bits)
      const done = count & ~3;
      oneChannelRow(done, OC, KH, KW, <usize>(DH * W) << 2, a, packed, output + ((<usize>p * <usize>outS) << 2), outS, act, p0, p1);
      a += <usize>done << 2;
      p += done;
      count -= done;
    }
    if (count > 0) {
      gemm_segmented(
        count, OC, KH, KW * C, DH * W * C, a, SW * C, packed,
        output + ((<usize>p * <usize>outS) << 2), outS, res != 0 ? res + ((<usize>p * <usize>resS) << 2) : 0, resS,
        act, p0, p1,
      );
    }
    if (owHi < OW) im2colRun(g, input, C, packed, OC, output, res, scratch, rows, pix + owHi, OW - owHi);
  }
}

/**
 * Most filters the one-channel path takes: with one input channel the GEMM's depth is only
 * KH·KW, and its tiles spend the same work on 1 filter as on 8 (a 4-pixel × 8-filter tile
 * per step); the one-channel path's work follows the filter count, and above this count the
 * GEMM's tiles are as fast.
 */
const ONE_CHANNEL_MAX_OC: i32 = 16;

/**
 * The interior of one output row of a one-input-channel, stride-1 (across) direct conv, for
 * `count` (a multiple of 4) pixels whose windows start at `a` (input rows rowBytes apart):
 * four adjacent output pixels are one vector, each tap one load of four adjacent input floats
 * times the filter's weight (a splat from its packed panel column), two filters × 16 pixels per
 * tile. Each sum starts from the bias and adds the taps in (kh, kw) order through madd: the
 * same bits as the GEMM over the same window. Then the clamp in registers, four lane stores
 * per vector (NHWC), and any other activation over the stored pixels.
 */
function oneChannelRow(
  count: i32, OC: i32, KH: i32, KW: i32, rowBytes: usize, a: usize, packed: usize, out: usize, outS: i32,
  act: i32, p0: f32, p1: f32,
): void {
  if (count <= 0) return;
  const inRegisters = act <= ACT_CLAMP;
  const lo = f32x4.splat(act == ACT_RELU ? 0 : p0);
  const hi = f32x4.splat(act == ACT_RELU ? Infinity : p1);
  const ra = inRegisters ? act : ACT_NONE;
  const pxBytes = <usize>outS << 2;
  const panelBytes = <usize>gemm_packed_size(NR, KH * KW) << 2;
  for (let f = 0; f < OC; f += 2) {
    // filter f's bias in its panel (f is even: filter f + 1 is the next column of the same panel)
    const w = packed + <usize>(f >> 3) * panelBytes + (<usize>(f & 7) << 2);
    const o = out + (<usize>f << 2);
    let x = 0;
    if (f + 1 < OC) {
      for (; x + 16 <= count; x += 16) oneChannelTile(4, true, KH, KW, rowBytes, a + (<usize>x << 2), w, o + <usize>x * pxBytes, pxBytes, ra, lo, hi);
      for (; x < count; x += 4) oneChannelTile(1, true, KH, KW, rowBytes, a + (<usize>x << 2), w, o + <usize>x * pxBytes, pxBytes, ra, lo, hi);
    } else {
      for (; x + 16 <= count; x += 16) oneChannelTile(4, false, KH, KW, rowBytes, a + (<usize>x << 2), w, o + <usize>x * pxBytes, pxBytes, ra, lo, hi);
      for (; x < count; x += 4) oneChannelTile(1, false, KH, KW, rowBytes, a + (<usize>x << 2), w, o + <usize>x * pxBytes, pxBytes, ra, lo, hi);
    }
  }
  if (!inRegisters) unary_f32(act, out, out, count, OC, outS, outS, p0, p1, 0, 1);
}

/** VECS (1 or 4) vectors of 4 pixels × one or (TWO) two filters: see oneChannelRow. */
// @ts-ignore: decorator
@inline function oneChannelTile(
  VECS: i32, TWO: bool, KH: i32, KW: i32, rowBytes: usize, a: usize, w: usize, o: usize, pxBytes: usize,
  act: i32, lo: v128, hi: v128,
): void {
  const b0 = v128.load32_splat(w);
  const b1 = TWO ? v128.load32_splat(w + 4) : b0;
  let s00 = b0, s01 = b0, s02 = b0, s03 = b0, s10 = b1, s11 = b1, s12 = b1, s13 = b1;
  let wk = w + (<usize>NR << 2);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const p = a + (<usize>kw << 2);
      const w0 = v128.load32_splat(wk);
      const x0 = v128.load(p);
      s00 = madd(s00, x0, w0);
      if (VECS > 1) {
        const x1 = v128.load(p, 16), x2 = v128.load(p, 32), x3 = v128.load(p, 48);
        s01 = madd(s01, x1, w0); s02 = madd(s02, x2, w0); s03 = madd(s03, x3, w0);
        if (TWO) {
          const w1 = v128.load32_splat(wk + 4);
          s10 = madd(s10, x0, w1); s11 = madd(s11, x1, w1); s12 = madd(s12, x2, w1); s13 = madd(s13, x3, w1);
        }
      } else if (TWO) {
        s10 = madd(s10, x0, v128.load32_splat(wk + 4));
      }
      wk += <usize>NR << 2;
    }
    a += rowBytes;
  }
  storePixels(s00, o, pxBytes, act, lo, hi);
  if (TWO) storePixels(s10, o + 4, pxBytes, act, lo, hi);
  if (VECS > 1) {
    const o4 = o + (pxBytes << 2);
    storePixels(s01, o4, pxBytes, act, lo, hi);
    storePixels(s02, o4 + (pxBytes << 2), pxBytes, act, lo, hi);
    storePixels(s03, o4 + (pxBytes << 3), pxBytes, act, lo, hi);
    if (TWO) {
      storePixels(s11, o4 + 4, pxBytes, act, lo, hi);
      storePixels(s12, o4 + (pxBytes << 2) + 4, pxBytes, act, lo, hi);
      storePixels(s13, o4 + (pxBytes << 3) + 4, pxBytes, act, lo, hi);
    }
  }
}

/** One channel of four adjacent NHWC pixels (pxBytes apart), after the clamp as the GEMM's finishRow. */
// @ts-ignore: decorator
@inline function storePixels(v: v128, o: usize, pxBytes: usize, act: i32, lo: v128, hi: v128): void {
  if (act != ACT_NONE) v = f32x4.pmin(f32x4.pmax(v, lo), hi);
  v128.store32_lane(o, v, 0);
  v128.store32_lane(o + pxBytes, v, 1);
  v128.store32_lane(o + (pxBytes << 1), v, 2);
  v128.store32_lane(o + pxBytes * 3, v, 3);
}

/**
 * `count` output pixels from flat index pix0 through im2col blocks of at most `rows`, for the
 * group whose Cg input channels start at `input`, into the nCols output channels at `output`
 * (and the residual at `res`) of the packed panels at `packed`.
 */
function im2colRun(
  g: usize, input: usize, Cg: i32, packed: usize, nCols: i32, output: usize, res: usize, scratch: usize,
  rows: i32, pix0: i32, count: i32,
): void {
  const K = groupK(g);
  const outS = geo(g, G_OUT_STRIDE), resS = geo(g, G_RES_STRIDE);
  const act = geo(g, G_ACT);
  const p0 = reinterpret<f32>(geo(g, G_ACT_P0)), p1 = reinterpret<f32>(geo(g, G_ACT_P1));
  const half = isHalf(g);
  for (let done = 0; done < count; done += rows) {
    const pix = pix0 + done, n = min(rows, count - done);
    im2colBlock(g, input, Cg, pix, n, scratch);
    const y = output + ((<usize>pix * <usize>outS) << 2), r = res != 0 ? res + ((<usize>pix * <usize>resS) << 2) : 0;
    if (half) gemm_h(n, nCols, K, scratch, K, packed, y, outS, r, resS, act, p0, p1, scratch + <usize>im2colBytes(g));
    else gemm(n, nCols, K, scratch, K, packed, y, outS, r, resS, act, p0, p1);
  }
}
