"""GoogLeNet / Inception v1 (Szegedy et al. 2015, "Going Deeper with Convolutions"):
torchvision 0.14's googlenet in its inference form (no auxiliary classifiers, no input
transform), the reference of models/googlenet.ts."""
import torchvision.models as tvm

MODELS = {
    "googlenet": dict(
        build=lambda: tvm.googlenet(aux_logits=False, init_weights=False, transform_input=False),
        input=[1, 3, 224, 224],
        reference="torchvision 0.14 googlenet(aux_logits=False, init_weights=False)",
    ),
}
