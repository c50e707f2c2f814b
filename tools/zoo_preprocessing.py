"""Each pretrained zoo model's evaluation preprocessing, read from the reference libraries'
own transform objects, written to test/fixtures/zoo-preprocessing.json. test/zoo-options.test.ts
checks models/preprocessing.ts against it, so the table is not copied by hand from memory.

  torchvision 0.14: get_model_weights(name).DEFAULT.transforms() (ImageClassification /
      SemanticSegmentation: resize_size, crop_size, mean, std, interpolation).
  timm 1.0.29: create_transform(**resolve_data_config({}, pretrained_cfg=<default tag's cfg>))
      (Resize(int) = shorter side, Resize((h, w)) for crop_mode 'squash', CenterCrop, Normalize).

    TIMM_PATH=/tmp/timm /usr/bin/python3 tools/zoo_preprocessing.py

timm comes from the wheel on this machine (unzip /opt/pypi/files/timm-1.0.29-py3-none-any.whl
into /opt/timm or TIMM_PATH). CI never runs this; the test only reads the JSON.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(1, os.environ.get("TIMM_PATH", "/opt/timm"))

import torchvision  # noqa: E402
from torchvision import transforms as T  # noqa: E402
from torchvision.models import get_model_weights  # noqa: E402

OUT = os.path.join(HERE, "..", "test", "fixtures", "zoo-preprocessing.json")

TORCHVISION = """resnet18 resnet34 resnet50 resnet101 resnet152 resnext50_32x4d wide_resnet50_2
vgg11 vgg11_bn vgg13 vgg13_bn vgg16 vgg16_bn vgg19 vgg19_bn alexnet googlenet densenet121
densenet161 densenet169 densenet201 mobilenet_v2 mobilenet_v3_large mobilenet_v3_small
efficientnet_b0 efficientnet_b1 efficientnet_b2 efficientnet_b3 efficientnet_b4 efficientnet_b5
efficientnet_b6 efficientnet_b7 efficientnet_v2_s efficientnet_v2_m efficientnet_v2_l
convnext_tiny convnext_small convnext_base convnext_large shufflenet_v2_x0_5 shufflenet_v2_x1_0
shufflenet_v2_x1_5 shufflenet_v2_x2_0 fcn_resnet50 deeplabv3_resnet50
deeplabv3_mobilenet_v3_large lraspp_mobilenet_v3_large""".split()

TIMM = """seresnet50 ecaresnet50d repvgg_a0 repvgg_a1 repvgg_a2 repvgg_b0 repvgg_b1 repvgg_b1g4
repvgg_b2 repvgg_b2g4 repvgg_b3 repvgg_b3g4 mobilenetv1_100 mobilenetv4_conv_small
mobilenetv4_conv_medium mobilenetv4_conv_large mobilenetv4_hybrid_medium mobilenetv4_hybrid_large
tf_efficientnetv2_b0 tf_efficientnetv2_b1 tf_efficientnetv2_b2 tf_efficientnetv2_b3 ghostnet_100
convnext_xlarge""".split()


def interp(mode):
    return str(mode.value if hasattr(mode, "value") else mode).lower()


def size_of(s):
    s = list(s) if isinstance(s, (list, tuple)) else [s]
    return s[0] if len(s) == 1 else s


def torchvision_entry(name):
    w = get_model_weights(name).DEFAULT
    t = w.transforms()
    e = {
        "size": size_of(t.resize_size),
        "mean": [float(v) for v in t.mean],
        "std": [float(v) for v in t.std],
        "interpolation": interp(t.interpolation),
        "classes": len(w.meta["categories"]),
        "reference": f"torchvision {torchvision.__version__} {name} {w.name}",
    }
    if getattr(t, "crop_size", None):
        e["crop"] = size_of(t.crop_size)
    return e


def timm_entry(name):
    import timm
    from timm.data import create_transform, resolve_data_config
    from timm.models import get_pretrained_cfg
    from timm.models._registry import _model_default_cfgs

    cfg = get_pretrained_cfg(name)
    tag = _model_default_cfgs[name].tags[0]
    t = create_transform(**resolve_data_config({}, pretrained_cfg=cfg.to_dict()))
    e = {"reference": f"timm {timm.__version__} {name}.{tag}", "classes": cfg.num_classes}
    for step in t.transforms:
        if isinstance(step, T.Resize):
            e["size"] = size_of(step.size)
            e["interpolation"] = interp(step.interpolation)
        elif isinstance(step, T.CenterCrop):
            e["crop"] = size_of(step.size)
        elif isinstance(step, T.Normalize):
            # timm keeps them as float32 tensors: back to the decimals its config states
            e["mean"] = [round(float(v), 6) for v in step.mean]
            e["std"] = [round(float(v), 6) for v in step.std]
    return e


def main():
    out = {}
    for n in TORCHVISION:
        out[n] = torchvision_entry(n)
    for n in TIMM:
        out[n] = timm_entry(n)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(out)} entries to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
