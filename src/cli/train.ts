// `wasmcnn train lenet5`: LeNet-5 trained from scratch here, in the wasm, on the MNIST digits of
// the `mnist` package (8,000 training digits, 2,000 held out; src/data/mnist.ts's split), with
// PyTorch-default initial weights, AdamW and a cosine schedule, random affine augmentation, a
// progress bar, held-out accuracy per epoch; the weights are written as safetensors with
// PyTorch's names (the bundled models/weights/lenet5.safetensors is made by this command).
import { writeFile } from 'node:fs/promises';
import { adam, adamw, cosineLR, fit, initWeights, modelBuilder, saveSafetensors, type Tensor } from '../node';
import { loadMnistSplit, MNIST_SPLIT_RULE, type Digit } from '../data/mnist';
import type { OptionSpec } from './args';
import { UsageError } from './args';

export const TRAIN_OPTS: Record<string, OptionSpec> = {
  epochs: { kind: 'int', help: 'passes over the 8,000 training digits (default 60)' },
  batch: { kind: 'int', help: 'batch size (default 64)' },
  lr: { kind: 'string', help: 'learning rate, cosine-annealed to 0 (default 0.002)' },
  seed: { kind: 'int', help: 'seed of the initial weights, shuffles and augmentation (default 0)' },
  augment: { kind: 'string', help: "'affine' (random rotation, shift and scale per digit; default) or 'none'" },
  degrees: { kind: 'string', help: 'affine: largest rotation in degrees (default 15)' },
  shift: { kind: 'string', help: 'affine: largest shift in pixels (default 3)' },
  zoom: { kind: 'string', help: 'affine: largest relative scale change (default 0.15)' },
  'weight-decay': { kind: 'string', help: 'AdamW decoupled weight decay (default 0.05; 0 gives Adam)' },
  out: { kind: 'string', short: 'o', help: 'safetensors file to write (default lenet5.safetensors)' },
  quiet: { kind: 'flag', short: 'q', help: 'no progress bar' },
};

/** Stack digits into one [N, 1, 32, 32] tensor and their labels. */
export function stackDigits(ds: Digit[]): { x: Tensor; y: Int32Array } {
  const x = new Float32Array(ds.length * 1024);
  ds.forEach((d, i) => x.set(d.image, i * 1024));
  return { x: { data: x, shape: [ds.length, 1, 32, 32] }, y: Int32Array.from(ds, (d) => d.label) };
}

export async function runTrain(pos: string[], o: Record<string, string | number | boolean>, out: (s: string) => void): Promise<void> {
  if (pos.length !== 1 || pos[0] !== 'lenet5') throw new UsageError('train takes one model: lenet5 (the MNIST digits it learns come with the mnist package)');
  const epochs = (o.epochs as number | undefined) ?? 60;
  const batchSize = (o.batch as number | undefined) ?? 64;
  const lr = o.lr === undefined ? 2e-3 : Number(o.lr);
  const seed = (o.seed as number | undefined) ?? 0;
  const augment = (o.augment as string | undefined) ?? 'affine';
  if (!(lr > 0)) throw new UsageError(`--lr must be a positive number, got '${String(o.lr)}'`);
  if (augment !== 'affine' && augment !== 'none') throw new UsageError(`--augment is 'affine' or 'none', got '${augment}'`);
  const file = (o.out as string | undefined) ?? 'lenet5.safetensors';
  const { train, heldOut } = loadMnistSplit();
  const data = stackDigits(train);
  const validation = stackDigits(heldOut);
  const b = modelBuilder('lenet5');
  const model = await b.build(initWeights(b.weightShapes(), { seed }));
  const tty = !o.quiet && !!process.stderr.isTTY;
  const t0 = performance.now();
  const num = (k: string, d: number) => {
    const v = o[k] === undefined ? d : Number(o[k]);
    if (!(v >= 0)) throw new UsageError(`--${k} must be a non-negative number, got '${String(o[k])}'`);
    return v;
  };
  const affine = { degrees: num('degrees', 15), shift: num('shift', 3), zoom: num('zoom', 0.15) };
  const wd = num('weight-decay', 0.05);
  const aug = augment === 'affine' ? await affineAugmentation(seed, affine) : undefined;
  const history = await fit(model, data, {
    epochs, batchSize, seed, optimizer: wd ? adamw({ lr, weightDecay: wd }) : adam({ lr }), schedule: cosineLR(epochs), validation,
    augment: aug,
    onProgress: (p) => {
      if (!tty || (p.batch % 8 && p.batch !== p.batches)) return;
      const w = 24;
      const bar = '#'.repeat(Math.round((w * p.batch) / p.batches)).padEnd(w, '.');
      process.stderr.write(`\repoch ${String(p.epoch).padStart(3)}/${p.epochs} ${bar} loss ${p.meanLoss.toFixed(4)} ${Math.round(p.samplesPerSecond)} img/s `);
    },
  });
  for (const h of history)
    if (!o.quiet && (!tty || h.epoch === epochs)) out(`epoch ${h.epoch}: loss ${h.loss.toFixed(4)}, held-out accuracy ${(100 * h.accuracy!).toFixed(2)}% (${h.seconds.toFixed(1)} s)`);
  if (tty) process.stderr.write('\n');
  const acc = history[history.length - 1].accuracy!;
  const secs = (performance.now() - t0) / 1000;
  const recipe = `wasmcnn train lenet5 --epochs ${epochs} --batch ${batchSize} --lr ${lr} --weight-decay ${wd} --seed ${seed} --augment ${augment}` +
    (aug ? ` --degrees ${affine.degrees} --shift ${affine.shift} --zoom ${affine.zoom}` : '') +
    `: PyTorch-default init, ${wd ? 'AdamW' : 'Adam'}, cosine-annealed lr, softmax cross-entropy` +
    (aug ? `, random affine per digit (torchvision RandomAffine: rotation ±${affine.degrees}°, shift ±${affine.shift} px, scale ±${affine.zoom}, bilinear)` : '');
  const bytes = saveSafetensors(model.stateDict(), {
    recipe, split: MNIST_SPLIT_RULE, held_out_accuracy: acc.toFixed(4), trained_by: 'wasmcnn', seconds: secs.toFixed(0),
  });
  await writeFile(file, bytes);
  out(`held-out accuracy ${(100 * acc).toFixed(2)}% (${Math.round(acc * heldOut.length)}/${heldOut.length}) after ${epochs} epochs, ${secs.toFixed(0)} s; wrote ${file}`);
  model.dispose();
}

/** The random affine augmentation of the training recipe (torchvision RandomAffine's ranges). */
async function affineAugmentation(seed: number, a: { degrees: number; shift: number; zoom: number }): Promise<(x: Tensor) => Tensor> {
  const { augmentation, randomAffine, ready } = await import('../train/augment');
  await ready();
  const pipe = augmentation([randomAffine({ degrees: a.degrees, translate: [a.shift / 32, a.shift / 32], scale: [1 - a.zoom, 1 + a.zoom] })], { seed });
  return (x) => pipe.apply(x);
}
