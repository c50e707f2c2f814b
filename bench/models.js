// Whole-model latency, batch 1, one thread, in ONE process: wasmcnn (dist/, built), the same
// network exported with exportOnnx and run by onnxruntime-web (wasm, SIMD, 1 thread) and
// onnxruntime-node (native CPU, 1 intra-op thread: the ceiling), and for MobileNetV2 / ResNet-50
// tfjs-backend-wasm (XNNPACK) fed the same weights through tfjs ops in NHWC (BN folded here).
// Rounds are interleaved (the contenders' order rotates every round), warm-up rounds excluded,
// median reported; each peer's output is compared once with wasmcnn's.
import { fileURLToPath } from 'node:url';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { init, createModel, modelBuilder, exportOnnx, loadOnnx, syntheticWeights } from '../dist/node.js';
import { median, now, randomFloats } from './wasm.js';
import { coldStart } from './cold.js';

/** Zoo models of the default run, with the options each is built with. */
export const DEFAULT_MODELS = [
  'mobilenet_v2', 'mobilenet_v3_large', 'efficientnet_b0', 'shufflenet_v2_x1_0', 'resnet50', 'densenet121',
  'convnext_tiny', 'repvgg_a0', 'ghostnet_100', 'mobilenetv4_conv_small',
];
const BUILD_OPTIONS = { repvgg_a0: { deploy: true } };
/** Models tfjs-backend-wasm runs (built from tfjs ops by tfjsForward below). */
const TFJS_MODELS = new Set(['mobilenet_v2', 'resnet50']);

/** The zoo model with the package's deterministic synthetic weights (values do not matter for timing). */
async function syntheticModel(name, simd) {
  const opts = { ...(BUILD_OPTIONS[name] ?? {}) };
  const shapes = modelBuilder(name, opts).weightShapes();
  await init({ simd });
  return createModel(name, { ...opts, weights: syntheticWeights(shapes) });
}

/** tfjs-backend-wasm from node_modules, 1 thread (idempotent). */
export async function setupTfjs() {
  if (tf.getBackend() === 'wasm') return;
  const dist = fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
  setWasmPaths(dist.endsWith('/') ? dist : dist + '/');
  setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
}

let ortWebReady = false;
/** onnxruntime-web from node_modules: wasm SIMD, 1 thread (idempotent). */
export function setupOrtWeb() {
  if (ortWebReady) return;
  const dist = fileURLToPath(new URL('../node_modules/onnxruntime-web/dist/', import.meta.url));
  ortWeb.env.wasm.numThreads = 1;
  ortWeb.env.wasm.simd = true;
  ortWeb.env.wasm.wasmPaths = dist.endsWith('/') ? dist : dist + '/';
  ortWeb.env.logLevel = 'error';
  ortWebReady = true;
}

function maxDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a) {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

// ---- tfjs: the source graph re-expressed with tfjs ops in NHWC ------------------------------

const flat = (t) => t.data;

/** [O][I][KH][KW] (with BN scale folded per O) to HWIO, or [C][1][KH][KW] to [KH][KW][C][1]. */
function toHWIO(w, shape, scale, depthwise) {
  const [O, I, KH, KW] = shape;
  const out = new Float32Array(w.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let y = 0; y < KH; y++)
        for (let x = 0; x < KW; x++) {
          const v = w[((o * I + i) * KH + y) * KW + x] * scale[o];
          if (depthwise) out[(y * KW + x) * O + o] = v;
          else out[((y * KW + x) * I + i) * O + o] = v;
        }
  return depthwise ? tf.tensor4d(out, [KH, KW, O, 1]) : tf.tensor4d(out, [KH, KW, I, O]);
}

/**
 * A tfjs forward function for a source graph made of Conv, BatchNormalization, Relu,
 * Clip(0, 6), Add, MaxPool, GlobalAveragePool, Flatten, Gemm, Identity (MobileNetV2, ResNets).
 * Conv + BN + activation become one tf.fused.conv2d / depthwiseConv2d (BN folded on the host).
 */
export function tfjsForward(g) {
  const uses = new Map();
  for (const n of g.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const producer = new Map();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const consumers = (v) => g.nodes.filter((n) => n.inputs.includes(v));
  const init = (name) => g.initializers.get(name);
  const ops = []; // (env) => void
  const consumed = new Set();
  const keep = [];
  for (const n of g.nodes) {
    if (consumed.has(n)) continue;
    const x = n.inputs[0], y = n.outputs[0];
    if (n.op === 'Conv') {
      const w = init(n.inputs[1]);
      const [O, I, KH, KW] = w.shape;
      const group = n.attrs.group ?? 1;
      const depthwise = group > 1;
      if (depthwise && !(I === 1 && group === O)) throw new Error(`tfjs bench: grouped conv ${n.name}`);
      let scale = new Float32Array(O).fill(1);
      let bias = n.inputs[2] ? Float32Array.from(flat(init(n.inputs[2]))) : new Float32Array(O);
      let out = y;
      let next = consumers(out);
      if (next.length === 1 && next[0].op === 'BatchNormalization' && uses.get(out) === 1) {
        const bn = next[0];
        const [s, b, m, v] = bn.inputs.slice(1).map((i) => flat(init(i)));
        const eps = bn.attrs.epsilon ?? 1e-5;
        for (let o = 0; o < O; o++) {
          const k = s[o] / Math.sqrt(v[o] + eps);
          scale[o] = k;
          bias[o] = (bias[o] - m[o]) * k + b[o];
        }
        consumed.add(bn);
        out = bn.outputs[0];
        next = consumers(out);
      }
      let activation = 'linear';
      if (next.length === 1 && uses.get(out) === 1) {
        const a = next[0];
        const clip = a.op === 'Clip' ? [a.inputs[1], a.inputs[2]].map((i) => (i ? (init(i)?.data ?? g.intConstants.get(i)?.ints)[0] : undefined)) : null;
        if (a.op === 'Relu') activation = 'relu';
        else if (clip && clip[0] === 0 && clip[1] === 6) activation = 'relu6';
        if (activation !== 'linear') {
          consumed.add(a);
          out = a.outputs[0];
        }
      }
      const filter = toHWIO(flat(w), w.shape, scale, depthwise);
      const biasT = tf.tensor1d(bias);
      keep.push(filter, biasT);
      const [pt, pl, pb, pr] = n.attrs.pads ?? [0, 0, 0, 0];
      const pad = pt === pb && pl === pr && pt === pl ? pt : [[0, 0], [pt, pb], [pl, pr], [0, 0]];
      const strides = n.attrs.strides ?? [1, 1];
      const fn = depthwise ? tf.fused.depthwiseConv2d : tf.fused.conv2d;
      const dst = out;
      ops.push((env) => env.set(dst, fn({ x: env.get(x), filter, bias: biasT, strides, pad, activation })));
    } else if (n.op === 'Relu') ops.push((env) => env.set(y, tf.relu(env.get(x))));
    else if (n.op === 'Add') ops.push((env) => env.set(y, tf.add(env.get(x), env.get(n.inputs[1]))));
    else if (n.op === 'MaxPool') {
      const [pt] = n.attrs.pads ?? [0];
      ops.push((env) => env.set(y, tf.maxPool(env.get(x), n.attrs.kernel_shape, n.attrs.strides ?? 1, pt)));
    } else if (n.op === 'GlobalAveragePool') ops.push((env) => env.set(y, tf.mean(env.get(x), [1, 2], true)));
    else if (n.op === 'Flatten') ops.push((env) => env.set(y, tf.reshape(env.get(x), [env.get(x).shape[0], -1])));
    else if (n.op === 'Identity') ops.push((env) => env.set(y, env.get(x)));
    else if (n.op === 'Gemm') {
      if (!n.attrs.transB) throw new Error('tfjs bench: Gemm without transB');
      const w = init(n.inputs[1]);
      // [out][in] transposed on the host ([in][out]; fused matMul with transposeB disagreed here)
      const [O, I] = w.shape;
      const t = new Float32Array(O * I);
      for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) t[i * O + o] = w.data[o * I + i];
      const wt = tf.tensor2d(t, [I, O]);
      const b = tf.tensor1d(flat(init(n.inputs[2])));
      keep.push(wt, b);
      ops.push((env) => env.set(y, tf.fused.matMul({ a: env.get(x), b: wt, bias: b })));
    } else throw new Error(`tfjs bench: op ${n.op} (${n.name}) not translated`);
  }
  const input = g.inputs[0].name;
  const output = g.outputs[0].name;
  return {
    /** NHWC input tensor → output tensor (call inside tf.tidy). */
    forward(xNhwc) {
      const env = new Map([[input, xNhwc]]);
      for (const op of ops) op(env);
      return env.get(output);
    },
    dispose: () => keep.forEach((t) => t.dispose()),
  };
}

function nchwToNhwc(data, [N, C, H, W]) {
  const out = new Float32Array(data.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < H * W; p++) out[(n * H * W + p) * C + c] = data[(n * C + c) * H * W + p];
  return out;
}

// ---- one model, all contenders ------------------------------------------------------------

/**
 * Times every contender on one zoo model. Returns { name, gflops, ms: {who: median ms},
 * diff: {who: max|diff| vs wasmcnn}, refMax }.
 */
export async function benchModel(name, { runs = 10, warmup = 2, relaxed = false, log = () => {} } = {}) {
  const t0 = now();
  const model = await syntheticModel(name, 'baseline');
  const inName = model.inputNames[0];
  const shape = model.inputShapes[inName];
  const x = { data: randomFloats(shape.reduce((a, b) => a * b, 1), 11), shape };
  const feeds = { [inName]: x };
  const ref = model.runSync(feeds)[model.outputNames[0]].data;
  const macs = model.layerInfo().reduce((a, l) => a + l.macs, 0);

  const contenders = [{ who: 'wasmcnn', run: () => model.runSync(feeds), out: () => ref }];
  let relaxedModel;
  if (relaxed) {
    relaxedModel = await syntheticModel(name, 'relaxed');
    await init({ simd: 'baseline' });
    contenders.push({ who: 'wasmcnn-relaxed', run: () => relaxedModel.runSync(feeds), out: () => relaxedModel.runSync(feeds)[relaxedModel.outputNames[0]].data });
  }

  const bytes = exportOnnx(model);
  const sNode = await ortNode.InferenceSession.create(bytes, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3,
  });
  const tNode = new ortNode.Tensor('float32', x.data, shape);
  const nodeFeeds = { [sNode.inputNames[0]]: tNode };
  let lastNode;
  contenders.push({ who: 'ort-node', run: async () => (lastNode = await sNode.run(nodeFeeds)), out: async () => (await sNode.run(nodeFeeds))[sNode.outputNames[0]].data });

  setupOrtWeb();
  const sWeb = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const tWeb = new ortWeb.Tensor('float32', x.data, shape);
  const webFeeds = { [sWeb.inputNames[0]]: tWeb };
  contenders.push({ who: 'ort-web', run: () => sWeb.run(webFeeds), out: async () => (await sWeb.run(webFeeds))[sWeb.outputNames[0]].data });

  let tfjs;
  if (TFJS_MODELS.has(name)) {
    await setupTfjs();
    tfjs = tfjsForward(model.sourceGraph);
    const xt = tf.tensor4d(nchwToNhwc(x.data, shape), [shape[0], shape[2], shape[3], shape[1]]);
    const run = () => tf.tidy(() => tfjs.forward(xt).dataSync());
    contenders.push({ who: 'tfjs-wasm', run, out: run, dispose: () => xt.dispose() });
  }
  log(`  ${name}: built, exported (${(bytes.length / 1e6).toFixed(1)} MB) and loaded in ${((now() - t0) / 1000).toFixed(1)} s`);

  const diff = {};
  for (const c of contenders) diff[c.who] = maxDiff(ref, await c.out());

  const times = Object.fromEntries(contenders.map((c) => [c.who, []]));
  for (let r = 0; r < warmup + runs; r++) {
    // rotate the order so no contender always runs right after another's cache footprint
    for (let j = 0; j < contenders.length; j++) {
      const c = contenders[(j + r) % contenders.length];
      const t = now();
      await c.run();
      const dt = now() - t;
      if (r >= warmup) times[c.who].push(dt);
    }
  }
  void lastNode;
  const ttfr = await timeToFirstResult(bytes, feeds, x);
  // a first visit: each contender in a new process (bench/cold.js)
  const file = join(tmpdir(), `wasmcnn-bench-${name}-${process.pid}.onnx`);
  writeFileSync(file, bytes);
  try {
    ttfr.cold = coldStart(file);
  } finally {
    rmSync(file, { force: true });
  }
  for (const c of contenders) c.dispose?.();
  tfjs?.dispose();
  await sNode.release();
  await sWeb.release();
  const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  const result = { name, gflops: (2 * macs) / 1e9, ms, diff, refMax: maxAbs(ref), model, ttfr };
  if (relaxedModel) relaxedModel.dispose();
  return result;
}

