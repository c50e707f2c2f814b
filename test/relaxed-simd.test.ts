// The relaxed-SIMD kernel build (dist/wasmcnn-relaxed.wasm) on this engine, in a child process:
// Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd (which CI's Node 20
// lacks in the test process), and each V8 tier is checked on its own (--no-wasm-tier-up: only
// the baseline compiler, Liftoff; --no-liftoff: only the optimizing one), since the two compile
// the relaxed instructions separately and V8 11.3's Liftoff gets one of them wrong.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { relaxedSimdSupported } from '../src/runtime/wasm';

const script = fileURLToPath(new URL('./relaxed/qgemm-check.mjs', import.meta.url));
const base = relaxedSimdSupported() ? [] : ['--experimental-wasm-relaxed-simd'];

describe('relaxed build: int8 GEMM', () => {
  for (const tier of [[], ['--no-wasm-tier-up'], ['--no-liftoff']]) {
    it(`matches the exact sums and the baseline build (${tier.join(' ') || 'default tiering'})`, () => {
      const r = spawnSync(process.execPath, [...base, ...tier, script], { encoding: 'utf8' });
      const out = `${r.stdout}${r.stderr}`;
      if (/skip:/.test(out)) console.log(out.split('\n').filter((l) => l.startsWith('skip:')).join('\n'));
      expect(out).toMatch(/^\d+ passed, 0 failed$/m);
      expect(r.status).toBe(0);
    });
  }
});
