// The consumer app every bundler builds (copied into a fresh folder by run.mjs, which rewrites
// the import below to 'wasmcnn' or 'wasmcnn/inline'): LeNet-5 with its bundled weights on eight
// held-out MNIST digits, once on one thread and, on a cross-origin isolated page, again after
// init({ threads: 2 }); under ?csp also an ONNX model (LeNet-5 exported by wasmcnn in Node) on
// 2 threads. Reports on window.result.
import { createModel, init, loadOnnx } from 'wasmcnn';
import { DIGITS } from './digits.js';

const argmax = (a) => a.indexOf(Math.max(...a));

async function lenet(options) {
  const m = await createModel('lenet5', { batch: DIGITS.length, ...options });
  const x = new Float32Array(DIGITS.length * 32 * 32);
  DIGITS.forEach((d, i) => x.set(d.image, i * 1024));
  const y = Array.from((await m.predict({ data: x, shape: [DIGITS.length, 1, 32, 32] })).data);
  const threads = m.threads;
  m.dispose();
  return { logits: y, threads, preds: DIGITS.map((_, i) => argmax(y.slice(i * 10, i * 10 + 10))) };
}

async function main() {
  const out = { labels: DIGITS.map((d) => d.label), isolated: globalThis.crossOriginIsolated === true };
  const warnings = [];
  const warn = console.warn;
  console.warn = (...a) => {
    warnings.push(a.join(' '));
    warn(...a);
  };
  try {
    await init({ simd: 'baseline' });
    out.one = await lenet();
    if (out.isolated) {
      await init({ threads: 2 });
      out.two = await lenet();
      if (location.search.includes('csp')) {
        const bytes = new Uint8Array(await (await fetch('./lenet5.onnx')).arrayBuffer());
        const m = await loadOnnx(bytes);
        const x = new Float32Array(DIGITS.length * 1024);
        DIGITS.forEach((d, i) => x.set(d.image, i * 1024));
        const y = Array.from((await m.predict({ data: x, shape: [DIGITS.length, 1, 32, 32] })).data);
        out.onnx = { threads: m.threads, logits: y };
        m.dispose();
      }
      await init({ threads: 1 });
    }
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.error = String((e && e.stack) || e);
    out.errorName = e && e.name;
  }
  out.warnings = warnings;
  window.result = out;
}
main();
