// Parsing ONNX while it downloads (issue 18, item 1): onnxStream fed a file in chunks of any size
// (1 byte, chunks that split tags and varints, growing buffers that are replaced as they fill)
// gives the graph parseOnnx gives for the whole file, with every weight a view of the final
// buffer; loadOnnx from a stream runs as the model loaded from bytes; truncated files, lying
// Content-Lengths and failing streams give the errors of reading first and parsing after (the
// path before: readBytes, then loadOnnx(bytes)).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { modelBuilder } from '../models/index';
import { FormatError, LoadError, loadOnnx, type Model } from '../src/index';
import { undecodedBytes, intBytes, type Graph, type IntTensor } from '../src/graph/ir';
import { readBytes } from '../src/io/source';
import { exportOnnx } from '../src/onnx/export';
import { messageStream } from '../src/onnx/proto';
import { onnxStream, parseOnnx, type OnnxModel } from '../src/onnx/reader';
import { decodeModelProto, ModelProto, type ModelMsg } from '../src/onnx/schema';
import { syntheticInput, syntheticWeights } from '../src/weights/synthetic';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Chunk sizes covering `n` bytes: 1-byte chunks over the first `ones` bytes, then random sizes up to `max` (mostly small). */
function chunking(n: number, seed: number, ones: number, max: number): number[] {
  const r = rng(seed);
  const out: number[] = [];
  let at = 0;
  while (at < n) {
    const k = at < ones ? 1 : Math.min(n - at, 1 + Math.floor(r() ** 3 * max));
    out.push(k);
    at += k;
  }
  return out;
}

/**
 * Feed `bytes` to an onnxStream in `sizes`-sized chunks. With `grow`, the buffer starts at 16
 * bytes and is replaced by one twice as large when full, and trimmed by a copy at the end (as
 * a download of unknown length); without, one buffer of the file's size.
 */
function streamed(bytes: Uint8Array, sizes: number[], grow: boolean): { final: Uint8Array; model: OnnxModel; decoded: number } {
  const s = onnxStream();
  let buf = new Uint8Array(grow ? 16 : bytes.length);
  let loaded = 0;
  for (const k of sizes) {
    if (loaded + k > buf.length) {
      const g = new Uint8Array(Math.max(loaded + k, buf.length * 2));
      g.set(buf.subarray(0, loaded));
      buf = g;
    }
    buf.set(bytes.subarray(loaded, loaded + k), loaded);
    loaded += k;
    s.feed(buf, loaded);
  }
  const final = loaded === buf.length ? buf : buf.slice(0, loaded);
  const decoded = s.decoded();
  return { final, model: s.finish(final), decoded };
}

/** The graph as plain data (tensors' values and the file bytes behind undecoded ones), checking every undecoded weight is a view of `file`. */
function plain(g: Graph, file: Uint8Array): unknown {
  const bytesOf = (v: ArrayLike<number> & { buffer?: ArrayBufferLike }) => {
    if (v.buffer !== undefined && ArrayBuffer.isView(v) && v.buffer !== file.buffer) throw new Error('a weight is not a view of the final buffer');
    return Array.from(v);
  };
  const floats = [...g.initializers].map(([k, t]) => {
    const raw = undecodedBytes(t);
    return [k, t.shape, raw ? ['raw', bytesOf(raw)] : ['data', Array.from(t.data)]];
  });
  const ints = [...g.intConstants].map(([k, t]: [string, IntTensor]) => {
    const b = intBytes(t);
    return [k, t.shape, t.elem, ArrayBuffer.isView(b) ? ['raw', bytesOf(b)] : ['ints', Array.from(b)]];
  });
  return { inputs: g.inputs, outputs: g.outputs, nodes: g.nodes, shapes: [...g.shapes], opset: g.opset, floats, ints };
}

function outcome(f: () => OnnxModel, file: () => Uint8Array): unknown {
  try {
    const m = f();
    return { ok: plain(m.graph, file()), opset: m.opset, ir: m.irVersion, producer: m.producer };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: (e as Error).message };
  }
}

const here = fileURLToPath(new URL('.', import.meta.url));
function onnxFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...onnxFiles(p));
    else if (e.endsWith('.onnx')) out.push(p);
  }
  return out;
}
const FILES = [...onnxFiles(join(here, 'fixtures')), ...onnxFiles(join(here, '../../shared/onnx-backend-tests'))];

