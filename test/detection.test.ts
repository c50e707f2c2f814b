// Detection building blocks of models/detection.ts against torchvision 0.14: the Feature
// Pyramid Network with RetinaNet's P6/P7 and the RetinaNet head on a ResNet-50 body, and
// SSDLite's MobileNet V3 extractor (C4 expansion tap, extra blocks) and head, with the
// synthetic weights keyed by torchvision's state_dict names (tools/detection_fixtures.py stores
// PyTorch's raw head outputs, model.head(model.backbone(x)), on an odd input size whose
// top-down path up-samples 10 -> 19 and 5 -> 10 rows).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { featurePyramid, GraphBuilder, resnetFeatures, retinaNetHead, ssdliteFeatures, ssdliteHead } from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

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
