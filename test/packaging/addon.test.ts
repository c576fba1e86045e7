/**
 * The Home Assistant add-on ("app"): its manifest, its options schema against the proxy's config schema, the
 * options a user writes going through the Supervisor's validation and then the proxy's own loader, its docs,
 * translations and images, and the repository file that makes this repository an add-on repository.
 */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { resolveConfig } from '../../src/config/load.js';
import { chargerMapEntrySchema, configSchema, LOG_LEVELS, secondaryConfigSchema } from '../../src/config/schema.js';
import { readDockerfile } from './dockerfile.js';
import { HaOptionsError, schemaProblems, validateHaOptions, type HaSchema } from './ha-options.js';

const ROOT = new URL('../../', import.meta.url);
const ADDON = new URL('ocpp-splitter/', ROOT);
const text = (url: URL): string => readFileSync(url, 'utf8');
const yamlAt = (url: URL): Record<string, unknown> => parseYaml(text(url)) as Record<string, unknown>;

const packageJson = JSON.parse(text(new URL('package.json', ROOT))) as { version: string; repository: { url: string } };
const repositoryUrl = packageJson.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
const manifest = yamlAt(new URL('config.yaml', ADDON));
const haSchema = manifest.schema as Record<string, HaSchema>;
const haOptions = manifest.options as Record<string, unknown>;
/** Home Assistant's architectures since 2025.12 (armv7, armhf and i386 were dropped). */
const ARCHES = ['amd64', 'aarch64'];
/** The add-on form's rule for a CSMS URL: the proxy's own (ws:// or wss://, a host, no #fragment). */
const WS_URL_MATCH = 'match(^wss?://[^\\s/?#]+[^\\s#]*$)';
/** Fixed by the add-on itself: the container port (mapped in HA's Network settings), all interfaces, /data. */
/**
 * Fixed by the add-on itself: the ports are Home Assistant's to map, the data directory is /data, and the admin
 * listener is what ingress talks to (set through `environment` in config.yaml; the token comes from a file or the
 * `admin_token` option).
 */
const NOT_AN_ADDON_OPTION = ['port', 'host', 'data_dir', 'admin_port', 'admin_host', 'admin_token_file', 'admin_trusted_addresses'];
/** Secret files are for Docker and Kubernetes secrets, which an add-on does not have: its form has the password itself. */
const NOT_AN_ADDON_CHARGER_MAP_OPTION = ['password_file'];

function entrySchema(key: 'secondary_csms'): Record<string, HaSchema>;
function entrySchema(key: 'charger_map', parent: Record<string, HaSchema>): Record<string, HaSchema>;
function entrySchema(key: string, parent: Record<string, HaSchema> = haSchema): Record<string, HaSchema> {
  const list = parent[key];
  if (!Array.isArray(list) || typeof list[0] !== 'object' || Array.isArray(list[0])) throw new Error(`${key}: expected a list of mappings`);
  return list[0];
}
const secondarySchema = entrySchema('secondary_csms');
const chargerMapSchema = entrySchema('charger_map', secondarySchema);

/** What the add-on's proxy makes of Supervisor-validated options: /data/options.json, DATA_DIR=/data. */
function asTheAddonLoadsIt(options: Record<string, unknown>) {
  return resolveConfig({
    flags: {},
    env: { CONFIG_FILE: '/data/options.json', DATA_DIR: '/data' },
    readFile: (path) => {
      if (path !== '/data/options.json') throw new Error(`unexpected read of ${path}`);
      return JSON.stringify(options);
    },
  });
}

/** The first ```yaml block of a Markdown text. */
function firstYamlBlock(markdown: string): unknown {
  const block = /```yaml\n([\s\S]*?)```/.exec(markdown)?.[1];
  if (block === undefined) throw new Error('no ```yaml block');
  return parseYaml(block.replace(/^ {3}/gm, ''));
}

describe('repository.yaml', () => {
  it('names this repository, so Home Assistant can add it as an app repository', () => {
    const repository = yamlAt(new URL('repository.yaml', ROOT));
    expect(repository.name).toBe('ocpp-splitter');
    expect(repository.url).toBe(repositoryUrl);
    expect(typeof repository.maintainer).toBe('string');
  });
});

