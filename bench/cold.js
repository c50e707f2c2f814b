// Cold start: what a page's first visit costs, each contender in a new Node process (nothing
// compiled, no memory touched before): the engine's set-up (wasmcnn init(), onnxruntime-web's
// first InferenceSession's wasm instantiation is inside its create), the load of the ONNX file
// and the first run. Processes alternate between contenders; the minimum of `rounds` is kept.
//   node bench/cold.js model.onnx [rounds]      (or coldStart() from bench/run.js)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

/** One contender's cold start in this process: { init, load, first } in ms. */
async function child(who, file) {
  const { readFileSync } = await import('node:fs');
  const bytes = new Uint8Array(readFileSync(file));
  const now = () => performance.now();
  if (who === 'wasmcnn') {
    const w = await import('../dist/node.js');
    const t0 = now();
    await w.init({ simd: 'baseline' });
    const t1 = now();
    const m = await w.loadOnnx(bytes);
    const t2 = now();
    const shape = m.inputShapes[m.inputNames[0]];
    const feeds = { [m.inputNames[0]]: { data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape } };
    await m.run(feeds);
    const t3 = now();
    return { init: t1 - t0, load: t2 - t1, first: t3 - t2, steady: await steady(() => m.run(feeds)) };
  }
  const ort = await import('onnxruntime-web');
  const dist = fileURLToPath(new URL('../node_modules/onnxruntime-web/dist/', import.meta.url));
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.wasmPaths = dist.endsWith('/') ? dist : dist + '/';
  ort.env.logLevel = 'error';
  const t1 = now();
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const t2 = now();
  const meta = s.inputNames[0];
  // the bench models take one NCHW image; the shape comes from the file's first input
  const dims = (s.inputMetadata?.[0]?.shape ?? [1, 3, 224, 224]).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const feeds = { [meta]: new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5), dims) };
  await s.run(feeds);
  const t3 = now();
  return { init: 0, load: t2 - t1, first: t3 - t2, steady: await steady(() => s.run(feeds)) };
}

/** The fastest of 5 runs after the first: what the first run is compared with (first/steady). */
async function steady(run) {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await run();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/**
 * Cold start of wasmcnn and onnxruntime-web on one ONNX file, each round a new process per
 * contender (alternating which goes first). Returns { wasmcnn, 'ort-web' }, each the minimum
 * over rounds of { init, load, first, total, steady, firstRatio } (steady: the best of 5 runs
 * after the first; firstRatio: first / steady within one process).
 */
export function coldStart(file, rounds = 3) {
  const best = {};
  const order = ['wasmcnn', 'ort-web'];
  for (let r = 0; r < rounds; r++) {
    for (const who of r % 2 ? [...order].reverse() : order) {
      const p = spawnSync(process.execPath, [SELF, '--child', who, file], { encoding: 'utf8' });
      if (p.status !== 0) throw new Error(`cold start of ${who} failed: ${p.stderr}`);
      const t = JSON.parse(p.stdout.trim().split('\n').pop());
      t.total = t.init + t.load + t.first;
      t.firstRatio = t.first / t.steady;
      const b = (best[who] ??= { init: Infinity, load: Infinity, first: Infinity, total: Infinity, steady: Infinity, firstRatio: Infinity });
      for (const k of Object.keys(b)) b[k] = Math.min(b[k], t[k]);
    }
  }
  return best;
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await child(process.argv[3], process.argv[4])));
} else if (process.argv[1] === SELF && process.argv[2]) {
  const r = coldStart(process.argv[2], Number(process.argv[3] ?? 3));
  for (const [who, t] of Object.entries(r)) console.log(who, Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)])));
  console.log('total ratio', (r.wasmcnn.total / r['ort-web'].total).toFixed(2));
}
