// Command-line argument parsing for the `wasmcnn` CLI: positionals, `--flag`, `--key value`,
// `--key=value` and `-o value`. Each command declares its options, so an unknown or malformed
// option is a UsageError naming it (exit code 2), never silently ignored.

/** A mistake in how the CLI was called (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  /** 'flag' takes no value; 'string' and 'int' take one; 'list' may repeat. */
  kind: 'flag' | 'string' | 'int' | 'number';
  /** Short alias, e.g. 'o' for '-o'. */
  short?: string;
  help: string;
}

export interface Parsed {
  positionals: string[];
  options: Record<string, string | number | boolean>;
}

/** Parses argv (without node and the script) against the command's option table. */
export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): Parsed {
  const positionals: string[] = [];
  const options: Record<string, string | number | boolean> = {};
  const byShort = new Map(Object.entries(spec).filter(([, s]) => s.short).map(([k, s]) => [s.short!, k]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let key: string | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      key = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (eq >= 0) inline = a.slice(eq + 1);
    } else if (a.length > 1 && a.startsWith('-') && !/^-\d/.test(a)) {
      key = byShort.get(a.slice(1));
      if (!key) throw new UsageError(`unknown option '${a}'`);
    } else {
      positionals.push(a);
      continue;
    }
    const s = spec[key];
    if (!s) throw new UsageError(`unknown option '--${key}'`);
    if (s.kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`option '--${key}' takes no value`);
      options[key] = true;
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new UsageError(`option '--${key}' needs a value`);
    if (s.kind === 'int' || s.kind === 'number') {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || (s.kind === 'int' && !Number.isInteger(n)))
        throw new UsageError(`option '--${key}' needs ${s.kind === 'int' ? 'an integer' : 'a number'}, got '${v}'`);
      options[key] = n;
    } else options[key] = v;
  }
  return { positionals, options };
}

/** The options table as help text lines. */
export function optionHelp(spec: Record<string, OptionSpec>): string[] {
  return Object.entries(spec).map(([k, s]) => {
    const name = `${s.short ? `-${s.short}, ` : '    '}--${k}${s.kind === 'flag' ? '' : ` <${s.kind === 'string' ? 'value' : s.kind}>`}`;
    return `  ${name.padEnd(28)} ${s.help}`;
  });
}
