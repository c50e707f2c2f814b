// wasmcnn's image front and back: fromImage (any image → the NCHW tensor a CNN takes, with
// torchvision's resize / crop / normalise in the wasm kernels), label sets, softmax, top-k and
// segmentation maps and overlays, super-resolution (upscale). Browser-safe: nothing here names a node: module (Node's
// decoder, decode-node.ts, is registered by the Node entry through platform.decodeImage).
export { fromImage, fromImages, toRawImage } from './fromImage';
export type { ImageSource, BlobLike, ImageDataLike, DrawableLike } from './fromImage';
export type { ImageOptions } from './preprocess';
export { softmax, topK, segmentationMap, segmentationOverlay, vocPalette } from './postprocess';
export type { Prediction, ClassMap, OverlayOptions } from './postprocess';
export { upscale } from './upscale';
export type { UpscaleResult } from './upscale';
export { labelSet, IMAGENET_LABELS, COCO_LABELS, VOC_LABELS, MNIST_LABELS } from '../labels/index';
export type { LabelSetName } from '../labels/index';
export type { RawImage } from '../runtime/platform';
