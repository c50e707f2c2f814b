// Object detection building blocks, as torchvision 0.14 defines them (weight names are its
// state_dict keys under the prefix given):
//   Feature Pyramid Network (Lin et al. 2017, "Feature Pyramid Networks for Object Detection"),
//       torchvision.ops.FeaturePyramidNetwork: a 1x1 lateral conv per backbone stage
//       (`inner_blocks.<i>.0`), a top-down path that up-samples the coarser merged map by
//       nearest neighbour to the lateral's size and adds it, and a 3x3 conv per level
//       (`layer_blocks.<i>.0`); extra levels by LastLevelMaxPool (max pool, kernel 1, stride 2,
//       on the last output) or LastLevelP6P7 (RetinaNet: 3x3 stride-2 convs `extra_blocks.p6`,
//       then ReLU and `extra_blocks.p7`). Deep low-resolution features up-sampled and fused with
//       shallow ones: every level sees both what and where.
//   SSDLite (Sandler et al. 2018, "MobileNetV2", section 6.2; Howard et al. 2019,
//       "Searching for MobileNetV3", section 6.3), torchvision ssdlite320_mobilenet_v3_large:
//       MobileNet V3 Large with reduced tail, tapped at the C4 bneck's expansion conv (stride 16)
//       and at the last 1x1 conv (stride 32), four extra blocks (1x1 conv, depthwise 3x3 stride
//       2, 1x1 conv, each with BN and ReLU6) and per-level prediction blocks (depthwise 3x3 +
//       BN + ReLU6, then a 1x1 conv with bias), BN eps 0.001 throughout.
//   SSD300 (Liu et al. 2016, "SSD: Single Shot MultiBox Detector"), torchvision ssd300_vgg16:
//       VGG16 to conv4_3 (pool3 in ceil mode) whose map is L2-normalised over the channels and
//       scaled by `scale_weight`, then pool4, conv5, pool5 as 3x3 stride 1, fc6 as a 3x3 conv
//       dilated 6 and fc7 as 1x1, four extra blocks; SSDHead: one 3x3 conv per level and task.
//   FCOS head (Tian et al. 2019, "FCOS: Fully Convolutional One-Stage Object Detection"),
//       torchvision FCOSHead: RetinaNet-like towers with GroupNorm(32) (Wu and He 2018) after
//       each conv, one location one anchor, class logits, ReLU'd edge distances and centerness.
//   RetinaNet head (Lin et al. 2017, "Focal Loss for Dense Object Detection"),
//       torchvision RetinaNetHead: one classification and one box-regression subnet (four 3x3
//       conv + ReLU, then a 3x3 conv to anchors x classes or anchors x 4) shared by every level,
//       whose outputs are laid out as torchvision does: [N, sum over levels of H*W*A, K], the
//       anchor index fastest within a pixel, pixels in row-major order, levels concatenated.
import { GraphBuilder } from '../src/builder';
import { type DefaultBoxOptions, SSD300_DEFAULT_BOXES, SSDLITE320_DEFAULT_BOXES } from '../src/detect/anchors';
import { detectDense } from '../src/detect/dense';
import { detectImages, type DetectorSpec, type SsdDetectorSpec } from '../src/detect/detector';
import { ValueError } from '../src/errors';
import { convBnAct } from './blocks/common';
import { mobilenetV3Features } from './mobilenet';
import { resnetFeatures } from './resnet';
import { type CreateModelOptions, inputHW, type ZooFamily } from './registry';

/** Extra pyramid levels after the backbone's: none, P6 by max pool (Faster R-CNN), or P6 and P7 by strided convs (RetinaNet, FCOS). */
export type FpnExtra = 'none' | 'maxpool' | 'p6p7';

/** Options of {@link featurePyramid}. */
export interface FeaturePyramidOptions {
  /** Channels of every pyramid level (default 256). */
  channels?: number;
  /** Extra levels (default 'none'). */
  extra?: FpnExtra;
  /**
   * For 'p6p7': P6 is computed from P5 (torchvision's LastLevelP6P7 when its in_channels equals
   * the pyramid's, as in retinanet_resnet50_fpn), else from the last backbone map C5.
   */
  p6FromP5?: boolean;
}

