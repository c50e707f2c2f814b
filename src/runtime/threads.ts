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
// memory) is preceded by an EXIT job that returns them to their message loop; they re-enter
// the job loop after handling the message.
//
// Lifecycle. The workers of a pool form a crew, started together and stopped together. A
// worker blocked in its job loop never collects garbage, so an instance it holds on a disposed
// model's memory would keep that memory forever: instead of dropping instances, a disposal
// stops the crew, and when models remain a new crew starts in the background and instantiates
// them (a crew with no model is not kept: the process can exit). A worker that dies or fails
// mid-call fails that call with a WasmCnnError and its crew is replaced the same way. While no
// crew is up, split calls run whole on the calling thread (the same bits, parts = 1); run()
// waits for the crew instead. Instantiating writes nothing into the memory (the shared build's
// static data is placed by the host, segments.ts), so a crew may start while models run.
import { PARALLEL_KERNELS, platform, WasmCnnError } from '../lazy/kit';
import type { Kernels } from './kernels';
import type { PoolWorker } from './platform';
import { CTRL_INTS, DONE, EXIT, FAILED, FN, GONE, MAX_ARGS, MAX_THREADS, MODEL, NARGS, PARTS, SEQ, type WorkerAck, type WorkerMessage } from './worker-body';


/** How long an idle worker spins for the next job, and the caller for the workers' parts, before blocking (ms). */
const SPIN_MS = 2;
/** Calls whose parts take less than this are not timed for the split (ms). */
const SPLIT_MIN_MS = 0.02;
/** How far one call moves the shares towards the measured speeds. */
const SPLIT_RATE = 0.1;
/**
 * A worker that has not finished its part this long after the call started is taken for
 * stalled: STALL_MS, or STALL_FACTOR times the calling thread's own part if that is longer
 * (parts are balanced, so a healthy worker is never far behind).
 */
const STALL_MS = 30_000;
const STALL_FACTOR = 100;

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

/** One generation of workers, started together and stopped together. */
interface Crew {
  workers: PoolWorker[];
  ctrl: Int32Array;
  args: Float64Array;
  /** Each thread's part duration in the last call (ms), written by the workers. */
  times: Float64Array;
  /** Models instantiated on every worker of this crew. */
  models: Set<number>;
  stopped: boolean;
}

/** A message awaiting every worker of a crew's acknowledgement. */
interface Waiter {
  crew: Crew;
  left: number;
  errors: string[];
  done: () => void;
  fail: (message: string) => void;
}

/** Whether idle workers keep this runtime's process from exiting (Deno cannot unref a worker). */
const idleWorkersHoldExit = (): boolean => typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

export class Pool {
  /** Threads a split call runs on: the caller plus the workers. */
  readonly threads: number;
  /** Each thread's share of a threaded call, following the threads' measured speeds. */
  private readonly share: number[];
  /** Models using the pool: what a new crew instantiates. */
  private readonly models = new Map<number, { module: WebAssembly.Module; memory: WebAssembly.Memory; table: Int32Array }>();
  private crew: Crew | undefined;
  private starting: Promise<Crew> | undefined;
  /** The end of a failed crew's workers (one may still be in a part): a new crew waits for it. */
  private draining: Promise<unknown> | undefined;
  /** Why no crew can be started any more (a restart failed): runs are refused with this. */
  private broken: string | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private readonly block = canBlock();
  private nextId = 1;
  private nextSeq = 1;
  private retired = false;

  private constructor(threads: number) {
    this.threads = threads;
    this.share = new Array<number>(threads).fill(1 / threads);
  }

  /**
   * A pool of threads - 1 workers. The first crew starts here, so that a runtime that cannot
   * start workers is found at init(); it serves the first models (in Deno, where idle workers
   * would keep the process alive, it is stopped and the first model starts another).
   */
  static async create(threads: number): Promise<Pool> {
    if (threads > MAX_THREADS) throw new WasmCnnError(`at most ${MAX_THREADS} threads, asked for ${threads}`);
    const pool = new Pool(threads);
    const crew = await pool.start();
    if (idleWorkersHoldExit() && pool.models.size === 0) pool.stopCrew(crew);
    return pool;
  }

