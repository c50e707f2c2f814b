// torchvision CNNs, and two the tool defines (a ResNet with ECA attention, a 1-D CNN), exported
// with torch.onnx.export (opset 13) by tools/export_onnx_fixtures.py: every model matches PyTorch
// within 1e-4 * max(1, max|ref|), and the decomposed forms the
// exporter writes (LayerNorm, GELU through Erf, SiLU, hard-swish, channel shuffle) run as
// the fused ops. The committed tier uses reduced configurations of the torchvision classes;
// the full-size tier (fixtures-local/, made by `--full`) runs when present. Each model's
// exportOnnx file loads in onnxruntime-node with the same outputs and the file's initializer
// names and shapes. The two with 1-D convolutions also fine-tune (their Conv1d weights trained in
// the 2-D form inference runs).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACT_GELU_ERF } from '../assembly/codes';
import { exportOnnx, loadOnnx, sgd } from '../src/index';
import { parseOnnx } from '../src/onnx/reader';
import * as ort from 'onnxruntime-node';

const TIERS = [new URL('./fixtures/onnx/', import.meta.url), new URL('../fixtures-local/onnx/', import.meta.url)];

/**
 * Ops that must (not) appear once the exporter's decomposed forms are recognised; 'gelu' is a
 * Gelu node or a GELU fused into a GEMM epilogue.
 */
const FUSED: Record<string, { present: string[]; absent: string[] }> = {
  convnext: { present: ['LayerNormalization', 'gelu'], absent: ['Erf', 'ReduceMean', 'Sqrt'] },
  convnext_tiny: { present: ['LayerNormalization', 'gelu'], absent: ['Erf', 'ReduceMean', 'Sqrt'] },
  shufflenet_v2: { present: ['ChannelShuffle'], absent: ['Transpose'] },
  shufflenet_v2_x1_0: { present: ['ChannelShuffle'], absent: ['Transpose'] },
  // SiLU is fused; the squeeze-excitation gates keep their Sigmoid
  efficientnet_b0: { present: ['Silu'], absent: [] },
  mobilenet_v3_large: { present: ['HardSwish'], absent: [] },
  resnet_basic: { present: [], absent: ['BatchNormalization', 'Add', 'Relu'] },
};

function readF32(path: URL): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const skipped: string[] = [];
for (const tier of TIERS) {
  const label = tier.pathname.includes('fixtures-local') ? 'full-size' : 'committed';
  if (!existsSync(tier)) {
    skipped.push(`${label} tier: ${tier.pathname} not present (generate with tools/export_onnx_fixtures.py --full)`);
    continue;
  }
  describe(`torchvision ONNX models (${label})`, () => {
    for (const name of readdirSync(tier).sort()) {
      const dir = new URL(`${name}/`, tier);
      if (!existsSync(new URL('model.onnx', dir))) continue;
      it(name, async () => {
        const meta = JSON.parse(readFileSync(new URL('meta.json', dir), 'utf8'));
        const m = await loadOnnx(readFileSync(new URL('model.onnx', dir)));
        const x = readF32(new URL('input.bin', dir));
        const ref = readF32(new URL('output.bin', dir));
        const y = await m.predict({ data: x, shape: meta.inputShape });
        expect(y.shape).toEqual(meta.outputShape);
        let worst = 0;
        let scale = 1;
        for (let i = 0; i < ref.length; i++) {
          worst = Math.max(worst, Math.abs(y.data[i] - ref[i]));
          scale = Math.max(scale, Math.abs(ref[i]));
        }
        expect(worst, `max |y - ref| = ${worst}`).toBeLessThanOrEqual(1e-4 * scale);
        // exported again, the file is one onnxruntime loads, with the same outputs and the
        // source file's initializer names and shapes (1-D windows written back as 1-D ops)
        const out = exportOnnx(m);
        const file = new Map([...parseOnnx(readFileSync(new URL('model.onnx', dir))).graph.initializers].map(([k, t]) => [k, t.shape.join('x')]));
        const exported = parseOnnx(out).graph;
        expect([...exported.initializers].map(([k, t]) => `${k} ${t.shape.join('x')}`).sort()).toEqual([...file].map(([k, v]) => `${k} ${v}`).sort());
        const session = await ort.InferenceSession.create(out);
        const r = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, meta.inputShape) });
        const z = r[session.outputNames[0]].data as Float32Array;
        let off = 0;
        for (let i = 0; i < z.length; i++) off = Math.max(off, Math.abs(y.data[i] - z[i]));
        expect(off, `onnxruntime-node on the export: max |diff| = ${off}`).toBeLessThanOrEqual(1e-4 * scale);
        const f = FUSED[name];
        if (f) {
          const ops = new Set(m.graph.nodes.map((n) => n.op));
          if (m.graph.nodes.some((n) => n.op === 'Gelu' || n.attrs._act === ACT_GELU_ERF)) ops.add('gelu');
          for (const op of f.present) expect(ops.has(op), `${op} in the executed graph`).toBe(true);
          for (const op of f.absent) expect(ops.has(op), `${op} left in the executed graph`).toBe(false);
        }
        m.dispose();
      });
    }
  });
}
describe('torchvision ONNX tiers', () => {
  it('reports tiers not present', () => {
    for (const s of skipped) console.log(`skipped ${s}`);
    expect(existsSync(TIERS[0])).toBe(true);
  });
});

