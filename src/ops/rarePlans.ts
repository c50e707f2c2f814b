// Planners of the ops few models hold (DeformConv, MaxUnpool, ConvTranspose, LRN,
// InstanceNormalization, DepthToSpace, SpaceToDepth, Gather, Expand, and Resize with
// antialias=1), loaded as their own chunk
// when a graph has one (src/ops/rare.ts): their shape rules stay with the op definitions (the
// builder needs them synchronously), their plans come here (moving ConvTranspose's, LRN's,
// InstanceNormalization's and DepthToSpace/SpaceToDepth's took 1.1 KB, esbuild-minified, out of
// the page's first bundle, Gather's and Expand's 0.3 KB more). Like every lazy module, this one
// takes the engine's helpers from src/lazy/kit.ts and the ops' own helpers through bindRareLib,
// never by importing a module of the page's first bundle (src/lazy/kit.ts says why).
import type { Node } from '../graph/ir';
import { numel, UnsupportedOpError } from '../lazy/kit';
import type { RareLib } from './rare';
import type { ResizePlan } from './resize';
import type { PlanCtx, Step } from './types';

let lib: RareLib;

/** Binds the eager helpers (src/ops/rare.ts calls it after importing this module). */
export function bindRareLib(l: RareLib): void {
  lib = l;
}

/** A 4-D constant as NHWC floats in wasm memory (its NCHW values transposed), or an NHWC activation's address. */
function nhwcPtr(ctx: PlanCtx, node: Node, name: string, shape: number[], what: string): number {
  const c = ctx.int(name)?.ints ?? ctx.float(name)?.data;
  if (!c) {
    if (ctx.layout(name) !== 'nhwc') throw new UnsupportedOpError(node.op, node.name, `the ${what} activation '${name}' is not in NHWC layout`);
    return ctx.ptr(name);
  }
  const [N, C, H, W] = shape;
  const out = new Float32Array(N * C * H * W);
  for (let n = 0; n < N; n++)
    for (let ch = 0; ch < C; ch++)
      for (let p = 0; p < H * W; p++) out[(n * H * W + p) * C + ch] = Number(c[(n * C + ch) * H * W + p]);
  return ctx.mem.putF32(out);
}

/** DeformConv: weights packed for the conv GEMM, offset and mask NHWC, one deform_conv_f32 call. */
function planDeformConv(n: Node, ctx: PlanCtx): Step {
  const { x, w, win, groups, og } = lib.deformGeometry(n, ctx);
  const { k } = ctx;
  const weight = ctx.weight(n.inputs[1]);
  const biasName = lib.input(n, 3);
  const bias = biasName ? ctx.weight(biasName) : undefined;
  const g = lib.geomBlock(ctx, win, { N: x[0], H: x[2], W: x[3], C: x[1], OC: w[0], groups });
  const packed = lib.packWeights(ctx, k.conv2d_packed_size(g), weight, bias, (wp, bp, dst) => k.conv2d_pack(wp, bp, g, dst));
  const offName = n.inputs[2];
  const off = nhwcPtr(ctx, n, offName, ctx.shape(offName), 'offset');
  const maskName = lib.input(n, 4);
  const mask = maskName ? nhwcPtr(ctx, n, maskName, ctx.shape(maskName), 'mask') : 0;
  const s = ctx.scratch(k.deform_scratch_size(g));
  const xi = ctx.ptr(n.inputs[0]);
  const yo = ctx.ptr(n.outputs[0]);
  return () => k.deform_conv_f32(g, xi, off, mask, og, packed, yo, s.ptr);
}

/** MaxUnpool: indices NHWC (constant ones transposed now), one maxunpool_f32 call over the output. */
function planMaxUnpool(n: Node, ctx: PlanCtx): Step {
  const x = ctx.shape(n.inputs[0]);
  const { out, grid } = lib.unpoolShapes(n, ctx);
  const ip = nhwcPtr(ctx, n, n.inputs[1], x, 'indices');
  const g = lib.geomBlock(
    ctx,
    { kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, pb: 0, pr: 0, oh: out[2], ow: out[3] },
    { N: x[0], H: x[2], W: x[3], C: x[1], OC: x[1], groups: 1 },
  );
  const xi = ctx.ptr(n.inputs[0]);
  const yo = ctx.ptr(n.outputs[0]);
  const k = ctx.k;
  const IH = grid[2], IW = grid[3];
  return () => k.maxunpool_f32(g, xi, ip, yo, IH, IW, 0);
}

