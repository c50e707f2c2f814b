// Load path (issue 18, item 1): float32 weights go from the ONNX file's bytes into wasm memory
// once, undecoded on the host, at any byte alignment of their raw_data; a NaN or an infinity in
// such a weight is still refused by name; a disposed model's memory serves the next model with
// the same results as fresh memory; int8 weights likewise stay in the file bytes until packed.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { modelBuilder } from '../models/index';
import { createModel, loadOnnx, quantize, saveSafetensors, WeightsError, type Model } from '../src/index';
import { fileInts, intBytes, undecodedBytes } from '../src/graph/ir';
import { exportOnnx } from '../src/onnx/export';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

async function zoo(name: string, opts: Record<string, unknown>): Promise<Model> {
  const b = modelBuilder(name, opts);
  return b.build(syntheticWeights(b.weightShapes()));
}

/** The same bytes starting `shift` bytes into a fresh buffer: every raw_data moves by `shift`. */
function shifted(bytes: Uint8Array, shift: number): Uint8Array {
  const buf = new Uint8Array(bytes.length + shift);
  buf.set(bytes, shift);
  return buf.subarray(shift);
}

describe('loading weights from the file bytes', () => {
  it('at every alignment of raw_data, loadOnnx runs the exported model bit for bit and leaves conv weights undecoded', async () => {
    const m = await zoo('mobilenet_v2', { widthMultiplier: 0.35, inputSize: 48, numClasses: 7 });
    const x = syntheticInput(m.inputShapes[m.inputNames[0]]);
    const want = (await m.run({ [m.inputNames[0]]: x }))[m.outputNames[0]].data;
    const bytes = exportOnnx(m);
    m.dispose();
    for (let shift = 0; shift < 4; shift++) {
      const loaded = await loadOnnx(shifted(bytes, shift));
      const got = (await loaded.run({ [loaded.inputNames[0]]: x }))[loaded.outputNames[0]].data;
      expect(Array.from(got)).toEqual(Array.from(want));
      // the packers copied the weights from the file: no conv weight was decoded into a JS array
      const convWeights = loaded.sourceGraph.nodes.filter((n) => n.op === 'Conv').map((n) => n.inputs[1]);
      expect(convWeights.length).toBeGreaterThan(10);
      const decoded = convWeights.filter((w) => !undecodedBytes(loaded.sourceGraph.initializers.get(w)!));
      expect(decoded).toEqual([]);
      // reading one decodes it to the same values the file holds
      const t = loaded.sourceGraph.initializers.get(convWeights[3])!;
      const raw = undecodedBytes(t)!;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const fromFile = Float32Array.from({ length: raw.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
      expect(Array.from(t.data)).toEqual(Array.from(fromFile));
      expect(undecodedBytes(t)).toBeUndefined();
      loaded.dispose();
    }
  });

  it('a NaN or an infinity in an undecoded weight is a WeightsError naming it, at every alignment', async () => {
    const m = await zoo('lenet5', {});
    const name = 'features.3.weight';
    const w = m.stateDict().get(name)!;
    const bytes = exportOnnx(m);
    m.dispose();
    // find the weight's raw_data in the file by its first 16 bytes
    const head = new Uint8Array(w.data.buffer, w.data.byteOffset, 16);
    let at = -1;
    for (let i = 0; i + 16 <= bytes.length && at < 0; i++) if (head.every((b, j) => bytes[i + j] === b)) at = i;
    expect(at).toBeGreaterThan(0);
    for (const [bad, label] of [[NaN, 'NaN'], [-Infinity, '-Infinity']] as const) {
      const edited = bytes.slice();
      new DataView(edited.buffer).setFloat32(at + 4 * 37, bad, true);
      for (let shift = 0; shift < 4; shift++) {
        const err = await loadOnnx(shifted(edited, shift)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WeightsError);
        expect((err as Error).message).toContain(`weight '${name}'`);
        expect((err as Error).message).toContain(`${label} at index 37`);
      }
    }
  });
});

describe('int8 weights from the file bytes', () => {
  it('an 8-bit tensor kept in its bytes decodes to the same integers when read, and takes new values when written', () => {
    const bytes = Uint8Array.from([0, 1, 127, 128, 200, 255]);
    const u = fileInts(bytes, [2, 3], 'uint8');
    expect(intBytes(u)).toBe(bytes);
    expect(u.ints).toEqual([0, 1, 127, 128, 200, 255]);
    expect(intBytes(u)).toEqual([0, 1, 127, 128, 200, 255]); // decoded: the array from now on
    const s = fileInts(new Int8Array(bytes.buffer), [6], 'int8');
    expect({ ...s }.ints).toEqual([0, 1, 127, -128, -56, -1]);
    s.ints = [5];
    expect(intBytes(s)).toEqual([5]);
  });

  it('a quantized model loads at every alignment of raw_data, runs as the model it was exported from, and leaves its int8 weights undecoded', async () => {
    const f = await zoo('mobilenet_v2', { widthMultiplier: 0.35, inputSize: 48, numClasses: 7 });
    const name = f.inputNames[0];
    const x = syntheticInput(f.inputShapes[name]);
    const q = await quantize(f, { calibration: [x, syntheticInput(f.inputShapes[name], 'second')] });
    const want = (await q.run({ [name]: x }))[q.outputNames[0]].data;
    const bytes = exportOnnx(q);
    f.dispose();
    q.dispose();
    for (let shift = 0; shift < 4; shift++) {
      const loaded = await loadOnnx(shifted(bytes, shift));
      const got = (await loaded.run({ [name]: x }))[loaded.outputNames[0]].data;
      expect(Array.from(got)).toEqual(Array.from(want));
      const g = loaded.sourceGraph;
      const int8 = g.nodes.filter((n) => n.op === 'DequantizeLinear' && g.intConstants.get(n.inputs[0])?.elem === 'int8').map((n) => g.intConstants.get(n.inputs[0])!);
      expect(int8.length).toBeGreaterThan(10);
      expect(int8.filter((t) => !(intBytes(t) instanceof Int8Array))).toEqual([]);
      loaded.dispose();
    }
  });
});

describe('loading safetensors weights', () => {
  it('createModel from safetensors bytes packs the weights from the file and runs as the same weights given as arrays', async () => {
    const opts = { widthMultiplier: 0.5, inputSize: 40, numClasses: 6 };
    const weights = syntheticWeights(modelBuilder('mobilenet_v2', opts).weightShapes());
    const plain = await createModel('mobilenet_v2', { ...opts, weights });
    const fromFile = await createModel('mobilenet_v2', { ...opts, weights: saveSafetensors(weights) });
    const x = syntheticInput(plain.inputShapes[plain.inputNames[0]]);
    const want = (await plain.run({ [plain.inputNames[0]]: x }))[plain.outputNames[0]].data;
    const got = (await fromFile.run({ [fromFile.inputNames[0]]: x }))[fromFile.outputNames[0]].data;
    expect(Array.from(got)).toEqual(Array.from(want));
    const convWeights = fromFile.sourceGraph.nodes.filter((n) => n.op === 'Conv').map((n) => n.inputs[1]);
    expect(convWeights.filter((w) => !undecodedBytes(fromFile.sourceGraph.initializers.get(w)!))).toEqual([]);
    // the state dict still reads back every value
    const sd = fromFile.stateDict();
    for (const [k, t] of weights) expect(Array.from(sd.get(k)!.data)).toEqual(Array.from(t.data));
    plain.dispose();
    fromFile.dispose();
  });
});

describe('memory of a disposed model', () => {
  it('the next model loaded on it computes what it computes on fresh memory, and reports the memory it uses', async () => {
    const small = await zoo('mobilenet_v2', { widthMultiplier: 0.35, inputSize: 40, numClasses: 5 });
    const bytes = exportOnnx(small);
    const x = syntheticInput(small.inputShapes[small.inputNames[0]]);
    small.dispose();
    const fresh = await loadOnnx(bytes);
    const want = (await fresh.run({ [fresh.inputNames[0]]: x }))[fresh.outputNames[0]].data;
    const wantBytes = fresh.memoryBytes;
    // a larger model fills its memory with other weights and activations, then is disposed
    const big = await zoo('resnet18', { inputSize: 64, numClasses: 11 });
    const y = syntheticInput(big.inputShapes[big.inputNames[0]], 'other');
    await big.run({ [big.inputNames[0]]: y });
    expect(big.memoryBytes).toBeGreaterThan(wantBytes);
    fresh.dispose();
    big.dispose(); // the last disposed: its memory is the one kept for the next model
    const again = await loadOnnx(bytes);
    const got = (await again.run({ [again.inputNames[0]]: x }))[again.outputNames[0]].data;
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(again.memoryBytes).toBe(wantBytes);
    again.dispose();
  });

  it('the kept memory never holds a process open: a Node program that disposes a model exits at once', () => {
    const dist = new URL('../dist/node.js', import.meta.url).href;
    const t0 = Date.now();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `const w = await import(${JSON.stringify(dist)}); const m = await w.createModel('lenet5'); m.dispose(); console.log('disposed');`], { encoding: 'utf8', timeout: 30_000 });
    expect(out.trim()).toBe('disposed');
    // the memory is kept 10 s for a next model; exiting well before that shows the timer is unref'd
    expect(Date.now() - t0).toBeLessThan(8000);
  });
});

