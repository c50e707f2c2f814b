// Tests of the safetensors reader/writer (src/weights/safetensors.ts). Files are built byte by
// byte here from the format description (8-byte LE header length, JSON header, data buffer),
// so the reader is checked against the format, not against the writer alone.

import { describe, expect, it } from 'vitest';
import { FormatError, ShapeError, ValueError } from '../src/errors';
import { bfloat16ToFloat, halfToFloat, loadSafetensors, saveSafetensors } from '../src/weights/safetensors';
import { expectThrow } from './throws';

/** Assemble a safetensors file from a header object (or raw header text) and a data buffer. */
function build(header: unknown, data: Uint8Array, opts: { headerLen?: number; pad?: number } = {}): Uint8Array {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  text += ' '.repeat(opts.pad ?? 0);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  const v = new DataView(out.buffer);
  const n = opts.headerLen ?? json.length;
  v.setUint32(0, n % 4294967296, true);
  v.setUint32(4, Math.floor(n / 4294967296), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function u16(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint16(i * 2, x, true));
  return out;
}

function expectFormatError(fn: () => unknown, ...patterns: RegExp[]): void {
  expectThrow(fn, FormatError, ...patterns);
}

describe('safetensors round trip', () => {
  it('save → load returns the same tensors, names and shapes', () => {
    const tensors = new Map([
      ['conv1.weight', { data: Float32Array.from({ length: 2 * 3 * 3 * 3 }, (_, i) => Math.sin(i) * 10), shape: [2, 3, 3, 3] }],
      ['conv1.bias', { data: Float32Array.of(-0, NaN, Infinity), shape: [3] }],
      ['scalar', { data: Float32Array.of(1.25), shape: [] }],
      ['empty', { data: new Float32Array(0), shape: [0, 4] }],
    ]);
    const bytes = saveSafetensors(tensors, { format: 'pt' });
    // Header padded so the data starts 8-byte aligned.
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect((8 + n) % 8).toBe(0);
    const back = loadSafetensors(bytes);
    expect([...back.keys()]).toEqual([...tensors.keys()]);
    for (const [k, t] of tensors) {
      expect(back.get(k)!.shape).toEqual(t.shape);
      expect(Object.is(back.get(k)!.data[0], t.data[0]) || t.data.length === 0).toBe(true);
      expect(Array.from(back.get(k)!.data)).toEqual(Array.from(t.data));
    }
    // Also from an ArrayBuffer and from an unaligned view into a larger buffer.
    expect(loadSafetensors(bytes.slice().buffer).get('scalar')!.data[0]).toBe(1.25);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(Array.from(loadSafetensors(shifted.subarray(3)).get('conv1.weight')!.data)).toEqual(
      Array.from(tensors.get('conv1.weight')!.data),
    );
  });

  it('accepts a Record, keeps metadata out of the tensors, rejects bad input to save', () => {
    const bytes = saveSafetensors({ a: { data: Float32Array.of(1, 2), shape: [1, 2] } }, { note: 'x' });
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + new DataView(bytes.buffer).getUint32(0, true))));
    expect(header.__metadata__).toEqual({ note: 'x' });
    expect(header.a).toEqual({ dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] });
    expect([...loadSafetensors(bytes).keys()]).toEqual(['a']);
    expect(() => saveSafetensors({ a: { data: Float32Array.of(1), shape: [2] } })).toThrow(ShapeError);
    expect(() => saveSafetensors({ __metadata__: { data: Float32Array.of(1), shape: [1] } })).toThrow(ValueError);
  });

  it('reads data at an unaligned buffer start (header length not a multiple of 8)', () => {
    const data = new Uint8Array(new Float32Array([1.5, -2.25]).buffer);
    const bytes = build({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data, { pad: 1 });
    expect((bytes.length - 8) % 8).not.toBe(0);
    expect(Array.from(loadSafetensors(bytes).get('w')!.data)).toEqual([1.5, -2.25]);
  });
});

