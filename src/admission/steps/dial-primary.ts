import { ErrorCode } from '../../errors.js';
import { HttpStatus } from '../../http/refuse.js';
import { dial, type DialOptions, type DialOutcome, type RefusalHeaders } from '../../links/dial.js';
import type { UpstreamTls } from '../../tls/upstream-tls.js';
import { redactUrl } from '../../util/redact-url.js';
import type { AdmissionStep } from '../chain.js';
import { NoCommonSubprotocol, UpgradeRefusal } from '../refusal.js';
import { buildUpstreamUrl } from '../upstream-url.js';

export interface DialPrimaryOptions {
  /** `primary_csms_url`. */
  readonly endpoint: string;
  /** `primary_csms_append_charge_point_id`. */
  readonly appendIdentity: boolean;
  /** `primary_connect_timeout_ms`. */
  readonly timeoutMs: number;
  readonly maxPayload: number;
  readonly perMessageDeflate: boolean;
  /**
   * Whether the primary gets the charger's Authorization header: true unless the proxy alone authenticates
   * chargers (`charger_auth: local`), when their credentials stay here. Default true.
   */
  readonly forwardAuthorization?: boolean;
  /** The primary's TLS (`primary_csms_ca_file`, `_cert_file`, `_key_file`, `_reject_unauthorized`), read at start. */
  readonly tls?: UpstreamTls;
  /** How to open the WebSocket; the real `dial` unless a test injects one. */
  readonly dial?: (options: DialOptions) => Promise<DialOutcome>;
}

/**
 * Opens the charger's connection to the primary, offering exactly the charger's
 * sub-protocols and (unless `forwardAuthorization` is false) Authorization header, and turns every way that can fail into
 * the charger's answer: the primary's own refusal (status, WWW-Authenticate,
 * Retry-After), 502 unreachable, 504 too slow, 503 aborted. Without a common
 * sub-protocol it throws {@link NoCommonSubprotocol}.
 */
export function dialPrimary(options: DialPrimaryOptions): AdmissionStep {
  const dialUpstream = options.dial ?? dial;
  return async function dialPrimary(handshake, signal) {
    const url = buildUpstreamUrl(options.endpoint, handshake.charger.urlSegment, options.appendIdentity);
    const authorization = options.forwardAuthorization === false ? undefined : handshake.authorization;
    const outcome = await dialUpstream({
      url,
      subprotocols: handshake.offeredSubprotocols,
      headers: authorization === undefined ? {} : { Authorization: authorization },
      timeoutMs: options.timeoutMs,
      maxPayload: options.maxPayload,
      perMessageDeflate: options.perMessageDeflate,
      tls: options.tls,
      signal,
    });
    const primary = redactUrl(url);
    switch (outcome.kind) {
      case 'open': {
        const { socket } = outcome;
        handshake.primary = { socket, subprotocol: outcome.subprotocol, urlForLog: primary };
        handshake.onAbandon(() => socket.terminate());
        return;
      }
      case 'refused':
        throw new UpgradeRefusal(ErrorCode.PrimaryRefused, {
          status: outcome.status,
          reason: 'refused by the CSMS',
          headers: passedOnHeaders(outcome.headers),
          log: { level: 'warn', message: 'primary refused the connection', fields: { primary, status: outcome.status } },
        });
      case 'unreachable':
        throw new UpgradeRefusal(
          ErrorCode.PrimaryUnreachable,
          {
            status: HttpStatus.BadGateway,
            reason: 'CSMS unreachable',
            log: { level: 'warn', message: 'primary unreachable', fields: { primary, error: outcome.error.message } },
          },
          { cause: outcome.error },
        );
      case 'timeout':
        throw new UpgradeRefusal(ErrorCode.PrimaryTimeout, {
          status: HttpStatus.GatewayTimeout,
          reason: 'CSMS did not answer in time',
          log: { level: 'warn', message: 'primary handshake timed out', fields: { primary, timeout_ms: options.timeoutMs } },
        });
      case 'aborted':
        throw new UpgradeRefusal(ErrorCode.HandshakeAborted, {
          status: HttpStatus.ServiceUnavailable,
          reason: 'handshake aborted',
          // The charger's own doing (or a shutdown), not a fault: info.
          log: { level: 'info', message: 'charger left before the primary answered' },
        });
      case 'no-common-subprotocol':
        throw new NoCommonSubprotocol(handshake.offeredSubprotocols);
    }
  };
}

/** What of the primary's refusal a charger needs to react as it would to the CSMS itself. */
function passedOnHeaders(headers: RefusalHeaders): Record<string, string> {
  const passed: Record<string, string> = {};
  if (headers.wwwAuthenticate !== undefined) passed['WWW-Authenticate'] = headers.wwwAuthenticate;
  if (headers.retryAfter !== undefined) passed['Retry-After'] = headers.retryAfter;
  return passed;
}
