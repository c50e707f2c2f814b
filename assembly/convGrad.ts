// Training kernels for convolution and matrix products, NCHW activations and PyTorch-layout
// parameters (conv weight [OC][C/groups][KH][KW], linear weight [out][in]).
//
// Sources: convolution lowered to a matrix product by im2col (K. Chellapilla, S. Puri,
// P. Simard, "High Performance Convolutional Neural Networks for Document Processing", 2006);
// its backward pass as the two transposed products dW = dY·colsᵀ, dcols = Wᵀ·dY and col2im, the
// adjoint of im2col (the formulation of Caffe, Y. Jia et al. 2014, and of PyTorch's
// slow_conv2d); depthwise convolution (groups = C, A. Howard et al., "MobileNets", 2017) and its
// gradients written directly from y[oh][ow] = b + Σ_{kh,kw} w[kh][kw]·x[oh·SH-PT+kh·DH][ow·SW-PL+kw·DW].
//
// mm_f32 reuses gemm.ts's packed-panel driver: op(B) is packed, one L2-sized block of columns at
// a time, into gemm_pack's 8-column panels (zero bias) in the caller's scratch, op(A) is packed row-major when transposed, and gemm()
// runs its 2x16 / 4x8 micro-kernels; accumulation uses gemm()'s residual (R = C, read before
// each tile's store). Every C element is the k-ordered sum from 0, then + C: any split of the
// rows or columns gives the same bits.
import { ACT_NONE } from './codes';
import { gemm } from './gemm';
import { partStart, splitRows } from './parallel';
import { copyFloats, loadLanes, zeroFloats } from './window';

/** Output columns per packed panel (gemm.ts NR). */
const NR: i32 = 8;
/** Rows of C per strip (gemm.ts MR). */
const MR: i32 = 4;

/** Bytes of packed B per column block: half of a 512 KiB L2, as gemm.ts blocks its panels. */
const L2_BLOCK_BYTES: i32 = 256 * 1024;

/** 8-column panels per column block for depth K (even, at least 2): one block of packed op(B) stays in L2. */
function blockPanels(K: i32): i32 {
  return max(2, L2_BLOCK_BYTES / (NR * (K + 1) * 4)) & ~1;
}

/** Floats of one part's scratch: one column block of packed op(B) and, if transA, op(A) packed [M][K]. */
function mmPartFloats(M: i32, N: i32, K: i32, transA: i32): i32 {
  const panels = min((N + NR - 1) / NR, blockPanels(K));
  const f = panels * NR * (K + 1) + (transA != 0 ? M * K : 0);
  return (f + 3) & ~3;
}

/**
 * Bytes of scratch mm_f32 needs for these sizes and `parts` parts: per part about 256 KiB of
 * packed op(B) (one L2 block of columns) plus M·K floats when transA; each part packs into its
 * own slice, so the parts may run concurrently.
 */
export function mm_scratch_bytes(M: i32, N: i32, K: i32, transA: i32, transB: i32, parts: i32): i32 {
  return max(1, parts) * mmPartFloats(M, N, K, transA) * 4;
}

/** Packs B stored [K][N] (row stride ldb floats) into gemm_pack's panels (zero bias, zero-padded columns). */
function packRowsB(b: usize, N: i32, K: i32, ldb: i32, dst: usize): void {
  const panels = (N + NR - 1) / NR;
  const zero = f32x4.splat(0);
  const rowBytes = <usize>ldb << 2;
  for (let p = 0; p < panels; p++) {
    let out = dst + ((<usize>p * <usize>(NR * (K + 1))) << 2);
    v128.store(out, zero);
    v128.store(out, zero, 16);
    out += NR << 2;
    const n = p * NR, nv = min(NR, N - n);
    let src = b + (<usize>n << 2);
    if (nv == NR) {
      for (let k = 0; k < K; k++) {
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
        out += NR << 2;
        src += rowBytes;
      }
    } else {
      for (let k = 0; k < K; k++) {
        v128.store(out, loadLanes(src, min(nv, 4)));
        v128.store(out, nv > 4 ? loadLanes(src + 16, nv - 4) : zero, 16);
        out += NR << 2;
        src += rowBytes;
      }
    }
  }
}

