// ONNX MaxUnpool (PyTorch MaxUnpool2d; the unpooling of Zeiler & Fergus 2014 / Noh et al. 2015),
// 2-D, NHWC, with and without the output_shape input. Indices are ONNX flat indices into the
// NCHW output, ((n·C + c)·OH + oh)·OW + ow, carried as float32 values (MaxPool's Indices output
// writes them that way; integer constants are converted here at plan time).
// Default output size: (in − 1)·stride − pad_begin − pad_end + kernel. As in the ONNX reference
// implementation (and its backend cases), indices address that default grid; an output_shape
// that differs places the grid at the output's top-left (zeros beyond it, cropped if smaller).
// The planner loads with the rare ops' chunk (src/ops/rarePlans.ts).
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { numel, shapeStr } from '../graph/ir';
import { planRare } from './rare';
import type { InferCtx, OpDef } from './types';
import { attrInts, attrIntsIn, input, intOf, MAX_ELEMENTS, MAX_I32 } from './util';

const EXACT = 1 << 24;

/** Output and unpooled-grid shapes of a MaxUnpool node (also the planner's, src/ops/rarePlans.ts). */
export function unpoolShapes(n: Node, ctx: InferCtx): { out: number[]; grid: number[] } {
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
    return [unpoolShapes(n, ctx).out];
  },
  plan: planRare,
};
