// wasmcnn benchmark: GEMM throughput against the micro-kernel's measured peak, conv layers
// against @tensorflow/tfjs-backend-wasm 4.22 (XNNPACK, 1 thread), whole zoo models against
// onnxruntime-web / onnxruntime-node / tfjs, and a per-step profile, all in the same process.
// Run after `npm run build`:
//   node bench/run.js [--models resnet50,mobilenet_v2] [--runs 10] [--sections gemm,conv,models,int8,threads,profile,latency]
//   (threads: each of --thread-models on 1 and 2 threads, interleaved)
//   (latency: wasmcnn alone on the models of bench/latency.js, or --latency-models a,b:deploy,c@512;
//    memory: peak memory while loading and running, bench/memory.js)
//   (int8: quantize()d zoo models (--int8-models) against their float32 form and onnxruntime-web on the
//    same QDQ file, time to first result, memory; bench/int8.js)
//   (dynamic: a new input shape's first run and a cached shape's run against steady runs, --dynamic-models,
//    default resnet50 and a PaddleOCR-det-like graph; bench/dynamic.js)
//   (detection: whole detector ONNX exports and the PaddleOCR-det-like graph at two page sizes,
//    wasmcnn against onnxruntime-web, --detection-models; bench/detection.js. Just this part:
//    npm run bench -- --sections detection)
//   (training: one training step, batch 32, against TensorFlow.js on its wasm and cpu backends, and the
//    memory a training program keeps for backward; bench/train.js. Not in the defaults (minutes):
//    npm run bench -- --sections training [--train-cases lenet5@32,mobilenet_v2@8] [--torch-python /usr/bin/python3])
//   node --experimental-wasm-relaxed-simd bench/run.js     (adds the relaxed-SIMD build)
// Environment equivalents: BENCH_MODELS, BENCH_RUNS, BENCH_SECTIONS, BENCH_PROFILE (model name).
import * as tf from '@tensorflow/tfjs-core';
import { loadWasmcnn } from './wasm.js';
import { benchGemm, benchPeak } from './gemm.js';
import { LAYERS, benchLayer } from './conv.js';
import { DEFAULT_MODELS, benchModel, setupTfjs } from './models.js';
import { profileModel } from './profile.js';
import { writeReport, writeThreadsReport } from './report.js';
import { LATENCY_MODELS, benchLatency } from './latency.js';
import { MEMORY_MODELS, benchMemory } from './memory.js';
import { THREAD_MODELS, benchThreads } from './threads.js';
import { DYNAMIC_MODELS, benchDynamic } from './dynamic.js';
import { DETECTION_MODELS, benchDetection, printDetection } from './detection.js';
import { INT8_MODELS, benchInt8Models } from './int8.js';
import { benchDynamicModels } from './dynamic-quant.js';
import { TRAIN_CASES, benchTraining, printTraining, trainingMemoryChild, torchFigures, parseCase } from './train.js';

function arg(name, env, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1]) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (eq) return eq.slice(name.length + 3);
  return process.env[env] ?? dflt;
}
const MODELS = arg('models', 'BENCH_MODELS', DEFAULT_MODELS.join(',')).split(',').filter(Boolean);
const RUNS = Math.max(1, Number(arg('runs', 'BENCH_RUNS', '10')));
const SECTIONS = new Set(arg('sections', 'BENCH_SECTIONS', 'gemm,conv,models,int8,threads,profile,dynamic,detection').split(','));
const DETECTION = arg('detection-models', 'BENCH_DETECTION_MODELS', DETECTION_MODELS.join(',')).split(',').filter(Boolean);
const INT8 = arg('int8-models', 'BENCH_INT8_MODELS', INT8_MODELS.join(',')).split(',').filter(Boolean);
const DYNAMIC = arg('dynamic-models', 'BENCH_DYNAMIC_MODELS', DYNAMIC_MODELS.join(',')).split(',').filter(Boolean);
const THREADED = arg('thread-models', 'BENCH_THREAD_MODELS', THREAD_MODELS.join(',')).split(',').filter(Boolean);
const PROFILE = arg('profile', 'BENCH_PROFILE', 'resnet50');
const TRAIN = arg('train-cases', 'BENCH_TRAIN_CASES', TRAIN_CASES.join(',')).split(',').filter(Boolean);
const TRAIN_BACKENDS = arg('train-backends', 'BENCH_TRAIN_BACKENDS', 'wasm,cpu').split(',').filter((b) => b === 'wasm' || b === 'cpu'); // 'none': wasmcnn alone
const TRAIN_MAX_STEP = Number(arg('train-max-step-ms', 'BENCH_TRAIN_MAX_STEP_MS', '20000'));
const TRAIN_MEMORY = arg('train-memory', 'BENCH_TRAIN_MEMORY', 'resnet18@32').split(',').filter(Boolean);
const TORCH_PYTHON = arg('torch-python', 'BENCH_TORCH_PYTHON', '');
const LATENCY = arg('latency-models', 'BENCH_LATENCY_MODELS', LATENCY_MODELS.join(',')).split(',').filter(Boolean);

