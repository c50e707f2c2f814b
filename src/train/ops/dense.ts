// Training rules for Gemm (Linear: Y = αA·op(B) + βC) and MatMul, with a 2-D right operand
// (A's leading dims are rows) or batched ([..., M, K]·[..., K, N] with the same batch dims:
// attention's Q·Kᵀ and P·V): the forward and both gradients are mm_f32 products per batch
// entry; the bias gradient sums dY's rows.
import { numel, ShapeError, shapeStr, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
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
  // batched MatMul: equal batch dims; else B is 2-D and A's leading dims are rows
  const batched = b.length > 2;
  if (b.length < 2 || (batched && (a.length !== b.length || a.slice(0, -2).join() !== b.slice(0, -2).join())))
    throw new UnsupportedOpError(n.op, n.name, `training needs a 2-D right operand or equal batch dims, got ${shapeStr(a)} by ${shapeStr(b)}`);
  const batch = batched ? numel(b.slice(0, -2)) : 1;
  const K = transA ? a[0] : a[a.length - 1];
  const M = transA ? a[1] : numel(a) / K / batch;
  const N = transB ? b[0] : b[b.length - 1];
  if ((transB ? b[1] : b[b.length - 2]) !== K) throw new ShapeError(`${n.op} node '${n.name}': ${shapeStr(a)} by ${shapeStr(b)} do not fit`);
  const k = ctx.k;
  const ap = ctx.ptr(n.inputs[0]);
  const bp = ctx.ptr(n.inputs[1]);
  const cName = (isGemm && n.inputs[2]) || undefined;
  const yp = ctx.ptr(n.outputs[0]);
  const lda = transA ? M : K;
  const ldb = transB ? K : N;
  const mms = ctx.scratch(Math.max(
    k.mm_scratch_bytes(M, N, K, transA, transB, ctx.threads), k.mm_scratch_bytes(M, K, N, 0, transB ? 0 : 1, ctx.threads),
    // dB: Aᵀ·dY, or dYᵀ·A when B is stored transposed (its own packing: op(B) is M x K then)
    transB ? k.mm_scratch_bytes(N, K, M, 1, 0, ctx.threads) : k.mm_scratch_bytes(K, N, M, 1, 0, ctx.threads),
  ), 2);
  const macs = M * N * K;
  const cShape = cName ? ctx.shape(cName) : [];
  const biasAdd = cName ? binaryStep(ctx, codes.BIN_ADD, yp, yp, [M, N], ctx.ptr(cName), cShape, [M, N]) : undefined;
  // byte offsets of batch entry i in A, B and Y
  const oa = M * K * 4, ob = K * N * 4, oy = M * N * 4;
  const each = (f: (i: number) => void) => () => { for (let i = 0; i < batch; i++) f(i); };
  const forward = () => {
    for (let i = 0; i < batch; i++) ctx.call('mm_f32', macs, transA, transB, M, N, K, ap + i * oa, lda, bp + i * ob, ldb, yp + i * oy, N, 0, mms.ptr);
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
    const s = accumulateSink(ctx, n.inputs[1]);
    const gb = s.ptr;
    steps.push(s.before, transB
      ? each((i) => ctx.call('mm_f32', macs, 1, 0, N, K, M, dy + i * oy, N, ap + i * oa, K, gb + i * ob, K, 1, mms.ptr))
      : each((i) => ctx.call('mm_f32', macs, 1, 0, K, N, M, ap + i * oa, K, dy + i * oy, N, gb + i * ob, N, 1, mms.ptr)));
  }
  if (ctx.needsGrad(n.inputs[0])) {
    // dA = dY·op(B)ᵀ
    const s = accumulateSink(ctx, n.inputs[0]);
    steps.push(s.before, each((i) => ctx.call('mm_f32', macs, 0, transB ? 0 : 1, M, K, N, dy + i * oy, N, bp + i * ob, ldb, s.ptr + i * oa, K, 1, mms.ptr)));
  }
  return { forward, backward: () => steps.forEach((s) => s()) };
}
