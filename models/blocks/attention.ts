// Channel and spatial attention modules: squeeze-and-excitation (Hu, Shen & Sun 2018,
// "Squeeze-and-Excitation Networks"), CBAM (Woo, Park, Lee & Kweon 2018, "CBAM: Convolutional
// Block Attention Module"), ECA (Wang, Wu, Zhu, Li, Zuo & Hu 2020, "ECA-Net: Efficient Channel
// Attention for Deep Convolutional Neural Networks") and coordinate attention (Hou, Zhou & Feng
// 2021, "Coordinate Attention for Efficient Mobile Network Design"). They follow timm 1.0.29's
// SEModule, CbamModule, EcaModule and CoordAttn (timm/layers/{squeeze_excite,cbam,eca,coord_attn}.py):
// same defaults, same state_dict names under the module's prefix. attentionModule() is timm's
// create_attn: the module by name with its defaults, the form every zoo block's `attention` slot uses.
import type { GraphBuilder } from '../../src/builder';
import type { Attention } from '../registry';
import { type Act, act, convBnAct, makeDivisible } from './common';

/** Options of {@link squeezeExcite}. */
export interface SqueezeExciteOptions {
  /** channels of the bottleneck */
  reduced: number;
  /** names of the reduce / expand 1x1 convs under the prefix (torchvision and timm: fc1, fc2) */
  names?: [string, string];
  /** activation after the reduce conv (default relu) */
  act?: Act;
  /** gate after the expand conv (default sigmoid; MobileNetV3 and GhostNet: hardsigmoid) */
  gate?: Act;
  /** the module's input to scale, when it differs from the pooled tensor */
  scale?: string;
}

/**
 * Squeeze-and-excitation (Hu, Shen & Sun 2018, "Squeeze-and-Excitation Networks"): global average
 * pool, 1x1 conv `fc1` (reduce) + act, 1x1 conv `fc2` (expand) + gate, channel-wise scale of the
 * input (a stride-0 broadcast multiply on NHWC). The study recalibrates channel responses from
 * global context at a small cost, and found it improves a wide range of architectures (SENet won
 * ILSVRC 2017); MobileNetV3 and EfficientNet put it inside their inverted bottlenecks.
 */
export function squeezeExcite(b: GraphBuilder, x: string, prefix: string, o: SqueezeExciteOptions): string {
  const [r, e] = o.names ?? ['fc1', 'fc2'];
  const C = b.shape(x)[1];
  let s = b.globalAvgPool(x);
  s = act(b, b.conv(s, `${prefix}.${r}`, { out: o.reduced, kernel: 1 }), o.act ?? 'relu');
  s = act(b, b.conv(s, `${prefix}.${e}`, { out: C, kernel: 1 }), o.gate ?? 'sigmoid');
  return b.mul(o.scale ?? x, s);
}

/** Options of {@link cbam}. */
export interface CbamOptions {
  /** channels of the shared MLP (timm: round(C / 16), at least 1) */
  reduced?: number;
  /** kernel of the spatial attention conv (7 in the paper) */
  spatialKernel?: number;
  /** activation inside the channel MLP (default relu) */
  act?: Act;
  /** gate of both attentions (default sigmoid) */
  gate?: Act;
}

/**
 * CBAM (Woo et al. 2018, "CBAM: Convolutional Block Attention Module"), timm's CbamModule:
 * channel attention (average- and max-pooled vectors through one bias-free MLP `channel.fc1`,
 * `channel.fc2`, summed, gated) then spatial attention (channel-wise mean and max, a 7x7 conv
 * + BN `spatial.conv.conv` / `spatial.conv.bn`, gated). fc2 is linear without bias, so
 * fc2(a) + fc2(m) = fc2(a + m): both pooled vectors go through fc1 as the two columns of one
 * [N, C, 1, 2] map, are summed after the activation and meet fc2 once. The study adds 'where'
 * (spatial) to SE's 'what' (channel) attention, sequentially, and reports gains on ImageNet
 * classification and detection with negligible overhead.
 */
