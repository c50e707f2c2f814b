// Compiles the four kernel builds of asconfig.json (baseline, relaxed, and their shared-memory
// twins) with asc, as many at a time as there are cores: they are independent, and Binaryen's
// -O3 takes minutes over the int8 GEMM's tile instances (all four targets: ~8 minutes on 2 cores,
// the relaxed ones ~5 minutes each; see qgemm.ts's drivers for what made it 20).
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const TARGETS = ['release', 'relaxed', 'release-mt', 'relaxed-mt'];

function asc(target) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['node_modules/assemblyscript/bin/asc.js', 'assembly/index.ts', '--target', target], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      // asc reports a non-converged -O3 pipeline on stderr; it is not an error
      const msg = err.split('\n').filter((l) => l.trim() && !/converge was suboptimal/.test(l)).join('\n');
      if (code === 0) {
        if (msg) process.stderr.write(msg + '\n');
        resolve();
      } else reject(new Error(`asc --target ${target} failed (exit ${code})\n${msg}`));
    });
  });
}

const queue = TARGETS.slice();
const workers = Array.from({ length: Math.max(1, Math.min(availableParallelism(), queue.length)) }, async () => {
  while (queue.length) await asc(queue.shift());
});
await Promise.all(workers);
