// ONNX model reader: ModelProto bytes → the graph IR (src/graph/ir.ts).
//
// Spec: ONNX IR (onnx/onnx.proto, docs/IR.md) and the operator spec for Constant
// (docs/Operators.md#Constant). Tensor data follows onnx.proto's TensorProto rules: raw_data is
// little-endian, row-major; otherwise the typed field for the data type holds one entry per
// element (float_data: FLOAT; int32_data: INT32/INT16/INT8/UINT16/UINT8/BOOL and the bit
// patterns of FLOAT16/BFLOAT16; int64_data: INT64; double_data: DOUBLE; uint64_data:
// UINT32/UINT64).
//
// Representation in the IR:
// - Float tensors (FLOAT, FLOAT16, BFLOAT16, DOUBLE) → Tensor (Float32Array; f16/bf16 widened
//   exactly, f64 rounded to nearest f32). Integer and BOOL tensors → IntTensor (number[]; BOOL as
//   0/1). int64/uint64 values beyond ±(2^53 − 1) clamp to ±Number.MAX_SAFE_INTEGER (e.g. Slice's
//   INT64_MAX "to the end" stays a huge positive number), never wrap: the wire decoder
//   (proto.ts) clamps varints, decodeRaw clamps raw_data.
// - The protobuf decoding itself is schema.ts's tables over proto.ts's wire codec (no generated
//   code, so strict Content-Security-Policy pages can load models); raw_data arrives as a view of
//   the file's bytes and is copied once, into the tensor's Float32Array.
// - Initializers and Constant nodes go to `graph.initializers` (float) or `graph.intConstants`
//   (int/bool); Constant nodes are dropped from `graph.nodes`.
// - Attributes: FLOAT/INT → number, STRING → string (UTF-8), FLOATS/INTS → number[],
//   STRINGS → string[], TENSOR → Tensor | IntTensor, GRAPH (If's branches, Loop's body) →
//   SubGraph, parsed and checked like the main graph, recursively (at most MAX_SUBGRAPH_DEPTH
//   deep); its nodes may read the enclosing graphs' values (docs/IR.md, "Names Within a
//   Graph": outer names must be defined before the node). GRAPHS, TENSORS, SPARSE_TENSOR(S),
//   TYPE_PROTO(S) and function attribute references → UnsupportedOpError.
// - Nodes are returned in a topological order (the file's order when it already is one); a node
//   with subgraphs is ordered after the producers of the outer values they read.

import { FormatError, UnsupportedOpError, WasmCnnError } from '../errors';
import { emptyGraph, fileInts, fileTensor, type AttrValue, type Graph, type IntTensor, type Node, type SubGraph, type Tensor, type ValueInfo } from '../graph/ir';
import { bfloat16ToFloat, halfToFloat } from '../weights/safetensors';
import { int64FromHalves, messageStream, type MessageStream } from './proto';
import {
  AttributeType,
  DataLocation,
  DataType,
  decodeTensorProto,
  ModelProto,
  type AttributeMsg,
  type GraphMsg,
  type ModelMsg,
  type NodeMsg,
  type TensorMsg,
  type ValueInfoMsg,
} from './schema';

/** A parsed ONNX model. */
export interface OnnxModel {
  graph: Graph;
  /** Opset version of the default domain ('' / 'ai.onnx'); 1 if the file declares none. */
  opset: number;
  irVersion: number;
  producer: string;
}

/** The element kind of a decoded tensor. */
export type TensorKind = 'float' | 'int' | 'bool';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8Decoder = new TextDecoder('utf-8');

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function utf8(b: Uint8Array | undefined): string {
  if (!b || b.length === 0) return '';
  return utf8Decoder.decode(b);
}

/** Set an own enumerable property (safe for keys like `__proto__`). */
function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

// ---- Data types -------------------------------------------------------------------------------

interface DtypeInfo {
  name: string;
  size: number;
  kind: TensorKind;
}

