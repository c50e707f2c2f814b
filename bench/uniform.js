// Counter-based uniform [-1, 1) stream per key (FNV-1a seed, lowbias32 mix), as src/weights/synthetic.ts.
export function uniform(key, n) {
  let seed = 0x811c9dc5;
  for (const b of new TextEncoder().encode(key)) seed = Math.imul(seed ^ b, 0x01000193) >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = (seed + Math.imul(i, 0x9e3779b9)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    x ^= x >>> 16;
    out[i] = (x >>> 8) / 8388608 - 1;
  }
  return out;
}
