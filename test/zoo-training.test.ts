// The zoo's training forms (`training: true`): Dropout where torchvision has nn.Dropout,
// DropPath (torchvision.ops.stochastic_depth, mode 'row') with torchvision's per-block rates,
// GoogLeNet's auxiliary classifiers (InceptionAux) as extra outputs. Checked against
// tools/zoo_training_fixtures.py (torchvision 0.14; timm 1.0.29 for GhostNet): the state_dict
// keys and shapes, the training-only modules and their rates in module order, and GoogLeNet's three outputs with
// synthetic weights; then that the training form computes the inference form's function in
// eval mode, that a training step runs on GoogLeNet's training form, and DropPath's training
// rule: whole samples kept with probability 1 - p and scaled by 1 / (1 - p), the mask
// dropout_mask_f32 draws for the step's seed, dx = dy * mask.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel, GraphBuilder, modelBuilder, sgd } from '../src/index';
import type { Model } from '../src/model';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

interface Fixture {
  [model: string]: { keys: Record<string, number[]>; training: [string, number][] };
}
const FIX = JSON.parse(readFileSync(new URL('./fixtures/zoo-training.json', import.meta.url), 'utf8'));
const REF = FIX as Fixture;
const GOOG = FIX.googlenet_outputs as { input: number[]; numClasses: number; logits: number[]; aux2: number[]; aux1: number[] };

/** max |a - b| relative to max(1, max |b|). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let big = 1;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    big = Math.max(big, Math.abs(b[i]));
  }
  return worst / big;
}

/** What the trainer exposes to tests (internals: its memory, kernels, program and state). */
interface TrainerView {
  mem: { f32: Float32Array; alloc(bytes: number): number };
  k: { dropout_mask_f32(mask: number, n: number, p: number, seed: number, offset: number): void };
  program: { values: Map<string, number>; grads: Map<string, number>; shapes: Map<string, number[]> };
  state: { seed: number; training: boolean };
  graph: { nodes: { op: string; name: string; outputs: string[] }[] };
  gradient(name: string): { data: Float32Array } | undefined;
}
const trainerOf = (m: Model) => (m as unknown as { tr: { made: TrainerView } }).tr.made;

const MODELS = [
  'googlenet', 'efficientnet_b0', 'mobilenet_v2', 'mobilenet_v3_large', 'convnext_tiny', 'alexnet', 'vgg11',
  'fcn_resnet50', 'deeplabv3_mobilenet_v3_large', 'ghostnet_100',
];

describe('training forms declare torchvision state_dict keys and its training-only modules', () => {
  for (const name of MODELS) {
    it(name, () => {
      const b = modelBuilder(name, { training: true });
      const ref = REF[name];
      expect(Object.fromEntries(b.weightShapes())).toEqual(ref.keys);
      const parts = b.graph.nodes
        .filter((n) => n.op === 'Dropout' || n.op === 'DropPath')
        .map((n) => [n.op, n.attrs.ratio as number, n.attrs.mode] as const);
      expect(parts.map(([op]) => op)).toEqual(ref.training.map(([op]) => op));
      parts.forEach(([op, p, mode], i) => {
        expect(p).toBeCloseTo(ref.training[i][1], 12);
        if (op === 'DropPath') expect(mode).toBe('row');
      });
      // the inference form has none of them and (but for googlenet's aux heads) the same weights
      const inf = modelBuilder(name);
      expect(inf.graph.nodes.some((n) => n.op === 'Dropout' || n.op === 'DropPath')).toBe(false);
      const infKeys = Object.keys(ref.keys).filter((k) => !/^aux[12]\./.test(k));
      expect([...inf.weightShapes().keys()].sort()).toEqual(infKeys.sort());
    });
  }

  it('training is checked and refused with deploy', () => {
    expect(() => modelBuilder('resnet18', { training: 'yes' as unknown as boolean })).toThrow(/training must be true or false/);
    expect(() => modelBuilder('repvgg_a0', { training: true, deploy: true })).toThrow(/deploy/);
    // RepVGG's training form is its multi-branch form
    const rep = modelBuilder('repvgg_a0', { training: true, inputSize: 32 });
    expect(rep.graph.nodes.filter((n) => n.op === 'Conv').length).toBe(2 * 22);
  });
});

