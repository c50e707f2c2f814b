// DenseNet-BC (Huang, Liu, van der Maaten & Weinberger 2017, "Densely Connected Convolutional
// Networks"): dense blocks whose layers (BN-ReLU-1x1 conv to 4k, BN-ReLU-3x3 conv to k) each
// see the concatenation of all earlier feature maps of the block; transitions (BN-ReLU-1x1 conv
// halving the channels, 2x2 average pool) between blocks; final BN + ReLU + global pool.
// Reference implementation: torchvision 0.14 `torchvision.models.densenet`; weight names are
// its state_dict keys (features.conv0, features.denseblock1.denselayer1.norm1, ...,
// features.transition1.conv, features.norm5, classifier). The blocks are models/blocks/dense.ts's
// denseLayer and denseTransition; `attention` adds a module to every dense layer after its 3x3
// conv, weights `features.denseblockB.denselayerL.se.*` (timm's defaults, see attentionModule).
import { GraphBuilder } from '../src/builder';
import type { CreateModelOptions, ZooFamily } from './registry';
import { inputHW } from './registry';
import { denseLayer, denseTransition } from './blocks/dense';

interface DenseNetConfig {
  /** k: channels each dense layer adds */
  growth: number;
  /** dense layers in each of the four blocks */
  blocks: [number, number, number, number];
  /** channels of the stem conv */
  init: number;
}

// The four ImageNet models of the paper (Table 1).
const CONFIGS: Record<121 | 161 | 169 | 201, DenseNetConfig> = {
  121: { growth: 32, blocks: [6, 12, 24, 16], init: 64 }, // 7.98M params
  161: { growth: 48, blocks: [6, 12, 36, 24], init: 96 }, // 28.7M params
  169: { growth: 32, blocks: [6, 12, 32, 32], init: 64 }, // 14.1M params
  201: { growth: 32, blocks: [6, 12, 48, 32], init: 64 }, // 20.0M params
};

function _densenet(depth: 121 | 161 | 169 | 201, o: CreateModelOptions): GraphBuilder {
  const { growth, blocks, init } = CONFIGS[depth];
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  x = b.conv(x, 'features.conv0', { out: init, kernel: 7, stride: 2, pad: 3, bias: false });
  x = b.relu(b.batchNorm(x, 'features.norm0'));
  x = b.maxPool(x, { kernel: 3, stride: 2, pad: 1 }); // pool0
  let channels = init;
  blocks.forEach((layers, bi) => {
    for (let l = 1; l <= layers; l++) {
      // concatenating onto the running block output equals torchvision's cat of all features
      const y = denseLayer(b, x, `features.denseblock${bi + 1}.denselayer${l}`, { growth, attention: o.attention });
      x = b.concat([x, y]);
      channels += growth;
    }
    if (bi < blocks.length - 1) {
      channels = Math.floor(channels / 2);
      x = denseTransition(b, x, `features.transition${bi + 1}`, { out: channels });
    }
  });
  x = b.relu(b.batchNorm(x, 'features.norm5'));
  x = b.flatten(b.globalAvgPool(x));
  x = b.linear(x, 'classifier', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

/** DenseNet-121 (k = 32, blocks 6/12/24/16), 8.0M parameters. */
export const densenet121 = (o: CreateModelOptions = {}) => _densenet(121, o);
/** DenseNet-161 (k = 48, blocks 6/12/36/24, 96-channel stem), 28.7M parameters. */
export const densenet161 = (o: CreateModelOptions = {}) => _densenet(161, o);
/** DenseNet-169 (k = 32, blocks 6/12/32/32), 14.1M parameters. */
export const densenet169 = (o: CreateModelOptions = {}) => _densenet(169, o);
/** DenseNet-201 (k = 32, blocks 6/12/48/32), 20.0M parameters. */
export const densenet201 = (o: CreateModelOptions = {}) => _densenet(201, o);

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const DENSENET: ZooFamily = {
  densenet121: { build: densenet121, supports: ['attention'] },
  densenet161: { build: densenet161, supports: ['attention'] },
  densenet169: { build: densenet169, supports: ['attention'] },
  densenet201: { build: densenet201, supports: ['attention'] },
};
