// Scalar references for poolGrad.ts, written from PyTorch's definitions of nn.MaxPool2d
// (return_indices) and nn.AvgPool2d (ceil_mode handled by the caller's OH, OW; divisor from the
// window before and after clipping) and of their backward passes. Every tap of every window is
// visited and bounds-checked one by one.
import { at, ld } from './gemm_ref';

/** Max pooling with indices: first max in scan order, a NaN tap always taking over. */
export function maxpoolRef(
  x: usize, y: usize, idx: usize, NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
): void {
  for (let p = 0; p < NC; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let best: f32 = -Infinity;
    let bi = -1;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const h = oh * SH - PT + kh * DH, w = ow * SW - PL + kw * DW;
      if (h < 0 || h >= H || w < 0 || w >= W) continue;
      const v = ld(x, (p * H + h) * W + w);
      if (bi < 0) bi = h * W + w; // the first in-bounds tap when nothing beats -inf
      if (v > best || isNaN(v)) {
        best = v;
        bi = h * W + w;
      }
    }
    store<f32>(at(y, (p * OH + oh) * OW + ow), best);
    store<i32>(at(idx, (p * OH + oh) * OW + ow), bi);
  }
}

/** dx = 0, then dx[idx] += dy for each output in order. */
export function maxpoolGradRef(dy: usize, idx: usize, dx: usize, NC: i32, HW: i32, OHW: i32): void {
  for (let i = 0; i < NC * HW; i++) store<f32>(at(dx, i), 0);
  for (let p = 0; p < NC; p++) for (let o = 0; o < OHW; o++) {
    const i = p * HW + load<i32>(at(idx, p * OHW + o));
    store<f32>(at(dx, i), ld(dx, i) + ld(dy, p * OHW + o));
  }
}

/** The window of output o along one axis: [lo, hi) clipped, and the PyTorch pool extent. */
@inline function divisor(o: i32, S: i32, P: i32, K: i32, I: i32, PE: i32): StaticArray<i32> {
  const r = new StaticArray<i32>(3);
  const s = o * S - P;
  const e = min(s + K, I + PE);
  r[2] = e - s;
  r[0] = max(s, 0);
  r[1] = min(e, I);
  return r;
}

export function avgpoolRef(
  x: usize, y: usize, NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, PB: i32, PR: i32, OH: i32, OW: i32, incl: i32,
): void {
  for (let p = 0; p < NC; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const a = divisor(oh, SH, PT, KH, H, PB), b = divisor(ow, SW, PL, KW, W, PR);
    let out: f32 = 0;
    if (a[0] < a[1] && b[0] < b[1]) {
      let s: f32 = 0;
      for (let h = a[0]; h < a[1]; h++) for (let w = b[0]; w < b[1]; w++) s += ld(x, (p * H + h) * W + w);
      out = s / <f32>(incl != 0 ? a[2] * b[2] : (a[1] - a[0]) * (b[1] - b[0]));
    }
    store<f32>(at(y, (p * OH + oh) * OW + ow), out);
  }
}

export function avgpoolGradRef(
  dy: usize, dx: usize, NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, PB: i32, PR: i32, OH: i32, OW: i32, incl: i32,
): void {
  for (let i = 0; i < NC * H * W; i++) store<f32>(at(dx, i), 0);
  for (let p = 0; p < NC; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const a = divisor(oh, SH, PT, KH, H, PB), b = divisor(ow, SW, PL, KW, W, PR);
    if (a[0] < a[1] && b[0] < b[1]) {
      const g = ld(dy, (p * OH + oh) * OW + ow) / <f32>(incl != 0 ? a[2] * b[2] : (a[1] - a[0]) * (b[1] - b[0]));
      for (let h = a[0]; h < a[1]; h++) for (let w = b[0]; w < b[1]; w++) {
        const i = (p * H + h) * W + w;
        store<f32>(at(dx, i), ld(dx, i) + g);
      }
    }
  }
}
