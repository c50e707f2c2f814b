// C4 group convolutions (Cohen & Welling 2016, "Group Equivariant Convolutional Networks"):
// (a) turning the input 90° counter-clockwise turns every p4 feature map and moves orientation
// r to r + 1, at every layer; (b) after orientation pooling the output only turns, and with a
// global pool at the end it does not change; (c) the layers agree with an independent PyTorch
// construction (tools/c4_reference.py: torch.rot90, torch.roll, F.conv2d).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/index';
import { groupConvC4, liftC4, orientationPoolC4 } from '../src/equivariant';
import type { Tensor } from '../src/graph/ir';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

/** lift → relu → p4 conv (stride 2) → relu → p4 conv → orientation pools → global pool. */
function c4net(shape: number[]) {
  const b = new GraphBuilder();
  const x = b.input('input', shape);
  const lift = liftC4(b, x, 'lift', { out: 4, kernel: 3, pad: 1 });
  const gc1 = groupConvC4(b, b.relu(lift), 'gc1', { out: 4, kernel: 3, stride: 2, pad: 1 });
  const gc2 = groupConvC4(b, b.relu(gc1), 'gc2', { out: 3, kernel: 5, pad: 2 });
  const poolMax = orientationPoolC4(b, gc2, 'max');
  const poolMean = orientationPoolC4(b, gc2, 'mean');
  const gap = b.flatten(b.globalAvgPool(poolMax));
  const outs = { lift, gc1, gc2, pool_max: poolMax, pool_mean: poolMean, gap };
  for (const v of Object.values(outs)) b.output(v);
  return { b, outs };
}

/** Turn every H×W plane of an NCHW tensor r·90° counter-clockwise: y[i][j] = x[j][W-1-i]. */
function rot90(t: Tensor, r = 1): Tensor {
  let cur = t;
  for (let q = 0; q < (r & 3); q++) {
    const [N, C, H, W] = cur.shape;
    const y = new Float32Array(cur.data.length);
    for (let p = 0; p < N * C; p++)
      for (let i = 0; i < W; i++) for (let j = 0; j < H; j++) y[(p * W + i) * H + j] = cur.data[(p * H + j) * W + (W - 1 - i)];
    cur = { data: y, shape: [N, C, W, H] };
  }
  return cur;
}

/** Move orientation r of every filter to r + s (mod 4): y[f·4 + (r + s) % 4] = x[f·4 + r]. */
function shiftOrientation(t: Tensor, s = 1): Tensor {
  const [N, C, H, W] = t.shape;
  const plane = H * W;
  const y = new Float32Array(t.data.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const to = (c & ~3) | ((c + s) & 3);
      y.set(t.data.subarray((n * C + c) * plane, (n * C + c + 1) * plane), (n * C + to) * plane);
    }
  return { data: y, shape: t.shape.slice() };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a − b| / max(1, max |b|). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e / Math.max(1, maxAbs(b));
}

describe('C4 group convolution', () => {
  it('is equivariant at every layer and invariant after pooling (13x13, stride 1 and 2)', async () => {
    const { b, outs } = c4net([2, 3, 13, 13]);
    const m = await b.build(syntheticWeights(b.weightShapes()));
    const x = syntheticInput([2, 3, 13, 13], 'c4-rotation');
    for (let r = 1; r < 4; r++) {
      const y = m.runSync({ input: x });
      const yr = m.runSync({ input: rot90(x, r) });
      for (const key of ['lift', 'gc1', 'gc2'] as const) {
        const v = outs[key];
        // turned map, orientation r' read from r' − r
        const want = shiftOrientation(rot90(y[v], r), r);
        expect(yr[v].shape).toEqual(want.shape);
        expect(relErr(yr[v].data, want.data), `${key} r=${r}`).toBeLessThanOrEqual(1e-5);
        // and not trivially: the orientations differ from each other
        expect(relErr(y[v].data, shiftOrientation(y[v], 1).data)).toBeGreaterThan(1e-2);
      }
      for (const key of ['pool_max', 'pool_mean'] as const) {
        const v = outs[key];
        expect(relErr(yr[v].data, rot90(y[v], r).data), `${key} r=${r}`).toBeLessThanOrEqual(1e-5);
      }
      expect(relErr(yr[outs.gap].data, y[outs.gap].data)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('an ordinary conv with the same weights is not equivariant (the test can fail)', async () => {
    const b = new GraphBuilder();
    const x = b.input('input', [1, 3, 13, 13]);
    b.output(b.conv(x, 'plain', { out: 16, kernel: 3, pad: 1 }));
    const m = await b.build(syntheticWeights(b.weightShapes()));
    const t = syntheticInput([1, 3, 13, 13], 'c4-rotation');
    const y = await m.predict(t);
    const yr = await m.predict(rot90(t));
    expect(relErr(yr.data, shiftOrientation(rot90(y), 1).data)).toBeGreaterThan(1e-2);
  });

  it('matches the PyTorch reference (tools/c4_reference.py)', async () => {
    const ref = JSON.parse(readFileSync(new URL('./fixtures/c4/reference.json', import.meta.url), 'utf8')) as {
      input_shape: number[];
      input_key: string;
      outputs: Record<string, { shape: number[]; data: number[] }>;
    };
    const { b, outs } = c4net(ref.input_shape);
    for (const optimize of [true, false]) {
      const m = await b.build(syntheticWeights(b.weightShapes()), { optimize });
      const y = m.runSync({ input: syntheticInput(ref.input_shape, ref.input_key) });
      for (const [key, v] of Object.entries(outs)) {
        const want = ref.outputs[key];
        expect(y[v].shape, key).toEqual(want.shape);
        expect(relErr(y[v].data, want.data), `${key} optimize=${optimize}`).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  it('declares the learned filters only, shared by the orientations', () => {
    const { b } = c4net([1, 3, 9, 9]);
    expect(Object.fromEntries(b.weightShapes())).toEqual({
      'lift.weight': [4, 3, 3, 3], 'lift.bias': [4],
      'gc1.weight': [4, 4, 4, 3, 3], 'gc1.bias': [4],
      'gc2.weight': [3, 4, 4, 5, 5], 'gc2.bias': [3],
    });
  });
});
