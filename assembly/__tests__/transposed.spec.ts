// Specs for transposed.ts (convt_pack / convt_scratch_size / convt_f32; ONNX ConvTranspose)
// against a direct scalar scatter over the ONNX weight layout [C][OC/groups][KH][KW]: odd sizes
// in every dimension, strides 1..3 (unequal), pads incl. asymmetric, output padding, dilation,
// groups, batch, channel-slice strides, no bias, several GEMM blocks.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR,
  G_DH, G_DW, G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_SIZE,
} from '../codes';
import { convt_packed_size, convt_pack, convt_scratch_size, convt_f32 } from '../transposed';
import { at, fillRandom, fill, countMismatches, floats, resetArena } from './gemm_ref';

const SENTINEL: f32 = -777.25;

@inline function geo(g: usize, f: i32): i32 {
  return load<i32>(g + (<usize>f << 2));
}

/** Scalar reference: out = bias, then every input value times every tap added where it lands. */
function convtRef(g: usize, input: usize, w: usize, bias: usize, output: usize): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C);
  const OH = geo(g, G_OH), OW = geo(g, G_OW), OC = geo(g, G_OC);
  const KH = geo(g, G_KH), KW = geo(g, G_KW), SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL), DH = geo(g, G_DH), DW = geo(g, G_DW);
  const groups = geo(g, G_GROUPS), Cg = C / groups, OCg = OC / groups;
  const inS = geo(g, G_IN_STRIDE), outS = geo(g, G_OUT_STRIDE);
  for (let p = 0; p < N * OH * OW; p++)
    for (let oc = 0; oc < OC; oc++) store<f32>(at(output, p * outS + oc), bias != 0 ? load<f32>(at(bias, oc)) : 0);
  for (let n = 0; n < N; n++) for (let ih = 0; ih < H; ih++) for (let iw = 0; iw < W; iw++) {
    for (let c = 0; c < C; c++) {
      const x = load<f32>(at(input, ((n * H + ih) * W + iw) * inS + c));
      const gi = c / Cg;
      for (let ocg = 0; ocg < OCg; ocg++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
        const oh = ih * SH - PT + kh * DH, ow = iw * SW - PL + kw * DW;
        if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
        const o = at(output, ((n * OH + oh) * OW + ow) * outS + gi * OCg + ocg);
        store<f32>(o, load<f32>(o) + x * load<f32>(at(w, ((c * OCg + ocg) * KH + kh) * KW + kw)));
      }
    }
  }
}

class Case {
  N: i32 = 1; H: i32 = 5; W: i32 = 7; C: i32 = 5; OC: i32 = 7;
  KH: i32 = 3; KW: i32 = 3; SH: i32 = 1; SW: i32 = 1;
  PT: i32 = 0; PL: i32 = 0; PB: i32 = 0; PR: i32 = 0; DH: i32 = 1; DW: i32 = 1;
  OPH: i32 = 0; OPW: i32 = 0; groups: i32 = 1; inExtra: i32 = 0; outExtra: i32 = 0; bias: bool = true;

  run(): i32 {
    resetArena();
    const OH = (this.H - 1) * this.SH - this.PT - this.PB + this.DH * (this.KH - 1) + 1 + this.OPH;
    const OW = (this.W - 1) * this.SW - this.PL - this.PR + this.DW * (this.KW - 1) + 1 + this.OPW;
    const inS = this.C + this.inExtra, outS = this.OC + this.outExtra;
    const g = floats(G_SIZE);
    store<i32>(at(g, G_N), this.N); store<i32>(at(g, G_H), this.H); store<i32>(at(g, G_W), this.W);
    store<i32>(at(g, G_C), this.C); store<i32>(at(g, G_OH), OH); store<i32>(at(g, G_OW), OW);
    store<i32>(at(g, G_OC), this.OC); store<i32>(at(g, G_KH), this.KH); store<i32>(at(g, G_KW), this.KW);
    store<i32>(at(g, G_SH), this.SH); store<i32>(at(g, G_SW), this.SW);
    store<i32>(at(g, G_PT), this.PT); store<i32>(at(g, G_PL), this.PL);
    store<i32>(at(g, G_PB), this.PB); store<i32>(at(g, G_PR), this.PR);
    store<i32>(at(g, G_DH), this.DH); store<i32>(at(g, G_DW), this.DW); store<i32>(at(g, G_GROUPS), this.groups);
    store<i32>(at(g, G_IN_STRIDE), inS); store<i32>(at(g, G_OUT_STRIDE), outS);
    const inFloats = this.N * this.H * this.W * inS, outFloats = this.N * OH * OW * outS;
    const wFloats = this.C * (this.OC / this.groups) * this.KH * this.KW;
    const input = floats(inFloats), w = floats(wFloats), bias = this.bias ? floats(this.OC) : 0;
    fillRandom(input, inFloats);
    fillRandom(w, wFloats);
    if (bias != 0) fillRandom(bias, this.OC);
    const packed = floats(convt_packed_size(g));
    const scratch = floats(convt_scratch_size(g) / 4 + 1);
    fill(scratch, convt_scratch_size(g) / 4 + 1, SENTINEL);
    const out = floats(outFloats + 1), ref = floats(outFloats + 1);
    fill(out, outFloats + 1, SENTINEL);
    fill(ref, outFloats + 1, SENTINEL);
    convt_pack(w, bias, g, packed);
    convt_f32(g, input, packed, out, scratch);
    convtRef(g, input, w, bias, ref);
    return countMismatches(out, ref, outFloats + 1);
  }
}

