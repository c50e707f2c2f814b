// EfficientNet V1 and V2.
//   V1: Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks" —
//       reference: torchvision 0.14 `efficientnet_b0` … `efficientnet_b7` (MBConv with SiLU and
//       squeeze-excitation, compound width/depth scaling).
//   V2: Tan & Le 2021, "EfficientNetV2: Smaller Models and Faster Training" — references:
//       torchvision 0.14 `efficientnet_v2_s/m/l` (FusedMBConv + MBConv) and timm 1.0.29
//       `tf_efficientnetv2_b0` … `b3` (the TensorFlow-ported B series, TF "same" padding).
// Weight names are the references' state_dict keys. Stochastic depth and dropout are identity at
// inference and have no weights; the torchvision models build them with `training: true`:
// Dropout before the classifier (p per variant) and, on every residual branch, DropPath ('row')
// with torchvision's linear schedule 0.2 · (block index) / (number of blocks). timm's
// tf_efficientnetv2 defaults to drop_rate = drop_path_rate = 0: its training form is unchanged.
// The blocks are models/blocks/mobile.ts's mbConv and fusedMbConv. `attention` replaces the SE
// of every MBConv (timm's 'ir' blocks with SE) by that module at the same state_dict slot; 'se'
// (or none) is the reference SE.
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import { attentionModule, squeezeExcite } from './blocks/attention';
import { convBnAct, dropout, makeDivisible } from './blocks/common';
import { fusedMbConv, mbConv } from './blocks/mobile';
import { type Attention, type CreateModelOptions, inputHW, type ZooFamily } from './registry';

function start(o: CreateModelOptions, native: number): { b: GraphBuilder; x: string } {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, native);
  return { b, x: b.input('input', [o.batch ?? 1, 3, H, W]) };
}

const head = (b: GraphBuilder, x: string, name: string, o: CreateModelOptions, drop = 0) =>
  b.output(b.linear(dropout(b, b.flatten(b.globalAvgPool(x)), drop, o.training), name, o.numClasses ?? 1000), 'logits');

// ---------------------------------------------------------------------------------------------
// torchvision EfficientNet V1/V2: features.0 stem, features.<stage>.<block>.block.<j>, last 1x1
// conv, classifier.1. Conv2dNormActivation = conv (.0) + BN (.1) (+ SiLU).

interface TvStage {
  fused: boolean;
  expand: number;
  kernel: number;
  stride: number;
  inp: number;
  out: number;
  layers: number;
}

const mb = (expand: number, kernel: number, stride: number, inp: number, out: number, layers: number): TvStage =>
  ({ fused: false, expand, kernel, stride, inp, out, layers });
const fused = (expand: number, kernel: number, stride: number, inp: number, out: number, layers: number): TvStage =>
  ({ fused: true, expand, kernel, stride, inp, out, layers });

interface TvScaling {
  width: number;
  depth: number;
  eps: number;
  native: number;
  /** channels of the last 1x1 conv (default: 4x its input) */
  lastChannel?: number;
  /** torchvision's `dropout` before the classifier (training form only) */
  dropout: number;
}

/** torchvision's stochastic_depth_prob, the same for every V1 and V2 variant. */
const STOCHASTIC_DEPTH = 0.2;

function _efficientnet(o: CreateModelOptions, stages: TvStage[], sc: TvScaling): GraphBuilder {
  const ch = (c: number) => makeDivisible(c * sc.width, 8);
  let { b, x } = start(o, sc.native);
  x = convBnAct(b, x, { conv: 'features.0.0', bn: 'features.0.1' }, { out: ch(stages[0].inp), kernel: 3, stride: 2, pad: 1 }, 'silu', sc.eps);
  const total = stages.reduce((t, s) => t + Math.ceil(s.layers * sc.depth), 0);
  let id = 0; // torchvision's stage_block_id: the block's index over all stages
  stages.forEach((s, i) => {
    const n = Math.ceil(s.layers * sc.depth);
    const out = ch(s.out);
    for (let j = 0; j < n; j++) {
      const common = { out, expandRatio: s.expand, kernel: s.kernel, stride: j === 0 ? s.stride : 1, eps: sc.eps,
        dropPath: (STOCHASTIC_DEPTH * id++) / total, training: o.training };
      const p = `features.${i + 1}.${j}`;
      x = s.fused ? fusedMbConv(b, x, p, common) : mbConv(b, x, p, { ...common, attention: o.attention });
    }
  });
  const n = stages.length + 1;
  const last = sc.lastChannel ?? 4 * b.shape(x)[1];
  x = convBnAct(b, x, { conv: `features.${n}.0`, bn: `features.${n}.1` }, { out: last, kernel: 1 }, 'silu', sc.eps);
  head(b, x, 'classifier.1', o, sc.dropout);
  return b;
}

