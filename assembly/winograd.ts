// Winograd minimal filtering F(2x2, 3x3) and F(4x4, 3x3) for dense (groups == 1) 3x3, stride 1,
// dilation 1 convolution on NHWC (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
// Networks"). G_FLAGS & FLAG_WINO_F4 picks the tile: m x m outputs from an (m+2) x (m+2) input
// tile, P = (m+2)^2 transform positions (16 or 36).
//
// Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A per input tile d. Summed over the input channels, the
// element-wise product at each of the P transform positions is a GEMM (tiles × C) · (C × OC),
// run by gemm.ts's micro-kernels against the transformed filters, packed at plan time as P
// gemm_pack-layout matrices (zero bias). Per block of output tiles:
//   1. input transform V = Bᵀ d B, four channels per f32x4, zeros outside the image (padding
//      and the right/bottom partial tiles), into P scratch matrices [tiles][C];
//   2. P GEMMs into P scratch matrices [tiles][OC] (no bias, no activation);
//   3. output transform Y = Aᵀ M A, + bias, + residual, clamp (G_ACT: none / ReLU / clamp),
//      storing only the output pixels inside OH x OW.
// F(2x2) uses the points 0, 1, -1 (every transform entry 0, ±1 or ±1/2: exact), F(4x4) the
// points 0, 1, -1, 2, -1/2 (entries up to 8 and 16/15). Float32 error of 512-channel sums
// against f64, relative to 1 + max|y| (tools/winograd_error.py): F(2x2) 6e-7, F(4x4) 2.9e-6
// with these points, 1.3e-5 with the textbook 0, ±1, ±2. Every zoo model stays within 3% of its
// parity tolerance either way. F(4x4) multiplies 2.25x less but packs 36 floats per 9 weights
// and streams them once per block of tiles, so the host keeps it to small filters
// (src/ops/conv.ts).
// groups > 1 and epilogue activations beyond the clamp family are the host's to route to conv2d.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_PT, G_PL, G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0,
  G_ACT_P1, G_RES_STRIDE, G_FLAGS, ACT_NONE, ACT_RELU, FLAG_WINO_F4,
} from './codes';
import { gemm, gemm_packed_size } from './gemm';
import { partStart, splitRows } from './parallel';
import { geo, lineStride, loadLanes, storeLanes } from './window';

/** Output columns per packed panel (gemm.ts's layout). */
const NR: i32 = 8;
/** Scratch budget for one block of transformed tiles (V and M together). */
const BLOCK_BUDGET_BYTES: i32 = 256 * 1024;
const MIN_BLOCK_TILES: i32 = 4;
const MAX_BLOCK_TILES: i32 = 48;
/** Bytes of the transforms' buffer (end of the scratch): a 6x6 tile of f32x4 and one loaded column. */
const TBUF_BYTES: i32 = (36 + 6) * 16;

@inline function round4(n: i32): i32 {
  return (n + 3) & ~3;
}

/** Output tile edge m: 4 for F(4x4, 3x3), 2 for F(2x2, 3x3). */
@inline function tileOut(g: usize): i32 {
  return (geo(g, G_FLAGS) & FLAG_WINO_F4) != 0 ? 4 : 2;
}

/** Transform positions: (m + 2)^2. */
@inline function positions(g: usize): i32 {
  const n = tileOut(g) + 2;
  return n * n;
}

function tilesTotal(g: usize): i32 {
  const m = tileOut(g);
  return geo(g, G_N) * ((geo(g, G_OH) + m - 1) / m) * ((geo(g, G_OW) + m - 1) / m);
}

/** Output tiles per block: a multiple of the GEMM's 4-row strip, V and M within the budget. */
function blockTiles(g: usize): i32 {
  const perTile = positions(g) * (round4(geo(g, G_C)) + round4(geo(g, G_OC))) * 4;
  let t = BLOCK_BUDGET_BYTES / perTile;
  t = min(MAX_BLOCK_TILES, max(MIN_BLOCK_TILES, t / 4 * 4));
  return min(t, tilesTotal(g));
}

