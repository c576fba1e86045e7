/**
 * Resolves the configuration from its layers — command-line flags > environment
 * > config file > schema defaults — validates it once, and freezes it.
 *
 * Only this module reads the environment and the file system for configuration,
 * and only when `main` asks; the library receives the frozen result.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { extname } from 'node:path';
import { parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { ConfigError, ErrorCode } from '../errors.js';
import { closestName } from '../util/did-you-mean.js';
import { redactUrl } from '../util/redact-url.js';
import type { CliFlags } from './cli-args.js';
import { chargerEntrySchema, chargerMapEntrySchema, configSchema, secondaryConfigSchema, type Config } from './schema.js';

/** Where the Home Assistant Supervisor writes an add-on's options. */
export const DEFAULT_CONFIG_FILE = '/data/options.json';

/** The environment variables the proxy reads. */
export const ENV_VARS = {
  configFile: 'CONFIG_FILE',
  port: 'PORT',
  primary: 'PRIMARY_CSMS_URL',
  secondaries: 'SECONDARY_CSMS_URLS',
  logLevel: 'LOG_LEVEL',
  logMaxMessageLength: 'LOG_MAX_MESSAGE_LENGTH',
  logFormat: 'LOG_FORMAT',
  dataDir: 'DATA_DIR',
  workers: 'WORKERS',
  strictConfig: 'STRICT_CONFIG',
  adminPort: 'ADMIN_PORT',
  adminHost: 'ADMIN_HOST',
  adminToken: 'ADMIN_TOKEN',
  adminTokenFile: 'ADMIN_TOKEN_FILE',
  adminTrustedAddresses: 'ADMIN_TRUSTED_ADDRESSES',
  metricsPerCharger: 'METRICS_PER_CHARGER',
} as const;

export interface ConfigSources {
  flags: CliFlags;
  env: Record<string, string | undefined>;
  /** Reads a file as UTF-8 text; injectable for tests. Defaults to `fs.readFileSync(path, 'utf8')`. */
  readFile?: (path: string) => string;
}

export interface ResolvedConfig {
  /** Deep-frozen. */
  config: Readonly<Config>;
  /** One line each, e.g. unknown options in the file; for `main` to log once a logger exists. */
  warnings: string[];
  configFile: { path: string; loaded: boolean };
}

/** The top-level key of a config file that names its JSON Schema for editors; ignored. */
export const EDITOR_SCHEMA_KEY = '$schema';

const PRIMARY_REQUIRED =
  `primary_csms_url is required: set it in the config file, ${ENV_VARS.primary}, or --primary`;
const SOURCE_ENV = 'environment';
const SOURCE_FLAGS = 'command line';
/** Values longer than this are cut in error messages, which must stay one line. */
const MAX_SHOWN_VALUE_LENGTH = 80;

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** Where a value came from, so an error names what the user actually wrote. */
interface Origin {
  /** The option as the user wrote it: `PORT`, `--port`, `secondary_csms[1].url`. */
  label: string;
  /** `environment`, `command line` or the config file's path. */
  source: string;
  /** The string as given in env or argv, shown instead of the converted value. */
  raw?: string;
}

/** How one entry of a secondary list given by env/flags relates to the file. */
interface SecondaryProvenance {
  url: Origin;
  /** Index of the file entry whose options it kept, if any. */
  fileIndex?: number;
}

interface Provenance {
  filePath: string;
  /** Top-level keys set from env or flags; the rest came from the file. */
  topLevel: Map<string, Origin>;
  /** Set when env or flags replaced the file's secondary_csms list. */
  secondaries?: SecondaryProvenance[];
}

/**
 * Builds the configuration from flags, environment, config file and defaults.
 * @throws ConfigError with ConfigFileNotFound, ConfigFileUnreadable or ConfigInvalid;
 *   its message never contains passwords, URL userinfo or URL query strings.
 */
