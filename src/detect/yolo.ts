// Decoding of the raw head a YOLO-style detector exports when it stops before NMS (the
// Ultralytics YOLOv5u/v8 ONNX export: one tensor [batch, 4 + classes, anchors] of (cx, cy, w, h)
// in input pixels followed by per-class scores): each anchor takes its best class (the first
// on ties) and that class's score, anchors scoring above the threshold become (x1, y1, x2, y2)
// boxes, and class-aware NMS (torchvision's batched_nms rule) keeps the detections. This is
// Ultralytics' non_max_suppression with multi_label=False, agnostic=False, except that Ultralytics
// separates classes by offsetting coordinates by class · 7680 (which can round an IoU at the
// threshold differently) and keeps only the 30,000 best candidates before NMS; here classes are
// compared exactly and every candidate takes part.
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import { integer, unitInterval } from './args';
import { sortByScore, suppress } from './nms';

/** Detections of one image: boxes (x1, y1, x2, y2 per row), their scores and class labels, by decreasing score. */
export interface Detections {
  /** (x1, y1, x2, y2) per detection, in the coordinates of the head (input pixels): 4 values a row. */
  boxes: Float32Array;
  /** Score of each detection, decreasing. */
  scores: Float32Array;
  /** Class index of each detection (the position of its score among the head's class rows). */
  labels: Int32Array;
}

/** Options of {@link decodeYoloHead}. */
export interface YoloDecodeOptions {
  /** Anchors whose best class score is not strictly greater than this are dropped. In [0, 1]; default 0.25. */
  scoreThreshold?: number;
  /** NMS IoU threshold (strictly greater suppresses; boxes of different classes never do). In [0, 1]; default 0.45. */
  iouThreshold?: number;
  /** Detections kept per image at most. Default 300. */
  maxDetections?: number;
}

/**
 * Decode a YOLO-style raw head `[batch, 4 + classes, anchors]` ((cx, cy, w, h), then one score
 * per class, for every anchor) into detections: best class per anchor, score threshold, boxes to
 * (x1, y1, x2, y2), class-aware NMS, at most `maxDetections`.
 *
 * @param head The head's output tensor (e.g. from `model.run()`), shape [batch, 4 + classes, anchors].
 * @returns One {@link Detections} per image of the batch.
 * @throws ShapeError for a shape that is not [batch, 4 + classes, anchors] with classes >= 1;
 *   ValueError for thresholds outside [0, 1] or a NaN among the values.
 */
export async function decodeYoloHead(head: Tensor, options: YoloDecodeOptions = {}): Promise<Detections[]> {
  if (!head || !(head.data instanceof Float32Array) || !Array.isArray(head.shape))
    throw new ValueError('decodeYoloHead: head must be a { data: Float32Array, shape } tensor');
  const { data, shape } = head;
  if (shape.length !== 3 || shape[1] < 5 || shape[0] < 1 || shape[2] < 0 || shape[0] * shape[1] * shape[2] !== data.length)
    throw new ShapeError(`decodeYoloHead: head must have shape [batch, 4 + classes, anchors] with classes >= 1 and matching data, got [${shape.join(', ')}] with ${data.length} values`);
  const scoreThr = unitInterval(options.scoreThreshold, 0.25, 'decodeYoloHead: scoreThreshold');
  const iou = unitInterval(options.iouThreshold, 0.45, 'decodeYoloHead: iouThreshold');
  const maxDet = integer(options.maxDetections, 300, 0, 'decodeYoloHead: maxDetections');
  const [B, rows, A] = shape;
  const C = rows - 4;
  const f = Math.fround;
  const results: Detections[] = [];
  for (let b = 0; b < B; b++) {
    const base = b * rows * A;
    const boxes = new Float32Array(A * 4);
    const scores = new Float32Array(A);
    const labels = new Int32Array(A);
    const cand = new Int32Array(A);
    let m = 0;
    for (let a = 0; a < A; a++) {
      let best = -Infinity;
      let arg = 0;
      for (let c = 0; c < C; c++) {
        const v = data[base + (4 + c) * A + a];
        if (v > best) {
          best = v;
          arg = c;
        } else if (v !== v) throw new ValueError(`decodeYoloHead: the score of class ${c} at anchor ${a} (image ${b}) is NaN`);
      }
      if (!(best > scoreThr)) continue;
      const cx = data[base + a], cy = data[base + A + a], w = data[base + 2 * A + a], h = data[base + 3 * A + a];
      if (!Number.isFinite(cx + cy + w + h)) throw new ValueError(`decodeYoloHead: the box of anchor ${a} (image ${b}) is not finite`);
      const hw = f(w / 2), hh = f(h / 2);
      boxes[m * 4] = cx - hw;
      boxes[m * 4 + 1] = cy - hh;
      boxes[m * 4 + 2] = cx + hw;
      boxes[m * 4 + 3] = cy + hh;
      scores[m] = best;
      labels[m] = arg;
      cand[m] = m;
      m++;
    }
    const order = sortByScore(scores, cand.subarray(0, m));
    const keep = maxDet === 0 ? new Int32Array(0) : await suppress(boxes, order, labels, iou, maxDet);
    const out: Detections = { boxes: new Float32Array(keep.length * 4), scores: new Float32Array(keep.length), labels: new Int32Array(keep.length) };
    for (let i = 0; i < keep.length; i++) {
      const j = keep[i];
      out.boxes.set(boxes.subarray(j * 4, j * 4 + 4), i * 4);
      out.scores[i] = scores[j];
      out.labels[i] = labels[j];
    }
    results.push(out);
  }
  return results;
}
