// ONNX Pad: constant, reflect and edge modes, negative pads (crops), optional axes; works on
// the physical layout with the pads permuted to match.
import * as C from '../../assembly/codes';
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import type { InferCtx, OpDef } from './types';
import { attrFloat, attrInts, attrString, floatsOf, input, intOf, MAX_I32, NHWC_PERM, normAxis } from './util';

function pads(n: Node, ctx: InferCtx): { begin: number[]; end: number[]; mode: number; value: number } {
  const x = ctx.shape(n.inputs[0]);
  const rank = x.length;
  const raw = ctx.opset < 11 ? attrInts(n, 'pads') : intOf(ctx, n, input(n, 1), 'pads');
  if (!raw) throw new ShapeError(`Pad node '${n.name}': pads are required`);
  const axesIn = ctx.opset < 11 ? undefined : intOf(ctx, n, input(n, 3), 'axes');
  const axes = axesIn ? axesIn.map((a) => normAxis(n, a, rank)) : x.map((_, i) => i);
  if (raw.length !== 2 * axes.length)
    throw new ShapeError(`Pad node '${n.name}': ${raw.length} pads for ${axes.length} axes`);
  if (new Set(axes).size !== axes.length) throw new ShapeError(`Pad node '${n.name}': axes [${axesIn}] repeat an axis`);
  if (raw.some((p) => Math.abs(p) > MAX_I32)) throw new ShapeError(`Pad node '${n.name}': pads [${raw}] exceed ${MAX_I32}`);
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => {
    begin[a] = raw[i];
    end[a] = raw[i + axes.length];
  });
  const modeName = attrString(n, 'mode', 'constant');
  const mode = { constant: C.PAD_CONSTANT, reflect: C.PAD_REFLECT, edge: C.PAD_EDGE }[modeName];
  if (mode === undefined) throw new UnsupportedOpError('Pad', n.name, `mode '${modeName}'`);
  const value = ctx.opset < 11 ? attrFloat(n, 'value', 0) : floatsOf(ctx, n, input(n, 2), 'constant_value')?.[0] ?? 0;
  if (mode === C.PAD_REFLECT)
    x.forEach((d, i) => {
      if (begin[i] >= d || end[i] >= d)
        throw new ShapeError(`Pad node '${n.name}': reflect pads must be smaller than the dim they pad (${d})`);
    });
  return { begin, end, mode, value };
}

export const pad: OpDef = {
  ops: ['Pad'],
  layout: 'any',
  infer(n, ctx) {
    const x = ctx.shape(n.inputs[0]);
    const { begin, end } = pads(n, ctx);
    const out = x.map((d, i) => d + begin[i] + end[i]);
    if (out.some((d) => d < 0)) throw new ShapeError(`Pad node '${n.name}': pads crop below zero`);
    return [out];
  },
  plan(n, ctx) {
    const xname = n.inputs[0];
    const layout = ctx.layout(xname);
    let { begin } = pads(n, ctx);
    const { mode, value } = pads(n, ctx);
    if (layout === 'nhwc') begin = NHWC_PERM.map((p) => begin[p]);
    const inShape = ctx.phys(xname);
    const outShape = ctx.phys(n.outputs[0]);
    if (inShape.length > 6) throw new UnsupportedOpError('Pad', n.name, 'rank above 6');
    const m = ctx.mem;
    const os = m.putI32(outShape);
    const is = m.putI32(inShape);
    const pb = m.putI32(begin);
    const k = ctx.k;
    const xi = ctx.ptr(xname);
    const yo = ctx.ptr(n.outputs[0]);
    const rank = inShape.length;
    return () => k.pad_nd_f32(yo, xi, rank, os, is, pb, mode, value);
  },
};
