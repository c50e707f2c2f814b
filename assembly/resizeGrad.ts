// Training kernels for the resampling ops of segmentation and super-resolution networks, NCHW
// planes (NC = N·C planes), with PyTorch's semantics:
// - Resize / Upsample (ONNX Resize; PyTorch F.interpolate nearest and bilinear): the forward reads
//   the per-axis tables the host resolves from every coordinate rule (src/ops/resize.ts,
//   layout in assembly/resize.ts: [i0: i32][i1: i32][w: f32] per output row or column, indices
//   clamped), y = lerp(lerp(x[i0y][i0x], x[i0y][i1x], wx), lerp(x[i1y][i0x], x[i1y][i1x], wx), wy)
//   with lerp(a, b, w) = a + (b − a)·w; nearest reads x[i0y][i0x]. The backward is its adjoint
//   (PyTorch's upsample_bilinear2d_backward): dy scattered onto the four taps with weights
//   (1 − wy)(1 − wx), (1 − wy)·wx, wy·(1 − wx), wy·wx (nearest: onto its one tap).
// - MaxUnpool (ONNX MaxUnpool, PyTorch MaxUnpool2d): indices are ONNX flat NCHW float values
//   into the unpooled grid (N, C, GH, GW), placed at the top-left of the (N, C, OH, OW) output;
//   the forward scatters (later inputs overwrite earlier ones at one index), the backward
//   gathers dy at each index (torch's max_unpool2d backward), so every input reads its own index.
//   An index outside its own plane of the grid (never one MaxPool writes) is skipped.
// - maxpool_fwd_f32's per-plane i32 indices (h·W + w) turned into ONNX flat NCHW float indices.
// Parts split the planes: every plane is written by one part, in one order, so any split gives
// the same bits.
import { partStart } from './parallel';
import { zeroFloats } from './window';

const ENTRY: usize = 12;

@inline function lerpS(a: f32, b: f32, w: f32): f32 {
  return a + (b - a) * w;
}
@inline function lerpV(a: v128, b: v128, w: v128): v128 {
  return f32x4.add(a, f32x4.mul(f32x4.sub(b, a), w));
}
@inline function ldf(row: usize, i: i32): f32 {
  return load<f32>(row + (<usize>i << 2));
}

/**
 * Resize forward, NCHW: y (NC planes of OH x OW) from x (NC planes of H x W) through the tables
 * tabY (OH entries) and tabX (OW entries), nearest (linear = 0) or bilinear (linear = 1); see
 * the file header. Four output columns a step share one vertical weight (f32x4 arithmetic on
 * gathered taps, the same operations as one column alone). Parts split the planes.
 */
