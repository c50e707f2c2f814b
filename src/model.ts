// From a Graph to a runnable Model: shape inference, passes, layouts, the arena, then one
// plan step per node with every address bound. run() copies inputs in, calls the steps in
// order and copies outputs out; it never allocates wasm memory.
import { GraphError, ShapeError, ValueError, WasmCnnError, WeightsError } from './errors';
import { receptiveField } from './analysis/receptiveField';
import { removeIdentities } from './graph/cleanup';
import { foldBatchNorm } from './graph/foldBatchNorm';
import { fuseEpilogue } from './graph/fuseEpilogue';
import { inferShapes, makeInferCtx } from './graph/infer';
import type { Graph, Node, Tensor } from './graph/ir';
import { numel, shapeStr } from './graph/ir';
import { assignLayouts } from './graph/layout';
import { planArena } from './graph/memory';
import { planViews } from './graph/views';
import { recognizePatterns } from './graph/recognize';
import { trimDeadTaps } from './graph/trimTaps';
import { opDef } from './ops';
import type { Layout, PlanCtx, Step } from './ops/types';
import { physShape } from './ops/util';
import type { Kernels } from './runtime/kernels';
import { Mem } from './runtime/memory';
import { PARALLEL_KERNELS, type ParallelKernel } from './runtime/kernels';
import type { Pool } from './runtime/threads';
import { instantiate } from './runtime/wasm';

export type { Tensor } from './graph/ir';

/** One row of `profile()`: an executed node (after fusion) and its median time. */
export interface StepProfile {
  /** Node name as executed; fused activations, BatchNorms and residual adds run inside it. */
  node: string;
  /** ONNX operator type as executed (e.g. Conv with its fused activation). */
  op: string;
  /** Median milliseconds of this step over the profiled runs. */
  ms: number;
  /** Multiply-accumulates of the node (0 for data movement and elementwise ops). */
  macs: number;
}

/** One row of `summary()`: a layer as the user built or imported it (before fusion). */
export interface LayerInfo {
  /** Node name (the PyTorch module name for zoo and GraphBuilder models). */
  name: string;
  /** ONNX operator type. */
  op: string;
  /** Output shape (NCHW for image tensors). */
  outputShape: number[];
  /** Trainable parameters of this layer (BatchNorm running statistics excluded). */
  params: number;
  /** Multiply-accumulates of one run (0 for data movement and element-wise ops). */
  macs: number;
}

/** Options of one `run()`. */
export interface RunOptions {
  /**
   * Compute with NaN or ±Infinity in the feeds instead of refusing them (default false: a
   * ValueError names the input and the first such index).
   */
  allowNonFinite?: boolean;
}

/** A short description of a value the caller passed where a tensor or feeds belonged. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.slice(0, 6).map((x) => (typeof x === 'number' ? String(x) : typeof x)).join(', ')}${v.length > 6 ? ', ...' : ''}]`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}...` : v)}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Options of compiling a graph into a model (GraphBuilder.build, loadOnnx). */
export interface CompileOptions {
  /** Fold BatchNorm, fuse activations and residuals, recognise decomposed forms (default true). */
  optimize?: boolean;
}

/** A loaded network, ready to run. */
export class Model {
  /** Names of the inputs run() takes, in order. */
  readonly inputNames: string[];
  /** Names of the outputs run() returns, in order. */
  readonly outputNames: string[];
  /** Planned input shapes (NCHW). */
  readonly inputShapes: Record<string, number[]>;
  /** Output shapes (NCHW) by output name. */
  readonly outputShapes: Record<string, number[]>;
  /** The graph as executed (after fusion and layout passes); for inspection. */
  readonly graph: Graph;
  /**
   * The network as built or imported, after shape inference and constant folding but before
   * fusion: ONNX ops plus wasmcnn's few internal ones (Silu, ChannelShuffle, ChannelLayerNorm).
   */
  readonly sourceGraph: Graph;
  /** Bytes of wasm memory the model holds (weights, arena, scratch). */
  readonly memoryBytes: number;
  /** Threads this model's convolutions and GEMMs are split over (init({ threads }) when created). */
  readonly threads: number;
  private steps: Step[];
  private stepNodes: Node[];
  private mem: Mem | undefined;
  private k: Kernels;
  private pool: { pool: Pool; id: number } | undefined;
  private inPtr: Map<string, number>;
  private outPtr: Map<string, number>;
  private layers: LayerInfo[];

