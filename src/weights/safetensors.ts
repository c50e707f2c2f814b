// safetensors reader and (f32) writer.
//
// Spec: the safetensors format, https://github.com/huggingface/safetensors (README, "Format"):
//   8 bytes   N, an unsigned little-endian 64-bit integer: the size of the header
//   N bytes   a UTF-8 JSON object {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
//             ..., "__metadata__"?: {"<key>": "<string>"}}; it may be padded with trailing spaces
//   rest      the byte buffer; [b, e) are byte offsets relative to its start, data little-endian,
//             row-major (C order)
//
// Dtypes read, each honoured by value (never by reinterpreting its bytes as another dtype):
// F32; F16 and BF16 (widened exactly to f32); F64 (rounded to the nearest f32; a finite value
// beyond f32's range is refused, it would become Infinity); the integer dtypes I64, I32, I16,
// I8, U64, U32, U16, U8 and BOOL, converted to f32 where that is exact: an I64/U64/I32/U32 value
// above 2^24 in magnitude is refused with a FormatError naming the tensor and the value (f32
// cannot hold it, and such values in a checkpoint usually mean float bytes under an integer
// dtype). wasmcnn computes in f32 only, and integer tensors in checkpoints (BatchNorm's
// num_batches_tracked, index buffers) are either unused or small. FP8 and other dtypes are
// rejected with a FormatError naming the tensor.

import { FormatError, ShapeError, ValueError } from '../errors';
import { fileTensor, type Tensor } from '../graph/ir';
import { readSource } from '../io/read';
import type { ByteSource, ReadOptions } from '../io/source';

/** The header key that holds free-form string metadata instead of a tensor. */
const METADATA_KEY = '__metadata__';

