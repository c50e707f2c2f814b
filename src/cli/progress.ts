// Progress bars for the CLI, drawn on stderr only when it is a terminal (so `--json` output on
// stdout and logs stay clean).

export interface ProgressSink {
  (loaded: number, total?: number): void;
  done(): void;
}

function mb(n: number): string {
  return (n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0);
}

/** A bar for `label` (e.g. a download); a no-op when stderr is not a TTY or `quiet` is set. */
export function progressBar(label: string, quiet = false): ProgressSink {
  const tty = !quiet && typeof process !== 'undefined' && !!process.stderr.isTTY;
  let last = 0;
  let drawn = false;
  const sink = ((loaded: number, total?: number) => {
    if (!tty) return;
    const now = Date.now();
    if (now - last < 80 && (!total || loaded < total)) return;
    last = now;
    drawn = true;
    const width = 30;
    const text = total
      ? `${'#'.repeat(Math.round((width * loaded) / total)).padEnd(width, '.')} ${mb(loaded)}/${mb(total)} MB`
      : `${mb(loaded)} MB`;
    process.stderr.write(`\r${label} ${text}`);
  }) as ProgressSink;
  sink.done = () => {
    if (drawn) process.stderr.write('\n');
    drawn = false;
  };
  return sink;
}
