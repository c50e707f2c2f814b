// Tests of the ONNX reader (src/onnx/reader.ts) against the ONNX backend test files, synthetic
// models encoded with the schema's encoder (src/onnx/schema.ts), hand-encoded protobuf bytes, and
// corrupted inputs. Wire-level tests of the codec itself are in test/onnx-wire.test.ts.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FormatError, UnsupportedOpError } from '../src/errors';
import type { IntTensor, SubGraph, Tensor } from '../src/graph/ir';
import { MAX_SUBGRAPH_DEPTH, parseOnnx, readTensorProto } from '../src/onnx/reader';
import { AttributeType, encodeModelProto, encodeTensorProto } from '../src/onnx/schema';
import { saveSafetensors } from '../src/weights/safetensors';
import { expectThrow } from './throws';

const SHARED = new URL('../../shared/onnx-backend-tests/', import.meta.url);
const SUITES = ['node', 'pytorch-converted'] as const;

function caseDir(suite: string, name: string): URL {
  return new URL(`${suite}/${name}/`, SHARED);
}
function readCase(suite: string, name: string, file: string): Uint8Array {
  // A plain Uint8Array copy: Buffer#slice would return a view, and the corruption tests mutate.
  return new Uint8Array(readFileSync(new URL(file, caseDir(suite, name))));
}
function listCases(suite: string): string[] {
  return readdirSync(new URL(`${suite}/`, SHARED)).sort();
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Encode a ModelProto from a plain object (snake_case field names as in onnx.proto). */
function encodeModel(graph: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Uint8Array {
  const obj: Record<string, unknown> = {
    ir_version: 8,
    producer_name: 'wasmcnn-test',
    opset_import: [{ domain: '', version: 13 }],
    ...extra,
  };
  if (graph) obj.graph = graph;
  return encodeModelProto(obj);
}

const f32Input = (name: string, dims: (number | string)[]) => ({
  name,
  type: {
    tensor_type: {
      elem_type: 1,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
    },
  },
});
const anyOutput = (name: string) => ({ name, type: { tensor_type: { elem_type: 1 } } });

function le(bytesPerValue: number, values: number[], write: (v: DataView, off: number, x: number) => void): Uint8Array {
  const out = new Uint8Array(values.length * bytesPerValue);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => write(v, i * bytesPerValue, x));
  return out;
}


// ---- Minimal protobuf writer for hand-encoded messages (independent of the schema) ------------

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
const ld = (field: number, body: number[]) => [...key(field, 2), ...varint(body.length), ...body];
const str = (field: number, s: string) => ld(field, [...new TextEncoder().encode(s)]);
const vint = (field: number, n: number) => [...key(field, 0), ...varint(n)];
const f32 = (x: number) => [...new Uint8Array(Float32Array.of(x).buffer)];

describe('ONNX backend test files', () => {
  it('the test data is present', () => {
    expect(existsSync(SHARED)).toBe(true);
  });

  for (const suite of SUITES) {
    it(`parses every ${suite}/*/model.onnx and reads every test_data_set_0/*.pb`, () => {
      const cases = listCases(suite);
      expect(cases.length).toBeGreaterThan(suite === 'node' ? 200 : 40);
      let pbRead = 0;
      const pbRefused: string[] = [];
      for (const name of cases) {
        const m = parseOnnx(readCase(suite, name, 'model.onnx'));
        const g = m.graph;
        expect(m.opset, name).toBeGreaterThanOrEqual(1);
        expect(g.opset, name).toBe(m.opset);
        expect(g.outputs.length, name).toBeGreaterThan(0);
        // Node names unique; every input resolvable; topological order holds.
        const names = new Set(g.nodes.map((n) => n.name));
        expect(names.size, name).toBe(g.nodes.length);
        const avail = new Set([...g.inputs.map((v) => v.name), ...g.initializers.keys(), ...g.intConstants.keys()]);
        for (const n of g.nodes) {
          for (const i of n.inputs) if (i !== '') expect(avail.has(i), `${name}: ${n.name} reads ${i}`).toBe(true);
          for (const o of n.outputs) if (o !== '') avail.add(o);
          expect(n.op).not.toBe('Constant');
        }
        for (const o of g.outputs) expect(avail.has(o.name), `${name}: output ${o.name}`).toBe(true);

        const dataDir = new URL('test_data_set_0/', caseDir(suite, name));
        const files = readdirSync(dataDir).filter((f) => f.endsWith('.pb'));
        for (const f of files) {
          const bytes = readFileSync(new URL(f, dataDir));
          try {
            const t = readTensorProto(bytes);
            pbRead++;
            const count = 'data' in t.tensor ? t.tensor.data.length : t.tensor.ints.length;
            expect(count, `${name}/${f}`).toBe(t.tensor.shape.reduce((a, b) => a * b, 1));
            expect(t.dtype === 'float', `${name}/${f}`).toBe('data' in t.tensor);
          } catch (e) {
            // Only sequence-typed outputs (a SequenceProto, not a TensorProto) may be refused.
            expect(e, `${name}/${f}`).toBeInstanceOf(FormatError);
            pbRefused.push(`${name}/${f}`);
          }
        }
      }
      expect(pbRefused.every((p) => p.includes('to_sequence')), pbRefused.join(', ')).toBe(true);
      expect(pbRead).toBeGreaterThan(suite === 'node' ? 500 : 90);
    });
  }

  it('test_conv_with_strides_padding: shapes, attributes and data as the ONNX Conv docs list them', () => {
    const m = parseOnnx(readCase('node', 'test_conv_with_strides_padding', 'model.onnx'));
    expect(m.irVersion).toBeGreaterThanOrEqual(3);
    expect(m.graph.inputs.map((v) => [v.name, v.shape, v.dtype])).toEqual([
      ['x', [1, 1, 7, 5], 'float'],
      ['W', [1, 1, 3, 3], 'float'],
    ]);
    expect(m.graph.outputs[0].shape).toEqual([1, 1, 4, 3]);
    expect(m.graph.shapes.get('x')).toEqual([1, 1, 7, 5]);
    expect(m.graph.nodes).toHaveLength(1);
    const conv = m.graph.nodes[0];
    expect(conv.op).toBe('Conv');
    expect(conv.inputs).toEqual(['x', 'W']);
    expect(conv.outputs).toEqual(['y']);
    expect(conv.attrs).toEqual({ kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });

    const x = readTensorProto(readCase('node', 'test_conv_with_strides_padding', 'test_data_set_0/input_0.pb'));
    const w = readTensorProto(readCase('node', 'test_conv_with_strides_padding', 'test_data_set_0/input_1.pb'));
    const y = readTensorProto(readCase('node', 'test_conv_with_strides_padding', 'test_data_set_0/output_0.pb'));
    expect(x.dtype).toBe('float');
    expect(x.tensor.shape).toEqual([1, 1, 7, 5]);
    expect(Array.from((x.tensor as Tensor).data)).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(Array.from((w.tensor as Tensor).data)).toEqual(new Array(9).fill(1));
    expect(y.tensor.shape).toEqual([1, 1, 4, 3]);
    // Values from the ONNX operator docs (Conv, "conv_with_strides_padding")...
    const documented = [12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124];
    expect(Array.from((y.tensor as Tensor).data)).toEqual(documented);
    // ...and from a direct 3x3 box sum with pad 1, stride 2 over the 7x5 ramp.
    const ref: number[] = [];
    for (let oy = 0; oy < 4; oy++) {
      for (let ox = 0; ox < 3; ox++) {
        let s = 0;
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            const iy = oy * 2 - 1 + ky;
            const ix = ox * 2 - 1 + kx;
            if (iy >= 0 && iy < 7 && ix >= 0 && ix < 5) s += iy * 5 + ix;
          }
        }
        ref.push(s);
      }
    }
    expect(ref).toEqual(documented);
  });

  it('pytorch-converted test_Conv2d: initializers are constants, not inputs', () => {
    const m = parseOnnx(readCase('pytorch-converted', 'test_Conv2d', 'model.onnx'));
    expect(m.opset).toBe(6);
    expect(m.irVersion).toBe(3);
    expect(m.producer).toMatch(/pytorch/);
    const g = m.graph;
    expect(g.inputs.map((v) => v.name)).toEqual(['0']);
    expect(g.inputs[0].shape).toEqual([2, 3, 7, 5]);
    expect([...g.initializers.keys()].sort()).toEqual(['1', '2']);
    expect(g.initializers.get('1')!.shape).toEqual([4, 3, 3, 2]);
    expect(g.initializers.get('1')!.data.length).toBe(72);
    expect(g.initializers.get('2')!.shape).toEqual([4]);
    expect(g.nodes[0].attrs.kernel_shape).toEqual([3, 2]);
    expect(g.nodes[0].attrs.group).toBe(1);
  });

  it('int64 test data decodes to numbers (Reshape shape [2, -1, 2] as in the ONNX docs)', () => {
    const t = readTensorProto(readCase('node', 'test_reshape_negative_dim', 'test_data_set_0/input_1.pb'));
    expect(t.dtype).toBe('int');
    expect((t.tensor as IntTensor).ints).toEqual([2, -1, 2]);
    expect(t.tensor.shape).toEqual([3]);
    const m = parseOnnx(readCase('node', 'test_reshape_negative_dim', 'model.onnx'));
    expect(m.graph.inputs[1].dtype).toBe('int');
  });

  it('float64 test data narrows to f32', () => {
    const t = readTensorProto(readCase('node', 'test_max_float64', 'test_data_set_0/input_0.pb'));
    expect(t.dtype).toBe('float');
    expect((t.tensor as Tensor).data).toBeInstanceOf(Float32Array);
  });
});

