import { heap_base } from '../memory';

describe('memory', () => {
  it('reports a heap base above static data', () => {
    expect<usize>(heap_base()).toBeGreaterThan(0);
  });
  it('runs baseline SIMD', () => {
    const v = f32x4.add(f32x4.splat(1.5), f32x4(1, 2, 3, 4));
    expect<f32>(f32x4.extract_lane(v, 3)).toBe(5.5);
  });
});
