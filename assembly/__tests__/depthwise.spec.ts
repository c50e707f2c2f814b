// Specs: dwconv_f32 (MobileNets depthwise convolution) against the scalar reference, over
// every fast path (3x3 / 5x5 / 7x7 at stride 1 and 2, dilated), the generic path (KH != KW,
// stride 3, asymmetric and one-sided pads, tiny images), channel remainders, batch 2,
// channel-slice strides on both sides, and the fused ReLU / clamp epilogues; every case split
// into bands of rows (2, 3, 5 parts) must give the whole call's bits.
import { dwconv_f32, dwconv_pack, dwconv_packed_size } from '../depthwise';
import { dwconvRef } from './depthwise_ref';
import { fail, check, SPLITS } from './gemm_ref';
import { resetRnd, rndSym, rndInt } from './math_ref';
import {
  G_SIZE, G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR,
  G_DH, G_DW, G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0, G_ACT_P1,
  ACT_NONE, ACT_RELU, ACT_CLAMP,
} from '../codes';

const SENTINEL: f32 = 777.25;
resetRnd(12345);
function ptr<T>(a: T): usize {
  return changetype<usize>(a);
}

// Runs one configuration; returns the number of wrong floats (values or touched padding lanes).
function runCase(
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, PB: i32, PR: i32, DH: i32, DW: i32, IS: i32, OS: i32,
  act: i32, p0: f32, p1: f32, withBias: bool,
): i32 {
  const OH = (H + PT + PB - ((KH - 1) * DH + 1)) / SH + 1;
  const OW = (W + PL + PR - ((KW - 1) * DW + 1)) / SW + 1;
  if (OH < 1 || OW < 1) return 0;
  const g = new StaticArray<i32>(G_SIZE);
  g[G_N] = N; g[G_H] = H; g[G_W] = W; g[G_C] = C; g[G_OH] = OH; g[G_OW] = OW; g[G_OC] = C;
  g[G_KH] = KH; g[G_KW] = KW; g[G_SH] = SH; g[G_SW] = SW;
  g[G_PT] = PT; g[G_PL] = PL; g[G_PB] = PB; g[G_PR] = PR; g[G_DH] = DH; g[G_DW] = DW;
  g[G_GROUPS] = C; g[G_IN_STRIDE] = IS; g[G_OUT_STRIDE] = OS;
  g[G_ACT] = act; g[G_ACT_P0] = reinterpret<i32>(p0); g[G_ACT_P1] = reinterpret<i32>(p1);
  const inp = new StaticArray<f32>(N * H * W * IS);
  for (let i = 0; i < inp.length; i++) inp[i] = rndSym();
  const w = new StaticArray<f32>(C * KH * KW);
  for (let i = 0; i < w.length; i++) w[i] = rndSym();
  const b = new StaticArray<f32>(C);
  for (let i = 0; i < C; i++) b[i] = rndSym();
  const packed = new StaticArray<f32>(dwconv_packed_size(ptr(g)));
  dwconv_pack(ptr(w), withBias ? ptr(b) : 0, ptr(g), ptr(packed));
  const total = N * OH * OW * OS;
  const out = new StaticArray<f32>(total);
  const ref = new StaticArray<f32>(total);
  for (let i = 0; i < total; i++) { out[i] = SENTINEL; ref[i] = SENTINEL; }
  dwconv_f32(ptr(g), ptr(inp), ptr(packed), ptr(out), 0, 1);
  dwconvRef(ptr(g), ptr(inp), ptr(w), withBias ? ptr(b) : 0, ptr(ref));
  let bad = 0;
  // split into bands of rows run one after another: the same bits
  const outP = new StaticArray<f32>(total);
  for (let s = 0; s < SPLITS.length; s++) {
    for (let i = 0; i < total; i++) outP[i] = SENTINEL;
    for (let part = 0; part < SPLITS[s]; part++) dwconv_f32(ptr(g), ptr(inp), ptr(packed), ptr(outP), part, SPLITS[s]);
    for (let i = 0; i < total; i++) {
      if (reinterpret<u32>(outP[i]) != reinterpret<u32>(out[i])) {
        if (bad == 0) fail(`split into ${SPLITS[s]} parts: float ${i} got ${outP[i]}, whole call ${out[i]}`);
        bad++;
      }
    }
  }
  for (let i = 0; i < total; i++) {
    const c = i % OS;
    const got = out[i], want = ref[i];
    const ok = c < C ? Mathf.abs(got - want) <= 1e-5 * (1 + Mathf.abs(want)) : got == SENTINEL;
    if (!ok) {
      if (bad == 0) {
        fail(`N${N} ${H}x${W}x${C} k${KH}x${KW} s${SH},${SW} p${PT},${PL},${PB},${PR} d${DH},${DW} ` +
          `IS${IS} OS${OS} act${act}: float ${i} (c ${c}) got ${got} want ${want}`);
      }
      bad++;
    }
  }
  return bad;
}

