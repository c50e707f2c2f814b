// Transfer learning as a user does it (issue 16, item 6), shared by the browser page
// (test/browser/transfer.html, Chromium on 2 threads) and its Node reference (test/browser/run.mjs,
// 1 thread): a MobileNetV2 backbone whose weights come from a safetensors file, its classifier
// replaced by a new 3-class head (PyTorch-default initial weights), the backbone frozen, and a few
// Adam steps on a small task (which of three colour channels carries a bright square). Training
// gives the same bits on any thread count, so both sides must report the same losses.
import { adam, initWeights, loadSafetensors, modelBuilder, saveSafetensors, syntheticWeights } from '../dist/index.js';

/** Six 3x64x64 images: image i belongs to class i % 3, whose channel holds a bright square over faint texture. */
function task() {
  const n = 6;
  const data = new Float32Array(n * 3 * 64 * 64);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 64; y++)
        for (let x = 0; x < 64; x++) {
          const square = c === i % 3 && y >= 16 + i && y < 40 + i && x >= 20 && x < 44;
          data[((i * 3 + c) * 64 + y) * 64 + x] = ((i * 131 + y * 7 + x * 3 + c * 17) % 97) / 485 + (square ? 0.8 : 0);
        }
  return { x: { data, shape: [n, 3, 64, 64] }, y: Int32Array.from({ length: n }, (_, i) => i % 3) };
}

/** Fine-tunes the new head for `steps` steps; returns the losses, the thread count and what changed. */
export async function transferLearning(steps = 4) {
  // "pretrained" ImageNet-shaped weights, as a file would bring them
  const pretrained = loadSafetensors(saveSafetensors(syntheticWeights(modelBuilder('mobilenet_v2', { inputSize: 64 }).weightShapes())));
  const b = modelBuilder('mobilenet_v2', { inputSize: 64, batch: 6, numClasses: 3 });
  const head = initWeights(b.weightShapes(), { seed: 7 });
  const weights = new Map([...b.weightShapes().keys()].map((k) => [k, k.startsWith('classifier.') ? head.get(k) : pretrained.get(k)]));
  const m = await b.build(weights);
  m.train().freeze('features.');
  const { x, y } = task();
  const before = m.stateDict();
  const losses = [];
  const opt = adam({ lr: 1e-2 });
  for (let s = 0; s < steps; s++) losses.push(await m.trainStep({ input: x }, y, opt));
  const after = m.stateDict();
  const same = (k) => before.get(k).data.every((v, i) => Object.is(v, after.get(k).data[i]));
  const frozenSame = [...after.keys()].filter((k) => k.startsWith('features.') && !k.includes('running')).every(same);
  const headChanged = !same('classifier.1.weight');
  const logits = Array.from((await m.run({ input: x })).logits.data);
  const threads = m.threads;
  m.dispose();
  return { threads, losses, frozenSame, headChanged, logits };
}
