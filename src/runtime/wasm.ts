// Finding, compiling and instantiating dist/wasmcnn.wasm: one path for every runtime.
// The file is new URL('./wasmcnn.wasm', import.meta.url): Node (through platform.readFile, set
// by the node entry) reads it next to the module, browsers fetch it, bundlers that follow that
// form emit it; the inline entry carries the bytes in the bundle (platform.embeddedKernels);
// init({ wasm }) overrides all of these. Bytes that are not wasm (an HTML 404 page) or a file
// that is not there are WasmCnnErrors naming the location and the fix.
// dist/wasmcnn-relaxed.wasm (same sources, GEMM multiply-adds as f32x4.relaxed_madd) sits next
// to it; init({ simd: 'auto' }) picks it when the engine validates a tiny relaxed-SIMD module.
// init({ threads: n }) adds the shared-memory builds (wasmcnn-mt.wasm, wasmcnn-relaxed-mt.wasm:
// the same sources, memory declared shared) and a pool of n - 1 workers (threads.ts).
import { ValueError, WasmCnnError } from '../errors';
import type { Kernels } from './kernels';
import { provideKit } from '../lazy/supply';
import { Mem } from './memory';
import { platform, type KernelBuild } from './platform';
import type { Segment } from './segments';
import type { Pool } from './threads';

/**
 * Where `init()` takes the kernels from: a URL (or URL string, resolved like `fetch` in browsers),
 * a file path (Node, Deno, Bun), the `.wasm` bytes, or an already compiled `WebAssembly.Module`.
 */
export type WasmSource = URL | string | BufferSource | WebAssembly.Module;

/** A WasmSource that is not compiled yet: a URL, a path or the bytes. */
export type WasmFile = URL | string | BufferSource;

/** Which kernel build to load: baseline SIMD128, relaxed SIMD (FMA), or relaxed where supported. */
export type SimdLevel = 'baseline' | 'relaxed' | 'auto';

/** Options of {@link init}. Every field is optional; `init()` with none loads the default build. */
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
  /**
   * With `wasm` and threads > 1: the matching shared-memory build (wasmcnn-mt.wasm), as a URL,
   * path or bytes (not a compiled module: wasmcnn takes its static data out so that worker
   * threads can be replaced while models run).
   */
  wasmThreads?: WasmFile;
}

/** A compiled shared-memory build and the static data each new memory gets (segments.ts). */
interface SharedKernels {
  module: WebAssembly.Module;
  segments: Segment[];
}

let compiled: Promise<WebAssembly.Module> | undefined;
let compiledShared: Promise<SharedKernels> | undefined;
let pool: Pool | undefined;
let threads = 1;
let source: { wasm?: WasmSource; wasmThreads?: WasmFile; simd: SimdLevel } = { simd: 'auto' };

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

/**
 * Where each build is looked for when init() is given no `wasm`: next to this module. Each is
 * a literal new URL('./x.wasm', import.meta.url), the form Vite, webpack 5 and Parcel turn into
 * an emitted asset (a template literal would not be followed).
 */
function defaultUrl(build: KernelBuild): URL {
  switch (build) {
    case 'wasmcnn':
      return new URL('./wasmcnn.wasm', import.meta.url);
    case 'wasmcnn-relaxed':
      return new URL('./wasmcnn-relaxed.wasm', import.meta.url);
    case 'wasmcnn-mt':
      return new URL('./wasmcnn-mt.wasm', import.meta.url);
    case 'wasmcnn-relaxed-mt':
      return new URL('./wasmcnn-relaxed-mt.wasm', import.meta.url);
  }
}

/** What to do when the default .wasm is not where wasmcnn looks for it. */
function defaultFix(build: KernelBuild): string {
  return (
    `${build}.wasm ships in wasmcnn's dist/ folder and is looked for next to wasmcnn's module file. ` +
    'Bundlers that follow new URL(..., import.meta.url) (Vite, webpack 5, Parcel) emit it by themselves; ' +
    `with esbuild or Rollup copy node_modules/wasmcnn/dist/*.wasm next to the bundle, import from 'wasmcnn/inline' (kernels inside the bundle), ` +
    'or say where it is with init({ wasm: url | path | bytes })'
  );
}

/** A URL string ('https://…', 'file:…', 'blob:…'), as opposed to a file path (a Windows drive letter is a path). */
function isUrlString(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s);
}

