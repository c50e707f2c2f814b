// Exact integer Winograd F(2x2, 3x3) (Lavin & Gray 2016) for int8 dense 3x3 stride-1 dilation-1
// convolution on NHWC bytes, with the requantizing epilogue of qgemm_q8 (requant.ts): the bytes
// equal those of qim2col_q8 + qgemm_q8 (and so onnxruntime's QLinearConv) exactly.
//
// Why exact. With d = x − zx over a 4x4 input window (padding taps are zx, so d = 0 there) and
// Ĝ = 2G = [[2,0,0],[1,1,1],[1,−1,1],[0,0,2]] (integer), the F(2x2) identity
//   Aᵀ [(Ĝ g Ĝᵀ) ⊙ (Bᵀ d B)] A = 4 · (the 2x2 direct conv outputs Σ d·g)
// holds over the integers (Ĝ g Ĝᵀ = 4·G g Gᵀ). Every step is an integer add, subtract or
// multiply, so computed in i32 it holds modulo 2^32 whatever wraps in between; the final value
// is exact when |4·Σ d·g| < 2^31. Bounds: |d| ≤ 255 (u8 or i8 x and zero point), Bᵀ/B entries
// are 0/±1 with two nonzeros a row, so |V| = |Bᵀ d B| ≤ 4·255 = 1020 (i16); Ĝ's rows have
// absolute sums 2, 3, 3, 2, so |U| = |Ĝ g Ĝᵀ| ≤ 9·128 = 1152 (i16, weights −128..127); a
// dot_i16x8_s pair sum ≤ 2·1020·1152 < 2^31. |Σ d·g| ≤ C·9·255·128 = C·293760, so the sum
// fits with C ≤ QWINO_MAX_CHANNELS = 1827; the host routes larger C to im2col. An arithmetic
// shift right by 2 then gives the accumulator of the direct conv, + bias (i32, wrapping as
// qgemm_q8's), then requantLanes → bytes. No column sums: the zero point comes off in d.
//
// Per block of T output tiles (2x2 pixels each) of one part:
//   1. input transform: V[pos][t][c] = (Bᵀ d B)[pos] as i16, 8 channels a vector, rows of
//      cpad(C) i16 (a padding lane holds some |v| ≤ 1020 and meets a zero weight);
//   2. for each chunk of 16-column panels of the outputs, 16 GEMMs M[pos] = V[pos] · U[pos]
//      (tiles × C · C × OC) in i16 with i32 sums: qgemm.ts's 2-row × 16-column tile with an
//      i16 A side (one v128.load32_splat per channel pair instead of load16_splat + extend);
//   3. output transform Y = Aᵀ M A (i32), >> 2, + bias, requantize, 4 channels a step, stored
//      for the pixels inside OH x OW; a fused residual add (`post`, qpost.ts) then runs on the
//      tile's pixels of the chunk's channels.
// V and an M chunk are sized to stay in L2 (QW_V_BUDGET, QW_M_BUDGET).
//
// Packed U (qwino_pack), bytes: 16 positions, each ceil(OC/16) panels of ceil(C/2) k-pair rows
// × 16 columns × (i16 u[oc][c], i16 u[oc][c+1]) (qgemm_pack's panel rows without the column
// sums); columns past OC and the c past an odd C are zero.
//
// Streamed form (qwino_stream_pack): the raw int8 weights, 9 bytes per (oc, c), as ceil(OC/16)
// panels of ceil(C/2) k-pairs of 9 taps (ky·3 + kx) × 16 columns × (i8 w[oc][c], i8 w[oc][c+1]):
// one tap's 32 bytes, widened to i16, are the lanes of a U row in the packed order, so one i16x8
// op transforms 4 columns × 2 channels. qwino_q8 with streamed = 1 turns each panel into its 16
// positions' U (streamPanel: the same integers as qwino_pack) in the part's scratch just before
// the panel's 16 GEMMs: 9 bytes of weights read per (oc, c) instead of 32.
import { partStart, splitRows } from './parallel';
import { geo, lineStride, loadLanes } from './window';
import { loadBytes8, MAGIC_BITS, narrow16, requantLanes, storeBytes } from './requant';
import { applyPost } from './qpost';

/** Output columns per packed panel. */
const NR: i32 = 16;
/** Bytes of one k-pair row of a panel: 16 columns × 2 i16. */
const ROW_BYTES: i32 = 64;
/** Transform positions of F(2x2, 3x3): a 4x4 tile. */
const P: i32 = 16;
/**
 * Scratch for one block's V (16 × T × cpad(C) i16). Every block streams all of U (32·C·OC
 * bytes): at 7x7 512 -> 512 (16 tiles, U 8 MB) this budget makes one block instead of two.
 */
