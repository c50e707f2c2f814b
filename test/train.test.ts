// The training API as users meet it (issue 16, item 2): train()/eval() semantics checked against
// the inference engine (an independent forward), BatchNorm's running statistics against the
// batch's own moments, run() after training against a fresh build from stateDict(), freezing,
// gradient clipping by its definition, optimizer state saved and restored bit for bit, Dropout,
// fit() with a schedule and progress, typed errors, and bit-identical results on two threads.
import { describe, expect, it } from 'vitest';
import {
  adam, cosineLR, fit, GraphBuilder, initWeights, loadSafetensors, modelBuilder, rmsprop, saveSafetensors, sgd,
  ShapeError, UnsupportedOpError, ValueError, WasmCnnError, type Model, type Tensor,
} from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';
import { expectSameBitsOnTwoThreads } from './train-helpers';

/** A small network with the parts training has to get right: conv, BatchNorm, residual, pool, linear. */
function smallNet(batch = 4, extra?: (b: GraphBuilder, x: string) => string): GraphBuilder {
  const b = new GraphBuilder();
  let x = b.input('input', [batch, 3, 12, 12]);
  x = b.relu(b.batchNorm(b.conv(x, 'stem', { out: 8, kernel: 3, pad: 1, bias: false }), 'stem_bn'));
  const y = b.batchNorm(b.conv(x, 'block.conv', { out: 8, kernel: 3, pad: 1, bias: false }), 'block.bn');
  x = b.relu(b.add(x, y));
  x = b.maxPool(x, { kernel: 2, stride: 2 });
  x = b.flatten(b.globalAvgPool(x));
  if (extra) x = extra(b, x);
  b.output(b.linear(x, 'fc', 5), 'logits');
  return b;
}

const input = (batch = 4) => syntheticInput([batch, 3, 12, 12]);
const targets = Int32Array.from([0, 3, 1, 4]);

async function build(b: GraphBuilder, seed = 1): Promise<Model> {
  return b.build(initWeights(b.weightShapes(), { seed }));
}

/** Mean softmax cross-entropy of logits [N, C] against class indices, in float64. */
function crossEntropy(y: Tensor, t: Int32Array): number {
  const [N, C] = y.shape;
  let sum = 0;
  for (let n = 0; n < N; n++) {
    const row = Array.from(y.data.subarray(n * C, (n + 1) * C));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    sum += lse - row[t[n]];
  }
  return sum / N;
}

