// From a Graph to a runnable Model: shape inference, passes, layouts, the arena, then one
// plan step per node with every address bound. run() copies inputs in, calls the steps in
// order and copies outputs out; it never allocates wasm memory. A graph with dynamic input dims
// is planned per input shape on first sight; plans are kept in a small LRU (the weights they pack
// shared between them, src/runtime/memory.ts owner tracking gives an evicted plan's bytes back).
import { GraphError, ShapeError, ValueError, WasmCnnError, WeightsError } from './errors';
import type { DetectOptions, DetectorSpec } from './detect/detector';
import type { Detections } from './detect/yolo';
import type { ImageSource } from './image/fromImage';
import type { ReceptiveField } from './analysis/receptiveField';
import { removeIdentities } from './graph/cleanup';
import { foldBatchNorm } from './graph/foldBatchNorm';
import type { Dynamic, Planner } from './dynamic';
import { fuseEpilogue } from './graph/fuseEpilogue';
import { evalConst, evaluatorModule, loadEvaluator } from './graph/constEval';
import type { Const } from './graph/eval/core';
import type { Island, TailProgram } from './graph/eval/tail';
import { inferShapes, makeInferCtx } from './graph/infer';
import type { Graph, Node, Tensor, ValueInfo } from './graph/ir';
import { numel, packKey, shapeStr, undecodedBytes } from './graph/ir';
import { assignLayouts } from './graph/layout';
import { planArena } from './graph/memory';
import { planViews } from './graph/views';
import { trimDeadTaps } from './graph/trimTaps';
import { addOps, opDef } from './ops';
import type { Layout, PlanCtx, Step } from './ops/types';
import { physShape } from './ops/util';
import { loadRarePlans, RARE_OPS } from './ops/rare';
import { cloneGraph, holdsOp } from './graph/util';
import type { Kernels } from './runtime/kernels';
import { Mem } from './runtime/memory';
import { PARALLEL_KERNELS, type ParallelKernel } from './runtime/kernels';
import type { Pool } from './runtime/threads';
import { instantiate, recycleMemory } from './runtime/wasm';
import { provideKit } from './lazy/supply';
import type { Optimizer } from './train/optim';
import type { TrainLib } from './train/program';
import { attrFloat, attrInt, attrInts, normAxis } from './ops/attrs';
import { window2d } from './ops/geometry';
import { convTransposeGeometry } from './ops/convTranspose';
import { unaryCode } from './ops/unary';
import { resizeTables } from './ops/resize';
import { BIN_ADD, BIN_MUL, BIN_PRELU, BIN_SUB, RED_MAX, RED_MEAN, RED_SUM } from '../assembly/codes';
import type { Trainer, TrainState, TrainStepOptions } from './train/trainer';

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

/**
 * An integer or boolean input of a graph that takes one (token ids, indices, a threshold), fed
 * as a typed array of its values; exact up to 2^53.
 */
export interface IntegerTensor {
  /** The values, row-major; each must be an integer (a bool input reads nonzero as true). */
  data: Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Float32Array | Float64Array;
  /** Dimensions; their product is `data.length`. */
  shape: number[];
}

/** Inputs of run(): float tensors by name, and integer tensors for a graph's int/bool inputs. */
export type Feeds = Record<string, Tensor | IntegerTensor>;

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
  /**
   * Input axes that may change from run to run, by input name (e.g. `{ image: [0, 2, 3] }`):
   * the graph's shape for them is only the first one planned. Dims declared as -1 or 0 (an ONNX
   * `dim_param`) are dynamic without being listed.
   */
  dynamicAxes?: Record<string, number[]>;
  /**
   * Plans a model with dynamic input dims keeps, one per input shape, least recently used
   * evicted first (default 4). A cached shape runs at no extra cost; a new one costs planning
   * and its activation arena, never re-packing weights a cached plan already packed.
   */
  planCache?: number;
  /**
   * How GEMM weights (fully connected layers, MatMul/Gemm by a constant, and 1x1 and im2col
   * convolutions) are stored in wasm memory: 'float32' (default), or 'float16': each weight
   * rounded to the nearest binary16 (ties to even; biases stay float32), half the bytes, widened
   * back to float32 one cache block at a time as the layer runs. A layer with a weight that
   * rounds to ±Infinity as a half (|w| ≥ 65520) keeps float32. Winograd, depthwise, direct (few-channel stem) and other convolutions
   * keep float32 weights.
   */
  weightStorage?: 'float32' | 'float16';
}

/** Default number of input shapes a dynamic model keeps planned (CompileOptions.planCache). */
export const DEFAULT_PLAN_CACHE = 4;

/** One input shape's executable plan: steps bound to addresses, and what introspection reports. */
export interface Plan {
  graph: Graph;
  sourceGraph: Graph;
  steps: Step[];
  stepNodes: Node[];
  inPtr: Map<string, number>;
  outPtr: Map<string, number>;
  layers: LayerInfo[];
  /** Memory owner of the plan's own blocks (arena, kernel parameters, scratch); dynamic models. */
  owner: number;
  /** Keys of the shared packed weights the plan uses (dynamic models). */
  uses: Set<string>;
  /** Bytes its steps allocated (packed weights, constants, kernel parameters); fixed-shape models. */
  weightBytes: number;
  /** What runs after the wasm steps when the graph has a data-dependent part (src/graph/eval/tail.ts). */
  tail?: TailProgram;
}

/** The wasm side of a model: ONE memory and ONE kernel instance for all of its plans. */
export interface Backing {
  mem: Mem;
  k: Kernels;
  pool: Pool | undefined;
  id: number;
}

