"""Detection fixtures: torchvision 0.14's detectors with the synthetic weights of
tools/synthetic.py (keyed by state_dict name, identical to src/weights/synthetic.ts), run on a
synthetic input, storing the raw head outputs PyTorch computes before post-processing
(model.backbone(x) then model.head(features)), so that test/detection.test.ts can check the
GraphBuilder blocks of models/detection.ts against them without committing any weights.

    /usr/bin/python3 tools/detection_fixtures.py [name prefix ...]  -> test/fixtures/detection/*.json
"""
import json
import os
import random
import sys

import torch
import torchvision
from torchvision.models.detection.transform import GeneralizedRCNNTransform

sys.path.insert(0, os.path.dirname(__file__))
from synthetic import synthetic_input  # noqa: E402
from zoo_fixtures import fill_synthetic  # noqa: E402

# fixture names (or prefixes) on the command line: regenerate only those
ONLY = sys.argv[1:]
OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "detection")


def sample(t, step):
    flat = t.reshape(-1).double().tolist()
    return {"shape": list(t.shape), "step": step, "maxAbs": max(abs(v) for v in flat),
            "values": [float("%.9g" % v) for v in flat[::step]]}


def frozen_bn(module, eps):
    """The pretrained form of a ResNet body: torchvision builds it with FrozenBatchNorm2d when
    weights are given (and retinanet_resnet50_fpn's COCO_V1 weights then set eps to 0 by
    overwrite_eps); without weights it builds nn.BatchNorm2d. Swap every BatchNorm2d for
    FrozenBatchNorm2d(eps) so the fixture computes what the pretrained detector computes."""
    for name, child in module.named_children():
        if isinstance(child, torch.nn.BatchNorm2d):
            setattr(module, name, torchvision.ops.misc.FrozenBatchNorm2d(child.num_features, eps=eps))
        else:
            frozen_bn(child, eps)


def build_model(build, bn_eps=None, **kwargs):
    torch.manual_seed(0)
    model = build(weights=None, weights_backbone=None, **kwargs)
    if bn_eps is not None:
        frozen_bn(model.backbone.body, bn_eps)
    keys = fill_synthetic(model)
    model.eval()
    return model, keys


@torch.no_grad()
def heads(name, build, shape, bn_eps=None, steps=(97, 13)):
    if ONLY and not any(name.startswith(o) for o in ONLY):
        return
    model, keys = build_model(build, bn_eps)
    x = torch.from_numpy(synthetic_input(shape))
    feats = list(model.backbone(x).values())
    head = model.head(feats)
    fixture = {
        "name": name,
        "reference": f"torchvision 0.14 {build.__name__}: model.head(model.backbone(x)) (no transform, no post-processing)",
        "inputShape": shape,
        "keys": keys,
        "levels": [list(f.shape) for f in feats],
        "logits": sample(head["cls_logits"], steps[0]),
        "boxes": sample(head["bbox_regression"], steps[1]),
        "torch": torch.__version__,
    }
    if "bbox_ctrness" in head:
        fixture["ctrness"] = sample(head["bbox_ctrness"], 1)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(name, fixture["levels"], head["cls_logits"].shape, head["bbox_regression"].shape,
          fixture["logits"]["maxAbs"], fixture["boxes"]["maxAbs"])


@torch.no_grad()
def detections(name, build, shape, bn_eps=None, **kwargs):
    """The whole eval forward (transform, backbone, head, post-processing, boxes mapped back to
    the input's size) on an image in [0, 1]: what model.detect() must return."""
    if ONLY and not any(name.startswith(o) for o in ONLY):
        return
    model, _ = build_model(build, bn_eps, **kwargs)
    image = torch.from_numpy((synthetic_input(shape, "image") + 1) / 2)
    images, _ = model.transform([image[0]])
    out = model([image[0]])[0]
    fixture = {
        "name": name,
        "reference": f"torchvision 0.14 {build.__name__}(**{kwargs}) eval forward on one image in [0, 1]",
        "imageShape": shape,
        "options": kwargs,
        "bnEps": bn_eps,
        "transformed": list(images.tensors.shape),
        "imageSizes": [list(s) for s in images.image_sizes],
        "boxes": [[float("%.9g" % v) for v in b] for b in out["boxes"].tolist()],
        "scores": [float("%.9g" % v) for v in out["scores"].tolist()],
        "labels": out["labels"].tolist(),
        "torch": torch.__version__,
    }
    if model.transform.fixed_size is None:
        # the min_size / max_size transform runs on the host in wasmcnn: its output is checked too
        fixture["transformedSample"] = sample(images.tensors, 101)
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(name, len(fixture["labels"]), "detections; top", fixture["scores"][:3], fixture["labels"][:3])


