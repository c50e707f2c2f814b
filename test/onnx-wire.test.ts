// Wire-level tests of the protobuf codec (src/onnx/proto.ts) through the ONNX message tables
// (src/onnx/schema.ts). Expected bytes and values come from the protobuf encoding spec
// (https://protobuf.dev/programming-guides/encoding/), built here by a minimal hand encoder that
// shares no code with the codec: each wire type, packed and unpacked repeated scalars, unknown
// fields, last-one-wins and merging, and every way the bytes can be malformed (each must be a
// FormatError naming message, field and byte offset; never a RangeError, a trap or a hang).

import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FormatError, UnsupportedOpError } from '../src/errors';
import type { SubGraph } from '../src/graph/ir';
import { parseOnnx, readTensorProto } from '../src/onnx/reader';
import { decodeMessage, MAX_DEPTH } from '../src/onnx/proto';
import {
  AttributeProto,
  decodeModelProto,
  decodeTensorProto,
  encodeModelProto,
  encodeTensorProto,
  GraphProto,
  type AttributeMsg,
  type GraphMsg,
} from '../src/onnx/schema';
import { expectThrow } from './throws';

// ---- A hand encoder, straight from the encoding spec --------------------------------------------

/** Unsigned varint of a bigint in [0, 2^64). */
function uvar(v: bigint | number): number[] {
  let x = BigInt(v);
  if (x < 0n) x = BigInt.asUintN(64, x); // two's complement, 10 bytes
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}
const key = (field: number, wire: number) => uvar(field * 8 + wire);
const vint = (field: number, v: bigint | number) => [...key(field, 0), ...uvar(v)];
const ld = (field: number, body: number[]) => [...key(field, 2), ...uvar(body.length), ...body];
const str = (field: number, s: string) => ld(field, [...new TextEncoder().encode(s)]);
const f32 = (x: number) => [...new Uint8Array(Float32Array.of(x).buffer)];
const f64 = (x: number) => [...new Uint8Array(Float64Array.of(x).buffer)];
const i32 = (field: number, x: number) => [...key(field, 5), ...f32(x)];
const i64 = (field: number, x: number) => [...key(field, 1), ...f64(x)];
const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());

const MAX = Number.MAX_SAFE_INTEGER;

/** Expect a FormatError whose message matches every pattern. */
const formatError = (fn: () => unknown, ...patterns: RegExp[]): FormatError => expectThrow(fn, FormatError, ...patterns);