/**
 * Packs B stored [N][K] (row stride ldb floats: op(B) = Bᵀ) into gemm_pack's panels (zero bias,
 * zero-padded columns): the same layout as gemm_pack(b, N, K, ldb, 0, dst), built from 4x4
 * transposes of two groups of four rows where a panel is full.
 */
function packColsB(b: usize, N: i32, K: i32, ldb: i32, dst: usize): void {
  const panels = (N + NR - 1) / NR;
  const zero = f32x4.splat(0);
  const rowBytes = <usize>ldb << 2;
  for (let p = 0; p < panels; p++) {
    let out = dst + ((<usize>p * <usize>(NR * (K + 1))) << 2);
    v128.store(out, zero);
    v128.store(out, zero, 16);
    out += NR << 2;
    const n = p * NR, nv = min(NR, N - n);
    const r0 = b + <usize>n * rowBytes;
    let k = 0;
    if (nv == NR) {
      for (; k + 4 <= K; k += 4) {
        const kb = <usize>k << 2;
        const x0 = v128.load(r0 + kb), x1 = v128.load(r0 + rowBytes + kb);
        const x2 = v128.load(r0 + 2 * rowBytes + kb), x3 = v128.load(r0 + 3 * rowBytes + kb);
        const y0 = v128.load(r0 + 4 * rowBytes + kb), y1 = v128.load(r0 + 5 * rowBytes + kb);
        const y2 = v128.load(r0 + 6 * rowBytes + kb), y3 = v128.load(r0 + 7 * rowBytes + kb);
        const a0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5), a1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
        const a2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7), a3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
        const b0 = i32x4.shuffle(y0, y1, 0, 4, 1, 5), b1 = i32x4.shuffle(y2, y3, 0, 4, 1, 5);
        const b2 = i32x4.shuffle(y0, y1, 2, 6, 3, 7), b3 = i32x4.shuffle(y2, y3, 2, 6, 3, 7);
        v128.store(out, i32x4.shuffle(a0, a1, 0, 1, 4, 5));
        v128.store(out, i32x4.shuffle(b0, b1, 0, 1, 4, 5), 16);
        v128.store(out, i32x4.shuffle(a0, a1, 2, 3, 6, 7), 32);
        v128.store(out, i32x4.shuffle(b0, b1, 2, 3, 6, 7), 48);
        v128.store(out, i32x4.shuffle(a2, a3, 0, 1, 4, 5), 64);
        v128.store(out, i32x4.shuffle(b2, b3, 0, 1, 4, 5), 80);
        v128.store(out, i32x4.shuffle(a2, a3, 2, 3, 6, 7), 96);
        v128.store(out, i32x4.shuffle(b2, b3, 2, 3, 6, 7), 112);
        out += 4 * (NR << 2);
      }
    }
    for (; k < K; k++) {
      for (let j = 0; j < NR; j++) {
        store<f32>(out + (<usize>j << 2), j < nv ? load<f32>(r0 + <usize>j * rowBytes + (<usize>k << 2)) : 0);
      }
      out += NR << 2;
    }
  }
}

/** dst[m][k] = a[k][m] for m < M, k < K: A stored [K][M'] (row stride lda) packed row-major [M][K]. */
function packTransA(a: usize, M: i32, K: i32, lda: i32, dst: usize): void {
  const ldaB = <usize>lda << 2, KB = <usize>K << 2;
  let m = 0;
  // 4 columns of A (4 rows of dst) at a time: one vector load per k, four lane stores
  for (; m + 4 <= M; m += 4) {
    let src = a + (<usize>m << 2);
    let out = dst + <usize>m * KB;
    for (let k = 0; k < K; k++) {
      const v = v128.load(src);
      v128.store32_lane(out, v, 0);
      v128.store32_lane(out + KB, v, 1);
      v128.store32_lane(out + 2 * KB, v, 2);
      v128.store32_lane(out + 3 * KB, v, 3);
      src += ldaB;
      out += 4;
    }
  }
  for (; m < M; m++) {
    let src = a + (<usize>m << 2);
    let out = dst + <usize>m * KB;
    for (let k = 0; k < K; k++) {
      store<f32>(out, load<f32>(src));
      src += ldaB;
      out += 4;
    }
  }
}

