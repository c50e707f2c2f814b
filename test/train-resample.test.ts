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
import { GraphBuilder, initWeights, modelBuilder, sgd, type Model, type Tensor } from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';
import { expectSameBitsOnTwoThreads } from './train-helpers';

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

/** [N, C, H, W] -> the ONNX definitions of DepthToSpace (DCR, CRD) and SpaceToDepth as Reshape / Transpose / Reshape. */
function byDefinition(b: GraphBuilder, x: string, op: 'DCR' | 'CRD' | 'S2D', r: number): string {
  const [N, C, H, W] = b.shape(x);
  const reshape = (v: string, s: number[]) => b.node('Reshape', [v, b.ints(s)])[0];
  const transpose = (v: string, perm: number[]) => b.node('Transpose', [v], { perm })[0];
  if (op === 'DCR') return reshape(transpose(reshape(x, [N, r, r, C / (r * r), H, W]), [0, 3, 4, 1, 5, 2]), [N, C / (r * r), H * r, W * r]);
  if (op === 'CRD') return reshape(transpose(reshape(x, [N, C / (r * r), r, r, H, W]), [0, 1, 4, 2, 5, 3]), [N, C / (r * r), H * r, W * r]);
  return reshape(transpose(reshape(x, [N, C, H / r, r, W / r, r]), [0, 3, 5, 1, 2, 4]), [N, C * r * r, H / r, W / r]);
}

describe('DepthToSpace and SpaceToDepth train as their ONNX definitions', () => {
  for (const op of ['DCR', 'CRD', 'S2D'] as const) {
    it(op, async () => {
      const r = op === 'S2D' ? 2 : 3;
      const inShape = op === 'S2D' ? [2, 3, 10, 6] : [2, 3, 5, 7];
      const mid = op === 'S2D' ? 5 : 18;
      const net = (definition: boolean) => {
        const b = new GraphBuilder();
        let y = b.conv(b.input('input', inShape), 'conv1', { out: mid, kernel: 3, pad: 1 });
        if (definition) y = byDefinition(b, y, op, r);
        else if (op === 'S2D') y = b.node('SpaceToDepth', [y], { blocksize: r })[0];
        else y = b.node('DepthToSpace', [y], { blocksize: r, mode: op })[0];
        b.output(b.conv(y, 'conv2', { out: 2, kernel: 3, pad: 1 }), 'out');
        return b;
      };
      const run = async (definition: boolean) => {
        const b = net(definition);
        const m = await b.build(initWeights(b.weightShapes(), { seed: 7 }));
        m.train();
        const out = b.shape('out');
        const target = syntheticInput(out);
        const loss = await m.trainStep({ input: syntheticInput(inShape) }, target, sgd({ lr: 0.1 }), { loss: 'mse' });
        const g = trainerOf(m).gradient('conv1.weight')!.data.slice();
        m.dispose();
        return { loss, g };
      };
      const op1 = await run(false);
      const ref = await run(true);
      // a permutation moves values without arithmetic: the same bits either way
      expect(op1.loss).toBe(ref.loss);
      expect(op1.g).toEqual(ref.g);
    });
  }
});

/** Loss of `steps` SGD steps on one fixed batch. */
async function steps(m: Model, feeds: Record<string, Tensor>, target: Tensor | Int32Array, lr: number, n: number): Promise<number[]> {
  const opt = sgd({ lr, momentum: 0.9 });
  const losses: number[] = [];
  for (let i = 0; i < n; i++) losses.push(await m.trainStep(feeds, target, opt, target instanceof Int32Array ? {} : { loss: 'mse' }));
  return losses;
}

