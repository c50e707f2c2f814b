// Inception module and auxiliary classifier (Szegedy et al. 2015, "Going Deeper with
// Convolutions"), as torchvision 0.14's GoogLeNet builds them (Inception, InceptionAux,
// BasicConv2d with BatchNorm eps 1e-3), with its state_dict names. torchvision's known quirk
// (pytorch/vision#906), kept because its weights were trained that way: a 3x3, not 5x5, conv in
// the "5x5" branch.
import type { GraphBuilder } from '../../src/builder';
import { dropout } from './common';

/** Options of {@link basicConv}. */
export interface BasicConvOptions {
  /** output channels */
  out: number;
  /** square kernel */
  kernel: number;
  /** stride (default 1) */
  stride?: number;
  /** padding on every side (default 0) */
  pad?: number;
}

/** torchvision's BasicConv2d: conv `<prefix>.conv` (no bias) + BatchNorm `<prefix>.bn` (eps 1e-3) + ReLU. */
export function basicConv(b: GraphBuilder, x: string, prefix: string, o: BasicConvOptions): string {
  const y = b.conv(x, `${prefix}.conv`, { out: o.out, kernel: o.kernel, stride: o.stride ?? 1, pad: o.pad ?? 0, bias: false });
  return b.relu(b.batchNorm(y, `${prefix}.bn`, 1e-3));
}

/** Options of {@link inception}: output channels of the four branches and the two 1x1 reductions. */
export interface InceptionOptions {
  /** branch 1: 1x1 conv */
  ch1x1: number;
  /** branch 2: 1x1 reduction before the 3x3 */
  ch3x3red: number;
  /** branch 2: 3x3 conv */
  ch3x3: number;
  /** branch 3: 1x1 reduction before the "5x5" */
  ch5x5red: number;
  /** branch 3: the "5x5" conv (3x3 in torchvision) */
  ch5x5: number;
  /** branch 4: 1x1 projection after the 3x3 max pool */
  poolProj: number;
}

/**
 * Inception module: 1x1 `branch1` | 1x1 -> 3x3 `branch2.{0,1}` | 1x1 -> "5x5" (3x3) `branch3.{0,1}`
 * | 3x3/1 max pool -> 1x1 `branch4.1`, concatenated on channels. Szegedy et al. 2015 ("Going
 * Deeper with Convolutions") approximate a sparse structure with dense parallel branches of
 * several receptive fields, with 1x1 reductions keeping the cost in check (GoogLeNet won
 * ILSVRC 2014).
 */
export function inception(b: GraphBuilder, x: string, prefix: string, o: InceptionOptions): string {
  const b1 = basicConv(b, x, `${prefix}.branch1`, { out: o.ch1x1, kernel: 1 });
  const b2 = basicConv(b, basicConv(b, x, `${prefix}.branch2.0`, { out: o.ch3x3red, kernel: 1 }), `${prefix}.branch2.1`, { out: o.ch3x3, kernel: 3, pad: 1 });
  const b3 = basicConv(b, basicConv(b, x, `${prefix}.branch3.0`, { out: o.ch5x5red, kernel: 1 }), `${prefix}.branch3.1`, { out: o.ch5x5, kernel: 3, pad: 1 });
  const pooled = b.maxPool(x, { kernel: 3, stride: 1, pad: 1, ceilMode: true });
  const b4 = basicConv(b, pooled, `${prefix}.branch4.1`, { out: o.poolProj, kernel: 1 });
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

/** Options of {@link inceptionAux}. */
export interface InceptionAuxOptions {
  /** classes of the auxiliary logits */
  numClasses: number;
}

/**
 * Auxiliary classifier (torchvision InceptionAux; training only): adaptive 4x4 average pool,
 * BasicConv2d 1x1 to 128 `conv`, Linear to 1024 `fc1` + ReLU, Dropout(0.7), Linear `fc2`; returns
 * the logits. Szegedy et al. 2015 attach these to intermediate layers to strengthen the gradient
 * reaching them and regularise, their losses weighted by 0.3; they are discarded at inference.
 */
export function inceptionAux(b: GraphBuilder, x: string, prefix: string, o: InceptionAuxOptions): string {
  let y = basicConv(b, adaptiveAvgPool(b, x, 4, 4), `${prefix}.conv`, { out: 128, kernel: 1 });
  y = b.relu(b.linear(b.flatten(y), `${prefix}.fc1`, 1024));
  return b.linear(dropout(b, y, 0.7, true), `${prefix}.fc2`, o.numClasses);
}
