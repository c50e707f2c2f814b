// One reader for every place model bytes come from: bytes, a local path (Node, Deno, Bun, through
// platform.readFile), an http(s)/file/data/blob URL, a hub reference (hf:owner/repo, see hub.ts),
// a fetch Response, a WHATWG ReadableStream, an async iterable of chunks (Node streams) or a Blob.
// Streams are read chunk by chunk into one buffer sized from Content-Length or the Blob's size
// when it is known (no second copy), with onProgress(loaded, total) after every chunk and an
// optional AbortSignal. Specs: WHATWG Fetch (Response, body streams, AbortSignal), WHATWG Streams
// (ReadableStreamDefaultReader), RFC 9110 (Content-Length, Content-Encoding), RFC 8089 (file: URLs).
// Browser-safe: no node: module is named here; local files go through src/runtime/platform.ts.
import { hubTemplate, LoadError, platform, ValueError } from '../lazy/kit';
import { fillHubTemplate, isHubRef } from './hubRef';

/**
 * Where bytes can come from. A string is a hub reference (`hf:owner/repo[@rev][/file]`), an
 * `http:`, `https:`, `file:`, `data:` or `blob:` URL, or else a local path where the runtime
 * reads files (Node, Deno, Bun) and a URL relative to the page in a browser.
 */
export type ByteSource =
  | Uint8Array
  | ArrayBuffer
  | string
  | URL
  | Response
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Blob;

/** Called as bytes arrive: `total` is the expected size when known (Content-Length, Blob size), else undefined. */
export type ProgressCallback = (loaded: number, total: number | undefined) => void;

/** Options of every load that reads bytes from a {@link ByteSource}. */
export interface ReadOptions {
  /** Progress of the download or read: called after each chunk and once at the end. */
  onProgress?: ProgressCallback;
  /** Cancels the read; the load then rejects with a LoadError whose reason is 'aborted'. */
  signal?: AbortSignal;
  /** URL template for `hf:` references (overrides setHubTemplate() for this load). */
  hubTemplate?: string;
}

