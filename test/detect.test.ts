// Detection building blocks (src/detect, assembly/detect.ts) against torchvision 0.14 on the same
// inputs (fixtures by tools/detect_fixtures.py): nonMaxSuppression = torchvision.ops.nms /
// batched_nms (same indices in the same order), decodeYoloHead = numpy + batched_nms, roiAlign =
// torchvision.ops.roi_align, multiScaleRoIAlign = MultiScaleRoIAlign over 4 FPN levels,
// gridAnchors = AnchorGenerator, defaultBoxes = DefaultBoxGenerator, decodeBoxes = BoxCoder.decode,
// decodeBoxesLinear = BoxLinearCoder.decode,
// clipBoxesToImage / removeSmallBoxes = torchvision.ops; roiAlign = onnxruntime-node's ONNX
// RoiAlign (opset 16, both coordinate modes, avg and max); and typed errors for bad input.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '../src/errors';
import { emptyGraph, type Tensor } from '../src/graph/ir';
import { graphToOnnx } from '../src/onnx/writer';
import {
  SSD300_DEFAULT_BOXES,
  SSDLITE320_DEFAULT_BOXES,
  baseAnchors,
  clipBoxesToImage,
  decodeBoxes,
  decodeBoxesLinear,
  decodeYoloHead,
  defaultBoxes,
  gridAnchors,
  multiScaleRoIAlign,
  nonMaxSuppression,
  removeSmallBoxes,
  roiAlign,
} from '../src/index';

type Blob = { f32?: string; i32?: string; shape: number[] };
const fixture = JSON.parse(readFileSync(new URL('./fixtures/detect/cases.json', import.meta.url), 'utf8'));

