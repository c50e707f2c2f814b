// Winograd minimal filtering F(2x2, 3x3) for dense (groups == 1) 3x3, stride 1, dilation 1
// convolution on NHWC (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks").
//
// Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A per 4x4 input tile d / 2x2 output tile Y. Summed over the
// input channels, the element-wise product at each of the 16 transform positions is a GEMM
// (tiles × C) · (C × OC), run by gemm.ts's micro-kernels against the transformed filters,
// packed at plan time as 16 gemm_pack-layout matrices (zero bias). Per block of output tiles:
//   1. input transform V = Bᵀ d B, four channels per f32x4, zeros outside the image (padding
//      and the right/bottom partial tiles), into 16 scratch matrices [tiles][C];
//   2. 16 GEMMs into 16 scratch matrices [tiles][OC] (no bias, no activation);
//   3. output transform Y = Aᵀ M A, + bias, + residual, clamp (G_ACT: none / ReLU / clamp),
//      storing only the output pixels inside OH x OW.
// F(2x2) rather than F(4x4): every transform entry is 0, ±1 or ±1/2 (exact in f32), so the error
// stays that of direct summation (2.3e-5 · (1 + |y|) at 512 channels against an f64 reference,
// im2col 1.8e-5); F(4x4) (entries up to 8 and 1/24, 2.25x fewer multiplies again) measured
// ~1e-4 · (1 + |y|) on 64- and 512-channel layers, too close to the zoo's whole-network tolerance.
// groups > 1 and epilogue activations beyond the clamp family are the host's to route to conv2d.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_PT, G_PL, G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0,
  G_ACT_P1, G_RES_STRIDE, ACT_NONE, ACT_RELU,
} from './codes';
import { gemm, gemm_packed_size } from './gemm';
import { partStart, splitRows } from './parallel';
import { geo, loadPart, storePart } from './window';

/** Output columns per packed panel (gemm.ts's layout). */
const NR: i32 = 8;
/** Transform positions of F(2x2, 3x3): a 4x4 tile. */
const POS: i32 = 16;
/** Scratch budget for one block of transformed tiles (V and M together). */
const BLOCK_BUDGET_BYTES: i32 = 256 * 1024;
const MIN_BLOCK_TILES: i32 = 4;
const MAX_BLOCK_TILES: i32 = 48;

@inline function round4(n: i32): i32 {
  return (n + 3) & ~3;
}

function tilesTotal(g: usize): i32 {
  return geo(g, G_N) * ((geo(g, G_OH) + 1) >> 1) * ((geo(g, G_OW) + 1) >> 1);
}

/** Output tiles per block: a multiple of the GEMM's 4-row strip, V and M within the budget. */
function blockTiles(g: usize): i32 {
  const perTile = POS * (round4(geo(g, G_C)) + round4(geo(g, G_OC))) * 4;
  let t = BLOCK_BUDGET_BYTES / perTile;
  t = min(MAX_BLOCK_TILES, max(MIN_BLOCK_TILES, t / 4 * 4));
  return min(t, tilesTotal(g));
}

/** Floats of one transformed filter position: gemm_pack of OC outputs, C deep. */
@inline function posFloats(g: usize): i32 {
  return gemm_packed_size(geo(g, G_OC), geo(g, G_C));
}

/** Floats of packed weights: 16 panel matrices, then the bias (OC rounded up to 4). */
export function wino_packed_size(g: usize): i32 {
  return POS * posFloats(g) + round4(geo(g, G_OC));
}

/**
 * Transforms w ([OC][C][3][3]) to U = G g Gᵀ (4x4 per (oc, c); G's entries 0, ±1/2, 1 make this
 * exact but for one rounding) and packs each of the 16 positions as a gemm_pack matrix (zero
 * bias, K = C, N = OC); bias ([OC] or 0) follows them.
 */
