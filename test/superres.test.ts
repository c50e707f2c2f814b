// Super-resolution: DepthToSpace (DCR, CRD) / SpaceToDepth and GraphBuilder.pixelShuffle /
// pixelUnshuffle against scalar references written from the ONNX and PyTorch definitions; their
// load-time validation; the espcn / fsrcnn options (model parity with PyTorch is in zoo.test.ts,
// fixtures test/fixtures/zoo/{espcn,fsrcnn}*.json); export to ONNX checked in onnxruntime-node;
// upscale() against tools/superres_fixtures.py's PyTorch/numpy round trip.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  createModel, GraphBuilder, loadOnnx, modelBuilder, ShapeError, UnsupportedOpError, upscale, ValueError, WeightsError,
  type Model,
} from '../src/index';
import type { Tensor } from '../src/graph/ir';
import { exportOnnx } from '../src/onnx/export';
import { parseOnnx } from '../src/onnx/reader';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';
import { expectThrow } from './throws';

/** A one-node model around `build` on an input of `shape`. */
async function oneNode(shape: number[], build: (b: GraphBuilder, x: string) => string): Promise<Model> {
  const b = new GraphBuilder();
  b.output(build(b, b.input('x', shape)), 'y');
  return b.build(new Map());
}

/** y[n, c, h*r + i, w*r + j] = x[n, ch(c, i, j), h, w] from the ONNX DepthToSpace definition. */
function depthToSpaceRef(x: Tensor, r: number, mode: 'DCR' | 'CRD'): Tensor {
  const [N, Ci, H, W] = x.shape;
  const C = Ci / (r * r);
  const y = new Float32Array(x.data.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let i = 0; i < r; i++)
    for (let w = 0; w < W; w++) for (let j = 0; j < r; j++) {
      const ch = mode === 'DCR' ? (i * r + j) * C + c : c * r * r + i * r + j;
      y[((n * C + c) * H * r + h * r + i) * W * r + w * r + j] = x.data[((n * Ci + ch) * H + h) * W + w];
    }
  return { data: y, shape: [N, C, H * r, W * r] };
}

/** The inverse rearrangement: DCR is ONNX SpaceToDepth, CRD torch's pixel_unshuffle. */
function spaceToDepthRef(x: Tensor, r: number, mode: 'DCR' | 'CRD'): Tensor {
  const [N, C, LH, LW] = x.shape;
  const [H, W] = [LH / r, LW / r];
  const y = new Float32Array(x.data.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let i = 0; i < r; i++)
    for (let w = 0; w < W; w++) for (let j = 0; j < r; j++) {
      const ch = mode === 'DCR' ? (i * r + j) * C + c : c * r * r + i * r + j;
      y[((n * C * r * r + ch) * H + h) * W + w] = x.data[((n * C + c) * LH + h * r + i) * LW + w * r + j];
    }
  return { data: y, shape: [N, C * r * r, H, W] };
}

