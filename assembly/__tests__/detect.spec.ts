// Specs for detect.ts: nms_f32 (greedy NMS, torchvision's rule) and roi_align_f32 (RoIAlign avg,
// torchvision's CPU kernel) against plain scalar references written from the papers' definitions:
// NMS as an all-pairs IoU in double-free float32 with boxes visited in order, RoIAlign on NCHW
// with one sample at a time (the kernel runs NHWC, vectorised over channels; its channels-first
// output must be the bits of its channels-last one, transposed). Covers SIMD tails (n and C not
// multiples of 4), class-aware suppression, zero-area and duplicate boxes, maxKeep, boxes leaving
// the map, aligned and not, fixed and adaptive sampling, batch index > 0, ONNX max mode.
import { nms_f32, roi_align_f32 } from '../detect';
import { fillRandom, countMismatches, floats, resetArena } from './gemm_ref';

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** Scalar greedy NMS: visits boxes in order, a box survives unless a kept one overlaps it by IoU > thr. */
function nmsRef(n: i32, x1: usize, y1: usize, x2: usize, y2: usize, cls: usize, thr: f32, maxKeep: i32, keep: usize): i32 {
  let kept = 0;
  for (let i = 0; i < n; i++) {
    let alive = true;
    for (let k = 0; k < kept && alive; k++) {
      const j = load<i32>(at(keep, k));
      if (cls != 0 && load<i32>(at(cls, i)) != load<i32>(at(cls, j))) continue;
      const ai = (load<f32>(at(x2, i)) - load<f32>(at(x1, i))) * (load<f32>(at(y2, i)) - load<f32>(at(y1, i)));
      const aj = (load<f32>(at(x2, j)) - load<f32>(at(x1, j))) * (load<f32>(at(y2, j)) - load<f32>(at(y1, j)));
      const w = max<f32>(0, min<f32>(load<f32>(at(x2, i)), load<f32>(at(x2, j))) - max<f32>(load<f32>(at(x1, i)), load<f32>(at(x1, j))));
      const h = max<f32>(0, min<f32>(load<f32>(at(y2, i)), load<f32>(at(y2, j))) - max<f32>(load<f32>(at(y1, i)), load<f32>(at(y1, j))));
      const inter = w * h;
      if (inter / (aj + ai - inter) > thr) alive = false;
    }
    if (!alive) continue;
    store<i32>(at(keep, kept++), i);
    if (kept == maxKeep) break;
  }
  return kept;
}

class NmsCase {
  n: i32 = 37;
  classes: i32 = 0;
  thr: f32 = 0.5;
  maxKeep: i32 = 0;
  degenerate: bool = false;
  /** Fail when nothing was suppressed (the case would not test suppression). */
  mustSuppress: bool = true;
  /** Kept lists differing (length or any entry): 0 when the kernel equals the reference. */
  run(): i32 {
    resetArena();
    const n = this.n;
    const x1 = floats(n), y1 = floats(n), x2 = floats(n), y2 = floats(n), area = floats(n), dead = floats(n);
    const r = floats(4 * n);
    fillRandom(r, 4 * n);
    for (let i = 0; i < n; i++) {
      // centres in a 4x4 area, sides 0.5 .. 2.5: plenty of overlap
      const cx: f32 = 2 + <f32>2 * load<f32>(at(r, i)), cy: f32 = 2 + <f32>2 * load<f32>(at(r, n + i));
      let w: f32 = 1.5 + load<f32>(at(r, 2 * n + i)), h: f32 = 1.5 + load<f32>(at(r, 3 * n + i));
      if (this.degenerate && i % 5 == 1) w = 0;
      if (this.degenerate && i % 7 == 2) { w = 0; h = 0; }
      store<f32>(at(x1, i), cx - w / 2); store<f32>(at(x2, i), cx + w / 2);
      store<f32>(at(y1, i), cy - h / 2); store<f32>(at(y2, i), cy + h / 2);
      if (this.degenerate && i % 6 == 3 && i > 3) {
        // an exact duplicate of an earlier box
        store<f32>(at(x1, i), load<f32>(at(x1, i - 3))); store<f32>(at(x2, i), load<f32>(at(x2, i - 3)));
        store<f32>(at(y1, i), load<f32>(at(y1, i - 3))); store<f32>(at(y2, i), load<f32>(at(y2, i - 3)));
      }
    }
    let cls: usize = 0;
    if (this.classes > 0) {
      cls = floats(n);
      for (let i = 0; i < n; i++) store<i32>(at(cls, i), (i * 7 + i / 3) % this.classes);
    }
    const keep = floats(n), ref = floats(n);
    const got = nms_f32(n, x1, y1, x2, y2, area, cls, this.thr, this.maxKeep, dead, keep);
    const want = nmsRef(n, x1, y1, x2, y2, cls, this.thr, this.maxKeep, ref);
    if (got != want) return 1 + n;
    let bad = 0;
    for (let i = 0; i < got; i++) if (load<i32>(at(keep, i)) != load<i32>(at(ref, i))) bad++;
    // a real test: something was suppressed unless the threshold keeps everything
    if (this.mustSuppress && this.thr < 1 && this.maxKeep <= 0 && got == n) bad++;
    return bad;
  }
}

