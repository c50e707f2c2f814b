"""torchvision 0.14's detectors exported whole to ONNX (transform, backbone, heads, anchors, box
decoding, score threshold, top-k, class-aware NMS, rescaling to the input size), the way a user
exports them, stripped of their large weights so the graphs can be committed as test fixtures.

Each model is built in eval mode with random weights (weights=None, weights_backbone=None),
re-initialised by reinit() so that an untrained network still gives tens of detections with
distinct scores (see there), and exported with torch.onnx.export (default constant folding, which
folds each batch norm into its convolution) on a list holding one [3, H, W] image in [0, 1], with
dynamic H and W (dynamic_axes), so the same file runs at any image size. The RetinaNet / FCOS /
Faster R-CNN transforms get min_size 320 / max_size 512 so the tests stay fast; SSDlite keeps its
fixed 320x320.

The full files are 14-136 MB. Stripping replaces every float initializer with more than
STRIP_ABOVE elements by an empty tensor of the same name, dims and type (raw_data cleared) and
records the standard deviation of its values in the manifest (`scales`); the small float
initializers (folded biases, squeeze-excitation and other small convolutions) keep their exported
values, and the integer constants and anchors, which the exporter writes as Constant nodes, stay
as they are. test/detection-onnx.ts (fillStripped) puts deterministic values of the recorded
scale back in memory; test/detection-onnx.test.ts then compares wasmcnn with onnxruntime-node on
the filled graph, and bench/detection.js times wasmcnn against onnxruntime-web on it. The
stripped graphs are gzipped (about 1.1 MB for the six files).

    /usr/bin/python3 tools/detection_onnx.py [--keep-full DIR] [name ...]
        -> test/fixtures/detection-onnx/<name>_opset<N>.onnx.gz  and  manifest.json

If an export fails at some opset with torch 1.13, the failure is recorded in the manifest
(and printed) instead of a file.
"""
import gzip
import io
import json
import os
import sys
import traceback

import math
import re

import onnx
import onnx.numpy_helper
import torch
import torchvision
from torch import nn
from torchvision.models import detection
from torchvision.models.mobilenetv3 import InvertedResidual
from torchvision.models.resnet import Bottleneck

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "detection-onnx")
STRIP_ABOVE = 4096
# the size each model is traced at (any size works afterwards: H and W are dynamic)
TRACE_SIZE = (240, 320)

MODELS = {
    # name: (builder, builder kwargs, opsets)
    "ssdlite320_mobilenet_v3_large": (detection.ssdlite320_mobilenet_v3_large, {}, [11, 17]),
    "retinanet_resnet50_fpn": (detection.retinanet_resnet50_fpn, {"min_size": 320, "max_size": 512}, [11, 17]),
    "fcos_resnet50_fpn": (detection.fcos_resnet50_fpn, {"min_size": 320, "max_size": 512}, [11, 17]),
    "fasterrcnn_mobilenet_v3_large_320_fpn": (detection.fasterrcnn_mobilenet_v3_large_320_fpn, {}, [11, 17]),
}

# per-model reinit() knobs, tuned so the filled graphs give tens of detections with distinct scores
REINIT = {"retinanet_resnet50_fpn": {"head_gain": 0.15}, "ssdlite320_mobilenet_v3_large": {"head_gain": 3.0}}

FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16}


def reinit(model, residual_gamma=0.25, head_gain=1.0):
    """Weights that keep activations of moderate size without training (torchvision's untrained
    detectors start with std 0.01-0.03 convolutions, whose activations vanish, and its ResNets'
    residual sums grow without batch statistics): every Conv2d/Linear weight uniform with He
    (2 / fan_in) or LeCun (1 / fan_in, Linear) variance, batch norms the identity except the one
    closing a residual branch (gamma = residual_gamma), the classification/regression output
    layers scaled by head_gain. Biases keep torchvision's values (e.g. RetinaNet's prior).
    test/detection-onnx.ts refills the stripped weights with each tensor's std recorded here."""
    g = torch.Generator().manual_seed(0)
    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            fan_in = mod.weight[0].numel()
            std = math.sqrt((2.0 if isinstance(mod, nn.Conv2d) else 1.0) / fan_in)
            if name.split(".")[-1] in ("cls_logits", "bbox_reg", "bbox_pred", "cls_score", "bbox_ctrness") or re.search(r"module_list\.\d+\.1$", name):
                std *= head_gain
            with torch.no_grad():
                mod.weight.uniform_(-std * math.sqrt(3), std * math.sqrt(3), generator=g)
        elif isinstance(mod, nn.BatchNorm2d):
            nn.init.ones_(mod.weight)
            nn.init.zeros_(mod.bias)
            mod.running_mean.zero_()
            mod.running_var.fill_(1.0)
    for mod in model.modules():
        if isinstance(mod, Bottleneck):
            nn.init.constant_(mod.bn3.weight, residual_gamma)
        elif isinstance(mod, InvertedResidual) and mod.use_res_connect:
            nn.init.constant_(mod.block[-1][1].weight, residual_gamma)


