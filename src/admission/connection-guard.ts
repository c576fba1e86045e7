import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ErrorCode } from '../errors.js';
import { HttpStatus, refuseUpgrade } from '../http/refuse.js';
import type { AddressCounter } from './address-counter.js';
import { peerAddress } from './client-address.js';
import { LIMIT_RETRY_AFTER_SECONDS } from './refusal.js';

/** A connection the guard turned away, for the proxy to log (throttled) and count. */
export interface ConnectionRefusal {
  readonly code: ErrorCode;
  /** The HTTP status written to it; 0 when none could be (a TLS connection refused before its TLS handshake). */
  readonly status: number;
  readonly reason: string;
  /** The option whose limit was reached. */
  readonly limit: string;
  /** The TCP peer. */
  readonly remoteAddress: string | undefined;
  /** The limit's value, for the log line. */
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface ConnectionGuardOptions {
  /** `max_pending_handshakes`: connections that are not (yet) a charger session. */
  readonly maxPending: number;
  /**
   * `max_connections_per_ip`, counted on the TCP peer as a connection is accepted; none when the peer is a
   * reverse proxy (`trust_proxy`), whose clients are counted once their request is read (limitPerAddress).
   */
  readonly perAddress?: AddressCounter;
  /** `handshake_timeout_ms`: from accepting a connection to its complete HTTP request. */
  readonly handshakeTimeoutMs: number;
  readonly onRefused: (refusal: ConnectionRefusal) => void;
}

interface Tracked {
  /**
   * Where an HTTP answer can be written: the connection itself, or on a TLS listener the TLS socket once its
   * handshake is done (undefined until then: nothing readable can be written before TLS is up).
   */
  http: Duplex | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Not (yet) a charger session: counted against `maxPending`. */
  pending: boolean;
  /** Answered by the guard (503, 408): whatever request still arrives on it is dropped. */
  refused: boolean;
}

/**
 * The limits that act on a connection as it is accepted, before any HTTP is parsed — where a flood of
 * connections costs file descriptors and memory long before it sends a request:
 *
 * - at most `maxPending` connections that are not charger sessions: still sending their request, being
 *   admitted, or plain HTTP (`/healthz`) until they close;
 * - at most `perAddress.max` open connections per client address, charger sessions included;
 * - a complete request within `handshakeTimeoutMs`, or 408 and closed (a socket that sends nothing too).
 *
 * A connection over a limit is answered 503 with Retry-After at once, without reading its request, and
 * closed. Each connection's timer and counts are let go when it closes.
 *
 * On a TLS listener the same limits act on the TCP connection, before the TLS handshake (which is what costs
 * the CPU), and the timeout covers the TLS handshake too. Before the handshake no HTTP can be written, so a
 * connection refused then is closed without an answer (status 0); after it, answers go over TLS.
 */
export class ConnectionGuard {
  readonly #options: ConnectionGuardOptions;
  readonly #tracked = new Map<Duplex, Tracked>();
  /**
   * TLS: accepted TCP connections whose TLS handshake is not done, by peer address and port. Node hands the
   * TLS socket over in 'secureConnection' with no public link to the TCP socket of 'connection'; the peer's
   * address and port name the one TCP connection both wrap while it is open.
   */
  readonly #awaitingTls = new Map<string, Tracked>();
  #pending = 0;

  constructor(options: ConnectionGuardOptions) {
    this.#options = options;
  }

