// int8 against float32 without Python: quantize() (uint8, per-channel, minmax) of ResNet basic
// blocks built with GraphBuilder (conv3x3 + ReLU, conv3x3, + x, ReLU at 64x56x56, 128x28x28,
// 256x14x14, 512x7x7) and of resnet50 (synthetic weights, 224x224), one thread, int8 and float
// runs interleaved in one process: the minimum of per-round medians; resnet50 also per layer
// group (sums of profile() step medians, minimum over rounds). With a second dist directory
// (`node bench/int8-resnet.js [rounds] [other/dist]`, e.g. a worktree of the commit before),
// that build's int8 model runs in the same rounds and its time is printed next to ours.
const rounds = Number(process.argv[2] ?? 7);
const builds = [['this', await import('../dist/node.js')]];
if (process.argv[3]) builds.push(['other', await import(new URL(`file://${process.argv[3].replace(/\/$/, '')}/node.js`).href)]);

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
function time(model, feeds, n = 9) {
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    model.runSync(feeds);
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

async function basicBlock(L, C, H) {
  await L.init({ simd: 'baseline', threads: 1 });
  const b = new L.GraphBuilder();
  const x = b.input('x', [1, C, H, H]);
  let y = b.relu(b.conv(x, 'conv1', { out: C, kernel: 3, pad: 1 }));
  y = b.conv(y, 'conv2', { out: C, kernel: 3, pad: 1 });
  b.output(b.relu(b.add(y, x)), 'y');
  const f = await b.build(L.syntheticWeights(b.weightShapes()));
  const q = await L.quantize(f, { calibration: [0, 1, 2].map((i) => L.syntheticInput(f.inputShapes.x, `cal${i}`)) });
  return { f, q, feeds: { x: L.syntheticInput(f.inputShapes.x, 'x') } };
}

async function resnet50(L) {
  await L.init({ simd: 'baseline', threads: 1 });
  const f = await L.createModel('resnet50', { weights: L.syntheticWeights(L.modelBuilder('resnet50').weightShapes()) });
  const name = f.inputNames[0];
  const feeds = { [name]: L.syntheticInput(f.inputShapes[name], 'x') };
  const q = await L.quantize(f, { calibration: [feeds] });
  return { f, q, feeds };
}

const fmt = (ms) => `${ms.toFixed(2)} ms`;
for (const [C, H] of [[64, 56], [128, 28], [256, 14], [512, 7]]) {
  const ms = [];
  for (const [, L] of builds) ms.push(await basicBlock(L, C, H));
  const best = { f32: Infinity, int8: ms.map(() => Infinity) };
  for (let r = 0; r < rounds; r++) {
    best.f32 = Math.min(best.f32, time(ms[0].f, ms[0].feeds));
    ms.forEach((m, i) => (best.int8[i] = Math.min(best.int8[i], time(m.q, m.feeds))));
  }
  console.log(`basic block ${C}x${H}x${H}: float32 ${fmt(best.f32)}, ` +
    builds.map(([tag], i) => `int8 (${tag}) ${fmt(best.int8[i])} = ${(best.int8[i] / best.f32).toFixed(2)}x`).join(', '));
  for (const m of ms) { m.f.dispose(); m.q.dispose(); }
}

const ms = [];
for (const [, L] of builds) ms.push(await resnet50(L));
const group = (node) => node.replace(/layer(\d)\.\d+/, 'layer$1.x');
const steps = ms.map(() => new Map());
const fsteps = new Map();
const best = { f32: Infinity, int8: ms.map(() => Infinity) };
const keep = (map, prof) => { for (const p of prof) map.set(p.node, Math.min(map.get(p.node) ?? Infinity, p.ms)); };
for (let r = 0; r < rounds; r++) {
  best.f32 = Math.min(best.f32, time(ms[0].f, ms[0].feeds, 5));
  ms.forEach((m, i) => (best.int8[i] = Math.min(best.int8[i], time(m.q, m.feeds, 5))));
  keep(fsteps, ms[0].f.profile(ms[0].feeds, { runs: 3 }));
  ms.forEach((m, i) => keep(steps[i], m.q.profile(m.feeds, { runs: 3 })));
}
console.log(`resnet50: float32 ${fmt(best.f32)}, ` + builds.map(([tag], i) => `int8 (${tag}) ${fmt(best.int8[i])} = ${(best.int8[i] / best.f32).toFixed(2)}x`).join(', '));
const rows = new Map();
for (const p of ms[0].q.profile(ms[0].feeds, { runs: 1 })) {
  if (p.op !== '_QConv') continue;
  const row = rows.get(group(p.node)) ?? { f32: 0, int8: ms.map(() => 0) };
  row.f32 += fsteps.get(p.node) ?? NaN;
  steps.forEach((s, i) => (row.int8[i] += s.get(p.node)));
  rows.set(group(p.node), row);
}
for (const [g, row] of rows)
  console.log(`  ${g.padEnd(22)} float32 ${fmt(row.f32).padStart(9)}  ` + builds.map(([tag], i) => `int8 (${tag}) ${fmt(row.int8[i]).padStart(9)} ${(row.int8[i] / row.f32).toFixed(2)}x`).join('  '));
