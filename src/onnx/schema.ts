// The subset of the ONNX protobuf schema wasmcnn reads and writes, as message tables for the
// wire codec in proto.ts (no generated code, no protobufjs).
//
// Spec: onnx/onnx.proto (ONNX IR, proto2 syntax), https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
// and docs/IR.md. Message names, field names, field numbers and enum values below are those of the
// public spec; fields wasmcnn never needs (training info, functions, quantization annotations,
// non-tensor TypeProto variants, AttributeProto.tp/type_protos, ...) are left out, so the decoder
// skips them as unknown fields.
//
// Repeated scalars: onnx.proto declares TensorProto's *_data fields `[packed = true]` and leaves
// the rest (dims, AttributeProto.floats/ints, SparseTensorProto.dims) unpacked, as proto2 does by
// default. The tables say the same, which only matters for encoding: the decoder accepts both
// encodings for every repeated scalar field, as the protobuf spec asks.
//
// Decoded values: int64/uint64 → number (clamped to ±Number.MAX_SAFE_INTEGER beyond 2^53),
// int32/enum → number, float/double repeated → Float32Array/Float64Array, bytes → a view into the
// input, string → string. Absent optional fields are `undefined`; repeated fields are always set.

import { Kind, decodeMessage, encodeMessage, type FieldSpec, type MessageSpec } from './proto';

/** TensorProto.DataType values (onnx.proto). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

/** AttributeProto.AttributeType values (onnx.proto). */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** TensorProto.DataLocation values. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;


// ---- Message tables ---------------------------------------------------------------------------

const { INT64, UINT64, INT32, FLOAT, DOUBLE, STRING, BYTES, MESSAGE } = Kind;

/** Field shorthand: `f('name', 1, STRING)`. */
function f(name: string, no: number, kind: Kind, extra: Partial<FieldSpec> = {}): FieldSpec {
  return { name, no, kind, ...extra };
}
/** A repeated field (`packed` per onnx.proto). */
function rep(name: string, no: number, kind: Kind, packed = false): FieldSpec {
  return { name, no, kind, repeated: true, packed };
}
/** A message-typed field. */
function msg(name: string, no: number, type: () => MessageSpec, repeated = false): FieldSpec {
  return { name, no, kind: MESSAGE, type, repeated };
}

export const StringStringEntryProto: MessageSpec = {
  name: 'StringStringEntryProto',
  fields: [f('key', 1, STRING), f('value', 2, STRING)],
};

export const OperatorSetIdProto: MessageSpec = {
  name: 'OperatorSetIdProto',
  fields: [f('domain', 1, STRING), f('version', 2, INT64)],
};

export const SegmentProto: MessageSpec = {
  name: 'TensorProto.Segment',
  fields: [f('begin', 1, INT64), f('end', 2, INT64)],
};

export const TensorProto: MessageSpec = {
  name: 'TensorProto',
  fields: [
    rep('dims', 1, INT64),
    f('data_type', 2, INT32),
    msg('segment', 3, () => SegmentProto),
    rep('float_data', 4, FLOAT, true),
    rep('int32_data', 5, INT32, true),
    rep('string_data', 6, BYTES),
    rep('int64_data', 7, INT64, true),
    f('name', 8, STRING),
    f('raw_data', 9, BYTES),
    rep('double_data', 10, DOUBLE, true),
    rep('uint64_data', 11, UINT64, true),
    f('doc_string', 12, STRING),
    msg('external_data', 13, () => StringStringEntryProto, true),
    f('data_location', 14, INT32),
    msg('metadata_props', 16, () => StringStringEntryProto, true),
  ],
};

export const SparseTensorProto: MessageSpec = {
  name: 'SparseTensorProto',
  fields: [msg('values', 1, () => TensorProto), msg('indices', 2, () => TensorProto), rep('dims', 3, INT64)],
};