/** Relaxed SIMD available in this engine (Node 20: --experimental-wasm-relaxed-simd)? */
const RELAXED = (() => {
  const v = [0xfd, 0x0c, ...new Array(16).fill(0)];
  const body = [0x00, ...v, ...v, ...v, 0xfd, 0x85, 0x02, 0x0b];
  try {
    return WebAssembly.validate(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 0x0a, body.length + 2, 1, body.length, ...body]));
  } catch {
    return false;
  }
})();

const TARGET_SIZE = 256;
const TARGET_GFLOPS = 16;
const CHAIN = 8;

const pad = (s, n) => String(s).padEnd(n);
const num = (x, d = 2) => x.toFixed(d);

const wm = await loadWasmcnn(new URL('../dist/wasmcnn.wasm', import.meta.url), 1024);
const { k } = wm;
const wmRelaxed = RELAXED ? await loadWasmcnn(new URL('../dist/wasmcnn-relaxed.wasm', import.meta.url), 1024) : undefined;

console.log(
  `wasmcnn bench — Node ${process.version}, single thread, WebAssembly SIMD128` +
    (RELAXED ? ' and the relaxed-SIMD build (FMA)\n' : ' (relaxed SIMD not enabled: run node --experimental-wasm-relaxed-simd to add it)\n'),
);

// 0. Threads: 2 threads against 1, same model, interleaved; first, before any peer is loaded
//    (their runtimes may keep threads of their own busy)
if (SECTIONS.has('threads')) {
  console.log(`Threads: init({ threads: 2 }) against 1 thread, baseline SIMD, batch 1; median of ${RUNS} interleaved rounds`);
  console.log(`${pad('model', 24)}${pad('1 thread ms', 14)}${pad('2 threads ms', 14)}${pad('2t/1t', 8)}outputs`);
  const rows = await benchThreads(THREADED, RUNS);
  for (const r of rows)
    console.log(`${pad(r.name, 24)}${pad(num(r.ms1, 1), 14)}${pad(r.threads === 2 ? num(r.msN, 1) : `(${r.threads} thread)`, 14)}${pad(num(r.msN / r.ms1), 8)}${r.same ? 'bit-identical' : 'DIFFER'}`);
  writeThreadsReport(rows, `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, \`node ${process.execArgv.join(' ')} bench/run.js ${process.argv.slice(2).join(' ')}\`; median of ${RUNS} interleaved rounds.`);
  console.log('wrote bench/results/threads.md\n');
}

