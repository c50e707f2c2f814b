// Images in, answers out (src/image, src/labels): fromImage against torchvision 0.14's tensor
// pipeline (fixtures by tools/image_fixtures.py: same PNG pixels, to_tensor → [Grayscale] →
// Resize(bilinear / bicubic / nearest, antialias or not) → CenterCrop → Normalize, every element
// within 1e-5), the decoders and
// source kinds, option errors, softmax against torch, topK / segmentation / palette from first
// principles, label sets against torchvision's counts and known entries.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, ShapeError, ValueError, WasmCnnError } from '../src/errors';
import { decodeImageNode } from '../src/image/decode-node';
import {
  COCO_LABELS,
  IMAGENET_LABELS,
  MNIST_LABELS,
  VOC_LABELS,
  fromImage,
  fromImages,
  labelSet,
  segmentationMap,
  segmentationOverlay,
  softmax,
  toRawImage,
  topK,
  vocPalette,
  type ImageOptions,
} from '../src/image/index';
import { cropOffset, resizedSize } from '../src/image/preprocess';
import { modelPreprocessing } from '../models/index';
import { PREPROCESSING } from '../models/preprocessing';
import { platform, setPlatform, type RawImage } from '../src/runtime/platform';

const DIR = new URL('./fixtures/image/', import.meta.url);
const path = (f: string) => new URL(f, DIR).pathname;

interface Case {
  name: string;
  image: string;
  options: ImageOptions;
  shape: number[];
  file: string;
  /** The fixture keeps only these output rows of every channel. */
  rows?: number[];
}
const cases: Case[] = JSON.parse(readFileSync(new URL('cases.json', DIR), 'utf8'));

