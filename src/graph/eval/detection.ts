// Object-detection ops of the host evaluator, as ONNX defines them (docs/Operators.md
// #NonMaxSuppression, #RoiAlign) and onnxruntime computes them (its CPU kernels
// object_detection/non_max_suppression.cc and roialign.cc are the reference the tests compare
// with): float32 arithmetic step by step where a comparison depends on it (IoU, sample
// positions, bilinear weights), so the same boxes are kept and the same pixels sampled.
import { ShapeError, ValueError } from '../../lazy/kit';
import type { Node } from '../ir';
import { attrNum, foldSize, MAX_FOLD, scalarOf, type Const, type Values } from './core';

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
  if (maxOut === 0 || nbox === 0) return { v: new Float64Array(0), shape: [0, 3], kind: 'int' };
  const bv = boxes.v;
  const sv = scores.v;
  // per box (shared by all classes of a batch): x0, y0, x1, y1 and area, float32 as onnxruntime
  const bx = new Float32Array(nbox * 5);
  const nms = new ClassNms(bx, nbox, Math.min(maxOut, nbox), iou);
  const out: number[] = [];
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < nbox; i++) {
      const p = (b * nbox + i) * 4;
      const q = i * 5;
      if (center === 0) {
        const ya = bv[p];
        const xa = bv[p + 1];
        const yb = bv[p + 2];
        const xb = bv[p + 3];
        bx[q] = Math.min(xa, xb);
        bx[q + 1] = Math.min(ya, yb);
        bx[q + 2] = Math.max(xa, xb);
        bx[q + 3] = Math.max(ya, yb);
      } else {
        const hw = f(bv[p + 2] / 2);
        const hh = f(bv[p + 3] / 2);
        bx[q] = bv[p] - hw;
        bx[q + 1] = bv[p + 1] - hh;
        bx[q + 2] = bv[p] + hw;
        bx[q + 3] = bv[p + 1] + hh;
      }
      bx[q + 4] = f(bx[q + 2] - bx[q]) * f(bx[q + 3] - bx[q + 1]);
    }
    for (let c = 0; c < nc; c++) {
      const base = (b * nc + c) * nbox;
      const kept = nms.run(sv, base, hasScoreT, scoreT);
      for (let t = 0; t < kept; t++) out.push(b, c, nms.sel[t]);
    }
  }
  return { v: Float64Array.from(out), shape: [out.length / 3, 3], kind: 'int' };
}

/** Whether kept box j suppresses box i: IoU > iou_threshold, in float32 as onnxruntime's SuppressByIOU (`bx`: x0, y0, x1, y1, area per box). */
function suppresses(bx: Float32Array, i: number, j: number, iou: number): boolean {
  const p = i * 5;
  const q = j * 5;
  const ix0 = bx[p] > bx[q] ? bx[p] : bx[q];
  const ix1 = bx[p + 2] < bx[q + 2] ? bx[p + 2] : bx[q + 2];
  if (ix1 <= ix0) return false;
  const iy0 = bx[p + 1] > bx[q + 1] ? bx[p + 1] : bx[q + 1];
  const iy1 = bx[p + 3] < bx[q + 3] ? bx[p + 3] : bx[q + 3];
  if (iy1 <= iy0) return false;
  const inter = f(f(ix1 - ix0) * f(iy1 - iy0));
  const aa = bx[p + 4];
  const ab = bx[q + 4];
  const uni = f(f(aa + ab) - inter);
  if (inter <= 0 || aa <= 0 || ab <= 0 || uni <= 0) return false;
  return f(inter / uni) > iou;
}

/**
 * Greedy suppression of one batch and class over boxes `bx` (x0, y0, x1, y1, area per box), its
 * buffers kept across classes. Kept boxes are filed in a uniform grid of cells about the mean
 * candidate's size (a box then spans ~2x2 cells), so a candidate is compared only with the kept
 * boxes sharing a cell with it (any two overlapping boxes do); boxes spanning many cells, and
 * classes of few candidates, are compared with every kept box.
 */
