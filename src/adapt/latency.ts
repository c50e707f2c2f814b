// Latency lookup tables for NetAdapt (T.-J. Yang et al., ECCV 2018, Sec. 3.3 "Fast Resource
// Consumption Estimation"): each layer's latency is measured beforehand on the running machine,
// with the engine's own kernels, at a grid of input and output channel counts; a network's
// latency is then predicted as the sum of its layers' entries (bilinear interpolation between
// grid points), so thousands of proposals are judged without compiling or running them.
//
// How layers are timed: each Conv/Gemm, with the BatchNorm and activation that follow it (the
// plan fuses them into one step), becomes a small single-layer graph at the layer's input size
// and is timed with Model.profile(). Single-layer graphs (rather than per-step rows of whole
// pruned models) let every grid point of every layer be measured independently of the others'
// channel counts, from ~grid² tiny compiles per layer shape instead of one whole-model compile
// per combination; layers of equal signature share their entries. Grid points are interleaved
// round by round; each round takes profile()'s median, the smallest round is kept (shared
// machines drift, and interference only adds time).
import { ValueError } from '../errors';
import type { Graph, Node, Tensor } from '../graph/ir';
import { compileGraph, type Model } from '../model';
import { couplingGroups } from './prune';

/** One layer shape's measured latencies at a grid of channel counts. */
export interface LatencyEntry {
  /** Input channel counts of the grid, ascending (one value when the input is not pruned). */
  cin: number[];
  /** Output channel counts, ascending (depthwise layers: equal to cin and ms is the diagonal). */
  cout: number[];
  /** Milliseconds: ms[i][j] at cin[i], cout[j]; depthwise layers: ms[i][0] at cin[i] = cout[i]. */
  ms: number[][];
  /** True for a depthwise conv (its channel count is both cin and cout). */
  depthwise?: boolean;
}

/** A serialisable latency lookup table (JSON.stringify / latencyTableFromJSON). */
export interface LatencyTable {
  /** Format version. */
  version: 1;
  /** Where it was measured (free text: runtime and threads), for the user to judge reuse. */
  machine: string;
  /** Entries by layer signature (op, kernel, strides, pads, dilations, input size, fused ops, original channels). */
  entries: Record<string, LatencyEntry>;
  /** Signature of every Conv/Gemm of the network it was made for, by node name. */
  layers: Record<string, string>;
  /** Batch size the layers were timed at. */
  batch: number;
}

/** Options of measureLatencyTable(). */
export interface LatencyTableOptions {
  /** Grid steps per channel axis: counts C·k/grid for k = 1..grid (default 8). */
  grid?: number;
  /** profile() runs per measurement (default 5). */
  runs?: number;
  /** Interleaved rounds over the grid points; their median is kept (default 3). */
  rounds?: number;
  /** Entries already measured (a saved table): signatures found there are not measured again. */
  reuse?: LatencyTable;
  /** Batch size the layers are timed at (default 1; the table records it). */
  batch?: number;
  /** Called after each layer shape is measured. */
  onProgress?: (done: number, total: number) => void;
}

