// Detection kernels: greedy non-maximum suppression (Neubeck & Van Gool 2006, in the form of
// torchvision.ops.nms / batched_nms, CPU kernel of torchvision 0.14) and RoIAlign (He et al.,
// "Mask R-CNN", 2017; torchvision.ops.roi_align's CPU kernel, = ONNX RoiAlign mode 'avg' with
// coordinate_transformation_mode 'output_half_pixel' (aligned=False) or 'half_pixel' (aligned=True);
// ONNX's mode 'max' as onnxruntime computes it: per sample the largest of the four weighted
// corners w_i·v_i, then the largest over the bin's samples, a sample off the map counting as 0).
//
// Both follow torchvision's float32 arithmetic operation by operation, so their results are the
// same bits: IoU = inter / ((area_i + area_j) − inter), suppression when IoU > threshold (a NaN IoU,
// two zero-area boxes, never suppresses); RoIAlign's sample positions, bilinear weights and the
// sum order (((w1·v1 + w2·v2) + w3·v3) + w4·v4) per sample, divided by the sample count.

import { transpose2d } from './transpose';

/**
 * Greedy NMS over boxes already in decreasing score order.
 * x1, y1, x2, y2, area: n f32 each (SoA; area = (x2 − x1)·(y2 − y1), filled here);
 * cls: n i32 class ids (boxes of different classes never suppress each other) or 0 for none;
 * dead: n i32 scratch (zeroed here); keep: receives the positions (0 .. n − 1) kept, in order.
 * Stops after maxKeep kept boxes (maxKeep <= 0: no limit). Returns the number kept.
 */
export function nms_f32(
  n: i32, x1: usize, y1: usize, x2: usize, y2: usize, area: usize, cls: usize,
  iou: f32, maxKeep: i32, dead: usize, keep: usize,
): i32 {
  for (let j = 0; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(area + o, (load<f32>(x2 + o) - load<f32>(x1 + o)) * (load<f32>(y2 + o) - load<f32>(y1 + o)));
    store<i32>(dead + o, 0);
  }
  const thr = f32x4.splat(iou);
  const zero = f32x4.splat(0);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const oi = <usize>i << 2;
    if (load<i32>(dead + oi) != 0) continue;
    store<i32>(keep + (<usize>kept << 2), i);
    kept++;
    if (kept == maxKeep) break;
    const ix1 = load<f32>(x1 + oi), iy1 = load<f32>(y1 + oi), ix2 = load<f32>(x2 + oi), iy2 = load<f32>(y2 + oi);
    const ia = load<f32>(area + oi);
    const ci = cls != 0 ? load<i32>(cls + oi) : 0;
    const vx1 = f32x4.splat(ix1), vy1 = f32x4.splat(iy1), vx2 = f32x4.splat(ix2), vy2 = f32x4.splat(iy2);
    const va = f32x4.splat(ia);
    const vc = i32x4.splat(ci);
    let j = i + 1;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      const w = f32x4.max(zero, f32x4.sub(f32x4.min(vx2, v128.load(x2 + o)), f32x4.max(vx1, v128.load(x1 + o))));
      const h = f32x4.max(zero, f32x4.sub(f32x4.min(vy2, v128.load(y2 + o)), f32x4.max(vy1, v128.load(y1 + o))));
      const inter = f32x4.mul(w, h);
      const ovr = f32x4.div(inter, f32x4.sub(f32x4.add(va, v128.load(area + o)), inter));
      let hit = f32x4.gt(ovr, thr);
      if (cls != 0) hit = v128.and(hit, i32x4.eq(vc, v128.load(cls + o)));
      v128.store(dead + o, v128.or(v128.load(dead + o), hit));
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      if (cls != 0 && load<i32>(cls + o) != ci) continue;
      const w = max<f32>(0, min<f32>(ix2, load<f32>(x2 + o)) - max<f32>(ix1, load<f32>(x1 + o)));
      const h = max<f32>(0, min<f32>(iy2, load<f32>(y2 + o)) - max<f32>(iy1, load<f32>(y1 + o)));
      const inter = w * h;
      if (inter / (ia + load<f32>(area + o) - inter) > iou) store<i32>(dead + o, -1);
    }
  }
  return kept;
}

