// Compound scaling and the study's forms (issue 17, items 2 and 5).
//   * EfficientNet (Tan & Le 2019, section 3.3): efficientnetScaled with the published B1-B7
//     coefficients has torchvision's efficientnet_b1..b7 state_dict, compared block by block with
//     the names and shapes tools/zoo_fixtures.py stored from torchvision (test/fixtures/zoo); the
//     φ form's multipliers and structure against the paper's equation 3 written out here.
//   * convOutputSize against the study's worked numbers (LeNet-5 32→28→14→10→5; AlexNet's first
//     layer 224, kernel 11, stride 4, padding 2 → 55) and against the shapes the engine infers.
//   * summary() lists every layer's output size.
//   * lenet5_classic (LeCun et al. 1998, section II.B) trains: a few trainStep calls on MNIST
//     digits lower the loss (its forward is checked against tools/zoo/lenet.py by test/zoo.test.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  adam, convOutputSize, EFFICIENTNET_PUBLISHED, efficientnetScaled, efficientnetScaling, GraphBuilder, initWeights,
  LENET5_C3_TABLE, modelBuilder, ValueError,
} from '../src/index';
import { syntheticWeights } from '../src/weights/synthetic';
import { loadMnistSplit } from '../src/data/mnist';

const fixtureKeys = (name: string) =>
  (JSON.parse(readFileSync(new URL(`./fixtures/zoo/${name}.json`, import.meta.url), 'utf8')) as { keys: Record<string, number[]> }).keys;

/** state_dict entries grouped by block: features.<stage>.<block> (stem, last conv and classifier by their module). */
function blocks(keys: Iterable<[string, number[]]>): Map<string, string> {
  const out = new Map<string, string[]>();
  for (const [k, s] of keys) {
    const m = /^features\.\d+\.\d+(?=\.block\.)/.exec(k) ?? /^(features\.\d+|classifier\.\d+)/.exec(k);
    const blk = m ? m[0] : k;
    if (!out.has(blk)) out.set(blk, []);
    out.get(blk)!.push(`${k.slice(blk.length)}:${s.join('x')}`);
  }
  return new Map([...out].map(([k, v]) => [k, v.sort().join(' ')]));
}

