// The run-time tail of a graph split by inferShapes({ split: true }): what follows the first
// data-dependent op (NonZero, TopK, NonMaxSuppression, If, Gather on computed indices, ...).
// Its nodes run in order at inference time: ops the host evaluator implements on the host, and
// runs of consecutive ops it does not (Conv, Gemm, MatMul, pooling, Resize: the heavy float ops
// of a detector's second stage) as "islands" that the model plans in wasm for the shapes each
// run brings (src/model.ts). Part of the lazily loaded evaluator, like the ops it runs.
import { GraphError, ValueError } from '../../errors';
import type { Node, Tensor } from '../ir';
import { fromFloat, fromInt } from '../constEval';
import { nodeReads, type SplitTail } from '../infer';
import type { Const } from './core';
import { evalNode, HOST_OPS, type Scope } from './index';

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

/** One step of a tail: a node on the host or an island in wasm. */
export type TailStep = { host: Node } | { island: Island };

/** A split graph's tail, ready to run. */
export interface TailProgram {
  split: SplitTail;
  steps: TailStep[];
  opset: number;
}

/** Group the tail's nodes into host steps and wasm islands (`plannable`: ops with a wasm kernel). */
export function tailProgram(split: SplitTail, opset: number, plannable: (op: string) => boolean): TailProgram {
  const steps: TailStep[] = [];
  for (const n of split.nodes) {
    if (HOST_OPS.has(n.op) || !plannable(n.op)) {
      steps.push({ host: n });
      continue;
    }
    const last = steps[steps.length - 1];
    if (last && 'island' in last) last.island.nodes.push(n);
    else steps.push({ island: { key: n.name, nodes: [n], inputs: [], outputs: [] } });
  }
  const graphOutputs = new Set(split.outputs.map((o) => o.name));
  steps.forEach((s, i) => {
    if (!('island' in s)) return;
    const isl = s.island;
    const made = new Set<string>();
    for (const n of isl.nodes) {
      for (const r of nodeReads(n)) if (!made.has(r) && !isl.inputs.includes(r) && !isConst(split, r)) isl.inputs.push(r);
      for (const o of n.outputs) if (o) made.add(o);
    }
    const later = new Set<string>();
    for (const t of steps.slice(i + 1)) for (const n of 'host' in t ? [t.host] : t.island.nodes) for (const r of nodeReads(n)) later.add(r);
    isl.outputs = [...made].filter((v) => later.has(v) || graphOutputs.has(v));
  });
  return { split, steps, opset };
}

function isConst(split: SplitTail, name: string): boolean {
  return split.initializers.has(name) || split.intConstants.has(name);
}

/**
 * Run a tail: `values` holds the body's outputs (the split's boundary) and receives every value
 * made; `island` runs an island on its inputs' values. `times`, when given, receives each step's
 * milliseconds. Returns the graph's outputs.
 */
export function runTail(
  prog: TailProgram,
  values: Map<string, Const>,
  island: (isl: Island, ins: Const[]) => Const[],
  times?: number[],
): Map<string, Const> {
  const { split } = prog;
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
  prog.steps.forEach((s, i) => {
    const t0 = times ? performance.now() : 0;
    if ('host' in s) {
      const n = s.host;
      const outs = evalNode(n, n.inputs.map((name) => (name ? get(name, `${n.op} node '${n.name}'`) : null)), opts);
      n.outputs.forEach((o, j) => o && outs[j] && values.set(o, outs[j]));
    } else {
      const isl = s.island;
      const outs = island(isl, isl.inputs.map((name) => get(name, `${isl.nodes[0].op} node '${isl.nodes[0].name}'`)));
      isl.outputs.forEach((o, j) => values.set(o, outs[j]));
    }
    if (times) times[i] = performance.now() - t0;
  });
  const out = new Map<string, Const>();
  for (const o of split.outputs) out.set(o.name, get(o.name, `graph output '${o.name}'`));
  return out;
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
export function toTensor(name: string, c: Const): Tensor {
  if (c.kind === 'float') return { data: c.v instanceof Float32Array ? c.v : Float32Array.from(c.v), shape: c.shape.slice() };
  const v = c.v;
  for (let i = 0; i < v.length; i++)
    if (Math.abs(v[i]) > EXACT_F32)
      throw new ValueError(`output '${name}' holds the integer ${v[i]} at index ${i}, which float32 cannot represent exactly (beyond ±2^24)`);
  return { data: Float32Array.from(v), shape: c.shape.slice(), dtype: c.kind === 'bool' ? 'bool' : INT_TYPES[c.dt ?? 7] ?? 'int64' };
}