/** EfficientNet-B0 stages before scaling: MBConv(expand, kernel, stride, in, out, layers). */
const B_STAGES: TvStage[] = [
  mb(1, 3, 1, 32, 16, 1), // 112x112
  mb(6, 3, 2, 16, 24, 2), // 56x56
  mb(6, 5, 2, 24, 40, 2), // 28x28
  mb(6, 3, 2, 40, 80, 3), // 14x14
  mb(6, 5, 1, 80, 112, 3), // 14x14
  mb(6, 5, 2, 112, 192, 4), // 7x7
  mb(6, 3, 1, 192, 320, 1), // 7x7
];

const V2_S: TvStage[] = [
  fused(1, 3, 1, 24, 24, 2), // 1/2
  fused(4, 3, 2, 24, 48, 4), // 1/4
  fused(4, 3, 2, 48, 64, 4), // 1/8
  mb(4, 3, 2, 64, 128, 6), // 1/16
  mb(6, 3, 1, 128, 160, 9), // 1/16
  mb(6, 3, 2, 160, 256, 15), // 1/32
];

const V2_M: TvStage[] = [
  fused(1, 3, 1, 24, 24, 3), // 1/2
  fused(4, 3, 2, 24, 48, 5), // 1/4
  fused(4, 3, 2, 48, 80, 5), // 1/8
  mb(4, 3, 2, 80, 160, 7), // 1/16
  mb(6, 3, 1, 160, 176, 14), // 1/16
  mb(6, 3, 2, 176, 304, 18), // 1/32
  mb(6, 3, 1, 304, 512, 5), // 1/32
];

const V2_L: TvStage[] = [
  fused(1, 3, 1, 32, 32, 4), // 1/2
  fused(4, 3, 2, 32, 64, 7), // 1/4
  fused(4, 3, 2, 64, 96, 7), // 1/8
  mb(4, 3, 2, 96, 192, 10), // 1/16
  mb(6, 3, 1, 192, 224, 19), // 1/16
  mb(6, 3, 2, 224, 384, 25), // 1/32
  mb(6, 3, 1, 384, 640, 7), // 1/32
];

// ---------------------------------------------------------------------------------------------
// Compound scaling (Tan & Le 2019, section 3.3, equation 3): depth d = α^φ, width w = β^φ,
// resolution r = γ^φ, subject to α·β²·γ² ≈ 2 (FLOPs grow as d·w²·r², so about 2^φ), α, β, γ ≥ 1.
// The grid search on B0 (section 4) found α = 1.2, β = 1.1, γ = 1.15. The published B1–B7 were not
// made from one φ: their (width, depth, resolution) were tuned (see README "Compound scaling").
// Rounding as torchvision's `_MBConvConfig`: channels makeDivisible(c·w, 8) (nearest multiple of
// 8, not below 90%), repeats ceil(n·d).

/** The paper's grid-search coefficients for B0 (section 4): α (depth), β (width), γ (resolution). */
export const EFFICIENTNET_ALPHA = 1.2;
/** β: width coefficient of the paper's grid search. */
export const EFFICIENTNET_BETA = 1.1;
/** γ: resolution coefficient of the paper's grid search. */
export const EFFICIENTNET_GAMMA = 1.15;

/**
 * How to scale EfficientNet-B0: either the compound coefficient `phi` (with `alpha`, `beta`,
 * `gamma`, default the paper's 1.2, 1.1, 1.15) or the multipliers `width`, `depth` and the input
 * `resolution` given directly (as the published B1–B7 are). Not both.
 */
