// Channel pruning by graph surgery, the step NetAdapt (T.-J. Yang et al., "NetAdapt:
// Platform-Aware Neural Network Adaptation for Mobile Applications", ECCV 2018, Sec. 3.2) takes
// for every proposal: remove output channels (filters) of a Conv or Gemm and every weight that
// only served them — BatchNorm parameters, depthwise filters (which carry the channels on), the
// consumers' input channels (Conv weight dim 1; Gemm columns after Flatten, channel c owning its
// H·W consecutive columns), Concat slices at their offset. Layers whose outputs meet at an Add
// (residual connections) must keep one channel set: they form a coupled group (union-find over
// the Add inputs, traced back through BatchNorm, activations, pooling and depthwise convs) and
// are pruned together. Anything the surgery cannot follow is refused with the node's name.
import { ValueError } from '../errors';
import type { Graph, Node, Tensor } from '../graph/ir';

/** Ops that keep channel c of their (first) input in channel c of their output. */
const PASS = new Set([
  'Relu', 'Clip', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Elu', 'Selu', 'HardSigmoid', 'HardSwish', 'Silu', 'Gelu', 'Mish', 'Softplus',
  'Identity', 'Dropout', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'Neg', 'Abs',
]);

/** A graph plus its weights (the state_dict names the graph's nodes read). */
export interface PrunedGraph {
  /** The graph with pruned weight shapes and attributes (shapes left to re-inference, inputs kept). */
  graph: Graph;
  /** Every weight the graph reads, pruned where channels were removed. */
  weights: Map<string, Tensor>;
}

/** A set of layers (Conv or Gemm node names) that must keep the same output channels. */
export interface CouplingGroup {
  /** Node names, in graph order. */
  layers: string[];
  /** Output channels every member has. */
  channels: number;
  /** False when the group's channels reach a graph output or pass something pruning cannot follow. */
  prunable: boolean;
  /** Why it is not prunable (the refusal's message). */
  reason?: string;
}

function attrInt(n: Node, k: string, d: number): number {
  const v = n.attrs[k];
  return typeof v === 'number' ? v : d;
}

/** The weight `name`: from `weights`, else the graph's initializers. */
function weightOf(g: Graph, weights: Map<string, Tensor>, name: string): Tensor | undefined {
  return weights.get(name) ?? g.initializers.get(name);
}

/** Copy of `t` keeping only indices `keep` along `axis`. */
export function takeAxis(t: Tensor, axis: number, keep: readonly number[]): Tensor {
  const outer = t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = t.shape[axis];
  const out = new Float32Array(outer * keep.length * inner);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < keep.length; j++)
      out.set(t.data.subarray((o * n + keep[j]) * inner, (o * n + keep[j] + 1) * inner), (o * keep.length + j) * inner);
  const shape = t.shape.slice();
  shape[axis] = keep.length;
  return { data: out, shape };
}

/** A conv is depthwise (multiplier 1) when every group has one input and one output channel. */
function isDepthwise(n: Node, w: Tensor | undefined): boolean {
  const g = attrInt(n, 'group', 1);
  return !!w && g > 1 && w.shape[1] === 1 && w.shape[0] === g;
}

/** A layer whose output channels are its own filters: Conv with group 1, or Gemm. */
function isFilterLayer(g: Graph, weights: Map<string, Tensor>, n: Node): boolean {
  if (n.op === 'Gemm') return true;
  return n.op === 'Conv' && attrInt(n, 'group', 1) === 1 && !!weightOf(g, weights, n.inputs[1]);
}

/** Producer node of every value. */
function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) m.set(o, n);
  return m;
}

/** Output channels of a filter layer (Conv weight dim 0; Gemm out features). */
function outChannels(g: Graph, weights: Map<string, Tensor>, n: Node): number {
  const w = weightOf(g, weights, n.inputs[1]);
  if (!w) throw new ValueError(`pruneChannels: node '${n.name}' (${n.op}) has no constant weight '${n.inputs[1]}'`);
  if (n.op === 'Gemm') return attrInt(n, 'transB', 0) ? w.shape[0] : w.shape[1];
  return w.shape[0];
}

/**
 * Coupled groups of filter layers: every Conv (group 1) and Gemm starts alone; the producers of
 * the inputs of every Add (traced back through BatchNorm, activations, pooling, depthwise convs
 * and earlier Adds) are joined. A group whose channels reach a graph output, or meet an op the
 * surgery cannot follow, is marked not prunable (with the refusal as its reason).
 */
