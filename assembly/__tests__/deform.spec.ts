// Specs for deform.ts (deform_conv_f32 with conv2d_pack weights; ONNX DeformConv /
// torchvision deform_conv2d) against a direct scalar reference with torchvision's bilinear rule:
// v1 and v2 (mask), offset groups, conv groups (incl. offset groups straddling conv groups),
// strides, pads, dilation, batch, odd sizes, offsets reaching outside the input (zeros),
// integer offsets landing on the borders, no bias.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR,
  G_DH, G_DW, G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_RES_STRIDE, G_SIZE,
} from '../codes';
import { conv2d_packed_size, conv2d_pack } from '../conv';
import { deform_scratch_size, deform_conv_f32 } from '../deform';
import { at, fillRandom, fill, countMismatches, floats, resetArena } from './gemm_ref';

const SENTINEL: f32 = -777.25;

@inline function geo(g: usize, f: i32): i32 {
  return load<i32>(g + (<usize>f << 2));
}

/** torchvision's deform_conv2d bilinear sample of channel c of image n at (y, x). */
function sample(input: usize, n: i32, H: i32, W: i32, C: i32, c: i32, y: f32, x: f32): f32 {
  if (y <= -1 || y >= <f32>H || x <= -1 || x >= <f32>W) return 0;
  const y0 = <i32>Mathf.floor(y), x0 = <i32>Mathf.floor(x), y1 = y0 + 1, x1 = x0 + 1;
  const ly = y - <f32>y0, lx = x - <f32>x0, hy: f32 = 1 - ly, hx: f32 = 1 - lx;
  let v: f32 = 0;
  if (y0 >= 0 && x0 >= 0) v += hy * hx * load<f32>(at(input, ((n * H + y0) * W + x0) * C + c));
  if (y0 >= 0 && x1 <= W - 1) v += hy * lx * load<f32>(at(input, ((n * H + y0) * W + x1) * C + c));
  if (y1 <= H - 1 && x0 >= 0) v += ly * hx * load<f32>(at(input, ((n * H + y1) * W + x0) * C + c));
  if (y1 <= H - 1 && x1 <= W - 1) v += ly * lx * load<f32>(at(input, ((n * H + y1) * W + x1) * C + c));
  return v;
}

function deformRef(g: usize, input: usize, offset: usize, mask: usize, OG: i32, w: usize, bias: usize, output: usize): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C);
  const OH = geo(g, G_OH), OW = geo(g, G_OW), OC = geo(g, G_OC);
  const KH = geo(g, G_KH), KW = geo(g, G_KW), SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL), DH = geo(g, G_DH), DW = geo(g, G_DW);
  const groups = geo(g, G_GROUPS), Cg = C / groups, OCg = OC / groups, Cog = C / OG;
  const taps = KH * KW;
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const pix = (n * OH + oh) * OW + ow;
    for (let oc = 0; oc < OC; oc++) {
      const gi = oc / OCg;
      let s: f32 = bias != 0 ? load<f32>(at(bias, oc)) : 0;
      for (let c = gi * Cg; c < (gi + 1) * Cg; c++) {
        const og = c / Cog;
        for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
          const t = og * taps + kh * KW + kw;
          const dy = load<f32>(at(offset, pix * 2 * OG * taps + 2 * t));
          const dx = load<f32>(at(offset, pix * 2 * OG * taps + 2 * t + 1));
          const m: f32 = mask != 0 ? load<f32>(at(mask, pix * OG * taps + t)) : 1;
          const v = sample(input, n, H, W, C, c, <f32>(oh * SH - PT + kh * DH) + dy, <f32>(ow * SW - PL + kw * DW) + dx);
          s += m * v * load<f32>(at(w, ((oc * Cg + c - gi * Cg) * KH + kh) * KW + kw));
        }
      }
      store<f32>(at(output, pix * OC + oc), s);
    }
  }
}

class Case {
  N: i32 = 1; H: i32 = 7; W: i32 = 9; C: i32 = 6; OC: i32 = 5;
  KH: i32 = 3; KW: i32 = 3; SH: i32 = 1; SW: i32 = 1;
  PT: i32 = 1; PL: i32 = 1; PB: i32 = 1; PR: i32 = 1; DH: i32 = 1; DW: i32 = 1;
  groups: i32 = 1; OG: i32 = 1; useMask: bool = false; bias: bool = true;
  offScale: f32 = 2.5; integerOffsets: bool = false;

