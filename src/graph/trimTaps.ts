// Drops kernel rows/columns that only ever read padding. A dilated conv whose dilation reaches
// past the feature map (DeepLab's ASPP: rate 36 on a 32x32 map) touches the input only with
// its centre taps; trimming the dead taps makes it the smaller conv it really is (a 1x1 there),
// with the same output.
import { window2d } from '../ops/window';
import type { Graph } from './ir';
import { freshName } from './util';

/** Kept tap range [lo, hi) of one axis: taps whose input index is inside [0, size) for some output. */
function liveTaps(size: number, out: number, k: number, s: number, d: number, padBegin: number): [number, number] {
  const live = (t: number) => {
    // input index of tap t for output o is o*s - padBegin + t*d; any o in [0, out) inside [0, size)?
    const first = -padBegin + t * d;
    const last = (out - 1) * s - padBegin + t * d;
    if (last < 0 || first >= size) return false;
    // with stride > 1 the reachable indices are first + o*s: some must fall in [0, size)
    const o = first >= 0 ? 0 : Math.ceil(-first / s);
    return o < out && first + o * s < size;
  };
  let lo = 0;
  let hi = k;
  while (lo < hi && !live(lo)) lo++;
  while (hi > lo && !live(hi - 1)) hi--;
  return [lo, hi];
}

export function trimDeadTaps(g: Graph): void {
  for (const n of g.nodes) {
    if (n.op !== 'Conv') continue;
    const w = g.initializers.get(n.inputs[1]);
    const x = g.shapes.get(n.inputs[0]);
    if (!w || !x || x.length !== 4 || w.shape.length !== 4) continue;
    const [OC, Cg, KH, KW] = w.shape;
    const win = window2d(n, x[2], x[3], [KH, KW]);
    const [h0, h1] = liveTaps(x[2], win.oh, KH, win.sh, win.dh, win.pt);
    const [w0, w1] = liveTaps(x[3], win.ow, KW, win.sw, win.dw, win.pl);
    if ((h0 === 0 && h1 === KH && w0 === 0 && w1 === KW) || h1 <= h0 || w1 <= w0) continue;
    const kh = h1 - h0;
    const kw = w1 - w0;
    const data = new Float32Array(OC * Cg * kh * kw);
    for (let o = 0; o < OC * Cg; o++)
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) data[(o * kh + i) * kw + j] = w.data[(o * KH + h0 + i) * KW + w0 + j];
    const name = freshName(`${n.name}.weight_trimmed`);
    g.initializers.set(name, { data, shape: [OC, Cg, kh, kw] });
    g.shapes.set(name, [OC, Cg, kh, kw]);
    // the kept taps start h0*d later: shift the leading pad; the output size stays the same
    const pt = win.pt - h0 * win.dh;
    const pl = win.pl - w0 * win.dw;
    const pb = (win.oh - 1) * win.sh + (kh - 1) * win.dh + 1 - x[2] - pt;
    const pr = (win.ow - 1) * win.sw + (kw - 1) * win.dw + 1 - x[3] - pl;
    // a negative pad would be a crop the kernels do not take: leave such convs as they are
    if ([pt, pl, pb, pr].some((p) => p < 0)) continue;
    n.inputs = [n.inputs[0], name, ...n.inputs.slice(2)];
    n.attrs = {
      ...n.attrs,
      kernel_shape: [kh, kw],
      pads: [pt, pl, pb, pr],
      dilations: [kh > 1 ? win.dh : 1, kw > 1 ? win.dw : 1],
      auto_pad: 'NOTSET',
    };
  }
}
