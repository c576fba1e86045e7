import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { ConfigError, ErrorCode } from '../../src/errors.js';
import { DEFAULT_CONFIG_FILE, resolveConfig, type ConfigSources, type ResolvedConfig } from '../../src/config/load.js';
import { EXPECTED_DEFAULTS } from './defaults.js';

const PRIMARY = 'wss://primary.example.com/ocpp';

const tempDir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-config-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

let fileCounter = 0;
/** Writes a real file and returns its path. */
function writeTemp(name: string, content: string): string {
  fileCounter += 1;
  const dir = join(tempDir, String(fileCounter));
  mkdirSync(dir);
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
}

/** A reader serving a map of in-memory files; anything else is ENOENT. */
function files(contents: Record<string, unknown>): (path: string) => string {
  return (path) => {
    const content = contents[path];
    if (content === undefined) throw enoent(path);
    return typeof content === 'string' ? content : JSON.stringify(content);
  };
}

function resolve(overrides: Partial<ConfigSources> & { file?: unknown } = {}): ResolvedConfig {
  const { file, ...rest } = overrides;
  return resolveConfig({
    flags: {},
    env: {},
    readFile: files(file === undefined ? {} : { [DEFAULT_CONFIG_FILE]: file }),
    ...rest,
  });
}

/** The ConfigError thrown by `fn`; fails the test if none is thrown. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig: defaults and config file location', () => {
  it('uses schema defaults when only the primary URL is given', () => {
    const { config, warnings, configFile } = resolve({ env: { PRIMARY_CSMS_URL: PRIMARY } });
    expect(config).toEqual({ ...EXPECTED_DEFAULTS, primary_csms_url: PRIMARY });
    expect(warnings).toEqual([]);
    expect(configFile).toEqual({ path: DEFAULT_CONFIG_FILE, loaded: false });
  });

  it('reads the Home Assistant options file by default', () => {
    const { config, configFile } = resolve({ file: { primary_csms_url: PRIMARY, port: 9100 } });
    expect(config.port).toBe(9100);
    expect(configFile).toEqual({ path: DEFAULT_CONFIG_FILE, loaded: true });
  });

  it('accepts a missing default file without a warning, with the real file system', () => {
    const result = resolveConfig({
      flags: {},
      env: { CONFIG_FILE: '', PRIMARY_CSMS_URL: PRIMARY },
    });
    // /data/options.json normally does not exist on a dev machine or CI runner.
    if (!result.configFile.loaded) expect(result.warnings).toEqual([]);
    expect(result.configFile.path).toBe(DEFAULT_CONFIG_FILE);
  });

  it('fails when a file named by --config is missing', () => {
    const path = join(tempDir, 'nope', 'config.json');
    const error = configError(() => resolveConfig({ flags: { config: path }, env: { PRIMARY_CSMS_URL: PRIMARY } }));
    expect(error.code).toBe(ErrorCode.ConfigFileNotFound);
    expect(error.message).toBe(`config file not found: ${path} (named by --config)`);
  });

  it('fails when a file named by CONFIG_FILE is missing', () => {
    const path = join(tempDir, 'missing.yaml');
    const error = configError(() => resolveConfig({ flags: {}, env: { CONFIG_FILE: path, PRIMARY_CSMS_URL: PRIMARY } }));
    expect(error.code).toBe(ErrorCode.ConfigFileNotFound);
    expect(error.message).toBe(`config file not found: ${path} (named by CONFIG_FILE)`);
  });

  it('prefers --config over CONFIG_FILE', () => {
    const fromFlag = writeTemp('flag.json', JSON.stringify({ primary_csms_url: PRIMARY, port: 1111 }));
    const fromEnv = writeTemp('env.json', JSON.stringify({ primary_csms_url: PRIMARY, port: 2222 }));
    const { config, configFile } = resolveConfig({ flags: { config: fromFlag }, env: { CONFIG_FILE: fromEnv } });
    expect(config.port).toBe(1111);
    expect(configFile).toEqual({ path: fromFlag, loaded: true });
  });

  it('reports a file that exists but cannot be read', () => {
    const dir = join(tempDir, 'a-directory.json');
    mkdirSync(dir);
    const error = configError(() => resolveConfig({ flags: { config: dir }, env: {} }));
    expect(error.code).toBe(ErrorCode.ConfigFileUnreadable);
    expect(error.message).toMatch(new RegExp(`^cannot read config file ${dir}: EISDIR`));
    expect(error.message).not.toContain('\n');
  });

  it.skipIf(process.getuid?.() === 0)('reports a file without read permission', () => {
    const path = writeTemp('secret.json', '{}');
    chmodSync(path, 0o000);
    const error = configError(() => resolveConfig({ flags: { config: path }, env: {} }));
    expect(error.code).toBe(ErrorCode.ConfigFileUnreadable);
    expect(error.message).toContain('EACCES');
  });
});

describe('resolveConfig: file formats', () => {
  const example = {
    primary_csms_url: 'wss://your-primary-csms.example.com/ocpp',
    secondary_csms: [
      { url: 'wss://analytics.example.com/ocpp' },
      {
        url: 'wss://other-backend.example.com/ocpp',
        charger_map: [
          {
            charger_id: 'CHARGER-001',
            mapped_charger_id: 'ext-CHARGER-001',
            password: 'secret123',
            id_tag: 'HARDCODED-TAG',
          },
        ],
      },
    ],
    log_level: 'info',
  };

  const expectedSecondaries = [
    { url: 'wss://analytics.example.com/ocpp', append_charge_point_id: true, reject_unauthorized: true, charger_map: [] },
    {
      url: 'wss://other-backend.example.com/ocpp',
      append_charge_point_id: true,
      reject_unauthorized: true,
      charger_map: [
        { charger_id: 'CHARGER-001', mapped_charger_id: 'ext-CHARGER-001', password: 'secret123', id_tag: 'HARDCODED-TAG' },
      ],
    },
  ];

  it('parses the spec\'s example config.json', () => {
    const path = writeTemp('config.json', JSON.stringify(example, null, 2));
    const { config, warnings, configFile } = resolveConfig({ flags: { config: path }, env: {} });
    expect(config.primary_csms_url).toBe('wss://your-primary-csms.example.com/ocpp');
    expect(config.secondary_csms).toEqual(expectedSecondaries);
    expect(config.log_level).toBe('info');
    expect(warnings).toEqual([]);
    expect(configFile).toEqual({ path, loaded: true });
  });

  it('parses the spec\'s example Home Assistant YAML', () => {
    const yaml = [
      'primary_csms_url: "wss://your-primary-csms.example.com/ocpp"',
      'secondary_csms:',
      '  - url: "wss://analytics.example.com/ocpp"',
      '  - url: "wss://other-backend.example.com/ocpp"',
      '    charger_map:',
      '      - charger_id: CHARGER-001',
      '        mapped_charger_id: ext-CHARGER-001',
      '        password: secret123',
      '        id_tag: HARDCODED-TAG',
      'log_level: info',
      '',
    ].join('\n');
    for (const name of ['config.yaml', 'config.yml', 'options.conf']) {
      const path = writeTemp(name, yaml);
      const { config } = resolveConfig({ flags: { config: path }, env: {} });
      expect(config.secondary_csms).toEqual(expectedSecondaries);
    }
  });

  it('reads JSON from a file with another extension', () => {
    const path = writeTemp('options.conf', JSON.stringify({ primary_csms_url: PRIMARY, port: 9005 }));
    expect(resolveConfig({ flags: { config: path }, env: {} }).config.port).toBe(9005);
  });

  it('accepts a UTF-8 byte order mark', () => {
    const path = writeTemp('bom.json', `\uFEFF${JSON.stringify({ primary_csms_url: PRIMARY })}`);
    expect(resolveConfig({ flags: { config: path }, env: {} }).config.primary_csms_url).toBe(PRIMARY);
  });

  it('treats an empty YAML file as all defaults', () => {
    const path = writeTemp('empty.yaml', '# nothing set yet\n');
    const { config, configFile } = resolveConfig({ flags: { config: path }, env: { PRIMARY_CSMS_URL: PRIMARY } });
    expect(config.port).toBe(9000);
    expect(configFile.loaded).toBe(true);
  });

  it('reports unparsable JSON with the path and a one-line reason', () => {
    const path = writeTemp('broken.json', '{ "primary_csms_url": "wss://x", }');
    const error = configError(() => resolveConfig({ flags: { config: path }, env: {} }));
    expect(error.code).toBe(ErrorCode.ConfigFileUnreadable);
    expect(error.message).toMatch(new RegExp(`^cannot parse config file ${path}: invalid JSON: .+`));
    expect(error.message).not.toContain('\n');
  });

  it('reports unparsable YAML with the path and a one-line reason', () => {
    const path = writeTemp('broken.yaml', 'primary_csms_url: [wss://x\nport: 1\n');
    const error = configError(() => resolveConfig({ flags: { config: path }, env: {} }));
    expect(error.code).toBe(ErrorCode.ConfigFileUnreadable);
    expect(error.message).toMatch(new RegExp(`^cannot parse config file ${path}: invalid YAML: .*line \\d+`));
    expect(error.message).not.toContain('\n');
  });

  it('reports duplicate YAML keys instead of silently taking one', () => {
    const path = writeTemp('dup.yml', 'port: 1\nport: 2\n');
    expect(configError(() => resolveConfig({ flags: { config: path }, env: {} })).code).toBe(
      ErrorCode.ConfigFileUnreadable,
    );
  });

  it('reports a file with another extension that is neither JSON nor YAML', () => {
    const path = writeTemp('options.txt', '{ "port": [1, }');
    const error = configError(() => resolveConfig({ flags: { config: path }, env: {} }));
    expect(error.code).toBe(ErrorCode.ConfigFileUnreadable);
    expect(error.message).toMatch(/neither JSON \(.+\) nor YAML \(.+\)$/);
  });

  it.each([
    ['[1, 2]', 'a list'],
    ['"wss://x"', 'a string'],
    ['42', 'a number'],
  ])('requires an object at the top level (%s)', (content, kind) => {
    const error = configError(() => resolve({ file: content }));
    expect(error.code).toBe(ErrorCode.ConfigFileUnreadable);
    expect(error.message).toBe(
      `cannot parse config file ${DEFAULT_CONFIG_FILE}: the top level must be a mapping of option names to values, not ${kind}`,
    );
  });

  it('treats null values as absent, at every depth (Home Assistant writes them)', () => {
    const { config, warnings } = resolve({
      file: {
        primary_csms_url: PRIMARY,
        port: null,
        host: null,
        log_level: null,
        secondary_csms: [
          { url: 'wss://a.example.com', name: null, charger_map: [{ charger_id: 'A', password: null, id_tag: null }] },
        ],
      },
    });
    expect(config.port).toBe(9000);
    expect(config.host).toBeUndefined();
    expect(config.log_level).toBe('info');
    expect(config.secondary_csms).toEqual([
      { url: 'wss://a.example.com', append_charge_point_id: true, reject_unauthorized: true, charger_map: [{ charger_id: 'A' }] },
    ]);
    expect(warnings).toEqual([]);
  });

  it('treats a null secondary_csms as the default empty list', () => {
    expect(resolve({ file: { primary_csms_url: PRIMARY, secondary_csms: null } }).config.secondary_csms).toEqual([]);
  });
});

describe('resolveConfig: unknown keys', () => {
  it('warns about unknown keys at the top and nested levels and still loads', () => {
    const { config, warnings } = resolve({
      file: {
        primary_csms_url: PRIMARY,
        primary_csms_ur: 'wss://typo.example.com',
        secondary_csms: [
          { url: 'wss://a.example.com', nmae: 'x', charger_map: [{ charger_id: 'A', pasword: 'hunter2' }] },
        ],
      },
    });
    expect(config.primary_csms_url).toBe(PRIMARY);
    expect(config.secondary_csms[0]?.charger_map).toEqual([{ charger_id: 'A' }]);
    expect(warnings.sort()).toEqual([
      `unknown option "primary_csms_ur" in ${DEFAULT_CONFIG_FILE} (ignored): did you mean "primary_csms_url"?`,
      `unknown option "secondary_csms[0].charger_map[0].pasword" in ${DEFAULT_CONFIG_FILE} (ignored): did you mean "password"?`,
      `unknown option "secondary_csms[0].nmae" in ${DEFAULT_CONFIG_FILE} (ignored): did you mean "name"?`,
    ]);
    expect(warnings.join('\n')).not.toContain('hunter2');
  });

  it('suggests a key of the same level only, and nothing when no key is close', () => {
    const { warnings } = resolve({
      file: {
        primary_csms_url: PRIMARY,
        chargermap: [],
        secondary_csms: [{ url: 'wss://a.example.com', chargermap: [], backend: 'x' }],
      },
    });
    expect(warnings.sort()).toEqual([
      `unknown option "chargermap" in ${DEFAULT_CONFIG_FILE} (ignored)`,
      `unknown option "secondary_csms[0].backend" in ${DEFAULT_CONFIG_FILE} (ignored)`,
      `unknown option "secondary_csms[0].chargermap" in ${DEFAULT_CONFIG_FILE} (ignored): did you mean "charger_map"?`,
    ]);
  });

  it('still reports bad values next to unknown keys', () => {
    const error = configError(() => resolve({ file: { primary_csms_url: PRIMARY, port: 'x', typo: 1 } }));
    expect(error.message).toBe(
      `invalid configuration: port="x" (${DEFAULT_CONFIG_FILE}): expected an integer from 0 to 65535`,
    );
  });

  it('treats a "__proto__" key as an ordinary unknown key', () => {
    const { config, warnings } = resolve({ file: `{"primary_csms_url": "${PRIMARY}", "__proto__": {"port": 1}}` });
    expect(config.port).toBe(9000);
    expect(warnings).toEqual([`unknown option "__proto__" in ${DEFAULT_CONFIG_FILE} (ignored)`]);
  });
});

describe('resolveConfig: strict_config', () => {
  const typo = { primary_csms_url: PRIMARY, secondary_csms: [{ url: 'wss://a.example.com', chargermap: [{ charger_id: 'A' }] }] };
  const strictError = `unknown option "secondary_csms[0].chargermap" in ${DEFAULT_CONFIG_FILE}: did you mean "charger_map"? (an error because strict_config is on: fix or remove the key)`;

  it.each([
    ['strict_config: true in the file', { file: { ...typo, strict_config: true } }],
    ['STRICT_CONFIG=true', { file: typo, env: { STRICT_CONFIG: 'true' } }],
    ['STRICT_CONFIG=1', { file: typo, env: { STRICT_CONFIG: '1' } }],
    ['--strict', { file: typo, flags: { strict: true } }],
    ['--strict over STRICT_CONFIG=false', { file: typo, env: { STRICT_CONFIG: 'false' }, flags: { strict: true } }],
  ])('turns unknown keys into one error line each with %s', (_how, sources) => {
    const error = configError(() => resolve(sources));
    expect(error.code).toBe(ErrorCode.ConfigInvalid);
    expect(error.message).toBe(strictError);
  });

  it('STRICT_CONFIG=false overrides strict_config: true in the file', () => {
    const { warnings, config } = resolve({ file: { ...typo, strict_config: true }, env: { STRICT_CONFIG: 'false' } });
    expect(config.strict_config).toBe(false);
    expect(warnings).toHaveLength(1);
  });

  it('is off by default, and a file without unknown keys loads under it', () => {
    expect(resolve({ file: typo }).config.strict_config).toBe(false);
    const { config, warnings } = resolve({ file: { primary_csms_url: PRIMARY, strict_config: true } });
    expect(config.strict_config).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('a STRICT_CONFIG that is not a boolean is an error naming it', () => {
    const error = configError(() => resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, STRICT_CONFIG: 'maybe' } }));
    expect(error.message).toBe('invalid configuration: STRICT_CONFIG="maybe" (environment): expected true or false');
  });
});

describe('resolveConfig: syntax errors name the line and the column', () => {
  it.each([
    ['trailing comma', 'a.json', '{\n  "primary_csms_url": "wss://x",\n}\n', 'invalid JSON: line 3, column 1: Expected double-quoted property name (a comma before a closing bracket?)'],
    ['missing colon', 'b.json', '{\n  "port" 1\n}', "invalid JSON: line 2, column 10: Expected ':' after property name"],
    ['cut short', 'c.json', '{"port": 1', 'invalid JSON: line 1, column 11: unexpected end of the file'],
    ['unquoted value (review: V8 quoted the text around it)', 'f.json', '{\n  "password": hunter2sec\n}', 'invalid JSON: line 2, column 15: unexpected character'],
    ['trailing content (review: no position was found)', 'g.json', '{"a":1}{"b":2}', 'invalid JSON: line 1, column 8: '],
    ['bad indentation', 'd.yaml', 'port: 1\n  host: x\n', 'invalid YAML: line 1, column 7: '],
    ['unterminated quote', 'e.yml', 'port: 1\nhost: "x\n', 'invalid YAML: line 3, column 1: Missing closing "quote'],
  ])('%s', (_what, name, text, reason) => {
    const path = writeTemp(name, text);
    const error = configError(() => resolveConfig({ flags: { config: path }, env: {} }));
    expect(error.code).toBe(ErrorCode.ConfigFileUnreadable);
    expect(error.message.startsWith(`cannot parse config file ${path}: ${reason}`), error.message).toBe(true);
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('position');
  });

  it('a JSON syntax error never shows the text around it, whatever the error (review)', () => {
    for (const text of ['{"password": hunter2secret}', '{"primary_csms_url": wss://user:S3CRET@h/x}', '["hunter2secret" "x"]']) {
      const path = writeTemp('leak.json', text);
      const message = configError(() => resolveConfig({ flags: { config: path }, env: {} })).message;
      expect(message).not.toMatch(/hunter2|S3CRET|user/);
      expect(message).toMatch(/line 1, column \d+/);
    }
  });

  it('a JSON syntax error never shows the text around it (it may be a password)', () => {
    const path = writeTemp('secret.json', '{"secondary_csms": [{"url": "wss://a", "charger_map": [{"charger_id": "A", "password": "hunter2" x}]}]}');
    expect(configError(() => resolveConfig({ flags: { config: path }, env: {} })).message).not.toContain('hunter2');
  });
});

describe('resolveConfig: log_format', () => {
  it('is json by default; LOG_FORMAT and --log-format set it, the flag winning', () => {
    expect(resolve({ file: { primary_csms_url: PRIMARY } }).config.log_format).toBe('json');
    expect(resolve({ file: { primary_csms_url: PRIMARY }, env: { LOG_FORMAT: 'pretty' } }).config.log_format).toBe('pretty');
    expect(
      resolve({ file: { primary_csms_url: PRIMARY, log_format: 'pretty' }, env: { LOG_FORMAT: 'pretty' }, flags: { logFormat: 'json' } }).config.log_format,
    ).toBe('json');
  });

  it('anything else is an error naming where it was set', () => {
    const error = configError(() => resolve({ file: { primary_csms_url: PRIMARY }, flags: { logFormat: 'text' } }));
    expect(error.message).toBe('invalid configuration: --log-format="text" (command line): expected one of json, pretty');
  });
});

describe('resolveConfig: precedence flags > env > file > defaults', () => {
  const layered = [
    { key: 'port', file: 1001, env: ['PORT', '1002'], flag: ['port', '1003'], values: [1001, 1002, 1003] },
    {
      key: 'primary_csms_url',
      file: 'wss://file.example.com',
      env: ['PRIMARY_CSMS_URL', 'wss://env.example.com'],
      flag: ['primary', 'wss://flag.example.com'],
      values: ['wss://file.example.com', 'wss://env.example.com', 'wss://flag.example.com'],
    },
    { key: 'log_level', file: 'warn', env: ['LOG_LEVEL', 'debug'], flag: ['logLevel', 'trace'], values: ['warn', 'debug', 'trace'] },
    { key: 'data_dir', file: '/file', env: ['DATA_DIR', '/env'], flag: ['dataDir', '/flag'], values: ['/file', '/env', '/flag'] },
    { key: 'log_max_message_length', file: 10, env: ['LOG_MAX_MESSAGE_LENGTH', '20'], values: [10, 20] },
    { key: 'host', file: '127.0.0.1', flag: ['host', '::1'], values: ['127.0.0.1', '::1'] },
  ] as const;

  for (const option of layered) {
    describe(option.key, () => {
      const base = { primary_csms_url: PRIMARY };
      const file = { ...base, [option.key]: option.file };
      const env = 'env' in option ? { [option.env[0]]: option.env[1] } : {};
      const flags = 'flag' in option ? { [option.flag[0]]: option.flag[1] } : {};
      const read = (config: ResolvedConfig['config']): unknown => config[option.key];

      it('file beats the default', () => {
        expect(read(resolve({ file }).config)).toEqual(option.values[0]);
      });

      if ('env' in option) {
        it('env beats the file', () => {
          expect(read(resolve({ file, env }).config)).toEqual(option.values[1]);
        });
        it('an empty env value counts as unset', () => {
          expect(read(resolve({ file, env: { [option.env[0]]: '' } }).config)).toEqual(option.values[0]);
        });
      }

      if ('flag' in option) {
        it('the flag beats env and file', () => {
          expect(read(resolve({ file, env, flags }).config)).toEqual(option.values.at(-1));
        });
      }
    });
  }

  it('trims env values', () => {
    expect(resolve({ env: { PRIMARY_CSMS_URL: ` ${PRIMARY}\n`, PORT: ' 9001 ' } }).config).toMatchObject({
      primary_csms_url: PRIMARY,
      port: 9001,
    });
  });

  it('treats a whitespace-only env value as unset', () => {
    expect(resolve({ file: { primary_csms_url: PRIMARY, port: 9002 }, env: { PORT: '  ' } }).config.port).toBe(9002);
  });

  it('leaves options without env var or flag to the file', () => {
    const { config } = resolve({ file: { primary_csms_url: PRIMARY, ping_interval_ms: 0, permessage_deflate: false } });
    expect(config.ping_interval_ms).toBe(0);
    expect(config.permessage_deflate).toBe(false);
  });
});

describe('resolveConfig: secondary CSMS list from env and flags', () => {
  const fileWithSecondaries = {
    primary_csms_url: PRIMARY,
    secondary_csms: [
      { url: 'wss://a.example.com/ocpp', name: 'A', charger_map: [{ charger_id: 'CP-1', mapped_charger_id: 'ext-1' }] },
      { url: 'wss://b.example.com/ocpp', forward_authorization: false },
    ],
  };

  it('parses SECONDARY_CSMS_URLS: comma-separated, trimmed, empty items ignored', () => {
    const { config } = resolve({
      env: { PRIMARY_CSMS_URL: PRIMARY, SECONDARY_CSMS_URLS: ' wss://x.example.com ,, ws://y.example.com:81/p ,' },
    });
    expect(config.secondary_csms.map((secondary) => secondary.url)).toEqual([
      'wss://x.example.com',
      'ws://y.example.com:81/p',
    ]);
    expect(config.secondary_csms[0]).toEqual({
      url: 'wss://x.example.com',
      append_charge_point_id: true,
      reject_unauthorized: true,
      charger_map: [],
    });
  });

  it('replaces the file\'s list, keeping the options of an entry with the same URL', () => {
    const { config } = resolve({
      file: fileWithSecondaries,
      env: { SECONDARY_CSMS_URLS: 'wss://new.example.com,wss://a.example.com/ocpp' },
    });
    expect(config.secondary_csms).toEqual([
      { url: 'wss://new.example.com', append_charge_point_id: true, reject_unauthorized: true, charger_map: [] },
      {
        url: 'wss://a.example.com/ocpp',
        name: 'A',
        append_charge_point_id: true,
        reject_unauthorized: true,
        charger_map: [{ charger_id: 'CP-1', mapped_charger_id: 'ext-1' }],
      },
    ]);
  });

  it('matches file entries by normalised URL', () => {
    const { config } = resolve({ file: fileWithSecondaries, env: { SECONDARY_CSMS_URLS: 'WSS://B.example.com/ocpp' } });
    expect(config.secondary_csms).toEqual([
      { url: 'WSS://B.example.com/ocpp', append_charge_point_id: true, forward_authorization: false, reject_unauthorized: true, charger_map: [] },
    ]);
  });

  it('keeps the file\'s list when SECONDARY_CSMS_URLS is empty', () => {
    const { config } = resolve({ file: fileWithSecondaries, env: { SECONDARY_CSMS_URLS: '' } });
    expect(config.secondary_csms).toHaveLength(2);
  });

  it('--secondary replaces the list and beats SECONDARY_CSMS_URLS', () => {
    const { config } = resolve({
      file: fileWithSecondaries,
      env: { SECONDARY_CSMS_URLS: 'wss://env.example.com' },
      flags: { secondary: ['wss://b.example.com/ocpp', 'wss://flag.example.com'] },
    });
    expect(config.secondary_csms.map((secondary) => [secondary.url, secondary.forward_authorization])).toEqual([
      ['wss://b.example.com/ocpp', false],
      ['wss://flag.example.com', undefined],
    ]);
  });

  it('--secondary "" clears the list', () => {
    const { config } = resolve({ file: fileWithSecondaries, flags: { secondary: [''] } });
    expect(config.secondary_csms).toEqual([]);
  });
});

describe('resolveConfig: error messages', () => {
  it('names env var, value and source', () => {
    const error = configError(() => resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, PORT: 'abc' } }));
    expect(error.code).toBe(ErrorCode.ConfigInvalid);
    expect(error.message).toBe('invalid configuration: PORT="abc" (environment): expected an integer from 0 to 65535');
  });

  it('names the flag, value and source', () => {
    const error = configError(() => resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, PORT: 'abc' }, flags: { port: '70000' } }));
    expect(error.message).toBe('invalid configuration: --port="70000" (command line): expected an integer from 0 to 65535');
  });

  it('names the file path of the option', () => {
    const error = configError(() => resolve({ file: { primary_csms_url: PRIMARY, log_level: 'loud' } }));
    expect(error.message).toBe(
      `invalid configuration: log_level="loud" (${DEFAULT_CONFIG_FILE}): expected one of trace, debug, info, warn, error, silent`,
    );
  });

  it('names LOG_LEVEL and LOG_MAX_MESSAGE_LENGTH', () => {
    const error = configError(() =>
      resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, LOG_LEVEL: 'INFO', LOG_MAX_MESSAGE_LENGTH: '1.5' } }),
    );
    expect(error.message.split('\n')).toEqual([
      'invalid configuration: LOG_LEVEL="INFO" (environment): expected one of trace, debug, info, warn, error, silent',
      'invalid configuration: LOG_MAX_MESSAGE_LENGTH="1.5" (environment): expected an integer of 0 or more (characters)',
    ]);
  });

  it('reports each problem on its own line', () => {
    const error = configError(() =>
      resolve({
        file: {
          primary_csms_url: PRIMARY,
          port: 70_000,
          secondary_csms: [{ url: 'wss://ok.example.com' }, { url: 'http://x' }],
        },
      }),
    );
    expect(error.message.split('\n')).toEqual([
      `invalid configuration: port=70000 (${DEFAULT_CONFIG_FILE}): expected an integer from 0 to 65535`,
      `invalid configuration: secondary_csms[1].url="http://x" (${DEFAULT_CONFIG_FILE}): expected a ws:// or wss:// URL`,
    ]);
  });

  it('says how to set the primary URL when it is missing everywhere', () => {
    const error = configError(() => resolve());
    expect(error.code).toBe(ErrorCode.ConfigInvalid);
    expect(error.message).toBe(
      'invalid configuration: primary_csms_url is required: set it in the config file, PRIMARY_CSMS_URL, or --primary',
    );
  });

  it('names a missing nested field', () => {
    const error = configError(() => resolve({ file: { primary_csms_url: PRIMARY, secondary_csms: [{ name: 'no url' }] } }));
    expect(error.message).toBe(
      `invalid configuration: secondary_csms[0].url (${DEFAULT_CONFIG_FILE}): missing; expected a ws:// or wss:// URL`,
    );
  });

  it('redacts credentials, query and fragment of a URL value', () => {
    const error = configError(() =>
      resolve({ env: { PRIMARY_CSMS_URL: 'https://admin:hunter2@csms.example.com/ocpp?token=t0ps3cret' } }),
    );
    expect(error.message).toBe(
      'invalid configuration: PRIMARY_CSMS_URL="https://csms.example.com/ocpp" (environment): expected a ws:// or wss:// URL',
    );
  });

  it('redacts a bad URL from the file, from --primary and from SECONDARY_CSMS_URLS', () => {
    const error = configError(() =>
      resolve({
        file: { primary_csms_url: PRIMARY, secondary_csms: [{ url: 'ftp://u:hunter2@a.example.com' }] },
        flags: { primary: 'http://u:hunter2@p.example.com' },
      }),
    );
    expect(error.message).not.toContain('hunter2');
    expect(error.message.split('\n')).toEqual([
      'invalid configuration: --primary="http://p.example.com" (command line): expected a ws:// or wss:// URL',
      `invalid configuration: secondary_csms[0].url="ftp://a.example.com" (${DEFAULT_CONFIG_FILE}): expected a ws:// or wss:// URL`,
    ]);

    const fromEnv = configError(() =>
      resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, SECONDARY_CSMS_URLS: 'wss://ok.example.com,http://u:hunter2@b?k=hunter2' } }),
    );
    expect(fromEnv.message).toBe(
      'invalid configuration: SECONDARY_CSMS_URLS[1]="http://b" (environment): expected a ws:// or wss:// URL',
    );
  });

  it('never prints a password', () => {
    const error = configError(() =>
      resolve({
        file: {
          primary_csms_url: PRIMARY,
          secondary_csms: [{ url: 'wss://a.example.com', charger_map: [{ charger_id: 'A', password: 1234567 }] }],
        },
      }),
    );
    expect(error.message).toBe(
      `invalid configuration: secondary_csms[0].charger_map[0].password="***" (${DEFAULT_CONFIG_FILE}): expected a string`,
    );
  });

  it('never prints the contents of an object value', () => {
    const error = configError(() =>
      resolve({ file: { primary_csms_url: PRIMARY, secondary_csms: { url: 'wss://a', password: 'hunter2' } } }),
    );
    expect(error.message).toBe(
      `invalid configuration: secondary_csms={…} (${DEFAULT_CONFIG_FILE}): expected a list of secondary CSMS entries`,
    );
  });

  it('names the file entry when a kept file entry fails, not the env list position', () => {
    const error = configError(() =>
      resolve({
        file: {
          primary_csms_url: PRIMARY,
          secondary_csms: [
            { url: 'wss://other.example.com' },
            { url: 'wss://a.example.com', charger_map: [{ charger_id: '' }] },
          ],
        },
        env: { SECONDARY_CSMS_URLS: 'wss://a.example.com' },
      }),
    );
    expect(error.message).toBe(
      `invalid configuration: secondary_csms[1].charger_map[0].charger_id="" (${DEFAULT_CONFIG_FILE}): expected a non-empty charge point id`,
    );
  });

  it('keeps a value with a newline on one line', () => {
    const error = configError(() => resolve({ file: { primary_csms_url: PRIMARY, log_level: 'info\nFAKE LOG LINE' } }));
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('"info\\nFAKE LOG LINE"');
  });

  it('shortens very long values', () => {
    const error = configError(() => resolve({ file: { primary_csms_url: PRIMARY, data_dir: 7, log_level: 'x'.repeat(500) } }));
    expect(error.message.length).toBeLessThan(400);
  });
});

describe('resolveConfig: result', () => {
  it('is deeply frozen', () => {
    const { config } = resolve({
      file: {
        primary_csms_url: PRIMARY,
        secondary_csms: [{ url: 'wss://a.example.com', charger_map: [{ charger_id: 'A' }] }],
      },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.secondary_csms)).toBe(true);
    expect(Object.isFrozen(config.secondary_csms[0])).toBe(true);
    expect(Object.isFrozen(config.secondary_csms[0]?.charger_map)).toBe(true);
    expect(Object.isFrozen(config.secondary_csms[0]?.charger_map[0])).toBe(true);
    expect(() => Object.assign(config, { port: 1 })).toThrow(TypeError);
    expect(() => config.secondary_csms[0]?.charger_map.push({ charger_id: 'B' })).toThrow(TypeError);
  });

  it('does not modify the caller\'s env or flags', () => {
    const env = { PRIMARY_CSMS_URL: PRIMARY, SECONDARY_CSMS_URLS: 'wss://a.example.com' };
    const flags = { secondary: ['wss://b.example.com'] };
    resolve({ env, flags });
    expect(env).toEqual({ PRIMARY_CSMS_URL: PRIMARY, SECONDARY_CSMS_URLS: 'wss://a.example.com' });
    expect(flags).toEqual({ secondary: ['wss://b.example.com'] });
  });
});

describe('resolveConfig: the admin listener', () => {
  const TOKEN = 'a-token-of-24-characters';

  it('refuses a non-loopback admin_host without a token, naming what to set', () => {
    const error = configError(() => resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, ADMIN_HOST: '0.0.0.0' } }));
    expect(error.code).toBe(ErrorCode.ConfigInvalid);
    expect(error.message).toBe(
      'ADMIN_HOST is "0.0.0.0", not a loopback address: set admin_token (or ADMIN_TOKEN, admin_token_file) so that only you can use the admin listener, or set admin_port to 0 to turn it off',
    );
  });

  it('accepts a non-loopback admin_host with a token, with trusted addresses, or when the listener is off', () => {
    expect(resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, ADMIN_HOST: '0.0.0.0', ADMIN_TOKEN: TOKEN } }).config.admin_token).toBe(TOKEN);
    expect(
      resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, ADMIN_HOST: '0.0.0.0', ADMIN_TRUSTED_ADDRESSES: '172.30.32.2, ::1' } }).config.admin_trusted_addresses,
    ).toEqual(['172.30.32.2', '::1']);
    expect(resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, ADMIN_HOST: '0.0.0.0', ADMIN_PORT: '0' } }).config.admin_port).toBe(0);
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '[::1]']) {
      expect(resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, ADMIN_HOST: host } }).config.admin_host).toBe(host);
    }
  });

  it('reads admin_token_file, without its trailing newline', () => {
    const path = writeTemp('token', `${TOKEN}\n`);
    const { config } = resolveConfig({ flags: { adminTokenFile: path, primary: PRIMARY }, env: {} });
    expect(config.admin_token).toBe(TOKEN);
  });

  it('refuses a token file that is missing, empty or too short, and a token set twice', () => {
    expect(configError(() => resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, ADMIN_TOKEN_FILE: '/nonexistent/token' } })).message).toMatch(
      /^ADMIN_TOKEN_FILE: cannot read \/nonexistent\/token: ENOENT/,
    );
    const short = writeTemp('short', 'abc\n');
    expect(configError(() => resolveConfig({ flags: { adminTokenFile: short, primary: PRIMARY }, env: {} })).message).toBe(
      `--admin-token-file: the file ${short} must hold one token of at least 16 visible ASCII characters, without spaces`,
    );
    const spaced = writeTemp('spaced', 'a token with spaces inside\n');
    expect(configError(() => resolveConfig({ flags: { adminTokenFile: spaced, primary: PRIMARY }, env: {} })).message).toContain('without spaces');
    const withBom = writeTemp('bom', `\uFEFF${TOKEN}\r\n\n`);
    expect(resolveConfig({ flags: { adminTokenFile: withBom, primary: PRIMARY }, env: {} }).config.admin_token).toBe(TOKEN);
    const both = configError(() => resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, ADMIN_TOKEN: TOKEN, ADMIN_TOKEN_FILE: short } }));
    expect(both.message).toContain('set admin_token or admin_token_file, not both');
  });

  it('refuses a short token without showing it, and an address that is not an IP', () => {
    const error = configError(() => resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, ADMIN_TOKEN: 'short-secret' } }));
    expect(error.message).toContain('expected a token of at least 16 characters');
    expect(error.message).not.toContain('short-secret');
    expect(configError(() => resolve({ env: { PRIMARY_CSMS_URL: PRIMARY, ADMIN_TRUSTED_ADDRESSES: 'ingress.local' } })).message).toContain(
      'expected an IP address such as 172.30.32.2 or ::1',
    );
  });

  it('takes the port and host from flags over the environment', () => {
    const { config } = resolveConfig({ flags: { primary: PRIMARY, adminPort: '9101', adminHost: '::1' }, env: { ADMIN_PORT: '9100' } });
    expect(config.admin_port).toBe(9101);
    expect(config.admin_host).toBe('::1');
  });
});

describe('resolveConfig: charger_map[].password_file (Docker and Kubernetes secrets)', () => {
  const withEntry = (entry: Record<string, unknown>) => ({
    primary_csms_url: PRIMARY,
    secondary_csms: [{ url: 'wss://s.example.com/ocpp', charger_map: [{ charger_id: 'CP-1', ...entry }] }],
  });
  const secrets = { '/run/secrets/cp1': 'file-secret-123\n', '/run/secrets/empty': '\n' };
  const resolveWith = (entry: Record<string, unknown>) =>
    resolveConfig({ flags: {}, env: {}, readFile: files({ [DEFAULT_CONFIG_FILE]: withEntry(entry), ...secrets }) });

  it('reads the password from the file, without its trailing newline', () => {
    const { config } = resolveWith({ password_file: '/run/secrets/cp1' });
    expect(config.secondary_csms[0]?.charger_map[0]).toEqual({ charger_id: 'CP-1', password_file: '/run/secrets/cp1', password: 'file-secret-123' });
  });

  it('refuses a missing or empty file, and a password set twice, naming the option but never the password', () => {
    expect(configError(() => resolveWith({ password_file: '/nonexistent/secret' })).message).toMatch(
      /^secondary_csms\[0\]\.charger_map\[0\]\.password_file: cannot read \/nonexistent\/secret: ENOENT/,
    );
    expect(configError(() => resolveWith({ password_file: '/run/secrets/empty' })).message).toBe(
      'secondary_csms[0].charger_map[0].password_file: the file /run/secrets/empty must hold the password on one line',
    );
    const both = configError(() => resolveWith({ password: 'inline-secret-9', password_file: '/run/secrets/cp1' }));
    expect(both.message).toContain('set password or password_file, not both');
    expect(both.message).not.toContain('inline-secret-9');
    expect(both.message).not.toContain('file-secret-123');
  });
});

describe('resolveConfig: secondary labels', () => {
  it('refuses two secondaries that logs, metrics and the admin API would name alike', () => {
    const sameName = configError(() =>
      resolve({ file: { primary_csms_url: PRIMARY, secondary_csms: [{ url: 'ws://a.example/ocpp', name: 'energy' }, { url: 'ws://b.example/ocpp', name: 'energy' }] } }),
    );
    expect(sameName.message).toContain('secondary_csms[1].name');
    expect(sameName.message).toContain('secondary_csms[0] is already called "energy": give each secondary a distinct name');
    const sameUrl = configError(() =>
      resolve({ file: { primary_csms_url: PRIMARY, secondary_csms: [{ url: 'ws://a.example/ocpp?tenant=1' }, { url: 'ws://a.example/ocpp?tenant=2' }] } }),
    );
    expect(sameUrl.message).toContain('secondary_csms[1].url');
    expect(sameUrl.message).not.toContain('tenant');
    expect(resolve({ file: { primary_csms_url: PRIMARY, secondary_csms: [{ url: 'ws://a.example/ocpp?tenant=1', name: 'one' }, { url: 'ws://a.example/ocpp?tenant=2', name: 'two' }] } }).config.secondary_csms).toHaveLength(2);
  });
});
