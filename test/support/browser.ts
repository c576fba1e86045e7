/**
 * Chromium for the dashboard's browser tests: Debian's /usr/bin/chromium driven by playwright-core (no browser
 * download). CHROMIUM_PATH points elsewhere (e.g. /usr/bin/google-chrome on a GitHub runner). A missing browser
 * fails the tests with how to install it, unless SKIP_BROWSER_TESTS=1 says to skip them.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { onCleanup } from './harness.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Set to 1 to skip the browser tests (where no Chromium can be installed). */
export const SKIP_BROWSER_TESTS = process.env.SKIP_BROWSER_TESTS === '1';

/** The launch flags: headless, no sandbox (CI runs as root), and nothing that phones home. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** Where the tests leave their screenshots (a CI artifact; ignored by git). */
export const SCREENSHOT_DIR = new URL('../../test-results/screenshots/', import.meta.url).pathname;

/** Why Chromium cannot be used, with the fix; null when it can. */
export function chromiumProblem(): string | null {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return null;
  } catch {
    return (
      `The dashboard's browser tests need Chromium at ${CHROMIUM_PATH}, and there is none. ` +
      'Install it with `sudo apt-get install -y chromium` (Debian; .ci/run does this when run as root), ' +
      'point CHROMIUM_PATH at another Chromium or Chrome, or set SKIP_BROWSER_TESTS=1 to skip these tests.'
    );
  }
}

/** Launches headless Chromium, closed by closeAll(). Throws the install hint when there is no Chromium. */
export async function launchChromium(): Promise<Browser> {
  const problem = chromiumProblem();
  if (problem !== null) throw new Error(problem);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  onCleanup(() => browser.close());
  return browser;
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png; returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
