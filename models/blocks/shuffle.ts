// ShuffleNet units: V1 (Zhang, Zhou, Lin & Sun 2018, "ShuffleNet: An Extremely Efficient
// Convolutional Neural Network for Mobile Devices"; names of tools/zoo/shufflenet.py) and V2 (Ma,
// Zhang, Zheng & Sun 2018, "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture
// Design"; torchvision 0.14 InvertedResidual names). Channel split, concat and shuffle are Split /
// Concat / ChannelShuffle nodes; on the engine's NHWC layout they are strided views of the
// channel axis.
import type { GraphBuilder } from '../../src/builder';
import { convBnAct } from './common';

/** The channel shuffle of ShuffleNet: [N, g·c, H, W] viewed as [N, g, c, H, W], transposed, flattened back. */
export function channelShuffle(b: GraphBuilder, x: string, groups: number): string {
  return b.node('ChannelShuffle', [x], { groups })[0];
}

/** Options of {@link shuffleUnitV1}. */
export interface ShuffleUnitV1Options {
  /** output channels (stride 2: including the concatenated pooled input) */
  out: number;
  /** bottleneck channels (the paper: out / 4) */
  mid: number;
  /** groups of the 1x1 convs */
  groups: number;
  /** stride (1: residual add; 2: concat with a 3x3 average-pooled input) */
  stride?: number;
  /** group the first 1x1 conv (default true; the paper's first unit of stage 2 does not: its input has 24 channels) */
  groupFirst?: boolean;
}

/**
 * ShuffleNet V1 unit: grouped 1x1 `conv1` + BN `bn1` + ReLU, channel shuffle, 3x3 depthwise
 * `conv2` + BN, grouped 1x1 `conv3` + BN; stride 1 adds the input, stride 2 concatenates a 3x3
 * average-pooled input; ReLU after. Zhang et al. 2018 make the 1x1 convs grouped (their cost
 * dominates small networks) and shuffle channels so information flows across groups.
 */
export function shuffleUnitV1(b: GraphBuilder, x: string, prefix: string, o: ShuffleUnitV1Options): string {
  const C = b.shape(x)[1];
  const { out, mid, groups } = o;
  const stride = o.stride ?? 1;
  let y = convBnAct(b, x, { conv: `${prefix}.conv1`, bn: `${prefix}.bn1` }, { out: mid, kernel: 1, groups: o.groupFirst ?? true ? groups : 1 }, 'relu');
  if (groups > 1) y = channelShuffle(b, y, groups);
  y = convBnAct(b, y, { conv: `${prefix}.conv2`, bn: `${prefix}.bn2` }, { out: mid, kernel: 3, stride, pad: 1, groups: mid }, 'none');
  y = convBnAct(b, y, { conv: `${prefix}.conv3`, bn: `${prefix}.bn3` }, { out: stride === 2 ? out - C : out, kernel: 1, groups }, 'none');
  if (stride === 2) return b.relu(b.concat([b.avgPool(x, { kernel: 3, stride: 2, pad: 1 }), y]));
  return b.relu(b.add(x, y));
}

/** Options of {@link shuffleUnitV2}. */
export interface ShuffleUnitV2Options {
  /** output channels (even) */
  out: number;
  /** stride (1: channel split; 2: both branches see the whole input) */
  stride?: number;
}

/**
 * ShuffleNet V2 unit (torchvision InvertedResidual): stride 1 splits the channels in halves, one
 * passes through, the other runs 1x1 + BN + ReLU, 3x3 depthwise + BN, 1x1 + BN + ReLU
 * (`branch2.{0,1,3,4,5,6}`); stride 2 runs a depthwise + pointwise `branch1.{0..3}` on the input
 * instead of passing it; the halves are concatenated and shuffled. Ma et al. 2018 derive the unit
 * from four guidelines measured on devices (equal channel widths, few groups, little
 * fragmentation, few element-wise ops) rather than from FLOPs.
 */
export function shuffleUnitV2(b: GraphBuilder, x: string, prefix: string, o: ShuffleUnitV2Options): string {
  const stride = o.stride ?? 1;
  const half = o.out / 2;
  let left: string;
  let right: string;
  if (stride === 1) {
    [left, right] = b.node('Split', [x, b.ints([half, half])], { axis: 1 }, 2);
  } else {
    const C = b.shape(x)[1];
    left = convBnAct(b, x, { conv: `${prefix}.branch1.0`, bn: `${prefix}.branch1.1` }, { out: C, kernel: 3, stride, pad: 1, groups: C }, 'none');
    left = convBnAct(b, left, { conv: `${prefix}.branch1.2`, bn: `${prefix}.branch1.3` }, { out: half, kernel: 1 }, 'relu');
    right = x;
  }
  let y = convBnAct(b, right, { conv: `${prefix}.branch2.0`, bn: `${prefix}.branch2.1` }, { out: half, kernel: 1 }, 'relu');
  y = convBnAct(b, y, { conv: `${prefix}.branch2.3`, bn: `${prefix}.branch2.4` }, { out: half, kernel: 3, stride, pad: 1, groups: half }, 'none');
  y = convBnAct(b, y, { conv: `${prefix}.branch2.5`, bn: `${prefix}.branch2.6` }, { out: half, kernel: 1 }, 'relu');
  return channelShuffle(b, b.concat([left, y]), 2);
}