describe('ocpp-splitter/config.yaml', () => {
  it('has the manifest keys Home Assistant needs', () => {
    expect(manifest).toMatchObject({
      name: 'ocpp-splitter',
      slug: 'ocpp_splitter',
      startup: 'application',
      boot: 'auto',
      init: false,
      ports: { '9000/tcp': 9000 },
      watchdog: 'tcp://[HOST]:[PORT:9000]',
    });
    expect(manifest.arch).toEqual(ARCHES);
    expect(String(manifest.description).length).toBeGreaterThan(20);
    expect(String(manifest.url)).toContain(repositoryUrl);
    // The Supervisor waits this long after SIGTERM; the proxy needs up to 10 s.
    expect(Number(manifest.timeout)).toBeGreaterThan(10);
  });

  it('is the version of the npm package its Dockerfile installs', () => {
    expect(manifest.version).toBe(packageJson.version);
    const addonChangelog = text(new URL('CHANGELOG.md', ADDON));
    expect(addonChangelog).toContain(`## ${packageJson.version}`);
  });

  it('names the images the release workflow builds from its own folder, for every architecture it lists', () => {
    // Home Assistant downloads <image>:<version> instead of building; release-workflow.test.ts checks the push.
    const owner = new URL(repositoryUrl).pathname.split('/')[1] ?? '';
    expect(manifest.image).toBe(`ghcr.io/${owner}/{arch}-addon-ocpp-splitter`);
    const build = yamlAt(new URL('build.yaml', ADDON));
    const from = build.build_from as Record<string, string>;
    expect(Object.keys(from).sort()).toEqual([...ARCHES].sort());
    for (const arch of ARCHES) expect(from[arch]).toMatch(new RegExp(`^ghcr\\.io/home-assistant/${arch}-base:\\d+\\.\\d+$`));
  });

  it('has a schema the Supervisor accepts', () => {
    expect(schemaProblems(haSchema)).toEqual([]);
  });

  it('covers every option of the proxy a Home Assistant user can set, with the same names', () => {
    expect(Object.keys(haSchema).sort()).toEqual(Object.keys(configSchema.shape).filter((key) => !NOT_AN_ADDON_OPTION.includes(key)).sort());
    expect(Object.keys(secondarySchema).sort()).toEqual(Object.keys(secondaryConfigSchema.shape).sort());
    expect(Object.keys(chargerMapSchema).sort()).toEqual(
      Object.keys(chargerMapEntrySchema.shape).filter((key) => !NOT_AN_ADDON_CHARGER_MAP_OPTION.includes(key)).sort(),
    );
  });

  it('covers every key of the config file example (the spec\'s config file)', () => {
    const example = JSON.parse(text(new URL('config.example.json', ROOT))) as Record<string, unknown>;
    const paths = (value: unknown, prefix: string): string[] => {
      if (Array.isArray(value)) return value.flatMap((item) => paths(item, `${prefix}[]`));
      if (typeof value !== 'object' || value === null) return [];
      return Object.entries(value).flatMap(([key, item]) => [`${prefix}${key}`, ...paths(item, `${prefix}${key}.`)]);
    };
    const haPaths = new Set(paths(haSchema, ''));
    for (const path of paths(example, '').filter((path) => !path.startsWith('$schema'))) expect(haPaths, path).toContain(path);
  });

  it('types every option as the proxy does: URLs as ws:// or wss://, the password as password, the same ranges and levels', () => {
    expect(haSchema.primary_csms_url).toBe(WS_URL_MATCH);
    expect(secondarySchema.url).toBe(WS_URL_MATCH);
    expect(chargerMapSchema.password).toBe('password?');
    expect(chargerMapSchema.charger_id).toBe('str');
    expect(haSchema.log_level).toBe(`list(${LOG_LEVELS.join('|')})?`);

    interface JsonProperty { type?: string; minimum?: number; maximum?: number; anyOf?: JsonProperty[] }
    const json = configJsonSchema().properties as Record<string, JsonProperty>;
    for (const [key, type] of Object.entries(haSchema)) {
      // An "integer or a word" option (workers: n | auto) is offered as its integer range.
      const declared = json[key];
      const property = declared?.anyOf?.find((branch) => branch.type === 'integer') ?? declared;
      if (typeof type !== 'string' || property === undefined) continue;
      if (property.type === 'boolean') expect(type, key).toBe('bool?');
      if (property.type === 'integer') {
        const max = property.maximum === undefined || property.maximum >= Number.MAX_SAFE_INTEGER ? '' : String(property.maximum);
        expect(type, key).toBe(`int(${String(property.minimum)},${max})?`);
      }
    }
    for (const key of ['append_charge_point_id', 'forward_authorization']) expect(secondarySchema[key], key).toBe('bool?');
  });

  it('refuses in the form a URL the proxy would refuse at start-up (http://, no host, a #fragment), and takes ws:// and wss://', () => {
    const primary = (url: string): Record<string, unknown> => ({ ...haOptions, primary_csms_url: url });
    const refusedByTheProxy = ['http://csms.example.com/ocpp', 'https://csms.example.com/ocpp', 'csms.example.com/ocpp', 'ws://', 'ws://csms.example.com/ocpp#x'];
    // The proxy would read these as a host "ocpp" and as a trimmed URL; the form asks for what was meant.
    const misreadByTheProxy = ['wss:///ocpp', ' wss://csms.example.com'];
    for (const url of refusedByTheProxy) expect(() => asTheAddonLoadsIt({ primary_csms_url: url }), url).toThrow();
    for (const url of [...refusedByTheProxy, ...misreadByTheProxy]) {
      expect(() => validateHaOptions(haSchema, primary(url)), url).toThrow(`Invalid value for option 'primary_csms_url': does not match regular expression`);
      const secondary = { ...primary('wss://csms.example.com/ocpp'), secondary_csms: [{ url, charger_map: [] }] };
      expect(() => validateHaOptions(haSchema, secondary), url).toThrow(`Invalid value for option 'url': does not match regular expression`);
    }
    for (const url of ['ws://192.168.1.10:8080/ocpp', 'wss://csms.example.com/ocpp', 'wss://user:pass@csms.example.com:443/ocpp/v16?tenant=7', 'ws://[::1]:9000']) {
      const { options } = validateHaOptions(haSchema, primary(url));
      expect(asTheAddonLoadsIt(options).config.primary_csms_url, url).toBe(url);
    }
  });

  it('cannot start until primary_csms_url is filled in', () => {
    expect(haOptions.primary_csms_url).toBeNull();
    expect(() => validateHaOptions(haSchema, haOptions)).toThrow(new HaOptionsError("Missing required option 'primary_csms_url'"));
  });

  it('its default options, with the primary filled in, pass the Supervisor and start the proxy with /data', () => {
    const { options, warnings } = validateHaOptions(haSchema, { ...haOptions, primary_csms_url: 'wss://csms.example.com/ocpp' });
    expect(warnings).toEqual([]);
    const { config, warnings: proxyWarnings } = asTheAddonLoadsIt(options);
    expect(proxyWarnings).toEqual([]);
    expect(config).toMatchObject({ primary_csms_url: 'wss://csms.example.com/ocpp', data_dir: '/data', port: 9000, log_level: 'info', log_max_message_length: 120 });
  });

  it('the example in DOCS.md passes the Supervisor and gives the proxy the same config as config.example.json', () => {
    const example = firstYamlBlock(text(new URL('DOCS.md', ADDON)));
    const { options, warnings } = validateHaOptions(haSchema, example);
    expect(warnings).toEqual([]);
    const fromAddon = asTheAddonLoadsIt(options);
    expect(fromAddon.warnings).toEqual([]);
    const fromFile = resolveConfig({ flags: { config: 'config.json' }, env: { DATA_DIR: '/data' }, readFile: () => text(new URL('config.example.json', ROOT)) });
    expect(fromAddon.config).toEqual(fromFile.config);
  });

  it('needs `charger_map: []` in a secondary without mappings (the Supervisor cannot make a list optional), as DOCS.md says', () => {
    const withoutMap = { primary_csms_url: 'wss://csms.example.com/ocpp', secondary_csms: [{ url: 'wss://analytics.example.com/ocpp' }] };
    expect(() => validateHaOptions(haSchema, withoutMap)).toThrow("Missing option 'charger_map' in secondary_csms");
    expect(text(new URL('DOCS.md', ADDON))).toContain("Missing option 'charger_map' in secondary_csms");
    expect(text(new URL('DOCS.md', ADDON))).toContain('charger_map: []');
  });

  it('passes every optional setting through to the proxy', () => {
    const everything = {
      primary_csms_url: 'wss://csms.example.com/ocpp',
      primary_csms_append_charge_point_id: false,
      primary_connect_timeout_ms: 20_000,
      secondary_csms: [
        {
          url: 'wss://b.example.com/ocpp',
          name: 'b',
          append_charge_point_id: false,
          forward_authorization: false,
          charger_map: [{ charger_id: 'CP-1', mapped_charger_id: 'X-1', password: 'pw', id_tag: 'TAG' }],
        },
      ],
      log_level: 'debug',
      log_max_message_length: 0,
      log_format: 'pretty',
      strict_config: true,
      trust_proxy: true,
      max_message_size_bytes: 8_388_608,
      ping_interval_ms: 0,
      ping_max_missed: 3,
      shutdown_timeout_ms: 5000,
      permessage_deflate: false,
      secondary_connect_timeout_ms: 20_000,
      secondary_reconnect_delay_ms: 5000,
      secondary_reconnect_max_delay_ms: 300_000,
      secondary_ping_interval_ms: 0,
      secondary_answer_timeout_ms: 60_000,
      secondary_max_attempts: 5,
      secondary_queue_limit: 50_000,
      charger_auth: 'both',
      chargers: [{ id: 'CP-1', password_hash: 'scrypt$16384$8$1$MHSyzeoHvrg2C7SfwOlmUQ$1s7xJSpSKSOJTbUVjuDAgj89Bpth5ni20Vla7Rrk4Mg' }],
      allowed_chargers: ['CP-*'],
    };
    const { options, warnings } = validateHaOptions(haSchema, everything);
    expect(warnings).toEqual([]);
    const { config, warnings: proxyWarnings } = asTheAddonLoadsIt(options);
    expect(proxyWarnings).toEqual([]);
    expect(config).toMatchObject(everything);
  });
});

