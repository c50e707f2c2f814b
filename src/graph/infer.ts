// Shape inference and load-time folding: walks the nodes in order, evaluates nodes whose
// inputs are all constants (shape arithmetic) and asks each op's shape rule for the rest.
import { GraphError, ShapeError, UnsupportedOpError } from '../errors';
import { opDef } from '../ops';
import type { InferCtx } from '../ops/types';
import { constInputs, evalConst, evaluatorModule, hostOp, storeFolded } from './constEval';
import type { Graph, IntTensor, Node, Tensor, ValueInfo } from './ir';
import { numel, shapeStr } from './ir';
import { MAX_ELEMENTS } from '../ops/util';
import { nodeReads, removeDeadNodes } from './util';

export function makeInferCtx(g: Graph): InferCtx {
  return {
    graph: g,
    opset: g.opset,
    shape(name) {
      const s = g.shapes.get(name);
      if (!s) throw new GraphError(`value '${name}' is used but never produced (missing initializer or input?)`);
      return s;
    },
    int: (name) => g.intConstants.get(name),
    float: (name) => g.initializers.get(name),
  };
}

/**
 * A tensor's shape against wasm32: integer dims whose product, as float32 bytes, fits the 4 GiB
 * address space (kernels take element counts as i32).
 */
function checkSize(what: string, shape: number[]): void {
  if (shape.some((d) => !Number.isSafeInteger(d))) throw new ShapeError(`${what} has shape ${shapeStr(shape)}: dims must be integers`);
  const n = numel(shape);
  if (n > MAX_ELEMENTS)
    throw new ShapeError(`${what} has shape ${shapeStr(shape)}: ${n.toExponential(3)} floats (${(n / 2 ** 28).toFixed(1)} GiB) do not fit wasm32's 4 GiB memory`);
}

/**
 * Structure before any shape rule runs: ops and attributes named with a leading '_' belong to
 * wasmcnn's own passes (fusion codes, layout changes) and are refused from a file; every value is
 * produced once (by one node, never also an input or initializer). Nodes must come in an order
 * where each reads only values made before it, which the walk in inferShapes enforces, so a
 * cycle is a GraphError there.
 */
function checkNodes(g: Graph): void {
  const made = new Set<string>([...g.inputs.map((i) => i.name), ...g.initializers.keys(), ...g.intConstants.keys()]);
  for (const n of g.nodes) {
    // a graph the int8 lowering rewrote (g.qtypes set: never by a file) holds its steps and attributes
    if (!g.qtypes) {
      if (n.op.startsWith('_')) throw new UnsupportedOpError(n.op, n.name, 'an op reserved for wasmcnn\'s own passes');
      for (const k of Object.keys(n.attrs))
        if (k.startsWith('_')) throw new UnsupportedOpError(n.op, n.name, `attribute '${k}' is reserved for wasmcnn's own passes`);
    }
    for (const o of n.outputs) {
      if (!o) continue;
      if (made.has(o)) throw new GraphError(`node '${n.name}' (${n.op}) writes '${o}', which is already an input, an initializer or another node's output`);
      made.add(o);
    }
  }
}

/**
 * The run-time part of a graph split by inferShapes: the nodes that cannot be
 * planned in wasm for this input shape (data-dependent ops such as NonZero, TopK, If, and every
 * node reading their results), in order, and the values they read from the planned body.
 */
export interface SplitTail {
  /** Nodes run at inference time after the body, in topological order. */
  nodes: Node[];
  /** Body values (or float graph inputs) the tail reads: the body graph's outputs. */
  boundary: string[];
  /** The graph's outputs as declared (the body graph's outputs become `boundary`). */
  outputs: ValueInfo[];
  /** Constants the tail reads (loaded or folded for this shape). */
  initializers: Map<string, Tensor>;
  intConstants: Map<string, IntTensor>;
}

/**
 * Fill g.shapes for every value, folding constant subgraphs away. A node that the wasm path
 * cannot plan for these shapes but the host evaluator runs (a data-dependent op, an integer or
 * comparison op on run-time values, control flow, an integer input) does not stop the load: it
 * and every node reading its results become the returned tail, and g keeps the plannable body
 * with the values the tail reads as its outputs. Without a tail, undefined.
 */
export function inferShapes(g: Graph): SplitTail | undefined {
  const runtime = new Set<string>();
  const tail: Node[] = [];
  // a node computed at run time, whose outputs every later reader must wait for
  const toTail = (n: Node) => {
    tail.push(n);
    for (const o of n.outputs) if (o) runtime.add(o);
  };
  g.shapes.clear();
  for (const i of g.inputs) {
    if (i.dtype && i.dtype !== 'float') {
      // integer inputs are read on the host, by the tail (each of their readers is in it)
      runtime.add(i.name);
      continue;
    }
    if (!i.shape || i.shape.some((d) => !(d >= 1)))
      throw new ShapeError(`input '${i.name}' has shape ${shapeStr(i.shape)}; give a concrete shape (inputShapes option)`);
    checkSize(`input '${i.name}'`, i.shape);
    if (g.shapes.has(i.name)) throw new GraphError(`input '${i.name}' is declared twice`);
    g.shapes.set(i.name, i.shape.slice());
  }
  checkNodes(g);
  for (const [k, t] of g.initializers) g.shapes.set(k, t.shape);
  for (const [k, t] of g.intConstants) g.shapes.set(k, t.shape);
  const ctx = makeInferCtx(g);
  const kept = [];
  for (const n of g.nodes) {
    if (runtime.size && nodeReads(n).some((i) => runtime.has(i))) {
      toTail(n);
      continue;
    }
    for (const i of n.inputs)
      if (i && !g.shapes.has(i))
        throw new GraphError(`node '${n.name}' (${n.op}) reads '${i}', which is neither an input, an initializer nor an earlier node's output`);
    const folded = evalConst(n, constInputs(g, n), (name) => g.shapes.get(name));
    if (folded) {
      storeFolded(g, n, folded);
      continue;
    }
    const def = opDef(n.op);
    if (!def && hostOp(n.op)) {
      toTail(n);
      continue;
    }
    if (!def) throw new UnsupportedOpError(n.op, n.name);
    let shapes: number[][];
    try {
      shapes = def.infer(n, ctx);
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError)
        throw new GraphError(`${n.op} node '${n.name}': malformed attributes or inputs (${e.message})`);
      throw e;
    }
    n.outputs.forEach((o, j) => {
      if (!o) return;
      const s = shapes[j];
      if (!s) throw new UnsupportedOpError(n.op, n.name, `output ${j} ('${o}') is not supported`);
      if (s.some((d) => !Number.isInteger(d) || d < 0))
        throw new ShapeError(`${n.op} node '${n.name}': computed output shape ${shapeStr(s)} is invalid`);
      if (s.some((d) => d === 0))
        throw new UnsupportedOpError(n.op, n.name, `zero-sized tensor '${o}' ${shapeStr(s)}`);
      checkSize(`${n.op} node '${n.name}': output '${o}'`, s);
      g.shapes.set(o, s);
    });
    kept.push(n);
  }
  g.nodes = kept;
  // an output folded to a constant (every input frozen) is returned by an empty tail
  if (tail.length || runtime.size || g.outputs.some((o) => g.initializers.has(o.name) || g.intConstants.has(o.name))) return evaluatorModule().splitOff(g, tail, runtime);
  for (const o of g.outputs) {
    if (!g.shapes.has(o.name)) throw new GraphError(`graph output '${o.name}' is never produced`);
    o.shape = g.shapes.get(o.name);
  }
  removeDeadNodes(g);
  return undefined;
}

