import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import type { WebSocket } from 'ws';
import { forwardedClientAddress, pathForLog, peerAddress } from './client-address.js';
import { watchPendingSocket, type PendingSocketWatch, type SharedEarlyBytes } from './pending-socket.js';
import type { UpgradeRefusal } from './refusal.js';

export interface HandshakeOptions {
  /** Take the client's address from X-Forwarded-For (config `trust_proxy`): a reverse proxy of the operator's is in front. */
  readonly trustProxy?: boolean;
}

/** Where a charger connects from, for the lines logged about its connection (never anything secret). */
export interface ConnectionLogFields {
  readonly remote_address: string | undefined;
  /** The request path without its query string. */
  readonly path: string;
  /** The TCP peer, when `remote_address` came from X-Forwarded-For: the reverse proxy. */
  readonly forwarded_by?: string;
}

/** Who the charger says it is: the last segment of its URL path (see `extractIdentity`). */
export interface ChargerIdentity {
  /** Decoded: the charger's one name for sessions, the store and logs. */
  readonly identity: string;
  /** The identity percent-encoded the one canonical way: what the upstream URLs carry. */
  readonly urlSegment: string;
}

/** What the charger's TLS connection says about it (listener with `tls_cert_file`). */
export interface ChargerTls {
  /** The client certificate it presented, if any (asked for only with `tls_client_auth` request or require). */
  readonly certificate: PeerCertificate | undefined;
  /** Whether that certificate was issued by `tls_ca_file` and is valid now; false without one. */
  readonly authorized: boolean;
  /** Why a presented certificate was not verified (OpenSSL's code, e.g. CERT_HAS_EXPIRED); undefined otherwise. */
  readonly authorizationError: string | undefined;
}

/** The primary's side of a charger being admitted: open and paused until the session attaches. */
export interface PrimaryConnection {
  readonly socket: WebSocket;
  /** The sub-protocol the primary chose: the one the charger's 101 carries. */
  readonly subprotocol: string;
  /** The URL dialled with credentials and query removed, for logs. */
  readonly urlForLog: string;
}

/**
 * One charger's upgrade request while admission decides on it: what the charger
 * presented, what the steps found out so far, and what they opened on its behalf
 * (undone by {@link Handshake.abandon} if the charger is not admitted after all).
 *
 * Steps fill it in chain order; reading a part before the step that fills it has
 * run is a bug in the chain, and throws.
 */
export class Handshake {
  readonly request: IncomingMessage;
  /** The charger's socket: nothing is written to it until the proxy answers (101 or an HTTP error). */
  readonly socket: Duplex;
  /** The TCP peer's address; no forwarding header is trusted for it. */
  readonly remoteAddress: string | undefined;
  /**
   * Where the charger connects from, for logs: the TCP peer, or with `trustProxy` the address the reverse
   * proxy in front saw (X-Forwarded-For), the peer then being `forwarded_by`.
   */
  readonly logFields: ConnectionLogFields;
  /** The charger's Authorization header (HTTP Basic, OCPP Security profiles 1 and 2): passed on, never logged. */
  readonly authorization: string | undefined;
  /** Its TLS connection's peer, when it connected over TLS (OCPP security profiles 2 and 3); undefined over plain ws://. */
  readonly tls: ChargerTls | undefined;

  readonly #cancel = new AbortController();
  readonly #undo: Array<() => void> = [];
  #head: Buffer;
  #watch: PendingSocketWatch | undefined;
  /** The head's bytes taken from the shared budget, given back with the head. */
  #heldHead: { readonly shared: SharedEarlyBytes; readonly bytes: number } | undefined;
  #refusal: UpgradeRefusal | undefined;
  #offeredSubprotocols: readonly string[] | undefined;
  #charger: ChargerIdentity | undefined;
  #primary: PrimaryConnection | undefined;

  constructor(request: IncomingMessage, socket: Duplex, head: Buffer, options: HandshakeOptions = {}) {
    this.request = request;
    this.socket = socket;
    this.#head = head;
    this.remoteAddress = peerAddress(request.socket.remoteAddress);
    this.authorization = request.headers.authorization;
    this.tls = request.socket instanceof TLSSocket ? chargerTls(request.socket) : undefined;
    const forwarded = options.trustProxy === true ? forwardedClientAddress(request.headers['x-forwarded-for']) : undefined;
    const path = pathForLog(request.url);
    this.logFields =
      forwarded === undefined
        ? { remote_address: this.remoteAddress, path }
        : { remote_address: forwarded, path, forwarded_by: this.remoteAddress };
  }