const ACTS = new Set(['Relu', 'Clip', 'Sigmoid', 'Tanh', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Silu', 'Gelu', 'Elu']);

/** What a layer's micro graph needs: its node, the fused BN and activation, shapes. */
interface LayerShape {
  node: Node;
  bn?: Node;
  act?: Node;
  /** Input spatial dims (Conv) or [] (Gemm). */
  hw: number[];
  /** Gemm columns per input channel (H·W after Flatten, else 1). */
  S: number;
  cin: number;
  cout: number;
  depthwise: boolean;
  cinVaries: boolean;
  coutVaries: boolean;
}

function attrInt(n: Node, k: string, d: number): number {
  const v = n.attrs[k];
  return typeof v === 'number' ? v : d;
}

function weight(g: Graph, name: string): Tensor | undefined {
  return g.initializers.get(name);
}

/** (cin, cout) of a Conv/Gemm from its weight's shape; cin in channels (Gemm columns / S). */
function channelsOf(g: Graph, n: Node, S: number): { cin: number; cout: number; depthwise: boolean } {
  const w = weight(g, n.inputs[1]);
  if (!w) throw new ValueError(`latency: node '${n.name}' (${n.op}) has no constant weight`);
  if (n.op === 'Gemm') {
    const tb = attrInt(n, 'transB', 0) === 1;
    return { cin: (tb ? w.shape[1] : w.shape[0]) / S, cout: tb ? w.shape[0] : w.shape[1], depthwise: false };
  }
  const group = attrInt(n, 'group', 1);
  const depthwise = group > 1 && w.shape[1] === 1 && w.shape[0] === group;
  return { cin: depthwise ? w.shape[0] : w.shape[1] * group, cout: w.shape[0], depthwise };
}

/** The Conv/Gemm layers of a graph (with shapes, as a compiled model's sourceGraph has them). */
function layerShapes(g: Graph): LayerShape[] {
  const consumers = new Map<string, Node[]>();
  const prod = new Map<string, Node>();
  for (const n of g.nodes) {
    for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
    for (const o of n.outputs) prod.set(o, n);
  }
  const only = (v: string): Node | undefined => {
    const c = consumers.get(v);
    return c && c.length === 1 && !g.outputs.some((o) => o.name === v) ? c[0] : undefined;
  };
  const groups = couplingGroups(g);
  const prunable = new Set(groups.filter((x) => x.prunable).flatMap((x) => x.layers));
  // a layer's input channels vary unless they come straight (through pass-throughs) from a graph input
  const fromInput = (v: string): boolean => {
    const p = prod.get(v);
    if (!p) return true;
    if (p.op === 'BatchNormalization' || ACTS.has(p.op) || p.op === 'MaxPool' || p.op === 'AveragePool' || p.op === 'Identity') return fromInput(p.inputs[0]);
    return false;
  };
  const out: LayerShape[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'Conv' && n.op !== 'Gemm') continue;
    if (!weight(g, n.inputs[1])) continue;
    const inShape = g.shapes.get(n.inputs[0]);
    if (!inShape) throw new ValueError(`latency: the shape of '${n.inputs[0]}' (input of '${n.name}') is unknown: pass a compiled model's sourceGraph`);
    let S = 1;
    if (n.op === 'Gemm') {
      const p = prod.get(n.inputs[0]);
      const ps = p?.op === 'Flatten' ? g.shapes.get(p.inputs[0]) : undefined;
      if (ps && ps.length > 2) S = ps.slice(2).reduce((a, b) => a * b, 1);
    }
    const { cin, cout, depthwise } = channelsOf(g, n, S);
    let bn: Node | undefined;
    let act: Node | undefined;
    let next = only(n.outputs[0]);
    if (next?.op === 'BatchNormalization') {
      bn = next;
      next = only(next.outputs[0]);
    }
    if (next && ACTS.has(next.op) && next.inputs.slice(1).every((i) => !i || g.initializers.has(i))) act = next;
    const cinVaries = !fromInput(n.inputs[0]);
    out.push({
      node: n, bn, act, hw: n.op === 'Conv' ? inShape.slice(2) : [], S, cin, cout, depthwise,
      cinVaries, coutVaries: depthwise ? cinVaries : prunable.has(n.name),
    });
  }
  return out;
}

/** A layer's signature: everything its time depends on except the channel counts being varied. */
function signature(l: LayerShape): string {
  const a = l.node.attrs;
  const parts = [
    l.node.op, l.depthwise ? 'dw' : `g${attrInt(l.node, 'group', 1)}`,
    `k${JSON.stringify(a.kernel_shape ?? '')}`, `s${JSON.stringify(a.strides ?? '')}`, `p${JSON.stringify(a.pads ?? '')}`,
    `d${JSON.stringify(a.dilations ?? '')}`, `in${l.hw.join('x')}`, `S${l.S}`, l.node.inputs[2] ? 'bias' : 'nobias',
    l.node.op === 'Gemm' ? `tB${attrInt(l.node, 'transB', 0)}` : '', l.bn ? 'bn' : '', l.act ? l.act.op + JSON.stringify(l.act.attrs) : '',
    `c${l.cin}${l.cinVaries ? '*' : ''}x${l.cout}${l.coutVaries ? '*' : ''}`,
  ];
  return parts.filter((p) => p).join('|');
}

function gridOf(C: number, varies: boolean, grid: number): number[] {
  if (!varies) return [C];
  const s = new Set<number>();
  for (let k = 1; k <= grid; k++) s.add(Math.max(1, Math.round((C * k) / grid)));
  return [...s].sort((a, b) => a - b);
}

/** @internal Deterministic small weights (their values do not change the kernels' time); NAS tables share it. */
export function filler(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 - 0.5) * 0.1;
  }
  return a;
}

