// Loading from anywhere (src/io): bytes, local paths, file/data/http URLs, hf: hub references,
// Response, ReadableStream, Node streams and Blob, with progress, abort and typed errors. HTTP runs
// against a server on 127.0.0.1 that serves the Hugging Face layout /{repo}/resolve/{rev}/{file}
// with Content-Length, chunked and gzip responses and 404s (no real network). Expected numbers are
// PyTorch's (test/fixtures/onnx/lenet5, test/fixtures/lenet5/reference.json) or the file bytes.
import { createReadStream, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, loadOnnx, loadSafetensors, LoadError, ValueError } from '../src/index';
import { DEFAULT_HUB_TEMPLATE, parseHubRef, resolveHubUrl, setHubTemplate } from '../src/io/hub';
import { readBytes } from '../src/io/source';
import { platform, setPlatform } from '../src/runtime/platform';
import { loadMnistSplit } from '../src/data/mnist';

const fixture = (p: string) => new URL(`./fixtures/${p}`, import.meta.url);
const ONNX_PATH = fileURLToPath(fixture('onnx/lenet5/model.onnx'));
const ONNX = new Uint8Array(readFileSync(ONNX_PATH));
const ST_PATH = fileURLToPath(new URL('../models/weights/lenet5.safetensors', import.meta.url));
const ST = new Uint8Array(readFileSync(ST_PATH));
const readF32 = (u: URL) => {
  const b = readFileSync(u);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const X = readF32(fixture('onnx/lenet5/input.bin')); // 4 held-out digits, [4, 1, 32, 32]
const Y = readF32(fixture('onnx/lenet5/output.bin')); // PyTorch's logits [4, 10]

function expectLoadError(e: unknown, reason: string, mentions: string, status?: number): void {
  expect(e).toBeInstanceOf(LoadError);
  const err = e as LoadError;
  expect(err.name).toBe('LoadError');
  expect(err.reason).toBe(reason);
  expect(err.message).toContain(mentions);
  expect(err.source).toContain(mentions);
  if (status !== undefined) expect(err.status).toBe(status);
}

/** Byte equality without vitest's element-by-element deep diff (slow on 250 KB). */
function expectBytes(got: Uint8Array, want: Uint8Array): void {
  expect(got).toBeInstanceOf(Uint8Array);
  expect(got.length).toBe(want.length);
  expect(Buffer.compare(got, want)).toBe(0);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

// --- the local hub ------------------------------------------------------------------------------

const FILES: Record<string, Uint8Array> = {
  '/test/lenet5/resolve/main/model.safetensors': ST,
  '/test/lenet5/resolve/v1/weights/lenet.safetensors': ST,
  '/test/lenet5-onnx/resolve/main/model.onnx': ONNX,
};
let server: Server;
let base = '';
const requests: string[] = [];

function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  requests.push(url.pathname + url.search);
  // no keep-alive: on a loaded machine the server's idle timeout (5 s) can close a socket just as
  // the client reuses it (ECONNRESET); one connection per request keeps the tests deterministic
  res.setHeader('connection', 'close');
  const mode = url.searchParams.get('mode') ?? 'length';
  const body = FILES[url.pathname];
  if (!body) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Entry not found');
    return;
  }
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += 7000) chunks.push(body.subarray(i, i + 7000));
  if (mode === 'length') {
    res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
    for (const c of chunks) res.write(c);
    res.end();
  } else if (mode === 'chunked') {
    // no Content-Length: Node sends Transfer-Encoding: chunked
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let i = 0;
    const next = () => {
      if (i < chunks.length) {
        res.write(chunks[i++]);
        setImmediate(next);
      } else res.end();
    };
    next();
  } else if (mode === 'gzip') {
    const z = gzipSync(body);
    res.writeHead(200, { 'content-length': String(z.length), 'content-encoding': 'gzip' });
    res.end(z);
  } else if (mode === 'slow') {
    // the first chunk, then nothing until the client goes away
    res.writeHead(200, { 'content-length': String(body.length) });
    res.write(chunks[0]);
  } else if (mode === 'short') {
    // announces the full length, sends half, then closes the connection
    res.writeHead(200, { 'content-length': String(body.length) });
    res.write(body.subarray(0, body.length >> 1));
    setTimeout(() => res.destroy(), 20);
  }
}

