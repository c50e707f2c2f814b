// Bundles the compiled host (build/tsc, from `tsc -p tsconfig.build.json`) into dist/:
// - one output file per source module (preserveModules) under dist/src and dist/models, as ESM
//   and CJS: with "sideEffects": false a consumer's bundler then drops whole modules the app
//   does not reach (`import { init, loadOnnx }` carries no zoo, no LeNet-5 weights);
// - the entries src/index (browser/default), src/node (the 'node' condition: Node, Deno, Bun) and
//   src/inline (the kernels in the bundle); dist/index.js, node.js, inline.js re-export them for
//   code in this repository that imports the built files;
// - src/runtime/worker.js (Web Worker) and worker-node.js (worker_threads): the thread pool's
//   program, each one self-contained file next to threads.js, which starts it with
//   new Worker(new URL('./worker.js', import.meta.url)); the four .wasm builds copied next to
//   wasm.js, which finds them with new URL('./wasmcnn.wasm', import.meta.url);
// - index.d.ts / index.d.cts: every declaration in one file (rollup-plugin-dts), no relative
//   imports, so TypeScript resolves it the same way under every moduleResolution.
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import resolve from '@rollup/plugin-node-resolve';
import { dts } from 'rollup-plugin-dts';

const WASM = ['wasmcnn', 'wasmcnn-relaxed', 'wasmcnn-mt', 'wasmcnn-relaxed-mt'];
const ENTRIES = ['index', 'node', 'inline'];

// drop the previous build's JS and types (the .wasm files in dist/ come from build:wasm and stay)
for (const f of existsSync('dist') ? readdirSync('dist', { withFileTypes: true }) : [])
  if (f.isFile() && /\.(c?js|d\.c?ts)$/.test(f.name)) rmSync(`dist/${f.name}`);
for (const d of ['dist/src', 'dist/models', 'dist/types']) rmSync(d, { recursive: true, force: true });

const input = ENTRIES.map((e) => `build/tsc/src/${e}.js`);
// node: modules and sharp (the optional image decoder, imported on demand by the Node entry) stay imports
const external = (id) => id.startsWith('node:') || id === 'sharp';
// tsc's output keeps extensionless specifiers ('./ops' for ./ops/index.js): node-resolve finds them
const plugins = () => [resolve({ preferBuiltins: true, browser: false })];

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
        return `export const MT_WASM_BASE64 = '${b64('dist/wasmcnn-mt.wasm')}';\nexport const WORKER_SOURCE = ${JSON.stringify(readFileSync('dist/src/runtime/worker.js', 'utf8'))};\n`;
      return null;
    },
  };
}

/** The .wasm builds next to wasm.js, and the top-level re-export files. */
function besideModules(ext) {
  return {
    name: 'beside-modules',
    writeBundle() {
      for (const w of WASM) copyFileSync(`dist/${w}.wasm`, `dist/src/runtime/${w}.wasm`);
      for (const e of ENTRIES)
        writeFileSync(
          `dist/${e}.${ext}`,
          ext === 'js' ? `export * from './src/${e}.js';\n` : `'use strict';\nmodule.exports = require('./src/${e}.cjs');\n`,
        );
    },
  };
}

/**
 * WebAssembly's and BufferSource's shapes as far as the declarations use them. A TypeScript
 * project for Node (lib without "dom") has no WebAssembly types at all; declared at the top of a
 * module file these are local to it (they shadow, never clash with, the DOM lib's globals), and
 * the DOM's real types are assignable to them.
 */
const WASM_TYPES = `// The parts of WebAssembly's types this API names, local to this file, for projects without the DOM lib.
declare namespace WebAssembly {
  interface Module {}
  interface Memory {
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
}
type BufferSource = ArrayBufferView | ArrayBuffer;`;

/** After the declaration bundle: the same declarations for require (a .d.cts beside the .d.ts). */
function ctsCopy() {
  return { name: 'cts-copy', writeBundle: () => copyFileSync('dist/index.d.ts', 'dist/index.d.cts') };
}

const worker = (name) => ({
  input: `build/tsc/src/runtime/${name}.js`,
  external,
  plugins: plugins(),
  output: { file: `dist/src/runtime/${name}.js`, format: 'es' },
});

const modules = (format, ext) => ({
  // the CLI (package.json bin) is an ES module only
  input: format === 'es' ? [...input, 'build/tsc/src/cli/bin.js'] : input,
  external,
  plugins: [inlineAssets(), ...plugins(), besideModules(ext)],
  output: {
    dir: 'dist',
    format,
    preserveModules: true,
    preserveModulesRoot: 'build/tsc',
    entryFileNames: `[name].${ext}`,
    ...(format === 'cjs' ? { exports: 'named' } : {}),
  },
});

export default [
  worker('worker'),
  worker('worker-node'),
  modules('es', 'js'),
  modules('cjs', 'cjs'),
  {
    input: 'build/types/src/index.d.ts',
    plugins: [dts(), ctsCopy()],
    output: { file: 'dist/index.d.ts', format: 'es', banner: WASM_TYPES },
  },
];
