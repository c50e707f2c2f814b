// LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
// recognition"). `lenet5`: the common modern form, with ReLU and max pooling: 32x32 input, conv
// 5x5 x6, pool, conv 5x5 x16, pool, fully connected 120, 84, 10; names follow torchvision's
// features/classifier convention. `lenet5_classic`: the paper's own form (below).
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import { type CreateModelOptions, type ZooFamily, inputHW } from './registry';
import { base64Bytes } from '../src/runtime/base64';

/**
 * LeNet-5 on a 32x32 grey image (a 28x28 MNIST digit zero-padded by 2; see modelPreprocessing).
 * `inputSize` can only be 32: the first fully connected layer takes the 16x5x5 features that a
 * 32x32 input leaves, so any other size is a ValueError.
 */
export function lenet5(o: CreateModelOptions = {}): GraphBuilder {
  const [H, W] = inputHW(o, 32);
  if (H !== 32 || W !== 32)
    throw new ValueError(
      `lenet5: option inputSize ${H}x${W} is not supported: the classifier takes 16*5*5 features, which only a 32x32 input gives; ` +
        'pad 28x28 MNIST digits by 2 to 32x32 (fromImage(digit, modelPreprocessing(\'lenet5\')) does)',
    );
  const b = new GraphBuilder();
  let x = b.input('input', [o.batch ?? 1, 1, 32, 32]);
  x = b.relu(b.conv(x, 'features.0', { out: 6, kernel: 5 }));
  x = b.maxPool(x, { kernel: 2, stride: 2 });
  x = b.relu(b.conv(x, 'features.3', { out: 16, kernel: 5 }));
  x = b.maxPool(x, { kernel: 2, stride: 2 });
  x = b.flatten(x);
  x = b.relu(b.linear(x, 'classifier.0', 120));
  x = b.relu(b.linear(x, 'classifier.2', 84));
  x = b.linear(x, 'classifier.4', o.numClasses ?? 10);
  b.output(x, 'logits');
  return b;
}

// ---------------------------------------------------------------------------------------------
// LeNet-5 as the 1998 paper builds it (section II.B, Fig. 2, Table I; Appendix A for the squashing
// function). No library ships it; tools/zoo/lenet.py holds a PyTorch module of the same layers and
// names, the zoo parity reference. The state_dict names are this file's own:
//     c1.weight [6,1,5,5], c1.bias           C1: 6 maps 28x28, 5x5 conv (156 parameters)
//     s2.weight [6,1,1], s2.bias [6,1,1]     S2: trainable subsampling (12)
//     c3.{0,1,2,3}.weight / .bias            C3: 16 maps 10x10 wired by Table I (1,516)
//     s4.weight [16,1,1], s4.bias [16,1,1]   S4 (32)
//     c5.weight [120,16,5,5], c5.bias        C5: 120 maps 1x1, a 5x5 conv (48,120)
//     f6.weight [84,120], f6.bias            F6: 84 units (10,164)
//     output.weight [10,84], output.bias     output layer
// Choices, where the paper's form is replaced by one the engine trains:
//   * S2/S4: the paper adds the four inputs of a 2x2 window, multiplies by a trainable coefficient
//     and adds a trainable bias per map, then a "sigmoidal function". Here: 2x2 average pooling
//     (the sum / 4: the coefficient absorbs the 4) times s*.weight plus s*.bias, then that
//     sigmoidal function read as Appendix A defines the squashing function of the paper's
//     convolutional networks, f(a) = A·tanh(S·a), A = 1.7159, S = 2/3 (not the logistic sigmoid:
//     its outputs, all positive, left C3 unable to learn in a test run here; f is odd, as the
//     paper's Appendix A asks).
//   * C1, C3, C5, F6 squash with the same f (Appendix A; section II.B for F6).
//   * C3's partial connections (Table I) are four grouped convolutions on gathered S2 maps: maps
//     0-5 each see 3 contiguous S2 maps (c3.0, [6,3,5,5], 6 groups), maps 6-11 4 contiguous ones
//     (c3.1, [6,4,5,5]), maps 12-14 4 discontinuous ones (c3.2, [3,4,5,5]), map 15 all six (c3.3,
//     [1,6,5,5]); outputs concatenated in map order.
//   * The output layer is a Linear layer (logits), not the paper's Euclidean RBF units with fixed
//     7x12 bitmap prototypes; train it with cross-entropy instead of the paper's MAP criterion.

