// Each zoo model's evaluation preprocessing: how an image becomes the input tensor the reference
// weights expect. Values are the references' own eval transforms:
//   torchvision 0.14: `torchvision.models.get_model_weights(name).DEFAULT.transforms()`
//     (ImageClassification: Resize(resize_size) -> CenterCrop(crop_size) -> Normalize(mean, std);
//     SemanticSegmentation: Resize(520), no crop), read with /usr/bin/python3 on 2026-12-03.
//   timm 1.0.29: the default (first) pretrained tag's pretrained_cfg; timm's eval transform is
//     Resize(floor(input_size / crop_pct)) -> CenterCrop(input_size) (crop_mode 'center'; 'squash'
//     resizes both sides to that size), so size = floor(input / crop_pct) and crop = input below.
//   tools/zoo_preprocessing.py reads both libraries' transform objects into
//     test/fixtures/zoo-preprocessing.json, which test/zoo-options.test.ts checks this table against.
//   LeNet-5: tools/train_lenet5.py / tools/mnist_data.py: a 28x28 MNIST digit (white on black,
//     values in [0, 1]) zero-padded by 2 to 32x32, no mean/std normalisation. As torchvision's
//     CenterCrop does, a crop larger than the image pads it with zeros, so size 28 -> crop 32 is
//     exactly that padding.
// Field names match fromImage()'s options (src/image), which takes an entry as it is (it ignores
// labels and reference).
import type { LabelSetName } from '../src/labels/index';

/** Resampling filter of the resize step. */
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic';


