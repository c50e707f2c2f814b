"""One-training-step parity fixtures (issue 16, item 7): each zoo network in PyTorch's training
form (BatchNorm on batch statistics; Dropout and stochastic depth at p = 0, which our inference
graphs equal), loaded with the synthetic weights of tools/synthetic.py (regenerated bit-identically
by src/weights/synthetic.ts), two SGD steps (lr 0.01, momentum 0.9, weight decay 1e-4) with
softmax cross-entropy on a synthetic batch (MSE against a synthetic target for the dense-output
networks fsrcnn and unet). Stored: both losses, and per parameter the gradient
of step 1 (its L2 norm and up to 48 samples) and the values after steps 1 and 2 at the same
positions; per BatchNorm buffer the running statistics after step 2.

Kink margin. ReLU, PReLU and ReLU6 are not differentiable at their kinks (0, 6), and any two float32
implementations place a pre-activation that lies within their rounding noise of a kink on
either side of it: with 3x3 maps (36 values per BatchNorm channel) one such pixel moves every
earlier gradient by ~1e-2, so the comparison would test which side rounding fell on rather than
the engine. Before writing a fixture we therefore run both steps in float64 with forward hooks
on every ReLU / ReLU6 (Hardtanh) / MaxPool2d call. The margin of each such input tensor is
tau = KINK_K x (largest |float32 - float64| of PyTorch's own value of it, from a float32 copy
of the model at that step's weights, in either step), floored at 1e-6 x its largest |value|:
the measured rounding deviation (2e-7 of the tensor's range after the stem, 2.5e-5 at 3x3 maps)
scaled so that an engine rounding KINK_K/2 times worse than PyTorch still takes PyTorch's branch
everywhere. (A fixed 1e-3 x max|x| is about KINK_K x the deviation at 3x3 maps, but ~5000x it
at 48x48 maps, where a channel of 9216 values has no zero-free gap that wide near 0.)
Each channel with a value within tau of a kink gets the bias of the layer producing it moved
by the smallest shift that clears 2 tau for all of the channel's values without moving any
across a kink if possible: the BatchNorm beta (for a ReLU after a residual Add, the BN of a
summand: both shift the sum alike), or a convolution / linear bias where no BatchNorm
precedes the activation (lenet5). The hooks shift the activation's input in place, which is
exactly what the bias shift gives, so layers are cleared in forward order in one run. Step-1
kinks move the initial biases (`overrides`, full float32 tensors, applied on top of the
synthetic weights). Step-2 kinks cannot be steered through the initial weights: at lr 0.01 the
step-2 pre-activations move by ~0.4 when one initial bias moves by 1e-5 (the shifts for step 1
alone re-draw all of step 2), so they are moved by deltas added to the biases after step 1
(`shift2`, full tensors, mostly 0), which the test adds to its own step-1 result. A second run
checks that nothing is within tau any more. `shifted` counts the channels moved in each step;
`poolTies` counts max-pool windows (after a ReLU, so a bias shift cannot separate them) whose
two largest positive values are within tau: shufflenet_v2's stem has ~12 among 110592 windows
of 9216-value channels, where one routed gradient weighs too little to matter at 1e-4.

    /usr/bin/python3 tools/train_fixtures.py [name ...]
"""
import copy
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from synthetic import synthetic_input  # noqa: E402
from zoo_fixtures import fill_synthetic  # noqa: E402

