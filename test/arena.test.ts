// The activation arena (src/graph/memory.ts) on random graphs: no two values alive at the same
// time share a byte, except an element-wise output written over the input it reads last (in
// place), and the arena is never smaller than the bytes alive at once.
import { describe, expect, it } from 'vitest';
import { planArena } from '../src/graph/memory';
import { emptyGraph, numel } from '../src/graph/ir';

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

/**
 * A random DAG over a few shapes: element-wise nodes (every input position read element for
 * element), residual nodes (input 1 element for element, input 0 read in another order, as a
 * conv's window; often the same value) and others.
 */
function randomGraph(seed: number) {
  const r = rng(seed);
  const g = emptyGraph();
  const shapes = [[1, 4, 8, 8], [1, 16, 8, 8], [1, 4, 16, 16], [1, 3, 5, 7]];
  g.inputs.push({ name: 'x', shape: shapes[0] });
  g.shapes.set('x', shapes[0]);
  const values = ['x'];
  const inPlace = new Map<string, number[]>();
  const count = 5 + r(40);
  for (let i = 0; i < count; i++) {
    const a = values[values.length - 1 - r(Math.min(values.length, 6))];
    const b = values[values.length - 1 - r(Math.min(values.length, 6))];
    const out = `v${i}`;
    const kind = r(3);
    const inputs = kind === 1 || r(2) === 0 ? [a, b] : [a];
    const shape = kind === 0 ? g.shapes.get(a)! : kind === 1 ? g.shapes.get(b)! : shapes[r(shapes.length)];
    g.nodes.push({ name: `n${i}`, op: ['Add', 'Conv', 'Other'][kind], inputs, outputs: [out], attrs: {} });
    g.shapes.set(out, shape);
    const positions = kind === 0 ? inputs.map((_, j) => j) : kind === 1 ? [1] : [];
    const same = positions.filter((j) => g.shapes.get(inputs[j])!.join() === shape.join());
    if (same.length) inPlace.set(out, same);
    values.push(out);
  }
  // the last value and a random earlier one are outputs
  g.outputs.push({ name: values[values.length - 1] }, { name: values[1 + r(values.length - 1)] });
  return { g, inPlace };
}

describe('activation arena', () => {
  for (const withInPlace of [false, true])
    it(`keeps values alive at once apart (300 random graphs, in place ${withInPlace ? 'allowed' : 'off'})`, () => {
      for (let seed = 1; seed <= 300; seed++) {
        const { g, inPlace } = randomGraph(seed);
        const plan = planArena(g, new Map(), new Map(), withInPlace ? inPlace : new Map());
        // lifetimes from first principles: written at its node (inputs before the first), read until its last reader
        const def = new Map<string, number>([['x', -1]]);
        const last = new Map<string, number>([['x', -1]]);
        g.nodes.forEach((n, i) => {
          def.set(n.outputs[0], i);
          last.set(n.outputs[0], i);
          for (const v of n.inputs) last.set(v, i);
        });
        for (const o of g.outputs) last.set(o.name, g.nodes.length);
        const bytes = (v: string) => numel(g.shapes.get(v)!) * 4;
        const names = [...def.keys()];
        let peak = 0;
        for (let t = -1; t <= g.nodes.length; t++) {
          let live = 0;
          for (const v of names) if (def.get(v)! <= t && t <= last.get(v)!) live += bytes(v);
          // an output written over its input counts once at its node
          for (const [o, js] of inPlace) {
            const ins = g.nodes[def.get(o)!].inputs;
            if (withInPlace && def.get(o) === t && js.some((j) => plan.offsets.get(ins[j]) === plan.offsets.get(o) && last.get(ins[j]) === t)) live -= bytes(o);
          }
          peak = Math.max(peak, live);
        }
        expect(plan.size).toBeGreaterThanOrEqual(peak);
        for (const u of names) {
          const pu = plan.offsets.get(u)!;
          expect(pu + bytes(u)).toBeLessThanOrEqual(plan.size);
          for (const v of names) {
            if (u >= v || def.get(v)! > last.get(u)! || def.get(u)! > last.get(v)!) continue;
            const pv = plan.offsets.get(v)!;
            if (pu + bytes(u) <= pv || pv + bytes(v) <= pu) continue;
            // the one allowed overlap: v written in place over u, its input read for the last time there
            const [a, b] = def.get(u)! < def.get(v)! ? [u, v] : [v, u];
            const node = g.nodes[def.get(b)!];
            // (a at a position read element for element, and at no other)
            const js = inPlace.get(b) ?? [];
            const positions = node.inputs.flatMap((w, k) => (w === a ? [k] : []));
            const ok = withInPlace && pu === pv && bytes(u) === bytes(v) && last.get(a) === def.get(b) && positions.length > 0 && positions.every((k) => js.includes(k));
            expect(ok, `seed ${seed}: ${u} [${pu}, +${bytes(u)}) and ${v} [${pv}, +${bytes(v)}) overlap while both alive`).toBe(true);
          }
        }
      }
    });

  it('runs a chain of element-wise nodes in one buffer', () => {
    const g = emptyGraph();
    const s = [1, 8, 16, 16];
    g.inputs.push({ name: 'x', shape: s });
    g.shapes.set('x', s);
    const inPlace = new Map<string, number[]>();
    let prev = 'x';
    for (let i = 0; i < 4; i++) {
      g.nodes.push({ name: `n${i}`, op: 'Relu', inputs: [prev], outputs: [`r${i}`], attrs: {} });
      g.shapes.set(`r${i}`, s);
      inPlace.set(`r${i}`, [0]);
      prev = `r${i}`;
    }
    g.outputs.push({ name: prev });
    const one = numel(s) * 4;
    expect(planArena(g, new Map(), new Map(), inPlace).size).toBe(one);
    expect(planArena(g, new Map(), new Map()).size).toBe(2 * one);
  });
});
