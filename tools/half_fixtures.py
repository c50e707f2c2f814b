"""float32 -> float16 / bfloat16 rounding fixture (issue 18, item 2): PyTorch's `.half()` and
`.bfloat16()` of float32 values chosen to hit every branch of a rounding routine: normal values
around 1, exact ties between neighbouring halves (ties to even both ways), the largest finite
half (65504) and the overflow threshold (65520 rounds to infinity), subnormal halves and the
underflow threshold (2^-25 ties to 0, just above it rounds to the least subnormal), float32
subnormals, signed zeros, infinities, and random values over the whole exponent range.
Stored: the float32 bits and PyTorch's 16-bit patterns.

    /usr/bin/python3 tools/half_fixtures.py
"""
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "half.json")


def main():
    rng = np.random.default_rng(7)
    vals = [0.0, -0.0, 1.0, -1.0, 1.0 + 2 ** -11, 1.0 + 3 * 2 ** -11, 1.0 + 2 ** -11 + 2 ** -20, 65504.0, 65519.99,
            65520.0, 65536.0, 1e6, 2 ** -14, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -26, 2 ** -26, 1e-40, -1e-40,
            float("inf"), float("-inf"), 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, 3.4e38, -3.4e38, 0.1, 1 / 3]
    exps = rng.uniform(-30, 18, 600)
    vals += list((rng.choice([-1, 1], 600) * 2.0 ** exps).astype(np.float32))
    bexps = rng.uniform(-130, 127, 300)
    vals += list((rng.choice([-1, 1], 300) * 2.0 ** bexps).astype(np.float32))
    x = torch.tensor(np.array(vals, dtype=np.float32))
    bits = x.view(torch.int32).numpy().astype(np.uint32).tolist()
    half = x.half().view(torch.int16).numpy().astype(np.uint16).tolist()
    bf16 = x.bfloat16().view(torch.int16).numpy().astype(np.uint16).tolist()
    with open(OUT, "w") as f:
        json.dump({"torch": torch.__version__, "f32bits": bits, "half": half, "bfloat16": bf16}, f, separators=(",", ":"))
    print("wrote", OUT, len(bits), "values")


if __name__ == "__main__":
    main()
