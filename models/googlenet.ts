// GoogLeNet / Inception v1 (Szegedy et al. 2015, "Going Deeper with Convolutions"), in the
// form of torchvision 0.14 `torchvision.models.googlenet`: BatchNorm (eps 1e-3) after every
// conv, and — torchvision's known quirk (pytorch/vision#906), kept because its weights were
// trained that way — a 3x3, not 5x5, conv in the "5x5" branch. Inference form: the auxiliary
// classifiers are not built (their aux1.* / aux2.* weights are ignored if supplied), no input
// transform (transform_input=False). Training form (`training: true`, torchvision's
// `aux_logits=True` in train mode): Dropout(0.2) before `fc`, and the two auxiliary classifiers
// (InceptionAux: adaptive 4x4 average pool, BasicConv2d 1x1 to 128, fc1 2048 -> 1024 + ReLU,
// Dropout(0.7), fc2) on inception4a's and inception4d's outputs, as graph outputs `aux2` and
// `aux1` after `logits` (torchvision's GoogLeNetOutputs order: logits, aux_logits2,
// aux_logits1); the paper weighs their losses by 0.3. Weight names are torchvision's state_dict keys.
// The modules are models/blocks/inception.ts's basicConv, inception and inceptionAux.
import { GraphBuilder } from '../src/builder';
import type { CreateModelOptions, ZooFamily } from './registry';
import { inputHW } from './registry';
import { dropout } from './blocks/common';
import { basicConv, inception, inceptionAux } from './blocks/inception';

/** Output channels of an inception module's four branches (and the two 1x1 reductions). */
type InceptionRow = [ch1x1: number, ch3x3red: number, ch3x3: number, ch5x5red: number, ch5x5: number, poolProj: number];

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
 * are training-only and ignored. With `training: true`: torchvision's `aux_logits=True` form,
 * outputs `logits`, `aux2`, `aux1` (the aux weights then required), Dropout before `fc`.
 */
export function googlenet(o: CreateModelOptions = {}): GraphBuilder {
  const b = new GraphBuilder();
  const classes = o.numClasses ?? 1000;
  if (!o.training) b.ignoreWeights(/^aux[12]\./);
  const aux: Record<string, string> = {};
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  x = basicConv(b, x, 'conv1', { out: 64, kernel: 7, stride: 2, pad: 3 }); // 224 -> 112
  x = b.maxPool(x, { kernel: 3, stride: 2, ceilMode: true }); // maxpool1: 112 -> 56
  x = basicConv(b, x, 'conv2', { out: 64, kernel: 1 });
  x = basicConv(b, x, 'conv3', { out: 192, kernel: 3, pad: 1 });
  for (const s of STAGES) {
    if ('pool' in s) x = b.maxPool(x, { kernel: s.pool, stride: s.stride, ceilMode: true });
    else {
      const [ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, poolProj] = s.row;
      x = inception(b, x, s.name, { ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, poolProj });
    }
    if (o.training && 'name' in s && s.name === 'inception4a') aux.aux1 = inceptionAux(b, x, 'aux1', { numClasses: classes });
    if (o.training && 'name' in s && s.name === 'inception4d') aux.aux2 = inceptionAux(b, x, 'aux2', { numClasses: classes });
  }
  x = b.flatten(b.globalAvgPool(x));
  x = b.linear(dropout(b, x, 0.2, o.training), 'fc', classes); // Dropout(0.2): training form only
  b.output(x, 'logits');
  if (o.training) {
    b.output(aux.aux2, 'aux2');
    b.output(aux.aux1, 'aux1');
  }
  return b;
}

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const GOOGLENET: ZooFamily = {
  googlenet: { build: googlenet },
};
