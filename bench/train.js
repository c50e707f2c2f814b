// Training speed (issue 16): the time of one full training step — forward, softmax cross-entropy,
// backward and an SGD momentum update (lr 0.01, momentum 0.9) — in wasmcnn (model.trainStep on
// the built dist) against TensorFlow.js 4.22 running the same architecture written with tfjs-core
// ops (conv2d, depthwiseConv2d, BatchNorm in its training form from tf.moments, relu / relu6,
// maxPool, mean, matMul; tf.variable weights; tf.train.momentum and optimizer.minimize) on its
// 'wasm' backend (XNNPACK, 1 thread) and its 'cpu' backend (plain JS). One process, one thread,
// rounds interleaved with the order rotating, warm-up rounds excluded, medians; the first step
// (wasmcnn: trainer made and program planned; tfjs: tape, kernels and optimizer slots made) is
// reported apart. A tfjs backend missing a kernel the step needs is reported as unsupported with
// the error. Networks: LeNet-5 (LeCun et al. 1998, as models/lenet.ts) and MobileNetV2 (Sandler
// et al. 2018, as torchvision's mobilenet_v2 without the classifier's dropout, as models/mobilenet.ts).
// Memory: the bytes a training program keeps for backward (every forward value, and a gradient
// buffer for every value the loss's gradient reaches; src/train/program.ts `values` / `grads`),
// read from the model's trainer (private internals, read here on purpose), for comparison with
// the tensors PyTorch saves for backward (tools/train_bench_torch.py, saved_tensors_hooks).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { init, modelBuilder, initWeights, sgd } from '../dist/node.js';
import { median, now, randomFloats } from './wasm.js';
import { registerTfjsGradients } from './tfjs-grads.js';

/**
 * Default cases (network@batch). MobileNetV2 at batch 32 on 224x224 needs 4104 MiB of wasm
 * memory in wasmcnn's trainer (every activation and its gradient kept), over wasm32's 4096 MiB:
 * batch 8 is timed instead (16 fits too: `--train-cases mobilenet_v2@16`).
 */
export const TRAIN_CASES = ['lenet5@32', 'mobilenet_v2@8'];

const LR = 0.01;
const MOMENTUM = 0.9;

export const parseCase = (s) => {
  const [name, b] = s.split('@');
  const batch = Number(b ?? 32);
  const size = name === 'lenet5' ? 32 : 224;
  const channels = name === 'lenet5' ? 1 : 3;
  const classes = name === 'lenet5' ? 10 : 1000;
  return { name, batch, size, channels, classes, label: `${name} b${batch} ${channels}x${size}x${size}` };
};

// ---- tfjs: the two networks in NHWC with tfjs-core ops ------------------------------------------

/** tfjs-backend-wasm (1 thread) and tfjs-backend-cpu registered; returns the names that initialise. */
export async function setupBackends() {
  await registerTfjsGradients();
  const dist = fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
  setWasmPaths(dist.endsWith('/') ? dist : dist + '/');
  setThreadsCount(1);
  const ok = [];
  for (const b of ['wasm', 'cpu']) if (await tf.setBackend(b)) ok.push(b);
  return ok;
}

/** A trainable tf.variable uniform in ±1/√fanIn (PyTorch's default for Conv/Linear), seeded. */
function uniformVar(shape, fanIn, seed) {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', seed));
}

/**
 * A tfjs network: `vars` (trainable variables) and `forward(x) → logits`, built on the current
 * backend. Layout NHWC; filters HWIO (depthwise [kh, kw, C, 1]).
 */
