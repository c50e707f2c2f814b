// The inline entry ('wasmcnn/inline'): the browser API with the kernels carried in the bundle
// itself, for tools that emit no asset for new URL('./wasmcnn.wasm', import.meta.url) (esbuild,
// Rollup without an asset plugin, script-tag setups, single-file builds). The baseline build is
// in the main chunk as base64; the shared-memory build (threads) and the worker program come in a
// chunk loaded only by init({ threads: n > 1 }). Threads then run in workers made from that
// program through a blob: URL, so a strict CSP needs `worker-src 'self' blob:` (the default
// entry's workers are a real file and need only 'self'). Relaxed SIMD is not carried: 'auto'
// gives the baseline kernels, whose results are bit-identical everywhere.
import { base64Bytes } from './runtime/base64';
import { BASELINE_WASM_BASE64 } from './runtime/inline-assets';
import { setPlatform } from './runtime/platform';
import { webWorker } from './runtime/threads';

let baseline: Uint8Array | undefined;
let threaded: Promise<{ mt: Uint8Array; worker: string }> | undefined;

function threadAssets(): Promise<{ mt: Uint8Array; worker: string }> {
  threaded ??= import('./runtime/inline-threads').then((m) => ({ mt: base64Bytes(m.MT_WASM_BASE64), worker: m.WORKER_SOURCE }));
  return threaded;
}

setPlatform({
  embeddedKernels: async (build) => {
    if (build === 'wasmcnn') return (baseline ??= base64Bytes(BASELINE_WASM_BASE64));
    if (build === 'wasmcnn-mt') return (await threadAssets()).mt;
    return undefined;
  },
  spawnWorker: async () => {
    const url = URL.createObjectURL(new Blob([(await threadAssets()).worker], { type: 'text/javascript' }));
    return webWorker(new Worker(url, { type: 'module' }), () => URL.revokeObjectURL(url));
  },
});

export * from './index';
