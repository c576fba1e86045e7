/**
 * The benchmark must keep working: its smoke mode runs every scenario briefly
 * (a real proxy process, real sockets) and writes its JSON. The figures are not
 * asserted — speed is measured by `npm run bench`, never by a timed test.
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
  const report = JSON.parse(readFileSync(json, 'utf8')) as { results: Array<{ name: string; callsPerSecond: number; mode: string; secondaries: number }> };
  expect(report.results.map((row) => row.name)).toEqual(
    ['shared', 'own-core'].flatMap((layout) =>
      [1, 5].flatMap((n) => [`${layout}: direct ×${n}`, `${layout}: proxy ×${n}`, `${layout}: proxy+2sec ×${n}`]),
    ),
  );
  for (const row of report.results) expect(row.callsPerSecond).toBeGreaterThan(0);
}, 180_000);
