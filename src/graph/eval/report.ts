// Reports about a planned model that nothing needs before its first result: layer rows and
// the summary() table, profile()'s medians, and which initializers make up its state_dict. They ride in the
// host evaluator's chunk, which every model loads when it is compiled (model.ts reaches them
// through evaluatorModule()), so the code a page loads up front stays small.
import { numel, shapeStr } from '../../lazy/kit';
import type { Graph, Node, Tensor } from '../ir';
import type { Mem } from '../../runtime/memory';

/** One summary() row's facts (model.ts LayerInfo). */
interface Layer {
  name: string;
  op: string;
  outputShape: number[];
  params: number;
  macs: number;
}

/** summary()'s table: layer, op, output shape, parameters, MACs, receptive field and jump; then totals. */
export function summaryTable(layers: Layer[], rf: Map<string, string[]>, paramCount: number): string {
  const rows = layers.map((l) => [
    l.name, l.op, shapeStr(l.outputShape), l.params.toLocaleString('en-US'), l.macs.toLocaleString('en-US'),
    ...(rf.get(l.name) ?? ['-', '-']),
  ]);
  const head = ['layer', 'op', 'output shape', 'params', 'MACs', 'RF', 'jump'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const total = layers.reduce((a, l) => a + l.macs, 0);
  return [
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    `total params: ${paramCount.toLocaleString('en-US')}`,
    `total MACs:   ${total.toLocaleString('en-US')}`,
  ].join('\n');
}

/**
 * One row per node: its first output's shape, the parameters it reads first (settings such as
 * Clip bounds, `notParams`, and builder constants excluded; a weight shared by several nodes counted once) and its
 * multiply-accumulates (`macs`; 0 where the op's rule cannot say).
 */
export function layerRows(g: Graph, notParams: Record<string, number[]>, macs: (n: Node) => number): Layer[] {
  const counted = new Set<string>();
  return g.nodes.map((n) => {
    const skip = notParams[n.op] ?? [];
    let params = 0;
    n.inputs.forEach((i, j) => {
      // a builder's fixed constants (a scale, an averaging matrix) are architecture, not parameters
      const t = i && !skip.includes(j) && !g.constants?.has(i) ? g.initializers.get(i) : undefined;
      if (t && !counted.has(i)) {
        counted.add(i);
        params += numel(t.shape);
      }
    });
    let m = 0;
    try {
      m = macs(n);
    } catch {
      m = 0;
    }
    return { name: n.name, op: n.op, outputShape: g.shapes.get(n.outputs[0]) ?? [], params, macs: m };
  });
}

/**
 * profile()'s timing: `runs` rounds of every step timed on its own (each round after `refeed`),
 * then the data-dependent tail's steps (`tail` fills their times); medians per step.
 */
export function timeSteps(
  runs: number, steps: (() => void)[], refeed: () => void, tail: ((ms: number[]) => void) | undefined, tailSteps: number,
): { steps: number[]; tail: number[] } {
  const times = steps.map(() => new Array<number>(runs));
  const tailTimes = Array.from({ length: tailSteps }, () => new Array<number>(runs));
  for (let r = 0; r < runs; r++) {
    if (r) refeed();
    for (let i = 0; i < steps.length; i++) {
      const t = performance.now();
      steps[i]();
      times[i][r] = performance.now() - t;
    }
    if (!tail) continue;
    const t: number[] = [];
    tail(t);
    t.forEach((ms, i) => (tailTimes[i][r] = ms));
  }
  return { steps: times.map(median), tail: tailTimes.map(median) };
}

/** The median of a list of times (sorted in place). */
function median(v: number[]): number {
  const sorted = v.sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The initializers that make up a state_dict, as PyTorch has them: trainable parameters (read
 * by a node as anything but a setting: `notParams` lists those inputs per op) and buffers
 * (BatchNorm running statistics). Builder constants are neither; a derived weight stands for
 * the declared weights it is computed from.
 */
export function stateEntries(g: Graph, notParams: Record<string, number[]>): { params: Set<string>; buffers: Set<string> } {
  const params = new Set<string>();
  const buffers = new Set<string>();
  for (const n of g.nodes)
    n.inputs.forEach((i, j) => {
      if (!i || !g.initializers.has(i) || g.constants?.has(i)) return;
      if (n.op === 'BatchNormalization' && (j === 3 || j === 4)) buffers.add(i);
      else if (!notParams[n.op]?.includes(j) && !(n.op === 'Dropout' && j > 0)) params.add(i);
    });
  for (const b of buffers) params.delete(b);
  for (const d of g.derived ?? []) if (params.delete(d.name)) for (const f of d.from) params.add(f);
  return { params, buffers };
}

/** model.stateDict(): copies of the state_dict's tensors, with trained values and optimizer state where a trainer has them. */
export function stateDictOf(
  g: Graph, notParams: Record<string, number[]>,
  trainer: { tensor(name: string): Tensor | undefined; optimizerState(): Map<string, Tensor> } | undefined, optimizer?: boolean,
): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const { params, buffers } = stateEntries(g, notParams);
  for (const [name, w] of g.initializers) {
    if (!params.has(name) && !buffers.has(name)) continue;
    const v = trainer?.tensor(name) ?? w;
    out.set(name, { data: v.data.slice(), shape: v.shape.slice() });
  }
  if (optimizer && trainer) for (const [k, v] of trainer.optimizerState()) out.set(k, v);
  return out;
}

/** model.planStats() (tests, bench): a dynamic model's plan cache and the bytes its parts hold. */
export function planStats(
  dyn: { cache: Map<string, { owner: number }>; plans: number; packs: number; shared: Map<string, { owner: number }>; regions: Map<string, { owner: number }[]> },
  mem: Mem,
): { shapes: string[]; plans: number; packs: number; sharedBytes: number; planBytes: number[]; regionBytes: number } {
  let sharedBytes = 0;
  for (const e of dyn.shared.values()) sharedBytes += mem.held(e.owner);
  let regionBytes = 0;
  for (const list of dyn.regions.values()) for (const r of list) regionBytes += mem.held(r.owner);
  return {
    shapes: [...dyn.cache.keys()], plans: dyn.plans, packs: dyn.packs, sharedBytes, regionBytes,
    planBytes: [...dyn.cache.values()].map((p) => mem.held(p.owner)),
  };
}
