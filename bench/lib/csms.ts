/**
 * A minimal CSMS for the benchmark: answers every CALL at once with an empty
 * CALLRESULT, reading only the message id (so the CSMS costs as little as a
 * CSMS can, and the proxy's share of the work stands out).
 *
 * With `record`, it also keeps the message id of every CALL in arrival order per
 * charger (the last segment of the connection's path, OCPP-J's identity), so a
 * scenario can check that a secondary got every CALL once, in order.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { scanFrameHead } from '../../src/ocpp/scan.js';

export interface BenchCsmsOptions {
  readonly host?: string;
  readonly port?: number;
  /** Record the CALL ids per charger (see the header); off for the throughput runs. */
  readonly record?: boolean;
}

export interface BenchCsms {
  readonly url: string;
  readonly connections: () => number;
  readonly answered: () => number;
  /** CALL message ids by charger identity, in arrival order over every connection of that charger. */
  readonly received: () => Record<string, string[]>;
  close(): Promise<void>;
}

export async function startBenchCsms(options: BenchCsmsOptions = {}): Promise<BenchCsms> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer();
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: false,
    handleProtocols: (offered) => [...offered][0] ?? false,
  });
  let answered = 0;
  const received = new Map<string, string[]>();
  wss.on('connection', (socket, request: IncomingMessage) => {
    const ids = options.record === true ? idsOf(received, identityOf(request)) : undefined;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const head = scanFrameHead(data);
      if (head?.type !== 2) return;
      answered += 1;
      ids?.push(head.id);
      socket.send(`[3,${JSON.stringify(head.id)},{}]`);
    });
    socket.on('error', () => {
      // A benchmark peer that goes away mid-run is not a result.
    });
  });
  server.listen({ host, port: options.port ?? 0, backlog: 4096 });
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    url: `ws://${host}:${address.port}/ocpp`,
    connections: () => wss.clients.size,
    answered: () => answered,
    received: () => Object.fromEntries(received),
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function identityOf(request: IncomingMessage): string {
  const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

function idsOf(received: Map<string, string[]>, identity: string): string[] {
  let ids = received.get(identity);
  if (ids === undefined) {
    ids = [];
    received.set(identity, ids);
  }
  return ids;
}
