// Specs for winograd.ts (F(2x2, 3x3) and F(4x4, 3x3), every case run with both tiles:
// wino_pack / wino_scratch_size / wino_conv_f32) against
// conv_ref.ts's direct convolution summed in f64 (conv3x3Ref64 below): output sizes 1..13
// (partial right/bottom tiles), channel counts with remainders (1, 3, 17, 33), pads 0/1 and asymmetric, batch 2, residual +
// clamp, channel-slice input/output/residual, untouched channels of a slice, and a 512-channel
// accuracy case. Inputs, weights and bias are uniform in [-1, 1).
//
// Accuracy bound asserted, as |y - ref| / (1 + |ref|) with weights uniform in [-1, 1) (not
// scaled by the fan-in, so |ref| grows with C): F(2x2) 1e-5 for C <= 64 and 3e-5 at C = 512
// (measured 2.4e-5; conv2d_f32's im2col path 1.8e-5 on the same case); F(4x4) 6e-5 for C <= 64
// (measured 3.6e-5 at 64 channels) and 2e-4 at C = 512 (measured 1.4e-4): 6x F(2x2)'s error,
// which is why the host gives F(4x4) only layers with small filters (src/ops/conv.ts).
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR,
  G_DH, G_DW, G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0, G_ACT_P1, G_RES_STRIDE,
  G_SIZE, G_FLAGS, ACT_NONE, ACT_RELU, ACT_CLAMP, FLAG_WINO_F4,
} from '../codes';
import { wino_packed_size, wino_pack, wino_scratch_size, wino_conv_f32 } from '../winograd';
import { fillRandom, fill, floats, resetArena, applyAct, countBitDiffs, SPLITS } from './gemm_ref';

const SENTINEL: f32 = -777.25;

/**
 * conv_ref.ts's direct convolution (groups 1, 3x3, stride 1), summing in f64 and rounding once,
 * so the error measured is the kernel's alone.
 */
function conv3x3Ref64(g: usize, input: usize, w: usize, bias: usize, output: usize, res: usize): void {
  const N = load<i32>(g + (<usize>G_N << 2)), H = load<i32>(g + (<usize>G_H << 2)), W = load<i32>(g + (<usize>G_W << 2));
  const C = load<i32>(g + (<usize>G_C << 2)), OH = load<i32>(g + (<usize>G_OH << 2)), OW = load<i32>(g + (<usize>G_OW << 2));
  const OC = load<i32>(g + (<usize>G_OC << 2)), PT = load<i32>(g + (<usize>G_PT << 2)), PL = load<i32>(g + (<usize>G_PL << 2));
  const inS = load<i32>(g + (<usize>G_IN_STRIDE << 2)), outS = load<i32>(g + (<usize>G_OUT_STRIDE << 2));
  const resS = load<i32>(g + (<usize>G_RES_STRIDE << 2)), act = load<i32>(g + (<usize>G_ACT << 2));
  const p0 = load<f32>(g + (<usize>G_ACT_P0 << 2)), p1 = load<f32>(g + (<usize>G_ACT_P1 << 2));
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const pix = (n * OH + oh) * OW + ow;
        for (let oc = 0; oc < OC; oc++) {
          let s: f64 = bias != 0 ? <f64>load<f32>(bias + (<usize>oc << 2)) : 0;
          for (let kh = 0; kh < 3; kh++) {
            for (let kw = 0; kw < 3; kw++) {
              const ih = oh - PT + kh, iw = ow - PL + kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (let c = 0; c < C; c++) {
                const x = <f64>load<f32>(input + (<usize>(((n * H + ih) * W + iw) * inS + c) << 2));
                s += x * <f64>load<f32>(w + (<usize>(((oc * C + c) * 3 + kh) * 3 + kw) << 2));
              }
            }
          }
          if (res != 0) s += <f64>load<f32>(res + (<usize>(pix * resS + oc) << 2));
          store<f32>(output + (<usize>(pix * outS + oc) << 2), applyAct(<f32>s, act, p0, p1));
        }
      }
    }
  }
}

