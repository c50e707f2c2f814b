// Lowering of quantized ONNX graphs into wasmcnn's fused int8 steps (ONNX QuantizeLinear /
// DequantizeLinear / QLinearConv / QLinearMatMul, opset 13; onnxruntime's com.microsoft
// QLinearAdd / QLinearGlobalAveragePool). Both forms a quantizer writes become the same internal
// ops, whose attributes carry every scale and zero point the kernels need:
//
//   QDQ       DQ(x_q), DQ(W_q) [, DQ(b_q)] → Conv [→ Relu | Clip] → Q     ┐
//   QOperator QLinearConv(x_q, W_q, b)                                      ├→ _QConv(x_q) → y_q
//   QDQ       DQ(a_q), DQ(W_q) → MatMul | Gemm [→ Relu | Clip] → Q          ┐
//   QOperator QLinearMatMul(a_q, W_q)                                       ├→ _QGemm(a_q) → y_q
//   QDQ       DQ(a_q) + DQ(b_q) [→ Relu | Clip] → Q;  QLinearAdd            → _QAdd(a_q, b_q) → y_q
//   QDQ       DQ(a_q) · DQ(b_q) [→ Relu | Clip] → Q;  QLinearMul (broadcast) → _QMul(a_q, b_q) → y_q
//   QDQ       DQ(x_q) → GlobalAveragePool → Q;  QLinearGlobalAveragePool  → _QGap(x_q) → y_q
//   QDQ       DQ(x_q) → MaxPool → Q (same parameters);  MaxPool on x_q         → _QMaxPool(x_q) → y_q
//   QDQ       DQ(x_q) → Sigmoid | Silu | HardSwish | Tanh | ... [→ Relu | Clip] → Q ┐
//             DQ(x_q) = x, x · Sigmoid(x) | x · HardSigmoid(x; 1/6, 1/2) → Q     ├→ _QLut(x_q) → y_q
//   QOperator QLinearSigmoid, QLinearLeakyRelu (through their DQ → op → Q form)  ┘
//   (a 256-entry byte table made at plan time by DQ → op → Q itself: see ops.ts)
//   _QConv | _QGemm(x) → v, _QAdd(v, r) with v read by nothing else  → _QConv | _QGemm(x, r) with
//   the add in its epilogue (fuseResidualAdds, after the patterns above)
//   dynamic   DynamicQuantizeLinear(x) → ConvInteger | MatMulInteger(x_q, W) → Cast
//             → Mul(x_scale · W_scale) [→ Add(b)] (onnxruntime's quantize_dynamic)  → _QDyn(x) → y (float)
//   (dynamic.ts; a chain it cannot fuse keeps its ops, which run on the host evaluator)
//
// Design. An int8 activation is a value of the graph like any other, stored NHWC as the float
// body is (4-D values), one byte an element: Graph.qtypes lists these values ('u8' / 'i8') so the
// arena sizes them in bytes. Its scale and zero point are not part of the IR value: each step
// that reads or writes one carries them in its attributes (the _x*/_y* attributes below), taken
// from the Q/DQ or QLinear* node they came from, so a step is self-contained and passes that do
// not know int8 never see a byte value (they see only the internal ops, which they leave alone).
//
// What is not fused runs as it is written, explicitly: QuantizeLinear and DequantizeLinear of
// activations stay as steps (quantize_f32_q8 / dequantize_q8_f32), and a float op between them
// runs in float (DQ → float op → Q: correct, slower). QOperator ops without an int8 kernel
// (QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool, QLinearConcat) are written
// in that form too. A DequantizeLinear of a constant (a weight
// no step fused) is evaluated here into a float initializer. In the QOperator form, an op that
// reads an int8 value without being a QLinear op (MaxPool, Transpose, Concat, ...) gets a
// DequantizeLinear in front and a QuantizeLinear with the same parameters behind (exact for
// order-preserving data movement; Reshape/Flatten/Squeeze/Unsqueeze too, since a reshape of a
// 4-D NHWC value reorders it).
//
// Weights: int8 with zero point 0 (PyTorch's and onnxruntime's default) is taken as is; a uint8
// or int8 weight with a nonzero zero point is shifted to w − zp when every shifted value fits
// int8, and otherwise refused with an UnsupportedOpError naming the node. Biases: QLinearConv's
// int32 as is; a QDQ bias DQ(b_int32, scale) is used as is when its scale is x_scale·w_scale (as
// quantizers write it), else rescaled and rounded; a float bias is quantized to x_scale·w_scale.
// Grouped (not depthwise) convolutions and MatMuls whose weight is not a constant are not fused.
import type { AttrValue, Graph, IntTensor, Node, Tensor } from '../graph/ir';
import type { Const } from '../graph/eval/core';
import { cloneGraph, constInputs, GraphError, intBytes, removeDeadNodes, ShapeError, storeFolded, UnsupportedOpError } from '../lazy/kit';
import { near } from '../graph/recognize';
import { fuseDynamic } from './dynamic';

/** Constant evaluation of one node (src/graph/constEval.ts evalConst), passed in by the caller. */
export type EvalConst = (n: Node, ins: (Const | undefined)[], shapeOf: (name: string) => number[] | undefined) => Const[] | undefined;

/** ONNX ops that make a graph need this module (model.ts loads it when one is present). */
export const QUANT_OPS: ReadonlySet<string> = new Set([
  'QuantizeLinear', 'DequantizeLinear', 'QLinearConv', 'QLinearMatMul', 'QLinearAdd', 'QLinearGlobalAveragePool',
  'QLinearMul', 'QLinearSigmoid', 'QLinearConcat', 'QLinearLeakyRelu', 'QLinearAveragePool', 'ConvInteger', 'MatMulInteger',
  'DynamicQuantizeLinear',
]);

/**
 * Quantized ops whose activation scale and zero point come from each run's data (onnxruntime's
 * dynamic quantization: DynamicQuantizeLinear → MatMulInteger / ConvInteger → Cast → Mul): left
 * as they are for the host evaluator (src/graph/eval/integer.ts), which runs them in the graph's
 * run-time tail.
 */
const HOST_INTEGER_OPS: ReadonlySet<string> = new Set(['DynamicQuantizeLinear', 'MatMulInteger', 'ConvInteger']);

/** The internal ops this pass writes (inferShapes accepts them in a lowered graph). */
export const LOWERED_OPS: ReadonlySet<string> = new Set(['_QConv', '_QGemm', '_QAdd', '_QMul', '_QGap', '_QMaxPool', '_QLut', '_QDyn']);

