// The `wasmcnn` command line (package.json `bin`): info, classify, segment, bench, export and
// models, over the same public API a program uses (the Node entry, so local paths and images
// decode through its platform hooks). Exit codes: 0 done, 1 the model or input was rejected
// (a WasmCnnError, printed with its class name), 2 the command line itself was wrong.
import { writeFile } from 'node:fs/promises';
import {
  createModel, exportOnnx, fromImage, init, labelSet, listModels, loadOnnx, modelBuilder, modelPreprocessing, receptiveField,
  segmentationMap, segmentationOverlay, softmax, syntheticInput, syntheticWeights, toRawImage, topK, WasmCnnError,
  type ImageOptions, type LabelSetName, type Model, type Tensor, useNodePlatform,
} from '../node';
import { optionHelp, parseArgs, UsageError, type OptionSpec } from './args';
import { progressBar } from './progress';
import { runTrain, TRAIN_OPTS } from './train';

// the Node entry's hooks (file reading, image decoding, worker_threads), installed by a call: the
// build resolves the names above to the modules that define them, so the entry's own top-level
// call would not run
useNodePlatform();

const VERSION = '0.1.0';

const MODEL_OPTS: Record<string, OptionSpec> = {
  model: { kind: 'string', short: 'm', help: 'an ONNX file/URL or a zoo name (see `wasmcnn models`)' },
  weights: { kind: 'string', short: 'w', help: 'safetensors path, URL or hf:owner/repo for a zoo model' },
  threads: { kind: 'int', help: 'threads to run on (default 1)' },
  'input-size': { kind: 'int', help: "input resolution for zoo models that take one, or for an ONNX file with dynamic sizes" },
  quiet: { kind: 'flag', short: 'q', help: 'no progress bars' },
};

interface Command {
  usage: string;
  about: string;
  options: Record<string, OptionSpec>;
  run(positionals: string[], o: Record<string, string | number | boolean>): Promise<void>;
}

const out = (s: string) => process.stdout.write(s + '\n');

function isOnnx(ref: string): boolean {
  return /\.onnx(\?.*)?$/i.test(ref);
}

/** Loads `ref` (ONNX file/URL or zoo name) with a progress bar on downloads. */
async function loadModel(
  o: Record<string, string | number | boolean>, ref = o.model as string | undefined, inputSize?: [number, number],
): Promise<Model> {
  if (!ref) throw new UsageError('missing --model (an ONNX file or a zoo name)');
  const bar = progressBar(`loading ${ref}`, !!o.quiet);
  try {
    if (isOnnx(ref)) {
      if (o.weights) throw new UsageError('--weights is for zoo models; an ONNX file carries its own');
      const m = await loadOnnx(ref, { onProgress: bar });
      // a file with dynamic sizes: the commands need one shape, from --input-size
      const name = m.inputNames[0];
      const sig = m.inputShapes[name];
      if (!sig.some((d) => d < 1)) return m;
      m.dispose();
      const s = inputSize ?? (o['input-size'] ? [o['input-size'] as number, o['input-size'] as number] : undefined);
      if (!s || sig.length !== 4 || sig[1] < 1)
        throw new UsageError(`the model's input '${name}' has dynamic dims [${sig}] (-1): give --input-size`);
      return await loadOnnx(ref, { inputShapes: { [name]: [sig[0] > 0 ? sig[0] : 1, sig[1], s[0], s[1]] } });
    }
    if (!listModels().includes(ref))
      throw new UsageError(`'${ref}' is neither an .onnx file nor a zoo model (see \`wasmcnn models\`)`);
    const opts: Record<string, unknown> = { onProgress: bar };
    if (o.weights) opts.weights = o.weights;
    if (o['input-size']) opts.inputSize = o['input-size'];
    if (inputSize) opts.inputSize = inputSize;
    return await createModel(ref, opts);
  } finally {
    bar.done();
  }
}

