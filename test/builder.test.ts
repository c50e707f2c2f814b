// GraphBuilder networks against the double-precision NCHW reference (test/reference.ts), with
// and without the fusion passes, and the weight checks of build().
import { describe, expect, it } from 'vitest';
import { GraphBuilder, WeightsError, saveSafetensors } from '../src/index';
import type { Tensor } from '../src/graph/ir';
import * as R from './reference';

function net(batch: number) {
  const b = new GraphBuilder();
  let x = b.input('input', [batch, 3, 17, 13]);
  x = b.conv(x, 'stem', { out: 8, kernel: 3, stride: 2, pad: 1, bias: false });
  x = b.relu6(b.batchNorm(x, 'stem_bn'));
  const skip = x;
  let y = b.conv(x, 'dw', { out: 8, kernel: 3, pad: 1, groups: 8 });
  y = b.relu(y);
  y = b.conv(y, 'pw', { out: 8, kernel: 1 });
  y = b.relu(b.add(y, skip));
  y = b.conv(y, 'grouped', { out: 12, kernel: 3, pad: [1, 0, 1, 2], groups: 2, dilation: 2 });
  const p = b.maxPool(y, { kernel: 2, stride: 2 });
  const q = b.avgPool(p, { kernel: 3, stride: 1, pad: 1, countIncludePad: false });
  const g = b.flatten(b.globalAvgPool(q));
  const logits = b.linear(g, 'fc', 5);
  b.output(b.node('Softmax', [logits], { axis: 1 })[0], 'probs');
  return b;
}

function weights(b: GraphBuilder): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  let seed = 7;
  for (const [name, shape] of b.weightShapes()) {
    let t = R.rand(shape, seed++);
    if (name.endsWith('running_var')) t = R.map(t, (v) => 1 + 0.5 * v);
    m.set(name, R.f32(t));
  }
  return m;
}

function reference(w: Map<string, Tensor>, x: R.T): R.T {
  const W = (n: string): R.T => ({ data: Float64Array.from(w.get(n)!.data), shape: w.get(n)!.shape });
  let h = R.conv2d(x, W('stem.weight'), undefined, { stride: 2, pad: [1, 1, 1, 1] });
  h = R.batchnorm(h, W('stem_bn.weight'), W('stem_bn.bias'), W('stem_bn.running_mean'), W('stem_bn.running_var'));
  h = R.map(h, (v) => Math.min(Math.max(v, 0), 6));
  let y = R.conv2d(h, W('dw.weight'), W('dw.bias'), { pad: [1, 1, 1, 1], groups: 8 });
  y = R.map(y, (v) => Math.max(v, 0));
  y = R.conv2d(y, W('pw.weight'), W('pw.bias'), {});
  y = R.map(R.add(y, h), (v) => Math.max(v, 0));
  y = R.conv2d(y, W('grouped.weight'), W('grouped.bias'), { pad: [1, 0, 1, 2], groups: 2, dil: 2 });
  y = R.pool(y, 'max', 2, 2);
  y = R.pool(y, 'avg', 3, 1, 1);
  const g = R.globalAvg(y);
  return R.softmax(R.linear(g, W('fc.weight'), W('fc.bias')));
}

