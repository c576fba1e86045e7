import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { extractIdentity } from './admission/identity.js';
import { checkUpgradeRequest } from './admission/upgrade-request.js';
import { buildUpstreamUrl } from './admission/upstream-url.js';
import type { Config } from './config/schema.js';
import { ErrorCode, OcppSplitterError } from './errors.js';
import { refuseUpgrade } from './http/refuse.js';
import { CloseCode } from './links/close-codes.js';
import { dial, type DialOutcome } from './links/dial.js';
import { Keepalive } from './links/keepalive.js';
import { createLogger, taggedLogger, type Logger } from './logging/logger.js';
import type { SessionCoordinator } from './cluster/coordinator.js';
import { createMirrorCounters, type MirrorCounters } from './mirror/counters.js';
import { SessionMirror } from './mirror/session-mirror.js';
import type { MirrorTiming } from './mirror/secondary-link.js';
import { versionOfSubprotocol } from './ocpp/error-codes.js';
import { ChargerSession } from './session/session.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { MirrorStore } from './store/store.js';
import { SessionRegistry } from './session/registry.js';
import { redactUrl } from './util/redact-url.js';
import { VERSION } from './version.js';

export interface ProxyOptions {
  /** Root logger; by default JSON lines on stdout at the configured level. */
  readonly logger?: Logger;
  /** Sibling processes serving the same port (node:cluster workers); none when the proxy runs alone. */
  readonly coordinator?: SessionCoordinator;
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
}

export interface ProxyStats {
  readonly chargers: number;
  /** Charger upgrades waiting for the primary's answer. */
  readonly pendingHandshakes: number;
  /** Sockets the keepalive sweeps are pinging (chargers, primaries, secondaries). */
  readonly keepaliveSockets: number;
  /** What the mirror to the secondaries did so far. */
  readonly mirror: Readonly<MirrorCounters>;
}

const ProxyState = { Idle: 'idle', Listening: 'listening', Closing: 'closing', Closed: 'closed' } as const;
type ProxyState = (typeof ProxyState)[keyof typeof ProxyState];

/** Statuses for handshakes that fail upstream without an HTTP answer of their own. */
const STATUS_UPSTREAM_UNREACHABLE = 502;
const STATUS_UPSTREAM_TIMEOUT = 504;
const STATUS_SHUTTING_DOWN = 503;
/** A charger refused after its 101 (no common sub-protocol) gets this long to answer the close frame. */
const REFUSED_CLOSE_GRACE_MS = 5_000;
/** Bytes a charger may send before its 101 beyond one maximal frame (frame headers, a second small frame). */
const EARLY_BYTES_MARGIN = 64 * 1024;

