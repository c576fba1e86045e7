/**
 * The process around the library, run as users run it: `node dist/cli.js`
 * (built by `npm test`'s pretest step). Signals, exit codes, config errors.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, NO_ADMIN, runCli, runProcess, type RunningCli } from '../support/cli.js';
import { closeAll, connectRawCharger, startRawCsms, temporaryDirectory } from '../support/harness.js';

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
    const warning = await proxy.waitForLine(`unknown option "log_levle" in ${file} (ignored): did you mean "log_level"?`);
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

});

/** The one line a failed start writes on stderr; fails the test unless it is exactly one line. */
function oneStderrLine(proxy: RunningCli): string {
  const lines = proxy.stderr().trimEnd().split('\n');
  expect(lines, proxy.stderr()).toHaveLength(1);
  return lines[0] ?? '';
}

/** A secondary is what makes the proxy open its store in DATA_DIR; nothing needs to listen there. */
const WITH_SECONDARY = ['--secondary', 'ws://127.0.0.1:1/never'];
const isRoot = process.getuid?.() === 0;
/** An ordinary user for the permission tests when they run as root, who may write anywhere. */
const UNPRIVILEGED = { uid: 1000, gid: 1000 };
/**
 * Whether that user can run the CLI at all: a clone inside a directory only root may enter (mktemp's 0700)
 * cannot be; the permission tests are then skipped rather than failed for a reason that is not theirs.
 */
