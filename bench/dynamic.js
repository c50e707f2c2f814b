// Dynamic input shapes (issue 15): what a new input shape costs a model loaded with dynamic dims.
// For each model: planned at load for its first shape; then, per new shape, the first run (plan
// made: shape inference, passes, arena layout, kernel parameters; weights already packed unless
// the shape picks a new kernel variant) as a multiple of the steady run at that shape (a first
// run happens once a model, so `rounds` fresh models give the samples: their median and range
// are reported; one sample swung 1.15-1.42x on this shared machine); a re-plan
// (planCache 1, two shapes alternating: every run plans again without packing) and a cached
// shape's run (planCache 2, two shapes alternating: the plan switches every run), each against a
// steady run at that shape in the same round. Target: first run <= 1.3x steady, cached shape 1.0x.
// Models: resnet50 (zoo, inputSize 'dynamic') and a PaddleOCR-det-like graph: a MobileNetV3-large
// x0.5 backbone (Howard et al. 2019) with a DB-style FPN head (Liao et al. 2020: 1x1 laterals to
// 96 channels, nearest x2 top-down adds, 3x3 smoothing to 24 channels each, up-sampled to stride
// 4 and concatenated, then conv + two 2x2 stride-2 transposed convs to a probability map),
// built with GraphBuilder, at page sizes 640x480 and 960x736 (and others).
import { init, createModel, modelBuilder, syntheticWeights, syntheticInput, GraphBuilder } from '../dist/node.js';
import { median, now } from './wasm.js';

const md = (v) => Math.max(8, Math.floor((v + 4) / 8) * 8);

/** PaddleOCR's det backbone rows (MobileNetV3 large): kernel, expansion, out, SE, activation, stride; scaled x0.5. */
const MBV3 = [
  [3, 16, 16, false, 'relu', 1], [3, 64, 24, false, 'relu', 2], [3, 72, 24, false, 'relu', 1],
  [5, 72, 40, true, 'relu', 2], [5, 120, 40, true, 'relu', 1], [5, 120, 40, true, 'relu', 1],
  [3, 240, 80, false, 'hs', 2], [3, 200, 80, false, 'hs', 1], [3, 184, 80, false, 'hs', 1], [3, 184, 80, false, 'hs', 1],
  [3, 480, 112, true, 'hs', 1], [3, 672, 112, true, 'hs', 1],
  [5, 672, 160, true, 'hs', 2], [5, 960, 160, true, 'hs', 1], [5, 960, 160, true, 'hs', 1],
];

export function ocrDet(shape) {
  const b = new GraphBuilder();
  const act = (x, a) => (a === 'relu' ? b.relu(x) : a === 'hs' ? b.act('HardSwish', x) : x);
  const cba = (x, name, out, kernel, stride, a, groups = 1) =>
    act(b.batchNorm(b.conv(x, `${name}.conv`, { out, kernel, stride, pad: (kernel - 1) >> 1, groups, bias: false }), `${name}.bn`), a);
  const scale = 0.5;
  let x = cba(b.input('x', shape), 'conv1', md(16 * scale), 3, 2, 'hs');
  let inC = md(16 * scale);
  const taps = [];
  MBV3.forEach(([k, exp, out, se, a, s], i) => {
    const e = md(scale * exp);
    const o = md(scale * out);
    if (s === 2 && i > 1) taps.push(x); // the stage before each down-sampling
    let y = cba(x, `stages.${i}.expand`, e, 1, 1, a);
    y = cba(y, `stages.${i}.dw`, e, k, s, a, e);
    if (se) {
      const p = b.relu(b.conv(b.globalAvgPool(y), `stages.${i}.se.conv1`, { out: e >> 2, kernel: 1 }));
      y = b.mul(y, b.act('HardSigmoid', b.conv(p, `stages.${i}.se.conv2`, { out: e, kernel: 1 }), { alpha: 0.2, beta: 0.5 }));
    }
    y = cba(y, `stages.${i}.linear`, o, 1, 1, 'none');
    x = s === 1 && inC === o ? b.add(x, y) : y;
    inC = o;
  });
  taps.push(cba(x, 'conv2', md(scale * 960), 1, 1, 'hs'));
  // DB FPN: laterals, top-down adds, smoothing, up-sampling to stride 4, concat
  const up = (v, f) => b.node('Resize', [v, '', b.constant([1, 1, f, f], [4])], { mode: 'nearest' })[0];
  const lat = taps.map((t, i) => b.conv(t, `neck.in${i + 2}_conv`, { out: 96, kernel: 1, bias: false }));
  const td = [lat[3]];
  for (let i = 2; i >= 0; i--) td.unshift(b.add(lat[i], up(td[0], 2)));
  const ps = td.map((t, i) => up(b.conv(t, `neck.p${i + 2}_conv`, { out: 24, kernel: 3, pad: 1, bias: false }), 2 ** i));
  const fuse = b.concat(ps.slice().reverse());
  // DB head: probability map at the input resolution
  let h = b.relu(b.batchNorm(b.conv(fuse, 'head.conv1', { out: 24, kernel: 3, pad: 1, bias: false }), 'head.bn1'));
  const convT = (v, name, out) =>
    b.node('ConvTranspose', [v, b.param(`${name}.weight`, [b.shape(v)[1], out, 2, 2]), b.param(`${name}.bias`, [out])], { strides: [2, 2], kernel_shape: [2, 2] }, 1, name)[0];
  h = b.relu(b.batchNorm(convT(h, 'head.conv2', 24), 'head.bn2'));
  b.output(b.node('Sigmoid', [convT(h, 'head.conv3', 1)])[0], 'maps');
  return b;
}

