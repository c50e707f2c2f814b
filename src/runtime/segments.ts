import { WasmCnnError } from '../lazy/kit';
// The static data of the shared-memory kernel build, taken out of the module (WebAssembly core
// spec, binary format: sections 11 "data" and 12 "data count"). Instantiating a module writes
// its active data segments into the memory, every time: a worker that instantiates the kernels
// on a memory already in use would reset the kernels' scratch blocks (and the split table)
// under a running model. Without the segments, an instance writes nothing; the host copies the
// data into each new memory once (writeSegments), before any instance runs. This is what lets
// the thread pool replace its workers at any time (threads.ts).

/** One active data segment: bytes to place at a fixed address. */
export interface Segment {
  offset: number;
  bytes: Uint8Array;
}

/** A module's bytes without its data segments, and the segments. */
export interface SplitModule {
  bytes: Uint8Array<ArrayBuffer>;
  segments: Segment[];
}

const DATA = 11;
const DATA_COUNT = 12;

/** Splits the data segments off a wasm module (which the caller has checked starts with the magic bytes). */
export function splitDataSegments(bytes: Uint8Array): SplitModule {
  let p = 8;
  const bad = (why: string): never => {
    throw new WasmCnnError(`the shared-memory kernel build is not a module wasmcnn can prepare for threads: ${why}`);
  };
  const u32 = (): number => {
    let r = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (p >= bytes.length) bad('it ends inside a number');
      const c = bytes[p++];
      r += (c & 0x7f) * 2 ** shift;
      if (!(c & 0x80)) return r;
    }
    return bad('a number is longer than 5 bytes');
  };
  const i32 = (): number => {
    let r = 0, shift = 0, c = 0;
    do {
      if (p >= bytes.length) bad('it ends inside a number');
      c = bytes[p++];
      r += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80 && shift < 35);
    return c & 0x40 ? r - 2 ** shift : r;
  };
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  const segments: Segment[] = [];
  while (p < bytes.length) {
    const start = p;
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (end > bytes.length) bad(`section ${id} runs past the end`);
    if (id === DATA) {
      const count = u32();
      for (let i = 0; i < count; i++) {
        const flags = u32();
        if (flags === 2 && u32() !== 0) bad('a data segment targets a second memory');
        if (flags !== 0 && flags !== 2) bad('a passive data segment');
        // the offset expression: i32.const n; end
        if (bytes[p++] !== 0x41) bad('a data segment offset that is not a constant');
        const offset = i32();
        if (bytes[p++] !== 0x0b) bad('a data segment offset that is not a constant');
        const n = u32();
        if (p + n > end) bad('a data segment runs past its section');
        segments.push({ offset: offset >>> 0, bytes: bytes.slice(p, p + n) });
        p += n;
      }
    } else if (id !== DATA_COUNT) {
      kept.push(bytes.subarray(start, end));
    }
    p = end;
  }
  const out = new Uint8Array(kept.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of kept) {
    out.set(b, at);
    at += b.length;
  }
  return { bytes: out, segments };
}
