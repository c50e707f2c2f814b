// Receptive field arithmetic (Araujo, Norris & Sim 2019, "Computing Receptive Fields of
// Convolutional Neural Networks"; Dang Ha The Hien 2017, "A guide to receptive field arithmetic
// for CNNs"): hand derivations for AlexNet, VGG-16 and ResNet-50 written out below, and an
// empirical probe — perturb one input pixel and see which output positions move — on networks
// whose support is dense (kernels at least as wide as the jumps before them), tanh instead of
// ReLU and average instead of max pooling so that no change is hidden.
//
// Notation per layer: r = r_in + (k_eff − 1)·j_in, j = j_in·s, start = start_in + ((k_eff − 1)/2 − p)·j_in,
// from r = 1, j = 1, start = 0 (pixel i's centre is at i).
import { describe, expect, it } from 'vitest';
import { GraphBuilder, createModel, modelBuilder } from '../src/index';
import { receptiveField, receptiveFieldTable, type ReceptiveField } from '../src/analysis/receptiveField';
import { groupConvC4, liftC4, orientationPoolC4 } from '../src/equivariant';
import type { Graph, Tensor } from '../src/graph/ir';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

function byName(rf: ReceptiveField[], name: string): ReceptiveField {
  const r = rf.find((x) => x.name === name);
  if (!r) throw new Error(`no node '${name}'`);
  return r;
}

/** The first node of `op` after node `after` (pools and activations are auto-named). */
function nextOp(g: Graph, rf: ReceptiveField[], after: string, op: string): ReceptiveField {
  const i = g.nodes.findIndex((n) => n.name === after);
  const n = g.nodes.slice(i + 1).find((m) => m.op === op);
  if (!n) throw new Error(`no ${op} after '${after}'`);
  return byName(rf, n.name);
}

/** The node just before `name` in graph order. */
function before(g: Graph, rf: ReceptiveField[], name: string): ReceptiveField {
  const i = g.nodes.findIndex((n) => n.name === name);
  return byName(rf, g.nodes[i - 1].name);
}

const sq = (size: number, jump: number, start: number) => ({ size: [size, size], jump: [jump, jump], start: [start, start] });
const pick = (r: ReceptiveField) => ({ size: r.size, jump: r.jump, start: r.start });

