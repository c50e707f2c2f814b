// Training kernels for deformable convolution, NCHW: v1 (J. Dai et al., "Deformable
// Convolutional Networks", ICCV 2017) and v2 with a modulation mask (X. Zhu et al., "Deformable
// ConvNets v2", CVPR 2019), with torchvision.ops.deform_conv2d's sampling rule and layouts.
//
// Forward: deform_im2col_f32 gathers one image's columns by bilinear sampling, then the conv
// rule multiplies them by the weights (mm_f32), as for a plain convolution. Tap (kh, kw) of
// output (oh, ow) samples channel c at
//   y = oh·SH − PT + kh·DH + Δy,   x = ow·SW − PL + kw·DW + Δx
// where (Δy, Δx) belong to c's offset group og = c / (C / OG):
//   offset[og·2·KH·KW + 2·(kh·KW + kw) + {0: Δy, 1: Δx}][oh][ow],  mask[og·KH·KW + kh·KW + kw][oh][ow].
// torchvision's rule: a point with y <= −1, y >= H, x <= −1 or x >= W samples 0; otherwise the
// corners (⌊y⌋ or ⌊y⌋+1, ⌊x⌋ or ⌊x⌋+1) are blended with weights (1−|y−yc|)(1−|x−xc|) and corners
// outside the image count as 0. The column entry is mask · sample.
//
// Backward (the adjoint of the above, as torchvision's deformable_col2im and
// deformable_col2im_coord compute it): with dcols = Wᵀ·dY,
//   dx[c][yc][xc] += mask · weight_corner · dcol                          (deform_col2im_f32)
//   dΔy = mask · Σ_{c∈og} dcol · ∂sample/∂y,  dΔx likewise,  dmask = Σ_{c∈og} dcol · sample
// where ∂sample/∂y = (1−lx)(v10 − v00) + lx(v11 − v01), ∂sample/∂x = (1−ly)(v01 − v00) + ly(v11 − v10)
// is the derivative of the bilinear interpolant (ly, lx the fractional parts; corners outside the
// image are 0), and 0 for points outside (−1, H) × (−1, W) (deform_grad_offset_f32). Both are
// combinations of the four corner sums S_ab = Σ_{c∈og} dcol · v_ab, which the kernel accumulates
// as one f32x4 (two 64-bit loads per channel: each corner pair is adjacent in memory).
//
// The kernels always take a whole image's C channels: a conv group's columns are the contiguous
// rows [g·Cg·KH·KW, (g+1)·Cg·KH·KW) of the whole image's cols, so grouped convolution and any
// offset_group (dividing C) need no further arguments. The work is gathers and scatters (no
// wasm gather instruction): the sample geometry is computed once per (tap, position, offset
// group) and reused for every channel of the group; the corner pairs (v00, v01), (v10, v11) move
// as 64-bit halves of one vector in the input and offset gradients, the forward blend is scalar
// (f32x4 over four positions with four-lane gathers measured 10-15% slower).

import { partStart } from './parallel';

/** Whether (y, x) lies inside torchvision's sampling window (−1, H) × (−1, W). */
// @ts-ignore: decorator
@inline function inside(y: f32, x: f32, H: i32, W: i32): bool {
  return y > -1 && y < <f32>H && x > -1 && x < <f32>W;
}

/**
 * The walk deform_im2col_f32 (adjoint = false) and its adjoint deform_col2im_f32 (true) share:
 * channels [c0, c1) of part `part`, offset group by offset group, tap by tap, position by
 * position; the sample point, its inside test and corner geometry are computed once per
 * (tap, position, offset group) and serve every channel of the group. img is x (read) or dx
 * (ACCUMULATED), cols is cols (written) or dcols (read).
 */
