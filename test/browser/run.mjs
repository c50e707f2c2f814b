// Browser end-to-end check: serves the repository on 127.0.0.1, opens test/browser/page.html
// in Debian's headless Chromium (playwright-core, no browser download) and compares what the
// page computes with the same built package in Node. The page is served cross-origin isolated
// (COOP/COEP, so SharedArrayBuffer exists) and must run models on 2 threads with the 1-thread
// results; loaded again without those headers, it must warn once and fall back to 1 thread.
// test/browser/transfer.html fine-tunes a frozen backbone's new head there on 2 threads.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, requireChromium, tally } from '../harness.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ONNX = fileURLToPath(new URL('../../../shared/onnx-backend-tests/pytorch-converted/', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream' };

requireChromium('browser');

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname.startsWith('/onnx/') ? join(ONNX, normalize(url.pathname.slice(6))) : join(ROOT, normalize(url.pathname));
  if (!path.startsWith(ROOT) && !path.startsWith(ONNX)) return res.writeHead(403).end();
  if (!existsSync(path)) return res.writeHead(404).end();
  // ?no-isolation serves the page as an ordinary site would: no SharedArrayBuffer, so no threads
  const isolation = url.searchParams.has('no-isolation')
    ? {}
    : { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' };
  res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', ...isolation });
  res.end(readFileSync(path));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const browser = await launchChromium();
const { check, finish } = tally('browser');
const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

// Opens the page in a fresh context and waits for both of its reports.
async function load(query) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('console', (m) => console.log(`[page${query}] ${m.text()}`));
    page.on('pageerror', (e) => console.log(`[page${query}] uncaught: ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/test/browser/page.html${query}`);
    await page.waitForFunction(() => window.result !== undefined && window.threads !== undefined, null, { timeout: 120_000 });
    return await page.evaluate(() => ({ result: window.result, threads: window.threads }));
  } catch (e) {
    return { error: e.message.split('\n')[0] };
  } finally {
    await context.close();
  }
}

// The page's 1- and 2-thread runs; `isolated`: whether 2 threads must be granted.
function checkThreads(t, isolated) {
  const where = isolated ? 'cross-origin isolated page' : 'page without COOP/COEP';
  check(t.crossOriginIsolated === isolated, `${where}: crossOriginIsolated is ${t.crossOriginIsolated}`);
  for (const simd of ['baseline', 'auto']) {
    const r = t[simd];
    if (r.error) {
      check(false, `${where}, ${simd} kernels: ${r.error}`);
      continue;
    }
    const models = Object.keys(r.one);
    const want = isolated ? 2 : 1;
    const counts = models.map((m) => `${m} ${r.one[m].threads} -> ${r.two[m].threads}`).join(', ');
    check(models.every((m) => r.one[m].threads === 1 && r.two[m].threads === want), `${where}, ${simd} kernels: init({ threads: 2 }) gives models.threads === ${want} (${counts})`);
    check(models.every((m) => same(r.one[m].data, r.two[m].data)), `${where}, ${simd} kernels: ${models.join(', ')} outputs after init({ threads: 2 }) equal 1 thread bit for bit`);
    const prefix = 'wasmcnn: running on 1 thread instead of';
    const warned = isolated ? r.warnings.length === 0 : r.warnings.length === 1 && r.warnings[0].startsWith(prefix) && !r.warnings[0].includes('\n');
    check(warned, `${where}, ${simd} kernels: init({ threads: 2 }) warned ${isolated ? 'nothing' : `one line '${prefix} ...'`} (${JSON.stringify(r.warnings)})`);
  }
}

try {
  const { result, threads, error } = await load('');
  if (error) check(false, `cross-origin isolated page did not report: ${error}`);
  else {
    check(result.ok, `page loaded the wasm and ran both models${result.ok ? '' : `: ${result.error}`}`);
    if (result.ok) {
      // the default build, then init({ simd: 'baseline' }): two one-thread builds, each compiled once while downloading
      const c = result.compiles;
      check(c.streaming === 2 && c.bytes === 0, `one-thread kernels compiled with WebAssembly.compileStreaming (${c.streaming} streaming, ${c.bytes} from bytes)`);
      const { createModel, loadOnnx } = await import('../../dist/node.js');
      const input = new Float32Array(32 * 32).map((_, i) => ((i * 37) % 101) / 100);
      const lenet = await createModel('lenet5');
      const want = (await lenet.predict({ data: input, shape: [1, 1, 32, 32] })).data;
      check(want.every((v, i) => v === result.baseline[i]), 'LeNet-5 logits with baseline SIMD in Chromium equal Node bit for bit');
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      check(want.every((v, i) => Math.abs(v - result.logits[i]) <= 1e-5 * scale), 'LeNet-5 logits with the default (auto) kernels in Chromium match Node within 1e-5');
      const conv = await loadOnnx(readFileSync(join(ONNX, 'test_Conv2d/model.onnx')));
      const shape = conv.inputShapes[conv.inputNames[0]];
      const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
      const y = (await conv.predict({ data: x, shape })).data;
      check(y.length === result.conv.length && y.every((v, i) => Math.abs(v - result.conv[i]) <= 1e-6 * Math.max(1, Math.abs(v))), 'ONNX Conv2d output in Chromium equals Node');
    }
    checkThreads(threads, true);
  }
  // transfer learning in the page on 2 threads: same losses as Node on 1 thread, bit for bit
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('console', (m) => console.log(`[transfer] ${m.text()}`));
    await page.goto(`http://127.0.0.1:${port}/test/browser/transfer.html`);
    await page.waitForFunction(() => window.transfer !== undefined, null, { timeout: 180_000 });
    const t = await page.evaluate(() => window.transfer);
    check(t.ok, `transfer learning page ran${t.ok ? '' : `: ${t.error}`}`);
    if (t.ok) {
      // the module instance the task imports (the package's default entry), on 1 thread
      const { init } = await import('../../dist/index.js');
      await init({ wasm: readFileSync(join(ROOT, 'dist/wasmcnn.wasm')), threads: 1 });
      const { transferLearning } = await import('../transfer-task.js');
      const ref = await transferLearning();
      check(t.threads === 2, `transfer learning: the page's model trained on ${t.threads} threads (2 asked)`);
      check(t.frozenSame && t.headChanged, `transfer learning: frozen backbone unchanged (${t.frozenSame}), new head trained (${t.headChanged})`);
      check(t.losses[t.losses.length - 1] < t.losses[0], `transfer learning: loss ${t.losses.map((l) => l.toFixed(4)).join(' -> ')} falls`);
      check(same(t.losses, ref.losses) && same(t.logits, ref.logits), 'transfer learning: Chromium on 2 threads gives the losses and logits of Node on 1 thread bit for bit');
    }
  } catch (e) {
    check(false, `transfer learning page: ${e.message.split('\n')[0]}`);
  } finally {
    await context.close();
  }
  const plain = await load('?no-isolation');
  if (plain.error) check(false, `page without COOP/COEP did not report: ${plain.error}`);
  else {
    check(plain.result.ok, `page without COOP/COEP ran both models${plain.result.ok ? '' : `: ${plain.result.error}`}`);
    checkThreads(plain.threads, false);
  }
} finally {
  await browser.close();
  server.close();
}
finish();
