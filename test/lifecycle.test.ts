// The thread pool's lifecycle and faults (src/runtime/threads.ts): disposed models' memory is
// not kept by the workers (a shortened `npm run soak`), models that stay keep running correctly
// while the workers are replaced under them, a worker that dies or fails mid-call fails that
// call with a WasmCnnError and is replaced, a pool that cannot restart refuses runs with a clear
// error, and concurrent runs on one model and on several stay equal to one thread's bits.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { init, modelBuilder, ValueError, WasmCnnError, type Model, type Tensor } from '../src/index';
import { platform, setPlatform, type PoolWorker } from '../src/runtime/platform';
import { splitDataSegments } from '../src/runtime/segments';
import { nodePoolWorker } from '../src/node';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

const wasm = readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url));
const wasmThreads = readFileSync(new URL('../dist/wasmcnn-mt.wasm', import.meta.url));
const OPTIONS = { inputSize: 64 };
const WEIGHTS = syntheticWeights(modelBuilder('mobilenet_v2', OPTIONS).weightShapes());
const X = syntheticInput([1, 3, 64, 64]);
const X2 = syntheticInput([1, 3, 64, 64], 'second input');
const nodeSpawn = platform.spawnWorker;

async function mobilenet(threads: number): Promise<Model> {
  await init({ wasm, wasmThreads, threads });
  return modelBuilder('mobilenet_v2', OPTIONS).build(WEIGHTS);
}

async function out(m: Model, x = X): Promise<Float32Array> {
  return (await m.run({ [m.inputNames[0]]: x }))[m.outputNames[0]].data;
}

function bits(t: Float32Array | Tensor): number[] {
  const d = t instanceof Float32Array ? t : t.data;
  return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length));
}

/** A pool worker running test/fixtures/faulty-worker.mjs: its `dieAt`-th kernel call ends the thread or throws, once per `once` flag. */
function faultyWorker(how: 'exit' | 'throw', dieAt: number, once: SharedArrayBuffer): PoolWorker {
  return nodePoolWorker(new Worker(new URL('./fixtures/faulty-worker.mjs', import.meta.url), { workerData: { how, dieAt, once } }));
}

let reference: Float32Array;
let reference2: Float32Array;

afterEach(() => setPlatform({ spawnWorker: nodeSpawn }));
afterAll(async () => {
  await init({ wasm, threads: 1 });
});

