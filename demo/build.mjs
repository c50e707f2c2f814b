// Builds the demo page into dist/demo/: demo/src/main.js bundled for the browser by esbuild,
// importing 'wasmcnn' by its package name (resolved through package.json "exports" to dist/, as in
// a user's project), the page, its styles, and the kernel builds the bundle loads from
// new URL('./wasmcnn*.wasm', import.meta.url), i.e. from beside demo.js. Needs `npm run build`.
// Run directly (node demo/build.mjs) or through buildDemo() (demo/serve.mjs, test/demo/run.mjs).
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const OUT = fileURLToPath(new URL('../dist/demo/', import.meta.url));

/** Bundles the page into dist/demo/; returns the output folder. */
export async function buildDemo({ minify = true } = {}) {
  if (!existsSync(`${ROOT}dist/index.js`)) throw new Error('demo: dist/index.js is missing; run `npm run build` first');
  const { build } = await import('esbuild');
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { demo: 'demo/src/main.js' },
    outdir: OUT,
    // the package's dynamic imports (LeNet-5's bundled weights) stay chunks loaded on demand
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    // Node-only branches of the package that are never taken in a browser; harmless once the
    // package's "browser" entry leaves them out
    external: ['node:*'],
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(`${ROOT}demo/${f}`, `${OUT}${f}`);
  // the kernels, and a thread worker module should the package ship one beside them
  for (const f of readdirSync(`${ROOT}dist`))
    if (f.endsWith('.wasm') || /worker.*\.m?js$/.test(f)) copyFileSync(`${ROOT}dist/${f}`, `${OUT}${f}`);
  return OUT;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildDemo();
  console.log(`demo built into ${OUT}`);
}