describe('fine-tuning the exports with 1-D convolutions (ECA-ResNet, the 1-D CNN)', () => {
  for (const name of ['eca_resnet', 'conv1d_net']) {
    it(`${name}: trainStep lowers the loss; state_dict names and shapes stay the file's; exportOnnx carries the trained weights`, async () => {
      const dir = new URL(`${name}/`, TIERS[0]);
      const meta = JSON.parse(readFileSync(new URL('meta.json', dir), 'utf8'));
      const bytes = readFileSync(new URL('model.onnx', dir));
      const m = await loadOnnx(bytes);
      // the file's own initializers (the model plans a rewritten copy)
      const declared = new Map([...parseOnnx(bytes).graph.initializers].map(([k, t]) => [k, t.shape]));
      const x = { data: readF32(new URL('input.bin', dir)), shape: meta.inputShape };
      const feeds = { [m.inputNames[0]]: x };
      const labels = Int32Array.from({ length: meta.outputShape[0] }, (_, i) => (3 * i + 1) % meta.outputShape[1]);
      const before = m.stateDict();
      // PyTorch's Conv1d weights, [out, in / groups, k], are in the state_dict as the file holds them
      const oneD = [...before].filter(([, t]) => t.shape.length === 3).map(([k]) => k);
      expect(oneD.length).toBeGreaterThan(0);
      for (const [k, t] of before) expect(t.shape, k).toEqual(declared.get(k));
      m.train();
      const losses = [];
      for (let i = 0; i < 4; i++) losses.push(await m.trainStep(feeds, labels, sgd({ lr: 0.02, momentum: 0.9 })));
      expect(losses[3], losses.join(', ')).toBeLessThan(losses[0]);
      const after = m.stateDict();
      expect([...after.keys()]).toEqual([...before.keys()]);
      for (const [k, t] of after) expect(t.shape, k).toEqual(declared.get(k));
      for (const k of oneD) expect(after.get(k)!.data.some((v, i) => v !== before.get(k)!.data[i]), `${k} trained`).toBe(true);
      m.eval();
      const y = (await m.run(feeds))[m.outputNames[0]].data;
      const again = await loadOnnx(exportOnnx(m));
      const z = (await again.run({ [again.inputNames[0]]: x }))[again.outputNames[0]].data;
      let worst = 0;
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - z[i]));
      expect(worst).toBeLessThanOrEqual(1e-5);
      m.dispose();
      again.dispose();
    });
  }
});