export function resolveConfig(sources: ConfigSources): ResolvedConfig {
  const { flags, env } = sources;
  const readFile = sources.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const warnings: string[] = [];

  const file = chooseConfigFile(flags, env);
  const text = readConfigFile(file, readFile);
  const fileData = text === undefined ? {} : parseConfigText(file.path, text, warnings);
  // `"$schema": "./config.schema.json"` points editors at the JSON Schema (see config.example.json); it is
  // not an option, so it is dropped here rather than reported as an unknown key.
  Reflect.deleteProperty(fileData, EDITOR_SCHEMA_KEY);
  removeUnknownKeys(fileData, file.path, warnings, isStrict(flags, env, fileData));

  const { merged, provenance } = applyLayers(fileData, env, flags, file.path);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => describeIssue(issue, merged, provenance));
    throw new ConfigError(ErrorCode.ConfigInvalid, [...new Set(lines)].join('\n'));
  }
  const config = withChargerMapPasswords(withAdminToken(result.data, readFile, provenance), readFile, provenance);
  warnings.push(...chargerAuthWarnings(config));
  return {
    config: deepFreeze(config),
    warnings,
    configFile: { path: file.path, loaded: text !== undefined },
  };
}

/**
 * Reads `admin_token_file` into `admin_token`, then checks the one rule that spans options: an admin
 * listener on an address other than loopback needs a token (or trusted addresses), or anyone who can
 * reach it could read every charger's traffic and disconnect chargers.
 */
function withAdminToken(config: Config, readFile: (path: string) => string, provenance: Provenance): Config {
  let result = config;
  const tokenFile = config.admin_token_file;
  if (tokenFile !== undefined) {
    const named = provenance.topLevel.get('admin_token_file')?.label ?? 'admin_token_file';
    let text: string;
    try {
      text = readFile(tokenFile);
    } catch (error) {
      throw new ConfigError(ErrorCode.ConfigInvalid, `${named}: cannot read ${tokenFile}: ${reasonOf(error)}`, { cause: error });
    }
    // Editors add a byte-order mark or a final newline (or two); neither can be part of a Bearer token.
    const token = text.replace(/^\uFEFF/, '').trim();
    const checked = configSchema.shape.admin_token.safeParse(token);
    if (!checked.success || token === '') {
      throw new ConfigError(
        ErrorCode.ConfigInvalid,
        `${named}: the file ${tokenFile} must hold one token of at least 16 visible ASCII characters, without spaces`,
      );
    }
    result = { ...result, admin_token: token };
  }
  if (
    result.admin_port !== 0 &&
    !isLoopbackHost(result.admin_host) &&
    result.admin_token === undefined &&
    result.admin_trusted_addresses.length === 0
  ) {
    const named = provenance.topLevel.get('admin_host')?.label ?? 'admin_host';
    throw new ConfigError(
      ErrorCode.ConfigInvalid,
      `${named} is ${JSON.stringify(result.admin_host)}, not a loopback address: set admin_token (or ${ENV_VARS.adminToken}, admin_token_file) so that only you can use the admin listener, or set admin_port to 0 to turn it off`,
    );
  }
  return result;
}

/**
 * Reads each `charger_map[].password_file` into its `password`, so that the file system is read here only and
 * the mirror knows one field. Neither the password nor the file's text ever appears in an error.
 */
function withChargerMapPasswords(config: Config, readFile: (path: string) => string, provenance: Provenance): Config {
  const hasFiles = config.secondary_csms.some((secondary) => secondary.charger_map.some((entry) => entry.password_file !== undefined));
  if (!hasFiles) return config;
  const secondaries = config.secondary_csms.map((secondary, secondaryIndex) => ({
    ...secondary,
    charger_map: secondary.charger_map.map((entry, entryIndex) => {
      const file = entry.password_file;
      if (file === undefined) return entry;
      const named = locate(['secondary_csms', secondaryIndex, 'charger_map', entryIndex, 'password_file'], provenance).label;
      let text: string;
      try {
        text = readFile(file);
      } catch (error) {
        throw new ConfigError(ErrorCode.ConfigInvalid, `${named}: cannot read ${file}: ${reasonOf(error)}`, { cause: error });
      }
      const password = text.replace(/\r?\n$/, '');
      if (password === '' || /[\r\n]/.test(password)) {
        throw new ConfigError(ErrorCode.ConfigInvalid, `${named}: the file ${file} must hold the password on one line`);
      }
      return { ...entry, password };
    }),
  }));
  return { ...config, secondary_csms: secondaries };
}

