// Conv layers, wasmcnn against @tensorflow/tfjs-backend-wasm (XNNPACK), each timed inside a
// chain of identical layers (one layer's output feeds the next) and divided by the chain length.
import * as tf from '@tensorflow/tfjs-core';
import { G_SIZE, G } from './geometry.js';
import { randomFloats, median, now } from './wasm.js';

/** One layer description: NHWC input H×W×C, OC outputs, square kernel, stride, symmetric pad. */
export const LAYERS = [
  { name: 'conv 3x3 56x56 64->64 pad 1', kind: 'conv', H: 56, W: 56, C: 64, OC: 64, K: 3, S: 1, P: 1 },
  { name: 'conv 1x1 56x56 144->144', kind: 'conv', H: 56, W: 56, C: 144, OC: 144, K: 1, S: 1, P: 0 },
  { name: 'conv 3x3 224x224 3->32 s2', kind: 'conv', H: 224, W: 224, C: 3, OC: 32, K: 3, S: 2, P: 1 },
  { name: 'dwconv 3x3 112x112x32 s1', kind: 'dw', H: 112, W: 112, C: 32, OC: 32, K: 3, S: 1, P: 1 },
  { name: 'dwconv 3x3 56x56x144 s2', kind: 'dw', H: 56, W: 56, C: 144, OC: 144, K: 3, S: 2, P: 1 },
];

const outSize = (x, l) => Math.floor((x + 2 * l.P - l.K) / l.S) + 1;

export function layerFlops(l) {
  const oh = outSize(l.H, l), ow = outSize(l.W, l);
  return 2 * oh * ow * l.OC * l.K * l.K * (l.kind === 'dw' ? 1 : l.C);
}

/** A layer chains with itself when its output has its input's shape. */
const chainable = (l) => l.S === 1 && l.C === l.OC;

/** Weights in PyTorch layout: conv [OC][C][K][K], depthwise [C][1][K][K]; bias [OC]. */
function makeWeights(l) {
  const perOut = l.kind === 'dw' ? 1 : l.C;
  const scale = 1 / Math.sqrt(perOut * l.K * l.K); // keeps activations O(1) along the chain
  const w = randomFloats(l.OC * perOut * l.K * l.K, 7).map((v) => v * scale);
  return { w, bias: randomFloats(l.OC, 8).map((v) => v * 0.1), input: randomFloats(l.H * l.W * l.C, 9) };
}

/** PyTorch [OC][C][K][K] (or [C][1][K][K]) → TF [K][K][C][OC] (or [K][K][C][1]). */
function toTfFilter(l, w) {
  const cin = l.kind === 'dw' ? l.OC : l.C, cout = l.kind === 'dw' ? 1 : l.OC;
  const out = new Float32Array(w.length);
  for (let o = 0; o < l.OC; o++)
    for (let c = 0; c < (l.kind === 'dw' ? 1 : l.C); c++)
      for (let i = 0; i < l.K; i++)
        for (let j = 0; j < l.K; j++) {
          const src = ((o * (l.kind === 'dw' ? 1 : l.C) + c) * l.K + i) * l.K + j;
          const ci = l.kind === 'dw' ? o : c, co = l.kind === 'dw' ? 0 : o;
          out[((i * l.K + j) * cin + ci) * cout + co] = w[src];
        }
  return tf.tensor4d(out, [l.K, l.K, cin, cout]);
}

