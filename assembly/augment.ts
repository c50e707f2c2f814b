// Data augmentation kernels for training batches, NCHW floats [N][C][H][W]. Each kernel is the
// arithmetic of one of torchvision 0.14's tensor functional forms
// (torchvision/transforms/functional_tensor.py), for parameters the host drew per image:
//
//   aug_affine_f32         F.affine(img, angle, translate, scale, shear, BILINEAR, fill):
//                          torch.nn.functional.grid_sample (bilinear, zeros padding,
//                          align_corners=False) of the image and of a ones mask, then
//                          out = sample·mask + (1 − mask)·fill (torchvision's _apply_grid_transform).
//                          The host folds _get_inverse_affine_matrix and _gen_affine_grid into one
//                          map from output pixel index to input pixel coordinate per image.
//   aug_resized_crop_f32   F.resized_crop(img, top, left, h, w, size, BILINEAR, antialias=False):
//                          crop (zero padding outside the image) then torch interpolate bilinear,
//                          align_corners=False (src = (dst + 0.5)·in/out − 0.5, clamped at 0).
//   aug_hflip_f32          F.hflip for the images whose flag is set (others copied).
//   aug_brightness_f32     adjust_brightness: clamp(f·x, 0, 1).
//   aug_contrast_f32       adjust_contrast: clamp(f·x + (1 − f)·mean(gray), 0, 1), mean per image.
//   aug_saturation_f32     adjust_saturation: clamp(f·x + (1 − f)·gray, 0, 1).
//   aug_hue_f32            adjust_hue: _rgb2hsv, h = (h + f) mod 1, _hsv2rgb.
//   aug_noise_f32          x + std·z, z standard normal from a counter-based hash and Box–Muller (below).
//   aug_normalize_f32      F.normalize: (x − mean[c]) / std[c].
//
// Grayscale is ITU-R 601-2 luma as torchvision writes it: 0.2989·r + 0.587·g + 0.114·b.
// Pointers are byte offsets into the one linear memory, sizes in elements; nothing allocates.
// Element-wise kernels accept y == x (in place); the affine warp and the resized crop do not.
import { vlog } from './math';
import { partStart } from './parallel';

const GRAY_R: f32 = 0.2989;
const GRAY_G: f32 = 0.587;
const GRAY_B: f32 = 0.114;

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