  /** Aborted when the charger leaves before its 101, or the proxy gives up on it (shutdown). */
  get signal(): AbortSignal {
    return this.#cancel.signal;
  }

  /** Stops whatever the steps wait for on this charger's behalf. Idempotent. */
  cancel(): void {
    this.#cancel.abort();
  }

  /**
   * Refuses the charger from outside the step that runs (a limit reached while it waits): cancels, and the
   * chain rejects with `refusal` rather than with what the waiting step makes of the cancellation. The first
   * refusal stays.
   */
  refuse(refusal: UpgradeRefusal): void {
    this.#refusal ??= refusal;
    this.cancel();
  }

  /** Set by {@link refuse}. */
  get refusal(): UpgradeRefusal | undefined {
    return this.#refusal;
  }

  /** The sub-protocols the charger offered, in its order of preference; set by `checkUpgrade`. */
  get offeredSubprotocols(): readonly string[] {
    return this.#offeredSubprotocols ?? notYetKnown('offeredSubprotocols', 'checkUpgrade');
  }

  set offeredSubprotocols(offered: readonly string[]) {
    this.#offeredSubprotocols = offered;
  }

  /** Set by `identifyCharger`. */
  get charger(): ChargerIdentity {
    return this.#charger ?? notYetKnown('charger', 'identifyCharger');
  }

  set charger(charger: ChargerIdentity) {
    this.#charger = charger;
  }

  /** The identity if a step has found it yet: how a refusal at any step is logged. */
  get knownIdentity(): string | undefined {
    return this.#charger?.identity;
  }

  /** Set by `dialPrimary`. */
  get primary(): PrimaryConnection {
    return this.#primary ?? notYetKnown('primary', 'dialPrimary');
  }

  set primary(primary: PrimaryConnection) {
    this.#primary = primary;
  }

  /**
   * Starts reading the charger's socket while later steps wait: the handshake is
   * cancelled when the charger leaves, and what it sends early is kept (up to
   * `maxEarlyBytes`, past which it is dropped) for {@link upgradeHead}. With `shared`,
   * the head and the early bytes are taken from a budget for every pending charger;
   * what does not fit calls its `onExhausted`.
   */
  watchSocket(maxEarlyBytes: number, shared?: SharedEarlyBytes): void {
    if (this.#watch !== undefined) return;
    if (shared !== undefined && this.#heldHead === undefined) {
      if (!shared.budget.tryReserve(this.#head.length)) {
        shared.onExhausted();
        return;
      }
      this.#heldHead = { shared, bytes: this.#head.length };
    }
    this.#watch = watchPendingSocket(this.socket, maxEarlyBytes, () => this.cancel(), shared);
  }

  /**
   * Stops watching the socket (pausing it) and returns the upgrade head followed by the early bytes, which
   * from now on are the caller's (their budget given back). Idempotent.
   */
  upgradeHead(): Buffer {
    if (this.#watch !== undefined) {
      this.#head = this.#watch.stop(this.#head);
      this.#watch = undefined;
    }
    if (this.#heldHead !== undefined) {
      this.#heldHead.shared.budget.release(this.#heldHead.bytes);
      this.#heldHead = undefined;
    }
    return this.#head;
  }

  /** Registers how to let go of something a step opened or claimed, should the charger not be admitted. */
  onAbandon(undo: () => void): void {
    this.#undo.push(undo);
  }

  /**
   * Lets go, newest first, of everything the steps opened or claimed: the charger
   * was refused, left, or its upgrade failed. Answering or destroying the socket
   * stays with the caller. Idempotent.
   */
  abandon(): void {
    for (const undo of this.#undo.splice(0).reverse()) undo();
  }
}

function chargerTls(socket: TLSSocket): ChargerTls {
  const certificate = socket.getPeerCertificate();
  // Node returns an empty object when the peer sent no certificate.
  const presented = Object.keys(certificate).length > 0;
  // Typed as an Error, but Node sets OpenSSL's code, a string.
  const error: unknown = socket.authorizationError;
  return {
    certificate: presented ? certificate : undefined,
    authorized: presented && socket.authorized,
    authorizationError: !presented || socket.authorized ? undefined : typeof error === 'string' ? error : error instanceof Error ? error.message : undefined,
  };
}

function notYetKnown(part: string, step: string): never {
  throw new Error(`handshake.${part} read before the ${step} step ran: the admission chain is out of order`);
}
