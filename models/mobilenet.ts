// MobileNet V1-V3.
//   V1: Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
//       Applications" — reference: timm 1.0.29 `mobilenetv1_100` (efficientnet.py, `_gen_mobilenet_v1`:
//       stem, depthwise-separable blocks with ReLU6 after both convs, no head conv).
//   V2: Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks" — reference:
//       torchvision 0.14 `mobilenet_v2`.
//   V3: Howard et al. 2019, "Searching for MobileNetV3" — reference: torchvision 0.14
//       `mobilenet_v3_large` / `mobilenet_v3_small` (h-swish, SE with a hard-sigmoid gate).
// Weight names are the references' state_dict keys. The width multiplier scales every layer's
// channels with the reference's rounding; the input resolution (inputSize) is free because the
// head pools globally.
// mobilenetV3Features() exposes the V3 `features` (optionally under another prefix, with
// torchvision's dilated=True last stage) for the segmentation models of models/segmentation.ts.
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import { type Act, act, convBnAct, dropout, makeDivisible } from './blocks/common';
import { depthwiseSeparable, invertedResidual } from './blocks/mobile';
import { type Attention, type CreateModelOptions, inputHW, type ZooFamily } from './registry';

function widthOf(o: CreateModelOptions, model: string): number {
  const w = o.widthMultiplier ?? 1;
  if (!(w > 0) || !Number.isFinite(w)) throw new ValueError(`${model}: widthMultiplier must be a positive number, got ${w}`);
  return w;
}

function start(o: CreateModelOptions, native: number): { b: GraphBuilder; x: string } {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, native);
  return { b, x: b.input('input', [o.batch ?? 1, 3, H, W]) };
}

/** Global average pool + flatten: the size-independent head input. */
function pooled(b: GraphBuilder, x: string): string {
  return b.flatten(b.globalAvgPool(x));
}

// ---------------------------------------------------------------------------------------------
// MobileNet V1 (timm naming: conv_stem, bn1, blocks.<stage>.<block>.{conv_dw,bn1,conv_pw,bn2},
// classifier)

/** [repeats, stride, output channels] of each stage of depthwise-separable blocks (3x3 dw). */
const V1_STAGES: [number, number, number][] = [
  [1, 1, 64], // stride 2 after the stem
  [2, 2, 128], // stride 4
  [2, 2, 256], // stride 8
  [6, 2, 512], // stride 16
  [2, 2, 1024], // stride 32
];

/** timm's round_channels: channels * multiplier, made divisible by 8 (not below 90%). */
const roundChannels = (c: number, m: number, roundLimit = 0.9) => makeDivisible(c * m, 8, undefined, roundLimit);

/**
 * MobileNet V1 (timm `mobilenetv1_100`): 3x3 stem then 13 depthwise-separable blocks, global
 * pool, linear classifier. `widthMultiplier` α (0.25, 0.5, 0.75, 1.0 in the paper, section 3.3)
 * scales every layer with timm's rounding; `resolutionMultiplier` ρ is the paper's resolution
 * multiplier: input round(224·ρ) (ρ = 6/7, 5/7, 4/7: 192, 160, 128), as `inputSize` sets it.
 */
export function mobilenetv1_100(o: CreateModelOptions = {}): GraphBuilder {
  const m = widthOf(o, 'mobilenetv1_100');
  const rho = o.resolutionMultiplier;
  if (rho !== undefined && !(rho > 0 && Number.isFinite(rho)))
    throw new ValueError(`mobilenetv1_100: resolutionMultiplier must be a positive number, got ${rho}`);
  let { b, x } = start(rho === undefined || o.inputSize !== undefined ? o : { ...o, inputSize: Math.round(224 * rho) }, 224);
  x = convBnAct(b, x, { conv: 'conv_stem', bn: 'bn1' }, { out: roundChannels(32, m), kernel: 3, stride: 2, pad: 1 }, 'relu6');
  V1_STAGES.forEach(([n, s, c], i) => {
    for (let j = 0; j < n; j++) x = depthwiseSeparable(b, x, `blocks.${i}.${j}`, { out: roundChannels(c, m), stride: j === 0 ? s : 1 });
  });
  b.output(b.linear(pooled(b, x), 'classifier', o.numClasses ?? 1000), 'logits');
  return b;
}

// ---------------------------------------------------------------------------------------------
// MobileNet V2 (torchvision naming: features.<i>.conv.<j>, classifier.1)

/** [expansion t, output channels c, repeats n, first stride s] of each bottleneck stage. */
const V2_STAGES: [number, number, number, number][] = [
  [1, 16, 1, 1], // 112x112, no expansion
  [6, 24, 2, 2], // 56x56
  [6, 32, 3, 2], // 28x28
  [6, 64, 4, 2], // 14x14
  [6, 96, 3, 1], // 14x14
  [6, 160, 3, 2], // 7x7
  [6, 320, 1, 1], // 7x7
];

/**
 * MobileNet V2 (torchvision `mobilenet_v2`). `widthMultiplier` is torchvision's `width_mult`
 * (channels rounded to multiples of 8; the last conv keeps 1280 unless widened).
 */