/** A loaded network, ready to run. */
export class Model {
  /** Names of the inputs run() takes, in order. */
  readonly inputNames: string[];
  /** Names of the outputs run() returns, in order. */
  readonly outputNames: string[];
  /**
   * Planned input shapes (NCHW). For a dynamic model: the shapes of the last run (or of the
   * first plan made at load), -1 on dynamic axes until a shape has been planned.
   */
  readonly inputShapes: Record<string, number[]>;
  /**
   * Output shapes (NCHW) by output name. For a dynamic model: those of the last planned input
   * shape (`[]` before any, when the file does not declare them).
   */
  readonly outputShapes: Record<string, number[]>;
  /**
   * Input shapes as declared, -1 on every axis that may change between runs (ONNX `dim_param`
   * or unknown dims, CompileOptions.dynamicAxes, zoo `inputSize: 'dynamic'`). Equal to
   * inputShapes for a model planned for one shape.
   */
  readonly inputSignature: Record<string, number[]>;
  /** True when some input dim may change between runs (see inputSignature). */
  readonly dynamic: boolean;
  /**
   * The graph as executed (after fusion and layout passes); for inspection. For a dynamic model,
   * that of the last planned shape (before any, the graph as loaded).
   */
  readonly graph: Graph;
  /**
   * The network as built or imported, after shape inference and constant folding but before
   * fusion: ONNX ops plus wasmcnn's few internal ones (Silu, ChannelShuffle, ChannelLayerNorm).
   * For a dynamic model, that of the last planned shape.
   */
  readonly sourceGraph: Graph;
  /**
   * Bytes of wasm memory the model holds (weights, arena, scratch). A dynamic model grows it
   * when a new input shape needs more than its free space; it stays below the weights plus
   * about planCache + 1 of its largest plans (evicted plans' bytes are reused).
   */
  readonly memoryBytes: number;
  /**
   * Bytes of memoryBytes that hold the weights in the layouts the kernels read them (packed GEMM
   * panels, Winograd-transformed and depthwise weights, biases, scales, constants) with the
   * kernels' small parameter blocks; the rest is the activation arena, scratch, the kernels'
   * static data and the last page's unused tail. For a dynamic model: the packed weights every
   * plan shares plus each cached plan's own parameters.
   */
  readonly weightBytes: number = 0;
  /** Threads this model's convolutions and GEMMs are split over (init({ threads }) when created). */
  readonly threads: number;
  private steps: Step[] = [];
  private stepNodes: Node[] = [];
  private mem: Mem | undefined;
  private k: Kernels;
  private pool: { pool: Pool; id: number } | undefined;
  private inPtr = new Map<string, number>();
  private outPtr = new Map<string, number>();
  private layers: LayerInfo[] = [];
  private backing: Backing;
  private dyn: Dynamic | undefined;
  /** How this model's dynamic plans (and a tail's islands) plan one input shape. */
  private planner: Planner;
  private tail: TailProgram | undefined;
  /** Integer/bool graph inputs (read by the tail on the host), and their values of this run. */
  private intInputs = new Map<string, ValueInfo>();
  private intValues = new Map<string, Const>();
  /** Plans of the tail's wasm islands, by island (see Island), sharing this model's memory. */
  private islands = new Map<string, Dynamic>();
  /** True once a plan exists (always for a fixed-shape model). */
  private planned = false;
  /** The graph as given to compileGraph (before any pass) and its options: what training starts from. */
  private source: { graph: Graph; options: CompileOptions } | undefined;
  /** Training state: mode, frozen prefixes, the trainer once made, and whether run() must take its weights. */
  private tr: TrainState & { trainer?: Promise<Trainer>; made?: Trainer } = {
    training: false, frozen: [], stale: false, seed: 0,
  };

  /** @internal use loadOnnx, createModel or GraphBuilder.build */
  constructor(p: { backing: Backing; plan?: Plan; dyn?: Dynamic; inputs: ValueInfo[] }) {
    const { mem, k, pool, id } = p.backing;
    this.backing = p.backing;
    this.planner = planner(p.backing);
    this.k = k;
    this.mem = mem;
    this.pool = pool && { pool, id };
    this.threads = pool?.threads ?? 1;
    this.dyn = p.dyn;
    this.dynamic = p.dyn !== undefined;
    const g = p.plan?.graph ?? p.dyn!.template;
    this.inputNames = p.inputs.map((i) => i.name);
    for (const i of p.inputs) if (i.dtype && i.dtype !== 'float') this.intInputs.set(i.name, i);
    this.outputNames = (p.plan?.tail?.split.outputs ?? g.outputs).map((o) => o.name);
    this.inputSignature = Object.fromEntries((p.dyn?.template.inputs ?? p.inputs).map((i) => [i.name, i.shape!.slice()]));
    this.graph = g;
    this.sourceGraph = g;
    this.inputShapes = Object.fromEntries(p.inputs.map((i) => [i.name, i.shape!.slice()]));
    this.outputShapes = Object.fromEntries((p.plan?.tail?.split.outputs ?? g.outputs).map((o) => [o.name, o.shape?.slice() ?? []]));
    this.memoryBytes = mem.inUse;
    if (p.plan) this.adopt(p.plan);
  }

