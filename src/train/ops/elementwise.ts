// Training rules for activations (the forward kernel unary_f32 and its derivative
// unary_grad_f32 with the same op codes), broadcasting Add / Sub / Mul, Expand, and PRelu.
import { numel, shapeStr, UnsupportedOpError } from '../../lazy/kit';
import type { Node } from '../../graph/ir';
import type { TrainCtx, TrainStep } from '../program';
import { type Addr, binaryStep, inferCtx, overwriteSink, reduceToStep, sinkFrom } from './util';

export function unary(n: Node, ctx: TrainCtx): TrainStep {
  const { act, p0, p1 } = ctx.lib.unaryCode(n, inferCtx(ctx));
  const count = numel(ctx.shape(n.inputs[0]));
  const xp = ctx.ptr(n.inputs[0]);
  const yp = ctx.ptr(n.outputs[0]);
  const forward = () => ctx.call('unary_f32', count, act, xp, yp, 1, count, count, count, p0, p1);
  if (!ctx.needsGrad(n.inputs[0])) return { forward };
  // unary_grad_f32 writes NaN for an activation it has no derivative of: ask it once, at x = 0
  const probe = ctx.keep(16);
  ctx.k.unary_grad_f32(act, probe, probe + 4, probe + 8, probe + 12, 1, p0, p1, 0, 1);
  if (Number.isNaN(ctx.mem.f32[(probe + 12) >>> 2])) throw new UnsupportedOpError(n.op, n.name, 'no gradient rule for this activation yet');
  const dy = ctx.grad(n.outputs[0]);
  const s = overwriteSink(ctx, n.inputs[0]);
  return { forward, backward: () => (ctx.call('unary_grad_f32', count, act, xp, yp, dy, s.dst(), count, p0, p1), s.after()) };
}

export function binary(n: Node, ctx: TrainCtx): TrainStep {
  const C = ctx.lib.codes;
  const BINARY: Record<string, number> = { Add: C.BIN_ADD, Sub: C.BIN_SUB, Mul: C.BIN_MUL };
  const [an, bn] = n.inputs;
  const a = ctx.shape(an);
  const b = ctx.shape(bn);
  const y = ctx.shape(n.outputs[0]);
  const ap = ctx.ptr(an);
  const bp = ctx.ptr(bn);
  const yp = ctx.ptr(n.outputs[0]);
  const forward = binaryStep(ctx, BINARY[n.op], yp, ap, a, bp, b, y);
  if (!ctx.needsGrad(n.outputs[0])) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const ny = numel(y);
  const steps: (() => void)[] = [];
  const tmp = ctx.scratch(ny * 4, 0);
  const red = ctx.scratch(ny * 4, 1);
  // the share of input `name` (shape s): the ny floats at src summed back to s
  const share = (name: string, s: number[], src: Addr) => {
    const n2 = numel(s);
    if (n2 === ny) return steps.push(sinkFrom(ctx, name, src, ny));
    steps.push(reduceToStep(ctx, src, y, s, red), sinkFrom(ctx, name, red, n2));
  };
  for (const [i, name, s] of [[0, an, a], [1, bn, b]] as const) {
    if (!ctx.needsGrad(name)) continue;
    if (n.op === 'Add' || (n.op === 'Sub' && i === 0)) share(name, s, dy);
    else if (n.op === 'Sub') {
      steps.push(binaryStep(ctx, C.BIN_MUL, tmp, dy, y, ctx.mem.putF32([-1]), [1], y));
      share(name, s, tmp);
    } else {
      const other = i === 0 ? bp : ap;
      steps.push(binaryStep(ctx, C.BIN_MUL, tmp, dy, y, other, i === 0 ? b : a, y));
      share(name, s, tmp);
    }
  }
  return { forward, backward: () => steps.forEach((s) => s()) };
}

/**
 * Expand (x broadcast to the output's shape, as ECA's and SE's gates are in exported graphs):
 * forward x · 1 broadcast (exact); backward the output's gradient summed back to x's shape.
 */
export function expand(n: Node, ctx: TrainCtx): TrainStep {
  const [xn] = n.inputs;
  const x = ctx.shape(xn);
  const y = ctx.shape(n.outputs[0]);
  const forward = binaryStep(ctx, ctx.lib.codes.BIN_MUL, ctx.ptr(n.outputs[0]), ctx.ptr(xn), x, ctx.mem.putF32([1]), [1], y);
  if (!ctx.needsGrad(xn)) return { forward };
  const dy = ctx.grad(n.outputs[0]);
  const nx = numel(x);
  if (nx === numel(y)) return { forward, backward: sinkFrom(ctx, xn, dy, nx) };
  const red = ctx.scratch(nx * 4, 1);
  const steps = [reduceToStep(ctx, dy, y, x, red), sinkFrom(ctx, xn, red, nx)];
  return { forward, backward: () => steps.forEach((s) => s()) };
}

/** PRelu with one slope per channel (PyTorch nn.PReLU(C): slope [C] or [C, 1, 1]) or one shared slope. */
export function prelu(n: Node, ctx: TrainCtx): TrainStep {
  const x = ctx.shape(n.inputs[0]);
  const a = ctx.shape(n.inputs[1]);
  const y = ctx.shape(n.outputs[0]);
  const na = numel(a);
  const C = x.length > 1 ? x[1] : 1;
  if (!(na === 1 || (na === C && a.length <= x.length - 1 && a[0] === C)))
    throw new UnsupportedOpError('PRelu', n.name, `training needs one slope or one per channel (axis 1), got slope ${shapeStr(a)} for input ${shapeStr(x)}`);
  const xp = ctx.ptr(n.inputs[0]);
  const ap = ctx.ptr(n.inputs[1]);
  const forward = binaryStep(ctx, ctx.lib.codes.BIN_PRELU, ctx.ptr(n.outputs[0]), xp, x, ap, a, y);
  if (!ctx.needsGrad(n.outputs[0])) return { forward };
  const N = x[0];
  const HW = numel(x) / (N * C);
  const dy = ctx.grad(n.outputs[0]);
  const k = ctx.k;
  // the kernel writes dx whole and adds into da: a slope that takes no gradient adds into scratch
  const da = ctx.needsGrad(n.inputs[1]) ? ctx.grad(n.inputs[1]) : ctx.scratch(na * 4, 1);
  const s = ctx.needsGrad(n.inputs[0]) ? overwriteSink(ctx, n.inputs[0]) : undefined;
  const dx = s ? undefined : ctx.scratch(numel(x) * 4, 0);
  return {
    forward,
    backward: () => {
      k.prelu_grad_f32(xp, ap, dy, s ? s.dst() : dx!.ptr, typeof da === 'number' ? da : da.ptr, N, C, HW, na === 1 ? 0 : 1);
      s?.after();
    },
  };
}
