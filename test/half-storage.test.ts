// CompileOptions.weightStorage 'float16': GEMM panels stored as binary16 in wasm memory, widened
// one L2 block at a time as the layer runs (assembly/gemm.ts gemm_f16). Reference: the same
// graph built with float32 storage from weights rounded to half on the host beforehand
// (floatToHalf then halfToFloat: the value a half-stored weight has), which the float16 model
// must equal to float32 tolerance; weightBytes from first principles (a half panel is 32 bytes
// of bias then 16 bytes a k row, against 32 + 32·K for float32).
import { describe, expect, it } from 'vitest';
import { modelBuilder } from '../models/index';
import { GraphBuilder } from '../src/builder';
import { floatToHalf, type Model, type Tensor, ValueError } from '../src/index';
import { halfToFloat } from '../src/weights/safetensors';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

const toHalf = (t: Tensor): Tensor => ({ shape: t.shape.slice(), data: t.data.map((v) => halfToFloat(floatToHalf(v))) });

/** Weights with the named ones (all when `names` is omitted, biases excepted) rounded to half. */
function rounded(w: Map<string, Tensor>, names?: (k: string) => boolean): Map<string, Tensor> {
  return new Map([...w].map(([k, t]) => [k, (names ? names(k) : !k.endsWith('.bias')) ? toHalf(t) : t]));
}

/** Largest |a - b| over an output, relative to the output's largest |b|. */
function relDiff(a: Tensor, b: Tensor): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.data.length; i++) {
    d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
    m = Math.max(m, Math.abs(b.data[i]));
  }
  return d / m;
}

async function outputs(m: Model, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const r = await m.run(feeds);
  return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, { shape: t.shape, data: t.data.slice() }]));
}

/**
 * Odd sizes everywhere (batch 2, 35 channels, 11x9): a 1x1 conv with a fused residual, im2col
 * convs (3x3 stride 2; 3x3 dilation 2; grouped 3x3), a Gemm over 14 rows (Linear on [2, 7, 45]),
 * a MatMul by a constant [K][N], and a head whose weights are mostly half subnormals (x 2^-12).
 * No layer here takes the Winograd, direct or depthwise path, so every weight is half-stored.
 */
function oddGraph(): GraphBuilder {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 35, 11, 9]);
  const c1 = b.relu(b.add(b.conv(x, 'c1', { out: 35, kernel: 1 }), x));
  const c2 = b.relu(b.conv(c1, 'c2', { out: 43, kernel: 3, stride: 2, pad: 1 }));
  const c3 = b.conv(c2, 'c3', { out: 45, kernel: 3, pad: 2, dilation: 2 });
  const c4 = b.relu(b.conv(c3, 'c4', { out: 45, kernel: 3, pad: 1, groups: 3 }));
  // [2, 45, 6, 5] -> [2, 45, 30] -> [2, 30, 45]: rows of a 3-D Linear and MatMul
  const seq = b.node('Transpose', [b.node('Reshape', [c4, b.ints([2, 45, 30])])[0]], { perm: [0, 2, 1] })[0];
  const fc = b.relu(b.linear(seq, 'fc', 37));
  const mw = b.param('mm.weight', [37, 19]);
  b.output(b.node('MatMul', [fc, mw])[0], 'y');
  const tiny = b.param('tiny.weight', [29, 45]);
  b.output(b.node('Gemm', [b.flatten(b.globalAvgPool(c4)), tiny], { transB: 1 })[0], 'z');
  return b;
}

function oddWeights(b: GraphBuilder): Map<string, Tensor> {
  const w = syntheticWeights(b.weightShapes());
  const t = w.get('tiny.weight')!;
  w.set('tiny.weight', { shape: t.shape, data: t.data.map((v) => v * 2 ** -12) });
  return w;
}

