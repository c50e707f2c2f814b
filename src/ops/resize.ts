// ONNX Resize (opsets 10-19) and Upsample (opsets 7/9), 2-D spatial resizing of 4-D inputs on
// NHWC activations (PyTorch F.interpolate nearest / bilinear, align_corners true or false).
// Modes: nearest (nearest_mode round_prefer_floor, round_prefer_ceil, floor, ceil) and linear;
// coordinate_transformation_mode half_pixel, half_pixel_symmetric, pytorch_half_pixel,
// align_corners, asymmetric, tf_half_pixel_for_nn; scales or sizes, `axes`,
// keep_aspect_ratio_policy. Upsample and Resize-10 are asymmetric (nearest: floor).
// antialias=1 (opset 18; linear mode, when it shrinks an axis: the triangle filter stretched by
// 1 / scale, as the ONNX reference computes it) runs on the host, planned in the rare ops'
// chunk (src/ops/rarePlans.ts). Not supported (UnsupportedOpError): cubic, tf_crop_and_resize,
// exclude_outside, scaling of the batch or channel axes.
// Every coordinate rule is resolved here, at plan time, into one index/weight table per axis
// (the layout assembly/resize.ts documents), kept in the weights region.
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { shapeStr } from '../graph/ir';
import type { InferCtx, OpDef, PlanCtx } from './types';
import { attrFloats, attrInt, attrInts, attrString, floatsOf, input, intOf, MAX_ELEMENTS, normAxis } from './util';
import { floatBits } from './window';
import { planRare } from './rare';

export interface ResizePlan {
  x: number[];
  out: number[];
  /** Scale per spatial axis (H, W) used by the coordinate rule. */
  scale: [number, number];
  linear: boolean;
  coord: string;
  nearestMode: string;
  /** antialias=1 on a linear resize that shrinks an axis (other modes and enlargements ignore it). */
  antialias: boolean;
}

function unsupported(n: Node, what: string): never {
  throw new UnsupportedOpError(n.op, n.name, what);
}

