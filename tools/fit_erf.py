"""Fits the rational erf behind GELU's normal CDF (assembly/math.ts, vphiFast, which takes
these coefficients with u = x / sqrt 2 substituted).

erf(u) ~= u P(u^2) / Q(u^2) on 0 <= u <= 3.92, P and Q of degree 5, Q(0) = 1: linearised least
squares (u P - erf(u) Q = 0) on Chebyshev nodes, iterated with 1/Q weights (Loeb) and
Lawson re-weighting towards the minimax error. Prints the float32 coefficients and the error
of a float32 Horner evaluation. Needs numpy and scipy (only for this tool):

    python3 tools/fit_erf.py
"""
import numpy as np
from scipy.special import erf

U = 3.92  # erf(3.92) = 1 - 1.7e-8 rounds to 1.0 in float32
DP = DQ = 5


def fit(n=4000, iters=60):
    k = np.arange(n)
    u = np.concatenate([U * (1 - np.cos(np.pi * (k + 0.5) / n)) / 2, [0.0, U]])
    t, y = u * u, erf(u)
    w, qv, best = np.ones_like(u), np.ones_like(u), None
    for _ in range(iters):
        cols = [u * t**i for i in range(DP + 1)] + [-y * t**j for j in range(1, DQ + 1)]
        c, *_ = np.linalg.lstsq(np.stack(cols, 1) * (w / qv)[:, None], y * w / qv, rcond=None)
        p, q = c[: DP + 1], np.concatenate([[1.0], c[DP + 1:]])
        qv = np.polyval(q[::-1], t)
        err = u * np.polyval(p[::-1], t) / qv - y
        m = np.abs(err).max()
        if best is None or m < best[0]:
            best = (m, p.copy(), q.copy())
        w = w * (np.abs(err) / m + 1e-3) ** 0.5
        w /= w.mean()
    return best


def horner32(coefs, t):
    acc = np.full_like(t, np.float32(coefs[-1]))
    for c in coefs[-2::-1]:
        acc = acc * t + np.float32(c)
    return acc


if __name__ == "__main__":
    m, p, q = fit()
    u = np.linspace(0, U, 400001).astype(np.float32)
    t = u * u
    e32 = np.abs((u * horner32(p, t) / horner32(q, t)).astype(np.float64) - erf(u.astype(np.float64)))
    print(f"fit |error| {m:.3g}, float32 evaluation |error| {e32.max():.3g}")
    print("P", [float(np.float32(x)) for x in p])
    print("Q", [float(np.float32(x)) for x in q])
