"""MobileNet V1-V3 references: timm 1.0.29 (V1, `_gen_mobilenet_v1`) and torchvision 0.14 (V2, V3)."""
import torchvision.models as tvm


def _timm_v1(multiplier):
    def build():
        from timm.models.efficientnet import _gen_mobilenet_v1
        return _gen_mobilenet_v1("mobilenetv1_100", channel_multiplier=multiplier)
    return build


MODELS = {
    "mobilenetv1_100": dict(build=_timm_v1(1.0), input=[1, 3, 224, 224], reference="timm 1.0.29 mobilenetv1_100"),
    "mobilenetv1_100+w050": dict(
        build=_timm_v1(0.5), input=[1, 3, 160, 160], options={"widthMultiplier": 0.5},
        reference="timm 1.0.29 _gen_mobilenet_v1(channel_multiplier=0.5) at 160x160"),
    "mobilenet_v2": dict(build=tvm.mobilenet_v2, input=[1, 3, 224, 224], reference="torchvision 0.14 mobilenet_v2()"),
    "mobilenet_v2+w075": dict(
        build=lambda: tvm.mobilenet_v2(width_mult=0.75), input=[1, 3, 224, 224], options={"widthMultiplier": 0.75},
        reference="torchvision 0.14 mobilenet_v2(width_mult=0.75)"),
    "mobilenet_v3_large": dict(
        build=tvm.mobilenet_v3_large, input=[1, 3, 224, 224], reference="torchvision 0.14 mobilenet_v3_large()"),
    "mobilenet_v3_small": dict(
        build=tvm.mobilenet_v3_small, input=[1, 3, 224, 224], reference="torchvision 0.14 mobilenet_v3_small()"),
    "mobilenet_v3_large+w075": dict(
        build=lambda: tvm.mobilenet_v3_large(width_mult=0.75), input=[1, 3, 192, 192],
        options={"widthMultiplier": 0.75}, reference="torchvision 0.14 mobilenet_v3_large(width_mult=0.75) at 192x192"),
}

MODELS["mobilenet_v2+w035"] = dict(
    build=lambda: tvm.mobilenet_v2(width_mult=0.35), input=[1, 3, 96, 96], options={"widthMultiplier": 0.35},
    reference="torchvision 0.14 mobilenet_v2(width_mult=0.35) at 96x96")
MODELS["mobilenet_v3_small+w050"] = dict(
    build=lambda: tvm.mobilenet_v3_small(width_mult=0.5), input=[1, 3, 128, 128], options={"widthMultiplier": 0.5},
    reference="torchvision 0.14 mobilenet_v3_small(width_mult=0.5) at 128x128")
MODELS["mobilenetv1_100+r057"] = dict(
    build=_timm_v1(0.25), input=[1, 3, 128, 128], options={"widthMultiplier": 0.25, "resolutionMultiplier": 4 / 7},
    reference="timm 1.0.29 _gen_mobilenet_v1(channel_multiplier=0.25) at 128x128 (the paper's 0.25 MobileNet-128: rho 4/7)")
