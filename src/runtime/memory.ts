// One WebAssembly.Memory per model: [static data | activation arena | weights, params | scratch].
// Memory grows only while a model is being planned; `run` never grows it. Typed-array views
// are re-created whenever a grow has detached the old buffer.
import { WasmCnnError } from '../errors';

const PAGE = 65536;
/** Pages of the shared-memory build's declared maximum (asconfig.json maximumMemory). */
const MAX_PAGES = 65536;

export class Mem {
  readonly memory: WebAssembly.Memory;
  private top = 0;
  private f32view = new Float32Array(0);
  private i32view = new Int32Array(0);

  /**
   * shared: a SharedArrayBuffer-backed memory (threads). It must declare its maximum up front:
   * the 4 GiB of wasm32 where the engine can reserve it, else 1 GiB (e.g. 32-bit browsers).
   */
  constructor(options: { shared?: boolean } = {}) {
    if (!options.shared) {
      this.memory = new WebAssembly.Memory({ initial: 1 });
      return;
    }
    try {
      this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES / 4, shared: true });
    }
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
    const p = this.top;
    this.top = align(p + Math.max(bytes, 0), 64);
    this.ensure(this.top);
    return p;
  }

  /** Current bump position, to give back temporary space with `reset`. */
  mark(): number {
    return this.top;
  }

  /** Drop every allocation made since `mark` (plan-time temporaries). */
  reset(mark: number): void {
    this.top = mark;
  }

  /**
   * Grow the memory to hold `bytes`. Past wasm32's 4 GiB (65536 pages), or when the engine
   * refuses to grow, a WasmCnnError names the size wanted and the limit met.
   */
  ensure(bytes: number): void {
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
