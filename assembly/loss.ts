// Loss functions with their gradients (mean reduction), as PyTorch 1.13's
// torch.nn.functional.cross_entropy (class indices, class weights, label_smoothing),
// binary_cross_entropy_with_logits (pos_weight), mse_loss and smooth_l1_loss (beta); formulas
// from the PyTorch documentation of those functions and aten/src/ATen/native/Loss.cpp /
// LossNLL.cpp (cross_entropy_loss_label_smoothing: with weights, the smoothing term is
// -sum_c w_c logp_c and both terms of the mean divide by sum_i w[target_i]).
// Each returns the mean loss (f32) and, when the gradient pointer is not 0, writes the gradient
// of that mean loss w.r.t. its first input. Sums run in f64; losses cost O(N C) against the
// network's O(N C K) so these loops stay scalar.

/**
 * Cross entropy of logits [N][C] against i32 class indices targets[N], mean reduction:
 * loss = ((1 - s) sum_i w[t_i] (-logp[i][t_i]) + s / C sum_i sum_c w_c (-logp[i][c])) / W,
 * W = sum_i w[t_i] (N without weights), logp = log_softmax (max-subtracted log-sum-exp),
 * s = smoothing (label_smoothing), w = weights (C floats, 0 = all 1).
 * dlogits[i][j] (0 = skip) = ((1 - s) w[t_i] (q_ij - [j = t_i]) + s / C (q_ij sum_c w_c - w_j)) / W,
 * q = softmax. Rows whose target is `ignore` (PyTorch's ignore_index) take no part: not in W,
 * not in either term, their dlogits rows 0. Any other target outside [0, C) makes the result
 * NaN (nothing is written); so does a batch of ignored rows only (0 / 0, as PyTorch).
 */
export function softmax_xent_f32(
  logits: usize, N: i32, C: i32, targets: usize, weights: usize, smoothing: f32, ignore: i32, dlogits: usize,
): f32 {
  const s = <f64>smoothing;
  let W: f64 = 0, sw: f64 = 0;
  for (let i = 0; i < N; i++) {
    const t = load<i32>(targets + (<usize>i << 2));
    if (t == ignore) continue;
    if (t < 0 || t >= C) return NaN;
    W += weights ? <f64>load<f32>(weights + (<usize>t << 2)) : 1.0;
  }
  if (weights) for (let c = 0; c < C; c++) sw += <f64>load<f32>(weights + (<usize>c << 2));
  else sw = <f64>C;
  let nll: f64 = 0, smooth: f64 = 0;
  const rs = <usize>C << 2;
  for (let i = 0; i < N; i++) {
    const row = logits + <usize>i * rs;
    const t = load<i32>(targets + (<usize>i << 2));
    if (t == ignore) {
      if (dlogits) memory.fill(dlogits + <usize>i * rs, 0, rs);
      continue;
    }
    let mx: f64 = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, <f64>load<f32>(row + (<usize>c << 2)));
    let se: f64 = 0;
    for (let c = 0; c < C; c++) se += Math.exp(<f64>load<f32>(row + (<usize>c << 2)) - mx);
    const lse = mx + Math.log(se);
    const wt = weights ? <f64>load<f32>(weights + (<usize>t << 2)) : 1.0;
    nll += wt * (lse - <f64>load<f32>(row + (<usize>t << 2)));
    if (s != 0) {
      let r: f64 = 0;
      for (let c = 0; c < C; c++) {
        const wc = weights ? <f64>load<f32>(weights + (<usize>c << 2)) : 1.0;
        r += wc * (lse - <f64>load<f32>(row + (<usize>c << 2)));
      }
      smooth += r;
    }
    if (dlogits) {
      const drow = dlogits + <usize>i * rs;
      const a = (1 - s) * wt / W;
      const b = s / <f64>C / W;
      for (let c = 0; c < C; c++) {
        const q = Math.exp(<f64>load<f32>(row + (<usize>c << 2)) - lse);
        const wc = weights ? <f64>load<f32>(weights + (<usize>c << 2)) : 1.0;
        let d = a * (q - (c == t ? 1.0 : 0.0));
        if (s != 0) d += b * (q * sw - wc);
        store<f32>(drow + (<usize>c << 2), <f32>d);
      }
    }
  }
  return <f32>(((1 - s) * nll + s / <f64>C * smooth) / W);
}

/**
 * Binary cross entropy on logits x[n] against targets t[n] (floats in [0, 1]), mean reduction:
 * l = (1 - t) x + lw (log1p(exp(-|x|)) + max(-x, 0)), lw = (posWeight - 1) t + 1
 * (posWeight 1 = none), the stable form PyTorch uses. dx (0 = skip) = ((1 - t) - lw sigmoid(-x)) / n.
 */
export function bce_logits_f32(x: usize, t: usize, n: i32, posWeight: f32, dx: usize): f32 {
  const pw = <f64>posWeight;
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    const xi = <f64>load<f32>(x + off), ti = <f64>load<f32>(t + off);
    const lw = (pw - 1) * ti + 1;
    s += (1 - ti) * xi + lw * (Math.log1p(Math.exp(-Math.abs(xi))) + Math.max(-xi, 0));
    if (dx) {
      // sigmoid(-x) without overflow
      const e = Math.exp(-Math.abs(xi));
      const sn = xi >= 0 ? e / (1 + e) : 1 / (1 + e);
      store<f32>(dx + off, <f32>(((1 - ti) - lw * sn) / <f64>n));
    }
  }
  return <f32>(s / <f64>n);
}

/** Mean squared error over n floats: mean (x - t)^2; dx (0 = skip) = 2 (x - t) / n. */
export function mse_f32(x: usize, t: usize, n: i32, dx: usize): f32 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    const d = <f64>load<f32>(x + off) - <f64>load<f32>(t + off);
    s += d * d;
    if (dx) store<f32>(dx + off, <f32>(2 * d / <f64>n));
  }
  return <f32>(s / <f64>n);
}

/**
 * Smooth L1 (Huber-like, PyTorch smooth_l1_loss) over n floats, d = x - t:
 * |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta, mean; beta = 0 is the L1 loss.
 * dx (0 = skip) = (|d| < beta ? d / beta : sign(d)) / n (sign(0) = 0).
 */
export function smooth_l1_f32(x: usize, t: usize, n: i32, beta: f32, dx: usize): f32 {
  const b = <f64>beta;
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    const d = <f64>load<f32>(x + off) - <f64>load<f32>(t + off);
    const a = Math.abs(d);
    let g: f64;
    if (a < b) {
      s += 0.5 * d * d / b;
      g = d / b;
    } else {
      s += a - 0.5 * b;
      g = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
    }
    if (dx) store<f32>(dx + off, <f32>(g / <f64>n));
  }
  return <f32>(s / <f64>n);
}