/**
 * torchvision's FeaturePyramidNetwork (plus its extra block) on backbone maps `features`, finest
 * first; weights under `prefix` (e.g. 'backbone.fpn.'). Returns the pyramid levels, finest first.
 */
export function featurePyramid(b: GraphBuilder, features: string[], prefix: string, o: FeaturePyramidOptions = {}): string[] {
  if (features.length === 0) throw new ValueError('featurePyramid: no backbone features');
  const ch = o.channels ?? 256;
  const last = features.length - 1;
  const lateral = (i: number) => b.conv(features[i], `${prefix}inner_blocks.${i}.0`, { out: ch, kernel: 1 });
  const output = (x: string, i: number) => b.conv(x, `${prefix}layer_blocks.${i}.0`, { out: ch, kernel: 3, pad: 1 });
  let inner = lateral(last);
  const levels = [output(inner, last)];
  for (let i = last - 1; i >= 0; i--) {
    const l = lateral(i);
    const [N, C, H, W] = b.shape(l);
    const [, , h, w] = b.shape(inner);
    // F.interpolate(size=(H, W), mode='nearest'): source index floor(dst * in / out). An exact
    // doubling (or an equal size: MobileNet's two stride-32 maps in Faster R-CNN) is written as
    // scales 2 (or 1), so the graph holds at every input size whose levels halve exactly (the
    // detectors' padded batches: multiples of 32); else the sizes themselves.
    const exact = (H === 2 * h || H === h) && (W === 2 * w || W === w);
    const up = b.node('Resize', exact ? [inner, '', b.constant([1, 1, H / h, W / w], [4])] : [inner, '', '', b.ints([N, C, H, W])], {
      mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor',
    })[0];
    inner = b.add(l, up);
    levels.unshift(output(inner, i));
  }
  const extra = o.extra ?? 'none';
  if (extra === 'maxpool') levels.push(b.maxPool(levels[levels.length - 1], { kernel: 1, stride: 2 }));
  else if (extra === 'p6p7') {
    const p6 = b.conv(o.p6FromP5 ? levels[levels.length - 1] : features[last], `${prefix}extra_blocks.p6`, { out: ch, kernel: 3, stride: 2, pad: 1 });
    const p7 = b.conv(b.relu(p6), `${prefix}extra_blocks.p7`, { out: ch, kernel: 3, stride: 2, pad: 1 });
    levels.push(p6, p7);
  }
  return levels;
}

/** Options of {@link retinaNetHead}. */
export interface RetinaNetHeadOptions {
  /** Anchors per location (default 9: three sizes by three aspect ratios). */
  anchors?: number;
  /** Classes, background included as torchvision counts them (default 91, COCO). */
  classes?: number;
}

/**
 * @internal [N, A*K, H, W] per level to [N, H*W*A, K] (torchvision's view(N, A, K, H, W).permute(0, 3, 4,
 * 1, 2).reshape(N, -1, K)), as a transpose to channels-last and a reshape.
 */
export function perAnchor(b: GraphBuilder, x: string, k: number): string {
  const t = b.node('Transpose', [x], { perm: [0, 2, 3, 1] })[0];
  // [0, -1, k]: the batch as it comes (a detector's batch may change between runs)
  return b.node('Reshape', [t, b.ints([0, -1, k])])[0];
}

/** One subnet of the head: four 3x3 conv + ReLU and a last 3x3 conv, on every level with the same weights. */
function subnet(b: GraphBuilder, levels: string[], p: string, last: string, out: number, k: number): string {
  const per = levels.map((x, l) => {
    const C = b.shape(x)[1];
    let y = x;
    for (let i = 0; i < 4; i++) y = b.relu(b.conv(y, `${p}.conv.${i}.0`, { out: C, kernel: 3, pad: 1, node: `${p}.conv.${i}.0@${l}` }));
    return perAnchor(b, b.conv(y, `${p}.${last}`, { out, kernel: 3, pad: 1, node: `${p}.${last}@${l}` }), k);
  });
  return per.length === 1 ? per[0] : b.concat(per, 1);
}

/** The values a detection head adds to the graph. */
export interface DetectionHeadOutputs {
  /** Class logits [N, sum over levels of H*W*A, classes]. */
  logits: string;
  /** Box deltas [N, sum over levels of H*W*A, 4], to be decoded against the anchors. */
  boxes: string;
}