export const DYNAMIC_MODELS = ['resnet50', 'ocr_det'];

/** Shapes per model: the first is planned at load. */
const SHAPES = {
  resnet50: [[224, 224], [256, 256], [192, 288], [320, 240]],
  ocr_det: [[480, 640], [736, 960], [544, 736], [640, 480]],
};

async function load(name) {
  if (name === 'ocr_det') {
    const b = ocrDet([1, 3, ...SHAPES.ocr_det[0]]);
    const w = syntheticWeights(b.weightShapes());
    return { make: (planCache) => b.build(w, { dynamicAxes: { x: [0, 2, 3] }, planCache }) };
  }
  const w = syntheticWeights(modelBuilder(name).weightShapes());
  return { make: (planCache) => createModel(name, { weights: w, inputSize: 'dynamic', planCache }) };
}

function steady(m, feeds, runs) {
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t = now();
    m.runSync(feeds);
    ts.push(now() - t);
  }
  return median(ts);
}

/**
 * Alternate two shapes `runs` times: each round runs shape a, then times shape b twice, the
 * first right after a (the switched run) and the second after b itself (a steady run in the same
 * round, so the machine's state is the same for both). Returns the switched runs' median time and
 * the median of the rounds' switched/steady ratios.
 */
function alternate(m, fa, fb, runs) {
  const ts = [];
  const ratios = [];
  for (let i = 0; i < runs; i++) {
    m.runSync(fa);
    let t = now();
    m.runSync(fb);
    const switched = now() - t;
    t = now();
    m.runSync(fb);
    ts.push(switched);
    ratios.push(switched / (now() - t));
  }
  return { ms: median(ts), ratio: median(ratios) };
}

export async function benchDynamic(models, runs, rounds = 3) {
  await init({ simd: 'baseline' });
  const rows = [];
  for (const name of models) {
    const { make } = await load(name);
    const feedsOf = ([h, w]) => {
      const m0 = { x: syntheticInput([1, 3, h, w], `${name}${h}x${w}`) };
      return (m) => ({ [m.inputNames[0]]: m0.x });
    };
    const shapes = SHAPES[name];
    // 1. a fresh model: the first run at each new shape against its steady run; one sample a
    // model, so `rounds` fresh models in turn, each shape's median ratio reported with its range.
    // The models are disposed at the end: a model made after one is disposed reuses its memory,
    // and would not pay the fresh pages a new largest shape costs
    let steady0 = Infinity;
    const made = [];
    const samples = shapes.slice(1).map((shape) => ({ shape, firsts: [], steadies: [], ratios: [], packed: 0 }));
    for (let round = 0; round < rounds; round++) {
      const m = await make(4);
      made.push(m);
      const f0 = feedsOf(shapes[0])(m);
      for (let i = 0; i < 2; i++) m.runSync(f0);
      steady0 = Math.min(steady0, steady(m, f0, runs));
      for (const e of samples) {
        const f = feedsOf(e.shape)(m);
        const packs0 = m.planStats().packs;
        const t = now();
        m.runSync(f);
        const first = now() - t;
        const st = steady(m, f, runs);
        e.firsts.push(first);
        e.steadies.push(st);
        e.ratios.push(first / st);
        e.packed = Math.max(e.packed, m.planStats().packs - packs0);
      }
    }
    for (const m of made) m.dispose();
    const fresh = samples.map((e) => ({
      shape: e.shape, first: median(e.firsts), steady: median(e.steadies), ratio: median(e.ratios),
      lo: Math.min(...e.ratios), hi: Math.max(...e.ratios), packed: e.packed,
    }));
    // 2. re-plan (planCache 1) and cached (planCache 2), the first two shapes alternating
    const r1 = await make(1);
    const fa = feedsOf(shapes[0])(r1);
    const fb = feedsOf(shapes[1])(r1);
    alternate(r1, fa, fb, 2);
    const replan = alternate(r1, fa, fb, runs);
    const plansMade = r1.planStats().plans;
    r1.dispose();
    const r2 = await make(2);
    alternate(r2, fa, fb, 2);
    const cached = alternate(r2, fa, fb, runs);
    const cachedPlans = r2.planStats().plans;
    r2.dispose();
    rows.push({ name, shapes, steady0, fresh, replan, cached, plansMade, cachedPlans });
  }
  return rows;
}
