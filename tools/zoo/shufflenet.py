"""ShuffleNet parity references.

V2 (Ma et al. 2018, "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture
Design"): torchvision 0.14 shufflenet_v2_x0_5/x1_0/x1_5/x2_0.

V1 (Zhang, Zhou, Lin & Sun 2018, "ShuffleNet: An Extremely Efficient Convolutional Neural
Network for Mobile Devices"): no library ships it, so the reference module below follows the
paper at width 1.0x (Table 1):

    conv1    3x3 s2, 24 channels + BN + ReLU; maxpool 3x3 s2 p1
    stage2   4 units (the first with stride 2), output channels by groups g:
    stage3   8 units      g = 1: 144/288/576   g = 2: 200/400/800   g = 3: 240/480/960
    stage4   4 units      g = 4: 272/544/1088  g = 8: 384/768/1536
    global average pool, fc 1000

A unit (Fig. 2b/c): grouped 1x1 conv to the bottleneck (1/4 of the stage's output channels)
+ BN + ReLU, channel shuffle (g groups), 3x3 depthwise conv (stride 1 or 2) + BN, grouped
1x1 conv + BN. Stride 1: ReLU(x + branch). Stride 2: ReLU(concat(avgpool3x3 s2 p1(x),
branch)), the branch producing (output - input) channels. The first 1x1 conv of stage 2 is
not grouped (its input has only 24 channels).

State_dict names (torchvision style, mirrored by models/shufflenet.ts):
    conv1.0 (conv), conv1.1 (bn)
    stage{2,3,4}.{i}.conv1 / bn1   grouped 1x1 reduce
    stage{2,3,4}.{i}.conv2 / bn2   3x3 depthwise
    stage{2,3,4}.{i}.conv3 / bn3   grouped 1x1 expand
    fc
All convolutions are bias-free (followed by BN).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm

# output channels of stages 2-4 at 1.0x, by group count (Table 1)
V1_STAGE_OUT = {1: [144, 288, 576], 2: [200, 400, 800], 3: [240, 480, 960], 4: [272, 544, 1088], 8: [384, 768, 1536]}
V1_REPEATS = [4, 8, 4]


def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleUnitV1(nn.Module):
    def __init__(self, inp, oup, mid, groups, stride, group_first=True):
        super().__init__()
        self.stride = stride
        self.groups = groups
        branch_out = oup - inp if stride == 2 else oup
        g1 = groups if group_first else 1
        self.conv1 = nn.Conv2d(inp, mid, 1, groups=g1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, branch_out, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(branch_out)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        if self.groups > 1:
            y = channel_shuffle(y, self.groups)
        y = self.bn2(self.conv2(y))
        y = self.bn3(self.conv3(y))
        if self.stride == 2:
            return F.relu(torch.cat([F.avg_pool2d(x, 3, 2, 1), y], 1))
        return F.relu(x + y)


class ShuffleNetV1(nn.Module):
    def __init__(self, groups=3, num_classes=1000, stage_out=None):
        super().__init__()
        stage_out = stage_out or V1_STAGE_OUT[groups]
        self.conv1 = nn.Sequential(nn.Conv2d(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inp = 24
        for s, (repeats, oup) in enumerate(zip(V1_REPEATS, stage_out)):
            mid = oup // 4
            units = [ShuffleUnitV1(inp, oup, mid, groups, 2, group_first=s > 0)]
            units += [ShuffleUnitV1(oup, oup, mid, groups, 1) for _ in range(repeats - 1)]
            setattr(self, f"stage{s + 2}", nn.Sequential(*units))
            inp = oup
        self.fc = nn.Linear(inp, num_classes)

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        return self.fc(x.mean([2, 3]))


MODELS = {
    name: dict(build=getattr(tvm, name), input=[1, 3, 224, 224], reference=f"torchvision 0.14 {name}()")
    for name in ("shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0")
}
for _g in (1, 2, 3, 4, 8):
    MODELS[f"shufflenet_v1_g{_g}"] = dict(
        build=(lambda g=_g: ShuffleNetV1(groups=g)), input=[1, 3, 224, 224],
        reference=f"tools/zoo/shufflenet.py ShuffleNetV1(groups={_g}) (Zhang et al. 2018, 1.0x)")

# the paper's "s x" (section 4.1.1): every stage's filters times s, written out by plain
# multiplication (each product is a multiple of 4g, so no rounding applies)
for _g, _s, _tag in ((3, 0.5, "w050"), (8, 1.5, "w150")):
    _out = [int(c * _s) for c in V1_STAGE_OUT[_g]]
    assert all(c == c_ * _s and c % (4 * _g) == 0 for c, c_ in zip(_out, V1_STAGE_OUT[_g]))
    MODELS[f"shufflenet_v1_g{_g}+{_tag}"] = dict(
        build=(lambda g=_g, out=_out: ShuffleNetV1(groups=g, stage_out=out)), input=[1, 3, 96, 96],
        options={"widthMultiplier": _s},
        reference=f"tools/zoo/shufflenet.py ShuffleNetV1(groups={_g}, stage_out={_out}) ({_s}x) at 96x96")