  /** Gives the workers an instance of `module` on `memory` (whose static data is in place); returns the model's id. */
  async attach(module: WebAssembly.Module, memory: WebAssembly.Memory, splitTable: number): Promise<number> {
    if (this.retired) throw new WasmCnnError('internal: a model attached to a retired thread pool');
    const id = this.nextId++;
    this.models.set(id, { module, memory, table: new Int32Array(memory.buffer, splitTable, MAX_THREADS + 1) });
    try {
      await this.ready(id);
    } catch (e) {
      this.detach(id);
      throw e;
    }
    return id;
  }

  /** Whether a crew is up with model `id` instantiated (run() then has nothing to wait for). */
  serves(id: number): boolean {
    return this.crew?.models.has(id) === true;
  }

  /** Resolves once a crew is up with model `id` instantiated; rejects when none can be started. */
  async ready(id: number): Promise<void> {
    while (this.models.has(id)) {
      const crew = await this.start();
      if (crew.stopped) continue;
      if (!crew.models.has(id)) await this.instantiateOn(crew, id);
      if (!crew.stopped) return;
    }
  }

  /**
   * A model no longer uses the pool: its workers' instances go with the crew, which is stopped
   * (a worker would not free them, see the header); a new crew serves the models that remain.
   */
  detach(id: number): void {
    if (!this.models.delete(id)) return;
    if (this.crew) this.stopCrew(this.crew);
    if (this.models.size > 0) this.restart();
    // the next model tries afresh
    else this.broken = undefined;
  }

  /** No new models; the workers end once the last model using them is disposed. */
  retire(): void {
    this.retired = true;
    if (this.models.size === 0 && this.crew) this.stopCrew(this.crew);
  }

  /**
   * Runs kernel `fn` split over every thread: part 0 here, part i on worker i. Returns when all
   * parts are done; rethrows a failure of any part. With no crew up (between a disposal and
   * the next crew), the whole call runs here, with the same result.
   */
  run(k: Kernels, model: number, fn: number, a: number[]): void {
    const crew = this.crew;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const kernel = (k as any)[PARALLEL_KERNELS[fn]] as (...v: number[]) => void;
    if (!crew?.models.has(model)) {
      if (this.broken) throw new WasmCnnError(this.broken);
      if (this.draining)
        throw new WasmCnnError('a worker thread failed and is being replaced; run() waits for the replacement, runSync() cannot');
      this.restart();
      kernel(...a, 0, 1);
      return;
    }
    const c = crew.ctrl;
    // a longer argument list would be cut short silently by the shared block
    if (a.length > MAX_ARGS) throw new WasmCnnError(`internal: kernel ${PARALLEL_KERNELS[fn]} takes ${a.length} arguments, the pool carries ${MAX_ARGS}`);
    for (let i = 0; i < a.length; i++) crew.args[i] = a[i];
    c[MODEL] = model;
    c[FN] = fn;
    c[NARGS] = a.length;
    c[PARTS] = this.threads;
    const table = this.models.get(model)?.table;
    if (table) this.writeSplit(table);
    this.signal(crew);
    let failure: unknown;
    const t0 = performance.now();
    try {
      kernel(...a, 0, this.threads);
    } catch (e) {
      failure = e;
    }
    const own = (crew.times[0] = performance.now() - t0);
    const stalled = this.waitDone(crew, Math.max(STALL_MS, STALL_FACTOR * own));
    if (stalled) {
      this.fail(crew, stalled);
      throw new WasmCnnError(`kernel ${PARALLEL_KERNELS[fn]}: ${stalled}; its workers are being replaced`);
    }
    this.learnSpeeds(crew.times);
    if (failure) throw failure;
    const part = Atomics.exchange(c, FAILED, 0);
    if (part) throw new WasmCnnError(`kernel ${PARALLEL_KERNELS[fn]} failed in worker thread ${part}`);
  }