/** ConvTranspose (src/ops/convTranspose.ts): weights packed for GEMM + col2im, one convt_f32 call. */
function planConvTranspose(n: Node, ctx: PlanCtx): Step {
  const { x, win, groups, oc } = lib.convTransposeGeometry(n, ctx);
  const { k } = ctx;
  const weight = ctx.weight(n.inputs[1]);
  const biasName = lib.input(n, 2);
  const bias = biasName ? ctx.weight(biasName) : undefined;
  const g = lib.geomBlock(ctx, win, { N: x[0], H: x[2], W: x[3], C: x[1], OC: oc, groups });
  const packed = lib.packWeights(ctx, k.convt_packed_size(g), weight, bias, (wp, bp, dst) => k.convt_pack(wp, bp, g, dst), undefined, `convt:${groups}`);
  const s = ctx.scratch(k.convt_scratch_size(g));
  const xi = ctx.ptr(n.inputs[0]);
  const yo = ctx.ptr(n.outputs[0]);
  return () => k.convt_f32(g, xi, packed, yo, s.ptr);
}

/** InstanceNormalization (src/ops/norm.ts): NHWC maps in one call; 3-D [N, C, L] one call per row. */
function planInstanceNorm(n: Node, ctx: PlanCtx): Step {
  const s = ctx.mem.putF32(ctx.weight(n.inputs[1]).data);
  const b = ctx.mem.putF32(ctx.weight(n.inputs[2]).data);
  const eps = lib.attrFloat(n, 'epsilon', 1e-5);
  const xi = ctx.ptr(n.inputs[0]);
  const yo = ctx.ptr(n.outputs[0]);
  const k = ctx.k;
  const x = ctx.phys(n.inputs[0]);
  if (x.length === 3) {
    // plain [N, C, L]: each (n, c) row is one instance of L values with one channel, its own scale and bias
    const [N, C, L] = x;
    return () => {
      for (let r = 0; r < N * C; r++) k.instancenorm_f32(xi + 4 * r * L, yo + 4 * r * L, 1, L, 1, s + 4 * (r % C), b + 4 * (r % C), eps);
    };
  }
  const [N, H, W, Cn] = x;
  return () => k.instancenorm_f32(xi, yo, N, H * W, Cn, s, b, eps);
}

/** LRN (src/ops/norm.ts): one lrn_f32 call across the channels of every NHWC pixel. */
function planLrn(n: Node, ctx: PlanCtx): Step {
  const [N, H, W, Cn] = ctx.phys(n.inputs[0]);
  const size = lib.lrnSize(n);
  const alpha = lib.attrFloat(n, 'alpha', 1e-4);
  const beta = lib.attrFloat(n, 'beta', 0.75);
  const bias = lib.attrFloat(n, 'bias', 1);
  const xi = ctx.ptr(n.inputs[0]);
  const yo = ctx.ptr(n.outputs[0]);
  const k = ctx.k;
  return () => k.lrn_f32(xi, yo, N * H * W, Cn, size, alpha, beta, bias);
}

/** DepthToSpace (DCR / CRD) and SpaceToDepth (src/ops/depthToSpace.ts): one block-moving pass each, NHWC in and out. */
function planBlockShuffle(n: Node, ctx: PlanCtx): Step {
  const s = lib.blockShuffle(n, ctx);
  const y = ctx.ptr(n.outputs[0]);
  const x = ctx.ptr(n.inputs[0]);
  const k = ctx.k;
  const crd = s.crd ? 1 : 0;
  if (n.op === 'DepthToSpace') return () => k.depth_to_space_f32(y, x, s.N, s.H, s.W, s.C, s.r, crd);
  return () => k.space_to_depth_f32(y, x, s.N, s.H, s.W, s.C, s.r, crd);
}

/** Gather on an activation (src/ops/gather.ts): one strided copy per constant index. */
function planGather(n: Node, ctx: PlanCtx): Step {
  const { x, axis, idx } = lib.gatherIndices(n, ctx);
  const outer = numel(x.slice(0, axis));
  const inner = numel(x.slice(axis + 1));
  const xi = ctx.ptr(n.inputs[0]);
  const yo = ctx.ptr(n.outputs[0]);
  const steps = idx.map((i, j) =>
    lib.planCopy(ctx, yo + j * inner * 4, xi + i * inner * 4, [outer, inner], [idx.length * inner, 1], [x[axis] * inner, 1]),
  );
  return () => { for (const s of steps) s(); };
}