OUT = os.path.join(HERE, "..", "test", "fixtures", "train")
LR, MOMENTUM, WD = 0.01, 0.9, 1e-4
SAMPLES = 48
KINK_K = 50
PASSES = 12

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
    "repvgg_a0": [4, 3, 96, 96],
    "mobilenetv4_hybrid_medium": [4, 3, 96, 96],
    "fsrcnn": [2, 1, 21, 19],
    "unet": [2, 3, 48, 48],
}
# dense outputs (super-resolution, segmentation maps) take the MSE loss against a synthetic
# target of the output's shape (synthetic_input(shape, "target"))
MSE = {"fsrcnn", "unet"}
# a smaller step where the default one nearly zeroes the second loss (convnext_tiny: no BatchNorm
# to tame it), or makes step 2 chaotic: at lr 0.01 PyTorch's own float32 weights after step 2 of
# mobilenetv4_hybrid_medium differ from its float64 ones by 6.8e-4 (layer scales), at 1e-3 by 3.3e-5
LR_OF = {"convnext_tiny": 1e-4, "mobilenetv4_hybrid_medium": 1e-3}
# the comparison's relative tolerance where PyTorch's own float32 results already deviate from
# its float64 ones by nearly 1e-4: mobilenetv4_hybrid_medium's step-1 gradients by 8.9e-5 (at
# 96x96 and at 128x128 alike: depth and attention, not small maps), so 2.5x that is allowed
TOLERANCE = {"mobilenetv4_hybrid_medium": 2.5e-4}


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


def fresh(spec, overrides):
    torch.manual_seed(0)
    model = spec["build"]()
    fill_synthetic(model)
    no_dropout(model)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for n, v in overrides.items():
            params[n].copy_(torch.tensor(v, dtype=torch.float32).reshape(params[n].shape))
    model.train()
    return model


KINKED = (torch.nn.ReLU, torch.nn.PReLU, torch.nn.Hardtanh, torch.nn.MaxPool2d)  # ReLU6 is a Hardtanh


def kinks_of(mod):
    return [0.0] if isinstance(mod, (torch.nn.ReLU, torch.nn.PReLU)) else [float(mod.min_val), float(mod.max_val)]


def loss_fn(name, targets):
    """The fixture's loss of a model output: cross-entropy on class indices, or MSE against a
    synthetic target of the output's shape for dense outputs."""
    if name in MSE:
        return lambda out: F.mse_loss(out, targets.to(out.dtype))
    return lambda out: F.cross_entropy(out, targets)


def channels(v):
    """[N, C, ...] -> [C, N*...] as numpy"""
    return v.transpose(0, 1).reshape(v.shape[1], -1).numpy()


def clearing_shift(values, kinks, margin, keep=None):
    """Smallest |d| such that no value + d (nor keep + d) lies within `margin` of a kink and,
    if possible, no `keep` value crosses a kink (changes branch)."""
    big = 1e30
    lo = [k - margin - values for k in kinks]
    hi = [k + margin - values for k in kinks]
    if keep is not None:
        for k in kinks:
            below = keep < k
            lo.append(np.where(below, k - margin - keep, -big))
            hi.append(np.where(below, big, k + margin - keep))
    lo, hi = np.concatenate(lo), np.concatenate(hi)
    order = np.argsort(lo)
    lo, hi = lo[order], hi[order]
    # merge the forbidden intervals and find the one holding 0 (if any)
    a, b = lo[0], hi[0]
    for l, h in zip(lo[1:], hi[1:]):
        if l <= b:
            b = max(b, h)
            continue
        if a <= 0 <= b:
            break
        a, b = l, h
    if not (a <= 0 <= b):
        return 0.0
    if a <= -big and b >= big:
        return clearing_shift(np.concatenate([values, keep]), kinks, margin)  # must cross
    if a <= -big:
        return b
    if b >= big:
        return a
    return a if -a < b else b


def pool_ties(mod, v, tau):
    """Windows of max pool `mod` over input v whose largest value is positive and leads the
    second largest by less than tau."""
    k, s, p = (t if isinstance(t, int) else t[0] for t in (mod.kernel_size, mod.stride, mod.padding))
    v = F.pad(v, (p, p, p, p), value=float("-inf"))
    n, c, h, w = v.shape
    cols = F.unfold(v.reshape(n * c, 1, h, w), k, stride=s)  # [n*c, k*k, L]
    top = cols.topk(2, dim=1).values
    return int(((top[:, 0] > 0) & (top[:, 0] - top[:, 1] < tau)).sum())