/** torchvision's RetinaNetHead on pyramid `levels` (weights under `prefix`, e.g. 'head.'). */
export function retinaNetHead(b: GraphBuilder, levels: string[], prefix: string, o: RetinaNetHeadOptions = {}): DetectionHeadOutputs {
  const A = o.anchors ?? 9;
  const K = o.classes ?? 91;
  return {
    logits: subnet(b, levels, `${prefix}classification_head`, 'cls_logits', A * K, K),
    boxes: subnet(b, levels, `${prefix}regression_head`, 'bbox_reg', A * 4, 4),
  };
}

/** BatchNorm eps of torchvision's SSDLite (norm_layer = BatchNorm2d(eps=0.001, momentum=0.03)). */
const SSDLITE_EPS = 1e-3;
/** Index of MobileNet V3 Large's C4 bneck in `features` (its last strided block). */
const V3_LARGE_C4 = 13;

/**
 * torchvision's SSDLiteFeatureExtractorMobileNet on MobileNet V3 Large (reduced tail), weights
 * under `prefix` (e.g. 'backbone.'): the six feature maps the SSDLite head reads, finest first
 * (strides 16, 32, 64, 128, 256, 512 of the input).
 */
export function ssdliteFeatures(b: GraphBuilder, x: string, prefix: string): string[] {
  // features.0 = features[:13] + the C4 block's expansion conv; features.1 = the rest of the C4
  // block (its sub-modules keep their indices) + features[14:]
  const name = (i: number, j: number): string => {
    if (i < V3_LARGE_C4) return j < 0 ? `${prefix}features.0.${i}` : `${prefix}features.0.${i}.block.${j}`;
    if (i === V3_LARGE_C4) return j === 0 ? `${prefix}features.0.${i}` : `${prefix}features.1.0.${j}`;
    return j < 0 ? `${prefix}features.1.${i - V3_LARGE_C4}` : `${prefix}features.1.${i - V3_LARGE_C4}.block.${j}`;
  };
  const outs = mobilenetV3Features(b, x, 'large', { reducedTail: true, moduleName: name, tapExpansion: V3_LARGE_C4 });
  const c4 = outs[outs.length - 1];
  let y = outs[outs.length - 2];
  const maps = [c4, y];
  [512, 256, 256, 128].forEach((out, i) => {
    const p = `${prefix}extra.${i}`;
    const mid = out / 2;
    y = convBnAct(b, y, { conv: `${p}.0.0`, bn: `${p}.0.1` }, { out: mid, kernel: 1 }, 'relu6', SSDLITE_EPS);
    y = convBnAct(b, y, { conv: `${p}.1.0`, bn: `${p}.1.1` }, { out: mid, kernel: 3, stride: 2, pad: 1, groups: mid }, 'relu6', SSDLITE_EPS);
    y = convBnAct(b, y, { conv: `${p}.2.0`, bn: `${p}.2.1` }, { out, kernel: 1 }, 'relu6', SSDLITE_EPS);
    maps.push(y);
  });
  return maps;
}

/** Options of {@link ssdliteHead}. */
export interface SsdliteHeadOptions {
  /** Default boxes per location on every level (default 6: aspect ratios 2 and 3 as torchvision's DefaultBoxGenerator([[2, 3]] * 6)). */
  anchors?: number;
  /** Classes, background included (default 91, COCO). */
  classes?: number;
}

/**
 * torchvision's SSDLiteHead on `maps` (weights under `prefix`, e.g. 'head.'): a prediction
 * block per level (no sharing), outputs laid out as {@link retinaNetHead}'s.
 */
export function ssdliteHead(b: GraphBuilder, maps: string[], prefix: string, o: SsdliteHeadOptions = {}): DetectionHeadOutputs {
  const A = o.anchors ?? 6;
  const K = o.classes ?? 91;
  const branch = (p: string, out: number, k: number): string => {
    const per = maps.map((x, l) => {
      const C = b.shape(x)[1];
      const m = `${p}.module_list.${l}`;
      const y = convBnAct(b, x, { conv: `${m}.0.0`, bn: `${m}.0.1` }, { out: C, kernel: 3, pad: 1, groups: C }, 'relu6', SSDLITE_EPS);
      return perAnchor(b, b.conv(y, `${m}.1`, { out, kernel: 1 }), k);
    });
    return b.concat(per, 1);
  };
  return { logits: branch(`${prefix}classification_head`, A * K, K), boxes: branch(`${prefix}regression_head`, A * 4, 4) };
}

