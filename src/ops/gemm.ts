// ONNX Gemm: Y = alpha * A' * B' + beta * C (A' = transA ? A^T : A, same for B), the fully
// connected layer. A constant B is packed once with alpha folded in and a vector C as the bias;
// a full [M,N] C becomes the residual of the GEMM epilogue.
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { shapeStr } from '../graph/ir';
import type { InferCtx, OpDef, Step } from './types';
import { attrFloat, attrInt, broadcast, input } from './util';
import { gemmStep, packGemm } from './matmul';
import { fusedAct } from './window';

function dims(n: Node, ctx: InferCtx) {
  const a = ctx.shape(n.inputs[0]);
  const b = ctx.shape(n.inputs[1]);
  if (a.length !== 2 || b.length !== 2)
    throw new ShapeError(`Gemm node '${n.name}': A ${shapeStr(a)} and B ${shapeStr(b)} must be 2-D`);
  const ta = attrInt(n, 'transA', 0) !== 0;
  const tb = attrInt(n, 'transB', 0) !== 0;
  const [M, K] = ta ? [a[1], a[0]] : a;
  const [Kb, N] = tb ? [b[1], b[0]] : b;
  if (K !== Kb)
    throw new ShapeError(`Gemm node '${n.name}': A ${shapeStr(a)} (transA=${+ta}) and B ${shapeStr(b)} (transB=${+tb}) disagree on K`);
  return { M, N, K, ta, tb };
}

export const gemm: OpDef = {
  ops: ['Gemm'],
  layout: 'plain',
  infer(n, ctx) {
    const { M, N } = dims(n, ctx);
    const c = input(n, 2);
    if (c) {
      const out = broadcast(n, [[M, N], ctx.shape(c)]);
      if (out[0] !== M || out[1] !== N)
        throw new ShapeError(`Gemm node '${n.name}': C ${shapeStr(ctx.shape(c))} does not broadcast to [${M}, ${N}]`);
    }
    return [[M, N]];
  },
  macs(n, ctx) {
    const { M, N, K } = dims(n, ctx);
    return M * N * K;
  },
  plan(n, ctx) {
    const { M, N, K, ta, tb } = dims(n, ctx);
    const alpha = attrFloat(n, 'alpha', 1);
    const beta = attrFloat(n, 'beta', 1);
    const { k } = ctx;
    const B = ctx.float(n.inputs[1]);
    if (!B) throw new UnsupportedOpError('Gemm', n.name, `B ('${n.inputs[1]}') must be a constant weight`);

    const cName = input(n, 2);
    let bias: Float32Array | undefined;
    let res = 0;
    const steps: Step[] = [];
    if (cName && beta !== 0) {
      const cs = ctx.shape(cName);
      const cConst = ctx.float(cName);
      const isRow = cs.length === 0 || (cs.length === 1) || (cs.length === 2 && cs[0] === 1);
      if (cConst && isRow) {
        bias = new Float32Array(N);
        for (let j = 0; j < N; j++) bias[j] = beta * cConst.data[cConst.data.length === 1 ? 0 : j];
      } else if (cConst) {
        const full = new Float32Array(M * N);
        const c0 = cs.length === 2 ? cs[0] : 1;
        const c1 = cs[cs.length - 1];
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) full[i * N + j] = beta * cConst.data[(c0 === 1 ? 0 : i) * c1 + (c1 === 1 ? 0 : j)];
        res = ctx.mem.putF32(full);
      } else if (beta === 1 && cs.length === 2 && cs[0] === M && cs[1] === N) {
        res = ctx.ptr(cName);
      } else {
        throw new UnsupportedOpError('Gemm', n.name, `a non-constant C ${shapeStr(cs)} with beta=${beta}`);
      }
    }
    const packed = packGemm(ctx, B, N, K, bias, !tb, alpha);
    const y = ctx.ptr(n.outputs[0]);
    const { act, p0, p1 } = fusedAct(n);
    if (ta) {
      // A is [K][M]: transpose it into scratch first
      const tmp = ctx.scratch(M * K * 4);
      const src = ctx.ptr(n.inputs[0]);
      const shape = ctx.mem.putI32([M, K]);
      const dstSt = ctx.mem.putI32([K, 1]);
      const srcSt = ctx.mem.putI32([1, M]);
      steps.push(() => k.copy_nd_f32(tmp.ptr, src, 2, shape, dstSt, srcSt));
      // half-stored weights widen in the scratch after the transposed A
      steps.push(gemmStep(ctx, packed, M, N, K, tmp, y, res, act, p0, p1, Math.ceil((M * K) / 16) * 64));
    } else {
      steps.push(gemmStep(ctx, packed, M, N, K, ctx.ptr(n.inputs[0]), y, res, act, p0, p1));
    }
    return steps.length === 1 ? steps[0] : () => { for (const s of steps) s(); };
  },
};
