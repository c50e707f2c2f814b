// Label sets as data: class names indexed by a model's output class id. ImageNet-1k, COCO
// (torchvision's 91-entry detection numbering) and Pascal VOC come from torchvision 0.14's
// metadata through tools/write_labels.py; MNIST is the digits '0'..'9'.
import { ValueError } from '../errors';
import { COCO_LABELS } from './coco';
import { IMAGENET_LABELS } from './imagenet';
import { VOC_LABELS } from './voc';

export { COCO_LABELS, IMAGENET_LABELS, VOC_LABELS };

/** MNIST classes: the digits '0' .. '9' (LeNet-5's outputs). */
export const MNIST_LABELS: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Names `labelSet` knows. */
export type LabelSetName = 'imagenet' | 'coco' | 'voc' | 'mnist';

/**
 * The class names of a label set by name: 'imagenet' (1000), 'coco' (91, with '__background__'
 * and 'N/A' as torchvision numbers them), 'voc' (21, with '__background__'), 'mnist' (10).
 * Throws a ValueError for any other name.
 */
export function labelSet(name: LabelSetName): readonly string[] {
  switch (name) {
    case 'imagenet':
      return IMAGENET_LABELS;
    case 'coco':
      return COCO_LABELS;
    case 'voc':
      return VOC_LABELS;
    case 'mnist':
      return MNIST_LABELS;
    default:
      throw new ValueError(`unknown label set '${String(name)}': expected 'imagenet', 'coco', 'voc' or 'mnist'`);
  }
}
