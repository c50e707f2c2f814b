// Protocol Buffers binary wire format: a reader and a writer driven by small message tables,
// without generating code at run time (no string is ever compiled), so pages with a strict
// Content-Security-Policy (script-src 'self' 'wasm-unsafe-eval') can load ONNX files.
//
// Spec: https://protobuf.dev/programming-guides/encoding/ (wire types, varints, packed repeated
// fields, "last one wins" for scalars, merging of repeated embedded messages) and
// https://protobuf.dev/programming-guides/proto2/ (field presence). What this module does:
// - Wire types VARINT (0), I64 (1), LEN (2) and I32 (5). Groups (3, 4) are refused: no ONNX
//   message has one, and a decoder that skipped them would have to track nesting.
// - A known field must arrive with its wire type; a repeated scalar field is also accepted in the
//   other encoding (packed in one LEN record, or one record per element), as the spec requires of
//   every decoder. Unknown fields of every wire type are skipped.
// - int64/uint64 decode to a JS number, exact within ±(2^53 − 1) and clamped to
//   ±Number.MAX_SAFE_INTEGER beyond (never wrapped); int32/enums take the low 32 bits, signed.
// - `bytes` decode to a subarray view of the input (no copy); repeated float/double decode into a
//   Float32Array/Float64Array, filled once (a packed record is copied with one byte copy).
// - Nested messages are decoded in one pass; nesting deeper than MAX_DEPTH is refused, so a file
//   nesting graphs 10^5 deep throws a FormatError instead of overflowing the stack.
// - Every malformed input throws a FormatError naming the message, the field and the byte offset.
// - A message can be decoded while its bytes arrive (messageStream: each field once all its bytes
//   are in, into chosen embedded messages at their header); decodeMessage is that, fed nothing.
// The writer computes every message's size first and then writes into one exactly-sized buffer
// (linear in the output size; fields in field-number order; repeated scalars packed where the
// table says so).

import { FormatError } from '../errors';

