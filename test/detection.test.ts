// Detection building blocks of models/detection.ts against torchvision 0.14: the Feature
// Pyramid Network with RetinaNet's P6/P7 and the RetinaNet head on a ResNet-50 body, with the
// synthetic weights keyed by torchvision's state_dict names (tools/detection_fixtures.py stores
// PyTorch's raw head outputs, model.head(model.backbone(x)), on an odd input size whose
// top-down path up-samples 10 -> 19 and 5 -> 10 rows).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { featurePyramid, GraphBuilder, resnetFeatures, retinaNetHead } from '../src/index';
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

describe('RetinaNet ResNet-50 FPN body and head (torchvision 0.14)', () => {
  const f = JSON.parse(readFileSync(new URL('./fixtures/detection/retinanet_resnet50_fpn_heads_150x200.json', import.meta.url), 'utf8')) as Fixture;

  it('has torchvision\'s weight names and shapes, and its raw head outputs', async () => {
    const b = new GraphBuilder();
    const x = b.input('input', f.inputShape);
    const [, c3, c4, c5] = resnetFeatures(b, x, 'resnet50', { prefix: 'backbone.body.' });
    const levels = featurePyramid(b, [c3, c4, c5], 'backbone.fpn.', { extra: 'p6p7', p6FromP5: true });
    expect(levels.map((l) => b.shape(l))).toEqual(f.levels);
    const head = retinaNetHead(b, levels, 'head.');
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
  });
});