function expected(c: Case): Float32Array {
  const b = readFileSync(new URL(c.file, DIR));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The given rows of every channel of an NCHW batch-1 tensor (all of it without rows). */
function keepRows(data: Float32Array, shape: number[], rows?: number[]): Float32Array {
  if (!rows) return data;
  const [, C, H, W] = shape;
  const out = new Float32Array(C * rows.length * W);
  for (let c = 0; c < C; c++)
    rows.forEach((r, i) => out.set(data.subarray((c * H + r) * W, (c * H + r + 1) * W), (c * rows.length + i) * W));
  return out;
}

/** Largest |a − b| (Infinity when lengths differ or a value is NaN). */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

beforeAll(() => {
  setPlatform({ decodeImage: decodeImageNode });
});

describe('fromImage equals torchvision (Resize → CenterCrop → Normalize on to_tensor, antialias=True)', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.image} ${JSON.stringify(c.options)}`, async () => {
      const t = await fromImage(path(c.image), c.options);
      expect(t.shape).toEqual(c.shape);
      const d = maxDiff(keepRows(t.data, c.shape, c.rows), expected(c));
      const part = c.rows ? ` (${c.rows.length} of ${c.shape[2]} rows)` : '';
      console.log(`image fixture ${c.name} [${c.shape.join(', ')}]${part}: max |diff| vs torchvision ${d.toExponential(2)}`);
      expect(d).toBeLessThanOrEqual(1e-5);
    });
  }

  it('the fixtures tell the modes apart (antialias, nearest and plain bilinear differ by far more than 1e-5)', async () => {
    const aa = await fromImage(path('landscape.png'), { size: 64, crop: 56 });
    const plain = await fromImage(path('landscape.png'), { size: 64, crop: 56, antialias: false });
    const near = await fromImage(path('landscape.png'), { size: 64, crop: 56, interpolation: 'nearest' });
    expect(maxDiff(aa.data, plain.data)).toBeGreaterThan(0.05);
    expect(maxDiff(aa.data, near.data)).toBeGreaterThan(0.05);
  });

  it('the bicubic fixtures tell bicubic from bilinear and its antialiased (a = -0.5) from its plain (a = -0.75) form', async () => {
    const opts = (interpolation: 'bilinear' | 'bicubic', antialias: boolean): ImageOptions => ({ size: 64, crop: 56, interpolation, antialias });
    const img = path('landscape.png');
    const cubicAA = await fromImage(img, opts('bicubic', true));
    expect(maxDiff(cubicAA.data, (await fromImage(img, opts('bilinear', true))).data)).toBeGreaterThan(0.01);
    expect(maxDiff(cubicAA.data, (await fromImage(img, opts('bicubic', false))).data)).toBeGreaterThan(0.05);
    // up-sampling: the antialiased path still uses a = -0.5, the plain one a = -0.75
    const up = (antialias: boolean) => fromImage(path('small.png'), { size: 64, interpolation: 'bicubic', antialias });
    expect(maxDiff((await up(true)).data, (await up(false)).data)).toBeGreaterThan(0.01);
  });

  it('bicubic overshoots [0, 1] at a hard edge, as torch on float tensors (no clamping)', async () => {
    // a 0 | 255 step up-sampled 4x: Keys' kernel rings below 0 and above 1 next to the edge
    const step = new Uint8Array(8 * 2).map((_, i) => (i % 8 < 4 ? 0 : 255));
    for (const antialias of [true, false]) {
      const t = await fromImage({ data: step, width: 8, height: 2, channels: 1 }, { size: [2, 32], channels: 1, interpolation: 'bicubic', antialias });
      expect(Math.min(...t.data)).toBeLessThan(-0.01);
      expect(Math.max(...t.data)).toBeGreaterThan(1.01);
    }
  });

  it("a zoo model's modelPreprocessing(name) passes to fromImage as it is (bicubic efficientnet_b0 equals torchvision's Resize(256, BICUBIC) -> CenterCrop(224))", async () => {
    const p = modelPreprocessing('efficientnet_b0');
    expect(p).toMatchObject({ size: 256, crop: 224, interpolation: 'bicubic' });
    const c = cases.find((x) => x.name === 'photo_bicubic_256_224')!;
    const t = await fromImage(path(c.image), p);
    expect(t.shape).toEqual(c.shape);
    expect(maxDiff(keepRows(t.data, c.shape, c.rows), expected(c))).toBeLessThanOrEqual(1e-5);
  });

  it("every zoo model's preprocessing is accepted by fromImage and gives the model's input size", async () => {
    const img: RawImage = { data: new Uint8Array(9 * 7 * 3).map((_, i) => (i * 37) % 256), width: 9, height: 7, channels: 3 };
    const names = Object.keys(PREPROCESSING);
    let bicubic = 0;
    for (const name of names) {
      const p = modelPreprocessing(name);
      if (p.interpolation === 'bicubic') bicubic++;
      const t = await fromImage(img, p);
      // no size and no crop (detectors): the image at its own size
      const hw = p.crop ?? p.size ?? [7, 9];
      const [h, w] = typeof hw === 'number' ? (p.crop !== undefined ? [hw, hw] : resizedSize(7, 9, hw)) : hw;
      expect(t.shape, name).toEqual([1, p.channels, h, w]);
      expect(t.data.every(Number.isFinite), name).toBe(true);
    }
    console.log(`fromImage accepted the preprocessing of ${names.length} zoo models, ${bicubic} of them bicubic`);
    expect(bicubic).toBeGreaterThan(0);
  });

  it('same pixels from bytes, from a RawImage, from an ImageData-like RGBA buffer and from a file: URL', async () => {
    const c = cases.find((x) => x.name === 'landscape_64_56')!;
    const want = expected(c);
    const bytes = readFileSync(path(c.image));
    const raw = await decodeImageNode(bytes);
    expect(raw).toMatchObject({ width: 301, height: 217, channels: 3 });
    const rgba = new Uint8ClampedArray(raw.width * raw.height * 4);
    for (let i = 0; i < raw.width * raw.height; i++) {
      rgba.set(raw.data.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = 255;
    }
    for (const src of [bytes, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), raw, { data: rgba, width: raw.width, height: raw.height }, new URL(c.image, DIR)]) {
      const t = await fromImage(src as never, c.options);
      expect(maxDiff(t.data, want)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('no options: the image at its size, 3 channels, x / 255 (first principles on a 2x1 image)', async () => {
    const t = await fromImage({ data: new Uint8Array([0, 51, 255, 255, 102, 1]), width: 2, height: 1, channels: 3 });
    expect(t.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(t.data)).toEqual([0, 1, 51 / 255, 102 / 255, 1, 1 / 255].map(Math.fround));
  });

  it("LeNet-5's input from a 28x28 MNIST-style digit: { channels: 1, crop: 32 } zero-pads 2 pixels on every side", async () => {
    const digit = new Uint8Array(28 * 28).map((_, i) => (i * 97) % 256);
    const t = await fromImage({ data: digit, width: 28, height: 28, channels: 1 }, { channels: 1, size: [28, 28], crop: 32 });
    expect(t.shape).toEqual([1, 1, 32, 32]);
    const want = new Float32Array(32 * 32);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) want[(y + 2) * 32 + x + 2] = Math.fround(digit[y * 28 + x] / 255);
    expect(Array.from(t.data)).toEqual(Array.from(want));
  });

  it('grey output of a grey image is its values; RGB output repeats them', async () => {
    const img: RawImage = { data: new Uint8Array([10, 20, 30, 40]), width: 2, height: 2, channels: 1 };
    const g = await fromImage(img, { channels: 1, mean: [0.5], std: [0.5] });
    expect(Array.from(g.data)).toEqual([10, 20, 30, 40].map((v) => Math.fround((Math.fround(v / 255) - 0.5) / 0.5)));
    const rgb = await fromImage(img, { channels: 3 });
    expect(rgb.shape).toEqual([1, 3, 2, 2]);
    expect(Array.from(rgb.data.subarray(8))).toEqual(Array.from(rgb.data.subarray(0, 4)));
  });
});

describe('output sizes (torchvision 0.14 rules)', () => {
  it('Resize(int) keeps the aspect ratio, truncating the long side', () => {
    expect(resizedSize(217, 301, 64)).toEqual([64, Math.trunc((64 * 301) / 217)]);
    expect(resizedSize(333, 97, 64)).toEqual([Math.trunc((64 * 333) / 97), 64]);
    expect(resizedSize(100, 100, 7)).toEqual([7, 7]);
    expect(resizedSize(10, 20, [3, 4])).toEqual([3, 4]);
  });
  it('CenterCrop offsets round half to even; larger crops pad (left/top gets the smaller half)', () => {
    expect(cropOffset(88, 56)).toBe(16);
    expect(cropOffset(57, 56)).toBe(0); // round(0.5) = 0
    expect(cropOffset(59, 56)).toBe(2); // round(1.5) = 2
    expect(cropOffset(61, 56)).toBe(2); // round(2.5) = 2
    expect(cropOffset(24, 31)).toBe(-3);
    expect(cropOffset(32, 40)).toBe(-4);
  });
});

describe('fromImage errors and reuse', () => {
  it('bad options are ValueErrors that name the option', async () => {
    const img: RawImage = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
    const bad: [ImageOptions, RegExp][] = [
      [{ size: 0 }, /size/],
      [{ size: [3] as never }, /size/],
      [{ crop: 1.5 }, /crop/],
      [{ mean: [1, 2] }, /mean/],
      [{ std: [0] }, /std/],
      [{ channels: 2 as never }, /channels/],
      [{ interpolation: 'lanczos' as never }, /interpolation must be 'bilinear', 'bicubic' or 'nearest'/],
      [{ antialias: 'yes' as never }, /antialias/],
      [{ resize: 3 } as never, /unknown option 'resize'/],
    ];
    for (const [o, re] of bad) await expect(fromImage(img, o)).rejects.toThrow(re);
    await expect(fromImage(img, { size: 0 })).rejects.toBeInstanceOf(ValueError);
  });

  it('bad pixels and sources are typed errors', async () => {
    await expect(fromImage({ data: new Uint8Array(5), width: 2, height: 2, channels: 3 })).rejects.toThrow(/12 bytes/);
    await expect(fromImage({ data: new Uint8Array(8), width: 2, height: 2, channels: 2 as never })).rejects.toThrow(/channels/);
    await expect(fromImage({ data: new Float32Array(12) as never, width: 2, height: 2, channels: 3 })).rejects.toBeInstanceOf(ValueError);
    await expect(fromImage(new TextEncoder().encode('this is text, not a PNG'))).rejects.toBeInstanceOf(FormatError);
    await expect(fromImage(path('no-such-image.png'))).rejects.toThrow(/no-such-image\.png.*no such file/);
    await expect(fromImage(path('no-such-image.png'))).rejects.toMatchObject({ name: 'LoadError', reason: 'not-found' });
    await expect(fromImage(null as never)).rejects.toBeInstanceOf(ValueError);
    await expect(fromImage(new Float32Array(4) as never)).rejects.toThrow(/Uint8Array/);
    await expect(fromImage({ width: 0, height: 0 } as never)).rejects.toBeInstanceOf(ValueError);
    await expect(fromImage({ data: new Uint8Array(12), width: 2, height: 2 } as never)).rejects.toThrow(/channels: 1 \| 3 \| 4/);
  });

  it('without a decoder, encoded bytes say what is missing', async () => {
    const saved = platform.decodeImage;
    platform.decodeImage = undefined;
    try {
      await expect(fromImage(readFileSync(path('small.png')))).rejects.toThrow(/sharp|browser/);
      await expect(fromImage(readFileSync(path('small.png')))).rejects.toBeInstanceOf(WasmCnnError);
    } finally {
      platform.decodeImage = saved;
    }
  });

  it('many calls of different sizes reuse one instance without growing past the largest', async () => {
    const big = await decodeImageNode(path('photo.png'));
    const small = await decodeImageNode(path('small.png'));
    const first = await fromImage(big, { size: 256, crop: 224 });
    const { preprocessRuntime } = await import('../src/image/preprocess');
    const rt = await preprocessRuntime();
    const pages = rt.mem.memory.buffer.byteLength;
    for (let i = 0; i < 20; i++) {
      await fromImage(small, { size: 64, crop: 56 });
      const again = await fromImage(big, { size: 256, crop: 224 });
      expect(maxDiff(again.data, first.data)).toBe(0);
    }
    expect(rt.mem.memory.buffer.byteLength).toBe(pages);
  });
});

describe('fromImages (batch)', () => {
  it('stacks images into [N, C, H, W], each equal to its single-image tensor', async () => {
    const o: ImageOptions = { size: 64, crop: 56, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const t = await fromImages([path('landscape.png'), path('portrait.png'), path('small.png')], o);
    expect(t.shape).toEqual([3, 3, 56, 56]);
    const n = 3 * 56 * 56;
    for (const [i, name] of ['landscape_64_56', 'portrait_64_56', 'small_64_56'].entries())
      expect(maxDiff(t.data.subarray(i * n, (i + 1) * n), expected(cases.find((c) => c.name === name)!))).toBeLessThanOrEqual(1e-5);
  });
  it('images of different output sizes are a ShapeError naming the image', async () => {
    await expect(fromImages([path('landscape.png'), path('portrait.png')], { size: 32 })).rejects.toThrow(/image 1 comes out 3x109x32/);
    await expect(fromImages([path('landscape.png'), path('portrait.png')], { size: 32 })).rejects.toBeInstanceOf(ShapeError);
    await expect(fromImages([])).rejects.toBeInstanceOf(ValueError);
  });
});

describe('decodeImageNode', () => {
  it('grey stays 1 channel, RGBA keeps alpha, pixels equal the PNG samples', async () => {
    const g = await decodeImageNode(path('grey.png'));
    expect(g).toMatchObject({ width: 53, height: 71, channels: 1 });
    const p = await decodeImageNode(path('portrait.png'));
    expect(p).toMatchObject({ width: 97, height: 333, channels: 4 });
    // 'grey_28' is to_tensor of the grey PNG resized to 28x28 by torchvision; the identity size is exact
    const same = await fromImage(g, { channels: 1 });
    for (let i = 0; i < 50; i++) expect(same.data[i]).toBe(Math.fround(g.data[i] / 255));
  });
});

describe('decodeImageNode colour management', () => {
  it('returns the samples as stored, ignoring an embedded ICC profile (as PIL, so torchvision, does)', async () => {
    const sharp = (await import('sharp')).default;
    const raw = Buffer.alloc(8 * 4 * 3).map((_, i) => (i * 37) % 256);
    const tagged = await sharp(raw, { raw: { width: 8, height: 4, channels: 3 } }).withIccProfile('p3').png().toBuffer();
    // the same file without its iCCP chunk: chunks are [length u32 BE][type][data][crc]
    const parts: Buffer[] = [tagged.subarray(0, 8)];
    let hadIcc = false;
    for (let p = 8; p < tagged.length; ) {
      const len = tagged.readUInt32BE(p);
      const type = tagged.toString('latin1', p + 4, p + 8);
      if (type === 'iCCP') hadIcc = true;
      else parts.push(tagged.subarray(p, p + 12 + len));
      p += 12 + len;
    }
    expect(hadIcc).toBe(true);
    const plain = await decodeImageNode(Buffer.concat(parts));
    const withIcc = await decodeImageNode(tagged);
    expect(Array.from(withIcc.data)).toEqual(Array.from(plain.data));
  });
});

describe('from a digit PNG to its class', () => {
  it('white-on-black 28x28 MNIST PNGs through fromImage({ channels: 1, crop: 32 }) → LeNet-5 → topK give their digits', async () => {
    const sharp = (await import('sharp')).default;
    const { loadMnistSplit } = await import('../src/data/mnist');
    const { createModel } = await import('../models/index');
    const digits = loadMnistSplit().heldOut.slice(0, 100);
    const model = await createModel('lenet5');
    let right = 0;
    for (const d of digits) {
      // the 28x28 digit inside the zero-padded 32x32 training image, as 8-bit grey
      const px = new Uint8Array(28 * 28);
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) px[y * 28 + x] = Math.round(d.image[(y + 2) * 32 + x + 2] * 255);
      const png = await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
      const x = await fromImage(png, { channels: 1, crop: 32 });
      const [[top]] = topK(softmax(await model.predict(x)), 1, 'mnist');
      if (top.label === String(d.label)) right++;
    }
    // the training's held-out accuracy is 98.6 %; 8-bit rounding of the pixels must not cost more than a digit or two here
    console.log(`LeNet-5 on 100 held-out digits as PNG files: ${right} right`);
    expect(right).toBeGreaterThanOrEqual(96);
  });
});

describe('softmax', () => {
  const fx = JSON.parse(readFileSync(new URL('softmax.json', DIR), 'utf8'));
  it('equals torch.softmax over the class axis, with a logit of 1000 (no overflow)', () => {
    const s = softmax({ data: Float32Array.from(fx.logits), shape: fx.shape });
    expect(maxDiff(s.data, fx.softmax)).toBeLessThan(1e-7);
    expect(s.data[7 + 3]).toBeCloseTo(1, 7);
    const s4 = softmax({ data: Float32Array.from(fx.logits4), shape: fx.shape4 });
    expect(maxDiff(s4.data, fx.softmax4)).toBeLessThan(1e-7);
  });
  it('1-D and explicit axes; each row sums to 1; shape errors are typed', () => {
    const s = softmax({ data: Float32Array.from([0, Math.log(3)]), shape: [2] });
    expect(Array.from(s.data)).toEqual([0.25, 0.75]);
    const t = softmax({ data: Float32Array.from([0, 0, Math.log(3), 0]), shape: [2, 2] }, 0);
    expect(Array.from(t.data)).toEqual([0.25, 0.5, 0.75, 0.5]);
    expect(() => softmax({ data: new Float32Array(3), shape: [2, 2] })).toThrow(ShapeError);
    expect(() => softmax({ data: new Float32Array(4), shape: [2, 2] }, 2)).toThrow(ValueError);
  });
});

describe('topK', () => {
  it('best first, ties by lower index, labels by name or array', () => {
    const out = { data: Float32Array.from([0.1, 0.5, 0.2, 0.5, 0.3, 0, 0, 0, 0, 0.9]), shape: [1, 10] };
    const [top] = topK(out, 3, 'mnist');
    expect(top).toEqual([
      { index: 9, label: '9', score: Math.fround(0.9) },
      { index: 1, label: '1', score: 0.5 },
      { index: 3, label: '3', score: 0.5 },
    ]);
    expect(topK(Float32Array.from([1, 3, 2]), 2, ['a', 'b', 'c']).map((p) => p.label)).toEqual(['b', 'c']);
    expect(topK([1, 3, 2], 5).map((p) => p.index)).toEqual([1, 2, 0]);
    expect(topK([1, 3, 2], 1)[0].label).toBe('1');
  });
  it('a batch gives one list per item; [N, C, 1, 1] is accepted', () => {
    const r = topK({ data: Float32Array.from([1, 2, 5, 4, 0, 3]), shape: [2, 3, 1, 1] }, 1);
    expect(r.map((x) => x[0].index)).toEqual([2, 0]);
  });
  it('errors: k, label count, NaN, spatial outputs', () => {
    expect(() => topK([1, 2], 0)).toThrow(ValueError);
    expect(() => topK({ data: new Float32Array(5), shape: [1, 5] }, 1, 'imagenet')).toThrow(/1000 labels for an output of 5 classes/);
    expect(() => topK([1, NaN], 1)).toThrow(/NaN at class 1/);
    expect(() => topK({ data: new Float32Array(8), shape: [1, 2, 2, 2] }, 1)).toThrow(ShapeError);
  });
});

describe('segmentation', () => {
  it('segmentationMap is the per-pixel argmax (ties: lower class)', () => {
    // 3 classes over a 1x4 image: pixel values per class plane
    const logits = { data: Float32Array.from([5, 0, 1, 2, /**/ 1, 3, 1, 2, /**/ 0, 0, 4, 1]), shape: [1, 3, 1, 4] };
    const m = segmentationMap(logits);
    expect(Array.from(m.data)).toEqual([0, 1, 2, 0]);
    expect(m).toMatchObject({ width: 4, height: 1, classes: 3 });
    expect(() => segmentationMap({ data: new Float32Array(4), shape: [4] })).toThrow(ShapeError);
  });
  it('vocPalette is the VOC devkit colour map', () => {
    const p = vocPalette();
    const rgb = (i: number) => Array.from(p.subarray(i * 3, i * 3 + 3));
    expect(rgb(0)).toEqual([0, 0, 0]);
    expect(rgb(1)).toEqual([128, 0, 0]);
    expect(rgb(2)).toEqual([0, 128, 0]);
    expect(rgb(7)).toEqual([128, 128, 128]);
    expect(rgb(8)).toEqual([64, 0, 0]);
    expect(rgb(15)).toEqual([192, 128, 128]); // person
    expect(rgb(20)).toEqual([0, 64, 128]); // tvmonitor
    expect(rgb(255)).toEqual([224, 224, 192]); // the 'void' border colour
  });
  it('segmentationOverlay blends the class colour, scales the map by nearest, leaves background', () => {
    const map = { data: Int32Array.from([0, 1, 15, 2]), width: 2, height: 2, classes: 21 };
    const image: RawImage = { data: new Uint8Array(4 * 4 * 3).fill(100), width: 4, height: 4, channels: 3 };
    const o = segmentationOverlay(map, image, { alpha: 0.25 });
    expect(o).toMatchObject({ width: 4, height: 4, channels: 4 });
    const px = (x: number, y: number) => Array.from(o.data.subarray((y * 4 + x) * 4, (y * 4 + x) * 4 + 4));
    expect(px(0, 0)).toEqual([100, 100, 100, 255]); // background
    expect(px(1, 1)).toEqual([100, 100, 100, 255]);
    expect(px(2, 0)).toEqual([107, 75, 75, 255]); // 0.75·100 + 0.25·(128, 0, 0)
    expect(px(3, 1)).toEqual([107, 75, 75, 255]);
    expect(px(0, 2)).toEqual([123, 107, 107, 255]); // person (192, 128, 128)
    expect(px(3, 3)).toEqual([75, 107, 75, 255]); // class 2 (0, 128, 0)
    const all = segmentationOverlay(map, image, { alpha: 1, background: null });
    expect(Array.from(all.data.subarray(0, 4))).toEqual([0, 0, 0, 255]);
    expect(() => segmentationOverlay(map, image, { alpha: 2 })).toThrow(ValueError);
    expect(() => segmentationOverlay({ ...map, data: Int32Array.from([0, 1, 300, 2]) }, image)).toThrow(/class 300/);
  });
});

describe('label sets', () => {
  it('sizes and known entries match torchvision', () => {
    expect(IMAGENET_LABELS.length).toBe(1000);
    expect(IMAGENET_LABELS[0]).toBe('tench');
    expect(IMAGENET_LABELS[207]).toBe('golden retriever');
    expect(IMAGENET_LABELS[281]).toBe('tabby');
    expect(IMAGENET_LABELS[999]).toBe('toilet tissue');
    expect(COCO_LABELS.length).toBe(91);
    expect([COCO_LABELS[0], COCO_LABELS[1], COCO_LABELS[12], COCO_LABELS[90]]).toEqual(['__background__', 'person', 'N/A', 'toothbrush']);
    expect(COCO_LABELS.filter((l) => l !== 'N/A' && l !== '__background__').length).toBe(80);
    expect(VOC_LABELS.length).toBe(21);
    expect([VOC_LABELS[0], VOC_LABELS[15], VOC_LABELS[20]]).toEqual(['__background__', 'person', 'tvmonitor']);
    expect(MNIST_LABELS).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });
  it('labelSet finds each by name and refuses others', () => {
    expect(labelSet('imagenet')).toBe(IMAGENET_LABELS);
    expect(labelSet('coco')).toBe(COCO_LABELS);
    expect(labelSet('voc')).toBe(VOC_LABELS);
    expect(labelSet('mnist')).toBe(MNIST_LABELS);
    expect(() => labelSet('cifar' as never)).toThrow(ValueError);
  });
});

describe('toRawImage', () => {
  it('decodes paths and passes raw pixels through', async () => {
    const r = await toRawImage(path('small.png'));
    expect(r).toMatchObject({ width: 40, height: 29, channels: 3 });
    expect(await toRawImage(r)).toBe(r);
  });
});
