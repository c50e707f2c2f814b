// init({ threads }): models split their convolutions and GEMMs over a worker pool on shared
// memory and must give exactly the single-threaded bits, on every kernel family the split
// touches (im2col, pointwise, Winograd, depthwise, Gemm, batched MatMul, pools, elementwise; GEMM panels
// stored as halves too); bad thread counts are
// refused; without SharedArrayBuffer wasmcnn warns once and runs on one thread. Also
// model.profile() on a threaded model.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createModel, init, modelBuilder, ValueError, type Model } from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

const wasm = readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url));
const wasmThreads = readFileSync(new URL('../dist/wasmcnn-mt.wasm', import.meta.url));

async function zoo(name: string, threads: number, options: Record<string, unknown>): Promise<Model> {
  await init({ wasm, wasmThreads, threads });
  return createModel(name, { weights: syntheticWeights(modelBuilder(name, options).weightShapes()), ...options });
}

function run(m: Model): Float32Array {
  const name = m.inputNames[0];
  const x = syntheticInput(m.inputShapes[name]);
  return m.runSync({ [name]: x })[m.outputNames[0]].data;
}

/** Indices where the two outputs differ in any bit. */
function bitDiffs(a: Float32Array, b: Float32Array): number[] {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) out.push(i);
  return out;
}

afterAll(async () => {
  await init({ wasm, threads: 1 });
});

describe('threads: bit-identical to one thread', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['resnet18', { inputSize: 64, batch: 2 }, 'Winograd 3x3, im2col 7x7 stem, pointwise, FC'],
    ['mobilenet_v2', { inputSize: 96 }, 'depthwise 3x3 s1/s2, pointwise with residual'],
    ['googlenet', { inputSize: 64 }, 'im2col 5x5, channel-slice outputs, max pools'],
    ['densenet121', { inputSize: 64 }, 'standalone BatchNorm + ReLU on channel slices, average pools'],
    ['convnext_tiny', { inputSize: 64 }, 'depthwise 7x7, Gemm with GELU over pixel rows'],
    ['shufflenet_v2_x1_0', { inputSize: 64 }, 'grouped pointwise, strided channel slices'],
    ['mobilenetv4_hybrid_medium', { inputSize: 96 }, 'batched MatMul (Mobile-MQA)'],
    ['efficientnet_b0', { inputSize: 128 }, 'squeeze-excitation: global average pools and channel-scale Muls, depthwise 5x5'],
    ['resnet18', { inputSize: 64, batch: 2, weightStorage: 'float16' }, "weightStorage 'float16': half panels of im2col 3x3 s2, pointwise, FC (gemm_f16)"],
    ['googlenet', { inputSize: 64, weightStorage: 'float16' }, "weightStorage 'float16': im2col 5x5, pointwise into channel slices"],
  ];
  for (const [name, options, what] of cases) {
    it(`${name} (${what})`, async () => {
      const one = await zoo(name, 1, options);
      const two = await zoo(name, 2, options);
      expect(one.threads).toBe(1);
      expect(two.threads).toBe(2);
      const y1 = run(one);
      const y2 = run(two);
      expect(y1.length).toBeGreaterThan(0);
      expect(y1.every(Number.isFinite)).toBe(true);
      expect(bitDiffs(y1, y2)).toEqual([]);
      // the pool keeps serving the next run of the same model
      expect(bitDiffs(y1, run(two))).toEqual([]);
      one.dispose();
      two.dispose();
    });
  }

  it('three threads split differently and still agree', async () => {
    const one = await zoo('mobilenet_v2', 1, { inputSize: 64 });
    const three = await zoo('mobilenet_v2', 3, { inputSize: 64 });
    expect(three.threads).toBe(3);
    expect(bitDiffs(run(one), run(three))).toEqual([]);
    one.dispose();
    three.dispose();
  });

  it('models keep their pool: one created before init({ threads }) stays single-threaded', async () => {
    const before = await zoo('lenet5', 1, {});
    const after = await zoo('lenet5', 2, {});
    expect(before.threads).toBe(1);
    expect(after.threads).toBe(2);
    expect(bitDiffs(run(before), run(after))).toEqual([]);
    after.dispose();
    expect(() => run(after)).toThrow(/disposed/);
    // a retired pool (threads back to 1) still serves the models created on it
    const kept = await zoo('lenet5', 2, {});
    await init({ wasm, threads: 1 });
    expect(bitDiffs(run(before), run(kept))).toEqual([]);
    kept.dispose();
    before.dispose();
  });
});

