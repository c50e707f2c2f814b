// Finding, compiling and instantiating dist/wasmcnn.wasm: one path for every runtime.
// Node reads the file next to the module; browsers and bundlers resolve
// new URL('./wasmcnn.wasm', import.meta.url); init({ wasm }) overrides either.
// dist/wasmcnn-relaxed.wasm (same sources, GEMM multiply-adds as f32x4.relaxed_madd) sits next
// to it; init({ simd: 'auto' }) picks it when the engine validates a tiny relaxed-SIMD module.
import { WasmCnnError } from '../errors';
import type { Kernels } from './kernels';

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
}

let compiled: Promise<WebAssembly.Module> | undefined;

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

async function compile(src: WasmSource | undefined, simd: SimdLevel): Promise<WebAssembly.Module> {
  if (src instanceof WebAssembly.Module) return src;
  if (src === undefined && simd !== 'baseline') {
    if (relaxedSimdSupported()) {
      try {
        return await compile(new URL('./wasmcnn-relaxed.wasm', import.meta.url), simd);
      } catch (e) {
        if (simd === 'relaxed') throw e;
      }
    } else if (simd === 'relaxed') {
      throw new WasmCnnError(
        "init({ simd: 'relaxed' }): this engine does not support relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)",
      );
    }
  }
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
  const simd = options.simd ?? 'auto';
  if (simd !== 'auto' && simd !== 'baseline' && simd !== 'relaxed')
    throw new WasmCnnError(`init: simd must be 'baseline', 'relaxed' or 'auto', got '${String(simd)}'`);
  if (options.wasm !== undefined || options.simd !== undefined || !compiled) {
    const p = compile(options.wasm, simd);
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
