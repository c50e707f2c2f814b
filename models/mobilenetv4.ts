// MobileNet V4 (Qin et al. 2024, "MobileNetV4: Universal Models for the Mobile Ecosystem").
// Reference: timm 1.0.29 `mobilenetv4_conv_{small,medium,large}` and
// `mobilenetv4_hybrid_{medium,large}` — the MobileNetV3 class built by `_gen_mobilenet_v4`
// (timm/models/mobilenetv3.py), its blocks UniversalInvertedResidual, EdgeResidual, ConvBnAct and
// MobileAttention (timm/models/_efficientnet_blocks.py) and MultiQueryAttention2d
// (timm/layers/attention2d.py). Weight names are timm's state_dict keys.
//
// The stage tables are timm's arch-def strings (`<type>_r<repeat>_..._c<out>`), decoded here:
//   cn   conv + BN + act                         k kernel, s stride
//   er   Fused IB (EdgeResidual): kxk conv expand + BN + act, 1x1 project + BN
//   uir  Universal Inverted Bottleneck: [a: start dw] 1x1 expand [k: middle dw] 1x1 project
//        [p: end dw]; a/k/p = 0 means absent. IB = k only, ConvNext-like = a only,
//        ExtraDW = a and k, FFN = neither.
//   mqa  Mobile-MQA: h query heads sharing one key and one value head of d channels; v = stride
//        of the strided depthwise conv (+ BN) that down-samples keys and values.
// Every conv pads symmetrically (timm's default pad_type '': ((s - 1) + d (k - 1)) / 2), the
// hybrids scale every UIB and MQA output by a learned per-channel layer scale before the residual.
//
// The blocks (UIB, Mobile-MQA, layer scale) are models/blocks/mobile.ts's.
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import { type Act, act, makeDivisible } from './blocks/common';
import { mobileMQA, uib } from './blocks/mobile';
import { type CreateModelOptions, inputHW, type ZooFamily } from './registry';

/** timm's symmetric padding for a k x k conv of stride s (dilation 1). */
const padFor = (k: number, s: number) => Math.floor((s - 1 + (k - 1)) / 2);

/** timm's round_channels: channels * multiplier made divisible by 8 (not below 90%). */
const roundChannels = (c: number, m: number) => (m === 1 ? c : makeDivisible(c * m));

// ---------------------------------------------------------------------------------------------
// arch-def strings

interface BlockDef {
  type: 'cn' | 'er' | 'uir' | 'mqa';
  repeat: number;
  stride: number;
  out: number;
  /** cn / er kernel, uir middle dw kernel, mqa kv down-sampling dw kernel */
  k: number;
  /** uir start / end dw kernels (0 = none) */
  a: number;
  p: number;
  /** expansion ratio (er, uir) */
  e: number;
  /** mqa: heads, key = value dim, kv stride */
  h: number;
  d: number;
  v: number;
}

/** Decode one timm arch-def string such as 'uir_r2_a3_k5_s1_e4_c256' or 'mqa_r1_k3_h4_s1_v2_d64_c160'. */
function decode(s: string): BlockDef {
  const [type, ...ops] = s.split('_');
  if (type !== 'cn' && type !== 'er' && type !== 'uir' && type !== 'mqa') throw new ValueError(`MobileNetV4: unknown block type in '${s}'`);
  const o: Record<string, number> = {};
  for (const op of ops) {
    const m = /^([a-z]+)(\d+(?:\.\d+)?)$/.exec(op);
    if (!m) throw new ValueError(`MobileNetV4: cannot read '${op}' in '${s}'`);
    o[m[1]] = Number(m[2]);
  }
  return {
    type, repeat: o.r, stride: o.s, out: o.c, k: o.k ?? 0, a: o.a ?? 0, p: o.p ?? 0, e: o.e ?? 1,
    h: o.h ?? 0, d: o.d ?? 0, v: o.v ?? 1,
  };
}

// ---------------------------------------------------------------------------------------------
// blocks

/** ConvBnAct block (timm 'cn'): conv + BN + act, no skip in these models. */
function convBlock(b: GraphBuilder, x: string, p: string, d: BlockDef, stride: number, a: Act, w: number): string {
  const out = roundChannels(d.out, w);
  const y = b.conv(x, `${p}.conv`, { out, kernel: d.k, stride, pad: padFor(d.k, stride), bias: false });
  return act(b, b.batchNorm(y, `${p}.bn1`), a);
}

