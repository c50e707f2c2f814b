// Recognises the decomposed forms exporters emit and replaces them by one fast op:
//   LayerNorm  ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div (, Mul gamma, Add beta),
//              over the last axis or over the channels of a 4-D map (LayerNorm2d)
//   GELU       Div sqrt2, Erf, Add 1, Mul x, Mul 0.5 (Hendrycks & Gimpel 2016)
//   SiLU       x * Sigmoid(x) (Elfwing et al. 2018);  HardSwish  x * HardSigmoid(x; 1/6, 1/2)
//   shuffle    Reshape [N,g,C/g,H,W], Transpose (0,2,1,3,4), Reshape [N,C,H,W] (ShuffleNet)
// A chunk of its own (src/model.ts loads it for a graph holding an op of RECOGNIZED), so it takes
// the graph helpers from src/lazy/kit.ts.
import type { Graph, Node } from './ir';
import { consumers, freshName, isGraphOutput, producers, removeDeadNodes } from '../lazy/kit';

type Uses = Map<string, Node[]>;

/** The one node reading `v`, when exactly one does and `v` is not a graph output. */
export function only(uses: Uses, g: Graph, v: string): Node | undefined {
  const r = uses.get(v) ?? [];
  return r.length === 1 && !isGraphOutput(g, v) ? r[0] : undefined;
}

function scalar(g: Graph, v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = g.initializers.get(v);
  if (t && t.data.length === 1) return t.data[0];
  const i = g.intConstants.get(v);
  return i && i.ints.length === 1 ? i.ints[0] : undefined;
}

function otherInput(n: Node, v: string): string {
  return n.inputs[0] === v ? n.inputs[1] : n.inputs[0];
}

