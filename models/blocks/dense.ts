// Dense layer and transition of DenseNet-BC (Huang, Liu, van der Maaten & Weinberger 2017,
// "Densely Connected Convolutional Networks"), as torchvision 0.14's _DenseLayer and _Transition,
// with its state_dict names (norm1, conv1, norm2, conv2; norm, conv).
import type { GraphBuilder } from '../../src/builder';
import type { Attention } from '../registry';
import { attentionModule } from './attention';

/** BN + ReLU + conv (no bias): DenseNet's pre-activation order. */
function normReluConv(b: GraphBuilder, x: string, norm: string, conv: string, out: number, kernel: number, pad = 0): string {
  return b.conv(b.relu(b.batchNorm(x, norm)), conv, { out, kernel, pad, bias: false });
}

/** Options of {@link denseLayer}. */
export interface DenseLayerOptions {
  /** k: the channels the layer adds */
  growth: number;
  /** bottleneck factor: the 1x1 conv outputs bnSize · growth channels (default 4) */
  bnSize?: number;
  /** attention module on the layer's new channels, after its 3x3 conv (timm's defaults, weights under `<prefix>.se`) */
  attention?: Attention;
}

/**
 * Dense layer (DenseNet-BC): BN `norm1` + ReLU + 1x1 conv `conv1` to bnSize·k, BN `norm2` + ReLU
 * + 3x3 conv `conv2` to k; returns the k new channels (the caller concatenates them onto its
 * input, which equals torchvision's concatenation of all earlier features). Huang et al. 2017
 * connect every layer to all later ones in a block, which strengthens feature propagation and
 * reuse and needs far fewer parameters than ResNets for the same accuracy.
 */
export function denseLayer(b: GraphBuilder, x: string, prefix: string, o: DenseLayerOptions): string {
  const y = normReluConv(b, x, `${prefix}.norm1`, `${prefix}.conv1`, (o.bnSize ?? 4) * o.growth, 1);
  const z = normReluConv(b, y, `${prefix}.norm2`, `${prefix}.conv2`, o.growth, 3, 1);
  return o.attention ? attentionModule(b, z, `${prefix}.se`, { kind: o.attention }) : z;
}

/** Options of {@link denseTransition}. */
export interface DenseTransitionOptions {
  /** output channels (DenseNet-BC: half the input's, compression 0.5) */
  out: number;
}

/**
 * Transition between dense blocks: BN `norm` + ReLU + 1x1 conv `conv` to `out` channels, 2x2
 * stride-2 average pool. Huang et al. 2017 down-sample between blocks here and compress the
 * channels (the "C" of DenseNet-BC) to keep the model compact.
 */
export function denseTransition(b: GraphBuilder, x: string, prefix: string, o: DenseTransitionOptions): string {
  const y = normReluConv(b, x, `${prefix}.norm`, `${prefix}.conv`, o.out, 1);
  return b.avgPool(y, { kernel: 2, stride: 2 });
}
