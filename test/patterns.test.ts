// The recogniser replaces exporters' decomposed forms by fused ops; each fused graph must give
// the same numbers as the decomposed graph run op by op (optimize: false) and as the formula.
import { describe, expect, it } from 'vitest';
import { emptyGraph, type Graph, type Node } from '../src/graph/ir';
import { compileGraph } from '../src/model';
import * as R from './reference';

let k = 0;
const n = (op: string, inputs: string[], attrs: Node['attrs'] = {}): Node => ({ name: `${op}${k}`, op, inputs, outputs: [`v${k++}`], attrs });

function build(shape: number[], body: (g: Graph, c: (v: number[], s?: number[]) => string) => Node[]): Graph {
  const g = emptyGraph();
  g.opset = 13;
  g.inputs.push({ name: 'x', shape });
  let ci = 0;
  const c = (v: number[], s: number[] = v.length === 1 ? [] : [v.length]) => {
    const name = `c${ci++}`;
    g.initializers.set(name, { data: Float32Array.from(v), shape: s });
    return name;
  };
  g.nodes = body(g, c);
  g.outputs.push({ name: g.nodes[g.nodes.length - 1].outputs[0] });
  return g;
}

const clone = (g: Graph): Graph => ({
  ...g, inputs: g.inputs.map((i) => ({ ...i })), outputs: g.outputs.map((o) => ({ ...o })),
  nodes: g.nodes.map((x) => ({ ...x, inputs: [...x.inputs], outputs: [...x.outputs], attrs: { ...x.attrs } })),
  initializers: new Map(g.initializers), intConstants: new Map(g.intConstants), shapes: new Map(),
});

async function check(g: Graph, fused: string, ref: (x: R.T) => R.T) {
  const x = R.rand(g.inputs[0].shape!, 42);
  const fast = await compileGraph(clone(g));
  const slow = await compileGraph(clone(g), { optimize: false });
  expect(fast.graph.nodes.map((q) => q.op)).toContain(fused);
  const a = (await fast.predict(R.f32(x))).data;
  const b = (await slow.predict(R.f32(x))).data;
  const r = ref(x);
  expect(R.maxRelErr(a, r.data)).toBeLessThan(2e-6);
  expect(R.maxRelErr(b, r.data)).toBeLessThan(2e-6);
}

function layerNormGraph(shape: number[], axis: number, gammaShape: number[]) {
  const C = gammaShape.reduce((p, q) => p * q, 1);
  return build(shape, (g, c) => {
    const m1 = n('ReduceMean', ['x'], { axes: [axis], keepdims: 1 });
    const d = n('Sub', ['x', m1.outputs[0]]);
    const p = n('Pow', [d.outputs[0], c([2])]);
    const m2 = n('ReduceMean', [p.outputs[0]], { axes: [axis], keepdims: 1 });
    const a = n('Add', [m2.outputs[0], c([1e-6])]);
    const s = n('Sqrt', [a.outputs[0]]);
    const dv = n('Div', [d.outputs[0], s.outputs[0]]);
    const mu = n('Mul', [dv.outputs[0], c(Array.from({ length: C }, (_, i) => 1 + i / 10), gammaShape)]);
    const ad = n('Add', [mu.outputs[0], c(Array.from({ length: C }, (_, i) => i / 7 - 0.3), gammaShape)]);
    return [m1, d, p, m2, a, s, dv, mu, ad];
  });
}

function lnRef(x: R.T, axisIsChannel: boolean): R.T {
  const [N, C, H, W] = x.shape.length === 4 ? x.shape : [1, 1, 1, x.shape[x.shape.length - 1]];
  const y = R.tensor(x.shape, () => 0);
  const idx = (nn: number, c: number, h: number, w: number) => ((nn * C + c) * H + h) * W + w;
  if (axisIsChannel) {
    for (let nn = 0; nn < N; nn++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          let mean = 0;
          for (let c = 0; c < C; c++) mean += x.data[idx(nn, c, h, w)] / C;
          let v = 0;
          for (let c = 0; c < C; c++) v += (x.data[idx(nn, c, h, w)] - mean) ** 2 / C;
          for (let c = 0; c < C; c++) y.data[idx(nn, c, h, w)] = ((x.data[idx(nn, c, h, w)] - mean) / Math.sqrt(v + 1e-6)) * (1 + c / 10) + (c / 7 - 0.3);
        }
    return y;
  }
  const L = x.shape[x.shape.length - 1];
  for (let r = 0; r < x.data.length / L; r++) {
    const row = x.data.subarray(r * L, r * L + L);
    const mean = row.reduce((a, b) => a + b, 0) / L;
    const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / L;
    row.forEach((q, i) => (y.data[r * L + i] = ((q - mean) / Math.sqrt(v + 1e-6)) * (1 + i / 10) + (i / 7 - 0.3)));
  }
  return y;
}

const erf = (x: number) => {
  // Abramowitz & Stegun 7.1.26 is too coarse for 2e-6; integrate the series instead
  let s = 0, t = x, k2 = 0;
  while (Math.abs(t) > 1e-17 * Math.abs(s) || k2 < 3) { s += t / (2 * k2 + 1); k2++; t *= (-x * x) / k2; if (k2 > 200) break; }
  return (2 / Math.sqrt(Math.PI)) * s;
};