const DTYPES: ReadonlyMap<number, DtypeInfo> = new Map([
  [DataType.FLOAT, { name: 'FLOAT', size: 4, kind: 'float' }],
  [DataType.FLOAT16, { name: 'FLOAT16', size: 2, kind: 'float' }],
  [DataType.BFLOAT16, { name: 'BFLOAT16', size: 2, kind: 'float' }],
  [DataType.DOUBLE, { name: 'DOUBLE', size: 8, kind: 'float' }],
  [DataType.INT64, { name: 'INT64', size: 8, kind: 'int' }],
  [DataType.INT32, { name: 'INT32', size: 4, kind: 'int' }],
  [DataType.INT16, { name: 'INT16', size: 2, kind: 'int' }],
  [DataType.INT8, { name: 'INT8', size: 1, kind: 'int' }],
  [DataType.UINT8, { name: 'UINT8', size: 1, kind: 'int' }],
  [DataType.UINT16, { name: 'UINT16', size: 2, kind: 'int' }],
  [DataType.UINT32, { name: 'UINT32', size: 4, kind: 'int' }],
  [DataType.UINT64, { name: 'UINT64', size: 8, kind: 'int' }],
  [DataType.BOOL, { name: 'BOOL', size: 1, kind: 'bool' }],
]);

function dataTypeName(t: number): string {
  for (const [k, v] of Object.entries(DataType)) if (v === t) return k;
  return `#${t}`;
}

/** The element kind of a value's ONNX elem_type, if wasmcnn represents it. */
function kindOf(elemType: number): TensorKind | undefined {
  return DTYPES.get(elemType)?.kind;
}

// ---- Tensors ----------------------------------------------------------------------------------

interface Decoded {
  tensor: Tensor | IntTensor;
  dtype: TensorKind;
}

function decodeRaw(raw: Uint8Array, dt: number, count: number): Float32Array | number[] {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dt === DataType.FLOAT) {
    const out = new Float32Array(count);
    if (HOST_LITTLE_ENDIAN) new Uint8Array(out.buffer).set(raw.subarray(0, count * 4));
    else for (let i = 0; i < count; i++) out[i] = v.getFloat32(i * 4, true);
    return out;
  }
  if (dt === DataType.FLOAT16 || dt === DataType.BFLOAT16 || dt === DataType.DOUBLE) {
    const out = new Float32Array(count);
    if (dt === DataType.FLOAT16) for (let i = 0; i < count; i++) out[i] = halfToFloat(v.getUint16(i * 2, true));
    else if (dt === DataType.BFLOAT16) for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat(v.getUint16(i * 2, true));
    else for (let i = 0; i < count; i++) out[i] = v.getFloat64(i * 8, true);
    return out;
  }
  const out = new Array<number>(count);
  switch (dt) {
    case DataType.INT64:
      for (let i = 0; i < count; i++) out[i] = int64FromHalves(v.getUint32(i * 8, true), v.getUint32(i * 8 + 4, true), false);
      break;
    case DataType.UINT64:
      for (let i = 0; i < count; i++) out[i] = int64FromHalves(v.getUint32(i * 8, true), v.getUint32(i * 8 + 4, true), true);
      break;
    case DataType.INT32:
      for (let i = 0; i < count; i++) out[i] = v.getInt32(i * 4, true);
      break;
    case DataType.UINT32:
      for (let i = 0; i < count; i++) out[i] = v.getUint32(i * 4, true);
      break;
    case DataType.INT16:
      for (let i = 0; i < count; i++) out[i] = v.getInt16(i * 2, true);
      break;
    case DataType.UINT16:
      for (let i = 0; i < count; i++) out[i] = v.getUint16(i * 2, true);
      break;
    case DataType.INT8:
      for (let i = 0; i < count; i++) out[i] = v.getInt8(i);
      break;
    case DataType.UINT8:
      for (let i = 0; i < count; i++) out[i] = v.getUint8(i);
      break;
    case DataType.BOOL:
      for (let i = 0; i < count; i++) out[i] = v.getUint8(i) !== 0 ? 1 : 0;
      break;
  }
  return out;
}

