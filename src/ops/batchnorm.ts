// ONNX BatchNormalization in inference form (Ioffe & Szegedy 2015): y = x * s + t with
// s = gamma / sqrt(var + eps), t = beta - mean * s per channel. Usually folded into the
// preceding conv by a graph pass; this is the standalone path.
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { numel, shapeStr } from '../graph/ir';
import type { InferCtx, OpDef, PlanCtx } from './types';
import { attrFloat, attrInt, ndParams, requireConst, ELEMENT_MACS } from './util';
import { fusedAct } from './window';
import * as C from '../../assembly/codes';

/** Per-channel scale and shift of an inference batch norm, computed in double precision. */
export function bnAffine(n: Node, ctx: InferCtx): { scale: Float32Array; shift: Float32Array } {
  const [, g, b, m, v] = n.inputs;
  const get = (name: string) => {
    const t = ctx.float(name);
    if (!t) throw new UnsupportedOpError('BatchNormalization', n.name, `'${name}' must be a constant`);
    return t.data;
  };
  const gamma = get(g), beta = get(b), mean = get(m), vr = get(v);
  const eps = attrFloat(n, 'epsilon', 1e-5);
  const Cn = gamma.length;
  if ([beta, mean, vr].some((a) => a.length !== Cn))
    throw new ShapeError(`BatchNormalization node '${n.name}': scale/bias/mean/var lengths differ`);
  const scale = new Float32Array(Cn);
  const shift = new Float32Array(Cn);
  for (let c = 0; c < Cn; c++) {
    const s = gamma[c] / Math.sqrt(vr[c] + eps);
    scale[c] = s;
    shift[c] = beta[c] - mean[c] * s;
  }
  return { scale, shift };
}

export const batchnorm: OpDef = {
  ops: ['BatchNormalization'],
  layout: 'any',
  stridedIn: true,
  stridedOut: true,
  infer(n, ctx) {
    if (attrInt(n, 'training_mode', 0) !== 0 || n.outputs.filter((o) => o).length > 1)
      throw new UnsupportedOpError('BatchNormalization', n.name, 'training mode (batch statistics) is not inference');
    requireConst(ctx, n, [1, 2, 3, 4]);
    const x = ctx.shape(n.inputs[0]);
    const cs = ctx.shape(n.inputs[1]);
    if (x.length < 2 || cs.length !== 1 || cs[0] !== x[1])
      throw new ShapeError(`BatchNormalization node '${n.name}': input ${shapeStr(x)} vs scale ${shapeStr(cs)}`);
    return [x];
  },
  plan(n, ctx: PlanCtx) {
    const { scale, shift } = bnAffine(n, ctx);
    const m = ctx.mem;
    const sp = m.putF32(scale);
    const tp = m.putF32(shift);
    const xname = n.inputs[0];
    const x = ctx.ptr(xname);
    const y = ctx.ptr(n.outputs[0]);
    const shape = ctx.shape(xname);
    const k = ctx.k;
    const Cn = shape[1];
    // a ReLU / clamp fused by the epilogue pass (nhwc and 2-D paths apply it in the same pass)
    const { act, p0, p1 } = fusedAct(n);
    const lo = act === C.ACT_RELU ? 0 : act === C.ACT_CLAMP ? p0 : -Infinity;
    const hi = act === C.ACT_CLAMP ? p1 : Infinity;
    const spatial = numel(shape.slice(2));
    if (ctx.layout(xname) === 'nhwc') {
      const rows = numel(shape) / Cn;
      const ldx = ctx.stride(xname);
      const ldy = ctx.stride(n.outputs[0]);
      return ctx.parallel('channel_affine_f32', [x, y, rows, Cn, ldx, ldy, sp, tp, lo, hi], rows * Cn * ELEMENT_MACS);
    }
    if (spatial === 1) {
      const rows = numel(shape) / Cn;
      return ctx.parallel('channel_affine_f32', [x, y, rows, Cn, Cn, Cn, sp, tp, lo, hi], rows * Cn * ELEMENT_MACS);
    }
    // plain [N, C, S]: scale then shift, broadcast along N and S
    const count = numel(shape);
    const p = ndParams(ctx, [shape[0], Cn, spatial], [Cn * spatial, spatial, 1], [0, 1, 0]);
    return () => {
      k.binary_f32(C.BIN_MUL, y, x, sp, 3, p.shape, p.strides[0], p.strides[1]);
      k.binary_f32(C.BIN_ADD, y, y, tp, 3, p.shape, p.strides[0], p.strides[1]);
      if (act !== C.ACT_NONE) k.unary_f32(act, y, y, 1, count, count, count, p0, p1, 0, 1);
    };
  },
};