describe('ocpp-splitter/config.yaml: charger authentication', () => {
  const HASH = 'scrypt$16384$8$1$MHSyzeoHvrg2C7SfwOlmUQ$1s7xJSpSKSOJTbUVjuDAgj89Bpth5ni20Vla7Rrk4Mg';

  it('passes charger_auth, chargers and allowed_chargers through the Supervisor to the proxy', () => {
    const options = {
      primary_csms_url: 'wss://csms.example.com/ocpp',
      secondary_csms: [],
      charger_auth: 'local',
      chargers: [{ id: 'CP-1', password_hash: HASH }],
      allowed_chargers: ['CP-*'],
    };
    const validated = validateHaOptions(haSchema, options);
    expect(validated.warnings).toEqual([]);
    expect(asTheAddonLoadsIt(validated.options).config).toMatchObject(options);
    expect(() => validateHaOptions(haSchema, { ...options, charger_auth: 'ldap' })).toThrow("Invalid value for option 'charger_auth'");
  });

  it('needs `chargers: []` when not used (a list of entries cannot be optional), which its default options have', () => {
    expect(haOptions.chargers).toEqual([]);
    expect(() => validateHaOptions(haSchema, { primary_csms_url: 'wss://csms.example.com/ocpp', secondary_csms: [] })).toThrow("Missing option 'chargers'");
    expect(text(new URL('DOCS.md', ADDON))).toContain('chargers: []');
  });
});

