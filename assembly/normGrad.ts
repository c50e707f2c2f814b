// Training-mode normalisation kernels (f32 data, f64 statistics, WebAssembly SIMD).
//
// Batch normalisation: Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep Network
// Training by Reducing Internal Covariate Shift" (arXiv:1502.03167), Algorithm 1 and its
// backward pass; running statistics as PyTorch 1.13's torch.nn.BatchNorm2d (biased variance for
// normalising, unbiased M/(M-1) for running_var, run = (1 - momentum) run + momentum stat).
// Layer normalisation: Ba, Kiros & Hinton 2016 (arXiv:1607.06450), PyTorch's layer_norm
// (biased variance, invstd = 1 / sqrt(var + eps)).
// Backward of both (xhat = (x - mean) invstd, g = dL/dxhat, M items in the set):
//   dx = invstd / M * (M g - sum(g) - xhat sum(g xhat)).
// Sums run in f64 (two passes: mean, then squared deviations) so the statistics do not drift
// with large planes.

// @ts-ignore: decorator
@inline function hiHalf(v: v128): v128 { return v128.shuffle<f32>(v, v, 2, 3, 0, 1); }

/** Sum of n floats, in f64. */
function sum64(p: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(hiHalf(v)));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < n; i++) s += <f64>load<f32>(p + (<usize>i << 2));
  return s;
}

/** Sum of (x - m)^2 over n floats, in f64. */
function sumSqDev64(p: usize, n: i32, m: f64): f64 {
  const mv = f64x2.splat(m);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), mv);
    const d1 = f64x2.sub(f64x2.promote_low_f32x4(hiHalf(v)), mv);
    a0 = f64x2.add(a0, f64x2.mul(d0, d0));
    a1 = f64x2.add(a1, f64x2.mul(d1, d1));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < n; i++) {
    const d = <f64>load<f32>(p + (<usize>i << 2)) - m;
    s += d * d;
  }
  return s;
}

/** Sum of g * (x - m) over n floats, in f64. */
function sumDot64(g: usize, x: usize, n: i32, m: f64): f64 {
  const mv = f64x2.splat(m);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const gv = v128.load(g + off), xv = v128.load(x + off);
    a0 = f64x2.add(a0, f64x2.mul(f64x2.promote_low_f32x4(gv), f64x2.sub(f64x2.promote_low_f32x4(xv), mv)));
    a1 = f64x2.add(a1, f64x2.mul(f64x2.promote_low_f32x4(hiHalf(gv)), f64x2.sub(f64x2.promote_low_f32x4(hiHalf(xv)), mv)));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < n; i++) {
    const off = <usize>i << 2;
    s += <f64>load<f32>(g + off) * (<f64>load<f32>(x + off) - m);
  }
  return s;
}

/** y[i] = x[i] * a + b over n floats (SIMD). */
function affine(x: usize, y: usize, n: i32, a: f32, b: f32): void {
  const av = f32x4.splat(a), bv = f32x4.splat(b);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(y + off, f32x4.add(f32x4.mul(v128.load(x + off), av), bv));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(y + off, load<f32>(x + off) * a + b);
  }
}

/**
 * dx[i] = k * (g[i] * M - sg - (x[i] - m) * c) over n floats: the normalisation backward with
 * k = scale * invstd / M, c = sum(g xhat) * invstd, g scaled by gs (gamma) on the fly.
 */
function normBack(x: usize, g: usize, dx: usize, n: i32, gs: f32, M: f32, sg: f32, m: f32, c: f32, k: f32): void {
  const gsv = f32x4.splat(gs), Mv = f32x4.splat(M), sgv = f32x4.splat(sg), mv = f32x4.splat(m);
  const cv = f32x4.splat(c), kv = f32x4.splat(k);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const gg = f32x4.mul(v128.load(g + off), gsv);
    const t = f32x4.sub(f32x4.sub(f32x4.mul(gg, Mv), sgv), f32x4.mul(f32x4.sub(v128.load(x + off), mv), cv));
    v128.store(dx + off, f32x4.mul(t, kv));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const gg = load<f32>(g + off) * gs;
    store<f32>(dx + off, ((gg * M - sg) - (load<f32>(x + off) - m) * c) * k);
  }
}

/**
 * BatchNorm forward in training mode over NCHW x [N][C][HW]: per channel the batch mean and
 * biased variance (M = N*HW items, f64 sums), y = (x - mean) * invstd * gamma + beta with
 * invstd = 1 / sqrt(var + eps). Saves mean[C] and invstd[C] for the backward. Running stats
 * (either pointer 0 = not tracked): runMean = (1 - momentum) runMean + momentum mean,
 * runVar = (1 - momentum) runVar + momentum var * M / (M - 1) (M = 1: var itself).
 * gamma / beta 0 = none (1 and 0). y may alias x.
 */
