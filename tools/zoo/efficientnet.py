"""EfficientNet V1/V2 references: torchvision 0.14 (efficientnet_b0-b7, efficientnet_v2_s/m/l) and
timm 1.0.29 (tf_efficientnetv2_b0-b3, TF "same" padding)."""
import torchvision.models as tvm


def _timm(name):
    def build():
        import timm
        return timm.create_model(name, pretrained=False)
    return build


def _tv(name, size, note=""):
    return dict(build=getattr(tvm, name), input=[1, 3, size, size], reference=f"torchvision 0.14 {name}(){note}")


MODELS = {
    # native sizes: the crop size of torchvision's ImageNet weights
    "efficientnet_b0": _tv("efficientnet_b0", 224),
    "efficientnet_b1": _tv("efficientnet_b1", 240),
    "efficientnet_b2": _tv("efficientnet_b2", 288),
    "efficientnet_b3": _tv("efficientnet_b3", 300),
    "efficientnet_b4": _tv("efficientnet_b4", 380),
    "efficientnet_b5": _tv("efficientnet_b5", 456),
    "efficientnet_b6": _tv("efficientnet_b6", 528),
    "efficientnet_b7": _tv("efficientnet_b7", 600),
    "efficientnet_v2_s": _tv("efficientnet_v2_s", 384),
    "efficientnet_v2_m": _tv("efficientnet_v2_m", 480),
    "efficientnet_v2_l": _tv("efficientnet_v2_l", 480),
    # timm default_cfg input_size (not test_input_size)
    "tf_efficientnetv2_b0": dict(build=_timm("tf_efficientnetv2_b0"), input=[1, 3, 192, 192], reference="timm 1.0.29 tf_efficientnetv2_b0"),
    "tf_efficientnetv2_b1": dict(build=_timm("tf_efficientnetv2_b1"), input=[1, 3, 192, 192], reference="timm 1.0.29 tf_efficientnetv2_b1"),
    "tf_efficientnetv2_b2": dict(build=_timm("tf_efficientnetv2_b2"), input=[1, 3, 208, 208], reference="timm 1.0.29 tf_efficientnetv2_b2"),
    "tf_efficientnetv2_b3": dict(build=_timm("tf_efficientnetv2_b3"), input=[1, 3, 240, 240], reference="timm 1.0.29 tf_efficientnetv2_b3"),
}

# odd input sizes make TF "same" padding symmetric where even ones pad one pixel bottom/right only
MODELS["tf_efficientnetv2_b0+s225"] = dict(
    build=_timm("tf_efficientnetv2_b0"), input=[1, 3, 225, 225],
    reference="timm 1.0.29 tf_efficientnetv2_b0 at 225x225 (odd sizes: symmetric same-padding)")


# widthMultiplier: torchvision's width_mult (B0's depth) and timm's channel_multiplier
def _tv_width(arch, width, depth):
    def build():
        from torchvision.models.efficientnet import _efficientnet, _efficientnet_conf
        setting, last = _efficientnet_conf(arch, width_mult=width, depth_mult=depth)
        return _efficientnet(setting, 0.2, last, None, True)
    return build


def _tf_v2_width(multiplier):
    def build():
        from timm.models.efficientnet import tf_efficientnetv2_b0
        return tf_efficientnetv2_b0(channel_multiplier=multiplier)
    return build


MODELS["efficientnet_b0+w050"] = dict(
    build=_tv_width("efficientnet_b0", 0.5, 1.0), input=[1, 3, 128, 128], options={"widthMultiplier": 0.5},
    reference="torchvision 0.14 _efficientnet_conf('efficientnet_b0', width_mult=0.5, depth_mult=1.0) at 128x128")
MODELS["efficientnet_b2+w075"] = dict(
    build=_tv_width("efficientnet_b2", 1.1 * 0.75, 1.2), input=[1, 3, 96, 96], options={"widthMultiplier": 0.75},
    reference="torchvision 0.14 _efficientnet_conf('efficientnet_b2', width_mult=1.1*0.75, depth_mult=1.2) at 96x96")
MODELS["tf_efficientnetv2_b0+w075"] = dict(
    build=_tf_v2_width(0.75), input=[1, 3, 128, 128], options={"widthMultiplier": 0.75},
    reference="timm 1.0.29 tf_efficientnetv2_b0(channel_multiplier=0.75) at 128x128")
