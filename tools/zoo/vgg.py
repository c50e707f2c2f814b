"""VGG (Simonyan & Zisserman 2015, "Very Deep Convolutional Networks for Large-Scale Image
Recognition"): torchvision 0.14's vgg11..vgg19 and their _bn forms, the references of
models/vgg.ts."""
import torchvision.models as tvm


def _spec(name):
    return dict(
        build=lambda: getattr(tvm, name)(init_weights=False),
        input=[1, 3, 224, 224],
        reference=f"torchvision 0.14 {name}()",
    )


MODELS = {n: _spec(n) for d in (11, 13, 16, 19) for n in (f"vgg{d}", f"vgg{d}_bn")}
