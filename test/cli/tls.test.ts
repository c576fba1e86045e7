/**
 * TLS as the process runs it (`node dist/cli.js`): a TLS file that cannot be used stops the start with one line
 * naming the option and exit 78 (once, also with workers), and the container's HEALTHCHECK follows the port to
 * https.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config/load.js';
import { RUNTIME_DIR_ENV } from '../../src/runtime/listen-file.js';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { NO_ADMIN, runCli } from '../support/cli.js';
import { closeAll, startRawCsms, temporaryDirectory } from '../support/harness.js';

afterEach(closeAll);

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.remove());

const HEALTHCHECK = new URL('../../dist/healthcheck.js', import.meta.url).pathname;
const execFileAsync = promisify(execFile);

function configFile(content: Record<string, unknown>): string {
  const file = join(temporaryDirectory(), 'config.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('a TLS file that cannot be used', () => {
  it('stops the start with one line naming the option and the file, exit 78', async () => {
    const server = pki.issue('cli-server', { cn: 'localhost', usage: 'server' });
    const missing = join(pki.dir, 'no-such-key.pem');
    const file = configFile({ primary_csms_url: 'ws://127.0.0.1:9/ocpp', port: 0, tls_cert_file: server.cert, tls_key_file: missing });
    const proxy = runCli(['--config', file], { ...NO_ADMIN, [ENV_VARS.configFile]: '' });
    const { code } = await proxy.exit;
    expect(code).toBe(78);
    expect(proxy.stderr()).toBe(`ocpp-splitter: tls_key_file: ${missing}: cannot read it: ENOENT: no such file or directory, open '${missing}'\n`);
  });

  it('is said once by the cluster primary, before any worker is forked', async () => {
    const server = pki.issue('cli-server-2', { cn: 'localhost', usage: 'server' });
    const other = pki.issue('cli-other', { cn: 'localhost', usage: 'server' });
    const file = configFile({ primary_csms_url: 'ws://127.0.0.1:9/ocpp', port: 0, workers: 2, tls_cert_file: server.cert, tls_key_file: other.key });
    const proxy = runCli(['--config', file], { ...NO_ADMIN, [ENV_VARS.configFile]: '' });
    expect((await proxy.exit).code).toBe(78);
    const lines = proxy.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ocpp-splitter: tls_cert_file \(.*\) and tls_key_file \(.*\): not usable together: .*mismatch/);
  });
});

describe('the HEALTHCHECK on a TLS port', () => {
  it('probes /healthz over https (the record says the port speaks TLS)', async () => {
    const csms = await startRawCsms();
    const server = pki.issue('cli-health', { cn: 'proxy.example.com', usage: 'server' });
    const env = { ...NO_ADMIN, [ENV_VARS.configFile]: '', [RUNTIME_DIR_ENV]: join(temporaryDirectory('ocpp-splitter-runtime-'), 'run') };
    const file = configFile({ primary_csms_url: csms.url, port: 0, tls_cert_file: server.cert, tls_key_file: server.key });
    const proxy = runCli(['--config', file, '--log-level', 'debug'], env);
    await proxy.waitForLine('listen address written');
    const { stdout } = await execFileAsync(process.execPath, [HEALTHCHECK], { env: { PATH: process.env.PATH ?? '', ...env } });
    expect(stdout).toMatch(/^200 \{"status":"ok"/);
    proxy.child.kill('SIGTERM');
    expect((await proxy.exit).code).toBe(0);
  });
});