/** Wire types (protobuf encoding spec). */
export const Wire = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/** Field value kinds a message table can name. */
export const Kind = {
  INT64: 0,
  UINT64: 1,
  INT32: 2,
  FLOAT: 3,
  DOUBLE: 4,
  STRING: 5,
  BYTES: 6,
  MESSAGE: 7,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** The wire type each kind is encoded with (a packed repeated field uses LEN instead). */
const KIND_WIRE: readonly number[] = [Wire.VARINT, Wire.VARINT, Wire.VARINT, Wire.I32, Wire.I64, Wire.LEN, Wire.LEN, Wire.LEN];
const KIND_NAME: readonly string[] = ['int64', 'uint64', 'int32', 'float', 'double', 'string', 'bytes', 'message'];
const WIRE_NAME: readonly string[] = ['VARINT', 'I64', 'LEN', 'SGROUP', 'EGROUP', 'I32', '6', '7'];

/** Embedded messages nested deeper than this are refused (protobuf C++'s default recursion limit). */
export const MAX_DEPTH = 100;

/** One field of a message table. */
export interface FieldSpec {
  /** Property name on the decoded object (the .proto field name). */
  readonly name: string;
  /** Field number. */
  readonly no: number;
  readonly kind: Kind;
  readonly repeated?: boolean;
  /** Encode this repeated scalar packed (decoding accepts both forms regardless). */
  readonly packed?: boolean;
  /** For MESSAGE fields, the table of the embedded message (a thunk, so tables can recurse). */
  readonly type?: () => MessageSpec;
  /** Other members of the same `oneof`: setting this field clears them. */
  readonly oneof?: readonly string[];
}

/** A message table: a name for error messages and its fields. */
export interface MessageSpec {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
}

/** A table prepared for decoding/encoding: fields indexed by number, sorted by number. */
interface Compiled {
  readonly name: string;
  readonly byNo: Map<number, FieldSpec>;
  readonly sorted: readonly FieldSpec[];
  readonly repeated: readonly FieldSpec[];
  readonly floatLists: readonly FieldSpec[];
}

const compiledCache = new WeakMap<MessageSpec, Compiled>();

function compile(spec: MessageSpec): Compiled {
  let c = compiledCache.get(spec);
  if (!c) {
    const sorted = [...spec.fields].sort((a, b) => a.no - b.no);
    c = {
      name: spec.name,
      byNo: new Map(sorted.map((f) => [f.no, f])),
      sorted,
      repeated: sorted.filter((f) => f.repeated),
      floatLists: sorted.filter((f) => f.repeated && (f.kind === Kind.FLOAT || f.kind === Kind.DOUBLE)),
    };
    compiledCache.set(spec, c);
  }
  return c;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TWO32 = 4294967296;
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8Decoder = new TextDecoder('utf-8');

/**
 * A 64-bit integer given as its two 32-bit halves → number, clamped to ±Number.MAX_SAFE_INTEGER.
 * `hi * 2^32 + lo` is exact whenever the true value is within ±2^53; beyond, it is clamped anyway.
 */
export function int64FromHalves(lo: number, hi: number, unsigned: boolean): number {
  const x = (unsigned ? hi >>> 0 : hi | 0) * TWO32 + (lo >>> 0);
  return x > MAX_SAFE ? MAX_SAFE : x < -MAX_SAFE ? -MAX_SAFE : x;
}

// ---- Reading ------------------------------------------------------------------------------------

/** A growing Float32Array/Float64Array for a repeated float/double field during decoding. */
class FloatList {
  arr: Float32Array | Float64Array;
  n: number;
  constructor(
    readonly double: boolean,
    start: Float32Array | Float64Array,
    extra: number,
  ) {
    this.n = start.length;
    this.arr = double ? new Float64Array(this.n + extra) : new Float32Array(this.n + extra);
    this.arr.set(start);
  }
  reserve(k: number): void {
    if (this.n + k <= this.arr.length) return;
    const cap = Math.max(this.n + k, this.arr.length * 2, 8);
    const next = this.double ? new Float64Array(cap) : new Float32Array(cap);
    next.set(this.arr.subarray(0, this.n));
    this.arr = next;
  }
  done(): Float32Array | Float64Array {
    return this.n === this.arr.length ? this.arr : this.arr.slice(0, this.n);
  }
}

/** Decoding state over one input buffer. Error messages start with `label` ("ONNX file"). */
class Reader {
  pos = 0;
  readonly view: DataView;
  /** The message and field being read, for error messages. */
  msg = '';
  field = '';

  constructor(
    readonly buf: Uint8Array,
    readonly label: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(detail: string, at: number = this.pos): never {
    const where = this.msg ? ` in ${this.msg}${this.field ? `.${this.field}` : ''}` : '';
    throw new FormatError(`${this.label} is truncated or corrupted: ${detail}${where} at byte ${at}`);
  }

  /** A varint's low 32 bits (as an unsigned number); consumes all of it (at most 10 bytes). */
  varint32(): number {
    const b = this.buf;
    let p = this.pos;
    if (p < b.length && b[p] < 0x80) {
      this.pos = p + 1;
      return b[p];
    }
    const start = p;
    let x = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (p >= b.length) this.fail('varint runs past the end of the data', start);
      const c = b[p++];
      if (shift < 32) x |= (c & 0x7f) << shift;
      if (c < 0x80) {
        if (shift === 63 && c > 1) this.fail('varint overflows 64 bits', start);
        this.pos = p;
        return x >>> 0;
      }
    }
    this.fail('varint longer than 10 bytes', start);
  }

  /** A varint as a 64-bit integer (signed, or unsigned), clamped to the safe-integer range. */
  varint64(unsigned: boolean): number {
    const b = this.buf;
    let p = this.pos;
    if (p < b.length && b[p] < 0x80) {
      this.pos = p + 1;
      return b[p];
    }
    const start = p;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= b.length) this.fail('varint runs past the end of the data', start);
      const c = b[p++];
      const v = c & 0x7f;
      if (i < 4) lo |= v << (7 * i);
      else if (i === 4) {
        lo |= v << 28;
        hi |= v >>> 4;
      } else hi |= v << (7 * i - 32);
      if (c < 0x80) {
        if (i === 9 && c > 1) this.fail('varint overflows 64 bits', start);
        this.pos = p;
        return int64FromHalves(lo, hi, unsigned);
      }
    }
    this.fail('varint longer than 10 bytes', start);
  }

  /** The length prefix of a LEN record; the record must fit in `end`. Returns its end. */
  lenEnd(end: number): number {
    const at = this.pos;
    // Read all 64 bits: a length of 2^32 + 3 must not pass for 3.
    const n = this.varint64(true);
    const e = this.pos + n;
    if (e > end) this.fail(`length ${n} runs past the end of the ${end === this.buf.length ? 'data' : 'enclosing message'}`, at);
    return e;
  }

  need(n: number, end: number): void {
    if (this.pos + n > end) this.fail(`${n}-byte value runs past the end of the ${end === this.buf.length ? 'data' : 'enclosing message'}`);
  }

  /** Skip a field's value of the given wire type. */
  skip(wire: number, end: number, at: number): void {
    switch (wire) {
      case Wire.VARINT:
        this.varint32();
        return;
      case Wire.I64:
        this.need(8, end);
        this.pos += 8;
        return;
      case Wire.LEN:
        this.pos = this.lenEnd(end);
        return;
      case Wire.I32:
        this.need(4, end);
        this.pos += 4;
        return;
      default: // groups and wire types 6, 7 are refused before a field is skipped
        this.fail(`invalid wire type ${wire}`, at);
    }
  }

  /** One scalar of a non-LEN kind. */
  scalar(kind: Kind, end: number): number {
    switch (kind) {
      case Kind.INT64:
        return this.varint64(false);
      case Kind.UINT64:
        return this.varint64(true);
      case Kind.INT32:
        return this.varint32() | 0;
      case Kind.FLOAT: {
        this.need(4, end);
        const v = this.view.getFloat32(this.pos, true);
        this.pos += 4;
        return v;
      }
      default: {
        this.need(8, end);
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
    }
  }

  string(end: number): string {
    const e = this.lenEnd(end);
    const b = this.buf;
    const p = this.pos;
    this.pos = e;
    if (e - p <= 32) {
      // Short ASCII names (the common case) without a TextDecoder call.
      let s = '';
      for (let i = p; i < e; i++) {
        const c = b[i];
        if (c >= 0x80) return utf8Decoder.decode(b.subarray(p, e));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8Decoder.decode(b.subarray(p, e));
  }

  bytes(end: number): Uint8Array {
    const e = this.lenEnd(end);
    const v = this.buf.subarray(this.pos, e);
    this.pos = e;
    return v;
  }

  /** Add a packed record of floats/doubles to a FloatList in one copy. */
  packedFloats(list: FloatList, end: number): void {
    const e = this.lenEnd(end);
    const size = list.double ? 8 : 4;
    const bytes = e - this.pos;
    if (bytes % size !== 0) this.fail(`packed ${list.double ? 'double' : 'float'} record of ${bytes} bytes is not a multiple of ${size}`);
    const count = bytes / size;
    list.reserve(count);
    if (HOST_LITTLE_ENDIAN) {
      new Uint8Array(list.arr.buffer, list.n * size, bytes).set(this.buf.subarray(this.pos, e));
    } else {
      for (let i = 0; i < count; i++)
        list.arr[list.n + i] = list.double ? this.view.getFloat64(this.pos + i * 8, true) : this.view.getFloat32(this.pos + i * 4, true);
    }
    list.n += count;
    this.pos = e;
  }
}

type Obj = Record<string, unknown>;

function newMessage(c: Compiled): Obj {
  const o: Obj = {};
  for (const f of c.repeated) {
    o[f.name] = f.kind === Kind.FLOAT ? new Float32Array(0) : f.kind === Kind.DOUBLE ? new Float64Array(0) : [];
  }
  return o;
}

/** Turn the FloatLists a message's decoding built into exactly-sized typed arrays. */
function finishLists(c: Compiled, o: Obj): void {
  for (const f of c.floatLists) if (o[f.name] instanceof FloatList) o[f.name] = (o[f.name] as FloatList).done();
}

/**
 * Decode message fields from r.pos up to `end` into `o` (repeated fields append, scalars and
 * oneof members overwrite, embedded messages merge, as the spec says for repeated occurrences).
 */
function decodeInto(r: Reader, c: Compiled, o: Obj, end: number, depth: number): void {
  if (depth > MAX_DEPTH) {
    r.msg = c.name;
    r.field = '';
    r.fail(`messages nested deeper than ${MAX_DEPTH} levels`);
  }
  while (r.pos < end) decodeField(r, c, o, end, depth);
  finishLists(c, o);
}

/** Decode the one field at r.pos of a message of table `c` that ends at `end`. */
function decodeField(r: Reader, c: Compiled, o: Obj, end: number, depth: number): void {
  const at = r.pos;
  r.msg = c.name;
  r.field = '';
  const tag = r.varint64(true);
  if (tag > 0xffffffff) r.fail(`invalid tag ${tag} (more than 32 bits)`, at);
  const no = tag >>> 3;
  const wire = tag & 7;
  if (no === 0) r.fail('field number 0', at);
  const f = c.byNo.get(no);
  r.field = f ? f.name : `#${no}`;
  if (wire === Wire.SGROUP || wire === Wire.EGROUP) r.fail(`groups (wire type ${wire}) are not supported`, at);
  if (wire > Wire.I32) r.fail(`invalid wire type ${wire}`, at);
  if (!f) {
    r.skip(wire, end, at);
    if (r.pos > end) r.fail('field runs past the end of its message', at);
    return;
  }
  const expected = KIND_WIRE[f.kind];
  const packedForm = f.repeated && wire === Wire.LEN && expected !== Wire.LEN;
  if (wire !== expected && !packedForm) {
    r.fail(`wire type ${WIRE_NAME[wire]} for a field of type ${KIND_NAME[f.kind]} (expected ${WIRE_NAME[expected]})`, at);
  }
  const name = f.name;
  if (f.kind === Kind.FLOAT || f.kind === Kind.DOUBLE) {
    if (f.repeated) {
      let list = o[name];
      if (!(list instanceof FloatList)) {
        list = new FloatList(f.kind === Kind.DOUBLE, list as Float32Array | Float64Array, 0);
        o[name] = list;
      }
      const l = list as FloatList;
      if (packedForm) r.packedFloats(l, end);
      else {
        l.reserve(1);
        l.arr[l.n++] = r.scalar(f.kind, end);
      }
    } else o[name] = r.scalar(f.kind, end);
  } else if (f.kind <= Kind.INT32) {
    if (f.repeated) {
      const arr = o[name] as number[];
      if (packedForm) {
        const e = r.lenEnd(end);
        while (r.pos < e) arr.push(r.scalar(f.kind, e));
      } else arr.push(r.scalar(f.kind, end));
    } else o[name] = r.scalar(f.kind, end);
  } else if (f.kind === Kind.STRING) {
    const s = r.string(end);
    if (f.repeated) (o[name] as string[]).push(s);
    else o[name] = s;
  } else if (f.kind === Kind.BYTES) {
    const b = r.bytes(end);
    if (f.repeated) (o[name] as Uint8Array[]).push(b);
    else o[name] = b;
  } else {
    const e = r.lenEnd(end);
    const sub = compile(f.type!());
    if (f.repeated) {
      const m = newMessage(sub);
      decodeInto(r, sub, m, e, depth + 1);
      (o[name] as Obj[]).push(m);
    } else decodeInto(r, sub, subMessage(o, f, sub), e, depth + 1);
  }
  if (f.oneof) for (const other of f.oneof) delete o[other];
  if (r.pos > end) {
    r.msg = c.name;
    r.field = f.name;
    r.fail('field runs past the end of its message', at);
  }
}

/** The embedded message a non-repeated message field merges into (created when absent). */
function subMessage(o: Obj, f: FieldSpec, sub: Compiled): Obj {
  return (o[f.name] as Obj | undefined) ?? (o[f.name] = newMessage(sub));
}

/** Views of `bytes` fields made in buffers a stream has since replaced → the same bytes of `to`. */
function rebind(v: unknown, to: Uint8Array, bases: Map<ArrayBufferLike, number>): unknown {
  if (v instanceof Uint8Array) {
    const base = bases.get(v.buffer);
    return base === undefined || v.buffer === to.buffer ? v : to.subarray(v.byteOffset - base, v.byteOffset - base + v.length);
  }
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = rebind(v[i], to, bases);
  else if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) for (const k in v) (v as Obj)[k] = rebind((v as Obj)[k], to, bases);
  return v;
}

/** A message being decoded by a {@link MessageStream}: its table, object, end and depth. */
interface Frame {
  readonly c: Compiled;
  readonly o: Obj;
  end: number;
  readonly depth: number;
}

/** A message decoded while its bytes arrive (see {@link messageStream}). */
export interface MessageStream<T> {
  /** More bytes arrived: `buf` holds the input from its first byte, `loaded` of them so far. */
  feed(buf: Uint8Array, loaded: number): void;
  /** All bytes arrived: the message, as {@link decodeMessage} gives it (or throws) for them. */
  finish(bytes: Uint8Array): T;
  /** Bytes of the input decoded so far (-1 once `feed` met malformed bytes). */
  decoded(): number;
}

/**
 * Decodes one message while its bytes arrive. `feed` decodes every field whose bytes are all
 * present (each call may pass a new, larger buffer), and enters the embedded messages of the
 * fields named in `open` (ModelProto.graph) as soon as their tag and length are, so their fields
 * are decoded as they arrive too. `finish` decodes the rest from the whole input: the same
 * object, and the same FormatError for malformed or truncated input, as {@link decodeMessage}
 * (which is this, fed nothing). `feed` never throws: at malformed bytes it stops, and `finish`
 * decodes the input whole for the error. `bytes` views made in a buffer other than the final one
 * are rebound to the final one's bytes.
 */
export function messageStream<T>(spec: MessageSpec, label: string, open: ReadonlySet<string> = new Set()): MessageStream<T> {
  const c = compile(spec);
  const frames: Frame[] = [{ c, o: newMessage(c), end: Infinity, depth: 0 }];
  let pos = 0;
  let failed = false;
  // bytes needed before a feed can decode anything more (the pending field's end)
  let need = 0;
  // the buffers fields were decoded from, with the byte offset where the input starts in each
  const bases = new Map<ArrayBufferLike, number>();
  return {
    decoded: () => (failed ? -1 : pos),
    feed(buf, loaded) {
      if (failed || loaded < need) return;
      const r = new Reader(buf.subarray(0, loaded), label);
      r.pos = pos;
      for (;;) {
        const fr = frames[frames.length - 1];
        if (r.pos === fr.end && frames.length > 1) {
          frames.pop();
          finishLists(fr.c, fr.o);
          continue;
        }
        const at = r.pos;
        if (at >= loaded) break;
        let end: number;
        try {
          // the field's extent, if its tag and length (or value) are all present
          const tag = r.varint64(true);
          const f = fr.c.byNo.get(Math.floor(tag / 8));
          if (tag % 8 === Wire.LEN && f && f.kind === Kind.MESSAGE && !f.repeated && open.has(f.name) && fr.depth < MAX_DEPTH) {
            end = r.lenEnd(fr.end);
            const sub = compile(f.type!());
            if (f.oneof) for (const other of f.oneof) delete fr.o[other];
            frames.push({ c: sub, o: subMessage(fr.o, f, sub), end, depth: fr.depth + 1 });
            continue;
          }
          r.skip(tag % 8, Infinity, at);
          end = r.pos;
        } catch {
          r.pos = at;
          need = loaded + 1;
          break; // incomplete (or malformed: finish reports it)
        }
        r.pos = at;
        if (end > loaded) {
          need = end;
          break;
        }
        try {
          decodeField(r, fr.c, fr.o, fr.end, fr.depth);
        } catch {
          r.pos = at;
          failed = true;
          break;
        }
      }
      if (r.pos > pos) bases.set(buf.buffer, buf.byteOffset);
      pos = r.pos;
    },
    finish(bytes) {
      // broken input (or a message entered that the input ends inside): decode it whole, for
      // decodeMessage's own error
      if (failed || pos > bytes.length || frames.some((fr, i) => i > 0 && fr.end > bytes.length)) return messageStream<T>(spec, label).finish(bytes);
      const root = frames[0].o;
      if (bases.size > 1 || (bases.size === 1 && !bases.has(bytes.buffer))) rebind(root, bytes, bases);
      const r = new Reader(bytes, label);
      r.pos = pos;
      frames[0].end = bytes.length;
      for (let i = frames.length - 1; i >= 0; i--) decodeInto(r, frames[i].c, frames[i].o, frames[i].end, frames[i].depth);
      return root as T;
    },
  };
}

/**
 * Decode one message of table `spec` from `bytes` (the whole buffer). Absent scalar and message
 * fields are `undefined`; repeated fields are always present (empty when absent).
 *
 * @param label  names the input in error messages, e.g. "ONNX file".
 * @throws FormatError naming the message, field and byte offset of any malformation.
 */
export function decodeMessage<T>(spec: MessageSpec, bytes: Uint8Array, label: string): T {
  return messageStream<T>(spec, label).finish(bytes);
}

// ---- Writing ------------------------------------------------------------------------------------

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Bytes of a 64-bit varint of a number (or bigint); negatives take 10 bytes. */
function varint64Size(v: number | bigint): number {
  if (typeof v === 'bigint') {
    let u = BigInt.asUintN(64, v);
    let k = 1;
    while (u >= 128n) {
      u >>= 7n;
      k++;
    }
    return k;
  }
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes
      i++;
    } else n += 2;
  }
  return n;
}

