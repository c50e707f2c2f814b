"""PyTorch parity fixture for DeformConv training (issue 16): a small network with
torchvision.ops.DeformConv2d (Dai et al. 2017; v2 mask of Zhu et al. 2019) takes two SGD steps
(lr 0.01, momentum 0.9, weight decay 1e-4) with softmax cross-entropy:

    x [2, 3, 13, 11] -> stem Conv 3x3 (no activation) -> offset Conv 3x3 s2 (and a sigmoid mask
    Conv 3x3 s2 for v2) -> DeformConv2d 3x3 s2 p1 -> BatchNorm (batch statistics) -> ReLU
    -> global average pool -> Linear(8, 5)

Variants: `deform_v2` (mask, offset_group 1, group 1), `deform_og2` (v1: no mask, offset_group
2, group 2), `deform_og3_g2` (mask, offset_group 3 straddling the 2 conv groups of 3 channels) and
`deform_shared` (v2 whose offsets also feed a second head, Linear on their global average added to
the logits: the offset gradient is then a later share, added to, while the mask's is written). Initial weights and the input are float32 values drawn from a seeded
torch generator and written into the fixture whole (the test loads them as they are).

Stored per variant: both losses, per parameter the step-1 gradient (L2 norm and up to 48 samples)
and the values after steps 1 and 2 at the same positions, BatchNorm running statistics after step
2. The trajectory is computed in float64 from the float32 initial values.

Kinks. The loss is not differentiable where a ReLU input is 0 or where a sample position
(y, x) is an integer (the bilinear interpolant's kinks, incl. the window borders -1 and H); two
float32 engines can put a value within rounding of a kink on different sides. The script runs a
float32 copy alongside the float64 trajectory, takes each tensor's largest float32 deviation,
and accepts a seed only if every ReLU input and every sample position's distance to its kink is
more than KINK_K times that deviation in both steps (the margins are stored).

    /usr/bin/python3 tools/deform_train_fixture.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from torchvision.ops import DeformConv2d

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "train-deform.json")
LR, MOMENTUM, WD = 0.01, 0.9, 1e-4
SAMPLES = 48
KINK_K = 50
SHAPE = [2, 3, 13, 11]
TARGETS = [1, 3]
OFFSET_STD = 1.5


def g9(v):
    return float("%.9g" % float(v))


def positions(n):
    if n <= SAMPLES:
        return list(range(n))
    return [round(j * (n - 1) / (SAMPLES - 1)) for j in range(SAMPLES)]


class Net(torch.nn.Module):
    def __init__(self, og, groups, mask, extra=False):
        super().__init__()
        self.og, self.use_mask, self.extra = og, mask, extra
        self.stem = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.offset = torch.nn.Conv2d(6, 2 * og * 9, 3, stride=2, padding=1)
        if mask:
            self.mask = torch.nn.Conv2d(6, og * 9, 3, stride=2, padding=1)
        self.deform = DeformConv2d(6, 8, 3, stride=2, padding=1, groups=groups)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8, 5)
        if extra:
            self.fc2 = torch.nn.Linear(2 * og * 9, 5)
        self.seen = {}

    def forward(self, x):
        s = self.stem(x)
        off = self.offset(s)
        m = torch.sigmoid(self.mask(s)) if self.use_mask else None
        d = self.deform(s, off, m)
        b = self.bn(d)
        self.seen = {"relu_in": b.detach(), "offset": off.detach()}
        y = F.relu(b)
        out = self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))
        if self.extra:
            out = out + self.fc2(torch.flatten(F.adaptive_avg_pool2d(off, 1), 1))
        return out


def sample_positions(off, og):
    """Every tap's sample (y, x) for the net's DeformConv geometry (3x3, s2, p1, d1)."""
    N, _, OH, OW = off.shape
    o = off.reshape(N, og, 9, 2, OH, OW)
    oh = torch.arange(OH, dtype=off.dtype).view(1, 1, 1, OH, 1)
    ow = torch.arange(OW, dtype=off.dtype).view(1, 1, 1, 1, OW)
    kh = torch.arange(9).div(3, rounding_mode="floor").to(off.dtype).view(1, 1, 9, 1, 1)
    kw = torch.arange(9).remainder(3).to(off.dtype).view(1, 1, 9, 1, 1)
    y = oh * 2 - 1 + kh + o[:, :, :, 0]
    x = ow * 2 - 1 + kw + o[:, :, :, 1]
    return torch.stack([y, x])


def init_weights(net, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            fan_in = p[0].numel() if p.dim() > 1 else 4
            p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
        x = torch.randn(SHAPE, generator=g)
        # scale the offset layer so offsets have about OFFSET_STD
        off = net.offset(net.stem(x))
        k = OFFSET_STD / float(off.std())
        net.offset.weight.mul_(k)
        net.offset.bias.mul_(k)
    return x


def run(net, x, targets, steps=2):
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), targets)
        loss.backward()
        grads = {n: p.grad.detach().clone() for n, p in net.named_parameters()}
        seen = dict(net.seen)
        opt.step()
        after = {n: p.detach().clone() for n, p in net.named_parameters()}
        out.append({"loss": float(loss), "grads": grads, "after": after, "seen": seen})
    return out


def make(name, og, groups, mask, extra=False):
    for seed in range(1, 200):
        torch.manual_seed(0)
        net32 = Net(og, groups, mask, extra)
        x = init_weights(net32, seed)
        net64 = Net(og, groups, mask, extra).double()
        net64.load_state_dict({k: v.double() for k, v in net32.state_dict().items()})
        init = {k: v.clone() for k, v in net32.state_dict().items()}
        targets = torch.tensor(TARGETS)
        r32 = run(net32, x, targets)
        r64 = run(net64, x.double(), targets)
        margins = []
        ok = True
        for s32, s64 in zip(r32, r64):
            relu64, relu32 = s64["seen"]["relu_in"], s32["seen"]["relu_in"].double()
            dev = float((relu64 - relu32).abs().max())
            gap = float(relu64.abs().min())
            pos64 = sample_positions(s64["seen"]["offset"], og)
            pos32 = sample_positions(s32["seen"]["offset"].double(), og)
            pdev = float((pos64 - pos32).abs().max())
            pgap = float((pos64 - pos64.round()).abs().min())
            margins.append({"relu": gap / max(dev, 1e-12), "position": pgap / max(pdev, 1e-12)})
            if gap < KINK_K * dev or pgap < KINK_K * pdev:
                ok = False
        if ok:
            break
        print(f"{name}: seed {seed} too close to a kink: {margins}")
    else:
        raise SystemExit(f"{name}: no seed clears the kinks")
    # samples reach outside the input on every side
    pos = sample_positions(r64[0]["seen"]["offset"], og)
    outside = {
        "top": int((pos[0] <= -1).sum()), "bottom": int((pos[0] >= SHAPE[2]).sum()),
        "left": int((pos[1] <= -1).sum()), "right": int((pos[1] >= SHAPE[3]).sum()),
    }
    assert all(v > 0 for v in outside.values()), outside
    rec = {}
    for n, p in init.items():
        if n not in r64[0]["grads"]:
            continue
        idx = positions(p.numel())
        gr = r64[0]["grads"][n].reshape(-1)
        rec[n] = {
            "shape": list(p.shape), "idx": idx, "gradNorm": g9(gr.norm()), "grad": [g9(gr[i]) for i in idx],
            "after1": [g9(r64[0]["after"][n].reshape(-1)[i]) for i in idx],
            "after2": [g9(r64[1]["after"][n].reshape(-1)[i]) for i in idx],
        }
    buffers = {}
    for n, b in net64.named_buffers():
        if n.endswith("running_mean") or n.endswith("running_var"):
            flat = b.reshape(-1)
            idx = positions(flat.numel())
            buffers[n] = {"idx": idx, "after2": [g9(flat[i]) for i in idx]}
    print(f"{name}: seed {seed}, losses {r64[0]['loss']:.6f} {r64[1]['loss']:.6f}, margins {margins}, outside {outside}")
    return {
        "name": name, "offsetGroup": og, "group": groups, "mask": mask, "extra": extra, "seed": seed,
        "inputShape": SHAPE, "input": [g9(v) for v in x.reshape(-1)], "targets": TARGETS,
        "losses": [r64[0]["loss"], r64[1]["loss"]],
        "optimizer": {"lr": LR, "momentum": MOMENTUM, "weightDecay": WD},
        "weights": {n: {"shape": list(v.shape), "data": [g9(e) for e in v.reshape(-1)]}
                    for n, v in init.items() if not n.endswith("num_batches_tracked")},
        "params": rec, "buffers": buffers, "kinkK": KINK_K, "margins": margins, "outside": outside,
        "torch": torch.__version__,
    }


def main():
    torch.set_num_threads(1)
    fixtures = [
        make("deform_v2", 1, 1, True), make("deform_og2", 2, 2, False), make("deform_og3_g2", 3, 2, True),
        make("deform_shared", 1, 1, True, extra=True),
    ]
    with open(OUT, "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
