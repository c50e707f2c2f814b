"""GhostNet (Han et al. 2020, "GhostNet: More Features from Cheap Operations") parity
references: timm 1.0.29 ghostnet_050/100/130 (GhostNet V1: timm's default ghostnet_* builders)."""


def _timm(name):
    def build():
        import timm
        return timm.create_model(name, pretrained=False)
    return build


MODELS = {
    name: dict(build=_timm(name), input=[1, 3, 224, 224], reference=f"timm 1.0.29 {name}")
    for name in ("ghostnet_050", "ghostnet_100", "ghostnet_130")
}


def _timm_width(width):
    def build():
        from timm.models.ghostnet import _create_ghostnet
        return _create_ghostnet("ghostnet_100", width=width)
    return build


MODELS["ghostnet_100+w075"] = dict(
    build=_timm_width(0.75), input=[1, 3, 128, 128], options={"widthMultiplier": 0.75},
    reference="timm 1.0.29 _create_ghostnet('ghostnet_100', width=0.75) at 128x128")
