// The model zoo registry: every name createModel() accepts, and how to build it.
import { GraphBuilder, toWeightMap, type WeightsSource } from '../src/builder';
import { ValueError, WeightsError } from '../src/errors';
import type { Model } from '../src/model';
import { lenet5 } from './lenet';
import { LENET5_SAFETENSORS_BASE64 } from './weights/lenet5.generated';

export interface CreateModelOptions {
  /** safetensors bytes or a state_dict-keyed map; optional where the zoo bundles weights. */
  weights?: WeightsSource;
  numClasses?: number;
  /** Batch size the model is planned for (default 1). */
  batch?: number;
}

interface Entry {
  build(o: CreateModelOptions): GraphBuilder;
  /** Weights shipped with the package, if any. */
  bundled?(): Uint8Array;
}

function base64(s: string): Uint8Array {
  if (typeof atob === 'function') return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  return new Uint8Array(Buffer.from(s, 'base64'));
}

const ZOO: Record<string, Entry> = {
  lenet5: { build: (o) => lenet5(o), bundled: () => base64(LENET5_SAFETENSORS_BASE64) },
};

/** Names createModel() accepts. */
export function listModels(): string[] {
  return Object.keys(ZOO).sort();
}

/** The GraphBuilder of a zoo model (to inspect or extend before building). */
export function modelBuilder(name: string, options: CreateModelOptions = {}): GraphBuilder {
  const e = ZOO[name];
  if (!e) throw new ValueError(`unknown model '${name}'; available: ${listModels().join(', ')}`);
  return e.build(options);
}

/** Build a zoo model with the given (or bundled) weights. */
export async function createModel(name: string, options: CreateModelOptions = {}): Promise<Model> {
  const builder = modelBuilder(name, options);
  const e = ZOO[name];
  const w = options.weights ?? e.bundled?.();
  if (!w) throw new WeightsError(`model '${name}' ships no weights: pass { weights } (safetensors bytes or a state_dict map)`);
  return builder.build(toWeightMap(w));
}
