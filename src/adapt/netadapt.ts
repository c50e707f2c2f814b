// NetAdapt: T.-J. Yang, A. Howard, B. Chen, X. Zhang, A. Go, M. Sandler, V. Sze, H. Adam,
// "NetAdapt: Platform-Aware Neural Network Adaptation for Mobile Applications", ECCV 2018
// (Algorithm 1). Starting from a trained network, each iteration sets a latency target (the
// previous latency minus a scheduled reduction); for every prunable layer (here: every coupled
// group of layers, see couplingGroups) it proposes the network that keeps the most filters of that
// layer (removing those of smallest L2 norm) whose predicted latency (a lookup table measured on
// this machine, see latency.ts) meets the target; each proposal is fine-tuned briefly
// ("short-term") and evaluated, the best one is kept. When the budget is met the result is
// fine-tuned longer ("long-term"). The result is an ordinary Model with smaller layers.
import { ValueError } from '../errors';
import type { Graph, Tensor } from '../graph/ir';
import { compileGraph, type Model } from '../model';
import type { Dataset } from '../train/fit';
import { sgd, type Optimizer } from '../train/optim';
import { measureLatency, measureLatencyTable, predictLatency, type LatencyTable, type LatencyTableOptions } from './latency';
import { couplingGroups, filterNorms, pruneGroupChannels, strongest, type CouplingGroup } from './prune';

/** One row of netAdapt's history. */
export interface NetAdaptRow {
  /** 0 for the starting network, then 1, 2, ...; the long-term fine-tuned result is last. */
  iteration: number;
  /** 'start', 'short-term' (an iteration's chosen proposal) or 'long-term' (the result). */
  stage: 'start' | 'short-term' | 'long-term';
  /** The layers pruned in this iteration (a coupled group's members joined by '+'); '' for start and long-term. */
  layer: string;
  /** Filters removed from each of those layers in this iteration. */
  filtersRemoved: number;
  /** Filters they keep. */
  channels: number;
  /** Latency the table predicts for the network (ms). */
  predictedMs: number;
  /** Measured latency of one run of the network at the table's batch (ms; see measureLatency). */
  measuredMs: number;
  /** evaluate() of the network (after this iteration's short-term fine-tuning). */
  accuracy: number;
  /** Proposals evaluated in this iteration. */
  proposals: number;
}

/** Options of netAdapt(). */
export interface NetAdaptOptions {
  /**
   * The latency to reach: milliseconds as the table predicts them, or `{ fraction }` of the
   * starting network's latency (then the measured latency must reach that fraction of the
   * starting measured latency too).
   */
  budget: number | {
    /** Fraction of the starting latency (e.g. 0.5). */
    fraction: number;
  };
  /** Scores a network (higher is better, e.g. held-out accuracy); it is in eval mode. */
  evaluate: (model: Model) => number | Promise<number>;
  /**
   * Fine-tunes a network in place for `steps` steps. Default (needs `data`): `steps` trainStep
   * calls on shuffled mini-batches of `data` with `optimizer`.
   */
  finetune?: (model: Model, steps: number) => void | Promise<void>;
  /** Training data for the default finetune. */
  data?: Dataset;
  /** Mini-batch size of the default finetune (default 32). */
  batchSize?: number;
  /** Optimizer of the default finetune (default SGD, lr 0.01, momentum 0.9). */
  optimizer?: Optimizer;
  /** Fine-tuning steps per proposal (default 100). */
  shortTermSteps?: number;
  /** Fine-tuning steps of the result (default 1000). */
  longTermSteps?: number;
  /**
   * Latency reduction per iteration: a list of milliseconds (the last one repeats) or a geometric
   * schedule `{ initial, decay }` of fractions of the starting latency: iteration i (from 0)
   * removes initial·decay^i of it (default { initial: 0.1, decay: 0.96 }).
   */
  reductionSchedule?: number[] | {
    /** Reduction of the first iteration, as a fraction of the starting latency. */
    initial: number;
    /** Factor on the reduction from one iteration to the next. */
    decay: number;
  };
  /** A latency table made for this network (measureLatencyTable); measured here when absent. */
  table?: LatencyTable;
  /** Options of the table measured when none is given. */
  tableOptions?: LatencyTableOptions;
  /** Stop after this many iterations even if the budget is not met (default 50). */
  maxIterations?: number;
  /** Runs of each whole-network latency measurement (default 30); the batch is the table's. */
  measureRuns?: number;
  /** Called with each history row as it is made. */
  onIteration?: (row: NetAdaptRow) => void;
}

/** What netAdapt() returns. */
export interface NetAdaptResult {
  /** The adapted network: an ordinary Model (its weights in its graph; save, export, train it). */
  model: Model;
  /** One row per iteration (start, each chosen proposal, the long-term fine-tuned result). */
  history: NetAdaptRow[];
  /** The latency table used (save it with JSON.stringify to reuse it). */
  table: LatencyTable;
  /** Proposals whose fine-tuning or evaluation threw (left out of the search), with the error. */
  failures: NetAdaptFailure[];
}

