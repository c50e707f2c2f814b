// Bundles the compiled host (build/tsc, from `tsc -p tsconfig.build.json`) into dist/:
// - worker.js (Web Worker) and worker-node.js (worker_threads): the thread pool's program, each
//   one self-contained file next to the entries, found with new URL('./worker.js', import.meta.url);
// - the entries index (browser/default), node (the 'node' condition: Node, Deno, Bun) and inline
//   (the kernels in the bundle), as ESM and CJS; shared code in sibling chunks so that
//   new URL('./wasmcnn.wasm', import.meta.url) resolves to dist/wasmcnn.wasm from every file, and
//   LeNet-5's weights in a chunk of their own (a dynamic import);
// - index.d.ts / index.d.cts: every declaration in one file (rollup-plugin-dts), no relative
//   imports, so TypeScript resolves it the same way under every moduleResolution.
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import commonjs from '@rollup/plugin-commonjs';
import resolve from '@rollup/plugin-node-resolve';
import { dts } from 'rollup-plugin-dts';

// chunk names carry content hashes: drop the previous build's JS and types so dist/ holds only this one
for (const f of existsSync('dist') ? readdirSync('dist', { withFileTypes: true }) : [])
  if (f.isFile() && /\.(c?js|d\.c?ts)$/.test(f.name)) rmSync(`dist/${f.name}`);
if (existsSync('dist/types')) rmSync('dist/types', { recursive: true });

const input = { index: 'build/tsc/src/index.js', node: 'build/tsc/src/node.js', inline: 'build/tsc/src/inline.js' };
const external = (id) => id.startsWith('node:');
// tsc's output keeps extensionless specifiers ('./ops' for ./ops/index.js): node-resolve finds them
const plugins = () => [resolve({ preferBuiltins: true, browser: false }), commonjs()];
const onwarn = (w, warn) => {
  if (w.code === 'CIRCULAR_DEPENDENCY' && /protobufjs/.test(w.message)) return;
  if (w.code === 'EVAL' && /protobufjs|inquire/.test(w.id ?? '')) return;
  warn(w);
};

/** Fills in the inline entry's assets (empty strings in the sources) from the built wasm and worker. */
function inlineAssets() {
  const b64 = (f) => readFileSync(f).toString('base64');
  return {
    name: 'inline-assets',
    load(id) {
      const file = id.replaceAll('\\', '/');
      if (file.endsWith('/build/tsc/src/runtime/inline-assets.js'))
        return `export const BASELINE_WASM_BASE64 = '${b64('dist/wasmcnn.wasm')}';\n`;
      if (file.endsWith('/build/tsc/src/runtime/inline-threads.js'))
        return `export const MT_WASM_BASE64 = '${b64('dist/wasmcnn-mt.wasm')}';\nexport const WORKER_SOURCE = ${JSON.stringify(readFileSync('dist/worker.js', 'utf8'))};\n`;
      return null;
    },
  };
}

/** After the declaration bundle: the same declarations for require (a .d.cts beside the .d.ts). */
function ctsCopy() {
  return { name: 'cts-copy', writeBundle: () => copyFileSync('dist/index.d.ts', 'dist/index.d.cts') };
}

const worker = (name) => ({
  input: `build/tsc/src/runtime/${name}.js`,
  external,
  plugins: plugins(),
  output: { file: `dist/${name}.js`, format: 'es' },
});

export default [
  worker('worker'),
  worker('worker-node'),
  {
    input,
    external,
    plugins: [inlineAssets(), ...plugins()],
    onwarn,
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
  },
  {
    input,
    external,
    plugins: [inlineAssets(), ...plugins()],
    onwarn,
    output: { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs', exports: 'named' },
  },
  {
    input: 'build/types/src/index.d.ts',
    plugins: [dts(), ctsCopy()],
    output: { file: 'dist/index.d.ts', format: 'es' },
  },
];
