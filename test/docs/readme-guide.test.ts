/**
 * The README as a newcomer follows it: a quick start at the top, the ways to run the proxy under the spec's
 * names, each either working from a clone today or marked as waiting for the first release, with commands and
 * examples that match the files in the repository, links that resolve, and troubleshooting that names the
 * messages the proxy really logs.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { HaOptionsError, validateHaOptions, type HaSchema } from '../packaging/ha-options.js';

const ROOT = new URL('../../', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, ROOT), 'utf8');
const readme = read('README.md');
const packageJson = JSON.parse(read('package.json')) as { name: string; repository: { url: string }; scripts: Record<string, string> };
const repositoryUrl = packageJson.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

/** The text of the section under `heading`, up to the next heading of the same or a higher level (fences skipped). */
function section(heading: string): string {
  const level = /^#+/.exec(heading)?.[0].length ?? 2;
  const lines = readme.split('\n');
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`README: no section "${heading}"`);
  let inFence = false;
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('```')) inFence = !inFence;
    const depth = /^(#+) /.exec(line)?.[1]?.length;
    if (!inFence && depth !== undefined && depth <= level) break;
    body.push(line);
  }
  return body.join('\n');
}

function codeBlocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1] ?? '');
}

function sourceText(dir: string): string {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .map((path) => (statSync(path).isDirectory() ? sourceText(path) : path.endsWith('.ts') ? readFileSync(path, 'utf8') : ''))
    .join('\n');
}

/** The README cut into paragraphs and code blocks (a fenced block is one, blank lines inside it included). */
function blocks(markdown: string): string[] {
  const result: string[] = [];
  let current: string[] = [];
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      if (!inFence && current.length > 0) result.push(current.join('\n'));
      if (!inFence) current = [];
      current.push(line);
      inFence = !inFence;
      if (!inFence) {
        result.push(current.join('\n'));
        current = [];
      }
      continue;
    }
    if (!inFence && line.trim() === '') {
      if (current.length > 0) result.push(current.join('\n'));
      current = [];
      continue;
    }
    current.push(line);
  }
  if (current.length > 0) result.push(current.join('\n'));
  return result;
}

const WAYS = ['### From source', '### Using Docker (recommended)', '### Using Docker Compose', '### With npx', '### As a systemd service', '### Home Assistant App'];
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const AFTER_RELEASE = /after the first release/i;

