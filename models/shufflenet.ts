// ShuffleNet V1 and V2.
//
// V1: Zhang, Zhou, Lin & Sun 2018, "ShuffleNet: An Extremely Efficient Convolutional Neural
// Network for Mobile Devices" (1.0x, g = 1, 2, 3, 4, 8; Table 1). No library ships it: the
// reference module is tools/zoo/shufflenet.py (ShuffleNetV1), whose torchvision-style names
// this file mirrors:
//     conv1.0 / conv1.1                      3x3 s2 stem conv + BN (24 channels)
//     stage{2,3,4}.{i}.conv1 / bn1           grouped 1x1 to the bottleneck (1/4 of stage out)
//     stage{2,3,4}.{i}.conv2 / bn2           3x3 depthwise (stride 2 in the first unit)
//     stage{2,3,4}.{i}.conv3 / bn3           grouped 1x1 expand
//     fc
//
// V2: Ma, Zhang, Zheng & Sun 2018, "ShuffleNet V2: Practical Guidelines for Efficient CNN
// Architecture Design", as torchvision 0.14 builds it (torchvision/models/shufflenetv2.py),
// with its state_dict names.
//
// Channel split, concat and shuffle are expressed as Split / Concat / ChannelShuffle nodes;
// on the engine's NHWC layout they are strided views of the channel axis. The units are
// models/blocks/shuffle.ts's shuffleUnitV1 and shuffleUnitV2.
import { GraphBuilder } from '../src/builder';
import { convBnAct, makeDivisible } from './blocks/common';
import { shuffleUnitV1, shuffleUnitV2 } from './blocks/shuffle';
import { type CreateModelOptions, type ZooFamily, inputHW } from './registry';

// ---------------------------------------------------------------- ShuffleNet V2 (torchvision)