/**
 * Elementwise float activations that run between int8 steps as a byte table (_QLut): between a
 * DequantizeLinear and a QuantizeLinear each maps 256 input bytes to output bytes. quantize()
 * quantizes their outputs (when their input is quantized) so its graphs hold that form; Relu and
 * Clip join a table only where no conv, gemm or add before them took them into its epilogue.
 */
export const LUT_OPS: ReadonlySet<string> = new Set([
  'Sigmoid', 'Silu', 'HardSigmoid', 'HardSwish', 'Tanh', 'LeakyRelu', 'Gelu', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Mish',
]);

/** Ops that move int8 values without changing their bytes' meaning: DQ → op → Q is exact. */
const ORDER_PRESERVING = new Set(['MaxPool', 'Transpose', 'Slice', 'Split', 'Concat', 'Resize', 'DepthToSpace', 'SpaceToDepth', 'Gather', 'Pad', 'Tile', 'Expand']);
/** Ops that reinterpret a value's shape: their output is the input's bytes. */
const RESHAPES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

/** Activation quantization parameters: one scale and zero point, and the byte type. */
export interface QParams {
  scale: number;
  zp: number;
  signed: boolean;
}

/** A constant integer weight with its dequantization (per tensor or along `axis`). */
interface QWeight {
  /** The file's bytes while undecoded (intBytes), else the tensor's ints. */
  ints: ArrayLike<number>;
  shape: number[];
  scale: Float32Array;
  zp: number[];
  axis: number;
}

const f32 = Math.fround;

/** x rounded to the nearest integer, ties to even (x already an f32 value). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** ONNX QuantizeLinear of one value as onnxruntime computes it (f32 division, clamp, round, + zp). */
export function quantizeValue(v: number, p: QParams): number {
  const lo = (p.signed ? -128 : 0) - p.zp, hi = (p.signed ? 127 : 255) - p.zp;
  let q = f32(f32(v) / f32(p.scale));
  q = Number.isNaN(q) ? lo : Math.min(Math.max(q, lo), hi);
  return roundHalfEven(q) + p.zp;
}

/**
 * Lower `g` in place (before shape inference): fold constant chains, fuse QDQ and QOperator
 * patterns into _QConv/_QGemm/_QAdd/_QGap, annotate Q/DQ steps, and record the byte-valued
 * activations in g.qtypes. Throws UnsupportedOpError (naming the node) for what it cannot run.
 */
