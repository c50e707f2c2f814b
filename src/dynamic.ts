// The planning state of a graph whose input shapes come with each run (a model with dynamic
// input dims, a detector tail's wasm island): its plans cached by input shape (least recently
// used evicted), the packed weights they share, the activation and scratch regions they run in,
// and the BatchNorm folds they reuse. A chunk of its own that compileGraph loads for such a
// model (and for a graph with a data-dependent tail, whose islands plan the same way): a
// fixed-shape model's page does not carry it. Like every lazy module it imports no module of the
// page's first bundle (src/lazy/kit.ts says why); model.ts hands it its planner.
import type { FoldMemo } from './graph/foldBatchNorm';
import type { Graph, Tensor } from './graph/ir';
import { cloneGraph, GraphError, ShapeError } from './lazy/kit';
import type { Backing, CompileOptions, Plan } from './model';
import type { Mem } from './runtime/memory';

/**
 * A block of memory every plan of a dynamic model runs its activations (or scratch) in: runs
 * never overlap, and nothing in it outlives a run, so plans share it. It is replaced by a larger
 * one when a shape needs more, the old one freed once no cached plan runs in it. One region of
 * the largest size seen means a new shape's first run writes to memory already touched (fresh
 * pages cost a page fault each on first write, which made such runs 3x slower).
 */
interface Region {
  ptr: number;
  size: number;
  owner: number;
  users: Set<number>;
}

/** Planning state of a model with dynamic input dims. */
export interface Dynamic {
  /** The graph as loaded, before shape inference; inputs carry -1 on their dynamic axes. */
  template: Graph;
  options: CompileOptions;
  /** Planned shapes, least recently used first (Map insertion order). */
  cache: Map<string, Plan>;
  size: number;
  /**
   * Packed weights shared by plans: address, memory owner, plans using them, and whether they
   * are made from the loaded weights alone (kept for the model's life, so a shape coming back
   * never re-packs; bounded by weights x packing variants) or from a plan's own derived tensor
   * (freed with the last plan using them).
   */
  shared: Map<string, { ptr: number; owner: number; users: Set<number>; stable: boolean }>;
  /** The loaded weights' arrays (a shared packing made from these is kept). */
  weights: WeakSet<object>;
  /** Shared regions by kind ('arena', 'scratch'), the current (largest) one last. */
  regions: Map<string, Region[]>;
  /** Times a weight was packed (a test hook: a cached variant is never packed again). */
  packs: number;
  /** Input shapes planned so far, evicted ones included (a test hook). */
  plans: number;
  /** Interned small arrays (by content) and identity ids of large ones, for shared keys. */
  ids: WeakMap<object, number>;
  interned: Map<string, Float32Array[]>;
  nextId: number;
  /**
   * BatchNorm folds kept across plans, by the BatchNorm's scale tensor: what else the fold was
   * made of (compared by identity), then its scale and bias (foldMemo).
   */
  folds: WeakMap<object, unknown[]>;
}

/** Plans one input shape (g: a copy of the template with concrete inputs) with its blocks under memory owner `owner`. */
export type Planner = (g: Graph, dyn: Dynamic, owner: number) => Plan;

/** Planning state for a graph whose input shapes come with each run (a dynamic model, a tail's island). */
export function newDynamic(template: Graph, options: CompileOptions, size: number, weights: WeakSet<object>): Dynamic {
  return {
    template, options, cache: new Map(), size, shared: new Map(), packs: 0, plans: 0,
    ids: new WeakMap(), interned: new Map(), nextId: 1, folds: new WeakMap(), weights, regions: new Map(),
  };
}

/**
 * The plan for input shapes `key`: the cached one, moved to most recent, or `make`'s (given a
 * copy of the template to plan), evicting the least recently used past the cache size; a plan
 * that fails leaves the cache unchanged.
 */
export function cachedPlan(dyn: Dynamic, mem: Mem, key: string, make: (g: Graph) => Plan): Plan {
  let p = dyn.cache.get(key);
  if (p) dyn.cache.delete(key);
  else p = make(cloneGraph(dyn.template));
  dyn.cache.set(key, p);
  for (const [k, old] of dyn.cache) {
    if (dyn.cache.size <= dyn.size) break;
    dyn.cache.delete(k);
    evict(dyn, mem, old);
  }
  return p;
}

/**
 * Plan one input shape (g: a copy of the template with concrete inputs). Its blocks belong to
 * a fresh memory owner, freed if planning fails; `what` names the shape in the ShapeError of a
 * shape the graph cannot take (undefined: the first plan at load, whose errors pass through as
 * they are).
 */
export function planDynamic(g: Graph, mem: Mem, dyn: Dynamic, plan: Planner, what?: string): Plan {
  const owner = mem.newOwner();
  const prev = mem.setOwner(owner);
  let p: Plan | undefined;
  try {
    p = plan(g, dyn, owner);
    dyn.plans++;
    return p;
  } catch (e) {
    if (what && (e instanceof ShapeError || e instanceof GraphError)) throw new ShapeError(`${what}: ${e.message}`);
    throw e;
  } finally {
    mem.setOwner(prev);
    if (!p) {
      mem.free(owner);
      releaseRegions(dyn, mem, owner);
      // weights packed for the failed plan alone are dropped too
      for (const [key, e] of dyn.shared)
        if (e.users.delete(owner) && e.users.size === 0 && !e.stable) {
          mem.free(e.owner);
          dyn.shared.delete(key);
        }
    }
  }
}