/** A graph of one layer (and its fused BN and activation) at channel counts cin, cout. */
function microGraph(src: Graph, l: LayerShape, cin: number, cout: number, batch: number): Graph {
  const n = l.node;
  const init = new Map<string, Tensor>();
  const t = (name: string, shape: number[], fill?: number): string => {
    const size = shape.reduce((a, b) => a * b, 1);
    init.set(name, { data: fill === undefined ? filler(size, init.size + 7) : new Float32Array(size).fill(fill), shape });
    return name;
  };
  const nodes: Node[] = [];
  const inShape = n.op === 'Conv' ? [batch, cin, ...l.hw] : [batch, cin * l.S];
  if (n.op === 'Conv') {
    const k = (n.attrs.kernel_shape as number[]) ?? weight(src, n.inputs[1])!.shape.slice(2);
    const group = l.depthwise ? cin : attrInt(n, 'group', 1);
    const inputs = ['x', t('w', [l.depthwise ? cin : cout, cin / group, ...k])];
    if (n.inputs[2]) inputs.push(t('b', [l.depthwise ? cin : cout]));
    nodes.push({ name: 'layer', op: 'Conv', inputs, outputs: ['y0'], attrs: { ...n.attrs, group } });
  } else {
    const tb = attrInt(n, 'transB', 0) === 1;
    const inputs = ['x', t('w', tb ? [cout, cin * l.S] : [cin * l.S, cout])];
    if (n.inputs[2]) inputs.push(t('b', [cout]));
    nodes.push({ name: 'layer', op: 'Gemm', inputs, outputs: ['y0'], attrs: { ...n.attrs } });
  }
  const C = l.depthwise ? cin : cout;
  let last = 'y0';
  if (l.bn) {
    nodes.push({ name: 'bn', op: 'BatchNormalization', inputs: [last, t('g', [C], 1), t('be', [C], 0), t('m', [C], 0), t('v', [C], 1)], outputs: ['y1'], attrs: { ...l.bn.attrs } });
    last = 'y1';
  }
  if (l.act) {
    const extra = l.act.inputs.slice(1).map((i, j) => {
      if (!i) return '';
      init.set(`a${j}`, src.initializers.get(i)!);
      return `a${j}`;
    });
    nodes.push({ name: 'act', op: l.act.op, inputs: [last, ...extra], outputs: ['y2'], attrs: { ...l.act.attrs } });
    last = 'y2';
  }
  return {
    inputs: [{ name: 'x', shape: inShape, dtype: 'float' }],
    outputs: [{ name: last }],
    nodes,
    initializers: init,
    intConstants: new Map(),
    shapes: new Map([['x', inShape]]),
    opset: src.opset,
  };
}

function median(a: number[]): number {
  const s = a.slice().sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Time of a micro model's layer step: the profiled step named after the layer (BatchNorm and
 * activation run fused inside it); the tiny graph's own layout steps at its input and output are
 * left out, since inside a network those conversions do not happen between layers.
 */
function timeOnce(m: Model, x: Tensor, runs: number): number {
  const rows = m.profile({ x }, { runs });
  const own = rows.filter((r) => r.node === 'layer' || r.node === 'bn' || r.node === 'act');
  return (own.length ? own : rows).reduce((a, r) => a + r.ms, 0);
}

