"""ResNet family reference modules for the zoo harness: torchvision 0.14 (resnet18 ...
wide_resnet50_2), timm 1.0.29 (seresnet50, ecaresnet50d) and timm's ResNet with an attention
module in every block for the `attention` option of createModel (timm's create_attn names:
'se' SEModule, 'cbam' CbamModule, 'eca' EcaModule, 'coord' CoordAttn — timm 1.0.29 ships
coordinate attention in timm/layers/coord_attn.py, so no local reference module is needed)."""
from functools import partial

import torchvision.models as tvm

TORCHVISION = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2"]
TIMM = ["seresnet50", "ecaresnet50d"]

# torchvision variant -> the same network as timm ResNet kwargs
TIMM_ARGS = {
    "resnet18": dict(block="basic", layers=[2, 2, 2, 2]),
    "resnet34": dict(block="basic", layers=[3, 4, 6, 3]),
    "resnet50": dict(block="bottleneck", layers=[3, 4, 6, 3]),
    "resnet101": dict(block="bottleneck", layers=[3, 4, 23, 3]),
    "resnet152": dict(block="bottleneck", layers=[3, 8, 36, 3]),
    "resnext50_32x4d": dict(block="bottleneck", layers=[3, 4, 6, 3], cardinality=32, base_width=4),
    "wide_resnet50_2": dict(block="bottleneck", layers=[3, 4, 6, 3], base_width=128),
}


def torchvision_model(name):
    return getattr(tvm, name)()


def timm_model(name):
    import timm
    return timm.create_model(name, pretrained=False)


def timm_attention_resnet(name, attn):
    from timm.models.resnet import BasicBlock, Bottleneck, ResNet
    kw = dict(TIMM_ARGS[name])
    block = BasicBlock if kw.pop("block") == "basic" else Bottleneck
    return ResNet(block=block, block_args=dict(attn_layer=attn), **kw)


MODELS = {}
for _n in TORCHVISION:
    MODELS[_n] = dict(build=partial(torchvision_model, _n), input=[1, 3, 224, 224],
                      reference=f"torchvision 0.14 {_n}()")
for _n in TIMM:
    MODELS[_n] = dict(build=partial(timm_model, _n), input=[1, 3, 224, 224],
                      reference=f"timm 1.0.29 create_model('{_n}')")

# attention variants: (model, createModel attention option, timm attn_layer)
for _n, _opt, _attn in [
    ("resnet50", "se", "se"),
    ("resnet50", "cbam", "cbam"),
    ("resnet50", "eca", "eca"),
    ("resnet18", "coord", "coord"),
    ("resnet18", "cbam", "cbam"),
    ("resnet18", "eca", "eca"),
]:
    MODELS[f"{_n}+{_opt}"] = dict(
        build=partial(timm_attention_resnet, _n, _attn), input=[1, 3, 224, 224], options={"attention": _opt},
        reference=f"timm 1.0.29 ResNet({TIMM_ARGS[_n]['block']}, {TIMM_ARGS[_n]['layers']}, "
                  f"block_args=dict(attn_layer='{_attn}'))")

# odd, non-square sizes and batch 2: ceil-mode average-pool shortcuts with partial windows
# (ecaresnet50d: 97x113 -> 49x57 -> 25x29 -> 13x15 -> 7x8 -> 4x4) and H != W strips in
# coordinate attention
MODELS["ecaresnet50d+odd"] = dict(build=partial(timm_model, "ecaresnet50d"), input=[1, 3, 97, 113],
                                  reference="timm 1.0.29 create_model('ecaresnet50d') at 97x113")
MODELS["resnet18+coord_b2"] = dict(
    build=partial(timm_attention_resnet, "resnet18", "coord"), input=[2, 3, 96, 128], options={"attention": "coord"},
    reference="timm 1.0.29 ResNet(basic, [2, 2, 2, 2], block_args=dict(attn_layer='coord')), batch 2 at 96x128")
