// Test-side helpers (not shipped) for the torchvision detector exports of
// test/fixtures/detection-onnx/ (written by tools/detection_onnx.py): read a gzipped stripped
// graph, put deterministic values back into the float initializers the tool emptied, and draw a
// deterministic synthetic picture to run the detectors on.
//
// The ONNX file is patched at the protobuf wire level (https://protobuf.dev/programming-guides/
// encoding/): ModelProto.graph (field 7) -> GraphProto.initializer (field 5) -> TensorProto
// dims (1), data_type (2), name (8), raw_data (9) (onnx.proto). Every other byte is copied as it
// is, so nothing the exporter wrote (subgraphs, value_info, metadata) is lost in a decode/encode
// round trip. A stripped initializer is a FLOAT TensorProto with dims whose product is > 0 and no
// data; it gets a raw_data record of little-endian float32 values appended.
//
// Values: a splitmix32 stream seeded by the FNV-1a hash of the initializer's name, uniform with
// standard deviation `gain * sqrt(2 / fan_in)` for conv weights (He et al. 2015, fan_in =
// dims[1]*dims[2]*dims[3]) and `gain * sqrt(1 / fan_in)` for 2-D (Linear) weights, fan_in =
// dims[1]; 1-D tensors get `bias1d * (u + biasShift)`. The exports fold batch norm into the
// convolutions, so He scaling keeps activations of finite, moderate size through the body.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

/** Where the stripped graphs live. */
export const FIXTURES = new URL('./fixtures/detection-onnx/', import.meta.url);

/** One entry of manifest.json (written by tools/detection_onnx.py). */
export interface DetectionOnnxEntry {
  file?: string;
  model?: string;
  opset?: number;
  error?: string;
  fullBytes?: number;
  gzipBytes?: number;
  stripped?: number;
  strippedElements?: number;
  /** Standard deviation of each stripped tensor's exported values. */
  scales?: Record<string, number>;
}

/** manifest.json: export results keyed `<model>_opset<N>` (plus `_`-prefixed notes). */
export function readManifest(): Record<string, DetectionOnnxEntry> {
  const m = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as Record<string, DetectionOnnxEntry>;
  return Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('_')));
}

/** The stripped graph `<key>.onnx.gz`, un-gzipped. */
export function readStripped(key: string): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(new URL(`${key}.onnx.gz`, FIXTURES))));
}

/** Tuning of the fill (defaults chosen so the four detectors give tens of distinct detections). */
export interface FillOptions {
  /** Per-tensor standard deviations (manifest `scales`); a tensor not named gets the He / LeCun default. */
  scales?: Record<string, number>;
  /** Multiplies the He / LeCun standard deviation of every filled weight (default 1). */
  gain?: number;
  /** Scale of filled 1-D tensors (default 0.05). */
  bias1d?: number;
  /** Shift of filled 1-D tensors' uniform draw in [-1, 1) (default 0.2: biases slightly positive). */
  biasShift?: number;
}

// ---- wire-level reading ------------------------------------------------------------------

function readVarint(b: Uint8Array, p: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (p >= b.length) throw new Error('truncated varint');
    const c = b[p++];
    v += (c & 0x7f) * mul;
    if (!(c & 0x80)) return [v, p];
    mul *= 128;
  }
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

interface Field {
  no: number;
  wire: number;
  /** Whole record (tag, length, payload). */
  start: number;
  end: number;
  /** Payload of a LEN record / value of a VARINT. */
  dataStart: number;
  value: number;
}

function fields(b: Uint8Array, start = 0, end = b.length): Field[] {
  const out: Field[] = [];
  let p = start;
  while (p < end) {
    const s = p;
    let tag: number;
    [tag, p] = readVarint(b, p);
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    let value = 0;
    let dataStart = p;
    if (wire === 0) [value, p] = readVarint(b, p);
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      [value, p] = readVarint(b, p);
      dataStart = p;
      p += value;
    } else throw new Error(`unsupported wire type ${wire} at ${s}`);
    if (p > end) throw new Error(`field ${no} overruns its message at ${s}`);
    out.push({ no, wire, start: s, end: p, dataStart, value });
  }
  return out;
}