describe('DepthToSpace / SpaceToDepth', () => {
  // odd sizes, batch 2, channels 1, 3 and 5 after the shuffle, block sizes 1-4
  const cases: [number, number, number, number, number][] = [
    [1, 1, 5, 7, 3], [2, 3, 5, 3, 2], [1, 5, 3, 7, 4], [2, 3, 4, 5, 1], [1, 2, 9, 11, 3],
  ];
  for (const [N, C, H, W, r] of cases)
    for (const mode of ['DCR', 'CRD'] as const)
      it(`${mode}: [${N}, ${C * r * r}, ${H}, ${W}] r=${r} and back`, async () => {
        const x = syntheticInput([N, C * r * r, H, W]);
        const d2s = await oneNode(x.shape, (b, v) => b.node('DepthToSpace', [v], { blocksize: r, mode })[0]);
        const y = await d2s.predict(x);
        const ref = depthToSpaceRef(x, r, mode);
        expect(y.shape).toEqual(ref.shape);
        expect(Array.from(y.data)).toEqual(Array.from(ref.data)); // a permutation: exact
        // back: ONNX SpaceToDepth for DCR, GraphBuilder.pixelUnshuffle (torch) for CRD
        const s2d = await oneNode(ref.shape, (b, v) => (mode === 'DCR' ? b.node('SpaceToDepth', [v], { blocksize: r })[0] : b.pixelUnshuffle(v, r)));
        const z = await s2d.predict(ref);
        expect(z.shape).toEqual(x.shape);
        expect(Array.from(z.data)).toEqual(Array.from(spaceToDepthRef(ref, r, mode).data));
        expect(Array.from(z.data)).toEqual(Array.from(x.data));
        d2s.dispose();
        s2d.dispose();
      });

  it('runs between convolutions (NHWC in and out of the fused body)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 5, 7]);
    const c = b.conv(x, 'a', { out: 12, kernel: 3, pad: 1 });
    const s = b.pixelShuffle(c, 2); // [1, 3, 10, 14]
    b.output(b.conv(s, 'b', { out: 4, kernel: 1 }), 'y');
    const m = await b.build(syntheticWeights(b.weightShapes()));
    const y = await m.predict(syntheticInput([1, 2, 5, 7]));
    // the same network in pieces: conv, reference shuffle, 1x1 conv as a plain sum
    const b1 = new GraphBuilder();
    b1.output(b1.conv(b1.input('x', [1, 2, 5, 7]), 'a', { out: 12, kernel: 3, pad: 1 }), 'y');
    const m1 = await b1.build(syntheticWeights(b1.weightShapes()));
    const sh = depthToSpaceRef(await m1.predict(syntheticInput([1, 2, 5, 7])), 2, 'CRD');
    const w = syntheticWeights(new Map([['b.weight', [4, 3, 1, 1]], ['b.bias', [4]]]));
    const [W, B] = [w.get('b.weight')!.data, w.get('b.bias')!.data];
    const P = 10 * 14;
    let worst = 0;
    for (let o = 0; o < 4; o++) for (let p = 0; p < P; p++) {
      let acc = B[o];
      for (let c = 0; c < 3; c++) acc += W[o * 3 + c] * sh.data[c * P + p];
      worst = Math.max(worst, Math.abs(acc - y.data[o * P + p]));
    }
    expect(worst).toBeLessThan(1e-5);
    m.dispose();
    m1.dispose();
  });

  it('refuses bad attributes and shapes at load time, naming the node', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 8, 5, 6]);
    expectThrow(() => b.node('DepthToSpace', [x], {}, 1, 'd0'), UnsupportedOpError, /d0.*blocksize/);
    expectThrow(() => b.node('DepthToSpace', [x], { blocksize: 0 }, 1, 'd1'), ShapeError, /d1.*blocksize 0/);
    expectThrow(() => b.node('DepthToSpace', [x], { blocksize: 3 }, 1, 'd2'), ShapeError, /d2.*8 channels.*not divisible by blocksize\^2 = 9/);
    expectThrow(() => b.node('DepthToSpace', [x], { blocksize: 2, mode: 'RDC' }, 1, 'd3'), UnsupportedOpError, /d3.*mode 'RDC'/);
    expectThrow(() => b.node('DepthToSpace', [x], { blocksize: 1.5 }, 1, 'd4'), UnsupportedOpError, /d4.*blocksize must be an int/);
    expectThrow(() => b.node('DepthToSpace', [x], { blocksize: 2 ** 20 }, 1, 'd5'), ShapeError, /d5.*blocksize 1048576/);
    expectThrow(() => b.node('SpaceToDepth', [x], { blocksize: 4 }, 1, 's0'), ShapeError, /s0.*height 5 and width 6.*divisible by blocksize 4/);
    expectThrow(() => b.node('DepthToSpace', [b.input('v', [8, 5])], { blocksize: 2 }, 1, 'd6'), ShapeError, /d6.*must be 4-D/);
    // an output past wasm32's memory: 2^16 x 2^16 pixels
    const big = b.input('big', [1, 4, 32768, 32768]);
    expectThrow(() => b.node('DepthToSpace', [big], { blocksize: 2 }, 1, 'd7'), ShapeError, /d7.*larger than wasm32 memory/);
  });
});

