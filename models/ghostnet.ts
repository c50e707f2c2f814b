// GhostNet (Han, Wang, Tian, Guo, Xu & Xu 2020, "GhostNet: More Features from Cheap
// Operations"), V1 as timm 1.0.29 builds it (timm/models/ghostnet.py, the default of its
// ghostnet_050/100/130 builders), with timm's state_dict names.
//
// A Ghost module makes half its output channels with a 1x1 conv (+BN+ReLU) and the other half
// from those with a cheap 3x3 depthwise conv (+BN+ReLU), concatenated (and cut to the output
// width when it is odd). A Ghost bottleneck is Ghost module (expand) -> [depthwise conv +BN
// when strided] -> [squeeze-excitation] -> Ghost module (project, no activation) + shortcut
// (identity, or depthwise conv + BN + 1x1 conv + BN when the shape changes).
//
// timm's GhostNet defaults to drop_rate 0.2: F.dropout before the classifier, which
// `training: true` builds as a Dropout node (no stochastic depth: timm has none here).
// The blocks are models/blocks/ghost.ts's ghostModule and ghostBottleneck.
import { GraphBuilder } from '../src/builder';
import { convBnAct, dropout, makeDivisible } from './blocks/common';
import { ghostBottleneck } from './blocks/ghost';
import { type CreateModelOptions, type ZooFamily, inputHW } from './registry';

/** One bottleneck: depthwise kernel, expansion (mid) channels, output channels, SE ratio, stride. */
type BlockRow = [k: number, exp: number, c: number, se: number, s: number];

/** timm's cfgs: each inner list is one `blocks.{i}` stage (a Sequential of bottlenecks). */
const GHOSTNET_V1: BlockRow[][] = [
  [[3, 16, 16, 0, 1]], //               stage 1, 112x112
  [[3, 48, 24, 0, 2]], //               stage 2, 56x56
  [[3, 72, 24, 0, 1]],
  [[5, 72, 40, 0.25, 2]], //            stage 3, 28x28
  [[5, 120, 40, 0.25, 1]],
  [[3, 240, 80, 0, 2]], //              stage 4, 14x14
  [
    [3, 200, 80, 0, 1],
    [3, 184, 80, 0, 1],
    [3, 184, 80, 0, 1],
    [3, 480, 112, 0.25, 1],
    [3, 672, 112, 0.25, 1],
  ],
  [[5, 672, 160, 0.25, 2]], //          stage 5, 7x7
  [
    [5, 960, 160, 0, 1],
    [5, 960, 160, 0.25, 1],
    [5, 960, 160, 0, 1],
    [5, 960, 160, 0.25, 1],
  ],
];

function _ghostnet(cfg: BlockRow[][], width: number, o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  x = convBnAct(b, x, { conv: 'conv_stem', bn: 'bn1' }, { out: makeDivisible(16 * width, 4), kernel: 3, stride: 2, pad: 1 });
  let lastExp = 0;
  cfg.forEach((stage, s) => {
    stage.forEach(([k, exp, c, se, stride], i) => {
      x = ghostBottleneck(b, x, `blocks.${s}.${i}`, { mid: makeDivisible(exp * width, 4), out: makeDivisible(c * width, 4), kernel: k, stride, se });
      lastExp = exp;
    });
  });
  // blocks.{last}: timm ConvBnAct (1x1 conv + BatchNormAct2d with ReLU)
  const s = cfg.length;
  x = convBnAct(b, x, { conv: `blocks.${s}.0.conv`, bn: `blocks.${s}.0.bn1` }, { out: makeDivisible(lastExp * width, 4), kernel: 1 });
  x = b.globalAvgPool(x);
  x = b.relu(b.conv(x, 'conv_head', { out: 1280, kernel: 1 }));
  x = dropout(b, b.flatten(x), 0.2, o.training);
  x = b.linear(x, 'classifier', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

// widthMultiplier multiplies timm's `width` (ghostnet_050 is width 0.5): channels
// makeDivisible(c·width, 4) as timm's _make_divisible; conv_head stays 1280 as in timm.
const width = (w: number, o: CreateModelOptions) => w * (o.widthMultiplier ?? 1);

/** GhostNet V1 0.5x (timm ghostnet_050); `widthMultiplier` multiplies the width 0.5. */
export function ghostnet_050(o: CreateModelOptions = {}): GraphBuilder { return _ghostnet(GHOSTNET_V1, width(0.5, o), o); }
/** GhostNet V1 1.0x (timm ghostnet_100); `widthMultiplier` is timm's `width`. */
export function ghostnet_100(o: CreateModelOptions = {}): GraphBuilder { return _ghostnet(GHOSTNET_V1, width(1.0, o), o); }
/** GhostNet V1 1.3x (timm ghostnet_130); `widthMultiplier` multiplies the width 1.3. */
export function ghostnet_130(o: CreateModelOptions = {}): GraphBuilder { return _ghostnet(GHOSTNET_V1, width(1.3, o), o); }

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const GHOSTNET: ZooFamily = {
  ghostnet_050: { build: ghostnet_050, supports: ['widthMultiplier'] },
  ghostnet_100: { build: ghostnet_100, supports: ['widthMultiplier'] },
  ghostnet_130: { build: ghostnet_130, supports: ['widthMultiplier'] },
};
