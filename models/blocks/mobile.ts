// The mobile blocks: depthwise-separable conv (Howard et al. 2017, "MobileNets"), the inverted
// residual with linear bottleneck (Sandler, Howard, Zhu, Zhmoginov & Chen 2018, "MobileNetV2:
// Inverted Residuals and Linear Bottlenecks"; with SE and h-swish in Howard et al. 2019,
// "Searching for MobileNetV3"), MBConv and Fused-MBConv (Tan & Le 2019, "EfficientNet: Rethinking
// Model Scaling for Convolutional Neural Networks"; Tan & Le 2021, "EfficientNetV2: Smaller Models
// and Faster Training"), and MobileNetV4's Universal Inverted Bottleneck and Mobile-MQA (Qin et
// al. 2024, "MobileNetV4: Universal Models for the Mobile Ecosystem").
// Weight names are the references' state_dict keys under the block's prefix: torchvision 0.14
// (MobileNetV2 `conv.*`, MobileNetV3 / EfficientNet `block.<j>.*`) and timm 1.0.29 (MobileNetV1
// `conv_dw`/`conv_pw`, MobileNetV4 `dw_start`/`pw_exp`/`dw_mid`/`pw_proj`/`dw_end`, `attn.*`).
//
// Mobile-MQA on the engine: the query 1x1 conv (its output scaled by 1/sqrt(d), a Mul that
// inference folds into the weights) writes an NHWC map [B, H, W, h*d]; its channel-last view
// reshaped to [B, H*W*h, d] puts every query head of every pixel on its own row, so one batched
// MatMul against the shared K^T [B, d, M] gives all heads' logits [B, H*W*h, M], Softmax runs over
// M, and a second MatMul with V [B, M, d] leaves [B, H*W*h, d] = the NHWC map [B, H, W, h*d] that
// the output 1x1 conv reads — no head transposes.
import type { GraphBuilder } from '../../src/builder';
import { ValueError } from '../../src/errors';
import type { Attention } from '../registry';
import { attentionModule, squeezeExcite } from './attention';
import { type Act, act, convBnAct, dropPath, makeDivisible } from './common';

/** Options of {@link depthwiseSeparable}. */
export interface DepthwiseSeparableOptions {
  /** output channels of the pointwise conv */
  out: number;
  /** stride of the depthwise conv (default 1) */
  stride?: number;
}

/**
 * MobileNetV1's depthwise-separable block (timm names): 3x3 depthwise `conv_dw` + BN `bn1` +
 * ReLU6, 1x1 pointwise `conv_pw` + BN `bn2` + ReLU6, no skip. Howard et al. 2017 ("MobileNets:
 * Efficient Convolutional Neural Networks for Mobile Vision Applications") factor a standard
 * conv into a per-channel spatial filter and a channel mixer, 8-9x fewer multiply-adds for a
 * small loss of accuracy.
 */
export function depthwiseSeparable(b: GraphBuilder, x: string, prefix: string, o: DepthwiseSeparableOptions): string {
  const C = b.shape(x)[1];
  x = convBnAct(b, x, { conv: `${prefix}.conv_dw`, bn: `${prefix}.bn1` }, { out: C, kernel: 3, stride: o.stride ?? 1, pad: 1, groups: C }, 'relu6');
  return convBnAct(b, x, { conv: `${prefix}.conv_pw`, bn: `${prefix}.bn2` }, { out: o.out, kernel: 1 }, 'relu6');
}

