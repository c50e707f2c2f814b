// Finding, compiling and instantiating dist/wasmcnn.wasm: one path for every runtime.
// Node reads the file next to the module; browsers and bundlers resolve
// new URL('./wasmcnn.wasm', import.meta.url); init({ wasm }) overrides either.
// dist/wasmcnn-relaxed.wasm (same sources, GEMM multiply-adds as f32x4.relaxed_madd) sits next
// to it; init({ simd: 'auto' }) picks it when the engine validates a tiny relaxed-SIMD module.
// init({ threads: n }) adds the shared-memory builds (wasmcnn-mt.wasm, wasmcnn-relaxed-mt.wasm:
// the same sources, memory declared shared) and a pool of n - 1 workers (threads.ts).
import { ValueError, WasmCnnError } from '../errors';
import type { Kernels } from './kernels';
import { Mem } from './memory';
import { Pool, threadsUnavailable } from './threads';

export type WasmSource = URL | string | BufferSource | WebAssembly.Module;

/** Which kernel build to load: baseline SIMD128, relaxed SIMD (FMA), or relaxed where supported. */
export type SimdLevel = 'baseline' | 'relaxed' | 'auto';

export interface InitOptions {
  /** Where the kernels come from: a URL or path, the bytes, or a compiled module (then `simd` is not consulted). */
  wasm?: WasmSource;
  /**
   * 'auto' (default): wasmcnn-relaxed.wasm when the engine supports relaxed SIMD (Node >= 22,
   * Chrome >= 114; and the file loads), else wasmcnn.wasm. 'baseline': always wasmcnn.wasm,
   * bit-identical results on every engine. 'relaxed' insists on the relaxed build. The relaxed
   * build fuses multiply-adds, so its results differ from the baseline's in the last bits.
   */
  simd?: SimdLevel;
  /**
   * Threads each model created afterwards runs on (default 1). With n > 1, convolutions and
   * GEMMs are split over the calling thread and n - 1 workers; results are bit-identical to one
   * thread. Needs SharedArrayBuffer: in browsers a cross-origin isolated page (COOP
   * same-origin + COEP require-corp); without it wasmcnn warns once and runs on one thread.
   * Models already created keep the threads they were created with.
   */
  threads?: number;
  /** With `wasm` and threads > 1: the matching shared-memory build (wasmcnn-mt.wasm). */
  wasmThreads?: WasmSource;
}

let compiled: Promise<WebAssembly.Module> | undefined;
let compiledShared: Promise<WebAssembly.Module> | undefined;
let pool: Pool | undefined;
let threads = 1;
let source: { wasm?: WasmSource; wasmThreads?: WasmSource; simd: SimdLevel } = { simd: 'auto' };

/** A module whose one function computes f32x4.relaxed_madd of three v128 constants. */
function relaxedProbe(): Uint8Array<ArrayBuffer> {
  const v128const = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0x00, ...v128const, ...v128const, ...v128const, 0xfd, 0x85, 0x02, 0x0b];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, body.length + 2, 0x01, body.length, ...body,
  ]);
}

