// Specs for qwinograd.ts (exact integer Winograd F(2x2, 3x3)) against qconv_ref.ts's direct
// scalar int8 conv: bytes must be equal, not within one step. Odd H/W (partial 2x2 tiles), pads 0
// and 1 on each side independently, C and OC not multiples of 2/8/16, uint8 and int8 in and out,
// per-tensor and per-channel scales, ReLU clamps, strided input and output pixels, several tile
// blocks and output chunks, the largest C the kernel takes with the largest |Σ (x − zx)·w|, and
// every split into 2, 3 and 5 parts giving the whole call's bytes; each case through both weight
// forms (stored U from qwino_pack, raw weights transformed in the call from qwino_stream_pack).
import { qwino_pack, qwino_packed_size, qwino_q8, qwino_scratch_size, qwino_stream_pack, qwino_stream_size } from '../qwinograd';
import { floats, resetArena, SPLITS } from './gemm_ref';
import { countByteDiffs, fillBytes, nextRand, randInt } from './qgemm_ref';
import { qconvRef } from './qconv_ref';

const SENTINEL: u8 = 0xa5;
/** Fill modes for x and w: random over the type, or every value at the end that maximises |Σ d·w|. */
const RANDOM: i32 = 0, EXTREME: i32 = 1;

function bytes(n: i32): usize {
  return floats((n + 3) >> 2);
}

function geom(N: i32, H: i32, W: i32, C: i32, inStride: i32, PH: i32, PW: i32, OH: i32, OW: i32): usize {
  const g = bytes(4 * 15);
  const v: i32[] = [N, H, W, C, inStride, 3, 3, 1, 1, PH, PW, 1, 1, OH, OW];
  for (let i = 0; i < 15; i++) store<i32>(g + (<usize>i << 2), v[i]);
  return g;
}

/**
 * One conv (pads: top PT, left PL, bottom PB, right PR) through qwino_q8 vs qconvRef, whole and
 * split, with the stored and the streamed weights; returns the number of wrong bytes (including
 * bytes past OC of an output pixel touched).
 */
function winoCase(
  N: i32, H: i32, W: i32, C: i32, OC: i32, PT: i32, PL: i32, PB: i32, PR: i32, xSigned: bool, zx: i32,
  ySigned: bool, zy: i32, perChannel: bool, relu: bool, mode: i32,
): i32 {
  resetArena();
  const inStride = C + 3, outStride = OC + 2;
  const OH = H + PT + PB - 2, OW = W + PL + PR - 2;
  const g = geom(N, H, W, C, inStride, PT, PL, OH, OW);
  const x = bytes(N * H * W * inStride), w = bytes(OC * C * 9), bias = bytes(4 * OC), scale = bytes(4 * OC);
  if (mode == EXTREME) {
    // d = x − zx = ∓255 everywhere, w = −128: every product is +32640
    memory.fill(x, xSigned ? <u8>(-128) : 0, N * H * W * inStride);
    memory.fill(w, <u8>(-128), OC * C * 9);
  } else {
    fillBytes(x, N * H * W * inStride, xSigned ? -128 : 0, xSigned ? 127 : 255);
    fillBytes(w, OC * C * 9, -128, 127);
  }
  for (let o = 0; o < OC; o++) store<i32>(bias + (<usize>o << 2), randInt(-20000, 20000));
  // scales that spread the outputs over the type's range (the extreme sums over ~200 steps)
  const spread = mode == EXTREME ? 100.0 / (<f64>C * 9.0 * 32640.0) : 60.0 / (Math.sqrt(<f64>(9 * C)) * 11000.0);
  for (let o = 0; o < OC; o++) store<f32>(scale + (<usize>o << 2), <f32>(spread * (0.5 + <f64>(nextRand() % 1000) / 1000.0)));
  const packed = bytes(qwino_packed_size(C, OC)), raw = bytes(qwino_stream_size(C, OC));
  qwino_pack(w, C, OC, packed);
  qwino_stream_pack(w, C, OC, raw);
  const lo = relu ? zy : -1000, hi = 1000;
  const outBytes = N * OH * OW * outStride;
  const y = bytes(outBytes), ref = bytes(N * OH * OW * OC), yp = bytes(outBytes);
  // the stored form's scratch must not be enough for the streamed form's
  expect<bool>(qwino_scratch_size(g, OC, 1) > qwino_scratch_size(g, OC, 0)).toBe(true);
  qconvRef(N, H, W, C, inStride, OC, 1, 3, 3, 1, 1, PT, PL, 1, 1, OH, OW, x, xSigned, zx, w, bias, scale, perChannel, zy, lo, hi, ref, ySigned);
  const xs = xSigned ? 1 : 0, ys = ySigned ? 1 : 0, pc = perChannel ? 1 : 0;
  // one arena for both forms (the largest C's streamed scratch is 1.2 MB a part)
  const scratch = bytes(5 * qwino_scratch_size(g, OC, 1) + 64);
  let bad = 0;
  for (let streamed = 0; streamed < 2; streamed++) {
    const wp = streamed != 0 ? raw : packed;
    const ss = qwino_scratch_size(g, OC, streamed);
    // parts' scratch exactly as sized, then a sentinel-filled guard the call must not write
    const guard = scratch + <usize>(5 * ss);
    memory.fill(guard, SENTINEL, 64);
    memory.fill(y, SENTINEL, outBytes);
    qwino_q8(g, x, xs, zx, wp, streamed, OC, bias, scale, pc, zy, lo, hi, y, outStride, ys, scratch, 0, 0, 1);
    for (let p = 0; p < N * OH * OW; p++) {
      bad += countByteDiffs(y + <usize>(p * outStride), ref + <usize>(p * OC), OC);
      for (let j = OC; j < outStride; j++) if (load<u8>(y + <usize>(p * outStride + j)) != SENTINEL) bad++;
    }
    for (let s = 0; s < SPLITS.length; s++) {
      memory.fill(yp, SENTINEL, outBytes);
      for (let part = 0; part < SPLITS[s]; part++)
        qwino_q8(g, x, xs, zx, wp, streamed, OC, bias, scale, pc, zy, lo, hi, yp, outStride, ys, scratch, 0, part, SPLITS[s]);
      bad += countByteDiffs(yp, y, outBytes);
    }
    for (let j = 0; j < 64; j++) if (load<u8>(guard + <usize>j) != SENTINEL) bad++;
  }
  return bad;
}