describe('receptive field arithmetic', () => {
  it('AlexNet (torchvision)', () => {
    const g = modelBuilder('alexnet').graph;
    const rf = receptiveField(g);
    // conv1 11x11/4 p2:  r = 1 + 10·1 = 11,    j = 4,  start = 0 + (5 − 2)·1 = 3
    expect(pick(byName(rf, 'features.0'))).toEqual(sq(11, 4, 3));
    // pool1 3x3/2:       r = 11 + 2·4 = 19,    j = 8,  start = 3 + (1 − 0)·4 = 7
    expect(pick(nextOp(g, rf, 'features.0', 'MaxPool'))).toEqual(sq(19, 8, 7));
    // conv2 5x5 p2:      r = 19 + 4·8 = 51,    j = 8,  start = 7 + (2 − 2)·8 = 7
    expect(pick(byName(rf, 'features.3'))).toEqual(sq(51, 8, 7));
    // pool2 3x3/2:       r = 51 + 2·8 = 67,    j = 16, start = 7 + 1·8 = 15
    expect(pick(nextOp(g, rf, 'features.3', 'MaxPool'))).toEqual(sq(67, 16, 15));
    // conv3, conv4, conv5 3x3 p1: r = 67 + 32 = 99, 131, 163; j = 16, start = 15
    expect(pick(byName(rf, 'features.6'))).toEqual(sq(99, 16, 15));
    expect(pick(byName(rf, 'features.8'))).toEqual(sq(131, 16, 15));
    expect(pick(byName(rf, 'features.10'))).toEqual(sq(163, 16, 15));
    // pool5 3x3/2:       r = 163 + 2·16 = 195, j = 32, start = 15 + 1·16 = 31
    // (the quoted "195" is pool5, with jump 32; the last conv, conv5, has 163 and jump 16)
    const pool5 = nextOp(g, rf, 'features.10', 'MaxPool');
    expect(pick(pool5)).toEqual(sq(195, 32, 31));
    // the adaptive 6x6 pool is the identity at 224 (pool5 is 6x6); flatten and the classifier
    // see the whole input: the union of pool5's 6 positions: 195 + 5·32 = 355 wide
    const fc = byName(rf, 'classifier.1');
    expect(fc.global).toBe(true);
    expect(fc.size).toEqual([355, 355]);
    expect(rf.every((r) => r.aligned)).toBe(true);
  });

  it('VGG-16', () => {
    const g = modelBuilder('vgg16').graph;
    const rf = receptiveField(g);
    // stage 1: conv1_1, conv1_2 (3x3 p1): r = 3, 5 (j 1, start 0)
    expect(pick(byName(rf, 'features.2'))).toEqual(sq(5, 1, 0));
    // pool1 2x2/2:  r = 5 + 1·1 = 6,   j = 2,  start = 0 + (0.5 − 0)·1 = 0.5
    expect(pick(nextOp(g, rf, 'features.2', 'MaxPool'))).toEqual(sq(6, 2, 0.5));
    // stage 2: +2·2 twice: 10, 14; pool2: 14 + 1·2 = 16, j = 4, start = 0.5 + 0.5·2 = 1.5
    expect(pick(byName(rf, 'features.7'))).toEqual(sq(14, 2, 0.5));
    expect(pick(nextOp(g, rf, 'features.7', 'MaxPool'))).toEqual(sq(16, 4, 1.5));
    // stage 3: +2·4 three times: 24, 32, 40; pool3: 40 + 4 = 44, j = 8, start = 1.5 + 0.5·4 = 3.5
    expect(pick(byName(rf, 'features.14'))).toEqual(sq(40, 4, 1.5));
    expect(pick(nextOp(g, rf, 'features.14', 'MaxPool'))).toEqual(sq(44, 8, 3.5));
    // stage 4: +2·8 three times: 60, 76, 92; pool4: 92 + 8 = 100, j = 16, start = 3.5 + 0.5·8 = 7.5
    expect(pick(byName(rf, 'features.21'))).toEqual(sq(92, 8, 3.5));
    expect(pick(nextOp(g, rf, 'features.21', 'MaxPool'))).toEqual(sq(100, 16, 7.5));
    // stage 5: +2·16 three times: conv5_1 132, conv5_2 164, conv5_3 196 (j 16, start 7.5)
    expect(pick(byName(rf, 'features.24'))).toEqual(sq(132, 16, 7.5));
    expect(pick(byName(rf, 'features.28'))).toEqual(sq(196, 16, 7.5));
    // pool5 2x2/2: 196 + 1·16 = 212, j = 32, start = 7.5 + 0.5·16 = 15.5
    // (the quoted "212" is pool5's, with jump 32; conv5_3 has 196 and jump 16)
    expect(pick(nextOp(g, rf, 'features.28', 'MaxPool'))).toEqual(sq(212, 32, 15.5));
  });

  it('ResNet-50 (torchvision v1.5), on the built model', async () => {
    const b = modelBuilder('resnet50');
    const m = await createModel('resnet50', { weights: syntheticWeights(b.weightShapes()) });
    const g = m.sourceGraph;
    const rf = receptiveField(m);
    // conv1 7x7/2 p3:   r = 7,              j = 2,  start = 0 + (3 − 3)·1 = 0
    expect(pick(byName(rf, 'conv1'))).toEqual(sq(7, 2, 0));
    // maxpool 3x3/2 p1: r = 7 + 2·2 = 11,   j = 4,  start = 0 + (1 − 1)·2 = 0
    const stem = before(g, rf, 'layer1.0.conv1');
    expect(stem.op).toBe('MaxPool');
    expect(pick(stem)).toEqual(sq(11, 4, 0));
    // layer1: three bottlenecks, each one 3x3 at j 4 (+8; 1x1 convs add nothing, the shortcut
    // is narrower and the Add takes the union): 11 + 3·8 = 35, j 4, start 0
    expect(pick(byName(rf, 'layer1.0.conv2'))).toEqual(sq(19, 4, 0));
    const layer1 = before(g, rf, 'layer2.0.conv1');
    expect(layer1.op).toBe('Relu');
    expect(pick(layer1)).toEqual(sq(35, 4, 0));
    // layer2.0: 3x3/2 p1 at j 4: 35 + 8 = 43, j 8, start 0 + (1 − 1)·4 = 0; shortcut 1x1/2: 35, j 8, start 0
    expect(pick(byName(rf, 'layer2.0.conv2'))).toEqual(sq(43, 8, 0));
    expect(pick(byName(rf, 'layer2.0.downsample.0'))).toEqual(sq(35, 8, 0));
    // layer2.1..3: +16 each: 43 + 48 = 91, j 8
    const layer2 = before(g, rf, 'layer3.0.conv1');
    expect(pick(layer2)).toEqual(sq(91, 8, 0));
    // layer3.0: 91 + 2·8 = 107, j 16; layer3.1..5: +32 each: 107 + 160 = 267
    expect(pick(before(g, rf, 'layer4.0.conv1'))).toEqual(sq(267, 16, 0));
    // layer4.0: 267 + 2·16 = 299, j 32; layer4.1..2: +64 each: 299 + 128 = 427 (the quoted 427)
    const gap = g.nodes.find((n) => n.op === 'GlobalAveragePool')!;
    const layer4 = before(g, rf, gap.name);
    expect(layer4.op).toBe('Relu');
    expect(pick(layer4)).toEqual(sq(427, 32, 0));
    // global pool over the 7x7 map: 427 + 6·32 = 619 wide, centred on 3·32 = 96
    const pooled = byName(rf, gap.name);
    expect(pooled.global).toBe(true);
    expect(pick(pooled)).toEqual(sq(619, 224, 96));
    expect(byName(rf, 'fc').global).toBe(true);
    // the summary table reads the same numbers
    const table = receptiveFieldTable(m);
    expect(table).toMatch(new RegExp(`${layer4.name}\\s+Relu\\s+427\\s+32\\s+0`));
    expect(table).toMatch(/fc\s+Gemm\s+whole input/);
  });

  it('SE gates make the field global unless ignored; ConvNeXt per-pixel Gemm stays local', () => {
    const se = modelBuilder('seresnet50').graph;
    const gap = se.nodes.filter((n) => n.op === 'GlobalAveragePool').pop()!;
    // every block's output is gated by a squeeze-excitation of the whole map
    expect(before(se, receptiveField(se), gap.name).global).toBe(true);
    // the convolutions alone: ResNet-50's 427
    expect(pick(before(se, receptiveField(se, { ignoreGates: true }), gap.name))).toEqual(sq(427, 32, 0));
    // ConvNeXt-T: stem 4x4/4: r 4, j 4, start 1.5; stage 1: three 7x7 depthwise at j 4: 4 + 3·24 = 76;
    // downsample 2x2/2: 80, j 8, start 1.5 + 0.5·4 = 3.5; stage 2: 3·48 → 224; downsample: 232,
    // j 16, start 7.5; stage 3: 9·96 → 1096; downsample: 1112, j 32, start 15.5; stage 4: 3·192
    // → 1688. The block's pointwise layers are Gemms on [N·H·W, C] rows: per pixel.
    const cx = modelBuilder('convnext_tiny', { batch: 2 }).graph;
    const rf = receptiveField(cx);
    const cgap = cx.nodes.find((n) => n.op === 'GlobalAveragePool')!;
    expect(pick(before(cx, rf, cgap.name))).toEqual(sq(1688, 32, 15.5));
    expect(rf.filter((r) => r.op === 'Gemm' && !r.global).length).toBeGreaterThan(0);
  });

  it('unaligned merges report the largest jump; broadcast gates make the field global', () => {
    const b = new GraphBuilder();
    const x = b.input('input', [1, 2, 16, 16]);
    const a = b.conv(x, 'a', { out: 2, kernel: 3, stride: 2, pad: 1 }); // 8x8, j 2
    const c = b.conv(x, 'c', { out: 2, kernel: 2, stride: 2 }); // 8x8, j 2, start 0.5
    const d = b.conv(x, 'd', { out: 2, kernel: 1, pad: [0, 0, 0, 0] }); // 16x16, j 1
    const dd = b.avgPool(d, { kernel: 2, stride: 2 }); // 8x8, j 2
    const s = b.add(a, c); // union: [−1, 1] ∪ [0, 1] → r 3, start 0
    b.output(b.mul(s, b.node('Sigmoid', [b.globalAvgPool(dd)])[0]), 'gated');
    // jumps 1 and 2 on the same 8x8 grid: a 9x9 valid conv (r 9, j 1, start 4) + a 1x1/2 (r 1, j 2, start 0)
    const mixed = b.add(b.conv(x, 'u', { out: 2, kernel: 9 }), b.conv(x, 'v', { out: 2, kernel: 1, stride: 2 }));
    const up = b.node('ConvTranspose', [a, b.param('t.weight', [2, 2, 4, 4])], { strides: [2, 2], pads: [1, 1, 1, 1] }, 1, 'up')[0];
    b.output(up, 'up_out');
    const rf = receptiveField(b.graph);
    expect(pick(byName(rf, s))).toEqual(sq(3, 2, 0));
    expect(byName(rf, 'gated').global).toBe(true);
    // union [0, 8] ∪ [0, 0]: r 9, start 4, the larger jump 2, not aligned
    expect(pick(byName(rf, mixed))).toEqual(sq(9, 2, 4));
    expect(byName(rf, mixed).aligned).toBe(false);
    // ConvTranspose 4x4/2 p1 after 'a' (r 3, j 2, start 0): output o reaches input steps
    // (o + 1 − κ)/2: o = 0 → {0, −1}, o = 1 → {1, 0}; about the centre line (o − 0.5)/2 these span
    // [−0.75, 0.75]: r = 3 + 1.5·2 = 6, j = 1, start = 0 + (−0.25)·2 = −0.5
    expect(pick(byName(rf, 'up'))).toEqual(sq(6, 1, -0.5));
  });

  it('follows the reshapes of orientation pooling (C4 layers are convs)', () => {
    const b = new GraphBuilder();
    const x = b.input('input', [1, 3, 15, 15]);
    const l = liftC4(b, x, 'lift', { out: 2, kernel: 3, pad: 1 });
    const gc = groupConvC4(b, b.relu(l), 'gc', { out: 2, kernel: 5, stride: 2, pad: 2 });
    const p = orientationPoolC4(b, gc, 'max');
    b.output(p);
    const rf = receptiveField(b.graph);
    // lift 3x3: r 3; gc 5x5/2 p2: r = 3 + 4 = 7, j 2, start 0 + (2 − 2) = 0
    expect(pick(byName(rf, gc))).toEqual(sq(7, 2, 0));
    expect(pick(byName(rf, p))).toEqual(sq(7, 2, 0));
    expect(byName(rf, p).global).toBe(false);
  });
});

