import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { build as prettyStream } from 'pino-pretty';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** `json` for log collectors (the default), `pretty` for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

/** Paths that may carry credentials, censored should they ever reach a log call. */
const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.Authorization',
  'password',
  '*.password',
  'charger_map[*].password',
];

/** Standard output's file descriptor. */
const STDOUT = 1;

/**
 * The root logger: JSON lines with `time` (ISO 8601), `level` (its name), `msg`,
 * and no pid/hostname noise. Every line also carries `tag` — bind it with
 * {@link taggedLogger}, never on the root, so no line carries it twice.
 *
 * `pretty` writes the same lines for people instead: one line each, local time,
 * `LEVEL: [tag] msg {fields}`, coloured on a terminal (NO_COLOR turns colour off).
 * Redaction applies before formatting, so both formats hide the same secrets.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (format === 'pretty') {
    // One line per entry: an error's stack would spread over many, so a person reads "Type: message".
    const log = (object: Record<string, unknown>): Record<string, unknown> => flattenErrors(object);
    return pino({ ...options, formatters: { ...options.formatters, log } }, prettyDestination(destination));
  }
  return pino(options, destination ?? pino.destination({ dest: STDOUT, sync: true }));
}

function flattenErrors(object: Record<string, unknown>): Record<string, unknown> {
  let flat: Record<string, unknown> | undefined;
  for (const key of ['err', 'error']) {
    const value = object[key];
    if (value === undefined) continue;
    if (value === null || typeof value !== 'object') {
      flat ??= { ...object };
      delete flat[key];
      flat[`${key}_message`] = value;
      continue;
    }
    const { type, name, message } = value as { type?: unknown; name?: unknown; message?: unknown };
    const kind = typeof type === 'string' ? type : typeof name === 'string' ? name : undefined;
    flat ??= { ...object };
    // pino-pretty puts `err`/`error` on lines of their own whatever their type: renamed, they stay inline.
    delete flat[key];
    flat[`${key}_message`] = `${kind === undefined ? '' : `${kind}: `}${typeof message === 'string' ? message : JSON.stringify(value)}`;
  }
  return flat ?? object;
}

function prettyDestination(destination: DestinationStream | undefined): DestinationStream {
  return prettyStream({
    // Synchronous like the JSON destination: the last line before an exit is not lost.
    destination: destination ?? STDOUT,
    sync: true,
    singleLine: true,
    ignore: 'tag',
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    messageFormat: '{if tag}[{tag}] {end}{msg}',
    // pino-pretty decides colour from the terminal and NO_COLOR / FORCE_COLOR; a stream given by a caller is not one.
    ...(destination === undefined ? {} : { colorize: false }),
  });
}

/** A child logger whose lines carry `tag`: the charge point id, or `proxy`. */
export function taggedLogger(root: Logger, tag: string): Logger {
  return root.child({ tag });
}