export function couplingGroups(graph: Graph, weights: Map<string, Tensor> = new Map()): CouplingGroup[] {
  const prod = producers(graph);
  const layers = graph.nodes.filter((n) => isFilterLayer(graph, weights, n));
  const parent = new Map<string, string>(layers.map((n) => [n.name, n.name]));
  const FIXED = '\u0000fixed';
  parent.set(FIXED, FIXED);
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string) => parent.set(find(a), find(b));
  const sources = (v: string, acc: Set<string>): void => {
    const p = prod.get(v);
    if (!p) {
      // a graph input or a constant: its channels cannot be pruned
      acc.add(FIXED);
      return;
    }
    if (parent.has(p.name) && p.op !== 'Add') acc.add(p.name);
    else if (p.op === 'BatchNormalization' || PASS.has(p.op)) sources(p.inputs[0], acc);
    else if (p.op === 'Conv' && isDepthwise(p, weightOf(graph, weights, p.inputs[1]))) sources(p.inputs[0], acc);
    else if (p.op === 'Add') for (const i of p.inputs) sources(i, acc);
    else acc.add(FIXED);
  };
  for (const n of graph.nodes) {
    if (n.op !== 'Add') continue;
    const acc = new Set<string>();
    for (const i of n.inputs) sources(i, acc);
    const list = [...acc];
    for (let i = 1; i < list.length; i++) union(list[0], list[i]);
  }
  const byRoot = new Map<string, string[]>();
  for (const n of layers) {
    const r = find(n.name);
    if (!byRoot.has(r)) byRoot.set(r, []);
    byRoot.get(r)!.push(n.name);
  }
  const fixedRoot = find(FIXED);
  const out: CouplingGroup[] = [];
  for (const [root, names] of byRoot) {
    const first = graph.nodes.find((n) => n.name === names[0])!;
    const channels = outChannels(graph, weights, first);
    const grp: CouplingGroup = { layers: names, channels, prunable: true };
    if (root === fixedRoot) {
      grp.prunable = false;
      grp.reason = `layers ${names.join(', ')} add onto a graph input or an unprunable value`;
    } else if (channels < 2) {
      grp.prunable = false;
      grp.reason = `layer '${names[0]}' has a single output channel`;
    } else {
      // a trial removal of one channel finds whatever the surgery cannot follow
      try {
        pruneGroup(graph, weights, grp, Array.from({ length: channels - 1 }, (_, i) => i), true);
      } catch (e) {
        grp.prunable = false;
        grp.reason = (e as Error).message;
      }
    }
    out.push(grp);
  }
  return out;
}