/**
 * Reads the bytes at a path or URL; `fix` says what to do when they are not there. With
 * `stream`, a fetched response served as application/wasm is compiled while it downloads
 * (WebAssembly.compileStreaming) and the module is returned instead of the bytes.
 */
async function readSource(src: URL | string, fix: string, stream: boolean): Promise<Uint8Array | WebAssembly.Module> {
  const url = src instanceof URL ? src : isUrlString(src) ? new URL(src) : undefined;
  const where = url ? url.href : src;
  if (!url || url.protocol === 'file:') {
    if (platform.readFile) {
      try {
        return await platform.readFile(url ?? (src as string));
      } catch (e) {
        throw new WasmCnnError(`cannot read the kernels at ${where} (${(e as Error).message}); ${fix}`);
      }
    }
    if (isNode)
      throw new WasmCnnError(
        `cannot read the kernels at ${where}: file access in Node is set up by wasmcnn's 'node' entry (import 'wasmcnn' by its package name, not a file inside dist/), or pass init({ wasm: bytes })`,
      );
  }
  let res: Response;
  try {
    res = await fetch(url ?? (src as string));
  } catch (e) {
    throw new WasmCnnError(`cannot fetch the kernels from ${where} (${(e as Error).message}); ${fix}`);
  }
  if (!res.ok) throw new WasmCnnError(`cannot load the kernels from ${where}: HTTP ${res.status}; ${fix}`);
  // any other type (an HTML error page, a server without the wasm type) goes the byte way, whose checks name it
  if (stream && typeof WebAssembly.compileStreaming === 'function' && res.headers.get('content-type')?.split(';')[0].trim() === 'application/wasm')
    return compileChecked(WebAssembly.compileStreaming(res), String(where));
  return new Uint8Array(await res.arrayBuffer());
}

function asBytes(b: BufferSource | Uint8Array): Uint8Array {
  return ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
}

/** Refuses bytes that are not a wasm module, saying what they look like (text: an error page, a wrong file). */
function checkMagic(bytes: Uint8Array, where: string): void {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (bytes.length >= 8 && magic.every((v, i) => bytes[i] === v)) return;
  const head = bytes.subarray(0, 64);
  const text = head.length > 0 && head.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 0x80);
  const what = text
    ? `it is text ("${String.fromCharCode(...head.subarray(0, 40)).replace(/\s+/g, ' ').trim()}…"), e.g. an HTML error page served where the .wasm file should be`
    : bytes.length < 8
      ? `it is ${bytes.length} bytes long, shorter than any wasm module`
      : `it does not start with the wasm magic bytes 00 61 73 6d (got ${Array.from(head.subarray(0, 4), (c) => c.toString(16).padStart(2, '0')).join(' ')})`;
  throw new WasmCnnError(`the kernels from ${where} are not WebAssembly: ${what}`);
}

async function compileBytes(src: BufferSource | Uint8Array, where: string): Promise<WebAssembly.Module> {
  const bytes = asBytes(src);
  checkMagic(bytes, where);
  return compileChecked(bytes, where);
}

/** The shared-memory build: its data segments split off (segments.ts), the rest compiled. */
async function compileShared(src: BufferSource | Uint8Array, where: string): Promise<SharedKernels> {
  const bytes = asBytes(src);
  checkMagic(bytes, where);
  // loaded with the threads: a one-thread program never needs it
  const { splitDataSegments } = await import('./segments');
  provideKit();
  const split = splitDataSegments(bytes);
  return { module: await compileChecked(split.bytes, where), segments: split.segments };
}

async function compileChecked(bytes: Uint8Array | Promise<WebAssembly.Module>, where: string): Promise<WebAssembly.Module> {
  try {
    return await (bytes instanceof Uint8Array ? WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>) : bytes);
  } catch (e) {
    throw new WasmCnnError(
      `cannot compile the kernels from ${where} (${(e as Error).message}); this engine needs WebAssembly SIMD (Chrome 91, Firefox 89, Safari 16.4, Node 16.4 or later)`,
    );
  }
}

/** A build of the package's own kernels: carried in the bundle (inline entry) or the file next to this module. */
async function builtin<T>(build: KernelBuild, required: boolean, make: Maker<T>, stream: boolean): Promise<T | undefined> {
  if (platform.embeddedKernels) {
    const bytes = await platform.embeddedKernels(build);
    if (bytes) return make(bytes, `the ${build}.wasm carried in the bundle`);
    if (!required) return undefined;
  }
  const url = defaultUrl(build);
  // the one-thread builds compile while they download; the shared ones need their bytes (segments.ts)
  const got = await readSource(url, defaultFix(build), stream);
  return got instanceof WebAssembly.Module ? (got as T) : make(got, url.href);
}

