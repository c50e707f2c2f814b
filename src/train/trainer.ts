// The trainer behind model.train() / trainStep(): parameters, their gradients and optimizer state
// in a wasm memory of its own, one training program per input shape (src/train/program.ts),
// the loss (softmax cross-entropy, BCE with logits, MSE, smooth L1) and the optimizer's update
// over each trainable parameter, all as wasm kernels. PyTorch's conventions throughout: its
// parameter names (the graph's initializer names), its update rules and defaults, BatchNorm's
// running statistics as buffers.
import { numel, ShapeError, shapeStr, UnsupportedOpError, ValueError, WasmCnnError } from '../lazy/kit';
import type { Graph, Node, Tensor } from '../graph/ir';
import type { Kernels } from '../runtime/kernels';
import type { Mem } from '../runtime/memory';
import type { Pool } from '../runtime/threads';
import type { Optimizer } from './optim';
import type { CompileOptions, Feeds, Model } from '../model';
import { planProgram, type Program, type TrainLib } from './program';

/** What the model hands the trainer (so this lazily loaded chunk imports no engine internals). */
export interface TrainHost {
  /** The trainer's own wasm instance and memory (with the model's thread pool, if any). */
  runtime: () => Promise<{ mem: Mem; k: Kernels; pool?: Pool; id: number }>;
  /** compileGraph, to plan the inference model with trained weights. */
  compileGraph: (g: Graph, options: CompileOptions) => Promise<Model>;
  cloneGraph: (g: Graph) => Graph;
  inferShapes: (g: Graph) => unknown;
  /** Inference pieces the training rules reuse. */
  lib: TrainLib;
  /** The graph's trainable parameters and its buffers (BatchNorm running statistics). */
  stateEntries: (g: Graph) => { params: Set<string>; buffers: Set<string> };
  /** Whether compileGraph rewrites node n (src/graph/expand.ts: ONNX Swish, 1-D windows). */
  needsExpand: (g: Graph, n: Node) => boolean;
}

/** Which loss trainStep computes on the model's first output. */
export type Loss = 'cross-entropy' | 'bce-with-logits' | 'mse' | 'smooth-l1';

/** Options of model.trainStep() (and fit(), which passes them on). */
export interface TrainStepOptions {
  /** Default: 'cross-entropy' for Int32Array targets, else 'mse'. */
  loss?: Loss;
  /** cross-entropy: label smoothing in [0, 1). */
  labelSmoothing?: number;
  /** cross-entropy: a weight per class. */
  classWeights?: Float32Array | number[];
  /**
   * cross-entropy: a target value that takes no part in the loss (PyTorch's ignore_index,
   * default -100; segmentation datasets mark void pixels 255).
   */
  ignoreIndex?: number;
  /** bce-with-logits: weight of positive examples. */
  posWeight?: number;
  /** smooth-l1: beta (default 1). */
  beta?: number;
  /** Clip the gradients' global L2 norm to this before the update (torch.nn.utils.clip_grad_norm_). */
  clipGradNorm?: number;
  /** Multiplies every group's learning rate (a schedule's factor). */
  lrScale?: number;
  /**
   * Extra outputs that take the same loss with a weight, added to the first output's: GoogLeNet's
   * auxiliary classifiers train with `{ aux1: 0.3, aux2: 0.3 }` as torchvision's reference does.
   */
  lossWeights?: Record<string, number>;
}

interface Param {
  name: string;
  shape: number[];
  ptr: number;
  grad: number;
  count: number;
  /** Optimizer state buffers (by the optimizer kind that made them) and its step count. */
  state?: { kind: string; bufs: number[]; step: number };
}

/** Per-parameter state buffers of each optimizer layout, by PyTorch's state names ('' = not kept). */
const LAYOUTS: string[][] = [
  [],
  ['momentum_buffer'],
  ['exp_avg', 'exp_avg_sq', ''],
  ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'],
  ['square_avg', '', ''],
  ['square_avg', 'momentum_buffer', ''],
  ['square_avg', '', 'grad_avg'],
  ['square_avg', 'momentum_buffer', 'grad_avg'],
];
const STATE_KEYS = ['momentum_buffer', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'square_avg', 'grad_avg'];

