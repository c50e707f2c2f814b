"""RepVGG (Ding et al. 2021) reference modules for the zoo harness: timm 1.0.29's ByobNet
repvgg_* models (byobnet.py, RepVggBlock). The training (three-branch) form is the reference
for models/repvgg.ts; '<name>+deploy' fixtures run timm's own re-parameterisation
(RepVggBlock.reparameterize) on the same training-time weights, so they check the deployed
form (createModel(name, {deploy: true})) against PyTorch's deployed model, with PyTorch's
deployed parameter count."""
import timm
import torch.nn as nn

VARIANTS = ["repvgg_a0", "repvgg_a1", "repvgg_a2", "repvgg_b0", "repvgg_b1", "repvgg_b1g4",
            "repvgg_b2", "repvgg_b2g4", "repvgg_b3", "repvgg_b3g4"]


def _timm(name):
    return lambda: timm.create_model(name, pretrained=False)


class Deployed(nn.Module):
    """Holds the training-form model (so its state_dict keys are the training-time ones) and
    re-parameterises every block at the first forward, after the weights are loaded."""

    def __init__(self, name):
        super().__init__()
        self.net = timm.create_model(name, pretrained=False)
        self.merged = False

    def state_dict(self, *a, **k):
        return self.net.state_dict(*a, **k)

    def load_state_dict(self, sd, strict=True):
        return self.net.load_state_dict(sd, strict)

    def forward(self, x):
        if not self.merged:
            for m in list(self.net.modules()):
                if hasattr(m, "reparameterize"):
                    m.reparameterize()
            self.merged = True
        return self.net(x)


MODELS = {
    name: dict(build=_timm(name), input=[1, 3, 224, 224], reference=f"timm 1.0.29 {name}")
    for name in VARIANTS
}
MODELS["repvgg_a0+deploy"] = dict(
    build=lambda: Deployed("repvgg_a0"), input=[1, 3, 224, 224],
    reference="timm 1.0.29 repvgg_a0, reparameterize()", options={"deploy": True})