/** The typed field that holds `dt`'s values when raw_data is absent, and how to read one entry. */
function typedField(t: TensorMsg, dt: number): { field: string; values: ArrayLike<number>; get: (x: number) => number } {
  const num = (x: number): number => x;
  switch (dt) {
    case DataType.FLOAT:
      return { field: 'float_data', values: t.float_data, get: num };
    case DataType.DOUBLE:
      return { field: 'double_data', values: t.double_data, get: num };
    case DataType.FLOAT16:
      return { field: 'int32_data', values: t.int32_data, get: (x) => halfToFloat(x & 0xffff) };
    case DataType.BFLOAT16:
      return { field: 'int32_data', values: t.int32_data, get: (x) => bfloat16ToFloat(x & 0xffff) };
    case DataType.INT64:
      return { field: 'int64_data', values: t.int64_data, get: num };
    case DataType.UINT32:
    case DataType.UINT64:
      return { field: 'uint64_data', values: t.uint64_data, get: num };
    case DataType.BOOL:
      return { field: 'int32_data', values: t.int32_data, get: (x) => (x !== 0 ? 1 : 0) };
    default: // INT32, INT16, INT8, UINT16, UINT8
      return { field: 'int32_data', values: t.int32_data, get: num };
  }
}

/**
 * Decode a TensorProto. `what` describes it for error messages ("initializer 'W'").
 * Validates the element count against the dims before allocating anything.
 */
function decodeTensor(t: TensorMsg, what: string): Decoded {
  if (t.data_location === DataLocation.EXTERNAL || (t.external_data && t.external_data.length > 0)) {
    throw new FormatError(`${what} uses external data, which is not supported: save the model with its weights embedded in the .onnx file`);
  }
  if (t.segment) throw new FormatError(`${what} is a segment of a larger tensor, which is not supported`);
  const dt = t.data_type ?? DataType.UNDEFINED;
  const info = DTYPES.get(dt);
  if (!info) {
    throw new FormatError(
      dt === DataType.UNDEFINED ? `${what} has no data type` : `${what} has data type ${dataTypeName(dt)}, which wasmcnn does not support`,
    );
  }
  const shape: number[] = [];
  let count = 1;
  for (const n of t.dims) {
    if (n < 0 || n >= MAX_SAFE) throw new FormatError(`${what} has an invalid dimension ${n} in its dims`);
    shape.push(n);
    count *= n;
  }
  const shapeText = `[${shape.join(', ')}]`;
  const raw = t.raw_data;
  let data: Float32Array | number[];
  if (raw && raw.length > 0) {
    const expected = count * info.size;
    if (raw.length !== expected) {
      throw new FormatError(`${what}: raw_data holds ${raw.length} bytes, but ${info.name} ${shapeText} needs ${expected}`);
    }
    if (!(raw instanceof Uint8Array)) throw new FormatError(`${what}: raw_data is not a byte string`);
    // float32 weights stay in the file's bytes until something reads them: packing copies them
    // straight into wasm memory (Mem.putTensor)
    if (dt === DataType.FLOAT && HOST_LITTLE_ENDIAN) return { tensor: fileTensor(raw, shape), dtype: 'float' };
    // 8-bit (quantized) weights likewise: the int8 lowering reads the bytes (intBytes)
    if (dt === DataType.INT8 || dt === DataType.UINT8) {
      const view = dt === DataType.INT8 ? new Int8Array(raw.buffer, raw.byteOffset, count) : raw.subarray(0, count);
      return { tensor: fileInts(view, shape, dt === DataType.INT8 ? 'int8' : 'uint8'), dtype: 'int' };
    }
    data = decodeRaw(raw, dt, count);
  } else {
    const { field, values, get } = typedField(t, dt);
    const n = values ? values.length : 0;
    if (n !== count) {
      throw new FormatError(
        n === 0 && count > 0
          ? `${what} has no data (${info.name} ${shapeText} needs ${count} values)`
          : `${what}: ${field} holds ${n} values, but ${info.name} ${shapeText} needs ${count}`,
      );
    }
    if (dt === DataType.FLOAT) {
      data = t.float_data; // already a Float32Array of its own, decoded once
    } else if (info.kind === 'float') {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = get(values[i]);
      data = out;
    } else {
      const out = new Array<number>(count);
      for (let i = 0; i < count; i++) out[i] = get(values[i]);
      data = out;
    }
  }
  if (info.kind === 'float') return { tensor: { data: data as Float32Array, shape }, dtype: 'float' };
  const ints: IntTensor = { ints: data as number[], shape };
  if (dt === DataType.INT8) ints.elem = 'int8';
  else if (dt === DataType.UINT8) ints.elem = 'uint8';
  return { tensor: ints, dtype: info.kind };
}