/** `chargers` written for nothing: an operator who listed them believes they are checked. */
function chargerAuthWarnings(config: Config): string[] {
  if (config.charger_auth !== 'passthrough' || config.chargers.length === 0) return [];
  return [`chargers lists ${config.chargers.length} charger(s), but charger_auth is passthrough: the proxy checks no password (set charger_auth to local or both)`];
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare === '::1') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare.toLowerCase().startsWith('::ffff:127.');
}

interface ConfigFileChoice {
  path: string;
  /** How the path was named; undefined for the default, which may be absent. */
  namedBy?: string;
}

function chooseConfigFile(flags: CliFlags, env: Record<string, string | undefined>): ConfigFileChoice {
  if (flags.config !== undefined) return { path: flags.config, namedBy: '--config' };
  const fromEnv = envValue(env, ENV_VARS.configFile);
  if (fromEnv !== undefined) return { path: fromEnv, namedBy: ENV_VARS.configFile };
  return { path: DEFAULT_CONFIG_FILE };
}

/** The file's text, or undefined when the default file is absent. */
function readConfigFile(file: ConfigFileChoice, readFile: (path: string) => string): string | undefined {
  try {
    return readFile(file.path);
  } catch (error) {
    if (isMissingFileError(error)) {
      // Outside Home Assistant the default file usually does not exist: env and
      // flags are enough. A file someone named must exist, or their settings vanish.
      if (file.namedBy === undefined) return undefined;
      throw new ConfigError(
        ErrorCode.ConfigFileNotFound,
        `config file not found: ${file.path} (named by ${file.namedBy})`,
        { cause: error },
      );
    }
    throw new ConfigError(
      ErrorCode.ConfigFileUnreadable,
      `cannot read config file ${file.path}: ${reasonOf(error)}`,
      { cause: error },
    );
  }
}

function isMissingFileError(error: unknown): boolean {
  // ENOTDIR: a path component is a file, e.g. /data is not a directory.
  return error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');
}

type ParseOutcome = { ok: true; value: unknown } | { ok: false; reason: string };

/** Parses by extension; `.json` as JSON, `.yaml`/`.yml` as YAML, anything else JSON then YAML. */
function parseConfigText(path: string, text: string, warnings: string[]): Record<string, unknown> {
  // Editors on Windows save a BOM, which JSON.parse rejects.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const extension = extname(path).toLowerCase();
  let outcome: ParseOutcome;
  if (extension === '.json') {
    outcome = parseJson(body);
    if (!outcome.ok) throw unparsable(path, `invalid JSON: ${outcome.reason}`);
  } else if (extension === '.yaml' || extension === '.yml') {
    outcome = parseYaml(body, path, warnings);
    if (!outcome.ok) throw unparsable(path, `invalid YAML: ${outcome.reason}`);
  } else {
    outcome = parseJson(body);
    if (!outcome.ok) {
      const asJson = outcome.reason;
      outcome = parseYaml(body, path, warnings);
      if (!outcome.ok) throw unparsable(path, `neither JSON (${asJson}) nor YAML (${outcome.reason})`);
    }
  }

  // An empty or comments-only YAML file means "all defaults", like null values do.
  const data = stripNulls(outcome.value) ?? {};
  if (!isRecord(data)) {
    throw unparsable(path, `the top level must be a mapping of option names to values, not ${kindOf(data)}`);
  }
  return data;
}

function parseJson(text: string): ParseOutcome {
  try {
    const value: unknown = JSON.parse(text);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, reason: describeJsonError(text, reasonOf(error)) };
  }
}

/**
 * V8 names a character offset ("… in JSON at position 57"), or no position at all, and for an unexpected
 * token quotes the text around it — which may be a password. So the position comes from our own scan of the
 * file, V8's wording is kept only where it quotes nothing, and the result says "line 4, column 3: …", with a
 * hint for the usual culprit, a comma before a closing bracket.
 */
function describeJsonError(text: string, message: string): string {
  const offset = jsonErrorOffset(text) ?? positionIn(message);
  const what = SAFE_JSON_MESSAGE.test(message) ? message.replace(JSON_POSITION, '').trim() : 'unexpected character';
  const described = offset === text.length ? 'unexpected end of the file' : what;
  if (offset === undefined) return described;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  const trailingComma = /,\s*$/.test(before) && /^\s*[}\]]/.test(text.slice(offset)) ? ' (a comma before a closing bracket?)' : '';
  return `line ${line}, column ${column}: ${described}${trailingComma}`;
}

