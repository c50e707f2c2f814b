"""Zoo parity fixtures: for each registered model, build the reference implementation
(torchvision, timm, or a reference module under tools/zoo/), fill every float state_dict
entry with the synthetic weights of tools/synthetic.py (keyed by name, identical to
src/weights/synthetic.ts), run the synthetic input and store PyTorch's output, the parameter
count and the state_dict names/shapes in test/fixtures/zoo/<name>.json.

    /usr/bin/python3 tools/zoo_fixtures.py                 # every model
    /usr/bin/python3 tools/zoo_fixtures.py resnet50 vgg16  # some

timm (for timm-referenced families) comes from the wheel on this machine: unzip
/opt/pypi/files/timm-1.0.29-py3-none-any.whl into /opt/timm (the script adds it to sys.path).
CI never runs this; it only reads the JSON files.
"""
import importlib
import json
import os
import pkgutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.environ.get("TIMM_PATH", "/opt/timm"))

import torch  # noqa: E402

from synthetic import synthetic_input, synthetic_tensor  # noqa: E402

OUT = os.path.join(HERE, "..", "test", "fixtures", "zoo")


def registry():
    """name -> spec, from every tools/zoo/<family>.py module's MODELS dict.

    spec: dict(build=callable returning an nn.Module, input=[N,C,H,W], reference=str,
               options=dict passed to createModel on the TypeScript side (optional),
               sample=int: store every sample-th output value only (large outputs),
               keys_only=bool: store names, shapes and the parameter count, no output)."""
    models = {}
    pkg = os.path.join(HERE, "zoo")
    for info in pkgutil.iter_modules([pkg]):
        mod = importlib.import_module(f"zoo.{info.name}")
        for name, spec in getattr(mod, "MODELS", {}).items():
            if name in models:
                raise SystemExit(f"{name} registered twice")
            models[name] = spec
    return models


def fill_synthetic(model):
    sd = model.state_dict()
    keys = {}
    new = {}
    for k, v in sd.items():
        if v.is_floating_point():
            new[k] = torch.from_numpy(synthetic_tensor(k, list(v.shape)))
            keys[k] = list(v.shape)
        else:
            new[k] = v
    model.load_state_dict(new)
    return keys


@torch.no_grad()
def make(name, spec):
    torch.manual_seed(0)
    model = spec["build"]()
    keys = fill_synthetic(model)
    model.eval()
    shape = spec["input"]
    if spec.get("keys_only"):
        # too large to run in the test's wasm memory: names, shapes and parameter count only
        fixture = {"name": name, "reference": spec["reference"], "options": spec.get("options", {}), "inputShape": shape,
                   "params": int(sum(p.numel() for p in model.parameters())), "keys": keys, "torch": torch.__version__}
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(fixture, f, separators=(",", ":"))
        print(f"{name}: params {fixture['params']:,} (keys only)")
        return
    x = torch.from_numpy(synthetic_input(shape))
    y = model(x)
    if isinstance(y, dict):
        y = y["out"]
    if isinstance(y, (tuple, list)):
        y = y[0]
    flat = y.reshape(-1).double().tolist()
    step = spec.get("sample", 1)
    fixture = {
        "name": name,
        "reference": spec["reference"],
        "options": spec.get("options", {}),
        "inputShape": shape,
        "outputShape": list(y.shape),
        "params": int(sum(p.numel() for p in model.parameters())),
        "keys": keys,
        "sample": step,
        "maxAbs": max(abs(v) for v in flat),
        "output": [float("%.9g" % v) for v in flat[::step]],
        "torch": torch.__version__,
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{name}: params {fixture['params']:,} out {fixture['outputShape']} max|y| {fixture['maxAbs']:.4g}")


def main():
    models = registry()
    names = sys.argv[1:] or sorted(models)
    for n in names:
        if n not in models:
            raise SystemExit(f"unknown model {n}; known: {', '.join(sorted(models))}")
        make(n, models[n])


if __name__ == "__main__":
    main()
