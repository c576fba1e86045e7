/**
 * The release pipeline (.github/workflows/release.yml, container.yml and scripts/release-check.js), read as
 * GitHub Actions would: triggers, jobs and their order, the steps that check versions, test, publish to npm
 * with provenance and push the images, the platforms, and the add-on `image:` Home Assistant downloads. No
 * runner can execute a workflow here (no `act`, no Docker engine): the workflows are parsed, and the one
 * script they run is run for real.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { readDockerfile } from './dockerfile.js';
import { HA_DOCKER_IMAGE } from './ha-options.js';

const ROOT = new URL('../../', import.meta.url);
const text = (name: string): string => readFileSync(new URL(name, ROOT), 'utf8');
const execFileAsync = promisify(execFile);

const packageJson = JSON.parse(text('package.json')) as { name: string; version: string; repository: { url: string }; homepage: string };
/** The one place the GitHub owner/name is written. */
const [, owner = '', name = ''] = /^git\+https:\/\/github\.com\/([\w.-]+)\/([\w.-]+)\.git$/.exec(packageJson.repository.url) ?? [];
const addon = parseYaml(text('ocpp-splitter/config.yaml')) as { version: string; image: string; arch: string[] };
const addonBuild = parseYaml(text('ocpp-splitter/build.yaml')) as { build_from: Record<string, string> };

/**
 * Platforms of the official node:<major>-alpine images (nodejs/docker-node versions.json, as Docker names
 * them). Node.js 24 has no 32-bit ARM image: docker-node removed arm32v6/arm32v7 from 24 (PR 2244) after
 * Node.js made armv7 experimental. Update when the Dockerfile moves to another major.
 */