/** The state layout an optimizer's settings need (Adam and AdamW share theirs). */
function stateNames(o: Optimizer): string[] {
  if (o.kind === 'sgd') return LAYOUTS[o.momentum > 0 ? 1 : 0];
  if (o.kind === 'rmsprop') return LAYOUTS[4 + (o.momentum > 0 ? 1 : 0) + (o.centered ? 2 : 0)];
  return LAYOUTS[o.amsgrad ? 3 : 2];
}

/**
 * A derived weight the graph reads that is a gather of its sources (each element one source
 * element, or 0), like a C4 filter bank: filled from the sources before each forward, its
 * gradient summed back into theirs after each backward.
 */
interface Tied {
  name: string;
  ptr: number;
  grad: number;
  count: number;
  /** Source element of each element: a parameter and an index into it (p = -1: constant 0). */
  src: Int32Array;
  idx: Int32Array;
  sources: Param[];
}

/**
 * Whether derived weight `d` is a gather of its sources, found by probing its function: fed
 * each source element's 1-based position it must return positions (or 0), and fed random
 * values exactly the values at those positions. Undefined when it is not (e.g. RepVGG's sums).
 */
function gatherMap(d: NonNullable<Graph['derived']>[number], sources: Param[]): { src: Int32Array; idx: Int32Array } | undefined {
  const total = sources.reduce((a, p) => a + p.count, 0);
  if (total >= 1 << 24) return undefined;
  let offset = 0;
  const probe = sources.map((p) => {
    const data = Float32Array.from({ length: p.count }, (_, i) => offset + i + 1);
    offset += p.count;
    return { data, shape: p.shape.slice() };
  });
  const out = d.fn(probe);
  const n = numel(d.shape);
  if (out.length !== n) return undefined;
  const starts: number[] = [];
  offset = 0;
  for (const p of sources) starts.push((offset += p.count) - p.count);
  const src = new Int32Array(n);
  const idx = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const v = out[j];
    if (!Number.isInteger(v) || v < 0 || v > total) return undefined;
    if (v === 0) {
      src[j] = -1;
      continue;
    }
    let s = starts.length - 1;
    while (starts[s] > v - 1) s--;
    src[j] = s;
    idx[j] = v - 1 - starts[s];
  }
  // the same positions must carry arbitrary values through unchanged
  const rand = sources.map((p, k) => ({ data: Float32Array.from({ length: p.count }, (_, i) => Math.sin(i * 12.9898 + k * 78.233) * 43758.5453 % 1), shape: p.shape.slice() }));
  const out2 = d.fn(rand);
  for (let j = 0; j < n; j++) if (out2[j] !== (src[j] < 0 ? 0 : rand[src[j]].data[idx[j]])) return undefined;
  return { src, idx };
}

/** A model's training state (model.ts): mode, frozen prefixes, whether run() must take new weights. */
export interface TrainState {
  training: boolean;
  frozen: string[];
  stale: boolean;
  seed: number;
}

export class Trainer {
  readonly params = new Map<string, Param>();
  private readonly tied: Tied[] = [];
  readonly buffers = new Map<string, { ptr: number; shape: number[] }>();
  readonly state = { training: true, seed: 0, step: 0 };
  private frozen: string[] = [];
  private program: Program | undefined;
  private targetPtr = 0;
  private targetCap = 0;
  private persistent: number;
  private seed: number;

  private constructor(
    private readonly graph: Graph,
    private readonly host: TrainHost,
    private readonly mem: Mem,
    private readonly k: Kernels,
    private readonly pool: { pool: Pool; id: number } | undefined,
    seed: number,
    declared: Map<string, number[]>,
  ) {
    this.seed = seed;
    mem.setBase(k.heap_base());
    mem.enableTracking();
    this.persistent = mem.newOwner();
    mem.setOwner(this.persistent);
    const { params, buffers } = host.stateEntries(graph);
    for (const name of params) {
      const t = graph.initializers.get(name)!;
      const ptr = mem.putF32(t.data);
      const grad = mem.alloc(t.data.length * 4);
      this.params.set(name, { name, shape: (declared.get(name) ?? t.shape).slice(), ptr, grad, count: t.data.length });
    }
    for (const name of buffers) {
      const t = graph.initializers.get(name)!;
      this.buffers.set(name, { ptr: mem.putF32(t.data), shape: (declared.get(name) ?? t.shape).slice() });
    }
    for (const d of graph.derived ?? []) {
      const sources = d.from.map((f) => this.params.get(f));
      if (sources.some((p) => !p)) continue;
      const map = gatherMap(d, sources as Param[]);
      if (!map) continue;
      const count = numel(d.shape);
      this.tied.push({ name: d.name, ptr: mem.alloc(count * 4), grad: mem.alloc(count * 4), count, ...map, sources: sources as Param[] });
    }
  }

