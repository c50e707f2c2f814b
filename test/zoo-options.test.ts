// Every zoo model x every createModel option: the option either shows in the built graph the way
// first principles say it must (input/output shapes, parameter counts, weight names, node
// counts), or it is refused with a ValueError naming the model and the option. Also each model's
// preprocessing agrees with the network it is for (input size, channels, classes).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel, listModels, modelBuilder, ValueError } from '../src/index';
import { modelPreprocessing } from '../models/index';
import type { GraphBuilder } from '../src/builder';

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const params = (b: GraphBuilder) => [...b.weightShapes().values()].reduce((a, s) => a + numel(s), 0);
const inShape = (b: GraphBuilder) => b.graph.inputs[0].shape!;
const outShape = (b: GraphBuilder) => b.shape(b.graph.outputs[0].name);
const convCount = (b: GraphBuilder) => b.graph.nodes.filter((n) => n.op === 'Conv').length;

/** The builder call throws a ValueError whose message names the model and the option. */
function expectRefused(name: string, option: string, o: Record<string, unknown>): void {
  let err: unknown;
  try {
    modelBuilder(name, o);
  } catch (e) {
    err = e;
  }
  expect(err, `${name} ${JSON.stringify(o)} should be refused`).toBeInstanceOf(ValueError);
  expect((err as Error).message).toContain(name);
  expect((err as Error).message).toContain(option);
}

const supports = (name: string, option: 'widthMultiplier' | 'attention' | 'deploy') => {
  // the answer is read from the model, not from the registry: does building with it throw?
  try {
    modelBuilder(name, option === 'widthMultiplier' ? { widthMultiplier: 0.5 } : option === 'attention' ? { attention: 'eca' } : { deploy: true });
    return true;
  } catch (e) {
    if (!(e instanceof ValueError)) throw e;
    return false;
  }
};

const MODELS = listModels();

/** torchvision's and timm's own eval transforms, read by tools/zoo_preprocessing.py. */
const REFERENCE = JSON.parse(readFileSync(new URL('./fixtures/zoo-preprocessing.json', import.meta.url), 'utf8')) as Record<
  string,
  { size: number | number[]; crop?: number | number[]; mean: number[]; std: number[]; interpolation: string; classes: number; reference: string }
>;
const hw = (s: number | number[]) => (typeof s === 'number' ? [s, s] : s);
const ATTENTIONS = ['se', 'cbam', 'eca', 'coord'] as const;