export function wino_pack(w: usize, bias: usize, g: usize, dst: usize): void {
  const C = geo(g, G_C), OC = geo(g, G_OC);
  const pf = posFloats(g);
  const total = wino_packed_size(g);
  for (let i = 0; i < total; i++) store<f32>(dst + (<usize>i << 2), 0);
  // G (4x3) of F(2x2, 3x3)
  const G = memory.data<f64>([
    1, 0, 0,
    0.5, 0.5, 0.5,
    0.5, -0.5, 0.5,
    0, 0, 1,
  ]);
  const tmp = memory.data(4 * 3 * 8, 8); // G g (4x3), f64
  for (let oc = 0; oc < OC; oc++) {
    const panel = dst + (<usize>((oc / NR) * NR * (C + 1)) << 2);
    const col = oc % NR;
    for (let c = 0; c < C; c++) {
      const wk = w + (<usize>((oc * C + c) * 9) << 2);
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 3; j++) {
          let s: f64 = 0;
          for (let k = 0; k < 3; k++) s += load<f64>(G + (<usize>(i * 3 + k) << 3)) * <f64>load<f32>(wk + (<usize>(k * 3 + j) << 2));
          store<f64>(tmp + (<usize>(i * 3 + j) << 3), s);
        }
      }
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          let s: f64 = 0;
          for (let k = 0; k < 3; k++) s += load<f64>(tmp + (<usize>(i * 3 + k) << 3)) * load<f64>(G + (<usize>(j * 3 + k) << 3));
          const pos = i * 4 + j;
          store<f32>(panel + (<usize>(pos * pf + (c + 1) * NR + col) << 2), <f32>s);
        }
      }
    }
  }
  if (bias != 0) {
    const b = dst + (<usize>(POS * pf) << 2);
    for (let oc = 0; oc < OC; oc++) store<f32>(b + (<usize>oc << 2), load<f32>(bias + (<usize>oc << 2)));
  }
}

/** Bytes of the input transform's intermediate 4x4 tile of f32x4 (at the end of the scratch). */
const TBUF_BYTES: i32 = POS * 16;

/**
 * Scratch bytes of one part of wino_conv_f32: one block of V (16 × tiles × C) and M
 * (16 × tiles × OC), and the transform's 4x4 tile of f32x4.
 */
export function wino_scratch_size(g: usize): i32 {
  return POS * blockTiles(g) * (round4(geo(g, G_C)) + round4(geo(g, G_OC))) * 4 + TBUF_BYTES;
}

@inline function ld(p: usize, nc: i32): v128 {
  return nc == 4 ? v128.load(p) : loadPart(p, nc);
}

/**
 * Input transform of one tile for channels [c, c + nc): reads the 4x4 window at (ih0, iw0) of
 * image n (zeros outside), writes V[pos] at v + pos·posStride.
 */
@inline function inputTile(
  img: usize, H: i32, W: i32, inS: i32, ih0: i32, iw0: i32, nc: i32, v: usize, posStride: usize, tbuf: usize,
): void {
  const z = f32x4.splat(0);
  const rs = <usize>W * <usize>inS << 2;
  const rowsInside = ih0 >= 0 && ih0 + 3 < H;
  // columns: t[i][j] = (Bᵀ d)[i][j]
  for (let j = 0; j < 4; j++) {
    const iw = iw0 + j;
    let d0 = z, d1 = z, d2 = z, d3 = z;
    if (iw >= 0 && iw < W) {
      const p = img + (<usize>(ih0 * W + iw) * <usize>inS << 2);
      if (rowsInside) {
        d0 = ld(p, nc); d1 = ld(p + rs, nc); d2 = ld(p + 2 * rs, nc); d3 = ld(p + 3 * rs, nc);
      } else {
        if (ih0 >= 0 && ih0 < H) d0 = ld(p, nc);
        if (ih0 + 1 >= 0 && ih0 + 1 < H) d1 = ld(p + rs, nc);
        if (ih0 + 2 >= 0 && ih0 + 2 < H) d2 = ld(p + 2 * rs, nc);
        if (ih0 + 3 >= 0 && ih0 + 3 < H) d3 = ld(p + 3 * rs, nc);
      }
    }
    const t = tbuf + (<usize>j << 4);
    v128.store(t, f32x4.sub(d0, d2));
    v128.store(t, f32x4.add(d1, d2), 16 * 4);
    v128.store(t, f32x4.sub(d2, d1), 16 * 8);
    v128.store(t, f32x4.sub(d1, d3), 16 * 12);
  }
  // rows: V[i][j] = (t B)[i][j], the same combination along the row
  for (let i = 0; i < 4; i++) {
    const t = tbuf + (<usize>(i * 4) << 4);
    const d0 = v128.load(t), d1 = v128.load(t, 16), d2 = v128.load(t, 32), d3 = v128.load(t, 48);
    const o = v + <usize>(i * 4) * posStride;
    v128.store(o, f32x4.sub(d0, d2));
    v128.store(o + posStride, f32x4.add(d1, d2));
    v128.store(o + 2 * posStride, f32x4.sub(d2, d1));
    v128.store(o + 3 * posStride, f32x4.sub(d1, d3));
  }
}

