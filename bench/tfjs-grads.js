// tfjs-core 4.22 registers its gradient functions only through the @tensorflow/tfjs union
// package, which is not installed; its ESM sources (dist/register_all_gradients.js) import their
// siblings without file extensions, which Node's ESM loader refuses. This loads them through a
// resolve hook that adds '.js' to relative, extensionless specifiers inside tfjs-core's dist/.
// The gradients land in tfjs's global registry (globalThis._tfGlobals) and call the global engine
// (globalThis._tfengine), so they serve the tfjs-core copy the bench imports.
import { register } from 'node:module';

const HOOK = `
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('.') && context.parentURL && context.parentURL.includes('/@tensorflow/tfjs-core/dist/') && !/\\.(m?js|json)$/.test(specifier)) {
    try { return await next(specifier + '.js', context); } catch { return next(specifier + '/index.js', context); }
  }
  return next(specifier, context);
}`;

let done;
/** Registers tfjs-core's gradient functions (idempotent). */
export function registerTfjsGradients() {
  done ??= (async () => {
    register('data:text/javascript,' + encodeURIComponent(HOOK));
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return done;
}