/** Scalar RoIAlign (avg) on NCHW input, one output value at a time, torchvision's sampling rule. */
function roiAlignRef(
  N: i32, C: i32, H: i32, W: i32, input: usize, K: i32, rois: usize,
  OH: i32, OW: i32, scale: f32, sampling: i32, aligned: bool, maxMode: bool, output: usize,
): void {
  const off: f32 = aligned ? 0.5 : 0;
  for (let k = 0; k < K; k++) {
    const b = <i32>load<f32>(at(rois, k * 5));
    const sx = load<f32>(at(rois, k * 5 + 1)) * scale - off, sy = load<f32>(at(rois, k * 5 + 2)) * scale - off;
    let rw = load<f32>(at(rois, k * 5 + 3)) * scale - off - sx, rh = load<f32>(at(rois, k * 5 + 4)) * scale - off - sy;
    if (!aligned) { rw = max<f32>(rw, 1); rh = max<f32>(rh, 1); }
    const bh = rh / <f32>OH, bw = rw / <f32>OW;
    const gh = sampling > 0 ? sampling : <i32>Mathf.ceil(rh / <f32>OH);
    const gw = sampling > 0 ? sampling : <i32>Mathf.ceil(rw / <f32>OW);
    const cnt = <f32>max(gh * gw, 1);
    for (let c = 0; c < C; c++) for (let ph = 0; ph < OH; ph++) for (let pw = 0; pw < OW; pw++) {
      let acc: f32 = 0;
      let best: f32 = -Infinity;
      for (let iy = 0; iy < gh; iy++) for (let ix = 0; ix < gw; ix++) {
        let y = sy + <f32>ph * bh + (<f32>iy + 0.5) * bh / <f32>gh;
        let x = sx + <f32>pw * bw + (<f32>ix + 0.5) * bw / <f32>gw;
        if (y < -1 || y > <f32>H || x < -1 || x > <f32>W) {
          best = max<f32>(best, 0); // ONNX max: a sample off the map is a 0
          continue;
        }
        y = max<f32>(y, 0); x = max<f32>(x, 0);
        const y0 = min<i32>(<i32>y, H - 1), x0 = min<i32>(<i32>x, W - 1);
        const y1 = min<i32>(y0 + 1, H - 1), x1 = min<i32>(x0 + 1, W - 1);
        if (<i32>y >= H - 1) y = <f32>y0;
        if (<i32>x >= W - 1) x = <f32>x0;
        const ly = y - <f32>y0, lx = x - <f32>x0;
        const plane = (b * C + c) * H;
        const v00 = load<f32>(at(input, (plane + y0) * W + x0)), v01 = load<f32>(at(input, (plane + y0) * W + x1));
        const v10 = load<f32>(at(input, (plane + y1) * W + x0)), v11 = load<f32>(at(input, (plane + y1) * W + x1));
        acc += (1 - ly) * (1 - lx) * v00 + (1 - ly) * lx * v01 + ly * (1 - lx) * v10 + ly * lx * v11;
        best = max<f32>(best, max<f32>(max<f32>((1 - ly) * (1 - lx) * v00, (1 - ly) * lx * v01), max<f32>(ly * (1 - lx) * v10, ly * lx * v11)));
      }
      store<f32>(at(output, ((k * C + c) * OH + ph) * OW + pw), maxMode ? (gh * gw == 0 ? 0 : best) : acc / cnt);
    }
  }
}