class KinkPass:
    """One float64 run of both steps from initial biases `overrides` and step-2 bias deltas
    `shift2` (added after the step-1 update), with forward hooks on every kinked call. Without
    `tau` (the measuring run), each step also runs a float32 copy of the model at that step's
    weights to measure PyTorch's own rounding deviation per call, and sets `tau`. With it, a
    channel with a value within tau of a kink is cleared on the spot: the hook adds the shift d
    (the smallest that clears 2 tau, preferring one that moves no value across a kink) to that
    channel of the activation's input, which is exactly what moving the producing bias by d gives
    (a bias's gradient does not depend on its value), and the bias itself is moved before the
    optimizer update (in step 1 that is the initial bias, recorded in `overrides`; in step 2 the
    delta is recorded in `shift2`). Done when a run shifts nothing."""

    def __init__(self, spec, overrides, shift2, x, loss, lr, tau=None):
        self.model = model = fresh(spec, overrides).double()
        self.params = dict(model.named_parameters())
        self.overrides = {n: list(v) for n, v in overrides.items()}
        self.shift2 = {n: list(v) for n, v in shift2.items()}
        self.tau = tau
        self.step = 0
        self.calls = []
        self.last = None
        self.shifts = [{}, {}]  # per step: (bias, channel) -> shift made in this run
        self.ties = 0
        self.modules = dict(model.named_modules())
        for n, mod in model.named_modules():
            mod._kink_name = n
            if isinstance(mod, KINKED):
                mod.register_forward_pre_hook(lambda m, i: self.before(m, i))
            elif isinstance(mod, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.Conv2d, torch.nn.Linear)) \
                    and getattr(mod, "bias", None) is not None:
                mod.register_forward_hook(lambda m, i, o: self.after(m, i, o))
        dev, peak = [[], []], []
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM, weight_decay=WD)
        for step in range(2):
            self.step = step
            if tau is None:
                self.calls, self.last, self.active = [], None, False
                with torch.no_grad():
                    copy.deepcopy(model).float()(x.float())  # the copy shares the hooks (plain functions)
                f32 = self.calls
            self.calls, self.last, self.active = [], None, tau is not None
            opt.zero_grad()
            loss(model(x.double())).backward()
            if tau is None:
                dev[step] = [float((v - w.double()).abs().max()) for v, w in zip(self.calls, f32)]
                if step == 0:
                    peak = [float(v.abs().max()) for v in self.calls]
            with torch.no_grad():
                for (bias, ch), d in self.shifts[step].items():
                    self.params[bias].view(-1)[ch] += d
                opt.step()
                if step == 0:
                    for n, v in self.shift2.items():
                        self.params[n].view(-1).add_(torch.tensor(v, dtype=torch.float64))
        if tau is None:
            self.tau = [max(KINK_K * max(a, b), 1e-6 * v) for a, b, v in zip(dev[0], dev[1], peak)]

    def after(self, mod, inp, out):
        self.last = mod._kink_name

    def before(self, mod, inp):
        v = inp[0]
        j = len(self.calls)
        self.calls.append(v.detach().clone())
        if not self.active:
            return None
        tau = self.tau[j]
        if isinstance(mod, torch.nn.MaxPool2d):
            self.ties += pool_ties(mod, v.detach(), tau)
            return None
        kinks = kinks_of(mod)
        per = channels(v.detach())
        bad = np.zeros(per.shape[0], bool)
        for k in kinks:
            bad |= (np.abs(per - k) < tau).any(axis=1)
        if not bad.any():
            return None
        # timm's BatchNormAct2d applies its activation inside the BatchNorm module, before the
        # BatchNorm's forward hook has run: there the enclosing BatchNorm is the biased layer
        parent = self.modules.get(mod._kink_name.rpartition(".")[0])
        last = parent._kink_name if isinstance(parent, torch.nn.modules.batchnorm._BatchNorm) else self.last
        if last is None:
            raise SystemExit(f"{mod._kink_name} has a value near a kink but no biased layer before it")
        bias = f"{last}.bias"
        size = self.params[bias].numel()
        assert size == per.shape[0], (mod._kink_name, bias)
        if self.step == 0:
            cur = self.overrides.setdefault(bias, self.params[bias].detach().reshape(-1).tolist())
        else:
            cur = self.shift2.setdefault(bias, [0.0] * size)
        add = torch.zeros(per.shape[0], dtype=v.dtype)
        for ch in np.nonzero(bad)[0].tolist():
            d = clearing_shift(np.zeros(0), kinks, 2 * tau, per[ch])
            new = float(np.float32(cur[ch] + d))
            add[ch] = new - cur[ch]
            cur[ch] = new
            key = (bias, ch)
            self.shifts[self.step][key] = self.shifts[self.step].get(key, 0.0) + float(add[ch])
        shape = [1, -1] + [1] * (v.dim() - 2)
        return (v + add.reshape(shape),) + tuple(inp[1:])


