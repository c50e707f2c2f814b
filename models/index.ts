// The model zoo registry: every name createModel() accepts, gathered from the family files; the
// check that every option given either takes effect on that model or is refused by name; weights
// read from any source src/io reads (path, URL, hf: reference, Response, stream, Blob); and each
// model's preprocessing (models/preprocessing.ts).
import { type GraphBuilder, type WeightsSource, toWeightMap } from '../src/builder';
import { ShapeError, ValueError, WeightsError } from '../src/errors';
import type { ByteSource } from '../src/io/source';
import type { Graph } from '../src/graph/ir';
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
import { SUPERRES } from './superres';
import { DETECTION } from './detection';
import { RCNN } from './rcnn';
import { PREPROCESSING, type Preprocessing } from './preprocessing';
import type { CreateModelOptions, FamilyOption, ZooEntry, ZooFamily } from './registry';

export type { Attention, CreateModelOptions, FamilyOption, ZooEntry } from './registry';
export type { Interpolation, Preprocessing } from './preprocessing';
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
export * from './detection';
export * from './rcnn';
export * from './superres';
// the blocks the families are built from (also the package's `wasmcnn/blocks` subpath)
export * from './blocks';


const FAMILIES: ZooFamily[] = [
  LENET, RESNET, VGG, ALEXNET, GOOGLENET, DENSENET, REPVGG, MOBILENET, EFFICIENTNET, CONVNEXT, SHUFFLENET, GHOSTNET,
  MOBILENETV4, SEGMENTATION, SUPERRES, DETECTION, RCNN,
];
const ZOO: ZooFamily = Object.assign({}, ...FAMILIES);

/** Names createModel() accepts. */
export function listModels(): string[] {
  return Object.keys(ZOO).sort();
}

/** Options every model takes (LeNet-5's inputSize only as 32). */
const COMMON_OPTIONS = new Set(['weights', 'numClasses', 'batch', 'inputSize', 'planCache', 'weightStorage', 'training', 'onProgress', 'signal', 'hubTemplate']);
const FAMILY_OPTIONS: readonly FamilyOption[] = ['widthMultiplier', 'resolutionMultiplier', 'attention', 'deploy', 'scale', 'channels'];
const ATTENTIONS = ['se', 'cbam', 'eca', 'coord'];

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `[${v.join(', ')}]` : String(v));

function entry(name: string): ZooEntry {
  const e = Object.hasOwn(ZOO, name) ? ZOO[name] : undefined;
  if (!e) throw new ValueError(`unknown model '${name}'; available: ${listModels().join(', ')}`);
  return e;
}

/**
 * Refuses, with a ValueError naming the model and the option, every option this model would not
 * honour (unknown keys, family options of other families, values out of range).
 */