/** V8 messages that describe the problem without quoting the file ("Unexpected token …" quotes it). */
const SAFE_JSON_MESSAGE = /^(Expected|Unterminated|Bad (control|escaped)|Exponent part|No number|Unexpected non-whitespace)/;
const JSON_POSITION = /\s*(?:in JSON |after JSON )?at position (\d+)(?: \(line \d+ column \d+\))?/;

function positionIn(message: string): number | undefined {
  const match = JSON_POSITION.exec(message);
  return match === null ? undefined : Number(match[1]);
}

/**
 * The offset of the first character where `text` stops being JSON (RFC 8259), `text.length` when it ends too
 * early, undefined when it is valid (or nested too deep to scan: V8's position, if any, is used then).
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new JsonScanStop(i);
  };
  const space = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i += 1;
  };
  const literal = (word: string): void => {
    for (const char of word) {
      if (text[i] !== char) fail();
      i += 1;
    }
  };
  const digits = (): void => {
    if (!/[0-9]/.test(text[i] ?? '')) fail();
    while (/[0-9]/.test(text[i] ?? '')) i += 1;
  };
  const number = (): void => {
    if (text[i] === '-') i += 1;
    if (text[i] === '0') i += 1;
    else digits();
    if (text[i] === '.') {
      i += 1;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i += 1;
      if (text[i] === '+' || text[i] === '-') i += 1;
      digits();
    }
  };
  const string = (): void => {
    i += 1;
    for (;;) {
      const char = text[i];
      if (char === undefined || char < ' ') fail();
      if (char === '"') {
        i += 1;
        return;
      }
      if (char === '\\') {
        i += 1;
        const escape = text[i] ?? '';
        if (escape === 'u') {
          for (let k = 1; k <= 4; k += 1) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(escape) || escape === '') fail();
      }
      i += 1;
    }
  };
  const value = (): void => {
    space();
    const char = text[i];
    if (char === '{') {
      i += 1;
      space();
      if (text[i] === '}') {
        i += 1;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ':') fail();
        i += 1;
        value();
        space();
        if (text[i] === ',') i += 1;
        else if (text[i] === '}') {
          i += 1;
          return;
        } else fail();
      }
    }
    if (char === '[') {
      i += 1;
      space();
      if (text[i] === ']') {
        i += 1;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[i] === ',') i += 1;
        else if (text[i] === ']') {
          i += 1;
          return;
        } else fail();
      }
    }
    if (char === '"') return string();
    if (char === 't') return literal('true');
    if (char === 'f') return literal('false');
    if (char === 'n') return literal('null');
    if (char === '-' || /[0-9]/.test(char ?? '')) return number();
    fail();
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof JsonScanStop) return Math.min(error.offset, text.length);
    // Deeper than the stack: leave the position to V8.
    return undefined;
  }
}

/** Thrown from deep inside the scan to stop it at an offset (not a failure of the program). */
class JsonScanStop extends Error {
  constructor(readonly offset: number) {
    super(`JSON stops at offset ${offset}`);
  }
}

function parseYaml(text: string, path: string, warnings: string[]): ParseOutcome {
  const document = parseDocument(text);
  const [firstError] = document.errors;
  if (firstError !== undefined) return { ok: false, reason: describeYamlError(firstError) };
  for (const warning of document.warnings) warnings.push(`config file ${path}: ${describeYamlError(warning)}`);
  try {
    // toJS resolves aliases and throws on unresolved ones or alias bombs.
    const value: unknown = document.toJS();
    return { ok: true, value };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  }
}

/** The `yaml` package's message says "… at line 2, column 1:" and then draws the line: keep it to "line 2, column 1: …". */
function describeYamlError(error: YAMLError): string {
  const what = reasonOf(error).replace(/ at line \d+, column \d+$/, '');
  const start = error.linePos?.[0];
  return start === undefined ? what : `line ${start.line}, column ${start.col}: ${what}`;
}

function unparsable(path: string, reason: string): ConfigError {
  return new ConfigError(ErrorCode.ConfigFileUnreadable, `cannot parse config file ${path}: ${reason}`);
}

