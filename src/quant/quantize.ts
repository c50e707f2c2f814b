// Post-training static quantization: calibration and the QDQ rewrite behind quantize() (api.ts).
//
// Sources: affine quantization x ≈ scale · (q − zero_point) with an exactly representable 0
// (Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-
// Only Inference", CVPR 2018); symmetric per-output-channel int8 weights, asymmetric uint8
// activations, int32 biases at scale x_scale · w_scale (Krishnamoorthi, "Quantizing deep
// convolutional networks for efficient inference: A whitepaper", 2018); entropy calibration: the
// clipping threshold minimising KL(P‖Q) between the 2048-bin histogram of |x| and its 128- (or
// 256-) level quantized form (Migacz, "8-bit Inference with TensorRT", GTC 2017); the graph form
// is ONNX QuantizeLinear / DequantizeLinear (opset 13, https://onnx.ai/onnx/operators/).
//
// The QDQ graph is written exactly in the form src/quant/lower.ts fuses (and onnxruntime's QDQ
// transformer turns into QLinearConv / QLinearMatMul / QLinearAdd):
//   x ──Q──DQ──┐
//   W_int8 ─DQ─┼─ Conv ─[Relu|Clip]─ Q ─ DQ ─ ...     (the Q reads the activation's output, so
//   b_int32 DQ─┘                                        the range is the one after it)
// MaxPool keeps its input's scale and zero point (the max of the bytes); a Flatten/Reshape feeding
// a quantized op gets the parameters of its input (its values are the same). An activation
// (lower.ts LUT_OPS: Sigmoid, SiLU, HardSwish, ...) of a quantized value gets Q → DQ on its
// output too: DQ → act → Q is what the int8 plan runs as a byte table.
import type { Graph, IntTensor, Node, Tensor } from '../graph/ir';
import { cloneGraph, ValueError } from '../lazy/kit';
import type { compileGraph as CompileGraph, Feeds, Model } from '../model';
import type { QuantizeOptions } from './api';
import { LUT_OPS, QUANT_OPS, roundHalfEven } from './lower';

const f32 = Math.fround;
const NBINS = 2048;
/** Ops whose output holds the values of their input (same quantization parameters). */
const SAME_VALUES = new Set(['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity']);

interface Range {
  min: number;
  max: number;
}

/** One quantized activation: how its parameters are found and, once known, their values. */
interface QTensor {
  /** Another quantized tensor whose parameters it takes (MaxPool, Flatten), else calibrated. */
  same?: string;
  scale?: number;
  zp?: number;
}

/**
 * The implementation of quantize() (src/quant/api.ts, which loads this module on its first call; `compileGraph` is the engine's, handed in so
 * this lazily loaded module imports nothing of the first bundle by value: src/lazy/kit.ts).
 */
