// wasmcnn public API: what every entry exposes (the browser/default entry is this file; the
// node and inline entries set runtime hooks and re-export it). Browser-safe: no node: modules.
export { init } from './runtime/wasm';
export type { InitOptions, WasmSource, WasmFile, SimdLevel } from './runtime/wasm';
export { loadOnnx } from './onnx/load';
export { exportOnnx } from './onnx/export';
export type { ExportOnnxOptions } from './onnx/export';
export type { LoadOnnxOptions } from './onnx/load';
export { floatToBfloat16, floatToHalf, loadSafetensors, saveSafetensors, type SaveDtype, type SaveSafetensorsOptions } from './weights/safetensors';
export type { HasStateDict } from './weights/safetensors';
export { GraphBuilder } from './builder';
export type { ConvOptions, PoolOptions, WeightsSource } from './builder';
export { Model } from './model';
export type { LayerInfo, StepProfile, CompileOptions, RunOptions, Tensor, IntegerTensor, Feeds } from './model';
// The graph IR, named by GraphBuilder.graph, GraphBuilder.node()'s attrs and LoadOnnxOptions.constantInputs.
export type { Graph, Node, ValueInfo, AttrValue, IntTensor, SubGraph, DerivedWeight } from './graph/ir';
export * from '../models/index';
export * from './errors';
export { liftC4, groupConvC4, orientationPoolC4, c4DigitNet } from './equivariant';
export type { C4ConvOptions } from './equivariant';
export { receptiveField, receptiveFieldTable } from './analysis/receptiveField';
export type { ReceptiveField, ReceptiveFieldOptions } from './analysis/receptiveField';
export { convOutputSize } from './analysis/outputSize';
export { syntheticWeights, syntheticInput } from './weights/synthetic';
export { readSource as readBytes } from './io/read';
export type { ByteSource, ReadOptions, ReadBytesOptions, ProgressCallback } from './io/source';
export { setHubTemplate, resolveHubUrl, DEFAULT_HUB_TEMPLATE } from './io/hub';
export * from './image/index';
export * from './detect/index';
export { sgd, adam, adamw, rmsprop, stepLR, cosineLR, warmup } from './train/optim';
export type { Optimizer, SgdOptimizer, AdamOptimizer, RmspropOptimizer, ParamGroup, Schedule } from './train/optim';
export type { TrainStepOptions, Loss } from './train/trainer';
export { fit, accuracy } from './train/fit';
export type { Dataset, FitOptions, FitProgress, EpochResult } from './train/fit';
export { initWeights } from './train/init';
export * from './adapt/index';
export { quantize, type QuantizeOptions } from './quant/api';
export {
  initAugmentation, augmentation, randomAffine, randomRotation, randomHorizontalFlip, randomResizedCrop, colorJitter,
  gaussianNoise, normalize, affine, rotate, hflip, resizedCrop, adjustBrightness, adjustContrast, adjustSaturation, adjustHue,
  addGaussianNoise,
} from './train/augment';
export type {
  Augmentation, AugmentationOptions, DrawnParams, Transform, AffineParams, CropBox, RandomAffineOptions, RandomResizedCropOptions, ColorJitterOptions,
} from './train/augment';