describe('synthetic models', () => {
  it('Constant nodes become initializers / intConstants and are dropped; INT64_MAX clamps', () => {
    const bytes = encodeModel({
      name: 'g',
      input: [f32Input('x', [1, 3, 'N', 4])],
      output: [anyOutput('y')],
      node: [
        {
          op_type: 'Constant',
          output: ['starts'],
          attribute: [{ name: 'value_ints', type: AttributeType.INTS, ints: [0, -1] }],
        },
        {
          op_type: 'Constant',
          output: ['ends'],
          attribute: [
            {
              name: 'value',
              type: AttributeType.TENSOR,
              t: {
                dims: [2],
                data_type: 7,
                raw_data: le(8, [0, 0], () => {}).map((_, i) => (i % 8 === 7 ? 0x7f : 0xff)), // INT64_MAX x2
              },
            },
          ],
        },
        {
          op_type: 'Constant',
          output: ['axes'],
          attribute: [{ name: 'value', type: AttributeType.TENSOR, t: { dims: [2], data_type: 7, int64_data: [-9223372036854775808n, 3] } }],
        },
        { op_type: 'Constant', output: ['alpha'], attribute: [{ name: 'value_float', type: AttributeType.FLOAT, f: 0.5 }] },
        { op_type: 'Constant', output: ['k'], attribute: [{ name: 'value_int', type: AttributeType.INT, i: 7 }] },
        { op_type: 'Constant', output: ['fs'], attribute: [{ name: 'value_floats', type: AttributeType.FLOATS, floats: [1, 2] }] },
        {
          op_type: 'Constant',
          output: ['w'],
          attribute: [{ name: 'value', type: AttributeType.TENSOR, t: { dims: [2, 1], data_type: 1, float_data: [3, 4] } }],
        },
        { op_type: 'Slice', input: ['x', 'starts', 'ends', 'axes'], output: ['y'] },
      ],
    });
    const m = parseOnnx(bytes);
    const g = m.graph;
    expect(m.opset).toBe(13);
    expect(g.nodes.map((n) => n.op)).toEqual(['Slice']);
    expect(g.nodes[0].name).toBe('Slice_7');
    expect(g.intConstants.get('starts')).toEqual({ ints: [0, -1], shape: [2] });
    expect(g.intConstants.get('ends')).toEqual({ ints: [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], shape: [2] });
    expect(g.intConstants.get('axes')).toEqual({ ints: [-Number.MAX_SAFE_INTEGER, 3], shape: [2] });
    expect(g.intConstants.get('k')).toEqual({ ints: [7], shape: [] });
    expect(g.initializers.get('alpha')).toEqual({ data: Float32Array.of(0.5), shape: [] });
    expect(g.initializers.get('fs')).toEqual({ data: Float32Array.of(1, 2), shape: [2] });
    expect(g.initializers.get('w')).toEqual({ data: Float32Array.of(3, 4), shape: [2, 1] });
    // Symbolic dim → -1 in the ValueInfo; not recorded in `shapes` (not fully known).
    expect(g.inputs[0].shape).toEqual([1, 3, -1, 4]);
    expect(g.shapes.has('x')).toBe(false);
  });

  it('int64 attributes beyond 2^53 clamp instead of wrapping', () => {
    const m = parseOnnx(
      encodeModel({
        input: [f32Input('x', [4])],
        output: [anyOutput('y')],
        node: [
          {
            op_type: 'Foo',
            input: ['x'],
            output: ['y'],
            name: 'n',
            attribute: [
              { name: 'big', type: AttributeType.INT, i: 9223372036854775807n },
              { name: 'small', type: AttributeType.INTS, ints: [-9223372036854775807n, -5, 9007199254740993n] },
            ],
          },
        ],
      }),
    );
    expect(m.graph.nodes[0].attrs.big).toBe(Number.MAX_SAFE_INTEGER);
    expect(m.graph.nodes[0].attrs.small).toEqual([-Number.MAX_SAFE_INTEGER, -5, Number.MAX_SAFE_INTEGER]);
  });

  it('decodes every attribute kind; keeps empty optional inputs; names nodes uniquely', () => {
    const m = parseOnnx(
      encodeModel({
        input: [f32Input('x', [2])],
        output: [anyOutput('z')],
        node: [
          {
            op_type: 'Resize',
            name: 'r',
            input: ['x', '', 's'],
            output: ['y'],
            attribute: [
              { name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode('linéar') },
              { name: 'alpha', type: AttributeType.FLOAT, f: 0.25 },
              { name: 'names', type: AttributeType.STRINGS, strings: [new TextEncoder().encode('a'), new TextEncoder().encode('b')] },
              { name: 'fl', type: AttributeType.FLOATS, floats: [1.5, -2] },
              { name: 'tt', type: AttributeType.TENSOR, t: { dims: [], data_type: 9, int32_data: [1] } },
              { name: 'emptyints', type: AttributeType.INTS },
            ],
          },
          { op_type: 'Relu', name: 'r', input: ['y'], output: ['z'] },
        ],
        initializer: [{ name: 's', dims: [1], data_type: 1, float_data: [2] }],
      }),
    );
    const [a, b] = m.graph.nodes;
    expect(a.inputs).toEqual(['x', '', 's']);
    expect(a.attrs).toEqual({
      mode: 'linéar',
      alpha: 0.25,
      names: ['a', 'b'],
      fl: [1.5, -2],
      tt: { ints: [1], shape: [] },
      emptyints: [],
    });
    expect(a.name).toBe('r');
    expect(b.name).not.toBe('r');
    expect(m.graph.inputs.map((v) => v.name)).toEqual(['x']);
  });

  it('initializers of every supported data type, raw and typed, widen/narrow correctly', () => {
    const mk = (name: string, data_type: number, dims: number[], data: Record<string, unknown>) => ({ name, data_type, dims, ...data });
    const inits = [
      mk('f16raw', 10, [5], { raw_data: le(2, [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00], (v, o, x) => v.setUint16(o, x, true)) }),
      mk('f16typed', 10, [2], { int32_data: [0x3c00, 0xfc00] }),
      mk('bf16raw', 16, [2], { raw_data: le(2, [0x3f80, 0xc0a0], (v, o, x) => v.setUint16(o, x, true)) }),
      mk('f64raw', 11, [2], { raw_data: le(8, [0.1, -3], (v, o, x) => v.setFloat64(o, x, true)) }),
      mk('f64typed', 11, [1], { double_data: [2.5] }),
      mk('f32raw', 1, [3], { raw_data: le(4, [1, -2, 3.5], (v, o, x) => v.setFloat32(o, x, true)) }),
      mk('i32raw', 6, [2], { raw_data: le(4, [-7, 9], (v, o, x) => v.setInt32(o, x, true)) }),
      mk('i8raw', 3, [2], { raw_data: Uint8Array.of(0xff, 5) }),
      mk('u8typed', 2, [2], { int32_data: [255, 0] }),
      mk('u16raw', 4, [1], { raw_data: le(2, [65535], (v, o, x) => v.setUint16(o, x, true)) }),
      mk('i16typed', 5, [1], { int32_data: [-300] }),
      mk('u32typed', 12, [1], { uint64_data: [4000000000] }),
      mk('u64raw', 13, [1], { raw_data: Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0) }),
      mk('boolraw', 9, [3], { raw_data: Uint8Array.of(0, 1, 2) }),
      mk('i64typed', 7, [2, 0], {}),
    ];
    const g = parseOnnx(
      encodeModel({ input: [f32Input('x', [1])], output: [anyOutput('x')], initializer: inits }),
    ).graph;
    const f = (n: string) => Array.from(g.initializers.get(n)!.data);
    const i = (n: string) => g.intConstants.get(n)!.ints;
    expect(f('f16raw')).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
    expect(f('f16typed')).toEqual([1, -Infinity]);
    expect(f('bf16raw')).toEqual([1, -5]);
    expect(f('f64raw')).toEqual([Math.fround(0.1), -3]);
    expect(f('f64typed')).toEqual([2.5]);
    expect(f('f32raw')).toEqual([1, -2, 3.5]);
    expect(i('i32raw')).toEqual([-7, 9]);
    expect(i('i8raw')).toEqual([-1, 5]);
    expect(i('u8typed')).toEqual([255, 0]);
    expect(i('u16raw')).toEqual([65535]);
    expect(i('i16typed')).toEqual([-300]);
    expect(i('u32typed')).toEqual([4000000000]);
    expect(i('u64raw')).toEqual([4294967297]);
    expect(i('boolraw')).toEqual([0, 1, 1]);
    expect(g.intConstants.get('i64typed')).toEqual({ ints: [], shape: [2, 0] });
  });

  it('sorts nodes topologically; rejects cycles', () => {
    const nodes = [
      { op_type: 'Relu', name: 'b', input: ['t'], output: ['y'] },
      { op_type: 'Relu', name: 'a', input: ['x'], output: ['t'] },
    ];
    const g = parseOnnx(encodeModel({ input: [f32Input('x', [1])], output: [anyOutput('y')], node: nodes })).graph;
    expect(g.nodes.map((n) => n.name)).toEqual(['a', 'b']);
    const cyc = [
      { op_type: 'Add', name: 'a', input: ['x', 'u'], output: ['t'] },
      { op_type: 'Relu', name: 'b', input: ['t'], output: ['u'] },
    ];
    expectThrow(
      () => parseOnnx(encodeModel({ input: [f32Input('x', [1])], output: [anyOutput('u')], node: cyc })),
      FormatError,
      /cycle/,
    );
  });
});

