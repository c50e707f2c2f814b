// Receptive field, jump (effective stride) and start (centre of the first output's field) of
// every layer, per spatial axis, in input pixels: Araujo, Norris & Sim 2019, "Computing Receptive
// Fields of Convolutional Neural Networks" (Distill), and Dang Ha The Hien 2017, "A guide to
// receptive field arithmetic for Convolutional Neural Networks". For a sliding window of kernel
// k, stride s, dilation d and leading pad p, with k_eff = d·(k − 1) + 1:
//     r_out = r_in + (k_eff − 1)·j_in      j_out = j_in·s      start_out = start_in + ((k_eff − 1)/2 − p)·j_in
// starting from r = 1, j = 1, start = 0 at the graph input (pixel i's centre is at i). Output
// position o of a layer then sees the input box centred at start + o·jump, `size` pixels wide
// (a box: with strides larger than the kernels before them it may hold pixels that do not
// reach o; sizes are not clipped to the image, the box may reach into the padding).
//
// Rules beyond sliding windows (all documented on receptiveField()):
//   * elementwise ops, activations, BatchNorm, LRN, Add/Mul/Concat (channel axis) and the like
//     take the union of their inputs' boxes; when several inputs disagree on the jump the
//     union takes the largest jump and the entry is marked `aligned: false` (Araujo et al.
//     call such a network unaligned: no single jump describes it).
//   * global pooling, Reduce*/Softmax/LayerNorm/InstanceNorm over a spatial axis, Flatten of a
//     spatial map, Gemm, MatMul contracting a spatial axis, and ops this analysis cannot follow
//     spatially: the union of the boxes of every input position (the whole input), marked
//     `global: true`; its jump is j_in·H (as an H×H window of stride H would give).
//   * an input that broadcasts over the spatial axes (squeeze-excitation's channel gate) makes
//     every position depend on the whole input: the result is global (unless ignoreGates).
//   * Gemm is per position when its rows are positions ([N·H·W, C] from a Reshape: ConvNeXt's
//     pointwise linear layers); MatMul likewise when it contracts a non-spatial axis.
//   * ConvTranspose and MaxUnpool (the transpose of a window): j_out = j_in / s; output o maps
//     back to input step (o + p − κ·d)/s for the taps κ that land on an integer; start is the
//     centre of those steps for o = 0 and size the smallest box about the per-position centre
//     line that holds the contributing steps of every phase o mod s (an upper bound: phases
//     differ), so size may be fractional in input steps.
//   * Resize/Upsample: j_out = j_in / scale, start from the op's coordinate transform at o = 0,
//     size r_in (nearest), r_in + j_in (linear: 2 taps) or r_in + 3·j_in (cubic: 4 taps).
//   * Slice/Split/Pad on a spatial axis shift the start (and Slice's step multiplies the jump).
//   * DeformConv reports its nominal sampling grid (learned offsets can look anywhere).
import type { Graph, Node } from '../graph/ir';
import { sliceRanges } from '../graph/shapes';
import { setSummaryAnalysis, type Model } from '../model';
import { attrInt, attrInts, attrString, input, normAxis } from '../ops/attrs';
import { window2d } from '../ops/geometry';

/** Receptive field of one layer (its first output), per spatial axis [height, width]. */
export interface ReceptiveField {
  /** node name (as in Model.layerInfo()) */
  name: string;
  /** ONNX op of the node */
  op: string;
  /** width of the input box one output position sees, in input pixels */
  size: [number, number];
  /** input pixels between neighbouring output positions (effective stride) */
  jump: [number, number];
  /** input coordinate of output position 0's box centre (pixel i's centre is i) */
  start: [number, number];
  /** the output depends on the whole input (global pooling, flatten, Gemm, ...) */
  global: boolean;
  /** false when inputs with different jumps were merged (the largest jump is reported) */
  aligned: boolean;
}

interface Axis { size: number; jump: number; start: number }

