// Small graph queries shared by the passes.
import type { Graph, Node } from './ir';
import { evaluatorModule } from './constEval';

/** For each value, the nodes that read it. */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes)
    for (const i of n.inputs) {
      if (!i) continue;
      let l = m.get(i);
      if (!l) m.set(i, (l = []));
      if (!l.includes(n)) l.push(n);
    }
  return m;
}

/** The node producing each value. */
export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

export function isGraphOutput(g: Graph, name: string): boolean {
  return g.outputs.some((o) => o.name === name);
}

/** Replace every read of `from` with `to`. */
export function renameUses(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
}

/** Drop nodes none of whose outputs are read or returned. */
export function removeDeadNodes(g: Graph): void {
  const live = new Set(g.outputs.map((o) => o.name));
  const kept: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (n.outputs.some((o) => o && live.has(o))) {
      kept.push(n);
      for (const x of nodeReads(n)) live.add(x);
    }
  }
  g.nodes = kept.reverse();
  for (const name of [...g.initializers.keys()]) if (!live.has(name)) g.initializers.delete(name);
}

let counter = 0;
/** Whether a graph (or a subgraph of its If/Loop nodes) holds a node whose op is in `ops` (or for which `ops` is true). */
export function holdsOp(g: Pick<Graph, 'nodes'>, ops: ReadonlySet<string> | ((n: Node) => boolean)): boolean {
  const has = typeof ops === 'function' ? ops : (n: Node) => ops.has(n.op);
  return g.nodes.some((n) => has(n) || Object.values(n.attrs).some((a) => typeof a === 'object' && a !== null && 'nodes' in a && holdsOp(a, has)));
}

/** A value or node name no front-end produces. */
export function freshName(base: string): string {
  return `${base}__wc${++counter}`;
}

/**
 * Every value node `n` reads: its inputs, then the enclosing-scope values its subgraphs (If's
 * branches, Loop's body, nested ones included) read without defining them. Passes that find a
 * value's consumers (dead-node removal, splitting a graph into stages) must use this rather than
 * `n.inputs`, or they lose the values only a branch reads. (Only graphs with If/Loop have
 * subgraphs, and they are read once the evaluator is loaded: compileGraph loads it first.)
 */
export function nodeReads(n: Node): string[] {
  const out = n.inputs.filter((i) => i !== '');
  for (const a of Object.values(n.attrs)) if (a && typeof a === 'object' && 'nodes' in a) out.push(...evaluatorModule().outerReads(a));
  return [...new Set(out)];
}

/** A copy of a graph's structure; tensors are shared (they are never mutated in place). */
export function cloneGraph(g: Graph): Graph {
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
