// RoIAlign (He et al., "Mask R-CNN", 2017) as torchvision.ops.roi_align (torchvision 0.14, CPU):
// average of bilinear samples on a grid of sampling_ratio² points per output bin (adaptive:
// ceil(roi side / bins) per axis), samples more than one pixel outside the map adding zero.
// aligned=false is ONNX RoiAlign's coordinate_transformation_mode 'output_half_pixel' (rois at
// least 1 pixel wide), aligned=true its 'half_pixel' (shifted by half a pixel); mode 'avg', or
// ONNX's mode 'max' as onnxruntime computes it (the largest weighted corner w_i·v_i of any sample).
// The kernel (assembly/detect.ts roi_align_f32) reads the engine's NHWC layout and vectorises over
// channels; an NCHW map of the public API is transposed into it, and the kernel writes the
// result NCHW itself.
import { ShapeError, ValueError } from '../errors';
import type { Tensor } from '../graph/ir';
import { boxArray, integer, positive, sizePair } from './args';
import { type HostRuntime, hostRuntime } from '../runtime/host';

/** Options of {@link roiAlign}. */
export interface RoiAlignOptions {
  /** Output bins per RoI: a number (square) or [height, width]. */
  outputSize: number | readonly [number, number];
  /** Factor from box coordinates to feature-map coordinates (e.g. 1/16 for a stride-16 map). Default 1. */
  spatialScale?: number;
  /** Samples per bin and axis; <= 0: adaptive, ceil(roi side / bins) (torchvision's -1). Default -1. */
  samplingRatio?: number;
  /** Shift the box by -0.5 pixel (torchvision `aligned=True`, ONNX 'half_pixel'). Default false. */
  aligned?: boolean;
  /**
   * 'avg' (default; torchvision's only mode): the mean of the bin's bilinear samples. 'max': ONNX
   * RoiAlign's max mode as onnxruntime computes it: per sample the largest of the four weighted
   * corners w_i·v_i, then the largest over the bin (a sample off the map counts as 0).
   */
  mode?: 'avg' | 'max';
  /**
   * Layout of `feature` and of the result: 'nchw' (default; feature [N, C, H, W], result [K, C, OH, OW])
   * or 'nhwc' (feature [N, H, W, C], result [K, OH, OW, C], the engine's internal layout: no transposes).
   */
  layout?: 'nchw' | 'nhwc';
}

/**
 * RoIs: K rows of (batch index, x1, y1, x2, y2) as a Float32Array of K·5 or a `[K, 5]` tensor, or a
 * list with one Float32Array of (x1, y1, x2, y2) rows per image of the batch (torchvision's list form).
 */
export type RoisInput = Float32Array | Tensor | readonly Float32Array[];

/** Rois as K·5 (batch index, x1, y1, x2, y2), checked against a batch of N. */
export function roiRows(rois: RoisInput, N: number, what: string): Float32Array {
  if (Array.isArray(rois)) {
    const parts = rois.map((b, i) => boxArray(b as Float32Array, `${what}[${i}]`));
    if (parts.length > N) throw new ShapeError(`${what}: ${parts.length} box lists for a batch of ${N}`);
    const out = new Float32Array(parts.reduce((s, p) => s + (p.length / 4) * 5, 0));
    let r = 0;
    parts.forEach((p, b) => {
      for (let i = 0; i < p.length; i += 4, r += 5) {
        out[r] = b;
        out.set(p.subarray(i, i + 4), r + 1);
      }
    });
    return out;
  }
  const d = boxArray(rois as Float32Array | Tensor, what, 5);
  for (let i = 0; i < d.length; i += 5)
    if (!Number.isInteger(d[i]) || d[i] < 0 || d[i] >= N)
      throw new ValueError(`${what}: roi ${i / 5} has batch index ${d[i]}; it must be an integer in [0, ${N})`);
  return d;
}

function featureShape(feature: Tensor, nhwc: boolean, what: string): [number, number, number, number] {
  if (!feature || !(feature.data instanceof Float32Array) || !Array.isArray(feature.shape))
    throw new ValueError(`${what} must be a { data: Float32Array, shape } tensor`);
  const s = feature.shape;
  if (s.length !== 4 || s.some((d) => !Number.isInteger(d) || d < 1) || s[0] * s[1] * s[2] * s[3] !== feature.data.length)
    throw new ShapeError(`${what} must have shape ${nhwc ? '[N, H, W, C]' : '[N, C, H, W]'} with matching data, got [${s.join(', ')}] with ${feature.data.length} values`);
  return nhwc ? [s[0], s[1], s[2], s[3]] : [s[0], s[2], s[3], s[1]];
}

/** [N, C, H, W] → [N, H, W, C], into `out`. */
function toNHWC(src: Float32Array, N: number, C: number, HW: number, out: Float32Array, outOffset: number): void {
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * HW;
      const pix = n * HW * C + c;
      for (let p = 0; p < HW; p++) out[outOffset + pix + p * C] = src[plane + p];
    }
}

/** Checked scalar options of roiAlign. */
export interface RoiParams {
  OH: number;
  OW: number;
  scale: number;
  sampling: number;
  aligned: boolean;
  max: boolean;
}

