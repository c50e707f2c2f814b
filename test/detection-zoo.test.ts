// The detection zoo's ssd300_vgg16, retinanet_resnet50_fpn and fcos_resnet50_fpn against
// torchvision 0.14 (tools/detection_fixtures.py, synthetic weights keyed by its state_dict names):
// weight names and shapes, raw head outputs (SSD300's VGG16 with L2Norm and dilated fc6; FCOS's
// GroupNorm towers and centerness), the min_size / max_size transform's sizes, and model.detect()
// equal to the eval forward (same detections in the same order, scores within 1e-6 relative,
// boxes within 1e-3 px).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel, denseDetections, fcosHead, featurePyramid, GraphBuilder, modelBuilder, resnetFeatures, ShapeError, ssdHead, ssdVgg16Features, ValueError } from '../src/index';
import { topkByScore } from '../src/detect/nms';
import { generalizedRcnnTransform, minMaxResizedSize } from '../src/detect/transform';
import type { Detections } from '../src/detect/yolo';
import { syntheticInput, syntheticWeights, uniformStream } from '../src/weights/synthetic';

interface Sampled {
  shape: number[];
  step: number;
  maxAbs: number;
  values: number[];
}
interface Heads {
  inputShape: number[];
  keys: Record<string, number[]>;
  levels: number[][];
  logits: Sampled;
  boxes: Sampled;
  ctrness?: Sampled;
}
interface Dets {
  imageShape: number[];
  options: { min_size?: number; max_size?: number };
  transformed: number[];
  imageSizes: number[][];
  boxes: number[][];
  scores: number[];
  labels: number[];
}

