// Removes nodes that do nothing at inference (Identity, Dropout, DropPath, Cast to float on floats) by
// wiring their readers to their input, then drops dead nodes.
import type { Graph } from './ir';
import { isGraphOutput, removeDeadNodes, renameUses } from './util';

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
