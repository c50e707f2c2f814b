// The Node entry (export condition 'node'; Deno and Bun match it too): fills the runtime hooks
// of src/runtime/platform.ts with Node's modules (file reading with node:fs, image decoding with
// the optional sharp, the thread pool on
// node:worker_threads running dist/src/runtime/worker-node.js), then exposes the same API as the browser
// entry. This is the only entry that names node: modules, so browser bundles never see them.
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { decodeImageNode } from './image/decode-node';
import { setPlatform, type PoolWorker } from './runtime/platform';

/**
 * Plain Node (not Deno or Bun, which also report process.versions.node and also read this
 * entry): worker_threads, even when a library has put a Worker polyfill on globalThis (one of
 * the benchmark's peers does). Deno and Bun use their Web Workers on dist/src/runtime/worker.js.
 */
const plainNode = (): boolean =>
  typeof (globalThis as { Deno?: unknown }).Deno === 'undefined' && !(process.versions as { bun?: string }).bun;

/** Where the Node worker file is: next to this module in dist/ (overridable for tests run from the sources). */
let workerFile = new URL('./runtime/worker-node.js', import.meta.url);

/** In plain Node, a worker_threads worker running worker-node.js, as a pool worker; elsewhere undefined (Web Workers). */
function spawnNodeWorker(): PoolWorker | undefined {
  if (!plainNode()) return undefined;
  return nodePoolWorker(new Worker(workerFile), ` (worker file ${workerFile.href})`);
}

/**
 * A worker_threads Worker as a pool worker; `where` is appended to its error messages.
 * @internal For tests that start pool workers of their own.
 */
export function nodePoolWorker(w: Worker, where = ''): PoolWorker {
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: () => w.terminate(),
    onAck: (f) => w.on('message', f),
    hold: (on) => (on ? w.ref() : w.unref()),
    onError: (f) => {
      w.on('error', (e: Error) => f(`${e.message}${where}`));
      w.on('exit', (code: number) => f(`the worker thread exited (code ${code})`));
    },
  };
}

/**
 * Installs this entry's hooks; `dir` is the folder holding worker-node.js (default: runtime/
 * beside this module). @internal For tests that run the TypeScript sources against a built dist/.
 */
export function useNodePlatform(dir?: URL): void {
  if (dir) workerFile = new URL('worker-node.js', dir);
  setPlatform({ readFile: (path) => readFile(path), spawnWorker: spawnNodeWorker, decodeImage: decodeImageNode });
}

useNodePlatform();

export * from './index';