export async function quantizeModel(model: Model, options: QuantizeOptions, compileGraph: typeof CompileGraph): Promise<Model> {
  const o = checkOptions(options);
  const src = model.sourceGraph;
  if (src.nodes.some((n) => QUANT_OPS.has(n.op))) throw new ValueError('quantize: the model is already quantized (it holds QuantizeLinear/DequantizeLinear or QLinear ops)');
  const g = unquantized(src);
  foldBatchNorms(g);
  const plan = planQuantization(g);
  if (plan.nodes.size === 0) throw new ValueError('quantize: the model has no Conv, Gemm, MatMul, Add or pooling on activations to quantize');

  // calibration: the float graph with every calibrated tensor as an extra output
  const samples: (Feeds | Tensor)[] = [];
  for await (const s of options.calibration as AsyncIterable<Feeds | Tensor>) samples.push(s);
  if (samples.length === 0) throw new ValueError('quantize: options.calibration is empty (give at least one input)');
  const calibrated = [...plan.tensors].filter(([, q]) => !q.same).map(([t]) => t);
  const cg = unquantized(g);
  const outs = new Set(cg.outputs.map((v) => v.name));
  for (const t of calibrated) if (!outs.has(t)) cg.outputs.push({ name: t });
  const cm = await compileGraph(cg, { optimize: false });
  const feedsOf = (s: Feeds | Tensor): Feeds => {
    if ('data' in s && 'shape' in s && ArrayBuffer.isView((s as Tensor).data)) {
      if (cm.inputNames.length !== 1) throw new ValueError(`quantize: options.calibration holds tensors, but the model has ${cm.inputNames.length} inputs (give feeds objects)`);
      return { [cm.inputNames[0]]: s as Tensor };
    }
    return s as Feeds;
  };
  const ranges = new Map<string, Range>(calibrated.map((t) => [t, { min: Infinity, max: -Infinity }]));
  try {
    for (const s of samples) {
      const r = await cm.run(feedsOf(s));
      for (const t of calibrated) {
        const d = r[t].data, rg = ranges.get(t)!;
        for (let i = 0; i < d.length; i++) {
          const v = d[i];
          if (v < rg.min) rg.min = v;
          if (v > rg.max) rg.max = v;
        }
      }
    }
    for (const [t, rg] of ranges)
      if (!Number.isFinite(rg.min) || !Number.isFinite(rg.max)) throw new ValueError(`quantize: the calibration values of '${t}' are not finite (${rg.min} .. ${rg.max})`);
    if (o.method !== 'minmax') {
      const hists = new Map<string, Float64Array>(calibrated.map((t) => [t, new Float64Array(NBINS)]));
      for (const s of samples) {
        const r = await cm.run(feedsOf(s));
        for (const t of calibrated) {
          const rg = ranges.get(t)!;
          const amax = Math.max(-rg.min, rg.max);
          if (!(amax > 0)) continue;
          const h = hists.get(t)!, d = r[t].data, k = NBINS / amax;
          // exact zeros (a ReLU's spike) are left out: 0 is represented exactly whatever the
          // threshold, and their mass in the first bin would make KL favour tiny thresholds
          for (let i = 0; i < d.length; i++) if (d[i] !== 0) h[Math.min(NBINS - 1, Math.floor(Math.abs(d[i]) * k))]++;
        }
      }
      // the graph's results keep their full range: clipping logits would reorder the top classes
      const results = new Set<string>();
      const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((v) => [v, n] as const)));
      for (let v of g.outputs.map((x) => x.name)) {
        results.add(v);
        for (let p = producer.get(v); p && SAME_VALUES.has(p.op); p = producer.get(v)) results.add((v = p.inputs[0]));
      }
      for (const t of calibrated) {
        if (results.has(t)) continue;
        const rg = ranges.get(t)!;
        const amax = Math.max(-rg.min, rg.max);
        if (!(amax > 0)) continue;
        const h = hists.get(t)!;
        const levels = rg.min >= 0 && !o.symmetric ? 256 : 128;
        const th = o.method === 'percentile' ? percentileThreshold(h, amax, o.percentile) : entropyThreshold(h, amax, levels);
        ranges.set(t, { min: Math.max(rg.min, -th), max: Math.min(rg.max, th) });
      }
    }
  } finally {
    cm.dispose();
  }

  for (const t of calibrated) Object.assign(plan.tensors.get(t)!, activationParams(ranges.get(t)!, o.signed, o.symmetric));
  for (const [, q] of plan.tensors) {
    let r = q;
    while (r.same) r = plan.tensors.get(r.same)!;
    q.scale = r.scale;
    q.zp = r.zp;
  }
  const qg = writeQdq(g, plan, o);
  // axes compiled as dynamic are dynamic in the QDQ graph too (an export declares them symbolic)
  const axes = options.compile?.dynamicAxes ?? {};
  for (const i of qg.inputs) if (axes[i.name] && i.shape) i.shape = i.shape.map((d, j) => (axes[i.name].includes(j) ? -1 : d));
  if (Object.keys(axes).length > 0) {
    // the shapes planned for the float model's input size no longer hold for every input
    qg.shapes = new Map();
    for (const v of qg.outputs) v.shape = undefined;
  }
  return compileGraph(qg, options.compile ?? {});
}

interface Checked {
  perChannel: boolean;
  signed: boolean;
  symmetric: boolean;
  method: 'minmax' | 'percentile' | 'entropy';
  percentile: number;
}