function tfjsNet(name, classes) {
  let seed = 1;
  const vars = [];
  const v = (t) => (vars.push(t), t);
  const conv = (cin, cout, k) => ({ w: v(uniformVar([k, k, cin, cout], cin * k * k, seed++)) });
  const bn = (c) => ({ g: v(tf.variable(tf.ones([c]))), b: v(tf.variable(tf.zeros([c]))) });
  /** BatchNorm in training form: batch mean and biased variance over N, H, W (as PyTorch's forward). */
  const bnTrain = (x, p) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), p.g), p.b);
  };
  const dense = (cin, cout) => ({ w: v(uniformVar([cin, cout], cin, seed++)), b: v(uniformVar([cout], cin, seed++)) });
  const linear = (x, p) => tf.add(tf.matMul(x, p.w), p.b);

  if (name === 'lenet5') {
    const c1 = conv(1, 6, 5), b1 = v(uniformVar([6], 25, seed++));
    const c2 = conv(6, 16, 5), b2 = v(uniformVar([16], 150, seed++));
    const f0 = dense(400, 120), f2 = dense(120, 84), f4 = dense(84, classes);
    return {
      vars,
      forward(x) {
        x = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, c1.w, 1, 'valid'), b1)), 2, 2, 'valid');
        x = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, c2.w, 1, 'valid'), b2)), 2, 2, 'valid');
        x = tf.reshape(x, [x.shape[0], -1]);
        x = tf.relu(linear(x, f0));
        x = tf.relu(linear(x, f2));
        return linear(x, f4);
      },
    };
  }
  if (name !== 'mobilenet_v2') throw new Error(`train bench: no tfjs translation of ${name}`);
  // torchvision mobilenet_v2: [expansion, channels, repeats, first stride]
  const STAGES = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
  const stem = { c: conv(3, 32, 3), n: bn(32) };
  const blocks = [];
  let cin = 32;
  for (const [t, c, n, s] of STAGES)
    for (let j = 0; j < n; j++) {
      const hidden = cin * t;
      blocks.push({
        stride: j === 0 ? s : 1,
        residual: (j === 0 ? s : 1) === 1 && cin === c,
        expand: t !== 1 ? { c: conv(cin, hidden, 1), n: bn(hidden) } : undefined,
        dw: { w: v(uniformVar([3, 3, hidden, 1], 9, seed++)), n: bn(hidden) },
        project: { c: conv(hidden, c, 1), n: bn(c) },
      });
      cin = c;
    }
  const head = { c: conv(cin, 1280, 1), n: bn(1280) };
  const fc = dense(1280, classes);
  const cba = (x, p, stride, act) => {
    const y = bnTrain(tf.conv2d(x, p.c.w, stride, 'same'), p.n);
    return act ? tf.relu6(y) : y;
  };
  return {
    vars,
    forward(x) {
      x = cba(x, stem, 2, true);
      for (const b of blocks) {
        let y = b.expand ? cba(x, b.expand, 1, true) : x;
        y = tf.relu6(bnTrain(tf.depthwiseConv2d(y, b.dw.w, b.stride, 'same'), b.dw.n));
        y = cba(y, b.project, 1, false);
        x = b.residual ? tf.add(x, y) : y;
      }
      x = cba(x, head, 1, true);
      return linear(tf.mean(x, [1, 2]), fc);
    },
  };
}

/** One tfjs contender on `backend`: variables, optimizer and the batch made there. */
export async function tfjsContender(backend, c, xNchw, targets) {
  await tf.setBackend(backend);
  const net = tfjsNet(c.name, c.classes);
  const [N, C, H, W] = [c.batch, c.channels, c.size, c.size];
  const nhwc = new Float32Array(xNchw.length);
  for (let n = 0; n < N; n++)
    for (let ch = 0; ch < C; ch++)
      for (let p = 0; p < H * W; p++) nhwc[(n * H * W + p) * C + ch] = xNchw[(n * C + ch) * H * W + p];
  const x = tf.tensor4d(nhwc, [N, H, W, C]);
  const labels = tf.oneHot(tf.tensor1d(targets, 'int32'), c.classes);
  const opt = tf.train.momentum(LR, MOMENTUM);
  return {
    who: `tfjs-${backend}`,
    async step() {
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
      const t = now();
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, net.forward(x)), true, net.vars);
      const l = loss.dataSync()[0];
      loss.dispose();
      return { ms: now() - t, loss: l };
    },
    dispose() {
      tf.dispose([x, labels, ...net.vars]);
      opt.dispose();
    },
  };
}

/** wasmcnn's contender: the zoo network from PyTorch-default initial weights, in training mode. */
async function wasmcnnContender(c, xNchw, targets) {
  await init({ threads: 1 });
  const b = modelBuilder(c.name, { inputSize: [c.size, c.size], batch: c.batch });
  const model = await b.build(initWeights(b.weightShapes(), { seed: 1 }));
  model.train();
  const feeds = { [model.inputNames[0]]: { data: xNchw, shape: [c.batch, c.channels, c.size, c.size] } };
  const opt = sgd({ lr: LR, momentum: MOMENTUM });
  return {
    who: 'wasmcnn',
    model,
    async step() {
      const t = now();
      const loss = await model.trainStep(feeds, targets, opt);
      return { ms: now() - t, loss };
    },
    dispose: () => model.dispose(),
  };
}

