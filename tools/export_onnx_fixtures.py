"""Export torchvision CNNs to ONNX (opset 13) with deterministic weights, a seeded input and
PyTorch's output: the conformance fixtures wasmcnn's ONNX importer is tested against.

Spec: ONNX operators, opset 13 (https://github.com/onnx/onnx/blob/main/docs/Operators.md).
Models: torchvision 0.14 classes, i.e. the papers they implement: AlexNet (Krizhevsky 2012),
VGG (Simonyan & Zisserman 2014), GoogLeNet (Szegedy 2014), ResNet/ResNeXt (He 2015, Xie 2016),
DenseNet (Huang 2016), SqueezeNet (Iandola 2016), MobileNetV2 (Sandler 2018), MobileNetV3
(Howard 2019), ShuffleNetV2 (Ma 2018), EfficientNet (Tan & Le 2019), EfficientNetV2 (Tan & Le
2021), RegNet (Radosavovic 2020), ConvNeXt (Liu 2022); LeNet-5 (LeCun 1998) from
tools/lenet5_reference.py with the bundled weights; a ResNet with ECA attention (Wang 2020, its
1-D channel conv) and a small 1-D CNN, both defined here.

Two tiers:
  default   small configurations of the same classes (num_classes=10, 64..96 px inputs) so
            each model.onnx stays well under 3 MB while the exported graph keeps the real
            decomposed forms; written to test/fixtures/onnx/<name>/ and committed.
  --full    the real torchvision builders at 224x224 (deterministic weights, not pretrained);
            written to fixtures-local/onnx/<name>/ (gitignored, hundreds of MB).

Files per model: model.onnx, input.bin, output.bin (raw little-endian float32, NCHW /
row-major) and meta.json (shapes, versions, how it was built, op-type histogram `ops`).

Deterministic weights: torch.manual_seed(seed) before the model is built (so every module's
own initialiser draws from a fixed stream), then, from a second seeded generator:
  * BatchNorm: weight U[0.5,1.5], bias U[-0.2,0.2], running_mean U[-0.2,0.2], running_var U[0.5,2]
  * LayerNorm: weight U[0.5,1.5], bias U[-0.2,0.2];  ConvNeXt layer_scale U[0.5,1]
  * Linear weights re-drawn U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (several torchvision models use
    N(0, 0.01), which would make the logits nearly constant)
  * every bias that is still all zero: U[-0.1,0.1]
Input: N(0,1) from torch.Generator().manual_seed(seed + 1), except LeNet-5 (held-out digits).

Run:  /usr/bin/python3 tools/export_onnx_fixtures.py [--full] [--only name,name]
"""

import argparse
import collections
import json
import math
import os
import sys
import time
from functools import partial

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision
from torchvision.models import (
    ConvNeXt, DenseNet, EfficientNet, MobileNetV2, MobileNetV3, RegNet, ResNet,
    ShuffleNetV2, SqueezeNet,
)
from torchvision.models.convnext import CNBlockConfig
from torchvision.models.efficientnet import FusedMBConvConfig, MBConvConfig, _efficientnet_conf
from torchvision.models.mobilenetv3 import _mobilenet_v3_conf
from torchvision.models.regnet import BlockParams
from torchvision.models.resnet import BasicBlock, Bottleneck

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO = os.path.dirname(HERE)
OPSET = 13
SEED = 1234


class SmallResNet(ResNet):
    """torchvision's ResNet with narrower stages. ResNet.__init__ hard-codes widths 64..512
    (20 MB even with one block per stage), so this sets up the same attributes with the given
    stage widths and builds the stages with torchvision's own _make_layer / blocks / forward."""

    def __init__(self, block, layers, widths, num_classes=10, groups=1, width_per_group=64):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = widths[0]
        self.dilation = 1
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


