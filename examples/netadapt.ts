// NetAdapt, shown with numbers (`npm run netadapt`): T.-J. Yang et al., "NetAdapt: Platform-Aware
// Neural Network Adaptation for Mobile Applications", ECCV 2018. A latency lookup table is measured
// here, with this engine's kernels; each iteration proposes one pruned network per layer group (the
// most filters kept that meet the iteration's latency target, smallest-L2-norm filters removed),
// fine-tunes each briefly, keeps the most accurate; at the budget the result is fine-tuned longer.
//
// Two networks on the MNIST digits of the `mnist` package: LeNet-5 with its bundled weights, and
// MobileNetV2 (width 0.35, 32x32 input; the 1-channel digit is replicated to the 3 input channels
// so the zoo network is used unchanged) trained briefly here first. Both fine-tune on the 8,000
// training digits; proposals are scored on held-out digits 0..999, the start and the result on
// held-out 1000..1999 (seen by neither training nor selection). Latency is timed at batch --batch (default 16): at batch 1 these tiny
// networks take tens of microseconds, mostly fixed per-step cost that no pruning removes.
//
//   npx tsx examples/netadapt.ts [--model lenet5|mobilenet_v2|both] [--batch 16] [--short 120]
//     [--long 1500] [--pretrain 8] [--fraction 0.47] [--initial 0.05] [--table-dir /tmp]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  accuracy, adamw, cosineLR, createModel, exportOnnx, fit, init, loadOnnx, initWeights, latencyTableFromJSON, measureLatency, measureLatencyTable, modelBuilder, netAdapt,
  predictionError, sgd, useNodePlatform, type LatencyTable, type Model, type NetAdaptRow, type Tensor,
} from '../src/node';
import { loadMnistSplit } from '../src/data/mnist';
import { stackDigits } from '../src/cli/train';

const argv = process.argv;
const arg = (name: string, d: string) => {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? argv[i + 1] : d;
};
const WHICH = arg('model', 'both');
const BATCH = Number(arg('batch', '16'));
const SHORT = Number(arg('short', '120'));
const LONG = Number(arg('long', '1500'));
const PRETRAIN = Number(arg('pretrain', '8'));
const FRACTION = Number(arg('fraction', '0.47'));
const INITIAL = Number(arg('initial', '0.05'));
const TABLE_DIR = arg('table-dir', '');

/** Digits replicated to 3 channels (MobileNetV2's stem takes RGB). */
function rgb(x: Tensor): Tensor {
  const n = x.shape[0];
  const out = new Float32Array(n * 3 * 1024);
  for (let s = 0; s < n; s++) for (let c = 0; c < 3; c++) out.set(x.data.subarray(s * 1024, (s + 1) * 1024), (s * 3 + c) * 1024);
  return { data: out, shape: [n, 3, 32, 32] };
}

