// Sliding-window geometry for Conv and pooling (ONNX Conv/MaxPool/AveragePool attribute rules):
// auto_pad, explicit pads, dilation, ceil_mode, checked against the kernels' i32 parameters.
// Shared by the op files (through src/ops/window.ts) and the receptive-field analysis.
import { ShapeError, UnsupportedOpError } from '../errors';
import type { Node } from '../graph/ir';
import { shapeStr } from '../graph/ir';
import { attrInts, attrString, MAX_I32 } from './attrs';

export interface Window {
  kh: number; kw: number;
  sh: number; sw: number;
  dh: number; dw: number;
  pt: number; pl: number; pb: number; pr: number;
  oh: number; ow: number;
}

/**
 * Resolve a 2-D window from the node's attributes for input H x W and kernel kh x kw, checking
 * every value against ONNX's definition and the kernels' i32 parameters: kernel, strides and
 * dilations >= 1, pads >= 0 (for pooling also smaller than the kernel, as onnxruntime requires:
 * a window wholly in the padding has no value), the dilated kernel within the padded input.
 * A stride longer than the padded input leaves one window on that axis whatever its value, so
 * it is handed to the kernels clamped to the padded length (same result, no i32 overflow).
 */
export function window2d(n: Node, H: number, W: number, kernel: number[], ceilMode = false): Window {
  if (kernel.length !== 2)
    throw new UnsupportedOpError(n.op, n.name, `only 2-D windows are supported (kernel ${shapeStr(kernel)})`);
  const bad = (what: string): never => {
    throw new ShapeError(`${n.op} node '${n.name}': ${what}`);
  };
  const [kh, kw] = kernel;
  let [sh, sw] = attrInts(n, 'strides', [1, 1])!;
  const [dh, dw] = attrInts(n, 'dilations', [1, 1])!;
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  const rawPads = attrInts(n, 'pads', [0, 0, 0, 0])!;
  if (attrInts(n, 'strides', [1, 1])!.length !== 2) bad(`strides ${shapeStr(attrInts(n, 'strides')!)} must have 2 entries`);
  if (attrInts(n, 'dilations', [1, 1])!.length !== 2) bad(`dilations ${shapeStr(attrInts(n, 'dilations')!)} must have 2 entries`);
  if (rawPads.length !== 4) bad(`pads ${shapeStr(rawPads)} must have 4 entries`);
  let [pt, pl, pb, pr] = rawPads;
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh < 1 || kw < 1)
    bad('strides, dilations and kernel must be >= 1');
  for (const [what, v] of [['kernel', [kh, kw]], ['dilations', [dh, dw]]] as const)
    if (v.some((x) => x > MAX_I32)) bad(`${what} ${shapeStr(v)} exceed ${MAX_I32}`);
  // the dilated kernel must fit the padded input below, so bound it by what an input can be
  const ekh = dh * (kh - 1) + 1;
  const ekw = dw * (kw - 1) + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    if (sh > H) sh = H;
    if (sw > W) sw = W;
    const oh = Math.ceil(H / sh);
    const ow = Math.ceil(W / sw);
    const th = Math.max(0, (oh - 1) * sh + ekh - H);
    const tw = Math.max(0, (ow - 1) * sw + ekw - W);
    const upper = autoPad === 'SAME_UPPER';
    pt = upper ? Math.floor(th / 2) : Math.ceil(th / 2);
    pb = th - pt;
    pl = upper ? Math.floor(tw / 2) : Math.ceil(tw / 2);
    pr = tw - pl;
  } else if (autoPad === 'VALID') {
    pt = pl = pb = pr = 0;
  } else if (autoPad !== 'NOTSET') {
    throw new UnsupportedOpError(n.op, n.name, `auto_pad '${autoPad}'`);
  }
  if ([pt, pl, pb, pr].some((p) => p < 0))
    throw new UnsupportedOpError(n.op, n.name, `negative pads ${[pt, pl, pb, pr]}`);
  const pooling = n.op === 'MaxPool' || n.op === 'AveragePool';
  if (pooling && autoPad === 'NOTSET' && (pt >= kh || pb >= kh || pl >= kw || pr >= kw))
    bad(`pads ${shapeStr([pt, pl, pb, pr])} must be smaller than the ${kh}x${kw} kernel`);
  if (H + pt + pb > MAX_I32 || W + pl + pr > MAX_I32) bad(`pads ${shapeStr([pt, pl, pb, pr])} exceed ${MAX_I32}`);
  // one window per axis once the stride reaches past the padded input: any such stride is the same
  sh = Math.min(sh, H + pt + pb);
  sw = Math.min(sw, W + pl + pr);
  const out = (size: number, p0: number, p1: number, ek: number, s: number): number => {
    const span = size + p0 + p1 - ek;
    if (span < 0) return 0;
    let o = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    // the last window must start inside the input or its leading pad (PyTorch and ONNX rule)
    if (ceilMode && (o - 1) * s >= size + p0) o--;
    return o;
  };
  const oh = out(H, pt, pb, ekh, sh);
  const ow = out(W, pl, pr, ekw, sw);
  if (oh < 1 || ow < 1)
    throw new ShapeError(
      `${n.op} node '${n.name}': a ${kh}x${kw} window (dilation ${dh}x${dw}) does not fit the ${H}x${W} input with pads ${[pt, pl, pb, pr]}`,
    );
  return { kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow };
}
