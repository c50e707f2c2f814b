// Specs: maxpool_f32 / avgpool_f32 / global_avgpool_f32 / global_maxpool_f32 (ONNX MaxPool,
// AveragePool, GlobalAveragePool, GlobalMaxPool) against the scalar references: ceil_mode
// output sizes (partial last windows, the window starting on the pad), count_include_pad on and
// off, dilation, strides 1..3, KH != KW, asymmetric pads, channel remainders, batch 2 and
// channel-slice strides (floats past C must stay untouched).
import { fail, check, SPLITS } from './gemm_ref';
import { resetRnd, rndSym, rndInt } from './math_ref';
import { maxpool_f32, avgpool_f32, global_avgpool_f32, global_maxpool_f32 } from '../pool';
import { poolRef, globalPoolRef, poolOutSize } from './pool_ref';
import {
  G_SIZE, G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR,
  G_DH, G_DW, G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_FLAGS, FLAG_COUNT_INCLUDE_PAD,
} from '../codes';

const SENTINEL: f32 = 777.25;
resetRnd(987654);
function ptr<T>(a: T): usize {
  return changetype<usize>(a);
}

/** When > 0, every nanEvery-th input float is NaN (max pooling must return NaN for its windows). */
let nanEvery: i32 = 0;

function compare(out: StaticArray<f32>, ref: StaticArray<f32>, OS: i32, C: i32, what: string): i32 {
  let bad = 0;
  for (let i = 0; i < out.length; i++) {
    const c = i % OS;
    const got = out[i], want = ref[i];
    const ok = c < C
      ? got == want || Mathf.abs(got - want) <= 1e-5 * (1 + Mathf.abs(want)) || (isNaN(got) && isNaN(want))
      : got == SENTINEL;
    if (!ok) {
      if (bad == 0) fail(`${what}: float ${i} (c ${c}) got ${got} want ${want}`);
      bad++;
    }
  }
  return bad;
}

// Runs max (isMax) or average pooling for one geometry; returns the number of wrong floats.
function runCase(
  isMax: bool, N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, PB: i32, PR: i32, DH: i32, DW: i32, IS: i32, OS: i32, ceil: bool, incl: bool,
): i32 {
  const OH = poolOutSize(H, KH, SH, PT, PB, DH, ceil);
  const OW = poolOutSize(W, KW, SW, PL, PR, DW, ceil);
  if (OH < 1 || OW < 1) return 0;
  const g = new StaticArray<i32>(G_SIZE);
  g[G_N] = N; g[G_H] = H; g[G_W] = W; g[G_C] = C; g[G_OH] = OH; g[G_OW] = OW; g[G_OC] = C;
  g[G_KH] = KH; g[G_KW] = KW; g[G_SH] = SH; g[G_SW] = SW;
  g[G_PT] = PT; g[G_PL] = PL; g[G_PB] = PB; g[G_PR] = PR; g[G_DH] = DH; g[G_DW] = DW;
  g[G_GROUPS] = 1; g[G_IN_STRIDE] = IS; g[G_OUT_STRIDE] = OS; g[G_FLAGS] = incl ? FLAG_COUNT_INCLUDE_PAD : 0;
  const inp = new StaticArray<f32>(N * H * W * IS);
  for (let i = 0; i < inp.length; i++) inp[i] = nanEvery > 0 && i % nanEvery == 7 ? NaN : rndSym();
  const total = N * OH * OW * OS;
  const out = new StaticArray<f32>(total);
  const ref = new StaticArray<f32>(total);
  for (let i = 0; i < total; i++) { out[i] = SENTINEL; ref[i] = SENTINEL; }
  if (isMax) maxpool_f32(ptr(g), ptr(inp), ptr(out), 0, 1);
  else avgpool_f32(ptr(g), ptr(inp), ptr(out), 0, 1);
  poolRef(isMax, ptr(g), ptr(inp), ptr(ref));
  // split into bands of output rows run one after another: the same bits
  for (let sp = 0; sp < SPLITS.length; sp++) {
    const z = new StaticArray<f32>(total);
    for (let i = 0; i < total; i++) z[i] = SENTINEL;
    for (let part = 0; part < SPLITS[sp]; part++) {
      if (isMax) maxpool_f32(ptr(g), ptr(inp), ptr(z), part, SPLITS[sp]);
      else avgpool_f32(ptr(g), ptr(inp), ptr(z), part, SPLITS[sp]);
    }
    for (let i = 0; i < total; i++) {
      if (reinterpret<u32>(z[i]) != reinterpret<u32>(out[i])) {
        fail(`split into ${SPLITS[sp]} parts: float ${i} differs from the whole call`);
        return 1;
      }
    }
  }
  return compare(out, ref, OS, C,
    `${isMax ? 'max' : 'avg'} N${N} ${H}x${W}x${C} k${KH}x${KW} s${SH},${SW} p${PT},${PL},${PB},${PR} ` +
    `d${DH},${DW} IS${IS} OS${OS} ceil${ceil} incl${incl} -> ${OH}x${OW}`);
}