const QW_V_BUDGET: i32 = 256 * 1024;
/** Scratch for one chunk's M (16 × T × chunk columns i32). */
const QW_M_BUDGET: i32 = 128 * 1024;
const QW_MAX_TILES: i32 = 64;
/** Largest C whose accumulators, times 4, fit i32 (see the header). */
const QWINO_MAX_CHANNELS: i32 = 1827;

/** i16 elements of one V row: C rounded up to 8 (one vector of i16). */
// @ts-ignore: decorator
@inline function cpad(C: i32): i32 {
  return (C + 7) & ~7;
}

// @ts-ignore: decorator
@inline function panelBytes(C: i32): i32 {
  return ROW_BYTES * ((C + 1) >> 1);
}

// @ts-ignore: decorator
@inline function posBytes(C: i32, OC: i32): i32 {
  return ((OC + NR - 1) / NR) * panelBytes(C);
}

/** Bytes of the packed transformed weights for C inputs, OC outputs. */
export function qwino_packed_size(C: i32, OC: i32): i32 {
  return P * posBytes(C, OC);
}

/** Bytes of one panel's raw weights in the streamed form: k-pairs × 9 taps × 32 bytes. */
// @ts-ignore: decorator
@inline function rawPanelBytes(C: i32): i32 {
  return 288 * ((C + 1) >> 1);
}

/**
 * Bytes between the 16 positions' panels of the streamed form's U scratch: an odd number of cache
 * lines, so the 16 rows one transform step stores do not share an L1 set (at a 4 KB-multiple
 * stride the whole-layer transform took 7x as long at C = 512).
 */
// @ts-ignore: decorator
@inline function uStep(C: i32): i32 {
  return lineStride(panelBytes(C));
}

/** Bytes of the streamed form (raw int8 weights, see the header) for C inputs, OC outputs. */
export function qwino_stream_size(C: i32, OC: i32): i32 {
  return ((OC + NR - 1) / NR) * rawPanelBytes(C);
}

/**
 * Packs int8 weights w ([OC][C][3][3], ONNX order) in the streamed form: per 16-column panel and
 * k-pair, 9 taps × 16 columns × 2 channels of bytes (see the header); padding bytes zero.
 */
export function qwino_stream_pack(w: usize, C: i32, OC: i32, dst: usize): void {
  memory.fill(dst, 0, <usize>qwino_stream_size(C, OC));
  const pb = <usize>rawPanelBytes(C);
  for (let oc = 0; oc < OC; oc++) {
    const col = dst + <usize>(oc / NR) * pb + (<usize>(oc % NR) << 1);
    for (let c = 0; c < C; c++) {
      const g = w + <usize>(oc * C + c) * 9, at = col + <usize>(c >> 1) * 288 + <usize>(c & 1);
      for (let t = 0; t < 9; t++) store<i8>(at + <usize>(t * 32), load<i8>(g + <usize>t));
    }
  }
}

/** One row (t0, t1, t2) of Ĝ g times Ĝᵀ, 8 i16 lanes: 4 vectors of U, `pos` bytes apart. */
// @ts-ignore: decorator
@inline function rowOutV(row: usize, pos: usize, t0: v128, t1: v128, t2: v128): void {
  const s = i16x8.add(t0, t2);
  v128.store(row, i16x8.shl(t0, 1));
  v128.store(row + pos, i16x8.add(s, t1));
  v128.store(row + 2 * pos, i16x8.sub(s, t1));
  v128.store(row + 3 * pos, i16x8.shl(t2, 1));
}

/**
 * U = Ĝ g Ĝᵀ of 4 columns × 2 channels (the 9 taps g_ij as i16 lanes), stored at row of each
 * position's panel (positions `pos` bytes apart): rowOut's integers, 8 at a time.
 */
// @ts-ignore: decorator
@inline function transformLanes(
  row: usize, pos: usize, g00: v128, g01: v128, g02: v128, g10: v128, g11: v128, g12: v128, g20: v128, g21: v128, g22: v128,
): void {
  const s0 = i16x8.add(g00, g20), s1 = i16x8.add(g01, g21), s2 = i16x8.add(g02, g22);
  rowOutV(row, pos, i16x8.shl(g00, 1), i16x8.shl(g01, 1), i16x8.shl(g02, 1));
  rowOutV(row + 4 * pos, pos, i16x8.add(s0, g10), i16x8.add(s1, g11), i16x8.add(s2, g12));
  rowOutV(row + 8 * pos, pos, i16x8.sub(s0, g10), i16x8.sub(s1, g11), i16x8.sub(s2, g12));
  rowOutV(row + 12 * pos, pos, i16x8.shl(g20, 1), i16x8.shl(g21, 1), i16x8.shl(g22, 1));
}