  /** Make `plan` the one run() executes and introspection describes. */
  private adopt(plan: Plan): void {
    const self = this as unknown as Record<string, unknown>;
    self.graph = plan.graph;
    self.sourceGraph = plan.sourceGraph;
    Object.assign(this.inputShapes, Object.fromEntries(plan.graph.inputs.map((i) => [i.name, i.shape!.slice()])));
    // a tail's outputs have their shapes once they run: until then, as the file declares them
    self.outputShapes = Object.fromEntries((plan.tail?.split.outputs ?? plan.graph.outputs).map((o) => [o.name, (plan.graph.shapes.get(o.name) ?? o.shape ?? []).slice()]));
    self.memoryBytes = this.backing.mem.inUse;
    const d = this.dyn;
    self.weightBytes = d ? this.backing.mem.held(new Set([...[...d.shared.values()].map((e) => e.owner), ...[...d.cache.values()].map((p) => p.owner)])) : plan.weightBytes;
    this.steps = plan.steps;
    this.stepNodes = plan.stepNodes;
    this.inPtr = plan.inPtr;
    this.outPtr = plan.outPtr;
    this.layers = plan.layers;
    this.tail = plan.tail;
    this.planned = true;
  }

  /**
   * A dynamic model's plan for the feeds' shapes: the cached one (moved to most recent) or a new
   * one, evicting the least recently used past the cache size. A shape the graph cannot take is
   * a ShapeError naming the input shapes and the node; the current plan stays in place.
   */
  private select(dyn: Dynamic, feeds: Feeds): void {
    // integer inputs do not shape the plan (the tail reads them on the host)
    const floats = dyn.template.inputs.filter((i) => !this.intInputs.has(i.name));
    const shapes: number[][] = [];
    for (const i of floats) {
      const t = feeds[i.name];
      const sig = i.shape!;
      const s = t?.shape;
      if (!Array.isArray(s) || s.length !== sig.length || s.some((d, j) => !Number.isSafeInteger(d) || d < 1 || (sig[j] >= 1 && d !== sig[j])))
        throw new ShapeError(`input '${i.name}': expected shape ${shapeStr(sig)} (-1: any size), got ${describeValue(s)}`);
      if (t.data.length !== numel(s)) throw new ShapeError(`input '${i.name}': ${t.data.length} values for shape ${shapeStr(s)} (${numel(s)})`);
      shapes.push(s.slice());
    }
    const key = shapes.map((s) => s.join('x')).join(',');
    const { mem } = this.backing;
    const plan = dynamics!.cachedPlan(dyn, mem, key, (g) => {
      floats.forEach((i, j) => (g.inputs.find((c) => c.name === i.name)!.shape = shapes[j]));
      const what = `input shape ${floats.map((i, j) => `'${i.name}' ${shapeStr(shapes[j])}`).join(', ')}`;
      return dynamics!.planDynamic(g, mem, dyn, this.planner, what);
    });
    this.adopt(plan);
  }

  /**
   * Run on named NCHW inputs; returns every graph output by name. Each feed must be a
   * `{ data: Float32Array, shape: number[] }` with the planned shape; NaN or ±Infinity in a feed
   * is a ValueError naming the input and the index (pass `{ allowNonFinite: true }` to compute
   * with them anyway). Finite inputs can still overflow float32 inside the network (±3e38 through
   * a convolution), which gives Infinity or NaN outputs as in PyTorch. Throws WasmCnnError once
   * the model is disposed, or when its worker threads failed and cannot be restarted.
   */
  async run(feeds: Feeds, options: RunOptions = {}): Promise<Record<string, Tensor>> {
    if (this.tr.stale) await this.syncWeights();
    // threaded: the workers may be restarting (after another model's disposal, or a failure)
    if (this.pool && !this.pool.pool.serves(this.pool.id)) await this.pool.pool.ready(this.pool.id);
    return this.runSync(feeds, options);
  }