describe('README quick start', () => {
  it('comes first: ten lines at most, commands of this repository that work from a clone', () => {
    const firstSection = /^## .*$/m.exec(readme)?.[0];
    expect(firstSection).toBe('## Quick start');
    const quick = section('## Quick start');
    const lines = quick.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('```'));
    expect(lines.length).toBeLessThanOrEqual(10);
    const [commands = ''] = codeBlocks(quick, 'sh');
    expect(commands).toContain(`git clone ${repositoryUrl}.git`);
    for (const script of [...commands.matchAll(/npm (?:run )?(\w+)/g)].map((match) => match[1] ?? '')) {
      if (script !== 'install') expect(packageJson.scripts[script], script).toBeDefined();
    }
    // The demo must end by itself here, or the next lines never run.
    expect(commands).toContain('npm run demo -- --once');
    expect(quick).not.toMatch(AFTER_RELEASE);
  });

  it('has the ways to run it under the spec\'s names, and says how many there are', () => {
    const ways = section('## Ways to run it');
    const subsections = [...ways.matchAll(/^### .+$/gm)].map((match) => match[0]);
    expect(subsections).toEqual(WAYS);
    for (const heading of WAYS) expect(section(heading).length, heading).toBeGreaterThan(100);
    // "Four ways to run it" once introduced six.
    const claimed = /\b(\w+) ways to run it\b/i.exec(readme)?.[1]?.toLowerCase() ?? '';
    expect(NUMBER_WORDS.indexOf(claimed)).toBe(subsections.length);
    const counts = [...readme.matchAll(/\b(\w+) ways\b/gi)].map((match) => (match[1] ?? '').toLowerCase()).filter((word) => NUMBER_WORDS.includes(word));
    expect(counts).toEqual([claimed]);
  });

  it('marks everything that needs a published release as "after the first release"', () => {
    const image = `ghcr.io/${new URL(repositoryUrl).pathname.slice(1)}`;
    const needsRelease = [
      new RegExp(`${image.replaceAll('.', '\\.')}:`),
      new RegExp(`npm install (?:--global |-g )(?:--allow-scripts=\\S+ )?${packageJson.name}\\b`),
      /^npx ocpp-splitter/m,
      /Settings → Apps → Install app/,
    ];
    const all = blocks(readme);
    let marked = 0;
    all.forEach((block, index) => {
      if (!needsRelease.some((pattern) => pattern.test(block))) return;
      // npx after `npm install <tarball>` in the same block runs the packed package: that works today.
      if (/npm install \S+\.tgz/.test(block)) return;
      marked += 1;
      const context = [all[index - 2] ?? '', all[index - 1] ?? '', block].join('\n');
      expect(context, block).toMatch(AFTER_RELEASE);
    });
    expect(marked).toBeGreaterThanOrEqual(4);
    expect(section('### Home Assistant App')).toMatch(AFTER_RELEASE);
    expect(section('## Ways to run it').split('### ')[0]).toMatch(AFTER_RELEASE);
  });

  it('the ways that work today use only what a clone has: docker build, compose --build, npm pack', () => {
    expect(section('### Using Docker (recommended)')).toMatch(/^docker build -t ocpp-splitter \.$/m);
    expect(section('### Using Docker (recommended)')).toMatch(/^ {2}ocpp-splitter$/m);
    expect(section('### Using Docker Compose')).toContain('docker compose up -d --build');
    const npx = codeBlocks(section('### With npx'), 'sh')[0] ?? '';
    expect(npx).toMatch(/^npm pack\b/m);
    expect(npx).toMatch(/^npm install \S+\.tgz$/m);
    expect(npx).toMatch(/^npx ocpp-splitter --primary/m);
    const systemd = codeBlocks(section('### As a systemd service'), 'sh')[0] ?? '';
    expect(systemd).toMatch(/^npm pack$/m);
    expect(systemd).toMatch(/^sudo npm install --global \.\/ocpp-splitter-\*\.tgz$/m);
  });

  it('never runs the proxy under `npm start` as a service (npm is for a terminal)', () => {
    for (const heading of ['### Using Docker (recommended)', '### Using Docker Compose', '### As a systemd service', '### Home Assistant App']) {
      expect(section(heading), heading).not.toContain('npm start');
    }
    for (const file of ['Dockerfile', 'docker-compose.yml', 'deploy/systemd/ocpp-splitter.service', 'ocpp-splitter/Dockerfile']) {
      expect(read(file), file).not.toMatch(/npm (?:run )?start/);
    }
  });

  it('from source: the two commands', () => {
    const fromSource = section('### From source');
    expect(fromSource).toContain('npm install && npm start');
    expect(fromSource).toContain('npm install && npm test');
    expect(packageJson.scripts.start).toBeDefined();
    expect(packageJson.scripts.test).toBeDefined();
  });

  it('Home Assistant: the repository to add, and an example that the Supervisor and the proxy accept', () => {
    const ha = section('### Home Assistant App');
    expect(ha).toContain('Settings → Apps → Install app');
    expect(ha).toContain('Repositories');
    expect(ha).toContain(repositoryUrl);
    const manifest = parseYaml(read('ocpp-splitter/config.yaml')) as { schema: Record<string, HaSchema> };
    const [example] = codeBlocks(ha, 'yaml');
    expect(() => validateHaOptions(manifest.schema, parseYaml(example ?? ''))).not.toThrow(HaOptionsError);
  });

  it('Docker: the image built here, the published image of this repository, /data and the config file choice', () => {
    const docker = section('### Using Docker (recommended)');
    const image = `ghcr.io/${new URL(repositoryUrl).pathname.slice(1)}`;
    expect(docker).toContain(`${image}:X.Y.Z`);
    expect(docker).toContain(`${image}:main`);
    expect(docker).toContain('-p 9000:9000');
    expect(docker).toContain('/data');
    expect(docker).toContain('CONFIG_FILE');
    expect(docker).toContain('docker build -t ocpp-splitter .');
  });

  it('Docker Compose: the spec\'s steps, with the files they name', () => {
    const compose = section('### Using Docker Compose');
    for (const step of ['mkdir -p data', 'cp config.example.json data/config.json', 'docker compose up -d']) expect(compose).toContain(step);
    expect(existsSync(new URL('docker-compose.yml', ROOT))).toBe(true);
    expect(existsSync(new URL('config.example.json', ROOT))).toBe(true);
  });

  it('the demo is documented with its options', () => {
    const demo = section('## Try it: the demo');
    expect(demo).toContain('npm run demo');
    for (const option of ['--once', 'DEMO_ONCE=1', '--port', '--log-level', 'Ctrl-C']) expect(demo).toContain(option);
    expect(packageJson.scripts.demo).toContain('dist/demo/main.js');
  });
});

describe('README reference', () => {
  it('shows config.example.json as it is', () => {
    const [shown] = codeBlocks(section('### Config file examples'), 'json');
    expect(JSON.parse(shown ?? '')).toEqual(JSON.parse(read('config.example.json')));
  });

  it('every relative link points at a file or folder of the repository', () => {
    const links = [...readme.matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)].map((match) => match[1] ?? '');
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect(existsSync(new URL(link, ROOT)), link).toBe(true);
  });

  it('every in-page link points at a heading', () => {
    const anchors = new Set(
      [...readme.matchAll(/^#+ (.+)$/gm)].map((match) =>
        (match[1] ?? '')
          .toLowerCase()
          .replace(/[^\p{L}\p{N} -]/gu, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const [, anchor] of readme.matchAll(/\]\(#([^)]+)\)/g)) expect(anchors, anchor).toContain(anchor);
  });

  it('troubleshooting names log messages the proxy really writes', () => {
    const troubleshooting = section('## Troubleshooting');
    const sources = sourceText(new URL('src', ROOT).pathname);
    for (const message of [
      'charger refused',
      'primary refused the connection',
      'primary unreachable',
      'primary handshake timed out',
      'no common OCPP sub-protocol with the primary',
      'cannot listen',
      'cannot use the data directory',
      'secondary still unreachable',
      'secondary never answered: message skipped',
      'secondary outbox full: oldest message dropped',
      'store write failed; keeping the writes in memory and retrying',
      'cannot open store',
      'primary_csms_url is required',
      'config file not found',
      'cannot parse config file',
    ]) {
      expect(troubleshooting, message).toContain(message);
      expect(sources, message).toContain(message);
    }
    for (const term of ['400', '401', '404', '502', '504', 'EADDRINUSE', 'no common OCPP sub-protocol']) expect(troubleshooting).toContain(term);
  });

  it('has a Performance section that points at npm run bench', () => {
    const performance = section('## Performance');
    expect(performance).toContain('npm run bench');
    expect(performance).toContain('--smoke');
  });
});