/**
 * Perturb input pixels one at a time and compare the output positions (of each named value) that
 * change with those whose receptive-field box holds the pixel: equal sets, or (exact = false)
 * moved ⊆ box, for inputs whose border rows a floor-mode window drops (the box is an upper bound).
 */
async function probe(
  b: GraphBuilder, layers: string[], shape: number[], pixels: [number, number][], exact = true,
): Promise<{ rf: ReceptiveField[]; check: () => void }> {
  for (const v of layers) b.output(v);
  const m = await b.build(syntheticWeights(b.weightShapes()));
  const rf = receptiveField(m);
  const base: Tensor = syntheticInput(shape, 'rf-probe');
  for (let i = 0; i < base.data.length; i++) base.data[i] = 0.5 + 0.25 * base.data[i]; // positive
  const y0 = m.runSync({ input: base });
  const [N, C, H, W] = shape;
  const check = () => {
    const reached = new Map<string, number>();
    for (const [py, px] of pixels) {
      const t = { data: base.data.slice(), shape };
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) t.data[((n * C + c) * H + py) * W + px] += 0.75;
      const y1 = m.runSync({ input: t });
      for (const v of layers) {
        const r = byName(rf, v);
        const [, OC, OH, OW] = y0[v].shape;
        let predicted = 0;
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            const inside =
              Math.abs(py - (r.start[0] + oh * r.jump[0])) <= (r.size[0] - 1) / 2 &&
              Math.abs(px - (r.start[1] + ow * r.jump[1])) <= (r.size[1] - 1) / 2;
            let moved = false;
            for (let c = 0; c < OC && !moved; c++) moved = y1[v].data[(c * OH + oh) * OW + ow] !== y0[v].data[(c * OH + oh) * OW + ow];
            const where = `${v} (${r.op}) at (${oh}, ${ow}) for pixel (${py}, ${px}): rf ${r.size} jump ${r.jump} start ${r.start}`;
            if (exact) expect(moved, where).toBe(inside);
            else if (moved) expect(inside, where).toBe(true);
            predicted += +inside;
          }
        reached.set(v, (reached.get(v) ?? 0) + predicted);
      }
    }
    // (a pixel may reach nothing: AlexNet's 131x131 drops its last rows at the first pool)
    for (const v of layers) expect(reached.get(v), `${v} moved somewhere`).toBeGreaterThan(0);
  };
  return { rf, check };
}

