// Training rules for Conv (dense, grouped, dilated, strided, padded) and depthwise Conv, NCHW.
// Per image and group: im2col, then Y = W·cols (mm_f32); backward dW += dY·colsᵀ,
// dcols = Wᵀ·dY scattered back by col2im, db = Σ dY. A 1x1 stride-1 unpadded layer reads the
// input as its own cols. Depthwise layers run the direct dw_* kernels. ConvTranspose is the
// same pieces in adjoint order.
import { ShapeError, shapeStr, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { accumulateSink, binaryStep, inferCtx, overwriteSink } from './util';

export function conv(n: Node, ctx: TrainCtx): TrainStep {
  const x = ctx.shape(n.inputs[0]);
  const w = ctx.shape(n.inputs[1]);
  const y = ctx.shape(n.outputs[0]);
  if (x.length !== 4) throw new UnsupportedOpError('Conv', n.name, `training supports 2-D convolution only, got input ${shapeStr(x)}`);
  const { attrInt, attrInts, window2d, codes } = ctx.lib;
  const groups = attrInt(n, 'group', 1);
  const [N, C, H, W] = x;
  const OC = w[0];
  if (C % groups || OC % groups || w[1] * groups !== C) throw new ShapeError(`Conv node '${n.name}': input ${shapeStr(x)}, group ${groups}, weight ${shapeStr(w)} do not fit`);
  const ks = attrInts(n, 'kernel_shape', [w[2], w[3]])!;
  const win = window2d(n, H, W, ks);
  const { kh: KH, kw: KW, sh: SH, sw: SW, pt: PT, pl: PL, dh: DH, dw: DW, oh: OH, ow: OW } = win;
  const k = ctx.k;
  const xp = ctx.ptr(n.inputs[0]);
  const wp = ctx.ptr(n.inputs[1]);
  const bName = n.inputs[2] || undefined;
  const bp = bName ? ctx.ptr(bName) : 0;
  const yp = ctx.ptr(n.outputs[0]);
  const OHW = OH * OW;
  const geo = [KH, KW, SH, SW, PT, PL, DH, DW, OH, OW] as const;

  if (groups === C && OC === C && C > 1) {
    // depthwise
    const dwMacs = N * C * OH * OW * KH * KW;
    const forward = () => ctx.call('dw_fwd_f32', dwMacs, xp, wp, bp, yp, N, C, H, W, ...geo);
    const steps: (() => void)[] = [];
    if (ctx.needsGrad(n.outputs[0])) {
      const dy = ctx.grad(n.outputs[0]);
      if (bName && ctx.needsGrad(bName)) steps.push(() => k.bias_grad_f32(dy, N, C, OHW, ctx.grad(bName)));
      if (ctx.needsGrad(n.inputs[1])) {
        const gw = ctx.grad(n.inputs[1]);
        steps.push(() => ctx.call('dw_grad_weight_f32', dwMacs, xp, dy, gw, N, C, H, W, ...geo));
      }
      if (ctx.needsGrad(n.inputs[0])) {
        const s = overwriteSink(ctx, n.inputs[0]);
        steps.push(() => ctx.call('dw_grad_input_f32', dwMacs, dy, wp, s.dst(), N, C, H, W, ...geo), s.after);
      }
    }
    return { forward, backward: () => steps.forEach((s) => s()) };
  }

  const Cg = C / groups;
  const OCg = OC / groups;
  const CKK = Cg * KH * KW;
  const pointwise = KH === 1 && KW === 1 && SH === 1 && SW === 1 && PT === 0 && PL === 0 && win.pb === 0 && win.pr === 0;
  const cols = ctx.scratch(pointwise ? 0 : CKK * OHW * 4, 0);
  const dcols = ctx.scratch(pointwise ? 0 : CKK * OHW * 4, 1);
  // mm's packing scratch: the largest of the three products' needs
  const mmBytes = Math.max(
    k.mm_scratch_bytes(OCg, OHW, CKK, 0, 0, ctx.threads), k.mm_scratch_bytes(OCg, CKK, OHW, 0, 1, ctx.threads),
    k.mm_scratch_bytes(CKK, OHW, OCg, 1, 0, ctx.threads),
  );
  const mms = ctx.scratch(mmBytes, 2);
  /** Multiply-accumulates of one image's, one group's product. */
  const macs = OCg * OHW * CKK;
  const plane = H * W * 4;
  const colsOf = (ni: number, g: number): number => {
    const xg = xp + (ni * C + g * Cg) * plane;
    if (pointwise) return xg;
    k.im2col_f32(xg, Cg, H, W, ...geo, cols.ptr);
    return cols.ptr;
  };
  const biasAdd = bName ? binaryStep(ctx, codes.BIN_ADD, yp, yp, [N, OC, OHW], bp, [OC, 1], [N, OC, OHW]) : undefined;
  const forward = () => {
    for (let ni = 0; ni < N; ni++)
      for (let g = 0; g < groups; g++) {
        const c = colsOf(ni, g);
        ctx.call('mm_f32', macs, 0, 0, OCg, OHW, CKK, wp + g * OCg * CKK * 4, CKK, c, OHW, yp + (ni * OC + g * OCg) * OHW * 4, OHW, 0, mms.ptr);
      }
    biasAdd?.();
  };
  if (!ctx.needsGrad(n.outputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const wantX = ctx.needsGrad(n.inputs[0]);
  const wantW = ctx.needsGrad(n.inputs[1]);
  const wantB = !!bName && ctx.needsGrad(bName);
  const gw = wantW ? ctx.grad(n.inputs[1]) : 0;
  const gb = wantB ? ctx.grad(bName!) : 0;
  const sx = wantX ? accumulateSink(ctx, n.inputs[0]) : undefined;
  const backward = () => {
    if (wantB) k.bias_grad_f32(dy, N, OC, OHW, gb);
    sx?.before();
    for (let ni = 0; ni < N; ni++)
      for (let g = 0; g < groups; g++) {
        const dyg = dy + (ni * OC + g * OCg) * OHW * 4;
        const wg = wp + g * OCg * CKK * 4;
        if (wantW) ctx.call('mm_f32', macs, 0, 1, OCg, CKK, OHW, dyg, OHW, colsOf(ni, g), OHW, gw + g * OCg * CKK * 4, CKK, 1, mms.ptr);
        if (!sx) continue;
        const dxg = sx.ptr + (ni * C + g * Cg) * plane;
        if (pointwise) ctx.call('mm_f32', macs, 1, 0, Cg, OHW, OCg, wg, CKK, dyg, OHW, dxg, OHW, 1, mms.ptr);
        else {
          ctx.call('mm_f32', macs, 1, 0, CKK, OHW, OCg, wg, CKK, dyg, OHW, dcols.ptr, OHW, 0, mms.ptr);
          k.col2im_f32(dcols.ptr, Cg, H, W, ...geo, dxg);
        }
      }
  };
  return { forward, backward };
}

/**
 * ConvTranspose (grouped, strided, dilated, padded, output_padding / output_shape), NCHW, weight
 * [C, OC/groups, KH, KW]: the adjoint of Conv. Per image and group, cols = W_gᵀ·X_g is scattered
 * into Y by col2im; backward gathers dcols = im2col(dY) and gives dX_g = W_g·dcols,
 * dW_g += X_g·dcolsᵀ, db = Σ dY.
 */
export function convTranspose(n: Node, ctx: TrainCtx): TrainStep {
  const { x, win, groups, oc: OC } = ctx.lib.convTransposeGeometry(n, inferCtx(ctx));
  const { kh: KH, kw: KW, sh: SH, sw: SW, pt: PT, pl: PL, dh: DH, dw: DW, oh: OH, ow: OW } = win;
  const [N, C, H, W] = x;
  const k = ctx.k;
  const Cg = C / groups;
  const OCg = OC / groups;
  const R = OCg * KH * KW; // rows of one group's cols
  const HW = H * W;
  const OHW = OH * OW;
  // im2col/col2im see Y as the "image" and X's grid as the output positions
  const geo = [KH, KW, SH, SW, PT, PL, DH, DW, H, W] as const;
  const xp = ctx.ptr(n.inputs[0]);
  const wp = ctx.ptr(n.inputs[1]);
  const bName = n.inputs[2] || undefined;
  const yp = ctx.ptr(n.outputs[0]);
  const cols = ctx.scratch(R * HW * 4, 0);
  const mms = ctx.scratch(Math.max(
    k.mm_scratch_bytes(R, HW, Cg, 1, 0, ctx.threads), k.mm_scratch_bytes(Cg, HW, R, 0, 0, ctx.threads),
    k.mm_scratch_bytes(Cg, R, HW, 0, 1, ctx.threads),
  ), 2);
  const macs = R * HW * Cg;
  const xAt = (ni: number, g: number) => xp + (ni * C + g * Cg) * HW * 4;
  const yAt = (base: number, ni: number, g: number) => base + (ni * OC + g * OCg) * OHW * 4;
  const wAt = (g: number) => wp + g * Cg * R * 4;
  const biasAdd = bName ? binaryStep(ctx, ctx.lib.codes.BIN_ADD, yp, yp, [N, OC, OHW], ctx.ptr(bName), [OC, 1], [N, OC, OHW]) : undefined;
  const forward = () => {
    k.fill_f32(yp, N * OC * OHW, 0);
    for (let ni = 0; ni < N; ni++)
      for (let g = 0; g < groups; g++) {
        ctx.call('mm_f32', macs, 1, 0, R, HW, Cg, wAt(g), R, xAt(ni, g), HW, cols.ptr, HW, 0, mms.ptr);
        k.col2im_f32(cols.ptr, OCg, OH, OW, ...geo, yAt(yp, ni, g));
      }
    biasAdd?.();
  };
  if (!ctx.needsGrad(n.outputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const wantW = ctx.needsGrad(n.inputs[1]);
  const gb = bName && ctx.needsGrad(bName) ? ctx.grad(bName) : 0;
  const gw = wantW ? ctx.grad(n.inputs[1]) : 0;
  const sx = ctx.needsGrad(n.inputs[0]) ? accumulateSink(ctx, n.inputs[0]) : undefined;
  const backward = () => {
    if (gb) k.bias_grad_f32(dy, N, OC, OHW, gb);
    sx?.before();
    for (let ni = 0; ni < N; ni++)
      for (let g = 0; g < groups; g++) {
        k.im2col_f32(yAt(dy, ni, g), OCg, OH, OW, ...geo, cols.ptr);
        if (wantW) ctx.call('mm_f32', macs, 0, 1, Cg, R, HW, xAt(ni, g), HW, cols.ptr, HW, gw + g * Cg * R * 4, R, 1, mms.ptr);
        if (sx) ctx.call('mm_f32', macs, 0, 0, Cg, HW, R, wAt(g), R, cols.ptr, HW, sx.ptr + (ni * C + g * Cg) * HW * 4, HW, 1, mms.ptr);
      }
  };
  return { forward, backward };
}
