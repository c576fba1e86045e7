/**
 * Command-line parsing. Only turns argv into strings; every value is validated
 * by the config schema together with the other layers (see load.ts), so a bad
 * `--port` gets the same message as a bad `PORT`.
 */
import { parseArgs } from 'node:util';
import { ConfigError, ErrorCode } from '../errors.js';
import { closestName } from '../util/did-you-mean.js';
import { DEFAULT_CONFIG_FILE, ENV_VARS } from './load.js';
import { configSchema, LOG_FORMATS, LOG_LEVELS } from './schema.js';

/** Flag values exactly as given; absent flags are undefined. */
export interface CliFlags {
  config?: string;
  port?: string;
  host?: string;
  primary?: string;
  /** Every `--secondary`, in order; replaces the config file's secondary_csms. */
  secondary?: string[];
  logLevel?: string;
  logFormat?: string;
  dataDir?: string;
  workers?: string;
  /** `--strict`: unknown keys in the config file stop the start. */
  strict?: boolean;
  adminPort?: string;
  adminHost?: string;
  adminTokenFile?: string;
}

export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'hash-password' } | { kind: 'run'; flags: CliFlags };

/** `ocpp-splitter hash-password`: reads a charger's password on standard input, prints its `password_hash`. */
export const HASH_PASSWORD_COMMAND = 'hash-password';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  config: { type: 'string', short: 'c' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  primary: { type: 'string' },
  secondary: { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'data-dir': { type: 'string' },
  workers: { type: 'string' },
  strict: { type: 'boolean' },
  'admin-port': { type: 'string' },
  'admin-host': { type: 'string' },
  'admin-token-file': { type: 'string' },
} as const;

const SEE_HELP = 'see --help';

/** @throws ConfigError (CliUsage) with a one-line message on unknown flags, missing values or stray arguments. */
export function parseCliArgs(argv: string[]): CliCommand {
  if (argv[0] === HASH_PASSWORD_COMMAND) {
    // No options: the password comes on standard input, never the command line (ps shows it to every user).
    if (argv.length > 1) throw new ConfigError(ErrorCode.CliUsage, `${HASH_PASSWORD_COMMAND} takes no arguments: it reads the password from standard input; ${SEE_HELP}`);
    return { kind: 'hash-password' };
  }
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ConfigError(ErrorCode.CliUsage, describeUsageError(argv, error), { cause: error });
  }
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const flags: CliFlags = {};
  if (values.config !== undefined) flags.config = values.config;
  if (values.port !== undefined) flags.port = values.port;
  if (values.host !== undefined) flags.host = values.host;
  if (values.primary !== undefined) flags.primary = values.primary;
  if (values.secondary !== undefined) flags.secondary = values.secondary;
  if (values['log-level'] !== undefined) flags.logLevel = values['log-level'];
  if (values['log-format'] !== undefined) flags.logFormat = values['log-format'];
  if (values['data-dir'] !== undefined) flags.dataDir = values['data-dir'];
  if (values.workers !== undefined) flags.workers = values.workers;
  if (values.strict === true) flags.strict = true;
  if (values['admin-port'] !== undefined) flags.adminPort = values['admin-port'];
  if (values['admin-host'] !== undefined) flags.adminHost = values['admin-host'];
  if (values['admin-token-file'] !== undefined) flags.adminTokenFile = values['admin-token-file'];
  return { kind: 'run', flags };
}

/**
 * Node's own parseArgs messages span several lines and change between Node
 * versions, so re-read argv leniently (tokens are a stable API) and say what
 * is wrong in our own words. Falls back to the first line of Node's message.
 */
function describeUsageError(argv: string[], error: unknown): string {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional') return `unexpected argument '${token.value}'; ${SEE_HELP}`;
    if (token.kind !== 'option') continue;
    const spec = knownOption(token.name);
    if (spec === undefined) {
      const suggestion = token.rawName.startsWith('--') ? closestName(token.name, OPTION_TYPES.keys()) : undefined;
      const hint = suggestion === undefined ? '' : ` (did you mean '--${suggestion}'?)`;
      return `unknown option '${token.rawName}'${hint}; ${SEE_HELP}`;
    }
    if (spec.type === 'boolean' && token.value !== undefined) {
      return `option '${token.rawName}' does not take a value; ${SEE_HELP}`;
    }
    if (spec.type === 'string') {
      if (token.value === undefined) return `option '${token.rawName}' needs a value; ${SEE_HELP}`;
      // Strict parseArgs refuses `--port --help`: the value looks like a flag.
      if (!token.inlineValue && token.value.startsWith('-')) {
        return `option '${token.rawName}' needs a value (got '${token.value}'; write --${token.name}=VALUE for a value starting with '-'); ${SEE_HELP}`;
      }
    }
  }
  const firstLine = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  return `${firstLine}; ${SEE_HELP}`;
}

const OPTION_TYPES = new Map<string, 'boolean' | 'string'>(
  Object.entries(OPTIONS).map(([name, spec]) => [name, spec.type]),
);

function knownOption(name: string): { type: 'boolean' | 'string' } | undefined {
  const type = OPTION_TYPES.get(name);
  return type === undefined ? undefined : { type };
}

