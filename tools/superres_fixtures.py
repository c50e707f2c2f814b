"""Fixture for upscale() (src/image/upscale.ts): the whole super-resolution round trip computed
with PyTorch/numpy on a small RGB image, for a Y-channel model and an RGB model.

    /usr/bin/python3 tools/superres_fixtures.py   # writes test/fixtures/superres-upscale.json

The image is 17x13 (odd, non-square) RGB, 8 bits: a smooth gradient plus seeded noise. Models are
tools/zoo/superres.py's ESPCN with the synthetic weights of tools/synthetic.py (keyed by name, the
same float32 values src/weights/synthetic.ts makes) except that last_part.0.weight is multiplied
by 0.25 and last_part.0.bias has 0.5 added (outputs mostly inside [0, 1]), so the test rebuilds
them exactly.

Y-channel model (the papers' evaluation, ITU-R BT.601 as MATLAB's rgb2ycbcr on [0, 1] values):
  [Y, Cb, Cr] = T [R, G, B] + [16, 128, 128] / 255,
  T = [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]] / 255;
  Y goes through the model, Cb and Cr are up-sampled by F.interpolate(mode='bicubic',
  align_corners=False) to the model's output size, RGB = T^-1 ([Y', Cb', Cr'] - offset),
  clamped to [0, 1]. RGB model: the image in [0, 1] through the model, clamped.
Both store the float result and the 8-bit image round(255 * v).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from synthetic import uniform_stream  # noqa: E402
from zoo.superres import ESPCN  # noqa: E402
from zoo_fixtures import fill_synthetic  # noqa: E402

OUT = os.path.join(HERE, "..", "test", "fixtures", "superres-upscale.json")
T = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / 255.0
OFFSET = np.array([16.0, 128.0, 128.0]) / 255.0


def image(h=17, w=13):
    """8-bit RGB [h, w, 3]: per-channel gradients plus seeded noise."""
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    base = np.stack([20 + 200 * yy / (h - 1), 30 + 180 * xx / (w - 1), 128 + 90 * np.sin(yy * 0.7 + xx * 0.4)], -1)
    noise = 25 * uniform_stream("upscale-image", h * w * 3).reshape(h, w, 3)
    return np.clip(np.round(base + noise), 0, 255).astype(np.uint8)


@torch.no_grad()
def run(model, x):
    fill_synthetic(model)
    # keep most outputs inside [0, 1] so the comparison is not mostly clamped values: the last
    # conv's weight times 0.25 (exact in float32) and its bias plus 0.5 (float32 addition)
    last = model.last_part[0]
    last.weight.mul_(0.25)
    last.bias.add_(0.5)
    model.eval()
    return model(torch.from_numpy(x.astype(np.float32))).double().numpy()


def upscale_y(rgb8, scale):
    rgb = rgb8.astype(np.float64) / 255.0  # [h, w, 3]
    ycc = rgb @ T.T + OFFSET
    y = ycc[..., 0].astype(np.float32)[None, None]
    y_sr = run(ESPCN(scale=scale, channels=1), y)[0, 0]
    H, W = y_sr.shape
    cbcr = torch.from_numpy(np.ascontiguousarray(ycc[..., 1:].transpose(2, 0, 1)).astype(np.float32))[None]
    up = F.interpolate(cbcr, size=(H, W), mode="bicubic", align_corners=False)[0].double().numpy()
    ycc_sr = np.stack([y_sr, up[0], up[1]], -1)
    out = (ycc_sr - OFFSET) @ np.linalg.inv(T).T
    return np.clip(out, 0, 1).transpose(2, 0, 1)  # [3, H, W]


def upscale_rgb(rgb8, scale):
    x = (rgb8.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
    return np.clip(run(ESPCN(scale=scale, channels=3), x)[0], 0, 1)


def main():
    img = image()
    cases = []
    for name, fn, scale, channels in [("espcn x3 on Y", upscale_y, 3, 1), ("espcn x2 on RGB", upscale_rgb, 2, 3)]:
        out = fn(img, scale)
        cases.append({
            "name": name,
            "model": "espcn",
            "options": {"scale": scale, "channels": channels},
            "shape": [1, 3, out.shape[1], out.shape[2]],
            "float": [float("%.7g" % v) for v in out.reshape(-1)],
            "rgb8": np.round(out * 255).astype(int).transpose(1, 2, 0).reshape(-1).tolist(),
        })
        print(f"{name}: out {out.shape}, mean {out.mean():.4f}, clamped {(out == 0).mean() + (out == 1).mean():.3f}")
    fixture = {
        "image": {"width": int(img.shape[1]), "height": int(img.shape[0]), "rgb": img.reshape(-1).tolist()},
        "cases": cases,
        "torch": torch.__version__,
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