/**
 * Output transform of one tile for output channels [oc, oc + nc): M[pos] at m + pos·posStride,
 * Y = Aᵀ M A + bias (+ residual), clamped, stored at the pixels inside OH x OW.
 */
@inline function outputTile(
  m: usize, posStride: usize, bias: v128, out: usize, outRow: usize, outS: i32, res: usize, resRow: usize,
  resS: i32, rows: i32, cols: i32, nc: i32, act: i32, lo: v128, hi: v128,
): void {
  // s = Aᵀ M (2x4)
  const m00 = v128.load(m), m01 = v128.load(m + posStride), m02 = v128.load(m + 2 * posStride), m03 = v128.load(m + 3 * posStride);
  const m10 = v128.load(m + 4 * posStride), m11 = v128.load(m + 5 * posStride);
  const m12 = v128.load(m + 6 * posStride), m13 = v128.load(m + 7 * posStride);
  const m20 = v128.load(m + 8 * posStride), m21 = v128.load(m + 9 * posStride);
  const m22 = v128.load(m + 10 * posStride), m23 = v128.load(m + 11 * posStride);
  const m30 = v128.load(m + 12 * posStride), m31 = v128.load(m + 13 * posStride);
  const m32 = v128.load(m + 14 * posStride), m33 = v128.load(m + 15 * posStride);
  const s00 = f32x4.add(f32x4.add(m00, m10), m20), s01 = f32x4.add(f32x4.add(m01, m11), m21);
  const s02 = f32x4.add(f32x4.add(m02, m12), m22), s03 = f32x4.add(f32x4.add(m03, m13), m23);
  const s10 = f32x4.sub(f32x4.sub(m10, m20), m30), s11 = f32x4.sub(f32x4.sub(m11, m21), m31);
  const s12 = f32x4.sub(f32x4.sub(m12, m22), m32), s13 = f32x4.sub(f32x4.sub(m13, m23), m33);
  // Y = s A (2x2) + bias
  let y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), bias);
  let y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), bias);
  let y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), bias);
  let y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), bias);
  const os = <usize>outS << 2;
  if (res != 0) {
    const rs = <usize>resS << 2;
    y00 = f32x4.add(y00, ld(res, nc));
    if (cols > 1) y01 = f32x4.add(y01, ld(res + rs, nc));
    if (rows > 1) {
      y10 = f32x4.add(y10, ld(res + resRow, nc));
      if (cols > 1) y11 = f32x4.add(y11, ld(res + resRow + rs, nc));
    }
  }
  if (act != ACT_NONE) {
    y00 = f32x4.pmin(f32x4.pmax(y00, lo), hi);
    y01 = f32x4.pmin(f32x4.pmax(y01, lo), hi);
    y10 = f32x4.pmin(f32x4.pmax(y10, lo), hi);
    y11 = f32x4.pmin(f32x4.pmax(y11, lo), hi);
  }
  if (nc == 4) {
    v128.store(out, y00);
    if (cols > 1) v128.store(out + os, y01);
    if (rows > 1) {
      v128.store(out + outRow, y10);
      if (cols > 1) v128.store(out + outRow + os, y11);
    }
  } else {
    storePart(out, y00, nc);
    if (cols > 1) storePart(out + os, y01, nc);
    if (rows > 1) {
      storePart(out + outRow, y10, nc);
      if (cols > 1) storePart(out + outRow + os, y11, nc);
    }
  }
}

/**
 * NHWC 3x3 stride-1 dilation-1 conv, groups 1: output = act(conv(input, w) + bias + res), with
 * packed from wino_pack and scratch of wino_scratch_size(g) bytes. res (0 = none): OC channels
 * per pixel, G_RES_STRIDE floats apart; act: ACT_NONE, ACT_RELU or ACT_CLAMP (p0..p1).
 * scratch: parts × wino_scratch_size(g) bytes. part / parts: this call computes a band of tile
 * blocks or, when that divides more evenly, a band of 8-channel output panels over every block
 * (each part then transforms every input tile itself; parallel.ts).
 */