/** Whether an attribute value equals a pattern's constant (within a relative tolerance). */
export function near(a: number | undefined, b: number, tol = 1e-4): boolean {
  return a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

/** 'last' for a mean over the last axis, 'channel' for axis 1 of a 4-D tensor (LayerNorm2d). */
function meanAxis(g: Graph, n: Node): 'last' | 'channel' | undefined {
  if (n.op !== 'ReduceMean' || n.attrs.keepdims === 0) return undefined;
  const axes = (n.attrs.axes as number[] | undefined) ?? g.intConstants.get(n.inputs[1] ?? '')?.ints;
  const rank = g.shapes.get(n.inputs[0])?.length ?? 0;
  if (!axes || axes.length !== 1) return undefined;
  if (axes[0] === -1 || axes[0] === rank - 1) return 'last';
  return rank === 4 && (axes[0] === 1 || axes[0] === -3) ? 'channel' : undefined;
}

function replace(g: Graph, remove: Node[], add: Node): void {
  const at = Math.min(...remove.map((r) => g.nodes.indexOf(r)));
  g.nodes = g.nodes.filter((n) => !remove.includes(n));
  // the new node reads only values available before the first removed node
  g.nodes.splice(at, 0, add);
}

function layerNorm(g: Graph, uses: Uses, m1: Node): boolean {
  const axis = meanAxis(g, m1);
  if (!axis) return false;
  const x = m1.inputs[0];
  const sub = (uses.get(m1.outputs[0]) ?? []).find((s) => s.op === 'Sub' && s.inputs[0] === x && s.inputs[1] === m1.outputs[0]);
  if (!sub || (uses.get(m1.outputs[0]) ?? []).length !== 1) return false;
  const d = sub.outputs[0];
  const dUses = uses.get(d) ?? [];
  const pow = dUses.find((u) => u.op === 'Pow' && u.inputs[0] === d && near(scalar(g, u.inputs[1]), 2));
  const div = dUses.find((u) => u.op === 'Div' && u.inputs[0] === d);
  if (!pow || !div || dUses.length !== 2) return false;
  const m2 = only(uses, g, pow.outputs[0]);
  if (!m2 || meanAxis(g, m2) !== axis) return false;
  const add = only(uses, g, m2.outputs[0]);
  if (!add || add.op !== 'Add') return false;
  const eps = scalar(g, otherInput(add, m2.outputs[0]));
  const sqrt = only(uses, g, add.outputs[0]);
  if (eps === undefined || !sqrt || sqrt.op !== 'Sqrt' || div.inputs[1] !== sqrt.outputs[0]) return false;
  const removed = [m1, sub, pow, m2, add, sqrt, div];
  let out = div.outputs[0];
  let gamma = '';
  let beta = '';
  const mul = only(uses, g, out);
  if (mul && mul.op === 'Mul' && g.initializers.has(otherInput(mul, out))) {
    gamma = otherInput(mul, out);
    removed.push(mul);
    out = mul.outputs[0];
    const addB = only(uses, g, out);
    if (addB && addB.op === 'Add' && g.initializers.has(otherInput(addB, out))) {
      beta = otherInput(addB, out);
      removed.push(addB);
      out = addB.outputs[0];
    }
  }
  const inputs = beta ? [x, gamma, beta] : gamma ? [x, gamma] : [x];
  replace(g, removed, {
    name: freshName(`${m1.name}.layernorm`), op: axis === 'last' ? 'LayerNormalization' : 'ChannelLayerNorm', inputs, outputs: [out],
    attrs: { axis: axis === 'last' ? -1 : 1, epsilon: eps },
  });
  return true;
}

function gelu(g: Graph, uses: Uses, erf: Node): boolean {
  const prod = producers(g);
  const div = prod.get(erf.inputs[0]);
  if (!div || !(uses.get(div.outputs[0])?.length === 1)) return false;
  let x: string;
  if (div.op === 'Div' && near(scalar(g, div.inputs[1]), Math.SQRT2)) x = div.inputs[0];
  else if (div.op === 'Mul' && near(scalar(g, div.inputs[1]), Math.SQRT1_2)) x = div.inputs[0];
  else return false;
  const add = only(uses, g, erf.outputs[0]);
  if (!add || add.op !== 'Add' || !near(scalar(g, otherInput(add, erf.outputs[0])), 1)) return false;
  const mulX = only(uses, g, add.outputs[0]);
  if (!mulX || mulX.op !== 'Mul') return false;
  let half: Node | undefined;
  let out: string;
  if (otherInput(mulX, add.outputs[0]) === x) {
    half = only(uses, g, mulX.outputs[0]);
    if (!half || half.op !== 'Mul' || !near(scalar(g, otherInput(half, mulX.outputs[0])), 0.5)) return false;
    out = half.outputs[0];
  } else {
    // (x * 0.5) * (1 + erf)
    const h = prod.get(otherInput(mulX, add.outputs[0]));
    if (!h || h.op !== 'Mul' || otherInput(h, x) === x || !near(scalar(g, otherInput(h, x)), 0.5)) return false;
    if (uses.get(h.outputs[0])?.length !== 1) return false;
    half = h;
    out = mulX.outputs[0];
  }
  replace(g, [div, erf, add, mulX, half], { name: freshName(`${erf.name}.gelu`), op: 'Gelu', inputs: [x], outputs: [out], attrs: {} });
  return true;
}

function gated(g: Graph, uses: Uses, gate: Node): boolean {
  const x = gate.inputs[0];
  const mul = only(uses, g, gate.outputs[0]);
  if (!mul || mul.op !== 'Mul' || otherInput(mul, gate.outputs[0]) !== x) return false;
  let op: string;
  if (gate.op === 'Sigmoid') op = 'Silu';
  else if (near(gate.attrs.alpha as number, 1 / 6) && near((gate.attrs.beta as number | undefined) ?? 0.5, 0.5)) op = 'HardSwish';
  else return false;
  replace(g, [gate, mul], { name: freshName(`${gate.name}.${op.toLowerCase()}`), op, inputs: [x], outputs: [mul.outputs[0]], attrs: {} });
  return true;
}

function shuffle(g: Graph, uses: Uses, r1: Node): boolean {
  const xs = g.shapes.get(r1.inputs[0]);
  const mid = g.shapes.get(r1.outputs[0]);
  if (!xs || !mid || xs.length !== 4 || mid.length !== 5) return false;
  const [N, C, H, W] = xs;
  const [n2, grp, per, h2, w2] = mid;
  if (n2 !== N || grp * per !== C || h2 !== H || w2 !== W) return false;
  const t = only(uses, g, r1.outputs[0]);
  if (!t || t.op !== 'Transpose' || (t.attrs.perm as number[] | undefined)?.join() !== '0,2,1,3,4') return false;
  const r2 = only(uses, g, t.outputs[0]);
  if (!r2 || r2.op !== 'Reshape' || g.shapes.get(r2.outputs[0])?.join() !== xs.join()) return false;
  replace(g, [r1, t, r2], {
    name: freshName(`${r1.name}.shuffle`), op: 'ChannelShuffle', inputs: [r1.inputs[0]], outputs: [r2.outputs[0]],
    attrs: { groups: grp },
  });
  return true;
}

/** Apply every recognizer until none matches. Needs shapes (run after inferShapes). */
export function recognizePatterns(g: Graph): void {
  let changed = true;
  while (changed) {
    changed = false;
    const uses = consumers(g);
    for (const n of g.nodes) {
      if (
        (n.op === 'ReduceMean' && layerNorm(g, uses, n)) ||
        (n.op === 'Erf' && gelu(g, uses, n)) ||
        ((n.op === 'Sigmoid' || n.op === 'HardSigmoid') && gated(g, uses, n)) ||
        (n.op === 'Reshape' && shuffle(g, uses, n))
      ) {
        changed = true;
        break;
      }
    }
  }
  removeDeadNodes(g);
}
