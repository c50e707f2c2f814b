// exportOnnx: a Model's source graph (the network as built or imported, before fusion) as an
// ONNX file other runtimes load (onnx.proto IR 8, default opset 17; ONNX operator specs,
// https://onnx.ai/onnx/operators/). wasmcnn-internal ops become their standard ONNX forms:
//   Silu              Sigmoid, Mul                          (Elfwing et al. 2018)
//   ChannelShuffle    Reshape [N,g,C/g,H,W], Transpose (0,2,1,3,4), Reshape [N,C,H,W] (ShuffleNet)
//   ChannelLayerNorm  Transpose to NHWC, LayerNormalization, Transpose back (as PyTorch exports
//                     timm's LayerNorm2d), or the ReduceMean/Sub/Pow/Sqrt/Div form
//   Gelu (opset 20)   Div sqrt2, Erf, Add 1, Mul x, Mul 0.5 below opset 20 (tanh form likewise)
//   Mish (opset 18)   Softplus, Tanh, Mul below opset 18
// and attributes whose form changed between the source opset and the target are moved
// (Reduce* axes, Split sizes, Squeeze/Unsqueeze axes between attribute and input). The decomposed
// forms are the ones wasmcnn's own pattern pass recognises, so re-loading an export with
// loadOnnx compiles to the same kernels.
import { GraphError, UnsupportedOpError, ValueError } from '../errors';
import type { Graph, IntTensor, Node, Tensor } from '../graph/ir';
import { consumers, producers } from '../graph/util';
import { type Model, NOT_PARAMS } from '../model';
import { graphToOnnx } from './writer';

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** Default-domain opset of the file (13–20; default 17). */
  opset?: number;
  /**
   * How ChannelLayerNorm (LayerNorm over the channels of an NCHW map) is written:
   * 'transpose' (default) = Transpose, LayerNormalization(axis -1), Transpose;
   * 'reduce' = ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add.
   */
  layerNorm2d?: 'transpose' | 'reduce';
  /** producer_name of the ModelProto (default 'wasmcnn'). */
  producer?: string;
  /**
   * 'float16': weights stored as FLOAT16 initializers (half the file; each rounded to nearest,
   * ties to even), each widened by a Cast to FLOAT at the start of the graph, which runtimes fold
   * at load. Settings read as values (Clip bounds, Pad's value, Resize scales, MaxUnpool indices)
   * stay float32.
   * Default 'float32'.
   */
  weights?: 'float32' | 'float16';
}

/** Ops whose axes/sizes moved from an attribute to an input at the given opset. */
function listAsInputFrom(op: string): number | undefined {
  if (op === 'ReduceSum' || op === 'Squeeze' || op === 'Unsqueeze' || op === 'Split') return 13;
  if (op.startsWith('Reduce')) return 18;
  return undefined;
}

/** Ops wasmcnn runs internally that have no ONNX definition (or none at this opset). */
const DECOMPOSED = new Set(['Silu', 'ChannelShuffle', 'ChannelLayerNorm', 'Gelu', 'Mish']);

/**
 * The model's source graph (`model.sourceGraph`) as ONNX bytes: float32 weights as initializers,
 * fixed input shapes, wasmcnn-internal ops decomposed into standard ONNX operators. The file
 * loads in onnxruntime (node/web), other ONNX runtimes, and back into wasmcnn with loadOnnx.
 */
export function exportOnnx(model: Model, opts: ExportOnnxOptions = {}): Uint8Array {
  const g = toOnnxGraph(model.sourceGraph, opts);
  const weights = opts.weights ?? 'float32';
  if (weights !== 'float32' && weights !== 'float16') throw new ValueError(`exportOnnx: weights must be 'float32' or 'float16', got ${String(weights)}`);
  return graphToOnnx(g, opts.producer ?? 'wasmcnn', weights === 'float16' ? halfWeights(g) : undefined);
}

