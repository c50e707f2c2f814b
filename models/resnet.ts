// ResNet (He, Zhang, Ren & Sun 2016, "Deep Residual Learning for Image Recognition"), ResNeXt
// (Xie et al. 2017, "Aggregated Residual Transformations"), Wide ResNet (Zagoruyko & Komodakis
// 2016), SE-ResNet (Hu et al. 2018) and the ResNet-D tweaks of "Bag of Tricks" (He et al. 2019)
// with ECA attention. References: torchvision 0.14 models/resnet.py (resnet18 ... wide_resnet50_2,
// the "v1.5" bottleneck striding in its 3x3 conv) and timm 1.0.29 models/resnet.py (seresnet50,
// ecaresnet50d, and any of these with an attention module in every block: timm's ResNet built with
// block_args=dict(attn_layer='se' | 'cbam' | 'eca' | 'coord')). Weight names are the references'
// state_dict keys: torchvision's, plus `layerI.J.se.*` for the block's attention module and, for
// the deep stem / average-pool shortcut of the `d` variant, timm's `conv1.{0,1,3,4,6}` and
// `downsample.{1,2}`.
// resnetFeatures() exposes the body (optionally under a state_dict prefix, with torchvision's
// replace_stride_with_dilation) for the segmentation models of models/segmentation.ts. The blocks
// are models/blocks/resnet.ts's basicBlock and bottleneck.
import { GraphBuilder } from '../src/builder';
import { convBnAct } from './blocks/common';
import { basicBlock, bottleneck } from './blocks/resnet';
import { type Attention, type CreateModelOptions, type ZooFamily, inputHW } from './registry';

type BlockKind = 'basic' | 'bottleneck';

interface ResNetConfig {
  block: BlockKind;
  /** blocks per stage */
  layers: [number, number, number, number];
  /** groups of the bottleneck's 3x3 conv (ResNeXt cardinality) */
  groups?: number;
  /** channels per group at planes = 64 (torchvision width_per_group) */
  widthPerGroup?: number;
  /** 'deep': three 3x3 convs of 32, 32, 64 channels instead of the 7x7 (ResNet-C/D stem) */
  stem?: 'plain' | 'deep';
  /** shortcut downsampling by 2x2 average pool + 1x1 conv instead of a strided 1x1 (ResNet-D) */
  avgDown?: boolean;
  /** attention module after the block's last BN, before the residual add */
  attention?: Attention;
}

// The four stages: [planes, stride of the first block]. Output channels are planes * expansion
// (1 for BasicBlock, 4 for Bottleneck); spatial sizes at 224 input in the comments.
const STAGES: [number, number][] = [
  [64, 1], //  layer1: 56x56 (the stem's max pool already halved it)
  [128, 2], // layer2: 28x28
  [256, 2], // layer3: 14x14
  [512, 2], // layer4: 7x7
];

/** BasicBlock / Bottleneck (models/blocks/resnet.ts) with this variant's settings. */
function block(b: GraphBuilder, x: string, p: string, cfg: ResNetConfig, planes: number, stride: number, dilation = 1): string {
  const o = { planes, stride, dilation, avgDown: cfg.avgDown, attention: cfg.attention };
  return cfg.block === 'basic' ? basicBlock(b, x, p, o) : bottleneck(b, x, p, { ...o, groups: cfg.groups, widthPerGroup: cfg.widthPerGroup });
}

function stem(b: GraphBuilder, x: string, cfg: ResNetConfig, prefix = ''): string {
  let y: string;
  const p = prefix;
  if (cfg.stem === 'deep') {
    // conv1 = Sequential(conv 3x3/2 32, BN, ReLU, conv 3x3 32, BN, ReLU, conv 3x3 64), then bn1
    y = convBnAct(b, x, { conv: `${p}conv1.0`, bn: `${p}conv1.1` }, { out: 32, kernel: 3, stride: 2, pad: 1 });
    y = convBnAct(b, y, { conv: `${p}conv1.3`, bn: `${p}conv1.4` }, { out: 32, kernel: 3, pad: 1 });
    y = convBnAct(b, y, { conv: `${p}conv1.6`, bn: `${p}bn1` }, { out: 64, kernel: 3, pad: 1 });
  } else {
    y = convBnAct(b, x, { conv: `${p}conv1`, bn: `${p}bn1` }, { out: 64, kernel: 7, stride: 2, pad: 3 });
  }
  return b.maxPool(y, { kernel: 3, stride: 2, pad: 1 });
}

/** Options of {@link resnetFeatures}. */
export interface ResNetFeatureOptions {
  /** state_dict prefix of every backbone weight (e.g. 'backbone.' inside a segmentation model) */
  prefix?: string;
  /**
   * torchvision's replace_stride_with_dilation for layer2, layer3, layer4: the stage keeps
   * stride 1 and dilates its 3x3 convs instead (the first block with the previous dilation,
   * the others with dilation x stride), so the output stride stays 8 or 16.
   */
  replaceStrideWithDilation?: [boolean, boolean, boolean];
  /** Attention module added to every block; default the variant's own (se for seresnet50, eca for ecaresnet50d, else none). */
  attention?: Attention;
}

/**
 * The convolutional body of a registered ResNet variant (stem, layer1 ... layer4, no pooling
 * head) on `x`; returns the outputs of layer1 ... layer4. Segmentation models build on it.
 */
