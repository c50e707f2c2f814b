// Model hub references: `hf:owner/repo[@revision][/path/to/file]` resolved to a download URL
// through a URL template. The default template is Hugging Face's file-resolution endpoint,
// https://huggingface.co/{repo}/resolve/{revision}/{file} (documented in the Hugging Face Hub
// docs, "Download files from the Hub"); a mirror or a local server stands in for it through
// setHubTemplate() or the `hubTemplate` read option.
// The parsing and the filling-in live in hubRef.ts (shared with the lazily loaded reader).
import { ValueError } from '../errors';
import { checkHubTemplate, DEFAULT_HUB_FILE, fillHubTemplate, parseHubRefWith, type HubRef } from './hubRef';

export { DEFAULT_HUB_FILE, isHubRef, type HubRef } from './hubRef';

/** Hugging Face's file endpoint: `{repo}`, `{revision}` and `{file}` are filled in. */
export const DEFAULT_HUB_TEMPLATE = 'https://huggingface.co/{repo}/resolve/{revision}/{file}';

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
  if (t !== undefined) checkHubTemplate(t, ValueError);
  template = t ?? DEFAULT_HUB_TEMPLATE;
}

/** The template in force (see {@link setHubTemplate}). */
export function hubTemplate(): string {
  return template;
}

/**
 * Parses `hf:owner/repo`, `hf:owner/repo@revision`, `hf:owner/repo/file` or
 * `hf:owner/repo@revision/path/to/file`.
 *
 * @throws ValueError naming the reference when it does not have that form.
 */
export function parseHubRef(ref: string, defaultFile = DEFAULT_HUB_FILE): HubRef {
  return parseHubRefWith(ref, defaultFile, ValueError);
}

/**
 * The download URL of a hub reference: the template (option, else the one set by
 * {@link setHubTemplate}, else Hugging Face's) with `{repo}`, `{revision}` and `{file}` filled in.
 * The revision is percent-encoded; the repo and each path segment of the file keep their slashes.
 */
export function resolveHubUrl(ref: string, options: { hubTemplate?: string; defaultFile?: string } = {}): string {
  return fillHubTemplate(ref, options.hubTemplate ?? template, options.defaultFile, ValueError);
}
