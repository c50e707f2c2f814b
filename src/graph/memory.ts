// The static activation arena: every activation gets an offset planned from its lifetime (first
// fit, once in node order and once largest first, the smaller arena kept); aliases share their
// root's bytes and channel views sit inside their root's pixels, so a run allocates nothing. An
// output may take the buffer of an input its node reads element for element for the last time
// (in place: an Add, an activation, a conv's fused residual; see OpDef.inPlace).
import type { Graph } from './ir';
import { numel } from './ir';
import type { ChannelView } from './views';

export interface ArenaPlan {
  /** Byte offset of every activation (aliases and views resolved) from the arena base. */
  offsets: Map<string, number>;
  /** Floats between consecutive pixels of each NHWC activation (its root buffer's channels). */
  pixelStride: Map<string, number>;
  size: number;
}

const ALIGN = 64;

/**
 * inPlace: per output, the positions of its node's inputs whose buffer it may take (read
 * element for element, same shape and layout: checked by the caller); taken when such an
 * input's root is a dense buffer of the same size that nothing reads later and no other input
 * position reads.
 */
export function planArena(
  g: Graph,
  aliases: Map<string, string>,
  views: Map<string, ChannelView> = new Map(),
  inPlace: Map<string, number[]> = new Map(),
): ArenaPlan {
  const root = (v: string): string => {
    let r = v;
    for (;;) {
      if (aliases.has(r)) r = aliases.get(r)!;
      else if (views.has(r)) r = views.get(r)!.parent;
      else return r;
    }
  };
  /** channel offset of a view within its root */
  const viewOffset = (v: string): number => {
    let off = 0;
    let r = v;
    for (;;) {
      if (aliases.has(r)) r = aliases.get(r)!;
      else if (views.has(r)) {
        off += views.get(r)!.offset;
        r = views.get(r)!.parent;
      } else return off;
    }
  };
  const isConst = (v: string) => g.initializers.has(v) || g.intConstants.has(v);
  // int8 activations take one byte an element (they are never channel views: no view offsets)
  const elemBytes = (v: string) => (g.qtypes?.has(v) ? 1 : 4);
  const bytes = (v: string) => Math.ceil((numel(g.shapes.get(v)!) * elemBytes(v)) / ALIGN) * ALIGN;
  const end = g.nodes.length;
  const lastUse = new Map<string, number>();
  const touch = (v: string, i: number) => {
    if (!v || isConst(v)) return;
    const r = root(v);
    lastUse.set(r, Math.max(lastUse.get(r) ?? -1, i));
  };
  for (const i of g.inputs) touch(i.name, 0);
  g.nodes.forEach((n, i) => {
    n.inputs.forEach((v) => touch(v, i));
    n.outputs.forEach((v) => touch(v, i));
  });
  for (const o of g.outputs) touch(o.name, end);

  /** v reaches its root through aliases only (a dense buffer, not a channel slice of one). */
  const dense = (v: string): boolean => {
    for (let r = v; ; ) {
      if (views.has(r)) return false;
      if (!aliases.has(r)) return true;
      r = aliases.get(r)!;
    }
  };
  // one buffer per root, live from the node that first writes it to the last that reads it
  // (inclusive: a node's inputs and outputs are live together)
  const bufOf = new Map<string, Buf>();
  const bufs: Buf[] = [];
  /** Give output o of node i the buffer of an input dying there, if one qualifies. */
  const takeOver = (o: string, i: number): boolean => {
    if (root(o) !== o) return false;
    const js = inPlace.get(o) ?? [];
    const ins = g.nodes[i].inputs;
    for (const j of js) {
      const v = ins[j];
      if (!v || isConst(v) || !dense(v)) continue;
      const r = root(v);
      const b = bufOf.get(r);
      if (!b || b.end !== i || lastUse.get(r) !== i || bytes(r) !== bytes(o)) continue;
      // the same bytes read at another position (a conv's window over its own residual, or a
      // reshape or slice of v) are read in another order
      if (ins.some((u, k) => u && !js.includes(k) && !isConst(u) && root(u) === r)) continue;
      b.end = lastUse.get(o) ?? i;
      bufOf.set(o, b);
      return true;
    }
    return false;
  };
  const open = (r: string, i: number) => {
    if (bufOf.has(r) || (i >= 0 && takeOver(r, i))) return;
    const b = { size: bytes(r), start: i, end: Math.max(i, lastUse.get(r) ?? i) };
    bufOf.set(r, b);
    bufs.push(b);
  };
  for (const i of g.inputs) open(root(i.name), -1);
  // a view's root opens when its first slice is written
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => o && open(root(o), i)));
  // two orders, the smaller arena kept: first fit in node order, and largest buffers first
  const inOrder = layout(bufs);
  const bySize = layout(bufs.slice().sort((a, b) => b.size - a.size || a.start - b.start));
  const { at, size } = bySize.size < inOrder.size ? bySize : inOrder;
  const offsets = new Map<string, number>();
  for (const [r, b] of bufOf) offsets.set(r, at.get(b)!);
  // aliases take their root's offset; views their root's plus their first channel
  const all = new Set<string>([...g.inputs.map((i) => i.name)]);
  for (const n of g.nodes) for (const o of n.outputs) if (o) all.add(o);
  const pixelStride = new Map<string, number>();
  for (const v of all) {
    const r = root(v);
    offsets.set(v, offsets.get(r)! + viewOffset(v) * 4);
    const own = g.shapes.get(v)!;
    if (own.length === 4) pixelStride.set(v, dense(v) ? own[1] : g.shapes.get(r)![1]);
  }
  return { offsets, pixelStride, size };
}

interface Buf { size: number; start: number; end: number }

/**
 * Offsets for buffers placed one by one in `order`, each at the lowest offset clear of the
 * buffers placed before it whose lifetimes overlap its own.
 */
function layout(order: Buf[]): { at: Map<Buf, number>; size: number } {
  const at = new Map<Buf, number>();
  const placed: { off: number; end: number; b: Buf }[] = []; // by offset
  let size = 0;
  for (const b of order) {
    let off = 0;
    for (const p of placed) {
      if (p.b.start > b.end || b.start > p.b.end) continue;
      if (p.off - off >= b.size) break;
      off = Math.max(off, p.end);
    }
    let j = placed.length;
    while (j > 0 && placed[j - 1].off > off) j--;
    placed.splice(j, 0, { off, end: off + b.size, b });
    at.set(b, off);
    size = Math.max(size, off + b.size);
  }
  return { at, size };
}
