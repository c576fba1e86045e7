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
  httpServer.on('upgrade', (request: IncomingMessage, socket, head) => {
    requests.push(request);
    if (options.holdUpgrade !== undefined) {
      const held = options.holdUpgrade;
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
