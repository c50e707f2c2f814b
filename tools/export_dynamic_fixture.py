"""A small detector-style network (a MobileNetV3-like stride-4 backbone and an FPN-style top-down
path, Lin et al. 2017, "Feature Pyramid Networks for Object Detection") exported to ONNX with
symbolic batch, height and width (torch.onnx.export dynamic_axes), plus PyTorch's outputs at
several input shapes: the fixture test/dynamic.test.ts checks dynamic input shapes against.

The export keeps the shape arithmetic a real dynamic export has: F.interpolate to another
feature map's size (Shape, Slice, Concat, Resize with sizes) and x.view(n, c, -1) (Shape,
Gather, Unsqueeze, Concat, Reshape).

Files (test/fixtures/dynamic_fpn/): model.onnx; for each shape in SHAPES, input_<i>.bin
and prob_<i>.bin / pooled_<i>.bin (raw little-endian float32, NCHW); meta.json (shapes,
versions). Deterministic: torch.manual_seed(0) for the weights, BatchNorm statistics re-drawn
from a seeded generator, inputs N(0, 1) from torch.Generator().manual_seed(1 + i).

Run:  /usr/bin/python3 tools/export_dynamic_fixture.py
"""

import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "test", "fixtures", "dynamic_fpn")
# batch, height, width of the reference runs (odd sizes: the up-sampled map must match the
# lateral one through F.interpolate(size=...), not a fixed scale factor)
SHAPES = [(1, 64, 64), (2, 48, 80), (1, 37, 53), (1, 96, 72)]


class DynFpn(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.c2 = nn.Sequential(nn.Conv2d(16, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.dw = nn.Sequential(nn.Conv2d(32, 32, 3, 2, 1, groups=32, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        self.pw = nn.Conv2d(32, 48, 1)
        self.c4 = nn.Sequential(nn.Conv2d(48, 48, 3, 1, 1), nn.ReLU())
        self.lat = nn.Conv2d(32, 48, 1)
        self.head = nn.Conv2d(48, 1, 3, 1, 1)

    def forward(self, x):
        a = self.stem(x)
        b = self.c2(a)
        c = self.c4(self.pw(self.dw(b)))
        top = F.interpolate(c, size=b.shape[-2:], mode="nearest")
        f = self.lat(b) + top
        prob = torch.sigmoid(self.head(f))
        pooled = f.view(f.size(0), f.size(1), -1).mean(2)
        return prob, pooled


def main():
    torch.manual_seed(0)
    net = DynFpn()
    g = torch.Generator().manual_seed(7)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = torch.rand(m.num_features, generator=g) + 0.5
            m.bias.data = torch.rand(m.num_features, generator=g) * 0.4 - 0.2
            m.running_mean = torch.rand(m.num_features, generator=g) * 0.4 - 0.2
            m.running_var = torch.rand(m.num_features, generator=g) * 1.5 + 0.5
    net.eval()
    os.makedirs(OUT, exist_ok=True)
    torch.onnx.export(
        net, torch.zeros(1, 3, 64, 64), os.path.join(OUT, "model.onnx"), opset_version=13,
        input_names=["x"], output_names=["prob", "pooled"],
        dynamic_axes={"x": {0: "batch", 2: "height", 3: "width"}, "prob": {0: "batch", 2: "h2", 3: "w2"}, "pooled": {0: "batch"}},
    )
    runs = []
    with torch.no_grad():
        for i, (n, h, w) in enumerate(SHAPES):
            x = torch.randn(n, 3, h, w, generator=torch.Generator().manual_seed(1 + i))
            prob, pooled = net(x)
            x.numpy().astype("<f4").tofile(os.path.join(OUT, f"input_{i}.bin"))
            prob.numpy().astype("<f4").tofile(os.path.join(OUT, f"prob_{i}.bin"))
            pooled.numpy().astype("<f4").tofile(os.path.join(OUT, f"pooled_{i}.bin"))
            runs.append({"input": [n, 3, h, w], "prob": list(prob.shape), "pooled": list(pooled.shape)})
    meta = {"runs": runs, "torch": torch.__version__, "opset": 13, "built_by": "tools/export_dynamic_fixture.py"}
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
