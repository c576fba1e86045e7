/**
 * Test harness: real proxies, real sockets, ephemeral ports. Fakes stand only
 * where we do not own the peer (a CSMS, a charger), and then they are either the
 * independent `ocpp-rpc` implementation in strict mode or raw `ws` sockets that
 * record exactly what crossed the wire.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { RPCServer } from 'ocpp-rpc';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { createProxy, type Proxy } from '../../src/proxy.js';
import { createAdminServer, type AdminServer } from '../../src/admin/server.js';

/** Everything a test started, closed in reverse order by `closeAll()`. */
const cleanups: Array<() => unknown> = [];

export async function closeAll(): Promise<void> {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop();
    await cleanup?.();
  }
}

export function onCleanup(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

/** A fresh directory under the OS temp dir, removed by closeAll(). */
export function temporaryDirectory(prefix = 'ocpp-splitter-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Log lines captured from a proxy, parsed. */
export interface CapturedLogs {
  readonly lines: Array<Record<string, unknown>>;
  readonly raw: string[];
  logger: Logger;
  /** Resolves with the first line (already logged or future) whose msg equals `msg`. */
  readonly waitFor: (msg: string, predicate?: (line: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
}

export function captureLogs(level: Config['log_level'] = 'debug'): CapturedLogs {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const waiters: Array<{ msg: string; predicate: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }> = [];
  const logger = createLogger(level, {
    write(chunk: string) {
      raw.push(chunk);
      const line = JSON.parse(chunk) as Record<string, unknown>;
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i -= 1) {
        const waiter = waiters[i]!;
        if (line.msg === waiter.msg && waiter.predicate(line)) {
          waiters.splice(i, 1);
          waiter.resolve(line);
        }
      }
    },
  });
  return {
    lines,
    raw,
    logger,
    waitFor(msg, predicate = () => true) {
      const found = lines.find((line) => line.msg === msg && predicate(line));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ msg, predicate, resolve }));
    },
  };
}

export interface StartedProxy {
  readonly proxy: Proxy;
  readonly port: number;
  readonly logs: CapturedLogs;
  readonly config: Readonly<Config>;
  /** `ws://127.0.0.1:<port>/<path>` */
  readonly url: (path: string) => string;
}

/** Starts a real proxy on an ephemeral port in front of `primaryUrl`. */
export async function startProxy(primaryUrl: string, overrides: Partial<Record<keyof Config, unknown>> = {}): Promise<StartedProxy> {
  const config = configSchema.parse({
    port: 0,
    host: '127.0.0.1',
    primary_csms_url: primaryUrl,
    log_level: 'debug',
    data_dir: temporaryDirectory('ocpp-splitter-data-'),
    ...overrides,
  });
  const logs = captureLogs(config.log_level);
  const proxy = createProxy(config, { logger: logs.logger });
  const address = await proxy.listen();
  onCleanup(() => proxy.close());
  return {
    proxy,
    port: address.port,
    logs,
    config,
    url: (path) => `ws://127.0.0.1:${address.port}/${path.replace(/^\//, '')}`,
  };
}

/** A CSMS played by ocpp-rpc in strict mode (schema-validates every payload both ways). */
export interface RpcCsms {
  readonly server: RPCServer;
  readonly url: string;
  /** Each connected client with the handshake it arrived with. */
  readonly clients: Array<{ identity: string; protocol: string | undefined; password: string | undefined; client: RpcServerClient }>;
  readonly nextClient: () => Promise<RpcServerClient>;
}

