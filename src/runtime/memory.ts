// One WebAssembly.Memory per model: [static data | activation arena | weights, params | scratch].
// Memory grows only while a model is being planned; `run` never grows it. Typed-array views
// are re-created whenever a grow has detached the old buffer. A model with dynamic input shapes
// turns on owner tracking: each allocation belongs to a plan (or to the shared weights), an
// evicted plan's blocks go back to a first-fit free list (address-ordered, coalesced), so the
// memory of many shapes is bounded by the weights plus the plans cached at once.
import { WasmCnnError } from '../errors';
import { undecodedBytes, type Tensor } from '../graph/ir';

const PAGE = 65536;
/** Pages of the shared-memory build's declared maximum (asconfig.json maximumMemory). */
const MAX_PAGES = 65536;

export class Mem {
  readonly memory: WebAssembly.Memory;
  private top = 0;
  /** The highest address ensure() was asked for. */
  private peak = 0;
  private f32view = new Float32Array(0);
  private i32view = new Int32Array(0);
  /** Owner tracking (dynamic models): the allocation log and the free list; undefined when off. */
  private track: { log: { p: number; size: number; owner: number }[]; free: { p: number; size: number }[]; owner: number } | undefined;

  /**
   * shared: a SharedArrayBuffer-backed memory (threads). It must declare its maximum up front:
   * the 4 GiB of wasm32 where the engine can reserve it, else 1 GiB (e.g. 32-bit browsers).
   */
  constructor(options: { shared?: boolean; reuse?: WebAssembly.Memory } = {}) {
    if (!options.shared) {
      this.memory = options.reuse ?? new WebAssembly.Memory({ initial: 1 });
      return;
    }
    try {
      this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES / 4, shared: true });
    }
  }

  /**
   * Bytes of memory in use: everything up to the highest address ever asked for, in whole pages
   * (the memory's size, unless it was reused from a larger model: see wasm.ts recycleMemory).
   */
  get inUse(): number {
    return Math.min(this.memory.buffer.byteLength, Math.max(PAGE, align(this.peak, PAGE)));
  }

  /** Start bump allocation at `base` (the kernels' heap base). */
  setBase(base: number): void {
    this.top = align(base, 64);
  }

  /** Bytes handed out so far (the high-water mark of the bump allocator). */
  get used(): number {
    return this.top;
  }

  /** Reserve `bytes` (64-byte aligned) at plan time, growing the memory if needed. */
  alloc(bytes: number): number {
    const t = this.track;
    if (t) return this.allocTracked(t, align(Math.max(bytes, 0), 64));
    const p = this.top;
    this.top = align(p + Math.max(bytes, 0), 64);
    this.ensure(this.top);
    return p;
  }

  /** Current bump position (or allocation count when tracking), to give back temporary space with `reset`. */
  mark(): number {
    return this.track ? this.track.log.length : this.top;
  }

  /** Drop every allocation made since `mark` (plan-time temporaries). */
  reset(mark: number): void {
    const t = this.track;
    if (!t) {
      this.top = mark;
      return;
    }
    while (t.log.length > mark) this.release(t, t.log.pop()!);
  }

  /**
   * Turn on owner tracking (before the first allocation that may be freed): from now on every
   * allocation belongs to the current owner (see `owner`) and `free(owner)` gives its blocks back.
   */
  enableTracking(): void {
    this.track ??= { log: [], free: [], owner: 0 };
  }

  /** The owner new allocations are charged to (tracking on); returns the previous one. */
  /** A memory owner id no other caller holds (for setOwner/free). */
  newOwner(): number {
    return this.nextOwner++;
  }

  private nextOwner = 1;

  setOwner(owner: number): number {
    const t = this.track;
    if (!t) throw new WasmCnnError('internal: Mem.setOwner without tracking');
    const prev = t.owner;
    t.owner = owner;
    return prev;
  }

  /** Give back every block of `owner` (tracking on); returns the bytes freed. */
  free(owner: number): number {
    const t = this.track;
    if (!t) throw new WasmCnnError('internal: Mem.free without tracking');
    let bytes = 0;
    const kept = [];
    for (const b of t.log) {
      if (b.owner !== owner) kept.push(b);
      else {
        bytes += b.size;
        this.release(t, b);
      }
    }
    t.log = kept;
    return bytes;
  }

  /** Bytes currently held by `owner`, or by the owners of a set (tracking on). */
  held(owner: number | Set<number>): number {
    let n = 0;
    for (const b of this.track?.log ?? []) if (typeof owner === 'number' ? b.owner === owner : owner.has(b.owner)) n += b.size;
    return n;
  }

  private allocTracked(t: NonNullable<Mem['track']>, size: number): number {
    let p = -1;
    if (size > 0)
      for (let i = 0; i < t.free.length; i++) {
        const f = t.free[i];
        if (f.size < size) continue;
        p = f.p;
        if (f.size === size) t.free.splice(i, 1);
        else {
          f.p += size;
          f.size -= size;
        }
        break;
      }
    if (p < 0) {
      p = this.top;
      this.ensure(p + size);
      this.top = p + size;
    }
    t.log.push({ p, size, owner: t.owner });
    return p;
  }

  /** Put a block on the free list (address order, merged with neighbours; the top one lowers `top`). */
  private release(t: NonNullable<Mem['track']>, b: { p: number; size: number }): void {
    if (b.size === 0) return;
    const free = t.free;
    let i = 0;
    while (i < free.length && free[i].p < b.p) i++;
    free.splice(i, 0, { p: b.p, size: b.size });
    if (i + 1 < free.length && free[i].p + free[i].size === free[i + 1].p) {
      free[i].size += free[i + 1].size;
      free.splice(i + 1, 1);
    }
    if (i > 0 && free[i - 1].p + free[i - 1].size === free[i].p) {
      free[i - 1].size += free[i].size;
      free.splice(i, 1);
      i--;
    }
    const last = free[free.length - 1];
    if (last.p + last.size === this.top) {
      this.top = last.p;
      free.pop();
    }
  }

  /**
   * Grow the memory to hold `bytes`. Past wasm32's 4 GiB (65536 pages), or when the engine
   * refuses to grow, a WasmCnnError names the size wanted and the limit met.
   */
  ensure(bytes: number): void {
    if (bytes > this.peak) this.peak = bytes;
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    const need = mib(bytes);
    if (!Number.isFinite(bytes) || have / PAGE + pages > MAX_PAGES)
      throw new WasmCnnError(`the model needs ${need} of wasm memory; wasm32 addresses at most 4096 MiB`);
    try {
      this.memory.grow(pages);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      throw new WasmCnnError(
        `the model needs ${need} of wasm memory; the engine refused to grow it from ${mib(have)} (its limit, or the machine's memory, is lower)`,
      );
    }
  }

  get f32(): Float32Array {
    if (this.f32view.buffer !== this.memory.buffer) this.f32view = new Float32Array(this.memory.buffer);
    return this.f32view;
  }

  get i32(): Int32Array {
    if (this.i32view.buffer !== this.memory.buffer) this.i32view = new Int32Array(this.memory.buffer);
    return this.i32view;
  }

  /** Copy floats in and return their address (plan time). */
  putF32(data: ArrayLike<number>): number {
    const p = this.alloc(data.length * 4);
    this.f32.set(data, p >>> 2);
    return p;
  }

  /**
   * Copy a float tensor's values in and return their address (plan time). A tensor still in its
   * file's bytes (fileTensor) is copied from them directly, never decoded on the host.
   */
  putTensor(t: Tensor): number {
    const raw = undecodedBytes(t);
    if (!raw) return this.putF32(t.data);
    const p = this.alloc(raw.length);
    new Uint8Array(this.memory.buffer, p, raw.length).set(raw);
    return p;
  }

  /** Copy ints in and return their address (plan time: shapes, strides, params blocks). */
  putI32(data: ArrayLike<number>): number {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      // a kernel parameter reads this as i32 (or as u32 when it is an address): anything else is a bug upstream
      // an i32 or a u32 (NaN and fractions fail both): a cheap test, tables reach tens of millions
      if ((v | 0) !== v && v >>> 0 !== v)
        throw new WasmCnnError(`internal: kernel parameter ${v} at position ${i} does not fit 32 bits (an attribute escaped validation)`);
    }
    const p = this.alloc(data.length * 4);
    this.i32.set(data, p >>> 2);
    return p;
  }
}

/** Bytes as MiB for messages: "0.06 MiB", "12 MiB", "4097 MiB". */
function mib(bytes: number): string {
  const m = bytes / 2 ** 20;
  return `${m < 10 ? m.toFixed(2).replace(/\.?0+$/, '') : Math.ceil(m).toFixed(0)} MiB`;
}

export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