/**
 * Times a training step of each case in wasmcnn, tfjs-wasm and tfjs-cpu. Returns rows
 * { label, first: {who: ms}, ms: {who: median ms}, loss: {who: [first, last]}, error: {who: message} }.
 */
export async function benchTraining(cases, { runs = 10, warmup = 2, backends: want = ['wasm', 'cpu'], maxStepMs = 20000, log = () => {} } = {}) {
  const backends = await setupBackends();
  const rows = [];
  for (const spec of cases) {
    const c = parseCase(spec);
    const rounds = c.size > 64 ? Math.max(3, Math.ceil(runs / 3)) : runs;
    const warm = c.size > 64 ? 1 : warmup;
    const x = randomFloats(c.batch * c.channels * c.size * c.size, 7);
    const targets = Int32Array.from({ length: c.batch }, (_, i) => (i * 7) % c.classes);
    const row = { label: c.label, case: c, first: {}, ms: {}, loss: {}, error: {}, rounds, single: {} };
    const contenders = [];
    const slow = [];
    const tryAdd = async (who, make) => {
      try {
        const k = await make();
        const t = now();
        const r = await k.step();
        row.first[who] = now() - t;
        row.loss[who] = [r.loss];
        // a contender whose first step takes longer than maxStepMs (tfjs-cpu on MobileNetV2: minutes)
        // is left out of the rounds; its first step is its only sample
        (row.first[who] > maxStepMs ? slow : contenders).push(k);
      } catch (e) {
        row.error[who] = String(e.message ?? e).split('\n')[0];
        log(`  ${c.label}: ${who} unsupported: ${row.error[who]}`);
      }
    };
    await tryAdd('wasmcnn', () => wasmcnnContender(c, x, targets));
    for (const b of want) {
      if (!backends.includes(b)) row.error[`tfjs-${b}`] = 'backend did not initialise';
      else await tryAdd(`tfjs-${b}`, () => tfjsContender(b, c, x, targets));
    }
    const times = Object.fromEntries(contenders.map((k) => [k.who, []]));
    for (let r = 0; r < warm + rounds; r++)
      for (let j = 0; j < contenders.length; j++) {
        const k = contenders[(j + r) % contenders.length];
        const { ms, loss } = await k.step();
        if (r >= warm) times[k.who].push(ms);
        row.loss[k.who][1] = loss;
      }
    for (const [who, t] of Object.entries(times)) row.ms[who] = median(t);
    // a step of minutes is dominated by its arithmetic, not by first-step costs: the first is its figure
    for (const k of slow) {
      row.ms[k.who] = row.first[k.who];
      row.single[k.who] = true;
    }
    log(`  ${c.label}: ${Object.entries(row.ms).map(([w, m]) => `${w} ${m.toFixed(1)} ms`).join(', ')}`);
    for (const k of [...contenders, ...slow]) k.dispose();
    rows.push(row);
  }
  return rows;
}

/**
 * Bytes a wasmcnn training program keeps for `name` at this batch and side: forward values
 * (every node's output and the input), gradients of activations, gradients of parameters.
 * `plan: true` only sums the shapes a program would allocate (no memory needed; for sizes that
 * exceed wasm32's 4 GiB); otherwise one step runs and the program's own maps are read.
 */