describe('ocpp-splitter/config.yaml: TLS', () => {
  it('maps Home Assistant\'s /ssl folder read-only, in the Supervisor\'s current form of `map`', () => {
    expect(manifest.map).toEqual([{ type: 'ssl', read_only: true }]);
    expect(text(new URL('DOCS.md', ADDON))).toContain('tls_cert_file: /ssl/fullchain.pem');
  });

  it('passes the TLS options (file paths as str?) through the Supervisor to the proxy', () => {
    const options = {
      primary_csms_url: 'wss://csms.example.com/ocpp',
      primary_csms_ca_file: '/ssl/csms-ca.pem',
      primary_csms_cert_file: '/ssl/proxy.pem',
      primary_csms_key_file: '/ssl/proxy.key',
      secondary_csms: [{ url: 'wss://lab.example.com/ocpp', ca_file: '/ssl/lab-ca.pem', reject_unauthorized: false, charger_map: [] }],
      chargers: [],
      tls_cert_file: '/ssl/fullchain.pem',
      tls_key_file: '/ssl/privkey.pem',
      tls_ca_file: '/ssl/chargers-ca.pem',
      tls_client_auth: 'require',
      tls_client_identity: 'cn',
    };
    const validated = validateHaOptions(haSchema, options);
    expect(validated.warnings).toEqual([]);
    expect(asTheAddonLoadsIt(validated.options).config).toMatchObject(options);
    for (const key of ['tls_cert_file', 'tls_key_file', 'tls_ca_file', 'primary_csms_ca_file', 'primary_csms_cert_file', 'primary_csms_key_file']) {
      expect(haSchema[key], key).toBe('str?');
    }
    expect(() => validateHaOptions(haSchema, { ...options, tls_client_auth: 'optional' })).toThrow("Invalid value for option 'tls_client_auth'");
  });
});