// ---------------------------------------------------------------------------------------------
// SSD300 VGG16 (Liu et al. 2016), RetinaNet and FCOS blocks

/**
 * torchvision's F.normalize(x) over the channels times a learned per-channel scale (SSD's
 * conv4_3 L2Norm, Liu et al. 2016 section 3.1 / ParseNet): x / max(||x||₂, 1e-12) · scale.
 */
function l2NormScale(b: GraphBuilder, x: string, scale: string): string {
  const C = b.shape(x)[1];
  const norm = b.node('ReduceL2', [x], { axes: [1], keepdims: 1 })[0];
  const y = b.node('Div', [x, b.node('Max', [norm, b.constant([1e-12], [])])[0]])[0];
  const w = b.param(scale, [C]);
  return b.node('Mul', [y, b.derive(`${scale}@[C,1,1]`, [C, 1, 1], [w], ([t]) => t.data)])[0];
}

/**
 * torchvision's SSDFeatureExtractorVGG (ssd300_vgg16's backbone, weights under `prefix`, e.g.
 * 'backbone.'): VGG16's features up to conv4_3 with pool3 in ceil mode, conv4_3's L2Norm
 * rescaled by `scale_weight`; then pool4, conv5_1 … conv5_3, pool5 as 3x3 stride 1, fc6 as a 3x3
 * conv dilated 6, fc7 as a 1x1 conv (`extra.0`), and four extra blocks (1x1 conv, 3x3 conv:
 * strided and padded in the first two, unpadded in the last two). Returns the six maps the head
 * reads (38, 19, 10, 5, 3, 1 at 300x300).
 */
export function ssdVgg16Features(b: GraphBuilder, x: string, prefix: string): string[] {
  const conv = (y: string, name: string, out: number, o: { kernel?: number; stride?: number; pad?: number; dilation?: number } = {}) =>
    b.relu(b.conv(y, `${prefix}${name}`, { out, kernel: o.kernel ?? 3, stride: o.stride ?? 1, pad: o.pad ?? 1, dilation: o.dilation }));
  // VGG16 'D' up to conv4_3: 'M' max pool 2x2, 'C' the same in ceil mode (pool3)
  const cfg: (number | 'M' | 'C')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'C', 512, 512, 512];
  let y = x;
  let i = 0;
  for (const v of cfg) {
    if (v === 'M' || v === 'C') {
      y = b.maxPool(y, { kernel: 2, stride: 2, ceilMode: v === 'C' });
      i += 1;
    } else {
      y = conv(y, `features.${i}`, v);
      i += 2; // conv, ReLU
    }
  }
  const maps = [l2NormScale(b, y, `${prefix}scale_weight`)];
  y = b.maxPool(y, { kernel: 2, stride: 2 });
  for (const j of [1, 3, 5]) y = conv(y, `extra.0.${j}`, 512);
  y = b.maxPool(y, { kernel: 3, stride: 1, pad: 1 });
  y = conv(y, 'extra.0.7.1', 1024, { pad: 6, dilation: 6 }); // fc6, atrous
  y = conv(y, 'extra.0.7.3', 1024, { kernel: 1, pad: 0 }); // fc7
  maps.push(y);
  // conv8_2 … conv11_2: [block, 1x1 channels, 3x3 channels, stride, pad]
  const extras: [number, number, number, number, number][] = [
    [1, 256, 512, 2, 1], // conv8_2
    [2, 128, 256, 2, 1], // conv9_2
    [3, 128, 256, 1, 0], // conv10_2
    [4, 128, 256, 1, 0], // conv11_2
  ];
  for (const [blk, mid, out, stride, pad] of extras) {
    y = conv(y, `extra.${blk}.0`, mid, { kernel: 1, pad: 0 });
    y = conv(y, `extra.${blk}.2`, out, { stride, pad });
    maps.push(y);
  }
  return maps;
}

/** Options of {@link ssdHead}. */
export interface SsdHeadOptions {
  /** Default boxes per location on each level (ssd300: 4, 6, 6, 6, 4, 4). */
  anchors: readonly number[];
  /** Classes, background included (default 91, COCO). */
  classes?: number;
}