  /** @internal use loadOnnx, createModel or GraphBuilder.build */
  constructor(p: {
    graph: Graph; sourceGraph: Graph; steps: Step[]; stepNodes: Node[]; mem: Mem; k: Kernels; inPtr: Map<string, number>;
    outPtr: Map<string, number>; layers: LayerInfo[]; pool?: { pool: Pool; id: number };
  }) {
    this.k = p.k;
    this.stepNodes = p.stepNodes;
    this.pool = p.pool;
    this.threads = p.pool?.pool.threads ?? 1;
    this.graph = p.graph;
    this.sourceGraph = p.sourceGraph;
    this.steps = p.steps;
    this.mem = p.mem;
    this.inPtr = p.inPtr;
    this.outPtr = p.outPtr;
    this.layers = p.layers;
    this.inputNames = p.graph.inputs.map((i) => i.name);
    this.outputNames = p.graph.outputs.map((o) => o.name);
    this.inputShapes = Object.fromEntries(p.graph.inputs.map((i) => [i.name, i.shape!.slice()]));
    this.outputShapes = Object.fromEntries(p.graph.outputs.map((o) => [o.name, p.graph.shapes.get(o.name)!.slice()]));
    this.memoryBytes = p.mem.memory.buffer.byteLength;
  }

  /**
   * Run on named NCHW inputs; returns every graph output by name. Each feed must be a
   * `{ data: Float32Array, shape: number[] }` with the planned shape; NaN or ±Infinity in a feed
   * is a ValueError naming the input and the index (pass `{ allowNonFinite: true }` to compute
   * with them anyway). Finite inputs can still overflow float32 inside the network (±3e38 through
   * a convolution), which gives Infinity or NaN outputs as in PyTorch. Throws WasmCnnError once
   * the model is disposed, or when its worker threads failed and cannot be restarted.
   */
  async run(feeds: Record<string, Tensor>, options: RunOptions = {}): Promise<Record<string, Tensor>> {
    // threaded: the workers may be restarting (after another model's disposal, or a failure)
    if (this.pool) await this.pool.pool.ready(this.pool.id);
    return this.runSync(feeds, options);
  }

  /**
   * Synchronous form of run(). On a threaded model it does not wait for worker threads that
   * are restarting (after another model's disposal): it then computes on the calling thread,
   * with the same results; after a worker failure it throws until they are replaced.
   */
  runSync(feeds: Record<string, Tensor>, options: RunOptions = {}): Record<string, Tensor> {
    const mem = this.feed(feeds, options);
    for (const s of this.steps) s();
    const out: Record<string, Tensor> = {};
    const f = mem.f32;
    for (const name of this.outputNames) {
      const shape = this.outputShapes[name];
      const p = this.outPtr.get(name)! >>> 2;
      out[name] = { data: f.slice(p, p + numel(shape)), shape: shape.slice() };
    }
    return out;
  }

  /**
   * Times every executed step (one node after fusion, e.g. a Conv with its BatchNorm, activation
   * and residual add folded in) on these inputs: one warm-up run, then `runs` runs (default 10)
   * with each step timed on its own; returns the steps in execution order with median times.
   */
  profile(feeds: Record<string, Tensor>, options: { runs?: number } = {}): StepProfile[] {
    const runs = options.runs ?? 10;
    if (!Number.isInteger(runs) || runs < 1) throw new ValueError(`profile: runs must be a positive integer, got ${String(runs)}`);
    this.runSync(feeds);
    this.feed(feeds);
    const times = this.steps.map(() => new Array<number>(runs));
    for (let r = 0; r < runs; r++)
      for (let i = 0; i < this.steps.length; i++) {
        const t = performance.now();
        this.steps[i]();
        times[i][r] = performance.now() - t;
      }
    const ctx = makeInferCtx(this.graph);
    return this.stepNodes.map((n, i) => {
      const sorted = times[i].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      let macs = 0;
      try {
        macs = opDef(n.op)?.macs?.(n, ctx) ?? 0;
      } catch {
        macs = 0;
      }
      return { node: n.name, op: n.op, ms: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, macs };
    });
  }

