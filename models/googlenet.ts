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
import { GraphBuilder } from '../src/builder';
import type { CreateModelOptions, ZooFamily } from './registry';
import { inputHW } from './registry';
import { dropout } from './layers';

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

/** `x[start:end]` along `axis` as a Split keeping one of its non-empty pieces (Split trains; Slice does not yet). */
function sliceAxis(b: GraphBuilder, x: string, axis: number, start: number, end: number): string {
  const n = b.shape(x)[axis];
  if (start === 0 && end === n) return x;
  const pieces = [start, end - start, n - end].filter((v) => v > 0);
  return b.node('Split', [x, b.ints(pieces)], { axis }, pieces.length)[start > 0 ? 1 : 0];
}

/**
 * F.adaptive_avg_pool2d(x, (oh, ow)) from ops that train: one average pool when the map divides
 * evenly, else each bin [floor(i·h/oh), ceil((i+1)·h/oh)) x (the same for w) sliced out and
 * averaged, the bins concatenated back (InceptionAux pools 14x14 to 4x4 in overlapping bins).
 */
function adaptiveAvgPool(b: GraphBuilder, x: string, oh: number, ow: number): string {
  const [, , h, w] = b.shape(x);
  if (h === oh && w === ow) return x;
  if (h % oh === 0 && w % ow === 0) return b.avgPool(x, { kernel: [h / oh, w / ow] });
  const bins = (n: number, o: number) => Array.from({ length: o }, (_, i) => [Math.floor((i * n) / o), Math.ceil(((i + 1) * n) / o)]);
  const cols = bins(w, ow);
  const rows = bins(h, oh).map(([r0, r1]) => {
    const band = sliceAxis(b, x, 2, r0, r1);
    const cells = cols.map(([c0, c1]) => b.avgPool(sliceAxis(b, band, 3, c0, c1), { kernel: [r1 - r0, c1 - c0] }));
    return cells.length > 1 ? b.concat(cells, 3) : cells[0];
  });
  return rows.length > 1 ? b.concat(rows, 2) : rows[0];
}

/** torchvision's InceptionAux (training form only): `${p}.conv`, `${p}.fc1`, `${p}.fc2`; returns the logits. */
function inceptionAux(b: GraphBuilder, x: string, p: string, classes: number): string {
  let y = basicConv(b, adaptiveAvgPool(b, x, 4, 4), `${p}.conv`, 128, 1);
  y = b.relu(b.linear(b.flatten(y), `${p}.fc1`, 1024));
  return b.linear(dropout(b, y, 0.7, true), `${p}.fc2`, classes);
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
  x = basicConv(b, x, 'conv1', 64, 7, 2, 3); // 224 -> 112
  x = b.maxPool(x, { kernel: 3, stride: 2, ceilMode: true }); // maxpool1: 112 -> 56
  x = basicConv(b, x, 'conv2', 64, 1);
  x = basicConv(b, x, 'conv3', 192, 3, 1, 1);
  for (const s of STAGES) {
    if ('pool' in s) x = b.maxPool(x, { kernel: s.pool, stride: s.stride, ceilMode: true });
    else x = inception(b, x, s.name, s.row);
    if (o.training && 'name' in s && s.name === 'inception4a') aux.aux1 = inceptionAux(b, x, 'aux1', classes);
    if (o.training && 'name' in s && s.name === 'inception4d') aux.aux2 = inceptionAux(b, x, 'aux2', classes);
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