/** wasmcnn side: packs the weights once, returns run(chainLength) and the output of one layer. */
function setupWasmcnn(wm, l, data) {
  const { k, alloc, f32, i32 } = wm;
  const oh = outSize(l.H, l), ow = outSize(l.W, l);
  const g = alloc(G_SIZE * 4);
  const geo = new Array(G_SIZE).fill(0);
  Object.assign(geo, {
    [G.N]: 1, [G.H]: l.H, [G.W]: l.W, [G.C]: l.C, [G.OH]: oh, [G.OW]: ow, [G.OC]: l.OC,
    [G.KH]: l.K, [G.KW]: l.K, [G.SH]: l.S, [G.SW]: l.S, [G.PT]: l.P, [G.PL]: l.P, [G.PB]: l.P, [G.PR]: l.P,
    [G.DH]: 1, [G.DW]: 1, [G.GROUPS]: l.kind === 'dw' ? l.C : 1,
    [G.IN_STRIDE]: l.C, [G.OUT_STRIDE]: l.OC, [G.RES_STRIDE]: l.OC,
  });
  const dw = l.kind === 'dw';
  // the host's choice (src/ops/conv.ts): dense 3x3 stride 1 runs Winograd, F(4x4, 3x3) for small filters (C·OC <= 192²) without tile waste
  const wino = !dw && l.K === 3 && l.S === 1 && l.C >= 8 && l.OC >= 8 && typeof k.wino_conv_f32 === 'function';
  if (wino && l.C * l.OC <= 192 * 192) geo[G.FLAGS] = 2;
  // and the rest with at most 32 input channels reads the input in place (FLAG_CONV_DIRECT)
  if (!dw && !wino && l.C <= 32) geo[G.FLAGS] = 4;
  i32(g, G_SIZE).set(geo);
  const w = alloc(data.w.length * 4), b = alloc(l.OC * 4);
  f32(w, data.w.length).set(data.w);
  f32(b, l.OC).set(data.bias);
  const packed = alloc((dw ? k.dwconv_packed_size(g) : wino ? k.wino_packed_size(g) : k.conv2d_packed_size(g)) * 4);
  if (dw) k.dwconv_pack(w, b, g, packed);
  else if (wino) k.wino_pack(w, b, g, packed);
  else k.conv2d_pack(w, b, g, packed);
  const scratch = dw ? 0 : alloc(Math.max(4, wino ? k.wino_scratch_size(g) : k.conv2d_scratch_size(g)));
  const inFloats = l.H * l.W * l.C, outFloats = oh * ow * l.OC;
  const x0 = alloc(inFloats * 4), x1 = alloc(Math.max(inFloats, outFloats) * 4);
  f32(x0, inFloats).set(data.input);
  const layer = dw
    ? (x, y) => k.dwconv_f32(g, x, packed, y, 0, 1)
    : wino
      ? (x, y) => k.wino_conv_f32(g, x, packed, y, 0, scratch, 0, 1)
      : (x, y) => k.conv2d_f32(g, x, packed, y, 0, scratch, 0, 1);
  return {
    run(n) {
      if (chainable(l)) for (let i = 0; i < n; i++) i & 1 ? layer(x1, x0) : layer(x0, x1);
      else for (let i = 0; i < n; i++) layer(x0, x1);
    },
    once() {
      f32(x0, inFloats).set(data.input);
      layer(x0, x1);
      return f32(x1, outFloats).slice();
    },
  };
}

/** tfjs side: same weights; the chain runs inside tf.tidy and ends with a dataSync. */
function setupTfjs(l, data) {
  const filter = toTfFilter(l, data.w);
  const bias = tf.tensor1d(data.bias);
  const input = tf.tensor4d(data.input, [1, l.H, l.W, l.C]);
  const layer = l.kind === 'dw'
    ? (x) => tf.fused.depthwiseConv2d({ x, filter, bias, strides: l.S, pad: l.P })
    : (x) => tf.fused.conv2d({ x, filter, bias, strides: l.S, pad: l.P });
  return {
    run(n) {
      tf.tidy(() => {
        let x = input, y = input;
        for (let i = 0; i < n; i++) {
          y = layer(x);
          if (chainable(l)) x = y;
        }
        y.dataSync();
      });
    },
    once: () => tf.tidy(() => layer(input).dataSync()),
    dispose() { filter.dispose(); bias.dispose(); input.dispose(); },
  };
}

/**
 * Times both contenders on one layer, interleaved (the order alternates every round), and
 * checks once that both compute the same thing.
 */
export function benchLayer(wm, l, { chain = 8, rounds = 15, warmup = 3 } = {}) {
  const data = makeWeights(l);
  const ours = setupWasmcnn(wm, l, data);
  const theirs = setupTfjs(l, data);
  const a = ours.once(), b = theirs.once();
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  const tOurs = [], tTheirs = [];
  for (let r = 0; r < warmup + rounds; r++) {
    const order = r & 1 ? [[theirs, tTheirs], [ours, tOurs]] : [[ours, tOurs], [theirs, tTheirs]];
    for (const [who, times] of order) {
      const t0 = now();
      who.run(chain);
      const dt = (now() - t0) / chain;
      if (r >= warmup) times.push(dt);
    }
  }
  theirs.dispose();
  const flops = layerFlops(l);
  const msOurs = median(tOurs), msTheirs = median(tTheirs);
  return {
    msOurs, msTheirs, ratio: msOurs / msTheirs, maxDiff,
    gflopsOurs: flops / msOurs / 1e6, gflopsTheirs: flops / msTheirs / 1e6,
    chained: chainable(l),
  };
}