/**
 * One panel of the streamed form (raw: `pairs` k-pairs × 288 bytes) to U in qwino_pack's panel
 * order: position p's panel at u + p·pos (pairs × 64 bytes).
 */
function streamPanel(raw: usize, pairs: i32, u: usize, pos: usize): void {
  for (let r = 0; r < pairs; r++) {
    const src = raw + <usize>r * 288, dst = u + (<usize>r << 6);
    for (let h: usize = 0; h < 32; h += 16) {
      const s = src + h;
      const v0 = v128.load(s), v1 = v128.load(s, 32), v2 = v128.load(s, 64);
      const v3 = v128.load(s, 96), v4 = v128.load(s, 128), v5 = v128.load(s, 160);
      const v6 = v128.load(s, 192), v7 = v128.load(s, 224), v8 = v128.load(s, 256);
      // 16 bytes = 8 columns × 2 channels: low 8 -> the row's columns h/2 .. h/2+3, high 8 -> the next 4
      transformLanes(dst + (h << 1), pos,
        i16x8.extend_low_i8x16_s(v0), i16x8.extend_low_i8x16_s(v1), i16x8.extend_low_i8x16_s(v2),
        i16x8.extend_low_i8x16_s(v3), i16x8.extend_low_i8x16_s(v4), i16x8.extend_low_i8x16_s(v5),
        i16x8.extend_low_i8x16_s(v6), i16x8.extend_low_i8x16_s(v7), i16x8.extend_low_i8x16_s(v8));
      transformLanes(dst + (h << 1) + 16, pos,
        i16x8.extend_high_i8x16_s(v0), i16x8.extend_high_i8x16_s(v1), i16x8.extend_high_i8x16_s(v2),
        i16x8.extend_high_i8x16_s(v3), i16x8.extend_high_i8x16_s(v4), i16x8.extend_high_i8x16_s(v5),
        i16x8.extend_high_i8x16_s(v6), i16x8.extend_high_i8x16_s(v7), i16x8.extend_high_i8x16_s(v8));
    }
  }
}

/**
 * Transforms int8 weights w ([OC][C][3][3], ONNX order, zero point 0) to U = Ĝ g Ĝᵀ (exact
 * integers, |U| ≤ 1152) and packs them as 16 panel matrices (see the header).
 */
export function qwino_pack(w: usize, C: i32, OC: i32, dst: usize): void {
  memory.fill(dst, 0, <usize>qwino_packed_size(C, OC));
  const pos = <usize>posBytes(C, OC), pb = <usize>panelBytes(C);
  for (let oc = 0; oc < OC; oc++) {
    const col = dst + <usize>(oc / NR) * pb + (<usize>(oc % NR) << 2);
    for (let c = 0; c < C; c++) {
      const g = w + <usize>(oc * C + c) * 9;
      const at = col + <usize>(c >> 1) * ROW_BYTES + (<usize>(c & 1) << 1);
      // Ĝ g, one column j of g at a time (the rows of Ĝ: (2,0,0), (1,1,1), (1,−1,1), (0,0,2)),
      // then (Ĝ g) Ĝᵀ on each of its 4 rows i: U[4i .. 4i+3]
      const g00 = <i32>load<i8>(g), g01 = <i32>load<i8>(g, 1), g02 = <i32>load<i8>(g, 2);
      const g10 = <i32>load<i8>(g, 3), g11 = <i32>load<i8>(g, 4), g12 = <i32>load<i8>(g, 5);
      const g20 = <i32>load<i8>(g, 6), g21 = <i32>load<i8>(g, 7), g22 = <i32>load<i8>(g, 8);
      rowOut(at, pos, 2 * g00, 2 * g01, 2 * g02);
      rowOut(at + 4 * pos, pos, g00 + g10 + g20, g01 + g11 + g21, g02 + g12 + g22);
      rowOut(at + 8 * pos, pos, g00 - g10 + g20, g01 - g11 + g21, g02 - g12 + g22);
      rowOut(at + 12 * pos, pos, 2 * g20, 2 * g21, 2 * g22);
    }
  }
}

