// Output size of a convolution or pooling window along one axis: Dumoulin & Visin 2016, "A guide
// to convolution arithmetic for deep learning", relationship 15 (with dilation, section 5.1):
//     o = floor((i + 2p − d·(k − 1) − 1) / s) + 1
// the same formula PyTorch documents for nn.Conv2d and nn.MaxPool2d (ceil_mode=False).
import { ValueError } from '../errors';

/**
 * The output size of a convolution or pooling layer along one spatial axis:
 * floor((input + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1.
 * LeNet-5: convOutputSize(32, 5) = 28, convOutputSize(28, 2, 2) = 14; AlexNet's first layer:
 * convOutputSize(224, 11, 4, 2) = 55.
 *
 * @param input input size (pixels along the axis)
 * @param kernel kernel (window) size
 * @param stride step between windows (default 1)
 * @param padding zeros added on each side (default 0)
 * @param dilation spacing between kernel taps (default 1)
 * @throws ValueError when an argument is not a whole number in range, or the dilated kernel is
 *   larger than the padded input (no output position).
 */
export function convOutputSize(input: number, kernel: number, stride = 1, padding = 0, dilation = 1): number {
  const args = { input, kernel, stride, padding, dilation };
  for (const [k, v] of Object.entries(args))
    if (!Number.isSafeInteger(v) || v < (k === 'padding' ? 0 : 1))
      throw new ValueError(`convOutputSize: ${k} must be a ${k === 'padding' ? 'non-negative' : 'positive'} integer, got ${v}`);
  const span = dilation * (kernel - 1) + 1;
  if (span > input + 2 * padding)
    throw new ValueError(`convOutputSize: the dilated kernel spans ${span} pixels, more than the padded input's ${input + 2 * padding}`);
  return Math.floor((input + 2 * padding - span) / stride) + 1;
}