const savedReadFile = platform.readFile;
beforeAll(async () => {
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  setPlatform({ readFile: async (p) => new Uint8Array(await readFile(p)) });
});
afterAll(async () => {
  setHubTemplate();
  setPlatform({ readFile: savedReadFile });
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

type Call = [number, number | undefined];
const recorder = () => {
  const calls: Call[] = [];
  return { calls, onProgress: (l: number, t: number | undefined) => calls.push([l, t]) };
};

function expectMonotonic(calls: Call[], n: number, total: number | undefined): void {
  expect(calls.length).toBeGreaterThan(0);
  for (let i = 1; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThanOrEqual(calls[i - 1][0]);
  expect(calls[calls.length - 1][0]).toBe(n);
  for (const [, t] of calls.slice(0, -1)) expect(t).toBe(total);
  // the last call reports the whole size either way
  expect(calls[calls.length - 1][1] ?? n).toBe(n);
}

// --- readBytes ----------------------------------------------------------------------------------

describe('readBytes', () => {
  it('returns given bytes as they are and wraps an ArrayBuffer without copying', async () => {
    const p = recorder();
    expect(await readBytes(ST, p)).toBe(ST);
    expect(p.calls).toEqual([[ST.length, ST.length]]);
    const ab = ST.slice().buffer;
    expect((await readBytes(ab)).buffer).toBe(ab);
  });

  it('reads a local path and a file: URL through platform.readFile', async () => {
    const p = recorder();
    expectBytes(await readBytes(ST_PATH, p), ST);
    expect(p.calls).toEqual([[ST.length, ST.length]]);
    expectBytes(await readBytes(pathToFileURL(ST_PATH)), ST);
    expectBytes(await readBytes(pathToFileURL(ST_PATH).href), ST);
  });

  it('names a missing file', async () => {
    const e = await rejection(readBytes('/nonexistent/dir/model.safetensors'));
    expectLoadError(e, 'not-found', '/nonexistent/dir/model.safetensors');
    expect((e as Error).message).toMatch(/no such file/);
  });

  it('reads data: URLs', async () => {
    const url = `data:application/octet-stream;base64,${Buffer.from(ST).toString('base64')}`;
    expectBytes(await readBytes(url), ST);
  });

  it('downloads with Content-Length into one exactly sized buffer, reporting progress against the total', async () => {
    const p = recorder();
    const got = await readBytes(`${base}/test/lenet5/resolve/main/model.safetensors`, p);
    expectBytes(got, ST);
    expect(got.buffer.byteLength).toBe(ST.length); // exactly sized, not a view of a grown buffer
    expect(p.calls.length).toBeGreaterThan(1); // several chunks
    expectMonotonic(p.calls, ST.length, ST.length);
  });

  it('downloads a chunked response (no Content-Length) with total undefined', async () => {
    const p = recorder();
    expectBytes(await readBytes(`${base}/test/lenet5/resolve/main/model.safetensors?mode=chunked`, p), ST);
    expect(p.calls.length).toBeGreaterThan(1);
    expectMonotonic(p.calls, ST.length, undefined);
  });

  it('does not trust Content-Length of a compressed body (it counts wire bytes)', async () => {
    const p = recorder();
    expectBytes(await readBytes(`${base}/test/lenet5/resolve/main/model.safetensors?mode=gzip`, p), ST);
    expectMonotonic(p.calls, ST.length, undefined);
  });

  it('names the URL and status of an HTTP 404', async () => {
    const url = `${base}/test/lenet5/resolve/main/missing.safetensors`;
    const e = await rejection(readBytes(url));
    expectLoadError(e, 'http', url, 404);
    expect((e as Error).message).toContain('HTTP 404');
  });

  it('names the URL of a network error', async () => {
    // a port nothing listens on: bind one, note it, close it
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const url = `http://127.0.0.1:${port}/x.onnx`;
    expectLoadError(await rejection(readBytes(url)), 'network', url);
  });

  it('reports a download cut short', async () => {
    const url = `${base}/test/lenet5/resolve/main/model.safetensors?mode=short`;
    const e = await rejection(readBytes(url));
    expect(e).toBeInstanceOf(LoadError);
    expect((e as LoadError).source).toBe(url);
  });

  it('aborts a download mid-stream, and refuses to start with an aborted signal', async () => {
    const url = `${base}/test/lenet5/resolve/main/model.safetensors?mode=slow`;
    const ac = new AbortController();
    const seen: number[] = [];
    const p = readBytes(url, {
      signal: ac.signal,
      onProgress: (l) => {
        seen.push(l);
        ac.abort();
      },
    });
    expectLoadError(await rejection(p), 'aborted', url);
    expect(seen[0]).toBeGreaterThan(0);
    const pre = new AbortController();
    pre.abort();
    expectLoadError(await rejection(readBytes(ST_PATH, { signal: pre.signal })), 'aborted', ST_PATH);
    expectLoadError(await rejection(readBytes(`${base}/test/lenet5/resolve/main/model.safetensors`, { signal: pre.signal })), 'aborted', base);
  });

  it('reads a Response, a ReadableStream, a Node stream and a Blob', async () => {
    const r = recorder();
    expectBytes(await readBytes(new Response(ST, { headers: { 'content-length': String(ST.length) } }), r), ST);
    expectMonotonic(r.calls, ST.length, ST.length);

    const chunks = [ST.subarray(0, 1000), ST.subarray(1000, 5000), ST.subarray(5000)];
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(ch);
        c.close();
      },
    });
    const s = recorder();
    expectBytes(await readBytes(stream, s), ST);
    expect(s.calls.slice(0, 3)).toEqual([[1000, undefined], [5000, undefined], [ST.length, undefined]]);
    // a stream of one chunk of unknown size hands that chunk back: no copy at all
    const one = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(ST);
        c.close();
      },
    });
    expect(await readBytes(one)).toBe(ST);

    expectBytes(await readBytes(createReadStream(ST_PATH, { highWaterMark: 4096 })), ST);

    const b = recorder();
    expectBytes(await readBytes(new Blob([ST]), b), ST);
    expectMonotonic(b.calls, ST.length, ST.length);
  });

  it('reads empty bodies (reporting once) and refuses a used Response', async () => {
    const p = recorder();
    expect((await readBytes(new Blob([]), p)).length).toBe(0);
    expect(p.calls).toEqual([[0, 0]]);
    const r = new Response(ST);
    await r.arrayBuffer();
    await expect(readBytes(r)).rejects.toThrow(/already read/);
  });

  it('names the status of a failed Response', async () => {
    const e = await rejection(readBytes(new Response('nope', { status: 503, statusText: 'Service Unavailable' })));
    expect(e).toBeInstanceOf(LoadError);
    expect((e as LoadError).status).toBe(503);
    expect((e as Error).message).toContain('HTTP 503 Service Unavailable');
  });

  it('refuses what is not a source, and URL schemes it cannot read', async () => {
    await expect(readBytes(42 as never)).rejects.toBeInstanceOf(ValueError);
    await expect(readBytes({ a: 1 } as never)).rejects.toBeInstanceOf(ValueError);
    expectLoadError(await rejection(readBytes(new URL('ftp://example.org/model.onnx'))), 'unsupported', 'ftp://example.org/model.onnx');
  });

  it('in a runtime without file access, a plain string is fetched as a URL', async () => {
    setPlatform({ readFile: undefined });
    try {
      expectLoadError(await rejection(readBytes('ftp://example.org/m.onnx')), 'unsupported', 'ftp://');
      // no page to resolve a relative URL against either: say what is missing
      const e = await rejection(readBytes('models/m.onnx'));
      expectLoadError(e, 'unsupported', 'models/m.onnx');
      expect((e as Error).message).toContain('setPlatform({ readFile })');
      // with a page, a relative string is a URL on the page's origin
      const g = globalThis as { location?: { href: string } };
      g.location = { href: `${base}/test/` };
      try {
        expectBytes(await readBytes('lenet5-onnx/resolve/main/model.onnx'), ONNX);
        expectLoadError(await rejection(readBytes('../missing.onnx')), 'http', `${base}/missing.onnx`, 404);
      } finally {
        delete g.location;
      }
      expectBytes(await readBytes(`${base}/test/lenet5-onnx/resolve/main/model.onnx`), ONNX);
    } finally {
      setPlatform({ readFile: async (p) => new Uint8Array(await readFile(p)) });
    }
  });
});