describe('threads: options and fallback', () => {
  it('refuses thread counts that are not integers from 1 to 64', async () => {
    for (const bad of [0, -1, 1.5, 65, NaN]) await expect(init({ threads: bad })).rejects.toThrow(ValueError);
  });

  it('without SharedArrayBuffer: one warning line, one thread, same results', async () => {
    const ref = await zoo('lenet5', 1, {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubGlobal('SharedArrayBuffer', undefined);
    try {
      const m = await zoo('lenet5', 2, {});
      expect(m.threads).toBe(1);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/running on 1 thread instead of 2: SharedArrayBuffer is not available/);
      expect(bitDiffs(run(ref), run(m))).toEqual([]);
      m.dispose();
    } finally {
      vi.unstubAllGlobals();
      warn.mockRestore();
      ref.dispose();
    }
  });

  it('workers that fail to start: one warning line, one thread', async () => {
    // a Web Worker that reports an error instead of starting (as a CSP without blob: would)
    class FailingWorker {
      private listeners: ((e: unknown) => void)[] = [];
      constructor() {
        setTimeout(() => this.listeners.forEach((f) => f({ message: 'blocked by the page policy' })), 1);
      }
      addEventListener(type: string, f: (e: unknown) => void) {
        if (type === 'error') this.listeners.push(f);
      }
      postMessage() {}
      terminate() {}
    }
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubGlobal('Worker', FailingWorker);
    vi.stubGlobal('Deno', {}); // Web Workers are what Deno (and browsers, Bun) get; plain Node ignores a global Worker
    try {
      await init({ wasm, wasmThreads, threads: 1 });
      await init({ threads: 2 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/cannot start worker threads \(worker thread: blocked by the page policy\)/);
      const m = await createModel('lenet5');
      expect(m.threads).toBe(1);
      m.dispose();
    } finally {
      vi.unstubAllGlobals();
      warn.mockRestore();
    }
  });

  it('plain Node uses worker_threads even when a library put a Worker polyfill on globalThis', async () => {
    const ref = await zoo('mobilenet_v2', 1, { inputSize: 64 });
    vi.stubGlobal('Worker', class {
      constructor() {
        throw new Error('a polyfill that cannot run blob: scripts');
      }
    });
    try {
      await init({ wasm, wasmThreads, threads: 1 });
      const m = await zoo('mobilenet_v2', 2, { inputSize: 64 });
      expect(m.threads).toBe(2);
      expect(bitDiffs(run(ref), run(m))).toEqual([]);
      m.dispose();
    } finally {
      vi.unstubAllGlobals();
      ref.dispose();
    }
  });

  it('without the shared-memory build next to a custom wasm: warns and runs on one thread', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      await init({ wasm, threads: 2 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/wasmThreads/);
      const m = await createModel('lenet5');
      expect(m.threads).toBe(1);
      m.dispose();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('model.profile()', () => {
  it('times every executed step; its multiply-accumulates add up to the summary total', async () => {
    const m = await zoo('resnet18', 2, { inputSize: 64 });
    const x = syntheticInput(m.inputShapes[m.inputNames[0]]);
    const rows = m.profile({ [m.inputNames[0]]: x }, { runs: 3 });
    const executed = new Set(m.graph.nodes.map((n) => n.name));
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) {
      expect(executed.has(r.node)).toBe(true);
      expect(Number.isFinite(r.ms) && r.ms >= 0).toBe(true);
    }
    // BatchNorm folding and fusion move no multiply-accumulates out of the executed nodes
    const total = m.layerInfo().reduce((a, l) => a + l.macs, 0);
    expect(rows.reduce((a, r) => a + r.macs, 0)).toBe(total);
    expect(rows.filter((r) => r.op === 'Conv').length).toBe(20);
    // profiling leaves the model's results alone
    const y = m.runSync({ [m.inputNames[0]]: x })[m.outputNames[0]].data;
    expect(y.every(Number.isFinite)).toBe(true);
    expect(() => m.profile({ [m.inputNames[0]]: x }, { runs: 0 })).toThrow(ValueError);
    m.dispose();
  });
});
