// Latency-aware neural architecture search over a MobileNet-style space, after
// M. Tan, B. Chen, R. Pang, V. Vasudevan, M. Sandler, A. Howard, Q. V. Le, "MnasNet:
// Platform-Aware Neural Architecture Search for Mobile", CVPR 2019: a factorized hierarchical
// space (per stage: depthwise kernel, expansion ratio, squeeze-and-excitation on/off, number of
// blocks; fixed stem, stage widths and strides, head) and the reward ACC(m) · [LAT(m)/T]^w
// (Sec. 3.1, Eq. 2: w = α when LAT ≤ T else β; soft α = β = −0.07, hard α = 0, β = −1). The
// search is regularized ("aging") evolution, E. Real, A. Aggarwal, Y. Huang, Q. V. Le,
// "Regularized Evolution for Image Classifier Architecture Search", AAAI 2019, Algorithm 1, with
// random search on the same budget as the baseline. Latency is predicted from a lookup table,
// as NetAdapt's (latency.ts) but per block: every (stage position, block choice, input shape)
// of the space is measured once with the engine's own kernels and a network's prediction is the
// sum of its blocks' entries; accuracy comes from a short training proxy (a few hundred steps of
// Adam from PyTorch-default initial weights, scored on held-out data). The Pareto front is the
// set of candidates no other one beats on both latency (lower) and accuracy (higher).
import { GraphBuilder } from '../builder';
import { ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import type { Model } from '../model';
import { convBnAct, invertedResidual, type Act } from '../../models/blocks/index';
import { accuracy as accuracyOf, type Dataset } from '../train/fit';
import { initWeights } from '../train/init';
import { adam } from '../train/optim';
import { Rng } from '../train/rng';
import { filler, interleavedMinimum, machineName, measureLatency } from './latency';

/** One stage of a {@link NasSpace}: its fixed width and stride, and the choices searched. */
export interface NasStageSpace {
  /** Output channels of every block of the stage (fixed). */
  out: number;
  /** Stride of the stage's first block (the others have stride 1; fixed). */
  stride: number;
  /** Depthwise kernel sizes to choose from (default [3, 5, 7]). */
  kernels?: number[];
  /** Expansion ratios to choose from: hidden channels = input channels · ratio (default [3, 6]). */
  expansions?: number[];
  /** Squeeze-and-excitation choices (default [false, true]). */
  se?: boolean[];
  /** Numbers of blocks to choose from (default [1, 2, 3]). */
  depths?: number[];
}

/** A MobileNet-style search space: fixed stem, stages of searched inverted-residual blocks, fixed head. */
export interface NasSpace {
  /** Input channels (1 for MNIST digits). */
  inputChannels: number;
  /** Input height and width (square). */
  inputSize: number;
  /** The stem: a conv + BatchNorm + activation (kernel default 3, stride default 2). */
  stem: {
    /** Output channels. */
    out: number;
    /** Kernel size (default 3). */
    kernel?: number;
    /** Stride (default 2). */
    stride?: number;
  };
  /** The searched stages, in order. */
  stages: NasStageSpace[];
  /** The head: an optional 1x1 conv + BN + activation (`out` channels; 0: none), global average pool, linear classifier. */
  head: {
    /** Channels of the 1x1 conv before pooling (0: none). */
    out: number;
    /** Classes of the classifier. */
    classes: number;
  };
  /** Activation of the stem, blocks and head (default 'relu', as MnasNet). */
  act?: Act;
}

/** The choices made for one stage. */
export interface NasStageChoice {
  /** Depthwise kernel size. */
  kernel: number;
  /** Expansion ratio. */
  expansion: number;
  /** Squeeze-and-excitation on. */
  se: boolean;
  /** Number of blocks. */
  depth: number;
}

/** An architecture of a space: one choice per stage. */
export type NasArch = NasStageChoice[];

const DIMS = ['kernel', 'expansion', 'se', 'depth'] as const;
type Dim = (typeof DIMS)[number];

function options(s: NasStageSpace): { kernel: number[]; expansion: number[]; se: boolean[]; depth: number[] } {
  return { kernel: s.kernels ?? [3, 5, 7], expansion: s.expansions ?? [3, 6], se: s.se ?? [false, true], depth: s.depths ?? [1, 2, 3] };
}

/**
 * The space of the example and tests: a 3x3 stride-2 stem of 8 channels, four stages of widths
 * 16, 24, 40, 64 (strides 2, 1, 2, 1) with kernel ∈ {3, 5, 7}, expansion ∈ {3, 6}, SE on/off and
 * depth ∈ {1, 2, 3} each, a 1x1 conv to 128 channels, global pooling and a linear classifier.
 * Defaults: 1-channel 32x32 input (MNIST digits padded), 10 classes.
 */
export function nasSpace(o: { inputChannels?: number; inputSize?: number; classes?: number } = {}): NasSpace {
  return {
    inputChannels: o.inputChannels ?? 1,
    inputSize: o.inputSize ?? 32,
    stem: { out: 8, kernel: 3, stride: 2 },
    stages: [
      { out: 16, stride: 2 },
      { out: 24, stride: 1 },
      { out: 40, stride: 2 },
      { out: 64, stride: 1 },
    ],
    head: { out: 128, classes: o.classes ?? 10 },
  };
}

function checkSpace(space: NasSpace): void {
  const pos = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!space || !pos(space.inputChannels) || !pos(space.inputSize) || !pos(space.stem?.out) || !Array.isArray(space.stages) || !space.stages.length)
    throw new ValueError('NAS: the space needs positive inputChannels, inputSize, stem.out and at least one stage');
  if (!pos(space.head?.classes) || !(Number.isInteger(space.head.out) && space.head.out >= 0))
    throw new ValueError('NAS: head.classes must be a positive integer and head.out a non-negative one');
  space.stages.forEach((s, i) => {
    const o = options(s);
    if (!pos(s.out) || !pos(s.stride)) throw new ValueError(`NAS: stage ${i} needs positive integer out and stride`);
    for (const d of DIMS) if (!Array.isArray(o[d]) || !o[d].length) throw new ValueError(`NAS: stage ${i} has no ${d} choices`);
    if (o.kernel.some((k) => !pos(k) || k % 2 === 0)) throw new ValueError(`NAS: stage ${i}: kernels must be odd positive integers`);
    if (o.expansion.some((e) => !pos(e)) || o.depth.some((d) => !pos(d))) throw new ValueError(`NAS: stage ${i}: expansions and depths must be positive integers`);
  });
}