/** Table I of the paper: the S2 maps each C3 map reads, by C3 map. */
export const LENET5_C3_TABLE: readonly (readonly number[])[] = [
  [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
  [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
  [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
  [0, 1, 2, 3, 4, 5],
];

/** The paper's squashing function f(a) = 1.7159·tanh(2/3·a) (Appendix A). */
function squash(b: GraphBuilder, x: string): string {
  const t = b.act('Tanh', b.mul(x, b.constant([2 / 3], [1])));
  return b.mul(t, b.constant([1.7159], [1]));
}

/** Trainable subsampling: 2x2 average pool, times a coefficient and plus a bias per map, then the squashing function. */
function subsample(b: GraphBuilder, x: string, name: string): string {
  const C = b.shape(x)[1];
  const y = b.mul(b.avgPool(x, { kernel: 2, stride: 2 }), b.param(`${name}.weight`, [C, 1, 1]));
  return squash(b, b.add(y, b.param(`${name}.bias`, [C, 1, 1])));
}

/**
 * LeNet-5 as LeCun, Bottou, Bengio & Haffner 1998 describe it (section II.B): C1 6@28x28 (5x5),
 * S2 trainable 2x2 subsampling (average x coefficient + bias), C3 16@10x10 with the partial
 * connections of Table I, S4, C5 120 (5x5 conv), F6 84, every layer squashed by the paper's
 * sigmoidal function 1.7159·tanh(2/3·a) (Appendix A), and a Linear output layer
 * in place of the Euclidean RBF units (see the file's comment for every choice and the weight
 * names). 32x32 input only. No bundled weights: train it (it trains with trainStep / fit like
 * any zoo model) or pass `weights`.
 */
export function lenet5_classic(o: CreateModelOptions = {}): GraphBuilder {
  const [H, W] = inputHW(o, 32);
  if (H !== 32 || W !== 32)
    throw new ValueError(`lenet5_classic: option inputSize ${H}x${W} is not supported: C5 is a 5x5 conv that must meet S4's 5x5 maps, which only a 32x32 input gives`);
  const b = new GraphBuilder();
  let x = b.input('input', [o.batch ?? 1, 1, 32, 32]);
  x = squash(b, b.conv(x, 'c1', { out: 6, kernel: 5 })); // C1: 6@28x28
  const s2 = subsample(b, x, 's2'); // S2: 6@14x14
  const maps = b.node('Split', [s2, b.ints([1, 1, 1, 1, 1, 1])], { axis: 1 }, 6);
  // C3 by Table I: four grouped convs over the S2 maps each group of C3 maps reads
  const groups: [string, number, number][] = [['c3.0', 0, 6], ['c3.1', 6, 12], ['c3.2', 12, 15], ['c3.3', 15, 16]];
  const c3 = groups.map(([name, from, to]) => {
    const rows = LENET5_C3_TABLE.slice(from, to);
    const gathered = b.concat(rows.flatMap((r) => r.map((i) => maps[i])));
    return b.conv(gathered, name, { out: to - from, kernel: 5, groups: to - from });
  });
  x = squash(b, b.concat(c3)); // C3: 16@10x10
  x = subsample(b, x, 's4'); // S4: 16@5x5
  x = squash(b, b.conv(x, 'c5', { out: 120, kernel: 5 })); // C5: 120@1x1
  x = squash(b, b.linear(b.flatten(x), 'f6', 84)); // F6
  b.output(b.linear(x, 'output', o.numClasses ?? 10), 'logits');
  return b;
}

// The bundled weights (240 KB of base64) are a dynamic import: bundlers put them in a chunk of
// their own, loaded by the first createModel('lenet5'), not by every page that imports wasmcnn.
/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const LENET: ZooFamily = {
  lenet5: {
    build: lenet5,
    bundled: async () => base64Bytes((await import('./weights/lenet5.generated')).LENET5_SAFETENSORS_BASE64),
  },
  lenet5_classic: { build: lenet5_classic },
};