/** Compiles a build's bytes (compileBytes, or compileShared for the shared-memory builds). */
type Maker<T> = (bytes: BufferSource | Uint8Array, where: string) => Promise<T>;

/** The kernels from init()'s source, else the package's builds (relaxed SIMD where asked and supported). */
async function compile<T>(src: WasmFile | undefined, simd: SimdLevel, shared: boolean, make: Maker<T>): Promise<T> {
  if (src !== undefined) {
    const where = src instanceof URL || typeof src === 'string' ? String(src) : 'init({ wasm })';
    const fix = 'check the location given to init({ wasm }) (and wasmThreads)';
    const got = src instanceof URL || typeof src === 'string' ? await readSource(src, fix, !shared) : src;
    return got instanceof WebAssembly.Module ? (got as T) : make(got, where);
  }
  if (simd !== 'baseline') {
    if (relaxedSimdSupported()) {
      try {
        const m = await builtin(shared ? 'wasmcnn-relaxed-mt' : 'wasmcnn-relaxed', simd === 'relaxed', make, !shared);
        if (m) return m;
      } catch (e) {
        if (simd === 'relaxed') throw e;
      }
    } else if (simd === 'relaxed') {
      throw new WasmCnnError(
        "init({ simd: 'relaxed' }): this engine does not support relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)",
      );
    }
  }
  return (await builtin(shared ? 'wasmcnn-mt' : 'wasmcnn', true, make, !shared))!;
}

function track<T>(p: Promise<T>, clear: () => void): Promise<T> {
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
  if ((options.wasmThreads as unknown) instanceof WebAssembly.Module)
    throw new ValueError(
      'init: wasmThreads must be the URL, path or bytes of wasmcnn-mt.wasm, not a compiled module (wasmcnn takes out its static data so that worker threads can be replaced)',
    );
  if (options.wasm !== undefined || options.simd !== undefined || options.wasmThreads !== undefined || !compiled) {
    source = { wasm: options.wasm, wasmThreads: options.wasmThreads, simd };
    const w = options.wasm;
    const p = (compiled = track(w instanceof WebAssembly.Module ? Promise.resolve(w) : compile(w, simd, false, compileBytes), () => {
      if (compiled === p) compiled = undefined;
    }));
    compiledShared = undefined;
  }
  await compiled;
  if (n !== undefined) await setThreads(n);
}

async function setThreads(n: number): Promise<void> {
  let next: Pool | undefined;
  if (n > 1) {
    // the pool's code is loaded only by a program that asks for threads
    const { Pool, threadsUnavailable } = await import('./threads');
    provideKit();
    const why = threadsUnavailable();
    if (why) {
      console.warn(`wasmcnn: running on 1 thread instead of ${n}: ${why}`);
      n = 1;
    } else if (source.wasm !== undefined && source.wasmThreads === undefined) {
      console.warn('wasmcnn: running on 1 thread: init({ wasm }) was given without wasmThreads (the shared-memory build)');
      n = 1;
    } else {
      await sharedModule();
      if (n === threads && pool) return;
      try {
        next = await Pool.create(n);
      } catch (e) {
        console.warn(`wasmcnn: running on 1 thread instead of ${n}: cannot start worker threads (${(e as Error).message})`);
        n = 1;
      }
    }
  }
  if (n === 1 && threads === 1) return;
  pool?.retire();
  pool = next;
  threads = n;
}