describe('espcn / fsrcnn options', () => {
  it('scale and channels shape the model; bad values, numClasses and other families are refused by name', async () => {
    for (const name of ['espcn', 'fsrcnn']) {
      const b = modelBuilder(name, { scale: 4, channels: 3, inputSize: [9, 11] });
      expect(b.graph.inputs[0].shape).toEqual([1, 3, 9, 11]);
      expect(b.shape(b.graph.outputs[0].name)).toEqual([1, 3, 36, 44]);
      expect(modelBuilder(name).graph.inputs[0].shape).toEqual([1, 1, 256, 256]); // Y at the native size, x3
      expect(modelBuilder(name).shape('out')).toEqual([1, 1, 768, 768]);
      expectThrow(() => modelBuilder(name, { scale: 5 as 2 }), ValueError, new RegExp(`${name}: option scale must be 2, 3 or 4, got 5`));
      expectThrow(() => modelBuilder(name, { channels: 2 as 1 }), ValueError, new RegExp(`${name}: option channels must be 1 or 3, got 2`));
      expectThrow(() => modelBuilder(name, { numClasses: 4 }), ValueError, new RegExp(`${name}: option numClasses is not supported`));
      await expect(createModel(name, { scale: 2 })).rejects.toThrow(WeightsError);
    }
    expectThrow(() => modelBuilder('resnet18', { scale: 2 }), ValueError, /resnet18: option scale is not supported.*espcn, fsrcnn/);
    expectThrow(() => modelBuilder('vgg11', { channels: 1 }), ValueError, /vgg11: option channels is not supported/);
  });

  it('wrong weights name the layer: a x2 state_dict for a x3 model', async () => {
    const w = syntheticWeights(modelBuilder('espcn', { scale: 2 }).weightShapes());
    await expect(createModel('espcn', { scale: 3, inputSize: 8, weights: w })).rejects.toThrow(/last_part\.0\.weight: expected \[9, 32, 3, 3\], got \[4, 32, 3, 3\]/);
  });

  for (const [name, r] of [['espcn', 3], ['fsrcnn', 2]] as const)
    it(`${name} x${r} exports as ONNX (DepthToSpace CRD / ConvTranspose) that onnxruntime-node and loadOnnx run alike`, async () => {
      const b = modelBuilder(name, { scale: r, inputSize: [11, 7] });
      const m = await b.build(syntheticWeights(b.weightShapes()));
      const bytes = exportOnnx(m);
      const ops = parseOnnx(bytes).graph.nodes.map((n) => `${n.op}${n.op === 'DepthToSpace' ? `:${String(n.attrs.mode)}` : ''}`);
      expect(ops).toContain(name === 'espcn' ? 'DepthToSpace:CRD' : 'ConvTranspose');
      const x = syntheticInput([1, 1, 11, 7]);
      const ref = await m.predict(x);
      const back = await (await loadOnnx(bytes)).predict(x);
      const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
      const res = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
      const got = res[s.outputNames[0]].data as Float32Array;
      expect(Array.from(res[s.outputNames[0]].dims)).toEqual([1, 1, 11 * r, 7 * r]);
      const tol = 1e-4 * Math.max(1, ...Array.from(ref.data, Math.abs));
      for (let i = 0; i < got.length; i++) {
        expect(Math.abs(got[i] - ref.data[i])).toBeLessThanOrEqual(tol);
        expect(Math.abs(back.data[i] - ref.data[i])).toBeLessThanOrEqual(tol);
      }
      await s.release();
      m.dispose();
    });

  it('pixelUnshuffle exports as SpaceToDepth + channel shuffle that onnxruntime-node runs as torch does', async () => {
    const x = syntheticInput([1, 3, 6, 9]);
    const m = await oneNode(x.shape, (b, v) => b.pixelUnshuffle(v, 3));
    const bytes = exportOnnx(m);
    // (the Identity names the graph output 'y')
    expect(parseOnnx(bytes).graph.nodes.map((n) => n.op).filter((op) => op !== 'Identity')).toEqual(['SpaceToDepth', 'Reshape', 'Transpose', 'Reshape']);
    const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
    const res = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
    expect(Array.from(res[s.outputNames[0]].data as Float32Array)).toEqual(Array.from(spaceToDepthRef(x, 3, 'CRD').data));
    await s.release();
    m.dispose();
  });
});

