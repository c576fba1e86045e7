import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { AddressCounter } from './admission/address-counter.js';
import { runAdmission, type AdmissionStep } from './admission/chain.js';
import { ConnectionGuard, type ConnectionRefusal } from './admission/connection-guard.js';
import { Handshake, type ConnectionLogFields } from './admission/handshake.js';
import { OpenSockets } from './admission/open-sockets.js';
import { NoCommonSubprotocol, UpgradeRefusal } from './admission/refusal.js';
import { checkUpgrade } from './admission/steps/check-upgrade.js';
import { claimFromSiblings } from './admission/steps/claim-from-siblings.js';
import { dialPrimary } from './admission/steps/dial-primary.js';
import { identifyCharger } from './admission/steps/identify-charger.js';
import { limitChargers } from './admission/steps/limit-chargers.js';
import { limitPerAddress } from './admission/steps/limit-per-address.js';
import { refuseWhileClosing } from './admission/steps/refuse-while-closing.js';
import { watchPendingCharger } from './admission/steps/watch-pending-charger.js';
import { chargerAuthSteps } from './admission/charger-auth.js';
import type { Config } from './config/schema.js';
import { ErrorCode, OcppSplitterError } from './errors.js';
import { HttpStatus, refuseUpgrade } from './http/refuse.js';
import { CloseCode } from './links/close-codes.js';
import { Keepalive } from './links/keepalive.js';
import { createLogger, taggedLogger, type Logger } from './logging/logger.js';
import type { SessionCoordinator } from './cluster/coordinator.js';
import { LogThrottle } from './logging/log-throttle.js';
import { createMirrorCounters, type MirrorCounters } from './mirror/counters.js';
import { MemoryBudget } from './mirror/memory-budget.js';
import { MirrorService } from './mirror/mirror-service.js';
import { secondaryLabel } from './mirror/secondary-link.js';
import { forwardsChargerAuthorization } from './mirror/secondary-target.js';
import { channels } from './diagnostics/channels.js';
import { secondaryStoreKey } from './store/sqlite-store.js';
import { versionOfSubprotocol } from './ocpp/error-codes.js';
import { ChargerSession } from './session/session.js';
import type { MirrorStore, StreamBacklog } from './store/store.js';
import { SessionRegistry } from './session/registry.js';
import { redactUrl } from './util/redact-url.js';
import { VERSION } from './version.js';
import type { TLSSocket } from 'node:tls';
import { peerAddress } from './admission/client-address.js';
import { checkClientCertificate } from './admission/steps/check-client-certificate.js';
import { createChargerListener, describeTlsFailure } from './tls/charger-listener.js';
import { readUpstreamTlsConfig, unverifiedUpstreams } from './tls/upstream-tls.js';

export interface ProxyOptions {
  /** Root logger; by default JSON lines on stdout at the configured level. */
  readonly logger?: Logger;
  /** Sibling processes serving the same port (node:cluster workers); none when the proxy runs alone. */
  readonly coordinator?: SessionCoordinator;
  /** The mirror's durable store; by default the SQLite file in `data_dir`, opened by `listen()`. */
  readonly store?: MirrorStore;
}

export interface Proxy {
  /** Starts listening on the configured host and port; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /**
   * Graceful stop: refuses new chargers, closes every charger with 1001 and its
   * upstreams, and after `shutdown_timeout_ms` drops whatever is still open.
   * Idempotent; resolves when every socket is gone.
   */
  close(): Promise<void>;
  /** The bound address, once listening. */
  address(): AddressInfo | undefined;
  /** Connected chargers by identity. */
  readonly sessions: SessionRegistry;
  /** Live counts of what the proxy holds; all zero once every charger has left. */
  stats(): ProxyStats;
  /** Closes a charger's session (both legs, 1001) as an operator's action; false when it is not connected. */
  disconnect(chargerId: string): boolean;
  /** The configured secondaries, in config order, with whether the operator paused them. */
  secondaries(): readonly SecondaryStatus[];
  /**
   * Pauses or resumes a secondary (by label) for every charger: while paused its messages are stored but
   * not delivered. False when no secondary has this label.
   */
  setSecondaryPaused(label: string, paused: boolean): boolean;
  /** What waits in the store for the secondaries, per charger and secondary label (empty without secondaries). */
  backlog(): Promise<readonly LabelledBacklog[]>;
  /** The durable store's engine ('sqlite', 'memory', 'postgres'), once listening with secondaries. */
  readonly storeEngine: string | undefined;
}

