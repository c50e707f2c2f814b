// fromImage: any image a user holds → the NCHW float tensor a zoo model takes. Browser image
// objects are drawn onto a 2D canvas and read back as RGBA (the HTML canvas spec's
// drawImage / getImageData); images and ImageBitmaps go through a WebGL2 texture instead where
// it exists (UNPACK_PREMULTIPLY_ALPHA false + readPixels), which keeps the colour of translucent
// pixels as the file stores it (a 2D canvas premultiplies); encoded JPEG/PNG/WebP bytes and file paths are decoded through
// platform.decodeImage (the Node entry registers sharp) or, in browsers, createImageBitmap;
// raw pixels are taken as they are. Preprocessing (resize, crop, normalise) is preprocess.ts.
// Browser globals are feature-tested, never assumed, so this module loads in every runtime.
import { FormatError, ValueError, WasmCnnError } from '../errors';
import type { Tensor } from '../graph/ir';
import { platform, type RawImage } from '../runtime/platform';
import { concatBatch, preprocess, preprocessRuntime, type ImageOptions } from './preprocess';

/** Something with the shape of a DOM `Blob` (a `File` from a drop or an `<input type=file>`). */
export interface BlobLike {
  /** Size in bytes. */
  readonly size: number;
  /** MIME type, e.g. 'image/png' (may be empty). */
  readonly type: string;
  /** Reads the encoded bytes. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** `ImageData` (canvas `getImageData`): RGBA pixels, 4 bytes each. */
export interface ImageDataLike {
  /** RGBA samples, row-major, `width * height * 4` bytes. */
  readonly data: Uint8ClampedArray;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/**
 * A browser image object, described by its size fields so these types need no DOM library:
 * `HTMLImageElement` (naturalWidth), `HTMLVideoElement` (videoWidth), `VideoFrame`
 * (displayWidth), `HTMLCanvasElement`, `OffscreenCanvas` and `ImageBitmap` (width).
 */
export type DrawableLike =
  | {
      /** `HTMLImageElement`: the image's intrinsic width in pixels. */
      readonly naturalWidth: number;
      /** `HTMLImageElement`: the image's intrinsic height in pixels. */
      readonly naturalHeight: number;
    }
  | {
      /** `HTMLVideoElement`: the video's intrinsic width in pixels. */
      readonly videoWidth: number;
      /** `HTMLVideoElement`: the video's intrinsic height in pixels. */
      readonly videoHeight: number;
    }
  | {
      /** `VideoFrame`: the frame's display width in pixels. */
      readonly displayWidth: number;
      /** `VideoFrame`: the frame's display height in pixels. */
      readonly displayHeight: number;
    }
  | {
      /** Canvas or `ImageBitmap`: width in pixels. */
      readonly width: number;
      /** Canvas or `ImageBitmap`: height in pixels. */
      readonly height: number;
    };

/**
 * What `fromImage` reads:
 * - raw pixels: a `RawImage` (`{ data, width, height, channels }`) or an `ImageData`;
 * - encoded JPEG / PNG / WebP: a `Uint8Array` (a Node `Buffer` too) or `ArrayBuffer`, a `Blob`/`File`;
 * - a file path (Node, Deno, Bun), or a URL (fetched; a `file:` URL is read as a path);
 * - in browsers: `HTMLImageElement`, `HTMLCanvasElement`, `OffscreenCanvas`, `ImageBitmap`,
 *   `VideoFrame`, `HTMLVideoElement` (its current frame).
 *
 * The alpha channel is dropped, keeping the colour samples as stored (as PIL's `convert('RGB')`).
 * Encoded bytes, image elements and ImageBitmaps keep the exact colour of translucent pixels
 * (read through WebGL2 where available); a canvas, its ImageData and video frames hold
 * premultiplied colour, so translucent pixels come out as the canvas rounds them.
 */
export type ImageSource = RawImage | ImageDataLike | Uint8Array | ArrayBuffer | string | URL | BlobLike | DrawableLike;

type Canvas2D = {
  drawImage(src: unknown, x: number, y: number, w: number, h: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
};

const g = globalThis as Record<string, unknown>;

function isInstance(x: unknown, name: string): boolean {
  const C = g[name];
  return typeof C === 'function' && x instanceof (C as new (...a: never[]) => unknown);
}

/** A 2D context on a w x h canvas: OffscreenCanvas where it exists, else a DOM canvas. */
function canvas2d(w: number, h: number): Canvas2D {
  let canvas: { getContext(kind: '2d', o?: object): unknown } | undefined;
  if (typeof g.OffscreenCanvas === 'function') {
    canvas = new (g.OffscreenCanvas as new (w: number, h: number) => typeof canvas & object)(w, h);
  } else if (typeof g.document === 'object' && g.document) {
    const c = (g.document as { createElement(t: 'canvas'): { width: number; height: number } }).createElement('canvas');
    c.width = w;
    c.height = h;
    canvas = c as unknown as typeof canvas;
  }
  const ctx = canvas?.getContext('2d', { willReadFrequently: true }) as Canvas2D | null | undefined;
  if (!ctx) throw new WasmCnnError('fromImage: this runtime has no 2D canvas to read a browser image object with');
  return ctx;
}

/** One WebGL2 context reused for straight-alpha reads (undefined: not tried yet; null: unavailable). */
let glReader: { gl: WebGL2RenderingContext; tex: WebGLTexture; fb: WebGLFramebuffer } | null | undefined;

function webgl2(): typeof glReader {
  if (glReader !== undefined && !(glReader && glReader.gl.isContextLost())) return glReader;
  glReader = null;
  try {
    let canvas: { getContext(kind: 'webgl2', o: object): unknown } | undefined;
    if (typeof g.OffscreenCanvas === 'function') canvas = new (g.OffscreenCanvas as new (w: number, h: number) => typeof canvas & object)(1, 1);
    else if (typeof g.document === 'object' && g.document)
      canvas = (g.document as { createElement(t: 'canvas'): typeof canvas & object }).createElement('canvas');
    const gl = canvas?.getContext('webgl2', { premultipliedAlpha: false, antialias: false, depth: false, stencil: false }) as WebGL2RenderingContext | null;
    const tex = gl?.createTexture();
    const fb = gl?.createFramebuffer();
    if (gl && tex && fb) glReader = { gl, tex, fb };
  } catch {
    glReader = null;
  }
  return glReader;
}

/**
 * RGBA of an image element or ImageBitmap with its colour samples as stored, through a WebGL2
 * texture upload without premultiplication and a readPixels. A 2D canvas premultiplies alpha,
 * so it loses the colour of translucent pixels that PIL / sharp (and torchvision) keep.
 * Undefined where WebGL2 is missing or refuses (then the 2D canvas path is used).
 */
function readStraightAlpha(src: unknown, w: number, h: number): Uint8Array | undefined {
  const r = webgl2();
  if (!r) return undefined;
  const { gl, tex, fb } = r;
  try {
    const max = gl.getParameter(gl.MAX_TEXTURE_SIZE) as number;
    if (w > max || h > max) return undefined;
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, src as TexImageSource);
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
    let px: Uint8Array | undefined;
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) === gl.FRAMEBUFFER_COMPLETE) {
      px = new Uint8Array(w * h * 4);
      gl.pixelStorei(gl.PACK_ALIGNMENT, 1);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    }
    // give the texture's memory back
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 1, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    return gl.getError() === gl.NO_ERROR ? px : undefined;
  } catch {
    return undefined;
  }
}

