// Chooses each activation's physical layout (NHWC for the conv family, plain where an op needs
// logical order) and inserts the conversions, once per value and target layout. Graph inputs
// arrive and outputs leave in plain NCHW.
import { opDef } from '../ops';
import type { Layout } from '../ops/types';
import { makeInferCtx } from './infer';
import type { Graph, Node } from './ir';
import { freshName, renameUses } from './util';

export interface LayoutResult {
  layouts: Map<string, Layout>;
  /** Values whose buffer is another value's (Reshape, free transposes, trivial conversions). */
  aliases: Map<string, string>;
}

export function assignLayouts(g: Graph): LayoutResult {
  const ctx = makeInferCtx(g);
  const layouts = new Map<string, Layout>();
  const aliases = new Map<string, string>();
  const converted = new Map<string, string>();
  for (const i of g.inputs) layouts.set(i.name, 'plain');
  const isAct = (v: string) => !!v && layouts.has(v);
  const rank4 = (v: string) => g.shapes.get(v)?.length === 4;
  const out: Node[] = [];

  const convert = (v: string, want: Layout): string => {
    if ((layouts.get(v) ?? 'plain') === want) return v;
    const key = `${v}|${want}`;
    const have = converted.get(key);
    if (have) return have;
    const name = freshName(`${v}.${want}`);
    const node: Node = {
      name: freshName(`to_${want}`), op: want === 'nhwc' ? '_ToNHWC' : '_ToPlain',
      inputs: [v], outputs: [name], attrs: {},
    };
    g.shapes.set(name, g.shapes.get(v)!);
    layouts.set(name, want);
    const def = opDef(node.op)!;
    if (def.alias?.(node, ctx)) aliases.set(name, v);
    out.push(node);
    converted.set(key, name);
    return name;
  };

  for (const n of g.nodes) {
    const def = opDef(n.op)!;
    const acts = n.inputs.map((v) => isAct(v));
    const first4 = n.inputs.find((v, i) => acts[i] && rank4(v));
    const in0 = layouts.get(n.inputs[0]) ?? 'plain';
    const rule = def.layoutRule?.(n, ctx, in0);
    let want: Layout;
    let outL: Layout;
    if (rule) {
      want = rule.input;
      outL = rule.output;
    } else if (def.layout === 'nhwc') {
      want = 'nhwc';
      outL = 'nhwc';
    } else if (def.layout === 'plain') {
      want = 'plain';
      outL = 'plain';
    } else {
      const anyNhwc = n.inputs.some((v, i) => acts[i] && rank4(v) && layouts.get(v) === 'nhwc');
      want = first4 && anyNhwc ? 'nhwc' : 'plain';
      if (want === 'nhwc' && n.outputs.some((o) => o && !rank4(o))) want = 'plain';
      outL = want;
    }
    n.inputs = n.inputs.map((v, i) => (acts[i] && rank4(v) ? convert(v, want) : acts[i] ? convert(v, 'plain') : v));
    for (const o of n.outputs) if (o) layouts.set(o, rank4(o) ? outL : 'plain');
    if (rule?.alias || def.alias?.(n, ctx)) aliases.set(n.outputs[0], n.inputs[0]);
    out.push(n);
  }
  g.nodes = out;
  // graph outputs leave as plain NCHW
  for (const o of g.outputs) {
    if (layouts.get(o.name) !== 'nhwc') continue;
    const inner = freshName(`${o.name}.nhwc`);
    for (const n of g.nodes) n.outputs = n.outputs.map((x) => (x === o.name ? inner : x));
    renameUses(g, o.name, inner);
    for (const [a, b] of aliases) if (b === o.name) aliases.set(a, inner);
    if (aliases.has(o.name)) {
      aliases.set(inner, aliases.get(o.name)!);
      aliases.delete(o.name);
    }
    g.shapes.set(inner, g.shapes.get(o.name)!);
    layouts.set(inner, 'nhwc');
    const node: Node = { name: freshName('to_plain'), op: '_ToPlain', inputs: [inner], outputs: [o.name], attrs: {} };
    layouts.set(o.name, 'plain');
    aliases.delete(o.name);
    if (opDef('_ToPlain')!.alias?.(node, ctx)) aliases.set(o.name, inner);
    g.nodes.push(node);
  }
  return { layouts, aliases };
}
