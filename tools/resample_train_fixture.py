"""PyTorch parity fixture for training through the resampling ops (issue 16): small networks
built from the modules the zoo's segmentation and super-resolution models use, each
conv -> op -> conv (a second op for the unpooling pair):

  bilinear     F.interpolate(size=(11, 13), mode='bilinear', align_corners=False)  (fcn / deeplab / lraspp)
  bilinear_ac  F.interpolate(size=(9, 4), mode='bilinear', align_corners=True)     (shrinks W)
  nearest2     F.interpolate(scale_factor=2, mode='nearest')
  nearest_size F.interpolate(size=(8, 11), mode='nearest')                         (non-integer ratios)
  pixelshuffle nn.PixelShuffle(3)                                                   (espcn)
  unpool       nn.MaxPool2d(3, 2, 1, return_indices=True) + nn.MaxUnpool2d(3, 2, 1)  (segnet's pair;
               with padding 1 the unpooled grid equals the odd 7x9 input, so torch's per-plane
               indices and ONNX's flat ones address the same positions)
  lrn          nn.LocalResponseNorm(5, alpha=0.4, beta=0.75, k=1.5)                  (alexnet_lrn; a large
               alpha so the normalisation's gradient matters)

Weights are drawn here from a seeded generator and written into the fixture with the input and
the MSE target; two SGD steps (lr 0.05, momentum 0.9) on F.mse_loss (mean). Stored per net:
both losses and, per parameter, the step-1 gradient and the values after steps 1 and 2 (full
tensors: the nets are small). No ReLU anywhere, so no kink decides a gradient; the max pool's
window maxima are checked to beat the runner-up by a margin far above float32 rounding.

    /usr/bin/python3 tools/resample_train_fixture.py   # writes test/fixtures/train-resample.json
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "train-resample.json")
LR, MOMENTUM = 0.05, 0.9


class Interp(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.kw = kw

    def forward(self, x):
        return F.interpolate(x, **self.kw)


class Net(nn.Module):
    """conv1 (3x3, pad 1) -> op -> conv2 (3x3, pad 1)."""

    def __init__(self, cin, mid, op, out_ch, mid2=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 3, padding=1)
        self.op = op
        self.conv2 = nn.Conv2d(mid2 or mid, out_ch, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.op(self.conv1(x)))


class UnpoolNet(nn.Module):
    """conv1 -> MaxPool2d(3, 2, 1) with indices -> convm (3x3, pad 1) -> MaxUnpool2d(3, 2, 1) -> conv2."""

    def __init__(self, cin, mid, out_ch):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 3, padding=1)
        self.pool = nn.MaxPool2d(3, 2, 1, return_indices=True)
        self.convm = nn.Conv2d(mid, mid, 3, padding=1)
        self.unpool = nn.MaxUnpool2d(3, 2, 1)
        self.conv2 = nn.Conv2d(mid, out_ch, 3, padding=1)
        self.margin = None

    def forward(self, x):
        y = self.conv1(x)
        p, i = self.pool(y)
        # margin of every window's max over its runner-up (ties would make the argmax arbitrary)
        cols = F.unfold(y.detach(), 3, padding=1, stride=2)  # pads with 0: only in-bounds taps matter here
        n, c = y.shape[:2]
        cols = cols.view(n, c, 9, -1)
        ones = F.unfold(torch.ones_like(y[:1, :1]), 3, padding=1, stride=2).view(1, 1, 9, -1)
        cols = torch.where(ones > 0, cols, torch.full_like(cols, -1e9))
        top2 = cols.topk(2, dim=2).values
        m = float((top2[:, :, 0] - top2[:, :, 1]).min())
        self.margin = m if self.margin is None else min(self.margin, m)
        return self.conv2(self.unpool(self.convm(p), i, output_size=y.shape[2:]))


def nets():
    return {
        "bilinear": ([2, 3, 5, 7], lambda: Net(3, 4, Interp(size=(11, 13), mode="bilinear", align_corners=False), 2)),
        "bilinear_ac": ([2, 3, 5, 7], lambda: Net(3, 4, Interp(size=(9, 4), mode="bilinear", align_corners=True), 2)),
        "nearest2": ([2, 3, 5, 7], lambda: Net(3, 4, Interp(scale_factor=2, mode="nearest"), 2)),
        "nearest_size": ([2, 3, 5, 7], lambda: Net(3, 4, Interp(size=(8, 11), mode="nearest"), 2)),
        "pixelshuffle": ([2, 3, 5, 7], lambda: Net(3, 18, nn.PixelShuffle(3), 2, mid2=2)),
        "unpool": ([2, 3, 7, 9], lambda: UnpoolNet(3, 4, 2)),
        "lrn": ([2, 3, 5, 7], lambda: Net(3, 7, nn.LocalResponseNorm(5, alpha=0.4, beta=0.75, k=1.5), 2)),
    }


def flat(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def main():
    torch.set_num_threads(1)
    out = {"optimizer": {"lr": LR, "momentum": MOMENTUM}, "nets": {}}
    for i, (name, (shape, make)) in enumerate(nets().items()):
        torch.manual_seed(1000 + i)
        net = make()
        x = torch.randn(*shape)
        with torch.no_grad():
            y0 = net(x)
        target = torch.randn_like(y0)
        init = {k: v.detach().clone() for k, v in net.state_dict().items()}
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
        losses, grads, after1 = [], {}, {}
        for step in range(2):
            opt.zero_grad()
            loss = F.mse_loss(net(x), target)
            loss.backward()
            losses.append(float(loss))
            if step == 0:
                grads = {k: p.grad.detach().clone() for k, p in net.named_parameters()}
            opt.step()
            if step == 0:
                after1 = {k: p.detach().clone() for k, p in net.named_parameters()}
        rec = {
            "input": {"shape": shape, "data": flat(x)},
            "target": {"shape": list(target.shape), "data": flat(target)},
            "weights": {k: {"shape": list(v.shape), "data": flat(v)} for k, v in init.items()},
            "losses": losses,
            "params": {
                k: {"grad": flat(grads[k]), "after1": flat(after1[k]), "after2": flat(p)}
                for k, p in net.named_parameters()
            },
        }
        if isinstance(net, UnpoolNet):
            rec["poolMargin"] = net.margin
            assert net.margin > 1e-4, net.margin
        out["nets"][name] = rec
        print(name, losses, rec.get("poolMargin", ""))
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
