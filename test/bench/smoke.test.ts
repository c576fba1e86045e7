/**
 * The benchmark must keep working: its smoke mode runs every scenario briefly
 * (a real proxy process, real sockets; the admin-listener rows once) and
 * writes its JSON. The figures are not
 * asserted — speed is measured by `npm run bench`, never by a timed test; nor are
 * the locked-store PASS/FAIL verdicts, only that the scenario ran.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { closeAll, temporaryDirectory } from '../support/harness.js';

afterEach(closeAll);

it('npm run bench -- --smoke runs every scenario and writes its results', async () => {
  const json = `${temporaryDirectory()}/bench.json`;
  const root = new URL('../..', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)('npm', ['run', 'bench', '--silent', '--', '--smoke', '--json', json], { cwd: root, timeout: 120_000 });
  expect(stdout).toContain('calls/s');
  expect(stdout).toContain('CPU µs/call');
  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    results: Array<{ name: string; callsPerSecond: number; mode: string; secondaries: number; proxyCpuMicrosPerCall?: number; admin?: string; adminScrapes?: number; sseEvents?: number }>;
    lockedStore?: { callsSent: number; duringLock: { calls: number }; deliveries: unknown[] };
  };
  // The admin-listener rows run once, at the last layout and size.
  const rows = (layout: string, n: number): string[] =>
    layout === 'own-core' && n === 5
      ? [`direct ×${n}`, `proxy ×${n}`, `proxy+admin ×${n}`, `proxy+admin+sse ×${n}`, `proxy+2sec ×${n}`, `proxy+2sec+admin ×${n}`, `proxy+2sec in-memory ×${n}`]
      : [`direct ×${n}`, `proxy ×${n}`, `proxy+2sec ×${n}`, `proxy+2sec in-memory ×${n}`];
  expect(report.results.map((row) => row.name)).toEqual(['shared', 'own-core'].flatMap((layout) => [1, 5].flatMap((n) => rows(layout, n).map((row) => `${layout}: ${row}`))));
  for (const row of report.results) {
    expect(row.callsPerSecond).toBeGreaterThan(0);
    if (row.mode === 'proxy') expect(row.proxyCpuMicrosPerCall).toBeGreaterThan(0);
    // Each admin row really scraped /metrics (the scraper fails the run on a bad answer), and the SSE row read events.
    if (row.admin !== undefined) expect(row.adminScrapes).toBeGreaterThan(0);
    if (row.admin === 'metrics+events') expect(row.sseEvents).toBeGreaterThan(0);
  }
  expect(stdout).toContain('CPU ÷ no admin');
  expect(stdout).toMatch(/^(MET {4}|NOT MET) \[own-core\] 5 charger\(s\) CPU per call, admin listener .* vs none, no secondary/m);
  expect(stdout).toMatch(/^(MET {4}|NOT MET) \[own-core\] 5 charger\(s\) CPU per call, admin listener .* vs none, 2 durable secondaries/m);
  expect(report.lockedStore?.callsSent).toBeGreaterThan(0);
  expect(report.lockedStore?.duringLock.calls).toBeGreaterThan(0);
  expect(report.lockedStore?.deliveries).toHaveLength(2);
  expect(stdout).toMatch(/^(PASS|FAIL) locked store: charger ↔ primary p99 during the lock/m);
  expect(stdout).toMatch(/^(PASS|FAIL) locked store: every CALL reached every secondary/m);
}, 180_000);