export function bn_train_fwd_f32(
  x: usize, y: usize, N: i32, C: i32, HW: i32, gamma: usize, beta: usize, eps: f64, momentum: f64,
  mean: usize, invstd: usize, runMean: usize, runVar: usize,
): void {
  const M = <f64>N * <f64>HW;
  const plane = <usize>HW << 2;
  const batch = plane * <usize>C;
  for (let c = 0; c < C; c++) {
    let s: f64 = 0;
    for (let n = 0; n < N; n++) s += sum64(x + <usize>n * batch + <usize>c * plane, HW);
    const mu = s / M;
    let q: f64 = 0;
    for (let n = 0; n < N; n++) q += sumSqDev64(x + <usize>n * batch + <usize>c * plane, HW, mu);
    const v = q / M;
    const is = 1.0 / Math.sqrt(v + eps);
    const co = <usize>c << 2;
    store<f32>(mean + co, <f32>mu);
    store<f32>(invstd + co, <f32>is);
    if (runMean) store<f32>(runMean + co, <f32>((1 - momentum) * <f64>load<f32>(runMean + co) + momentum * mu));
    if (runVar) {
      const unb = M > 1 ? q / (M - 1) : v;
      store<f32>(runVar + co, <f32>((1 - momentum) * <f64>load<f32>(runVar + co) + momentum * unb));
    }
    const gm: f64 = gamma ? <f64>load<f32>(gamma + co) : 1.0;
    const bt: f64 = beta ? <f64>load<f32>(beta + co) : 0.0;
    const a = is * gm;
    const b = bt - mu * a;
    for (let n = 0; n < N; n++) {
      const off = <usize>n * batch + <usize>c * plane;
      affine(x + off, y + off, HW, <f32>a, <f32>b);
    }
  }
}

/**
 * BatchNorm backward (training mode) over NCHW [N][C][HW] with the mean / invstd saved by
 * bn_train_fwd_f32: xhat = (x - mean) invstd,
 * dx = gamma invstd / M * (M dy - sum(dy) - xhat sum(dy xhat)) (OVERWRITTEN),
 * dgamma[c] += sum(dy xhat), dbeta[c] += sum(dy) (ACCUMULATED; either pointer 0 = skip).
 * gamma 0 = none (1). dx may alias dy.
 */
export function bn_train_bwd_f32(
  x: usize, dy: usize, dx: usize, N: i32, C: i32, HW: i32, gamma: usize, mean: usize, invstd: usize,
  dgamma: usize, dbeta: usize,
): void {
  const M = <f64>N * <f64>HW;
  const plane = <usize>HW << 2;
  const batch = plane * <usize>C;
  for (let c = 0; c < C; c++) {
    const co = <usize>c << 2;
    const mu = load<f32>(mean + co);
    const is = <f64>load<f32>(invstd + co);
    let sg: f64 = 0, sgx: f64 = 0;
    for (let n = 0; n < N; n++) {
      const off = <usize>n * batch + <usize>c * plane;
      sg += sum64(dy + off, HW);
      sgx += sumDot64(dy + off, x + off, HW, <f64>mu);
    }
    // sum(dy xhat) = invstd * sum(dy (x - mean))
    const sxh = sgx * is;
    if (dgamma) store<f32>(dgamma + co, load<f32>(dgamma + co) + <f32>sxh);
    if (dbeta) store<f32>(dbeta + co, load<f32>(dbeta + co) + <f32>sg);
    const gm: f64 = gamma ? <f64>load<f32>(gamma + co) : 1.0;
    const k = <f32>(gm * is / M);
    for (let n = 0; n < N; n++) {
      const off = <usize>n * batch + <usize>c * plane;
      normBack(x + off, dy + off, dx + off, HW, 1, <f32>M, <f32>sg, mu, <f32>(sxh * is), k);
    }
  }
}

/**
 * Backward of a frozen (evaluation-mode) BatchNorm over NCHW [N][C][HW]:
 * dx = dy * gamma / sqrt(runVar + eps) (overwritten; gamma 0 = none). dx may alias dy.
 */
export function bn_eval_bwd_f32(dy: usize, dx: usize, N: i32, C: i32, HW: i32, gamma: usize, runVar: usize, eps: f64): void {
  const plane = <usize>HW << 2;
  const batch = plane * <usize>C;
  for (let c = 0; c < C; c++) {
    const co = <usize>c << 2;
    const gm: f64 = gamma ? <f64>load<f32>(gamma + co) : 1.0;
    const s = <f32>(gm / Math.sqrt(<f64>load<f32>(runVar + co) + eps));
    for (let n = 0; n < N; n++) {
      const off = <usize>n * batch + <usize>c * plane;
      affine(dy + off, dx + off, HW, s, 0);
    }
  }
}

/**
 * LayerNorm forward (training: saves statistics) over the last n floats of each of `rows`
 * rows: mean and biased variance per row (f64), invstd = 1 / sqrt(var + eps),
 * y = (x - mean) * invstd * gamma + beta (gamma, beta: n floats each, 0 = none).
 * mean[rows], invstd[rows] are written for layernorm_bwd_f32. y may alias x.
 */