/** `--help` output. Defaults are read from the schema so the text cannot drift from it. */
export function helpText(version: string): string {
  const shape = configSchema.shape;
  const port = String(shape.port.parse(undefined));
  const logLevel = shape.log_level.parse(undefined);
  const logFormat = shape.log_format.parse(undefined);
  const dataDir = shape.data_dir.parse(undefined);
  const maxLength = String(shape.log_max_message_length.parse(undefined));
  const workers = String(shape.workers.parse(undefined));
  const adminPort = String(shape.admin_port.parse(undefined));
  const adminHost = shape.admin_host.parse(undefined);

  const flag = (names: string, description: string, env: string, fallback: string): string =>
    `  ${names.padEnd(24)}${description}\n  ${''.padEnd(24)}env ${env.padEnd(22)}default: ${fallback}`;

  const env = (name: string, description: string, fallback: string): string =>
    `  ${name.padEnd(24)}${description} (default: ${fallback})`;

  return [
    `ocpp-splitter ${version}`,
    'OCPP WebSocket proxy: one primary CSMS in control, mirrored secondaries.',
    '',
    'Usage: ocpp-splitter [options]',
    `       ocpp-splitter ${HASH_PASSWORD_COMMAND} < password-file`,
    '',
    `  ${HASH_PASSWORD_COMMAND}: reads a charger's password (one line) on standard input,`,
    '  prints its hash for chargers[].password_hash (charger_auth: local or both):',
    `  printf '%s' "$PASSWORD" | ocpp-splitter ${HASH_PASSWORD_COMMAND}`,
    '',
    'Options:',
    flag('-c, --config FILE', 'config file (.json, .yaml or .yml)', ENV_VARS.configFile, DEFAULT_CONFIG_FILE),
    flag('-p, --port N', 'port to listen on for chargers (0-65535)', ENV_VARS.port, port),
    `  ${'    --host ADDR'.padEnd(24)}address to listen on\n  ${''.padEnd(24)}${'(no env var)'.padEnd(26)}default: all interfaces`,
    flag('    --primary URL', 'primary CSMS ws:// or wss:// URL', ENV_VARS.primary, 'none, required'),
    flag(
      '    --secondary URL',
      'secondary CSMS URL, repeatable; replaces file list',
      ENV_VARS.secondaries,
      'none',
    ),
    flag('    --log-level LEVEL', LOG_LEVELS.join('|'), ENV_VARS.logLevel, logLevel),
    flag('    --log-format FMT', `${LOG_FORMATS.join('|')} (pretty: for a terminal)`, ENV_VARS.logFormat, logFormat),
    flag('    --data-dir DIR', 'directory for state kept across restarts', ENV_VARS.dataDir, dataDir),
    flag('    --workers N|auto', 'processes serving chargers (auto = cores)', ENV_VARS.workers, workers),
    flag('    --strict', 'unknown keys in the config file are errors', `${ENV_VARS.strictConfig}=true`, 'off (warnings)'),
    flag('    --admin-port N', 'dashboard, status API, /metrics (0 = off)', ENV_VARS.adminPort, adminPort),
    flag('    --admin-host ADDR', 'admin address (not loopback: needs a token)', ENV_VARS.adminHost, adminHost),
    flag('    --admin-token-file F', 'file holding the admin token', ENV_VARS.adminTokenFile, 'none'),
    '  -h, --help              show this help and exit',
    '  -v, --version           print the version and exit',
    '',
    'Environment (an empty value counts as unset):',
    env(ENV_VARS.configFile, 'path of the config file', DEFAULT_CONFIG_FILE),
    env(ENV_VARS.port, 'listen port', port),
    `  ${ENV_VARS.primary.padEnd(24)}primary CSMS URL (required unless in the config file)`,
    env(ENV_VARS.secondaries, 'comma-separated secondary CSMS URLs', 'none'),
    env(ENV_VARS.logLevel, LOG_LEVELS.join('|'), logLevel),
    env(ENV_VARS.logFormat, LOG_FORMATS.join('|'), logFormat),
    env(ENV_VARS.logMaxMessageLength, 'message chars in debug logs, 0 = all', maxLength),
    env(ENV_VARS.dataDir, 'state directory', dataDir),
    env(ENV_VARS.workers, 'processes serving chargers, or auto', workers),
    env(ENV_VARS.strictConfig, 'true: unknown file keys are errors', 'false'),
    env(ENV_VARS.adminPort, 'admin listener port, 0 = off', adminPort),
    env(ENV_VARS.adminHost, 'admin listener address', adminHost),
    env(ENV_VARS.adminToken, 'admin Bearer token; env or file only', 'none'),
    env(ENV_VARS.adminTokenFile, 'file holding the admin token', 'none'),
    env(ENV_VARS.adminTrustedAddresses, 'IPs served without a token', 'none'),
    env(ENV_VARS.metricsPerCharger, 'true: per-charger metric labels', 'false'),
    '',
    'Every other option (timeouts, charger_map, ...) is set in the config file.',
    'Precedence: flags > environment > config file > defaults',
    '',
  ].join('\n');
}
