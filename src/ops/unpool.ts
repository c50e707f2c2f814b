// ONNX MaxUnpool (PyTorch MaxUnpool2d; the unpooling of Zeiler & Fergus 2014 / Noh et al. 2015),
// 2-D, NHWC, with and without the output_shape input. Indices are ONNX flat indices into the
// NCHW output, ((n·C + c)·OH + oh)·OW + ow, carried as float32 values (MaxPool's Indices output
// writes them that way; integer constants are converted here at plan time).
// Default output size: (in − 1)·stride − pad_begin − pad_end + kernel. As in the ONNX reference
// implementation (and its backend cases), indices address that default grid; an output_shape
// that differs places the grid at the output's top-left (zeros beyond it, cropped if smaller).
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { numel, shapeStr } from '../graph/ir';
import type { InferCtx, OpDef, PlanCtx } from './types';
import { attrInts, attrIntsIn, input, intOf, MAX_ELEMENTS, MAX_I32 } from './util';
import { geomBlock } from './window';

const EXACT = 1 << 24;

function shapes(n: Node, ctx: InferCtx): { out: number[]; grid: number[] } {
  const x = ctx.shape(n.inputs[0]);
  if (x.length !== 4)
    throw new UnsupportedOpError('MaxUnpool', n.name, `only 2-D unpooling (4-D input) is supported, got ${shapeStr(x)}`);
  const ks = attrInts(n, 'kernel_shape');
  if (!ks || ks.length !== 2) throw new UnsupportedOpError('MaxUnpool', n.name, 'a 2-D kernel_shape is required');
  if (ks.some((k) => k < 1 || k > MAX_I32)) throw new ShapeError(`MaxUnpool node '${n.name}': kernel_shape ${shapeStr(ks)} must be in [1, ${MAX_I32}]`);
  const [sh, sw] = attrIntsIn(n, 'strides', [1, 1], 2, 1, MAX_I32);
  const [pt, pl, pb, pr] = attrIntsIn(n, 'pads', [0, 0, 0, 0], 4, 0, MAX_I32);
  const i = ctx.shape(n.inputs[1]);
  if (i.join() !== x.join())
    throw new ShapeError(`MaxUnpool node '${n.name}': indices ${shapeStr(i)} must have the input's shape ${shapeStr(x)}`);
  const given = intOf(ctx, n, input(n, 2), 'output_shape');
  const grid = [x[0], x[1], (x[2] - 1) * sh - pt - pb + ks[0], (x[3] - 1) * sw - pl - pr + ks[1]];
  let out = grid;
  if (given) {
    if (given.length !== 4 || given[0] !== x[0] || given[1] !== x[1])
      throw new ShapeError(`MaxUnpool node '${n.name}': output_shape ${shapeStr(given)} must be [${x[0]}, ${x[1]}, H, W]`);
    out = given.slice();
  }
  if (out.some((d) => d > MAX_ELEMENTS) || numel(out) > MAX_ELEMENTS)
    throw new ShapeError(`MaxUnpool node '${n.name}': output shape ${shapeStr(out)} is larger than wasm32 memory holds`);
  if (out.some((d) => !(d >= 1))) throw new ShapeError(`MaxUnpool node '${n.name}': output shape ${shapeStr(out)} is empty`);
  if (grid.some((d) => !(d >= 1))) throw new ShapeError(`MaxUnpool node '${n.name}': unpooled shape ${shapeStr(grid)} is empty`);
  if (numel(grid) >= EXACT)
    throw new UnsupportedOpError('MaxUnpool', n.name, `unpooled ${shapeStr(grid)} has 2^24 or more elements: float32 indices would not be exact`);
  return { out, grid };
}

export const maxUnpool: OpDef = {
  ops: ['MaxUnpool'],
  layout: 'nhwc',
  infer(n, ctx) {
    return [shapes(n, ctx).out];
  },
  plan(n: Node, ctx: PlanCtx) {
    const x = ctx.shape(n.inputs[0]);
    const { out, grid } = shapes(n, ctx);
    const idxName = n.inputs[1];
    let ip: number;
    const ci = ctx.int(idxName);
    const cf = ctx.float(idxName);
    if (ci || cf) {
      // constant indices: logical NCHW -> NHWC floats
      const src: ArrayLike<number> = ci ? ci.ints : cf!.data;
      const [N, C, H, W] = x;
      const t = new Float32Array(N * C * H * W);
      for (let b = 0; b < N; b++)
        for (let c = 0; c < C; c++)
          for (let p = 0; p < H * W; p++) t[(b * H * W + p) * C + c] = Number(src[(b * C + c) * H * W + p]);
      ip = ctx.mem.putF32(t);
    } else {
      if (ctx.layout(idxName) !== 'nhwc') throw new UnsupportedOpError('MaxUnpool', n.name, 'indices activation is not NHWC');
      ip = ctx.ptr(idxName);
    }
    const g = geomBlock(
      ctx,
      { kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, pb: 0, pr: 0, oh: out[2], ow: out[3] },
      { N: x[0], H: x[2], W: x[3], C: x[1], OC: x[1], groups: 1 },
    );
    const xi = ctx.ptr(n.inputs[0]);
    const yo = ctx.ptr(n.outputs[0]);
    const k = ctx.k;
    const IH = grid[2], IW = grid[3];
    return () => k.maxunpool_f32(g, xi, ip, yo, IH, IW, 0);
  },
};