/** What the analysis knows of a value: the box per spatial axis and where the grid sits. */
interface Geo {
  h: Axis;
  w: Axis;
  /** grid sizes [H, W] */
  grid: [number, number];
  /** axes of H and W in the value's shape; equal when H·W are merged into one axis; none if global */
  axes?: [number, number];
  global: boolean;
  aligned: boolean;
}

const left = (a: Axis) => a.start - (a.size - 1) / 2;
const right = (a: Axis) => a.start + (a.size - 1) / 2;

/** The union over all G positions of an axis (what a G-wide window of stride G sees). */
function wholeAxis(a: Axis, G: number): Axis {
  return { size: a.size + (G - 1) * a.jump, jump: a.jump * G, start: a.start + ((G - 1) * a.jump) / 2 };
}

function toGlobal(g: Geo): Geo {
  if (g.global) return g;
  return { h: wholeAxis(g.h, g.grid[0]), w: wholeAxis(g.w, g.grid[1]), grid: [1, 1], global: true, aligned: g.aligned };
}

function unionAxis(as: Axis[]): { axis: Axis; aligned: boolean } {
  const L = Math.min(...as.map(left));
  const R = Math.max(...as.map(right));
  const jumps = as.map((a) => a.jump);
  const jump = Math.max(...jumps);
  return { axis: { size: R - L + 1, jump, start: (L + R) / 2 }, aligned: jumps.every((j) => Math.abs(j - jump) < 1e-9) };
}

function union(gs: Geo[], axes: [number, number] | undefined, grid: [number, number] | undefined): Geo {
  const global = gs.some((g) => g.global) || !axes || !grid || gs.some((g) => g.grid[0] !== grid[0] || g.grid[1] !== grid[1]);
  const parts = global ? gs.map(toGlobal) : gs;
  const h = unionAxis(parts.map((g) => g.h));
  const w = unionAxis(parts.map((g) => g.w));
  const aligned = h.aligned && w.aligned && gs.every((g) => g.aligned);
  return global
    ? { h: h.axis, w: w.axis, grid: [1, 1], global: true, aligned }
    : { h: h.axis, w: w.axis, grid: grid!, axes, global: false, aligned };
}

/** One sliding window along an axis. */
function slide(a: Axis, k: number, s: number, d: number, p: number): Axis {
  const ke = d * (k - 1) + 1;
  return { size: a.size + (ke - 1) * a.jump, jump: a.jump * s, start: a.start + ((ke - 1) / 2 - p) * a.jump };
}

/** The transpose of a window along an axis (ConvTranspose, MaxUnpool); see the header. */
function slideTransposed(a: Axis, k: number, s: number, d: number, p: number): Axis {
  const ke = d * (k - 1) + 1;
  const centre = (o: number) => (o + p - (ke - 1) / 2) / s;
  let lo = Infinity, hi = -Infinity;
  for (let o = 0; o < s; o++)
    for (let t = 0; t < k; t++) {
      const num = o + p - t * d;
      if (((num % s) + s) % s !== 0) continue;
      const off = num / s - centre(o);
      lo = Math.min(lo, off);
      hi = Math.max(hi, off);
    }
  if (lo === Infinity) lo = hi = 0;
  return { size: a.size + (hi - lo) * a.jump, jump: a.jump / s, start: a.start + (centre(0) + (lo + hi) / 2) * a.jump };
}

/** Row-major strides of a shape. */
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Where a grid at element strides (sH, sW) sits in `shape` after a reshape (same data order). */
function locate(shape: number[], grid: [number, number], sH: number, sW: number): [number, number] | undefined {
  const st = strides(shape);
  const [H, W] = grid;
  const ah = shape.findIndex((d, i) => d === H && st[i] === sH);
  const aw = shape.findIndex((d, i) => d === W && st[i] === sW && i !== ah);
  if (ah >= 0 && aw >= 0 && ah !== aw) return [ah, aw];
  // H·W merged into one axis (possibly with outer axes such as the batch: [N·H·W, C])
  const m = shape.findIndex((d, i) => d % (H * W) === 0 && st[i] === sW);
  if (m >= 0 && sH === W * sW) return [m, m];
  return undefined;
}

