// Specs for conv.ts (conv2d_pack / conv2d_scratch_size / conv2d_f32) against the direct NHWC
// scalar convolution in conv_ref.ts: pointwise and im2col paths, kernel sizes 1..7, strides,
// symmetric and asymmetric pads, dilation, groups, batch, channel-slice input/output,
// odd spatial sizes, several im2col blocks, residual + ReLU6 clamp; each case split into 2, 3
// and 5 parts must give the whole call's bits. Half-stored weights (FLAG_CONV_HALF): weights
// that are exact halves, their panels narrowed by narrowPanelsRef, must give the f32 panels' bits.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR,
  G_DH, G_DW, G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0, G_ACT_P1, G_RES_STRIDE,
  G_SIZE, G_FLAGS, FLAG_CONV_DIRECT, FLAG_CONV_HALF, ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_SILU, ACT_HARDSWISH,
} from '../codes';
import { conv2d_packed_size, conv2d_pack, conv2d_scratch_size, conv2d_f32 } from '../conv';
import { fillRandom, fill, countMismatches, countBitDiffs, floats, halfToF32Ref, narrowPanelsRef, randomHalf, resetArena, SPLITS } from './gemm_ref';
import { conv2dRef } from './conv_ref';

const SENTINEL: f32 = -777.25;

/** A conv case; defaults: 1 image, no pad, stride/dilation 1, one group, dense tensors. */
class Case {
  N: i32 = 1; H: i32 = 8; W: i32 = 8; C: i32 = 4; OC: i32 = 8;
  KH: i32 = 3; KW: i32 = 3; SH: i32 = 1; SW: i32 = 1;
  PT: i32 = 0; PL: i32 = 0; PB: i32 = 0; PR: i32 = 0; DH: i32 = 1; DW: i32 = 1;
  groups: i32 = 1; inExtra: i32 = 0; outExtra: i32 = 0;
  act: i32 = ACT_NONE; p0: f32 = 0; p1: f32 = 0; residual: bool = false; bias: bool = true;
  expectPointwise: bool = false;
  /** Also run with FLAG_CONV_DIRECT: the same bits as the im2col path, whole and split. */
  direct: bool = false;
  /**
   * Weights are random finite halves (subnormals too), and the case also runs on their
   * half-stored panels (FLAG_CONV_HALF; with FLAG_CONV_DIRECT too, which it overrides): the
   * f32 panels' bits, whole and split.
   */
  half: bool = false;

