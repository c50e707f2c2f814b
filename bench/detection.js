// Object detection on whole ONNX exports (issue 15, item 6): wasmcnn's loadOnnx against
// onnxruntime-web (wasm SIMD, 1 thread) on the SAME files, one thread each, interleaved in one
// process, post-processing included (the whole exported graph: transform, backbone, FPN, heads,
// anchors, box decoding, score threshold, top-k, NMS, rescaling). Files:
// - torchvision 0.14's ssdlite320_mobilenet_v3_large, retinanet_resnet50_fpn (min/max size
//   320/512) and fasterrcnn_mobilenet_v3_large_320_fpn exported at opset 11 by
//   tools/detection_onnx.py, stripped graphs from test/fixtures/detection-onnx/ refilled with
//   test/detection-onnx.ts fillStripped (the test's own values; imported through tsx's tsImport);
//   the image is that test's synthetic picture at 480x640;
// - ocr_det: bench/dynamic.js's PaddleOCR-det-like graph (MobileNetV3-large x0.5 + DB FPN head)
//   with synthetic weights, written with exportOnnx with dynamic H and W, run at two page sizes
//   on one model/session each (the second size is a new shape for both engines).
// Per row: load + first run (ms) of each engine, the median steady run, wasmcnn/ort-web (target
// <= 0.5) and whether the outputs agree. A wasmcnn failure is reported as 'error: <message>' on
// its row while onnxruntime-web is still timed. Where the engine has relaxed SIMD (Node 22,
// Chrome >= 114: init()'s default build there; Node 20 with --experimental-wasm-relaxed-simd)
// the relaxed build (fused multiply-adds) is timed too, in the same interleaved rounds.
import { tsImport } from 'tsx/esm/api';
import * as ortWeb from 'onnxruntime-web';
import { init, loadOnnx, exportOnnx, syntheticWeights, syntheticInput, GraphBuilder } from '../dist/node.js';
import { setupOrtWeb } from './models.js';
import { ocrDet } from './dynamic.js';
import { median, now } from './wasm.js';

export const DETECTION_MODELS = ['ssdlite320_mobilenet_v3_large', 'retinanet_resnet50_fpn', 'fasterrcnn_mobilenet_v3_large_320_fpn', 'ocr_det'];
/** The detectors' input image [H, W] (their transforms resize it: 320x320 for SSDlite, min side 320 for the others). */
const IMAGE = [480, 640];
/** PaddleOCR-style page sizes [H, W] (the first is the size the graph is built at). */
const OCR_PAGES = [[480, 640], [736, 960]];
const OPSET = 11;

const firstLine = (e) => String(e?.message ?? e).split('\n')[0];

/** The detector export `<name>_opset<OPSET>` with its weights filled, as test/detection-onnx.test.ts fills it. */
async function detectorFile(name) {
  const h = await tsImport('../test/detection-onnx.ts', import.meta.url);
  const key = `${name}_opset${OPSET}`;
  const entry = h.readManifest()[key];
  if (!entry || entry.error) throw new Error(`${key}: no export (${entry?.error ?? 'not in the manifest'})`);
  const bytes = h.fillStripped(h.readStripped(key), { scales: entry.scales });
  const [H, W] = IMAGE;
  return { bytes, inputs: [{ data: h.syntheticImage(H, W), shape: [3, H, W] }] };
}

/**
 * bench/dynamic.js's ocr_det graph as an ONNX file with dynamic batch, height and width.
 * exportOnnx writes the shapes of a model's source graph, which for a dynamic model are those of
 * the shape it was first planned for; the source graph is handed over with batch, H and W of the
 * input and output set to -1, which the writer emits as dim_param.
 */
