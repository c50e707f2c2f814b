// The same built package in Deno and Bun (both installed from npm as devDependencies): each
// runtime runs test/runtimes/check.mjs and must give Node's numbers (baseline kernels bit for
// bit, the default kernels within 1e-5).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const check = fileURLToPath(new URL('./check.mjs', import.meta.url));
const bin = (name) => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));
const run = (cmd, args) => JSON.parse(execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop());

const ref = run(process.execPath, [check]);
const runtimes = [
  ['deno', [bin('deno'), ['run', '--allow-read', '--allow-env', '--no-prompt', check]]],
  ['bun', [bin('bun'), [check]]],
];
let passed = 0;
let failed = 0;
const ok = (cond, what) => {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  cond ? passed++ : failed++;
};
for (const [name, [cmd, args]] of runtimes) {
  if (!existsSync(cmd)) {
    ok(false, `${name}: ${cmd} missing (npm ci installs it)`);
    continue;
  }
  let got;
  try {
    got = run(cmd, args);
  } catch (e) {
    ok(false, `${name}: check.mjs failed: ${e.message}`);
    continue;
  }
  ok(got.baseline.every((v, i) => v === ref.baseline[i]), `${name}: LeNet-5 logits with baseline SIMD equal Node's bit for bit`);
  const scale = Math.max(1, ...ref.baseline.map(Math.abs));
  ok(got.auto.every((v, i) => Math.abs(v - ref.baseline[i]) <= 1e-5 * scale), `${name}: LeNet-5 logits with the default kernels within 1e-5`);
  ok(got.conv.length === ref.conv.length && got.conv.every((v, i) => Math.abs(v - ref.conv[i]) <= 1e-6 * Math.max(1, Math.abs(v))), `${name}: ONNX Conv2d model equals Node`);
}
console.log(`runtimes: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
