// The worker pool behind init({ threads: n }): n - 1 workers (worker_threads in Node, Web
// Workers elsewhere, both running worker-body.ts from a real module file), each holding its own instance of the shared-memory kernel build on every
// threaded model's memory. A parallel step runs one kernel call split n ways: the calling
// thread computes part 0 while worker i computes part i (the kernels' (part, parts) arguments,
// assembly/parallel.ts), so the result is bit-identical to the single-threaded call. The parts
// follow the threads' measured speeds (learnSpeeds, written to the kernels' split table before
// each call): where does not change any output's bits, only who waits for whom.
//
// Hand-off goes through a small SharedArrayBuffer, not messages: the caller writes the kernel
// and its arguments, bumps SEQ and notifies; each worker spins briefly on SEQ (then blocks in
// Atomics.wait), runs its part and increments DONE; the caller spins (then blocks) until DONE
// counts every worker. Workers sit in that loop between jobs, so anything sent by postMessage (a new model's
// memory, a disposal) is preceded by an EXIT job that returns them to their message loop; they
// re-enter the job loop after handling the message.
import { WasmCnnError } from '../errors';
import { PARALLEL_KERNELS, type Kernels } from './kernels';
import { platform, type PoolWorker } from './platform';
import { CTRL_INTS, DONE, EXIT, FAILED, FN, MAX_ARGS, MAX_THREADS, MODEL, NARGS, PARTS, SEQ } from './worker-body';


/** How long an idle worker spins for the next job, and the caller for the workers' parts, before blocking (ms). */
const SPIN_MS = 2;
/** Calls whose parts take less than this are not timed for the split (ms). */
const SPLIT_MIN_MS = 0.02;
/** How far one call moves the shares towards the measured speeds. */
const SPLIT_RATE = 0.1;
/** A worker that has not finished its part after this long is taken for dead (ms). */
const STALL_MS = 600_000;

const isNode =
  typeof process !== 'undefined' && typeof process.versions === 'object' && !!process.versions.node;

/**
 * A pool worker: a Web Worker on the module file worker.ts (browsers, Deno, Bun), unless the
 * entry file set platform.spawnWorker (Node: worker_threads on dist/src/runtime/worker-node.js; the inline
 * entry: a worker from its embedded copy of worker.js).
 */
async function spawn(): Promise<PoolWorker> {
  const own = await platform.spawnWorker?.();
  if (own) return own;
  const why = threadsUnavailable();
  if (why) throw new WasmCnnError(why);
  return webWorker(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
}

/** A Web Worker (module worker running worker.ts's program) as a PoolWorker. */
export function webWorker(w: Worker, cleanup?: () => void): PoolWorker {
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: () => {
      w.terminate();
      cleanup?.();
    },
    onAck: (f) => w.addEventListener('message', (e: MessageEvent) => f(e.data)),
    // Bun's workers can be unref'd like Node's; browsers' and Deno's cannot (nor need it in browsers)
    hold: (on) => {
      const r = w as unknown as { ref?(): void; unref?(): void };
      if (on) r.ref?.();
      else r.unref?.();
    },
    onError: (f) =>
      w.addEventListener('error', (e: Event) => {
        const ev = e as ErrorEvent;
        f(ev.message || `the worker script could not be loaded (${workerHint})`);
      }),
  };
}

const workerHint =
  "it ships as dist/src/runtime/worker.js in the package (export 'wasmcnn/worker.js'): a bundler that does not follow new Worker(new URL('./worker.js', import.meta.url)) must copy it next to the bundle, or use 'wasmcnn/inline'";

/** Why this runtime cannot run threads, or undefined when it can. */
export function threadsUnavailable(): string | undefined {
  // browsers hide SharedArrayBuffer on pages that are not isolated: name the cause first
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false)
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  if (typeof Worker === 'undefined' && !(isNode && platform.spawnWorker))
    return isNode
      ? "Node's worker threads are set up by the 'node' entry: import 'wasmcnn' by its package name, not a file inside dist/"
      : 'this runtime has no Web Workers';
  return undefined;
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