/** Options of {@link readBytes}: those of every load, plus the file a bare hub reference means. */
export interface ReadBytesOptions extends ReadOptions {
  /** File a bare `hf:owner/repo` reference resolves to (default model.safetensors). */
  defaultFile?: string;
  /**
   * @internal For loaders that parse while bytes arrive (loadOnnx): called after each chunk of a
   * stream of known size with the buffer the bytes are read into (it holds them from the first,
   * `loaded` so far; it is replaced if the stream runs past its size); the final bytes are in the
   * same places. (Not for a stream of unknown size: read as chunks joined once, its bytes are in
   * one buffer only at the end. Growing one buffer as they arrive copied and touched ~3x the
   * file in fresh memory: resnet50 over a chunked response loaded 0.8x as fast, bench/stream.js.)
   */
  onData?: (buf: Uint8Array, loaded: number) => void;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** A fetch Response (duck-typed, so one from another realm or polyfill also counts). */
export function isResponse(v: unknown): v is Response {
  return (
    (typeof Response !== 'undefined' && v instanceof Response) ||
    (isObj(v) && typeof v.arrayBuffer === 'function' && typeof v.status === 'number' && isObj(v.headers) && 'body' in v)
  );
}

function isReadableStream(v: unknown): v is ReadableStream<Uint8Array> {
  return isObj(v) && typeof v.getReader === 'function';
}

function isBlob(v: unknown): v is Blob {
  return (typeof Blob !== 'undefined' && v instanceof Blob) || (isObj(v) && typeof v.stream === 'function' && typeof v.size === 'number');
}

function isAsyncIterable(v: unknown): v is AsyncIterable<Uint8Array> {
  return isObj(v) && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/**
 * True when `v` is something {@link readBytes} reads (as opposed to, say, a tensor map).
 * Plain objects are not sources.
 */
export function isByteSource(v: unknown): v is ByteSource {
  return (
    typeof v === 'string' ||
    v instanceof Uint8Array ||
    v instanceof ArrayBuffer ||
    v instanceof URL ||
    isResponse(v) ||
    isReadableStream(v) ||
    isBlob(v) ||
    isAsyncIterable(v)
  );
}

function aborted(what: string, signal: AbortSignal): LoadError {
  const why = signal.reason instanceof Error && signal.reason.name !== 'AbortError' ? `: ${signal.reason.message}` : '';
  return new LoadError(`reading ${what} was aborted${why}`, what, 'aborted', undefined, { cause: signal.reason });
}

function checkAbort(what: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw aborted(what, signal);
}

/** The base a relative URL resolves against in a page or worker, if there is one. */
function pageBase(): string | undefined {
  const g = globalThis as { location?: { href?: string }; document?: { baseURI?: string } };
  return g.document?.baseURI ?? g.location?.href;
}

/** A URL scheme we fetch or read (a one-letter "scheme" is a Windows drive letter, i.e. a path). */
const URL_RE = /^([a-z][a-z0-9+.-]+):/i;

/** file: URL → local path (RFC 8089; percent-decoded; `/C:/x` → `C:/x`). */
function fileUrlToPath(u: URL): string {
  if (u.host && u.host !== 'localhost') return `//${u.host}${decodeURIComponent(u.pathname)}`;
  const p = decodeURIComponent(u.pathname);
  return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
}

async function readLocal(path: string, o: ReadBytesOptions): Promise<Uint8Array> {
  checkAbort(path, o.signal);
  const read = platform.readFile!;
  let bytes: Uint8Array;
  try {
    bytes = await read(path);
  } catch (e) {
    const err = e as { code?: string; name?: string; message?: string };
    if (err.code === 'ENOENT' || err.name === 'NotFound')
      throw new LoadError(`no such file: ${path}`, path, 'not-found', undefined, { cause: e });
    if (err.code === 'EISDIR' || err.name === 'IsADirectory')
      throw new LoadError(`${path} is a directory, not a file`, path, 'io', undefined, { cause: e });
    throw new LoadError(`cannot read ${path}: ${err.message ?? String(e)}`, path, 'io', undefined, { cause: e });
  }
  checkAbort(path, o.signal);
  o.onProgress?.(bytes.length, bytes.length);
  return bytes;
}

async function fetchUrl(url: string, o: ReadBytesOptions): Promise<Uint8Array> {
  checkAbort(url, o.signal);
  if (typeof fetch !== 'function')
    throw new LoadError(`cannot fetch ${url}: this runtime has no fetch()`, url, 'unsupported');
  let res: Response;
  try {
    res = await fetch(url, o.signal ? { signal: o.signal } : undefined);
  } catch (e) {
    if (o.signal?.aborted) throw aborted(url, o.signal);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new LoadError(
      `network error fetching ${url}: ${detail} (offline, host unreachable, or, in a browser, blocked by CORS or the page's connect-src)`,
      url,
      'network',
      undefined,
      { cause: e },
    );
  }
  return readResponse(res, o, url);
}

async function readResponse(res: Response, o: ReadBytesOptions, name?: string): Promise<Uint8Array> {
  const what = name ?? (res.url || 'the response');
  if (res.bodyUsed) throw new ValueError(`${what}: the Response body was already read; pass a fresh Response (or response.clone())`);
  if (res.type === 'opaque' || res.type === 'opaqueredirect')
    throw new LoadError(
      `${what}: the response is opaque (a cross-origin request without CORS, or a redirect fetched with redirect: 'manual'); its bytes cannot be read`,
      what,
      'http',
      res.status,
    );
  if (!res.ok) {
    const text = res.statusText ? ` ${res.statusText}` : '';
    const hint = res.status === 404 ? ' (not found: check the path, file name and revision)' : res.status === 401 || res.status === 403 ? ' (not allowed: a gated or private file needs credentials; download it and pass the bytes)' : '';
    try {
      await res.body?.cancel();
    } catch {
      /* the body is not needed */
    }
    throw new LoadError(`HTTP ${res.status}${text} for ${what}${hint}`, what, 'http', res.status);
  }
  // Content-Length counts the bytes on the wire: with a Content-Encoding the body is bigger.
  const enc = res.headers.get('content-encoding');
  const lenHeader = res.headers.get('content-length');
  const len = lenHeader !== null && /^\d+$/.test(lenHeader.trim()) ? Number(lenHeader) : undefined;
  const total = enc && enc.toLowerCase() !== 'identity' ? undefined : len;
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    o.onProgress?.(bytes.length, bytes.length);
    return bytes;
  }
  return readStream(res.body, total, o, what);
}

/**
 * Reads a stream to its end: into one buffer of `total` bytes when the size is known (growing it
 * only if the stream runs past), else into a list of chunks joined once at the end.
 */
async function readStream(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  total: number | undefined,
  o: ReadBytesOptions,
  what: string,
): Promise<Uint8Array> {
  const signal = o.signal;
  checkAbort(what, signal);
  let buf: Uint8Array | undefined = total !== undefined ? new Uint8Array(total) : undefined;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const take = (chunk: unknown) => {
    const c = chunk instanceof Uint8Array ? chunk : ArrayBuffer.isView(chunk) ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) : chunk instanceof ArrayBuffer ? new Uint8Array(chunk) : undefined;
    if (!c) throw new LoadError(`${what} yielded a ${typeof chunk} chunk, not bytes`, what, 'io');
    if (buf) {
      if (loaded + c.length > buf.length) {
        const grown = new Uint8Array(Math.max(loaded + c.length, buf.length * 2));
        grown.set(buf.subarray(0, loaded));
        buf = grown;
      }
      buf.set(c, loaded);
      o.onData?.(buf, loaded + c.length);
    } else {
      chunks.push(c);
    }
    loaded += c.length;
    o.onProgress?.(loaded, total);
  };