function reduceAxes(n: Node, g: Graph, rank: number): number[] {
  const fromInput = n.op === 'ReduceSum' ? g.opset >= 13 : g.opset >= 18;
  const name = input(n, 1);
  const axes = fromInput ? (name ? g.intConstants.get(name)?.ints : undefined) : attrInts(n, 'axes');
  if (!axes || axes.length === 0) return attrInt(n, 'noop_with_empty_axes', 0) ? [] : Array.from({ length: rank }, (_, i) => i);
  return axes.map((a) => normAxis(n, a, rank));
}

/** Options of {@link receptiveField}. */
export interface ReceptiveFieldOptions {
  /**
   * Leave out inputs that broadcast over the spatial grid when an elementwise op also has a
   * spatial input: the channel gates of squeeze-excitation / ECA, which otherwise make every
   * later layer global. Default false (the gate does depend on the whole input).
   */
  ignoreGates?: boolean;
}

/**
 * Receptive field size, jump and start of every node of a network, per spatial axis, in input
 * pixels (Araujo et al. 2019). For a Model the analysis reads `sourceGraph` (the network as
 * built or imported, before fusion), so names and order match `layerInfo()`. Nodes that read no
 * activation (constant subgraphs) are left out; for a node with several outputs the first
 * counts. See the file header for the rules of each op family (branches and concatenations
 * take the union of their inputs' boxes; global pooling and everything after it, or after a
 * Flatten, sees the whole input and is marked `global`).
 */
export function receptiveField(model: Model | Graph, options: ReceptiveFieldOptions = {}): ReceptiveField[] {
  const g: Graph = 'sourceGraph' in model ? model.sourceGraph : model;
  const geo = new Map<string, Geo>();
  const unit = (): Axis => ({ size: 1, jump: 1, start: 0 });
  for (const i of g.inputs) {
    const s = i.shape ?? g.shapes.get(i.name);
    if (s && s.length === 4) geo.set(i.name, { h: unit(), w: unit(), grid: [s[2], s[3]], axes: [2, 3], global: false, aligned: true });
  }
  const shapeOf = (v: string): number[] => g.shapes.get(v) ?? [];
  const out: ReceptiveField[] = [];
  for (const n of g.nodes) {
    const ins = n.inputs.map((v) => (v ? geo.get(v) : undefined));
    const known = ins.filter((x): x is Geo => !!x);
    if (known.length === 0) continue;
    const outGeos = step(n, g, ins, known, shapeOf, options);
    n.outputs.forEach((o, i) => {
      const r = outGeos[Math.min(i, outGeos.length - 1)];
      if (o && r) geo.set(o, r);
    });
    const r = outGeos[0];
    out.push({
      name: n.name, op: n.op,
      size: [r.h.size, r.w.size], jump: [r.h.jump, r.w.jump], start: [r.h.start, r.w.start],
      global: r.global, aligned: r.aligned,
    });
  }
  return out;
}