/** Expand (src/ops/gather.ts): one copy reading the input with stride 0 along the broadcast dims. */
function planExpand(n: Node, ctx: PlanCtx): Step {
  const out = ctx.shape(n.outputs[0]);
  const st = lib.broadcastStrides(ctx.shape(n.inputs[0]), out, 'plain', 'plain');
  return lib.planCopy(ctx, ctx.ptr(n.outputs[0]), ctx.ptr(n.inputs[0]), out, lib.denseStrides(out), st);
}

/**
 * The taps of an antialiased linear resize along one axis, as the ONNX reference takes them:
 * the source coordinate s splits into a base index and a ratio r in (0, 1] (an integer s is base
 * s - 1, r = 1), taps base + i for i in [start, start + n) with the triangle weight
 * max(0, 1 - |(i - r)·f|), f = min(scale, 1), normalised to sum 1; indexes past the ends take the
 * edge pixel. Returns per output index its n indexes and weights.
 */
function antialiasTaps(p: ResizePlan, len: number, outLen: number, scale: number): { n: number; idx: Int32Array; w: Float64Array } {
  const f = Math.min(scale, 1);
  const start = Math.floor(-1 / f) + 1;
  const n = 2 - 2 * start;
  const idx = new Int32Array(outLen * n);
  const w = new Float64Array(outLen * n);
  for (let o = 0; o < outLen; o++) {
    const s = lib.resizeSource(p.coord, o, len, outLen, scale);
    const base = Number.isInteger(s) ? s - 1 : Math.floor(s);
    const r = s - base;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = Math.max(0, 1 - Math.abs((start + i - r) * f));
      idx[o * n + i] = Math.min(Math.max(base + start + i, 0), len - 1);
      w[o * n + i] = v;
      sum += v;
    }
    for (let i = 0; i < n; i++) w[o * n + i] /= sum;
  }
  return { n, idx, w };
}

/** Resize with antialias=1 (src/ops/resize.ts sends it here): separable, along W then H, in double precision on the host. */
function planResizeAntialias(n: Node, ctx: PlanCtx): Step {
  const p = lib.resolveResize(n, ctx);
  const [N, C, H, W] = p.x;
  const [, , OH, OW] = p.out;
  const ty = antialiasTaps(p, H, OH, p.scale[0]);
  const tx = antialiasTaps(p, W, OW, p.scale[1]);
  const xi = ctx.ptr(n.inputs[0]) >>> 2;
  const yo = ctx.ptr(n.outputs[0]) >>> 2;
  const mem = ctx.mem;
  return () => {
    const f = mem.f32;
    // rows resized along W: [N][H][OW][C]
    const t = new Float64Array(N * H * OW * C);
    for (let row = 0; row < N * H; row++)
      for (let o = 0; o < OW; o++)
        for (let j = 0; j < tx.n; j++) {
          const wt = tx.w[o * tx.n + j];
          const src = xi + (row * W + tx.idx[o * tx.n + j]) * C;
          const dst = (row * OW + o) * C;
          for (let c = 0; c < C; c++) t[dst + c] += wt * f[src + c];
        }
    for (let b = 0; b < N; b++)
      for (let o = 0; o < OH; o++)
        for (let q = 0; q < OW * C; q++) {
          let v = 0;
          for (let i = 0; i < ty.n; i++) v += ty.w[o * ty.n + i] * t[(b * H + ty.idx[o * ty.n + i]) * OW * C + q];
          f[yo + (b * OH + o) * OW * C + q] = v;
        }
  };
}

/** The planner of each op type in src/ops/rare.ts's RARE_OPS (and of an antialiased Resize). */
export const RARE_PLANS: Record<string, (n: Node, ctx: PlanCtx) => Step> = {
  DeformConv: planDeformConv,
  MaxUnpool: planMaxUnpool,
  ConvTranspose: planConvTranspose,
  InstanceNormalization: planInstanceNorm,
  LRN: planLrn,
  DepthToSpace: planBlockShuffle,
  SpaceToDepth: planBlockShuffle,
  Gather: planGather,
  Expand: planExpand,
  Resize: planResizeAntialias,
};