describe('GraphBuilder', () => {
  for (const optimize of [true, false])
    it(`matches the reference (batch 2, optimize=${optimize})`, async () => {
      const b = net(2);
      const w = weights(b);
      const m = await b.build(w, { optimize });
      const x = R.rand([2, 3, 17, 13], 99);
      const y = await m.predict(R.f32(x));
      const ref = reference(w, x);
      expect(y.shape).toEqual(ref.shape);
      expect(R.maxRelErr(y.data, ref.data)).toBeLessThan(1e-5);
      if (optimize) {
        const ops = m.graph.nodes.map((n) => n.op);
        expect(ops).not.toContain('BatchNormalization');
        expect(ops.filter((o) => o === 'Add')).toHaveLength(0);
        expect(ops).not.toContain('Relu');
      }
      m.dispose();
    });

  it('takes safetensors bytes as weights', async () => {
    const b = net(1);
    const w = weights(b);
    const m = await b.build(saveSafetensors(w));
    const x = R.rand([1, 3, 17, 13], 5);
    expect(R.maxRelErr((await m.predict(R.f32(x))).data, reference(w, x).data)).toBeLessThan(1e-5);
  });

  it('lists missing, unexpected and mis-shaped weights by name', async () => {
    const b = net(1);
    const w = weights(b);
    w.delete('pw.bias');
    w.set('fc.weight', { data: new Float32Array(12 * 5), shape: [12, 5] });
    w.set('head.weight', { data: new Float32Array(1), shape: [1] });
    w.set('stem_bn.num_batches_tracked', { data: new Float32Array(1), shape: [] });
    const err = await b.build(w).catch((e) => e);
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(/missing 1: pw\.bias/);
    expect(err.message).toMatch(/unexpected 1: head\.weight/);
    expect(err.message).toMatch(/fc\.weight: expected \[5, 12\], got \[12, 5\]/);
  });

  it('plans memory once: run never grows it and reuses buffers', async () => {
    const b = net(1);
    const m = await b.build(weights(b));
    const before = m.memoryBytes;
    for (let i = 0; i < 3; i++) await m.predict(R.f32(R.rand([1, 3, 17, 13], i + 1)));
    expect((m as unknown as { mem: { memory: WebAssembly.Memory } }).mem.memory.buffer.byteLength).toBe(before);
  });

  it('summary lists layers with shapes, parameters and MACs', async () => {
    const b = net(1);
    const m = await b.build(weights(b));
    const params = [...b.weightShapes()].filter(([n]) => !/running_(mean|var)$/.test(n)).reduce((a, [, s]) => a + s.reduce((p, q) => p * q, 1), 0);
    expect(m.paramCount).toBe(params);
    const stem = m.layerInfo().find((l) => l.name === 'stem')!;
    expect(stem.outputShape).toEqual([1, 8, 9, 7]);
    expect(stem.macs).toBe(9 * 7 * 8 * 3 * 3 * 3);
    expect(m.summary()).toMatch(/total params: /);
  });
});

