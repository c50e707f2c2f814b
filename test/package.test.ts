// The built package as users install it: ESM and CJS entries (`.` and `./models`) with types,
// the wasm found next to the bundle without configuration, and init() overrides.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

function node(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' });
}

describe('package', () => {
  it('maps . and ./models to existing ESM, CJS and type files', () => {
    for (const entry of ['.', './models'])
      for (const cond of ['types', 'import', 'require']) {
        const file = pkg.exports[entry][cond];
        expect(existsSync(new URL(file, root)), `${entry} ${cond}: ${file}`).toBe(true);
      }
    expect(existsSync(new URL('dist/wasmcnn.wasm', root))).toBe(true);
  });

  it('ESM import finds the wasm next to the bundle', () => {
    const out = node(
      `import { createModel } from 'wasmcnn'; import { listModels } from 'wasmcnn/models';
       const m = await createModel('lenet5');
       const y = await m.predict({ data: new Float32Array(1024).fill(0.25), shape: [1, 1, 32, 32] });
       console.log(JSON.stringify({ n: y.data.length, models: listModels().includes('lenet5') }));`,
      'module',
    );
    expect(JSON.parse(out)).toEqual({ n: 10, models: true });
  });

  it('CJS require finds the wasm and gives the same logits as ESM', () => {
    const code = (imp: string) => `${imp}
      (async () => { const m = await w.createModel('lenet5');
      const y = await m.predict({ data: new Float32Array(1024).fill(0.25), shape: [1, 1, 32, 32] });
      console.log(JSON.stringify(Array.from(y.data))); })();`;
    const cjs = JSON.parse(node(code(`const w = require('wasmcnn');`), 'commonjs'));
    const esm = JSON.parse(node(code(`import * as w from 'wasmcnn';`), 'module'));
    expect(cjs).toEqual(esm);
  });

  it('init() takes bytes, a path, a URL or a compiled module', () => {
    const out = node(
      `import { init, createModel } from 'wasmcnn'; import { readFileSync } from 'node:fs';
       const path = new URL('./dist/wasmcnn.wasm', 'file://' + process.cwd() + '/');
       const bytes = readFileSync(path);
       const sources = [bytes, path, path.pathname, await WebAssembly.compile(bytes)];
       const res = [];
       for (const s of sources) { await init({ wasm: s }); const m = await createModel('lenet5');
         res.push((await m.predict({ data: new Float32Array(1024), shape: [1, 1, 32, 32] })).data[0]); }
       let bad = ''; try { await init({ wasm: new Uint8Array([0, 1, 2]) }); } catch (e) { bad = e.name; }
       console.log(JSON.stringify({ same: res.every((v) => v === res[0]), bad }));`,
      'module',
    );
    expect(JSON.parse(out)).toEqual({ same: true, bad: 'WasmCnnError' });
  });
});
