// Training rules for MaxPool (argmax indices kept for backward), AveragePool (PyTorch's divisor
// rules, ceil_mode, count_include_pad), GlobalAveragePool and GlobalMaxPool, NCHW planes.
import { numel, shapeStr, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { overwriteSink } from './util';

export function pool(n: Node, ctx: TrainCtx): TrainStep {
  const { attrInt, attrInts, window2d } = ctx.lib;
  const x = ctx.shape(n.inputs[0]);
  if (x.length !== 4) throw new UnsupportedOpError(n.op, n.name, `training supports 2-D pooling only, got ${shapeStr(x)}`);
  if (n.outputs.length > 1 && n.outputs[1]) throw new UnsupportedOpError(n.op, n.name, 'training with the Indices output');
  const [N, C, H, W] = x;
  const win = window2d(n, H, W, attrInts(n, 'kernel_shape')!, attrInt(n, 'ceil_mode', 0) === 1);
  const { kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, oh, ow } = win;
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const NC = N * C;
  const want = ctx.needsGrad(n.inputs[0]);
  if (n.op === 'MaxPool') {
    const idx = ctx.keep(NC * oh * ow * 4);
    const macs = NC * oh * ow * kh * kw;
    const forward = () => ctx.call('maxpool_fwd_f32', macs, xp, yp, idx, NC, H, W, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow);
    if (!want) return { forward };
    const dy = ctx.grad(n.outputs[0]);
    const s = overwriteSink(ctx, n.inputs[0]);
    return { forward, backward: () => (ctx.call('maxpool_grad_f32', NC * (H * W + oh * ow), dy, idx, s.dst(), NC, H * W, oh * ow), s.after()) };
  }
  if (dh !== 1 || dw !== 1) throw new UnsupportedOpError(n.op, n.name, 'dilated average pooling');
  const cip = attrInt(n, 'count_include_pad', 0);
  const macs = NC * oh * ow * kh * kw;
  const forward = () => ctx.call('avgpool_fwd_f32', macs, xp, yp, NC, H, W, kh, kw, sh, sw, pt, pl, pb, pr, oh, ow, cip);
  if (!want) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const s = overwriteSink(ctx, n.inputs[0]);
  return { forward, backward: () => (ctx.call('avgpool_grad_f32', macs, dy, s.dst(), NC, H, W, kh, kw, sh, sw, pt, pl, pb, pr, oh, ow, cip), s.after()) };
}

export function globalAvgPool(n: Node, ctx: TrainCtx): TrainStep {
  const x = ctx.shape(n.inputs[0]);
  const NC = x[0] * x[1];
  const HW = numel(x) / NC;
  const k = ctx.k;
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const forward = () => k.reduce_f32(ctx.lib.codes.RED_MEAN, xp, yp, NC, HW, 1);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const s = overwriteSink(ctx, n.inputs[0]);
  return { forward, backward: () => (k.global_avgpool_grad_f32(dy, s.dst(), NC, HW), s.after()) };
}

/**
 * GlobalMaxPool (CBAM's channel and spatial descriptors): max pooling with one window over the
 * whole plane; the gradient goes to the first maximum, as F.adaptive_max_pool2d routes it.
 */
export function globalMaxPool(n: Node, ctx: TrainCtx): TrainStep {
  const x = ctx.shape(n.inputs[0]);
  const NC = x[0] * x[1];
  const HW = numel(x) / NC;
  const [H, W] = x.length === 4 ? [x[2], x[3]] : [1, HW];
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const idx = ctx.keep(NC * 4);
  const forward = () => ctx.call('maxpool_fwd_f32', NC * HW, xp, yp, idx, NC, H, W, H, W, 1, 1, 0, 0, 1, 1, 1, 1);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const s = overwriteSink(ctx, n.inputs[0]);
  return { forward, backward: () => (ctx.call('maxpool_grad_f32', NC * (HW + 1), dy, idx, s.dst(), NC, HW, 1), s.after()) };
}
