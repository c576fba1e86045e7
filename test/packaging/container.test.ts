/**
 * The container image, Compose and systemd files, read as the tools would (no Docker engine runs here: the
 * image's install and start steps themselves run in pack.test.ts, taken from this Dockerfile).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config/load.js';
import { RUNTIME_DIR_ENV } from '../../src/runtime/listen-file.js';
import { execForm, readDockerfile } from './dockerfile.js';

const ROOT = new URL('../../', import.meta.url);
const text = (name: string): string => readFileSync(new URL(name, ROOT), 'utf8');
const execFileAsync = promisify(execFile);

describe('Dockerfile', () => {
  const steps = readDockerfile(new URL('Dockerfile', ROOT));
  const froms = steps.filter((step) => step.keyword === 'FROM');
  const build = steps.filter((step) => step.stage === 0);
  const runtime = steps.filter((step) => step.stage === 1);
  const runtimeArgs = (keyword: string): string[] => runtime.filter((step) => step.keyword === keyword).map((step) => step.args);

  it('is a two-stage build on an even-numbered (LTS) Node.js, Alpine', () => {
    const nodeVersion = steps.find((step) => step.keyword === 'ARG' && step.stage === -1 && step.args.startsWith('NODE_VERSION='))?.args;
    expect(Number(nodeVersion?.split('=')[1]) % 2).toBe(0);
    expect(froms.map((step) => step.args)).toEqual(['node:${NODE_VERSION}-alpine AS build', 'node:${NODE_VERSION}-alpine']);
  });

  it('compiles native addons in the build stage only; the runtime stage gets the installed package, nothing else', () => {
    expect(build.some((step) => step.keyword === 'RUN' && /apk add .*python3 make g\+\+/.test(step.args))).toBe(true);
    expect(runtimeArgs('RUN').join(' ')).not.toMatch(/apk add|npm (ci|install)/);
    expect(runtimeArgs('COPY')).toEqual(['--from=build /opt/ocpp-splitter /opt/ocpp-splitter']);
    // Production dependencies only (the same flags pack.test.ts runs).
    expect(build.some((step) => step.keyword === 'RUN' && step.args.includes('npm install --omit=dev'))).toBe(true);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = text('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const essential of ['node_modules', 'dist', 'data', '.git']) expect(ignored).toContain(essential);
    const sources = build
      .filter((step) => step.keyword === 'COPY')
      .flatMap((step) => step.args.split(/\s+/).slice(0, -1))
      .filter((source) => !source.startsWith('--'));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect(existsSync(new URL(source, ROOT)), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
    // Everything `files` in package.json names, so `npm pack` in the image packs what the registry gets.
    const { files } = JSON.parse(text('package.json')) as { files: string[] };
    for (const file of files.filter((entry) => !entry.startsWith('dist'))) expect(sources, file).toContain(file);
  });

  it('runs unprivileged, with /data as its volume and DATA_DIR, port 9000, and the Home Assistant config file default', () => {
    expect(runtimeArgs('USER')).toEqual(['node']);
    expect(runtimeArgs('VOLUME')).toEqual(['/data']);
    expect(runtimeArgs('EXPOSE')).toEqual(['9000']);
    const env = runtimeArgs('ENV').join(' ');
    expect(env).toContain('DATA_DIR=/data');
    // CONFIG_FILE stays at its default (/data/options.json), which may be absent: `docker run -e …` works.
    expect(env).not.toContain(ENV_VARS.configFile);
    // PORT stays unset in the image, so a port in the config file is not overridden.
    expect(env).not.toMatch(/\bPORT=/);
    // Where the proxy writes the address it listens on for the HEALTHCHECK: under /tmp, writable by any user.
    expect(env).toContain(`${RUNTIME_DIR_ENV}=/tmp/ocpp-splitter`);
    expect(runtime.some((step) => step.keyword === 'RUN' && step.args.includes('chown node:node /data'))).toBe(true);
  });

  it('starts the installed command and checks health with node (no curl), on files the package ships', () => {
    const env = runtimeArgs('ENV').join(' ');
    expect(env).toContain('PATH=/opt/ocpp-splitter/node_modules/.bin:$PATH');
    expect(execForm(runtimeArgs('ENTRYPOINT')[0] ?? '')).toEqual(['ocpp-splitter']);
    const healthcheck = runtimeArgs('HEALTHCHECK')[0] ?? '';
    const command = execForm(healthcheck);
    expect(command[0]).toBe('node');
    const script = command[1] ?? '';
    expect(script).toMatch(/^\/opt\/ocpp-splitter\/node_modules\/ocpp-splitter\/(dist\/healthcheck\.js)$/);
    expect(existsSync(new URL(script.replace('/opt/ocpp-splitter/node_modules/ocpp-splitter/', ''), ROOT))).toBe(true);
    expect(runtimeArgs('STOPSIGNAL')).toEqual(['SIGTERM']);
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(text('docker-compose.yml')) as { services: Record<string, Record<string, unknown>> };
  const service = compose.services['ocpp-splitter'] ?? {};

  it('builds the image here and runs it as in the README: ./data:/data, user node, a restart policy, port 9000', () => {
    expect(service.build).toBe('.');
    expect(service.user).toBe('node');
    expect(service.volumes).toEqual(['./data:/data']);
    expect(service.ports).toEqual(['9000:9000']);
    expect(service.restart).toBe('unless-stopped');
  });

  it('reads data/config.json (the copied config.example.json) and lets the proxy stop within its grace period', () => {
    expect(service.environment).toMatchObject({ [ENV_VARS.configFile]: '/data/config.json' });
    expect(Number.parseInt(String(service.stop_grace_period), 10)).toBeGreaterThan(10);
  });
});

describe('deploy/systemd/ocpp-splitter.service', () => {
  const unit = text('deploy/systemd/ocpp-splitter.service');
  const service = unit.slice(unit.indexOf('[Service]'), unit.indexOf('[Install]'));
  const values = (key: string): string[] =>
    service
      .split('\n')
      .filter((line) => line.startsWith(`${key}=`))
      .map((line) => line.slice(key.length + 1));

  it('runs the installed command as a dedicated user, with its state directory as DATA_DIR', () => {
    expect(values('ExecStart')).toEqual(['/usr/bin/env ocpp-splitter']);
    expect(values('DynamicUser')).toEqual(['yes']);
    expect(values('User')).toEqual(['ocpp-splitter']);
    expect(values('StateDirectory')).toEqual(['ocpp-splitter']);
    expect(values('Environment')).toContain(`${ENV_VARS.dataDir}=/var/lib/ocpp-splitter`);
    expect(values('EnvironmentFile')).toEqual(['-/etc/ocpp-splitter/ocpp-splitter.env']);
    expect(existsSync(new URL('deploy/systemd/ocpp-splitter.env', ROOT))).toBe(true);
  });

  it('finds the command wherever the README\'s install puts it, whatever npm\'s global prefix (regression: it named /usr/local/bin only)', () => {
    // The README's install: `npm install --global`, which puts the command in <prefix>/bin.
    const readme = text('README.md');
    const systemd = readme.slice(readme.indexOf('### As a systemd service'), readme.indexOf('### Home Assistant App'));
    const installs = [...systemd.matchAll(/sudo npm install --global ([^\s`]+)/g)].map((match) => match[1]);
    expect(installs).toEqual(['./ocpp-splitter-*.tgz', 'ocpp-splitter']);
    expect(systemd).toContain('command -v ocpp-splitter');
    // npm's global prefix is /usr for Debian's and NodeSource's Node.js, /usr/local for the nodejs.org installers.
    const globalBins = ['/usr/bin', '/usr/local/bin'];
    // ExecStart runs env, which searches PATH: the unit must not narrow systemd's default PATH for services.
    const [command, ...args] = (values('ExecStart')[0] ?? '').split(' ');
    expect(command).toBe('/usr/bin/env');
    expect(args).toEqual(['ocpp-splitter']);
    expect(values('Environment').filter((entry) => entry.startsWith('PATH='))).toEqual([]);
    const systemdDefaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin'.split(':');
    for (const bin of globalBins) expect(systemdDefaultPath, bin).toContain(bin);
    // The command's own `#!/usr/bin/env node` finds node on the same PATH.
    expect(readFileSync(new URL('src/cli.ts', ROOT), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('env really finds a command installed under either prefix', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ocpp-splitter-prefix-'));
    try {
      for (const prefix of ['usr', 'usr/local']) {
        const bin = join(root, prefix, 'bin');
        mkdirSync(bin, { recursive: true });
        writeFileSync(join(bin, 'ocpp-splitter'), `#!/bin/sh\necho ${prefix}\n`, { mode: 0o755 });
        const path = ['usr/local/bin', 'usr/bin'].map((dir) => join(root, dir)).join(':');
        const { stdout } = await execFileAsync('/usr/bin/env', ['ocpp-splitter'], { env: { PATH: path } });
        expect(stdout.trim()).toBe(prefix);
        rmSync(join(bin, 'ocpp-splitter'));
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('restarts on failure but not on a configuration error, and stops gracefully with SIGTERM', () => {
    expect(values('Restart')).toEqual(['on-failure']);
    expect(values('RestartPreventExitStatus')).toEqual(['78']);
    expect(values('KillSignal')).toEqual(['SIGTERM']);
    expect(Number(values('TimeoutStopSec')[0])).toBeGreaterThan(10);
  });

  it('is hardened', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['PrivateDevices', 'yes'],
      ['RestrictSUIDSGID', 'yes'],
      ['CapabilityBoundingSet', ''],
    ] as const) {
      expect(values(key), key).toEqual([value]);
    }
  });

  it('passes `systemd-analyze verify` where systemd is installed', async () => {
    const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((path) => existsSync(path));
    if (analyze === undefined) return;
    // verify also checks that ExecStart exists: point it at a command this machine has.
    const dir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-unit-'));
    try {
      const copy = join(dir, 'ocpp-splitter.service');
      writeFileSync(copy, unit.replace(/^ExecStart=.*$/m, 'ExecStart=/usr/bin/env true'));
      const { stderr } = await execFileAsync(analyze, ['verify', copy]);
      expect(stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The workflows that publish the image: release-workflow.test.ts.
