// Object-detection ops of the host evaluator, as ONNX defines them (docs/Operators.md
// #NonMaxSuppression, #RoiAlign) and onnxruntime computes them (its CPU kernels
// object_detection/non_max_suppression.cc and roialign.cc are the reference the tests compare
// with): float32 arithmetic step by step where a comparison depends on it (IoU, sample
// positions, bilinear weights), so the same boxes are kept and the same pixels sampled.
import { ShapeError, ValueError } from '../../lazy/kit';
import type { Node } from '../ir';
import { attrNum, foldSize, MAX_FOLD, scalarOf, type Const } from './core';

const f = Math.fround;

/**
 * NonMaxSuppression: per batch and class, candidates with score > score_threshold (all when the
 * input is omitted; NaN scores never), best score first (ties: lower box index first); a
 * candidate is kept unless its IoU with a box already kept for that class is > iou_threshold,
 * until max_output_boxes_per_class are kept (0 or omitted: none). Boxes are [y1, x1, y2, x2]
 * with the corners in either order (center_point_box 0) or [x_center, y_center, width, height]
 * (1). IoU is 0 for boxes that do not overlap or have no area. Returns int64
 * [num_selected, 3] rows (batch, class, box), batch by batch, class by class, in selection order.
 */
export function nonMaxSuppression(n: Node, boxes: Const, scores: Const, maxIn: Const | null, iouIn: Const | null, scoreIn: Const | null): Const {
  const center = attrNum(n, 'center_point_box', 0);
  if (center !== 0 && center !== 1) throw new ValueError(`center_point_box ${center} is neither 0 nor 1`);
  if (boxes.shape.length !== 3 || boxes.shape[2] !== 4) throw new ShapeError(`boxes of shape [${boxes.shape}] are not [batches, boxes, 4]`);
  const [nb, nbox] = boxes.shape;
  if (scores.shape.length !== 3 || scores.shape[0] !== nb || scores.shape[2] !== nbox)
    throw new ShapeError(`scores of shape [${scores.shape}] do not match boxes [${boxes.shape}] (want [${nb}, classes, ${nbox}])`);
  const nc = scores.shape[1];
  const maxOut = maxIn && maxIn.v.length ? Math.max(scalarOf(maxIn, 'max_output_boxes_per_class'), 0) : 0;
  const iou = iouIn && iouIn.v.length ? f(scalarOf(iouIn, 'iou_threshold')) : 0;
  if (!(iou >= 0 && iou <= 1)) throw new ValueError(`iou_threshold ${iou} is outside [0, 1]`);
  const hasScoreT = !!scoreIn && scoreIn.v.length > 0;
  const scoreT = hasScoreT ? f(scalarOf(scoreIn!, 'score_threshold')) : 0;
  const out: number[] = [];
  if (maxOut === 0 || nbox === 0) return { v: new Float64Array(0), shape: [0, 3], kind: 'int' };
  const bv = boxes.v;
  const sv = scores.v;
  // per box (shared by all classes of a batch): x/y extents and area, float32 as onnxruntime
  const x0 = new Float32Array(nbox);
  const x1 = new Float32Array(nbox);
  const y0 = new Float32Array(nbox);
  const y1 = new Float32Array(nbox);
  const area = new Float32Array(nbox);
  const order = new Int32Array(nbox);
  const sel = new Int32Array(Math.min(maxOut, nbox));
  const sc = new Float32Array(nbox);
  const seen = new Int32Array(nbox);
  let stampId = 0;
  /** Does kept box j suppress box i: IoU > iou_threshold, in float32 as onnxruntime's SuppressByIOU. */
  const overlaps = (i: number, j: number): boolean => {
    const ix0 = x0[i] > x0[j] ? x0[i] : x0[j];
    const ix1 = x1[i] < x1[j] ? x1[i] : x1[j];
    if (ix1 <= ix0) return false;
    const iy0 = y0[i] > y0[j] ? y0[i] : y0[j];
    const iy1 = y1[i] < y1[j] ? y1[i] : y1[j];
    if (iy1 <= iy0) return false;
    const inter = f(f(ix1 - ix0) * f(iy1 - iy0));
    const aa = area[i];
    const ab = area[j];
    const uni = f(f(aa + ab) - inter);
    if (inter <= 0 || aa <= 0 || ab <= 0 || uni <= 0) return false;
    return f(inter / uni) > iou;
  };
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < nbox; i++) {
      const p = (b * nbox + i) * 4;
      if (center === 0) {
        const ya = bv[p];
        const xa = bv[p + 1];
        const yb = bv[p + 2];
        const xb = bv[p + 3];
        x0[i] = Math.min(xa, xb);
        x1[i] = Math.max(xa, xb);
        y0[i] = Math.min(ya, yb);
        y1[i] = Math.max(ya, yb);
      } else {
        const hw = f(bv[p + 2] / 2);
        const hh = f(bv[p + 3] / 2);
        x0[i] = bv[p] - hw;
        x1[i] = bv[p] + hw;
        y0[i] = bv[p + 1] - hh;
        y1[i] = bv[p + 1] + hh;
      }
      area[i] = f(x1[i] - x0[i]) * f(y1[i] - y0[i]);
    }
    for (let c = 0; c < nc; c++) {
      const base = (b * nc + c) * nbox;
      let m = 0;
      for (let i = 0; i < nbox; i++) {
        const s = sv[base + i];
        sc[i] = s;
        if (hasScoreT ? s > scoreT : s === s) order[m++] = i; // NaN is never a candidate
      }
      const cand = order.subarray(0, m).sort((i, j) => sc[j] - sc[i] || i - j);
      // kept boxes are filed in a uniform grid over the candidates' extent, so a candidate is
      // compared only with kept boxes sharing a cell (any two overlapping boxes do); boxes
      // spanning many cells, and classes of few candidates, are compared with every kept box
      let gx0 = Infinity;
      let gy0 = Infinity;
      let gx1 = -Infinity;
      let gy1 = -Infinity;
      let sw = 0;
      let sh = 0;
      for (let t = 0; t < m; t++) {
        const i = cand[t];
        gx0 = Math.min(gx0, x0[i]);
        gx1 = Math.max(gx1, x1[i]);
        gy0 = Math.min(gy0, y0[i]);
        gy1 = Math.max(gy1, y1[i]);
        sw += x1[i] - x0[i];
        sh += y1[i] - y0[i];
      }
      // cells about the mean box size (a box then spans ~2x2 cells), at most 128 per axis
      const grid = m >= 64 && Number.isFinite(gx1 - gx0 + gy1 - gy0 + sw + sh);
      const GX = grid ? Math.max(1, Math.min(Math.floor((gx1 - gx0) / (sw / m) || 1), 128)) : 1;
      const GY = grid ? Math.max(1, Math.min(Math.floor((gy1 - gy0) / (sh / m) || 1), 128)) : 1;
      const G = GX * GY;
      const cw = (gx1 - gx0) / GX || 1;
      const chh = (gy1 - gy0) / GY || 1;
      const cells: number[][] = Array.from({ length: G }, () => []);
      const wide: number[] = []; // kept boxes filed in no cell
      let k = 0;
      for (let t = 0; t < m && k < sel.length; t++) {
        const i = cand[t];
        stampId++;
        let keep = true;
        let cx0 = 0;
        let cx1 = 0;
        let cy0 = 0;
        let cy1 = 0;
        let many = G === 1;
        if (!many) {
          cx0 = Math.min(Math.floor((x0[i] - gx0) / cw), GX - 1);
          cx1 = Math.min(Math.floor((x1[i] - gx0) / cw), GX - 1);
          cy0 = Math.min(Math.floor((y0[i] - gy0) / chh), GY - 1);
          cy1 = Math.min(Math.floor((y1[i] - gy0) / chh), GY - 1);
          many = (cx1 - cx0 + 1) * (cy1 - cy0 + 1) > 16;
        }
        if (many) {
          for (let q = 0; q < k && keep; q++) keep = !overlaps(i, sel[q]);
        } else {
          for (let q = 0; q < wide.length && keep; q++) keep = !overlaps(i, wide[q]);
          for (let cy = cy0; cy <= cy1 && keep; cy++)
            for (let cx = cx0; cx <= cx1 && keep; cx++) {
              const cell = cells[cy * GX + cx];
              for (let q = 0; q < cell.length && keep; q++) {
                const j = cell[q];
                if (seen[j] === stampId) continue;
                seen[j] = stampId;
                keep = !overlaps(i, j);
              }
            }
        }
        if (keep) {
          sel[k++] = i;
          out.push(b, c, i);
          if (G > 1) {
            if (many) wide.push(i);
            else for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) cells[cy * GX + cx].push(i);
          }
        }
      }
    }
  }
  return { v: Float64Array.from(out), shape: [out.length / 3, 3], kind: 'int' };
}