describe('dtype widening', () => {
  it('F16 values from first principles (sign, 5-bit exponent bias 15, 10-bit fraction)', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0400, 2 ** -14], // smallest normal
      [0x3555, 0.333251953125], // (1 + 341/1024) * 2^(13-15): the f16 nearest 1/3
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x0000, 0],
      [0x8000, -0],
    ];
    for (const [bits, value] of cases) expect(Object.is(halfToFloat(bits), value), `0x${bits.toString(16)}`).toBe(true);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(halfToFloat(0xfc01)).toBeNaN();

    const bytes = build({ h: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] } }, u16([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00]));
    const t = loadSafetensors(bytes).get('h')!;
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data.subarray(0, 5))).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
    expect(t.data[5]).toBeNaN();
  });

  it('BF16 is the upper half of an f32', () => {
    expect(bfloat16ToFloat(0x3f80)).toBe(1);
    expect(bfloat16ToFloat(0xc0a0)).toBe(-5);
    expect(bfloat16ToFloat(0x7f80)).toBe(Infinity);
    expect(bfloat16ToFloat(0x0001)).toBe(2 ** -133);
    const t = loadSafetensors(build({ b: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] } }, u16([0x3f80, 0x4049, 0xff80]))).get('b')!;
    expect(Array.from(t.data)).toEqual([1, 3.140625, -Infinity]);
  });

  it('F64 narrows to f32; integer dtypes become f32 values', () => {
    const f64 = new Uint8Array(new Float64Array([0.1, -Infinity]).buffer);
    const i64 = new Uint8Array(new BigInt64Array([-3n, 1n << 24n]).buffer);
    const i8 = Uint8Array.of(0xff, 0x7f);
    const u8 = Uint8Array.of(0xff, 0);
    const bool = Uint8Array.of(0, 1);
    const i32 = new Uint8Array(new Int32Array([-100000]).buffer);
    const data = new Uint8Array([...f64, ...i64, ...i8, ...u8, ...bool, ...i32]);
    let off = 0;
    const at = (n: number) => [off, (off += n)];
    const header = {
      __metadata__: { format: 'pt' },
      f64: { dtype: 'F64', shape: [2], data_offsets: at(16) },
      i64: { dtype: 'I64', shape: [2], data_offsets: at(16) },
      i8: { dtype: 'I8', shape: [2], data_offsets: at(2) },
      u8: { dtype: 'U8', shape: [2], data_offsets: at(2) },
      bool: { dtype: 'BOOL', shape: [2], data_offsets: at(2) },
      i32: { dtype: 'I32', shape: [1, 1], data_offsets: at(4) },
    };
    const m = loadSafetensors(build(header, data));
    expect(Array.from(m.get('f64')!.data)).toEqual([Math.fround(0.1), -Infinity]);
    expect(Array.from(m.get('i64')!.data)).toEqual([-3, 2 ** 24]);
    expect(Array.from(m.get('i8')!.data)).toEqual([-1, 127]);
    expect(Array.from(m.get('u8')!.data)).toEqual([255, 0]);
    expect(Array.from(m.get('bool')!.data)).toEqual([0, 1]);
    expect(Array.from(m.get('i32')!.data)).toEqual([-100000]);
    expect(m.has('__metadata__')).toBe(false);
  });

  it('a dtype is honoured by value, never reinterpreted: conversions that are not exact are refused', () => {
    // the bytes of float32 [1.0, -2.5] relabelled I32 read as 1065353216 and -1071644672: no exact f32
    const floats = new Uint8Array(new Float32Array([1, -2.5]).buffer);
    expectFormatError(() => loadSafetensors(build({ w: { dtype: 'I32', shape: [2], data_offsets: [0, 8] } }, floats)),
      /'w'/, /I32 value 1065353216 at index 0/, /2\^24/);
    expectFormatError(() => loadSafetensors(build({ w: { dtype: 'U32', shape: [2], data_offsets: [0, 8] } }, floats)), /'w'/, /U32 value 1065353216/);
    const i64 = new Uint8Array(new BigInt64Array([5n, (1n << 24n) + 1n]).buffer);
    expectFormatError(() => loadSafetensors(build({ n: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, i64)), /'n'/, /I64 value 16777217 at index 1/);
    const u64 = new Uint8Array(new BigUint64Array([1n << 63n]).buffer);
    expectFormatError(() => loadSafetensors(build({ n: { dtype: 'U64', shape: [1], data_offsets: [0, 8] } }, u64)), /U64 value 9223372036854775808/);
    // a finite F64 beyond float32's range would turn into Infinity
    const big = new Uint8Array(new Float64Array([1, -1e300]).buffer);
    expectFormatError(() => loadSafetensors(build({ d: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, big)), /'d'/, /F64 value -1e\+300 at index 1/);
    // the largest exact magnitudes still load, with their sign
    const edge = new Uint8Array(new Int32Array([-(2 ** 24), 2 ** 24]).buffer);
    expect(Array.from(loadSafetensors(build({ e: { dtype: 'I32', shape: [2], data_offsets: [0, 8] } }, edge)).get('e')!.data)).toEqual([-(2 ** 24), 2 ** 24]);
  });
});