export function layernorm_train_fwd_f32(
  x: usize, y: usize, rows: i32, n: i32, gamma: usize, beta: usize, eps: f64, mean: usize, invstd: usize,
): void {
  const rs = <usize>n << 2;
  for (let r = 0; r < rows; r++) {
    const px = x + <usize>r * rs, py = y + <usize>r * rs;
    const mu = sum64(px, n) / <f64>n;
    const v = sumSqDev64(px, n, mu) / <f64>n;
    const is = 1.0 / Math.sqrt(v + eps);
    store<f32>(mean + (<usize>r << 2), <f32>mu);
    store<f32>(invstd + (<usize>r << 2), <f32>is);
    const m32 = <f32>mu, i32_ = <f32>is;
    const mv = f32x4.splat(m32), iv = f32x4.splat(i32_);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      let t = f32x4.mul(f32x4.sub(v128.load(px + off), mv), iv);
      if (gamma) t = f32x4.mul(t, v128.load(gamma + off));
      if (beta) t = f32x4.add(t, v128.load(beta + off));
      v128.store(py + off, t);
    }
    for (; i < n; i++) {
      const off = <usize>i << 2;
      let t = (load<f32>(px + off) - m32) * i32_;
      if (gamma) t *= load<f32>(gamma + off);
      if (beta) t += load<f32>(beta + off);
      store<f32>(py + off, t);
    }
  }
}

/**
 * LayerNorm backward over `rows` rows of n floats, with mean / invstd from
 * layernorm_train_fwd_f32: g = dy * gamma (gamma 0 = none), xhat = (x - mean) invstd,
 * dx = invstd / n * (n g - sum(g) - xhat sum(g xhat)) (OVERWRITTEN; may alias dy),
 * dgamma[i] += sum_rows dy xhat, dbeta[i] += sum_rows dy (ACCUMULATED; 0 = skip).
 */
export function layernorm_bwd_f32(
  x: usize, dy: usize, dx: usize, rows: i32, n: i32, gamma: usize, mean: usize, invstd: usize,
  dgamma: usize, dbeta: usize,
): void {
  const rs = <usize>n << 2;
  for (let r = 0; r < rows; r++) {
    const px = x + <usize>r * rs, pg = dy + <usize>r * rs, pd = dx + <usize>r * rs;
    const mu = load<f32>(mean + (<usize>r << 2));
    const is = load<f32>(invstd + (<usize>r << 2));
    // parameter gradients first (dx may alias dy)
    if (dgamma || dbeta) {
      const mv = f32x4.splat(mu), iv = f32x4.splat(is);
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const off = <usize>i << 2;
        const g = v128.load(pg + off);
        if (dgamma) v128.store(dgamma + off, f32x4.add(v128.load(dgamma + off), f32x4.mul(g, f32x4.mul(f32x4.sub(v128.load(px + off), mv), iv))));
        if (dbeta) v128.store(dbeta + off, f32x4.add(v128.load(dbeta + off), g));
      }
      for (; i < n; i++) {
        const off = <usize>i << 2;
        const g = load<f32>(pg + off);
        if (dgamma) store<f32>(dgamma + off, load<f32>(dgamma + off) + g * ((load<f32>(px + off) - mu) * is));
        if (dbeta) store<f32>(dbeta + off, load<f32>(dbeta + off) + g);
      }
    }
    // sums of g = dy gamma and g (x - mean), in f64
    let sg: f64 = 0, sgx: f64 = 0;
    for (let i = 0; i < n; i++) {
      const off = <usize>i << 2;
      const g = <f64>load<f32>(pg + off) * (gamma ? <f64>load<f32>(gamma + off) : 1.0);
      sg += g;
      sgx += g * (<f64>load<f32>(px + off) - <f64>mu);
    }
    const c = <f32>(sgx * <f64>is * <f64>is);
    const k = <f32>(<f64>is / <f64>n);
    if (gamma) {
      const Mv = f32x4.splat(<f32>n), sgv = f32x4.splat(<f32>sg), mv = f32x4.splat(mu), cv = f32x4.splat(c), kv = f32x4.splat(k);
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const off = <usize>i << 2;
        const gg = f32x4.mul(v128.load(pg + off), v128.load(gamma + off));
        const t = f32x4.sub(f32x4.sub(f32x4.mul(gg, Mv), sgv), f32x4.mul(f32x4.sub(v128.load(px + off), mv), cv));
        v128.store(pd + off, f32x4.mul(t, kv));
      }
      for (; i < n; i++) {
        const off = <usize>i << 2;
        const gg = load<f32>(pg + off) * load<f32>(gamma + off);
        store<f32>(pd + off, ((gg * <f32>n - <f32>sg) - (load<f32>(px + off) - mu) * c) * k);
      }
    } else {
      normBack(px, pg, pd, n, 1, <f32>n, <f32>sg, mu, c, k);
    }
  }
}