  /** A trainer for `graph` (as built or imported, before fusion) with its current weights. */
  static async create(graph: Graph, host: TrainHost, tr: TrainState): Promise<Trainer> {
    const { mem, k, pool, id } = await host.runtime();
    const g = host.cloneGraph(graph);
    // ONNX Swish and 1-D windows (PyTorch's Conv1d, ECA's channel conv) train in the form
    // inference runs them in; a parameter keeps its name and, to the user, its shape
    const declared = new Map([...g.initializers].map(([name, t]) => [name, t.shape]));
    if (g.nodes.some((n) => host.needsExpand(g, n))) {
      (await import('../graph/expand')).expand(g, host.needsExpand, { keepWeightNames: true });
      // what the rewrite made (a Swish's alpha, a weight read elsewhere too, reshaped under a
      // new name) is a constant of the graph, not a parameter
      g.constants = new Set([...(g.constants ?? []), ...[...g.initializers.keys()].filter((name) => !declared.has(name))]);
    }
    const t = new Trainer(g, host, mem, k, pool && { pool, id }, tr.seed, declared);
    t.freeze(tr.frozen);
    return t;
  }

  /** model.trainStep(): one step in the model's mode; run() takes the new weights afterwards. */
  async trainStep(tr: TrainState, feeds: Feeds, targets: Int32Array | Tensor, opt: Optimizer, o: TrainStepOptions): Promise<number> {
    if (!opt || typeof opt !== 'object' || !('kind' in opt)) throw new ValueError('trainStep: the optimizer comes from sgd(), adam(), adamw() or rmsprop()');
    if (this.disposed) throw new WasmCnnError('this model has been disposed');
    await this.ready();
    this.state.training = tr.training;
    tr.stale = true;
    return this.step(feeds as Record<string, Tensor>, targets, opt, o);
  }

  /** model.loadStateDict(): weights, buffers and optimizer state by name. */
  loadState(tr: TrainState, state: Map<string, Tensor>): void {
    for (const [name, v] of state) if (!name.startsWith('optimizer.')) this.load(name, v);
    this.loadOptimizerState(state);
    tr.stale = true;
  }

  /**
   * Give `model` the inference plan of the trained weights: the graph as loaded with every
   * parameter, buffer and derived weight replaced, planned with a dynamic batch axis (trained on
   * batches, it then runs on any batch size); its old plan's memory and thread share go.
   */
  async syncInto(model: Model): Promise<void> {
    // the model's private state, as model.ts declares it
    const m = model as unknown as { source: { graph: Graph; options: CompileOptions }; tr: TrainState; detector: unknown; pool?: { pool: Pool; id: number } };
    const fresh = await this.compileTrained(m.source);
    const keep = { tr: m.tr, source: m.source, detector: m.detector };
    if (m.pool) m.pool.pool.detach(m.pool.id);
    Object.assign(model, fresh, keep);
    m.tr.stale = false;
  }

  private compileTrained(source: { graph: Graph; options: CompileOptions }): Promise<Model> {
    const g = this.host.cloneGraph(source.graph);
    for (const name of [...this.params.keys(), ...this.buffers.keys()]) g.initializers.set(name, this.tensor(name)!);
    for (const d of g.derived ?? []) g.initializers.set(d.name, { data: d.fn(d.from.map((f) => g.initializers.get(f)!)), shape: d.shape.slice() });
    const batch = Object.fromEntries(g.inputs.filter((i) => (i.shape?.length ?? 0) > 0 && (!i.dtype || i.dtype === 'float')).map((i) => [i.name, [0]]));
    return this.host.compileGraph(g, { ...source.options, dynamicAxes: { ...batch, ...source.options.dynamicAxes } });
  }

