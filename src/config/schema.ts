/**
 * The one schema of the configuration file. Keys are snake_case because that is
 * what users write (Home Assistant's options.json, the README's config.json), and
 * the parsed object keeps the same names so a log line, an error message and the
 * file all say the same thing.
 *
 * Every object is strict: unknown keys surface as `unrecognized_keys` issues,
 * which the loader turns into warnings, or errors under `strict_config` (see
 * load.ts), never into silent drops.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { identityProblem } from '../admission/identity.js';
import { parsePasswordHash } from '../admission/password-hash.js';
import { redactUrl } from '../util/redact-url.js';

const MIB = 1024 * 1024;

/** Ports 0–65535; 0 asks the OS for a free port (tests use it). */
const PORT_MIN = 0;
const PORT_MAX = 65_535;
const CONNECT_TIMEOUT_MIN_MS = 100;
const CONNECT_TIMEOUT_MAX_MS = 120_000;
const MESSAGE_SIZE_MIN_BYTES = 1024;
const MESSAGE_SIZE_MAX_BYTES = 64 * MIB;
/** A ping interval under 1 s would be traffic, not a keepalive. */
const PING_INTERVAL_MIN_MS = 1000;
const PING_INTERVAL_MAX_MS = 3_600_000;
const PING_MAX_MISSED_MIN = 1;
const PING_MAX_MISSED_MAX = 10;
const SHUTDOWN_TIMEOUT_MIN_MS = 100;
const SHUTDOWN_TIMEOUT_MAX_MS = 60_000;
const SECONDARY_DELAY_MIN_MS = 100;
const SECONDARY_DELAY_MAX_MS = 3_600_000;
const ANSWER_TIMEOUT_MIN_MS = 100;
const ANSWER_TIMEOUT_MAX_MS = 600_000;
const MAX_ATTEMPTS_MAX = 100;
const QUEUE_LIMIT_MAX = 1_000_000;
const QUEUE_BYTES_MIN = 64 * 1024;
const QUEUE_BYTES_MAX = 64 * 1024 * MIB;
const COMMIT_INTERVAL_MIN_MS = 1;
const COMMIT_INTERVAL_MAX_MS = 1000;
const RETENTION_DAYS_MAX = 3650;
const MEMORY_BUDGET_MIN_BYTES = MIB;
const MEMORY_BUDGET_MAX_BYTES = 16 * 1024 * MIB;
const LEASE_TTL_MIN_MS = 1000;
const LEASE_TTL_MAX_MS = 600_000;
const MAX_WORKERS = 64;
/** A guessable admin token is no token: 16 characters is the least a generated secret has. */
const ADMIN_TOKEN_MIN_LENGTH = 16;
const CONNECTIONS_MAX = 1_000_000;
const PENDING_BYTES_MIN = 64 * 1024;
/** Under a second, a charger on a slow mobile link could not get its request out. */
const HANDSHAKE_TIMEOUT_MIN_MS = 1000;
/** Node's own request timeout (300 s) must stay above it: it bounds the requests after the first one. */
const HANDSHAKE_TIMEOUT_MAX_MS = 120_000;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `json`: one JSON object per line, for log collectors; `pretty`: coloured, readable lines for a terminal. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
/**
 * Who decides whether a charger may connect: `passthrough` the primary alone (its Authorization header is passed
 * on); `local` the proxy alone (`chargers`), the header staying here; `both` the proxy, then the primary.
 */
export const CHARGER_AUTH_MODES = ['passthrough', 'local', 'both'] as const;
export type ChargerAuthMode = (typeof CHARGER_AUTH_MODES)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Client certificates on the chargers' TLS listener (OCPP security profile 3): `none` asks for none; `request`
 * asks, and a charger without one is let in (profile 2); `require` refuses a charger without one.
 */
export const TLS_CLIENT_AUTH_MODES = ['none', 'request', 'require'] as const;
/** What a charger's client certificate must say: `cn`, its subject CN is the charge point id; `none`, nothing more than being trusted. */
export const TLS_CLIENT_IDENTITIES = ['cn', 'none'] as const;

const WS_URL_MESSAGE = 'expected a ws:// or wss:// URL';

/**
 * An integer within [min, max]. One message for every way to miss (wrong type,
 * fraction, out of range), because the user needs the valid range, not zod's
 * taxonomy of the failure.
 */
