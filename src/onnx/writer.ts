// Writes a graph IR as an ONNX ModelProto (onnx.proto, IR version 8): float initializers as
// raw little-endian FLOAT, integer constants as INT64, attributes by their JS type.
import type { AttrValue, Graph, IntTensor, Tensor } from '../graph/ir';
import { AttributeType, DataType, ModelProto } from './schema';

function tensorMsg(name: string, t: Tensor | IntTensor) {
  if ('data' in t) {
    const bytes = new Uint8Array(t.data.length * 4);
    const dv = new DataView(bytes.buffer);
    t.data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return { name, dims: t.shape, data_type: DataType.FLOAT, raw_data: bytes };
  }
  return { name, dims: t.shape, data_type: DataType.INT64, int64_data: t.ints };
}

function attrMsg(name: string, v: AttrValue) {
  if (typeof v === 'number')
    return Number.isInteger(v) && !Object.is(v, -0) ? { name, type: AttributeType.INT, i: v } : { name, type: AttributeType.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string'))
      return { name, type: AttributeType.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    const nums = v as number[];
    return nums.every((x) => Number.isInteger(x))
      ? { name, type: AttributeType.INTS, ints: nums }
      : { name, type: AttributeType.FLOATS, floats: nums };
  }
  return { name, type: AttributeType.TENSOR, t: tensorMsg('', v) };
}

function valueInfo(name: string, shape: number[] | undefined, elemType: number = DataType.FLOAT) {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: shape ? { dim: shape.map((d) => ({ dim_value: d })) } : undefined } },
  };
}

/** Encode a graph (nodes in ONNX semantics, no wasmcnn-internal ops) as ONNX bytes. */
export function graphToOnnx(g: Graph, producer = 'wasmcnn'): Uint8Array {
  const msg = {
    ir_version: 8,
    producer_name: producer,
    opset_import: [{ domain: '', version: g.opset }],
    graph: {
      name: 'wasmcnn',
      node: g.nodes.map((n) => ({
        name: n.name,
        op_type: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, v]) => attrMsg(k, v)),
      })),
      initializer: [
        ...[...g.initializers].map(([k, t]) => tensorMsg(k, t)),
        ...[...g.intConstants].map(([k, t]) => tensorMsg(k, t)),
      ],
      input: g.inputs.map((i) => valueInfo(i.name, i.shape)),
      output: g.outputs.map((o) => valueInfo(o.name, o.shape ?? g.shapes.get(o.name))),
    },
  };
  const err = ModelProto.verify(msg);
  if (err) throw new Error(`internal: cannot encode ONNX (${err})`);
  return ModelProto.encode(ModelProto.fromObject(msg)).finish();
}