// @ts-ignore: decorator
@inline function clamp01(v: f32): f32 {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Four floats at p + four byte offsets (taken out of their vector once, outside the channel loops). */
// @ts-ignore: decorator
@inline function gather4(p: usize, o0: usize, o1: usize, o2: usize, o3: usize): v128 {
  let v = v128.load32_zero(p + o0);
  v = v128.load32_lane(p + o1, v, 1);
  v = v128.load32_lane(p + o2, v, 2);
  return v128.load32_lane(p + o3, v, 3);
}

/**
 * Affine warp with bilinear sampling (torchvision F.affine, tensor path, BILINEAR, fill).
 * mats: N × 6 f32 per image [a, b, c, d, e, f]: output pixel (ox, oy) samples the input at
 * x = a·ox + b·oy + c, y = d·ox + e·oy + f (pixel indices: pixel centres at integers). Corners
 * outside the image weigh 0; the in-image weight sum m gives out = v·m + (1 − m)·fill, as
 * torchvision's ones-mask channel does. Input [N][C][H][W], output [N][C][OH][OW], disjoint.
 * part / parts: a band of the N·OH output rows (parallel.ts).
 */
export function aug_affine_f32(
  N: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, x: usize, y: usize, mats: usize, fill: f32, part: i32, parts: i32,
): void {
  const rows = N * OH;
  const r0 = partStart(rows, 1, part, parts), r1 = partStart(rows, 1, part + 1, parts);
  const inPlane = H * W, outPlane = OH * OW;
  // coordinates beyond these bounds have every corner outside: clamping them keeps the result and the i32 casts safe
  const xLo: f32 = -2, xHi = <f32>W + 1, yLo: f32 = -2, yHi = <f32>H + 1;
  for (let r = r0; r < r1; r++) {
    const n = r / OH, oy = r - n * OH;
    const m = mats + (<usize>(n * 6) << 2);
    const a = load<f32>(m), b = load<f32>(m, 4), c = load<f32>(m, 8);
    const d = load<f32>(m, 12), e = load<f32>(m, 16), f = load<f32>(m, 20);
    const fy = <f32>oy;
    const bx = b * fy + c, by = e * fy + f;
    const src = x + (<usize>(n * C * inPlane) << 2);
    const dst = y + (<usize>(n * C * outPlane + oy * OW) << 2);
    let ox = 0;
    // four output pixels at a time: coordinates, weights and offsets in SIMD (the same operations
    // as the scalar loop below, so the same values), the 16 corner reads per channel gathered
    const va = f32x4.splat(a), vd = f32x4.splat(d), vbx = f32x4.splat(bx), vby = f32x4.splat(by);
    const vxLo = f32x4.splat(xLo), vxHi = f32x4.splat(xHi), vyLo = f32x4.splat(yLo), vyHi = f32x4.splat(yHi);
    const zero = f32x4.splat(0), one = f32x4.splat(1), vfill = f32x4.splat(fill);
    const wLast = f32x4.splat(<f32>(W - 1)), hLast = f32x4.splat(<f32>(H - 1)), minus1 = f32x4.splat(-1);
    const vW = i32x4.splat(W);
    for (; ox + 4 <= OW; ox += 4) {
      const fx = f32x4.add(f32x4.splat(<f32>ox), f32x4(0, 1, 2, 3));
      const sx = f32x4.min(f32x4.max(f32x4.add(f32x4.mul(va, fx), vbx), vxLo), vxHi);
      const sy = f32x4.min(f32x4.max(f32x4.add(f32x4.mul(vd, fx), vby), vyLo), vyHi);
      const x0f = f32x4.floor(sx), y0f = f32x4.floor(sy);
      const wx1 = f32x4.sub(sx, x0f), wy1 = f32x4.sub(sy, y0f);
      const wx0 = f32x4.sub(one, wx1), wy0 = f32x4.sub(one, wy1);
      const inX0 = v128.and(f32x4.ge(x0f, zero), f32x4.le(x0f, wLast));
      const inX1 = v128.and(f32x4.ge(x0f, minus1), f32x4.lt(x0f, wLast));
      const inY0 = v128.and(f32x4.ge(y0f, zero), f32x4.le(y0f, hLast));
      const inY1 = v128.and(f32x4.ge(y0f, minus1), f32x4.lt(y0f, hLast));
      const w00 = v128.and(f32x4.mul(wx0, wy0), v128.and(inX0, inY0));
      const w01 = v128.and(f32x4.mul(wx1, wy0), v128.and(inX1, inY0));
      const w10 = v128.and(f32x4.mul(wx0, wy1), v128.and(inX0, inY1));
      const w11 = v128.and(f32x4.mul(wx1, wy1), v128.and(inX1, inY1));
      const mask = f32x4.add(f32x4.add(f32x4.add(w00, w01), w10), w11);
      const rest = f32x4.mul(f32x4.sub(one, mask), vfill);
      const cx0 = i32x4.trunc_sat_f32x4_s(f32x4.min(f32x4.max(x0f, zero), wLast));
      const cx1 = i32x4.trunc_sat_f32x4_s(f32x4.min(f32x4.max(f32x4.add(x0f, one), zero), wLast));
      const cy0 = i32x4.mul(i32x4.trunc_sat_f32x4_s(f32x4.min(f32x4.max(y0f, zero), hLast)), vW);
      const cy1 = i32x4.mul(i32x4.trunc_sat_f32x4_s(f32x4.min(f32x4.max(f32x4.add(y0f, one), zero), hLast)), vW);
      // byte offsets of the four corners of the four pixels
      const b00 = i32x4.shl(i32x4.add(cy0, cx0), 2), b01 = i32x4.shl(i32x4.add(cy0, cx1), 2);
      const b10 = i32x4.shl(i32x4.add(cy1, cx0), 2), b11 = i32x4.shl(i32x4.add(cy1, cx1), 2);
      const a0 = <usize>i32x4.extract_lane(b00, 0), a1 = <usize>i32x4.extract_lane(b00, 1), a2 = <usize>i32x4.extract_lane(b00, 2), a3 = <usize>i32x4.extract_lane(b00, 3);
      const c0 = <usize>i32x4.extract_lane(b01, 0), c1 = <usize>i32x4.extract_lane(b01, 1), c2 = <usize>i32x4.extract_lane(b01, 2), c3 = <usize>i32x4.extract_lane(b01, 3);
      const e0 = <usize>i32x4.extract_lane(b10, 0), e1 = <usize>i32x4.extract_lane(b10, 1), e2 = <usize>i32x4.extract_lane(b10, 2), e3 = <usize>i32x4.extract_lane(b10, 3);
      const g0 = <usize>i32x4.extract_lane(b11, 0), g1 = <usize>i32x4.extract_lane(b11, 1), g2 = <usize>i32x4.extract_lane(b11, 2), g3 = <usize>i32x4.extract_lane(b11, 3);
      for (let ch = 0; ch < C; ch++) {
        const p = src + (<usize>(ch * inPlane) << 2);
        const v00 = gather4(p, a0, a1, a2, a3), v01 = gather4(p, c0, c1, c2, c3);
        const v10 = gather4(p, e0, e1, e2, e3), v11 = gather4(p, g0, g1, g2, g3);
        const v = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(w00, v00), f32x4.mul(w01, v01)), f32x4.mul(w10, v10)), f32x4.mul(w11, v11));
        v128.store(at(dst, ch * outPlane + ox), f32x4.add(f32x4.mul(v, mask), rest));
      }
    }
    for (; ox < OW; ox++) {
      const fx = <f32>ox;
      let sx = a * fx + bx, sy = d * fx + by;
      sx = min(max(sx, xLo), xHi);
      sy = min(max(sy, yLo), yHi);
      const x0f = Mathf.floor(sx), y0f = Mathf.floor(sy);
      const x0 = <i32>x0f, y0 = <i32>y0f;
      const wx1 = sx - x0f, wy1 = sy - y0f;
      const wx0: f32 = 1 - wx1, wy0: f32 = 1 - wy1;
      const inX0 = x0 >= 0 && x0 < W, inX1 = x0 + 1 >= 0 && x0 + 1 < W;
      const inY0 = y0 >= 0 && y0 < H, inY1 = y0 + 1 >= 0 && y0 + 1 < H;
      const w00: f32 = inX0 && inY0 ? wx0 * wy0 : 0;
      const w01: f32 = inX1 && inY0 ? wx1 * wy0 : 0;
      const w10: f32 = inX0 && inY1 ? wx0 * wy1 : 0;
      const w11: f32 = inX1 && inY1 ? wx1 * wy1 : 0;
      const mask = w00 + w01 + w10 + w11;
      const rest = (<f32>1 - mask) * fill;
      // corner offsets, clamped into the image: a weight of 0 makes the clamped read harmless
      const cx0 = min(max(x0, 0), W - 1), cx1 = min(max(x0 + 1, 0), W - 1);
      const cy0 = min(max(y0, 0), H - 1), cy1 = min(max(y0 + 1, 0), H - 1);
      const o00 = cy0 * W + cx0, o01 = cy0 * W + cx1, o10 = cy1 * W + cx0, o11 = cy1 * W + cx1;
      for (let ch = 0; ch < C; ch++) {
        const p = src + (<usize>(ch * inPlane) << 2);
        const v = w00 * load<f32>(at(p, o00)) + w01 * load<f32>(at(p, o01)) + w10 * load<f32>(at(p, o10)) + w11 * load<f32>(at(p, o11));
        store<f32>(at(dst, ch * outPlane + ox), v * mask + rest);
      }
    }
  }
}