describe('training API', () => {
  it('eval-mode trainStep computes the loss of the inference forward', async () => {
    const m = await build(smallNet());
    m.eval();
    const loss = await m.trainStep({ input: input() }, targets, sgd({ lr: 0 }));
    const ref = crossEntropy((await m.run({ input: input() })).logits, targets);
    expect(Math.abs(loss - ref) / ref).toBeLessThan(1e-5);
    m.dispose();
  });

  it('train-mode BatchNorm normalises with the batch and moves the running statistics by momentum 0.1', async () => {
    const b = new GraphBuilder();
    const x = b.input('input', [4, 3, 12, 12]);
    b.output(b.linear(b.flatten(b.globalAvgPool(b.batchNorm(x, 'bn'))), 'fc', 5), 'logits');
    const m = await build(b);
    expect(m.training).toBe(false);
    m.train();
    expect(m.training).toBe(true);
    const before = m.stateDict();
    await m.trainStep({ input: input() }, targets, sgd({ lr: 0 }));
    const after = m.stateDict();
    const xs = input().data;
    for (let c = 0; c < 3; c++) {
      let s = 0, ss = 0, n = 0;
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 144; j++) {
          const v = xs[(i * 3 + c) * 144 + j];
          s += v; ss += v * v; n++;
        }
      const mean = s / n;
      const unbiased = (ss - n * mean * mean) / (n - 1);
      expect(after.get('bn.running_mean')!.data[c]).toBeCloseTo(0.9 * before.get('bn.running_mean')!.data[c] + 0.1 * mean, 6);
      expect(after.get('bn.running_var')!.data[c]).toBeCloseTo(0.9 * before.get('bn.running_var')!.data[c] + 0.1 * unbiased, 5);
    }
    m.dispose();
  });

  it('run() after training computes with the trained weights (a fresh build from stateDict agrees)', async () => {
    const net = smallNet();
    const m = await build(net);
    m.train();
    const first = await m.trainStep({ input: input() }, targets, adam({ lr: 0.01 }));
    let last = first;
    for (let i = 0; i < 20; i++) last = await m.trainStep({ input: input() }, targets, adam({ lr: 0.01 }));
    expect(last).toBeLessThan(first);
    const y = (await m.run({ input: input() })).logits;
    const fresh = await smallNet().build(m.stateDict());
    const z = (await fresh.run({ input: input() })).logits;
    for (let i = 0; i < y.data.length; i++) expect(y.data[i]).toBeCloseTo(z.data[i], 5);
    // trained on batches of 4: any batch runs now
    expect((await m.run({ input: input(2) })).logits.shape).toEqual([2, 5]);
    expect([...m.stateDict().keys()].sort()).toEqual([...net.weightShapes().keys()].sort());
    m.dispose();
    fresh.dispose();
  });

  it('freeze() keeps a prefix fixed and trains the rest; unfreeze() trains everything', async () => {
    const m = await build(smallNet());
    m.train().freeze('stem', 'block.');
    const before = m.stateDict();
    await m.trainStep({ input: input() }, targets, sgd({ lr: 0.1 }));
    const after = m.stateDict();
    for (const [name, t] of before) {
      const same = t.data.every((v, i) => v === after.get(name)!.data[i]);
      if (name.includes('running')) continue;
      expect(same, name).toBe(name.startsWith('stem') || name.startsWith('block.'));
    }
    m.unfreeze();
    await m.trainStep({ input: input() }, targets, sgd({ lr: 0.1 }));
    expect(m.stateDict().get('stem.weight')!.data).not.toEqual(after.get('stem.weight')!.data);
    m.dispose();
  });

  it('clipGradNorm scales the whole gradient to the given L2 norm (torch.nn.utils.clip_grad_norm_)', async () => {
    const m = await build(smallNet());
    m.train();
    const before = m.stateDict();
    await m.trainStep({ input: input() }, targets, sgd({ lr: 1 }), { clipGradNorm: 1e-3 });
    const after = m.stateDict();
    let sq = 0;
    for (const [name, t] of before) if (!name.includes('running')) t.data.forEach((v, i) => (sq += (v - after.get(name)!.data[i]) ** 2));
    expect(Math.sqrt(sq)).toBeCloseTo(1e-3, 8);
    m.dispose();
  });

  it('saveSafetensors(model, { optimizer: true }) and loadStateDict() resume training bit for bit', async () => {
    for (const opt of [adam({ lr: 0.01, amsgrad: true }), sgd({ lr: 0.05, momentum: 0.9, nesterov: true }), rmsprop({ lr: 0.01, momentum: 0.5, centered: true })]) {
      const a = await build(smallNet());
      a.train();
      await a.trainStep({ input: input() }, targets, opt);
      await a.trainStep({ input: input() }, targets, opt);
      const bytes = saveSafetensors(a, { optimizer: true });
      const saved = loadSafetensors(bytes);
      expect([...saved.keys()].some((k) => k.startsWith('optimizer.'))).toBe(true);
      const b = await build(smallNet(), 99);
      b.train();
      await b.loadStateDict(saved);
      await a.trainStep({ input: input() }, targets, opt);
      await b.trainStep({ input: input() }, targets, opt);
      for (const [name, t] of a.stateDict()) expect(b.stateDict().get(name)!.data, `${opt.kind} ${name}`).toEqual(t.data);
      a.dispose();
      b.dispose();
    }
  });

  it('Dropout masks in training mode (reproducibly per seed and step), identity in eval mode', async () => {
    const withDrop = (b: GraphBuilder, x: string) => b.node('Dropout', [x], { ratio: 0.5 })[0];
    const a = await build(smallNet(4, withDrop));
    const c = await build(smallNet(4, withDrop));
    const plain = await build(smallNet());
    for (const m of [a, c, plain]) m.eval();
    const l0 = await a.trainStep({ input: input() }, targets, sgd({ lr: 0 }));
    expect(await c.trainStep({ input: input() }, targets, sgd({ lr: 0 }))).toBe(l0);
    expect(await plain.trainStep({ input: input() }, targets, sgd({ lr: 0 }))).toBe(l0);
    a.train();
    c.train();
    const la = [await a.trainStep({ input: input() }, targets, sgd({ lr: 0 })), await a.trainStep({ input: input() }, targets, sgd({ lr: 0 }))];
    const lc = [await c.trainStep({ input: input() }, targets, sgd({ lr: 0 })), await c.trainStep({ input: input() }, targets, sgd({ lr: 0 }))];
    expect(la).toEqual(lc);
    expect(la[0]).not.toBe(la[1]);
    expect(la[0]).not.toBe(l0);
    for (const m of [a, c, plain]) m.dispose();
  });

  it('bad input gets typed errors', async () => {
    const m = await build(smallNet());
    await expect(m.trainStep({ input: input() }, Int32Array.from([0, 1, 2, 5]), sgd())).rejects.toThrow(ValueError);
    await expect(m.trainStep({ input: input() }, Int32Array.from([0, 1]), sgd())).rejects.toThrow(ShapeError);
    const nan = input();
    nan.data[7] = NaN;
    await expect(m.trainStep({ input: nan }, targets, sgd())).rejects.toThrow(/index 7/);
    await expect(m.trainStep({ input: input() }, targets, {} as never)).rejects.toThrow(ValueError);
    expect(() => sgd({ lr: -1 })).toThrow(ValueError);
    expect(() => sgd({ nesterov: true })).toThrow(ValueError);
    m.dispose();
    await expect(m.trainStep({ input: input() }, targets, sgd())).rejects.toThrow(WasmCnnError);
    const soft = await build(smallNet(4, (b, x) => b.act('Softsign', x)));
    await expect(soft.trainStep({ input: input() }, targets, sgd())).rejects.toThrow(UnsupportedOpError);
    soft.dispose();
  });

  it('fit() runs epochs of shuffled batches with a schedule, progress and held-out accuracy', async () => {
    const m = await build(smallNet());
    const n = 24;
    const x = syntheticInput([n, 3, 12, 12], 'fit');
    const y = Int32Array.from({ length: n }, (_, i) => i % 5);
    const progress: number[] = [];
    const history = await fit(m, { x, y }, {
      epochs: 3, batchSize: 8, optimizer: adam({ lr: 0.01 }), schedule: cosineLR(3), validation: { x, y },
      onProgress: (p) => progress.push(p.lr),
    });
    expect(history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(progress.length).toBe(9);
    expect(progress[0]).toBeCloseTo(0.01, 10);
    expect(progress[8]).toBeCloseTo(0.01 * (1 + Math.cos((Math.PI * (2 + 2 / 3)) / 3)) / 2, 10);
    expect(history[2].loss).toBeLessThan(history[0].loss);
    expect(history[2].accuracy).toBeGreaterThanOrEqual(0);
    expect(m.training).toBe(false);
    m.dispose();
  });
});

describe('training on two threads', () => {
  it('gives the same bits as one thread', async () => {
    await expectSameBitsOnTwoThreads(async () => {
      const b = modelBuilder('mobilenet_v2', { inputSize: 64, batch: 2 });
      const m = await b.build(syntheticWeights(b.weightShapes()));
      m.train();
      const losses = [];
      for (let i = 0; i < 2; i++) losses.push(await m.trainStep({ input: syntheticInput([2, 3, 64, 64]) }, Int32Array.from([1, 2]), sgd({ lr: 0.01, momentum: 0.9 })));
      const w = m.stateDict();
      m.dispose();
      return { losses, w };
    });
  }, 120_000);
});