function lenRecord(no: number, payload: Uint8Array[]): Uint8Array[] {
  const n = payload.reduce((s, x) => s + x.length, 0);
  return [Uint8Array.from([...varintBytes(no * 8 + 2), ...varintBytes(n)]), ...payload];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

// ---- deterministic values ----------------------------------------------------------------

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Uniform floats in [-1, 1) from splitmix32 seeded by `seed`. */
function uniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    out[i] = (z / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** The deterministic values of a stripped float initializer `name` of shape `dims`. */
export function fillValues(name: string, dims: number[], opts: FillOptions = {}): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const u = uniform(n, fnv1a(name));
  const gain = opts.gain ?? 1;
  let scale: number;
  let shift = 0;
  if (opts.scales?.[name] !== undefined) scale = gain * opts.scales[name];
  else if (dims.length === 4) scale = gain * Math.sqrt(2 / (dims[1] * dims[2] * dims[3]));
  else if (dims.length === 2) scale = gain * Math.sqrt(1 / dims[1]);
  else if (dims.length === 1) {
    scale = (opts.bias1d ?? 0.05) / Math.sqrt(3);
    shift = opts.biasShift ?? 0.2;
  } else scale = gain * Math.sqrt(1 / (n / dims[0]));
  // a uniform draw in [-1, 1) has standard deviation 1/sqrt(3)
  const k = scale * Math.sqrt(3);
  for (let i = 0; i < n; i++) u[i] = (u[i] + shift) * k;
  return u;
}

const FLOAT = 1;

/** Patch one TensorProto: returns the new bytes, or undefined when it is not a stripped float tensor. */
function fillTensor(b: Uint8Array, f: Field, opts: FillOptions, filled: string[]): Uint8Array | undefined {
  const fs = fields(b, f.dataStart, f.end);
  const dims: number[] = [];
  let type = FLOAT;
  let name = '';
  let hasData = false;
  for (const x of fs) {
    if (x.no === 1 && x.wire === 0) dims.push(x.value);
    else if (x.no === 1 && x.wire === 2) {
      for (let p = x.dataStart; p < x.end; ) {
        let d: number;
        [d, p] = readVarint(b, p);
        dims.push(d);
      }
    } else if (x.no === 2) type = x.value;
    else if (x.no === 8) name = new TextDecoder().decode(b.subarray(x.dataStart, x.end));
    else if (x.no === 4 || x.no === 9 || x.no === 13) hasData ||= x.wire !== 2 || x.value > 0; // float_data, raw_data, external_data
  }
  const n = dims.reduce((a, c) => a * c, 1);
  if (type !== FLOAT || hasData || n === 0 || dims.length === 0) return undefined;
  const v = fillValues(name, dims, opts);
  filled.push(name);
  const raw = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return concat(lenRecord(5, [b.subarray(f.dataStart, f.end), ...lenRecord(9, [raw])]));
}

/**
 * Rebuild a full ONNX file from a stripped one: every FLOAT initializer with dims but no data
 * gets deterministic values (see the file header). Other bytes are kept as they are.
 * `report`, when given, receives the names filled.
 */
export function fillStripped(bytes: Uint8Array, opts: FillOptions = {}, report?: string[]): Uint8Array {
  const filled: string[] = report ?? [];
  const out: Uint8Array[] = [];
  for (const f of fields(bytes)) {
    if (f.no !== 7 || f.wire !== 2) {
      out.push(bytes.subarray(f.start, f.end));
      continue;
    }
    const g: Uint8Array[] = [];
    for (const x of fields(bytes, f.dataStart, f.end)) {
      const patched = x.no === 5 && x.wire === 2 ? fillTensor(bytes, x, opts, filled) : undefined;
      g.push(patched ?? bytes.subarray(x.start, x.end));
    }
    out.push(...lenRecord(7, g));
  }
  return concat(out);
}

/**
 * A deterministic [3, h, w] picture in [0, 1]: a smooth colour gradient with a few soft-edged
 * rectangles and discs of distinct colours (things a detector's features respond to), the same
 * scene at every size (coordinates are relative).
 */
export function syntheticImage(h: number, w: number): Float32Array {
  const img = new Float32Array(3 * h * w);
  const shapes = [
    { kind: 'rect', x0: 0.1, y0: 0.15, x1: 0.45, y1: 0.6, c: [0.9, 0.2, 0.15] },
    { kind: 'disc', cx: 0.7, cy: 0.35, r: 0.18, c: [0.1, 0.3, 0.85] },
    { kind: 'rect', x0: 0.55, y0: 0.65, x1: 0.95, y1: 0.9, c: [0.95, 0.9, 0.2] },
    { kind: 'disc', cx: 0.25, cy: 0.8, r: 0.1, c: [0.15, 0.8, 0.3] },
  ] as const;
  for (let y = 0; y < h; y++) {
    const v = (y + 0.5) / h;
    for (let x = 0; x < w; x++) {
      const u = (x + 0.5) / w;
      let px = [0.5 + 0.3 * Math.sin(5 * u + 2 * v), 0.45 + 0.25 * Math.cos(4 * v - 3 * u), 0.4 + 0.2 * Math.sin(7 * u * v)];
      for (const s of shapes) {
        let a: number;
        if (s.kind === 'rect') {
          const d = Math.min(u - s.x0, s.x1 - u, v - s.y0, s.y1 - v);
          a = Math.min(1, Math.max(0, d * 60 + 0.5));
        } else {
          const d = s.r - Math.hypot(u - s.cx, v - s.cy);
          a = Math.min(1, Math.max(0, d * 60 + 0.5));
        }
        if (a > 0) px = px.map((p, c) => p * (1 - a) + s.c[c] * a * (0.85 + 0.15 * Math.sin(20 * u + 13 * v)));
      }
      for (let c = 0; c < 3; c++) img[(c * h + y) * w + x] = Math.min(1, Math.max(0, px[c]));
    }
  }
  return img;
}