/** One row (t0, t1, t2) of Ĝ g times Ĝᵀ: 4 values of U, `pos` bytes apart. */
// @ts-ignore: decorator
@inline function rowOut(row: usize, pos: usize, t0: i32, t1: i32, t2: i32): void {
  store<i16>(row, <i16>(2 * t0));
  store<i16>(row + pos, <i16>(t0 + t1 + t2));
  store<i16>(row + 2 * pos, <i16>(t0 - t1 + t2));
  store<i16>(row + 3 * pos, <i16>(2 * t2));
}

/** Output tiles of the conv: N · ceil(OH/2) · ceil(OW/2). */
// @ts-ignore: decorator
@inline function tilesTotal(g: usize): i32 {
  return geo(g, 0) * ((geo(g, 13) + 1) >> 1) * ((geo(g, 14) + 1) >> 1);
}

/**
 * Tiles per block: V within QW_V_BUDGET, at most QW_MAX_TILES, even (the GEMM's 2-row tile),
 * at least 2; then evened out over the blocks that takes (49 tiles at most 24 a block: 3 of 18).
 */
function blockTiles(g: usize): i32 {
  const total = tilesTotal(g);
  const t = min(QW_MAX_TILES, max(2, (QW_V_BUDGET / (P * cpad(geo(g, 3)) * 2)) & ~1));
  if (total <= t) return max(total, 2);
  const blocks = (total + t - 1) / t;
  return min(t, ((total + blocks - 1) / blocks + 1) & ~1);
}

/** Panels per M chunk: 16 × T × 16·panels i32 within QW_M_BUDGET, at least one, at most all. */
function chunkPanels(g: usize, OC: i32): i32 {
  const T = blockTiles(g);
  return min((OC + NR - 1) / NR, max(1, QW_M_BUDGET / (P * T * NR * 4)));
}

/**
 * Bytes of scratch of one part of qwino_q8: V, one M chunk, (streamed) one panel's U for the 16
 * positions, a tile's 16 input pointers, a zx row; rounded up to 64.
 */
export function qwino_scratch_size(g: usize, OC: i32, streamed: i32): i32 {
  const T = blockTiles(g), C = geo(g, 3);
  const u = streamed != 0 ? P * uStep(C) : 0;
  return (P * T * cpad(C) * 2 + P * T * chunkPanels(g, OC) * NR * 4 + u + P * 4 + cpad(C) + 63) & ~63;
}

/** 8 bytes at p (nc of them valid) widened to i16, minus the zero point. */
// @ts-ignore: decorator
@inline function ld(SIGNED: bool, p: usize, nc: i32, vz: v128): v128 {
  const v = nc >= 8 ? v128.load64_zero(p) : loadBytes8(p, nc);
  return i16x8.sub(SIGNED ? i16x8.extend_low_i8x16_s(v) : i16x8.extend_low_i8x16_u(v), vz);
}

/** d at window position k (0..15) for channels c..c+7: its pixel's address is in the pointer table. */
// @ts-ignore: decorator
@inline function dAt(SIGNED: bool, tbl: usize, k: i32, c: usize, nc: i32, vz: v128): v128 {
  return ld(SIGNED, load<usize>(tbl + (<usize>k << 2)) + c, nc, vz);
}

/**
 * Input transform of one tile: V = Bᵀ d B for all channels, V[pos] at v + pos·vPos (i16 rows).
 * tbl: the 16 window pixels' addresses (row-major), a zx-filled row for taps outside the image.
 * Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]: r = d B per row, then V = Bᵀ r per column.
 */
