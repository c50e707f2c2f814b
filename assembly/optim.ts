// Optimizer steps, gradient-norm helpers and dropout masks (f32, WebAssembly SIMD f32x4).
//
// The update rules are PyTorch 1.13's single-tensor implementations (torch/optim/sgd.py
// _single_tensor_sgd, adam.py _single_tensor_adam, adamw.py _single_tensor_adamw, rmsprop.py
// _single_tensor_rmsprop; maximize=False), followed operation by operation in f32: a Python
// float hyper-parameter combination (1 - beta1, lr / bias_correction1, ...) is computed in f64
// and rounded to f32 once, as PyTorch passes it to its f32 kernels; tensor ops round to f32
// after each op. Adam: Kingma & Ba 2015 (arXiv:1412.6980); AMSGrad: Reddi et al. 2018;
// AdamW: Loshchilov & Hutter 2019 (arXiv:1711.05101); RMSprop: Hinton's lecture 6e, centred
// form of Graves 2013 (arXiv:1308.0850).
// Dropout: Srivastava et al. 2014, inverted dropout (kept units scaled by 1 / (1 - p)).

// @ts-ignore: decorator
@inline function splat(v: f32): v128 { return f32x4.splat(v); }
// The four floats at index i (wide), or float i alone in lane 0 of a splat: the update rules
// are written once, on vectors, and the n % 4 tail runs the same operations on one lane.
// @ts-ignore: decorator
@inline function ld(p: usize, i: i32, wide: bool = true): v128 {
  return wide ? v128.load(p + (<usize>i << 2)) : f32x4.splat(load<f32>(p + (<usize>i << 2)));
}
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: v128, wide: bool = true): void {
  if (wide) v128.store(p + (<usize>i << 2), v);
  else store<f32>(p + (<usize>i << 2), f32x4.extract_lane(v, 0));
}

/** sgd_step_f32's update of the floats at i: four (wide) or one. */
// @ts-ignore: decorator
@inline function sgdAt(
  wide: bool, i: i32, w: usize, g: usize, buf: usize, wd: v128, mom: v128, damp: v128, nlr: v128,
  useWd: bool, useMom: bool, nesterov: i32, first: i32,
): void {
  let d = ld(g, i, wide);
  const wv = ld(w, i, wide);
  if (useWd) d = f32x4.add(d, f32x4.mul(wd, wv));
  if (useMom) {
    let b = d;
    if (!first) b = f32x4.add(f32x4.mul(ld(buf, i, wide), mom), f32x4.mul(damp, d));
    st(buf, i, b, wide);
    d = nesterov ? f32x4.add(d, f32x4.mul(mom, b)) : b;
  }
  st(w, i, f32x4.add(wv, f32x4.mul(nlr, d)), wide);
}

/**
 * SGD step in place over n floats (torch.optim.SGD): d = g + weightDecay w (when weightDecay
 * != 0); with momentum != 0: buf = first ? d : momentum buf + (1 - dampening) d, then
 * d = nesterov ? d + momentum buf : buf; w = w - lr d. buf may be 0 when momentum == 0.
 * first = 1 on the parameter's first step (PyTorch clones d into the new buffer).
 */
export function sgd_step_f32(
  n: i32, w: usize, g: usize, buf: usize, lr: f64, momentum: f64, dampening: f64, weightDecay: f64,
  nesterov: i32, first: i32,
): void {
  const wd = splat(<f32>weightDecay), mom = splat(<f32>momentum), damp = splat(<f32>(1 - dampening));
  const nlr = splat(<f32>(-lr));
  const useWd = weightDecay != 0, useMom = momentum != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) sgdAt(true, i, w, g, buf, wd, mom, damp, nlr, useWd, useMom, nesterov, first);
  for (; i < n; i++) sgdAt(false, i, w, g, buf, wd, mom, damp, nlr, useWd, useMom, nesterov, first);
}