/**
 * Resized crop, bilinear, align_corners=False, no antialias (torchvision F.resized_crop on a
 * tensor). boxes: N × 4 i32 per image [top, left, height, width] in input pixels; the box may
 * reach outside the image (zero there, as torchvision's crop pads). Output [N][C][OH][OW].
 * Each axis: scale = in/out, src = max(scale·(o + 0.5) − 0.5, 0), i0 = ⌊src⌋,
 * i1 = min(i0 + 1, in − 1), λ = src − i0 (torch's upsample_bilinear2d). part / parts: a band of
 * the N·OH output rows.
 */
export function aug_resized_crop_f32(
  N: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, x: usize, y: usize, boxes: usize, part: i32, parts: i32,
): void {
  const rows = N * OH;
  const r0 = partStart(rows, 1, part, parts), r1 = partStart(rows, 1, part + 1, parts);
  const inPlane = H * W, outPlane = OH * OW;
  for (let r = r0; r < r1; r++) {
    const n = r / OH, oy = r - n * OH;
    const bp = boxes + (<usize>(n * 4) << 2);
    const top = load<i32>(bp), left = load<i32>(bp, 4), bh = load<i32>(bp, 8), bw = load<i32>(bp, 12);
    const sh = <f32>bh / <f32>OH, sw = <f32>bw / <f32>OW;
    let syf = sh * (<f32>oy + 0.5) - 0.5;
    if (syf < 0) syf = 0;
    const iy0 = <i32>syf;
    const iy1 = iy0 < bh - 1 ? iy0 + 1 : iy0;
    const ly1 = syf - <f32>iy0, ly0: f32 = 1 - ly1;
    const gy0 = top + iy0, gy1 = top + iy1;
    const inY0 = gy0 >= 0 && gy0 < H, inY1 = gy1 >= 0 && gy1 < H;
    const src = x + (<usize>(n * C * inPlane) << 2);
    const dst = y + (<usize>(n * C * outPlane + oy * OW) << 2);
    let ox = 0;
    // four output columns at a time (the scalar loop's operations in SIMD); rows outside the
    // image and columns outside it are masked to 0
    const vsw = f32x4.splat(sw), half = f32x4.splat(0.5), zero = f32x4.splat(0), one = f32x4.splat(1);
    const vly0 = f32x4.splat(ly0), vly1 = f32x4.splat(ly1);
    const lastCol = i32x4.splat(bw - 1), vleft = i32x4.splat(left), vW = i32x4.splat(W), wMax = i32x4.splat(W - 1);
    const izero = i32x4.splat(0);
    const rowIn0 = i32x4.splat(inY0 ? -1 : 0), rowIn1 = i32x4.splat(inY1 ? -1 : 0);
    const cy0 = min(max(gy0, 0), H - 1), cy1 = min(max(gy1, 0), H - 1);
    for (; ox + 4 <= OW; ox += 4) {
      const fx = f32x4.add(f32x4.splat(<f32>ox), f32x4(0, 1, 2, 3));
      const sxf = f32x4.max(f32x4.sub(f32x4.mul(vsw, f32x4.add(fx, half)), half), zero);
      const ix0 = i32x4.trunc_sat_f32x4_s(sxf);
      const ix1 = i32x4.sub(ix0, i32x4.lt_s(ix0, lastCol)); // + 1 where ix0 < bw − 1
      const lx1 = f32x4.sub(sxf, f32x4.convert_i32x4_s(ix0)), lx0 = f32x4.sub(one, lx1);
      const gx0 = i32x4.add(vleft, ix0), gx1 = i32x4.add(vleft, ix1);
      const inX0 = v128.and(i32x4.ge_s(gx0, izero), i32x4.lt_s(gx0, vW));
      const inX1 = v128.and(i32x4.ge_s(gx1, izero), i32x4.lt_s(gx1, vW));
      const b0 = i32x4.shl(i32x4.min_s(i32x4.max_s(gx0, izero), wMax), 2);
      const b1 = i32x4.shl(i32x4.min_s(i32x4.max_s(gx1, izero), wMax), 2);
      const m00 = v128.and(inX0, rowIn0), m01 = v128.and(inX1, rowIn0), m10 = v128.and(inX0, rowIn1), m11 = v128.and(inX1, rowIn1);
      const a0 = <usize>i32x4.extract_lane(b0, 0), a1 = <usize>i32x4.extract_lane(b0, 1), a2 = <usize>i32x4.extract_lane(b0, 2), a3 = <usize>i32x4.extract_lane(b0, 3);
      const c0 = <usize>i32x4.extract_lane(b1, 0), c1 = <usize>i32x4.extract_lane(b1, 1), c2 = <usize>i32x4.extract_lane(b1, 2), c3 = <usize>i32x4.extract_lane(b1, 3);
      for (let ch = 0; ch < C; ch++) {
        const p = src + (<usize>(ch * inPlane) << 2);
        const p0 = p + (<usize>(cy0 * W) << 2), p1 = p + (<usize>(cy1 * W) << 2);
        const v00 = v128.and(gather4(p0, a0, a1, a2, a3), m00), v01 = v128.and(gather4(p0, c0, c1, c2, c3), m01);
        const v10 = v128.and(gather4(p1, a0, a1, a2, a3), m10), v11 = v128.and(gather4(p1, c0, c1, c2, c3), m11);
        const top = f32x4.add(f32x4.mul(lx0, v00), f32x4.mul(lx1, v01));
        const bot = f32x4.add(f32x4.mul(lx0, v10), f32x4.mul(lx1, v11));
        v128.store(at(dst, ch * outPlane + ox), f32x4.add(f32x4.mul(vly0, top), f32x4.mul(vly1, bot)));
      }
    }
    for (; ox < OW; ox++) {
      let sxf = sw * (<f32>ox + 0.5) - 0.5;
      if (sxf < 0) sxf = 0;
      const ix0 = <i32>sxf;
      const ix1 = ix0 < bw - 1 ? ix0 + 1 : ix0;
      const lx1 = sxf - <f32>ix0, lx0: f32 = 1 - lx1;
      const gx0 = left + ix0, gx1 = left + ix1;
      const inX0 = gx0 >= 0 && gx0 < W, inX1 = gx1 >= 0 && gx1 < W;
      const cx0 = min(max(gx0, 0), W - 1), cx1 = min(max(gx1, 0), W - 1);
      const o00 = cy0 * W + cx0, o01 = cy0 * W + cx1, o10 = cy1 * W + cx0, o11 = cy1 * W + cx1;
      for (let ch = 0; ch < C; ch++) {
        const p = src + (<usize>(ch * inPlane) << 2);
        const v00: f32 = inY0 && inX0 ? load<f32>(at(p, o00)) : 0;
        const v01: f32 = inY0 && inX1 ? load<f32>(at(p, o01)) : 0;
        const v10: f32 = inY1 && inX0 ? load<f32>(at(p, o10)) : 0;
        const v11: f32 = inY1 && inX1 ? load<f32>(at(p, o11)) : 0;
        store<f32>(at(dst, ch * outPlane + ox), ly0 * (lx0 * v00 + lx1 * v01) + ly1 * (lx0 * v10 + lx1 * v11));
      }
    }
  }
}

