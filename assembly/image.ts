// Image preprocessing for CNN inputs: 8-bit pixels → resized, center-cropped, normalised NCHW
// floats, the way torchvision prepares a tensor: to_tensor (x / 255), Resize (PyTorch's
// interpolate, bilinear or bicubic with or without antialias, or legacy nearest), CenterCrop (zero padding
// where the crop is larger), optional Grayscale (ITU-R 601-2 luma, 0.2989 / 0.587 / 0.114),
// Normalize ((x − mean) / std).
//
// Resampling is separable (horizontal pass, then vertical, as PyTorch's antialiased kernel
// orders them). The host turns every coordinate rule into one table per axis: output index o
// reads `count[o]` consecutive inputs from `start[o]` with weights `weights[o·K .. o·K+count)`
// (K = the widest window on that axis). Antialiased bilinear is the triangle filter whose support
// grows with the downsampling factor (PIL / torch `antialias=True`), antialiased bicubic the same
// with Keys' cubic kernel (a = −0.5); plain bilinear is a 2-tap window, plain bicubic a window of
// up to 4 taps (a = −0.75, border taps merged); nearest a 1-tap window of weight 1. K has no
// fixed limit (antialiased windows widen with the factor). A crop position outside the resized image has
// count 0 (value 0 before normalisation, as torchvision's zero padding).
//
// Every pixel travels as one f32x4 ([r, g, b, a|junk] or a grey value in every lane), so both
// passes are SIMD over the channels and the vertical pass reads whole rows. The passes work on
// the 0..255 sample values and the vertical pass divides by 255 before normalising: the same
// result as torchvision's divide-first order up to float rounding (~1e-7 relative), without a
// division per tap. The horizontal pass visits only the source rows some vertical window reads.

const INV_LANE3: i32 = 0x00ffffff;

/** Pixel x of an 8-bit row with `srcC` (1, 3 or 4) interleaved channels, as f32x4 (0..255). */
// @ts-ignore: decorator
@inline function pixel(row: usize, x: i32, srcC: i32): v128 {
  let v: v128;
  if (srcC == 1) {
    v = v128.load8_splat(row + <usize>x);
  } else {
    // 3 channels: the 4th byte is the next pixel's (the host pads the buffer), masked off
    v = v128.load32_zero(row + <usize>(x * srcC));
    if (srcC == 3) v = v128.and(v, i32x4.splat(INV_LANE3));
  }
  return f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v)));
}

/**
 * Horizontal pass. For the nRows source rows listed (i32 row indices at `rows`) of an 8-bit
 * image (`srcC` channels, rows `stride` bytes apart) writes OW pixels per row as f32x4 to dst
 * (the i-th listed row at dst + i·OW·16): pixel o = Σ_k w[o·K + k] · src[start[o] + k],
 * k < count[o], in sample units (0..255).
 */
export function image_resample_h(
  src: usize, stride: i32, srcC: i32, rows: usize, nRows: i32,
  OW: i32, start: usize, count: usize, weights: usize, K: i32, dst: usize,
): void {
  let out = dst;
  for (let i = 0; i < nRows; i++) {
    const row = src + <usize>load<i32>(rows + (<usize>i << 2)) * <usize>stride;
    for (let o = 0; o < OW; o++) {
      const s = load<i32>(start + (<usize>o << 2));
      const n = load<i32>(count + (<usize>o << 2));
      const w = weights + (<usize>(o * K) << 2);
      let acc = f32x4.splat(0);
      if (n > 0) {
        acc = f32x4.mul(pixel(row, s, srcC), f32x4.splat(load<f32>(w)));
        for (let k = 1; k < n; k++) {
          acc = f32x4.add(acc, f32x4.mul(pixel(row, s + k, srcC), f32x4.splat(load<f32>(w + (<usize>k << 2)))));
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
 * v / 255, grey (gray ≠ 0: 0.2989 r + 0.587 g + 0.114 b, into every lane), (v − mean) / std with
 * mean, std: f32x4 at `mean`, `std`; lanes 0 .. outC−1 go to planes dst + c·OH·OW floats.
 */
export function image_resample_v(
  src: usize, OW: i32, OH: i32, start: usize, count: usize, weights: usize, K: i32,
  gray: i32, mean: usize, std: usize, outC: i32, dst: usize,
): void {
  const rowB = <usize>OW << 4;
  const plane = <usize>OH * <usize>OW << 2;
  const m = v128.load(mean), d = v128.load(std);
  const k255 = f32x4.splat(255);
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
      acc = f32x4.div(acc, k255);
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