/** Give back an evicted plan's blocks, and packed tensors of its own that no cached plan uses any more. */
export function evict(dyn: Dynamic, mem: Mem, plan: Plan): void {
  mem.free(plan.owner);
  releaseRegions(dyn, mem, plan.owner);
  for (const key of plan.uses) {
    const e = dyn.shared.get(key);
    if (!e) continue;
    e.users.delete(plan.owner);
    if (e.users.size === 0 && !e.stable) {
      mem.free(e.owner);
      dyn.shared.delete(key);
    }
  }
}

/** A shared region of at least `bytes` for the plan of memory owner `user` (see Region). */
export function region(dyn: Dynamic, mem: Mem, kind: string, bytes: number, user: number): number {
  const list = dyn.regions.get(kind) ?? [];
  dyn.regions.set(kind, list);
  let r = list[list.length - 1];
  if (!r || r.size < bytes) {
    // an unused smaller region goes first, so its bytes can be part of the larger one
    if (r && r.users.size === 0) {
      mem.free(r.owner);
      list.pop();
    }
    const owner = mem.newOwner();
    const prev = mem.setOwner(owner);
    try {
      r = { ptr: mem.alloc(bytes), size: bytes, owner, users: new Set() };
    } finally {
      mem.setOwner(prev);
    }
    list.push(r);
  }
  r.users.add(user);
  return r.ptr;
}

/** The plan of memory owner `user` no longer runs: free the outgrown regions nobody uses. */
function releaseRegions(dyn: Dynamic, mem: Mem, user: number): void {
  for (const list of dyn.regions.values())
    for (let i = list.length - 1; i >= 0; i--) {
      const r = list[i];
      r.users.delete(user);
      // the current region stays for the next plan even when unused
      if (r.users.size === 0 && i < list.length - 1) {
        mem.free(r.owner);
        list.splice(i, 1);
      }
    }
}

/** Arrays up to this many floats are keyed by content (a per-plan fold of a Mul or Add is remade each plan). */
const INTERN_FLOATS = 4096;

/** A key part for a shared packing: small arrays by content, tensors and large arrays by identity. */
function keyOf(dyn: Dynamic, v: Tensor | Float32Array | string | number | boolean | undefined): string {
  if (typeof v === 'object' && !(v instanceof Float32Array)) {
    let id = dyn.ids.get(v);
    if (id === undefined) dyn.ids.set(v, (id = dyn.nextId++));
    return `#${id}`;
  }
  if (!(v instanceof Float32Array)) return typeof v === 'string' ? JSON.stringify(v) : String(v);
  let id = dyn.ids.get(v);
  if (id !== undefined) return `#${id}`;
  if (v.length <= INTERN_FLOATS) {
    const bits = new Int32Array(v.buffer, v.byteOffset, v.length);
    let h = 0x811c9dc5;
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193);
    const hk = `${v.length}:${h >>> 0}`;
    const same = dyn.interned.get(hk) ?? [];
    const hit = same.find((u) => u.length === v.length && new Int32Array(u.buffer, u.byteOffset, u.length).every((b, i) => b === bits[i]));
    if (hit) id = dyn.ids.get(hit)!;
    else {
      same.push(v);
      dyn.interned.set(hk, same);
    }
  }
  id ??= dyn.nextId++;
  dyn.ids.set(v, id);
  return `#${id}`;
}

/**
 * PlanCtx.shared of a plan of memory owner `owner`: a packing is made once per model (the first
 * plan to need a key packs it under its own memory owner) and its key recorded in `uses`.
 */
export function sharer(dyn: Dynamic, mem: Mem, owner: number, uses: Set<string>) {
  return (key: (Tensor | Float32Array | string | number | boolean | undefined)[], make: () => number): number => {
    const name = key.map((v) => keyOf(dyn, v)).join('|');
    let e = dyn.shared.get(name);
    if (!e) {
      const own = mem.newOwner();
      const prev = mem.setOwner(own);
      // made from the loaded weights (small arrays such as a folded Mul's scales are remade per
      // plan but keyed by content): kept; from a large tensor of this plan's own: not
      const arrays = key.filter((v): v is Tensor | Float32Array => typeof v === 'object');
      const stable = arrays.some((v) => dyn.weights.has(v)) && arrays.every((v) => dyn.weights.has(v) || (v instanceof Float32Array && v.length <= INTERN_FLOATS));
      try {
        e = { ptr: make(), owner: own, users: new Set(), stable };
      } catch (err) {
        mem.free(own); // a packing that failed (memory refused to grow) keeps nothing
        throw err;
      } finally {
        mem.setOwner(prev);
      }
      dyn.packs++;
      dyn.shared.set(name, e);
    }
    e.users.add(owner);
    uses.add(name);
    return e.ptr;
  };
}

/**
 * foldBatchNorm's memo for a dynamic model's plans: a fold whose parts (compared by identity)
 * match the one kept for its BatchNorm's scale tensor comes back as the same arrays, so the
 * shared packings find them by identity instead of hashing new ones; a fold of a plan's own
 * tensor replaces the entry, and goes with its tensor.
 */
export function foldMemo(dyn: Dynamic): FoldMemo {
  return (parts, make) => {
    const scale = parts[0] as object | undefined;
    const kept = scale && dyn.folds.get(scale);
    if (kept && parts.every((v, i) => v === kept[i])) return kept.slice(parts.length) as Float32Array[];
    const made = make();
    if (made && scale) dyn.folds.set(scale, [...parts, ...made]);
    return made;
  };
}