describe('element-wise ops in place', () => {
  // an element-wise op may write over an input it is the last to read (src/graph/memory.ts)
  it('a chain of element-wise ops over one activation runs in one buffer', async () => {
    const chain = (hw: number) => {
      const b = new GraphBuilder();
      let x = b.input('x', [1, 8, hw, hw]);
      x = b.act('Sigmoid', x);
      x = b.act('Tanh', x);
      x = b.add(x, x);
      x = b.act('Abs', x);
      b.output(x, 'y');
      return b;
    };
    const small = await chain(4).build(new Map());
    const big = await chain(256).build(new Map());
    // first principles: one 2 MiB activation overwritten step by step, not two taking turns
    const tensor = 8 * 256 * 256 * 4;
    expect(big.memoryBytes - small.memoryBytes).toBeLessThan(1.5 * tensor);
    const x = R.rand([1, 8, 256, 256], 3);
    const y = await big.predict(R.f32(x));
    let worst = 0;
    for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(y.data[i] - Math.abs(2 * Math.tanh(1 / (1 + Math.exp(-x.data[i]))))));
    expect(worst).toBeLessThan(1e-6);
  });

  it('a feature pyramid top-down add and a squeeze-excite gate match the reference', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 12, 10]);
    const lat = b.conv(x, 'lat', { out: 8, kernel: 1 });
    const deep = b.conv(x, 'deep', { out: 8, kernel: 3, stride: 2, pad: 1 });
    const up = b.node('Resize', [deep, '', b.constant([1, 1, 2, 2], [4])], { mode: 'nearest' })[0];
    const t = b.add(lat, up);
    const gate = b.act('Sigmoid', b.conv(b.globalAvgPool(t), 'se', { out: 8, kernel: 1 }));
    b.output(b.node('Sub', [b.mul(t, gate), t])[0], 'y'); // t is read after the Mul: Mul may not write over it
    const w = new Map<string, Tensor>();
    let seed = 11;
    for (const [name, shape] of b.weightShapes()) w.set(name, R.f32(R.rand(shape, seed++)));
    const m = await b.build(w);
    const xr = R.rand([1, 4, 12, 10], 5);
    const W = (n: string): R.T => ({ data: Float64Array.from(w.get(n)!.data), shape: w.get(n)!.shape });
    const latR = R.conv2d(xr, W('lat.weight'), W('lat.bias'), {});
    const deepR = R.conv2d(xr, W('deep.weight'), W('deep.bias'), { stride: 2, pad: [1, 1, 1, 1] });
    const tR = R.tensor([1, 8, 12, 10], (i) => {
      const c = Math.floor(i / 120), yy = Math.floor((i % 120) / 10), xx = i % 10;
      return latR.data[i] + deepR.data[c * 30 + (yy >> 1) * 5 + (xx >> 1)];
    });
    const pooled = R.globalAvg(tR);
    const g = R.map(R.conv2d({ data: pooled.data, shape: [1, 8, 1, 1] }, W('se.weight'), W('se.bias'), {}), (v) => 1 / (1 + Math.exp(-v)));
    const ref = R.tensor([1, 8, 12, 10], (i) => tR.data[i] * g.data[Math.floor(i / 120)] - tR.data[i]);
    const y = await m.predict(R.f32(xr));
    expect(y.shape).toEqual([1, 8, 12, 10]);
    expect(R.maxRelErr(y.data, ref.data)).toBeLessThan(1e-5);
  });

  // a conv with a fused residual writes over the residual when it is the residual's last reader
  // (ResNet shortcuts): each kernel path against the reference (test/threads.test.ts runs the
  // zoo's residual networks on two threads bit for bit against one)
  const paths: [string, { C: number; kernel: number; pad: number; dilation?: number }][] = [
    ['pointwise GEMM', { C: 40, kernel: 1, pad: 0 }],
    ['direct (few channels)', { C: 6, kernel: 3, pad: 1 }],
    ['im2col (dilated)', { C: 40, kernel: 3, pad: 2, dilation: 2 }],
    ['Winograd', { C: 40, kernel: 3, pad: 1 }],
  ];
  for (const [path, o] of paths)
      it(`a residual conv over its shortcut's buffer: ${path}`, async () => {
        const shape = [1, o.C, 30, 29];
        const b = new GraphBuilder();
        const x = b.input('x', shape);
        const s = b.relu(b.conv(x, 'a', { out: o.C, kernel: 1 }));
        const t = b.conv(s, 'b', { out: o.C, kernel: o.kernel, pad: o.pad, dilation: o.dilation ?? 1 });
        b.output(b.relu(b.add(t, s)), 'y'); // s is read last by the conv the Add fuses into
        const w = new Map<string, Tensor>();
        let seed = 21;
        for (const [name, sh] of b.weightShapes()) w.set(name, R.f32(R.map(R.rand(sh, seed++), (v) => v * 0.3)));
        const m = await b.build(w);
        expect(m.graph.nodes.some((n) => n.op === 'Conv' && n.inputs[3])).toBe(true);
        const W = (n: string): R.T => ({ data: Float64Array.from(w.get(n)!.data), shape: w.get(n)!.shape });
        const xr = R.rand(shape, 9);
        const sr = R.map(R.conv2d(xr, W('a.weight'), W('a.bias'), {}), (v) => Math.max(v, 0));
        const p = o.pad;
        const tr = R.conv2d(sr, W('b.weight'), W('b.bias'), { pad: [p, p, p, p], dil: o.dilation ?? 1 });
        const ref = R.map(R.add(tr, sr), (v) => Math.max(v, 0));
        const y = await m.predict(R.f32(xr));
        expect(R.maxRelErr(y.data, ref.data)).toBeLessThan(1e-5);
        m.dispose();
      });
});