/** A proposal left out because its fine-tuning or evaluation threw. */
export interface NetAdaptFailure {
  /** The iteration it was proposed in. */
  iteration: number;
  /** The layers it pruned (a coupled group's members joined by '+'). */
  layer: string;
  /** The filters they were to keep. */
  channels: number;
  /** The error's message. */
  error: string;
}

/** The graph of `model` with its current (possibly trained) weights as initializers. */
function currentGraph(model: Model): { graph: Graph; weights: Map<string, Tensor> } {
  const graph = model.sourceGraph;
  const weights = model.stateDict();
  const init = new Map(graph.initializers);
  for (const [k, t] of weights) init.set(k, t);
  // the batch axis becomes dynamic (fine-tuning and evaluation use any batch; latency is timed at
  // batch 1); other dynamic axes stay as the model's signature declares them
  const inputs = graph.inputs.map((i) => ({ ...i, shape: (model.inputSignature[i.name] ?? i.shape)?.map((d, j) => (j === 0 ? -1 : d)) }));
  return { graph: { ...graph, inputs, initializers: init }, weights };
}

/** A fresh model whose graph holds `model`'s current weights (so exportOnnx and stateDict agree). */
async function rebuild(model: Model): Promise<Model> {
  const { graph } = currentGraph(model);
  return compileGraph({ ...graph, shapes: new Map(graph.inputs.map((i) => [i.name, i.shape!.slice()])) });
}

function defaultFinetune(o: NetAdaptOptions): (model: Model, steps: number) => Promise<void> {
  const data = o.data;
  if (!data) return async () => {
    throw new ValueError('netAdapt: give either finetune or data');
  };
  const batch = o.batchSize ?? 32;
  const opt = o.optimizer ?? sgd({ lr: 0.01, momentum: 0.9 });
  const n = data.x.shape[0];
  const per = data.x.data.length / n;
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  return async (model, steps) => {
    model.train();
    const input = model.inputNames[0];
    for (let s = 0; s < steps; s++) {
      const idx = Array.from({ length: Math.min(batch, n) }, () => Math.floor(rand() * n));
      const x = new Float32Array(idx.length * per);
      idx.forEach((i, j) => x.set(data.x.data.subarray(i * per, (i + 1) * per), j * per));
      const y = data.y instanceof Int32Array
        ? Int32Array.from(idx, (i) => (data.y as Int32Array)[i])
        : (() => {
            const t = data.y as Tensor;
            const py = t.data.length / n;
            const d = new Float32Array(idx.length * py);
            idx.forEach((i, j) => d.set(t.data.subarray(i * py, (i + 1) * py), j * py));
            return { data: d, shape: [idx.length, ...t.shape.slice(1)] };
          })();
      await model.trainStep({ [input]: { data: x, shape: [idx.length, ...data.x.shape.slice(1)] } }, y, opt);
    }
    model.eval();
  };
}

/** The largest filter count of `group` whose predicted network latency is ≤ target, or 0. */
function largestKeep(table: LatencyTable, graph: Graph, weights: Map<string, Tensor>, group: CouplingGroup, target: number): number {
  const pred = (k: number) => predictLatency(table, dryPrune(graph, weights, group, k));
  let lo = 1;
  let hi = group.channels - 1;
  if (hi < 1 || pred(lo) > target) return 0;
  // latency grows with the filters kept: binary search for the last count within the target
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pred(mid) <= target) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The pruned graph's shapes only (weights empty): enough for predictLatency. */
function dryPrune(graph: Graph, weights: Map<string, Tensor>, group: CouplingGroup, k: number): Graph {
  // which channels are kept does not change latency: the first k, shapes only
  return pruneGroupChannels(graph, weights, group, Array.from({ length: k }, (_, i) => i), true).graph;
}

function reductionAt(o: NetAdaptOptions, i: number, start: number): number {
  const s = o.reductionSchedule ?? { initial: 0.1, decay: 0.96 };
  if (Array.isArray(s)) {
    if (!s.length || s.some((v) => !(v > 0))) throw new ValueError('netAdapt: reductionSchedule must list positive milliseconds');
    return s[Math.min(i, s.length - 1)];
  }
  if (!(s.initial > 0) || !(s.decay > 0)) throw new ValueError('netAdapt: reductionSchedule needs initial > 0 and decay > 0');
  return start * s.initial * s.decay ** i;
}

/**
 * Adapt `model` (a trained network) to a latency budget by NetAdapt (Yang et al. 2018): iterations
 * of per-layer filter-pruning proposals chosen with a latency lookup table measured on this
 * machine, each short-term fine-tuned and scored by `evaluate`, the best kept; then long-term
 * fine-tuning. `model` is left as it was. Returns the adapted model, the history and the table.
 */