export function cbam(b: GraphBuilder, x: string, prefix: string, o: CbamOptions = {}): string {
  const C = b.shape(x)[1];
  const rd = o.reduced ?? makeDivisible(C / 16, 1, undefined, 0);
  const k = o.spatialKernel ?? 7;
  const gate = o.gate ?? 'sigmoid';
  // channel attention
  const pooled = b.concat([b.globalAvgPool(x), b.node('GlobalMaxPool', [x])[0]], 3);
  let h = act(b, b.conv(pooled, `${prefix}.channel.fc1`, { out: rd, kernel: 1, bias: false }), o.act ?? 'relu');
  h = b.node('ReduceSum', [h, b.ints([3])], { keepdims: 1 })[0];
  const ca = act(b, b.conv(h, `${prefix}.channel.fc2`, { out: C, kernel: 1, bias: false }), gate);
  const y = b.mul(x, ca);
  // spatial attention
  const mean = b.node('ReduceMean', [y], { axes: [1], keepdims: 1 })[0];
  const max = b.node('ReduceMax', [y], { axes: [1], keepdims: 1 })[0];
  const sa = convBnAct(b, b.concat([mean, max], 1), { conv: `${prefix}.spatial.conv.conv`, bn: `${prefix}.spatial.conv.bn` },
    { out: 1, kernel: k, pad: (k - 1) >> 1 }, gate);
  return b.mul(y, sa);
}

/**
 * ECA's adaptive kernel size for C channels (timm's rule): t = floor(|log2 C + beta| / gamma),
 * the next odd number from t, at least 3.
 */
export function ecaKernelSize(channels: number, gamma = 2, beta = 1): number {
  // log(C) / log(2) as Python's math.log(C, 2) computes it
  const t = Math.floor(Math.abs(Math.log(channels) / Math.log(2) + beta) / gamma);
  return Math.max(t % 2 ? t : t + 1, 3);
}

/** Options of {@link eca}. */
export interface EcaOptions {
  /** kernel of the 1-D conv across channels; default from ecaKernelSize */
  kernel?: number;
  /** γ of the adaptive kernel size rule (default 2) */
  gamma?: number;
  /** b of the adaptive kernel size rule (default 1) */
  beta?: number;
  /** gate (default sigmoid) */
  gate?: Act;
}

/**
 * ECA (Wang et al. 2020, "ECA-Net: Efficient Channel Attention"), timm's EcaModule: global
 * average pool, a bias-free 1-D conv across channels (`conv.weight` [1, 1, k], zero padded),
 * gate, channel-wise scale. The 1-D conv runs as a [1, k] Conv over the pooled vector transposed to
 * [N, 1, 1, C]; its weight is the declared one viewed as [1, 1, 1, k]. The study argues that
 * SE's dimensionality reduction hurts and that local cross-channel interaction suffices: k
 * parameters instead of 2C²/r.
 */
export function eca(b: GraphBuilder, x: string, prefix: string, o: EcaOptions = {}): string {
  const C = b.shape(x)[1];
  const k = o.kernel ?? ecaKernelSize(C, o.gamma, o.beta);
  const w = b.param(`${prefix}.conv.weight`, [1, 1, k]);
  const w2d = b.derive(`${prefix}.conv.weight[1,1,1,${k}]`, [1, 1, 1, k], [w], ([t]) => Float32Array.from(t.data));
  let s = b.node('Transpose', [b.globalAvgPool(x)], { perm: [0, 2, 3, 1] })[0];
  const p = (k - 1) >> 1;
  s = b.node('Conv', [s, w2d], { kernel_shape: [1, k], strides: [1, 1], pads: [0, p, 0, p], dilations: [1, 1], group: 1 }, 1, `${prefix}.conv`)[0];
  s = b.node('Transpose', [act(b, s, o.gate ?? 'sigmoid')], { perm: [0, 3, 1, 2] })[0];
  return b.mul(x, s);
}