describe('ocpp-splitter/Dockerfile', () => {
  const steps = readDockerfile(new URL('Dockerfile', ADDON));
  const runs = steps.filter((step) => step.keyword === 'RUN').map((step) => step.args).join(' && ');

  it('builds on the base image build.yaml names and installs the package of the add-on\'s version', () => {
    expect(steps[0]).toMatchObject({ keyword: 'ARG', args: 'BUILD_FROM' });
    expect(steps[1]).toMatchObject({ keyword: 'FROM', args: '${BUILD_FROM}' });
    expect(steps.some((step) => step.keyword === 'ARG' && step.args === 'BUILD_VERSION')).toBe(true);
    expect(runs).toContain('npm install --omit=dev --no-audit --no-fund "ocpp-splitter@${BUILD_VERSION}"');
  });

  it('installs the same way as the container image (same package.json for the install, same npm flags)', () => {
    const image = readDockerfile(new URL('Dockerfile', ROOT));
    const imageInstall = image.find((step) => step.keyword === 'RUN' && step.args.includes('npm install'))?.args ?? '';
    const [packageJsonLine, npmInstall] = imageInstall.split(' && ');
    expect(runs).toContain(String(packageJsonLine));
    expect(runs).toContain(String(npmInstall).replace('/tmp/ocpp-splitter.tgz', '"ocpp-splitter@${BUILD_VERSION}"'));
  });

  it('reads /data/options.json, keeps its state in /data, and runs the proxy as PID 1 (config.yaml: init: false)', () => {
    const env = steps.filter((step) => step.keyword === 'ENV').map((step) => step.args).join(' ');
    expect(env).toContain('CONFIG_FILE=/data/options.json');
    expect(env).toContain('DATA_DIR=/data');
    const entrypoint = steps.find((step) => step.keyword === 'ENTRYPOINT')?.args;
    expect(entrypoint).toBe('["node", "/opt/ocpp-splitter/node_modules/ocpp-splitter/dist/cli.js"]');
    expect(steps.some((step) => step.keyword === 'USER')).toBe(false);
  });
});