/** The geometry of a node's outputs. */
function step(n: Node, g: Graph, ins: (Geo | undefined)[], known: Geo[], shapeOf: (v: string) => number[], options: ReceptiveFieldOptions): Geo[] {
  const x = ins[0];
  const xs = shapeOf(n.inputs[0]);
  const ys = shapeOf(n.outputs[0]);
  const spatial = (geo: Geo | undefined): geo is Geo => !!geo && !geo.global && !!geo.axes && geo.axes[0] === 2 && geo.axes[1] === 3 && xs.length === 4;
  const isGrid = (geo: Geo, a: number) => !geo.global && !!geo.axes && (geo.axes[0] === a || geo.axes[1] === a);
  const whole = (): Geo[] => [union(known.map(toGlobal), undefined, undefined)];
  /** Elementwise with numpy broadcasting: the inputs' boxes united on the output's grid. */
  const elementwise = (): Geo[] => {
    const local = known.find((k) => !k.global && k.axes);
    if (!local) return whole();
    const lr = shapeOf(n.inputs[ins.indexOf(local)]).length;
    const axes = local.axes!.map((a) => a + ys.length - lr) as [number, number];
    const merged = axes[0] === axes[1];
    const grid: [number, number] = merged ? local.grid : [ys[axes[0]], ys[axes[1]]];
    if (!merged && (grid[0] !== local.grid[0] || grid[1] !== local.grid[1])) return whole();
    const aligned = ins.map((k, i) => {
      if (k && options.ignoreGates && k.global) {
        // a gate broadcast over the grid ([N, C, 1, 1] against [N, C, H, W])
        const s = shapeOf(n.inputs[i]), sh = ys.length - s.length;
        if (axes.every((a) => a - sh < 0 || s[a - sh] === 1)) return undefined;
      }
      if (!k || k.global || !k.axes) return k;
      const sh = ys.length - shapeOf(n.inputs[i]).length;
      return k.axes[0] + sh === axes[0] && k.axes[1] + sh === axes[1] ? k : toGlobal(k);
    });
    return [union(aligned.filter((k): k is Geo => !!k), axes, grid)];
  };
  switch (n.op) {
    case 'Conv':
    case 'DeformConv':
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      if (!spatial(x)) return whole();
      const kernel = n.op === 'Conv' || n.op === 'DeformConv' ? attrInts(n, 'kernel_shape') ?? shapeOf(n.inputs[1]).slice(2) : attrInts(n, 'kernel_shape')!;
      const win = window2d(n, xs[2], xs[3], kernel, attrInt(n, 'ceil_mode', 0) !== 0);
      return [{
        h: slide(x.h, win.kh, win.sh, win.dh, win.pt), w: slide(x.w, win.kw, win.sw, win.dw, win.pl),
        grid: [ys[2], ys[3]], axes: [2, 3], global: false, aligned: x.aligned,
      }];
    }
    case 'ConvTranspose':
    case 'MaxUnpool': {
      if (!spatial(x)) return whole();
      const ks = attrInts(n, 'kernel_shape') ?? shapeOf(n.inputs[1]).slice(2);
      const [sh, sw] = attrInts(n, 'strides', [1, 1])!;
      const [dh, dw] = n.op === 'ConvTranspose' ? attrInts(n, 'dilations', [1, 1])! : [1, 1];
      let [pt, pl] = attrInts(n, 'pads', [0, 0, 0, 0])!;
      const autoPad = attrString(n, 'auto_pad', 'NOTSET');
      const outShape = n.op === 'ConvTranspose' ? attrInts(n, 'output_shape') ?? (autoPad.startsWith('SAME') ? [xs[2] * sh, xs[3] * sw] : undefined) : undefined;
      if (autoPad === 'VALID') pt = pl = 0;
      if (outShape) {
        // the ONNX rule: total padding from the requested size, split as ConvTranspose does
        const [oph, opw] = attrInts(n, 'output_padding', [0, 0])!;
        const full = (i: number, s: number, op: number, k: number, d: number) => s * (i - 1) + op + (k - 1) * d + 1;
        const th = full(xs[2], sh, oph, ks[0], dh) - outShape[outShape.length - 2];
        const tw = full(xs[3], sw, opw, ks[1], dw) - outShape[outShape.length - 1];
        const upper = autoPad === 'SAME_UPPER';
        pt = upper ? Math.floor(th / 2) : th - Math.floor(th / 2);
        pl = upper ? Math.floor(tw / 2) : tw - Math.floor(tw / 2);
      }
      return [{
        h: slideTransposed(x.h, ks[0], sh, dh, pt), w: slideTransposed(x.w, ks[1], sw, dw, pl),
        grid: [ys[2], ys[3]], axes: [2, 3], global: false, aligned: x.aligned,
      }];
    }
    case 'Resize':
    case 'Upsample': {
      if (!spatial(x)) return whole();
      const mode = attrString(n, 'mode', 'nearest');
      const ct = attrString(n, 'coordinate_transformation_mode', n.op === 'Upsample' || g.opset < 11 ? 'asymmetric' : 'half_pixel');
      const taps = mode === 'nearest' ? 1 : mode === 'cubic' ? 4 : 2;
      const axis = (a: Axis, inSize: number, outSize: number): Axis => {
        const scale = outSize / inSize;
        let jump = 1 / scale, x0: number;
        if (ct === 'align_corners') {
          jump = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
          x0 = 0;
        } else if (ct === 'asymmetric') x0 = 0;
        else if (ct === 'tf_half_pixel_for_nn') x0 = 0.5 / scale;
        else if (ct === 'pytorch_half_pixel') x0 = outSize > 1 ? 0.5 / scale - 0.5 : 0;
        else x0 = 0.5 / scale - 0.5;
        return { size: a.size + (taps - 1) * a.jump, jump: a.jump * jump, start: a.start + x0 * a.jump };
      };
      return [{ h: axis(x.h, xs[2], ys[2]), w: axis(x.w, xs[3], ys[3]), grid: [ys[2], ys[3]], axes: [2, 3], global: false, aligned: x.aligned }];
    }
    case 'Gemm': {
      // per row when the rows are positions ([N·H·W, C] · W, a per-pixel linear layer)
      const [a, b] = ins;
      if (!a || b || a.global || !a.axes || a.axes[0] !== a.axes[1]) return whole();
      const ta = attrInt(n, 'transA', 0) !== 0;
      return a.axes[0] === (ta ? 1 : 0) ? [{ ...a, axes: [0, 0] }] : whole();
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool':
    case 'InstanceNormalization':
    case 'Flatten':
      return whole();
    case 'Softmax':
    case 'LogSoftmax':
    case 'LayerNormalization': {
      if (!x || x.global) return whole();
      const opsetFlat = n.op !== 'LayerNormalization' && g.opset < 13;
      const a = normAxis(n, attrInt(n, 'axis', n.op === 'LayerNormalization' ? -1 : opsetFlat ? 1 : -1), xs.length);
      const touched = n.op === 'LayerNormalization' || opsetFlat ? xs.map((_, i) => i).filter((i) => i >= a) : [a];
      return touched.some((t) => isGrid(x, t)) ? whole() : elementwise();
    }
    case 'ReduceSum': case 'ReduceMean': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd':
    case 'ReduceSumSquare': case 'ReduceL1': case 'ReduceL2': case 'ReduceLogSumExp': {
      if (!x || x.global || !x.axes) return whole();
      const axes = reduceAxes(n, g, xs.length);
      if (axes.some((a) => isGrid(x, a))) return whole();
      const keep = attrInt(n, 'keepdims', 1) !== 0;
      const shift = (a: number) => (keep ? a : a - axes.filter((r) => r < a).length);
      return [{ ...x, axes: [shift(x.axes[0]), shift(x.axes[1])] }];
    }
    case 'Reshape':
    case 'Squeeze':
    case 'Unsqueeze': {
      if (!x || x.global || !x.axes) return whole();
      const st = strides(xs);
      const merged = x.axes[0] === x.axes[1];
      const sW = st[x.axes[1]];
      const sH = merged ? sW * x.grid[1] : st[x.axes[0]];
      const axes = locate(ys, x.grid, sH, sW);
      return axes ? [{ ...x, axes }] : whole();
    }
    case 'Transpose': {
      if (!x || x.global || !x.axes) return whole();
      const perm = attrInts(n, 'perm') ?? xs.map((_, i) => xs.length - 1 - i);
      return [{ ...x, axes: [perm.indexOf(x.axes[0]), perm.indexOf(x.axes[1])] }];
    }
    case 'Concat': {
      const a = normAxis(n, attrInt(n, 'axis', 1), ys.length);
      if (known.some((k) => isGrid(k, a))) return whole();
      return elementwise();
    }
    case 'Split': {
      if (!x || x.global || !x.axes) return whole();
      const a = normAxis(n, attrInt(n, 'axis', 0), xs.length);
      if (!isGrid(x, a)) return n.outputs.map(() => x);
      if (x.axes[0] === x.axes[1]) return whole();
      let offset = 0;
      return n.outputs.map((o) => {
        const d = shapeOf(o)[a];
        const r: Geo = { ...x, grid: a === x.axes![0] ? [d, x.grid[1]] : [x.grid[0], d] };
        if (a === x.axes![0]) r.h = { ...x.h, start: x.h.start + offset * x.h.jump };
        else r.w = { ...x.w, start: x.w.start + offset * x.w.jump };
        offset += d;
        return r;
      });
    }
    case 'Slice':
    case 'Pad': {
      if (!x || x.global || !x.axes) return whole();
      const ints = (i: number) => {
        const v = input(n, i);
        return v ? g.intConstants.get(v)?.ints : undefined;
      };
      let begin: number[], step: number[];
      if (n.op === 'Slice') {
        const starts = ints(1) ?? attrInts(n, 'starts'), ends = ints(2) ?? attrInts(n, 'ends');
        if (!starts || !ends) return whole();
        const r = sliceRanges(xs, starts, ends, ints(3) ?? attrInts(n, 'axes'), ints(4));
        begin = r.map((q) => q.start);
        step = r.map((q) => q.step);
      } else {
        const raw = g.opset < 11 ? attrInts(n, 'pads') : ints(1);
        if (!raw) return whole();
        const axesIn = g.opset < 11 ? undefined : ints(3);
        const axes = axesIn ? axesIn.map((a) => normAxis(n, a, xs.length)) : xs.map((_, i) => i);
        begin = xs.map(() => 0);
        axes.forEach((a, i) => (begin[a] = -raw[i]));
        step = xs.map(() => 1);
      }
      const [ah, aw] = x.axes;
      if (ah === aw) return begin[ah] !== 0 || step[ah] !== 1 || ys[ah] !== xs[ah] ? whole() : [x];
      const move = (a: Axis, b: number, s: number): Axis => ({ size: a.size, jump: a.jump * s, start: a.start + b * a.jump });
      return [{ ...x, h: move(x.h, begin[ah], step[ah]), w: move(x.w, begin[aw], step[aw]), grid: [ys[ah], ys[aw]] }];
    }
    case 'MatMul': {
      const [a, b] = ins;
      const ra = xs.length, rb = shapeOf(n.inputs[1]).length;
      if (a && b) return whole();
      if (a) return a.global || !a.axes || isGrid(a, ra - 1) ? whole() : elementwise();
      if (b) return b.global || !b.axes || (rb >= 2 && isGrid(b, rb - 2)) ? whole() : elementwise();
      return whole();
    }
    case 'Gather': {
      const a = normAxis(n, attrInt(n, 'axis', 0), xs.length);
      if (!x || x.global || isGrid(x, a) || ys.length !== xs.length) return whole();
      return [x];
    }
    default:
      return elementwise();
  }
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000));
const pairStr = (p: [number, number]) => (p[0] === p[1] ? fmt(p[0]) : `${fmt(p[0])}x${fmt(p[1])}`);

/**
 * A printable table of every layer's receptive field, jump and start (receptiveField()):
 * one row per node of the model's source graph, `whole input` for global layers and a `*` on
 * unaligned merges.
 */
export function receptiveFieldTable(model: Model | Graph, options: ReceptiveFieldOptions = {}): string {
  const rows = receptiveField(model, options).map((r) => [
    r.name, r.op, (r.global ? 'whole input' : pairStr(r.size)) + (r.aligned ? '' : ' *'), r.global ? '-' : pairStr(r.jump), r.global ? '-' : pairStr(r.start),
  ]);
  const head = ['layer', 'op', 'receptive field', 'jump', 'start'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// Model.summary() shows these columns once this module is loaded
setSummaryAnalysis(receptiveField);