/**
 * @internal How every table here is timed (NetAdapt's per-layer grid and NAS's per-block table):
 * `count` measurements taken `rounds` times, interleaved (every point once per round, the
 * direction alternating so no point always follows the same neighbour), each point's smallest
 * round kept: a busy neighbour on a shared machine only ever adds time, so the least-disturbed
 * round is the best estimate of the kernels' own cost.
 */
export function interleavedMinimum(count: number, rounds: number, once: (k: number) => number): number[] {
  const best = new Array<number>(count).fill(Infinity);
  for (let r = 0; r < rounds; r++)
    for (let q = 0; q < count; q++) {
      const k = r % 2 ? count - 1 - q : q;
      best[k] = Math.min(best[k], once(k));
    }
  return best;
}

/**
 * Measure a latency table for `graph` (a compiled model's sourceGraph, shapes known): every
 * Conv/Gemm layer shape (with its fused BatchNorm and activation) timed on this machine at a grid
 * of input and output channel counts (only the counts pruning can change). Entries of
 * `options.reuse` with the same signature are taken over, not measured again.
 */
export async function measureLatencyTable(graph: Graph, options: LatencyTableOptions = {}): Promise<LatencyTable> {
  const grid = options.grid ?? 8;
  const runs = options.runs ?? 5;
  const rounds = options.rounds ?? 3;
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new ValueError(`measureLatencyTable: batch must be a positive integer, got ${batch}`);
  if (!Number.isInteger(grid) || grid < 1) throw new ValueError(`measureLatencyTable: grid must be a positive integer, got ${grid}`);
  const layers = layerShapes(graph);
  const table: LatencyTable = { version: 1, machine: machineName(), entries: {}, layers: {}, batch };
  const todo = new Map<string, LayerShape>();
  for (const l of layers) {
    const sig = signature(l);
    table.layers[l.node.name] = sig;
    const old = options.reuse?.batch === batch ? options.reuse.entries[sig] : undefined;
    if (old) table.entries[sig] = old;
    else if (!todo.has(sig)) todo.set(sig, l);
  }
  let done = 0;
  for (const [sig, l] of todo) {
    const cins = gridOf(l.cin, l.cinVaries, grid);
    const couts = l.depthwise ? [l.cin] : gridOf(l.cout, l.coutVaries, grid);
    const points: { i: number; j: number; m: Model; x: Tensor }[] = [];
    for (let i = 0; i < cins.length; i++)
      for (let j = 0; j < couts.length; j++) {
        const cin = cins[i];
        const cout = l.depthwise ? cin : couts[j];
        const g = microGraph(graph, l, cin, cout, batch);
        const shape = g.inputs[0].shape!;
        const m = await compileGraph(g);
        points.push({ i, j, m, x: { data: filler(shape.reduce((a, b) => a * b, 1), 3), shape } });
      }
    let best: number[];
    try {
      // each round's value is a median over runs (profile); the rounds' minimum is kept
      best = interleavedMinimum(points.length, rounds, (k) => timeOnce(points[k].m, points[k].x, runs));
    } finally {
      for (const p of points) p.m.dispose();
    }
    const ms = cins.map(() => couts.map(() => 0));
    points.forEach((p, k) => (ms[p.i][p.j] = best[k]));
    table.entries[sig] = l.depthwise ? { cin: cins, cout: cins, ms, depthwise: true } : { cin: cins, cout: couts, ms };
    options.onProgress?.(++done, todo.size);
  }
  return table;
}

/** @internal Where a table was measured (runtime and version), for the user to judge reuse. */
export function machineName(): string {
  const g = globalThis as { process?: { version?: string; arch?: string }; navigator?: { userAgent?: string } };
  return g.process?.version ? `node ${g.process.version} ${g.process.arch ?? ''}`.trim() : g.navigator?.userAgent ?? 'unknown';
}

/** Piecewise-linear interpolation of ys over ascending xs, extended linearly past the ends (never below 0). */
function interp(xs: number[], ys: number[], x: number): number {
  if (xs.length === 1) return ys[0];
  let i = 0;
  while (i < xs.length - 2 && x > xs[i + 1]) i++;
  const t = (x - xs[i]) / (xs[i + 1] - xs[i]);
  return Math.max(0, ys[i] + t * (ys[i + 1] - ys[i]));
}

