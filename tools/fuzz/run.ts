// The loader fuzzer (`npm run fuzz -- --cases 1000000`): structure-aware ONNX and safetensors
// mutators plus raw byte mutation (tools/fuzz/mutate.ts), each case run in a child process
// (tools/fuzz/child.ts) with a time limit (a child that does not answer is killed: a hang) and a
// heap limit (--max-old-space-size; a child that dies is a crash). Outcomes: typed error, ran,
// or a defect (wasm trap, untyped error, hang, crash); every defect is saved as a reproducer
// file with a JSON note beside it. Deterministic: the same --seed gives the same cases.
//
//   tsx tools/fuzz/run.ts [--cases N] [--seed S] [--workers W] [--timeout MS] [--memory MB] [--out DIR]
//   tsx tools/fuzz/run.ts --replay FILE... (saved reproducers, each with its .json note, same limits)
//
// A case that does not answer within --timeout counts as a hang only if it used that much CPU
// (an endless loop does): on a busy machine a starved child gets up to 5x the time in wall clock.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseMessage, ResultMessage } from './child';
import { makeCase, seedGraphs, seedSafetensors, type FuzzCase } from './mutate';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Child processes running cases side by side (default 2). */
  workers?: number;
  /** Milliseconds a case may take before its child is killed and the case counts as a hang (default 20000). */
  timeoutMs?: number;
  /** Heap limit of each child in MiB (default 1024). */
  memoryMb?: number;
  /** Where defects are saved (default build/fuzz). */
  out?: string;
  /** Run these cases (saved reproducers) instead of generating `cases` from `seed`. */
  replay?: FuzzCase[];
  /** Progress callback every 500 cases. */
  onProgress?: (done: number, counts: FuzzCounts) => void;
}

export interface FuzzCounts {
  typed: number;
  ran: number;
  /** Loaded without error; too large to run within the time limit (child.ts MAX_RUN_FLOATS, MAX_RUN_BYTES). */
  loaded: number;
  trap: number;
  untyped: number;
  hang: number;
  crash: number;
}

export interface FuzzDefect {
  i: number;
  outcome: 'trap' | 'untyped' | 'hang' | 'crash';
  origin: string;
  error: string;
  file: string;
}

export interface FuzzReport {
  cases: number;
  seed: number;
  seconds: number;
  counts: FuzzCounts;
  defects: FuzzDefect[];
  /** Load errors by class name (FormatError, ShapeError, ...), to see what the mutators reach. */
  typedByClass: Record<string, number>;
}

/** Small ONNX files to mutate byte by byte: the backend conformance models and the test fixtures. */
function seedFiles(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const base = resolve(ROOT, '../shared/onnx-backend-tests');
  for (const group of ['node', 'pytorch-converted']) {
    const dir = join(base, group);
    if (!existsSync(dir)) continue;
    for (const t of readdirSync(dir).sort()) {
      const f = join(dir, t, 'model.onnx');
      if (existsSync(f) && statSync(f).size <= 16_384) out.push({ name: `${group}/${t}`, bytes: new Uint8Array(readFileSync(f)) });
    }
  }
  return out;
}

function spawnChild(memoryMb: number): ChildProcess {
  return fork(join(ROOT, 'tools/fuzz/child.ts'), [], {
    execArgv: ['--import', 'tsx', `--max-old-space-size=${memoryMb}`],
    env: { ...process.env, WASMCNN_FUZZ_WASM: join(ROOT, 'dist/wasmcnn.wasm') },
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    cwd: ROOT,
  });
}

/** Wall time a starved child may take, as a multiple of the time limit, before it counts as a hang. */
const WALL_FACTOR = 5;

/** CPU time (user + system, ms) a process has used, from Linux's /proc; Infinity where unknown (then wall time decides). */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 (utime, stime) in clock ticks, 100 per second on Linux
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return Infinity;
  }
}

