// Specs for resize.ts (resize_f32; ONNX Resize / Upsample nearest and bilinear) against a scalar
// reference that evaluates the same tables with the (1 − w)·a + w·b form: up- and down-sampling,
// odd sizes, channel counts 1..9 (tiles + remainders), batch 2, align_corners and half_pixel
// style tables, nearest gathers.
import { resize_f32 } from '../resize';
import { at, fillRandom, fill, countMismatches, floats, resetArena } from './gemm_ref';

const SENTINEL: f32 = 777.25;

/** Table of `out` entries for an axis of `size` inputs: half_pixel (mode 0) or align_corners (1), clamped. */
function table(size: i32, out: i32, mode: i32, nearest: bool): usize {
  const t = floats(out * 3);
  for (let o = 0; o < out; o++) {
    let x: f64 = mode == 0
      ? (<f64>o + 0.5) * <f64>size / <f64>out - 0.5
      : (out == 1 ? 0 : <f64>o * <f64>(size - 1) / <f64>(out - 1));
    if (nearest) {
      let i = <i32>Math.floor(x + 0.5);
      i = min(max(i, 0), size - 1);
      store<i32>(at(t, o * 3), i);
      store<i32>(at(t, o * 3 + 1), i);
      store<f32>(at(t, o * 3 + 2), 0);
      continue;
    }
    const f = Math.floor(x);
    const i0 = <i32>f;
    store<i32>(at(t, o * 3), min(max(i0, 0), size - 1));
    store<i32>(at(t, o * 3 + 1), min(max(i0 + 1, 0), size - 1));
    store<f32>(at(t, o * 3 + 2), <f32>(x - f));
  }
  return t;
}

function resizeRef(N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, input: usize, output: usize, ty: usize, tx: usize, linear: i32): void {
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++) {
    const y0 = load<i32>(at(ty, oh * 3)), y1 = load<i32>(at(ty, oh * 3 + 1)), wy = load<f32>(at(ty, oh * 3 + 2));
    const x0 = load<i32>(at(tx, ow * 3)), x1 = load<i32>(at(tx, ow * 3 + 1)), wx = load<f32>(at(tx, ow * 3 + 2));
    const v00 = load<f32>(at(input, ((n * H + y0) * W + x0) * C + c));
    let v = v00;
    if (linear != 0) {
      const v01 = load<f32>(at(input, ((n * H + y0) * W + x1) * C + c));
      const v10 = load<f32>(at(input, ((n * H + y1) * W + x0) * C + c));
      const v11 = load<f32>(at(input, ((n * H + y1) * W + x1) * C + c));
      v = (1 - wy) * ((1 - wx) * v00 + wx * v01) + wy * ((1 - wx) * v10 + wx * v11);
    }
    store<f32>(at(output, ((n * OH + oh) * OW + ow) * C + c), v);
  }
}

function run(N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, mode: i32, linear: i32): i32 {
  resetArena();
  const inF = N * H * W * C, outF = N * OH * OW * C;
  const input = floats(inF);
  fillRandom(input, inF);
  const ty = table(H, OH, mode, linear == 0), tx = table(W, OW, mode, linear == 0);
  const out = floats(outF + 1), ref = floats(outF + 1);
  fill(out, outF + 1, SENTINEL);
  fill(ref, outF + 1, SENTINEL);
  resize_f32(N, H, W, C, OH, OW, input, out, ty, tx, linear);
  resizeRef(N, H, W, C, OH, OW, input, ref, ty, tx, linear);
  return countMismatches(out, ref, outF + 1);
}

describe('resize_f32 bilinear', () => {
  it('2x upsample, half_pixel, C = 1..9', () => {
    for (let C = 1; C <= 9; C++) expect<i32>(run(1, 5, 7, C, 10, 14, 0, 1)).toBe(0);
  });
  it('align_corners, non-integer ratios, batch 2', () => {
    expect<i32>(run(2, 5, 7, 6, 13, 9, 1, 1)).toBe(0);
  });
  it('downsample, odd sizes', () => {
    expect<i32>(run(1, 11, 13, 5, 4, 6, 0, 1)).toBe(0);
  });
  it('one output row and column', () => {
    expect<i32>(run(1, 3, 5, 3, 1, 1, 1, 1)).toBe(0);
  });
});

describe('resize_f32 nearest', () => {
  it('upsample 3x by 2x, C = 1..11 (8-float copies + remainders)', () => {
    for (let C = 1; C <= 11; C++) expect<i32>(run(1, 3, 5, C, 9, 10, 0, 0)).toBe(0);
  });
  it('downsample, align_corners, batch 2', () => {
    expect<i32>(run(2, 9, 7, 7, 4, 3, 1, 0)).toBe(0);
  });
});