function intInRange(min: number, max: number, unit?: string) {
  const message = `expected an integer from ${min} to ${max}${unit === undefined ? '' : ` (${unit})`}`;
  return z.int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

function nonNegativeInt(unit: string) {
  const message = `expected an integer of 0 or more (${unit})`;
  return z.int({ error: message }).min(0, { error: message });
}

function nonEmptyString(what: string) {
  const message = `expected a non-empty ${what}`;
  return z.string({ error: message }).min(1, { error: message });
}

/** Why a string is not usable as an upstream WebSocket URL, or undefined if it is. */
function wsUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return WS_URL_MESSAGE;
  const url = new URL(value);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return WS_URL_MESSAGE;
  // RFC 6455 §3: a WebSocket URI has no fragment, and `ws` refuses to dial one,
  // so catch it here rather than on the first charger connection.
  if (url.hash !== '' || value.includes('#')) return 'expected a ws:// or wss:// URL without a #fragment';
  return undefined;
}

function wsUrl() {
  return z.string({ error: WS_URL_MESSAGE }).superRefine((value, ctx) => {
    const problem = wsUrlProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** A ping interval: 0 turns pings off, anything else is at least PING_INTERVAL_MIN_MS. */
function pingInterval() {
  return intInRange(0, PING_INTERVAL_MAX_MS, 'milliseconds').refine((value) => value === 0 || value >= PING_INTERVAL_MIN_MS, {
    error: `expected 0 (off) or an integer from ${PING_INTERVAL_MIN_MS} to ${PING_INTERVAL_MAX_MS} (milliseconds)`,
  });
}

/** An IPv4 or IPv6 address as a socket reports it (no CIDR ranges, no host names). */
function ipAddress() {
  const message = 'expected an IP address such as 172.30.32.2 or ::1';
  return z.string({ error: message }).refine((value) => isIP(value) !== 0, { error: message });
}

function bool() {
  return z.boolean({ error: 'expected true or false' });
}

/** The option names of one upstream's TLS settings, at the level of the object being refined. */
interface UpstreamTlsKeys {
  readonly url: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly rejectUnauthorized: string;
}

/**
 * The rules between one upstream's TLS options: a client certificate comes with its key, and TLS options on a
 * ws:// URL are a mistake (the operator believes the link is protected), not something to ignore.
 */
function checkUpstreamTls(
  ctx: z.RefinementCtx,
  url: string,
  options: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly rejectUnauthorized: boolean },
  keys: UpstreamTlsKeys,
): void {
  if (options.cert !== undefined && options.key === undefined) {
    ctx.addIssue({ code: 'custom', path: [keys.key], message: `${keys.cert} is set, so the private key of that client certificate is needed too` });
  }
  if (options.key !== undefined && options.cert === undefined) {
    ctx.addIssue({ code: 'custom', path: [keys.cert], message: `${keys.key} is set, so the client certificate it belongs to is needed too` });
  }
  if (!URL.canParse(url) || new URL(url).protocol === 'wss:') return;
  const set: Array<[string, boolean]> = [
    [keys.ca, options.ca !== undefined],
    [keys.cert, options.cert !== undefined],
    [keys.key, options.key !== undefined],
    [keys.rejectUnauthorized, !options.rejectUnauthorized],
  ];
  for (const [key, isSet] of set) {
    if (isSet) ctx.addIssue({ code: 'custom', path: [key], message: `applies to a wss:// URL only, and ${keys.url} is ws:// (no TLS): use wss:// or remove it` });
  }
}

export const chargerMapEntrySchema = z
  .strictObject({
    charger_id: nonEmptyString('charge point id').describe(
      'Charge point identity as the charger presents it to the proxy (last path segment of its URL).',
    ),
    mapped_charger_id: nonEmptyString('charge point id')
      .optional()
      .describe('Identity to present to this secondary instead of charger_id.'),
    password: z
      .string({ error: 'expected a string' })
      .optional()
      .describe(
        'HTTP Basic Auth password to send to this secondary instead of forwarding the charger\'s Authorization header. Never logged.',
      ),
    password_file: nonEmptyString('file path')
      .optional()
      .describe('File holding password (a Docker or Kubernetes secret); a trailing newline is ignored.'),
    id_tag: nonEmptyString('idTag')
      .optional()
      .describe('idTag to put in the StartTransaction mirrored to this secondary, replacing the charger\'s.'),
  })
  .superRefine((entry, ctx) => {
    if (entry.password !== undefined && entry.password_file !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['password_file'], message: 'set password or password_file, not both' });
    }
  })
  .describe('Per-charger overrides for one secondary CSMS.');