/** Options of {@link invertedResidual}. */
export interface InvertedResidualOptions {
  /** output channels */
  out: number;
  /** hidden (expanded) channels; no 1x1 expansion conv when equal to the input's */
  expanded: number;
  /** depthwise kernel (default 3) */
  kernel?: number;
  /** depthwise stride (default 1) */
  stride?: number;
  /** depthwise dilation (default 1; above 1 the conv keeps stride 1, torchvision's `dilated=True`) */
  dilation?: number;
  /** activation after the expansion and depthwise convs (default relu6; MobileNetV3: relu or hardswish) */
  act?: Act;
  /**
   * State_dict layout: 'v2' (torchvision MobileNetV2: `conv.0.{0,1}` expand, `conv.{k}.{0,1}`
   * depthwise, `conv.{k+1}` project conv, `conv.{k+2}` its BN) or 'v3' (torchvision MobileNetV3:
   * sub-module j at `block.j` with `.0` conv, `.1` BN, the SE as its own sub-module). Default 'v2'.
   */
  layout?: 'v2' | 'v3';
  /** 'v3' layout: MobileNetV3's SE after the depthwise conv (squeeze to makeDivisible(expanded / 4, 8), hard-sigmoid gate) */
  se?: boolean;
  /**
   * Attention module after the depthwise conv, before the projection (where MobileNetV3 puts its
   * SE). 'v2' layout: timm's module (see attentionModule) under `<prefix>.se`. 'v3' layout: at the
   * SE's sub-module slot, replacing the SE ('se' there is MobileNetV3's own SE).
   */
  attention?: Attention;
  /** BatchNorm eps (default 1e-5; torchvision's MobileNetV3 uses 1e-3) */
  eps?: number;
  /** 'v3' layout: the module path of sub-module j (default `<prefix>.block.<j>`) */
  moduleName?: (j: number) => string;
  /** called with the expansion conv's output (after its BN and activation), when there is one (SSDLite taps it) */
  onExpand?: (y: string) => void;
}

/**
 * Inverted residual with linear bottleneck: 1x1 expand + act (when widened), kxk depthwise + act,
 * [attention], 1x1 linear projection + BN, residual add when stride 1 and channels agree.
 * Sandler et al. 2018 ("MobileNetV2: Inverted Residuals and Linear Bottlenecks") keep the
 * shortcut between thin bottlenecks and drop the last non-linearity, which they show destroys
 * information in low-dimensional spaces; Howard et al. 2019 ("Searching for MobileNetV3") add
 * squeeze-excitation and h-swish to the same block.
 */
export function invertedResidual(b: GraphBuilder, x: string, prefix: string, o: InvertedResidualOptions): string {
  const inp = b.shape(x)[1];
  const { out, expanded: exp } = o;
  const k = o.kernel ?? 3;
  const stride = o.stride ?? 1;
  const dilation = o.dilation ?? 1;
  const kind = o.act ?? 'relu6';
  const eps = o.eps ?? 1e-5;
  const v3 = o.layout === 'v3';
  let j = 0;
  // names of the j-th conv + BN pair
  const names = (): { conv: string; bn: string } => {
    if (v3) {
      const m = o.moduleName ? o.moduleName(j++) : `${prefix}.block.${j++}`;
      return { conv: `${m}.0`, bn: `${m}.1` };
    }
    const i = j++;
    return exp !== inp && i === 2 || exp === inp && i === 1 ? { conv: `${prefix}.conv.${i}`, bn: `${prefix}.conv.${i + 1}` } : { conv: `${prefix}.conv.${i}.0`, bn: `${prefix}.conv.${i}.1` };
  };
  let y = x;
  if (exp !== inp) {
    y = convBnAct(b, y, names(), { out: exp, kernel: 1 }, kind, eps);
    o.onExpand?.(y);
  }
  y = convBnAct(b, y, names(), { out: exp, kernel: k, stride: dilation > 1 ? 1 : stride, pad: ((k - 1) >> 1) * dilation, dilation, groups: exp }, kind, eps);
  if (v3) {
    const slot = o.attention ?? (o.se ? 'se' : undefined);
    if (slot) {
      const m = o.moduleName ? o.moduleName(j++) : `${prefix}.block.${j++}`;
      y = slot === 'se'
        ? squeezeExcite(b, y, m, { reduced: makeDivisible(Math.floor(exp / 4), 8), act: 'relu', gate: 'hardsigmoid' })
        : attentionModule(b, y, m, { kind: slot });
    }
  } else if (o.attention) {
    y = attentionModule(b, y, `${prefix}.se`, { kind: o.attention });
  }
  y = convBnAct(b, y, names(), { out, kernel: 1 }, 'none', eps);
  if (stride !== 1 || inp !== out) return y;
  return v3 ? b.add(y, x) : b.add(x, y); // the references' operand order
}