// 1. GEMM
if (SECTIONS.has('gemm')) {
const peak = benchPeak(wm);
console.log('GEMM gemm_f32, M = N = K (median of 11 runs, warm-up excluded)');
console.log(`peak of the 2x16 f32x4 mul+add tile (gemm_peak_probe, operands in L1): ${num(peak.gflops)} GFLOP/s`);
console.log(`${pad('size', 8)}${pad('ms', 10)}${pad('GFLOP/s', 10)}${pad('share of peak', 15)}best run GFLOP/s`);
let target;
for (const n of [64, 128, 256, 512, 1024]) {
  const r = benchGemm(wm, n);
  if (n === TARGET_SIZE) target = r;
  console.log(`${pad(n, 8)}${pad(num(r.ms, 3), 10)}${pad(num(r.gflops), 10)}${pad(num((100 * r.gflops) / peak.gflops, 0) + '%', 15)}${num(r.bestGflops)}`);
}
console.log(
  `target: ${TARGET_SIZE}^3 >= ${TARGET_GFLOPS} GFLOP/s — ${target.gflops >= TARGET_GFLOPS ? 'MET' : 'NOT MET'} (${num(target.gflops)})\n`,
);
if (wmRelaxed) {
  // baseline and relaxed interleaved: each size alternates the two builds, 5 pairs of runs
  console.log('GEMM, baseline (mul+add) vs relaxed (relaxed_madd) builds, interleaved');
  const pr = benchPeak(wmRelaxed), pb = benchPeak(wm);
  console.log(`peak probe: baseline ${num(pb.gflops)} GFLOP/s, relaxed ${num(pr.gflops)} GFLOP/s`);
  console.log(`${pad('size', 8)}${pad('baseline', 12)}${pad('relaxed', 12)}relaxed/baseline`);
  for (const n of [128, 256, 512, 1024]) {
    const b = [], r = [];
    for (let i = 0; i < 3; i++) {
      b.push(benchGemm(wm, n, 5).gflops);
      r.push(benchGemm(wmRelaxed, n, 5).gflops);
    }
    const mb = b.sort((x, y) => x - y)[1], mr = r.sort((x, y) => x - y)[1];
    console.log(`${pad(n, 8)}${pad(num(mb), 12)}${pad(num(mr), 12)}${num(mr / mb)}`);
  }
  console.log('');
}
}

// 2. Conv layers against tfjs-backend-wasm
if (SECTIONS.has('conv')) {
await setupTfjs();
console.log(`Conv layers vs tfjs-backend-wasm ${tf.version_core} (XNNPACK, 1 thread), batch 1, bias, no activation`);
console.log(`time per layer inside a chain of ${CHAIN} layers, median of 15 interleaved rounds (3 warm-up rounds excluded)`);
console.log(
  `${pad('layer', 32)}${pad('wasmcnn ms', 12)}${pad('GFLOP/s', 9)}${pad('tfjs ms', 10)}${pad('GFLOP/s', 9)}${pad('wasmcnn/tfjs', 14)}max|diff|`,
);
const hasDw = typeof k.dwconv_f32 === 'function';
for (const l of LAYERS) {
  if (l.kind === 'dw' && !hasDw) {
    console.log(`${pad(l.name, 32)}skipped: dwconv_f32 not in the wasm yet`);
    continue;
  }
  const r = benchLayer(wm, l, { chain: CHAIN });
  console.log(
    `${pad(l.name + (r.chained ? '' : ' *'), 32)}${pad(num(r.msOurs, 3), 12)}${pad(num(r.gflopsOurs, 1), 9)}` +
      `${pad(num(r.msTheirs, 3), 10)}${pad(num(r.gflopsTheirs, 1), 9)}${pad(num(r.ratio), 14)}${r.maxDiff.toExponential(1)}`,
  );
}
console.log('ratio < 1: wasmcnn faster. * stride 2 changes the shape: the chain repeats the layer on the same resident input.');
console.log('');
}

