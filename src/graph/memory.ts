// The static activation arena: every activation gets an offset planned from its lifetime
// (first-fit over the node order), aliases share their root's bytes, so a run allocates nothing.
import type { Graph } from './ir';
import { numel } from './ir';

export interface ArenaPlan {
  /** Byte offset of every activation (aliases resolved) from the arena base. */
  offsets: Map<string, number>;
  size: number;
}

const ALIGN = 64;

export function planArena(g: Graph, aliases: Map<string, string>): ArenaPlan {
  const root = (v: string): string => {
    let r = v;
    while (aliases.has(r)) r = aliases.get(r)!;
    return r;
  };
  const isConst = (v: string) => g.initializers.has(v) || g.intConstants.has(v);
  const bytes = (v: string) => Math.ceil((numel(g.shapes.get(v)!) * 4) / ALIGN) * ALIGN;
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
    for (const o of n.outputs) if (o && root(o) === o) place(o);
    release(i);
  });
  // aliases take their root's offset
  const all = new Set<string>([...g.inputs.map((i) => i.name)]);
  for (const n of g.nodes) for (const o of n.outputs) if (o) all.add(o);
  for (const v of all) offsets.set(v, offsets.get(root(v))!);
  return { offsets, size };
}
