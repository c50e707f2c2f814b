/// <reference types="@as-pect/assembly/types/as-pect" />
// shuffle.ts: depth_to_space_f32 and space_to_depth_f32 (DCR and CRD) against an index-by-index
// scalar reference of the ONNX definitions (exact): odd H and W, channel counts 1 (the plain copy
// path), 2, 3, 5 and 6 (remainders of the 4-float runs), block sizes 1 to 4, batch 1 and 2; writes
// stay inside the output (sentinels after it); unshuffle undoes shuffle.
import { depth_to_space_f32, space_to_depth_f32 } from '../shuffle';

// @ts-ignore: decorator
@inline function P(a: StaticArray<f32>): usize { return changetype<usize>(a); }
const SENT: f32 = -777.5;
const PAD = 5;

/** Index into the small map [N, H, W, C*r*r] of large pixel (n, y, x) channel c. */
function smallIndex(n: i32, y: i32, x: i32, c: i32, H: i32, W: i32, C: i32, r: i32, crd: bool): i32 {
  const h = y / r, i = y % r, w = x / r, j = x % r;
  const ch = crd ? c * r * r + i * r + j : (i * r + j) * C + c;
  return ((n * H + h) * W + w) * (C * r * r) + ch;
}

/** Mismatches of one shape and mode, both directions, plus the round trip. */
function check(N: i32, H: i32, W: i32, C: i32, r: i32, crd: bool): i32 {
  const total = N * H * W * C * r * r;
  const small = new StaticArray<f32>(total + PAD);
  const large = new StaticArray<f32>(total + PAD);
  const back = new StaticArray<f32>(total + PAD);
  for (let i = 0; i < total; i++) small[i] = <f32>i + 0.25;
  for (let i = 0; i < total + PAD; i++) { large[i] = SENT; back[i] = SENT; }
  for (let i = total; i < total + PAD; i++) small[i] = SENT;
  depth_to_space_f32(P(large), P(small), N, H, W, C, r, crd ? 1 : 0);
  let bad = 0;
  const LH = H * r, LW = W * r;
  for (let n = 0; n < N; n++) for (let y = 0; y < LH; y++) for (let x = 0; x < LW; x++) for (let c = 0; c < C; c++) {
    const got = large[((n * LH + y) * LW + x) * C + c];
    if (got != small[smallIndex(n, y, x, c, H, W, C, r, crd)]) bad++;
  }
  for (let i = total; i < total + PAD; i++) if (large[i] != SENT) bad++;
  // the inverse from an independent large map: every value lands where the reference says
  for (let i = 0; i < total; i++) { const v: i32 = 3 * i; large[i] = <f32>v - 1.5; }
  space_to_depth_f32(P(back), P(large), N, H, W, C, r, crd ? 1 : 0);
  for (let n = 0; n < N; n++) for (let y = 0; y < LH; y++) for (let x = 0; x < LW; x++) for (let c = 0; c < C; c++) {
    if (back[smallIndex(n, y, x, c, H, W, C, r, crd)] != large[((n * LH + y) * LW + x) * C + c]) bad++;
  }
  for (let i = total; i < total + PAD; i++) if (back[i] != SENT) bad++;
  // round trip: shuffling back gives the large map again
  const again = new StaticArray<f32>(total + PAD);
  depth_to_space_f32(P(again), P(back), N, H, W, C, r, crd ? 1 : 0);
  for (let i = 0; i < total; i++) if (again[i] != large[i]) bad++;
  return bad;
}

describe('depth_to_space_f32 / space_to_depth_f32', () => {
  it('DCR (ONNX default): odd sizes, channels 1-6, block sizes 1-4, batch 1 and 2', () => {
    const Cs: i32[] = [1, 2, 3, 5, 6];
    for (let r = 1; r <= 4; r++) for (let t = 0; t < Cs.length; t++) {
      expect<i32>(check(1, 3, 5, Cs[t], r, false)).toBe(0);
      expect<i32>(check(2, 5, 3, Cs[t], r, false)).toBe(0);
    }
  });
  it('CRD (torch pixel_shuffle): odd sizes, channels 1-6, block sizes 1-4, batch 1 and 2', () => {
    const Cs: i32[] = [1, 2, 3, 5, 6];
    for (let r = 1; r <= 4; r++) for (let t = 0; t < Cs.length; t++) {
      expect<i32>(check(1, 3, 5, Cs[t], r, true)).toBe(0);
      expect<i32>(check(2, 5, 3, Cs[t], r, true)).toBe(0);
    }
  });
  it('one pixel and one row (W = 1, H = 1), and a 17x13 map at r = 3', () => {
    expect<i32>(check(1, 1, 1, 3, 2, true)).toBe(0);
    expect<i32>(check(1, 7, 1, 2, 3, false)).toBe(0);
    expect<i32>(check(1, 1, 9, 5, 4, true)).toBe(0);
    expect<i32>(check(1, 17, 13, 1, 3, true)).toBe(0);
    expect<i32>(check(1, 17, 13, 3, 3, false)).toBe(0);
  });
});
