// Scalar references for max / average / global pooling (ONNX MaxPool, AveragePool,
// GlobalAveragePool, GlobalMaxPool) on NHWC with channel-slice strides. Every tap is tested on
// its own: inside the input (it contributes), inside the padded extent [-PT, H+PB) x
// [-PL, W+PR) (it counts toward the count_include_pad divisor), or beyond (ceil_mode overhang:
// it counts for nothing). Sums and means in f64.
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR, G_DH, G_DW,
  G_IN_STRIDE, G_OUT_STRIDE, G_FLAGS, FLAG_COUNT_INCLUDE_PAD,
} from '../codes';

/**
 * Output size along one axis, PyTorch / ONNX rule: with ceil_mode the last window must start
 * inside the input or the leading pad (0 when even the first window does not fit).
 */
export function poolOutSize(I: i32, K: i32, S: i32, P0: i32, P1: i32, D: i32, ceil: bool): i32 {
  const span = I + P0 + P1 - ((K - 1) * D + 1);
  if (span < 0) return 0;
  let o = (ceil ? (span + S - 1) / S : span / S) + 1;
  if (ceil && (o - 1) * S >= I + P0) o--;
  return o;
}

function gf(g: usize, f: i32): i32 {
  return load<i32>(g + (<usize>f << 2));
}

export function poolRef(isMax: bool, g: usize, input: usize, output: usize): void {
  const N = gf(g, G_N), H = gf(g, G_H), W = gf(g, G_W), C = gf(g, G_C);
  const OH = gf(g, G_OH), OW = gf(g, G_OW), KH = gf(g, G_KH), KW = gf(g, G_KW);
  const SH = gf(g, G_SH), SW = gf(g, G_SW), PT = gf(g, G_PT), PL = gf(g, G_PL);
  const PB = gf(g, G_PB), PR = gf(g, G_PR);
  const DH = gf(g, G_DH), DW = gf(g, G_DW), IS = gf(g, G_IN_STRIDE), OS = gf(g, G_OUT_STRIDE);
  const incl = (gf(g, G_FLAGS) & FLAG_COUNT_INCLUDE_PAD) != 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          let mx: f32 = -Infinity;
          let sum: f64 = 0;
          let valid = 0;
          let padded = 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * SH - PT + kh * DH;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * SW - PL + kw * DW;
              if (ih >= -PT && ih < H + PB && iw >= -PL && iw < W + PR) padded++;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              const x = load<f32>(input + (<usize>(((n * H + ih) * W + iw) * IS + c) << 2));
              valid++;
              sum += <f64>x;
              if (x > mx || isNaN(x)) mx = x; // PyTorch: a NaN tap wins and stays
            }
          }
          const cnt = incl ? padded : valid;
          const y: f32 = isMax ? mx : cnt > 0 ? <f32>(sum / <f64>cnt) : 0;
          store<f32>(output + (<usize>(((n * OH + oh) * OW + ow) * OS + c) << 2), y);
        }
      }
    }
  }
}

export function globalPoolRef(
  isMax: bool, N: i32, HW: i32, C: i32, input: usize, inStride: i32, output: usize, outStride: i32,
): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      let mx: f32 = -Infinity;
      let sum: f64 = 0;
      for (let p = 0; p < HW; p++) {
        const x = load<f32>(input + (<usize>((n * HW + p) * inStride + c) << 2));
        sum += <f64>x;
        if (x > mx) mx = x;
      }
      store<f32>(output + (<usize>(n * outStride + c) << 2), isMax ? mx : <f32>(sum / <f64>HW));
    }
  }
}
