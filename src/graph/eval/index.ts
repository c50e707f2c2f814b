// The host evaluator: plain-JS evaluation of one ONNX node on concrete int/bool/float values
// (evalNode) and of a whole (sub)graph (evalGraph), including the control-flow ops If and Loop
// (ONNX docs/Operators.md#If, #Loop: subgraphs see the enclosing scopes' values; Loop is bounded
// by its trip count M and by a hard iteration cap). Load-time constant folding (constEval.ts)
// and the run-time data-dependent tail of detectors both run on it. Op families live in the
// sibling files; this one dispatches and names the node in every error.
import { fromFloat, fromInt, GraphError, nodeReads, numel, ShapeError, UnsupportedOpError, ValueError, WasmCnnError } from '../../lazy/kit';
import type { Node, SubGraph, ValueInfo } from '../ir';
import { alloc, attrInts, attrNum, foldSize, intsOf, make, MAX_FOLD, scalarOf, type Const, type Kind, type Values } from './core';
import { BINARY_OPS, binary, cast, clip, softmax, UNARY_OPS, unary, variadic, VARIADIC_OPS, where } from './elementwise';
import { argMinMax, cumSum, gather, gatherElements, gatherND, nonZero, scatterElements, scatterND, topK } from './indexing';
import { reduce, REDUCE_OPS } from './reduce';
import {
  concat, constantOfShape, depthSpace, expand, pad, range, reshapeTarget, shapeSlice, slice, split, squeezeShape, tile, transpose, unsqueezeShape,
} from './shape';
import { nonMaxSuppression, roiAlign } from './detection';
import { convInteger, dynamicQuantizeLinear, matMulInteger } from './integer';

export { fromTyped, MAX_FOLD, toTyped, type Const, type HostArray, type Kind } from './core';
export { fromFloat, fromInt, toStored } from '../../lazy/kit';

/** A subgraph (If's branches, Loop's body) or a host-evaluated graph: the parts evalGraph reads (the reader's GRAPH attribute form). */
export type HostGraph = SubGraph;

/** Where a graph's node inputs are looked up: its own values, then the enclosing graphs'. */
export interface Scope {
  get(name: string): Const | undefined;
}

/** Options of host evaluation. */
export interface EvalOptions {
  /** Most iterations one Loop node may run (default 100000); more is a ValueError. */
  maxLoopIterations?: number;
  /** The enclosing scope, for subgraphs that read outer values. */
  outer?: Scope;
  /** Default-domain opset of the model (Softmax's axis semantics changed at 13); default 13. */
  opset?: number;
  /**
   * The node's first input is read by nothing else: ScatterElements and ScatterND may write their
   * result into its values instead of a copy (a tail's caller that tracks lifetimes sets it).
   */
  reuseFirst?: boolean;
  /**
   * An array ConstantOfShape may fill for its result instead of allocating one (a tail's caller
   * recycling a large buffer across runs when the result is known not to outlive the run).
   */
  into?: (kind: Kind, len: number) => Values | undefined;
}

/** Default bound on the iterations of one Loop node. */
export const MAX_LOOP_ITERATIONS = 100_000;

/** Ops the host evaluator implements (with If and Loop, which need their subgraph attributes). */
export const HOST_OPS: ReadonlySet<string> = new Set([
  'Identity', 'Dropout', 'Constant', 'Cast', 'CastLike', 'Shape', 'Size', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Concat',
  'Split', 'Slice', 'Transpose', 'Expand', 'Tile', 'ConstantOfShape', 'Range', 'Gather', 'GatherElements', 'GatherND',
  'ScatterND', 'ScatterElements', 'Scatter', 'NonZero', 'Where', 'TopK', 'ArgMax', 'ArgMin', 'CumSum', 'Clip', 'Softmax', 'Hardmax',
  'LogSoftmax', 'If', 'Loop', 'NonMaxSuppression', 'RoiAlign', 'DepthToSpace', 'SpaceToDepth', 'Pad',
  'DynamicQuantizeLinear', 'MatMulInteger', 'ConvInteger',
  ...UNARY_OPS, ...BINARY_OPS, ...VARIADIC_OPS, ...REDUCE_OPS,
]);


/** Name the node in an evaluator error, keeping its class; JS errors become Shape/GraphErrors. */
function located(n: Node, e: unknown): Error {
  if (e instanceof UnsupportedOpError) return e;
  const at = `${n.op} node '${n.name}': `;
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof ValueError) return new ValueError(at + msg);
  if (e instanceof ShapeError) return new ShapeError(at + msg);
  if (e instanceof GraphError) return new GraphError(at + msg);
  if (e instanceof WasmCnnError) return e;
  if (e instanceof RangeError || e instanceof TypeError) return new GraphError(`${at}malformed attributes or inputs (${msg})`);
  return new ShapeError(at + msg);
}

