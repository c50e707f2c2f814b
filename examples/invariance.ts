// Invariance, shown with numbers (the CNN study's first section; `npm run invariance`): LeNet-5
// trained on the MNIST digits as they are, LeNet-5 trained with random-rotation augmentation, and a
// C4 rotation-equivariant network (Cohen & Welling 2016: lifting and group convolutions, pooling
// over orientations, then over the image) trained without augmentation — all three here, in the
// wasm. Each is scored on the 2,000 held-out digits turned by 0°, 90°, 180°, 270° and by random
// angles. The C4 network is invariant to quarter turns by construction; LeNet-5 learns some
// invariance from the augmentation only.
//
//   npx tsx examples/invariance.ts [--epochs 15] [--train 8000] [--seed 0]
import { readFileSync } from 'node:fs';
import {
  adamw, augmentation, c4DigitNet, cosineLR, fit, type GraphBuilder, init, initAugmentation, initWeights, modelBuilder,
  randomRotation, rotate, useNodePlatform, type Model, type Tensor,
} from '../src/node';
import { loadMnistSplit } from '../src/data/mnist';
import { stackDigits } from '../src/cli/train';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const EPOCHS = arg('epochs', 15);
const TRAIN = arg('train', 8000);
const SEED = arg('seed', 0);

/** Each 32x32 image of a batch turned by q quarter turns counter-clockwise (exact: a permutation). */
function quarterTurn(x: Tensor, q: number): Tensor {
  const out = new Float32Array(x.data.length);
  const n = x.shape[0];
  for (let s = 0; s < n; s++)
    for (let i = 0; i < 32; i++)
      for (let j = 0; j < 32; j++) {
        let a = i, c = j;
        for (let t = 0; t < q; t++) [a, c] = [c, 31 - a];
        out[s * 1024 + i * 32 + j] = x.data[s * 1024 + a * 32 + c];
      }
  return { data: out, shape: x.shape.slice() };
}

async function accuracyOn(m: Model, x: Tensor, y: Int32Array): Promise<number> {
  const out = (await m.run({ input: x })).logits;
  let right = 0;
  for (let s = 0; s < y.length; s++) {
    const row = out.data.subarray(s * 10, s * 10 + 10);
    if (row.indexOf(Math.max(...row)) === y[s]) right++;
  }
  return right / y.length;
}

async function main(): Promise<void> {
  // the sources run here (tsx), the kernels come from the build (npm run build:wasm)
  useNodePlatform(new URL('../dist/src/runtime/', import.meta.url));
  await init({ wasm: readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url)) });
  await initAugmentation();
  const { train, heldOut } = loadMnistSplit();
  const data = stackDigits(train.slice(0, TRAIN));
  const test = stackDigits(heldOut);
  const turned = rotate(test.x, Array.from({ length: heldOut.length }, (_, i) => ((i * 7919 + SEED * 31) % 3600) / 10));
  const rows: string[][] = [];
  const runs: [string, () => GraphBuilder, boolean][] = [
    ['LeNet-5', () => modelBuilder('lenet5', { batch: 1 }), false],
    ['LeNet-5 + random rotation', () => modelBuilder('lenet5', { batch: 1 }), true],
    ['C4 network (no augmentation)', () => c4DigitNet(), false],
  ];
  for (const [label, make, rotateAug] of runs) {
    const b = make();
    const m = await b.build(initWeights(b.weightShapes(), { seed: SEED, scheme: 'kaiming' }));
    const aug = rotateAug ? augmentation([randomRotation(180)], { seed: SEED }) : undefined;
    const t0 = performance.now();
    await fit(m, data, {
      epochs: EPOCHS, batchSize: 64, seed: SEED, optimizer: adamw({ lr: 2e-3, weightDecay: 0.05 }), schedule: cosineLR(EPOCHS),
      augment: aug && ((x) => aug.apply(x)),
    });
    const secs = (performance.now() - t0) / 1000;
    const accs = [];
    for (let q = 0; q < 4; q++) accs.push(await accuracyOn(m, quarterTurn(test.x, q), test.y));
    accs.push(await accuracyOn(m, turned, test.y));
    const params = [...m.stateDict().entries()].filter(([k]) => !k.includes("running")).reduce((s, [, t]) => s + t.data.length, 0);
    rows.push([label, ...accs.map((a) => `${(100 * a).toFixed(1)}%`), params.toLocaleString("en-US"), `${secs.toFixed(0)} s`]);
    process.stderr.write(`${label}: ${rows[rows.length - 1].slice(1).join(' ')}\n`);
    m.dispose();
  }
  const head = ['model', '0°', '90°', '180°', '270°', 'random angle', 'parameters', 'training'];
  console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\n${EPOCHS} epochs on ${TRAIN} training digits, He-uniform initial weights, AdamW (lr 2e-3, weight decay 0.05), cosine schedule, batch 64, seed ${SEED}; 2,000 held-out digits.`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