export function lowerQuantized(g: Graph, evalConst: EvalConst): void {
  // the checks inferShapes makes of a file's nodes (it skips them in a lowered graph)
  for (const n of g.nodes) {
    if (n.op.startsWith('_')) throw new UnsupportedOpError(n.op, n.name, "an op reserved for wasmcnn's own passes");
    for (const k of Object.keys(n.attrs))
      if (k.startsWith('_')) throw new UnsupportedOpError(n.op, n.name, `attribute '${k}' is reserved for wasmcnn's own passes`);
  }
  // the graph as given stays the models' source graph (cloneGraph copies this field into every plan's copy)
  g.unlowered = cloneGraph(g);
  foldConstants(g, evalConst);
  fuseDynamic(g);
  const qt = new Map<string, 'u8' | 'i8'>();
  const params = new Map<string, QParams>();
  const weights = new Map<string, QWeight>();
  const rename = new Map<string, string>();
  const setQ = (name: string, p: QParams) => {
    qt.set(name, p.signed ? 'i8' : 'u8');
    params.set(name, p);
  };
  const out: Node[] = [];
  const graphOut = new Set(g.outputs.map((o) => o.name));

  // 1. QuantizeLinear / DequantizeLinear / QLinear* nodes, one at a time, in order
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((i) => rename.get(i) ?? i);
    const reads = n.inputs.filter((i) => i && qt.has(i));
    switch (n.op) {
      case 'Cast': {
        // PyTorch writes Q → Cast(to uint8 / int8) → DQ: the same bytes
        const to = n.attrs.to;
        const p = params.get(n.inputs[0]);
        if (p && ((to === 2 && !p.signed) || (to === 3 && p.signed)) && !graphOut.has(n.outputs[0])) {
          rename.set(n.outputs[0], n.inputs[0]);
          continue;
        }
        break;
      }
      case 'QuantizeLinear': {
        const p = actParams(g, n, 1, 2, n.inputs[0]);
        const x = g.initializers.get(n.inputs[0]);
        if (x) {
          // a float weight quantized in the file (fake-quant exports): fold it
          const t: IntTensor = { ints: Array.from(x.data, (v) => quantizeValue(v, p)), shape: x.shape, elem: p.signed ? 'int8' : 'uint8' };
          g.intConstants.set(n.outputs[0], t);
          continue;
        }
        n.attrs._s = p.scale;
        n.attrs._z = p.zp;
        n.attrs._sg = p.signed ? 1 : 0;
        setQ(n.outputs[0], p);
        out.push(n);
        continue;
      }
      case 'DequantizeLinear': {
        const xi = g.intConstants.get(n.inputs[0]);
        if (xi) {
          const w = constWeight(g, n);
          weights.set(n.outputs[0], w);
          g.initializers.set(n.outputs[0], dequantizeWeight(w));
          continue;
        }
        const p = params.get(n.inputs[0]);
        if (!p) throw new UnsupportedOpError(n.op, n.name, `input '${n.inputs[0]}' is neither a constant nor an 8-bit activation wasmcnn produced`);
        const q = actParams(g, n, 1, 2, n.inputs[0], p.signed);
        n.attrs._s = q.scale;
        n.attrs._z = q.zp;
        n.attrs._sg = q.signed ? 1 : 0;
        out.push(n);
        continue;
      }
      case 'QLinearConv': {
        const x = activation(n, params, 0);
        const xp = actParams(g, n, 1, 2, n.inputs[0], x.signed);
        const yp = actParams(g, n, 6, 7, n.outputs[0]);
        const w = intWeight(g, n, 3, 4, 5, 0);
        const b = n.inputs[8] ? g.intConstants.get(n.inputs[8])?.ints : undefined;
        if (n.inputs[8] && !b) throw new UnsupportedOpError(n.op, n.name, `bias '${n.inputs[8]}' must be a constant int32 tensor`);
        const fused = convNode(n, n.inputs[0], w, xp, b, yp, clampOf(yp), n.outputs[0]);
        if (!fused) throw new UnsupportedOpError(n.op, n.name, 'grouped convolution (other than depthwise) on int8 activations');
        setQ(n.outputs[0], yp);
        out.push(fused);
        continue;
      }
      case 'QLinearMatMul': {
        activation(n, params, 0);
        const ap = actParams(g, n, 1, 2, n.inputs[0], params.get(n.inputs[0])!.signed);
        const yp = actParams(g, n, 6, 7, n.outputs[0]);
        if (!g.intConstants.has(n.inputs[3])) throw new UnsupportedOpError(n.op, n.name, `B '${n.inputs[3]}' must be a constant (int8 weights)`);
        const w = intWeight(g, n, 3, 4, 5, 1);
        out.push(gemmNode(n, n.inputs[0], transposeKN(w), ap, undefined, yp, clampOf(yp), n.outputs[0]));
        setQ(n.outputs[0], yp);
        continue;
      }
      case 'QLinearAdd': {
        const { ap, bp, yp } = binaryParams(g, n, params);
        out.push(addNode(n, n.inputs[0], n.inputs[3], ap, bp, yp, clampOf(yp), n.outputs[0]));
        setQ(n.outputs[0], yp);
        continue;
      }
      case 'QLinearGlobalAveragePool': {
        if ((n.attrs.channels_last ?? 0) !== 0) throw new UnsupportedOpError(n.op, n.name, 'channels_last=1 input');
        const x = activation(n, params, 0);
        const xp = actParams(g, n, 1, 2, n.inputs[0], x.signed);
        const yp = actParams(g, n, 3, 4, n.outputs[0]);
        out.push(gapNode(n, n.inputs[0], xp, yp, n.outputs[0]));
        setQ(n.outputs[0], yp);
        continue;
      }
      case 'QLinearMul':
      case 'QLinearSigmoid':
      case 'QLinearLeakyRelu':
      case 'QLinearAveragePool':
      case 'QLinearConcat': {
        if (n.op === 'QLinearMul' && params.has(n.inputs[0]) && params.has(n.inputs[3])) {
          // two activations: one int8 step (a constant operand takes the float form below)
          const { ap, bp, yp } = binaryParams(g, n, params);
          out.push(mulNode(n, n.inputs[0], n.inputs[3], ap, bp, yp, clampOf(yp), n.outputs[0]));
          setQ(n.outputs[0], yp);
          continue;
        }
        // no int8 kernel (yet): dequantize the inputs, run the float op, quantize the output
        if (n.op === 'QLinearAveragePool' && (n.attrs.channels_last ?? 0) !== 0) throw new UnsupportedOpError(n.op, n.name, 'channels_last=1 input');
        const spec = FLOAT_FORMS[n.op];
        const ins = spec.inputs(n).map(([x, si, zi]) => dequantized(g, n, x, si, zi, params, out));
        const yp = actParams(g, n, spec.y[0], spec.y[1], n.outputs[0]);
        const f = `${n.outputs[0]}.f__wc`;
        const attrs = { ...n.attrs };
        delete attrs.channels_last;
        out.push({ name: n.name, op: spec.op, inputs: ins, outputs: [f], attrs });
        out.push(qdqNode('QuantizeLinear', `${n.name}.q`, f, n.outputs[0], yp));
        setQ(n.outputs[0], yp);
        continue;
      }
      default:
        // integer ops whose scale is the data's (onnxruntime's dynamic quantization) run on the host evaluator
        if (HOST_INTEGER_OPS.has(n.op)) {
          if (reads.length) throw new UnsupportedOpError(n.op, n.name, `reads the int8 step output '${reads[0]}'; ${n.op} takes DynamicQuantizeLinear outputs, graph inputs or constants`);
          out.push(n);
          continue;
        }
        if (QUANT_OPS.has(n.op)) throw new UnsupportedOpError(n.op, n.name, 'not supported in int8 graphs yet');
    }
    if (reads.length === 0) {
      out.push(n);
      continue;
    }
    // MaxPool on int8 values (QOperator files have it): the max of the bytes
    const pool = maxPoolNode(n, n.inputs[0], params.get(n.inputs[0]));
    if (pool) {
      out.push(pool);
      setQ(n.outputs[0], params.get(n.inputs[0])!);
      continue;
    }
    // a non-quantized op reading int8 values (QOperator form). Reshapes too: on a 4-D NHWC value
    // a reshape is a real reorder (to NCHW order), which only the float ops do
    if (!ORDER_PRESERVING.has(n.op) && !RESHAPES.has(n.op)) throw new UnsupportedOpError(n.op, n.name, `reads the int8 value '${reads[0]}'; only quantized ops and data movement may`);
    const p = params.get(reads[0])!;
    if (reads.some((r) => !sameParams(params.get(r)!, p))) throw new UnsupportedOpError(n.op, n.name, 'int8 inputs with different scales or zero points');
    n.inputs = n.inputs.map((i) => {
      if (!qt.has(i)) return i;
      const f = `${i}.dq__wc`;
      out.push(qdqNode('DequantizeLinear', `${n.name}.dq_${i}`, i, f, p));
      return f;
    });
    const outs = n.outputs;
    n.outputs = outs.map((o) => (o ? `${o}.f__wc` : o));
    out.push(n);
    outs.forEach((o, j) => {
      if (!o) return;
      out.push(qdqNode('QuantizeLinear', `${n.name}.q_${j}`, n.outputs[j], o, p));
      setQ(o, p);
    });
  }
  g.nodes = out;
  for (const o of g.outputs) o.name = rename.get(o.name) ?? o.name;

  // 2. QDQ patterns: a float op between DQs of int8 activations and one Q
  fuseQdq(g, weights, params, setQ);

  // 3. int8 graph outputs leave as their integer values (DequantizeLinear with scale 1, zero point 0)
  for (const o of g.outputs) {
    const p = params.get(o.name);
    if (!p || !qt.has(o.name)) continue;
    const inner = `${o.name}.q__wc`;
    for (const n of g.nodes) n.outputs = n.outputs.map((v) => (v === o.name ? inner : v));
    for (const n of g.nodes) n.inputs = n.inputs.map((v) => (v === o.name ? inner : v));
    qt.delete(o.name);
    setQ(inner, p);
    g.nodes.push(qdqNode('DequantizeLinear', `${o.name}.values`, inner, o.name, { scale: 1, zp: 0, signed: p.signed }));
  }
  g.qtypes = qt;
  removeDeadNodes(g);
  // 4. a residual _QAdd that alone reads a conv's / gemm's output runs in its epilogue
  fuseResidualAdds(g);
  // values no node writes any more (fused away) leave the map
  const made = new Set(g.nodes.flatMap((n) => n.outputs));
  for (const v of [...qt.keys()]) if (!made.has(v)) qt.delete(v);
}

/** The attribute prefix under which a fused _QAdd's own attributes ride on its producer (see fuseResidualAdds). */
export const ADD_PREFIX = '_A';