function f32(b: Blob): Float32Array {
  const buf = Buffer.from(b.f32!, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
function i32(b: Blob): Int32Array {
  const buf = Buffer.from(b.i32!, 'base64');
  return new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
const tensor = (b: Blob): Tensor => ({ data: f32(b), shape: b.shape });

/** Largest |a − b| / (1 + |b|); lengths must agree. */
function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

/** The plain-JS greedy loop: the obvious O(n²) NMS, the baseline the wasm kernel is timed against. */
function greedyJs(boxes: Float32Array, scores: Float32Array, iou: number): number[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  const dead = new Uint8Array(order.length);
  const keep: number[] = [];
  for (let i = 0; i < order.length; i++) {
    if (dead[i]) continue;
    const a = order[i] * 4;
    keep.push(order[i]);
    const areaA = (boxes[a + 2] - boxes[a]) * (boxes[a + 3] - boxes[a + 1]);
    for (let j = i + 1; j < order.length; j++) {
      if (dead[j]) continue;
      const b = order[j] * 4;
      const w = Math.max(0, Math.min(boxes[a + 2], boxes[b + 2]) - Math.max(boxes[a], boxes[b]));
      const h = Math.max(0, Math.min(boxes[a + 3], boxes[b + 3]) - Math.max(boxes[a + 1], boxes[b + 1]));
      const inter = w * h;
      if (inter / (areaA + (boxes[b + 2] - boxes[b]) * (boxes[b + 3] - boxes[b + 1]) - inter) > iou) dead[j] = 1;
    }
  }
  return keep;
}

describe('nonMaxSuppression = torchvision.ops.nms / batched_nms', () => {
  for (const c of fixture.nms) {
    it(`${c.name}: ${c.boxes.shape[0]} boxes, IoU > ${c.iouThreshold}${c.classes ? ', class-aware' : ''}`, async () => {
      const boxes = f32(c.boxes), scores = f32(c.scores);
      const keep = await nonMaxSuppression(boxes, scores, { iouThreshold: c.iouThreshold, classes: c.classes ? i32(c.classes) : undefined });
      if (c.tiesUnordered) {
        // torchvision's order among equal scores is torch.sort(stable=False)'s here: same set, same scores in order
        expect(Array.from(keep).sort((a, b) => a - b)).toEqual([...c.keep].sort((a: number, b: number) => a - b));
        expect(Array.from(keep, (i) => scores[i])).toEqual(c.keep.map((i: number) => scores[i]));
        expect(Array.from(keep)).not.toEqual(c.keep); // (else the case would not need this branch)
      } else expect(Array.from(keep)).toEqual(c.keep);
      // the fixture suppresses something (except at threshold 1, where nothing can be)
      if (c.iouThreshold < 1) expect(c.keep.length).toBeLessThan(scores.length);
      else expect(c.keep.length).toBe(scores.length);
    });
  }

  it('ties keep index order (the fixture has many equal scores among the kept boxes)', () => {
    const c = fixture.nms.find((x: { name: string }) => x.name === 'ties');
    const s = f32(c.scores);
    let tiedPairs = 0;
    for (let i = 1; i < c.keep.length; i++) if (s[c.keep[i]] === s[c.keep[i - 1]]) {
      tiedPairs++;
      expect(c.keep[i]).toBeGreaterThan(c.keep[i - 1]);
    }
    expect(tiedPairs).toBeGreaterThan(10);
  });

  it('the tensor form, maxDetections and scoreThreshold agree with filtering torchvision\'s answer', async () => {
    const c = fixture.nms.find((x: { name: string }) => x.name === 'clusters');
    const boxes = f32(c.boxes), scores = f32(c.scores);
    const t = { data: boxes, shape: [boxes.length / 4, 4] };
    expect(Array.from(await nonMaxSuppression(t, scores, { iouThreshold: c.iouThreshold, maxDetections: 7 }))).toEqual(c.keep.slice(0, 7));
    // a score threshold drops low boxes before suppression: the answer is torchvision's on the
    // boxes above it, which the plain greedy loop gives on that subset
    const above = Array.from(scores.keys()).filter((i) => scores[i] > 0.6);
    const sub = new Float32Array(above.flatMap((i) => Array.from(boxes.subarray(i * 4, i * 4 + 4))));
    const want = greedyJs(sub, Float32Array.from(above.map((i) => scores[i])), c.iouThreshold).map((j) => above[j]);
    expect(Array.from(await nonMaxSuppression(boxes, scores, { iouThreshold: c.iouThreshold, scoreThreshold: 0.6 }))).toEqual(want);
    expect(await nonMaxSuppression(boxes, scores, { maxDetections: 0 })).toHaveLength(0);
    expect(await nonMaxSuppression(new Float32Array(0), new Float32Array(0))).toHaveLength(0);
  });

  it('prints its speed against a plain-JS greedy loop (1,000 and 10,000 boxes)', async () => {
    for (const n of [1000, 10000]) {
      // xorshift32 from seed 7 for each n: tools/detect_fixtures.py --bench times torchvision on these same boxes
      let seed = 7;
      const rnd = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      const boxes = new Float32Array(n * 4), scores = new Float32Array(n);
      const centres = Array.from({ length: n / 25 }, () => [rnd() * 1000, rnd() * 1000]);
      for (let i = 0; i < n; i++) {
        const [cx, cy] = centres[Math.floor(rnd() * centres.length)];
        const x = cx + (rnd() - 0.5) * 40, y = cy + (rnd() - 0.5) * 40, w = 10 + rnd() * 110, h = 10 + rnd() * 110;
        boxes.set([x - w / 2, y - h / 2, x + w / 2, y + h / 2], i * 4);
        scores[i] = rnd();
      }
      const time = async (fn: () => unknown, reps: number) => {
        const t: number[] = [];
        for (let r = 0; r < reps; r++) {
          const t0 = performance.now();
          await fn();
          t.push(performance.now() - t0);
        }
        return t.sort((a, b) => a - b)[Math.floor(reps / 2)];
      };
      const reps = n === 1000 ? 21 : 3;
      const kept = await nonMaxSuppression(boxes, scores, { iouThreshold: 0.5 });
      expect(Array.from(kept)).toEqual(greedyJs(boxes, scores, 0.5));
      await time(() => greedyJs(boxes, scores, 0.5), 1);
      const wasm = await time(() => nonMaxSuppression(boxes, scores, { iouThreshold: 0.5 }), reps);
      const js = await time(() => greedyJs(boxes, scores, 0.5), reps);
      console.log(`nonMaxSuppression ${n} boxes (kept ${kept.length}): wasm ${wasm.toFixed(3)} ms, plain JS ${js.toFixed(3)} ms (median)`);
    }
  });
});

describe('decodeYoloHead = numpy decode + torchvision batched_nms', () => {
  for (const c of fixture.yolo) {
    it(c.name, async () => {
      const got = await decodeYoloHead(tensor(c.head), { scoreThreshold: c.scoreThreshold, iouThreshold: c.iouThreshold, maxDetections: c.maxDetections });
      expect(got).toHaveLength(c.expected.length);
      got.forEach((d, b) => {
        const e = c.expected[b];
        expect(Array.from(d.labels)).toEqual(e.labels);
        expect(Array.from(d.scores)).toEqual(Array.from(f32(e.scores)));
        expect(Array.from(d.boxes)).toEqual(Array.from(f32(e.boxes)));
        expect(d.labels.length).toBeGreaterThan(2);
      });
    });
  }
});

describe('roiAlign = torchvision.ops.roi_align', () => {
  const feature = tensor(fixture.roiAlign.feature);
  const rois = f32(fixture.roiAlign.rois);
  const [N, C, H, W] = feature.shape;
  const nhwc = new Float32Array(feature.data.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let p = 0; p < H * W; p++) nhwc[(n * H * W + p) * C + c] = feature.data[(n * C + c) * H * W + p];
  for (const c of fixture.roiAlign.cases) {
    it(c.name, async () => {
      const opts = { outputSize: c.outputSize as [number, number], spatialScale: c.spatialScale, samplingRatio: c.samplingRatio, aligned: c.aligned };
      const want = f32(c.expected);
      const y = await roiAlign(feature, rois, opts);
      expect(y.shape).toEqual(c.expected.shape);
      expect(maxRelErr(y.data, want)).toBeLessThan(1e-6);
      // NHWC in and out: the same numbers, transposed
      const z = await roiAlign({ data: nhwc, shape: [N, H, W, C] }, { data: rois, shape: [rois.length / 5, 5] }, { ...opts, layout: 'nhwc' });
      const [K, , OH, OW] = y.shape;
      expect(z.shape).toEqual([K, OH, OW, C]);
      for (let k = 0; k < K; k++) for (let ch = 0; ch < C; ch++) for (let p = 0; p < OH * OW; p++)
        expect(z.data[(k * OH * OW + p) * C + ch]).toBe(y.data[(k * C + ch) * OH * OW + p]);
    });
  }
  it('the list-per-image form of the boxes equals the (batch index, box) rows', async () => {
    const per: number[][] = [[], []];
    for (let i = 0; i < rois.length; i += 5) per[rois[i]].push(...rois.subarray(i + 1, i + 5));
    const a = await roiAlign(feature, per.map((p) => Float32Array.from(p)), { outputSize: 3, spatialScale: 0.5, samplingRatio: 2 });
    const order = [0, 1].flatMap((b) => Array.from({ length: rois.length / 5 }, (_, k) => k).filter((k) => rois[k * 5] === b));
    const b = await roiAlign(feature, Float32Array.from(order.flatMap((k) => Array.from(rois.subarray(k * 5, k * 5 + 5)))), { outputSize: 3, spatialScale: 0.5, samplingRatio: 2 });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe('roiAlign = onnxruntime-node RoiAlign (opset 16)', () => {
  // onnxruntime warns that its max mode differs from the ONNX reference; the test pins its behaviour
  ort.env.logLevel = 'error';
  const feature = tensor(fixture.roiAlign.feature);
  const rois = f32(fixture.roiAlign.rois);
  const K = rois.length / 5;
  const boxes = new Float32Array(K * 4);
  for (let k = 0; k < K; k++) boxes.set(rois.subarray(k * 5 + 1, k * 5 + 5), k * 4);
  const batch = Array.from({ length: K }, (_, k) => rois[k * 5]);
  for (const mode of ['avg', 'max'] as const)
    for (const ctm of ['output_half_pixel', 'half_pixel'])
      for (const [sampling, OH, OW] of [[2, 3, 4], [0, 5, 2]]) {
        it(`mode ${mode}, ${ctm}, sampling ${sampling}, ${OH}x${OW}`, async () => {
          const g = emptyGraph();
          g.opset = 16;
          g.inputs = [{ name: 'X', shape: feature.shape }];
          g.initializers.set('rois', { data: boxes, shape: [K, 4] });
          g.intConstants.set('batch', { ints: batch, shape: [K] });
          g.nodes = [{ name: 'roi', op: 'RoiAlign', inputs: ['X', 'rois', 'batch'], outputs: ['Y'], attrs: {
            mode, coordinate_transformation_mode: ctm, output_height: OH, output_width: OW, sampling_ratio: sampling, spatial_scale: 0.5,
          } }];
          g.outputs = [{ name: 'Y', shape: [K, feature.shape[1], OH, OW] }];
          const session = await ort.InferenceSession.create(graphToOnnx(g), { intraOpNumThreads: 1, logSeverityLevel: 3 });
          const want = (await session.run({ X: new ort.Tensor('float32', feature.data, feature.shape) })).Y.data as Float32Array;
          const got = await roiAlign(feature, rois, { outputSize: [OH, OW], spatialScale: 0.5, samplingRatio: sampling, aligned: ctm === 'half_pixel', mode });
          expect(maxRelErr(got.data, want)).toBeLessThan(1e-6);
          if (mode === 'max') {
            // max differs from avg on these inputs (the case tells the modes apart)
            const avg = await roiAlign(feature, rois, { outputSize: [OH, OW], spatialScale: 0.5, samplingRatio: sampling, aligned: ctm === 'half_pixel' });
            expect(maxRelErr(avg.data, want)).toBeGreaterThan(0.01);
          }
        });
      }
});

describe('multiScaleRoIAlign = torchvision MultiScaleRoIAlign (4 FPN levels)', () => {
  const ms = fixture.multiScale;
  // the fixture's features: (x·7 + y·13 + c·5 + n·11 + level·3) mod 17 / 4 − 2, exact in float32
  const features = ms.featureSizes.map(([n, c, h, w]: number[], level: number) => {
    const data = new Float32Array(n * c * h * w);
    for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++)
      data[((b * c + ch) * h + y) * w + x] = ((x * 7 + y * 13 + ch * 5 + b * 11 + level * 3) % 17) / 4 - 2;
    return { data, shape: [n, c, h, w] };
  });
  const boxes = ms.boxes.map(f32);
  it('uses all four levels', () => expect(new Set(ms.levels)).toEqual(new Set([0, 1, 2, 3])));
  for (const c of ms.cases) {
    it(`output ${c.outputSize.join('x')}, sampling ${c.samplingRatio}`, async () => {
      const y = await multiScaleRoIAlign(features, boxes, ms.imageSizes, { outputSize: c.outputSize, samplingRatio: c.samplingRatio });
      expect(y.shape).toEqual(c.expected.shape);
      expect(maxRelErr(y.data, f32(c.expected))).toBeLessThan(1e-6);
      // the engine's layout: NHWC maps in, [K, OH, OW, C] out, the same numbers
      const nhwc = features.map(({ data, shape: [n, ch, h, w] }: Tensor) => {
        const t = new Float32Array(data.length);
        for (let b = 0; b < n; b++) for (let q = 0; q < ch; q++) for (let p = 0; p < h * w; p++) t[(b * h * w + p) * ch + q] = data[(b * ch + q) * h * w + p];
        return { data: t, shape: [n, h, w, ch] };
      });
      const z = await multiScaleRoIAlign(nhwc, boxes, ms.imageSizes, { outputSize: c.outputSize, samplingRatio: c.samplingRatio, layout: 'nhwc' });
      const [K, C, OH, OW] = y.shape;
      expect(z.shape).toEqual([K, OH, OW, C]);
      let same = 0;
      for (let k = 0; k < K; k++) for (let q = 0; q < C; q++) for (let p = 0; p < OH * OW; p++) same += +(z.data[(k * OH * OW + p) * C + q] === y.data[(k * C + q) * OH * OW + p]);
      expect(same).toBe(y.data.length);
    });
  }
});

describe('anchors = torchvision AnchorGenerator / DefaultBoxGenerator', () => {
  for (const c of fixture.anchors) {
    it(`AnchorGenerator ${c.name}`, () => {
      const a = gridAnchors(c.imageSize, c.featureSizes, { sizes: c.sizes, aspectRatios: c.aspectRatios });
      expect(a.length).toBe(c.rows * 4);
      const want = f32(c.expected);
      const got = new Float32Array(want.length);
      for (let r = 0; r * c.stride < c.rows; r++) got.set(a.subarray(r * c.stride * 4, r * c.stride * 4 + 4), r * 4);
      expect(Array.from(got)).toEqual(Array.from(want));
    });
  }
  it('base anchors round half to even (torch.round): size 32, ratio 1 and 2', () => {
    // 32/√2 = 22.627…, /2 = 11.31 → 11; 32·√2 / 2 = 22.6 → 23; size 45 ratio 1: ±22.5 → ±22
    expect(Array.from(baseAnchors([32], [2]))).toEqual([-11, -23, 11, 23]);
    expect(Array.from(baseAnchors([45], [1]))).toEqual([-22, -22, 22, 22]);
  });
  for (const c of fixture.defaultBoxes) {
    it(`DefaultBoxGenerator ${c.name}`, () => {
      const opts = { aspectRatios: c.aspectRatios, minRatio: c.minRatio, maxRatio: c.maxRatio, scales: c.scales ?? undefined, steps: c.steps ?? undefined, clip: c.clip };
      const a = defaultBoxes(c.imageSize, c.featureSizes, opts);
      expect(a.length).toBe(c.rows * 4);
      const want = f32(c.expected);
      const got = new Float32Array(want.length);
      for (let r = 0; r * c.stride < c.rows; r++) got.set(a.subarray(r * c.stride * 4, r * c.stride * 4 + 4), r * 4);
      expect(maxRelErr(got, want)).toBeLessThan(1e-6);
    });
  }
  it('the presets are the fixture settings of ssdlite320 and ssd300', () => {
    const lite = fixture.defaultBoxes.find((c: { name: string }) => c.name === 'ssdlite320');
    expect(defaultBoxes(320, lite.featureSizes, SSDLITE320_DEFAULT_BOXES)).toEqual(defaultBoxes(320, lite.featureSizes, { aspectRatios: lite.aspectRatios, minRatio: 0.2, maxRatio: 0.95 }));
    const s300 = fixture.defaultBoxes.find((c: { name: string }) => c.name === 'ssd300');
    expect(defaultBoxes(300, s300.featureSizes, SSD300_DEFAULT_BOXES)).toEqual(defaultBoxes(300, s300.featureSizes, { aspectRatios: s300.aspectRatios, scales: s300.scales, steps: s300.steps }));
  });
});

describe('box coding = torchvision BoxCoder.decode, clip_boxes_to_image, remove_small_boxes', () => {
  for (const c of fixture.boxCoder.decode) {
    it(`decode, weights (${c.weights.join(', ')}), ${c.codes.shape[1] / 4} box(es) per reference`, () => {
      const got = decodeBoxes(tensor(c.codes), f32(c.boxes), { weights: c.weights });
      const want = f32(c.expected);
      // float32 step for step as torchvision, but exp() may differ by an ulp from torch's
      // vectorised expf: within 1e-3 pixels (the bound), and most values bit-equal
      let maxAbs = 0, unequal = 0;
      for (let i = 0; i < want.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
        unequal += +(got[i] !== want[i]);
      }
      expect(maxAbs).toBeLessThan(1e-3);
      expect(unequal).toBeLessThan(want.length * 0.1);
    });
  }
  for (const c of fixture.boxCoder.linear) {
    it(`BoxLinearCoder decode (FCOS), normalize_by_size=${c.normalizeBySize}`, () => {
      const got = decodeBoxesLinear(tensor(c.codes), f32(c.boxes), { normalizeBySize: c.normalizeBySize });
      expect(Array.from(got)).toEqual(Array.from(f32(c.expected)));
    });
  }
  it('clipBoxesToImage and removeSmallBoxes', () => {
    const c = fixture.boxCoder.clip;
    const clipped = clipBoxesToImage(f32(c.boxes), c.imageSize);
    expect(Array.from(clipped)).toEqual(Array.from(f32(c.expected)));
    expect(Array.from(removeSmallBoxes(clipped, c.minSize))).toEqual(c.keep);
    expect(c.keep.length).toBeLessThan(clipped.length / 4);
  });
});

describe('bad input gets typed errors naming the argument', () => {
  const boxes = new Float32Array([0, 0, 10, 10, 1, 1, 11, 11]);
  const scores = new Float32Array([0.9, 0.8]);
  it('nonMaxSuppression', async () => {
    await expect(nonMaxSuppression(boxes.subarray(0, 7), scores)).rejects.toThrow(ShapeError);
    await expect(nonMaxSuppression(boxes, new Float32Array(3))).rejects.toThrow(/2 boxes but 3 scores/);
    await expect(nonMaxSuppression(new Float32Array([0, 0, NaN, 1, 0, 0, 1, 1]), scores)).rejects.toThrow(/boxes: value 2 \(box 0\) is NaN/);
    await expect(nonMaxSuppression(boxes, new Float32Array([NaN, 1]))).rejects.toThrow(/scores\[0\] is NaN/);
    await expect(nonMaxSuppression(boxes, scores, { iouThreshold: 1.5 })).rejects.toThrow(/iouThreshold must be a number in \[0, 1\]/);
    await expect(nonMaxSuppression(boxes, scores, { scoreThreshold: -0.1 })).rejects.toThrow(ValueError);
    await expect(nonMaxSuppression(boxes, scores, { maxDetections: -1 })).rejects.toThrow(/maxDetections/);
    await expect(nonMaxSuppression(boxes, scores, { classes: [0] })).rejects.toThrow(/2 boxes but 1 classes/);
    await expect(nonMaxSuppression({ data: boxes, shape: [4, 2] }, scores)).rejects.toThrow(/shape \[N, 4\]/);
  });
  it('decodeYoloHead', async () => {
    await expect(decodeYoloHead({ data: new Float32Array(16), shape: [1, 4, 4] })).rejects.toThrow(ShapeError);
    const head = new Float32Array(10).fill(0.5);
    head[8] = NaN;
    await expect(decodeYoloHead({ data: head, shape: [1, 5, 2] })).rejects.toThrow(/NaN/);
  });
  it('roiAlign and multiScaleRoIAlign', async () => {
    const feat = { data: new Float32Array(2 * 3 * 4 * 5), shape: [2, 3, 4, 5] };
    await expect(roiAlign(feat, new Float32Array([2, 0, 0, 1, 1]), { outputSize: 2 })).rejects.toThrow(/batch index 2/);
    await expect(roiAlign(feat, new Float32Array([0.5, 0, 0, 1, 1]), { outputSize: 2 })).rejects.toThrow(/batch index 0.5/);
    await expect(roiAlign(feat, new Float32Array([0, 0, 0, 1]), { outputSize: 2 })).rejects.toThrow(ShapeError);
    await expect(roiAlign(feat, new Float32Array([0, 0, 0, 1, 1]), { outputSize: 0 })).rejects.toThrow(/outputSize/);
    await expect(roiAlign(feat, new Float32Array([0, 0, 0, 1, 1]), { outputSize: 2, spatialScale: -1 })).rejects.toThrow(/spatialScale/);
    await expect(roiAlign({ data: new Float32Array(5), shape: [1, 5] }, new Float32Array(0), { outputSize: 2 })).rejects.toThrow(ShapeError);
    await expect(roiAlign(feat, new Float32Array([0, 0, 0, 1e30, 1e30]), { outputSize: 2 })).rejects.toThrow(/too large/);
    await expect(roiAlign(feat, new Float32Array([0, 0, 0, 1, 1]), { outputSize: 2, mode: 'min' as 'max' })).rejects.toThrow(/mode must be/);
    await expect(multiScaleRoIAlign([feat], [new Float32Array([5, 5, 1, 9])], [8, 10], { outputSize: 2 })).rejects.toThrow(/box 0 \(5, 5, 1, 9\) has a negative area/);
    await expect(multiScaleRoIAlign([feat, { data: new Float32Array(1 * 3 * 2 * 3), shape: [1, 3, 2, 3] }], [new Float32Array(4)], [8, 10], { outputSize: 2 })).rejects.toThrow(/batch and channels must agree/);
  });
  it('anchors and box coding', () => {
    expect(() => gridAnchors([64, 64], [[8, 8]], { sizes: [[32], [64]], aspectRatios: [[1]] })).toThrow(/one entry per level/);
    expect(() => gridAnchors([64, 64], [[8, 8]], { sizes: [[-32]], aspectRatios: [[1]] })).toThrow(/sizes must be/);
    expect(() => gridAnchors([64, -1], [[8, 8]], { sizes: [[32]], aspectRatios: [[1]] })).toThrow(/imageSize/);
    expect(() => defaultBoxes(300, [38, 19], { aspectRatios: [[2]] })).toThrow(/one list per level/);
    expect(() => defaultBoxes(300, [38], { aspectRatios: [[2]], scales: [0.1] })).toThrow(/levels \+ 1/);
    expect(() => decodeBoxes(new Float32Array(6), boxes)).toThrow(ShapeError);
    expect(() => decodeBoxes(new Float32Array(8), boxes, { weights: [1, 1, 0, 1] })).toThrow(/weights/);
    expect(() => decodeBoxesLinear(new Float32Array(4), boxes)).toThrow(/1 delta rows for 2 reference boxes/);
    expect(() => clipBoxesToImage(boxes, [0, 5])).toThrow(/imageSize/);
    expect(() => removeSmallBoxes(boxes, NaN)).toThrow(/minSize/);
  });
});
