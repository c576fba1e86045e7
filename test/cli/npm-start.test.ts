/**
 * `npm start` as a user (or a supervisor) runs it: npm, then the shell npm runs the script with, then node.
 *
 * Regression (issue 9): `kill -TERM` on npm's process left the proxy running, re-parented to PID 1: npm passed
 * the signal to its shell, which died without passing it on. The start script now `exec`s node, so npm's
 * signal reaches the proxy; and a Ctrl-C, which reaches the proxy twice (from the terminal and from npm), is
 * one stop request, not "second signal: exit now".
 *
 * `--ignore-scripts` skips prestart's rebuild (npm test's pretest built dist/ already; rebuilding here would
 * rewrite dist/ under the other test files) but still runs the start script itself.
 */
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config/load.js';
import { runProcess, userEnv, type RunningCli } from '../support/cli.js';
import { closeAll, connectRawCharger, startRawCsms } from '../support/harness.js';

afterEach(closeAll);

const ROOT = new URL('../../', import.meta.url);
const packageJson = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { scripts: Record<string, string> };
/** The proxy stops within 10 s of a signal; npm adds a little. */
const STOP_TIMEOUT_MS = 20_000;

/** `npm start -- <args>` in the repository, in a process group of its own (a shell job). */
function npmStart(args: string[]): RunningCli {
  return runProcess('npm', ['start', '--ignore-scripts', '--silent', '--', ...args], {
    cwd: ROOT.pathname,
    env: userEnv({ [ENV_VARS.configFile]: '' }),
    group: true,
  });
}

/** Whether anything still accepts connections on the port. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startedWithCharger(): Promise<{ npm: RunningCli; port: number; closed: Promise<{ code: number }> }> {
  const csms = await startRawCsms();
  const npm = npmStart(['--port', '0', '--host', '127.0.0.1', '--primary', csms.url]);
  const listening = await npm.waitForLine('proxy listening');
  const port = Number(listening.port);
  const charger = await connectRawCharger(`ws://127.0.0.1:${String(port)}/CP-NPM`);
  await csms.nextPeer();
  return { npm, port, closed: charger.closed };
}

describe('npm start', () => {
  it('runs the proxy with exec, so the shell between npm and node passes signals on', () => {
    expect(packageJson.scripts.start).toMatch(/^exec node dist\/cli\.js$/);
    expect(packageJson.scripts.prestart).toContain('npm run build');
  });

  it('SIGTERM to npm\'s process (what a supervisor sends) stops the proxy: chargers get 1001, the port is free', async () => {
    const { npm, port, closed } = await startedWithCharger();
    process.kill(npm.child.pid ?? 0, 'SIGTERM');
    expect(await npm.exit).toEqual({ code: 0, signal: null });
    expect((await closed).code).toBe(1001);
    expect(npm.lines.some((line) => line.msg === 'proxy stopped'), npm.stderr()).toBe(true);
    expect(await portAnswers(port)).toBe(false);
  }, STOP_TIMEOUT_MS);

  it('Ctrl-C (SIGINT to the whole process group) stops it cleanly, once', async () => {
    const { npm, port, closed } = await startedWithCharger();
    process.kill(-(npm.child.pid ?? 0), 'SIGINT');
    expect(await npm.exit).toEqual({ code: 0, signal: null });
    expect((await closed).code).toBe(1001);
    expect(npm.lines.filter((line) => line.msg === 'stopping')).toHaveLength(1);
    expect(npm.lines.some((line) => line.msg === 'second signal: exiting now')).toBe(false);
    expect(npm.lines.some((line) => line.msg === 'proxy stopped')).toBe(true);
    expect(await portAnswers(port)).toBe(false);
  }, STOP_TIMEOUT_MS);

  it('SIGTERM to the whole process group (systemd\'s default KillMode, docker stop of an npm-run container) too', async () => {
    const { npm, closed } = await startedWithCharger();
    process.kill(-(npm.child.pid ?? 0), 'SIGTERM');
    expect(await npm.exit).toEqual({ code: 0, signal: null });
    expect((await closed).code).toBe(1001);
    expect(npm.lines.some((line) => line.msg === 'second signal: exiting now')).toBe(false);
  }, STOP_TIMEOUT_MS);
});