// @ts-ignore: decorator
@inline function deformWalk(
  adjoint: bool, img: usize, offset: usize, mask: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, OG: i32, cols: usize, part: i32, parts: i32,
): void {
  const c0 = partStart(C, 1, part, parts), c1 = partStart(C, 1, part + 1, parts);
  if (c1 <= c0) return;
  const KK = KH * KW, OHW = OH * OW, Cog = C / OG;
  const planeB = <usize>H * <usize>W << 2, rowB = <usize>KK * <usize>OHW << 2;
  for (let og = c0 / Cog; og * Cog < c1; og++) {
    const cs = max(c0, og * Cog), ce = min(c1, (og + 1) * Cog);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const tap = kh * KW + kw;
        const offY = offset + (<usize>((og * 2 * KK + 2 * tap) * OHW) << 2);
        const offX = offY + (<usize>OHW << 2);
        const mp = mask != 0 ? mask + (<usize>((og * KK + tap) * OHW) << 2) : 0;
        const colBase = cols + (<usize>(cs * KK + tap) * <usize>OHW << 2);
        const imgBase = img + <usize>cs * planeB;
        for (let oh = 0; oh < OH; oh++) {
          const ty = <f32>(oh * SH - PT + kh * DH);
          for (let ow = 0; ow < OW; ow++) {
            const p = oh * OW + ow;
            const pb = <usize>p << 2;
            const y = ty + load<f32>(offY + pb);
            const xx = <f32>(ow * SW - PL + kw * DW) + load<f32>(offX + pb);
            let col = colBase + pb;
            if (!inside(y, xx, H, W)) {
              if (!adjoint) {
                for (let c = cs; c < ce; c++) {
                  store<f32>(col, 0);
                  col += rowB;
                }
              }
              continue;
            }
            const m: f32 = mp != 0 ? load<f32>(mp + pb) : 1;
            const yf = Mathf.floor(y), xf = Mathf.floor(xx);
            const y0 = <i32>yf, x0 = <i32>xf;
            const ly = y - yf, lx = xx - xf, hy: f32 = 1 - ly, hx: f32 = 1 - lx;
            const okT = y0 >= 0, okB = y0 + 1 < H, okL = x0 >= 0, okR = x0 + 1 < W;
            // byte offset of the top-left corner (wraps when it lies before the plane; only in-image corners are touched)
            const cornerB = <usize>(<isize>(y0 * W + x0) << 2), rB = <usize>W << 2;
            let pl = imgBase;
            if (adjoint) {
              const w00 = m * (hy * hx), w01 = m * (hy * lx), w10 = m * (ly * hx), w11 = m * (ly * lx);
              if (okT && okB && okL && okR) {
                // the two corner pairs are adjacent floats: one vector of four, 64-bit loads and stores
                let wv = f32x4.splat(w00);
                wv = f32x4.replace_lane(wv, 1, w01);
                wv = f32x4.replace_lane(wv, 2, w10);
                wv = f32x4.replace_lane(wv, 3, w11);
                for (let c = cs; c < ce; c++) {
                  const p00 = pl + cornerB, p10 = p00 + rB;
                  let d = v128.load64_lane(p10, v128.load64_zero(p00), 1);
                  d = f32x4.add(d, f32x4.mul(wv, f32x4.splat(load<f32>(col))));
                  v128.store64_lane(p00, d, 0);
                  v128.store64_lane(p10, d, 1);
                  col += rowB;
                  pl += planeB;
                }
                continue;
              }
              for (let c = cs; c < ce; c++) {
                const g = load<f32>(col);
                const p00 = pl + cornerB;
                if (okT && okL) store<f32>(p00, load<f32>(p00) + w00 * g);
                if (okT && okR) store<f32>(p00 + 4, load<f32>(p00 + 4) + w01 * g);
                if (okB && okL) store<f32>(p00 + rB, load<f32>(p00 + rB) + w10 * g);
                if (okB && okR) store<f32>(p00 + rB + 4, load<f32>(p00 + rB + 4) + w11 * g);
                col += rowB;
                pl += planeB;
              }
              continue;
            }
            const w00 = hy * hx, w01 = hy * lx, w10 = ly * hx, w11 = ly * lx;
            if (okT && okB && okL && okR) {
              // all four corners inside: no per-channel tests
              for (let c = cs; c < ce; c++) {
                const p00 = pl + cornerB;
                const v = w00 * load<f32>(p00) + w01 * load<f32>(p00, 4) + w10 * load<f32>(p00 + rB) + w11 * load<f32>(p00 + rB, 4);
                store<f32>(col, m * v);
                col += rowB;
                pl += planeB;
              }
              continue;
            }
            for (let c = cs; c < ce; c++) {
              const p00 = pl + cornerB;
              let v: f32 = 0;
              if (okT && okL) v += w00 * load<f32>(p00);
              if (okT && okR) v += w01 * load<f32>(p00 + 4);
              if (okB && okL) v += w10 * load<f32>(p00 + rB);
              if (okB && okR) v += w11 * load<f32>(p00 + rB + 4);
              store<f32>(col, m * v);
              col += rowB;
              pl += planeB;
            }
          }
        }
      }
    }
  }
}

