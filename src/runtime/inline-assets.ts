// The baseline kernels for the inline entry (src/inline.ts), as base64. Empty in the sources:
// the bundle step (rollup.config.js, plugin `inlineAssets`) fills in dist/wasmcnn.wasm.

/** base64 of dist/wasmcnn.wasm. */
export const BASELINE_WASM_BASE64: string = '';
