// Semantic segmentation: dense per-pixel logits [N, classes, H, W].
//   FCN (Long, Shelhamer & Darrell 2015, "Fully Convolutional Networks for Semantic
//       Segmentation") — torchvision 0.14 `fcn_resnet50`: dilated ResNet-50 (output stride 8),
//       FCNHead (3x3 conv to C/4 + BN + ReLU, 1x1 conv to classes).
//   DeepLabV3 (Chen, Papandreou, Schroff & Adam 2017, "Rethinking Atrous Convolution for
//       Semantic Image Segmentation") — torchvision 0.14 `deeplabv3_resnet50` (dilated ResNet-50,
//       output stride 8) and `deeplabv3_mobilenet_v3_large` (dilated MobileNet V3 Large, output
//       stride 16): ASPP (1x1, three 3x3 atrous convs at rates 12/24/36, image pooling), 1x1
//       projection, 3x3 conv + BN + ReLU, 1x1 conv to classes.
//   LR-ASPP (Howard et al. 2019, "Searching for MobileNetV3") — torchvision 0.14
//       `lraspp_mobilenet_v3_large`: 1x1 conv + BN + ReLU on the stride-16 features gated by a
//       pooled sigmoid branch, upsampled to the stride-8 features, plus a classifier on those.
//   Every torchvision head ends with a bilinear resize to the input size (align_corners=False,
//   ONNX Resize linear / half_pixel). num_classes 21 (Pascal VOC), no auxiliary classifier
//   (aux_loss off); weight names are torchvision's state_dict keys (backbone.*, classifier.*).
//   `training: true` adds the heads' Dropout (FCNHead 0.1, ASPP projection 0.5).
//   SegNet (Badrinarayanan, Kendall & Cipolla 2017, "SegNet: A Deep Convolutional
//       Encoder-Decoder Architecture for Image Segmentation") and U-Net (Ronneberger, Fischer &
//       Brox 2015, "U-Net: Convolutional Networks for Biomedical Image Segmentation"): the
//       reference modules are tools/zoo/segmentation.py's SegNet and UNet (names documented
//       there and at the builders below).
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import { convBnAct, dropout } from './blocks/common';
import { mobilenetV3Features } from './mobilenet';
import { type CreateModelOptions, inputHW, type ZooFamily } from './registry';
import { resnetFeatures } from './resnet';

function start(o: CreateModelOptions, native: number): { b: GraphBuilder; x: string; H: number; W: number } {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, native);
  return { b, x: b.input('input', [o.batch ?? 1, 3, H, W]), H, W };
}

