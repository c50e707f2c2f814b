// The engine pieces that lazily loaded code (the host evaluator src/graph/eval/, the trainer
// src/train/, the thread pool src/runtime/threads.ts and segments.ts, the byte reader
// src/io/source.ts) takes from the eagerly loaded engine: the error classes, shape and graph
// helpers, the platform hooks. Lazy code imports them from here; the eager side
// (src/lazy/supply.ts) binds them with bindKit() when it loads, and again in each loader after
// its dynamic import(), so no lazy chunk imports (by value) a module the page's first bundle
// contains. This file itself imports only types: a bundler may share it at no cost.
//
// Why: a bundler that splits code (Parcel, webpack, Vite) must wrap a module that an eager
// bundle and a lazy chunk both import, and then every use of its exports in the eager bundle
// turns into a namespace access. Parcel's bundle of `import { init, loadOnnx }` held 98 x
// `(0,u.ShapeError)`, 91 x `(0,F.shapeStr)`, 52 x `(0,u.UnsupportedOpError)`, 41 x
// `(0,F.numel)`, ...: 7.3 KB of such wrappers, about 6 KB more than plain names, which took it
// over the 120 KB budget of test/consumers/run.mjs (120.3 KB).
//
// There is still one set of error classes (instanceof WasmCnnError holds for errors thrown by
// lazy code) and one implementation of each helper: these are references to the eager ones.
// Lazy modules read the bindings only when their code runs, never while they evaluate (nothing
// at a lazy module's top level uses them). src/train/program.ts's TrainLib does the same for the
// inference helpers the training rules use.
import type * as Errors from '../errors';
import type * as ConstEval from '../graph/constEval';
import type * as Ir from '../graph/ir';
import type * as Shapes from '../graph/shapes';
import type * as Util from '../graph/util';
import type * as Hub from '../io/hub';
import type * as Kernels from '../runtime/kernels';
import type * as Geometry from '../ops/geometry';
import type { Platform } from '../runtime/platform';

/** What the eager engine hands to lazily loaded code (built by src/lazy/supply.ts). */
export interface Kit {
  WasmCnnError: typeof Errors.WasmCnnError;
  GraphError: typeof Errors.GraphError;
  LoadError: typeof Errors.LoadError;
  ShapeError: typeof Errors.ShapeError;
  UnsupportedOpError: typeof Errors.UnsupportedOpError;
  ValueError: typeof Errors.ValueError;
  numel: typeof Ir.numel;
  shapeStr: typeof Ir.shapeStr;
  intBytes: typeof Ir.intBytes;
  nodeReads: typeof Util.nodeReads;
  consumers: typeof Util.consumers;
  producers: typeof Util.producers;
  isGraphOutput: typeof Util.isGraphOutput;
  freshName: typeof Util.freshName;
  removeDeadNodes: typeof Util.removeDeadNodes;
  cloneGraph: typeof Util.cloneGraph;
  fromFloat: typeof ConstEval.fromFloat;
  fromInt: typeof ConstEval.fromInt;
  toStored: typeof ConstEval.toStored;
  constInputs: typeof ConstEval.constInputs;
  storeFolded: typeof ConstEval.storeFolded;
  reshapeTarget: typeof Shapes.reshapeTarget;
  shapeSlice: typeof Shapes.shapeSlice;
  sliceRanges: typeof Shapes.sliceRanges;
  squeezeShape: typeof Shapes.squeezeShape;
  unsqueezeShape: typeof Shapes.unsqueezeShape;
  window2d: typeof Geometry.window2d;
  /** The `hf:` URL template set by setHubTemplate() (src/io/hub.ts holds it). */
  hubTemplate: typeof Hub.hubTemplate;
  platform: Platform;
  PARALLEL_KERNELS: typeof Kernels.PARALLEL_KERNELS;
}

// Each error class is a binding (the class) and a type (its instances), as an import of the class would be.
export let WasmCnnError: Kit['WasmCnnError'];
export type WasmCnnError = Errors.WasmCnnError;
export let GraphError: Kit['GraphError'];
export type GraphError = Errors.GraphError;
export let LoadError: Kit['LoadError'];
export type LoadError = Errors.LoadError;
export let ShapeError: Kit['ShapeError'];
export type ShapeError = Errors.ShapeError;
export let UnsupportedOpError: Kit['UnsupportedOpError'];
export type UnsupportedOpError = Errors.UnsupportedOpError;
export let ValueError: Kit['ValueError'];
export type ValueError = Errors.ValueError;
export let numel: Kit['numel'];
export let shapeStr: Kit['shapeStr'];
export let intBytes: Kit['intBytes'];
export let nodeReads: Kit['nodeReads'];
export let consumers: Kit['consumers'];
export let producers: Kit['producers'];
export let isGraphOutput: Kit['isGraphOutput'];
export let freshName: Kit['freshName'];
export let removeDeadNodes: Kit['removeDeadNodes'];
export let cloneGraph: Kit['cloneGraph'];
export let fromFloat: Kit['fromFloat'];
export let fromInt: Kit['fromInt'];
export let toStored: Kit['toStored'];
export let constInputs: Kit['constInputs'];
export let storeFolded: Kit['storeFolded'];
export let reshapeTarget: Kit['reshapeTarget'];
export let shapeSlice: Kit['shapeSlice'];
export let sliceRanges: Kit['sliceRanges'];
export let squeezeShape: Kit['squeezeShape'];
export let unsqueezeShape: Kit['unsqueezeShape'];
export let window2d: Kit['window2d'];
export let hubTemplate: Kit['hubTemplate'];
export let platform: Kit['platform'];
export let PARALLEL_KERNELS: Kit['PARALLEL_KERNELS'];

/**
 * Binds the kit's names to the eager engine's values (src/lazy/supply.ts calls it); binding again
 * with the same values changes nothing.
 */
export function bindKit(k: Kit): void {
  WasmCnnError = k.WasmCnnError;
  GraphError = k.GraphError;
  LoadError = k.LoadError;
  ShapeError = k.ShapeError;
  UnsupportedOpError = k.UnsupportedOpError;
  ValueError = k.ValueError;
  numel = k.numel;
  shapeStr = k.shapeStr;
  intBytes = k.intBytes;
  nodeReads = k.nodeReads;
  consumers = k.consumers;
  producers = k.producers;
  isGraphOutput = k.isGraphOutput;
  freshName = k.freshName;
  removeDeadNodes = k.removeDeadNodes;
  cloneGraph = k.cloneGraph;
  fromFloat = k.fromFloat;
  fromInt = k.fromInt;
  toStored = k.toStored;
  constInputs = k.constInputs;
  storeFolded = k.storeFolded;
  reshapeTarget = k.reshapeTarget;
  shapeSlice = k.shapeSlice;
  sliceRanges = k.sliceRanges;
  squeezeShape = k.squeezeShape;
  unsqueezeShape = k.unsqueezeShape;
  window2d = k.window2d;
  hubTemplate = k.hubTemplate;
  platform = k.platform;
  PARALLEL_KERNELS = k.PARALLEL_KERNELS;
}