/**
 * One image's columns: x [C][H][W] to cols [C·KH·KW][OH·OW], row (c·KH + kh)·KW + kw, column
 * oh·OW + ow = mask · bilinear sample of channel c at the tap's offset position (see header).
 * offset [2·OG·KH·KW][OH][OW]; mask [OG·KH·KW][OH][OW] or 0 (v1: mask 1). OG divides C.
 * Parts split the channels (each cols row is written by one part; every part writes its rows whole).
 */
export function deform_im2col_f32(
  x: usize, offset: usize, mask: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, OG: i32, cols: usize, part: i32, parts: i32,
): void {
  deformWalk(false, x, offset, mask, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, cols, part, parts);
}

/**
 * Input gradient, the adjoint of deform_im2col_f32: dx [C][H][W] (ACCUMULATES) += for every
 * cols entry, mask · corner weight · dcols entry at each of its in-image corners. dcols is
 * [C·KH·KW][OH·OW]; offset, mask as for deform_im2col_f32. Parts split the channels: a
 * channel's plane is summed by one part, always in (tap, oh, ow) order, so any parts value gives
 * the same bits.
 */
export function deform_col2im_f32(
  dcols: usize, offset: usize, mask: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, OG: i32, dx: usize, part: i32, parts: i32,
): void {
  deformWalk(true, dx, offset, mask, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG, dcols, part, parts);
}

/**
 * Offset and mask gradients of one image: for each offset group og, tap and output position,
 *   doffset[og·2·KK + 2·tap + 0] = mask · Σ_{c∈og} dcol · ∂sample/∂y,  [.. + 1] likewise for x,
 *   dmask[og·KK + tap] = Σ_{c∈og} dcol · sample (the unmasked sample),
 * channels summed in increasing order; zero for points outside (−1, H) × (−1, W). x, dcols,
 * offset, mask as for deform_im2col_f32 (mask 0: v1, dmask is then not written). doffset or dmask
 * 0: not wanted. accumulate = 0 OVERWRITES doffset and dmask, 1 adds to them. Parts split the
 * output positions (each part owns a disjoint run of oh·OW + ow), so any parts value gives the same bits.
 */
