// Node image decoding for fromImage: JPEG, PNG, WebP (and whatever else libvips reads) through
// sharp, an optional dependency loaded on first use. The Node entry registers decodeImageNode
// as platform.decodeImage; browser bundles never import this file. Pixels are returned as
// stored, as PIL's Image.open gives them to torchvision: 8-bit, no EXIF rotation, an embedded
// ICC profile ignored (browsers' fromImage reads with colorSpaceConversion 'none' to match);
// 16-bit and CMYK files are reduced to 8-bit RGB / grey by libvips.
import { FormatError, LoadError, WasmCnnError } from '../errors';
import type { RawImage } from '../runtime/platform';

type SharpFn = (input: Uint8Array | string, options?: object) => {
  metadata(): Promise<{ space?: string; channels?: number }>;
  removeAlpha(): ReturnType<SharpFn>;
  toColourspace(space: string): ReturnType<SharpFn>;
  raw(options?: object): ReturnType<SharpFn>;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }>;
};

let sharpModule: Promise<SharpFn> | undefined;

function loadSharp(): Promise<SharpFn> {
  if (!sharpModule) {
    const p = (sharpModule = import('sharp').then(
      (m: { default?: unknown }) => (m.default ?? m) as SharpFn,
      (e: Error) => {
        throw new WasmCnnError(
          `decoding images in Node needs the optional dependency sharp, which did not load (${e.message.split('\n')[0]}): npm install sharp`,
        );
      },
    ));
    p.catch(() => {
      if (sharpModule === p) sharpModule = undefined;
    });
  }
  return sharpModule;
}

/**
 * Decodes an encoded image (bytes) or reads and decodes an image file (path) into 8-bit pixels:
 * grey images stay 1 channel, colour images are RGB or RGBA. Errors: a WasmCnnError when sharp
 * is missing, a LoadError when the file does not exist, a FormatError when the bytes are not an image.
 */
export async function decodeImageNode(source: Uint8Array | string): Promise<RawImage> {
  const sharp = await loadSharp();
  const what = typeof source === 'string' ? `'${source}'` : `the ${source.length} bytes given`;
  try {
    // grey (with or without alpha) stays 1 channel; colour becomes 8-bit sRGB, alpha kept
    const meta = await sharp(source).metadata();
    const grey = meta.space === 'b-w' || meta.space === 'grey16' || meta.channels === 1 || meta.channels === 2;
    let s = sharp(source, { failOn: 'error', ignoreIcc: true });
    s = grey ? s.toColourspace('b-w').removeAlpha() : s.toColourspace('srgb');
    const { data, info } = await s.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const { width, height, channels } = info;
    if (channels !== 1 && channels !== 3 && channels !== 4)
      throw new FormatError(`${what} decodes to ${channels} channels; expected grey, RGB or RGBA`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, width * height * channels), width, height, channels };
  } catch (e) {
    if (e instanceof WasmCnnError) throw e;
    const msg = (e as Error).message;
    if (typeof source === 'string' && /missing|ENOENT|no such file/i.test(msg))
      throw new LoadError(`cannot read the image file ${what}: no such file`, source, 'not-found', undefined, { cause: e });
    throw new FormatError(`cannot decode ${what} as an image (JPEG, PNG, WebP...): ${msg}`);
  }
}