// ---- Attributes -------------------------------------------------------------------------------

/** The attribute's type, inferred from the fields present when the file leaves it UNDEFINED. */
function attrType(a: AttributeMsg): number {
  if (a.type) return a.type;
  if (a.floats.length) return AttributeType.FLOATS;
  if (a.ints.length) return AttributeType.INTS;
  if (a.strings.length) return AttributeType.STRINGS;
  if (a.tensors.length) return AttributeType.TENSORS;
  if (a.graphs.length) return AttributeType.GRAPHS;
  if (a.t) return AttributeType.TENSOR;
  if (a.g) return AttributeType.GRAPH;
  if (a.s !== undefined) return AttributeType.STRING;
  if (a.i !== undefined) return AttributeType.INT;
  if (a.f !== undefined) return AttributeType.FLOAT;
  return AttributeType.UNDEFINED;
}

/** Subgraphs nested deeper than this (If inside Loop inside If ...) are refused. */
export const MAX_SUBGRAPH_DEPTH = 16;

/** Values a subgraph reads from its enclosing graphs (its free names), by the SubGraph object. */
type Free = Map<SubGraph, Set<string>>;

function decodeAttr(a: AttributeMsg, node: string, op: string, opset = 0, depth = 0, free: Free = new Map()): AttrValue {
  const what = `attribute '${a.name ?? ''}' of node '${node}'`;
  if (a.ref_attr_name) {
    throw new UnsupportedOpError(op, node, `attribute '${a.name}' refers to function attribute '${a.ref_attr_name}'`);
  }
  const type = attrType(a);
  switch (type) {
    case AttributeType.FLOAT:
      return a.f ?? 0;
    case AttributeType.INT:
      return a.i ?? 0;
    case AttributeType.STRING:
      return utf8(a.s);
    case AttributeType.TENSOR:
      if (!a.t) throw new FormatError(`${what} is of type TENSOR but holds no tensor`);
      return decodeTensor(a.t, `tensor ${what}`).tensor;
    case AttributeType.FLOATS:
      return Array.from(a.floats);
    case AttributeType.INTS:
      return a.ints.slice();
    case AttributeType.STRINGS:
      return a.strings.map(utf8);
    case AttributeType.GRAPH: {
      if (!a.g) throw new FormatError(`${what} is of type GRAPH but holds no graph`);
      if (depth >= MAX_SUBGRAPH_DEPTH) throw new FormatError(`${what}: subgraphs nested deeper than ${MAX_SUBGRAPH_DEPTH} levels`);
      const { g, outer } = buildGraph(a.g, opset, depth + 1);
      const sg: SubGraph = { inputs: g.inputs, outputs: g.outputs, nodes: g.nodes, initializers: g.initializers, intConstants: g.intConstants };
      free.set(sg, outer);
      return sg;
    }
    case AttributeType.GRAPHS:
    case AttributeType.TENSORS:
    case AttributeType.SPARSE_TENSOR:
    case AttributeType.SPARSE_TENSORS:
    case AttributeType.TYPE_PROTO:
    case AttributeType.TYPE_PROTOS: {
      const tn = Object.entries(AttributeType).find(([, v]) => v === type)?.[0];
      throw new UnsupportedOpError(op, node, `attribute '${a.name}' of type ${tn} is not supported`);
    }
    case AttributeType.UNDEFINED:
      throw new FormatError(`${what} has no type and no value`);
    default:
      throw new FormatError(`${what} has unknown attribute type ${type}`);
  }
}