describe('GoogLeNet training form', () => {
  const o = { training: true, inputSize: GOOG.input[2], batch: GOOG.input[0], numClasses: GOOG.numClasses };

  it('outputs logits, aux2, aux1 as torchvision (eval mode, synthetic weights) within 1e-4', async () => {
    const b = modelBuilder('googlenet', o);
    const m = await b.build(syntheticWeights(b.weightShapes()));
    expect(m.outputNames).toEqual(['logits', 'aux2', 'aux1']);
    const y = await m.run({ input: syntheticInput(GOOG.input) });
    for (const k of ['logits', 'aux2', 'aux1'] as const) {
      expect(y[k].shape).toEqual([GOOG.input[0], GOOG.numClasses]);
      expect(relDiff(y[k].data, GOOG[k]), k).toBeLessThanOrEqual(1e-4);
    }
    m.dispose();
  });

  it('loads the same weights as the inference form (aux weights ignored there) and equals it', async () => {
    const b = modelBuilder('googlenet', o);
    const w = syntheticWeights(b.weightShapes());
    const train = await b.build(w);
    const inf = await createModel('googlenet', { ...o, training: false, weights: w });
    const x = syntheticInput(GOOG.input);
    const a = (await train.run({ input: x })).logits;
    const c = (await inf.run({ input: x })).logits;
    expect(Array.from(a.data)).toEqual(Array.from(c.data));
    train.dispose();
    inf.dispose();
  });

  it('trains: the loss reads logits only; in eval mode the step equals the inference form\'s', async () => {
    const b = modelBuilder('googlenet', o);
    const w = syntheticWeights(b.weightShapes());
    const x = { input: syntheticInput(GOOG.input) };
    const t = Int32Array.from([3, 7]);
    const runEval = async (training: boolean) => {
      const m = await createModel('googlenet', { ...o, training, weights: w });
      m.eval();
      const loss = await m.trainStep(x, t, sgd({ lr: 0 }));
      const g = trainerOf(m).gradient('conv1.conv.weight')!.data.slice();
      const aux = training ? trainerOf(m).gradient('aux1.fc2.weight')!.data.slice() : undefined;
      m.dispose();
      return { loss, g, aux };
    };
    const tr = await runEval(true);
    const inf = await runEval(false);
    expect(tr.loss).toBe(inf.loss);
    expect(relDiff(tr.g, inf.g)).toBeLessThanOrEqual(1e-6);
    expect(tr.aux!.every((v) => v === 0)).toBe(true);
    // train mode: Dropout draws masks, BatchNorm uses batch statistics; SGD moves the weights
    const m = await createModel('googlenet', { ...o, training: true, weights: w });
    m.train();
    const opt = sgd({ lr: 0.01, momentum: 0.9 });
    const l1 = await m.trainStep(x, t, opt);
    const l2 = await m.trainStep(x, t, opt);
    expect(Number.isFinite(l1) && Number.isFinite(l2)).toBe(true);
    expect(Array.from(m.stateDict().get('fc.weight')!.data)).not.toEqual(Array.from(w.get('fc.weight')!.data));
    m.dispose();
  });
});

describe('training forms compute the inference function (Dropout / DropPath identity at inference and in eval mode)', () => {
  for (const [name, size] of [['efficientnet_b0', 64], ['convnext_tiny', 64], ['mobilenet_v3_large', 64], ['mobilenet_v2', 64]] as const) {
    it(name, async () => {
      const o = { inputSize: size, batch: 2, numClasses: 10 };
      const b = modelBuilder(name, { ...o, training: true });
      const w = syntheticWeights(b.weightShapes());
      const x = { input: syntheticInput([2, 3, size, size]) };
      const train = await b.build(w);
      const inf = await createModel(name, { ...o, weights: w });
      const a = (await train.run(x)).logits.data;
      const c = (await inf.run(x)).logits.data;
      expect(relDiff(a, c)).toBeLessThanOrEqual(1e-6);
      // eval-mode training steps (no masks) give the same loss on both forms
      const t = Int32Array.from([1, 4]);
      train.eval();
      inf.eval();
      const la = await train.trainStep(x, t, sgd({ lr: 0 }));
      const lc = await inf.trainStep(x, t, sgd({ lr: 0 }));
      expect(Math.abs(la - lc)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(lc)));
      train.dispose();
      inf.dispose();
    });
  }
});

