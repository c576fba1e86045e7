/**
 * The published package, as a user gets it: `npm pack`, then the container image's own install step (taken
 * from the Dockerfile and run as it is) into an empty folder, then `npx ocpp-splitter`. The install compiles
 * the native addons (better-sqlite3, bufferutil) when no prebuilt binary fits: about a minute.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config/load.js';
import { RUNTIME_DIR_ENV } from '../../src/runtime/listen-file.js';
import { runProcess, userEnv, type RunningCli } from '../support/cli.js';
import { closeAll, connectRawCharger, freePort, startRawCsms } from '../support/harness.js';
import { readDockerfile } from './dockerfile.js';

const INSTALL_TIMEOUT_MS = 240_000;
const PROCESS_TIMEOUT_MS = 30_000;
const ROOT = new URL('../../', import.meta.url);
const rootPath = ROOT.pathname;
const packageJson = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as {
  name: string;
  version: string;
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** Where the Dockerfile's build stage puts the packed tarball; the test substitutes its own. */
const IMAGE_TARBALL = '/tmp/ocpp-splitter.tgz';

const execFileAsync = promisify(execFile);

/** The build stage's RUN right after `WORKDIR /opt/ocpp-splitter`: how the image installs the package. */
function imageInstallStep(): string {
  const instructions = readDockerfile(new URL('Dockerfile', ROOT));
  const workdir = instructions.findIndex((step) => step.keyword === 'WORKDIR' && step.args === '/opt/ocpp-splitter');
  const install = instructions[workdir + 1];
  if (install?.keyword !== 'RUN' || !install.args.includes(IMAGE_TARBALL)) {
    throw new Error('Dockerfile: expected `RUN … npm install … /tmp/ocpp-splitter.tgz` after WORKDIR /opt/ocpp-splitter');
  }
  return install.args;
}

let work = '';
let app = '';
let tarball = '';
let packedFiles: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ocpp-splitter-pack-'));
  // dist/ is already built (npm test's pretest, or `npm run build`); --ignore-scripts skips prepack's rebuild
  // so the other test files, which run dist/, never see it half-written.
  const { stdout } = await execFileAsync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: rootPath,
    env: userEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (packed === undefined) throw new Error(`npm pack printed no package: ${stdout}`);
  tarball = join(work, packed.filename);
  packedFiles = packed.files.map((file) => file.path).sort();

  app = join(work, 'app');
  mkdirSync(app);
  await execFileAsync('sh', ['-c', imageInstallStep().replaceAll(IMAGE_TARBALL, tarball)], {
    cwd: app,
    env: userEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});
afterEach(closeAll);

type Running = RunningCli;