// ---- Graph ------------------------------------------------------------------------------------

function valueInfo(v: ValueInfoMsg, role: string): ValueInfo {
  if (!v.name) throw new FormatError(`a graph ${role} has no name`);
  const info: ValueInfo = { name: v.name };
  const tt = v.type?.tensor_type;
  if (tt) {
    const kind = kindOf(tt.elem_type ?? DataType.UNDEFINED);
    if (kind) info.dtype = kind;
    if (tt.shape) {
      info.shape = tt.shape.dim.map((d) => (d.dim_value !== undefined && d.dim_value >= 0 ? d.dim_value : -1));
    }
  }
  return info;
}

/** The Constant node's value, per the Constant operator spec (exactly one value attribute). */
function constantValue(n: NodeMsg, name: string): Decoded {
  const attrs = n.attribute;
  if (attrs.length !== 1) {
    throw new FormatError(`Constant node '${name}' must have exactly one value attribute, has ${attrs.length}`);
  }
  const a = attrs[0];
  const v = decodeAttr(a, name, 'Constant');
  switch (a.name) {
    case 'value':
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        return 'data' in v ? { tensor: v, dtype: 'float' } : { tensor: v as IntTensor, dtype: a.t?.data_type === DataType.BOOL ? 'bool' : 'int' };
      }
      break;
    case 'value_float':
      if (typeof v === 'number') return { tensor: { data: Float32Array.of(v), shape: [] }, dtype: 'float' };
      break;
    case 'value_floats':
      if (Array.isArray(v)) return { tensor: { data: Float32Array.from(v as number[]), shape: [v.length] }, dtype: 'float' };
      break;
    case 'value_int':
      if (typeof v === 'number') return { tensor: { ints: [v], shape: [] }, dtype: 'int' };
      break;
    case 'value_ints':
      if (Array.isArray(v)) return { tensor: { ints: (v as number[]).slice(), shape: [v.length] }, dtype: 'int' };
      break;
    case 'value_string':
    case 'value_strings':
    case 'sparse_value':
      throw new UnsupportedOpError('Constant', name, `attribute '${a.name}' is not supported`);
    default:
      throw new FormatError(`Constant node '${name}' has unknown attribute '${a.name}'`);
  }
  throw new FormatError(`Constant node '${name}': attribute '${a.name}' has the wrong type`);
}

/** Order nodes so every node follows the producers of its inputs (stable when already sorted). */
function topoSort(nodes: Node[], available: Set<string>, reads: (n: Node) => string[]): Node[] {
  const known = new Set(available);
  let sorted = true;
  for (const n of nodes) {
    if (reads(n).some((i) => i !== '' && !known.has(i))) {
      sorted = false;
      break;
    }
    for (const o of n.outputs) if (o !== '') known.add(o);
  }
  if (sorted) return nodes;

  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o !== '' && producer.set(o, i)));
  const pending = new Array<number>(nodes.length).fill(0);
  const consumers: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const inp of reads(n)) {
      const p = inp === '' || available.has(inp) ? undefined : producer.get(inp);
      if (p !== undefined) {
        pending[i]++;
        consumers[p].push(i);
      }
    }
  });
  const queue: number[] = [];
  pending.forEach((c, i) => c === 0 && queue.push(i));
  const out: Node[] = [];
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q];
    out.push(nodes[i]);
    for (const c of consumers[i]) if (--pending[c] === 0) queue.push(c);
  }
  if (out.length !== nodes.length) {
    const stuck = nodes.find((_, i) => pending[i] > 0);
    throw new FormatError(`ONNX graph has a cycle through node '${stuck?.name}'`);
  }
  return out;
}