/** Floats of one transformed filter position: gemm_pack of OC outputs, C deep. */
@inline function posFloats(g: usize): i32 {
  return gemm_packed_size(geo(g, G_OC), geo(g, G_C));
}

/** Floats of packed weights: P panel matrices, then the bias (OC rounded up to 4). */
export function wino_packed_size(g: usize): i32 {
  return positions(g) * posFloats(g) + round4(geo(g, G_OC));
}

/** G of F(2x2, 3x3) (4x3, points 0, 1, -1, infinity). */
const G2 = memory.data<f64>([
  1, 0, 0,
  0.5, 0.5, 0.5,
  0.5, -0.5, 0.5,
  0, 0, 1,
]);
/** G of F(4x4, 3x3) (6x3, points 0, 1, -1, 2, -1/2, infinity). */
const G4 = memory.data<f64>([
  1, 0, 0,
  -1.0 / 3, -1.0 / 3, -1.0 / 3,
  1.0 / 3, -1.0 / 3, 1.0 / 3,
  1.0 / 15, 2.0 / 15, 4.0 / 15,
  -16.0 / 15, 8.0 / 15, -4.0 / 15,
  0, 0, 1,
]);

/**
 * Transforms w ([OC][C][3][3]) to U = G g Gᵀ (n x n per (oc, c), n = m + 2, in f64, one
 * rounding) and packs each of the n² positions as a gemm_pack matrix (zero bias, K = C,
 * N = OC); bias ([OC] or 0) follows them.
 */
export function wino_pack(w: usize, bias: usize, g: usize, dst: usize): void {
  const C = geo(g, G_C), OC = geo(g, G_OC);
  const n = tileOut(g) + 2, P = n * n;
  const G = n == 6 ? G4 : G2;
  const pf = posFloats(g);
  const total = wino_packed_size(g);
  for (let i = 0; i < total; i++) store<f32>(dst + (<usize>i << 2), 0);
  const tmp = memory.data(6 * 3 * 8, 8); // G g (n x 3), f64
  for (let oc = 0; oc < OC; oc++) {
    const panel = dst + (<usize>((oc / NR) * NR * (C + 1)) << 2);
    const col = oc % NR;
    for (let c = 0; c < C; c++) {
      const wk = w + (<usize>((oc * C + c) * 9) << 2);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < 3; j++) {
          let s: f64 = 0;
          for (let k = 0; k < 3; k++) s += load<f64>(G + (<usize>(i * 3 + k) << 3)) * <f64>load<f32>(wk + (<usize>(k * 3 + j) << 2));
          store<f64>(tmp + (<usize>(i * 3 + j) << 3), s);
        }
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s: f64 = 0;
          for (let k = 0; k < 3; k++) s += load<f64>(tmp + (<usize>(i * 3 + k) << 3)) * load<f64>(G + (<usize>(j * 3 + k) << 3));
          const pos = i * n + j;
          store<f32>(panel + (<usize>(pos * pf + (c + 1) * NR + col) << 2), <f32>s);
        }
      }
    }
  }
  if (bias != 0) {
    const b = dst + (<usize>(P * pf) << 2);
    for (let oc = 0; oc < OC; oc++) store<f32>(b + (<usize>oc << 2), load<f32>(bias + (<usize>oc << 2)));
  }
}

/**
 * Scratch bytes of one part of wino_conv_f32: one block of V (P × tiles × C) and M
 * (P × tiles × OC), and the transforms' intermediate tile.
 */
export function wino_scratch_size(g: usize): i32 {
  const T = blockTiles(g);
  return positions(g) * (lineStride(T * round4(geo(g, G_C)) * 4) + lineStride(T * round4(geo(g, G_OC)) * 4)) + TBUF_BYTES;
}


@inline function mul(a: v128, k: f32): v128 {
  return f32x4.mul(a, f32x4.splat(k));
}

/**
 * Loads input column iw, rows ih0 .. ih0 + n - 1, of the channels at img (nc of them) into n
 * consecutive f32x4 at out; zeros outside the image.
 */