/** adam_step_f32's update of the floats at i: four (wide) or one. */
// @ts-ignore: decorator
@inline function adamAt(
  wide: bool, i: i32, w: usize, g: usize, m: usize, v: usize, vmax: usize, nss: v128, bc2s: v128,
  b1: v128, omb1: v128, b2: v128, omb2: v128, ep: v128, wd: v128, decay: v128,
  useWd: bool, decoupled: i32, amsgrad: i32,
): void {
  let wv = ld(w, i, wide), gv = ld(g, i, wide);
  if (useWd) {
    if (decoupled) wv = f32x4.mul(wv, decay);
    else gv = f32x4.add(gv, f32x4.mul(wd, wv));
  }
  const mv = f32x4.add(f32x4.mul(ld(m, i, wide), b1), f32x4.mul(omb1, gv));
  let vv = f32x4.add(f32x4.mul(ld(v, i, wide), b2), f32x4.mul(f32x4.mul(omb2, gv), gv));
  st(m, i, mv, wide);
  st(v, i, vv, wide);
  if (amsgrad) {
    vv = f32x4.max(ld(vmax, i, wide), vv);
    st(vmax, i, vv, wide);
  }
  const den = f32x4.add(f32x4.div(f32x4.sqrt(vv), bc2s), ep);
  st(w, i, f32x4.add(wv, f32x4.mul(nss, f32x4.div(mv, den))), wide);
}

/**
 * Adam / AdamW step in place over n floats (torch.optim.Adam, AdamW), step = 1-based count
 * of this step. decoupled = 0 (Adam): g' = g + weightDecay w; decoupled = 1 (AdamW):
 * w = w (1 - lr weightDecay) first and g' = g. Then m = beta1 m + (1 - beta1) g',
 * v = beta2 v + (1 - beta2) g'^2; amsgrad: vmax = max(vmax, v) is used for v (vmax may be 0
 * otherwise); denom = sqrt(v) / sqrt(1 - beta2^step) + eps; w = w - lr / (1 - beta1^step) m / denom.
 */
export function adam_step_f32(
  n: i32, w: usize, g: usize, m: usize, v: usize, vmax: usize, lr: f64, beta1: f64, beta2: f64, eps: f64,
  weightDecay: f64, decoupled: i32, amsgrad: i32, step: i32,
): void {
  const bc1 = 1 - Math.pow(beta1, <f64>step);
  const bc2 = 1 - Math.pow(beta2, <f64>step);
  const nss = splat(<f32>(-(lr / bc1)));
  const bc2s = splat(<f32>Math.sqrt(bc2));
  const b1 = splat(<f32>beta1), omb1 = splat(<f32>(1 - beta1));
  const b2 = splat(<f32>beta2), omb2 = splat(<f32>(1 - beta2));
  const ep = splat(<f32>eps);
  const wd = splat(<f32>weightDecay);
  const decay = splat(<f32>(1 - lr * weightDecay));
  const useWd = weightDecay != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) adamAt(true, i, w, g, m, v, vmax, nss, bc2s, b1, omb1, b2, omb2, ep, wd, decay, useWd, decoupled, amsgrad);
  for (; i < n; i++) adamAt(false, i, w, g, m, v, vmax, nss, bc2s, b1, omb1, b2, omb2, ep, wd, decay, useWd, decoupled, amsgrad);
}

/** rmsprop_step_f32's update of the floats at i: four (wide) or one. */
// @ts-ignore: decorator
@inline function rmspropAt(
  wide: bool, i: i32, w: usize, g: usize, sq: usize, buf: usize, gavg: usize, al: v128, oma: v128, ep: v128,
  wd: v128, mom: v128, nlr: v128, useWd: bool, useMom: bool, centered: i32,
): void {
  const wv = ld(w, i, wide);
  let gv = ld(g, i, wide);
  if (useWd) gv = f32x4.add(gv, f32x4.mul(wd, wv));
  const s = f32x4.add(f32x4.mul(ld(sq, i, wide), al), f32x4.mul(f32x4.mul(oma, gv), gv));
  st(sq, i, s, wide);
  let avg: v128;
  if (centered) {
    const ga = f32x4.add(f32x4.mul(ld(gavg, i, wide), al), f32x4.mul(oma, gv));
    st(gavg, i, ga, wide);
    avg = f32x4.sqrt(f32x4.sub(s, f32x4.mul(ga, ga)));
  } else avg = f32x4.sqrt(s);
  avg = f32x4.add(avg, ep);
  if (useMom) {
    const b = f32x4.add(f32x4.mul(ld(buf, i, wide), mom), f32x4.div(gv, avg));
    st(buf, i, b, wide);
    st(w, i, f32x4.add(wv, f32x4.mul(nlr, b)), wide);
  } else st(w, i, f32x4.add(wv, f32x4.mul(nlr, f32x4.div(gv, avg))), wide);
}

/**
 * RMSprop step in place over n floats (torch.optim.RMSprop): g' = g + weightDecay w;
 * sq = alpha sq + (1 - alpha) g'^2; centered: gavg = alpha gavg + (1 - alpha) g',
 * avg = sqrt(sq - gavg^2) + eps, else avg = sqrt(sq) + eps; momentum > 0:
 * buf = momentum buf + g' / avg, w = w - lr buf; else w = w - lr g' / avg.
 * buf may be 0 unless momentum > 0, gavg 0 unless centered. State starts at zeros.
 */
