// Load-time evaluation of nodes whose inputs are all constants: the Shape/Gather/Unsqueeze/
// Concat/arithmetic chains exporters emit to compute reshape targets, and small float folds
// (a Reshape or Transpose of a weight). The evaluation itself is the host evaluator's
// (src/graph/eval/), which also runs data-dependent ops at inference time; this file keeps the
// load-time entry point and re-exports its helpers for their existing callers.
//
// The evaluator is loaded on first use (loadEvaluator, which compileGraph awaits before any
// shape inference): most programs fold a few shape chains and never run a data-dependent op,
// and a bundle of `import { init, loadOnnx }` should not carry every host op up front.
import { UnsupportedOpError, WasmCnnError } from '../errors';
import type { Const } from './eval/core';
import type { Graph, IntTensor, Node, Tensor } from './ir';
import { provideKit } from '../lazy/supply';
import { shapeSlice } from './shapes';

export type { Const } from './eval/core';
export { reshapeTarget, sliceRanges, squeezeShape, unsqueezeShape } from './shapes';

/** A stored int constant as the evaluator's value (its values read when first used, as fromFloat's). */
export function fromInt(t: IntTensor): Const {
  const c: Const = {
    get v() {
      return t.ints;
    },
    shape: t.shape,
    kind: 'int',
  };
  // 8-bit constants keep their type (quantized weights and zero points: MatMulInteger, ConvInteger)
  if (t.elem === 'int8' || t.elem === 'uint8') c.dt = ELEM_DT[t.elem];
  return c;
}

/** ONNX element types (TensorProto.DataType) of the 8-bit IntTensor elems. */
const ELEM_DT = { int8: 3, uint8: 2 } as const;
/** A float initializer as the evaluator's value (its values read when first used). */
export function fromFloat(t: Tensor): Const {
  // read on use: a weight still in its file's bytes is decoded only if an op folds it
  return {
    get v() {
      return t.data;
    },
    shape: t.shape,
    kind: 'float',
  };
}
/** An evaluated value as the graph stores constants: a float initializer or an int constant. */
export function toStored(c: Const): { float?: Tensor; int?: IntTensor } {
  return c.kind === 'float'
    ? { float: { data: c.v instanceof Float32Array ? c.v : Float32Array.from(c.v), shape: c.shape } }
    : { int: { ints: Array.from(c.v), shape: c.shape, ...(c.dt === 3 ? { elem: 'int8' as const } : c.dt === 2 ? { elem: 'uint8' as const } : {}) } };
}

/** The evaluator's values of a node's inputs that are graph constants (undefined for the others). */
export function constInputs(g: Graph, n: Node): (Const | undefined)[] {
  return n.inputs.map((i) => {
    const it = g.intConstants.get(i);
    if (it) return fromInt(it);
    const ft = g.initializers.get(i);
    return ft ? fromFloat(ft) : undefined;
  });
}

/** Stores a folded node's results as graph constants (float initializers or int constants) with their shapes. */
export function storeFolded(g: Graph, n: Node, folded: Const[]): void {
  folded.forEach((c, j) => {
    const name = n.outputs[j];
    if (!name) return;
    const s = toStored(c);
    if (s.float) g.initializers.set(name, s.float);
    else g.intConstants.set(name, s.int!);
    g.shapes.set(name, c.shape);
  });
}

let evaluator: typeof import('./eval/index') | undefined;

/** Loads the host evaluator (src/graph/eval/); evalConst needs it. */
export async function loadEvaluator(): Promise<void> {
  if (evaluator) return;
  const m = await import('./eval/index');
  provideKit();
  evaluator = m;
}

/** The loaded host evaluator (loadEvaluator first). */
export function evaluatorModule(): typeof import('./eval/index') {
  if (!evaluator) throw new WasmCnnError('internal: host evaluator used before loadEvaluator()');
  return evaluator;
}

/** True when the host evaluator runs `op` (at inference time, for a graph's data-dependent tail). */
export function hostOp(op: string): boolean {
  return evaluatorModule().HOST_OPS.has(op);
}

const NOT_FOLDED = new Set(['If', 'Loop', 'Constant', 'Softmax', 'LogSoftmax', 'Hardmax', 'RoiAlign']);

/**
 * Evaluate `n` on constant inputs (missing entries in `ins` are non-constant). `shapeOf` gives
 * known shapes for Shape/Size. Returns undefined when the node must run at inference time.
 */
export function evalConst(n: Node, ins: (Const | undefined)[], shapeOf: (name: string) => number[] | undefined): Const[] | undefined {
  try {
    if (n.op === 'Shape' || n.op === 'Size') {
      const s = ins[0]?.shape ?? shapeOf(n.inputs[0]);
      if (!s) return undefined;
      if (n.op === 'Size') return [{ v: [s.reduce((a, b) => a * b, 1)], shape: [], kind: 'int' }];
      return [shapeSlice(n, s)];
    }
    // control flow needs its subgraphs, which only run at inference time
    // (and Softmax, Hardmax and RoiAlign, whose semantics depend on the opset, which this entry point is not given)
    if (!evaluator) throw new WasmCnnError('internal: constant folding before loadEvaluator()');
    if (!evaluator.HOST_OPS.has(n.op) || NOT_FOLDED.has(n.op)) return undefined;
    const present = n.inputs.map((name, i) => (name ? ins[i] : null));
    if (present.some((c) => c === undefined)) return undefined;
    return evaluator.evalNode(n, present as (Const | null)[]);
  } catch (e) {
    if (e instanceof UnsupportedOpError || (e instanceof WasmCnnError && e.message.startsWith('internal:'))) throw e;
    throw new UnsupportedOpError(n.op, n.name, `cannot evaluate constant inputs: ${(e as Error).message}`);
  }
}