/**
 * Store the graph's float weights as FLOAT16: each initializer not read as a setting (Clip bounds,
 * Pad's value, Resize scales, MaxUnpool indices: values whose exact float32 matters) is renamed `<name>_fp16` and
 * widened back under its own name by a Cast node placed first. Returns the renamed names.
 */
function halfWeights(g: Graph): Set<string> {
  const setting = new Set<string>();
  // NOT_PARAMS less BatchNorm's running statistics (buffers, stored like the weights)
  for (const n of g.nodes) if (n.op !== 'BatchNormalization') for (const i of NOT_PARAMS[n.op] ?? []) if (n.inputs[i]) setting.add(n.inputs[i]);
  const half = new Set<string>();
  const casts: Node[] = [];
  for (const [name, t] of [...g.initializers]) {
    if (setting.has(name) || g.inputs.some((i) => i.name === name)) continue;
    const stored = `${name}_fp16`;
    if (g.initializers.has(stored)) throw new GraphError(`exportOnnx: cannot store '${name}' as float16: '${stored}' exists`);
    g.initializers.delete(name);
    g.initializers.set(stored, t);
    half.add(stored);
    casts.push({ op: 'Cast', name: `${name}_widen`, inputs: [stored], outputs: [name], attrs: { to: 1 } });
  }
  g.nodes.unshift(...casts);
  return half;
}

/** Whether `name` is one src/graph/expand.ts made for a lifted 1-D window (freshName's `<base>.<what>__wcN`). */
function liftedName(name: string, what: string): boolean {
  return new RegExp(`\\.${what}__wc\\d+$`).test(name);
}

/**
 * The 1-D windows compileGraph lifted (src/graph/expand.ts: Unsqueeze axis 2, the window as 1 x k
 * over [N, C, 1, L], Squeeze axis 2) written back as the 1-D ops they were, their weights under
 * their own names with [out, in / groups, k] shapes again (the same floats), so an export keeps
 * the names of the file or network it came from. Other graphs come back as they are.
 */
function unlift1d(src: Graph): Graph {
  if (!src.nodes.some((n) => n.op === 'Unsqueeze' && liftedName(n.name, 'unsqueeze'))) return src;
  const readers = consumers(src);
  const producer = producers(src);
  const initializers = new Map(src.initializers);
  const shapes = new Map(src.shapes);
  const drop = new Set<Node>();
  const replaced = new Map<Node, Node>();
  // the lifted Unsqueeze that produces v, when `w` alone reads v
  const lifted = (v: string, w: Node) => {
    const u = producer.get(v);
    return u && u.op === 'Unsqueeze' && liftedName(u.name, 'unsqueeze') && readers.get(v)?.length === 1 && readers.get(v)![0] === w ? u : undefined;
  };
  for (const w of src.nodes) {
    const u = lifted(w.inputs[0], w);
    if (!u) continue;
    const squeezes = w.outputs.map((o) => (o ? readers.get(o) : []));
    if (!squeezes.every((r, i) => !w.outputs[i] || (r?.length === 1 && r[0].op === 'Squeeze' && liftedName(r[0].name, 'squeeze')))) continue;
    const attrs: Node['attrs'] = { ...w.attrs };
    for (const key of ['kernel_shape', 'strides', 'dilations', 'pads', 'output_padding', 'output_shape']) {
      const v = attrs[key];
      if (Array.isArray(v)) attrs[key] = (key === 'pads' ? [v[1], v[3]] : v.slice(1)) as number[];
    }
    const inputs = [u.inputs[0], ...w.inputs.slice(1)];
    if (w.op.startsWith('Conv') && w.inputs[1]) {
      const wu = lifted(w.inputs[1], w);
      const t = initializers.get(w.inputs[1]);
      if (wu) {
        inputs[1] = wu.inputs[0];
        drop.add(wu);
      } else if (t && t.shape.length === 4 && t.shape[2] === 1) {
        const base = w.inputs[1].replace(/\.2d__wc\d+$/, '');
        const free = base !== w.inputs[1] && (!initializers.has(base) || initializers.get(base)!.data === t.data) && !readers.has(base);
        const name = free ? base : w.inputs[1];
        const shape = [t.shape[0], t.shape[1], t.shape[3]];
        if (readers.get(w.inputs[1])?.length === 1) {
          initializers.delete(w.inputs[1]);
          shapes.delete(w.inputs[1]);
        }
        initializers.set(name, { ...t, shape });
        if (shapes.has(w.inputs[1]) || free) shapes.set(name, shape);
        inputs[1] = name;
      }
    }
    drop.add(u);
    const outputs = w.outputs.map((o, i) => (o ? squeezes[i]![0].outputs[0] : o));
    squeezes.forEach((r) => r?.forEach((q) => drop.add(q)));
    for (const v of [w.inputs[0], ...w.outputs]) if (v) shapes.delete(v);
    replaced.set(w, { ...w, inputs, outputs, attrs });
  }
  return { ...src, nodes: src.nodes.filter((n) => !drop.has(n)).map((n) => replaced.get(n) ?? n), initializers, shapes };
}