  run(): i32 {
    resetArena();
    const OH = (this.H + this.PT + this.PB - this.DH * (this.KH - 1) - 1) / this.SH + 1;
    const OW = (this.W + this.PL + this.PR - this.DW * (this.KW - 1) - 1) / this.SW + 1;
    const g = floats(G_SIZE);
    store<i32>(at(g, G_N), this.N); store<i32>(at(g, G_H), this.H); store<i32>(at(g, G_W), this.W);
    store<i32>(at(g, G_C), this.C); store<i32>(at(g, G_OH), OH); store<i32>(at(g, G_OW), OW);
    store<i32>(at(g, G_OC), this.OC); store<i32>(at(g, G_KH), this.KH); store<i32>(at(g, G_KW), this.KW);
    store<i32>(at(g, G_SH), this.SH); store<i32>(at(g, G_SW), this.SW);
    store<i32>(at(g, G_PT), this.PT); store<i32>(at(g, G_PL), this.PL);
    store<i32>(at(g, G_PB), this.PB); store<i32>(at(g, G_PR), this.PR);
    store<i32>(at(g, G_DH), this.DH); store<i32>(at(g, G_DW), this.DW); store<i32>(at(g, G_GROUPS), this.groups);
    store<i32>(at(g, G_IN_STRIDE), this.C); store<i32>(at(g, G_OUT_STRIDE), this.OC); store<i32>(at(g, G_RES_STRIDE), this.OC);
    const taps = this.KH * this.KW;
    const inFloats = this.N * this.H * this.W * this.C, outFloats = this.N * OH * OW * this.OC;
    const offFloats = this.N * OH * OW * 2 * this.OG * taps, maskFloats = this.N * OH * OW * this.OG * taps;
    const wFloats = this.OC * (this.C / this.groups) * taps;
    const input = floats(inFloats), w = floats(wFloats), bias = this.bias ? floats(this.OC) : 0;
    const offset = floats(offFloats), mask = this.useMask ? floats(maskFloats) : 0;
    fillRandom(input, inFloats);
    fillRandom(w, wFloats);
    if (bias != 0) fillRandom(bias, this.OC);
    fillRandom(offset, offFloats);
    for (let i = 0; i < offFloats; i++) {
      let v = load<f32>(at(offset, i)) * this.offScale;
      if (this.integerOffsets) v = Mathf.round(v);
      store<f32>(at(offset, i), v);
    }
    if (mask != 0) fillRandom(mask, maskFloats);
    const packed = floats(conv2d_packed_size(g));
    const sb = deform_scratch_size(g);
    const scratch = floats(sb / 4 + 1);
    fill(scratch, sb / 4 + 1, SENTINEL);
    const out = floats(outFloats + 1), ref = floats(outFloats + 1);
    fill(out, outFloats + 1, SENTINEL);
    fill(ref, outFloats + 1, SENTINEL);
    conv2d_pack(w, bias, g, packed);
    deform_conv_f32(g, input, offset, mask, this.OG, packed, out, scratch);
    deformRef(g, input, offset, mask, this.OG, w, bias, ref);
    return countMismatches(out, ref, outFloats + 1);
  }
}

describe('deform_conv_f32', () => {
  it('v1, 3x3 pad 1, odd sizes, offsets reaching outside the input', () => {
    expect<i32>(new Case().run()).toBe(0);
  });
  it('v2 (mask) with bias', () => {
    const c = new Case(); c.useMask = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('zero offsets equal a plain convolution sample grid, 2x2 kernel, no pad', () => {
    const c = new Case(); c.offScale = 0; c.KH = 2; c.KW = 2; c.PT = 0; c.PL = 0; c.PB = 0; c.PR = 0;
    expect<i32>(c.run()).toBe(0);
  });
  it('integer offsets landing on and past the borders', () => {
    const c = new Case(); c.integerOffsets = true; c.offScale = 4;
    expect<i32>(c.run()).toBe(0);
  });
  it('3 offset groups, 2 conv groups (offset groups straddle conv groups), mask', () => {
    const c = new Case(); c.C = 6; c.OG = 3; c.groups = 2; c.OC = 6; c.useMask = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('2 offset groups over 11-channel groups (vector + remainder), stride 2, dilation 2, batch 2', () => {
    const c = new Case(); c.C = 22; c.OG = 2; c.OC = 9; c.SH = 2; c.SW = 2; c.DH = 2; c.DW = 2; c.N = 2;
    c.PT = 2; c.PL = 2; c.PB = 2; c.PR = 2; c.H = 11; c.W = 13;
    expect<i32>(c.run()).toBe(0);
  });
  it('KH != KW, asymmetric pads, no bias, several GEMM blocks', () => {
    const c = new Case(); c.KH = 3; c.KW = 2; c.PT = 0; c.PL = 1; c.PB = 2; c.PR = 0; c.bias = false;
    c.H = 25; c.W = 21; c.C = 5; c.OC = 13;
    expect<i32>(c.run()).toBe(0);
  });
});
