// The subset of the ONNX protobuf schema wasmcnn reads, as a protobufjs JSON descriptor.
//
// Spec: onnx/onnx.proto (ONNX IR, proto2 syntax), https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
// and docs/IR.md. Message names, field names, field numbers and enum values below are those of the
// public spec; fields wasmcnn never needs (training info, functions, quantization annotations,
// non-tensor TypeProto variants, ...) are left out, so the decoder skips them as unknown fields.
//
// Repeated scalars: onnx.proto declares TensorProto's *_data fields `[packed = true]` and leaves
// the rest (dims, AttributeProto.floats/ints, SparseTensorProto.dims) unpacked, as proto2 does by
// default. The descriptor says the same, which only matters for encoding (tests, tools): the
// protobufjs decoder accepts both encodings for every packable field, as the protobuf spec asks.
//
// int64/uint64 fields decode to a JS number or, when the `long` package is loaded, to a Long
// object; reader.ts converts either to a number itself (see `int64ToNumber`) instead of changing
// protobufjs' process-global configuration.

import protobuf from 'protobufjs/light.js';

/** Field descriptor shorthand: `f('int64', 1)`, `f('float', 4, 'repeated', true)`. */
function f(type: string, id: number, rule?: 'repeated', packed?: boolean): protobuf.IField {
  const d: protobuf.IField = { type, id };
  if (rule) d.rule = rule;
  if (packed !== undefined) d.options = { packed };
  return d;
}
const rep = 'repeated' as const;

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

const descriptor: protobuf.INamespace = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: f('string', 1),
            ref_attr_name: f('string', 21),
            doc_string: f('string', 13),
            type: f('AttributeType', 20),
            f: f('float', 2),
            i: f('int64', 3),
            s: f('bytes', 4),
            t: f('TensorProto', 5),
            g: f('GraphProto', 6),
            sparse_tensor: f('SparseTensorProto', 22),
            floats: f('float', 7, rep, false),
            ints: f('int64', 8, rep, false),
            strings: f('bytes', 9, rep),
            tensors: f('TensorProto', 10, rep),
            graphs: f('GraphProto', 11, rep),
            sparse_tensors: f('SparseTensorProto', 23, rep),
          },
          nested: {
            AttributeType: { values: { ...AttributeType } },
          },
        },
        ValueInfoProto: {
          fields: {
            name: f('string', 1),
            type: f('TypeProto', 2),
            doc_string: f('string', 3),
            metadata_props: f('StringStringEntryProto', 4, rep),
          },
        },
        NodeProto: {
          fields: {
            input: f('string', 1, rep),
            output: f('string', 2, rep),
            name: f('string', 3),
            op_type: f('string', 4),
            domain: f('string', 7),
            overload: f('string', 8),
            attribute: f('AttributeProto', 5, rep),
            doc_string: f('string', 6),
            metadata_props: f('StringStringEntryProto', 9, rep),
          },
        },
        ModelProto: {
          fields: {
            ir_version: f('int64', 1),
            opset_import: f('OperatorSetIdProto', 8, rep),
            producer_name: f('string', 2),
            producer_version: f('string', 3),
            domain: f('string', 4),
            model_version: f('int64', 5),
            doc_string: f('string', 6),
            graph: f('GraphProto', 7),
            metadata_props: f('StringStringEntryProto', 14, rep),
          },
        },
        StringStringEntryProto: {
          fields: {
            key: f('string', 1),
            value: f('string', 2),
          },
        },
        GraphProto: {
          fields: {
            node: f('NodeProto', 1, rep),
            name: f('string', 2),
            initializer: f('TensorProto', 5, rep),
            // Decoded only to name sparse initializers in an error message.
            sparse_initializer: f('SparseTensorProto', 15, rep),
            doc_string: f('string', 10),
            input: f('ValueInfoProto', 11, rep),
            output: f('ValueInfoProto', 12, rep),
            value_info: f('ValueInfoProto', 13, rep),
            metadata_props: f('StringStringEntryProto', 16, rep),
          },
        },
        TensorProto: {
          fields: {
            dims: f('int64', 1, rep, false),
            data_type: f('int32', 2),
            segment: f('Segment', 3),
            float_data: f('float', 4, rep, true),
            int32_data: f('int32', 5, rep, true),
            string_data: f('bytes', 6, rep),
            int64_data: f('int64', 7, rep, true),
            name: f('string', 8),
            doc_string: f('string', 12),
            raw_data: f('bytes', 9),
            external_data: f('StringStringEntryProto', 13, rep),
            data_location: f('DataLocation', 14),
            double_data: f('double', 10, rep, true),
            uint64_data: f('uint64', 11, rep, true),
            metadata_props: f('StringStringEntryProto', 16, rep),
          },
          nested: {
            Segment: {
              fields: {
                begin: f('int64', 1),
                end: f('int64', 2),
              },
            },
            DataLocation: { values: { ...DataLocation } },
          },
        },
        SparseTensorProto: {
          fields: {
            values: f('TensorProto', 1),
            indices: f('TensorProto', 2),
            dims: f('int64', 3, rep, false),
          },
        },
        TensorShapeProto: {
          fields: {
            dim: f('Dimension', 1, rep),
          },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: {
                dim_value: f('int64', 1),
                dim_param: f('string', 2),
                denotation: f('string', 3),
              },
            },
          },
        },
        TypeProto: {
          // Only the tensor variant; sequence/map/optional/sparse types are skipped as unknown
          // fields, which leaves a value with no known element type or shape.
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: {
            tensor_type: f('Tensor', 1),
            denotation: f('string', 6),
          },
          nested: {
            Tensor: {
              fields: {
                elem_type: f('int32', 1),
                shape: f('TensorShapeProto', 2),
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: f('string', 1),
            version: f('int64', 2),
          },
        },
      },
    },
  },
};