// 3. Whole models
if (SECTIONS.has('models')) {
  console.log(`Whole models, batch 1, synthetic weights, 1 thread each; median of ${RUNS} interleaved rounds (2 warm-up rounds excluded)`);
  console.log('peers run the exportOnnx file of the same model (onnxruntime 1.30: web = wasm SIMD, node = native CPU); tfjs = tfjs-backend-wasm 4.22 from tfjs ops');
  const rows = [];
  for (const name of MODELS) {
    try {
      rows.push(await benchModel(name, { runs: RUNS, relaxed: RELAXED, log: (s) => console.log(s) }));
    } catch (e) {
      console.log(`  ${name}: skipped (${e.message.split('\n')[0]})`);
    }
  }
  const who = ['wasmcnn', ...(RELAXED ? ['wasmcnn-relaxed'] : []), 'ort-web', 'ort-node', 'tfjs-wasm'];
  const cell = (x, d = 1) => (x === undefined ? '—' : num(x, d));
  console.log('');
  console.log(`${pad('model', 24)}${pad('GFLOP', 7)}${who.map((w) => pad(w, 17)).join('')}${who.slice(1).map((w) => pad('/' + w, 17)).join('')}`);
  for (const r of rows) {
    console.log(
      `${pad(r.name, 24)}${pad(num(r.gflops), 7)}${who.map((w) => pad(cell(r.ms[w]), 17)).join('')}` +
        who.slice(1).map((w) => pad(r.ms[w] ? num(r.ms.wasmcnn / r.ms[w]) : '—', 17)).join(''),
    );
  }
  console.log('ms = median latency; /peer = wasmcnn ms / peer ms (< 1: wasmcnn faster). Max |diff| vs wasmcnn:');
  for (const r of rows)
    console.log(`  ${pad(r.name, 22)}${Object.entries(r.diff).filter(([w]) => w !== 'wasmcnn').map(([w, d]) => `${w} ${d.toExponential(1)}`).join('  ')}  (max |y| ${num(r.refMax)})`);
  console.log('');
  console.log('Time to first result (min of 3 interleaved rounds): wasmcnn loadOnnx + first run() vs onnxruntime-web create + first run(), ms');
  console.log(`${pad('model', 24)}${['load', 'first run', 'total', 'first/steady', 'ort-web create', 'ort first', 'ort total', 'total ratio'].map((h) => pad(h, 16)).join('')}`);
  for (const r of rows) {
    const t = r.ttfr;
    if (!t) continue;
    console.log(`${pad(r.name, 24)}${[t.load, t.first, t.total, t.first / r.ms.wasmcnn, t.webCreate, t.webFirst, t.webTotal, t.total / t.webTotal].map((v, i) => pad(num(v, i === 3 || i === 7 ? 2 : 0), 16)).join('')}`);
  }
  console.log('total ratio = wasmcnn total / ort-web total (issue 18 target: <= 1.0); first/steady = first run / median steady run (target: <= 1.2)');
  console.log('\nCold start (a first visit: each contender in a new process, min of 3 alternating): set-up + load + first run, ms');
  console.log(`${pad('model', 24)}${['init', 'load', 'first run', 'total', 'first/steady', 'ort create', 'ort first', 'ort total', 'ort first/st', 'total ratio'].map((h) => pad(h, 14)).join('')}`);
  for (const r of rows) {
    const c = r.ttfr?.cold;
    if (!c) continue;
    const [w, o] = [c.wasmcnn, c['ort-web']];
    console.log(`${pad(r.name, 24)}${[w.init, w.load, w.first, w.total, w.firstRatio, o.load, o.first, o.total, o.firstRatio, w.total / o.total].map((v, i) => pad(num(v, i === 4 || i === 8 || i === 9 ? 2 : 0), 14)).join('')}`);
  }
  console.log('wasmcnn init = init() (kernel compile); onnxruntime-web compiles its kernels inside its first create; first/steady = the first run over the best of the 5 after it, in the same new process (target: <= 1.2)');
  const header = `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, \`node ${process.execArgv.join(' ')} bench/run.js ${process.argv.slice(2).join(' ')}\`; median of ${RUNS} interleaved rounds, 1 thread each.`;
  writeReport(rows, who.filter((w) => rows.some((r) => r.ms[w] !== undefined)), header);
  console.log('wrote bench/results/latest.md and bench/results/latest.svg\n');
  for (const r of rows) r.model.dispose();
}

// 3b. int8: quantized zoo models against float32 and onnxruntime-web
if (SECTIONS.has('int8')) {
  await benchInt8Models(INT8, { runs: RUNS, relaxed: RELAXED });
  await benchDynamicModels(INT8, { runs: RUNS });
}