/** Creates a proxy for `config`. Nothing is opened until `listen()`. */
export function createProxy(config: Readonly<Config>, options: ProxyOptions = {}): Proxy {
  const rootLog = options.logger ?? createLogger(config.log_level);
  const log = taggedLogger(rootLog, 'proxy');
  const sessions = new SessionRegistry();
  const keepalive = new Keepalive(config.ping_interval_ms, config.ping_max_missed);
  const secondaryKeepalive = new Keepalive(config.secondary_ping_interval_ms, config.ping_max_missed);
  const counters = createMirrorCounters();
  const mirrorTiming: MirrorTiming = {
    connectTimeoutMs: config.secondary_connect_timeout_ms,
    reconnectDelayMs: config.secondary_reconnect_delay_ms,
    reconnectMaxDelayMs: config.secondary_reconnect_max_delay_ms,
    answerTimeoutMs: config.secondary_answer_timeout_ms,
    maxAttempts: config.secondary_max_attempts,
    queueLimit: config.secondary_queue_limit,
    maxPayload: config.max_message_size_bytes,
    perMessageDeflate: config.permessage_deflate,
  };
  /** Opened by listen() when secondaries are configured: without them there is nothing to keep. */
  let store: MirrorStore | undefined;
  /** Handshakes waiting for the primary; aborted on shutdown. */
  const pendingHandshakes = new Set<AbortController>();
  /** The sub-protocol the primary chose, per upgrade request, for `handleProtocols`. */
  const chosenSubprotocol = new WeakMap<IncomingMessage, string>();
  const startedAt = Date.now();
  let state: ProxyState = ProxyState.Idle;
  let closing: Promise<void> | undefined;
  const coordinator = options.coordinator;
  coordinator?.onRelease(async (identity) => {
    const session = sessions.get(identity);
    if (session === undefined) return;
    taggedLogger(rootLog, identity).warn('charge point id connected to another worker: this connection is replaced');
    // Closing stops the mirror; once its links have let go (an in-flight answer
    // recorded), the flush puts its durable state on disk before the other worker
    // loads it. The charger and primary sockets finish closing on their own.
    session.close(CloseCode.GoingAway, 'replaced by a new connection');
    await session.mirror?.handedOver();
    try {
      store?.flush();
    } catch (error) {
      log.error({ err: error }, 'could not write the store before handing a charger to another worker');
    }
  });

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: config.max_message_size_bytes,
    perMessageDeflate: config.permessage_deflate,
    // Without this `ws` would pick the charger's first offer; the primary decides.
    handleProtocols: (_offered, request) => chosenSubprotocol.get(request) || false,
  });

  const server: Server = createServer(handleHttpRequest);
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleUpgrade(request, socket, head).catch((error: unknown) => {
      // A bug, not a charger's fault: keep serving everyone else, and say so loudly.
      log.error({ err: error }, 'unexpected error while admitting a charger');
      socket.destroy();
    });
  });
  // A charger that sends garbage instead of HTTP gets a 400 and is gone.
  server.on('clientError', (_error, socket: Duplex) => refuseUpgrade(socket, 400, 'bad request'));

  function handleHttpRequest(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
      const healthy = state === ProxyState.Listening;
      const body = JSON.stringify({
        status: healthy ? 'ok' : 'shutting-down',
        version: VERSION,
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        chargers: sessions.size,
      });
      response.writeHead(healthy ? 200 : STATUS_SHUTTING_DOWN, { 'Content-Type': 'application/json' });
      response.end(request.method === 'HEAD' ? undefined : body);
      return;
    }
    response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
    response.end(
      `ocpp-splitter ${VERSION}: an OCPP-J WebSocket proxy.\n` +
        'Point a charger at ws://<this host>:<port>/<charge-point-id>. Health: GET /healthz\n',
    );
  }

  async function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (state !== ProxyState.Listening) {
      refuseUpgrade(socket, STATUS_SHUTTING_DOWN, 'proxy is shutting down');
      return;
    }
    const upgrade = checkUpgradeRequest(request);
    if (!upgrade.ok) {
      log.warn({ status: upgrade.status, reason: upgrade.reason }, 'charger refused');
      refuseUpgrade(socket, upgrade.status, upgrade.reason, upgrade.headers);
      return;
    }
    const id = extractIdentity(request.url);
    if (!id.ok) {
      log.warn({ status: 400, reason: id.reason }, 'charger refused');
      refuseUpgrade(socket, 400, id.reason);
      return;
    }
    const sessionLog = taggedLogger(rootLog, id.identity);

    // Decide before upgrading: the charger gets its 101 only once the primary has
    // accepted, with the primary's sub-protocol, so nothing it sends can be lost.
    const abort = new AbortController();
    const watch = watchPendingUpgrade(socket, config.max_message_size_bytes + EARLY_BYTES_MARGIN, () => abort.abort());
    pendingHandshakes.add(abort);
    const primaryUrl = buildUpstreamUrl(config.primary_csms_url, id.rawSegment, config.primary_csms_append_charge_point_id);
    const authorization = request.headers.authorization;
    let outcome: DialOutcome;
    try {
      outcome = await dial({
        url: primaryUrl,
        subprotocols: upgrade.subprotocols,
        headers: authorization === undefined ? {} : { Authorization: authorization },
        timeoutMs: config.primary_connect_timeout_ms,
        maxPayload: config.max_message_size_bytes,
        perMessageDeflate: config.permessage_deflate,
        signal: abort.signal,
      });
    } finally {
      pendingHandshakes.delete(abort);
    }
    // With sibling workers, wait until none of them serves this charger any more.
    const claimed = outcome.kind === 'open' && coordinator !== undefined && !abort.signal.aborted;
    if (claimed) await coordinator.claim(id.identity);
    const chargerHead = watch.stop(head);

    const primaryForLog = redactUrl(primaryUrl);
    switch (outcome.kind) {
      case 'open':
        break;
      case 'refused': {
        sessionLog.warn({ primary: primaryForLog, status: outcome.status }, 'primary refused the connection');
        const headers: Record<string, string> = {};
        if (outcome.headers.wwwAuthenticate !== undefined) headers['WWW-Authenticate'] = outcome.headers.wwwAuthenticate;
        if (outcome.headers.retryAfter !== undefined) headers['Retry-After'] = outcome.headers.retryAfter;
        refuseUpgrade(socket, outcome.status, 'refused by the CSMS', headers);
        return;
      }
      case 'unreachable':
        sessionLog.warn({ primary: primaryForLog, error: outcome.error.message }, 'primary unreachable');
        refuseUpgrade(socket, STATUS_UPSTREAM_UNREACHABLE, 'CSMS unreachable');
        return;
      case 'timeout':
        sessionLog.warn({ primary: primaryForLog, timeout_ms: config.primary_connect_timeout_ms }, 'primary handshake timed out');
        refuseUpgrade(socket, STATUS_UPSTREAM_TIMEOUT, 'CSMS did not answer in time');
        return;
      case 'aborted':
        sessionLog.info('charger left before the primary answered');
        refuseUpgrade(socket, STATUS_SHUTTING_DOWN, 'handshake aborted');
        return;
      case 'no-common-subprotocol':
        // OCPP-J: complete the handshake without Sec-WebSocket-Protocol, then close at once.
        sessionLog.warn({ offered: upgrade.subprotocols }, 'no common OCPP sub-protocol with the primary');
        wss.handleUpgrade(request, socket, chargerHead, (charger) => {
          // Whatever the charger sends now (garbage included) must not become an unhandled 'error'.
          charger.on('error', (error) => sessionLog.debug({ err: error }, 'charger error while being closed'));
          charger.resume(); // to read the charger's answer to the close frame
          charger.close(CloseCode.ProtocolError, 'no common OCPP sub-protocol');
          setTimeout(() => charger.terminate(), REFUSED_CLOSE_GRACE_MS).unref();
        });
        return;
    }

    const primary = outcome.socket;
    if (abort.signal.aborted || socket.destroyed || !socket.readable || !socket.writable || state !== ProxyState.Listening) {
      // The charger vanished (or shutdown began) while the primary or a sibling worker was deciding.
      primary.terminate();
      socket.destroy();
      if (claimed && sessions.get(id.identity) === undefined) coordinator.ended(id.identity);
      return;
    }
    sessionLog.info({ primary: primaryForLog, protocol: outcome.subprotocol }, 'primary connected');
    chosenSubprotocol.set(request, outcome.subprotocol);
    const mirrorStore = store;
    // Without a verifyClient hook `ws` completes an upgrade synchronously, so by the
    // time handleUpgrade returns the callback has run, or the upgrade was refused.
    let upgraded = false;
    wss.handleUpgrade(request, socket, chargerHead, (charger: WebSocket) => {
      upgraded = true;
      const session = new ChargerSession({
        identity: id.identity,
        subprotocol: outcome.subprotocol,
        charger,
        primary,
        log: sessionLog,
        keepalive,
        logMaxMessageLength: config.log_max_message_length,
        createMirror:
          mirrorStore === undefined
            ? undefined
            : (sendToCharger) =>
                new SessionMirror({
                  chargerId: id.identity,
                  rawSegment: id.rawSegment,
                  subprotocol: outcome.subprotocol,
                  // Without a known OCPP sub-protocol the 1.6 rules are the safe reading.
                  version: versionOfSubprotocol(outcome.subprotocol) ?? '1.6',
                  chargerAuthorization: authorization,
                  secondaries: config.secondary_csms,
                  store: mirrorStore,
                  keepalive: secondaryKeepalive,
                  log: sessionLog,
                  counters,
                  timing: mirrorTiming,
                  sendToCharger,
                }),
      });
      const replaced = sessions.add(session);
      if (replaced !== undefined) {
        sessionLog.warn('charge point id already connected: the older connection is replaced');
        replaced.close(CloseCode.GoingAway, 'replaced by a new connection');
      }
      session.start(replaced);
      void session.ended.then(() => {
        sessions.remove(session);
        if (sessions.get(id.identity) === undefined) coordinator?.ended(id.identity);
      });
      sessionLog.info(
        {
          primary: redactUrl(config.primary_csms_url),
          secondaries: config.secondary_csms.map((secondary) => redactUrl(secondary.url)),
          protocol: outcome.subprotocol,
        },
        'session started',
      );
    });
    if (!upgraded) {
      // `ws` refused the upgrade itself (it answered the charger 400, e.g. for a malformed
      // Sec-WebSocket-Extensions) and never called back: the primary link has no owner.
      sessionLog.warn('charger upgrade refused by the WebSocket layer; primary connection closed');
      primary.terminate();
      if (claimed && sessions.get(id.identity) === undefined) coordinator.ended(id.identity);
    }
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
    for (const handshake of pendingHandshakes) handshake.abort();
    const allEnded = Promise.all(sessions.all().map((session) => session.ended));
    for (const session of sessions.all()) session.close(CloseCode.GoingAway, 'proxy shutting down');

    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      deadline = setTimeout(() => resolve('timeout'), config.shutdown_timeout_ms);
    });
    if ((await Promise.race([allEnded, timedOut])) === 'timeout') {
      log.warn({ chargers: sessions.size }, 'shutdown deadline reached: dropping remaining connections');
      for (const session of sessions.all()) session.terminate();
      await allEnded;
    }
    clearTimeout(deadline);
    coordinator?.close();
    keepalive.close();
    secondaryKeepalive.close();
    try {
      store?.close();
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
    stats: () => ({
      chargers: sessions.size,
      pendingHandshakes: pendingHandshakes.size,
      keepaliveSockets: keepalive.size + secondaryKeepalive.size,
      mirror: { ...counters },
    }),
    listen() {
      if (state !== ProxyState.Idle) {
        return Promise.reject(new OcppSplitterError(ErrorCode.ProxyClosed, `cannot listen: proxy is ${state}`));
      }
      if (config.secondary_csms.length > 0 && store === undefined) {
        try {
          store = openSqliteStore({
            dataDir: config.data_dir,
            onWriteError: (error, pendingWrites) => {
              counters.storeWriteErrors += 1;
              log.error({ code: error.code, error: error.message, pending_writes: pendingWrites }, 'store write failed; keeping the writes in memory and retrying');
            },
          });
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
            },
            'proxy listening',
          );
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

/**
 * Watches a charger's socket while its upgrade waits for the primary. After the
 * HTTP parser lets go of an upgrade socket nobody reads it, so a charger that
 * leaves goes unnoticed and a reset has no 'error' listener. Reading it notices
 * both; bytes an eager charger sends before its 101 are kept and handed back as
 * part of the upgrade head, so even those are not lost.
 */
function watchPendingUpgrade(socket: Duplex, maxEarlyBytes: number, onGone: () => void): { stop(head: Buffer): Buffer } {
  const early: Buffer[] = [];
  let earlyBytes = 0;
  const onData = (chunk: Buffer): void => {
    earlyBytes += chunk.length;
    if (earlyBytes > maxEarlyBytes) {
      // More than one frame's worth before its 101: not a charger behaving as one. Bounded, then dropped.
      socket.destroy();
      return;
    }
    early.push(chunk);
  };
  socket.on('data', onData);
  socket.on('end', onGone);
  socket.on('close', onGone);
  socket.on('error', onGone);
  return {
    stop(head) {
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.off('error', onGone);
      socket.pause();
      return early.length === 0 ? head : Buffer.concat([head, ...early]);
    },
  };
}
