/**
 * The container HEALTHCHECK (`node dist/healthcheck.js`) against real proxies (`node dist/cli.js`), configured
 * each way a container can be: flags only, PORT, a config file, port 0. The healthcheck gets the container's
 * environment, never the proxy's flags, and must still probe the port the proxy really uses.
 *
 * Regression (issue 9): `docker run … --primary ws://…` stayed unhealthy ("primary_csms_url is required"), and
 * `--port N` made the healthcheck probe 9000.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config/load.js';
import { RUNTIME_DIR_ENV } from '../../src/runtime/listen-file.js';
import { runCli, type RunningCli } from '../support/cli.js';
import { closeAll, freePort, startRawCsms, temporaryDirectory } from '../support/harness.js';

afterEach(closeAll);

const HEALTHCHECK = new URL('../../dist/healthcheck.js', import.meta.url).pathname;
const execFileAsync = promisify(execFile);

interface HealthResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the healthcheck with only PATH and `env`, as Docker does with the container's environment. */
async function healthcheck(env: Record<string, string>): Promise<HealthResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [HEALTHCHECK], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: unknown; stderr?: unknown };
    return { code: Number(failed.code), stdout: String(failed.stdout), stderr: String(failed.stderr) };
  }
}

/** Starts the proxy and waits until it has written where it listens (it logs that at debug level). */
async function startProxy(args: string[], env: Record<string, string>): Promise<RunningCli> {
  const proxy = runCli([...args, '--log-level', 'debug'], env);
  await proxy.waitForLine('listen address written');
  return proxy;
}

/** The environment the image gives both the proxy and the healthcheck: no config file, a runtime directory. */
function imageEnv(): Record<string, string> {
  return { [ENV_VARS.configFile]: '', [RUNTIME_DIR_ENV]: join(temporaryDirectory('ocpp-splitter-runtime-'), 'run') };
}

describe('the HEALTHCHECK probes the port the running proxy uses', () => {
  it('with the primary and the port given only as flags (PORT in the environment says otherwise)', async () => {
    const csms = await startRawCsms();
    const env = { ...imageEnv(), [ENV_VARS.port]: String(await freePort()) };
    const port = await freePort();
    await startProxy(['--primary', csms.url, '--port', String(port)], env);

    const result = await healthcheck(env);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/^200 \{"status":"ok"/);
    expect(result.stderr).not.toContain('primary_csms_url is required');
  });

  it('with PORT', async () => {
    const csms = await startRawCsms();
    const env = { ...imageEnv(), [ENV_VARS.port]: String(await freePort()), [ENV_VARS.primary]: csms.url };
    await startProxy([], env);
    expect(await healthcheck(env)).toMatchObject({ code: 0 });
  });

  it('with the port in a config file', async () => {
    const csms = await startRawCsms();
    const env = imageEnv();
    const file = join(temporaryDirectory(), 'config.json');
    writeFileSync(file, JSON.stringify({ primary_csms_url: csms.url, port: await freePort() }));
    await startProxy(['--config', file], env);
    expect(await healthcheck(env)).toMatchObject({ code: 0 });
  });

  it('with --port 0 (a port the configuration cannot tell) and a listen address', async () => {
    const csms = await startRawCsms();
    const env = imageEnv();
    await startProxy(['--primary', csms.url, '--port', '0', '--host', '127.0.0.1'], env);
    expect(await healthcheck(env)).toMatchObject({ code: 0 });
  });
});

describe('the HEALTHCHECK says unhealthy, and why', () => {
  it('once the proxy stopped (its listen file is gone)', async () => {
    const csms = await startRawCsms();
    const env = imageEnv();
    const proxy = await startProxy(['--primary', csms.url, '--port', '0'], env);
    const dir = env[RUNTIME_DIR_ENV] ?? '';
    expect(readdirSync(dir)).toEqual([`listen-${String(proxy.child.pid)}.json`]);

    proxy.child.kill('SIGTERM');
    expect((await proxy.exit).code).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    const result = await healthcheck(env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no running ocpp-splitter has written its address to ${dir}`);
  });

  it('when the proxy was killed (a listen file left by a process that is gone is skipped)', async () => {
    const csms = await startRawCsms();
    const env = imageEnv();
    const proxy = await startProxy(['--primary', csms.url, '--port', '0'], env);
    proxy.child.kill('SIGKILL');
    await proxy.exit;
    const result = await healthcheck(env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`process ${String(proxy.child.pid)} is gone`);
  });

  it('before the proxy listens (no runtime directory yet), and without RUNTIME_DIR', async () => {
    const env = imageEnv();
    expect(existsSync(env[RUNTIME_DIR_ENV] ?? '')).toBe(false);
    expect(await healthcheck(env)).toMatchObject({ code: 1, stderr: expect.stringContaining('still starting, or stopped') as unknown });
    expect(await healthcheck({})).toMatchObject({ code: 1, stderr: expect.stringContaining(`${RUNTIME_DIR_ENV} is not set`) as unknown });
  });

  it('a proxy that cannot write its listen file still runs, and says so', async () => {
    const csms = await startRawCsms();
    const file = join(temporaryDirectory(), 'a-file');
    writeFileSync(file, '');
    // A path below a regular file cannot be created.
    const proxy = runCli(['--primary', csms.url, '--port', '0'], { [ENV_VARS.configFile]: '', [RUNTIME_DIR_ENV]: join(file, 'run') });
    await proxy.waitForLine('cannot write the listen file for the healthcheck');
    await proxy.waitForLine('proxy listening');
    proxy.child.kill('SIGTERM');
    expect((await proxy.exit).code).toBe(0);
  });
});
