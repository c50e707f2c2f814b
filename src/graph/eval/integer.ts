// Integer quantized ops on the host evaluator (ONNX docs/Operators.md#DynamicQuantizeLinear,
// #MatMulInteger, #ConvInteger): what onnxruntime's dynamic quantization (`quantize_dynamic`)
// writes — DynamicQuantizeLinear on each activation, then MatMulInteger / ConvInteger against
// constant 8-bit weights, Cast to float and a Mul by x_scale·w_scale — and what the ONNX
// conformance cases feed. Their scale and zero point are computed from each run's data, so they
// run in a graph's run-time tail (src/graph/eval/tail.ts), not as planned int8 steps.
//
// Sums are exact: 8-bit operands minus their zero points are at most 255 in magnitude, so a
// product is below 2^16 and a JS number (exact to 2^53) holds any realistic sum; the result wraps
// to int32 as onnxruntime's int32 accumulators do.
import { ShapeError, UnsupportedOpError, ValueError, window2d } from '../../lazy/kit';
import type { Node } from '../ir';
import { bcastIndex, bcastShape, foldSize, type Const } from './core';
import { roundHalfEven } from './elementwise';

/** ONNX TensorProto element types of 8-bit integers. */
const UINT8 = 2;
const INT8 = 3;
const INT32 = 6;

/** The 8-bit element type of an int value (int8 when it says so, uint8 otherwise: ONNX's default zero point type). */
function is8(c: Const, what: string, n: Node): boolean {
  if (c.kind === 'float') throw new UnsupportedOpError(n.op, n.name, `${what} is float; it must be uint8 or int8`);
  const lo = c.dt === INT8 ? -128 : 0;
  const hi = c.dt === INT8 ? 127 : 255;
  for (let i = 0; i < c.v.length; i++) {
    const v = c.v[i];
    if (!(v >= lo && v <= hi && Number.isInteger(v))) throw new ValueError(`${what} holds ${v}, outside ${c.dt === INT8 ? 'int8' : 'uint8'}`);
  }
  return c.dt === INT8;
}

/**
 * DynamicQuantizeLinear: uint8 y = saturate(roundHalfEven(x / scale) + zp) with scale = (max(0,
 * max x) − min(0, min x)) / 255 and zp = roundHalfEven(saturate(0 − min / scale)), each step in
 * float32 as onnxruntime computes it; an all-zero input gets scale 1 (onnxruntime's choice: no
 * division by zero). NaN or infinite inputs have no range and are refused.
 */
export function dynamicQuantizeLinear(x: Const): Const[] {
  if (x.kind !== 'float') throw new ValueError('the input must be float');
  const f = Math.fround;
  const v = x.v;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    if (!Number.isFinite(e)) throw new ValueError(`the input holds ${e} at element ${i}: it has no quantization range`);
    if (e < lo) lo = e;
    if (e > hi) hi = e;
  }
  const { scale, zp } = dynamicParams(lo, hi);
  const y = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) y[i] = Math.min(255, Math.max(0, roundHalfEven(f(v[i] / scale)) + zp));
  return [
    { v: y, shape: x.shape.slice(), kind: 'int', dt: UINT8 },
    { v: Float32Array.of(scale), shape: [], kind: 'float' },
    { v: [zp], shape: [], kind: 'int', dt: UINT8 },
  ];
}

/**
 * DynamicQuantizeLinear's scale and uint8 zero point for the range [lo, hi] (lo ≤ 0 ≤ hi, finite):
 * scale = (hi − lo) / 255 and zp = roundHalfEven(clamp(0 − lo / scale, 0, 255)) in float32, scale 1
 * for an all-zero input, as onnxruntime computes them. The planned _QDyn step uses it too.
 */
export function dynamicParams(lo: number, hi: number): { scale: number; zp: number } {
  const f = Math.fround;
  const scale = hi === lo ? 1 : f(f(hi - lo) / 255);
  return { scale, zp: roundHalfEven(Math.min(255, Math.max(0, f(0 - f(lo / scale))))) };
}

/** Two's complement wrap to int32 of an exact integer sum. */
const wrap32 = (s: number): number => (Math.abs(s) < 2 ** 31 ? s : Number(BigInt.asIntN(32, BigInt(s))));

