// RepVGG (Ding, Zhang, Ma, Han, Ding & Sun 2021, "RepVGG: Making VGG-style ConvNets Great
// Again"), as timm 1.0.29 builds it in byobnet.py (ByobNet with RepVggBlock, stem_type 'rep'):
// a RepVGG block as stem (3 -> stem width, stride 2), four stages whose first block has stride
// 2, global average pooling and one fully connected layer ('head.fc'). No final 1x1 conv, no
// attention, BatchNorm eps 1e-5, ReLU after every block.
//
// A block trains as three branches summed before the ReLU: 3x3 conv + BN, 1x1 conv + BN and,
// when input and output agree (same channels, stride 1), a BN on the input itself. At
// inference the branches collapse into one 3x3 conv with bias (structural
// re-parameterisation): each BN folds into its conv (W·γ/σ, β − μγ/σ with σ = sqrt(var + eps)),
// the 1x1 kernel becomes the centre tap of a 3x3 kernel, the identity BN becomes a 3x3 kernel
// with 1 at the centre of its own channel (within its group), and kernels and biases add up.
// `deploy: true` builds that form, computing the merged kernels on the host at build() from the
// same training-time state_dict, so one set of weights loads either way. The multi-branch form
// is the default and the one `training: true` builds (refused together with `deploy`).
//
// Weight names are timm's state_dict keys: `stem.conv_kxk.conv.weight`, `stem.conv_1x1.bn.*`,
// `stages.<s>.<i>.identity.*`, `head.fc.weight`. The g4 variants use 4 groups in the odd
// blocks of every stage (timm: group size out/4 where (block index + 1) is even).
import { GraphBuilder } from '../src/builder';
import { ValueError } from '../src/errors';
import type { Tensor } from '../src/graph/ir';
import { type CreateModelOptions, inputHW, type ZooFamily } from './registry';

const BN_EPS = 1e-5;

/** Base widths of the four stages, scaled by the a/b multipliers of each variant. */
const BASE_WIDTHS = [64, 128, 256, 512];

interface RepVggConfig {
  /** blocks per stage */
  depths: number[];
  /** width multipliers per stage (the paper's a for stages 1-3, b for stage 4) */
  widthFactors: number[];
  /** stem width: min(64, 64a) */
  stem: number;
  /** groups of the odd blocks of each stage (1: dense everywhere) */
  groups: number;
}

const A_DEPTHS = [2, 4, 14, 1];
const B_DEPTHS = [4, 6, 16, 1];

const CONFIGS: Record<string, RepVggConfig> = {
  repvgg_a0: { depths: A_DEPTHS, widthFactors: [0.75, 0.75, 0.75, 2.5], stem: 48, groups: 1 }, // a = 0.75, b = 2.5
  repvgg_a1: { depths: A_DEPTHS, widthFactors: [1, 1, 1, 2.5], stem: 64, groups: 1 }, // a = 1, b = 2.5
  repvgg_a2: { depths: A_DEPTHS, widthFactors: [1.5, 1.5, 1.5, 2.75], stem: 64, groups: 1 }, // a = 1.5, b = 2.75
  repvgg_b0: { depths: B_DEPTHS, widthFactors: [1, 1, 1, 2.5], stem: 64, groups: 1 }, // a = 1, b = 2.5
  repvgg_b1: { depths: B_DEPTHS, widthFactors: [2, 2, 2, 4], stem: 64, groups: 1 }, // a = 2, b = 4
  repvgg_b1g4: { depths: B_DEPTHS, widthFactors: [2, 2, 2, 4], stem: 64, groups: 4 }, // B1, odd blocks 4 groups
  repvgg_b2: { depths: B_DEPTHS, widthFactors: [2.5, 2.5, 2.5, 5], stem: 64, groups: 1 }, // a = 2.5, b = 5
  repvgg_b2g4: { depths: B_DEPTHS, widthFactors: [2.5, 2.5, 2.5, 5], stem: 64, groups: 4 }, // B2, odd blocks 4 groups
  repvgg_b3: { depths: B_DEPTHS, widthFactors: [3, 3, 3, 5], stem: 64, groups: 1 }, // a = 3, b = 5
  repvgg_b3g4: { depths: B_DEPTHS, widthFactors: [3, 3, 3, 5], stem: 64, groups: 4 }, // B3, odd blocks 4 groups
};