export class Pool {
  /** Threads a split call runs on: the caller plus the workers. */
  readonly threads: number;
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  /** Each thread's part duration in the last call (ms), written by the workers. */
  private readonly times: Float64Array;
  /** Each thread's share of a threaded call, following the threads' measured speeds. */
  private readonly share: number[];
  /** Per model: a view of its kernels' split table (assembly/parallel.ts). */
  private readonly tables = new Map<number, Int32Array>();
  private readonly workers: PoolWorker[];
  private readonly waiters = new Map<number, { left: number; errors: string[]; done: () => void; fail: (m: string) => void }>();
  private readonly block = canBlock();
  private nextId = 1;
  private users = 0;
  private retired = false;
  private closed = false;

  private constructor(workers: PoolWorker[], ctrl: SharedArrayBuffer) {
    this.workers = workers;
    this.threads = workers.length + 1;
    this.ctrl = new Int32Array(ctrl, 0, CTRL_INTS);
    this.args = new Float64Array(ctrl, CTRL_INTS * 4, MAX_ARGS);
    this.times = new Float64Array(ctrl, CTRL_INTS * 4 + MAX_ARGS * 8, MAX_THREADS);
    this.share = new Array<number>(this.threads).fill(1 / this.threads);
    for (const w of workers) {
      w.onError((message) => {
        // a worker that cannot start (or crashed) fails whatever is awaited; the pool is unusable
        for (const wait of this.waiters.values()) wait.fail(message);
        this.waiters.clear();
        if (!this.closed) this.close();
      });
      w.onAck((m) => {
        const wait = this.waiters.get(m.id);
        if (!wait) return;
        if (m.error) wait.errors.push(m.error);
        if (--wait.left === 0) {
          this.waiters.delete(m.id);
          wait.done();
        }
      });
    }
  }

  /** Starts threads - 1 workers and waits until each is in its job loop. */
  static async create(threads: number): Promise<Pool> {
    if (threads > MAX_THREADS) throw new WasmCnnError(`at most ${MAX_THREADS} threads, asked for ${threads}`);
    const ctrl = new SharedArrayBuffer(CTRL_INTS * 4 + MAX_ARGS * 8 + MAX_THREADS * 8);
    const workers = await Promise.all(Array.from({ length: threads - 1 }, spawn));
    const pool = new Pool(workers, ctrl);
    await pool.broadcast(0, (part) => ({ type: 'init', id: 0, ctrl, part, names: PARALLEL_KERNELS.slice(), spinMs: SPIN_MS }), false);
    return pool;
  }

  /** Gives every worker an instance of `module` on `memory`; returns the model's id. */
  async attach(module: WebAssembly.Module, memory: WebAssembly.Memory, splitTable: number): Promise<number> {
    if (this.closed) throw new WasmCnnError('the thread pool has been shut down');
    const id = this.nextId++;
    await this.broadcast(id, () => ({ type: 'model', id, module, memory }));
    this.tables.set(id, new Int32Array(memory.buffer, splitTable, MAX_THREADS + 1));
    this.users++;
    return id;
  }

  /** Drops a model's worker instances (its memory can then be collected). */
  detach(id: number): void {
    if (this.closed) return;
    this.exitLoops();
    if (--this.users === 0 && this.retired) this.close();
    else for (const w of this.workers) w.postMessage({ type: 'drop', id });
    this.tables.delete(id);
  }

  /** No new models; the workers end once the last model using them is disposed. */
  retire(): void {
    this.retired = true;
    if (this.users === 0 && !this.closed) {
      this.exitLoops();
      this.close();
    }
  }

  /**
   * Terminates the workers. On the normal path they have just left their job loop (exitLoops)
   * with nothing posted after: Deno's terminate() cannot stop a worker spinning or blocked in
   * Atomics.wait.
   */
  private close(): void {
    this.closed = true;
    for (const w of this.workers) w.terminate();
  }