class RoiCase {
  N: i32 = 2; C: i32 = 7; H: i32 = 11; W: i32 = 9;
  OH: i32 = 3; OW: i32 = 2;
  scale: f32 = 0.5;
  sampling: i32 = 2;
  aligned: bool = false;
  maxMode: bool = false;
  /** Outputs differing from the reference by more than 1e-5·(1 + |ref|). */
  run(): i32 {
    resetArena();
    const N = this.N, C = this.C, H = this.H, W = this.W, OH = this.OH, OW = this.OW;
    const nchw = floats(N * C * H * W), nhwc = floats(N * H * W * C);
    fillRandom(nchw, N * C * H * W);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++)
      store<f32>(at(nhwc, ((n * H + h) * W + w) * C + c), load<f32>(at(nchw, ((n * C + c) * H + h) * W + w)));
    // boxes in image pixels (the map is image · scale): inside, leaving every side, tiny, zero-size, huge
    const K = 8;
    const rois = floats(5 * K);
    const bw = <f32>W / this.scale, bh = <f32>H / this.scale;
    const spec: f32[] = [
      0, 0, 0, bw, bh,
      1, 1.5, 2.25, bw * 0.6, bh * 0.7,
      0, -5, -4, bw * 0.3, bh * 0.2,
      1, bw * 0.7, bh * 0.5, bw + 6, bh + 3,
      0, 3.3, 4.4, 3.3, 4.4,
      1, 2, 3, 2.6, 3.4,
      0, -bw, -bh, bw * 2, bh * 2,
      1, bw + 2, bh + 2, bw + 9, bh + 9,
    ];
    for (let i = 0; i < 5 * K; i++) store<f32>(at(rois, i), spec[i]);
    const got = floats(K * OH * OW * C), ref = floats(K * C * OH * OW), back = floats(K * C * OH * OW);
    roi_align_f32(N, H, W, C, nhwc, K, rois, OH, OW, this.scale, this.sampling, this.aligned ? 1 : 0, this.maxMode ? 1 : 0, got, 0, 0);
    roiAlignRef(N, C, H, W, nchw, K, rois, OH, OW, this.scale, this.sampling, this.aligned, this.maxMode, ref);
    for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) for (let p = 0; p < OH * OW; p++)
      store<f32>(at(back, (k * C + c) * OH * OW + p), load<f32>(at(got, (k * OH * OW + p) * C + c)));
    let nonzero = 0;
    for (let i = 0; i < K * C * OH * OW; i++) if (load<f32>(at(ref, i)) != 0) nonzero++;
    // channels-first: every value written, the same bits as channels-last transposed
    const cf = floats(K * C * OH * OW), acc = floats(OH * OW * C);
    for (let i = 0; i < K * C * OH * OW; i++) store<f32>(at(cf, i), NaN);
    roi_align_f32(N, H, W, C, nhwc, K, rois, OH, OW, this.scale, this.sampling, this.aligned ? 1 : 0, this.maxMode ? 1 : 0, cf, 1, acc);
    let differ = 0;
    for (let i = 0; i < K * C * OH * OW; i++) if (load<u32>(at(cf, i)) != load<u32>(at(back, i))) differ++;
    return countMismatches(back, ref, K * C * OH * OW) + (nonzero == 0 ? 1 : 0) + differ;
  }
}

describe('nms_f32', () => {
  it('n = 37 (SIMD tail of 1..3 at every step), threshold 0.5', () => {
    const c = new NmsCase();
    expect<i32>(c.run()).toBe(0);
  });
  it('n = 1..9 and 64, thresholds 0.3 / 0.7', () => {
    for (let n = 1; n <= 9; n++) { const c = new NmsCase(); c.n = n; c.thr = 0.3; c.mustSuppress = false; expect<i32>(c.run()).toBe(0); }
    const c = new NmsCase(); c.n = 64; c.thr = 0.7;
    expect<i32>(c.run()).toBe(0);
  });
  it('class-aware: 3 classes never suppress each other', () => {
    const c = new NmsCase(); c.n = 53; c.classes = 3;
    expect<i32>(c.run()).toBe(0);
  });
  it('zero-area boxes and exact duplicates, threshold 0 (any overlap suppresses)', () => {
    const c = new NmsCase(); c.n = 41; c.degenerate = true; c.thr = 0;
    expect<i32>(c.run()).toBe(0);
  });
  it('threshold 1 keeps everything (IoU must be strictly greater)', () => {
    const c = new NmsCase(); c.n = 30; c.degenerate = true; c.thr = 1;
    expect<i32>(c.run()).toBe(0);
  });
  it('maxKeep stops early', () => {
    const c = new NmsCase(); c.n = 50; c.maxKeep = 3; c.thr = 0.9;
    expect<i32>(c.run()).toBe(0);
  });
});

describe('roi_align_f32', () => {
  it('aligned=False, sampling 2, C = 7 (SIMD tail), 3x2 bins', () => {
    const c = new RoiCase();
    expect<i32>(c.run()).toBe(0);
  });
  it('aligned=True, adaptive sampling, C = 8, scale 0.25, 4x5 bins', () => {
    const c = new RoiCase(); c.aligned = true; c.sampling = 0; c.C = 8; c.scale = 0.25; c.OH = 4; c.OW = 5;
    expect<i32>(c.run()).toBe(0);
  });
  it('aligned=False, adaptive sampling, C = 3, odd map 13x6', () => {
    const c = new RoiCase(); c.sampling = -1; c.C = 3; c.H = 13; c.W = 6; c.OH = 2; c.OW = 3;
    expect<i32>(c.run()).toBe(0);
  });
  it('max mode: aligned=False sampling 2 C = 7, aligned=True adaptive C = 8', () => {
    const a = new RoiCase(); a.maxMode = true;
    expect<i32>(a.run()).toBe(0);
    const b = new RoiCase(); b.maxMode = true; b.aligned = true; b.sampling = 0; b.C = 8; b.scale = 0.25; b.OH = 4; b.OW = 5;
    expect<i32>(b.run()).toBe(0);
  });
  it('aligned=True, sampling 1, C = 1, map 1x1', () => {
    const c = new RoiCase(); c.aligned = true; c.sampling = 1; c.C = 1; c.H = 1; c.W = 1; c.OH = 2; c.OW = 2; c.scale = 1;
    expect<i32>(c.run()).toBe(0);
  });
});
