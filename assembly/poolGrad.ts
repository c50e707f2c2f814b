// Training kernels for pooling, NCHW planes (NC = N·C planes of H x W), with PyTorch's semantics:
// nn.MaxPool2d (return_indices: the flat h·W + w of the max within its plane, the first max in
// scan order, a NaN tap taking over as in ATen's CPU max_pool2d: `val > max || isnan(val)`),
// nn.AvgPool2d (window hstart = oh·SH - PT, hend = min(hstart + KH, H + PB), pool_size taken
// before clipping to the input, divisor pool_size with count_include_pad, else the clipped
// count), their backward passes (the adjoints: dy scattered to the argmax, or spread evenly
// over the window), and the backward of global average pooling.
import { partStart } from './parallel';
import { zeroFloats } from './window';

/**
 * Max pooling forward: y[p][oh][ow] = max of x[p][h][w] over the window's in-bounds taps
 * (h = oh·SH - PT + kh·DH, w = ow·SW - PL + kw·DW), idx (i32) = h·W + w of that max: the first
 * in scan order; a NaN tap wins (the last NaN, as ATen). Parts split the NC planes.
 */
export function maxpool_fwd_f32(
  x: usize, y: usize, idx: usize, NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, part: i32, parts: i32,
): void {
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  const HW = <usize>H * <usize>W, OHW = <usize>OH * <usize>OW;
  for (let p = p0; p < p1; p++) {
    const xp = x + ((<usize>p * HW) << 2);
    let yo = y + ((<usize>p * OHW) << 2), io = idx + ((<usize>p * OHW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      let hs = oh * SH - PT;
      const he = min(hs + (KH - 1) * DH + 1, H);
      while (hs < 0) hs += DH;
      const span = (KW - 1) * DW;
      let ow = 0;
      while (ow < OW) {
        const ws0 = ow * SW - PL;
        // four outputs at once, one per lane, when all their taps are inside the row (and, at
        // stride 2, the eight floats each load reads): every lane scans its window in the
        // scalar order, so values and indices are the same
        if (SW <= 2 && ws0 >= 0 && ow + 4 <= OW && (SW == 1 ? ws0 + 3 + span : ws0 + 7 + span) < W) {
          let best = f32x4.splat(-Infinity);
          const lane = i32x4(0, SW, 2 * SW, 3 * SW);
          let at = i32x4.add(i32x4.splat(hs * W + ws0), lane);
          for (let h = hs; h < he; h += DH) {
            const row = xp + ((<usize>h * <usize>W + <usize>ws0) << 2);
            for (let kw = 0; kw < KW; kw++) {
              const q = row + (<usize>(kw * DW) << 2);
              const v = SW == 1 ? v128.load(q) : i32x4.shuffle(v128.load(q), v128.load(q, 16), 0, 2, 4, 6);
              const take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
              best = v128.bitselect(v, best, take);
              at = v128.bitselect(i32x4.add(i32x4.splat(h * W + ws0 + kw * DW), lane), at, take);
            }
          }
          v128.store(yo, best);
          v128.store(io, at);
          yo += 16;
          io += 16;
          ow += 4;
          continue;
        }
        let ws = ws0;
        const we = min(ws + span + 1, W);
        while (ws < 0) ws += DW;
        let best: f32 = -Infinity;
        let at = hs * W + ws;
        for (let h = hs; h < he; h += DH) {
          const row = xp + ((<usize>h * <usize>W) << 2);
          for (let w = ws; w < we; w += DW) {
            const v = load<f32>(row + (<usize>w << 2));
            if (v > best || isNaN(v)) {
              best = v;
              at = h * W + w;
            }
          }
        }
        store<f32>(yo, best);
        store<i32>(io, at);
        yo += 4;
        io += 4;
        ow++;
      }
    }
  }
}

/**
 * Max pooling backward: dx (OVERWRITTEN, NC planes of HW) = 0, then dx[p][idx[p][o]] += dy[p][o]
 * for o < OHW in order. Parts split the planes.
 */
export function maxpool_grad_f32(dy: usize, idx: usize, dx: usize, NC: i32, HW: i32, OHW: i32, part: i32, parts: i32): void {
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  for (let p = p0; p < p1; p++) {
    const xp = dx + ((<usize>p * <usize>HW) << 2);
    const yp = dy + ((<usize>p * <usize>OHW) << 2), ip = idx + ((<usize>p * <usize>OHW) << 2);
    zeroFloats(xp, HW);
    for (let o = 0; o < OHW; o++) {
      const d = xp + (<usize>load<i32>(ip + (<usize>o << 2)) << 2);
      store<f32>(d, load<f32>(d) + load<f32>(yp + (<usize>o << 2)));
    }
  }
}

/**
 * Average pooling forward: y = (Σ of the window's in-bounds taps, in scan order) / divisor, the
 * divisor as PyTorch (file header); an empty clipped window gives 0. PB, PR: bottom and right
 * pads (they bound the window for pool_size). Parts split the NC planes.
 */
export function avgpool_fwd_f32(
  x: usize, y: usize, NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, PB: i32, PR: i32, OH: i32, OW: i32, countIncludePad: i32, part: i32, parts: i32,
): void {
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  const HW = <usize>H * <usize>W, OHW = <usize>OH * <usize>OW;
  for (let p = p0; p < p1; p++) {
    const xp = x + ((<usize>p * HW) << 2);
    let yo = y + ((<usize>p * OHW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      let hs = oh * SH - PT;
      let he = min(hs + KH, H + PB);
      const ph = he - hs;
      hs = max(hs, 0);
      he = min(he, H);
      const div = f32x4.splat(<f32>(countIncludePad != 0 ? ph * KW : (he - hs) * KW));
      let ow = 0;
      while (ow < OW) {
        const ws0 = ow * SW - PL;
        // four outputs a lane each where their windows (and, at stride 2, the eight floats each
        // load reads) lie inside the row: same taps, same order, same divisor as the scalar path
        if (SW <= 2 && hs < he && ws0 >= 0 && ow + 4 <= OW && (SW == 1 ? ws0 + 3 + KW : ws0 + 7 + KW) <= W) {
          let sum = f32x4.splat(0);
          for (let h = hs; h < he; h++) {
            const row = xp + ((<usize>h * <usize>W + <usize>ws0) << 2);
            for (let kw = 0; kw < KW; kw++) {
              const q = row + (<usize>kw << 2);
              sum = f32x4.add(sum, SW == 1 ? v128.load(q) : i32x4.shuffle(v128.load(q), v128.load(q, 16), 0, 2, 4, 6));
            }
          }
          v128.store(yo, f32x4.div(sum, div));
          yo += 16;
          ow += 4;
          continue;
        }
        let ws = ow * SW - PL;
        let we = min(ws + KW, W + PR);
        const pw = we - ws;
        ws = max(ws, 0);
        we = min(we, W);
        let out: f32 = 0;
        if (hs < he && ws < we) {
          let sum: f32 = 0;
          for (let h = hs; h < he; h++) {
            const row = xp + ((<usize>h * <usize>W) << 2);
            for (let w = ws; w < we; w++) sum += load<f32>(row + (<usize>w << 2));
          }
          out = sum / <f32>(countIncludePad != 0 ? ph * pw : (he - hs) * (we - ws));
        }
        store<f32>(yo, out);
        yo += 4;
        ow++;
      }
    }
  }
}

/**
 * Average pooling backward: dx (OVERWRITTEN) = 0, then for each output in scan order every
 * in-bounds tap of its window gets += dy / divisor (divisor as avgpool_fwd_f32). Parts split the
 * NC planes.
 */
export function avgpool_grad_f32(
  dy: usize, dx: usize, NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PT: i32, PL: i32, PB: i32, PR: i32, OH: i32, OW: i32, countIncludePad: i32, part: i32, parts: i32,
): void {
  const p0 = partStart(NC, 1, part, parts), p1 = partStart(NC, 1, part + 1, parts);
  const HW = <usize>H * <usize>W, OHW = <usize>OH * <usize>OW;
  for (let p = p0; p < p1; p++) {
    const xp = dx + ((<usize>p * HW) << 2);
    let yo = dy + ((<usize>p * OHW) << 2);
    zeroFloats(xp, H * W);
    for (let oh = 0; oh < OH; oh++) {
      let hs = oh * SH - PT;
      let he = min(hs + KH, H + PB);
      const ph = he - hs;
      hs = max(hs, 0);
      he = min(he, H);
      for (let ow = 0; ow < OW; ow++) {
        let ws = ow * SW - PL;
        let we = min(ws + KW, W + PR);
        const pw = we - ws;
        ws = max(ws, 0);
        we = min(we, W);
        if (hs < he && ws < we) {
          const g = load<f32>(yo) / <f32>(countIncludePad != 0 ? ph * pw : (he - hs) * (we - ws));
          for (let h = hs; h < he; h++) {
            const row = xp + ((<usize>h * <usize>W) << 2);
            for (let w = ws; w < we; w++) {
              const d = row + (<usize>w << 2);
              store<f32>(d, load<f32>(d) + g);
            }
          }
        }
        yo += 4;
      }
    }
  }
}

/** Global average pooling backward: dx[p][i] = dy[p] / HW for the NC planes (OVERWRITTEN). */
export function global_avgpool_grad_f32(dy: usize, dx: usize, NC: i32, HW: i32): void {
  const inv = <f32>HW;
  for (let p = 0; p < NC; p++) {
    const g = f32x4.splat(load<f32>(dy + (<usize>p << 2)) / inv);
    const xp = dx + ((<usize>p * <usize>HW) << 2);
    let i = 0;
    for (; i + 4 <= HW; i += 4) v128.store(xp + (<usize>i << 2), g);
    for (; i < HW; i++) store<f32>(xp + (<usize>i << 2), f32x4.extract_lane(g, 0));
  }
}
