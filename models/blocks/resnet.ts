// ResNet blocks (He, Zhang, Ren & Sun 2016, "Deep Residual Learning for Image Recognition"):
// BasicBlock and Bottleneck as torchvision 0.14 builds them (the "v1.5" bottleneck striding in its
// 3x3 conv), with ResNeXt's grouped 3x3 (Xie et al. 2017, "Aggregated Residual Transformations
// for Deep Neural Networks"), Wide ResNet's width (Zagoruyko & Komodakis 2016), the average-pool
// shortcut of ResNet-D ("Bag of Tricks", He et al. 2019) and an attention module after the last
// BN as timm 1.0.29's ResNet builds it (block_args=dict(attn_layer=...)). Weight names are
// torchvision's state_dict keys (conv1, bn1, ..., downsample.{0,1}) plus timm's `se.*` for the
// attention module and `downsample.{1,2}` for the average-pool shortcut.
import type { GraphBuilder } from '../../src/builder';
import { ValueError } from '../../src/errors';
import type { Attention } from '../registry';
import { attentionModule } from './attention';
import { convBnAct } from './common';

/** Options shared by {@link basicBlock} and {@link bottleneck}. */
export interface ResidualBlockOptions {
  /** planes: output channels of BasicBlock, a quarter of Bottleneck's */
  planes: number;
  /** stride (default 1) */
  stride?: number;
  /** dilation of the 3x3 conv (default 1; Bottleneck only, torchvision's replace_stride_with_dilation) */
  dilation?: number;
  /** shortcut by 2x2 average pool + 1x1 conv instead of a strided 1x1 conv (ResNet-D) */
  avgDown?: boolean;
  /** attention module after the block's last BN, before the residual add (weights `<prefix>.se.*`) */
  attention?: Attention;
}

/** Options of {@link bottleneck}. */
export interface BottleneckOptions extends ResidualBlockOptions {
  /** groups of the 3x3 conv (ResNeXt cardinality, default 1) */
  groups?: number;
  /** channels per group at planes = 64 (torchvision width_per_group, default 64) */
  widthPerGroup?: number;
}

/** The shortcut of a block: identity, or projection (strided 1x1 + BN, or 2x2 avg pool + 1x1 + BN). */
function shortcut(b: GraphBuilder, x: string, p: string, out: number, stride: number, avgDown: boolean | undefined): string {
  if (stride === 1 && b.shape(x)[1] === out) return x;
  if (!avgDown) return convBnAct(b, x, { conv: `${p}.downsample.0`, bn: `${p}.downsample.1` }, { out, kernel: 1, stride }, 'none');
  const pooled = stride === 1 ? x : b.avgPool(x, { kernel: 2, stride, ceilMode: true, countIncludePad: false });
  return convBnAct(b, pooled, { conv: `${p}.downsample.1`, bn: `${p}.downsample.2` }, { out, kernel: 1 }, 'none');
}

/** relu(attention(branch) + shortcut(x)). */
function finish(b: GraphBuilder, x: string, y: string, prefix: string, out: number, o: ResidualBlockOptions): string {
  if (o.attention) y = attentionModule(b, y, `${prefix}.se`, { kind: o.attention });
  return b.relu(b.add(y, shortcut(b, x, prefix, out, o.stride ?? 1, o.avgDown)));
}

/**
 * BasicBlock: 3x3 conv `conv1` + BN `bn1` + ReLU, 3x3 conv `conv2` + BN `bn2`, [attention], plus
 * the shortcut (identity, or 1x1 projection `downsample`), ReLU. He et al. 2016 learn residual
 * functions with reference to the input, which makes very deep networks trainable (ResNet won
 * ILSVRC 2015); ResNet-18 and -34 stack this block.
 */
export function basicBlock(b: GraphBuilder, x: string, prefix: string, o: ResidualBlockOptions): string {
  if ((o.dilation ?? 1) > 1) throw new ValueError(`${prefix}: BasicBlock does not support dilation > 1 (as in torchvision)`);
  const { planes } = o;
  const y = convBnAct(b, x, { conv: `${prefix}.conv1`, bn: `${prefix}.bn1` }, { out: planes, kernel: 3, stride: o.stride ?? 1, pad: 1 });
  return finish(b, x, convBnAct(b, y, { conv: `${prefix}.conv2`, bn: `${prefix}.bn2` }, { out: planes, kernel: 3, pad: 1 }, 'none'), prefix, planes, o);
}

/**
 * Bottleneck (torchvision v1.5: stride in the 3x3): 1x1 conv `conv1` + BN + ReLU to the width,
 * 3x3 (grouped, dilated) `conv2` + BN + ReLU, 1x1 `conv3` + BN to 4·planes, [attention], plus the
 * shortcut, ReLU. He et al. 2016 use it for the deeper ResNets (50, 101, 152): the 1x1 convs
 * reduce and restore the channels so the 3x3 works on a narrow map; ResNeXt groups its 3x3.
 */
export function bottleneck(b: GraphBuilder, x: string, prefix: string, o: BottleneckOptions): string {
  const { planes } = o;
  const groups = o.groups ?? 1;
  const dilation = o.dilation ?? 1;
  const width = Math.floor(planes * ((o.widthPerGroup ?? 64) / 64)) * groups;
  let y = convBnAct(b, x, { conv: `${prefix}.conv1`, bn: `${prefix}.bn1` }, { out: width, kernel: 1 });
  y = convBnAct(b, y, { conv: `${prefix}.conv2`, bn: `${prefix}.bn2` }, { out: width, kernel: 3, stride: o.stride ?? 1, pad: dilation, dilation, groups });
  y = convBnAct(b, y, { conv: `${prefix}.conv3`, bn: `${prefix}.bn3` }, { out: planes * 4, kernel: 1 }, 'none');
  return finish(b, x, y, prefix, planes * 4, o);
}
