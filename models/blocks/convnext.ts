// ConvNeXt block (Liu, Mao, Wu, Feichtenhofer, Darrell & Xie 2022, "A ConvNet for the 2020s"),
// in torchvision 0.14's CNBlock names or timm 1.0.29's ConvNeXtBlock (conv_mlp=False) names.
// 7x7 depthwise conv -> LayerNorm over channels -> Linear 4C -> GELU -> Linear C -> layer scale
// -> residual add. The middle part runs on an NHWC permutation of the map, as both references
// do: the two Transposes are layout changes the engine performs for free, so the LayerNorm runs
// over the last axis in place and each Linear is one Gemm on a free [N*H*W, C] reshape, reading
// the weight as stored (no build-time transposes).
import type { GraphBuilder } from '../../src/builder';
import { act, dropPath } from './common';

const LN_EPS = 1e-6;

/**
 * nn.Linear on the channels-last view [N, H, W, C]: a free reshape to [N*H*W, C], one Gemm
 * against the weight as stored ([out, C], transB) with its bias, and a free reshape back.
 */
function linearNHWC(b: GraphBuilder, x: string, name: string, out: number): string {
  const [N, H, W, C] = b.shape(x);
  const x2 = b.node('Reshape', [x, b.ints([N * H * W, C])])[0];
  const w = b.param(`${name}.weight`, [out, C]);
  const y = b.node('Gemm', [x2, w, b.param(`${name}.bias`, [out])], { transB: 1 }, 1, name)[0];
  return b.node('Reshape', [y, b.ints([N, H, W, out])])[0];
}

/** Options of {@link convNeXtBlock}. */
export interface ConvNeXtBlockOptions {
  /**
   * State_dict layout: 'torchvision' (CNBlock: `block.0` dw conv, `block.2` LayerNorm, `block.3`,
   * `block.5` Linears, `layer_scale` [C, 1, 1]) or 'timm' (`conv_dw`, `norm`, `mlp.fc1`, `mlp.fc2`,
   * `gamma` [C]). Default 'torchvision'.
   */
  layout?: 'torchvision' | 'timm';
  /** stochastic depth probability of the residual branch (built in the training form only) */
  dropPath?: number;
  /** build the training form (DropPath on the residual branch) */
  training?: boolean;
}

/**
 * ConvNeXt block: 7x7 depthwise conv, LayerNorm (channels), Linear to 4C, GELU, Linear to C,
 * per-channel layer scale, residual add (with stochastic depth in training). Liu et al. 2022
 * ("A ConvNet for the 2020s") modernise a ResNet step by step towards a Swin Transformer's design
 * (large depthwise kernels, inverted bottleneck, LayerNorm, GELU, fewer norms and activations)
 * and match Swin's accuracy as a pure ConvNet.
 */
export function convNeXtBlock(b: GraphBuilder, x: string, prefix: string, o: ConvNeXtBlockOptions = {}): string {
  const C = b.shape(x)[1];
  const timm = o.layout === 'timm';
  const n = timm
    ? { dw: 'conv_dw', norm: 'norm', fc1: 'mlp.fc1', fc2: 'mlp.fc2' }
    : { dw: 'block.0', norm: 'block.2', fc1: 'block.3', fc2: 'block.5' };
  let y = b.conv(x, `${prefix}.${n.dw}`, { out: C, kernel: 7, pad: 3, groups: C });
  y = b.node('Transpose', [y], { perm: [0, 2, 3, 1] })[0]; // NCHW -> NHWC view
  y = b.layerNorm(y, `${prefix}.${n.norm}`, LN_EPS);
  y = act(b, linearNHWC(b, y, `${prefix}.${n.fc1}`, 4 * C), 'gelu');
  y = linearNHWC(b, y, `${prefix}.${n.fc2}`, C);
  if (timm) {
    y = b.mul(y, b.param(`${prefix}.gamma`, [C]));
    y = b.node('Transpose', [y], { perm: [0, 3, 1, 2] })[0];
  } else {
    y = b.node('Transpose', [y], { perm: [0, 3, 1, 2] })[0]; // back to NCHW
    y = b.mul(y, b.param(`${prefix}.layer_scale`, [C, 1, 1]));
  }
  return b.add(dropPath(b, y, o.dropPath ?? 0, o.training), x);
}