export function wino_conv_f32(
  g: usize, input: usize, packed: usize, output: usize, res: usize, scratch: usize, part: i32, parts: i32,
): void {
  const H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C), OH = geo(g, G_OH), OW = geo(g, G_OW);
  const OC = geo(g, G_OC), PT = geo(g, G_PT), PL = geo(g, G_PL);
  const inS = geo(g, G_IN_STRIDE), outS = geo(g, G_OUT_STRIDE), resS = geo(g, G_RES_STRIDE);
  const act = geo(g, G_ACT);
  const p0 = reinterpret<f32>(geo(g, G_ACT_P0)), p1 = reinterpret<f32>(geo(g, G_ACT_P1));
  const lo = f32x4.splat(act == ACT_RELU ? 0 : p0);
  const hi = f32x4.splat(act == ACT_RELU ? Infinity : p1);
  const TH = (OH + 1) >> 1, TW = (OW + 1) >> 1;
  const total = tilesTotal(g);
  const T = blockTiles(g);
  const Cp = round4(C), OCp = round4(OC);
  const pf = posFloats(g);
  const biasPtr = packed + (<usize>(POS * pf) << 2);
  // V: 16 matrices [T][Cp]; M: 16 matrices [T][OCp]
  const vPos = <usize>(T * Cp) << 2, mPos = <usize>(T * OCp) << 2;
  scratch += <usize>part * <usize>wino_scratch_size(g);
  const V = scratch, M = scratch + <usize>POS * vPos;
  const tbuf = M + <usize>POS * mPos;
  const blocks = (total + T - 1) / T;
  const panels = (OC + NR - 1) / NR;
  let b0 = 0, b1 = blocks, q0 = 0, q1 = panels;
  if (parts > 1) {
    if (splitRows(blocks, panels, parts)) {
      b0 = partStart(blocks, 1, part, parts);
      b1 = partStart(blocks, 1, part + 1, parts);
    } else {
      q0 = partStart(panels, 2, part, parts);
      q1 = partStart(panels, 2, part + 1, parts);
    }
  }
  const oc0 = q0 * NR, oc1 = min(OC, q1 * NR);
  if (oc1 <= oc0) return;
  const imgIn = <usize>H * <usize>W * <usize>inS << 2;
  const imgOut = <usize>OH * <usize>OW * <usize>outS << 2;
  const imgRes = <usize>OH * <usize>OW * <usize>resS << 2;
  const outRow = <usize>OW * <usize>outS << 2, resRow = <usize>OW * <usize>resS << 2;

  for (let b = b0; b < b1; b++) {
    const t0 = b * T;
    const count = min(T, total - t0);
    // 1. input transform
    for (let t = 0; t < count; t++) {
      const tile = t0 + t;
      const tw = tile % TW, th = (tile / TW) % TH, n = tile / (TW * TH);
      const img = input + <usize>n * imgIn;
      const ih0 = th * 2 - PT, iw0 = tw * 2 - PL;
      const vt = V + (<usize>(t * Cp) << 2);
      for (let c = 0; c < C; c += 4) {
        inputTile(img + (<usize>c << 2), H, W, inS, ih0, iw0, min(4, C - c), vt + (<usize>c << 2), vPos, tbuf);
      }
    }
    // 2. 16 GEMMs (tiles × C) · (C × OC)
    for (let pos = 0; pos < POS; pos++) {
      gemm(
        count, oc1 - oc0, C, V + <usize>pos * vPos, Cp, packed + (<usize>(pos * pf + q0 * NR * (C + 1)) << 2),
        M + <usize>pos * mPos + (<usize>oc0 << 2), OCp, 0, 0, ACT_NONE, 0, 0,
      );
    }
    // 3. output transform + epilogue
    for (let t = 0; t < count; t++) {
      const tile = t0 + t;
      const tw = tile % TW, th = (tile / TW) % TH, n = tile / (TW * TH);
      const oh0 = th * 2, ow0 = tw * 2;
      const rows = min(2, OH - oh0), cols = min(2, OW - ow0);
      const pix = <usize>(oh0 * OW + ow0);
      const out = output + <usize>n * imgOut + (pix * <usize>outS << 2);
      const r = res != 0 ? res + <usize>n * imgRes + (pix * <usize>resS << 2) : 0;
      const mt = M + (<usize>(t * OCp) << 2);
      for (let oc = oc0; oc < oc1; oc += 4) {
        const nc = min(4, oc1 - oc);
        const off = <usize>oc << 2;
        outputTile(
          mt + off, mPos, v128.load(biasPtr + off), out + off, outRow, outS, r != 0 ? r + off : 0, resRow,
          resS, rows, cols, nc, act, lo, hi,
        );
      }
    }
  }
}
