// Object detection building blocks, as torchvision 0.14 defines them (weight names are its
// state_dict keys under the prefix given):
//   Feature Pyramid Network (Lin et al. 2017, "Feature Pyramid Networks for Object Detection"),
//       torchvision.ops.FeaturePyramidNetwork: a 1x1 lateral conv per backbone stage
//       (`inner_blocks.<i>.0`), a top-down path that up-samples the coarser merged map by
//       nearest neighbour to the lateral's size and adds it, and a 3x3 conv per level
//       (`layer_blocks.<i>.0`); extra levels by LastLevelMaxPool (max pool, kernel 1, stride 2,
//       on the last output) or LastLevelP6P7 (RetinaNet: 3x3 stride-2 convs `extra_blocks.p6`,
//       then ReLU and `extra_blocks.p7`). Deep low-resolution features up-sampled and fused with
//       shallow ones: every level sees both what and where.
//   SSDLite (Sandler et al. 2018, "MobileNetV2", section 6.2; Howard et al. 2019,
//       "Searching for MobileNetV3", section 6.3), torchvision ssdlite320_mobilenet_v3_large:
//       MobileNet V3 Large with reduced tail, tapped at the C4 bneck's expansion conv (stride 16)
//       and at the last 1x1 conv (stride 32), four extra blocks (1x1 conv, depthwise 3x3 stride
//       2, 1x1 conv, each with BN and ReLU6) and per-level prediction blocks (depthwise 3x3 +
//       BN + ReLU6, then a 1x1 conv with bias), BN eps 0.001 throughout.
//   RetinaNet head (Lin et al. 2017, "Focal Loss for Dense Object Detection"),
//       torchvision RetinaNetHead: one classification and one box-regression subnet (four 3x3
//       conv + ReLU, then a 3x3 conv to anchors x classes or anchors x 4) shared by every level,
//       whose outputs are laid out as torchvision does: [N, sum over levels of H*W*A, K], the
//       anchor index fastest within a pixel, pixels in row-major order, levels concatenated.
import { GraphBuilder } from '../src/builder';
import { SSDLITE320_DEFAULT_BOXES } from '../src/detect/anchors';
import { detectImages } from '../src/detect/detector';
import { ValueError } from '../src/errors';
import { convBnAct } from './layers';
import { mobilenetV3Features } from './mobilenet';
import { type CreateModelOptions, inputHW, type ZooFamily } from './registry';

/** Extra pyramid levels after the backbone's: none, P6 by max pool (Faster R-CNN, FCOS), or P6 and P7 by strided convs (RetinaNet). */
export type FpnExtra = 'none' | 'maxpool' | 'p6p7';

/** Options of {@link featurePyramid}. */
export interface FeaturePyramidOptions {
  /** Channels of every pyramid level (default 256). */
  channels?: number;
  /** Extra levels (default 'none'). */
  extra?: FpnExtra;
  /**
   * For 'p6p7': P6 is computed from P5 (torchvision's LastLevelP6P7 when its in_channels equals
   * the pyramid's, as in retinanet_resnet50_fpn), else from the last backbone map C5.
   */
  p6FromP5?: boolean;
  /**
   * Up-sample the top-down path by the build-time ratio of the two maps' sizes (Resize scales, an
   * integer ratio) instead of to the lateral's size: equal to F.interpolate(size=lateral) at every
   * input size whose sides are multiples of the coarsest stride (Faster R-CNN pads its batch to
   * multiples of 32), where the graph then takes any such size. Default false.
   */
  upsampleByScale?: boolean;
}

/**
 * torchvision's FeaturePyramidNetwork (plus its extra block) on backbone maps `features`, finest
 * first; weights under `prefix` (e.g. 'backbone.fpn.'). Returns the pyramid levels, finest first.
 */
export function featurePyramid(b: GraphBuilder, features: string[], prefix: string, o: FeaturePyramidOptions = {}): string[] {
  if (features.length === 0) throw new ValueError('featurePyramid: no backbone features');
  const ch = o.channels ?? 256;
  const last = features.length - 1;
  const lateral = (i: number) => b.conv(features[i], `${prefix}inner_blocks.${i}.0`, { out: ch, kernel: 1 });
  const output = (x: string, i: number) => b.conv(x, `${prefix}layer_blocks.${i}.0`, { out: ch, kernel: 3, pad: 1 });
  let inner = lateral(last);
  const levels = [output(inner, last)];
  for (let i = last - 1; i >= 0; i--) {
    const l = lateral(i);
    const [N, C, H, W] = b.shape(l);
    // F.interpolate(size=(H, W), mode='nearest'): source index floor(dst * in / out)
    const nearest = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
    let up: string;
    if (o.upsampleByScale) {
      const [, , h, w] = b.shape(inner);
      if (H % h !== 0 || W % w !== 0)
        throw new ValueError(`featurePyramid: upsampleByScale needs each map's size to be a multiple of the next coarser one's, got ${H}x${W} over ${h}x${w} (pad the input to a multiple of the coarsest stride)`);
      up = b.node('Resize', [inner, '', b.constant([1, 1, H / h, W / w], [4])], nearest)[0];
    } else up = b.node('Resize', [inner, '', '', b.ints([N, C, H, W])], nearest)[0];
    inner = b.add(l, up);
    levels.unshift(output(inner, i));
  }
  const extra = o.extra ?? 'none';
  if (extra === 'maxpool') levels.push(b.maxPool(levels[levels.length - 1], { kernel: 1, stride: 2 }));
  else if (extra === 'p6p7') {
    const p6 = b.conv(o.p6FromP5 ? levels[levels.length - 1] : features[last], `${prefix}extra_blocks.p6`, { out: ch, kernel: 3, stride: 2, pad: 1 });
    const p7 = b.conv(b.relu(p6), `${prefix}extra_blocks.p7`, { out: ch, kernel: 3, stride: 2, pad: 1 });
    levels.push(p6, p7);
  }
  return levels;
}