/** Declare a BatchNorm's four tensors under `prefix` and return their names (γ, β, μ, var). */
function bnParams(b: GraphBuilder, prefix: string, C: number): string[] {
  return ['weight', 'bias', 'running_mean', 'running_var'].map((s) => b.param(`${prefix}.${s}`, [C]));
}

/**
 * The merged 3x3 kernel [out, in/groups, 3, 3] of a RepVGG block from its training-time tensors:
 * [W3, γ3, β3, μ3, v3, W1, γ1, β1, μ1, v1, (γi, βi, μi, vi)].
 */
function mergedKernel(ts: Tensor[], out: number, cpg: number): Float32Array {
  const k = new Float64Array(out * cpg * 9);
  const [w3, g3, , , v3, w1, g1, , , v1, gi, , , vi] = ts;
  for (let o = 0; o < out; o++) {
    const s3 = g3.data[o] / Math.sqrt(v3.data[o] + BN_EPS);
    const s1 = g1.data[o] / Math.sqrt(v1.data[o] + BN_EPS);
    for (let i = 0; i < cpg; i++) {
      const base = (o * cpg + i) * 9;
      for (let t = 0; t < 9; t++) k[base + t] = w3.data[base + t] * s3;
      k[base + 4] += w1.data[o * cpg + i] * s1; // the 1x1 kernel is the centre tap
    }
    if (gi && vi) {
      // identity: input channel o is local channel o % cpg of output channel o's group
      k[(o * cpg + (o % cpg)) * 9 + 4] += gi.data[o] / Math.sqrt(vi.data[o] + BN_EPS);
    }
  }
  return new Float32Array(k);
}

/** The merged bias: Σ over branches of β − μγ/σ. */
function mergedBias(ts: Tensor[], out: number): Float32Array {
  const bias = new Float64Array(out);
  // each BN occupies 4 consecutive tensors (γ, β, μ, var) at 1 (3x3), 6 (1x1) and 10 (identity)
  for (const j of ts.length > 10 ? [1, 6, 10] : [1, 6]) {
    const [g, be, mu, v] = [ts[j].data, ts[j + 1].data, ts[j + 2].data, ts[j + 3].data];
    for (let o = 0; o < out; o++) bias[o] += be[o] - (mu[o] * g[o]) / Math.sqrt(v[o] + BN_EPS);
  }
  return new Float32Array(bias);
}

/**
 * One RepVGG block under `prefix`. Training form: BN(conv3x3) + BN(conv1x1) [+ BN(x)], ReLU.
 * Deployed form: one 3x3 conv whose kernel and bias are derived from the same weights, ReLU.
 */
function repVggBlock(b: GraphBuilder, x: string, prefix: string, out: number, stride: number, groups: number, deploy: boolean): string {
  const C = b.shape(x)[1];
  const identity = C === out && stride === 1;
  if (!deploy) {
    const id = identity ? b.batchNorm(x, `${prefix}.identity`, BN_EPS) : undefined;
    const kxk = b.batchNorm(b.conv(x, `${prefix}.conv_kxk.conv`, { out, kernel: 3, stride, pad: 1, groups, bias: false }), `${prefix}.conv_kxk.bn`, BN_EPS);
    const k1 = b.batchNorm(b.conv(x, `${prefix}.conv_1x1.conv`, { out, kernel: 1, stride, groups, bias: false }), `${prefix}.conv_1x1.bn`, BN_EPS);
    let y = b.add(k1, kxk);
    if (id) y = b.add(y, id);
    return b.relu(y);
  }
  const cpg = C / groups;
  // declare the training-time tensors in timm's order (identity first), then derive from them
  const idNames = identity ? bnParams(b, `${prefix}.identity`, out) : [];
  const w3 = b.param(`${prefix}.conv_kxk.conv.weight`, [out, cpg, 3, 3]);
  const bn3 = bnParams(b, `${prefix}.conv_kxk.bn`, out);
  const w1 = b.param(`${prefix}.conv_1x1.conv.weight`, [out, cpg, 1, 1]);
  const bn1 = bnParams(b, `${prefix}.conv_1x1.bn`, out);
  const from = [w3, ...bn3, w1, ...bn1, ...idNames];
  const weight = b.derive(`${prefix}.reparam_conv.weight`, [out, cpg, 3, 3], from, (ts) => mergedKernel(ts, out, cpg));
  const bias = b.derive(`${prefix}.reparam_conv.bias`, [out], from, (ts) => mergedBias(ts, out));
  const y = b.node('Conv', [x, weight, bias], {
    kernel_shape: [3, 3], strides: [stride, stride], pads: [1, 1, 1, 1], dilations: [1, 1], group: groups,
  }, 1, `${prefix}.reparam_conv`)[0];
  return b.relu(y);
}

