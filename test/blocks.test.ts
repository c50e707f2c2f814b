// The public blocks (issue 17 item 1): a network composed from them builds, runs and trains (CBAM's
// gradients are checked in test/train-gradcheck.test.ts); the
// `attention` option of every family with a slot for it adds (or, where the reference has SE,
// swaps in) exactly the attention module's weights, with shapes computed here from each module's
// definition (SE: Hu et al. 2018 with timm's C/16 rounded to 8; CBAM: Woo et al. 2018, a bias-free
// C -> C/16 -> C MLP and a 7x7 conv over [mean, max] + BN; ECA: Wang et al. 2020, a 1-D conv of
// k = the odd number from |log2 C + 1| / 2; coordinate attention: Hou et al. 2021, a shared 1x1
// conv to max(8, C/24 rounded to 8) + BN and two 1x1 convs back); an SE whose gate is exactly 1
// leaves the network's function unchanged; every other family refuses `attention` by name.
import { describe, expect, it } from 'vitest';
import {
  cbam, convBnAct, createModel, GraphBuilder, ghostModule, initWeights, invertedResidual, mbConv, modelBuilder, sgd, ValueError,
  type Model, type Tensor,
} from '../src/index';
import * as blocks from '../models/blocks';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

type Shapes = Map<string, number[]>;
const shapesOf = (b: GraphBuilder): Shapes => new Map([...b.weightShapes()].map(([k, s]) => [k, [...s]]));

/** Weights added and removed between two builds of one model. */
function diff(base: Shapes, other: Shapes): { added: Record<string, number[]>; removed: Record<string, number[]> } {
  const added: Record<string, number[]> = {};
  const removed: Record<string, number[]> = {};
  for (const [k, s] of other) if (!base.has(k)) added[k] = s;
  for (const [k, s] of base) if (!other.has(k)) removed[k] = s;
  for (const [k, s] of base) if (other.has(k)) expect(other.get(k), k).toEqual(s); // nothing else changes shape
  return { added, removed };
}

/** Round to the nearest multiple of d, at least d, never below 90% (the MobileNet rule), written out plainly. */
function roundTo(v: number, d: number, limit = 0.9): number {
  let n = Math.max(d, d * Math.floor(v / d + 0.5));
  if (n < limit * v) n += d;
  return n;
}

/** The weights each attention module declares on C channels under prefix p, from the papers' definitions with timm's defaults. */
function expected(kind: 'se' | 'cbam' | 'eca' | 'coord', p: string, C: number): Record<string, number[]> {
  if (kind === 'se') {
    const r = roundTo(C / 16, 8, 0); // timm SEModule: rd_ratio 1/16, rd_divisor 8
    return { [`${p}.fc1.weight`]: [r, C, 1, 1], [`${p}.fc1.bias`]: [r], [`${p}.fc2.weight`]: [C, r, 1, 1], [`${p}.fc2.bias`]: [C] };
  }
  if (kind === 'cbam') {
    const r = Math.max(1, Math.round(C / 16));
    return {
      [`${p}.channel.fc1.weight`]: [r, C, 1, 1], [`${p}.channel.fc2.weight`]: [C, r, 1, 1], [`${p}.spatial.conv.conv.weight`]: [1, 2, 7, 7],
      ...Object.fromEntries(['weight', 'bias', 'running_mean', 'running_var'].map((s) => [`${p}.spatial.conv.bn.${s}`, [1]])),
    };
  }
  if (kind === 'eca') {
    const t = Math.floor(Math.abs(Math.log2(C) + 1) / 2);
    return { [`${p}.conv.weight`]: [1, 1, Math.max(3, t % 2 ? t : t + 1)] };
  }
  const r = roundTo((C / 16) * (2 / 3), 8, 0);
  return {
    [`${p}.conv1.weight`]: [r, C, 1, 1], [`${p}.conv_h.weight`]: [C, r, 1, 1], [`${p}.conv_w.weight`]: [C, r, 1, 1],
    ...Object.fromEntries(['weight', 'bias', 'running_mean', 'running_var'].map((s) => [`${p}.bn1.${s}`, [r]])),
  };
}