export interface SecondaryStatus {
  /** Its `name`, else its redacted URL: the name logs, metrics and the admin API use. */
  readonly label: string;
  /** Redacted: no credentials, no query string. */
  readonly url: string;
  readonly paused: boolean;
}

export interface LabelledBacklog {
  readonly chargerId: string;
  readonly secondary: string;
  readonly messages: number;
  readonly bytes: number;
  readonly oldestEnqueuedAt: number | null;
}

export interface ProxyStats {
  readonly chargers: number;
  /** Charger upgrades being admitted: mostly waiting for the primary's answer (or a sibling worker's). */
  readonly pendingHandshakes: number;
  /** Connections that are not charger sessions: still sending their request, being admitted, or plain HTTP. */
  readonly pendingConnections: number;
  /** Bytes chargers sent before their 101, held until it (`max_pending_handshake_bytes` bounds them). */
  readonly pendingHandshakeBytes: number;
  /** Sockets the keepalive sweeps are pinging (chargers, primaries, secondaries). */
  readonly keepaliveSockets: number;
  /** What the mirror to the secondaries did so far. */
  readonly mirror: Readonly<MirrorCounters>;
}

const ProxyState = { Idle: 'idle', Listening: 'listening', Closing: 'closing', Closed: 'closed' } as const;
type ProxyState = (typeof ProxyState)[keyof typeof ProxyState];

/** A charger refused after its 101 (no common sub-protocol) gets this long to answer the close frame. */
const REFUSED_CLOSE_GRACE_MS = 5_000;