async function ocrFile() {
  const b = ocrDet([1, 3, ...OCR_PAGES[0]]);
  const m = await b.build(syntheticWeights(b.weightShapes()), { dynamicAxes: { x: [0, 2, 3] } });
  const src = m.sourceGraph;
  const dyn = (v) => ({ ...v, shape: [-1, (v.shape ?? src.shapes.get(v.name))[1], -1, -1] });
  const bytes = exportOnnx({ sourceGraph: { ...src, inputs: src.inputs.map(dyn), outputs: src.outputs.map(dyn) } });
  m.dispose();
  return { bytes, inputs: OCR_PAGES.map(([h, w]) => syntheticInput([1, 3, h, w], `ocr_det${h}x${w}`)) };
}

async function timed(f) {
  const t = now();
  const r = await f();
  return [now() - t, r];
}

function compare(mine, ref) {
  const names = Object.keys(ref);
  const parts = [];
  for (const n of names) {
    const a = mine[n];
    const b = ref[n];
    if (!a) return `no output '${n}'`;
    if (a.shape.join('x') !== b.dims.join('x')) {
      parts.push(`${n} [${a.shape}] vs [${b.dims}]`);
      continue;
    }
    let d = 0;
    for (let i = 0; i < b.data.length; i++) d = Math.max(d, Math.abs(a.data[i] - Number(b.data[i])));
    parts.push(`${n} ${d.toExponential(1)}`);
  }
  return parts.join(', ');
}

/**
 * Times one file on both engines at each of its inputs. Returns one row per input:
 * { name, shape, first: { wasmcnn, ortWeb } (load + first run for the first input, the first
 * run at the new shape after that), steady: { wasmcnn, ortWeb }, agree, error }.
 */
async function benchFile(name, { bytes, inputs }, runs, warmup, log, relaxed) {
  setupOrtWeb();
  const rows = inputs.map((x) => ({ name, shape: x.shape, first: {}, steady: {}, agree: '', error: undefined }));
  let model;
  let relaxedModel;
  let session;
  const feedsW = (x) => ({ [session.inputNames[0]]: new ortWeb.Tensor('float32', x.data, x.shape) });
  const feedsM = (x) => ({ [model.inputNames[0]]: x });
  try {
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      const row = rows[i];
      // load (first input only) + first run, each engine
      try {
        const [tw, ref] = await timed(async () => {
          if (!session) session = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
          return session.run(feedsW(x));
        });
        row.first.ortWeb = tw;
        row.ref = ref;
      } catch (e) {
        row.error = `ort-web error: ${firstLine(e)}`;
        continue;
      }
      if (!row.wasmError) {
        try {
          const [tm, out] = await timed(async () => {
            if (!model) model = await loadOnnx(bytes);
            return model.run(feedsM(x));
          });
          row.first.wasmcnn = tm;
          row.agree = compare(out, row.ref);
        } catch (e) {
          row.wasmError = `error: ${firstLine(e)}`;
          for (const r of rows) r.wasmError ??= row.wasmError;
        }
      }
      // steady: interleaved rounds, the order alternating
      const contenders = [{ who: 'ortWeb', run: () => session.run(feedsW(x)) }];
      if (!row.wasmError) contenders.push({ who: 'wasmcnn', run: () => model.run(feedsM(x)) });
      if (!row.wasmError && relaxed) {
        if (!relaxedModel) {
          await init({ simd: 'relaxed' });
          relaxedModel = await loadOnnx(bytes);
          await init({ simd: 'baseline' });
        }
        contenders.push({ who: 'relaxed', run: () => relaxedModel.run(feedsM(x)) });
      }
      const times = Object.fromEntries(contenders.map((c) => [c.who, []]));
      for (let r = 0; r < warmup + runs; r++)
        for (let j = 0; j < contenders.length; j++) {
          const c = contenders[(j + r) % contenders.length];
          try {
            const [dt] = await timed(c.run);
            if (r >= warmup) times[c.who].push(dt);
          } catch (e) {
            row.wasmError = `error: ${firstLine(e)}`;
            contenders.splice(contenders.indexOf(c), 1);
            break;
          }
        }
      for (const [who, ts] of Object.entries(times)) if (ts.length) row.steady[who] = median(ts);
      delete row.ref;
      log?.(`  ${name} ${x.shape.join('x')}: done`);
    }
  } finally {
    model?.dispose();
    relaxedModel?.dispose();
    await session?.release();
  }
  return rows;
}

