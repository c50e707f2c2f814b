// Training rules for the resampling ops of segmentation and super-resolution networks, NCHW:
// - Resize / Upsample (ONNX Resize; PyTorch F.interpolate nearest and bilinear): the coordinate
//   rule is resolved by the inference op (src/ops/resize.ts, through ctx.lib.resizeTables) into
//   per-axis tables; assembly/resizeGrad.ts gathers forward and scatters dy back with the same
//   weights.
// - DepthToSpace (DCR, CRD = PyTorch's pixel_shuffle; Shi et al. 2016) and SpaceToDepth: pure
//   permutations, strided copies forward and the inverse permutation for the gradient.
// - MaxPool with the Indices output and MaxUnpool (SegNet, Badrinarayanan et al. 2017): the
//   training MaxPool keeps per-plane argmax indices and writes them as ONNX flat NCHW floats;
//   MaxUnpool scatters forward and gathers dy at the indices backward (the indices take none).
// - LRN (Krizhevsky et al. 2012; ONNX LRN, PyTorch LocalResponseNorm): assembly/lrnGrad.ts.
import { numel, shapeStr, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { InferCtx } from '../../ops/types';
import type { TrainCtx, TrainStep } from '../program';
import { pool } from './pool';
import { gatherStep, overwriteSink, wholeSink } from './util';

/** Resize / Upsample (nearest in every nearest_mode, or linear) on 4-D NCHW inputs. */
export function resize(n: Node, ctx: TrainCtx): TrainStep {
  const g = ctx.graph;
  // the inference op's view of the graph: shapes, the opset, constant scales and sizes
  const infer: InferCtx = {
    graph: g, opset: g.opset, shape: ctx.shape,
    int: (name) => g.intConstants.get(name),
    float: (name) => g.initializers.get(name),
  };
  const { x, out, linear, ty, tx } = ctx.lib.resizeTables(n, infer);
  const [N, C, H, W] = x;
  const [, , OH, OW] = out;
  const NC = N * C;
  const tabY = ctx.mem.putI32(ty);
  const tabX = ctx.mem.putI32(tx);
  const lin = linear ? 1 : 0;
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const macs = NC * OH * OW * (linear ? 4 : 1);
  const forward = () => ctx.call('resize_fwd_f32', macs, xp, yp, NC, H, W, OH, OW, tabY, tabX, lin);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const s = overwriteSink(ctx, n.inputs[0]);
  return { forward, backward: () => (ctx.call('resize_grad_f32', macs, dy, s.dst(), NC, H, W, OH, OW, tabY, tabX, lin), s.after()) };
}

/**
 * DepthToSpace and SpaceToDepth with block r as 6-D strided copies. With the small map
 * [N, C·r², H, W] and the large one [N, C, H·r, W·r]:
 *   DCR: large[n, c, h·r + i, w·r + j] = small[n, (i·r + j)·C + c, h, w]
 *   CRD: large[n, c, h·r + i, w·r + j] = small[n, c·r² + i·r + j, h, w]
 * SpaceToDepth is DCR's inverse (large → small).
 */
export function depthToSpace(n: Node, ctx: TrainCtx): TrainStep {
  const r = ctx.lib.attrInt(n, 'blocksize', 0);
  const toSpace = n.op === 'DepthToSpace';
  const crd = toSpace && n.attrs.mode === 'CRD';
  const small = ctx.shape(toSpace ? n.inputs[0] : n.outputs[0]);
  const [N, Cr, H, W] = small;
  const C = Cr / (r * r);
  const HW = H * W;
  const LW = W * r;
  // the large map as [N, C, H, r, W, r] (dims n, c, h, i, w, j) reads the small one at:
  const smallStrides = crd
    ? [Cr * HW, r * r * HW, W, r * HW, 1, HW]
    : [Cr * HW, HW, W, r * C * HW, 1, C * HW];
  const largeView = [N, C, H, r, W, r];
  // the small map as [N, i, j, c, h, w] (DCR) or [N, c, i, j, h, w] (CRD) reads the large one at:
  const smallView = crd ? [N, C, r, r, H, W] : [N, r, r, C, H, W];
  const largeN = C * H * r * LW;
  const largeStrides = crd
    ? [largeN, H * r * LW, LW, 1, r * LW, r]
    : [largeN, LW, 1, H * r * LW, r * LW, r];
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const [fwdView, fwdStrides, bwdView, bwdStrides] = toSpace
    ? [largeView, smallStrides, smallView, largeStrides]
    : [smallView, largeStrides, largeView, smallStrides];
  const forward = gatherStep(ctx, yp, xp, fwdView, fwdStrides);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  return { forward, backward: wholeSink(ctx, n.inputs[0], (dst) => gatherStep(ctx, dst, dy, bwdView, bwdStrides)) };
}

/**
 * MaxPool: without the Indices output, pool.ts's rule; with it (storage_order 0), the same
 * forward and backward, and the kept argmax written to the Indices value as ONNX flat NCHW
 * floats (the value no gradient flows through).
 */
export function maxPool(n: Node, ctx: TrainCtx): TrainStep {
  if (!(n.outputs.length > 1 && n.outputs[1])) return pool(n, ctx);
  const { attrInt, attrInts, window2d } = ctx.lib;
  const x = ctx.shape(n.inputs[0]);
  if (x.length !== 4) throw new UnsupportedOpError(n.op, n.name, `training supports 2-D pooling only, got ${shapeStr(x)}`);
  if (attrInt(n, 'storage_order', 0) !== 0) throw new UnsupportedOpError(n.op, n.name, 'training with storage_order=1 indices');
  const [N, C, H, W] = x;
  const { kh, kw, sh, sw, pt, pl, dh, dw, oh, ow } = window2d(n, H, W, attrInts(n, 'kernel_shape')!, attrInt(n, 'ceil_mode', 0) === 1);
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const ip = ctx.ptr(n.outputs[1]);
  const NC = N * C;
  const idx = ctx.keep(NC * oh * ow * 4);
  const macs = NC * oh * ow * kh * kw;
  const k = ctx.k;
  const forward = () => {
    ctx.call('maxpool_fwd_f32', macs, xp, yp, idx, NC, H, W, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow);
    k.maxpool_indices_f32(idx, ip, NC, H * W, oh * ow);
  };
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const s = overwriteSink(ctx, n.inputs[0]);
  return { forward, backward: () => (ctx.call('maxpool_grad_f32', NC * (H * W + oh * ow), dy, idx, s.dst(), NC, H * W, oh * ow), s.after()) };
}

/**
 * MaxUnpool (2-D): indices (input 1, flat NCHW floats: MaxPool's Indices output, or a constant)
 * address the unpooled grid (in − 1)·stride − pads + kernel, placed at the output's top-left
 * when output_shape differs (src/ops/unpool.ts). The indices take no gradient.
 */
export function maxUnpool(n: Node, ctx: TrainCtx): TrainStep {
  const { attrInts } = ctx.lib;
  const [N, C, H, W] = ctx.shape(n.inputs[0]);
  const [, , OH, OW] = ctx.shape(n.outputs[0]);
  const [kh, kw] = attrInts(n, 'kernel_shape')!;
  const [sh, sw] = attrInts(n, 'strides') ?? [1, 1];
  const [pt, pl, pb, pr] = attrInts(n, 'pads') ?? [0, 0, 0, 0];
  const GH = (H - 1) * sh - pt - pb + kh;
  const GW = (W - 1) * sw - pl - pr + kw;
  const ints = ctx.graph.intConstants.get(n.inputs[1]);
  const ip = ints ? ctx.mem.putF32(Array.from(ints.ints, Number)) : ctx.ptr(n.inputs[1]);
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const NC = N * C;
  const HW = H * W;
  const macs = NC * (HW + OH * OW);
  const forward = () => ctx.call('maxunpool_fwd_f32', macs, xp, ip, yp, NC, HW, GH, GW, OH, OW);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const s = overwriteSink(ctx, n.inputs[0]);
  return { forward, backward: () => (ctx.call('maxunpool_grad_f32', NC * HW, dy, ip, s.dst(), NC, HW, GH, GW, OH, OW), s.after()) };
}

/** LRN across channels (odd size, as the inference op requires); the bases are kept for backward. */
export function lrn(n: Node, ctx: TrainCtx): TrainStep {
  const { attrInt, attrFloat } = ctx.lib;
  const x = ctx.shape(n.inputs[0]);
  if (x.length < 3) throw new UnsupportedOpError(n.op, n.name, `input ${shapeStr(x)} has no spatial axes`);
  const size = attrInt(n, 'size', 0);
  if (size < 1 || size % 2 === 0) throw new UnsupportedOpError(n.op, n.name, `size=${size} (odd sizes train)`);
  const alpha = attrFloat(n, 'alpha', 1e-4);
  const beta = attrFloat(n, 'beta', 0.75);
  const bias = attrFloat(n, 'bias', 1);
  const [N, C] = x;
  const count = numel(x);
  const HW = count / (N * C);
  const s = ctx.keep(count * 4);
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const macs = count * size * 2;
  const forward = () => ctx.call('lrn_fwd_f32', macs, xp, yp, s, N, C, HW, size, alpha, beta, bias);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const sink = overwriteSink(ctx, n.inputs[0]);
  return { forward, backward: () => (ctx.call('lrn_grad_f32', macs * 2, dy, xp, yp, s, sink.dst(), N, C, HW, size, alpha, beta), sink.after()) };
}
