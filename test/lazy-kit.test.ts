// The lazily loaded chunks (host evaluator, trainer, thread pool, segment splitter, byte reader)
// take the engine's error classes and helpers from src/lazy/kit.ts, bound by src/lazy/supply.ts,
// instead of importing the modules of the page's first bundle: a bundler that splits code wraps
// every module both sides import (Parcel turned each eager use of ShapeError, shapeStr, numel...
// into a namespace access, +6 KB). Checked here: the module graph as esbuild resolves it (type
// imports dropped), that the kit holds the engine's own values, and that a lazy module reached
// without its loader (models/index.ts reading a zoo model's weights) finds the kit bound.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors';
import * as constEval from '../src/graph/constEval';
import * as ir from '../src/graph/ir';
import * as shapes from '../src/graph/shapes';
import * as util from '../src/graph/util';
import * as hub from '../src/io/hub';
import * as kernels from '../src/runtime/kernels';
import * as platform from '../src/runtime/platform';
import * as kit from '../src/lazy/kit';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** esbuild's module graph of a page importing { init, loadOnnx } (code splitting on, as bundlers split). */
async function pageGraph(): Promise<Metafile['inputs']> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmcnn-lazy-'));
  try {
    writeFileSync(join(dir, 'page.ts'), `import { init, loadOnnx } from ${JSON.stringify(join(ROOT, 'src/index'))};\n(globalThis as any).x = { init, loadOnnx };\n`);
    const r = await build({
      entryPoints: [join(dir, 'page.ts')], bundle: true, write: false, metafile: true, splitting: true, format: 'esm',
      outdir: join(dir, 'out'), platform: 'browser', external: ['node:*', 'sharp'], absWorkingDir: ROOT, logLevel: 'silent',
    });
    return r.metafile.inputs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Modules reached from `starts` through static (value) imports. */
function closure(inputs: Metafile['inputs'], starts: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...starts];
  while (todo.length) {
    const p = todo.pop()!;
    if (seen.has(p) || !inputs[p]) continue;
    seen.add(p);
    for (const i of inputs[p].imports) if (i.kind === 'import-statement' && !i.external) todo.push(i.path);
  }
  return seen;
}

describe('lazy chunks and the kit', () => {
  it('no lazy chunk imports by value a module of the first bundle, except the import-free kit and hubRef', async () => {
    const inputs = await pageGraph();
    const page = Object.keys(inputs).find((k) => k.endsWith('page.ts'))!;
    const eager = closure(inputs, [page]);
    const roots = new Set<string>();
    for (const v of Object.values(inputs)) for (const i of v.imports) if (i.kind === 'dynamic-import' && !i.external) roots.add(i.path);
    for (const r of ['src/graph/recognize.ts', 'src/graph/eval/index.ts', 'src/train/trainer.ts', 'src/runtime/threads.ts', 'src/runtime/segments.ts', 'src/io/source.ts'])
      expect(roots.has(r), r).toBe(true);
    const lazy = closure(inputs, [...roots]);
    const shared = [...lazy].filter((m) => eager.has(m)).sort();
    expect(shared).toEqual(['src/io/hubRef.ts', 'src/lazy/kit.ts']);
    for (const m of shared) expect(inputs[m].imports.filter((i) => i.kind === 'import-statement'), m).toEqual([]);
    // and the modules the first bundle uses most are in it, not only in lazy chunks
    for (const m of ['src/errors.ts', 'src/graph/ir.ts', 'src/graph/util.ts', 'src/graph/constEval.ts', 'src/graph/shapes.ts'])
      expect(eager.has(m) && !lazy.has(m), m).toBe(true);
  });

  it("binds the engine's own classes and functions (one set of error classes)", () => {
    const engine: Record<keyof kit.Kit, unknown> = {
      WasmCnnError: errors.WasmCnnError, GraphError: errors.GraphError, LoadError: errors.LoadError, ShapeError: errors.ShapeError,
      UnsupportedOpError: errors.UnsupportedOpError, ValueError: errors.ValueError, numel: ir.numel, shapeStr: ir.shapeStr, intBytes: ir.intBytes,
      nodeReads: util.nodeReads, consumers: util.consumers, producers: util.producers, isGraphOutput: util.isGraphOutput, freshName: util.freshName, removeDeadNodes: util.removeDeadNodes, cloneGraph: util.cloneGraph, fromFloat: constEval.fromFloat, fromInt: constEval.fromInt,
      toStored: constEval.toStored, constInputs: constEval.constInputs, storeFolded: constEval.storeFolded, reshapeTarget: shapes.reshapeTarget, shapeSlice: shapes.shapeSlice, sliceRanges: shapes.sliceRanges,
      squeezeShape: shapes.squeezeShape, unsqueezeShape: shapes.unsqueezeShape, hubTemplate: hub.hubTemplate,
      platform: platform.platform, PARALLEL_KERNELS: kernels.PARALLEL_KERNELS,
    };
    for (const [name, value] of Object.entries(engine)) {
      expect(value, name).toBeDefined();
      expect((kit as Record<string, unknown>)[name], name).toBe(value);
    }
  });

  it("a lazy module reached without its loader finds the kit bound (a zoo model's weights read from a path, first thing in a fresh process)", () => {
    const weights = join(ROOT, 'models/weights/lenet5.safetensors');
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createModel, ValueError } from 'wasmcnn';
         const m = await createModel('lenet5', { weights: ${JSON.stringify(weights)} });
         const y = await m.predict({ data: new Float32Array(1024).fill(0.5), shape: [1, 1, 32, 32] });
         let bad;
         try { await createModel('lenet5', { weights: 'hf:not a reference' }); } catch (e) { bad = { name: e.name, typed: e instanceof ValueError, message: e.message }; }
         console.log(JSON.stringify({ n: y.data.length, finite: Array.from(y.data).every(Number.isFinite), bad }));`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const r = JSON.parse(out);
    expect(r.n).toBe(10);
    expect(r.finite).toBe(true);
    expect(r.bad).toMatchObject({ name: 'ValueError', typed: true });
    expect(r.bad.message).toContain('hf:not a reference');
  });
});
