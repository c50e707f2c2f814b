// Model hub references: `hf:owner/repo[@revision][/path/to/file]` resolved to a download URL
// through a URL template. The default template is Hugging Face's file-resolution endpoint,
// https://huggingface.co/{repo}/resolve/{revision}/{file} (documented in the Hugging Face Hub
// docs, "Download files from the Hub"); a mirror or a local server stands in for it through
// setHubTemplate() or the `hubTemplate` read option.
import { ValueError } from '../errors';

/** Hugging Face's file endpoint: `{repo}`, `{revision}` and `{file}` are filled in. */
export const DEFAULT_HUB_TEMPLATE = 'https://huggingface.co/{repo}/resolve/{revision}/{file}';

/** The file a hub reference names when it names none. */
export const DEFAULT_HUB_FILE = 'model.safetensors';

let template = DEFAULT_HUB_TEMPLATE;

/**
 * Sets the URL template `hf:` references resolve through (for every later load), e.g.
 * `'http://127.0.0.1:8080/{repo}/resolve/{revision}/{file}'` for a local mirror. It must contain
 * `{repo}` and `{file}`; `{revision}` is optional. Call with no argument to restore the default
 * ({@link DEFAULT_HUB_TEMPLATE}).
 *
 * @throws ValueError if the template lacks `{repo}` or `{file}`.
 */
export function setHubTemplate(t?: string): void {
  if (t !== undefined) checkTemplate(t);
  template = t ?? DEFAULT_HUB_TEMPLATE;
}

/** The template in force (see {@link setHubTemplate}). */
export function hubTemplate(): string {
  return template;
}

function checkTemplate(t: string): void {
  if (typeof t !== 'string' || !t.includes('{repo}') || !t.includes('{file}'))
    throw new ValueError(`hub URL template ${JSON.stringify(t)} must contain {repo} and {file} (and may contain {revision})`);
}

/** A parsed `hf:` reference. */
export interface HubRef {
  /** `owner/name` */
  repo: string;
  /** branch, tag or commit; `main` when not given */
  revision: string;
  /** path of the file inside the repository */
  file: string;
}

const HUB_RE = /^hf:([A-Za-z0-9][\w.-]*)\/([\w.-]+)(?:@([^/\s]+))?(?:\/(.+))?$/;

/** True for strings that look like a hub reference (`hf:` prefix). */
export function isHubRef(s: string): boolean {
  return s.startsWith('hf:');
}

/**
 * Parses `hf:owner/repo`, `hf:owner/repo@revision`, `hf:owner/repo/file` or
 * `hf:owner/repo@revision/path/to/file`.
 *
 * @throws ValueError naming the reference when it does not have that form.
 */
export function parseHubRef(ref: string, defaultFile = DEFAULT_HUB_FILE): HubRef {
  const m = HUB_RE.exec(ref);
  if (!m || (m[4] !== undefined && m[4].split('/').some((s) => s === '' || s === '.' || s === '..')))
    throw new ValueError(
      `hub reference ${JSON.stringify(ref)} is not of the form hf:owner/repo[@revision][/file] (e.g. hf:timm/resnet50.a1_in1k)`,
    );
  return { repo: `${m[1]}/${m[2]}`, revision: m[3] ?? 'main', file: m[4] ?? defaultFile };
}

/**
 * The download URL of a hub reference: the template (option, else the one set by
 * {@link setHubTemplate}, else Hugging Face's) with `{repo}`, `{revision}` and `{file}` filled in.
 * The revision is percent-encoded; the repo and each path segment of the file keep their slashes.
 */
export function resolveHubUrl(ref: string, options: { hubTemplate?: string; defaultFile?: string } = {}): string {
  const t = options.hubTemplate ?? template;
  checkTemplate(t);
  const { repo, revision, file } = parseHubRef(ref, options.defaultFile);
  const path = file.split('/').map(encodeURIComponent).join('/');
  return t
    .replaceAll('{repo}', repo.split('/').map(encodeURIComponent).join('/'))
    .replaceAll('{revision}', encodeURIComponent(revision))
    .replaceAll('{file}', path);
}