/** The first line of an error's message, without the trailing colon that introduces a code excerpt. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').replace(/:\s*$/, '');
}

/**
 * Home Assistant writes `null` for optional fields left empty; treat them as
 * absent so the defaults apply. Nulls inside lists are kept: a list item cannot
 * be absent, and removing it would shift the indices in error messages.
 */
function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    return items.map((item) => (item === null ? item : stripNulls(item)));
  }
  if (!isRecord(value)) return value;
  // fromEntries defines own properties, so a "__proto__" key stays an ordinary
  // (unknown) key instead of replacing the prototype.
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== null)
      .map(([key, item]) => [key, stripNulls(item)]),
  );
}

/**
 * A typo must not fail the start of a proxy that chargers depend on, nor
 * disappear silently: each unknown key becomes a warning (with the known key it
 * is probably a typo of) and is removed, so the strict schema accepts the rest.
 * Under `strict_config` the same lines are errors instead.
 * @throws ConfigError (ConfigInvalid) when `strict` and the file has unknown keys.
 */
function removeUnknownKeys(fileData: Record<string, unknown>, filePath: string, warnings: string[], strict: boolean): void {
  const check = configSchema.safeParse(fileData);
  if (check.success) return;
  const unknown: string[] = [];
  for (const issue of check.error.issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const parent = valueAt(fileData, issue.path);
    for (const key of issue.keys) {
      const suggestion = closestName(key, knownKeysAt(issue.path));
      const hint = suggestion === undefined ? '' : `: did you mean ${JSON.stringify(suggestion)}?`;
      const option = `unknown option ${JSON.stringify(formatPath([...issue.path, key]))} in ${filePath}`;
      unknown.push(strict ? `${option}${hint} (an error because strict_config is on: fix or remove the key)` : `${option} (ignored)${hint}`);
      if (isRecord(parent)) Reflect.deleteProperty(parent, key);
    }
  }
  if (strict && unknown.length > 0) throw new ConfigError(ErrorCode.ConfigInvalid, unknown.join('\n'));
  warnings.push(...unknown);
}

/** The keys a config object at `path` may have: the top level, a secondary_csms entry, a charger_map entry. */
function knownKeysAt(path: Path): string[] {
  if (path.length === 0) return Object.keys(configSchema.shape);
  if (path.length === 2 && path[0] === 'secondary_csms') return Object.keys(secondaryConfigSchema.shape);
  if (path.length === 4 && path[0] === 'secondary_csms' && path[2] === 'charger_map') return Object.keys(chargerMapEntrySchema.shape);
  if (path.length === 2 && path[0] === 'chargers') return Object.keys(chargerEntrySchema.shape);
  return [];
}

/**
 * Whether unknown keys are errors, decided before the file is validated: `--strict` >
 * STRICT_CONFIG > the file's own `strict_config` (a value that is not a boolean is left to the
 * schema's error, and means "not strict" here).
 */
function isStrict(flags: CliFlags, env: Record<string, string | undefined>, fileData: Record<string, unknown>): boolean {
  if (flags.strict === true) return true;
  const fromEnv = envValue(env, ENV_VARS.strictConfig);
  if (fromEnv !== undefined) return booleanOrString(fromEnv) === true;
  return fileData.strict_config === true;
}

interface Layered {
  merged: Record<string, unknown>;
  provenance: Provenance;
}

/** One option settable from the environment and/or a flag; `type` says how its text is converted. */
interface ScalarLayer {
  key: keyof Config;
  envVar?: string;
  flag?: string;
  flagValue?: string;
  /** 'list': comma-separated in env and flags. */
  type: 'integer' | 'boolean' | 'text' | 'list';
}

