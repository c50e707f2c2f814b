"""Super-resolution reference modules for the zoo harness, mirrored by models/superres.ts.

No canonical torchvision models exist; these follow the papers and the state_dict layout of the
widely used ESPCN-pytorch / FSRCNN-pytorch implementations (so their checkpoints load by name).
`channels` is 1 (the Y of YCbCr, the papers' setting) or 3 (RGB); `scale` r is 2, 3 or 4.

ESPCN (Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution Using an Efficient
Sub-Pixel Convolutional Neural Network"):
  first_part.0   Conv2d(C, 64, 5, padding=2)      first_part.1  Tanh
  first_part.2   Conv2d(64, 32, 3, padding=1)     first_part.3  Tanh
  last_part.0    Conv2d(32, C*r*r, 3, padding=1)  last_part.1   PixelShuffle(r)

FSRCNN(d=56, s=12, m=4) (Dong, Loy & Tang 2016, "Accelerating the Super-Resolution
Convolutional Neural Network"), per-channel PReLU:
  first_part.0   Conv2d(C, 56, 5, padding=2)      first_part.1  PReLU(56)
  mid_part.0     Conv2d(56, 12, 1)                mid_part.1    PReLU(12)
  mid_part.2k    Conv2d(12, 12, 3, padding=1)     mid_part.2k+1 PReLU(12)     k = 1..4
  mid_part.10    Conv2d(12, 56, 1)                mid_part.11   PReLU(56)
  last_part      ConvTranspose2d(56, C, 9, stride=r, padding=4, output_padding=r-1)
"""
from functools import partial

from torch import nn


class ESPCN(nn.Module):
    def __init__(self, scale=3, channels=1):
        super().__init__()
        self.first_part = nn.Sequential(
            nn.Conv2d(channels, 64, 5, padding=2), nn.Tanh(), nn.Conv2d(64, 32, 3, padding=1), nn.Tanh())
        self.last_part = nn.Sequential(nn.Conv2d(32, channels * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, x):
        return self.last_part(self.first_part(x))


class FSRCNN(nn.Module):
    def __init__(self, scale=3, channels=1, d=56, s=12, m=4):
        super().__init__()
        self.first_part = nn.Sequential(nn.Conv2d(channels, d, 5, padding=2), nn.PReLU(d))
        mid = [nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            mid += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        mid += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.mid_part = nn.Sequential(*mid)
        self.last_part = nn.ConvTranspose2d(d, channels, 9, stride=scale, padding=4, output_padding=scale - 1)

    def forward(self, x):
        return self.last_part(self.mid_part(self.first_part(x)))


def _entry(cls, name, scale, channels, shape, sample=1):
    opts = {}
    if scale != 3:
        opts["scale"] = scale
    if channels != 1:
        opts["channels"] = channels
    return dict(build=partial(cls, scale=scale, channels=channels), input=shape, options=opts, sample=sample,
                reference=f"tools/zoo/superres.py {cls.__name__}(scale={scale}, channels={channels}) at "
                          f"{shape[2]}x{shape[3]}" + (f", batch {shape[0]}" if shape[0] > 1 else ""))


# small odd, non-square inputs (17x13): every scale for both models, RGB and batch 2 once each
MODELS = {
    "espcn": _entry(ESPCN, "espcn", 3, 1, [1, 1, 17, 13]),
    "espcn+x2": _entry(ESPCN, "espcn", 2, 1, [1, 1, 17, 13]),
    "espcn+x4_rgb": _entry(ESPCN, "espcn", 4, 3, [1, 3, 17, 13], sample=3),
    "fsrcnn": _entry(FSRCNN, "fsrcnn", 3, 1, [1, 1, 17, 13]),
    "fsrcnn+x2_b2": _entry(FSRCNN, "fsrcnn", 2, 1, [2, 1, 17, 13]),
    "fsrcnn+x4_rgb": _entry(FSRCNN, "fsrcnn", 4, 3, [1, 3, 17, 13], sample=3),
}