class ClassNms {
  /** The kept boxes of the last run, in selection order. */
  readonly sel: Int32Array;
  private order: Int32Array;
  private keys: Uint32Array;
  private spare: Int32Array;
  private spareKeys: Uint32Array;
  /** Per box: the candidate that last compared with it (a box in several shared cells is compared once). */
  private seen: Int32Array;
  private stamp = 0;
  private cells = new CellGrid();
  private wide: number[] = [];

  constructor(private bx: Float32Array, nbox: number, maxOut: number, private iou: number) {
    this.sel = new Int32Array(maxOut);
    this.order = new Int32Array(nbox);
    this.keys = new Uint32Array(nbox);
    this.spare = new Int32Array(nbox);
    this.spareKeys = new Uint32Array(nbox);
    this.seen = new Int32Array(nbox);
  }

  /** Suppress among the boxes whose scores sv[base + i] pass the threshold (NaN never does); returns how many are kept (in sel). */
  run(sv: Values, base: number, hasScoreT: boolean, scoreT: number): number {
    const { bx, sel, seen, cells, wide, iou } = this;
    const n = this.bx.length / 5;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const s = sv[base + i];
      if (hasScoreT ? s > scoreT : s === s) {
        this.order[m] = i;
        this.keys[m] = scoreKey(s);
        m++;
      }
    }
    const cand = this.sortByKey(m);
    let gx0 = Infinity;
    let gy0 = Infinity;
    let gx1 = -Infinity;
    let gy1 = -Infinity;
    let sw = 0;
    let sh = 0;
    for (let t = 0; t < m; t++) {
      const q = cand[t] * 5;
      gx0 = Math.min(gx0, bx[q]);
      gy0 = Math.min(gy0, bx[q + 1]);
      gx1 = Math.max(gx1, bx[q + 2]);
      gy1 = Math.max(gy1, bx[q + 3]);
      sw += bx[q + 2] - bx[q];
      sh += bx[q + 3] - bx[q + 1];
    }
    const grid = m >= 64 && Number.isFinite(gx1 - gx0 + gy1 - gy0 + sw + sh) && sw > 0 && sh > 0;
    // at most GRID_AXIS cells per axis (cells grow when outliers stretch the extent)
    const cw = Math.max(sw / m, (gx1 - gx0) / GRID_AXIS);
    const ch = Math.max(sh / m, (gy1 - gy0) / GRID_AXIS);
    if (grid) cells.reset(m);
    wide.length = 0;
    let k = 0;
    for (let t = 0; t < m && k < sel.length; t++) {
      const i = cand[t];
      const stamp = ++this.stamp;
      let keep = true;
      let cx0 = 0;
      let cx1 = 0;
      let cy0 = 0;
      let cy1 = 0;
      let many = !grid;
      if (!many) {
        const q = i * 5;
        cx0 = Math.floor((bx[q] - gx0) / cw);
        cy0 = Math.floor((bx[q + 1] - gy0) / ch);
        cx1 = Math.floor((bx[q + 2] - gx0) / cw);
        cy1 = Math.floor((bx[q + 3] - gy0) / ch);
        many = (cx1 - cx0 + 1) * (cy1 - cy0 + 1) > 16;
      }
      if (many) {
        for (let q = 0; q < k && keep; q++) keep = !suppresses(bx, i, sel[q], iou);
      } else {
        for (let q = 0; q < wide.length && keep; q++) keep = !suppresses(bx, i, wide[q], iou);
        for (let cy = cy0; cy <= cy1 && keep; cy++)
          for (let cx = cx0; cx <= cx1 && keep; cx++) {
            const cell = cells.at(cx, cy);
            if (!cell) continue;
            for (let q = 0; q < cell.length && keep; q++) {
              const j = cell[q];
              if (seen[j] === stamp) continue;
              seen[j] = stamp;
              keep = !suppresses(bx, i, j, iou);
            }
          }
      }
      if (keep) {
        sel[k++] = i;
        if (grid) {
          if (many) wide.push(i);
          else for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) cells.add(cx, cy, i);
        }
      }
    }
    return k;
  }

  /**
   * The first m of `order` sorted by `keys` ascending (best score first), ties in their order
   * (the lower box index first): a stable radix sort, one byte of the key per pass.
   */
  private sortByKey(m: number): Int32Array {
    let idx = this.order;
    let key = this.keys;
    let idx2 = this.spare;
    let key2 = this.spareKeys;
    const count = new Int32Array(256);
    for (let shift = 0; shift < 32; shift += 8) {
      count.fill(0);
      for (let t = 0; t < m; t++) count[(key[t] >>> shift) & 255]++;
      if (count[(key[0] >>> shift) & 255] === m) continue; // one value of this byte: already in order
      for (let d = 0, at = 0; d < 256; d++) {
        const c = count[d];
        count[d] = at;
        at += c;
      }
      for (let t = 0; t < m; t++) {
        const at = count[(key[t] >>> shift) & 255]++;
        idx2[at] = idx[t];
        key2[at] = key[t];
      }
      [idx, idx2] = [idx2, idx];
      [key, key2] = [key2, key];
    }
    this.order = idx;
    this.keys = key;
    this.spare = idx2;
    this.spareKeys = key2;
    return idx;
  }
}

