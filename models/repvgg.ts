// RepVGG (Ding, Zhang, Ma, Han, Ding & Sun 2021, "RepVGG: Making VGG-style ConvNets Great
// Again"), as timm 1.0.29 builds it in byobnet.py (ByobNet with RepVggBlock, stem_type 'rep'):
// a RepVGG block as stem (3 -> stem width, stride 2), four stages whose first block has stride
// 2, global average pooling and one fully connected layer ('head.fc'). No final 1x1 conv, no
// attention, BatchNorm eps 1e-5, ReLU after every block.
//
// A block trains as three branches summed before the ReLU: 3x3 conv + BN, 1x1 conv + BN and,
// when input and output agree (same channels, stride 1), a BN on the input itself. At
// inference the branches collapse into one 3x3 conv with bias (structural
// re-parameterisation): each BN folds into its conv (W·γ/σ, β − μγ/σ with σ = sqrt(var + eps)),
// the 1x1 kernel becomes the centre tap of a 3x3 kernel, the identity BN becomes a 3x3 kernel
// with 1 at the centre of its own channel (within its group), and kernels and biases add up.
// `deploy: true` builds that form, computing the merged kernels on the host at build() from the
// same training-time state_dict, so one set of weights loads either way. The multi-branch form
// is the default and the one `training: true` builds (refused together with `deploy`).
//
// Weight names are timm's state_dict keys: `stem.conv_kxk.conv.weight`, `stem.conv_1x1.bn.*`,
// `stages.<s>.<i>.identity.*`, `head.fc.weight`. The g4 variants use 4 groups in the odd
// blocks of every stage (timm: group size out/4 where (block index + 1) is even).
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import { repVggBlock } from './blocks/repvgg';
import { type CreateModelOptions, inputHW, type ZooFamily } from './registry';

/** Base widths of the four stages, scaled by the a/b multipliers of each variant. */
const BASE_WIDTHS = [64, 128, 256, 512];

interface RepVggConfig {
  /** blocks per stage */
  depths: number[];
  /** width multipliers per stage (the paper's a for stages 1-3, b for stage 4) */
  widthFactors: number[];
  /** stem width: min(64, 64a) */
  stem: number;
  /** groups of the odd blocks of each stage (1: dense everywhere) */
  groups: number;
}

const A_DEPTHS = [2, 4, 14, 1];
const B_DEPTHS = [4, 6, 16, 1];

const CONFIGS: Record<string, RepVggConfig> = {
  repvgg_a0: { depths: A_DEPTHS, widthFactors: [0.75, 0.75, 0.75, 2.5], stem: 48, groups: 1 }, // a = 0.75, b = 2.5
  repvgg_a1: { depths: A_DEPTHS, widthFactors: [1, 1, 1, 2.5], stem: 64, groups: 1 }, // a = 1, b = 2.5
  repvgg_a2: { depths: A_DEPTHS, widthFactors: [1.5, 1.5, 1.5, 2.75], stem: 64, groups: 1 }, // a = 1.5, b = 2.75
  repvgg_b0: { depths: B_DEPTHS, widthFactors: [1, 1, 1, 2.5], stem: 64, groups: 1 }, // a = 1, b = 2.5
  repvgg_b1: { depths: B_DEPTHS, widthFactors: [2, 2, 2, 4], stem: 64, groups: 1 }, // a = 2, b = 4
  repvgg_b1g4: { depths: B_DEPTHS, widthFactors: [2, 2, 2, 4], stem: 64, groups: 4 }, // B1, odd blocks 4 groups
  repvgg_b2: { depths: B_DEPTHS, widthFactors: [2.5, 2.5, 2.5, 5], stem: 64, groups: 1 }, // a = 2.5, b = 5
  repvgg_b2g4: { depths: B_DEPTHS, widthFactors: [2.5, 2.5, 2.5, 5], stem: 64, groups: 4 }, // B2, odd blocks 4 groups
  repvgg_b3: { depths: B_DEPTHS, widthFactors: [3, 3, 3, 5], stem: 64, groups: 1 }, // a = 3, b = 5
  repvgg_b3g4: { depths: B_DEPTHS, widthFactors: [3, 3, 3, 5], stem: 64, groups: 4 }, // B3, odd blocks 4 groups
};

function _repvgg(cfg: RepVggConfig, o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const deploy = o.deploy ?? false;
  if (deploy && o.training) throw new ValueError('repvgg: deploy (the merged inference form) cannot be combined with training: true (the multi-branch form)');
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  x = repVggBlock(b, x, 'stem', { out: cfg.stem, stride: 2, deploy });
  cfg.depths.forEach((depth, s) => {
    const width = BASE_WIDTHS[s] * cfg.widthFactors[s];
    for (let i = 0; i < depth; i++) {
      const groups = cfg.groups > 1 && i % 2 === 1 ? cfg.groups : 1;
      x = repVggBlock(b, x, `stages.${s}.${i}`, { out: width, stride: i === 0 ? 2 : 1, groups, deploy });
    }
  });
  x = b.flatten(b.globalAvgPool(x));
  x = b.linear(x, 'head.fc', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

/** RepVGG-A0 (8.3M params deployed, 9.1M training form); `deploy` builds the single-conv form. */
export const repvgg_a0 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_a0, o);
/** RepVGG-A1 (stage widths 64, 128, 256, 1280). */
export const repvgg_a1 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_a1, o);
/** RepVGG-A2 (stage widths 96, 192, 384, 1408). */
export const repvgg_a2 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_a2, o);
/** RepVGG-B0 (depths 4, 6, 16, 1; widths 64, 128, 256, 1280). */
export const repvgg_b0 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b0, o);
/** RepVGG-B1 (widths 128, 256, 512, 2048). */
export const repvgg_b1 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b1, o);
/** RepVGG-B1g4: B1 with 4-group convs in the odd blocks of every stage. */
export const repvgg_b1g4 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b1g4, o);
/** RepVGG-B2 (widths 160, 320, 640, 2560). */
export const repvgg_b2 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b2, o);
/** RepVGG-B2g4: B2 with 4-group convs in the odd blocks of every stage. */
export const repvgg_b2g4 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b2g4, o);
/** RepVGG-B3 (widths 192, 384, 768, 2560). */
export const repvgg_b3 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b3, o);
/** RepVGG-B3g4: B3 with 4-group convs in the odd blocks of every stage. */
export const repvgg_b3g4 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b3g4, o);

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const REPVGG: ZooFamily = {
  repvgg_a0: { build: repvgg_a0, supports: ['deploy'] },
  repvgg_a1: { build: repvgg_a1, supports: ['deploy'] },
  repvgg_a2: { build: repvgg_a2, supports: ['deploy'] },
  repvgg_b0: { build: repvgg_b0, supports: ['deploy'] },
  repvgg_b1: { build: repvgg_b1, supports: ['deploy'] },
  repvgg_b1g4: { build: repvgg_b1g4, supports: ['deploy'] },
  repvgg_b2: { build: repvgg_b2, supports: ['deploy'] },
  repvgg_b2g4: { build: repvgg_b2g4, supports: ['deploy'] },
  repvgg_b3: { build: repvgg_b3, supports: ['deploy'] },
  repvgg_b3g4: { build: repvgg_b3g4, supports: ['deploy'] },
};