function checkOptions(name: string, e: ZooEntry, o: CreateModelOptions): void {
  const bad = (option: string, why: string): never => {
    throw new ValueError(`${name}: option ${option} ${why}`);
  };
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if ((FAMILY_OPTIONS as readonly string[]).includes(k)) {
      if (!e.supports?.includes(k as FamilyOption)) {
        const having = listModels().filter((n) => ZOO[n].supports?.includes(k as FamilyOption));
        const why = e.refuses?.[k as FamilyOption];
        bad(k, `is not supported by this model${why ? `: ${why}` : ''} (models that have it: ${having.join(', ')})`);
      }
    } else if (!COMMON_OPTIONS.has(k)) {
      bad(`'${k}'`, `is not a createModel option (options: ${[...COMMON_OPTIONS, ...FAMILY_OPTIONS].join(', ')})`);
    }
  }
  if (o.numClasses !== undefined && !isPositiveInt(o.numClasses)) bad('numClasses', `must be a positive integer, got ${show(o.numClasses)}`);
  if (o.batch !== undefined && !isPositiveInt(o.batch)) bad('batch', `must be a positive integer, got ${show(o.batch)}`);
  const s = o.inputSize;
  if (s !== undefined && s !== 'dynamic' && !isPositiveInt(s) && !(Array.isArray(s) && s.length === 2 && s.every(isPositiveInt)))
    bad('inputSize', `must be a positive integer, [height, width] of positive integers or 'dynamic', got ${show(s)}`);
  if (o.planCache !== undefined && !isPositiveInt(o.planCache)) bad('planCache', `must be a positive integer, got ${show(o.planCache)}`);
  if (e.detector && s === 'dynamic')
    bad('inputSize', "'dynamic' does not apply: a detector takes images of any size (inputSize is its transform's size)");
  if (o.planCache !== undefined && s !== 'dynamic' && !e.detector)
    bad('planCache', "applies to inputSize: 'dynamic' only (a fixed-size model has one plan)");
  const w = o.widthMultiplier;
  if (w !== undefined && !(typeof w === 'number' && Number.isFinite(w) && w > 0)) bad('widthMultiplier', `must be a positive number, got ${show(w)}`);
  const r = o.resolutionMultiplier;
  if (r !== undefined && !(typeof r === 'number' && Number.isFinite(r) && r > 0)) bad('resolutionMultiplier', `must be a positive number, got ${show(r)}`);
  if (r !== undefined && s !== undefined) bad('resolutionMultiplier', 'cannot be combined with inputSize (both set the input resolution)');
  if (o.attention !== undefined && !ATTENTIONS.includes(o.attention)) bad('attention', `must be one of ${ATTENTIONS.join(', ')}, got ${show(o.attention)}`);
  if (o.deploy !== undefined && typeof o.deploy !== 'boolean') bad('deploy', `must be true or false, got ${show(o.deploy)}`);
  if (o.training !== undefined && typeof o.training !== 'boolean') bad('training', `must be true or false, got ${show(o.training)}`);
  if (o.training && o.deploy) bad('deploy', 'cannot be combined with training: true (deploy is the merged inference form, training the multi-branch one)');
  if (o.scale !== undefined && ![2, 3, 4].includes(o.scale)) bad('scale', `must be 2, 3 or 4, got ${show(o.scale)}`);
  if (o.channels !== undefined && o.channels !== 1 && o.channels !== 3) bad('channels', `must be 1 or 3, got ${show(o.channels)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') bad('onProgress', 'must be a function (loaded, total) => void');
}

/**
 * The GraphBuilder of a zoo model (to inspect its weight names or extend it before building).
 *
 * @throws ValueError for an unknown model, or naming the model and the option for an option the
 *   model does not honour (e.g. `widthMultiplier` on a ResNet, `inputSize: 28` on lenet5).
 */
export function modelBuilder(name: string, options: CreateModelOptions = {}): GraphBuilder {
  return builderAndAxes(name, options).builder;
}

/**
 * The structure of a built graph with its sizes left out: node ops, attributes and wiring, and the
 * values of its fixed constants. Two builds at different input sizes with the same structure
 * compute the same function of any input size (every shape is then derived at plan time).
 */
function structure(g: Graph): string {
  const attrs = (a: Record<string, unknown>) => JSON.stringify(a, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
  const consts = [...g.initializers].map(([k, t]) => `${k}=${Array.from(t.data).join()}`);
  const ints = [...g.intConstants].map(([k, t]) => `${k}=${t.ints.join()}`);
  return [...g.nodes.map((n) => `${n.name}:${n.op}(${n.inputs})->${n.outputs}${attrs(n.attrs)}`), ...consts, ...ints].join('\n');
}

/** The first node where two structures differ (the first reader of a differing constant). */
function firstDifference(g: Graph, a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const i = x.findIndex((l, j) => l !== y[j]);
  const what = (x[i] ?? y[i] ?? '').split(/[:=]/)[0];
  return g.nodes.find((n) => n.inputs.includes(what))?.name ?? what;
}

/**
 * The builder for these options and, for `inputSize: 'dynamic'`, the input axes that may vary:
 * the model is built at its native size and at larger ones (and another batch); height and
 * width are dynamic when the graphs agree, else the option is refused naming the node that
 * depends on the size; the batch axis too when a batch change alters nothing.
 */
function builderAndAxes(name: string, options: CreateModelOptions): { builder: GraphBuilder; axes?: number[]; e: ZooEntry } {
  const e = entry(name);
  checkOptions(name, e, options);
  if (options.inputSize === 'dynamic') {
    const o = { ...options, inputSize: undefined };
    const builder = build(name, e, o);
    const [N, , H, W] = builder.graph.inputs[0].shape!;
    const base = structure(builder.graph);
    for (const [h, w] of [[H + 32, W + 32], [H * 2, W + 64]]) {
      let other: GraphBuilder;
      try {
        other = build(name, e, { ...o, inputSize: [h, w] });
      } catch (err) {
        if (!(err instanceof ValueError)) throw err;
        throw new ValueError(`${name}: option inputSize 'dynamic' is not supported: ${err.message}`);
      }
      const s = structure(other.graph);
      if (s !== base)
        throw new ValueError(
          `${name}: option inputSize 'dynamic' is not supported: node '${firstDifference(builder.graph, base, s)}' is built for one input size (${H}x${W}), so the network does not compute the same function at others (e.g. a classifier's adaptive pool); give a fixed inputSize`,
        );
    }
    const batchFree = structure(build(name, e, { ...o, batch: N + 1 }).graph) === base;
    return { builder, axes: batchFree ? [0, 2, 3] : [2, 3], e };
  }
  return { builder: build(name, e, options), e };
}

