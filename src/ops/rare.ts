// The ops few models hold (DeformConv, MaxUnpool, ConvTranspose, LRN, InstanceNormalization,
// DepthToSpace, SpaceToDepth, Gather and Expand of activations, Resize with antialias=1) keep
// their shape rules in the page's first bundle (the builder and shape inference need them
// synchronously) and load their planners (src/ops/rarePlans.ts) as a chunk of their own: an op
// definition whose plan is planRare is one of them, and compileGraph loads the chunk for a graph
// that holds one (a Gather of shapes, folded before planning, too), before planning and in
// parallel with the host evaluator it loads anyway. No graph pass creates these ops (the recognizers make
// LayerNormalization, ChannelLayerNorm, ChannelShuffle, Gelu; the int8 lowering its own ops), so
// a graph that holds none when it is compiled never plans one.
import { WasmCnnError } from '../errors';
import type { Node } from '../graph/ir';
import { provideKit } from '../lazy/supply';
import type { Window } from './geometry';
import type { InferCtx, PlanCtx, Step } from './types';

/** What the planners take from the eager engine (bound when their chunk loads). */
export interface RareLib {
  deformGeometry: (n: Node, ctx: InferCtx) => { x: number[]; w: number[]; win: Window; groups: number; og: number };
  unpoolShapes: (n: Node, ctx: InferCtx) => { out: number[]; grid: number[] };
  convTransposeGeometry: typeof import('./convTranspose').convTransposeGeometry;
  blockShuffle: typeof import('./depthToSpace').blockShuffle;
  lrnSize: typeof import('./norm').lrnSize;
  gatherIndices: typeof import('./gather').gatherIndices;
  planCopy: typeof import('./util').planCopy;
  broadcastStrides: typeof import('./util').broadcastStrides;
  denseStrides: typeof import('./util').denseStrides;
  geomBlock: typeof import('./window').geomBlock;
  packWeights: typeof import('./window').packWeights;
  input: typeof import('./util').input;
  attrFloat: typeof import('./util').attrFloat;
  resolveResize: typeof import('./resize').resolveResize;
  resizeSource: typeof import('./resize').resizeSource;
}

/** Op types whose planners are in the chunk (src/ops/index.ts adds those whose plan is planRare). */
export const RARE_OPS = new Set<string>();

let plans: typeof import('./rarePlans') | undefined;
let bind: (() => RareLib) | undefined;

/** The helpers the chunk needs (set by src/ops/index.ts, which imports every op module). */
export function setRareLib(f: () => RareLib): void {
  bind = f;
}

/** Loads the planners' chunk (once). */
export async function loadRarePlans(): Promise<void> {
  if (plans) return;
  const m = await import('./rarePlans');
  provideKit();
  m.bindRareLib(bind!());
  plans = m;
}

/** The plan of a rare op's node (the chunk is loaded by then: compileGraph awaited it). */
export function planRare(n: Node, ctx: PlanCtx): Step {
  if (!plans) throw new WasmCnnError(`internal: the planner of ${n.op} node '${n.name}' was not loaded`);
  return plans.RARE_PLANS[n.op](n, ctx);
}
