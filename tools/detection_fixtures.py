"""Detection fixtures: torchvision 0.14's detectors with the synthetic weights of
tools/synthetic.py (keyed by state_dict name, identical to src/weights/synthetic.ts), run on a
synthetic input, storing the raw head outputs PyTorch computes before post-processing
(model.backbone(x) then model.head(features)), so that test/detection.test.ts can check the
GraphBuilder blocks of models/detection.ts against them without committing any weights.

    /usr/bin/python3 tools/detection_fixtures.py   -> test/fixtures/detection/*.json
"""
import json
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from synthetic import synthetic_input  # noqa: E402
from zoo_fixtures import fill_synthetic  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "detection")


def sample(t, step):
    flat = t.reshape(-1).double().tolist()
    return {"shape": list(t.shape), "step": step, "maxAbs": max(abs(v) for v in flat),
            "values": [float("%.9g" % v) for v in flat[::step]]}


@torch.no_grad()
def heads(name, build, shape):
    torch.manual_seed(0)
    model = build(weights=None, weights_backbone=None)
    keys = fill_synthetic(model)
    model.eval()
    x = torch.from_numpy(synthetic_input(shape))
    feats = list(model.backbone(x).values())
    head = model.head(feats)
    fixture = {
        "name": name,
        "reference": f"torchvision 0.14 {build.__name__}: model.head(model.backbone(x)) (no transform, no post-processing)",
        "inputShape": shape,
        "keys": keys,
        "levels": [list(f.shape) for f in feats],
        "logits": sample(head["cls_logits"], 97),
        "boxes": sample(head["bbox_regression"], 13),
        "torch": torch.__version__,
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(name, fixture["levels"], head["cls_logits"].shape, head["bbox_regression"].shape,
          fixture["logits"]["maxAbs"], fixture["boxes"]["maxAbs"])


@torch.no_grad()
def detections(name, build, shape, **kwargs):
    """The whole eval forward (transform, backbone, head, post-processing, boxes mapped back to
    the input's size) on an image in [0, 1]: what model.detect() must return."""
    torch.manual_seed(0)
    model = build(weights=None, weights_backbone=None, **kwargs)
    fill_synthetic(model)
    model.eval()
    image = torch.from_numpy((synthetic_input(shape, "image") + 1) / 2)
    out = model([image[0]])[0]
    fixture = {
        "name": name,
        "reference": f"torchvision 0.14 {build.__name__}(**{kwargs}) eval forward on one image in [0, 1]",
        "imageShape": shape,
        "options": kwargs,
        "boxes": [[float("%.9g" % v) for v in b] for b in out["boxes"].tolist()],
        "scores": [float("%.9g" % v) for v in out["scores"].tolist()],
        "labels": out["labels"].tolist(),
        "torch": torch.__version__,
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(name, len(fixture["labels"]), "detections; top", fixture["scores"][:3], fixture["labels"][:3])


if __name__ == "__main__":
    det = torchvision.models.detection
    # an odd size: the top-down path up-samples 10 -> 19 and 5 -> 10 (nearest, floor)
    heads("retinanet_resnet50_fpn_heads_150x200", det.retinanet_resnet50_fpn, [1, 3, 150, 200])
    # not the native 320x320: every extra level halves an odd or even size (16x14 ... 1x1)
    heads("ssdlite320_mobilenet_v3_large_heads_250x210", det.ssdlite320_mobilenet_v3_large, [1, 3, 250, 210])
    # the whole detector: resize to 320x320, head, softmax, per-class top-k, batched NMS, boxes back to 240x300
    detections("ssdlite320_mobilenet_v3_large_detect_240x300", det.ssdlite320_mobilenet_v3_large, [1, 3, 240, 300])