const KINDS = ['se', 'cbam', 'eca', 'coord'] as const;

describe('public blocks', () => {
  it('every block the issue names is exported with the uniform (b, x, prefix, options) form', () => {
    const names = [
      'squeezeExcite', 'cbam', 'coordAttention', 'eca', 'attentionModule', 'invertedResidual', 'mbConv', 'fusedMbConv', 'uib', 'mobileMQA',
      'ghostModule', 'ghostBottleneck', 'shuffleUnitV1', 'shuffleUnitV2', 'repVggBlock', 'convNeXtBlock', 'inception', 'inceptionAux',
      'denseLayer', 'denseTransition', 'basicBlock', 'bottleneck', 'depthwiseSeparable', 'layerScale',
    ];
    for (const n of names) {
      const f = (blocks as Record<string, unknown>)[n];
      expect(typeof f, n).toBe('function');
      expect((f as (...a: unknown[]) => unknown).length, n).toBeGreaterThanOrEqual(3);
    }
    for (const n of ['act', 'convBnAct', 'makeDivisible', 'ecaKernelSize']) expect(typeof (blocks as Record<string, unknown>)[n], n).toBe('function');
  });

  it('a new network composed from public blocks builds, runs and trains (the loss drops)', async () => {
    const N = 4;
    const b = new GraphBuilder();
    let x = b.input('input', [N, 3, 18, 18]); // odd sizes after the strided stages: 9, 5
    x = convBnAct(b, x, { conv: 'stem.conv', bn: 'stem.bn' }, { out: 12, kernel: 3, stride: 2, pad: 1 }, 'relu6');
    x = invertedResidual(b, x, 'blocks.0', { out: 12, expanded: 36, attention: 'se' }); // residual
    x = invertedResidual(b, x, 'blocks.1', { out: 20, expanded: 36, kernel: 5, stride: 2, attention: 'coord' });
    x = ghostModule(b, x, 'ghost', { out: 22 });
    x = mbConv(b, x, 'mb', { out: 22, expandRatio: 2, kernel: 3, attention: 'eca' });
    b.output(b.linear(b.flatten(b.globalAvgPool(x)), 'fc', 5), 'logits');
    const shapes = shapesOf(b);
    // the blocks' weights, under the prefixes given
    expect(shapes.get('blocks.0.conv.0.0.weight')).toEqual([36, 12, 1, 1]);
    expect(shapes.get('blocks.1.conv.1.0.weight')).toEqual([36, 1, 5, 5]);
    expect(shapes.get('blocks.1.conv.2.weight')).toEqual([20, 36, 1, 1]);
    expect(shapes.get('blocks.0.se.fc1.weight')).toEqual([8, 36, 1, 1]);
    expect(shapes.get('blocks.1.se.conv1.weight')).toEqual([8, 36, 1, 1]);
    expect(shapes.get('ghost.primary_conv.0.weight')).toEqual([11, 20, 1, 1]);
    expect(shapes.get('ghost.cheap_operation.0.weight')).toEqual([11, 1, 3, 3]);
    expect(shapes.get('mb.block.2.conv.weight')).toEqual([1, 1, 3]); // ECA on 48 = makeDivisible(44, 8) channels
    expect(b.shape('logits')).toEqual([N, 5]);

    const m: Model = await b.build(initWeights(b.weightShapes(), { seed: 3 }));
    const input = syntheticInput([N, 3, 18, 18]);
    const y = (await m.run({ input })).logits as Tensor;
    expect(y.shape).toEqual([N, 5]);
    expect(y.data.every(Number.isFinite)).toBe(true);
    m.train();
    const opt = sgd({ lr: 0.05, momentum: 0.9 });
    const targets = Int32Array.from([0, 3, 1, 4]);
    const losses: number[] = [];
    for (let i = 0; i < 12; i++) losses.push(await m.trainStep({ input }, targets, opt));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(0.7 * losses[0]);
    m.dispose();
  });

  it('cbam on a map with odd sizes keeps the shape and weighs by gates in (0, 1)', async () => {
    const b = new GraphBuilder();
    const x = b.input('input', [1, 6, 5, 7]);
    b.output(cbam(b, x, 'a', { reduced: 3 }), 'y');
    const m = await b.build(syntheticWeights(b.weightShapes()));
    const input = syntheticInput([1, 6, 5, 7]);
    const y = (await m.run({ input })).y as Tensor;
    expect(y.shape).toEqual([1, 6, 5, 7]);
    // y = x · channel gate · spatial gate, both in (0, 1): |y| < |x| wherever x is not 0
    for (let i = 0; i < y.data.length; i++) if (input.data[i] !== 0) expect(Math.abs(y.data[i])).toBeLessThan(Math.abs(input.data[i]));
    m.dispose();
  });
});