  /**
   * Synchronous form of run(). On a threaded model it does not wait for worker threads that
   * are restarting (after another model's disposal): it then computes on the calling thread,
   * with the same results; after a worker failure it throws until they are replaced.
   */
  runSync(feeds: Feeds, options: RunOptions = {}): Record<string, Tensor> {
    if (this.tr.stale) throw new ValueError('runSync: after training, await run() or syncWeights() first');
    const mem = this.feed(feeds, options);
    for (const s of this.steps) s();
    if (this.tail) return this.runTail(this.tail);
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
   * After the wasm steps of a graph with a data-dependent part: read the values it needs from
   * the body and run it (host ops and wasm islands); `times` receives each tail step's ms.
   */
  private runTail(tail: TailProgram, times?: number[]): Record<string, Tensor> {
    const f = this.mem!.f32;
    const read = (name: string) => {
      const p = this.outPtr.get(name)! >>> 2;
      return f.slice(p, p + numel(this.graph.shapes.get(name)!));
    };
    return evaluatorModule().runTail(tail, this.graph.shapes, read, this.intValues, (isl, ins) => this.runIsland(isl, ins), this.outputShapes, times, this.backing);
  }

  /**
   * Run one of the tail's wasm islands on run-time values: float inputs are fed, integer ones
   * (a Resize's computed sizes, a Reshape's target) become constants of the plan, which is made
   * once per input shapes and integer values and cached (least recently used evicted), its
   * weights packed once for all of them.
   */
  private runIsland(isl: Island, ins: Const[]): Const[] {
    const { mem } = this.backing;
    return evaluatorModule().runIsland(isl, ins, this.tail!.split, this.graph.opset, {
      mem,
      dynamic: (template) => {
        let d = this.islands.get(isl.key);
        if (!d) {
          mem.enableTracking();
          this.islands.set(isl.key, (d = dynamics!.newDynamic(template, this.dyn?.options ?? {}, this.dyn?.size ?? DEFAULT_PLAN_CACHE, loadedWeights(template))));
        }
        return d;
      },
      plan: (dyn, g, what) => dynamics!.planDynamic(g, mem, dyn as Dynamic, this.planner, what),
      evict: (dyn, plan) => dynamics!.evict(dyn as Dynamic, mem, plan as Plan),
      cloneGraph,
      opDef,
      makeInferCtx,
    });
  }

  /**
   * Times every executed step (one node after fusion, e.g. a Conv with its BatchNorm, activation
   * and residual add folded in) on these inputs: one warm-up run, then `runs` runs (default 10)
   * with each step timed on its own; returns the steps in execution order with median times.
   */
  profile(feeds: Feeds, options: { runs?: number } = {}): StepProfile[] {
    const runs = options.runs ?? 10;
    if (!Number.isInteger(runs) || runs < 1) throw new ValueError(`profile: runs must be a positive integer, got ${String(runs)}`);
    this.runSync(feeds);
    this.feed(feeds);
    const ctx = makeInferCtx(this.graph);
    const tail = this.tail;
    const ev = evaluatorModule();
    // the arena may reuse an input's buffer once read: each round starts from the feeds
    const t = ev.timeSteps(runs, this.steps, () => this.feed(feeds), tail && ((ms) => this.runTail(tail, ms)), tail?.steps.length ?? 0);
    const rows = ev.layerRows({ ...this.graph, nodes: this.stepNodes }, {}, (n) => opDef(n.op)?.macs?.(n, ctx) ?? 0)
      .map((l, i) => ({ node: l.name, op: l.op, ms: t.steps[i], macs: l.macs }));
    // the data-dependent tail: host-evaluated nodes, and wasm islands planned per run-time shape
    if (tail) rows.push(...ev.tailProfile(tail, t.tail));
    return rows;
  }

  /** Checks the feeds and copies them into the model's input buffers. */
  private feed(feeds: Feeds, options: RunOptions = {}): Mem {
    const mem = this.mem;
    if (!mem) throw new WasmCnnError('this model has been disposed');
    if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds))
      throw new ValueError(`run() takes an object of named tensors ({ ${this.inputNames.map((n) => `'${n}': { data, shape }`).join(', ')} }), got ${describeValue(feeds)}`);
    for (const name of Object.keys(feeds))
      if (!Object.hasOwn(this.inputShapes, name)) throw new ValueError(`unknown input '${name}'; the model's inputs are ${this.inputNames.join(', ')}`);
    const allow = options?.allowNonFinite === true;
    let fits = true;
    for (const name of this.inputNames) {
      const t = feeds[name];
      if (t === undefined) throw new ValueError(`missing input '${name}'`);
      if (typeof t !== 'object' || t === null) throw new ValueError(`input '${name}' must be { data: Float32Array, shape: number[] }, got ${describeValue(t)}`);
      const want = this.inputShapes[name];
      const int = this.intInputs.get(name);
      if (int) {
        this.intValues.set(name, evaluatorModule().intFeed(name, t, want, int.dtype === 'bool'));
        continue;
      }
      if (!(t.data instanceof Float32Array)) throw new ValueError(`input '${name}': data must be a Float32Array, got ${describeValue(t.data)}`);
      if (!Array.isArray(t.shape) || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        if (!this.dyn) throw new ShapeError(`input '${name}': expected shape ${shapeStr(want)}, got ${describeValue(t.shape)}`);
        fits = false;
      }
    }
    // a dynamic model switches to (or plans) the feeds' shapes before anything is copied
    if (!fits) this.select(this.dyn!, feeds);
    for (const name of this.inputNames) {
      if (this.intInputs.has(name)) continue;
      const t = feeds[name] as Tensor;
      const want = this.inputShapes[name];
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
    this.needPlan('layerInfo()');
    return this.layers.map((l) => ({ ...l, outputShape: l.outputShape.slice() }));
  }

  /** Total trainable parameters (BatchNorm running statistics excluded, as PyTorch counts). */
  get paramCount(): number {
    return (this.planned ? this.layers : summarize(this.dyn!.template)).reduce((a, l) => a + l.params, 0);
  }

  /**
   * A printable table of layers: output shape, parameters, multiply-accumulates, and the
   * receptive field (size and jump in input pixels; 'all' where a layer sees the whole input).
   * Available after dispose(): it reads only the graph, not the wasm memory.
   */
  summary(): string {
    this.needPlan('summary()');
    let rf = new Map<string, string[]>();
    try {
      rf = new Map(
        (analysis?.(this) ?? []).map((r) => [
          r.name,
          r.global ? ['all', '-'] : [`${r.size[0]}x${r.size[1]}`, `${r.jump[0]}x${r.jump[1]}`],
        ]),
      );
    } catch {
      // graphs without a spatial input (e.g. 2-D only) have no receptive field column values
    }
    return evaluatorModule().summaryTable(this.layers, rf, this.paramCount);
  }

  /**
   * @internal Plan cache state of a dynamic model (tests, bench): cached shapes least recently
   * used first, plans made and weights packed so far, bytes held by the shared packed weights,
   * by each cached plan (kernel parameters) and by the shared activation and scratch regions.
   */
  planStats(): { shapes: string[]; plans: number; packs: number; sharedBytes: number; planBytes: number[]; regionBytes: number } | undefined {
    return this.dyn && this.mem && evaluatorModule().planStats(this.dyn, this.mem);
  }

