// Folds an inference BatchNormalization into the convolution before it (Ioffe & Szegedy 2015,
// sec. 3.2): W'[o] = W[o] * s[o], b'[o] = b[o] * s[o] + t[o], s = gamma / sqrt(var + eps).
import { bnAffine } from '../ops/batchnorm';
import { makeInferCtx } from './infer';
import type { Graph } from './ir';
import { consumers, freshName, isGraphOutput, producers } from './util';

export function foldBatchNorm(g: Graph): void {
  const ctx = makeInferCtx(g);
  const prod = producers(g);
  const uses = consumers(g);
  for (const bn of [...g.nodes]) {
    if (bn.op !== 'BatchNormalization') continue;
    const x = bn.inputs[0];
    const conv = prod.get(x);
    if (!conv || conv.op !== 'Conv' || conv.inputs[3] || isGraphOutput(g, x)) continue;
    if ((uses.get(x) ?? []).length !== 1) continue;
    const w = g.initializers.get(conv.inputs[1]);
    const b = conv.inputs[2] ? g.initializers.get(conv.inputs[2]) : undefined;
    if (!w || (conv.inputs[2] && !b) || bn.inputs.slice(1).some((i) => !g.initializers.has(i))) continue;
    const { scale, shift } = bnAffine(bn, ctx);
    const OC = w.shape[0];
    if (scale.length !== OC) continue;
    const per = w.data.length / OC;
    const nw = new Float32Array(w.data.length);
    const nb = new Float32Array(OC);
    for (let o = 0; o < OC; o++) {
      for (let j = 0; j < per; j++) nw[o * per + j] = w.data[o * per + j] * scale[o];
      nb[o] = (b ? b.data[o] : 0) * scale[o] + shift[o];
    }
    const wn = freshName(`${conv.name}.weight_bn`);
    const bnm = freshName(`${conv.name}.bias_bn`);
    g.initializers.set(wn, { data: nw, shape: w.shape });
    g.initializers.set(bnm, { data: nb, shape: [OC] });
    g.shapes.set(wn, w.shape);
    g.shapes.set(bnm, [OC]);
    conv.inputs = [conv.inputs[0], wn, bnm];
    conv.outputs = [bn.outputs[0]];
    g.nodes.splice(g.nodes.indexOf(bn), 1);
    prod.set(bn.outputs[0], conv);
  }
}