/** The RGBA pixels of a drawable browser object at its natural size. */
async function drawToRaw(src: DrawableLike, what: string): Promise<RawImage> {
  let w: number;
  let h: number;
  if (isInstance(src, 'HTMLImageElement')) {
    const img = src as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number; decode(): Promise<void>; src: string };
    if (!img.complete || img.naturalWidth === 0) {
      try {
        await img.decode();
      } catch (e) {
        throw new FormatError(`fromImage: the <img> (${img.src.slice(0, 100)}) cannot be decoded: ${(e as Error).message}`);
      }
    }
    [w, h] = [img.naturalWidth, img.naturalHeight];
  } else if (isInstance(src, 'HTMLVideoElement')) {
    const v = src as unknown as { readyState: number; videoWidth: number; videoHeight: number };
    if (v.readyState < 2)
      throw new ValueError(`fromImage: the <video> has no frame yet (readyState ${v.readyState}); wait for its 'loadeddata' event`);
    [w, h] = [v.videoWidth, v.videoHeight];
  } else if ('displayWidth' in src) {
    [w, h] = [src.displayWidth, src.displayHeight]; // VideoFrame
  } else if ('width' in src) {
    [w, h] = [src.width, src.height]; // canvas, OffscreenCanvas, ImageBitmap
  } else {
    throw new ValueError(`fromImage: ${what} is not an image source wasmcnn can read`);
  }
  if (!(w > 0 && h > 0)) throw new ValueError(`fromImage: ${what} has no pixels (${w}x${h})`);
  if (isInstance(src, 'HTMLImageElement') || isInstance(src, 'ImageBitmap')) {
    const px = readStraightAlpha(src, w, h);
    if (px) return { data: px, width: w, height: h, channels: 4 };
  }
  const ctx = canvas2d(w, h);
  try {
    ctx.drawImage(src, 0, 0, w, h);
    return { data: ctx.getImageData(0, 0, w, h).data, width: w, height: h, channels: 4 };
  } catch (e) {
    // e.g. a cross-origin image without CORS taints the canvas (SecurityError)
    throw new WasmCnnError(`fromImage: cannot read the pixels of ${what}: ${(e as Error).message}`);
  }
}

