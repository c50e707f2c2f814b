"""ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s") parity references: torchvision 0.14
convnext_tiny/small/base/large, built as torchvision builds them (stochastic depth is the
identity in eval mode)."""
import torchvision.models as tvm

MODELS = {
    name: dict(build=getattr(tvm, name), input=[1, 3, 224, 224], reference=f"torchvision 0.14 {name}()")
    for name in ("convnext_tiny", "convnext_small", "convnext_base", "convnext_large")
}
