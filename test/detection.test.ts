// Detection building blocks of models/detection.ts against torchvision 0.14: the Feature
// Pyramid Network with RetinaNet's P6/P7 and the RetinaNet head on a ResNet-50 body, and
// SSDLite's MobileNet V3 extractor (C4 expansion tap, extra blocks) and head, with the
// synthetic weights keyed by torchvision's state_dict names (tools/detection_fixtures.py stores
// PyTorch's raw head outputs, model.head(model.backbone(x)), on an odd input size whose
// top-down path up-samples 10 -> 19 and 5 -> 10 rows).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { featurePyramid, GraphBuilder, resnetFeatures, retinaNetHead, SSDLITE320_DEFAULT_BOXES, ssdDetections, ssdliteFeatures, ssdliteHead } from '../src/index';
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

  it('normalise, resize to 320x320, head, softmax, per-class top-k, batched NMS and boxes back to the image equal torchvision', async () => {
    const [, , H, W] = f.imageShape;
    const b = new GraphBuilder();
    const x = b.input('image', f.imageShape);
    // GeneralizedRCNNTransform: (x - mean) / std, then F.interpolate(size=(320, 320), bilinear, align_corners=False)
    const norm = b.node('Div', [b.node('Sub', [x, b.constant([0.5], [])])[0], b.constant([0.5], [])])[0];
    const sized = b.node('Resize', [norm, '', '', b.ints([1, 3, 320, 320])], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' })[0];
    const maps = ssdliteFeatures(b, sized, 'backbone.');
    const head = ssdliteHead(b, maps, 'head.');
    b.output(b.node('Softmax', [head.logits], { axis: -1 })[0], 'scores');
    b.output(head.boxes, 'deltas');
    const m = await b.build(syntheticWeights(b.weightShapes()));
    // the fixture's image: (uniform stream 'image' + 1) / 2, in [0, 1]
    const image = { data: uniformStream('image', H * W * 3).map((v) => (v + 1) / 2), shape: f.imageShape };
    const out = await m.run({ image });
    const sizes = maps.map((l) => b.shape(l).slice(2) as [number, number]);
    const d = await ssdDetections(
      { data: out.scores.data, shape: out.scores.shape.slice(1) },
      { data: out.deltas.data, shape: out.deltas.shape.slice(1) },
      { transformSize: 320, imageSize: [H, W], featureSizes: sizes, defaultBoxes: SSDLITE320_DEFAULT_BOXES },
    );
    expect(d.labels.length).toBe(f.labels.length);
    expect(Array.from(d.labels)).toEqual(f.labels);
    let worstScore = 0, worstBox = 0;
    f.scores.forEach((s, i) => (worstScore = Math.max(worstScore, Math.abs(d.scores[i] - s))));
    f.boxes.forEach((bx, i) => bx.forEach((v, j) => (worstBox = Math.max(worstBox, Math.abs(d.boxes[i * 4 + j] - v)))));
    expect(worstScore).toBeLessThan(1e-6);
    expect(worstBox).toBeLessThan(1e-3);
    m.dispose();
  });
});