const keyF32 = new Float32Array(1);
const keyU32 = new Uint32Array(keyF32.buffer);
/**
 * A uint32 sort key of a (non-NaN) score: ascending keys are descending scores, and -0 and 0 get
 * one key (as a comparison of scores finds them equal).
 */
function scoreKey(s: number): number {
  keyF32[0] = s + 0; // -0 + 0 is 0
  const u = keyU32[0];
  // the float's bits ordered as the floats are (negatives reversed), then reversed
  return (u & 0x80000000 ? u : ~u & 0x7fffffff) >>> 0;
}

/** Most grid cells per axis in NonMaxSuppression's grid (cell coordinates stay below 2^16, their key below 2^32). */
const GRID_AXIS = 1 << 15;

/**
 * NonMaxSuppression's grid of kept boxes: the boxes filed in each cell (x, y), the cells hashed
 * by coordinates (only the cells in use take memory, however far apart the boxes: batched NMS
 * offsets each class's boxes along the diagonal).
 */
class CellGrid {
  /** Per hash bucket, its latest cell (-1: none). */
  private head = new Int32Array(0);
  private mask = 0;
  /** Per cell in use: its key (y * 2^16 + x), the bucket's previous cell and its boxes. */
  private key = new Float64Array(0);
  private link = new Int32Array(0);
  private boxes: number[][] = [];
  private size = 0;

  /** Empty, with buckets for `n` boxes. */
  reset(n: number): void {
    let buckets = 64;
    while (buckets < 2 * n) buckets *= 2;
    if (this.head.length < buckets) this.head = new Int32Array(buckets);
    this.mask = buckets - 1;
    this.head.fill(-1, 0, buckets);
    this.size = 0;
  }

  /** The boxes filed in cell (x, y), undefined when none. */
  at(x: number, y: number): number[] | undefined {
    const c = this.find(x, y);
    return c >= 0 ? this.boxes[c] : undefined;
  }

  add(x: number, y: number, box: number): void {
    const c = this.find(x, y);
    if (c >= 0) {
      this.boxes[c].push(box);
      return;
    }
    if (this.size === this.key.length) {
      const cap = Math.max(256, this.size * 2);
      const key = new Float64Array(cap);
      const link = new Int32Array(cap);
      key.set(this.key);
      link.set(this.link);
      this.key = key;
      this.link = link;
    }
    const e = this.size++;
    const h = this.bucket(x, y);
    this.key[e] = y * 65536 + x;
    this.link[e] = this.head[h];
    this.head[h] = e;
    // the arrays of earlier runs are emptied and reused
    if (e < this.boxes.length) {
      this.boxes[e].length = 0;
      this.boxes[e].push(box);
    } else this.boxes.push([box]);
  }

  private bucket(x: number, y: number): number {
    return (Math.imul(x, 0x9e3779b1) ^ Math.imul(y, 0x85ebca77)) & this.mask;
  }

  private find(x: number, y: number): number {
    const key = y * 65536 + x;
    let c = this.head[this.bucket(x, y)];
    while (c >= 0 && this.key[c] !== key) c = this.link[c];
    return c;
  }
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
