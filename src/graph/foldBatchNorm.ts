// Folds per-channel affine maps into the convolution before them: an inference BatchNorm
// (Ioffe & Szegedy 2015, sec. 3.2: s = gamma / sqrt(var + eps), t = beta - mean * s), and a
// Mul or Add by a per-channel constant (layer scale, a bias). W'[o] = W[o] * s[o],
// b'[o] = b[o] * s[o] + t[o]. The scaled kernel is never materialised in JS: the conv keeps
// its weight and gets the per-channel scale (attr _wscale), applied in wasm memory at packing,
// so loading holds one copy of the weights.
import { bnAffine } from '../ops/batchnorm';
import { makeInferCtx } from './infer';
import type { Graph, Node } from './ir';
import { numel } from './ir';
import { consumers, freshName, isGraphOutput, producers } from './util';

/** Per-channel scale/shift of a node that follows a conv with OC channels, if it is one. */
function affineOf(g: Graph, n: Node, x: string, OC: number, ctx: ReturnType<typeof makeInferCtx>): { scale?: Float32Array; shift?: Float32Array } | undefined {
  if (n.op === 'BatchNormalization') {
    if (n.inputs[0] !== x || n.inputs.slice(1).some((i) => !g.initializers.has(i))) return undefined;
    const a = bnAffine(n, ctx);
    return a.scale.length === OC ? a : undefined;
  }
  if (n.op !== 'Mul' && n.op !== 'Add') return undefined;
  const other = n.inputs[0] === x ? n.inputs[1] : n.inputs[0];
  const t = g.initializers.get(other);
  const outShape = g.shapes.get(n.outputs[0]);
  const xShape = g.shapes.get(x);
  // the constant must broadcast per channel of the NCHW conv output and not grow the output
  if (!t || !outShape || !xShape || outShape.join() !== xShape.join()) return undefined;
  const s = t.shape;
  const perChannel = (s.length === 3 && s[0] === OC && s[1] === 1 && s[2] === 1) || (s.length === 4 && s[0] === 1 && s[1] === OC && s[2] === 1 && s[3] === 1);
  const scalar = numel(s) === 1 && s.length <= 4;
  if (!perChannel && !scalar) return undefined;
  const v = perChannel ? t.data : new Float32Array(OC).fill(t.data[0]);
  return n.op === 'Mul' ? { scale: v } : { shift: v };
}

/**
 * Where a model with dynamic input dims keeps BatchNorm folds across its plans (src/dynamic.ts's
 * foldMemo): `parts` are what the fold is made of (the BatchNorm's scale tensor first), `make`
 * computes [scale, bias] (undefined: the node does not fold).
 */
export type FoldMemo = (parts: unknown[], make: () => Float32Array[] | undefined) => Float32Array[] | undefined;

export function foldBatchNorm(g: Graph, memo?: FoldMemo): void {
  const ctx = makeInferCtx(g);
  const prod = producers(g);
  const uses = consumers(g);
  for (const n of [...g.nodes]) {
    if (n.op !== 'BatchNormalization' && n.op !== 'Mul' && n.op !== 'Add') continue;
    const x = n.inputs.find((i) => prod.get(i)?.op === 'Conv');
    if (!x) continue;
    const conv = prod.get(x)!;
    if (conv.inputs[3] || conv.attrs._act !== undefined || isGraphOutput(g, x)) continue;
    if ((uses.get(x) ?? []).length !== 1) continue;
    const w = g.initializers.get(conv.inputs[1]);
    const b = conv.inputs[2] ? g.initializers.get(conv.inputs[2]) : undefined;
    if (!w || (conv.inputs[2] && !b)) continue;
    const OC = w.shape[0];
    const prevScale = conv.attrs._wscale ? g.initializers.get(conv.attrs._wscale as string)!.data : undefined;
    const make = () => {
      const aff = affineOf(g, n, x, OC, ctx);
      if (!aff) return;
      const scale = new Float32Array(OC);
      const nb = new Float32Array(OC);
      for (let o = 0; o < OC; o++) {
        const s = aff.scale ? aff.scale[o] : 1;
        scale[o] = (prevScale ? prevScale[o] : 1) * s;
        nb[o] = (b ? b.data[o] : 0) * s + (aff.shift ? aff.shift[o] : 0);
      }
      return [scale, nb];
    };
    // a BatchNorm's fold depends on constants alone (a Mul's or Add's also on shapes)
    const folded = memo && n.op === 'BatchNormalization' && n.inputs[0] === x ? memo([...n.inputs.slice(1).map((i) => g.initializers.get(i)), OC, b, prevScale, n.attrs.epsilon], make) : make();
    if (!folded) continue;
    const [scale, nb] = folded;
    const bnm = freshName(`${conv.name}.bias_folded`);
    g.initializers.set(bnm, { data: nb, shape: [OC] });
    g.shapes.set(bnm, [OC]);
    if (n.op !== 'Add' || prevScale) {
      const sn = freshName(`${conv.name}.weight_scale`);
      g.initializers.set(sn, { data: scale, shape: [OC] });
      g.shapes.set(sn, [OC]);
      conv.attrs = { ...conv.attrs, _wscale: sn };
    }
    conv.inputs = [conv.inputs[0], conv.inputs[1], bnm];
    conv.outputs = [n.outputs[0]];
    g.nodes.splice(g.nodes.indexOf(n), 1);
    prod.set(n.outputs[0], conv);
    // x is gone; the conv's new output keeps n's readers, so no other entry changes
    uses.delete(x);
  }
}
