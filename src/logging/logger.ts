import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Paths that may carry credentials, censored should they ever reach a log call. */
const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.Authorization',
  'password',
  '*.password',
  'charger_map[*].password',
];

/**
 * The root logger: JSON lines with `time` (ISO 8601), `level` (its name), `msg`,
 * and no pid/hostname noise. Every line also carries `tag` — bind it with
 * {@link taggedLogger}, never on the root, so no line carries it twice.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A child logger whose lines carry `tag`: the charge point id, or `proxy`. */
export function taggedLogger(root: Logger, tag: string): Logger {
  return root.child({ tag });
}