/** Creates a proxy for `config`. Nothing is opened until `listen()`. */
export function createProxy(config: Readonly<Config>, options: ProxyOptions = {}): Proxy {
  const rootLog = options.logger ?? createLogger(config.log_level, undefined, config.log_format);
  const log = taggedLogger(rootLog, 'proxy');
  // The TLS files, read once, first: one that cannot be used throws a ConfigError naming its option, before
  // anything else is made. The chargers' listener is wss:// with tls_cert_file, else ws://.
  const upstreamTls = readUpstreamTlsConfig(config);
  const chargerListener = createChargerListener(config, handleHttpRequest, taggedLogger(rootLog, 'tls'));
  const sessions = new SessionRegistry();
  const keepalive = new Keepalive(config.ping_interval_ms, config.ping_max_missed);
  const secondaryKeepalive = new Keepalive(config.secondary_ping_interval_ms, config.ping_max_missed);
  const counters = createMirrorCounters();
  /** Opened by listen() when secondaries are configured: without them there is nothing to keep. */
  let mirrors: MirrorService | undefined;
  /** Every session until it has ended, those replaced by a newer connection included (the registry has only the newest). */
  const liveSessions = new Set<ChargerSession>();
  /** Handshakes being admitted; cancelled on shutdown. */
  const pendingHandshakes = new Set<Handshake>();
  /** Where each session's charger connected from, for the line that says it was replaced. */
  const connectedFrom = new WeakMap<ChargerSession, ConnectionLogFields>();
  /** The sub-protocol the primary chose, per upgrade request, for `handleProtocols`. */
  const chosenSubprotocol = new WeakMap<IncomingMessage, string>();
  /** One line per limit and THROTTLED_LOG_INTERVAL_MS at most: anyone can make a limit refuse at will. */
  const refusalLogThrottle = new LogThrottle();
  /** Charger connections let through the charger limit, until their sockets close. */
  const chargerConnections = new OpenSockets();
  const connectionsPerAddress = new AddressCounter(config.max_connections_per_ip);
  /** What chargers send before their 101, all together. */
  const pendingBytes = new MemoryBudget(config.max_pending_handshake_bytes);
  const guard = new ConnectionGuard({
    maxPending: config.max_pending_handshakes,
    // Behind a reverse proxy the TCP peer is that proxy: its clients are counted once their request is read.
    perAddress: config.trust_proxy ? undefined : connectionsPerAddress,
    handshakeTimeoutMs: config.handshake_timeout_ms,
    onRefused: reportConnectionRefusal,
  });
  const startedAt = Date.now();
  let state: ProxyState = ProxyState.Idle;
  let closing: Promise<void> | undefined;
  const coordinator = options.coordinator;
  coordinator?.onRelease(async (identity) => {
    const session = sessions.get(identity);
    if (session === undefined) return;
    taggedLogger(rootLog, identity).warn({ ...connectedFrom.get(session) }, 'charge point id connected to another worker: this connection is replaced');
    // Closing stops the mirror; once its links have let go (an in-flight answer
    // recorded, its writes committed, its lease released) the other worker takes
    // the lease and delivers from where this one stopped. The charger and primary
    // sockets finish closing on their own.
    session.close(CloseCode.GoingAway, 'replaced by a new connection');
    await session.mirror?.handedOver();
    try {
      await mirrors?.flush();
    } catch (error) {
      log.error({ err: error }, 'could not write the store before handing a charger to another worker');
    }
  });

  /** `charger_auth`, `chargers`, `allowed_chargers`: every password hash parsed now, at start. */
  const chargerAuth = chargerAuthSteps(config, (identity) => sessions.get(identity) !== undefined);
  /**
   * Everything that may refuse a charger, in order, before its 101: cheapest first. The allow-list is a look-up,
   * so it comes as soon as the id is known; the password check (scrypt) only after the limits, so that a charger
   * over one costs no scrypt, and before the primary, which a charger refused here never reaches.
   */
  const admission: readonly AdmissionStep[] = [
    refuseWhileClosing(() => state === ProxyState.Listening),
    checkUpgrade,
    ...(config.trust_proxy ? [limitPerAddress(connectionsPerAddress)] : []),
    identifyCharger,
    // Security profile 3: the client certificate must be this charger's, before anything else is spent on it.
    checkClientCertificate({ clientAuth: config.tls_client_auth, identity: config.tls_client_identity }),
    ...chargerAuth.checkId,
    limitChargers({ max: config.max_connections, isConnected: (identity) => sessions.get(identity) !== undefined, chargers: chargerConnections }),
    watchPendingCharger(config.max_message_size_bytes, pendingBytes),
    // After the watch: a charger that leaves while its password is checked gives up its turn.
    ...chargerAuth.authenticate,
    dialPrimary({
      endpoint: config.primary_csms_url,
      appendIdentity: config.primary_csms_append_charge_point_id,
      timeoutMs: config.primary_connect_timeout_ms,
      maxPayload: config.max_message_size_bytes,
      perMessageDeflate: config.permessage_deflate,
      tls: upstreamTls.primary,
      forwardAuthorization: chargerAuth.forwardAuthorizationToPrimary,
    }),
    // With sibling workers, wait until none of them serves this charger any more.
    ...(coordinator === undefined ? [] : [claimFromSiblings(coordinator, (identity) => sessions.get(identity) !== undefined)]),
  ];

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: config.max_message_size_bytes,
    perMessageDeflate: config.permessage_deflate,
    // Without this `ws` would pick the charger's first offer; the primary decides.
    handleProtocols: (_offered, request) => chosenSubprotocol.get(request) || false,
  });

  const { server } = chargerListener;
  guard.attach(server, { tls: chargerListener.tls });
  if (chargerListener.tls) server.on('tlsClientError', reportTlsFailure);
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Answered already by a limit (503, 408) while the request was arriving: that answer closes the socket once written.
    if (!guard.requestReceived(socket)) return;
    handleUpgrade(request, socket, head).catch((error: unknown) => {
      // A bug, not a charger's fault: keep serving everyone else, and say so loudly.
      log.error({ err: error }, 'unexpected error while admitting a charger');
      socket.destroy();
    });
  });
  // A charger that sends garbage instead of HTTP gets a 400 and is gone.
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    // Node's headersTimeout, on a kept-alive connection's later request (the guard times the first one).
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') guard.requestTimedOut(socket);
    else refuseUpgrade(socket, HttpStatus.BadRequest, 'bad request');
  });

  /** Logs (throttled) and counts a connection the guard turned away before any request was read. */
  function reportConnectionRefusal(refusal: ConnectionRefusal): void {
    const admitted = refusalLogThrottle.admit(refusal.code);
    if (admitted !== undefined) {
      log.warn(
        { limit: refusal.limit, ...refusal.fields, status: refusal.status, reason: refusal.reason, remote_address: refusal.remoteAddress, suppressed: admitted.suppressed },
        'connection refused by a limit',
      );
    }
    if (!channels.handshake.hasSubscribers) return;
    channels.handshake.publish({ chargerId: undefined, outcome: 'refused', status: refusal.status, code: refusal.code, remoteAddress: refusal.remoteAddress });
  }

  /** Logs (throttled) and counts a TLS handshake that failed: the client never got as far as HTTP. */
  function reportTlsFailure(error: Error & { code?: string }, socket: TLSSocket): void {
    socket.destroy();
    const reason = describeTlsFailure(error);
    if (reason === undefined) return;
    const remoteAddress = peerAddress(socket.remoteAddress);
    const admitted = refusalLogThrottle.admit(ErrorCode.TlsHandshakeFailed);
    if (admitted !== undefined) {
      log.warn({ reason, error: error.code ?? error.message, remote_address: remoteAddress, suppressed: admitted.suppressed }, 'TLS handshake failed');
    }
    if (!channels.handshake.hasSubscribers) return;
    channels.handshake.publish({ chargerId: undefined, outcome: 'refused', status: 0, code: ErrorCode.TlsHandshakeFailed, remoteAddress });
  }

  function handleHttpRequest(request: IncomingMessage, response: ServerResponse): void {
    if (!guard.requestReceived(request.socket)) return;
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
      const healthy = state === ProxyState.Listening;
      const body = JSON.stringify({
        status: healthy ? 'ok' : 'shutting-down',
        version: VERSION,
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        chargers: sessions.size,
      });
      response.writeHead(healthy ? 200 : HttpStatus.ServiceUnavailable, { 'Content-Type': 'application/json' });
      response.end(request.method === 'HEAD' ? undefined : body);
      return;
    }
    response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
    response.end(
      `ocpp-splitter ${VERSION}: an OCPP-J WebSocket proxy.\n` +
        `Point a charger at ${chargerListener.tls ? 'wss' : 'ws'}://<this host>:<port>/<charge-point-id>. Health: GET /healthz\n`,
    );
  }

  async function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // Decide before upgrading: the charger gets its 101 only once every step has let it
    // through, the primary included (with its sub-protocol), so nothing it sends can be lost.
    const handshake = new Handshake(request, socket, head, { trustProxy: config.trust_proxy });
    pendingHandshakes.add(handshake);
    try {
      await runAdmission(admission, handshake, handshake.signal);
    } catch (error) {
      turnAway(handshake, error);
      publishHandshake(handshake, 'refused', error instanceof UpgradeRefusal ? error.status : 101, error instanceof OcppSplitterError ? error.code : undefined);
      return;
    } finally {
      pendingHandshakes.delete(handshake);
    }

    const chargerHead = handshake.upgradeHead();
    const id = handshake.charger;
    const outcome = handshake.primary;
    const primary = outcome.socket;
    const authorization = handshake.authorization;
    const sessionLog = taggedLogger(rootLog, id.identity);
    if (handshake.signal.aborted || socket.destroyed || !socket.readable || !socket.writable || state !== ProxyState.Listening) {
      // The charger vanished (or shutdown began) while the primary or a sibling worker was deciding.
      handshake.abandon();
      socket.destroy();
      publishHandshake(handshake, 'refused', 0, ErrorCode.HandshakeAborted);
      return;
    }
    const from = handshake.logFields;
    sessionLog.info({ primary: outcome.urlForLog, protocol: outcome.subprotocol, ...from }, 'primary connected');
    chosenSubprotocol.set(request, outcome.subprotocol);
    const mirrorService = mirrors;
    // Without a verifyClient hook `ws` completes an upgrade synchronously, so by the
    // time handleUpgrade returns the callback has run, or the upgrade was refused.
    let upgraded = false;
    wss.handleUpgrade(request, socket, chargerHead, (charger: WebSocket) => {
      upgraded = true;
      guard.sessionStarted(socket);
      const session = new ChargerSession({
        identity: id.identity,
        subprotocol: outcome.subprotocol,
        charger,
        primary,
        log: sessionLog,
        keepalive,
        logMaxMessageLength: config.log_max_message_length,
        remoteAddress: from.remote_address,
        createMirror:
          mirrorService === undefined
            ? undefined
            : (sendToCharger, frameCounts) =>
                mirrorService.createSessionMirror({
                  frameCounts,
                  chargerId: id.identity,
                  urlSegment: id.urlSegment,
                  subprotocol: outcome.subprotocol,
                  // Without a known OCPP sub-protocol the 1.6 rules are the safe reading.
                  version: versionOfSubprotocol(outcome.subprotocol) ?? '1.6',
                  chargerAuthorization: authorization,
                  log: sessionLog,
                  sendToCharger,
                }),
      });
      connectedFrom.set(session, from);
      const replaced = sessions.add(session);
      liveSessions.add(session);
      if (replaced !== undefined) {
        const before = connectedFrom.get(replaced);
        sessionLog.warn(
          { ...from, replaced_remote_address: before?.remote_address, replaced_forwarded_by: before?.forwarded_by },
          'charge point id already connected: the older connection is replaced',
        );
        replaced.close(CloseCode.GoingAway, 'replaced by a new connection');
      }
      session.start(replaced);
      publishHandshake(handshake, 'accepted', 101);
      void session.ended.then(() => {
        liveSessions.delete(session);
        sessions.remove(session);
        if (sessions.get(id.identity) === undefined) coordinator?.ended(id.identity);
      });
      sessionLog.info(
        {
          primary: redactUrl(config.primary_csms_url),
          secondaries: config.secondary_csms.map((secondary) => redactUrl(secondary.url)),
          protocol: outcome.subprotocol,
          ...from,
        },
        'session started',
      );
    });
    if (!upgraded) {
      // `ws` refused the upgrade itself (it answered the charger 400, e.g. for a malformed
      // Sec-WebSocket-Extensions) and never called back: the primary link has no owner.
      sessionLog.warn({ ...from }, 'charger upgrade refused by the WebSocket layer; primary connection closed');
      handshake.abandon();
      publishHandshake(handshake, 'refused', HttpStatus.BadRequest, ErrorCode.UpgradeInvalid);
    }
  }

  /**
   * Answers a charger the admission chain did not let through, after letting go of
   * whatever the steps opened for it. Anything but a refusal is a bug: rethrown.
   */
  function turnAway(handshake: Handshake, error: unknown): void {
    handshake.abandon();
    const chargerHead = handshake.upgradeHead();
    const identity = handshake.knownIdentity;
    const handshakeLog = identity === undefined ? log : taggedLogger(rootLog, identity);
    if (error instanceof UpgradeRefusal) {
      // Every refusal says where the charger connected from, whichever step refused it; one a client can
      // cause at will (a limit) at most once per interval, saying how many like it were not logged.
      const refusalLog = error.log;
      const admitted = refusalLog?.throttled === true ? refusalLogThrottle.admit(error.code) : { suppressed: undefined };
      if (refusalLog !== undefined && admitted !== undefined) {
        handshakeLog[refusalLog.level]({ ...refusalLog.fields, ...handshake.logFields, suppressed: admitted.suppressed }, refusalLog.message);
      }
      refuseUpgrade(handshake.socket, error.status, error.reason, { ...error.headers });
      return;
    }
    if (!(error instanceof NoCommonSubprotocol)) throw error;
    // OCPP-J: complete the handshake without Sec-WebSocket-Protocol, then close at once.
    handshakeLog.warn({ offered: error.offered, ...handshake.logFields }, 'no common OCPP sub-protocol with the primary');
    wss.handleUpgrade(handshake.request, handshake.socket, chargerHead, (charger) => {
      // Whatever the charger sends now (garbage included) must not become an unhandled 'error'.
      charger.on('error', (chargerError) => handshakeLog.debug({ err: chargerError }, 'charger error while being closed'));
      charger.resume(); // to read the charger's answer to the close frame
      charger.close(CloseCode.ProtocolError, 'no common OCPP sub-protocol');
      setTimeout(() => charger.terminate(), REFUSED_CLOSE_GRACE_MS).unref();
    });
  }

  /**
   * Names, at start, each secondary that will receive the chargers' own credentials (their Authorization
   * header): an operator should know where the chargers' passwords go, and when it is in plain text.
   */
  function warnOfForwardedCredentials(): void {
    for (const secondary of config.secondary_csms) {
      if (!forwardsChargerAuthorization(secondary)) continue;
      const plaintext = new URL(secondary.url).protocol !== 'wss:';
      log.warn(
        { secondary: secondaryLabel(secondary), url: redactUrl(secondary.url), plaintext },
        plaintext
          ? 'secondary receives the chargers\' credentials in plain text (forward_authorization: true over ws://)'
          : 'secondary receives the chargers\' credentials (their Authorization header, over wss://)',
      );
    }
  }

  /** Names, at start, each upstream whose certificate is not checked (`reject_unauthorized: false`). */
  function warnOfUnverifiedUpstreams(): void {
    for (const { upstream, option, url } of unverifiedUpstreams(config, secondaryLabel)) {
      log.warn({ upstream, option, url: redactUrl(url) }, 'TLS certificate of this upstream is not checked: anyone on the path can read and change its traffic');
    }
  }

  function publishHandshake(handshake: Handshake, outcome: 'accepted' | 'refused', status: number, code?: string): void {
    if (!channels.handshake.hasSubscribers) return;
    channels.handshake.publish({ chargerId: handshake.knownIdentity, outcome, status, code, remoteAddress: handshake.logFields.remote_address });
  }

  function labelledBacklog(rows: readonly StreamBacklog[]): LabelledBacklog[] {
    const labels = new Map(config.secondary_csms.map((secondary) => [secondaryStoreKey(secondary), secondaryLabel(secondary)]));
    const out: LabelledBacklog[] = [];
    for (const row of rows) {
      // An outbox of a secondary no longer configured waits only for pruning: not part of anyone's backlog.
      const label = labels.get(row.secondaryKey);
      if (label !== undefined) out.push({ chargerId: row.chargerId, secondary: label, messages: row.messages, bytes: row.bytes, oldestEnqueuedAt: row.oldestEnqueuedAt });
    }
    return out;
  }

  function boundAddress(): AddressInfo | undefined {
    const address = server.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  async function closeProxy(): Promise<void> {
    const wasListening = state === ProxyState.Listening;
    state = ProxyState.Closing;
    log.info({ chargers: sessions.size }, 'proxy shutting down');
    const serverClosed = new Promise<void>((resolve) => {
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });
    for (const handshake of pendingHandshakes) handshake.cancel();
    guard.close();
    chargerListener.close();
    // Every session still open, replaced ones that are still closing included: the store closes after them.
    const allEnded = Promise.all([...liveSessions].map((session) => session.ended));
    for (const session of liveSessions) session.close(CloseCode.GoingAway, 'proxy shutting down');

    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      deadline = setTimeout(() => resolve('timeout'), config.shutdown_timeout_ms);
    });
    if ((await Promise.race([allEnded, timedOut])) === 'timeout') {
      log.warn({ chargers: sessions.size }, 'shutdown deadline reached: dropping remaining connections');
      for (const session of liveSessions) session.terminate();
      await allEnded;
    }
    clearTimeout(deadline);
    coordinator?.close();
    keepalive.close();
    secondaryKeepalive.close();
    try {
      await mirrors?.close();
    } catch (error) {
      log.error({ err: error }, 'could not write the last changes to the store');
    }
    wss.close();
    server.closeAllConnections();
    await serverClosed;
    state = ProxyState.Closed;
    if (wasListening) log.info('proxy stopped');
  }

  return {
    sessions,
    address: boundAddress,
    get storeEngine() {
      return mirrors?.store.engine;
    },
    disconnect(chargerId) {
      const session = sessions.get(chargerId);
      if (session === undefined) return false;
      taggedLogger(rootLog, chargerId).info({ ...connectedFrom.get(session) }, 'charger disconnected by the operator');
      session.close(CloseCode.GoingAway, 'disconnected by the operator');
      return true;
    },
    secondaries: () =>
      config.secondary_csms.map((secondary) => {
        const label = secondaryLabel(secondary);
        return { label, url: redactUrl(secondary.url), paused: mirrors?.isPaused(label) ?? false };
      }),
    setSecondaryPaused(label, paused) {
      if (mirrors === undefined) return false;
      return mirrors.setPaused(label, paused);
    },
    async backlog() {
      if (mirrors === undefined) return [];
      return labelledBacklog(await mirrors.backlog());
    },
    stats: () => ({
      chargers: sessions.size,
      pendingHandshakes: pendingHandshakes.size,
      pendingConnections: guard.pending,
      pendingHandshakeBytes: pendingBytes.usedBytes,
      keepaliveSockets: keepalive.size + secondaryKeepalive.size,
      mirror: { ...counters },
    }),
    listen() {
      if (state !== ProxyState.Idle) {
        return Promise.reject(new OcppSplitterError(ErrorCode.ProxyClosed, `cannot listen: proxy is ${state}`));
      }
      if (config.secondary_csms.length > 0 && mirrors === undefined) {
        try {
          mirrors = new MirrorService({ config, log, counters, keepalive: secondaryKeepalive, store: options.store, secondaryTls: upstreamTls.secondaries });
        } catch (error) {
          state = ProxyState.Closed;
          return Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
      return new Promise<AddressInfo>((resolve, reject) => {
        const onError = (error: Error): void => {
          state = ProxyState.Closed;
          reject(error);
        };
        server.once('error', onError);
        server.listen({ port: config.port, host: config.host }, () => {
          server.off('error', onError);
          state = ProxyState.Listening;
          log.info(
            {
              port: boundAddress()?.port,
              primary: redactUrl(config.primary_csms_url),
              secondaries: config.secondary_csms.map((secondary) => redactUrl(secondary.url)),
              tls: chargerListener.tls,
              ...(chargerListener.tls ? { certificate: chargerListener.certificate, tls_client_auth: config.tls_client_auth } : {}),
            },
            'proxy listening',
          );
          warnOfForwardedCredentials();
          warnOfUnverifiedUpstreams();
          chargerListener.start();
          const address = boundAddress();
          if (address === undefined) reject(new OcppSplitterError(ErrorCode.ProxyClosed, 'server is not bound to a TCP port'));
          else resolve(address);
        });
      });
    },
    close() {
      closing ??= closeProxy();
      return closing;
    },
  };
}
