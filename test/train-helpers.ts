// Pieces the training tests share: the relative error of sampled values against a PyTorch
// fixture, and the check that a training run on two threads gives one thread's bits.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { init, type Tensor } from '../src/index';

/** One parameter in a PyTorch training fixture: sampled positions, step-1 gradient, values after steps 1 and 2. */
export interface Rec {
  shape: number[];
  idx: number[];
  gradNorm: number;
  grad: number[];
  after1: number[];
  after2: number[];
}

/**
 * Largest |a_i - b_i| over the sampled positions `idx` (b holds the fixture's values at them),
 * relative to the largest |b_i| or `floor` if that is larger.
 */
export function relErr(a: ArrayLike<number>, idx: number[], b: number[], floor = 1e-6): number {
  let worst = 0;
  let scale = floor;
  idx.forEach((i, j) => {
    worst = Math.max(worst, Math.abs(a[i] - b[j]));
    scale = Math.max(scale, Math.abs(b[j]));
  });
  return worst / scale;
}

/**
 * Runs `train` (which builds a model, trains it and returns its losses and stateDict()) on one
 * thread and on two, and expects the same losses and weights bit for bit; the engine is left on
 * one thread. Returns the one-thread run.
 */
export async function expectSameBitsOnTwoThreads(
  train: () => Promise<{ losses: number[]; w: Map<string, Tensor> }>,
): Promise<{ losses: number[]; w: Map<string, Tensor> }> {
  const wasm = readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url));
  const wasmThreads = readFileSync(new URL('../dist/wasmcnn-mt.wasm', import.meta.url));
  await init({ wasm, threads: 1 });
  const one = await train();
  await init({ wasm, wasmThreads, threads: 2 });
  const two = await train();
  await init({ wasm, threads: 1 });
  expect(two.losses).toEqual(one.losses);
  for (const [name, t] of one.w) expect(two.w.get(name)!.data, name).toEqual(t.data);
  return one;
}