describe('onnxStream', () => {
  it('finds the fixtures', () => {
    expect(FILES.length).toBeGreaterThan(300);
  });

  it('fed every fixture in 1-byte and random chunks, into one buffer or a growing one, gives the whole-file parse', () => {
    let bigOnes = 0;
    FILES.forEach((path, i) => {
      const bytes = new Uint8Array(readFileSync(path));
      const want = outcome(() => parseOnnx(bytes), () => bytes);
      // small files byte by byte; large ones byte by byte over their first 4 KB (tags, names, headers)
      const ones = bytes.length <= 1 << 16 ? bytes.length : 4096;
      if (bytes.length > 1 << 16) bigOnes++;
      for (const grow of [false, true]) {
        for (const [seed, o, max] of [[i, ones, 64], [i + 1000, 0, 9000]] as const) {
          let final = bytes;
          let decoded = 0;
          const got = outcome(
            () => {
              const r = streamed(bytes, chunking(bytes.length, seed, o, max), grow);
              final = r.final;
              decoded = r.decoded;
              return r.model;
            },
            () => final,
          );
          // a well-formed file was decoded by the feeds, all of it (finish had nothing left to decode)
          if ('ok' in (want as object) && decoded !== bytes.length) expect({ path, decoded }).toEqual({ path, decoded: bytes.length });
          if (JSON.stringify(got) !== JSON.stringify(want)) expect({ path, grow, seed, got }).toEqual({ path, grow, seed, got: want });
        }
      }
    });
    expect(bigOnes).toBeGreaterThan(5);
  }, 300_000);

  it('every truncation of a model (mid-tag, mid-varint, mid-weight) gives the whole-file FormatError', () => {
    const bytes = new Uint8Array(readFileSync(join(here, 'fixtures/onnx/lenet5/model.onnx')));
    const r = rng(7);
    const cuts = [1, 2, 3, 5, 8, 13, 40, ...Array.from({ length: 60 }, () => 1 + Math.floor(r() * (bytes.length - 1)))];
    for (const cut of cuts) {
      const part = bytes.slice(0, cut);
      const want = outcome(() => parseOnnx(part), () => part);
      expect(want).toHaveProperty('error', 'FormatError');
      for (const grow of [false, true]) {
        let final = part;
        const got = outcome(
          () => {
            const s = streamed(part, chunking(cut, cut, 64, 300), grow);
            final = s.final;
            return s.model;
          },
          () => final,
        );
        expect(got).toEqual(want);
      }
    }
  });

  it('decodes fields as their bytes arrive, not at finish', () => {
    const bytes = new Uint8Array(readFileSync(join(here, 'fixtures/onnx/resnet_basic/model.onnx')));
    const want = decodeModelProto(bytes);
    const s = messageStream<ModelMsg>(ModelProto, 'ONNX file', new Set(['graph']));
    const copy = bytes.slice();
    s.feed(copy, copy.length - 1);
    // if finish decoded the graph again it would read these zeros (and fail or name nodes '')
    const zeroed = bytes.slice();
    zeroed.fill(0, 0, bytes.length - 200);
    const got = s.finish(zeroed);
    expect(got.graph!.node.map((n) => n.name)).toEqual(want.graph!.node.map((n) => n.name));
    expect(got.graph!.node.length).toBeGreaterThan(10);
  });
});

// ---- loadOnnx from streams ------------------------------------------------------------------------

function streamOf(bytes: Uint8Array, sizes: number[], fail?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (fail && i === sizes.length >> 1) return c.error(fail);
      if (i === sizes.length) return c.close();
      c.enqueue(bytes.slice(at, at + sizes[i]));
      at += sizes[i++];
    },
  });
}

async function runOnce(m: Model): Promise<number[]> {
  const name = m.inputNames[0];
  const out = await m.run({ [name]: syntheticInput(m.inputShapes[name]) });
  return Array.from(out[m.outputNames[0]].data);
}

async function settle(p: Promise<unknown>): Promise<unknown> {
  try {
    const m = (await p) as Model;
    const r = await runOnce(m);
    m.dispose();
    return { ok: r };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: (e as Error).message };
  }
}