  /**
   * Guards every connection `server` accepts from now on. With `tls` (an https server), 'connection' is the TCP
   * connection and 'secureConnection' the TLS socket HTTP is then read from.
   */
  attach(server: Server, options: { readonly tls?: boolean } = {}): void {
    const tls = options.tls === true;
    server.on('connection', (socket: Socket) => this.#accept(socket, tls));
    if (tls) server.on('secureConnection', (socket: TLSSocket) => this.#secured(socket));
  }

  /** Connections that are not (yet) charger sessions. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * A complete request (an upgrade or plain HTTP) arrived on `socket`: its handshake timer stops. False when
   * the guard has already answered this connection (and closes it once the answer is written): the caller
   * ignores the request.
   */
  requestReceived(socket: Duplex): boolean {
    const tracked = this.#tracked.get(socket);
    if (tracked === undefined) return true;
    if (tracked.refused) return false;
    clearTimeout(tracked.timer);
    tracked.timer = undefined;
    return true;
  }

  /**
   * Node's own headersTimeout (set to the same value) expired on a later request of a kept-alive connection:
   * answered 408 and reported like a first request that took too long.
   */
  requestTimedOut(socket: Duplex): void {
    if (socket.destroyed || !socket.writable) return;
    const tracked = this.#tracked.get(socket) ?? { http: socket, timer: undefined, pending: false, refused: false };
    const remote = 'remoteAddress' in socket && typeof socket.remoteAddress === 'string' ? socket.remoteAddress : undefined;
    this.#timeOut(socket, tracked, peerAddress(remote));
  }

  /** `socket` is a charger session now: it no longer counts as pending. */
  sessionStarted(socket: Duplex): void {
    const tracked = this.#tracked.get(socket);
    if (tracked?.pending !== true) return;
    tracked.pending = false;
    this.#pending -= 1;
  }

  /** Stops every handshake timer (the sockets themselves are the server's to close). Idempotent. */
  close(): void {
    for (const tracked of this.#tracked.values()) {
      clearTimeout(tracked.timer);
      tracked.timer = undefined;
    }
  }

  #accept(socket: Socket, tls: boolean): void {
    const remoteAddress = peerAddress(socket.remoteAddress);
    if (remoteAddress === undefined) {
      // Reset before it was accepted: nothing to answer.
      socket.destroy();
      return;
    }
    const tracked: Tracked = { http: tls ? undefined : socket, timer: undefined, pending: false, refused: false };
    this.#tracked.set(socket, tracked);
    const peer = tls ? peerKey(socket) : undefined;
    if (peer !== undefined) this.#awaitingTls.set(peer, tracked);
    let releaseAddress = (): void => {};
    // The TCP socket closes whenever its TLS socket does: one place lets go of both.
    socket.once('close', () => {
      clearTimeout(tracked.timer);
      if (tracked.pending) this.#pending -= 1;
      releaseAddress();
      this.#tracked.delete(socket);
      if (tracked.http !== undefined) this.#tracked.delete(tracked.http);
      if (peer !== undefined && this.#awaitingTls.get(peer) === tracked) this.#awaitingTls.delete(peer);
    });

    const { perAddress, maxPending } = this.#options;
    if (perAddress !== undefined) {
      const release = perAddress.tryAcquire(remoteAddress);
      if (release === undefined) {
        this.#refuse(socket, tracked, remoteAddress, ErrorCode.TooManyFromAddress, 'max_connections_per_ip', 'too many connections from this address', {
          max_connections_per_ip: perAddress.max,
        });
        return;
      }
      releaseAddress = release;
    }
    if (this.#pending >= maxPending) {
      this.#refuse(socket, tracked, remoteAddress, ErrorCode.TooManyPending, 'max_pending_handshakes', 'too many connections being set up', {
        max_pending_handshakes: maxPending,
      });
      return;
    }
    tracked.pending = true;
    this.#pending += 1;
    tracked.timer = setTimeout(() => {
      tracked.timer = undefined;
      // Node's own headersTimeout may have answered it a moment before: counted once.
      if (!socket.destroyed) this.#timeOut(socket, tracked, remoteAddress);
    }, this.#options.handshakeTimeoutMs);
    tracked.timer.unref();
  }

  /** The TLS handshake of a connection #accept took is done: its HTTP arrives on `socket` from now on. */
  #secured(socket: TLSSocket): void {
    const peer = peerKey(socket);
    const tracked = peer === undefined ? undefined : this.#awaitingTls.get(peer);
    if (peer === undefined || tracked === undefined) return;
    this.#awaitingTls.delete(peer);
    tracked.http = socket;
    this.#tracked.set(socket, tracked);
  }

  #timeOut(socket: Duplex, tracked: Tracked, remoteAddress: string | undefined): void {
    const timeoutMs = this.#options.handshakeTimeoutMs;
    const reason = tracked.http === undefined ? 'no TLS handshake in time' : 'no complete request in time';
    this.#refuse(socket, tracked, remoteAddress, ErrorCode.HandshakeTimeout, 'handshake_timeout_ms', reason, {
      handshake_timeout_ms: timeoutMs,
    });
  }

  #refuse(
    socket: Duplex,
    tracked: Tracked,
    remoteAddress: string | undefined,
    code: ErrorCode,
    limit: string,
    reason: string,
    fields: Readonly<Record<string, unknown>>,
  ): void {
    tracked.refused = true;
    const timedOut = code === ErrorCode.HandshakeTimeout;
    const http = tracked.http;
    if (http === undefined) {
      // TLS not up yet: no HTTP can be written, and completing the handshake to write one is the cost refused.
      socket.destroy();
      this.#options.onRefused({ code, status: 0, reason, limit, remoteAddress, fields });
      return;
    }
    const status = timedOut ? HttpStatus.RequestTimeout : HttpStatus.ServiceUnavailable;
    // Written before the request is read: HTTP lets a server answer and close at any time (RFC 9112 §9.6),
    // and a client reads the answer as that of the request it is sending.
    refuseUpgrade(http, status, reason, timedOut ? {} : { 'Retry-After': String(LIMIT_RETRY_AFTER_SECONDS) });
    this.#options.onRefused({ code, status, reason, limit, remoteAddress, fields });
  }
}

/** The peer's address and port: which TCP connection a socket (or the TLS socket over it) is. */
function peerKey(socket: Socket): string | undefined {
  const { remoteAddress, remotePort } = socket;
  return remoteAddress === undefined || remotePort === undefined ? undefined : `${remoteAddress}|${String(remotePort)}`;
}
