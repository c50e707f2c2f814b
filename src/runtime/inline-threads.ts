// The threads' assets for the inline entry (src/inline.ts), loaded on demand. Empty in the
// sources: the bundle step (rollup.config.js, plugin `inlineAssets`) fills in
// dist/wasmcnn-mt.wasm and the bundled Web Worker program (dist/src/runtime/worker.js).

/** base64 of dist/wasmcnn-mt.wasm. */
export const MT_WASM_BASE64: string = '';
/** The text of dist/src/runtime/worker.js (self-contained: no imports). */
export const WORKER_SOURCE: string = '';