/** Encoded image bytes → pixels: platform.decodeImage (Node: sharp), else the browser's decoder. */
async function decodeBytes(bytes: Uint8Array, what: string): Promise<RawImage> {
  if (platform.decodeImage) return platform.decodeImage(bytes);
  if (typeof g.createImageBitmap === 'function' && typeof g.Blob === 'function') {
    const blob = new (g.Blob as new (parts: unknown[]) => unknown)([bytes]);
    return decodeBlob(blob, what);
  }
  throw new WasmCnnError(
    `fromImage: cannot decode ${what} in this runtime: import wasmcnn's Node entry (with sharp installed) or run in a browser, or pass raw pixels ({ data, width, height, channels })`,
  );
}

async function decodeBlob(blob: unknown, what: string): Promise<RawImage> {
  let bitmap: DrawableLike & { close?(): void };
  try {
    bitmap = await (g.createImageBitmap as (b: unknown, o: object) => Promise<DrawableLike>)(blob, {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch (e) {
    throw new FormatError(`fromImage: ${what} is not an image the browser can decode (JPEG, PNG, WebP...): ${(e as Error).message}`);
  }
  try {
    return await drawToRaw(bitmap, what);
  } finally {
    bitmap.close?.();
  }
}

function isRawImage(x: object): x is RawImage {
  return 'data' in x && 'channels' in x && 'width' in x && 'height' in x;
}

function isImageData(x: object): x is ImageDataLike {
  return 'data' in x && (x as ImageDataLike).data instanceof Uint8ClampedArray && 'width' in x && 'height' in x && !('channels' in x);
}

/** A local path for a path string or a file: URL, or undefined for anything to fetch. */
function localPath(src: string | URL): string | undefined {
  if (typeof src === 'string' && !/^[a-z][a-z0-9+.-]+:/i.test(src)) return src;
  const url = new URL(src);
  if (url.protocol !== 'file:') return undefined;
  const p = decodeURIComponent(url.pathname);
  return /^\/[A-Za-z]:/.test(p) ? p.slice(1) : p;
}

/** Any ImageSource → decoded pixels (a RawImage as it is; everything else decoded or drawn). */
export async function toRawImage(src: ImageSource, what = 'the image'): Promise<RawImage> {
  if (typeof src === 'string' || src instanceof URL) {
    const path = localPath(src);
    if (path !== undefined && platform.decodeImage) return platform.decodeImage(path);
    if (path !== undefined && platform.readFile) return decodeBytes(await platform.readFile(path), `'${path}'`);
    // no file access here: a relative string is a URL to fetch (browsers), a file: URL cannot be read
    if (/^file:/i.test(String(src)) || typeof g.fetch !== 'function')
      throw new WasmCnnError(`fromImage: cannot read ${String(src)}: this runtime has no file access; pass the bytes or an http(s) URL`);
    const res = await (g.fetch as (u: string | URL) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>)(src);
    if (!res.ok) throw new WasmCnnError(`fromImage: cannot fetch ${String(src)}: HTTP ${res.status}`);
    return decodeBytes(new Uint8Array(await res.arrayBuffer()), String(src));
  }
  if (src instanceof Uint8Array) return decodeBytes(src, what);
  if (src instanceof ArrayBuffer) return decodeBytes(new Uint8Array(src), what);
  if (src === null || typeof src !== 'object')
    throw new ValueError(`fromImage: ${what} is ${src === null ? 'null' : typeof src}, not an image source`);
  if (isInstance(src, 'Blob')) {
    if (platform.decodeImage || typeof g.createImageBitmap !== 'function')
      return decodeBytes(new Uint8Array(await (src as BlobLike).arrayBuffer()), what);
    return decodeBlob(src, what);
  }
  if (isRawImage(src)) return src;
  if (isImageData(src)) {
    if (src.data.length !== src.width * src.height * 4)
      throw new ValueError(`fromImage: ${what} is ${src.width}x${src.height} but holds ${src.data.length} bytes, not 4 per pixel`);
    return { data: src.data, width: src.width, height: src.height, channels: 4 };
  }
  if (ArrayBuffer.isView(src)) throw new ValueError(`fromImage: ${what} is a ${src.constructor.name}; encoded image bytes must be a Uint8Array`);
  if ('data' in src)
    throw new ValueError(
      `fromImage: ${what} looks like raw pixels but is neither a RawImage ({ data: Uint8Array, width, height, channels: 1 | 3 | 4 }) nor an ImageData (RGBA in a Uint8ClampedArray)`,
    );
  return drawToRaw(src as DrawableLike, what);
}

/**
 * An image → the float tensor `[1, C, H, W]` (NCHW) a CNN takes, preprocessed as torchvision's
 * `ToTensor → [Grayscale] → Resize → CenterCrop → Normalize` would (see ImageOptions).
 *
 * ```ts
 * const x = await fromImage(img, { size: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
 * const [top] = topK(softmax(await model.predict(x)), 5, 'imagenet');
 * ```
 * Without options the tensor is the image at its own size, 3 channels, values in [0, 1].
 */
export async function fromImage(source: ImageSource, options: ImageOptions = {}): Promise<Tensor> {
  const [img] = await Promise.all([toRawImage(source), preprocessRuntime()]);
  return preprocess(img, options);
}

/**
 * Several images → one batch `[N, C, H, W]`, each preprocessed as `fromImage` does. Every image
 * must come out the same size: give `crop`, or `size` as `[height, width]`; a ShapeError names
 * the first that does not.
 */
export async function fromImages(sources: readonly ImageSource[], options: ImageOptions = {}): Promise<Tensor> {
  if (!Array.isArray(sources) || sources.length === 0) throw new ValueError('fromImages: give a non-empty array of images');
  const parts: Tensor[] = [];
  for (let i = 0; i < sources.length; i++) parts.push(await preprocess(await toRawImage(sources[i], `image ${i}`), options));
  return concatBatch(parts);
}
