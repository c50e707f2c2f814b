// Detection building blocks (issue 15): non-maximum suppression and the YOLO raw-head decoder,
// RoIAlign and its FPN multi-scale form, anchors (AnchorGenerator, SSD default boxes), box coding
// and box utilities, each equal to torchvision 0.14. Nothing in the model or loader code imports
// this folder, so `import { init, loadOnnx }` bundles none of it.
export { nonMaxSuppression } from './nms';
export type { NmsOptions } from './nms';
export type { BoxesInput } from './args';
export { decodeYoloHead } from './yolo';
export type { Detections, YoloDecodeOptions } from './yolo';
export { roiAlign } from './roiAlign';
export type { RoiAlignOptions, RoisInput } from './roiAlign';
export { multiScaleRoIAlign } from './multiScale';
export type { MultiScaleRoIAlignOptions } from './multiScale';
export { baseAnchors, gridAnchors, defaultBoxes, SSDLITE320_DEFAULT_BOXES, SSD300_DEFAULT_BOXES } from './anchors';
export type { AnchorOptions, DefaultBoxOptions } from './anchors';
export { decodeBoxes, decodeBoxesLinear, clipBoxesToImage, removeSmallBoxes, BBOX_XFORM_CLIP } from './boxes';
export type { BoxCoderOptions, BoxLinearCoderOptions } from './boxes';
export { ssdDetections } from './ssd';
export type { SsdPostprocessOptions } from './ssd';
export { denseDetections } from './dense';
export type { DensePostprocessOptions } from './dense';
export { generalizedRcnnTransform, minMaxResizedSize } from './transform';
export type { RcnnTransformOptions, RcnnTransformed } from './transform';
export type { DetectOptions } from './detector';
export { rpnProposals } from './rpn';
export type { RpnOptions, Proposals } from './rpn';
