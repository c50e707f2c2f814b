// A fixed-seed slice of the loader fuzzer (tools/fuzz, `npm run fuzz` for long runs): mutated
// ONNX graphs, byte-mutated ONNX files and safetensors headers, each case in a child process with
// a time and heap limit, through the public API. Every case must end in a typed WasmCnnError or
// a clean run: no wasm trap, no untyped error, no hang, no crashed process.
import { describe, expect, it } from 'vitest';
import { fuzz } from '../tools/fuzz/run';

const CASES = 2500;
const SEED = 20261203;

describe('loader fuzzing (fixed seed)', () => {
  it(`${CASES} mutated models and weight files end in a typed error or a clean run`, async () => {
    const report = await fuzz({ cases: CASES, seed: SEED, workers: 2, timeoutMs: 20_000, out: 'build/fuzz-test' });
    console.log(`fuzz seed ${SEED}: ${report.cases} cases in ${report.seconds.toFixed(1)} s: ${JSON.stringify(report.counts)}; typed errors by class ${JSON.stringify(report.typedByClass)}`);
    for (const d of report.defects) console.log(`DEFECT ${d.outcome} case ${d.i} (${d.origin}): ${d.error}\n  reproducer: ${d.file}`);
    expect(report.defects.map((d) => `${d.outcome} #${d.i}: ${d.error}`)).toEqual([]);
    const c = report.counts;
    expect(c.typed + c.ran + c.loaded).toBe(CASES);
    // the mutators must reach past the reader into shape inference, planning and run()
    expect(c.ran).toBeGreaterThan(CASES * 0.1);
    for (const cls of ['FormatError', 'ShapeError', 'UnsupportedOpError', 'WeightsError']) expect(report.typedByClass[cls] ?? 0).toBeGreaterThan(0);
  }, 240_000);
});
