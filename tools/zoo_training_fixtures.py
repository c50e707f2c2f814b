"""Zoo training-form fixtures: for torchvision's googlenet(aux_logits=True, init_weights=False),
efficientnet_b0, mobilenet_v2, mobilenet_v3_large, convnext_tiny, alexnet, vgg11,
fcn_resnet50 and deeplabv3_mobilenet_v3_large (aux_loss off), and timm's ghostnet_100, the
state_dict float keys and shapes (what `training: true` builds must declare), and the training-only
modules in module order: every nn.Dropout with p > 0 and every StochasticDepth that acts (p > 0,
on a block that adds its residual), as ['Dropout' | 'DropPath', p]; timm's functional head
dropout (F.dropout with the model's drop_rate) last. For googlenet also the eval
outputs (logits, aux2, aux1: the auxiliary heads run on inception4a's / inception4d's outputs,
which torchvision computes only in train mode) with the synthetic weights of tools/synthetic.py
on the synthetic input, 10 classes, input [2, 3, 96, 96] (a 6x6 map: overlapping 4x4 adaptive bins).

    TIMM_PATH=<unzipped timm 1.0.29 wheel> /usr/bin/python3 tools/zoo_training_fixtures.py
    # -> test/fixtures/zoo-training.json
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.environ.get("TIMM_PATH", "/opt/timm"))

import torch  # noqa: E402
import torchvision  # noqa: E402
from torchvision.ops import StochasticDepth  # noqa: E402

from synthetic import synthetic_input  # noqa: E402
from zoo_fixtures import fill_synthetic  # noqa: E402

OUT = os.path.join(HERE, "..", "test", "fixtures", "zoo-training.json")
M = torchvision.models

BUILD = {
    "googlenet": lambda: M.googlenet(aux_logits=True, init_weights=False),
    "efficientnet_b0": lambda: M.efficientnet_b0(),
    "mobilenet_v2": lambda: M.mobilenet_v2(),
    "mobilenet_v3_large": lambda: M.mobilenet_v3_large(),
    "convnext_tiny": lambda: M.convnext_tiny(),
    "alexnet": lambda: M.alexnet(),
    "vgg11": lambda: M.vgg11(),
    "fcn_resnet50": lambda: M.segmentation.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=False),
    "deeplabv3_mobilenet_v3_large": lambda: M.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False),
    "ghostnet_100": lambda: __import__("timm").create_model("ghostnet_100", pretrained=False),
}


def training_modules(model):
    """['Dropout', p] / ['DropPath', p] for the modules that act in train mode, in module order."""
    out = []
    parents = {}
    for m in model.modules():
        for c in m.children():
            parents[id(c)] = m
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout) and m.p > 0:
            out.append(["Dropout", m.p])
        elif isinstance(m, StochasticDepth) and m.p > 0:
            # torchvision's MBConv / FusedMBConv apply it only when they add the residual
            if getattr(parents[id(m)], "use_res_connect", True):
                out.append(["DropPath", m.p])
    if getattr(model, "drop_rate", 0) > 0 and type(model).__module__.startswith("timm."):
        out.append(["Dropout", model.drop_rate])
    return out


def main():
    res = {}
    for name, build in BUILD.items():
        model = build().train()
        sd = model.state_dict()
        keys = {k: list(v.shape) for k, v in sd.items() if v.is_floating_point()}
        res[name] = {"keys": keys, "training": training_modules(model)}

    torch.manual_seed(0)
    g = M.googlenet(aux_logits=True, init_weights=False, num_classes=10)
    fill_synthetic(g)
    g.eval()
    shape = [2, 3, 96, 96]
    x = torch.from_numpy(synthetic_input(shape))
    seen = {}
    g.inception4a.register_forward_hook(lambda m, i, o: seen.__setitem__("4a", o))
    g.inception4d.register_forward_hook(lambda m, i, o: seen.__setitem__("4d", o))
    with torch.no_grad():
        logits = g(x)
        aux1 = g.aux1(seen["4a"])
        aux2 = g.aux2(seen["4d"])
    res["googlenet_outputs"] = {
        "input": shape,
        "numClasses": 10,
        "logits": [float("%.9g" % v) for v in logits.flatten().tolist()],
        "aux2": [float("%.9g" % v) for v in aux2.flatten().tolist()],
        "aux1": [float("%.9g" % v) for v in aux1.flatten().tolist()],
    }
    with open(OUT, "w") as f:
        json.dump(res, f, separators=(",", ":"))
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
