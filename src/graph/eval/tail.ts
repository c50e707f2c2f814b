// The run-time tail of a graph split by inferShapes: what follows the first
// data-dependent op (NonZero, TopK, NonMaxSuppression, If, Gather on computed indices, ...).
// Its nodes run in order at inference time: ops the host evaluator implements on the host, and
// runs of consecutive ops it does not (Conv, Gemm, MatMul, pooling, Resize: the heavy float ops
// of a detector's second stage) as "islands" that the model plans in wasm for the shapes each
// run brings (src/model.ts). Part of the lazily loaded evaluator, like the ops it runs.
import { fromFloat, fromInt, GraphError, nodeReads, numel, removeDeadNodes, ShapeError, shapeStr, UnsupportedOpError, ValueError } from '../../lazy/kit';
import type { Graph, IntTensor, Node, Tensor } from '../ir';
import type { SplitTail } from '../infer';
import type { OpDef } from '../../ops/types';
import type { InferCtx } from '../../ops/types';
import { alloc, MAX_FOLD, type Const, type Kind, type Values } from './core';
import { evalNode, HOST_OPS, type Scope } from './index';
import { MAX_SAMPLES } from './detection';

/** Consecutive tail nodes planned and run in wasm as one graph. */
export interface Island {
  /** Names its plans are cached under (its first node's name). */
  key: string;
  nodes: Node[];
  /** Values read from outside the island, in first-use order. */
  inputs: string[];
  /** Values it makes that later steps or the graph's outputs read. */
  outputs: string[];
}

/**
 * One step of a tail: a node on the host or an island in wasm. `same`: an earlier host node of
 * the same op, inputs and attributes, whose results this node's outputs take instead.
 */
export type TailStep = { host: Node; same?: Node } | { island: Island };

/** A split graph's tail, ready to run. */
export interface TailProgram {
  split: SplitTail;
  steps: TailStep[];
  opset: number;
  /** The last step reading each value (graph outputs: steps.length, read after the last step). */
  lastRead: Map<string, number>;
  /**
   * Host steps (by node name) whose large result never outlives a run, and the array each last
   * filled: the next run fills the same one (a detector's RoiAlign result and the zeros its
   * levels are scattered into, 7.5 MB each at 150 rois, made fresh each run kept the garbage
   * collector's major collections at ~10 ms a run).
   */
  recycled: Map<string, Values | undefined>;
}

/**
 * Host ops that join the island just before them when every value they read at run time is made
 * by that island (so a float): exact in wasm, and in the island they fuse into its kernels (a
 * box head's Gemm, Relu, Gemm, Relu, Flatten, Gemm runs as one island, its Relus in the GEMM
 * epilogues, instead of four islands copying their values out to the host and back in).
 */
const ISLAND_JOINS: ReadonlySet<string> = new Set(['Relu', 'Clip', 'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Add', 'Sub', 'Mul']);

/** Group the tail's nodes into host steps and wasm islands (`plannable`: ops with a wasm kernel). */
export function tailProgram(split: SplitTail, opset: number, plannable: (op: string) => boolean): TailProgram {
  const steps: TailStep[] = [];
  for (const n of split.nodes) {
    const last = steps[steps.length - 1];
    const joins = last && 'island' in last && ISLAND_JOINS.has(n.op) && plannable(n.op) && islandMade(last.island, n, split);
    if (!joins && (HOST_OPS.has(n.op) || !plannable(n.op))) {
      steps.push({ host: n });
      continue;
    }
    if (last && 'island' in last) last.island.nodes.push(n);
    else steps.push({ island: { key: n.name, nodes: [n], inputs: [], outputs: [] } });
  }
  // a host node repeating an earlier one takes its results (exports compute the NonZero of one
  // score mask once per use: retinanet's biggest, 1.8M values, twice)
  const firsts = new Map<string, Node>();
  for (const s of steps) {
    if (!('host' in s) || NOT_SHARED.has(s.host.op)) continue;
    const key = sharedKey(s.host);
    const first = key !== undefined ? firsts.get(key) : undefined;
    if (first) s.same = first;
    else if (key !== undefined) firsts.set(key, s.host);
  }
  // backwards: `later` holds what the steps after this one (and the graph's outputs) read
  const later = new Set(split.outputs.map((o) => o.name));
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    const nodes = 'host' in s ? [s.host] : s.island.nodes;
    if ('island' in s) {
      const isl = s.island;
      const made = new Set<string>();
      for (const n of nodes) {
        for (const r of nodeReads(n)) if (!made.has(r) && !isl.inputs.includes(r) && !isConst(split, r)) isl.inputs.push(r);
        for (const o of n.outputs) if (o) made.add(o);
      }
      isl.outputs = [...made].filter((v) => later.has(v));
    }
    for (const n of nodes) for (const r of nodeReads(n)) later.add(r);
  }
  const lastRead = new Map<string, number>();
  steps.forEach((s, i) => {
    for (const n of 'host' in s ? [s.host] : s.island.nodes) for (const r of nodeReads(n)) lastRead.set(r, i);
    if ('host' in s && s.same) for (const o of s.same.outputs) if (o) lastRead.set(o, i);
  });
  for (const o of split.outputs) lastRead.set(o.name, steps.length);
  const recycled = new Map<string, Values | undefined>();
  for (const s of steps) if ('host' in s && RECYCLES.has(s.host.op) && staysInRun(s.host.outputs[0], split, steps)) recycled.set(s.host.name, undefined);
  return { split, steps, opset, lastRead, recycled };
}

