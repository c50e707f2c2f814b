// Front-end rewrites into ops wasmcnn runs, before shape inference (src/model.ts loads this
// chunk for a graph that needs one):
//   Swish (opset 24)   y = x · sigmoid(alpha · x) as Mul(x, Sigmoid(x · alpha)); alpha 1 as
//                      Mul(x, Sigmoid(x)), which the recognizer makes one SiLU step
//   1-D windows        Conv, ConvTranspose, MaxPool, AveragePool and LpPool over [N, C, L] (as
//                      PyTorch's Conv1d, ConvTranspose1d, MaxPool1d, AvgPool1d export, e.g. the
//                      channel conv of ECA attention) as their 2-D form over [N, C, 1, L]:
//                      Unsqueeze axis 2, the window 1 x k (strides, dilations, pads and
//                      output_padding likewise), Squeeze axis 2; a constant weight is reshaped
//                      [OC, C/g, k] -> [OC, C/g, 1, k] (the same floats), under a new name, or
//                      under its own for the trainer (its parameter names are PyTorch's)
// Every later stage (planning, the host evaluator, training, export) then meets ops it knows.
// Like every lazy module it takes the graph helpers from src/lazy/kit.ts.
import type { Graph, Node } from './ir';
import { freshName, UnsupportedOpError } from '../lazy/kit';

/**
 * Rewrites the nodes `needs` picks (src/model.ts's needsExpand, which decides on the eager side
 * whether this chunk loads at all).
 */
export function expand(g: Graph, needs: (g: Graph, n: Node) => boolean, options: { keepWeightNames?: boolean } = {}): void {
  // picked once, before anything is rewritten: an in-place reshape makes a shared weight rank 4,
  // and `needs` reads a window without kernel_shape by its weight's rank
  const picked = g.nodes.filter((n) => needs(g, n));
  const lifted = new Set(picked.filter((n) => n.op !== 'Swish'));
  // the trainer's form (keepWeightNames): a constant weight keeps its name (the parameter's,
  // PyTorch's) and takes the rank-4 shape in place, when every reader is a lifted window's weight
  const inPlace = new Set<string>();
  if (options.keepWeightNames)
    for (const n of lifted) {
      const w = n.op.startsWith('Conv') ? n.inputs[1] : '';
      if (!w || !g.initializers.has(w)) continue;
      // a weight read in other ways too would train in one form and run stale in the other
      if (!g.nodes.every((m) => !m.inputs.includes(w) || (lifted.has(m) && m.inputs.indexOf(w) === 1 && m.inputs.lastIndexOf(w) === 1)))
        throw new UnsupportedOpError(n.op, n.name, `its 1-D weight '${w}' is also read by other nodes; training needs it read as the weight of 1-D windows alone`);
      inPlace.add(w);
    }
  for (const n of picked) g.nodes.splice(g.nodes.indexOf(n), 1, ...(n.op === 'Swish' ? swish(g, n) : lift1d(g, n, inPlace)));
}

function swish(g: Graph, n: Node): Node[] {
  const alpha = (n.attrs.alpha as number | undefined) ?? 1;
  const [x] = n.inputs;
  const nodes: Node[] = [];
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
  return nodes;
}

/**
 * A 1-D window op as Unsqueeze, its 2-D form (window 1 x k), Squeeze of each output; a weight in
 * `inPlace` is reshaped under its own name (done once: the shape is then of rank 4).
 */
function lift1d(g: Graph, n: Node, inPlace: ReadonlySet<string>): Node[] {
  const nodes: Node[] = [];
  const unsqueeze = (v: string): string => {
    const t = g.initializers.get(v);
    if (t && inPlace.has(v)) {
      if (t.shape.length === 3) {
        const shape = [...t.shape.slice(0, 2), 1, t.shape[2]];
        g.initializers.set(v, { ...t, shape });
        if (g.shapes.has(v)) g.shapes.set(v, shape);
      }
      return v;
    }
    const out = freshName(`${v}.2d`);
    if (t) g.initializers.set(out, { ...t, shape: [...t.shape.slice(0, 2), 1, ...t.shape.slice(2)] });
    else nodes.push({ name: freshName(`${n.name}.unsqueeze`), op: 'Unsqueeze', inputs: [v], outputs: [out], attrs: { axes: [2] } });
    return out;
  };
  // the data input and a weight (Conv, ConvTranspose) gain the axis; a bias does not
  const inputs = n.inputs.map((v, i) => (v && (i === 0 || (i === 1 && n.op.startsWith('Conv'))) ? unsqueeze(v) : v));
  const attrs: Node['attrs'] = { ...n.attrs };
  // a malformed attribute (not a list of numbers, or pads not of 2 entries) is left for the 2-D
  // op's own checks to name
  const lift = (key: string, fill: number) => {
    const v = n.attrs[key];
    if (!Array.isArray(v) || !v.every((e) => typeof e === 'number') || (key === 'pads' && v.length !== 2)) return;
    const ints = v as number[];
    attrs[key] = key === 'pads' ? [fill, ints[0], fill, ints[1]] : [fill, ...ints];
  };
  lift('kernel_shape', 1);
  lift('strides', 1);
  lift('dilations', 1);
  lift('pads', 0);
  lift('output_padding', 0);
  lift('output_shape', 1);
  const outputs = n.outputs.map((o) => (o ? freshName(`${o}.2d`) : o));
  nodes.push({ ...n, inputs, outputs, attrs });
  n.outputs.forEach((o, i) => {
    if (o) nodes.push({ name: freshName(`${n.name}.squeeze`), op: 'Squeeze', inputs: [outputs[i]], outputs: [o], attrs: { axes: [2] } });
  });
  return nodes;
}