/**
 * A zero point as an array indexed like the axis it varies along: a scalar (per tensor) or
 * `count` values (onnxruntime's per-row a_zero_point of MatMulInteger, per-column b_zero_point,
 * ConvInteger's per-output-channel w_zero_point).
 */
function zeroPoints(z: Const | null, count: number, what: string, n: Node, signed: boolean): (i: number) => number {
  if (!z) return () => 0;
  const s = is8(z, what, n);
  if (z.dt !== undefined && s !== signed)
    throw new ValueError(`${what} is ${s ? 'int8' : 'uint8'} but the values it applies to are ${signed ? 'int8' : 'uint8'}`);
  const len = z.v.length;
  if (len === 1) {
    const c = z.v[0];
    return () => c;
  }
  if (len !== count) throw new ShapeError(`${what} of shape [${z.shape}] is neither a scalar nor ${count} values`);
  return (i) => z.v[i];
}

/**
 * MatMulInteger: int32 Y = (A − a_zero_point) · (B − b_zero_point) with numpy matmul broadcasting
 * (1-D operands promoted and the added axis dropped), A and B uint8 or int8. a_zero_point is a
 * scalar or one value per row of A (M), b_zero_point a scalar or one per column of B (N).
 */
export function matMulInteger(n: Node, a: Const, b: Const, az: Const | null, bz: Const | null): Const {
  const as = is8(a, 'A', n);
  const bs = is8(b, 'B', n);
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra === 0 || rb === 0) throw new ShapeError('MatMulInteger operands must have at least one dimension');
  const sa = ra === 1 ? [1, a.shape[0]] : a.shape;
  const sb = rb === 1 ? [b.shape[0], 1] : b.shape;
  const M = sa[sa.length - 2];
  const K = sa[sa.length - 1];
  const N = sb[sb.length - 1];
  if (sb[sb.length - 2] !== K) throw new ShapeError(`A of shape [${a.shape}] and B of shape [${b.shape}] do not multiply (inner dims ${K} and ${sb[sb.length - 2]})`);
  const batch = bcastShape(sa.slice(0, -2), sb.slice(0, -2));
  const zA = zeroPoints(az, M, 'a_zero_point', n, as);
  const zB = zeroPoints(bz, N, 'b_zero_point', n, bs);
  const shape = [...batch, ...(ra === 1 ? [] : [M]), ...(rb === 1 ? [] : [N])];
  const out = new Float64Array(foldSize(shape));
  const nb = out.length / (M * N) || 0;
  // each operand's matrix for output batch item t (a broadcast axis stays at 0)
  const ia = bcastIndex(batch, sa.slice(0, -2));
  const ib = bcastIndex(batch, sb.slice(0, -2));
  // B − b_zero_point once per batch item, then rows of A against it k by k (contiguous inner loops)
  const av = a.v;
  const bv = b.v;
  const bq = new Float64Array(K * N);
  const acc = new Float64Array(N);
  for (let t = 0; t < nb; t++) {
    const ao = (ia ? ia[t] : t) * M * K;
    const bo = (ib ? ib[t] : t) * K * N;
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bq[k * N + j] = bv[bo + k * N + j] - zB(j);
    for (let m = 0; m < M; m++) {
      const za = zA(m);
      acc.fill(0);
      for (let k = 0; k < K; k++) {
        const x = av[ao + m * K + k] - za;
        if (x === 0) continue;
        for (let j = 0, q = k * N; j < N; j++, q++) acc[j] += x * bq[q];
      }
      for (let j = 0; j < N; j++) out[(t * M + m) * N + j] = wrap32(acc[j]);
    }
  }
  return { v: out, shape, kind: 'int', dt: INT32 };
}

/**
 * ConvInteger: int32 Y = conv(X − x_zero_point, W − w_zero_point) with Conv's attributes (2-D:
 * NCHW input, [M, C/group, kH, kW] weights, pads, strides, dilations, group, auto_pad). Padding
 * adds nothing (the padded value is the zero point). x_zero_point is a scalar; w_zero_point a
 * scalar or one value per output channel.
 */