describe('hand-encoded protobuf', () => {
  // GraphProto{ node{input:"x" output:"y" op_type:"MaxPool" attribute{name:"kernel_shape" type:INTS ints..}}
  //             input{name:"x"} output{name:"y"} }
  function modelWithInts(ints: number[]): Uint8Array {
    const attr = [...str(1, 'kernel_shape'), ...vint(20, 7), ...ints];
    const node = [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'MaxPool'), ...ld(5, attr)];
    const graph = [...ld(1, node), ...ld(11, str(1, 'x')), ...ld(12, str(1, 'y'))];
    return Uint8Array.from([...vint(1, 7), ...ld(8, vint(2, 11)), ...ld(7, graph)]);
  }

  it('reads repeated int64 attributes both unpacked (onnx.proto) and packed', () => {
    const unpacked = modelWithInts([...vint(8, 3), ...vint(8, 2)]);
    const packed = modelWithInts(ld(8, [...varint(3), ...varint(2)]));
    for (const bytes of [unpacked, packed]) {
      const m = parseOnnx(bytes);
      expect(m.irVersion).toBe(7);
      expect(m.opset).toBe(11);
      expect(m.graph.nodes[0].attrs).toEqual({ kernel_shape: [3, 2] });
    }
  });

  it('reads TensorProto dims and float_data both packed and unpacked', () => {
    const unpackedDims = [...vint(1, 2), ...vint(1, 1)];
    const packedDims = ld(1, [2, 1]);
    const packedFloats = ld(4, [...f32(1.5), ...f32(-2)]);
    const unpackedFloats = [...key(4, 5), ...f32(1.5), ...key(4, 5), ...f32(-2)];
    for (const dims of [unpackedDims, packedDims]) {
      for (const floats of [packedFloats, unpackedFloats]) {
        const t = readTensorProto(Uint8Array.from([...dims, ...vint(2, 1), ...floats, ...str(8, 'w')]));
        expect(t).toEqual({ name: 'w', dtype: 'float', tensor: { data: Float32Array.of(1.5, -2), shape: [2, 1] } });
      }
    }
  });
});

