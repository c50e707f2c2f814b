// Bundles the compiled host (build/tsc, from `tsc -p tsconfig.build.json`) into dist/ as ESM and
// CJS, entries `index` and `models`, shared code in sibling chunks so that
// new URL('./wasmcnn.wasm', import.meta.url) resolves to dist/wasmcnn.wasm from every file.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import commonjs from '@rollup/plugin-commonjs';
import resolve from '@rollup/plugin-node-resolve';

// chunk names carry content hashes: drop the previous build's so dist/ holds only this one
for (const f of existsSync('dist') ? readdirSync('dist', { withFileTypes: true }) : [])
  if (f.isFile() && /^(index|models)-.+\.c?js$/.test(f.name)) rmSync(`dist/${f.name}`);

const input = { index: 'build/tsc/src/index.js', models: 'build/tsc/models/index.js' };
const plugins = () => [resolve({ preferBuiltins: true, browser: false }), commonjs()];
const onwarn = (w, warn) => {
  if (w.code === 'CIRCULAR_DEPENDENCY' && /protobufjs/.test(w.message)) return;
  if (w.code === 'EVAL' && /protobufjs|inquire/.test(w.id ?? '')) return;
  warn(w);
};

export default [
  {
    input,
    plugins: plugins(),
    onwarn,
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
  },
  {
    input,
    plugins: plugins(),
    onwarn,
    output: { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs', exports: 'named' },
  },
];