/** What is known of a value whose channels are being pruned. */
interface Cut {
  /** Channels before pruning. */
  C: number;
  /** Channels kept, ascending. */
  keep: number[];
  /** Consecutive elements per channel along axis 1 (1 for NCHW; H·W after Flatten). */
  S: number;
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function expand(keep: readonly number[], S: number): number[] {
  const out: number[] = [];
  for (const c of keep) for (let s = 0; s < S; s++) out.push(c * S + s);
  return out;
}

/** Prune a coupled group's output channels to `keep` (see pruneChannels). */
function pruneGroup(graph: Graph, weights: Map<string, Tensor>, group: { layers: string[] }, keep: readonly number[], dry = false): PrunedGraph {
  const w = new Map(weights);
  const members = new Set(group.layers);
  const nodes = graph.nodes.map((n) => ({ ...n, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attrs: { ...n.attrs } }));
  const cuts = new Map<string, Cut>();
  const get = (name: string, who: Node): Tensor => {
    const t = weightOf(graph, w, name);
    if (!t) throw new ValueError(`pruneChannels: node '${who.name}' (${who.op}) reads '${name}', which is not a constant weight`);
    return t;
  };
  const set = (name: string, t: Tensor) => {
    if (!dry) w.set(name, t);
    else w.set(name, { data: new Float32Array(0), shape: t.shape });
  };
  const take = (name: string, who: Node, axis: number, idx: readonly number[]) => {
    const t = get(name, who);
    if (dry) w.set(name, { data: new Float32Array(0), shape: t.shape.map((d, i) => (i === axis ? idx.length : d)) });
    else set(name, takeAxis(t, axis, idx));
  };
  const shape = (v: string) => graph.shapes.get(v);
  let seen = 0;
  for (const n of nodes) {
    if (members.has(n.name)) {
      seen++;
      // a member may also read pruned channels (a residual block's second conv reads the first's)
      const cin = cuts.get(n.inputs[0]);
      if (n.inputs.slice(1).some((i) => cuts.has(i))) throw new ValueError(`pruneChannels: node '${n.name}' (${n.op}) reads pruned channels as a weight`);
      if (cin && n.op === 'Gemm') {
        if (attrInt(n, 'transA', 0)) throw new ValueError(`pruneChannels: node '${n.name}' (Gemm) transposes its input`);
        take(n.inputs[1], n, attrInt(n, 'transB', 0) ? 1 : 0, expand(cin.keep, cin.S));
      } else if (cin) {
        if (cin.S !== 1) throw new ValueError(`pruneChannels: node '${n.name}' (Conv) reads flattened channels`);
        take(n.inputs[1], n, 1, cin.keep);
      }
      const C = outChannels(graph, w, n);
      if (keep.length < 1 || keep.some((c, i) => !Number.isInteger(c) || c < 0 || c >= C || (i > 0 && c <= keep[i - 1])))
        throw new ValueError(`pruneChannels: keep must list 1..${C} distinct ascending channels of '${n.name}' in [0, ${C})`);
      if (n.op === 'Gemm') {
        take(n.inputs[1], n, attrInt(n, 'transB', 0) ? 0 : 1, keep);
        if (n.inputs[2]) {
          const b = get(n.inputs[2], n);
          if (b.data.length === C || dry) take(n.inputs[2], n, b.shape.length - 1, keep);
        }
      } else {
        take(n.inputs[1], n, 0, keep);
        if (n.inputs[2]) take(n.inputs[2], n, 0, keep);
      }
      cuts.set(n.outputs[0], { C, keep: keep.slice(), S: 1 });
      continue;
    }
    const cut = n.inputs.map((i) => cuts.get(i));
    if (!cut.some((c) => c)) continue;
    const c0 = cut[0];
    if (n.op === 'BatchNormalization' && c0 && !cut.slice(1).some((c) => c)) {
      for (let i = 1; i < 5; i++) if (n.inputs[i]) take(n.inputs[i], n, 0, c0.keep);
      cuts.set(n.outputs[0], c0);
    } else if (PASS.has(n.op) && c0 && c0.S === 1 && !cut.slice(1).some((c) => c)) {
      for (let i = 1; i < n.inputs.length; i++) {
        const t = n.inputs[i] ? weightOf(graph, w, n.inputs[i]) : undefined;
        if (t && t.data.length > 1 && !dry) throw new ValueError(`pruneChannels: node '${n.name}' (${n.op}) has a per-element parameter '${n.inputs[i]}'`);
      }
      if (n.op === 'Dropout' && n.outputs.length > 1) throw new ValueError(`pruneChannels: node '${n.name}' (Dropout) returns its mask`);
      cuts.set(n.outputs[0], c0);
    } else if (n.op === 'PRelu' && c0 && c0.S === 1) {
      const s = get(n.inputs[1], n);
      if (s.data.length === c0.C || (dry && s.shape[0] === c0.C)) take(n.inputs[1], n, 0, c0.keep);
      else if (s.data.length !== 1) throw new ValueError(`pruneChannels: node '${n.name}' (PRelu) has a slope of shape [${s.shape}]`);
      cuts.set(n.outputs[0], c0);
    } else if (n.op === 'Conv' && c0 && c0.S === 1 && !cut.slice(1).some((c) => c)) {
      const wt = get(n.inputs[1], n);
      const group = attrInt(n, 'group', 1);
      if (group === 1) {
        take(n.inputs[1], n, 1, c0.keep);
      } else if (group === c0.C && wt.shape[0] === c0.C && wt.shape[1] === 1) {
        take(n.inputs[1], n, 0, c0.keep);
        if (n.inputs[2]) take(n.inputs[2], n, 0, c0.keep);
        n.attrs.group = c0.keep.length;
        cuts.set(n.outputs[0], c0);
      } else {
        throw new ValueError(`pruneChannels: node '${n.name}' is a grouped convolution (group ${group}) that is not depthwise: its channels cannot be followed`);
      }
    } else if (n.op === 'Flatten' && c0 && c0.S === 1) {
      const s = shape(n.inputs[0]);
      const axis = attrInt(n, 'axis', 1);
      if (!s || axis !== 1) throw new ValueError(`pruneChannels: node '${n.name}' (Flatten) must flatten from axis 1 of a known shape`);
      cuts.set(n.outputs[0], { ...c0, S: s.slice(2).reduce((a, b) => a * b, 1) });
    } else if (n.op === 'Gemm' && c0 && !cut.slice(1).some((c) => c)) {
      const s = shape(n.inputs[0]);
      if (s && s.length !== 2) throw new ValueError(`pruneChannels: node '${n.name}' (Gemm) reads a rank-${s.length} value`);
      if (attrInt(n, 'transA', 0)) throw new ValueError(`pruneChannels: node '${n.name}' (Gemm) transposes its input`);
      take(n.inputs[1], n, attrInt(n, 'transB', 0) ? 1 : 0, expand(c0.keep, c0.S));
    } else if (n.op === 'Add' && cut.every((c) => c)) {
      for (const c of cut) if (!same(c!.keep, c0!.keep) || c!.S !== c0!.S)
        throw new ValueError(`pruneChannels: node '${n.name}' (Add) adds inputs pruned differently: prune its coupled group together`);
      cuts.set(n.outputs[0], c0!);
    } else if (n.op === 'Add') {
      throw new ValueError(`pruneChannels: node '${n.name}' (Add) adds a pruned value to an unpruned one: prune its coupled group together`);
    } else if (n.op === 'Concat') {
      const axis = attrInt(n, 'axis', 1);
      const rank = shape(n.outputs[0])?.length ?? shape(n.inputs[0])?.length ?? 4;
      if (axis !== 1 && axis !== 1 - rank) throw new ValueError(`pruneChannels: node '${n.name}' (Concat) joins along axis ${axis}, not channels`);
      const kept: number[] = [];
      let off = 0;
      for (let i = 0; i < n.inputs.length; i++) {
        const c = cut[i];
        if (c && c.S !== 1) throw new ValueError(`pruneChannels: node '${n.name}' (Concat) joins flattened channels`);
        const Ci = c ? c.C : shape(n.inputs[i])?.[1];
        if (Ci === undefined) throw new ValueError(`pruneChannels: node '${n.name}' (Concat): unknown channels of '${n.inputs[i]}'`);
        if (c) for (const k of c.keep) kept.push(off + k);
        else for (let k = 0; k < Ci; k++) kept.push(off + k);
        off += Ci;
      }
      cuts.set(n.outputs[0], { C: off, keep: kept, S: 1 });
    } else {
      const which = n.inputs[cut.findIndex((c) => c)];
      throw new ValueError(`pruneChannels: node '${n.name}' (${n.op}) reads pruned channels of '${which}' and cannot be followed`);
    }
  }
  if (seen !== members.size) {
    const missing = group.layers.filter((l) => !nodes.some((n) => n.name === l && isFilterLayer(graph, w, n)));
    throw new ValueError(`pruneChannels: no Conv (group 1) or Gemm node named ${missing.map((m) => `'${m}'`).join(', ')}`);
  }
  for (const o of graph.outputs)
    if (cuts.has(o.name)) throw new ValueError(`pruneChannels: the channels of ${group.layers.map((l) => `'${l}'`).join(', ')} reach the graph output '${o.name}': the network's last layer is never pruned`);
  const g: Graph = {
    ...graph,
    inputs: graph.inputs.map((i) => ({ ...i, shape: i.shape?.slice() })),
    outputs: graph.outputs.map((o) => ({ name: o.name, dtype: o.dtype })),
    nodes,
    // weights live in the initializers (architecture constants kept as they were)
    initializers: new Map(graph.initializers),
    intConstants: new Map(graph.intConstants),
    shapes: new Map(graph.inputs.map((i) => [i.name, i.shape!.slice()])),
  };
  for (const [k, t] of w) if (g.initializers.has(k) || weights.has(k)) g.initializers.set(k, t);
  return { graph: g, weights: w };
}

/**
 * Remove output channels of the Conv (group 1) or Gemm node `layer`, keeping channels `keep`
 * (ascending), and follow them through the graph: BatchNorm parameters, element-wise ops and
 * pooling, depthwise convs (pruned alike, and followed on), consumers' input channels (Conv
 * weight dim 1; Gemm columns after Flatten), Concat slices. Layers coupled with `layer` through
 * residual Adds (see couplingGroups) are pruned to the same channels. `weights` (a state_dict)
 * override the graph's initializers. Throws a ValueError naming the node it cannot follow (a
 * grouped non-depthwise conv, a Reshape, a Mul, a graph output: the last layer's outputs).
 * Returns a new graph (its initializers hold the pruned weights) and the pruned weights.
 */
export function pruneChannels(graph: Graph, weights: Map<string, Tensor>, layer: string, keep: readonly number[]): PrunedGraph {
  const node = graph.nodes.find((n) => n.name === layer);
  if (!node) throw new ValueError(`pruneChannels: no node named '${layer}'`);
  if (!isFilterLayer(graph, weights, node))
    throw new ValueError(`pruneChannels: node '${layer}' (${node.op}${node.op === 'Conv' ? `, group ${attrInt(node, 'group', 1)}` : ''}) is not a Conv with group 1 or a Gemm`);
  const group = couplingGroupOf(graph, weights, layer);
  return pruneGroup(graph, weights, group, keep);
}

/** The coupled group holding `layer` (its layers only; no trial prune). */
function couplingGroupOf(graph: Graph, weights: Map<string, Tensor>, layer: string): { layers: string[] } {
  // couplingGroups does a trial prune per group; here only the membership is needed
  const groups = couplingGroupsCheap(graph, weights);
  return { layers: groups.find((g) => g.includes(layer)) ?? [layer] };
}

function couplingGroupsCheap(graph: Graph, weights: Map<string, Tensor>): string[][] {
  const prod = producers(graph);
  const layers = graph.nodes.filter((n) => isFilterLayer(graph, weights, n));
  const parent = new Map<string, string>(layers.map((n) => [n.name, n.name]));
  const find = (x: string): string => (parent.get(x) === x ? x : find(parent.get(x)!));
  const sources = (v: string, acc: Set<string>): void => {
    const p = prod.get(v);
    if (!p) return;
    if (parent.has(p.name)) acc.add(p.name);
    else if (p.op === 'BatchNormalization' || PASS.has(p.op) || (p.op === 'Conv' && isDepthwise(p, weightOf(graph, weights, p.inputs[1])))) sources(p.inputs[0], acc);
    else if (p.op === 'Add') for (const i of p.inputs) sources(i, acc);
  };
  for (const n of graph.nodes) {
    if (n.op !== 'Add') continue;
    const acc = new Set<string>();
    for (const i of n.inputs) sources(i, acc);
    const list = [...acc];
    for (let i = 1; i < list.length; i++) parent.set(find(list[i]), find(list[0]));
  }
  const by = new Map<string, string[]>();
  for (const n of layers) {
    const r = find(n.name);
    if (!by.has(r)) by.set(r, []);
    by.get(r)!.push(n.name);
  }
  return [...by.values()];
}

/**
 * Prune a whole coupled group to `keep` (its members' output channels; see pruneChannels).
 * `shapesOnly`: the result's pruned weights have the right shapes but no data (for latency
 * prediction of many candidates without copying weights).
 */
export function pruneGroupChannels(graph: Graph, weights: Map<string, Tensor>, group: CouplingGroup, keep: readonly number[], shapesOnly = false): PrunedGraph {
  if (!group.prunable) throw new ValueError(`pruneChannels: ${group.reason ?? 'group not prunable'}`);
  return pruneGroup(graph, weights, group, keep, shapesOnly);
}

/**
 * Filter norms of a group: for each output channel, the L2 norm of its filter summed over the
 * group's members (NetAdapt ranks filters by magnitude; coupled layers share one ranking).
 */
export function filterNorms(graph: Graph, weights: Map<string, Tensor>, group: CouplingGroup): Float64Array {
  const norms = new Float64Array(group.channels);
  for (const name of group.layers) {
    const n = graph.nodes.find((x) => x.name === name)!;
    const w = weightOf(graph, weights, n.inputs[1])!;
    const byRow = n.op !== 'Gemm' || attrInt(n, 'transB', 0) === 1;
    const rows = byRow ? w.shape[0] : w.shape[1];
    const cols = w.data.length / rows;
    for (let c = 0; c < rows; c++) {
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const v = byRow ? w.data[c * cols + j] : w.data[j * rows + c];
        s += v * v;
      }
      norms[c] += Math.sqrt(s);
    }
  }
  return norms;
}

/** The `count` channels of largest norm, ascending by index. */
export function strongest(norms: ArrayLike<number>, count: number): number[] {
  const idx = Array.from({ length: norms.length }, (_, i) => i);
  idx.sort((a, b) => norms[b] - norms[a] || a - b);
  return idx.slice(0, count).sort((a, b) => a - b);
}