export const DimensionProto: MessageSpec = {
  name: 'TensorShapeProto.Dimension',
  fields: [
    f('dim_value', 1, INT64, { oneof: ['dim_param'] }),
    f('dim_param', 2, STRING, { oneof: ['dim_value'] }),
    f('denotation', 3, STRING),
  ],
};

export const TensorShapeProto: MessageSpec = {
  name: 'TensorShapeProto',
  fields: [msg('dim', 1, () => DimensionProto, true)],
};

export const TypeProtoTensor: MessageSpec = {
  name: 'TypeProto.Tensor',
  fields: [f('elem_type', 1, INT32), msg('shape', 2, () => TensorShapeProto)],
};

/** Only the tensor variant; sequence/map/optional/sparse types are skipped as unknown fields. */
export const TypeProto: MessageSpec = {
  name: 'TypeProto',
  fields: [msg('tensor_type', 1, () => TypeProtoTensor), f('denotation', 6, STRING)],
};

export const ValueInfoProto: MessageSpec = {
  name: 'ValueInfoProto',
  fields: [
    f('name', 1, STRING),
    msg('type', 2, () => TypeProto),
    f('doc_string', 3, STRING),
    msg('metadata_props', 4, () => StringStringEntryProto, true),
  ],
};

export const AttributeProto: MessageSpec = {
  name: 'AttributeProto',
  fields: [
    f('name', 1, STRING),
    f('f', 2, FLOAT),
    f('i', 3, INT64),
    f('s', 4, BYTES),
    msg('t', 5, () => TensorProto),
    msg('g', 6, () => GraphProto),
    rep('floats', 7, FLOAT),
    rep('ints', 8, INT64),
    rep('strings', 9, BYTES),
    msg('tensors', 10, () => TensorProto, true),
    msg('graphs', 11, () => GraphProto, true),
    f('doc_string', 13, STRING),
    f('type', 20, INT32),
    f('ref_attr_name', 21, STRING),
    msg('sparse_tensor', 22, () => SparseTensorProto),
    msg('sparse_tensors', 23, () => SparseTensorProto, true),
  ],
};

export const NodeProto: MessageSpec = {
  name: 'NodeProto',
  fields: [
    rep('input', 1, STRING),
    rep('output', 2, STRING),
    f('name', 3, STRING),
    f('op_type', 4, STRING),
    msg('attribute', 5, () => AttributeProto, true),
    f('doc_string', 6, STRING),
    f('domain', 7, STRING),
    f('overload', 8, STRING),
    msg('metadata_props', 9, () => StringStringEntryProto, true),
  ],
};

export const GraphProto: MessageSpec = {
  name: 'GraphProto',
  fields: [
    msg('node', 1, () => NodeProto, true),
    f('name', 2, STRING),
    msg('initializer', 5, () => TensorProto, true),
    f('doc_string', 10, STRING),
    msg('input', 11, () => ValueInfoProto, true),
    msg('output', 12, () => ValueInfoProto, true),
    msg('value_info', 13, () => ValueInfoProto, true),
    // Decoded only to name sparse initializers in an error message.
    msg('sparse_initializer', 15, () => SparseTensorProto, true),
    msg('metadata_props', 16, () => StringStringEntryProto, true),
  ],
};

export const ModelProto: MessageSpec = {
  name: 'ModelProto',
  fields: [
    f('ir_version', 1, INT64),
    f('producer_name', 2, STRING),
    f('producer_version', 3, STRING),
    f('domain', 4, STRING),
    f('model_version', 5, INT64),
    f('doc_string', 6, STRING),
    msg('graph', 7, () => GraphProto),
    msg('opset_import', 8, () => OperatorSetIdProto, true),
    msg('metadata_props', 14, () => StringStringEntryProto, true),
  ],
};

// ---- Decoded message shapes -------------------------------------------------------------------

export interface StringStringEntryMsg {
  key?: string;
  value?: string;
}

export interface OperatorSetIdMsg {
  domain?: string;
  version?: number;
}

export interface SegmentMsg {
  begin?: number;
  end?: number;
}