/** Options of {@link retinaNetHead}. */
export interface RetinaNetHeadOptions {
  /** Anchors per location (default 9: three sizes by three aspect ratios). */
  anchors?: number;
  /** Classes, background included as torchvision counts them (default 91, COCO). */
  classes?: number;
}

/**
 * @internal [N, A*K, H, W] per level to [N, H*W*A, K] (torchvision's view(N, A, K, H, W).permute(0, 3, 4,
 * 1, 2).reshape(N, -1, K)), as a transpose to channels-last and a reshape.
 */
export function perAnchor(b: GraphBuilder, x: string, k: number): string {
  const t = b.node('Transpose', [x], { perm: [0, 2, 3, 1] })[0];
  // [0, -1, k]: the batch as it comes (a detector's batch may change between runs)
  return b.node('Reshape', [t, b.ints([0, -1, k])])[0];
}

/** One subnet of the head: four 3x3 conv + ReLU and a last 3x3 conv, on every level with the same weights. */
function subnet(b: GraphBuilder, levels: string[], p: string, last: string, out: number, k: number): string {
  const per = levels.map((x, l) => {
    const C = b.shape(x)[1];
    let y = x;
    for (let i = 0; i < 4; i++) y = b.relu(b.conv(y, `${p}.conv.${i}.0`, { out: C, kernel: 3, pad: 1, node: `${p}.conv.${i}.0@${l}` }));
    return perAnchor(b, b.conv(y, `${p}.${last}`, { out, kernel: 3, pad: 1, node: `${p}.${last}@${l}` }), k);
  });
  return per.length === 1 ? per[0] : b.concat(per, 1);
}

/** The values a detection head adds to the graph. */
export interface DetectionHeadOutputs {
  /** Class logits [N, sum over levels of H*W*A, classes]. */
  logits: string;
  /** Box deltas [N, sum over levels of H*W*A, 4], to be decoded against the anchors. */
  boxes: string;
}

/** torchvision's RetinaNetHead on pyramid `levels` (weights under `prefix`, e.g. 'head.'). */
export function retinaNetHead(b: GraphBuilder, levels: string[], prefix: string, o: RetinaNetHeadOptions = {}): DetectionHeadOutputs {
  const A = o.anchors ?? 9;
  const K = o.classes ?? 91;
  return {
    logits: subnet(b, levels, `${prefix}classification_head`, 'cls_logits', A * K, K),
    boxes: subnet(b, levels, `${prefix}regression_head`, 'bbox_reg', A * 4, 4),
  };
}

/** BatchNorm eps of torchvision's SSDLite (norm_layer = BatchNorm2d(eps=0.001, momentum=0.03)). */
const SSDLITE_EPS = 1e-3;
/** Index of MobileNet V3 Large's C4 bneck in `features` (its last strided block). */
const V3_LARGE_C4 = 13;

/**
 * torchvision's SSDLiteFeatureExtractorMobileNet on MobileNet V3 Large (reduced tail), weights
 * under `prefix` (e.g. 'backbone.'): the six feature maps the SSDLite head reads, finest first
 * (strides 16, 32, 64, 128, 256, 512 of the input).
 */
export function ssdliteFeatures(b: GraphBuilder, x: string, prefix: string): string[] {
  // features.0 = features[:13] + the C4 block's expansion conv; features.1 = the rest of the C4
  // block (its sub-modules keep their indices) + features[14:]
  const name = (i: number, j: number): string => {
    if (i < V3_LARGE_C4) return j < 0 ? `${prefix}features.0.${i}` : `${prefix}features.0.${i}.block.${j}`;
    if (i === V3_LARGE_C4) return j === 0 ? `${prefix}features.0.${i}` : `${prefix}features.1.0.${j}`;
    return j < 0 ? `${prefix}features.1.${i - V3_LARGE_C4}` : `${prefix}features.1.${i - V3_LARGE_C4}.block.${j}`;
  };
  const outs = mobilenetV3Features(b, x, 'large', { reducedTail: true, moduleName: name, tapExpansion: V3_LARGE_C4 });
  const c4 = outs[outs.length - 1];
  let y = outs[outs.length - 2];
  const maps = [c4, y];
  [512, 256, 256, 128].forEach((out, i) => {
    const p = `${prefix}extra.${i}`;
    const mid = out / 2;
    y = convBnAct(b, y, { conv: `${p}.0.0`, bn: `${p}.0.1` }, { out: mid, kernel: 1 }, 'relu6', SSDLITE_EPS);
    y = convBnAct(b, y, { conv: `${p}.1.0`, bn: `${p}.1.1` }, { out: mid, kernel: 3, stride: 2, pad: 1, groups: mid }, 'relu6', SSDLITE_EPS);
    y = convBnAct(b, y, { conv: `${p}.2.0`, bn: `${p}.2.1` }, { out, kernel: 1 }, 'relu6', SSDLITE_EPS);
    maps.push(y);
  });
  return maps;
}

