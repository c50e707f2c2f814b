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
