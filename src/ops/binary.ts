// Element-wise binary ONNX ops with numpy broadcasting (Add, Sub, Mul, Div, Pow, Max, Min,
// PRelu) and the variadic Sum/Mean/Max/Min. Operands are read through strides in the output's
// physical layout, so a per-channel [C,1,1] scale on an NHWC map is a stride-0 broadcast.
import * as C from '../../assembly/codes';
import { ShapeError } from '../errors';
import type { Node } from '../graph/ir';
import { numel, shapeStr } from '../graph/ir';
import type { OpDef, PlanCtx, Step } from './types';
import { broadcast, broadcastStrides, denseStrides, ndParams, physShape, simplifyDims, ELEMENT_MACS } from './util';

/** binary_prepare's parameter block: shape and two stride sets, 8 i32 each. */
const BINARY_PARAMS_BYTES = 96;

const CODES: Record<string, number> = {
  Add: C.BIN_ADD, Sub: C.BIN_SUB, Mul: C.BIN_MUL, Div: C.BIN_DIV, Pow: C.BIN_POW,
  Max: C.BIN_MAX, Min: C.BIN_MIN, Sum: C.BIN_ADD, Mean: C.BIN_ADD, PRelu: C.BIN_PRELU,
};

function binaryStep(ctx: PlanCtx, code: number, out: string, a: string, b: string): Step {
  const outShape = ctx.shape(out);
  const layout = ctx.layout(out);
  const phys = physShape(outShape, layout);
  const pix = (v: string) => (ctx.layout(v) === 'nhwc' ? ctx.stride(v) : undefined);
  const aSt = broadcastStrides(ctx.shape(a), outShape, layout, ctx.layout(a), pix(a));
  const bSt = broadcastStrides(ctx.shape(b), outShape, layout, ctx.layout(b), pix(b));
  const simp = simplifyDims(phys, [denseStrides(phys), aSt, bSt]);
  const k = ctx.k;
  // normalised once here, into a block the threads of a parallel call only read; the
  // shape and strides it came from are planning temporaries
  const params = ctx.mem.alloc(BINARY_PARAMS_BYTES);
  const mark = ctx.mem.mark();
  const p = ndParams(ctx, simp.shape, simp.strides[1], simp.strides[2]);
  const live = k.binary_prepare(p.rank, p.shape, p.strides[0], p.strides[1], params);
  ctx.mem.reset(mark);
  if (!live) return () => {};
  const count = numel(simp.shape);
  return ctx.parallel('binary_rows_f32', [code, ctx.ptr(out), ctx.ptr(a), ctx.ptr(b), params], count * ELEMENT_MACS);
}

export const binary: OpDef = {
  ops: Object.keys(CODES),
  layout: 'any',
  stridedIn: true,
  infer(n, ctx) {
    if (n.inputs.length < 1 || (n.inputs.length < 2 && !['Sum', 'Mean', 'Max', 'Min'].includes(n.op)))
      throw new ShapeError(`${n.op} node '${n.name}' needs two inputs`);
    const shapes = n.inputs.map((i) => ctx.shape(i));
    if (n.op === 'PRelu') {
      // a 1-D slope of length C that does not broadcast numpy-style is per channel (axis 1),
      // as PyTorch's nn.PReLU(num_parameters=C) means it
      const slope = ctx.float(n.inputs[1]);
      const x = shapes[0];
      if (slope && shapes[1].length === 1 && x.length > 2 && shapes[1][0] === x[1] && x[x.length - 1] !== x[1]) {
        slope.shape = [x[1], ...new Array<number>(x.length - 2).fill(1)];
        ctx.graph.shapes.set(n.inputs[1], slope.shape);
        shapes[1] = slope.shape;
      }
      const out = broadcast(n, shapes);
      if (out.join() !== shapes[0].join())
        throw new ShapeError(`PRelu node '${n.name}': slope ${shapeStr(shapes[1])} does not broadcast to ${shapeStr(shapes[0])}`);
      return [out];
    }
    return [broadcast(n, shapes)];
  },
  // the first step reads inputs 0 and 1 element by element; later inputs of Sum/Mean/Max/Min
  // are read after out is written, so they keep their own buffers
  inPlace: (n) => (n.inputs.length > 1 ? [0, 1] : [0]),
  plan(n: Node, ctx) {
    const code = CODES[n.op];
    const out = n.outputs[0];
    const ins = n.inputs;
    const steps: Step[] = [];
    if (ins.length === 1) {
      steps.push(binaryStep(ctx, C.BIN_MAX, out, ins[0], ins[0]));
    } else {
      steps.push(binaryStep(ctx, code, out, ins[0], ins[1]));
      for (let i = 2; i < ins.length; i++) steps.push(binaryStep(ctx, code, out, out, ins[i]));
    }
    if (n.op === 'Mean' && ins.length > 1) {
      const count = numel(ctx.shape(out));
      const o = ctx.ptr(out);
      const s = 1 / ins.length;
      steps.push(ctx.parallel('unary_f32', [C.ACT_SCALE_SHIFT, o, o, 1, count, count, count, s, 0], count * ELEMENT_MACS));
    }
    return steps.length === 1 ? steps[0] : () => { for (const s of steps) s(); };
  },
};