/** Largest |got - ref| / (1 + |ref|) over n floats (a NaN or a sentinel mismatch counts as 1e9). */
function maxRelErr(got: usize, ref: usize, n: i32): f64 {
  let worst: f64 = 0;
  for (let i = 0; i < n; i++) {
    const r = <f64>load<f32>(ref + (<usize>i << 2)), x = <f64>load<f32>(got + (<usize>i << 2));
    let e = Math.abs(x - r) / (1 + Math.abs(r));
    if (!(e == e)) e = 1e9;
    if ((r == SENTINEL) != (x == SENTINEL)) e = 1e9;
    if (e > worst) worst = e;
  }
  return worst;
}

/** A 3x3 stride-1 conv case; defaults: 1 image, pad 1, dense tensors, bias, no activation. */
class Case {
  N: i32 = 1; H: i32 = 8; W: i32 = 8; C: i32 = 4; OC: i32 = 8;
  PT: i32 = 1; PL: i32 = 1; PB: i32 = 1; PR: i32 = 1;
  inExtra: i32 = 0; outExtra: i32 = 0; resExtra: i32 = 1;
  act: i32 = ACT_NONE; p0: f32 = 0; p1: f32 = 0; residual: bool = false; bias: bool = true;
  f4: bool = false;

  /** Runs the kernel and the reference over the whole output buffer; returns the worst relative error. */
  run(): f64 {
    resetArena();
    const OH = this.H + this.PT + this.PB - 2, OW = this.W + this.PL + this.PR - 2;
    const inS = this.C + this.inExtra, outS = this.OC + this.outExtra, resS = this.OC + this.resExtra;
    const g = floats(G_SIZE);
    const fields: i32[] = [];
    for (let i = 0; i < G_SIZE; i++) fields.push(0);
    fields[G_N] = this.N; fields[G_H] = this.H; fields[G_W] = this.W; fields[G_C] = this.C;
    fields[G_OH] = OH; fields[G_OW] = OW; fields[G_OC] = this.OC;
    fields[G_KH] = 3; fields[G_KW] = 3; fields[G_SH] = 1; fields[G_SW] = 1;
    fields[G_PT] = this.PT; fields[G_PL] = this.PL; fields[G_PB] = this.PB; fields[G_PR] = this.PR;
    fields[G_DH] = 1; fields[G_DW] = 1; fields[G_GROUPS] = 1;
    fields[G_IN_STRIDE] = inS; fields[G_OUT_STRIDE] = outS; fields[G_RES_STRIDE] = resS;
    fields[G_ACT] = this.act; fields[G_ACT_P0] = reinterpret<i32>(this.p0); fields[G_ACT_P1] = reinterpret<i32>(this.p1);
    fields[G_FLAGS] = this.f4 ? FLAG_WINO_F4 : 0;
    for (let i = 0; i < G_SIZE; i++) store<i32>(g + (<usize>i << 2), fields[i]);

    const inFloats = this.N * this.H * this.W * inS;
    const outFloats = this.N * OH * OW * outS;
    const wFloats = this.OC * this.C * 9;
    const input = floats(inFloats), w = floats(wFloats);
    const bias = this.bias ? floats(this.OC) : 0;
    fillRandom(input, inFloats);
    fillRandom(w, wFloats);
    if (bias != 0) fillRandom(bias, this.OC);
    let res: usize = 0;
    if (this.residual) {
      res = floats(this.N * OH * OW * resS);
      fillRandom(res, this.N * OH * OW * resS);
    }
    const packed = floats(wino_packed_size(g));
    const scratchBytes = wino_scratch_size(g);
    const scratch = floats(scratchBytes / 4 + 1);
    fill(scratch, scratchBytes / 4 + 1, SENTINEL);
    const out = floats(outFloats + 1), ref = floats(outFloats + 1);
    fill(out, outFloats + 1, SENTINEL);
    fill(ref, outFloats + 1, SENTINEL);

    wino_pack(w, bias, g, packed);
    wino_conv_f32(g, input, packed, out, res, scratch, 0, 1);
    conv3x3Ref64(g, input, w, bias, ref, res);
    // split into parts run one after another (each with its own scratch): the same bits
    const outP = floats(outFloats + 1);
    const scratchP = floats(SPLITS[SPLITS.length - 1] * scratchBytes / 4 + 1);
    for (let s = 0; s < SPLITS.length; s++) {
      fill(outP, outFloats + 1, SENTINEL);
      for (let part = 0; part < SPLITS[s]; part++) wino_conv_f32(g, input, packed, outP, res, scratchP, part, SPLITS[s]);
      if (countBitDiffs(outP, out, outFloats + 1) != 0) return 1e9;
    }
    return maxRelErr(out, ref, outFloats + 1);
  }
}

