/**
 * The process around the library, run as users run it: `node dist/cli.js`
 * (built by `npm test`'s pretest step). Signals, exit codes, config errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { closeAll, connectRawCharger, startRawCsms } from '../support/harness.js';

afterEach(closeAll);

/** A config file path that does not exist, so the default /data/options.json of the host never leaks in. */
const NO_FILE_ENV = { CONFIG_FILE: '' };

const run = runCli;

describe('ocpp-splitter process', () => {
  it('serves chargers, and on SIGTERM closes them with 1001 and exits 0 within 10 s', async () => {
    const csms = await startRawCsms();
    const proxy = run([], { ...NO_FILE_ENV, PORT: '0', PRIMARY_CSMS_URL: csms.url });
    const listening = await proxy.waitForLine('proxy listening');
    const charger = await connectRawCharger(`ws://127.0.0.1:${String(listening.port)}/CP-PROC`);
    const primary = await csms.nextPeer();
    charger.socket.send('[2,"p1","Heartbeat",{}]');
    expect((await primary.nextFrame()).data.toString()).toBe('[2,"p1","Heartbeat",{}]');

    const started = Date.now();
    proxy.child.kill('SIGTERM');
    expect(await proxy.exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await charger.closed).code).toBe(1001);
    expect((await primary.closed).code).toBe(1001);
    expect(proxy.lines.some((line) => line.msg === 'proxy stopped')).toBe(true);
  });

  it('SIGINT stops it too', async () => {
    const csms = await startRawCsms();
    const proxy = run(['--port', '0', '--primary', csms.url], NO_FILE_ENV);
    await proxy.waitForLine('proxy listening');
    proxy.child.kill('SIGINT');
    expect((await proxy.exit).code).toBe(0);
  });

  it('a bad config value stops the start with one line naming it, and a non-zero exit', async () => {
    const proxy = run([], { ...NO_FILE_ENV, PORT: 'abc', PRIMARY_CSMS_URL: 'ws://127.0.0.1:1/ocpp' });
    const { code } = await proxy.exit;
    expect(code).not.toBe(0);
    const message = proxy.stderr().trim();
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain('PORT');
    expect(message).toContain('abc');
  });

  it('a missing primary URL is a clear error', async () => {
    const proxy = run([], NO_FILE_ENV);
    expect((await proxy.exit).code).not.toBe(0);
    expect(proxy.stderr()).toMatch(/primary_csms_url is required/);
  });

  it('a config file named explicitly but missing is an error', async () => {
    const proxy = run(['--config', '/nonexistent/ocpp-splitter.json'], { PRIMARY_CSMS_URL: 'ws://127.0.0.1:1/ocpp' });
    expect((await proxy.exit).code).not.toBe(0);
    expect(proxy.stderr()).toContain('/nonexistent/ocpp-splitter.json');
  });

  it('reads a YAML config file, warns about unknown keys, and lets flags win', async () => {
    const csms = await startRawCsms();
    const dir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-cli-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `primary_csms_url: ws://127.0.0.1:1/never\nport: 1\nlog_levle: debug\n`);
    const proxy = run(['--config', file, '--primary', csms.url, '--port', '0'], {});
    const warning = await proxy.waitForLine('unknown option "log_levle" in ' + file + ' (ignored)');
    expect(warning.level).toBe('warn');
    const listening = await proxy.waitForLine('proxy listening');
    expect(listening.port).not.toBe(1);
    proxy.child.kill('SIGTERM');
    expect((await proxy.exit).code).toBe(0);
  });

  it('--help lists the options and their environment variables; --version prints the version', async () => {
    const help = run(['--help'], {});
    expect((await help.exit).code).toBe(0);
    const out = help.lines.map((line) => String(line.msg)).join('\n');
    for (const word of ['--config', '--port', '--primary', '--log-level', 'PRIMARY_CSMS_URL', 'SECONDARY_CSMS_URLS', 'LOG_MAX_MESSAGE_LENGTH', 'DATA_DIR']) {
      expect(out).toContain(word);
    }
    const version = run(['--version'], {});
    expect((await version.exit).code).toBe(0);
    expect(String(version.lines[0]?.msg)).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown flag is a usage error', async () => {
    const proxy = run(['--prot', '9000'], {});
    expect((await proxy.exit).code).toBe(2);
    expect(proxy.stderr()).toContain('--prot');
  });

  it('a port already in use is reported and exits non-zero', async () => {
    const csms = await startRawCsms();
    const proxy = run(['--port', String(csms.port), '--host', '127.0.0.1', '--primary', csms.url], NO_FILE_ENV);
    expect((await proxy.exit).code).toBe(1);
    expect(proxy.lines.some((line) => line.msg === 'cannot listen')).toBe(true);
  });
});
