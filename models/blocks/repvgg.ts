// RepVGG block (Ding, Zhang, Ma, Han, Ding & Sun 2021, "RepVGG: Making VGG-style ConvNets Great
// Again"), as timm 1.0.29's RepVggBlock (byobnet.py), with timm's state_dict names. Training
// form: 3x3 conv + BN, 1x1 conv + BN and (same channels, stride 1) a BN on the input, summed
// before the ReLU. Deployed form: one 3x3 conv with bias (structural re-parameterisation): each BN
// folds into its conv (W·γ/σ, β − μγ/σ with σ = sqrt(var + eps)), the 1x1 kernel becomes the
// centre tap of a 3x3 kernel, the identity BN a 3x3 kernel with 1 at the centre of its own
// channel (within its group), and kernels and biases add up, computed on the host at build() from
// the training-time tensors.
import type { GraphBuilder } from '../../src/builder';
import type { Tensor } from '../../src/graph/ir';

const BN_EPS = 1e-5;

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

/** Options of {@link repVggBlock}. */
export interface RepVggBlockOptions {
  /** output channels */
  out: number;
  /** stride (default 1) */
  stride?: number;
  /** groups of both convs (default 1) */
  groups?: number;
  /** build the re-parameterised inference form: one 3x3 conv derived from the same weights */
  deploy?: boolean;
}

/**
 * RepVGG block (timm RepVggBlock names): training form BN(conv3x3) `conv_kxk.{conv,bn}` +
 * BN(conv1x1) `conv_1x1.{conv,bn}` [+ BN(x) `identity` when shapes agree], ReLU; deployed form one
 * 3x3 conv whose kernel and bias are merged on the host from the same state_dict, ReLU. Ding et
 * al. 2021 ("RepVGG: Making VGG-style ConvNets Great Again") train multi-branch for optimisation
 * and convert to a plain stack of 3x3 convs + ReLU for fast inference (structural
 * re-parameterisation).
 */
export function repVggBlock(b: GraphBuilder, x: string, prefix: string, o: RepVggBlockOptions): string {
  const C = b.shape(x)[1];
  const { out } = o;
  const stride = o.stride ?? 1;
  const groups = o.groups ?? 1;
  const deploy = o.deploy ?? false;
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

