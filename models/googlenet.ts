// GoogLeNet / Inception v1 (Szegedy et al. 2015, "Going Deeper with Convolutions"), in the
// form of torchvision 0.14 `torchvision.models.googlenet`: BatchNorm (eps 1e-3) after every
// conv, and — torchvision's known quirk (pytorch/vision#906), kept because its weights were
// trained that way — a 3x3, not 5x5, conv in the "5x5" branch. Inference form: the auxiliary
// classifiers are not built (their aux1.* / aux2.* weights are ignored if supplied), no input
// transform (transform_input=False). Weight names are torchvision's state_dict keys.
import { GraphBuilder } from '../src/builder';
import type { CreateModelOptions, ZooFamily } from './registry';
import { inputHW } from './registry';

/** torchvision's BasicConv2d: conv (no bias) + BatchNorm(eps 1e-3) + ReLU, names `${p}.conv`, `${p}.bn`. */
function basicConv(b: GraphBuilder, x: string, p: string, out: number, kernel: number, stride = 1, pad = 0): string {
  const y = b.conv(x, `${p}.conv`, { out, kernel, stride, pad, bias: false });
  return b.relu(b.batchNorm(y, `${p}.bn`, 1e-3));
}

/** Output channels of an inception module's four branches (and the two 1x1 reductions). */
type InceptionRow = [ch1x1: number, ch3x3red: number, ch3x3: number, ch5x5red: number, ch5x5: number, poolProj: number];

/** Inception module: 1x1 | 1x1 -> 3x3 | 1x1 -> "5x5" (3x3) | 3x3/1 max pool -> 1x1, concatenated. */
function inception(b: GraphBuilder, x: string, p: string, [c1, c3r, c3, c5r, c5, pp]: InceptionRow): string {
  const b1 = basicConv(b, x, `${p}.branch1`, c1, 1);
  const b2 = basicConv(b, basicConv(b, x, `${p}.branch2.0`, c3r, 1), `${p}.branch2.1`, c3, 3, 1, 1);
  const b3 = basicConv(b, basicConv(b, x, `${p}.branch3.0`, c5r, 1), `${p}.branch3.1`, c5, 3, 1, 1);
  const pooled = b.maxPool(x, { kernel: 3, stride: 1, pad: 1, ceilMode: true });
  const b4 = basicConv(b, pooled, `${p}.branch4.1`, pp, 1);
  return b.concat([b1, b2, b3, b4]);
}

// The network after the stem (Table 1 of the paper); 'pool' = max pool, ceil mode.
type Stage = { pool: number; stride: number } | { name: string; row: InceptionRow };
const pool = (k: number, stride: number): Stage => ({ pool: k, stride });
const block = (name: string, row: InceptionRow): Stage => ({ name, row });
const STAGES: Stage[] = [
  pool(3, 2), // maxpool2: 56 -> 28
  block('inception3a', [64, 96, 128, 16, 32, 32]), // 192 -> 256
  block('inception3b', [128, 128, 192, 32, 96, 64]), // 256 -> 480
  pool(3, 2), // maxpool3: 28 -> 14
  block('inception4a', [192, 96, 208, 16, 48, 64]), // 480 -> 512
  block('inception4b', [160, 112, 224, 24, 64, 64]), // 512 -> 512
  block('inception4c', [128, 128, 256, 24, 64, 64]), // 512 -> 512
  block('inception4d', [112, 144, 288, 32, 64, 64]), // 512 -> 528
  block('inception4e', [256, 160, 320, 32, 128, 128]), // 528 -> 832
  pool(2, 2), // maxpool4: 14 -> 7
  block('inception5a', [256, 160, 320, 32, 128, 128]), // 832 -> 832
  block('inception5b', [384, 192, 384, 48, 128, 128]), // 832 -> 1024
];

/**
 * GoogLeNet (torchvision `googlenet(aux_logits=False, transform_input=False)`), 6.6M
 * parameters, 224x224. Weights with the auxiliary heads (aux1.*, aux2.*) load too; the heads
 * are training-only and ignored.
 */
export function googlenet(o: CreateModelOptions = {}): GraphBuilder {
  const b = new GraphBuilder();
  b.ignoreWeights(/^aux[12]\./);
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  x = basicConv(b, x, 'conv1', 64, 7, 2, 3); // 224 -> 112
  x = b.maxPool(x, { kernel: 3, stride: 2, ceilMode: true }); // maxpool1: 112 -> 56
  x = basicConv(b, x, 'conv2', 64, 1);
  x = basicConv(b, x, 'conv3', 192, 3, 1, 1);
  for (const s of STAGES) {
    if ('pool' in s) x = b.maxPool(x, { kernel: s.pool, stride: s.stride, ceilMode: true });
    else x = inception(b, x, s.name, s.row);
  }
  x = b.flatten(b.globalAvgPool(x)); // dropout: identity at inference
  x = b.linear(x, 'fc', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const GOOGLENET: ZooFamily = {
  googlenet: { build: googlenet },
};