describe('qwino_q8 (int8 3x3 conv, exact Winograd F(2x2, 3x3))', () => {
  it('pad 1, odd sizes, uint8 in / out, per-channel scales', () => {
    expect<i32>(winoCase(1, 7, 5, 3, 5, 1, 1, 1, 1, false, 128, false, 3, true, false, RANDOM)).toBe(0);
    expect<i32>(winoCase(2, 5, 9, 13, 19, 1, 1, 1, 1, false, 0, false, 255, true, false, RANDOM)).toBe(0);
    expect<i32>(winoCase(1, 1, 1, 7, 3, 1, 1, 1, 1, false, 255, false, 0, true, false, RANDOM)).toBe(0);
  });
  it('pad 0 and one-sided pads, int8 in / out, per-tensor scale, ReLU', () => {
    expect<i32>(winoCase(1, 9, 7, 17, 33, 0, 0, 0, 0, true, -3, true, -128, false, true, RANDOM)).toBe(0);
    expect<i32>(winoCase(1, 8, 6, 9, 17, 1, 0, 0, 1, true, 127, true, 5, true, true, RANDOM)).toBe(0);
    expect<i32>(winoCase(2, 6, 7, 10, 15, 0, 1, 1, 0, true, -128, false, 7, true, false, RANDOM)).toBe(0);
    expect<i32>(winoCase(1, 3, 4, 8, 16, 0, 0, 0, 0, false, 90, true, 0, false, true, RANDOM)).toBe(0);
  });
  it('several tile blocks and output chunks (64 -> 80 at 20x19, 300 -> 40 at 13x14)', () => {
    expect<i32>(winoCase(1, 20, 19, 64, 80, 1, 1, 1, 1, false, 113, false, 120, true, true, RANDOM)).toBe(0);
    expect<i32>(winoCase(1, 13, 14, 300, 40, 1, 1, 1, 1, true, 9, true, -20, true, false, RANDOM)).toBe(0);
    expect<i32>(winoCase(1, 11, 12, 33, 161, 1, 1, 1, 1, false, 1, false, 0, false, false, RANDOM)).toBe(0);
  });
  it('the largest C (1827) with every product at its extreme, uint8 and int8', () => {
    expect<i32>(winoCase(1, 4, 3, 1827, 5, 1, 1, 1, 1, false, 255, false, 128, true, false, EXTREME)).toBe(0);
    expect<i32>(winoCase(1, 3, 4, 1827, 3, 1, 0, 1, 0, true, 127, true, 0, true, false, EXTREME)).toBe(0);
    expect<i32>(winoCase(1, 4, 4, 1827, 6, 1, 1, 1, 1, true, -128, false, 9, false, false, RANDOM)).toBe(0);
  });
});
