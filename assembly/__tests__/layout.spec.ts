/// <reference types="@as-pect/assembly/types/as-pect" />
// layout.ts: copy_nd_f32 and pad_nd_f32 against index-by-index scalar references (exact).
import { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE } from '../codes';
import { copy_nd_f32, pad_nd_f32 } from '../layout';
import { rnd, resetRnd } from './math_ref';

// @ts-ignore: decorator
@inline function P(a: StaticArray<f32>): usize { return changetype<usize>(a); }
// @ts-ignore: decorator
@inline function PI(a: StaticArray<i32>): usize { return changetype<usize>(a); }
const SENT: f32 = -777.5;

function ia(v: i32[]): StaticArray<i32> {
  const a = new StaticArray<i32>(6);
  for (let i = 0; i < v.length; i++) a[i] = v[i];
  return a;
}

/** Generic copy check: shape with dst/src strides, buffers sized from the max offset. */
function checkCopy(rank: i32, shape: StaticArray<i32>, ds: StaticArray<i32>, ss: StaticArray<i32>, srcOff: i32, dstOff: i32): i32 {
  let dMax = dstOff, sMax = srcOff;
  for (let d = 0; d < rank; d++) { dMax += (shape[d] - 1) * ds[d]; sMax += (shape[d] - 1) * ss[d]; }
  const src = new StaticArray<f32>(sMax + 1);
  const dst = new StaticArray<f32>(dMax + 2);
  for (let i = 0; i < src.length; i++) src[i] = <f32>i + 0.5;
  for (let i = 0; i < dst.length; i++) dst[i] = SENT;
  copy_nd_f32(P(dst) + (<usize>dstOff << 2), P(src) + (<usize>srcOff << 2), rank, PI(shape), PI(ds), PI(ss));
  // reference into a second buffer
  const ref = new StaticArray<f32>(dst.length);
  for (let i = 0; i < ref.length; i++) ref[i] = SENT;
  const idx = new StaticArray<i32>(6);
  let total = 1;
  for (let d = 0; d < rank; d++) total *= shape[d];
  for (let i = 0; i < total; i++) {
    let od = dstOff, os = srcOff;
    for (let d = 0; d < rank; d++) { od += idx[d] * ds[d]; os += idx[d] * ss[d]; }
    ref[od] = src[os];
    for (let d = rank - 1; d >= 0; d--) { idx[d]++; if (idx[d] < shape[d]) break; idx[d] = 0; }
  }
  let bad = 0;
  for (let i = 0; i < dst.length; i++) if (dst[i] != ref[i]) bad++;
  return bad;
}

/** Transpose check: src dense of `inShape`, dst dense of the permuted shape. */
function checkPerm(rank: i32, inShape: StaticArray<i32>, perm: StaticArray<i32>): i32 {
  const inSt = new StaticArray<i32>(6);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) { inSt[d] = s; s *= inShape[d]; }
  const outShape = new StaticArray<i32>(6), ss = new StaticArray<i32>(6), ds = new StaticArray<i32>(6);
  for (let d = 0; d < rank; d++) { outShape[d] = inShape[perm[d]]; ss[d] = inSt[perm[d]]; }
  s = 1;
  for (let d = rank - 1; d >= 0; d--) { ds[d] = s; s *= outShape[d]; }
  return checkCopy(rank, outShape, ds, ss, 0, 0);
}

function nextPerm(p: StaticArray<i32>, n: i32): bool {
  let i = n - 2;
  while (i >= 0 && p[i] >= p[i + 1]) i--;
  if (i < 0) return false;
  let j = n - 1;
  while (p[j] <= p[i]) j--;
  let t = p[i]; p[i] = p[j]; p[j] = t;
  for (let a = i + 1, b = n - 1; a < b; a++, b--) { t = p[a]; p[a] = p[b]; p[b] = t; }
  return true;
}

