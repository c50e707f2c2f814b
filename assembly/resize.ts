import { loadPart, storePart } from './window';
// Resize / Upsample (ONNX Resize opsets 10-19 and Upsample 7/9; PyTorch F.interpolate nearest
// and bilinear with align_corners true/false), NHWC, vectorised over channels.
//
// The host resolves every coordinate rule (coordinate_transformation_mode, nearest_mode,
// scales vs sizes, clamping at the borders) at plan time into one table per spatial axis,
// stored in the weights region. Entry o (output row or column) is three 32-bit words:
//   [i0: i32][i1: i32][w: f32]   source = x[i0] + (x[i1] − x[i0])·w
// with i0, i1 already clamped into the input. Nearest mode reads x[i0] only (i1, w unused).
// The kernel is a gather (nearest) or a 4-tap lerp (bilinear, horizontal then vertical).
const ENTRY: usize = 12;

@inline function lerp(a: v128, b: v128, w: v128): v128 {
  return f32x4.add(a, f32x4.mul(f32x4.sub(b, a), w));
}

/**
 * output (N, OH, OW, C) from input (N, H, W, C), both dense NHWC. tabY: OH entries, tabX: OW
 * entries (see header). linear: 0 nearest, 1 bilinear.
 */
export function resize_f32(
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  input: usize, output: usize, tabY: usize, tabX: usize, linear: i32,
): void {
  const pixB = <usize>C << 2;
  const rowB = <usize>W * pixB;
  const full = C & ~3;
  const rem = C & 3;
  let out = output;
  for (let n = 0; n < N; n++) {
    const img = input + <usize>n * <usize>H * rowB;
    for (let oh = 0; oh < OH; oh++) {
      const ty = tabY + <usize>oh * ENTRY;
      const r0 = img + <usize>load<i32>(ty) * rowB;
      if (linear == 0) {
        for (let ow = 0; ow < OW; ow++) {
          const src = r0 + <usize>load<i32>(tabX + <usize>ow * ENTRY) * pixB;
          let c = 0;
          for (; c + 8 <= full; c += 8) {
            const o = <usize>c << 2;
            v128.store(out + o, v128.load(src + o));
            v128.store(out + o, v128.load(src + o, 16), 16);
          }
          for (; c < full; c += 4) v128.store(out + (<usize>c << 2), v128.load(src + (<usize>c << 2)));
          if (rem != 0) storePart(out + (<usize>full << 2), loadPart(src + (<usize>full << 2), rem), rem);
          out += pixB;
        }
        continue;
      }
      const r1 = img + <usize>load<i32>(ty, 4) * rowB;
      const wy = f32x4.splat(load<f32>(ty, 8));
      for (let ow = 0; ow < OW; ow++) {
        const tx = tabX + <usize>ow * ENTRY;
        const x0 = <usize>load<i32>(tx) * pixB, x1 = <usize>load<i32>(tx, 4) * pixB;
        const wx = f32x4.splat(load<f32>(tx, 8));
        const a0 = r0 + x0, a1 = r0 + x1, b0 = r1 + x0, b1 = r1 + x1;
        let c = 0;
        for (; c < full; c += 4) {
          const o = <usize>c << 2;
          const top = lerp(v128.load(a0 + o), v128.load(a1 + o), wx);
          const bot = lerp(v128.load(b0 + o), v128.load(b1 + o), wx);
          v128.store(out + o, lerp(top, bot, wy));
        }
        if (rem != 0) {
          const o = <usize>full << 2;
          const top = lerp(loadPart(a0 + o, rem), loadPart(a1 + o, rem), wx);
          const bot = lerp(loadPart(b0 + o, rem), loadPart(b1 + o, rem), wx);
          storePart(out + o, lerp(top, bot, wy), rem);
        }
        out += pixB;
      }
    }
  }
}
