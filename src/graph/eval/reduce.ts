// Reductions of the host evaluator with ONNX semantics (docs/Operators.md): ReduceSum,
// ReduceMean, ReduceMin, ReduceMax, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare,
// ReduceLogSum, ReduceLogSumExp on float and int tensors; axes as attribute (older opsets) or
// input (ReduceSum from 13, the others from 18), keepdims, noop_with_empty_axes. Accumulates in
// float64; integer means truncate toward zero, as onnxruntime's integer division.
import { ValueError } from '../../lazy/kit';
import type { Node } from '../ir';
import { attrInts, attrNum, axisOf, checkInts, foldSize, intsOf, make, strides, type Const } from './core';

export const REDUCE_OPS = new Set([
  'ReduceSum', 'ReduceMean', 'ReduceMin', 'ReduceMax', 'ReduceProd',
  'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp',
]);

export function reduce(n: Node, x: Const, axesIn: Const | null): Const {
  const op = n.op;
  const r = x.shape.length;
  const keep = attrNum(n, 'keepdims', 1) !== 0;
  let axes = intsOf(axesIn) ?? attrInts(n, 'axes') ?? [];
  if (!axes.length) {
    if (attrNum(n, 'noop_with_empty_axes', 0)) return { ...x, shape: x.shape.slice() };
    axes = x.shape.map((_, i) => i);
  }
  const red = new Array<boolean>(r).fill(false);
  for (const a0 of axes) {
    const a = axisOf(a0, r, 'reduce axis');
    if (red[a]) throw new ValueError(`reduce axis ${a0} is repeated`);
    red[a] = true;
  }
  const kept = x.shape.map((d, i) => (red[i] ? 1 : d));
  const shape = keep ? kept : x.shape.filter((_, i) => !red[i]);
  const olen = foldSize(shape);
  const kst = strides(kept);
  const rst = kept.map((_, i) => (red[i] ? 0 : kst[i]));
  const count = x.shape.reduce((p, d, i) => (red[i] ? p * d : p), 1);
  const isMin = op === 'ReduceMin';
  const isMax = op === 'ReduceMax';
  // over nothing, floats reduce to the identity (±Infinity for Min/Max, as onnxruntime); ints
  // would reduce to onnxruntime's INT64_MAX/MIN, beyond the exact range: refused
  if ((isMin || isMax) && count === 0 && x.kind !== 'float') throw new ValueError(`${op} of ints over an empty set has no value`);
  const init = op === 'ReduceProd' ? 1 : isMin ? Infinity : isMax ? -Infinity : 0;
  const acc = new Float64Array(olen).fill(init);
  const v = x.v;
  const len = v.length;
  const coord = new Array(r).fill(0);
  let o = 0;
  for (let i = 0; i < len; i++) {
    const y = v[i];
    switch (op) {
      case 'ReduceSum':
      case 'ReduceMean':
        acc[o] += y;
        break;
      case 'ReduceMin':
        if (y < acc[o] || y !== y) acc[o] = y;
        break;
      case 'ReduceMax':
        if (y > acc[o] || y !== y) acc[o] = y;
        break;
      case 'ReduceProd':
        acc[o] *= y;
        break;
      case 'ReduceL1':
        acc[o] += Math.abs(y);
        break;
      case 'ReduceL2':
      case 'ReduceSumSquare':
        acc[o] += y * y;
        break;
      case 'ReduceLogSum':
        acc[o] += y;
        break;
      case 'ReduceLogSumExp':
        acc[o] += Math.exp(y);
        break;
    }
    for (let d = r - 1; d >= 0; d--) {
      coord[d]++;
      o += rst[d];
      if (coord[d] < x.shape[d]) break;
      o -= rst[d] * coord[d];
      coord[d] = 0;
    }
  }
  const isInt = x.kind !== 'float';
  for (let j = 0; j < olen; j++) {
    // the mean of nothing is 0, as onnxruntime returns it (not 0/0)
    if (op === 'ReduceMean') acc[j] = count === 0 ? 0 : isInt ? Math.trunc(acc[j] / count) : acc[j] / count;
    else if (op === 'ReduceL2') acc[j] = Math.sqrt(acc[j]);
    else if (op === 'ReduceLogSum' || op === 'ReduceLogSumExp') acc[j] = Math.log(acc[j]);
  }
  if (isInt && op !== 'ReduceL2' && op !== 'ReduceLogSum' && op !== 'ReduceLogSumExp') {
    checkInts(acc, op);
    return make('int', acc, shape, x.dt);
  }
  return make('float', acc, shape);
}