describe('ocpp-splitter/translations/en.yaml and DOCS.md', () => {
  const translations = yamlAt(new URL('translations/en.yaml', ADDON));
  interface Translation {
    name?: string;
    description?: string;
    fields?: Record<string, Translation>;
  }
  const configuration = translations.configuration as Record<string, Translation>;
  const docs = text(new URL('DOCS.md', ADDON));

  it.each(Object.keys(haSchema))('names and describes %s', (key) => {
    expect(configuration[key]?.name, key).toBeTruthy();
    expect(configuration[key]?.description, key).toBeTruthy();
    expect(docs).toContain(`\`${key}\``);
  });

  it('names and describes every field inside secondary_csms and charger_map (nested `fields`), and the port', () => {
    const secondaryFields = configuration.secondary_csms?.fields ?? {};
    const chargerMapFields = secondaryFields.charger_map?.fields ?? {};
    expect(Object.keys(secondaryFields).sort()).toEqual(Object.keys(secondarySchema).sort());
    expect(Object.keys(chargerMapFields).sort()).toEqual(Object.keys(chargerMapSchema).sort());
    for (const [key, field] of [...Object.entries(secondaryFields), ...Object.entries(chargerMapFields)]) {
      expect(field.name, key).toBeTruthy();
      expect(field.description, key).toBeTruthy();
      expect(docs, key).toContain(`\`${key}\``);
    }
    expect(Object.keys(configuration).sort()).toEqual(Object.keys(haSchema).sort());
    expect((translations.network as Record<string, string>)['9000/tcp']).toBeTruthy();
  });

  it('has the shape the Supervisor accepts (SCHEMA_ADDON_TRANSLATIONS: name, description, nested fields)', () => {
    const problems = (entries: unknown, path: string): string[] => {
      if (typeof entries !== 'object' || entries === null) return [`${path}: not a mapping`];
      return Object.entries(entries).flatMap(([key, entry]: [string, unknown]) => {
        if (typeof entry !== 'object' || entry === null) return [`${path}.${key}: not a mapping`];
        const { name, description, fields, ...rest } = entry as Record<string, unknown>;
        return [
          ...(typeof name === 'string' ? [] : [`${path}.${key}.name: required text`]),
          ...(description === undefined || description === null || typeof description === 'string' ? [] : [`${path}.${key}.description: text`]),
          ...Object.keys(rest).map((extra) => `${path}.${key}.${extra}: not a translation key`),
          ...(fields === undefined ? [] : problems(fields, `${path}.${key}.fields`)),
        ];
      });
    };
    expect(problems(translations.configuration, 'configuration')).toEqual([]);
    expect(Object.keys(translations).sort()).toEqual(['configuration', 'network']);
  });

  it('DOCS.md has set-up and troubleshooting', () => {
    expect(docs).toMatch(/^## Set-up$/m);
    expect(docs).toMatch(/^## Troubleshooting$/m);
    expect(docs).toContain('ws://<home-assistant-ip>:9000/CHARGER-001');
  });
});

describe('ocpp-splitter/icon.png and logo.png', () => {
  /** Decodes a PNG's header and checks every chunk's CRC and that the image data inflates to the right size. */
  function readPng(name: string): { width: number; height: number; colourType: number } {
    const png = readFileSync(new URL(name, ADDON));
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    let offset = 8;
    let header: { width: number; height: number; colourType: number } | undefined;
    const data: Buffer[] = [];
    while (offset < png.length) {
      const length = png.readUInt32BE(offset);
      const type = png.toString('ascii', offset + 4, offset + 8);
      const body = png.subarray(offset + 8, offset + 8 + length);
      if (type === 'IHDR') header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), colourType: body[9] ?? -1 };
      if (type === 'IDAT') data.push(body);
      offset += 12 + length;
      if (type === 'IEND') break;
    }
    expect(offset).toBe(png.length);
    if (header === undefined) throw new Error(`${name}: no IHDR`);
    const rgbaRowBytes = header.width * 4 + 1;
    expect(inflateSync(Buffer.concat(data)).length).toBe(rgbaRowBytes * header.height);
    return header;
  }

  it('icon.png is a 128×128 RGBA PNG', () => {
    expect(readPng('icon.png')).toEqual({ width: 128, height: 128, colourType: 6 });
  });

  it('logo.png is a 250×100 RGBA PNG', () => {
    expect(readPng('logo.png')).toEqual({ width: 250, height: 100, colourType: 6 });
  });
});