  /** A dynamic model describes its layers once it has planned an input shape. */
  private needPlan(what: string): void {
    if (!this.planned)
      throw new ValueError(`${what} describes a planned input shape; this model's inputs are dynamic (${Object.entries(this.inputSignature).map(([k, v]) => `'${k}' ${shapeStr(v)}`).join(', ')}) and none has run yet`);
  }

  /** @internal A detection model's post-processing, attached by the zoo (src/detect/detector.ts). */
  detector?: DetectorSpec;

  /**
   * Detect objects, as torchvision's detector does in eval mode (its transform, head and
   * post-processing): `input` is an image (anything fromImage takes) or a `[N, 3, H, W]` tensor
   * of RGB in [0, 1] at any size. Returns `{ boxes, scores, labels }` (boxes as (x1, y1, x2, y2)
   * rows in the input's pixels, labels as torchvision numbers COCO's classes), or one per image
   * for a batch of more than one.
   *
   * @throws ValueError when the model is not a detector or an option is unknown; ShapeError for
   *   a tensor that is not [N, 3, H, W].
   */
  async detect(input: ImageSource | Tensor, options: DetectOptions = {}): Promise<Detections | Detections[]> {
    if (!this.detector)
      throw new ValueError("detect() needs a detection model, e.g. createModel('ssdlite320_mobilenet_v3_large', { weights })");
    const dets = await this.detector.run(this, this.detector, input, options);
    return dets.length === 1 ? dets[0] : dets;
  }

  /** True once dispose() has been called. */
  get disposed(): boolean {
    return this.mem === undefined;
  }

  /** True between train() and eval(): trainStep() uses batch statistics and Dropout (run() always infers). */
  get training(): boolean {
    return this.tr.training;
  }

  /**
   * Training mode, as PyTorch's `module.train()`: trainStep() then normalises BatchNorm with the
   * batch's statistics (updating the running ones) and applies Dropout. run() and predict()
   * always compute the inference form, with the weights training has reached.
   */
  train(mode = true): this {
    this.tr.training = mode;
    return this;
  }

  /** Evaluation mode, as PyTorch's `module.eval()`: trainStep() uses running statistics and no Dropout. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Keep parameters whose state_dict name starts with one of `prefixes` fixed (transfer learning:
   * `model.freeze('features.')`); no gradient is computed where nothing trainable needs it.
   * Calls add to the frozen set; `unfreeze()` clears it.
   */
  freeze(...prefixes: string[]): this {
    this.tr.frozen.push(...prefixes);
    this.tr.made?.freeze(this.tr.frozen);
    return this;
  }

  /** Make every parameter trainable again. */
  unfreeze(): this {
    this.tr.frozen = [];
    this.tr.made?.freeze([]);
    return this;
  }

  /**
   * One training step on a batch: forward (in the mode train()/eval() set), the loss on the
   * first output against `targets`, backward, and the optimizer's update of every trainable
   * parameter. `targets`: class indices as an Int32Array (softmax cross-entropy), or a tensor
   * shaped like the output (MSE by default; options.loss picks BCE with logits or smooth L1).
   * The batch size may differ from the one the model was loaded with. Returns the loss.
   */
  async trainStep(feeds: Feeds, targets: Int32Array | Tensor, optimizer: Optimizer, options: TrainStepOptions = {}): Promise<number> {
    return (await this.trainer()).trainStep(this.tr, feeds, targets, optimizer, options);
  }

  /**
   * The weights by PyTorch state_dict name (parameters and BatchNorm running statistics), as
   * trained so far: copies, in the graph's order. `{ optimizer: true }` adds the optimizer's
   * per-parameter state (`optimizer.<param>.exp_avg`, `.momentum_buffer`, `.step`, ...).
   */
  stateDict(options: { optimizer?: boolean } = {}): Map<string, Tensor> {
    return evaluatorModule().stateDictOf(this.source?.graph ?? this.sourceGraph, NOT_PARAMS, this.tr.made, options.optimizer);
  }

  /**
   * Load weights (and optimizer state, `optimizer.*` entries) by state_dict name, as saved by
   * stateDict() or saveSafetensors(model): every parameter and buffer named must exist and match
   * its shape; names not given keep their values.
   */
  async loadStateDict(state: Map<string, Tensor>): Promise<void> {
    (await this.trainer()).loadState(this.tr, state);
  }

  /** Plan run() with the weights training has reached (run() does this itself when needed). */
  async syncWeights(): Promise<void> {
    if (this.tr.stale) await this.tr.made!.syncInto(this);
  }

  /** The trainer (made on first use, from the graph as loaded and the current weights). */
  private trainer(): Promise<Trainer> {
    const { tr, source } = this;
    if (!this.mem || !source) throw new WasmCnnError('this model has been disposed');
    return (tr.trainer ??= import('./train/trainer').then(async ({ Trainer }) => {
      provideKit();
      return (tr.made = await Trainer.create(source.graph, { runtime: instantiate, cloneGraph, inferShapes, stateEntries, compileGraph, lib: TRAIN_LIB, needsExpand }, tr));
    }));
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
    this.tr.made?.dispose();
    // a detector's second network (Faster R-CNN's box head)
    if (this.detector?.kind === 'fasterrcnn') this.detector.dispose();
    if (this.pool) this.pool.pool.detach(this.pool.id);
    // a one-thread model's memory may serve the next model loaded (nothing here reads it again)
    else recycleMemory(this.mem);
    this.pool = undefined;
    this.mem = undefined;
    this.steps = [];
    this.stepNodes = [];
  }
}