describe('RepVGG: training form trains, the deploy form is made from its trained weights', () => {
  it('repvgg_a0: after two train-mode steps, deploy: true on stateDict() computes what the multi-branch form computes (1e-4)', async () => {
    const o = { inputSize: 40, batch: 3, numClasses: 7 }; // 40 -> 20 -> 10 -> 5 -> 3 -> 2: odd maps
    const b = modelBuilder('repvgg_a0', { ...o, training: true });
    const m = await b.build(syntheticWeights(b.weightShapes()));
    m.train();
    const x = { input: syntheticInput([3, 3, 40, 40]) };
    const opt = sgd({ lr: 0.01, momentum: 0.9 });
    await m.trainStep(x, Int32Array.from([0, 3, 6]), opt);
    await m.trainStep(x, Int32Array.from([0, 3, 6]), opt);
    const sd = m.stateDict();
    const before = syntheticWeights(b.weightShapes());
    expect(Array.from(sd.get('stages.2.3.identity.running_var')!.data)).not.toEqual(Array.from(before.get('stages.2.3.identity.running_var')!.data));
    const deployed = await createModel('repvgg_a0', { ...o, deploy: true, weights: sd });
    const a = (await m.run(x)).logits.data;
    const c = (await deployed.run(x)).logits.data;
    expect(relDiff(c, a)).toBeLessThanOrEqual(1e-4);
    m.dispose();
    deployed.dispose();
  });
});

