// A small seeded pseudo-random generator for drawing augmentation parameters: Mulberry32
// (Tommy Ettinger, 2017; public domain), one 32-bit word of state advanced by a Weyl step
// (+0x6d2b79f5) and scrambled by two xor-shift-multiply rounds. Period 2^32, passes
// PractRand to a few GB: ample for parameter draws (a handful of numbers per image).
// Plain integer arithmetic (Math.imul, >>> 0), so every JS engine gives the same sequence.

/** A seeded generator: the same seed gives the same sequence of numbers on every runtime. */
export class Rng {
  private state: number;

  /** `seed`: any number; its low 32 bits (as an unsigned integer) are the initial state. */
  constructor(seed: number) {
    this.state = Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform number in [lo, hi) (lo when lo = hi), as torch's `uniform_(lo, hi)`. */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [lo, hi) (hi > lo), as torch's `randint(lo, hi)`. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates), as torch's `randperm(n)`. */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }
}