  /** Exclude parameters whose name starts with a prefix from updates (and from gradients where nothing else needs them). */
  freeze(prefixes: string[]): void {
    this.frozen = prefixes.slice();
    this.program = undefined;
  }

  private trainable = (name: string): boolean => {
    const t = this.tied.find((x) => x.name === name);
    if (t) return t.sources.some((p) => this.trainable(p.name));
    return this.params.has(name) && !this.frozen.some((p) => name === p || name.startsWith(p));
  };

  /** The program for these input shapes (planned on first use; one is kept). */
  private programFor(feeds: Record<string, Tensor>): Program {
    const g = this.host.cloneGraph(this.graph);
    for (const i of g.inputs) {
      const t = feeds[i.name];
      if (!t) throw new ValueError(`trainStep: missing input '${i.name}'`);
      if (!(t.data instanceof Float32Array) || !Array.isArray(t.shape) || t.shape.length !== (i.shape?.length ?? t.shape.length) || numel(t.shape) !== t.data.length)
        throw new ShapeError(`trainStep: input '${i.name}' must be { data: Float32Array, shape } of rank ${i.shape?.length}, got shape ${shapeStr(t.shape)}`);
      i.shape = t.shape.slice();
    }
    const key = g.inputs.map((i) => i.shape!.join('x')).join(',') + '|' + this.frozen.join(',');
    if (this.program?.key === key) return this.program;
    if (this.program) this.mem.free(this.program.owner);
    this.program = undefined;
    if (this.host.inferShapes(g)) throw new UnsupportedOpError('training', g.nodes[0]?.name ?? '', 'a graph with data-dependent ops (a run-time tail)');
    const read = new Set(g.nodes.flatMap((n) => n.inputs));
    for (const t of this.tied) if (read.has(t.name)) for (const p of t.sources) read.add(p.name);
    for (const name of this.params.keys())
      if (this.trainable(name) && !read.has(name))
        throw new UnsupportedOpError('training', name, `parameter '${name}' reaches the network only through constant-folded nodes; it cannot be trained here`);
    const owner = this.mem.newOwner();
    const prev = this.mem.setOwner(owner);
    try {
      const slots = new Map<string, { ptr: number; grad: number }>();
      for (const [name, p] of this.params) slots.set(name, { ptr: p.ptr, grad: p.grad });
      for (const [name, b] of this.buffers) slots.set(name, { ptr: b.ptr, grad: 0 });
      for (const t of this.tied) slots.set(t.name, { ptr: t.ptr, grad: t.grad });
      this.program = planProgram(this.host.lib, g, this.k, this.pool, this.mem, key, owner, slots, this.trainable, this.state);
    } catch (e) {
      this.mem.free(owner);
      throw e;
    } finally {
      this.mem.setOwner(prev);
    }
    return this.program;
  }