/**
 * onnxruntime's contrib ops (domain com.microsoft) that its quantizer writes in QOperator models:
 * read as ops of the same name (src/quant lowers the ones it runs into int8 steps).
 */
const MS_QUANT_OPS = new Set(['QLinearAdd', 'QLinearMul', 'QLinearGlobalAveragePool', 'QLinearSigmoid', 'QLinearConcat', 'QLinearLeakyRelu', 'QLinearAveragePool']);

/**
 * The graph of `gm`, checked. At depth 0 (the model's graph) every value read must be defined in
 * it; in a subgraph (depth > 0) the names read but not defined are returned as `outer`, for the
 * enclosing graph to check and order by.
 */
function buildGraph(gm: GraphMsg, opset: number, depth = 0): { g: Graph; outer: Set<string> } {
  const g = emptyGraph();
  g.opset = opset;
  const constants = new Set<string>();
  const addConstant = (name: string, d: Decoded, what: string): void => {
    if (!name) throw new FormatError(`${what} has no name`);
    if (constants.has(name)) throw new FormatError(`${what}: the name '${name}' is defined twice`);
    constants.add(name);
    if (d.dtype === 'float') g.initializers.set(name, d.tensor as Tensor);
    else g.intConstants.set(name, d.tensor as IntTensor);
  };

  for (const t of gm.initializer) {
    const name = t.name ?? '';
    addConstant(name, decodeTensor(t, `initializer '${name}'`), 'an initializer');
  }
  const sparse = new Set(gm.sparse_initializer.map((s) => s.values?.name ?? ''));

  for (const v of gm.input) {
    if (v.name !== undefined && constants.has(v.name)) continue; // an initializer with a default: a constant for wasmcnn
    const info = valueInfo(v, 'input');
    g.inputs.push(info);
  }
  for (const v of gm.output) g.outputs.push(valueInfo(v, 'output'));
  if (g.outputs.length === 0 && !depth) throw new FormatError('ONNX graph has no outputs');
  for (const v of [...g.inputs, ...g.outputs]) {
    if (v.shape && v.shape.every((d) => d >= 0)) g.shapes.set(v.name, v.shape.slice());
  }

  const usedNames = new Set<string>();
  const nodes: Node[] = [];
  const free: Free = new Map();
  // what a node reads: its inputs, and the outer values its subgraphs read
  const reads = (n: Node): string[] => {
    const r = n.inputs.slice();
    for (const v of Object.values(n.attrs)) {
      const f = free.get(v as SubGraph);
      if (f) r.push(...f);
    }
    return r;
  };
  gm.node.forEach((n, index) => {
    const op = n.op_type;
    if (!op) throw new FormatError(`node #${index}${n.name ? ` '${n.name}'` : ''} has no op_type`);
    let name = n.name ?? '';
    if (!name || usedNames.has(name)) {
      const base = name ? `${name}_${index}` : `${op}_${index}`;
      name = base;
      for (let k = 2; usedNames.has(name); k++) name = `${base}_${k}`;
    }
    usedNames.add(name);
    if (n.domain && n.domain !== 'ai.onnx' && !(n.domain === 'com.microsoft' && MS_QUANT_OPS.has(op))) {
      throw new UnsupportedOpError(op, name, `operator domain '${n.domain}' is not supported (only the default ONNX domain and onnxruntime's quantized ops)`);
    }
    if (op === 'Constant') {
      const outs = n.output.filter((o) => o !== '');
      if (outs.length !== 1) throw new FormatError(`Constant node '${name}' must have exactly one output`);
      addConstant(outs[0], constantValue(n, name), `output of Constant node '${name}'`);
      return;
    }
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute) {
      if (!a.name) throw new FormatError(`node '${name}' (${op}) has an attribute without a name`);
      if (hasOwn(attrs, a.name)) throw new FormatError(`node '${name}' (${op}) has attribute '${a.name}' twice`);
      setOwn(attrs, a.name, decodeAttr(a, name, op, opset, depth, free));
    }
    nodes.push({ name, op, inputs: n.input, outputs: n.output, attrs });
  });

  // Every value has exactly one producer, and everything read is produced somewhere.
  const available = new Set<string>([...g.inputs.map((v) => v.name), ...constants]);
  const produced = new Set<string>(available);
  const seenInputs = new Set<string>();
  for (const v of g.inputs) {
    if (seenInputs.has(v.name)) throw new FormatError(`graph input '${v.name}' is listed twice`);
    seenInputs.add(v.name);
  }
  for (const n of nodes) {
    for (const o of n.outputs) {
      if (o === '') continue;
      if (produced.has(o)) throw new FormatError(`value '${o}' is produced twice (again by node '${n.name}' (${n.op}))`);
      produced.add(o);
    }
  }
  const outer = new Set<string>();
  for (const n of nodes) {
    for (const i of reads(n)) {
      if (i === '' || produced.has(i)) continue;
      if (sparse.has(i)) {
        throw new FormatError(`node '${n.name}' (${n.op}) reads sparse initializer '${i}'; sparse initializers are not supported`);
      }
      if (depth) outer.add(i);
      else throw new FormatError(`node '${n.name}' (${n.op}) reads '${i}', which no node, graph input or initializer produces`);
    }
  }
  for (const o of g.outputs) {
    if (produced.has(o.name)) continue;
    if (depth) outer.add(o.name); // a branch may return an outer value as it is
    else throw new FormatError(`graph output '${o.name}' is not produced by any node, input or initializer`);
  }
  g.nodes = topoSort(nodes, available, reads);
  return { g, outer };
}