describe('malformed files → FormatError naming the tensor', () => {
  const good = () => ({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
  const data8 = new Uint8Array(8);

  it('too short / header length beyond the file', () => {
    expectFormatError(() => loadSafetensors(new Uint8Array(3)), /too short/);
    expectFormatError(() => loadSafetensors(build(good(), data8, { headerLen: 10_000 })), /header length 10000/);
    expectFormatError(() => loadSafetensors(build(good(), data8, { headerLen: 2 ** 40 })), /header length/);
  });

  it('bad JSON, non-object header', () => {
    expectFormatError(() => loadSafetensors(build('{"w": {"dtype": "F32",', data8)), /JSON/);
    expectFormatError(() => loadSafetensors(build('[1, 2]', data8)), /not a JSON object/);
    expectFormatError(() => loadSafetensors(build({ w: 5 }, data8)), /'w'/, /not a JSON object/);
    expectFormatError(() => loadSafetensors(build({ __metadata__: { a: 1 } }, data8)), /__metadata__/);
  });

  it('unknown or unsupported dtype', () => {
    expectFormatError(() => loadSafetensors(build({ w: { ...good().w, dtype: 'F33' } }, data8)), /'w'/, /unknown dtype "F33"/);
    expectFormatError(() => loadSafetensors(build({ w: { ...good().w, dtype: 'constructor' } }, data8)), /'w'/, /unknown dtype/);
    expectFormatError(() => loadSafetensors(build({ w: { ...good().w, dtype: 'F8_E4M3' } }, data8)), /'w'/, /not supported/);
    expectFormatError(() => loadSafetensors(build({ w: { shape: [2], data_offsets: [0, 8] } }, data8)), /'w'/, /dtype/);
  });

  it('negative, fractional or non-numeric shape', () => {
    for (const shape of [[-2], [2.5], ['2'], [2, null]]) {
      expectFormatError(() => loadSafetensors(build({ w: { ...good().w, shape } }, data8)), /'w'/, /shape/);
    }
    expectFormatError(() => loadSafetensors(build({ w: { ...good().w, shape: 2 } }, data8)), /'w'/, /shape/);
  });

  it('offsets out of range, reversed or non-integer', () => {
    expectFormatError(() => loadSafetensors(build({ w: { ...good().w, data_offsets: [8, 16] } }, data8)), /'w'/, /past the end/);
    expectFormatError(() => loadSafetensors(build({ w: { ...good().w, data_offsets: [8, 0] } }, data8)), /'w'/, /ordered/);
    expectFormatError(() => loadSafetensors(build({ w: { ...good().w, data_offsets: [-8, 0] } }, data8)), /'w'/);
    expectFormatError(() => loadSafetensors(build({ w: { ...good().w, data_offsets: [0, 7.5] } }, data8)), /'w'/, /integers/);
    expectFormatError(() => loadSafetensors(build({ w: { ...good().w, data_offsets: [0] } }, data8)), /'w'/, /data_offsets/);
  });

  it('byte size ≠ numel × dtype size', () => {
    expectFormatError(
      () => loadSafetensors(build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8)),
      /'w'/,
      /8 bytes/,
      /needs 12/,
    );
    expectFormatError(
      () => loadSafetensors(build({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } }, data8)),
      /'w'/,
      /needs 4/,
    );
  });

  it('overlapping tensors', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    expectFormatError(() => loadSafetensors(build(h, data8)), /'b'/, /overlap/, /'a'/);
  });

  it('truncated data: every cut of a real file either still holds the tensors or fails with FormatError', () => {
    const bytes = saveSafetensors({
      first: { data: Float32Array.from({ length: 10 }, (_, i) => i), shape: [10] },
      second: { data: Float32Array.from({ length: 6 }, (_, i) => -i), shape: [2, 3] },
    });
    for (let cut = 0; cut < bytes.length; cut++) {
      expectFormatError(() => loadSafetensors(bytes.subarray(0, cut)));
    }
    expectFormatError(() => loadSafetensors(bytes.subarray(0, bytes.length - 1)), /'second'/, /past the end/, /truncated/);
    expect(loadSafetensors(bytes).size).toBe(2);
  });

  it('random byte flips never throw anything but FormatError', () => {
    const bytes = saveSafetensors({
      w: { data: Float32Array.from({ length: 16 }, (_, i) => i), shape: [4, 4] },
      b: { data: Float32Array.of(1, 2, 3, 4), shape: [4] },
    });
    let a = 5;
    const r = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (let k = 0; k < 500; k++) {
      const copy = bytes.slice();
      copy[Math.floor(r() * copy.length)] ^= 1 + Math.floor(r() * 255);
      try {
        loadSafetensors(copy);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
      }
    }
  });
});