/** Fused IB (timm 'er', EdgeResidual): k x k conv expand + BN + act, 1x1 project + BN, skip if shapes allow. */
function fusedIB(b: GraphBuilder, x: string, p: string, d: BlockDef, stride: number, a: Act, w: number): string {
  const C = b.shape(x)[1];
  const out = roundChannels(d.out, w);
  const mid = makeDivisible(C * d.e);
  let y = b.conv(x, `${p}.conv_exp`, { out: mid, kernel: d.k, stride, pad: padFor(d.k, stride), bias: false });
  y = act(b, b.batchNorm(y, `${p}.bn1`), a);
  y = b.batchNorm(b.conv(y, `${p}.conv_pwl`, { out, kernel: 1, bias: false }), `${p}.bn2`);
  return C === out && stride === 1 ? b.add(y, x) : y;
}

// ---------------------------------------------------------------------------------------------
// the network

interface V4Config {
  name: string;
  native: number;
  stem: number;
  act: Act;
  /** hybrids: layer scale in every UIB and attention block */
  layerScale: boolean;
  stages: string[][];
}

function _mobilenetv4(cfg: V4Config, o: CreateModelOptions): GraphBuilder {
  const w = o.widthMultiplier ?? 1;
  if (!(w > 0) || !Number.isFinite(w)) throw new ValueError(`${cfg.name}: widthMultiplier must be a positive number, got ${w}`);
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, cfg.native);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  const stem = w < 1 ? cfg.stem : roundChannels(cfg.stem, w); // timm fixes the stem below 1.0
  x = b.conv(x, 'conv_stem', { out: stem, kernel: 3, stride: 2, pad: 1, bias: false });
  x = act(b, b.batchNorm(x, 'bn1'), cfg.act);
  cfg.stages.forEach((rows, si) => {
    let bi = 0;
    for (const row of rows) {
      const d = decode(row);
      for (let r = 0; r < d.repeat; r++, bi++) {
        const p = `blocks.${si}.${bi}`;
        const s = bi === 0 ? d.stride : 1; // only a stage's first block strides
        if (d.type === 'cn') x = convBlock(b, x, p, d, s, cfg.act, w);
        else if (d.type === 'er') x = fusedIB(b, x, p, d, s, cfg.act, w);
        else if (d.type === 'uir')
          x = uib(b, x, p, { out: roundChannels(d.out, w), expandRatio: d.e, start: d.a, mid: d.k, end: d.p, stride: s, act: cfg.act, layerScale: cfg.layerScale });
        else if (s !== 1) throw new ValueError(`MobileNetV4 block ${p}: strided attention blocks are not supported`);
        else x = mobileMQA(b, x, p, { out: roundChannels(d.out, w), heads: d.h, keyDim: d.d, kvStride: d.v, kvKernel: d.k, layerScale: cfg.layerScale });
      }
    }
  });
  // head: global pool, 1x1 conv (no bias) + BN + act, classifier
  x = b.globalAvgPool(x);
  x = act(b, b.batchNorm(b.conv(x, 'conv_head', { out: 1280, kernel: 1, bias: false }), 'norm_head'), cfg.act);
  x = b.linear(b.flatten(x), 'classifier', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

// ---------------------------------------------------------------------------------------------
// stage tables (timm 1.0.29 `_gen_mobilenet_v4` arch defs)

const CONV_SMALL: string[][] = [
  ['cn_r1_k3_s2_e1_c32', 'cn_r1_k1_s1_e1_c32'], // stage 0, 112x112 in: conv 3x3 s2, conv 1x1
  ['cn_r1_k3_s2_e1_c96', 'cn_r1_k1_s1_e1_c64'], // stage 1, 56x56 in: conv 3x3 s2, conv 1x1
  ['uir_r1_a5_k5_s2_e3_c96', 'uir_r4_a0_k3_s1_e2_c96', 'uir_r1_a3_k0_s1_e4_c96'], // stage 2, 28x28 in: ExtraDW, 4 IB, ConvNext
  ['uir_r1_a3_k3_s2_e6_c128', 'uir_r1_a5_k5_s1_e4_c128', 'uir_r1_a0_k5_s1_e4_c128', 'uir_r1_a0_k5_s1_e3_c128', 'uir_r2_a0_k3_s1_e4_c128'], // stage 3, 14x14 in: 2 ExtraDW, 4 IB
  ['cn_r1_k1_s1_c960'], // stage 4, 7x7 in: conv 1x1
];

const CONV_MEDIUM: string[][] = [
  ['er_r1_k3_s2_e4_c48'], // stage 0: Fused IB
  ['uir_r1_a3_k5_s2_e4_c80', 'uir_r1_a3_k3_s1_e2_c80'], // stage 1: 2 ExtraDW
  ['uir_r1_a3_k5_s2_e6_c160', 'uir_r2_a3_k3_s1_e4_c160', 'uir_r1_a3_k5_s1_e4_c160', 'uir_r1_a3_k3_s1_e4_c160', 'uir_r1_a3_k0_s1_e4_c160', 'uir_r1_a0_k0_s1_e2_c160', 'uir_r1_a3_k0_s1_e4_c160'], // stage 2: 5 ExtraDW, ConvNext, FFN, ConvNext
  ['uir_r1_a5_k5_s2_e6_c256', 'uir_r1_a5_k5_s1_e4_c256', 'uir_r2_a3_k5_s1_e4_c256', 'uir_r1_a0_k0_s1_e4_c256', 'uir_r1_a3_k0_s1_e4_c256', 'uir_r1_a3_k5_s1_e2_c256', 'uir_r1_a5_k5_s1_e4_c256', 'uir_r2_a0_k0_s1_e4_c256', 'uir_r1_a5_k0_s1_e2_c256'], // stage 3: 4 ExtraDW, FFN, ConvNext, 2 ExtraDW, 2 FFN, ConvNext
  ['cn_r1_k1_s1_c960'], // stage 4: conv 1x1
];

const CONV_LARGE: string[][] = [
  ['er_r1_k3_s2_e4_c48'], // stage 0: Fused IB
  ['uir_r1_a3_k5_s2_e4_c96', 'uir_r1_a3_k3_s1_e4_c96'], // stage 1: 2 ExtraDW
  ['uir_r1_a3_k5_s2_e4_c192', 'uir_r3_a3_k3_s1_e4_c192', 'uir_r1_a3_k5_s1_e4_c192', 'uir_r5_a5_k3_s1_e4_c192', 'uir_r1_a3_k0_s1_e4_c192'], // stage 2: 10 ExtraDW, ConvNext
  ['uir_r4_a5_k5_s2_e4_c512', 'uir_r1_a5_k0_s1_e4_c512', 'uir_r1_a5_k3_s1_e4_c512', 'uir_r2_a5_k0_s1_e4_c512', 'uir_r1_a5_k3_s1_e4_c512', 'uir_r1_a5_k5_s1_e4_c512', 'uir_r3_a5_k0_s1_e4_c512'], // stage 3: 4 ExtraDW, ConvNext, ExtraDW, 2 ConvNext, 2 ExtraDW, 3 ConvNext
  ['cn_r1_k1_s1_c960'], // stage 4: conv 1x1
];

const HYBRID_MEDIUM: string[][] = [
  ['er_r1_k3_s2_e4_c48'], // stage 0: Fused IB
  ['uir_r1_a3_k5_s2_e4_c80', 'uir_r1_a3_k3_s1_e2_c80'], // stage 1: 2 ExtraDW
  ['uir_r1_a3_k5_s2_e6_c160', 'uir_r1_a0_k0_s1_e2_c160', 'uir_r1_a3_k3_s1_e4_c160', 'uir_r1_a3_k5_s1_e4_c160', 'mqa_r1_k3_h4_s1_v2_d64_c160', 'uir_r1_a3_k3_s1_e4_c160', 'mqa_r1_k3_h4_s1_v2_d64_c160', 'uir_r1_a3_k0_s1_e4_c160', 'mqa_r1_k3_h4_s1_v2_d64_c160', 'uir_r1_a3_k3_s1_e4_c160', 'mqa_r1_k3_h4_s1_v2_d64_c160', 'uir_r1_a3_k0_s1_e4_c160'], // stage 2: ExtraDW, FFN, 2 ExtraDW, then MQA (4 heads, kv stride 2) interleaved with ExtraDW / ConvNext
  ['uir_r1_a5_k5_s2_e6_c256', 'uir_r1_a5_k5_s1_e4_c256', 'uir_r2_a3_k5_s1_e4_c256', 'uir_r1_a0_k0_s1_e2_c256', 'uir_r1_a3_k5_s1_e2_c256', 'uir_r1_a0_k0_s1_e2_c256', 'uir_r1_a0_k0_s1_e4_c256', 'mqa_r1_k3_h4_s1_d64_c256', 'uir_r1_a3_k0_s1_e4_c256', 'mqa_r1_k3_h4_s1_d64_c256', 'uir_r1_a5_k5_s1_e4_c256', 'mqa_r1_k3_h4_s1_d64_c256', 'uir_r1_a5_k0_s1_e4_c256', 'mqa_r1_k3_h4_s1_d64_c256', 'uir_r1_a5_k0_s1_e4_c256'], // stage 3: 4 ExtraDW, FFN, ExtraDW, 2 FFN, then MQA (4 heads, no kv stride) interleaved with ConvNext / ExtraDW
  ['cn_r1_k1_s1_c960'], // stage 4: conv 1x1
];

const HYBRID_LARGE: string[][] = [
  ['er_r1_k3_s2_e4_c48'], // stage 0: Fused IB
  ['uir_r1_a3_k5_s2_e4_c96', 'uir_r1_a3_k3_s1_e4_c96'], // stage 1: 2 ExtraDW
  ['uir_r1_a3_k5_s2_e4_c192', 'uir_r3_a3_k3_s1_e4_c192', 'uir_r1_a3_k5_s1_e4_c192', 'uir_r2_a5_k3_s1_e4_c192', 'mqa_r1_k3_h8_s1_v2_d48_c192', 'uir_r1_a5_k3_s1_e4_c192', 'mqa_r1_k3_h8_s1_v2_d48_c192', 'uir_r1_a5_k3_s1_e4_c192', 'mqa_r1_k3_h8_s1_v2_d48_c192', 'uir_r1_a5_k3_s1_e4_c192', 'mqa_r1_k3_h8_s1_v2_d48_c192', 'uir_r1_a3_k0_s1_e4_c192'], // stage 2: 7 ExtraDW, then MQA (8 heads of 48, kv stride 2) interleaved with ExtraDW, ConvNext
  ['uir_r4_a5_k5_s2_e4_c512', 'uir_r1_a5_k0_s1_e4_c512', 'uir_r1_a5_k3_s1_e4_c512', 'uir_r2_a5_k0_s1_e4_c512', 'uir_r1_a5_k3_s1_e4_c512', 'uir_r1_a5_k5_s1_e4_c512', 'mqa_r1_k3_h8_s1_d64_c512', 'uir_r1_a5_k0_s1_e4_c512', 'mqa_r1_k3_h8_s1_d64_c512', 'uir_r1_a5_k0_s1_e4_c512', 'mqa_r1_k3_h8_s1_d64_c512', 'uir_r1_a5_k0_s1_e4_c512', 'mqa_r1_k3_h8_s1_d64_c512', 'uir_r1_a5_k0_s1_e4_c512'], // stage 3: 4 ExtraDW, ConvNext, ExtraDW, 2 ConvNext, 2 ExtraDW, then MQA (8 heads of 64) interleaved with ConvNext
  ['cn_r1_k1_s1_c960'], // stage 4: conv 1x1
];

// ---------------------------------------------------------------------------------------------
// public builders

/** MobileNetV4-Conv-Small (timm `mobilenetv4_conv_small`, 224x224, ReLU, 3.77M params). */
export function mobilenetv4_conv_small(o: CreateModelOptions = {}): GraphBuilder {
  return _mobilenetv4({ name: 'mobilenetv4_conv_small', native: 224, stem: 32, act: 'relu', layerScale: false, stages: CONV_SMALL }, o);
}

/** MobileNetV4-Conv-Medium (timm `mobilenetv4_conv_medium`, 256x256, ReLU, 9.72M params). */
export function mobilenetv4_conv_medium(o: CreateModelOptions = {}): GraphBuilder {
  return _mobilenetv4({ name: 'mobilenetv4_conv_medium', native: 256, stem: 32, act: 'relu', layerScale: false, stages: CONV_MEDIUM }, o);
}

/** MobileNetV4-Conv-Large (timm `mobilenetv4_conv_large`, 384x384, ReLU, 32.6M params). */
export function mobilenetv4_conv_large(o: CreateModelOptions = {}): GraphBuilder {
  return _mobilenetv4({ name: 'mobilenetv4_conv_large', native: 384, stem: 24, act: 'relu', layerScale: false, stages: CONV_LARGE }, o);
}

/** MobileNetV4-Hybrid-Medium (timm `mobilenetv4_hybrid_medium`, 256x256, ReLU, Mobile-MQA, layer scale, 11.1M params). */
export function mobilenetv4_hybrid_medium(o: CreateModelOptions = {}): GraphBuilder {
  return _mobilenetv4({ name: 'mobilenetv4_hybrid_medium', native: 256, stem: 32, act: 'relu', layerScale: true, stages: HYBRID_MEDIUM }, o);
}

/** MobileNetV4-Hybrid-Large (timm `mobilenetv4_hybrid_large`, 384x384, GELU, Mobile-MQA, layer scale, 37.8M params). */
export function mobilenetv4_hybrid_large(o: CreateModelOptions = {}): GraphBuilder {
  return _mobilenetv4({ name: 'mobilenetv4_hybrid_large', native: 384, stem: 24, act: 'gelu', layerScale: true, stages: HYBRID_LARGE }, o);
}

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const MOBILENETV4: ZooFamily = {
  mobilenetv4_conv_small: { build: mobilenetv4_conv_small, supports: ['widthMultiplier'] },
  mobilenetv4_conv_medium: { build: mobilenetv4_conv_medium, supports: ['widthMultiplier'] },
  mobilenetv4_conv_large: { build: mobilenetv4_conv_large, supports: ['widthMultiplier'] },
  mobilenetv4_hybrid_medium: { build: mobilenetv4_hybrid_medium, supports: ['widthMultiplier'] },
  mobilenetv4_hybrid_large: { build: mobilenetv4_hybrid_large, supports: ['widthMultiplier'] },
};