// @ts-ignore: decorator
@inline function inputTile(SIGNED: bool, tbl: usize, C: i32, vz: v128, v: usize, vPos: usize): void {
  for (let c = 0; c < C; c += 8) {
    const nc = min(8, C - c), cc = <usize>c;
    const o = v + (cc << 1);
    // output columns 0 and 3 (from window columns 0, 2 and 1, 3)
    {
      const r0 = i16x8.sub(dAt(SIGNED, tbl, 0, cc, nc, vz), dAt(SIGNED, tbl, 2, cc, nc, vz));
      const r1 = i16x8.sub(dAt(SIGNED, tbl, 4, cc, nc, vz), dAt(SIGNED, tbl, 6, cc, nc, vz));
      const r2 = i16x8.sub(dAt(SIGNED, tbl, 8, cc, nc, vz), dAt(SIGNED, tbl, 10, cc, nc, vz));
      const r3 = i16x8.sub(dAt(SIGNED, tbl, 12, cc, nc, vz), dAt(SIGNED, tbl, 14, cc, nc, vz));
      v128.store(o, i16x8.sub(r0, r2));
      v128.store(o + 4 * vPos, i16x8.add(r1, r2));
      v128.store(o + 8 * vPos, i16x8.sub(r2, r1));
      v128.store(o + 12 * vPos, i16x8.sub(r1, r3));
    }
    {
      const r0 = i16x8.sub(dAt(SIGNED, tbl, 1, cc, nc, vz), dAt(SIGNED, tbl, 3, cc, nc, vz));
      const r1 = i16x8.sub(dAt(SIGNED, tbl, 5, cc, nc, vz), dAt(SIGNED, tbl, 7, cc, nc, vz));
      const r2 = i16x8.sub(dAt(SIGNED, tbl, 9, cc, nc, vz), dAt(SIGNED, tbl, 11, cc, nc, vz));
      const r3 = i16x8.sub(dAt(SIGNED, tbl, 13, cc, nc, vz), dAt(SIGNED, tbl, 15, cc, nc, vz));
      v128.store(o + 3 * vPos, i16x8.sub(r0, r2));
      v128.store(o + 7 * vPos, i16x8.add(r1, r2));
      v128.store(o + 11 * vPos, i16x8.sub(r2, r1));
      v128.store(o + 15 * vPos, i16x8.sub(r1, r3));
    }
    // output columns 1 and 2 (both from window columns 1, 2)
    {
      const a0 = dAt(SIGNED, tbl, 1, cc, nc, vz), b0 = dAt(SIGNED, tbl, 2, cc, nc, vz);
      const a1 = dAt(SIGNED, tbl, 5, cc, nc, vz), b1 = dAt(SIGNED, tbl, 6, cc, nc, vz);
      const a2 = dAt(SIGNED, tbl, 9, cc, nc, vz), b2 = dAt(SIGNED, tbl, 10, cc, nc, vz);
      const a3 = dAt(SIGNED, tbl, 13, cc, nc, vz), b3 = dAt(SIGNED, tbl, 14, cc, nc, vz);
      let r0 = i16x8.add(a0, b0), r1 = i16x8.add(a1, b1), r2 = i16x8.add(a2, b2), r3 = i16x8.add(a3, b3);
      v128.store(o + vPos, i16x8.sub(r0, r2));
      v128.store(o + 5 * vPos, i16x8.add(r1, r2));
      v128.store(o + 9 * vPos, i16x8.sub(r2, r1));
      v128.store(o + 13 * vPos, i16x8.sub(r1, r3));
      r0 = i16x8.sub(b0, a0); r1 = i16x8.sub(b1, a1); r2 = i16x8.sub(b2, a2); r3 = i16x8.sub(b3, a3);
      v128.store(o + 2 * vPos, i16x8.sub(r0, r2));
      v128.store(o + 6 * vPos, i16x8.add(r1, r2));
      v128.store(o + 10 * vPos, i16x8.sub(r2, r1));
      v128.store(o + 14 * vPos, i16x8.sub(r1, r3));
    }
  }
}

// @ts-ignore: decorator
@inline function dotAdd(acc: v128, x: v128, b: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, b));
}

/**
 * ROWS (1 or 2) rows of V (i16, lda bytes apart) × one 16-column panel at b, `pairs` k-pairs:
 * the i32 sums to m (ldm bytes a row, all 16 columns).
 */
// @ts-ignore: decorator
@inline function tile16(ROWS: i32, pairs: i32, a: usize, lda: usize, b: usize, m: usize, ldm: usize): void {
  let p = b;
  const end = p + <usize>pairs * ROW_BYTES;
  const z = i32x4.splat(0);
  let c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
  let a0 = a, a1 = a + lda;
  while (p < end) {
    const b0 = v128.load(p), b1 = v128.load(p, 16), b2 = v128.load(p, 32), b3 = v128.load(p, 48);
    let x = v128.load32_splat(a0);
    c00 = dotAdd(c00, x, b0); c01 = dotAdd(c01, x, b1); c02 = dotAdd(c02, x, b2); c03 = dotAdd(c03, x, b3);
    if (ROWS > 1) {
      x = v128.load32_splat(a1);
      c10 = dotAdd(c10, x, b0); c11 = dotAdd(c11, x, b1); c12 = dotAdd(c12, x, b2); c13 = dotAdd(c13, x, b3);
    }
    a0 += 4; a1 += 4; p += ROW_BYTES;
  }
  v128.store(m, c00); v128.store(m, c01, 16); v128.store(m, c02, 32); v128.store(m, c03, 48);
  if (ROWS > 1) {
    const m1 = m + ldm;
    v128.store(m1, c10); v128.store(m1, c11, 16); v128.store(m1, c12, 32); v128.store(m1, c13, 48);
  }
}

