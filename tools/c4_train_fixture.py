"""One-training-step parity fixture for the C4-equivariant digit network (src/equivariant.ts
c4DigitNet): PyTorch builds its filter banks from the learned filters with tools/c4_reference.py's
lift_weight / group_weight (torch.rot90, torch.roll), so autograd carries the gradient back to the
filters exactly as wasmcnn's trainer does through its derived weights. Same synthetic weights,
batch, optimizer and stored quantities as tools/train_fixtures.py.

    /usr/bin/python3 tools/c4_train_fixture.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from c4_reference import group_weight, lift_weight  # noqa: E402
import train_fixtures  # noqa: E402


class C4DigitNet(nn.Module):
    def __init__(self, widths=(6, 12, 24), classes=10):
        super().__init__()
        a, b, c = widths
        self.lift = nn.ParameterDict({"weight": nn.Parameter(torch.zeros(a, 1, 5, 5)), "bias": nn.Parameter(torch.zeros(a))})
        self.gconv1 = nn.ParameterDict({"weight": nn.Parameter(torch.zeros(b, a, 4, 5, 5)), "bias": nn.Parameter(torch.zeros(b))})
        self.gconv2 = nn.ParameterDict({"weight": nn.Parameter(torch.zeros(c, b, 4, 3, 3)), "bias": nn.Parameter(torch.zeros(c))})
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = F.conv2d(x, lift_weight(self.lift["weight"]), self.lift["bias"].repeat_interleave(4), padding=2)
        x = F.max_pool2d(F.relu(x), 2)
        x = F.conv2d(x, group_weight(self.gconv1["weight"]), self.gconv1["bias"].repeat_interleave(4), padding=2)
        x = F.max_pool2d(F.relu(x), 2)
        x = F.relu(F.conv2d(x, group_weight(self.gconv2["weight"]), self.gconv2["bias"].repeat_interleave(4), padding=1))
        n, c4, h, w = x.shape
        x = x.reshape(n, c4 // 4, 4, h, w).amax(2)
        return self.fc(x.mean((2, 3)))


if __name__ == "__main__":
    train_fixtures.make("c4_digit_net", {"build": C4DigitNet}, [4, 1, 32, 32])
