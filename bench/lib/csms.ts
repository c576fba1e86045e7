/**
 * A minimal CSMS for the benchmark: answers every CALL at once with an empty
 * CALLRESULT, reading only the message id (so the CSMS costs as little as a
 * CSMS can, and the proxy's share of the work stands out).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { scanFrameHead } from '../../src/ocpp/scan.js';

export interface BenchCsms {
  readonly url: string;
  readonly connections: () => number;
  readonly answered: () => number;
  close(): Promise<void>;
}

export async function startBenchCsms(host = '127.0.0.1', port = 0): Promise<BenchCsms> {
  const server = createServer();
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: false,
    handleProtocols: (offered) => [...offered][0] ?? false,
  });
  let answered = 0;
  wss.on('connection', (socket) => {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const head = scanFrameHead(data);
      if (head?.type !== 2) return;
      answered += 1;
      socket.send(`[3,${JSON.stringify(head.id)},{}]`);
    });
    socket.on('error', () => {
      // A benchmark peer that goes away mid-run is not a result.
    });
  });
  server.listen({ host, port, backlog: 4096 });
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    url: `ws://${host}:${address.port}/ocpp`,
    connections: () => wss.clients.size,
    answered: () => answered,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