  /** The running crew, or a new one (which instantiates every model using the pool). */
  private start(): Promise<Crew> {
    if (this.crew) return Promise.resolve(this.crew);
    if (this.broken) return Promise.reject(new WasmCnnError(this.broken));
    this.starting ??= this.startCrew().then(
      (crew) => {
        this.starting = undefined;
        // a model disposed while the crew was starting may have been instantiated on it: not kept
        if ([...crew.models].some((id) => !this.models.has(id))) {
          this.stopCrew(crew);
          return this.models.size > 0 ? this.start() : crew;
        }
        this.crew = crew;
        return crew;
      },
      (e: unknown) => {
        this.starting = undefined;
        // models are waiting on this pool: no crew can serve them, say so to each run
        if (this.models.size === 0) throw e;
        this.broken = `the worker threads could not be restarted (${(e as Error).message})`;
        throw new WasmCnnError(this.broken);
      },
    );
    return this.starting;
  }

  /** Starts a crew in the background for the models that remain (failures are kept in `broken`). */
  private restart(): void {
    if (this.models.size > 0 && !this.crew && !this.broken) this.start().catch(() => {});
  }

  private async startCrew(): Promise<Crew> {
    while (this.draining) await this.draining;
    const block = new SharedArrayBuffer(CTRL_INTS * 4 + MAX_ARGS * 8 + MAX_THREADS * 8);
    const spawned = await Promise.allSettled(Array.from({ length: this.threads - 1 }, spawn));
    const workers = spawned.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const crew: Crew = {
      workers,
      ctrl: new Int32Array(block, 0, CTRL_INTS),
      args: new Float64Array(block, CTRL_INTS * 4, MAX_ARGS),
      times: new Float64Array(block, CTRL_INTS * 4 + MAX_ARGS * 8, MAX_THREADS),
      models: new Set(),
      stopped: false,
    };
    const refused = spawned.find((r) => r.status === 'rejected');
    if (refused) {
      crew.stopped = true;
      for (const w of workers) w.terminate();
      const e = refused.reason as Error;
      throw e instanceof WasmCnnError ? e : new WasmCnnError(String(e?.message ?? e));
    }
    for (const w of workers) {
      w.onError((message) => this.lost(crew, message));
      w.onAck((m) => this.ack(m));
    }
    try {
      await this.post(crew, (part, seq) => ({ type: 'init', seq, ctrl: block, part, names: PARALLEL_KERNELS.slice(), spinMs: SPIN_MS }), false);
      for (const id of [...this.models.keys()]) await this.instantiateOn(crew, id);
    } catch (e) {
      this.stopCrew(crew);
      throw e;
    }
    return crew;
  }

  private async instantiateOn(crew: Crew, id: number): Promise<void> {
    const m = this.models.get(id);
    if (!m) return;
    await this.post(crew, (_part, seq) => ({ type: 'model', seq, id, module: m.module, memory: m.memory }));
    crew.models.add(id);
  }

  /**
   * Ends a crew on the normal path: its workers leave their job loop (Deno's terminate() cannot
   * stop a worker spinning or blocked in Atomics.wait), then are terminated.
   */
  private stopCrew(crew: Crew): void {
    if (crew.stopped) return;
    crew.stopped = true;
    if (this.crew === crew) this.crew = undefined;
    this.exitLoops(crew);
    for (const w of crew.workers) w.terminate();
    this.failWaiters(crew, 'the worker threads were stopped');
  }