/** C++ std::max(a, b): a < b ? b : a (a NaN a is kept, a NaN b is not). */
@inline function fmaxStd(a: f32, b: f32): f32 {
  return a < b ? b : a;
}

/**
 * RoIAlign, average (maxMode = 0) or ONNX max (maxMode = 1) mode. input: (N, H, W, C) NHWC; rois: K rows of 5 f32 (batch index, x1, y1,
 * x2, y2) in input-image coordinates, batch index already checked by the host to be an integer in
 * [0, N); output: (K, OH, OW, C) NHWC, or (K, C, OH, OW) when channelsFirst != 0 (ONNX's and
 * torchvision's layout: each roi's (OH, OW, C) block is pooled into `acc`, OH·OW·C f32 of scratch,
 * then transposed into place while it is in cache; channels-last ignores acc). sampling > 0: that
 * many samples per bin and axis; <= 0: ceil(roi side / bins) (torchvision's adaptive grid).
 * aligned != 0 shifts by half a pixel.
 */
export function roi_align_f32(
  N: i32, H: i32, W: i32, C: i32, input: usize, K: i32, rois: usize,
  OH: i32, OW: i32, scale: f32, sampling: i32, aligned: i32, maxMode: i32, output: usize,
  channelsFirst: i32, acc: usize,
): void {
  const pixB = <usize>C << 2;
  const bins = OH * OW;
  const full = C & ~3;
  const offset: f32 = aligned != 0 ? 0.5 : 0.0;
  for (let k = 0; k < K; k++) {
    // this roi's (OH, OW, C) block: in the output, or in acc to be transposed into it
    const block = channelsFirst != 0 ? acc : output + <usize>k * <usize>bins * pixB;
    let out = block;
    const r = rois + <usize>k * 20;
    const img = input + <usize>(<i32>load<f32>(r)) * <usize>H * <usize>W * pixB;
    const startW = load<f32>(r, 4) * scale - offset;
    const startH = load<f32>(r, 8) * scale - offset;
    let roiW = load<f32>(r, 12) * scale - offset - startW;
    let roiH = load<f32>(r, 16) * scale - offset - startH;
    if (aligned == 0) {
      roiW = max<f32>(roiW, 1);
      roiH = max<f32>(roiH, 1);
    }
    const binH = roiH / <f32>OH, binW = roiW / <f32>OW;
    const gridH = sampling > 0 ? sampling : <i32>Mathf.ceil(roiH / <f32>OH);
    const gridW = sampling > 0 ? sampling : <i32>Mathf.ceil(roiW / <f32>OW);
    const count = <f32>max<i32>(gridH * gridW, 1);
    const vcount = f32x4.splat(count);
    for (let ph = 0; ph < OH; ph++) {
      for (let pw = 0; pw < OW; pw++) {
        for (let c = 0; c < C; c++) store<f32>(out + (<usize>c << 2), 0);
        let first = true;
        for (let iy = 0; iy < gridH; iy++) {
          let y = startH + <f32>ph * binH + (<f32>iy + 0.5) * binH / <f32>gridH;
          for (let ix = 0; ix < gridW; ix++) {
            let x = startW + <f32>pw * binW + (<f32>ix + 0.5) * binW / <f32>gridW;
            let yy = y;
            if (yy < -1.0 || yy > <f32>H || x < -1.0 || x > <f32>W) {
              // a sample off the map adds 0 to the sum, or is a 0 among the maxima
              if (maxMode != 0) {
                for (let c = 0; c < C; c++) {
                  const o = <usize>c << 2;
                  store<f32>(out + o, first ? 0 : fmaxStd(load<f32>(out + o), 0));
                }
                first = false;
              }
              continue;
            }
            if (yy <= 0) yy = 0;
            if (x <= 0) x = 0;
            let yLow = <i32>yy, xLow = <i32>x;
            let yHigh: i32, xHigh: i32;
            if (yLow >= H - 1) {
              yHigh = yLow = H - 1;
              yy = <f32>yLow;
            } else yHigh = yLow + 1;
            if (xLow >= W - 1) {
              xHigh = xLow = W - 1;
              x = <f32>xLow;
            } else xHigh = xLow + 1;
            const ly = yy - <f32>yLow, lx = x - <f32>xLow;
            const hy: f32 = 1.0 - ly, hx: f32 = 1.0 - lx;
            const w1 = hy * hx, w2 = hy * lx, w3 = ly * hx, w4 = ly * lx;
            const p1 = img + (<usize>yLow * <usize>W + <usize>xLow) * pixB;
            const p2 = img + (<usize>yLow * <usize>W + <usize>xHigh) * pixB;
            const p3 = img + (<usize>yHigh * <usize>W + <usize>xLow) * pixB;
            const p4 = img + (<usize>yHigh * <usize>W + <usize>xHigh) * pixB;
            const v1 = f32x4.splat(w1), v2 = f32x4.splat(w2), v3 = f32x4.splat(w3), v4 = f32x4.splat(w4);
            let c = 0;
            if (maxMode != 0) {
              // std::max(a, b) = a < b ? b : a is wasm's pmax
              for (; c < full; c += 4) {
                const o = <usize>c << 2;
                let m = f32x4.pmax(f32x4.mul(v1, v128.load(p1 + o)), f32x4.mul(v2, v128.load(p2 + o)));
                m = f32x4.pmax(m, f32x4.mul(v3, v128.load(p3 + o)));
                m = f32x4.pmax(m, f32x4.mul(v4, v128.load(p4 + o)));
                v128.store(out + o, first ? m : f32x4.pmax(v128.load(out + o), m));
              }
              for (; c < C; c++) {
                const o = <usize>c << 2;
                let m = fmaxStd(w1 * load<f32>(p1 + o), w2 * load<f32>(p2 + o));
                m = fmaxStd(m, w3 * load<f32>(p3 + o));
                m = fmaxStd(m, w4 * load<f32>(p4 + o));
                store<f32>(out + o, first ? m : fmaxStd(load<f32>(out + o), m));
              }
              first = false;
              continue;
            }
            for (; c < full; c += 4) {
              const o = <usize>c << 2;
              let s = f32x4.add(f32x4.mul(v1, v128.load(p1 + o)), f32x4.mul(v2, v128.load(p2 + o)));
              s = f32x4.add(s, f32x4.mul(v3, v128.load(p3 + o)));
              s = f32x4.add(s, f32x4.mul(v4, v128.load(p4 + o)));
              v128.store(out + o, f32x4.add(v128.load(out + o), s));
            }
            for (; c < C; c++) {
              const o = <usize>c << 2;
              const s = w1 * load<f32>(p1 + o) + w2 * load<f32>(p2 + o) + w3 * load<f32>(p3 + o) + w4 * load<f32>(p4 + o);
              store<f32>(out + o, load<f32>(out + o) + s);
            }
          }
        }
        if (maxMode == 0) {
          let c = 0;
          for (; c < full; c += 4) v128.store(out + (<usize>c << 2), f32x4.div(v128.load(out + (<usize>c << 2)), vcount));
          for (; c < C; c++) store<f32>(out + (<usize>c << 2), load<f32>(out + (<usize>c << 2)) / count);
        }
        out += pixB;
      }
    }
    if (channelsFirst != 0) transpose2d(output + <usize>k * <usize>bins * pixB, block, C, bins, <usize>bins << 2, pixB);
  }
}