/** Bytes per element of every dtype the reader accepts. */
const DTYPE_SIZE: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** Dtypes of the format that wasmcnn knows but does not read. */
const UNSUPPORTED_DTYPES = new Set(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE 754 binary16 bits → number (exact: every f16 value is representable in f32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

const bf16Scratch = new Float32Array(1);
const bf16ScratchBits = new Uint32Array(bf16Scratch.buffer);

/** bfloat16 bits → number: the bits are the upper half of an f32 (exact, NaN payloads kept). */
export function bfloat16ToFloat(h: number): number {
  bf16ScratchBits[0] = (h & 0xffff) << 16;
  return bf16Scratch[0];
}

const narrowF32 = new Float32Array(1);
const narrowBits = new Uint32Array(narrowF32.buffer);

/**
 * number → IEEE 754 binary16 bits, rounded to nearest, ties to even (as a float32 first, as
 * PyTorch's `.half()` of a float32 tensor): overflow gives ±Infinity, tiny values subnormals or
 * ±0, NaN a quiet NaN.
 */
export function floatToHalf(v: number): number {
  narrowF32[0] = v;
  const x = narrowBits[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // the binary16 biased exponent
  if (e >= 31) return sign | 0x7c00;
  if (e >= 1) {
    // normal: keep 10 of 23 fraction bits; a carry may step into the exponent (up to Infinity)
    const h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    return sign | (h + (rest > 0x1000 || (rest === 0x1000 && h & 1) ? 1 : 0));
  }
  if (exp === 0) return sign; // float32 zeros and subnormals are below binary16's least subnormal / 2
  // subnormal: the 24-bit significand in units of 2^-24 is s·2^(e-14)
  const shift = 14 - e;
  if (shift > 24) return sign;
  const sig = mant | 0x800000;
  const h = sig >>> shift;
  const rest = sig & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return sign | (h + (rest > half || (rest === half && h & 1) ? 1 : 0));
}

/** number → bfloat16 bits (the upper half of its float32, rounded to nearest, ties to even; NaN stays a quiet NaN). */
export function floatToBfloat16(v: number): number {
  narrowF32[0] = v;
  const x = narrowBits[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(name: string, problem: string): never {
  throw new FormatError(`safetensors: tensor '${name}': ${problem}`);
}

/** Largest integer magnitude every integer below it converts to f32 exactly. */
const EXACT_INT = 2 ** 24;

/** Largest finite f32. */
const F32_MAX = 3.4028234663852886e38;

/** Decode `count` elements of `dtype` from `view` (little-endian, any alignment) into f32, by value. */
function decode(name: string, view: DataView, dtype: string, count: number): Float32Array {
  const out = decodeRaw(view, dtype, count);
  if (dtype === 'F64') {
    for (let i = 0; i < count; i++) {
      const v = view.getFloat64(i * 8, true);
      if (Number.isFinite(v) && Math.abs(v) > F32_MAX) fail(name, `F64 value ${v} at index ${i} is beyond float32's range`);
    }
  } else if (dtype === 'I64' || dtype === 'U64' || dtype === 'I32' || dtype === 'U32') {
    const step = dtype === 'I64' || dtype === 'U64' ? 8 : 4;
    for (let i = 0; i < count; i++) {
      // the value before rounding (a double holds every I32/U32 exactly and I64/U64 to 2^53)
      const hi = step === 8 ? (dtype === 'I64' ? view.getInt32(i * 8 + 4, true) : view.getUint32(i * 8 + 4, true)) : 0;
      const v = step === 8 ? hi * 4294967296 + view.getUint32(i * 8, true) : dtype === 'I32' ? view.getInt32(i * 4, true) : view.getUint32(i * 4, true);
      if (Math.abs(v) > EXACT_INT)
        fail(name, `${dtype} value ${exactInt(view, dtype, i)} at index ${i} has no exact float32 form (beyond 2^24); float data stored under an integer dtype?`);
    }
  }
  return out;
}

/** The integer at index i exactly, for messages. */
function exactInt(view: DataView, dtype: string, i: number): string {
  if (dtype === 'I64') return view.getBigInt64(i * 8, true).toString();
  if (dtype === 'U64') return view.getBigUint64(i * 8, true).toString();
  return String(dtype === 'I32' ? view.getInt32(i * 4, true) : view.getUint32(i * 4, true));
}

function decodeRaw(view: DataView, dtype: string, count: number): Float32Array {
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      if (HOST_LITTLE_ENDIAN) {
        // One copy of exactly this tensor's bytes, then reinterpret (also fixes alignment).
        new Uint8Array(out.buffer).set(new Uint8Array(view.buffer, view.byteOffset, count * 4));
      } else {
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      }
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat(view.getUint16(i * 2, true));
      break;
    case 'I64':
      for (let i = 0; i < count; i++) {
        out[i] = view.getInt32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true);
      }
      break;
    case 'U64':
      for (let i = 0; i < count; i++) {
        out[i] = view.getUint32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true);
      }
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'U32':
      for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 'U16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'U8':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i) !== 0 ? 1 : 0;
      break;
    default:
      throw new Error(`unreachable dtype ${dtype}`);
  }
  return out;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Validate one header entry against the format's rules and the buffer length. */
function checkEntry(name: string, raw: unknown, bufferLength: number): Entry {
  if (!isPlainObject(raw)) fail(name, 'header entry is not a JSON object');
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') fail(name, 'missing or non-string "dtype"');
  if (UNSUPPORTED_DTYPES.has(dtype)) fail(name, `dtype ${dtype} is not supported`);
  const size = DTYPE_SIZE[dtype];
  if (size === undefined || !Object.hasOwn(DTYPE_SIZE, dtype)) fail(name, `unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape)) fail(name, 'missing or non-array "shape"');
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(name, `shape ${JSON.stringify(shape)} has a dimension that is not a non-negative integer`);
    }
    count *= d;
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) fail(name, 'missing "data_offsets" [begin, end]');
  const [begin, end] = offsets;
  if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end)) {
    fail(name, `data_offsets ${JSON.stringify(offsets)} are not integers`);
  }
  if (begin < 0 || begin > end) fail(name, `data_offsets [${begin}, ${end}] are not an ordered range`);
  if (end > bufferLength) {
    fail(name, `data_offsets [${begin}, ${end}] run past the end of the data (${bufferLength} bytes; file truncated?)`);
  }
  const expected = count * size;
  if (end - begin !== expected) {
    fail(name, `data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
  }
  return { name, dtype, shape: shape.slice() as number[], begin, end };
}

/**
 * Read a safetensors file into f32 tensors, keyed by tensor name in header order.
 *
 * Every dtype is returned as a Float32Array (see the file header for the integer dtypes).
 * Each tensor's data is copied once into its own array; the input is not retained.
 * `__metadata__` is validated (an object of strings) and not returned.
 *
 * @throws FormatError naming the tensor and the problem for a malformed or truncated file.
 */
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer): Map<string, Tensor> {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length < 8) {
    throw new FormatError(`safetensors: file is ${u8.length} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const lenLo = view.getUint32(0, true);
  const lenHi = view.getUint32(4, true);
  const headerLen = lenHi * 4294967296 + lenLo;
  if (headerLen > u8.length - 8) {
    throw new FormatError(
      `safetensors: header length ${headerLen} runs past the end of the file (${u8.length} bytes); not a safetensors file, or truncated`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new FormatError(`safetensors: header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(header)) throw new FormatError('safetensors: header is not a JSON object');

  const dataStart = 8 + headerLen;
  const bufferLength = u8.length - dataStart;
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
        throw new FormatError('safetensors: "__metadata__" is not an object of strings');
      }
      continue;
    }
    entries.push(checkEntry(name, raw, bufferLength));
  }

  // No two tensors may share bytes.
  const byBegin = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byBegin.length; i++) {
    const prev = byBegin[i - 1];
    const cur = byBegin[i];
    if (cur.begin < prev.end) {
      fail(cur.name, `data_offsets [${cur.begin}, ${cur.end}] overlap those of '${prev.name}' [${prev.begin}, ${prev.end}]`);
    }
  }

  const out = new Map<string, Tensor>();
  for (const e of entries) {
    const count = (e.end - e.begin) / DTYPE_SIZE[e.dtype];
    // float32 stays in the file's bytes until read: a model's packers copy it straight into wasm memory
    if (e.dtype === 'F32' && HOST_LITTLE_ENDIAN) {
      out.set(e.name, fileTensor(u8.subarray(dataStart + e.begin, dataStart + e.end), e.shape));
      continue;
    }
    const tv = new DataView(u8.buffer, u8.byteOffset + dataStart + e.begin, e.end - e.begin);
    out.set(e.name, { data: decode(e.name, tv, e.dtype, count), shape: e.shape });
  }
  return out;
}