describe('EfficientNet compound scaling', () => {
  const published = Object.entries(EFFICIENTNET_PUBLISHED);

  it.each(published)('%s: the coefficient form gives torchvision\'s network block by block', (name, c) => {
    const b = efficientnetScaled({ width: c.width, depth: c.depth, resolution: c.resolution });
    expect(b.graph.inputs[0].shape).toEqual([1, 3, c.resolution, c.resolution]);
    const ours = blocks(b.weightShapes());
    const ref = blocks(Object.entries(fixtureKeys(name)));
    expect([...ours.keys()]).toEqual([...ref.keys()]);
    for (const [blk, sig] of ref) expect(ours.get(blk), blk).toBe(sig);
    // and the zoo entry is that builder
    expect(modelBuilder(name).weightShapes()).toEqual(b.weightShapes());
  });

  it('the published coefficients are not one φ apart (the authors tuned them)', () => {
    // equation 3 with the grid-search α = 1.2, β = 1.1: B_k's depth and width would be 1.2^k and 1.1^k
    const rows = published.slice(1).map(([name, c], i) => ({ name, phiDepth: Math.log(c.depth) / Math.log(1.2), phiWidth: Math.log(c.width) / Math.log(1.1), k: i + 1 }));
    // B1 widens nothing (width 1.0: φ_width 0) while deepening (φ_depth 0.52); B7's depth 3.1 is φ 6.2
    expect(rows[0].phiWidth).toBe(0);
    expect(rows[0].phiDepth).toBeCloseTo(0.523, 3);
    expect(rows[6].phiDepth).toBeCloseTo(6.206, 3);
    // B2 is φ = 1 exactly (1.2, 1.1) and B3, B4 nearly so; B1, B5, B6, B7 have depth and width
    // more than half a step of φ apart: no single φ gives both
    expect(rows.filter((r) => Math.abs(r.phiDepth - r.phiWidth) > 0.5).map((r) => r.name)).toEqual(
      ['efficientnet_b1', 'efficientnet_b5', 'efficientnet_b6', 'efficientnet_b7']);
    expect(rows[1].phiDepth).toBeCloseTo(1, 12);
    expect(rows[1].phiWidth).toBeCloseTo(1, 12);
    // and B_k is not φ = k: B7's width is φ 7.27, its depth φ 6.21
  });

  it('the φ form: depth α^φ, width β^φ, resolution 224·γ^φ to a multiple of 4; α·β²·γ² ≈ 2', () => {
    expect(1.2 * 1.1 ** 2 * 1.15 ** 2).toBeCloseTo(1.92, 2); // the paper's "≈ 2"
    const want = [224, 256, 296, 340, 392, 452, 520, 596]; // 224·1.15^φ = 224, 257.6, 296.2, 340.7, 391.8, 450.5, 518.1, 595.8
    for (let phi = 0; phi <= 7; phi++) {
      const s = efficientnetScaling({ phi });
      expect(s.depth).toBeCloseTo(1.2 ** phi, 12);
      expect(s.width).toBeCloseTo(1.1 ** phi, 12);
      expect(s.resolution % 4).toBe(0);
      expect(Math.abs(s.resolution - 224 * 1.15 ** phi)).toBeLessThanOrEqual(2);
      expect(s.resolution).toBe(want[phi]);
    }
    // φ = 0 is B0
    expect(efficientnetScaled({ phi: 0 }).weightShapes()).toEqual(modelBuilder('efficientnet_b0').weightShapes());
    // other bases
    expect(efficientnetScaling({ phi: 2, alpha: 1.4, beta: 1.2, gamma: 1 })).toEqual({ depth: 1.4 ** 2, width: 1.2 ** 2, resolution: 224 });
  });

  it('the φ = 3 network: B0\'s stages repeated ceil(n·1.2³) times, channels round(c·1.1³) to 8', () => {
    const b = efficientnetScaled({ phi: 3 });
    const keys = [...b.weightShapes().keys()];
    const B0 = [[1, 16], [2, 24], [2, 40], [3, 80], [3, 112], [4, 192], [1, 320]]; // repeats, channels (paper Table 1)
    const d = 1.2 ** 3; // 1.728
    const w = 1.1 ** 3; // 1.331
    const expectedRepeats = [2, 4, 4, 6, 6, 7, 2]; // ceil(n·1.728) by hand
    const expectedChannels = [24, 32, 56, 104, 152, 256, 424]; // c·1.331 = 21.3 31.9 53.2 106.5 149.1 255.6 425.9 to the nearest 8 (≥ 90%)
    B0.forEach(([n, c], s) => {
      expect(Math.ceil(n * d)).toBe(expectedRepeats[s]);
      const blocksOfStage = new Set(keys.filter((k) => k.startsWith(`features.${s + 1}.`)).map((k) => k.split('.')[2]));
      expect(blocksOfStage.size, `stage ${s + 1}`).toBe(expectedRepeats[s]);
      const project = keys.filter((k) => new RegExp(`^features\\.${s + 1}\\.0\\.block\\.\\d\\.0\\.weight$`).test(k)).pop()!;
      expect(b.weightShapes().get(project)![0], `stage ${s + 1} channels (c·w = ${(c * w).toFixed(1)})`).toBe(expectedChannels[s]);
    });
    expect(b.graph.inputs[0].shape).toEqual([1, 3, 340, 340]);
  });

  it('widthMultiplier multiplies the width coefficient; options pass through; bad scalings are ValueErrors', () => {
    const half = efficientnetScaled({ width: 1.0, depth: 1.0 }, { widthMultiplier: 0.5 });
    expect(half.weightShapes()).toEqual(modelBuilder('efficientnet_b0', { widthMultiplier: 0.5 }).weightShapes());
    expect(half.weightShapes().get('features.0.0.weight')).toEqual([16, 3, 3, 3]); // 32·0.5
    const b = efficientnetScaled({ phi: 1 }, { numClasses: 7, batch: 2, inputSize: 97 });
    expect(b.graph.inputs[0].shape).toEqual([2, 3, 97, 97]);
    expect(b.shape(b.graph.outputs[0].name)).toEqual([2, 7]);
    for (const bad of [{ phi: 1, width: 1.2 }, { phi: -1 }, { width: 0 }, { depth: Number.NaN }, { alpha: 1.2 }, { phi: 1, alpha: 0.9 }, { resolution: 200.5 }])
      expect(() => efficientnetScaled(bad), JSON.stringify(bad)).toThrow(ValueError);
  });
});

describe('convOutputSize', () => {
  it("gives the study's worked numbers", () => {
    // LeNet-5: 32 -(5x5 conv)-> 28 -(2x2 pool, stride 2)-> 14 -(5x5 conv)-> 10 -(pool)-> 5
    const c1 = convOutputSize(32, 5);
    const s2 = convOutputSize(c1, 2, 2);
    const c3 = convOutputSize(s2, 5);
    const s4 = convOutputSize(c3, 2, 2);
    expect([c1, s2, c3, s4]).toEqual([28, 14, 10, 5]);
    expect(convOutputSize(5, 5)).toBe(1); // C5
    // AlexNet (torchvision): conv 11x11, stride 4, padding 2 on 224 -> 55; maxpool 3/2 -> 27
    expect(convOutputSize(224, 11, 4, 2)).toBe(55);
    expect(convOutputSize(55, 3, 2)).toBe(27);
    // the paper's 227 without padding gives 55 too
    expect(convOutputSize(227, 11, 4)).toBe(55);
  });

  it('handles stride remainders, padding and dilation as the formula says', () => {
    expect(convOutputSize(7, 3, 2, 1)).toBe(4); // (7 + 2 - 3) / 2 + 1
    expect(convOutputSize(8, 3, 2, 1)).toBe(4); // floor(7 / 2) + 1
    expect(convOutputSize(10, 3, 1, 2, 2)).toBe(10); // dilated 3x3 spans 5: "same"
    expect(convOutputSize(11, 3, 3, 0, 3)).toBe(2); // span 7: floor(4 / 3) + 1
    expect(convOutputSize(1, 1)).toBe(1);
    for (const bad of [[0, 3], [5, 0], [5, 3, 0], [5, 3, 1, -1], [5, 3, 1, 0, 0], [5.5, 3], [2, 3]])
      expect(() => convOutputSize(...(bad as [number, number])), String(bad)).toThrow(ValueError);
  });

  it('agrees with the shapes the engine infers for odd sizes, strides, pads and dilations', () => {
    for (const [i, k, s, p, d] of [[13, 3, 2, 1, 1], [17, 5, 3, 2, 1], [23, 3, 1, 0, 3], [9, 4, 2, 1, 2], [31, 7, 4, 3, 1]]) {
      const b = new GraphBuilder();
      const x = b.input('input', [1, 3, i, i + 2]);
      const y = b.conv(x, 'c', { out: 5, kernel: k, stride: s, pad: p, dilation: d });
      const p2 = b.maxPool(x, { kernel: k, stride: s, pad: Math.min(p, k >> 1) });
      expect(b.shape(y).slice(2)).toEqual([convOutputSize(i, k, s, p, d), convOutputSize(i + 2, k, s, p, d)]);
      expect(b.shape(p2).slice(2)).toEqual([convOutputSize(i, k, s, Math.min(p, k >> 1)), convOutputSize(i + 2, k, s, Math.min(p, k >> 1))]);
    }
  });
});

