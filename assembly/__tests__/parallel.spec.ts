// parallel.ts: even cuts, and the pool's split table (uneven parts for threads of uneven speed):
// boundaries where the table puts them, only for the part count it was written for, and a
// kernel cut there gives the whole call's bits.
import { partStart, splitRows, split_table } from '../parallel';
import { ACT_RELU } from '../codes';
import { gemm_packed_size, gemm_pack, gemm_f32 } from '../gemm';
import { global_avgpool_f32 } from '../pool';
import { binary_prepare, binary_rows_f32 } from '../eltwise';
import { BIN_MUL } from '../codes';
import { fillRandom, fill, countBitDiffs, floats, resetArena } from './gemm_ref';

function setSplit(parts: i32, at: f64[]): void {
  const t = split_table();
  store<i32>(t, parts);
  for (let p = 1; p < parts; p++) store<i32>(t + (<usize>p << 2), <i32>Math.round(at[p - 1] * 65536));
}

function clearSplit(): void {
  store<i32>(split_table(), 0);
}

describe('partStart', () => {
  it('cuts evenly on unit multiples without a table; the last part ends at the total', () => {
    clearSplit();
    expect<i32>(partStart(100, 4, 0, 2)).toBe(0);
    expect<i32>(partStart(100, 4, 1, 2)).toBe(48);
    expect<i32>(partStart(100, 4, 2, 2)).toBe(100);
    expect<i32>(partStart(7, 1, 1, 3)).toBe(2);
  });
  it('follows the split table written for its part count, on unit multiples', () => {
    setSplit(2, [0.3]);
    expect<i32>(partStart(100, 1, 1, 2)).toBe(30);
    expect<i32>(partStart(100, 4, 1, 2)).toBe(32); // 25 units * 0.3 = 7.5: the nearest, 8 units
    expect<i32>(partStart(100, 4, 2, 2)).toBe(100);
    // two units at a share just under a half still give each part one (flooring gave part 0 none)
    setSplit(2, [0.499]);
    expect<i32>(partStart(2, 1, 1, 2)).toBe(1);
    setSplit(3, [0.5, 0.875]);
    expect<i32>(partStart(200, 1, 1, 3)).toBe(100);
    expect<i32>(partStart(200, 1, 2, 3)).toBe(175);
    // a call with another part count (single-threaded, or a table for 3) cuts evenly
    expect<i32>(partStart(200, 1, 1, 2)).toBe(100);
    expect<i32>(partStart(200, 1, 0, 1)).toBe(0);
    expect<i32>(partStart(200, 1, 1, 1)).toBe(200);
    clearSplit();
  });
  it('splitRows: rows when there are enough, else the more even cut, on a tie the finer', () => {
    expect<bool>(splitRows(8, 2, 2)).toBe(true); // 4 row units a part
    expect<bool>(splitRows(3, 64, 2)).toBe(false); // rows 2 + 1: the larger part does 2/3
    expect<bool>(splitRows(3, 1, 2)).toBe(true); // one column unit cannot be shared
    expect<bool>(splitRows(2, 256, 2)).toBe(false); // both even: 128 panel pairs follow uneven shares
    expect<bool>(splitRows(2, 2, 2)).toBe(true);
  });
  it('global pooling and binary rows cut unevenly (empty parts included) give the whole call bits', () => {
    // global average pool over runs of 16 channels: C = 13 leaves part 1 nothing at a 0.9 share
    const Cs: i32[] = [13, 35, 70];
    for (let i = 0; i < Cs.length; i++) {
      resetArena();
      const C = Cs[i], HW = 9;
      const x = floats(HW * C), whole = floats(C), cut = floats(C);
      fillRandom(x, HW * C);
      clearSplit();
      global_avgpool_f32(1, HW, C, x, C, whole, C, 0, 1);
      const splits: f64[] = [0.1, 0.5, 0.9];
      for (let s = 0; s < splits.length; s++) {
        fill(cut, C, -1);
        setSplit(2, [splits[s]]);
        global_avgpool_f32(1, HW, C, x, C, cut, C, 0, 2);
        global_avgpool_f32(1, HW, C, x, C, cut, C, 1, 2);
        expect<i32>(countBitDiffs(cut, whole, C)).toBe(0);
      }
    }
    // x [5][7] * s [7] (rows), and x [1][30] * y [1][30] (one row: columns)
    const shapes: i32[] = [5, 7, 1, 30];
    for (let i = 0; i < shapes.length; i += 2) {
      resetArena();
      const R = shapes[i], N = shapes[i + 1];
      const dims = floats(2), sa = floats(2), sb = floats(2), prm = floats(24);
      store<i32>(dims, R); store<i32>(dims + 4, N);
      store<i32>(sa, N); store<i32>(sa + 4, 1);
      store<i32>(sb, R == 1 ? N : 0); store<i32>(sb + 4, 1);
      const a = floats(R * N), b = floats(R * N), whole = floats(R * N), cut = floats(R * N);
      fillRandom(a, R * N); fillRandom(b, R * N);
      expect<i32>(binary_prepare(2, dims, sa, sb, prm)).toBe(1);
      clearSplit();
      binary_rows_f32(BIN_MUL, whole, a, b, prm, 0, 1);
      const splits: f64[] = [0.2, 0.5, 0.95];
      for (let s = 0; s < splits.length; s++) {
        fill(cut, R * N, -1);
        setSplit(2, [splits[s]]);
        binary_rows_f32(BIN_MUL, cut, a, b, prm, 0, 2);
        binary_rows_f32(BIN_MUL, cut, a, b, prm, 1, 2);
        expect<i32>(countBitDiffs(cut, whole, R * N)).toBe(0);
      }
    }
    clearSplit();
  });
  it('gemm_f32 cut unevenly (rows, and column panels) gives the whole call bits', () => {
    const shapes: i32[] = [203, 40, 37, 9, 120, 64]; // M, N, K: many rows; few rows, many panels
    for (let s = 0; s < shapes.length; s += 3) {
      resetArena();
      const M = shapes[s], N = shapes[s + 1], K = shapes[s + 2];
      const a = floats(M * K), w = floats(N * K), bias = floats(N);
      fillRandom(a, M * K); fillRandom(w, N * K); fillRandom(bias, N);
      const packed = floats(gemm_packed_size(N, K));
      gemm_pack(w, N, K, K, bias, packed);
      const whole = floats(M * N), cut = floats(M * N);
      clearSplit();
      gemm_f32(M, N, K, a, K, packed, whole, N, 0, 0, ACT_RELU, 0, 0, 0, 1);
      const splits: f64[] = [0.2, 0.35, 0.5, 0.71, 0.9];
      for (let i = 0; i < splits.length; i++) {
        fill(cut, M * N, -1);
        setSplit(2, [splits[i]]);
        gemm_f32(M, N, K, a, K, packed, cut, N, 0, 0, ACT_RELU, 0, 0, 0, 2);
        gemm_f32(M, N, K, a, K, packed, cut, N, 0, 0, ACT_RELU, 0, 0, 1, 2);
        expect<i32>(countBitDiffs(cut, whole, M * N)).toBe(0);
      }
      clearSplit();
    }
  });
});
