// Scalar references for qconv.ts, written from the ONNX operator definitions (QLinearConv,
// QuantizeLinear, DequantizeLinear, QLinearAdd, QLinearGlobalAveragePool) and onnxruntime's
// float requantization in the plainest way: direct loops over NHWC indices with bounds checks
// (no im2col, no packing), i64 sums, roundHalfEven by floor and comparison.
import { byteAt, roundHalfEven } from './qgemm_ref';

/** saturate(roundHalfEven(v) + zy) after clamping v to [lo − zy, hi − zy] in f32. */
export function requantRef(v: f32, zy: i32, lo: i32, hi: i32, ySigned: bool): i32 {
  const tmin = ySigned ? -128 : 0, tmax = ySigned ? 127 : 255;
  if (lo < tmin) lo = tmin;
  if (hi > tmax) hi = tmax;
  const vlo = <f32>(lo - zy), vhi = <f32>(hi - zy);
  if (v < vlo) v = vlo;
  if (v > vhi) v = vhi;
  return <i32>roundHalfEven(<f64>v) + zy;
}

/**
 * Dense or depthwise int8 conv on NHWC x (pixels inStride bytes apart), weights int8 in ONNX
 * order [OC][C/groups][KH][KW], bias i32 [OC] or 0, scale f32 [OC] or one, y [N][OH][OW][OC].
 * groups is 1 (dense) or C (depthwise, OC = C).
 */
export function qconvRef(
  N: i32, H: i32, W: i32, C: i32, inStride: i32, OC: i32, groups: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PH: i32, PW: i32, DH: i32, DW: i32, OH: i32, OW: i32, x: usize, xSigned: bool, zx: i32, w: usize, bias: usize,
  scale: usize, perChannel: bool, zy: i32, lo: i32, hi: i32, y: usize, ySigned: bool,
): void {
  const cg = C / groups, og = OC / groups;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let oc = 0; oc < OC; oc++) {
          const g = oc / og;
          let s: i64 = 0;
          for (let ci = 0; ci < cg; ci++)
            for (let ky = 0; ky < KH; ky++)
              for (let kx = 0; kx < KW; kx++) {
                const iy = oy * SH - PH + ky * DH, ix = ox * SW - PW + kx * DW;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const xv = byteAt(x, ((n * H + iy) * W + ix) * inStride + g * cg + ci, xSigned) - zx;
                const wv = byteAt(w, ((oc * cg + ci) * KH + ky) * KW + kx, true);
                s += <i64>xv * <i64>wv;
              }
          if (bias != 0) s += <i64>load<i32>(bias + (<usize>oc << 2));
          const sc = load<f32>(scale + (perChannel ? <usize>oc << 2 : 0));
          const q = requantRef(<f32>(<i32>s) * sc, zy, lo, hi, ySigned);
          store<u8>(y + <usize>(((n * OH + oy) * OW + ox) * OC + oc), <u8>q);
        }
}

/** QuantizeLinear: saturate(roundHalfEven(x / scale) + zp), in f32 division. */
export function quantizeRef(x: usize, n: i32, scale: f32, zp: i32, ySigned: bool, y: usize): void {
  for (let i = 0; i < n; i++) {
    const v: f32 = load<f32>(x + (<usize>i << 2)) / scale;
    store<u8>(y + <usize>i, <u8>requantRef(v, zp, -1000, 1000, ySigned));
  }
}

/** DequantizeLinear: f32(x − zp) · scale. */
export function dequantizeRef(x: usize, n: i32, xSigned: bool, zp: i32, scale: f32, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), <f32>(byteAt(x, i, xSigned) - zp) * scale);
}

/**
 * QLinearAdd as onnxruntime's AVX2 kernel computes it: fma(a, ra, fma(b, rb, fixed)), each fused
 * multiply-add rounded once to f32 (here: computed exactly in f64, then rounded), then rounded
 * half to even and saturated.
 */
export function qaddRef(a: usize, b: usize, n: i32, signed: bool, ra: f32, rb: f32, fixed: f32, lo: i32, hi: i32, y: usize): void {
  for (let i = 0; i < n; i++) {
    const t = <f32>(<f64>byteAt(b, i, signed) * <f64>rb + <f64>fixed);
    const v = <f32>(<f64>byteAt(a, i, signed) * <f64>ra + <f64>t);
    store<u8>(y + <usize>i, <u8>requantRef(v, 0, lo, hi, signed));
  }
}

/** QLinearGlobalAveragePool, NHWC: requant(Σ x − zx·HW) · scale. */
export function qgapRef(N: i32, HW: i32, C: i32, inStride: i32, x: usize, xSigned: bool, zx: i32, scale: f32, zy: i32, ySigned: bool, y: usize): void {
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      let s: i64 = 0;
      for (let p = 0; p < HW; p++) s += <i64>(byteAt(x, (n * HW + p) * inStride + c, xSigned) - zx);
      store<u8>(y + <usize>(n * C + c), <u8>requantRef(<f32>(<i32>s) * scale, zy, -1000, 1000, ySigned));
    }
}

/** MaxPool over the taps inside the image, NHWC bytes (x pixels inStride apart, y pixels C apart). */
export function qmaxpoolRef(
  N: i32, H: i32, W: i32, C: i32, inStride: i32, K: i32, S: i32, P: i32, D: i32, OH: i32, OW: i32, x: usize, signed: bool, y: usize,
): void {
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let c = 0; c < C; c++) {
          let m = -1000;
          for (let ky = 0; ky < K; ky++)
            for (let kx = 0; kx < K; kx++) {
              const iy = oy * S - P + ky * D, ix = ox * S - P + kx * D;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              const v = byteAt(x, ((n * H + iy) * W + ix) * inStride + c, signed);
              if (v > m) m = v;
            }
          store<u8>(y + <usize>(((n * OH + oy) * OW + ox) * C + c), <u8>m);
        }
}

/**
 * QLinearMul as onnxruntime's x86 MlasQLinearMul: w = f32(f32((a − za)·(b − zb)) · ratio) + zc
 * in f32, rounded half to even, then saturated to the type (and to [lo, hi]). a: d0·d1·d2 rows
 * of L bytes; element (i0, i1, i2, j) against b[i0·s0 + i1·s1 + i2·s2 + j·s3].
 */
export function qmulRef(
  a: usize, b: usize, d0: i32, d1: i32, d2: i32, L: i32, s0: i32, s1: i32, s2: i32, s3: i32, signed: bool,
  za: i32, zb: i32, ratio: f32, zc: f32, lo: i32, hi: i32, y: usize,
): void {
  const tmin = signed ? -128 : 0, tmax = signed ? 127 : 255;
  for (let i0 = 0; i0 < d0; i0++)
    for (let i1 = 0; i1 < d1; i1++)
      for (let i2 = 0; i2 < d2; i2++)
        for (let j = 0; j < L; j++) {
          const e = ((i0 * d1 + i1) * d2 + i2) * L + j;
          const p = (byteAt(a, e, signed) - za) * (byteAt(b, i0 * s0 + i1 * s1 + i2 * s2 + j * s3, signed) - zb);
          const w: f32 = <f32>p * ratio + zc;
          let q = <i32>roundHalfEven(<f64>w);
          q = max(max(q, tmin), lo);
          q = min(min(q, tmax), hi);
          store<u8>(y + <usize>e, <u8>q);
        }
}