/** The attributes a fused step keeps under `prefix` on its producer, with their own names again. */
export function postAttrs(n: Node, prefix: string): Node['attrs'] {
  return Object.fromEntries(Object.entries(n.attrs).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/**
 * Residual-add fusion (issue 18): a _QConv or _QGemm whose output is no graph output and is read
 * by exactly one step, that step a _QAdd of it and another value, takes the add into its kernel's
 * epilogue: the kernel stores its requantized bytes (its own output parameters, as before) and
 * applies qadd_q8's arithmetic (assembly/qpost.ts) to each strip of rows while it is still in
 * cache. The fused node reads the other operand as its input 1 and writes the add's output; the
 * intermediate value disappears (no arena buffer, no pass over memory). When both operands come
 * from such producers, the later one takes the add (the other operand is then computed); a
 * producer whose other operand is made after it runs at the add's place. The add's attributes
 * ride on the producer under ADD_PREFIX, with _post = 'add' and _addA = 1 when the producer's
 * bytes are operand a (qadd_q8's rule is not symmetric in a and b: b's FMA is the inner one).
 * Measured (bench/ab.js --int8, one thread): resnet50 0.94-1.01x over 7 runs, median 0.98x;
 * mobilenet_v2 and efficientnet_b0 1.00x. The same fusion of a _QLut (a byte table) did not pay
 * (efficientnet_b0 1.011x; assembly/qpost.ts says why), so tables stay their own steps.
 */
function fuseResidualAdds(g: Graph): void {
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
  const outs = new Set(g.outputs.map((o) => o.name));
  const at = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => o && at.set(o, i)));
  const adds = new Map<string, Node>();
  for (const n of g.nodes) if (n.op === '_QAdd') for (const i of n.inputs) if (i) adds.set(i, n);
  const fusable = (c: Node | undefined, v: string | undefined): boolean =>
    !!c && !!v && (c.op === '_QConv' || c.op === '_QGemm') && c.attrs._post === undefined && !outs.has(v) && readers.get(v) === 1;
  const gone = new Set<Node>();
  const moved = new Map<Node, Node>();
  for (const [ci, c] of g.nodes.entries()) {
    const v = c.outputs[0];
    const r = adds.get(v);
    if (!r || gone.has(r) || !fusable(c, v) || r.inputs[0] === r.inputs[1]) continue;
    const other = r.inputs[0] === v ? r.inputs[1] : r.inputs[0];
    const op = at.get(other);
    // the other operand's producer is fusable too and comes later: it takes the add
    if (op !== undefined && op > ci && fusable(g.nodes[op], other)) continue;
    for (const [k, val] of Object.entries(r.attrs)) c.attrs[ADD_PREFIX + k] = val;
    c.attrs._post = 'add';
    c.attrs._addA = r.inputs[0] === v ? 1 : 0;
    c.inputs = [c.inputs[0], other];
    c.outputs = r.outputs.slice();
    gone.add(r);
    // run where the other operand is ready: the add's own place when it is made after the conv
    if (op !== undefined && op > ci) moved.set(r, c);
  }
  const late = new Set(moved.values());
  g.nodes = g.nodes.flatMap((n) => {
    const m = moved.get(n);
    return m ? [m] : gone.has(n) || late.has(n) ? [] : [n];
  });
}

/** Fold nodes whose inputs are all constants (PyTorch's ConstantOfShape → Cast zero points), as inferShapes does. */
function foldConstants(g: Graph, evalConst: EvalConst): void {
  const kept: Node[] = [];
  for (const n of g.nodes) {
    const consts = constInputs(g, n);
    const all = n.inputs.every((i, j) => !i || consts[j]);
    const folded = all && n.inputs.length > 0 && !QUANT_OPS.has(n.op) ? evalConst(n, consts, () => undefined) : undefined;
    if (folded) storeFolded(g, n, folded);
    else kept.push(n);
  }
  g.nodes = kept;
}

/**
 * QOperator ops run as DequantizeLinear → float op → QuantizeLinear: the float op, its 8-bit
 * inputs as (value, scale input, zero point input) index triples, and the output's scale and
 * zero point inputs.
 */
const FLOAT_FORMS: Record<string, { op: string; inputs: (n: Node) => [number, number, number][]; y: [number, number] }> = {
  QLinearMul: { op: 'Mul', inputs: () => [[0, 1, 2], [3, 4, 5]], y: [6, 7] },
  QLinearSigmoid: { op: 'Sigmoid', inputs: () => [[0, 1, 2]], y: [3, 4] },
  QLinearLeakyRelu: { op: 'LeakyRelu', inputs: () => [[0, 1, 2]], y: [3, 4] },
  QLinearAveragePool: { op: 'AveragePool', inputs: () => [[0, 1, 2]], y: [3, 4] },
  // Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input
  QLinearConcat: { op: 'Concat', inputs: (n) => Array.from({ length: (n.inputs.length - 2) / 3 }, (_, i) => [2 + 3 * i, 3 + 3 * i, 4 + 3 * i]), y: [0, 1] },
};

/**
 * Input `xi` of n as a float value: an int8 activation gets a DequantizeLinear step (pushed to
 * `out`), an integer constant its dequantized float initializer.
 */
function dequantized(g: Graph, n: Node, xi: number, si: number, zi: number, params: Map<string, QParams>, out: Node[]): string {
  const x = n.inputs[xi];
  const f = `${x}.${n.name}.dq__wc`;
  const p = params.get(x);
  if (p) {
    out.push(qdqNode('DequantizeLinear', `${n.name}.dq${xi}`, x, f, actParams(g, n, si, zi, x, p.signed)));
    return f;
  }
  const c = g.intConstants.get(x);
  if (!c) throw new UnsupportedOpError(n.op, n.name, `input '${x}' is neither an 8-bit activation nor a constant`);
  const q = actParams(g, n, si, zi, x, c.elem === 'int8');
  g.initializers.set(f, { data: Float32Array.from(c.ints, (v) => f32((v - q.zp) * q.scale)), shape: c.shape.slice() });
  return f;
}

function sameParams(a: QParams, b: QParams): boolean {
  return a.scale === b.scale && a.zp === b.zp && a.signed === b.signed;
}

/** The int8 activation input i of n (throws when it is not one). */
/**
 * The parameters of a QLinearAdd / QLinearMul (A, A_scale, A_zp, B, B_scale, B_zp, C_scale,
 * C_zp): both inputs 8-bit activations of the output's type.
 */