def transform_sizes(name, count=80):
    """GeneralizedRCNNTransform's resized size (the float32 scale torch forms, F.interpolate's
    floor(side * scale)) for random image sizes, min_size and max_size."""
    if ONLY and not any(name.startswith(o) for o in ONLY):
        return
    rng = random.Random(15)
    rows = []
    for _ in range(count):
        h, w = rng.randint(16, 2400), rng.randint(16, 2400)
        lo = rng.choice([320, 480, 512, 600, 800, 1024, rng.randint(32, 1400)])
        hi = rng.choice([1333, 1000, 640, rng.randint(lo, 2400)])
        t = GeneralizedRCNNTransform(lo, hi, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
        t.eval()
        out = t.resize(torch.zeros(1, h, w))[0]
        rows.append([h, w, lo, hi] + list(out.shape[-2:]))
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump({"name": name, "reference": "torchvision 0.14 GeneralizedRCNNTransform.resize (eval): [h, w, min_size, max_size, out_h, out_w]",
                   "rows": rows, "torch": torch.__version__}, f, separators=(",", ":"))
    print(name, len(rows), "sizes")


if __name__ == "__main__":
    det = torchvision.models.detection
    # an odd size: the top-down path up-samples 10 -> 19 and 5 -> 10 (nearest, floor)
    heads("retinanet_resnet50_fpn_heads_150x200", det.retinanet_resnet50_fpn, [1, 3, 150, 200])
    # not the native 320x320: every extra level halves an odd or even size (16x14 ... 1x1)
    heads("ssdlite320_mobilenet_v3_large_heads_250x210", det.ssdlite320_mobilenet_v3_large, [1, 3, 250, 210])
    # the whole detector: resize to 320x320, head, softmax, per-class top-k, batched NMS, boxes back to 240x300
    detections("ssdlite320_mobilenet_v3_large_detect_240x300", det.ssdlite320_mobilenet_v3_large, [1, 3, 240, 300])
    # SSD300 VGG16: conv4_3 L2Norm, ceil-mode pool3, dilated fc6, extras down to 1x1 (at 300x300)
    heads("ssd300_vgg16_heads_300x300", det.ssd300_vgg16, [1, 3, 300, 300], steps=(4999, 997))
    # its transform resizes any image to 300x300; per-channel mean, std 1/255
    detections("ssd300_vgg16_detect_200x260", det.ssd300_vgg16, [1, 3, 200, 260])
    # RetinaNet as its COCO_V1 weights run it: FrozenBatchNorm2d with eps 0 in the body;
    # min_size / max_size scaled down: 150x190 -> 120x152 (scale 0.8), padded to 128x160
    detections("retinanet_resnet50_fpn_detect_150x190", det.retinanet_resnet50_fpn, [1, 3, 150, 190], bn_eps=0.0,
               min_size=120, max_size=170)
    # FCOS: the same body (FrozenBatchNorm2d, eps 1e-5) and FPN, GroupNorm(32) conv towers,
    # centerness; the max_size bound decides here: 140x230 -> 103x170 (scale 170/230), padded to 128x192
    # portrait, the min_size bound decides: 190x140 -> 162x120 (scale 120/140), padded to 192x128
    detections("retinanet_resnet50_fpn_detect_190x140", det.retinanet_resnet50_fpn, [1, 3, 190, 140], bn_eps=0.0,
               min_size=120, max_size=170)
    transform_sizes("detection_transform_sizes")
    heads("fcos_resnet50_fpn_heads_130x170", det.fcos_resnet50_fpn, [1, 3, 130, 170], bn_eps=1e-5)
    detections("fcos_resnet50_fpn_detect_140x230", det.fcos_resnet50_fpn, [1, 3, 140, 230], bn_eps=1e-5,
               min_size=160, max_size=170)
