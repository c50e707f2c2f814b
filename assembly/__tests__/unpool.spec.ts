// Specs for unpool.ts: maxpool_with_indices_f32 (ONNX MaxPool Indices, storage_order 0 and 1)
// and maxunpool_f32 (ONNX global indices and PyTorch per-plane indices) against scalar
// references: odd sizes, channel remainders, strides, dilation, asymmetric pads, batch 2,
// channel-slice strides, ties (first tap wins), round trip pool -> unpool.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR,
  G_DH, G_DW, G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_SIZE,
} from '../codes';
import { maxpool_with_indices_f32, maxunpool_f32 } from '../unpool';
import { at, fillRandom, fill, countMismatches, floats, resetArena } from './gemm_ref';

const SENTINEL: f32 = 777.25;

@inline function geo(g: usize, f: i32): i32 {
  return load<i32>(g + (<usize>f << 2));
}

/** ONNX reference rule: scan taps in (h, w) order, keep the first strict maximum. */
function maxpoolIdxRef(g: usize, input: usize, output: usize, indices: usize, order: i32): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C);
  const OH = geo(g, G_OH), OW = geo(g, G_OW);
  const KH = geo(g, G_KH), KW = geo(g, G_KW), SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL), DH = geo(g, G_DH), DW = geo(g, G_DW);
  const inS = geo(g, G_IN_STRIDE), outS = geo(g, G_OUT_STRIDE);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let best: f32 = -Infinity;
    let bi = -1;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const h = oh * SH - PT + kh * DH, w = ow * SW - PL + kw * DW;
      if (h < 0 || h >= H || w < 0 || w >= W) continue;
      const v = load<f32>(at(input, ((n * H + h) * W + w) * inS + c));
      if (bi < 0 || v > best) {
        best = v;
        bi = (n * C + c) * H * W + (order == 0 ? h * W + w : w * H + h);
      }
    }
    const o = ((n * OH + oh) * OW + ow) * outS + c;
    store<f32>(at(output, o), best);
    store<f32>(at(indices, o), <f32>bi);
  }
}

function unpoolRef(g: usize, input: usize, indices: usize, output: usize, IH: i32, IW: i32, perPlane: i32): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C);
  const OH = geo(g, G_OH), OW = geo(g, G_OW);
  const inS = geo(g, G_IN_STRIDE), outS = geo(g, G_OUT_STRIDE);
  for (let p = 0; p < N * OH * OW; p++) for (let c = 0; c < C; c++) store<f32>(at(output, p * outS + c), 0);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    const i = ((n * H + h) * W + w) * inS + c;
    let idx = <i32>load<f32>(at(indices, i));
    if (perPlane != 0) idx += (n * C + c) * IH * IW;
    const plane = idx / (IH * IW), q = idx % (IH * IW);
    const qh = q / IW, qw = q % IW;
    if (qh >= OH || qw >= OW) continue;
    store<f32>(at(output, ((plane / C) * OH * OW + qh * OW + qw) * outS + plane % C), load<f32>(at(input, i)));
  }
}

class Case {
  N: i32 = 1; H: i32 = 9; W: i32 = 11; C: i32 = 7;
  KH: i32 = 3; KW: i32 = 3; SH: i32 = 2; SW: i32 = 2;
  PT: i32 = 0; PL: i32 = 0; PB: i32 = 0; PR: i32 = 0; DH: i32 = 1; DW: i32 = 1;
  inExtra: i32 = 0; outExtra: i32 = 0; order: i32 = 0; quantize: bool = false;
  g: usize = 0; OH: i32 = 0; OW: i32 = 0;

  geometry(): usize {
    this.OH = (this.H + this.PT + this.PB - this.DH * (this.KH - 1) - 1) / this.SH + 1;
    this.OW = (this.W + this.PL + this.PR - this.DW * (this.KW - 1) - 1) / this.SW + 1;
    const g = floats(G_SIZE);
    store<i32>(at(g, G_N), this.N); store<i32>(at(g, G_H), this.H); store<i32>(at(g, G_W), this.W);
    store<i32>(at(g, G_C), this.C); store<i32>(at(g, G_OH), this.OH); store<i32>(at(g, G_OW), this.OW);
    store<i32>(at(g, G_OC), this.C); store<i32>(at(g, G_KH), this.KH); store<i32>(at(g, G_KW), this.KW);
    store<i32>(at(g, G_SH), this.SH); store<i32>(at(g, G_SW), this.SW);
    store<i32>(at(g, G_PT), this.PT); store<i32>(at(g, G_PL), this.PL);
    store<i32>(at(g, G_PB), this.PB); store<i32>(at(g, G_PR), this.PR);
    store<i32>(at(g, G_DH), this.DH); store<i32>(at(g, G_DW), this.DW); store<i32>(at(g, G_GROUPS), 1);
    store<i32>(at(g, G_IN_STRIDE), this.C + this.inExtra); store<i32>(at(g, G_OUT_STRIDE), this.C + this.outExtra);
    return g;
  }