/**
 * Horizontal flip of the images whose i32 flag (flags: N entries) is nonzero; the others are
 * copied. [N][C][H][W] in and out; y == x allowed (each row is reversed by swapping its ends).
 */
export function aug_hflip_f32(N: i32, C: i32, H: i32, W: i32, x: usize, y: usize, flags: usize): void {
  const rowsPerImage = C * H;
  for (let n = 0; n < N; n++) {
    const base = <usize>(n * rowsPerImage * W) << 2;
    if (load<i32>(at(flags, n)) == 0) {
      if (x != y) memory.copy(y + base, x + base, <usize>(rowsPerImage * W) << 2);
      continue;
    }
    for (let r = 0; r < rowsPerImage; r++) {
      const s = x + base + (<usize>(r * W) << 2), d = y + base + (<usize>(r * W) << 2);
      let i = 0, j = W - 1;
      // four from each end per step: reverse a vector's lanes and swap
      for (; j - i >= 7; i += 4, j -= 4) {
        const lo = v128.load(at(s, i)), hi = v128.load(at(s, j - 3));
        v128.store(at(d, i), v128.shuffle<f32>(hi, hi, 3, 2, 1, 0));
        v128.store(at(d, j - 3), v128.shuffle<f32>(lo, lo, 3, 2, 1, 0));
      }
      for (; i < j; i++, j--) {
        const a = load<f32>(at(s, i)), b = load<f32>(at(s, j));
        store<f32>(at(d, i), b);
        store<f32>(at(d, j), a);
      }
      if (i == j) store<f32>(at(d, i), load<f32>(at(s, i)));
    }
  }
}