  /** Forward, loss, backward and one optimizer update; returns the loss. */
  step(feeds: Record<string, Tensor>, targets: Int32Array | Tensor, opt: Optimizer, o: TrainStepOptions = {}): number {
    const prog = this.programFor(feeds);
    const mem = this.mem;
    const k = this.k;
    for (const [name, p] of prog.inPtr) {
      const t = feeds[name];
      mem.f32.set(t.data, p >>> 2);
      const bad = k.find_nonfinite_f32(p, t.data.length);
      if (bad >= 0) throw new ValueError(`trainStep: input '${name}' holds ${t.data[bad]} at index ${bad}`);
    }
    this.gatherTied();
    this.state.step++;
    this.state.seed = (Math.imul(this.seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(this.state.step, 0x85ebca6b)) | 0;
    for (const f of prog.forward) f();
    const out = this.graph.outputs[0].name;
    const yp = prog.outPtr.get(out)!;
    const dy = prog.outGrad.get(out);
    if (dy === undefined) throw new ValueError('trainStep: no parameter reaches the output (all frozen?)');
    let loss = this.loss(yp, prog.shapes.get(out)!, dy, targets, o);
    // outputs beyond the first (auxiliary heads) add their weighted loss, or take none
    const weights = o.lossWeights ?? {};
    for (const name of Object.keys(weights))
      if (name === out || !prog.outGrad.has(name)) throw new ValueError(`trainStep: lossWeights names '${name}', which is not an extra output (${[...prog.outGrad.keys()].filter((x) => x !== out).join(', ') || 'none'})`);
    for (const [name, p] of prog.outGrad) {
      if (name === out) continue;
      const n = numel(prog.shapes.get(name)!);
      const w = weights[name];
      if (w === undefined || w === 0) {
        k.fill_f32(p, n, 0);
        continue;
      }
      if (!Number.isFinite(w)) throw new ValueError(`trainStep: lossWeights['${name}'] must be a finite number`);
      loss += w * this.loss(prog.outPtr.get(name)!, prog.shapes.get(name)!, p, targets, o);
      k.scale_f32(p, n, w);
    }
    if (!Number.isFinite(loss)) throw new ValueError(`trainStep: the loss is ${loss} (diverged, or targets outside the classes)`);
    for (const p of this.params.values()) if (this.trainable(p.name)) k.fill_f32(p.grad, p.count, 0);
    for (const t of this.tied) k.fill_f32(t.grad, t.count, 0);
    for (const b of prog.backward) b();
    this.scatterTied();
    if (o.clipGradNorm !== undefined) this.clip(o.clipGradNorm);
    this.update(opt, o.lrScale ?? 1);
    return loss;
  }

  private loss(yp: number, shape: number[], dy: number, targets: Int32Array | Tensor, o: TrainStepOptions): number {
    const k = this.k;
    const mem = this.mem;
    const kind: Loss = o.loss ?? (targets instanceof Int32Array ? 'cross-entropy' : 'mse');
    const n = numel(shape);
    if (kind === 'cross-entropy') {
      if (!(targets instanceof Int32Array)) throw new ValueError('trainStep: cross-entropy takes class indices as an Int32Array');
      // [N, C] logits, or [N, C, d1, ...] (per pixel, as torch.nn.functional.cross_entropy) with
      // targets [N, d1, ...]: the class axis is moved innermost for the kernel and back for dy
      if (shape.length < 2) throw new ShapeError(`trainStep: cross-entropy needs [N, classes, ...] logits, the output is ${shapeStr(shape)}`);
      const C = shape[1];
      const inner = n / (shape[0] * C);
      const rows = shape[0] * inner;
      if (targets.length !== rows)
        throw new ShapeError(`trainStep: ${targets.length} targets for output ${shapeStr(shape)} (${rows} = N${inner > 1 ? ' x spatial' : ''} expected)`);
      const ignore = o.ignoreIndex ?? -100;
      if (!Number.isInteger(ignore)) throw new ValueError(`trainStep: ignoreIndex must be an integer, got ${ignore}`);
      const bad = targets.findIndex((t) => !(t >= 0 && t < C) && t !== ignore);
      if (bad >= 0) throw new ValueError(`trainStep: target ${targets[bad]} at index ${bad} is not a class in [0, ${C}) nor ignoreIndex ${ignore}`);
      // targets, class weights, and for per-pixel logits the rows and their gradient
      const tp = this.scratchTargets(rows + C + (inner > 1 ? 2 * n + 18 : 0));
      mem.i32.set(targets, tp >>> 2);
      let wp = 0;
      if (o.classWeights) {
        if (o.classWeights.length !== C) throw new ShapeError(`trainStep: ${o.classWeights.length} class weights for ${C} classes`);
        wp = tp + rows * 4;
        mem.f32.set(o.classWeights, wp >>> 2);
      }
      const ls = o.labelSmoothing ?? 0;
      if (!(ls >= 0 && ls < 1)) throw new ValueError(`trainStep: labelSmoothing must be in [0, 1), got ${ls}`);
      if (inner === 1) return k.softmax_xent_f32(yp, rows, C, tp, wp, ls, ignore, dy);
      const xr = tp + (rows + C) * 4;
      const dr = xr + n * 4;
      // copy_nd_f32's shapes and strides: [N, C, inner] -> [N, inner, C] and back
      const N = shape[0];
      const dims = dr + n * 4;
      mem.i32.set([N, inner, C, C * inner, 1, inner, inner * C, C, 1, N, C, inner, C * inner, inner, 1, inner * C, 1, C], dims >>> 2);
      k.copy_nd_f32(xr, yp, 3, dims, dims + 24, dims + 12);
      const loss = k.softmax_xent_f32(xr, rows, C, tp, wp, ls, ignore, dy ? dr : 0);
      if (dy) k.copy_nd_f32(dy, dr, 3, dims + 36, dims + 48, dims + 60);
      return loss;
    }
    if (targets instanceof Int32Array) throw new ValueError(`trainStep: loss '${kind}' takes a target tensor, not class indices`);
    if (targets.data.length !== n) throw new ShapeError(`trainStep: target of ${targets.data.length} values for output ${shapeStr(shape)}`);
    const tp = this.scratchTargets(n);
    mem.f32.set(targets.data, tp >>> 2);
    if (kind === 'mse') return k.mse_f32(yp, tp, n, dy);
    if (kind === 'smooth-l1') return k.smooth_l1_f32(yp, tp, n, o.beta ?? 1, dy);
    if (kind === 'bce-with-logits') return k.bce_logits_f32(yp, tp, n, o.posWeight ?? 1, dy);
    throw new ValueError(`trainStep: unknown loss '${String(kind)}' (cross-entropy, bce-with-logits, mse, smooth-l1)`);
  }

  /** Derived weights from their sources (before a forward). */
  private gatherTied(): void {
    const f = this.mem.f32;
    for (const t of this.tied) {
      const base = t.ptr >>> 2;
      for (let j = 0; j < t.count; j++) f[base + j] = t.src[j] < 0 ? 0 : f[(t.sources[t.src[j]].ptr >>> 2) + t.idx[j]];
    }
  }

  /** Derived weights' gradients summed into their sources' (after a backward). */
  private scatterTied(): void {
    const f = this.mem.f32;
    for (const t of this.tied) {
      const base = t.grad >>> 2;
      for (let j = 0; j < t.count; j++) if (t.src[j] >= 0) f[(t.sources[t.src[j]].grad >>> 2) + t.idx[j]] += f[base + j];
    }
  }

  private scratchTargets(floats: number): number {
    if (floats > this.targetCap) {
      const prev = this.mem.setOwner(this.persistent);
      this.targetPtr = this.mem.alloc(floats * 4);
      this.mem.setOwner(prev);
      this.targetCap = floats;
    }
    return this.targetPtr;
  }

  private clip(max: number): void {
    if (!(max > 0)) throw new ValueError(`clipGradNorm must be positive, got ${max}`);
    let sq = 0;
    for (const p of this.params.values()) if (this.trainable(p.name)) sq += this.k.sumsq_f32(p.grad, p.count);
    const coef = max / (Math.sqrt(sq) + 1e-6);
    if (coef < 1) for (const p of this.params.values()) if (this.trainable(p.name)) this.k.scale_f32(p.grad, p.count, coef);
  }

  private update(opt: Optimizer, lrScale: number): void {
    const k = this.k;
    for (const p of this.params.values()) {
      if (!this.trainable(p.name)) continue;
      const g = opt.groups.find((gr) => gr.prefixes.some((x) => p.name === x || p.name.startsWith(x)));
      const lr = (g?.lr ?? opt.lr) * lrScale;
      const wd = g?.weightDecay ?? opt.weightDecay;
      const st = this.stateOf(p, opt);
      st.step++;
      const [b0, b1, b2] = st.bufs;
      switch (opt.kind) {
        case 'sgd':
          k.sgd_step_f32(p.count, p.ptr, p.grad, b0 ?? 0, lr, opt.momentum, opt.dampening, wd, opt.nesterov ? 1 : 0, st.step === 1 ? 1 : 0);
          break;
        case 'adam':
        case 'adamw':
          k.adam_step_f32(p.count, p.ptr, p.grad, b0, b1, b2 ?? 0, lr, opt.betas[0], opt.betas[1], opt.eps, wd, opt.kind === 'adamw' ? 1 : 0, opt.amsgrad ? 1 : 0, st.step);
          break;
        case 'rmsprop':
          k.rmsprop_step_f32(p.count, p.ptr, p.grad, b0, b1 ?? 0, b2 ?? 0, lr, opt.alpha, opt.eps, wd, opt.momentum, opt.centered ? 1 : 0);
          break;
      }
    }
  }

  /** A parameter's optimizer state for this optimizer's layout (made, zeroed, on first use or when the layout changes). */
  private stateOf(p: Param, opt: Optimizer): NonNullable<Param['state']> {
    const names = stateNames(opt);
    const sig = names.join(',');
    if (p.state?.kind === sig) return p.state;
    const prev = this.mem.setOwner(this.persistent);
    const bufs = names.map((n) => {
      if (!n) return 0;
      const b = this.mem.alloc(p.count * 4);
      this.k.fill_f32(b, p.count, 0);
      return b;
    });
    this.mem.setOwner(prev);
    p.state = { kind: sig, bufs, step: 0 };
    return p.state;
  }

  /**
   * The optimizer state by name, as PyTorch's optimizers name it per parameter:
   * `optimizer.<param>.momentum_buffer`, `.exp_avg`, `.exp_avg_sq`, `.max_exp_avg_sq`,
   * `.square_avg`, `.grad_avg`, and `.step` (one value). Empty before the first step.
   */
  optimizerState(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const p of this.params.values()) {
      if (!p.state) continue;
      const names = p.state.kind.split(',');
      names.forEach((n, i) => {
        if (!n) return;
        const b = p.state!.bufs[i] >>> 2;
        out.set(`optimizer.${p.name}.${n}`, { data: this.mem.f32.slice(b, b + p.count), shape: p.shape.slice() });
      });
      out.set(`optimizer.${p.name}.step`, { data: Float32Array.of(p.state.step), shape: [1] });
    }
    return out;
  }

