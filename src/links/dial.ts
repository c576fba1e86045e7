import type { IncomingMessage } from 'node:http';
import type { ConnectionOptions } from 'node:tls';
import WebSocket, { type ClientOptions } from 'ws';
import type { UpstreamTls } from '../tls/upstream-tls.js';

/** Everything needed to open one upstream WebSocket (to the primary or a secondary). */
export interface DialOptions {
  readonly url: string;
  /** Offered exactly as given, in this order of preference. */
  readonly subprotocols: readonly string[];
  /** Extra request headers, e.g. the charger's Authorization header. */
  readonly headers: Readonly<Record<string, string>>;
  /** Time allowed for TCP, TLS and the HTTP upgrade together. */
  readonly timeoutMs: number;
  readonly maxPayload: number;
  readonly perMessageDeflate: boolean;
  /** Aborts the attempt, e.g. when the charger goes away mid-handshake. */
  readonly signal?: AbortSignal;
  /** For a wss:// URL: the CA to check the upstream against and the proxy's client certificate; Node's defaults without. */
  readonly tls?: UpstreamTls;
}

/** Upstream HTTP response headers worth passing on to a refused charger. */
export interface RefusalHeaders {
  readonly wwwAuthenticate?: string;
  readonly retryAfter?: string;
}

export type DialOutcome =
  | {
      readonly kind: 'open';
      /** Paused: no 'message' is emitted until the owner calls resume(). */
      readonly socket: WebSocket;
      /** The sub-protocol the upstream chose ('' when none was offered). */
      readonly subprotocol: string;
    }
  | { readonly kind: 'refused'; readonly status: number; readonly headers: RefusalHeaders }
  | { readonly kind: 'no-common-subprotocol' }
  | { readonly kind: 'unreachable'; readonly error: Error }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted' };

/**
 * Opens a WebSocket to an upstream CSMS and reports how the handshake ended.
 * Never rejects: every way a handshake can fail is an outcome the caller maps to
 * an HTTP status for the charger or to a retry.
 *
 * The opened socket is returned paused, so no frame the upstream sends right
 * after its 101 can be emitted before the caller has attached its listeners.
 */
export function dial(options: DialOptions): Promise<DialOutcome> {
  return new Promise<DialOutcome>((resolve) => {
    if (options.signal?.aborted === true) {
      resolve({ kind: 'aborted' });
      return;
    }

    let settled = false;
    let missingSubprotocol = false;
    let socket: WebSocket;
    try {
      socket = new WebSocket(options.url, [...options.subprotocols], clientOptions(options));
    } catch (error) {
      resolve({ kind: 'unreachable', error: toError(error) });
      return;
    }

    const finish = (outcome: DialOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('open', onOpen);
      socket.off('upgrade', onUpgrade);
      socket.off('unexpected-response', onUnexpectedResponse);
      if (outcome.kind === 'open') {
        socket.off('error', onError);
      } else {
        // The socket is abandoned; keep a listener so its late errors are not unhandled.
        socket.on('error', ignoreLateError);
        socket.terminate();
      }
      resolve(outcome);
    };

    const onOpen = (): void => {
      socket.pause();
      finish({ kind: 'open', socket, subprotocol: socket.protocol });
    };
    const onUpgrade = (response: IncomingMessage): void => {
      // `ws` rejects a 101 without Sec-WebSocket-Protocol when protocols were offered;
      // note why, so the error that follows is reported as "no common sub-protocol".
      missingSubprotocol =
        options.subprotocols.length > 0 && response.headers['sec-websocket-protocol'] === undefined;
    };
    const onUnexpectedResponse = (_request: unknown, response: IncomingMessage): void => {
      const headers: { wwwAuthenticate?: string; retryAfter?: string } = {};
      const wwwAuthenticate = response.headers['www-authenticate'];
      if (typeof wwwAuthenticate === 'string') headers.wwwAuthenticate = wwwAuthenticate;
      const retryAfter = response.headers['retry-after'];
      if (typeof retryAfter === 'string') headers.retryAfter = retryAfter;
      response.resume();
      finish({ kind: 'refused', status: response.statusCode ?? 502, headers });
    };
    const onError = (error: Error): void => {
      finish(missingSubprotocol ? { kind: 'no-common-subprotocol' } : { kind: 'unreachable', error });
    };
    const onAbort = (): void => finish({ kind: 'aborted' });

    const timer = setTimeout(() => finish({ kind: 'timeout' }), options.timeoutMs);
    socket.on('open', onOpen);
    socket.on('upgrade', onUpgrade);
    socket.on('unexpected-response', onUnexpectedResponse);
    socket.on('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `ws` hands its options on to `tls.connect`, which takes a prepared secure context (parsed once, at start). */
function clientOptions(options: DialOptions): ClientOptions & Pick<ConnectionOptions, 'secureContext'> {
  const { tls } = options;
  return {
    headers: { ...options.headers },
    maxPayload: options.maxPayload,
    perMessageDeflate: options.perMessageDeflate,
    followRedirects: false,
    ...(tls?.secureContext === undefined ? {} : { secureContext: tls.secureContext }),
    ...(tls === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
  };
}

function ignoreLateError(): void {
  // Errors after the outcome was decided (e.g. "closed before the connection was
  // established" caused by our own terminate()) carry no new information.
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
