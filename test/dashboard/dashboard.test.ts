/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against a real proxy: a raw
 * charger, a fake primary CSMS and a fake secondary, the admin listener serving the dashboard built from
 * dashboard/ by scripts/build-dashboard.js. Screenshots land in test-results/screenshots/; with
 * UPDATE_SCREENSHOT=1 the overview is also written to docs/dashboard.png for the README.
 */
import { execFile } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { once } from 'node:events';
import { copyFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLL_INTERVAL_MS } from '../../dashboard/src/rates.js';
import { createAdminServer, type AdminServer } from '../../src/admin/server.js';
import { chromiumProblem, launchChromium, saveScreenshot, SKIP_BROWSER_TESTS } from '../support/browser.js';
import {
  answers16,
  closeAll,
  connectRawCharger,
  exchange,
  ocpp16,
  onCleanup,
  startProxy,
  startRawCsms,
  temporaryDirectory,
  type RawPeer,
  type StartedProxy,
  upgradeStatus,
} from '../support/harness.js';

const ROOT = new URL('../../', import.meta.url);
const CHARGER = 'CP-1';
const SECONDARY = 'backup';
/** Long enough for a poll (every 2 s) or two on a slow CI machine; never a sleep, always a condition. */
const UI_TIMEOUT_MS = 8_000;
/** Home Assistant's ingress serves an add-on's web UI under a path like this one. */
const INGRESS_PREFIX = '/api/hassio_ingress/abc123/';
/** Between the heartbeats of the README screenshot's traffic (times 1 to 11). */
const TRAFFIC_PACE_MS = 40;
/** Frames-per-second samples on the README screenshot's chart: one per poll. */
const README_RATE_SAMPLES = 10;
const README_SCREENSHOT_TIMEOUT_MS = README_RATE_SAMPLES * POLL_INTERVAL_MS + 2 * UI_TIMEOUT_MS;
const UPDATE_SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1';
const ADMIN_TOKEN = 'dashboard-test-token-0123456789';

interface Stack {
  readonly proxy: StartedProxy;
  readonly admin: AdminServer;
  /** http://127.0.0.1:<admin port> */
  readonly origin: string;
  readonly charger: RawPeer;
}

let browser: Browser;
let stack: Stack;
let dashboardDir: string;
let mid = 0;
const nextId = (): string => `dash-${String((mid += 1))}`;

/** The dashboard built as `npm run build` builds it, into a directory of this run. */
async function buildDashboard(): Promise<string> {
  const outdir = join(temporaryDirectory('ocpp-splitter-dashboard-'), 'dashboard');
  await promisify(execFile)(process.execPath, [new URL('scripts/build-dashboard.js', ROOT).pathname, '--outdir', outdir]);
  return outdir;
}

async function startAdmin(proxy: StartedProxy, overrides: { admin_token?: string } = {}): Promise<{ admin: AdminServer; origin: string }> {
  const admin = createAdminServer({
    proxy: proxy.proxy,
    config: { ...proxy.config, admin_port: 0, admin_host: '127.0.0.1', ...overrides },
    log: proxy.logs.logger,
    dashboardDir,
  });
  const address = await admin.listen();
  onCleanup(() => admin.close());
  return { admin, origin: `http://127.0.0.1:${String(address.port)}` };
}

/** A proxy with one secondary and its admin listener, and a charger that booted through it. */
async function startStack(): Promise<Stack> {
  const primary = await startRawCsms({ answer: answers16(1) });
  const secondary = await startRawCsms({ answer: answers16(2) });
  const proxy = await startProxy(primary.url, { secondary_csms: [{ name: SECONDARY, url: secondary.url }] });
  // The admin listener observes from its creation on: before the charger connects.
  const { admin, origin } = await startAdmin(proxy);
  // A charger without an identity: a refused handshake for the outcomes chart.
  expect((await upgradeStatus(proxy.url(''))).status).toBe(400);
  const charger = await connectRawCharger(proxy.url(CHARGER));
  await exchange(charger, ocpp16.boot(nextId()));
  await secondary.nextPeer();
  return { proxy, admin, origin, charger };
}

/** A new page that records every URL it requests. */
async function openPage(colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, colorScheme });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  onCleanup(() => page.close());
  return { page, requests };
}

/** Waits until the element with this test id shows exactly `text`. */
async function expectText(page: Page, testId: string, text: string | RegExp): Promise<void> {
  await page.getByTestId(testId).filter({ hasText: typeof text === 'string' ? new RegExp(`^\\s*${text}\\s*$`) : text }).first().waitFor({ timeout: UI_TIMEOUT_MS });
}

/** Every request of the page went to `origin` (under `prefix`): nothing from a CDN, nothing elsewhere. */
function expectOnlyOwnRequests(requests: readonly string[], origin: string, prefix = '/'): void {
  const remote = requests.filter((url) => !url.startsWith('data:'));
  expect(remote.length).toBeGreaterThan(3);
  for (const url of remote) expect(url.startsWith(`${origin}${prefix}`), url).toBe(true);
}

