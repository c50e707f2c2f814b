// The demo page's entry: tabs, the threads toggle (init({ threads: 2 }) on a cross-origin
// isolated page, which demo/serve.mjs serves with COOP/COEP) and errors shown on the page.
import { init } from 'wasmcnn';
import { DigitsTab } from './digits.js';
import { FilesTab } from './files.js';

const $ = (id) => document.getElementById(id);

function showError(e) {
  const s = $('runtime-status');
  s.textContent = `error: ${e?.name ? `${e.name}: ` : ''}${e?.message ?? String(e)}`;
  s.classList.add('error');
  console.error(e);
}

function tabs() {
  const all = [['tab-digits', 'panel-digits'], ['tab-files', 'panel-files']];
  for (const [tab, panel] of all)
    $(tab).addEventListener('click', () => {
      for (const [t, p] of all) {
        $(t).setAttribute('aria-selected', String(t === tab));
        $(p).hidden = p !== panel;
      }
    });
}

async function start() {
  tabs();
  const digits = new DigitsTab();
  const files = new FilesTab();
  const status = $('runtime-status');
  const box = $('threads');
  box.disabled = !globalThis.crossOriginIsolated;
  if (box.disabled) box.parentElement.title = 'needs a cross-origin isolated page (serve with COOP same-origin + COEP require-corp)';
  const apply = async (threads) => {
    status.classList.remove('error');
    status.textContent = 'loading…';
    await init({ threads });
    await digits.load();
    files.reset();
    // what the model got: init warns and falls back to 1 thread when workers cannot start
    const got = digits.threads;
    status.textContent = `${got} thread${got > 1 ? 's' : ''}${got !== threads ? ` (asked for ${threads}: see the console)` : ''} · ${globalThis.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'}`;
    document.body.dataset.ready = String(threads);
  };
  box.addEventListener('change', () => apply(box.checked ? 2 : 1).catch(showError));
  await apply(1);
}

window.addEventListener('error', (e) => showError(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => showError(e.reason));
start().catch(showError);