// ---- Entry points -----------------------------------------------------------------------------

/** ModelProto fields and their wire types: a real model starts with one of these tags. */
const MODEL_FIELD_WIRE: ReadonlyMap<number, number> = new Map([
  [1, 0], [2, 2], [3, 2], [4, 2], [5, 0], [6, 2], [7, 2], [8, 2], [14, 2], [20, 2], [25, 2],
]);

/** Does the buffer start with a ModelProto field tag? (Rejects PNGs, safetensors, text, ...) */
function startsLikeModel(b: Uint8Array): boolean {
  let tag = 0;
  for (let i = 0, shift = 0; i < 5 && i < b.length; i++, shift += 7) {
    tag += (b[i] & 0x7f) * 2 ** shift;
    if ((b[i] & 0x80) === 0) {
      return MODEL_FIELD_WIRE.get(Math.floor(tag / 8)) === tag % 8;
    }
  }
  return false;
}

function looksLikeSafetensors(b: Uint8Array): boolean {
  return b.length > 9 && b[8] === 0x7b && b[4] === 0 && b[5] === 0 && b[6] === 0 && b[7] === 0;
}

function corrupted(kind: string, e: unknown): FormatError {
  const detail = e instanceof Error ? e.message : String(e);
  return new FormatError(`${kind} is truncated or corrupted: ${detail}`);
}

function toBytes(bytes: Uint8Array | ArrayBuffer, what: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new FormatError(`${what}: expected a Uint8Array or ArrayBuffer`);
}

/** An ONNX model parsed while its bytes arrive (see {@link onnxStream}). */
export interface OnnxStream {
  /** More bytes arrived: `buf` holds the file from its first byte, `loaded` of them so far. */
  feed(buf: Uint8Array, loaded: number): void;
  /** All bytes arrived: the model, exactly as {@link parseOnnx} gives it (or throws) for them. */
  finish(bytes: Uint8Array | ArrayBuffer): OnnxModel;
  /** Bytes decoded so far (-1 once malformed bytes stopped it: finish then throws parseOnnx's error). */
  decoded(): number;
}