describe('receptive field probe (perturb one pixel, see what moves)', () => {
  it('branches, dilation, asymmetric pads, stride, average pool and a strided shortcut', async () => {
    const b = new GraphBuilder();
    const shape = [1, 2, 41, 37];
    const x = b.input('input', shape);
    const t = (v: string) => b.act('Tanh', v);
    const a = t(b.conv(x, 'a', { out: 4, kernel: 3, pad: 1 })); //              r 3, j 1, start 0
    const b1 = t(b.conv(a, 'b1', { out: 3, kernel: 1 })); //                     r 3
    const b2 = t(b.conv(a, 'b2', { out: 3, kernel: 5, pad: 2 })); //             r 7
    const b3 = t(b.conv(a, 'b3', { out: 3, kernel: 3, pad: 2, dilation: 2 })); // r 7 (k_eff 5)
    const cat = b.concat([b1, b2, b3]); //                                        r 7 (union)
    const d = t(b.conv(cat, 'd', { out: 4, kernel: 4, stride: 2, pad: [1, 2, 2, 1] })); // r 10, j 2, start (0 + 1.5 − 1, 0 + 1.5 − 2) = (0.5, −0.5)
    const p = b.avgPool(d, { kernel: 3, stride: 2, pad: 1 }); //                r 14, j 4, start (0.5, −0.5)
    const e = b.conv(d, 'e', { out: 4, kernel: 3, stride: 2, pad: 1 }); //      r 14, j 4
    const f = t(b.add(b.conv(p, 'f', { out: 4, kernel: 1 }), e)); //            r 14
    const g2 = b.conv(f, 'g', { out: 2, kernel: 2 }); //                        r 18, j 4, start (2.5, 1.5)
    const layers = [a, b1, b2, b3, cat, d, p, e, f, g2];
    const { rf, check } = await probe(b, layers, shape, [[0, 0], [20, 18], [40, 36], [7, 30], [33, 3], [1, 36]]);
    expect(pick(byName(rf, cat))).toEqual(sq(7, 1, 0));
    expect(pick(byName(rf, d))).toEqual({ size: [10, 10], jump: [2, 2], start: [0.5, -0.5] });
    expect(pick(byName(rf, f))).toEqual({ size: [14, 14], jump: [4, 4], start: [0.5, -0.5] });
    expect(pick(byName(rf, g2))).toEqual({ size: [18, 18], jump: [4, 4], start: [2.5, 1.5] });
    check();
  });

  for (const [size, exact] of [[127, true], [131, false]] as const)
    it(`AlexNet's geometry at ${size}x${size} (tanh and average pools, 4 channels)`, async () => {
      // 127 = 4·30 + 7: conv1 gives 31 positions reading every pixel, 31 → 15 → 7 → 3 through
      // the 3x3/2 pools with none left over, so the moved set must equal the box exactly. At 131
      // conv1 gives 32 positions and pool1 drops the last one: pixels 129, 130 reach nothing
      // from pool1 on, while the boxes of the bottom/right positions still hold them.
      const b = new GraphBuilder();
      const shape = [1, 3, size, size];
      let x = b.input('input', shape);
      const layers: string[] = [];
      const convs: [number, number, number, boolean][] = [[11, 4, 2, true], [5, 1, 2, true], [3, 1, 1, false], [3, 1, 1, false], [3, 1, 1, true]];
      convs.forEach(([k, s, p, pool], i) => {
        x = b.act('Tanh', b.conv(x, `conv${i + 1}`, { out: 4, kernel: k, stride: s, pad: p }));
        layers.push(x);
        if (pool) layers.push((x = b.avgPool(x, { kernel: 3, stride: 2 })));
      });
      const { rf, check } = await probe(b, layers, shape, [[0, 0], [63, 64], [size - 1, 3], [50, size - 2], [size - 1, size - 1]], exact);
      // the same arithmetic as torchvision's AlexNet above: 11, 19, 51, 67, 99, 131, 163, 195
      expect(layers.map((v) => byName(rf, v).size[0])).toEqual([11, 19, 51, 67, 99, 131, 163, 195]);
      check();
    });
});
