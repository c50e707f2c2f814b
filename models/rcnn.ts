// Faster R-CNN with a Feature Pyramid Network (Ren et al. 2015, "Faster R-CNN: Towards Real-Time
// Object Detection with Region Proposal Networks"; Lin et al. 2017, "Feature Pyramid Networks for
// Object Detection", section 4), as torchvision 0.14 builds fasterrcnn_resnet50_fpn,
// fasterrcnn_mobilenet_v3_large_fpn and fasterrcnn_mobilenet_v3_large_320_fpn (weight names are
// its state_dict keys):
//   backbone.body  ResNet-50 (layer1..layer4, BatchNorm eps 1e-5: FrozenBatchNorm2d with
//                  pretrained weights, BatchNorm2d without, both 1e-5 in 0.14) or MobileNet V3
//                  Large `features` (BatchNorm eps 1e-5 likewise; mobilenet_backbone(fpn=True)
//                  returns features.13, the last strided bneck, and features.16, the last 1x1
//                  conv: two maps at stride 32);
//   backbone.fpn   FeaturePyramidNetwork with LastLevelMaxPool (models/detection.ts);
//   rpn.head       RPNHead: a shared 3x3 conv + ReLU, then 1x1 convs to A objectness logits and
//                  4A box deltas per level, flattened as torchvision's concat_box_prediction_layers;
//   roi_heads      TwoMLPHead (fc6, fc7 with ReLU) and FastRCNNPredictor (cls_score, bbox_pred):
//                  a second, small network over the RoIAligned proposals (fasterRcnnBoxHead).
// The first network takes the transformed batch (normalised, resized, padded to multiples of 32:
// src/detect/rcnn.ts does it on the host) at any size; proposals, MultiScaleRoIAlign, box decoding
// and NMS run between and after the two networks in src/detect (model.detect()).
import { GraphBuilder } from '../src/builder';
import type { Tensor } from '../src/graph/ir';
import { detectFasterRcnn, type FasterRcnnSpec } from '../src/detect/rcnn';
import { ValueError } from '../src/errors';
import { featurePyramid, perAnchor } from './detection';
import { mobilenetV3Features } from './mobilenet';
import type { CreateModelOptions, ZooFamily } from './registry';
import { resnetFeatures } from './resnet';

/** The builder settings of one torchvision Faster R-CNN (its eval-mode defaults). */
interface RcnnConfig {
  backbone: 'resnet50' | 'mobilenet_v3_large';
  /** GeneralizedRCNNTransform's min_size and max_size. */
  minSize: number;
  maxSize: number;
  /** rpn_pre_nms_top_n_test, rpn_post_nms_top_n_test, rpn_score_thresh. */
  preNmsTopN: number;
  postNmsTopN: number;
  rpnScoreThresh: number;
}

// torchvision 0.14's builders: FasterRCNN's defaults plus each builder's overrides
const CONFIGS: Record<string, RcnnConfig> = {
  fasterrcnn_resnet50_fpn: { backbone: 'resnet50', minSize: 800, maxSize: 1333, preNmsTopN: 1000, postNmsTopN: 1000, rpnScoreThresh: 0 },
  fasterrcnn_mobilenet_v3_large_fpn: { backbone: 'mobilenet_v3_large', minSize: 800, maxSize: 1333, preNmsTopN: 1000, postNmsTopN: 1000, rpnScoreThresh: 0.05 },
  fasterrcnn_mobilenet_v3_large_320_fpn: { backbone: 'mobilenet_v3_large', minSize: 320, maxSize: 640, preNmsTopN: 150, postNmsTopN: 150, rpnScoreThresh: 0.05 },
};

/** FPN channels and the RoIAlign output of torchvision's FasterRCNN. */
const FPN_CHANNELS = 256;
const ROI_SIZE = 7;

/** min_size and max_size from the inputSize option: a number is min_size, a pair [min_size, max_size]. */
function sizes(o: CreateModelOptions, c: RcnnConfig, name: string): [number, number] {
  const s = o.inputSize;
  if (s === undefined) return [c.minSize, c.maxSize];
  if (s === 'dynamic') throw new ValueError(`${name}: inputSize 'dynamic' does not apply (a detector takes images of any size)`);
  return typeof s === 'number' ? [s, c.maxSize] : [s[0], s[1]];
}

