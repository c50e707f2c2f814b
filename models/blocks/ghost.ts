// Ghost module and Ghost bottleneck (Han, Wang, Tian, Guo, Xu & Xu 2020, "GhostNet: More Features
// from Cheap Operations"), V1 as timm 1.0.29 builds them (timm/models/ghostnet.py GhostModule,
// GhostBottleneck), with timm's state_dict names under the block's prefix.
import type { GraphBuilder } from '../../src/builder';
import { squeezeExcite } from './attention';
import { convBnAct, makeDivisible } from './common';

/** Options of {@link ghostModule}. */
export interface GhostModuleOptions {
  /** output channels */
  out: number;
  /** ReLU after both convs (default true; false in a bottleneck's projecting module) */
  relu?: boolean;
}

/**
 * Ghost module (timm GhostModule, ratio 2, 1x1 primary conv, 3x3 cheap conv): half the output
 * channels from a 1x1 conv + BN (+ ReLU) `primary_conv.{0,1}`, the other half from those by a 3x3
 * depthwise conv + BN (+ ReLU) `cheap_operation.{0,1}`, concatenated (cut to `out` when odd).
 * Han et al. 2020 observe that feature maps of trained CNNs contain many near-duplicates
 * ("ghosts") and generate them with cheap linear operations instead of full convolutions.
 */
export function ghostModule(b: GraphBuilder, x: string, prefix: string, o: GhostModuleOptions): string {
  const { out } = o;
  const init = Math.ceil(out / 2);
  const kind = o.relu ?? true ? 'relu' : 'none';
  const x1 = convBnAct(b, x, { conv: `${prefix}.primary_conv.0`, bn: `${prefix}.primary_conv.1` }, { out: init, kernel: 1 }, kind);
  const x2 = convBnAct(b, x1, { conv: `${prefix}.cheap_operation.0`, bn: `${prefix}.cheap_operation.1` }, { out: init, kernel: 3, pad: 1, groups: init }, kind);
  const y = b.concat([x1, x2]);
  if (2 * init === out) return y;
  return b.node('Slice', [y, b.ints([0]), b.ints([out]), b.ints([1])])[0];
}

/** Options of {@link ghostBottleneck}. */
export interface GhostBottleneckOptions {
  /** channels of the expanding Ghost module */
  mid: number;
  /** output channels */
  out: number;
  /** kernel of the strided depthwise conv and of the shortcut's depthwise conv (default 3) */
  kernel?: number;
  /** stride (default 1) */
  stride?: number;
  /** squeeze-excitation ratio on the mid channels (0: none; timm: reduce to makeDivisible(mid · ratio, 4), hard-sigmoid gate) */
  se?: number;
}

/**
 * Ghost bottleneck (timm GhostBottleneck V1): Ghost module `ghost1` (expand, ReLU) -> [kxk
 * depthwise conv `conv_dw` + BN `bn_dw` when strided] -> [SE `se`] -> Ghost module `ghost2`
 * (project, linear) + shortcut (identity, or depthwise conv + BN + 1x1 conv + BN `shortcut.{0..3}`
 * when the shape changes). GhostNet (Han et al. 2020) stacks these like MobileNetV3's bnecks and
 * reports higher ImageNet accuracy than MobileNetV3 at similar FLOPs.
 */
export function ghostBottleneck(b: GraphBuilder, x: string, prefix: string, o: GhostBottleneckOptions): string {
  const C = b.shape(x)[1];
  const { mid, out } = o;
  const k = o.kernel ?? 3;
  const stride = o.stride ?? 1;
  let y = ghostModule(b, x, `${prefix}.ghost1`, { out: mid, relu: true });
  if (stride > 1)
    y = convBnAct(b, y, { conv: `${prefix}.conv_dw`, bn: `${prefix}.bn_dw` }, { out: mid, kernel: k, stride, pad: (k - 1) >> 1, groups: mid }, 'none');
  if (o.se)
    y = squeezeExcite(b, y, `${prefix}.se`, { reduced: makeDivisible(mid * o.se, 4), names: ['conv_reduce', 'conv_expand'], act: 'relu', gate: 'hardsigmoid' });
  y = ghostModule(b, y, `${prefix}.ghost2`, { out, relu: false });
  let sc = x;
  if (C !== out || stride !== 1) {
    sc = convBnAct(b, x, { conv: `${prefix}.shortcut.0`, bn: `${prefix}.shortcut.1` }, { out: C, kernel: k, stride, pad: (k - 1) >> 1, groups: C }, 'none');
    sc = convBnAct(b, sc, { conv: `${prefix}.shortcut.2`, bn: `${prefix}.shortcut.3` }, { out, kernel: 1 }, 'none');
  }
  return b.add(y, sc);
}