export async function netAdapt(model: Model, o: NetAdaptOptions): Promise<NetAdaptResult> {
  if (typeof o?.evaluate !== 'function') throw new ValueError('netAdapt: options.evaluate(model) is required');
  const finetune = o.finetune ?? defaultFinetune(o);
  const shortSteps = o.shortTermSteps ?? 100;
  const longSteps = o.longTermSteps ?? 1000;
  const maxIt = o.maxIterations ?? 50;
  const runs = o.measureRuns ?? 30;
  for (const [k, v] of [['shortTermSteps', shortSteps], ['longTermSteps', longSteps], ['maxIterations', maxIt]] as const)
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`netAdapt: ${k} must be a non-negative integer, got ${v}`);
  const table = o.table ?? (await measureLatencyTable(model.sourceGraph, o.tableOptions));
  const history: NetAdaptRow[] = [];
  const emit = (r: NetAdaptRow) => {
    history.push(r);
    o.onIteration?.(r);
  };
  let cur = await rebuild(model);
  const startPred = predictLatency(table, cur.sourceGraph);
  const startMeasured = measureLatency(cur, runs, table.batch);
  const budget = typeof o.budget === 'number' ? o.budget : startPred * o.budget.fraction;
  const measuredBudget = typeof o.budget === 'number' ? Infinity : startMeasured * o.budget.fraction;
  if (!(budget > 0)) throw new ValueError(`netAdapt: budget must be positive, got ${JSON.stringify(o.budget)}`);
  emit({ iteration: 0, stage: 'start', layer: '', filtersRemoved: 0, channels: 0, predictedMs: startPred, measuredMs: startMeasured, accuracy: await o.evaluate(cur), proposals: 0 });
  let pred = startPred;
  let measured = startMeasured;
  const failures: NetAdaptResult['failures'] = [];
  for (let it = 1; it <= maxIt && (pred > budget || measured > measuredBudget); it++) {
    const { graph, weights } = currentGraph(cur);
    const groups = couplingGroups(graph, weights).filter((g) => g.prunable);
    // the paper's target: previous latency minus the scheduled reduction; when no single layer
    // can reach it (per-layer fixed costs), the reduction is halved, up to 4 times
    let reduction = reductionAt(o, it - 1, startPred);
    let keeps: number[] = [];
    for (let tries = 0; tries < 5; tries++, reduction /= 2) {
      // (once the prediction is within budget, only the measured latency still needs cutting)
      const target = pred > budget ? Math.max(budget, pred - reduction) : pred - reduction;
      keeps = groups.map((g) => largestKeep(table, graph, weights, g, target));
      if (keeps.some((k) => k > 0)) break;
    }
    let best: { model: Model; acc: number; group: CouplingGroup; keep: number; pred: number } | undefined;
    let proposals = 0;
    for (const [gi, group] of groups.entries()) {
      const k = keeps[gi];
      if (k < 1) continue;
      const keep = strongest(filterNorms(graph, weights, group), k);
      const p = pruneGroupChannels(graph, weights, group, keep);
      const m = await compileGraph(p.graph);
      proposals++;
      let acc: number;
      try {
        await finetune(m, shortSteps);
        m.eval();
        acc = await o.evaluate(m);
      } catch (e) {
        // one failing proposal does not end the search: it is reported and left out
        m.dispose();
        failures.push({ iteration: it, layer: group.layers.join('+'), channels: k, error: String((e as Error)?.message ?? e) });
        continue;
      }
      if (!best || acc > best.acc) {
        best?.model.dispose();
        best = { model: m, acc, group, keep: k, pred: predictLatency(table, p.graph) };
      } else m.dispose();
    }
    if (!best) break; // no layer can reach the target
    cur.dispose();
    cur = await rebuild(best.model);
    best.model.dispose();
    pred = best.pred;
    measured = measureLatency(cur, runs, table.batch);
    emit({
      iteration: it, stage: 'short-term', layer: best.group.layers.join('+'), filtersRemoved: best.group.channels - best.keep,
      channels: best.keep, predictedMs: pred, measuredMs: measured, accuracy: best.acc, proposals,
    });
  }
  if (longSteps > 0) {
    await finetune(cur, longSteps);
    cur.eval();
    const next = await rebuild(cur);
    cur.dispose();
    cur = next;
  }
  // measured on the fresh model, as every row (plans made for evaluate()'s batches can slow it)
  const finalMs = measureLatency(cur, runs, table.batch);
  emit({
    iteration: history.length, stage: 'long-term', layer: '', filtersRemoved: 0, channels: 0,
    predictedMs: predictLatency(table, cur.sourceGraph), measuredMs: finalMs, accuracy: await o.evaluate(cur), proposals: 0,
  });
  // the model's last plan is then at the table's batch (exportOnnx writes the last planned shape)
  measureLatency(cur, 1, table.batch);
  return { model: cur, history, table, failures };
}