export function roiParams(options: Omit<RoiAlignOptions, 'layout'>, what: string): RoiParams {
  if (!options || options.outputSize === undefined) throw new ValueError(`${what}: options.outputSize is required`);
  const [OH, OW] = sizePair(options.outputSize as number | number[], `${what}: outputSize`);
  const scale = options.spatialScale === undefined ? 1 : positive(options.spatialScale, `${what}: spatialScale`);
  const sampling = integer(options.samplingRatio, -1, -(2 ** 31), `${what}: samplingRatio`);
  if (sampling > 64) throw new ValueError(`${what}: samplingRatio ${sampling} is more than 64 samples per bin and axis`);
  if (options.mode !== undefined && options.mode !== 'avg' && options.mode !== 'max')
    throw new ValueError(`${what}: mode must be 'avg' or 'max', got ${String(options.mode)}`);
  return { OH, OW, scale, sampling, aligned: !!options.aligned, max: options.mode === 'max' };
}

/**
 * Run the kernel on one map for rois (K·5): the map is copied into the detection instance's memory
 * (transposed to NHWC on the way when `nchw`), and the result, [K, C, OH, OW] when `nchw` and
 * [K, OH, OW, C] when not, is returned as a view of that memory, valid until the next call on the
 * instance: read it before any await. The shared step of roiAlign and multiScaleRoIAlign.
 */
export function roiAlignRun(
  rt: HostRuntime, map: Float32Array, nchw: boolean, N: number, H: number, W: number, C: number, rois: Float32Array, p: RoiParams,
): Float32Array {
  const K = rois.length / 5;
  if (K === 0) return new Float32Array(0);
  // the adaptive grid of a huge box (e.g. 1e30 wide) would loop for ever: bound the samples
  if (p.sampling <= 0) {
    for (let i = 0; i < rois.length; i += 5) {
      const w = (rois[i + 3] - rois[i + 1]) * p.scale, h = (rois[i + 4] - rois[i + 2]) * p.scale;
      if (Math.ceil(w / p.OW) * Math.ceil(h / p.OH) > 1 << 20)
        throw new ValueError(`roiAlign: roi ${i / 5} (${Array.from(rois.subarray(i + 1, i + 5)).join(', ')}) is too large for the adaptive sampling grid`);
    }
  }
  const { mem, k, base } = rt;
  const outLen = K * p.OH * p.OW * C;
  mem.reset(base);
  const input = mem.alloc(map.length * 4);
  const r = mem.alloc(rois.length * 4);
  const out = mem.alloc(outLen * 4);
  const acc = mem.alloc(p.OH * p.OW * C * 4);
  const f = mem.f32;
  if (nchw) toNHWC(map, N, C, H * W, f, input >> 2);
  else f.set(map, input >> 2);
  f.set(rois, r >> 2);
  k.roi_align_f32(N, H, W, C, input, K, r, p.OH, p.OW, p.scale, p.sampling, p.aligned ? 1 : 0, p.max ? 1 : 0, out, nchw ? 1 : 0, acc);
  return mem.f32.subarray(out >> 2, (out >> 2) + outLen);
}

/**
 * RoIAlign, equal to `torchvision.ops.roi_align(input, boxes, output_size, spatial_scale,
 * sampling_ratio, aligned)` (and to ONNX RoiAlign, mode 'avg', with coordinate_transformation_mode
 * 'output_half_pixel' for aligned=false and 'half_pixel' for aligned=true; `mode: 'max'` is ONNX's
 * max mode as onnxruntime computes it).
 *
 * @param feature The feature map, [N, C, H, W] (or [N, H, W, C] with `layout: 'nhwc'`).
 * @param rois The regions, in the coordinates of the image (`spatialScale` maps them onto the map).
 * @returns The pooled features, [K, C, OH, OW] (or [K, OH, OW, C] with `layout: 'nhwc'`), in roi order.
 * @throws ShapeError for a feature that is not 4-d or rois that are not K·5 / [K, 5]; ValueError for
 *   non-finite coordinates, a batch index outside the batch, a bad outputSize / spatialScale / samplingRatio.
 */
export async function roiAlign(feature: Tensor, rois: RoisInput, options: RoiAlignOptions): Promise<Tensor> {
  const nhwc = options?.layout === 'nhwc';
  if (options?.layout !== undefined && options.layout !== 'nchw' && !nhwc)
    throw new ValueError(`roiAlign: layout must be 'nchw' or 'nhwc', got ${String(options.layout)}`);
  const [N, H, W, C] = featureShape(feature, nhwc, 'roiAlign: feature');
  const p = roiParams(options, 'roiAlign');
  const r = roiRows(rois, N, 'roiAlign: rois');
  const K = r.length / 5;
  const rt = await hostRuntime();
  // no await from here on: y is a view of the instance's memory
  const y = roiAlignRun(rt, feature.data, !nhwc, N, H, W, C, r, p);
  return { data: y.slice(), shape: nhwc ? [K, p.OH, p.OW, C] : [K, C, p.OH, p.OW] };
}