describe('zoo training forms with these ops train (tiny sizes, synthetic weights, fixed batch)', () => {
  const cases: { name: string; o: Record<string, unknown>; dense: boolean; lr: number }[] = [
    { name: 'fcn_resnet50', o: { inputSize: 32, batch: 2, numClasses: 3 }, dense: true, lr: 0.002 },
    { name: 'lraspp_mobilenet_v3_large', o: { inputSize: 64, batch: 2, numClasses: 3 }, dense: true, lr: 0.01 },
    { name: 'deeplabv3_mobilenet_v3_large', o: { inputSize: 64, batch: 2, numClasses: 3 }, dense: true, lr: 0.01 },
    { name: 'espcn', o: { inputSize: 9, batch: 2, scale: 3, channels: 1 }, dense: true, lr: 0.01 },
    { name: 'segnet', o: { inputSize: 32, batch: 2, numClasses: 3 }, dense: true, lr: 0.01 },
    { name: 'alexnet_lrn', o: { inputSize: 67, batch: 2, numClasses: 5 }, dense: false, lr: 0.01 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const b = modelBuilder(c.name, { ...c.o, training: true });
      expect(b.graph.nodes.some((n) => ['Resize', 'DepthToSpace', 'MaxUnpool', 'LRN'].includes(n.op))).toBe(true);
      const m = await b.build(syntheticWeights(b.weightShapes()));
      m.train();
      const inShape = b.shape(m.inputNames[0]);
      const feeds = { [m.inputNames[0]]: syntheticInput(inShape) };
      const out = b.shape(m.outputNames[0]);
      const target = c.dense ? syntheticInput(out, 'target') : Int32Array.from({ length: out[0] }, (_, i) => i % out[1]);
      const losses = await steps(m, feeds, target, c.lr, 4);
      expect(losses.every(Number.isFinite), losses.join()).toBe(true);
      expect(losses[3], losses.join()).toBeLessThan(losses[0]);
      m.dispose();
    }, 300_000);
  }
});

describe('the resampling rules on two threads', () => {
  it('give the same bits as one thread', async () => {
    const shape = [2, 3, 48, 48];
    await expectSameBitsOnTwoThreads(async () => {
      const b = new GraphBuilder();
      let y = b.conv(b.input('input', shape), 'conv1', { out: 32, kernel: 3, pad: 1 });
      y = b.lrn(y, 5, { alpha: 0.4, k: 1.5 });
      const [p, idx] = b.maxPoolWithIndices(y, { kernel: 3, stride: 2, pad: 1 });
      y = b.maxUnpool(b.conv(p, 'convm', { out: 32, kernel: 3, pad: 1 }), idx, { kernel: 3, stride: 2, pad: 1, outputSize: [48, 48] });
      y = b.interpolate(y, { size: [53, 61], mode: 'bilinear' });
      y = b.pixelShuffle(b.conv(y, 'conv2', { out: 18, kernel: 3, pad: 1 }), 3);
      b.output(y, 'out');
      const m = await b.build(initWeights(b.weightShapes(), { seed: 3 }));
      m.train();
      const losses = await steps(m, { input: syntheticInput(shape) }, syntheticInput(b.shape('out'), 'target'), 0.05, 2);
      const w = m.stateDict();
      m.dispose();
      return { losses, w };
    });
  }, 120_000);
});

