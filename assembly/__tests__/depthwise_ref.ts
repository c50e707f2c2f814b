// Scalar reference for depthwise convolution (MobileNets, Howard et al. 2017) on NHWC with
// channel-slice strides: the plainest loop over every tap, padding tested tap by tap, weights
// in the PyTorch/ONNX layout [C][1][KH][KW]. The specs compare dwconv_f32 against it.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_DH, G_DW,
  G_IN_STRIDE, G_OUT_STRIDE, G_ACT, G_ACT_P0, G_ACT_P1, ACT_RELU, ACT_CLAMP,
} from '../codes';

function gf(g: usize, f: i32): i32 {
  return load<i32>(g + (<usize>f << 2));
}

export function dwconvRef(g: usize, input: usize, w: usize, bias: usize, output: usize): void {
  const N = gf(g, G_N), H = gf(g, G_H), W = gf(g, G_W), C = gf(g, G_C);
  const OH = gf(g, G_OH), OW = gf(g, G_OW), KH = gf(g, G_KH), KW = gf(g, G_KW);
  const SH = gf(g, G_SH), SW = gf(g, G_SW), PT = gf(g, G_PT), PL = gf(g, G_PL);
  const DH = gf(g, G_DH), DW = gf(g, G_DW), IS = gf(g, G_IN_STRIDE), OS = gf(g, G_OUT_STRIDE);
  const act = gf(g, G_ACT);
  const p0 = reinterpret<f32>(gf(g, G_ACT_P0)), p1 = reinterpret<f32>(gf(g, G_ACT_P1));
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          let s: f32 = bias != 0 ? load<f32>(bias + (<usize>c << 2)) : 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * SW - PL + kw * DW;
              if (iw < 0 || iw >= W) continue;
              const x = load<f32>(input + (<usize>(((n * H + ih) * W + iw) * IS + c) << 2));
              const k = load<f32>(w + (<usize>((c * KH + kh) * KW + kw) << 2));
              s += x * k;
            }
          }
          if (act == ACT_RELU) s = s > 0 ? s : 0;
          else if (act == ACT_CLAMP) s = s < p0 ? p0 : s > p1 ? p1 : s;
          store<f32>(output + (<usize>(((n * OH + oh) * OW + ow) * OS + c) << 2), s);
        }
      }
    }
  }
}