export function resize_fwd_f32(
  x: usize, y: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32, tabY: usize, tabX: usize, linear: i32,
  part: i32, parts: i32,
): void {
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  const HW = <usize>H * <usize>W, OHW = <usize>OH * <usize>OW;
  const rowB = <usize>W << 2;
  for (let p = p0; p < p1; p++) {
    const xp = x + ((<usize>p * HW) << 2);
    let yo = y + ((<usize>p * OHW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const ty = tabY + <usize>oh * ENTRY;
      const r0 = xp + <usize>load<i32>(ty) * rowB;
      if (linear == 0) {
        // a row that reads the same input row as the one before (nearest upsampling) is its copy
        if (oh > 0 && load<i32>(ty) == load<i32>(ty - ENTRY)) {
          memory.copy(yo, yo - (<usize>OW << 2), <usize>OW << 2);
          yo += <usize>OW << 2;
          continue;
        }
        for (let ow = 0; ow < OW; ow++) {
          store<f32>(yo, ldf(r0, load<i32>(tabX + <usize>ow * ENTRY)));
          yo += 4;
        }
        continue;
      }
      const r1 = xp + <usize>load<i32>(ty, 4) * rowB;
      const wy = load<f32>(ty, 8);
      const wyv = f32x4.splat(wy);
      let ow = 0;
      for (; ow + 4 <= OW; ow += 4) {
        const t = tabX + <usize>ow * ENTRY;
        const a0 = load<i32>(t), a1 = load<i32>(t, 12), a2 = load<i32>(t, 24), a3 = load<i32>(t, 36);
        const b0 = load<i32>(t, 4), b1 = load<i32>(t, 16), b2 = load<i32>(t, 28), b3 = load<i32>(t, 40);
        const wx = f32x4(load<f32>(t, 8), load<f32>(t, 20), load<f32>(t, 32), load<f32>(t, 44));
        const top = lerpV(f32x4(ldf(r0, a0), ldf(r0, a1), ldf(r0, a2), ldf(r0, a3)), f32x4(ldf(r0, b0), ldf(r0, b1), ldf(r0, b2), ldf(r0, b3)), wx);
        const bot = lerpV(f32x4(ldf(r1, a0), ldf(r1, a1), ldf(r1, a2), ldf(r1, a3)), f32x4(ldf(r1, b0), ldf(r1, b1), ldf(r1, b2), ldf(r1, b3)), wx);
        v128.store(yo, lerpV(top, bot, wyv));
        yo += 16;
      }
      for (; ow < OW; ow++) {
        const t = tabX + <usize>ow * ENTRY;
        const i0 = load<i32>(t), i1 = load<i32>(t, 4);
        const wx = load<f32>(t, 8);
        const top = lerpS(ldf(r0, i0), ldf(r0, i1), wx);
        const bot = lerpS(ldf(r1, i0), ldf(r1, i1), wx);
        store<f32>(yo, lerpS(top, bot, wy));
        yo += 4;
      }
    }
  }
}

/**
 * Resize backward, NCHW: dx (NC planes of H x W, OVERWRITTEN) = 0, then every dy[p][oh][ow] in
 * scan order adds onto the taps it was read from with their bilinear weights (nearest: all of
 * it onto its one tap); see the file header. Parts split the planes.
 */
export function resize_grad_f32(
  dy: usize, dx: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32, tabY: usize, tabX: usize, linear: i32,
  part: i32, parts: i32,
): void {
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  const HW = <usize>H * <usize>W, OHW = <usize>OH * <usize>OW;
  const rowB = <usize>W << 2;
  for (let p = p0; p < p1; p++) {
    const xp = dx + ((<usize>p * HW) << 2);
    let g = dy + ((<usize>p * OHW) << 2);
    zeroFloats(xp, H * W);
    for (let oh = 0; oh < OH; oh++) {
      const ty = tabY + <usize>oh * ENTRY;
      const r0 = xp + <usize>load<i32>(ty) * rowB;
      if (linear == 0) {
        for (let ow = 0; ow < OW; ow++) {
          const d = r0 + (<usize>load<i32>(tabX + <usize>ow * ENTRY) << 2);
          store<f32>(d, load<f32>(d) + load<f32>(g));
          g += 4;
        }
        continue;
      }
      const r1 = xp + <usize>load<i32>(ty, 4) * rowB;
      const wy = load<f32>(ty, 8);
      for (let ow = 0; ow < OW; ow++) {
        const t = tabX + <usize>ow * ENTRY;
        const i0 = <usize>load<i32>(t) << 2, i1 = <usize>load<i32>(t, 4) << 2;
        const wx = load<f32>(t, 8);
        const v = load<f32>(g);
        const top = v * (1 - wy), bot = v * wy;
        store<f32>(r0 + i0, load<f32>(r0 + i0) + top * (1 - wx));
        store<f32>(r0 + i1, load<f32>(r0 + i1) + top * wx);
        store<f32>(r1 + i0, load<f32>(r1 + i0) + bot * (1 - wx));
        store<f32>(r1 + i1, load<f32>(r1 + i1) + bot * wx);
        g += 4;
      }
    }
  }
}

/** Where input element i of plane p lands in its output plane (OH x OW), or -1 (see the header). */
@inline function unpoolTarget(f: f32, p: i32, GH: i32, GW: i32, OH: i32, OW: i32): i32 {
  const GHW = <f64>GH * <f64>GW;
  const q = <f64>f - <f64>p * GHW;
  if (!(q >= 0 && q < GHW)) return -1;
  const qi = <i32>q;
  const qh = qi / GW, qw = qi % GW;
  if (qh >= OH || qw >= OW) return -1;
  return qh * OW + qw;
}

/**
 * MaxUnpool forward, NCHW: y (NC planes of OH x OW, OVERWRITTEN) = 0, then y[p][t] = x[p][i]
 * for i < HW in order, t the output position of index idx[p][i] (flat NCHW float into the
 * NC x GH x GW grid, placed at the output's top-left; outside plane p or the output: skipped).
 * Parts split the planes.
 */
export function maxunpool_fwd_f32(
  x: usize, idx: usize, y: usize, NC: i32, HW: i32, GH: i32, GW: i32, OH: i32, OW: i32, part: i32, parts: i32,
): void {
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  const OHW = <usize>OH * <usize>OW;
  for (let p = p0; p < p1; p++) {
    const yp = y + ((<usize>p * OHW) << 2);
    const xp = x + ((<usize>p * <usize>HW) << 2), ip = idx + ((<usize>p * <usize>HW) << 2);
    zeroFloats(yp, OH * OW);
    for (let i = 0; i < HW; i++) {
      const t = unpoolTarget(ldf(ip, i), p, GH, GW, OH, OW);
      if (t >= 0) store<f32>(yp + (<usize>t << 2), ldf(xp, i));
    }
  }
}

/**
 * MaxUnpool backward, NCHW: dx[p][i] (OVERWRITTEN) = dy[p][t] at the output position t of
 * idx[p][i] as maxunpool_fwd_f32 resolves it, 0 where it skips. Parts split the planes.
 */
export function maxunpool_grad_f32(
  dy: usize, idx: usize, dx: usize, NC: i32, HW: i32, GH: i32, GW: i32, OH: i32, OW: i32, part: i32, parts: i32,
): void {
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  const OHW = <usize>OH * <usize>OW;
  for (let p = p0; p < p1; p++) {
    const gp = dy + ((<usize>p * OHW) << 2);
    const xp = dx + ((<usize>p * <usize>HW) << 2), ip = idx + ((<usize>p * <usize>HW) << 2);
    for (let i = 0; i < HW; i++) {
      const t = unpoolTarget(ldf(ip, i), p, GH, GW, OH, OW);
      store<f32>(xp + (<usize>i << 2), t >= 0 ? ldf(gp, t) : 0);
    }
  }
}

/**
 * ONNX flat NCHW float indices from maxpool_fwd_f32's per-plane i32 ones: out[p][o] =
 * f32(p·HW + idx[p][o]) over NC planes of OHW (exact while NC·HW < 2^24).
 */
export function maxpool_indices_f32(idx: usize, out: usize, NC: i32, HW: i32, OHW: i32): void {
  for (let p = 0; p < NC; p++) {
    const base = p * HW;
    const ip = idx + ((<usize>p * <usize>OHW) << 2), op = out + ((<usize>p * <usize>OHW) << 2);
    const bv = i32x4.splat(base);
    let o = 0;
    for (; o + 4 <= OHW; o += 4) {
      const q = <usize>o << 2;
      v128.store(op + q, f32x4.convert_i32x4_s(i32x4.add(v128.load(ip + q), bv)));
    }
    for (; o < OHW; o++) store<f32>(op + (<usize>o << 2), <f32>(base + load<i32>(ip + (<usize>o << 2))));
  }
}
