// ConvNeXt (Liu, Mao, Wu, Feichtenhofer, Darrell & Xie 2022, "A ConvNet for the 2020s"), as
// torchvision 0.14 builds it (torchvision/models/convnext.py): a 4x4 stride-4 patchify stem,
// four stages of ConvNeXt blocks joined by LayerNorm2d + 2x2 stride-2 downsampling convs, and a
// pooled LayerNorm2d + Linear head. Weight names are torchvision's state_dict keys.
//
// A block is 7x7 depthwise conv -> LayerNorm over channels -> Linear 4C -> GELU -> Linear C ->
// layer scale -> residual add. torchvision computes the middle part on an NHWC permutation of
// the map; the graph does the same: the two Transposes are layout changes the engine performs
// for free, so the LayerNorm runs over the last axis in place and each Linear is one Gemm on a
// free [N*H*W, C] reshape, reading the weight as stored (no build-time transposes).
//
// convnext_xlarge (the paper's ConvNeXt-XL, channels 256/512/1024/2048, depths 3/3/27/3, trained
// on ImageNet-22k only) is not in torchvision 0.14: it follows timm 1.0.29 `convnext_xlarge` and
// its state_dict names (stem.{0,1}, stages.<s>.downsample.{0,1}, stages.<s>.blocks.<i>.{conv_dw,
// norm, mlp.fc1, mlp.fc2, gamma}, head.{norm,fc}); timm's default drop_path_rate is 0, so its
// training form has no stochastic depth.
//
// `training: true` adds stochastic depth (DropPath, 'row') on each block's branch before the
// residual add, torchvision's linear schedule p · (block index) / (number of blocks - 1) with
// p = stochastic_depth_prob: 0.1 (tiny), 0.4 (small), 0.5 (base, large).
// The block is models/blocks/convnext.ts's convNeXtBlock.
import { GraphBuilder } from '../src/builder';
import { convNeXtBlock } from './blocks/convnext';
import { type CreateModelOptions, type ZooFamily, inputHW } from './registry';

/** One stage: `depth` blocks of `dim` channels, then (except after the last) a downsample to `out`. */
interface StageConfig {
  dim: number;
  out: number | null;
  depth: number;
}

const LN_EPS = 1e-6;

function _convnext(stages: StageConfig[], sdProb: number, o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  // features.0: patchify stem (Conv2dNormActivation without activation)
  x = b.conv(x, 'features.0.0', { out: stages[0].dim, kernel: 4, stride: 4 });
  x = b.layerNorm2d(x, 'features.0.1', LN_EPS);
  let f = 1;
  const total = stages.reduce((t, s) => t + s.depth, 0);
  let id = 0; // torchvision's stage_block_id over all stages
  for (const s of stages) {
    for (let i = 0; i < s.depth; i++) x = convNeXtBlock(b, x, `features.${f}.${i}`, { dropPath: (sdProb * id++) / (total - 1), training: o.training });
    f++;
    if (s.out !== null) {
      x = b.layerNorm2d(x, `features.${f}.0`, LN_EPS);
      x = b.conv(x, `features.${f}.1`, { out: s.out, kernel: 2, stride: 2 });
      f++;
    }
  }
  x = b.globalAvgPool(x);
  x = b.layerNorm2d(x, 'classifier.0', LN_EPS);
  x = b.flatten(x);
  x = b.linear(x, 'classifier.2', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

const stages = (dims: number[], depths: number[]): StageConfig[] =>
  dims.map((dim, i) => ({ dim, out: i + 1 < dims.length ? dims[i + 1] : null, depth: depths[i] }));

/** ConvNeXt-T: channels 96/192/384/768, depths 3/3/9/3 (28.6M parameters). */
export function convnext_tiny(o: CreateModelOptions = {}): GraphBuilder {
  return _convnext(stages([96, 192, 384, 768], [3, 3, 9, 3]), 0.1, o);
}

/** ConvNeXt-S: channels 96/192/384/768, depths 3/3/27/3 (50.2M parameters). */
export function convnext_small(o: CreateModelOptions = {}): GraphBuilder {
  return _convnext(stages([96, 192, 384, 768], [3, 3, 27, 3]), 0.4, o);
}

/** ConvNeXt-B: channels 128/256/512/1024, depths 3/3/27/3 (88.6M parameters). */
export function convnext_base(o: CreateModelOptions = {}): GraphBuilder {
  return _convnext(stages([128, 256, 512, 1024], [3, 3, 27, 3]), 0.5, o);
}

/** ConvNeXt-L: channels 192/384/768/1536, depths 3/3/27/3 (197.8M parameters). */
export function convnext_large(o: CreateModelOptions = {}): GraphBuilder {
  return _convnext(stages([192, 384, 768, 1536], [3, 3, 27, 3]), 0.5, o);
}

function _convnextTimm(dims: number[], depths: number[], o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  x = b.layerNorm2d(b.conv(x, 'stem.0', { out: dims[0], kernel: 4, stride: 4 }), 'stem.1', LN_EPS);
  dims.forEach((dim, s) => {
    if (s > 0) x = b.conv(b.layerNorm2d(x, `stages.${s}.downsample.0`, LN_EPS), `stages.${s}.downsample.1`, { out: dim, kernel: 2, stride: 2 });
    for (let i = 0; i < depths[s]; i++) x = convNeXtBlock(b, x, `stages.${s}.blocks.${i}`, { layout: 'timm' });
  });
  x = b.flatten(b.layerNorm2d(b.globalAvgPool(x), 'head.norm', LN_EPS));
  b.output(b.linear(x, 'head.fc', o.numClasses ?? 1000), 'logits');
  return b;
}

/** ConvNeXt-XL (timm `convnext_xlarge`, its names): channels 256/512/1024/2048, depths 3/3/27/3 (350.2M parameters). */
export function convnext_xlarge(o: CreateModelOptions = {}): GraphBuilder {
  return _convnextTimm([256, 512, 1024, 2048], [3, 3, 27, 3], o);
}

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const CONVNEXT: ZooFamily = {
  convnext_tiny: { build: convnext_tiny },
  convnext_small: { build: convnext_small },
  convnext_base: { build: convnext_base },
  convnext_large: { build: convnext_large },
  convnext_xlarge: { build: convnext_xlarge },
};