export function resolveResize(n: Node, ctx: InferCtx): ResizePlan {
  const x = ctx.shape(n.inputs[0]);
  if (x.length !== 4) unsupported(n, `only 4-D inputs (2-D spatial resize) are supported, got ${shapeStr(x)}`);
  let mode = attrString(n, 'mode', 'nearest');
  if (mode === 'bilinear') mode = 'linear';
  if (mode === 'cubic') unsupported(n, 'cubic interpolation');
  if (mode !== 'nearest' && mode !== 'linear') unsupported(n, `mode '${mode}'`);
  if (attrInt(n, 'exclude_outside', 0) !== 0) unsupported(n, 'exclude_outside=1');
  const legacy = n.op === 'Upsample' || ctx.opset < 11;
  const coord = legacy ? 'asymmetric' : attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  let nearestMode = legacy ? 'floor' : attrString(n, 'nearest_mode', 'round_prefer_floor');
  if (coord === 'tf_crop_and_resize') unsupported(n, "coordinate_transformation_mode 'tf_crop_and_resize'");
  if (!['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'].includes(coord))
    unsupported(n, `coordinate_transformation_mode '${coord}'`);
  if (!['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(nearestMode))
    unsupported(n, `nearest_mode '${nearestMode}'`);

  // scales / sizes as full rank-4 lists (axes not listed keep scale 1 / their size)
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (n.op === 'Upsample') {
    scales = ctx.opset < 9 ? attrFloats(n, 'scales') : floatsOf(ctx, n, input(n, 1), 'scales');
    if (!scales) unsupported(n, 'scales are required');
  } else if (ctx.opset < 11) {
    scales = floatsOf(ctx, n, input(n, 1), 'scales');
  } else {
    scales = floatsOf(ctx, n, input(n, 2), 'scales');
    sizes = intOf(ctx, n, input(n, 3), 'sizes');
  }
  if (scales && scales.length === 0) scales = undefined;
  if (sizes && sizes.length === 0) sizes = undefined;
  if (!scales === !sizes) throw new ShapeError(`${n.op} node '${n.name}': exactly one of scales and sizes must be given`);
  const axes = (attrInts(n, 'axes') ?? [0, 1, 2, 3]).map((a) => normAxis(n, a, 4));
  if (new Set(axes).size !== axes.length) throw new ShapeError(`${n.op} node '${n.name}': axes ${shapeStr(axes)} repeat an axis`);
  const given = (scales ?? sizes)!;
  if (given.length !== axes.length)
    throw new ShapeError(`${n.op} node '${n.name}': ${scales ? 'scales' : 'sizes'} ${shapeStr(given)} do not match axes ${shapeStr(axes)}`);
  const scale = [1, 1, 1, 1];
  const out = x.slice();
  if (scales) {
    axes.forEach((a, i) => {
      if (!(scales![i] > 0) || !Number.isFinite(scales![i]))
        throw new ShapeError(`${n.op} node '${n.name}': scale ${scales![i]} must be positive and finite`);
      scale[a] = scales![i];
      out[a] = Math.floor(x[a] * scales![i]);
    });
  } else {
    if (sizes!.some((d) => !(d >= 1 && d <= MAX_ELEMENTS)))
      throw new ShapeError(`${n.op} node '${n.name}': sizes ${shapeStr(sizes!)} must be positive and at most ${MAX_ELEMENTS}`);
    const policy = attrString(n, 'keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') {
      axes.forEach((a, i) => {
        out[a] = sizes![i];
        scale[a] = sizes![i] / x[a];
      });
    } else if (policy === 'not_larger' || policy === 'not_smaller') {
      const r = axes.map((a, i) => sizes![i] / x[a]);
      const s = policy === 'not_larger' ? Math.min(...r) : Math.max(...r);
      for (const a of axes) {
        scale[a] = s;
        out[a] = Math.round(s * x[a]);
      }
    } else {
      unsupported(n, `keep_aspect_ratio_policy '${policy}'`);
    }
  }
  if (out[0] !== x[0] || out[1] !== x[1]) unsupported(n, `resizing the batch or channel axis (${shapeStr(x)} -> ${shapeStr(out)})`);
  if (out.some((d) => !(d >= 1))) throw new ShapeError(`${n.op} node '${n.name}': output shape ${shapeStr(out)} is empty`);
  // the coordinate tables hold 3 ints per output row and column: bound them before they are built
  if (out[2] * out[3] > MAX_ELEMENTS || out.some((d) => !Number.isSafeInteger(d)))
    throw new ShapeError(`${n.op} node '${n.name}': output ${shapeStr(out)} is larger than wasm32 memory holds`);
  const linear = mode === 'linear';
  return { x, out, scale: [scale[2], scale[3]], linear, coord, nearestMode, antialias: linear && attrInt(n, 'antialias', 0) !== 0 && (scale[2] < 1 || scale[3] < 1) };
}

/**
 * Source coordinate of output index o along an axis of `len` inputs. Like the ONNX reference,
 * the rules that name the resized length use len·scale (not the rounded output size): with
 * scales 0.6 on 4 pixels align_corners maps o to o·3 / 1.4.
 */
export function resizeSource(coord: string, o: number, len: number, outLen: number, scale: number): number {
  const resized = len * scale;
  switch (coord) {
    case 'half_pixel':
      return (o + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const adj = outLen / resized;
      const center = len / 2;
      return center * (1 - adj) + (o + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel':
      return resized > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return resized === 1 ? 0 : (o * (len - 1)) / (resized - 1);
    case 'tf_half_pixel_for_nn':
      return (o + 0.5) / scale;
    default:
      return o / scale;
  }
}

function roundNearest(mode: string, v: number): number {
  switch (mode) {
    case 'round_prefer_floor':
      return v - Math.floor(v) === 0.5 ? Math.floor(v) : Math.round(v);
    case 'round_prefer_ceil':
      return Math.round(v);
    case 'ceil':
      return Math.ceil(v);
    default:
      return Math.floor(v);
  }
}

/** The per-axis table: [i0, i1, w bits] per output index (see assembly/resize.ts). */
export function resizeTable(p: ResizePlan, len: number, outLen: number, scale: number): Int32Array {
  const t = new Int32Array(outLen * 3);
  const clamp = (i: number) => Math.min(Math.max(i, 0), len - 1);
  for (let o = 0; o < outLen; o++) {
    const s = resizeSource(p.coord, o, len, outLen, scale);
    if (!p.linear) {
      const i = clamp(roundNearest(p.nearestMode, s));
      t[o * 3] = i;
      t[o * 3 + 1] = i;
      continue;
    }
    const f = Math.floor(s);
    t[o * 3] = clamp(f);
    t[o * 3 + 1] = clamp(f + 1);
    t[o * 3 + 2] = floatBits(s - f);
  }
  return t;
}

/**
 * A Resize / Upsample node resolved as its plan does: input and output shapes, nearest or
 * linear, and the per-axis tables (rows, columns) in assembly/resize.ts's layout. The training
 * rule (src/train/ops/resample.ts) runs on these.
 */
export function resizeTables(n: Node, ctx: InferCtx): { x: number[]; out: number[]; linear: boolean; ty: Int32Array; tx: Int32Array } {
  const p = resolveResize(n, ctx);
  if (p.antialias) unsupported(n, 'antialias=1 when training');
  return { x: p.x, out: p.out, linear: p.linear, ty: resizeTable(p, p.x[2], p.out[2], p.scale[0]), tx: resizeTable(p, p.x[3], p.out[3], p.scale[1]) };
}

export const resize: OpDef = {
  ops: ['Resize', 'Upsample'],
  layout: 'nhwc',
  infer(n, ctx) {
    return [resolveResize(n, ctx).out];
  },
  plan(n: Node, ctx: PlanCtx) {
    const p = resolveResize(n, ctx);
    // an antialiased resize (rare in exported graphs) plans in the rare ops' chunk (src/ops/rarePlans.ts)
    if (p.antialias) return planRare(n, ctx);
    const [N, C, H, W] = p.x;
    const [, , OH, OW] = p.out;
    const ty = ctx.mem.putI32(resizeTable(p, H, OH, p.scale[0]));
    const tx = ctx.mem.putI32(resizeTable(p, W, OW, p.scale[1]));
    const xi = ctx.ptr(n.inputs[0]);
    const yo = ctx.ptr(n.outputs[0]);
    const k = ctx.k;
    const linear = p.linear ? 1 : 0;
    return () => k.resize_f32(N, H, W, C, OH, OW, xi, yo, ty, tx, linear);
  },
};

