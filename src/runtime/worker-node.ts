// The pool worker as a Node worker_threads file: the Node entry (src/node.ts) starts it from
// dist/worker-node.js. Same program as the Web Worker (worker-body.ts).
import { parentPort } from 'node:worker_threads';
import { startWorker, type WorkerMessage } from './worker-body';

const port = parentPort!;
const handle = startWorker((m) => port.postMessage(m));
port.on('message', (m: WorkerMessage) => handle(m));
