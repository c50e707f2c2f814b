// Compound scaling, shown with numbers (`npm run scaling`): EfficientNet-B0 scaled by the paper's
// equation 3 (Tan & Le 2019, section 3.3) — depth α^φ, width β^φ, resolution γ^φ with the grid
// search's α = 1.2, β = 1.1, γ = 1.15 (α·β²·γ² ≈ 2: each step of φ about doubles the FLOPs) —
// beside the published B0–B7, whose coefficients the authors tuned per model. Parameters and
// multiply-accumulates are the library's own counts (Model.paramCount, layerInfo()'s MACs) of each
// network built with synthetic weights at its resolution.
//
//   npx tsx examples/compound-scaling.ts [--markdown]
import { readFileSync } from 'node:fs';
import {
  EFFICIENTNET_ALPHA, EFFICIENTNET_BETA, EFFICIENTNET_GAMMA, EFFICIENTNET_PUBLISHED, efficientnetScaled, efficientnetScaling,
  type EfficientNetScaling, init, syntheticWeights, useNodePlatform,
} from '../src/node';

interface Row {
  name: string;
  width: number;
  depth: number;
  resolution: number;
  params: number;
  macs: number;
}

async function measure(name: string, s: EfficientNetScaling): Promise<Row> {
  const { width, depth, resolution } = efficientnetScaling(s);
  const b = efficientnetScaled(s);
  const m = await b.build(syntheticWeights(b.weightShapes()));
  const macs = m.layerInfo().reduce((t, l) => t + l.macs, 0);
  const row = { name, width, depth, resolution, params: m.paramCount, macs };
  m.dispose();
  return row;
}

async function main(): Promise<void> {
  useNodePlatform(new URL('../dist/src/runtime/', import.meta.url));
  await init({ wasm: readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url)) });
  const markdown = process.argv.includes('--markdown');
  const rows: Row[] = [];
  for (const [name, c] of Object.entries(EFFICIENTNET_PUBLISHED)) rows.push(await measure(name.replace('efficientnet_b', 'B'), c));
  for (let phi = 1; phi <= 7; phi++) rows.push(await measure(`φ=${phi}`, { phi }));
  const a = EFFICIENTNET_ALPHA;
  const b = EFFICIENTNET_BETA;
  const g = EFFICIENTNET_GAMMA;
  const head = ['model', 'width', 'depth', 'resolution', 'params (M)', 'MACs (G)', 'MACs / B0'];
  const b0 = rows[0].macs;
  const cells = rows.map((r) => [
    r.name, r.width.toFixed(3), r.depth.toFixed(3), String(r.resolution), (r.params / 1e6).toFixed(2), (r.macs / 1e9).toFixed(2), (r.macs / b0).toFixed(1),
  ]);
  if (markdown) {
    console.log(`| ${head.join(' | ')} |`);
    console.log(`| ${head.map((_, i) => (i ? '---:' : '---')).join(' | ')} |`);
    for (const c of cells) console.log(`| ${c.join(' | ')} |`);
  } else {
    const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) => c.map((v, i) => (i ? v.padStart(w[i]) : v.padEnd(w[i]))).join('  ');
    console.log(line(head));
    for (const c of cells) console.log(line(c));
  }
  console.log(`\nα = ${a}, β = ${b}, γ = ${g}: α·β²·γ² = ${(a * b * b * g * g).toFixed(4)} (the paper's "≈ 2")`);
  console.log('φ form: resolution 224·γ^φ rounded to a multiple of 4; channels makeDivisible(c·β^φ, 8); repeats ceil(n·α^φ)');
}

await main();