// 4. Per-step profile of one model
if (SECTIONS.has('profile')) {
  await profileModel(PROFILE, { log: (s) => console.log(s) });
}

// 5. wasmcnn alone: latency of the models the issues quote (not in the default sections)
if (SECTIONS.has('latency')) {
  console.log(`\nwasmcnn latency, batch 1, 1 thread, baseline SIMD, synthetic weights; median of ${RUNS} runs after 2 warm-up runs`);
  console.log(`${pad('model', 36)}${pad('input', 18)}${pad('median ms', 12)}best ms`);
  for (const r of await benchLatency(LATENCY, RUNS))
    console.log(`${pad(r.entry, 36)}${pad(r.shape.join('x'), 18)}${pad(num(r.ms, 1), 12)}${num(r.best, 1)}`);
}

// 5b. dynamic input shapes: the cost of a new shape and of a cached one
if (SECTIONS.has('dynamic')) {
  console.log(`\ndynamic input shapes (1 thread, baseline SIMD, synthetic weights; steady = median of ${RUNS} runs at that shape)`);
  console.log(`${pad('model', 10)}${pad('shape', 12)}${pad('first ms', 10)}${pad('steady ms', 11)}${pad('first/steady', 14)}${pad('range', 14)}weights packed`);
  for (const r of await benchDynamic(DYNAMIC, RUNS)) {
    console.log(`${pad(r.name, 10)}${pad(r.shapes[0].join('x'), 12)}${pad('(at load)', 10)}${pad(num(r.steady0, 1), 11)}`);
    for (const f of r.fresh)
      console.log(`${pad(r.name, 10)}${pad(f.shape.join('x'), 12)}${pad(num(f.first, 1), 10)}${pad(num(f.steady, 1), 11)}${pad(`${num(f.ratio)}x`, 14)}${pad(`${num(f.lo)}-${num(f.hi)}x`, 14)}${f.packed ? `${f.packed} new variants` : 'none'}`);
    const b = r.shapes[1].join('x');
    console.log(`${pad(r.name, 10)}${pad(b, 12)}re-plan every run (planCache 1, ${r.shapes[0].join('x')} and ${b} alternating): ${num(r.replan.ms, 1)} ms = ${num(r.replan.ratio)}x steady (${r.plansMade} plans made)`);
    console.log(`${pad(r.name, 10)}${pad(b, 12)}cached, plan switched every run (planCache 2): ${num(r.cached.ms, 1)} ms = ${num(r.cached.ratio)}x steady (${r.cachedPlans} plans made)`);
  }
  console.log('first/steady: the first run at a new shape (planning included) over steady runs at it, median over 3 fresh models (range: their lowest and highest; target <= 1.3); first and steady ms: medians; re-plan and cached: median of per-round ratios to a steady run in the same round (cached: 1.0x expected)');
}

// 5c. object detection: whole ONNX exports (post-processing included) against onnxruntime-web
if (SECTIONS.has('detection')) {
  console.log(`\nobject detection, whole ONNX exports (torchvision opset 11, post-processing included; ocr_det: exportOnnx, dynamic H/W), 1 thread each; median of ${RUNS} interleaved rounds (8 warm-up rounds excluded: both engines tier up for ~7 runs)`);
  printDetection(await benchDetection(DETECTION, RUNS, { relaxed: RELAXED }));
}

