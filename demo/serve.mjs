// `npm run demo`: builds the demo page (demo/build.mjs) and serves dist/demo/ on 127.0.0.1.
// Headers: COOP same-origin + COEP require-corp, so the page is cross-origin isolated and
// init({ threads: 2 }) can be offered; and a Content-Security-Policy without 'unsafe-eval'
// (script-src 'self' 'wasm-unsafe-eval', worker-src 'self'). --csp=off drops the CSP header,
// --no-isolation the COOP/COEP headers, --port=N picks the port (default 8080, 0 = any free).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildDemo, OUT } from './build.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.map': 'application/json', '.png': 'image/png',
};

/** The CSP the demo is served with: no eval, no inline script, workers only from this origin. */
export const STRICT_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' blob: data:";

/**
 * Serves dist/demo/ on 127.0.0.1; resolves to the http.Server once listening.
 * `csp`: the Content-Security-Policy header (false for none); `isolation`: COOP/COEP headers.
 */
export function serveDemo({ port = 8080, csp = STRICT_CSP, isolation = true } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = join(OUT, normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)));
    if (!path.startsWith(OUT)) return res.writeHead(403).end();
    if (!existsSync(path) || !statSync(path).isFile()) return res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${url.pathname}`);
    const headers = { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' };
    if (csp) headers['content-security-policy'] = csp;
    if (isolation)
      Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' });
    res.writeHead(200, headers);
    res.end(readFileSync(path));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name) => process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=')[1] ?? (process.argv.includes(`--${name}`) ? '' : undefined);
  await buildDemo();
  const server = await serveDemo({
    port: Number(arg('port') ?? 8080),
    csp: arg('csp') === 'off' ? false : STRICT_CSP,
    isolation: arg('no-isolation') === undefined,
  });
  console.log(`wasmcnn demo: http://127.0.0.1:${server.address().port}/  (Ctrl-C to stop)`);
}
