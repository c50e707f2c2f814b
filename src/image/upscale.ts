// upscale(image, model): single-image super-resolution with a zoo model (espcn, fsrcnn) or any
// model mapping [1, C, H, W] in [0, 1] to [1, C, H·r, W·r] (C = 1 or 3).
// A 1-channel model runs on the luma as ESPCN (Shi et al. 2016) and FSRCNN (Dong et al. 2016) are
// trained and evaluated: ITU-R BT.601 YCbCr as MATLAB's rgb2ycbcr on values in [0, 1],
//   [Y, Cb, Cr] = T·[R, G, B] + [16, 128, 128] / 255,
//   T = [[65.481, 128.553, 24.966], [−37.797, −74.203, 112], [112, −93.786, −18.214]] / 255,
// the model up-scales Y; Cb and Cr are up-sampled bicubically (PyTorch's F.interpolate bicubic,
// align_corners=False, a = −0.75: the axis tables of fromImage's resampling, preprocess.ts);
// RGB = T⁻¹·([Y', Cb', Cr'] − offset). A 3-channel model runs on RGB directly. The result is
// clamped to [0, 1] and returned as float NCHW and as 8-bit RGBA pixels (ImageData's layout).
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import type { Model } from '../model';
import { fromImage, type ImageSource } from './fromImage';
import { axisTable, type AxisTable } from './preprocess';

/** The up-scaled image: 8-bit RGBA pixels as an `ImageData` holds them, and the float tensor. */
export interface UpscaleResult {
  /** RGBA samples, 4 per pixel, row-major (`new ImageData(r.data, r.width, r.height)` takes them as they are). */
  data: Uint8ClampedArray;
  /** Width of the up-scaled image in pixels. */
  width: number;
  /** Height of the up-scaled image in pixels. */
  height: number;
  /** Samples per pixel of `data`: always 4 (RGBA, alpha 255), so the result is also a RawImage. */
  channels: 4;
  /** The up-scaled RGB image, NCHW `[1, 3, H·r, W·r]`, clamped to [0, 1]. */
  tensor: Tensor;
}

/** BT.601 RGB → YCbCr matrix (rows Y, Cb, Cr) for values in [0, 1], and the offsets. */
const T = [
  [65.481, 128.553, 24.966],
  [-37.797, -74.203, 112.0],
  [112.0, -93.786, -18.214],
].map((row) => row.map((v) => v / 255));
const OFFSET = [16 / 255, 128 / 255, 128 / 255];

/** Inverse of a 3x3 matrix (cofactors over the determinant). */
function inverse3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}
const T_INV = inverse3(T);

/** A [1, 3, H, W] (or [1, 1, H, W], repeated) tensor of values in [0, 1], checked, as three planes. */
function rgbPlanes(t: Tensor): { planes: Float32Array[]; H: number; W: number } {
  const s = t.shape;
  if (!(t.data instanceof Float32Array) || !Array.isArray(s) || s.length !== 4 || s[0] !== 1 || (s[1] !== 1 && s[1] !== 3))
    throw new ValueError(`upscale: a tensor image must be { data: Float32Array, shape: [1, 3 or 1, H, W] }, got shape ${JSON.stringify(s)}`);
  const [, C, H, W] = s;
  const n = H * W;
  if (!(H >= 1 && W >= 1) || t.data.length !== C * n)
    throw new ShapeError(`upscale: shape [${s.join(', ')}] holds ${C * n} values but data has ${t.data.length}`);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (!(v >= 0 && v <= 1)) throw new ValueError(`upscale: tensor values must lie in [0, 1]; index ${i} holds ${v}`);
  }
  const planes = [0, 1, 2].map((c) => t.data.subarray((C === 3 ? c : 0) * n, (C === 3 ? c + 1 : 1) * n));
  return { planes, H, W };
}

/** Separable resampling of one H x W plane to OH x OW through per-axis tables. */
function resample(src: Float32Array, H: number, W: number, ty: AxisTable, tx: AxisTable, OH: number, OW: number): Float32Array {
  const mid = new Float32Array(H * OW);
  for (let y = 0; y < H; y++) {
    for (let o = 0; o < OW; o++) {
      let acc = 0;
      for (let k = 0; k < tx.count[o]; k++) acc += tx.weights[o * tx.K + k] * src[y * W + tx.start[o] + k];
      mid[y * OW + o] = acc;
    }
  }
  const out = new Float32Array(OH * OW);
  for (let o = 0; o < OH; o++) {
    for (let x = 0; x < OW; x++) {
      let acc = 0;
      for (let k = 0; k < ty.count[o]; k++) acc += ty.weights[o * ty.K + k] * mid[(ty.start[o] + k) * OW + x];
      out[o * OW + x] = acc;
    }
  }
  return out;
}