describe('the training forward of Resize equals inference in every mode', () => {
  const modes: Record<string, string | number>[] = [
    { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_floor' },
    { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_ceil' },
    { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn', nearest_mode: 'ceil' },
    { mode: 'nearest', coordinate_transformation_mode: 'align_corners', nearest_mode: 'floor' },
    { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
    { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric' },
    { mode: 'linear', coordinate_transformation_mode: 'asymmetric' },
    { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
  ];
  for (const attrs of modes) {
    for (const sizes of [[7, 10], [3, 4]]) {
      it(`${Object.values(attrs).join(' ')} to ${sizes.join('x')}`, async () => {
        const b = new GraphBuilder();
        const x = b.input('input', [2, 3, 5, 7]);
        const y = b.node('Resize', [x, '', '', b.ints([2, 3, ...sizes])], attrs)[0];
        b.output(b.conv(y, 'conv', { out: 2, kernel: 1 }), 'out');
        b.output(y, 'resized');
        const m = await b.build(initWeights(b.weightShapes(), { seed: 5 }));
        const feeds = { input: syntheticInput([2, 3, 5, 7]) };
        const want = (await m.run(feeds)).resized.data;
        m.train();
        await m.trainStep(feeds, syntheticInput([2, 2, ...sizes], 'target'), sgd({ lr: 0 }), { loss: 'mse' });
        const tr = (m as unknown as { tr: { made: { mem: { f32: Float32Array }; program: { values: Map<string, number> } } } }).tr.made;
        const at = tr.program.values.get('resized')! >>> 2;
        expect(tr.mem.f32.slice(at, at + want.length)).toEqual(want);
        m.dispose();
      });
    }
  }
  for (const mode of ['nearest', 'linear']) {
    it(`Upsample ${mode} (asymmetric), scales 2 x 1.5`, async () => {
      const b = new GraphBuilder();
      const x = b.input('input', [2, 3, 5, 7]);
      const y = b.node('Upsample', [x, b.constant([1, 1, 2, 1.5], [4])], { mode })[0];
      b.output(b.conv(y, 'conv', { out: 2, kernel: 1 }), 'out');
      b.output(y, 'resized');
      expect(b.shape(y)).toEqual([2, 3, 10, 10]);
      const m = await b.build(initWeights(b.weightShapes(), { seed: 5 }));
      const feeds = { input: syntheticInput([2, 3, 5, 7]) };
      const want = (await m.run(feeds)).resized.data;
      m.train();
      await m.trainStep(feeds, syntheticInput([2, 2, 10, 10], 'target'), sgd({ lr: 0 }), { loss: 'mse' });
      const tr = (m as unknown as { tr: { made: { mem: { f32: Float32Array }; program: { values: Map<string, number> } } } }).tr.made;
      const at = tr.program.values.get('resized')! >>> 2;
      expect(tr.mem.f32.slice(at, at + want.length)).toEqual(want);
      m.dispose();
    });
  }
});

describe('the training forward of MaxPool indices and MaxUnpool equals inference', () => {
  for (const outputSize of [undefined, [7, 9], [5, 6]] as ([number, number] | undefined)[]) {
    it(`2x2/2 on 6x8, output ${outputSize?.join('x') ?? 'default'}`, async () => {
      const b = new GraphBuilder();
      const x = b.input('input', [2, 3, 6, 8]);
      const y = b.conv(x, 'conv', { out: 3, kernel: 1 });
      const [p, idx] = b.maxPoolWithIndices(y, { kernel: 2 });
      const u = b.maxUnpool(p, idx, { kernel: 2, outputSize });
      b.output(b.conv(u, 'conv2', { out: 2, kernel: 1 }), 'out');
      b.output(idx, 'indices');
      b.output(u, 'unpooled');
      const m = await b.build(initWeights(b.weightShapes(), { seed: 9 }));
      const feeds = { input: syntheticInput([2, 3, 6, 8]) };
      const want = await m.run(feeds);
      m.train();
      await m.trainStep(feeds, syntheticInput(b.shape('out'), 'target'), sgd({ lr: 0 }), { loss: 'mse' });
      const tr = (m as unknown as { tr: { made: { mem: { f32: Float32Array }; program: { values: Map<string, number> } } } }).tr.made;
      const got = (v: string) => {
        const at = tr.program.values.get(v)! >>> 2;
        return tr.mem.f32.slice(at, at + want[v].data.length);
      };
      // the same argmax positions, and the same values there (up to the two engines' 1x1
      // convolution rounding), zeros elsewhere
      expect(got('indices')).toEqual(want.indices.data);
      const un = got('unpooled');
      const ref = want.unpooled.data;
      expect(Array.from(un, (v) => v === 0)).toEqual(Array.from(ref, (v) => v === 0));
      expect(relErr(un, Array.from(ref))).toBeLessThan(1e-6);
      m.dispose();
    });
  }
});