function _shufflenetv2(repeats: number[], channels: number[], o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  x = convBnAct(b, x, { conv: 'conv1.0', bn: 'conv1.1' }, { out: channels[0], kernel: 3, stride: 2, pad: 1 });
  x = b.maxPool(x, { kernel: 3, stride: 2, pad: 1 });
  repeats.forEach((n, s) => {
    for (let i = 0; i < n; i++) x = shuffleUnitV2(b, x, `stage${s + 2}.${i}`, { out: channels[s + 1], stride: i === 0 ? 2 : 1 });
  });
  x = convBnAct(b, x, { conv: 'conv5.0', bn: 'conv5.1' }, { out: channels[4], kernel: 1 });
  x = b.flatten(b.globalAvgPool(x));
  x = b.linear(x, 'fc', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

const V2_REPEATS = [4, 8, 4]; // units in stage2, stage3, stage4

/** ShuffleNet V2 0.5x: stem 24, stages 48/96/192, conv5 1024. */
export function shufflenet_v2_x0_5(o: CreateModelOptions = {}): GraphBuilder {
  return _shufflenetv2(V2_REPEATS, [24, 48, 96, 192, 1024], o);
}
/** ShuffleNet V2 1.0x: stem 24, stages 116/232/464, conv5 1024. */
export function shufflenet_v2_x1_0(o: CreateModelOptions = {}): GraphBuilder {
  return _shufflenetv2(V2_REPEATS, [24, 116, 232, 464, 1024], o);
}
/** ShuffleNet V2 1.5x: stem 24, stages 176/352/704, conv5 1024. */
export function shufflenet_v2_x1_5(o: CreateModelOptions = {}): GraphBuilder {
  return _shufflenetv2(V2_REPEATS, [24, 176, 352, 704, 1024], o);
}
/** ShuffleNet V2 2.0x: stem 24, stages 244/488/976, conv5 2048. */
export function shufflenet_v2_x2_0(o: CreateModelOptions = {}): GraphBuilder {
  return _shufflenetv2(V2_REPEATS, [24, 244, 488, 976, 2048], o);
}

// ---------------------------------------------------------------- ShuffleNet V1 (paper)

/** Output channels of stages 2, 3, 4 at 1.0x by group count (paper, Table 1). */
const V1_STAGE_OUT: Record<number, number[]> = {
  1: [144, 288, 576],
  2: [200, 400, 800],
  3: [240, 480, 960],
  4: [272, 544, 1088],
  8: [384, 768, 1536],
};
const V1_REPEATS = [4, 8, 4]; // units in stage2 (28x28), stage3 (14x14), stage4 (7x7)

/**
 * The paper's "ShuffleNet s×" (section 4.1.1): stage output channels c·s, rounded to a multiple
 * of 4g (makeDivisible: nearest, not below 90%) so the bottleneck (a quarter) splits into g
 * groups; c·s itself wherever it is such a multiple (g = 3 at 0.5x: 120/240/480). The 24-channel stem
 * stays, as Table 1 has it for every g (Megvii's ShuffleNet-Series code also widens the stem at
 * 2.0x; the paper does not say to).
 */
export function shuffleNetV1Channels(groups: number, s: number): number[] {
  return V1_STAGE_OUT[groups].map((c) => makeDivisible(c * s, 4 * groups));
}

function _shufflenetv1(groups: number, o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const widths = shuffleNetV1Channels(groups, o.widthMultiplier ?? 1);
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  x = convBnAct(b, x, { conv: 'conv1.0', bn: 'conv1.1' }, { out: 24, kernel: 3, stride: 2, pad: 1 });
  x = b.maxPool(x, { kernel: 3, stride: 2, pad: 1 });
  V1_REPEATS.forEach((n, s) => {
    const out = widths[s];
    for (let i = 0; i < n; i++)
      x = shuffleUnitV1(b, x, `stage${s + 2}.${i}`, { out, mid: out / 4, groups, stride: i === 0 ? 2 : 1, groupFirst: !(s === 0 && i === 0) });
  });
  x = b.flatten(b.globalAvgPool(x));
  x = b.linear(x, 'fc', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

/** Why ShuffleNet V2 refuses widthMultiplier. */
const V2_WIDTH =
  "ShuffleNet V2's widths are four tables of their own (paper Table 5, torchvision's stages_out_channels), with no rounding rule between them: use shufflenet_v2_x0_5, x1_0, x1_5 or x2_0";

/** ShuffleNet V1 1.0x, g = 1 (stages 144/288/576); `widthMultiplier` s is the paper's "s×". */
export function shufflenet_v1_g1(o: CreateModelOptions = {}): GraphBuilder { return _shufflenetv1(1, o); }
/** ShuffleNet V1 1.0x, g = 2 (stages 200/400/800). */
export function shufflenet_v1_g2(o: CreateModelOptions = {}): GraphBuilder { return _shufflenetv1(2, o); }
/** ShuffleNet V1 1.0x, g = 3 (stages 240/480/960). */
export function shufflenet_v1_g3(o: CreateModelOptions = {}): GraphBuilder { return _shufflenetv1(3, o); }
/** ShuffleNet V1 1.0x, g = 4 (stages 272/544/1088). */
export function shufflenet_v1_g4(o: CreateModelOptions = {}): GraphBuilder { return _shufflenetv1(4, o); }
/** ShuffleNet V1 1.0x, g = 8 (stages 384/768/1536). */
export function shufflenet_v1_g8(o: CreateModelOptions = {}): GraphBuilder { return _shufflenetv1(8, o); }

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const SHUFFLENET: ZooFamily = {
  shufflenet_v1_g1: { build: shufflenet_v1_g1, supports: ['widthMultiplier'] },
  shufflenet_v1_g2: { build: shufflenet_v1_g2, supports: ['widthMultiplier'] },
  shufflenet_v1_g3: { build: shufflenet_v1_g3, supports: ['widthMultiplier'] },
  shufflenet_v1_g4: { build: shufflenet_v1_g4, supports: ['widthMultiplier'] },
  shufflenet_v1_g8: { build: shufflenet_v1_g8, supports: ['widthMultiplier'] },
  shufflenet_v2_x0_5: { build: shufflenet_v2_x0_5, refuses: { widthMultiplier: V2_WIDTH } },
  shufflenet_v2_x1_0: { build: shufflenet_v2_x1_0, refuses: { widthMultiplier: V2_WIDTH } },
  shufflenet_v2_x1_5: { build: shufflenet_v2_x1_5, refuses: { widthMultiplier: V2_WIDTH } },
  shufflenet_v2_x2_0: { build: shufflenet_v2_x2_0, refuses: { widthMultiplier: V2_WIDTH } },
};
