// Browser check of fromImage's browser sources: bundles src/image (and init) with esbuild for the
// browser into a temporary folder, serves it on 127.0.0.1 with dist/wasmcnn.wasm and the PNG
// fixtures, and in Debian's headless Chromium (playwright-core) turns one PNG into tensors from
// an HTMLImageElement, an HTMLCanvasElement, an OffscreenCanvas, ImageData, an ImageBitmap, a
// VideoFrame, a Blob, encoded bytes and a URL string. Each must equal the Node result of the same
// pixels (the same sources bundled for Node, decoded by sharp) within 1e-5, and the torchvision
// fixture too; a translucent RGBA PNG must too, from the sources that never pass through a 2D
// canvas (image element, ImageBitmap, Blob, bytes, URL: read through WebGL2 without premultiplying). Last line: `image-browser: N passed, N failed`; exit code 1 on any failure.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium, requireChromium, tally } from '../harness.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/image');
const WASM = join(ROOT, 'dist/wasmcnn.wasm');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png' };

const { check, finish } = tally('image-browser');

requireChromium('image-browser');
if (!existsSync(WASM)) {
  check(false, `dist/wasmcnn.wasm is missing: run npm run build first`);
  finish();
}

const CASES = [
  { name: 'landscape_64_56', image: 'landscape.png', options: { size: 64, crop: 56, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
  // translucent RGBA: the colour of a translucent pixel survives only where no 2D canvas is
  // involved (a canvas, its ImageData and frames drawn from it hold premultiplied colour)
  {
    name: 'portrait_64_56',
    image: 'portrait.png',
    options: { size: 64, crop: 56, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    only: ['HTMLImageElement', 'ImageBitmap', 'Blob', 'encoded bytes', 'URL string'],
  },
  { name: 'landscape_grey', image: 'landscape.png', options: { size: 40, crop: 32, channels: 1, mean: [0.1307], std: [0.3081] } },
];

// the same sources, bundled twice: for the page and for this process (under build/, so the Node
// bundle resolves sharp from the repository's node_modules)
mkdirSync(join(ROOT, 'build'), { recursive: true });
const tmp = mkdtempSync(join(ROOT, 'build', 'image-browser-'));
const { build } = await import('esbuild');
writeFileSync(
  join(tmp, 'entry.ts'),
  `export * from ${JSON.stringify(join(ROOT, 'src/image/index.ts'))};\nexport { init } from ${JSON.stringify(join(ROOT, 'src/runtime/wasm.ts'))};\n`,
);
writeFileSync(
  join(tmp, 'node-entry.ts'),
  `export * from ${JSON.stringify(join(ROOT, 'src/image/index.ts'))};\nexport { init } from ${JSON.stringify(join(ROOT, 'src/runtime/wasm.ts'))};\n` +
    `export { decodeImageNode } from ${JSON.stringify(join(ROOT, 'src/image/decode-node.ts'))};\nexport { setPlatform } from ${JSON.stringify(join(ROOT, 'src/runtime/platform.ts'))};\n`,
);
try {
  await build({ entryPoints: [join(tmp, 'entry.ts')], outfile: join(tmp, 'bundle.js'), bundle: true, format: 'esm', platform: 'browser', target: 'es2022', external: ['node:*'], logLevel: 'error' });
  await build({ entryPoints: [join(tmp, 'node-entry.ts')], outfile: join(tmp, 'node.mjs'), bundle: true, format: 'esm', platform: 'node', target: 'node18', external: ['sharp'], logLevel: 'error' });
} catch (e) {
  check(false, `esbuild could not bundle src/image: ${e.message.split('\n')[0]}`);
  rmSync(tmp, { recursive: true, force: true });
  finish();
}

// the page: every browser source of one PNG through fromImage, results as plain arrays
const page = `<!doctype html><meta charset="utf-8"><title>wasmcnn fromImage</title><body><script type="module">
import { init, fromImage } from './bundle.js';
const CASES = ${JSON.stringify(CASES)};
const out = {};
try {
  await init({ wasm: '/wasmcnn.wasm', simd: 'baseline' });
  for (const c of CASES) {
    const url = '/fixtures/' + c.image;
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const off = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
    off.getContext('2d').drawImage(img, 0, 0);
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const blob = new Blob([bytes], { type: 'image/png' });
    const bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    const sources = {
      HTMLImageElement: img,
      HTMLCanvasElement: canvas,
      OffscreenCanvas: off,
      ImageData: ctx.getImageData(0, 0, canvas.width, canvas.height),
      ImageBitmap: bitmap,
      Blob: blob,
      'encoded bytes': bytes,
      'URL string': url,
    };
    if (typeof VideoFrame === 'function') sources.VideoFrame = new VideoFrame(bitmap, { timestamp: 0 });
    out[c.name] = {};
    for (const [kind, src] of Object.entries(sources)) {
      if (c.only && !c.only.includes(kind)) continue;
      try {
        const t = await fromImage(src, c.options);
        out[c.name][kind] = { shape: t.shape, data: Array.from(t.data) };
      } catch (e) {
        out[c.name][kind] = { error: e.name + ': ' + e.message };
      }
    }
    sources.VideoFrame?.close();
  }
  // a browser object that is not an image is a typed error, not a crash
  try {
    await fromImage(document.createElement('div'));
    out.notImage = 'no error';
  } catch (e) {
    out.notImage = e.name;
  }
  // HTMLVideoElement: a frame-less video is a ValueError; a playing one (the canvas as a stream)
  // gives a tensor of the video's size (its pixels went through video colour conversion, so
  // only the shape and the range are checked)
  const video = document.createElement('video');
  try {
    await fromImage(video);
    out.emptyVideo = 'no error';
  } catch (e) {
    out.emptyVideo = e.name + ': ' + e.message;
  }
  try {
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 48;
    const cx = c.getContext('2d');
    cx.fillStyle = 'rgb(200, 40, 90)';
    cx.fillRect(0, 0, 64, 48);
    video.muted = true;
    video.srcObject = c.captureStream(30);
    await video.play();
    for (let i = 0; i < 100 && video.readyState < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const t = await fromImage(video);
    const mean = [0, 1, 2].map((ch) => t.data.slice(ch * 64 * 48, (ch + 1) * 64 * 48).reduce((a, b) => a + b, 0) / (64 * 48));
    out.video = { shape: t.shape, mean };
  } catch (e) {
    out.video = { error: e.name + ': ' + e.message };
  }
  window.result = { ok: true, out };
} catch (e) {
  window.result = { ok: false, error: e.name + ': ' + e.message };
}
</script>`;
writeFileSync(join(tmp, 'page.html'), page);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  let path;
  if (url.pathname === '/wasmcnn.wasm') path = WASM;
  else if (url.pathname.startsWith('/fixtures/')) path = join(FIXTURES, normalize(url.pathname.slice('/fixtures/'.length)));
  else path = join(tmp, normalize(url.pathname));
  if (!path.startsWith(tmp) && !path.startsWith(FIXTURES) && path !== WASM) return res.writeHead(403).end();
  if (!existsSync(path)) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
  res.end(readFileSync(path));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const maxDiff = (a, b) => (a.length !== b.length ? Infinity : a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) || (Number.isNaN(v - b[i]) ? Infinity : 0)), 0));