  /** Checks the feeds and copies them into the model's input buffers. */
  private feed(feeds: Record<string, Tensor>, options: RunOptions = {}): Mem {
    const mem = this.mem;
    if (!mem) throw new WasmCnnError('this model has been disposed');
    if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds))
      throw new ValueError(`run() takes an object of named tensors ({ ${this.inputNames.map((n) => `'${n}': { data, shape }`).join(', ')} }), got ${describeValue(feeds)}`);
    for (const name of Object.keys(feeds))
      if (!this.inPtr.has(name)) throw new ValueError(`unknown input '${name}'; the model's inputs are ${this.inputNames.join(', ')}`);
    const allow = options?.allowNonFinite === true;
    for (const name of this.inputNames) {
      const t = feeds[name];
      if (t === undefined) throw new ValueError(`missing input '${name}'`);
      if (typeof t !== 'object' || t === null) throw new ValueError(`input '${name}' must be { data: Float32Array, shape: number[] }, got ${describeValue(t)}`);
      const want = this.inputShapes[name];
      if (!(t.data instanceof Float32Array)) throw new ValueError(`input '${name}': data must be a Float32Array, got ${describeValue(t.data)}`);
      if (!Array.isArray(t.shape) || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))
        throw new ShapeError(`input '${name}': expected shape ${shapeStr(want)}, got ${describeValue(t.shape)}`);
      if (t.data.length !== numel(want))
        throw new ShapeError(`input '${name}': ${t.data.length} values for shape ${shapeStr(want)} (${numel(want)})`);
      const p = this.inPtr.get(name)!;
      mem.f32.set(t.data, p >>> 2);
      if (allow) continue;
      const bad = this.k.find_nonfinite_f32(p, t.data.length);
      if (bad >= 0) throw new ValueError(`input '${name}' holds ${t.data[bad]} at index ${bad}`);
    }
    return mem;
  }

  /** Single input, single output convenience. */
  async predict(x: Tensor): Promise<Tensor> {
    if (this.inputNames.length !== 1) throw new ValueError(`predict() needs a single-input model; this one has ${this.inputNames.length}`);
    const out = await this.run({ [this.inputNames[0]]: x });
    return out[this.outputNames[0]];
  }

  /** Layers with output shapes, parameter counts and multiply-accumulates (also after dispose()). */
  layerInfo(): LayerInfo[] {
    return this.layers.map((l) => ({ ...l, outputShape: l.outputShape.slice() }));
  }

  /** Total trainable parameters (BatchNorm running statistics excluded, as PyTorch counts). */
  get paramCount(): number {
    return this.layers.reduce((a, l) => a + l.params, 0);
  }

  /**
   * A printable table of layers: output shape, parameters, multiply-accumulates, and the
   * receptive field (size and jump in input pixels; 'all' where a layer sees the whole input).
   * Available after dispose(): it reads only the graph, not the wasm memory.
   */
  summary(): string {
    let rf = new Map<string, string[]>();
    try {
      rf = new Map(
        receptiveField(this).map((r) => [
          r.name,
          r.global ? ['all', '-'] : [`${r.size[0]}x${r.size[1]}`, `${r.jump[0]}x${r.jump[1]}`],
        ]),
      );
    } catch {
      // graphs without a spatial input (e.g. 2-D only) have no receptive field column values
    }
    const rows = this.layers.map((l) => [
      l.name, l.op, shapeStr(l.outputShape), l.params.toLocaleString('en-US'), l.macs.toLocaleString('en-US'),
      ...(rf.get(l.name) ?? ['-', '-']),
    ]);
    const head = ['layer', 'op', 'output shape', 'params', 'MACs', 'RF', 'jump'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
    const total = this.layers.reduce((a, l) => a + l.macs, 0);
    return [
      line(head),
      widths.map((w) => '-'.repeat(w)).join('  '),
      ...rows.map(line),
      '',
      `total params: ${this.paramCount.toLocaleString('en-US')}`,
      `total MACs:   ${total.toLocaleString('en-US')}`,
    ].join('\n');
  }

  /** True once dispose() has been called. */
  get disposed(): boolean {
    return this.mem === undefined;
  }

  /**
   * Release the wasm memory (and this model's share of the thread pool). Afterwards run(),
   * runSync(), predict() and profile() throw a WasmCnnError saying the model is disposed;
   * summary(), layerInfo(), paramCount and the shape fields keep working, since they describe
   * the network and hold no wasm memory. Calling dispose() again does nothing (it is idempotent,
   * like the `using` declaration's Symbol.dispose contract).
   */
  dispose(): void {
    if (!this.mem) return;
    if (this.pool) this.pool.pool.detach(this.pool.id);
    this.pool = undefined;
    this.mem = undefined;
    this.steps = [];
    this.stepNodes = [];
  }
}

