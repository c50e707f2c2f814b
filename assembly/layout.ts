// Data-movement kernels: general strided N-d copy (transpose, NCHW<->NHWC, slice, concat
// pieces, channel shuffle) and N-d padding (ONNX Pad, opset 11+: constant / reflect / edge;
// reflect like numpy.pad mode 'reflect', edge not repeated).
// The 2-D transpose fast path is transpose.ts's transpose2d.
//
// Leaf functions: byte pointers, i32 arrays in memory for shapes/strides (strides in floats),
// no allocation. dst and src never overlap.

import { PAD_CONSTANT, PAD_EDGE } from './codes';
import { transpose2d } from './transpose';

// Normalised copy space: up to 6 dims, padded at the front with size 1 / stride 0.
const CP_SHAPE: usize = memory.data(96, 16);
const CP_SD: usize = CP_SHAPE + 32;
const CP_SS: usize = CP_SHAPE + 64;
// pad_nd scratch: index odometer + dense input strides
const PD_IDX: usize = memory.data(64, 16);
const PD_IST: usize = PD_IDX + 32;

// @ts-ignore: decorator
@inline function geti(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function seti(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }

/**
 * Copies rank dims of shape/s1/s2 (i32 arrays) into oShape/o1/o2, dropping size-1 dims and
 * merging neighbours that are contiguous for both stride sets. Returns the merged rank (1 for a
 * single element), or 0 when some dim is 0 (empty). Shared by copy_nd and binary_prepare.
 */
export function mergeDims(rank: i32, shape: usize, s1: usize, s2: usize, oShape: usize, o1: usize, o2: usize): i32 {
  let n = 0;
  for (let d = 0; d < rank; d++) {
    const s = geti(shape, d);
    if (s == 0) return 0;
    if (s == 1) continue;
    const a = geti(s1, d);
    const b = geti(s2, d);
    if (n > 0 && geti(o1, n - 1) == a * s && geti(o2, n - 1) == b * s) {
      seti(oShape, n - 1, geti(oShape, n - 1) * s);
      seti(o1, n - 1, a);
      seti(o2, n - 1, b);
    } else {
      seti(oShape, n, s);
      seti(o1, n, a);
      seti(o2, n, b);
      n++;
    }
  }
  if (n == 0) {
    seti(oShape, 0, 1); seti(o1, 0, 0); seti(o2, 0, 0);
    n = 1;
  }
  return n;
}

/** Moves dim `from` to position `to` (shifting the dims in between). */
function cpMove(from: i32, to: i32): void {
  if (from == to) return;
  const s = geti(CP_SHAPE, from), a = geti(CP_SD, from), b = geti(CP_SS, from);
  if (from < to) {
    for (let d = from; d < to; d++) {
      seti(CP_SHAPE, d, geti(CP_SHAPE, d + 1)); seti(CP_SD, d, geti(CP_SD, d + 1)); seti(CP_SS, d, geti(CP_SS, d + 1));
    }
  } else {
    for (let d = from; d > to; d--) {
      seti(CP_SHAPE, d, geti(CP_SHAPE, d - 1)); seti(CP_SD, d, geti(CP_SD, d - 1)); seti(CP_SS, d, geti(CP_SS, d - 1));
    }
  }
  seti(CP_SHAPE, to, s); seti(CP_SD, to, a); seti(CP_SS, to, b);
}

/** Pads the normalised n dims at the front to 6. */
function cpPad6(n: i32): void {
  const pad = 6 - n;
  for (let d = n - 1; d >= 0; d--) {
    seti(CP_SHAPE, d + pad, geti(CP_SHAPE, d)); seti(CP_SD, d + pad, geti(CP_SD, d)); seti(CP_SS, d + pad, geti(CP_SS, d));
  }
  for (let d = 0; d < pad; d++) {
    seti(CP_SHAPE, d, 1); seti(CP_SD, d, 0); seti(CP_SS, d, 0);
  }
}

// @ts-ignore: decorator
@inline const K_CONTIG: i32 = 0; // innermost contiguous on both sides: row copy
// @ts-ignore: decorator
@inline const K_TRANS: i32 = 1; // last two dims: src stride 1 on dim 4, dst stride 1 on dim 5
// @ts-ignore: decorator
@inline const K_GEN: i32 = 2; // scalar strided


/** General strided copy: dst[sum i_d dstStrides_d] = src[sum i_d srcStrides_d] over shape[0..rank). */
export function copy_nd_f32(dst: usize, src: usize, rank: i32, shape: usize, dstStrides: usize, srcStrides: usize): void {
  const n = mergeDims(rank, shape, dstStrides, srcStrides, CP_SHAPE, CP_SD, CP_SS);
  if (n == 0) return;
  // pick the kernel and bring its dims to the end
  let kind = K_GEN;
  let both = -1, pd = -1, ps = -1;
  for (let d = n - 1; d >= 0; d--) {
    const a = geti(CP_SD, d), b = geti(CP_SS, d);
    if (a == 1 && b == 1) { if (both < 0) both = d; }
    else if (a == 1) { if (pd < 0) pd = d; }
    else if (b == 1) { if (ps < 0) ps = d; }
  }
  if (both >= 0) {
    cpMove(both, n - 1);
    kind = K_CONTIG;
  } else if (pd >= 0 && ps >= 0) {
    cpMove(pd, n - 1);
    // ps may have shifted by the first move
    const ps2 = ps > pd ? ps - 1 : ps;
    cpMove(ps2, n - 2);
    kind = K_TRANS;
  } else if (pd >= 0) {
    cpMove(pd, n - 1);
  } else if (ps >= 0) {
    cpMove(ps, n - 1);
  }
  // pad to 6 dims: the kernel's dims are 4 and 5, dims 0..3 are outer loops
  cpPad6(n);
  const n0 = geti(CP_SHAPE, 0), n1 = geti(CP_SHAPE, 1), n2 = geti(CP_SHAPE, 2), n3 = geti(CP_SHAPE, 3);
  const n4 = geti(CP_SHAPE, 4), n5 = geti(CP_SHAPE, 5);
  const d0 = <usize>geti(CP_SD, 0) << 2, d1 = <usize>geti(CP_SD, 1) << 2, d2 = <usize>geti(CP_SD, 2) << 2;
  const d3 = <usize>geti(CP_SD, 3) << 2, d4 = <usize>geti(CP_SD, 4) << 2, d5 = <usize>geti(CP_SD, 5) << 2;
  const s0 = <usize>geti(CP_SS, 0) << 2, s1 = <usize>geti(CP_SS, 1) << 2, s2 = <usize>geti(CP_SS, 2) << 2;
  const s3 = <usize>geti(CP_SS, 3) << 2, s4 = <usize>geti(CP_SS, 4) << 2, s5 = <usize>geti(CP_SS, 5) << 2;
  const rowBytes = <usize>n5 << 2;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        for (let i3 = 0; i3 < n3; i3++) {
          const pd3 = dst + <usize>i0 * d0 + <usize>i1 * d1 + <usize>i2 * d2 + <usize>i3 * d3;
          const ps3 = src + <usize>i0 * s0 + <usize>i1 * s1 + <usize>i2 * s2 + <usize>i3 * s3;
          if (kind == K_TRANS) {
            transpose2d(pd3, ps3, n4, n5, d4, s5);
          } else if (kind == K_CONTIG) {
            for (let i4 = 0; i4 < n4; i4++) {
              memory.copy(pd3 + <usize>i4 * d4, ps3 + <usize>i4 * s4, rowBytes);
            }
          } else {
            for (let i4 = 0; i4 < n4; i4++) {
              const pd4 = pd3 + <usize>i4 * d4;
              const ps4 = ps3 + <usize>i4 * s4;
              for (let i5 = 0; i5 < n5; i5++) {
                store<f32>(pd4 + <usize>i5 * d5, load<f32>(ps4 + <usize>i5 * s5));
              }
            }
          }
        }
      }
    }
  }
}