/**
 * Output transform of one tile for output channels oc..oc+nc-1 (nc 1..4): M[pos] at
 * m + pos·mPos (i32x4), Y = Aᵀ M A with Aᵀ = [[1,1,1,0],[0,1,−1,−1]], >> 2, + bias,
 * requantized, stored at the rows × cols pixels (out: the tile's first pixel).
 */
// @ts-ignore: decorator
@inline function outputTile(
  m: usize, mPos: usize, bias: v128, s: v128, lo: v128, hi: v128, off: v128, ySigned: i32,
  out: usize, outRow: usize, outS: usize, rows: i32, cols: i32, nc: i32,
): void {
  // s_ij = (Aᵀ M) for column j
  const m00 = v128.load(m), m01 = v128.load(m + mPos), m02 = v128.load(m + 2 * mPos), m03 = v128.load(m + 3 * mPos);
  const m10 = v128.load(m + 4 * mPos), m11 = v128.load(m + 5 * mPos), m12 = v128.load(m + 6 * mPos), m13 = v128.load(m + 7 * mPos);
  const m20 = v128.load(m + 8 * mPos), m21 = v128.load(m + 9 * mPos), m22 = v128.load(m + 10 * mPos), m23 = v128.load(m + 11 * mPos);
  const m30 = v128.load(m + 12 * mPos), m31 = v128.load(m + 13 * mPos), m32 = v128.load(m + 14 * mPos), m33 = v128.load(m + 15 * mPos);
  const u0 = i32x4.add(m10, m20), u1 = i32x4.add(m11, m21), u2 = i32x4.add(m12, m22), u3 = i32x4.add(m13, m23);
  const v0 = i32x4.sub(m10, m20), v1 = i32x4.sub(m11, m21), v2 = i32x4.sub(m12, m22), v3 = i32x4.sub(m13, m23);
  const s00 = i32x4.add(m00, u0), s01 = i32x4.add(m01, u1), s02 = i32x4.add(m02, u2), s03 = i32x4.add(m03, u3);
  const s10 = i32x4.sub(v0, m30), s11 = i32x4.sub(v1, m31), s12 = i32x4.sub(v2, m32), s13 = i32x4.sub(v3, m33);
  // Y row i = (s_i0 + s_i1 + s_i2, s_i1 − s_i2 − s_i3)
  const y00 = i32x4.add(s00, i32x4.add(s01, s02)), y01 = i32x4.sub(i32x4.sub(s01, s02), s03);
  const y10 = i32x4.add(s10, i32x4.add(s11, s12)), y11 = i32x4.sub(i32x4.sub(s11, s12), s13);
  pixel(y00, bias, s, lo, hi, off, ySigned, out, nc);
  if (cols > 1) pixel(y01, bias, s, lo, hi, off, ySigned, out + outS, nc);
  if (rows > 1) {
    pixel(y10, bias, s, lo, hi, off, ySigned, out + outRow, nc);
    if (cols > 1) pixel(y11, bias, s, lo, hi, off, ySigned, out + outRow + outS, nc);
  }
}

/** 4·acc → acc + bias → requantized bytes of nc (1..4) channels at p. */
// @ts-ignore: decorator
@inline function pixel(y: v128, bias: v128, s: v128, lo: v128, hi: v128, off: v128, ySigned: i32, p: usize, nc: i32): void {
  const q = requantLanes(i32x4.add(i32x4.shr_s(y, 2), bias), s, lo, hi, off);
  const b = narrow16(q, q, q, q, ySigned);
  if (nc == 4) v128.store32_lane(p, b, 0);
  else storeBytes(p, b, nc);
}

