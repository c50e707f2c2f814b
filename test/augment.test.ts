// Training augmentation (src/train/augment.ts on assembly/augment.ts): every functional form
// against torchvision 0.14's output for the same parameters (test/fixtures/train/augment.json,
// written by tools/augment_fixtures.py), per-image parameters in one batch, and the random
// transforms: seeded draws reproduce, other seeds differ, torchvision's ranges are respected.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValueError } from '../src/errors';
import type { Tensor } from '../src/graph/ir';
import {
  addGaussianNoise, adjustBrightness, adjustContrast, adjustHue, adjustSaturation, affine, augmentation,
  colorJitter, drawCropBox, gaussianNoise, hflip, normalize, randomAffine, randomHorizontalFlip,
  randomResizedCrop, randomRotation, ready, resizedCrop, rotate, Rng, type AffineParams, type CropBox,
} from '../src/train/augment';

interface Case {
  op: string;
  params: Record<string, unknown>;
  src: 'rgb' | 'gray';
  shape: number[];
  data: string;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/train/augment.json', import.meta.url), 'utf8')) as {
  input: { shape: number[]; data: string };
  cases: Case[];
};

function f32(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

const input: Tensor = { data: f32(fixture.input.data), shape: fixture.input.shape };
/** The first channel of the batch (the one-channel cases). */
const gray: Tensor = (() => {
  const [n, c, h, w] = input.shape;
  const d = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) d.set(input.data.subarray(i * c * h * w, i * c * h * w + h * w), i * h * w);
  return { data: d, shape: [n, 1, h, w] };
})();

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Image i of a batch as its own tensor. */
function image(t: Tensor, i: number): Float32Array {
  const per = t.data.length / t.shape[0];
  return t.data.subarray(i * per, (i + 1) * per);
}

function run(c: Case): Tensor {
  const x = c.src === 'gray' ? gray : input;
  const p = c.params as Record<string, never>;
  switch (c.op) {
    case 'affine':
      return affine(x, p as unknown as AffineParams);
    case 'rotate':
      return rotate(x, p.angle);
    case 'resizedCrop':
      return resizedCrop(x, { top: p.top, left: p.left, height: p.height, width: p.width }, p.size);
    case 'hflip':
      return hflip(x);
    case 'brightness':
      return adjustBrightness(x, p.factor);
    case 'contrast':
      return adjustContrast(x, p.factor);
    case 'saturation':
      return adjustSaturation(x, p.factor);
    case 'hue':
      return adjustHue(x, p.factor);
    case 'normalize':
      return normalize(x, p.mean, p.std);
  }
  throw new Error(`unknown case ${c.op}`);
}

beforeAll(async () => {
  await ready();
});

describe('functional forms equal torchvision 0.14', () => {
  const tol: Record<string, number> = { normalize: 2e-6 };
  for (const c of fixture.cases) {
    it(`${c.op} ${JSON.stringify(c.params)}${c.src === 'gray' ? ' (1 channel)' : ''}`, () => {
      const y = run(c);
      expect(y.shape).toEqual(c.shape);
      expect(maxDiff(y.data, f32(c.data))).toBeLessThanOrEqual(tol[c.op] ?? 1e-5);
    });
  }

  it('the fixture covers every form', () => {
    const ops = new Set(fixture.cases.map((c) => c.op));
    for (const op of ['affine', 'rotate', 'resizedCrop', 'hflip', 'brightness', 'contrast', 'saturation', 'hue', 'normalize'])
      expect(ops.has(op)).toBe(true);
  });

  it('does not modify its input', () => {
    const before = input.data.slice();
    affine(input, { angle: 30 });
    adjustHue(input, 0.2);
    expect(maxDiff(input.data, before)).toBe(0);
  });
});

