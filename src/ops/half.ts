// CompileOptions.weightStorage 'float16': the planning only such models do, in a chunk of its
// own that compileGraph loads for them and planGraph hands to the planners as PlanCtx.half. The
// GEMM panels (assembly/gemm.ts's layout) of Gemm/MatMul by a constant and of 1x1 and im2col
// convs are narrowed to binary16 in the wasm (gemm_narrow_panels: round to nearest even; refused
// when a weight rounds to ±Infinity or is NaN, and the layer then keeps float32) and widened one
// cache block at a time as the layer runs (gemm_f16; conv2d_f32 with FLAG_CONV_HALF). A packing
// whose address has bit 0 set is half-stored (window.ts panelsAt). Here since float16 storage
// came back within the bundle budget: 248 B (esbuild-minified) out of the page's first bundle;
// packGemm's chunked narrowing stays in matmul.ts, inside its one chunk loop. Like every lazy
// module, this one imports no module of the first bundle (src/lazy/kit.ts says why).
import type { Window } from './geometry';
import type { PlanCtx, Step } from './types';

/**
 * The GEMM panels ([count, K]) of a conv's packing that half storage applies to, or undefined:
 * im2col and 1x1 convs' panels are half-stored; Winograd and depthwise packings keep float32, and
 * so does the direct path (it reads f32 panels in place, and its few-channel weights are small),
 * except a 1x1 stride-1 unpadded conv, a plain GEMM whatever its direct flag says.
 */
export function convPanels(win: Window, w: number[], groups: number, dwOrWino: boolean, direct: boolean): [number, number] | undefined {
  const pointwise = win.kh * win.kw * win.sh * win.sw === 1 && win.pt + win.pl + win.pb + win.pr === 0;
  return dwOrWino || (direct && !pointwise) ? undefined : [groups * Math.ceil(w[0] / groups / 8), w[1] * w[2] * w[3]];
}

/**
 * packWeights' `count` panels K deep, half-stored: `make` packs them float32 above the half
 * ones, they are narrowed, then given back. Returns the half panels' address with bit 0 set, or
 * (a weight that does not fit binary16) the float32 panels `make` packs again.
 */
export function narrowPacked(ctx: PlanCtx, make: () => number, count: number, K: number): number {
  const { mem, k } = ctx;
  const start = mem.mark();
  const dst = mem.alloc(count * k.gemm_half_packed_bytes(8, K));
  const mid = mem.mark();
  const ok = k.gemm_narrow_panels(make(), count, K, dst) !== 0;
  mem.reset(ok ? mid : start);
  return ok ? dst + 1 : make();
}

/**
 * matmul.ts gemmStep on half-stored panels (`args`: gemm_f32's, the panels' address even):
 * gemm_f16, its widening blocks in the shared scratch after the first `before` bytes (the
 * caller's own use of the scratch).
 */
export function halfGemmStep(ctx: PlanCtx, args: (number | { ptr: number })[], macs: number, N: number, K: number, before: number): Step {
  const s = ctx.scratch(before + ctx.threads * ctx.k.gemm_half_scratch_size(N, K));
  return ctx.parallel('gemm_f16', [...args, { get ptr() { return s.ptr + before; } }], macs);
}