export interface EfficientNetScaling {
  /** φ: depth α^φ, width β^φ, resolution 224·γ^φ rounded to a multiple of 4. */
  phi?: number;
  /** α, the depth base (default 1.2). */
  alpha?: number;
  /** β, the width base (default 1.1). */
  beta?: number;
  /** γ, the resolution base (default 1.15). */
  gamma?: number;
  /** Width (channel) multiplier: channels makeDivisible(c·width, 8). */
  width?: number;
  /** Depth multiplier: each stage repeats ceil(n·depth) blocks. */
  depth?: number;
  /** Input resolution in pixels (default 224, or 224·γ^φ in the φ form). */
  resolution?: number;
  /** BatchNorm eps (default 1e-5; torchvision's B5–B7 use 1e-3). */
  eps?: number;
  /** Dropout before the classifier in the training form (default 0.2). */
  dropout?: number;
}

/** The (width, depth, resolution) a scaling resolves to. */
export interface ResolvedScaling {
  /** Channel multiplier (β^φ in the φ form). */
  width: number;
  /** Depth (repeats) multiplier (α^φ in the φ form). */
  depth: number;
  /** Input side in pixels. */
  resolution: number;
}

const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/**
 * The width, depth and resolution multipliers of a scaling: in the φ form w = β^φ, d = α^φ and
 * resolution 224·γ^φ rounded to the nearest multiple of 4 (every published EfficientNet
 * resolution, 224 240 260 300 380 456 528 600, is a multiple of 4; 260, 300 and 380 are not
 * multiples of 8, so 4 is the finest grid that contains them all).
 *
 * @throws ValueError for a mix of both forms or a value that is not a positive number.
 */
export function efficientnetScaling(s: EfficientNetScaling): ResolvedScaling {
  const bad = (why: string): never => {
    throw new ValueError(`efficientnetScaled: ${why}`);
  };
  for (const k of ['phi', 'alpha', 'beta', 'gamma', 'width', 'depth', 'resolution', 'dropout', 'eps'] as const) {
    const v = s[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (v === 0 && k !== 'phi' && k !== 'dropout'))
      bad(`${k} must be a ${k === 'phi' || k === 'dropout' ? 'non-negative' : 'positive'} number, got ${String(v)}`);
  }
  if (s.dropout !== undefined && s.dropout >= 1) bad(`dropout must be below 1, got ${s.dropout}`);
  if (s.resolution !== undefined && !Number.isSafeInteger(s.resolution)) bad(`resolution must be a whole number of pixels, got ${s.resolution}`);
  const coefficient = s.width !== undefined || s.depth !== undefined;
  if (s.phi !== undefined) {
    if (coefficient) bad('give either phi (with alpha, beta, gamma) or width/depth/resolution, not both');
    const [a, b, g] = [s.alpha ?? EFFICIENTNET_ALPHA, s.beta ?? EFFICIENTNET_BETA, s.gamma ?? EFFICIENTNET_GAMMA];
    if (a < 1 || b < 1 || g < 1) bad(`alpha, beta and gamma must be at least 1 (section 3.3), got ${a}, ${b}, ${g}`);
    return { width: b ** s.phi, depth: a ** s.phi, resolution: s.resolution ?? 4 * Math.round((224 * g ** s.phi) / 4) };
  }
  if (s.alpha !== undefined || s.beta !== undefined || s.gamma !== undefined) bad('alpha, beta and gamma need phi');
  if (!positive(s.width ?? 1) || !positive(s.depth ?? 1)) bad('width and depth must be positive');
  return { width: s.width ?? 1, depth: s.depth ?? 1, resolution: s.resolution ?? 224 };
}

/**
 * EfficientNet-B0 scaled by compound scaling (Tan & Le 2019, equation 3), in torchvision's
 * naming and rounding (channels to multiples of 8, repeats rounded up): the builder, as
 * `modelBuilder(name)` returns it, so `weightShapes()` and `build(weights)` work.
 * `efficientnetScaled({ width: 1.1, depth: 1.2, resolution: 260 })` is the paper's B2;
 * `efficientnetScaled({ phi: 2 })` the φ = 2 network of α = 1.2, β = 1.1, γ = 1.15.
 * `options` are createModel()'s common ones (numClasses, batch, inputSize overriding the
 * resolution, training), `widthMultiplier` (multiplies the width) and `attention` (replaces every
 * MBConv's SE with that module; 'se' is the reference).
 *
 * @throws ValueError for an invalid scaling.
 */
export function efficientnetScaled(scaling: EfficientNetScaling, options: CreateModelOptions = {}): GraphBuilder {
  const r = efficientnetScaling(scaling);
  const width = r.width * (options.widthMultiplier ?? 1);
  return _efficientnet(options, B_STAGES, { width, depth: r.depth, eps: scaling.eps ?? 1e-5, native: r.resolution, dropout: scaling.dropout ?? 0.2 });
}

