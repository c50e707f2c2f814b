// Dynamic quantization (onnxruntime's `quantize_dynamic`) as planned int8 steps. Each quantized
// Conv / MatMul of such a file is
//   (x_q, x_scale, x_zp) = DynamicQuantizeLinear(x)
//   acc = ConvInteger(x_q, W, x_zp, W_zp)  |  MatMulInteger(x_q, W, x_zp, W_zp)     (int32)
//   y   = Cast(acc, float) · Mul(x_scale, W_scale)  [+ B]
// with W constant. fuseDynamic rewrites each such chain into one _QDyn node (float in, float
// out; src/quant/ops.ts plans it): per run, the input's range, its uint8 quantization, the int8
// GEMM's exact i32 sums (im2col first for a KxK conv) and the float epilogue, all in wasm — the
// same values as the ONNX ops in order (the scale and zero point are those DynamicQuantizeLinear
// defines, computed in float32 as onnxruntime does: src/graph/eval/integer.ts dynamicParams).
// Weights whose w − zero point leaves int8 (asymmetric uint8) are split into w − 128 and a zero
// point part that the inputs' sums carry. Chains that do not fit (that split on grouped convs,
// per-channel scales a Mul would broadcast along the wrong axis, values read elsewhere) keep
// their ONNX ops, which the host evaluator runs exactly but slowly in the run-time tail.
import { consumers, intBytes, producers } from '../lazy/kit';
import { only } from '../graph/recognize';
import type { AttrValue, Graph, IntTensor, Node } from '../graph/ir';

/** The operand of binary node `n` that is not `v` (undefined when `v` is not one of its two inputs). */
function other(n: Node, v: string): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  return n.inputs[0] === v ? n.inputs[1] : n.inputs[1] === v ? n.inputs[0] : undefined;
}

/** w − zp as int8 for every weight (zp a scalar), or undefined when one leaves int8. */
function centred(w: IntTensor, zp: number): Int8Array | undefined {
  const src = intBytes(w);
  const out = new Int8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i] - zp;
    if (v < -128 || v > 127) return undefined;
    out[i] = v;
  }
  return out;
}

/** Rewrite every fusable DynamicQuantizeLinear → ConvInteger / MatMulInteger → Cast → Mul [→ Add] chain into a _QDyn node. */
export function fuseDynamic(g: Graph): void {
  const uses = consumers(g);
  const made = producers(g);
  const drop = new Set<Node>();
  const add: [Node, Node][] = [];
  for (const d of g.nodes) {
    if (d.op !== 'DynamicQuantizeLinear' || d.outputs.length < 3) continue;
    const [xq, xs, xz] = d.outputs;
    for (const ci of uses.get(xq) ?? []) {
      const q = chain(g, uses, made, d.inputs[0], ci, xq, xs, xz);
      if (!q) continue;
      add.push([q.last, q.node]);
      for (const n of q.parts) drop.add(n);
    }
  }
  if (!add.length) return;
  const at = new Map(add);
  g.nodes = g.nodes.flatMap((n) => (at.has(n) ? [at.get(n)!] : drop.has(n) ? [] : [n]));
  // a DynamicQuantizeLinear (and a scales Mul) nothing reads any more goes with removeDeadNodes
}