@inline function loadColumn(
  n: i32, img: usize, H: i32, W: i32, inS: i32, ih0: i32, iw: i32, nc: i32, out: usize,
): void {
  const z = f32x4.splat(0);
  if (iw < 0 || iw >= W) {
    for (let i = 0; i < n; i++) v128.store(out + (<usize>i << 4), z);
    return;
  }
  const rs = <usize>W * <usize>inS << 2;
  const p = img + (<usize>(ih0 * W + iw) * <usize>inS << 2);
  for (let i = 0; i < n; i++) {
    const ih = ih0 + i;
    v128.store(out + (<usize>i << 4), ih >= 0 && ih < H ? loadLanes(p + <usize>i * rs, nc) : z);
  }
}

/** Bᵀ d of F(2x2) on d0..d3: 4 values to o (ostep bytes apart). */
@inline function bt2(d0: v128, d1: v128, d2: v128, d3: v128, o: usize, ostep: usize): void {
  v128.store(o, f32x4.sub(d0, d2));
  v128.store(o + ostep, f32x4.add(d1, d2));
  v128.store(o + 2 * ostep, f32x4.sub(d2, d1));
  v128.store(o + 3 * ostep, f32x4.sub(d1, d3));
}

/** Bᵀ d of F(4x4) (points 0, 1, -1, 2, -1/2) on d0..d5: 6 values to o (ostep bytes apart). */
@inline function bt4(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, o: usize, ostep: usize): void {
  v128.store(o, f32x4.add(f32x4.add(f32x4.sub(d0, mul(d2, 2)), mul(f32x4.sub(d1, d3), 1.5)), d4));
  v128.store(o + ostep, f32x4.sub(f32x4.sub(d4, d1), f32x4.add(mul(d2, 2.5), mul(d3, 0.5))));
  v128.store(o + 2 * ostep, f32x4.add(f32x4.add(d4, d1), f32x4.sub(mul(d2, 0.5), mul(d3, 2.5))));
  v128.store(o + 3 * ostep, f32x4.add(f32x4.sub(d4, d2), mul(f32x4.sub(d3, d1), 0.5)));
  v128.store(o + 4 * ostep, f32x4.sub(f32x4.add(d4, mul(f32x4.sub(d1, d3), 2)), d2));
  v128.store(o + 5 * ostep, f32x4.add(f32x4.add(f32x4.sub(d1, mul(d3, 2)), mul(f32x4.sub(d2, d4), 1.5)), d5));
}

/** Bᵀ of the n = M + 2 values at p (pstep bytes apart) to o (ostep bytes apart). */
@inline function bt(M: i32, p: usize, pstep: usize, o: usize, ostep: usize): void {
  const d0 = v128.load(p), d1 = v128.load(p + pstep), d2 = v128.load(p + 2 * pstep), d3 = v128.load(p + 3 * pstep);
  if (M == 4) bt4(d0, d1, d2, d3, v128.load(p + 4 * pstep), v128.load(p + 5 * pstep), o, ostep);
  else bt2(d0, d1, d2, d3, o, ostep);
}

/**
 * Input transform of one tile for channels [c, c + nc): reads the n x n window at (ih0, iw0)
 * of image n (zeros outside), writes V[pos] at v + pos·posStride. The columns' Bᵀ d goes
 * through tbuf (n x n f32x4, row i at i·n·16), then each row's (Bᵀ d) B to V. Columns wholly
 * inside the image are read in place; others through a zero-filled column buffer.
 */
@inline function inputTile(
  M: i32, img: usize, H: i32, W: i32, inS: i32, ih0: i32, iw0: i32, nc: i32, v: usize, posStride: usize, tbuf: usize,
): void {
  const n = M + 2;
  const col = tbuf + (<usize>(n * n) << 4); // one loaded column after the tile
  const rs = <usize>W * <usize>inS << 2;
  const rowsInside = ih0 >= 0 && ih0 + n <= H;
  for (let j = 0; j < n; j++) {
    const iw = iw0 + j;
    const t = tbuf + (<usize>j << 4), tstep = <usize>(n << 4);
    if (rowsInside && nc == 4 && iw >= 0 && iw < W) {
      bt(M, img + (<usize>(ih0 * W + iw) * <usize>inS << 2), rs, t, tstep);
    } else {
      loadColumn(n, img, H, W, inS, ih0, iw, nc, col);
      bt(M, col, 16, t, tstep);
    }
  }
  for (let i = 0; i < n; i++) bt(M, tbuf + (<usize>(i * n) << 4), 16, v + <usize>(i * n) * posStride, posStride);
}

