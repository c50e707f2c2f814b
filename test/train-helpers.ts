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
 * Compares a two-step run with its fixture: per parameter the step-1 gradient's norm and samples
 * (relative to 1% of the largest fixture gradient at least: some are zero analytically) and the
 * values after steps 1 and 2; per buffer the values after step 2. Returns what exceeds `tol`
 * (named) and the worst error of each kind.
 */
export function compareSteps(
  params: Record<string, Rec>, buffers: Record<string, { idx: number[]; after2: number[] }>,
  grads: Map<string, Float32Array>, after1: Map<string, Float32Array>, state: Map<string, Tensor>, tol: number,
): { bad: string[]; worst: { norm: number; grad: number; after1: number; after2: number } } {
  const bad: string[] = [];
  const worst = { norm: 0, grad: 0, after1: 0, after2: 0 };
  const gmax = Math.max(...Object.values(params).flatMap((r) => r.grad.map(Math.abs)));
  for (const [name, r] of Object.entries(params)) {
    const g = grads.get(name)!;
    let sq = 0;
    for (const v of g) sq += v * v;
    const errs = {
      norm: Math.abs(Math.sqrt(sq) - r.gradNorm) / Math.max(r.gradNorm, 1e-2 * gmax),
      grad: relErr(g, r.idx, r.grad, 1e-2 * gmax),
      after1: relErr(after1.get(name)!, r.idx, r.after1),
      after2: relErr(state.get(name)!.data, r.idx, r.after2),
    };
    for (const [k, e] of Object.entries(errs) as [keyof typeof worst, number][]) {
      if (!(e <= tol)) bad.push(`${name} ${k} ${e.toExponential(2)}`);
      worst[k] = Math.max(worst[k], e);
    }
  }
  for (const [name, r] of Object.entries(buffers)) {
    const e = relErr(state.get(name)!.data, r.idx, r.after2);
    if (!(e <= tol)) bad.push(`${name} ${e.toExponential(2)}`);
  }
  return { bad, worst };
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