/** True when this engine accepts relaxed-SIMD instructions (e.g. Node 20 with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(relaxedProbe());
  } catch {
    return false;
  }
}

const isNode =
  typeof process !== 'undefined' && typeof process.versions === 'object' && !!process.versions.node;

async function readSource(src: URL | string): Promise<BufferSource> {
  const url = typeof src === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(src) ? undefined : new URL(src);
  if (isNode && (!url || url.protocol === 'file:')) {
    const fs = await import(/* @vite-ignore */ 'node:fs/promises');
    return fs.readFile(url ?? (src as string));
  }
  const res = await fetch(url ?? (src as string));
  if (!res.ok) throw new WasmCnnError(`cannot load the kernels from ${String(src)}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

async function compile(src: WasmSource | undefined, simd: SimdLevel, shared = false): Promise<WebAssembly.Module> {
  if (src instanceof WebAssembly.Module) return src;
  const suffix = shared ? '-mt' : '';
  if (src === undefined && simd !== 'baseline') {
    if (relaxedSimdSupported()) {
      try {
        return await compile(new URL(`./wasmcnn-relaxed${suffix}.wasm`, import.meta.url), simd);
      } catch (e) {
        if (simd === 'relaxed') throw e;
      }
    } else if (simd === 'relaxed') {
      throw new WasmCnnError(
        "init({ simd: 'relaxed' }): this engine does not support relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)",
      );
    }
  }
  const where = src ?? new URL(`./wasmcnn${suffix}.wasm`, import.meta.url);
  const bytes = where instanceof URL || typeof where === 'string' ? await readSource(where) : where;
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new WasmCnnError(
      `cannot compile wasmcnn.wasm (${(e as Error).message}); this engine needs WebAssembly SIMD`,
    );
  }
}

function track(p: Promise<WebAssembly.Module>, clear: () => void): Promise<WebAssembly.Module> {
  p.catch(clear);
  return p;
}

/**
 * Loads and compiles the kernels. Optional: every entry point calls it on first use.
 * Call it first to pick the wasm location (`init({ wasm: url })`) or the thread count.
 */
export async function init(options: InitOptions = {}): Promise<void> {
  const simd = options.simd ?? 'auto';
  if (simd !== 'auto' && simd !== 'baseline' && simd !== 'relaxed')
    throw new WasmCnnError(`init: simd must be 'baseline', 'relaxed' or 'auto', got '${String(simd)}'`);
  const n = options.threads;
  if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= 64))
    throw new ValueError(`init: threads must be an integer from 1 to 64, got ${String(n)}`);
  if (options.wasm !== undefined || options.simd !== undefined || options.wasmThreads !== undefined || !compiled) {
    source = { wasm: options.wasm, wasmThreads: options.wasmThreads, simd };
    const p = (compiled = track(compile(options.wasm, simd), () => {
      if (compiled === p) compiled = undefined;
    }));
    compiledShared = undefined;
  }
  await compiled;
  if (n !== undefined) await setThreads(n);
}

async function setThreads(n: number): Promise<void> {
  if (n > 1) {
    const why = threadsUnavailable();
    if (why) {
      console.warn(`wasmcnn: running on 1 thread instead of ${n}: ${why}`);
      n = 1;
    } else if (source.wasm !== undefined && source.wasmThreads === undefined) {
      console.warn('wasmcnn: running on 1 thread: init({ wasm }) was given without wasmThreads (the shared-memory build)');
      n = 1;
    }
  }
  if (n > 1) await sharedModule();
  if (n === threads && (n === 1 || pool)) return;
  let next: Pool | undefined;
  if (n > 1) {
    try {
      next = await Pool.create(n);
    } catch (e) {
      console.warn(`wasmcnn: running on 1 thread instead of ${n}: cannot start worker threads (${(e as Error).message})`);
      n = 1;
    }
  }
  pool?.retire();
  pool = next;
  threads = n;
}

function sharedModule(): Promise<WebAssembly.Module> {
  if (!compiledShared) {
    const p = (compiledShared = track(compile(source.wasmThreads, source.simd, true), () => {
      if (compiledShared === p) compiledShared = undefined;
    }));
  }
  return compiledShared;
}

/** What a model runs on: its memory, its kernel instance and, when threaded, the pool. */
export interface ModelRuntime {
  mem: Mem;
  k: Kernels;
  pool?: Pool;
  /** The model's id in the pool. */
  id: number;
}

function imports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new WasmCnnError(`wasm kernel aborted at ${line}:${col}`);
      },
    },
  };
}

/** A fresh memory with kernel instances on it (one per model; on every thread when threaded). */
export async function instantiate(): Promise<ModelRuntime> {
  if (!compiled) await init();
  const p = pool;
  if (!p) {
    const mem = new Mem();
    const instance = await WebAssembly.instantiate(await compiled!, imports(mem.memory));
    return { mem, k: instance.exports as unknown as Kernels, id: 0 };
  }
  const module = await sharedModule();
  const mem = new Mem({ shared: true });
  const instance = await WebAssembly.instantiate(module, imports(mem.memory));
  // the workers instantiate (and so copy the static data) before anything else uses the memory
  const id = await p.attach(module, mem.memory, (instance.exports as unknown as Kernels).split_table());
  return { mem, k: instance.exports as unknown as Kernels, pool: p, id };
}
