// Blocks shared by the zoo families: activations by name, conv + norm + activation, the
// channel rounding rule of the MobileNets, and squeeze-and-excitation (Hu et al. 2018).
// Family-specific blocks live in their family's file.
import type { ConvOptions, GraphBuilder } from '../src/builder';

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

export interface SqueezeExciteOptions {
  /** channels of the bottleneck */
  reduced: number;
  /** names of the reduce / expand 1x1 convs under the prefix (torchvision and timm: fc1, fc2) */
  names?: [string, string];
  act?: Act;
  gate?: Act;
  /** the module's input to scale, when it differs from the pooled tensor */
  scale?: string;
}

/**
 * Squeeze-and-excitation: global average pool, 1x1 conv (reduce) + act, 1x1 conv (expand) +
 * gate, channel-wise scale of the input (a stride-0 broadcast multiply on NHWC).
 */
export function squeezeExcite(b: GraphBuilder, x: string, prefix: string, o: SqueezeExciteOptions): string {
  const [r, e] = o.names ?? ['fc1', 'fc2'];
  const C = b.shape(x)[1];
  let s = b.globalAvgPool(x);
  s = act(b, b.conv(s, `${prefix}.${r}`, { out: o.reduced, kernel: 1 }), o.act ?? 'relu');
  s = act(b, b.conv(s, `${prefix}.${e}`, { out: C, kernel: 1 }), o.gate ?? 'sigmoid');
  return b.mul(o.scale ?? x, s);
}