/** Options of {@link mbConv}. */
export interface MBConvOptions {
  /** output channels */
  out: number;
  /** expansion ratio: hidden channels makeDivisible(in · ratio, 8) */
  expandRatio: number;
  /** depthwise kernel (3 or 5 in EfficientNet) */
  kernel: number;
  /** depthwise stride (default 1) */
  stride?: number;
  /** BatchNorm eps (default 1e-5) */
  eps?: number;
  /**
   * The module at the SE slot (after the depthwise conv): 'se' or absent = EfficientNet's own SE
   * (squeeze to max(1, in / 4), SiLU, sigmoid gate); 'cbam', 'eca', 'coord' replace it (timm's
   * defaults, see attentionModule), with the weights under the same sub-module prefix.
   */
  attention?: Attention;
  /** stochastic depth probability of the residual branch (built in the training form only) */
  dropPath?: number;
  /** build the training form (DropPath on the residual branch) */
  training?: boolean;
}

/**
 * MBConv (torchvision EfficientNet's names, sub-module j at `<prefix>.block.j`): 1x1 expand +
 * SiLU (when widened), kxk depthwise + SiLU, squeeze-excitation, 1x1 linear projection; residual
 * (with stochastic depth in training) when stride 1 and channels agree. Tan & Le 2019
 * ("EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks") found this mobile
 * inverted bottleneck with SE by architecture search and scale it by compound scaling.
 */
export function mbConv(b: GraphBuilder, x: string, prefix: string, o: MBConvOptions): string {
  const inp = b.shape(x)[1];
  const exp = makeDivisible(inp * o.expandRatio, 8);
  const stride = o.stride ?? 1;
  const eps = o.eps ?? 1e-5;
  let j = 0;
  const cba = (z: string, opts: Parameters<typeof convBnAct>[3], silu: boolean) =>
    convBnAct(b, z, { conv: `${prefix}.block.${j}.0`, bn: `${prefix}.block.${j++}.1` }, opts, silu ? 'silu' : 'none', eps);
  let y = x;
  if (exp !== inp) y = cba(y, { out: exp, kernel: 1 }, true);
  y = cba(y, { out: exp, kernel: o.kernel, stride, pad: (o.kernel - 1) >> 1, groups: exp }, true);
  const slot = `${prefix}.block.${j++}`;
  y = o.attention && o.attention !== 'se'
    ? attentionModule(b, y, slot, { kind: o.attention })
    : squeezeExcite(b, y, slot, { reduced: Math.max(1, Math.floor(inp / 4)), act: 'silu', gate: 'sigmoid' });
  y = cba(y, { out: o.out, kernel: 1 }, false);
  return stride === 1 && inp === o.out ? b.add(dropPath(b, y, o.dropPath ?? 0, o.training), x) : y;
}

/** Options of {@link fusedMbConv}. */
export interface FusedMBConvOptions {
  /** output channels */
  out: number;
  /** expansion ratio: hidden channels makeDivisible(in · ratio, 8); 1 = a single kxk conv */
  expandRatio: number;
  /** kernel of the fused expansion conv */
  kernel: number;
  /** stride (default 1) */
  stride?: number;
  /** BatchNorm eps (default 1e-5) */
  eps?: number;
  /** stochastic depth probability of the residual branch (built in the training form only) */
  dropPath?: number;
  /** build the training form (DropPath on the residual branch) */
  training?: boolean;
}

/**
 * Fused-MBConv (torchvision names `<prefix>.block.{0,1}.{0,1}`): kxk expansion conv + SiLU then
 * 1x1 linear projection (or one kxk conv + SiLU when not widened); residual when shapes allow.
 * Tan & Le 2021 ("EfficientNetV2: Smaller Models and Faster Training") replace MBConv's 1x1 +
 * depthwise pair by one regular conv in the early stages, where depthwise convs are slow on
 * accelerators, and train faster.
 */
export function fusedMbConv(b: GraphBuilder, x: string, prefix: string, o: FusedMBConvOptions): string {
  const inp = b.shape(x)[1];
  const exp = makeDivisible(inp * o.expandRatio, 8);
  const stride = o.stride ?? 1;
  const eps = o.eps ?? 1e-5;
  const pad = (o.kernel - 1) >> 1;
  let y: string;
  if (exp !== inp) {
    y = convBnAct(b, x, { conv: `${prefix}.block.0.0`, bn: `${prefix}.block.0.1` }, { out: exp, kernel: o.kernel, stride, pad }, 'silu', eps);
    y = convBnAct(b, y, { conv: `${prefix}.block.1.0`, bn: `${prefix}.block.1.1` }, { out: o.out, kernel: 1 }, 'none', eps);
  } else {
    y = convBnAct(b, x, { conv: `${prefix}.block.0.0`, bn: `${prefix}.block.0.1` }, { out: o.out, kernel: o.kernel, stride, pad }, 'silu', eps);
  }
  return stride === 1 && inp === o.out ? b.add(dropPath(b, y, o.dropPath ?? 0, o.training), x) : y;
}

