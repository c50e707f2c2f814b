// The model zoo registry: every name createModel() accepts, gathered from the family files.
import { type GraphBuilder, toWeightMap } from '../src/builder';
import { ValueError, WeightsError } from '../src/errors';
import type { Model } from '../src/model';
import { LENET } from './lenet';
import { RESNET } from './resnet';
import { VGG } from './vgg';
import { ALEXNET } from './alexnet';
import { GOOGLENET } from './googlenet';
import { DENSENET } from './densenet';
import { REPVGG } from './repvgg';
import { MOBILENET } from './mobilenet';
import { EFFICIENTNET } from './efficientnet';
import { CONVNEXT } from './convnext';
import { SHUFFLENET } from './shufflenet';
import { GHOSTNET } from './ghostnet';
import { MOBILENETV4 } from './mobilenetv4';
import { SEGMENTATION } from './segmentation';
import type { CreateModelOptions, ZooFamily } from './registry';

export type { Attention, CreateModelOptions, ZooEntry } from './registry';
export * from './lenet';
export * from './resnet';
export * from './vgg';
export * from './alexnet';
export * from './googlenet';
export * from './densenet';
export * from './repvgg';
export * from './mobilenet';
export * from './efficientnet';
export * from './convnext';
export * from './shufflenet';
export * from './ghostnet';
export * from './mobilenetv4';
export * from './segmentation';


const FAMILIES: ZooFamily[] = [
  LENET, RESNET, VGG, ALEXNET, GOOGLENET, DENSENET, REPVGG, MOBILENET, EFFICIENTNET, CONVNEXT, SHUFFLENET, GHOSTNET,
  MOBILENETV4, SEGMENTATION,
];
const ZOO: ZooFamily = Object.assign({}, ...FAMILIES);

/** Names createModel() accepts. */
export function listModels(): string[] {
  return Object.keys(ZOO).sort();
}

/** The GraphBuilder of a zoo model (to inspect its weight names or extend it before building). */
export function modelBuilder(name: string, options: CreateModelOptions = {}): GraphBuilder {
  const e = ZOO[name];
  if (!e) throw new ValueError(`unknown model '${name}'; available: ${listModels().join(', ')}`);
  return e.build(options);
}

/** Build a zoo model with the given (or bundled) weights. */
export async function createModel(name: string, options: CreateModelOptions = {}): Promise<Model> {
  const builder = modelBuilder(name, options);
  const w = options.weights ?? (await ZOO[name].bundled?.());
  if (!w) throw new WeightsError(`model '${name}' ships no weights: pass { weights } (safetensors bytes or a state_dict map)`);
  return builder.build(toWeightMap(w));
}