/**
 * torchvision's SSDHead on `maps` (weights under `prefix`, e.g. 'head.'): one 3x3 conv per level
 * for the class logits and one for the box deltas, outputs laid out as {@link retinaNetHead}'s.
 */
export function ssdHead(b: GraphBuilder, maps: string[], prefix: string, o: SsdHeadOptions): DetectionHeadOutputs {
  if (o.anchors.length !== maps.length) throw new ValueError(`ssdHead: ${o.anchors.length} anchor counts for ${maps.length} maps`);
  const K = o.classes ?? 91;
  const branch = (p: string, k: number) =>
    b.concat(maps.map((x, l) => perAnchor(b, b.conv(x, `${p}.module_list.${l}`, { out: o.anchors[l] * k, kernel: 3, pad: 1 }), k)), 1);
  return { logits: branch(`${prefix}classification_head`, K), boxes: branch(`${prefix}regression_head`, 4) };
}

/**
 * nn.GroupNorm(groups, C) in eval form (Wu and He 2018), `${name}.weight` and `.bias`, from
 * kernels every plan has: per-channel spatial means (global average pool) averaged over each
 * group by a fixed grouped 1x1 convolution, the same for the centred squares, then (x − μ) / √(σ² + ε)
 * scaled and shifted per channel. No reshape, so it holds at every input size.
 */
export function groupNorm(b: GraphBuilder, x: string, name: string, groups = 32, eps = 1e-5): string {
  const C = b.shape(x)[1];
  if (C % groups !== 0) throw new ValueError(`groupNorm '${name}': ${C} channels do not split into ${groups} groups`);
  const g = C / groups;
  // a grouped 1x1 conv whose taps are all 1 / g: each channel gets its group's average
  const groupAvg = b.constant(new Float32Array(C * g).fill(1 / g), [C, g, 1, 1]);
  const mean = (t: string) => b.node('Conv', [b.globalAvgPool(t), groupAvg], { kernel_shape: [1, 1], group: groups })[0];
  const d = b.node('Sub', [x, mean(x)])[0];
  const std = b.node('Sqrt', [b.node('Add', [mean(b.mul(d, d)), b.constant([eps], [])])[0]])[0];
  const norm = b.node('Div', [d, std])[0];
  const zeros = b.constant(new Float32Array(C), [C]), ones = b.constant(new Float32Array(C).fill(1), [C]);
  // weight · x̂ + bias: a batch norm with mean 0, variance 1 and no epsilon
  return b.node('BatchNormalization', [norm, b.param(`${name}.weight`, [C]), b.param(`${name}.bias`, [C]), zeros, ones], { epsilon: 0 })[0];
}

/** Options of {@link fcosHead}. */
export interface FcosHeadOptions {
  /** Classes (default 91, COCO). */
  classes?: number;
  /** Groups of the towers' GroupNorm (default 32). */
  groups?: number;
}

/** The values an FCOS head adds: class logits, box distances and centerness per location. */
export interface FcosHeadOutputs extends DetectionHeadOutputs {
  /** Centerness logits [N, sum over levels of H*W, 1]. */
  ctrness: string;
}

/**
 * torchvision's FCOSHead on pyramid `levels` (weights under `prefix`, e.g. 'head.'), one anchor
 * per location: a classification and a regression tower (four 3x3 conv + GroupNorm + ReLU each,
 * shared by every level), `cls_logits`, ReLU'd `bbox_reg` distances and `bbox_ctrness`.
 */