/** y = clamp(v·x + w·b, 0, 1) over `len` floats, SIMD (the _blend of torchvision). */
// @ts-ignore: decorator
@inline function blendRun(x: usize, y: usize, len: i32, f: f32, add: f32): void {
  const vf = f32x4.splat(f), va = f32x4.splat(add), zero = f32x4.splat(0), one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const v = f32x4.add(f32x4.mul(vf, v128.load(at(x, i))), va);
    v128.store(at(y, i), f32x4.pmin(f32x4.pmax(v, zero), one));
  }
  for (; i < len; i++) store<f32>(at(y, i), clamp01(f * load<f32>(at(x, i)) + add));
}

/**
 * adjust_brightness per image: y = clamp(f[n]·x, 0, 1). factors: N f32. CHW: floats per image.
 */
export function aug_brightness_f32(N: i32, CHW: i32, x: usize, y: usize, factors: usize): void {
  for (let n = 0; n < N; n++) {
    const o = <usize>(n * CHW) << 2;
    blendRun(x + o, y + o, CHW, load<f32>(at(factors, n)), 0);
  }
}

/** 0.2989·r + 0.587·g + 0.114·b at plane offset i (f32, torchvision's order). */
// @ts-ignore: decorator
@inline function gray(p: usize, HW: i32, i: i32): f32 {
  return GRAY_R * load<f32>(at(p, i)) + GRAY_G * load<f32>(at(p, HW + i)) + GRAY_B * load<f32>(at(p, 2 * HW + i));
}

/**
 * adjust_contrast per image: y = clamp(f[n]·x + (1 − f[n])·μ, 0, 1), μ the mean over the image of
 * its grayscale (C = 3) or of its values (C = 1), accumulated in f64. factors: N f32.
 */
export function aug_contrast_f32(N: i32, C: i32, HW: i32, x: usize, y: usize, factors: usize): void {
  const CHW = C * HW;
  for (let n = 0; n < N; n++) {
    const p = x + (<usize>(n * CHW) << 2);
    let s: f64 = 0;
    if (C == 3) for (let i = 0; i < HW; i++) s += <f64>gray(p, HW, i);
    else for (let i = 0; i < CHW; i++) s += <f64>load<f32>(at(p, i));
    const mean = <f32>(s / <f64>(C == 3 ? HW : CHW));
    const f = load<f32>(at(factors, n));
    blendRun(p, y + (<usize>(n * CHW) << 2), CHW, f, (<f32>1 - f) * mean);
  }
}

/**
 * adjust_saturation per image (3 channels): y_c = clamp(f[n]·x_c + (1 − f[n])·gray, 0, 1).
 * factors: N f32. The gray plane is computed per 4 pixels before any channel is written, so y == x works.
 */
export function aug_saturation_f32(N: i32, HW: i32, x: usize, y: usize, factors: usize): void {
  const gr = f32x4.splat(GRAY_R), gg = f32x4.splat(GRAY_G), gb = f32x4.splat(GRAY_B);
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  for (let n = 0; n < N; n++) {
    const p = x + (<usize>(n * 3 * HW) << 2), q = y + (<usize>(n * 3 * HW) << 2);
    const f = load<f32>(at(factors, n)), g: f32 = 1 - f;
    const vf = f32x4.splat(f), vg = f32x4.splat(g);
    const pg = p + (<usize>HW << 2), pb = p + (<usize>(2 * HW) << 2);
    const qg = q + (<usize>HW << 2), qb = q + (<usize>(2 * HW) << 2);
    let i = 0;
    for (; i + 4 <= HW; i += 4) {
      const r = v128.load(at(p, i)), gn = v128.load(at(pg, i)), b = v128.load(at(pb, i));
      const l = f32x4.add(f32x4.add(f32x4.mul(gr, r), f32x4.mul(gg, gn)), f32x4.mul(gb, b));
      const gl = f32x4.mul(vg, l);
      v128.store(at(q, i), f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.mul(vf, r), gl), zero), one));
      v128.store(at(qg, i), f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.mul(vf, gn), gl), zero), one));
      v128.store(at(qb, i), f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.mul(vf, b), gl), zero), one));
    }
    for (; i < HW; i++) {
      const r = load<f32>(at(p, i)), gn = load<f32>(at(pg, i)), b = load<f32>(at(pb, i));
      const gl = g * (GRAY_R * r + GRAY_G * gn + GRAY_B * b);
      store<f32>(at(q, i), clamp01(f * r + gl));
      store<f32>(at(qg, i), clamp01(f * gn + gl));
      store<f32>(at(qb, i), clamp01(f * b + gl));
    }
  }
}

