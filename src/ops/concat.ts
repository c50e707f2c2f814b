// ONNX Concat along any axis, in either layout: each input is copied into its slice of the
// output (a channel concat on NHWC maps to the innermost physical axis).
import { ShapeError } from '../errors';
import { shapeStr } from '../graph/ir';
import type { OpDef } from './types';
import { attrInt, normAxis, physAxis, physShape, physStrides, planCopy } from './util';

export const concat: OpDef = {
  ops: ['Concat'],
  layout: 'any',
  stridedIn: true,
  stridedOut: true,
  infer(n, ctx) {
    const shapes = n.inputs.filter((i) => i).map((i) => ctx.shape(i));
    const rank = shapes[0].length;
    const a = normAxis(n, attrInt(n, 'axis', 0), rank);
    const out = shapes[0].slice();
    out[a] = 0;
    for (const s of shapes) {
      if (s.length !== rank || s.some((d, i) => i !== a && d !== out[i]))
        throw new ShapeError(`Concat node '${n.name}': input shapes ${shapes.map(shapeStr).join(', ')} differ off axis ${a}`);
      out[a] += s[a];
    }
    return [out];
  },
  plan(n, ctx) {
    const out = n.outputs[0];
    const layout = ctx.layout(out);
    const oshape = ctx.shape(out);
    const pa = physAxis(layout, normAxis(n, attrInt(n, 'axis', 0), oshape.length));
    const ost = physStrides(ctx, out);
    const base = ctx.ptr(out);
    let offset = 0;
    const steps: (() => void)[] = [];
    for (const name of n.inputs.filter((i) => i)) {
      const ip = physShape(ctx.shape(name), layout);
      const dst = base + offset * ost[pa] * 4;
      const ist = physStrides(ctx, name);
      offset += ip[pa];
      // a producer that already wrote into this slice (a channel view) needs no copy
      if (ctx.ptr(name) === dst && ist.join() === ost.join()) continue;
      steps.push(planCopy(ctx, dst, ctx.ptr(name), ip, ost, ist));
    }
    return steps.length ? () => { for (const s of steps) s(); } : undefined;
  },
};