/** How an image is prepared for a model (the reference weights' eval transform). */
export interface Preprocessing {
  /**
   * Resize: a number scales the shorter side to it (aspect kept); [H, W] resizes to exactly that.
   * Absent for models that take the image at its own size (detectors, whose transform is inside
   * the network).
   */
  size?: number | [number, number];
  /** Center crop after the resize ([H, W] or square); absent for models that take the whole resized image. */
  crop?: number | [number, number];
  /** Per-channel mean subtracted from pixel values scaled to [0, 1]. */
  mean: number[];
  /** Per-channel standard deviation the centred values are divided by. */
  std: number[];
  /** Input channels: 3 (RGB) or 1 (grey). */
  channels: 1 | 3;
  /** Resize filter (antialiased when downscaling, as torchvision's tensors with antialias=True). */
  interpolation: Interpolation;
  /** Names of the output classes, where the reference weights have a standard label set. */
  labels?: LabelSetName;
  /** Where these values come from (weights tag). */
  reference: string;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const INCEPTION_MEAN = [0.5, 0.5, 0.5];
const INCEPTION_STD = [0.5, 0.5, 0.5];

/** A torchvision ImageNet classifier's ImageClassification transform. */
const tv = (size: number, crop: number, tag: string, interpolation: Interpolation = 'bilinear', mean = IMAGENET_MEAN, std = IMAGENET_STD): Preprocessing => ({
  size, crop, mean, std, channels: 3, interpolation, labels: 'imagenet', reference: `torchvision 0.14 ${tag}`,
});

/** A timm ImageNet classifier: input size and crop_pct of its pretrained_cfg. */
const timm = (input: number, cropPct: number, tag: string, interpolation: Interpolation, mean = IMAGENET_MEAN, std = IMAGENET_STD): Preprocessing => ({
  size: Math.floor(input / cropPct), crop: input, mean, std, channels: 3, interpolation, labels: 'imagenet', reference: `timm 1.0.29 ${tag}`,
});

/** torchvision's segmentation weights (COCO_WITH_VOC_LABELS_V1): Resize(520), 21 VOC classes. */
const tvSeg = (name: string): Preprocessing => ({
  size: 520, mean: IMAGENET_MEAN, std: IMAGENET_STD, channels: 3, interpolation: 'bilinear', labels: 'voc',
  reference: `torchvision 0.14 ${name} COCO_WITH_VOC_LABELS_V1`,
});

/**
 * A super-resolution model on the Y of YCbCr (ITU-R BT.601 as MATLAB's rgb2ycbcr, which both
 * papers evaluate with: Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255 for R, G, B in [0, 1]):
 * fromImage's grey (0.2989 R + 0.587 G + 0.114 B) scaled by 219/255 and offset by 16/255 is
 * (grey − mean) / std with mean = −16/219, std = 255/219 (grey's 0.2989 against BT.601's 0.299
 * moves Y by at most 1e-4). The image is taken at the model's planned size; `upscale` (src/image)
 * does the whole round trip, colour included, on the image as it is.
 */
const srY = (name: string): Preprocessing => ({
  size: [256, 256], mean: [-16 / 219], std: [255 / 219], channels: 1, interpolation: 'bicubic',
  reference: `${name} (Y of BT.601 YCbCr at the native 256x256 low-resolution size); no pretrained weights (tools/zoo/superres.py)`,
});

const V1 = 'IMAGENET1K_V1';
const V2 = 'IMAGENET1K_V2';

/** Every zoo model's preprocessing, by createModel() name. */
/** A Faster R-CNN's input: RGB in [0, 1] at any size (its transform runs in model.detect()). */
/**
 * torchvision's detectors take RGB in [0, 1] at any size; `where` their normalisation and resize
 * run: inside the network (SSD) or on the host in model.detect() (RetinaNet, FCOS, Faster R-CNN).
 */
function detectorInput(weights: string, where = 'transform in model.detect()'): Preprocessing {
  return {
    mean: [0, 0, 0], std: [1, 1, 1], channels: 3, interpolation: 'bilinear', labels: 'coco',
    reference: `torchvision 0.14 ${weights}.COCO_V1 (${where})`,
  };
}

export const PREPROCESSING: Readonly<Record<string, Preprocessing>> = {
  lenet5: {
    size: 28, crop: 32, mean: [0], std: [1], channels: 1, interpolation: 'bilinear', labels: 'mnist',
    reference: 'tools/train_lenet5.py: 28x28 MNIST digit, white on black, in [0, 1], zero-padded by 2',
  },
  lenet5_classic: {
    size: 28, crop: 32, mean: [0], std: [1], channels: 1, interpolation: 'bilinear', labels: 'mnist',
    reference: 'LeCun et al. 1998, section III.A: 28x28 MNIST digit centred in a 32x32 field (here in [0, 1], zero-padded by 2)',
  },
  // ResNet family (torchvision DEFAULT weights; timm for the SE/ECA variants)
  resnet18: tv(256, 224, `resnet18 ${V1}`),
  resnet34: tv(256, 224, `resnet34 ${V1}`),
  resnet50: tv(232, 224, `resnet50 ${V2}`),
  resnet101: tv(232, 224, `resnet101 ${V2}`),
  resnet152: tv(232, 224, `resnet152 ${V2}`),
  resnext50_32x4d: tv(232, 224, `resnext50_32x4d ${V2}`),
  wide_resnet50_2: tv(232, 224, `wide_resnet50_2 ${V2}`),
  seresnet50: timm(224, 0.95, 'seresnet50.a1_in1k', 'bicubic'),
  ecaresnet50d: timm(224, 0.875, 'ecaresnet50d.miil_in1k', 'bicubic'),
  // VGG, AlexNet, GoogLeNet, DenseNet
  vgg11: tv(256, 224, `vgg11 ${V1}`),
  vgg11_bn: tv(256, 224, `vgg11_bn ${V1}`),
  vgg13: tv(256, 224, `vgg13 ${V1}`),
  vgg13_bn: tv(256, 224, `vgg13_bn ${V1}`),
  vgg16: tv(256, 224, `vgg16 ${V1}`),
  vgg16_bn: tv(256, 224, `vgg16_bn ${V1}`),
  vgg19: tv(256, 224, `vgg19 ${V1}`),
  vgg19_bn: tv(256, 224, `vgg19_bn ${V1}`),
  alexnet: tv(256, 224, `alexnet ${V1}`),
  alexnet_lrn: {
    ...tv(256, 227, 'alexnet'),
    reference: 'Krizhevsky et al. 2012 (256x256 images, 227 crop as in the one-tower network); ImageNet mean/std; no pretrained weights',
  },
  googlenet: tv(256, 224, `googlenet ${V1}`),
  densenet121: tv(256, 224, `densenet121 ${V1}`),
  densenet161: tv(256, 224, `densenet161 ${V1}`),
  densenet169: tv(256, 224, `densenet169 ${V1}`),
  densenet201: tv(256, 224, `densenet201 ${V1}`),
  // RepVGG (timm byobnet, *.rvgg_in1k: the default _cfg)
  repvgg_a0: timm(224, 0.875, 'repvgg_a0.rvgg_in1k', 'bilinear'),
  repvgg_a1: timm(224, 0.875, 'repvgg_a1.rvgg_in1k', 'bilinear'),
  repvgg_a2: timm(224, 0.875, 'repvgg_a2.rvgg_in1k', 'bilinear'),
  repvgg_b0: timm(224, 0.875, 'repvgg_b0.rvgg_in1k', 'bilinear'),
  repvgg_b1: timm(224, 0.875, 'repvgg_b1.rvgg_in1k', 'bilinear'),
  repvgg_b1g4: timm(224, 0.875, 'repvgg_b1g4.rvgg_in1k', 'bilinear'),
  repvgg_b2: timm(224, 0.875, 'repvgg_b2.rvgg_in1k', 'bilinear'),
  repvgg_b2g4: timm(224, 0.875, 'repvgg_b2g4.rvgg_in1k', 'bilinear'),
  repvgg_b3: timm(224, 0.875, 'repvgg_b3.rvgg_in1k', 'bilinear'),
  repvgg_b3g4: timm(224, 0.875, 'repvgg_b3g4.rvgg_in1k', 'bilinear'),
  // MobileNets
  mobilenetv1_100: timm(224, 0.875, 'mobilenetv1_100.ra4_e3600_r224_in1k', 'bicubic', INCEPTION_MEAN, INCEPTION_STD),
  mobilenet_v2: tv(232, 224, `mobilenet_v2 ${V2}`),
  mobilenet_v3_large: tv(232, 224, `mobilenet_v3_large ${V2}`),
  mobilenet_v3_small: tv(256, 224, `mobilenet_v3_small ${V1}`),
  mobilenetv4_conv_small: timm(224, 0.875, 'mobilenetv4_conv_small.e2400_r224_in1k', 'bicubic'),
  mobilenetv4_conv_medium: timm(256, 0.95, 'mobilenetv4_conv_medium.e500_r256_in1k', 'bicubic'),
  mobilenetv4_conv_large: timm(384, 0.95, 'mobilenetv4_conv_large.e600_r384_in1k', 'bicubic'),
  mobilenetv4_hybrid_medium: timm(256, 0.95, 'mobilenetv4_hybrid_medium.e200_r256_in12k_ft_in1k', 'bicubic'),
  mobilenetv4_hybrid_large: timm(384, 0.95, 'mobilenetv4_hybrid_large.ix_e600_r384_in1k', 'bicubic'),
  // EfficientNet (torchvision V1/V2; timm's TF-ported V2 B series)
  efficientnet_b0: tv(256, 224, `efficientnet_b0 ${V1}`, 'bicubic'),
  efficientnet_b1: tv(255, 240, `efficientnet_b1 ${V2}`, 'bilinear'),
  efficientnet_b2: tv(288, 288, `efficientnet_b2 ${V1}`, 'bicubic'),
  efficientnet_b3: tv(320, 300, `efficientnet_b3 ${V1}`, 'bicubic'),
  efficientnet_b4: tv(384, 380, `efficientnet_b4 ${V1}`, 'bicubic'),
  efficientnet_b5: tv(456, 456, `efficientnet_b5 ${V1}`, 'bicubic'),
  efficientnet_b6: tv(528, 528, `efficientnet_b6 ${V1}`, 'bicubic'),
  efficientnet_b7: tv(600, 600, `efficientnet_b7 ${V1}`, 'bicubic'),
  efficientnet_v2_s: tv(384, 384, `efficientnet_v2_s ${V1}`, 'bilinear'),
  efficientnet_v2_m: tv(480, 480, `efficientnet_v2_m ${V1}`, 'bilinear'),
  efficientnet_v2_l: tv(480, 480, `efficientnet_v2_l ${V1}`, 'bicubic', INCEPTION_MEAN, INCEPTION_STD),
  tf_efficientnetv2_b0: timm(192, 0.875, 'tf_efficientnetv2_b0.in1k', 'bicubic'),
  tf_efficientnetv2_b1: timm(192, 0.882, 'tf_efficientnetv2_b1.in1k', 'bicubic'),
  tf_efficientnetv2_b2: timm(208, 0.89, 'tf_efficientnetv2_b2.in1k', 'bicubic'),
  // the default tag of b3 is the ImageNet-21k fine-tune: crop_mode 'squash' (both sides to 266), Inception mean/std
  tf_efficientnetv2_b3: {
    ...timm(240, 0.9, 'tf_efficientnetv2_b3.in21k_ft_in1k (crop_mode squash)', 'bicubic', INCEPTION_MEAN, INCEPTION_STD),
    size: [266, 266],
  },
  // ConvNeXt
  convnext_tiny: tv(236, 224, `convnext_tiny ${V1}`),
  convnext_small: tv(230, 224, `convnext_small ${V1}`),
  convnext_base: tv(232, 224, `convnext_base ${V1}`),
  convnext_large: tv(232, 224, `convnext_large ${V1}`),
  convnext_xlarge: timm(224, 0.875, 'convnext_xlarge.fb_in22k_ft_in1k', 'bicubic'),
  // ShuffleNet (V1 has no library weights: the common ImageNet transform)
  shufflenet_v1_g1: { ...tv(256, 224, ''), reference: 'ImageNet Resize(256) -> CenterCrop(224); no pretrained weights (tools/zoo/shufflenet.py)' },
  shufflenet_v1_g2: { ...tv(256, 224, ''), reference: 'ImageNet Resize(256) -> CenterCrop(224); no pretrained weights (tools/zoo/shufflenet.py)' },
  shufflenet_v1_g3: { ...tv(256, 224, ''), reference: 'ImageNet Resize(256) -> CenterCrop(224); no pretrained weights (tools/zoo/shufflenet.py)' },
  shufflenet_v1_g4: { ...tv(256, 224, ''), reference: 'ImageNet Resize(256) -> CenterCrop(224); no pretrained weights (tools/zoo/shufflenet.py)' },
  shufflenet_v1_g8: { ...tv(256, 224, ''), reference: 'ImageNet Resize(256) -> CenterCrop(224); no pretrained weights (tools/zoo/shufflenet.py)' },
  shufflenet_v2_x0_5: tv(256, 224, `shufflenet_v2_x0_5 ${V1}`),
  shufflenet_v2_x1_0: tv(256, 224, `shufflenet_v2_x1_0 ${V1}`),
  shufflenet_v2_x1_5: tv(232, 224, `shufflenet_v2_x1_5 ${V1}`),
  shufflenet_v2_x2_0: tv(232, 224, `shufflenet_v2_x2_0 ${V1}`),
  // GhostNet (timm ghostnet: the default _cfg, bicubic in timm 1.0.29)
  ghostnet_050: timm(224, 0.875, 'ghostnet_050 (no pretrained weights; the family _cfg)', 'bicubic'),
  ghostnet_100: timm(224, 0.875, 'ghostnet_100.in1k', 'bicubic'),
  ghostnet_130: timm(224, 0.875, 'ghostnet_130 (no pretrained weights; the family _cfg)', 'bicubic'),
  // Segmentation
  fcn_resnet50: tvSeg('fcn_resnet50'),
  deeplabv3_resnet50: tvSeg('deeplabv3_resnet50'),
  deeplabv3_mobilenet_v3_large: tvSeg('deeplabv3_mobilenet_v3_large'),
  lraspp_mobilenet_v3_large: tvSeg('lraspp_mobilenet_v3_large'),
  segnet: {
    size: [224, 224], mean: IMAGENET_MEAN, std: IMAGENET_STD, channels: 3, interpolation: 'bilinear', labels: 'voc',
    reference: 'tools/zoo/segmentation.py SegNet (21 VOC classes); no pretrained weights: native 224x224, ImageNet mean/std',
  },
  unet: {
    size: [256, 256], mean: IMAGENET_MEAN, std: IMAGENET_STD, channels: 3, interpolation: 'bilinear',
    reference: 'tools/zoo/segmentation.py UNet (2 classes); no pretrained weights: native 256x256, ImageNet mean/std',
  },
  // Super-resolution
  espcn: srY('espcn'),
  fsrcnn: srY('fsrcnn'),
  // Detection
  ssdlite320_mobilenet_v3_large: detectorInput('SSDLite320_MobileNet_V3_Large_Weights', 'transform inside the network'),
  ssd300_vgg16: detectorInput('SSD300_VGG16_Weights', 'transform inside the network'),
  retinanet_resnet50_fpn: detectorInput('RetinaNet_ResNet50_FPN_Weights'),
  fcos_resnet50_fpn: detectorInput('FCOS_ResNet50_FPN_Weights'),
  fasterrcnn_resnet50_fpn: detectorInput('FasterRCNN_ResNet50_FPN_Weights'),
  fasterrcnn_mobilenet_v3_large_fpn: detectorInput('FasterRCNN_MobileNet_V3_Large_FPN_Weights'),
  fasterrcnn_mobilenet_v3_large_320_fpn: detectorInput('FasterRCNN_MobileNet_V3_Large_320_FPN_Weights'),
};