/** Options of {@link ssdliteHead}. */
export interface SsdliteHeadOptions {
  /** Default boxes per location on every level (default 6: aspect ratios 2 and 3 as torchvision's DefaultBoxGenerator([[2, 3]] * 6)). */
  anchors?: number;
  /** Classes, background included (default 91, COCO). */
  classes?: number;
}

/**
 * torchvision's SSDLiteHead on `maps` (weights under `prefix`, e.g. 'head.'): a prediction
 * block per level (no sharing), outputs laid out as {@link retinaNetHead}'s.
 */
export function ssdliteHead(b: GraphBuilder, maps: string[], prefix: string, o: SsdliteHeadOptions = {}): DetectionHeadOutputs {
  const A = o.anchors ?? 6;
  const K = o.classes ?? 91;
  const branch = (p: string, out: number, k: number): string => {
    const per = maps.map((x, l) => {
      const C = b.shape(x)[1];
      const m = `${p}.module_list.${l}`;
      const y = convBnAct(b, x, { conv: `${m}.0.0`, bn: `${m}.0.1` }, { out: C, kernel: 3, pad: 1, groups: C }, 'relu6', SSDLITE_EPS);
      return perAnchor(b, b.conv(y, `${m}.1`, { out, kernel: 1 }), k);
    });
    return b.concat(per, 1);
  };
  return { logits: branch(`${prefix}classification_head`, A * K, K), boxes: branch(`${prefix}regression_head`, A * 4, 4) };
}

// ---------------------------------------------------------------------------------------------
// Detectors of the zoo: torchvision's transform in the network, then model.detect()

/**
 * torchvision's GeneralizedRCNNTransform for a fixed size, inside the network: (x - mean) / std,
 * then F.interpolate(size, mode='bilinear', align_corners=False) to the transform's [H, W].
 */
function fixedTransform(b: GraphBuilder, x: string, mean: number, std: number, H: number, W: number): string {
  const norm = b.node('Div', [b.node('Sub', [x, b.constant([mean], [])])[0], b.constant([std], [])])[0];
  // sizes of the spatial axes only: any batch, any image size in
  return b.node('Resize', [norm, '', '', b.ints([H, W])], { axes: [2, 3], mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' })[0];
}

/**
 * SSDLite320 with a MobileNet V3 Large backbone (torchvision `ssdlite320_mobilenet_v3_large`):
 * the input 'image' is [N, 3, H, W] RGB in [0, 1] at any size, resized inside to `inputSize`
 * (default 320, the transform's fixed size); outputs 'scores' (softmax over the classes,
 * background first) and 'deltas' per default box. `model.detect()` turns them into boxes.
 */
export function ssdlite320_mobilenet_v3_large(o: CreateModelOptions = {}): GraphBuilder {
  const b = new GraphBuilder();
  const [H, W] = inputHW(o, 320);
  const x = b.input('image', [o.batch ?? 1, 3, H, W]);
  const maps = ssdliteFeatures(b, fixedTransform(b, x, 0.5, 0.5, H, W), 'backbone.');
  const head = ssdliteHead(b, maps, 'head.', { classes: o.numClasses ?? 91 });
  b.output(b.node('Softmax', [head.logits], { axis: -1 })[0], 'scores');
  b.output(head.boxes, 'deltas');
  return b;
}

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const DETECTION: ZooFamily = {
  ssdlite320_mobilenet_v3_large: {
    build: ssdlite320_mobilenet_v3_large,
    detector: (o, b) => {
      const [H, W] = inputHW(o, 320);
      // the head's six maps: the inputs of its per-level prediction blocks
      const levels = b.graph.nodes.filter((n) => /^head\.classification_head\.module_list\.\d+\.0\.0$/.test(n.name));
      return {
        kind: 'ssd',
        transformSize: [H, W],
        featureSizes: levels.map((n) => b.shape(n.inputs[0]).slice(2) as [number, number]),
        defaultBoxes: SSDLITE320_DEFAULT_BOXES,
        scores: 'scores',
        deltas: 'deltas',
        // torchvision's ssdlite320 defaults
        scoreThreshold: 0.001,
        iouThreshold: 0.55,
        topkCandidates: 300,
        maxDetections: 300,
        run: detectImages,
      };
    },
  },
};
