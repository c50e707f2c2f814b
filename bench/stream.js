// loadOnnx(fetch response) over a throttled local HTTP server, A/B of two builds: a build that
// reads the whole body before parsing it against one that parses it while it downloads (issue 18
// item 1). Build the "before" tree elsewhere (e.g. `git archive <commit> | tar -x -C /tmp/before`,
// link node_modules, copy dist/*.wasm, `npm run build:js`), then
//   node bench/stream.js /tmp/before/dist dist [models=mobilenet_v2,resnet50] [MB/s=50,200] [--rounds 3] [--trials 3] [--no-length]
// This process is only the server (node:http; the file in 64 KB chunks at the given rate, with
// its Content-Length, or with --no-length without one: chunked, a body of unknown size); the loads run in child processes, so the server's writes never wait on a
// parse. Two timings per build, each from fetch() to the model ready / its first result, plus the
// time from the last byte's arrival to the model ready:
// - cold: a new process per load (a page's first visit: init() and the JIT run during the
//   download, as loadOnnx overlaps them), builds alternating;
// - warm: one process loading with both builds in turn after a warm-up each (code already JITed).
// Per round the median of `trials` loads per build; reported: the minimum over rounds, and A/B.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const lib = (dist) => import(pathToFileURL(resolve(dist, 'node.js')).href);

/** One load of `url` with build `w`: { ready, first, tail } in ms. */
async function loadOnce(w, url) {
  let last = 0;
  const t0 = performance.now();
  const res = await fetch(url);
  // the last progress call comes once all bytes are in (with the total, or the count if unknown)
  const m = await w.loadOnnx(res, { onProgress: () => (last = performance.now()) });
  const t1 = performance.now();
  const name = m.inputNames[0];
  await m.run({ [name]: w.syntheticInput(m.inputShapes[name]) });
  const t2 = performance.now();
  m.dispose();
  return { ready: t1 - t0, first: t2 - t0, tail: t1 - last };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function child(mode, url, trials, dists) {
  if (mode === 'cold') return [await loadOnce(await lib(dists[0]), url)];
  const ws = [await lib(dists[0]), await lib(dists[1])];
  for (const w of ws) await loadOnce(w, url); // warm-up
  const got = [[], []];
  for (let t = 0; t < trials; t++) for (const i of t % 2 ? [1, 0] : [0, 1]) got[i].push(await loadOnce(ws[i], url));
  return got;
}

function run(args) {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [SELF, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? ok(JSON.parse(out)) : fail(new Error(`child exited with ${code}`))));
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv.splice(i, 2)[1]) : dflt;
  };
  const rounds = opt('rounds', 3);
  const trials = opt('trials', 3);
  const noLength = argv.includes('--no-length');
  if (noLength) argv.splice(argv.indexOf('--no-length'), 1);
  const [distA, distB, models = 'mobilenet_v2,resnet50', rates = '50,200'] = argv;
  if (!distA || !distB) {
    console.error('usage: node bench/stream.js <distA> <distB> [model,model] [MB/s,MB/s] [--rounds N] [--trials N]');
    process.exit(2);
  }
  const w = await lib(distB);
  const files = new Map();
  const server = createServer(async (req, res) => {
    const [, name, rate] = req.url.split('/');
    const bytes = files.get(name);
    const perMs = Number(rate) * 1e3;
    res.writeHead(200, noLength ? { 'content-type': 'application/octet-stream' } : { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
    const t0 = performance.now();
    const CHUNK = 1 << 16;
    for (let at = 0; at < bytes.length; at += CHUNK) {
      const wait = t0 + at / perMs - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      if (!res.write(bytes.subarray(at, at + CHUNK))) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  console.log(`A = ${distA}, B = ${distB}; ${noLength ? 'no Content-Length; ' : ''}min over ${rounds} rounds of the median of ${trials} loads (ms)`);
  for (const name of models.split(',')) {
    const src = await w.createModel(name, { weights: w.syntheticWeights(w.modelBuilder(name, {}).weightShapes()) });
    files.set(name, w.exportOnnx(src));
    src.dispose();
    for (const rate of rates.split(',')) {
      const url = `http://127.0.0.1:${port}/${name}/${rate}`;
      for (const mode of ['cold', 'warm']) {
        const best = [{}, {}];
        for (let r = 0; r < rounds; r++) {
          let got = [[], []];
          if (mode === 'warm') got = await run(['warm', url, String(trials), distA, distB]);
          else for (let t = 0; t < trials; t++) for (const i of t % 2 ? [1, 0] : [0, 1]) got[i].push((await run(['cold', url, '1', [distA, distB][i]]))[0]);
          for (const i of [0, 1]) for (const k of ['ready', 'first', 'tail']) best[i][k] = Math.min(best[i][k] ?? Infinity, median(got[i].map((x) => x[k])));
        }
        const f = (x) => x.toFixed(1).padStart(7);
        const [a, b] = best;
        console.log(
          `${name.padEnd(13)} ${(files.get(name).length / 1e6).toFixed(1).padStart(5)} MB ${rate.padStart(4)} MB/s ${mode}  ` +
            `ready A ${f(a.ready)} B ${f(b.ready)} (A/B ${(a.ready / b.ready).toFixed(3)})  ` +
            `first result A ${f(a.first)} B ${f(b.first)} (A/B ${(a.first / b.first).toFixed(3)})  ` +
            `last byte -> ready A ${f(a.tail)} B ${f(b.tail)}`,
        );
      }
    }
  }
  server.close();
}

if (process.argv[2] === '--child') {
  const [mode, url, trials, ...dists] = process.argv.slice(3);
  process.stdout.write(JSON.stringify(await child(mode, url, Number(trials), dists)));
} else await main();