/**
 * Read a safetensors file into f32 tensors, keyed by tensor name in header order (see
 * the synchronous form for the dtypes and checks).
 *
 * Given the bytes (Uint8Array or ArrayBuffer) it parses them synchronously and returns the Map.
 * Given any other source (a local path in Node/Deno/Bun, an http(s)/file/data/blob URL, an
 * `hf:owner/repo[@revision][/file]` hub reference, a fetch Response, a ReadableStream or a Blob)
 * it returns a Promise of the Map, reading with `onProgress` and `signal` from `options`.
 * `await` works on either form.
 *
 * @throws FormatError for a malformed or truncated file; LoadError (rejected) when the source
 *   cannot be read.
 */
export function loadSafetensors(bytes: Uint8Array | ArrayBuffer, options?: ReadOptions): Map<string, Tensor>;
export function loadSafetensors(source: Exclude<ByteSource, Uint8Array | ArrayBuffer>, options?: ReadOptions): Promise<Map<string, Tensor>>;
export function loadSafetensors(source: ByteSource, options?: ReadOptions): Map<string, Tensor> | Promise<Map<string, Tensor>>;
export function loadSafetensors(source: ByteSource, options: ReadOptions = {}): Map<string, Tensor> | Promise<Map<string, Tensor>> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return parseSafetensors(source);
  return readSource(source, options).then(parseSafetensors);
}