// @ts-ignore: decorator
@inline function winoDriver(
  SIGNED: bool, STREAM: bool, g: usize, x: usize, zx: i32, packed: usize, OC: i32, bias: usize, scale: usize, perChannel: i32,
  zy: i32, lo: i32, hi: i32, y: usize, outStride: i32, ySigned: i32, scratch: usize, post: usize, part: i32, parts: i32,
): void {
  const N = geo(g, 0), H = geo(g, 1), W = geo(g, 2), C = geo(g, 3), inS = geo(g, 4);
  const PH = geo(g, 9), PW = geo(g, 10), OH = geo(g, 13), OW = geo(g, 14);
  const TH = (OH + 1) >> 1, TW = (OW + 1) >> 1;
  const total = N * TH * TW;
  if (total <= 0 || OC <= 0) return;
  const T = blockTiles(g), CP = chunkPanels(g, OC);
  const Cp = cpad(C), pairs = (C + 1) >> 1;
  const panels = (OC + NR - 1) / NR;
  const blocks = (total + T - 1) / T;
  let b0 = 0, b1 = blocks, q0 = 0, q1 = panels;
  if (parts > 1) {
    if (splitRows(blocks, panels, parts)) {
      b0 = partStart(blocks, 1, part, parts);
      b1 = partStart(blocks, 1, part + 1, parts);
    } else {
      q0 = partStart(panels, 1, part, parts);
      q1 = partStart(panels, 1, part + 1, parts);
    }
  }
  if (b1 <= b0 || q1 <= q0) return;
  // scratch of this part: V [16][T][Cp] i16, M [16][T][CP·16] i32, (streamed) U [16][one panel],
  // pointer table, zx row
  scratch += <usize>part * <usize>qwino_scratch_size(g, OC, STREAM ? 1 : 0);
  const vRow = <usize>Cp << 1, vPos = <usize>T * vRow;
  const ldm = <usize>(CP * NR) << 2, mPos = <usize>T * ldm;
  const pstep = <usize>panelBytes(C), posStep = <usize>posBytes(C, OC), rawStep = <usize>rawPanelBytes(C);
  const V = scratch, M = V + <usize>P * vPos, U = M + <usize>P * mPos;
  const uPos = <usize>uStep(C);
  const tbl = U + (STREAM ? <usize>P * uPos : 0), zrow = tbl + <usize>(P * 4);
  memory.fill(zrow, <u8>zx, <usize>Cp);
  const tmin = ySigned != 0 ? -128 : 0, tmax = ySigned != 0 ? 127 : 255;
  lo = max(lo, tmin);
  hi = min(hi, tmax);
  const vlo = f32x4.splat(<f32>(lo - zy)), vhi = f32x4.splat(<f32>(hi - zy)), off = i32x4.splat(MAGIC_BITS - zy);
  const vz = i16x8.splat(<i16>zx);
  const z = i32x4.splat(0);
  const outS = <usize>outStride, outRow = <usize>OW * outS;
  const rowBytes = <usize>W * <usize>inS;

  for (let b = b0; b < b1; b++) {
    const t0 = b * T, count = min(T, total - t0);
    // 1. input transform
    for (let t = 0; t < count; t++) {
      const tile = t0 + t;
      const tw = tile % TW, th = (tile / TW) % TH, n = tile / (TW * TH);
      const ih0 = 2 * th - PH, iw0 = 2 * tw - PW;
      for (let i = 0; i < 4; i++) {
        const iy = ih0 + i;
        const row = x + <usize>(n * H + iy) * rowBytes;
        for (let j = 0; j < 4; j++) {
          const ix = iw0 + j;
          const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
          store<usize>(tbl + (<usize>(4 * i + j) << 2), inside ? row + <usize>ix * <usize>inS : zrow);
        }
      }
      inputTile(SIGNED, tbl, C, vz, V + <usize>t * vRow, vPos);
    }
    // 2. + 3. per chunk of panels: 16 GEMMs, then the output transform
    for (let qc = q0; qc < q1; qc += CP) {
      const qe = min(q1, qc + CP);
      if (STREAM) {
        // panel by panel: its U for the 16 positions, then its 16 GEMMs
        for (let q = qc; q < qe; q++) {
          streamPanel(packed + <usize>q * rawStep, pairs, U, uPos);
          const mq = M + (<usize>((q - qc) * NR) << 2);
          for (let pos = 0; pos < P; pos++) {
            const a = V + <usize>pos * vPos, bp = U + <usize>pos * uPos, mp = mq + <usize>pos * mPos;
            let i = 0;
            for (; i + 2 <= count; i += 2) tile16(2, pairs, a + <usize>i * vRow, vRow, bp, mp + <usize>i * ldm, ldm);
            if (i < count) tile16(1, pairs, a + <usize>i * vRow, vRow, bp, mp + <usize>i * ldm, ldm);
          }
        }
      } else for (let pos = 0; pos < P; pos++) {
        const a = V + <usize>pos * vPos, mp = M + <usize>pos * mPos;
        const bpos = packed + <usize>pos * posStep;
        for (let q = qc; q < qe; q++) {
          const bp = bpos + <usize>q * pstep, mq = mp + (<usize>((q - qc) * NR) << 2);
          let i = 0;
          for (; i + 2 <= count; i += 2) tile16(2, pairs, a + <usize>i * vRow, vRow, bp, mq + <usize>i * ldm, ldm);
          if (i < count) tile16(1, pairs, a + <usize>i * vRow, vRow, bp, mq + <usize>i * ldm, ldm);
        }
      }
      const oc0 = qc * NR, oc1 = min(OC, qe * NR);
      for (let t = 0; t < count; t++) {
        const tile = t0 + t;
        const tw = tile % TW, th = (tile / TW) % TH, n = tile / (TW * TH);
        const oh0 = 2 * th, ow0 = 2 * tw;
        const rows = min(2, OH - oh0), cols = min(2, OW - ow0);
        const out = y + (<usize>((n * OH + oh0) * OW + ow0)) * outS;
        const mt = M + <usize>t * ldm;
        for (let oc = oc0; oc < oc1; oc += 4) {
          const nc = min(4, oc1 - oc);
          const ob = <usize>oc << 2;
          const bv = bias != 0 ? loadLanes(bias + ob, nc) : z;
          const sv = perChannel != 0 ? loadLanes(scale + ob, nc) : v128.load32_splat(scale);
          outputTile(mt + (<usize>(oc - oc0) << 2), mPos, bv, sv, vlo, vhi, off, ySigned, out + <usize>oc, outRow, outS, rows, cols, nc);
        }
        // a fused elementwise step (qpost.ts) on the tile's pixels just stored
        if (post != 0) {
          applyPost(post, out + <usize>oc0, outS, cols, oc1 - oc0);
          if (rows > 1) applyPost(post, out + outRow + <usize>oc0, outS, cols, oc1 - oc0);
        }
      }
    }
  }
}