/** Outcome of parsing: 'ok', or the error class name (anything but FormatError/UnsupportedOpError fails the caller). */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof FormatError ? 'FormatError' : e instanceof UnsupportedOpError ? 'UnsupportedOpError' : `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
  }
}

const SHARED = new URL('../../shared/onnx-backend-tests/', import.meta.url);
const readShared = (rel: string) => new Uint8Array(readFileSync(new URL(rel, SHARED)));

// A small hand-made model: Relu(x) -> y with an INTS attribute, one initializer, an opset import.
function smallModel(): Uint8Array {
  const attr = [...str(1, 'axes'), ...vint(20, 7), ...vint(8, 1), ...vint(8, 2)];
  const node = [...str(1, 'x'), ...str(2, 'y'), ...str(3, 'r'), ...str(4, 'Relu'), ...ld(5, attr)];
  const init = [...vint(1, 2), ...vint(2, 1), ...ld(4, [...f32(0.5), ...f32(-1)]), ...str(8, 'w')];
  const dims = [...ld(1, vint(1, 1)), ...ld(1, str(2, 'N'))];
  const tensorType = ld(1, [...vint(1, 1), ...ld(2, dims)]);
  const graph = [...ld(1, node), ...str(2, 'g'), ...ld(5, init), ...ld(11, [...str(1, 'x'), ...ld(2, tensorType)]), ...ld(12, str(1, 'y'))];
  return bytes(vint(1, 8), str(2, 'hand'), ld(7, graph), ld(8, [...str(1, ''), ...vint(2, 13)]));
}

describe('wire types', () => {
  it('VARINT, I64, LEN and I32 fields decode to their values', () => {
    const t = decodeTensorProto(
      bytes(vint(1, 300), vint(2, 11), i64(10, 2.5), str(8, 'näme'), ld(9, [1, 2, 3]), i32(4, 1.25)),
    );
    expect(t.dims).toEqual([300]);
    expect(t.data_type).toBe(11);
    expect(Array.from(t.double_data)).toEqual([2.5]);
    expect(t.double_data).toBeInstanceOf(Float64Array);
    expect(t.name).toBe('näme');
    expect(Array.from(t.raw_data!)).toEqual([1, 2, 3]);
    expect(Array.from(t.float_data)).toEqual([1.25]);
    expect(t.float_data).toBeInstanceOf(Float32Array);
  });

  it('absent fields are undefined, repeated fields empty', () => {
    const t = decodeTensorProto(new Uint8Array(0));
    expect(t.name).toBeUndefined();
    expect(t.raw_data).toBeUndefined();
    expect(t.data_type).toBeUndefined();
    expect(t.dims).toEqual([]);
    expect(t.float_data.length).toBe(0);
    expect(t.external_data).toEqual([]);
  });

  it('int64 varints: exact within ±(2^53 − 1), clamped beyond, negatives in 10 bytes', () => {
    const cases: [bigint, number][] = [
      [0n, 0],
      [127n, 127],
      [128n, 128],
      [2n ** 32n + 5n, 4294967301],
      [2n ** 53n - 1n, MAX],
      [2n ** 53n + 1n, MAX],
      [2n ** 63n - 1n, MAX], // INT64_MAX (Slice's "to the end")
      [-1n, -1],
      [-(2n ** 31n), -(2 ** 31)],
      [-(2n ** 53n) + 1n, -MAX],
      [-(2n ** 63n), -MAX], // INT64_MIN
    ];
    for (const [v, want] of cases) {
      const enc = vint(1, v);
      if (v < 0n) expect(enc.length, `${v}`).toBe(11); // tag + 10 bytes
      expect(decodeTensorProto(bytes(enc)).dims, `${v}`).toEqual([want]);
    }
    // uint64: 2^64 − 1 is huge, not −1.
    expect(decodeTensorProto(bytes(vint(11, 2n ** 64n - 1n))).uint64_data).toEqual([MAX]);
    expect(decodeTensorProto(bytes(vint(11, 4000000000))).uint64_data).toEqual([4000000000]);
  });

  it('int32 varints: negatives sign-extended to 10 bytes; the low 32 bits of longer values', () => {
    expect(decodeTensorProto(bytes(vint(5, -5))).int32_data).toEqual([-5]);
    expect(decodeTensorProto(bytes(vint(5, 2 ** 31 - 1))).int32_data).toEqual([2 ** 31 - 1]);
    expect(decodeTensorProto(bytes(vint(2, 2n ** 32n + 7n))).data_type).toBe(7);
  });

  it('non-minimal varints (padded with 0x80 bytes) are accepted', () => {
    expect(decodeTensorProto(bytes(key(2, 0), [0x81, 0x80, 0x80, 0x00])).data_type).toBe(1);
    expect(decodeTensorProto(bytes([0x88, 0x80, 0x00], [5])).dims).toEqual([5]); // a padded tag
  });
});

describe('repeated scalars: packed and unpacked', () => {
  const cases: { field: number; name: string; wire: number; enc: (v: number) => number[]; values: number[] }[] = [
    { field: 1, name: 'dims', wire: 0, enc: (v) => uvar(v), values: [3, 300, 0] },
    { field: 5, name: 'int32_data', wire: 0, enc: (v) => uvar(v), values: [-7, 65535, 1] },
    { field: 7, name: 'int64_data', wire: 0, enc: (v) => uvar(v), values: [-1, 2 ** 40, 5] },
    { field: 11, name: 'uint64_data', wire: 0, enc: (v) => uvar(v), values: [4000000000, 0, 9] },
    { field: 4, name: 'float_data', wire: 5, enc: f32, values: [1.5, -2, 0.25] },
    { field: 10, name: 'double_data', wire: 1, enc: f64, values: [0.1, -3, 1e300] },
  ];
  for (const c of cases) {
    it(`TensorProto.${c.name}: packed, unpacked, mixed and split records give the same values`, () => {
      const one = (v: number) => [...key(c.field, c.wire), ...c.enc(v)];
      const packed = (vs: number[]) => ld(c.field, vs.flatMap(c.enc));
      const forms = {
        unpacked: bytes(...c.values.map(one)),
        packed: bytes(packed(c.values)),
        mixed: bytes(packed(c.values.slice(0, 1)), one(c.values[1]), packed(c.values.slice(2))),
        // Other fields between the elements: still one list, in order.
        interleaved: bytes(one(c.values[0]), str(8, 'n'), one(c.values[1]), vint(2, 1), one(c.values[2])),
      };
      for (const [form, b] of Object.entries(forms)) {
        const t = decodeTensorProto(b) as unknown as Record<string, ArrayLike<number>>;
        expect(Array.from(t[c.name]), form).toEqual(c.values);
      }
    });
  }

  it('AttributeProto.floats/ints (unpacked in onnx.proto) also read packed', () => {
    const forms = [
      [...i32(7, 1.5), ...i32(7, -2), ...vint(8, 4), ...vint(8, -1)],
      [...ld(7, [...f32(1.5), ...f32(-2)]), ...ld(8, [...uvar(4), ...uvar(-1)])],
    ];
    for (const f of forms) {
      const a = decodeMessage<AttributeMsg>(AttributeProto, Uint8Array.from(f), 'test');
      expect(Array.from(a.floats)).toEqual([1.5, -2]);
      expect(a.ints).toEqual([4, -1]);
    }
  });

  it('a long unpacked float list (100k records) decodes in linear time', () => {
    const n = 100_000;
    const b = new Uint8Array(n * 5);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < n; i++) {
      b[i * 5] = 4 * 8 + 5;
      dv.setFloat32(i * 5 + 1, i, true);
    }
    const t0 = performance.now();
    const t = decodeTensorProto(b);
    const ms = performance.now() - t0;
    expect(t.float_data.length).toBe(n);
    expect(t.float_data[n - 1]).toBe(n - 1);
    expect(ms).toBeLessThan(2000); // quadratic growth would take minutes
  });
});

describe('fields', () => {
  it('raw_data is a view of the input bytes, not a copy', () => {
    const b = bytes(vint(2, 1), ld(9, [...f32(1), ...f32(2)]));
    const t = decodeTensorProto(b);
    expect(t.raw_data!.buffer).toBe(b.buffer);
    expect(t.raw_data!.byteOffset).toBe(b.byteOffset + 4);
    expect(t.raw_data!.length).toBe(8);
  });

  it('unknown fields of every wire type are skipped, at the top and nested', () => {
    const unknown = [
      ...vint(99, 2n ** 63n), // VARINT, 10 bytes
      ...i64(98, 1), // I64
      ...ld(97, [0xff, 0xff, 0xff]), // LEN with garbage inside
      ...i32(96, 1), // I32
      ...vint(2 ** 29 - 1, 1), // the largest field number
    ];
    const t = decodeTensorProto(bytes(unknown, vint(1, 4), unknown, str(8, 'w'), unknown));
    expect(t.dims).toEqual([4]);
    expect(t.name).toBe('w');
    // Inside a nested message (GraphProto.node[0]) and in ModelProto fields wasmcnn does not know
    // (training_info 20, functions 25).
    const node = [...unknown, ...str(4, 'Relu'), ...str(1, 'x'), ...str(2, 'y')];
    const graph = [...ld(1, node), ...unknown, ...ld(11, str(1, 'x')), ...ld(12, str(1, 'y'))];
    const m = parseOnnx(bytes(vint(1, 8), ld(20, [1, 2]), ld(7, graph), ld(25, str(1, 'f')), ld(8, vint(2, 13))));
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['Relu']);
    expect(m.opset).toBe(13);
  });

  it('scalars: the last occurrence wins; embedded messages merge; a oneof keeps its last member', () => {
    const t = decodeTensorProto(bytes(str(8, 'a'), vint(2, 1), str(8, 'b'), vint(2, 7)));
    expect(t.name).toBe('b');
    expect(t.data_type).toBe(7);
    // ModelProto.graph twice: the two GraphProto records merge (repeated fields concatenate).
    const m = decodeModelProto(bytes(ld(7, [...str(2, 'g1'), ...ld(1, str(4, 'A'))]), ld(7, ld(1, str(4, 'B')))));
    expect(m.graph!.name).toBe('g1');
    expect(m.graph!.node.map((n) => n.op_type)).toEqual(['A', 'B']);
    // TensorShapeProto.Dimension: dim_value / dim_param form a oneof.
    const dimsOf = (dim: number[]) => {
      const vi = [...str(1, 'x'), ...ld(2, ld(1, [...vint(1, 1), ...ld(2, ld(1, dim))]))];
      const g = decodeMessage<GraphMsg>(GraphProto, bytes(ld(11, vi)), 'test');
      return g.input[0].type!.tensor_type!.shape!.dim[0];
    };
    expect(dimsOf([...vint(1, 3), ...str(2, 'N')])).toEqual({ dim_param: 'N' });
    expect(dimsOf([...str(2, 'N'), ...vint(1, 3)])).toEqual({ dim_value: 3 });
  });

  it('graphs in attributes (g, graphs) decode fully, for control-flow ops', () => {
    const sub = (op: string) => [...ld(1, [...str(1, 'x'), ...str(2, 'z'), ...str(4, op)]), ...str(2, `${op}_body`), ...ld(12, str(1, 'z'))];
    const attrs = [
      ...ld(5, [...str(1, 'then_branch'), ...vint(20, 5), ...ld(6, sub('Relu'))]),
      ...ld(5, [...str(1, 'bodies'), ...vint(20, 10), ...ld(11, sub('Sigmoid')), ...ld(11, sub('Tanh'))]),
    ];
    const node = [...str(1, 'c'), ...str(2, 'y'), ...str(3, 'if1'), ...str(4, 'If'), ...attrs];
    const graph = [...ld(1, node), ...ld(11, str(1, 'c')), ...ld(12, str(1, 'y'))];
    const b = bytes(vint(1, 8), ld(7, graph), ld(8, vint(2, 13)));
    const m = decodeModelProto(b);
    const [thenAttr, bodies] = m.graph!.node[0].attribute;
    expect(thenAttr.g!.name).toBe('Relu_body');
    expect(thenAttr.g!.node[0]).toMatchObject({ op_type: 'Relu', input: ['x'], output: ['z'] });
    expect(bodies.graphs.map((g) => g.node[0].op_type)).toEqual(['Sigmoid', 'Tanh']);
    // The reader parses GRAPH attributes into subgraphs; GRAPHS (no ONNX op takes one) stay a typed refusal.
    expect(() => parseOnnx(b)).toThrow(UnsupportedOpError);
    expect(() => parseOnnx(b)).toThrow(/if1.*bodies.*GRAPHS/);
    const thenOnly = ld(5, [...str(1, 'then_branch'), ...vint(20, 5), ...ld(6, sub('Relu'))]);
    const one = (inputs: number[]) =>
      bytes(vint(1, 8), ld(7, [...ld(1, [...str(1, 'c'), ...str(2, 'y'), ...str(3, 'if1'), ...str(4, 'If'), ...thenOnly]), ...inputs, ...ld(12, str(1, 'y'))]), ld(8, vint(2, 13)));
    // the branch reads 'x' from the enclosing graph: defined there or the file is malformed
    formatError(() => parseOnnx(one(ld(11, str(1, 'c')))), /if1/, /'x'/);
    const g = parseOnnx(one([...ld(11, str(1, 'c')), ...ld(11, str(1, 'x'))])).graph;
    const branch = g.nodes[0].attrs.then_branch as SubGraph;
    expect(branch.nodes).toEqual([{ name: 'Relu_0', op: 'Relu', inputs: ['x'], outputs: ['z'], attrs: {} }]);
    expect(branch.outputs).toEqual([{ name: 'z' }]);
    expect(branch.inputs).toEqual([]);
  });

  it('a hand-made model parses to the graph it describes', () => {
    const m = parseOnnx(smallModel());
    expect(m.irVersion).toBe(8);
    expect(m.producer).toBe('hand');
    expect(m.opset).toBe(13);
    expect(m.graph.inputs).toEqual([{ name: 'x', dtype: 'float', shape: [1, -1] }]);
    expect(m.graph.nodes).toEqual([{ name: 'r', op: 'Relu', inputs: ['x'], outputs: ['y'], attrs: { axes: [1, 2] } }]);
    expect(m.graph.initializers.get('w')).toEqual({ data: Float32Array.of(0.5, -1), shape: [2] });
  });
});

describe('malformed bytes → FormatError naming what and where', () => {
  it('a varint that runs past the end', () => {
    formatError(() => decodeTensorProto(bytes(key(1, 0), [0x80, 0x80])), /varint runs past the end/, /TensorProto\.dims/, /at byte 1/);
    formatError(() => decodeTensorProto(Uint8Array.of(0x80)), /varint runs past the end/, /at byte 0/);
  });

  it('a varint longer than 10 bytes, or one overflowing 64 bits', () => {
    formatError(() => decodeTensorProto(bytes(key(1, 0), new Array(10).fill(0xff), [0x01])), /longer than 10 bytes/, /dims/);
    formatError(() => decodeTensorProto(bytes(key(1, 0), new Array(9).fill(0xff), [0x02])), /overflows 64 bits/);
    formatError(() => decodeTensorProto(bytes(new Array(10).fill(0x80), [0x01])), /longer than 10 bytes/, /at byte 0/); // a tag
  });

  it('lengths past the end of the data or of the enclosing message', () => {
    formatError(() => decodeTensorProto(bytes(key(8, 2), uvar(5), [65, 66])), /length 5 runs past the end of the data/, /TensorProto\.name/, /at byte 1/);
    formatError(() => decodeTensorProto(bytes(key(9, 2), uvar(2 ** 32 - 1))), /length 4294967295/);
    // A length that only fits in 64 bits is not taken for its low 32 bits (2^32 + 1 → 1).
    formatError(() => decodeTensorProto(bytes(key(8, 2), uvar(2n ** 32n + 1n), [65])), /length 4294967297 runs past the end/);
    formatError(() => decodeTensorProto(bytes(key(8, 2), uvar(2n ** 63n), [65])), /runs past the end/);
    // GraphProto.name claims 4 bytes but its GraphProto record holds 2.
    formatError(
      () => decodeModelProto(bytes(ld(7, [...key(2, 2), 4]), [65, 66, 67, 68])),
      /runs past the end of the enclosing message/,
      /GraphProto\.name/,
      /at byte 3/,
    );
    // A fixed-size value cut by the end of its message.
    formatError(() => decodeModelProto(bytes(ld(7, ld(5, [...key(4, 5), 0, 0])), str(2, 'p'))), /4-byte value runs past the end of the enclosing message/, /TensorProto\.float_data/);
    formatError(() => decodeTensorProto(bytes(key(10, 1), [0, 0, 0])), /8-byte value runs past the end of the data/, /double_data/);
  });

  it('a packed float record whose length is not a multiple of 4', () => {
    formatError(() => decodeTensorProto(bytes(ld(4, [0, 0, 0, 0, 0]))), /packed float record of 5 bytes/, /float_data/);
    formatError(() => decodeTensorProto(bytes(ld(10, [0, 0, 0, 0]))), /packed double record of 4 bytes/, /double_data/);
  });

  it('a packed varint record cut inside a value', () => {
    formatError(() => decodeTensorProto(bytes(ld(1, [0x80]))), /varint runs past the end|runs past the end/, /dims/);
  });

  it('a known field with the wrong wire type', () => {
    formatError(() => decodeTensorProto(bytes(i32(8, 1))), /wire type I32 for a field of type string \(expected LEN\)/, /TensorProto\.name/, /at byte 0/);
    formatError(() => decodeTensorProto(bytes(vint(3, 1))), /wire type VARINT/, /TensorProto\.segment/);
    formatError(() => decodeTensorProto(bytes(ld(2, [1]))), /wire type LEN for a field of type int32/, /data_type/); // not repeated: no packed form
    formatError(() => decodeTensorProto(bytes(i64(4, 1))), /wire type I64 for a field of type float/, /float_data/);
    formatError(() => decodeModelProto(bytes(vint(1, 8), ld(7, vint(1, 1)))), /GraphProto\.node/, /at byte 4/);
  });

  it('groups (wire types 3 and 4) and invalid wire types 6 and 7 are refused', () => {
    formatError(() => decodeTensorProto(bytes(key(1, 3), key(1, 4))), /groups \(wire type 3\)/);
    formatError(() => decodeTensorProto(bytes(key(50, 3), key(50, 4))), /groups \(wire type 3\)/, /TensorProto\.#50/);
    formatError(() => decodeTensorProto(bytes(key(50, 4))), /groups \(wire type 4\)/);
    formatError(() => decodeTensorProto(bytes(key(50, 6))), /invalid wire type 6/);
    formatError(() => decodeTensorProto(bytes(key(8, 7))), /wire type 7/, /TensorProto\.name/);
  });

  it('field number 0 and tags beyond 32 bits', () => {
    formatError(() => decodeTensorProto(Uint8Array.of(0x00, 0x01)), /field number 0/, /at byte 0/);
    // 2^32 + 8 would be field 1, VARINT in its low 32 bits.
    formatError(() => decodeTensorProto(bytes(uvar(2n ** 32n + 8n), [1])), /invalid tag 4294967304/, /at byte 0/);
  });

  it(`nesting is bounded: graphs nested 10^5 deep are refused, ${MAX_DEPTH} levels are fine`, () => {
    // ModelProto.graph → (GraphProto.node → NodeProto.attribute → AttributeProto.g →)^depth GraphProto.
    // Lengths are computed from the inside out, then the prefixes written from the outside in.
    function nested(graphs: number): Uint8Array {
      const tags = [key(7, 2)];
      for (let i = 0; i < graphs; i++) tags.push(key(1, 2), key(5, 2), key(6, 2));
      const lens = new Array<number>(tags.length);
      let inner = 0;
      for (let i = tags.length - 1; i >= 0; i--) {
        lens[i] = inner;
        inner += tags[i].length + uvar(inner).length;
      }
      const out = new Uint8Array(inner);
      let p = 0;
      for (let i = 0; i < tags.length; i++) for (const x of [...tags[i], ...uvar(lens[i])]) out[p++] = x;
      expect(p).toBe(inner);
      return out;
    }
    const deep = nested(100_000);
    expect(deep.length).toBeGreaterThan(1_000_000);
    formatError(() => decodeModelProto(deep), new RegExp(`nested deeper than ${MAX_DEPTH} levels`), /at byte \d+/);
    formatError(() => parseOnnx(deep), /nested deeper/);
    // 33 graphs = 1 + 33 * 3 = 100 levels below ModelProto: decodes (the node then lacks an op_type).
    const ok = decodeModelProto(nested(33));
    let g = ok.graph!;
    for (let i = 0; i < 33; i++) g = g.node[0].attribute[0].g!;
    expect(g.node).toEqual([]);
    formatError(() => decodeModelProto(nested(34)), /nested deeper/);
  });

  it('every truncation of a hand-made model: the whole file parses, each prefix is a FormatError or parses', () => {
    const b = smallModel();
    expect(outcome(() => parseOnnx(b))).toBe('ok');
    const seen = new Map<string, number>();
    for (let cut = 0; cut < b.length; cut++) {
      for (const fn of [() => parseOnnx(b.subarray(0, cut)), () => decodeModelProto(b.subarray(0, cut))]) {
        const o = outcome(fn);
        expect(['ok', 'FormatError'], `cut at ${cut}: ${o}`).toContain(o);
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }
    }
    expect(seen.get('FormatError')).toBeGreaterThan(b.length);
  });

  it('every truncation of real backend-test files (model.onnx and a TensorProto): typed error or success', () => {
    const model = readShared('node/test_conv_with_strides_padding/model.onnx');
    for (let cut = 0; cut < model.length; cut++) {
      const o = outcome(() => parseOnnx(model.subarray(0, cut)));
      expect(['ok', 'FormatError'], `cut at ${cut}: ${o}`).toContain(o);
    }
    const pb = readShared('node/test_conv_with_strides_padding/test_data_set_0/input_0.pb');
    let refused = 0;
    for (let cut = 0; cut < pb.length; cut++) {
      const o = outcome(() => readTensorProto(pb.subarray(0, cut)));
      expect(['ok', 'FormatError'], `cut at ${cut}: ${o}`).toContain(o);
      if (o !== 'ok') refused++;
    }
    expect(refused).toBe(pb.length); // a cut tensor never has the element count its dims need
  });

  it('every bit flip of a hand-made model: parses or a typed error, nothing else', () => {
    const b = smallModel();
    for (let at = 0; at < b.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = b.slice();
        copy[at] ^= 1 << bit;
        const o = outcome(() => parseOnnx(copy));
        expect(['ok', 'FormatError', 'UnsupportedOpError'], `flip bit ${bit} at ${at}: ${o}`).toContain(o);
      }
    }
  });
});

describe('encoder', () => {
  it('writes fields in field-number order with the wire types of the encoding spec', () => {
    const got = encodeTensorProto({ name: 'w', float_data: [1.5, -2], data_type: 1, dims: [2, 300] });
    // dims unpacked (onnx.proto), float_data packed ([packed = true]).
    const want = bytes(vint(1, 2), vint(1, 300), vint(2, 1), ld(4, [...f32(1.5), ...f32(-2)]), str(8, 'w'));
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('int64: negatives as 10-byte two’s complement, bigints exact; int32 negatives sign-extended', () => {
    const got = encodeTensorProto({ dims: [-1, 2 ** 40], int64_data: [2n ** 63n - 1n, -(2n ** 63n), -3], int32_data: [-5, 7] });
    const want = bytes(
      vint(1, -1),
      vint(1, 2 ** 40),
      ld(5, [...uvar(-5), ...uvar(7)]),
      ld(7, [...uvar(2n ** 63n - 1n), ...uvar(-(2n ** 63n)), ...uvar(-3)]),
    );
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('bigint varint sizes at every 7-bit boundary', () => {
    for (let k = 1; k < 64; k++) {
      for (const v of [2n ** BigInt(k) - 1n, 2n ** BigInt(k)]) {
        expect(Array.from(encodeTensorProto({ dims: [v] })), `${v}`).toEqual(vint(1, v));
      }
    }
  });

  it('strings as UTF-8 (multi-byte and surrogate pairs), bytes as they are, nested messages with their lengths', () => {
    const s = 'añ€😀';
    const got = encodeModelProto({ producer_name: s, graph: { name: 'g', node: [{ op_type: 'Relu', attribute: [{ name: 'k', s: Uint8Array.of(0, 255) }] }] } });
    const attr = [...str(1, 'k'), ...ld(4, [0, 255])];
    const want = bytes(str(2, s), ld(7, [...ld(1, [...str(4, 'Relu'), ...ld(5, attr)]), ...str(2, 'g')]));
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(decodeModelProto(got).producer_name).toBe(s);
  });

  it('absent, null and empty repeated fields are not written; an empty message is zero bytes', () => {
    expect(encodeTensorProto({}).length).toBe(0);
    expect(encodeTensorProto({ name: undefined, dims: [], raw_data: null }).length).toBe(0);
  });

  it('a value of the wrong type is an internal error, not a silently broken file', () => {
    expect(() => encodeTensorProto({ name: 3 as unknown as string })).toThrow(/internal: .*TensorProto\.name/);
    expect(() => encodeTensorProto({ dims: ['2' as unknown as number] })).toThrow(/internal: .*TensorProto\.dims/);
  });

  it('round trip of every backend-test TensorProto: decode, encode, decode gives the same tensor', () => {
    const dir = new URL('node/', SHARED);
    let n = 0;
    for (const name of readdirSync(dir).sort().slice(0, 120)) {
      const f = new URL(`${name}/test_data_set_0/input_0.pb`, dir);
      let b: Uint8Array;
      try {
        b = new Uint8Array(readFileSync(f));
      } catch {
        continue;
      }
      const t = decodeTensorProto(b);
      const again = decodeTensorProto(encodeTensorProto(t));
      expect(again, name).toEqual(t);
      n++;
    }
    expect(n).toBeGreaterThan(100);
  });
});

describe('CSP safety', () => {
  it('no code generation and no protobufjs in the ONNX reader/writer sources', () => {
    for (const f of ['proto.ts', 'schema.ts', 'reader.ts', 'writer.ts', 'load.ts', 'export.ts']) {
      const src = readFileSync(new URL(`../src/onnx/${f}`, import.meta.url), 'utf8');
      expect(src, f).not.toMatch(/['"]protobufjs/);
      expect(src, f).not.toMatch(/\bnew Function\b|\bFunction\(|\beval\(/);
    }
  });
});