/** timm's symmetric padding for a k x k conv of stride s (dilation 1). */
const padFor = (k: number, s: number) => Math.floor((s - 1 + (k - 1)) / 2);

/** Conv + BN (+ act): timm's ConvNormAct with `.conv` / `.bn` children. */
function convNormAct(b: GraphBuilder, x: string, p: string, out: number, k: number, s: number, dw: boolean, a: Act): string {
  const C = b.shape(x)[1];
  const y = b.conv(x, `${p}.conv`, { out, kernel: k, stride: s, pad: padFor(k, s), groups: dw ? C : 1, bias: false });
  return act(b, b.batchNorm(y, `${p}.bn`), a);
}

/**
 * Per-channel layer scale (timm LayerScale2d: x · gamma[1, C, 1, 1], weight `<prefix>.gamma` of
 * shape [C]). Touvron et al. 2021 ("Going deeper with Image Transformers", CaiT) scale each
 * residual branch by a learned per-channel factor initialised small, to train deep stacks.
 */
export function layerScale(b: GraphBuilder, x: string, prefix: string): string {
  const C = b.shape(x)[1];
  b.param(`${prefix}.gamma`, [C]);
  // a [C, 1, 1] view of timm's [C] gamma, derived at build (training reaches gamma through it)
  const g = b.derive(`${prefix}.gamma_view`, [C, 1, 1], [`${prefix}.gamma`], ([t]) => t.data);
  return b.mul(x, g);
}

/** Options of {@link uib}. */
export interface UIBOptions {
  /** output channels */
  out: number;
  /** expansion ratio: hidden channels makeDivisible(in · ratio, 8) */
  expandRatio: number;
  /** kernel of the start depthwise conv, before the expansion (0: none) */
  start?: number;
  /** kernel of the middle depthwise conv, after the expansion (0: none) */
  mid?: number;
  /** kernel of the end depthwise conv, after the projection (0: none) */
  end?: number;
  /** stride, taken by the first depthwise conv present (default 1) */
  stride?: number;
  /** activation (default relu) */
  act?: Act;
  /** per-channel layer scale before the residual add (MobileNetV4 hybrids) */
  layerScale?: boolean;
}

/**
 * Universal Inverted Bottleneck (timm 'uir'): optional start depthwise (no act) `dw_start`, 1x1
 * expand + act `pw_exp`, optional middle depthwise + act `dw_mid`, 1x1 project `pw_proj`, optional
 * end depthwise `dw_end`, layer scale, residual when shapes allow. Qin et al. 2024 ("MobileNetV4:
 * Universal Models for the Mobile Ecosystem") unify the inverted bottleneck (mid only), the
 * ConvNeXt-like block (start only), the FFN (neither) and their ExtraDW variant (start and mid) in
 * one searchable block that runs efficiently across mobile hardware.
 */
export function uib(b: GraphBuilder, x: string, prefix: string, o: UIBOptions): string {
  const C = b.shape(x)[1];
  const { out } = o;
  const [a, k, p] = [o.start ?? 0, o.mid ?? 0, o.end ?? 0];
  const stride = o.stride ?? 1;
  const kind = o.act ?? 'relu';
  const mid = makeDivisible(C * o.expandRatio);
  if (stride > 1 && !a && !k && !p) throw new ValueError(`${prefix}: a strided UIB needs a depthwise conv`);
  let y = x;
  if (a) y = convNormAct(b, y, `${prefix}.dw_start`, C, a, k ? 1 : stride, true, 'none');
  y = convNormAct(b, y, `${prefix}.pw_exp`, mid, 1, 1, false, kind);
  if (k) y = convNormAct(b, y, `${prefix}.dw_mid`, mid, k, stride, true, kind);
  y = convNormAct(b, y, `${prefix}.pw_proj`, out, 1, 1, false, 'none');
  if (p) y = convNormAct(b, y, `${prefix}.dw_end`, out, p, a || k ? 1 : stride, true, 'none');
  if (o.layerScale) y = layerScale(b, y, `${prefix}.layer_scale`);
  return C === out && stride === 1 ? b.add(y, x) : y;
}

