"""DenseNet-BC (Huang et al. 2017, "Densely Connected Convolutional Networks"): torchvision
0.14's densenet121/161/169/201, the references of models/densenet.ts."""
import torchvision.models as tvm


def _spec(name):
    return dict(build=getattr(tvm, name), input=[1, 3, 224, 224], reference=f"torchvision 0.14 {name}()")


MODELS = {n: _spec(n) for n in ("densenet121", "densenet161", "densenet169", "densenet201")}
