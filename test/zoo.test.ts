// Every registered zoo model equals its reference implementation (torchvision, timm or a
// reference module under tools/zoo/): same state_dict names and shapes, same parameter count,
// and the same output at the native input size within 1e-4 * max(1, max|ref|). Weights and
// input are the synthetic ones keyed by name (src/weights/synthetic.ts == tools/synthetic.py);
// fixtures hold PyTorch's outputs (tools/zoo_fixtures.py).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listModels, modelBuilder } from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

interface Fixture {
  name: string;
  reference: string;
  options: Record<string, unknown>;
  inputShape: number[];
  outputShape: number[];
  params: number;
  keys: Record<string, number[]>;
  sample: number;
  maxAbs: number;
  /** absent in a keys-only fixture */
  output?: number[];
}

const DIR = new URL('./fixtures/zoo/', import.meta.url);
const fixtures: Fixture[] = existsSync(DIR)
  ? readdirSync(DIR).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')))
  : [];

/** A fixture may test a variant: '<model>+<tag>' with options. */
const baseName = (f: Fixture) => f.name.split('+')[0];

describe('zoo parity with the reference implementations', () => {
  it('every registered model has a fixture', () => {
    // detectors are checked end to end (transform, head, post-processing) by test/detection.test.ts
    const detectors = readdirSync(new URL('./fixtures/detection/', import.meta.url)).filter((f) => f.includes('_detect_')).map((f) => f.replace(/_detect_.*/, ''));
    // and the Faster R-CNN family by test/rcnn.test.ts
    const rcnn = readdirSync(new URL('./fixtures/rcnn/', import.meta.url)).map((f) => f.replace(/\.json$/, ''));
    const covered = new Set([...fixtures.map(baseName), ...detectors, ...rcnn]);
    expect(listModels().filter((n) => !covered.has(n))).toEqual([]);
  });

  for (const f of fixtures) {
    it(`${f.name} (${f.reference})`, async () => {
      const [, , H, W] = f.inputShape;
      // a fixture of resolutionMultiplier reaches its input size through that option alone
      const size = 'resolutionMultiplier' in f.options ? {} : { inputSize: [H, W] as [number, number] };
      const b = modelBuilder(baseName(f), { ...f.options, ...size, batch: f.inputShape[0] });
      expect(b.graph.inputs[0].shape).toEqual(f.inputShape);
      const shapes = b.weightShapes();
      const declared = Object.fromEntries([...shapes].map(([k, s]) => [k, s]));
      expect(declared).toEqual(f.keys);
      if (!f.output) {
        // keys-only fixture (a model too large to run here): the state_dict's names, shapes and size
        expect([...shapes.values()].reduce((t, s) => t + s.reduce((a, d) => a * d, 1), 0)).toBe(f.params);
        return;
      }
      const m = await b.build(syntheticWeights(shapes));
      expect(m.paramCount).toBe(f.params);
      const y = await m.predict(syntheticInput(f.inputShape));
      expect(y.shape).toEqual(f.outputShape);
      const scale = Math.max(1, f.maxAbs);
      let worst = 0;
      let at = 0;
      f.output.forEach((r, i) => {
        const d = Math.abs(y.data[i * f.sample] - r);
        if (d > worst) [worst, at] = [d, i * f.sample];
      });
      expect(worst, `max |y - ref| ${worst} at ${at} (scale ${scale})`).toBeLessThanOrEqual(1e-4 * scale);
      m.dispose();
    });
  }
});

describe('zoo options', () => {
  // numClasses reshapes the classifier (its weight names keep their shapes' new size) and
  // inputSize plans any resolution the architecture takes
  const cases: [string, number][] = [
    ['resnet18', 64], ['vgg11', 32], ['alexnet', 96], ['googlenet', 64], ['densenet121', 64], ['repvgg_a0', 64],
    ['mobilenet_v3_small', 96], ['efficientnet_b0', 96], ['convnext_tiny', 64], ['shufflenet_v2_x0_5', 64],
    ['ghostnet_050', 64], ['mobilenetv4_conv_small', 96], ['mobilenetv1_100', 80],
  ];
  for (const [name, size] of cases)
    it(`${name} with numClasses 7 at ${size}x${size}`, async () => {
      const b = modelBuilder(name, { numClasses: 7, inputSize: size });
      const m = await b.build(syntheticWeights(b.weightShapes()));
      const y = await m.predict(syntheticInput([1, 3, size, size]));
      expect(y.shape).toEqual([1, 7]);
      expect(y.data.every(Number.isFinite)).toBe(true);
      m.dispose();
    });
});