/**
 * The published EfficientNet B0–B7 as torchvision builds them: width, depth (the paper's and
 * TensorFlow's `efficientnet_params`), input resolution (the crop of torchvision's weights; the
 * paper's B2 is 260), BatchNorm eps and classifier dropout. Tuned per model, not one φ apart.
 */
export const EFFICIENTNET_PUBLISHED: Readonly<Record<string, Readonly<Required<Pick<EfficientNetScaling, 'width' | 'depth' | 'resolution' | 'eps' | 'dropout'>>>>> = {
  efficientnet_b0: { width: 1.0, depth: 1.0, resolution: 224, eps: 1e-5, dropout: 0.2 },
  efficientnet_b1: { width: 1.0, depth: 1.1, resolution: 240, eps: 1e-5, dropout: 0.2 },
  efficientnet_b2: { width: 1.1, depth: 1.2, resolution: 288, eps: 1e-5, dropout: 0.3 },
  efficientnet_b3: { width: 1.2, depth: 1.4, resolution: 300, eps: 1e-5, dropout: 0.3 },
  efficientnet_b4: { width: 1.4, depth: 1.8, resolution: 380, eps: 1e-5, dropout: 0.4 },
  efficientnet_b5: { width: 1.6, depth: 2.2, resolution: 456, eps: 1e-3, dropout: 0.4 },
  efficientnet_b6: { width: 1.8, depth: 2.6, resolution: 528, eps: 1e-3, dropout: 0.5 },
  efficientnet_b7: { width: 2.0, depth: 3.1, resolution: 600, eps: 1e-3, dropout: 0.5 },
};

/** EfficientNet-B0 (torchvision `efficientnet_b0`), 224x224. */
export const efficientnet_b0 = (o: CreateModelOptions = {}) => efficientnetScaled(EFFICIENTNET_PUBLISHED.efficientnet_b0, o);
/** EfficientNet-B1 (torchvision `efficientnet_b1`), 240x240: efficientnetScaled({ width: 1.0, depth: 1.1 }). */
export const efficientnet_b1 = (o: CreateModelOptions = {}) => efficientnetScaled(EFFICIENTNET_PUBLISHED.efficientnet_b1, o);
/** EfficientNet-B2 (torchvision `efficientnet_b2`), 288x288 (torchvision's weights; the paper uses 260): width 1.1, depth 1.2. */
export const efficientnet_b2 = (o: CreateModelOptions = {}) => efficientnetScaled(EFFICIENTNET_PUBLISHED.efficientnet_b2, o);
/** EfficientNet-B3 (torchvision `efficientnet_b3`), 300x300: width 1.2, depth 1.4. */
export const efficientnet_b3 = (o: CreateModelOptions = {}) => efficientnetScaled(EFFICIENTNET_PUBLISHED.efficientnet_b3, o);
/** EfficientNet-B4 (torchvision `efficientnet_b4`), 380x380: width 1.4, depth 1.8. */
export const efficientnet_b4 = (o: CreateModelOptions = {}) => efficientnetScaled(EFFICIENTNET_PUBLISHED.efficientnet_b4, o);
/** EfficientNet-B5 (torchvision `efficientnet_b5`, BN eps 1e-3), 456x456: width 1.6, depth 2.2. */
export const efficientnet_b5 = (o: CreateModelOptions = {}) => efficientnetScaled(EFFICIENTNET_PUBLISHED.efficientnet_b5, o);
/** EfficientNet-B6 (torchvision `efficientnet_b6`, BN eps 1e-3), 528x528: width 1.8, depth 2.6. */
export const efficientnet_b6 = (o: CreateModelOptions = {}) => efficientnetScaled(EFFICIENTNET_PUBLISHED.efficientnet_b6, o);
/** EfficientNet-B7 (torchvision `efficientnet_b7`, BN eps 1e-3), 600x600: width 2.0, depth 3.1. */
export const efficientnet_b7 = (o: CreateModelOptions = {}) => efficientnetScaled(EFFICIENTNET_PUBLISHED.efficientnet_b7, o);

const V2_SCALING = (native: number, dropout: number): TvScaling => ({ width: 1, depth: 1, eps: 1e-3, native, lastChannel: 1280, dropout });