// full tiles 0, 1, 2, 3, 4, 6, 7, 8: the border path takes tiles in fours, then a pair, then
// one (27: 4 + 2 + 3 lanes; 29: 4 + 2 + 1 + 1 lane)
const CS: i32[] = [1, 3, 5, 8, 13, 17, 27, 29, 33];

describe('dwconv_f32 fast paths (square 3/5/7, stride 1/2)', () => {
  it('3x3, 5x5, 7x7 at stride 1 and 2, same pads, every channel remainder', () => {
    let bad = 0;
    for (let k = 3; k <= 7; k += 2) {
      for (let s = 1; s <= 2; s++) {
        for (let ci = 0; ci < CS.length; ci++) {
          const C = CS[ci];
          const p = k >> 1;
          bad += runCase(1, 11, 11, C, k, k, s, s, p, p, p, p, 1, 1, C, C, ACT_NONE, 0, 0, true);
          bad += runCase(2, 7, 11, C, k, k, s, s, p, p, p, p, 1, 1, C, C, ACT_NONE, 0, 0, true);
        }
      }
    }
    check(bad);
  });
  it('no padding and one-sided (TF SAME) padding keep the interior path aligned', () => {
    let bad = 0;
    for (let k = 3; k <= 7; k += 2) {
      for (let s = 1; s <= 2; s++) {
        bad += runCase(1, 11, 11, 8, k, k, s, s, 0, 0, 0, 0, 1, 1, 8, 8, ACT_NONE, 0, 0, true);
        bad += runCase(1, 11, 11, 13, k, k, s, s, 0, 0, k - 1, k - 1, 1, 1, 13, 13, ACT_NONE, 0, 0, true);
        bad += runCase(2, 11, 7, 17, k, k, s, s, k - 1, 1, 0, 2, 1, 1, 17, 17, ACT_NONE, 0, 0, true);
      }
    }
    check(bad);
  });
  it('dilation 2 and 3 (DeepLab) on the fast paths', () => {
    let bad = 0;
    for (let k = 3; k <= 7; k += 2) {
      for (let d = 2; d <= 3; d++) {
        for (let s = 1; s <= 2; s++) {
          const p = (k >> 1) * d;
          bad += runCase(1, 11, 11, 8, k, k, s, s, p, p, p, p, d, d, 8, 8, ACT_NONE, 0, 0, true);
          bad += runCase(2, 11, 7, 13, k, k, s, s, p, p, p, p, d, d, 13, 13, ACT_RELU, 0, 0, true);
          bad += runCase(1, 11, 11, 5, k, k, s, s, 1, 0, 2, 3, d, d, 5, 5, ACT_NONE, 0, 0, false);
        }
      }
    }
    check(bad);
  });
  it('fused ReLU and clamp (ReLU6 and an asymmetric clamp)', () => {
    let bad = 0;
    for (let k = 3; k <= 7; k += 2) {
      for (let ci = 0; ci < CS.length; ci++) {
        const C = CS[ci];
        bad += runCase(1, 7, 11, C, k, k, 1, 1, k >> 1, k >> 1, k >> 1, k >> 1, 1, 1, C, C, ACT_RELU, 0, 0, true);
        bad += runCase(1, 11, 7, C, k, k, 2, 2, k >> 1, k >> 1, k >> 1, k >> 1, 1, 1, C, C, ACT_CLAMP, 0, 6, true);
        bad += runCase(1, 7, 7, C, k, k, 1, 1, k >> 1, k >> 1, k >> 1, k >> 1, 1, 1, C, C, ACT_CLAMP, -0.3, 0.4, true);
      }
    }
    check(bad);
  });
  it('channel-slice input and output (IS > C, OS > C) leave the floats past C untouched', () => {
    let bad = 0;
    for (let k = 3; k <= 7; k += 2) {
      for (let ci = 0; ci < CS.length; ci++) {
        const C = CS[ci];
        bad += runCase(2, 11, 11, C, k, k, 1, 1, k >> 1, k >> 1, k >> 1, k >> 1, 1, 1, C + 3, C + 5, ACT_RELU, 0, 0, true);
        bad += runCase(1, 11, 11, C, k, k, 2, 2, k >> 1, k >> 1, k >> 1, k >> 1, 2, 2, C + 8, C + 1, ACT_NONE, 0, 0, true);
      }
    }
    check(bad);
  });
  it('power-of-two pixel strides (C = 256, IS = 512) split rows into several pixel blocks', () => {
    let bad = 0;
    for (let k = 3; k <= 7; k += 2) {
      for (let s = 1; s <= 2; s++) {
        const p = k >> 1;
        bad += runCase(1, 9, 29, 256, k, k, s, s, p, p, p, p, 1, 1, 256, 256, ACT_RELU, 0, 0, true);
        bad += runCase(1, 7, 37, 255, k, k, s, s, p, p, p, p, 2, 2, 512, 259, ACT_NONE, 0, 0, true);
      }
    }
    check(bad);
  });
  it('images smaller than the kernel (no interior pixels)', () => {
    let bad = 0;
    const sizes: i32[] = [1, 2, 7];
    for (let k = 3; k <= 7; k += 2) {
      for (let hi = 0; hi < 3; hi++) {
        for (let wi = 0; wi < 3; wi++) {
          const p = k >> 1;
          bad += runCase(2, sizes[hi], sizes[wi], 13, k, k, 1, 1, p, p, p, p, 1, 1, 13, 16, ACT_NONE, 0, 0, true);
          bad += runCase(1, sizes[hi], sizes[wi], 5, k, k, 2, 2, p, p, p, p, 2, 2, 5, 5, ACT_RELU, 0, 0, true);
        }
      }
    }
    check(bad);
  });
});

