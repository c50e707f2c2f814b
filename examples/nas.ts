// Latency-aware NAS, shown with numbers (`npm run nas`): MnasNet's reward (M. Tan et al.,
// "MnasNet: Platform-Aware Neural Architecture Search for Mobile", CVPR 2019, Eq. 2) over a
// MobileNet-style space (per stage: depthwise kernel 3/5/7, expansion 3/6, SE on/off, depth
// 1/2/3), searched by regularized evolution (E. Real et al., "Regularized Evolution for Image
// Classifier Architecture Search", AAAI 2019) and by random search on the same budget.
//
// The MNIST digits of the `mnist` package at 32x32, one channel. A per-block latency table is
// measured here with the engine's own kernels (one thread); each candidate's latency is predicted
// from it and also measured on a fresh compile, so the table's prediction error is reported over
// every architecture the searches visit. Accuracy is a short training proxy: --steps Adam steps
// (batch 32, lr 3e-3, cosine decay) from PyTorch-default initial weights on the first --train
// training digits, scored on held-out digits 0..(--val − 1). The latency target is --fraction of
// the largest architecture's predicted latency.
//
//   npx tsx examples/nas.ts [--population 8] [--sample 3] [--cycles 16] [--steps 100] [--train 4000]
//     [--val 500] [--batch 1] [--fraction 0.5] [--objective soft|hard] [--seed 0] [--runs 20]
//     [--svg docs/nas-pareto.svg] [--readme]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import {
  archKey, init, measureNasTable, nasSearch, nasSpace, paretoFront, paretoSvg, predictNasLatency, spaceSize, useNodePlatform,
  type NasCandidate, type NasSearchResult,
} from '../src/node';
import { loadMnistSplit } from '../src/data/mnist';
import { stackDigits } from '../src/cli/train';

const argv = process.argv;
const arg = (name: string, d: string) => {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? argv[i + 1] : d;
};
const POP = Number(arg('population', '8'));
const SAMPLE = Number(arg('sample', '3'));
const CYCLES = Number(arg('cycles', '16'));
const STEPS = Number(arg('steps', '100'));
const TRAIN = Number(arg('train', '4000'));
const VAL = Number(arg('val', '500'));
const BATCH = Number(arg('batch', '1'));
const FRACTION = Number(arg('fraction', '0.5'));
const OBJECTIVE = arg('objective', 'soft') as 'soft' | 'hard';
const SEED = Number(arg('seed', '0'));
const RUNS = Number(arg('runs', '20'));
const SVG = arg('svg', 'docs/nas-pareto.svg');
const README = argv.includes('--readme');

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

function row(c: NasCandidate, rank: number | string): string {
  return `| ${rank} | ${c.strategy} | \`${c.key}\` | ${c.predictedMs.toFixed(3)} | ${c.measuredMs?.toFixed(3) ?? ''} | ${pct(c.accuracy)} | ${c.reward.toFixed(4)} |`;
}

const HEAD = '| rank | search | architecture (per stage: kernel, expansion, depth, +se) | predicted ms | measured ms | accuracy | reward |\n|---|---|---|---|---|---|---|';

/** Unique candidates of a search, best reward first. */
function ranked(r: NasSearchResult): NasCandidate[] {
  return r.candidates.filter((c) => !c.cached).sort((a, b) => b.reward - a.reward || a.index - b.index);
}