describe('copy_nd_f32', () => {
  it('every permutation of rank 3 (5x7x3, 4x8x9) and rank 4 (2x5x7x3, 3x4x17x6): exact', () => {
    const shapes3: StaticArray<i32>[] = [ia([5, 7, 3]), ia([4, 8, 9]), ia([1, 13, 6])];
    for (let t = 0; t < shapes3.length; t++) {
      const p = ia([0, 1, 2]);
      do { expect<i32>(checkPerm(3, shapes3[t], p)).toBe(0); } while (nextPerm(p, 3));
    }
    const shapes4: StaticArray<i32>[] = [ia([2, 5, 7, 3]), ia([3, 4, 17, 6]), ia([2, 16, 5, 20])];
    for (let t = 0; t < shapes4.length; t++) {
      const p = ia([0, 1, 2, 3]);
      do { expect<i32>(checkPerm(4, shapes4[t], p)).toBe(0); } while (nextPerm(p, 4));
    }
  });
  it('NCHW <-> NHWC of 2x64x56x56 and odd 1x13x7x9, ranks 5 and 6 permutations', () => {
    expect<i32>(checkPerm(4, ia([2, 64, 56, 56]), ia([0, 2, 3, 1]))).toBe(0); // NCHW -> NHWC
    expect<i32>(checkPerm(4, ia([2, 56, 56, 64]), ia([0, 3, 1, 2]))).toBe(0); // NHWC -> NCHW
    expect<i32>(checkPerm(4, ia([1, 13, 7, 9]), ia([0, 2, 3, 1]))).toBe(0);
    expect<i32>(checkPerm(4, ia([1, 7, 9, 13]), ia([0, 3, 1, 2]))).toBe(0);
    expect<i32>(checkPerm(5, ia([2, 3, 4, 5, 6]), ia([4, 2, 0, 3, 1]))).toBe(0);
    expect<i32>(checkPerm(6, ia([2, 3, 2, 5, 3, 4]), ia([5, 0, 3, 1, 4, 2]))).toBe(0);
    // channel shuffle: [N, HW, g, C/g] -> [N, HW, C/g, g]
    expect<i32>(checkPerm(4, ia([2, 15, 3, 8]), ia([0, 1, 3, 2]))).toBe(0);
    // 2 groups (ShuffleNetV2: the two-plane interleaving path), C/g with and without a remainder of 4
    expect<i32>(checkPerm(4, ia([1, 9, 2, 58]), ia([0, 1, 3, 2]))).toBe(0);
    expect<i32>(checkPerm(4, ia([2, 5, 2, 8]), ia([0, 1, 3, 2]))).toBe(0);
    expect<i32>(checkPerm(3, ia([7, 2, 3]), ia([0, 2, 1]))).toBe(0);
    // 3 planes (an RGB image, NCHW -> NHWC: the interleaving path), pixels with and without a remainder of 4
    expect<i32>(checkPerm(4, ia([2, 3, 5, 7]), ia([0, 2, 3, 1]))).toBe(0);
    expect<i32>(checkPerm(4, ia([1, 3, 4, 8]), ia([0, 2, 3, 1]))).toBe(0);
    expect<i32>(checkPerm(4, ia([1, 3, 224, 224]), ia([0, 2, 3, 1]))).toBe(0);
  });
  it('slices and concat pieces (strided src or dst, offsets), odd sizes', () => {
    // channel slice of NHWC: copy channels [3, 3+5) of a 7x9x13 map into a dense 7x9x5
    expect<i32>(checkCopy(3, ia([7, 9, 5]), ia([45, 5, 1]), ia([117, 13, 1]), 3, 0)).toBe(0);
    // concat piece: dense 7x9x5 into channels [8, 13) of 7x9x13
    expect<i32>(checkCopy(3, ia([7, 9, 5]), ia([117, 13, 1]), ia([45, 5, 1]), 0, 8)).toBe(0);
    // strided spatial slice (step 2) with odd sizes
    expect<i32>(checkCopy(3, ia([3, 4, 3]), ia([12, 3, 1]), ia([2 * 9 * 3 * 2, 6, 1]), 1, 0)).toBe(0);
    // fully general strides (neither side stride 1)
    expect<i32>(checkCopy(2, ia([5, 7]), ia([16, 2]), ia([3, 17]), 0, 1)).toBe(0);
    // broadcast-like source (stride 0) into dense
    expect<i32>(checkCopy(3, ia([3, 5, 7]), ia([35, 7, 1]), ia([0, 7, 1]), 0, 0)).toBe(0);
    // all dims 1, rank 1 sizes 1..9
    expect<i32>(checkCopy(3, ia([1, 1, 1]), ia([1, 1, 1]), ia([1, 1, 1]), 0, 0)).toBe(0);
    for (let n = 1; n < 10; n++) expect<i32>(checkCopy(1, ia([n]), ia([1]), ia([1]), 0, 0)).toBe(0);
  });
  it('random shapes/permutations of rank 1..6', () => {
    resetRnd(77);
    const sh = new StaticArray<i32>(6), p = new StaticArray<i32>(6);
    for (let t = 0; t < 150; t++) {
      const rank = 1 + (t % 6);
      for (let d = 0; d < rank; d++) { sh[d] = 1 + <i32>(rnd() * (rank > 4 ? 4 : 9)); p[d] = d; }
      for (let d = rank - 1; d > 0; d--) { const j = <i32>(rnd() * (d + 1)); const tmp = p[d]; p[d] = p[j]; p[j] = tmp; }
      expect<i32>(checkPerm(rank, sh, p)).toBe(0);
    }
  });
});