function parseList(v: unknown, what: string): number[] | undefined {
  if (v === undefined) return undefined;
  const xs = String(v).split(',').map(Number);
  if (xs.some((x) => !Number.isFinite(x))) throw new UsageError(`--${what} needs comma-separated numbers, got '${String(v)}'`);
  return xs;
}

/**
 * Preprocessing for `model`: the zoo model's own (size, crop, mean/std, channels), or for an
 * ONNX file one derived from its input shape ([1, C, H, W]: resize to H/0.875 then crop H, the
 * ImageNet mean/std for 3 channels), each overridable from the command line.
 */
function preprocessing(ref: string, model: Model | undefined, o: Record<string, string | number | boolean>): ImageOptions & { labels?: LabelSetName } {
  let p: ImageOptions & { labels?: LabelSetName };
  if (!isOnnx(ref)) {
    p = modelPreprocessing(ref);
  } else {
    if (!model) throw new UsageError('an ONNX model is needed to derive its preprocessing');
    const shape = model.inputShapes[model.inputNames[0]];
    if (shape.length !== 4) throw new UsageError(`the model's input has shape [${shape}]: not an image (N, C, H, W)`);
    const [, c, h, w] = shape;
    p = c === 3
      ? { size: Math.round(Math.min(h, w) / 0.875), crop: [h, w], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], channels: 3 }
      : { size: [h, w], channels: c === 1 ? 1 : 3 };
  }
  if (o.size !== undefined) p.size = o.size as number;
  if (o.crop !== undefined) p.crop = o.crop as number;
  p.mean = parseList(o.mean, 'mean') ?? p.mean;
  p.std = parseList(o.std, 'std') ?? p.std;
  if (o.labels !== undefined) p.labels = o.labels as LabelSetName;
  return p;
}

const PRE_OPTS: Record<string, OptionSpec> = {
  size: { kind: 'int', help: 'resize the shorter side to this (overrides the model\'s own)' },
  crop: { kind: 'int', help: 'center crop to this square' },
  mean: { kind: 'string', help: 'per-channel mean, e.g. 0.485,0.456,0.406' },
  std: { kind: 'string', help: 'per-channel std, e.g. 0.229,0.224,0.225' },
};

async function withThreads(o: Record<string, string | number | boolean>): Promise<void> {
  if (o.threads !== undefined) await init({ threads: o.threads as number });
}

