// Scalar reference for image.ts (image_resample_h / image_resample_v): the same tables evaluated
// one channel at a time with plain f32 loops, in the kernels' order (x / 255, taps k = 0..count−1,
// then grey, then (x − mean) / std), so results must match bit for bit.

/** Source value of channel ch (0..3) at pixel x of an 8-bit row with srcC channels, in [0, 1]. */
function px(row: usize, x: i32, srcC: i32, ch: i32): f32 {
  if (srcC == 1) return <f32>load<u8>(row + <usize>x) / <f32>255;
  if (ch == 3 && srcC == 3) return 0;
  return <f32>load<u8>(row + <usize>(x * srcC + ch)) / <f32>255;
}

/**
 * The whole preprocessing of a W-wide, srcC-channel 8-bit image (rows `stride` bytes apart):
 * rows r0.. feed the vertical table (its starts are relative to r0), columns by the horizontal
 * table; output outC planes of OH × OW floats at dst.
 */
export function imageRef(
  src: usize, stride: i32, srcC: i32, r0: i32,
  OW: i32, hs: usize, hc: usize, hw: usize, HK: i32,
  OH: i32, vs: usize, vc: usize, vw: usize, VK: i32,
  gray: i32, mean: usize, std: usize, outC: i32, dst: usize,
): void {
  const v = new StaticArray<f32>(4);
  for (let o = 0; o < OH; o++) {
    for (let x = 0; x < OW; x++) {
      const ys = load<i32>(vs + (<usize>o << 2)), yn = load<i32>(vc + (<usize>o << 2));
      const xs = load<i32>(hs + (<usize>x << 2)), xn = load<i32>(hc + (<usize>x << 2));
      for (let ch = 0; ch < 4; ch++) {
        let acc: f32 = 0;
        for (let k = 0; k < yn; k++) {
          const row = src + <usize>(r0 + ys + k) * <usize>stride;
          let h: f32 = 0;
          for (let j = 0; j < xn; j++) {
            const t = px(row, xs + j, srcC, ch) * load<f32>(hw + (<usize>(x * HK + j) << 2));
            h = j == 0 ? t : h + t;
          }
          const t = h * load<f32>(vw + (<usize>(o * VK + k) << 2));
          acc = k == 0 ? t : acc + t;
        }
        v[ch] = acc;
      }
      if (gray != 0) {
        const l: f32 = <f32>0.2989 * v[0] + <f32>0.587 * v[1] + <f32>0.114 * v[2];
        for (let ch = 0; ch < 4; ch++) v[ch] = l;
      }
      for (let c = 0; c < outC; c++) {
        const r = (v[c] - load<f32>(mean + (<usize>c << 2))) / load<f32>(std + (<usize>c << 2));
        store<f32>(dst + (<usize>((c * OH + o) * OW + x) << 2), r);
      }
    }
  }
}