// 5d. training: a step against TensorFlow.js, and what a training program keeps (not in the default sections)
if (SECTIONS.has('training')) {
  const { version_core } = tf;
  console.log(`\ntraining step (forward, softmax cross-entropy, backward, SGD lr 0.01 momentum 0.9), 1 thread; wasmcnn against tfjs-core ${version_core} ops on tfjs-backend-${TRAIN_BACKENDS.join(' and -')}; median of ${RUNS} interleaved rounds after 2 warm-up rounds (224x224 cases: ${Math.max(3, Math.ceil(RUNS / 3))} rounds after 1); 1st = the first step (planning, tape and optimizer state made)`);
  const rows = await benchTraining(TRAIN, { runs: RUNS, backends: TRAIN_BACKENDS, maxStepMs: TRAIN_MAX_STEP, log: (s) => console.log(s) });
  printTraining(rows);
  console.log('ratio = wasmcnn ms / tfjs ms (target: wasmcnn <= 0.5x the faster tfjs backend that trains these ops)');
  const torch = torchFigures(TORCH_PYTHON, TRAIN, TRAIN_MEMORY);
  if (torch) {
    console.log(`PyTorch ${torch.torch} CPU (tools/train_bench_torch.py, run after the rounds, not interleaved): ms/step`);
    for (const r of rows) {
      const spec = `${r.case.name}@${r.case.batch}`;
      const per = Object.entries(torch.steps).filter(([k]) => k.startsWith(spec + '/')).map(([k, v]) => `${k.split('/')[1]} thread(s) ${num(v.ms, 1)} ms`);
      console.log(`  ${pad(r.label, 32)}${per.join(', ')}${r.ms.wasmcnn && torch.steps[spec + '/1'] ? `; wasmcnn / PyTorch 1 thread = ${num(r.ms.wasmcnn / torch.steps[spec + '/1'].ms)}` : ''}`);
    }
  } else console.log(`PyTorch's figures: --torch-python /usr/bin/python3 (a python with torch and torchvision) runs tools/train_bench_torch.py; recorded ones in bench/README.md`);
  const mib = (b) => (b / 2 ** 20).toFixed(1);
  console.log(`\nmemory kept by a training program (one step in a child process; PyTorch: tensors saved for backward, distinct storages, parameters excluded)`);
  console.log(`${pad('model', 24)}${pad('values MiB', 12)}${pad('act. grads MiB', 16)}${pad('param grads MiB', 17)}${pad('PyTorch saved MiB', 19)}${pad('values/PyTorch', 16)}(values+grads)/PyTorch`);
  for (const spec of TRAIN_MEMORY) {
    const { name, batch, size } = parseCase(spec);
    try {
      const m = trainingMemoryChild(name, batch, size);
      const saved = torch?.memory[spec]?.distinct_activations;
      console.log(`${pad(`${name} b${batch} ${size}`, 24)}${pad(mib(m.values), 12)}${pad(mib(m.grads), 16)}${pad(mib(m.paramGrads), 17)}${pad(saved ? mib(saved) : '(see README)', 19)}${pad(saved ? num(m.values / saved) : '—', 16)}${saved ? num((m.values + m.grads) / saved) : '—'}`);
    } catch (e) {
      console.log(`${pad(`${name} b${batch}`, 24)}error: ${String(e.message).split('\n')[0]}`);
    }
  }
  console.log('values: every forward value (input and each node\'s output) the program keeps; act. grads: a gradient buffer per activation the loss reaches, kept too');
}

// 6. memory while loading (not in the default sections)
if (SECTIONS.has('memory')) {
  const mb = (b) => (b / 1e6).toFixed(1);
  console.log('\nmemory while loading (createModel with a state_dict map of synthetic weights), one process per model');
  console.log(`${pad('model', 16)}${pad('weights MB', 12)}${pad('peak RSS +MB', 14)}${pad('/weights', 10)}${pad('JS heap +MB', 13)}${pad('wasm MB', 10)}${pad('wasm/(w+2 act)', 16)}run grows`);
  for (const r of benchMemory(MEMORY_MODELS))
    console.log(`${pad(r.name, 16)}${pad(mb(r.bytes), 12)}${pad(mb(r.rssGrowth), 14)}${pad(num(r.rssGrowth / r.bytes), 10)}${pad(mb(r.heapGrowth), 13)}${pad(mb(r.wasm), 10)}${pad(num(r.wasm / r.floor), 16)}${r.wasmAfterRun !== r.wasm ? 'wasm memory!' : 'no'}`);
  console.log('wasm/(w+2 act): the model\'s whole wasm memory over its weights plus its two largest activations (target <= 1.3)');
}