  /**
   * Ends a crew that failed (a worker died or stalled): the live workers are told to leave their
   * loop, all are terminated without waiting, and the next crew starts once they have ended.
   */
  private fail(crew: Crew, why: string): void {
    if (crew.stopped) return;
    crew.stopped = true;
    if (this.crew === crew) this.crew = undefined;
    crew.ctrl[FN] = EXIT;
    this.signal(crew);
    const ends = crew.workers.map((w) => Promise.resolve(w.terminate()).catch(() => {}));
    const draining = (this.draining = Promise.all(ends).then(() => {
      if (this.draining === draining) this.draining = undefined;
    }));
    this.failWaiters(crew, why);
    this.restart();
  }

  /** A worker of `crew` reported an error or ended. */
  private lost(crew: Crew, message: string): void {
    if (!crew.stopped) this.fail(crew, message);
  }

  private failWaiters(crew: Crew, why: string): void {
    for (const [seq, w] of this.waiters) {
      if (w.crew !== crew) continue;
      this.waiters.delete(seq);
      w.fail(why);
    }
  }

  private ack(m: Pick<WorkerAck, 'seq' | 'error'>): void {
    const wait = this.waiters.get(m.seq);
    if (!wait) return;
    if (m.error) wait.errors.push(m.error);
    if (--wait.left === 0) {
      this.waiters.delete(m.seq);
      wait.done();
    }
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
  private learnSpeeds(t: Float64Array): void {
    const n = this.threads, s = this.share;
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

  private signal(crew: Crew): void {
    Atomics.store(crew.ctrl, DONE, 0);
    Atomics.add(crew.ctrl, SEQ, 1);
    Atomics.notify(crew.ctrl, SEQ);
  }

  /**
   * Waits until every worker of the crew has counted DONE. Returns why it stopped waiting
   * otherwise: a worker's thread ended (GONE), or `limitMs` passed.
   */
  private waitDone(crew: Crew, limitMs: number): string | undefined {
    const c = crew.ctrl;
    const n = crew.workers.length;
    let spins = 0;
    let t0 = 0;
    for (;;) {
      const d = Atomics.load(c, DONE);
      if (d >= n) return undefined;
      if ((++spins & 255) !== 0) continue;
      const gone = Atomics.load(c, GONE);
      if (gone) return `worker thread ${gone} ended during the call`;
      const t = performance.now();
      if (t0 === 0) t0 = t;
      else if (t - t0 > limitMs) return `a worker thread did not finish its part within ${(limitMs / 1000).toFixed(0)} s`;
      // spin as long as an idle worker does before blocking: a thread put to sleep here is woken
      // late when its part ends (the futex wake-up of a halted core), and that cost every step
      if (this.block && t - t0 > SPIN_MS) Atomics.wait(c, DONE, d, 1);
    }
  }

  /** Sends every worker of the crew back to its message loop (so that it reads what is posted next). */
  private exitLoops(crew: Crew): void {
    crew.ctrl[FN] = EXIT;
    this.signal(crew);
    const stalled = this.waitDone(crew, STALL_MS);
    if (stalled) this.fail(crew, stalled);
  }

  /** Posts a message to every worker of the crew (after sending them to their message loop) and awaits their acknowledgements. */
  private post(crew: Crew, msg: (part: number, seq: number) => WorkerMessage, exit = true): Promise<void> {
    return new Promise((resolve, reject) => {
      if (crew.stopped) return reject(new WasmCnnError('internal: a message to stopped worker threads'));
      const seq = this.nextSeq++;
      const errors: string[] = [];
      this.waiters.set(seq, {
        crew,
        left: crew.workers.length,
        errors,
        done: () => {
          // an idle pool never keeps the process alive
          for (const w of crew.workers) w.hold(false);
          if (errors.length) reject(new WasmCnnError(`worker thread: ${errors[0]}`));
          else resolve();
        },
        fail: (message) => {
          for (const w of crew.workers) w.hold(false);
          reject(new WasmCnnError(`worker thread: ${message}`));
        },
      });
      for (const w of crew.workers) w.hold(true);
      if (exit) this.exitLoops(crew);
      if (crew.stopped) return;
      crew.workers.forEach((w, i) => w.postMessage(msg(i + 1, seq)));
    });
  }
}