/**
 * C[M][N] (row stride ldc) = (accumulate ? C : 0) + op(A)·op(B). op(A) is M×K: A stored [M][K]
 * (lda >= K), or [K][M] (lda >= M) when transA != 0. op(B) is K×N: B stored [K][N] (ldb >= N),
 * or [N][K] (ldb >= K) when transB != 0. scratch: mm_scratch_bytes(M, N, K, transA, transB,
 * parts) bytes. Part `part` of `parts` computes a band of rows or of 16-column panel pairs of C
 * (as gemm_f32 cuts); each element is summed in k order, so any parts value gives the same bits.
 */
export function mm_f32(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32,
  c: usize, ldc: i32, accumulate: i32, scratch: usize, part: i32, parts: i32,
): void {
  if (M <= 0 || N <= 0) return;
  let m0 = 0, m1 = M, n0 = 0, n1 = N;
  if (parts > 1) {
    const panels = (N + NR - 1) / NR, pairs = (panels + 1) >> 1;
    const byRows = (M >= N || pairs < 4 * parts) && splitRows((M + MR - 1) / MR, pairs, parts);
    if (byRows) {
      m0 = partStart(M, MR, part, parts);
      m1 = partStart(M, MR, part + 1, parts);
    } else {
      n0 = partStart(panels, 2, part, parts) * NR;
      n1 = min(N, partStart(panels, 2, part + 1, parts) * NR);
    }
    if (m1 <= m0 || n1 <= n0) return;
  }
  const rows = m1 - m0, cols = n1 - n0;
  const cp = c + ((<usize>m0 * <usize>ldc + <usize>n0) << 2);
  if (K <= 0) {
    if (accumulate == 0) for (let m = 0; m < rows; m++) zeroFloats(cp + ((<usize>m * <usize>ldc) << 2), cols);
    return;
  }
  const region = scratch + <usize>max(0, part) * (<usize>mmPartFloats(M, N, K, transA) << 2);
  const packed = region;
  const blockCols = blockPanels(K) * NR;
  let ap = a + ((<usize>m0 * <usize>lda) << 2);
  let ald = lda;
  if (transA != 0) {
    ap = region + (<usize>(min((N + NR - 1) / NR, blockPanels(K)) * NR * (K + 1)) << 2);
    packTransA(a + (<usize>m0 << 2), rows, K, lda, ap);
    ald = K;
  }
  // one L2 block of columns at a time: pack it (it stays in cache), then every row strip sweeps it
  for (let nb = 0; nb < cols; nb += blockCols) {
    const nc = min(blockCols, cols - nb), n = n0 + nb;
    if (transB != 0) packColsB(b + ((<usize>n * <usize>ldb) << 2), nc, K, ldb, packed);
    else packRowsB(b + (<usize>n << 2), nc, K, ldb, packed);
    const cb = cp + (<usize>nb << 2);
    gemm(rows, nc, K, ap, ald, packed, cb, ldc, accumulate != 0 ? cb : 0, ldc, ACT_NONE, 0, 0);
  }
}

/** First output index o (0..O) whose tap o·S + off lands at or after 0. */
// @ts-ignore: decorator
@inline function outLo(off: i32, S: i32, O: i32): i32 {
  return off >= 0 ? 0 : min(O, (S - 1 - off) / S);
}

/** One past the last output index o (lo..O) whose tap o·S + off lands before `size`. */
// @ts-ignore: decorator
@inline function outHi(off: i32, S: i32, O: i32, size: i32, lo: i32): i32 {
  const last = size - 1 - off;
  return last < 0 ? lo : max(lo, min(O, last / S + 1));
}

/**
 * One image's (or group's) x [C][H][W] to cols [C·KH·KW][OH·OW]: row (c·KH + kh)·KW + kw, column
 * oh·OW + ow holds x[c][oh·SH - PT + kh·DH][ow·SW - PL + kw·DW], 0 where that falls in the padding.
 */