/** Run `cases` cases from `seed`; resolves with the counts and the saved defects. */
export async function fuzz(o: FuzzOptions): Promise<FuzzReport> {
  const workers = o.workers ?? 2;
  const timeoutMs = o.timeoutMs ?? 20_000;
  const memoryMb = o.memoryMb ?? 1024;
  const outDir = resolve(ROOT, o.out ?? 'build/fuzz');
  const graphs = seedGraphs();
  const files = seedFiles();
  const lenet = join(ROOT, 'models/weights/lenet5.safetensors');
  const st = [seedSafetensors(), ...(existsSync(lenet) ? [new Uint8Array(readFileSync(lenet))] : [])];
  const counts: FuzzCounts = { typed: 0, ran: 0, loaded: 0, trap: 0, untyped: 0, hang: 0, crash: 0 };
  const typedByClass: Record<string, number> = {};
  const defects: FuzzDefect[] = [];
  const t0 = performance.now();
  let next = 0;
  let done = 0;

  const save = (c: FuzzCase, i: number, outcome: FuzzDefect['outcome'], error: string) => {
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${outcome}-s${o.seed}-${i}.${c.kind === 'onnx' ? 'onnx' : 'safetensors'}`);
    writeFileSync(file, c.bytes);
    writeFileSync(`${file}.json`, JSON.stringify({ seed: o.seed, case: i, kind: c.kind, feedSeed: c.feedSeed, origin: c.origin, outcome, error }, null, 2));
    defects.push({ i, outcome, origin: c.origin, error: error.split('\n')[0], file });
  };

  const lane = async (): Promise<void> => {
    let child: ChildProcess | undefined;
    let stderr = '';
    const start = () =>
      new Promise<ChildProcess>((res, rej) => {
        const c = spawnChild(memoryMb);
        stderr = '';
        c.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
        const onMsg = (m: { ready?: boolean }) => {
          if (m.ready) {
            c.off('message', onMsg);
            res(c);
          }
        };
        c.on('message', onMsg);
        c.once('exit', (code) => rej(new Error(`fuzz child exited (${code}) before it was ready: ${stderr}`)));
      });
    try {
      for (;;) {
        const i = next++;
        if (i >= (o.replay?.length ?? o.cases)) return;
        const c = o.replay ? o.replay[i] : makeCase(o.seed, i, graphs, files, st);
        if (!child) child = await start();
        const ch = child;
        const r = await new Promise<ResultMessage | { outcome: 'hang' | 'crash'; error: string }>((res) => {
          const sent = performance.now();
          const cpu0 = cpuMs(ch.pid);
          // a hang burns its time limit in CPU; a child that a busy machine starved of CPU gets
          // more wall time (up to WALL_FACTOR times the limit) before it counts as one
          const check = () => {
            const used = cpuMs(ch.pid) - cpu0;
            const wall = performance.now() - sent;
            if (!(used < timeoutMs) || wall >= WALL_FACTOR * timeoutMs) {
              cleanup();
              ch.kill('SIGKILL');
              res({ outcome: 'hang', error: `no answer within ${Math.round(wall)} ms (${Number.isFinite(used) ? `${Math.round(used)} ms of CPU` : 'CPU time unknown'})` });
            } else timer = setTimeout(check, Math.max(100, timeoutMs - used));
          };
          let timer = setTimeout(check, timeoutMs);
          const onMsg = (m: ResultMessage) => {
            if (m.i !== i) return;
            cleanup();
            res(m);
          };
          const onExit = (code: number | null, signal: string | null) => {
            cleanup();
            res({ outcome: 'crash', error: `child died (code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
          };
          const cleanup = () => {
            clearTimeout(timer);
            ch.off('message', onMsg);
            ch.off('exit', onExit);
          };
          ch.on('message', onMsg);
          ch.once('exit', onExit);
          ch.send({ i, kind: c.kind, bytes: c.bytes, feedSeed: c.feedSeed } satisfies CaseMessage);
        });
        if (r.outcome === 'hang' || r.outcome === 'crash') {
          child.kill('SIGKILL');
          child = undefined;
        }
        counts[r.outcome]++;
        if (r.outcome === 'typed') {
          const cls = (r as ResultMessage).error?.split(':')[0] ?? '?';
          typedByClass[cls] = (typedByClass[cls] ?? 0) + 1;
        } else if (r.outcome !== 'ran' && r.outcome !== 'loaded') {
          save(c, i, r.outcome, r.error ?? '');
        }
        if (++done % 500 === 0) o.onProgress?.(done, counts);
      }
    } finally {
      child?.kill('SIGKILL');
    }
  };
  await Promise.all(Array.from({ length: workers }, lane));
  return { cases: o.replay?.length ?? o.cases, seed: o.seed, seconds: (performance.now() - t0) / 1000, counts, defects, typedByClass };
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

/** Saved reproducers (and the JSON notes beside them) as cases to replay. */
function readReproducers(files: string[]): FuzzCase[] {
  return files.map((file) => {
    const note = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as { kind: FuzzCase['kind']; feedSeed: number; origin: string };
    return { kind: note.kind, bytes: new Uint8Array(readFileSync(file)), feedSeed: note.feedSeed, origin: `replay of ${file} (${note.origin})` };
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outIdx = process.argv.indexOf('--out');
  const replayIdx = process.argv.indexOf('--replay');
  const after = replayIdx > 0 ? process.argv.slice(replayIdx + 1) : [];
  const stop = after.findIndex((a) => a.startsWith('--'));
  const replay = replayIdx > 0 ? readReproducers(stop < 0 ? after : after.slice(0, stop)) : undefined;
  const opts: FuzzOptions = {
    cases: arg('cases', 10_000),
    seed: arg('seed', Date.now() % 2 ** 31),
    workers: arg('workers', 2),
    timeoutMs: arg('timeout', 20_000),
    memoryMb: arg('memory', 1024),
    out: outIdx > 0 ? process.argv[outIdx + 1] : undefined,
    replay,
  };
  console.log(`fuzz: ${replay ? `${replay.length} saved cases` : `${opts.cases} cases, seed ${opts.seed}`}, ${opts.workers} children, ${opts.timeoutMs} ms and ${opts.memoryMb} MiB heap each`);
  const started = performance.now();
  const report = await fuzz({
    ...opts,
    onProgress: (d, c) => {
      // one line per 1000 cases, with the elapsed time, so a run cut short still leaves its figures
      if (d % 1000 === 0 || d === 500) console.log(`${d} cases, ${((performance.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify(c)}`);
    },
  });
  console.log(JSON.stringify({ ...report, defects: report.defects.length }, null, 2));
  for (const d of report.defects) console.log(`DEFECT ${d.outcome} case ${d.i} (${d.origin}): ${d.error}\n  reproducer: ${d.file}`);
  process.exitCode = report.defects.length ? 1 : 0;
}