/**
 * Evaluate node `n` on concrete inputs (`null` for an omitted optional input). Returns its
 * outputs in order. Errors are typed (ShapeError, ValueError, GraphError, UnsupportedOpError)
 * and name the node.
 */
export function evalNode(n: Node, ins: (Const | null)[], opts: EvalOptions = {}): Const[] {
  try {
    return evalInner(n, ins, opts);
  } catch (e) {
    throw located(n, e);
  }
}

function need(c: Const | null | undefined, what: string): Const {
  if (!c) throw new GraphError(`input ${what} is missing`);
  return c;
}

function evalInner(n: Node, c: (Const | null)[], opts: EvalOptions): Const[] {
  const op = n.op;
  const x = () => need(c[0], '0');
  const at = (k: number) => need(c[k], String(k));
  switch (op) {
    case 'Identity':
      return [x()];
    case 'Dropout': {
      const out = [x()];
      if (n.outputs[1]) out.push({ v: new Uint8Array(x().v.length).fill(1), shape: x().shape.slice(), kind: 'bool' });
      return out;
    }
    case 'Constant':
      return [constantAttr(n)];
    case 'Cast':
      return [cast(n, x())];
    case 'CastLike': {
      const t = at(1);
      const to = t.kind === 'float' ? 1 : t.kind === 'bool' ? 9 : t.dt ?? 7;
      return [cast({ ...n, attrs: { to } }, x())];
    }
    case 'Shape':
      return [shapeSlice(n, x().shape)];
    case 'Size':
      return [{ v: [numel(x().shape)], shape: [], kind: 'int' }];
    case 'Reshape': {
      const shape = reshapeTarget(x().shape, intsOf(at(1))!, attrNum(n, 'allowzero', 0) !== 0);
      return [{ ...x(), shape }];
    }
    case 'Flatten': {
      const r = x().shape.length;
      let a = attrNum(n, 'axis', 1);
      if (a < 0) a += r;
      if (!(a >= 0 && a <= r)) throw new ShapeError(`axis ${attrNum(n, 'axis', 1)} is out of range for rank ${r}`);
      return [{ ...x(), shape: [numel(x().shape.slice(0, a)), numel(x().shape.slice(a))] }];
    }
    case 'Squeeze':
      return [{ ...x(), shape: squeezeShape(x().shape, intsOf(c[1]) ?? attrInts(n, 'axes')) }];
    case 'Unsqueeze': {
      const axes = intsOf(c[1]) ?? attrInts(n, 'axes');
      if (!axes) throw new GraphError('no axes given');
      return [{ ...x(), shape: unsqueezeShape(x().shape, axes) }];
    }
    case 'Concat':
      return [concat(c.filter((p): p is Const => !!p), attrNum(n, 'axis', NaN))];
    case 'Split':
      return split(n, x(), c[1] ?? null);
    case 'Slice': {
      const starts = intsOf(c[1]) ?? attrInts(n, 'starts');
      const ends = intsOf(c[2]) ?? attrInts(n, 'ends');
      if (!starts || !ends) throw new GraphError('starts or ends missing');
      return [slice(x(), starts, ends, intsOf(c[3]) ?? attrInts(n, 'axes'), intsOf(c[4]))];
    }
    case 'Transpose': {
      const r = x().shape.length;
      return [transpose(x(), attrInts(n, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i))];
    }
    case 'Expand':
      return [expand(x(), intsOf(at(1))!)];
    case 'Tile':
      return [tile(x(), intsOf(at(1))!)];
    case 'ConstantOfShape':
      return [constantOfShape(n, x(), opts.into)];
    case 'Range':
      return [range(x(), at(1), at(2))];
    case 'Gather':
      return [gather(n, x(), at(1))];
    case 'GatherElements':
      return [gatherElements(n, x(), at(1))];
    case 'GatherND':
      return [gatherND(n, x(), at(1))];
    case 'ScatterND':
      return [scatterND(n, x(), at(1), at(2), opts.reuseFirst)];
    case 'ScatterElements':
    case 'Scatter':
      return [scatterElements(n, x(), at(1), at(2), opts.reuseFirst)];
    case 'NonZero':
      return [nonZero(x())];
    case 'Where':
      return [where(x(), at(1), at(2))];
    case 'TopK': {
      const k = c[1] ?? (typeof n.attrs.k === 'number' ? { v: [n.attrs.k], shape: [1], kind: 'int' as Kind } : null);
      return topK(n, x(), need(k, 'K'));
    }
    case 'ArgMax':
    case 'ArgMin':
      return [argMinMax(n, x())];
    case 'CumSum':
      return [cumSum(n, x(), at(1))];
    case 'Clip':
      return [clip(n, x(), c[1] ?? null, c[2] ?? null)];
    case 'Softmax':
    case 'Hardmax':
    case 'LogSoftmax':
      return [softmax(n, x(), opts.opset ?? 13)];
    case 'NonMaxSuppression':
      return [nonMaxSuppression(n, x(), at(1), c[2] ?? null, c[3] ?? null, c[4] ?? null)];
    case 'RoiAlign':
      return [roiAlign(n, x(), at(1), at(2), opts.opset ?? 13)];
    case 'DynamicQuantizeLinear':
      return dynamicQuantizeLinear(x());
    case 'MatMulInteger':
      return [matMulInteger(n, x(), at(1), c[2] ?? null, c[3] ?? null)];
    case 'ConvInteger':
      return [convInteger(n, x(), at(1), c[2] ?? null, c[3] ?? null)];
    case 'DepthToSpace':
    case 'SpaceToDepth':
      return [depthSpace(n, x())];
    case 'Pad':
      return [pad(n, x(), c[1] ?? null, c[2] ?? null, c[3] ?? null)];
    case 'If':
      return evalIf(n, x(), opts);
    case 'Loop':
      return evalLoop(n, c, opts);
  }
  if (UNARY_OPS.has(op)) return [unary(n, x())];
  if (BINARY_OPS.has(op)) return [binary(n, x(), at(1))];
  if (VARIADIC_OPS.has(op)) return [variadic(n, c.filter((p): p is Const => !!p))];
  if (REDUCE_OPS.has(op)) return [reduce(n, x(), c[1] ?? null)];
  throw new UnsupportedOpError(op, n.name, 'not implemented by the host evaluator');
}