export function fcosHead(b: GraphBuilder, levels: string[], prefix: string, o: FcosHeadOptions = {}): FcosHeadOutputs {
  const K = o.classes ?? 91;
  const groups = o.groups ?? 32;
  const tower = (x: string, p: string, l: number) => {
    const C = b.shape(x)[1];
    let y = x;
    for (let i = 0; i < 4; i++) {
      y = b.conv(y, `${p}.conv.${3 * i}`, { out: C, kernel: 3, pad: 1, node: `${p}.conv.${3 * i}@${l}` });
      y = b.relu(groupNorm(b, y, `${p}.conv.${3 * i + 1}`, groups));
    }
    return y;
  };
  const cls = `${prefix}classification_head`, reg = `${prefix}regression_head`;
  const logits: string[] = [], boxes: string[] = [], ctr: string[] = [];
  levels.forEach((x, l) => {
    logits.push(perAnchor(b, b.conv(tower(x, cls, l), `${cls}.cls_logits`, { out: K, kernel: 3, pad: 1, node: `${cls}.cls_logits@${l}` }), K));
    const t = tower(x, reg, l);
    boxes.push(perAnchor(b, b.relu(b.conv(t, `${reg}.bbox_reg`, { out: 4, kernel: 3, pad: 1, node: `${reg}.bbox_reg@${l}` })), 4));
    ctr.push(perAnchor(b, b.conv(t, `${reg}.bbox_ctrness`, { out: 1, kernel: 3, pad: 1, node: `${reg}.bbox_ctrness@${l}` }), 1));
  });
  const cat = (xs: string[]) => (xs.length === 1 ? xs[0] : b.concat(xs, 1));
  return { logits: cat(logits), boxes: cat(boxes), ctrness: cat(ctr) };
}

// ---------------------------------------------------------------------------------------------
// Detectors of the zoo: torchvision's transform in the network, then model.detect()

/**
 * torchvision's GeneralizedRCNNTransform for a fixed size, inside the network: (x - mean) / std,
 * then F.interpolate(size, mode='bilinear', align_corners=False) to the transform's [H, W].
 */
function fixedTransform(b: GraphBuilder, x: string, mean: readonly number[], std: readonly number[], H: number, W: number): string {
  const perChannel = (v: readonly number[]) => b.constant(v, v.length === 1 ? [] : [v.length, 1, 1]);
  const norm = b.node('Div', [b.node('Sub', [x, perChannel(mean)])[0], perChannel(std)])[0];
  // sizes of the spatial axes only: any batch, any image size in
  return b.node('Resize', [norm, '', '', b.ints([H, W])], { axes: [2, 3], mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' })[0];
}

/**
 * SSDLite320 with a MobileNet V3 Large backbone (torchvision `ssdlite320_mobilenet_v3_large`):
 * the input 'image' is [N, 3, H, W] RGB in [0, 1] at any size, resized inside to `inputSize`
 * (default 320, the transform's fixed size); outputs 'scores' (softmax over the classes,
 * background first) and 'deltas' per default box. `model.detect()` turns them into boxes.
 */
export function ssdlite320_mobilenet_v3_large(o: CreateModelOptions = {}): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 320);
  const x = b.input('image', [o.batch ?? 1, 3, H, W]);
  const maps = ssdliteFeatures(b, fixedTransform(b, x, [0.5], [0.5], H, W), 'backbone.');
  const head = ssdliteHead(b, maps, 'head.', { classes: o.numClasses ?? 91 });
  b.output(b.node('Softmax', [head.logits], { axis: -1 })[0], 'scores');
  b.output(head.boxes, 'deltas');
  return b;
}

/** torchvision's ssd300_vgg16 transform: image_mean, and image_std 1/255 (undoing to_tensor's scaling). */
const SSD300_MEAN = [0.48235, 0.45882, 0.40784];
const SSD300_STD = [1 / 255, 1 / 255, 1 / 255];
/** Default boxes per location of ssd300_vgg16's six levels (2 + 2 per extra aspect ratio). */
const SSD300_ANCHORS = [4, 6, 6, 6, 4, 4];

/**
 * SSD300 with a VGG16 backbone (torchvision `ssd300_vgg16`): the input 'image' is [N, 3, H, W]
 * RGB in [0, 1] at any size, normalised and resized inside to `inputSize` (default 300, the
 * transform's fixed size); outputs 'scores' (softmax over the classes, background first) and
 * 'deltas' per default box. `model.detect()` turns them into boxes.
 */
export function ssd300_vgg16(o: CreateModelOptions = {}): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 300);
  const x = b.input('image', [o.batch ?? 1, 3, H, W]);
  const maps = ssdVgg16Features(b, fixedTransform(b, x, SSD300_MEAN, SSD300_STD, H, W), 'backbone.');
  const head = ssdHead(b, maps, 'head.', { anchors: SSD300_ANCHORS, classes: o.numClasses ?? 91 });
  b.output(b.node('Softmax', [head.logits], { axis: -1 })[0], 'scores');
  b.output(head.boxes, 'deltas');
  return b;
}

