/**
 * The README as a newcomer follows it: the four ways to run the proxy under the spec's names, with commands and
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
const packageJson = JSON.parse(read('package.json')) as { repository: { url: string }; scripts: Record<string, string> };
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

describe('README quick start', () => {
  it('has the four ways to run it under the spec\'s names, and the systemd and npx ways', () => {
    for (const heading of ['### Home Assistant App', '### Using Docker (recommended)', '### Using Docker Compose', '### From source', '### With npx', '### As a systemd service']) {
      expect(section(heading).length, heading).toBeGreaterThan(100);
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

  it('Docker: the published image of this repository, /data and the config file choice', () => {
    const docker = section('### Using Docker (recommended)');
    const image = `ghcr.io/${new URL(repositoryUrl).pathname.slice(1)}:main`;
    expect(docker).toContain(image);
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
