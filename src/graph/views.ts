// Zero-copy channel concat and split on NHWC maps. A value can live inside a wider buffer as a
// contiguous channel range ("view"): producers that take an output pixel stride write straight
// into their slice of a Concat's output (DenseNet, GhostNet, Inception branches), and Split or
// channel Slice outputs read their slice of the input in place (ShuffleNet). A value becomes a
// view only when its producer can write strided and every reader can read strided.
import { opDef } from '../ops';
import type { Layout } from '../ops/types';
import type { Graph, Node } from './ir';
import { consumers, isGraphOutput, producers } from './util';

export interface ChannelView {
  /** the value whose buffer holds this one */
  parent: string;
  /** first channel inside the parent */
  offset: number;
}

export interface ViewPlan {
  views: Map<string, ChannelView>;
  /** nodes that compute nothing because every output is a view of what they read or write */
  noops: Set<Node>;
}

export function planViews(g: Graph, layouts: Map<string, Layout>, aliases: Map<string, string>): ViewPlan {
  const views = new Map<string, ChannelView>();
  const noops = new Set<Node>();
  const readers = consumers(g);
  const prod = producers(g);
  const aliased = new Set<string>([...aliases.keys(), ...aliases.values()]);
  const isGraphInput = (v: string) => g.inputs.some((i) => i.name === v);
  const channels = (v: string) => g.shapes.get(v)![1];
  const nhwc4 = (v: string) => layouts.get(v) === 'nhwc' && g.shapes.get(v)?.length === 4;

  const resolve = (v: string): { root: string; off: number } => {
    let off = 0;
    let r = v;
    while (views.has(r)) {
      off += views.get(r)!.offset;
      r = views.get(r)!.parent;
    }
    return { root: r, off };
  };
  const readersOk = (v: string, except?: Node) =>
    (readers.get(v) ?? []).every((n) => n === except || n.op === 'Concat' || !!opDef(n.op)?.stridedIn);
  const free = (v: string) => nhwc4(v) && !isGraphOutput(g, v) && !isGraphInput(v) && !aliased.has(v) && !views.has(v);
  const channelAxis = (n: Node) => {
    const a = (n.attrs.axis as number | undefined) ?? 0;
    return a === 1 || a === -3;
  };

  // Split / channel Slice: outputs read their slice of the input in place
  for (const n of g.nodes) {
    const x = n.inputs[0];
    if (!x || !nhwc4(x) || aliased.has(x)) continue;
    let offsets: number[] | undefined;
    if (n.op === 'Split' && channelAxis(n)) {
      let o = 0;
      offsets = n.outputs.map((out) => {
        const at = o;
        o += channels(out);
        return at;
      });
    } else if (n.op === 'Slice') {
      const xs = g.shapes.get(x)!;
      const ys = g.shapes.get(n.outputs[0])!;
      const start = sliceChannelStart(g, n, xs);
      if (start !== undefined && xs[0] === ys[0] && xs[2] === ys[2] && xs[3] === ys[3]) offsets = [start];
    }
    if (!offsets || !n.outputs.every((o) => free(o) && readersOk(o))) continue;
    n.outputs.forEach((o, i) => views.set(o, { parent: x, offset: offsets![i] }));
    noops.add(n);
  }

  // Concat: producers write into their slice; later concats first so chains nest
  const concats = g.nodes.filter((n) => n.op === 'Concat' && channelAxis(n) && nhwc4(n.outputs[0]) && n.inputs.every(nhwc4));
  for (const k of [...concats].reverse()) {
    const out = k.outputs[0];
    const base = resolve(out);
    let off = 0;
    let covered = 0;
    for (const a of k.inputs) {
      const want = { root: base.root, off: base.off + off };
      if (views.has(a)) {
        const r = resolve(a);
        if (r.root === want.root && r.off === want.off) covered++;
      } else {
        const p = prod.get(a);
        const writer = p && p.outputs[0] === a && (!!opDef(p.op)?.stridedOut || p.op === 'Concat');
        if (writer && free(a) && readersOk(a) && k.inputs.filter((x) => x === a).length === 1) {
          views.set(a, { parent: out, offset: off });
          covered++;
        }
      }
      off += channels(a);
    }
    if (covered === k.inputs.length) noops.add(k);
  }
  // an earlier concat of a contiguous run of those slices is itself a view (DenseNet prefixes)
  for (const k of concats) {
    if (noops.has(k) || !free(k.outputs[0]) || !readersOk(k.outputs[0])) continue;
    const rs = k.inputs.map((a) => (views.has(a) ? resolve(a) : undefined));
    if (rs.some((r) => !r)) continue;
    let expect = rs[0]!.off;
    const contiguous = rs.every((r, i) => {
      const ok = r!.root === rs[0]!.root && r!.off === expect;
      expect += channels(k.inputs[i]);
      return ok;
    });
    if (!contiguous || rs[0]!.root === k.outputs[0]) continue;
    // the slices are written before this concat runs and stay live as long as the root does
    views.set(k.outputs[0], { parent: rs[0]!.root, offset: rs[0]!.off });
    noops.add(k);
  }
  return { views, noops };
}

/** Start channel of a Slice that takes a contiguous channel range with step 1, else undefined. */
function sliceChannelStart(g: Graph, n: Node, xs: number[]): number | undefined {
  const ints = (i: number) => (n.inputs[i] ? g.intConstants.get(n.inputs[i])?.ints : undefined);
  const starts = ints(1) ?? (n.attrs.starts as number[] | undefined);
  const ends = ints(2) ?? (n.attrs.ends as number[] | undefined);
  const axes = ints(3) ?? (n.attrs.axes as number[] | undefined) ?? starts?.map((_, i) => i);
  const steps = ints(4);
  if (!starts || !ends || !axes) return undefined;
  let start: number | undefined;
  for (let i = 0; i < axes.length; i++) {
    const a = axes[i] < 0 ? axes[i] + 4 : axes[i];
    const step = steps ? steps[i] : 1;
    const d = xs[a];
    let s = starts[i] < 0 ? starts[i] + d : starts[i];
    let e = ends[i] < 0 ? ends[i] + d : ends[i];
    s = Math.min(Math.max(s, 0), d);
    e = Math.min(Math.max(e, 0), d);
    if (step !== 1) return undefined;
    if (a === 1) start = s;
    else if (s !== 0 || e !== d) return undefined;
  }
  return start ?? 0;
}