describe('attention option: the weights gained, from first principles', () => {
  // [model, options, the attention modules expected: prefix and channels]
  const adding: [string, Record<string, unknown>, [string, number][]][] = [
    // MobileNet V2: features.1 (t = 1, 32 channels), features.2 (16 -> 96 hidden), ... after the depthwise conv
    ['mobilenet_v2', {}, [['features.1.se', 32], ['features.2.se', 96], ['features.3.se', 144], ['features.17.se', 960]]],
    // DenseNet-121: each dense layer's 32 new channels
    ['densenet121', {}, [['features.denseblock1.denselayer1.se', 32], ['features.denseblock4.denselayer16.se', 32]]],
    // VGG-11: stage ends at 64, 128, 256, 512, 512 channels
    ['vgg11', {}, [['stages.0.se', 64], ['stages.1.se', 128], ['stages.2.se', 256], ['stages.3.se', 512], ['stages.4.se', 512]]],
    // ResNet-18: every BasicBlock's 64..512 channels; ResNet-50: 4·planes
    ['resnet18', {}, [['layer1.0.se', 64], ['layer4.1.se', 512]]],
    ['resnet50', {}, [['layer1.0.se', 256], ['layer3.5.se', 1024]]],
  ];
  const count: Record<string, number> = { mobilenet_v2: 17, densenet121: 58, vgg11: 5, resnet18: 8, resnet50: 16 };

  it.each(adding)('%s gains one module per block with the expected shapes', (name, o, probes) => {
    const base = shapesOf(modelBuilder(name, o));
    for (const kind of KINDS) {
      const { added, removed } = diff(base, shapesOf(modelBuilder(name, { ...o, attention: kind })));
      expect(removed).toEqual({});
      const prefixes = new Set(Object.keys(added).map((k) => k.replace(/\.se\..*$/, '.se')));
      expect(prefixes.size, kind).toBe(count[name]);
      for (const [p, C] of probes) {
        const want = expected(kind, p, C);
        const got = Object.fromEntries(Object.entries(added).filter(([k]) => k.startsWith(`${p}.`)));
        expect(got, `${name} ${kind} ${p}`).toEqual(want);
      }
      // nothing outside the modules
      const all = Object.keys(added).length;
      const per = Object.keys(expected(kind, 'p', 64)).length;
      expect(all, kind).toBe(per * count[name]);
    }
  });

  it.each([
    // [model, the SE slots of the reference (prefix, channels), number of SE modules]
    ['mobilenet_v3_small', [['features.1.block.1', 16], ['features.4.block.2', 96]], 9], // features.1 has no expansion: dw is block.0
    ['mobilenet_v3_large', [['features.4.block.2', 72], ['features.15.block.2', 960]], 8],
    ['efficientnet_b0', [['features.1.0.block.1', 32], ['features.2.0.block.2', 96]], 16],
  ] as [string, [string, number][], number][])('%s: attention replaces the SE at its slot (se = the reference)', (name, probes, n) => {
    const base = shapesOf(modelBuilder(name));
    expect(shapesOf(modelBuilder(name, { attention: 'se' }))).toEqual(base);
    for (const kind of ['cbam', 'eca', 'coord'] as const) {
      const { added, removed } = diff(base, shapesOf(modelBuilder(name, { attention: kind })));
      // removed: exactly the reference SE modules (fc1, fc2 with biases)
      const slots = new Set(Object.keys(removed).map((k) => k.replace(/\.fc[12]\.(weight|bias)$/, '')));
      expect(slots.size).toBe(n);
      expect(Object.keys(removed).length).toBe(4 * n);
      for (const [p, C] of probes) {
        expect(slots.has(p), p).toBe(true);
        const got = Object.fromEntries(Object.entries(added).filter(([k]) => k.startsWith(`${p}.`)));
        expect(got, `${name} ${kind} ${p}`).toEqual(expected(kind, p, C));
      }
      expect(Object.keys(added).length).toBe(Object.keys(expected(kind, 'p', 64)).length * n);
    }
  });
});

