// Builds the demo page into dist/demo/ with Vite, as a user's app would be built: the page
// imports 'wasmcnn' by its package name (resolved through package.json "exports" to dist/), and
// Vite emits what the package references by new URL('…', import.meta.url) (the kernel builds,
// thread workers) as assets beside the bundle. No inline script or style, so the page runs under
// script-src 'self' 'wasm-unsafe-eval'. Needs `npm run build` first.
// Run directly (node demo/build.mjs) or through buildDemo() (demo/serve.mjs, test/demo/run.mjs).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const OUT = fileURLToPath(new URL('../dist/demo/', import.meta.url));

/** Bundles the page into dist/demo/; returns the output folder. */
export async function buildDemo() {
  if (!existsSync(`${ROOT}package.json`) || !existsSync(`${ROOT}dist`)) throw new Error('demo: dist/ is missing; run `npm run build` first');
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: `${ROOT}demo`,
    base: './',
    logLevel: 'warn',
    build: {
      outDir: OUT,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      // the page carries the whole package (ONNX reader, zoo): no size warning for that
      chunkSizeWarningLimit: 2048,
    },
  });
  return OUT;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildDemo();
  console.log(`demo built into ${OUT}`);
}
