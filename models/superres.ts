// Single-image super-resolution: a low-resolution image [N, C, H, W] in, the same image r times
// larger [N, C, H·r, W·r] out (r = `scale`: 2, 3 or 4), on the Y channel of YCbCr by default
// (`channels: 1`, as both papers train and evaluate) or on RGB (`channels: 3`).
//   ESPCN (Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution Using an Efficient
//       Sub-Pixel Convolutional Neural Network"): every layer works at the low resolution; the last
//       conv makes C·r² channels that the periodic shuffle (PixelShuffle, ONNX DepthToSpace CRD)
//       rearranges into the r-times larger image. conv 5x5 (64) + tanh, conv 3x3 (32) + tanh,
//       conv 3x3 (C·r²), PixelShuffle(r).
//   FSRCNN (Dong, Loy & Tang 2016, "Accelerating the Super-Resolution Convolutional Neural
//       Network"): feature extraction conv 5x5 (d = 56) + PReLU, shrinking 1x1 (s = 12) + PReLU,
//       m = 4 mapping convs 3x3 (s) + PReLU, expanding 1x1 (d) + PReLU, then a 9x9 deconvolution
//       (transposed conv) with stride r, padding 4, output padding r − 1 up-samples to H·r x W·r.
//       PReLU slopes are per channel.
// No pretrained weights ship (torchvision has none): createModel needs `weights`. The reference
// modules are tools/zoo/superres.py's ESPCN and FSRCNN, whose state_dict names these builders
// declare (they are those of the widely used ESPCN-pytorch / FSRCNN-pytorch layouts):
//   espcn:  first_part.0 (conv 5x5), first_part.2 (conv 3x3), last_part.0 (conv 3x3 to C·r²)
//   fsrcnn: first_part.0 (conv 5x5) + first_part.1 (PReLU); mid_part.0 (1x1 shrink) + mid_part.1;
//           mid_part.2k (3x3) + mid_part.2k+1 for k = 1..4; mid_part.10 (1x1 expand) +
//           mid_part.11; last_part (ConvTranspose2d, weight [d, C, 9, 9])
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import { type CreateModelOptions, inputHW, type ZooFamily } from './registry';

/** Side of the square low-resolution input a model is planned for when `inputSize` is not given. */
const NATIVE = 256;

/** The input, the scale and the channels of a super-resolution model; numClasses is refused (the output is an image). */
function start(name: string, o: CreateModelOptions): { b: GraphBuilder; x: string; r: number; C: number } {
  if (o.numClasses !== undefined)
    throw new ValueError(`${name}: option numClasses is not supported (a super-resolution model outputs an image with the input's channels; see the channels option)`);
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, NATIVE);
  const C = o.channels ?? 1;
  return { b, x: b.input('input', [o.batch ?? 1, C, H, W]), r: o.scale ?? 3, C };
}

/** nn.PReLU(C): per-channel slope `${p}.weight` [C], broadcast over the map as [C, 1, 1]. */
function prelu(b: GraphBuilder, x: string, p: string): string {
  const C = b.shape(x)[1];
  const w = b.param(`${p}.weight`, [C]);
  const slope = b.derive(`${p}.weight:chw`, [C, 1, 1], [w], ([t]) => t.data);
  return b.node('PRelu', [x, slope])[0];
}

/**
 * ESPCN (Shi et al. 2016): conv 5x5 64 + tanh, conv 3x3 32 + tanh, conv 3x3 to C·r², pixel
 * shuffle. Options: `scale` r (2, 3 or 4; default 3), `channels` (1 = Y, default; 3 = RGB),
 * `inputSize` (the low-resolution size; default 256), `batch`. Output [N, C, H·r, W·r].
 */
export function espcn(o: CreateModelOptions = {}): GraphBuilder {
  const { b, x: input, r, C } = start('espcn', o);
  let x = b.act('Tanh', b.conv(input, 'first_part.0', { out: 64, kernel: 5, pad: 2 }));
  x = b.act('Tanh', b.conv(x, 'first_part.2', { out: 32, kernel: 3, pad: 1 }));
  x = b.conv(x, 'last_part.0', { out: C * r * r, kernel: 3, pad: 1 });
  b.output(b.pixelShuffle(x, r), 'out');
  return b;
}

/** FSRCNN's layer sizes (Dong et al. 2016, the paper's FSRCNN(d, s, m) = (56, 12, 4)). */
const FSRCNN_D = 56; // feature extraction and expanding width d
const FSRCNN_S = 12; // shrinking / mapping width s
const FSRCNN_M = 4; //  mapping layers m

/**
 * FSRCNN(56, 12, 4) (Dong et al. 2016): conv 5x5 d + PReLU, 1x1 s + PReLU, m × (3x3 s + PReLU),
 * 1x1 d + PReLU, 9x9 transposed conv with stride r (padding 4, output padding r − 1). Options as
 * {@link espcn}. Output [N, C, H·r, W·r].
 */
export function fsrcnn(o: CreateModelOptions = {}): GraphBuilder {
  const { b, x: input, r, C } = start('fsrcnn', o);
  const convAct = (v: string, i: string, j: string, out: number, kernel: number) =>
    prelu(b, b.conv(v, i, { out, kernel, pad: (kernel - 1) / 2 }), j);
  let x = convAct(input, 'first_part.0', 'first_part.1', FSRCNN_D, 5);
  x = convAct(x, 'mid_part.0', 'mid_part.1', FSRCNN_S, 1);
  for (let k = 1; k <= FSRCNN_M; k++) x = convAct(x, `mid_part.${2 * k}`, `mid_part.${2 * k + 1}`, FSRCNN_S, 3);
  const e = 2 * FSRCNN_M + 2;
  x = convAct(x, `mid_part.${e}`, `mid_part.${e + 1}`, FSRCNN_D, 1);
  const w = b.param('last_part.weight', [FSRCNN_D, C, 9, 9]);
  const bias = b.param('last_part.bias', [C]);
  const y = b.node('ConvTranspose', [x, w, bias], {
    kernel_shape: [9, 9], strides: [r, r], pads: [4, 4, 4, 4], output_padding: [r - 1, r - 1],
  }, 1, 'last_part')[0];
  b.output(y, 'out');
  return b;
}

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const SUPERRES: ZooFamily = {
  espcn: { build: espcn, supports: ['scale', 'channels'] },
  fsrcnn: { build: fsrcnn, supports: ['scale', 'channels'] },
};