/**
 * Host ops never computed once for two nodes: control flow (its subgraphs), and the ops whose
 * result may be recycled across runs (see TailProgram.recycled: staysInRun follows one name).
 */
const NOT_SHARED: ReadonlySet<string> = new Set(['If', 'Loop', 'ConstantOfShape', 'RoiAlign']);

/**
 * A host node's op, inputs, outputs made and attributes as a key (numbers as their exact
 * decimal, -0 kept), undefined for an attribute that is not a number, a string or a list of them.
 */
function sharedKey(n: Node): string | undefined {
  const enc = (x: unknown): string => (typeof x === 'string' ? JSON.stringify(x) : Object.is(x, -0) ? '-0' : String(x));
  let key = JSON.stringify([n.op, n.inputs, n.outputs.map((o) => !!o)]);
  for (const k of Object.keys(n.attrs).sort()) {
    const a = n.attrs[k];
    if (typeof a === 'number' || typeof a === 'string') key += `;${JSON.stringify(k)}=${enc(a)}`;
    else if (Array.isArray(a) && a.every((x) => typeof x === 'number' || typeof x === 'string')) key += `;${JSON.stringify(k)}=[${a.map(enc).join(',')}]`;
    else return undefined;
  }
  return key;
}

/** Host ops whose result may go into an array recycled across runs (RoiAlign: its wasm path). */
const RECYCLES: ReadonlySet<string> = new Set(['ConstantOfShape', 'RoiAlign']);
/** Host ops that may return their first input's array as their result's (or, for a scatter, write into it). */
const PASSES_ON: ReadonlySet<string> = new Set(['Identity', 'Dropout', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Cast', 'ScatterElements', 'Scatter', 'ScatterND']);
/** Host ops that read an input's values into a fresh result of their own (or only its shape). */
const COPIES: ReadonlySet<string> = new Set(['Shape', 'Size', 'ScatterElements', 'Scatter', 'ScatterND', 'RoiAlign']);

/**
 * Whether value `v`'s array is certainly dropped by the end of the run: it is no graph output,
 * and every reader is an island (which copies it into wasm memory), an op that copies from it,
 * or one that passes its array on (first input) to a value that stays in the run too. Any other
 * reader (an If branch, a Gather, ...) may keep it: the answer is then no.
 */
function staysInRun(v: string | undefined, split: SplitTail, steps: TailStep[], depth = 0): boolean {
  if (!v || depth > 16 || split.outputs.some((o) => o.name === v)) return false;
  for (const s of steps) {
    if ('island' in s) continue;
    const n = s.host;
    if (!nodeReads(n).includes(v)) continue;
    const first = n.inputs[0] === v && n.inputs.indexOf(v) === n.inputs.lastIndexOf(v);
    if (PASSES_ON.has(n.op) && n.inputs[0] === v) {
      if (!first || n.outputs.length !== 1 || !staysInRun(n.outputs[0], split, steps, depth + 1)) return false;
      continue;
    }
    if (!COPIES.has(n.op) || Object.values(n.attrs).some((a) => a && typeof a === 'object' && 'nodes' in a)) return false;
  }
  return true;
}

/** Elements from which a step's result array is kept for the next run (see TailProgram.recycled). */
const RECYCLE_MIN = 1 << 16;

/** Host ops whose first input's values a caller may hand over for the result (EvalOptions.reuseFirst). */
const REUSES_FIRST: ReadonlySet<string> = new Set(['ScatterElements', 'Scatter', 'ScatterND']);
/** Host ops whose result's values are a fresh array of their own (not shared with an input or a constant). */
const FRESH_RESULT: ReadonlySet<string> = new Set(['ConstantOfShape', ...REUSES_FIRST]);

/** Whether every non-constant value `n` reads is an output of one of the island's nodes. */
function islandMade(isl: Island, n: Node, split: SplitTail): boolean {
  const reads = nodeReads(n).filter((r) => !isConst(split, r));
  return reads.length > 0 && reads.every((r) => isl.nodes.some((m) => m.outputs.includes(r)));
}

function isConst(split: SplitTail, name: string): boolean {
  return split.initializers.has(name) || split.intConstants.has(name);
}

/**
 * Run a tail after the body: `read(name)` copies a body output (the split's boundary, of the
 * shapes in `shapes`) out of wasm memory; `ints` holds the integer graph inputs of this run;
 * `island` runs an island on its inputs' values; `outputShapes` receives the outputs' shapes;
 * `times`, when given, each step's milliseconds. Returns the graph's outputs as run() does.
 */
export function runTail(
  prog: TailProgram,
  shapes: Map<string, number[]>,
  read: (name: string) => Float32Array,
  ints: Map<string, Const>,
  island: (isl: Island, ins: Const[]) => Const[],
  outputShapes: Record<string, number[]>,
  times?: number[],
  wasm?: WasmAccess,
): Record<string, Tensor> {
  const { split } = prog;
  const values = new Map<string, Const>(ints);
  for (const name of split.boundary) values.set(name, { v: read(name), shape: shapes.get(name)!.slice(), kind: 'float' });
  const scope: Scope = {
    get(name) {
      const v = values.get(name);
      if (v) return v;
      const f = split.initializers.get(name);
      if (f) return fromFloat(f);
      const k = split.intConstants.get(name);
      return k ? fromInt(k) : undefined;
    },
  };
  const get = (name: string, by: string): Const => {
    const v = scope.get(name);
    if (!v) throw new GraphError(`${by} reads '${name}', which no earlier step made`);
    return v;
  };
  const opts = { opset: prog.opset, outer: scope };
  // values whose arrays this run made and nothing else holds (a scatter may then write into them)
  const fresh = new Set<Const>();
  prog.steps.forEach((s, i) => {
    const t0 = times ? performance.now() : 0;
    if ('host' in s && s.same) {
      const first = s.same;
      s.host.outputs.forEach((o, j) => o && first.outputs[j] && values.set(o, get(first.outputs[j], `${s.host.op} node '${s.host.name}'`)));
    } else if ('host' in s) {
      const n = s.host;
      const ins = n.inputs.map((name) => (name ? get(name, `${n.op} node '${n.name}'`) : null));
      const x = ins[0];
      // its first input is dead after this step and no other value shares its array (an
      // Identity or Reshape of it would; values read through a getter, a file's weights or a
      // lazily filled Expand, are never fresh arrays and are not read here)
      const reuse = REUSES_FIRST.has(n.op) && !!x && fresh.has(x) && prog.lastRead.get(n.inputs[0]) === i && n.inputs.lastIndexOf(n.inputs[0]) === 0 &&
        [...values].every(([k, c]) => k === n.inputs[0] || Object.getOwnPropertyDescriptor(c, 'v')?.value !== x.v);
      // a result that never outlives the run: the array of the last run, when of its kind and length
      const into = prog.recycled.has(n.name)
        ? (kind: Kind, len: number): Values => {
            const a = prog.recycled.get(n.name);
            if (a && a.length === len && a instanceof (kind === 'float' ? Float32Array : kind === 'int' ? Float64Array : Uint8Array)) return a;
            const b = alloc(kind, len);
            if (len >= RECYCLE_MIN) prog.recycled.set(n.name, b);
            return b;
          }
        : undefined;
      const outs = (n.op === 'RoiAlign' && wasm && roiAlignWasm(n, ins, prog.opset, wasm, into)) ||
        evalNode(n, ins, reuse || into ? { ...opts, reuseFirst: reuse, into } : opts);
      n.outputs.forEach((o, j) => o && outs[j] && values.set(o, outs[j]));
      if (reuse) values.delete(n.inputs[0]);
      if (FRESH_RESULT.has(n.op) && outs[0]) fresh.add(outs[0]);
    } else {
      const isl = s.island;
      const outs = island(isl, isl.inputs.map((name) => get(name, `${isl.nodes[0].op} node '${isl.nodes[0].name}'`)));
      isl.outputs.forEach((o, j) => values.set(o, outs[j]));
    }
    if (times) times[i] = performance.now() - t0;
  });
  const out: Record<string, Tensor> = {};
  for (const o of split.outputs) {
    const c = get(o.name, `graph output '${o.name}'`);
    out[o.name] = toTensor(o.name, c);
    outputShapes[o.name] = c.shape.slice();
  }
  return out;
}

/** profile() rows of a tail's steps, given each one's median milliseconds. */
export function tailProfile(prog: TailProgram, ms: number[]): { node: string; op: string; ms: number; macs: number }[] {
  return prog.steps.map((s, i) => {
    const n = 'host' in s ? s.host : s.island.nodes[0];
    return { node: n.name, op: 'host' in s ? `${n.op} (host)` : s.island.nodes.map((m) => m.op).join('+'), ms: ms[i], macs: 0 };
  });
}


/** The model's memory and kernels, for host steps that a wasm kernel computes faster. */
export interface WasmAccess {
  mem: {
    readonly f32: Float32Array;
    readonly i32: Int32Array;
    alloc(bytes: number): number;
    enableTracking(): void;
    newOwner(): number;
    setOwner(owner: number): number;
    free(owner: number): number;
  };
  k: {
    roi_align_f32(
      N: number, H: number, W: number, C: number, input: number, K: number, rois: number,
      OH: number, OW: number, scale: number, sampling: number, aligned: number, maxMode: number, output: number,
      channelsFirst: number, acc: number,
    ): void;
    copy_nd_f32(dst: number, src: number, rank: number, shape: number, dstStrides: number, srcStrides: number): void;
  };
}

/**
 * RoiAlign on the model's wasm kernel (assembly/detect.ts roi_align_f32: ONNX avg and
 * onnxruntime's max, both coordinate modes, bit-identical float32 arithmetic to the evaluator's):
 * the feature map goes channels-last into temporary wasm memory (copy_nd_f32), the kernel writes
 * the pooled [K, C, OH, OW] itself, each roi transposed while in cache (the pooled transpose in
 * JS took ~6 ms of the ~10 ms this step took at 150 rois x 256 channels x 7x7 on
 * fasterrcnn_mobilenet_v3_large_320_fpn's export, by copy_nd_f32 on the whole result ~1.9 ms;
 * the JS evaluator alone takes 37 ms). Anything
 * unusual (bad shapes, attributes, batch indices, non-finite rois, sample counts past the
 * evaluator's cap, no rois) returns undefined, and the evaluator computes it or gives its typed
 * error.
 */
function roiAlignWasm(n: Node, ins: (Const | null)[], opset: number, w: WasmAccess, into?: (kind: Kind, len: number) => Values): Const[] | undefined {
  const [x, rois, bi] = ins;
  if (!x || !rois || !bi || x.kind !== 'float' || x.shape.length !== 4 || rois.shape.length !== 2 || rois.shape[1] !== 4) return undefined;
  const [N, C, H, W] = x.shape;
  const K = rois.shape[0];
  if (bi.shape.length !== 1 || bi.shape[0] !== K || K === 0 || !(H && W && C)) return undefined;
  const a = n.attrs;
  const mode = a.mode ?? 'avg';
  const ctm = a.coordinate_transformation_mode ?? (opset >= 16 ? 'half_pixel' : 'output_half_pixel');
  const num = (v: unknown, d: number) => (v === undefined ? d : typeof v === 'number' ? v : NaN);
  const OH = num(a.output_height, 1), OW = num(a.output_width, 1), ratio = num(a.sampling_ratio, 0), scale = num(a.spatial_scale, 1);
  if ((mode !== 'avg' && mode !== 'max') || (ctm !== 'half_pixel' && ctm !== 'output_half_pixel')) return undefined;
  if (!Number.isInteger(OH) || !Number.isInteger(OW) || !Number.isInteger(ratio) || !Number.isFinite(scale) || OH < 1 || OW < 1 || ratio < 0) return undefined;
  if (K * C * OH * OW > MAX_FOLD) return undefined;
  const half = ctm === 'half_pixel' ? 0.5 : 0;
  const f = Math.fround;
  const rv = rois.v;
  for (let r = 0; r < K; r++) {
    const b = bi.v[r];
    if (!(b >= 0 && b < N && Number.isInteger(b))) return undefined;
    const sx = f(rv[r * 4] * scale) - half, ex = f(rv[r * 4 + 2] * scale) - half;
    const sy = f(rv[r * 4 + 1] * scale) - half, ey = f(rv[r * 4 + 3] * scale) - half;
    if (!Number.isFinite(sx + sy + ex + ey)) return undefined;
    const gh = ratio ? ratio : Math.ceil(Math.max(ey - sy, half ? 0 : 1) / OH);
    const gw = ratio ? ratio : Math.ceil(Math.max(ex - sx, half ? 0 : 1) / OW);
    if (!(gh * gw <= MAX_SAMPLES / 2) || OH * OW * gh * gw > MAX_FOLD) return undefined;
  }
  const { mem, k } = w;
  mem.enableTracking();
  const own = mem.newOwner();
  const prev = mem.setOwner(own);
  try {
    const plane = H * W;
    const bins = OH * OW;
    const size = K * bins * C;
    const xb = N * plane * C * 4;
    const sp = mem.alloc(xb), xp = mem.alloc(xb), rp = mem.alloc(K * 20), op = mem.alloc(size * 4), acc = mem.alloc(bins * C * 4);
    // copy_nd_f32's shape and strides (i32): the map [N, C, plane] -> channels-last
    const dims = mem.alloc(9 * 4);
    mem.i32.set([N, C, plane, C * plane, 1, C, C * plane, plane, 1], dims >>> 2);
    mem.f32.set(x.v instanceof Float32Array ? x.v : Float32Array.from(x.v), sp >>> 2);
    k.copy_nd_f32(xp, sp, 3, dims, dims + 12, dims + 24);
    const m = mem.f32;
    for (let r = 0, q = rp >>> 2; r < K; r++, q += 5) {
      m[q] = bi.v[r];
      for (let j = 0; j < 4; j++) m[q + 1 + j] = rv[r * 4 + j];
    }
    k.roi_align_f32(N, H, W, C, xp, K, rp, OH, OW, scale, ratio, half ? 1 : 0, mode === 'max' ? 1 : 0, op, 1, acc);
    const pooled = mem.f32.subarray(op >>> 2, (op >>> 2) + size);
    const out = into?.('float', size);
    if (out instanceof Float32Array) out.set(pooled);
    return [{ v: out instanceof Float32Array ? out : pooled.slice(), shape: [K, C, OH, OW], kind: 'float' }];
  } finally {
    mem.setOwner(prev);
    mem.free(own);
  }
}

/** ONNX element type names of integer values (TensorProto.DataType). */
const INT_TYPES: Record<number, string> = { 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 12: 'uint32', 13: 'uint64' };

/** Largest integer float32 holds exactly (2^24). */
const EXACT_F32 = 16_777_216;

/**
 * A run-time value as run() returns it: floats as they are; integers and booleans as exact
 * float32 values with `dtype` naming the type. An integer float32 cannot hold exactly is a
 * ValueError naming the output, never a rounded value.
 */
function toTensor(name: string, c: Const): Tensor {
  if (c.kind === 'float') return { data: c.v instanceof Float32Array ? c.v : Float32Array.from(c.v), shape: c.shape.slice() };
  const v = c.v;
  for (let i = 0; i < v.length; i++)
    if (Math.abs(v[i]) > EXACT_F32)
      throw new ValueError(`output '${name}' holds the integer ${v[i]} at index ${i}, which float32 cannot represent exactly (beyond ±2^24)`);
  return { data: Float32Array.from(v), shape: c.shape.slice(), dtype: c.kind === 'bool' ? 'bool' : INT_TYPES[c.dt ?? 7] ?? 'int64' };
}

/** The body/tail split of inferShapes: g keeps the body, whose outputs become what the tail reads. */
export function splitOff(g: Graph, tail: Node[], runtime: Set<string>): SplitTail {
  const outputs = g.outputs.map((o) => ({ ...o, shape: o.shape?.slice() }));
  const reads = new Set<string>(outputs.map((o) => o.name));
  for (const n of tail) for (const r of nodeReads(n)) reads.add(r);
  const initializers = new Map<string, Tensor>();
  const intConstants = new Map<string, IntTensor>();
  const boundary: string[] = [];
  for (const r of reads) {
    if (runtime.has(r)) continue;
    const f = g.initializers.get(r);
    const k = g.intConstants.get(r);
    if (f) initializers.set(r, f);
    else if (k) intConstants.set(r, k);
    else if (g.shapes.has(r)) boundary.push(r);
    else if (outputs.some((o) => o.name === r)) throw new GraphError(`graph output '${r}' is never produced`);
    else {
      const n = tail.find((t) => nodeReads(t).includes(r))!;
      throw new GraphError(`node '${n.name}' (${n.op}) reads '${r}', which is neither an input, an initializer nor an earlier node's output`);
    }
  }
  g.inputs = g.inputs.filter((i) => !runtime.has(i.name));
  g.outputs = boundary.map((name) => ({ name, shape: g.shapes.get(name)!.slice(), dtype: 'float' }));
  removeDeadNodes(g);
  return { nodes: tail, boundary, outputs, initializers, intConstants };
}

/** A plan of an island as the model makes it (src/model.ts Plan). */
interface IslandPlan {
  graph: Graph;
  steps: (() => void)[];
  inPtr: Map<string, number>;
  outPtr: Map<string, number>;
}

/** An island's planning state (src/model.ts Dynamic): its graph and its plans by input key, least recently used first. */
interface IslandPlans {
  template: Graph;
  cache: Map<string, IslandPlan>;
  size: number;
}

/** What runIsland needs from the model (passed in, so the model's module stays small). */
export interface IslandHost {
  mem: { f32: Float32Array };
  /** The island's planning state, made from `template` on first use. */
  dynamic(template: Graph): IslandPlans;
  /** Plan `g` (the template with input shapes set) under `dyn`; a shape it cannot take is a ShapeError naming `what`. */
  plan(dyn: IslandPlans, g: Graph, what: string): IslandPlan;
  evict(dyn: IslandPlans, plan: IslandPlan): void;
  cloneGraph(g: Graph): Graph;
  opDef(op: string): OpDef | undefined;
  makeInferCtx(g: Graph): InferCtx;
}

/**
 * Run one island on run-time values: float inputs are fed; integer ones (a Resize's computed
 * sizes, a Reshape's target) become constants of the plan, which is made once per input shapes
 * and integer values and cached (least recently used evicted), its weights packed once for all.
 */
export function runIsland(isl: Island, ins: Const[], split: SplitTail, opset: number, host: IslandHost): Const[] {
  if (ins.some((c) => c.kind === 'float' && c.shape.includes(0))) return emptyIsland(isl, ins, split, opset, host);
  const key = ins.map((c) => (c.kind === 'float' ? c.shape.join('x') : `${c.shape.join('x')}=${Array.from(c.v).join(',')}`)).join(';');
  const dyn = host.dynamic(islandGraph(isl, split, opset));
  let plan = dyn.cache.get(key);
  if (plan) {
    dyn.cache.delete(key);
    dyn.cache.set(key, plan);
  } else {
    const g = host.cloneGraph(dyn.template);
    g.inputs = [];
    isl.inputs.forEach((name, j) => {
      const c = ins[j];
      if (c.kind === 'float') g.inputs.push({ name, shape: c.shape.slice(), dtype: 'float' });
      else g.intConstants.set(name, { ints: Array.from(c.v), shape: c.shape.slice() });
    });
    plan = host.plan(dyn, g, `${isl.nodes[0].op} node '${isl.nodes[0].name}' on ${ins.map((c) => shapeStr(c.shape)).join(', ')}`);
    dyn.cache.set(key, plan);
    for (const [k, old] of dyn.cache) {
      if (dyn.cache.size <= dyn.size) break;
      dyn.cache.delete(k);
      host.evict(dyn, old);
    }
  }
  const p = plan;
  isl.inputs.forEach((name, j) => {
    const c = ins[j];
    if (c.kind === 'float') host.mem.f32.set(c.v instanceof Float32Array ? c.v : Float32Array.from(c.v), p.inPtr.get(name)! >>> 2);
  });
  for (const s of p.steps) s();
  const f = host.mem.f32;
  return isl.outputs.map((name) => {
    const shape = p.graph.shapes.get(name)!;
    const at = p.outPtr.get(name)! >>> 2;
    return { v: f.slice(at, at + numel(shape)), shape: shape.slice(), kind: 'float' as const };
  });
}

/** The graph an island plans: its nodes and the constants they read; inputs are set per plan. */
function islandGraph(isl: Island, split: SplitTail, opset: number): Graph {
  const g: Graph = {
    inputs: isl.inputs.map((name) => ({ name, dtype: 'float' })),
    outputs: isl.outputs.map((name) => ({ name })),
    nodes: isl.nodes.map((n) => ({ ...n, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attrs: { ...n.attrs } })),
    initializers: new Map(),
    intConstants: new Map(),
    shapes: new Map(),
    opset,
  };
  for (const n of isl.nodes)
    for (const r of n.inputs) {
      const f = split.initializers.get(r);
      const k = split.intConstants.get(r);
      if (f) g.initializers.set(r, f);
      if (k) g.intConstants.set(r, k);
    }
  return g;
}

/**
 * An island fed an empty tensor (a detector with no candidate left): its outputs' shapes by the
 * ops' shape rules, with no kernel run. An output that would not be empty is refused.
 */
function emptyIsland(isl: Island, ins: Const[], split: SplitTail, opset: number, host: IslandHost): Const[] {
  const g = islandGraph(isl, split, opset);
  for (const [k, t] of g.initializers) g.shapes.set(k, t.shape);
  for (const [k, t] of g.intConstants) g.shapes.set(k, t.shape);
  isl.inputs.forEach((name, j) => {
    const c = ins[j];
    if (c.kind !== 'float') g.intConstants.set(name, { ints: Array.from(c.v), shape: c.shape.slice() });
    g.shapes.set(name, c.shape.slice());
  });
  const ctx = host.makeInferCtx(g);
  for (const n of g.nodes) {
    const shapes = host.opDef(n.op)!.infer(n, ctx);
    n.outputs.forEach((o, j) => o && g.shapes.set(o, shapes[j]));
  }
  return isl.outputs.map((name) => {
    const shape = g.shapes.get(name)!;
    if (numel(shape) !== 0)
      throw new UnsupportedOpError(isl.nodes[0].op, isl.nodes[0].name, `an empty input giving the non-empty output '${name}' ${shapeStr(shape)}`);
    return { v: new Float32Array(0), shape, kind: 'float' as const };
  });
}

/** summary() rows of a tail's nodes (their output shapes are known only once they run). */
export function tailLayers(
  split: SplitTail,
  body: { name: string }[],
  notParams: Record<string, number[]>,
): { name: string; op: string; outputShape: number[]; params: number; macs: number }[] {
  const counted = new Set(body.map((l) => l.name));
  return split.nodes.map((n) => {
    let params = 0;
    const skip = notParams[n.op] ?? [];
    n.inputs.forEach((name, i) => {
      const t = split.initializers.get(name);
      if (t && !skip.includes(i) && !counted.has(name)) {
        counted.add(name);
        params += numel(t.shape);
      }
    });
    return { name: n.name, op: n.op, outputShape: [], params, macs: 0 };
  });
}

/** An integer input's feed as the host evaluator's value (integer-valued, of the declared shape). */
export function intFeed(name: string, t: { data: ArrayLike<number | bigint>; shape: number[] }, want: number[], bool: boolean): Const {
  const d = t.data;
  if (!ArrayBuffer.isView(d) || !Array.isArray(t.shape) || t.shape.length !== want.length || t.shape.some((x, i) => x !== want[i] && want[i] >= 0) || d.length !== numel(t.shape))
    throw new ShapeError(`input '${name}': expected a typed array of shape ${shapeStr(want)} (-1: any size), got ${Array.isArray(t.shape) ? shapeStr(t.shape) : String(t.shape)}`);
  const v = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const x = Number(d[i]);
    if (!Number.isSafeInteger(x)) throw new ValueError(`input '${name}' holds ${String(d[i])} at index ${i}, which is not an integer within ±2^53`);
    v[i] = bool ? +(x !== 0) : x;
  }
  return { v, shape: t.shape.slice(), kind: bool ? 'bool' : 'int' };
}