/** The ONNX-only form of a source graph at the target opset (the input graph is not changed). */
export function toOnnxGraph(source: Graph, opts: ExportOnnxOptions = {}): Graph {
  const src = unlift1d(source);
  const opset = opts.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 13 || opset > 20) throw new ValueError(`exportOnnx: opset ${opset} is not supported (13–20)`);
  if (src.opset < 11) throw new ValueError(`exportOnnx: the source graph follows opset ${src.opset}; only opset 11+ graphs can be re-targeted`);
  const lnForm = opts.layerNorm2d ?? 'transpose';

  const initializers = new Map<string, Tensor>(src.initializers);
  const intConstants = new Map<string, IntTensor>(src.intConstants);
  const shapes = new Map(src.shapes);
  const taken = new Set<string>([...initializers.keys(), ...intConstants.keys(), ...src.inputs.map((i) => i.name)]);
  for (const n of src.nodes) {
    taken.add(n.name);
    for (const v of [...n.inputs, ...n.outputs]) if (v) taken.add(v);
  }
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const ints = (base: string, values: number[], shape = [values.length]): string => {
    const name = fresh(base);
    intConstants.set(name, { ints: values.slice(), shape });
    return name;
  };
  const floats = (base: string, values: ArrayLike<number>, shape: number[]): string => {
    const name = fresh(base);
    initializers.set(name, { data: Float32Array.from(values), shape });
    return name;
  };
  const scalar = (base: string, v: number) => floats(base, [v], []);
  const shapeOf = (n: Node, v: string): number[] => {
    const s = shapes.get(v);
    if (!s) throw new GraphError(`exportOnnx: no shape known for '${v}' (node '${n.name}')`);
    return s;
  };

  const nodes: Node[] = [];
  const emit = (n: Node, op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}, suffix = op): void => {
    nodes.push({ name: fresh(`${n.name}/${suffix}`), op, inputs, outputs, attrs });
  };
  const tmp = (n: Node, what: string) => fresh(`${n.name}/${what}`);

  for (const n of src.nodes) {
    if (n.op.startsWith('_')) throw new UnsupportedOpError(n.op, n.name, 'an internal layout op in a source graph (exportOnnx needs model.sourceGraph)');
    const [x] = n.inputs;
    const [y] = n.outputs;
    if (n.op === 'Silu') {
      const s = tmp(n, 'sigmoid');
      emit(n, 'Sigmoid', [x], [s]);
      emit(n, 'Mul', [x, s], [y]);
    } else if (n.op === 'Mish' && opset < 18) {
      const sp = tmp(n, 'softplus');
      const th = tmp(n, 'tanh');
      emit(n, 'Softplus', [x], [sp]);
      emit(n, 'Tanh', [sp], [th]);
      emit(n, 'Mul', [x, th], [y]);
    } else if (n.op === 'Gelu' && opset < 20) {
      const approx = (n.attrs.approximate as string | undefined) ?? 'none';
      const half = tmp(n, 'half');
      if (approx === 'tanh') {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        const [x3, inner, sc, th, one] = ['cube', 'inner', 'scaled', 'tanh', 'one_plus'].map((w) => tmp(n, w));
        emit(n, 'Pow', [x, scalar(`${n.name}/three`, 3)], [x3]);
        const x3s = tmp(n, 'cube_scaled');
        emit(n, 'Mul', [x3, scalar(`${n.name}/c`, 0.044715)], [x3s]);
        emit(n, 'Add', [x, x3s], [inner]);
        emit(n, 'Mul', [inner, scalar(`${n.name}/k`, Math.sqrt(2 / Math.PI))], [sc]);
        emit(n, 'Tanh', [sc], [th]);
        emit(n, 'Add', [th, scalar(`${n.name}/one`, 1)], [one]);
        emit(n, 'Mul', [x, one], [half]);
      } else if (approx === 'none') {
        const [d, e, a] = ['div', 'erf', 'one_plus'].map((w) => tmp(n, w));
        emit(n, 'Div', [x, scalar(`${n.name}/sqrt2`, Math.SQRT2)], [d]);
        emit(n, 'Erf', [d], [e]);
        emit(n, 'Add', [e, scalar(`${n.name}/one`, 1)], [a]);
        emit(n, 'Mul', [x, a], [half]);
      } else throw new UnsupportedOpError('Gelu', n.name, `approximate='${approx}'`);
      emit(n, 'Mul', [half, scalar(`${n.name}/half`, 0.5)], [y], {}, 'Mul_half');
    } else if (n.op === 'ChannelShuffle') {
      const [N, C, H, W] = shapeOf(n, x);
      const g = n.attrs.groups as number;
      const r1 = tmp(n, 'grouped');
      const t = tmp(n, 'transposed');
      emit(n, 'Reshape', [x, ints(`${n.name}/grouped_shape`, [N, g, C / g, H, W])], [r1]);
      emit(n, 'Transpose', [r1], [t], { perm: [0, 2, 1, 3, 4] });
      emit(n, 'Reshape', [t, ints(`${n.name}/shape`, [N, C, H, W])], [y], {}, 'Reshape_back');
    } else if (n.op === 'ChannelLayerNorm') {
      const C = shapeOf(n, x)[1];
      const eps = (n.attrs.epsilon as number | undefined) ?? 1e-6;
      const param = (i: number, shape: number[], what: string): string | undefined => {
        const name = n.inputs[i];
        if (!name) return undefined;
        const t = initializers.get(name);
        if (!t) throw new GraphError(`exportOnnx: ChannelLayerNorm '${n.name}': '${name}' is not a constant`);
        return t.shape.join() === shape.join() ? name : floats(`${name}/${what}`, t.data, shape);
      };
      if (lnForm === 'transpose') {
        const t1 = tmp(n, 'nhwc');
        const ln = tmp(n, 'normed');
        emit(n, 'Transpose', [x], [t1], { perm: [0, 2, 3, 1] });
        const gamma = param(1, [C], 'vec') ?? floats(`${n.name}/ones`, new Float32Array(C).fill(1), [C]);
        const beta = param(2, [C], 'vec');
        emit(n, 'LayerNormalization', beta ? [t1, gamma, beta] : [t1, gamma], [ln], { axis: -1, epsilon: eps });
        emit(n, 'Transpose', [ln], [y], { perm: [0, 3, 1, 2] }, 'Transpose_back');
      } else {
        const axes: { in: string[]; attr: Node['attrs'] } =
          opset >= 18 ? { in: [ints(`${n.name}/axes`, [1])], attr: {} } : { in: [], attr: { axes: [1] } };
        const [m, d, p, v, ve, sd, q] = ['mean', 'centered', 'sq', 'var', 'var_eps', 'std', 'normed'].map((w) => tmp(n, w));
        emit(n, 'ReduceMean', [x, ...axes.in], [m], { ...axes.attr, keepdims: 1 });
        emit(n, 'Sub', [x, m], [d]);
        emit(n, 'Pow', [d, scalar(`${n.name}/two`, 2)], [p]);
        emit(n, 'ReduceMean', [p, ...axes.in], [v], { ...axes.attr, keepdims: 1 }, 'ReduceMean_var');
        emit(n, 'Add', [v, scalar(`${n.name}/eps`, eps)], [ve]);
        emit(n, 'Sqrt', [ve], [sd]);
        const gamma = param(1, [C, 1, 1], 'chw');
        const beta = param(2, [C, 1, 1], 'chw');
        const scaled = beta ? tmp(n, 'scaled') : y;
        if (gamma) {
          emit(n, 'Div', [d, sd], [q]);
          emit(n, 'Mul', [q, gamma], [scaled]);
        } else emit(n, 'Div', [d, sd], [scaled]);
        if (beta) emit(n, 'Add', [scaled, beta], [y], {}, 'Add_beta');
      }
    } else {
      nodes.push(retarget(n, src.opset, opset, shapes, ints, (v) => intConstants.get(v)?.ints));
    }
  }
  for (const n of nodes)
    if (DECOMPOSED.has(n.op) && !(n.op === 'Gelu' && opset >= 20) && !(n.op === 'Mish' && opset >= 18))
      throw new UnsupportedOpError(n.op, n.name, 'not an ONNX operator');
  // drop constants no node reads (folded shape arithmetic, parameters replaced by reshaped copies)
  const read = new Set<string>(src.outputs.map((o) => o.name));
  for (const n of nodes) for (const i of n.inputs) if (i) read.add(i);
  for (const k of [...initializers.keys()]) if (!read.has(k)) initializers.delete(k);
  for (const k of [...intConstants.keys()]) if (!read.has(k)) intConstants.delete(k);
  return { ...src, nodes, initializers, intConstants, shapes, opset };
}