export async function trainingMemory(name, batch, size, { plan = false } = {}) {
  const b = modelBuilder(name, { inputSize: [size, size], batch });
  const numel = (s) => s.reduce((a, x) => a * x, 1);
  if (plan) {
    const g = b['graph'];
    let values = numel(g.inputs[0].shape) * 4, grads = 0;
    for (const n of g.nodes)
      for (const o of n.outputs) {
        if (!o) continue;
        values += numel(b.shape(o)) * 4;
        grads += numel(b.shape(o)) * 4;
      }
    let paramBytes = 0;
    for (const s of b.weightShapes().values()) paramBytes += numel(s) * 4;
    return { name, batch, size, values, grads, paramBytes, planned: true };
  }
  await init({ threads: 1 });
  const model = await b.build(initWeights(b.weightShapes(), { seed: 1 }));
  model.train();
  const shape = model.inputShapes[model.inputNames[0]];
  await model.trainStep({ [model.inputNames[0]]: { data: randomFloats(numel(shape), 3), shape } }, new Int32Array(batch), sgd({ lr: LR, momentum: MOMENTUM }));
  const trainer = model['tr'].made;
  const prog = trainer.program;
  const params = trainer.params;
  let values = 0, grads = 0, paramGrads = 0;
  for (const n of prog.values.keys()) if (!params.has(n) && !trainer.buffers.has(n) && prog.shapes.get(n)) values += numel(prog.shapes.get(n)) * 4;
  for (const n of prog.grads.keys()) {
    if (params.has(n)) paramGrads += params.get(n).count * 4;
    else grads += numel(prog.shapes.get(n)) * 4;
  }
  model.dispose();
  return { name, batch, size, values, grads, paramGrads, planned: false };
}

/** trainingMemory in a child process (it starts clean, and its wasm memory goes with it). */
export function trainingMemoryChild(name, batch, size) {
  const cwd = fileURLToPath(new URL('.', import.meta.url));
  const code = `import { trainingMemory } from './train.js'; console.log(JSON.stringify(await trainingMemory(${JSON.stringify(name)}, ${batch}, ${size})));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop());
}

/**
 * PyTorch's figures from tools/train_bench_torch.py run by `python` (a python with torch and
 * torchvision); undefined when it is not there or fails.
 */
export function torchFigures(python, cases, memory) {
  if (!python || !existsSync(python)) return undefined;
  const script = fileURLToPath(new URL('../tools/train_bench_torch.py', import.meta.url));
  try {
    const out = execFileSync(python, [script, '--json', '--cases', cases.join(','), '--memory', memory.join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return JSON.parse(out.trim().split('\n').pop());
  } catch {
    return undefined;
  }
}

const fmtRatio = (q) => (q >= 0.1 ? q.toFixed(2) : q.toPrecision(2));

/** Prints the step table and the ratios wasmcnn / min(tfjs-wasm, tfjs-cpu). */
export function printTraining(rows, log = console.log) {
  const pad = (s, n) => String(s).padEnd(n);
  const cell = (x, r, w) => (x === undefined ? '—' : x.toFixed(1) + (r?.single[w] ? '*' : ''));
  const who = ['wasmcnn', 'tfjs-wasm', 'tfjs-cpu'];
  log(`${pad('case', 34)}${who.map((w) => pad(`${w} ms`, 15)).join('')}${who.map((w) => pad(`${w} 1st`, 15)).join('')}${pad('/tfjs-wasm', 12)}${pad('/tfjs-cpu', 12)}/min(tfjs)`);
  for (const r of rows) {
    const best = Math.min(...['tfjs-wasm', 'tfjs-cpu'].map((w) => r.ms[w] ?? Infinity));
    const ratio = (d) => (r.ms.wasmcnn !== undefined && d !== undefined && Number.isFinite(d) ? fmtRatio(r.ms.wasmcnn / d) : '—');
    log(
      `${pad(r.label, 34)}${who.map((w) => pad(cell(r.ms[w], r, w), 15)).join('')}${who.map((w) => pad(cell(r.first[w]), 15)).join('')}` +
        `${pad(ratio(r.ms['tfjs-wasm']), 12)}${pad(ratio(r.ms['tfjs-cpu']), 12)}${ratio(best)}${!Number.isFinite(best) || r.ms.wasmcnn === undefined ? '  (no ratio: no tfjs backend trained it)' : r.ms.wasmcnn <= 0.5 * best ? '  (target <= 0.5 MET)' : '  (target <= 0.5 not met)'}`,
    );
  }
  if (rows.some((r) => Object.keys(r.single).length)) log(`  * the first step only (it took over --train-max-step-ms, so no rounds): not a median`);
  for (const r of rows) {
    for (const [w, e] of Object.entries(r.error)) log(`  ${r.label}: ${w} unsupported — ${e}`);
    log(`  ${r.label}: loss first → last step: ${Object.entries(r.loss).map(([w, l]) => `${w} ${l[0].toFixed(3)} → ${(l[1] ?? l[0]).toFixed(3)}`).join(', ')}`);
  }
}
