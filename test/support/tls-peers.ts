/**
 * Peers that speak OCPP over `wss://`: a CSMS played by ocpp-rpc in strict mode behind an HTTPS server (which
 * may ask for a client certificate), and a charger played by ocpp-rpc's client with TLS options. Together with
 * certificates.ts, for tests of the proxy's TLS on both sides.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { TLSSocket, type SecureContextOptions } from 'node:tls';
import { RPCClient, RPCServer } from 'ocpp-rpc';
import type { CertificateFiles } from './certificates.js';
import { onCleanup, type RpcServerClient } from './harness.js';

export interface TlsCsms {
  readonly url: string;
  readonly port: number;
  /** TCP connections it accepted: none means nobody even tried. */
  readonly connections: () => number;
  /** Every upgrade it received, with the TLS client certificate's subject CN ('' without one). */
  readonly upgrades: Array<{ identity: string; clientCertificateCn: string; password: string | undefined }>;
  readonly clients: RpcServerClient[];
  readonly nextClient: () => Promise<RpcServerClient>;
}

export interface TlsCsmsOptions {
  readonly certificate: CertificateFiles;
  readonly protocols?: string[];
  /** Asks for a client certificate issued by this CA and refuses the TLS handshake without one (security profile 3). */
  readonly requireClientCertificateFrom?: string;
  /** Answers the upgrades: BootNotification accepted, Heartbeat with the time, anything else {} (1.6). */
  readonly answer16?: boolean;
  readonly path?: string;
}

const NOW = '2026-01-01T10:00:00.000Z';

export async function startTlsCsms(options: TlsCsmsOptions): Promise<TlsCsms> {
  const rpc = new RPCServer({ protocols: options.protocols ?? ['ocpp1.6'], strictMode: true });
  const upgrades: TlsCsms['upgrades'] = [];
  const clients: RpcServerClient[] = [];
  const waiting: Array<(client: RpcServerClient) => void> = [];
  rpc.auth((accept, _reject, handshake) => {
    const socket = handshake.request.socket;
    const subject: unknown = socket instanceof TLSSocket ? socket.getPeerCertificate().subject?.CN : undefined;
    const password = handshake.password?.toString('utf8');
    upgrades.push({ identity: handshake.identity, clientCertificateCn: typeof subject === 'string' ? subject : '', password });
    accept({ password });
  });
  rpc.on('client', (client: RpcServerClient) => {
    if (options.answer16 !== false) {
      client.handle('BootNotification', () => ({ status: 'Accepted', currentTime: NOW, interval: 300 }));
      client.handle('Heartbeat', () => ({ currentTime: NOW }));
    }
    clients.push(client);
    waiting.shift()?.(client);
  });
  const requireFrom = options.requireClientCertificateFrom;
  const server = createHttpsServer({
    cert: options.certificate.certPem,
    key: options.certificate.keyPem,
    ...(requireFrom === undefined ? {} : { ca: [readFileSync(requireFrom)], requestCert: true, rejectUnauthorized: true }),
  });
  const handleUpgrade = rpc.handleUpgrade;
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    // ocpp-rpc answers every failure itself; a rejection here would be a bug in it.
    handleUpgrade(request, socket, head).catch((error: unknown) => {
      socket.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  let connections = 0;
  server.on('connection', () => (connections += 1));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  onCleanup(async () => {
    await rpc.close({ force: true });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  let consumed = 0;
  return {
    url: `wss://127.0.0.1:${port}${options.path ?? '/ocpp'}`,
    port,
    connections: () => connections,
    upgrades,
    clients,
    nextClient() {
      const ready = clients[consumed];
      if (ready !== undefined) {
        consumed += 1;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) =>
        waiting.push((client) => {
          consumed += 1;
          resolve(client);
        }),
      );
    },
  };
}

type ClientOptions = ConstructorParameters<typeof RPCClient>[0];

/** A strict OCPP 1.6 charger over wss://, trusting `ca`, with a client certificate if given. */
export function tlsCharger(
  endpoint: string,
  identity: string,
  tls: SecureContextOptions & { readonly rejectUnauthorized?: boolean },
  password?: string,
): RPCClient {
  // ocpp-rpc's typings mark every option required although all have defaults.
  const options: Partial<ClientOptions> & { reconnect: boolean } = {
    endpoint,
    identity,
    protocols: ['ocpp1.6'],
    strictMode: true,
    password: password ?? null,
    reconnect: false,
    wsOpts: { ...tls, minVersion: 'TLSv1.2' },
  };
  const client = new RPCClient(options as ClientOptions);
  onCleanup(() => client.close({ force: true }));
  return client;
}

/** The certificate and key of `files` as TLS options of a client. */
export function clientCertificate(files: CertificateFiles): { cert: Buffer; key: Buffer } {
  return { cert: files.certPem, key: files.keyPem };
}