  /**
   * Runs kernel `fn` split over every thread: part 0 here, part i on worker i. Returns when all
   * parts are done; rethrows a failure of any part.
   */
  run(k: Kernels, model: number, fn: number, a: number[]): void {
    if (this.closed) throw new WasmCnnError('the worker threads of this model have stopped (a worker crashed or the pool was shut down)');
    const c = this.ctrl;
    for (let i = 0; i < a.length; i++) this.args[i] = a[i];
    c[MODEL] = model;
    c[FN] = fn;
    c[NARGS] = a.length;
    c[PARTS] = this.threads;
    const table = this.tables.get(model);
    if (table) this.writeSplit(table);
    this.signal();
    let failure: unknown;
    const t0 = performance.now();
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (k as any)[PARALLEL_KERNELS[fn]](...a, 0, this.threads);
    } catch (e) {
      failure = e;
    }
    this.times[0] = performance.now() - t0;
    this.waitDone();
    this.learnSpeeds();
    if (failure) throw failure;
    const part = Atomics.exchange(c, FAILED, 0);
    if (part) throw new WasmCnnError(`kernel ${PARALLEL_KERNELS[fn]} failed in worker thread ${part}`);
  }

  /** The current shares as the kernels' split table: where parts 1..threads-1 start, of 2^16. */
  private writeSplit(table: Int32Array): void {
    let at = 0;
    for (let p = 1; p < this.threads; p++) {
      at += this.share[p - 1];
      table[p] = Math.round(at * 65536);
    }
    table[0] = this.threads;
  }

  /**
   * Moves the shares a step towards the threads' speeds in the call just done (share / time).
   * Cores of one machine do not always run at one speed (a busy neighbour on a shared host,
   * big and little cores): with even parts every call waits for the slowest. Calls too short
   * to time are skipped, a part 3x off the others (a thread held up once) is not taken for a
   * speed, and no thread drops below half an even share.
   */
  private learnSpeeds(): void {
    const n = this.threads, t = this.times, s = this.share;
    let rates = 0, lo = Infinity, hi = 0;
    for (let i = 0; i < n; i++) {
      if (!(t[i] > SPLIT_MIN_MS)) return;
      const r = s[i] / t[i];
      rates += r;
      lo = Math.min(lo, r);
      hi = Math.max(hi, r);
    }
    if (hi > 3 * lo) return;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      s[i] = Math.max(0.5 / n, s[i] + SPLIT_RATE * (s[i] / t[i] / rates - s[i]));
      sum += s[i];
    }
    for (let i = 0; i < n; i++) s[i] /= sum;
  }

  private signal(): void {
    Atomics.store(this.ctrl, DONE, 0);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
  }

  private waitDone(): void {
    const c = this.ctrl;
    const n = this.workers.length;
    let spins = 0;
    let t0 = 0;
    for (;;) {
      const d = Atomics.load(c, DONE);
      if (d >= n) return;
      if ((++spins & 255) !== 0) continue;
      const t = performance.now();
      if (t0 === 0) t0 = t;
      else if (t - t0 > STALL_MS) throw new WasmCnnError(`a worker thread did not finish within ${STALL_MS / 1000} s`);
      // spin as long as an idle worker does before blocking: a thread put to sleep here is woken
      // late when its part ends (the futex wake-up of a halted core), and that cost every step
      if (this.block && t - t0 > SPIN_MS) Atomics.wait(c, DONE, d, 1);
    }
  }

  /** Sends every worker back to its message loop (so that it reads what is posted next). */
  private exitLoops(): void {
    this.ctrl[FN] = EXIT;
    this.signal();
    this.waitDone();
  }

  private broadcast(id: number, msg: (part: number) => unknown, exit = true): Promise<void> {
    return new Promise((resolve, reject) => {
      const errors: string[] = [];
      this.waiters.set(id, {
        left: this.workers.length,
        errors,
        done: () => {
          // an idle pool never keeps the process alive
          for (const w of this.workers) w.hold(false);
          if (errors.length) reject(new WasmCnnError(`worker thread: ${errors[0]}`));
          else resolve();
        },
        fail: (message) => reject(new WasmCnnError(`worker thread: ${message}`)),
      });
      for (const w of this.workers) w.hold(true);
      if (exit) this.exitLoops();
      this.workers.forEach((w, i) => w.postMessage(msg(i + 1)));
    });
  }
}