function _repvgg(cfg: RepVggConfig, o: CreateModelOptions): GraphBuilder {
  const b = new GraphBuilder();
  const deploy = o.deploy ?? false;
  if (deploy && o.training) throw new ValueError('repvgg: deploy (the merged inference form) cannot be combined with training: true (the multi-branch form)');
  const [H, W] = inputHW(o, 224);
  let x = b.input('input', [o.batch ?? 1, 3, H, W]);
  x = repVggBlock(b, x, 'stem', cfg.stem, 2, 1, deploy);
  cfg.depths.forEach((depth, s) => {
    const width = BASE_WIDTHS[s] * cfg.widthFactors[s];
    for (let i = 0; i < depth; i++) {
      const groups = cfg.groups > 1 && i % 2 === 1 ? cfg.groups : 1;
      x = repVggBlock(b, x, `stages.${s}.${i}`, width, i === 0 ? 2 : 1, groups, deploy);
    }
  });
  x = b.flatten(b.globalAvgPool(x));
  x = b.linear(x, 'head.fc', o.numClasses ?? 1000);
  b.output(x, 'logits');
  return b;
}

/** RepVGG-A0 (8.3M params deployed, 9.1M training form); `deploy` builds the single-conv form. */
export const repvgg_a0 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_a0, o);
/** RepVGG-A1 (stage widths 64, 128, 256, 1280). */
export const repvgg_a1 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_a1, o);
/** RepVGG-A2 (stage widths 96, 192, 384, 1408). */
export const repvgg_a2 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_a2, o);
/** RepVGG-B0 (depths 4, 6, 16, 1; widths 64, 128, 256, 1280). */
export const repvgg_b0 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b0, o);
/** RepVGG-B1 (widths 128, 256, 512, 2048). */
export const repvgg_b1 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b1, o);
/** RepVGG-B1g4: B1 with 4-group convs in the odd blocks of every stage. */
export const repvgg_b1g4 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b1g4, o);
/** RepVGG-B2 (widths 160, 320, 640, 2560). */
export const repvgg_b2 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b2, o);
/** RepVGG-B2g4: B2 with 4-group convs in the odd blocks of every stage. */
export const repvgg_b2g4 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b2g4, o);
/** RepVGG-B3 (widths 192, 384, 768, 2560). */
export const repvgg_b3 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b3, o);
/** RepVGG-B3g4: B3 with 4-group convs in the odd blocks of every stage. */
export const repvgg_b3g4 = (o: CreateModelOptions = {}): GraphBuilder => _repvgg(CONFIGS.repvgg_b3g4, o);

/** @internal This family's rows of the zoo registry (models/index.ts): registry internals, not API. */
export const REPVGG: ZooFamily = {
  repvgg_a0: { build: repvgg_a0, supports: ['deploy'] },
  repvgg_a1: { build: repvgg_a1, supports: ['deploy'] },
  repvgg_a2: { build: repvgg_a2, supports: ['deploy'] },
  repvgg_b0: { build: repvgg_b0, supports: ['deploy'] },
  repvgg_b1: { build: repvgg_b1, supports: ['deploy'] },
  repvgg_b1g4: { build: repvgg_b1g4, supports: ['deploy'] },
  repvgg_b2: { build: repvgg_b2, supports: ['deploy'] },
  repvgg_b2g4: { build: repvgg_b2g4, supports: ['deploy'] },
  repvgg_b3: { build: repvgg_b3, supports: ['deploy'] },
  repvgg_b3g4: { build: repvgg_b3g4, supports: ['deploy'] },
};