/** What the lazily loaded trainer reuses from the inference engine (src/train/program.ts TrainLib). */
const TRAIN_LIB: TrainLib = {
  attrInt, attrInts, attrFloat, normAxis, window2d, convTransposeGeometry, unaryCode, resizeTables, parallelKernels: PARALLEL_KERNELS,
  codes: { BIN_ADD, BIN_SUB, BIN_MUL, BIN_PRELU, RED_SUM, RED_MEAN, RED_MAX },
};

/** Float inputs that are settings or buffers, not trainable parameters (PyTorch's count). */
export const NOT_PARAMS: Record<string, number[]> = {
  BatchNormalization: [3, 4], Clip: [1, 2], Pad: [1, 2, 3], Resize: [1, 2, 3], Upsample: [1],
  DeformConv: [2, 4], MaxUnpool: [1, 2],
};

/** The initializers of a graph's state_dict (parameters and buffers; src/graph/eval/report.ts). */
const stateEntries = (g: Graph) => evaluatorModule().stateEntries(g, NOT_PARAMS);

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
      // a weight still in its file's bytes is scanned there (decoded only to report what it holds)
      const raw = undecodedBytes(t);
      if (raw && !hasNonFiniteF32(raw)) return;
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

/** Whether little-endian float32 bytes hold a NaN or an infinity (an all-ones exponent), at any alignment. */
function hasNonFiniteF32(raw: Uint8Array): boolean {
  if (raw.byteOffset % 4 === 0) {
    const bits = new Int32Array(raw.buffer, raw.byteOffset, raw.length >>> 2);
    for (let j = 0; j < bits.length; j++) if ((bits[j] & 0x7f800000) === 0x7f800000) return true;
    return false;
  }
  // the exponent is the low 7 bits of byte 3 and the top bit of byte 2
  for (let j = 3; j < raw.length; j += 4) if ((raw[j] & 0x7f) === 0x7f && raw[j - 1] & 0x80) return true;
  return false;
}

function summarize(g: Graph): LayerInfo[] {
  const ctx = makeInferCtx(g);
  return evaluatorModule().layerRows(g, NOT_PARAMS, (n) => opDef(n.op)?.macs?.(n, ctx) ?? 0);
}

/**
 * Kernel calls with fewer multiply-accumulates than this run on the calling thread alone: below
 * it the hand-off to a spinning worker and back costs more than half the call. Measured on 2
 * threads, models interleaved in one process (Node 20, 2-core EPYC), this threshold against
 * 500k: mobilenet_v2 8.45 / 8.68 ms, mobilenet_v3_large 7.51 / 7.82, shufflenet_v2 5.13 / 5.55,
 * ghostnet 5.75 / 6.19, resnet50 level; 0 and 30k matched 100k, 1.5M and 4M were slower.
 */
const MIN_PARALLEL_MACS = 100_000;

/**
 * The receptive-field analysis summary() shows, set by src/analysis/receptiveField.ts when that
 * module loads: always with 'wasmcnn' in Node, Deno and Bun; in a bundle, wherever the app
 * imports `receptiveField`. Then `import { init, loadOnnx }` does not carry it (esbuild would
 * put a module both exported and lazily imported in the main chunk).
 */
let analysis: ((model: Model) => ReceptiveField[]) | undefined;

/** @internal Called by src/analysis/receptiveField.ts. */
export function setSummaryAnalysis(f: (model: Model) => ReceptiveField[]): void {
  analysis = f;
}

/** The pattern recognizers (src/graph/recognize.ts), once a graph with one of these ops has loaded them. */
let recognizer: typeof import('./graph/recognize') | undefined;
const RECOGNIZED: ReadonlySet<string> = new Set(['ReduceMean', 'Erf', 'Sigmoid', 'HardSigmoid', 'Transpose']);

/**
 * Whether node `n` of `g` is one src/graph/expand.ts rewrites: ONNX Swish, or a Conv,
 * ConvTranspose or pooling window over one axis (kernel_shape of one entry, or a weight of rank 3).
 */
function needsExpand(g: Graph, n: Node): boolean {
  if (n.op === 'Swish') return true;
  if (!/^(Conv|ConvTranspose|MaxPool|AveragePool|LpPool)$/.test(n.op)) return false;
  const k = n.attrs.kernel_shape;
  return Array.isArray(k) ? k.length === 1 : g.initializers.get(n.inputs[1])?.shape.length === 3;
}

/** weightStorage 'float16''s planners (src/ops/half.ts), once a model has asked for it. */
let half: typeof import('./ops/half') | undefined;

/** The planning state of dynamic graphs (src/dynamic.ts), once a dynamic model or a data-dependent tail has loaded it. */
let dynamics: typeof import('./dynamic') | undefined;

async function loadDynamic(): Promise<typeof import('./dynamic')> {
  dynamics ??= await import('./dynamic');
  provideKit();
  return dynamics;
}

/** How a dynamic model (or island) of `backing` plans one input shape (src/dynamic.ts's Planner). */
function planner(backing: Backing): Planner {
  return (g, dyn, owner) => planSplit(g, dyn.options, backing, dyn, owner);
}

/** The int8 module (src/quant), once a quantized graph has loaded it. */
let quant: typeof import('./quant/index') | undefined;

/** Ops that only quantized graphs hold (QuantizeLinear, QLinearConv, MatMulInteger, ...). */
function isQuantOp(op: string): boolean {
  return op.includes('Quantize') || op.startsWith('QLinear') || op.endsWith('Integer');
}