// ---- pad ----

function reflectIdx(i: i32, n: i32): i32 {
  // numpy 'reflect' by explicit bouncing
  if (n == 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  }
  return i;
}

function checkPad(rank: i32, inShape: StaticArray<i32>, pb: StaticArray<i32>, pe: StaticArray<i32>, mode: i32): i32 {
  const outShape = new StaticArray<i32>(6);
  let nin = 1, nout = 1;
  for (let d = 0; d < rank; d++) { outShape[d] = inShape[d] + pb[d] + pe[d]; nin *= inShape[d]; nout *= outShape[d]; }
  const src = new StaticArray<f32>(nin);
  for (let i = 0; i < nin; i++) src[i] = <f32>i + 0.25;
  const dst = new StaticArray<f32>(nout + 1);
  dst[nout] = SENT;
  pad_nd_f32(P(dst), P(src), rank, PI(outShape), PI(inShape), PI(pb), mode, 9.5);
  const idx = new StaticArray<i32>(6);
  let bad = 0;
  for (let o = 0; o < nout; o++) {
    let off = 0, outside = false;
    for (let d = 0; d < rank; d++) {
      let i = idx[d] - pb[d];
      const n = inShape[d];
      if (i < 0 || i >= n) {
        if (mode == PAD_CONSTANT) outside = true;
        else if (mode == PAD_EDGE) i = i < 0 ? 0 : n - 1;
        else i = reflectIdx(i, n);
      }
      off = off * n + i;
    }
    const ref: f32 = outside ? 9.5 : src[off];
    if (dst[o] != ref) bad++;
    for (let d = rank - 1; d >= 0; d--) { idx[d]++; if (idx[d] < outShape[d]) break; idx[d] = 0; }
  }
  if (dst[nout] != SENT) bad++;
  return bad;
}

describe('pad_nd_f32', () => {
  it('constant / reflect / edge, rank 1..4, odd sizes, asymmetric pads (exact)', () => {
    for (let mode = 0; mode < 3; mode++) {
      expect<i32>(checkPad(1, ia([7]), ia([3]), ia([2]), mode)).toBe(0);
      expect<i32>(checkPad(2, ia([5, 7]), ia([2, 1]), ia([1, 4]), mode)).toBe(0);
      expect<i32>(checkPad(3, ia([3, 5, 9]), ia([1, 2, 0]), ia([2, 0, 5]), mode)).toBe(0);
      expect<i32>(checkPad(4, ia([2, 3, 5, 6]), ia([0, 1, 2, 3]), ia([1, 2, 2, 1]), mode)).toBe(0);
      expect<i32>(checkPad(4, ia([1, 4, 4, 3]), ia([0, 0, 3, 0]), ia([0, 0, 3, 0]), mode)).toBe(0); // NHWC spatial
    }
  });
  it('negative pads crop (alone and mixed with positive pads)', () => {
    for (let mode = 0; mode < 3; mode++) {
      expect<i32>(checkPad(2, ia([6, 9]), ia([-1, -2]), ia([-2, -3]), mode)).toBe(0);
      expect<i32>(checkPad(3, ia([4, 5, 9]), ia([-1, 2, -3]), ia([1, -2, 2]), mode)).toBe(0);
      expect<i32>(checkPad(2, ia([5, 8]), ia([2, -3]), ia([-1, 4]), mode)).toBe(0);
    }
  });
  it('rank 5/6 and the inner dim fully padded / fully cropped', () => {
    for (let mode = 0; mode < 3; mode++) {
      expect<i32>(checkPad(5, ia([2, 2, 3, 2, 3]), ia([1, 0, 1, 0, 2]), ia([0, 1, 1, 1, 1]), mode)).toBe(0);
      expect<i32>(checkPad(6, ia([1, 2, 2, 3, 2, 3]), ia([0, 1, 0, 1, 0, 1]), ia([1, 0, 1, 0, 1, 2]), mode)).toBe(0);
      expect<i32>(checkPad(2, ia([3, 4]), ia([0, -4]), ia([0, 2]), PAD_CONSTANT)).toBe(0);
    }
  });
});