/** A copy of a standard node with axes/sizes moved between attribute and input for the target opset. */
function retarget(
  n: Node, from: number, to: number, shapes: Map<string, number[]>, ints: (base: string, v: number[]) => string,
  intConst: (name: string) => number[] | undefined,
): Node {
  const out: Node = { ...n, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attrs: { ...n.attrs } };
  if (n.op === 'Split' && to < 18) {
    // explicit sizes from the inferred output shapes (num_outputs is opset 18)
    delete out.attrs.num_outputs;
    const x = shapes.get(n.inputs[0]);
    const axisAttr = (n.attrs.axis as number | undefined) ?? 0;
    const axis = x ? (axisAttr < 0 ? axisAttr + x.length : axisAttr) : axisAttr;
    const sizes = n.outputs.map((o) => shapes.get(o)?.[axis]);
    if (sizes.every((s) => s !== undefined)) {
      delete out.attrs.split;
      out.inputs = [n.inputs[0], ints(`${n.name}/split`, sizes as number[])];
      return out;
    }
  }
  const at = listAsInputFrom(n.op);
  if (at === undefined || (from >= at) === (to >= at)) return out;
  const key = n.op === 'Split' ? 'split' : 'axes';
  if (to >= at) {
    // attribute -> input 1
    const v = n.attrs[key] as number[] | undefined;
    delete out.attrs[key];
    if (v !== undefined) out.inputs = [n.inputs[0], ints(`${n.name}/${key}`, v)];
  } else {
    // input 1 -> attribute (the value must be a folded integer constant)
    const name = n.inputs[1];
    if (name) {
      const v = intConst(name);
      if (!v) throw new UnsupportedOpError(n.op, n.name, `'${key}' is a run-time input; opset ${to} needs it as an attribute`);
      out.attrs[key] = v.slice();
      out.inputs = [n.inputs[0], ...n.inputs.slice(2)];
    }
  }
  return out;
}