function binaryParams(g: Graph, n: Node, params: Map<string, QParams>): { ap: QParams; bp: QParams; yp: QParams } {
  const a = activation(n, params, 0), b = activation(n, params, 3);
  const ap = actParams(g, n, 1, 2, n.inputs[0], a.signed), bp = actParams(g, n, 4, 5, n.inputs[3], b.signed);
  const yp = actParams(g, n, 6, 7, n.outputs[0]);
  if (ap.signed !== yp.signed || bp.signed !== yp.signed) throw new UnsupportedOpError(n.op, n.name, 'inputs and output of different 8-bit types');
  return { ap, bp, yp };
}

function activation(n: Node, params: Map<string, QParams>, i: number): QParams {
  const p = params.get(n.inputs[i]);
  if (!p) throw new UnsupportedOpError(n.op, n.name, `input '${n.inputs[i]}' must be an 8-bit activation (from QuantizeLinear or a quantized op)`);
  return p;
}

/** A scalar float constant (a 1-element tensor counts). */
function scalarFloat(g: Graph, n: Node, name: string, what: string): number {
  const t = g.initializers.get(name);
  if (!t || t.data.length !== 1) throw new UnsupportedOpError(n.op, n.name, `${what} '${name}' must be a constant scalar (per-tensor quantization of activations)`);
  if (!(t.data[0] > 0) || !Number.isFinite(t.data[0])) throw new UnsupportedOpError(n.op, n.name, `${what} '${name}' is ${t.data[0]}; a scale must be positive and finite`);
  return t.data[0];
}

/**
 * Scale and zero point of an activation from inputs si / zi of n. The byte type is the zero
 * point's (uint8 when absent, as ONNX says); `signed` (the type of an input already known)
 * decides when the file's constant lost its type in folding.
 */
function actParams(g: Graph, n: Node, si: number, zi: number, value: string, signed?: boolean): QParams {
  const scale = scalarFloat(g, n, n.inputs[si], 'scale');
  const zname = n.inputs[zi];
  if (!zname) return { scale, zp: 0, signed: signed ?? false };
  const z = g.intConstants.get(zname);
  if (!z || z.ints.length !== 1) throw new UnsupportedOpError(n.op, n.name, `zero point '${zname}' of '${value}' must be a constant scalar`);
  const s = z.elem ? z.elem === 'int8' : signed ?? z.ints[0] < 0;
  if (z.elem !== undefined && z.elem !== 'int8' && z.elem !== 'uint8') throw new UnsupportedOpError(n.op, n.name, `zero point '${zname}': only 8-bit quantization is supported`);
  return { scale, zp: z.ints[0], signed: s };
}

/** The output clamp [lo, hi] of a step writing y (the type's range). */
function clampOf(p: QParams): [number, number] {
  return p.signed ? [-128, 127] : [0, 255];
}

/** A constant weight DQ(W_int, scale, zp, axis) as read from the file. */
function constWeight(g: Graph, n: Node): QWeight {
  const x = g.intConstants.get(n.inputs[0])!;
  const s = g.initializers.get(n.inputs[1]);
  if (!s) throw new UnsupportedOpError(n.op, n.name, `scale '${n.inputs[1]}' must be a constant`);
  const z = n.inputs[2] ? g.intConstants.get(n.inputs[2]) : undefined;
  if (n.inputs[2] && !z) throw new UnsupportedOpError(n.op, n.name, `zero point '${n.inputs[2]}' must be a constant`);
  const rank = x.shape.length;
  let axis = typeof n.attrs.axis === 'number' ? n.attrs.axis : 1;
  if (axis < 0) axis += rank;
  const len = s.data.length;
  if (len !== 1 && (axis < 0 || axis >= rank || x.shape[axis] !== len))
    throw new UnsupportedOpError(n.op, n.name, `scale '${n.inputs[1]}' has ${len} values for axis ${axis} of ${n.inputs[0]} [${x.shape.join(', ')}]`);
  const zp = z ? z.ints : new Array<number>(len).fill(0);
  if (zp.length !== len) throw new UnsupportedOpError(n.op, n.name, `zero point '${n.inputs[2]}' has ${zp.length} values, scale ${len}`);
  return { ints: intBytes(x), shape: x.shape, scale: s.data, zp, axis };
}

/** QLinearConv / QLinearMatMul weight inputs (w, scale, zp) along `axis` (0: output channels, 1: columns of [K][N]). */
function intWeight(g: Graph, n: Node, wi: number, si: number, zi: number, axis: number): QWeight {
  const x = g.intConstants.get(n.inputs[wi]);
  if (!x) throw new UnsupportedOpError(n.op, n.name, `weight '${n.inputs[wi]}' must be a constant`);
  const s = g.initializers.get(n.inputs[si]);
  if (!s) throw new UnsupportedOpError(n.op, n.name, `weight scale '${n.inputs[si]}' must be a constant`);
  const z = n.inputs[zi] ? g.intConstants.get(n.inputs[zi]) : undefined;
  if (n.inputs[zi] && !z) throw new UnsupportedOpError(n.op, n.name, `weight zero point '${n.inputs[zi]}' must be a constant`);
  const len = s.data.length;
  if (len !== 1 && x.shape[axis] !== len) throw new UnsupportedOpError(n.op, n.name, `weight scale has ${len} values for ${x.shape[axis]} channels`);
  return { ints: intBytes(x), shape: x.shape, scale: s.data, zp: z ? z.ints : [0], axis };
}

/**
 * The float value of a constant weight DQ, for the ops that do not fuse it: computed when first
 * read (the fused steps read the int8 weights, so most are never computed).
 */
function dequantizeWeight(w: QWeight): Tensor {
  let data: Float32Array | undefined;
  const compute = (): Float32Array => {
    const out = new Float32Array(w.ints.length);
    const inner = w.shape.slice(w.axis + 1).reduce((a, b) => a * b, 1);
    const dim = w.shape[w.axis] ?? 1;
    for (let i = 0; i < out.length; i++) {
      const c = w.scale.length === 1 ? 0 : Math.floor(i / inner) % dim;
      out[i] = f32((w.ints[i] - (w.zp[c] ?? w.zp[0])) * w.scale[c]);
    }
    return out;
  };
  const t = { shape: w.shape.slice() } as Tensor;
  Object.defineProperty(t, 'data', {
    enumerable: true,
    configurable: true,
    get: () => (data ??= compute()),
    set: (v: Float32Array) => (data = v),
  });
  return t;
}

/** Per-output-channel weight scales (length `count`), channels along w.axis. */
function channelScales(w: QWeight, count: number): number[] {
  return Array.from({ length: count }, (_, i) => w.scale[w.scale.length === 1 ? 0 : i]);
}

