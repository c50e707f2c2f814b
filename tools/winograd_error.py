"""Winograd F(m x m, 3x3) matrices from interpolation points, and their float32 error.

Builds Aᵀ, G, Bᵀ (Lavin & Gray 2016; Toom-Cook with the point at infinity) for a point set in
exact fractions, checks them against direct correlation, and measures the error of a float32
evaluation of 512-channel sums (transforms and products rounded as assembly/winograd.ts does:
filters transformed in f64 and rounded once) against an f64 reference, relative to
1 + max|ref|. Prints the matrices for the point sets used (F(2x2): 0, 1, -1; F(4x4): 0, 1, -1,
2, -1/2) and the error of alternatives. Needs numpy (only for this tool):

    python3 tools/winograd_error.py
"""
from fractions import Fraction as F

import numpy as np


def poly_from_roots(roots):
    c = [F(1)]
    for a in roots:
        c = [F(0)] + c
        for i in range(len(c) - 1):
            c[i] -= a * c[i + 1]
    return c


def matrices(m, points, r=3):
    n = m + r - 1
    at = [[p**i for p in points] + [F(1) if i == m - 1 else F(0)] for i in range(m)]
    g = []
    for j, p in enumerate(points):
        f = F(1)
        for k, q in enumerate(points):
            if k != j:
                f *= p - q
        g.append([p**k / f for k in range(r)])
    g.append([F(1) if k == r - 1 else F(0) for k in range(r)])
    bt = []
    for j in range(n - 1):
        c = poly_from_roots([q for k, q in enumerate(points) if k != j])
        bt.append(c + [F(0)] * (n - len(c)))
    c = poly_from_roots(points)
    bt.append(c + [F(0)] * (n - len(c)))
    return at, g, bt


def as_float(mat):
    return np.array([[float(x) for x in row] for row in mat])


def error(m, points, channels=512, trials=100, seed=1):
    rng = np.random.default_rng(seed)
    at, g, bt = (as_float(x) for x in matrices(m, points))
    n = m + 2
    at32, bt32 = at.astype(np.float32), bt.astype(np.float32)
    worst = 0.0
    for _ in range(trials):
        d = rng.uniform(-1, 1, (channels, n, n)).astype(np.float32)
        w = (rng.uniform(-1, 1, (channels, 3, 3)) / np.sqrt(9 * channels)).astype(np.float32)
        u = np.einsum("ij,cjk,lk->cil", g, w.astype(np.float64), g).astype(np.float32)
        v = np.einsum("ij,cjk,lk->cil", bt32, d, bt32, dtype=np.float32)
        acc = np.zeros((n, n), np.float32)
        for c in range(channels):
            acc = (acc + u[c] * v[c]).astype(np.float32)
        y = (at32 @ acc @ at32.T).astype(np.float32)
        ref = np.array([[np.sum(d[:, i:i + 3, j:j + 3].astype(np.float64) * w) for j in range(m)] for i in range(m)])
        worst = max(worst, float(np.abs(y - ref).max() / (1 + np.abs(ref).max())))
    return worst


if __name__ == "__main__":
    for m, pts in [(2, [F(0), F(1), F(-1)]), (4, [F(0), F(1), F(-1), F(2), F(-1, 2)])]:
        at, g, bt = matrices(m, pts)
        # the matrices compute correlation exactly (float64 check)
        d, w = np.random.default_rng(0).standard_normal(m + 2), np.random.default_rng(1).standard_normal(3)
        y = as_float(at) @ ((as_float(g) @ w) * (as_float(bt) @ d))
        assert np.allclose(y, [d[i:i + 3] @ w for i in range(m)])
        print(f"F({m}x{m}, 3x3), points {[str(p) for p in pts]}:")
        for name, mat in (("A^T", at), ("G", g), ("B^T", bt)):
            print(f"  {name}: {[[str(x) for x in row] for row in mat]}")
        print(f"  float32 error at 512 channels: {error(m, pts):.2g}")
    print(f"F(4x4), textbook points 0, 1, -1, 2, -2: {error(4, [F(0), F(1), F(-1), F(2), F(-2)]):.2g}")
