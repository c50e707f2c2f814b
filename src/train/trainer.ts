// The trainer behind model.train() / trainStep(): parameters, their gradients and optimizer state
// in a wasm memory of its own, one training program per input shape (src/train/program.ts),
// the loss (softmax cross-entropy, BCE with logits, MSE, smooth L1) and the optimizer's update
// over each trainable parameter, all as wasm kernels. PyTorch's conventions throughout: its
// parameter names (the graph's initializer names), its update rules and defaults, BatchNorm's
// running statistics as buffers.
import { ShapeError, ValueError, UnsupportedOpError } from '../errors';
import type { Graph, Tensor } from '../graph/ir';
import { numel, shapeStr } from '../graph/ir';
import type { Kernels } from '../runtime/kernels';
import type { Mem } from '../runtime/memory';
import type { Optimizer } from './optim';
import { planProgram, type Program } from './program';

/** What the model hands the trainer (so this lazily loaded chunk imports no engine internals). */
export interface TrainHost {
  runtime: () => Promise<{ mem: Mem; k: Kernels }>;
  cloneGraph: (g: Graph) => Graph;
  inferShapes: (g: Graph) => unknown;
  /** Inputs of each op that are settings or buffers rather than trainable parameters. */
  notParams: Record<string, number[]>;
}

/** Which loss trainStep computes on the model's first output. */
export type Loss = 'cross-entropy' | 'bce-with-logits' | 'mse' | 'smooth-l1';

export interface TrainStepOptions {
  /** Default: 'cross-entropy' for Int32Array targets, else 'mse'. */
  loss?: Loss;
  /** cross-entropy: label smoothing in [0, 1). */
  labelSmoothing?: number;
  /** cross-entropy: a weight per class. */
  classWeights?: Float32Array | number[];
  /** bce-with-logits: weight of positive examples. */
  posWeight?: number;
  /** smooth-l1: beta (default 1). */
  beta?: number;
  /** Clip the gradients' global L2 norm to this before the update (torch.nn.utils.clip_grad_norm_). */
  clipGradNorm?: number;
  /** Multiplies every group's learning rate (a schedule's factor). */
  lrScale?: number;
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

/** How each float initializer is used: trained, updated as a buffer (running statistics), or read as a constant. */
function classify(g: Graph, notParams: Record<string, number[]>): { params: Set<string>; buffers: Set<string> } {
  const params = new Set<string>();
  const buffers = new Set<string>();
  const settings = new Set<string>();
  for (const n of g.nodes)
    n.inputs.forEach((i, j) => {
      if (!i || !g.initializers.has(i)) return;
      if (n.op === 'BatchNormalization' && (j === 3 || j === 4)) buffers.add(i);
      else if (notParams[n.op]?.includes(j) || (n.op === 'Dropout' && j > 0)) settings.add(i);
      else params.add(i);
    });
  for (const b of buffers) params.delete(b);
  return { params, buffers };
}

export class Trainer {
  readonly params = new Map<string, Param>();
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
    seed: number,
  ) {
    this.seed = seed;
    mem.setBase(k.heap_base());
    mem.enableTracking();
    this.persistent = mem.newOwner();
    mem.setOwner(this.persistent);
    const { params, buffers } = classify(graph, host.notParams);
    for (const name of params) {
      const t = graph.initializers.get(name)!;
      const ptr = mem.putF32(t.data);
      const grad = mem.alloc(t.data.length * 4);
      this.params.set(name, { name, shape: t.shape.slice(), ptr, grad, count: t.data.length });
    }
    for (const name of buffers) {
      const t = graph.initializers.get(name)!;
      this.buffers.set(name, { ptr: mem.putF32(t.data), shape: t.shape.slice() });
    }
  }

  /** A trainer for `graph` (as built or imported, before fusion) with its current weights. */
  static async create(graph: Graph, host: TrainHost, seed = 0): Promise<Trainer> {
    const { mem, k } = await host.runtime();
    return new Trainer(host.cloneGraph(graph), host, mem, k, seed);
  }

  /** Exclude parameters whose name starts with a prefix from updates (and from gradients where nothing else needs them). */
  freeze(prefixes: string[]): void {
    this.frozen = prefixes.slice();
    this.program = undefined;
  }