function sharedModule(): Promise<SharedKernels> {
  if (!compiledShared) {
    const p = (compiledShared = track(compile(source.wasmThreads, source.simd, true, compileShared), () => {
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

/**
 * The memory of the last one-thread model disposed, kept a short while for the next model
 * (a reload, a switch between models): its pages are already mapped, and the first write to a
 * fresh page costs a page fault (milliseconds per megabyte on some machines, often more than
 * the copy itself). Dropped after SPARE_MS, or when a model that is much smaller takes none.
 */
let spare: { memory: WebAssembly.Memory; timer: ReturnType<typeof setTimeout> } | undefined;
const SPARE_MS = 10_000;

/** Hands a disposed one-thread model's memory back for reuse (see `spare`); nothing may use it after. */
export function recycleMemory(mem: Mem): void {
  if (mem.memory.buffer instanceof ArrayBuffer === false) return; // shared (threads): workers hold it
  dropSpare();
  const timer = setTimeout(dropSpare, SPARE_MS);
  // never keeps a process alive: Node and Bun timers have unref(), Deno has Deno.unrefTimer(id)
  if (typeof timer === 'object') (timer as { unref?: () => void }).unref?.();
  else (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno?.unrefTimer?.(timer as number);
  spare = { memory: mem.memory, timer };
}

function dropSpare(): void {
  if (spare) clearTimeout(spare.timer);
  spare = undefined;
}

/** The spare memory, zeroed as a fresh one, when it is not far larger than `bytes` (else undefined). */
function takeSpare(bytes: number): WebAssembly.Memory | undefined {
  const s = spare;
  if (!s || s.memory.buffer.byteLength > 2 * bytes + (64 << 20)) return undefined;
  dropSpare();
  new Uint8Array(s.memory.buffer).fill(0);
  return s.memory;
}

/** Modules whose kernels were warmed up (once per compiled module; its instances share code). */
const warmed = new WeakSet<WebAssembly.Module>();

/**
 * Warms the one-thread kernels up (warmUp) once they are compiled: loadOnnx calls it while a file
 * downloads, when the main thread is otherwise waiting. Not for bytes at hand: there the warm-up
 * (7-11 ms of baseline code on the main thread) cost the load about what it saved the first run
 * (new Node 20 process: mobilenet_v2 first run 30 -> 17 ms, load 64 -> 80 ms; resnet50 150 ->
 * 131 ms, load +20 ms). Over a throttled download (bench/stream.js, 50 MB/s, new process) the
 * first result came 13-38 ms sooner. A no-op with threads (the kernels run in the workers' own
 * engines) and after the first time.
 */
export async function warmKernels(): Promise<void> {
  const module = await compiled;
  if (module && threads === 1) await warmUp(module);
}

/**
 * Runs warm_up (assembly/warmup.ts) in a throwaway instance of `module`, on its own small
 * memory: the engine starts compiling the hot kernels' optimized code in the background while
 * the model is planned and packed, instead of running them as baseline code in its first run.
 */
async function warmUp(module: WebAssembly.Module): Promise<void> {
  if (warmed.has(module)) return;
  warmed.add(module);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const k = (await WebAssembly.instantiate(module, imports(memory))).exports as unknown as Kernels;
  const base = (k.heap_base() + 15) & ~15;
  memory.grow(Math.ceil((base + k.warm_up_bytes()) / 65536) - 1);
  k.warm_up(base);
}

/**
 * A memory with kernel instances on it (one per model; on every thread when threaded): fresh,
 * or the spare one of a model disposed just before when `expectBytes` (what the caller will
 * allocate, roughly) says it fits.
 */
export async function instantiate(options: { threaded?: boolean; expectBytes?: number } = {}): Promise<ModelRuntime> {
  if (!compiled) await init();
  // threaded: false gives a one-thread instance even when init({ threads }) started a pool
  const p = options.threaded === false ? undefined : pool;
  if (!p) {
    const mem = new Mem({ reuse: options.expectBytes ? takeSpare(options.expectBytes) : undefined });
    const instance = await WebAssembly.instantiate(await compiled!, imports(mem.memory));
    return { mem, k: instance.exports as unknown as Kernels, id: 0 };
  }
  const { module, segments } = await sharedModule();
  const mem = new Mem({ shared: true });
  // the static data, once: no instance writes it (segments.ts), so workers may instantiate at any time
  for (const seg of segments) {
    mem.ensure(seg.offset + seg.bytes.length);
    new Uint8Array(mem.memory.buffer).set(seg.bytes, seg.offset);
  }
  const instance = await WebAssembly.instantiate(module, imports(mem.memory));
  const k = instance.exports as unknown as Kernels;
  try {
    const id = await p.attach(module, mem.memory, k.split_table());
    return { mem, k, pool: p, id };
  } catch (e) {
    if (!(e instanceof WasmCnnError)) throw e;
    console.warn(`wasmcnn: this model runs on 1 thread instead of ${p.threads}: cannot start worker threads (${e.message})`);
    return instantiate({ threaded: false });
  }
}