// ocpp-rpc ships loose typings; narrow what the tests use.
export interface RpcServerClient {
  identity: string;
  protocol: string;
  handle(method: string, handler: (call: { params: Record<string, unknown> }) => unknown): void;
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  close(options?: { code?: number; reason?: string }): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

export async function startRpcCsms(protocols: string[], path = '/ocpp'): Promise<RpcCsms> {
  const server = new RPCServer({ protocols, strictMode: true });
  const clients: RpcCsms['clients'] = [];
  const waiting: Array<(client: RpcServerClient) => void> = [];
  server.auth((accept, _reject, handshake) => {
    accept({ password: handshake.password?.toString('utf8') });
  });
  server.on('client', (client: RpcServerClient & { session: { password?: string } }) => {
    clients.push({ identity: client.identity, protocol: client.protocol, password: client.session.password, client });
    waiting.shift()?.(client);
  });
  const httpServer = await server.listen(0, '127.0.0.1');
  const { port } = httpServer.address() as AddressInfo;
  onCleanup(() => server.close({ force: true }));
  return {
    server,
    url: `ws://127.0.0.1:${port}${path}`,
    clients,
    nextClient: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

/** A frame exactly as it crossed the wire. */
export interface WireFrame {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** A raw WebSocket peer that records every frame byte for byte. */
export interface RawPeer {
  readonly socket: WebSocket;
  readonly frames: WireFrame[];
  readonly nextFrame: () => Promise<WireFrame>;
  closed: Promise<{ code: number; reason: string }>;
}

export function recordPeer(socket: WebSocket): RawPeer {
  const frames: WireFrame[] = [];
  const waiting: Array<(frame: WireFrame) => void> = [];
  let delivered = 0;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = { data, isBinary };
    frames.push(frame);
    const waiter = waiting.shift();
    if (waiter !== undefined) {
      delivered += 1;
      waiter(frame);
    }
  });
  socket.on('error', () => {
    // Errors surface as the close code the tests assert on.
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
  });
  return {
    socket,
    frames,
    closed,
    nextFrame() {
      if (delivered < frames.length) {
        const frame = frames[delivered]!;
        delivered += 1;
        return Promise.resolve(frame);
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** A raw CSMS: accepts every upgrade (first offered protocol unless told otherwise) and records frames. */
export interface RawCsms {
  readonly url: string;
  readonly port: number;
  readonly requests: IncomingMessage[];
  readonly peers: RawPeer[];
  readonly nextPeer: () => Promise<RawPeer>;
  readonly wss: WebSocketServer;
}

export interface RawCsmsOptions {
  path?: string;
  /** Picks the sub-protocol; default: the first offered. */
  handleProtocols?: (offered: Set<string>) => string | false;
  /** Answer the upgrade with this HTTP status instead of 101. */
  refuseWith?: { status: number; headers?: Record<string, string> };
  /** Sends these frames the instant the connection opens (before the charger could be attached). */
  greet?: string[];
  autoPong?: boolean;
  /** Holds every upgrade until this settles (to act while the proxy waits for the primary). */
  holdUpgrade?: Promise<void>;
  /** Answers each CALL it receives with what this returns (a raw frame), or not at all for undefined. */
  answer?: (call: { id: string; action: string; payload: unknown; raw: string }) => string | undefined;
}

/** A CALLRESULT for `id`, as a raw frame. */
export function callResultFrame(id: string, payload: Record<string, unknown> = {}): string {
  return JSON.stringify([3, id, payload]);
}

export async function startRawCsms(options: RawCsmsOptions = {}): Promise<RawCsms> {
  const httpServer: Server = createServer();
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: options.handleProtocols ?? ((offered) => [...offered][0] ?? false),
    autoPong: options.autoPong ?? true,
  });
  const requests: IncomingMessage[] = [];
  const peers: RawPeer[] = [];
  const waiting: Array<(peer: RawPeer) => void> = [];
  /** Upgrades held back by `holdUpgrade`: the HTTP server no longer tracks them, so cleanup must. */
  const heldSockets: Array<{ destroy(): void }> = [];
  httpServer.on('upgrade', (request: IncomingMessage, socket, head) => {
    requests.push(request);
    if (options.holdUpgrade !== undefined) {
      const held = options.holdUpgrade;
      heldSockets.push(socket);
      options = { ...options, holdUpgrade: undefined };
      void held.then(() => httpServer.emit('upgrade', request, socket, head));
      requests.pop();
      return;
    }
    if (options.refuseWith !== undefined) {
      const headerLines = Object.entries(options.refuseWith.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(`HTTP/1.1 ${options.refuseWith.status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n${headerLines}\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      for (const frame of options.greet ?? []) ws.send(frame);
      const peer = recordPeer(ws);
      const answer = options.answer;
      if (answer !== undefined) {
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (isBinary) return;
          const parsed: unknown = JSON.parse(data.toString());
          if (!Array.isArray(parsed) || parsed[0] !== 2) return;
          const reply = answer({ id: String(parsed[1]), action: String(parsed[2]), payload: parsed[3], raw: data.toString() });
          if (reply !== undefined) ws.send(reply);
        });
      }
      peers.push(peer);
      waiting.shift()?.(peer);
    });
  });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const { port } = httpServer.address() as AddressInfo;
  let consumed = 0;
  onCleanup(async () => {
    for (const socket of heldSockets) socket.destroy();
    for (const client of wss.clients) client.terminate();
    wss.close();
    httpServer.closeAllConnections();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  });
  return {
    url: `ws://127.0.0.1:${port}${options.path ?? '/ocpp'}`,
    port,
    requests,
    peers,
    wss,
    nextPeer() {
      const ready = peers[consumed];
      if (ready !== undefined) {
        consumed += 1;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiting.push((peer) => {
        consumed += 1;
        resolve(peer);
      }));
    },
  };
}

/** Opens a raw charger WebSocket to the proxy and records what it receives. */
export async function connectRawCharger(
  url: string,
  protocols: string[] = ['ocpp1.6'],
  options: { headers?: Record<string, string>; autoPong?: boolean } = {},
): Promise<RawPeer & { protocol: string }> {
  const socket = new WebSocket(url, protocols, { headers: options.headers, autoPong: options.autoPong ?? true });
  const peer = recordPeer(socket);
  onCleanup(() => socket.terminate());
  await once(socket, 'open');
  return Object.assign(peer, { protocol: socket.protocol });
}

/** Attempts an upgrade and reports the HTTP status the proxy answered with (101 on success). */
export async function upgradeStatus(
  url: string,
  protocols: string[] = ['ocpp1.6'],
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; socket?: WebSocket }> {
  const socket = new WebSocket(url, protocols, { headers });
  socket.on('error', () => {
    // A refused upgrade is the expected outcome here.
  });
  onCleanup(() => socket.terminate());
  return new Promise((resolve) => {
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, headers: response.headers });
    });
    socket.once('upgrade', (response: IncomingMessage) => resolve({ status: response.statusCode ?? 0, headers: response.headers, socket }));
  });
}

/** A masked client text frame (RFC 6455 §5.2), for raw-TCP chargers; payloads under 126 bytes. */
export function maskedTextFrame(text: string, mask: readonly [number, number, number, number] = [1, 2, 3, 4]): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 126) throw new RangeError('maskedTextFrame: payload too long for the 7-bit length form');
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, ...mask]), payload.map((byte, i) => byte ^ mask[i % 4]!)]);
}