  private trainable = (name: string): boolean => this.params.has(name) && !this.frozen.some((p) => name === p || name.startsWith(p));

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
    for (const name of this.params.keys())
      if (this.trainable(name) && !read.has(name))
        throw new UnsupportedOpError('training', name, `parameter '${name}' reaches the network only through constant-folded nodes; it cannot be trained here`);
    const owner = this.mem.newOwner();
    const prev = this.mem.setOwner(owner);
    try {
      const slots = new Map<string, { ptr: number; grad: number }>();
      for (const [name, p] of this.params) slots.set(name, { ptr: p.ptr, grad: p.grad });
      for (const [name, b] of this.buffers) slots.set(name, { ptr: b.ptr, grad: 0 });
      this.program = planProgram(g, this.k, this.mem, key, owner, slots, this.trainable, this.state);
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
    this.state.step++;
    this.state.seed = (Math.imul(this.seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(this.state.step, 0x85ebca6b)) | 0;
    for (const f of prog.forward) f();
    const out = this.graph.outputs[0].name;
    const yp = prog.outPtr.get(out)!;
    const dy = prog.outGrad.get(out);
    if (dy === undefined) throw new ValueError('trainStep: no parameter reaches the output (all frozen?)');
    const loss = this.loss(yp, prog.shapes.get(out)!, dy, targets, o);
    if (!Number.isFinite(loss)) throw new ValueError(`trainStep: the loss is ${loss} (diverged, or targets outside the classes)`);
    for (const p of this.params.values()) if (this.trainable(p.name)) k.fill_f32(p.grad, p.count, 0);
    for (const b of prog.backward) b();
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
      if (shape.length !== 2) throw new ShapeError(`trainStep: cross-entropy needs [N, classes] logits, the output is ${shapeStr(shape)}`);
      const [N, C] = shape;
      if (targets.length !== N) throw new ShapeError(`trainStep: ${targets.length} targets for a batch of ${N}`);
      const bad = targets.findIndex((t) => !(t >= 0 && t < C));
      if (bad >= 0) throw new ValueError(`trainStep: target ${targets[bad]} at index ${bad} is not a class in [0, ${C})`);
      const tp = this.scratchTargets(N + C);
      mem.i32.set(targets, tp >>> 2);
      let wp = 0;
      if (o.classWeights) {
        if (o.classWeights.length !== C) throw new ShapeError(`trainStep: ${o.classWeights.length} class weights for ${C} classes`);
        wp = tp + N * 4;
        mem.f32.set(o.classWeights, wp >>> 2);
      }
      const ls = o.labelSmoothing ?? 0;
      if (!(ls >= 0 && ls < 1)) throw new ValueError(`trainStep: labelSmoothing must be in [0, 1), got ${ls}`);
      return k.softmax_xent_f32(yp, N, C, tp, wp, ls, dy);
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

  /** A parameter's optimizer state for this optimizer kind (made, zeroed, on first use or when the kind changes). */
  private stateOf(p: Param, opt: Optimizer): NonNullable<Param['state']> {
    const sig = opt.kind + (opt.kind === 'sgd' ? (opt.momentum > 0 ? 'm' : '') : opt.kind === 'rmsprop' ? `${opt.momentum > 0 ? 'm' : ''}${opt.centered ? 'c' : ''}` : opt.amsgrad ? 'a' : '');
    if (p.state?.kind === sig) return p.state;
    const count =
      opt.kind === 'sgd' ? (opt.momentum > 0 ? 1 : 0)
        : opt.kind === 'rmsprop' ? 1 + (opt.momentum > 0 || opt.centered ? 2 : 0)
          : opt.amsgrad ? 3 : 2;
    const prev = this.mem.setOwner(this.persistent);
    const bufs: number[] = [];
    for (let i = 0; i < count; i++) {
      const b = this.mem.alloc(p.count * 4);
      this.k.fill_f32(b, p.count, 0);
      bufs.push(b);
    }
    this.mem.setOwner(prev);
    // rmsprop's buffers: square average, momentum buffer (0 = none), gradient average (0 = none)
    if (opt.kind === 'rmsprop' && count === 3) {
      if (!(opt.momentum > 0)) bufs[1] = 0;
      if (!opt.centered) bufs[2] = 0;
    }
    p.state = { kind: sig, bufs, step: 0 };
    return p.state;
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

  /** Overwrite a parameter or buffer (loading a state_dict). */
  load(name: string, t: Tensor): void {
    const p = this.params.get(name) ?? this.buffers.get(name);
    if (!p) throw new ValueError(`no parameter or buffer named '${name}'`);
    if (t.data.length !== numel(p.shape)) throw new ShapeError(`'${name}': ${t.data.length} values for shape ${shapeStr(p.shape)}`);
    this.mem.f32.set(t.data, p.ptr >>> 2);
  }
}
