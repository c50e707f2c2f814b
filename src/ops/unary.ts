// Element-wise unary ONNX ops and activations (Relu, Clip, LeakyRelu, Sigmoid, HardSwish, Gelu,
// Exp, Sqrt, ...): one strided kernel, the op code and its float parameters chosen here.
import * as C from '../../assembly/codes';
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { numel } from '../graph/ir';
import type { InferCtx, OpDef } from './types';
import { attrFloat, attrString, floatsOf, input, ELEMENT_MACS } from './util';

const SIMPLE: Record<string, number> = {
  Relu: C.ACT_RELU, Sigmoid: C.ACT_SIGMOID, Tanh: C.ACT_TANH, HardSwish: C.ACT_HARDSWISH,
  Softplus: C.ACT_SOFTPLUS, Softsign: C.ACT_SOFTSIGN, Mish: C.ACT_MISH, Abs: C.ACT_ABS,
  Neg: C.ACT_NEG, Exp: C.ACT_EXP, Log: C.ACT_LOG, Sqrt: C.ACT_SQRT, Erf: C.ACT_ERF,
  Reciprocal: C.ACT_RECIPROCAL, Floor: C.ACT_FLOOR, Ceil: C.ACT_CEIL,
  Silu: C.ACT_SILU, // wasmcnn-internal: x * sigmoid(x), recognised from its decomposed form
  // identity at inference (their training rules are in src/train/ops): DropPath is wasmcnn's stochastic depth
  Identity: C.ACT_NONE, Dropout: C.ACT_NONE, DropPath: C.ACT_NONE,
};

/** The kernel op code and parameters a unary node computes. */
export function unaryCode(n: Node, ctx: InferCtx): { act: number; p0: number; p1: number } {
  const simple = SIMPLE[n.op];
  if (simple !== undefined) return { act: simple, p0: 0, p1: 0 };
  switch (n.op) {
    case 'LeakyRelu':
      return { act: C.ACT_LEAKY, p0: attrFloat(n, 'alpha', 0.01), p1: 0 };
    case 'Elu':
      return { act: C.ACT_ELU, p0: attrFloat(n, 'alpha', 1), p1: 0 };
    case 'Selu':
      return {
        act: C.ACT_SELU,
        p0: attrFloat(n, 'alpha', 1.67326319217681884765625),
        p1: attrFloat(n, 'gamma', 1.05070102214813232421875),
      };
    case 'Celu':
      return { act: C.ACT_CELU, p0: attrFloat(n, 'alpha', 1), p1: 0 };
    case 'HardSigmoid':
      return { act: C.ACT_HARDSIGMOID, p0: attrFloat(n, 'alpha', 0.2), p1: attrFloat(n, 'beta', 0.5) };
    case 'ThresholdedRelu':
      return { act: C.ACT_THRESHOLDED_RELU, p0: attrFloat(n, 'alpha', 1), p1: 0 };
    case 'Shrink':
      return { act: C.ACT_SHRINK, p0: attrFloat(n, 'lambd', 0.5), p1: attrFloat(n, 'bias', 0) };
    case 'Gelu': {
      const approx = attrString(n, 'approximate', 'none');
      if (approx !== 'none' && approx !== 'tanh') throw new UnsupportedOpError('Gelu', n.name, `approximate='${approx}'`);
      return { act: approx === 'tanh' ? C.ACT_GELU_TANH : C.ACT_GELU_ERF, p0: 0, p1: 0 };
    }
    case 'Clip': {
      let lo = -Infinity;
      let hi = Infinity;
      if (ctx.opset < 11) {
        lo = attrFloat(n, 'min', -Infinity);
        hi = attrFloat(n, 'max', Infinity);
      } else {
        const mn = floatsOf(ctx, n, input(n, 1), 'min');
        const mx = floatsOf(ctx, n, input(n, 2), 'max');
        // ONNX: min and max are scalars; an empty tensor left the bound undefined in the kernel call
        for (const [what, v] of [['min', mn], ['max', mx]] as const)
          if (v && v.length !== 1) throw new ShapeError(`Clip node '${n.name}': ${what} must hold one value, got ${v.length}`);
        if (mn) lo = mn[0];
        if (mx) hi = mx[0];
      }
      if (lo === 0 && hi === Infinity) return { act: C.ACT_RELU, p0: 0, p1: 0 };
      return { act: C.ACT_CLAMP, p0: lo, p1: hi };
    }
    case 'Identity':
    case 'Dropout':
      return { act: C.ACT_NONE, p0: 0, p1: 0 };
  }
  throw new UnsupportedOpError(n.op, n.name);
}

export const unary: OpDef = {
  ops: [...Object.keys(SIMPLE), 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'HardSigmoid', 'ThresholdedRelu', 'Shrink', 'Gelu', 'Clip'],
  layout: 'any',
  stridedIn: true,
  stridedOut: true,
  inPlace: () => [0],
  infer(n, ctx) {
    unaryCode(n, ctx);
    return [ctx.shape(n.inputs[0])];
  },
  plan(n, ctx) {
    const { act, p0, p1 } = unaryCode(n, ctx);
    const xname = n.inputs[0];
    const x = ctx.ptr(xname);
    const y = ctx.ptr(n.outputs[0]);
    if (ctx.layout(xname) === 'nhwc') {
      // rows of C channels; either side may be a channel slice of a wider buffer
      const [N, H, W, Cn] = ctx.phys(xname);
      const ldx = ctx.stride(xname);
      const ldy = ctx.stride(n.outputs[0]);
      if (ldx !== Cn || ldy !== Cn) return ctx.parallel('unary_f32', [act, x, y, N * H * W, Cn, ldx, ldy, p0, p1], N * H * W * Cn * ELEMENT_MACS);
    }
    const count = numel(ctx.shape(xname));
    return ctx.parallel('unary_f32', [act, x, y, 1, count, count, count, p0, p1], count * ELEMENT_MACS);
  },
};
