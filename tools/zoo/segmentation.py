"""Segmentation references for the zoo harness.

torchvision 0.14 (weights=None, weights_backbone=None, num_classes 21, aux_loss off):
  fcn_resnet50, deeplabv3_resnet50, deeplabv3_mobilenet_v3_large, lraspp_mobilenet_v3_large.
  The harness takes the 'out' logits [N, 21, H, W].

Own reference modules (no canonical torchvision model exists), mirrored by models/segmentation.ts:

SegNet (Badrinarayanan, Kendall & Cipolla 2017, "SegNet: A Deep Convolutional Encoder-Decoder
Architecture for Image Segmentation"), 21 classes (Pascal VOC, like the torchvision heads):
  encoder.<s>.<j>.{0 conv 3x3 (bias), 1 BN}   VGG16-BN's 13 convs in 5 stages (2, 2, 3, 3, 3),
                                               each stage ends with max-pool 2x2/2 keeping indices
  decoder.<s>.<j>.{0 conv 3x3 (bias), 1 BN}   mirror image: stage s unpools with the indices of
                                               encoder stage 4 - s, then conv-BN-ReLU stacks
                                               512-512-512 | 512-512-256 | 256-256-128 | 128-64 | 64
  classifier                                   conv 3x3 64 -> classes (bias, no BN), the logits
  Input H and W must be multiples of 32.

U-Net (Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for Biomedical Image
Segmentation"), the common padded form (3x3 convs with padding 1, BN after every conv), base
width 64, 3 input channels, 2 classes (the paper's cell / background):
  encoder.<i>.{0 conv, 1 BN, 3 conv, 4 BN}     double conv blocks 64, 128, 256, 512 (i = 0..3);
                                               encoder.1..3 follow a max-pool 2x2/2
  bottleneck.{0, 1, 3, 4}                      max-pool, double conv 1024
  upconvs.<i>                                  ConvTranspose2d(C, C/2, 2, stride 2) (bias), i = 0..3
  decoder.<i>.{0, 1, 3, 4}                     double conv on cat([skip, up]) -> C/2
  classifier                                   conv 1x1 64 -> classes (bias)
  Convs followed by BN have no bias. Input H and W must be multiples of 16.
"""
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
import torchvision.models.segmentation as tvs


def _conv_bn_relu(cin, cout, bias=True):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=bias), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


# SegNet: encoder stages [channels per conv] (VGG16-BN) and the mirrored decoder stages.
SEGNET_ENCODER = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
SEGNET_DECODER = [[512, 512, 512], [512, 512, 256], [256, 256, 128], [128, 64], [64]]


class SegNet(nn.Module):
    def __init__(self, num_classes=21, in_channels=3):
        super().__init__()
        enc = []
        c = in_channels
        for stage in SEGNET_ENCODER:
            mods = []
            for o in stage:
                mods.append(_conv_bn_relu(c, o))
                c = o
            enc.append(nn.Sequential(*mods))
        self.encoder = nn.ModuleList(enc)
        dec = []
        for stage in SEGNET_DECODER:
            mods = []
            for o in stage:
                mods.append(_conv_bn_relu(c, o))
                c = o
            dec.append(nn.Sequential(*mods))
        self.decoder = nn.ModuleList(dec)
        self.classifier = nn.Conv2d(c, num_classes, 3, padding=1)

    def forward(self, x):
        indices = []
        for stage in self.encoder:
            x = stage(x)
            x, idx = F.max_pool2d(x, 2, 2, return_indices=True)
            indices.append(idx)
        for stage, idx in zip(self.decoder, reversed(indices)):
            x = F.max_unpool2d(x, idx, 2, 2)
            x = stage(x)
        return self.classifier(x)


def _double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, num_classes=2, in_channels=3, width=64):
        super().__init__()
        widths = [width, width * 2, width * 4, width * 8]
        enc = []
        c = in_channels
        for w in widths:
            enc.append(_double_conv(c, w))
            c = w
        self.encoder = nn.ModuleList(enc)
        self.bottleneck = _double_conv(c, c * 2)
        c *= 2
        ups, dec = [], []
        for w in reversed(widths):
            ups.append(nn.ConvTranspose2d(c, w, 2, stride=2))
            dec.append(_double_conv(2 * w, w))
            c = w
        self.upconvs = nn.ModuleList(ups)
        self.decoder = nn.ModuleList(dec)
        self.classifier = nn.Conv2d(c, num_classes, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.encoder):
            if i > 0:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        x = self.bottleneck(F.max_pool2d(x, 2))
        for up, block, skip in zip(self.upconvs, self.decoder, reversed(skips)):
            x = block(torch.cat([skip, up(x)], dim=1))
        return self.classifier(x)


def _tv(name):
    return getattr(tvs, name)(weights=None, weights_backbone=None, num_classes=21, aux_loss=None) \
        if name != "lraspp_mobilenet_v3_large" else tvs.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=21)


MODELS = {
    "fcn_resnet50": dict(build=partial(_tv, "fcn_resnet50"), input=[1, 3, 224, 224], sample=149,
                         reference="torchvision 0.14 fcn_resnet50(num_classes=21) at 224x224"),
    "deeplabv3_resnet50": dict(build=partial(_tv, "deeplabv3_resnet50"), input=[1, 3, 256, 256], sample=211,
                               reference="torchvision 0.14 deeplabv3_resnet50(num_classes=21) at 256x256"),
    "deeplabv3_mobilenet_v3_large": dict(
        build=partial(_tv, "deeplabv3_mobilenet_v3_large"), input=[1, 3, 512, 512], sample=839,
        reference="torchvision 0.14 deeplabv3_mobilenet_v3_large(num_classes=21) at 512x512"),
    "lraspp_mobilenet_v3_large": dict(
        build=partial(_tv, "lraspp_mobilenet_v3_large"), input=[1, 3, 320, 320], sample=331,
        reference="torchvision 0.14 lraspp_mobilenet_v3_large(num_classes=21) at 320x320"),
    "segnet": dict(build=SegNet, input=[1, 3, 128, 128], sample=53,
                   reference="tools/zoo/segmentation.py SegNet (VGG16-BN encoder, 21 classes) at 128x128"),
    "unet": dict(build=UNet, input=[1, 3, 128, 128], sample=5,
                 reference="tools/zoo/segmentation.py UNet (padded, BN, base 64, 2 classes) at 128x128"),
}

# odd, non-square sizes (fractional resize ratios, odd stride-8/16 maps) and batch 2
MODELS.update({
    "lraspp_mobilenet_v3_large+odd": dict(
        build=partial(_tv, "lraspp_mobilenet_v3_large"), input=[1, 3, 177, 233], sample=127,
        reference="torchvision 0.14 lraspp_mobilenet_v3_large(num_classes=21) at 177x233"),
    "deeplabv3_mobilenet_v3_large+odd_b2": dict(
        build=partial(_tv, "deeplabv3_mobilenet_v3_large"), input=[2, 3, 201, 263], sample=349,
        reference="torchvision 0.14 deeplabv3_mobilenet_v3_large(num_classes=21), batch 2 at 201x263"),
    "segnet+b2": dict(build=SegNet, input=[2, 3, 64, 96], sample=37,
                      reference="tools/zoo/segmentation.py SegNet, batch 2 at 64x96"),
    "unet+b2": dict(build=UNet, input=[2, 3, 48, 80], sample=3,
                    reference="tools/zoo/segmentation.py UNet, batch 2 at 48x80"),
})
