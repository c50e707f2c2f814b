// The lazily loaded chunks (host evaluator, trainer, thread pool, segment splitter, byte reader,
// the rare ops' and float16 storage's planners, dynamic graphs' planning state) take the engine's error classes and helpers from
// src/lazy/kit.ts, bound by src/lazy/supply.ts, instead of importing the modules of the page's
// first bundle: a bundler that splits code wraps every module both sides import (Parcel turned
// each eager use of ShapeError, shapeStr, numel... into a namespace access, +6 KB). Checked here:
// the module graph as esbuild resolves it (type imports dropped), that the kit holds the engine's
// own values, that a lazy module reached without its loader (models/index.ts reading a zoo
// model's weights) finds the kit bound, and that each rare op planned first loads its planner.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it, vi } from 'vitest';
import * as errors from '../src/errors';
import * as constEval from '../src/graph/constEval';
import * as ir from '../src/graph/ir';
import * as shapes from '../src/graph/shapes';
import * as util from '../src/graph/util';
import * as hub from '../src/io/hub';
import * as kernels from '../src/runtime/kernels';
import * as platform from '../src/runtime/platform';
import * as kit from '../src/lazy/kit';
import type { IntTensor, Tensor } from '../src/graph/ir';
import { parseOnnx, readTensorProto } from '../src/onnx/reader';

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
    for (const r of ['src/graph/recognize.ts', 'src/graph/eval/index.ts', 'src/train/trainer.ts', 'src/runtime/threads.ts', 'src/runtime/segments.ts', 'src/io/source.ts', 'src/ops/rarePlans.ts', 'src/ops/half.ts', 'src/dynamic.ts', 'src/graph/expand.ts'])
      expect(roots.has(r), r).toBe(true);
    const lazy = closure(inputs, [...roots]);
    const shared = [...lazy].filter((m) => eager.has(m)).sort();
    expect(shared).toEqual(['src/io/hubRef.ts', 'src/lazy/kit.ts']);
    for (const m of shared) expect(inputs[m].imports.filter((i) => i.kind === 'import-statement'), m).toEqual([]);
    // the rare ops' planners (src/ops/rare.ts), float16 storage's (src/ops/half.ts) and dynamic graphs' planning state (src/dynamic.ts) are only in their chunks
    for (const m of ['src/ops/rarePlans.ts', 'src/ops/half.ts', 'src/dynamic.ts', 'src/graph/expand.ts']) expect(eager.has(m), m).toBe(false);
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