/**
 * adjust_hue per image (3 channels), torchvision's _rgb2hsv / _hsv2rgb: h from the max channel
 * (r first, then g), h = fmod(h/6 + 1, 1), shifted h' = (h + f[n]) − ⌊h + f[n]⌋, sector
 * i = ⌊6h'⌋ mod 6, p, q, t clamped to [0, 1]. factors: N f32 in [−0.5, 0.5].
 */
export function aug_hue_f32(N: i32, HW: i32, x: usize, y: usize, factors: usize): void {
  for (let n = 0; n < N; n++) {
    const p = x + (<usize>(n * 3 * HW) << 2), q = y + (<usize>(n * 3 * HW) << 2);
    const hf = load<f32>(at(factors, n));
    const pg = p + (<usize>HW << 2), pb = p + (<usize>(2 * HW) << 2);
    const qg = q + (<usize>HW << 2), qb = q + (<usize>(2 * HW) << 2);
    const one = f32x4.splat(1), zero = f32x4.splat(0), six = f32x4.splat(6), vhf = f32x4.splat(hf);
    let i = 0;
    // four pixels at a time: the scalar loop's operations, branches as lane selects
    for (; i + 4 <= HW; i += 4) {
      const r = v128.load(at(p, i)), g = v128.load(at(pg, i)), b = v128.load(at(pb, i));
      const maxc = f32x4.max(f32x4.max(r, g), b), minc = f32x4.min(f32x4.min(r, g), b);
      const eq = f32x4.eq(maxc, minc);
      const cr = f32x4.sub(maxc, minc);
      const s = f32x4.div(cr, v128.bitselect(one, maxc, eq));
      const div = v128.bitselect(one, cr, eq);
      const rc = f32x4.div(f32x4.sub(maxc, r), div), gc = f32x4.div(f32x4.sub(maxc, g), div), bc = f32x4.div(f32x4.sub(maxc, b), div);
      const isR = f32x4.eq(maxc, r), isG = f32x4.eq(maxc, g);
      const hR = f32x4.sub(bc, gc);
      const hG = f32x4.sub(f32x4.add(f32x4.splat(2), rc), bc);
      const hB = f32x4.sub(f32x4.add(f32x4.splat(4), gc), rc);
      let h = v128.bitselect(hR, v128.bitselect(hG, hB, isG), isR);
      h = f32x4.add(f32x4.div(h, six), one);
      h = f32x4.sub(h, f32x4.trunc(h));
      h = f32x4.add(h, vhf);
      h = f32x4.sub(h, f32x4.floor(h));
      const h6 = f32x4.mul(h, six);
      const fi = f32x4.floor(h6);
      const fr = f32x4.sub(h6, fi);
      let sector = i32x4.trunc_sat_f32x4_s(fi);
      sector = i32x4.sub(sector, v128.and(i32x4.eq(sector, i32x4.splat(6)), i32x4.splat(6)));
      const v = maxc;
      const pp = f32x4.pmin(f32x4.pmax(f32x4.mul(v, f32x4.sub(one, s)), zero), one);
      const qq = f32x4.pmin(f32x4.pmax(f32x4.mul(v, f32x4.sub(one, f32x4.mul(s, fr))), zero), one);
      const tt = f32x4.pmin(f32x4.pmax(f32x4.mul(v, f32x4.sub(one, f32x4.mul(s, f32x4.sub(one, fr)))), zero), one);
      const s0 = i32x4.eq(sector, i32x4.splat(0)), s1 = i32x4.eq(sector, i32x4.splat(1)), s2 = i32x4.eq(sector, i32x4.splat(2));
      const s3 = i32x4.eq(sector, i32x4.splat(3)), s4 = i32x4.eq(sector, i32x4.splat(4));
      // sectors 0..5: r = v q p p t v, g = t v v q p p, b = p p t v v q
      const ro = v128.bitselect(v, v128.bitselect(qq, v128.bitselect(pp, v128.bitselect(tt, v, s4), v128.or(s2, s3)), s1), s0);
      const go = v128.bitselect(tt, v128.bitselect(v, v128.bitselect(qq, pp, s3), v128.or(s1, s2)), s0);
      const bo = v128.bitselect(pp, v128.bitselect(tt, v128.bitselect(v, qq, v128.or(s3, s4)), s2), v128.or(s0, s1));
      v128.store(at(q, i), ro);
      v128.store(at(qg, i), go);
      v128.store(at(qb, i), bo);
    }
    for (; i < HW; i++) {
      const r = load<f32>(at(p, i)), g = load<f32>(at(p, HW + i)), b = load<f32>(at(p, 2 * HW + i));
      const maxc = max(max(r, g), b), minc = min(min(r, g), b);
      const eq = maxc == minc;
      const cr = maxc - minc;
      const s = cr / (eq ? <f32>1 : maxc);
      const div = eq ? <f32>1 : cr;
      const rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;
      let h: f32;
      if (maxc == r) h = bc - gc;
      else if (maxc == g) h = <f32>2 + rc - bc;
      else h = <f32>4 + gc - rc;
      h = h / 6 + 1;
      h = h - Mathf.trunc(h); // fmod(h, 1) for h ≥ 0
      h = h + hf;
      h = h - Mathf.floor(h); // Python's % 1.0
      const v = maxc;
      const h6 = h * 6;
      const fi = Mathf.floor(h6);
      const fr = h6 - fi;
      let sector = (<i32>fi) % 6;
      if (sector < 0) sector += 6;
      const pp = clamp01(v * (<f32>1 - s));
      const qq = clamp01(v * (<f32>1 - s * fr));
      const tt = clamp01(v * (<f32>1 - s * (<f32>1 - fr)));
      let ro: f32, go: f32, bo: f32;
      if (sector == 0) { ro = v; go = tt; bo = pp; }
      else if (sector == 1) { ro = qq; go = v; bo = pp; }
      else if (sector == 2) { ro = pp; go = v; bo = tt; }
      else if (sector == 3) { ro = pp; go = qq; bo = v; }
      else if (sector == 4) { ro = tt; go = pp; bo = v; }
      else { ro = v; go = pp; bo = qq; }
      store<f32>(at(q, i), ro);
      store<f32>(at(q, HW + i), go);
      store<f32>(at(q, 2 * HW + i), bo);
    }
  }
}

