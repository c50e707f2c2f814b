// The loaders' way into src/io: bytes given as bytes are taken here, and every other source
// (paths, URLs, hub references, responses, streams, Blobs) loads src/io/source.ts on demand, so
// a bundle that only ever passes bytes (`import { init, loadOnnx }`) does not carry the fetching,
// streaming and hub code up front. (source.ts does not import this file: a bundler would then
// put source.ts in a chunk the entry loads.)
import { provideKit } from '../lazy/supply';
import type { ByteSource, ReadBytesOptions } from './source';

/** Bytes given as a Uint8Array or ArrayBuffer (progress reported once, as readBytes does); undefined for anything to read. */
function givenBytes(source: ByteSource, o: ReadBytesOptions): Uint8Array | undefined {
  if (!(source instanceof Uint8Array || source instanceof ArrayBuffer) || o.signal?.aborted) return undefined;
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  o.onProgress?.(bytes.length, bytes.length);
  return bytes;
}

/**
 * The bytes of any source: given bytes as they are; a local path (Node, Deno, Bun), an http(s),
 * file, data or blob URL, an `hf:owner/repo[@rev][/file]` hub reference, a Response, a
 * ReadableStream, an async iterable of chunks or a Blob, read with `onProgress(loaded, total)`
 * and an optional AbortSignal. (The public `readBytes`; src/io/source.ts, which reads everything
 * but bytes, is imported on first use.)
 *
 * @throws LoadError naming the path or URL (missing file, HTTP status, network failure, abort);
 *   ValueError for a value that is no source.
 */
export async function readSource(source: ByteSource, o: ReadBytesOptions = {}): Promise<Uint8Array> {
  const given = givenBytes(source, o);
  if (given) return given;
  const { readBytes } = await import('./source');
  provideKit();
  return readBytes(source, o);
}
