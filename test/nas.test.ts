// Latency-aware NAS (MnasNet's reward, Tan et al. 2019; regularized evolution, Real et al. 2019):
// the space's encoding and mutation, the reward and the Pareto front against numbers worked out
// by hand, a candidate's parameter count from the MBConv formula, the table prediction as a sum
// of entries, aging in the evolution (every parent is one of the last P candidates), evolution
// against random search on a known score, the SVG's structure, and one real tiny search on MNIST.
import { describe, expect, it } from 'vitest';
import {
  ValueError, archInSpace, archKey, archTableKeys, buildCandidate, candidateModel, measureNasTable, mnasReward, mutateArch, nasPredictionError, nasSearch,
  nasSpace, nasTableFromJSON, nasTableKeys, paretoFront, paretoSvg, predictNasLatency, randomArch, spaceSize,
  type NasArch, type NasLatencyTable, type NasSpace,
} from '../src/index';
import { Rng } from '../src/train/rng';
import { loadMnistSplit } from '../src/data/mnist';

/** Two stages on a 12x12 one-channel input, two options per choice. */
const tiny: NasSpace = {
  inputChannels: 1,
  inputSize: 12,
  stem: { out: 8, kernel: 3, stride: 2 },
  stages: [
    { out: 8, stride: 1, kernels: [3, 5], expansions: [3, 6], se: [false, true], depths: [1, 2] },
    { out: 16, stride: 2, kernels: [3, 5], expansions: [3, 6], se: [false, true], depths: [1, 2] },
  ],
  head: { out: 0, classes: 10 },
};

/** A table whose every entry is `value(key, i)`. */
function fakeTable(space: NasSpace, value: (key: string, i: number) => number): NasLatencyTable {
  return { version: 1, kind: 'nas-blocks', machine: 'test', batch: 1, ms: Object.fromEntries(nasTableKeys(space).map((k, i) => [k, value(k, i)])) };
}

/** Number of (stage, choice) positions where a and b differ. */
function differences(a: NasArch, b: NasArch): number {
  let n = 0;
  a.forEach((c, i) => {
    for (const d of ['kernel', 'expansion', 'se', 'depth'] as const) if (c[d] !== b[i][d]) n++;
  });
  return n;
}

describe('search space', () => {
  it('counts, draws and mutates within the space', () => {
    // 3 kernels x 2 expansions x 2 SE x 3 depths = 36 per stage, four stages
    expect(spaceSize(nasSpace())).toBe(36 ** 4);
    expect(spaceSize(tiny)).toBe(16 * 16);
    const gen = new Rng(7);
    const rng = () => gen.next();
    const keys = new Set<string>();
    for (let t = 0; t < 300; t++) {
      const a = randomArch(tiny, rng);
      expect(archInSpace(a, tiny)).toBe(true);
      const c = mutateArch(a, tiny, rng);
      expect(archInSpace(c, tiny)).toBe(true);
      // exactly one choice changed, the parent untouched
      expect(differences(a, c)).toBe(1);
      keys.add(archKey(a));
    }
    // 300 uniform draws from 256 architectures reach most of them
    expect(keys.size).toBeGreaterThan(150);
    expect(archInSpace([{ kernel: 7, expansion: 3, se: false, depth: 1 }, { kernel: 3, expansion: 3, se: false, depth: 1 }], tiny)).toBe(false);
    expect(archInSpace([{ kernel: 3, expansion: 3, se: false, depth: 1 }], tiny)).toBe(false);
    expect(archKey([{ kernel: 5, expansion: 6, se: true, depth: 2 }, { kernel: 3, expansion: 3, se: false, depth: 1 }])).toBe('k5e6d2+se k3e3d1');
    // a choice with one option is never mutated
    const fixedSe: NasSpace = { ...tiny, stages: tiny.stages.map((s) => ({ ...s, se: [true] })) };
    for (let t = 0; t < 50; t++) {
      const a = randomArch(fixedSe, rng);
      expect(mutateArch(a, fixedSe, rng).every((c) => c.se)).toBe(true);
    }
  });

  it('builds a candidate with the parameter count of the MBConv formula', async () => {
    const arch: NasArch = [{ kernel: 5, expansion: 3, se: true, depth: 2 }, { kernel: 3, expansion: 6, se: false, depth: 1 }];
    // by hand (BatchNorm: weight and bias, 2C; running statistics are not parameters):
    //   stem: conv 8·1·3·3 = 72, BN 16                                           =   88
    //   stage 0, each of 2 blocks (in 8, hidden 8·3 = 24, out 8):
    //     expand 8·24 = 192 + BN 48; depthwise 24·5·5 = 600 + BN 48;
    //     SE squeeze makeDivisible(24/4 = 6, 8) = 8: fc1 24·8 + 8 = 200, fc2 8·24 + 24 = 216;
    //     project 24·8 = 192 + BN 16                                            = 1512 each
    //   stage 1 (in 8, hidden 48, out 16, no SE):
    //     expand 8·48 = 384 + BN 96; depthwise 48·3·3 = 432 + BN 96; project 48·16 = 768 + BN 32 = 1808
    //   head: no 1x1 conv; classifier 16·10 + 10                                  =  170
    const expected = 88 + 2 * 1512 + 1808 + 170;
    expect(expected).toBe(5090);
    const b = buildCandidate(arch, tiny);
    // stage 0's blocks both keep 8 channels at stride 1: two residual adds; stage 1 strides
    expect(b.graph.nodes.filter((n) => n.op === 'Add').length).toBe(2);
    expect(b.shape('logits')).toEqual([1, 10]);
    const m = await candidateModel(arch, tiny, { seed: 3 });
    expect(m.paramCount).toBe(expected);
    const out = await m.run({ input: { data: new Float32Array(3 * 144).fill(0.5), shape: [3, 1, 12, 12] } });
    expect(out.logits.shape).toEqual([3, 10]);
    expect(out.logits.data.every(Number.isFinite)).toBe(true);
    m.dispose();
    expect(() => buildCandidate([{ kernel: 7, expansion: 3, se: false, depth: 1 }, arch[1]], tiny)).toThrow(ValueError);
  });
});