/**
 * Aᵀ of F(2x2) or F(4x4) on n values at p (pstep bytes apart): m results y[0..m) into o
 * (16 bytes apart).
 */
@inline function at(M: i32, p: usize, pstep: usize, o: usize): void {
  const m0 = v128.load(p), m1 = v128.load(p + pstep), m2 = v128.load(p + 2 * pstep), m3 = v128.load(p + 3 * pstep);
  if (M == 2) {
    v128.store(o, f32x4.add(f32x4.add(m0, m1), m2));
    v128.store(o, f32x4.sub(f32x4.sub(m1, m2), m3), 16);
  } else {
    const m4 = v128.load(p + 4 * pstep), m5 = v128.load(p + 5 * pstep);
    const s = f32x4.add(m1, m2), d = f32x4.sub(m1, m2);
    v128.store(o, f32x4.add(f32x4.add(m0, s), f32x4.add(m3, m4)));
    v128.store(o, f32x4.add(d, f32x4.sub(mul(m3, 2), mul(m4, 0.5))), 16);
    v128.store(o, f32x4.add(s, f32x4.add(mul(m3, 4), mul(m4, 0.25))), 32);
    v128.store(o, f32x4.add(f32x4.add(d, f32x4.sub(mul(m3, 8), mul(m4, 0.125))), m5), 48);
  }
}

/**
 * Output transform of one tile for output channels [oc, oc + nc): M[pos] at m + pos·posStride,
 * Y = Aᵀ M A + bias (+ residual), clamped, stored at the rows x cols pixels inside OH x OW.
 */
@inline function outputTile(
  M: i32, m: usize, posStride: usize, bias: v128, out: usize, outRow: usize, outS: i32, res: usize, resRow: usize,
  resS: i32, rows: i32, cols: i32, nc: i32, act: i32, lo: v128, hi: v128, tbuf: usize,
): void {
  const n = M + 2;
  // s = Aᵀ M: column j of M to s[0..M)[j], s row i at tbuf + i·n·16
  for (let j = 0; j < n; j++) at(M, m + <usize>j * posStride, <usize>n * posStride, tbuf + (<usize>(j * M) << 4));
  // tbuf now holds s transposed: column j's M values at j·M·16. Y row i = (s row i) A.
  const y = tbuf + (<usize>(n * M) << 4);
  const os = <usize>outS << 2, rs = <usize>resS << 2;
  for (let i = 0; i < rows; i++) {
    at(M, tbuf + (<usize>i << 4), <usize>(M << 4), y);
    const orow = out + <usize>i * outRow;
    const rrow = res != 0 ? res + <usize>i * resRow : 0;
    for (let j = 0; j < cols; j++) {
      let v = f32x4.add(v128.load(y + (<usize>j << 4)), bias);
      if (res != 0) v = f32x4.add(v, loadLanes(rrow + <usize>j * rs, nc));
      if (act != ACT_NONE) v = f32x4.pmin(f32x4.pmax(v, lo), hi);
      storeLanes(orow + <usize>j * os, v, nc);
    }
  }
}

