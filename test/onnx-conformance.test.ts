// Runs the ONNX backend conformance cases (../shared/onnx-backend-tests) whose operators
// wasmcnn covers and compares every output with the stored expected output.
// Tolerance: |y - ref| <= 1e-5 + 1e-4 * |ref| per element (float32 kernels with vectorised
// transcendental approximations; the ONNX suite itself defaults to rtol 1e-3).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnx, UnsupportedOpError, type Feeds } from '../src/index';
import type { IntTensor, Tensor } from '../src/graph/ir';
import { parseOnnx, readTensorProto } from '../src/onnx/reader';

const ROOT = new URL('../../shared/onnx-backend-tests/', import.meta.url);

/** Cases not run, each with the reason printed in the summary. */
const SKIP: [RegExp, string][] = [
  [/convtranspose_3d$|Conv3d/, 'only 1-D and 2-D convolution and pooling are in scope'],
  [/training_mode/, 'batch norm in training mode is not inference'],
  [/split_to_sequence/, 'sequence types are out of scope'],
  [/PoissonNLLLLoss/, 'losses are training-only'],
  [/zero_size_splits|reshape_allowzero/, 'zero-sized tensors are out of scope'],
];

/** Cases whose stored outputs were written rounded (to 4 decimals): absolute tolerance 5e-5. */
const ROUNDED_REFERENCE = new Set(['node/test_averagepool_2d_ceil_last_window_starts_on_pad']);

function cases(): { dir: URL; name: string }[] {
  const out: { dir: URL; name: string }[] = [];
  for (const suite of ['node', 'pytorch-converted']) {
    const base = new URL(`${suite}/`, ROOT);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) out.push({ dir: new URL(`${name}/`, base), name: `${suite}/${name}` });
  }
  return out;
}

const stats = { ran: 0, passed: 0, skipped: [] as string[] };

function readSet(dir: URL, kind: 'input' | 'output') {
  const set = new URL('test_data_set_0/', dir);
  return readdirSync(set)
    .filter((f) => f.startsWith(`${kind}_`))
    .sort((a, b) => parseInt(a.slice(kind.length + 1)) - parseInt(b.slice(kind.length + 1)))
    .map((f) => readTensorProto(readFileSync(new URL(f, set))));
}

function close(y: Float32Array, ref: Float32Array, atol = 1e-5): { ok: boolean; worst: number; at: number } {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    const d = Math.abs(y[i] - r);
    const bad = Number.isNaN(r) ? !Number.isNaN(y[i]) : r === y[i] ? false : !(d <= atol + 1e-4 * Math.abs(r));
    if (bad && (d > worst || at < 0 || Number.isNaN(d))) {
      worst = d;
      at = i;
    }
  }
  return { ok: at < 0, worst, at };
}

describe('ONNX backend conformance', () => {
  const all = cases();
  it('finds the shared conformance data', () => {
    expect(all.length).toBeGreaterThan(300);
  });
  for (const c of all) {
    const skip = SKIP.find(([re]) => re.test(c.name));
    if (skip) {
      stats.skipped.push(`${c.name}: ${skip[1]}`);
      continue;
    }
    it(c.name, async () => {
      stats.ran++;
      const bytes = readFileSync(new URL('model.onnx', c.dir));
      const inputs = readSet(c.dir, 'input');
      const outputs = readSet(c.dir, 'output');
      const { graph } = parseOnnx(bytes);
      const names = graph.inputs.map((i) => i.name);
      const feeds: Feeds = {};
      const constants: Record<string, Tensor | IntTensor> = {};
      // integer inputs are frozen as constants (the wasm path plans with them), unless the
      // graph has no float input: then they are fed at run time (host-evaluated)
      const anyFloat = inputs.some((t) => t.dtype === 'float');
      names.forEach((n, i) => {
        const t = inputs[i];
        if (t.dtype === 'float') feeds[n] = t.tensor as Tensor;
        else if (anyFloat) constants[n] = t.tensor;
        else feeds[n] = { data: Float64Array.from((t.tensor as IntTensor).ints), shape: t.tensor.shape };
      });
      let model;
      try {
        model = await loadOnnx(bytes, { constantInputs: constants });
      } catch (e) {
        // parameters given as float graph inputs (Clip bounds, Pad values): freeze all but the first
        if (!(e instanceof UnsupportedOpError) || !/constant/.test(e.message)) throw e;
        for (const n of names.slice(1)) if (feeds[n]) { constants[n] = feeds[n]; delete feeds[n]; }
        model = await loadOnnx(bytes, { constantInputs: constants });
      }
      const got = await model.run(feeds);
      model.outputNames.forEach((name, i) => {
        const ref = outputs[i].tensor as Tensor;
        const y = got[name];
        expect(y.shape, `${name} shape`).toEqual(ref.shape);
        const want = ref.data instanceof Float32Array ? ref.data : Float32Array.from((ref as unknown as IntTensor).ints);
        const r = close(y.data, want, ROUNDED_REFERENCE.has(c.name) ? 5e-5 : 1e-5);
        expect(r.ok, `${name}: worst |diff| ${r.worst} at ${r.at} (got ${y.data[r.at]}, want ${want[r.at]})`).toBe(true);
      });
      model.dispose();
      stats.passed++;
    });
  }
  afterAll(() => {
    console.log(`\nONNX conformance: ${stats.ran} ran, ${stats.passed} passed, ${stats.skipped.length} skipped`);
    for (const s of stats.skipped) console.log(`  skipped ${s}`);
  });
});