async function main(): Promise<void> {
  useNodePlatform(new URL('../dist/src/runtime/', import.meta.url));
  await init({ wasm: readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url)) });
  const t0 = performance.now();
  const load0 = loadavg()[0];
  const { train, heldOut } = loadMnistSplit();
  const proxy = { train: stackDigits(train.slice(0, TRAIN)), validation: stackDigits(heldOut.slice(0, VAL)), steps: STEPS, batchSize: 32, lr: 3e-3 };
  const space = nasSpace({ inputChannels: 1, inputSize: 32, classes: 10 });

  const tt = performance.now();
  const table = await measureNasTable(space, { batch: BATCH, runs: 10, rounds: 30 });
  const tableS = (performance.now() - tt) / 1000;
  const largest = space.stages.map(() => ({ kernel: 7, expansion: 6, se: true, depth: 3 }));
  const smallest = space.stages.map(() => ({ kernel: 3, expansion: 3, se: false, depth: 1 }));
  const maxMs = predictNasLatency(table, largest, space);
  const minMs = predictNasLatency(table, smallest, space);
  const target = FRACTION * maxMs;
  process.stderr.write(`table: ${Object.keys(table.ms).length} units in ${tableS.toFixed(1)} s; predicted ${minMs.toFixed(3)}..${maxMs.toFixed(3)} ms; target ${target.toFixed(3)} ms\n`);

  const results: Record<'evolution' | 'random', NasSearchResult> = {} as never;
  const seconds: Record<string, number> = {};
  for (const strategy of ['evolution', 'random'] as const) {
    const ts = performance.now();
    results[strategy] = await nasSearch({
      space, target, strategy, population: POP, sample: SAMPLE, cycles: CYCLES, seed: SEED, objective: OBJECTIVE, table, proxy, measureRuns: RUNS,
      onCandidate: (c) => process.stderr.write(`${strategy} #${c.index}${c.parent !== undefined ? ` (from #${c.parent})` : ''}: ${c.key}  ${c.predictedMs.toFixed(3)} ms pred, ` +
        `${c.measuredMs?.toFixed(3)} ms meas, acc ${pct(c.accuracy)}, reward ${c.reward.toFixed(4)}${c.cached ? ' (seen before)' : ''}\n`),
    });
    seconds[strategy] = (performance.now() - ts) / 1000;
  }

  const all = [...results.evolution.candidates, ...results.random.candidates];
  const lines: string[] = [];
  const say = (s = '') => lines.push(s);
  const evaluated = POP + CYCLES;
  say(`Space: ${spaceSize(space).toLocaleString('en')} architectures (4 stages of widths 16, 24, 40, 64, strides 2, 1, 2, 1, after a stride-2 stem of 8 channels; a 1x1 conv to 128, pooling, linear). ` +
    `Latency table: ${Object.keys(table.ms).length} units measured in ${tableS.toFixed(1)} s at batch ${BATCH}, one thread; predicted latencies span ${minMs.toFixed(3)} ms (smallest architecture) to ${maxMs.toFixed(3)} ms (largest). ` +
    `Target T = ${FRACTION} × ${maxMs.toFixed(3)} = **${target.toFixed(3)} ms**, ${OBJECTIVE} objective (${OBJECTIVE === 'soft' ? 'w = −0.07 both sides' : 'w = 0 under T, −1 over'}). ` +
    `Each search evaluates ${evaluated} candidates (evolution: population ${POP}, sample ${SAMPLE}, ${CYCLES} cycles; random: ${evaluated} draws), seed ${SEED}; ` +
    `proxy: ${STEPS} Adam steps of batch 32 on the first ${TRAIN} training digits, accuracy on held-out digits 0..${VAL - 1}.`);
  say();
  for (const s of ['evolution', 'random'] as const) {
    const r = results[s];
    const uniq = ranked(r);
    say(`**${s === 'evolution' ? 'Regularized evolution' : 'Random search'}** (${uniq.length} distinct architectures of ${r.candidates.length} evaluated, ${seconds[s].toFixed(0)} s), the top 8 by reward:`);
    say();
    say(HEAD);
    uniq.slice(0, 8).forEach((c, i) => say(row(c, i + 1)));
    say();
  }
  // the front over both searches' candidates
  // (an architecture both searches found counts once, under the search that found it first)
  const uniqAll = [...ranked(results.evolution), ...ranked(results.random)].filter((c, i, a) => a.findIndex((d) => d.key === c.key) === i);
  const frontIdx = paretoFront(uniqAll.map((c) => ({ latency: c.predictedMs, accuracy: c.accuracy })));
  say(`**Pareto front** over both searches (predicted latency ↓, proxy accuracy ↑; ${frontIdx.length} of ${uniqAll.length} distinct architectures):`);
  say();
  say(HEAD);
  frontIdx.forEach((i, k) => say(row(uniqAll[i], k + 1)));
  say();
  const bestUnder = (r: NasSearchResult) => ranked(r).filter((c) => c.predictedMs <= target).sort((a, b) => b.accuracy - a.accuracy)[0];
  for (const s of ['evolution', 'random'] as const) {
    const r = results[s];
    const b = bestUnder(r);
    say(`- ${s}: best reward ${r.best.reward.toFixed(4)} (\`${r.best.key}\`, ${r.best.predictedMs.toFixed(3)} ms, ${pct(r.best.accuracy)}); ` +
      `most accurate under the target: ${b ? `${pct(b.accuracy)} at ${b.predictedMs.toFixed(3)} ms` : 'none'}; ` +
      `mean reward of the last ${POP} candidates ${(r.candidates.slice(-POP).reduce((a, c) => a + c.reward, 0) / POP).toFixed(4)}.`);
  }
  // the table's prediction error over every distinct architecture measured
  const measured = new Map<string, NasCandidate>();
  for (const c of all) if (c.measuredMs !== undefined && !measured.has(c.key)) measured.set(c.key, c);
  const errs = [...measured.values()].map((c) => (c.predictedMs - c.measuredMs!) / c.measuredMs!);
  const abs = errs.map(Math.abs);
  const sorted = abs.slice().sort((p, q) => p - q);
  const medianAbs = sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  say(`- Lookup-table prediction error over the ${errs.length} distinct architectures measured (whole network, fresh compile, best of ${RUNS / 5} medians of 5 runs): ` +
    `mean |error| **${pct(abs.reduce((a, b) => a + b, 0) / abs.length)}**, median ${pct(medianAbs)}, max ${pct(Math.max(...abs))}, mean signed ${pct(errs.reduce((a, b) => a + b, 0) / errs.length)} (positive: over-predicted).`);
  say(`- Total ${((performance.now() - t0) / 1000).toFixed(0)} s (\`npm run nas\`, ${new Date().toISOString().slice(0, 10)}); the machine was shared with other jobs: ` +
    `load average ${load0.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end on ${cpus().length} vCPUs, so single measurements can be disturbed.`);
  const md = lines.join('\n');
  console.log(md);

  const svg = paretoSvg(
    all.filter((c) => !c.cached).map((c) => ({ latency: c.predictedMs, accuracy: c.accuracy, group: c.strategy })),
    frontIdx.map((i) => ({ latency: uniqAll[i].predictedMs, accuracy: uniqAll[i].accuracy })),
    { target, title: `MNIST NAS: ${evaluated} candidates per search, ${OBJECTIVE} MnasNet reward` },
  );
  mkdirSync(dirname(SVG), { recursive: true });
  writeFileSync(SVG, svg);
  process.stderr.write(`wrote ${SVG}\n`);
  if (README) {
    const file = new URL('../README.md', import.meta.url);
    const text = readFileSync(file, 'utf8');
    const a = '<!-- nas-results:begin -->';
    const b = '<!-- nas-results:end -->';
    const i = text.indexOf(a);
    const j = text.indexOf(b);
    if (i < 0 || j < i) throw new Error(`README.md has no ${a} ... ${b} section`);
    writeFileSync(file, `${text.slice(0, i + a.length)}\n${md}\n${text.slice(j)}`);
    process.stderr.write('updated README.md\n');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
