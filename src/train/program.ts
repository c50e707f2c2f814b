// A training program for one input shape: every node of the network as built (BatchNorm not
// folded, nothing fused, activations NCHW as PyTorch keeps them) gets a forward step that keeps
// what its backward needs, and a backward step; the backward steps run in reverse order. Each
// activation keeps its own buffer (the forward's saved values) and, where a gradient reaches it,
// a gradient buffer. Rules per op family live in src/train/ops/.
import { GraphError, numel, UnsupportedOpError } from '../lazy/kit';
import type { Graph, Node } from '../graph/ir';
import type { Kernels, ParallelKernel } from '../runtime/kernels';
import type { attrFloat, attrInt, attrInts, normAxis } from '../ops/attrs';
import type { window2d } from '../ops/geometry';
import type { convTransposeGeometry } from '../ops/convTranspose';
import type { unaryCode } from '../ops/unary';
import type { resizeTables } from '../ops/resize';
import type { Pool } from '../runtime/threads';
import type { Mem } from '../runtime/memory';
import { RULES } from './ops';

/** A forward step and its backward (absent when no input of the node needs a gradient). */
export interface TrainStep {
  forward: () => void;
  backward?: () => void;
}

/** Where a backward step writes the gradient of one of its inputs. */
export interface Sink {
  /** The gradient buffer. */
  ptr: number;
  /** True when another consumer's gradient is already there (add into it); false: overwrite. */
  add: boolean;
}

/**
 * The engine pieces training rules share with inference (attribute readers, window geometry,
 * activation codes, kernel op codes), handed in by the model: this lazily loaded chunk imports
 * none of the inference modules, so bundlers need not wrap them for sharing.
 */
export interface TrainLib {
  attrInt: typeof attrInt;
  attrInts: typeof attrInts;
  attrFloat: typeof attrFloat;
  normAxis: typeof normAxis;
  window2d: typeof window2d;
  convTransposeGeometry: typeof convTransposeGeometry;
  unaryCode: typeof unaryCode;
  /** A Resize / Upsample node's coordinate rule resolved into per-axis tables (src/ops/resize.ts). */
  resizeTables: typeof resizeTables;
  /** assembly/codes.ts op codes the rules use. */
  codes: {
    BIN_ADD: number; BIN_SUB: number; BIN_MUL: number; BIN_PRELU: number; RED_SUM: number; RED_MEAN: number; RED_MAX: number;
  };
  /** runtime/kernels.ts PARALLEL_KERNELS: a pooled kernel's index. */
  parallelKernels: readonly string[];
}

/** What an op's training rule sees while it plans its steps. */
export interface TrainCtx {
  readonly lib: TrainLib;
  readonly k: Kernels;
  /** Threads the kernels split over (1 without a pool). */
  readonly threads: number;
  /**
   * Call a kernel taking (part, parts) last: over the thread pool when `macs` (its work) is
   * large enough to share, else as one call. The split never changes the result's bits.
   */
  call(kernel: ParallelKernel, macs: number, ...args: number[]): void;
  readonly mem: Mem;
  readonly graph: Graph;
  shape(name: string): number[];
  /** Buffer of a value (activation, graph input or parameter). */
  ptr(name: string): number;
  /** True when the loss's gradient must reach this value (a trainable parameter or a value made from one). */
  needsGrad(name: string): boolean;
  /** Gradient buffer of the node's output (or of a parameter: accumulate into it). */
  grad(name: string): number;
  /** The gradient buffer of input `name` and whether it already holds another consumer's share. */
  sink(name: string): Sink;
  /** Bytes kept by this program (saved statistics, indices), zeroed. */
  keep(bytes: number): number;
  /**
   * Scratch shared by all steps (valid once planning ends: read `.ptr` inside steps). Slots
   * 0..2 are separate areas for steps that need several at once; SINK_SLOT is overwriteSink's.
   */
  scratch(bytes: number, slot?: number): { ptr: number };
  /** Run-time state: training mode (BatchNorm batch statistics, Dropout masks) and the step's seed. */
  readonly state: { training: boolean; seed: number; step: number };
  /** A constant float tensor the node reads as a setting (Clip bounds, Dropout ratio), if it is one. */
  constant(name: string): Float32Array | undefined;
}

/** Scratch slots: 0..2 for rules, 3 for the gradient share a rule adds into an input's gradient. */
const SLOTS = 4;
export const SINK_SLOT = 3;

export type TrainRule = (n: Node, ctx: TrainCtx) => TrainStep;