def numel(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def export(name, opset):
    build, kwargs, _ = MODELS[name]
    torch.manual_seed(0)
    model = build(weights=None, weights_backbone=None, **kwargs).eval()
    reinit(model, **REINIT.get(name, {}))
    x = torch.rand(3, *TRACE_SIZE)
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            model, ([x],), buf, opset_version=opset, do_constant_folding=True,
            # the order of the keys of torchvision's result dict (R-CNN's roi_heads puts labels second)
            input_names=["images"], output_names=["boxes", "labels", "scores"] if "rcnn" in name else ["boxes", "scores", "labels"],
            dynamic_axes={"images": {1: "height", 2: "width"}, "boxes": {0: "n"}, "scores": {0: "n"}, "labels": {0: "n"}},
        )
    return buf.getvalue()


def strip(full):
    """Clear the data of float initializers above STRIP_ABOVE elements; returns (model bytes, stats)."""
    m = onnx.load_from_string(full)
    scales = {}
    stats = {"initializers": 0, "stripped": 0, "strippedElements": 0, "keptFloatElements": 0, "keptIntElements": 0}
    for t in m.graph.initializer:
        stats["initializers"] += 1
        n = numel(t.dims)
        if t.data_type in FLOAT_TYPES and n > STRIP_ABOVE:
            v = onnx.numpy_helper.to_array(t).astype("float64")
            scales[t.name] = float("%.6g" % v.std())
            t.ClearField("raw_data")
            t.ClearField("float_data")
            t.ClearField("double_data")
            t.ClearField("int32_data")
            stats["stripped"] += 1
            stats["strippedElements"] += n
        elif t.data_type in FLOAT_TYPES:
            stats["keptFloatElements"] += n
        else:
            stats["keptIntElements"] += n
    big_consts = [
        nd.name for nd in m.graph.node if nd.op_type == "Constant"
        for a in nd.attribute if a.name == "value" and a.t.data_type in FLOAT_TYPES and numel(a.t.dims) > STRIP_ABOVE
    ]
    stats["largeFloatConstantNodes"] = len(big_consts)  # left in place (none expected)
    stats["nodes"] = len(m.graph.node)
    stats["ops"] = sorted({nd.op_type for nd in m.graph.node})
    stats["scales"] = scales  # the std of each stripped tensor's exported values
    return m.SerializeToString(), stats


def main(argv):
    keep = None
    if "--keep-full" in argv:
        i = argv.index("--keep-full")
        keep = argv[i + 1]
        del argv[i:i + 2]
        os.makedirs(keep, exist_ok=True)
    names = argv or list(MODELS)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "manifest.json")
    manifest = json.load(open(path)) if os.path.exists(path) else {}
    manifest.update({
        "_about": "torchvision detectors exported by tools/detection_onnx.py, float initializers above "
                  f"{STRIP_ABOVE} elements stripped; fill with test/detection-onnx.ts fillStripped",
        "_torch": torch.__version__, "_torchvision": torchvision.__version__, "_onnx": onnx.__version__,
        "_traceSize": list(TRACE_SIZE),
    })
    for name in names:
        for opset in MODELS[name][2]:
            key = f"{name}_opset{opset}"
            try:
                full = export(name, opset)
            except Exception as e:  # record why an export fails at this opset
                msg = "".join(traceback.format_exception_only(type(e), e)).strip().splitlines()[-1]
                print(f"{key}: export FAILED: {msg}")
                manifest[key] = {"error": msg}
                continue
            if keep:
                with open(os.path.join(keep, key + ".onnx"), "wb") as f:
                    f.write(full)
            stripped, stats = strip(full)
            gz = gzip.compress(stripped, 9, mtime=0)
            with open(os.path.join(OUT, key + ".onnx.gz"), "wb") as f:
                f.write(gz)
            entry = {"file": key + ".onnx.gz", "model": name, "opset": opset, "kwargs": MODELS[name][1],
                     "fullBytes": len(full), "strippedBytes": len(stripped), "gzipBytes": len(gz), **stats}
            manifest[key] = entry
            print(f"{key}: full {len(full) / 1e6:.1f} MB, stripped {len(stripped) / 1e3:.0f} kB, gzip {len(gz) / 1e3:.0f} kB; "
                  f"{stats['stripped']}/{stats['initializers']} initializers stripped, {stats['nodes']} nodes")
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
