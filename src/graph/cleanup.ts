// Removes nodes that do nothing at inference (Identity, Dropout, DropPath, Cast to float on floats) by
// wiring their readers to their input, then drops dead nodes; and writes ONNX's Swish in the ops
// that compute it.
import type { Graph } from './ir';
import { freshName, isGraphOutput, removeDeadNodes, renameUses } from './util';

const PASS_THROUGH = new Set(['Identity', 'Dropout', 'DropPath']);

export function removeIdentities(g: Graph): void {
  for (const n of [...g.nodes]) {
    const passThrough = PASS_THROUGH.has(n.op) || (n.op === 'Cast' && g.initializers.has(n.inputs[0]) === false);
    if (!passThrough) continue;
    const [out] = n.outputs;
    if (isGraphOutput(g, out) || n.outputs.slice(1).some((o) => o)) continue;
    renameUses(g, out, n.inputs[0]);
    g.nodes.splice(g.nodes.indexOf(n), 1);
  }
  removeDeadNodes(g);
}

/**
 * ONNX Swish (opset 24), y = x · sigmoid(alpha · x), as Mul(x, Sigmoid(x · alpha)); with alpha 1
 * as Mul(x, Sigmoid(x)), which the recognizer makes one SiLU step. Every later stage (planning,
 * the host evaluator, training, export) then meets ops it knows. Before shape inference.
 */
export function expandSwish(g: Graph): void {
  for (const n of [...g.nodes]) {
    if (n.op !== 'Swish') continue;
    const alpha = (n.attrs.alpha as number | undefined) ?? 1;
    const [x] = n.inputs;
    const nodes = [];
    let z = x;
    if (alpha !== 1) {
      const a = freshName(`${n.name}.alpha`);
      g.initializers.set(a, { data: new Float32Array([alpha]), shape: [] });
      z = freshName(`${n.name}.scaled`);
      nodes.push({ name: freshName(n.name), op: 'Mul', inputs: [x, a], outputs: [z], attrs: {} });
    }
    const s = freshName(`${n.name}.gate`);
    nodes.push({ name: freshName(n.name), op: 'Sigmoid', inputs: [z], outputs: [s], attrs: {} });
    nodes.push({ name: n.name, op: 'Mul', inputs: [x, s], outputs: n.outputs, attrs: {} });
    g.nodes.splice(g.nodes.indexOf(n), 1, ...nodes);
  }
}
