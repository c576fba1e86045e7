import { ErrorCode, OcppSplitterError } from '../errors.js';
import { HttpStatus } from '../http/refuse.js';

/**
 * Seconds a charger refused by a limit is asked to wait (Retry-After). Most chargers keep their own backoff;
 * for those that read it, long enough for a burst of reconnects to pass, short enough to be back soon.
 */
export const LIMIT_RETRY_AFTER_SECONDS = 30;

/** How the proxy logs a refusal: `message` is the line's msg, which operators and tests match on. */
export interface RefusalLog {
  readonly level: 'warn' | 'info';
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
  /**
   * For refusals anyone can cause at will (a limit reached): at most one line per error code every few
   * seconds, the next one saying how many were not written (see logging/log-throttle.ts).
   */
  readonly throttled?: boolean;
}

export interface RefusalAnswer {
  readonly status: number;
  /** The answer's body: why, in a few words, with nothing secret in it. */
  readonly reason: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** None for a refusal that is no news (the proxy is shutting down). */
  readonly log?: RefusalLog;
}

/**
 * An admission step's "no": the charger gets `status` (and `headers`) as a plain
 * HTTP answer before any 101. `code` says which step refused and why.
 */
export class UpgradeRefusal extends OcppSplitterError {
  readonly status: number;
  readonly reason: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly log: RefusalLog | undefined;

  constructor(code: ErrorCode, answer: RefusalAnswer, options?: ErrorOptions) {
    super(code, `upgrade refused with ${answer.status}: ${answer.reason}`, options);
    this.name = 'UpgradeRefusal';
    this.status = answer.status;
    this.reason = answer.reason;
    this.headers = answer.headers ?? {};
    this.log = answer.log;
  }
}

/** A refusal of what the charger itself sent (the request, its identity), logged as 'charger refused'. */
export function chargerRefused(code: ErrorCode, status: number, reason: string, headers?: Readonly<Record<string, string>>): UpgradeRefusal {
  return new UpgradeRefusal(code, { status, reason, headers, log: { level: 'warn', message: 'charger refused', fields: { status, reason } } });
}

/**
 * A limit of the proxy's (`limit`, the option's name) was reached: 503 with Retry-After, the line throttled.
 * `fields` say the limit's value; the remote address is added where the refusal is logged.
 */
export function limitReached(code: ErrorCode, limit: string, reason: string, fields: Readonly<Record<string, unknown>>): UpgradeRefusal {
  const status = HttpStatus.ServiceUnavailable;
  return new UpgradeRefusal(code, {
    status,
    reason,
    headers: { 'Retry-After': String(LIMIT_RETRY_AFTER_SECONDS) },
    log: { level: 'warn', message: 'connection refused by a limit', fields: { limit, ...fields, status, reason }, throttled: true },
  });
}

/**
 * The primary accepted none of the sub-protocols the charger offered. Not an HTTP
 * refusal: OCPP-J has the CSMS complete the handshake without Sec-WebSocket-Protocol
 * and close at once, which the proxy does in the primary's stead.
 */
export class NoCommonSubprotocol extends OcppSplitterError {
  readonly offered: readonly string[];

  constructor(offered: readonly string[]) {
    super(ErrorCode.NoCommonSubprotocol, `the primary accepted none of the offered sub-protocols (${offered.join(', ')})`);
    this.name = 'NoCommonSubprotocol';
    this.offered = offered;
  }
}