describe('latency table', () => {
  it('predicts the sum of the architecture\'s entries', () => {
    // stem 1; stage 0: 2 kernels x 2 expansions x 2 SE = 8 block shapes (its later blocks have
    // the first one's input shape: 8 channels, 6x6, stride 1); stage 1: 8 first blocks (8 -> 16,
    // stride 2) and 8 later ones (16 -> 16 at 3x3); head 1
    const keys = nasTableKeys(tiny);
    expect(keys.length).toBe(1 + 8 + 16 + 1);
    expect(new Set(keys).size).toBe(keys.length);
    const arch: NasArch = [{ kernel: 5, expansion: 3, se: true, depth: 2 }, { kernel: 3, expansion: 6, se: false, depth: 2 }];
    const ones = fakeTable(tiny, () => 1);
    // stem + 2 + 2 blocks + head
    expect(predictNasLatency(ones, arch, tiny)).toBe(6);
    const t = fakeTable(tiny, (_, i) => 2 ** i / 1024);
    const used = archTableKeys(arch, tiny);
    expect(used.length).toBe(6);
    expect(used[1]).toBe(used[2]); // stage 0's two blocks have one shape
    expect(used[3]).not.toBe(used[4]); // stage 1's first block strides, its second does not
    expect(predictNasLatency(t, arch, tiny)).toBe(used.reduce((a, k) => a + t.ms[k], 0));
    // changing stage 1's kernel changes only its two entries
    const other = archTableKeys([arch[0], { ...arch[1], kernel: 5 }], tiny);
    expect(other.filter((k, i) => k !== used[i]).length).toBe(2);
    const partial = { ...t, ms: { ...t.ms } };
    delete partial.ms[used[5]];
    expect(() => predictNasLatency(partial, arch, tiny)).toThrow(/no entry/);
    expect(nasTableFromJSON(JSON.stringify(t))).toEqual(t);
    expect(() => nasTableFromJSON('{"version":1,"batch":1,"ms":{}}')).toThrow(ValueError);
  });
});