/**
 * Every model of `names` (DETECTION_MODELS' names): rows as benchFile returns them. Warm-up is 8
 * rounds: both engines run these graphs 2-10x slower for their first ~7 runs while V8 tiers up
 * their wasm and JS (measured on fasterrcnn_320: wasmcnn 1925, 408, 257, 182, 208, 170, 212, then
 * ~82 ms; onnxruntime-web 918, 222, 424, 332, 332, 303, 187, then ~121 ms); "first" reports the
 * cold start separately.
 */
export async function benchDetection(names, runs = 10, { warmup = 8, log, relaxed = false } = {}) {
  await init({ simd: 'baseline' });
  // both runtimes initialised before any timing (onnxruntime-web instantiates its wasm on the first session)
  setupOrtWeb();
  const tiny = new GraphBuilder();
  tiny.output(tiny.relu(tiny.conv(tiny.input('x', [1, 3, 8, 8]), 'c', { out: 4, kernel: 3, pad: 1 })), 'y');
  const tm = await tiny.build(syntheticWeights(tiny.weightShapes()));
  const ts = await ortWeb.InferenceSession.create(exportOnnx(tm), { executionProviders: ['wasm'] });
  const tx = syntheticInput([1, 3, 8, 8]);
  await ts.run({ x: new ortWeb.Tensor('float32', tx.data, tx.shape) });
  await tm.run({ x: tx });
  await ts.release();
  tm.dispose();
  const rows = [];
  for (const name of names) {
    let file;
    try {
      file = name === 'ocr_det' ? await ocrFile() : await detectorFile(name);
    } catch (e) {
      rows.push({ name, shape: [], first: {}, steady: {}, agree: '', error: `setup error: ${firstLine(e)}` });
      continue;
    }
    rows.push(...(await benchFile(name, file, runs, warmup, log, relaxed)));
  }
  return rows;
}

/** The section's table (bench/run.js prints it). */
export function printDetection(rows, log = console.log) {
  const pad = (s, n) => String(s).padEnd(n);
  const ms = (x) => (x === undefined ? '—' : x.toFixed(1));
  const ratio = (a, b) => (a !== undefined && b ? (a / b).toFixed(2) : '—');
  const relaxed = rows.some((r) => r.steady.relaxed !== undefined);
  const rcols = (cells) => (relaxed ? cells : []).map(([s, n]) => pad(s, n)).join('');
  log(
    `${pad('model', 40)}${pad('input', 14)}${pad('first wasmcnn', 15)}${pad('first ort-web', 15)}${pad('wasmcnn ms', 12)}${pad('ort-web ms', 12)}${pad('wasmcnn/ort-web', 17)}` +
      `${rcols([['relaxed ms', 12], ['relaxed/ort-web', 17]])}outputs max|diff|`,
  );
  for (const r of rows) {
    const err = r.wasmError ? 'error' : undefined;
    log(
      `${pad(r.name, 40)}${pad(r.shape.join('x'), 14)}${pad(err ?? ms(r.first.wasmcnn), 15)}${pad(ms(r.first.ortWeb), 15)}` +
        `${pad(err ?? ms(r.steady.wasmcnn), 12)}${pad(ms(r.steady.ortWeb), 12)}${pad(ratio(r.steady.wasmcnn, r.steady.ortWeb), 17)}` +
        `${rcols([[err ?? ms(r.steady.relaxed), 12], [ratio(r.steady.relaxed, r.steady.ortWeb), 17]])}${r.error ?? r.wasmError ?? r.agree}`,
    );
  }
  log('first: load + first run on the first input of a model, the first run at the new shape after that; ms = median steady run;');
  log('wasmcnn/ort-web < 1: wasmcnn faster (target <= 0.5, post-processing included)' + (relaxed ? "; relaxed: the relaxed-SIMD build, init()'s default where the engine has relaxed SIMD" : ''));
}