describe('loadOnnx from a stream', () => {
  it('a Response (its Content-Length right or too small), a Blob and a ReadableStream, in random chunks (1-byte ones too), run as the model loaded from bytes', async () => {
    const b = modelBuilder('mobilenet_v2', { widthMultiplier: 0.35, inputSize: 48, numClasses: 7 });
    const bytes = exportOnnx(await b.build(syntheticWeights(b.weightShapes())));
    const want = await settle(loadOnnx(bytes));
    expect(want).toHaveProperty('ok');
    const sizes = chunking(bytes.length, 3, 5000, 40000);
    // a stream of unknown size is read whole, then parsed; one of known size is parsed as it arrives
    expect(await settle(loadOnnx(streamOf(bytes, sizes)))).toEqual(want);
    expect(await settle(loadOnnx(new Blob([bytes])))).toEqual(want);
    // a Content-Length a quarter of the size: the buffer is replaced when the body runs past it,
    // after part of the file was parsed; every weight is a view of the final buffer, none of the
    // first one
    const grown = await loadOnnx(new Response(streamOf(bytes, sizes), { headers: { 'content-length': String(bytes.length >> 2) } }));
    const views = [...grown.sourceGraph.initializers.values()].map((t) => undecodedBytes(t)).filter((v) => v !== undefined);
    expect(views.length).toBeGreaterThan(20);
    expect(new Set(views.map((v) => v!.buffer)).size).toBe(1);
    expect(views[0]!.buffer.byteLength).toBeGreaterThanOrEqual(bytes.length);
    grown.dispose();
    const res = new Response(streamOf(bytes, sizes), { headers: { 'content-length': String(bytes.length) } });
    expect(await settle(loadOnnx(res))).toEqual(want);
    // a Content-Length that is too small: the buffer grows past it
    const short = new Response(streamOf(bytes, sizes), { headers: { 'content-length': String(bytes.length >> 2) } });
    expect(await settle(loadOnnx(short))).toEqual(want);
    for (const path of ['fixtures/onnx/regnet_y/model.onnx', 'fixtures/int8/qdq_cnn_s8.onnx', 'fixtures/int8/qop_conv_pool_flatten_fc_s8.onnx']) {
      const file = new Uint8Array(readFileSync(join(here, path)));
      const w = await settle(loadOnnx(file));
      expect(w).toHaveProperty('ok');
      const sized = new Response(streamOf(file, chunking(file.length, 11, 3000, 5000)), { headers: { 'content-length': String(file.length) } });
      expect(await settle(loadOnnx(sized))).toEqual(w);
    }
  }, 60_000);

  it('truncated streams, a Content-Length that is too large and a stream that fails give the errors of reading, then parsing, the whole body', async () => {
    const file = new Uint8Array(readFileSync(join(here, 'fixtures/onnx/lenet5/model.onnx')));
    const sizes = (n: number) => chunking(n, n, 100, 2000);
    // read first, parse after: what loadOnnx gave before it parsed while reading
    const wholePath = async (mk: () => ReadableStream<Uint8Array> | Response) => settle(readBytes(mk()).then((b) => loadOnnx(b)));
    const sized = (s: ReadableStream<Uint8Array>, n: number) => new Response(s, { headers: { 'content-length': String(n) } });
    for (const cut of [1, 7, 100, 1001, file.length >> 1, file.length - 3]) {
      const part = file.slice(0, cut);
      const want = await wholePath(() => streamOf(part, sizes(cut)));
      expect(want).toHaveProperty('error', 'FormatError');
      // a file cut short, with its (short) Content-Length: parsed as it arrives, fails at the end
      expect(await settle(loadOnnx(sized(streamOf(part, sizes(cut)), cut)))).toEqual(want);
      // a Content-Length of the whole file over a body cut short: LoadError ('network')
      const res = () => sized(streamOf(part, sizes(cut)), file.length);
      const cutShort = await wholePath(res);
      expect(cutShort).toHaveProperty('error', 'LoadError');
      expect(await settle(loadOnnx(res()))).toEqual(cutShort);
    }
    const failing = () => sized(streamOf(file, sizes(file.length), new Error('connection reset')), file.length);
    const failed = await wholePath(failing);
    expect(failed).toHaveProperty('error', 'LoadError');
    expect(await settle(loadOnnx(failing()))).toEqual(failed);
    const e = await loadOnnx(failing()).catch((x) => x);
    expect(e).toBeInstanceOf(LoadError);
    expect(e).not.toBeInstanceOf(FormatError);
  });
});