describe('reward and Pareto front', () => {
  it('computes MnasNet\'s reward', () => {
    // soft, w = −0.07: 2^−0.07 = e^(−0.07·ln 2) = e^(−0.048520) = 0.952638; 0.5^−0.07 = 1.049717
    expect(mnasReward(0.8, 2, 1)).toBeCloseTo(0.8 * 0.952638, 5);
    expect(mnasReward(0.8, 0.5, 1, 'soft')).toBeCloseTo(0.8 * 1.049717, 5);
    expect(mnasReward(0.8, 1, 1)).toBe(0.8);
    // hard: α = 0 at or under the target, β = −1 over it
    expect(mnasReward(0.8, 0.5, 1, 'hard')).toBe(0.8);
    expect(mnasReward(0.8, 1, 1, 'hard')).toBe(0.8);
    expect(mnasReward(0.8, 2, 1, 'hard')).toBeCloseTo(0.4, 12);
    expect(mnasReward(0.9, 3, 2, 'hard')).toBeCloseTo(0.6, 12);
    // explicit exponents: 4^−0.5 = 1/2, 0.25^−0.5 = 2
    expect(mnasReward(0.8, 4, 1, { alpha: -0.5, beta: -0.5 })).toBeCloseTo(0.4, 12);
    expect(mnasReward(0.8, 0.25, 1, { alpha: -0.5, beta: 0 })).toBeCloseTo(1.6, 12);
    expect(() => mnasReward(0.8, 1, 0)).toThrow(ValueError);
  });

  it('finds the non-dominated points', () => {
    const pts = [
      { latency: 1, accuracy: 0.5 }, // 0: front
      { latency: 2, accuracy: 0.7 }, // 1: front
      { latency: 2, accuracy: 0.6 }, // 2: beaten by 1 (same latency, less accurate)
      { latency: 3, accuracy: 0.7 }, // 3: beaten by 1 (slower, as accurate)
      { latency: 4, accuracy: 0.9 }, // 4: front
      { latency: 0.5, accuracy: 0.4 }, // 5: front (fastest)
      { latency: 5, accuracy: 0.85 }, // 6: beaten by 4
      { latency: 4, accuracy: 0.9 }, // 7: equal to 4, the first is kept
      { latency: 1.5, accuracy: 0.45 }, // 8: beaten by 0
    ];
    expect(paretoFront(pts)).toEqual([5, 0, 1, 4]);
    expect(paretoFront([])).toEqual([]);
  });
});

