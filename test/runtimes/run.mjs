// The same built package in Deno and Bun (both installed from npm as devDependencies): each
// runtime runs test/runtimes/check.mjs and must give Node's numbers (baseline kernels bit for
// bit, the default kernels within 1e-5). Every runtime, Node included, must also run models on
// 2 threads with exactly the 1-thread results, and exit by itself once they are disposed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const check = fileURLToPath(new URL('./check.mjs', import.meta.url));
const bin = (name) => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));
/** Whole run, and grace period after the JSON line: a stuck worker must fail the check, not hang it. */
const RUN_MS = 120_000;
const EXIT_MS = 10_000;

// Resolves to { result (the parsed JSON line, if printed), exited (on its own), status }.
function run(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let result;
    let killed = false;
    const kill = () => {
      killed = true;
      p.kill('SIGKILL');
    };
    let timer = setTimeout(kill, RUN_MS);
    p.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (result || !out.endsWith('\n')) return;
      try {
        result = JSON.parse(out.trim().split('\n').pop());
      } catch {
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(kill, EXIT_MS);
    });
    p.on('error', (e) => resolve({ status: e.message, exited: false }));
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ result, exited: !killed, status: killed ? `killed after ${result ? EXIT_MS : RUN_MS} ms` : signal ?? `exit code ${code}` });
    });
  });
}

let passed = 0;
let failed = 0;
const ok = (cond, what) => {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  cond ? passed++ : failed++;
};
const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

const runtimes = [
  ['node', [process.execPath, [check]]],
  ['deno', [bin('deno'), ['run', '--allow-read', '--allow-env', '--no-prompt', check]]],
  ['bun', [bin('bun'), [check]]],
];
let ref;
for (const [name, [cmd, args]] of runtimes) {
  if (!existsSync(cmd)) {
    ok(false, `${name}: ${cmd} missing (npm ci installs it)`);
    continue;
  }
  const { result: got, exited, status } = await run(cmd, args);
  if (!got) {
    ok(false, `${name}: check.mjs printed no result (${status})`);
    if (name === 'node') break;
    continue;
  }
  ok(exited && status === 'exit code 0', `${name}: check.mjs exited by itself after disposing the threaded models (${status})`);
  if (name === 'node') ref = got;
  else {
    ok(got.baseline.every((v, i) => v === ref.baseline[i]), `${name}: LeNet-5 logits with baseline SIMD equal Node's bit for bit`);
    const scale = Math.max(1, ...ref.baseline.map(Math.abs));
    ok(got.auto.every((v, i) => Math.abs(v - ref.baseline[i]) <= 1e-5 * scale), `${name}: LeNet-5 logits with the default kernels within 1e-5`);
    ok(got.conv.length === ref.conv.length && got.conv.every((v, i) => Math.abs(v - ref.conv[i]) <= 1e-6 * Math.max(1, Math.abs(v))), `${name}: ONNX Conv2d model equals Node`);
  }
  for (const [simd, t] of Object.entries(got.threads)) {
    if (t.error) {
      ok(false, `${name}: threads with the ${simd} kernels: ${t.error}`);
      continue;
    }
    const models = Object.keys(t.one);
    const counts = models.map((m) => `${m} ${t.one[m].threads} -> ${t.two[m].threads}`).join(', ');
    ok(models.every((m) => t.one[m].threads === 1 && t.two[m].threads === 2), `${name}: init({ threads: 2 }) gives models.threads === 2 (${simd} kernels: ${counts})`);
    ok(models.every((m) => same(t.one[m].data, t.two[m].data)), `${name}: ${models.join(', ')} outputs on 2 threads equal 1 thread bit for bit (${simd} kernels)`);
    if (simd === 'baseline' && name !== 'node')
      ok(models.every((m) => same(t.two[m].data, ref.threads.baseline.two?.[m]?.data ?? [])), `${name}: ${models.join(', ')} on 2 threads with baseline SIMD equal Node's bit for bit`);
  }
}
console.log(`runtimes: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
