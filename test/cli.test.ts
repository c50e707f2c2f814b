// The `wasmcnn` command as a user meets it: the packed tarball installed in a fresh folder and
// run through `npx wasmcnn`. Digits are real held-out MNIST digits (never trained on) written as
// 28x28 white-on-black PNGs; LeNet-5's own preprocessing (carried by the zoo) must get them to
// the right class with no flags. Exit codes: 0 done, 1 rejected input, 2 usage error.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnistSplit } from '../src/data/mnist';
import { modelBuilder, saveSafetensors, syntheticWeights, VOC_LABELS } from '../src/index';

const root = fileURLToPath(new URL('../', import.meta.url));
// the npm and npx installed beside this node: inside npm scripts, node_modules/.bin's npm 6 (a
// dependency of as-pect) would come first on PATH
const NPM = join(dirname(process.execPath), 'npm');
const NPX = join(dirname(process.execPath), 'npx');
let dir = '';
const digits: { file: string; label: number }[] = [];

// a user's shell: none of the npm_config_* settings this repository's npm run passes down
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(NPX, ['--no-install', 'wasmcnn', ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000, env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasmcnn-cli-'));
  const tgz = execFileSync(NPM, ['pack', '--silent', root], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'cli-consumer', private: true, type: 'module' }));
  execFileSync(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(dir, tgz)], { cwd: dir, stdio: 'pipe' });
  const { heldOut } = loadMnistSplit();
  for (const k of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const d = heldOut[k];
    const px = new Uint8Array(28 * 28);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) px[y * 28 + x] = Math.round(255 * d.image[(y + 2) * 32 + x + 2]);
    const file = join(dir, `digit${k}.png`);
    await sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(file);
    digits.push({ file, label: d.label });
  }
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('wasmcnn CLI from the packed tarball', () => {
  it('--version and --help answer with exit code 0', () => {
    const v = cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    const h = cli(['--help']);
    expect(h.code).toBe(0);
    for (const c of ['info', 'classify', 'segment', 'bench', 'export']) expect(h.stdout).toContain(c);
  });

  it('classify gives each MNIST digit PNG its digit with lenet5, no preprocessing flags', () => {
    const r = cli(['classify', ...digits.map((d) => d.file), '--model', 'lenet5', '--json', '--top', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { index: number; label: string; score: number }[][];
    expect(res).toHaveLength(digits.length);
    res.forEach((top, i) => {
      expect(top).toHaveLength(3);
      expect(top[0].index).toBe(digits[i].label);
      expect(top[0].label).toBe(String(digits[i].label));
      // softmax scores: descending, in (0, 1], summing to at most 1
      expect(top[0].score).toBeGreaterThan(top[1].score);
      expect(top.reduce((a, c) => a + c.score, 0)).toBeLessThanOrEqual(1 + 1e-6);
    });
  });

  it('classify prints a readable table without --json', () => {
    const r = cli(['classify', digits[0].file, '--model', 'lenet5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('digit0.png');
    expect(r.stdout).toMatch(new RegExp(`1\\. ${digits[0].label}\\b`));
  });

  it('info lists LeNet-5 layers with the study\'s shapes (32 -> 28 -> 14 -> 10 -> 5)', () => {
    const r = cli(['info', 'lenet5', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.params).toBe(61706); // LeNet-5 with 10 classes: 156 + 2416 + 48120 + 10164 + 850
    const shapes = info.layers.map((l: { outputShape: number[] }) => l.outputShape.join('x'));
    for (const s of ['1x6x28x28', '1x6x14x14', '1x16x10x10', '1x16x5x5']) expect(shapes).toContain(s);
  });

  it('export writes an ONNX file that info and classify read back', () => {
    const out = join(dir, 'lenet5.onnx');
    expect(cli(['export', 'lenet5', '-o', out, '--quiet']).code).toBe(0);
    expect(existsSync(out)).toBe(true);
    const info = cli(['info', out]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('total params: 61,706');
    const r = cli(['classify', digits[1].file, '--model', out, '--json', '--labels', 'mnist', '--size', '28', '--crop', '32']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0][0].index).toBe(digits[1].label);
  });

  it('bench reports load, first-run and steady latency and a per-layer profile', () => {
    const r = cli(['bench', 'lenet5', '--runs', '5', '--json']);
    expect(r.code).toBe(0);
    const b = JSON.parse(r.stdout);
    for (const k of ['loadMs', 'firstRunMs', 'medianMs', 'minMs']) expect(b[k]).toBeGreaterThan(0);
    expect(b.minMs).toBeLessThanOrEqual(b.medianMs);
    expect(b.profile.map((p: { op: string }) => p.op)).toContain('Conv');
  });

  it('segment writes an overlay the size of the image and the classes found (a zoo segmenter with weights from a file)', async () => {
    const weights = join(dir, 'lraspp.safetensors');
    writeFileSync(weights, saveSafetensors(syntheticWeights(modelBuilder('lraspp_mobilenet_v3_large').weightShapes())));
    // a 150x97 picture: the segmenter runs on it at its own aspect (shorter side 520)
    const px = Buffer.alloc(150 * 97 * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 37) % 251;
    const image = join(dir, 'scene.png');
    await sharp(px, { raw: { width: 150, height: 97, channels: 3 } }).png().toFile(image);
    const out = join(dir, 'overlay.png');
    const r = cli(['segment', image, '--model', 'lraspp_mobilenet_v3_large', '--weights', weights, '--out', out, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([150, 97]);
    const found = JSON.parse(r.stdout) as { index: number; label: string; share: number }[];
    expect(found.length).toBeGreaterThan(0);
    expect(found.reduce((a, f) => a + f.share, 0)).toBeCloseTo(1, 9);
    for (const f of found) expect(f.label).toBe(VOC_LABELS[f.index]);
    // class 0 (background) is left uncoloured: the overlay differs from the picture iff another class was found
    const overlay = await sharp(out).removeAlpha().raw().toBuffer();
    expect(!overlay.equals(px)).toBe(found.some((f) => f.index !== 0));
  });

  it('usage mistakes exit 2 and name the problem', () => {
    for (const [args, what] of [
      [['classify', digits[0].file], '--model'],
      [['classify', digits[0].file, '--model', 'lenet5', '--top', 'x'], '--top'],
      [['classify', digits[0].file, '--model', 'lenet5', '--frobnicate'], '--frobnicate'],
      [['classify', digits[0].file, '--model', 'no_such_model'], 'no_such_model'],
      [['nope'], 'nope'],
    ] as [string[], string][]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(what);
    }
  });

  it('a missing image or a broken ONNX file exits 1 with the typed error', () => {
    const missing = cli(['classify', join(dir, 'nope.png'), '--model', 'lenet5']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.png');
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'this is not an onnx file');
    const r = cli(['info', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FormatError/);
  });
});
