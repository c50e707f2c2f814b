// ONNX MatMul (numpy semantics, batched and broadcast) and the fully connected path it shares
// with Gemm: a constant 2-D right operand is packed once into GEMM panels (bias first) and the
// whole left operand runs as one GEMM with a fused epilogue (bias input 2, residual input 3).
import { ShapeError } from '../errors';
import type { Node, Tensor } from '../graph/ir';
import { numel, packKey, shapeStr, undecodedBytes } from '../graph/ir';
import type { InferCtx, OpDef, PlanCtx, Step } from './types';
import { broadcast, input } from './util';
import { fusedAct, panelsAt } from './window';

/**
 * Pack a weight plus optional bias [N] into GEMM panels; returns the panel address. The weight
 * is [N][K] (PyTorch Linear) or, with `kn`, [K][N] (ONNX MatMul's B). Packing goes through a
 * small staging area in chunks of output columns (panels are independent), so even a 400 MB
 * fully connected layer never needs a second full-size copy in JS or in wasm memory. The
 * chunks are copied from the weight's bytes (its file's, when it was never decoded), and a
 * [K][N] chunk is transposed in the wasm. With CompileOptions.weightStorage 'float16' each
 * chunk's panels are narrowed to the half-stored form (gemm_narrow_panels) and the address returned
 * is odd (panelsAt; gemmStep runs either form).
 */
export function packGemm(ctx: PlanCtx, w: Tensor, N: number, K: number, bias?: Float32Array, kn = false, scale = 1): number {
  const made = () => (ctx.half && make(true)) || make(false);
  return ctx.shared ? ctx.shared(['gemm', packKey(w), bias, N, K, kn, scale], made) : made();
  /** The packed panels, or 0 when half was asked and a weight does not fit binary16 (nothing kept). */
  function make(half: boolean): number {
    const { k, mem } = ctx;
    const start = mem.mark();
    const panel = k.gemm_packed_size(8, K);
    const halfPanel = k.gemm_half_packed_bytes(8, K);
    const packed = mem.alloc(half ? halfPanel * Math.ceil(N / 8) : k.gemm_packed_size(N, K) * 4);
    const mark = mem.mark();
    const bp = bias ? mem.putF32(bias) : 0;
    const bytes = undecodedBytes(w) ?? new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength);
    // 64 Ki floats (256 KiB) of staging: it sits above the packed weights until reset, and a
    // model's last layer (the classifier) would otherwise keep megabytes of dead memory at the top
    const chunk = Math.max(8, Math.floor((1 << 16) / K / 8) * 8);
    const stage = mem.alloc(Math.min(chunk, N) * K * 4);
    // [K][N]: a chunk's columns gathered row by row as [K][rows], then transposed to [rows][K]
    const gather = kn ? mem.alloc(Math.min(chunk, N) * K * 4) : 0;
    const dims = kn ? mem.putI32([0, K, K, 1, 1, 0]) : 0;
    // half: a chunk's f32 panels, narrowed into place
    const wide = half ? mem.alloc(Math.ceil(Math.min(chunk, N) / 8) * panel * 4) : 0;
    for (let c0 = 0; c0 < N; c0 += chunk) {
      const rows = Math.min(chunk, N - c0);
      const u8 = new Uint8Array(mem.memory.buffer);
      if (!kn) u8.set(bytes.subarray(c0 * K * 4, (c0 + rows) * K * 4), stage);
      else {
        for (let j = 0; j < K; j++) u8.set(bytes.subarray((j * N + c0) * 4, (j * N + c0 + rows) * 4), gather + j * rows * 4);
        // shape [rows, K]; destination strides [K, 1]; source strides [1, rows]
        mem.i32.set([rows, K, K, 1, 1, rows], dims >>> 2);
        k.copy_nd_f32(stage, gather, 2, dims, dims + 8, dims + 16);
      }
      if (scale !== 1) {
        const f = mem.f32;
        for (let i = stage >>> 2, e = i + rows * K; i < e; i++) f[i] *= scale;
      }
      k.gemm_pack(stage, rows, K, K, bp ? bp + c0 * 4 : 0, half ? wide : packed + (c0 / 8) * panel * 4);
      if (half && !k.gemm_narrow_panels(wide, Math.ceil(rows / 8), K, packed + (c0 / 8) * halfPanel)) {
        mem.reset(start);
        return 0;
      }
    }
    mem.reset(mark);
    return packed + (half ? 1 : 0);
  }
}