/** Loads src/quant and adds its op definitions to the table (once). */
async function loadQuant(): Promise<typeof import('./quant/index')> {
  if (quant) return quant;
  const m = await import('./quant/index');
  provideKit();
  m.bindQuantLib({ window2d, unaryCode });
  addOps(m.QUANT_OPDEFS);
  return (quant = m);
}

/**
 * Compile a graph into a Model. Inputs with every dim concrete and no dynamicAxes give a model
 * planned once, here; dims of -1 or 0, or axes listed in options.dynamicAxes, give a dynamic
 * model, planned here too when the only unknown dim is a batch (planned as 1, the form ONNX
 * exports declare), else at its first run.
 */
export async function compileGraph(g: Graph, options: CompileOptions = {}): Promise<Model> {
  const source = { graph: cloneGraph(g), options };
  // the passes rewrite the graph they plan: a copy, so the caller's graph (a model's sourceGraph
  // compiled again, a builder's) stays as given
  const model = await compileModel(cloneGraph(g), options);
  (model as unknown as { source: typeof source }).source = source;
  return model;
}

async function compileModel(g: Graph, options: CompileOptions): Promise<Model> {
  if (g.inputs.length === 0) throw new GraphError('the graph has no inputs');
  checkWeights(g);
  // constant folding in shape inference (here and in later per-shape plans) and a graph's
  // data-dependent tail run on the host evaluator: it loads with the first model, not up front;
  // the rare ops (and an antialiased Resize) plan in a chunk of their own (src/ops/rare.ts),
  // loaded alongside for a graph that holds one (the int8 lowering below makes none)
  await Promise.all([loadEvaluator(), holdsOp(g, (n) => RARE_OPS.has(n.op) || !!n.attrs.antialias) && loadRarePlans()]);
  // a quantized graph is lowered to int8 steps once, before any plan (src/quant, loaded for it alone)
  if (g.nodes.some((n) => isQuantOp(n.op))) (await loadQuant()).lowerQuantized(g, evalConst);
  // ONNX Swish and 1-D windows are rewritten into ops wasmcnn runs (src/graph/expand.ts, a
  // chunk of its own), before anything infers a shape
  if (g.nodes.some((n) => needsExpand(g, n))) {
    const { expand } = await import('./graph/expand');
    provideKit();
    expand(g, needsExpand);
  }
  // so do the recognizers of exporters' decomposed LayerNorm, GELU, SiLU, HardSwish, shuffle
  if (!recognizer && holdsOp(g, RECOGNIZED)) {
    recognizer = await import('./graph/recognize');
    provideKit();
  }
  const dynamicAxes = options.dynamicAxes ?? {};
  for (const [name, axes] of Object.entries(dynamicAxes)) {
    const i = g.inputs.find((v) => v.name === name);
    if (!i) throw new ShapeError(`dynamicAxes names '${name}', which is not an input (inputs: ${g.inputs.map((v) => v.name).join(', ')})`);
    if (!Array.isArray(axes) || axes.some((a) => !Number.isInteger(a) || a < 0 || a >= (i.shape?.length ?? 0)))
      throw new ShapeError(`dynamicAxes['${name}'] must list axes of its shape ${shapeStr(i.shape)}, got ${describeValue(axes)}`);
  }
  const inputs = g.inputs.map((i) => ({ ...i, shape: i.shape?.slice() }));
  const floats = (list: ValueInfo[]) => list.filter((i) => !i.dtype || i.dtype === 'float');
  const dynamic = floats(g.inputs).some((i) => i.shape?.some((d) => d < 1) || (dynamicAxes[i.name]?.length ?? 0) > 0);
  for (const i of inputs)
    if (!i.shape && (dynamic || !floats([i]).length)) throw new ShapeError(`input '${i.name}' has no declared rank; give its shape (inputShapes option)`);
  if (options.weightStorage !== undefined && options.weightStorage !== 'float32' && options.weightStorage !== 'float16')
    throw new ValueError(`weightStorage must be 'float32' or 'float16', got ${describeValue(options.weightStorage)}`);
  // float16 storage plans with a chunk of its own (src/ops/half.ts)
  if (options.weightStorage === 'float16') half ??= await import('./ops/half');
  const cache = options.planCache ?? DEFAULT_PLAN_CACHE;
  if (!Number.isSafeInteger(cache) || cache < 1) throw new ValueError(`planCache must be a positive integer, got ${describeValue(cache)}`);
  // the weights' bytes: a disposed model's memory of about that size is reused (instantiate)
  const expectBytes = [...g.initializers.values()].reduce((a, t) => a + numel(t.shape) * 4, 0);
  if (!dynamic) {
    const { mem, k, pool, id } = await instantiate({ expectBytes });
    mem.setBase(k.heap_base());
    const backing = { mem, k, pool, id };
    const plan = planSplit(g, options, backing);
    // a data-dependent tail's wasm islands plan as dynamic graphs do
    if (plan.tail) await loadDynamic();
    return new Model({ backing, plan, inputs });
  }
  // the first plan: every dim as given, an unknown batch as 1; none if another dim is unknown
  const first = floats(g.inputs).map((i) => i.shape!.map((d, j) => (d < 1 && j === 0 ? 1 : d)));
  const template = cloneGraph(g);
  template.inputs.forEach((i) => (i.shape = i.shape!.map((d, j) => (d < 1 || dynamicAxes[i.name]?.includes(j) ? -1 : d))));
  const { mem, k, pool, id } = await instantiate({ expectBytes });
  mem.setBase(k.heap_base());
  mem.enableTracking();
  const backing = { mem, k, pool, id };
  const { newDynamic, planDynamic } = await loadDynamic();
  const dyn = newDynamic(template, options, cache, loadedWeights(template));
  if (!first.every((s) => s.every((d) => d >= 1))) return new Model({ backing, dyn, inputs: template.inputs });
  floats(g.inputs).forEach((i, j) => (i.shape = first[j]));
  const plan = planDynamic(g, mem, dyn, planner(backing));
  dyn.cache.set(first.map((s) => s.join('x')).join(','), plan);
  return new Model({ backing, plan, dyn, inputs: template.inputs });
}