/** Options of {@link mobileMQA}. */
export interface MobileMQAOptions {
  /** output channels */
  out: number;
  /** query heads */
  heads: number;
  /** channels of each head, and of the shared key and value */
  keyDim: number;
  /** stride of the depthwise conv that down-samples keys and values (default 1: none) */
  kvStride?: number;
  /** kernel of that depthwise conv (default 3) */
  kvKernel?: number;
  /** per-channel layer scale before the residual add (MobileNetV4 hybrids) */
  layerScale?: boolean;
}

/**
 * Mobile-MQA block (timm 'mqa', MobileAttention + MultiQueryAttention2d): BN `norm` of the input,
 * h query heads from a 1x1 conv, one shared key and one shared value head (1x1 convs, after a
 * strided depthwise conv + BN when kvStride > 1), softmax(q kᵀ / sqrt(d)) v, 1x1 output projection,
 * layer scale, residual. Qin et al. 2024 ("MobileNetV4") share keys and values across heads
 * (multi-query attention) and down-sample them spatially, which they report speeds attention up
 * by 39% on mobile accelerators for little accuracy loss.
 */
export function mobileMQA(b: GraphBuilder, x: string, prefix: string, o: MobileMQAOptions): string {
  const [B, C, H, W] = b.shape(x);
  const { out, heads, keyDim: dim } = o;
  const kvs = o.kvStride ?? 1;
  const dwk = o.kvKernel ?? 3;
  const a = `${prefix}.attn`;
  const xn = b.batchNorm(x, `${prefix}.norm`);

  // queries, pre-scaled by 1/sqrt(d): [B, H*W*heads, d]
  const wq = b.param(`${a}.query.proj.weight`, [heads * dim, C, 1, 1]);
  const scale = dim ** -0.5;
  // (a scalar Mul after the conv: inference folds it into the weights, training differentiates it)
  const qConv = b.node('Conv', [xn, wq], { kernel_shape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 }, 1, `${a}.query.proj`)[0];
  const qMap = b.mul(qConv, b.constant([scale], [1]));
  const qLast = b.node('Transpose', [qMap], { perm: [0, 2, 3, 1] })[0];
  const q = b.node('Reshape', [qLast, b.ints([B, H * W * heads, dim])])[0];

  // shared key / value head on the (down-sampled) map
  const kv = (name: 'key' | 'value'): string => {
    let t = xn;
    if (kvs > 1) {
      t = b.conv(t, `${a}.${name}.down_conv`, { out: C, kernel: dwk, stride: kvs, pad: padFor(dwk, kvs), groups: C, bias: false });
      t = b.batchNorm(t, `${a}.${name}.norm`);
    }
    return b.conv(t, `${a}.${name}.proj`, { out: dim, kernel: 1, bias: false });
  };
  const kMap = kv('key');
  const [, , Hk, Wk] = b.shape(kMap);
  const M = Hk * Wk;
  const kT = b.node('Reshape', [kMap, b.ints([B, dim, M])])[0]; // [B, d, M]
  const vMap = kv('value');
  const vLast = b.node('Transpose', [vMap], { perm: [0, 2, 3, 1] })[0];
  const v = b.node('Reshape', [vLast, b.ints([B, M, dim])])[0]; // [B, M, d]

  const logits = b.node('MatMul', [q, kT])[0]; // [B, H*W*heads, M]
  const attn = b.node('Softmax', [logits], { axis: -1 })[0];
  const r = b.node('MatMul', [attn, v])[0]; // [B, H*W*heads, d]
  const rLast = b.node('Reshape', [r, b.ints([B, H, W, heads * dim])])[0];
  const rMap = b.node('Transpose', [rLast], { perm: [0, 3, 1, 2] })[0];
  let y = b.conv(rMap, `${a}.output.proj`, { out, kernel: 1, bias: false });
  if (o.layerScale) y = layerScale(b, y, `${prefix}.layer_scale`);
  return C === out ? b.add(y, x) : y;
}
