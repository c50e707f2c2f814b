// RepVGG structural re-parameterisation (Ding et al. 2021): the deployed form (one 3x3 conv +
// bias + ReLU per block, kernels merged on the host from the training-time weights) computes
// what the three-branch training form computes, declares the same weight names, runs one Conv
// per block with no BatchNormalization and no Add left, and matches PyTorch (timm 1.0.29) on the
// zoo fixture of the training form.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel, modelBuilder } from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/zoo/${name}.json`, import.meta.url), 'utf8'));

/** max |a - b| and the scale max(1, max |b|). */
function compare(a: Float32Array, b: ArrayLike<number>): { worst: number; scale: number } {
  let worst = 0;
  let big = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    big = Math.max(big, Math.abs(b[i]));
  }
  return { worst, scale: Math.max(1, big) };
}

const CASES = [
  // name, input size, blocks (stem + every stage block)
  { name: 'repvgg_a0', size: 224, blocks: 1 + 2 + 4 + 14 + 1 },
  { name: 'repvgg_b1g4', size: 96, blocks: 1 + 4 + 6 + 16 + 1 },
];

describe('RepVGG re-parameterisation', () => {
  for (const c of CASES) {
    it(`${c.name}: deployed form equals the training form and has one Conv per block`, async () => {
      const train = modelBuilder(c.name, { inputSize: c.size });
      const deploy = modelBuilder(c.name, { inputSize: c.size, deploy: true });
      const shapes = train.weightShapes();
      expect(Object.fromEntries(deploy.weightShapes())).toEqual(Object.fromEntries(shapes));
      const weights = syntheticWeights(shapes);
      const mt = await createModel(c.name, { inputSize: c.size, weights });
      const md = await createModel(c.name, { inputSize: c.size, weights, deploy: true });
      const x = syntheticInput([1, 3, c.size, c.size]);
      const yt = await mt.predict(x);
      const yd = await md.predict(x);
      expect(yd.shape).toEqual(yt.shape);
      const { worst, scale } = compare(yd.data, yt.data);
      expect(worst, `max |deployed - training| ${worst} (scale ${scale})`).toBeLessThanOrEqual(1e-5 * scale);

      const ops = md.graph.nodes.map((n) => n.op);
      expect(ops.filter((op) => op === 'Conv').length).toBe(c.blocks);
      expect(ops.filter((op) => op === 'BatchNormalization')).toEqual([]);
      expect(ops.filter((op) => op === 'Add')).toEqual([]);
      // the training form keeps three branches: two convs per block and the adds
      expect(mt.graph.nodes.filter((n) => n.op === 'Conv').length).toBe(2 * c.blocks);
      mt.dispose();
      md.dispose();
    });
  }

  it('repvgg_a0 deployed matches PyTorch (the training-form zoo fixture)', async () => {
    const f = fixture('repvgg_a0');
    const b = modelBuilder('repvgg_a0', { deploy: true });
    const m = await b.build(syntheticWeights(b.weightShapes()));
    const y = await m.predict(syntheticInput(f.inputShape));
    expect(y.shape).toEqual(f.outputShape);
    const { worst } = compare(y.data, f.output);
    const scale = Math.max(1, f.maxAbs);
    expect(worst, `max |y - ref| ${worst} (scale ${scale})`).toBeLessThanOrEqual(1e-4 * scale);
    m.dispose();
  });

  it('the deployed form counts the merged parameters (timm reparameterize(): 8,309,384 for a0)', async () => {
    const b = modelBuilder('repvgg_a0', { deploy: true, inputSize: 32 });
    const m = await b.build(syntheticWeights(b.weightShapes()));
    expect(m.paramCount).toBe(fixture('repvgg_a0+deploy').params);
    m.dispose();
  });
});