export function deform_grad_offset_f32(
  x: usize, dcols: usize, offset: usize, mask: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, OG: i32,
  doffset: usize, dmask: usize, accumulate: i32, part: i32, parts: i32,
): void {
  const OHW = OH * OW;
  const p0 = partStart(OHW, 1, part, parts), p1 = partStart(OHW, 1, part + 1, parts);
  if (p1 <= p0) return;
  const KK = KH * KW, Cog = C / OG;
  const planeB = <usize>H * <usize>W << 2, rowB = <usize>KK * <usize>OHW << 2;
  const wantM = mask != 0 && dmask != 0;
  for (let og = 0; og < OG; og++) {
    const cs = og * Cog;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const tap = kh * KW + kw;
        const oRow = <usize>((og * 2 * KK + 2 * tap) * OHW) << 2;
        const offY = offset + oRow, offX = offY + (<usize>OHW << 2);
        const gY = doffset + oRow, gX = gY + (<usize>OHW << 2);
        const mRow = <usize>((og * KK + tap) * OHW) << 2;
        const mp = mask != 0 ? mask + mRow : 0;
        const gM = dmask + mRow;
        const colBase = dcols + (<usize>(cs * KK + tap) * <usize>OHW << 2);
        const xBase = x + <usize>cs * planeB;
        for (let p = p0; p < p1; p++) {
          const oh = p / OW, ow = p - oh * OW;
          const pb = <usize>p << 2;
          const y = <f32>(oh * SH - PT + kh * DH) + load<f32>(offY + pb);
          const xx = <f32>(ow * SW - PL + kw * DW) + load<f32>(offX + pb);
          let sy: f32 = 0, sx: f32 = 0, sm: f32 = 0;
          const m: f32 = mp != 0 ? load<f32>(mp + pb) : 1;
          if (inside(y, xx, H, W)) {
            const yf = Mathf.floor(y), xf = Mathf.floor(xx);
            const y0 = <i32>yf, x0 = <i32>xf;
            const ly = y - yf, lx = xx - xf, hy: f32 = 1 - ly, hx: f32 = 1 - lx;
            const w00 = hy * hx, w01 = hy * lx, w10 = ly * hx, w11 = ly * lx;
            const okT = y0 >= 0, okB = y0 + 1 < H, okL = x0 >= 0, okR = x0 + 1 < W;
            const cornerB = <usize>(<isize>(y0 * W + x0) << 2), rB = <usize>W << 2;
            // S = Σ_c dcol · (v00, v01, v10, v11): the sums every gradient is a combination of
            let S = f32x4.splat(0);
            let src = xBase, col = colBase + pb;
            if (okT && okB && okL && okR) {
              // the two corner pairs are adjacent floats: two 64-bit loads per channel
              for (let c = 0; c < Cog; c++) {
                const p00 = src + cornerB;
                const v = v128.load64_lane(p00 + rB, v128.load64_zero(p00), 1);
                S = f32x4.add(S, f32x4.mul(f32x4.splat(load<f32>(col)), v));
                src += planeB;
                col += rowB;
              }
            } else {
              // the same sums lane by lane, corners outside the image as 0
              for (let c = 0; c < Cog; c++) {
                const p00 = src + cornerB;
                let v = f32x4.splat(0);
                if (okT && okL) v = f32x4.replace_lane(v, 0, load<f32>(p00));
                if (okT && okR) v = f32x4.replace_lane(v, 1, load<f32>(p00 + 4));
                if (okB && okL) v = f32x4.replace_lane(v, 2, load<f32>(p00 + rB));
                if (okB && okR) v = f32x4.replace_lane(v, 3, load<f32>(p00 + rB + 4));
                S = f32x4.add(S, f32x4.mul(f32x4.splat(load<f32>(col)), v));
                src += planeB;
                col += rowB;
              }
            }
            const s00 = f32x4.extract_lane(S, 0), s01 = f32x4.extract_lane(S, 1);
            const s10 = f32x4.extract_lane(S, 2), s11 = f32x4.extract_lane(S, 3);
            sy = hx * (s10 - s00) + lx * (s11 - s01);
            sx = hy * (s01 - s00) + ly * (s11 - s10);
            if (wantM) sm = w00 * s00 + w01 * s01 + w10 * s10 + w11 * s11;
          }
          if (doffset != 0) {
            if (accumulate != 0) {
              store<f32>(gY + pb, load<f32>(gY + pb) + m * sy);
              store<f32>(gX + pb, load<f32>(gX + pb) + m * sx);
            } else {
              store<f32>(gY + pb, m * sy);
              store<f32>(gX + pb, m * sx);
            }
          }
          if (wantM) store<f32>(gM + pb, accumulate != 0 ? load<f32>(gM + pb) + sm : sm);
        }
      }
    }
  }
}