describe.each(MODELS)('%s', (name) => {
  const base = modelBuilder(name);
  const baseIn = inShape(base);
  const baseOut = outShape(base);
  const baseParams = params(base);
  // a two-stage detector (Faster R-CNN): its first network ends at the RPN ('objectness.0' first);
  // its classes live in the box head, a second network createModel builds (numClasses and
  // inputSize as [min_size, max_size] are checked end to end by test/rcnn.test.ts)
  const twoStage = base.graph.outputs[0].name === 'objectness.0';
  // a detector's first output is its class scores per box [N, boxes, classes]
  const detector = baseOut.length === 3 || twoStage;
  const classAxis = detector ? 2 : 1;
  const classes = baseOut[classAxis]; // [N, classes], [N, classes, H, W] or [N, boxes, classes]

  // an image-to-image model (an output image with the input's channels, larger: super-resolution) has no classes
  const imageOut = baseOut.length === 4 && baseOut[1] === baseIn[1] && baseOut[2] > baseIn[2] && baseOut[3] > baseIn[3];

  it('numClasses sets the class axis; the last layer grows by the same count of weights per class', () => {
    if (imageOut) {
      expectRefused(name, 'numClasses', { numClasses: 7 });
      return;
    }
    if (twoStage) {
      console.log(`${name}: numClasses sizes the box head, a second network (checked by test/rcnn.test.ts)`);
      expectRefused(name, 'numClasses', { numClasses: 0 });
      return;
    }
    const p: number[] = [];
    for (const nc of [7, 9]) {
      const b = modelBuilder(name, { numClasses: nc });
      const want = baseOut.slice();
      want[classAxis] = nc;
      expect(outShape(b)).toEqual(want);
      expect(inShape(b)).toEqual(baseIn);
      p.push(params(b));
    }
    const perClass = (p[1] - p[0]) / 2;
    expect(perClass).toBeGreaterThan(0);
    expect(Number.isInteger(perClass)).toBe(true);
    expect(baseParams - p[0]).toBe(perClass * (classes - 7));
    expectRefused(name, 'numClasses', { numClasses: 0 });
    expectRefused(name, 'numClasses', { numClasses: 2.5 });
  });

  it('batch sets the batch axis of input and output and leaves the weights alone', () => {
    const b = modelBuilder(name, { batch: 3 });
    expect(inShape(b)).toEqual([3, ...baseIn.slice(1)]);
    expect(outShape(b)).toEqual([3, ...baseOut.slice(1)]);
    expect(params(b)).toBe(baseParams);
    expectRefused(name, 'batch', { batch: -1 });
  });

  it('inputSize sets the input resolution (or is refused by name)', () => {
    const [H, W] = [baseIn[2] + 32, baseIn[3] + 64];
    if (name.startsWith('lenet5')) {
      // the classifier takes 16*5*5 features: only 32x32 fits
      expectRefused(name, 'inputSize', { inputSize: 28 });
      expectRefused(name, 'inputSize', { inputSize: [H, W] });
      expect(inShape(modelBuilder(name, { inputSize: 32 }))).toEqual(baseIn);
    } else if (twoStage) {
      // inputSize is the transform's min_size (or [min_size, max_size]): the first plan is a
      // min_size square padded to a multiple of 32, the weights do not change
      const pad = (v: number) => Math.ceil(v / 32) * 32;
      expect(inShape(modelBuilder(name, { inputSize: [H, W] }))).toEqual([baseIn[0], 3, pad(H), pad(H)]);
      expect(inShape(modelBuilder(name, { inputSize: H + 1 }))).toEqual([baseIn[0], 3, pad(H + 1), pad(H + 1)]);
      expect(params(modelBuilder(name, { inputSize: H }))).toBe(baseParams);
    } else {
      const b = modelBuilder(name, { inputSize: [H, W] });
      expect(inShape(b)).toEqual([baseIn[0], baseIn[1], H, W]);
      // classifiers pool globally (or adaptively) before the head; segmentation outputs follow the
      // input, super-resolution outputs follow it at the model's scale
      const up = baseOut.length === 4 ? baseOut[2] / baseIn[2] : 1;
      if (baseOut.length === 4) expect(Number.isInteger(up) && baseOut[3] === up * baseIn[3]).toBe(true);
      // a detector's inputSize is its transform's size: more pixels, more default boxes, same classes
      if (detector) expect([outShape(b)[0], outShape(b)[2]]).toEqual([baseOut[0], classes]);
      if (detector) expect(outShape(b)[1]).toBeGreaterThan(baseOut[1]);
      else expect(outShape(b)).toEqual(baseOut.length === 4 ? [baseOut[0], classes, H * up, W * up] : baseOut);
      expect(params(b)).toBe(baseParams);
      const square = modelBuilder(name, { inputSize: H });
      expect(inShape(square)).toEqual([baseIn[0], baseIn[1], H, H]);
    }
    // far too small: builds at that size (a two-stage detector's min_size 8: padded to 32) or is
    // refused naming the model and the option
    try {
      const side = twoStage ? 32 : 8;
      expect(inShape(modelBuilder(name, { inputSize: 8 }))).toEqual([baseIn[0], baseIn[1], side, side]);
    } catch (e) {
      expect(e).toBeInstanceOf(ValueError);
      expect((e as Error).message).toContain(name);
      expect((e as Error).message).toContain('inputSize');
    }
    expectRefused(name, 'inputSize', { inputSize: 0 });
    expectRefused(name, 'inputSize', { inputSize: [224] });
  });

  it('widthMultiplier scales the channels where the family has one, else is refused', () => {
    if (!supports(name, 'widthMultiplier')) {
      expectRefused(name, 'widthMultiplier', { widthMultiplier: 0.5 });
      expectRefused(name, 'widthMultiplier', { widthMultiplier: 1 });
      return;
    }
    const narrow = modelBuilder(name, { widthMultiplier: 0.5 });
    const wide = modelBuilder(name, { widthMultiplier: 1.5 });
    // the same layers with scaled channels: most conv weights get fewer (more) output channels
    // (not all: timm keeps MobileNetV4's stem at 1.0 below 1.0, and rounding to 8 can tie)
    const ws = (b: GraphBuilder) => [...b.weightShapes()].filter(([, sh]) => sh.length === 4);
    expect(ws(narrow).map(([k]) => k)).toEqual(ws(base).map(([k]) => k));
    const fewer = ws(narrow).filter(([, sh], i) => sh[0] < ws(base)[i][1][0]).length;
    const more = ws(wide).filter(([, sh], i) => sh[0] > ws(base)[i][1][0]).length;
    expect(fewer).toBeGreaterThan(ws(base).length / 2);
    expect(more).toBeGreaterThan(ws(base).length / 2);
    expect(params(narrow)).toBeLessThan(baseParams);
    expect(params(wide)).toBeGreaterThan(baseParams);
    expect(outShape(narrow)).toEqual(baseOut);
    expectRefused(name, 'widthMultiplier', { widthMultiplier: 0 });
  });

  it('attention adds that module to every block where the family has it (or replaces its SE), else is refused', () => {
    if (!supports(name, 'attention')) {
      for (const a of ATTENTIONS) expectRefused(name, 'attention', { attention: a });
      return;
    }
    const keys = [...base.weightShapes().keys()];
    // the reference's own SE modules (torchvision fc1/fc2, timm conv_reduce/conv_expand): replaced, not joined
    const seSlots = new Set(keys.filter((k) => /\.(fc1|conv_reduce)\.weight$/.test(k) && !/^classifier|\.channel\./.test(k)).map((k) => k.replace(/\.(fc1|conv_reduce)\.weight$/, '')));
    // else one module per block: ResNet blocks, MobileNetV2 inverted residuals, dense layers, VGG stages
    const blocks = seSlots.size > 0 ? seSlots.size
      : keys.filter((k) => /^layer\d\.\d+\.conv1\.weight$|^features\.\d+\.conv\.0\.0\.weight$|denselayer\d+\.conv2\.weight$/.test(k)).length || 5;
    expect(blocks).toBeGreaterThan(0);
    const signatures = new Set<string>();
    for (const a of ATTENTIONS) {
      const b = modelBuilder(name, { attention: a });
      const shapes = b.weightShapes();
      const added = [...shapes].filter(([k]) => !base.weightShapes().has(k));
      const removed = keys.filter((k) => !shapes.has(k));
      if (seSlots.size > 0 && a === 'se') {
        expect(added, a).toEqual([]); // 'se' is the reference itself
        expect(removed, a).toEqual([]);
        continue;
      }
      if (seSlots.size > 0) {
        // every added and removed weight lies in one of the reference's SE slots, and every slot changed
        const slotOf = (k: string) => [...seSlots].find((p) => k.startsWith(`${p}.`));
        expect(removed.every(slotOf), a).toBe(true);
        const prefixes = new Set(added.map(([k]) => slotOf(k)));
        expect(prefixes.has(undefined), a).toBe(false);
        expect(prefixes.size, a).toBe(blocks);
        signatures.add(JSON.stringify(added));
      } else {
        // one module per block under <block>.se (ecaresnet50d's own ECA swapped for the one asked)
        const se = [...shapes].filter(([k]) => k.includes('.se.'));
        expect(new Set(se.map(([k]) => k.replace(/\.se\..*/, ''))).size, a).toBe(blocks);
        expect(removed.every((k) => k.includes('.se.')), a).toBe(true);
        expect(added.every(([k]) => k.includes('.se.')), a).toBe(true);
        signatures.add(JSON.stringify(se));
      }
      expect(outShape(b)).toEqual(baseOut);
    }
    expect(signatures.size).toBe(seSlots.size > 0 ? ATTENTIONS.length - 1 : ATTENTIONS.length); // different modules ('se' on an SE family is the base)
    expectRefused(name, 'attention', { attention: 'bogus' });
  });

  it('deploy builds the single-conv inference form where the model has one, else is refused', () => {
    if (!supports(name, 'deploy')) {
      expectRefused(name, 'deploy', { deploy: true });
      expectRefused(name, 'deploy', { deploy: false });
      return;
    }
    const d = modelBuilder(name, { deploy: true });
    // one 3x3 conv per block instead of 3x3 + 1x1 branches, from the same training-time state_dict
    expect(convCount(d)).toBeLessThan(convCount(base));
    expect(d.weightShapes()).toEqual(base.weightShapes());
    expect(outShape(d)).toEqual(baseOut);
    expectRefused(name, 'deploy', { deploy: 'yes' });
  });

  it('scale and channels set a super-resolution model\'s factor and image channels, else are refused', () => {
    if (!imageOut) {
      expectRefused(name, 'scale', { scale: 2 });
      expectRefused(name, 'channels', { channels: 3 });
      return;
    }
    for (const r of [2, 3, 4] as const) {
      const b = modelBuilder(name, { scale: r, channels: 3 });
      expect(inShape(b)).toEqual([baseIn[0], 3, ...baseIn.slice(2)]);
      expect(outShape(b)).toEqual([baseOut[0], 3, r * baseIn[2], r * baseIn[3]]);
    }
    expectRefused(name, 'scale', { scale: 5 });
    expectRefused(name, 'scale', { scale: 1.5 });
    expectRefused(name, 'channels', { channels: 2 });
  });

  it("inputSize 'dynamic' builds the native-size network (sizes vary at run time) or is refused by name", () => {
    let b: GraphBuilder | undefined;
    try {
      b = modelBuilder(name, { inputSize: 'dynamic' });
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      expect(e.message).toContain(name);
      expect(e.message).toContain("inputSize 'dynamic'");
    }
    if (b) {
      // the first plan is the native one; test/dynamic.test.ts runs such models at other sizes
      expect(inShape(b)).toEqual(baseIn);
      expect(b.weightShapes()).toEqual(base.weightShapes());
      expect(b.graph.nodes.length).toBe(base.graph.nodes.length);
      expect(modelBuilder(name, { inputSize: 'dynamic', planCache: 2 }).graph.nodes.length).toBe(base.graph.nodes.length);
    }
    // one plan without 'dynamic' (detectors take images of any size: planCache applies to them)
    if (!detector) expectRefused(name, 'planCache', { planCache: 2 });
    expectRefused(name, 'planCache', { inputSize: 'dynamic', planCache: 0 });
    expectRefused(name, 'inputSize', { inputSize: 'dyn' });
  });

  it('an unknown option is refused by name', () => {
    expectRefused(name, 'inputsize', { inputsize: 28 });
  });

  it('has preprocessing that fits the network', () => {
    const p = modelPreprocessing(name);
    expect(p.channels).toBe(baseIn[1]);
    expect(p.mean.length).toBe(p.channels);
    expect(p.std.length).toBe(p.channels);
    for (const s of p.std) expect(s).toBeGreaterThan(0);
    expect(['nearest', 'bilinear', 'bicubic']).toContain(p.interpolation);
    const classesOf = { imagenet: 1000, voc: 21, coco: 91, mnist: 10 } as const;
    if (p.labels && !twoStage) expect(classes).toBe(classesOf[p.labels]);
    // the prepared image is the network's native input where its size is fixed by a crop or an exact resize
    const crop = p.crop ?? (Array.isArray(p.size) ? p.size : undefined);
    if (crop !== undefined) {
      const [h, w] = typeof crop === 'number' ? [crop, crop] : crop;
      expect([h, w]).toEqual(baseIn.slice(2));
    }
    expect(p.reference.length).toBeGreaterThan(0);
    const ref = REFERENCE[name];
    if (ref) {
      // the reference library's transform for the default pretrained weights
      expect(p.size).toEqual(ref.size); // a number (shorter side) stays a number, a pair a pair
      expect(p.crop === undefined ? undefined : hw(p.crop)).toEqual(ref.crop === undefined ? undefined : hw(ref.crop));
      expect(p.interpolation).toBe(ref.interpolation);
      p.mean.forEach((m, i) => expect(m).toBeCloseTo(ref.mean[i], 6));
      p.std.forEach((v, i) => expect(v).toBeCloseTo(ref.std[i], 6));
      expect(classes).toBe(ref.classes);
      expect(ref.reference).toContain(p.reference.replace(/ \(.*\)$/, '').split(' ').pop()!);
    }
  });

});

