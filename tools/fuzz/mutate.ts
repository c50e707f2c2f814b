// Fuzz case generation for the ONNX and safetensors loaders: a seeded PRNG, raw byte mutators
// (flip, truncate, insert, splice: the classic AFL-style havoc set) and structure-aware
// mutators that edit a graph before it is written (attributes set to boundary values, dims,
// initializer shapes and data, wiring, opset) or a safetensors header (dtype, shape, offsets).
// Seeds are small graphs built here, one per operator family, plus files given by the caller.
import { emptyGraph, type AttrValue, type Graph, type IntTensor, type Node } from '../../src/graph/ir';
import { graphToOnnx } from '../../src/onnx/writer';

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same cases everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Integers at the edges of what attributes, dims and counts can hold (ONNX int64 and wasm32's i32). */
export const INTERESTING_INTS = [
  0, 1, -1, 2, 3, 4, 5, 7, 8, 16, 255, 256, 1023, 1024, 65535, 65536, 1e6, 2 ** 24, 2 ** 24 + 1,
  2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 53, -(2 ** 53), -2, -3, -4, -5,
];
const INTERESTING_FLOATS = [0, -0, 1, -1, 0.5, 1e-30, 1e30, 3e38, -3e38, Infinity, -Infinity, NaN, 1e-45, 2.5];
const STRINGS = ['', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID', 'nearest', 'linear', 'cubic', 'constant', 'reflect', 'edge', 'align_corners', 'x'];

/** Attribute names worth setting, per op (plus a few that any op may receive). */
const ATTRS: Record<string, string[]> = {
  Conv: ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad'],
  ConvTranspose: ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'output_padding', 'output_shape', 'auto_pad'],
  MaxPool: ['kernel_shape', 'strides', 'pads', 'dilations', 'ceil_mode', 'storage_order', 'auto_pad'],
  AveragePool: ['kernel_shape', 'strides', 'pads', 'ceil_mode', 'count_include_pad', 'auto_pad'],
  LRN: ['size', 'alpha', 'beta', 'bias'],
  Resize: ['mode', 'coordinate_transformation_mode', 'nearest_mode', 'axes', 'antialias', 'keep_aspect_ratio_policy'],
  Pad: ['mode'],
  Gemm: ['transA', 'transB', 'alpha', 'beta'],
  Softmax: ['axis'],
  Concat: ['axis'],
  Transpose: ['perm'],
  Split: ['axis', 'split', 'num_outputs'],
  ReduceMean: ['axes', 'keepdims', 'noop_with_empty_axes'],
  Gather: ['axis'],
  BatchNormalization: ['epsilon', 'training_mode'],
  InstanceNormalization: ['epsilon'],
  LayerNormalization: ['axis', 'epsilon'],
  Flatten: ['axis'],
  LeakyRelu: ['alpha'],
  MaxUnpool: ['kernel_shape', 'strides', 'pads'],
  DeformConv: ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'offset_group'],
  Clip: ['min', 'max'],
  Slice: ['starts', 'ends', 'axes'],
  ChannelShuffle: ['groups'],
  QuantizeLinear: ['axis', 'saturate'],
  DequantizeLinear: ['axis'],
  QLinearConv: ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad'],
  ConvInteger: ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad'],
  QLinearGlobalAveragePool: ['channels_last'],
  Cast: ['to'],
};
const ANY_ATTRS = ['axis', 'axes', 'kernel_shape', 'strides', 'pads', 'size', 'group', '_act', 'perm'];

const fill = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
const w = (shape: number[], f = (i: number) => ((i * 37) % 11) / 11 - 0.4) => ({ data: fill(shape.reduce((a, b) => a * b, 1), f), shape });

/** An 8-bit (or int32 bias) constant as ONNX files hold quantized weights and zero points. */
const q8 = (ints: number[], elem: IntTensor['elem'], shape: number[] = ints.length === 1 ? [] : [ints.length]): IntTensor => ({ ints, shape, elem });