/**
 * Counter-based 32-bit hash of (seed, counter): the counter is mixed with a Weyl step of the
 * seed, then two rounds of the "lowbias32" integer finaliser (xor-shift 16, × 0x7feb352d,
 * xor-shift 15, × 0x846ca68b, xor-shift 16; C. Wellons' hash-prospector), the second after
 * xoring the seed in again. Exported for the host and the tests, which recompute the stream.
 */
export function aug_hash_u32(seed: u32, counter: u32): u32 {
  return lowbias32(lowbias32(counter ^ (seed * 0x9e3779b9)) ^ seed);
}

// @ts-ignore: decorator
@inline function lowbias32(v: u32): u32 {
  v ^= v >> 16;
  v *= 0x7feb352d;
  v ^= v >> 15;
  v *= 0x846ca68b;
  v ^= v >> 16;
  return v;
}

/** lowbias32 on four lanes. */
// @ts-ignore: decorator
@inline function vlowbias32(v: v128): v128 {
  v = v128.xor(v, i32x4.shr_u(v, 16));
  v = i32x4.mul(v, i32x4.splat(0x7feb352d));
  v = v128.xor(v, i32x4.shr_u(v, 15));
  v = i32x4.mul(v, i32x4.splat(<i32>0x846ca68b));
  return v128.xor(v, i32x4.shr_u(v, 16));
}

/** aug_hash_u32 on four counters. */
// @ts-ignore: decorator
@inline function vhash(seed: u32, counter: v128): v128 {
  const s = i32x4.splat(<i32>seed);
  return vlowbias32(v128.xor(vlowbias32(v128.xor(counter, i32x4.splat(<i32>(seed * 0x9e3779b9)))), s));
}

/** Top 23 bits of four hashes as uniforms in (0, 1): ((h >> 9) + 0.5) / 2^23, exact in f32. */
// @ts-ignore: decorator
@inline function vuniform(h: v128): v128 {
  return f32x4.mul(f32x4.add(f32x4.convert_i32x4_s(i32x4.shr_u(h, 9)), f32x4.splat(0.5)), f32x4.splat(1.0 / 8388608.0));
}

// Cephes sinf.c / cosf.c minimax polynomials on [−π/4, π/4] (S. L. Moshier)
const SIN_P0: f32 = -1.9515295891e-4, SIN_P1: f32 = 8.3321608736e-3, SIN_P2: f32 = -1.6666654611e-1;
const COS_P0: f32 = 2.443315711809948e-5, COS_P1: f32 = -1.388731625493765e-3, COS_P2: f32 = 4.166664568298827e-2;

// the two halves of one Box–Muller step, left by vnormalPairs (AssemblyScript returns one value)
let zEven: v128 = i32x4.splat(0);
let zOdd: v128 = i32x4.splat(0);

/**
 * Box–Muller for the four pairs j (lanes of `pairs`) of stream `seed`: u1 = uniform(hash(seed, 2j)),
 * u2 = uniform(hash(seed, 2j + 1)), r = √(−2 ln u1), θ = 2π·u2; z(2j) = r·cos θ, z(2j + 1) = r·sin θ
 * (into zEven, zOdd). All f32: ln by math.ts's vlog, sin/cos by quadrant reduction of u2 and the
 * Cephes polynomials, so values are within ~1e-6 of the exact formula.
 */
