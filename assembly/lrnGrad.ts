// Training kernels for local response normalisation across channels (Krizhevsky, Sutskever and
// Hinton 2012, §3.3; ONNX LRN; PyTorch nn.LocalResponseNorm), NCHW:
//   s[c] = bias + (alpha/size) · Σ_{c' = c−lo}^{c+hi} x[c']²   (lo = ⌊(size−1)/2⌋, hi = size−1−lo,
//          channels outside [0, C) count as 0: ONNX's window, PyTorch's for odd size)
//   y[c] = x[c] · s[c]^−beta
// and its gradient
//   dx[j] = dy[j] · s[j]^−beta − (2·alpha·beta/size) · x[j] · Σ_{c : j ∈ window(c)} dy[c]·y[c]/s[c],
// the sum over c ∈ [j−hi, j+lo] ∩ [0, C). The forward keeps s for the backward. Four spatial
// positions a vector (channels are a plane apart in NCHW); parts split each image's positions,
// and every position is computed alone, so any split gives the same bits.
import { vexp, vlog } from './math';
import { partStart } from './parallel';

/** base^−beta per lane: exact square roots for the usual betas (0.75, 0.5, 1), else exp/log. */
@inline function negPow(base: v128, beta: f32): v128 {
  if (beta == 0.75) {
    const s = f32x4.sqrt(base);
    return f32x4.div(f32x4.splat(1), f32x4.mul(s, f32x4.sqrt(s)));
  }
  if (beta == 0.5) return f32x4.div(f32x4.splat(1), f32x4.sqrt(base));
  if (beta == 1) return f32x4.div(f32x4.splat(1), base);
  return vexp(f32x4.mul(f32x4.splat(-beta), vlog(base)));
}

/** Four floats at position `i` of a plane, or the float at `i` in every lane (one = true). */
@inline function ld4(p: usize, i: i32, one: bool): v128 {
  return one ? f32x4.splat(load<f32>(p + (<usize>i << 2))) : v128.load(p + (<usize>i << 2));
}
@inline function st4(p: usize, i: i32, v: v128, one: bool): void {
  if (one) store<f32>(p + (<usize>i << 2), f32x4.extract_lane(v, 0));
  else v128.store(p + (<usize>i << 2), v);
}

/**
 * LRN forward over N images of C planes of HW: y and s (the bases, kept for lrn_grad_f32) as in
 * the file header. Parts split each image's HW positions (in fours).
 */
export function lrn_fwd_f32(
  x: usize, y: usize, s: usize, N: i32, C: i32, HW: i32, size: i32, alpha: f32, beta: f32, bias: f32,
  part: i32, parts: i32,
): void {
  const h0 = partStart(HW, 4, part, parts), h1 = partStart(HW, 4, part + 1, parts);
  const lo = (size - 1) >> 1, hi = size - 1 - lo;
  const av = f32x4.splat(alpha / <f32>size), bv = f32x4.splat(bias);
  const plane = <usize>HW << 2;
  for (let n = 0; n < N; n++) {
    const img = <usize>n * <usize>C * plane;
    for (let i = h0; i < h1; ) {
      const one = i + 4 > h1;
      for (let c = 0; c < C; c++) {
        const a = max(c - lo, 0), b = min(c + hi, C - 1);
        let sum = f32x4.splat(0);
        for (let k = a; k <= b; k++) {
          const v = ld4(x + img + <usize>k * plane, i, one);
          sum = f32x4.add(sum, f32x4.mul(v, v));
        }
        const base = f32x4.add(bv, f32x4.mul(av, sum));
        const at = img + <usize>c * plane;
        st4(s + at, i, base, one);
        st4(y + at, i, f32x4.mul(ld4(x + at, i, one), negPow(base, beta)), one);
      }
      i += one ? 1 : 4;
    }
  }
}

/**
 * LRN backward: dx (OVERWRITTEN) from dy, x, y and the bases s of lrn_fwd_f32 (file header).
 * Parts split each image's HW positions (in fours).
 */
export function lrn_grad_f32(
  dy: usize, x: usize, y: usize, s: usize, dx: usize, N: i32, C: i32, HW: i32, size: i32, alpha: f32, beta: f32,
  part: i32, parts: i32,
): void {
  const h0 = partStart(HW, 4, part, parts), h1 = partStart(HW, 4, part + 1, parts);
  const lo = (size - 1) >> 1, hi = size - 1 - lo;
  const coef = f32x4.splat((2 * alpha * beta) / <f32>size);
  const plane = <usize>HW << 2;
  for (let n = 0; n < N; n++) {
    const img = <usize>n * <usize>C * plane;
    for (let i = h0; i < h1; ) {
      const one = i + 4 > h1;
      for (let j = 0; j < C; j++) {
        const a = max(j - hi, 0), b = min(j + lo, C - 1);
        let acc = f32x4.splat(0);
        for (let c = a; c <= b; c++) {
          const o = img + <usize>c * plane;
          acc = f32x4.add(acc, f32x4.div(f32x4.mul(ld4(dy + o, i, one), ld4(y + o, i, one)), ld4(s + o, i, one)));
        }
        const at = img + <usize>j * plane;
        const direct = f32x4.mul(ld4(dy + at, i, one), negPow(ld4(s + at, i, one), beta));
        st4(dx + at, i, f32x4.sub(direct, f32x4.mul(coef, f32x4.mul(ld4(x + at, i, one), acc))), one);
      }
      i += one ? 1 : 4;
    }
  }
}
