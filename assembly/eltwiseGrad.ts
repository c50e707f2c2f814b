// Backward of the element-wise activations (f32, WebAssembly SIMD f32x4): dx = dy * f'(x).
//
// The derivatives follow PyTorch 1.13's backward formulas (aten/src/ATen/native/cpu/
// Activation.cpp, BinaryOpsKernel.cpp; tools/autograd/derivatives.yaml), including the value
// chosen at each kink: relu 0 at x <= 0, hardtanh/clamp 1 only for p0 < x < p1, leaky_relu the
// slope p0 at x <= 0, hardsigmoid p0 only strictly inside (0, 1), hardswish (x < -3: 0,
// x <= 3: x/3 + 1/2, else 1), elu alpha*exp(x) at x <= 0. (At x = 3 exactly PyTorch 1.13's CPU
// hardswish backward disagrees with itself: its vector path gives 1, its scalar tail 1.5; this
// follows the scalar rule.) The smooth ones are differentiated from the very approximations
// the forward kernels (eltwise.ts, math.ts) use: SiLU through vsigmoidAct, GELU (erf) through
// vphiFast, GELU (tanh) as x * sigmoid(2u) through vsigmoid.
// Sigmoid and tanh use the saved output y: y (1 - y) and 1 - y^2, as PyTorch does.

import {
  ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_LEAKY, ACT_SIGMOID, ACT_TANH, ACT_HARDSIGMOID,
  ACT_HARDSWISH, ACT_SILU, ACT_GELU_ERF, ACT_GELU_TANH, ACT_ELU,
} from './codes';
import { vexp, vsigmoid, vsigmoidAct, vphiFast } from './math';
import { partStart } from './parallel';

// @ts-ignore: decorator
@inline function splat(v: f32): v128 { return f32x4.splat(v); }

// Each op maps (x, y, dy, p0, p1) to dx for four lanes.
@final class GNone { @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 { return g; } }
@final class GRelu {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 { return v128.and(g, f32x4.gt(x, splat(0))); }
}
@final class GClamp {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    return v128.and(g, v128.and(f32x4.gt(x, p0), f32x4.lt(x, p1)));
  }
}
@final class GLeaky {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    return v128.bitselect(g, f32x4.mul(g, p0), f32x4.gt(x, splat(0)));
  }
}
@final class GSigmoid {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    return f32x4.mul(f32x4.mul(g, f32x4.sub(splat(1), y)), y);
  }
}
@final class GTanh {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    return f32x4.mul(g, f32x4.sub(splat(1), f32x4.mul(y, y)));
  }
}
@final class GHardSigmoid {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    const t = f32x4.add(f32x4.mul(x, p0), p1);
    return v128.and(f32x4.mul(g, p0), v128.and(f32x4.gt(t, splat(0)), f32x4.lt(t, splat(1))));
  }
}
@final class GHardSwish {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    const mid = f32x4.mul(g, f32x4.add(f32x4.div(x, splat(3)), splat(0.5)));
    const r = v128.bitselect(mid, g, f32x4.le(x, splat(3)));
    return v128.andnot(r, f32x4.lt(x, splat(-3)));
  }
}
@final class GSilu {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    const s = vsigmoidAct(x);
    return f32x4.mul(f32x4.mul(g, s), f32x4.add(splat(1), f32x4.mul(x, f32x4.sub(splat(1), s))));
  }
}
@final class GGeluErf {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    // d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)
    const pdf = f32x4.mul(vexp(f32x4.mul(f32x4.mul(x, x), splat(-0.5))), splat(0.3989422804014327));
    return f32x4.mul(g, f32x4.add(vphiFast(x), f32x4.mul(x, pdf)));
  }
}
@final class GGeluTanh {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    // f = x s, s = sigmoid(2u), u = k (x + c x^3): f' = s + 2 x s (1 - s) u', u' = k (1 + 3 c x^2)
    const x2 = f32x4.mul(x, x);
    const u = f32x4.mul(f32x4.add(x, f32x4.mul(f32x4.mul(x2, x), splat(0.044715))), splat(0.7978845608028654));
    const s = vsigmoid(f32x4.add(u, u));
    const du = f32x4.mul(f32x4.add(splat(1), f32x4.mul(x2, splat(3 * 0.044715))), splat(0.7978845608028654));
    const xs = f32x4.mul(f32x4.add(x, x), f32x4.mul(s, f32x4.sub(splat(1), s)));
    return f32x4.mul(g, f32x4.add(s, f32x4.mul(xs, du)));
  }
}
@final class GElu {
  @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 {
    const neg = f32x4.mul(g, f32x4.mul(p0, vexp(f32x4.min(x, splat(0)))));
    return v128.bitselect(neg, g, f32x4.le(x, splat(0)));
  }
}
@final class GNaN { @inline v(x: v128, y: v128, g: v128, p0: v128, p1: v128): v128 { return splat(NaN); } }