const browser = await launchChromium();
try {
  const node = await import(pathToFileURL(join(tmp, 'node.mjs')).href);
  await node.init({ wasm: readFileSync(WASM), simd: 'baseline' });
  node.setPlatform({ decodeImage: node.decodeImageNode });

  const context = await browser.newContext();
  const pg = await context.newPage();
  pg.on('pageerror', (e) => console.log(`[page] uncaught: ${e.message}`));
  await pg.goto(`http://127.0.0.1:${port}/page.html`);
  await pg.waitForFunction(() => window.result !== undefined, null, { timeout: 120_000 });
  const result = await pg.evaluate(() => window.result);
  check(result.ok, `page loaded the wasm and ran fromImage${result.ok ? '' : `: ${result.error}`}`);
  if (result.ok) {
    for (const c of CASES) {
      const want = await node.fromImage(join(FIXTURES, c.image), c.options);
      const b = readFileSync(join(FIXTURES, `${c.name}.f32`));
      const torch = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      check(maxDiff(want.data, torch) <= 1e-5, `${c.name}: Node (sharp) equals the torchvision fixture within 1e-5`);
      const kinds = Object.keys(result.out[c.name]);
      if (!c.only) check(kinds.includes('VideoFrame'), `${c.name}: Chromium has VideoFrame (WebCodecs)`);
      for (const kind of kinds) {
        const got = result.out[c.name][kind];
        if (got.error) {
          check(false, `${c.name}, ${kind}: ${got.error}`);
          continue;
        }
        const d = maxDiff(got.data, want.data);
        const shapeOk = JSON.stringify(got.shape) === JSON.stringify(want.shape);
        check(shapeOk && d <= 1e-5, `${c.name}, ${kind}: shape [${got.shape}] and values equal Node's (max |diff| ${d.toExponential(1)})`);
      }
    }
    check(/^ValueError: .*no frame yet/.test(result.out.emptyVideo), `a <video> without a frame is a ValueError (${result.out.emptyVideo})`);
    const v = result.out.video;
    check(
      !v.error && JSON.stringify(v.shape) === '[1,3,48,64]' && [200, 40, 90].every((x, i) => Math.abs(v.mean[i] - x / 255) < 0.04),
      `HTMLVideoElement (a canvas stream): shape [1,3,48,64], mean colour ≈ (200, 40, 90)/255 (${v.error ?? `${JSON.stringify(v.shape)}, ${v.mean?.map((x) => (x * 255).toFixed(1))}`})`,
    );
    check(result.out.notImage === 'ValueError', `a <div> is a ValueError (${result.out.notImage})`);
  }
  await context.close();
} catch (e) {
  check(false, `browser check crashed: ${e.stack ?? e}`);
} finally {
  await browser.close();
  server.close();
  rmSync(tmp, { recursive: true, force: true });
}
finish();
