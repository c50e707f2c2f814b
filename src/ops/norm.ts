// ONNX LayerNormalization (Ba et al. 2016) over the trailing axes, InstanceNormalization
// (Ulyanov et al. 2016) and LRN (Krizhevsky et al. 2012) across channels. InstanceNormalization's
// and LRN's planners load with the rare ops' chunk (src/ops/rarePlans.ts); the LayerNorms' stay
// here (the recognizers make LayerNormalization and ChannelLayerNorm nodes while planning).
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { numel, shapeStr } from '../graph/ir';
import { planRare } from './rare';
import type { InferCtx, OpDef } from './types';
import { attrFinite, attrFloat, attrInt, input, normAxis, requireConst } from './util';

function lnAxis(n: Node, ctx: InferCtx): number {
  const x = ctx.shape(n.inputs[0]);
  return normAxis(n, attrInt(n, 'axis', -1), x.length);
}

/** gamma/beta expanded to the normalised block's length (they may broadcast). */
function expandParam(n: Node, ctx: InferCtx, name: string | undefined, block: number[]): Float32Array | undefined {
  if (!name) return undefined;
  const t = ctx.float(name);
  if (!t) throw new UnsupportedOpError(n.op, n.name, `'${name}' must be a constant`);
  const len = numel(block);
  if (t.data.length === len) return t.data;
  if (t.data.length === 1) return new Float32Array(len).fill(t.data[0]);
  const inner = numel(t.shape);
  if (len % inner !== 0) throw new ShapeError(`${n.op} node '${n.name}': '${name}' ${shapeStr(t.shape)} vs ${shapeStr(block)}`);
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) out[i] = t.data[i % inner];
  return out;
}

export const layernorm: OpDef = {
  ops: ['LayerNormalization'],
  layout: 'plain',
  infer(n, ctx) {
    requireConst(ctx, n, [1, 2]);
    const x = ctx.shape(n.inputs[0]);
    const a = lnAxis(n, ctx);
    // the optional Mean and InvStdDev outputs: one value per normalised block
    const stat = x.map((d, i) => (i < a ? d : 1));
    return [x, stat, stat];
  },
  plan(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    const a = lnAxis(n, ctx);
    const block = x.slice(a);
    const g = expandParam(n, ctx, input(n, 1), block);
    const b = expandParam(n, ctx, input(n, 2), block);
    const gp = g ? ctx.mem.putF32(g) : 0;
    const bp = b ? ctx.mem.putF32(b) : 0;
    const rows = numel(x.slice(0, a));
    const len = numel(block);
    const eps = attrFloat(n, 'epsilon', 1e-5);
    const xi = ctx.ptr(n.inputs[0]);
    const yo = ctx.ptr(n.outputs[0]);
    const k = ctx.k;
    const [, mo, io] = n.outputs.map((o) => (o ? ctx.ptr(o) >>> 2 : -1));
    if (mo < 0 && io < 0) return () => k.layernorm_f32(xi, yo, rows, len, gp, bp, eps);
    const mem = ctx.mem;
    return () => {
      k.layernorm_f32(xi, yo, rows, len, gp, bp, eps);
      // Mean and InvStdDev (training outputs, rarely asked for), in double precision on the host
      const f = mem.f32;
      for (let r = 0, p = xi >>> 2; r < rows; r++, p += len) {
        let m = 0;
        let v = 0;
        for (let i = p; i < p + len; i++) m += f[i];
        m /= len;
        for (let i = p; i < p + len; i++) v += (f[i] - m) ** 2;
        if (mo >= 0) f[mo + r] = m;
        if (io >= 0) f[io + r] = 1 / Math.sqrt(v / len + eps);
      }
    };
  },
};

/**
 * wasmcnn-internal: LayerNorm over the channels of an NCHW map (ConvNeXt's LayerNorm2d);
 * contiguous rows in NHWC. gamma/beta have C elements (shape [C] or [C,1,1]).
 */
export const channelLayerNorm: OpDef = {
  ops: ['ChannelLayerNorm'],
  layout: 'nhwc',
  infer(n, ctx) {
    requireConst(ctx, n, [1, 2]);
    const x = ctx.shape(n.inputs[0]);
    if (x.length !== 4) throw new ShapeError(`ChannelLayerNorm node '${n.name}': input ${shapeStr(x)} is not 4-D`);
    for (const p of n.inputs.slice(1))
      if (p && numel(ctx.shape(p)) !== x[1]) throw new ShapeError(`ChannelLayerNorm node '${n.name}': '${p}' has ${numel(ctx.shape(p))} values for ${x[1]} channels`);
    return [x];
  },
  plan(n, ctx) {
    const [N, H, W, Cn] = ctx.phys(n.inputs[0]);
    const gp = input(n, 1) ? ctx.mem.putF32(ctx.weight(n.inputs[1]).data) : 0;
    const bp = input(n, 2) ? ctx.mem.putF32(ctx.weight(n.inputs[2]).data) : 0;
    const eps = attrFloat(n, 'epsilon', 1e-6);
    const xi = ctx.ptr(n.inputs[0]);
    const yo = ctx.ptr(n.outputs[0]);
    const k = ctx.k;
    return () => k.layernorm_f32(xi, yo, N * H * W, Cn, gp, bp, eps);
  },
};

export const instancenorm: OpDef = {
  ops: ['InstanceNormalization'],
  layout: 'nhwc',
  infer(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    requireConst(ctx, n, [1, 2]);
    // 3-D [N, C, L]: how torch.onnx exports GroupNorm (reshaped to [N, groups, -1], unit scale)
    if (x.length !== 4 && x.length !== 3) throw new UnsupportedOpError('InstanceNormalization', n.name, `input ${shapeStr(x)} is not 3-D or 4-D`);
    for (const p of n.inputs.slice(1, 3))
      if (!p || numel(ctx.shape(p)) !== x[1])
        throw new ShapeError(`InstanceNormalization node '${n.name}': scale and bias need ${x[1]} values each${p ? `, '${p}' has ${numel(ctx.shape(p))}` : ''}`);
    attrFinite(n, 'epsilon', 1e-5);
    return [x];
  },
  plan: planRare,
};

/**
 * Widest LRN window the kernel's square buffer holds (assembly/eltwise.ts: size < LRN_CAP / 2).
 * Windows wider than the channels are legal ONNX (they change alpha / size) and stay allowed.
 */
const LRN_MAX_SIZE = 1023;

/** LRN's `size`: required, odd (centred on the channel, as onnxruntime requires), at most LRN_MAX_SIZE (also the planner's, src/ops/rarePlans.ts). */
export function lrnSize(n: Node): number {
  if (n.attrs.size === undefined) throw new ShapeError(`LRN node '${n.name}': the size attribute is required`);
  const size = attrInt(n, 'size', 1);
  if (size < 1 || size % 2 === 0 || size > LRN_MAX_SIZE)
    throw new ShapeError(`LRN node '${n.name}': size=${size} must be odd and within [1, ${LRN_MAX_SIZE}]`);
  return size;
}

export const lrn: OpDef = {
  ops: ['LRN'],
  layout: 'nhwc',
  infer(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    if (x.length !== 4) throw new UnsupportedOpError('LRN', n.name, `input ${shapeStr(x)} is not 4-D`);
    lrnSize(n);
    attrFinite(n, 'alpha', 1e-4);
    attrFinite(n, 'beta', 0.75);
    attrFinite(n, 'bias', 1);
    return [x];
  },
  plan: planRare,
};
