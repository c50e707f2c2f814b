// The static activation arena: every activation gets an offset planned from its lifetime
// (first-fit over the node order); aliases share their root's bytes and channel views sit
// inside their root's pixels, so a run allocates nothing.
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

export function planArena(g: Graph, aliases: Map<string, string>, views: Map<string, ChannelView> = new Map()): ArenaPlan {
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

  const blocks: { off: number; size: number; root: string }[] = [];
  const offsets = new Map<string, number>();
  let size = 0;
  const place = (r: string) => {
    if (offsets.has(r)) return;
    const need = bytes(r);
    blocks.sort((a, b) => a.off - b.off);
    let off = 0;
    for (const b of blocks) {
      if (b.off - off >= need) break;
      off = Math.max(off, b.off + b.size);
    }
    blocks.push({ off, size: need, root: r });
    offsets.set(r, off);
    size = Math.max(size, off + need);
  };
  const release = (i: number) => {
    for (let j = blocks.length - 1; j >= 0; j--) if ((lastUse.get(blocks[j].root) ?? -1) <= i) blocks.splice(j, 1);
  };
  for (const i of g.inputs) place(root(i.name));
  g.nodes.forEach((n, i) => {
    // a view's root is placed when its first slice is written
    for (const o of n.outputs) if (o) place(root(o));
    release(i);
  });
  // aliases take their root's offset; views their root's plus their first channel
  const all = new Set<string>([...g.inputs.map((i) => i.name)]);
  for (const n of g.nodes) for (const o of n.outputs) if (o) all.add(o);
  const pixelStride = new Map<string, number>();
  for (const v of all) {
    const r = root(v);
    offsets.set(v, offsets.get(r)! + viewOffset(v) * 4);
    const own = g.shapes.get(v)!;
    if (own.length === 4) pixelStride.set(v, inView(v) ? g.shapes.get(r)![1] : own[1]);
  }
  function inView(v: string): boolean {
    for (let r = v; ; ) {
      if (views.has(r)) return true;
      if (!aliases.has(r)) return false;
      r = aliases.get(r)!;
    }
  }
  return { offsets, pixelStride, size };
}
