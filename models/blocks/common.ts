// Helpers shared by every block and zoo family: activations by name (PyTorch semantics), conv +
// BatchNorm + activation, the channel rounding rule of the MobileNets (the TensorFlow MobileNet
// code's _make_divisible, shared by torchvision and timm), and the training-only Dropout and
// stochastic depth (Huang et al. 2016, "Deep Networks with Stochastic Depth") nodes.
import type { ConvOptions, GraphBuilder } from '../../src/builder';

/** Activation names {@link act} applies. */
export type Act = 'relu' | 'relu6' | 'silu' | 'hardswish' | 'hardsigmoid' | 'sigmoid' | 'gelu' | 'gelu_tanh' | 'tanh' | 'none';

/** Apply an activation by name (PyTorch semantics: Hardsigmoid = relu6(x + 3) / 6). */
export function act(b: GraphBuilder, x: string, kind: Act): string {
  switch (kind) {
    case 'none':
      return x;
    case 'relu':
      return b.relu(x);
    case 'relu6':
      return b.relu6(x);
    case 'silu':
      return b.act('Silu', x);
    case 'hardswish':
      return b.act('HardSwish', x);
    case 'hardsigmoid':
      return b.act('HardSigmoid', x, { alpha: 1 / 6, beta: 0.5 });
    case 'sigmoid':
      return b.act('Sigmoid', x);
    case 'tanh':
      return b.act('Tanh', x);
    case 'gelu':
      return b.act('Gelu', x);
    case 'gelu_tanh':
      return b.act('Gelu', x, { approximate: 'tanh' });
  }
}

/**
 * Round channels to a multiple of `divisor`, never below 90% of the input (the rule of the
 * TensorFlow MobileNet code that torchvision and timm share).
 */
export function makeDivisible(v: number, divisor = 8, minValue?: number, roundLimit = 0.9): number {
  const min = minValue ?? divisor;
  let n = Math.max(min, Math.floor(v + divisor / 2) - (Math.floor(v + divisor / 2) % divisor));
  if (n < roundLimit * v) n += divisor;
  return n;
}

/** Where {@link convBnAct} finds its weights. */
export interface ConvBnActNames {
  /** state_dict prefix of the conv (its `.weight`) */
  conv: string;
  /** state_dict prefix of the BatchNorm; omit for conv + bias */
  bn?: string;
}

/** Conv (no bias when followed by BN) + BatchNorm + activation. */
export function convBnAct(
  b: GraphBuilder,
  x: string,
  names: ConvBnActNames,
  o: Omit<ConvOptions, 'bias'> & { bias?: boolean },
  kind: Act = 'relu',
  bnEps = 1e-5,
): string {
  let y = b.conv(x, names.conv, { ...o, bias: o.bias ?? !names.bn });
  if (names.bn) y = b.batchNorm(y, names.bn, bnEps);
  return act(b, y, kind);
}

/**
 * nn.Dropout(p) in a training form (`training` true and p > 0): an ONNX Dropout node with
 * attribute `ratio`, the identity at inference; otherwise nothing is added. Returns the output.
 */
export function dropout(b: GraphBuilder, x: string, p: number, training: boolean | undefined): string {
  return training && p > 0 ? b.node('Dropout', [x], { ratio: p })[0] : x;
}

/**
 * Stochastic depth on a residual branch (torchvision.ops.StochasticDepth(p, 'row'), timm's
 * DropPath) in a training form (`training` true and p > 0): a wasmcnn DropPath node, the
 * identity at inference; otherwise nothing is added. Returns the output.
 */
export function dropPath(b: GraphBuilder, x: string, p: number, training: boolean | undefined): string {
  return training && p > 0 ? b.node('DropPath', [x], { ratio: p, mode: 'row' })[0] : x;
}
