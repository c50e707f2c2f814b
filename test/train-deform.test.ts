// DeformConv training (issue 16): a small network with a deformable convolution whose offsets
// (and sigmoid mask, v2) are predicted by Convs takes two SGD steps (momentum 0.9, weight decay
// 1e-4) with softmax cross-entropy; the losses, every parameter's step-1 gradient (norm and
// samples) and its values after steps 1 and 2, and the BatchNorm running statistics equal
// PyTorch's torchvision.ops.DeformConv2d (tools/deform_train_fixture.py, float64 trajectory,
// every ReLU input and sample position kept far from its kink) within 1e-4 relative to each
// tensor's scale. Variants: v2 with one offset group; v1 with offset_group 2 and group 2; v2 with
// offset_group 3 straddling 2 conv groups; v2 whose offsets also feed a second head (the offset
// gradient is added to another consumer's share while the mask's is written). One more run
// checks that two threads give the same bits as one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, sgd, type Tensor } from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';
import { compareSteps, expectSameBitsOnTwoThreads, type Rec } from './train-helpers';

interface Fixture {
  name: string;
  offsetGroup: number;
  group: number;
  mask: boolean;
  /** the offsets also feed a second head (their gradient is then added to, the mask's written) */
  extra: boolean;
  inputShape: number[];
  input: number[];
  targets: number[];
  losses: number[];
  optimizer: { lr: number; momentum: number; weightDecay: number };
  weights: Record<string, { shape: number[]; data: number[] }>;
  params: Record<string, Rec>;
  buffers: Record<string, { idx: number[]; after2: number[] }>;
}

const fixtures: Fixture[] = JSON.parse(readFileSync(new URL('./fixtures/train-deform.json', import.meta.url), 'utf8'));

/** tools/deform_train_fixture.py's Net: stem Conv, offset (and mask) Convs, DeformConv, BN, ReLU, pool, Linear. */
function deformNet(shape: number[], og: number, groups: number, mask: boolean, stride = 2, extra = false): GraphBuilder {
  const b = new GraphBuilder();
  const x = b.input('input', shape);
  const s = b.conv(x, 'stem', { out: 6, kernel: 3, pad: 1 });
  const off = b.conv(s, 'offset', { out: 2 * og * 9, kernel: 3, stride, pad: 1 });
  const m = mask ? b.act('Sigmoid', b.conv(s, 'mask', { out: og * 9, kernel: 3, stride, pad: 1 })) : undefined;
  const d = b.deformConv(s, off, 'deform', { out: 8, kernel: 3, stride, pad: 1, groups, offsetGroups: og }, m);
  const y = b.flatten(b.globalAvgPool(b.relu(b.batchNorm(d, 'bn'))));
  let logits = b.linear(y, 'fc', 5);
  if (extra) logits = b.add(logits, b.linear(b.flatten(b.globalAvgPool(off)), 'fc2', 5));
  b.output(logits, 'logits');
  return b;
}

type Made = { gradient(n: string): { data: Float32Array }; tensor(n: string): { data: Float32Array } };

describe('DeformConv training equals PyTorch (torchvision.ops.DeformConv2d)', () => {
  for (const f of fixtures) {
    it(f.name, async () => {
      const b = deformNet(f.inputShape, f.offsetGroup, f.group, f.mask, 2, f.extra);
      const weights = new Map<string, Tensor>();
      for (const [name, t] of Object.entries(f.weights)) weights.set(name, { data: Float32Array.from(t.data), shape: t.shape });
      const m = await b.build(weights);
      m.train();
      const opt = sgd(f.optimizer);
      const x = { data: Float32Array.from(f.input), shape: f.inputShape };
      const t = Int32Array.from(f.targets);
      const l1 = await m.trainStep({ input: x }, t, opt);
      const made = (m as unknown as { tr: { made: Made } }).tr.made;
      const grads = new Map<string, Float32Array>();
      const after1 = new Map<string, Float32Array>();
      for (const name of Object.keys(f.params)) {
        grads.set(name, made.gradient(name).data.slice());
        after1.set(name, made.tensor(name).data.slice());
      }
      const l2 = await m.trainStep({ input: x }, t, opt);
      const sd = m.stateDict();
      const { bad } = compareSteps(f.params, f.buffers, grads, after1, sd, 1e-4);
      [l1, l2].forEach((l, i) => {
        const e = Math.abs(l - f.losses[i]) / Math.abs(f.losses[i]);
        if (!(e <= 1e-4)) bad.push(`loss ${i + 1}: ${l} vs ${f.losses[i]} (${e.toExponential(2)})`);
      });
      expect(bad).toEqual([]);
      // the offset and mask layers learn: their gradients are not zero
      for (const name of ['offset.weight', ...(f.mask ? ['mask.weight'] : [])]) expect(f.params[name].gradNorm).toBeGreaterThan(1e-4);
      m.dispose();
    }, 60_000);
  }
});

describe('DeformConv training on two threads', () => {
  it('gives the same bits as one thread', async () => {
    // stride 1 on a 29x27 map: the deformable gathers and scatters are large enough to be split
    const shape = [2, 3, 29, 27];
    for (const [og, groups, mask] of [[1, 1, true], [2, 2, false]] as const) {
      const one = await expectSameBitsOnTwoThreads(async () => {
        const b = deformNet(shape, og, groups, mask, 1);
        const m = await b.build(syntheticWeights(b.weightShapes()));
        m.train();
        const losses = [];
        for (let i = 0; i < 2; i++)
          losses.push(await m.trainStep({ input: syntheticInput(shape) }, Int32Array.from([1, 2]), sgd({ lr: 0.01, momentum: 0.9 })));
        const w = m.stateDict();
        m.dispose();
        return { losses, w };
      });
      expect(Number.isFinite(one.losses[1])).toBe(true);
    }
  }, 120_000);
});