export function im2col_f32(
  x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32,
  DH: i32, DW: i32, OH: i32, OW: i32, cols: usize,
): void {
  let out = cols;
  const rowB = <usize>OW << 2;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const off = kw * DW - PL;
        const lo = outLo(off, SW, OW), hi = outHi(off, SW, OW, W, lo);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * SH - PT + kh * DH;
          if (ih < 0 || ih >= H) {
            zeroFloats(out, OW);
          } else {
            const src = plane + ((<usize>ih * <usize>W) << 2);
            zeroFloats(out, lo);
            if (SW == 1) {
              copyFloats(out + (<usize>lo << 2), src + (<usize>(lo + off) << 2), hi - lo);
            } else {
              for (let ow = lo; ow < hi; ow++) store<f32>(out + (<usize>ow << 2), load<f32>(src + (<usize>(ow * SW + off) << 2)));
            }
            zeroFloats(out + (<usize>hi << 2), OW - hi);
          }
          out += rowB;
        }
      }
    }
  }
}

/**
 * The adjoint of im2col_f32: x[c][h][w] += every cols entry im2col_f32 would read from it
 * (x ACCUMULATES; padding entries are dropped). Sums run in (kh, kw, oh) order per element.
 */
export function col2im_f32(
  cols: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32,
  DH: i32, DW: i32, OH: i32, OW: i32, x: usize,
): void {
  let src = cols;
  const rowB = <usize>OW << 2;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const off = kw * DW - PL;
        const lo = outLo(off, SW, OW), hi = outHi(off, SW, OW, W, lo);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * SH - PT + kh * DH;
          if (ih >= 0 && ih < H) {
            const dst = plane + ((<usize>ih * <usize>W) << 2);
            if (SW == 1) {
              let d = dst + (<usize>(lo + off) << 2), s = src + (<usize>lo << 2);
              let ow = lo;
              for (; ow + 4 <= hi; ow += 4) {
                v128.store(d, f32x4.add(v128.load(d), v128.load(s)));
                d += 16; s += 16;
              }
              for (; ow < hi; ow++) {
                store<f32>(d, load<f32>(d) + load<f32>(s));
                d += 4; s += 4;
              }
            } else {
              for (let ow = lo; ow < hi; ow++) {
                const d = dst + (<usize>(ow * SW + off) << 2);
                store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>ow << 2)));
              }
            }
          }
          src += rowB;
        }
      }
    }
  }
}

/**
 * d[o] += wv · s[o] for o in [lo, hi), d and s pointing at element lo, four floats at a time (a
 * stride-1 row of the depthwise forward or input gradient).
 */
// @ts-ignore: decorator
@inline function axpyRow(d: usize, s: usize, wv: f32, lo: i32, hi: i32): void {
  const w4 = f32x4.splat(wv);
  let o = lo;
  for (; o + 4 <= hi; o += 4) {
    v128.store(d, f32x4.add(v128.load(d), f32x4.mul(w4, v128.load(s))));
    d += 16; s += 16;
  }
  for (; o < hi; o++) {
    store<f32>(d, load<f32>(d) + wv * load<f32>(s));
    d += 4; s += 4;
  }
}

/** y[o] += wv · x[o·SW + off] for o in [lo, hi) of one row of width W (SW = 1 or 2: 4 at a time). */
// @ts-ignore: decorator
@inline function rowMadd(y: usize, x: usize, wv: f32, lo: i32, hi: i32, SW: i32, off: i32, W: i32): void {
  if (SW == 1) {
    axpyRow(y + (<usize>lo << 2), x + (<usize>(lo + off) << 2), wv, lo, hi);
  } else {
    let o = lo;
    if (SW == 2) {
      // four outputs from the even lanes of eight inputs, while the eighth is inside the row
      const w4 = f32x4.splat(wv);
      for (; o + 4 <= hi && 2 * (o + 4) + off <= W; o += 4) {
        const d = y + (<usize>o << 2);
        v128.store(d, f32x4.add(v128.load(d), f32x4.mul(w4, evenLanes(x + (<usize>(2 * o + off) << 2)))));
      }
    }
    for (; o < hi; o++) {
      const d = y + (<usize>o << 2);
      store<f32>(d, load<f32>(d) + wv * load<f32>(x + (<usize>(o * SW + off) << 2)));
    }
  }
}

