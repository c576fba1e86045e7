/**
 * A demo CSMS speaking OCPP 1.6 on loopback: accepts every charger, answers what chargers send, and lets the
 * scenario send commands over a connection. The primary and the secondary are two of these, each with its own
 * transaction ids so the proxy's per-secondary transaction id mapping shows in the trace.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { OcppPeer } from './peer.js';
import type { Party, Trace, WireRecord } from './trace.js';

const OCPP16 = 'ocpp1.6';
/** Chargers connect to <url>/<charge point id>; the proxy appends the id to this path. */
const CSMS_PATH = '/ocpp';
const HEARTBEAT_INTERVAL_S = 300;

export interface DemoCsmsOptions {
  readonly role: Extract<Party, 'primary' | 'secondary'>;
  /** The first transactionId this CSMS hands out; the next transaction gets the next integer. */
  readonly firstTransactionId: number;
  readonly trace: Trace;
  readonly wire: WireRecord[];
  readonly answerTimeoutMs: number;
  /** 0 picks a free port. */
  readonly port?: number;
}

export interface DemoCsms {
  /** `ws://127.0.0.1:<port>/ocpp` */
  readonly url: string;
  /** Resolves with the connection of charger `identity` (already open or the next one). */
  connection(identity: string): Promise<OcppPeer>;
  close(): Promise<void>;
}

export async function startDemoCsms(options: DemoCsmsOptions): Promise<DemoCsms> {
  const connections = new Map<string, OcppPeer>();
  const waiting = new Map<string, Array<(peer: OcppPeer) => void>>();
  let nextTransactionId = options.firstTransactionId;

  const server = createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain' }).end(`demo ${options.role} CSMS: connect with OCPP 1.6\n`);
  });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has(OCPP16) ? OCPP16 : false),
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws, request));
  });

  function accept(ws: WebSocket, request: IncomingMessage): void {
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    const identity = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
    const peer = new OcppPeer({
      socket: ws,
      self: options.role,
      remote: 'proxy',
      identity,
      trace: options.trace,
      wire: options.wire,
      idPrefix: options.role === 'primary' ? 'p' : 's',
      answerTimeoutMs: options.answerTimeoutMs,
    });
    answerChargerMessages(peer, () => nextTransactionId++);
    connections.set(identity, peer);
    ws.on('close', () => {
      if (connections.get(identity) === peer) connections.delete(identity);
    });
    const waiters = waiting.get(identity) ?? [];
    waiting.delete(identity);
    for (const resolve of waiters) resolve(peer);
  }

  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error(`demo ${options.role} CSMS: not listening on a TCP port`);
  const { port } = address;

  return {
    url: `ws://127.0.0.1:${port}${CSMS_PATH}`,
    connection(identity) {
      const open = connections.get(identity);
      if (open !== undefined) return Promise.resolve(open);
      return new Promise((resolve) => {
        const list = waiting.get(identity) ?? [];
        list.push(resolve);
        waiting.set(identity, list);
      });
    },
    async close() {
      for (const peer of connections.values()) peer.close();
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** OCPP 1.6 CSMS answers to every charger-initiated message, all valid per the 1.6 JSON schemas. */
function answerChargerMessages(peer: OcppPeer, takeTransactionId: () => number): void {
  const now = (): string => new Date().toISOString();
  const accepted = { idTagInfo: { status: 'Accepted' } };
  peer.handle('BootNotification', () => ({
    payload: { status: 'Accepted', currentTime: now(), interval: HEARTBEAT_INTERVAL_S },
  }));
  peer.handle('Heartbeat', () => ({ payload: { currentTime: now() } }));
  peer.handle('StatusNotification', () => ({ payload: {} }));
  peer.handle('Authorize', () => ({ payload: accepted }));
  peer.handle('StartTransaction', () => ({ payload: { transactionId: takeTransactionId(), ...accepted } }));
  peer.handle('MeterValues', () => ({ payload: {} }));
  peer.handle('StopTransaction', () => ({ payload: accepted }));
  peer.handle('DataTransfer', () => ({ payload: { status: 'UnknownVendorId' } }));
  peer.handle('DiagnosticsStatusNotification', () => ({ payload: {} }));
  peer.handle('FirmwareStatusNotification', () => ({ payload: {} }));
}
