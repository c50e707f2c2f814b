// Rotation-equivariant convolution on the cyclic group C4 (the rotations by multiples of 90°):
// the p4 group convolutions of Cohen & Welling 2016, "Group Equivariant Convolutional Networks"
// (ICML), section 6 ("the lifting layer" Z2 -> p4 and the p4 -> p4 layer).
//
// Every layer here is an ordinary Conv whose weight is expanded from the learned filters at
// build() (GraphBuilder.derive), so the kernels and passes see nothing new.
//
// Conventions (shared with tools/c4_reference.py):
//   * rot^r(ψ) is the k×k filter turned r·90° COUNTER-CLOCKWISE as an image is drawn (row 0 at
//     the top, column 0 at the left): rot(ψ)[i][j] = ψ[j][k-1-i], numpy/torch.rot90(ψ, r, (-2, -1)).
//   * channel layout of a C4 feature map: filter-major, orientation-minor — channel f·4 + r is
//     filter f at orientation r (f's response to the filter rotated by r·90°).
//   * lifting:   W[f·4 + r, c] = rot^r(ψ[f, c])
//   * p4 -> p4:  W[f·4 + r, g·4 + s] = rot^r(ψ[f, g, (s - r) mod 4]) — the filter turned by r and
//     its input-orientation axis cyclically shifted by r (torch.roll(ψ, r, dim=2)), which is the
//     paper's ψ(g⁻¹h) for g = (translation, rotation r), h = (position, rotation s).
//   * bias: one per filter, shared by its four orientations.
// Equivariance: turning the input image by 90° counter-clockwise (about the centre pixel: odd
// sizes, stride 1, "same" padding of odd kernels) turns every C4 feature map by 90° and moves
// orientation r to r + 1 (mod 4): y'[f·4 + r] = rot(y[f·4 + (r - 1) mod 4]).
import { GraphBuilder as GraphBuilderClass, type GraphBuilder } from './builder';
import { ShapeError } from './errors';

/** Options of liftC4 and groupConvC4 (one filter = four output channels). */
/** Options of the C4 (rotation-equivariant) convolutions {@link liftC4} and {@link groupConvC4}. */
export interface C4ConvOptions {
  /** number of filters; the output has out·4 channels */
  out: number;
  /** odd sizes keep the rotation about the centre pixel exact */
  kernel: number;
  /** stride (default 1) */
  stride?: number;
  /** symmetric padding (kernel >> 1 for "same") */
  pad?: number;
  /** dilation (default 1) */
  dilation?: number;
  /** one bias per filter, shared by its orientations (default true) */
  bias?: boolean;
}

/** Index of rot^r(ψ)[i][j] in a row-major k×k filter ψ (r counter-clockwise quarter turns). */
function rotSrc(i: number, j: number, k: number, r: number): number {
  // rot(ψ)[i][j] = ψ[j][k-1-i], applied r times
  let a = i, b = j;
  for (let t = 0; t < (r & 3); t++) [a, b] = [b, k - 1 - a];
  return a * k + b;
}

/**
 * The C4 filter bank of one weight: `filters[f]`'s `taps` spatial planes, written for each
 * orientation r turned by r·90° and with plane p taken from plane `src(p, r)`.
 */
function expand(w: Float32Array, out: number, planesIn: number, planesOut: number, k: number, src: (p: number, r: number) => number): Float32Array {
  const kk = k * k;
  const y = new Float32Array(out * 4 * planesOut * kk);
  for (let f = 0; f < out; f++)
    for (let r = 0; r < 4; r++)
      for (let p = 0; p < planesOut; p++) {
        const from = (f * planesIn + src(p, r)) * kk;
        const to = ((f * 4 + r) * planesOut + p) * kk;
        for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) y[to + i * k + j] = w[from + rotSrc(i, j, k, r)];
      }
  return y;
}

function c4Conv(b: GraphBuilder, x: string, name: string, o: C4ConvOptions, weight: string, expanded: (ws: Float32Array) => Float32Array, inCh: number): string {
  const k = o.kernel;
  const w = b.derive(`${name}.weight_c4`, [o.out * 4, inCh, k, k], [weight], ([t]) => expanded(t.data));
  const ins = [x, w];
  if (o.bias ?? true) {
    const bias = b.param(`${name}.bias`, [o.out]);
    ins.push(b.derive(`${name}.bias_c4`, [o.out * 4], [bias], ([t]) => Float32Array.from({ length: o.out * 4 }, (_, i) => t.data[i >> 2])));
  }
  const s = o.stride ?? 1, p = o.pad ?? 0, d = o.dilation ?? 1;
  return b.node('Conv', ins, { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], dilations: [d, d], group: 1 }, 1, name)[0];
}