/** F.interpolate(x, size=(H, W), mode='bilinear', align_corners=False). */
function bilinear(b: GraphBuilder, x: string, H: number, W: number): string {
  const [N, C] = b.shape(x);
  return b.node('Resize', [x, '', '', b.ints([N, C, H, W])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' })[0];
}

/** The head's logits resized to the input and marked as the output 'out'. */
function finish(b: GraphBuilder, logits: string, H: number, W: number): GraphBuilder {
  b.output(bilinear(b, logits, H, W), 'out');
  return b;
}

// ---------------------------------------------------------------------------------------------
// Heads (torchvision names under `classifier`)

/** FCNHead: 3x3 conv to in/4 + BN + ReLU (dropout), 1x1 conv with bias to classes. */
function fcnHead(b: GraphBuilder, x: string, p: string, classes: number, training?: boolean): string {
  const inter = b.shape(x)[1] / 4;
  const y = convBnAct(b, x, { conv: `${p}.0`, bn: `${p}.1` }, { out: inter, kernel: 3, pad: 1 });
  return b.conv(dropout(b, y, 0.1, training), `${p}.4`, { out: classes, kernel: 1 }); // `${p}.3`: Dropout(0.1)
}

/** ASPP branches: [kind, dilation] in the order of `convs.<i>` (all 256 channels). */
const ASPP_BRANCHES: ['1x1' | 'atrous' | 'pool', number][] = [
  ['1x1', 1], //     convs.0: 1x1 conv + BN + ReLU
  ['atrous', 12], // convs.1: 3x3 conv, dilation 12 + BN + ReLU
  ['atrous', 24], // convs.2: dilation 24
  ['atrous', 36], // convs.3: dilation 36
  ['pool', 1], //    convs.4: global average pool, 1x1 conv + BN + ReLU, bilinear back to the map size
];

/** ASPP: the branches concatenated, 1x1 projection to 256 + BN + ReLU (dropout). */
function aspp(b: GraphBuilder, x: string, p: string, training: boolean | undefined, out = 256): string {
  const [, , h, w] = b.shape(x);
  const branches = ASPP_BRANCHES.map(([kind, d], i) => {
    const n = { conv: `${p}.convs.${i}.0`, bn: `${p}.convs.${i}.1` };
    if (kind === '1x1') return convBnAct(b, x, n, { out, kernel: 1 });
    if (kind === 'atrous') return convBnAct(b, x, n, { out, kernel: 3, pad: d, dilation: d });
    // ASPPPooling names its modules 0 pool, 1 conv, 2 BN, 3 ReLU
    const pooled = convBnAct(b, b.globalAvgPool(x), { conv: `${p}.convs.${i}.1`, bn: `${p}.convs.${i}.2` }, { out, kernel: 1 });
    return bilinear(b, pooled, h, w);
  });
  const y = convBnAct(b, b.concat(branches), { conv: `${p}.project.0`, bn: `${p}.project.1` }, { out, kernel: 1 });
  return dropout(b, y, 0.5, training); // project.3: Dropout(0.5)
}

/** DeepLabHead: ASPP, 3x3 conv 256 + BN + ReLU, 1x1 conv with bias to classes. */
function deepLabHead(b: GraphBuilder, x: string, p: string, classes: number, training?: boolean): string {
  let y = aspp(b, x, `${p}.0`, training);
  y = convBnAct(b, y, { conv: `${p}.1`, bn: `${p}.2` }, { out: 256, kernel: 3, pad: 1 });
  return b.conv(y, `${p}.4`, { out: classes, kernel: 1 });
}

/**
 * LRASPPHead: cbr = 1x1 conv 128 + BN + ReLU on the high features, times scale = sigmoid(1x1
 * conv of their global average) (no BN), resized to the low features, high_classifier on that
 * plus low_classifier on the low features.
 */
function lrasppHead(b: GraphBuilder, low: string, high: string, p: string, classes: number, inter = 128): string {
  const [, , lh, lw] = b.shape(low);
  const x = convBnAct(b, high, { conv: `${p}.cbr.0`, bn: `${p}.cbr.1` }, { out: inter, kernel: 1 });
  const s = b.act('Sigmoid', b.conv(b.globalAvgPool(high), `${p}.scale.1`, { out: inter, kernel: 1, bias: false }));
  const up = bilinear(b, b.mul(x, s), lh, lw);
  return b.add(b.conv(low, `${p}.low_classifier`, { out: classes, kernel: 1 }), b.conv(up, `${p}.high_classifier`, { out: classes, kernel: 1 }));
}

// ---------------------------------------------------------------------------------------------
// torchvision models

/** Dilated ResNet-50 (layer3 and layer4 keep stride 8, dilations 2 and 4): `backbone.*`. */
function resnet50OS8(b: GraphBuilder, x: string): string {
  return resnetFeatures(b, x, 'resnet50', { prefix: 'backbone.', replaceStrideWithDilation: [false, true, true] })[3];
}

/** MobileNet V3 Large with the dilated last stage (output stride 16): every `backbone.<i>` output. */
function mobilenetV3LargeOS16(b: GraphBuilder, x: string): string[] {
  return mobilenetV3Features(b, x, 'large', { prefix: 'backbone', dilated: true });
}

// torchvision's IntermediateLayerGetter taps of the dilated MobileNet V3 Large features:
// C2 (backbone.4, 40 channels, stride 8) and the last 1x1 conv (backbone.16, 960, stride 16).
const MNV3_LOW = 4;
const MNV3_HIGH = 16;

/** FCN-ResNet50 (torchvision `fcn_resnet50`, 21 classes, no aux head): output 'out' [N, classes, H, W]. */
export function fcn_resnet50(o: CreateModelOptions = {}): GraphBuilder {
  const { b, x, H, W } = start(o, 520);
  return finish(b, fcnHead(b, resnet50OS8(b, x), 'classifier', o.numClasses ?? 21, o.training), H, W);
}

/** DeepLabV3-ResNet50 (torchvision `deeplabv3_resnet50`, 21 classes, no aux head). */
export function deeplabv3_resnet50(o: CreateModelOptions = {}): GraphBuilder {
  const { b, x, H, W } = start(o, 520);
  return finish(b, deepLabHead(b, resnet50OS8(b, x), 'classifier', o.numClasses ?? 21, o.training), H, W);
}

/** DeepLabV3-MobileNetV3-Large (torchvision `deeplabv3_mobilenet_v3_large`, 21 classes, no aux head). */
export function deeplabv3_mobilenet_v3_large(o: CreateModelOptions = {}): GraphBuilder {
  const { b, x, H, W } = start(o, 520);
  const feats = mobilenetV3LargeOS16(b, x);
  return finish(b, deepLabHead(b, feats[MNV3_HIGH], 'classifier', o.numClasses ?? 21, o.training), H, W);
}

/** LR-ASPP-MobileNetV3-Large (torchvision `lraspp_mobilenet_v3_large`, 21 classes). */
export function lraspp_mobilenet_v3_large(o: CreateModelOptions = {}): GraphBuilder {
  const { b, x, H, W } = start(o, 520);
  const feats = mobilenetV3LargeOS16(b, x);
  return finish(b, lrasppHead(b, feats[MNV3_LOW], feats[MNV3_HIGH], 'classifier', o.numClasses ?? 21), H, W);
}

// ---------------------------------------------------------------------------------------------
// SegNet (reference: tools/zoo/segmentation.py SegNet)

/** Encoder stages (VGG16-BN), channels of each 3x3 conv + BN + ReLU; a 2x2/2 max pool with indices ends each. */
const SEGNET_ENCODER: number[][] = [
  [64, 64], //        encoder.0: H/2 after its pool
  [128, 128], //      encoder.1: H/4
  [256, 256, 256], // encoder.2: H/8
  [512, 512, 512], // encoder.3: H/16
  [512, 512, 512], // encoder.4: H/32
];

/** Decoder stages: unpool with the mirrored encoder stage's indices, then these convs + BN + ReLU. */
const SEGNET_DECODER: number[][] = [
  [512, 512, 512], // decoder.0: H/16 (indices of encoder.4)
  [512, 512, 256], // decoder.1: H/8  (encoder.3)
  [256, 256, 128], // decoder.2: H/4  (encoder.2)
  [128, 64], //       decoder.3: H/2  (encoder.1)
  [64], //            decoder.4: H    (encoder.0)
];

function checkMultiple(model: string, H: number, W: number, m: number): void {
  if (H % m !== 0 || W % m !== 0) throw new ValueError(`${model}: option inputSize: height and width must be multiples of ${m}, got ${H}x${W}`);
}

/** Flat float32 pooling indices are exact below 2^24 elements (the engine's MaxPool limit). */
const EXACT_INDICES = 1 << 24;

/**
 * 2x2/2 max pool keeping the argmax indices, and the matching unpool. ONNX indices are flat over
 * the whole NCHW tensor, so a tensor of 2^24 or more elements is pooled in channel groups
 * (Split, one MaxPool per group, Concat; the unpool splits alike) to keep every index exact.
 */
function poolWithIndices(b: GraphBuilder, x: string): { y: string; unpool: (z: string) => string } {
  const [N, C, H, W] = b.shape(x);
  let groups = 1;
  while (groups < C && (C % groups !== 0 || N * (C / groups) * H * W >= EXACT_INDICES)) groups++;
  const attrs = { kernel_shape: [2, 2], strides: [2, 2] };
  const split = (v: string) =>
    groups === 1 ? [v] : b.node('Split', [v, b.ints(Array(groups).fill(C / groups))], { axis: 1 }, groups);
  const pooled = split(x).map((part) => b.node('MaxPool', [part], attrs, 2));
  const join = (vs: string[]) => (vs.length === 1 ? vs[0] : b.concat(vs));
  return {
    y: join(pooled.map(([y]) => y)),
    unpool: (z) => join(split(z).map((part, i) => b.node('MaxUnpool', [part, pooled[i][1]], attrs)[0])),
  };
}

function convStack(b: GraphBuilder, x: string, p: string, channels: number[]): string {
  channels.forEach((c, j) => (x = convBnAct(b, x, { conv: `${p}.${j}.0`, bn: `${p}.${j}.1` }, { out: c, kernel: 3, pad: 1, bias: true })));
  return x;
}

/**
 * SegNet with a VGG16-BN encoder (convs with bias, as VGG16-BN, so its features.* weights map
 * onto encoder.<s>.<j>.{0,1}); each 2x2/2 max pool keeps its argmax indices (ONNX MaxPool's
 * second output) and the mirrored decoder stage unpools with them (MaxUnpool) before its
 * conv-BN-ReLU stack; `classifier` is a 3x3 conv with bias to the classes (21 by default,
 * Pascal VOC). Input sides must be multiples of 32; native size 224.
 * Output 'out' [N, classes, H, W].
 */
export function segnet(o: CreateModelOptions = {}): GraphBuilder {
  const { b, x: input, H, W } = start(o, 224);
  checkMultiple('segnet', H, W, 32);
  let x = input;
  const unpools: ((z: string) => string)[] = [];
  SEGNET_ENCODER.forEach((stage, s) => {
    const p = poolWithIndices(b, convStack(b, x, `encoder.${s}`, stage));
    x = p.y;
    unpools.push(p.unpool);
  });
  SEGNET_DECODER.forEach((stage, s) => {
    x = convStack(b, unpools[unpools.length - 1 - s](x), `decoder.${s}`, stage);
  });
  b.output(b.conv(x, 'classifier', { out: o.numClasses ?? 21, kernel: 3, pad: 1 }), 'out');
  return b;
}

// ---------------------------------------------------------------------------------------------
// U-Net (reference: tools/zoo/segmentation.py UNet)

/** Encoder widths at base 64; the bottleneck doubles the last. */
const UNET_WIDTHS = [
  64, //  encoder.0: H
  128, // encoder.1: H/2 (after a 2x2 max pool)
  256, // encoder.2: H/4
  512, // encoder.3: H/8
]; //     bottleneck: 1024 at H/16

/** Two 3x3 convs (no bias) + BN + ReLU: `${p}.0`/`${p}.1` and `${p}.3`/`${p}.4`. */
function doubleConv(b: GraphBuilder, x: string, p: string, out: number): string {
  x = convBnAct(b, x, { conv: `${p}.0`, bn: `${p}.1` }, { out, kernel: 3, pad: 1 });
  return convBnAct(b, x, { conv: `${p}.3`, bn: `${p}.4` }, { out, kernel: 3, pad: 1 });
}

/** ConvTranspose2d(C, out, 2, stride 2) with bias: `${p}.weight` [C, out, 2, 2], `${p}.bias`. */
function upConv(b: GraphBuilder, x: string, p: string, out: number): string {
  const C = b.shape(x)[1];
  const w = b.param(`${p}.weight`, [C, out, 2, 2]);
  const bias = b.param(`${p}.bias`, [out]);
  return b.node('ConvTranspose', [x, w, bias], { kernel_shape: [2, 2], strides: [2, 2] }, 1, p)[0];
}

/**
 * U-Net, the common padded form (3x3 convs with padding 1 and BN, so skip and up-sampled maps
 * have equal sizes): double-conv blocks `encoder.0-3` (64-512) with 2x2 max pools between,
 * `bottleneck` (1024), then four up-steps: `upconvs.<i>` (2x2 stride-2 transposed conv halving
 * the channels), concat [skip, up], `decoder.<i>` double conv; `classifier` 1x1 conv to the
 * classes (2 by default, the paper's foreground / background). Input sides must be multiples
 * of 16; native size 256. Output 'out' [N, classes, H, W].
 */
export function unet(o: CreateModelOptions = {}): GraphBuilder {
  const { b, x: input, H, W } = start(o, 256);
  checkMultiple('unet', H, W, 16);
  let x = input;
  const skips: string[] = [];
  UNET_WIDTHS.forEach((c, i) => {
    if (i > 0) x = b.maxPool(x, { kernel: 2, stride: 2 });
    x = doubleConv(b, x, `encoder.${i}`, c);
    skips.push(x);
  });
  x = doubleConv(b, b.maxPool(x, { kernel: 2, stride: 2 }), 'bottleneck', 2 * UNET_WIDTHS[UNET_WIDTHS.length - 1]);
  [...UNET_WIDTHS].reverse().forEach((c, i) => {
    const up = upConv(b, x, `upconvs.${i}`, c);
    x = doubleConv(b, b.concat([skips[skips.length - 1 - i], up]), `decoder.${i}`, c);
  });
  b.output(b.conv(x, 'classifier', { out: o.numClasses ?? 2, kernel: 1 }), 'out');
  return b;
}

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const SEGMENTATION: ZooFamily = {
  fcn_resnet50: { build: fcn_resnet50 },
  deeplabv3_resnet50: { build: deeplabv3_resnet50 },
  deeplabv3_mobilenet_v3_large: { build: deeplabv3_mobilenet_v3_large },
  lraspp_mobilenet_v3_large: { build: lraspp_mobilenet_v3_large },
  segnet: { build: segnet },
  unet: { build: unet },
};
