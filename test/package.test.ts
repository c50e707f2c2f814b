// The built package as users install it: every export condition maps to an existing file, ESM
// and CJS give the same logits, the wasm is found next to the modules without configuration,
// init() overrides; a missing .wasm, an HTML page served as the .wasm and a wrong file are
// WasmCnnErrors that name the location and the fix; error names survive minification; the
// browser entries never name node: modules and no shipped file builds code from strings;
// LeNet-5's weights are not reached by a static import from any entry.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const ROOT = fileURLToPath(root);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

function node(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' });
}

/** Every file an export condition names. */
function leaves(v: unknown, path: string, out: [string, string][] = []): [string, string][] {
  if (typeof v === 'string') out.push([path, v]);
  else for (const [k, w] of Object.entries(v as object)) leaves(w, `${path} ${k}`, out);
  return out;
}

/** The files an ESM module reaches through static imports (relative ones). */
function staticGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s*'(\.[^']+)'|^import\s*'(\.[^']+)'/gm))
    staticGraph(normalize(join(dirname(file), m[1] ?? m[2])), seen);
  return seen;
}

describe('package', () => {
  it('maps every export condition to an existing file, and ./package.json is exported', () => {
    const files = leaves(pkg.exports, 'exports');
    expect(files.length).toBeGreaterThan(20);
    for (const [where, file] of files) expect(existsSync(new URL(file, root)), `${where}: ${file}`).toBe(true);
    expect(pkg.exports['./package.json']).toBe('./package.json');
    // the blocks subpath is the models subpath's files (one module graph, the same classes)
    expect(pkg.exports['./blocks']).toEqual(pkg.exports['./models']);
    expect(pkg.sideEffects).toBeInstanceOf(Array);
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it('ESM import finds the wasm next to the modules; wasmcnn/models and wasmcnn/blocks resolve', () => {
    const out = node(
      `import { createModel, GraphBuilder } from 'wasmcnn'; import { listModels } from 'wasmcnn/models';
       import { invertedResidual, attentionModule } from 'wasmcnn/blocks';
       const m = await createModel('lenet5');
       const y = await m.predict({ data: new Float32Array(1024).fill(0.25), shape: [1, 1, 32, 32] });
       const b = new GraphBuilder();
       const z = invertedResidual(b, b.input('input', [1, 8, 9, 9]), 'blk', { out: 8, expanded: 16, attention: 'eca' });
       console.log(JSON.stringify({ n: y.data.length, models: listModels().includes('lenet5'), blocks: typeof attentionModule, shape: b.shape(z) }));`,
      'module',
    );
    expect(JSON.parse(out)).toEqual({ n: 10, models: true, blocks: 'function', shape: [1, 8, 9, 9] });
  });

  it('CJS require finds the wasm and gives the same logits as ESM', () => {
    const code = (imp: string) => `${imp}
      (async () => { const m = await w.createModel('lenet5');
      const y = await m.predict({ data: new Float32Array(1024).fill(0.25), shape: [1, 1, 32, 32] });
      console.log(JSON.stringify(Array.from(y.data))); })();`;
    const cjs = JSON.parse(node(code(`const w = require('wasmcnn');`), 'commonjs'));
    expect(node(`console.log(typeof require('wasmcnn/blocks').invertedResidual)`, 'commonjs').trim()).toBe('function');
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

  it('a missing .wasm, an HTML page in its place and a wrong file are WasmCnnErrors naming the location and the fix', async () => {
    const out = node(
      `import { init, WasmCnnError } from 'wasmcnn'; import { createServer } from 'node:http';
       const server = createServer((req, res) => req.url === '/404' ? res.writeHead(404).end('no') : res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><body>Not here</body></html>'));
       await new Promise((r) => server.listen(0, '127.0.0.1', r));
       const base = 'http://127.0.0.1:' + server.address().port;
       const res = {};
       for (const [k, wasm] of Object.entries({ path: '/nonexistent/dir/wasmcnn.wasm', http404: base + '/404', html: base + '/page', text: new TextEncoder().encode('<!DOCTYPE html><title>404</title>'), png: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0]) }))
         try { await init({ wasm }); res[k] = 'no error'; } catch (e) { res[k] = { name: e.name, typed: e instanceof WasmCnnError, message: e.message }; }
       server.close();
       console.log(JSON.stringify(res));`,
      'module',
    );
    const r = JSON.parse(out);
    for (const k of ['path', 'http404', 'html', 'text', 'png']) expect(r[k], k).toMatchObject({ name: 'WasmCnnError', typed: true });
    expect(r.path.message).toMatch(/\/nonexistent\/dir\/wasmcnn\.wasm.*ENOENT.*init\(\{ wasm \}\)/);
    expect(r.http404.message).toMatch(/\/404: HTTP 404/);
    expect(r.html.message).toMatch(/\/page are not WebAssembly: it is text \("<!doctype html><html><body>Not here/);
    expect(r.html.message).toMatch(/HTML error page/);
    expect(r.text.message).not.toMatch(/SIMD/);
    expect(r.png.message).toMatch(/magic bytes 00 61 73 6d \(got 89 50 4e 47\)/);
  });

  it('the default .wasm missing from a copied package is a WasmCnnError naming where it was looked for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmcnn-nowasm-'));
    try {
      execFileSync('cp', ['-r', join(ROOT, 'dist/src'), join(ROOT, 'dist/models'), join(ROOT, 'dist/assembly'), dir]);
      rmSync(join(dir, 'src/runtime/wasmcnn.wasm'));
      rmSync(join(dir, 'src/runtime/wasmcnn-relaxed.wasm'));
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
      const out = node(
        `import { createModel } from ${JSON.stringify(join(dir, 'src/node.js'))};
         try { await createModel('lenet5'); console.log('no error'); } catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })); }`,
        'module',
      );
      const e = JSON.parse(out);
      expect(e.name).toBe('WasmCnnError');
      expect(e.message).toContain(`${dir}/src/runtime/wasmcnn.wasm`);
      expect(e.message).toMatch(/ENOENT/);
      expect(e.message).toMatch(/wasmcnn\/inline/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('error names survive minification', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmcnn-min-'));
    try {
      const entry = join(dir, 'e.mjs');
      writeFileSync(entry, `import * as w from ${JSON.stringify(join(ROOT, 'dist/src/index.js'))};
        const names = ['WasmCnnError', 'FormatError', 'ShapeError', 'GraphError', 'WeightsError', 'ValueError'].map((n) => new w[n]('x').name);
        names.push(new w.UnsupportedOpError('Foo', 'n1').name);
        console.log(JSON.stringify({ names, mangled: w.ShapeError.name }));`);
      execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--minify', '--format=esm', '--platform=neutral', `--outfile=${join(dir, 'min.mjs')}`, '--log-level=error']);
      const r = JSON.parse(execFileSync(process.execPath, [join(dir, 'min.mjs')], { encoding: 'utf8' }));
      expect(r.mangled).not.toBe('ShapeError'); // the bundle did rename the classes
      expect(r.names).toEqual(['WasmCnnError', 'FormatError', 'ShapeError', 'GraphError', 'WeightsError', 'ValueError', 'UnsupportedOpError']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('browser entries never name node: modules; no shipped file builds code from strings', () => {
    // code, not comments
    const code = (f: string) => readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    for (const entry of ['index', 'inline']) {
      const files = staticGraph(join(ROOT, `dist/src/${entry}.js`));
      expect(files.size).toBeGreaterThan(20);
      // a string naming a node: module ('node:fs', "node:worker_threads")
      for (const f of files) expect(code(f), `${f} (reached from ${entry})`).not.toMatch(/['"`]node:/);
    }
    const shipped = readdirSync(join(ROOT, 'dist'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.c?js$/.test(e.name))
      .map((e) => join(e.parentPath, e.name));
    expect(shipped.length).toBeGreaterThan(50);
    // a call of the global eval, not Model's eval() method (a definition `eval() {` or a member call `.eval(`)
    for (const f of shipped) expect(code(f), f).not.toMatch(/(?<![.\w$])eval\s*\((?!\s*\)\s*\{)|new\s+Function\s*\(|\bFunction\s*\(\s*['"`]|eval:\s*true/);
  });

  it("LeNet-5's weights are a dynamic import, reached statically from no entry", () => {
    for (const entry of ['index', 'node', 'inline']) {
      const files = [...staticGraph(join(ROOT, `dist/src/${entry}.js`))];
      expect(files.some((f) => f.endsWith('models/lenet.js')), entry).toBe(true);
      expect(files.some((f) => /lenet5\.generated/.test(f)), entry).toBe(false);
    }
    expect(readFileSync(join(ROOT, 'dist/models/lenet.js'), 'utf8')).toMatch(/import\('\.\/weights\/lenet5\.generated\.js'\)/);
  });
});
