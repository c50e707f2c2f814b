// The default job (`npm start`): LeNet-5 with its bundled weights, run through the built
// package on the 2,000 held-out MNIST digits it never saw in training. Prints accuracy,
// throughput and a few digits drawn in the terminal with their predictions.
import { createModel } from '../dist/index.js';
import { loadMnistSplit, type Digit } from '../src/data/mnist';

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
const { heldOut } = loadMnistSplit();
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