  if (isReadableStream(stream)) {
    const reader = stream.getReader();
    const onAbort = () => {
      reader.cancel(signal?.reason).catch(() => {});
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          if (signal?.aborted) throw aborted(what, signal);
          throw new LoadError(`reading ${what} failed after ${loaded} bytes: ${(e as Error).message ?? e}`, what, 'network', undefined, { cause: e });
        }
        checkAbort(what, signal);
        if (r.done) break;
        take(r.value);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      try {
        reader.releaseLock();
      } catch {
        /* already released */
      }
    }
  } else {
    try {
      for await (const chunk of stream) {
        checkAbort(what, signal);
        take(chunk);
      }
    } catch (e) {
      if (e instanceof LoadError) throw e;
      if (signal?.aborted) throw aborted(what, signal);
      throw new LoadError(`reading ${what} failed after ${loaded} bytes: ${(e as Error).message ?? e}`, what, 'io', undefined, { cause: e });
    }
  }

  if (buf) {
    if (loaded === 0) o.onProgress?.(0, total); // an empty body still reports once
    if (total !== undefined && loaded < total)
      throw new LoadError(`${what} ended after ${loaded} of ${total} bytes (truncated download?)`, what, 'network');
    return loaded === buf.length ? buf : buf.subarray(0, loaded);
  }
  o.onProgress?.(loaded, loaded);
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Reads all bytes of a {@link ByteSource}. Bytes are returned as they are (an ArrayBuffer is
 * wrapped, not copied); everything else is read once into one buffer.
 *
 * @throws LoadError naming the path or URL: missing file ('not-found'), HTTP error status
 *   ('http', with `status`), network failure ('network'), cancelled by `signal` ('aborted'),
 *   no way to read it in this runtime ('unsupported').
 * @throws ValueError for a malformed `hf:` reference or hub template, or a value that is no source.
 */
export async function readBytes(source: ByteSource, options: ReadBytesOptions = {}): Promise<Uint8Array> {
  const o = options;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    checkAbort('the given bytes', o.signal);
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    o.onProgress?.(bytes.length, bytes.length);
    return bytes;
  }
  if (typeof source === 'string' || source instanceof URL) {
    let s = typeof source === 'string' ? source : source.href;
    if (typeof source === 'string' && isHubRef(s)) s = fillHubTemplate(s, o.hubTemplate ?? hubTemplate(), o.defaultFile, ValueError);
    const scheme = URL_RE.exec(s)?.[1]?.toLowerCase();
    if (scheme === 'file') {
      if (platform.readFile) return readLocal(fileUrlToPath(new URL(s)), o);
      return fetchUrl(s, o);
    }
    if (scheme === 'http' || scheme === 'https' || scheme === 'data' || scheme === 'blob') return fetchUrl(s, o);
    if (scheme !== undefined && typeof source !== 'string')
      throw new LoadError(`cannot read ${s}: unsupported URL scheme '${scheme}:'`, s, 'unsupported');
    if (scheme !== undefined && !platform.readFile)
      throw new LoadError(`cannot read ${s}: unsupported URL scheme '${scheme}:' (use http(s):, data:, blob: or hf:)`, s, 'unsupported');
    // A plain string: a local path where the runtime reads files, else a URL relative to the page.
    if (platform.readFile) return readLocal(s, o);
    const page = pageBase();
    if (!page)
      throw new LoadError(
        `cannot read ${s}: this runtime has no file reader and no page to resolve a relative URL against ` +
          "(in Node, Deno or Bun import wasmcnn through its package entry, which reads files, or call setPlatform({ readFile }); or pass a full URL or the bytes)",
        s,
        'unsupported',
      );
    return fetchUrl(new URL(s, page).href, o);
  }
  if (isResponse(source)) return readResponse(source, o);
  if (isBlob(source)) return readStream(source.stream() as ReadableStream<Uint8Array>, source.size, o, 'the Blob');
  if (isReadableStream(source)) return readStream(source, undefined, o, 'the stream');
  if (isAsyncIterable(source)) return readStream(source, undefined, o, 'the stream');
  throw new ValueError(
    `cannot read a ${source === null ? 'null' : typeof source}: expected bytes, a path or URL, a Response, a ReadableStream or a Blob`,
  );
}