  /** Restore optimizer state saved by optimizerState() (the buffers present say which optimizer layout it is). */
  loadOptimizerState(state: Map<string, Tensor>): void {
    for (const p of this.params.values()) {
      const step = state.get(`optimizer.${p.name}.step`);
      if (!step) continue;
      const layout = LAYOUTS.find((l) => l.every((n) => !n || state.has(`optimizer.${p.name}.${n}`)) && l.filter(Boolean).length === STATE_KEYS.filter((k) => state.has(`optimizer.${p.name}.${k}`)).length);
      if (!layout) throw new ValueError(`optimizer state of '${p.name}' does not match any optimizer's buffers`);
      const prev = this.mem.setOwner(this.persistent);
      const bufs = layout.map((n) => {
        if (!n) return 0;
        const t = state.get(`optimizer.${p.name}.${n}`)!;
        if (t.data.length !== p.count) throw new ShapeError(`optimizer.${p.name}.${n}: ${t.data.length} values for ${p.count}`);
        return this.mem.putF32(t.data);
      });
      this.mem.setOwner(prev);
      p.state = { kind: layout.join(','), bufs, step: step.data[0] };
    }
  }

  /** The current value of a parameter or buffer, copied out (undefined for other names). */
  tensor(name: string): Tensor | undefined {
    const p = this.params.get(name) ?? this.buffers.get(name);
    if (!p) return undefined;
    const n = numel(p.shape);
    return { data: this.mem.f32.slice(p.ptr >>> 2, (p.ptr >>> 2) + n), shape: p.shape.slice() };
  }