/** True when `arch` has one choice per stage of `space`, each among the stage's options. */
export function archInSpace(arch: NasArch, space: NasSpace): boolean {
  if (!Array.isArray(arch) || arch.length !== space.stages.length) return false;
  return arch.every((c, i) => {
    const o = options(space.stages[i]);
    return DIMS.every((d) => (o[d] as unknown[]).includes(c?.[d]));
  });
}

function checkArch(arch: NasArch, space: NasSpace): void {
  if (!archInSpace(arch, space)) throw new ValueError(`NAS: architecture ${JSON.stringify(arch)} is not in the space`);
}

/** A short readable name: one `k<kernel>e<expansion>d<depth>` per stage, `+se` when SE is on (e.g. "k3e6d2 k5e3d1+se"). */
export function archKey(arch: NasArch): string {
  return arch.map((c) => `k${c.kernel}e${c.expansion}d${c.depth}${c.se ? '+se' : ''}`).join(' ');
}

/** Number of architectures in `space` (the product of every stage's choice counts). */
export function spaceSize(space: NasSpace): number {
  return space.stages.reduce((p, s) => {
    const o = options(s);
    return p * DIMS.reduce((q, d) => q * o[d].length, 1);
  }, 1);
}

/** An architecture drawn uniformly from `space`; `random` gives uniform numbers in [0, 1) (e.g. a seeded generator). */
export function randomArch(space: NasSpace, random: () => number): NasArch {
  return space.stages.map((s) => {
    const o = options(s);
    return { kernel: pick(o.kernel, random), expansion: pick(o.expansion, random), se: pick(o.se, random), depth: pick(o.depth, random) };
  });
}

/** A uniform integer in [0, n). */
const below = (n: number, random: () => number) => Math.min(n - 1, Math.floor(random() * n));

function pick<T>(a: T[], random: () => number): T {
  return a[below(a.length, random)];
}

/**
 * Regularized evolution's mutation: one (stage, choice) pair drawn uniformly among those with
 * more than one option, set to a different option drawn uniformly; the rest is copied. The
 * child always differs from the parent (the paper's "identity" mutation is left out); when no
 * choice has two options the parent is returned as a copy. `random` gives uniform numbers in [0, 1).
 */
export function mutateArch(arch: NasArch, space: NasSpace, random: () => number): NasArch {
  const slots: [number, Dim][] = [];
  space.stages.forEach((s, i) => {
    const o = options(s);
    for (const d of DIMS) if (new Set(o[d] as unknown[]).size > 1) slots.push([i, d]);
  });
  const child = arch.map((c) => ({ ...c }));
  if (!slots.length) return child;
  const [i, d] = slots[below(slots.length, random)];
  const others = (options(space.stages[i])[d] as unknown[]).filter((v) => v !== arch[i][d]);
  (child[i] as unknown as Record<Dim, unknown>)[d] = others[below(others.length, random)];
  return child;
}

const outSize = (n: number, k: number, s: number) => Math.floor((n + 2 * ((k - 1) >> 1) - k) / s) + 1;

/** One measured unit of a network: the stem, one block, or the head, at its input shape. */
interface Unit {
  key: string;
  kind: 'stem' | 'block' | 'head';
  /** input [C, H, W] */
  input: [number, number, number];
  /** builds the unit on x under prefix; returns the output */
  build: (b: GraphBuilder, x: string, prefix: string) => string;
}

function stemUnit(space: NasSpace): Unit {
  const k = space.stem.kernel ?? 3;
  const s = space.stem.stride ?? 2;
  const a = space.act ?? 'relu';
  const C = space.inputChannels;
  const S = space.inputSize;
  return {
    key: `stem|c${C}>${space.stem.out}|${S}x${S}|k${k}|s${s}|${a}`, kind: 'stem', input: [C, S, S],
    build: (b, x, p) => convBnAct(b, x, { conv: `${p}.0`, bn: `${p}.1` }, { out: space.stem.out, kernel: k, stride: s, pad: (k - 1) >> 1 }, a),
  };
}