export function resnetFeatures(b: GraphBuilder, x: string, name: ResNetVariant, o: ResNetFeatureOptions = {}): string[] {
  const cfg = CONFIGS[name] as ResNetConfig;
  const c: ResNetConfig = { ...cfg, attention: o.attention ?? cfg.attention };
  const prefix = o.prefix ?? '';
  const dilate = o.replaceStrideWithDilation ?? [false, false, false];
  const outs: string[] = [];
  let dilation = 1;
  x = stem(b, x, c, prefix);
  STAGES.forEach(([planes, s], i) => {
    const previous = dilation;
    let stride = s;
    if (i > 0 && dilate[i - 1]) {
      dilation *= stride;
      stride = 1;
    }
    for (let j = 0; j < c.layers[i]; j++)
      x = block(b, x, `${prefix}layer${i + 1}.${j}`, c, planes, j === 0 ? stride : 1, j === 0 ? previous : dilation);
    outs.push(x);
  });
  return outs;
}

function _resnet(name: ResNetVariant, o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 224);
  const feats = resnetFeatures(b, b.input('input', [o.batch ?? 1, 3, H, W]), name, { attention: o.attention });
  const x = b.flatten(b.globalAvgPool(feats[3]));
  b.output(b.linear(x, 'fc', o.numClasses ?? 1000), 'logits');
  return b;
}

/** Names of the registered ResNet variants (each also a createModel() name). */
export type ResNetVariant =
  | 'resnet18'
  | 'resnet34'
  | 'resnet50'
  | 'resnet101'
  | 'resnet152'
  | 'resnext50_32x4d'
  | 'wide_resnet50_2'
  | 'seresnet50'
  | 'ecaresnet50d';

// Variants: [block, blocks per stage, extra settings] (He et al. 2016 Table 1; Xie et al. 2017;
// Zagoruyko & Komodakis 2016; timm's seresnet50 / ecaresnet50d).
const CONFIGS = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] }, //                                  11.7 M params
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] }, //                                  21.8 M
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] }, //                             25.6 M
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3] }, //                           44.5 M
  resnet152: { block: 'bottleneck', layers: [3, 8, 36, 3] }, //                           60.2 M
  resnext50_32x4d: { block: 'bottleneck', layers: [3, 4, 6, 3], groups: 32, widthPerGroup: 4 }, // 25.0 M
  wide_resnet50_2: { block: 'bottleneck', layers: [3, 4, 6, 3], widthPerGroup: 128 }, //  68.9 M (3x3 width x2)
  seresnet50: { block: 'bottleneck', layers: [3, 4, 6, 3], attention: 'se' }, //          28.1 M
  ecaresnet50d: { block: 'bottleneck', layers: [3, 4, 6, 3], stem: 'deep', avgDown: true, attention: 'eca' }, // 25.6 M
} satisfies Record<ResNetVariant, ResNetConfig>;
type Variant = ResNetVariant;
const variant = (name: Variant) => (o: CreateModelOptions = {}) => _resnet(name, o);

/** ResNet-18 (torchvision): BasicBlocks [2, 2, 2, 2]. `attention` adds a timm attention module per block. */
export const resnet18: (o?: CreateModelOptions) => GraphBuilder = variant('resnet18');
/** ResNet-34 (torchvision): BasicBlocks [3, 4, 6, 3]. */
export const resnet34: (o?: CreateModelOptions) => GraphBuilder = variant('resnet34');
/** ResNet-50 (torchvision, v1.5 stride in the 3x3): Bottlenecks [3, 4, 6, 3]. */
export const resnet50: (o?: CreateModelOptions) => GraphBuilder = variant('resnet50');
/** ResNet-101 (torchvision): Bottlenecks [3, 4, 23, 3]. */
export const resnet101: (o?: CreateModelOptions) => GraphBuilder = variant('resnet101');
/** ResNet-152 (torchvision): Bottlenecks [3, 8, 36, 3]. */
export const resnet152: (o?: CreateModelOptions) => GraphBuilder = variant('resnet152');
/** ResNeXt-50 32x4d (torchvision): 3x3 convs in 32 groups of 4 channels per 64 planes. */
export const resnext50_32x4d: (o?: CreateModelOptions) => GraphBuilder = variant('resnext50_32x4d');
/** Wide ResNet-50-2 (torchvision): bottleneck 3x3 twice as wide. */
export const wide_resnet50_2: (o?: CreateModelOptions) => GraphBuilder = variant('wide_resnet50_2');
/** SE-ResNet-50 (timm): ResNet-50 with squeeze-excitation (C/16 rounded to 8) in every block. */
export const seresnet50: (o?: CreateModelOptions) => GraphBuilder = variant('seresnet50');
/** ECA-ResNet-50-D (timm): deep 3x3 stem, average-pool shortcuts, ECA in every block. */
export const ecaresnet50d: (o?: CreateModelOptions) => GraphBuilder = variant('ecaresnet50d');

/**
 * Why ResNets refuse widthMultiplier: torchvision's wide_resnet50_2 widens only the bottleneck
 * (width_per_group 128), and neither torchvision nor timm define a rounding rule that scales every
 * ResNet layer by one multiplier.
 */
const RESNET_WIDTH =
  'the ResNet family has no reference width multiplier with a rounding rule (torchvision widens only the bottleneck through width_per_group: use wide_resnet50_2)';

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const RESNET: ZooFamily = Object.fromEntries(
  (Object.keys(CONFIGS) as Variant[]).map((n) => [n, { build: variant(n), supports: ['attention'], refuses: { widthMultiplier: RESNET_WIDTH } }]),
);