/** An entry's latency at (cin, cout): bilinear interpolation over its grid. */
export function lookupLatency(e: LatencyEntry, cin: number, cout: number): number {
  if (e.depthwise) return interp(e.cin, e.ms.map((r) => r[0]), cin);
  const rows = e.ms.map((r) => interp(e.cout, r, cout));
  return interp(e.cin, rows, cin);
}

/**
 * Predicted latency (ms) of `graph`, a pruned form of the network the table was made for (same
 * node names): the sum over its Conv/Gemm layers of their table entries at the channel counts
 * their weights now have. Pooling, Add and layout steps are not in the table.
 */
export function predictLatency(table: LatencyTable, graph: Graph): number {
  let sum = 0;
  const prod = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) prod.set(o, n);
  for (const n of graph.nodes) {
    if (n.op !== 'Conv' && n.op !== 'Gemm') continue;
    const sig = table.layers[n.name];
    const e = sig === undefined ? undefined : table.entries[sig];
    if (!e) throw new ValueError(`predictLatency: the table has no entry for layer '${n.name}' (made for another network?)`);
    const S = Number(/\|S(\d+)\|/.exec(sig)?.[1] ?? '1');
    const { cin, cout } = channelsOf(graph, n, S);
    sum += lookupLatency(e, cin, cout);
  }
  return sum;
}

/**
 * Wall-clock milliseconds of one `model.runSync` on an input of the model's declared shape, a
 * dynamic batch axis at `batch` (other dynamic axes at 1): after a warm-up, `runs` runs in
 * groups of 5, the smallest group median (interference on a shared machine only adds time).
 */
export function measureLatency(model: Model, runs = 20, batch = 1): number {
  const feeds: Record<string, Tensor> = {};
  for (const name of model.inputNames) {
    const shape = model.inputSignature[name].map((d, j) => (d < 1 ? (j === 0 ? batch : 1) : d));
    feeds[name] = { data: filler(shape.reduce((a, b) => a * b, 1), 5), shape };
  }
  // warm-up: at least 3 runs and 20 ms, so the engine's optimizing tier has compiled the kernels
  const w0 = performance.now();
  for (let r = 0; r < 3 || performance.now() - w0 < 20; r++) model.runSync(feeds);
  let best = Infinity;
  for (let r = 0; r < runs; r += 5) {
    const t: number[] = [];
    for (let q = 0; q < Math.min(5, runs - r); q++) {
      const t0 = performance.now();
      model.runSync(feeds);
      t.push(performance.now() - t0);
    }
    best = Math.min(best, median(t));
  }
  return best;
}

/** What predictionError() returns. */
export interface LatencyPrediction {
  /** The table's prediction (ms). */
  predictedMs: number;
  /** The measured whole-model latency (ms; see measureLatency). */
  measuredMs: number;
  /** (predicted − measured) / measured. */
  error: number;
}

/**
 * How well the table predicts `model` (one it was made for, or a pruned form): predicted and
 * measured milliseconds and the relative error (predicted − measured) / measured.
 */
export function predictionError(table: LatencyTable, model: Model, runs = 20): LatencyPrediction {
  const predictedMs = predictLatency(table, model.sourceGraph);
  const measuredMs = measureLatency(model, runs, table.batch);
  return { predictedMs, measuredMs, error: (predictedMs - measuredMs) / measuredMs };
}

/** A table from its JSON text (as written by JSON.stringify(table)), checked. */
export function latencyTableFromJSON(text: string): LatencyTable {
  const t = JSON.parse(text) as LatencyTable;
  if (!t || t.version !== 1 || !Number.isInteger(t.batch) || typeof t.entries !== 'object' || typeof t.layers !== 'object')
    throw new ValueError('latencyTableFromJSON: not a version-1 latency table');
  for (const [sig, e] of Object.entries(t.entries))
    if (!Array.isArray(e.cin) || !Array.isArray(e.cout) || !Array.isArray(e.ms) || e.ms.length !== e.cin.length)
      throw new ValueError(`latencyTableFromJSON: entry '${sig}' is malformed`);
  return t;
}