function runGlobal(isMax: bool, N: i32, HW: i32, C: i32, IS: i32, OS: i32): i32 {
  const inp = new StaticArray<f32>(N * HW * IS);
  for (let i = 0; i < inp.length; i++) inp[i] = rndSym() + 0.25;
  const out = new StaticArray<f32>(N * OS);
  const ref = new StaticArray<f32>(N * OS);
  for (let i = 0; i < out.length; i++) { out[i] = SENTINEL; ref[i] = SENTINEL; }
  if (isMax) global_maxpool_f32(N, HW, C, ptr(inp), IS, ptr(out), OS, 0, 1);
  else global_avgpool_f32(N, HW, C, ptr(inp), IS, ptr(out), OS, 0, 1);
  globalPoolRef(isMax, N, HW, C, ptr(inp), IS, ptr(ref), OS);
  let bad = compare(out, ref, OS, C, `global ${isMax ? 'max' : 'avg'} N${N} HW${HW} C${C} IS${IS} OS${OS}`);
  // runs of 16 channels, run in turn, give the whole call's bits
  const cut = new StaticArray<f32>(N * OS);
  for (let s = 0; s < SPLITS.length; s++) {
    for (let i = 0; i < cut.length; i++) cut[i] = SENTINEL;
    for (let part = 0; part < SPLITS[s]; part++) {
      if (isMax) global_maxpool_f32(N, HW, C, ptr(inp), IS, ptr(cut), OS, part, SPLITS[s]);
      else global_avgpool_f32(N, HW, C, ptr(inp), IS, ptr(cut), OS, part, SPLITS[s]);
    }
    for (let i = 0; i < cut.length; i++) {
      if (reinterpret<u32>(cut[i]) != reinterpret<u32>(out[i])) {
        if (bad == 0) fail(`global ${isMax ? 'max' : 'avg'} C${C} split ${SPLITS[s]}: float ${i} got ${cut[i]}, whole call ${out[i]}`);
        bad++;
      }
    }
  }
  return bad;
}

const CS: i32[] = [1, 3, 5, 8, 13, 17, 33];