const COMMANDS: Record<string, Command> = {
  info: {
    usage: 'info <model.onnx | zoo name> [--weights src] [--json]',
    about: 'layers, output shapes, parameters, MACs and receptive fields',
    options: { ...MODEL_OPTS, json: { kind: 'flag', help: 'machine-readable output' } },
    async run(pos, o) {
      if (pos.length !== 1) throw new UsageError('info takes one model');
      const ref = pos[0];
      // zoo models without bundled weights are described with synthetic ones: shapes do not depend on values
      const m = await loadModel(o, ref).catch(async (e) => {
        if (!(e instanceof WasmCnnError) || o.weights || isOnnx(ref) || !/ships no weights/.test(e.message)) throw e;
        const b = modelBuilder(ref, o['input-size'] ? { inputSize: o['input-size'] as number } : {});
        return b.build(syntheticWeights(b.weightShapes()));
      });
      try {
        if (o.json) {
          const rf = new Map(receptiveField(m).map((r) => [r.name, r]));
          out(JSON.stringify({
            inputs: m.inputShapes, outputs: m.outputShapes, params: m.paramCount, memoryBytes: m.memoryBytes,
            layers: m.layerInfo().map((l) => ({ ...l, receptiveField: rf.get(l.name) && { size: rf.get(l.name)!.size, jump: rf.get(l.name)!.jump, global: rf.get(l.name)!.global } })),
          }, null, 1));
        } else {
          out(`inputs:  ${Object.entries(m.inputShapes).map(([k, s]) => `${k} [${s}]`).join(', ')}`);
          out(`outputs: ${Object.entries(m.outputShapes).map(([k, s]) => `${k} [${s}]`).join(', ')}`);
          out(`memory:  ${(m.memoryBytes / 1048576).toFixed(1)} MiB of wasm memory`);
          out('');
          out(m.summary());
        }
      } finally {
        m.dispose();
      }
    },
  },

  classify: {
    usage: 'classify <image...> --model <m> [--weights src] [--labels imagenet] [--top 5] [--json]',
    about: 'top-k classes of each image (JPEG, PNG, WebP), preprocessed as the model expects',
    options: {
      ...MODEL_OPTS, ...PRE_OPTS,
      labels: { kind: 'string', help: "label set: imagenet, coco, voc, mnist (default: the model's own)" },
      top: { kind: 'int', help: 'how many classes to show (default 5)' },
      json: { kind: 'flag', help: 'print one array per image of { index, label, score }' },
    },
    async run(pos, o) {
      if (!pos.length) throw new UsageError('classify needs at least one image');
      const k = (o.top as number | undefined) ?? 5;
      if (k < 1) throw new UsageError('--top must be at least 1');
      await withThreads(o);
      const m = await loadModel(o);
      try {
        const pre = preprocessing(o.model as string, m, o);
        const labels = pre.labels ? labelSet(pre.labels) : undefined;
        const results = [];
        for (const file of pos) {
          const x = await fromImage(file, pre);
          const y = await m.predict(x);
          results.push(topK(softmax(y), k, labels)[0]);
        }
        if (o.json) out(JSON.stringify(results));
        else
          results.forEach((r, i) => {
            out(pos[i]);
            for (const [j, c] of r.entries())
              out(`  ${String(j + 1).padStart(2)}. ${(c.label ?? String(c.index)).padEnd(32)} ${(100 * c.score).toFixed(2).padStart(6)}%  (class ${c.index})`);
          });
      } finally {
        m.dispose();
      }
    },
  },

  segment: {
    usage: 'segment <image> --model <m> [--weights src] --out overlay.png [--alpha 0.5] [--json]',
    about: 'per-pixel classes of an image, written as a colour overlay',
    options: {
      ...MODEL_OPTS, ...PRE_OPTS,
      out: { kind: 'string', short: 'o', help: 'where to write the overlay PNG' },
      alpha: { kind: 'number', help: 'overlay opacity from 0 to 1 (default 0.5)' },
      labels: { kind: 'string', help: 'label set (default: the model\'s own, voc for the zoo segmenters)' },
      json: { kind: 'flag', help: 'print the classes found and their share of the pixels as JSON' },
    },
    async run(pos, o) {
      if (pos.length !== 1) throw new UsageError('segment takes one image');
      if (!o.out) throw new UsageError('segment needs --out overlay.png');
      const alpha = (o.alpha as number | undefined) ?? 0.5;
      if (!(alpha >= 0 && alpha <= 1)) throw new UsageError('--alpha must be between 0 and 1');
      await withThreads(o);
      const ref = o.model as string | undefined;
      if (!ref) throw new UsageError('missing --model (an ONNX file or a zoo name)');
      // a zoo segmenter is planned for the preprocessed image's own size (torchvision resizes the
      // shorter side and keeps the aspect); an ONNX file's input shape decides the size instead
      let pre = isOnnx(ref) ? undefined : preprocessing(ref, undefined, o);
      const image = await toRawImage(pos[0]);
      let x = pre ? await fromImage(image, pre) : undefined;
      const m = await loadModel(o, ref, x ? [x.shape[2], x.shape[3]] : undefined);
      try {
        if (!pre) {
          pre = preprocessing(ref, m, o);
          const [, , h, w] = m.inputShapes[m.inputNames[0]];
          x = await fromImage(image, { ...pre, size: [h, w], crop: undefined });
        }
        const labels = labelSet(pre.labels ?? 'voc');
        const y = await m.run({ [m.inputNames[0]]: x! });
        const classes = segmentationMap(y[m.outputNames[0]]);
        const overlay = segmentationOverlay(classes, image, { alpha });
        const sharp = await loadSharp();
        await sharp(Buffer.from(overlay.data.buffer, overlay.data.byteOffset, overlay.data.byteLength), {
          raw: { width: overlay.width, height: overlay.height, channels: overlay.channels },
        }).png().toFile(o.out as string);
        const counts = new Map<number, number>();
        for (const c of classes.data) counts.set(c, (counts.get(c) ?? 0) + 1);
        const found = [...counts].sort((a, b) => b[1] - a[1]).map(([index, n]) => ({ index, label: labels[index] ?? String(index), share: n / classes.data.length }));
        if (o.json) out(JSON.stringify(found));
        else {
          out(`${o.out}: ${overlay.width}x${overlay.height}`);
          for (const f of found) out(`  ${f.label.padEnd(16)} ${(100 * f.share).toFixed(1).padStart(5)}%`);
        }
      } finally {
        m.dispose();
      }
    },
  },

  bench: {
    usage: 'bench <model> [--weights src] [--threads n] [--runs 20] [--json]',
    about: 'load time, first and steady latency, and the per-layer profile',
    options: {
      ...MODEL_OPTS,
      runs: { kind: 'int', help: 'timed runs (default 20)' },
      layers: { kind: 'int', help: 'layers to list, slowest first (default 15; 0 for all)' },
      json: { kind: 'flag', help: 'machine-readable output' },
    },
    async run(pos, o) {
      if (pos.length !== 1) throw new UsageError('bench takes one model');
      const runs = (o.runs as number | undefined) ?? 20;
      if (runs < 1) throw new UsageError('--runs must be at least 1');
      await withThreads(o);
      const t0 = performance.now();
      const ref = pos[0];
      let m: Model;
      try {
        m = await loadModel(o, ref);
      } catch (e) {
        if (!(e instanceof WasmCnnError) || o.weights || isOnnx(ref) || !/ships no weights/.test(e.message)) throw e;
        // no bundled weights: time the architecture with synthetic ones (speed does not depend on values)
        const b = modelBuilder(ref, o['input-size'] ? { inputSize: o['input-size'] as number } : {});
        m = await b.build(syntheticWeights(b.weightShapes()));
      }
      const load = performance.now() - t0;
      try {
        const feeds: Record<string, Tensor> = {};
        for (const name of m.inputNames) feeds[name] = syntheticInput(m.inputShapes[name]);
        const t1 = performance.now();
        await m.run(feeds);
        const first = performance.now() - t1;
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          await m.run(feeds);
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        const median = times[times.length >> 1];
        const profile = m.profile(feeds, { runs: Math.min(runs, 10) });
        const total = profile.reduce((a, p) => a + p.ms, 0);
        if (o.json) {
          out(JSON.stringify({ model: ref, threads: m.threads, loadMs: load, firstRunMs: first, medianMs: median, minMs: times[0], runs, profile }, null, 1));
          return;
        }
        out(`${ref}: ${m.threads} thread${m.threads > 1 ? 's' : ''}, ${runs} runs`);
        out(`  load        ${load.toFixed(1).padStart(9)} ms`);
        out(`  first run   ${first.toFixed(2).padStart(9)} ms`);
        out(`  median      ${median.toFixed(2).padStart(9)} ms`);
        out(`  min         ${times[0].toFixed(2).padStart(9)} ms`);
        out('');
        const n = (o.layers as number | undefined) ?? 15;
        const rows = [...profile].sort((a, b) => b.ms - a.ms).slice(0, n === 0 ? undefined : n);
        const w = Math.max(5, ...rows.map((r) => r.node.length));
        out(`  ${'layer'.padEnd(w)}  ${'op'.padEnd(18)} ${'ms'.padStart(8)}  share  GMAC/s`);
        for (const r of rows) {
          const bar = '#'.repeat(Math.round((20 * r.ms) / Math.max(total, 1e-9)));
          const gmacs = r.macs && r.ms > 0 ? (r.macs / r.ms / 1e6).toFixed(1) : '';
          out(`  ${r.node.padEnd(w)}  ${r.op.padEnd(18)} ${r.ms.toFixed(3).padStart(8)}  ${((100 * r.ms) / total).toFixed(1).padStart(4)}%  ${gmacs.padStart(6)}  ${bar}`);
        }
      } finally {
        m.dispose();
      }
    },
  },

  export: {
    usage: 'export <zoo name> [--weights src] -o model.onnx [--opset 17]',
    about: 'write a zoo model (with its bundled or given weights) as an ONNX file',
    options: {
      ...MODEL_OPTS,
      out: { kind: 'string', short: 'o', help: 'the ONNX file to write' },
      opset: { kind: 'int', help: 'ONNX opset (default 17)' },
    },
    async run(pos, o) {
      if (pos.length !== 1) throw new UsageError('export takes one zoo model name');
      if (!o.out) throw new UsageError('export needs -o model.onnx');
      if (isOnnx(pos[0])) throw new UsageError('export takes a zoo model name, not an ONNX file');
      const m = await loadModel(o, pos[0]);
      try {
        const bytes = exportOnnx(m, o.opset !== undefined ? { opset: o.opset as number } : {});
        await writeFile(o.out as string, bytes);
        if (!o.quiet) out(`${o.out}: ${bytes.length.toLocaleString('en-US')} bytes, ${m.paramCount.toLocaleString('en-US')} parameters`);
      } finally {
        m.dispose();
      }
    },
  },

  train: {
    usage: 'train lenet5 [--epochs 60] [--batch 64] [--lr 0.001] [--augment affine|none] [-o lenet5.safetensors]',
    about: 'train LeNet-5 from scratch on MNIST in the wasm and save its weights',
    options: TRAIN_OPTS,
    run: (pos, o) => runTrain(pos, o, out),
  },

  models: {
    usage: 'models [--json]',
    about: 'the zoo model names',
    options: { json: { kind: 'flag', help: 'as a JSON array' } },
    async run(pos, o) {
      if (pos.length) throw new UsageError('models takes no arguments');
      if (o.json) out(JSON.stringify(listModels()));
      else out(listModels().join('\n'));
    },
  },
};