function constantAttr(n: Node): Const {
  const a = n.attrs;
  const t = a.value;
  if (t && typeof t === 'object' && !Array.isArray(t)) {
    if ('data' in t) return fromFloat(t);
    if ('ints' in t) return fromInt(t);
  }
  if (typeof a.value_float === 'number') return { v: Float32Array.of(a.value_float), shape: [], kind: 'float' };
  if (typeof a.value_int === 'number') return { v: [a.value_int], shape: [], kind: 'int' };
  if (Array.isArray(a.value_floats)) return { v: Float32Array.from(a.value_floats as number[]), shape: [a.value_floats.length], kind: 'float' };
  if (Array.isArray(a.value_ints)) return { v: (a.value_ints as number[]).slice(), shape: [a.value_ints.length], kind: 'int' };
  throw new UnsupportedOpError('Constant', n.name, 'no value, value_float(s) or value_int(s) attribute');
}

// ---- Graphs and control flow ------------------------------------------------------------------

/** A node's subgraph attribute (the reader stores GRAPH attributes as HostGraph objects). */
function subgraph(n: Node, k: string): HostGraph {
  const g = (n.attrs as Record<string, unknown>)[k] as HostGraph | undefined;
  if (!g || typeof g !== 'object' || !Array.isArray(g.nodes)) throw new GraphError(`subgraph attribute '${k}' is missing`);
  return g;
}

/**
 * Evaluate a graph on `feeds` (its inputs by name); returns its outputs in order. Node inputs
 * not found among the graph's own values are read from `opts.outer` (enclosing graphs).
 */
export function evalGraph(g: HostGraph, feeds: Map<string, Const>, opts: EvalOptions = {}): Const[] {
  const vals = new Map<string, Const>(feeds);
  const outer = opts.outer;
  const scope: Scope = {
    get(name) {
      const v = vals.get(name);
      if (v) return v;
      const ft = g.initializers?.get(name);
      if (ft) return fromFloat(ft);
      const it = g.intConstants?.get(name);
      if (it) return fromInt(it);
      return outer?.get(name);
    },
  };
  for (const i of g.inputs) if (!vals.has(i.name)) throw new GraphError(`graph input '${i.name}' is not fed`);
  const inner: EvalOptions = { ...opts, outer: scope };
  for (const n of g.nodes) {
    const ins = n.inputs.map((name) => {
      if (!name) return null;
      const v = scope.get(name);
      if (!v) throw new GraphError(`${n.op} node '${n.name}' reads '${name}', which no input, constant or earlier node provides`);
      return v;
    });
    const outs = evalNode(n, ins, inner);
    n.outputs.forEach((name, j) => {
      if (name && outs[j]) vals.set(name, outs[j]);
    });
  }
  return g.outputs.map((o) => {
    const v = scope.get(o.name);
    if (!v) throw new GraphError(`graph output '${o.name}' is not computed`);
    return v;
  });
}

function evalIf(n: Node, cond: Const, opts: EvalOptions): Const[] {
  const branch = subgraph(n, scalarOf(cond, 'cond') ? 'then_branch' : 'else_branch');
  const outs = evalGraph(branch, new Map(), opts);
  if (outs.length !== n.outputs.length) throw new GraphError(`the branch taken has ${outs.length} outputs, the node ${n.outputs.length}`);
  return outs;
}