describe('maxpool_f32 / avgpool_f32', () => {
  it('common shapes: 2x2 s2, 3x3 s2 p1 (ResNet stem), 3x3 s1 p1, every channel remainder', () => {
    let bad = 0;
    for (let m = 0; m < 2; m++) {
      for (let ci = 0; ci < CS.length; ci++) {
        const C = CS[ci];
        bad += runCase(m == 0, 2, 11, 7, C, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, C, C, false, false);
        bad += runCase(m == 0, 1, 11, 11, C, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, C, C, false, false);
        bad += runCase(m == 0, 2, 7, 11, C, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, C, C, false, true);
      }
    }
    check(bad);
  });
  it('ceil_mode: partial last windows and the window that would start on the pad', () => {
    let bad = 0;
    for (let m = 0; m < 2; m++) {
      for (let incl = 0; incl < 2; incl++) {
        bad += runCase(m == 0, 1, 4, 4, 3, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 3, 3, true, incl == 1);
        // ONNX test_averagepool_2d_ceil_last_window_starts_on_pad: 2x2, k3 s3 p1 -> 1x1.
        bad += runCase(m == 0, 1, 2, 2, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, 3, true, incl == 1);
        bad += runCase(m == 0, 2, 11, 7, 13, 3, 2, 2, 3, 1, 0, 1, 1, 1, 1, 13, 16, true, incl == 1);
        bad += runCase(m == 0, 1, 7, 11, 5, 3, 3, 3, 2, 1, 1, 0, 1, 1, 1, 8, 5, true, incl == 1);
        bad += runCase(m == 0, 1, 11, 11, 17, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 17, 17, true, incl == 1);
      }
    }
    check(bad);
  });
  it('count_include_pad on and off with symmetric, asymmetric and one-sided pads', () => {
    let bad = 0;
    for (let incl = 0; incl < 2; incl++) {
      for (let ci = 0; ci < CS.length; ci++) {
        const C = CS[ci];
        bad += runCase(false, 1, 7, 7, C, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, C, C, false, incl == 1);
        bad += runCase(false, 2, 11, 7, C, 3, 2, 2, 1, 0, 1, 2, 0, 1, 1, C + 1, C + 3, false, incl == 1);
        bad += runCase(false, 1, 2, 11, C, 3, 3, 1, 3, 1, 0, 0, 2, 1, 1, C, C, incl == 1, incl == 1);
      }
    }
    check(bad);
  });
  it('dilation 2 and 3, KH != KW, strides 1..3', () => {
    let bad = 0;
    for (let m = 0; m < 2; m++) {
      for (let d = 2; d <= 3; d++) {
        for (let s = 1; s <= 3; s++) {
          bad += runCase(m == 0, 2, 11, 11, 13, 2, 3, s, s, 1, 2, 1, 2, d, d, 13, 13, false, false);
          bad += runCase(m == 0, 1, 11, 7, 8, 3, 3, s, 1, d, d, d, d, d, 1, 8, 10, s == 2, m == 1);
        }
      }
    }
    check(bad);
  });
  it('channel-slice input and output leave floats past C untouched; tiny images', () => {
    let bad = 0;
    const sizes: i32[] = [1, 2, 7];
    for (let m = 0; m < 2; m++) {
      for (let ci = 0; ci < CS.length; ci++) {
        const C = CS[ci];
        bad += runCase(m == 0, 2, 7, 11, C, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, C + 5, C + 2, true, false);
      }
      for (let hi = 0; hi < 3; hi++) {
        for (let wi = 0; wi < 3; wi++) {
          bad += runCase(m == 0, 2, sizes[hi], sizes[wi], 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5, 7, true, true);
          bad += runCase(m == 0, 1, sizes[hi], sizes[wi], 13, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 13, 13, true, false);
        }
      }
    }
    check(bad);
  });
  it('max: a NaN anywhere in the window gives NaN (PyTorch), other windows unaffected', () => {
    nanEvery = 37;
    check(runCase(true, 1, 9, 11, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 13, 13, false, false));
    check(runCase(true, 2, 7, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 9, 8, false, false));
    check(runCase(true, 1, 12, 12, 5, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 5, 6, false, false));
    nanEvery = 0;
  });
  it('400 random geometries against the reference', () => {
    let bad = 0;
    const sizes: i32[] = [1, 2, 3, 7, 11, 13];
    for (let r = 0; r < 400; r++) {
      const N = 1 + rndInt(2);
      const H = sizes[rndInt(6)], W = sizes[rndInt(6)];
      const C = CS[rndInt(CS.length)];
      const KH = 1 + rndInt(5), KW = rndInt(2) == 0 ? KH : 1 + rndInt(5);
      const SH = 1 + rndInt(3), SW = rndInt(2) == 0 ? SH : 1 + rndInt(3);
      const DH = 1 + rndInt(3), DW = rndInt(2) == 0 ? DH : 1 + rndInt(3);
      // ONNX requires pads smaller than the kernel extent.
      const PT = rndInt(KH), PB = rndInt(KH), PL = rndInt(KW), PR = rndInt(KW);
      const IS = C + rndInt(3) * 3, OS = C + rndInt(3) * 2;
      bad += runCase(rndInt(2) == 0, N, H, W, C, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW, IS, OS,
        rndInt(2) == 0, rndInt(2) == 0);
    }
    check(bad);
  });
});

describe('global_avgpool_f32 / global_maxpool_f32', () => {
  it('every channel remainder, 16-channel blocks, long sums, batch 2 and slices', () => {
    let bad = 0;
    const hws: i32[] = [1, 7, 49, 63, 64, 65, 200, 3136];
    const cs: i32[] = [1, 3, 5, 8, 13, 16, 17, 33, 35, 64];
    for (let m = 0; m < 2; m++) {
      for (let h = 0; h < hws.length; h++) {
        for (let ci = 0; ci < cs.length; ci++) {
          const C = cs[ci];
          bad += runGlobal(m == 0, 1 + (h & 1), hws[h], C, C + (ci & 1) * 3, C + (h & 1) * 2);
        }
      }
    }
    check(bad);
  });
  it('a 224x224 mean of a constant and of mixed values stays within a few ulps', () => {
    const HW = 50176; // 224 x 224
    const C = 4;
    const inp = new StaticArray<f32>(HW * C);
    for (let i = 0; i < inp.length; i++) inp[i] = i % C == 0 ? 0.1 : rndSym() * 100;
    const out = new StaticArray<f32>(C);
    const ref = new StaticArray<f32>(C);
    global_avgpool_f32(1, HW, C, ptr(inp), C, ptr(out), C, 0, 1);
    globalPoolRef(false, 1, HW, C, ptr(inp), C, ptr(ref), C);
    expect<bool>(Mathf.abs(out[0] - <f32>0.1) <= <f32>2e-7).toBe(true, `constant: ${out[0]}`);
    for (let c = 1; c < C; c++) {
      expect<bool>(Mathf.abs(out[c] - ref[c]) <= 1e-6 * (1 + Mathf.abs(ref[c]))).toBe(true, `channel ${c}: ${out[c]} vs ${ref[c]}`);
    }
  });
});
