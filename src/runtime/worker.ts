// The pool worker as a Web Worker module file (browsers, Deno, Bun): threads.ts starts it with
// new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }), the form Vite,
// webpack 5 and Parcel follow and emit, and a page whose CSP says `worker-src 'self'` allows.
// A Web Worker is not told when it is terminated; a stalled part is found by the pool's time limit.
import { startWorker, type WorkerMessage } from './worker-body';

const scope = globalThis as unknown as {
  postMessage(m: unknown): void;
  onmessage: ((e: MessageEvent<WorkerMessage>) => void) | null;
};
const program = startWorker((m) => scope.postMessage(m));
scope.onmessage = (e) => program.onMessage(e.data);