describe('per-image parameters in one batch', () => {
  const byOp = (op: string) => fixture.cases.filter((c) => c.op === op && c.src === 'rgb');

  it('affine: a different matrix per image equals each single-parameter output', () => {
    const [a, b] = [byOp('affine')[1], byOp('affine')[9]];
    const y = affine(input, [a.params as unknown as AffineParams, b.params as unknown as AffineParams]);
    expect(maxDiff(image(y, 0), image({ data: f32(a.data), shape: a.shape }, 0))).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(image(y, 1), image({ data: f32(b.data), shape: b.shape }, 1))).toBeLessThanOrEqual(1e-5);
  });

  it('affine with a different fill per image', () => {
    const [a, b] = [byOp('affine')[10], byOp('affine')[0]]; // fill 0.5, fill 0
    const y = affine(input, [a.params as unknown as AffineParams, b.params as unknown as AffineParams]);
    expect(maxDiff(image(y, 0), image({ data: f32(a.data), shape: a.shape }, 0))).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(image(y, 1), image({ data: f32(b.data), shape: b.shape }, 1))).toBeLessThanOrEqual(1e-5);
  });

  it('resizedCrop: a box per image, one output size', () => {
    const cs = byOp('resizedCrop').filter((c) => (c.params.size as number[])[0] === 13);
    const c = cs[0];
    const other: CropBox = { top: 1, left: 2, height: 5, width: 6 };
    const own = c.params as unknown as CropBox;
    const y = resizedCrop(input, [own, other], [13, 17]);
    const y2 = resizedCrop(input, other, [13, 17]);
    expect(maxDiff(image(y, 0), image({ data: f32(c.data), shape: c.shape }, 0))).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(image(y, 1), image(y2, 1))).toBe(0);
  });

  it('colour factors per image', () => {
    for (const op of ['brightness', 'contrast', 'saturation', 'hue']) {
      const [a, b] = byOp(op);
      const fa = a.params.factor as number, fb = b.params.factor as number;
      const fn = { brightness: adjustBrightness, contrast: adjustContrast, saturation: adjustSaturation, hue: adjustHue }[op]!;
      const y = fn(input, [fb, fa]);
      expect(maxDiff(image(y, 0), image({ data: f32(b.data), shape: b.shape }, 0))).toBeLessThanOrEqual(1e-5);
      expect(maxDiff(image(y, 1), image({ data: f32(a.data), shape: a.shape }, 1))).toBeLessThanOrEqual(1e-5);
    }
  });

  it('hflip flags per image', () => {
    const y = hflip(input, [false, true]);
    const all = hflip(input);
    expect(maxDiff(image(y, 0), image(input, 0))).toBe(0);
    expect(maxDiff(image(y, 1), image(all, 1))).toBe(0);
  });
});

describe('gaussian noise', () => {
  const big: Tensor = { data: new Float32Array(2 * 3 * 41 * 37).fill(0.5), shape: [2, 3, 41, 37] };

  it('has the asked std per image, mean 0, and depends only on the seed', () => {
    const y = addGaussianNoise(big, [0.05, 0.1], 7, { clip: false });
    for (const [i, sd] of [[0, 0.05], [1, 0.1]] as const) {
      const v = image(y, i);
      let s = 0, s2 = 0;
      for (const x of v) {
        s += x - 0.5;
        s2 += (x - 0.5) ** 2;
      }
      const mean = s / v.length, std = Math.sqrt(s2 / v.length - mean * mean);
      expect(Math.abs(mean)).toBeLessThan(4 * sd / Math.sqrt(v.length));
      expect(Math.abs(std / sd - 1)).toBeLessThan(0.05);
    }
    expect(maxDiff(addGaussianNoise(big, [0.05, 0.1], 7, { clip: false }).data, y.data)).toBe(0);
    expect(maxDiff(addGaussianNoise(big, [0.05, 0.1], 8, { clip: false }).data, y.data)).toBeGreaterThan(0.1);
  });

  it('follows the documented stream (lowbias32 hash of (seed, k), 23-bit uniforms, Box–Muller)', () => {
    const lowbias = (v: number) => {
      v = (v ^ (v >>> 16)) >>> 0;
      v = Math.imul(v, 0x7feb352d) >>> 0;
      v = (v ^ (v >>> 15)) >>> 0;
      v = Math.imul(v, 0x846ca68b) >>> 0;
      return (v ^ (v >>> 16)) >>> 0;
    };
    const hash = (seed: number, k: number) => lowbias((lowbias((k ^ Math.imul(seed, 0x9e3779b9)) >>> 0) ^ seed) >>> 0);
    const normal = (seed: number, k: number) => {
      const j = k - (k % 2);
      const u1 = ((hash(seed, j) >>> 9) + 0.5) / 8388608, u2 = ((hash(seed, j + 1) >>> 9) + 0.5) / 8388608;
      const r = Math.sqrt(-2 * Math.log(u1));
      return k % 2 === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
    };
    const zeros: Tensor = { data: new Float32Array(3 * 1 * 5 * 7), shape: [3, 1, 5, 7] };
    const seed = 0xfeedbeef;
    const y = addGaussianNoise(zeros, 1, seed, { clip: false });
    for (let k = 0; k < y.data.length; k++) expect(Math.abs(y.data[k] - normal(seed, k))).toBeLessThan(2e-6);
  });

  it('clips to [0, 1] by default', () => {
    const y = addGaussianNoise(big, 2, 3);
    expect(Math.min(...y.data)).toBe(0);
    expect(Math.max(...y.data)).toBe(1);
  });
});

