// torchvision 0.14's GeneralizedRCNNTransform in eval mode for the detectors whose resize depends
// on the image (RetinaNet, FCOS, Faster R-CNN; Lin et al. 2017, Tian et al. 2019, Ren et al.
// 2015): per image (x − mean) / std, then `_resize_image_and_masks`: scale = min(min_size /
// short side, max_size / long side) in float32, F.interpolate(scale_factor=scale, bilinear,
// align_corners=False, recompute_scale_factor=True), i.e. an output of floor(side · scale) (in
// double) sampled at in / out; then `batch_images`: zero padding at the bottom and right up to a
// multiple of size_divisible. Host code: the output size depends on the image's, and the network
// behind it is planned per padded size.
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import { axisTable } from '../image/preprocess';

const f = Math.fround;

/** Options of {@link generalizedRcnnTransform}: torchvision's GeneralizedRCNNTransform arguments. */
export interface RcnnTransformOptions {
  /** The short side's target (torchvision's min_size, e.g. 800). */
  minSize: number;
  /** The long side's bound (torchvision's max_size, e.g. 1333). */
  maxSize: number;
  /** Per-channel mean of the [0, 1] image (torchvision: 0.485, 0.456, 0.406). */
  mean: readonly number[];
  /** Per-channel std (torchvision: 0.229, 0.224, 0.225). */
  std: readonly number[];
  /** The padded batch's sides are multiples of this (torchvision: 32). */
  sizeDivisible: number;
}

/** What {@link generalizedRcnnTransform} gives: the padded batch and the resized (unpadded) size. */
export interface RcnnTransformed {
  /** Normalised, resized images, zero-padded to multiples of sizeDivisible: [N, C, Hp, Wp]. */
  images: Tensor;
  /** The resized image's [height, width] before padding (torchvision's image_sizes). */
  imageSize: [number, number];
}

/**
 * The resized [height, width] of an image under min_size / max_size, as torchvision 0.14's
 * `_resize_image_and_masks` computes it: scale = min(min_size / short, max_size / long) in float32
 * (each quotient as torch forms a number over a tensor, reciprocal then product), then
 * floor(side · scale) in double.
 */
export function minMaxResizedSize(height: number, width: number, minSize: number, maxSize: number): [number, number] {
  // a Python number over a tensor is tensor.reciprocal() * number in torch: two float32 roundings
  const scale = Math.min(f(f(1 / Math.min(height, width)) * minSize), f(f(1 / Math.max(height, width)) * maxSize));
  return [Math.floor(height * scale), Math.floor(width * scale)];
}

/**
 * torchvision's GeneralizedRCNNTransform (eval) on a batch of equal-sized images in [0, 1].
 *
 * @throws ShapeError for a batch that is not [N, C, H, W] with C = mean.length; ValueError when
 *   the image is too small to resize (a side would become 0).
 */
export function generalizedRcnnTransform(x: Tensor, o: RcnnTransformOptions): RcnnTransformed {
  const [N, C, H, W] = x.shape;
  if (x.shape.length !== 4 || C !== o.mean.length || N * C * H * W !== x.data.length)
    throw new ShapeError(`detect(): the transform takes [N, ${o.mean.length}, H, W] images, got [${x.shape.join(', ')}]`);
  const [oh, ow] = minMaxResizedSize(H, W, o.minSize, o.maxSize);
  if (oh < 1 || ow < 1) throw new ValueError(`detect(): a ${H}x${W} image resizes to ${oh}x${ow} under min_size ${o.minSize}, max_size ${o.maxSize}`);
  const d = o.sizeDivisible;
  const ph = Math.ceil(oh / d) * d, pw = Math.ceil(ow / d) * d;
  // aten upsample_bilinear2d (align_corners=False, scale in / out): per output pixel
  // h0 · (w0 · x00 + w1 · x01) + h1 · (w0 · x10 + w1 · x11), in float32
  const ty = axisTable(H, oh, 0, oh, 'linear'), tx = axisTable(W, ow, 0, ow, 'linear');
  const out = new Float32Array(N * C * ph * pw);
  const norm = new Float32Array(H * W);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const src = x.data.subarray((n * C + c) * H * W, (n * C + c + 1) * H * W);
      const m = f(o.mean[c]), s = f(o.std[c]);
      for (let i = 0; i < H * W; i++) norm[i] = f(f(src[i] - m) / s);
      const base = (n * C + c) * ph * pw;
      for (let y = 0; y < oh; y++) {
        const y0 = ty.start[y], yn = ty.count[y];
        const hy0 = ty.weights[y * ty.K], hy1 = yn > 1 ? ty.weights[y * ty.K + 1] : 0;
        const r0 = y0 * W, r1 = (yn > 1 ? y0 + 1 : y0) * W;
        for (let xo = 0; xo < ow; xo++) {
          const x0 = tx.start[xo], xn = tx.count[xo];
          const wx0 = tx.weights[xo * tx.K], wx1 = xn > 1 ? tx.weights[xo * tx.K + 1] : 0;
          const x1 = xn > 1 ? x0 + 1 : x0;
          const top = f(f(wx0 * norm[r0 + x0]) + f(wx1 * norm[r0 + x1]));
          const v = yn > 1 ? f(f(hy0 * top) + f(hy1 * f(f(wx0 * norm[r1 + x0]) + f(wx1 * norm[r1 + x1])))) : f(hy0 * top);
          out[base + y * pw + xo] = v;
        }
      }
    }
  return { images: { data: out, shape: [N, C, ph, pw] }, imageSize: [oh, ow] };
}