describe('DropPath', () => {
  /** input [N, 2, 3, 5] -> 1x1 conv (a parameter, so gradients flow) -> DropPath(p) -> output. */
  async function net(N: number, p: number): Promise<{ m: Model; conv: string; drop: string }> {
    const b = new GraphBuilder();
    const x = b.input('input', [N, 2, 3, 5]);
    const conv = b.conv(x, 'conv', { out: 3, kernel: 1 });
    const drop = b.node('DropPath', [conv], { ratio: p, mode: 'row' }, 1, 'drop')[0];
    b.output(drop, 'y');
    const shapes = b.weightShapes();
    const m = await b.build(syntheticWeights(shapes));
    return { m, conv, drop };
  }
  const per = 3 * 3 * 5;

  it('is the identity at inference, also as a graph output', async () => {
    const { m } = await net(3, 0.4);
    const b2 = new GraphBuilder();
    const x2 = b2.input('input', [3, 2, 3, 5]);
    b2.output(b2.conv(x2, 'conv', { out: 3, kernel: 1 }), 'y');
    const ref = await b2.build(syntheticWeights(b2.weightShapes()));
    const x = { input: syntheticInput([3, 2, 3, 5]) };
    expect(Array.from((await m.run(x)).y.data)).toEqual(Array.from((await ref.run(x)).y.data));
    const b3 = new GraphBuilder();
    const i3 = b3.input('input', [3, 7]);
    b3.output(b3.node('DropPath', [i3], { ratio: 0.5, mode: 'row' })[0], 'y');
    const only = await b3.build(new Map());
    const v = syntheticInput([3, 7]);
    expect(Array.from((await only.run({ input: v })).y.data)).toEqual(Array.from(v.data));
    // bad attributes are refused when a training program is planned (inference ignores them)
    for (const [attrs, what] of [[{ ratio: 1 }, /ratio/], [{ ratio: 0.1, mode: 'batch' }, /mode/]] as const) {
      const b4 = new GraphBuilder();
      const i4 = b4.input('input', [3, 7]);
      b4.output(b4.linear(b4.node('DropPath', [i4], attrs)[0], 'fc', 2), 'y');
      const bad = await b4.build(syntheticWeights(b4.weightShapes()));
      await expect(bad.trainStep({ input: v }, Int32Array.from([0, 1, 0]), sgd())).rejects.toThrow(what);
      bad.dispose();
    }
    m.dispose();
    ref.dispose();
    only.dispose();
  });

  it('train mode: whole samples kept with probability 1 - p, scaled by 1 / (1 - p), mask = dropout_mask_f32 of the step seed; dx = dy * mask', async () => {
    const N = 1999; // odd: the mask kernel's SIMD body and its remainder
    const p = 0.3;
    const { m, conv, drop } = await net(N, p);
    m.train();
    const x = { input: syntheticInput([N, 2, 3, 5]) };
    const target = { data: new Float32Array(N * per), shape: [N, 3, 3, 5] };
    const seen: number[][] = [];
    for (let step = 0; step < 3; step++) {
      await m.trainStep(x, target, sgd({ lr: 0 }), { loss: 'mse' });
      const tr = trainerOf(m);
      const xv = tr.program.values.get(conv)! >>> 2;
      const yv = tr.program.values.get(drop)! >>> 2;
      const dx = tr.program.grads.get(conv)! >>> 2;
      const dy = tr.program.grads.get(drop)! >>> 2;
      // the reference mask: the kernel over N values with the node's salted step seed
      const index = tr.graph.nodes.findIndex((n) => n.outputs[0] === drop);
      const seed = (tr.state.seed + Math.imul(index + 1, 0x9e3779b1)) | 0;
      const mp = tr.mem.alloc(N * 4);
      tr.k.dropout_mask_f32(mp, N, p, seed, 0);
      const mask = Array.from(trainerOf(m).mem.f32.subarray(mp >>> 2, (mp >>> 2) + N));
      const g = trainerOf(m).mem.f32;
      let kept = 0;
      let sumX = 0;
      let sumY = 0;
      for (let n = 0; n < N; n++) {
        const keep = mask[n] !== 0;
        if (keep) kept++;
        expect(mask[n] === 0 || Math.abs(mask[n] - 1 / (1 - p)) < 1e-6).toBe(true);
        for (let i = 0; i < per; i++) {
          const j = n * per + i;
          const want = keep ? Math.fround(g[xv + j] * mask[n]) : 0;
          if (g[yv + j] !== want) throw new Error(`step ${step} sample ${n}: y ${g[yv + j]} != ${want}`);
          const wantDx = keep ? Math.fround(g[dy + j] * mask[n]) : 0;
          if (g[dx + j] !== wantDx) throw new Error(`step ${step} sample ${n}: dx ${g[dx + j]} != ${wantDx}`);
          sumX += g[xv + j];
          sumY += g[yv + j];
        }
      }
      // kept fraction within 4 standard deviations of 1 - p; the scaled sum unbiased
      const sd = Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs(kept / N - (1 - p))).toBeLessThanOrEqual(4 * sd);
      expect(Math.abs(sumY - sumX)).toBeLessThanOrEqual(0.15 * Math.abs(sumX) + 1);
      seen.push(mask);
    }
    // a new mask every step
    expect(seen[0]).not.toEqual(seen[1]);
    expect(seen[1]).not.toEqual(seen[2]);
    // eval mode: the identity, and the gradient passes unchanged
    m.eval();
    await m.trainStep(x, target, sgd({ lr: 0 }), { loss: 'mse' });
    const tr = trainerOf(m);
    const g = tr.mem.f32;
    const xv = tr.program.values.get(conv)! >>> 2;
    const yv = tr.program.values.get(drop)! >>> 2;
    const dx = tr.program.grads.get(conv)! >>> 2;
    const dy = tr.program.grads.get(drop)! >>> 2;
    expect(Array.from(g.subarray(yv, yv + N * per))).toEqual(Array.from(g.subarray(xv, xv + N * per)));
    expect(Array.from(g.subarray(dx, dx + N * per))).toEqual(Array.from(g.subarray(dy, dy + N * per)));
    m.dispose();
  });
});