/** EfficientNetV2-S (torchvision `efficientnet_v2_s`), 384x384. */
export const efficientnet_v2_s = (o: CreateModelOptions = {}) => _efficientnet(o, V2_S, V2_SCALING(384, 0.2));
/** EfficientNetV2-M (torchvision `efficientnet_v2_m`), 480x480. */
export const efficientnet_v2_m = (o: CreateModelOptions = {}) => _efficientnet(o, V2_M, V2_SCALING(480, 0.3));
/** EfficientNetV2-L (torchvision `efficientnet_v2_l`), 480x480. */
export const efficientnet_v2_l = (o: CreateModelOptions = {}) => _efficientnet(o, V2_L, V2_SCALING(480, 0.4));

// ---------------------------------------------------------------------------------------------
// timm tf_efficientnetv2_b0-b3: conv_stem/bn1, blocks.<stage>.<block>, conv_head/bn2, classifier.
// TF "same" padding (timm's Conv2dSame): max((ceil(i / s) - 1) * s + k - i, 0) pixels in total,
// the odd one at the bottom/right, so it depends on the layer's input size.

/** [top, left, bottom, right] padding of TensorFlow's "same" for a conv on input `x`. */
function samePad(b: GraphBuilder, x: string, k: number, s: number): [number, number, number, number] {
  const [, , H, W] = b.shape(x);
  const total = (i: number) => Math.max((Math.ceil(i / s) - 1) * s + k - i, 0);
  const ph = total(H);
  const pw = total(W);
  return [ph >> 1, pw >> 1, ph - (ph >> 1), pw - (pw >> 1)];
}