describe('errors', () => {
  const base = () => ({ input: [f32Input('x', [1])], output: [anyOutput('y')] });

  it('empty and foreign files: "not an ONNX model"', () => {
    expectThrow(() => parseOnnx(new Uint8Array(0)), FormatError, /not an ONNX model/);
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    expectThrow(() => parseOnnx(png), FormatError, /not an ONNX model/);
    const st = saveSafetensors({ w: { data: Float32Array.of(1, 2), shape: [2] } });
    expectThrow(() => parseOnnx(st), FormatError, /not an ONNX model/, /safetensors/);
    expectThrow(() => parseOnnx(new TextEncoder().encode('hello world, not a model')), FormatError, /not an ONNX model/);
    expectThrow(() => parseOnnx(encodeModel(undefined)), FormatError, /not an ONNX model/, /graph/);
  });

  it('random garbage → FormatError', () => {
    const r = rng(42);
    for (let k = 0; k < 500; k++) {
      const n = Math.floor(r() * 300);
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
      // Also garbage behind a plausible first tag, so the protobuf decoder sees it.
      if (k % 2 === 1 && n > 0) bytes[0] = 0x08;
      expectThrow(() => parseOnnx(bytes), FormatError);
      try {
        readTensorProto(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
      }
    }
  });

  it('external data → FormatError naming the tensor', () => {
    const g = {
      ...base(),
      initializer: [{ name: 'conv.weight', dims: [2], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'w.bin' }] }],
    };
    expectThrow(() => parseOnnx(encodeModel(g)), FormatError, /external data/, /conv\.weight/);
  });

  it('data length ≠ product of dims → FormatError naming the tensor', () => {
    const raw = { ...base(), initializer: [{ name: 'w1', dims: [2, 3], data_type: 1, raw_data: new Uint8Array(20) }] };
    expectThrow(() => parseOnnx(encodeModel(raw)), FormatError, /w1/, /20 bytes/, /24/);
    const typed = { ...base(), initializer: [{ name: 'w2', dims: [3], data_type: 7, int64_data: [1, 2] }] };
    expectThrow(() => parseOnnx(encodeModel(typed)), FormatError, /w2/, /int64_data/);
    const none = { ...base(), initializer: [{ name: 'w3', dims: [1000000000], data_type: 1 }] };
    expectThrow(() => parseOnnx(encodeModel(none)), FormatError, /w3/, /no data/);
    const neg = { ...base(), initializer: [{ name: 'w4', dims: [-1], data_type: 1 }] };
    expectThrow(() => parseOnnx(encodeModel(neg)), FormatError, /w4/, /dimension/);
    const str8 = { ...base(), initializer: [{ name: 'w5', dims: [1], data_type: 8, string_data: [Uint8Array.of(65)] }] };
    expectThrow(() => parseOnnx(encodeModel(str8)), FormatError, /w5/, /STRING/);
  });

  const graphAttr = (name: string, g: Record<string, unknown>) => ({ name, type: AttributeType.GRAPH, g });
  const boolInput = (name: string) => ({ name, type: { tensor_type: { elem_type: 9, shape: { dim: [] } } } });
  /** y = If(c) then Relu(x) else Neg(x): both branches read the outer 'x'. */
  const ifModel = (nodes: Record<string, unknown>[] = []) => ({
    input: [boolInput('c'), f32Input('x', [3])],
    output: [anyOutput('y')],
    node: [
      {
        op_type: 'If',
        name: 'branch',
        input: ['c'],
        output: ['y'],
        attribute: [
          graphAttr('then_branch', { name: 't', node: [{ op_type: 'Relu', input: ['x'], output: ['t_out'] }], output: [anyOutput('t_out')] }),
          graphAttr('else_branch', { name: 'e', node: [{ op_type: 'Neg', input: ['x2'], output: ['e_out'] }], output: [anyOutput('e_out')] }),
        ],
      },
      ...nodes,
    ],
  });

  it('graph attributes (If, Loop) parse into subgraphs that read outer values', async () => {
    // else_branch reads 'x2', produced by a node the file lists after the If: the If is moved after it
    const m = parseOnnx(encodeModel(ifModel([{ op_type: 'Identity', name: 'copy', input: ['x'], output: ['x2'] }])));
    expect(m.graph.nodes.map((q) => q.name)).toEqual(['copy', 'branch']);
    const t = m.graph.nodes[1].attrs.then_branch as SubGraph;
    const e = m.graph.nodes[1].attrs.else_branch as SubGraph;
    expect(t.inputs).toEqual([]);
    expect(t.outputs).toEqual([{ name: 't_out', dtype: 'float' }]);
    expect(t.nodes).toEqual([{ name: 'Relu_0', op: 'Relu', inputs: ['x'], outputs: ['t_out'], attrs: {} }]);
    expect(e.nodes[0].op).toBe('Neg');
    // the parsed graph runs on the host evaluator, each branch reading the outer scope
    const { evalGraph } = await import('../src/graph/eval/index');
    const x = { v: Float32Array.of(1, -2, 3), shape: [3], kind: 'float' as const };
    const run = (c: number) => Array.from(evalGraph(m.graph, new Map([['c', { v: [c], shape: [], kind: 'bool' as const }], ['x', x]]))[0].v);
    expect(run(1)).toEqual([1, 0, 3]);
    expect(run(0)).toEqual([-1, 2, -3]);
    // a Loop body: its own inputs, an initializer of its own, a nested If reading two scopes up
    const body = {
      name: 'body',
      input: [{ name: 'i', type: { tensor_type: { elem_type: 7, shape: { dim: [] } } } }, boolInput('cin'), f32Input('acc', [3])],
      output: [boolInput('cout'), anyOutput('acc2')],
      initializer: [{ name: 'one', dims: [], data_type: 1, float_data: [1] }],
      node: [
        { op_type: 'Identity', input: ['cin'], output: ['cout'] },
        { op_type: 'Add', input: ['acc', 'one'], output: ['s'] },
        {
          op_type: 'If',
          name: 'inner_if',
          input: ['c'],
          output: ['acc2'],
          attribute: [
            graphAttr('then_branch', { node: [{ op_type: 'Add', input: ['s', 'x'], output: ['o1'] }], output: [anyOutput('o1')] }),
            graphAttr('else_branch', { node: [], output: [anyOutput('s')] }), // an outer value returned as is
          ],
        },
      ],
    };
    const loop = {
      input: [boolInput('c'), f32Input('x', [3])],
      output: [anyOutput('r')],
      initializer: [{ name: 'M', dims: [], data_type: 7, int64_data: [3] }],
      node: [{ op_type: 'Loop', name: 'loop', input: ['M', '', 'x'], output: ['r'], attribute: [graphAttr('body', body)] }],
    };
    const lm = parseOnnx(encodeModel(loop));
    const b = lm.graph.nodes[0].attrs.body as SubGraph;
    expect(b.inputs.map((v) => v.name)).toEqual(['i', 'cin', 'acc']);
    expect(b.initializers!.get('one')).toEqual({ data: Float32Array.of(1), shape: [] });
    expect((b.nodes[2].attrs.else_branch as SubGraph).nodes).toEqual([]);
    const out = (c: number) => Array.from(evalGraph(lm.graph, new Map([['c', { v: [c], shape: [], kind: 'bool' as const }], ['x', x]]))[0].v);
    expect(out(1)).toEqual([4 + 3, -8 + 3, 12 + 3]); // acc ← acc + 1 + x, three times
    expect(out(0)).toEqual([4, 1, 6]); // acc ← acc + 1
  });

  it('malformed subgraphs → FormatError naming the node and the value; GRAPHS → UnsupportedOpError', () => {
    // a branch reading a value no enclosing graph defines
    const ghost = ifModel();
    expectThrow(() => parseOnnx(encodeModel(ghost)), FormatError, /branch/, /'x2'/);
    // a value produced twice inside a branch
    const twice = ifModel([{ op_type: 'Identity', input: ['x'], output: ['x2'] }]);
    (twice.node[0].attribute as { g: { node: unknown[] } }[])[0].g.node.push({ op_type: 'Relu', input: ['x'], output: ['t_out'] });
    expectThrow(() => parseOnnx(encodeModel(twice)), FormatError, /produced twice/, /t_out/);
    // a branch with no op_type, an empty GRAPH attribute
    const noOp = { ...base(), node: [{ op_type: 'If', name: 'b2', input: ['x'], output: ['y'], attribute: [graphAttr('then_branch', { node: [{ input: ['x'], output: ['z'] }] })] }] };
    expectThrow(() => parseOnnx(encodeModel(noOp)), FormatError, /no op_type/);
    const empty = { ...base(), node: [{ op_type: 'If', name: 'b3', input: ['x'], output: ['y'], attribute: [{ name: 'then_branch', type: AttributeType.GRAPH }] }] };
    expectThrow(() => parseOnnx(encodeModel(empty)), FormatError, /then_branch/, /holds no graph/);
    // a cycle through a subgraph's outer read: A reads (in its branch) what B makes from A's output
    const cyc = ifModel([{ op_type: 'Identity', name: 'copy', input: ['y'], output: ['x2'] }]);
    expectThrow(() => parseOnnx(encodeModel(cyc)), FormatError, /cycle/);
    const graphs = { ...base(), node: [{ op_type: 'Scan', name: 'sc', input: ['x'], output: ['y'], attribute: [{ name: 'bodies', type: AttributeType.GRAPHS, graphs: [{ name: 'a' }] }] }] };
    expectThrow(() => parseOnnx(encodeModel(graphs)), UnsupportedOpError, /sc/, /GRAPHS/);
  });

  it(`subgraphs nested deeper than ${MAX_SUBGRAPH_DEPTH} levels → FormatError`, () => {
    const nest = (depth: number): Record<string, unknown> => {
      let g: Record<string, unknown> = { node: [{ op_type: 'Identity', input: ['x'], output: ['o'] }], output: [anyOutput('o')] };
      for (let d = 0; d < depth; d++)
        g = { node: [{ op_type: 'If', input: ['c'], output: [`o${d}`], attribute: [graphAttr('then_branch', g), graphAttr('else_branch', { output: [anyOutput('x')] })] }], output: [anyOutput(`o${d}`)] };
      return { input: [boolInput('c'), f32Input('x', [1])], output: g.output, node: g.node };
    };
    expect(parseOnnx(encodeModel(nest(MAX_SUBGRAPH_DEPTH))).graph.nodes[0].op).toBe('If');
    expectThrow(() => parseOnnx(encodeModel(nest(MAX_SUBGRAPH_DEPTH + 1))), FormatError, new RegExp(`nested deeper than ${MAX_SUBGRAPH_DEPTH}`));
  });

  it('non-default domain → UnsupportedOpError naming the domain', () => {
    const g = { ...base(), node: [{ op_type: 'FusedConv', name: 'fc', domain: 'com.microsoft', input: ['x'], output: ['y'] }] };
    expectThrow(() => parseOnnx(encodeModel(g)), UnsupportedOpError, /com\.microsoft/, /fc/);
    const ok = { ...base(), node: [{ op_type: 'Relu', name: 'r', domain: 'ai.onnx', input: ['x'], output: ['y'] }] };
    expect(parseOnnx(encodeModel(ok)).graph.nodes[0].op).toBe('Relu');
  });

  it('dangling values → FormatError naming node and value', () => {
    const dangling = { ...base(), node: [{ op_type: 'Add', name: 'add1', input: ['x', 'ghost'], output: ['y'] }] };
    expectThrow(() => parseOnnx(encodeModel(dangling)), FormatError, /add1/, /ghost/);
    const noProducer = { ...base(), node: [{ op_type: 'Relu', name: 'r', input: ['x'], output: ['t'] }] };
    expectThrow(() => parseOnnx(encodeModel(noProducer)), FormatError, /graph output 'y'/);
    const twice = {
      ...base(),
      node: [
        { op_type: 'Relu', name: 'r1', input: ['x'], output: ['y'] },
        { op_type: 'Relu', name: 'r2', input: ['x'], output: ['y'] },
      ],
    };
    expectThrow(() => parseOnnx(encodeModel(twice)), FormatError, /produced twice/, /r2/);
    expectThrow(() => parseOnnx(encodeModel({ input: [f32Input('x', [1])] })), FormatError, /no outputs/);
  });

  it('truncated TensorProto file → FormatError', () => {
    const bytes = readCase('node', 'test_conv_with_strides_padding', 'test_data_set_0/input_0.pb');
    for (const cut of [1, 2, 5, 10, bytes.length - 1]) {
      expectThrow(() => readTensorProto(bytes.subarray(0, cut)), FormatError);
    }
    const tp = encodeTensorProto({ dims: [2], data_type: 1, float_data: [1, 2] });
    expect(readTensorProto(tp).tensor).toEqual({ data: Float32Array.of(1, 2), shape: [2] });
  });
});