// ============================================================================================
// Pad
// ============================================================================================


/** Source index for out-of-range i in a dim of size n (reflect or edge); i in range maps to itself. */
// @ts-ignore: decorator
@inline function padMap(i: i32, n: i32, mode: i32): i32 {
  if (i >= 0 && i < n) return i;
  if (mode == PAD_EDGE) return i < 0 ? 0 : n - 1;
  // reflect without repeating the edge, periodic with period 2(n-1)
  if (n == 1) return 0;
  const period = 2 * (n - 1);
  let k = i % period;
  if (k < 0) k += period;
  return k < n ? k : period - k;
}

/** N-d pad/crop: dense dst of outShape from dense src of inShape; out index i_d reads src index
 *  i_d - padBegin_d; outside: PAD_CONSTANT value, PAD_REFLECT (numpy 'reflect'), PAD_EDGE. */
export function pad_nd_f32(dst: usize, src: usize, rank: i32, outShape: usize, inShape: usize, padBegin: usize, mode: i32, value: f32): void {
  if (rank <= 0) return;
  const L = rank - 1;
  let rows = 1;
  for (let d = 0; d < L; d++) rows *= geti(outShape, d);
  for (let d = 0; d < rank; d++) if (geti(outShape, d) == 0) return;
  let st = 1;
  for (let d = L; d >= 0; d--) {
    seti(PD_IST, d, st);
    st *= geti(inShape, d);
    seti(PD_IDX, d, 0);
  }
  const empty = st == 0;
  const on = geti(outShape, L);
  const inn = geti(inShape, L);
  const pb = geti(padBegin, L);
  // inner range copied straight: j in [jlo, jhi)
  let jlo = max(pb, 0);
  let jhi = min(on, pb + inn);
  if (jhi < jlo) { jlo = 0; jhi = 0; }
  const vv = f32x4.splat(value);
  let po = dst;
  const rowBytes = <usize>on << 2;
  for (let r = 0; r < rows; r++) {
    // source row offset
    let outside = empty;
    let off: usize = 0;
    for (let d = 0; d < L; d++) {
      const n = geti(inShape, d);
      let i = geti(PD_IDX, d) - geti(padBegin, d);
      if (i < 0 || i >= n) {
        if (mode == PAD_CONSTANT) { outside = true; break; }
        i = padMap(i, n, mode);
      }
      off += <usize>i * <usize>geti(PD_IST, d);
    }
    if (outside || (mode == PAD_CONSTANT && jhi == jlo) || inn == 0) {
      let j = 0;
      for (; j + 4 <= on; j += 4) v128.store(po + (<usize>j << 2), vv);
      for (; j < on; j++) store<f32>(po + (<usize>j << 2), value);
    } else {
      const ps = src + (off << 2);
      if (mode == PAD_CONSTANT) {
        let j = 0;
        for (; j + 4 <= jlo; j += 4) v128.store(po + (<usize>j << 2), vv);
        for (; j < jlo; j++) store<f32>(po + (<usize>j << 2), value);
        j = jhi;
        for (; j + 4 <= on; j += 4) v128.store(po + (<usize>j << 2), vv);
        for (; j < on; j++) store<f32>(po + (<usize>j << 2), value);
      } else {
        for (let j = 0; j < jlo; j++) store<f32>(po + (<usize>j << 2), load<f32>(ps + (<usize>padMap(j - pb, inn, mode) << 2)));
        for (let j = jhi; j < on; j++) store<f32>(po + (<usize>j << 2), load<f32>(ps + (<usize>padMap(j - pb, inn, mode) << 2)));
      }
      if (jhi > jlo) memory.copy(po + (<usize>jlo << 2), ps + (<usize>(jlo - pb) << 2), <usize>(jhi - jlo) << 2);
    }
    po += rowBytes;
    // advance the odometer over dims 0..L-1
    for (let d = L - 1; d >= 0; d--) {
      const v = geti(PD_IDX, d) + 1;
      if (v < geti(outShape, d)) { seti(PD_IDX, d, v); break; }
      seti(PD_IDX, d, 0);
    }
  }
}
