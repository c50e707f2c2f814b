// The soak (`npm run soak`; a short form runs in npm test through test/lifecycle.test.ts): many
// runs of LeNet-5 and MobileNetV2 on one model each, then many create/run/dispose cycles of
// MobileNetV2, on 1 thread and on 2. After each phase's first cycle and after its last, the
// garbage collector runs and the process's resident memory (RSS) and the wasm/ArrayBuffer memory
// are sampled: what a phase keeps must stay within 5% of what it held after one cycle (or, past
// V8's warm-up, stop growing: see phase()). A leak of
// one model's memory per cycle (the worker threads holding a disposed model's memory) shows as
// +20 MiB per cycle. Runs the built package (dist/), so `npm run build` first.
//
// V8 grows its young generation under allocation pressure (from 1 to 16 MiB semi-spaces): on
// its own that adds some 25 MiB of RSS over the first dozens of cycles, with the live heap flat.
// The soak fixes the semi-spaces at 16 MiB so that RSS measures what is kept, and runs the
// collector before sampling (it re-runs itself with those flags when started without them).
//
//   node tools/soak.mjs [--threads 1,2] [--lenet 10000] [--mobilenet 1000] [--cycles 500]
//                       [--size 224] [--tolerance 0.05] [--json]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FLAGS = ['--expose-gc', '--max-semi-space-size=1'];
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, [...FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { init, modelBuilder, syntheticInput, syntheticWeights } = await import('../dist/src/node.js');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const threadCounts = String(opt('threads', '1,2')).split(',').map(Number);
const lenetRuns = Number(opt('lenet', 10000));
const mobilenetRuns = Number(opt('mobilenet', 1000));
const cycles = Number(opt('cycles', 500));
const size = Number(opt('size', 224));
const tolerance = Number(opt('tolerance', 0.05));
const json = args.includes('--json');

/** Resident and array-buffer memory (MiB) once garbage is collected and ended workers are gone. */
async function sample() {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    globalThis.gc();
  }
  const m = process.memoryUsage();
  return { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20, buffers: m.arrayBuffers / 2 ** 20 };
}

const mobileOptions = { inputSize: size };
const mobileWeights = syntheticWeights(modelBuilder('mobilenet_v2', mobileOptions).weightShapes());
const lenetWeights = syntheticWeights(modelBuilder('lenet5').weightShapes());

/**
 * Runs `n` cycles of `step`, sampling after the first, the middle one and the last; returns the
 * row. A leak grows with every cycle; V8's warm-up (optimised code, inline caches) adds a few MiB
 * over the first hundred cycles and then stops: a phase passes when it stays within `tolerance`
 * of the first cycle, or when its second half grows by less than a fifth of that (a plateau).
 */
async function phase(name, threads, n, step) {
  const t0 = performance.now();
  await step(0);
  const first = await sample();
  const half = Math.max(1, n >> 1);
  let mid = first;
  for (let i = 1; i < n; i++) {
    await step(i);
    if (i === half - 1 && i < n - 1) mid = await sample();
  }
  const last = await sample();
  const growth = last.rss / first.rss - 1;
  const secondHalf = last.rss / mid.rss - 1;
  return {
    phase: name,
    threads,
    cycles: n,
    seconds: (performance.now() - t0) / 1000,
    rssFirst: first.rss,
    rssLast: last.rss,
    heapFirst: first.heap,
    heapLast: last.heap,
    buffersFirst: first.buffers,
    buffersLast: last.buffers,
    rssMid: mid.rss,
    growth,
    secondHalf,
    ok: growth <= tolerance || (n >= 100 && secondHalf <= tolerance / 5),
  };
}

const rows = [];
for (const threads of threadCounts) {
  await init({ threads });
  for (const [name, weights, options, runs] of [
    ['lenet5', lenetWeights, {}, lenetRuns],
    ['mobilenet_v2', mobileWeights, mobileOptions, mobilenetRuns],
  ]) {
    const m = await modelBuilder(name, options).build(weights);
    const x = syntheticInput(m.inputShapes[m.inputNames[0]]);
    rows.push(await phase(`${name} x${runs} runs`, m.threads, runs, () => m.predict(x)));
    m.dispose();
  }
  const x = syntheticInput([1, 3, size, size]);
  let used = 0;
  rows.push(
    await phase(`mobilenet_v2 x${cycles} create/run/dispose`, threads, cycles, async () => {
      const m = await modelBuilder('mobilenet_v2', mobileOptions).build(mobileWeights);
      used = m.threads;
      await m.predict(x);
      m.dispose();
    }),
  );
  rows[rows.length - 1].threads = used;
}
await init({ threads: 1 });

if (json) console.log(JSON.stringify(rows));
else {
  const f = (v) => v.toFixed(1);
  console.log('| phase | threads | seconds | RSS after 1st / middle / last (MiB) | growth vs 1st | growth over 2nd half | JS heap 1st / last | array buffers 1st / last | |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  const pc = (v) => `${(v * 100).toFixed(1)}%`;
  for (const r of rows)
    console.log(
      `| ${r.phase} | ${r.threads} | ${f(r.seconds)} | ${f(r.rssFirst)} / ${f(r.rssMid)} / ${f(r.rssLast)} | ${pc(r.growth)} | ${pc(r.secondHalf)} | ` +
        `${f(r.heapFirst)} / ${f(r.heapLast)} | ${f(r.buffersFirst)} / ${f(r.buffersLast)} | ${r.ok ? 'ok' : 'FAIL'} |`,
    );
}
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