function internal(msg: string): Error {
  return new Error(`internal: cannot encode protobuf (${msg})`);
}

/** Value as a number for a 32-bit/float field, checking its type. */
function num(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw internal(`${where} is ${typeof v}, not a number`);
}

class Writer {
  pos = 0;
  readonly buf: Uint8Array;
  readonly view: DataView;
  readonly encoder = new TextEncoder();
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  varint(n: number): void {
    const b = this.buf;
    while (n >= 0x80) {
      b[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[this.pos++] = n;
  }
  varint64(v: number | bigint): void {
    let lo: number;
    let hi: number;
    if (typeof v === 'bigint') {
      const u = BigInt.asUintN(64, v);
      lo = Number(u & 0xffffffffn);
      hi = Number(u >> 32n);
    } else {
      hi = Math.floor(v / TWO32);
      lo = v - hi * TWO32;
      hi >>>= 0; // two's complement of negative values
    }
    const b = this.buf;
    while (hi !== 0 || lo >= 0x80) {
      b[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[this.pos++] = lo;
  }
  string(s: string, len: number): void {
    this.varint(len);
    if (len === s.length) {
      for (let i = 0; i < len; i++) this.buf[this.pos + i] = s.charCodeAt(i);
    } else this.encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
  }
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** Sizes of embedded messages, computed once before writing. */
type Sizes = Map<Obj, number>;

function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function scalarSize(kind: Kind, v: unknown, where: string): number {
  switch (kind) {
    case Kind.INT64:
    case Kind.UINT64:
      if (typeof v !== 'number' && typeof v !== 'bigint') throw internal(`${where} is ${typeof v}, not a number`);
      return varint64Size(v);
    case Kind.INT32: {
      const n = num(v, where);
      return n < 0 ? 10 : varintSize(n);
    }
    case Kind.FLOAT:
      num(v, where);
      return 4;
    default:
      num(v, where);
      return 8;
  }
}

function lenSize(n: number): number {
  return varintSize(n) + n;
}

/** Size of one value of a field (without its tag). */
function valueSize(f: FieldSpec, v: unknown, sizes: Sizes, where: string): number {
  switch (f.kind) {
    case Kind.STRING:
      if (typeof v !== 'string') throw internal(`${where} is ${typeof v}, not a string`);
      return lenSize(utf8Length(v));
    case Kind.BYTES:
      if (!(v instanceof Uint8Array)) throw internal(`${where} is not a Uint8Array`);
      return lenSize(v.length);
    case Kind.MESSAGE:
      if (typeof v !== 'object' || v === null) throw internal(`${where} is not an object`);
      return lenSize(messageSize(compile(f.type!()), v as Obj, sizes));
    default:
      return scalarSize(f.kind, v, where);
  }
}

function asList(v: unknown, where: string): ArrayLike<unknown> {
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return v as unknown as ArrayLike<unknown>;
  throw internal(`${where} is not an array`);
}

function messageSize(c: Compiled, o: Obj, sizes: Sizes): number {
  let n = 0;
  for (const f of c.sorted) {
    const v = o[f.name];
    if (!isPresent(v)) continue;
    const where = `${c.name}.${f.name}`;
    const tag = varintSize(f.no * 8);
    if (f.repeated) {
      const list = asList(v, where);
      if (list.length === 0) continue;
      if (f.packed && (f.kind === Kind.FLOAT || f.kind === Kind.DOUBLE)) {
        n += tag + lenSize(list.length * (f.kind === Kind.FLOAT ? 4 : 8));
      } else if (f.packed) {
        let body = 0;
        for (let i = 0; i < list.length; i++) body += scalarSize(f.kind, list[i], where);
        n += tag + lenSize(body);
      } else {
        for (let i = 0; i < list.length; i++) n += tag + valueSize(f, list[i], sizes, where);
      }
    } else n += tag + valueSize(f, v, sizes, where);
  }
  sizes.set(o, n);
  return n;
}

function writeScalar(w: Writer, kind: Kind, v: unknown): void {
  switch (kind) {
    case Kind.INT64:
    case Kind.UINT64:
      w.varint64(v as number | bigint);
      return;
    case Kind.INT32: {
      const n = Number(v);
      if (n < 0) w.varint64(n);
      else w.varint(n);
      return;
    }
    case Kind.FLOAT:
      w.view.setFloat32(w.pos, Number(v), true);
      w.pos += 4;
      return;
    default:
      w.view.setFloat64(w.pos, Number(v), true);
      w.pos += 8;
  }
}

function writeValue(w: Writer, f: FieldSpec, v: unknown, sizes: Sizes): void {
  switch (f.kind) {
    case Kind.STRING: {
      const s = v as string;
      w.string(s, utf8Length(s));
      return;
    }
    case Kind.BYTES:
      w.bytes(v as Uint8Array);
      return;
    case Kind.MESSAGE: {
      const m = v as Obj;
      w.varint(sizes.get(m)!);
      writeMessage(w, compile(f.type!()), m, sizes);
      return;
    }
    default:
      writeScalar(w, f.kind, v);
  }
}

function writeMessage(w: Writer, c: Compiled, o: Obj, sizes: Sizes): void {
  for (const f of c.sorted) {
    const v = o[f.name];
    if (!isPresent(v)) continue;
    if (f.repeated) {
      const list = v as ArrayLike<unknown>;
      if (list.length === 0) continue;
      if (f.packed) {
        w.varint(f.no * 8 + Wire.LEN);
        if (f.kind === Kind.FLOAT || f.kind === Kind.DOUBLE) {
          const size = f.kind === Kind.FLOAT ? 4 : 8;
          w.varint(list.length * size);
          const typed = f.kind === Kind.FLOAT ? list instanceof Float32Array : list instanceof Float64Array;
          if (typed && HOST_LITTLE_ENDIAN) {
            const t = list as Float32Array | Float64Array;
            w.buf.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), w.pos);
            w.pos += t.byteLength;
          } else for (let i = 0; i < list.length; i++) writeScalar(w, f.kind, list[i]);
        } else {
          let body = 0;
          for (let i = 0; i < list.length; i++) body += scalarSize(f.kind, list[i], '');
          w.varint(body);
          for (let i = 0; i < list.length; i++) writeScalar(w, f.kind, list[i]);
        }
      } else {
        const tag = f.no * 8 + KIND_WIRE[f.kind];
        for (let i = 0; i < list.length; i++) {
          w.varint(tag);
          writeValue(w, f, list[i], sizes);
        }
      }
    } else {
      w.varint(f.no * 8 + KIND_WIRE[f.kind]);
      writeValue(w, f, v, sizes);
    }
  }
}

/**
 * Encode a message of table `spec` from a plain object with the table's field names. Absent
 * (`undefined`/`null`) fields and empty repeated fields are not written; int64 fields take a
 * number or a bigint. Sizes are computed first, then one exactly-sized buffer is filled.
 *
 * @throws Error (an internal error: the caller built a malformed object) for a value of the
 *   wrong type.
 */
export function encodeMessage(spec: MessageSpec, msg: object): Uint8Array {
  const sizes: Sizes = new Map();
  const c = compile(spec);
  const size = messageSize(c, msg as Obj, sizes);
  const w = new Writer(size);
  writeMessage(w, c, msg as Obj, sizes);
  if (w.pos !== size) throw internal(`wrote ${w.pos} bytes, computed ${size}`);
  return w.buf;
}