/** One small graph per operator family: the seeds of the structure-aware mutator. */
export function seedGraphs(): Graph[] {
  const mk = (inShape: number[], nodes: Node[], floats: Record<string, { data: Float32Array; shape: number[] }> = {}, ints: Record<string, number[] | IntTensor> = {}, opset = 13): Graph => {
    const g = emptyGraph();
    g.opset = opset;
    g.inputs.push({ name: 'x', shape: inShape });
    g.nodes = nodes;
    g.outputs.push({ name: nodes[nodes.length - 1].outputs[0] });
    for (const [k, t] of Object.entries(floats)) g.initializers.set(k, t);
    for (const [k, v] of Object.entries(ints)) g.intConstants.set(k, Array.isArray(v) ? { ints: v, shape: [v.length] } : v);
    return g;
  };
  const n = (op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = ['y']): Node => ({ name: `${op}_0`, op, inputs, outputs, attrs });
  return [
    mk([1, 2, 5, 5], [n('Conv', ['x', 'W', 'B'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] })], { W: w([3, 2, 3, 3]), B: w([3]) }),
    mk([1, 4, 6, 6], [n('Conv', ['x', 'W'], { group: 4, strides: [2, 2] })], { W: w([4, 1, 3, 3]) }),
    mk([1, 2, 6, 6], [n('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2, 2] })]),
    mk([1, 2, 6, 6], [n('MaxPool', ['x'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], ceil_mode: 1 }, ['y', 'i'])]),
    mk([1, 2, 6, 6], [n('AveragePool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], count_include_pad: 1 })]),
    mk([1, 5, 3, 3], [n('LRN', ['x'], { size: 3, alpha: 1e-4, beta: 0.75, bias: 1 })]),
    mk([1, 2, 4, 4], [n('Resize', ['x', '', 's'], { mode: 'linear' })], { s: { data: Float32Array.of(1, 1, 2, 2), shape: [4] } }),
    mk([1, 2, 4, 4], [n('Resize', ['x', '', 's'], { axes: [2, 3] })], { s: { data: Float32Array.of(2, 0.5), shape: [2] } }, {}, 18),
    mk([1, 2, 4, 4], [n('Pad', ['x', 'p'], { mode: 'reflect' })], {}, { p: [0, 0, 1, 2, 0, 0, 2, 1] }),
    mk([1, 2, 4, 4], [n('Slice', ['x', 'st', 'en', 'ax', 'sp'])], {}, { st: [1, 0], en: [4, 3], ax: [2, 3], sp: [2, 1] }),
    mk([1, 2, 3, 3], [n('ConvTranspose', ['x', 'W', 'B'], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] })], { W: w([2, 3, 3, 3]), B: w([3]) }),
    mk([1, 2, 3, 3], [n('Flatten', ['x'], { axis: 1 }, ['f']), n('Gemm', ['f', 'W', 'B'], { transB: 1 })], { W: w([4, 18]), B: w([4]) }),
    mk([2, 5], [n('Softmax', ['x'], { axis: -1 })]),
    mk([1, 2, 3, 3], [n('Concat', ['x', 'x'], { axis: 1 })]),
    mk([1, 2, 3, 4], [n('Transpose', ['x'], { perm: [0, 2, 3, 1] })]),
    mk([1, 4, 3, 3], [n('Split', ['x'], { axis: 1 }, ['y', 'z'])]),
    mk([1, 2, 3, 3], [n('ReduceMean', ['x'], { axes: [2, 3], keepdims: 1 })]),
    mk([1, 3, 2, 2], [n('Gather', ['x', 'i'], { axis: 1 })], {}, { i: [2, 0] }),
    mk([1, 2, 3, 3], [n('BatchNormalization', ['x', 's', 'b', 'm', 'v'], { epsilon: 1e-5 })], { s: w([2]), b: w([2]), m: w([2]), v: w([2], () => 1) }),
    mk([1, 2, 3, 3], [n('InstanceNormalization', ['x', 's', 'b'])], { s: w([2]), b: w([2]) }),
    mk([2, 3, 4], [n('LayerNormalization', ['x', 's', 'b'], { axis: -1 })], { s: w([4]), b: w([4]) }, {}, 17),
    mk([1, 2, 3, 3], [n('Reshape', ['x', 'sh'])], {}, { sh: [1, -1] }),
    mk([1, 2, 3, 3], [n('LeakyRelu', ['x'], { alpha: 0.1 }, ['a']), n('Clip', ['a', 'lo', 'hi'])], { lo: { data: Float32Array.of(-1), shape: [] }, hi: { data: Float32Array.of(1), shape: [] } }),
    mk([1, 2, 4, 4], [n('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2, 2] }, ['p', 'i']), n('MaxUnpool', ['p', 'i'], { kernel_shape: [2, 2], strides: [2, 2] })]),
    mk([1, 2, 3, 3], [n('GlobalAveragePool', ['x'], {}, ['g']), n('Mul', ['x', 'g'])]),
    mk([1, 4, 2, 2], [n('Unsqueeze', ['x', 'a'], {}, ['u']), n('Squeeze', ['u', 'a'])], {}, { a: [0] }),
    mk([1, 2, 4, 4], [n('DeformConv', ['x', 'W', 'off'], { kernel_shape: [2, 2] })], { W: w([2, 2, 2, 2]), off: w([1, 8, 3, 3]) }, {}, 19),
    mk([1, 4, 2, 2], [n('ChannelShuffle', ['x'], { groups: 2 })]),
    // data-dependent tails (run on the host evaluator after the wasm body, issue 15)
    mk([1, 2, 4, 4], [
      n('Relu', ['x'], {}, ['a']), n('Reshape', ['a', 'flat'], {}, ['f']), n('Greater', ['f', 'thr'], {}, ['m']),
      n('NonZero', ['m'], {}, ['nz']), n('Squeeze', ['nz', 'ax'], {}, ['idx']), n('Gather', ['f', 'idx'], { axis: 0 }, ['g']),
      n('Unsqueeze', ['g', 'ax'], {}, ['row']), n('MatMul', ['row', 'col']),
    ], { thr: { data: Float32Array.of(0.1), shape: [] }, col: w([32, 1]) }, { flat: [-1], ax: [0] }),
    mk([2, 16], [n('TopK', ['x', 'k'], { axis: 1, largest: 1, sorted: 1 }, ['y', 'i'])], {}, { k: [5] }),
    mk([1, 6, 4], [n('NonMaxSuppression', ['x', 'sc', 'mo', 'iou', 'st'], { center_point_box: 0 })],
      { sc: w([1, 2, 6]), iou: { data: Float32Array.of(0.3), shape: [] }, st: { data: Float32Array.of(-0.2), shape: [] } }, { mo: [3] }),
    mk([1, 2, 6, 6], [n('RoiAlign', ['x', 'rois', 'bi'], { output_height: 2, output_width: 3, sampling_ratio: 0, spatial_scale: 0.5 })],
      { rois: { data: Float32Array.of(0, 0, 8, 6, 2, 1, 11, 11), shape: [2, 4] } }, { bi: [0, 0] }, 16),
    mk([6], [n('ScatterElements', ['x', 'si', 'x'], { axis: 0 })], {}, { si: [5, 0, 1, 3, 2, 4] }),
    // int8: QDQ and QOperator forms (src/quant/lower.ts), dynamic quantization (src/quant/dynamic.ts)
    mk([1, 3, 6, 6], [
      n('QuantizeLinear', ['x', 'sx', 'zx'], {}, ['xq']), n('DequantizeLinear', ['xq', 'sx', 'zx'], {}, ['xd']),
      n('DequantizeLinear', ['wq', 'sw', 'zw'], { axis: 0 }, ['wd']), n('Conv', ['xd', 'wd', 'B'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, ['c']),
      n('Relu', ['c'], {}, ['r']), n('QuantizeLinear', ['r', 'sy', 'zy'], {}, ['yq']), n('DequantizeLinear', ['yq', 'sy', 'zy']),
    ], { sx: w([], () => 0.02), sw: w([4], (i) => 0.01 + i * 1e-3), B: w([4]), sy: w([], () => 0.05) },
    { zx: q8([128], 'uint8'), wq: q8(Array.from({ length: 108 }, (_, i) => ((i * 37) % 255) - 127), 'int8', [4, 3, 3, 3]), zw: q8([0, 0, 0, 0], 'int8', [4]), zy: q8([0], 'uint8') }),
    mk([1, 8, 5, 5], [
      n('QuantizeLinear', ['x', 'sx', 'zx'], {}, ['xq']),
      n('QLinearConv', ['xq', 'sx', 'zx', 'wq', 'sw', 'zw', 'sy', 'zy', 'bq'], { group: 8, kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, ['cq']),
      n('QLinearAdd', ['cq', 'sy', 'zy', 'xq', 'sx', 'zx', 'sa', 'za'], {}, ['aq']),
      n('QLinearMul', ['aq', 'sa', 'za', 'xq', 'sx', 'zx', 'sy', 'zy'], {}, ['mq']),
      n('QLinearGlobalAveragePool', ['mq', 'sy', 'zy', 'sa', 'za'], { channels_last: 0 }, ['gq']), n('DequantizeLinear', ['gq', 'sa', 'za']),
    ], { sx: w([], () => 0.03), sw: w([], () => 0.02), sy: w([], () => 0.04), sa: w([], () => 0.06) },
    { zx: q8([3], 'int8'), wq: q8(Array.from({ length: 72 }, (_, i) => ((i * 53) % 255) - 127), 'int8', [8, 1, 3, 3]), zw: q8([0], 'int8'), zy: q8([-2], 'int8'), za: q8([1], 'int8'),
      bq: q8([5, -7, 100, 0, 3, -1000, 42, 9], 'int32', [8]) }),
    mk([2, 6], [
      n('QuantizeLinear', ['x', 'sx', 'zx'], {}, ['xq']), n('QLinearMatMul', ['xq', 'sx', 'zx', 'wq', 'sw', 'zw', 'sy', 'zy'], {}, ['mq']),
      n('QLinearSigmoid', ['mq', 'sy', 'zy', 'sx', 'zx'], {}, ['sq']), n('DequantizeLinear', ['sq', 'sx', 'zx']),
    ], { sx: w([], () => 0.02), sw: w([], () => 0.01), sy: w([], () => 0.05) },
    { zx: q8([120], 'uint8'), wq: q8(Array.from({ length: 18 }, (_, i) => i * 13 - 100), 'int8', [6, 3]), zw: q8([0], 'int8'), zy: q8([130], 'uint8') }),
    mk([1, 4, 5, 5], [
      n('DynamicQuantizeLinear', ['x'], {}, ['xq', 'xs', 'xz']), n('ConvInteger', ['xq', 'wq', 'xz', 'zw'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, ['acc']),
      n('Cast', ['acc'], { to: 1 }, ['af']), n('Mul', ['xs', 'sw'], {}, ['s']), n('Mul', ['af', 's'], {}, ['m']), n('Add', ['m', 'B']),
    ], { sw: w([], () => 0.01), B: w([1, 2, 1, 1]) }, { wq: q8(Array.from({ length: 72 }, (_, i) => ((i * 29) % 255) - 127), 'int8', [2, 4, 3, 3]), zw: q8([0], 'int8') }),
    mk([3, 5], [
      n('DynamicQuantizeLinear', ['x'], {}, ['xq', 'xs', 'xz']), n('MatMulInteger', ['xq', 'wq', 'xz', 'zw'], {}, ['acc']),
      n('Cast', ['acc'], { to: 1 }, ['af']), n('Mul', ['af', 'xs']),
    ], {}, { wq: q8(Array.from({ length: 20 }, (_, i) => (i * 31) % 256), 'uint8', [5, 4]), zw: q8([128], 'uint8') }),
    mk([1, 2, 3, 3], [
      n('ReduceMax', ['x'], { keepdims: 0 }, ['mx']), n('Greater', ['mx', 'zero'], {}, ['c']),
      n('If', ['c'], {
        then_branch: { inputs: [], outputs: [{ name: 't' }], nodes: [n('Relu', ['x'], {}, ['t'])] },
        else_branch: { inputs: [], outputs: [{ name: 'e' }], nodes: [n('Neg', ['x'], {}, ['e'])] },
      }),
    ], { zero: { data: Float32Array.of(0), shape: [] } }),
  ];
}

function interestingInt(r: Rng): number {
  return r.chance(0.8) ? r.pick(INTERESTING_INTS) : r.int(20) - 5;
}

function attrValue(r: Rng): AttrValue {
  switch (r.int(6)) {
    case 0:
      return interestingInt(r);
    case 1:
      return r.pick(INTERESTING_FLOATS);
    case 2:
      return r.pick(STRINGS);
    case 3:
      return [];
    default:
      return Array.from({ length: r.int(6) + 1 }, () => interestingInt(r));
  }
}

function shuffleCopy<T>(r: Rng, a: T[]): T[] {
  const b = a.slice();
  for (let i = b.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [b[i], b[j]] = [b[j], b[i]];
  }
  return b;
}

/** Apply 1-3 structural edits to a copy of `seed`. */
export function mutateGraph(r: Rng, seed: Graph): Graph {
  const g: Graph = {
    ...seed,
    inputs: seed.inputs.map((i) => ({ ...i, shape: i.shape?.slice() })),
    outputs: seed.outputs.map((o) => ({ ...o })),
    nodes: seed.nodes.map((n) => ({ ...n, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attrs: { ...n.attrs } })),
    initializers: new Map(seed.initializers),
    intConstants: new Map(seed.intConstants),
    shapes: new Map(),
  };
  const edits = 1 + r.int(3);
  for (let e = 0; e < edits; e++) {
    const n = r.pick(g.nodes);
    switch (r.int(10)) {
      case 0:
      case 1:
      case 2: {
        const key = r.chance(0.85) ? r.pick(ATTRS[n.op] ?? ANY_ATTRS) : r.pick(ANY_ATTRS);
        n.attrs[key] = attrValue(r);
        break;
      }
      case 3: {
        const keys = Object.keys(n.attrs);
        if (keys.length) delete n.attrs[r.pick(keys)];
        break;
      }
      case 4: {
        const s = g.inputs[0].shape!;
        if (r.chance(0.2)) g.inputs[0].shape = s.slice(0, r.int(s.length + 1)).concat(r.chance(0.5) ? [interestingInt(r)] : []);
        else s[r.int(s.length)] = r.chance(0.5) ? interestingInt(r) : r.int(9);
        break;
      }
      case 5: {
        const names = [...g.initializers.keys()];
        if (!names.length) break;
        const k = r.pick(names);
        const t = g.initializers.get(k)!;
        if (r.chance(0.5)) {
          const data = t.data.slice();
          if (data.length) data[r.int(data.length)] = r.pick(INTERESTING_FLOATS);
          g.initializers.set(k, { data, shape: t.shape });
        } else {
          const shape = t.shape.slice();
          if (shape.length && r.chance(0.7)) shape[r.int(shape.length)] = r.int(6);
          else shape.push(r.int(3) + 1);
          const count = shape.reduce((a, b) => a * b, 1);
          // keep data and shape consistent unless the edit is about that mismatch
          const data = count <= 4096 && r.chance(0.8) ? fill(count, (i) => t.data[i % Math.max(1, t.data.length)] ?? 0) : t.data;
          g.initializers.set(k, { data, shape });
        }
        break;
      }
      case 6: {
        const names = [...g.intConstants.keys()];
        if (!names.length) break;
        const k = r.pick(names);
        const t = g.intConstants.get(k)!;
        const ints = t.ints.slice();
        let shape = t.shape;
        if (r.chance(0.7) && ints.length) ints[r.int(ints.length)] = interestingInt(r);
        else {
          if (r.chance(0.5)) ints.push(interestingInt(r));
          else ints.pop();
          shape = [ints.length];
        }
        // quantized constants keep their 8-bit / int32 type, or get another one
        const elem = r.chance(0.15) ? r.pick([undefined, 'int8', 'uint8', 'int32'] as const) : t.elem;
        g.intConstants.set(k, { ints, shape, ...(elem ? { elem } : {}) });
        break;
      }
      case 7: {
        // wiring: read another value, a ghost, or write an existing name
        const values = ['x', ...g.initializers.keys(), ...g.intConstants.keys(), ...g.nodes.flatMap((m) => m.outputs), 'ghost', ''];
        if (r.chance(0.6) && n.inputs.length) n.inputs[r.int(n.inputs.length)] = r.pick(values);
        else if (r.chance(0.5)) n.outputs[r.int(n.outputs.length)] = r.pick(values);
        else n.inputs.push(r.pick(values));
        break;
      }
      case 8:
        if (g.nodes.length > 1) g.nodes = shuffleCopy(r, g.nodes);
        else g.opset = r.pick([1, 7, 9, 10, 11, 13, 17, 18, 19, 99]);
        break;
      default:
        g.opset = r.pick([7, 9, 10, 11, 13, 17, 18, 19]);
    }
  }
  return g;
}

/** AFL-style byte edits: bit flips, interesting bytes, truncation, insertion, duplication. */
export function mutateBytes(r: Rng, src: Uint8Array): Uint8Array {
  let b: Uint8Array = new Uint8Array(src);
  const edits = 1 + r.int(4);
  for (let e = 0; e < edits && b.length; e++) {
    switch (r.int(6)) {
      case 0:
        b[r.int(b.length)] ^= 1 << r.int(8);
        break;
      case 1:
        b[r.int(b.length)] = r.pick([0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x22, 0x08]);
        break;
      case 2:
        b = b.slice(0, r.int(b.length));
        break;
      case 3: {
        const at = r.int(b.length + 1);
        const ins = Uint8Array.from({ length: 1 + r.int(16) }, () => r.int(256));
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 4: {
        const from = r.int(b.length);
        const len = Math.min(b.length - from, 1 + r.int(64));
        const at = r.int(b.length + 1);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(from, from + len), ...b.subarray(at)]);
        break;
      }
      default: {
        // a varint-looking run: large lengths and field numbers
        const at = r.int(b.length);
        for (let i = 0; i < 5 && at + i < b.length; i++) b[at + i] = i < 4 ? 0xff : 0x0f;
      }
    }
  }
  return b;
}

/** A small valid safetensors file (the reader's format) of a few tensors, as a seed. */
export function seedSafetensors(): Uint8Array {
  const header = {
    'conv.weight': { dtype: 'F32', shape: [2, 1, 3, 3], data_offsets: [0, 72] },
    'conv.bias': { dtype: 'F16', shape: [2], data_offsets: [72, 76] },
    'fc.weight': { dtype: 'BF16', shape: [2, 2], data_offsets: [76, 84] },
    'bn.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [84, 92] },
    __metadata__: { format: 'pt' },
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + 92);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  const data = new DataView(out.buffer, 8 + json.length);
  for (let i = 0; i < 18; i++) data.setFloat32(i * 4, i / 10 - 0.5, true);
  data.setUint16(72, 0x3c00, true);
  data.setUint16(74, 0xc000, true);
  for (let i = 0; i < 4; i++) data.setUint16(76 + i * 2, 0x3f80 + i, true);
  data.setBigInt64(84, 1234n, true);
  return out;
}

const DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL', 'F8_E4M3', 'C64', 'X', ''];

/** Edit the JSON header of a safetensors file: dtypes, shapes, offsets, the length prefix. */
export function mutateSafetensors(r: Rng, src: Uint8Array): Uint8Array {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const len = view.getUint32(0, true);
  let header: Record<string, Record<string, unknown>>;
  try {
    header = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + len)));
  } catch {
    return mutateBytes(r, src);
  }
  const data = src.subarray(8 + len);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const k = r.pick(names);
  const e = header[k];
  switch (r.int(6)) {
    case 0:
      e.dtype = r.pick(DTYPES);
      break;
    case 1:
      e.shape = Array.from({ length: r.int(5) }, () => (r.chance(0.7) ? r.int(5) : interestingInt(r)));
      break;
    case 2:
      e.data_offsets = [interestingInt(r), interestingInt(r)];
      break;
    case 3:
      (e.data_offsets as number[])[r.int(2)] += r.int(9) - 4;
      break;
    case 4:
      header[r.pick(['__metadata__', 'constructor', '__proto__', 'x'])] = r.pick([{}, { a: 1 }, [], 'x', null] as never[]);
      break;
    default:
      delete header[k][r.pick(['dtype', 'shape', 'data_offsets'])];
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, r.chance(0.1) ? interestingInt(r) >>> 0 : json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return r.chance(0.2) ? mutateBytes(r, out) : out;
}

/** One fuzz case: what to load and how to feed it. */
export interface FuzzCase {
  kind: 'onnx' | 'safetensors';
  bytes: Uint8Array;
  /** Seed of the feed values (some cases get NaN, ±Infinity, huge values or a wrong shape). */
  feedSeed: number;
  /** How the case was made, for the reproducer's note. */
  origin: string;
}

/** The i-th case of a run with this seed: deterministic, independent of the other cases. */
export function makeCase(seed: number, i: number, graphs: Graph[], files: { name: string; bytes: Uint8Array }[], st: Uint8Array[]): FuzzCase {
  const r = new Rng((seed * 0x9e3779b1 + i * 0x85ebca6b) >>> 0);
  const feedSeed = r.int(2 ** 31);
  const pick = r.next();
  if (pick < 0.55) {
    const si = r.int(graphs.length);
    let g = mutateGraph(r, graphs[si]);
    let origin = `graph seed ${si} (${graphs[si].nodes.map((n) => n.op).join('+')})`;
    if (r.chance(0.3)) {
      g = mutateGraph(r, g);
      origin += ', mutated twice';
    }
    let bytes: Uint8Array;
    try {
      bytes = graphToOnnx(g);
    } catch {
      // the writer refused the edit (e.g. an attribute type it cannot encode): fuzz the seed's bytes
      bytes = mutateBytes(r, graphToOnnx(graphs[si]));
      origin += ', writer refused; bytes mutated';
    }
    if (r.chance(0.15)) {
      bytes = mutateBytes(r, bytes);
      origin += ', bytes mutated';
    }
    return { kind: 'onnx', bytes, feedSeed, origin };
  }
  if (pick < 0.85 && files.length) {
    const f = r.pick(files);
    return { kind: 'onnx', bytes: mutateBytes(r, f.bytes), feedSeed, origin: `bytes of ${f.name}` };
  }
  const s = r.pick(st);
  return { kind: 'safetensors', bytes: r.chance(0.7) ? mutateSafetensors(r, s) : mutateBytes(r, s), feedSeed, origin: 'safetensors' };
}
