// Training rule for ONNX DeformConv (torchvision.ops.deform_conv2d): deformable convolution v1
// (Dai et al. 2017) and, with the mask input, v2 (Zhu et al. 2019), NCHW. Inputs X, W, offset,
// B?, mask?; attributes group, offset_group, pads, strides, dilations, kernel_shape.
// Per image: the bilinear columns of all C channels (deform_im2col_f32), then per conv group
// Y = W·cols (mm_f32; a group's columns are a contiguous block of rows), + bias. Backward per
// image: the columns are recomputed (as the Conv rule does: no N·C·KH·KW·OH·OW floats kept, one
// more gather per image), dW += dY·colsᵀ, dcols = Wᵀ·dY per group, then dX (deform_col2im_f32,
// accumulating) and the offset / mask gradients (deform_grad_offset_f32, written or added per the
// sink; one call for both when both are first shares or both later ones). Offsets and mask are
// ordinary activations: their gradients flow on to their producers.
import { ShapeError, shapeStr, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { accumulateSink, binaryStep } from './util';

export function deformConv(n: Node, ctx: TrainCtx): TrainStep {
  const x = ctx.shape(n.inputs[0]);
  const w = ctx.shape(n.inputs[1]);
  if (x.length !== 4) throw new UnsupportedOpError('DeformConv', n.name, `training supports 2-D deformable convolution only, got input ${shapeStr(x)}`);
  const { attrInt, attrInts, window2d, codes } = ctx.lib;
  const groups = attrInt(n, 'group', 1);
  const OG = attrInt(n, 'offset_group', 1);
  const [N, C, H, W] = x;
  const OC = w[0];
  if (C % groups || OC % groups || w[1] * groups !== C || OG < 1 || C % OG)
    throw new ShapeError(`DeformConv node '${n.name}': input ${shapeStr(x)}, group ${groups}, offset_group ${OG}, weight ${shapeStr(w)} do not fit`);
  const ks = attrInts(n, 'kernel_shape', [w[2], w[3]])!;
  const win = window2d(n, H, W, ks);
  const { kh: KH, kw: KW, sh: SH, sw: SW, pt: PT, pl: PL, dh: DH, dw: DW, oh: OH, ow: OW } = win;
  const k = ctx.k;
  const offName = n.inputs[2];
  const bName = n.inputs[3] || undefined;
  const maskName = n.inputs[4] || undefined;
  const xp = ctx.ptr(n.inputs[0]);
  const wp = ctx.ptr(n.inputs[1]);
  const op = ctx.ptr(offName);
  const mp = maskName ? ctx.ptr(maskName) : 0;
  const bp = bName ? ctx.ptr(bName) : 0;
  const yp = ctx.ptr(n.outputs[0]);
  const OHW = OH * OW;
  const KK = KH * KW;
  const Cg = C / groups;
  const OCg = OC / groups;
  const CKK = Cg * KK;
  const geo = [C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, OG] as const;
  // one image's columns and column gradients, all groups (group g: rows [g·CKK, (g+1)·CKK))
  const cols = ctx.scratch(C * KK * OHW * 4, 0);
  const dcols = ctx.scratch(C * KK * OHW * 4, 1);
  const mmBytes = Math.max(
    k.mm_scratch_bytes(OCg, OHW, CKK, 0, 0, ctx.threads), k.mm_scratch_bytes(OCg, CKK, OHW, 0, 1, ctx.threads),
    k.mm_scratch_bytes(CKK, OHW, OCg, 1, 0, ctx.threads),
  );
  const mms = ctx.scratch(mmBytes, 2);
  /** Multiply-accumulates of one image's, one group's product. */
  const macs = OCg * OHW * CKK;
  /** Work of one image's gather or scatter: four corners per column entry. */
  const gatherWork = 4 * C * KK * OHW;
  const plane = H * W * 4;
  const offImage = 2 * OG * KK * OHW * 4;
  const maskImage = OG * KK * OHW * 4;
  const im2col = (ni: number) =>
    ctx.call('deform_im2col_f32', gatherWork, xp + ni * C * plane, op + ni * offImage, mp && mp + ni * maskImage, ...geo, cols.ptr);
  const biasAdd = bName ? binaryStep(ctx, codes.BIN_ADD, yp, yp, [N, OC, OHW], bp, [OC, 1], [N, OC, OHW]) : undefined;
  const forward = () => {
    for (let ni = 0; ni < N; ni++) {
      im2col(ni);
      for (let g = 0; g < groups; g++)
        ctx.call('mm_f32', macs, 0, 0, OCg, OHW, CKK, wp + g * OCg * CKK * 4, CKK, cols.ptr + g * CKK * OHW * 4, OHW, yp + (ni * OC + g * OCg) * OHW * 4, OHW, 0, mms.ptr);
    }
    biasAdd?.();
  };
  if (!ctx.needsGrad(n.outputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const wantX = ctx.needsGrad(n.inputs[0]);
  const wantW = ctx.needsGrad(n.inputs[1]);
  const wantB = !!bName && ctx.needsGrad(bName);
  const wantOff = ctx.needsGrad(offName);
  const wantMask = !!maskName && ctx.needsGrad(maskName);
  const gw = wantW ? ctx.grad(n.inputs[1]) : 0;
  const gb = wantB ? ctx.grad(bName!) : 0;
  const sx = wantX ? accumulateSink(ctx, n.inputs[0]) : undefined;
  // the offset / mask kernel writes or adds per output position: no scratch copy needed
  const so = wantOff ? ctx.sink(offName) : undefined;
  const sm = wantMask ? ctx.sink(maskName!) : undefined;
  // one call writes both gradients when both are first shares (or both later ones), else one call each
  const together = !!so && !!sm && so.add === sm.add;
  const wantCols = wantX || wantOff || wantMask;
  const backward = () => {
    if (wantB) k.bias_grad_f32(dy, N, OC, OHW, gb);
    sx?.before();
    for (let ni = 0; ni < N; ni++) {
      if (wantW) im2col(ni);
      for (let g = 0; g < groups; g++) {
        const dyg = dy + (ni * OC + g * OCg) * OHW * 4;
        if (wantW) ctx.call('mm_f32', macs, 0, 1, OCg, CKK, OHW, dyg, OHW, cols.ptr + g * CKK * OHW * 4, OHW, gw + g * OCg * CKK * 4, CKK, 1, mms.ptr);
        if (wantCols) ctx.call('mm_f32', macs, 1, 0, CKK, OHW, OCg, wp + g * OCg * CKK * 4, CKK, dyg, OHW, dcols.ptr + g * CKK * OHW * 4, OHW, 0, mms.ptr);
      }
      const offN = op + ni * offImage;
      const maskN = mp && mp + ni * maskImage;
      if (sx) ctx.call('deform_col2im_f32', gatherWork, dcols.ptr, offN, maskN, ...geo, sx.ptr + ni * C * plane);
      const grads = (doff: number, dmask: number, add: boolean) =>
        ctx.call('deform_grad_offset_f32', gatherWork, xp + ni * C * plane, dcols.ptr, offN, maskN, ...geo, doff, dmask, add ? 1 : 0);
      if (together) grads(so!.ptr + ni * offImage, sm!.ptr + ni * maskImage, so!.add);
      else {
        if (so) grads(so.ptr + ni * offImage, 0, so.add);
        if (sm) grads(0, sm.ptr + ni * maskImage, sm.add);
      }
    }
  };
  return { forward, backward };
}
