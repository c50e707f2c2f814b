// ONNX MaxPool / AveragePool (2-D, NHWC): kernel, strides, pads, auto_pad, dilations,
// ceil_mode, count_include_pad. MaxPool's optional Indices output (ONNX flat NCHW indices,
// storage_order 0 or 1) runs assembly/unpool.ts's maxpool_with_indices_f32 and is stored as
// float32 values (exact below 2^24 elements, larger inputs are refused).
import * as C from '../../assembly/codes';
import { UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { numel, shapeStr } from '../graph/ir';
import type { InferCtx, OpDef } from './types';
import { attrInt, attrInts, ELEMENT_MACS } from './util';
import { geomBlock, window2d } from './window';

function withIndices(n: Node): boolean {
  return n.op === 'MaxPool' && n.outputs.length > 1 && !!n.outputs[1];
}

function geometry(n: Node, ctx: InferCtx) {
  const x = ctx.shape(n.inputs[0]);
  if (x.length !== 4)
    throw new UnsupportedOpError(n.op, n.name, `only 2-D pooling (4-D input) is supported, got ${shapeStr(x)}`);
  const ks = attrInts(n, 'kernel_shape');
  if (!ks) throw new UnsupportedOpError(n.op, n.name, 'kernel_shape is required');
  return { x, win: window2d(n, x[2], x[3], ks, attrInt(n, 'ceil_mode', 0) === 1) };
}

export const pool: OpDef = {
  ops: ['MaxPool', 'AveragePool'],
  layout: 'nhwc',
  infer(n, ctx) {
    const { x, win } = geometry(n, ctx);
    const y = [x[0], x[1], win.oh, win.ow];
    if (!withIndices(n)) return [y];
    if (numel(x) >= 1 << 24)
      throw new UnsupportedOpError(n.op, n.name, `Indices output for input ${shapeStr(x)} (2^24 or more elements: float32 indices would not be exact)`);
    const order = attrInt(n, 'storage_order', 0);
    if (order !== 0 && order !== 1) throw new UnsupportedOpError(n.op, n.name, `storage_order=${order}`);
    return [y, y.slice()];
  },
  macs(n, ctx) {
    const { x, win } = geometry(n, ctx);
    return x[0] * x[1] * win.oh * win.ow * win.kh * win.kw;
  },
  plan(n, ctx) {
    const { x, win } = geometry(n, ctx);
    const flags = attrInt(n, 'count_include_pad', 0) ? C.FLAG_COUNT_INCLUDE_PAD : 0;
    const g = geomBlock(ctx, win, { N: x[0], H: x[2], W: x[3], C: x[1], OC: x[1], groups: 1, flags });
    const xi = ctx.ptr(n.inputs[0]);
    const yo = ctx.ptr(n.outputs[0]);
    const k = ctx.k;
    if (withIndices(n)) {
      const io = ctx.ptr(n.outputs[1]);
      const order = attrInt(n, 'storage_order', 0);
      return () => k.maxpool_with_indices_f32(g, xi, yo, io, order);
    }
    return ctx.parallel(n.op === 'MaxPool' ? 'maxpool_f32' : 'avgpool_f32', [g, xi, yo], this.macs!(n, ctx));
  },
};

export const globalPool: OpDef = {
  ops: ['GlobalAveragePool', 'GlobalMaxPool'],
  layout: 'nhwc',
  infer(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    if (x.length !== 4)
      throw new UnsupportedOpError(n.op, n.name, `only 4-D inputs are supported, got ${shapeStr(x)}`);
    return [[x[0], x[1], 1, 1]];
  },
  plan(n, ctx) {
    const [N, H, W, Cn] = ctx.phys(n.inputs[0]);
    const xi = ctx.ptr(n.inputs[0]);
    const yo = ctx.ptr(n.outputs[0]);
    return ctx.parallel(n.op === 'GlobalAveragePool' ? 'global_avgpool_f32' : 'global_maxpool_f32', [N, H * W, Cn, xi, Cn, yo, Cn], N * H * W * Cn * ELEMENT_MACS);
  },
};
