// torchvision 0.14's detectors exported whole with torch.onnx.export (tools/detection_onnx.py:
// ssdlite320_mobilenet_v3_large, retinanet_resnet50_fpn, fcos_resnet50_fpn and
// fasterrcnn_mobilenet_v3_large_320_fpn at opset 11, ssdlite and fasterrcnn also at opset 17;
// dynamic image height and width; transform, anchors, box decoding, score threshold, top-k,
// class-aware NMS and rescaling all inside the graph), committed stripped of their large weights
// and refilled deterministically (test/detection-onnx.ts). onnxruntime-node is the reference:
// loadOnnx must give the same detections at two image sizes in turn on one model: boxes within
// 1e-3 px + 1e-4 relative, scores within 1e-4 relative, int64 labels exact, same count, same
// order (detections whose reference scores tie within the tolerance may come in either order).
import { readdirSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/index';
import { fillStripped, fillValues, FIXTURES, readManifest, readStripped, syntheticImage } from './detection-onnx';

/** Two image sizes ([H, W]): landscape (the size traced) and portrait. */
const SIZES: [number, number][] = [
  [240, 320],
  [300, 260],
];
/** Float tolerance: |mine - ref| <= ATOL + RTOL * |ref| (boxes are in pixels). */
const ATOL = 1e-3;
const RTOL = 1e-4;

const manifest = readManifest();
const exported = Object.entries(manifest).filter(([, e]) => !e.error);
const failed = Object.entries(manifest).filter(([, e]) => e.error);
if (failed.length)
  console.log(`detection-onnx: exports torch 1.13 could not make (no fixture): ${failed.map(([k, e]) => `${k}: ${e.error}`).join('; ')}`);

interface Out {
  data: ArrayLike<number>;
  shape: number[];
  type: string;
}

function fromOrt(t: ort.Tensor): Out {
  const d = t.data as ArrayLike<number | bigint>;
  return { data: Array.from(d, (x) => Number(x)), shape: Array.from(t.dims), type: t.type };
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= ATOL + RTOL * Math.abs(b);

/**
 * The position in `mine` of each reference detection: itself, unless the reference's scores tie
 * (within tolerance) with a neighbour's, where the detections of the tied run may come in any
 * order and are matched by box and label. Returns a message for the first detection not found.
 */
function matchOrder(ref: Record<string, Out>, mine: Record<string, Out>): number[] | string {
  const n = ref.scores.data.length;
  const s = ref.scores.data;
  const same = (i: number, j: number): boolean =>
    close(mine.scores.data[j], s[i]) &&
    mine.labels.data[j] === ref.labels.data[i] &&
    [0, 1, 2, 3].every((c) => close(mine.boxes.data[4 * j + c], ref.boxes.data[4 * i + c]));
  const order: number[] = [];
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && close(s[end], s[end - 1])) end++;
    const free = new Set(Array.from({ length: end - start }, (_, k) => start + k));
    for (let i = start; i < end; i++) {
      const j = same(i, i) && free.has(i) ? i : [...free].find((c) => same(i, c));
      if (j === undefined) {
        const b = Array.from({ length: 4 }, (_, c) => ref.boxes.data[4 * i + c].toFixed(3));
        const mb = Array.from({ length: 4 }, (_, c) => (mine.boxes.data[4 * i + c] ?? NaN).toFixed(3));
        return `detection ${i}: reference score ${s[i]} label ${ref.labels.data[i]} box [${b}], wasmcnn score ${mine.scores.data[i]} label ${mine.labels.data[i]} box [${mb}]`;
      }
      free.delete(j);
      order.push(j);
    }
    start = end;
  }
  return order;
}