function applyLayers(
  fileData: Record<string, unknown>,
  env: Record<string, string | undefined>,
  flags: CliFlags,
  filePath: string,
): Layered {
  const merged: Record<string, unknown> = { ...fileData };
  const provenance: Provenance = { filePath, topLevel: new Map() };

  const scalars: ScalarLayer[] = [
    { key: 'port', envVar: ENV_VARS.port, flag: '--port', flagValue: flags.port, type: 'integer' },
    { key: 'host', flag: '--host', flagValue: flags.host, type: 'text' },
    { key: 'primary_csms_url', envVar: ENV_VARS.primary, flag: '--primary', flagValue: flags.primary, type: 'text' },
    { key: 'log_level', envVar: ENV_VARS.logLevel, flag: '--log-level', flagValue: flags.logLevel, type: 'text' },
    { key: 'log_format', envVar: ENV_VARS.logFormat, flag: '--log-format', flagValue: flags.logFormat, type: 'text' },
    { key: 'log_max_message_length', envVar: ENV_VARS.logMaxMessageLength, type: 'integer' },
    { key: 'data_dir', envVar: ENV_VARS.dataDir, flag: '--data-dir', flagValue: flags.dataDir, type: 'text' },
    { key: 'workers', envVar: ENV_VARS.workers, flag: '--workers', flagValue: flags.workers, type: 'integer' },
    {
      key: 'strict_config',
      envVar: ENV_VARS.strictConfig,
      flag: '--strict',
      flagValue: flags.strict === true ? 'true' : undefined,
      type: 'boolean',
    },
    { key: 'admin_port', envVar: ENV_VARS.adminPort, flag: '--admin-port', flagValue: flags.adminPort, type: 'integer' },
    { key: 'admin_host', envVar: ENV_VARS.adminHost, flag: '--admin-host', flagValue: flags.adminHost, type: 'text' },
    // No flag for the token itself: a command line is visible to every local user (ps); the file flag is safe.
    { key: 'admin_token', envVar: ENV_VARS.adminToken, type: 'text' },
    { key: 'admin_token_file', envVar: ENV_VARS.adminTokenFile, flag: '--admin-token-file', flagValue: flags.adminTokenFile, type: 'text' },
    { key: 'admin_trusted_addresses', envVar: ENV_VARS.adminTrustedAddresses, type: 'list' },
    { key: 'metrics_per_charger', envVar: ENV_VARS.metricsPerCharger, type: 'boolean' },
  ];
  for (const { key, envVar, flag, flagValue, type } of scalars) {
    const fromEnv = envVar === undefined ? undefined : envValue(env, envVar);
    let origin: (Origin & { raw: string }) | undefined;
    if (flag !== undefined && flagValue !== undefined) origin = { label: flag, source: SOURCE_FLAGS, raw: flagValue };
    else if (envVar !== undefined && fromEnv !== undefined) origin = { label: envVar, source: SOURCE_ENV, raw: fromEnv };
    if (origin === undefined) continue;
    merged[key] = layeredValue(origin.raw, type);
    provenance.topLevel.set(key, origin);
  }

  const urls = secondaryUrlsFromFlagsOrEnv(flags, env);
  if (urls !== undefined) {
    const fileList = Array.isArray(fileData.secondary_csms) ? fileData.secondary_csms : [];
    provenance.secondaries = [];
    merged.secondary_csms = urls.map((origin) => {
      const url = origin.raw ?? '';
      // Replacing the list must not lose what only the file can express
      // (charger_map, name, ...) for a backend the env/flags still name.
      const fileIndex = fileList.findIndex((entry) => isRecord(entry) && typeof entry.url === 'string' && sameUrl(entry.url, url));
      const fileEntry: unknown = fileList[fileIndex];
      provenance.secondaries?.push(fileIndex === -1 ? { url: origin } : { url: origin, fileIndex });
      return isRecord(fileEntry) ? { ...fileEntry, url } : { url };
    });
  }
  return { merged, provenance };
}

function layeredValue(raw: string, type: ScalarLayer['type']): unknown {
  switch (type) {
    case 'integer':
      return integerOrString(raw);
    case 'boolean':
      return booleanOrString(raw);
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    default:
      return raw;
  }
}

/** `--secondary` (all of them) beats SECONDARY_CSMS_URLS; undefined keeps the file's list. */
function secondaryUrlsFromFlagsOrEnv(flags: CliFlags, env: Record<string, string | undefined>): Origin[] | undefined {
  if (flags.secondary !== undefined) {
    // `--secondary ""` is the command-line way to say "no secondaries".
    return flags.secondary
      .filter((url) => url.trim() !== '')
      .map((url) => ({ label: '--secondary', source: SOURCE_FLAGS, raw: url }));
  }
  const list = envValue(env, ENV_VARS.secondaries);
  if (list === undefined) return undefined;
  return list
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '')
    .map((url, index) => ({ label: `${ENV_VARS.secondaries}[${index}]`, source: SOURCE_ENV, raw: url }));
}