describe('corrupted real models', () => {
  // Small real files with initializers, attributes and value infos.
  const files: [string, string][] = [
    ['pytorch-converted', 'test_ConvTranspose2d'],
    ['node', 'test_conv_with_strides_padding'],
    ['node', 'test_maxpool_with_argmax_2d_precomputed_pads'],
  ];

  for (const [suite, name] of files) {
    it(`${name}: every truncation either parses or throws FormatError`, () => {
      const bytes = readCase(suite, name, 'model.onnx');
      const cuts = new Set<number>([0, 1, 2, 3, bytes.length - 1]);
      const r = rng(7);
      while (cuts.size < Math.min(200, bytes.length)) cuts.add(Math.floor(r() * bytes.length));
      let refused = 0;
      for (const cut of cuts) {
        try {
          parseOnnx(bytes.slice(0, cut));
        } catch (e) {
          expect(e, `cut at ${cut}: ${(e as Error).message}`).toBeInstanceOf(FormatError);
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(cuts.size / 2);
      expect(() => parseOnnx(bytes)).not.toThrow();
    });

    it(`${name}: random single-byte flips either parse or throw a typed error`, () => {
      const bytes = readCase(suite, name, 'model.onnx');
      const r = rng(1234);
      const seen = new Map<string, number>();
      for (let k = 0; k < 400; k++) {
        const copy = bytes.slice();
        const at = Math.floor(r() * copy.length);
        copy[at] ^= 1 + Math.floor(r() * 255);
        let outcome = 'parsed';
        try {
          parseOnnx(copy);
        } catch (e) {
          // A flip can turn a well-formed file into another well-formed one that uses something
          // unsupported (an operator domain, a graph attribute): UnsupportedOpError is right then.
          const ok = e instanceof FormatError || e instanceof UnsupportedOpError;
          expect(ok, `flip at ${at}: ${(e as Error).constructor.name}: ${(e as Error).message}`).toBe(true);
          outcome = (e as Error).constructor.name;
        }
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
      }
      expect(seen.get('FormatError') ?? 0).toBeGreaterThan(0);
    });
  }
});
