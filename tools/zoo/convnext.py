"""ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s") parity references: torchvision 0.14
convnext_tiny/small/base/large, built as torchvision builds them (stochastic depth is the
identity in eval mode); convnext_xlarge from timm 1.0.29 (torchvision 0.14 has none), keys and
shapes only (350M parameters: no forward pass is stored)."""
import torchvision.models as tvm

MODELS = {
    name: dict(build=getattr(tvm, name), input=[1, 3, 224, 224], reference=f"torchvision 0.14 {name}()")
    for name in ("convnext_tiny", "convnext_small", "convnext_base", "convnext_large")
}


def _timm(name):
    def build():
        import timm
        return timm.create_model(name, pretrained=False)
    return build


MODELS["convnext_xlarge"] = dict(build=_timm("convnext_xlarge"), input=[1, 3, 224, 224], reference="timm 1.0.29 convnext_xlarge",
                                 keys_only=True)