export interface TensorMsg {
  dims: number[];
  data_type?: number;
  segment?: SegmentMsg;
  float_data: Float32Array;
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: number[];
  name?: string;
  /** A view into the decoded bytes (not a copy). */
  raw_data?: Uint8Array;
  double_data: Float64Array;
  uint64_data: number[];
  doc_string?: string;
  external_data: StringStringEntryMsg[];
  data_location?: number;
  metadata_props: StringStringEntryMsg[];
}

export interface SparseTensorMsg {
  values?: TensorMsg;
  indices?: TensorMsg;
  dims: number[];
}

export interface DimensionMsg {
  /** Set when the dimension is a number (a oneof with dim_param: at most one is set). */
  dim_value?: number;
  dim_param?: string;
  denotation?: string;
}

export interface TensorShapeMsg {
  dim: DimensionMsg[];
}

export interface TypeTensorMsg {
  elem_type?: number;
  shape?: TensorShapeMsg;
}

export interface TypeMsg {
  tensor_type?: TypeTensorMsg;
  denotation?: string;
}

export interface ValueInfoMsg {
  name?: string;
  type?: TypeMsg;
  doc_string?: string;
  metadata_props: StringStringEntryMsg[];
}

export interface AttributeMsg {
  name?: string;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMsg;
  g?: GraphMsg;
  floats: Float32Array;
  ints: number[];
  strings: Uint8Array[];
  tensors: TensorMsg[];
  graphs: GraphMsg[];
  doc_string?: string;
  type?: number;
  ref_attr_name?: string;
  sparse_tensor?: SparseTensorMsg;
  sparse_tensors: SparseTensorMsg[];
}

export interface NodeMsg {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  attribute: AttributeMsg[];
  doc_string?: string;
  domain?: string;
  overload?: string;
  metadata_props: StringStringEntryMsg[];
}

export interface GraphMsg {
  node: NodeMsg[];
  name?: string;
  initializer: TensorMsg[];
  doc_string?: string;
  input: ValueInfoMsg[];
  output: ValueInfoMsg[];
  value_info: ValueInfoMsg[];
  sparse_initializer: SparseTensorMsg[];
  metadata_props: StringStringEntryMsg[];
}

export interface ModelMsg {
  ir_version?: number;
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: GraphMsg;
  opset_import: OperatorSetIdMsg[];
  metadata_props: StringStringEntryMsg[];
}

/**
 * What the encoder takes for a message type: every field optional, int64 fields as a number or a
 * bigint, repeated numbers as any array-like (a Float32Array is written with one byte copy).
 */
export type Init<T> = T extends number
  ? number | bigint
  : T extends Uint8Array
    ? Uint8Array
    : T extends Float32Array | Float64Array
      ? ArrayLike<number>
      : T extends readonly (infer E)[]
        ? readonly Init<E>[]
        : T extends object
          ? { [K in keyof T]?: Init<T[K]> | null }
          : T;

// ---- Entry points -----------------------------------------------------------------------------

/**
 * Decode a serialized ModelProto.
 * @throws FormatError ("ONNX file is truncated or corrupted: …") naming message, field and byte.
 */
export function decodeModelProto(bytes: Uint8Array): ModelMsg {
  return decodeMessage<ModelMsg>(ModelProto, bytes, 'ONNX file');
}

/**
 * Decode a serialized TensorProto (e.g. an ONNX test suite's `input_0.pb`).
 * @throws FormatError ("TensorProto file is truncated or corrupted: …").
 */
export function decodeTensorProto(bytes: Uint8Array): TensorMsg {
  return decodeMessage<TensorMsg>(TensorProto, bytes, 'TensorProto file');
}

/** Encode a ModelProto (fields in field-number order, *_data packed as onnx.proto declares). */
export function encodeModelProto(m: Init<ModelMsg>): Uint8Array {
  return encodeMessage(ModelProto, m);
}

/** Encode a TensorProto. */
export function encodeTensorProto(t: Init<TensorMsg>): Uint8Array {
  return encodeMessage(TensorProto, t);
}