/** Floats 0, 2, 4, 6 at p (a stride-2 row's taps for four outputs); reads eight floats. */
// @ts-ignore: decorator
@inline function evenLanes(p: usize): v128 {
  return i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
}

/**
 * Depthwise convolution forward, NCHW, batch N: y[n][c][oh][ow] = bias[c] + Σ_{kh,kw} w[c][kh][kw]
 * · x[n][c][oh·SH-PT+kh·DH][ow·SW-PL+kw·DW] over in-bounds taps, in (kh, kw) order. w [C][KH][KW];
 * bias [C] or 0 (none). Parts split the N·C planes.
 */
export function dw_fwd_f32(
  x: usize, w: usize, bias: usize, y: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, part: i32, parts: i32,
): void {
  const NC = N * C;
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  const HW = <usize>H * <usize>W, OHW = <usize>OH * <usize>OW;
  for (let p = p0; p < p1; p++) {
    const c = p % C;
    const xp = x + ((<usize>p * HW) << 2), yp = y + ((<usize>p * OHW) << 2);
    const wp = w + ((<usize>c * <usize>(KH * KW)) << 2);
    const b4 = f32x4.splat(bias != 0 ? load<f32>(bias + (<usize>c << 2)) : 0);
    for (let oh = 0; oh < OH; oh++) {
      const yrow = yp + ((<usize>oh * <usize>OW) << 2);
      let o = 0;
      for (; o + 4 <= OW; o += 4) v128.store(yrow + (<usize>o << 2), b4);
      for (; o < OW; o++) store<f32>(yrow + (<usize>o << 2), f32x4.extract_lane(b4, 0));
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * SH - PT + kh * DH;
        if (ih < 0 || ih >= H) continue;
        const xrow = xp + ((<usize>ih * <usize>W) << 2);
        for (let kw = 0; kw < KW; kw++) {
          const off = kw * DW - PL;
          const lo = outLo(off, SW, OW), hi = outHi(off, SW, OW, W, lo);
          rowMadd(yrow, xrow, load<f32>(wp + (<usize>(kh * KW + kw) << 2)), lo, hi, SW, off, W);
        }
      }
    }
  }
}

/**
 * Depthwise convolution input gradient: dx (OVERWRITTEN) = Σ over every (oh, kh, kw, ow) whose
 * tap reads x[n][c][ih][iw] of w[c][kh][kw] · dy[n][c][oh][ow], summed in (oh, kh, kw) order.
 * Parts split the N·C planes.
 */
export function dw_grad_input_f32(
  dy: usize, w: usize, dx: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, part: i32, parts: i32,
): void {
  const NC = N * C;
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  const HW = <usize>H * <usize>W, OHW = <usize>OH * <usize>OW;
  for (let p = p0; p < p1; p++) {
    const c = p % C;
    const xp = dx + ((<usize>p * HW) << 2), yp = dy + ((<usize>p * OHW) << 2);
    const wp = w + ((<usize>c * <usize>(KH * KW)) << 2);
    zeroFloats(xp, H * W);
    for (let oh = 0; oh < OH; oh++) {
      const yrow = yp + ((<usize>oh * <usize>OW) << 2);
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * SH - PT + kh * DH;
        if (ih < 0 || ih >= H) continue;
        const xrow = xp + ((<usize>ih * <usize>W) << 2);
        for (let kw = 0; kw < KW; kw++) {
          const off = kw * DW - PL;
          const lo = outLo(off, SW, OW), hi = outHi(off, SW, OW, W, lo);
          const wv = load<f32>(wp + (<usize>(kh * KW + kw) << 2));
          if (SW == 1) {
            axpyRow(xrow + (<usize>(lo + off) << 2), yrow + (<usize>lo << 2), wv, lo, hi);
          } else {
            for (let o = lo; o < hi; o++) {
              const d = xrow + (<usize>(o * SW + off) << 2);
              store<f32>(d, load<f32>(d) + wv * load<f32>(yrow + (<usize>o << 2)));
            }
          }
        }
      }
    }
  }
}