describe("the rare ops' planners (src/ops/rare.ts)", () => {
  // Each case compiles its op in a fresh module graph, where the planners' chunk is not loaded
  // yet, so compileGraph must load it for that op alone (elsewhere a process loads it once, for
  // whichever rare op comes first). Expected outputs: the ONNX backend cases' stored ones.
  const CASES: Record<string, string> = {
    ConvTranspose: 'test_convtranspose_output_shape', LRN: 'test_lrn', InstanceNormalization: 'test_instancenorm_epsilon',
    DepthToSpace: 'test_depthtospace_crd_mode_example', DeformConv: 'test_deform_conv_with_mask_bias', MaxUnpool: 'test_maxunpool_export_with_output_shape',
  };
  const NODE_CASES = new URL('../../shared/onnx-backend-tests/node/', import.meta.url);

  /** The engine as a fresh module graph (nothing lazily loaded yet), set up as test/setup.ts sets up the shared one. */
  async function freshEngine() {
    vi.resetModules();
    const { useNodePlatform } = await import('../src/node');
    useNodePlatform(new URL('../dist/src/runtime/', import.meta.url));
    const engine = await import('../src/index');
    await engine.init({ wasm: readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url)) });
    return engine;
  }

  it('every op whose plan is planRare has a case here (SpaceToDepth, Gather, Expand: below)', async () => {
    const { OPS } = await import('../src/ops');
    const { planRare, RARE_OPS } = await import('../src/ops/rare');
    const rare = OPS.filter((d) => d.plan === planRare).flatMap((d) => d.ops).sort();
    expect(rare).toEqual([...Object.keys(CASES), 'SpaceToDepth', 'Gather', 'Expand'].sort());
    expect([...RARE_OPS].sort()).toEqual(rare);
  });

  for (const [op, name] of Object.entries(CASES))
    it(`${op} (${name}) planned first`, async () => {
      const dir = new URL(`${name}/`, NODE_CASES);
      const read = (kind: string) =>
        readdirSync(new URL('test_data_set_0/', dir)).filter((f) => f.startsWith(kind)).sort()
          .map((f) => readTensorProto(readFileSync(new URL(`test_data_set_0/${f}`, dir))));
      const bytes = readFileSync(new URL('model.onnx', dir));
      const names = parseOnnx(bytes).graph.inputs.map((i) => i.name);
      const feeds: Record<string, Tensor> = {};
      const constantInputs: Record<string, Tensor | IntTensor> = {};
      // input 0 is fed; the others (weights, indices, shapes) are frozen as constants
      read('input_').forEach((t, i) => (i === 0 ? (feeds[names[i]] = t.tensor as Tensor) : (constantInputs[names[i]] = t.tensor)));
      const { loadOnnx } = await freshEngine();
      const m = await loadOnnx(bytes, { constantInputs });
      const y = (await m.run(feeds))[m.outputNames[0]];
      const ref = read('output_')[0].tensor as Tensor;
      expect(y.shape).toEqual(ref.shape);
      ref.data.forEach((r, i) => expect(Math.abs(y.data[i] - r), `${i}: ${y.data[i]} vs ${r}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(r)));
      m.dispose();
    });

  it('SpaceToDepth planned first, against y[n, (i·r + j)·C + c, h, w] = x[n, c, h·r + i, w·r + j]', async () => {
    const { GraphBuilder } = await freshEngine();
    const [N, C, H, W, r] = [2, 3, 4, 6, 2];
    const b = new GraphBuilder();
    b.output(b.node('SpaceToDepth', [b.input('x', [N, C, H, W])], { blocksize: r })[0], 'y');
    const m = await b.build(new Map());
    const x = Float32Array.from({ length: N * C * H * W }, (_, i) => Math.sin(i));
    const y = (await m.run({ x: { data: x, shape: [N, C, H, W] } })).y;
    const [OC, OH, OW] = [C * r * r, H / r, W / r];
    expect(y.shape).toEqual([N, OC, OH, OW]);
    for (let n = 0; n < N; n++)
      for (let i = 0; i < r; i++)
        for (let j = 0; j < r; j++)
          for (let c = 0; c < C; c++)
            for (let h = 0; h < OH; h++)
              for (let w = 0; w < OW; w++)
                expect(y.data[((n * OC + (i * r + j) * C + c) * OH + h) * OW + w]).toBe(x[((n * C + c) * H + h * r + i) * W + w * r + j]);
    m.dispose();
  });

  it('Gather of an activation by constant indices (negative ones too) planned first, against its definition', async () => {
    const { GraphBuilder } = await freshEngine();
    const [A, B, C] = [2, 5, 3];
    const idx = [[4, 0], [-1, 2], [1, 1]];
    const b = new GraphBuilder();
    // [3, 2] indices: an integer constant given its shape
    const ids = b.ints(idx.flat());
    b.graph.intConstants.get(ids)!.shape = [3, 2];
    b.graph.shapes.set(ids, [3, 2]);
    b.output(b.node('Gather', [b.input('x', [A, B, C]), ids], { axis: 1 })[0], 'y');
    const m = await b.build(new Map());
    const x = Float32Array.from({ length: A * B * C }, (_, i) => Math.cos(i));
    const y = (await m.run({ x: { data: x, shape: [A, B, C] } })).y;
    expect(y.shape).toEqual([A, 3, 2, C]);
    for (let a = 0; a < A; a++)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 2; j++)
          for (let c = 0; c < C; c++) expect(y.data[((a * 3 + i) * 2 + j) * C + c]).toBe(x[(a * B + (idx[i][j] + B) % B) * C + c]);
    m.dispose();
  });

  it('Expand of an activation planned first, against numpy broadcasting ([3, 1] to [2, 3, 4])', async () => {
    const { GraphBuilder } = await freshEngine();
    const b = new GraphBuilder();
    b.output(b.node('Expand', [b.input('x', [3, 1]), b.ints([2, 1, 4])])[0], 'y');
    const m = await b.build(new Map());
    const x = Float32Array.of(0.5, -2, 7);
    const y = (await m.run({ x: { data: x, shape: [3, 1] } })).y;
    expect(y.shape).toEqual([2, 3, 4]);
    for (let n = 0; n < 2; n++) for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) expect(y.data[(n * 3 + r) * 4 + c]).toBe(x[r]);
    m.dispose();
  });
});
