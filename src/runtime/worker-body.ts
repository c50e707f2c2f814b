// The program of one pool worker (threads.ts), shared by the Web Worker file (worker.ts) and
// the Node worker_threads file (worker-node.ts), and the layout of the control block both
// sides read. A worker holds one instance of the shared-memory kernel build per threaded model
// and runs its part (`part` of `parts`, assembly/parallel.ts) of every split kernel call.
//
// Hand-off goes through a small SharedArrayBuffer: the caller writes the kernel and its
// arguments, bumps SEQ and notifies; the worker spins briefly on SEQ (then blocks in
// Atomics.wait), runs its part and increments DONE. An EXIT job (FN < 0) returns the worker to
// its message loop, where it reads what was posted (a new model's memory, a disposal).

// Int32 slots of the control block; the arguments follow as float64 (exact for i32 and f32).
// GONE: the part of a worker whose thread is ending (0: none), so that a caller waiting for its
// part stops waiting.
export const SEQ = 0, DONE = 1, MODEL = 2, FN = 3, NARGS = 4, FAILED = 5, PARTS = 6, GONE = 7;
export const CTRL_INTS = 8;
/** Arguments a pooled kernel call carries before (part, parts): the training kernels take up to 18. */
export const MAX_ARGS = 24;
/** Most threads (init allows 64): the kernels' split table holds this many parts (assembly/parallel.ts). */
export const MAX_THREADS = 64;
export const EXIT = -1;

/**
 * What the pool posts to a worker; `seq` numbers the message (the worker's acknowledgement
 * carries it back). A model's instance is never dropped one by one: the pool replaces its
 * workers instead (an idle worker never collects garbage, see threads.ts).
 */
export type WorkerMessage =
  | { type: 'init'; seq: number; ctrl: SharedArrayBuffer; part: number; names: string[]; spinMs: number }
  | { type: 'model'; seq: number; id: number; module: WebAssembly.Module; memory: WebAssembly.Memory };

/** What a worker posts back after each message. */
export interface WorkerAck {
  type: 'ack';
  seq: number;
  error?: string;
}

/** The worker program: its message handler, and what its file calls when the thread is ending. */
export interface WorkerProgram {
  onMessage(m: WorkerMessage): void;
  /** Marks this worker's part as gone (GONE), waking a caller that waits for it. */
  onExit(): void;
}

type KernelFn = (...a: number[]) => unknown;

/**
 * Starts the worker program; `post` sends to the pool. The worker file wires onMessage to its
 * runtime's message event and onExit to its thread's end, where the runtime tells it.
 */
export function startWorker(post: (m: WorkerAck) => void): WorkerProgram {
  let ctrl: Int32Array, args: Float64Array, times: Float64Array;
  let part = 0, spinMs = 0;
  let names: string[] = [];
  let seen = 0;
  const models = new Map<number, Record<string, KernelFn>>();
  const argLists: number[][] = [];

  function loop(): void {
    for (;;) {
      let s = Atomics.load(ctrl, SEQ);
      if (s === seen) {
        const t0 = performance.now();
        while ((s = Atomics.load(ctrl, SEQ)) === seen && performance.now() - t0 < spinMs);
        while (s === seen) {
          Atomics.wait(ctrl, SEQ, seen);
          s = Atomics.load(ctrl, SEQ);
        }
      }
      seen = s;
      const fn = ctrl[FN];
      if (fn >= 0 && part < ctrl[PARTS]) {
        try {
          const n = ctrl[NARGS];
          // one argument array per count, reused: a worker that allocates on every job grows its heap for nothing
          const a = (argLists[n] ??= new Array<number>(n + 2));
          for (let i = 0; i < n; i++) a[i] = args[i];
          a[n] = part;
          a[n + 1] = ctrl[PARTS];
          const t0 = performance.now();
          models.get(ctrl[MODEL])![names[fn]].apply(null, a);
          times[part] = performance.now() - t0;
        } catch {
          Atomics.store(ctrl, FAILED, part);
        }
      }
      Atomics.add(ctrl, DONE, 1);
      Atomics.notify(ctrl, DONE);
      if (fn < 0) return;
    }
  }

  const onMessage = (m: WorkerMessage): void => {
    let error: string | undefined;
    try {
      if (m.type === 'init') {
        ctrl = new Int32Array(m.ctrl);
        args = new Float64Array(m.ctrl, CTRL_INTS * 4, MAX_ARGS);
        times = new Float64Array(m.ctrl, CTRL_INTS * 4 + MAX_ARGS * 8, MAX_THREADS);
        part = m.part;
        names = m.names;
        spinMs = m.spinMs;
      } else if (m.type === 'model') {
        const abort = (): never => {
          throw new Error('wasm kernel aborted');
        };
        const inst = new WebAssembly.Instance(m.module, { env: { memory: m.memory, abort } });
        models.set(m.id, inst.exports as unknown as Record<string, KernelFn>);
      }
    } catch (e) {
      error = String((e as Error)?.message ?? e);
    }
    post({ type: 'ack', seq: m.seq, error });
    loop();
  };
  const onExit = (): void => {
    if (!ctrl) return;
    Atomics.store(ctrl, GONE, part);
    Atomics.notify(ctrl, DONE);
  };
  return { onMessage, onExit };
}
