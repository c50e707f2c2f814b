// Residual-add fusion (issue 18; src/quant/lower.ts fuseResidualAdds, assembly/qpost.ts): a
// quantized ResNet / MobileNet-like GraphBuilder graph whose residual adds take every producer
// path of an int8 conv (im2col + qgemm_q8 on a 5-channel 3x3 stem, qwino_q8 3x3, qgemm_q8 1x1,
// qdwconv_q8 depthwise) with the conv's bytes as either operand of QLinearAdd, an add whose two
// operands both come from single-reader convs, one whose other operand is made after the conv,
// and two that must not fuse (the conv's output is also read by another conv; the conv's output is
// a graph output). The plan keeps exactly the _QAdd steps that must stay, and the int8 model's
// outputs equal onnxruntime-node's on the same exported QDQ file, every byte.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportOnnx, GraphBuilder, quantize, type Model, type Tensor } from '../src/index';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

const ops = (m: Model, x: Tensor) => m.profile({ [m.inputNames[0]]: x }, { runs: 1 }).map((p) => p.op);

async function residualNet(): Promise<Model> {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 5, 11, 9]);
  // stem: 3x3 on 5 channels (im2col + qgemm_q8), the quantized input as the add's b
  const s = b.add(b.conv(x, 'stem', { out: 5, kernel: 3, pad: 1 }), x);
  const a = b.relu(b.conv(s, 'c1', { out: 24, kernel: 3, pad: 1 }));
  // identity block: 1x1 → 3x3 (qwino_q8) + a; a is read twice (its conv does not take an add)
  let h = b.relu(b.conv(a, 'b1a', { out: 16, kernel: 1 }));
  const y1 = b.relu(b.add(b.conv(h, 'b1b', { out: 24, kernel: 3, pad: 1 }), a));
  // downsample block: both operands single-reader convs; the later (b2b, 1x1) takes the add as b
  const p = b.conv(y1, 'b2p', { out: 40, kernel: 1, stride: 2 });
  h = b.relu(b.conv(y1, 'b2a', { out: 40, kernel: 3, stride: 2, pad: 1 }));
  const y2 = b.relu(b.add(p, b.conv(h, 'b2b', { out: 40, kernel: 1 })));
  // not fusable: c3 is read by the add and by another conv
  const c3 = b.conv(y2, 'b3', { out: 40, kernel: 1 });
  const y3 = b.add(c3, y2);
  const side = b.conv(c3, 'side', { out: 40, kernel: 1 });
  const y4 = b.add(y3, side);
  // depthwise conv (qdwconv_q8) as the add's b
  const y5 = b.add(y4, b.conv(y4, 'dw', { out: 40, kernel: 3, pad: 1, groups: 40 }));
  // the conv is made before the other operand (a graph output: its conv takes no add)
  const c6 = b.conv(y5, 'b6', { out: 40, kernel: 1 });
  const z = b.conv(y5, 'b6z', { out: 40, kernel: 1 });
  b.output(b.add(z, c6), 'y');
  b.output(z, 'z');
  const f = await b.build(syntheticWeights(b.weightShapes()));
  const cal = Array.from({ length: 4 }, (_, i) => syntheticInput(f.inputShapes.x, `calibration${i}`));
  const qs: Model[] = [];
  for (const activations of ['uint8', 'int8'] as const) qs.push(await quantize(f, { calibration: cal, activations }));
  f.dispose();
  return Object.assign(qs[0], { other: qs[1] });
}

describe('int8 residual adds fused into the producing conv', () => {
  it('plans _QAdd only where the conv output is read elsewhere or is a graph output; bytes equal onnxruntime', async () => {
    const u8 = await residualNet();
    const models = [u8, (u8 as Model & { other: Model }).other];
    for (const q of models) {
      // planned and profiled on one input, compared on another (a step run out of order would
      // read the other input's stale values)
      const steps = ops(q, syntheticInput(q.inputShapes.x, 'plan'));
      const x = syntheticInput(q.inputShapes.x, 'measure');
      // 7 adds, 6 fused: b3's stays (its conv output also feeds 'side'); z + c6 fuses into c6
      // (z is a graph output), run at the add's place
      expect(steps.filter((o) => o === '_QAdd').length).toBe(1);
      expect(steps.filter((o) => o === '_QConv').length).toBe(12);
      expect(steps).not.toContain('Add');
      expect(q.graph.nodes.filter((n) => n.op === '_QConv' && n.attrs._post === 'add').length).toBe(6);
      const s = await ort.InferenceSession.create(exportOnnx(q), { intraOpNumThreads: 1, logSeverityLevel: 3 });
      const got = await q.run({ x });
      const want = await s.run({ x: new ort.Tensor('float32', x.data, x.shape) });
      for (const name of ['y', 'z']) {
        const g = got[name].data, w = want[name].data as Float32Array;
        expect(g.length).toBe(w.length);
        let same = 0;
        for (let i = 0; i < w.length; i++) if (g[i] === w[i]) same++;
        expect(new Set(w).size).toBeGreaterThan(8);
        expect(same).toBe(w.length);
      }
      q.dispose();
    }
  });
});