const TOL: f64 = 1e-5;
const TOL4: f64 = 6e-5;
const TOL4_512: f64 = 2e-4;

/** Runs the case with F(2x2) and with F(4x4) tiles, each against its bound. */
function checkBoth(c: Case): void {
  c.f4 = false;
  expect<f64>(c.run()).toBeLessThanOrEqual(TOL);
  c.f4 = true;
  expect<f64>(c.run()).toBeLessThanOrEqual(TOL4);
}

describe('wino_conv_f32, F(2x2, 3x3) and F(4x4, 3x3)', () => {
  it('output sizes 1..13 (partial tiles at the right/bottom), pad 1 and pad 0', () => {
    const sizes: i32[] = [1, 2, 3, 4, 5, 6, 7, 9, 11, 13];
    for (let i = 0; i < sizes.length; i++) {
      for (let j = 0; j < sizes.length; j += 3) {
        for (let pad = 0; pad < 2; pad++) {
          const c = new Case();
          c.H = sizes[i] + 2 - 2 * pad; c.W = sizes[(i + j) % sizes.length] + 2 - 2 * pad;
          c.PT = pad; c.PL = pad; c.PB = pad; c.PR = pad; c.C = 3; c.OC = 5;
          checkBoth(c);
        }
      }
    }
  });
  it('C = 1, OC = 1', () => {
    const c = new Case(); c.H = 7; c.W = 5; c.C = 1; c.OC = 1;
    checkBoth(c);
  });
  it('C = 17, OC = 33, no bias', () => {
    const c = new Case(); c.H = 10; c.W = 13; c.C = 17; c.OC = 33; c.bias = false;
    checkBoth(c);
  });
  it('C = 33, OC = 3', () => {
    const c = new Case(); c.H = 9; c.W = 6; c.C = 33; c.OC = 3;
    checkBoth(c);
  });
  it('asymmetric pads (0,1 / 1,0) and (2,0 / 0,2)', () => {
    const a = new Case(); a.H = 10; a.W = 9; a.C = 5; a.OC = 9; a.PT = 0; a.PL = 1; a.PB = 1; a.PR = 0;
    checkBoth(a);
    const b = new Case(); b.H = 6; b.W = 7; b.C = 4; b.OC = 6; b.PT = 2; b.PL = 0; b.PB = 0; b.PR = 2;
    checkBoth(b);
  });
  it('batch 2, several blocks of tiles, ReLU', () => {
    const c = new Case(); c.N = 2; c.H = 29; c.W = 27; c.C = 17; c.OC = 19; c.act = ACT_RELU;
    checkBoth(c);
  });
  it('batch 2, residual + ReLU6 clamp, channel slices (input, output, residual strides)', () => {
    const c = new Case(); c.N = 2; c.H = 11; c.W = 13; c.C = 33; c.OC = 17;
    c.inExtra = 5; c.outExtra = 3; c.resExtra = 6; c.residual = true; c.act = ACT_CLAMP; c.p0 = 0; c.p1 = 6;
    checkBoth(c);
  });
  it('64 channels, residual', () => {
    const c = new Case(); c.H = 14; c.W = 14; c.C = 64; c.OC = 64; c.residual = true;
    checkBoth(c);
  });
  it('512 input channels (ResNet stage 4)', () => {
    const c = new Case(); c.H = 7; c.W = 7; c.C = 512; c.OC = 16;
    const e = c.run();
    log<string>('F(2x2) max |y - ref| / (1 + |ref|) at C = 512: ' + e.toString());
    expect<f64>(e).toBeLessThanOrEqual(3e-5);
    c.f4 = true;
    const e4 = c.run();
    log<string>('F(4x4) max |y - ref| / (1 + |ref|) at C = 512: ' + e4.toString());
    expect<f64>(e4).toBeLessThanOrEqual(TOL4_512);
  });
});