/** The _QDyn node for ConvInteger / MatMulInteger `ci` reading DynamicQuantizeLinear outputs, and the nodes it replaces. */
function chain(g: Graph, uses: Map<string, Node[]>, made: Map<string, Node>, x: string, ci: Node, xq: string, xs: string, xz: string): { node: Node; parts: Node[]; last: Node } | undefined {
  const mm = ci.op === 'MatMulInteger';
  if (!(mm || ci.op === 'ConvInteger') || ci.inputs[0] !== xq || ci.inputs[2] !== xz || ci.inputs.length > 4) return undefined;
  const w = g.intConstants.get(ci.inputs[1]);
  const wz = ci.inputs[3] ? g.intConstants.get(ci.inputs[3]) : undefined;
  if (!w || (ci.inputs[3] && !wz) || (wz && wz.ints.length !== 1) || (w.elem !== 'int8' && w.elem !== 'uint8')) return undefined;
  // w − zw as int8 when it fits; else w − s (s = 128 for uint8 weights, 0 for int8) and the rest,
  // (s − zw)·Σ(x − zx), added from the inputs' sums (asymmetric uint8 weights, quantize_dynamic's QUInt8)
  const zw = wz ? wz.ints[0] : 0;
  let ints = centred(w, zw);
  let factor = 0;
  if (!ints) {
    const s = w.elem === 'uint8' ? 128 : 0;
    ints = centred(w, s);
    factor = s - zw;
    if (!ints) return undefined;
  }
  // shapes: conv [OC, C, KH, KW] with one group; matmul [K, N] (stored as [N][K] rows)
  let rows: Int8Array, shape: number[];
  if (mm) {
    if (w.shape.length !== 2) return undefined;
    const [K, N] = w.shape;
    rows = new Int8Array(K * N);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) rows[j * K + k] = ints[k * N + j];
    shape = [N, K];
  } else {
    if (w.shape.length !== 4) return undefined;
    rows = ints;
    shape = w.shape.slice();
  }
  const OC = shape[0];
  const cast = only(uses, g, ci.outputs[0]);
  if (!cast || cast.op !== 'Cast' || cast.attrs.to !== 1) return undefined;
  const mul = only(uses, g, cast.outputs[0]);
  const sv = mul?.op === 'Mul' ? other(mul, cast.outputs[0]) : undefined;
  const sm = sv ? made.get(sv) : undefined;
  const wsName = sm?.op === 'Mul' ? other(sm, xs) : undefined;
  const ws = wsName ? g.initializers.get(wsName) : undefined;
  // per tensor, or per output column of a MatMul (broadcast along the last axis, which is the column)
  if (!mul || !sm || !ws || !(ws.data.length === 1 || (mm && ws.data.length === OC && ws.shape.length === 1))) return undefined;
  const parts = [ci, cast, mul];
  let last = mul;
  let bias: Float32Array | undefined;
  const next = only(uses, g, mul.outputs[0]);
  const bv = next?.op === 'Add' ? other(next, mul.outputs[0]) : undefined;
  const b = bv ? g.initializers.get(bv) : undefined;
  // one value per output channel along the channel axis: [1, OC, 1, 1] / [OC, 1, 1] (conv), [OC] / [1, OC] (matmul)
  const perChannel = (s: number[]) => s.reduce((a, c) => a * c, 1) === OC && (mm ? s[s.length - 1] === OC : s.length >= 3 && s[s.length - 3] === OC && s.length <= 4);
  if (next && b && perChannel(b.shape)) {
    parts.push(next);
    last = next;
    bias = b.data;
  }
  const node: Node = { name: ci.name, op: '_QDyn', inputs: [x], outputs: [last.outputs[0]], attrs: {} };
  if (!mm) {
    for (const k of ['kernel_shape', 'strides', 'pads', 'dilations', 'auto_pad']) if (ci.attrs[k] !== undefined) node.attrs[k] = ci.attrs[k];
    const group = ci.attrs.group ?? 1;
    if (typeof group !== 'number' || !Number.isInteger(group) || group < 1 || OC % group !== 0) return undefined;
    // the zero point correction takes one input sum per output row (one group) or per output (depthwise)
    if (factor !== 0 && group !== 1 && !(shape[1] === 1 && group === OC)) return undefined;
    node.attrs.group = group;
  }
  node.attrs._mm = mm ? 1 : 0;
  node.attrs._w = { ints: rows, shape } as unknown as AttrValue;
  node.attrs._wf = factor;
  node.attrs._ws = Array.from({ length: OC }, (_, i) => ws.data[ws.data.length === 1 ? 0 : i]);
  if (bias) node.attrs._b = Array.from(bias);
  return { node, parts, last };
}
