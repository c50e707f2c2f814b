// One fuzzing child process: loads the kernels once, then runs the cases its parent sends
// through the public API only (loadOnnx, loadSafetensors, createModel, Model.run, dispose) and
// reports how each ended: a typed WasmCnnError, a clean run, or a defect (a wasm trap or any
// other error). The parent enforces the time limit (it kills a child that stops answering) and
// starts it with a heap limit (--max-old-space-size).
import { readFileSync } from 'node:fs';
import { createModel, init, loadOnnx, loadSafetensors, WasmCnnError, type Model } from '../../src/index';
import { Rng } from './mutate';

export interface CaseMessage {
  i: number;
  kind: 'onnx' | 'safetensors';
  bytes: Uint8Array;
  feedSeed: number;
}

export interface ResultMessage {
  i: number;
  /** loaded: valid and loaded, but past MAX_RUN_FLOATS input floats or MAX_RUN_BYTES of memory it is not run. */
  outcome: 'typed' | 'ran' | 'loaded' | 'trap' | 'untyped';
  stage: 'load' | 'run';
  error?: string;
  ms: number;
}

/** Inputs larger than this (floats, all inputs together) are loaded but not run. */
const MAX_RUN_FLOATS = 1 << 22;

/**
 * Models holding more wasm memory than this are loaded but not run: a Pad of a 1x2x4x4 input to
 * 3.3 GB is legal and correct, and its run spends over 20 s faulting in pages (counted as a hang).
 */
const MAX_RUN_BYTES = 256 * 2 ** 20;

/** Feeds for a model: random values, sometimes non-finite entries or a wrong shape. */
function feeds(m: Model, seed: number): Record<string, { data: Float32Array; shape: number[] }> {
  const r = new Rng(seed);
  const out: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const name of m.inputNames) {
    // a dynamic dim (-1: the file's dim_param or unknown dim) gets a size of its own
    const shape = m.inputShapes[name].map((d) => (d > 0 ? d : 1 + r.int(16)));
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = r.next() * 4 - 2;
    if (r.chance(0.08) && count) data[r.int(count)] = r.pick([NaN, Infinity, -Infinity]);
    if (r.chance(0.05)) data[r.int(Math.max(count, 1))] = r.pick([3e38, -3e38]);
    if (r.chance(0.04)) shape[r.int(shape.length)] += 1;
    out[name] = { data, shape };
  }
  return out;
}

async function runCase(c: CaseMessage): Promise<Omit<ResultMessage, 'i' | 'ms'>> {
  let stage: 'load' | 'run' = 'load';
  try {
    let m: Model;
    if (c.kind === 'onnx') {
      m = await loadOnnx(c.bytes);
    } else {
      const weights = loadSafetensors(c.bytes);
      m = await createModel('lenet5', { weights });
    }
    stage = 'run';
    // dynamic dims (-1) count as their largest size in feeds()
    const floats = m.inputNames.reduce((a, n) => a + m.inputShapes[n].reduce((p, q) => p * (q > 0 ? q : 16), 1), 0);
    if (floats > MAX_RUN_FLOATS || m.memoryBytes > MAX_RUN_BYTES) {
      // legal but large: running it would measure memory bandwidth and page faults, not the loader
      m.dispose();
      return { outcome: 'loaded', stage };
    }
    try {
      await m.run(feeds(m, c.feedSeed));
      m.summary();
    } finally {
      m.dispose();
      m.dispose();
    }
    return { outcome: 'ran', stage };
  } catch (e) {
    if (e instanceof WasmCnnError) return { outcome: 'typed', stage, error: `${e.name}: ${e.message}` };
    const err = e as Error;
    const trap = typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError;
    return { outcome: trap ? 'trap' : 'untyped', stage, error: `${err?.constructor?.name ?? typeof e}: ${err?.message ?? String(e)}\n${err?.stack ?? ''}` };
  }
}

const wasmPath = process.env.WASMCNN_FUZZ_WASM;
if (!wasmPath || !process.send) throw new Error('tools/fuzz/child.ts runs as a child of tools/fuzz/run.ts');
await init({ wasm: readFileSync(wasmPath), simd: 'baseline' });
process.on('message', async (c: CaseMessage) => {
  const t = performance.now();
  const r = await runCase({ ...c, bytes: new Uint8Array(c.bytes) });
  process.send!({ i: c.i, ms: performance.now() - t, ...r } satisfies ResultMessage);
});
process.send({ ready: true });