interface UpscaleFixture {
  image: { width: number; height: number; rgb: number[] };
  cases: { name: string; model: string; options: { scale: 2 | 3 | 4; channels: 1 | 3 }; shape: number[]; float: number[]; rgb8: number[] }[];
}

describe('upscale', () => {
  const fx = JSON.parse(readFileSync(new URL('./fixtures/superres-upscale.json', import.meta.url), 'utf8')) as UpscaleFixture;
  const { width, height } = fx.image;
  const raw = { data: Uint8Array.from(fx.image.rgb), width, height, channels: 3 as const };

  /** The fixture's weights: synthetic, with the last conv scaled by 0.25 and its bias raised by 0.5 (tools/superres_fixtures.py). */
  async function fixtureModel(c: UpscaleFixture['cases'][number]): Promise<Model> {
    const b = modelBuilder(c.model, { ...c.options, inputSize: [height, width] });
    const w = syntheticWeights(b.weightShapes());
    const lw = w.get('last_part.0.weight')!;
    const lb = w.get('last_part.0.bias')!;
    w.set('last_part.0.weight', { data: lw.data.map((v) => v * 0.25), shape: lw.shape });
    w.set('last_part.0.bias', { data: lb.data.map((v) => Math.fround(v + 0.5)), shape: lb.shape });
    return b.build(w);
  }

  for (const c of fx.cases)
    it(`${c.name}: equals PyTorch's round trip (float within 1e-4, 8-bit within 1 level), from pixels and from a tensor`, async () => {
      const m = await fixtureModel(c);
      const fromTensor = await upscale({ data: Float32Array.from(fx.image.rgb, (v) => v / 255), shape: [1, height, width, 3] }, m).catch((e) => e);
      // an NHWC-shaped tensor is refused (channels must be axis 1)
      expect(fromTensor).toBeInstanceOf(ValueError);
      const planar = new Float32Array(3 * width * height);
      for (let p = 0; p < width * height; p++) for (let ch = 0; ch < 3; ch++) planar[ch * width * height + p] = fx.image.rgb[3 * p + ch] / 255;
      for (const src of [raw, { data: planar, shape: [1, 3, height, width] }]) {
        const r = await upscale(src, m);
        expect([r.height, r.width]).toEqual(c.shape.slice(2));
        expect(r.tensor.shape).toEqual(c.shape);
        let worst = 0;
        c.float.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - r.tensor.data[i]))));
        expect(worst).toBeLessThanOrEqual(1e-4);
        // 8-bit: round(255 v) of values within 1e-4 differ by at most one level
        const P = r.width * r.height;
        let off = 0;
        for (let p = 0; p < P; p++) {
          for (let ch = 0; ch < 3; ch++) {
            const d = Math.abs(r.data[4 * p + ch] - c.rgb8[3 * p + ch]);
            expect(d).toBeLessThanOrEqual(1);
            off += d;
          }
          expect(r.data[4 * p + 3]).toBe(255);
        }
        expect(off).toBeLessThan(P * 3 * 0.01); // and almost all equal
        expect(r.data).toBeInstanceOf(Uint8ClampedArray);
      }
      m.dispose();
    });

  it('refuses an image the model is not planned for (naming both sizes), values outside [0, 1], and non-image models', async () => {
    const m = await createModel('espcn', { scale: 2, inputSize: [8, 8], weights: syntheticWeights(modelBuilder('espcn', { scale: 2, inputSize: 8 }).weightShapes()) });
    await expect(upscale(raw, m)).rejects.toThrow(/upscale: the model does not take this 13x17 image.*inputSize: \[17, 13\]/);
    await expect(upscale({ data: new Float32Array(64).fill(1.5), shape: [1, 1, 8, 8] }, m)).rejects.toThrow(/\[0, 1\].*index 0 holds 1.5/);
    await expect(upscale({ data: new Float32Array(64), shape: [1, 2, 4, 8] }, m)).rejects.toBeInstanceOf(ValueError);
    m.dispose();
    const clf = modelBuilder('lenet5');
    const lenet = await clf.build(syntheticWeights(clf.weightShapes()));
    await expect(upscale({ data: new Float32Array(32 * 32), shape: [1, 1, 32, 32] }, lenet)).rejects.toThrow(/output \[1, 10\] is not/);
    lenet.dispose();
  });
});
