// Image preprocessing for CNN inputs: 8-bit pixels → resized, center-cropped, normalised NCHW
// floats, the way torchvision prepares a tensor: to_tensor (x / 255), Resize (PyTorch's
// interpolate, bilinear with or without antialias, or legacy nearest), CenterCrop (zero padding
// where the crop is larger), optional Grayscale (ITU-R 601-2 luma, 0.2989 / 0.587 / 0.114),
// Normalize ((x − mean) / std).
//
// Resampling is separable (horizontal pass, then vertical, as PyTorch's antialiased kernel
// orders them). The host turns every coordinate rule into one table per axis: output index o
// reads `count[o]` consecutive inputs from `start[o]` with weights `weights[o·K .. o·K+count)`
// (K = the widest window on that axis). Antialiased bilinear is the triangle filter whose support
// grows with the downsampling factor (PIL / torch `antialias=True`); plain bilinear is a 2-tap
// window; nearest a 1-tap window of weight 1; a crop position outside the resized image has
// count 0 (value 0 before normalisation, as torchvision's zero padding).
//
// Every pixel travels as one f32x4 ([r, g, b, a|junk] or a grey value in every lane), so both
// passes are SIMD over the channels and the vertical pass reads whole rows.

const INV_LANE3: i32 = 0x00ffffff;

/** Pixel x of an 8-bit row with `srcC` (1, 3 or 4) interleaved channels, as f32x4 in [0, 1]. */
// @ts-ignore: decorator
@inline function pixel(row: usize, x: i32, srcC: i32, k255: v128): v128 {
  let v: v128;
  if (srcC == 1) {
    v = v128.load8_splat(row + <usize>x);
  } else {
    // 3 channels: the 4th byte is the next pixel's (the host pads the buffer), masked off
    v = v128.load32_zero(row + <usize>(x * srcC));
    if (srcC == 3) v = v128.and(v, i32x4.splat(INV_LANE3));
  }
  v = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v));
  return f32x4.div(f32x4.convert_i32x4_u(v), k255);
}

/**
 * Horizontal pass. For source rows r0 ≤ r < r1 of an 8-bit image (W wide, `srcC` channels,
 * rows `stride` bytes apart) writes OW pixels per row as f32x4 to dst (row r − r0 at
 * dst + (r − r0)·OW·16): pixel o = Σ_k w[o·K + k] · src[start[o] + k] / 255, k < count[o].
 */
export function image_resample_h(
  src: usize, stride: i32, srcC: i32, r0: i32, r1: i32,
  OW: i32, start: usize, count: usize, weights: usize, K: i32, dst: usize,
): void {
  const k255 = f32x4.splat(255);
  let out = dst;
  for (let r = r0; r < r1; r++) {
    const row = src + <usize>r * <usize>stride;
    for (let o = 0; o < OW; o++) {
      const s = load<i32>(start + (<usize>o << 2));
      const n = load<i32>(count + (<usize>o << 2));
      const w = weights + (<usize>(o * K) << 2);
      let acc = f32x4.splat(0);
      if (n > 0) {
        acc = f32x4.mul(pixel(row, s, srcC, k255), f32x4.splat(load<f32>(w)));
        for (let k = 1; k < n; k++) {
          acc = f32x4.add(acc, f32x4.mul(pixel(row, s + k, srcC, k255), f32x4.splat(load<f32>(w + (<usize>k << 2)))));
        }
      }
      v128.store(out, acc);
      out += 16;
    }
  }
}

/**
 * Vertical pass, normalisation and NCHW store. src: rows of OW f32x4 pixels (the horizontal
 * pass's output). Output row o = Σ_k w[o·K + k] · src row (start[o] + k), k < count[o]; then
 * grey (gray ≠ 0: 0.2989 r + 0.587 g + 0.114 b, into every lane), (v − mean) / std with
 * mean, std: f32x4 at `mean`, `std`; lanes 0 .. outC−1 go to planes dst + c·OH·OW floats.
 */
export function image_resample_v(
  src: usize, OW: i32, OH: i32, start: usize, count: usize, weights: usize, K: i32,
  gray: i32, mean: usize, std: usize, outC: i32, dst: usize,
): void {
  const rowB = <usize>OW << 4;
  const plane = <usize>OH * <usize>OW << 2;
  const m = v128.load(mean), d = v128.load(std);
  for (let o = 0; o < OH; o++) {
    const s = load<i32>(start + (<usize>o << 2));
    const n = load<i32>(count + (<usize>o << 2));
    const w = weights + (<usize>(o * K) << 2);
    const base = src + <usize>s * rowB;
    let out = dst + (<usize>o * <usize>OW << 2);
    for (let x = 0; x < OW; x++) {
      const p = base + (<usize>x << 4);
      let acc = f32x4.splat(0);
      if (n > 0) {
        acc = f32x4.mul(v128.load(p), f32x4.splat(load<f32>(w)));
        for (let k = 1; k < n; k++) {
          acc = f32x4.add(acc, f32x4.mul(v128.load(p + <usize>k * rowB), f32x4.splat(load<f32>(w + (<usize>k << 2)))));
        }
      }
      if (gray != 0) {
        const l: f32 =
          <f32>0.2989 * f32x4.extract_lane(acc, 0) + <f32>0.587 * f32x4.extract_lane(acc, 1) + <f32>0.114 * f32x4.extract_lane(acc, 2);
        acc = f32x4.splat(l);
      }
      acc = f32x4.div(f32x4.sub(acc, m), d);
      store<f32>(out, f32x4.extract_lane(acc, 0));
      if (outC > 1) {
        store<f32>(out + plane, f32x4.extract_lane(acc, 1));
        store<f32>(out + plane * 2, f32x4.extract_lane(acc, 2));
      }
      out += 4;
    }
  }
}