describe('convt_f32', () => {
  it('3x3 stride 1, no pad (the full correlation), odd sizes', () => {
    expect<i32>(new Case().run()).toBe(0);
  });
  it('2x2 stride 2 (no overlap)', () => {
    const c = new Case(); c.KH = 2; c.KW = 2; c.SH = 2; c.SW = 2; c.C = 9; c.OC = 11;
    expect<i32>(c.run()).toBe(0);
  });
  it('tiled (stride = kernel, every output pixel one tap): OC 1, 2x3 stride 2x3, batch 2, channel-slice output, many blocks, no bias', () => {
    const a = new Case(); a.KH = 2; a.KW = 2; a.SH = 2; a.SW = 2; a.C = 24; a.OC = 1; a.H = 37; a.W = 41;
    expect<i32>(a.run()).toBe(0);
    const b = new Case(); b.KH = 2; b.KW = 3; b.SH = 2; b.SW = 3; b.C = 5; b.OC = 7; b.N = 2; b.outExtra = 3; b.inExtra = 2;
    expect<i32>(b.run()).toBe(0);
    const c = new Case(); c.KH = 3; c.KW = 3; c.SH = 3; c.SW = 3; c.C = 6; c.OC = 9; c.bias = false; c.H = 29; c.W = 23;
    expect<i32>(c.run()).toBe(0);
  });
  it('stride = kernel with output padding (the padded pixels hold the bias: not tiled)', () => {
    const c = new Case(); c.KH = 2; c.KW = 2; c.SH = 2; c.SW = 2; c.OPH = 1; c.OPW = 1; c.C = 5; c.OC = 6;
    expect<i32>(c.run()).toBe(0);
  });
  it('4x4 stride 2 pad 1 (overlapping checkerboard sums)', () => {
    const c = new Case(); c.KH = 4; c.KW = 4; c.SH = 2; c.SW = 2; c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1;
    c.C = 13; c.OC = 6;
    expect<i32>(c.run()).toBe(0);
  });
  it('3x3 strides 3x2, asymmetric pads, output padding', () => {
    const c = new Case(); c.SH = 3; c.SW = 2; c.PT = 1; c.PL = 2; c.PB = 0; c.PR = 1; c.OPH = 2; c.OPW = 1;
    expect<i32>(c.run()).toBe(0);
  });
  it('dilation 2x3, KH != KW, no bias', () => {
    const c = new Case(); c.KH = 2; c.KW = 3; c.DH = 2; c.DW = 3; c.SH = 2; c.bias = false;
    expect<i32>(c.run()).toBe(0);
  });
  it('groups 3, batch 2, channel-slice input and output', () => {
    const c = new Case(); c.groups = 3; c.C = 6; c.OC = 9; c.N = 2; c.inExtra = 3; c.outExtra = 2; c.SH = 2; c.SW = 2;
    c.PT = 1; c.PB = 1;
    expect<i32>(c.run()).toBe(0);
  });
  it('depthwise-style groups = C = OC, 5x5 stride 3', () => {
    const c = new Case(); c.groups = 5; c.C = 5; c.OC = 5; c.KH = 5; c.KW = 5; c.SH = 3; c.SW = 3; c.PT = 2; c.PL = 2; c.PB = 2; c.PR = 2;
    expect<i32>(c.run()).toBe(0);
  });
  it('many GEMM blocks (input pixels > one block), wide columns', () => {
    const c = new Case(); c.H = 23; c.W = 29; c.C = 7; c.OC = 37; c.KH = 4; c.KW = 4; c.SH = 2; c.SW = 2; c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1;
    expect<i32>(c.run()).toBe(0);
  });
  it('1x1 kernel, stride 2 (isolated output pixels stay at the bias)', () => {
    const c = new Case(); c.KH = 1; c.KW = 1; c.SH = 2; c.SW = 2; c.OPH = 1; c.OPW = 1;
    expect<i32>(c.run()).toBe(0);
  });
});