/**
 * Parse an ONNX model while it downloads: each feed decodes the protobuf fields whose bytes are
 * all present, entering the graph as soon as its header is (so nodes and initializers decode as
 * they arrive, the weights as views, never copies); finish decodes what is left, checks the file
 * and builds the graph. Buffers may be replaced between feeds (a growing download buffer): views
 * end up in the final one. Malformed or truncated bytes throw parseOnnx's error, from finish.
 */
export function onnxStream(): OnnxStream {
  const s = messageStream<ModelMsg>(ModelProto, 'ONNX file', new Set(['graph']));
  return { feed: s.feed, decoded: s.decoded, finish: (bytes) => finishModel(toBytes(bytes, 'parseOnnx'), s) };
}

/**
 * Parse an ONNX model file (a serialized ModelProto) into the graph IR.
 *
 * @throws FormatError for anything that is not a well-formed, self-consistent ONNX model
 *   (with "not an ONNX model" for empty/foreign files, "ONNX file is truncated or corrupted"
 *   for protobuf damage, or a message naming the offending tensor/node/value).
 * @throws UnsupportedOpError for nodes outside the default domain and attribute kinds wasmcnn
 *   does not represent (GRAPHS, TENSORS, sparse tensors, type protos).
 */
export function parseOnnx(bytes: Uint8Array | ArrayBuffer): OnnxModel {
  return onnxStream().finish(bytes);
}

function finishModel(b: Uint8Array, s: MessageStream<ModelMsg>): OnnxModel {
  if (b.length === 0) throw new FormatError('not an ONNX model: the file is empty');
  if (looksLikeSafetensors(b) && !startsLikeModel(b)) {
    throw new FormatError('not an ONNX model: this looks like a safetensors file (use loadSafetensors)');
  }
  if (!startsLikeModel(b)) throw new FormatError('not an ONNX model: the bytes do not start with a ModelProto field');
  let m: ModelMsg;
  try {
    m = s.finish(b);
  } catch (e) {
    if (e instanceof WasmCnnError) throw e;
    throw corrupted('ONNX file', e);
  }
  if (!m.graph) throw new FormatError('not an ONNX model: it has no graph (ModelProto.graph is missing)');
  try {
    let opset = 1;
    for (const o of m.opset_import) {
      if (!o.domain || o.domain === 'ai.onnx') opset = o.version ?? 1;
    }
    return {
      graph: buildGraph(m.graph, opset).g,
      opset,
      irVersion: m.ir_version ?? 0,
      producer: m.producer_version ? `${m.producer_name ?? ''} ${m.producer_version}` : m.producer_name ?? '',
    };
  } catch (e) {
    if (e instanceof WasmCnnError) throw e;
    throw corrupted('ONNX file', e); // a decoded message of an unexpected form
  }
}

/**
 * Read a serialized TensorProto (e.g. the ONNX test suite's `test_data_set_0/input_0.pb`).
 * Float data types become a Tensor, integer and BOOL ones an IntTensor (BOOL as 0/1).
 *
 * @throws FormatError for malformed bytes, external data, unsupported data types or a data
 *   length that does not match the dims.
 */
export function readTensorProto(bytes: Uint8Array | ArrayBuffer): { name: string; tensor: Tensor | IntTensor; dtype: TensorKind } {
  const b = toBytes(bytes, 'readTensorProto');
  let t: TensorMsg;
  try {
    t = decodeTensorProto(b);
  } catch (e) {
    if (e instanceof WasmCnnError) throw e;
    throw corrupted('TensorProto file', e);
  }
  try {
    const name = t.name ?? '';
    const d = decodeTensor(t, `tensor '${name}'`);
    return { name, tensor: d.tensor, dtype: d.dtype };
  } catch (e) {
    if (e instanceof WasmCnnError) throw e;
    throw corrupted('TensorProto file', e);
  }
}