function build(name: string, e: ZooEntry, options: CreateModelOptions): GraphBuilder {
  try {
    return e.build(options);
  } catch (err) {
    // an input too small for the network's downsampling surfaces as a shape error deep inside
    if (err instanceof ShapeError && options.inputSize !== undefined)
      throw new ValueError(`${name}: option inputSize ${show(options.inputSize)} does not fit the network: ${err.message}`);
    throw err;
  }
}

/**
 * The preprocessing the reference weights of a zoo model expect (resize, center crop, mean/std,
 * channels, interpolation, label set), in fromImage()'s option names: `fromImage(img,
 * modelPreprocessing(name))` prepares an image as the reference does (labels and reference are
 * ignored there).
 *
 * @throws ValueError for an unknown model.
 */
export function modelPreprocessing(name: string): Preprocessing {
  entry(name);
  const p = PREPROCESSING[name];
  if (!p) throw new ValueError(`model '${name}' has no preprocessing entry`);
  return structuredClone(p);
}

async function weightsOf(w: WeightsSource | ByteSource, o: CreateModelOptions): Promise<WeightsSource> {
  if (w instanceof Uint8Array || w instanceof ArrayBuffer || w instanceof Map) return w;
  // everything else is a state_dict record or a source to read (src/io/source.ts, loaded on demand)
  const { isByteSource, readBytes } = await import('../src/io/source');
  if (isByteSource(w)) return readBytes(w, { ...o, defaultFile: 'model.safetensors' });
  return w;
}

/**
 * Build a zoo model with the given (or bundled) weights. `weights` may be safetensors bytes, a
 * state_dict map, or any source loadSafetensors reads (local path, URL, `hf:owner/repo`
 * reference, Response, ReadableStream, Blob), read with `onProgress` and `signal`.
 *
 * @throws ValueError for an unknown model or an option it does not honour; LoadError when the
 *   weights cannot be read; FormatError / WeightsError when they are not this model's weights.
 */
export async function createModel(name: string, options: CreateModelOptions = {}): Promise<Model> {
  const { builder, axes, e } = builderAndAxes(name, options);
  const w = options.weights ?? (await e.bundled?.());
  if (!w) throw new WeightsError(`model '${name}' ships no weights: pass { weights } (safetensors bytes, a path, URL or hf: reference, or a state_dict map)`);
  // a detector's images may have any size and count: its transform resizes them inside the network
  const varying = e.detector ? [0, 2, 3] : axes;
  const dynamicAxes = varying && { [builder.graph.inputs[0].name]: varying };
  const weights = toWeightMap(await weightsOf(w, options));
  const model = await builder.build(weights, { dynamicAxes, planCache: options.planCache, weightStorage: options.weightStorage });
  if (e.detector) {
    try {
      model.detector = await e.detector(options, builder, weights);
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  return model;
}
