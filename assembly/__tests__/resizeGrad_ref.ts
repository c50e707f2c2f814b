// Plain scalar references for resizeGrad.ts and lrnGrad.ts (NCHW planes), written straight from
// the definitions: Resize reads its taps through the [i0, i1, w] tables (assembly/resize.ts
// layout) and blends them a + (b − a)·w horizontally then vertically; MaxUnpool writes each
// input at the output position its flat NCHW index names; LRN divides by
// (bias + alpha/size · Σ window x²)^beta in float64.

@inline function ldf(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
@inline function stf(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}
@inline function tabI(t: usize, o: i32, k: i32): i32 {
  return load<i32>(t + <usize>(o * 3 + k) * 4);
}
@inline function tabW(t: usize, o: i32): f32 {
  return load<f32>(t + <usize>(o * 3 + 2) * 4);
}

export function resizeRef(x: usize, y: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32, ty: usize, tx: usize, linear: i32): void {
  for (let p = 0; p < NC; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const y0 = tabI(ty, oh, 0), y1 = tabI(ty, oh, 1), x0 = tabI(tx, ow, 0), x1 = tabI(tx, ow, 1);
        const base = p * H * W;
        let v: f32;
        if (linear == 0) {
          v = ldf(x, base + y0 * W + x0);
        } else {
          const wx = tabW(tx, ow), wy = tabW(ty, oh);
          const a = ldf(x, base + y0 * W + x0), b = ldf(x, base + y0 * W + x1);
          const c = ldf(x, base + y1 * W + x0), d = ldf(x, base + y1 * W + x1);
          const top: f32 = a + (b - a) * wx;
          const bot: f32 = c + (d - c) * wx;
          v = top + (bot - top) * wy;
        }
        stf(y, (p * OH + oh) * OW + ow, v);
      }
    }
  }
}

/** The adjoint in float64: dx[tap] += weight · dy (stored as f32 at the end). */
export function resizeGradRef(dy: usize, dx: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32, ty: usize, tx: usize, linear: i32): void {
  const acc = new Array<f64>(NC * H * W).fill(0);
  for (let p = 0; p < NC; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const g = <f64>ldf(dy, (p * OH + oh) * OW + ow);
        const y0 = tabI(ty, oh, 0), y1 = tabI(ty, oh, 1), x0 = tabI(tx, ow, 0), x1 = tabI(tx, ow, 1);
        const base = p * H * W;
        if (linear == 0) {
          acc[base + y0 * W + x0] += g;
          continue;
        }
        const wx = <f64>tabW(tx, ow), wy = <f64>tabW(ty, oh);
        acc[base + y0 * W + x0] += g * (1 - wy) * (1 - wx);
        acc[base + y0 * W + x1] += g * (1 - wy) * wx;
        acc[base + y1 * W + x0] += g * wy * (1 - wx);
        acc[base + y1 * W + x1] += g * wy * wx;
      }
    }
  }
  for (let i = 0; i < NC * H * W; i++) stf(dx, i, <f32>acc[i]);
}

/** MaxUnpool, one flat index at a time: plane of the grid, row and column; skipped if outside. */
function target(f: f32, p: i32, GH: i32, GW: i32, OH: i32, OW: i32): i32 {
  if (!(f >= 0)) return -1;
  const idx = <i64>f;
  const plane = <i32>(idx / <i64>(GH * GW));
  if (plane != p) return -1;
  const q = <i32>(idx % <i64>(GH * GW));
  const r = q / GW, c = q % GW;
  if (r >= OH || c >= OW) return -1;
  return (p * OH + r) * OW + c;
}

export function unpoolRef(x: usize, idx: usize, y: usize, NC: i32, HW: i32, GH: i32, GW: i32, OH: i32, OW: i32): void {
  for (let i = 0; i < NC * OH * OW; i++) stf(y, i, 0);
  for (let p = 0; p < NC; p++)
    for (let i = 0; i < HW; i++) {
      const t = target(ldf(idx, p * HW + i), p, GH, GW, OH, OW);
      if (t >= 0) stf(y, t, ldf(x, p * HW + i));
    }
}

export function unpoolGradRef(dy: usize, idx: usize, dx: usize, NC: i32, HW: i32, GH: i32, GW: i32, OH: i32, OW: i32): void {
  for (let p = 0; p < NC; p++)
    for (let i = 0; i < HW; i++) {
      const t = target(ldf(idx, p * HW + i), p, GH, GW, OH, OW);
      stf(dx, p * HW + i, t >= 0 ? ldf(dy, t) : 0);
    }
}

/** LRN forward in float64 (ONNX window: c − ⌊(size−1)/2⌋ .. c + ⌈(size−1)/2⌉). */
export function lrnRef(x: usize, y: usize, N: i32, C: i32, HW: i32, size: i32, alpha: f64, beta: f64, bias: f64): void {
  const lo = (size - 1) / 2, hi = size - 1 - lo;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < HW; i++) {
        let sum: f64 = 0;
        for (let k = c - lo; k <= c + hi; k++) {
          if (k < 0 || k >= C) continue;
          const v = <f64>ldf(x, (n * C + k) * HW + i);
          sum += v * v;
        }
        const v = <f64>ldf(x, (n * C + c) * HW + i);
        stf(y, (n * C + c) * HW + i, <f32>(v / Math.pow(bias + (alpha / <f64>size) * sum, beta)));
      }
}