/** The convolution for output tile edge M (2 or 4); see wino_conv_f32. */
@inline function winoConv(
  M: i32, g: usize, input: usize, packed: usize, output: usize, res: usize, scratch: usize, part: i32, parts: i32,
): void {
  const H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C), OH = geo(g, G_OH), OW = geo(g, G_OW);
  const OC = geo(g, G_OC), PT = geo(g, G_PT), PL = geo(g, G_PL);
  const inS = geo(g, G_IN_STRIDE), outS = geo(g, G_OUT_STRIDE), resS = geo(g, G_RES_STRIDE);
  const act = geo(g, G_ACT);
  const p0 = reinterpret<f32>(geo(g, G_ACT_P0)), p1 = reinterpret<f32>(geo(g, G_ACT_P1));
  const lo = f32x4.splat(act == ACT_RELU ? 0 : p0);
  const hi = f32x4.splat(act == ACT_RELU ? Infinity : p1);
  const P = (M + 2) * (M + 2);
  const TH = (OH + M - 1) / M, TW = (OW + M - 1) / M;
  const total = tilesTotal(g);
  const T = blockTiles(g);
  const Cp = round4(C), OCp = round4(OC);
  const pf = posFloats(g);
  const biasPtr = packed + (<usize>(P * pf) << 2);
  // V: P matrices [T][Cp]; M: P matrices [T][OCp]
  const vPos = <usize>lineStride((T * Cp) << 2), mPos = <usize>lineStride((T * OCp) << 2);
  scratch += <usize>part * <usize>wino_scratch_size(g);
  const V = scratch, Mm = scratch + <usize>P * vPos;
  const tbuf = Mm + <usize>P * mPos;
  const blocks = (total + T - 1) / T;
  const panels = (OC + NR - 1) / NR;
  let b0 = 0, b1 = blocks, q0 = 0, q1 = panels;
  if (parts > 1) {
    if (splitRows(blocks, (panels + 1) >> 1, parts)) {
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
      const ih0 = th * M - PT, iw0 = tw * M - PL;
      const vt = V + (<usize>(t * Cp) << 2);
      for (let c = 0; c < C; c += 4) {
        inputTile(M, img + (<usize>c << 2), H, W, inS, ih0, iw0, min(4, C - c), vt + (<usize>c << 2), vPos, tbuf);
      }
    }
    // 2. P GEMMs (tiles × C) · (C × OC)
    for (let pos = 0; pos < P; pos++) {
      gemm(
        count, oc1 - oc0, C, V + <usize>pos * vPos, Cp, packed + (<usize>(pos * pf + q0 * NR * (C + 1)) << 2),
        Mm + <usize>pos * mPos + (<usize>oc0 << 2), OCp, 0, 0, ACT_NONE, 0, 0,
      );
    }
    // 3. output transform + epilogue
    for (let t = 0; t < count; t++) {
      const tile = t0 + t;
      const tw = tile % TW, th = (tile / TW) % TH, n = tile / (TW * TH);
      const oh0 = th * M, ow0 = tw * M;
      const rows = min(M, OH - oh0), cols = min(M, OW - ow0);
      const pix = <usize>(oh0 * OW + ow0);
      const out = output + <usize>n * imgOut + (pix * <usize>outS << 2);
      const r = res != 0 ? res + <usize>n * imgRes + (pix * <usize>resS << 2) : 0;
      const mt = Mm + (<usize>(t * OCp) << 2);
      for (let oc = oc0; oc < oc1; oc += 4) {
        const nc = min(4, oc1 - oc);
        const off = <usize>oc << 2;
        outputTile(
          M, mt + off, mPos, v128.load(biasPtr + off), out + off, outRow, outS, r != 0 ? r + off : 0, resRow,
          resS, rows, cols, nc, act, lo, hi, tbuf,
        );
      }
    }
  }
}

/**
 * NHWC 3x3 stride-1 dilation-1 conv, groups 1: output = act(conv(input, w) + bias + res), with
 * packed from wino_pack and scratch of wino_scratch_size(g) bytes; F(4x4) when G_FLAGS has
 * FLAG_WINO_F4, else F(2x2). res (0 = none): OC channels per pixel, G_RES_STRIDE floats apart;
 * act: ACT_NONE, ACT_RELU or ACT_CLAMP (p0..p1).
 * scratch: parts × wino_scratch_size(g) bytes. part / parts: this call computes a band of tile
 * blocks or, when that divides more evenly, a band of 16-channel output panel pairs over every
 * block (each part then transforms every input tile itself; parallel.ts).
 */
export function wino_conv_f32(
  g: usize, input: usize, packed: usize, output: usize, res: usize, scratch: usize, part: i32, parts: i32,
): void {
  if (tileOut(g) == 4) winoConv(4, g, input, packed, output, res, scratch, part, parts);
  else winoConv(2, g, input, packed, output, res, scratch, part, parts);
}
