// model.weightBytes: the part of memoryBytes that holds the weights as the kernels read them.
// References: the packed layouts worked out by hand from the kernels' documented formats
// (assembly/gemm.ts: 8-column float panels of a bias row + K rows; assembly/winograd.ts: one
// such panel matrix per transform position, 36 for F(4x4, 3x3), then the bias; assembly/qgemm.ts:
// a 16-byte header, 16-column panels of 16 i32 column sums + ceil(K/2) rows of 16 × 2 int8;
// assembly/qwinograd.ts: streamed, per 16-column panel and channel pair 9 taps × 16 × 2 int8, or
// stored, 16 positions × 16 int16 per (c, oc) pair), plus at most a few 64-byte
// parameter blocks (bias, scales, geometry) per conv; and a fixed-shape model's figure for the
// same graph planned as a dynamic model (same allocations).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/builder';
import { exportOnnx, loadOnnx, quantize, type Model } from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

/** Bytes a conv's small parameter blocks (bias, scales, geometry, 64-byte aligned) may add. */
const PARAMS = 1024;

const ceil = (a: number, b: number) => Math.ceil(a / b);

function oneConv(C: number, OC: number, kernel: number, H: number): GraphBuilder {
  const b = new GraphBuilder();
  const x = b.input('x', [1, C, H, H]);
  b.output(b.conv(x, 'c', { out: OC, kernel, pad: kernel >> 1 }), 'y');
  return b;
}

async function floatAndInt8(C: number, OC: number, kernel: number, H: number): Promise<{ f: Model; q: Model }> {
  const b = oneConv(C, OC, kernel, H);
  const f = await b.build(syntheticWeights(b.weightShapes()));
  const q = await quantize(f, { calibration: [0, 1].map((i) => ({ x: syntheticInput(f.inputShapes.x, `cal${i}`) })) });
  return { f, q };
}

function expectPacked(m: Model, packed: number): void {
  expect(m.weightBytes).toBeGreaterThanOrEqual(packed);
  expect(m.weightBytes).toBeLessThan(packed + PARAMS);
  expect(m.weightBytes).toBeLessThan(m.memoryBytes);
}

describe('model.weightBytes', () => {
  it('counts a 1x1 conv: float GEMM panels (4 bytes a weight), int8 panels (1 byte a weight)', async () => {
    const C = 64, OC = 48;
    const { f, q } = await floatAndInt8(C, OC, 1, 8);
    // float: ceil(OC / 8) panels of 8 columns x (K + 1 bias row) floats
    expectPacked(f, ceil(OC, 8) * 8 * (C + 1) * 4);
    // int8: header + ceil(OC / 16) panels of 16 i32 sums + ceil(K / 2) rows of 16 x 2 int8
    expectPacked(q, 16 + ceil(OC, 16) * (64 + ceil(C, 2) * 32));
    expect(q.weightBytes / f.weightBytes).toBeLessThan(0.35);
    console.log(`1x1 ${C} -> ${OC}: weightBytes float ${f.weightBytes}, int8 ${q.weightBytes} (${(q.weightBytes / f.weightBytes).toFixed(3)}x)`);
    f.dispose();
    q.dispose();
  });

  it('counts a 3x3 conv: float Winograd F(4x4) (36 floats per 9 weights), int8 Winograd F(2x2) streamed (9 int8)', async () => {
    const C = 33, OC = 40; // F(4x4): C·OC <= 192², at least 28x28 outputs (src/ops/conv.ts useF4)
    const { f, q } = await floatAndInt8(C, OC, 3, 28);
    // 36 positions of [ceil(OC / 8) panels x 8 x (C + 1)] floats, then the bias rounded up to 4
    expectPacked(f, (36 * ceil(OC, 8) * 8 * (C + 1) + ceil(OC, 4) * 4) * 4);
    // int8 at 28x28 (196 tiles): raw weights, ceil(OC / 16) panels x ceil(C / 2) channel pairs x
    // 9 taps x 16 columns x 2 int8 (odd C, OC not a multiple of 16: zero padding counted)
    expectPacked(q, ceil(OC, 16) * ceil(C, 2) * 9 * 32);
    console.log(`3x3 ${C} -> ${OC}: weightBytes float ${f.weightBytes}, int8 streamed ${q.weightBytes} (${(q.weightBytes / f.weightBytes).toFixed(3)}x)`);
    f.dispose();
    q.dispose();
  });

  it('counts a 3x3 int8 conv on a small map: Winograd F(2x2) stored U (16 int16 per 9 weights)', async () => {
    const C = 33, OC = 40;
    // 5x5 outputs: 9 tiles, too few to pay for the transform inside the call
    const { f, q } = await floatAndInt8(C, OC, 3, 5);
    // 16 positions of [ceil(OC / 16) panels x ceil(C / 2) rows x 16 columns x 2 int16]
    expectPacked(q, 16 * ceil(OC, 16) * ceil(C, 2) * 64);
    f.dispose();
    q.dispose();
  });

  it('equals the fixed-shape figure for a dynamic model, and packs its weights once for two shapes', async () => {
    const { f, q } = await floatAndInt8(24, 20, 1, 6);
    const bytes = exportOnnx(q);
    const fixed = await loadOnnx(bytes);
    const dyn = await loadOnnx(bytes, { dynamicAxes: { x: [2, 3] } });
    expect(dyn.dynamic).toBe(true);
    expect(fixed.weightBytes).toBe(q.weightBytes);
    expect(dyn.weightBytes).toBe(fixed.weightBytes);
    await dyn.run({ x: syntheticInput([1, 24, 9, 7], 'x') });
    // the second shape adds its plan's parameter blocks, not a second packing
    expect(dyn.weightBytes).toBeGreaterThanOrEqual(fixed.weightBytes);
    expect(dyn.weightBytes).toBeLessThan(fixed.weightBytes + PARAMS);
    for (const m of [f, q, fixed, dyn]) m.dispose();
  });
});
