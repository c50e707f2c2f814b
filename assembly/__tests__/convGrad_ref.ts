// Scalar references for convGrad.ts, written from the definitions (see that file's header):
// matrix product with optional transposes, im2col / col2im, depthwise convolution and its
// gradients, bias gradient. Plain loops over every index, bounds checked tap by tap.
import { at, ld } from './gemm_ref';

/** C = (acc ? C : 0) + op(A)·op(B), each element summed from 0 in k order. */
export function mmRef(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32,
  c: usize, ldc: i32, acc: i32,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s: f32 = 0;
      for (let k = 0; k < K; k++) {
        const av = transA != 0 ? ld(a, k * lda + m) : ld(a, m * lda + k);
        const bv = transB != 0 ? ld(b, n * ldb + k) : ld(b, k * ldb + n);
        s += av * bv;
      }
      const old = ld(c, m * ldc + n);
      store<f32>(at(c, m * ldc + n), acc != 0 ? old + s : s);
    }
  }
}

/** The input index a tap reads: o·S - P + k·D. */
@inline function tap(o: i32, S: i32, P: i32, k: i32, D: i32): i32 {
  return o * S - P + k * D;
}

export function im2colRef(
  x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32,
  DH: i32, DW: i32, OH: i32, OW: i32, cols: usize,
): void {
  for (let c = 0; c < C; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
    const row = (c * KH + kh) * KW + kw;
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const h = tap(oh, SH, PT, kh, DH), w = tap(ow, SW, PL, kw, DW);
      const v: f32 = h >= 0 && h < H && w >= 0 && w < W ? ld(x, (c * H + h) * W + w) : 0;
      store<f32>(at(cols, row * OH * OW + oh * OW + ow), v);
    }
  }
}

export function col2imRef(
  cols: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32,
  DH: i32, DW: i32, OH: i32, OW: i32, x: usize,
): void {
  for (let c = 0; c < C; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
    const row = (c * KH + kh) * KW + kw;
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const h = tap(oh, SH, PT, kh, DH), w = tap(ow, SW, PL, kw, DW);
      if (h >= 0 && h < H && w >= 0 && w < W) {
        const i = (c * H + h) * W + w;
        store<f32>(at(x, i), ld(x, i) + ld(cols, row * OH * OW + oh * OW + ow));
      }
    }
  }
}

/** Depthwise forward: bias, then the in-bounds taps in (kh, kw) order. */
export function dwFwdRef(
  x: usize, w: usize, bias: usize, y: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
): void {
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let s: f32 = bias != 0 ? ld(bias, c) : 0;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const h = tap(oh, SH, PT, kh, DH), ww = tap(ow, SW, PL, kw, DW);
      if (h >= 0 && h < H && ww >= 0 && ww < W) s += ld(x, ((n * C + c) * H + h) * W + ww) * ld(w, (c * KH + kh) * KW + kw);
    }
    store<f32>(at(y, ((n * C + c) * OH + oh) * OW + ow), s);
  }
}

/** Depthwise input gradient: zero, then scatter every (oh, kh, kw, ow) product. */
export function dwGradInputRef(
  dy: usize, w: usize, dx: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
): void {
  for (let i = 0; i < N * C * H * W; i++) store<f32>(at(dx, i), 0);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let oh = 0; oh < OH; oh++) {
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) for (let ow = 0; ow < OW; ow++) {
      const h = tap(oh, SH, PT, kh, DH), ww = tap(ow, SW, PL, kw, DW);
      if (h >= 0 && h < H && ww >= 0 && ww < W) {
        const i = ((n * C + c) * H + h) * W + ww;
        store<f32>(at(dx, i), ld(dx, i) + ld(w, (c * KH + kh) * KW + kw) * ld(dy, ((n * C + c) * OH + oh) * OW + ow));
      }
    }
  }
}

/** Depthwise weight gradient in f64: out[c][kh][kw] = Σ products, mag[..] = Σ |products| (error scale). */
export function dwGradWeightRef(
  x: usize, dy: usize, out: StaticArray<f64>, mag: StaticArray<f64>, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
): void {
  for (let c = 0; c < C; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
    let s: f64 = 0, m: f64 = 0;
    for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const h = tap(oh, SH, PT, kh, DH), ww = tap(ow, SW, PL, kw, DW);
      if (h >= 0 && h < H && ww >= 0 && ww < W) {
        const p = <f64>ld(x, ((n * C + c) * H + h) * W + ww) * <f64>ld(dy, ((n * C + c) * OH + oh) * OW + ow);
        s += p;
        m += Math.abs(p);
      }
    }
    out[(c * KH + kh) * KW + kw] = s;
    mag[(c * KH + kh) * KW + kw] = m;
  }
}