/** torchvision's GeneralizedRCNNTransform defaults of RetinaNet, FCOS and Faster R-CNN. */
const RCNN_MEAN = [0.485, 0.456, 0.406];
const RCNN_STD = [0.229, 0.224, 0.225];

/**
 * min_size and max_size of a RetinaNet / FCOS transform from `inputSize`: a number is min_size
 * (max_size stays torchvision's 1333), a pair is [min_size, max_size]; default [800, 1333].
 */
function minMaxSize(o: CreateModelOptions): [number, number] {
  const s = o.inputSize;
  if (s === undefined || s === 'dynamic') return [800, 1333];
  return typeof s === 'number' ? [s, 1333] : [s[0], s[1]];
}

/** The padded batch's multiple (GeneralizedRCNNTransform's size_divisible). */
const SIZE_DIVISIBLE = 32;
const padded = (v: number) => Math.ceil(v / SIZE_DIVISIBLE) * SIZE_DIVISIBLE;

/**
 * The ResNet-50 FPN body of torchvision's RetinaNet and FCOS on the padded batch 'images': C3 …
 * C5 of `backbone.body`, the FPN with P6 and P7 from P5 (LastLevelP6P7(256, 256)). With
 * pretrained weights torchvision's body has FrozenBatchNorm2d (eps `bnEps`).
 */
function resnet50FpnP3P7(b: GraphBuilder, name: string, o: CreateModelOptions, bnEps: number): string[] {
  const [minSize, maxSize] = minMaxSize(o);
  if (minSize < SIZE_DIVISIBLE || maxSize < SIZE_DIVISIBLE)
    throw new ValueError(`${name}: option inputSize: min_size and max_size must be at least ${SIZE_DIVISIBLE} (the padded batch's multiple), got ${minSize} and ${maxSize}`);
  // built (and first planned) for the padded batch of an image of min_size x max_size (or a
  // square of inputSize); every other padded size is planned when it first comes
  const s = o.inputSize;
  const [h, w] = typeof s === 'number' ? [s, s] : [minSize, maxSize];
  const x = b.input('images', [o.batch ?? 1, 3, padded(h), padded(w)]);
  const [, c3, c4, c5] = resnetFeatures(b, x, 'resnet50', { prefix: 'backbone.body.' });
  for (const n of b.graph.nodes) if (n.op === 'BatchNormalization' && n.name.startsWith('backbone.body.')) n.attrs.epsilon = bnEps;
  return featurePyramid(b, [c3, c4, c5], 'backbone.fpn.', { extra: 'p6p7', p6FromP5: true });
}

/**
 * RetinaNet with a ResNet-50 FPN backbone (torchvision `retinanet_resnet50_fpn`, COCO_V1 weights:
 * the body's FrozenBatchNorm2d has eps 0, as torchvision's builder sets it for those weights).
 * The input 'images' is the transform's output: normalised, resized and zero-padded to multiples
 * of 32 (any such size and batch); `model.detect()` does that transform itself (min_size /
 * max_size from `inputSize`: a number is min_size, a pair [min_size, max_size]; default 800 /
 * 1333). Outputs 'cls_logits' [N, anchors, classes] and 'bbox_regression' [N, anchors, 4].
 */
export function retinanet_resnet50_fpn(o: CreateModelOptions = {}): GraphBuilder {
  const b = new GraphBuilder();
  const head = retinaNetHead(b, resnet50FpnP3P7(b, 'retinanet_resnet50_fpn', o, 0), 'head.', { classes: o.numClasses ?? 91 });
  b.output(head.logits, 'cls_logits');
  b.output(head.boxes, 'bbox_regression');
  return b;
}

/**
 * FCOS with a ResNet-50 FPN backbone (torchvision `fcos_resnet50_fpn`; FrozenBatchNorm2d eps
 * 1e-5 in the body). Input as {@link retinanet_resnet50_fpn}'s; outputs 'cls_logits' [N,
 * locations, classes], 'bbox_regression' [N, locations, 4] (distances, ReLU'd) and
 * 'bbox_ctrness' [N, locations, 1].
 */
