// What differs between runtimes, behind one object. The browser-safe code (src/index.ts and
// everything it imports) never names a `node:` module; the Node entry fills these hooks in with
// node:fs, node:worker_threads and a native image decoder, so browser bundles never see them.
// Every hook is optional: code that needs one and finds it missing throws a WasmCnnError that
// names what is missing in this runtime.

/** Decoded pixels, row-major, interleaved channels (1 = grey, 3 = RGB, 4 = RGBA), 8 bits each. */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

export interface Platform {
  /** Reads a local file by path (Node, Deno, Bun). */
  readFile?: (path: string) => Promise<Uint8Array>;
  /** Decodes an encoded image (JPEG, PNG, WebP), or reads and decodes a local image file by path. */
  decodeImage?: (source: Uint8Array | string) => Promise<RawImage>;
}

/** The hooks in force; entry files fill them in once, at load. */
export const platform: Platform = {};

/** Sets hooks (entry files call this; tests may too). */
export function setPlatform(p: Partial<Platform>): void {
  Object.assign(platform, p);
}