const NODE_ALPINE_PLATFORMS: Record<string, string[]> = {
  '22': ['linux/amd64', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm64', 'linux/s390x'],
  '24': ['linux/amd64', 'linux/arm64', 'linux/s390x'],
};
/** Architectures Home Assistant still supports: armv7, armhf and i386 were dropped with 2025.12. */
const HOME_ASSISTANT_ARCHES = ['amd64', 'aarch64'];
/** Home Assistant architecture → container platform. */
const PLATFORM_OF_ARCH: Record<string, string> = { amd64: 'linux/amd64', aarch64: 'linux/arm64' };

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  env?: Record<string, string>;
  permissions?: Record<string, string>;
  strategy?: { matrix?: { include?: Array<Record<string, string>> } };
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = (file: string): Workflow => parseYaml(text(`.github/workflows/${file}`)) as Workflow;
const release = workflow('release.yml');
const container = workflow('container.yml');

function job(flow: Workflow, id: string): Job {
  const found = flow.jobs[id];
  if (found === undefined) throw new Error(`no job ${id}`);
  return found;
}
const needs = (found: Job): string[] => (found.needs === undefined ? [] : [found.needs].flat());
const uses = (found: Job, action: string): Step[] => found.steps.filter((step) => step.uses?.split('@')[0] === action);
const runs = (found: Job): string => found.steps.flatMap((step) => (step.run === undefined ? [] : [step.run.trim()])).join('\n');
function onlyStep(found: Job, action: string): Step {
  const [step, ...more] = uses(found, action);
  if (step === undefined || more.length > 0) throw new Error(`expected one ${action} step`);
  return step;
}
function withValue(step: Step, key: string): string {
  const value = step.with?.[key];
  return typeof value === 'string' ? value : JSON.stringify(value ?? '');
}

/** The Node.js major of the Dockerfile's base image (ARG NODE_VERSION). */
function dockerfileNodeMajor(): string {
  const arg = readDockerfile(new URL('Dockerfile', ROOT)).find((step) => step.keyword === 'ARG' && step.args.startsWith('NODE_VERSION='));
  return arg?.args.split('=')[1] ?? '';
}

describe('the one place for the GitHub owner/name: package.json repository.url', () => {
  it('is the placeholder ocpp-splitter/ocpp-splitter, and homepage follows it', () => {
    expect(`${owner}/${name}`).toBe('ocpp-splitter/ocpp-splitter');
    expect(packageJson.homepage).toBe(`https://github.com/${owner}/${name}#readme`);
  });

  it('every other mention of a GitHub repository or a ghcr.io image of ours in the repository names it', () => {
    const files = ['README.md', 'CHANGELOG.md', 'repository.yaml', 'Dockerfile', 'docker-compose.yml', 'package.json'];
    const walk = (dir: string): string[] =>
      readdirSync(new URL(dir, ROOT)).flatMap((entry) => {
        const path = `${dir}/${entry}`;
        if (statSync(new URL(path, ROOT)).isDirectory()) return walk(path);
        return /\.(md|ya?ml|json|service|env|js)$|Dockerfile$/.test(entry) ? [path] : [];
      });
    const checked = [...files, ...walk('ocpp-splitter'), ...walk('deploy'), ...walk('.github'), ...walk('scripts')];
    let mentions = 0;
    for (const file of checked) {
      for (const [, who, what] of text(file).matchAll(/github\.com\/([\w.-]+)\/([\w.-]+)/g)) {
        mentions += 1;
        expect(`${String(who)}/${String(what).replace(/\.git$/, '')}`, file).toBe(`${owner}/${name}`);
      }
      for (const [, who] of text(file).matchAll(/ghcr\.io\/([\w.-]+)\//g)) {
        // Home Assistant's own base images are theirs.
        if (who !== 'home-assistant') expect(who, file).toBe(owner);
      }
    }
    expect(mentions).toBeGreaterThan(5);
  });
});

describe('.github/workflows/release.yml', () => {
  it('runs on a vX.Y.Z tag only', () => {
    expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
    expect(release.permissions).toEqual({ contents: 'read' });
  });

  it('first checks that every version says the tag\'s, in the repository package.json names, and hands the names on', () => {
    const check = job(release, 'check');
    expect(needs(check)).toEqual([]);
    const step = check.steps.find((candidate) => candidate.id === 'release');
    expect(step?.run).toBe('node scripts/release-check.js --tag "$GITHUB_REF_NAME" --repository "$GITHUB_REPOSITORY"');
    for (const output of ['version', 'repository', 'image', 'addon_images', 'addon_bases']) {
      expect(check.outputs?.[output], output).toBe(`\${{ steps.release.outputs.${output} }}`);
    }
  });

  it('then runs the tests as CI does (.ci/run: npm install && npm test)', () => {
    const test = job(release, 'test');
    expect(needs(test)).toEqual(['check']);
    expect(runs(test)).toBe('.ci/run');
    expect(text('.ci/run')).toMatch(/^npm install\b.*\nnpm test$/m);
  });

  it('publishes the npm package with provenance, only after the tests passed', () => {
    const npm = job(release, 'npm');
    expect(needs(npm)).toEqual(expect.arrayContaining(['check', 'test']));
    // Provenance needs the job's OIDC token.
    expect(npm.permissions).toMatchObject({ 'id-token': 'write', contents: 'read' });
    expect(runs(npm)).toMatch(/^\s*npm publish --provenance --access public$/m);
    expect(runs(npm)).toMatch(/^npm ci\b/m);
    // The token is never written to disk: the npm config names the variable.
    const publish = npm.steps.find((step) => step.run?.includes('npm publish'));
    expect(publish?.env).toEqual({ NODE_AUTH_TOKEN: '${{ secrets.NPM_TOKEN }}' });
    expect(publish?.run).toContain(`'\${NODE_AUTH_TOKEN}'`);
  });

  it('pushes the multi-arch container image of the Dockerfile under the name derived from package.json, after npm', () => {
    const image = job(release, 'image');
    expect(needs(image)).toEqual(expect.arrayContaining(['check', 'npm']));
    expect(image.permissions).toMatchObject({ packages: 'write' });
    expect(withValue(onlyStep(image, 'docker/login-action'), 'registry')).toBe('ghcr.io');
    const meta = onlyStep(image, 'docker/metadata-action');
    expect(withValue(meta, 'images')).toBe('${{ needs.check.outputs.image }}');
    expect(withValue(meta, 'tags').trim().split('\n')).toEqual(['type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}', 'type=raw,value=latest']);
    const build = onlyStep(image, 'docker/build-push-action');
    expect(build.with).toMatchObject({ context: '.', push: true, tags: '${{ steps.meta.outputs.tags }}' });
    expect(uses(image, 'docker/setup-qemu-action')).toHaveLength(1);
  });

  it('builds the image for platforms its Node.js LTS Alpine base exists for, the add-on\'s architectures', () => {
    const major = dockerfileNodeMajor();
    expect(Number(major) % 2, 'an even (LTS) Node.js major').toBe(0);
    const available = NODE_ALPINE_PLATFORMS[major];
    expect(available, `node:${major}-alpine platforms are listed in this test`).toBeDefined();
    for (const flow of [release, container]) {
      const platforms = withValue(onlyStep(job(flow, 'image'), 'docker/build-push-action'), 'platforms').split(',');
      expect(platforms).toEqual(addon.arch.map((arch) => PLATFORM_OF_ARCH[arch]));
      for (const platform of platforms) expect(available, platform).toContain(platform);
      expect(platforms).not.toContain('linux/arm/v7');
    }
  });

  it('builds and pushes one add-on image per architecture of config.yaml, from ocpp-splitter/, after the npm package it installs', () => {
    const addonJob = job(release, 'addon');
    expect(needs(addonJob)).toEqual(expect.arrayContaining(['check', 'npm']));
    expect(addonJob.permissions).toMatchObject({ packages: 'write' });
    const matrix = addonJob.strategy?.matrix?.include ?? [];
    expect(matrix.map((entry) => entry.arch)).toEqual(addon.arch);
    for (const entry of matrix) expect(entry.platform, entry.arch).toBe(PLATFORM_OF_ARCH[entry.arch ?? '']);

    const build = onlyStep(addonJob, 'docker/build-push-action');
    expect(build.with).toMatchObject({ context: './ocpp-splitter', platforms: '${{ matrix.platform }}', push: true });
    expect(withValue(build, 'build-args').trim().split('\n')).toEqual([
      'BUILD_FROM=${{ fromJSON(needs.check.outputs.addon_bases)[matrix.arch] }}',
      'BUILD_VERSION=${{ needs.check.outputs.version }}',
      'BUILD_ARCH=${{ matrix.arch }}',
    ]);
    // Home Assistant pulls <image>:<version>.
    expect(withValue(build, 'tags').trim().split('\n')).toContain('${{ fromJSON(needs.check.outputs.addon_images)[matrix.arch] }}:${{ needs.check.outputs.version }}');
    // The Dockerfile takes exactly these arguments.
    const args = readDockerfile(new URL('ocpp-splitter/Dockerfile', ROOT)).filter((step) => step.keyword === 'ARG').map((step) => step.args);
    expect(args).toEqual(['BUILD_FROM', 'BUILD_VERSION', 'BUILD_ARCH']);
  });

  it('pins every action to a major version', () => {
    for (const flow of [release, container]) {
      for (const found of Object.values(flow.jobs)) {
        for (const step of found.steps.filter((candidate) => candidate.uses !== undefined)) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
      }
    }
  });
});

describe('.github/workflows/container.yml', () => {
  it('pushes :main from main only; pull requests build without pushing or logging in', () => {
    expect(container.on).toEqual({ push: { branches: ['main'] }, pull_request: null, workflow_dispatch: null });
    const image = job(container, 'image');
    const build = onlyStep(image, 'docker/build-push-action');
    expect(build.with?.push).toBe("${{ env.PUSH == 'true' }}");
    expect(image.env).toEqual({ PUSH: "${{ github.event_name != 'pull_request' }}" });
    expect(onlyStep(image, 'docker/login-action').if).toBe("env.PUSH == 'true'");
    expect(withValue(onlyStep(image, 'docker/metadata-action'), 'images')).toBe('${{ steps.release.outputs.image }}');
    expect(image.steps.find((step) => step.id === 'release')?.run).toContain('node scripts/release-check.js');
  });
});

describe('ocpp-splitter/config.yaml image', () => {
  it('is ghcr.io/<owner>/{arch}-addon-<package name>, a name the Supervisor accepts, for Home Assistant\'s architectures', () => {
    expect(addon.image).toBe(`ghcr.io/${owner}/{arch}-addon-${packageJson.name}`);
    expect(addon.image).toMatch(HA_DOCKER_IMAGE);
    expect(addon.version).toBe(packageJson.version);
    for (const arch of addon.arch) expect(HOME_ASSISTANT_ARCHES).toContain(arch);
    expect(Object.keys(addonBuild.build_from).sort()).toEqual([...addon.arch].sort());
  });
});

describe('scripts/release-check.js', () => {
  const work = mkdtempSync(join(tmpdir(), 'ocpp-splitter-release-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let fixtures = 0;

  /** A copy of the files the script reads, released as `version` (CHANGELOG headings written), then `edit`ed. */
  function fixture(version: string, edit: (root: string) => void = () => undefined): string {
    const root = join(work, String((fixtures += 1)));
    mkdirSync(join(root, 'ocpp-splitter'), { recursive: true });
    for (const file of ['package.json', 'package-lock.json', 'CHANGELOG.md', 'ocpp-splitter/config.yaml', 'ocpp-splitter/build.yaml', 'ocpp-splitter/CHANGELOG.md']) {
      cpSync(new URL(file, ROOT), join(root, file));
    }
    const replaceIn = (file: string, from: string | RegExp, to: string): void => writeFileSync(join(root, file), readFileSync(join(root, file), 'utf8').replace(from, to));
    replaceIn('CHANGELOG.md', /^## \[Unreleased\]/m, `## [${version}] - 2026-01-31`);
    if (!new RegExp(`^## ${version.replaceAll('.', '\\.')}$`, 'm').test(readFileSync(join(root, 'ocpp-splitter/CHANGELOG.md'), 'utf8'))) {
      replaceIn('ocpp-splitter/CHANGELOG.md', /^## /m, `## ${version}\n\n- Release.\n\n## `);
    }
    edit(root);
    return root;
  }

  async function check(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [new URL('scripts/release-check.js', ROOT).pathname, ...args], {
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: unknown; stdout?: unknown; stderr?: unknown };
      return { code: Number(failed.code), stdout: String(failed.stdout), stderr: String(failed.stderr) };
    }
  }

  it('names the repository and the images from package.json, for the workflows ($GITHUB_OUTPUT) and a person (stdout)', async () => {
    const output = join(work, 'github-output');
    const result = await check([], { GITHUB_OUTPUT: output });
    expect(result.stderr).toBe('');
    const lines = Object.fromEntries(result.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(lines).toMatchObject({
      repository: `${owner}/${name}`,
      version: packageJson.version,
      image: `ghcr.io/${owner}/${name}`,
      addon_image: addon.image,
    });
    expect(JSON.parse(String(lines.addon_images))).toEqual(Object.fromEntries(addon.arch.map((arch) => [arch, addon.image.replace('{arch}', arch)])));
    expect(JSON.parse(String(lines.addon_bases))).toEqual(addonBuild.build_from);
    expect(readFileSync(output, 'utf8')).toBe(result.stdout);
  });

  it('passes a release whose versions and CHANGELOG headings all say the tag\'s version', async () => {
    const result = await check(['--root', fixture(packageJson.version), '--tag', `v${packageJson.version}`, '--repository', `${owner}/${name}`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('fails, one line per problem, when a version or a CHANGELOG heading disagrees with the tag', async () => {
    const root = fixture('9.9.9', (dir) => {
      writeFileSync(join(dir, 'ocpp-splitter/config.yaml'), readFileSync(join(dir, 'ocpp-splitter/config.yaml'), 'utf8').replace(/^version: .*$/m, 'version: "9.9.8"'));
    });
    const result = await check(['--root', root, '--tag', 'v9.9.9']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `release-check: package.json: version is "${packageJson.version}", the tag says 9.9.9`,
      `release-check: package-lock.json: version is "${packageJson.version}", the tag says 9.9.9`,
      `release-check: package-lock.json (packages[""]): version is "${packageJson.version}", the tag says 9.9.9`,
      'release-check: ocpp-splitter/config.yaml: version is "9.9.8", the tag says 9.9.9',
    ]);
  });

  it('fails on an [Unreleased] CHANGELOG, a tag that is not vX.Y.Z, and another repository', async () => {
    const unreleased = fixture(packageJson.version, (dir) => cpSync(new URL('CHANGELOG.md', ROOT), join(dir, 'CHANGELOG.md')));
    const version = await check(['--root', unreleased, '--tag', `v${packageJson.version}`]);
    expect(version.stderr).toContain(`CHANGELOG.md: no "## [${packageJson.version}]" heading`);
    expect((await check(['--tag', 'release-1'])).stderr).toContain('tag release-1: a release tag is vX.Y.Z');
    const fork = await check(['--repository', 'someone/fork']);
    expect(fork.code).toBe(1);
    expect(fork.stderr).toContain(`this runs in someone/fork, but package.json's repository.url names ${owner}/${name}`);
  });

  it('fails when the add-on image does not follow package.json, or an architecture has no base image', async () => {
    const root = fixture(packageJson.version, (dir) => {
      const file = join(dir, 'ocpp-splitter/config.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^image: .*$/m, 'image: ghcr.io/someone/{arch}-addon-ocpp-splitter').replace(/^arch:\n/m, 'arch:\n  - armv7\n'));
    });
    const result = await check(['--root', root]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`image is "ghcr.io/someone/{arch}-addon-ocpp-splitter"; from package.json it must be ${addon.image}`);
    expect(result.stderr).toContain('arch armv7 is not one the workflows build');
    expect(result.stderr).toContain('ocpp-splitter/build.yaml: no build_from for armv7');
  });
});
