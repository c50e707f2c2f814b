"""One-training-step parity fixtures (issue 16, item 7): each zoo network in PyTorch's training
form (BatchNorm on batch statistics; Dropout and stochastic depth at p = 0, which our inference
graphs equal), loaded with the synthetic weights of tools/synthetic.py (regenerated bit-identically
by src/weights/synthetic.ts), two SGD steps (lr 0.01, momentum 0.9, weight decay 1e-4) with
softmax cross-entropy on a synthetic batch. Stored: both losses, and per parameter the gradient
of step 1 (its L2 norm and up to 48 samples) and the values after steps 1 and 2 at the same
positions; per BatchNorm buffer the running statistics after step 2.

    /usr/bin/python3 tools/train_fixtures.py [name ...]
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from synthetic import synthetic_input  # noqa: E402
from zoo_fixtures import fill_synthetic  # noqa: E402

OUT = os.path.join(HERE, "..", "test", "fixtures", "train")
LR, MOMENTUM, WD = 0.01, 0.9, 1e-4
SAMPLES = 48

# name -> input shape. Small images keep the fixture quick, but BatchNorm over few values per
# channel is ill-conditioned: at [2, 3, 64, 64] (2x2 maps at the end, 8 values per channel)
# PyTorch's own float32 gradients of mobilenet_v2 differ from its float64 ones by 8% (0.04% for
# shufflenet_v2); at [4, 3, 96, 96] by at most 3.4e-5, so a 1e-4 comparison is meaningful.
MODELS = {
    "lenet5": [4, 1, 32, 32],
    "resnet18": [2, 3, 64, 64],
    "mobilenet_v2": [4, 3, 96, 96],
    "efficientnet_b0": [4, 3, 96, 96],
    "shufflenet_v2_x1_0": [4, 3, 96, 96],
    "convnext_tiny": [2, 3, 64, 64],
}
# a smaller step where the default one nearly zeroes the second loss (no BatchNorm to tame it)
LR_OF = {"convnext_tiny": 1e-4}


def g9(v):
    return float("%.9g" % float(v))


def positions(n):
    if n <= SAMPLES:
        return list(range(n))
    return [round(j * (n - 1) / (SAMPLES - 1)) for j in range(SAMPLES)]


def no_dropout(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        if type(m).__name__ == "StochasticDepth":
            m.p = 0.0


def make(name, spec, shape):
    torch.manual_seed(0)
    model = spec["build"]()
    fill_synthetic(model)
    no_dropout(model)
    model.train()
    x = torch.from_numpy(synthetic_input(shape))
    out0 = model(x)
    classes = out0.shape[1]
    targets = torch.tensor([(i * 7 + 3) % classes for i in range(shape[0])], dtype=torch.long)
    # fresh model again (the forward above updated running statistics)
    model = spec["build"]()
    fill_synthetic(model)
    no_dropout(model)
    model.train()
    lr = LR_OF.get(name, LR)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM, weight_decay=WD)
    names = [n for n, _ in model.named_parameters()]
    params = dict(model.named_parameters())
    rec = {n: {"shape": list(p.shape), "idx": positions(p.numel())} for n, p in params.items()}
    losses = []
    for step in range(2):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), targets)
        loss.backward()
        losses.append(float(loss))
        for n in names:
            p = params[n]
            flat = p.grad.reshape(-1) if step == 0 else None
            if step == 0:
                rec[n]["gradNorm"] = g9(flat.double().norm())
                rec[n]["grad"] = [g9(flat[i]) for i in rec[n]["idx"]]
        opt.step()
        for n in names:
            w = params[n].detach().reshape(-1)
            rec[n][f"after{step + 1}"] = [g9(w[i]) for i in rec[n]["idx"]]
    buffers = {}
    for n, b in model.named_buffers():
        if n.endswith("running_mean") or n.endswith("running_var"):
            flat = b.reshape(-1)
            idx = positions(flat.numel())
            buffers[n] = {"idx": idx, "after2": [g9(flat[i]) for i in idx]}
    fixture = {
        "name": name, "inputShape": shape, "targets": targets.tolist(), "losses": losses,
        "optimizer": {"lr": lr, "momentum": MOMENTUM, "weightDecay": WD}, "order": names,
        "params": rec, "buffers": buffers, "torch": torch.__version__,
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{name}: losses {losses[0]:.6f} {losses[1]:.6f}, {len(names)} parameters")


def registry():
    """The zoo's PyTorch definitions (tools/zoo/<family>.py MODELS), skipping families whose
    reference package (e.g. timm) is not installed here."""
    import importlib
    import pkgutil
    models = {}
    for info in pkgutil.iter_modules([os.path.join(HERE, "zoo")]):
        try:
            mod = importlib.import_module(f"zoo.{info.name}")
        except ImportError as e:
            print(f"skipping tools/zoo/{info.name}.py: {e}")
            continue
        models.update(getattr(mod, "MODELS", {}))
    return models


def main():
    reg = registry()
    wanted = sys.argv[1:] or list(MODELS)
    for name in wanted:
        make(name, reg[name], MODELS[name])


if __name__ == "__main__":
    main()