def kink_overrides(name, spec, x, loss, lr, log=print):
    """Initial biases (full float32 tensors by name) and step-2 bias deltas that keep every
    ReLU/ReLU6 input of both steps at least tau from its kink, the numbers of channels shifted
    in each and the count of max-pool ties."""
    tau = KinkPass(spec, {}, {}, x, loss, lr).tau
    overrides, shift2, shifted = {}, {}, [set(), set()]
    for it in range(PASSES):
        p = KinkPass(spec, overrides, shift2, x, loss, lr, tau)
        log(f"{name}: pass {it}: {len(p.shifts[0])} channels shifted in step 1, {len(p.shifts[1])} in step 2, "
            f"{p.ties} max-pool ties")
        if not p.shifts[0] and not p.shifts[1]:
            return overrides, shift2, [len(s) for s in shifted], p.ties
        overrides, shift2 = p.overrides, p.shift2
        for s in range(2):
            shifted[s] |= set(p.shifts[s])
    raise SystemExit(f"{name}: kink shifts did not settle")


def make(name, spec, shape):
    x = torch.from_numpy(synthetic_input(shape))
    out0 = fresh(spec, {})(x)
    classes = out0.shape[1]
    if name in MSE:
        targets = torch.from_numpy(synthetic_input(list(out0.shape), "target"))
    else:
        targets = torch.tensor([(i * 7 + 3) % classes for i in range(shape[0])], dtype=torch.long)
    loss_of = loss_fn(name, targets)
    lr = LR_OF.get(name, LR)
    overrides, shift2, shifted, ties = kink_overrides(name, spec, x, loss_of, lr)
    # fresh model again (the forwards above updated running statistics)
    model = fresh(spec, overrides)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM, weight_decay=WD)
    names = [n for n, _ in model.named_parameters()]
    params = dict(model.named_parameters())
    rec = {n: {"shape": list(p.shape), "idx": positions(p.numel())} for n, p in params.items()}
    losses = []
    for step in range(2):
        opt.zero_grad()
        loss = loss_of(model(x))
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
        if step == 0:
            with torch.no_grad():
                for n, v in shift2.items():
                    params[n].view(-1).add_(torch.tensor(v, dtype=torch.float32))
    buffers = {}
    for n, b in model.named_buffers():
        if n.endswith("running_mean") or n.endswith("running_var"):
            flat = b.reshape(-1)
            idx = positions(flat.numel())
            buffers[n] = {"idx": idx, "after2": [g9(flat[i]) for i in idx]}
    fixture = {
        "name": name, "inputShape": shape, "losses": losses,
        **({"loss": "mse", "outputShape": list(out0.shape)} if name in MSE else {"targets": targets.tolist()}),
        "optimizer": {"lr": lr, "momentum": MOMENTUM, "weightDecay": WD}, "order": names,
        "params": rec, "buffers": buffers, "torch": torch.__version__,
        "kinkK": KINK_K, "tolerance": TOLERANCE.get(name, 1e-4), "shifted": shifted, "poolTies": ties,
        "overrides": {n: [g9(v) for v in vs] for n, vs in overrides.items()},
        "shift2": {n: [g9(v) if v else 0 for v in vs] for n, vs in shift2.items()},
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{name}: losses {losses[0]:.6f} {losses[1]:.6f}, {len(names)} parameters, "
          f"channels shifted {shifted[0]} (step 1) {shifted[1]} (step 2), {ties} max-pool ties")


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