/**
 * The step of one GEMM, C[M][N] = act(A[M][K]·W + bias + R), against packGemm's panels: gemm_f32,
 * or gemm_f16 when they are half-stored (src/ops/half.ts halfGemmStep), its widening blocks in
 * the shared scratch after the first `before` bytes (the caller's own use of the scratch).
 */
export function gemmStep(
  ctx: PlanCtx, packed: number, M: number, N: number, K: number, a: number | { ptr: number }, y: number, res: number,
  act: number, p0: number, p1: number, before = 0,
): Step {
  const { ptr, half } = panelsAt(packed);
  const args = [M, N, K, a, K, ptr, y, N, res, N, act, p0, p1];
  return half ? ctx.half!.halfGemmStep(ctx, args, M * N * K, N, K, before) : ctx.parallel('gemm_f32', args, M * N * K);
}

function shapes(n: Node, ctx: InferCtx) {
  const a = ctx.shape(n.inputs[0]);
  const b = ctx.shape(n.inputs[1]);
  if (a.length === 0 || b.length === 0) throw new ShapeError(`MatMul node '${n.name}': scalar operands`);
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const M = a2[a2.length - 2];
  const K = a2[a2.length - 1];
  const N = b2[b2.length - 1];
  if (b2[b2.length - 2] !== K)
    throw new ShapeError(
      `MatMul node '${n.name}': inner dims differ, '${n.inputs[0]}' ${shapeStr(a)} x '${n.inputs[1]}' ${shapeStr(b)}`,
    );
  const batch = broadcast(n, [a2.slice(0, -2), b2.slice(0, -2)]);
  const out = [...batch];
  if (a.length > 1) out.push(M);
  if (b.length > 1) out.push(N);
  return { a, b, a2, b2, M, K, N, batch, out };
}

export const matmul: OpDef = {
  ops: ['MatMul'],
  layout: 'plain',
  infer(n, ctx) {
    return [shapes(n, ctx).out];
  },
  macs(n, ctx) {
    const s = shapes(n, ctx);
    return numel(s.batch) * s.M * s.N * s.K;
  },
  plan(n, ctx) {
    const s = shapes(n, ctx);
    const B = ctx.float(n.inputs[1]);
    const y = ctx.ptr(n.outputs[0]);
    const x = ctx.ptr(n.inputs[0]);
    if (B && s.b.length <= 2) {
      // every row of A (all batch dims flattened) times one packed weight
      // (not numel / K: K may be 0, the product then the bias alone)
      const rows = numel(s.a.slice(0, -1));
      const biasName = input(n, 2);
      const bias = biasName ? ctx.weight(biasName).data : undefined;
      const packed = packGemm(ctx, B, s.N, s.K, bias, true);
      const res = input(n, 3);
      const r = res ? ctx.ptr(res) : 0;
      const { act, p0, p1 } = fusedAct(n);
      return gemmStep(ctx, packed, rows, s.N, s.K, x, y, r, act, p0, p1);
    }
    const b = ctx.ptr(n.inputs[1]);
    const steps: Step[] = [];
    const batch = s.batch;
    const total = numel(batch);
    const aBatch = s.a2.slice(0, -2);
    const bBatch = s.b2.slice(0, -2);
    const offsetIn = (shape: number[], idx: number[]) => {
      let off = 0;
      const r = batch.length - shape.length;
      for (let i = 0; i < shape.length; i++) off = off * shape[i] + (shape[i] === 1 ? 0 : idx[r + i]);
      return off;
    };
    for (let t = 0; t < total; t++) {
      const idx: number[] = [];
      let rem = t;
      for (let i = batch.length - 1; i >= 0; i--) {
        idx[i] = rem % batch[i];
        rem = Math.floor(rem / batch[i]);
      }
      const ao = x + offsetIn(aBatch, idx) * s.M * s.K * 4;
      const bo = b + offsetIn(bBatch, idx) * s.K * s.N * 4;
      const yo = y + t * s.M * s.N * 4;
      steps.push(ctx.parallel('matmul_f32', [s.M, s.N, s.K, ao, s.K, bo, s.N, yo, s.N], s.M * s.N * s.K));
    }
    return steps.length === 1 ? steps[0] : () => { for (const st of steps) st(); };
  },
};
