// Training rules for normalisation. BatchNormalization: in training mode batch statistics
// (biased variance for normalising, unbiased for the running update, PyTorch's momentum =
// 1 - ONNX momentum), in eval mode the running statistics as a per-channel affine map; backward
// in both. LayerNormalization over the last axes, and ConvNeXt's channel LayerNorm on NCHW.
import { numel, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { binaryStep, gatherStep, overwriteSink, wholeSink } from './util';

export function batchNorm(n: Node, ctx: TrainCtx): TrainStep {
  const { attrFloat, codes } = ctx.lib;
  const x = ctx.shape(n.inputs[0]);
  if (x.length < 2) throw new UnsupportedOpError('BatchNormalization', n.name, 'input of rank < 2');
  if (n.outputs.filter(Boolean).length > 1) throw new UnsupportedOpError('BatchNormalization', n.name, 'training-mode outputs running_mean/var as graph values');
  const [N, C] = x;
  const HW = numel(x) / (N * C);
  const eps = attrFloat(n, 'epsilon', 1e-5);
  const momentum = 1 - attrFloat(n, 'momentum', 0.9);
  const k = ctx.k;
  const [xn, gn, bn, mn, vn] = n.inputs;
  const xp = ctx.ptr(xn);
  const gp = ctx.ptr(gn);
  const bp = ctx.ptr(bn);
  const rm = ctx.ptr(mn);
  const rv = ctx.ptr(vn);
  const yp = ctx.ptr(n.outputs[0]);
  const mean = ctx.keep(C * 4);
  const invstd = ctx.keep(C * 4);
  // eval mode: scale = γ / sqrt(var + eps), shift = β - mean·scale, refreshed each forward
  const scale = ctx.keep(C * 4);
  const shift = ctx.keep(C * 4);
  const mem = ctx.mem;
  const full = [N, C, HW];
  const mulScale = binaryStep(ctx, codes.BIN_MUL, yp, xp, full, scale, [C, 1], full);
  const addShift = binaryStep(ctx, codes.BIN_ADD, yp, yp, full, shift, [C, 1], full);
  const affine = () => {
    const f = mem.f32;
    for (let c = 0; c < C; c++) {
      const s = f[(gp >>> 2) + c] / Math.sqrt(f[(rv >>> 2) + c] + eps);
      f[(scale >>> 2) + c] = s;
      f[(shift >>> 2) + c] = f[(bp >>> 2) + c] - f[(rm >>> 2) + c] * s;
      f[(mean >>> 2) + c] = f[(rm >>> 2) + c];
      f[(invstd >>> 2) + c] = 1 / Math.sqrt(f[(rv >>> 2) + c] + eps);
    }
    mulScale();
    addShift();
  };
  let trained = true;
  const forward = () => {
    trained = ctx.state.training;
    if (trained) k.bn_train_fwd_f32(xp, yp, N, C, HW, gp, bp, eps, momentum, mean, invstd, rm, rv);
    else affine();
  };
  if (!ctx.needsGrad(n.outputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const wantG = ctx.needsGrad(gn) || ctx.needsGrad(bn);
  const dg = ctx.needsGrad(gn) ? ctx.grad(gn) : ctx.keep(C * 4);
  const db = ctx.needsGrad(bn) ? ctx.grad(bn) : ctx.keep(C * 4);
  const s = ctx.needsGrad(xn) ? overwriteSink(ctx, xn) : undefined;
  // eval mode: dx = dy·scale; dγ += Σ dy·(x - mean)·invstd, dβ += Σ dy (through the same kernel
  // with the running statistics standing in for the batch's)
  const dxScale = s ? binaryStep(ctx, codes.BIN_MUL, { get ptr() { return s.dst(); } }, dy, full, scale, [C, 1], full) : undefined;
  const tmp = ctx.scratch(numel(x) * 4, 0);
  const backward = () => {
    if (trained) {
      k.bn_train_bwd_f32(xp, dy, s ? s.dst() : tmp.ptr, N, C, HW, gp, mean, invstd, dg, db);
      s?.after();
      return;
    }
    if (wantG) k.bn_train_bwd_f32(xp, dy, tmp.ptr, N, C, HW, gp, mean, invstd, dg, db);
    if (s) {
      dxScale!();
      s.after();
    }
  };
  return { forward, backward };
}

/** LayerNormalization over the last axes from `axis` (default -1), with optional scale and bias. */
export function layerNorm(n: Node, ctx: TrainCtx): TrainStep {
  const { attrFloat, attrInt } = ctx.lib;
  const x = ctx.shape(n.inputs[0]);
  const axis = attrInt(n, 'axis', -1);
  const a = axis < 0 ? axis + x.length : axis;
  const cols = numel(x.slice(a));
  const rows = numel(x) / cols;
  const eps = attrFloat(n, 'epsilon', 1e-5);
  if (n.outputs.filter(Boolean).length > 1) throw new UnsupportedOpError('LayerNormalization', n.name, 'the mean / inv_std_dev outputs');
  return normRows(n, ctx, rows, cols, eps, ctx.ptr(n.inputs[0]), ctx.ptr(n.outputs[0]), undefined);
}

/** wasmcnn's ChannelLayerNorm: LayerNorm over the channels of each pixel of an NCHW tensor (ConvNeXt's LayerNorm2d). */
export function channelLayerNorm(n: Node, ctx: TrainCtx): TrainStep {
  const { attrFloat } = ctx.lib;
  const [N, C, H, W] = ctx.shape(n.inputs[0]);
  const HW = H * W;
  const eps = attrFloat(n, 'epsilon', 1e-6);
  // rows of C: x as [N, HW, C] (kept for backward), normalised, then back to [N, C, HW]
  const xt = ctx.keep(N * HW * C * 4);
  const yt = ctx.scratch(N * HW * C * 4, 1);
  const toRows = gatherStep(ctx, xt, ctx.ptr(n.inputs[0]), [N, HW, C], [C * HW, 1, HW]);
  const back = gatherStep(ctx, ctx.ptr(n.outputs[0]), yt, [N, C, HW], [HW * C, 1, C]);
  return normRows(n, ctx, N * HW, C, eps, xt, yt, { toRows, back, N, C, HW });
}

/** Rows of `cols` floats normalised (forward kernel keeps mean and 1/σ), with their backward. */
function normRows(
  n: Node, ctx: TrainCtx, rows: number, cols: number, eps: number, xp: number, yp: number | { ptr: number },
  nchw: { toRows: () => void; back: () => void; N: number; C: number; HW: number } | undefined,
): TrainStep {
  const k = ctx.k;
  const [xn, gn, bn] = n.inputs;
  const gp = gn ? ctx.ptr(gn) : 0;
  const bp = bn ? ctx.ptr(bn) : 0;
  const mean = ctx.keep(rows * 4);
  const invstd = ctx.keep(rows * 4);
  const y = () => (typeof yp === 'number' ? yp : yp.ptr);
  const forward = () => {
    nchw?.toRows();
    k.layernorm_train_fwd_f32(xp, y(), rows, cols, gp, bp, eps, mean, invstd);
    nchw?.back();
  };
  if (!ctx.needsGrad(n.outputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const dg = gn && ctx.needsGrad(gn) ? ctx.grad(gn) : 0;
  const db = bn && ctx.needsGrad(bn) ? ctx.grad(bn) : 0;
  const wantX = ctx.needsGrad(xn);
  if (!nchw) {
    const s = wantX ? overwriteSink(ctx, xn) : undefined;
    const tmp = ctx.scratch(rows * cols * 4, 0);
    return { forward, backward: () => (k.layernorm_bwd_f32(xp, dy, s ? s.dst() : tmp.ptr, rows, cols, gp, mean, invstd, dg, db), s?.after()) };
  }
  // NCHW: dy to rows, backward on rows, dx back to NCHW
  const { N, C, HW } = nchw;
  const dyt = ctx.scratch(rows * cols * 4, 0);
  const dxt = ctx.scratch(rows * cols * 4, 1);
  const dyRows = gatherStep(ctx, dyt, dy, [N, HW, C], [C * HW, 1, HW]);
  const dxBack = wantX ? wholeSink(ctx, xn, (dst) => gatherStep(ctx, dst, dxt, [N, C, HW], [HW * C, 1, C])) : () => {};
  return { forward, backward: () => (dyRows(), k.layernorm_bwd_f32(xp, dyt.ptr, dxt.ptr, rows, cols, gp, mean, invstd, dg, db), dxBack()) };
}
