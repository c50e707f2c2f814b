// Finding, compiling and instantiating dist/wasmcnn.wasm: one path for every runtime.
// Node reads the file next to the module; browsers and bundlers resolve
// new URL('./wasmcnn.wasm', import.meta.url); init({ wasm }) overrides either.
import { WasmCnnError } from '../errors';
import type { Kernels } from './kernels';

export type WasmSource = URL | string | BufferSource | WebAssembly.Module;

export interface InitOptions {
  /** Where the kernels come from: a URL or path, the bytes, or a compiled module. */
  wasm?: WasmSource;
}

let compiled: Promise<WebAssembly.Module> | undefined;

const isNode =
  typeof process !== 'undefined' && typeof process.versions === 'object' && !!process.versions.node;

async function readSource(src: URL | string): Promise<BufferSource> {
  const url = typeof src === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(src) ? undefined : new URL(src);
  if (isNode && (!url || url.protocol === 'file:')) {
    const fs = await import(/* @vite-ignore */ 'node:fs/promises');
    return fs.readFile(url ?? (src as string));
  }
  const res = await fetch(url ?? (src as string));
  if (!res.ok) throw new WasmCnnError(`cannot load wasmcnn.wasm from ${String(src)}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

async function compile(src: WasmSource | undefined): Promise<WebAssembly.Module> {
  if (src instanceof WebAssembly.Module) return src;
  const where = src ?? new URL('./wasmcnn.wasm', import.meta.url);
  const bytes = where instanceof URL || typeof where === 'string' ? await readSource(where) : where;
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new WasmCnnError(
      `cannot compile wasmcnn.wasm (${(e as Error).message}); this engine needs WebAssembly SIMD`,
    );
  }
}

/**
 * Loads and compiles the kernels. Optional: every entry point calls it on first use.
 * Call it first to pick the wasm location (`init({ wasm: url })`) in unusual setups.
 */
export async function init(options: InitOptions = {}): Promise<void> {
  if (options.wasm !== undefined || !compiled) {
    const p = compile(options.wasm);
    compiled = p;
    p.catch(() => {
      if (compiled === p) compiled = undefined;
    });
  }
  await compiled;
}

/** A fresh kernel instance on its own memory (one per model). */
export async function instantiate(memory: WebAssembly.Memory): Promise<Kernels> {
  if (!compiled) await init();
  const module = await compiled!;
  const instance = await WebAssembly.instantiate(module, {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new WasmCnnError(`wasm kernel aborted at ${line}:${col}`);
      },
    },
  });
  return instance.exports as unknown as Kernels;
}