class Eca(nn.Module):
    """Efficient channel attention (Wang et al. 2020, ECA-Net, sec. 3.3): the pooled channel
    descriptor goes through a 1-D conv of k taps across neighbouring channels (no bias), a
    sigmoid gates the channels. Written as timm's EcaModule computes it: mean over H, W, view
    [N, 1, C], Conv1d(1, 1, k, padding (k - 1) // 2), sigmoid, view [N, C, 1, 1], x * gate."""

    def __init__(self, k=3):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)

    def forward(self, x):
        y = x.mean((2, 3)).view(x.shape[0], 1, -1)
        y = torch.sigmoid(self.conv(y)).view(x.shape[0], -1, 1, 1)
        return x * y.expand_as(x)


class EcaBasicBlock(BasicBlock):
    """torchvision's BasicBlock with ECA on the residual branch before the add (as ECA-ResNet)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.eca = Eca(3 if self.conv2.out_channels < 64 else 5)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.eca(self.bn2(self.conv2(out)))
        return self.relu(out + identity)


class Conv1dNet(nn.Module):
    """A 1-D CNN over [N, C, L] (an audio / signal classifier's layers): Conv1d (strided, padded,
    grouped, dilated), BatchNorm1d, MaxPool1d, a ConvTranspose1d up-sampling path added back,
    AvgPool1d, a global average over L and a Linear head."""

    def __init__(self, c_in=4, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv1d(c_in, 16, kernel_size=7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm1d(16)
        self.pool = nn.MaxPool1d(kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv1d(16, 32, kernel_size=5, padding=4, dilation=2, groups=4, bias=False)
        self.bn2 = nn.BatchNorm1d(32)
        self.down = nn.Conv1d(32, 32, kernel_size=3, stride=2, padding=1)
        self.up = nn.ConvTranspose1d(32, 32, kernel_size=4, stride=2, padding=1)
        self.avg = nn.AvgPool1d(kernel_size=3, stride=1, padding=1, count_include_pad=False)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = x + self.up(torch.relu(self.down(x)))
        return self.fc(self.avg(x).mean(2))


def lenet5():
    from lenet5_reference import LeNet5
    import safetensors_io
    m = LeNet5()
    sd, _ = safetensors_io.load_f32(os.path.join(REPO, "models", "weights", "lenet5.safetensors"))
    m.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    return m


def lenet5_input():
    import mnist_data
    s = mnist_data.load_split()
    return torch.from_numpy(s["held_x"][:4]).unsqueeze(1).contiguous()


def efficientnet_v2_small_conf():
    # EfficientNetV2-S's stage table (Tan & Le 2021, Table 4) with channels / 4 and depth 1-2.
    # _efficientnet_conf("efficientnet_v2_s") takes no multipliers, so the rows are built here.
    return [
        FusedMBConvConfig(1, 3, 1, 8, 8, 1),
        FusedMBConvConfig(4, 3, 2, 8, 16, 2),
        FusedMBConvConfig(4, 3, 2, 16, 16, 1),
        MBConvConfig(4, 3, 2, 16, 32, 2),
        MBConvConfig(6, 3, 1, 32, 40, 1),
        MBConvConfig(6, 3, 2, 40, 64, 2),
    ]


def small_models():
    """name -> (builder, input shape, human description of how it was built)."""
    v3s, v3s_last = None, None
    M = {}
    M["lenet5"] = (lenet5, (4, 1, 32, 32),
                   "tools/lenet5_reference.py LeNet5 with models/weights/lenet5.safetensors; input = held-out digits 0..3")
    M["resnet_basic"] = (lambda: SmallResNet(BasicBlock, [1, 1, 1, 1], [16, 32, 64, 128]), (1, 3, 64, 80),
                         "SmallResNet(BasicBlock, [1,1,1,1], widths [16,32,64,128], num_classes=10) (torchvision ResNet subclass)")
    M["resnet_bottleneck"] = (lambda: SmallResNet(Bottleneck, [1, 2, 1, 1], [16, 32, 48, 64]), (1, 3, 64, 64),
                              "SmallResNet(Bottleneck, [1,2,1,1], widths [16,32,48,64], num_classes=10)")
    M["resnext_small"] = (lambda: SmallResNet(Bottleneck, [1, 1, 1, 1], [16, 32, 48, 64], groups=4, width_per_group=8),
                          (1, 3, 64, 64),
                          "SmallResNet(Bottleneck, [1,1,1,1], widths [16,32,48,64], groups=4, width_per_group=8) (grouped 3x3)")
    M["mobilenet_v2"] = (lambda: MobileNetV2(width_mult=0.35, num_classes=10), (1, 3, 64, 64),
                         "torchvision.models.MobileNetV2(width_mult=0.35, num_classes=10)")

    def v3(arch):
        setting, last = _mobilenet_v3_conf(arch, width_mult=0.25)
        return MobileNetV3(setting, last, num_classes=10)
    M["mobilenet_v3_small"] = (lambda: v3("mobilenet_v3_small"), (1, 3, 64, 64),
                               "MobileNetV3(*_mobilenet_v3_conf('mobilenet_v3_small', width_mult=0.25), num_classes=10)")
    M["mobilenet_v3_large"] = (lambda: v3("mobilenet_v3_large"), (1, 3, 96, 96),
                               "MobileNetV3(*_mobilenet_v3_conf('mobilenet_v3_large', width_mult=0.25), num_classes=10)")

    def effb0():
        setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.34)
        return EfficientNet(setting, dropout=0.2, num_classes=10, last_channel=last)
    M["efficientnet_b0"] = (effb0, (1, 3, 64, 64),
                            "EfficientNet(_efficientnet_conf('efficientnet_b0', width_mult=0.25, depth_mult=0.34), dropout=0.2, num_classes=10)")
    M["efficientnet_v2_s"] = (lambda: EfficientNet(efficientnet_v2_small_conf(), dropout=0.2, num_classes=10,
                                                   norm_layer=partial(nn.BatchNorm2d, eps=1e-03), last_channel=256),
                              (1, 3, 64, 64),
                              "EfficientNet(V2-S stage table with channels/4 and 1-2 layers per stage (Fused-MBConv x3, MBConv x3), "
                              "BatchNorm eps=1e-3, last_channel=256, num_classes=10)")
    M["shufflenet_v2"] = (lambda: ShuffleNetV2([2, 2, 2], [24, 32, 64, 128, 256], num_classes=10), (1, 3, 64, 64),
                          "torchvision.models.ShuffleNetV2([2,2,2], [24,32,64,128,256], num_classes=10)")
    M["densenet"] = (lambda: DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16, num_classes=10),
                     (1, 3, 64, 64),
                     "torchvision.models.DenseNet(growth_rate=8, block_config=(2,2,2,2), num_init_features=16, num_classes=10)")
    M["squeezenet1_1"] = (lambda: SqueezeNet("1_1", num_classes=10), (1, 3, 96, 96),
                          "torchvision.models.SqueezeNet('1_1', num_classes=10)")
    M["regnet_y"] = (lambda: RegNet(BlockParams.from_init_params(depth=5, w_0=16, w_a=8.0, w_m=2.0, group_width=8,
                                                                 se_ratio=0.25), num_classes=10, stem_width=16),
                     (1, 3, 64, 64),
                     "RegNet(BlockParams.from_init_params(depth=5, w_0=16, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25), "
                     "stem_width=16, num_classes=10) (a tiny RegNetY: SE + grouped convs)")
    M["convnext"] = (lambda: ConvNeXt([CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1), CNBlockConfig(64, 96, 2),
                                       CNBlockConfig(96, None, 1)], stochastic_depth_prob=0.0, num_classes=10),
                     (1, 3, 64, 64),
                     "ConvNeXt([CNBlockConfig(16,32,1), (32,64,1), (64,96,2), (96,None,1)], num_classes=10)")
    # 1-D convolutions: ECA attention's channel conv inside a ResNet, and a 1-D CNN
    M["eca_resnet"] = (lambda: SmallResNet(EcaBasicBlock, [1, 1, 1, 1], [16, 32, 64, 128]), (1, 3, 64, 64),
                       "SmallResNet(EcaBasicBlock, [1,1,1,1], widths [16,32,64,128], num_classes=10): BasicBlock "
                       "with ECA (timm EcaModule form, Conv1d k=3/5) before the residual add")
    M["conv1d_net"] = (Conv1dNet, (2, 4, 101),
                       "Conv1dNet (tools/export_onnx_fixtures.py): Conv1d strided/dilated/grouped, BatchNorm1d, "
                       "MaxPool1d, ConvTranspose1d, AvgPool1d, mean over L, Linear")
    # Not in the committed tier (too big even with num_classes=10; the classes have fixed widths):
    # GoogLeNet (22 MB: 5.6M parameters), AlexNet (57M), VGG (the 4096-wide classifier alone
    # is >100M). They are exported by --full only.
    return M


def full_models():
    tvm = torchvision.models
    return {
        "alexnet": (lambda: tvm.alexnet(weights=None), "torchvision.models.alexnet(weights=None)"),
        "vgg11": (lambda: tvm.vgg11(weights=None), "torchvision.models.vgg11(weights=None)"),
        "vgg16_bn": (lambda: tvm.vgg16_bn(weights=None), "torchvision.models.vgg16_bn(weights=None)"),
        "googlenet": (lambda: tvm.googlenet(weights=None, aux_logits=False, init_weights=True),
                      "torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True)"),
        "resnet18": (lambda: tvm.resnet18(weights=None), "torchvision.models.resnet18(weights=None)"),
        "resnet50": (lambda: tvm.resnet50(weights=None), "torchvision.models.resnet50(weights=None)"),
        "densenet121": (lambda: tvm.densenet121(weights=None), "torchvision.models.densenet121(weights=None)"),
        "squeezenet1_1": (lambda: tvm.squeezenet1_1(weights=None), "torchvision.models.squeezenet1_1(weights=None)"),
        "regnet_y_400mf": (lambda: tvm.regnet_y_400mf(weights=None), "torchvision.models.regnet_y_400mf(weights=None)"),
        "mobilenet_v2": (lambda: tvm.mobilenet_v2(weights=None), "torchvision.models.mobilenet_v2(weights=None)"),
        "mobilenet_v3_large": (lambda: tvm.mobilenet_v3_large(weights=None),
                               "torchvision.models.mobilenet_v3_large(weights=None)"),
        "efficientnet_b0": (lambda: tvm.efficientnet_b0(weights=None), "torchvision.models.efficientnet_b0(weights=None)"),
        "efficientnet_v2_s": (lambda: tvm.efficientnet_v2_s(weights=None),
                              "torchvision.models.efficientnet_v2_s(weights=None)"),
        "shufflenet_v2_x1_0": (lambda: tvm.shufflenet_v2_x1_0(weights=None),
                               "torchvision.models.shufflenet_v2_x1_0(weights=None)"),
        "convnext_tiny": (lambda: tvm.convnext_tiny(weights=None), "torchvision.models.convnext_tiny(weights=None)"),
    }


@torch.no_grad()
def randomize(model, seed):
    """Make normalisation and bias parameters non-trivial (see the module docstring)."""
    g = torch.Generator().manual_seed(seed)

    def u(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=g) * (hi - lo) + lo)

    for mod in model.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            u(mod.weight, 0.5, 1.5)
            u(mod.bias, -0.2, 0.2)
            u(mod.running_mean, -0.2, 0.2)
            u(mod.running_var, 0.5, 2.0)
        elif isinstance(mod, nn.LayerNorm):
            u(mod.weight, 0.5, 1.5)
            u(mod.bias, -0.2, 0.2)
        elif isinstance(mod, nn.Linear):
            bound = 1.0 / math.sqrt(mod.in_features)
            u(mod.weight, -bound, bound)
    for name, p in model.named_parameters():
        if name.endswith("layer_scale"):
            u(p, 0.5, 1.0)
        elif name.endswith("bias") and not torch.any(p != 0):
            u(p, -0.1, 0.1)


def op_histogram(path):
    m = onnx.load(path)
    c = collections.Counter(n.op_type for n in m.graph.node)
    return dict(sorted(c.items())), len(m.graph.initializer), m


def export_one(name, build, input_shape, how, out_root, seed, make_input=None):
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    t0 = time.time()
    torch.manual_seed(seed)
    model = build()
    if name != "lenet5":
        randomize(model, seed)
    model.eval()
    if make_input is not None:
        x = make_input()
    else:
        x = torch.randn(input_shape, generator=torch.Generator().manual_seed(seed + 1))
    assert tuple(x.shape) == tuple(input_shape), (x.shape, input_shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                      do_constant_folding=True)
    onnx.checker.check_model(path)
    ops, n_init, _ = op_histogram(path)
    x.numpy().astype("<f4").tofile(os.path.join(d, "input.bin"))
    yn = y.numpy().astype("<f4")
    yn.tofile(os.path.join(d, "output.bin"))
    n_params = sum(p.numel() for p in model.parameters())
    meta = {
        "name": name,
        "inputShape": list(x.shape),
        "outputShape": list(yn.shape),
        "dtype": "float32 little-endian, row-major (NCHW input)",
        "opset": OPSET,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx.__version__,
        "built": how,
        "weights": ("trained (models/weights/lenet5.safetensors)" if name == "lenet5" else
                    f"torch.manual_seed({seed}) init + randomized norms/biases/Linear (tools/export_onnx_fixtures.py randomize)"),
        "input": ("first 4 held-out MNIST digits (src/data/mnist.ts split)" if name == "lenet5" else
                  f"torch.randn(inputShape, generator=torch.Generator().manual_seed({seed + 1}))"),
        "export": "torch.onnx.export(model.eval(), x, opset_version=13, input_names=['input'], "
                  "output_names=['output'], do_constant_folding=True)",
        "parameters": n_params,
        "initializers": n_init,
        "modelBytes": os.path.getsize(path),
        "outputStats": {"min": float(yn.min()), "max": float(yn.max()), "mean": float(yn.mean()),
                        "std": float(yn.std()), "absMax": float(np.abs(yn).max())},
        "ops": ops,
        "generator": "tools/export_onnx_fixtures.py",
    }
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"{name:22s} {os.path.getsize(path) / 1e6:8.2f} MB  params {n_params:>10,d}  in {list(x.shape)} "
          f"out {list(yn.shape)} absMax {meta['outputStats']['absMax']:.3g}  ({time.time() - t0:.1f}s)", flush=True)
    print("   ops:", ", ".join(f"{k} {v}" for k, v in ops.items()), flush=True)
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="full-size 224x224 tier into fixtures-local/onnx/")
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--out", default="", help="output root (default test/fixtures/onnx or fixtures-local/onnx)")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    if args.full:
        root = args.out or os.path.join(REPO, "fixtures-local", "onnx")
        for i, (name, (build, how)) in enumerate(full_models().items()):
            if only and name not in only:
                continue
            export_one(name, build, (1, 3, 224, 224), how, root, SEED + 100 * i)
    else:
        root = args.out or os.path.join(REPO, "test", "fixtures", "onnx")
        for i, (name, (build, shape, how)) in enumerate(small_models().items()):
            if only and name not in only:
                continue
            export_one(name, build, shape, how, root, SEED + 100 * i,
                       make_input=lenet5_input if name == "lenet5" else None)


if __name__ == "__main__":
    main()
