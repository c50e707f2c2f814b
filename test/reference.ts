// Plain NCHW reference implementations in double precision for host tests: direct loops from
// the operator definitions, independent of the kernels and of the graph passes.
export interface T { data: Float64Array; shape: number[] }

export function tensor(shape: number[], f: (i: number) => number): T {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float64Array.from({ length: n }, (_, i) => f(i)), shape };
}

/** Deterministic values in [-1, 1) from an integer seed (xorshift). */
export function rand(shape: number[], seed: number): T {
  let s = seed >>> 0 || 1;
  return tensor(shape, () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s / 4294967296) * 2 - 1;
  });
}

export function conv2d(x: T, w: T, b: T | undefined, o: { stride?: number; pad?: number[]; dil?: number; groups?: number }): T {
  const [N, C, H, W] = x.shape;
  const [OC, CG, KH, KW] = w.shape;
  const s = o.stride ?? 1, d = o.dil ?? 1, g = o.groups ?? 1;
  const [pt, pl, pb, pr] = o.pad ?? [0, 0, 0, 0];
  const OH = Math.floor((H + pt + pb - d * (KH - 1) - 1) / s) + 1;
  const OW = Math.floor((W + pl + pr - d * (KW - 1) - 1) / s) + 1;
  const y = tensor([N, OC, OH, OW], () => 0);
  const ocg = OC / g;
  for (let n = 0; n < N; n++)
    for (let oc = 0; oc < OC; oc++) {
      const gi = Math.floor(oc / ocg);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b.data[oc] : 0;
          for (let c = 0; c < CG; c++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * s - pt + kh * d, iw = ow * s - pl + kw * d;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x.data[((n * C + gi * CG + c) * H + ih) * W + iw] * w.data[((oc * CG + c) * KH + kh) * KW + kw];
              }
          y.data[((n * OC + oc) * OH + oh) * OW + ow] = acc;
        }
    }
  return y;
}

export function batchnorm(x: T, gamma: T, beta: T, mean: T, vr: T, eps = 1e-5): T {
  const [, C] = x.shape;
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  return tensor(x.shape, (i) => {
    const c = Math.floor(i / inner) % C;
    return ((x.data[i] - mean.data[c]) / Math.sqrt(vr.data[c] + eps)) * gamma.data[c] + beta.data[c];
  });
}

export const map = (x: T, f: (v: number) => number): T => ({ data: x.data.map(f), shape: x.shape });
export const add = (a: T, b: T): T => ({ data: a.data.map((v, i) => v + b.data[i]), shape: a.shape });

export function pool(x: T, kind: 'max' | 'avg', k: number, s: number, pad = 0): T {
  const [N, C, H, W] = x.shape;
  const OH = Math.floor((H + 2 * pad - k) / s) + 1, OW = Math.floor((W + 2 * pad - k) / s) + 1;
  const y = tensor([N, C, OH, OW], () => 0);
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let acc = kind === 'max' ? -Infinity : 0;
        let cnt = 0;
        for (let kh = 0; kh < k; kh++)
          for (let kw = 0; kw < k; kw++) {
            const ih = oh * s - pad + kh, iw = ow * s - pad + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const v = x.data[(nc * H + ih) * W + iw];
            acc = kind === 'max' ? Math.max(acc, v) : acc + v;
            cnt++;
          }
        y.data[(nc * OH + oh) * OW + ow] = kind === 'max' ? acc : acc / cnt;
      }
  return y;
}

export function globalAvg(x: T): T {
  const [N, C, H, W] = x.shape;
  return tensor([N, C], (i) => {
    let s = 0;
    for (let j = 0; j < H * W; j++) s += x.data[i * H * W + j];
    return s / (H * W);
  });
}

export function linear(x: T, w: T, b: T): T {
  const [M, K] = x.shape;
  const [N] = w.shape;
  return tensor([M, N], (i) => {
    const m = Math.floor(i / N), n = i % N;
    let acc = b.data[n];
    for (let k = 0; k < K; k++) acc += x.data[m * K + k] * w.data[n * K + k];
    return acc;
  });
}

export function softmax(x: T): T {
  const [M, N] = x.shape;
  const y = tensor(x.shape, () => 0);
  for (let m = 0; m < M; m++) {
    const row = x.data.subarray(m * N, m * N + N);
    const mx = Math.max(...row);
    const e = Array.from(row, (v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, n) => (y.data[m * N + n] = v / s));
  }
  return y;
}

export const f32 = (t: T) => ({ data: Float32Array.from(t.data), shape: t.shape });

export function maxRelErr(y: Float32Array, ref: Float64Array): number {
  const scale = Math.max(1, ...Array.from(ref, Math.abs));
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref[i]) / scale);
  return worst;
}
