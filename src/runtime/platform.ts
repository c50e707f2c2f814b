// What differs between runtimes, behind one object. The browser-safe code (src/index.ts and
// everything it imports) never names a `node:` module; the Node entry (src/node.ts) fills these
// hooks in with node:fs, node:worker_threads and a native image decoder, so browser bundles
// never see them; the inline entry (src/inline.ts) supplies the kernels from the bundle itself.
// Every hook is optional: code that needs one and finds it missing throws a WasmCnnError that
// names what is missing in this runtime.

/** Decoded pixels, row-major, interleaved channels (1 = grey, 3 = RGB, 4 = RGBA), 8 bits each. */
export interface RawImage {
  /** The samples, `width * channels` bytes per row with no padding (at least `width * height * channels` bytes). */
  data: Uint8Array | Uint8ClampedArray;
  /** Width in pixels (a positive integer). */
  width: number;
  /** Height in pixels (a positive integer). */
  height: number;
  /** Samples per pixel: 1 (grey), 3 (RGB) or 4 (RGBA; alpha is dropped by fromImage). */
  channels: 1 | 3 | 4;
}

/** One worker of the thread pool (src/runtime/threads.ts), whatever the runtime's worker API. */
export interface PoolWorker {
  postMessage(m: unknown): void;
  /** Ends the worker; may return a promise that settles once its thread has stopped (Node). */
  terminate(): unknown;
  onAck(f: (m: { seq: number; error?: string }) => void): void;
  /** Node: keep the process alive while awaiting this worker (true), or let it exit (false). */
  hold(on: boolean): void;
  /** The worker failed to start, crashed or ended (the pool ignores this for workers it stopped). */
  onError(f: (message: string) => void): void;
}

/** The four kernel builds: baseline or relaxed SIMD, private or shared memory. */
export type KernelBuild = 'wasmcnn' | 'wasmcnn-relaxed' | 'wasmcnn-mt' | 'wasmcnn-relaxed-mt';

export interface Platform {
  /** Reads a local file by path or file: URL (Node, Deno, Bun). */
  readFile?: (path: string | URL) => Promise<Uint8Array>;
  /** Decodes an encoded image (JPEG, PNG, WebP), or reads and decodes a local image file by path. */
  decodeImage?: (source: Uint8Array | string) => Promise<RawImage>;
  /** Starts one thread-pool worker; without it (or when it returns undefined), a module Web Worker on worker.js. */
  spawnWorker?: () => PoolWorker | undefined | Promise<PoolWorker | undefined>;
  /**
   * The bytes of a kernel build carried in the bundle (the inline entry), or undefined for a
   * build it does not carry; consulted before the .wasm files when init() is given no `wasm`.
   */
  embeddedKernels?: (build: KernelBuild) => Promise<Uint8Array | undefined>;
}

/** The hooks in force; entry files fill them in once, at load. */
export const platform: Platform = {};

/** Sets hooks (entry files call this; tests may too). */
export function setPlatform(p: Partial<Platform>): void {
  Object.assign(platform, p);
}
