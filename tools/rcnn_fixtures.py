"""Faster R-CNN fixtures: torchvision 0.14's fasterrcnn_mobilenet_v3_large_320_fpn,
fasterrcnn_mobilenet_v3_large_fpn and fasterrcnn_resnet50_fpn with the synthetic weights of
tools/synthetic.py (keyed by state_dict name, identical to src/weights/synthetic.ts; the box
predictor's class weights and the RPN's objectness weights scaled by powers of two so that the
softmax and sigmoid scores spread out and some detections pass the 0.05 threshold), each run in
eval mode on synthetic images in [0, 1]. Stored per image: the transformed batch's sizes and a
sample of its values (normalised, resized, padded), the RPN proposals, a sample of the box
head's outputs (class logits and box regression for those proposals) and the final detections,
so that test/rcnn.test.ts checks every stage of models/rcnn.ts and src/detect/rcnn.ts without
committing any weights. Small images and scaled min_size/max_size keep every case fast.

    /usr/bin/python3 tools/rcnn_fixtures.py   -> test/fixtures/rcnn/*.json
"""
import json
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from synthetic import synthetic_input  # noqa: E402
from zoo_fixtures import fill_synthetic  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "rcnn")

# weights multiplied after fill_synthetic (powers of two: exact in float32, the test does the same);
# the ResNet-50's larger activations need less
BOOST = {"roi_heads.box_predictor.cls_score.weight": 16.0, "rpn.head.cls_logits.weight": 4.0}
BOOST_RESNET = {"roi_heads.box_predictor.cls_score.weight": 0.5, "rpn.head.cls_logits.weight": 1.0}


def g(v):
    return float("%.9g" % v)


def sample(t, step):
    flat = t.reshape(-1).double().tolist()
    return {"shape": list(t.shape), "step": step, "maxAbs": max(abs(v) for v in flat),
            "values": [g(v) for v in flat[::step]]}


@torch.no_grad()
def case(model, shape, key):
    image = torch.from_numpy((synthetic_input(shape, key) + 1) / 2)
    seen = {}
    hooks = [
        model.transform.register_forward_hook(lambda m, i, o: seen.update(batch=o[0])),
        model.rpn.register_forward_hook(lambda m, i, o: seen.update(proposals=o[0])),
        model.roi_heads.box_predictor.register_forward_hook(lambda m, i, o: seen.update(logits=o[0], regression=o[1])),
    ]
    out = model([image[0]])[0]
    for h in hooks:
        h.remove()
    batch = seen["batch"]
    proposals = seen["proposals"][0]
    return {
        "imageShape": shape,
        "imageKey": key,
        "resized": list(batch.image_sizes[0]),
        "padded": list(batch.tensors.shape[-2:]),
        "input": sample(batch.tensors, 101),
        "proposals": [[g(v) for v in b] for b in proposals.tolist()],
        "classLogits": sample(seen["logits"], 37),
        "boxRegression": sample(seen["regression"], 149),
        "boxes": [[g(v) for v in b] for b in out["boxes"].tolist()],
        "scores": [g(v) for v in out["scores"].tolist()],
        "labels": out["labels"].tolist(),
    }


@torch.no_grad()
def fixture(name, build, images, boost=BOOST, **kwargs):
    torch.manual_seed(0)
    model = build(weights=None, weights_backbone=None, **kwargs)
    keys = fill_synthetic(model)
    sd = model.state_dict()
    for k, f in boost.items():
        sd[k].mul_(f)
    model.eval()
    cases = [case(model, shape, key) for shape, key in images]
    fx = {
        "name": name,
        "reference": f"torchvision 0.14 {build.__name__}(weights=None, **{kwargs}) eval forward, synthetic weights with BOOST",
        "options": kwargs,
        "boost": boost,
        "keys": keys,
        "cases": cases,
        "torch": torch.__version__,
    }
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"{name}.json")
    with open(path, "w") as f:
        json.dump(fx, f, separators=(",", ":"))
    for c in cases:
        print(name, c["imageShape"], "->", c["resized"], c["padded"], len(c["proposals"]), "proposals,",
              len(c["labels"]), "detections; top", c["scores"][:3], c["labels"][:3])
    print(path, os.path.getsize(path) // 1024, "KB")


if __name__ == "__main__":
    det = torchvision.models.detection
    which = sys.argv[1:]
    if not which or "320" in which:
        # native settings (min 320, max 640, 150/150 proposals); the second image is wide enough
        # that max_size decides the scale, and changes the padded size between runs
        fixture("fasterrcnn_mobilenet_v3_large_320_fpn", det.fasterrcnn_mobilenet_v3_large_320_fpn,
                [([1, 3, 150, 200], "image"), ([1, 3, 60, 200], "wide")])
    if not which or "mobile" in which:
        # min_size / max_size scaled down from 800 / 1333 (1000 / 1000 proposals as the builder)
        fixture("fasterrcnn_mobilenet_v3_large_fpn", det.fasterrcnn_mobilenet_v3_large_fpn,
                [([1, 3, 120, 100], "image")], min_size=224, max_size=320)
    if not which or "resnet" in which:
        fixture("fasterrcnn_resnet50_fpn", det.fasterrcnn_resnet50_fpn,
                [([1, 3, 100, 130], "image")], boost=BOOST_RESNET, min_size=160)