describe('summary() output sizes', () => {
  it.each(['lenet5', 'lenet5_classic'])('%s lists 28, 14, 10, 5 as its layers\' output sizes', async (name) => {
    const b = modelBuilder(name);
    const m = await b.build(syntheticWeights(b.weightShapes()));
    const table = m.summary();
    const sizes = m.layerInfo().map((l) => l.outputShape).filter((s) => s.length === 4).map((s) => s[2]);
    for (const side of [28, 14, 10, 5]) {
      expect(sizes).toContain(side);
      expect(table).toMatch(new RegExp(`\\b${side}x${side}\\b|, ${side}, ${side}\\]`));
    }
    // in the order of the network
    const firsts = [28, 14, 10, 5].map((v) => sizes.indexOf(v));
    expect([...firsts].sort((a, c) => a - c)).toEqual(firsts);
    m.dispose();
  });
});

describe('lenet5_classic (LeCun et al. 1998)', () => {
  it('has the paper\'s parameter counts per layer (section II.B) and Table I\'s connections', () => {
    const w = modelBuilder('lenet5_classic').weightShapes();
    const count = (prefix: string) => [...w].filter(([k]) => k.startsWith(prefix)).reduce((t, [, s]) => t + s.reduce((a, v) => a * v, 1), 0);
    // the paper: C1 156, S2 12, C3 1516, S4 32, C5 48120, F6 10164 trainable parameters
    expect([count('c1.'), count('s2.'), count('c3.'), count('s4.'), count('c5.'), count('f6.')]).toEqual([156, 12, 1516, 32, 48120, 10164]);
    // Table I: 6 maps read 3 S2 maps, 9 read 4, one reads all 6 — 60 connections of 5x5 kernels
    expect(LENET5_C3_TABLE.map((r) => r.length)).toEqual([3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6]);
    expect(LENET5_C3_TABLE.reduce((t, r) => t + r.length, 0)).toBe(60);
    // every S2 map feeds exactly 10 C3 maps (the table's rows)
    for (let i = 0; i < 6; i++) expect(LENET5_C3_TABLE.filter((r) => r.includes(i)).length).toBe(10);
    expect(() => modelBuilder('lenet5_classic', { inputSize: 28 })).toThrow(/lenet5_classic.*inputSize/);
  });

  it('trains with the training engine: trainStep lowers the loss on MNIST digits', async () => {
    const { train } = loadMnistSplit();
    const batch = 16;
    const b = modelBuilder('lenet5_classic', { batch });
    const m = await b.build(initWeights(b.weightShapes(), { seed: 3 }));
    const x = new Float32Array(batch * 1024);
    const t = new Int32Array(batch);
    for (let i = 0; i < batch; i++) {
      x.set(train[i].image, i * 1024);
      t[i] = train[i].label;
    }
    m.train();
    const opt = adam({ lr: 0.003 });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) losses.push(await m.trainStep({ input: { data: x, shape: [batch, 1, 32, 32] } }, t, opt));
    expect(losses.every(Number.isFinite)).toBe(true);
    console.log(`lenet5_classic losses: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    expect(losses[29]).toBeLessThan(0.5 * losses[0]);
    // S2's trainable coefficient and bias moved
    const sd = m.stateDict();
    const init = initWeights(b.weightShapes(), { seed: 3 });
    const moved = (k: string) => Array.from(sd.get(k)!.data).some((v, i) => v !== (init instanceof Map ? init.get(k)! : (init as Record<string, { data: Float32Array }>)[k]).data[i]);
    expect(moved('s2.weight') && moved('s2.bias') && moved('c3.2.weight')).toBe(true);
    m.dispose();
  });
});