  /** Runs the kernel and the reference; returns the number of wrong floats (output buffer incl. untouched channels). */
  run(): i32 {
    resetArena();
    const OH = (this.H + this.PT + this.PB - this.DH * (this.KH - 1) - 1) / this.SH + 1;
    const OW = (this.W + this.PL + this.PR - this.DW * (this.KW - 1) - 1) / this.SW + 1;
    const inS = this.C + this.inExtra, outS = this.OC + this.outExtra, resS = this.OC + 1;
    const g = floats(G_SIZE);
    const fields: i32[] = [];
    for (let i = 0; i < G_SIZE; i++) fields.push(0);
    fields[G_N] = this.N; fields[G_H] = this.H; fields[G_W] = this.W; fields[G_C] = this.C;
    fields[G_OH] = OH; fields[G_OW] = OW; fields[G_OC] = this.OC;
    fields[G_KH] = this.KH; fields[G_KW] = this.KW; fields[G_SH] = this.SH; fields[G_SW] = this.SW;
    fields[G_PT] = this.PT; fields[G_PL] = this.PL; fields[G_PB] = this.PB; fields[G_PR] = this.PR;
    fields[G_DH] = this.DH; fields[G_DW] = this.DW; fields[G_GROUPS] = this.groups;
    fields[G_IN_STRIDE] = inS; fields[G_OUT_STRIDE] = outS; fields[G_RES_STRIDE] = resS;
    fields[G_ACT] = this.act; fields[G_ACT_P0] = reinterpret<i32>(this.p0); fields[G_ACT_P1] = reinterpret<i32>(this.p1);
    for (let i = 0; i < G_SIZE; i++) store<i32>(g + (<usize>i << 2), fields[i]);

    const inFloats = this.N * this.H * this.W * inS;
    const outFloats = this.N * OH * OW * outS;
    const wFloats = this.OC * (this.C / this.groups) * this.KH * this.KW;
    const input = floats(inFloats), w = floats(wFloats);
    const bias = this.bias ? floats(this.OC) : 0;
    fillRandom(input, inFloats);
    if (this.half) for (let i = 0; i < wFloats; i++) store<f32>(w + (<usize>i << 2), halfToF32Ref(randomHalf(15)));
    else fillRandom(w, wFloats);
    if (bias != 0) fillRandom(bias, this.OC);
    let res: usize = 0;
    if (this.residual) {
      res = floats(this.N * OH * OW * resS);
      fillRandom(res, this.N * OH * OW * resS);
    }
    const packed = floats(conv2d_packed_size(g));
    const scratchBytes = conv2d_scratch_size(g);
    if (this.expectPointwise) assert(scratchBytes == 0, 'pointwise path needs no scratch');
    const scratch = floats(scratchBytes / 4 + 1);
    fill(scratch, scratchBytes / 4 + 1, SENTINEL); // every im2col value must be written, padding too
    const out = floats(outFloats + 1), ref = floats(outFloats + 1);
    fill(out, outFloats + 1, SENTINEL);
    fill(ref, outFloats + 1, SENTINEL);

    conv2d_pack(w, bias, g, packed);
    conv2d_f32(g, input, packed, out, res, scratch, 0, 1);
    conv2dRef(g, input, w, bias, ref, res);
    let bad = countMismatches(out, ref, outFloats + 1);
    // split into parts run one after another (each with its own scratch): the same bits
    const outP = floats(outFloats + 1);
    const scratchP = floats(SPLITS[SPLITS.length - 1] * scratchBytes / 4 + 1);
    for (let s = 0; s < SPLITS.length; s++) {
      fill(outP, outFloats + 1, SENTINEL);
      for (let part = 0; part < SPLITS[s]; part++) conv2d_f32(g, input, packed, outP, res, scratchP, part, SPLITS[s]);
      bad += countBitDiffs(outP, out, outFloats + 1);
    }
    if (this.half) {
      const OCg = this.OC / this.groups, K = (this.C / this.groups) * this.KH * this.KW;
      const count = this.groups * ((OCg + 7) / 8);
      const halfPacked = floats(count * (8 + 4 * K));
      narrowPanelsRef(packed, count, K, halfPacked);
      for (let f = 0; f < 2; f++) {
        store<i32>(g + (<usize>G_FLAGS << 2), f == 0 ? FLAG_CONV_HALF : FLAG_CONV_HALF | FLAG_CONV_DIRECT);
        const hs = conv2d_scratch_size(g);
        const scratchH = floats(SPLITS[SPLITS.length - 1] * hs / 4 + 1);
        for (let s = 0; s <= SPLITS.length; s++) {
          const parts = s == 0 ? 1 : SPLITS[s - 1];
          fill(outP, outFloats + 1, SENTINEL);
          for (let part = 0; part < parts; part++) conv2d_f32(g, input, halfPacked, outP, res, scratchH, part, parts);
          bad += countBitDiffs(outP, out, outFloats + 1);
        }
      }
      store<i32>(g + (<usize>G_FLAGS << 2), 0);
    }
    if (this.direct) {
      store<i32>(g + (<usize>G_FLAGS << 2), FLAG_CONV_DIRECT);
      for (let s = 0; s <= SPLITS.length; s++) {
        const parts = s == 0 ? 1 : SPLITS[s - 1];
        fill(outP, outFloats + 1, SENTINEL);
        for (let part = 0; part < parts; part++) conv2d_f32(g, input, packed, outP, res, scratchP, part, parts);
        bad += countBitDiffs(outP, out, outFloats + 1);
      }
    }
    return bad;
  }
}

