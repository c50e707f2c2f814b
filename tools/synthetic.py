"""Deterministic synthetic weights keyed by state_dict name: the Python twin of
src/weights/synthetic.ts (same FNV-1a seed, xorshift32 stream and roles), so zoo fixtures
store only PyTorch's outputs and the TypeScript tests regenerate identical float32 weights."""
import math

import numpy as np


def fnv1a(key: str) -> int:
    h = 0x811C9DC5
    for b in key.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def uniform_stream(key: str, n: int) -> np.ndarray:
    """n values in [-1, 1): lowbias32 hash of seed + i * 0x9e3779b9, top 24 bits."""
    seed = np.uint32(fnv1a(key))
    with np.errstate(over="ignore"):
        x = seed + np.arange(n, dtype=np.uint32) * np.uint32(0x9E3779B9)
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
    return (x >> np.uint32(8)).astype(np.float64) / 8388608.0 - 1.0


def synthetic_tensor(key: str, shape) -> np.ndarray:
    shape = list(shape)
    n = int(np.prod(shape)) if shape else 1
    u = uniform_stream(key, n)
    leaf = key[key.rfind(".") + 1:]
    one_d = len(shape) <= 1 and len([d for d in shape if d != 1]) <= 1
    if leaf == "running_mean":
        v = 0.2 * u
    elif leaf == "running_var":
        v = 1 + 0.5 * u
    elif leaf == "bias":
        v = 0.1 * u
    elif leaf == "gamma":  # timm layer scale: keep residual branches small
        v = 0.1 + 0.025 * u
    elif one_d or any(t in leaf for t in ("gamma", "layer_scale", "scale")):
        v = 1 + 0.25 * u
    else:
        a = math.sqrt(3 / (n / shape[0]))
        v = u * a
    return v.astype(np.float32).reshape(shape)


def synthetic_input(shape, key="input") -> np.ndarray:
    n = int(np.prod(shape))
    return uniform_stream(key, n).astype(np.float32).reshape(shape)