// --- hub references -----------------------------------------------------------------------------

describe('hub references', () => {
  it('resolve through the Hugging Face template by default', () => {
    expect(DEFAULT_HUB_TEMPLATE).toBe('https://huggingface.co/{repo}/resolve/{revision}/{file}');
    expect(resolveHubUrl('hf:timm/resnet50.a1_in1k')).toBe('https://huggingface.co/timm/resnet50.a1_in1k/resolve/main/model.safetensors');
    expect(resolveHubUrl('hf:timm/resnet50.a1_in1k@v2.0/pytorch/model.safetensors')).toBe(
      'https://huggingface.co/timm/resnet50.a1_in1k/resolve/v2.0/pytorch/model.safetensors',
    );
    expect(resolveHubUrl('hf:onnx/models/resnet 50.onnx')).toBe('https://huggingface.co/onnx/models/resolve/main/resnet%2050.onnx');
    expect(parseHubRef('hf:a/b@0123abc')).toEqual({ repo: 'a/b', revision: '0123abc', file: 'model.safetensors' });
    expect(resolveHubUrl('hf:a/b', { hubTemplate: 'https://mirror.example/{repo}/{file}' })).toBe('https://mirror.example/a/b/model.safetensors');
  });

  it('refuse malformed references and templates with a ValueError', () => {
    for (const bad of ['hf:', 'hf:onlyowner', 'hf:a/b/../c', 'hf:/b', 'hf:a//b'])
      expect(() => resolveHubUrl(bad), bad).toThrow(ValueError);
    expect(() => setHubTemplate('https://example.org/no-placeholders')).toThrow(/\{repo\} and \{file\}/);
  });

  it('download from a mirror set with setHubTemplate, with Content-Length, chunked, and a 404', async () => {
    setHubTemplate(`${base}/{repo}/resolve/{revision}/{file}`);
    try {
      const p = recorder();
      expectBytes(await readBytes('hf:test/lenet5', p), ST);
      expectMonotonic(p.calls, ST.length, ST.length);
      expectBytes(await readBytes('hf:test/lenet5@v1/weights/lenet.safetensors'), ST);
      const e = await rejection(readBytes('hf:test/nothing-here'));
      expectLoadError(e, 'http', `${base}/test/nothing-here/resolve/main/model.safetensors`, 404);
    } finally {
      setHubTemplate();
    }
    // the per-load option, here for a chunked response
    const c = recorder();
    const t = `${base}/{repo}/resolve/{revision}/{file}?mode=chunked`;
    expectBytes(await readBytes('hf:test/lenet5', { hubTemplate: t, onProgress: c.onProgress }), ST);
    expectMonotonic(c.calls, ST.length, undefined);
  });
});