/**
 * int8 NHWC conv, 3x3, stride 1, dilation 1, groups 1, through exact integer Winograd F(2x2, 3x3):
 * the bytes of qim2col_q8 + qgemm_q8 with the same operands (see the header). g: the 15-int
 * geometry block of qim2col_q8 (KH = KW = 3, SH = SW = DH = DW = 1 assumed; C ≤
 * QWINO_MAX_CHANNELS); x: input bytes, pixels inStride apart, uint8 (xSigned 0) or int8 with
 * zero point zx; packed: qwino_pack of the weights (streamed 0) or qwino_stream_pack (streamed
 * 1); OC outputs; bias i32 [OC] or 0; scale f32
 * [OC] (perChannel) or one; zy, lo, hi, ySigned as qgemm_q8; y: pixels outStride bytes apart
 * (only channels 0..OC-1 written). scratch: parts × qwino_scratch_size(g, OC, streamed) bytes.
 * (part, parts): bands of tile blocks or of 16-column output panels (each part then transforms
 * every input tile itself); every byte is computed by the same instructions for any parts.
 */
export function qwino_q8(
  g: usize, x: usize, xSigned: i32, zx: i32, packed: usize, streamed: i32, OC: i32, bias: usize, scale: usize, perChannel: i32,
  zy: i32, lo: i32, hi: i32, y: usize, outStride: i32, ySigned: i32, scratch: usize, post: usize, part: i32, parts: i32,
): void {
  if (streamed != 0) qwino_q8_streamed(g, x, xSigned, zx, packed, OC, bias, scale, perChannel, zy, lo, hi, y, outStride, ySigned, scratch, post, part, parts);
  else if (xSigned != 0) winoDriver(true, false, g, x, zx, packed, OC, bias, scale, perChannel, zy, lo, hi, y, outStride, ySigned, scratch, post, part, parts);
  else winoDriver(false, false, g, x, zx, packed, OC, bias, scale, perChannel, zy, lo, hi, y, outStride, ySigned, scratch, post, part, parts);
}

/**
 * qwino_q8 with the streamed weights. Exported so that the optimizer keeps it out of qwino_q8: with
 * all four drivers inlined into one function, V8 ran the stored form 1.2-1.35x slower.
 */
export function qwino_q8_streamed(
  g: usize, x: usize, xSigned: i32, zx: i32, packed: usize, OC: i32, bias: usize, scale: usize, perChannel: i32,
  zy: i32, lo: i32, hi: i32, y: usize, outStride: i32, ySigned: i32, scratch: usize, post: usize, part: i32, parts: i32,
): void {
  if (xSigned != 0) winoDriver(true, true, g, x, zx, packed, OC, bias, scale, perChannel, zy, lo, hi, y, outStride, ySigned, scratch, post, part, parts);
  else winoDriver(false, true, g, x, zx, packed, OC, bias, scale, perChannel, zy, lo, hi, y, outStride, ySigned, scratch, post, part, parts);
}
