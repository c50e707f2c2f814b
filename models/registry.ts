// What a zoo family file exports: its model names, how to build each, and which of the optional
// createModel() settings each model honours (the rest are refused by name, see models/index.ts).
import type { DetectorSpec } from '../src/detect/detector';
import type { GraphBuilder, WeightsSource } from '../src/builder';
import type { ByteSource, ReadOptions } from '../src/io/source';
import type { Tensor } from '../src/graph/ir';

/** Attention module a block can carry: squeeze-excitation, CBAM, ECA or coordinate attention (see models/blocks/attention.ts). */
export type Attention = 'se' | 'cbam' | 'eca' | 'coord';

/**
 * Options of createModel() and modelBuilder(). `weights`, `numClasses`, `batch`, `inputSize` and
 * `training` apply to every model (LeNet-5 takes 32x32 only; super-resolution models have no
 * classes); `widthMultiplier`, `resolutionMultiplier`, `attention`, `deploy`, `scale` and `channels` only
 * where the family has them (see each builder's doc). An option a model does not honour is a
 * ValueError naming the model and the option, never silently ignored. `onProgress`, `signal`
 * and `hubTemplate` apply when `weights` is read from a path, URL, hub reference or stream.
 */
export interface CreateModelOptions extends ReadOptions {
  /**
   * The weights: safetensors bytes or a state_dict-keyed map of tensors, or a source to read
   * safetensors from: a local path (Node, Deno, Bun), an http(s)/file/data/blob URL, a hub
   * reference `hf:owner/repo[@revision][/file]` (file default model.safetensors), a fetch
   * Response, a ReadableStream or a Blob. Optional where the zoo bundles weights (lenet5).
   */
  weights?: WeightsSource | ByteSource;
  /** Number of output classes (the size of the last layer). */
  numClasses?: number;
  /** Batch size the model is planned for (default 1). */
  batch?: number;
  /**
   * Input resolution (square or [H, W]); defaults to the model's native size. Detectors take
   * images of any size and read it as their transform's size: SSD's fixed resize (ssdlite320:
   * 320, ssd300_vgg16: 300); RetinaNet's and FCOS's min_size (a number, max_size staying 1333)
   * or [min_size, max_size] (default [800, 1333]). `'dynamic'`: the
   * model runs on any batch and height x width given to run() (planned per shape and cached,
   * first planned at the native size); refused by models whose graph depends on the input size
   * (a classifier's adaptive pool built for one feature-map size, LeNet-5's fixed classifier).
   */
  inputSize?: number | [number, number] | 'dynamic';
  /** With `inputSize: 'dynamic'`: input shapes kept planned at once (default 4, CompileOptions.planCache). */
  planCache?: number;
  /** How GEMM weights are stored in wasm memory: 'float32' (default) or 'float16' (CompileOptions.weightStorage). */
  weightStorage?: 'float32' | 'float16';
  /**
   * Channel width multiplier where the family has one, with its reference's rounding: MobileNet
   * V1-V4, EfficientNet B0-B7 (times the width coefficient) and timm's tf_efficientnetv2_b*,
   * GhostNet (times its width), ShuffleNet V1 (the paper's "s×"). Refused, with the reason, by
   * the families whose reference defines no such rounding (ResNet, ShuffleNet V2, ...).
   */
  widthMultiplier?: number;
  /**
   * Resolution multiplier ρ of the MobileNet V1 paper (section 3.3): the input is
   * round(224·ρ) square (ρ = 6/7, 5/7, 4/7 give 192, 160, 128). Only MobileNet V1 defines it;
   * not with inputSize.
   */
  resolutionMultiplier?: number;
  /**
   * Attention module in each block where the family's block has a slot for it (timm's module
   * defaults, see attentionModule): ResNets (after the block's last BN, `layerI.J.se.*`),
   * MobileNet V2 (after the depthwise conv, `features.i.se.*`), DenseNets (after each dense layer's
   * 3x3 conv, `…denselayerL.se.*`), VGG (at each stage end, before the pool, `stages.s.se.*`).
   * Where the reference already has squeeze-excitation (MobileNet V3, EfficientNet B0–B7 and V2,
   * tf_efficientnetv2) 'se' is the reference itself and another module replaces each SE at its
   * state_dict slot. Refused, naming the model, by every other family.
   */
  attention?: Attention;
  /** Build the inference form of re-parameterisable models (RepVGG: one 3x3 conv per block). */
  deploy?: boolean;
  /**
   * Build the training form, from the same weights: Dropout where the reference has nn.Dropout
   * (AlexNet, VGG, MobileNet V2/V3, EfficientNet, GoogLeNet), DropPath (stochastic depth, mode
   * 'row') with the reference's per-block rates (torchvision EfficientNet, ConvNeXt), GoogLeNet's
   * auxiliary classifiers as extra outputs `aux2`, `aux1` after `logits` (torchvision's order) (their aux1.* / aux2.*
   * weights then required), RepVGG's multi-branch blocks (its default form; not with `deploy`).
   * These parts act only in trainStep() in train() mode: run() and eval() compute the inference
   * function. A model without training-only parts builds the same graph. Default false.
   */
  training?: boolean;
  /** Up-scaling factor of the super-resolution models (espcn, fsrcnn): 2, 3 or 4 (default 3). */
  scale?: 2 | 3 | 4;
  /** Image channels of the super-resolution models: 1 (the Y of YCbCr, default) or 3 (RGB). */
  channels?: 1 | 3;
}

/** The options that only some families honour. */
export type FamilyOption = 'widthMultiplier' | 'resolutionMultiplier' | 'attention' | 'deploy' | 'scale' | 'channels';

/** @internal One model of the zoo registry: how to build it and what it honours. */
export interface ZooEntry {
  /** Builds the network for these options (weights are bound by createModel). */
  build(o: CreateModelOptions): GraphBuilder;
  /** Weights shipped with the package, if any (loaded on demand). */
  bundled?(): Uint8Array | Promise<Uint8Array>;
  /** The family-specific options this model honours (every other one is refused). */
  supports?: readonly FamilyOption[];
  /** Why this model refuses a family option, where the reason is worth telling (shown in the ValueError). */
  refuses?: Partial<Record<FamilyOption, string>>;
  /**
   * Detectors: the post-processing model.detect() runs, for the network built with these
   * options and the weights bound to it (a detector may build a second network on them, as Faster
   * R-CNN's box head). A detector takes images of any size (its transform resizes them).
   */
  detector?(o: CreateModelOptions, b: GraphBuilder, weights: Map<string, Tensor>): DetectorSpec | Promise<DetectorSpec>;
}

/** @internal A family file's models by name. */
export type ZooFamily = Record<string, ZooEntry>;

/** [H, W] from the inputSize option or the model's default. */
export function inputHW(o: CreateModelOptions, dflt: number): [number, number] {
  // 'dynamic' is resolved by models/index.ts (built at the native size) before a family builds
  const s = o.inputSize === undefined || o.inputSize === 'dynamic' ? dflt : o.inputSize;
  return typeof s === 'number' ? [s, s] : [s[0], s[1]];
}