function checkOptions(options: QuantizeOptions): Checked {
  if (!options || typeof options !== 'object') throw new ValueError('quantize: options with a calibration set are required');
  const c = options.calibration as unknown;
  if (c === undefined || c === null || (typeof (c as Iterable<unknown>)[Symbol.iterator] !== 'function' && typeof (c as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function'))
    throw new ValueError('quantize: options.calibration must be an array or iterable of feeds or tensors');
  if (Array.isArray(c) && c.length === 0) throw new ValueError('quantize: options.calibration is empty (give at least one input)');
  const method = options.method ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile' && method !== 'entropy')
    throw new ValueError(`quantize: options.method must be 'minmax', 'percentile' or 'entropy', got ${JSON.stringify(method)}`);
  const act = options.activations ?? 'uint8';
  if (act !== 'uint8' && act !== 'int8') throw new ValueError(`quantize: options.activations must be 'int8' or 'uint8', got ${JSON.stringify(act)}`);
  const perChannel = options.perChannel ?? true;
  if (typeof perChannel !== 'boolean') throw new ValueError(`quantize: options.perChannel must be a boolean, got ${JSON.stringify(perChannel)}`);
  const symmetric = options.symmetric ?? false;
  if (typeof symmetric !== 'boolean') throw new ValueError(`quantize: options.symmetric must be a boolean, got ${JSON.stringify(symmetric)}`);
  if (symmetric && act !== 'int8') throw new ValueError("quantize: options.symmetric needs activations: 'int8'");
  const percentile = options.percentile ?? 99.99;
  if (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100)) throw new ValueError(`quantize: options.percentile must be in (0, 100], got ${JSON.stringify(percentile)}`);
  return { perChannel, signed: act === 'int8', symmetric, method, percentile };
}

/** Scale and zero point of an activation with calibrated range r (0 always representable). */
export function activationParams(r: Range, signed: boolean, symmetric: boolean): { scale: number; zp: number } {
  const lo = Math.min(r.min, 0), hi = Math.max(r.max, 0);
  if (symmetric) {
    const m = Math.max(-lo, hi);
    return { scale: f32(m > 0 ? m / 127 : 1), zp: 0 };
  }
  const scale = f32(hi - lo > 0 ? (hi - lo) / 255 : 1);
  const qmin = signed ? -128 : 0;
  const zp = Math.min(qmin + 255, Math.max(qmin, Math.round(qmin - lo / scale)));
  return { scale, zp };
}

/** The value of |x| below which `p` percent of the histogram's mass lies (bins of width amax / NBINS). */
export function percentileThreshold(h: Float64Array, amax: number, p: number): number {
  const total = h.reduce((a, b) => a + b, 0);
  const want = (total * p) / 100;
  let acc = 0;
  for (let i = 0; i < h.length; i++) {
    acc += h[i];
    if (acc >= want) return ((i + 1) * amax) / h.length;
  }
  return amax;
}

/**
 * TensorRT's entropy calibration: for each candidate threshold i ≥ levels bins, P is the
 * histogram's first i bins with the mass beyond added to the last; Q is P's bins merged into
 * `levels` groups, each group's mass spread over its nonzero bins. The threshold is the bin edge
 * of the i with the least KL(P‖Q).
 */
export function entropyThreshold(h: Float64Array, amax: number, levels: number): number {
  const n = h.length;
  const suffix = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + h[i];
  let best = n, bestKl = Infinity;
  const p = new Float64Array(n), q = new Float64Array(n);
  for (let i = levels; i <= n; i++) {
    for (let j = 0; j < i; j++) p[j] = h[j];
    p[i - 1] += suffix[i];
    // Q: the first i bins of h (without the tail) in `levels` groups, spread over the nonzero bins
    let j = 0;
    for (let l = 0; l < levels; l++) {
      const end = Math.floor(((l + 1) * i) / levels);
      let sum = 0, nz = 0;
      for (let k = j; k < end; k++) {
        sum += h[k];
        if (h[k] > 0) nz++;
      }
      for (let k = j; k < end; k++) q[k] = h[k] > 0 ? sum / nz : 0;
      j = end;
    }
    let sp = 0, sq = 0;
    for (let k = 0; k < i; k++) {
      sp += p[k];
      sq += q[k];
    }
    if (!(sp > 0) || !(sq > 0)) continue;
    let kl = 0;
    for (let k = 0; k < i; k++) {
      if (p[k] === 0) continue;
      // a bin Q leaves empty (the tail mass added to P's last) gets a small floor, as TensorRT smooths
      const qk = q[k] > 0 ? q[k] / sq : 1e-12;
      kl += (p[k] / sp) * Math.log(p[k] / sp / qk);
    }
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return (best * amax) / n;
}/** A copy of a graph's structure without int8 value types (the float graph calibration runs). */
function unquantized(g: Graph): Graph {
  return { ...cloneGraph(g), qtypes: undefined };
}



/** Readers of each value. */
function readersOf(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) m.set(i, [...(m.get(i) ?? []), n]);
  return m;
}

/** Conv → BatchNormalization (the conv's only reader) becomes one Conv with the folded weight and bias. */
function foldBatchNorms(g: Graph): void {
  const readers = readersOf(g);
  const outs = new Set(g.outputs.map((v) => v.name));
  const removed = new Set<Node>();
  for (const n of g.nodes) {
    if (n.op !== 'BatchNormalization' || n.outputs.filter((x) => x).length !== 1) continue;
    const conv = g.nodes.find((c) => c.outputs[0] === n.inputs[0]);
    if (!conv || conv.op !== 'Conv' || outs.has(conv.outputs[0]) || readers.get(conv.outputs[0])?.length !== 1) continue;
    const w = g.initializers.get(conv.inputs[1]);
    const b = conv.inputs[2] ? g.initializers.get(conv.inputs[2]) : undefined;
    const [sc, bb, mean, vr] = n.inputs.slice(1, 5).map((x) => g.initializers.get(x));
    if (!w || (conv.inputs[2] && !b) || !sc || !bb || !mean || !vr) continue;
    const eps = typeof n.attrs.epsilon === 'number' ? n.attrs.epsilon : 1e-5;
    const oc = w.shape[0], per = w.data.length / oc;
    const wd = new Float32Array(w.data.length), bd = new Float32Array(oc);
    for (let c = 0; c < oc; c++) {
      const k = sc.data[c] / Math.sqrt(vr.data[c] + eps);
      for (let i = 0; i < per; i++) wd[c * per + i] = w.data[c * per + i] * k;
      bd[c] = ((b ? b.data[c] : 0) - mean.data[c]) * k + bb.data[c];
    }
    const wn = `${conv.name}.weight_bnfold`, bn = `${conv.name}.bias_bnfold`;
    g.initializers.set(wn, { data: wd, shape: w.shape.slice() });
    g.initializers.set(bn, { data: bd, shape: [oc] });
    conv.inputs = [conv.inputs[0], wn, bn];
    conv.outputs = [n.outputs[0]];
    removed.add(n);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
}

interface Plan {
  /** Quantized nodes and the axis of their weight's output channels (-1: no weight). */
  nodes: Map<Node, number>;
  /** Quantized activations in graph order. */
  tensors: Map<string, QTensor>;
}

/** Which nodes run in int8 and which activations get Q → DQ (and whose parameters they take). */
function planQuantization(g: Graph): Plan {
  const readers = readersOf(g);
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const outs = new Set(g.outputs.map((v) => v.name));
  const isConst = (v: string) => g.initializers.has(v) || g.intConstants.has(v);
  const isAct = (v: string | undefined) => !!v && !isConst(v) && (producer.has(v) || g.inputs.some((i) => i.name === v && (!i.dtype || i.dtype === 'float')));
  const shape = (v: string) => g.shapes.get(v) ?? g.inputs.find((i) => i.name === v)?.shape;
  const tensors = new Map<string, QTensor>();
  const nodes = new Map<Node, number>();

  /** The value a quantized op's result is read at: after a Relu or constant Clip that is its only reader. */
  const effective = (v: string): string => {
    const r = readers.get(v);
    if (outs.has(v) || r?.length !== 1) return v;
    const a = r[0];
    if (a.op === 'Relu' || (a.op === 'Clip' && a.inputs.slice(1).every((x) => !x || g.initializers.has(x)))) return a.outputs[0];
    return v;
  };
  const need = (v: string) => {
    if (tensors.has(v)) return;
    const p = producer.get(v);
    if (p && SAME_VALUES.has(p.op) && tensors.has(p.inputs[0])) tensors.set(v, { same: p.inputs[0] });
    else tensors.set(v, {});
  };

  for (const n of g.nodes) {
    let axis: number | undefined;
    const w = g.initializers.get(n.inputs[1]);
    if (n.op === 'Conv' && isAct(n.inputs[0]) && w && w.shape.length === 4) {
      const group = typeof n.attrs.group === 'number' ? n.attrs.group : 1;
      if (group === 1 || (w.shape[1] === 1 && group === w.shape[0])) axis = 0;
      if (n.inputs[2] && !g.initializers.has(n.inputs[2])) axis = undefined;
    } else if (n.op === 'Gemm' && isAct(n.inputs[0]) && w && w.shape.length === 2) {
      const ok = (n.attrs.transA ?? 0) === 0 && (n.attrs.alpha ?? 1) === 1 && (n.attrs.beta ?? 1) === 1;
      const b = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
      if (ok && (!n.inputs[2] || (b && b.shape.length === 1))) axis = n.attrs.transB === 1 ? 0 : 1;
    } else if (n.op === 'MatMul' && isAct(n.inputs[0]) && w && w.shape.length === 2 && (shape(n.inputs[0])?.length ?? 2) === 2) {
      axis = 1;
    } else if (n.op === 'Add' && isAct(n.inputs[0]) && isAct(n.inputs[1])) {
      const a = shape(n.inputs[0]), b = shape(n.inputs[1]);
      if (a && b && a.length === b.length && a.every((d, i) => d === b[i])) axis = -1;
    } else if ((n.op === 'GlobalAveragePool' || n.op === 'MaxPool') && isAct(n.inputs[0]) && n.outputs.filter((x) => x).length === 1) {
      axis = -1;
    } else if (LUT_OPS.has(n.op) && tensors.has(n.inputs[0])) {
      // an activation of a quantized value (SiLU after a conv): its output quantized too, so the
      // int8 plan runs it as a byte table between int8 steps (lower.ts) instead of DQ → float → Q
      nodes.set(n, -1);
      need(effective(n.outputs[0]));
      continue;
    }
    if (axis === undefined) continue;
    nodes.set(n, axis);
    const acts = n.op === 'Add' ? [n.inputs[0], n.inputs[1]] : [n.inputs[0]];
    for (const a of acts) need(a);
    if (n.op === 'MaxPool') tensors.set(n.outputs[0], { same: n.inputs[0] });
    else need(n.op === 'GlobalAveragePool' ? n.outputs[0] : effective(n.outputs[0]));
  }
  return { nodes, tensors };
}

/** Symmetric int8 quantization of a weight along `axis` (-1: one scale), scales max|w| / 127. */
function quantizeWeight(w: Tensor, axis: number): { ints: number[]; scale: Float32Array } {
  const dim = axis < 0 ? 1 : w.shape[axis];
  const inner = axis < 0 ? w.data.length : w.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const ch = (i: number) => (axis < 0 ? 0 : Math.floor(i / inner) % dim);
  const amax = new Float64Array(dim);
  for (let i = 0; i < w.data.length; i++) amax[ch(i)] = Math.max(amax[ch(i)], Math.abs(w.data[i]));
  const scale = Float32Array.from(amax, (m) => (m > 0 ? m / 127 : 1));
  const ints = Array.from(w.data, (v, i) => Math.max(-127, Math.min(127, roundHalfEven(f32(v / scale[ch(i)])))));
  return { ints, scale };
}

/** The QDQ graph: Q → DQ after each quantized activation, DQ of int8 weights and int32 biases. */
function writeQdq(g0: Graph, plan: Plan, o: Checked): Graph {
  const g = unquantized(g0);
  const taken = new Set<string>([...g.initializers.keys(), ...g.intConstants.keys(), ...g.inputs.map((i) => i.name)]);
  for (const n of g.nodes) for (const v of [...n.inputs, ...n.outputs, n.name]) taken.add(v);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const elem = o.signed ? 'int8' : 'uint8';
  const params = new Map<string, { s: string; z: string; scale: number }>();
  for (const [t, q] of plan.tensors) {
    const s = fresh(`${t}_scale`), z = fresh(`${t}_zero_point`);
    g.initializers.set(s, { data: Float32Array.of(q.scale!), shape: [] });
    g.intConstants.set(z, { ints: [q.zp!], shape: [], elem });
    params.set(t, { s, z, scale: q.scale! });
  }
  const qdq = (t: string, from: string, to: string): Node[] => {
    const p = params.get(t)!, q = fresh(`${t}_quantized`);
    return [
      { name: fresh(`${t}_QuantizeLinear`), op: 'QuantizeLinear', inputs: [from, p.s, p.z], outputs: [q], attrs: {} },
      { name: fresh(`${t}_DequantizeLinear`), op: 'DequantizeLinear', inputs: [q, p.s, p.z], outputs: [to], attrs: {} },
    ];
  };
  const out: Node[] = [];
  // graph inputs: readers take the dequantized copy
  const rename = new Map<string, string>();
  for (const i of g.inputs)
    if (plan.tensors.has(i.name)) {
      const d = fresh(`${i.name}_dequantized`);
      out.push(...qdq(i.name, i.name, d));
      rename.set(i.name, d);
    }
  const byName = new Map([...plan.nodes].map(([n, a]) => [n.name, a]));
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((v) => rename.get(v) ?? v);
    const axis = byName.get(n.name);
    if (axis !== undefined && axis >= 0) {
      // weight (and bias) as DequantizeLinear of integer constants
      const w = g.initializers.get(n.inputs[1])!;
      const wa = o.perChannel ? axis : -1;
      const { ints, scale } = quantizeWeight(w, wa);
      const wq = fresh(`${n.inputs[1]}_quantized`), ws = fresh(`${n.inputs[1]}_scale`), wz = fresh(`${n.inputs[1]}_zero_point`), wd = fresh(`${n.inputs[1]}_dequantized`);
      g.intConstants.set(wq, { ints, shape: w.shape.slice(), elem: 'int8' });
      g.initializers.set(ws, { data: scale, shape: wa < 0 ? [] : [scale.length] });
      g.intConstants.set(wz, { ints: new Array<number>(scale.length).fill(0), shape: wa < 0 ? [] : [scale.length], elem: 'int8' });
      out.push({ name: fresh(`${n.name}_weight_DequantizeLinear`), op: 'DequantizeLinear', inputs: [wq, ws, wz], outputs: [wd], attrs: wa < 0 ? {} : { axis: wa } });
      const bname = n.inputs[2];
      n.inputs[1] = wd;
      if (bname && n.op !== 'MatMul') {
        const b = g.initializers.get(bname)!;
        const xs = params.get(activationName(n.inputs[0], rename))!.scale;
        const bs = Float32Array.from(scale, (s) => f32(xs * s));
        const bints = Array.from(b.data, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundHalfEven(v / bs[bs.length === 1 ? 0 : c]))));
        const bq = fresh(`${bname}_quantized`), bsn = fresh(`${bname}_scale`), bd = fresh(`${bname}_dequantized`);
        g.intConstants.set(bq, { ints: bints, shape: b.shape.slice(), elem: 'int32' });
        g.initializers.set(bsn, { data: bs, shape: bs.length === 1 ? [] : [bs.length] });
        out.push({ name: fresh(`${n.name}_bias_DequantizeLinear`), op: 'DequantizeLinear', inputs: [bq, bsn], outputs: [bd], attrs: bs.length === 1 ? {} : { axis: 0 } });
        n.inputs[2] = bd;
      }
    }
    out.push(n);
    n.outputs.forEach((v, j) => {
      if (!v || !plan.tensors.has(v)) return;
      const f = fresh(`${v}_float`);
      n.outputs[j] = f;
      out.push(...qdq(v, f, v));
    });
  }
  g.nodes = out;
  // weights no node reads any more (the float copies of quantized ones) leave the graph
  const read = new Set(g.nodes.flatMap((n) => n.inputs));
  for (const k of [...g.initializers.keys()]) if (!read.has(k)) g.initializers.delete(k);
  for (const k of [...g.intConstants.keys()]) if (!read.has(k)) g.intConstants.delete(k);
  g.derived = undefined;
  g.constants = undefined;
  g.shapes = new Map(g0.shapes);
  return g;
}

/** The quantized tensor a (possibly renamed) activation input stands for: `x_dequantized` → x. */
function activationName(v: string, rename: Map<string, string>): string {
  for (const [k, r] of rename) if (r === v) return k;
  return v;
}
