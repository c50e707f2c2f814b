// Fuses what a GEMM epilogue can do into the producing Conv/MatMul/Gemm: a bias Add after
// MatMul, a residual Add (ResNet shortcuts), then the activation: ReLU / ReLU6 / Clip in
// registers, others (SiLU, GELU, hard-swish, sigmoid, ...) on each tile strip while in cache.
// Depthwise convs take only the clamp family.
import * as C from '../../assembly/codes';
import { isDepthwise } from '../ops/conv';
import { unaryCode } from '../ops/unary';
import { makeInferCtx } from './infer';
import type { Graph, Node } from './ir';
import { consumers, isGraphOutput, producers } from './util';

const FUSABLE = new Set(['Conv', 'MatMul', 'Gemm', 'BatchNormalization']);
const RESHAPES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

function constB(g: Graph, n: Node): boolean {
  if (n.op === 'Conv') return g.initializers.has(n.inputs[1]);
  const b = g.initializers.get(n.inputs[1]);
  return !!b && b.shape.length <= 2;
}

/** Activations a GEMM epilogue applies (the clamp family in registers, the rest per strip). */
const EPILOGUE_ACTS = new Set([
  'LeakyRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Silu', 'Gelu', 'Elu', 'Selu', 'Celu', 'Softplus', 'Mish',
]);

function actOf(g: Graph, n: Node, clampOnly: boolean): { act: number; p0: number; p1: number } | undefined {
  if (!clampOnly && EPILOGUE_ACTS.has(n.op)) return unaryCode(n, makeInferCtx(g));
  if (n.op === 'Relu') return { act: C.ACT_RELU, p0: 0, p1: 0 };
  if (n.op !== 'Clip') return undefined;
  let lo = -Infinity;
  let hi = Infinity;
  if (g.opset < 11) {
    lo = (n.attrs.min as number | undefined) ?? lo;
    hi = (n.attrs.max as number | undefined) ?? hi;
  } else {
    for (const [i, set] of [[1, (v: number) => (lo = v)], [2, (v: number) => (hi = v)]] as const) {
      const name = n.inputs[i];
      if (!name) continue;
      const t = g.initializers.get(name) ?? undefined;
      if (!t || t.data.length !== 1) return undefined;
      set(t.data[0]);
    }
  }
  return { act: C.ACT_CLAMP, p0: lo, p1: hi };
}

export function fuseEpilogue(g: Graph): void {
  const ctx = makeInferCtx(g);
  let changed = true;
  // Each sweep rewrites as it goes, keeping the reader and producer maps current, and sweeps
  // repeat until one changes nothing (a node that just took its successor in is looked at again
  // by the next sweep: Conv, then its residual Add, then the Relu after it).
  while (changed) {
    changed = false;
    const uses = consumers(g);
    const prod = producers(g);
    /** `n` took in `gone` (removed), which read `was` (no longer produced): update the maps. */
    const absorbed = (n: Node, gone: Node, was: string) => {
      changed = true;
      uses.delete(was);
      for (const i of gone.inputs) {
        const l = i ? uses.get(i) : undefined;
        if (!l) continue;
        const j = l.indexOf(gone);
        if (j < 0) continue;
        if (l.includes(n) || !n.inputs.includes(i)) l.splice(j, 1);
        else l[j] = n;
      }
      for (const o of n.outputs) if (o) prod.set(o, n);
    };
    for (const n of g.nodes) {
      if (!FUSABLE.has(n.op) || !constB(g, n) || n.attrs._act !== undefined) continue;
      const out = n.outputs[0];
      const readers = uses.get(out) ?? [];
      if (readers.length !== 1 || isGraphOutput(g, out)) continue;
      const next = readers[0];
      const outShape = g.shapes.get(out)!;
      // bias after MatMul
      if (n.op === 'MatMul' && next.op === 'Add' && !n.inputs[2] && !n.inputs[3]) {
        const other = next.inputs[0] === out ? next.inputs[1] : next.inputs[0];
        const t = g.initializers.get(other);
        const N = outShape[outShape.length - 1];
        if (t && t.data.length === N && t.shape.filter((d) => d !== 1).length <= 1) {
          g.initializers.set(other, { data: t.data, shape: [N] });
          n.inputs = [n.inputs[0], n.inputs[1], other];
          n.outputs = [next.outputs[0]];
          g.nodes.splice(g.nodes.indexOf(next), 1);
          absorbed(n, next, out);
          continue;
        }
      }
      // residual add
      if (next.op === 'Add' && !n.inputs[3] && (n.op === 'MatMul' || (n.op === 'Conv' && !isDepthwise(n, ctx)))) {
        const other = next.inputs[0] === out ? next.inputs[1] : next.inputs[0];
        const p = prod.get(other);
        const ready = g.inputs.some((i) => i.name === other) || (p && g.nodes.indexOf(p) < g.nodes.indexOf(n));
        const same = g.shapes.get(other)?.join() === outShape.join() && g.shapes.get(next.outputs[0])?.join() === outShape.join();
        if (ready && same && other !== out && !g.initializers.has(other)) {
          n.inputs = [n.inputs[0], n.inputs[1], n.inputs[2] ?? '', other];
          n.outputs = [next.outputs[0]];
          g.nodes.splice(g.nodes.indexOf(next), 1);
          absorbed(n, next, out);
          continue;
        }
      }
      // an element-wise activation commutes with a reshape: look through one (Linear on N-D input)
      if (RESHAPES.has(next.op) && next.inputs[0] === out) {
        const after = uses.get(next.outputs[0]) ?? [];
        const act2 = after.length === 1 && !isGraphOutput(g, next.outputs[0]) ? actOf(g, after[0], n.op === 'Conv' || n.op === 'BatchNormalization') : undefined;
        if (act2 && after[0].inputs[0] === next.outputs[0]) {
          n.attrs = { ...n.attrs, _act: act2.act, _p0: act2.p0, _p1: act2.p1 };
          const was = next.outputs[0];
          next.outputs = [after[0].outputs[0]];
          g.nodes.splice(g.nodes.indexOf(after[0]), 1);
          absorbed(next, after[0], was);
          continue;
        }
      }
      const act = actOf(g, next, n.op === 'BatchNormalization' || (n.op === 'Conv' && isDepthwise(n, ctx)));
      if (act) {
        n.attrs = { ...n.attrs, _act: act.act, _p0: act.p0, _p1: act.p1 };
        n.outputs = [next.outputs[0]];
        g.nodes.splice(g.nodes.indexOf(next), 1);
        absorbed(n, next, out);
      }
    }
  }
}