describe('conv2d_f32, pointwise path', () => {
  it('1x1 stride 1 is a GEMM over the pixel rows', () => {
    const c = new Case(); c.KH = 1; c.KW = 1; c.H = 7; c.W = 9; c.C = 13; c.OC = 17; c.expectPointwise = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('1x1 on channel slices (IN_STRIDE > C, OUT_STRIDE > OC), batch 2, residual + ReLU', () => {
    const c = new Case(); c.KH = 1; c.KW = 1; c.N = 2; c.H = 5; c.W = 3; c.C = 12; c.OC = 10;
    c.inExtra = 5; c.outExtra = 3; c.residual = true; c.act = ACT_RELU; c.expectPointwise = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('1x1 grouped (3 groups)', () => {
    const c = new Case(); c.KH = 1; c.KW = 1; c.C = 9; c.OC = 12; c.groups = 3; c.outExtra = 2; c.expectPointwise = true;
    expect<i32>(c.run()).toBe(0);
  });
});

describe('conv2d_f32, im2col path', () => {
  it('1x1 stride 2', () => {
    const c = new Case(); c.KH = 1; c.KW = 1; c.SH = 2; c.SW = 2; c.H = 9; c.W = 7; c.C = 6; c.OC = 11;
    expect<i32>(c.run()).toBe(0);
  });
  it('3x3 pad 1 (symmetric), odd sizes, no bias', () => {
    const c = new Case(); c.H = 11; c.W = 7; c.C = 5; c.OC = 9; c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1; c.bias = false;
    expect<i32>(c.run()).toBe(0);
  });
  it('3x3 asymmetric pads, stride 2', () => {
    const c = new Case(); c.H = 10; c.W = 9; c.C = 3; c.OC = 8; c.SH = 2; c.SW = 2;
    c.PT = 0; c.PL = 1; c.PB = 1; c.PR = 0;
    expect<i32>(c.run()).toBe(0);
  });
  it('3x3 pads larger on one side (2,0 / 0,2)', () => {
    const c = new Case(); c.H = 6; c.W = 6; c.C = 4; c.OC = 5; c.PT = 2; c.PL = 0; c.PB = 0; c.PR = 2;
    expect<i32>(c.run()).toBe(0);
  });
  it('5x5 pad 2', () => {
    const c = new Case(); c.KH = 5; c.KW = 5; c.H = 9; c.W = 11; c.C = 7; c.OC = 10; c.PT = 2; c.PL = 2; c.PB = 2; c.PR = 2;
    expect<i32>(c.run()).toBe(0);
  });
  it('7x7 stride 2 pad 3 (stem), 3 input channels', () => {
    const c = new Case(); c.KH = 7; c.KW = 7; c.SH = 2; c.SW = 2; c.H = 23; c.W = 19; c.C = 3; c.OC = 16;
    c.PT = 3; c.PL = 3; c.PB = 3; c.PR = 3;
    expect<i32>(c.run()).toBe(0);
  });
  it('dilation 2 (3x3, pad 2)', () => {
    const c = new Case(); c.H = 9; c.W = 10; c.C = 6; c.OC = 7; c.DH = 2; c.DW = 2; c.PT = 2; c.PL = 2; c.PB = 2; c.PR = 2;
    expect<i32>(c.run()).toBe(0);
  });
  it('dilation differing per axis, no pad, non-square kernel', () => {
    const c = new Case(); c.KH = 2; c.KW = 3; c.H = 9; c.W = 12; c.C = 4; c.OC = 9; c.DH = 3; c.DW = 2;
    expect<i32>(c.run()).toBe(0);
  });
  it('groups 2', () => {
    const c = new Case(); c.H = 7; c.W = 7; c.C = 8; c.OC = 12; c.groups = 2; c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1;
    expect<i32>(c.run()).toBe(0);
  });
  it('groups 3 with channel slices and residual', () => {
    const c = new Case(); c.H = 6; c.W = 5; c.C = 9; c.OC = 15; c.groups = 3; c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1;
    c.inExtra = 4; c.outExtra = 6; c.residual = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('batch 2', () => {
    const c = new Case(); c.N = 2; c.H = 7; c.W = 6; c.C = 5; c.OC = 6; c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1;
    expect<i32>(c.run()).toBe(0);
  });
  it('channel-slice input and output (IN_STRIDE > C, OUT_STRIDE > OC)', () => {
    const c = new Case(); c.H = 8; c.W = 9; c.C = 10; c.OC = 9; c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1;
    c.inExtra = 6; c.outExtra = 7;
    expect<i32>(c.run()).toBe(0);
  });
  it('residual + ReLU6 clamp', () => {
    const c = new Case(); c.H = 9; c.W = 9; c.C = 8; c.OC = 16; c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1;
    c.residual = true; c.act = ACT_CLAMP; c.p0 = 0; c.p1 = 6;
    expect<i32>(c.run()).toBe(0);
  });
  it('many im2col blocks (K = 576, 2 images of 17x13, with remainders)', () => {
    const c = new Case(); c.N = 2; c.H = 17; c.W = 13; c.C = 64; c.OC = 19; c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1;
    c.residual = true; c.act = ACT_RELU;
    expect<i32>(c.run()).toBe(0);
  });
  it('bounds its scratch to a block of pixels, not the whole image', () => {
    resetArena();
    const g = floats(G_SIZE);
    const f: i32[] = [1, 56, 56, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 64, 64, 0, 0, 0, 0, 64];
    for (let i = 0; i < G_SIZE; i++) store<i32>(g + (<usize>i << 2), f[i]);
    const bytes = conv2d_scratch_size(g);
    expect<bool>(bytes > 0 && bytes <= 256 * 1024).toBe(true);
  });
});

describe('conv2d_f32, direct path (FLAG_CONV_DIRECT): same bits as im2col', () => {
  it('3x3 stride 2 pad 1, 3 channels (the mobile stem), odd sizes', () => {
    const c = new Case(); c.H = 15; c.W = 13; c.C = 3; c.OC = 24; c.SH = 2; c.SW = 2;
    c.PT = 1; c.PL = 1; c.PB = 1; c.PR = 1; c.direct = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('stems with activations applied after the store (SiLU, hard-swish)', () => {
    const a = new Case(); a.H = 11; a.W = 14; a.C = 3; a.OC = 32; a.SH = 2; a.SW = 2;
    a.PT = 1; a.PL = 1; a.PB = 1; a.PR = 1; a.act = ACT_SILU; a.direct = true;
    expect<i32>(a.run()).toBe(0);
    const b = new Case(); b.H = 12; b.W = 9; b.C = 3; b.OC = 16; b.SH = 2; b.SW = 2;
    b.PT = 1; b.PL = 1; b.PB = 1; b.PR = 1; b.act = ACT_HARDSWISH; b.direct = true;
    expect<i32>(b.run()).toBe(0);
  });
  it('7x7 stride 2 pad 3, 3 channels, 20 outputs (two panels and a remainder), ReLU', () => {
    const c = new Case(); c.KH = 7; c.KW = 7; c.SH = 2; c.SW = 2; c.H = 23; c.W = 19; c.C = 3; c.OC = 20;
    c.PT = 3; c.PL = 3; c.PB = 3; c.PR = 3; c.act = ACT_RELU; c.direct = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('4x4 stride 4 patchify, no padding: every pixel interior', () => {
    const c = new Case(); c.KH = 4; c.KW = 4; c.SH = 4; c.SW = 4; c.H = 16; c.W = 20; c.C = 3; c.OC = 9; c.direct = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('asymmetric pads, stride 1, non-square kernel, batch 2, residual + ReLU6', () => {
    const c = new Case(); c.N = 2; c.KH = 2; c.KW = 3; c.H = 9; c.W = 11; c.C = 5; c.OC = 13;
    c.PT = 0; c.PL = 2; c.PB = 1; c.PR = 0; c.residual = true; c.act = ACT_CLAMP; c.p0 = 0; c.p1 = 6; c.direct = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('dilation 2 down the rows (1 across), channel-slice output', () => {
    const c = new Case(); c.H = 12; c.W = 9; c.C = 4; c.OC = 7; c.DH = 2; c.PT = 2; c.PL = 1; c.PB = 2; c.PR = 1;
    c.outExtra = 3; c.direct = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('no interior pixel (kernel wider than the image), and rows longer than an im2col block', () => {
    const a = new Case(); a.KH = 5; a.KW = 5; a.H = 4; a.W = 3; a.C = 2; a.OC = 5; a.PT = 2; a.PL = 2; a.PB = 2; a.PR = 2; a.direct = true;
    expect<i32>(a.run()).toBe(0);
    const b = new Case(); b.H = 3; b.W = 300; b.C = 64; b.OC = 10; b.PT = 1; b.PL = 1; b.PB = 1; b.PR = 1; b.direct = true;
    expect<i32>(b.run()).toBe(0);
  });
  it('one input channel, stride 1 (one-channel path): 1..17 filters, row widths with 0-3 leftover pixels', () => {
    // LeNet's first conv (5x5, 32x32, 6 filters, ReLU), and odd shapes: odd filter counts leave a
    // lone last filter, widths 4k+1..4k+3 send the row's tail through the GEMM, 17 filters exceed the path
    const ocs: i32[] = [1, 2, 3, 5, 6, 8, 9, 16, 17];
    for (let i = 0; i < ocs.length; i++) {
      const c = new Case(); c.N = 2; c.KH = 5; c.KW = 5; c.H = 11 + i; c.W = 21 + i; c.C = 1; c.OC = ocs[i];
      c.act = i % 3 == 0 ? ACT_RELU : i % 3 == 1 ? ACT_NONE : ACT_SILU; c.direct = true;
      expect<i32>(c.run()).toBe(0);
    }
    const l = new Case(); l.N = 3; l.KH = 5; l.KW = 5; l.H = 32; l.W = 32; l.C = 1; l.OC = 6; l.act = ACT_RELU; l.direct = true;
    expect<i32>(l.run()).toBe(0);
  });
  it('one input channel with padding, dilation down the rows, channel-slice output, ReLU6, residual (GEMM)', () => {
    const a = new Case(); a.KH = 3; a.KW = 7; a.H = 13; a.W = 30; a.C = 1; a.OC = 7; a.PT = 1; a.PL = 3; a.PB = 1; a.PR = 3;
    a.DH = 2; a.outExtra = 5; a.act = ACT_CLAMP; a.p0 = 0; a.p1 = 6; a.direct = true;
    expect<i32>(a.run()).toBe(0);
    const b = new Case(); b.KH = 3; b.KW = 3; b.H = 9; b.W = 17; b.C = 1; b.OC = 4; b.PT = 1; b.PL = 1; b.PB = 1; b.PR = 1;
    b.residual = true; b.act = ACT_RELU; b.direct = true;
    expect<i32>(b.run()).toBe(0);
    const d = new Case(); d.KH = 1; d.KW = 4; d.H = 5; d.W = 23; d.C = 1; d.OC = 3; d.SH = 2; d.act = ACT_HARDSWISH; d.direct = true;
    expect<i32>(d.run()).toBe(0);
  });
  it('falls back to im2col where taps are not adjacent (groups, column dilation, channel-slice input)', () => {
    const a = new Case(); a.H = 7; a.W = 7; a.C = 8; a.OC = 12; a.groups = 2; a.PT = 1; a.PL = 1; a.PB = 1; a.PR = 1; a.direct = true;
    expect<i32>(a.run()).toBe(0);
    const b = new Case(); b.H = 9; b.W = 10; b.C = 6; b.OC = 7; b.DH = 2; b.DW = 2; b.PT = 2; b.PL = 2; b.PB = 2; b.PR = 2; b.direct = true;
    expect<i32>(b.run()).toBe(0);
    const d = new Case(); d.H = 8; d.W = 9; d.C = 10; d.OC = 9; d.PT = 1; d.PL = 1; d.PB = 1; d.PR = 1; d.inExtra = 6; d.direct = true;
    expect<i32>(d.run()).toBe(0);
  });
});

describe('conv2d_f32, half-stored weights (FLAG_CONV_HALF)', () => {
  it('1x1 pointwise on channel slices, batch 2, residual + ReLU; grouped', () => {
    const c = new Case(); c.KH = 1; c.KW = 1; c.N = 2; c.H = 5; c.W = 7; c.C = 37; c.OC = 43;
    c.inExtra = 5; c.outExtra = 3; c.residual = true; c.act = ACT_RELU; c.half = true;
    expect<i32>(c.run()).toBe(0);
    const d = new Case(); d.KH = 1; d.KW = 1; d.C = 9; d.OC = 27; d.groups = 3; d.H = 9; d.W = 5; d.half = true;
    expect<i32>(d.run()).toBe(0);
  });
  it('3x3 im2col, stride 2, asymmetric pads, several 64-row blocks, panel bands for the split', () => {
    const c = new Case(); c.N = 2; c.H = 23; c.W = 19; c.C = 7; c.OC = 45; c.SH = 2; c.SW = 2;
    c.PT = 0; c.PL = 1; c.PB = 1; c.PR = 0; c.act = ACT_CLAMP; c.p0 = -0.5; c.p1 = 0.75; c.half = true; c.direct = true;
    expect<i32>(c.run()).toBe(0);
  });
  it('deep 3x3 (K = 9·150, 1350) dilated, grouped 5x5 with a residual', () => {
    const c = new Case(); c.H = 9; c.W = 11; c.C = 150; c.OC = 19; c.PT = 2; c.PL = 2; c.PB = 2; c.PR = 2; c.DH = 2; c.DW = 2; c.half = true;
    expect<i32>(c.run()).toBe(0);
    const d = new Case(); d.H = 8; d.W = 9; d.C = 6; d.OC = 21; d.KH = 5; d.KW = 5; d.PT = 2; d.PL = 2; d.PB = 2; d.PR = 2;
    d.groups = 3; d.residual = true; d.act = ACT_RELU; d.half = true;
    expect<i32>(d.run()).toBe(0);
  });
});