/** w − zp as int8 (channels along w.axis), or an UnsupportedOpError naming n when it does not fit. */
function shiftedInt8(n: Node, w: QWeight): Int8Array {
  if (w.ints instanceof Int8Array && w.zp.every((z) => z === 0)) return w.ints;
  const inner = w.shape.slice(w.axis + 1).reduce((a, b) => a * b, 1);
  const dim = w.shape[w.axis];
  const out = new Int8Array(w.ints.length);
  for (let i = 0; i < out.length; i++) {
    const zp = w.zp[w.zp.length === 1 ? 0 : Math.floor(i / inner) % dim];
    const v = w.ints[i] - zp;
    if (v < -128 || v > 127)
      throw new UnsupportedOpError(n.op, n.name, zp === 0 ? 'weights outside int8 (uint8 weights need a zero point)'
        : `weights with zero point ${zp}: w − zp leaves int8, and the int8 GEMM needs symmetric int8 weights (quantize weights as int8 with zero point 0)`);
    out[i] = v;
  }
  return out;
}

/** A fused step's int8 weights attribute (src/quant/ops.ts reads `ints` as the Int8Array it is). */
function weightAttr(ints: Int8Array, shape: number[]): AttrValue {
  return { ints, shape } as unknown as AttrValue;
}

/** [K][N] weights (QLinearMatMul / MatMul, per-column scales) as [N][K] rows, scales per row. */
function transposeKN(w: QWeight): QWeight {
  const [K, N] = w.shape;
  const ints = new Int16Array(K * N);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) ints[j * K + k] = w.ints[k * N + j];
  return { ints, shape: [N, K], scale: w.scale, zp: w.zp, axis: 0 };
}

/** The f32 requantization scale of output channel c: (x_scale · w_scale[c]) / y_scale, as onnxruntime evaluates it. */
function requantScales(xs: number, ws: number[], ys: number): number[] {
  return ws.map((s) => f32(f32(f32(xs) * f32(s)) / f32(ys)));
}

function base(n: Node, op: string, inputs: string[], y: string): Node {
  return { name: n.name, op, inputs, outputs: [y], attrs: {} };
}

/**
 * _QConv from the parts of a QLinearConv or a QDQ Conv; undefined for a grouped (not
 * depthwise) conv. w: [OC][C/g][KH][KW] with its scales along axis 0.
 */
function convNode(n: Node, x: string, w: QWeight, xp: QParams, bias: number[] | undefined, yp: QParams, clamp: [number, number], y: string): Node | undefined {
  const [OC, CG, KH, KW] = w.shape;
  if (w.shape.length !== 4) throw new UnsupportedOpError(n.op, n.name, `weight of shape [${w.shape.join(', ')}]: only 2-D convolution is supported`);
  const group = typeof n.attrs.group === 'number' ? n.attrs.group : 1;
  if (group !== 1 && !(CG === 1 && group === OC)) return undefined;
  if (w.scale.length !== 1 && w.axis !== 0) throw new UnsupportedOpError(n.op, n.name, 'weight scales along an axis other than the output channels');
  const q = base(n, '_QConv', [x], y);
  for (const k of ['kernel_shape', 'strides', 'pads', 'dilations', 'auto_pad']) if (n.attrs[k] !== undefined) q.attrs[k] = n.attrs[k];
  q.attrs.group = group;
  q.attrs._w = weightAttr(shiftedInt8(n, w), [OC, CG, KH, KW]);
  setCommon(q, xp, yp, clamp);
  q.attrs._rs = requantScales(xp.scale, channelScales(w, OC), yp.scale);
  if (bias) q.attrs._b = checkedBias(n, bias, OC);
  return q;
}

/** bias, or a ShapeError naming n when it does not hold one value per output channel. */
function checkedBias(n: Node, bias: number[], channels: number): number[] {
  if (bias.length !== channels) throw new ShapeError(`${n.op} node '${n.name}': bias of ${bias.length} values for ${channels} output channels`);
  return bias;
}

/** _QGemm: y = a · Wᵀ with W [N][K] (scales along axis 0). */
function gemmNode(n: Node, a: string, w: QWeight, ap: QParams, bias: number[] | undefined, yp: QParams, clamp: [number, number], y: string): Node {
  const q = base(n, '_QGemm', [a], y);
  q.attrs._w = weightAttr(shiftedInt8(n, w), w.shape.slice());
  setCommon(q, ap, yp, clamp);
  q.attrs._rs = requantScales(ap.scale, channelScales(w, w.shape[0]), yp.scale);
  if (bias) q.attrs._b = checkedBias(n, bias, w.shape[0]);
  return q;
}

function addNode(n: Node, a: string, b: string, ap: QParams, bp: QParams, yp: QParams, clamp: [number, number], y: string): Node {
  const q = base(n, '_QAdd', [a, b], y);
  // onnxruntime's x86 QLinearAdd: ratios and the fixed part in f32, in this order
  const ra = f32(f32(ap.scale) / f32(yp.scale)), rb = f32(f32(bp.scale) / f32(yp.scale));
  q.attrs._ra = ra;
  q.attrs._rb = rb;
  q.attrs._fixed = f32(yp.zp - f32(f32(ra * ap.zp) + f32(rb * bp.zp)));
  q.attrs._sg = yp.signed ? 1 : 0;
  q.attrs._lo = clamp[0];
  q.attrs._hi = clamp[1];
  return q;
}

/** _QMaxPool for a MaxPool of an int8 value x (params p) with one output (no indices); else undefined. */
function maxPoolNode(n: Node, x: string, p: QParams | undefined, y = n.outputs[0]): Node | undefined {
  if (n.op !== 'MaxPool' || !p || n.outputs.filter((o) => o).length !== 1 || !Array.isArray(n.attrs.kernel_shape)) return undefined;
  const q = base(n, '_QMaxPool', [x], y);
  for (const k of ['kernel_shape', 'strides', 'pads', 'dilations', 'auto_pad', 'ceil_mode']) if (n.attrs[k] !== undefined) q.attrs[k] = n.attrs[k];
  q.attrs._sg = p.signed ? 1 : 0;
  return q;
}

/** _QMul: onnxruntime's x86 QLinearMul rule, its scale ratio f32(sa·sb)/sc in f32 (see qmul_q8). */
function mulNode(n: Node, a: string, b: string, ap: QParams, bp: QParams, yp: QParams, clamp: [number, number], y: string): Node {
  const q = base(n, '_QMul', [a, b], y);
  q.attrs._ratio = f32(f32(f32(ap.scale) * f32(bp.scale)) / f32(yp.scale));
  q.attrs._za = ap.zp;
  q.attrs._zb = bp.zp;
  q.attrs._zc = yp.zp;
  q.attrs._sg = yp.signed ? 1 : 0;
  q.attrs._lo = clamp[0];
  q.attrs._hi = clamp[1];
  return q;
}

