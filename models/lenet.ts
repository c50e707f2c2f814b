// LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
// recognition"), with ReLU and max pooling: 32x32 input, conv 5x5 x6, pool, conv 5x5 x16, pool,
// fully connected 120, 84, 10. Names follow torchvision's features/classifier convention.
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import { type CreateModelOptions, type ZooFamily, inputHW } from './registry';
import { base64Bytes } from '../src/runtime/base64';

/**
 * LeNet-5 on a 32x32 grey image (a 28x28 MNIST digit zero-padded by 2; see modelPreprocessing).
 * `inputSize` can only be 32: the first fully connected layer takes the 16x5x5 features that a
 * 32x32 input leaves, so any other size is a ValueError.
 */
export function lenet5(o: CreateModelOptions = {}): GraphBuilder {
  const [H, W] = inputHW(o, 32);
  if (H !== 32 || W !== 32)
    throw new ValueError(
      `lenet5: option inputSize ${H}x${W} is not supported: the classifier takes 16*5*5 features, which only a 32x32 input gives; ` +
        'pad 28x28 MNIST digits by 2 to 32x32 (fromImage(digit, modelPreprocessing(\'lenet5\')) does)',
    );
  const b = new GraphBuilder();
  let x = b.input('input', [o.batch ?? 1, 1, 32, 32]);
  x = b.relu(b.conv(x, 'features.0', { out: 6, kernel: 5 }));
  x = b.maxPool(x, { kernel: 2, stride: 2 });
  x = b.relu(b.conv(x, 'features.3', { out: 16, kernel: 5 }));
  x = b.maxPool(x, { kernel: 2, stride: 2 });
  x = b.flatten(x);
  x = b.relu(b.linear(x, 'classifier.0', 120));
  x = b.relu(b.linear(x, 'classifier.2', 84));
  x = b.linear(x, 'classifier.4', o.numClasses ?? 10);
  b.output(x, 'logits');
  return b;
}

// The bundled weights (240 KB of base64) are a dynamic import: bundlers put them in a chunk of
// their own, loaded by the first createModel('lenet5'), not by every page that imports wasmcnn.
/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const LENET: ZooFamily = {
  lenet5: {
    build: lenet5,
    bundled: async () => base64Bytes((await import('./weights/lenet5.generated')).LENET5_SAFETENSORS_BASE64),
  },
};