/**
 * Time to first result, as a page meets it: from the ONNX bytes to the first output. wasmcnn:
 * loadOnnx + the first run(); onnxruntime-web: InferenceSession.create + the first run().
 * Rounds interleave the two (wasmcnn first, then ort-web, then the other way round); each
 * session is released before the next is made. Minimum over `rounds` of each part, in ms.
 */
export async function timeToFirstResult(bytes, feeds, x, rounds = 3) {
  setupOrtWeb();
  const best = { load: Infinity, first: Infinity, total: Infinity, webCreate: Infinity, webFirst: Infinity, webTotal: Infinity };
  const ours = async () => {
    const t0 = now();
    const m = await loadOnnx(bytes);
    const t1 = now();
    await m.run(feeds);
    const t2 = now();
    m.dispose();
    best.load = Math.min(best.load, t1 - t0);
    best.first = Math.min(best.first, t2 - t1);
    best.total = Math.min(best.total, t2 - t0);
  };
  const web = async () => {
    const t0 = now();
    const s = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    const t1 = now();
    await s.run({ [s.inputNames[0]]: new ortWeb.Tensor('float32', x.data, x.shape) });
    const t2 = now();
    await s.release();
    best.webCreate = Math.min(best.webCreate, t1 - t0);
    best.webFirst = Math.min(best.webFirst, t2 - t1);
    best.webTotal = Math.min(best.webTotal, t2 - t0);
  };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) await ours(), await web();
    else await web(), await ours();
  }
  return best;
}