  /** Pool with indices; returns mismatches in values + indices. */
  pool(): i32 {
    resetArena();
    const g = this.geometry();
    const inFloats = this.N * this.H * this.W * (this.C + this.inExtra);
    const outFloats = this.N * this.OH * this.OW * (this.C + this.outExtra);
    const input = floats(inFloats);
    fillRandom(input, inFloats);
    if (this.quantize) for (let i = 0; i < inFloats; i++) store<f32>(at(input, i), Mathf.round(load<f32>(at(input, i)) * 2));
    const out = floats(outFloats + 1), idx = floats(outFloats + 1), ro = floats(outFloats + 1), ri = floats(outFloats + 1);
    fill(out, outFloats + 1, SENTINEL); fill(idx, outFloats + 1, SENTINEL);
    fill(ro, outFloats + 1, SENTINEL); fill(ri, outFloats + 1, SENTINEL);
    maxpool_with_indices_f32(g, input, out, idx, this.order);
    maxpoolIdxRef(g, input, ro, ri, this.order);
    return countMismatches(out, ro, outFloats + 1) + countMismatches(idx, ri, outFloats + 1);
  }

  /** Unpool (the pooled tensor is the input: G_H/G_W <- pooled, G_OH/G_OW <- original). */
  unpool(perPlane: i32, growH: i32 = 0, growW: i32 = 0): i32 {
    resetArena();
    const g0 = this.geometry();
    const inS = this.C + this.inExtra, pS = this.C + this.outExtra;
    const inFloats = this.N * this.H * this.W * inS;
    const pooledFloats = this.N * this.OH * this.OW * pS;
    const input = floats(inFloats);
    fillRandom(input, inFloats);
    const pooled = floats(pooledFloats), idx = floats(pooledFloats);
    maxpool_with_indices_f32(g0, input, pooled, idx, 0);
    if (perPlane != 0) {
      for (let p = 0; p < this.N * this.OH * this.OW; p++) for (let c = 0; c < this.C; c++) {
        const a = at(idx, p * pS + c);
        const n = p / (this.OH * this.OW);
        store<f32>(a, load<f32>(a) - <f32>((n * this.C + c) * this.H * this.W));
      }
    }
    const g = floats(G_SIZE);
    memory.copy(g, g0, G_SIZE * 4);
    store<i32>(at(g, G_H), this.OH); store<i32>(at(g, G_W), this.OW);
    // output grid: the indices' grid (H x W) grown or cropped by growH / growW
    const OH = this.H + growH, OW = this.W + growW;
    store<i32>(at(g, G_OH), OH); store<i32>(at(g, G_OW), OW);
    store<i32>(at(g, G_IN_STRIDE), pS); store<i32>(at(g, G_OUT_STRIDE), inS);
    const outFloats = this.N * OH * OW * inS;
    const out = floats(outFloats + 1), ref = floats(outFloats + 1);
    fill(out, outFloats + 1, SENTINEL); fill(ref, outFloats + 1, SENTINEL);
    maxunpool_f32(g, pooled, idx, out, this.H, this.W, perPlane);
    unpoolRef(g, pooled, idx, ref, this.H, this.W, perPlane);
    // the extra channels of each output pixel are not the kernel's: copy them over before comparing
    for (let p = 0; p < this.N * OH * OW; p++) for (let c = this.C; c < inS; c++)
      store<f32>(at(out, p * inS + c), load<f32>(at(ref, p * inS + c)));
    return countMismatches(out, ref, outFloats + 1);
  }
}

describe('maxpool_with_indices_f32', () => {
  it('3x3 stride 2, odd sizes, C = 7 (tile + remainder)', () => {
    expect<i32>(new Case().pool()).toBe(0);
  });
  it('storage_order 1 (column-major indices)', () => {
    const c = new Case(); c.order = 1;
    expect<i32>(c.pool()).toBe(0);
  });
  it('ties: the first tap in scan order wins', () => {
    const c = new Case(); c.quantize = true; c.C = 9;
    expect<i32>(c.pool()).toBe(0);
  });
  it('asymmetric pads, dilation 2, KH != KW, strides 1x3, batch 2, channel slices', () => {
    const c = new Case(); c.PT = 1; c.PL = 1; c.PB = 2; c.PR = 1; c.DH = 2; c.KW = 2; c.SH = 1; c.SW = 3;
    c.N = 2; c.C = 5; c.inExtra = 3; c.outExtra = 2;
    expect<i32>(c.pool()).toBe(0);
  });
  it('5x5 window with pad 2 over a 5x5 image (ONNX precomputed_pads case), C = 1..3', () => {
    for (let C = 1; C <= 3; C++) {
      const c = new Case(); c.H = 5; c.W = 5; c.KH = 5; c.KW = 5; c.SH = 1; c.SW = 1; c.PT = 2; c.PL = 2; c.PB = 2; c.PR = 2; c.C = C;
      expect<i32>(c.pool()).toBe(0);
    }
  });
});

describe('maxunpool_f32', () => {
  it('ONNX global indices, 2x2 stride 2, odd sizes, batch 2', () => {
    const c = new Case(); c.KH = 2; c.KW = 2; c.N = 2;
    expect<i32>(c.unpool(0)).toBe(0);
  });
  it('PyTorch per-plane indices, 3x3 stride 2 (overlapping windows), channel slices', () => {
    const c = new Case(); c.inExtra = 2; c.outExtra = 3; c.C = 6;
    expect<i32>(c.unpool(1)).toBe(0);
  });
  it('output larger than the indices grid (ONNX output_shape: grid at the top-left)', () => {
    const c = new Case(); c.KH = 2; c.KW = 2; c.N = 2;
    expect<i32>(c.unpool(0, 2, 1)).toBe(0);
  });
  it('output smaller than the indices grid (taps beyond it are dropped), per-plane', () => {
    const c = new Case(); c.KH = 2; c.KW = 2;
    expect<i32>(c.unpool(1, -1, -2)).toBe(0);
  });
});