// ── Peers that come and go at a fixed address; OCPP 1.6 charger fixtures ─────
// (Imports are hoisted; they sit here so this block can be appended as a unit.)
import { connect as connectTcp, createServer as createTcpServer, type Socket } from 'node:net';
import Database from 'better-sqlite3';
import { DEFAULT_STORE_FILE_NAME } from '../../src/store/sqlite-store.js';

/** A TCP port on 127.0.0.1 that was free a moment ago: the address of a peer that is not up yet. */
export async function freePort(): Promise<number> {
  const server = createTcpServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PortRelay {
  readonly port: number;
  /** Stops listening and cuts every relayed connection (the peer is "down" again); idempotent. */
  close(): Promise<void>;
}

/** Relays every TCP connection to 127.0.0.1:`port` to 127.0.0.1:`targetPort`, until closed. */
export async function relayPort(port: number, targetPort: number): Promise<PortRelay> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((inbound) => {
    const outbound = connectTcp(targetPort, '127.0.0.1');
    const cut = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', cut);
      socket.on('close', () => {
        sockets.delete(socket);
        cut();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }));
  onCleanup(close);
  return { port, close };
}

/**
 * A raw CSMS reachable at 127.0.0.1:`port` (through a relay): a secondary that
 * comes up, later, at the address the proxy has been dialling all along.
 */
export async function startRawCsmsOnPort(port: number, options: RawCsmsOptions = {}): Promise<RawCsms & { readonly relay: PortRelay }> {
  const csms = await startRawCsms(options);
  const relay = await relayPort(port, csms.port);
  return { ...csms, port, url: `ws://127.0.0.1:${port}${options.path ?? '/ocpp'}`, relay };
}

/**
 * Pings from `peer` and waits for the pong. Frames travel in order on one
 * socket, so every frame the other side sent before it handled the ping has
 * arrived by then: a barrier for "nothing more was sent", without a sleep.
 */
export async function roundTrip(peer: RawPeer): Promise<void> {
  const pong = once(peer.socket, 'pong');
  peer.socket.ping();
  await pong;
}

/** Every frame a raw CSMS received, over all its connections, as text. */
export function receivedTexts(csms: RawCsms): string[] {
  return csms.peers.flatMap((peer) => peer.frames.map((frame) => frame.data.toString()));
}

/** Runs `sql` read-only against the store file of a proxy's `data_dir` (a separate connection: sees committed rows only). */
export function queryStore(dataDir: string, sql: string, ...params: Array<string | number>): Array<Record<string, unknown>> {
  const db = new Database(join(dataDir, DEFAULT_STORE_FILE_NAME), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

/** A charger CALL: its fields and the exact text sent. */
export interface ChargerCall {
  readonly id: string;
  readonly action: string;
  readonly payload: Record<string, unknown>;
  readonly text: string;
}

export function chargerCall(id: string, action: string, payload: Record<string, unknown>): ChargerCall {
  return { id, action, payload, text: JSON.stringify([2, id, action, payload]) };
}

/** OCPP 1.6 charger CALLs, schema-valid, with fixed timestamps. */
export const ocpp16 = {
  boot: (id: string) => chargerCall(id, 'BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Splitter-1' }),
  heartbeat: (id: string) => chargerCall(id, 'Heartbeat', {}),
  status: (id: string, status = 'Available') => chargerCall(id, 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status }),
  authorize: (id: string) => chargerCall(id, 'Authorize', { idTag: 'TAG-1' }),
  startTransaction: (id: string) =>
    chargerCall(id, 'StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 0, timestamp: '2026-01-01T10:00:00.000Z' }),
  meterValues: (id: string, transactionId: number) =>
    chargerCall(id, 'MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [{ timestamp: '2026-01-01T10:05:00.000Z', sampledValue: [{ value: '1500' }] }],
    }),
  stopTransaction: (id: string, transactionId: number) =>
    chargerCall(id, 'StopTransaction', { transactionId, meterStop: 3000, timestamp: '2026-01-01T10:30:00.000Z' }),
};

/** A 1.6 CSMS's `answer` for startRawCsms: accepts everything; StartTransaction gets `transactionId`. */
export function answers16(transactionId: number): NonNullable<RawCsmsOptions['answer']> {
  const currentTime = '2026-01-01T10:00:00.000Z';
  return ({ id, action }) => {
    switch (action) {
      case 'BootNotification':
        return callResultFrame(id, { status: 'Accepted', currentTime, interval: 300 });
      case 'Heartbeat':
        return callResultFrame(id, { currentTime });
      case 'Authorize':
        return callResultFrame(id, { idTagInfo: { status: 'Accepted' } });
      case 'StartTransaction':
        return callResultFrame(id, { transactionId, idTagInfo: { status: 'Accepted' } });
      default:
        return callResultFrame(id, {});
    }
  };
}

/**
 * Sends `call` from a raw charger and waits for the answer (the primary's, through
 * the proxy); fails if the next frame is not that answer. Resolves with the round trip in ms.
 */
export async function exchange(charger: RawPeer, call: ChargerCall): Promise<number> {
  const started = performance.now();
  charger.socket.send(call.text);
  const answer: unknown = JSON.parse((await charger.nextFrame()).data.toString());
  if (!Array.isArray(answer) || answer[0] !== 3 || answer[1] !== call.id) {
    throw new Error(`expected the CALLRESULT to ${call.action} ${call.id}, got ${JSON.stringify(answer)}`);
  }
  return performance.now() - started;
}

/** What a secondary should receive for `call`: the same CALL, with its own transactionId where the charger sent the primary's. */
export function mirroredAs(call: ChargerCall, transactionIds?: { primary: number; secondary: number }): unknown[] {
  const payload =
    transactionIds !== undefined && call.payload.transactionId === transactionIds.primary
      ? { ...call.payload, transactionId: transactionIds.secondary }
      : call.payload;
  return [2, call.id, call.action, payload];
}

export interface StartedAdmin {
  readonly admin: AdminServer;
  /** `http://127.0.0.1:<port><path>` */
  readonly url: (path: string) => string;
  readonly port: number;
}

/**
 * Starts the admin listener of a started proxy on an ephemeral loopback port. Start it before any charger
 * connects: its observer learns of sessions from their start.
 */
export async function startAdmin(
  started: StartedProxy,
  overrides: Partial<Record<keyof Config, unknown>> = {},
  options: { readonly dashboardDir?: string } = {},
): Promise<StartedAdmin> {
  const config = configSchema.parse({ ...started.config, admin_port: 0, admin_host: '127.0.0.1', ...overrides });
  const admin = createAdminServer({ proxy: started.proxy, config, log: started.logs.logger, dashboardDir: options.dashboardDir });
  const address = await admin.listen();
  onCleanup(() => admin.close());
  return { admin, port: address.port, url: (path) => `http://127.0.0.1:${address.port}${path}` };
}