export function fcos_resnet50_fpn(o: CreateModelOptions = {}): GraphBuilder {
  const b = new GraphBuilder();
  const head = fcosHead(b, resnet50FpnP3P7(b, 'fcos_resnet50_fpn', o, 1e-5), 'head.', { classes: o.numClasses ?? 91 });
  b.output(head.logits, 'cls_logits');
  b.output(head.boxes, 'bbox_regression');
  b.output(head.ctrness, 'bbox_ctrness');
  return b;
}

/** The dense detectors' transform settings for these options. */
function denseTransform(o: CreateModelOptions) {
  const [minSize, maxSize] = minMaxSize(o);
  return { minSize, maxSize, mean: RCNN_MEAN, std: RCNN_STD, sizeDivisible: SIZE_DIVISIBLE, firstLevel: 3 };
}

/**
 * An SSD zoo entry's post-processing spec: the transform's size (inputSize, default `size`), the
 * head levels' map sizes (the inputs of the nodes named by `level`), default boxes, torchvision's
 * thresholds and counts.
 */
function ssdDetector(
  size: number, level: RegExp, defaultBoxes: DefaultBoxOptions,
  defaults: Pick<SsdDetectorSpec, 'scoreThreshold' | 'iouThreshold' | 'topkCandidates' | 'maxDetections'>,
): (o: CreateModelOptions, b: GraphBuilder) => DetectorSpec {
  return (o, b) => {
    const [H, W] = inputHW(o, size);
    const levels = b.graph.nodes.filter((n) => level.test(n.name));
    return {
      kind: 'ssd',
      transformSize: [H, W],
      featureSizes: levels.map((n) => b.shape(n.inputs[0]).slice(2) as [number, number]),
      defaultBoxes,
      scores: 'scores',
      deltas: 'deltas',
      ...defaults,
      run: detectImages,
    };
  };
}

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const DETECTION: ZooFamily = {
  ssdlite320_mobilenet_v3_large: {
    build: ssdlite320_mobilenet_v3_large,
    // torchvision's ssdlite320 defaults; the head's six maps are the inputs of its per-level blocks
    detector: ssdDetector(320, /^head\.classification_head\.module_list\.\d+\.0\.0$/, SSDLITE320_DEFAULT_BOXES, {
      scoreThreshold: 0.001, iouThreshold: 0.55, topkCandidates: 300, maxDetections: 300,
    }),
  },
  // ssd300_vgg16, retinanet_resnet50_fpn, fcos_resnet50_fpn: torchvision 0.14's eval defaults
  ssd300_vgg16: {
    build: ssd300_vgg16,
    detector: ssdDetector(300, /^head\.classification_head\.module_list\.\d+$/, SSD300_DEFAULT_BOXES, {
      scoreThreshold: 0.01, iouThreshold: 0.45, topkCandidates: 400, maxDetections: 200,
    }),
  },
  retinanet_resnet50_fpn: {
    build: retinanet_resnet50_fpn,
    detector: (o) => ({
      kind: 'retinanet',
      ...denseTransform(o),
      // AnchorGenerator: sizes (x, ⌊x·2^(1/3)⌋, ⌊x·2^(2/3)⌋) for x = 32 … 512, ratios 0.5, 1, 2
      anchorSizes: [32, 64, 128, 256, 512].map((x) => [x, Math.trunc(x * 2 ** (1 / 3)), Math.trunc(x * 2 ** (2 / 3))]),
      aspectRatios: [0, 1, 2, 3, 4].map(() => [0.5, 1, 2]),
      logits: 'cls_logits',
      deltas: 'bbox_regression',
      scoreThreshold: 0.05,
      iouThreshold: 0.5,
      topkCandidates: 1000,
      maxDetections: 300,
      run: detectDense,
    }),
  },
  fcos_resnet50_fpn: {
    build: fcos_resnet50_fpn,
    detector: (o) => ({
      kind: 'fcos',
      ...denseTransform(o),
      // one anchor per location, its size the level's stride
      anchorSizes: [[8], [16], [32], [64], [128]],
      aspectRatios: [0, 1, 2, 3, 4].map(() => [1]),
      logits: 'cls_logits',
      deltas: 'bbox_regression',
      ctrness: 'bbox_ctrness',
      scoreThreshold: 0.2,
      iouThreshold: 0.6,
      topkCandidates: 1000,
      maxDetections: 100,
      run: detectDense,
    }),
  },
};