describe('pattern recognition', () => {
  it('LayerNorm over the last axis', () => check(layerNormGraph([2, 5, 7], -1, [7]), 'LayerNormalization', (x) => lnRef(x, false)));
  it('LayerNorm over channels (LayerNorm2d)', () => check(layerNormGraph([2, 6, 3, 5], 1, [6, 1, 1]), 'ChannelLayerNorm', (x) => lnRef(x, true)));
  it('GELU through Erf', () =>
    check(build([1, 4, 3, 3], (_, c) => {
      const d = n('Div', ['x', c([Math.SQRT2])]);
      const e = n('Erf', [d.outputs[0]]);
      const a = n('Add', [e.outputs[0], c([1])]);
      const m = n('Mul', ['x', a.outputs[0]]);
      return [d, e, a, m, n('Mul', [m.outputs[0], c([0.5])])];
    }), 'Gelu', (x) => R.map(x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)))));
  it('SiLU from Sigmoid and Mul', () =>
    check(build([1, 3, 4, 5], () => {
      const s = n('Sigmoid', ['x']);
      return [s, n('Mul', ['x', s.outputs[0]])];
    }), 'Silu', (x) => R.map(x, (v) => v / (1 + Math.exp(-v)))));
  it('ONNX Swish (opset 24): alpha 1 runs as SiLU, another alpha as x times Sigmoid of alpha x', async () => {
    await check(build([1, 3, 4, 5], () => [n('Swish', ['x'])]), 'Silu', (x) => R.map(x, (v) => v / (1 + Math.exp(-v))));
    await check(build([1, 3, 4, 5], () => [n('Swish', ['x'], { alpha: 1 })]), 'Silu', (x) => R.map(x, (v) => v / (1 + Math.exp(-v))));
    await check(build([2, 5, 3, 3], () => [n('Swish', ['x'], { alpha: -0.75 })]), 'Sigmoid', (x) => R.map(x, (v) => v / (1 + Math.exp(0.75 * v))));
  });
  it('HardSwish from HardSigmoid and Mul', () =>
    check(build([1, 3, 4, 5], () => {
      const s = n('HardSigmoid', ['x'], { alpha: 1 / 6, beta: 0.5 });
      return [s, n('Mul', ['x', s.outputs[0]])];
    }), 'HardSwish', (x) => R.map(x, (v) => v * Math.min(Math.max(v / 6 + 0.5, 0), 1))));
  it('channel shuffle from Reshape/Transpose/Reshape', () =>
    check(build([1, 6, 2, 3], (g) => {
      g.intConstants.set('s5', { ints: [1, 3, 2, 2, 3], shape: [5] });
      g.intConstants.set('s4', { ints: [1, 6, 2, 3], shape: [4] });
      const r1 = n('Reshape', ['x', 's5']);
      const t = n('Transpose', [r1.outputs[0]], { perm: [0, 2, 1, 3, 4] });
      const r2 = n('Reshape', [t.outputs[0], 's4']);
      // a conv-family consumer keeps the value NHWC so the shuffle runs in place of the copies
      return [r1, t, r2, n('Relu', [r2.outputs[0]])];
    }), 'ChannelShuffle', (x) => R.map(R.tensor(x.shape, (i) => {
      const c = Math.floor(i / 6) % 6, hw = i % 6;
      const src = (c % 3) * 2 + Math.floor(c / 3);
      return x.data[src * 6 + hw];
    }), (v) => Math.max(v, 0))));
});

describe('dead-tap trimming', () => {
  // dilated taps that only ever read padding are dropped (ASPP rate 36 on a 32x32 map is a 1x1)
  const cases: [number, number, number, number, number, number, number[]][] = [
    [32, 32, 3, 36, 36, 1, [1, 1]],
    [9, 7, 3, 12, 12, 1, [1, 1]],
    [8, 8, 5, 6, 12, 2, [3, 3]],
    [10, 6, 3, 5, 5, 2, [3, 2]],
    [33, 29, 3, 24, 24, 1, [3, 3]],
  ];
  for (const [H, W, k, d, p, s, kernel] of cases)
    it(`${H}x${W} kernel ${k} dilation ${d} pad ${p} stride ${s} runs as ${kernel.join('x')} with the same output`, async () => {
      const { GraphBuilder } = await import('../src/index');
      const { syntheticWeights, syntheticInput } = await import('../src/weights/synthetic');
      const b = new GraphBuilder();
      const x = b.input('x', [1, 5, H, W]);
      b.output(b.conv(x, 'c', { out: 7, kernel: k, dilation: d, pad: p, stride: s }), 'y');
      const w = syntheticWeights(b.weightShapes());
      const inp = syntheticInput([1, 5, H, W]);
      const fast = await b.build(w);
      const slow = await b.build(w, { optimize: false });
      expect(fast.graph.nodes.find((q) => q.op === 'Conv')!.attrs.kernel_shape).toEqual(kernel);
      const a = (await fast.predict(inp)).data;
      const r = (await slow.predict(inp)).data;
      expect(R.maxRelErr(a, Float64Array.from(r))).toBeLessThan(1e-6);
    });
});
