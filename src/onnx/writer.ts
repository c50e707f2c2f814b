// Writes a graph IR as an ONNX ModelProto (onnx.proto, IR version 8): float initializers as
// raw little-endian FLOAT (or FLOAT16 where asked), integer constants as INT64, attributes by their JS type or, for
// the attributes ONNX declares float, as FLOAT(S) (a graph
// object, as If/Loop carry, as a GRAPH attribute), inputs and outputs typed by their dtype
// (float → FLOAT, int → INT64, bool → BOOL). Encoding is
// schema.ts's tables over proto.ts's wire writer (sizes first, then one exactly-sized buffer).
import type { AttrValue, Graph, IntTensor, Tensor, ValueInfo } from '../graph/ir';
import { floatToHalf } from '../weights/safetensors';
import { AttributeType, DataType, encodeModelProto, type AttributeMsg, type GraphMsg, type Init, type TensorMsg, type ValueInfoMsg } from './schema';

/** The parts of a graph a subgraph attribute (If's branches, Loop's body) is written from. */
type SubGraph = Pick<Graph, 'inputs' | 'outputs' | 'nodes'> & Partial<Pick<Graph, 'initializers' | 'intConstants' | 'shapes'>>;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A float32 array's little-endian bytes: a view of it on little-endian hosts (no copy). */
function f32Bytes(data: Float32Array): Uint8Array {
  if (HOST_LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.length * 4);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  return bytes;
}

/** A float32 array as little-endian binary16 bytes (rounded to nearest, ties to even). */
function f16Bytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 2);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) dv.setUint16(i * 2, floatToHalf(data[i]), true);
  return bytes;
}

function tensorMsg(name: string, t: Tensor | IntTensor, half?: boolean): Init<TensorMsg> {
  if ('data' in t) {
    return half
      ? { name, dims: t.shape, data_type: DataType.FLOAT16, raw_data: f16Bytes(t.data) }
      : { name, dims: t.shape, data_type: DataType.FLOAT, raw_data: f32Bytes(t.data) };
  }
  // quantized constants keep their element type (int8/uint8 weights and zero points, int32 biases)
  if (t.elem === 'int8') return { name, dims: t.shape, data_type: DataType.INT8, raw_data: Uint8Array.from(t.ints, (v) => v & 0xff) };
  if (t.elem === 'uint8') return { name, dims: t.shape, data_type: DataType.UINT8, raw_data: Uint8Array.from(t.ints) };
  if (t.elem === 'int32') return { name, dims: t.shape, data_type: DataType.INT32, int32_data: t.ints };
  return { name, dims: t.shape, data_type: DataType.INT64, int64_data: t.ints };
}

/**
 * Attributes the ONNX operators declare FLOAT (Gemm's alpha and beta, the norms' epsilon and
 * momentum, LeakyRelu's alpha, LRN's bias, Clip-6's min, RoiAlign's spatial_scale, ...) and
 * FLOATS: written so even when the value is a whole number (a graph keeps numbers untyped; an
 * INT alpha = 1 is an invalid model to onnxruntime). ('seed' is not among them: Dropout's is an
 * int, RandomNormal's a float.)
 */
const FLOAT_ATTRS = new Set(['alpha', 'beta', 'gamma', 'epsilon', 'momentum', 'bias', 'lambd', 'ratio', 'spatial_scale', 'cubic_coeff_a', 'extrapolation_value', 'value_float', 'value', 'min', 'max', 'mean', 'scale']);
const FLOATS_ATTRS = new Set(['scales', 'value_floats']);

function attrMsg(name: string, v: AttrValue | SubGraph): Init<AttributeMsg> {
  if (typeof v === 'object' && !Array.isArray(v) && 'nodes' in v) return { name, type: AttributeType.GRAPH, g: graphMsg(v, name) };
  if (typeof v === 'number')
    return Number.isInteger(v) && !Object.is(v, -0) && !FLOAT_ATTRS.has(name) ? { name, type: AttributeType.INT, i: v } : { name, type: AttributeType.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string'))
      return { name, type: AttributeType.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    const nums = v as number[];
    return nums.every((x) => Number.isInteger(x)) && !FLOATS_ATTRS.has(name)
      ? { name, type: AttributeType.INTS, ints: nums }
      : { name, type: AttributeType.FLOATS, floats: nums };
  }
  return { name, type: AttributeType.TENSOR, t: tensorMsg('', v) };
}

const ELEM_TYPE = { float: DataType.FLOAT, int: DataType.INT64, bool: DataType.BOOL } as const;

function valueInfo(name: string, shape: number[] | undefined, dtype: ValueInfo['dtype'] = 'float'): Init<ValueInfoMsg> {
  const elemType = ELEM_TYPE[dtype];
  return {
    name,
    // a dim of -1 (dynamic) is written as a symbolic dim_param
    type: { tensor_type: { elem_type: elemType, shape: shape ? { dim: shape.map((d, j) => (d >= 0 ? { dim_value: d } : { dim_param: `${name}_dim${j}` })) } : undefined } },
  };
}

function graphMsg(g: SubGraph, name: string, half?: ReadonlySet<string>): Init<GraphMsg> {
  return {
    name,
    node: g.nodes.map((n) => ({
      name: n.name,
      op_type: n.op,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs).map(([k, v]) => attrMsg(k, v)),
    })),
    initializer: [
      ...[...(g.initializers ?? [])].map(([k, t]) => tensorMsg(k, t, half?.has(k))),
      ...[...(g.intConstants ?? [])].map(([k, t]) => tensorMsg(k, t)),
    ],
    input: g.inputs.map((i) => valueInfo(i.name, i.shape, i.dtype)),
    output: g.outputs.map((o) => valueInfo(o.name, o.shape ?? g.shapes?.get(o.name), o.dtype)),
  };
}

/**
 * Encode a graph (nodes in ONNX semantics, no wasmcnn-internal ops) as ONNX bytes; the float
 * initializers named in `half` are stored as FLOAT16 (the graph must Cast them where it needs float).
 */
export function graphToOnnx(g: Graph, producer = 'wasmcnn', half?: ReadonlySet<string>): Uint8Array {
  return encodeModelProto({
    ir_version: 8,
    producer_name: producer,
    opset_import: [{ domain: '', version: g.opset }],
    graph: graphMsg(g, 'wasmcnn', half),
  });
}
