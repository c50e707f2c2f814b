"""PyTorch's view of the bundled LeNet-5 weights (models/weights/lenet5.safetensors, written by
`npm run train`, i.e. `wasmcnn train lenet5`: trained in wasmcnn's own wasm): the float32 logits
of the first 50 held-out MNIST digits and the held-out and training accuracy, as the parity
fixture test/fixtures/lenet5/reference.json that test/lenet5.test.ts reads.

Architecture after Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-Based Learning
Applied to Document Recognition", Proc. IEEE 86(11), 1998 (Section II.B), in its common modern
reading: ReLU, 2x2 max pooling, a linear output layer giving logits.

Run:  /usr/bin/python3 tools/lenet5_reference.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist_data  # noqa: E402
import safetensors_io  # noqa: E402

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
        return self.classifier(torch.flatten(self.features(x), 1))


@torch.no_grad()
def accuracy(model, x, y):
    pred = torch.cat([model(x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)])
    return (pred == y).sum().item() / len(y)


def main():
    repo = mnist_data.REPO
    wpath = os.path.join(repo, "models", "weights", "lenet5.safetensors")
    tensors, meta = safetensors_io.load_f32(wpath)
    model = LeNet5()
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
    model.eval()
    s = mnist_data.load_split()
    tx = torch.from_numpy(s["train_x"]).unsqueeze(1)
    ty = torch.from_numpy(s["train_y"])
    hx = torch.from_numpy(s["held_x"]).unsqueeze(1)
    hy = torch.from_numpy(s["held_y"])
    held_acc = accuracy(model, hx, hy)
    train_acc = accuracy(model, tx, ty)
    with torch.no_grad():
        logits = model(hx[:N_REFERENCE]).numpy().astype(np.float32)
    ref = {
        "description": "PyTorch float32 logits of LeNet-5 (models/weights/lenet5.safetensors) for the first "
                       f"{N_REFERENCE} held-out digits; compare within 1e-4",
        "weights": meta.get("recipe", ""),
        "split": mnist_data.SPLIT_RULE,
        "input": "1x1x32x32, the digit's 28x28 floats zero-padded by 2, no normalisation",
        "torch": torch.__version__,
        "heldOutAccuracy": held_acc,
        "heldOutCorrect": int(round(held_acc * len(hx))),
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
    with open(rpath, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(f"held-out accuracy {held_acc:.4f}, train {train_acc:.4f}; wrote {rpath}")


if __name__ == "__main__":
    main()