/** Forward and backward steps, and the buffers of inputs and outputs, for one input shape. */
export interface Program {
  key: string;
  forward: (() => void)[];
  backward: (() => void)[];
  inPtr: Map<string, number>;
  outPtr: Map<string, number>;
  /** Gradient buffers of the graph outputs (the loss writes them). */
  outGrad: Map<string, number>;
  /** Memory owner of the program's buffers. */
  owner: number;
  /** Every value's shape for this input shape. */
  shapes: Map<string, number[]>;
  /** Buffers of every value (forward) and of the gradients that reach them (tests, memory reports). */
  values: Map<string, number>;
  grads: Map<string, number>;
}

/**
 * Plan `g` (shapes inferred for one input shape): buffers for every value, then one step per
 * node. `params` maps trainable names to their buffers; `trainable` says which get gradients.
 */
/**
 * Offsets of the activation gradients in one arena. Backward runs the nodes in reverse, so with
 * t = nodes - index as backward time, grad(v) is live from its last consumer's step (graph
 * outputs and unconsumed values: from the start) to its producer's; overlapping lives get
 * disjoint bytes (first fit in offset order). Also the gradients no step writes.
 */
function gradientArena(
  g: Graph, reach: Set<string>, params: Map<string, unknown>, shape: (v: string) => number[],
): { offsets: Map<string, number>; size: number; unwritten: string[] } {
  const N = g.nodes.length;
  const producer = new Map<string, number>();
  const lastUse = new Map<string, number>();
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) if (o && reach.has(o) && !params.has(o)) producer.set(o, i);
    for (const x of n.inputs) if (x && reach.has(x) && !params.has(x)) lastUse.set(x, i);
  });
  const outputs = new Set(g.outputs.map((o) => o.name));
  const unwritten: string[] = [];
  const items = [...producer].map(([name, p]) => {
    const last = lastUse.get(name);
    if (last === undefined && !outputs.has(name)) unwritten.push(name);
    // the loss writes the outputs' gradients before the first step
    const start = last === undefined || outputs.has(name) ? 0 : N - last;
    return { name, bytes: Math.ceil((Math.max(numel(shape(name)), 1) * 4) / 64) * 64, start, end: N - p };
  });
  items.sort((a, b) => a.start - b.start || b.bytes - a.bytes);
  const offsets = new Map<string, number>();
  let live: { off: number; bytes: number; end: number }[] = [];
  let size = 0;
  for (const it of items) {
    live = live.filter((b) => b.end >= it.start).sort((a, b) => a.off - b.off);
    let off = 0;
    for (const b of live) {
      if (b.off - off >= it.bytes) break;
      off = Math.max(off, b.off + b.bytes);
    }
    live.push({ off, bytes: it.bytes, end: it.end });
    offsets.set(it.name, off);
    size = Math.max(size, off + it.bytes);
  }
  return { offsets, size, unwritten };
}

/** Below this many multiply-accumulates a kernel call runs on the calling thread (as inference plans do). */
const MIN_PARALLEL_MACS = 100_000;