// --- the loaders ---------------------------------------------------------------------------------

describe('loaders accept every source', () => {
  async function expectPyTorchLogits(m: Awaited<ReturnType<typeof loadOnnx>>): Promise<void> {
    const { output } = await m.run({ input: { data: X, shape: [4, 1, 32, 32] } });
    expect(output.shape).toEqual([4, 10]);
    for (let i = 0; i < Y.length; i++) expect(Math.abs(output.data[i] - Y[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(Y[i])));
  }

  it('loadOnnx from a path, a URL with progress, an hf: reference (file default model.onnx) and a Blob', async () => {
    await expectPyTorchLogits(await loadOnnx(ONNX_PATH, { inputShapes: { input: [4, 1, 32, 32] } }));
    const p = recorder();
    await expectPyTorchLogits(await loadOnnx(`${base}/test/lenet5-onnx/resolve/main/model.onnx`, { onProgress: p.onProgress, inputShapes: { input: [4, 1, 32, 32] } }));
    expectMonotonic(p.calls, ONNX.length, ONNX.length);
    await expectPyTorchLogits(
      await loadOnnx('hf:test/lenet5-onnx', { hubTemplate: `${base}/{repo}/resolve/{revision}/{file}`, inputShapes: { input: [4, 1, 32, 32] } }),
    );
    await expectPyTorchLogits(await loadOnnx(new Blob([ONNX]), { inputShapes: { input: [4, 1, 32, 32] } }));
    expectLoadError(await rejection(loadOnnx('/no/such/model.onnx')), 'not-found', '/no/such/model.onnx');
  });

  it('loadSafetensors: bytes give the Map synchronously, other sources a Promise of the same Map', async () => {
    const sync = loadSafetensors(ST);
    expect(sync).toBeInstanceOf(Map);
    const fromUrl = loadSafetensors(`${base}/test/lenet5/resolve/main/model.safetensors?mode=chunked`);
    expect(fromUrl).toBeInstanceOf(Promise);
    const got = await fromUrl;
    expect([...got.keys()]).toEqual([...sync.keys()]);
    for (const [k, t] of sync) {
      expect(got.get(k)!.shape).toEqual(t.shape);
      expect(got.get(k)!.data).toEqual(t.data);
    }
    const p = recorder();
    expect((await loadSafetensors(ST_PATH, p)).size).toBe(sync.size);
    expect(p.calls).toEqual([[ST.length, ST.length]]);
    expectLoadError(await rejection(loadSafetensors(`${base}/nope/resolve/main/model.safetensors`)), 'http', `${base}/nope`, 404);
  });

  it("createModel({ weights }) from an hf: reference on the local hub gives PyTorch's LeNet-5 logits", async () => {
    const ref = JSON.parse(readFileSync(fixture('lenet5/reference.json'), 'utf8')) as {
      digits: { heldOutIndex: number; logits: number[] }[];
    };
    const { heldOut } = loadMnistSplit();
    const p = recorder();
    const before = requests.length;
    const m = await createModel('lenet5', {
      weights: 'hf:test/lenet5',
      hubTemplate: `${base}/{repo}/resolve/{revision}/{file}`,
      onProgress: p.onProgress,
    });
    expect(requests.slice(before)).toEqual(['/test/lenet5/resolve/main/model.safetensors']);
    expectMonotonic(p.calls, ST.length, ST.length);
    for (const d of ref.digits.slice(0, 5)) {
      const y = await m.predict({ data: heldOut[d.heldOutIndex].image, shape: [1, 1, 32, 32] });
      for (let i = 0; i < 10; i++) expect(Math.abs(y.data[i] - d.logits[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(d.logits[i])));
    }
    // a path and a Response work the same way; a 404 is a LoadError naming the URL
    await createModel('lenet5', { weights: ST_PATH });
    await createModel('lenet5', { weights: new Response(ST) });
    const url = `${base}/test/other/resolve/main/model.safetensors`;
    expectLoadError(await rejection(createModel('lenet5', { weights: url })), 'http', url, 404);
  });
});
