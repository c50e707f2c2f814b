// Hub references, `hf:owner/repo[@revision][/path/to/file]`, parsed and filled into a download URL
// template (the template's form is hub.ts's). Kept apart from hub.ts, and free of imports, because
// two sides use it: hub.ts (the public setHubTemplate / resolveHubUrl, in the page's first bundle
// when a page calls them) and the lazily loaded reader src/io/source.ts. Each passes the ValueError
// class it holds (the same class: source.ts has it from src/lazy/kit.ts), so this file imports
// no module the first bundle contains and a bundler need not wrap errors.ts to share it.

/** The file a hub reference names when it names none. */
export const DEFAULT_HUB_FILE = 'model.safetensors';

/** A parsed `hf:` reference. */
export interface HubRef {
  /** `owner/name` */
  repo: string;
  /** branch, tag or commit; `main` when not given */
  revision: string;
  /** path of the file inside the repository */
  file: string;
}

/** The error class thrown for a malformed reference or template (errors.ts's ValueError). */
type ValueErrorClass = new (message: string) => Error;

const HUB_RE = /^hf:([A-Za-z0-9][\w.-]*)\/([\w.-]+)(?:@([^/\s]+))?(?:\/(.+))?$/;

/** True for strings that look like a hub reference (`hf:` prefix). */
export function isHubRef(s: string): boolean {
  return s.startsWith('hf:');
}

/** Throws `E` unless `t` is a template with `{repo}` and `{file}`. */
export function checkHubTemplate(t: string, E: ValueErrorClass): void {
  if (typeof t !== 'string' || !t.includes('{repo}') || !t.includes('{file}'))
    throw new E(`hub URL template ${JSON.stringify(t)} must contain {repo} and {file} (and may contain {revision})`);
}

/** hub.ts's parseHubRef, throwing `E` naming the reference when it does not have the form. */
export function parseHubRefWith(ref: string, defaultFile: string, E: ValueErrorClass): HubRef {
  const m = HUB_RE.exec(ref);
  if (!m || (m[4] !== undefined && m[4].split('/').some((s) => s === '' || s === '.' || s === '..')))
    throw new E(`hub reference ${JSON.stringify(ref)} is not of the form hf:owner/repo[@revision][/file] (e.g. hf:timm/resnet50.a1_in1k)`);
  return { repo: `${m[1]}/${m[2]}`, revision: m[3] ?? 'main', file: m[4] ?? defaultFile };
}

/**
 * The download URL of a hub reference through template `t`, with `{repo}`, `{revision}` and
 * `{file}` filled in (hub.ts's resolveHubUrl once the template is chosen). The revision is
 * percent-encoded; the repo and each path segment of the file keep their slashes.
 */
export function fillHubTemplate(ref: string, t: string, defaultFile: string | undefined, E: ValueErrorClass): string {
  checkHubTemplate(t, E);
  const { repo, revision, file } = parseHubRefWith(ref, defaultFile ?? DEFAULT_HUB_FILE, E);
  const path = file.split('/').map(encodeURIComponent).join('/');
  return t
    .replaceAll('{repo}', repo.split('/').map(encodeURIComponent).join('/'))
    .replaceAll('{revision}', encodeURIComponent(revision))
    .replaceAll('{file}', path);
}