  /** The gradient of a parameter from the last step, copied out. */
  gradient(name: string): Tensor | undefined {
    const p = this.params.get(name);
    if (!p) return undefined;
    return { data: this.mem.f32.slice(p.grad >>> 2, (p.grad >>> 2) + p.count), shape: p.shape.slice() };
  }

  /** Waits for the thread pool's workers (restarting after another model's disposal, say). */
  async ready(): Promise<void> {
    const p = this.pool;
    if (p && !p.pool.serves(p.id)) await p.pool.ready(p.id);
  }

  /** Threads the trainer's kernels split over. */
  get threads(): number {
    return this.pool?.pool.threads ?? 1;
  }

  /** Give the trainer's share of the thread pool back (its memory goes with the object). */
  dispose(): void {
    if (this.pool) this.pool.pool.detach(this.pool.id);
    this.program = undefined;
    this.disposed = true;
  }
  private disposed = false;

  /** Overwrite a parameter or buffer (loading a state_dict). */
  load(name: string, t: Tensor): void {
    const p = this.params.get(name) ?? this.buffers.get(name);
    if (!p) throw new ValueError(`no parameter or buffer named '${name}'`);
    if (t.data.length !== numel(p.shape)) throw new ShapeError(`'${name}': ${t.data.length} values for shape ${shapeStr(p.shape)}`);
    this.mem.f32.set(t.data, p.ptr >>> 2);
  }
}