/** A copy of a graph's structure; tensors are shared (they are never mutated in place). */
function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    inputs: g.inputs.map((i) => ({ ...i, shape: i.shape?.slice() })),
    outputs: g.outputs.map((o) => ({ ...o, shape: o.shape?.slice() })),
    nodes: g.nodes.map((n) => ({ ...n, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attrs: { ...n.attrs } })),
    initializers: new Map(g.initializers),
    intConstants: new Map(g.intConstants),
    shapes: new Map(g.shapes),
  };
}

/** Float inputs that are settings or buffers, not trainable parameters (PyTorch's count). */
const NOT_PARAMS: Record<string, number[]> = {
  BatchNormalization: [3, 4], Clip: [1, 2], Pad: [1, 2, 3], Resize: [1, 2, 3], Upsample: [1],
  DeformConv: [2, 4], MaxUnpool: [1, 2],
};

/**
 * Elementwise ops whose constant operand may hold ±Infinity on purpose (an attention mask of
 * -Infinity added before a softmax, a Min/Max bound); NaN is refused there too.
 */
const INFINITY_ALLOWED = new Set(['Add', 'Sub', 'Mul', 'Div', 'Min', 'Max', 'Sum', 'Mean', 'Where', 'Pow']);

/**
 * The weights policy: a float initializer that a node reads as a parameter holds only finite
 * values (NaN or ±Infinity there is a WeightsError naming the tensor, the node and the index).
 * Settings inputs (Clip bounds, Pad's value, Resize scales: NOT_PARAMS) may be infinite, as may
 * the constant operand of an elementwise op (INFINITY_ALLOWED), where NaN is still refused.
 * Runs once at load on the graph as given, before constants are folded.
 */
function checkWeights(g: Graph): void {
  const seen = new Set<string>();
  for (const n of g.nodes) {
    const skip = NOT_PARAMS[n.op] ?? [];
    n.inputs.forEach((name, i) => {
      const t = name && !skip.includes(i) ? g.initializers.get(name) : undefined;
      if (!t || seen.has(name)) return;
      seen.add(name);
      const infOk = INFINITY_ALLOWED.has(n.op);
      const d = t.data;
      // float32 bits: an all-ones exponent is NaN or ±Infinity (a fast scan of large weights)
      const bits = d instanceof Float32Array ? new Int32Array(d.buffer, d.byteOffset, d.length) : undefined;
      for (let j = 0; j < d.length; j++) {
        if (bits ? (bits[j] & 0x7f800000) !== 0x7f800000 : Number.isFinite(d[j])) continue;
        if (infOk && !Number.isNaN(d[j])) continue;
        throw new WeightsError(`weight '${name}' (read by ${n.op} node '${n.name}') holds ${d[j]} at index ${j}`);
      }
    });
  }
}

function summarize(g: Graph): LayerInfo[] {
  const ctx = makeInferCtx(g);
  const counted = new Set<string>();
  return g.nodes.map((n: Node) => {
    const def = opDef(n.op);
    const skip = NOT_PARAMS[n.op] ?? [];
    const paramInputs = n.inputs.filter((_, i) => !skip.includes(i));
    let params = 0;
    for (const i of paramInputs) {
      const t = i ? g.initializers.get(i) : undefined;
      if (t && !counted.has(i)) {
        counted.add(i);
        params += t.data.length;
      }
    }
    let macs = 0;
    try {
      macs = def?.macs?.(n, ctx) ?? 0;
    } catch {
      macs = 0;
    }
    return { name: n.name, op: n.op, outputShape: g.shapes.get(n.outputs[0]) ?? [], params, macs };
  });
}

