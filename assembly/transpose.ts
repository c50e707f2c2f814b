// The 2-D f32 transpose shared by layout.ts's copy_nd_f32 and detect.ts's roi_align_f32: 4x4
// tiles moved through registers with the classic unpack-lo/hi transpose (two rounds of
// interleaving shuffles), special cases for two and three interleaved planes. Not a wasm export
// (index.ts does not re-export this module).

/** dst[i*dP + j] = src[i + j*sL] for i < np, j < nl (byte strides dPb, sLb), 4x4 register tiles. */
export function transpose2d(dst: usize, src: usize, np: i32, nl: i32, dPb: usize, sLb: usize): void {
  if (nl == 2 && dPb == 8) {
    // two sources interleaved into a dense row (ShuffleNet's 2-group channel shuffle)
    let i = 0;
    for (; i + 4 <= np; i += 4) {
      const a = v128.load(src + (<usize>i << 2)), b = v128.load(src + sLb + (<usize>i << 2));
      v128.store(dst + (<usize>i << 3), v128.shuffle<f32>(a, b, 0, 4, 1, 5));
      v128.store(dst + (<usize>i << 3), v128.shuffle<f32>(a, b, 2, 6, 3, 7), 16);
    }
    for (; i < np; i++) {
      store<f32>(dst + (<usize>i << 3), load<f32>(src + (<usize>i << 2)));
      store<f32>(dst + (<usize>i << 3), load<f32>(src + sLb + (<usize>i << 2)), 4);
    }
    return;
  }
  if (nl == 3 && dPb == 12) {
    // three planes interleaved into a dense row (an RGB image, NCHW -> NHWC): 4 pixels per step
    let i = 0;
    for (; i + 4 <= np; i += 4) {
      const ps = src + (<usize>i << 2), pd = dst + <usize>i * 12;
      const r = v128.load(ps), g = v128.load(ps + sLb), b = v128.load(ps + (sLb << 1));
      const rg01 = v128.shuffle<f32>(r, g, 0, 4, 1, 5); // r0 g0 r1 g1
      const rg23 = v128.shuffle<f32>(r, g, 2, 6, 3, 7); // r2 g2 r3 g3
      const gb1 = v128.shuffle<f32>(g, b, 1, 5, 1, 5); // g1 b1 g1 b1
      v128.store(pd, v128.shuffle<f32>(rg01, b, 0, 1, 4, 2)); // r0 g0 b0 r1
      v128.store(pd, v128.shuffle<f32>(gb1, rg23, 0, 1, 4, 5), 16); // g1 b1 r2 g2
      v128.store(pd, v128.shuffle<f32>(rg23, b, 6, 2, 3, 7), 32); // b2 r3 g3 b3
    }
    for (; i < np; i++) {
      for (let j = 0; j < 3; j++) store<f32>(dst + <usize>i * 12 + (<usize>j << 2), load<f32>(src + (<usize>i << 2) + <usize>j * sLb));
    }
    return;
  }
  const np4 = np & ~3;
  const nl4 = nl & ~3;
  // column blocks of 16 dst floats (one cache line per dst row), then 4
  let j0 = 0;
  while (j0 < nl4) {
    const jb = nl4 - j0 >= 16 ? 16 : 4;
    for (let i = 0; i < np4; i += 4) {
      const ps = src + (<usize>i << 2);
      const pd = dst + <usize>i * dPb;
      for (let j = j0; j < j0 + jb; j += 4) {
        const s = ps + <usize>j * sLb;
        const v0 = v128.load(s);
        const v1 = v128.load(s + sLb);
        const v2 = v128.load(s + 2 * sLb);
        const v3 = v128.load(s + 3 * sLb);
        const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
        const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
        const d = pd + (<usize>j << 2);
        v128.store(d, v128.shuffle<i64>(t0, t2, 0, 2));
        v128.store(d + dPb, v128.shuffle<i64>(t0, t2, 1, 3));
        v128.store(d + 2 * dPb, v128.shuffle<i64>(t1, t3, 0, 2));
        v128.store(d + 3 * dPb, v128.shuffle<i64>(t1, t3, 1, 3));
      }
    }
    // leftover rows i in [np4, np) for these columns
    for (let i = np4; i < np; i++) {
      for (let j = j0; j < j0 + jb; j++) {
        store<f32>(dst + <usize>i * dPb + (<usize>j << 2), load<f32>(src + (<usize>i << 2) + <usize>j * sLb));
      }
    }
    j0 += jb;
  }
  // leftover columns
  for (let j = nl4; j < nl; j++) {
    for (let i = 0; i < np; i++) {
      store<f32>(dst + <usize>i * dPb + (<usize>j << 2), load<f32>(src + (<usize>i << 2) + <usize>j * sLb));
    }
  }
}