export function convInteger(n: Node, x: Const, w: Const, xz: Const | null, wz: Const | null): Const {
  const xs = is8(x, 'x', n);
  const ws = is8(w, 'w', n);
  if (x.shape.length !== 4 || w.shape.length !== 4)
    throw new UnsupportedOpError(n.op, n.name, `only 2-D convolution is supported (x [${x.shape}], w [${w.shape}])`);
  const [N, C, H, W] = x.shape;
  const [M, CG, KH, KW] = w.shape;
  const group = typeof n.attrs.group === 'number' ? n.attrs.group : 1;
  if (!(Number.isInteger(group) && group >= 1 && C % group === 0 && M % group === 0 && CG === C / group))
    throw new ShapeError(`group ${group} does not split x's ${C} channels into w's ${CG} per group and ${M} outputs`);
  const ks = n.attrs.kernel_shape;
  if (Array.isArray(ks) && (ks[0] !== KH || ks[1] !== KW)) throw new ShapeError(`kernel_shape [${ks}] is not w's ${KH}x${KW}`);
  const g = window2d(n, H, W, [KH, KW]);
  const zX = zeroPoints(xz, 1, 'x_zero_point', n, xs)(0);
  const zW = zeroPoints(wz, M, 'w_zero_point', n, ws);
  const { oh: OH, ow: OW } = g;
  const shape = [N, M, OH, OW];
  const out = new Float64Array(foldSize(shape));
  // x − x_zero_point once; then per output plane, tap by tap, the run of output columns whose
  // input column is inside the image (contiguous inner loops, no per-element bounds tests)
  const xv = x.v;
  const xq = new Float64Array(xv.length);
  for (let i = 0; i < xv.length; i++) xq[i] = xv[i] - zX;
  const wv = w.v;
  const Mg = M / group;
  const T = CG * KH * KW;
  const acc = new Float64Array(OH * OW);
  // output columns [lo, hi) of tap kx read input columns inside [0, W)
  const colLo = new Int32Array(KW);
  const colHi = new Int32Array(KW);
  for (let kx = 0; kx < KW; kx++) {
    const off = kx * g.dw - g.pl;
    colLo[kx] = Math.min(OW, Math.max(0, Math.ceil(-off / g.sw)));
    colHi[kx] = Math.max(colLo[kx], Math.min(OW, Math.floor((W - 1 - off) / g.sw) + 1));
  }
  const { sh, sw, dh, pt } = g;
  // a 1x1 stride-1 unpadded window reads each whole input plane as it is
  const plain = KH === 1 && KW === 1 && sh === 1 && sw === 1 && g.pt === 0 && g.pl === 0 && OH === H && OW === W;
  for (let b = 0; b < N; b++) {
    for (let m = 0; m < M; m++) {
      const zw = zW(m);
      const c0 = Math.floor(m / Mg) * CG;
      acc.fill(0);
      for (let c = 0; c < CG; c++) {
        const plane = (b * C + c0 + c) * H * W;
        if (plain) {
          const wt = wv[m * T + c] - zw;
          if (wt !== 0) for (let i = 0, q = plane; i < acc.length; i++, q++) acc[i] += wt * xq[q];
          continue;
        }
        for (let ky = 0; ky < KH; ky++) {
          for (let kx = 0; kx < KW; kx++) {
            const wt = wv[m * T + (c * KH + ky) * KW + kx] - zw;
            if (wt === 0) continue;
            const lo = colLo[kx];
            const hi = colHi[kx];
            const off = kx * g.dw - g.pl;
            for (let oy = 0; oy < OH; oy++) {
              const iy = oy * sh - pt + ky * dh;
              if (iy < 0 || iy >= H) continue;
              const row = plane + iy * W + off;
              for (let ox = lo, o = oy * OW + lo, q = row + lo * sw; ox < hi; ox++, o++, q += sw) acc[o] += wt * xq[q];
            }
          }
        }
      }
      const base = (b * M + m) * OH * OW;
      for (let i = 0; i < OH * OW; i++) out[base + i] = wrap32(acc[i]);
    }
  }
  return { v: out, shape, kind: 'int', dt: INT32 };
}