describe('loading from a stream', () => {
  it('the kernels compile while the file downloads (a program that never called init)', () => {
    // a fresh process: the stream holds back its last chunk until wasmcnn compiles its kernels (or
    // 10 s pass: Node's fetch compiles a module of its own, not counted), and reports which came first
    const dist = new URL('../dist/node.js', import.meta.url).href;
    const onnx = new URL('./fixtures/onnx/regnet_y/model.onnx', import.meta.url);
    const script = `
      const { readFileSync } = await import('node:fs');
      const bytes = new Uint8Array(readFileSync(new URL(${JSON.stringify(onnx.href)})));
      let compiled; const seen = new Promise((r) => (compiled = r));
      for (const k of ['compile', 'compileStreaming', 'instantiate']) {
        const f = WebAssembly[k];
        WebAssembly[k] = (...a) => (new Error().stack.includes('/dist/src/runtime/') && compiled('compiled'), f.apply(WebAssembly, a));
      }
      let part = 0;
      const stream = new ReadableStream({ async pull(c) {
        if (part++ === 0) return c.enqueue(bytes.subarray(0, 1000));
        const first = await Promise.race([seen, new Promise((r) => setTimeout(() => r('timeout'), 10000).unref())]);
        console.log(first);
        c.enqueue(bytes.subarray(1000));
        c.close();
      } });
      const w = await import(${JSON.stringify(dist)});
      const m = await w.loadOnnx(stream);
      console.log(m.outputNames.length);
      m.dispose();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(out.trim().split('\n')).toEqual(['compiled', '1']);
  });
});
