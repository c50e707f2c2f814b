// Detection building blocks of models/detection.ts against torchvision 0.14: the Feature
// Pyramid Network with RetinaNet's P6/P7 and the RetinaNet head on a ResNet-50 body, and
// SSDLite's MobileNet V3 extractor (C4 expansion tap, extra blocks) and head, with the
// synthetic weights keyed by torchvision's state_dict names (tools/detection_fixtures.py stores
// PyTorch's raw head outputs, model.head(model.backbone(x)), on an odd input size whose
// top-down path up-samples 10 -> 19 and 5 -> 10 rows).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel, featurePyramid, GraphBuilder, modelBuilder, resnetFeatures, retinaNetHead, ShapeError, ssdliteFeatures, ssdliteHead, ValueError } from '../src/index';
import { syntheticInput, syntheticWeights, uniformStream } from '../src/weights/synthetic';

interface Sampled {
  shape: number[];
  step: number;
  maxAbs: number;
  values: number[];
}
interface Fixture {
  inputShape: number[];
  keys: Record<string, number[]>;
  levels: number[][];
  logits: Sampled;
  boxes: Sampled;
}

/** Worst |got - want| over the sampled entries, relative to the largest reference magnitude. */
function worst(got: Float32Array, want: Sampled): number {
  let w = 0;
  want.values.forEach((v, i) => {
    w = Math.max(w, Math.abs(got[i * want.step] - v));
  });
  return w / want.maxAbs;
}

const fixture = (name: string): Fixture => JSON.parse(readFileSync(new URL(`./fixtures/detection/${name}.json`, import.meta.url), 'utf8')) as Fixture;

/** Builds the graph, checks the weight names and shapes against torchvision's, and compares the raw head outputs. */
async function check(f: Fixture, body: (b: GraphBuilder, x: string) => { logits: string; boxes: string }): Promise<void> {
  const b = new GraphBuilder();
  const head = body(b, b.input('input', f.inputShape));
  b.output(head.logits, 'cls_logits');
  b.output(head.boxes, 'bbox_regression');
  const shapes = b.weightShapes();
  expect(Object.fromEntries([...shapes].sort())).toEqual(Object.fromEntries(Object.entries(f.keys).sort()));
  const m = await b.build(syntheticWeights(shapes));
  const out = await m.run({ input: syntheticInput(f.inputShape) });
  expect(out.cls_logits.shape).toEqual(f.logits.shape);
  expect(out.bbox_regression.shape).toEqual(f.boxes.shape);
  expect(worst(out.cls_logits.data, f.logits)).toBeLessThan(1e-4);
  expect(worst(out.bbox_regression.data, f.boxes)).toBeLessThan(1e-4);
  m.dispose();
}

describe('SSDLite320 MobileNet V3 Large (torchvision 0.14)', () => {
  it("has torchvision's weight names and shapes, its feature maps and raw head outputs", async () => {
    const f = fixture('ssdlite320_mobilenet_v3_large_heads_250x210');
    await check(f, (b, x) => {
      const maps = ssdliteFeatures(b, x, 'backbone.');
      expect(maps.map((l) => b.shape(l))).toEqual(f.levels);
      return ssdliteHead(b, maps, 'head.');
    });
  });
});

describe('RetinaNet ResNet-50 FPN body and head (torchvision 0.14)', () => {
  const f = fixture('retinanet_resnet50_fpn_heads_150x200');

  it("has torchvision's weight names and shapes, and its raw head outputs", async () => {
    await check(f, (b, x) => {
      const [, c3, c4, c5] = resnetFeatures(b, x, 'resnet50', { prefix: 'backbone.body.' });
      const levels = featurePyramid(b, [c3, c4, c5], 'backbone.fpn.', { extra: 'p6p7', p6FromP5: true });
      expect(levels.map((l) => b.shape(l))).toEqual(f.levels);
      return retinaNetHead(b, levels, 'head.');
    });
  });
});

describe('SSDLite320 detections (torchvision 0.14 eval forward)', () => {
  interface Dets {
    imageShape: number[];
    boxes: number[][];
    scores: number[];
    labels: number[];
  }
  const f = JSON.parse(readFileSync(new URL('./fixtures/detection/ssdlite320_mobilenet_v3_large_detect_240x300.json', import.meta.url), 'utf8')) as Dets;

  it("the zoo's ssdlite320_mobilenet_v3_large: model.detect() on images of any size equals torchvision", async () => {
    const name = 'ssdlite320_mobilenet_v3_large';
    const m = await createModel(name, { weights: syntheticWeights(modelBuilder(name).weightShapes()) });
    const [, , H, W] = f.imageShape;
    // first another size (planned on first sight), then the fixture's
    const other = await m.detect({ data: uniformStream('other', 3 * 200 * 260).map((v) => (v + 1) / 2), shape: [1, 3, 200, 260] });
    if (Array.isArray(other)) throw new Error('one image gives one result');
    expect(other.labels.length).toBe(300);
    for (let i = 0; i < other.boxes.length; i += 4) {
      expect(other.boxes[i]).toBeGreaterThanOrEqual(0);
      expect(other.boxes[i + 2]).toBeLessThanOrEqual(260 + 1e-3);
      expect(other.boxes[i + 3]).toBeLessThanOrEqual(200 + 1e-3);
    }
    const image = { data: uniformStream('image', H * W * 3).map((v) => (v + 1) / 2), shape: f.imageShape };
    const d = await m.detect(image);
    if (Array.isArray(d)) throw new Error('one image gives one result');
    expect(Array.from(d.labels)).toEqual(f.labels);
    f.scores.forEach((s, i) => expect(Math.abs(d.scores[i] - s)).toBeLessThan(1e-6));
    f.boxes.forEach((bx, i) => bx.forEach((v, j) => expect(Math.abs(d.boxes[i * 4 + j] - v)).toBeLessThan(1e-3)));
    // the options override torchvision's defaults
    const few = await m.detect(image, { maxDetections: 5, scoreThreshold: 0.0185 });
    if (Array.isArray(few)) throw new Error('one image gives one result');
    expect(Array.from(few.labels)).toEqual(f.labels.filter((_, i) => f.scores[i] > 0.0185).slice(0, 5));
    // a batch of two gives one result per image
    const two = await m.detect({ data: Float32Array.from([...image.data, ...image.data]), shape: [2, 3, H, W] });
    expect(Array.isArray(two) && two.length === 2 && Array.from(two[1].labels).join() === f.labels.join()).toBe(true);
    await expect(m.detect({ data: new Float32Array(12), shape: [1, 4, 3] })).rejects.toThrow(ShapeError);
    await expect(m.detect(image, { iou: 0.5 } as never)).rejects.toThrow(ValueError);
    m.dispose();
    const classifier = await createModel('mobilenet_v3_small', { weights: syntheticWeights(modelBuilder('mobilenet_v3_small').weightShapes()) });
    await expect(classifier.detect(image)).rejects.toThrow(/needs a detection model/);
    classifier.dispose();
  });
});
