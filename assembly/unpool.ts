// Max pooling with argmax indices and max unpooling (ONNX MaxPool's Indices output and
// MaxUnpool; PyTorch MaxPool2d(return_indices=True) / MaxUnpool2d; the "switches" of Zeiler &
// Fergus 2014 and the unpooling layers of Noh et al. 2015), NHWC.
//
// Indices are float32 values in the activation arena (exact integers below 2^24; the host
// refuses larger tensors), so the layout pass and the graph outputs treat them as any tensor.
// ONNX flattening (storage_order 0): index of input element (n, c, h, w) = ((n·C + c)·H + h)·W + w;
// storage_order 1: (n·C + c)·H·W + w·H + h. Ties keep the first tap in (kh, kw) order; a NaN
// tap wins (PyTorch's rule); an empty window (impossible with valid pads) gives -Infinity / -1.
//
// maxunpool scatters every input value to the output position its index names; everything
// else is 0. Indices address an IH x IW grid per plane (PyTorch MaxUnpool2d: the output size;
// the ONNX reference: the default unpooled size (H − 1)·stride − pads + kernel, whose grid is
// then placed at the top-left of an output_shape that differs); positions outside OH x OW and
// out-of-range indices are dropped. perPlane = 0: ONNX global indices (n·C + c)·IH·IW + q
// decoded into (n, c, q); perPlane = 1: PyTorch's per-(n, c) indices q = ih·IW + iw.
// The max pool is vectorised over channels with f32x4 compare + bitselect; the scatter is
// scalar by nature (the zero fill is vectorised).
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_DH, G_DW,
  G_IN_STRIDE, G_OUT_STRIDE,
} from './codes';
import { geo, loadPart, storePart, tapHi, tapLo } from './window';

/**
 * Max pool (same geometry rules as pool.ts maxpool_f32) writing the max to `output` and its
 * flattened ONNX index (float32) to `indices` (same NHWC layout and G_OUT_STRIDE as output).
 * order: ONNX storage_order (0 row-major, 1 column-major).
 */
export function maxpool_with_indices_f32(g: usize, input: usize, output: usize, indices: usize, order: i32): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C);
  const OH = geo(g, G_OH), OW = geo(g, G_OW);
  const KH = geo(g, G_KH), KW = geo(g, G_KW);
  const SH = geo(g, G_SH), SW = geo(g, G_SW);
  const PT = geo(g, G_PT), PL = geo(g, G_PL);
  const DH = geo(g, G_DH), DW = geo(g, G_DW);
  const ps = <usize>geo(g, G_IN_STRIDE) << 2;
  const ops = <usize>geo(g, G_OUT_STRIDE) << 2;
  const rowB = <usize>W * ps;
  const full = C >> 2;
  const rem = C & 3;
  const HW = H * W;
  const lane = f32x4(0, 1, 2, 3);
  const negInf = f32x4.splat(-Infinity);
  const none = f32x4.splat(-1);
  for (let n = 0; n < N; n++) {
    const inImg = input + <usize>n * <usize>H * rowB;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - PT;
      const kh0 = tapLo(ih0, DH), kh1 = tapHi(ih0, DH, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * SW - PL;
        const kw0 = tapLo(iw0, DW), kw1 = tapHi(iw0, DW, KW, W);
        const opix = <usize>((n * OH + oh) * OW + ow) * ops;
        for (let t = 0; t <= full; t++) {
          const cnt = t < full ? 4 : rem;
          if (cnt == 0) break;
          const c = <usize>t << 4;
          // (n·C + c + lane)·H·W: the channel planes' offsets, exact in f32 below 2^24
          const planes = f32x4.mul(f32x4.add(f32x4.splat(<f32>(n * C + t * 4)), lane), f32x4.splat(<f32>HW));
          let best = negInf;
          let arg = none;
          for (let kh = kh0; kh < kh1; kh++) {
            const ih = ih0 + kh * DH;
            const rp = inImg + <usize>ih * rowB + c;
            for (let kw = kw0; kw < kw1; kw++) {
              const iw = iw0 + kw * DW;
              const p = rp + <usize>iw * ps;
              const v = cnt == 4 ? v128.load(p) : loadPart(p, cnt);
              const take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
              best = v128.bitselect(v, best, take);
              const sp = order == 0 ? ih * W + iw : iw * H + ih;
              arg = v128.bitselect(f32x4.splat(<f32>sp), arg, take);
            }
          }
          const idx = v128.bitselect(f32x4.add(planes, arg), none, f32x4.ge(arg, f32x4.splat(0)));
          if (cnt == 4) {
            v128.store(output + opix + c, best);
            v128.store(indices + opix + c, idx);
          } else {
            storePart(output + opix + c, best, cnt);
            storePart(indices + opix + c, idx, cnt);
          }
        }
      }
    }
  }
}

/**
 * Max unpooling: output (N, OH, OW, OC = C; G_OUT_STRIDE) is zeroed, then every input value
 * (N, H, W, C; G_IN_STRIDE, indices alike) lands where its index points (see header).
 */
export function maxunpool_f32(
  g: usize, input: usize, indices: usize, output: usize, IH: i32, IW: i32, perPlane: i32,
): void {
  const N = geo(g, G_N), H = geo(g, G_H), W = geo(g, G_W), C = geo(g, G_C);
  const OH = geo(g, G_OH), OW = geo(g, G_OW), OC = geo(g, G_OC);
  const inS = geo(g, G_IN_STRIDE), outS = geo(g, G_OUT_STRIDE);
  const OHW = OH * OW;
  const z = f32x4.splat(0);
  const outPix = N * OHW;
  for (let p = 0; p < outPix; p++) {
    const op = output + (<usize>p * <usize>outS << 2);
    let c = 0;
    for (; c + 4 <= OC; c += 4) v128.store(op + (<usize>c << 2), z);
    for (; c < OC; c++) store<f32>(op + (<usize>c << 2), 0);
  }
  const IHW = IH * IW;
  const limit = perPlane != 0 ? <f32>IHW : <f32>N * <f32>C * <f32>IHW;
  const pixels = N * H * W;
  for (let p = 0; p < pixels; p++) {
    const n = p / (H * W);
    const src = input + (<usize>p * <usize>inS << 2);
    const ids = indices + (<usize>p * <usize>inS << 2);
    for (let c = 0; c < C; c++) {
      const f = load<f32>(ids + (<usize>c << 2));
      if (!(f >= 0 && f < limit)) continue;
      const idx = <i32>f;
      let plane = n * C + c, q = idx;
      if (perPlane == 0) {
        plane = idx / IHW;
        q = idx % IHW;
      }
      const qh = q / IW, qw = q % IW;
      if (qh >= OH || qw >= OW) continue;
      const n2 = plane / C, c2 = plane % C;
      const o = (n2 * OH + qh) * OW + qw;
      store<f32>(output + ((<usize>o * <usize>outS + <usize>c2) << 2), load<f32>(src + (<usize>c << 2)));
    }
  }
}