/** Starts a command in the installed app folder; `group` makes it a process group, as a shell job is. */
function start(command: string, args: string[], env: Record<string, string> = {}, group = false): Running {
  return runProcess(command, args, { cwd: app, env: userEnv(env), group });
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

describe('npm pack', () => {
  it('ships dist (code and types, no tests, no source maps), the docs, the config schema and examples; nothing else', () => {
    const extras = packedFiles.filter((path) => !path.startsWith('dist/'));
    expect(extras).toEqual([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'config.example.json',
      'config.example.yaml',
      'config.schema.json',
      'package.json',
    ]);
    const dist = packedFiles.filter((path) => path.startsWith('dist/'));
    // The dashboard's built assets ship beside the code; nothing else that is not JavaScript or its types.
    const dashboard = ['dist/dashboard/app.css', 'dist/dashboard/app.js', 'dist/dashboard/index.html'];
    expect(dist).toEqual(expect.arrayContaining(dashboard));
    expect(dist.filter((path) => !/\.(js|d\.ts)$/.test(path) && !dashboard.includes(path))).toEqual([]);
    expect(dist.filter((path) => /\.(test|spec)\.|(^|\/)(test|tests|bench)\//i.test(path))).toEqual([]);
    // Every module of src/ is there, compiled, with its types.
    const sources = allFiles(join(rootPath, 'src'))
      .filter((path) => path.endsWith('.ts'))
      .map((path) => relative(join(rootPath, 'src'), path).replace(/\.ts$/, ''));
    for (const source of sources) {
      expect(dist, source).toContain(`dist/${source}.js`);
      expect(dist, source).toContain(`dist/${source}.d.ts`);
    }
  });

  it('builds dist before packing (prepack), so a release can never ship stale code', () => {
    expect(packageJson.scripts.prepack).toMatch(/npm run build/);
  });
});

describe('the package installed into an empty folder', () => {
  it('installs with production dependencies only and the command on the PATH of npx', () => {
    const modules = readdirSync(join(app, 'node_modules'));
    expect(modules).toContain('ocpp-splitter');
    for (const devDependency of Object.keys(packageJson.devDependencies)) {
      expect(modules, devDependency).not.toContain(devDependency.split('/')[0]);
    }
    expect(existsSync(join(app, 'node_modules', '.bin', 'ocpp-splitter'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'ocpp-splitter', 'config.schema.json'))).toBe(true);
  });

  it('`npx ocpp-splitter --version` and `--help`', async () => {
    const version = await execFileAsync('npx', ['ocpp-splitter', '--version'], { cwd: app, env: userEnv() });
    expect(version.stdout.trim()).toBe(packageJson.version);

    const help = await execFileAsync('npx', ['ocpp-splitter', '--help'], { cwd: app, env: userEnv() });
    for (const flag of ['--config', '--port', '--primary', '--secondary', '--log-level', '--data-dir', '--version', '--help']) {
      expect(help.stdout).toContain(flag);
    }
    for (const name of Object.values(ENV_VARS)) expect(help.stdout).toContain(name);
  });

  it('`npx ocpp-splitter --port 0 --primary …` proxies a charger; Ctrl-C stops it cleanly', async () => {
    const csms = await startRawCsms();
    const proxy = start('npx', ['ocpp-splitter', '--port', '0', '--primary', csms.url], { [ENV_VARS.configFile]: '' }, true);
    const listening = await proxy.waitForLine('proxy listening');
    const charger = await connectRawCharger(`ws://127.0.0.1:${String(listening.port)}/CP-NPX`);
    const primary = await csms.nextPeer();
    charger.socket.send('[2,"n1","Heartbeat",{}]');
    expect((await primary.nextFrame()).data.toString()).toBe('[2,"n1","Heartbeat",{}]');

    // Ctrl-C in a terminal: SIGINT to the whole foreground process group (npm and the proxy).
    process.kill(-(proxy.child.pid ?? 0), 'SIGINT');
    await proxy.exit;
    expect(proxy.lines.some((line) => line.msg === 'proxy stopped'), proxy.stderr()).toBe(true);
    expect((await charger.closed).code).toBe(1001);
  }, PROCESS_TIMEOUT_MS);

  it('the installed command (what the image, the add-on and systemd run) exits 0 on SIGTERM', async () => {
    const csms = await startRawCsms();
    const proxy = start(join(app, 'node_modules', '.bin', 'ocpp-splitter'), ['--port', '0', '--primary', csms.url], { [ENV_VARS.configFile]: '' });
    const listening = await proxy.waitForLine('proxy listening');
    const charger = await connectRawCharger(`ws://127.0.0.1:${String(listening.port)}/CP-BIN`);
    await csms.nextPeer();
    proxy.child.kill('SIGTERM');
    expect(await proxy.exit).toEqual({ code: 0, signal: null });
    expect((await charger.closed).code).toBe(1001);
  }, PROCESS_TIMEOUT_MS);

  it('the image\'s HEALTHCHECK says healthy for a proxy configured by flags only, and unhealthy once it stopped', async () => {
    // `docker run … image --primary ws://… --port N`: the healthcheck sees the image's environment, never the flags.
    const csms = await startRawCsms();
    const runtimeDir = join(work, 'runtime-healthcheck');
    const imageEnv = { [ENV_VARS.configFile]: '', [RUNTIME_DIR_ENV]: runtimeDir };
    const healthcheck = join(app, 'node_modules', 'ocpp-splitter', 'dist', 'healthcheck.js');
    const port = String(await freePort());
    const proxy = start(join(app, 'node_modules', '.bin', 'ocpp-splitter'), ['--primary', csms.url, '--port', port], imageEnv);
    await proxy.waitForLine('proxy listening');

    const healthy = await execFileAsync(process.execPath, [healthcheck], { cwd: app, env: userEnv(imageEnv) });
    expect(healthy.stdout).toMatch(/^200 \{"status":"ok"/);

    proxy.child.kill('SIGTERM');
    expect((await proxy.exit).code).toBe(0);
    await expect(execFileAsync(process.execPath, [healthcheck], { cwd: app, env: userEnv(imageEnv) })).rejects.toMatchObject({ code: 1 });
  }, PROCESS_TIMEOUT_MS);

  it('includes the demo, which runs from the installed package', async () => {
    const demo = await execFileAsync(process.execPath, [join(app, 'node_modules', 'ocpp-splitter', 'dist', 'demo', 'main.js'), '--once'], {
      cwd: app,
      env: userEnv(),
    });
    expect(demo.stdout).toMatch(/Demo complete: (\d+) of \1 checks passed\./);
  }, PROCESS_TIMEOUT_MS);
});