function blockUnit(space: NasSpace, cin: number, hw: number, out: number, stride: number, c: NasStageChoice): Unit {
  const a = space.act ?? 'relu';
  return {
    key: `block|c${cin}>${out}|${hw}x${hw}|k${c.kernel}|e${c.expansion}|s${stride}|${c.se ? 'se' : 'nose'}|${a}`, kind: 'block', input: [cin, hw, hw],
    // MobileNetV3's inverted residual (torchvision layout): 1x1 expand, kxk depthwise, SE squeezing
    // to makeDivisible(hidden / 4, 8) with a hard-sigmoid gate, 1x1 linear projection, residual
    // when the stride is 1 and the widths agree
    build: (b, x, p) => invertedResidual(b, x, p, { out, expanded: cin * c.expansion, kernel: c.kernel, stride, act: a, layout: 'v3', se: c.se }),
  };
}

function headUnit(space: NasSpace, cin: number, hw: number): Unit {
  const a = space.act ?? 'relu';
  const { out, classes } = space.head;
  return {
    key: `head|c${cin}>${out}|${hw}x${hw}|n${classes}|${a}`, kind: 'head', input: [cin, hw, hw],
    build: (b, x) => {
      let y = out > 0 ? convBnAct(b, x, { conv: 'head.0', bn: 'head.1' }, { out, kernel: 1 }, a) : x;
      y = b.flatten(b.globalAvgPool(y));
      return b.linear(y, 'classifier', classes);
    },
  };
}

/** The units of `arch` in order: stem, every block (prefix `stages.<i>.<j>`), head. */
function unitsOf(arch: NasArch, space: NasSpace): { unit: Unit; prefix: string }[] {
  const out: { unit: Unit; prefix: string }[] = [{ unit: stemUnit(space), prefix: 'stem' }];
  let C = space.stem.out;
  let hw = outSize(space.inputSize, space.stem.kernel ?? 3, space.stem.stride ?? 2);
  space.stages.forEach((s, i) => {
    for (let j = 0; j < arch[i].depth; j++) {
      const stride = j === 0 ? s.stride : 1;
      out.push({ unit: blockUnit(space, C, hw, s.out, stride, arch[i]), prefix: `stages.${i}.${j}` });
      C = s.out;
      hw = outSize(hw, arch[i].kernel, stride);
    }
  });
  out.push({ unit: headUnit(space, C, hw), prefix: 'head' });
  return out;
}

/** The lookup-table keys `arch`'s latency is the sum of: stem, each block in order, head. */
export function archTableKeys(arch: NasArch, space: NasSpace): string[] {
  checkSpace(space);
  checkArch(arch, space);
  return unitsOf(arch, space).map((u) => u.unit.key);
}

/**
 * Every unit any architecture of `space` can contain: the stem, per stage the first block (the
 * stage's stride, input width of the previous stage) and, when a depth above 1 is allowed, the
 * following blocks (stride 1, residual), each under every (kernel, expansion, SE) choice, and the
 * head. Widths and strides are fixed, so a unit's input shape depends only on its stage position.
 */
function allUnits(space: NasSpace): Unit[] {
  checkSpace(space);
  const units = new Map<string, Unit>();
  const add = (u: Unit) => units.has(u.key) || units.set(u.key, u);
  add(stemUnit(space));
  let C = space.stem.out;
  let hw = outSize(space.inputSize, space.stem.kernel ?? 3, space.stem.stride ?? 2);
  for (const s of space.stages) {
    const o = options(s);
    const next = new Set<number>();
    for (const kernel of o.kernel)
      for (const expansion of o.expansion)
        for (const se of o.se) {
          const c = { kernel, expansion, se, depth: 1 };
          add(blockUnit(space, C, hw, s.out, s.stride, c));
          const hw1 = outSize(hw, kernel, s.stride);
          next.add(hw1);
          if (o.depth.some((d) => d > 1)) for (const k2 of o.kernel) add(blockUnit(space, s.out, hw1, s.out, 1, { ...c, kernel: k2 }));
        }
    // with odd kernels padded by (k − 1) / 2 the output size does not depend on the kernel
    if (next.size !== 1) throw new ValueError('NAS: a stage\'s output size depends on its kernel choice');
    C = s.out;
    hw = [...next][0];
  }
  add(headUnit(space, C, hw));
  return [...units.values()];
}

/** Every key a latency table for `space` holds (see {@link measureNasTable}). */
export function nasTableKeys(space: NasSpace): string[] {
  return allUnits(space).map((u) => u.key);
}

/** A per-block latency lookup table for a NAS space (plain JSON). */
export interface NasLatencyTable {
  /** Format version. */
  version: 1;
  /** Marks a per-block NAS table (NetAdapt's per-layer tables have no kind). */
  kind: 'nas-blocks';
  /** Where it was measured (runtime and version). */
  machine: string;
  /** Batch size the units were timed at. */
  batch: number;
  /** Milliseconds by unit key (stem, block signature, head). */
  ms: Record<string, number>;
}

