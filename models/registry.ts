// What a zoo family file exports: its model names and how to build each.
import type { GraphBuilder, WeightsSource } from '../src/builder';

export type Attention = 'se' | 'cbam' | 'eca' | 'coord';

export interface CreateModelOptions {
  /** safetensors bytes or a state_dict-keyed map; optional where the zoo bundles weights. */
  weights?: WeightsSource;
  numClasses?: number;
  /** Batch size the model is planned for (default 1). */
  batch?: number;
  /** Input resolution (square or [H, W]); defaults to the model's native size. */
  inputSize?: number | [number, number];
  /** Channel width multiplier where the family has one (MobileNets). */
  widthMultiplier?: number;
  /** Attention module inserted in each block where the family supports it (ResNets). */
  attention?: Attention;
  /** Build the inference form of re-parameterisable models (RepVGG: one 3x3 conv per block). */
  deploy?: boolean;
}

export interface ZooEntry {
  build(o: CreateModelOptions): GraphBuilder;
  /** Weights shipped with the package, if any (loaded on demand). */
  bundled?(): Uint8Array | Promise<Uint8Array>;
}

export type ZooFamily = Record<string, ZooEntry>;

/** [H, W] from the inputSize option or the model's default. */
export function inputHW(o: CreateModelOptions, dflt: number): [number, number] {
  const s = o.inputSize ?? dflt;
  return typeof s === 'number' ? [s, s] : [s[0], s[1]];
}
