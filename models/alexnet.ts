// AlexNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep
// Convolutional Neural Networks").
//   alexnet      torchvision 0.14 `torchvision.models.alexnet` (Krizhevsky 2014, "One weird
//                trick": 64/192/384/256/256 filters, no LRN), 224x224; weight names are its
//                state_dict keys.
//   alexnet_lrn  the 2012 paper's network as a single tower (the two GPU halves merged, every
//                conv sees all channels of the layer before): 96/256/384/384/256 filters of
//                11x11 stride 4, 5x5, 3x3, 3x3, 3x3; LRN (size 5, alpha 1e-4, beta 0.75, k 2)
//                after the ReLU of conv1 and conv2; overlapping 3x3 stride-2 max pools after
//                LRN1, LRN2 and conv5; FC 4096, 4096, 1000. Native input 227x227: conv1 has
//                no padding, (227 - 11) / 4 + 1 = 55 gives the paper's 55x55x96 first layer
//                (its "224x224" does not divide); conv2..conv5 pad 2, 1, 1, 1 and keep the
//                size: 55 -> pool 27 -> 27 -> pool 13 -> 13 -> pool 6, 256 x 6 x 6 = 9216
//                features. As in torchvision an adaptive 6x6 average pool (the identity at
//                227) precedes the classifier. Reference: tools/zoo/alexnet.py AlexNetLRN
//                (PyTorch nn.LocalResponseNorm, whose alpha/size scaling is the paper's
//                formula and ONNX LRN's); names are torchvision-style features.N / classifier.N.
import { GraphBuilder } from '../src/builder';
import type { CreateModelOptions, ZooFamily } from './registry';
import { inputHW } from './registry';
import { dropout } from './blocks/common';
import { adaptiveAvgPool2d } from './vgg';

/** One conv layer of the feature extractor. */
interface AlexConv {
  out: number;
  kernel: number;
  stride: number;
  pad: number;
  /** local response normalisation after the ReLU (alexnet_lrn's conv1 and conv2) */
  lrn: boolean;
  /** 3x3 stride-2 max pool after it */
  pool: boolean;
}

const row = (out: number, kernel: number, stride: number, pad: number, lrn: boolean, pool: boolean): AlexConv => ({
  out, kernel, stride, pad, lrn, pool,
});

// torchvision's AlexNet, features.0 .. features.12.
const TORCHVISION: AlexConv[] = [
  row(64, 11, 4, 2, false, true), // conv1: 224 -> 55, pool -> 27
  row(192, 5, 1, 2, false, true), // conv2: 27, pool -> 13
  row(384, 3, 1, 1, false, false), // conv3: 13
  row(256, 3, 1, 1, false, false), // conv4: 13
  row(256, 3, 1, 1, false, true), // conv5: 13, pool -> 6
];

// The 2012 paper's single-tower network, features.0 .. features.14.
const PAPER: AlexConv[] = [
  row(96, 11, 4, 0, true, true), // conv1: 227 -> 55, LRN, pool -> 27
  row(256, 5, 1, 2, true, true), // conv2: 27, LRN, pool -> 13
  row(384, 3, 1, 1, false, false), // conv3: 13
  row(384, 3, 1, 1, false, false), // conv4: 13
  row(256, 3, 1, 1, false, true), // conv5: 13, pool -> 6
];

function _alexnet(convs: AlexConv[], native: number, o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, native);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  let i = 0; // index in the features nn.Sequential
  for (const c of convs) {
    x = b.relu(b.conv(x, `features.${i}`, { out: c.out, kernel: c.kernel, stride: c.stride, pad: c.pad }));
    i += 2;
    if (c.lrn) {
      x = b.node('LRN', [x], { size: 5, alpha: 1e-4, beta: 0.75, bias: 2 }, 1, `features.${i++}`)[0];
    }
    if (c.pool) {
      x = b.maxPool(x, { kernel: 3, stride: 2 });
      i++;
    }
  }
  x = adaptiveAvgPool2d(b, x, 6, 6);
  x = b.flatten(x);
  // classifier.0 and .3 are Dropout(0.5): built only in the training form (identity at inference)
  x = b.relu(b.linear(dropout(b, x, 0.5, o.training), 'classifier.1', 4096));
  x = b.relu(b.linear(dropout(b, x, 0.5, o.training), 'classifier.4', 4096));
  x = b.linear(x, 'classifier.6', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

/** torchvision's AlexNet (64/192/384/256/256 filters, no LRN), 61.1M parameters, 224x224. */
export const alexnet = (o: CreateModelOptions = {}) => _alexnet(TORCHVISION, 224, o);
/** The 2012 paper's AlexNet as one tower (96/256/384/384/256 filters, LRN), 62.4M parameters, 227x227. */
export const alexnet_lrn = (o: CreateModelOptions = {}) => _alexnet(PAPER, 227, o);

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const ALEXNET: ZooFamily = {
  alexnet: { build: alexnet },
  alexnet_lrn: { build: alexnet_lrn },
};
