// Pixel shuffle and its inverse on NHWC activations: ONNX DepthToSpace (modes DCR and CRD) and
// SpaceToDepth; CRD is PyTorch's pixel_shuffle / pixel_unshuffle, the sub-pixel convolution's
// periodic shuffling of Shi et al. 2016 ("Real-Time Single Image and Video Super-Resolution Using
// an Efficient Sub-Pixel Convolutional Neural Network").
//
// Both directions move the same blocks between a small map [N, H, W, C*r*r] and a large map
// [N, H*r, W*r, C]: large pixel (h*r + i, w*r + j) channel c is small pixel (h, w) channel
//   DCR: (i*r + j)*C + c          CRD: c*r*r + i*r + j
// For one (n, h, i, w) the r large pixels (h*r + i, w*r .. w*r + r - 1) are r*C consecutive
// floats; in DCR they are also r*C consecutive floats of the small pixel (a row copy), in CRD the
// small side holds them as C runs of r floats r*r apart (a [C, r] <-> [r, C] transpose, a plain
// copy when C == 1, the usual super-resolution output).
//
// Leaf functions: byte pointers, dense buffers, no allocation; dst and src never overlap.

/** Copies n floats from s to d (4 at a time, then the rest). */
// @ts-ignore: decorator
@inline function copyRun(d: usize, s: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(d + (<usize>k << 2), v128.load(s + (<usize>k << 2)));
  for (; k < n; k++) store<f32>(d + (<usize>k << 2), load<f32>(s + (<usize>k << 2)));
}

/**
 * Moves every block between `large` [N, H*r, W*r, C] and `small` [N, H, W, C*r*r]; toLarge
 * chooses the direction (DepthToSpace when true, SpaceToDepth when false).
 */
// @ts-ignore: decorator
@inline function shuffle(large: usize, small: usize, N: i32, H: i32, W: i32, C: i32, r: i32, crd: bool, toLarge: bool): void {
  const run = r * C; // floats of one large row segment of r pixels
  const smallPix = <usize>(run * r) << 2; // bytes of one small pixel
  const rr = r * r;
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      const sRow = small + <usize>(n * H + h) * <usize>W * smallPix;
      for (let i = 0; i < r; i++) {
        const lRow = large + ((<usize>((n * H + h) * r + i) * <usize>W * <usize>run) << 2);
        for (let w = 0; w < W; w++) {
          const l = lRow + (<usize>(w * run) << 2);
          const sp = sRow + <usize>w * smallPix;
          if (!crd || C == 1) {
            // DCR: offset i*r*C; CRD with one channel: offset i*r (the same number)
            const s = sp + (<usize>(i * run) << 2);
            if (toLarge) copyRun(l, s, run);
            else copyRun(s, l, run);
          } else {
            // CRD: large (j, c) <-> small c*r*r + i*r + j
            const s0 = sp + (<usize>(i * r) << 2);
            for (let j = 0; j < r; j++) {
              const lj = l + (<usize>(j * C) << 2);
              const sj = s0 + (<usize>j << 2);
              if (toLarge) for (let c = 0; c < C; c++) store<f32>(lj + (<usize>c << 2), load<f32>(sj + (<usize>(c * rr) << 2)));
              else for (let c = 0; c < C; c++) store<f32>(sj + (<usize>(c * rr) << 2), load<f32>(lj + (<usize>c << 2)));
            }
          }
        }
      }
    }
  }
}

/**
 * DepthToSpace / pixel shuffle: src [N, H, W, C*r*r] NHWC -> dst [N, H*r, W*r, C] NHWC, channel
 * order DCR (crd = 0, ONNX's default) or CRD (crd = 1, torch.nn.PixelShuffle).
 */
export function depth_to_space_f32(dst: usize, src: usize, N: i32, H: i32, W: i32, C: i32, r: i32, crd: i32): void {
  shuffle(dst, src, N, H, W, C, r, crd != 0, true);
}

/**
 * SpaceToDepth / pixel unshuffle: src [N, H*r, W*r, C] NHWC -> dst [N, H, W, C*r*r] NHWC (H, W:
 * the output's size), channel order DCR (crd = 0, ONNX SpaceToDepth) or CRD (crd = 1,
 * torch.nn.PixelUnshuffle).
 */
export function space_to_depth_f32(dst: usize, src: usize, N: i32, H: i32, W: i32, C: i32, r: i32, crd: i32): void {
  shuffle(src, dst, N, H, W, C, r, crd != 0, false);
}