/**
 * Kernel calls with fewer multiply-accumulates than this run on the calling thread alone: below
 * it the hand-off to a spinning worker and back costs more than half the call. Measured on 2
 * threads, models interleaved in one process (Node 20, 2-core EPYC), this threshold against
 * 500k: mobilenet_v2 8.45 / 8.68 ms, mobilenet_v3_large 7.51 / 7.82, shufflenet_v2 5.13 / 5.55,
 * ghostnet 5.75 / 6.19, resnet50 level; 0 and 30k matched 100k, 1.5M and 4M were slower.
 */
const MIN_PARALLEL_MACS = 100_000;

/** Compile a graph (whose inputs have concrete shapes) into a Model. */
export async function compileGraph(g: Graph, options: CompileOptions = {}): Promise<Model> {
  if (g.inputs.length === 0) throw new GraphError('the graph has no inputs');
  checkWeights(g);
  inferShapes(g);
  removeIdentities(g);
  const layers = summarize(g);
  const sourceGraph = cloneGraph(g);
  if (options.optimize !== false) {
    recognizePatterns(g);
    trimDeadTaps(g);
    foldBatchNorm(g);
    fuseEpilogue(g);
  }
  const { layouts, aliases } = assignLayouts(g);
  const { views, noops } = options.optimize === false ? { views: new Map(), noops: new Set<Node>() } : planViews(g, layouts, aliases);
  const arena = planArena(g, aliases, views);

  const { mem, k, pool, id } = await instantiate();
  mem.setBase(k.heap_base());
  const arenaBase = mem.alloc(arena.size);
  const constPtr = new Map<string, number>();
  const scratch = { ptr: 0 };
  let scratchBytes = 0;
  const base = makeInferCtx(g);
  const ctx: PlanCtx = {
    ...base,
    k,
    mem,
    ptr(name) {
      const off = arena.offsets.get(name);
      if (off !== undefined) return arenaBase + off;
      const t = g.initializers.get(name);
      if (!t) throw new GraphError(`value '${name}' has no buffer`);
      let p = constPtr.get(name);
      if (p === undefined) constPtr.set(name, (p = mem.putF32(t.data)));
      return p;
    },
    layout: (name) => layouts.get(name) ?? 'plain',
    stride: (name) => arena.pixelStride.get(name) ?? base.shape(name)[1],
    phys: (name) => physShape(base.shape(name), (layouts.get(name) ?? 'plain') as Layout),
    weight(name) {
      const t = g.initializers.get(name);
      if (!t) throw new GraphError(`'${name}' must be a constant weight (initializer)`);
      return t;
    },
    scratch(bytes) {
      scratchBytes = Math.max(scratchBytes, bytes);
      return scratch;
    },
    threads: pool?.threads ?? 1,
    parallel(kernel, args, macs) {
      // a kernel argument that is not a number would reach the wasm as 0 or NaN: a bug upstream
      if (args.some((v) => (typeof v === 'number' ? Number.isNaN(v) : typeof v !== 'object' || v === null)))
        throw new WasmCnnError(`internal: ${kernel} planned with a missing argument (${args.map((v) => (typeof v === 'object' && v ? 'scratch' : String(v))).join(', ')})`);
      let a: number[] | undefined;
      const bound = () => (a = args.map((v) => (typeof v === 'number' ? v : v.ptr)));
      const f = (k as unknown as Record<ParallelKernel, (...a: number[]) => void>)[kernel];
      if (!pool || macs < MIN_PARALLEL_MACS) return () => f(...(a ?? bound()), 0, 1);
      const fn = PARALLEL_KERNELS.indexOf(kernel);
      return () => pool.run(k, id, fn, a ?? bound());
    },
  };
  const steps: Step[] = [];
  const stepNodes: Node[] = [];
  for (const n of g.nodes) {
    // views and aliases (reshapes, free transposes, trivial layout changes) compute nothing
    if (noops.has(n) || aliases.has(n.outputs[0])) continue;
    const s = opDef(n.op)!.plan(n, ctx);
    if (s) {
      steps.push(s);
      stepNodes.push(n);
    }
  }
  scratch.ptr = mem.alloc(scratchBytes);
  const inPtr = new Map(g.inputs.map((i) => [i.name, ctx.ptr(i.name)]));
  const outPtr = new Map(g.outputs.map((o) => [o.name, ctx.ptr(o.name)]));
  return new Model({ graph: g, sourceGraph, steps, stepNodes, mem, k, inPtr, outPtr, layers, pool: pool && { pool, id } });
}