describe('search', () => {
  // a known score with one optimum: accuracy falls with the distance of each choice from it
  const opt: NasArch = [{ kernel: 5, expansion: 6, se: true, depth: 2 }, { kernel: 7, expansion: 3, se: false, depth: 3 }];
  const space2: NasSpace = { ...nasSpace(), stages: nasSpace().stages.slice(0, 2) };
  const score = (a: NasArch) => {
    let d = 0;
    a.forEach((c, i) => {
      d += Math.abs(c.kernel - opt[i].kernel) / 2 + Math.abs(c.expansion - opt[i].expansion) / 3 + (c.se === opt[i].se ? 0 : 1) + Math.abs(c.depth - opt[i].depth);
    });
    return 1 - d / 20;
  };
  // every entry 1 ms and a far target under the hard objective: reward = accuracy
  const table = fakeTable(space2, () => 1);

  it('ages the population: every parent is one of the last P candidates, the best of them when S = P', async () => {
    const P = 5;
    const r = await nasSearch({ space: space2, target: 100, objective: 'hard', table, score, population: P, sample: P, cycles: 30, seed: 3 });
    const c = r.candidates;
    expect(c.length).toBe(35);
    expect(c.map((x) => x.index)).toEqual(c.map((_, i) => i));
    for (const x of c.slice(0, P)) expect(x.parent).toBeUndefined();
    for (const x of c.slice(P)) {
      const p = x.parent!;
      expect(p).toBeGreaterThanOrEqual(x.index - P);
      expect(p).toBeLessThan(x.index);
      // the sample is the whole population: the parent has its highest reward (the oldest of equals)
      const window = c.slice(x.index - P, x.index);
      const best = Math.max(...window.map((w) => w.reward));
      expect(c[p].reward).toBe(best);
      expect(window.find((w) => w.reward === best)!.index).toBe(p);
      expect(differences(c[p].arch, x.arch)).toBe(1);
      expect(x.reward).toBe(x.accuracy);
    }
    // the final population is the last P candidates, whatever their rewards
    expect(r.population.map((x) => x.index)).toEqual([30, 31, 32, 33, 34]);
    expect(r.best.reward).toBe(Math.max(...c.map((x) => x.reward)));
  });

  it('evolution finds a known optimum that random search on the same budget mostly misses', async () => {
    // 36² = 1296 architectures; 100 uniform draws find the optimum with probability 1 − (1295/1296)^100 ≈ 7%
    expect(spaceSize(space2)).toBe(1296);
    const firstHit = async (strategy: 'evolution' | 'random', seed: number) => {
      const r = await nasSearch({ space: space2, target: 100, objective: 'hard', table, score, population: 10, sample: 3, cycles: 90, seed, strategy });
      expect(r.candidates.length).toBe(100);
      return r.candidates.findIndex((x) => x.key === archKey(opt));
    };
    const seeds = [1, 2, 3, 4, 5];
    const evo = await Promise.all(seeds.map((s) => firstHit('evolution', s)));
    const rnd = await Promise.all(seeds.map((s) => firstHit('random', s)));
    const found = (h: number[]) => h.filter((i) => i >= 0).length;
    expect(found(evo)).toBeGreaterThanOrEqual(4);
    expect(found(rnd)).toBeLessThan(found(evo));
    // same seed, same search
    expect(await firstHit('evolution', 1)).toBe(evo[0]);
  });

  it('draws the candidates, the front and the target as SVG', () => {
    const pts = [
      { latency: 0.1, accuracy: 0.8, group: 'evolution' },
      { latency: 0.2, accuracy: 0.9, group: 'evolution' },
      { latency: 0.15, accuracy: 0.7, group: 'random' },
      { latency: 0.3, accuracy: 0.91, group: 'random' },
      { latency: 0.25, accuracy: 0.85, group: 'random' },
    ];
    const front = paretoFront(pts).map((i) => pts[i]);
    expect(front.length).toBe(3);
    const svg = paretoSvg(pts, front, { target: 0.22, title: 'a <test> & more' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<circle /g)!.length).toBe(pts.length);
    // two marks: filled for the first series, hollow (white fill) for the second
    expect(svg.match(/<circle [^>]*fill="white"/g)!.length).toBe(3);
    expect(svg.match(/<polyline /g)!.length).toBe(1);
    expect(svg).toContain('target 0.22 ms');
    expect(svg).toContain('a &lt;test&gt; &amp; more');
    // well formed: every opened element is closed in order, attributes quoted
    const stack: string[] = [];
    for (const m of svg.matchAll(/<(\/?)([a-z]+)((?:\s+[a-zA-Z0-9:-]+="[^"<>]*")*)\s*(\/?)>/g)) {
      if (m[1]) expect(stack.pop()).toBe(m[2]);
      else if (!m[4]) stack.push(m[2]);
    }
    expect(stack).toEqual([]);
    expect(svg.replace(/<(\/?)([a-z]+)((?:\s+[a-zA-Z0-9:-]+="[^"<>]*")*)\s*(\/?)>/g, '')).not.toMatch(/[<>]/);
  });

  it('runs a real tiny search on MNIST: measured table, training proxy, measured latency', async () => {
    const { train, heldOut } = loadMnistSplit();
    const stack = (ds: { image: Float32Array; label: number }[]) => {
      const x = new Float32Array(ds.length * 1024);
      ds.forEach((d, i) => x.set(d.image, i * 1024));
      return { x: { data: x, shape: [ds.length, 1, 32, 32] }, y: Int32Array.from(ds, (d) => d.label) };
    };
    const space: NasSpace = {
      inputChannels: 1, inputSize: 32, stem: { out: 8, stride: 2 },
      stages: [{ out: 12, stride: 2, kernels: [3, 5], depths: [1, 2] }, { out: 20, stride: 2, expansions: [3], depths: [1] }],
      head: { out: 0, classes: 10 },
    };
    const table = await measureNasTable(space, { runs: 1, rounds: 1 });
    expect(Object.keys(table.ms).sort()).toEqual(nasTableKeys(space).sort());
    expect(Object.values(table.ms).every((v) => v > 0)).toBe(true);
    const seen: number[] = [];
    const r = await nasSearch({
      space, target: 1, table, population: 2, sample: 2, cycles: 1, seed: 1, measureRuns: 5,
      proxy: { train: stack(train.slice(0, 300)), validation: stack(heldOut.slice(0, 100)), steps: 4, batchSize: 16 },
      onCandidate: (c) => seen.push(c.index),
    });
    expect(seen).toEqual([0, 1, 2]);
    expect(r.candidates[2].parent).toBeLessThan(2);
    for (const c of r.candidates) {
      expect(c.accuracy).toBeGreaterThanOrEqual(0);
      expect(c.accuracy).toBeLessThanOrEqual(1);
      expect(c.predictedMs).toBeCloseTo(archTableKeys(c.arch, space).reduce((a, k) => a + table.ms[k], 0), 12);
      expect(c.reward).toBeCloseTo(mnasReward(c.accuracy, c.predictedMs, 1), 12);
      if (!c.cached) {
        expect(c.measuredMs).toBeGreaterThan(0);
        expect(c.params).toBeGreaterThan(0);
      }
    }
    expect(r.front.length).toBeGreaterThan(0);
    const rep = await nasPredictionError(table, r.candidates.map((c) => c.arch), space, 5);
    expect(rep.rows.length).toBe(3);
    expect(Number.isFinite(rep.meanAbsError)).toBe(true);
    expect(rep.maxAbsError).toBeGreaterThanOrEqual(rep.meanAbsError);
  }, 60_000);
});