async function loadSharp(): Promise<(input: Buffer, o: object) => { png(): { toFile(f: string): Promise<unknown> } }> {
  try {
    const mod = (await import('sharp')) as unknown as { default: never };
    return mod.default;
  } catch {
    throw new WasmCnnError('writing PNG files needs the optional dependency sharp: npm install sharp');
  }
}

function help(): string {
  const w = Math.max(...Object.values(COMMANDS).map((c) => c.usage.split(' ')[0].length));
  return [
    `wasmcnn ${VERSION}: CNN inference in WebAssembly`,
    '',
    'usage: wasmcnn <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.about}`),
    '',
    '`wasmcnn <command> --help` lists its options. Exit codes: 0 done, 1 rejected input, 2 usage error.',
  ].join('\n');
}

/** Runs the CLI on argv (without node and the script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const c = rest[0] && COMMANDS[rest[0]];
    out(c ? commandHelp(rest[0]) : help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    out(VERSION);
    return 0;
  }
  const cmd = COMMANDS[name];
  try {
    if (!cmd) throw new UsageError(`unknown command '${name}'`);
    if (rest.includes('--help') || rest.includes('-h')) {
      out(commandHelp(name));
      return 0;
    }
    const { positionals, options } = parseArgs(rest, cmd.options);
    await cmd.run(positionals, options);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`wasmcnn: ${e.message}\n${cmd ? `usage: wasmcnn ${cmd.usage}` : 'run `wasmcnn --help` for the commands'}\n`);
      return 2;
    }
    if (e instanceof WasmCnnError) {
      process.stderr.write(`wasmcnn: ${e.name}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`wasmcnn: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

function commandHelp(name: string): string {
  const c = COMMANDS[name];
  return [`usage: wasmcnn ${c.usage}`, '', c.about, '', ...optionHelp(c.options)].join('\n');
}
