// fit(): the training loop users would otherwise write around trainStep — epochs of shuffled
// mini-batches, a learning-rate schedule, optional augmentation per batch, a progress callback,
// and held-out accuracy (or loss) after each epoch.
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import type { Model } from '../model';
import type { Optimizer, Schedule } from './optim';
import type { TrainStepOptions } from './trainer';
import { Rng } from './rng';

/** Samples stacked along the first axis: inputs and their targets (class indices or tensors). */
export interface Dataset {
  /** Inputs, samples along axis 0 (e.g. [N, C, H, W]). */
  x: Tensor;
  /** Class indices (one per sample) or target tensors (samples along axis 0). */
  y: Int32Array | Tensor;
}

/** What onProgress receives after every batch. */
export interface FitProgress {
  /** Current epoch, from 1. */
  epoch: number;
  /** Epochs in all. */
  epochs: number;
  /** Batch within the epoch, from 1. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** This batch's loss, and the mean over the epoch so far. */
  loss: number;
  /** Mean loss over the epoch's batches so far. */
  meanLoss: number;
  /** Learning rate of this batch (the optimizer's times the schedule's factor). */
  lr: number;
  /** Samples per second over the epoch so far. */
  samplesPerSecond: number;
}

/** One row per epoch. */
export interface EpochResult {
  /** The epoch, from 1. */
  epoch: number;
  /** Mean training loss over its batches. */
  loss: number;
  /** Learning rate of its last batch. */
  lr: number;
  /** Held-out accuracy (class-index targets) when validation data was given. */
  accuracy?: number;
  /** Wall time of the epoch's training (validation excluded). */
  seconds: number;
}

/** Options of fit(): the loop's, and trainStep()'s for every step. */
export interface FitOptions extends TrainStepOptions {
  /** Passes over the data. */
  epochs: number;
  /** Samples per step (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** Update rule and hyper-parameters (sgd(), adam(), adamw(), rmsprop()). */
  optimizer: Optimizer;
  /** Factor on the optimizer's learning rates, by (fractional) epoch. */
  schedule?: Schedule;
  /** Called after each batch. */
  onProgress?: (p: FitProgress) => void;
  /** Called on each batch's inputs before the step (e.g. an augmentation pipeline's apply). */
  augment?: (x: Tensor, epoch: number) => Tensor;
  /** Shuffle the samples each epoch (default true), with this seed (default 0). */
  shuffle?: boolean;
  /** Seed of the shuffles (default 0). */
  seed?: number;
  /** Held-out data: accuracy after each epoch. */
  validation?: Dataset;
}

function rows(x: Tensor, what: string): number {
  if (!x || !(x.data instanceof Float32Array) || !Array.isArray(x.shape) || x.shape.length < 1)
    throw new ValueError(`fit: ${what} must be a tensor { data: Float32Array, shape } with samples along axis 0`);
  return x.shape[0];
}

/** Gather samples `idx` of a stacked tensor (or of class indices). */
function take(t: Tensor, idx: ArrayLike<number>): Tensor;
function take(t: Int32Array, idx: ArrayLike<number>): Int32Array;
function take(t: Tensor | Int32Array, idx: ArrayLike<number>): Tensor | Int32Array {
  if (t instanceof Int32Array) return Int32Array.from(idx, (i) => t[i]);
  const per = t.data.length / t.shape[0];
  const out = new Float32Array(idx.length * per);
  for (let j = 0; j < idx.length; j++) out.set(t.data.subarray(idx[j] * per, (idx[j] + 1) * per), j * per);
  return { data: out, shape: [idx.length, ...t.shape.slice(1)] };
}

/** Fraction of samples whose largest output is the target class (inference form, batches of `batch`). */
export async function accuracy(model: Model, data: Dataset, batch = 256): Promise<number> {
  const n = rows(data.x, 'validation.x');
  if (!(data.y instanceof Int32Array) || data.y.length !== n) throw new ShapeError('accuracy: targets must be an Int32Array with one class per sample');
  let right = 0;
  for (let s = 0; s < n; s += batch) {
    const idx = Array.from({ length: Math.min(batch, n - s) }, (_, j) => s + j);
    const out = await model.run({ [model.inputNames[0]]: take(data.x, idx) }, {});
    const y = out[model.outputNames[0]];
    const C = y.data.length / idx.length;
    for (let j = 0; j < idx.length; j++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (y.data[j * C + c] > y.data[j * C + best]) best = c;
      if (best === data.y[s + j]) right++;
    }
  }
  return right / n;
}

/**
 * Train `model` on `data` for `epochs` epochs of shuffled mini-batches (the last one smaller),
 * in training mode, with `optimizer` and an optional schedule; returns one row per epoch. The
 * model is left in eval mode, its run() computing with the trained weights.
 */
export async function fit(model: Model, data: Dataset, o: FitOptions): Promise<EpochResult[]> {
  const n = rows(data.x, 'data.x');
  const yn = data.y instanceof Int32Array ? data.y.length : rows(data.y, 'data.y');
  if (yn !== n) throw new ShapeError(`fit: ${n} inputs but ${yn} targets`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new ValueError(`fit: epochs must be a positive integer, got ${o.epochs}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new ValueError(`fit: batchSize must be a positive integer, got ${o.batchSize}`);
  const rng = new Rng(o.seed ?? 0);
  const order = Array.from({ length: n }, (_, i) => i);
  const batches = Math.ceil(n / o.batchSize);
  const history: EpochResult[] = [];
  const input = model.inputNames[0];
  for (let e = 0; e < o.epochs; e++) {
    model.train();
    if (o.shuffle !== false)
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    const t0 = performance.now();
    let sum = 0;
    let lr = o.optimizer.lr;
    for (let b = 0; b < batches; b++) {
      const idx = order.slice(b * o.batchSize, Math.min(n, (b + 1) * o.batchSize));
      let x = take(data.x, idx);
      if (o.augment) x = o.augment(x, e);
      const y = data.y instanceof Int32Array ? take(data.y, idx) : take(data.y, idx);
      const scale = o.schedule ? o.schedule(e + b / batches) : 1;
      lr = o.optimizer.lr * scale;
      const loss = await model.trainStep({ [input]: x }, y, o.optimizer, { ...o, lrScale: scale });
      sum += loss;
      o.onProgress?.({
        epoch: e + 1, epochs: o.epochs, batch: b + 1, batches, loss, meanLoss: sum / (b + 1), lr,
        samplesPerSecond: ((b * o.batchSize + idx.length) * 1000) / Math.max(performance.now() - t0, 1e-3),
      });
    }
    model.eval();
    const row: EpochResult = { epoch: e + 1, loss: sum / batches, lr, seconds: (performance.now() - t0) / 1000 };
    if (o.validation) row.accuracy = await accuracy(model, o.validation);
    history.push(row);
  }
  model.eval();
  return history;
}
