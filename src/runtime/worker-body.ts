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
export const SEQ = 0, DONE = 1, MODEL = 2, FN = 3, NARGS = 4, FAILED = 5, PARTS = 6;
export const CTRL_INTS = 8;
export const MAX_ARGS = 16;
/** Most threads (init allows 64): the kernels' split table holds this many parts (assembly/parallel.ts). */
export const MAX_THREADS = 64;
export const EXIT = -1;

/** What the pool posts to a worker. */
export type WorkerMessage =
  | { type: 'init'; id: number; ctrl: SharedArrayBuffer; part: number; names: string[]; spinMs: number }
  | { type: 'model'; id: number; module: WebAssembly.Module; memory: WebAssembly.Memory }
  | { type: 'drop'; id: number };

/** What a worker posts back after each message. */
export interface WorkerAck {
  type: 'ack';
  id: number;
  error?: string;
}

type KernelFn = (...a: number[]) => unknown;

/**
 * Starts the worker program; `post` sends to the pool. Returns the handler for the pool's
 * messages (the worker file wires it to its runtime's message event).
 */
export function startWorker(post: (m: WorkerAck) => void): (m: WorkerMessage) => void {
  let ctrl: Int32Array, args: Float64Array, times: Float64Array;
  let part = 0, spinMs = 0;
  let names: string[] = [];
  let seen = 0;
  const models = new Map<number, Record<string, KernelFn>>();

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
          const a = new Array<number>(n + 2);
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

  return (m) => {
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
      } else if (m.type === 'drop') {
        models.delete(m.id);
      }
    } catch (e) {
      error = String((e as Error)?.message ?? e);
    }
    post({ type: 'ack', id: m.id, error });
    loop();
  };
}