/** Runs the model, naming the sizes when the image does not fit the shape it was planned for. */
async function run(model: Model, x: Tensor): Promise<Tensor> {
  try {
    return await model.predict(x);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    const [, C, H, W] = x.shape;
    throw new ShapeError(
      `upscale: the model does not take this ${W}x${H} image as [1, ${C}, ${H}, ${W}] (${e.message}); ` +
        `build it for the image's size, e.g. createModel(name, { inputSize: [${H}, ${W}], weights })`,
    );
  }
}

/**
 * Up-scales an image with a super-resolution model (`createModel('espcn' | 'fsrcnn', { scale,
 * weights, inputSize: [H, W] })`, or any model taking `[1, C, H, W]` in [0, 1] to `[1, C, H·r,
 * W·r]`). `image` is anything `fromImage` reads, or a `[1, 3, H, W]` / `[1, 1, H, W]` tensor of
 * values in [0, 1]. A 1-channel model up-scales the BT.601 luma Y and the chroma is up-sampled
 * bicubically (the papers' protocol); a 3-channel model up-scales RGB. The model must be
 * planned for the image's size.
 *
 * ```ts
 * const model = await createModel('espcn', { scale: 3, inputSize: [img.height, img.width], weights: 'espcn_x3.safetensors' });
 * const { data, width, height } = await upscale(img, model);
 * ctx.putImageData(new ImageData(data, width, height), 0, 0);
 * ```
 *
 * @throws ValueError for a tensor that is not `[1, 1 | 3, H, W]` in [0, 1] or a model whose
 *   output is not the image r times larger; ShapeError when the model is planned for another size.
 */
export async function upscale(image: ImageSource | Tensor, model: Model): Promise<UpscaleResult> {
  const isTensor = typeof image === 'object' && image !== null && 'shape' in image && !('width' in image);
  const { planes, H, W } = rgbPlanes(isTensor ? (image as Tensor) : await fromImage(image as ImageSource));
  const n = H * W;
  const inShape = model.inputShapes[model.inputNames[0]];
  const Cm = inShape?.[1];
  if (Cm !== 1 && Cm !== 3) throw new ValueError(`upscale: the model takes ${Cm} channels; a super-resolution model takes 1 (Y) or 3 (RGB)`);
  let x: Float32Array;
  let ycc: Float32Array[] = [];
  if (Cm === 3) {
    x = new Float32Array(3 * n);
    planes.forEach((p, c) => x.set(p, c * n));
  } else {
    ycc = [0, 1, 2].map(() => new Float32Array(n));
    for (let i = 0; i < n; i++) {
      const r = planes[0][i], g = planes[1][i], b = planes[2][i];
      for (let c = 0; c < 3; c++) ycc[c][i] = T[c][0] * r + T[c][1] * g + T[c][2] * b + OFFSET[c];
    }
    x = ycc[0];
  }
  const y = await run(model, { data: x, shape: [1, Cm, H, W] });
  const [N, Co, OH, OW] = y.shape;
  const scale = OH / H;
  if (y.shape.length !== 4 || N !== 1 || Co !== Cm || !Number.isInteger(scale) || scale < 1 || OW !== scale * W)
    throw new ValueError(`upscale: the model's output [${y.shape.join(', ')}] is not the [1, ${Cm}, ${H}, ${W}] input an integer factor larger`);
  const m = OH * OW;
  const rgb = new Float32Array(3 * m);
  if (Cm === 3) {
    rgb.set(y.data);
  } else {
    const ty = axisTable(H, OH, 0, OH, 'cubic');
    const tx = axisTable(W, OW, 0, OW, 'cubic');
    const cb = resample(ycc[1], H, W, ty, tx, OH, OW);
    const cr = resample(ycc[2], H, W, ty, tx, OH, OW);
    for (let i = 0; i < m; i++) {
      const d = [y.data[i] - OFFSET[0], cb[i] - OFFSET[1], cr[i] - OFFSET[2]];
      for (let c = 0; c < 3; c++) rgb[c * m + i] = T_INV[c][0] * d[0] + T_INV[c][1] * d[1] + T_INV[c][2] * d[2];
    }
  }
  const data = new Uint8ClampedArray(4 * m);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < m; i++) {
      const u = rgb[c * m + i];
      if (Number.isNaN(u)) throw new ValueError(`upscale: the model's output holds NaN (channel ${c}, pixel ${i}); check its weights`);
      const v = Math.min(Math.max(u, 0), 1);
      rgb[c * m + i] = v;
      data[4 * i + c] = Math.round(v * 255);
    }
  }
  for (let i = 0; i < m; i++) data[4 * i + 3] = 255;
  return { data, width: OW, height: OH, channels: 4, tensor: { data: rgb, shape: [1, 3, OH, OW] } };
}