const canRunUnprivileged =
  !isRoot ||
  spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(CLI)}, require('fs').constants.R_OK)`], UNPRIVILEGED).status === 0;

function runUnprivileged(args: string[], env: Record<string, string>): RunningCli {
  return runProcess(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...NO_ADMIN, ...env }, ...(isRoot ? UNPRIVILEGED : {}) });
}

describe('ocpp-splitter start-up failures: one line on stderr with the cause and the fix, exit 78', () => {
  it('a port already in use names the port and the fix, with no stack and no JSON', async () => {
    const csms = await startRawCsms();
    const proxy = run(['--port', String(csms.port), '--host', '127.0.0.1', '--primary', csms.url], NO_FILE_ENV);
    expect((await proxy.exit).code).toBe(78);
    const line = oneStderrLine(proxy);
    expect(line).toBe(
      `ocpp-splitter: cannot listen on 127.0.0.1 port ${csms.port}: another program is using it (EADDRINUSE). Stop it, or set PORT / --port / port to a free port`,
    );
    expect(proxy.lines.some((logged) => logged.msg === 'cannot listen' || 'err' in logged)).toBe(false);
  });

  it.skipIf(!canRunUnprivileged || (!isRoot && Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 80))(
    'a privileged port names the limit and the fix (EACCES)',
    async () => {
      const proxy = runUnprivileged(['--port', '80', '--primary', 'ws://127.0.0.1:1/ocpp'], NO_FILE_ENV);
      expect((await proxy.exit).code).toBe(78);
      expect(oneStderrLine(proxy)).toMatch(/^ocpp-splitter: cannot listen on port 80: ports below 1024 need root or CAP_NET_BIND_SERVICE \(EACCES\)\. Set PORT/);
    },
  );

  it('a host that is not an address of this machine says so (EADDRNOTAVAIL)', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a machine, and nothing is sent there (bind only).
    const proxy = run(['--port', '0', '--host', '192.0.2.1', '--primary', 'ws://127.0.0.1:1/ocpp'], NO_FILE_ENV);
    expect((await proxy.exit).code).toBe(78);
    expect(oneStderrLine(proxy)).toMatch(/192\.0\.2\.1 is not an address of this machine \(EADDRNOTAVAIL\)\. Set --host/);
  });

  it('a DATA_DIR that is a file (even as root)', async () => {
    const dir = temporaryDirectory();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const proxy = run(['--port', '0', '--primary', 'ws://127.0.0.1:1/ocpp', ...WITH_SECONDARY], { ...NO_FILE_ENV, DATA_DIR: file });
    expect((await proxy.exit).code).toBe(78);
    expect(oneStderrLine(proxy)).toBe(
      `ocpp-splitter: cannot use the data directory ${file} as uid ${process.getuid?.() ?? ''}: it is a file, not a directory. Set DATA_DIR / --data-dir / data_dir to a directory`,
    );
  });

  it('a DATA_DIR under a file (even as root)', async () => {
    const dir = temporaryDirectory();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const proxy = run(['--port', '0', '--primary', 'ws://127.0.0.1:1/ocpp', ...WITH_SECONDARY, '--data-dir', join(file, 'data')], NO_FILE_ENV);
    expect((await proxy.exit).code).toBe(78);
    expect(oneStderrLine(proxy)).toContain(`: ${file} is a file, not a directory. Set DATA_DIR`);
  });

  it.skipIf(!canRunUnprivileged)('a DATA_DIR the process may not write: names the uid, and the Docker hint (uid 1000)', async () => {
    const dataDir = join(temporaryDirectory(), 'data');
    mkdirSync(dataDir);
    // As root the proxy runs as uid 1000, who may enter but not write a root-owned 755 directory.
    chmodSync(dataDir, isRoot ? 0o755 : 0o555);
    chmodSync(dirname(dataDir), 0o755);
    const uid = isRoot ? UNPRIVILEGED.uid : process.getuid?.();
    const proxy = runUnprivileged(['--port', '0', '--primary', 'ws://127.0.0.1:1/ocpp', ...WITH_SECONDARY], { ...NO_FILE_ENV, DATA_DIR: dataDir });
    expect((await proxy.exit).code).toBe(78);
    const line = oneStderrLine(proxy);
    expect(line).toMatch(new RegExp(`^ocpp-splitter: cannot use the data directory ${dataDir} as uid ${String(uid)}: it is not writable\\. Make it writable for uid ${String(uid)} `));
    expect(line).toContain('in Docker the mounted directory must be writable by uid 1000');
  });

  it.skipIf(!canRunUnprivileged)('a missing DATA_DIR whose parent may not be written', async () => {
    const parent = join(temporaryDirectory(), 'readonly');
    mkdirSync(parent);
    chmodSync(parent, isRoot ? 0o755 : 0o555);
    chmodSync(dirname(parent), 0o755);
    const proxy = runUnprivileged(['--port', '0', '--primary', 'ws://127.0.0.1:1/ocpp', ...WITH_SECONDARY], { ...NO_FILE_ENV, DATA_DIR: join(parent, 'data') });
    expect((await proxy.exit).code).toBe(78);
    expect(oneStderrLine(proxy)).toContain(`: it does not exist, and ${parent} is not writable, so it cannot be created.`);
  });

  it('an unknown key under --strict, with the key meant', async () => {
    const file = join(temporaryDirectory(), 'config.yaml');
    writeFileSync(file, 'primary_csms_url: ws://127.0.0.1:1/ocpp\nsecondary_csms:\n  - url: ws://127.0.0.1:1/s\n    chargermap: []\n');
    const proxy = run(['--config', file, '--strict'], {});
    expect((await proxy.exit).code).toBe(78);
    expect(oneStderrLine(proxy)).toBe(
      `ocpp-splitter: unknown option "secondary_csms[0].chargermap" in ${file}: did you mean "charger_map"? (an error because strict_config is on: fix or remove the key)`,
    );
  });

  it('with workers, the cluster says it once and exits 78 too (port in use, DATA_DIR a file)', async () => {
    const csms = await startRawCsms();
    const inUse = run(['--workers', '2', '--port', String(csms.port), '--host', '127.0.0.1', '--primary', csms.url], NO_FILE_ENV);
    expect((await inUse.exit).code).toBe(78);
    expect(oneStderrLine(inUse)).toContain(`cannot listen on 127.0.0.1 port ${csms.port}: another program is using it (EADDRINUSE)`);

    const file = join(temporaryDirectory(), 'file');
    writeFileSync(file, '');
    const badDir = run(['--workers', '2', '--port', '0', '--primary', csms.url, ...WITH_SECONDARY, '--data-dir', file], NO_FILE_ENV);
    expect((await badDir.exit).code).toBe(78);
    expect(oneStderrLine(badDir)).toContain('it is a file, not a directory');
  });

  it('a config file with a syntax error names the line and the column', async () => {
    const file = join(temporaryDirectory(), 'config.json');
    writeFileSync(file, '{\n  "primary_csms_url": "ws://127.0.0.1:1/ocpp",\n}\n');
    const proxy = run(['--config', file], {});
    expect((await proxy.exit).code).toBe(78);
    expect(oneStderrLine(proxy)).toContain(`cannot parse config file ${file}: invalid JSON: line 3, column 1:`);
  });
});

/** The first stdout line (not JSON: read as text) containing `part`, once it is there. */
async function textLine(proxy: RunningCli, part: string): Promise<string> {
  const find = (): string | undefined => proxy.lines.map((line) => String(line.msg)).find((text) => text.includes(part));
  await expect.poll(find, { timeout: 5000 }).toBeDefined();
  return find() ?? '';
}

describe('ocpp-splitter --log-format pretty', () => {
  it('writes readable lines instead of JSON, with the tag and the fields, and no credentials', async () => {
    const csms = await startRawCsms();
    const proxy = run(['--port', '0', '--primary', `ws://user:csms-secret@127.0.0.1:${csms.port}/ocpp?token=query-secret`, '--log-format', 'pretty'], {
      ...NO_FILE_ENV,
      NO_COLOR: '1',
    });
    const listening = await textLine(proxy, 'proxy listening');
    expect(listening).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: \[proxy\] proxy listening \{"port":\d+,/);
    const port = /"port":(\d+)/.exec(listening)?.[1];
    await connectRawCharger(`ws://127.0.0.1:${String(port)}/CP-PRETTY?password=charger-secret`);
    const started = await textLine(proxy, 'session started');
    expect(started).toContain('INFO: [CP-PRETTY] session started');
    expect(started).toContain('"path":"/CP-PRETTY"');
    proxy.child.kill('SIGTERM');
    expect((await proxy.exit).code).toBe(0);
    const out = proxy.lines.map((line) => String(line.msg)).join('\n');
    for (const secret of ['csms-secret', 'query-secret', 'charger-secret']) expect(out).not.toContain(secret);
    // eslint-disable-next-line no-control-regex -- ANSI colour codes are what this looks for
    expect(out).not.toMatch(/\u001b\[/);
  });
});