describe('zoo options through createModel', () => {
  it('the preprocessing reference covers registered models only', () => {
    // every name in the fixture (the models with torchvision / timm pretrained weights) is registered
    for (const n of Object.keys(REFERENCE)) expect(MODELS).toContain(n);
    expect(Object.keys(REFERENCE).length).toBe(71);
  });

  it("lenet5's inputSize 28 is refused (it was silently ignored)", async () => {
    await expect(createModel('lenet5', { inputSize: 28 })).rejects.toThrow(/lenet5.*inputSize 28x28.*32x32/);
  });

  it('widthMultiplier on a ResNet and attention on a ShuffleNet name the model and the option', async () => {
    await expect(createModel('resnet18', { widthMultiplier: 0.5 })).rejects.toThrow(/resnet18: option widthMultiplier is not supported.*mobilenet_v2/);
    await expect(createModel('shufflenet_v2_x1_0', { attention: 'se' })).rejects.toThrow(/shufflenet_v2_x1_0: option attention is not supported.*resnet50/);
    await expect(createModel('efficientnet_v2_s', { widthMultiplier: 1.2 })).rejects.toBeInstanceOf(ValueError);
    // the families whose reference has no rounding rule for one say so
    await expect(createModel('resnet50', { widthMultiplier: 2 })).rejects.toThrow(/resnet50: option widthMultiplier is not supported by this model: .*width_per_group/);
    await expect(createModel('shufflenet_v2_x1_0', { widthMultiplier: 0.5 })).rejects.toThrow(/shufflenet_v2_x1_0: .*shufflenet_v2_x0_5/);
  });

  it('resolutionMultiplier is the input size 224·ρ of MobileNet V1 only, never with inputSize', () => {
    // MobileNets paper, section 3.3: rho = 6/7, 5/7, 4/7 give the 192, 160 and 128 networks
    for (const [rho, side] of [[6 / 7, 192], [5 / 7, 160], [4 / 7, 128], [1, 224]] as const) {
      const b = modelBuilder('mobilenetv1_100', { resolutionMultiplier: rho });
      expect(inShape(b)).toEqual([1, 3, side, side]);
      expect(params(b)).toBe(params(modelBuilder('mobilenetv1_100')));
    }
    expectRefused('mobilenetv1_100', 'resolutionMultiplier', { resolutionMultiplier: 0.5, inputSize: 112 });
    expectRefused('mobilenetv1_100', 'resolutionMultiplier', { resolutionMultiplier: 0 });
    for (const n of MODELS.filter((m) => m !== 'mobilenetv1_100')) expectRefused(n, 'resolutionMultiplier', { resolutionMultiplier: 0.5 });
  });

  it('an unknown model is a ValueError listing the names', () => {
    expect(() => modelBuilder('resnet5')).toThrow(/unknown model 'resnet5'.*resnet50/);
    expect(() => modelPreprocessing('toString')).toThrow(ValueError);
  });

  it("lenet5's preprocessing pads a 28x28 MNIST digit to 32 without normalising", () => {
    const p = modelPreprocessing('lenet5');
    expect(p).toMatchObject({ size: 28, crop: 32, mean: [0], std: [1], channels: 1, labels: 'mnist' });
    // a copy: changing it does not change the table
    p.mean[0] = 5;
    expect(modelPreprocessing('lenet5').mean).toEqual([0]);
  });
});