/**
 * The loaded weights, by which a shared packing is known to be made from them: the tensors, and
 * the arrays of those already decoded (a weight still in its file's bytes is keyed by its tensor).
 */
function loadedWeights(g: Graph): WeakSet<object> {
  const set = new WeakSet<object>();
  for (const t of g.initializers.values()) set.add(t).add(packKey(t));
  return set;
}

/**
 * Infer shapes and plan: the wasm steps of everything plannable for these input shapes, and
 * the tail program of what depends on run-time values (data-dependent ops and their readers).
 */
function planSplit(g: Graph, options: CompileOptions, backing: Backing, dyn?: Dynamic, owner = 0): Plan {
  const split = inferShapes(g);
  const plan = planGraph(g, options, backing, dyn, owner);
  if (split) {
    plan.tail = evaluatorModule().tailProgram(split, g.opset, (op) => opDef(op) !== undefined);
    plan.layers.push(...evaluatorModule().tailLayers(split, plan.layers, NOT_PARAMS));
  }
  return plan;
}

/**
 * Per output, the positions of its node's inputs read element for element (OpDef.inPlace) with
 * the output's shape and layout; float values only (an int8 step's bytes are not laid out
 * element for element).
 */
function inPlaceCandidates(g: Graph, layouts: Map<string, Layout>, noops: Set<Node>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const same = (a: string, b: string) => (layouts.get(a) ?? 'plain') === (layouts.get(b) ?? 'plain') && g.shapes.get(a)?.join() === g.shapes.get(b)?.join();
  for (const n of g.nodes) {
    const o = n.outputs[0];
    const take = opDef(n.op)?.inPlace;
    // (an output aliasing another buffer: planArena passes it over)
    if (!take || !o || noops.has(n) || g.qtypes?.has(o)) continue;
    const vs = take(n).filter((j) => {
      const v = n.inputs[j];
      return v && !g.qtypes?.has(v) && same(v, o);
    });
    if (vs.length) out.set(o, vs);
  }
  return out;
}

/** Plan a graph whose shapes are inferred: passes, layouts, arena, then one step per node. */
function planGraph(g: Graph, options: CompileOptions, backing: Backing, dyn?: Dynamic, owner = 0): Plan {
  removeIdentities(g);
  const layers = summarize(g);
  // a quantized graph's source is its form before the int8 lowering (exportOnnx writes it)
  const sourceGraph = g.unlowered ?? cloneGraph(g);
  if (options.optimize !== false) {
    recognizer?.recognizePatterns(g);
    trimDeadTaps(g);
    foldBatchNorm(g, dyn && dynamics!.foldMemo(dyn));
    fuseEpilogue(g);
  }
  const { layouts, aliases } = assignLayouts(g);
  if (g.qtypes) quant!.checkByteValues(g, aliases);
  const { views, noops } = options.optimize === false ? { views: new Map(), noops: new Set<Node>() } : planViews(g, layouts, aliases);
  const arena = planArena(g, aliases, views, options.optimize === false ? undefined : inPlaceCandidates(g, layouts, noops));

  const { mem, k, pool, id } = backing;
  const arenaBase = dyn ? dynamics!.region(dyn, mem, 'arena', arena.size, owner) : mem.alloc(arena.size);
  const constPtr = new Map<string, number>();
  const scratch = { ptr: 0 };
  let scratchBytes = 0;
  const uses = new Set<string>();
  const plan: Plan = { graph: g, sourceGraph, steps: [], stepNodes: [], inPtr: new Map(), outPtr: new Map(), layers, owner, uses, weightBytes: 0 };
  // packed once per model: the first plan to need a key packs it under its own memory owner
  const shared = dyn && dynamics!.sharer(dyn, mem, owner, uses);
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
      if (p === undefined) constPtr.set(name, (p = shared ? shared(['const', packKey(t)], () => mem.putTensor(t)) : mem.putTensor(t)));
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
    half: options.weightStorage === 'float16' ? half : undefined,
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
  if (shared) ctx.shared = shared;
  const before = mem.used;
  for (const n of g.nodes) {
    // views and aliases (reshapes, free transposes, trivial layout changes) compute nothing
    if (noops.has(n) || aliases.has(n.outputs[0])) continue;
    const s = opDef(n.op)!.plan(n, ctx);
    if (s) {
      plan.steps.push(s);
      plan.stepNodes.push(n);
    }
  }
  plan.weightBytes = mem.used - before;
  scratch.ptr = dyn ? dynamics!.region(dyn, mem, 'scratch', scratchBytes, owner) : mem.alloc(scratchBytes);
  for (const i of g.inputs) plan.inPtr.set(i.name, ctx.ptr(i.name));
  for (const o of g.outputs) plan.outPtr.set(o.name, ctx.ptr(o.name));
  return plan;
}