/** Options of {@link measureNasTable}. */
export interface NasTableOptions {
  /** Batch size the units are timed at (default 1). */
  batch?: number;
  /** profile() runs per measurement (default 5). */
  runs?: number;
  /** Interleaved rounds over all units; each unit's smallest round is kept (default 3). */
  rounds?: number;
  /** A saved table: keys found there (at the same batch) are not measured again. */
  reuse?: NasLatencyTable;
  /** Called after each unit is compiled (done, total), then once more when timing ends. */
  onProgress?: (done: number, total: number) => void;
}

/** A graph of one unit alone, at input [batch, C, H, W]. */
function unitBuilder(u: Unit, batch: number): GraphBuilder {
  const b = new GraphBuilder();
  const x = b.input('input', [batch, ...u.input]);
  b.output(u.build(b, x, u.kind === 'block' ? 'blk' : u.kind), 'y');
  return b;
}

/**
 * A unit's time from one profile(): the sum of its own steps. The micro model's layout steps
 * (NCHW → NHWC at its input, back at its output) and its output copy are left out, since inside
 * a network they do not happen between blocks, except the input conversion of the stem and the
 * output steps of the head, which the whole network runs too.
 */
function unitTime(m: Model, x: Tensor, runs: number, kind: Unit['kind']): number {
  const rows = m.profile({ input: x }, { runs });
  const edge = (op: string) => op.startsWith('_') || op === 'Identity';
  let first = 0;
  while (first < rows.length && edge(rows[first].op)) first++;
  let last = rows.length - 1;
  while (last >= first && edge(rows[last].op)) last--;
  let ms = 0;
  rows.forEach((r, i) => {
    if ((i >= first && i <= last) || (i < first && kind === 'stem') || (i > last && kind === 'head')) ms += r.ms;
  });
  return ms;
}

/**
 * Measure the per-block latency table of `space` on this machine with the engine's own kernels:
 * every unit (stem, each block choice at each stage position and input shape, head) compiled
 * alone and timed with profile(), all units interleaved over rounds, the smallest round kept
 * (the machinery of NetAdapt's tables, latency.ts). A network's predicted latency is then the sum
 * of its units' entries ({@link predictNasLatency}).
 */