/** Anything with a state_dict (a Model): saveSafetensors(model) writes its weights. */
export interface HasStateDict {
  /** The tensors by name; with `optimizer`, the optimizer's state too. */
  stateDict(options?: { optimizer?: boolean }): Map<string, Tensor>;
}

/**
 * Serialize f32 tensors as a safetensors file (dtype F32, or F16 / BF16 with `dtype`: half the
 * size, each value rounded to nearest, ties to even; tensors laid out contiguously in the given order). The header is padded with spaces so the data starts 8-byte aligned. Given a
 * model, its `stateDict()` (the weights as trained, by PyTorch name); `{ optimizer: true }` adds
 * the optimizer's state (`optimizer.<param>.<buffer>`), which `model.loadStateDict()` restores.
 *
 * @throws ShapeError if a tensor's data length is not the product of its shape;
 *   ValueError for a tensor named `__metadata__` or a bad shape.
 */
export function saveSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>, options?: { dtype?: SaveDtype },
): Uint8Array;
export function saveSafetensors(model: HasStateDict, options?: SaveSafetensorsOptions): Uint8Array;
export function saveSafetensors(
  source: Map<string, Tensor> | Record<string, Tensor> | HasStateDict,
  second?: Record<string, string> | SaveSafetensorsOptions,
  third?: { dtype?: SaveDtype },
): Uint8Array {
  let tensors: Map<string, Tensor> | Record<string, Tensor>;
  let metadata: Record<string, string> | undefined;
  let dtype: SaveDtype;
  if (typeof (source as HasStateDict).stateDict === 'function') {
    const o = (second ?? {}) as SaveSafetensorsOptions;
    tensors = (source as HasStateDict).stateDict({ optimizer: o.optimizer === true });
    metadata = o.metadata;
    dtype = o.dtype ?? 'float32';
  } else {
    tensors = source as Map<string, Tensor> | Record<string, Tensor>;
    metadata = second as Record<string, string> | undefined;
    dtype = third?.dtype ?? 'float32';
  }
  const narrow = dtype === 'float16' ? floatToHalf : dtype === 'bfloat16' ? floatToBfloat16 : undefined;
  if (!narrow && dtype !== 'float32') throw new ValueError(`saveSafetensors: dtype must be 'float32', 'float16' or 'bfloat16', got ${String(dtype)}`);
  const size = narrow ? 2 : 4;
  const list: [string, Tensor][] = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new ValueError(`safetensors metadata value for '${k}' is not a string`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  for (const [name, t] of list) {
    if (name === METADATA_KEY) throw new ValueError(`a tensor cannot be named '${METADATA_KEY}'`);
    let count = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new ValueError(`tensor '${name}' has a bad shape [${t.shape.join(', ')}]`);
      count *= d;
    }
    if (t.data.length !== count) {
      throw new ShapeError(`tensor '${name}' has ${t.data.length} values, but its shape [${t.shape.join(', ')}] needs ${count}`);
    }
    Object.defineProperty(header, name, {
      value: { dtype: dtype === 'float16' ? 'F16' : dtype === 'bfloat16' ? 'BF16' : 'F32', shape: [...t.shape], data_offsets: [offset, offset + count * size] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset += count * size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const [, t] of list) {
    if (narrow) {
      for (let i = 0; i < t.data.length; i++) view.setUint16(pos + i * 2, narrow(t.data[i]), true);
    } else if (HOST_LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4), pos);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + i * 4, t.data[i], true);
    }
    pos += t.data.length * size;
  }
  return out;
}

/** The dtype saveSafetensors writes: float32 as stored, or half size (rounded to nearest even). */
export type SaveDtype = 'float32' | 'float16' | 'bfloat16';

/** Options of saveSafetensors(model, options). */
export interface SaveSafetensorsOptions {
  /** Add the optimizer's per-parameter state (`optimizer.<param>.<buffer>`). */
  optimizer?: boolean;
  /** String metadata for the header's `__metadata__`. */
  metadata?: Record<string, string>;
  /** 'float16' or 'bfloat16' write half-size files (values rounded to nearest, ties to even); default 'float32'. */
  dtype?: SaveDtype;
}