/**
 * RoiAlign (He et al., Mask R-CNN, 2017) on X [N, C, H, W], rois [R, 4] as (x1, y1, x2, y2)
 * in input coordinates, batch_indices [R]: Y [R, C, output_height, output_width]. Each bin
 * averages (mode avg) or takes the max (mode max: the max over samples of the largest of the four
 * weighted corner taps, as onnxruntime computes it) of sampling_ratio² bilinear samples
 * (sampling_ratio 0: ceil(roi size / output size) per axis). coordinate_transformation_mode
 * half_pixel shifts the scaled roi by -0.5 pixel; output_half_pixel (opset 10's only behaviour)
 * does not and makes rois at least 1x1. Defaults to half_pixel from opset 16.
 */
export function roiAlign(n: Node, x: Const, rois: Const, bi: Const, opset: number): Const {
  if (x.shape.length !== 4) throw new ShapeError(`X of shape [${x.shape}] is not [N, C, H, W]`);
  const [nb, ch, h, w] = x.shape;
  if (rois.shape.length !== 2 || rois.shape[1] !== 4) throw new ShapeError(`rois of shape [${rois.shape}] are not [num_rois, 4]`);
  const nr = rois.shape[0];
  if (bi.shape.length !== 1 || bi.shape[0] !== nr) throw new ShapeError(`batch_indices of shape [${bi.shape}] do not match ${nr} rois`);
  const mode = (n.attrs.mode as string | undefined) ?? 'avg';
  if (mode !== 'avg' && mode !== 'max') throw new ValueError(`mode '${mode}' is neither avg nor max`);
  const ctm = (n.attrs.coordinate_transformation_mode as string | undefined) ?? (opset >= 16 ? 'half_pixel' : 'output_half_pixel');
  if (ctm !== 'half_pixel' && ctm !== 'output_half_pixel') throw new ValueError(`coordinate_transformation_mode '${ctm}' is unknown`);
  const half = ctm === 'half_pixel';
  const ph = attrNum(n, 'output_height', 1);
  const pw = attrNum(n, 'output_width', 1);
  const ratio = attrNum(n, 'sampling_ratio', 0);
  const scale = f(attrNum(n, 'spatial_scale', 1));
  if (!(ph >= 1 && pw >= 1 && Number.isInteger(ph) && Number.isInteger(pw))) throw new ValueError(`output size ${ph}x${pw} is not positive`);
  if (!(ratio >= 0 && Number.isInteger(ratio))) throw new ValueError(`sampling_ratio ${ratio} is negative`);
  const len = foldSize([nr, ch, ph, pw]);
  if (len && !(h && w)) throw new ShapeError(`X of shape [${x.shape}] has no pixels to sample`);
  const out = new Float32Array(len);
  const xv = x.v;
  const rv = rois.v;
  const plane = h * w;
  const off = half ? 0.5 : 0;
  const isMax = mode === 'max';
  // per pixel: the bin that last touched it (stampId) and its merged tap's index
  const stamp = new Int32Array(plane);
  const slot = new Int32Array(plane);
  let stampId = 0;
  const tp: number[] = [];
  const tw: number[] = [];
  const acc = new Float64Array(ph * pw * ch);
  // the feature map channels-last ([H, W, C] per image, made on first use), so the inner loops
  // over channels read consecutive values
  const hwcs: (Float32Array | undefined)[] = [];
  const channelsLast = (b: number): Float32Array => {
    let t = hwcs[b];
    if (!t) {
      t = hwcs[b] = new Float32Array(plane * ch);
      for (let c = 0; c < ch; c++) for (let p = 0, s = (b * ch + c) * plane; p < plane; p++) t[p * ch + c] = xv[s + p];
    }
    return t;
  };
  for (let r = 0; r < nr; r++) {
    const b = bi.v[r];
    if (!(b >= 0 && b < nb)) throw new ValueError(`batch index ${b} of roi ${r} is outside [0, ${nb})`);
    const sx = f(f(rv[r * 4] * scale) - off);
    const sy = f(f(rv[r * 4 + 1] * scale) - off);
    const ex = f(f(rv[r * 4 + 2] * scale) - off);
    const ey = f(f(rv[r * 4 + 3] * scale) - off);
    if (!Number.isFinite(sx + sy + ex + ey)) throw new ValueError(`roi ${r} [${Array.from(rv.slice(r * 4, r * 4 + 4))}] is not finite`);
    let rw = f(ex - sx);
    let rh = f(ey - sy);
    if (!half) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const bh = f(rh / ph);
    const bw = f(rw / pw);
    const gh = ratio > 0 ? ratio : Math.ceil(f(rh / ph));
    const gw = ratio > 0 ? ratio : Math.ceil(f(rw / pw));
    if (!(gh * gw <= MAX_SAMPLES) || ph * pw * gh * gw > MAX_FOLD)
      throw new ValueError(`roi ${r} needs ${gh}x${gw} samples in each of ${ph}x${pw} bins (at most ${MAX_SAMPLES} per bin, ${MAX_FOLD} in all)`);
    const count = Math.max(gh * gw, 1);
    // the samples' four taps and weights, shared by every channel (onnxruntime's pre_calc)
    const ns = ph * pw * gh * gw;
    const pos = new Int32Array(ns * 4);
    const wt = new Float32Array(ns * 4);
    let s = 0;
    for (let py = 0; py < ph; py++)
      for (let px = 0; px < pw; px++)
        for (let iy = 0; iy < gh; iy++) {
          const yy = f(f(sy + f(py * bh)) + f(f((iy + 0.5) * bh) / gh));
          for (let ix = 0; ix < gw; ix++, s++) {
            let xx = f(f(sx + f(px * bw)) + f(f((ix + 0.5) * bw) / gw));
            let y = yy;
            if (y < -1 || y > h || xx < -1 || xx > w) continue; // outside: zero weights
            if (y <= 0) y = 0;
            if (xx <= 0) xx = 0;
            let yl = Math.trunc(y);
            let xl = Math.trunc(xx);
            let yh: number;
            let xh: number;
            if (yl >= h - 1) {
              yh = yl = h - 1;
              y = yl;
            } else yh = yl + 1;
            if (xl >= w - 1) {
              xh = xl = w - 1;
              xx = xl;
            } else xh = xl + 1;
            const ly = f(y - yl);
            const lx = f(xx - xl);
            const hy = f(1 - ly);
            const hx = f(1 - lx);
            const q = s * 4;
            pos[q] = yl * w + xl;
            pos[q + 1] = yl * w + xh;
            pos[q + 2] = yh * w + xl;
            pos[q + 3] = yh * w + xh;
            wt[q] = hy * hx;
            wt[q + 1] = hy * lx;
            wt[q + 2] = ly * hx;
            wt[q + 3] = ly * lx;
          }
        }
    const bins = ph * pw;
    const hwc = channelsLast(b);
    acc.fill(0, 0, bins * ch);
    if (isMax) {
      // the max over samples of the largest weighted tap (rounding to float32 is monotonic, so
      // rounding the result equals comparing rounded products, as onnxruntime does)
      for (let bin = 0, q = 0; bin < bins; bin++) {
        const o = bin * ch;
        for (let t = 0; t < gh * gw; t++, q += 4) {
          const w1 = wt[q], w2 = wt[q + 1], w3 = wt[q + 2], w4 = wt[q + 3];
          const p1 = pos[q] * ch, p2 = pos[q + 1] * ch, p3 = pos[q + 2] * ch, p4 = pos[q + 3] * ch;
          for (let c = 0; c < ch; c++) {
            let v = w1 * hwc[p1 + c];
            const v2 = w2 * hwc[p2 + c];
            const v3 = w3 * hwc[p3 + c];
            const v4 = w4 * hwc[p4 + c];
            if (v2 > v) v = v2;
            if (v3 > v) v = v3;
            if (v4 > v) v = v4;
            if (t === 0 || v > acc[o + c]) acc[o + c] = v;
          }
        }
      }
    } else {
      // avg: the taps of a bin's samples often fall on the same pixels; merge them into one
      // weight per pixel (divided by the sample count), then add weight x pixel over channels
      for (let bin = 0, q = 0; bin < bins; bin++) {
        const first = tp.length;
        stampId++;
        for (const end = q + gh * gw * 4; q < end; q++) {
          const wq = wt[q];
          if (wq === 0) continue;
          const p = pos[q];
          if (stamp[p] !== stampId) {
            stamp[p] = stampId;
            slot[p] = tp.length;
            tp.push(p);
            tw.push(0);
          }
          tw[slot[p]] += wq;
        }
        const o = bin * ch;
        for (let j = first; j < tp.length; j++) {
          const w = tw[j] / count;
          const p = tp[j] * ch;
          for (let c = 0; c < ch; c++) acc[o + c] += w * hwc[p + c];
        }
      }
      tp.length = 0;
      tw.length = 0;
    }
    // [bins, C] → [C, bins]
    const base = r * ch * bins;
    for (let bin = 0; bin < bins; bin++) for (let c = 0, o = bin * ch; c < ch; c++) out[base + c * bins + bin] = acc[o + c];
  }
  return { v: out, shape: [nr, ch, ph, pw], kind: 'float' };
}

/** Most samples one RoiAlign bin may take (an adaptive grid over a huge roi would otherwise run for hours). */
export const MAX_SAMPLES = 1 << 16;