/** The protobufjs root holding the `onnx.*` message types. */
export const onnxRoot: protobuf.Root = protobuf.Root.fromJSON(descriptor);

/** The message types the reader decodes (and tests encode). */
export const ModelProto: protobuf.Type = onnxRoot.lookupType('onnx.ModelProto');
export const TensorProto: protobuf.Type = onnxRoot.lookupType('onnx.TensorProto');
export const GraphProto: protobuf.Type = onnxRoot.lookupType('onnx.GraphProto');
export const NodeProto: protobuf.Type = onnxRoot.lookupType('onnx.NodeProto');
export const AttributeProto: protobuf.Type = onnxRoot.lookupType('onnx.AttributeProto');

// ---- Decoded message shapes (what protobufjs produces for the descriptor above) ----------------

/** An int64/uint64 field value: a number, or a Long-like object when `long` is loaded. */
export type Int64 = number | { low: number; high: number; unsigned?: boolean };

export interface StringStringEntryMsg {
  key: string;
  value: string;
}

export interface OperatorSetIdMsg {
  domain: string;
  version: Int64;
}

export interface SegmentMsg {
  begin: Int64;
  end: Int64;
}

export interface TensorMsg {
  dims: Int64[];
  data_type: number;
  segment: SegmentMsg | null;
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: Int64[];
  name: string;
  doc_string: string;
  raw_data: Uint8Array;
  external_data: StringStringEntryMsg[];
  data_location: number;
  double_data: number[];
  uint64_data: Int64[];
}

export interface SparseTensorMsg {
  values: TensorMsg | null;
  indices: TensorMsg | null;
  dims: Int64[];
}

export interface DimensionMsg {
  dim_value: Int64;
  dim_param: string;
  denotation: string;
  /** Which member of the oneof is set, if any. */
  value?: 'dim_value' | 'dim_param';
}

export interface TensorShapeMsg {
  dim: DimensionMsg[];
}

export interface TypeMsg {
  tensor_type: { elem_type: number; shape: TensorShapeMsg | null } | null;
  denotation: string;
}

export interface ValueInfoMsg {
  name: string;
  type: TypeMsg | null;
  doc_string: string;
}

export interface AttributeMsg {
  name: string;
  ref_attr_name: string;
  doc_string: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t: TensorMsg | null;
  g: GraphMsg | null;
  sparse_tensor: SparseTensorMsg | null;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorMsg[];
  graphs: GraphMsg[];
  sparse_tensors: SparseTensorMsg[];
}

export interface NodeMsg {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: AttributeMsg[];
  doc_string: string;
}

export interface GraphMsg {
  node: NodeMsg[];
  name: string;
  initializer: TensorMsg[];
  sparse_initializer: SparseTensorMsg[];
  doc_string: string;
  input: ValueInfoMsg[];
  output: ValueInfoMsg[];
  value_info: ValueInfoMsg[];
}

export interface ModelMsg {
  ir_version: Int64;
  opset_import: OperatorSetIdMsg[];
  producer_name: string;
  producer_version: string;
  domain: string;
  model_version: Int64;
  doc_string: string;
  graph: GraphMsg | null;
  metadata_props: StringStringEntryMsg[];
}
