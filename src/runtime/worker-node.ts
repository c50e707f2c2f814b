// The pool worker as a Node worker_threads file: the Node entry (src/node.ts) starts it from
// dist/worker-node.js. Same program as the Web Worker (worker-body.ts); a thread that ends
// (process.exit in the worker, an uncaught error) marks its part gone, so the caller waiting
// for that part fails the call at once instead of waiting out the stall limit.
import { parentPort } from 'node:worker_threads';
import { startWorker, type WorkerMessage } from './worker-body';

const port = parentPort!;
const program = startWorker((m) => port.postMessage(m));
port.on('message', (m: WorkerMessage) => program.onMessage(m));
process.on('exit', program.onExit);