/** A loopback reverse proxy that serves `target` under `prefix` and strips it, as Home Assistant's ingress does. */
async function startPrefixProxy(target: string, prefix: string): Promise<string> {
  const server: Server = createServer((request, response) => {
    const url = request.url ?? '/';
    if (!url.startsWith(prefix)) {
      response.writeHead(404).end();
      return;
    }
    const upstream = httpRequest(
      `${target}/${url.slice(prefix.length)}`,
      { method: request.method, headers: { ...request.headers, host: new URL(target).host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

/**
 * docs/dashboard.png, the README's picture of the overview: heartbeats at a varying pace until the
 * frames-per-second chart has README_RATE_SAMPLES points.
 */
async function writeReadmeScreenshot(page: Page): Promise<void> {
  let sending = true;
  const traffic = (async () => {
    for (let i = 0; sending; i += 1) {
      await exchange(stack.charger, ocpp16.heartbeat(nextId()));
      // Pacing the traffic, not waiting for anything: phases of 8 heartbeats, each phase slower than the last.
      await delay(TRAFFIC_PACE_MS * (1 + 2 * (Math.floor(i / 8) % 6)));
    }
  })();
  try {
    // One sample per poll, so the count passes through every value and stays on each for a poll interval.
    await page.locator(`[data-testid=frames-sparkline][data-samples="${String(README_RATE_SAMPLES)}"]`).waitFor({
      timeout: README_SCREENSHOT_TIMEOUT_MS - UI_TIMEOUT_MS,
    });
  } finally {
    sending = false;
    await traffic;
  }
  copyFileSync(await saveScreenshot(page, 'overview'), new URL('docs/dashboard.png', ROOT));
}

/** Why the shared set-up failed: each test fails with it (see browserTest). */
let setupFailure: Error | undefined;

/**
 * A browser test: without Chromium it fails with how to install it, and after a failed set-up with that
 * failure. (Were beforeAll to throw, vitest would report the tests as skipped, and the summary line CI
 * reads would show no failure.)
 */
function browserTest(name: string, test: () => Promise<void>, timeoutMs?: number): void {
  it(
    name,
    async () => {
      const problem = chromiumProblem();
      if (problem !== null) throw new Error(problem);
      if (setupFailure !== undefined) throw setupFailure;
      await test();
    },
    timeoutMs,
  );
}

describe.skipIf(SKIP_BROWSER_TESTS)('dashboard (Chromium)', () => {
  beforeAll(async () => {
    if (chromiumProblem() !== null) return;
    try {
      dashboardDir = await buildDashboard();
      browser = await launchChromium();
      stack = await startStack();
    } catch (error) {
      setupFailure = error instanceof Error ? error : new Error(String(error)); // thrown by every test
    }
  });
  afterAll(closeAll);

  browserTest(
    'overview: counts one charger and one secondary, lists both, loads nothing from elsewhere',
    async () => {
      const { page, requests } = await openPage();
      await page.goto(`${stack.origin}/`);
      await expectText(page, 'count-chargers', '1');
      await expectText(page, 'count-secondaries', '1');
      await page.getByTestId(`charger-row-${CHARGER}`).waitFor({ timeout: UI_TIMEOUT_MS });
      await expectText(page, `secondary-state-${SECONDARY}`, 'open');
      await expectText(page, `link-state-${CHARGER}-${SECONDARY}`, 'open');
      expect(await page.getByTestId(`charger-row-${CHARGER}`).textContent()).toContain('ocpp1.6');
      await page.getByTestId('handshake-bars').filter({ hasText: 'accepted' }).waitFor({ timeout: UI_TIMEOUT_MS });
      if (UPDATE_SCREENSHOT) await writeReadmeScreenshot(page);
      else await saveScreenshot(page, 'overview');
      expectOnlyOwnRequests(requests, stack.origin);
    },
    UPDATE_SCREENSHOT ? README_SCREENSHOT_TIMEOUT_MS : undefined,
  );

  browserTest('charger page: a Heartbeat the charger sends appears live, on each leg, its body pretty-printed', async () => {
    const { page } = await openPage('dark');
    await page.goto(`${stack.origin}/`);
    await page.getByRole('link', { name: CHARGER }).click();
    expect(new URL(page.url()).hash).toBe(`#/chargers/${CHARGER}`);
    await expectText(page, 'stream-state', 'live');
    await expectText(page, 'charger-protocol', 'ocpp1.6');
    // The stream is live: what arrives from now on comes through it (the recent list starts with this first look).
    const heartbeat = nextId();
    await exchange(stack.charger, ocpp16.heartbeat(heartbeat));

    const rows = page.getByTestId('frame-row').filter({ hasText: heartbeat });
    const fromCharger = rows.filter({ has: page.getByTestId('frame-leg').filter({ hasText: /^charger$/ }) }).filter({ hasText: 'Heartbeat' });
    await fromCharger.first().waitFor({ timeout: UI_TIMEOUT_MS });
    await rows.filter({ has: page.getByTestId('frame-leg').filter({ hasText: /^primary$/ }) }).first().waitFor({ timeout: UI_TIMEOUT_MS });

    await fromCharger.first().click();
    await expectText(page, 'frame-body', new RegExp(`"${heartbeat}",\\s*"Heartbeat"`));

    // The filter narrows the list; pausing holds new frames back until resumed.
    await page.getByTestId('frame-filter').fill(heartbeat);
    await page.getByTestId('frame-row').filter({ hasNotText: heartbeat }).first().waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    expect(await rows.count()).toBeGreaterThanOrEqual(4); // charger and primary, CALL and CALLRESULT
    await page.getByTestId('frame-filter').fill('');
    await page.getByTestId('frames-pause').click();
    const held = nextId();
    await exchange(stack.charger, ocpp16.heartbeat(held));
    await expectText(page, 'frames-pause', /Resume \([1-9]\d* new\)/);
    expect(await page.getByTestId('frame-row').filter({ hasText: held }).count()).toBe(0);
    await page.getByTestId('frames-pause').click();
    await page.getByTestId('frame-row').filter({ hasText: held }).first().waitFor({ timeout: UI_TIMEOUT_MS });
    await saveScreenshot(page, 'charger-page');
  });

  browserTest('pausing the secondary shows it paused on the overview and its page, and the proxy has paused it', async () => {
    const { page } = await openPage();
    await page.goto(`${stack.origin}/`);
    await page.getByTestId(`pause-secondary-${SECONDARY}`).click();
    await expectText(page, `secondary-state-${SECONDARY}`, 'paused');
    await page.getByTestId(`resume-secondary-${SECONDARY}`).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(stack.proxy.proxy.secondaries().find((secondary) => secondary.label === SECONDARY)?.paused).toBe(true);
    await saveScreenshot(page, 'secondary-paused');

    await page.getByRole('link', { name: SECONDARY, exact: true }).click();
    expect(new URL(page.url()).hash).toBe(`#/secondaries/${SECONDARY}`);
    await expectText(page, `secondary-state-${SECONDARY}`, 'paused');
    await page.getByTestId('backlog-sparkline').waitFor({ timeout: UI_TIMEOUT_MS });
    await saveScreenshot(page, 'secondary-page');

    await page.getByTestId(`resume-secondary-${SECONDARY}`).click();
    await expectText(page, `secondary-state-${SECONDARY}`, 'open');
    expect(stack.proxy.proxy.secondaries().find((secondary) => secondary.label === SECONDARY)?.paused).toBe(false);
  });

  browserTest('works under a path prefix (Home Assistant ingress): assets, API and live frames all through the prefix', async () => {
    const ingress = await startPrefixProxy(stack.origin, INGRESS_PREFIX);
    const { page, requests } = await openPage();
    await page.goto(`${ingress}${INGRESS_PREFIX}`);
    await expectText(page, 'count-chargers', '1');
    await page.getByRole('link', { name: CHARGER }).click();
    await expectText(page, 'stream-state', 'live');
    const heartbeat = nextId();
    await exchange(stack.charger, ocpp16.heartbeat(heartbeat));
    await page.getByTestId('frame-row').filter({ hasText: heartbeat }).first().waitFor({ timeout: UI_TIMEOUT_MS });
    expect(new URL(page.url()).pathname).toBe(INGRESS_PREFIX);
    expectOnlyOwnRequests(requests, ingress, INGRESS_PREFIX);
    await saveScreenshot(page, 'ingress');
  });

  browserTest('asks for the token when the API answers 401, and sends it from then on', async () => {
    const { origin } = await startAdmin(stack.proxy, { admin_token: ADMIN_TOKEN });
    const { page } = await openPage();
    await page.goto(`${origin}/`);
    await page.getByTestId('token-form').waitFor({ timeout: UI_TIMEOUT_MS });
    await saveScreenshot(page, 'token-form');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page, 'count-chargers', '1');
    await page.getByTestId('token-form').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
  });

  // Last: it ends the charger's session.
  browserTest('disconnect asks first, then closes the charger (1001) and the page says it is away', async () => {
    const { page } = await openPage();
    await page.goto(`${stack.origin}/#/chargers/${CHARGER}`);
    await page.getByTestId('disconnect').click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('disconnect').click();
    await page.getByTestId('disconnect-confirm').click();
    expect((await stack.charger.closed).code).toBe(1001);
    await page.getByTestId('charger-away').waitFor({ timeout: UI_TIMEOUT_MS });
    await saveScreenshot(page, 'charger-disconnected');
    await page.getByRole('link', { name: 'Overview' }).click();
    await expectText(page, 'count-chargers', '0');
  });
});