/** A charge point id as a charger presents it (decoded), by the rules the proxy applies to the URL. */
function chargePointId() {
  return nonEmptyString('charge point id').superRefine((value, ctx) => {
    const problem = identityProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

export const chargerEntrySchema = z
  .strictObject({
    id: chargePointId().describe('Charge point identity: the last path segment of its URL, and its HTTP Basic user name.'),
    password_hash: z
      .string({ error: 'expected a string printed by ocpp-splitter hash-password' })
      .superRefine((value, ctx) => {
        const parsed = parsePasswordHash(value);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `not a password hash: ${parsed.reason}` });
      })
      .describe('scrypt hash of the charger\'s password (scrypt$N$r$p$salt$key), printed by `ocpp-splitter hash-password`. Never logged.'),
  })
  .describe('A charger the proxy authenticates itself (charger_auth: local or both).');

export const secondaryConfigSchema = z
  .strictObject({
    url: wsUrl().describe('WebSocket URL of the secondary CSMS (ws:// or wss://).'),
    name: nonEmptyString('name').optional().describe('Label for logs and metrics; defaults to the redacted URL.'),
    append_charge_point_id: bool()
      .default(true)
      .describe('Append "/<charge point id>" to url when dialling, as chargers do with their backend URL.'),
    forward_authorization: bool()
      .optional()
      .describe(
        'Forward the charger\'s Authorization header (its password) to this secondary, unless charger_map sets a password: true always, false never; unset only when url is wss://.',
      ),
    charger_map: z
      .array(chargerMapEntrySchema, { error: 'expected a list of charger mappings' })
      .default([])
      .describe('Per-charger overrides of identity, password and idTag for this secondary.'),
    ca_file: nonEmptyString('file path')
      .optional()
      .describe('PEM file of the CA(s) that issued this secondary\'s certificate, instead of the public CAs (wss:// only).'),
    cert_file: nonEmptyString('file path')
      .optional()
      .describe('PEM file of the proxy\'s own client certificate (with its chain) for a secondary that asks for one (OCPP security profile 3); with key_file.'),
    key_file: nonEmptyString('file path')
      .optional()
      .describe('PEM file of the private key of cert_file, unencrypted.'),
    reject_unauthorized: bool()
      .default(true)
      .describe('Check this secondary\'s certificate (wss://); false accepts any certificate, so anyone on the path can read and change the traffic: for tests only, warned about at start.'),
  })
  .superRefine((secondary, ctx) => {
    checkUpstreamTls(
      ctx,
      secondary.url,
      { ca: secondary.ca_file, cert: secondary.cert_file, key: secondary.key_file, rejectUnauthorized: secondary.reject_unauthorized },
      { url: 'url', ca: 'ca_file', cert: 'cert_file', key: 'key_file', rejectUnauthorized: 'reject_unauthorized' },
    );
    // Two entries for one charger would make the override depend on list order.
    const firstIndex = new Map<string, number>();
    secondary.charger_map.forEach((entry, index) => {
      const earlier = firstIndex.get(entry.charger_id);
      if (earlier === undefined) {
        firstIndex.set(entry.charger_id, index);
        return;
      }
      ctx.addIssue({
        code: 'custom',
        path: ['charger_map', index, 'charger_id'],
        message: `duplicate charger_id, already mapped in charger_map[${earlier}]`,
      });
    });
  })
  .describe('A secondary CSMS that receives a mirror of the charger\'s traffic.');

/** The rules between the listener's TLS options: nothing half set, and nothing that would check nothing. */
function checkListenerTls(
  ctx: z.RefinementCtx,
  config: {
    readonly tls_cert_file?: string;
    readonly tls_key_file?: string;
    readonly tls_ca_file?: string;
    readonly tls_client_auth: (typeof TLS_CLIENT_AUTH_MODES)[number];
  },
): void {
  const { tls_cert_file: cert, tls_key_file: key, tls_ca_file: ca, tls_client_auth: clientAuth } = config;
  if (cert !== undefined && key === undefined) {
    ctx.addIssue({ code: 'custom', path: ['tls_key_file'], message: 'tls_cert_file is set, so the private key of that certificate is needed too' });
  }
  if (key !== undefined && cert === undefined) {
    ctx.addIssue({ code: 'custom', path: ['tls_cert_file'], message: 'tls_key_file is set, so the certificate it belongs to is needed too' });
  }
  if (cert === undefined && (ca !== undefined || clientAuth !== 'none')) {
    ctx.addIssue({ code: 'custom', path: ['tls_cert_file'], message: 'client certificates (tls_ca_file, tls_client_auth) need TLS: set tls_cert_file and tls_key_file' });
  }
  if (clientAuth !== 'none' && ca === undefined) {
    ctx.addIssue({ code: 'custom', path: ['tls_ca_file'], message: `tls_client_auth is ${clientAuth}, so the CA that issues the chargers' certificates is needed` });
  }
  if (clientAuth === 'none' && ca !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['tls_client_auth'], message: 'tls_ca_file is set, so set request or require (or remove tls_ca_file): with none it would check nothing' });
  }
}