/**
 * Lifting convolution Z² → p4: an image [N, C, H, W] to a C4 map [N, out·4, H', W'] whose
 * channel f·4 + r is the correlation with filter f turned r·90° counter-clockwise.
 * Weights: `${name}.weight` [out, C, k, k] and `${name}.bias` [out] (shared by orientations).
 */
export function liftC4(b: GraphBuilder, x: string, name: string, o: C4ConvOptions): string {
  const C = b.shape(x)[1];
  const k = o.kernel;
  const weight = b.param(`${name}.weight`, [o.out, C, k, k]);
  return c4Conv(b, x, name, o, weight, (ws) => expand(ws, o.out, C, C, k, (p) => p), C);
}

/**
 * Group convolution p4 → p4: a C4 map [N, in·4, H, W] to [N, out·4, H', W']. Output orientation
 * r uses the filters turned r·90° with their input-orientation axis cyclically shifted by r:
 * W[f·4 + r, g·4 + s] = rot^r(ψ[f, g, (s − r) mod 4]).
 * Weights: `${name}.weight` [out, in, 4, k, k] and `${name}.bias` [out].
 */
export function groupConvC4(b: GraphBuilder, x: string, name: string, o: C4ConvOptions): string {
  const C = b.shape(x)[1];
  if (C % 4 !== 0) throw new ShapeError(`groupConvC4 '${name}': input has ${C} channels, not a multiple of 4 orientations`);
  const cin = C / 4;
  const k = o.kernel;
  const weight = b.param(`${name}.weight`, [o.out, cin, 4, k, k]);
  // plane p = g·4 + s of the expanded filter reads plane g·4 + (s − r) mod 4 of ψ[f]
  return c4Conv(b, x, name, o, weight, (ws) => expand(ws, o.out, C, C, k, (p, r) => (p & ~3) | ((p - r) & 3)), C);
}

/**
 * Pool a C4 map [N, C·4, H, W] over its four orientations to [N, C, H, W] (max or mean): the
 * result is invariant to the orientation shift, so a 90° turn of the input only turns it.
 */
export function orientationPoolC4(b: GraphBuilder, x: string, kind: 'max' | 'mean' = 'max'): string {
  const [, C4, H, W] = b.shape(x);
  if (C4 % 4 !== 0) throw new ShapeError(`orientationPoolC4: input has ${C4} channels, not a multiple of 4 orientations`);
  const C = C4 / 4;
  // dim 0 as 0 (ONNX: keep the input's): the same graph takes any batch size
  const grouped = b.node('Reshape', [x, b.ints([0, C, 4, H * W])])[0];
  const op = kind === 'max' ? 'ReduceMax' : 'ReduceMean';
  const pooled = b.node(op, [grouped], { axes: [2], keepdims: 0 })[0];
  return b.node('Reshape', [pooled, b.ints([0, C, H, W])])[0];
}

/**
 * A small C4-equivariant classifier for 1x32x32 digits (a P4CNN in the spirit of Cohen & Welling
 * 2016): lifting 5x5 conv, ReLU, 2x2 max pool; p4 5x5 conv, ReLU, 2x2 max pool; p4 3x3 conv,
 * ReLU; max over orientations, global average pool, linear. Its prediction cannot change when
 * the digit is turned by a multiple of 90°. Weights `lift.*`, `gconv1.*`, `gconv2.*`, `fc.*`.
 */
export function c4DigitNet(o: { batch?: number; widths?: [number, number, number]; classes?: number } = {}): GraphBuilder {
  const [a, b2, c] = o.widths ?? [6, 12, 24];
  const b = new GraphBuilderClass();
  let x = b.input('input', [o.batch ?? 1, 1, 32, 32]);
  x = b.maxPool(b.relu(liftC4(b, x, 'lift', { out: a, kernel: 5, pad: 2 })), { kernel: 2 });
  x = b.maxPool(b.relu(groupConvC4(b, x, 'gconv1', { out: b2, kernel: 5, pad: 2 })), { kernel: 2 });
  x = b.relu(groupConvC4(b, x, 'gconv2', { out: c, kernel: 3, pad: 1 }));
  x = b.flatten(b.globalAvgPool(orientationPoolC4(b, x, 'max')));
  b.output(b.linear(x, 'fc', o.classes ?? 10), 'logits');
  return b;
}