describe("weightStorage: 'float16'", () => {
  it('equals float32 storage of the half-rounded weights on odd sizes (1x1, im2col, grouped, Gemm, MatMul, subnormal weights)', async () => {
    const b = oddGraph();
    const w = oddWeights(b);
    const feeds = { x: syntheticInput([2, 35, 11, 9]) };
    const half = await b.build(w, { weightStorage: 'float16' });
    const ref = await b.build(rounded(w));
    const raw = await b.build(w);
    const [h, r, f] = [await outputs(half, feeds), await outputs(ref, feeds), await outputs(raw, feeds)];
    for (const k of ['y', 'z']) {
      expect(relDiff(h[k], r[k]), k).toBeLessThan(1e-5);
      // the storage did round: float32 weights as given differ by about half's precision
      expect(relDiff(h[k], f[k]), k).toBeGreaterThan(1e-5);
    }
    // the head's weights are mostly subnormal halves (|w| < 2^-14): flushing them would move z by far more
    const tiny = w.get('tiny.weight')!.data;
    expect(tiny.filter((v) => v !== 0 && Math.abs(halfToFloat(floatToHalf(v))) < 2 ** -14).length).toBeGreaterThan(tiny.length / 2);
    // weights: every layer half-stored, 2 bytes a weight plus 8-column panels' f32 bias row
    const bytes = (s: 'f32' | 'f16') => [
      [35, 35], [43, 35 * 9], [45, 43 * 9], [37, 45], [19, 37], [29, 45],
    ].reduce((a, [N, K]) => a + Math.ceil(N / 8) * (s === 'f32' ? 32 * (K + 1) : 32 + 16 * K), 0) +
      3 * Math.ceil(15 / 8) * (s === 'f32' ? 32 * (15 * 9 + 1) : 32 + 16 * 15 * 9);
    for (const [m, s] of [[half, 'f16'], [raw, 'f32']] as const) {
      expect(m.weightBytes).toBeGreaterThanOrEqual(bytes(s));
      expect(m.weightBytes).toBeLessThan(bytes(s) + 16 * 1024);
    }
    console.log(`odd graph: weightBytes float16 ${half.weightBytes} / float32 ${raw.weightBytes} = ${(half.weightBytes / raw.weightBytes).toFixed(3)}, memoryBytes ${half.memoryBytes} / ${raw.memoryBytes}`);
    for (const m of [half, ref, raw]) m.dispose();
  });

  it('keeps float32 for a layer with a weight that rounds to Infinity as a half (70000), exactly, and half for the others', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', [3, 40, 5, 7]);
    const c = b.relu(b.conv(x, 'big', { out: 41, kernel: 1 }));
    b.output(b.conv(c, 'small', { out: 17, kernel: 3, pad: 1, stride: 2 }), 'y');
    const w = syntheticWeights(b.weightShapes());
    const big = w.get('big.weight')!;
    big.data[5] = 70000; // beyond 65504: rounds to Infinity as a half
    big.data[6] = -1e-3;
    const feeds = { x: syntheticInput([3, 40, 5, 7]) };
    const half = await b.build(w, { weightStorage: 'float16' });
    // reference: 'big' as given (float32), 'small' rounded
    const ref = await b.build(rounded(w, (k) => k === 'small.weight'));
    const raw = await b.build(w);
    const [h, r] = [await outputs(half, feeds), await outputs(ref, feeds)];
    expect(relDiff(h.y, r.y)).toBeLessThan(1e-5);
    expect([...h.y.data].every(Number.isFinite)).toBe(true);
    // 'big' keeps 6 f32 panels of 41 rows; 'small' 3 half panels 360 deep, against 3 f32 ones
    const saved = 3 * (32 * (360 + 1) - (32 + 16 * 360));
    expect(raw.weightBytes - half.weightBytes).toBeGreaterThanOrEqual(saved);
    expect(raw.weightBytes - half.weightBytes).toBeLessThan(saved + 1024);
    for (const m of [half, ref, raw]) m.dispose();
  });

  it('a zoo model (mobilenet_v2, unfolded so its conv weights are stored as given) equals float32 storage of half-rounded weights; weightBytes < 0.6x', async () => {
    const o = { numClasses: 37, inputSize: 97 };
    const b = modelBuilder('mobilenet_v2', o);
    const w = syntheticWeights(b.weightShapes());
    // optimize: false keeps BatchNorm a step of its own, so a conv's stored weights are the
    // given ones, and rounding them on the host is the reference (folding would scale them first)
    // the half-stored weights: 1x1 convs' and the classifier's (the depthwise 3x3 convs and the
    // 3-channel stem, read in place by the direct path, keep float32)
    const gemmWeights = (k: string) => {
      const s = b.weightShapes().get(k)!;
      return k.endsWith('.weight') && (s.length === 2 || (s.length === 4 && s[2] === 1 && s[3] === 1));
    };
    const feeds = { [b.graph.inputs[0].name]: syntheticInput([1, 3, 97, 97]) };
    const half = await b.build(w, { optimize: false, weightStorage: 'float16' });
    const ref = await b.build(rounded(w, gemmWeights), { optimize: false });
    const raw = await b.build(w, { optimize: false });
    const [h, r] = [await outputs(half, feeds), await outputs(ref, feeds)];
    for (const k of Object.keys(r)) expect(relDiff(h[k], r[k]), k).toBeLessThan(1e-5);
    // GEMM panels are nearly all of mobilenet_v2's weights (depthwise taps, the 3-channel stem
    // and the BatchNorm parameters stay float32): at half a panel's bytes, well under 0.6
    const ratio = half.weightBytes / raw.weightBytes;
    expect(ratio).toBeLessThan(0.6);
    expect(half.memoryBytes).toBeLessThan(raw.memoryBytes);
    console.log(`mobilenet_v2 (unfolded, 97x97): weightBytes float16/float32 ${ratio.toFixed(3)}, memoryBytes ${(half.memoryBytes / raw.memoryBytes).toFixed(3)}`);
    for (const m of [half, ref, raw]) m.dispose();
  });

  it('a model with dynamic input shapes shares its half panels between plans (tracked allocator)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 40, 9, 7]);
    const c = b.relu(b.conv(x, 'c1', { out: 41, kernel: 1 }));
    b.output(b.conv(c, 'c2', { out: 19, kernel: 3, pad: 1, stride: 2 }), 'y');
    const w = syntheticWeights(b.weightShapes());
    const half = await b.build(w, { weightStorage: 'float16', dynamicAxes: { x: [2, 3] } });
    const ref = await b.build(rounded(w), { dynamicAxes: { x: [2, 3] } });
    for (const [h, wd] of [[9, 7], [13, 6], [9, 7]]) {
      const feeds = { x: syntheticInput([1, 40, h, wd], `x${h}`) };
      expect(relDiff((await outputs(half, feeds)).y, (await outputs(ref, feeds)).y)).toBeLessThan(1e-5);
    }
    // the packed weights once (half panels: 6 of 32 + 16·40 bytes, 3 of 32 + 16·360; float32
    // would take 6 x 32·41 + 3 x 32·361 = 42528) plus each cached plan's small parameter blocks
    const packed = 6 * (32 + 16 * 40) + 3 * (32 + 16 * 360);
    expect(half.weightBytes).toBeGreaterThanOrEqual(packed);
    expect(half.weightBytes).toBeLessThan(packed + 4096);
    half.dispose();
    ref.dispose();
  });

  it('refuses an unknown storage by name', async () => {
    const b = new GraphBuilder();
    b.output(b.linear(b.input('x', [1, 4]), 'fc', 3), 'y');
    await expect(b.build(syntheticWeights(b.weightShapes()), { weightStorage: 'int8' as never })).rejects.toThrow(ValueError);
  });
});