describe('memory and lifecycle', () => {
  it('create/run/dispose cycles and long runs keep memory flat on 1 and 2 threads (a shortened npm run soak)', () => {
    // a worker that kept each disposed model's instance would add the model's memory (~15 MiB) per cycle
    const r = spawnSync(
      process.execPath,
      ['tools/soak.mjs', '--threads', '1,2', '--lenet', '500', '--mobilenet', '30', '--cycles', '25', '--size', '96', '--tolerance', '0.1', '--json'],
      { encoding: 'utf8', timeout: 240_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout.trim().split('\n').pop()!) as { phase: string; threads: number; growth: number; ok: boolean }[];
    expect(rows.map((row) => row.threads)).toEqual([1, 1, 1, 2, 2, 2]);
    for (const row of rows) expect(row.growth, `${row.phase} on ${row.threads} threads`).toBeLessThanOrEqual(0.1);
  });

  it('a model keeps its threads and its bits while other models are created and disposed around it', async () => {
    const one = await mobilenet(1);
    reference = await out(one);
    reference2 = await out(one, X2);
    one.dispose();
    const a = await mobilenet(2);
    expect(a.threads).toBe(2);
    for (let i = 0; i < 4; i++) {
      const b = await modelBuilder('mobilenet_v2', OPTIONS).build(WEIGHTS);
      expect(bits(await out(b, X2))).toEqual(bits(reference2));
      b.dispose();
      // right after a disposal the workers are being replaced: runSync computes on this thread
      const now = a.runSync({ [a.inputNames[0]]: X })[a.outputNames[0]];
      expect(bits(now)).toEqual(bits(reference));
      expect(bits(await out(a))).toEqual(bits(reference));
    }
    // two disposals back to back: the second lands while the workers for the first are starting
    const [c, d] = [await modelBuilder('mobilenet_v2', OPTIONS).build(WEIGHTS), await modelBuilder('mobilenet_v2', OPTIONS).build(WEIGHTS)];
    c.dispose();
    await Promise.resolve();
    d.dispose();
    expect(bits(await out(a))).toEqual(bits(reference));
    a.dispose();
  });
});

describe('faults', () => {
  it('a worker that dies mid-run rejects that run with a WasmCnnError; the pool replaces it and the next run is right', async () => {
    const once = new SharedArrayBuffer(4);
    setPlatform({ spawnWorker: () => faultyWorker('exit', 8, once) });
    const m = await mobilenet(2);
    const err = await out(m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasmCnnError);
    expect(String((err as Error).message)).toMatch(/worker thread 1 ended during the call; its workers are being replaced/);
    expect(m.threads).toBe(2);
    expect(bits(await out(m))).toEqual(bits(reference));
    expect(bits(await out(m, X2))).toEqual(bits(reference2));
    m.dispose();
  });

  it('a kernel that throws in a worker rejects that run with a WasmCnnError; the next run is right', async () => {
    const once = new SharedArrayBuffer(4);
    setPlatform({ spawnWorker: () => faultyWorker('throw', 8, once) });
    const m = await mobilenet(2);
    const err = await out(m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasmCnnError);
    expect(String((err as Error).message)).toMatch(/failed in worker thread 1/);
    expect(bits(await out(m))).toEqual(bits(reference));
    m.dispose();
  });

  it('a run on a model whose workers cannot be restarted is a clear WasmCnnError, not a hang', async () => {
    const once = new SharedArrayBuffer(4);
    let spawned = 0;
    setPlatform({
      spawnWorker: () => {
        if (spawned++ > 0) throw new Error('the page ran out of workers');
        return faultyWorker('exit', 8, once);
      },
    });
    const m = await mobilenet(2);
    await expect(out(m)).rejects.toThrow(WasmCnnError);
    const t0 = performance.now();
    const err = await out(m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasmCnnError);
    expect(String((err as Error).message)).toMatch(/worker threads could not be restarted \(the page ran out of workers\)/);
    expect(() => m.runSync({ [m.inputNames[0]]: X })).toThrow(/could not be restarted/);
    expect(performance.now() - t0).toBeLessThan(10_000);
    m.dispose();
  });

  it('concurrent runs on one model and on two models stay equal to one thread, bit for bit', async () => {
    const a = await mobilenet(2);
    const b = await modelBuilder('mobilenet_v2', OPTIONS).build(WEIGHTS);
    const jobs: Promise<Float32Array>[] = [];
    for (let i = 0; i < 6; i++) jobs.push(out(a), out(b, X2), out(a, X2), out(b));
    const got = await Promise.all(jobs);
    const want = [reference, reference2, reference2, reference];
    let mismatches = 0;
    got.forEach((y, i) => {
      if (bits(y).join() !== bits(want[i % 4]).join()) mismatches++;
    });
    expect(mismatches).toBe(0);
    a.dispose();
    b.dispose();
  });
});

describe('static data of the shared-memory build', () => {
  const memory = () => new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  const env = (m: WebAssembly.Memory) => ({ env: { memory: m, abort() {} } });

  it('the host places what instantiation would, and an instance without it writes nothing', async () => {
    const whole = memory();
    await WebAssembly.instantiate(wasmThreads, env(whole));
    const { bytes, segments } = splitDataSegments(wasmThreads);
    expect(segments.length).toBeGreaterThan(0);
    const placed = memory();
    for (const seg of segments) new Uint8Array(placed.buffer).set(seg.bytes, seg.offset);
    expect(Buffer.compare(new Uint8Array(placed.buffer), new Uint8Array(whole.buffer))).toBe(0);
    // a worker instantiating on a memory in use must leave it as it is
    const busy = memory();
    new Uint8Array(busy.buffer).fill(0xa5);
    await WebAssembly.instantiate(bytes, env(busy));
    expect(new Uint8Array(busy.buffer).every((b) => b === 0xa5)).toBe(true);
  });

  it('refuses a module it cannot prepare, naming why', () => {
    const cut = wasmThreads.subarray(0, wasmThreads.length - 7);
    expect(() => splitDataSegments(cut)).toThrow(/shared-memory kernel build .* runs past the end|ends inside a number/);
  });

  it('init refuses a compiled module as wasmThreads (its static data cannot be taken out)', async () => {
    const compiled = await WebAssembly.compile(wasmThreads);
    await expect(init({ wasmThreads: compiled as unknown as Uint8Array, threads: 2 })).rejects.toThrow(ValueError);
  });
});

describe('kernel warm-up (first-run speed, assembly/warmup.ts)', () => {
  it('runs every hot kernel within the bytes it declares, on a memory of its own, without a trap', async () => {
    // the relaxed build too where this engine compiles it (Node 20: --experimental-wasm-relaxed-simd)
    const relaxed = readFileSync(new URL('../dist/wasmcnn-relaxed.wasm', import.meta.url));
    for (const file of WebAssembly.validate(relaxed) ? [wasm, relaxed] : [wasm]) {
      const memory = new WebAssembly.Memory({ initial: 1 });
      const k = (await WebAssembly.instantiate(file, { env: { memory, abort() {} } })).instance.exports as unknown as {
        heap_base(): number; warm_up(base: number): void; warm_up_bytes(): number;
      };
      const base = (k.heap_base() + 15) & ~15;
      const need = base + k.warm_up_bytes();
      // one spare page past the region: a write there, or a read past the memory's end, would show
      memory.grow(Math.ceil(need / 65536));
      const u8 = new Uint8Array(memory.buffer);
      const staticData = u8.slice(0, base);
      u8.fill(0x5a, need);
      k.warm_up(base);
      expect(Buffer.compare(u8.subarray(0, base), staticData)).toBe(0);
      expect(u8.subarray(need).every((b) => b === 0x5a)).toBe(true);
    }
  });
});
