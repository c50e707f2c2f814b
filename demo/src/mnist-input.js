// A hand-drawn digit to LeNet-5's input, the way MNIST's digits were made (LeCun, Cortes &
// Burges, "The MNIST database": each digit size-normalised to fit a 20x20 box keeping its aspect
// ratio, anti-aliased, then centred by its centre of mass in a 28x28 field), then zero-padded by
// 2 to 32x32 with values in [0, 1] and no mean/std, as tools/train_lenet5.py trained it.
// The map from pad pixels to input pixels is an affine scale + shift; it is returned so the page
// can draw input-space boxes (receptive fields) back onto the drawing pad.

/**
 * @param {Float32Array} ink  pad intensities in [0, 1], row-major, `w` by `h`
 * @returns {{ data: Float32Array, scale: number, dx: number, dy: number } | undefined}
 *   32x32 input (row-major) and the map input = pad * scale + (dx, dy) in pixel-centre
 *   coordinates; undefined when nothing is drawn
 */
export function digitToInput(ink, w, h) {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (ink[y * w + x] > 0.02) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  if (x1 < 0) return undefined;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  // box filter: each small pixel averages the pad pixels whose centres fall in its footprint
  const sw = Math.max(1, Math.round(bw * scale)), sh = Math.max(1, Math.round(bh * scale));
  const small = new Float32Array(sw * sh);
  const count = new Float32Array(sw * sh);
  for (let y = y0; y <= y1; y++) {
    const sy = Math.min(sh - 1, Math.floor((y - y0 + 0.5) * scale));
    for (let x = x0; x <= x1; x++) {
      const sx = Math.min(sw - 1, Math.floor((x - x0 + 0.5) * scale));
      small[sy * sw + sx] += ink[y * w + x];
      count[sy * sw + sx] += 1;
    }
  }
  let mass = 0, mx = 0, my = 0;
  for (let i = 0; i < small.length; i++) {
    if (count[i] > 0) small[i] /= count[i];
    // a drawing smaller than 20 px is enlarged: sample the pad pixel under this one's centre
    else small[i] = ink[Math.min(y1, Math.floor(y0 + (Math.floor(i / sw) + 0.5) / scale)) * w + Math.min(x1, Math.floor(x0 + ((i % sw) + 0.5) / scale))];
    mass += small[i];
    mx += small[i] * (i % sw);
    my += small[i] * Math.floor(i / sw);
  }
  mx /= mass;
  my /= mass;
  // integer shift putting the centre of mass at the 28x28 field's centre (13.5, 13.5), clamped
  // so the 20x20 box stays inside; then +2 for the zero padding to 32x32
  const ox = Math.min(28 - sw, Math.max(0, Math.round(13.5 - mx))) + 2;
  const oy = Math.min(28 - sh, Math.max(0, Math.round(13.5 - my))) + 2;
  const data = new Float32Array(32 * 32);
  for (let y = 0; y < sh; y++)
    for (let x = 0; x < sw; x++) data[(y + oy) * 32 + x + ox] = Math.min(1, small[y * sw + x]);
  // pad pixel centre p (from x0) lands in small pixel (p - x0 + 0.5) * scale, whose centre is
  // that minus 0.5: input = (p - x0 + 0.5) * scale - 0.5 + ox
  return { data, scale, dx: (0.5 - x0) * scale - 0.5 + ox, dy: (0.5 - y0) * scale - 0.5 + oy };
}