export const configSchema = z
  .strictObject({
    port: intInRange(PORT_MIN, PORT_MAX)
      .default(9000)
      .describe('TCP port the proxy listens on for chargers; 0 picks a free port.'),
    host: nonEmptyString('listen address')
      .optional()
      .describe('Address to listen on, e.g. 0.0.0.0 or ::1; unset listens on all interfaces.'),
    tls_cert_file: nonEmptyString('file path')
      .optional()
      .describe('PEM file of the certificate chargers see (its chain after it, e.g. /ssl/fullchain.pem): chargers then connect with wss:// (TLS 1.2 or later). Reloaded when it changes. Unset: plain ws://.'),
    tls_key_file: nonEmptyString('file path')
      .optional()
      .describe('PEM file of the private key of tls_cert_file (unencrypted), e.g. /ssl/privkey.pem.'),
    tls_ca_file: nonEmptyString('file path')
      .optional()
      .describe('PEM file of the CA(s) that issue the chargers\' client certificates (OCPP security profile 3); needs tls_client_auth request or require.'),
    tls_client_auth: z
      .enum(TLS_CLIENT_AUTH_MODES, { error: `expected one of ${TLS_CLIENT_AUTH_MODES.join(', ')}` })
      .default('none')
      .describe('Client certificates (security profile 3): none; request (a charger without one is let in, with one it must be issued by tls_ca_file); require (a charger without one gets HTTP 403).'),
    tls_client_identity: z
      .enum(TLS_CLIENT_IDENTITIES, { error: `expected one of ${TLS_CLIENT_IDENTITIES.join(', ')}` })
      .default('cn')
      .describe('What a client certificate must say: cn = its subject CN is the charge point id in the URL (else HTTP 403); none = any certificate tls_ca_file issued.'),
    primary_csms_url: wsUrl().describe(
      'WebSocket URL of the primary CSMS (ws:// or wss://); it has full control of the charger. Required.',
    ),
    primary_csms_append_charge_point_id: bool()
      .default(true)
      .describe('Append "/<charge point id>" to primary_csms_url when dialling.'),
    primary_connect_timeout_ms: intInRange(CONNECT_TIMEOUT_MIN_MS, CONNECT_TIMEOUT_MAX_MS, 'milliseconds')
      .default(10_000)
      .describe('Milliseconds to wait for the primary CSMS handshake before refusing the charger.'),
    primary_csms_ca_file: nonEmptyString('file path')
      .optional()
      .describe('PEM file of the CA(s) that issued the primary\'s certificate, instead of the public CAs (wss:// only).'),
    primary_csms_cert_file: nonEmptyString('file path')
      .optional()
      .describe('PEM file of the proxy\'s own client certificate (with its chain) for a primary that asks for one (OCPP security profile 3); with primary_csms_key_file.'),
    primary_csms_key_file: nonEmptyString('file path')
      .optional()
      .describe('PEM file of the private key of primary_csms_cert_file, unencrypted.'),
    primary_csms_reject_unauthorized: bool()
      .default(true)
      .describe('Check the primary\'s certificate (wss://); false accepts any certificate, so anyone on the path can read and change the traffic: for tests only, warned about at start.'),
    secondary_csms: z
      .array(secondaryConfigSchema, { error: 'expected a list of secondary CSMS entries' })
      .default([])
      .describe('Secondary CSMSs that receive a mirror of every charger\'s traffic.'),
    log_level: z
      .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })
      .default('info')
      .describe('Minimum level of log lines written to stdout.'),
    log_format: z
      .enum(LOG_FORMATS, { error: `expected one of ${LOG_FORMATS.join(', ')}` })
      .default('json')
      .describe('How log lines are written to stdout: json (one object per line, for log collectors) or pretty (readable, for a terminal).'),
    log_max_message_length: nonNegativeInt('characters')
      .default(120)
      .describe('Characters of an OCPP message shown in debug logs before truncation; 0 shows all.'),
    strict_config: bool()
      .default(false)
      .describe('Treat unknown keys in the config file as errors that stop the start, instead of warnings.'),
    trust_proxy: bool()
      .default(false)
      .describe('Take the charger\'s address (for logs and max_connections_per_ip) from the X-Forwarded-For header (its last entry, added by your reverse proxy) instead of the TCP peer. Only for a reverse proxy you run.'),
    data_dir: nonEmptyString('directory path')
      .default('./data')
      .describe('Directory for state that must survive restarts.'),
    max_connections: intInRange(1, CONNECTIONS_MAX, 'chargers')
      .default(10_000)
      .describe('Chargers connected to this process at most; one more gets HTTP 503 with Retry-After (a charger reconnecting under a connected id always gets through).'),
    max_connections_per_ip: intInRange(0, CONNECTIONS_MAX, 'connections')
      .default(5000)
      .describe('Open connections from one client address at most (the TCP peer; with trust_proxy the X-Forwarded-For address); one more gets HTTP 503. 0 = no limit. Chargers behind one NAT share an address.'),
    max_pending_handshakes: intInRange(1, CONNECTIONS_MAX, 'connections')
      .default(1000)
      .describe('Connections that are not yet a charger session (still sending their request, or waiting for the primary) at most; one more gets HTTP 503 with Retry-After.'),
    max_pending_handshake_bytes: intInRange(PENDING_BYTES_MIN, MEMORY_BUDGET_MAX_BYTES, 'bytes')
      .default(64 * MIB)
      .describe('Process-wide budget for bytes chargers send before their 101 (kept while the primary answers); the charger that would go past it gets HTTP 503.'),
    handshake_timeout_ms: intInRange(HANDSHAKE_TIMEOUT_MIN_MS, HANDSHAKE_TIMEOUT_MAX_MS, 'milliseconds')
      .default(10_000)
      .describe('Milliseconds a new connection has to send a complete HTTP request; after that it gets HTTP 408 and is closed (also a connection that sends nothing).'),
    charger_auth: z
      .enum(CHARGER_AUTH_MODES, { error: `expected one of ${CHARGER_AUTH_MODES.join(', ')}` })
      .default('passthrough')
      .describe('Who checks a charger\'s HTTP Basic credentials: passthrough = the primary (the header is passed on); local = the proxy, against chargers, before dialling (the header is not passed on); both = the proxy, then the primary.'),
    chargers: z
      .array(chargerEntrySchema, { error: 'expected a list of chargers ({ id, password_hash })' })
      .default([])
      .superRefine((chargers, ctx) => {
        const firstIndex = new Map<string, number>();
        chargers.forEach((charger, index) => {
          const earlier = firstIndex.get(charger.id);
          if (earlier === undefined) firstIndex.set(charger.id, index);
          else ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate id, already in chargers[${earlier}]` });
        });
      })
      .describe('Chargers and their password hashes, for charger_auth local and both; a charger not listed is refused with 401.'),
    allowed_chargers: z
      .array(
        nonEmptyString('charge point id or pattern').superRefine((value, ctx) => {
          const problem = identityProblem(value);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        }),
        { error: 'expected a list of charge point ids or patterns' },
      )
      .default([])
      .describe('Charge point ids let in, * matching any characters (CP-*); any other id gets HTTP 404 before anything is dialled. Empty = every id.'),
    max_message_size_bytes: intInRange(MESSAGE_SIZE_MIN_BYTES, MESSAGE_SIZE_MAX_BYTES, 'bytes')
      .default(4 * MIB)
      .describe('Largest WebSocket message accepted from a charger or CSMS, in bytes.'),
    ping_interval_ms: pingInterval()
      .default(30_000)
      .describe('Milliseconds between WebSocket pings on every link; 0 turns pings off.'),
    ping_max_missed: intInRange(PING_MAX_MISSED_MIN, PING_MAX_MISSED_MAX)
      .default(2)
      .describe('Consecutive unanswered pings after which a link is considered dead and closed.'),
    shutdown_timeout_ms: intInRange(SHUTDOWN_TIMEOUT_MIN_MS, SHUTDOWN_TIMEOUT_MAX_MS, 'milliseconds')
      .default(8000)
      .describe('Milliseconds a graceful shutdown waits for connections to close before destroying them.'),
    permessage_deflate: bool()
      .default(true)
      .describe('Offer and accept the permessage-deflate WebSocket extension (RFC 7692).'),
    workers: z
      .union([intInRange(1, MAX_WORKERS), z.literal('auto')], { error: `expected an integer from 1 to ${MAX_WORKERS}, or auto` })
      .default(1)
      .describe('Processes serving chargers on the one port (node:cluster); auto = one per CPU core. A charger\'s session and durable state behave the same on any of them.'),
    secondary_connect_timeout_ms: intInRange(CONNECT_TIMEOUT_MIN_MS, CONNECT_TIMEOUT_MAX_MS, 'milliseconds')
      .default(10_000)
      .describe('Milliseconds to wait for a secondary CSMS handshake before retrying later.'),
    secondary_reconnect_delay_ms: intInRange(SECONDARY_DELAY_MIN_MS, SECONDARY_DELAY_MAX_MS, 'milliseconds')
      .default(10_000)
      .describe('Delay before the first reconnect to a secondary that dropped or refused; doubles per failure, ±20% jitter.'),
    secondary_reconnect_max_delay_ms: intInRange(SECONDARY_DELAY_MIN_MS, SECONDARY_DELAY_MAX_MS, 'milliseconds')
      .default(60_000)
      .describe('Upper bound of the growing reconnect delay to a secondary.'),
    secondary_ping_interval_ms: pingInterval()
      .default(30_000)
      .describe('Milliseconds between WebSocket pings to each secondary; after ping_max_missed unanswered pings it is reconnected.'),
    secondary_answer_timeout_ms: intInRange(ANSWER_TIMEOUT_MIN_MS, ANSWER_TIMEOUT_MAX_MS, 'milliseconds')
      .default(30_000)
      .describe('Milliseconds to wait for an answer: from a secondary to a mirrored CALL, and from the charger to a secondary\'s command.'),
    secondary_max_attempts: intInRange(1, MAX_ATTEMPTS_MAX)
      .default(3)
      .describe('Times a mirrored CALL is sent to a secondary that does not answer before it is skipped (logged and counted).'),
    secondary_queue_limit: intInRange(1, QUEUE_LIMIT_MAX, 'messages')
      .default(10_000)
      .describe('Messages kept per charger and secondary (besides the one being delivered) while it is unreachable; when full the oldest non-transaction message is dropped first.'),
    secondary_queue_max_bytes: intInRange(QUEUE_BYTES_MIN, QUEUE_BYTES_MAX, 'bytes')
      .default(16 * MIB)
      .describe('Bytes of messages kept per charger and secondary while it is unreachable; when over, the oldest non-transaction message is dropped first.'),
    store_commit_interval_ms: intInRange(COMMIT_INTERVAL_MIN_MS, COMMIT_INTERVAL_MAX_MS, 'milliseconds')
      .default(5)
      .describe('Milliseconds between group commits of the durable store: a crash loses at most the messages of this last interval.'),
    store_retention_days: intInRange(1, RETENTION_DAYS_MAX, 'days')
      .default(30)
      .describe('Days after which the stored outboxes, transaction links and last BootNotification of a charger not seen since are pruned.'),
    mirror_memory_max_bytes: intInRange(MEMORY_BUDGET_MIN_BYTES, MEMORY_BUDGET_MAX_BYTES, 'bytes')
      .default(64 * MIB)
      .describe('Process-wide budget for mirror messages held in memory: for writes waiting for the store, and again for delivery windows; past it, backlogs are read from the store in pages.'),
    lease_ttl_ms: intInRange(LEASE_TTL_MIN_MS, LEASE_TTL_MAX_MS, 'milliseconds')
      .default(10_000)
      .describe('Lifetime of a charger ownership lease, renewed while the charger is connected; a process that dies loses its chargers\' leases after this long.'),
    admin_port: intInRange(PORT_MIN, PORT_MAX)
      .default(9001)
      .describe('TCP port of the admin listener (dashboard, status API, Prometheus /metrics), separate from the chargers\' port; 0 turns it off.'),
    admin_host: nonEmptyString('listen address')
      .default('127.0.0.1')
      .describe('Address the admin listener binds to. Any address but a loopback one needs admin_token (or admin_trusted_addresses).'),
    admin_token: z
      .string({ error: 'expected a string' })
      .min(ADMIN_TOKEN_MIN_LENGTH, { error: `expected a token of at least ${ADMIN_TOKEN_MIN_LENGTH} characters` })
      // What an Authorization header can carry as one token: a space or a control character could never be sent.
      .regex(/^[\x21-\x7e]+$/, { error: 'expected a token of visible ASCII characters, without spaces' })
      .optional()
      .describe('Bearer token the admin listener asks for (Authorization: Bearer <token>). Never logged.'),
    admin_token_file: nonEmptyString('file path')
      .optional()
      .describe('File holding admin_token (a Docker or Kubernetes secret); a trailing newline is ignored.'),
    admin_trusted_addresses: z
      .array(ipAddress(), { error: 'expected a list of IP addresses' })
      .default([])
      .describe('Peer addresses the admin listener serves without a token, e.g. 172.30.32.2, Home Assistant\'s ingress proxy.'),
    metrics_per_charger: bool()
      .default(false)
      .describe('Also export per-charger metrics (a charger label): one series per charger, so only for small sites.'),
  })
  .superRefine((config, ctx) => {
    // Logs, metrics and the admin API name a secondary by its label; two with one label would be merged there.
    const labelled = new Map<string, number>();
    config.secondary_csms.forEach((secondary, index) => {
      const label = secondary.name ?? redactUrl(secondary.url);
      const earlier = labelled.get(label);
      if (earlier === undefined) {
        labelled.set(label, index);
        return;
      }
      ctx.addIssue({
        code: 'custom',
        path: ['secondary_csms', index, secondary.name === undefined ? 'url' : 'name'],
        message: `secondary_csms[${earlier}] is already called ${JSON.stringify(label)}${secondary.name === undefined ? ' (a URL without its credentials and query string)' : ''}: give each secondary a distinct name`,
      });
    });
    if (config.charger_auth !== 'passthrough' && config.chargers.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['charger_auth'],
        message: 'chargers is empty, so every charger would be refused: give each charger an entry (id, and password_hash printed by ocpp-splitter hash-password)',
      });
    }
    if (config.admin_token !== undefined && config.admin_token_file !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['admin_token_file'], message: 'set admin_token or admin_token_file, not both' });
    }
    if (config.secondary_reconnect_max_delay_ms < config.secondary_reconnect_delay_ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['secondary_reconnect_max_delay_ms'],
        message: `must be at least secondary_reconnect_delay_ms (${config.secondary_reconnect_delay_ms})`,
      });
    }
    checkListenerTls(ctx, config);
    checkUpstreamTls(
      ctx,
      config.primary_csms_url,
      {
        ca: config.primary_csms_ca_file,
        cert: config.primary_csms_cert_file,
        key: config.primary_csms_key_file,
        rejectUnauthorized: config.primary_csms_reject_unauthorized,
      },
      {
        url: 'primary_csms_url',
        ca: 'primary_csms_ca_file',
        cert: 'primary_csms_cert_file',
        key: 'primary_csms_key_file',
        rejectUnauthorized: 'primary_csms_reject_unauthorized',
      },
    );
  })
  .describe('ocpp-splitter configuration.');

/** The validated configuration, with every default filled in. */
export type Config = z.output<typeof configSchema>;
/** What a config file may contain before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
export type SecondaryConfig = z.output<typeof secondaryConfigSchema>;
export type ChargerMapEntry = z.output<typeof chargerMapEntrySchema>;
export type ChargerEntry = z.output<typeof chargerEntrySchema>;