describe('dwconv_f32 generic path', () => {
  it('KH != KW, even kernels, 1xK and Kx1', () => {
    let bad = 0;
    const kh: i32[] = [1, 3, 2, 1, 7, 5, 4];
    const kw: i32[] = [7, 5, 3, 1, 1, 3, 4];
    for (let i = 0; i < kh.length; i++) {
      for (let ci = 0; ci < CS.length; ci++) {
        const C = CS[ci];
        bad += runCase(2, 11, 7, C, kh[i], kw[i], 1, 1, kh[i] >> 1, kw[i] >> 1, (kh[i] - 1) >> 1, (kw[i] - 1) >> 1,
          1, 1, C + 2, C + 1, ACT_NONE, 0, 0, true);
      }
    }
    check(bad);
  });
  it('stride 3, mixed strides, asymmetric pads, mixed dilation', () => {
    let bad = 0;
    bad += runCase(1, 11, 11, 13, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 13, 13, ACT_NONE, 0, 0, true);
    bad += runCase(2, 11, 7, 5, 3, 5, 3, 1, 0, 2, 1, 0, 1, 1, 5, 9, ACT_RELU, 0, 0, true);
    bad += runCase(1, 11, 11, 17, 3, 3, 1, 2, 2, 0, 0, 1, 2, 1, 17, 17, ACT_NONE, 0, 0, true);
    bad += runCase(1, 11, 11, 8, 5, 5, 2, 1, 1, 2, 0, 0, 1, 3, 8, 8, ACT_CLAMP, 0, 6, true);
    bad += runCase(2, 7, 11, 33, 3, 2, 2, 3, 0, 0, 2, 2, 3, 2, 40, 35, ACT_NONE, 0, 0, false);
    bad += runCase(1, 2, 11, 3, 3, 3, 1, 1, 0, 1, 2, 1, 1, 1, 3, 3, ACT_NONE, 0, 0, true);
    check(bad);
  });
  it('400 random geometries against the reference', () => {
    let bad = 0;
    const sizes: i32[] = [1, 2, 3, 7, 11, 13];
    for (let r = 0; r < 400; r++) {
      const N = 1 + rndInt(2);
      const H = sizes[rndInt(6)], W = sizes[rndInt(6)];
      const C = CS[rndInt(CS.length)];
      const sq = rndInt(2) == 0;
      const KH = 1 + rndInt(7);
      const KW = sq ? KH : 1 + rndInt(7);
      const SH = 1 + rndInt(3);
      const SW = rndInt(2) == 0 ? SH : 1 + rndInt(3);
      const DH = 1 + rndInt(3);
      const DW = rndInt(2) == 0 ? DH : 1 + rndInt(3);
      const PT = rndInt(KH), PB = rndInt(KH), PL = rndInt(KW), PR = rndInt(KW);
      const IS = C + rndInt(3) * 3, OS = C + rndInt(3) * 2;
      const act = rndInt(3);
      bad += runCase(N, H, W, C, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW, IS, OS, act, -0.5, 0.75, rndInt(4) != 0);
    }
    check(bad);
  });
});