function evalLoop(n: Node, c: (Const | null)[], opts: EvalOptions): Const[] {
  const body = subgraph(n, 'body');
  const cap = opts.maxLoopIterations ?? MAX_LOOP_ITERATIONS;
  const m = c[0] ? scalarOf(c[0], 'M') : undefined;
  let cond = c[1] ? !!scalarOf(c[1], 'cond') : true;
  let carried = c.slice(2).map((v, i) => need(v, `v_initial ${i}`));
  const nCarried = carried.length;
  if (body.inputs.length !== nCarried + 2) throw new GraphError(`the body takes ${body.inputs.length} inputs, the loop feeds ${nCarried + 2}`);
  const nScan = body.outputs.length - 1 - nCarried;
  if (nScan < 0 || n.outputs.length > nCarried + nScan) throw new GraphError(`the body's ${body.outputs.length} outputs do not match ${nCarried} carried values`);
  if (m !== undefined && !(m >= 0)) throw new ValueError(`trip count M = ${m}`);
  const scans: Const[][] = Array.from({ length: nScan }, () => []);
  const scanSize = new Array<number>(nScan).fill(0);
  let i = 0;
  for (; (m === undefined || i < m) && cond; i++) {
    if (i >= cap)
      throw new ValueError(`Loop did not finish within ${cap} iterations (trip count ${m ?? 'none'}; raise maxLoopIterations if it is meant to)`);
    const feeds = new Map<string, Const>();
    feeds.set(body.inputs[0].name, { v: [i], shape: [], kind: 'int' });
    feeds.set(body.inputs[1].name, { v: [cond ? 1 : 0], shape: [], kind: 'bool' });
    for (let j = 0; j < nCarried; j++) feeds.set(body.inputs[j + 2].name, carried[j]);
    const outs = evalGraph(body, feeds, opts);
    cond = !!scalarOf(outs[0], 'cond_out');
    carried = outs.slice(1, 1 + nCarried);
    for (let j = 0; j < nScan; j++) {
      const part = outs[1 + nCarried + j];
      scanSize[j] += part.v.length;
      // refuse as soon as the stacked result would pass the cap, not after collecting it all
      if (scanSize[j] > MAX_FOLD) throw new ShapeError(`scan output ${j} grows past ${MAX_FOLD} elements after ${i + 1} iterations`);
      scans[j].push(part);
    }
  }
  const scanOut = scans.map((parts, j) => stack(parts, body.outputs[1 + nCarried + j]));
  return [...(carried as Const[]), ...scanOut];
}

/**
 * Scan outputs: the per-iteration values stacked along a new first axis. After no iteration the
 * result is empty, shaped [0, ...declared shape] when the body declares one, else [0].
 */
function stack(parts: Const[], info: ValueInfo | undefined): Const {
  if (!parts.length) {
    const s = info?.shape && info.shape.every((d) => d >= 0) ? info.shape : [];
    return make(info?.dtype ?? 'float', [], [0, ...s]);
  }
  const s = parts[0].shape;
  for (const p of parts)
    if (p.shape.length !== s.length || p.shape.some((d, i) => d !== s[i]))
      throw new ShapeError(`scan output changes shape across iterations ([${s}] then [${p.shape}])`);
  const per = numel(s);
  const shape = [parts.length, ...s];
  const len = foldSize(shape);
  const k = parts[0].kind;
  const out = alloc(k, len);
  for (let j = 0; j < parts.length; j++) {
    const v = parts[j].v;
    for (let t = 0; t < per; t++) out[j * per + t] = v[t];
  }
  return make(k, out, shape, parts[0].dt);
}
export { layerRows, planStats, stateDictOf, stateEntries, summaryTable, timeSteps } from './report';
export { intFeed, runIsland, runTail, splitOff, tailLayers, tailProfile, tailProgram, type Island, type IslandHost, type TailProgram, type TailStep } from './tail';
export { nodeReads } from '../../lazy/kit';

/**
 * The enclosing-scope values subgraph `g` (an If branch, a Loop body) reads without defining
 * them, nested subgraphs included, and those it returns as they are (nodeReads' part for
 * subgraph attributes; it lives here, loaded with the evaluator, as only If/Loop have them).
 */
export function outerReads(g: HostGraph): string[] {
  const own = new Set<string>(g.inputs.map((i) => i.name));
  for (const k of g.initializers?.keys() ?? []) own.add(k);
  for (const k of g.intConstants?.keys() ?? []) own.add(k);
  const out: string[] = [];
  for (const n of g.nodes) {
    for (const r of nodeReads(n)) if (!own.has(r)) out.push(r);
    for (const o of n.outputs) own.add(o);
  }
  for (const o of g.outputs) if (!own.has(o.name)) out.push(o.name);
  return out;
}