export function mobilenet_v2(o: CreateModelOptions = {}): GraphBuilder {
  const w = widthOf(o, 'mobilenet_v2');
  let { b, x } = start(o, 224);
  const last = makeDivisible(1280 * Math.max(1, w), 8);
  x = convBnAct(b, x, { conv: 'features.0.0', bn: 'features.0.1' }, { out: makeDivisible(32 * w, 8), kernel: 3, stride: 2, pad: 1 }, 'relu6');
  let i = 1;
  for (const [t, c, n, s] of V2_STAGES) {
    const out = makeDivisible(c * w, 8);
    for (let j = 0; j < n; j++)
      x = invertedResidual(b, x, `features.${i++}`, { out, expanded: Math.round(b.shape(x)[1] * t), stride: j === 0 ? s : 1, attention: o.attention });
  }
  x = convBnAct(b, x, { conv: `features.${i}.0`, bn: `features.${i}.1` }, { out: last, kernel: 1 }, 'relu6');
  // classifier.0 is Dropout(0.2): built only in the training form
  b.output(b.linear(dropout(b, pooled(b, x), 0.2, o.training), 'classifier.1', o.numClasses ?? 1000), 'logits');
  return b;
}

// ---------------------------------------------------------------------------------------------
// MobileNet V3 (torchvision naming: features.<i>.block.<j>, SE fc1/fc2, classifier.0/.3)

/** One bneck row: [input, kernel, expanded, output, SE, activation, stride]. */
type V3Row = [number, number, number, number, boolean, 'RE' | 'HS', number];

const V3_LARGE: V3Row[] = [
  [16, 3, 16, 16, false, 'RE', 1], // 112x112
  [16, 3, 64, 24, false, 'RE', 2], // 56x56 (C1)
  [24, 3, 72, 24, false, 'RE', 1],
  [24, 5, 72, 40, true, 'RE', 2], // 28x28 (C2)
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 3, 240, 80, false, 'HS', 2], // 14x14 (C3)
  [80, 3, 200, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 480, 112, true, 'HS', 1],
  [112, 3, 672, 112, true, 'HS', 1],
  [112, 5, 672, 160, true, 'HS', 2], // 7x7 (C4)
  [160, 5, 960, 160, true, 'HS', 1],
  [160, 5, 960, 160, true, 'HS', 1],
];

const V3_SMALL: V3Row[] = [
  [16, 3, 16, 16, true, 'RE', 2], // 56x56 (C1)
  [16, 3, 72, 24, false, 'RE', 2], // 28x28 (C2)
  [24, 3, 88, 24, false, 'RE', 1],
  [24, 5, 96, 40, true, 'HS', 2], // 14x14 (C3)
  [40, 5, 240, 40, true, 'HS', 1],
  [40, 5, 240, 40, true, 'HS', 1],
  [40, 5, 120, 48, true, 'HS', 1],
  [48, 5, 144, 48, true, 'HS', 1],
  [48, 5, 288, 96, true, 'HS', 2], // 7x7 (C4)
  [96, 5, 576, 96, true, 'HS', 1],
  [96, 5, 576, 96, true, 'HS', 1],
];

const V3_EPS = 1e-3;

/**
 * V3 bneck: an inverted residual in torchvision's V3 layout (1x1 expand if widened, kxk depthwise,
 * SE with a hard-sigmoid gate where the row has one, linear 1x1). With dilation > 1 the depthwise
 * conv keeps stride 1 and dilates (torchvision `dilated=True`). `attention` replaces the SE of the
 * rows that have one ('se' is the reference).
 */
function bneckV3(b: GraphBuilder, x: string, at: (j: number) => string, row: V3Row, w: number, dilation: number, tap: ((y: string) => void) | undefined, eps: number, attention?: Attention): string {
  const [, k, e, c, se, a, stride] = row;
  return invertedResidual(b, x, at(-1), {
    out: makeDivisible(c * w, 8), expanded: makeDivisible(e * w, 8), kernel: k, stride, dilation, act: a === 'HS' ? 'hardswish' : 'relu',
    layout: 'v3', se, attention: se ? attention : undefined, eps, moduleName: at, onExpand: tap,
  });
}

/** Options of {@link mobilenetV3Features}. */
export interface MobileNetV3FeatureOptions {
  /** state_dict prefix of the feature modules: 'features' (classifier) or 'backbone' (segmentation) */
  prefix?: string;
  /**
   * torchvision `dilated=True`: the last stride-2 bneck (C4) keeps stride 1 and it and the
   * blocks after it dilate their depthwise convs by 2 (output stride 16 instead of 32).
   */
  dilated?: boolean;
  /** torchvision's `width_mult`: every layer's channels times this, rounded to a multiple of 8 (default 1). */
  widthMultiplier?: number;
  /**
   * torchvision's `reduced_tail` (Large only): the C4 bneck and the blocks after it have half
   * the channels (SSDLite's backbone).
   */
  reducedTail?: boolean;
  /**
   * Where the weights of features.<i> live: sub-layer j of its block (j = -1 for the stem and the
   * last 1x1 conv, which have no block) to a module path. Default `${prefix}.${i}.block.${j}`
   * (`${prefix}.${i}` for j = -1). SSDLite's extractor regroups the modules this way.
   */
  moduleName?: (i: number, j: number) => string;
  /**
   * Also return, last, the output of the 1x1 expansion conv (with its BN and activation) of
   * features.<tapExpansion>: SSDLite's C4 feature map (MobileNetV3 paper, section 6.3).
   */
  tapExpansion?: number;
  /**
   * BatchNorm eps (default 0.001, torchvision's MobileNet V3). The Faster R-CNN builders pass their
   * own norm_layer (BatchNorm2d or FrozenBatchNorm2d), whose eps is 1e-5.
   */
  eps?: number;
  /** Attention module replacing the SE of the bnecks that have one ('se': the reference SE); see invertedResidual. */
  attention?: Attention;
}