/** Options of {@link rpnHead}. */
export interface RpnHeadOptions {
  /** Anchors per location (default 3: one size, three aspect ratios, as the ResNet-50 FPN model). */
  anchors?: number;
}

/** The values an RPN head adds to the graph, one per pyramid level, finest first. */
export interface RpnHeadOutputs {
  /** Objectness logits [N, H, W, A] per level (torchvision's order: row-major pixels, anchor fastest). */
  objectness: string[];
  /** Box deltas [N, H*W*A, 4] per level, against the level's anchors. */
  deltas: string[];
}

/**
 * torchvision's RPNHead on pyramid `levels` (weights under `prefix`, e.g. 'rpn.head.'): one 3x3
 * conv + ReLU shared by every level, then 1x1 convs to the objectness logits and box deltas.
 */
export function rpnHead(b: GraphBuilder, levels: string[], prefix: string, o: RpnHeadOptions = {}): RpnHeadOutputs {
  const A = o.anchors ?? 3;
  const out: RpnHeadOutputs = { objectness: [], deltas: [] };
  levels.forEach((x, l) => {
    const C = b.shape(x)[1];
    const t = b.relu(b.conv(x, `${prefix}conv.0.0`, { out: C, kernel: 3, pad: 1, node: `${prefix}conv.0.0@${l}` }));
    const logits = b.conv(t, `${prefix}cls_logits`, { out: A, kernel: 1, node: `${prefix}cls_logits@${l}` });
    out.objectness.push(b.node('Transpose', [logits], { perm: [0, 2, 3, 1] })[0]);
    out.deltas.push(perAnchor(b, b.conv(t, `${prefix}bbox_pred`, { out: 4 * A, kernel: 1, node: `${prefix}bbox_pred@${l}` }), 4));
  });
  return out;
}

/**
 * torchvision's TwoMLPHead and FastRCNNPredictor (weights under `prefix`, e.g. 'roi_heads.') on
 * `rows` RoIAligned proposals [rows, channels·7·7]: outputs 'class_logits' [rows, classes] and
 * 'box_regression' [rows, classes·4].
 */
export function fasterRcnnBoxHead(rows: number, prefix: string, o: { channels?: number; classes?: number; representation?: number } = {}): GraphBuilder {
  const b = new GraphBuilder();
  const K = o.classes ?? 91;
  const R = o.representation ?? 1024;
  let x = b.input('rois', [rows, (o.channels ?? FPN_CHANNELS) * ROI_SIZE * ROI_SIZE]);
  x = b.relu(b.linear(x, `${prefix}box_head.fc6`, R));
  x = b.relu(b.linear(x, `${prefix}box_head.fc7`, R));
  b.output(b.linear(x, `${prefix}box_predictor.cls_score`, K), 'class_logits');
  b.output(b.linear(x, `${prefix}box_predictor.bbox_pred`, 4 * K), 'box_regression');
  return b;
}

/**
 * The first network of a Faster R-CNN: backbone, FPN and RPN head on the transformed batch
 * 'images' [N, 3, H, W] (normalised, resized, sides multiples of 32). Outputs per pyramid level l
 * 'objectness.l' and 'deltas.l' (RPN), and 'features.l' for the levels RoIAlign reads.
 */
function fasterRcnn(name: string, o: CreateModelOptions): GraphBuilder {
  const c = CONFIGS[name];
  const [minSize] = sizes(o, c, name);
  const b = new GraphBuilder();
  b.ignoreWeights(/^roi_heads\./); // the box head's weights: bound to the second network
  // planned first at min_size (padded): any other size is planned when it arrives
  const side = Math.ceil(minSize / 32) * 32;
  const x = b.input('images', [o.batch ?? 1, 3, side, side]);
  let maps: string[];
  if (c.backbone === 'resnet50') maps = resnetFeatures(b, x, 'resnet50', { prefix: 'backbone.body.' });
  else {
    const f = mobilenetV3Features(b, x, 'large', { prefix: 'backbone.body', eps: 1e-5 });
    maps = [f[13], f[16]];
  }
  const levels = featurePyramid(b, maps, 'backbone.fpn.', { channels: FPN_CHANNELS, extra: 'maxpool' });
  const rpn = rpnHead(b, levels, 'rpn.head.', { anchors: c.backbone === 'resnet50' ? 3 : 15 });
  levels.forEach((_, l) => {
    b.output(rpn.objectness[l], `objectness.${l}`);
    b.output(rpn.deltas[l], `deltas.${l}`);
  });
  // MultiScaleRoIAlign's maps '0'..'3' (the pool level is not one); the MobileNet pyramid's two
  // maps have the same stride, so LevelMapper sends every box to the first
  const roi = c.backbone === 'resnet50' ? levels.slice(0, 4) : levels.slice(0, 1);
  roi.forEach((v, l) => b.output(v, `features.${l}`));
  return b;
}