async function table(name: string, m: Model): Promise<LatencyTable> {
  const file = TABLE_DIR && `${TABLE_DIR}/netadapt-${name}-b${BATCH}.json`;
  const reuse = file && existsSync(file) ? latencyTableFromJSON(readFileSync(file, 'utf8')) : undefined;
  const t0 = performance.now();
  const t = await measureLatencyTable(m.sourceGraph, { batch: BATCH, reuse, rounds: 5, runs: 10 });
  process.stderr.write(`${name}: latency table ${Object.keys(t.entries).length} layer shapes in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  if (file) writeFileSync(file, JSON.stringify(t));
  return t;
}

function print(name: string, rows: NetAdaptRow[], heldStart: number, heldEnd: number, err: number): void {
  const head = ['iteration', 'layer pruned', 'filters removed (kept)', 'predicted ms', 'measured ms', 'accuracy'];
  console.log(`\n${name}\n`);
  console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const it = r.stage === 'start' ? '0 (start)' : r.stage === 'long-term' ? 'long-term fine-tune' : String(r.iteration);
    const layer = r.layer.length > 40 ? `${r.layer.split('+')[0]} +${r.layer.split('+').length - 1} coupled` : r.layer;
    const rem = r.stage === 'short-term' ? `${r.filtersRemoved} (${r.channels})` : '';
    console.log(`| ${it} | ${layer} | ${rem} | ${r.predictedMs.toFixed(3)} | ${r.measuredMs.toFixed(3)} | ${(100 * r.accuracy).toFixed(1)}% |`);
  }
  const s = rows[0];
  const e = rows[rows.length - 1];
  console.log(`\nmeasured latency ${e.measuredMs.toFixed(3)} / ${s.measuredMs.toFixed(3)} ms = ${((100 * e.measuredMs) / s.measuredMs).toFixed(0)}% ` +
    `(predicted ${((100 * e.predictedMs) / s.predictedMs).toFixed(0)}%); test accuracy (held-out 1000..1999) ${(100 * heldStart).toFixed(2)}% -> ${(100 * heldEnd).toFixed(2)}% ` +
    `(${(100 * (heldEnd - heldStart)).toFixed(2)} points); table's prediction error on the result ${(100 * err).toFixed(0)}%`);
}

/**
 * Fine-tuning used for both terms: `steps` SGD steps (momentum 0.9) on shuffled batches of 32,
 * the learning rate decaying from `lr` to 0 by a half cosine over the call.
 */
function finetuner(data: { x: Tensor; y: Int32Array }, lr: number): (m: Model, steps: number) => Promise<void> {
  const n = data.y.length;
  const per = data.x.data.length / n;
  let seed = 1;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  return async (m, steps) => {
    const opt = sgd({ lr, momentum: 0.9 });
    m.train();
    for (let s = 0; s < steps; s++) {
      const idx = Array.from({ length: 32 }, () => Math.floor(rand() * n));
      const x = new Float32Array(32 * per);
      idx.forEach((i, j) => x.set(data.x.data.subarray(i * per, (i + 1) * per), j * per));
      const y = Int32Array.from(idx, (i) => data.y[i]);
      await m.trainStep({ input: { data: x, shape: [32, ...data.x.shape.slice(1)] } }, y, opt, { lrScale: 0.5 * (1 + Math.cos((Math.PI * s) / steps)) });
    }
    m.eval();
  };
}

async function adapt(name: string, copy: () => Promise<Model>, data: { x: Tensor; y: Int32Array }, select: { x: Tensor; y: Int32Array }, test: { x: Tensor; y: Int32Array }, lr: number): Promise<void> {
  const m = await copy();
  const t = await table(name, m);
  const heldStart = await accuracy(m, test);
  const t0 = performance.now();
  const r = await netAdapt(m, {
    budget: { fraction: FRACTION }, table: t, evaluate: (mm) => accuracy(mm, select), finetune: finetuner(data, lr), shortTermSteps: SHORT, longTermSteps: LONG, measureRuns: 50,
    reductionSchedule: { initial: INITIAL, decay: 0.98 },
    onIteration: (row) => process.stderr.write(`${name}: ${JSON.stringify(row)}\n`),
  });
  for (const f of r.failures) console.log(`proposal failed (left out): iteration ${f.iteration}, ${f.layer} at ${f.channels} filters: ${f.error}`);
  // the table's error on a fresh compile of the result (as the history's rows are measured)
  const fresh = await loadOnnx(exportOnnx(r.model));
  const err = predictionError(t, fresh, 50).error;
  fresh.dispose();
  const heldEnd = await accuracy(r.model, test);
  print(name, r.history, heldStart, heldEnd, err);
  // the start and the result timed in alternation now, so both see the same machine load (the
  // history's rows were measured minutes apart)
  let [ts, te] = [Infinity, Infinity];
  for (let round = 0; round < 10; round++) {
    ts = Math.min(ts, measureLatency(m, 20, BATCH));
    te = Math.min(te, measureLatency(r.model, 20, BATCH));
  }
  console.log(`interleaved at the end (best of 10 alternating rounds): result ${te.toFixed(3)} ms / start ${ts.toFixed(3)} ms = ${((100 * te) / ts).toFixed(0)}%`);
  // control: the unpruned start fine-tuned as long as the result was
  const control = await copy();
  await finetuner(data, lr)(control, LONG);
  console.log(`control: the unpruned network after the same ${LONG} long-term steps: test accuracy ${(100 * (await accuracy(control, test))).toFixed(2)}%`);
  control.dispose();
  console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s; ${SHORT} short-term and ${LONG} long-term steps of batch 32, SGD lr ${lr} momentum 0.9, cosine decay per fine-tune; reduction ${INITIAL}·0.98^i of the start per iteration; latency at batch ${BATCH}, one thread)`);
  r.model.dispose();
  m.dispose();
}

async function main(): Promise<void> {
  useNodePlatform(new URL('../dist/src/runtime/', import.meta.url));
  await init({ wasm: readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url)) });
  const { train, heldOut } = loadMnistSplit();
  // LeNet-5's bundled weights saw all 8,000 training digits: proposals are scored on held-out
  // digits 0..999 and the result on 1000..1999, which neither training nor selection saw
  const data = stackDigits(train);
  const select = stackDigits(heldOut.slice(0, 1000));
  const test = stackDigits(heldOut.slice(1000));
  if (WHICH === 'lenet5' || WHICH === 'both') {
    // the bundled weights, in a graph whose batch axis is dynamic (fine-tuning and scoring batch)
    const bundled = await createModel('lenet5');
    const sd = bundled.stateDict();
    bundled.dispose();
    const copy = () => modelBuilder('lenet5', { batch: 1 }).build(sd, { dynamicAxes: { input: [0] } });
    await adapt('LeNet-5 (bundled weights)', copy, data, select, test, 0.01);
  }
  if (WHICH === 'mobilenet_v2' || WHICH === 'both') {
    const b = modelBuilder('mobilenet_v2', { widthMultiplier: 0.35, inputSize: 32, numClasses: 10, batch: 1 });
    const m = await b.build(initWeights(b.weightShapes(), { seed: 0 }), { dynamicAxes: { input: [0] } });
    const d3 = { x: rgb(data.x), y: data.y };
    const t0 = performance.now();
    await fit(m, d3, { epochs: PRETRAIN, batchSize: 64, optimizer: adamw({ lr: 3e-3, weightDecay: 0.01 }), schedule: cosineLR(PRETRAIN) });
    process.stderr.write(`MobileNetV2: pre-trained ${PRETRAIN} epochs in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    const sd = m.stateDict();
    const copy = () => modelBuilder('mobilenet_v2', { widthMultiplier: 0.35, inputSize: 32, numClasses: 10, batch: 1 }).build(sd, { dynamicAxes: { input: [0] } });
    await adapt('MobileNetV2 0.35, 32x32 (trained here)', copy, d3, { x: rgb(select.x), y: select.y }, { x: rgb(test.x), y: test.y }, 0.01);
    m.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
