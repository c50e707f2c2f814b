// Load-time evaluation of nodes whose inputs are all constants: the Shape/Gather/Unsqueeze/
// Concat/arithmetic chains exporters emit to compute reshape targets, and small float folds
// (a Reshape or Transpose of a weight). The evaluation itself is the host evaluator's
// (src/graph/eval/), which also runs data-dependent ops at inference time; this file keeps the
// load-time entry point and re-exports its helpers for their existing callers.
import { UnsupportedOpError } from '../errors';
import { evalNode, HOST_OPS, type Const } from './eval/index';
import type { Node } from './ir';
import { shapeSlice } from './eval/shape';

export { fromFloat, fromInt, toStored, type Const } from './eval/index';
export { reshapeTarget, sliceRanges, squeezeShape, unsqueezeShape } from './eval/shape';

const NOT_FOLDED = new Set(['If', 'Loop', 'Constant', 'Softmax', 'LogSoftmax']);

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
    // (and Softmax, whose axis semantics depend on the opset, which this entry point is not given)
    if (!HOST_OPS.has(n.op) || NOT_FOLDED.has(n.op)) return undefined;
    const present = n.inputs.map((name, i) => (name ? ins[i] : null));
    if (present.some((c) => c === undefined)) return undefined;
    return evalNode(n, present as (Const | null)[]);
  } catch (e) {
    if (e instanceof UnsupportedOpError) throw e;
    throw new UnsupportedOpError(n.op, n.name, `cannot evaluate constant inputs: ${(e as Error).message}`);
  }
}
