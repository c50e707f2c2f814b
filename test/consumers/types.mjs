// Types as a user's TypeScript sees them: the packed tarball unpacked into fresh projects that
// type-check a file using the public API with skipLibCheck: false, under moduleResolution
// bundler (ESM, browser lib), node16 and nodenext (ESM, Node types) and a CommonJS project
// (node16, require). The file asserts that the names resolve to real types, not `any`
// (each @ts-expect-error must be needed), so a declaration that silently became `any` fails.
// (npm pack is given the folder and run in the temp one: inside npm scripts `npm` may be the npm 6
// that a dev dependency installs into node_modules/.bin, which has no --pack-destination.)
// Then @arethetypeswrong/cli checks the tarball (the Node 16+ and bundler resolutions; the
// .wasm and worker.js exports are assets, not modules, and are left out of its check).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const bin = (name) => join(ROOT, 'node_modules/.bin', name);
let passed = 0;
let failed = 0;
const check = (ok, what, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok || !detail ? '' : `\n${detail}`}`);
  ok ? passed++ : failed++;
};
const run = (cmd, args, cwd) => {
  try {
    return { ok: true, out: execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message };
  }
};

const work = mkdtempSync(join(tmpdir(), 'wasmcnn-types-'));
const packed = run('npm', ['pack', '--silent', ROOT], work);
const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz')) ?? 'missing.tgz');
check(packed.ok, 'npm pack', packed.out);

// what a user writes; every @ts-expect-error fails the check if the name it follows is `any`
const USE = (from) => `import { createModel, init, loadOnnx, resnet18, ShapeError, WasmCnnError, type InitOptions, type Model } from '${from}';
import { listModels } from '${from === 'wasmcnn' ? 'wasmcnn/models' : from}';
import { GraphBuilder, invertedResidual, type InvertedResidualOptions } from '${from === 'wasmcnn' ? 'wasmcnn/blocks' : from}';

export async function main(bytes: Uint8Array): Promise<number> {
  const options: InitOptions = { simd: 'baseline', threads: 2 };
  await init(options);
  const m: Model = await createModel('lenet5');
  const onnx = await loadOnnx(bytes);
  const y = await m.predict({ data: new Float32Array(1024), shape: [1, 1, 32, 32] });
  const err: WasmCnnError = new ShapeError('wrong shape');
  const names: string[] = listModels();
  // @ts-expect-error init takes InitOptions, not a number
  await init(3);
  // @ts-expect-error ShapeError is a class, not a string
  const s: string = ShapeError;
  // @ts-expect-error resnet18 returns a GraphBuilder, not a number
  const n: number = resnet18();
  // @ts-expect-error a Model has no method 'fly'
  m.fly();
  const blockOptions: InvertedResidualOptions = { out: 8, expanded: 16, attention: 'eca' };
  // @ts-expect-error a block returns the output value's name, not a number
  const v: number = invertedResidual(new GraphBuilder(), 'x', 'blocks.0', blockOptions);
  return y.data.length + onnx.inputNames.length + err.message.length + names.length + s.length + n + v;
}
`;

const projects = [
  ['moduleResolution bundler (ESM, DOM lib)', 'module', { module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [] }, 'wasmcnn'],
  ['moduleResolution bundler, wasmcnn/inline', 'module', { module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [] }, 'wasmcnn/inline'],
  ['moduleResolution node16 (ESM, Node types)', 'module', { module: 'node16', moduleResolution: 'node16', lib: ['es2022'], types: ['node'] }, 'wasmcnn'],
  ['moduleResolution nodenext (ESM, Node types)', 'module', { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'] }, 'wasmcnn'],
  ['CommonJS project (node16, require)', 'commonjs', { module: 'node16', moduleResolution: 'node16', lib: ['es2022'], types: ['node'] }, 'wasmcnn'],
];
for (const [what, type, compilerOptions, from] of projects) {
  const dir = join(work, what.replace(/\W+/g, '-'));
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  run('tar', ['-xzf', tarball, '-C', join(dir, 'node_modules')]);
  renameSync(join(dir, 'node_modules/package'), join(dir, 'node_modules/wasmcnn'));
  symlinkSync(join(ROOT, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
  symlinkSync(join(ROOT, 'node_modules/undici-types'), join(dir, 'node_modules/undici-types'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, ...compilerOptions },
    files: ['main.ts'],
  }, null, 2));
  writeFileSync(join(dir, 'main.ts'), USE(from));
  const r = run(bin('tsc'), ['-p', '.'], dir);
  check(r.ok, `tsc, ${what}, skipLibCheck false: no error, names typed (not any)`, r.out);
}

const attw = run(bin('attw'), [tarball, '--profile', 'node16', '--format', 'table-flipped',
  '--exclude-entrypoints', './wasmcnn.wasm', './wasmcnn-relaxed.wasm', './wasmcnn-mt.wasm', './wasmcnn-relaxed-mt.wasm', './worker.js'], ROOT);
check(attw.ok, '@arethetypeswrong/cli on the tarball (node16 CJS and ESM, bundler): no problem', attw.out);

rmSync(work, { recursive: true, force: true });
console.log(`types: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