/** Python's round(): halves to even. */
function pyRound(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

type TfBlock = 'cn' | 'er' | 'ir';

/** A timm arch_def row: [block type, repeats, kernel, stride, expansion, output channels, SE ratio]. */
type TfRow = [TfBlock, number, number, number, number, number, number];

const TF_V2_BASE: TfRow[] = [
  ['cn', 1, 3, 1, 1, 16, 0], // conv + BN + SiLU, residual when shapes allow (cn_r1_k3_s1_e1_c16_skip)
  ['er', 2, 3, 2, 4, 32, 0], // edge residual = FusedMBConv (er_r2_k3_s2_e4_c32)
  ['er', 2, 3, 2, 4, 48, 0], // er_r2_k3_s2_e4_c48
  ['ir', 3, 3, 2, 4, 96, 0.25], // MBConv with SE (ir_r3_k3_s2_e4_c96_se0.25)
  ['ir', 5, 3, 1, 6, 112, 0.25], // ir_r5_k3_s1_e6_c112_se0.25
  ['ir', 8, 3, 2, 6, 192, 0.25], // ir_r8_k3_s2_e6_c192_se0.25
];

const TF_EPS = 1e-3;

/** Conv with TF "same" padding + BN (+ SiLU), timm names `${p}.${conv}` / `${p}.${bn}`. */
function tfConvBn(b: GraphBuilder, x: string, conv: string, bn: string, out: number, k: number, s: number, silu: boolean, groups = 1): string {
  return convBnAct(b, x, { conv, bn }, { out, kernel: k, stride: s, pad: samePad(b, x, k, s), groups }, silu ? 'silu' : 'none', TF_EPS);
}

function tfBlock(b: GraphBuilder, x: string, p: string, row: TfRow, stride: number, out: number, attention?: Attention): string {
  const [type, , k, , e, , se] = row;
  const inp = b.shape(x)[1];
  let y: string;
  if (type === 'cn') {
    y = tfConvBn(b, x, `${p}.conv`, `${p}.bn1`, out, k, stride, true);
  } else if (type === 'er') {
    const mid = makeDivisible(inp * e, 8);
    y = tfConvBn(b, x, `${p}.conv_exp`, `${p}.bn1`, mid, k, stride, true);
    y = tfConvBn(b, y, `${p}.conv_pwl`, `${p}.bn2`, out, 1, 1, false);
  } else {
    const mid = makeDivisible(inp * e, 8);
    y = tfConvBn(b, x, `${p}.conv_pw`, `${p}.bn1`, mid, 1, 1, true);
    y = tfConvBn(b, y, `${p}.conv_dw`, `${p}.bn2`, mid, k, stride, true, mid);
    if (se > 0 && attention && attention !== 'se') y = attentionModule(b, y, `${p}.se`, { kind: attention });
    else if (se > 0)
      y = squeezeExcite(b, y, `${p}.se`, { reduced: pyRound(mid * (se / e)), names: ['conv_reduce', 'conv_expand'], act: 'silu', gate: 'sigmoid' });
    y = tfConvBn(b, y, `${p}.conv_pwl`, `${p}.bn3`, out, 1, 1, false);
  }
  return stride === 1 && inp === out ? b.add(y, x) : y;
}

function _tfEfficientnetV2(o: CreateModelOptions, channelMultiplier: number, depth: number, native: number): GraphBuilder {
  // widthMultiplier multiplies timm's channel_multiplier (tf_efficientnetv2_b2 is 1.1 of B0's channels)
  const width = channelMultiplier * (o.widthMultiplier ?? 1);
  // timm's round_channels with round_limit 0: nearest multiple of 8, never bumped up
  const ch = (c: number) => makeDivisible(c * width, 8, undefined, 0);
  let { b, x } = start(o, native);
  x = tfConvBn(b, x, 'conv_stem', 'bn1', ch(32), 3, 2, true);
  TF_V2_BASE.forEach((row, i) => {
    const n = Math.ceil(row[1] * depth);
    for (let j = 0; j < n; j++) x = tfBlock(b, x, `blocks.${i}.${j}`, row, j === 0 ? row[3] : 1, ch(row[5]), o.attention);
  });
  x = tfConvBn(b, x, 'conv_head', 'bn2', ch(1280), 1, 1, true);
  head(b, x, 'classifier', o);
  return b;
}

/** EfficientNetV2-B0, TF port (timm `tf_efficientnetv2_b0`), 192x192. */
export const tf_efficientnetv2_b0 = (o: CreateModelOptions = {}) => _tfEfficientnetV2(o, 1.0, 1.0, 192);
/** EfficientNetV2-B1, TF port (timm `tf_efficientnetv2_b1`), 192x192. */
export const tf_efficientnetv2_b1 = (o: CreateModelOptions = {}) => _tfEfficientnetV2(o, 1.0, 1.1, 192);
/** EfficientNetV2-B2, TF port (timm `tf_efficientnetv2_b2`), 208x208. */
export const tf_efficientnetv2_b2 = (o: CreateModelOptions = {}) => _tfEfficientnetV2(o, 1.1, 1.2, 208);
/** EfficientNetV2-B3, TF port (timm `tf_efficientnetv2_b3`), 240x240. */
export const tf_efficientnetv2_b3 = (o: CreateModelOptions = {}) => _tfEfficientnetV2(o, 1.2, 1.4, 240);

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const EFFICIENTNET: ZooFamily = {
  efficientnet_b0: { build: efficientnet_b0, supports: ['widthMultiplier', 'attention'] },
  efficientnet_b1: { build: efficientnet_b1, supports: ['widthMultiplier', 'attention'] },
  efficientnet_b2: { build: efficientnet_b2, supports: ['widthMultiplier', 'attention'] },
  efficientnet_b3: { build: efficientnet_b3, supports: ['widthMultiplier', 'attention'] },
  efficientnet_b4: { build: efficientnet_b4, supports: ['widthMultiplier', 'attention'] },
  efficientnet_b5: { build: efficientnet_b5, supports: ['widthMultiplier', 'attention'] },
  efficientnet_b6: { build: efficientnet_b6, supports: ['widthMultiplier', 'attention'] },
  efficientnet_b7: { build: efficientnet_b7, supports: ['widthMultiplier', 'attention'] },
  efficientnet_v2_s: { build: efficientnet_v2_s, supports: ['attention'] },
  efficientnet_v2_m: { build: efficientnet_v2_m, supports: ['attention'] },
  efficientnet_v2_l: { build: efficientnet_v2_l, supports: ['attention'] },
  tf_efficientnetv2_b0: { build: tf_efficientnetv2_b0, supports: ['widthMultiplier', 'attention'] },
  tf_efficientnetv2_b1: { build: tf_efficientnetv2_b1, supports: ['widthMultiplier', 'attention'] },
  tf_efficientnetv2_b2: { build: tf_efficientnetv2_b2, supports: ['widthMultiplier', 'attention'] },
  tf_efficientnetv2_b3: { build: tf_efficientnetv2_b3, supports: ['widthMultiplier', 'attention'] },
};