export async function measureNasTable(space: NasSpace, o: NasTableOptions = {}): Promise<NasLatencyTable> {
  const batch = o.batch ?? 1;
  const runs = o.runs ?? 5;
  const rounds = o.rounds ?? 3;
  for (const [k, v] of [['batch', batch], ['runs', runs], ['rounds', rounds]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`measureNasTable: ${k} must be a positive integer, got ${v}`);
  const table: NasLatencyTable = { version: 1, kind: 'nas-blocks', machine: machineName(), batch, ms: {} };
  const todo: Unit[] = [];
  for (const u of allUnits(space)) {
    const old = o.reuse?.batch === batch ? o.reuse.ms[u.key] : undefined;
    if (old !== undefined) table.ms[u.key] = old;
    else todo.push(u);
  }
  const points: { m: Model; x: Tensor; kind: Unit['kind'] }[] = [];
  try {
    for (const u of todo) {
      const b = unitBuilder(u, batch);
      const m = await b.build(initWeights(b.weightShapes(), { seed: 1 }));
      const shape = [batch, ...u.input];
      points.push({ m, x: { data: filler(shape.reduce((p, q) => p * q, 1), 3), shape }, kind: u.kind });
      o.onProgress?.(points.length, todo.length);
    }
    const best = interleavedMinimum(points.length, rounds, (k) => unitTime(points[k].m, points[k].x, runs, points[k].kind));
    todo.forEach((u, k) => (table.ms[u.key] = best[k]));
  } finally {
    for (const p of points) p.m.dispose();
  }
  o.onProgress?.(todo.length, todo.length);
  return table;
}

/** A NAS table from its JSON text (as written by JSON.stringify(table)), checked. */
export function nasTableFromJSON(text: string): NasLatencyTable {
  const t = JSON.parse(text) as NasLatencyTable;
  if (!t || t.version !== 1 || t.kind !== 'nas-blocks' || !Number.isInteger(t.batch) || typeof t.ms !== 'object' || t.ms === null)
    throw new ValueError('nasTableFromJSON: not a version-1 NAS latency table');
  for (const [k, v] of Object.entries(t.ms)) if (typeof v !== 'number' || !(v >= 0)) throw new ValueError(`nasTableFromJSON: entry '${k}' is not a non-negative number`);
  return t;
}

/** Predicted latency (ms) of `arch`: the sum of its units' table entries (stem, blocks, head). */
export function predictNasLatency(table: NasLatencyTable, arch: NasArch, space: NasSpace): number {
  let sum = 0;
  for (const k of archTableKeys(arch, space)) {
    const v = table.ms[k];
    if (v === undefined) throw new ValueError(`predictNasLatency: the table has no entry '${k}' (measured for another space?)`);
    sum += v;
  }
  return sum;
}

/**
 * The candidate network of `arch` as a GraphBuilder (weights not bound): stem (`stem.0` conv,
 * `stem.1` BN), blocks `stages.<i>.<j>` (MobileNetV3's inverted residual from the public blocks,
 * torchvision names), head (`head.0`, `head.1`), `classifier`; input 'input' [batch, C, S, S],
 * output 'logits'.
 */
export function buildCandidate(arch: NasArch, space: NasSpace, o: { batch?: number } = {}): GraphBuilder {
  checkSpace(space);
  checkArch(arch, space);
  const b = new GraphBuilder();
  let x = b.input('input', [o.batch ?? 1, space.inputChannels, space.inputSize, space.inputSize]);
  for (const { unit, prefix } of unitsOf(arch, space)) x = unit.build(b, x, prefix);
  b.output(x, 'logits');
  return b;
}

/**
 * The candidate of `arch` compiled with PyTorch-default initial weights (initWeights, `seed`),
 * as networks are trained from scratch: a dynamic batch axis unless `batch` is given.
 */
export async function candidateModel(arch: NasArch, space: NasSpace, o: { seed?: number; batch?: number } = {}): Promise<Model> {
  const b = buildCandidate(arch, space, { batch: o.batch ?? 1 });
  return b.build(initWeights(b.weightShapes(), { seed: o.seed ?? 0 }), o.batch === undefined ? { dynamicAxes: { input: [0] } } : {});
}

/** One architecture's predicted and measured latency. */
export interface NasLatencyCheck {
  /** The architecture. */
  arch: NasArch;
  /** The table's prediction (ms). */
  predictedMs: number;
  /** The whole network's measured latency (ms; measureLatency at the table's batch). */
  measuredMs: number;
  /** (predicted − measured) / measured. */
  error: number;
}

/** What {@link nasPredictionError} returns. */
export interface NasPredictionReport {
  /** One row per architecture. */
  rows: NasLatencyCheck[];
  /** Mean of |error|. */
  meanAbsError: number;
  /** Largest |error|. */
  maxAbsError: number;
  /** Mean signed error (positive: the table over-predicts). */
  meanError: number;
}

/**
 * How well the table predicts whole networks: each of `archs` compiled at the table's batch and
 * timed (measureLatency, `runs` runs), against the sum of its table entries.
 */
export async function nasPredictionError(table: NasLatencyTable, archs: NasArch[], space: NasSpace, runs = 20): Promise<NasPredictionReport> {
  const rows: NasLatencyCheck[] = [];
  for (const arch of archs) {
    const predictedMs = predictNasLatency(table, arch, space);
    const m = await candidateModel(arch, space, { batch: table.batch });
    let measuredMs: number;
    try {
      measuredMs = measureLatency(m, runs, table.batch);
    } finally {
      m.dispose();
    }
    rows.push({ arch, predictedMs, measuredMs, error: (predictedMs - measuredMs) / measuredMs });
  }
  return summarizeErrors(rows);
}

function summarizeErrors(rows: NasLatencyCheck[]): NasPredictionReport {
  const abs = rows.map((r) => Math.abs(r.error));
  const n = Math.max(1, rows.length);
  return { rows, meanAbsError: abs.reduce((a, b) => a + b, 0) / n, maxAbsError: Math.max(0, ...abs), meanError: rows.reduce((a, r) => a + r.error, 0) / n };
}

/**
 * MnasNet's objective: 'soft' (α = β = −0.07: latency traded for accuracy on both sides of the
 * target), 'hard' (α = 0, β = −1: no reward for being faster than the target, a steep penalty
 * above it), or explicit exponents.
 */
export type MnasObjective = 'soft' | 'hard' | {
  /** Exponent when latency ≤ target. */
  alpha: number;
  /** Exponent when latency > target. */
  beta: number;
};

/**
 * MnasNet's reward (Tan et al. 2019, Eq. 2): accuracy · (latency / target)^w with w = α when
 * latency ≤ target, else β (see {@link MnasObjective}; default 'soft').
 */
export function mnasReward(accuracy: number, latency: number, target: number, objective: MnasObjective = 'soft'): number {
  if (!(target > 0) || !(latency > 0)) throw new ValueError(`mnasReward: latency and target must be positive, got ${latency} and ${target}`);
  const { alpha, beta } = objective === 'soft' ? { alpha: -0.07, beta: -0.07 } : objective === 'hard' ? { alpha: 0, beta: -1 } : objective;
  return accuracy * (latency / target) ** (latency <= target ? alpha : beta);
}

/** A point for {@link paretoFront}. */
export interface ParetoPoint {
  /** Lower is better. */
  latency: number;
  /** Higher is better. */
  accuracy: number;
}

/**
 * Indices of the non-dominated points (no other point has latency ≤ and accuracy ≥ with one of
 * them strict), by ascending latency; of points equal in both, the first is kept.
 */
export function paretoFront(points: ParetoPoint[]): number[] {
  const order = points.map((_, i) => i).sort((a, b) => points[a].latency - points[b].latency || points[b].accuracy - points[a].accuracy || a - b);
  const front: number[] = [];
  let best = -Infinity;
  for (const i of order)
    if (points[i].accuracy > best) {
      front.push(i);
      best = points[i].accuracy;
    }
  return front;
}

/** The training proxy's settings (see {@link proxyEvaluator}). */
export interface NasProxyOptions {
  /** Training data (e.g. a few thousand digits). */
  train: Dataset;
  /** Held-out data the accuracy is measured on. */
  validation: Dataset;
  /** Training steps (default 150). */
  steps?: number;
  /** Mini-batch size (default 32). */
  batchSize?: number;
  /** Adam's learning rate, decayed to 0 by a half cosine over the steps (default 3e-3). */
  lr?: number;
  /** Seed of the mini-batch draws (default 0): every candidate sees the same batches. */
  seed?: number;
}

/**
 * The short training proxy of accuracy: `steps` Adam steps on mini-batches drawn from `train`
 * (the same sequence for every candidate), then accuracy on `validation`. Returns an
 * `evaluate(arch, model)` for {@link nasSearch}; the model is trained in place.
 */
export function proxyEvaluator(o: NasProxyOptions): (arch: NasArch, model: Model) => Promise<number> {
  const steps = o.steps ?? 150;
  const batch = o.batchSize ?? 32;
  const lr = o.lr ?? 3e-3;
  if (!Number.isInteger(steps) || steps < 0 || !Number.isInteger(batch) || batch < 1) throw new ValueError('proxyEvaluator: steps must be a non-negative and batchSize a positive integer');
  if (!(o.train?.y instanceof Int32Array)) throw new ValueError('proxyEvaluator: train.y must hold class indices (Int32Array)');
  const n = o.train.x.shape[0];
  const per = o.train.x.data.length / n;
  return async (_arch, model) => {
    const rng = new Rng(o.seed ?? 0);
    const opt = adam({ lr });
    const labels = o.train.y as Int32Array;
    model.train();
    for (let s = 0; s < steps; s++) {
      const B = Math.min(batch, n);
      const idx = Array.from({ length: B }, () => rng.int(0, n));
      const x = new Float32Array(B * per);
      idx.forEach((i, j) => x.set(o.train.x.data.subarray(i * per, (i + 1) * per), j * per));
      await model.trainStep({ [model.inputNames[0]]: { data: x, shape: [B, ...o.train.x.shape.slice(1)] } }, Int32Array.from(idx, (i) => labels[i]), opt, {
        lrScale: 0.5 * (1 + Math.cos((Math.PI * s) / steps)),
      });
    }
    model.eval();
    return accuracyOf(model, o.validation);
  };
}

/** One evaluated candidate of a search. */
export interface NasCandidate {
  /** Position in the search's evaluation order, from 0. */
  index: number;
  /** The search that proposed it. */
  strategy: 'evolution' | 'random';
  /** The architecture. */
  arch: NasArch;
  /** archKey(arch). */
  key: string;
  /** Index of the parent it was mutated from (evolution's children; absent for random draws). */
  parent?: number;
  /** Latency the table predicts (ms). */
  predictedMs: number;
  /** Measured whole-network latency (ms), when the search measures. */
  measuredMs?: number;
  /** Proxy accuracy (or the user's evaluate score). */
  accuracy: number;
  /** MnasNet reward of accuracy and predicted latency. */
  reward: number;
  /** Trainable parameters, when a model was built. */
  params?: number;
  /** True when the architecture had been evaluated before in this search and its score was reused. */
  cached: boolean;
}

/** Options of {@link nasSearch}. */
export interface NasSearchOptions {
  /** The search space. */
  space: NasSpace;
  /** Latency target T (ms, as the table predicts it). */
  target: number;
  /** 'evolution' (regularized evolution, default) or 'random' (the baseline on the same budget). */
  strategy?: 'evolution' | 'random';
  /** Population size P: the first P candidates are random (default 16). */
  population?: number;
  /** Tournament sample size S, drawn without replacement from the population (default 4). */
  sample?: number;
  /** Evolution cycles C after the initial population: P + C candidates are evaluated in all (default 32). */
  cycles?: number;
  /** Seed of every random draw of the search (default 0). */
  seed?: number;
  /** Reward objective (default 'soft'). */
  objective?: MnasObjective;
  /** The latency table; measured with tableOptions when absent. */
  table?: NasLatencyTable;
  /** Options of the table measured when none is given. */
  tableOptions?: NasTableOptions;
  /** Scores a built, untrained candidate (e.g. trains it briefly and returns held-out accuracy). */
  evaluate?: (arch: NasArch, model: Model) => number | Promise<number>;
  /** Scores an architecture without building it (for search experiments with a known score). */
  score?: (arch: NasArch) => number | Promise<number>;
  /** The default training proxy (proxyEvaluator) on this data, when neither evaluate nor score is given. */
  proxy?: NasProxyOptions;
  /** Seed of the candidates' initial weights (default 0). */
  weightSeed?: number;
  /** Also measure each new candidate's whole-network latency, with this many runs (default 0: do not). */
  measureRuns?: number;
  /** Reuse the score of an architecture evaluated before in this search (default true). */
  cache?: boolean;
  /** Called with each candidate as it is evaluated. */
  onCandidate?: (c: NasCandidate) => void;
}

/** What {@link nasSearch} returns. */
export interface NasSearchResult {
  /** Every evaluated candidate, in order (P + C of them). */
  candidates: NasCandidate[];
  /** The Pareto front (predicted latency ↓, accuracy ↑), by ascending latency. */
  front: NasCandidate[];
  /** The candidate of highest reward (the first of equals). */
  best: NasCandidate;
  /** Evolution: the population when the search ended (the last P candidates); random: empty. */
  population: NasCandidate[];
  /** The latency table used. */
  table: NasLatencyTable;
}

/**
 * Latency-aware architecture search (MnasNet's reward over a MobileNet-style space): regularized
 * evolution (Real et al. 2019, Algorithm 1: a population of P random candidates; each cycle a
 * sample of S drawn from it, the highest-reward one mutated in one choice, the child evaluated
 * and appended, the oldest member removed) or random search with the same number of candidates.
 * Latency is predicted from a per-block table; accuracy from `evaluate`, `score` or the default
 * training proxy. Seeded: the same options give the same search.
 */
export async function nasSearch(o: NasSearchOptions): Promise<NasSearchResult> {
  checkSpace(o.space);
  const P = o.population ?? 16;
  const S = o.sample ?? 4;
  const C = o.cycles ?? 32;
  const strategy = o.strategy ?? 'evolution';
  if (strategy !== 'evolution' && strategy !== 'random') throw new ValueError(`nasSearch: strategy must be 'evolution' or 'random', got '${String(strategy)}'`);
  if (!Number.isInteger(P) || P < 1 || !Number.isInteger(C) || C < 0) throw new ValueError('nasSearch: population must be a positive and cycles a non-negative integer');
  if (!Number.isInteger(S) || S < 1 || S > P) throw new ValueError(`nasSearch: sample must be an integer in 1..population (${P}), got ${S}`);
  if (!(o.target > 0)) throw new ValueError(`nasSearch: target must be a positive latency in ms, got ${o.target}`);
  const evaluate = o.evaluate ?? (o.score || !o.proxy ? undefined : proxyEvaluator(o.proxy));
  if (!evaluate && !o.score) throw new ValueError('nasSearch: give evaluate(arch, model), score(arch) or proxy data');
  const table = o.table ?? (await measureNasTable(o.space, o.tableOptions));
  const runs = o.measureRuns ?? 0;
  const gen = new Rng(o.seed ?? 0);
  const rng = () => gen.next();
  const seen = new Map<string, NasCandidate>();
  const candidates: NasCandidate[] = [];

  const evalArch = async (arch: NasArch, parent?: number): Promise<NasCandidate> => {
    const key = archKey(arch);
    const predictedMs = predictNasLatency(table, arch, o.space);
    const old = o.cache === false ? undefined : seen.get(key);
    let c: NasCandidate;
    if (old) {
      c = { ...old, index: candidates.length, strategy, arch, parent, cached: true };
    } else {
      let acc: number;
      let params: number | undefined;
      let measuredMs: number | undefined;
      if (runs > 0) {
        // a fresh compile at the table's batch, as nasPredictionError times them
        const m = await candidateModel(arch, o.space, { batch: table.batch, seed: o.weightSeed });
        try {
          measuredMs = measureLatency(m, runs, table.batch);
        } finally {
          m.dispose();
        }
      }
      if (evaluate) {
        const m = await candidateModel(arch, o.space, { seed: o.weightSeed });
        try {
          params = m.paramCount;
          acc = await evaluate(arch, m);
        } finally {
          m.dispose();
        }
      } else acc = await o.score!(arch);
      if (!Number.isFinite(acc)) throw new ValueError(`nasSearch: the score of ${key} is ${acc}`);
      c = { index: candidates.length, strategy, arch, key, parent, predictedMs, measuredMs, accuracy: acc, reward: 0, params, cached: false };
      c.reward = mnasReward(acc, predictedMs, o.target, o.objective);
      seen.set(key, c);
    }
    if (parent === undefined) delete c.parent;
    candidates.push(c);
    o.onCandidate?.(c);
    return c;
  };

  const population: NasCandidate[] = [];
  if (strategy === 'random') {
    for (let i = 0; i < P + C; i++) await evalArch(randomArch(o.space, rng));
  } else {
    while (population.length < P) population.push(await evalArch(randomArch(o.space, rng)));
    for (let cycle = 0; cycle < C; cycle++) {
      // tournament: S distinct members, the highest reward (the oldest of equals) is the parent
      const pool = population.map((_, i) => i);
      let parent: NasCandidate | undefined;
      for (let s = 0; s < S; s++) {
        const m = population[pool.splice(below(pool.length, rng), 1)[0]];
        if (!parent || m.reward > parent.reward || (m.reward === parent.reward && m.index < parent.index)) parent = m;
      }
      population.push(await evalArch(mutateArch(parent!.arch, o.space, rng), parent!.index));
      // aging: the oldest member dies, whatever its reward
      population.shift();
    }
  }
  const front = paretoFront(candidates.map((c) => ({ latency: c.predictedMs, accuracy: c.accuracy }))).map((i) => candidates[i]);
  const best = candidates.reduce((a, c) => (c.reward > a.reward ? c : a));
  return { candidates, front, best, population: strategy === 'evolution' ? population : [], table };
}

/** A point of {@link paretoSvg}. */
export interface SvgPoint extends ParetoPoint {
  /** Series name (e.g. 'evolution', 'random'); each series gets its own mark. */
  group?: string;
}

/** Options of {@link paretoSvg}. */
export interface ParetoSvgOptions {
  /** Latency target: drawn as a vertical dashed line. */
  target?: number;
  /** Title above the plot. */
  title?: string;
  /** x-axis label (default 'predicted latency (ms)'). */
  xLabel?: string;
  /** y-axis label (default 'proxy accuracy (%)'); accuracies are plotted as percentages. */
  yLabel?: string;
  /** Width in px (default 640). */
  width?: number;
  /** Height in px (default 420). */
  height?: number;
}

/** Round tick positions (steps of 1, 2 or 5 times a power of ten) covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 6): number[] {
  const raw = (hi - lo) / n || 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  const step = (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (v: number) => Number(v.toFixed(2)).toString();

/**
 * A scatter plot of searched candidates as an SVG document (plain text, no dependencies): one
 * `<circle>` per point (first series filled, second hollow, further ones in other colours),
 * the Pareto front `front` as a line, the latency target as a dashed vertical line, axes with
 * ticks and labels, a legend.
 */
export function paretoSvg(points: SvgPoint[], front: ParetoPoint[], o: ParetoSvgOptions = {}): string {
  const W = o.width ?? 640;
  const H = o.height ?? 420;
  // top margin: title, then a row for the legend, then the target's label
  const m = { l: 64, r: 20, t: o.title ? 66 : 44, b: 52 };
  const all = [...points, ...front];
  const xs = all.map((p) => p.latency).concat(o.target !== undefined ? [o.target] : []);
  const ys = all.map((p) => 100 * p.accuracy);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 100];
  const padX = (x1 - x0) * 0.05 || Math.abs(x0) * 0.05 || 1;
  const padY = (y1 - y0) * 0.05 || 1;
  [x0, x1, y0, y1] = [x0 - padX, x1 + padX, y0 - padY, y1 + padY];
  const X = (v: number) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (v: number) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`,
  ];
  if (o.title) out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  // axes, ticks, grid
  const bx = H - m.b;
  out.push(`<line x1="${m.l}" y1="${bx}" x2="${W - m.r}" y2="${bx}" stroke="black"/>`, `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${bx}" stroke="black"/>`);
  for (const t of ticks(x0, x1)) {
    const x = f(X(t));
    out.push(`<line x1="${x}" y1="${bx}" x2="${x}" y2="${bx + 5}" stroke="black"/>`, `<text x="${x}" y="${bx + 18}" text-anchor="middle">${t}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    const y = f(Y(t));
    out.push(
      `<line x1="${m.l - 5}" y1="${y}" x2="${m.l}" y2="${y}" stroke="black"/>`,
      `<line x1="${m.l}" y1="${y}" x2="${W - m.r}" y2="${y}" stroke="#eee"/>`,
      `<text x="${m.l - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${t}</text>`,
    );
  }
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel ?? 'predicted latency (ms)')}</text>`);
  out.push(`<text x="16" y="${(m.t + bx) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.t + bx) / 2})">${esc(o.yLabel ?? 'proxy accuracy (%)')}</text>`);
  if (o.target !== undefined) {
    const x = f(X(o.target));
    // the label stays inside the picture when the line is near an edge
    const anchor = X(o.target) > W - m.r - 60 ? 'end' : X(o.target) < m.l + 60 ? 'start' : 'middle';
    out.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${bx}" stroke="#c00" stroke-dasharray="6 4"/>`, `<text x="${x}" y="${m.t - 4}" text-anchor="${anchor}" fill="#c00">target ${Number(o.target.toPrecision(3))} ms</text>`);
  }
  // series marks
  const groups = [...new Set(points.map((p) => p.group ?? ''))];
  const colours = ['#1f5fa8', '#d9822b', '#3a923a', '#8e44ad', '#555'];
  const style = (g: number) => {
    const c = colours[g % colours.length];
    return g === 1 ? `fill="white" stroke="${c}" stroke-width="1.5"` : `fill="${c}" fill-opacity="0.75" stroke="${c}"`;
  };
  if (front.length) {
    const pts = front.slice().sort((a, b) => a.latency - b.latency).map((p) => `${f(X(p.latency))},${f(Y(100 * p.accuracy))}`);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#222" stroke-width="1.5"/>`);
  }
  for (const p of points) out.push(`<circle cx="${f(X(p.latency))}" cy="${f(Y(100 * p.accuracy))}" r="4" ${style(groups.indexOf(p.group ?? ''))}/>`);
  // legend in a row above the plot (marks drawn as paths, so the document has exactly one
  // circle per point)
  const ly = m.t - 28;
  let lx = m.l + 6;
  const disc = (x: number, y: number) => `M ${x - 4} ${y} a 4 4 0 1 0 8 0 a 4 4 0 1 0 -8 0`;
  groups.forEach((g, i) => {
    if (!g) return;
    out.push(`<path d="${disc(lx, ly)}" ${style(i)}/>`, `<text x="${lx + 10}" y="${ly}" dominant-baseline="middle">${esc(g)}</text>`);
    lx += 36 + 7 * g.length;
  });
  if (front.length) out.push(`<line x1="${lx - 6}" y1="${ly}" x2="${lx + 6}" y2="${ly}" stroke="#222" stroke-width="1.5"/>`, `<text x="${lx + 10}" y="${ly}" dominant-baseline="middle">Pareto front</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
