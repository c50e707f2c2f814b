// Scalar reference for conv2d (conv.ts): a direct NHWC convolution over the PyTorch/ONNX
// weight layout [OC][C/groups][KH][KW], summing bias then taps in (kh, kw, c) order.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_DH, G_DW,
  G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0, G_ACT_P1, G_RES_STRIDE,
} from '../codes';
import { at, applyAct } from './gemm_ref';

@inline function geo(g: usize, field: i32): i32 {
  return load<i32>(g + (<usize>field << 2));
}

export function conv2dRef(g: usize, input: usize, w: usize, bias: usize, output: usize, res: usize): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C);
  const OH = geo(g, G_OH), OW = geo(g, G_OW), OC = geo(g, G_OC);
  const KH = geo(g, G_KH), KW = geo(g, G_KW), SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL), DH = geo(g, G_DH), DW = geo(g, G_DW);
  const groups = geo(g, G_GROUPS), Cg = C / groups, OCg = OC / groups;
  const inS = geo(g, G_IN_STRIDE), outS = geo(g, G_OUT_STRIDE), resS = geo(g, G_RES_STRIDE);
  const act = geo(g, G_ACT);
  const p0 = reinterpret<f32>(geo(g, G_ACT_P0)), p1 = reinterpret<f32>(geo(g, G_ACT_P1));
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const pix = (n * OH + oh) * OW + ow;
        for (let oc = 0; oc < OC; oc++) {
          const gi = oc / OCg;
          let s: f32 = bias != 0 ? load<f32>(at(bias, oc)) : 0;
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const ih = oh * SH - PT + kh * DH, iw = ow * SW - PL + kw * DW;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (let c = 0; c < Cg; c++) {
                const x = load<f32>(at(input, ((n * H + ih) * W + iw) * inS + gi * Cg + c));
                s += x * load<f32>(at(w, ((oc * Cg + c) * KH + kh) * KW + kw));
              }
            }
          }
          if (res != 0) s += load<f32>(at(res, pix * resS + oc));
          store<f32>(at(output, pix * outS + oc), applyAct(s, act, p0, p1));
        }
      }
    }
  }
}