/** The detector settings of a built Faster R-CNN, with its box head built on `weights`. */
async function spec(name: string, o: CreateModelOptions, b: GraphBuilder, weights: Map<string, Tensor>): Promise<FasterRcnnSpec> {
  const c = CONFIGS[name];
  const [minSize, maxSize] = sizes(o, c, name);
  const classes = o.numClasses ?? 91;
  const head = fasterRcnnBoxHead(c.postNmsTopN, 'roi_heads.', { classes });
  const own = new Map([...weights].filter(([k]) => k.startsWith('roi_heads.')));
  const boxHead = await head.build(own);
  const levels = b.graph.outputs.filter((v) => v.name.startsWith('objectness.')).length;
  const mobile = c.backbone !== 'resnet50';
  return {
    kind: 'fasterrcnn',
    minSize,
    maxSize,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    sizeDivisible: 32,
    anchors: mobile
      ? { sizes: Array(levels).fill([32, 64, 128, 256, 512]), aspectRatios: Array(levels).fill([0.5, 1, 2]) }
      : { sizes: [[32], [64], [128], [256], [512]], aspectRatios: Array(levels).fill([0.5, 1, 2]) },
    levels,
    roiLevels: b.graph.outputs.filter((v) => v.name.startsWith('features.')).length,
    preNmsTopN: c.preNmsTopN,
    postNmsTopN: c.postNmsTopN,
    rpnNmsThreshold: 0.7,
    rpnScoreThreshold: c.rpnScoreThresh,
    boxHead,
    classes,
    scoreThreshold: 0.05,
    iouThreshold: 0.5,
    maxDetections: 100,
    run: detectFasterRcnn,
    dispose: () => boxHead.dispose(),
  };
}

/**
 * Faster R-CNN ResNet-50 FPN (torchvision `fasterrcnn_resnet50_fpn`). `inputSize` is the
 * transform's min_size (default 800; max_size stays 1333) or [min_size, max_size]. The network's
 * input is the transformed batch; `model.detect(image)` does the transform, both stages and the
 * post-processing, returning boxes in the image's pixels.
 */
export function fasterrcnn_resnet50_fpn(o: CreateModelOptions = {}): GraphBuilder {
  return fasterRcnn('fasterrcnn_resnet50_fpn', o);
}

/** Faster R-CNN MobileNet V3 Large FPN (torchvision `fasterrcnn_mobilenet_v3_large_fpn`): min_size 800, max_size 1333 by default; see {@link fasterrcnn_resnet50_fpn}. */
export function fasterrcnn_mobilenet_v3_large_fpn(o: CreateModelOptions = {}): GraphBuilder {
  return fasterRcnn('fasterrcnn_mobilenet_v3_large_fpn', o);
}

/** Faster R-CNN MobileNet V3 Large 320 FPN (torchvision `fasterrcnn_mobilenet_v3_large_320_fpn`): min_size 320, max_size 640, 150 proposals; see {@link fasterrcnn_resnet50_fpn}. */
export function fasterrcnn_mobilenet_v3_large_320_fpn(o: CreateModelOptions = {}): GraphBuilder {
  return fasterRcnn('fasterrcnn_mobilenet_v3_large_320_fpn', o);
}

const entry = (name: string, build: (o?: CreateModelOptions) => GraphBuilder) => ({
  build,
  detector: (o: CreateModelOptions, b: GraphBuilder, weights: Map<string, Tensor>) => spec(name, o, b, weights),
});

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const RCNN: ZooFamily = {
  fasterrcnn_resnet50_fpn: entry('fasterrcnn_resnet50_fpn', fasterrcnn_resnet50_fpn),
  fasterrcnn_mobilenet_v3_large_fpn: entry('fasterrcnn_mobilenet_v3_large_fpn', fasterrcnn_mobilenet_v3_large_fpn),
  fasterrcnn_mobilenet_v3_large_320_fpn: entry('fasterrcnn_mobilenet_v3_large_320_fpn', fasterrcnn_mobilenet_v3_large_320_fpn),
};
