// The eager side of src/lazy/kit.ts: binds the names lazily loaded code takes from the engine
// (kit.ts's header says why lazy code does not import these modules itself). It binds them when
// this module loads, so that a lazy module reached by any route finds them bound (models/index.ts
// imports src/io/source.ts for a zoo model's weights; tests import lazy modules directly), and
// the loaders (model.ts's trainer, constEval.ts's loadEvaluator, wasm.ts's thread pool and
// segment splitter, read.ts's reader) call provideKit() after their dynamic import(): that use
// is also what keeps this module, with its binding at load, in every bundle that can load
// lazy code (the package declares "sideEffects": false).
//
// Only function declarations and the classes and constants of modules without imports (errors,
// runtime/kernels, runtime/platform) are read here, so the binding at load does not depend on
// the order in which bundlers evaluate the modules of an import cycle.
import { GraphError, LoadError, ShapeError, UnsupportedOpError, ValueError, WasmCnnError } from '../errors';
import { constInputs, fromFloat, fromInt, storeFolded, toStored } from '../graph/constEval';
import { intBytes, numel, shapeStr } from '../graph/ir';
import { reshapeTarget, shapeSlice, sliceRanges, squeezeShape, unsqueezeShape } from '../graph/shapes';
import { cloneGraph, consumers, freshName, isGraphOutput, nodeReads, producers, removeDeadNodes } from '../graph/util';
import { hubTemplate } from '../io/hub';
import { window2d } from '../ops/geometry';
import { PARALLEL_KERNELS } from '../runtime/kernels';
import { platform } from '../runtime/platform';
import { bindKit } from './kit';

/** Binds src/lazy/kit.ts to the engine's error classes and helpers (loaders call it after a dynamic import). */
export function provideKit(): void {
  bindKit({
    WasmCnnError, GraphError, LoadError, ShapeError, UnsupportedOpError, ValueError,
    numel, shapeStr, intBytes, nodeReads, consumers, producers, isGraphOutput, freshName, removeDeadNodes, cloneGraph, fromFloat, fromInt, toStored, constInputs, storeFolded,
    reshapeTarget, shapeSlice, sliceRanges, squeezeShape, unsqueezeShape, window2d,
    hubTemplate, platform, PARALLEL_KERNELS,
  });
}

provideKit();