export function planProgram(
  lib: TrainLib, g: Graph, k: Kernels, pool: { pool: Pool; id: number } | undefined, mem: Mem, key: string, owner: number,
  params: Map<string, { ptr: number; grad: number }>, trainable: (name: string) => boolean,
  state: TrainCtx['state'],
): Program {
  const shape = (name: string) => {
    const s = g.shapes.get(name);
    if (!s) throw new GraphError(`value '${name}' has no shape`);
    return s;
  };
  // which values the loss's gradient reaches
  const reach = new Set<string>();
  for (const name of params.keys()) if (trainable(name)) reach.add(name);
  for (const n of g.nodes) if (n.inputs.some((i) => reach.has(i))) for (const o of n.outputs) if (o) reach.add(o);
  const needsGrad = (name: string) => reach.has(name);

  const ptrs = new Map<string, number>();
  const grads = new Map<string, number>();
  const alloc = (floats: number) => mem.alloc(Math.max(floats, 1) * 4);
  for (const i of g.inputs) ptrs.set(i.name, alloc(numel(shape(i.name))));
  for (const [name, p] of params) {
    ptrs.set(name, p.ptr);
    grads.set(name, p.grad);
  }
  // constants that are not parameters (folded values, settings): copied once
  const constPtr = (name: string) => {
    const t = g.initializers.get(name);
    if (!t) return undefined;
    const p = mem.putF32(t.data);
    ptrs.set(name, p);
    return p;
  };
  for (const n of g.nodes)
    for (const o of n.outputs) if (o) ptrs.set(o, alloc(numel(shape(o))));
  // activation gradients share one arena: grad(v) lives from the backward step of v's last
  // consumer (which overwrites it) to that of v's producer (which reads it last)
  const { offsets, size, unwritten } = gradientArena(g, reach, params, shape);
  const arena = mem.alloc(size);
  for (const [name, off] of offsets) grads.set(name, arena + off);
  // the first backward step to write an input's gradient (its last consumer) overwrites it;
  // graph outputs already hold the loss's gradient, which every consumer adds to
  const written = new Set<string>(g.outputs.map((o) => o.name));
  const sinkOrder = new Map<Node, Set<string>>();
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    const adds = new Set<string>();
    for (const x of n.inputs) {
      if (!x || !reach.has(x) || params.has(x)) continue;
      if (written.has(x)) adds.add(x);
      written.add(x);
    }
    sinkOrder.set(n, adds);
  }
  const slots = Array.from({ length: SLOTS }, () => ({ ptr: 0, bytes: 0 }));
  const prog: Program = { key, forward: [], backward: [], inPtr: new Map(), outPtr: new Map(), outGrad: new Map(), owner, shapes: g.shapes, values: ptrs, grads };
  let current: Node | undefined;
  const kernels = k as unknown as Record<ParallelKernel, (...a: number[]) => void>;
  const ctx: TrainCtx = {
    lib, k, mem, graph: g, state, shape, needsGrad,
    threads: pool?.pool.threads ?? 1,
    call(kernel, macs, ...args) {
      // mm_f32 packs into the scratch its caller reserved: a rule that reserved too little for
      // a product would overwrite its neighbours silently, so every call is checked
      if (kernel === 'mm_f32') {
        const [tA, tB, M, N, K] = args;
        const need = k.mm_scratch_bytes(M, N, K, tA, tB, ctx.threads);
        // (an empty slot may share its address with the next one)
        const have = Math.max(0, ...slots.filter((sl) => sl.ptr === args[12]).map((sl) => sl.bytes));
        if (need > have) throw new GraphError(`internal: a training step's mm_f32 ${M}x${N}x${K} needs ${need} bytes of scratch, ${have} were reserved`);
      }
      if (!pool || macs < MIN_PARALLEL_MACS) kernels[kernel](...args, 0, 1);
      else pool.pool.run(k, pool.id, lib.parallelKernels.indexOf(kernel), args);
    },
    ptr(name) {
      const p = ptrs.get(name) ?? constPtr(name);
      if (p === undefined) throw new GraphError(`value '${name}' has no buffer`);
      return p;
    },
    grad(name) {
      const p = grads.get(name);
      if (p === undefined) throw new GraphError(`internal: value '${name}' has no gradient buffer`);
      return p;
    },
    sink(name) {
      if (params.has(name)) return { ptr: ctx.grad(name), add: true };
      return { ptr: ctx.grad(name), add: sinkOrder.get(current!)!.has(name) };
    },
    keep(bytes) {
      const p = mem.alloc(bytes);
      mem.f32.fill(0, p >>> 2, (p + bytes) >>> 2);
      return p;
    },
    scratch(bytes, slot = 0) {
      const s = slots[slot];
      s.bytes = Math.max(s.bytes, bytes);
      return s;
    },
    constant(name) {
      return g.initializers.get(name)?.data;
    },
  };
  for (const n of g.nodes) {
    const rule = RULES[n.op];
    if (!rule) throw new UnsupportedOpError(n.op, n.name, 'no training rule yet (the training ops are listed in src/train/ops)');
    current = n;
    const s = rule(n, ctx);
    prog.forward.push(s.forward);
    if (s.backward && n.outputs.some((o) => o && reach.has(o))) prog.backward.push(s.backward);
  }
  prog.backward.reverse();
  // a gradient nothing writes (an unused output) is zero, not another value's leftovers
  if (unwritten.length) prog.backward.unshift(() => unwritten.forEach((v) => k.fill_f32(grads.get(v)!, numel(shape(v)), 0)));
  for (const s of slots) s.ptr = mem.alloc(s.bytes);
  for (const i of g.inputs) prog.inPtr.set(i.name, ptrs.get(i.name)!);
  for (const o of g.outputs) {
    prog.outPtr.set(o.name, ctx.ptr(o.name));
    if (grads.has(o.name)) prog.outGrad.set(o.name, grads.get(o.name)!);
  }
  return prog;
}
