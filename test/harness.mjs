// Shared by the standalone Chromium checks (test/browser, test/image, test/demo, test/consumers):
// a pass/fail tally ending in the `name: N passed, N failed` line CI reads, and Debian's Chromium
// (never a downloaded browser) launched headless, or a printed skip where it is missing outside CI.
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** check(ok, what) prints one line and counts it; finish(extra) prints the closing line and exits. */
export function tally(name) {
  let passed = 0;
  let failed = 0;
  return {
    check(ok, what) {
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
      if (ok) passed++;
      else failed++;
    },
    finish(extra = '') {
      console.log(`${name}: ${passed} passed, ${failed} failed${extra}`);
      process.exit(failed ? 1 : 0);
    },
  };
}

/** Exits with a printed skip when Chromium is missing (a failure under CI, which installs it). */
export function requireChromium(name) {
  if (existsSync(CHROMIUM)) return;
  const msg = `${name}: Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI) {
    console.error(msg);
    process.exit(1);
  }
  console.log(`${msg}; skipped`);
  console.log(`${name}: 0 passed, 0 failed, 1 skipped`);
  process.exit(0);
}

/** Headless Chromium through playwright-core. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}