export function rmsprop_step_f32(
  n: i32, w: usize, g: usize, sq: usize, buf: usize, gavg: usize, lr: f64, alpha: f64, eps: f64,
  weightDecay: f64, momentum: f64, centered: i32,
): void {
  const al = splat(<f32>alpha), oma = splat(<f32>(1 - alpha)), ep = splat(<f32>eps);
  const wd = splat(<f32>weightDecay), mom = splat(<f32>momentum), nlr = splat(<f32>(-lr));
  const useWd = weightDecay != 0, useMom = momentum > 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) rmspropAt(true, i, w, g, sq, buf, gavg, al, oma, ep, wd, mom, nlr, useWd, useMom, centered);
  for (; i < n; i++) rmspropAt(false, i, w, g, sq, buf, gavg, al, oma, ep, wd, mom, nlr, useWd, useMom, centered);
}

/** Sum of squares of n floats, accumulated in f64 (for gradient-norm clipping). */
export function sumsq_f32(x: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = ld(x, i);
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    a0 = f64x2.add(a0, f64x2.mul(lo, lo));
    a1 = f64x2.add(a1, f64x2.mul(hi, hi));
  }
  const a = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < n; i++) {
    const e = <f64>load<f32>(x + (<usize>i << 2));
    s += e * e;
  }
  return s;
}

/** x[i] *= s over n floats, in place. */
export function scale_f32(x: usize, n: i32, s: f32): void {
  const sv = splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) st(x, i, f32x4.mul(ld(x, i), sv));
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * s);
}

// Counter-based generator: u(seed, k) = (h >> 8) / 2^24 with
// h = mix(k * 0x9E3779B9 + mix(seed ^ 0x5851F42D)) (all u32, wrapping), where mix is the
// "lowbias32" integer finaliser (x ^= x >> 16; x *= 0x7FEB352D; x ^= x >> 15; x *= 0x846CA68B;
// x ^= x >> 16; C. Wellons, hash-prospector). Each element depends only on (seed, k), so any
// split of the index range, and any thread count, produces the same mask.
// @ts-ignore: decorator
@inline function mix32(x: u32): u32 {
  x ^= x >> 16; x *= 0x7FEB352D; x ^= x >> 15; x *= 0x846CA68B; x ^= x >> 16;
  return x;
}
// @ts-ignore: decorator
@inline function vmix32(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16)); x = i32x4.mul(x, i32x4.splat(0x7FEB352D));
  x = v128.xor(x, i32x4.shr_u(x, 15)); x = i32x4.mul(x, i32x4.splat(<i32>0x846CA68B));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/** The dropout generator's uniform in [0, 1) for (seed, index k): see the comment above. */
export function dropout_uniform(seed: u32, k: u32): f32 {
  const h = mix32(k * 0x9E3779B9 + mix32(seed ^ 0x5851F42D));
  return <f32>(h >> 8) * (1.0 / 16777216.0);
}

/**
 * Inverted-dropout mask over n floats: mask[i] = u(seed, offset + i) >= p ? 1 / (1 - p) : 0,
 * u the counter-based uniform of dropout_uniform (index wraps mod 2^32). p >= 1 gives all 0.
 * A call over [offset, offset + n) writes the same floats as any set of calls covering it.
 */
export function dropout_mask_f32(mask: usize, n: i32, p: f32, seed: u32, offset: u32): void {
  const keep: f32 = p >= 1 ? 0 : <f32>(1.0 / (1.0 - <f64>p));
  const sm = mix32(seed ^ 0x5851F42D);
  const kv = splat(keep), pv = splat(p);
  const step = i32x4.splat(<i32>0x9E3779B9);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = i32x4.add(i32x4.splat(<i32>(offset + <u32>i)), v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0));
    const h = vmix32(i32x4.add(i32x4.mul(k, step), i32x4.splat(<i32>sm)));
    const u = f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(h, 8)), splat(1.0 / 16777216.0));
    st(mask, i, v128.and(kv, f32x4.ge(u, pv)));
  }
  for (; i < n; i++) {
    const h = mix32((offset + <u32>i) * 0x9E3779B9 + sm);
    const u = <f32>(h >> 8) * (1.0 / 16777216.0);
    store<f32>(mask + (<usize>i << 2), u >= p ? keep : 0);
  }
}