const read = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./fixtures/detection/${name}.json`, import.meta.url), 'utf8')) as T;

/** Worst |got - want| over the sampled entries, relative to the largest reference magnitude. */
function worst(got: Float32Array, want: Sampled): number {
  let w = 0;
  want.values.forEach((v, i) => {
    w = Math.max(w, Math.abs(got[i * want.step] - v));
  });
  return w / want.maxAbs;
}

async function checkHeads(f: Heads, body: (b: GraphBuilder, x: string) => Record<string, string>): Promise<void> {
  const b = new GraphBuilder();
  const outs = body(b, b.input('input', f.inputShape));
  for (const [k, v] of Object.entries(outs)) b.output(v, k);
  const shapes = b.weightShapes();
  expect(Object.fromEntries([...shapes].sort())).toEqual(Object.fromEntries(Object.entries(f.keys).sort()));
  const m = await b.build(syntheticWeights(shapes));
  const out = await m.run({ input: syntheticInput(f.inputShape) });
  const want: Record<string, Sampled | undefined> = { logits: f.logits, boxes: f.boxes, ctrness: f.ctrness };
  for (const k of Object.keys(outs)) {
    expect(out[k].shape).toEqual(want[k]!.shape);
    expect(worst(out[k].data, want[k]!), k).toBeLessThan(1e-4);
  }
  m.dispose();
}

/**
 * The same detections in the same order as torchvision's: labels, scores within 1e-6 (relative)
 * and boxes within 1e-3 px; detections whose reference scores tie (float32-equal) may come in
 * either order among themselves.
 */
function expectSame(d: Detections, f: Dets): void {
  expect(d.labels.length).toBe(f.labels.length);
  const n = f.labels.length;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && f.scores[j] === f.scores[i]) j++;
    // the run [i, j) of tied reference scores: matched as a set
    const got = [...Array(j - i).keys()].map((k) => i + k);
    for (const gi of got) {
      const match = got.find((fi) => d.labels[gi] === f.labels[fi] && f.boxes[fi].every((v, c) => Math.abs(d.boxes[gi * 4 + c] - v) < 1e-3));
      expect(match, `detection ${gi}: label ${d.labels[gi]} box ${Array.from(d.boxes.subarray(gi * 4, gi * 4 + 4)).join(', ')} (reference: label ${f.labels[gi]} box ${f.boxes[gi].join(', ')})`).toBeDefined();
      expect(Math.abs(d.scores[gi] - f.scores[match!])).toBeLessThan(1e-6 * Math.max(1, f.scores[match!]));
    }
    i = j;
  }
}

const image = (f: Dets) => ({ data: uniformStream('image', f.imageShape.reduce((a, b) => a * b, 1)).map((v) => (v + 1) / 2), shape: f.imageShape });
const one = (d: Detections | Detections[]): Detections => {
  if (Array.isArray(d)) throw new Error('one image gives one result');
  return d;
};

describe('SSD300 VGG16 (torchvision 0.14)', () => {
  it("has torchvision's weight names and shapes, its six maps and raw head outputs", async () => {
    const f = read<Heads>('ssd300_vgg16_heads_300x300');
    await checkHeads(f, (b, x) => {
      const maps = ssdVgg16Features(b, x, 'backbone.');
      expect(maps.map((l) => b.shape(l))).toEqual(f.levels);
      return { ...ssdHead(b, maps, 'head.', { anchors: [4, 6, 6, 6, 4, 4] }) };
    });
  }, 60_000);

  it('detect() equals the eval forward (transform to 300x300, per-class top 400, NMS 0.45, 200 detections)', async () => {
    const f = read<Dets>('ssd300_vgg16_detect_200x260');
    const m = await createModel('ssd300_vgg16', { weights: syntheticWeights(modelBuilder('ssd300_vgg16').weightShapes()) });
    expectSame(one(await m.detect(image(f))), f);
    m.dispose();
  }, 60_000);
});

describe('FCOS ResNet-50 FPN head (torchvision 0.14)', () => {
  it("has torchvision's weight names and shapes and raw head outputs (GroupNorm towers, centerness)", async () => {
    const f = read<Heads>('fcos_resnet50_fpn_heads_130x170');
    await checkHeads(f, (b, x) => {
      const [, c3, c4, c5] = resnetFeatures(b, x, 'resnet50', { prefix: 'backbone.body.' });
      const levels = featurePyramid(b, [c3, c4, c5], 'backbone.fpn.', { extra: 'p6p7', p6FromP5: true });
      expect(levels.map((l) => b.shape(l))).toEqual(f.levels);
      return { ...fcosHead(b, levels, 'head.') };
    });
  }, 60_000);
});

describe('topkByScore (a dense head\'s top-k candidates)', () => {
  it('equals a full sort by decreasing score (ties by position) cut at k, with many ties', () => {
    for (const [n, k, levels] of [[5000, 1000, 37], [5000, 1000, 5000], [300, 1000, 10], [2000, 1, 3], [2000, 1999, 2], [1000, 0, 5]]) {
      const u = uniformStream(`topk${n}_${k}_${levels}`, n);
      // few distinct values: the k-th score is tied many times
      const s = Float32Array.from(u, (v) => Math.floor(((v + 1) / 2) * levels) / levels);
      const want = [...s.keys()].sort((a, b) => s[b] - s[a] || a - b).slice(0, k);
      expect(Array.from(topkByScore(s, k))).toEqual(want);
    }
  });
});

describe('denseDetections', () => {
  const anchors = Float32Array.from([0, 0, 10, 10, 10, 10, 30, 30]);
  const base = { kind: 'retinanet' as const, anchors, levelAnchors: [2], imageSize: [20, 20] as [number, number], originalSize: [40, 40] as [number, number], scoreThreshold: 0.05, iouThreshold: 0.5, topkCandidates: 1000, maxDetections: 100 };
  const logits = Float32Array.from([2, -5, -5, 0.5]);
  const sig = (x: number) => Math.fround(1 / (1 + Math.exp(-x)));

  it('scores by sigmoid above the threshold, zero deltas give the anchors, clipped to the resized image and scaled back', async () => {
    const d = await denseDetections(logits, new Float32Array(8), undefined, base);
    expect(Array.from(d.labels)).toEqual([0, 1]);
    expect(Array.from(d.scores)).toEqual([sig(2), sig(0.5)]);
    // anchor 1 clipped to 20x20, then everything x2 (40 / 20)
    expect(Array.from(d.boxes)).toEqual([0, 0, 20, 20, 20, 20, 40, 40]);
    // FCOS: sqrt(sigmoid(logit) * sigmoid(centerness)), boxes from edge distances in anchor sizes
    const ctr = Float32Array.from([0, -20]);
    const f = await denseDetections(logits, Float32Array.from([0.1, 0.2, 0.3, 0.4, 0, 0, 0, 0]), ctr, { ...base, kind: 'fcos', scoreThreshold: 0.2 });
    expect(Array.from(f.labels)).toEqual([0]);
    expect(f.scores[0]).toBeCloseTo(Math.sqrt(sig(2) * 0.5), 6);
    // centre (5, 5), size 10: (5 - 1, 5 - 2, 5 + 3, 5 + 4), x2
    Array.from(f.boxes).forEach((v, i) => expect(v).toBeCloseTo([8, 6, 16, 18][i], 5));
  });

  it('compares scores with the threshold in float32, as torch does (a score equal to float32(0.05) is not above 0.05)', async () => {
    // sigmoid(-2.944438934326172) rounds to float32(0.05) = 0.0500000007…, above the double 0.05
    const x = Math.fround(-2.944438934326172);
    expect(sig(x)).toBe(Math.fround(0.05));
    const at = await denseDetections(Float32Array.from([x, -9, -9, -9]), new Float32Array(8), undefined, base);
    expect(at.labels.length).toBe(0);
    const above = await denseDetections(Float32Array.from([x + 1e-6, -9, -9, -9]), new Float32Array(8), undefined, base);
    expect(Array.from(above.labels)).toEqual([0]);
  });

  it('refuses outputs that do not fit the anchors and bad options', async () => {
    await expect(denseDetections(logits, new Float32Array(4), undefined, base)).rejects.toThrow(ShapeError);
    await expect(denseDetections(logits, new Float32Array(8), undefined, { ...base, levelAnchors: [1] })).rejects.toThrow(ShapeError);
    await expect(denseDetections(logits, new Float32Array(8), undefined, { ...base, kind: 'fcos' })).rejects.toThrow(/centerness/);
    await expect(denseDetections(logits, new Float32Array(8), undefined, { ...base, kind: 'yolo' as never })).rejects.toThrow(ValueError);
    await expect(denseDetections(logits, new Float32Array(8), undefined, { ...base, iouThreshold: 1.5 })).rejects.toThrow(ValueError);
  });
});

describe('GeneralizedRCNNTransform on the host (min_size / max_size resize, padding to 32)', () => {
  it("gives torchvision's resized size for random image sizes and bounds", () => {
    const { rows } = read<{ rows: number[][] }>('detection_transform_sizes');
    expect(rows.length).toBeGreaterThan(50);
    for (const [h, w, lo, hi, oh, ow] of rows) expect(minMaxResizedSize(h, w, lo, hi), `${h}x${w} min ${lo} max ${hi}`).toEqual([oh, ow]);
  });

  it("gives torchvision's normalised, resized, padded batch", () => {
    for (const name of ['retinanet_resnet50_fpn_detect_150x190', 'retinanet_resnet50_fpn_detect_190x140', 'fcos_resnet50_fpn_detect_140x230']) {
      const f = read<Dets & { transformedSample: Sampled }>(name);
      const t = generalizedRcnnTransform(image(f), { minSize: f.options.min_size!, maxSize: f.options.max_size!, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], sizeDivisible: 32 });
      expect(t.images.shape).toEqual(f.transformed);
      expect(t.imageSize).toEqual(f.imageSizes[0]);
      expect(worst(t.images.data, f.transformedSample), name).toBeLessThan(1e-6);
    }
  });
});

describe('RetinaNet and FCOS detect() (torchvision 0.14 eval forward, min_size / max_size transform)', () => {
  it('retinanet_resnet50_fpn: equals torchvision on images whose size changes between runs, per image of a batch, with options', async () => {
    const f = read<Dets>('retinanet_resnet50_fpn_detect_150x190');
    const g = read<Dets>('retinanet_resnet50_fpn_detect_190x140');
    const inputSize: [number, number] = [f.options.min_size!, f.options.max_size!];
    const name = 'retinanet_resnet50_fpn';
    const m = await createModel(name, { weights: syntheticWeights(modelBuilder(name, { inputSize }).weightShapes()), inputSize });
    // 150x190 pads to 128x160, 190x140 to 192x128: each planned when it first comes
    expectSame(one(await m.detect(image(f))), f);
    expectSame(one(await m.detect(image(g))), g);
    expectSame(one(await m.detect(image(f))), f);
    const x = image(f);
    const two = await m.detect({ data: Float32Array.from([...x.data, ...x.data]), shape: [2, ...f.imageShape.slice(1)] });
    expect(Array.isArray(two) && two.length).toBe(2);
    for (const d of two as Detections[]) expectSame(d, f);
    // an image (RawImage, 8-bit RGB) gives the detections of its tensor (samples / 255)
    const [, , H, W] = f.imageShape;
    const rgb = Uint8Array.from(uniformStream('rgb', H * W * 3), (v) => Math.floor(((v + 1) / 2) * 256) % 256);
    const planar = new Float32Array(3 * H * W);
    for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) planar[c * H * W + p] = Math.fround(rgb[p * 3 + c] / 255);
    const fromRaw = one(await m.detect({ data: rgb, width: W, height: H, channels: 3 }));
    const fromTensor = one(await m.detect({ data: planar, shape: [1, 3, H, W] }));
    expect(fromRaw.labels.length).toBeGreaterThan(0);
    expect(Array.from(fromRaw.labels)).toEqual(Array.from(fromTensor.labels));
    fromRaw.boxes.forEach((v, i) => expect(Math.abs(v - fromTensor.boxes[i])).toBeLessThan(1e-3));
    // the options override torchvision's defaults
    const few = one(await m.detect(x, { maxDetections: 5, scoreThreshold: 0.93 }));
    expect(Array.from(few.labels)).toEqual(f.labels.filter((_, i) => f.scores[i] > 0.93).slice(0, 5));
    await expect(m.detect({ data: new Float32Array(12), shape: [1, 4, 3] })).rejects.toThrow(ShapeError);
    await expect(m.detect(x, { iou: 0.5 } as never)).rejects.toThrow(ValueError);
    await expect(m.detect(x, { scoreThreshold: 2 })).rejects.toThrow(ValueError);
    m.dispose();
  }, 60_000);

  it("fcos_resnet50_fpn: the transform's sizes and the detections equal torchvision's", async () => {
    const f = read<Dets>('fcos_resnet50_fpn_detect_140x230');
    const [, , H, W] = f.imageShape;
    expect(minMaxResizedSize(H, W, f.options.min_size!, f.options.max_size!)).toEqual(f.imageSizes[0]);
    const inputSize: [number, number] = [f.options.min_size!, f.options.max_size!];
    const name = 'fcos_resnet50_fpn';
    const m = await createModel(name, { weights: syntheticWeights(modelBuilder(name, { inputSize }).weightShapes()), inputSize });
    expectSame(one(await m.detect(image(f))), f);
    // run() itself takes the padded batch: a side that is not a multiple of 32 does not halve
    // evenly down the pyramid, a ShapeError naming the node and the shapes
    await expect(m.run({ images: { data: new Float32Array(3 * 100 * 100), shape: [1, 3, 100, 100] } })).rejects.toThrow(/Add node .*do not broadcast/);
    m.dispose();
  }, 60_000);

  it('refuses a min_size or max_size below the padded multiple, naming the model', () => {
    expect(() => modelBuilder('fcos_resnet50_fpn', { inputSize: 16 })).toThrow(/fcos_resnet50_fpn: option inputSize/);
    expect(() => modelBuilder('retinanet_resnet50_fpn', { inputSize: [600, 8] })).toThrow(ValueError);
  });
});
