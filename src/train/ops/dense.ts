// Training rules for Gemm (Linear: Y = αA·op(B) + βC) and MatMul with a 2-D right operand:
// the forward and both gradients are mm_f32 products; the bias gradient sums dY's rows.
import { ShapeError, UnsupportedOpError } from '../../errors';
import type { Node } from '../../graph/ir';
import { numel, shapeStr } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { accumulateSink, binaryStep, reduceToStep } from './util';

export function gemm(n: Node, ctx: TrainCtx): TrainStep {
  const { attrFloat, attrInt, codes } = ctx.lib;
  const isGemm = n.op === 'Gemm';
  const a = ctx.shape(n.inputs[0]);
  const b = ctx.shape(n.inputs[1]);
  const transA = isGemm ? attrInt(n, 'transA', 0) : 0;
  const transB = isGemm ? attrInt(n, 'transB', 0) : 0;
  if (isGemm && (attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1))
    throw new UnsupportedOpError('Gemm', n.name, 'training supports alpha = beta = 1 (nn.Linear)');
  if (b.length !== 2) throw new UnsupportedOpError(n.op, n.name, `training needs a 2-D right operand, got ${shapeStr(b)}`);
  // MatMul: leading dims of A are rows
  const K = transA ? a[0] : a[a.length - 1];
  const M = transA ? a[1] : numel(a) / K;
  const N = transB ? b[0] : b[1];
  if ((transB ? b[1] : b[0]) !== K) throw new ShapeError(`${n.op} node '${n.name}': ${shapeStr(a)} by ${shapeStr(b)} do not fit`);
  const k = ctx.k;
  const ap = ctx.ptr(n.inputs[0]);
  const bp = ctx.ptr(n.inputs[1]);
  const cName = (isGemm && n.inputs[2]) || undefined;
  const yp = ctx.ptr(n.outputs[0]);
  const lda = transA ? M : K;
  const ldb = transB ? K : N;
  const mms = ctx.scratch(Math.max(
    k.mm_scratch_bytes(M, N, K, transA, transB, ctx.threads), k.mm_scratch_bytes(M, K, N, 0, transB ? 0 : 1, ctx.threads),
    k.mm_scratch_bytes(K, N, M, 1, 0, ctx.threads),
  ), 2);
  const macs = M * N * K;
  const cShape = cName ? ctx.shape(cName) : [];
  const biasAdd = cName ? binaryStep(ctx, codes.BIN_ADD, yp, yp, [M, N], ctx.ptr(cName), cShape, [M, N]) : undefined;
  const forward = () => {
    ctx.call('mm_f32', macs, transA, transB, M, N, K, ap, lda, bp, ldb, yp, N, 0, mms.ptr);
    biasAdd?.();
  };
  if (!ctx.needsGrad(n.outputs[0])) return { forward };
  if (transA) throw new UnsupportedOpError('Gemm', n.name, 'training with transA = 1');
  const dy = ctx.grad(n.outputs[0]);
  const steps: (() => void)[] = [];
  if (cName && ctx.needsGrad(cName)) {
    // bias gradient: dY summed over rows (broadcast C of shape [N] or [1, N]); accumulated
    const gc = ctx.grad(cName);
    const tmp = ctx.scratch(numel(cShape) * 4, 1);
    const reduce = reduceToStep(ctx, dy, [M, N], cShape, tmp);
    const add = binaryStep(ctx, codes.BIN_ADD, gc, gc, cShape, tmp, cShape, cShape);
    steps.push(reduce, add);
  }
  if (ctx.needsGrad(n.inputs[1])) {
    // dB += Aᵀ·dY ([K][N]), or dY ᵀ·A ([N][K]) when B is stored transposed
    const gb = ctx.grad(n.inputs[1]);
    steps.push(transB
      ? () => ctx.call('mm_f32', macs, 1, 0, N, K, M, dy, N, ap, K, gb, K, 1, mms.ptr)
      : () => ctx.call('mm_f32', macs, 1, 0, K, N, M, ap, K, dy, N, gb, N, 1, mms.ptr));
  }
  if (ctx.needsGrad(n.inputs[0])) {
    // dA = dY·op(B)ᵀ
    const s = accumulateSink(ctx, n.inputs[0]);
    steps.push(s.before, () => ctx.call('mm_f32', macs, 0, transB ? 0 : 1, M, K, N, dy, N, bp, ldb, s.ptr, K, 1, mms.ptr));
  }
  return { forward, backward: () => steps.forEach((s) => s()) };
}
