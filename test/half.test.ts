// Half-precision weights (issue 18, item 2): float32 -> float16 / bfloat16 rounding equals
// PyTorch's `.half()` / `.bfloat16()` bit for bit on values chosen for every branch
// (tools/half_fixtures.py), and every 16-bit pattern survives widen-then-narrow unchanged;
// saveSafetensors(model, { dtype }) writes half-size files whose weights load back as those
// roundings; exportOnnx(model, { weights: 'float16' }) writes FLOAT16 initializers that
// loadOnnx and onnxruntime-node both run to the outputs of the model with rounded weights.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { modelBuilder } from '../models/index';
import { floatToBfloat16, floatToHalf, loadOnnx, loadSafetensors, saveSafetensors, ValueError } from '../src/index';
import { exportOnnx } from '../src/onnx/export';
import { bfloat16ToFloat, halfToFloat } from '../src/weights/safetensors';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

const FIX = JSON.parse(readFileSync(new URL('./fixtures/half.json', import.meta.url), 'utf8')) as { f32bits: number[]; half: number[]; bfloat16: number[] };
const f32 = new Float32Array(Uint32Array.from(FIX.f32bits).buffer);

describe('rounding to 16 bits', () => {
  it('floatToHalf equals PyTorch .half() on ties, overflow, subnormals, zeros, infinities and random values', () => {
    const bad = [...f32].map((v, i) => [v, floatToHalf(v), FIX.half[i]]).filter(([, a, b]) => a !== b);
    expect(bad).toEqual([]);
  });
  it('floatToBfloat16 equals PyTorch .bfloat16()', () => {
    const bad = [...f32].map((v, i) => [v, floatToBfloat16(v), FIX.bfloat16[i]]).filter(([, a, b]) => a !== b);
    expect(bad).toEqual([]);
  });
  it('every non-NaN 16-bit pattern widens and narrows back to itself (both formats); NaN stays NaN', () => {
    for (let h = 0; h < 65536; h++) {
      const hv = halfToFloat(h);
      if (Number.isNaN(hv)) expect(Number.isNaN(halfToFloat(floatToHalf(hv)))).toBe(true);
      else if (floatToHalf(hv) !== h) throw new Error(`half ${h.toString(16)} -> ${hv} -> ${floatToHalf(hv).toString(16)}`);
      const bv = bfloat16ToFloat(h);
      if (Number.isNaN(bv)) expect(Number.isNaN(bfloat16ToFloat(floatToBfloat16(bv)))).toBe(true);
      else if (floatToBfloat16(bv) !== h) throw new Error(`bfloat16 ${h.toString(16)} -> ${bv} -> ${floatToBfloat16(bv).toString(16)}`);
    }
  });
});

describe('half-size weight files', () => {
  const b = () => modelBuilder('mobilenet_v2', { inputSize: 64, numClasses: 10 });
  const weights = syntheticWeights(b().weightShapes());
  const x = syntheticInput([1, 3, 64, 64]);
  const rounded = (narrow: (v: number) => number, widen: (h: number) => number) =>
    new Map([...weights].map(([k, t]) => [k, { data: Float32Array.from(t.data, (v) => widen(narrow(v))), shape: t.shape }]));

  it('saveSafetensors(model, { dtype }) halves the file and loads back as the rounded weights', async () => {
    const m = await b().build(weights);
    const full = saveSafetensors(m);
    for (const [dtype, narrow, widen] of [['float16', floatToHalf, halfToFloat], ['bfloat16', floatToBfloat16, bfloat16ToFloat]] as const) {
      const bytes = saveSafetensors(m, { dtype });
      expect(bytes.length).toBeLessThan(0.51 * full.length);
      const back = loadSafetensors(bytes);
      const want = rounded(narrow, widen);
      for (const [k, t] of want) {
        const got = back.get(k)!.data;
        expect(got.length).toBe(t.data.length);
        const i = got.findIndex((v, j) => !Object.is(v, t.data[j]));
        expect(i, `${k}[${i}]`).toBe(-1);
      }
      // the same model, smaller: outputs within the rounding's effect
      const y = Object.values(await m.run({ input: x }))[0];
      const yh = Object.values(await (await b().build(back)).run({ input: x }))[0];
      const scale = Math.max(...y.data.map(Math.abs));
      const err = Math.max(...y.data.map((v, i) => Math.abs(v - yh.data[i])));
      expect(err / scale).toBeLessThan(dtype === 'float16' ? 1e-2 : 5e-2);
    }
    expect(() => saveSafetensors(m, { dtype: 'int8' as never })).toThrow(ValueError);
    m.dispose();
  });

  it("exportOnnx(model, { weights: 'float16' }) runs in loadOnnx and onnxruntime-node as the rounded model", async () => {
    const m = await b().build(weights);
    const full = exportOnnx(m);
    const bytes = exportOnnx(m, { weights: 'float16' });
    expect(bytes.length).toBeLessThan(0.55 * full.length);
    const ref = await (await b().build(rounded(floatToHalf, halfToFloat))).run({ input: x });
    const name = Object.keys(ref)[0];
    const scale = Math.max(...ref[name].data.map(Math.abs));
    const ours = (await (await loadOnnx(bytes)).run({ input: x }))[name].data;
    expect(Math.max(...ours.map((v, i) => Math.abs(v - ref[name].data[i]))) / scale).toBeLessThan(1e-5);
    const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
    const got = (await s.run({ input: new ort.Tensor('float32', x.data, x.shape) }))[name].data as Float32Array;
    expect(Math.max(...got.map((v, i) => Math.abs(v - ref[name].data[i]))) / scale).toBeLessThan(1e-4);
    await s.release();
    m.dispose();
  });
});
