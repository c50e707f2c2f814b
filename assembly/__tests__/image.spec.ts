// Specs for image.ts (image_resample_h → image_resample_v: 8-bit pixels to resized, cropped,
// normalised NCHW floats) against the scalar reference in image_ref.ts, bit for bit: odd sizes,
// 1/3/4 source channels, grey output from colour, 1-channel output, windows of 1 (nearest) to 9
// taps (antialiased downsampling), empty windows (padding), row ranges not starting at 0.
import { image_resample_h, image_resample_v } from '../image';
import { imageRef } from './image_ref';
import { countBitDiffs, fill, floats, resetArena } from './gemm_ref';

const SENTINEL: f32 = 777.25;
let seed: u32 = 12345;

function rnd(): u32 {
  seed = seed * 1664525 + 1013904223;
  return seed >> 8;
}

/** n entries of a random table over `size` inputs: windows of 0..K taps inside the input, random weights. */
function table(n: i32, size: i32, K: i32, start: usize, count: usize, weights: usize): void {
  for (let o = 0; o < n; o++) {
    let c = <i32>(rnd() % <u32>(K + 1));
    if (o == 0 && K > 0) c = 1;
    if (c > size) c = size;
    const s = <i32>(rnd() % <u32>(size - c + 1));
    store<i32>(start + (<usize>o << 2), s);
    store<i32>(count + (<usize>o << 2), c);
    for (let k = 0; k < K; k++) {
      store<f32>(weights + (<usize>(o * K + k) << 2), k < c ? <f32>(rnd() % 1000) / <f32>997 - <f32>0.2 : 0);
    }
  }
}

function run(W: i32, H: i32, srcC: i32, OW: i32, OH: i32, HK: i32, VK: i32, gray: i32, outC: i32): i32 {
  resetArena();
  const stride = W * srcC + 3; // rows with a gap: the kernel must use the stride
  const srcBytes = stride * H + 4;
  const src = floats((srcBytes + 3) >> 2);
  for (let i = 0; i < srcBytes; i++) store<u8>(src + <usize>i, <u8>(rnd() & 255));
  // rows 2 .. H − 1 feed the vertical pass (starts relative to row 2)
  const r0 = 2, rows = H - 2;
  const hs = floats(OW), hc = floats(OW), hw = floats(OW * HK);
  const vs = floats(OH), vc = floats(OH), vw = floats(OH * VK);
  table(OW, W, HK, hs, hc, hw);
  table(OH, rows, VK, vs, vc, vw);
  const mean = floats(4), std = floats(4);
  for (let c = 0; c < 4; c++) {
    store<f32>(mean + (<usize>c << 2), <f32>0.4 + <f32>c * <f32>0.03);
    store<f32>(std + (<usize>c << 2), <f32>0.2 + <f32>c * <f32>0.01);
  }
  const mid = floats(rows * OW * 4);
  const n = outC * OH * OW;
  const out = floats(n + 1), ref = floats(n + 1);
  fill(out, n + 1, SENTINEL);
  fill(ref, n + 1, SENTINEL);
  image_resample_h(src, stride, srcC, r0, H, OW, hs, hc, hw, HK, mid);
  image_resample_v(mid, OW, OH, vs, vc, vw, VK, gray, mean, std, outC, out);
  imageRef(src, stride, srcC, r0, OW, hs, hc, hw, HK, OH, vs, vc, vw, VK, gray, mean, std, outC, ref);
  return countBitDiffs(out, ref, n + 1);
}

describe('image_resample_h + image_resample_v', () => {
  it('RGBA source, 3 planes, downsampling windows up to 9 taps', () => {
    expect<i32>(run(31, 23, 4, 11, 7, 9, 7, 0, 3)).toBe(0);
  });
  it('RGB source (3 bytes a pixel), odd sizes, upsampling-like 2-tap windows', () => {
    expect<i32>(run(13, 9, 3, 29, 17, 2, 2, 0, 3)).toBe(0);
  });
  it('grey source, replicated to 3 planes', () => {
    expect<i32>(run(17, 11, 1, 9, 13, 3, 4, 0, 3)).toBe(0);
  });
  it('grey source, 1 plane', () => {
    expect<i32>(run(19, 7, 1, 19, 5, 1, 1, 0, 1)).toBe(0);
  });
  it('colour to grey (luma), 1 plane and 3 planes', () => {
    expect<i32>(run(21, 15, 4, 10, 9, 5, 5, 1, 1)).toBe(0);
    expect<i32>(run(21, 15, 3, 10, 9, 5, 5, 1, 3)).toBe(0);
  });
  it('nearest (1-tap windows), one output pixel', () => {
    expect<i32>(run(5, 6, 4, 1, 1, 1, 1, 0, 3)).toBe(0);
  });
});