/** Options of {@link coordAttention}. */
export interface CoordAttentionOptions {
  /** channels of the shared bottleneck (timm: makeDivisible(C / 16 * 2/3, 8, round limit 0)) */
  reduced?: number;
  /** activation after the shared conv (default hardswish) */
  act?: Act;
  /** gate of the two directional maps (default sigmoid) */
  gate?: Act;
  /** eps of the shared BatchNorm (default 1e-5) */
  bnEps?: number;
}

/**
 * Coordinate attention (Hou et al. 2021, "Coordinate Attention for Efficient Mobile Network
 * Design"), timm's CoordAttn: average pools along W (-> [N, C, H, 1]) and along H
 * (-> [N, C, 1, W]), one shared 1x1 conv `conv1` + BN `bn1` + act (hard-swish) over both,
 * 1x1 convs `conv_h` / `conv_w` + gate, and the input scaled by both directional maps (two
 * broadcast multiplies). The reference concatenates the two pooled strips before the shared
 * conv and splits after; conv1, BN and act are pointwise, so running them on each strip is the
 * same function without the transpose, concat and split. The study embeds positional
 * information into channel attention (two 1-D encodings instead of one global pool), aimed at
 * mobile networks and dense prediction.
 */
export function coordAttention(b: GraphBuilder, x: string, prefix: string, o: CoordAttentionOptions = {}): string {
  const C = b.shape(x)[1];
  const rd = o.reduced ?? makeDivisible(C * (1 / 16) * (2 / 3), 8, undefined, 0);
  const gate = o.gate ?? 'sigmoid';
  const w = b.param(`${prefix}.conv1.weight`, [rd, C, 1, 1]);
  const bn = ['weight', 'bias', 'running_mean', 'running_var'].map((s) => b.param(`${prefix}.bn1.${s}`, [rd]));
  const shared = (t: string, dir: string) => {
    const y = b.node('Conv', [t, w], { kernel_shape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 },
      1, `${prefix}.conv1(${dir})`)[0];
    return act(b, b.node('BatchNormalization', [y, ...bn], { epsilon: o.bnEps ?? 1e-5 }, 1, `${prefix}.bn1(${dir})`)[0], o.act ?? 'hardswish');
  };
  const yh = shared(b.node('ReduceMean', [x], { axes: [3], keepdims: 1 })[0], 'h'); // [N, rd, H, 1]
  const yw = shared(b.node('ReduceMean', [x], { axes: [2], keepdims: 1 })[0], 'w'); // [N, rd, 1, W]
  const ah = act(b, b.conv(yh, `${prefix}.conv_h`, { out: C, kernel: 1, bias: false }), gate);
  const aw = act(b, b.conv(yw, `${prefix}.conv_w`, { out: C, kernel: 1, bias: false }), gate);
  return b.mul(b.mul(x, aw), ah);
}


/** Options of {@link attentionModule}. */
export interface AttentionModuleOptions {
  /** which module: 'se', 'cbam', 'eca' or 'coord' */
  kind: Attention;
}

/**
 * The attention module `kind` with timm's create_attn defaults, on `x`'s channels C, weights under
 * `prefix`: 'se' = {@link squeezeExcite} reducing to makeDivisible(C / 16, 8) (timm SEModule),
 * 'cbam' = {@link cbam}, 'eca' = {@link eca}, 'coord' = {@link coordAttention}. This is what the
 * `attention` option of the zoo's blocks inserts (ResNet blocks as timm's ResNet with
 * block_args=dict(attn_layer=kind)).
 */
export function attentionModule(b: GraphBuilder, x: string, prefix: string, o: AttentionModuleOptions): string {
  const C = b.shape(x)[1];
  switch (o.kind) {
    case 'se':
      return squeezeExcite(b, x, prefix, { reduced: makeDivisible(C / 16, 8, undefined, 0) });
    case 'cbam':
      return cbam(b, x, prefix);
    case 'eca':
      return eca(b, x, prefix);
    case 'coord':
      return coordAttention(b, x, prefix);
  }
}
