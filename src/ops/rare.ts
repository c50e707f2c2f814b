// The ops few models hold (DeformConv, MaxUnpool) keep their shape rules here in the page's
// first bundle and load their planners (src/ops/rarePlans.ts) as a chunk of their own:
// compileGraph awaits loadRarePlans() for a graph that has one, before planning.
import { WasmCnnError } from '../errors';
import type { Node } from '../graph/ir';
import { provideKit } from '../lazy/supply';
import type { Window } from './geometry';
import type { InferCtx, PlanCtx, Step } from './types';

/** What the planners take from the eager engine (bound when their chunk loads). */
export interface RareLib {
  deformGeometry: (n: Node, ctx: InferCtx) => { x: number[]; w: number[]; win: Window; groups: number; og: number };
  unpoolShapes: (n: Node, ctx: InferCtx) => { out: number[]; grid: number[] };
  geomBlock: typeof import('./window').geomBlock;
  packWeights: typeof import('./window').packWeights;
  input: typeof import('./util').input;
}

/** Op types whose planners are in the chunk. */
export const RARE_OPS: ReadonlySet<string> = new Set(['DeformConv', 'MaxUnpool']);

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

/** The plan of a DeformConv or MaxUnpool node (the chunk is loaded by then: compileGraph awaited it). */
export function planRare(n: Node, ctx: PlanCtx): Step {
  if (!plans) throw new WasmCnnError(`internal: the planner of ${n.op} node '${n.name}' was not loaded`);
  return n.op === 'DeformConv' ? plans.planDeformConv(n, ctx) : plans.planMaxUnpool(n, ctx);
}