function gapNode(n: Node, x: string, xp: QParams, yp: QParams, y: string): Node {
  const q = base(n, '_QGap', [x], y);
  setCommon(q, xp, yp, clampOf(yp));
  return q;
}

/**
 * The float op of a table: the node's op and attributes, a Clip's constant bounds as min/max
 * attributes (ops.ts reads them without the graph); undefined for a Clip with non-constant bounds.
 */
function floatAct(g: Graph, n: Node): { op: string; attrs: Node['attrs'] } | undefined {
  if (n.op !== 'Clip' || !n.inputs.slice(1).some((i) => i)) return { op: n.op, attrs: { ...n.attrs } };
  const bound = (i: number) => (n.inputs[i] ? g.initializers.get(n.inputs[i]) : undefined);
  const lo = bound(1), hi = bound(2);
  if ((n.inputs[1] && lo?.data.length !== 1) || (n.inputs[2] && hi?.data.length !== 1)) return undefined;
  const attrs: Node['attrs'] = {};
  if (lo) attrs.min = lo.data[0];
  if (hi) attrs.max = hi.data[0];
  return { op: 'Clip', attrs };
}

/**
 * _QLut: y_q = table[x_q], the table DQ(xp) → f → Q(yp) clamped to `clamp` (built by ops.ts at
 * plan time). Attributes: _act the op, the op's own attributes, the input and output parameters.
 */
function lutNode(n: Node, x: string, f: { op: string; attrs: Node['attrs'] }, xp: QParams, yp: QParams, clamp: [number, number], y: string): Node {
  const q = base(n, '_QLut', [x], y);
  // the op's attributes as the _QLut's own (none of them starts with '_')
  Object.assign(q.attrs, f.attrs);
  q.attrs._act = f.op;
  setCommon(q, xp, yp, clamp);
  return q;
}

function setCommon(q: Node, xp: QParams, yp: QParams, clamp: [number, number]): void {
  Object.assign(q.attrs, {
    _xs: xp.scale, _xz: xp.zp, _xsg: xp.signed ? 1 : 0, _ys: yp.scale, _yz: yp.zp, _ysg: yp.signed ? 1 : 0, _lo: clamp[0], _hi: clamp[1],
  });
}

function qdqNode(op: string, name: string, x: string, y: string, p: QParams): Node {
  return { name, op, inputs: [x, '', ''], outputs: [y], attrs: { _s: p.scale, _z: p.zp, _sg: p.signed ? 1 : 0 } };
}

/**
 * QDQ fusion: for each Conv / Gemm / MatMul / Add / GlobalAveragePool whose activation inputs
 * are DequantizeLinear outputs of int8 values, whose weights are constant DQs, and whose result
 * (through at most one Relu or constant Clip) is read by exactly one QuantizeLinear, replace the
 * chain with the fused step writing that Q's output. Everything else stays as it is.
 */