describe('attention option: the networks run', () => {
  it.each([
    ['mobilenet_v2', 48],
    ['mobilenet_v3_small', 48],
    ['efficientnet_b0', 48],
    ['densenet121', 40],
    ['resnet18', 40],
  ] as [string, number][])('%s at %i px with each module', async (name, size) => {
    for (const attention of KINDS) {
      const b = modelBuilder(name, { attention, inputSize: size, numClasses: 7 });
      const m = await b.build(syntheticWeights(b.weightShapes()));
      const y = (await m.run({ input: syntheticInput([1, 3, size, size]) })).logits as Tensor;
      expect(y.shape).toEqual([1, 7]);
      expect(y.data.every(Number.isFinite), `${name} ${attention}`).toBe(true);
      m.dispose();
    }
  });

  it.each([
    ['mobilenet_v2', 48],
    ['densenet121', 40],
    ['resnet18', 40],
  ] as [string, number][])('%s: an SE whose gate is exactly 1 leaves the function unchanged', async (name, size) => {
    const plain = modelBuilder(name, { inputSize: size, numClasses: 7 });
    const weights = syntheticWeights(plain.weightShapes());
    const withSe = modelBuilder(name, { inputSize: size, numClasses: 7, attention: 'se' });
    const w2 = new Map(weights);
    for (const [k, s] of withSe.weightShapes()) {
      if (w2.has(k)) continue;
      const n = s.reduce((a, v) => a * v, 1);
      // fc2 = 0 with bias 40: the gate is sigmoid(40), which is 1 in float32 (1 - 4e-18 rounds to 1)
      const fill = k.endsWith('.fc2.bias') ? 40 : k.endsWith('.fc2.weight') ? 0 : 0.1;
      w2.set(k, { data: new Float32Array(n).fill(fill), shape: [...s] });
    }
    const input = syntheticInput([1, 3, size, size]);
    const a = await plain.build(weights);
    const b = await withSe.build(w2);
    const ya = (await a.run({ input })).logits as Tensor;
    const yb = (await b.run({ input })).logits as Tensor;
    expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
    a.dispose();
    b.dispose();
  });
});

describe('attention option: refused by the families without a slot', () => {
  it.each(['shufflenet_v2_x1_0', 'shufflenet_v1_g3', 'convnext_tiny', 'ghostnet_100', 'mobilenetv4_conv_small', 'repvgg_a0', 'googlenet', 'alexnet', 'mobilenetv1_100', 'lenet5'])(
    '%s',
    async (name) => {
      for (const attention of KINDS) {
        expect(() => modelBuilder(name, { attention })).toThrow(ValueError);
        await expect(createModel(name, { attention })).rejects.toThrow(new RegExp(`${name}: option attention is not supported`));
      }
    },
  );
});
