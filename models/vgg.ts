// VGG (Simonyan & Zisserman 2015, "Very Deep Convolutional Networks for Large-Scale Image
// Recognition", configurations A, B, D, E = VGG-11/13/16/19), with and without BatchNorm after
// every conv. Reference implementation: torchvision 0.14 `torchvision.models.vgg` — weight
// names are its state_dict keys (`features.N` in nn.Sequential order, `classifier.0/3/6`).
// `attention` adds a module at the end of each of the five stages (after the last conv's ReLU,
// before the max pool; timm's defaults, see attentionModule), weights `stages.<s>.se.*` (s = 0..4):
// outside torchvision's `features` so its indices, and the reference weights, stay as they are.
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import type { CreateModelOptions, ZooFamily } from './registry';
import { inputHW } from './registry';
import { attentionModule } from './blocks/attention';
import { dropout } from './blocks/common';

/** A conv stage: `convs` 3x3 convolutions of `width` channels, then a 2x2 stride-2 max pool. */
type VggStage = [convs: number, width: number];

// The five stages of each configuration (Table 1 of the paper).
const CFGS: Record<11 | 13 | 16 | 19, VggStage[]> = {
  // A: 1, 1, 2, 2, 2 convs
  11: [[1, 64], [1, 128], [2, 256], [2, 512], [2, 512]],
  // B: 2, 2, 2, 2, 2 convs
  13: [[2, 64], [2, 128], [2, 256], [2, 512], [2, 512]],
  // D: 2, 2, 3, 3, 3 convs
  16: [[2, 64], [2, 128], [3, 256], [3, 512], [3, 512]],
  // E: 2, 2, 4, 4, 4 convs
  19: [[2, 64], [2, 128], [4, 256], [4, 512], [4, 512]],
};

/** Per-axis [start, end) of PyTorch's adaptive pooling bins: floor(i*n/o) .. ceil((i+1)*n/o). */
function adaptiveBins(n: number, o: number): [number, number][] {
  return Array.from({ length: o }, (_, i) => [Math.floor((i * n) / o), Math.ceil(((i + 1) * n) / o)]);
}

/**
 * nn.AdaptiveAvgPool2d((oh, ow)) on an NCHW value: the identity when the map already has that
 * size, an average pool when the size divides evenly, else the general (overlapping, or
 * up-replicating for maps smaller than the target) bins as one constant [h*w, oh*ow] MatMul.
 * Shared by VGG and AlexNet (their classifiers expect a fixed 7x7 / 6x6 grid).
 */
export function adaptiveAvgPool2d(b: GraphBuilder, x: string, oh: number, ow: number): string {
  const [N, C, h, w] = b.shape(x);
  if (h === oh && w === ow) return x;
  if (h % oh === 0 && w % ow === 0) return b.avgPool(x, { kernel: [h / oh, w / ow], stride: [h / oh, w / ow] });
  const rows = adaptiveBins(h, oh);
  const cols = adaptiveBins(w, ow);
  const m = new Float32Array(h * w * oh * ow);
  rows.forEach(([r0, r1], i) =>
    cols.forEach(([c0, c1], j) => {
      const inv = 1 / ((r1 - r0) * (c1 - c0));
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) m[(r * w + c) * oh * ow + i * ow + j] = inv;
    }),
  );
  const flat = b.node('Reshape', [x, b.ints([N, C, h * w])])[0];
  const pooled = b.node('MatMul', [flat, b.constant(m, [h * w, oh * ow])])[0];
  return b.node('Reshape', [pooled, b.ints([N, C, oh, ow])])[0];
}

function _vgg(depth: 11 | 13 | 16 | 19, batchNorm: boolean, o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 224);
  if (H < 32 || W < 32)
    throw new ValueError(`vgg${depth}${batchNorm ? '_bn' : ''}: option inputSize ${H}x${W} is smaller than 32x32 (five 2x2 poolings)`);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  let i = 0; // index in torchvision's features nn.Sequential
  CFGS[depth].forEach(([convs, width], s) => {
    for (let c = 0; c < convs; c++) {
      x = b.conv(x, `features.${i++}`, { out: width, kernel: 3, pad: 1 });
      if (batchNorm) x = b.batchNorm(x, `features.${i++}`);
      x = b.relu(x);
      i++; // ReLU
    }
    // stage end: the attention module after the stage's last conv + ReLU, before the pool
    if (o.attention) x = attentionModule(b, x, `stages.${s}.se`, { kind: o.attention });
    x = b.maxPool(x, { kernel: 2, stride: 2 });
    i++;
  });
  x = adaptiveAvgPool2d(b, x, 7, 7); // identity at 224x224
  x = b.flatten(x);
  // classifier.2 and .5 are Dropout(0.5): built only in the training form (identity at inference)
  x = dropout(b, b.relu(b.linear(x, 'classifier.0', 4096)), 0.5, o.training);
  x = dropout(b, b.relu(b.linear(x, 'classifier.3', 4096)), 0.5, o.training);
  x = b.linear(x, 'classifier.6', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

/** VGG-11 (configuration A), 132.9M parameters. */
export const vgg11 = (o: CreateModelOptions = {}) => _vgg(11, false, o);
/** VGG-11 with BatchNorm after every conv. */
export const vgg11_bn = (o: CreateModelOptions = {}) => _vgg(11, true, o);
/** VGG-13 (configuration B), 133.0M parameters. */
export const vgg13 = (o: CreateModelOptions = {}) => _vgg(13, false, o);
/** VGG-13 with BatchNorm after every conv. */
export const vgg13_bn = (o: CreateModelOptions = {}) => _vgg(13, true, o);
/** VGG-16 (configuration D), 138.4M parameters. */
export const vgg16 = (o: CreateModelOptions = {}) => _vgg(16, false, o);
/** VGG-16 with BatchNorm after every conv. */
export const vgg16_bn = (o: CreateModelOptions = {}) => _vgg(16, true, o);
/** VGG-19 (configuration E), 143.7M parameters. */
export const vgg19 = (o: CreateModelOptions = {}) => _vgg(19, false, o);
/** VGG-19 with BatchNorm after every conv. */
export const vgg19_bn = (o: CreateModelOptions = {}) => _vgg(19, true, o);

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const VGG: ZooFamily = {
  vgg11: { build: vgg11, supports: ['attention'] },
  vgg11_bn: { build: vgg11_bn, supports: ['attention'] },
  vgg13: { build: vgg13, supports: ['attention'] },
  vgg13_bn: { build: vgg13_bn, supports: ['attention'] },
  vgg16: { build: vgg16, supports: ['attention'] },
  vgg16_bn: { build: vgg16_bn, supports: ['attention'] },
  vgg19: { build: vgg19, supports: ['attention'] },
  vgg19_bn: { build: vgg19_bn, supports: ['attention'] },
};