/**
 * The `features` of MobileNet V3 Large or Small (stem, bnecks, last 1x1 conv) on `x`; returns
 * the output of every `features.<i>` (index i as in torchvision, the last one the 1x1 conv).
 * Segmentation heads (DeepLabV3, LR-ASPP) build on it.
 */
export function mobilenetV3Features(b: GraphBuilder, x: string, variant: 'large' | 'small', o: MobileNetV3FeatureOptions = {}): string[] {
  const base = variant === 'large' ? V3_LARGE : V3_SMALL;
  const w = o.widthMultiplier ?? 1;
  const f = o.prefix ?? 'features';
  const name = o.moduleName ?? ((i: number, j: number) => (j < 0 ? `${f}.${i}` : `${f}.${i}.block.${j}`));
  const lastStrided = base.reduce((last, r, i) => (r[6] > 1 ? i : last), -1);
  // reduced_tail: torchvision divides the C4 bneck's output and the later blocks' widths by 2
  const rows = o.reducedTail
    ? base.map((r, i): V3Row => (i < lastStrided ? r : [r[0], r[1], i === lastStrided ? r[2] : r[2] / 2, r[3] / 2, r[4], r[5], r[6]]))
    : base;
  const outs: string[] = [];
  let tapped: string | undefined;
  const stem = name(0, -1);
  const eps = o.eps ?? V3_EPS;
  x = convBnAct(b, x, { conv: `${stem}.0`, bn: `${stem}.1` }, { out: makeDivisible(rows[0][0] * w, 8), kernel: 3, stride: 2, pad: 1 }, 'hardswish', eps);
  outs.push(x);
  rows.forEach((r, i) => {
    const tap = o.tapExpansion === i + 1 ? (y: string) => (tapped = y) : undefined;
    x = bneckV3(b, x, (j) => name(i + 1, j), r, w, o.dilated && i >= lastStrided ? 2 : 1, tap, eps, o.attention);
    outs.push(x);
  });
  const last = name(rows.length + 1, -1);
  x = convBnAct(b, x, { conv: `${last}.0`, bn: `${last}.1` }, { out: 6 * b.shape(x)[1], kernel: 1 }, 'hardswish', eps);
  outs.push(x);
  if (o.tapExpansion !== undefined) {
    if (!tapped) throw new ValueError(`mobilenetV3Features: features.${o.tapExpansion} has no expansion conv to tap`);
    outs.push(tapped);
  }
  return outs;
}

function _mobilenetV3(o: CreateModelOptions, name: string, rows: V3Row[], lastChannel: number): GraphBuilder {
  const w = widthOf(o, name);
  const { b, x: input } = start(o, 224);
  const feats = mobilenetV3Features(b, input, rows === V3_LARGE ? 'large' : 'small', { widthMultiplier: w, attention: o.attention });
  const x = act(b, b.linear(pooled(b, feats[feats.length - 1]), 'classifier.0', makeDivisible(lastChannel * w, 8)), 'hardswish');
  // classifier.2 is Dropout(0.2): built only in the training form
  b.output(b.linear(dropout(b, x, 0.2, o.training), 'classifier.3', o.numClasses ?? 1000), 'logits');
  return b;
}

/** MobileNet V3 Large (torchvision `mobilenet_v3_large`); `widthMultiplier` is `width_mult`. */
export function mobilenet_v3_large(o: CreateModelOptions = {}): GraphBuilder {
  return _mobilenetV3(o, 'mobilenet_v3_large', V3_LARGE, 1280);
}

/** MobileNet V3 Small (torchvision `mobilenet_v3_small`); `widthMultiplier` is `width_mult`. */
export function mobilenet_v3_small(o: CreateModelOptions = {}): GraphBuilder {
  return _mobilenetV3(o, 'mobilenet_v3_small', V3_SMALL, 1024);
}

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const MOBILENET: ZooFamily = {
  mobilenetv1_100: { build: mobilenetv1_100, supports: ['widthMultiplier', 'resolutionMultiplier'] },
  mobilenet_v2: { build: mobilenet_v2, supports: ['widthMultiplier', 'attention'] },
  mobilenet_v3_large: { build: mobilenet_v3_large, supports: ['widthMultiplier', 'attention'] },
  mobilenet_v3_small: { build: mobilenet_v3_small, supports: ['widthMultiplier', 'attention'] },
};