function gradLoop<O>(x: usize, y: usize, dy: usize, dx: usize, n: i32, p0: f32, p1: f32): void {
  const o = changetype<O>(0);
  const v0 = f32x4.splat(p0);
  const v1 = f32x4.splat(p1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(dx + off, o.v(v128.load(x + off), v128.load(y + off), v128.load(dy + off), v0, v1));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const r = o.v(f32x4.splat(load<f32>(x + off)), f32x4.splat(load<f32>(y + off)), f32x4.splat(load<f32>(dy + off)), v0, v1);
    store<f32>(dx + off, f32x4.extract_lane(r, 0));
  }
}

/**
 * dx[i] = dy[i] * f'(x[i]) over n floats, f the activation `op` (ACT_* of codes.ts) with params
 * p0, p1 as in unary_f32; y = f(x) is the forward's output (read by sigmoid and tanh only; the
 * others ignore it, but it must be a readable n-float buffer, e.g. x itself).
 * Supported ops: ACT_NONE, ACT_RELU, ACT_CLAMP, ACT_LEAKY, ACT_SIGMOID, ACT_TANH,
 * ACT_HARDSIGMOID, ACT_HARDSWISH, ACT_SILU, ACT_GELU_ERF, ACT_GELU_TANH, ACT_ELU; any other op
 * writes NaN into dx (the host refuses them before calling). dx may alias dy.
 * part / parts: contiguous runs of 4-float groups (every lane runs the same code: same bits for
 * any split).
 */
export function unary_grad_f32(
  op: i32, x: usize, y: usize, dy: usize, dx: usize, n: i32, p0: f32, p1: f32, part: i32, parts: i32,
): void {
  if (n <= 0) return;
  if (parts > 1) {
    const i0 = partStart(n, 4, part, parts);
    const off = <usize>i0 << 2;
    x += off; y += off; dy += off; dx += off;
    n = partStart(n, 4, part + 1, parts) - i0;
    if (n <= 0) return;
  }
  switch (op) {
    case ACT_NONE: gradLoop<GNone>(x, y, dy, dx, n, p0, p1); break;
    case ACT_RELU: gradLoop<GRelu>(x, y, dy, dx, n, p0, p1); break;
    case ACT_CLAMP: gradLoop<GClamp>(x, y, dy, dx, n, p0, p1); break;
    case ACT_LEAKY: gradLoop<GLeaky>(x, y, dy, dx, n, p0, p1); break;
    case ACT_SIGMOID: gradLoop<GSigmoid>(x, y, dy, dx, n, p0, p1); break;
    case ACT_TANH: gradLoop<GTanh>(x, y, dy, dx, n, p0, p1); break;
    case ACT_HARDSIGMOID: gradLoop<GHardSigmoid>(x, y, dy, dx, n, p0, p1); break;
    case ACT_HARDSWISH: gradLoop<GHardSwish>(x, y, dy, dx, n, p0, p1); break;
    case ACT_SILU: gradLoop<GSilu>(x, y, dy, dx, n, p0, p1); break;
    case ACT_GELU_ERF: gradLoop<GGeluErf>(x, y, dy, dx, n, p0, p1); break;
    case ACT_GELU_TANH: gradLoop<GGeluTanh>(x, y, dy, dx, n, p0, p1); break;
    case ACT_ELU: gradLoop<GElu>(x, y, dy, dx, n, p0, p1); break;
    default: gradLoop<GNaN>(x, y, dy, dx, n, p0, p1);
  }
}

/**
 * PReLU backward (PyTorch's rule: y = x > 0 ? x : a·x), NCHW with one slope per channel
 * (`perChannel` != 0, slope[C]) or one shared slope: dx = x > 0 ? dy : a·dy (overwritten),
 * da += Σ over the batch and plane of (x > 0 ? 0 : x·dy) (accumulated; one sum per channel, in
 * a fixed order: lanes of four, then the plane's remainder).
 */
export function prelu_grad_f32(
  x: usize, slope: usize, dy: usize, dx: usize, dslope: usize, N: i32, C: i32, HW: i32, perChannel: i32,
): void {
  const zero = f32x4.splat(0);
  const full = HW & ~3;
  for (let c = 0; c < C; c++) {
    const si = perChannel != 0 ? <usize>c << 2 : 0;
    const a = load<f32>(slope + si);
    const va = f32x4.splat(a);
    let acc = zero;
    let tail: f32 = 0;
    for (let n = 0; n < N; n++) {
      const o = (<usize>n * <usize>C + <usize>c) * <usize>HW << 2;
      let i = 0;
      for (; i < full; i += 4) {
        const p = o + (<usize>i << 2);
        const xv = v128.load(x + p);
        const g = v128.load(dy + p);
        const pos = f32x4.gt(xv, zero);
        v128.store(dx + p, v128.bitselect(g, f32x4.mul(g, va), pos));
        acc = f32x4.add(acc, v128.andnot(f32x4.mul(xv, g), pos));
      }
      for (; i < HW; i++) {
        const p = o + (<usize>i << 2);
        const xv = load<f32>(x + p);
        const g = load<f32>(dy + p);
        store<f32>(dx + p, xv > 0 ? g : a * g);
        if (!(xv > 0)) tail += xv * g;
      }
    }
    const sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3) + tail;
    store<f32>(dslope + si, load<f32>(dslope + si) + sum);
  }
}