/** Sum of the four lanes of v, (l0 + l1) + (l2 + l3). */
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * Depthwise convolution weight gradient: dw[c][kh][kw] += Σ_n Σ_{oh,ow} x[n][c][ih][iw] ·
 * dy[n][c][oh][ow] over in-bounds taps (ACCUMULATES; summed over the batch in four-lane partial
 * sums). Parts split the channels, so each dw element is one part's and the bits do not depend
 * on parts.
 */
export function dw_grad_weight_f32(
  x: usize, dy: usize, dw: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, part: i32, parts: i32,
): void {
  const c0 = partStart(C, 1, part, parts), c1 = partStart(C, 1, part + 1, parts);
  const HW = <usize>H * <usize>W, OHW = <usize>OH * <usize>OW;
  for (let c = c0; c < c1; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const off = kw * DW - PL;
        const lo = outLo(off, SW, OW), hi = outHi(off, SW, OW, W, lo);
        let acc = f32x4.splat(0);
        let tail: f32 = 0;
        for (let n = 0; n < N; n++) {
          const p = <usize>n * <usize>C + <usize>c;
          const xp = x + ((p * HW) << 2), yp = dy + ((p * OHW) << 2);
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            const xrow = xp + ((<usize>ih * <usize>W) << 2), yrow = yp + ((<usize>oh * <usize>OW) << 2);
            let o = lo;
            if (SW == 1) {
              let s = xrow + (<usize>(lo + off) << 2), g = yrow + (<usize>lo << 2);
              for (; o + 4 <= hi; o += 4) {
                acc = f32x4.add(acc, f32x4.mul(v128.load(s), v128.load(g)));
                s += 16; g += 16;
              }
            } else if (SW == 2) {
              for (; o + 4 <= hi && 2 * (o + 4) + off <= W; o += 4) {
                acc = f32x4.add(acc, f32x4.mul(evenLanes(xrow + (<usize>(2 * o + off) << 2)), v128.load(yrow + (<usize>o << 2))));
              }
            }
            for (; o < hi; o++) {
              tail += load<f32>(xrow + (<usize>(o * SW + off) << 2)) * load<f32>(yrow + (<usize>o << 2));
            }
          }
        }
        const d = dw + ((<usize>((c * KH + kh) * KW + kw)) << 2);
        store<f32>(d, load<f32>(d) + (hsum(acc) + tail));
      }
    }
  }
}

/**
 * Bias gradient of a conv / BN / Linear layer: db[c] += Σ_n Σ_hw dy[n][c][hw] (ACCUMULATES;
 * four-lane partial sums). Linear passes HW = 1.
 */
export function bias_grad_f32(dy: usize, N: i32, C: i32, HW: i32, db: usize): void {
  if (HW == 1) {
    // rows of C: vector adds down the batch
    for (let c = 0; c < C; c += 4) {
      const nv = min(4, C - c);
      let acc = f32x4.splat(0);
      for (let n = 0; n < N; n++) acc = f32x4.add(acc, loadLanes(dy + ((<usize>n * <usize>C + <usize>c) << 2), nv));
      for (let j = 0; j < nv; j++) {
        const d = db + (<usize>(c + j) << 2);
        let s: f32 = 0;
        if (j == 0) s = f32x4.extract_lane(acc, 0);
        else if (j == 1) s = f32x4.extract_lane(acc, 1);
        else if (j == 2) s = f32x4.extract_lane(acc, 2);
        else s = f32x4.extract_lane(acc, 3);
        store<f32>(d, load<f32>(d) + s);
      }
    }
    return;
  }
  for (let c = 0; c < C; c++) {
    let acc = f32x4.splat(0);
    let tail: f32 = 0;
    for (let n = 0; n < N; n++) {
      const p = dy + ((<usize>(n * C + c) * <usize>HW) << 2);
      let i = 0;
      for (; i + 4 <= HW; i += 4) acc = f32x4.add(acc, v128.load(p + (<usize>i << 2)));
      for (; i < HW; i++) tail += load<f32>(p + (<usize>i << 2));
    }
    const d = db + (<usize>c << 2);
    store<f32>(d, load<f32>(d) + (hsum(acc) + tail));
  }
}