// @ts-ignore: decorator
@inline function vnormalPairs(seed: u32, pairs: v128): void {
  const k0 = i32x4.shl(pairs, 1);
  const u1 = vuniform(vhash(seed, k0));
  const u2 = vuniform(vhash(seed, v128.or(k0, i32x4.splat(1))));
  const r = f32x4.sqrt(f32x4.mul(f32x4.splat(-2), vlog(u1)));
  // θ = 2π·u2 = 2π·(v + q/4) with v = u2 − q/4 in [−1/8, 1/8]: q = nearest(4·u2) in 0..4
  const qf = f32x4.nearest(f32x4.mul(u2, f32x4.splat(4)));
  const x = f32x4.mul(f32x4.sub(u2, f32x4.mul(qf, f32x4.splat(0.25))), f32x4.splat(<f32>(2 * Math.PI)));
  const z = f32x4.mul(x, x);
  let sp = f32x4.add(f32x4.mul(f32x4.splat(SIN_P0), z), f32x4.splat(SIN_P1));
  sp = f32x4.add(f32x4.mul(sp, z), f32x4.splat(SIN_P2));
  const sn = f32x4.add(f32x4.mul(f32x4.mul(sp, z), x), x);
  let cp = f32x4.add(f32x4.mul(f32x4.splat(COS_P0), z), f32x4.splat(COS_P1));
  cp = f32x4.add(f32x4.mul(cp, z), f32x4.splat(COS_P2));
  const cs = f32x4.add(f32x4.sub(f32x4.mul(f32x4.mul(cp, z), z), f32x4.mul(z, f32x4.splat(0.5))), f32x4.splat(1));
  // rotate by q quarter turns: q = 1: (sin, cos) = (c, −s); 2: (−s, −c); 3: (−c, s)
  const q = v128.and(i32x4.trunc_sat_f32x4_s(qf), i32x4.splat(3));
  const odd = i32x4.eq(v128.and(q, i32x4.splat(1)), i32x4.splat(1));
  const sinv = v128.bitselect(cs, sn, odd), cosv = v128.bitselect(sn, cs, odd);
  const sinNeg = i32x4.ge_s(q, i32x4.splat(2));
  const cosNeg = v128.or(i32x4.eq(q, i32x4.splat(1)), i32x4.eq(q, i32x4.splat(2)));
  const sign = i32x4.splat(0x80000000);
  zEven = f32x4.mul(r, v128.xor(cosv, v128.and(cosNeg, sign)));
  zOdd = f32x4.mul(r, v128.xor(sinv, v128.and(sinNeg, sign)));
}

/**
 * The standard normal value number `k` of the stream `seed` (see vnormalPairs: pair ⌊k/2⌋, even k
 * the cosine half, odd k the sine half). The same instructions as aug_noise_f32 uses, so equal to it bit for bit.
 */
export function aug_normal_f32(seed: u32, k: u32): f32 {
  vnormalPairs(seed, i32x4.splat(<i32>(k >> 1)));
  return (k & 1) == 0 ? f32x4.extract_lane(zEven, 0) : f32x4.extract_lane(zOdd, 0);
}

/**
 * Gaussian noise: y = x + std[n]·z_k with z_k = aug_normal_f32(seed, k), k the element's index
 * in the batch (n·CHW + i), so a value depends only on (seed, position). clip ≠ 0 clamps to [0, 1].
 * stds: N f32. Eight elements (four pairs) per step.
 */
export function aug_noise_f32(N: i32, CHW: i32, x: usize, y: usize, stds: usize, seed: u32, clip: i32): void {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  for (let n = 0; n < N; n++) {
    const sd = load<f32>(at(stds, n));
    const vs = f32x4.splat(sd);
    const base = n * CHW, end = base + CHW;
    let k = base;
    if ((k & 1) != 0 && k < end) {
      noiseOne(x, y, k, sd, seed, clip);
      k++;
    }
    for (; k + 8 <= end; k += 8) {
      vnormalPairs(seed, i32x4.add(i32x4.splat(k >> 1), i32x4(0, 1, 2, 3)));
      let a = f32x4.add(v128.load(at(x, k)), f32x4.mul(vs, v128.shuffle<f32>(zEven, zOdd, 0, 4, 1, 5)));
      let b = f32x4.add(v128.load(at(x, k + 4)), f32x4.mul(vs, v128.shuffle<f32>(zEven, zOdd, 2, 6, 3, 7)));
      if (clip != 0) {
        a = f32x4.pmin(f32x4.pmax(a, zero), one);
        b = f32x4.pmin(f32x4.pmax(b, zero), one);
      }
      v128.store(at(y, k), a);
      v128.store(at(y, k + 4), b);
    }
    for (; k < end; k++) noiseOne(x, y, k, sd, seed, clip);
  }
}

// @ts-ignore: decorator
@inline function noiseOne(x: usize, y: usize, k: i32, sd: f32, seed: u32, clip: i32): void {
  let a = load<f32>(at(x, k)) + sd * aug_normal_f32(seed, <u32>k);
  if (clip != 0) a = clamp01(a);
  store<f32>(at(y, k), a);
}

/** F.normalize: y = (x − mean[c]) / std[c] per channel (a division, as torchvision's div_). mean, std: C f32. */
export function aug_normalize_f32(N: i32, C: i32, HW: i32, x: usize, y: usize, mean: usize, std: usize): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const off = (n * C + c) * HW;
      const p = x + (<usize>off << 2), q = y + (<usize>off << 2);
      const m = load<f32>(at(mean, c)), s = load<f32>(at(std, c));
      const vm = f32x4.splat(m), vs = f32x4.splat(s);
      let i = 0;
      for (; i + 4 <= HW; i += 4) v128.store(at(q, i), f32x4.div(f32x4.sub(v128.load(at(p, i)), vm), vs));
      for (; i < HW; i++) store<f32>(at(q, i), (load<f32>(at(p, i)) - m) / s);
    }
  }
}
