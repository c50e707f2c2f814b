// onnxruntime's dynamic quantization (`onnxruntime.quantization.quantize_dynamic`, default
// options: int8 weights, symmetric per tensor) written here for tests and the bench, since the
// Python quantizer is not installed on the test machines: each Conv with a constant weight becomes
//   DynamicQuantizeLinear(x) → ConvInteger(x_q, W_q, x_zp, W_zp) → Cast(float)
//   → Mul(·, Mul(x_scale, W_scale)) → Add(·, B reshaped [1, OC, 1, 1])
// as its ConvInteger operator writes it (W_scale = max|W| / 127, W_q = round(W / W_scale) clamped
// to ±127, zero point 0). A BatchNormalization right after a Conv is folded into it first, as
// PyTorch's eval-mode export does, so the file holds the graphs users quantize.
import { emptyGraph, type Graph, type Node } from '../src/graph/ir';
import { parseOnnx } from '../src/onnx/reader';
import { graphToOnnx } from '../src/onnx/writer';

const f32 = Math.fround;

/** Fold BatchNormalization(Conv(x, W, B)) into the conv's weight and bias (float64, stored as float32). */
function foldBatchNorms(g: Graph): void {
  const readers = (v: string) => g.nodes.filter((n) => n.inputs.includes(v));
  const drop = new Set<Node>();
  for (const bn of g.nodes) {
    if (bn.op !== 'BatchNormalization') continue;
    const conv = g.nodes.find((n) => n.outputs[0] === bn.inputs[0]);
    if (!conv || conv.op !== 'Conv' || readers(conv.outputs[0]).length !== 1) continue;
    const W = g.initializers.get(conv.inputs[1]);
    const [s, b, m, v] = bn.inputs.slice(1, 5).map((i) => g.initializers.get(i));
    if (!W || !s || !b || !m || !v) continue;
    const eps = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 1e-5;
    const OC = W.shape[0];
    const per = W.data.length / OC;
    const B0 = conv.inputs[2] ? g.initializers.get(conv.inputs[2])?.data : undefined;
    const w = new Float32Array(W.data.length);
    const bias = new Float32Array(OC);
    for (let o = 0; o < OC; o++) {
      const k = s.data[o] / Math.sqrt(v.data[o] + eps);
      for (let i = 0; i < per; i++) w[o * per + i] = W.data[o * per + i] * k;
      bias[o] = ((B0?.[o] ?? 0) - m.data[o]) * k + b.data[o];
    }
    const wn = `${conv.name}.w_folded`, bn2 = `${conv.name}.b_folded`;
    g.initializers.set(wn, { data: w, shape: W.shape });
    g.initializers.set(bn2, { data: bias, shape: [OC] });
    conv.inputs = [conv.inputs[0], wn, bn2];
    conv.outputs = [bn.outputs[0]];
    drop.add(bn);
  }
  g.nodes = g.nodes.filter((n) => !drop.has(n));
}

/** The float ONNX file `bytes` with every constant-weight Conv in onnxruntime's quantize_dynamic form. */
export function dynamicQuantized(bytes: Uint8Array): Uint8Array {
  const { graph } = parseOnnx(bytes);
  const g: Graph = { ...emptyGraph(), ...graph };
  foldBatchNorms(g);
  const nodes: Node[] = [];
  // one DynamicQuantizeLinear per activation, shared by the convs reading it (as onnxruntime's quantizer reuses it)
  const quantized = new Map<string, string>();
  let k = 0;
  for (const n of g.nodes) {
    const W = n.op === 'Conv' ? g.initializers.get(n.inputs[1]) : undefined;
    if (!W) {
      nodes.push(n);
      continue;
    }
    const id = `${n.name || `conv${k}`}_quant`;
    k++;
    let amax = 0;
    for (const v of W.data) amax = Math.max(amax, Math.abs(v));
    const ws = f32(amax / 127) || 1;
    g.intConstants.set(`${id}.W`, { ints: Array.from(W.data, (v) => Math.max(-127, Math.min(127, Math.round(v / ws)))), shape: W.shape, elem: 'int8' });
    g.intConstants.set(`${id}.W_zp`, { ints: [0], shape: [], elem: 'int8' });
    g.initializers.set(`${id}.W_scale`, { data: Float32Array.of(ws), shape: [] });
    const B = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
    const node = (op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}) => nodes.push({ name: `${id}.${op}${nodes.length}`, op, inputs, outputs, attrs });
    let xq = quantized.get(n.inputs[0]);
    if (!xq) {
      xq = `${n.inputs[0]}.quantized`;
      quantized.set(n.inputs[0], xq);
      node('DynamicQuantizeLinear', [n.inputs[0]], [`${xq}.q`, `${xq}.scale`, `${xq}.zp`]);
    }
    node('ConvInteger', [`${xq}.q`, `${id}.W`, `${xq}.zp`, `${id}.W_zp`], [`${id}.acc`], { ...n.attrs });
    node('Cast', [`${id}.acc`], [`${id}.acc_f`], { to: 1 });
    node('Mul', [`${xq}.scale`, `${id}.W_scale`], [`${id}.scales`]);
    node('Mul', [`${id}.acc_f`, `${id}.scales`], [B ? `${id}.scaled` : n.outputs[0]]);
    if (B) {
      g.initializers.set(`${id}.B`, { data: B.data, shape: [1, B.shape[0], 1, 1] });
      node('Add', [`${id}.scaled`, `${id}.B`], [n.outputs[0]]);
    }
  }
  g.nodes = nodes;
  return graphToOnnx(g);
}
