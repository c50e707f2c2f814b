"""LeNet-5 reference module for the zoo harness (same layers as tools/lenet5_reference.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet5(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


MODELS = {
    "lenet5": dict(build=LeNet5, input=[1, 1, 32, 32], reference="tools/zoo/lenet.py LeNet5"),
}


# LeNet-5 as the 1998 paper builds it (LeCun et al., section II.B, Table I, Appendix A), with the
# choices models/lenet.ts documents: S2/S4 = 2x2 average x trainable coefficient + bias; every layer
# (C1, S2, C3, S4, C5, F6) squashed by 1.7159 tanh(2/3 a) (Appendix A); a Linear output layer. C3 is written
# here as 16 separate convolutions over the S2 maps of Table I, stored under the grouped names.
C3_TABLE = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
    [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
    [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
    [0, 1, 2, 3, 4, 5],
]
C3_GROUPS = [(0, 6), (6, 12), (12, 15), (15, 16)]


def squash(a):
    return 1.7159 * torch.tanh(2.0 / 3.0 * a)


class Subsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c, 1, 1))
        self.bias = nn.Parameter(torch.zeros(c, 1, 1))

    def forward(self, x):
        return squash(F.avg_pool2d(x, 2, 2) * self.weight + self.bias)


class C3Group(nn.Module):
    """Maps [lo, hi) of C3, each from its own S2 maps; parameters stored as one grouped conv's."""

    def __init__(self, lo, hi):
        super().__init__()
        self.rows = C3_TABLE[lo:hi]
        self.weight = nn.Parameter(torch.zeros(hi - lo, len(self.rows[0]), 5, 5))
        self.bias = nn.Parameter(torch.zeros(hi - lo))

    def forward(self, s2):
        outs = [F.conv2d(s2[:, row], self.weight[m:m + 1], self.bias[m:m + 1]) for m, row in enumerate(self.rows)]
        return torch.cat(outs, 1)


class LeNet5Classic(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = Subsample(6)
        self.c3 = nn.ModuleList([C3Group(lo, hi) for lo, hi in C3_GROUPS])
        self.s4 = Subsample(16)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)

    def forward(self, x):
        s2 = self.s2(squash(self.c1(x)))
        c3 = squash(torch.cat([g(s2) for g in self.c3], 1))
        x = squash(self.c5(self.s4(c3)))
        return self.output(squash(self.f6(x.flatten(1))))


MODELS["lenet5_classic"] = dict(build=LeNet5Classic, input=[2, 1, 32, 32],
                                reference="tools/zoo/lenet.py LeNet5Classic (LeCun et al. 1998, section II.B)")