describe('detector exports: fixtures', () => {
  it('the stripped graphs fit the 3 MB budget and every export is there or its failure recorded', () => {
    const bytes = readdirSync(FIXTURES).reduce((t, f) => t + statSync(new URL(f, FIXTURES)).size, 0);
    expect(bytes).toBeLessThan(3e6);
    const models = new Set(exported.map(([, e]) => e.model));
    for (const m of ['ssdlite320_mobilenet_v3_large', 'retinanet_resnet50_fpn', 'fcos_resnet50_fpn', 'fasterrcnn_mobilenet_v3_large_320_fpn'])
      expect(models.has(m) || failed.some(([k]) => k.startsWith(m)), m).toBe(true);
    for (const m of ['ssdlite320_mobilenet_v3_large', 'retinanet_resnet50_fpn', 'fcos_resnet50_fpn', 'fasterrcnn_mobilenet_v3_large_320_fpn']) for (const k of [`${m}_opset11`, `${m}_opset17`]) expect(manifest[k], k).toBeDefined();
  });

  it('fillStripped fills exactly the stripped initializers, with the recorded scale, and nothing else', () => {
    const [key, e] = exported.find(([k]) => k.startsWith('ssdlite'))!;
    const stripped = readStripped(key);
    const names: string[] = [];
    const full = fillStripped(stripped, { scales: e.scales }, names);
    expect(names.length).toBe(e.stripped);
    expect(new Set(names)).toEqual(new Set(Object.keys(e.scales ?? {})));
    // the added bytes are the float32 values, plus the record headers
    expect(full.length - stripped.length - 4 * e.strippedElements!).toBeGreaterThan(0);
    expect(full.length - stripped.length - 4 * e.strippedElements!).toBeLessThan(16 * e.stripped!);
    // a filled file has nothing left to fill: fillStripped is then the identity
    const again: string[] = [];
    expect(Buffer.compare(fillStripped(full, {}, again), full)).toBe(0);
    expect(again).toEqual([]);
    // values are deterministic per name and have the recorded standard deviation
    const name = names[0];
    const want = e.scales![name];
    const v = fillValues(name, [256, 64, 3, 3], { scales: e.scales });
    expect(fillValues(name, [256, 64, 3, 3], { scales: e.scales })).toEqual(v);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(Math.abs(sd - want) / want).toBeLessThan(0.02);
    expect(Math.abs(mean)).toBeLessThan(0.05 * want);
  });
});

describe.each(exported)('%s: loadOnnx against onnxruntime-node', (key, entry) => {
  let bytes: Uint8Array;
  const refs: Record<string, Out>[] = [];
  const images = SIZES.map(([h, w]) => syntheticImage(h, w));

  beforeAll(async () => {
    bytes = fillStripped(readStripped(key), { scales: entry.scales });
    const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
    for (let i = 0; i < SIZES.length; i++) {
      const [h, w] = SIZES[i];
      const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', images[i], [3, h, w]) });
      refs.push(Object.fromEntries(s.outputNames.map((n) => [n, fromOrt(r[n])])));
    }
    await s.release();
  });

  it('onnxruntime-node: tens of detections with distinct scores at both sizes (the fixture is meaningful)', () => {
    for (const r of refs) {
      expect(Object.keys(r).sort()).toEqual(['boxes', 'labels', 'scores']);
      const n = r.scores.data.length;
      expect(n).toBeGreaterThanOrEqual(10);
      expect(r.boxes.shape).toEqual([n, 4]);
      expect(r.labels.type).toBe('int64');
      expect(new Set(Array.from(r.scores.data)).size).toBe(n);
      expect(new Set(Array.from(r.labels.data)).size).toBeGreaterThan(1);
      expect(Array.from(r.boxes.data).every(Number.isFinite)).toBe(true);
    }
    // the two sizes give different detections (the size really changes the computation)
    expect(refs[0].boxes.data).not.toEqual(refs[1].boxes.data);
  });

  it('wasmcnn: the same detections at both sizes in turn, then the first size again', async () => {
    const m = await loadOnnx(bytes);
    try {
      for (const i of [0, 1, 0]) {
        const [h, w] = SIZES[i];
        const ref = refs[i];
        const out = await m.run({ [m.inputNames[0]]: { data: images[i], shape: [3, h, w] } });
        const mine: Record<string, Out> = {};
        for (const name of Object.keys(ref)) {
          const t = out[name];
          expect(t, `${key} ${h}x${w}: output '${name}'`).toBeDefined();
          const dtype = (t as { dtype?: string }).dtype;
          mine[name] = { data: t.data, shape: t.shape, type: dtype === 'int64' ? 'int64' : dtype ?? 'float32' };
          expect(mine[name].shape, `${key} ${h}x${w}: ${name} shape`).toEqual(ref[name].shape);
          expect(mine[name].type, `${key} ${h}x${w}: ${name} type`).toBe(ref[name].type);
        }
        for (const v of Array.from(mine.labels.data)) expect(Number.isInteger(v), `${key}: labels are exact integers`).toBe(true);
        const order = matchOrder(ref, mine);
        expect(typeof order === 'string' ? order : '', `${key} ${h}x${w}`).toBe('');
      }
    } finally {
      m.dispose();
    }
  });
});