function fuseQdq(g: Graph, weights: Map<string, QWeight>, params: Map<string, QParams>, setQ: (v: string, p: QParams) => void): void {
  const readers = new Map<string, Node[]>();
  const producer = new Map<string, Node>();
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
    for (const o of n.outputs) if (o) producer.set(o, n);
  }
  const outputs = new Set(g.outputs.map((o) => o.name));
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  /** The int8 value a float input is the DequantizeLinear of, with the DQ's parameters. */
  const dqOf = (v: string): { q: string; p: QParams } | undefined => {
    const d = producer.get(v);
    if (!d || d.op !== 'DequantizeLinear' || !params.has(d.inputs[0])) return undefined;
    return { q: d.inputs[0], p: { scale: d.attrs._s as number, zp: d.attrs._z as number, signed: d.attrs._sg === 1 } };
  };
  /** The single Q reading v (through one Relu/Clip), its params and the output clamp. */
  const tail = (v: string): { q: Node; act?: Node; p: QParams; clamp: [number, number] } | undefined => {
    const one = (x: string) => (!outputs.has(x) && readers.get(x)?.length === 1 ? readers.get(x)![0] : undefined);
    let r = one(v);
    let act: Node | undefined;
    let lo = -Infinity, hi = Infinity;
    if (r && (r.op === 'Relu' || r.op === 'Clip')) {
      act = r;
      if (r.op === 'Relu') lo = 0;
      else {
        const cmin = r.inputs[1] ? g.initializers.get(r.inputs[1]) : undefined;
        const cmax = r.inputs[2] ? g.initializers.get(r.inputs[2]) : undefined;
        if ((r.inputs[1] && !cmin) || (r.inputs[2] && !cmax)) return undefined;
        lo = cmin ? cmin.data[0] : -Infinity;
        hi = cmax ? cmax.data[0] : Infinity;
      }
      r = one(r.outputs[0]);
    }
    if (!r || r.op !== 'QuantizeLinear' || removed.has(r)) return undefined;
    const p: QParams = { scale: r.attrs._s as number, zp: r.attrs._z as number, signed: r.attrs._sg === 1 };
    const [tmin, tmax] = clampOf(p);
    // Q(clamp(v, lo, hi)) = clamp(Q(v), Q(lo), Q(hi)): Q is monotone
    const clamp: [number, number] = [lo === -Infinity ? tmin : quantizeValue(lo, p), hi === Infinity ? tmax : quantizeValue(hi, p)];
    return { q: r, act, p, clamp };
  };
  /** Bias as int32 at scale x_scale·w_scale[c]: a DQ'd int32 bias as is when its scales match, else rounded. */
  const biasInts = (name: string | undefined, xs: number, ws: number[]): number[] | undefined => {
    if (!name) return undefined;
    const bw = weights.get(name);
    const want = ws.map((s) => f32(xs * s));
    // a bias of the wrong length goes through as it is, for convNode / gemmNode to refuse
    if (bw) {
      if (bw.ints.length !== ws.length) return Array.from(bw.ints);
      const sc = (c: number) => bw.scale[bw.scale.length === 1 ? 0 : c];
      const zc = (c: number) => bw.zp[bw.zp.length === 1 ? 0 : c];
      if (want.every((s, c) => Math.abs(sc(c) - s) <= 1e-6 * s && zc(c) === 0)) return Array.from(bw.ints);
      return want.map((s, c) => roundHalfEven(((bw.ints[c] - zc(c)) * sc(c)) / s));
    }
    const t = g.initializers.get(name);
    if (t && t.data.length !== ws.length) return Array.from(t.data);
    return t ? want.map((s, c) => roundHalfEven(t.data[c] / s)) : undefined;
  };

  for (const n of g.nodes) {
    let fused: Node | undefined;
    let t: ReturnType<typeof tail>;
    if (n.op === 'Conv') {
      const x = dqOf(n.inputs[0]);
      const w = weights.get(n.inputs[1]);
      t = x && w && w.shape.length === 4 && (w.scale.length === 1 || w.axis === 0) ? tail(n.outputs[0]) : undefined;
      if (x && w && t) {
        const ws = channelScales(w, w.shape[0]);
        const b = biasInts(n.inputs[2], x.p.scale, ws);
        if (!n.inputs[2] || b) fused = convNode(n, x.q, w, x.p, b, t.p, t.clamp, t.q.outputs[0]);
      }
    } else if (n.op === 'Gemm' || n.op === 'MatMul') {
      const a = dqOf(n.inputs[0]);
      const w0 = weights.get(n.inputs[1]);
      const ok = n.op === 'MatMul' || ((n.attrs.transA ?? 0) === 0 && (n.attrs.alpha ?? 1) === 1 && (n.attrs.beta ?? 1) === 1);
      t = a && w0 && ok && w0.shape.length === 2 ? tail(n.outputs[0]) : undefined;
      if (a && w0 && t) {
        const transB = n.op === 'Gemm' && n.attrs.transB === 1;
        // scales per output column: along axis 0 of [N][K] (transB), axis 1 of [K][N]
        const perCol = w0.scale.length === 1 || w0.axis === (transB ? 0 : 1);
        const w = transB ? w0 : transposeKN(w0);
        if (perCol) {
          const ws = channelScales(w, w.shape[0]);
          const b = n.op === 'Gemm' ? biasInts(n.inputs[2], a.p.scale, ws) : undefined;
          const biasOk = n.op === 'MatMul' || !n.inputs[2] || (b && (weights.get(n.inputs[2]) ?? g.initializers.get(n.inputs[2]))?.shape.length === 1);
          if (biasOk) fused = gemmNode(n, a.q, w, a.p, b, t.p, t.clamp, t.q.outputs[0]);
        }
      }
    } else if (n.op === 'Add') {
      const a = dqOf(n.inputs[0]), b = dqOf(n.inputs[1]);
      t = a && b ? tail(n.outputs[0]) : undefined;
      if (a && b && t && a.p.signed === t.p.signed && b.p.signed === t.p.signed) fused = addNode(n, a.q, b.q, a.p, b.p, t.p, t.clamp, t.q.outputs[0]);
    } else if (n.op === 'MaxPool') {
      // DQ → MaxPool → Q with the same scale and zero point: the max of the bytes
      const x = dqOf(n.inputs[0]);
      t = x ? tail(n.outputs[0]) : undefined;
      if (x && t && !t.act && sameParams(x.p, t.p)) fused = maxPoolNode(n, x.q, x.p, t.q.outputs[0]);
    } else if (n.op === 'GlobalAveragePool') {
      const x = dqOf(n.inputs[0]);
      t = x ? tail(n.outputs[0]) : undefined;
      if (x && t && !t.act) fused = gapNode(n, x.q, x.p, t.p, t.q.outputs[0]);
    } else if (LUT_OPS.has(n.op) || n.op === 'Relu' || n.op === 'Clip') {
      // an activation no step before took: DQ → op [→ Relu | Clip] → Q as a byte table
      const x = dqOf(n.inputs[0]);
      const f = x && floatAct(g, n);
      t = f ? tail(n.outputs[0]) : undefined;
      if (x && f && t) fused = lutNode(n, x.q, f, x.p, t.p, t.clamp, t.q.outputs[0]);
    } else if (n.op === 'Mul') {
      // x · Sigmoid(x) and x · HardSigmoid(x; 1/6, 1/2) (how PyTorch and onnxruntime write SiLU
      // and HardSwish), named as src/graph/recognize.ts's gated() names them for the float body
      for (const j of [0, 1]) {
        const x = dqOf(n.inputs[j]);
        const gate = producer.get(n.inputs[1 - j]);
        if (!x || !gate || gate.inputs[0] !== n.inputs[j] || outputs.has(gate.outputs[0]) || readers.get(gate.outputs[0])?.length !== 1) continue;
        const beta = (gate.attrs.beta as number | undefined) ?? 0.5;
        const op = gate.op === 'Sigmoid' ? 'Silu' : gate.op === 'HardSigmoid' && near(gate.attrs.alpha as number | undefined, 1 / 6) && near(beta, 0.5) ? 'HardSwish' : undefined;
        t = op ? tail(n.outputs[0]) : undefined;
        if (!op || !t) continue;
        fused = lutNode(n, x.q, { op, attrs: {} }, x.p, t.p, t.clamp, t.q.outputs[0]);
        removed.add(gate);
        break;
      }
      // DQ(a) · DQ(b) → Q (squeeze-excite gates, attention maps): one int8 step
      const a = fused ? undefined : dqOf(n.inputs[0]), b = fused ? undefined : dqOf(n.inputs[1]);
      if (a && b) {
        t = tail(n.outputs[0]);
        if (t && a.p.signed === t.p.signed && b.p.signed === t.p.signed) fused = mulNode(n, a.q, b.q, a.p, b.p, t.p, t.clamp, t.q.outputs[0]);
      }
    }
    if (!fused || !t) continue;
    replaced.set(n, fused);
    if (t.act) removed.add(t.act);
    removed.add(t.q);
    setQ(t.q.outputs[0], t.p);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
}

/**
 * After layouts are assigned: every value stored as bytes is written and read only by steps that
 * know bytes (a float step reading one would compute garbage). Layout conversions and reshapes
 * are fine when they are aliases (no copy). Throws GraphError naming the node otherwise.
 */
export function checkByteValues(g: Graph, aliases: Map<string, string>): void {
  const qt = g.qtypes;
  if (!qt) return;
  const root = (v: string) => {
    while (aliases.has(v)) v = aliases.get(v)!;
    return v;
  };
  const isByte = (v: string) => !!v && qt.has(root(v));
  const aware = new Set([...LOWERED_OPS, 'QuantizeLinear', 'DequantizeLinear']);
  for (const n of g.nodes) {
    if (aware.has(n.op)) continue;
    if (n.outputs.every((o) => aliases.has(o))) {
      for (const o of n.outputs) if (isByte(o)) qt.set(o, qt.get(root(o))!);
      continue;
    }
    const bad = n.inputs.find(isByte) ?? n.outputs.find(isByte);
    if (bad) throw new GraphError(`${n.op} node '${n.name}' would treat the int8 value '${bad}' as float (internal: the int8 lowering missed it)`);
  }
}