function sameUrl(a: string, b: string): boolean {
  if (a.trim() === b.trim()) return true;
  // WHATWG normalisation: "WSS://Host.example" names the same backend as "wss://host.example/".
  return URL.canParse(a) && URL.canParse(b) && new URL(a).href === new URL(b).href;
}

/** An env var's value, trimmed; empty counts as unset (compose files write `PORT=`). */
function envValue(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** true/false (also 1/0, yes/no, on/off) become booleans; anything else stays a string so the schema error shows it. */
function booleanOrString(raw: string): boolean | string {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return raw;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Plain integers become numbers; anything else stays a string so the schema error shows it. */
function integerOrString(raw: string): number | string {
  return /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : raw;
}

function describeIssue(issue: Issue, merged: Record<string, unknown>, provenance: Provenance): string {
  const value = valueAt(merged, issue.path);
  if (issue.path.length === 1 && issue.path[0] === 'primary_csms_url' && value === undefined) {
    return `invalid configuration: ${PRIMARY_REQUIRED}`;
  }
  const origin = locate(issue.path, provenance);
  if (value === undefined) return `invalid configuration: ${origin.label} (${origin.source}): missing; ${issue.message}`;
  const shown = showValue(issue.path, value, origin);
  return `invalid configuration: ${origin.label}=${shown} (${origin.source}): ${issue.message}`;
}

/** Names an issue's path the way the user set it: env var, flag, or path in the file. */
function locate(path: Path, provenance: Provenance): Origin {
  const [head, index, ...rest] = path;
  const fileOrigin = (filePath: Path): Origin => ({ label: formatPath(filePath), source: provenance.filePath });

  if (head === 'secondary_csms' && provenance.secondaries !== undefined && typeof index === 'number') {
    const entry = provenance.secondaries[index];
    if (entry !== undefined) {
      if (rest.length === 0 || rest[0] === 'url') return entry.url;
      if (entry.fileIndex !== undefined) return fileOrigin(['secondary_csms', entry.fileIndex, ...rest]);
      return { label: formatPath(path), source: entry.url.source };
    }
  }
  if (typeof head === 'string') {
    const layered = provenance.topLevel.get(head);
    if (layered !== undefined) return layered;
  }
  return fileOrigin(path);
}

const URL_KEYS = new Set(['url', 'primary_csms_url']);
/** password_hash is no password, but it lets whoever has it try guesses offline: shown as little as one. */
const SECRET_KEYS = new Set(['password', 'admin_token', 'password_hash']);

/** The value as one redacted, bounded line of text. */
function showValue(path: Path, value: unknown, origin: Origin): string {
  const key = path.at(-1);
  if (typeof key === 'string' && SECRET_KEYS.has(key)) return '"***"';
  const text = origin.raw ?? value;
  if (typeof text === 'string') {
    const mayHoldCredentials = (typeof key === 'string' && URL_KEYS.has(key)) || /:\/\/|@/.test(text);
    const safe = mayHoldCredentials ? redactUrl(text) : text;
    const bounded = safe.length > MAX_SHOWN_VALUE_LENGTH ? `${safe.slice(0, MAX_SHOWN_VALUE_LENGTH)}…` : safe;
    // JSON quoting escapes newlines, so the message stays one line.
    return JSON.stringify(bounded);
  }
  // Never print the contents of an object or list: they may hold a password.
  if (Array.isArray(text)) return '[…]';
  if (isRecord(text)) return '{…}';
  return String(text);
}

/** `secondary_csms[1].charger_map[0].password`, quoting keys that are not plain names. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
      continue;
    }
    const name = String(segment);
    if (/^[A-Za-z_][\w-]*$/.test(name)) out += out === '' ? name : `.${name}`;
    else out += `[${JSON.stringify(name)}]`;
  }
  return out;
}

function valueAt(root: unknown, path: Path): unknown {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isRecord(current) && typeof segment === 'string' && Object.hasOwn(current, segment)) {
      current = current[segment];
    } else return undefined;
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