describe('random transforms', () => {
  const all = () => [
    randomResizedCrop([11, 15]),
    randomHorizontalFlip(),
    randomAffine({ degrees: 20, translate: [0.1, 0.2], scale: [0.8, 1.2], shear: [-5, 5, -3, 3] }),
    randomRotation(15),
    colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 }),
    gaussianNoise(0.02),
    normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
  ];

  it('seeded: the same seed reproduces batches and draws, another seed differs', () => {
    const a = augmentation(all(), { seed: 42 }), b = augmentation(all(), { seed: 42 }), c = augmentation(all(), { seed: 43 });
    const ya1 = a.apply(input), ya2 = a.apply(input);
    const yb1 = b.apply(input), yb2 = b.apply(input);
    expect(ya1.shape).toEqual([2, 3, 11, 15]);
    expect(maxDiff(ya1.data, yb1.data)).toBe(0);
    expect(maxDiff(ya2.data, yb2.data)).toBe(0);
    expect(JSON.stringify(a.params())).toBe(JSON.stringify(b.params()));
    expect(maxDiff(ya1.data, ya2.data)).toBeGreaterThan(0.1); // the generator moves on
    expect(maxDiff(c.apply(input).data, ya1.data)).toBeGreaterThan(0.1);
  });

  it('draws per image, and the pipeline equals the functional forms for the drawn parameters', () => {
    const aug = augmentation([randomAffine({ degrees: 30, translate: [0.2, 0.2], scale: [0.7, 1.3], shear: 10 }), colorJitter({ brightness: 0.5, hue: 0.2 })], { seed: 5 });
    const y = aug.apply(input);
    const [aff, jit] = aug.params();
    expect(aff.transform).toBe('randomAffine');
    const p = aff.perImage as AffineParams[];
    expect(p[0].angle).not.toBe(p[1].angle);
    const ref = affine(input, p);
    const jp = jit.perImage as { order: string[]; brightness: number; hue: number }[];
    for (let i = 0; i < 2; i++) {
      let one: Tensor = { data: image(ref, i).slice(), shape: [1, 3, 13, 17] };
      for (const op of jp[i].order) one = op === 'brightness' ? adjustBrightness(one, jp[i].brightness) : adjustHue(one, jp[i].hue);
      expect(maxDiff(image(y, i), one.data)).toBe(0);
    }
  });

  it('parameter ranges follow torchvision', () => {
    const aug = augmentation(
      [
        randomAffine({ degrees: [-10, 25], translate: [0.1, 0.3], scale: [0.9, 1.1], shear: [-4, 6, 1, 2] }),
        randomRotation([5, 9]),
        colorJitter({ brightness: 0.3, contrast: [0.5, 0.6], saturation: 2, hue: 0.25 }),
        randomHorizontalFlip(0.3),
      ],
      { seed: 9 },
    );
    const batch: Tensor = { data: new Float32Array(8 * 3 * 13 * 17).fill(0.5), shape: [8, 3, 13, 17] };
    let flips = 0, images = 0;
    const orders = new Set<string>();
    for (let rep = 0; rep < 25; rep++) {
      aug.apply(batch);
      const [aff, rot, jit, flip] = aug.params().map((d) => d.perImage);
      for (let i = 0; i < 8; i++) {
        const a = aff[i] as unknown as Required<AffineParams> & { shear: number[]; translate: number[] };
        expect(a.angle).toBeGreaterThanOrEqual(-10);
        expect(a.angle).toBeLessThanOrEqual(25);
        expect(Number.isInteger(a.translate[0]) && Math.abs(a.translate[0]) <= Math.round(0.1 * 17)).toBe(true);
        expect(Number.isInteger(a.translate[1]) && Math.abs(a.translate[1]) <= Math.round(0.3 * 13)).toBe(true);
        expect(a.scale >= 0.9 && a.scale <= 1.1).toBe(true);
        expect(a.shear[0] >= -4 && a.shear[0] <= 6 && a.shear[1] >= 1 && a.shear[1] <= 2).toBe(true);
        const r = (rot[i] as { angle: number }).angle;
        expect(r >= 5 && r <= 9).toBe(true);
        const j = jit[i] as { order: string[]; brightness: number; contrast: number; saturation: number; hue: number };
        expect(j.brightness >= 0.7 && j.brightness <= 1.3).toBe(true);
        expect(j.contrast >= 0.5 && j.contrast <= 0.6).toBe(true);
        expect(j.saturation >= 0 && j.saturation <= 3).toBe(true); // 1 ± 2, clipped at 0
        expect(j.hue >= -0.25 && j.hue <= 0.25).toBe(true);
        expect([...j.order].sort()).toEqual(['brightness', 'contrast', 'hue', 'saturation']);
        orders.add(j.order.join());
        if ((flip[i] as { flip: boolean }).flip) flips++;
        images++;
      }
    }
    expect(orders.size).toBeGreaterThan(10); // random order per image (24 possible)
    expect(Math.abs(flips / images - 0.3)).toBeLessThan(0.08);
  });

  it('randomResizedCrop: boxes inside the image, area and ratio in range, fallback to the centre', () => {
    const rng = new Rng(1);
    for (let k = 0; k < 500; k++) {
      const b = drawCropBox(rng, 13, 17, [0.08, 1], [3 / 4, 4 / 3]);
      expect(b.top >= 0 && b.left >= 0 && b.top + b.height <= 13 && b.left + b.width <= 17).toBe(true);
      // rounding of w and h moves area and ratio a little beyond the drawn values
      expect(b.height * b.width).toBeLessThanOrEqual(13 * 17);
      expect(b.width / b.height).toBeGreaterThan(0.5);
      expect(b.width / b.height).toBeLessThan(2);
    }
    // impossible scale (more than the image): the fallback, clamped to the ratio range, centred
    expect(drawCropBox(new Rng(2), 10, 40, [2, 3], [3 / 4, 4 / 3])).toEqual({ top: 0, left: 13, height: 10, width: 13 });
    expect(drawCropBox(new Rng(2), 10, 12, [2, 3], [3 / 4, 4 / 3])).toEqual({ top: 0, left: 0, height: 10, width: 12 });
  });

  it('rejects bad input with a ValueError', () => {
    expect(() => affine({ data: new Float32Array(5), shape: [1, 1, 2, 3] }, { angle: 0 })).toThrow(ValueError);
    expect(() => affine({ data: new Float32Array(5), shape: [1, 1, 2, 3] }, { angle: 0 })).toThrow(/6/);
    expect(() => affine(input, { angle: 0, scale: 0 })).toThrow(/scale/);
    expect(() => adjustHue(input, 0.7)).toThrow(/Hue/);
    expect(() => adjustSaturation({ data: new Float32Array(2 * 2 * 4), shape: [2, 2, 2, 2] }, 1)).toThrow(/channels/);
    expect(() => randomAffine({ degrees: 10, translate: [1.5, 0] })).toThrow(/translate/);
    expect(() => normalize(input, [0.5], [0.5])).toThrow(/channels/);
  });
});
