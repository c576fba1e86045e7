/**
 * The connection guard on an https server: it hooks the TCP connection ('connection', before TLS), follows it to
 * its TLS socket ('secureConnection'), and its timeout covers the TLS handshake. Real sockets and a real
 * certificate on loopback.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AddressCounter } from '../../src/admission/address-counter.js';
import { ConnectionGuard, type ConnectionGuardOptions, type ConnectionRefusal } from '../../src/admission/connection-guard.js';
import { ErrorCode } from '../../src/errors.js';
import { createTestPki, type CertificateFiles, type TestPki } from '../support/certificates.js';
import { closeAll, onCleanup } from '../support/harness.js';

afterEach(closeAll);

let pki: TestPki;
let certificate: CertificateFiles;
beforeAll(() => {
  pki = createTestPki();
  certificate = pki.issue('guard-server', { cn: 'localhost', usage: 'server' });
});
afterAll(() => pki.remove());

interface Guarded {
  readonly guard: ConnectionGuard;
  readonly port: number;
  readonly refusals: ConnectionRefusal[];
  /** The TLS sockets whose request arrived, to start a "session" on. */
  readonly requests: TLSSocket[];
}

async function guardedTlsServer(options: Partial<ConnectionGuardOptions> = {}): Promise<Guarded> {
  const refusals: ConnectionRefusal[] = [];
  const requests: TLSSocket[] = [];
  const guard = new ConnectionGuard({ maxPending: 100, handshakeTimeoutMs: 60_000, onRefused: (refusal) => refusals.push(refusal), ...options });
  const server: Server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (request, response) => {
    if (!guard.requestReceived(request.socket)) return;
    // Held open, as an upgrade waiting for the primary would be.
    requests.push(request.socket as TLSSocket);
    response.writeHead(200);
    response.write('held\n');
  });
  guard.attach(server, { tls: true });
  server.on('tlsClientError', (_error, socket: TLSSocket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(async () => {
    guard.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { guard, port: (server.address() as AddressInfo).port, refusals, requests };
}

async function tcpClient(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connectTcp({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {
    // A reset after a refusal is fine.
  });
  onCleanup(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

async function tlsClient(port: number, localAddress = '127.0.0.1'): Promise<TLSSocket> {
  // tls.connect takes no localAddress: the TCP connection is made first, from the address wanted.
  const socket = connectTls({ socket: connectTcp({ port, host: '127.0.0.1', localAddress }), host: '127.0.0.1', ca: pki.ca.certPem });
  onCleanup(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

async function closedWith(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  if (!socket.closed) await once(socket, 'close');
  return text;
}

describe('ConnectionGuard on a TLS listener', () => {
  it('closes, without an answer, a connection that never completes its TLS handshake within the timeout (status 0)', async () => {
    const guarded = await guardedTlsServer({ handshakeTimeoutMs: 200 });
    const silent = await tcpClient(guarded.port);
    expect(await closedWith(silent)).toBe('');
    expect(guarded.refusals).toMatchObject([{ code: ErrorCode.HandshakeTimeout, status: 0, reason: 'no TLS handshake in time', remoteAddress: '127.0.0.1' }]);
    await expect.poll(() => guarded.guard.pending).toBe(0);
  });

  it('answers 408 over TLS when the TLS handshake is done but no request follows', async () => {
    const guarded = await guardedTlsServer({ handshakeTimeoutMs: 300 });
    const idle = await tlsClient(guarded.port);
    expect(await closedWith(idle)).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(guarded.refusals).toMatchObject([{ code: ErrorCode.HandshakeTimeout, status: 408, reason: 'no complete request in time' }]);
  });

  it('finds the TLS socket a request came on: the timer stops, and a session started on it no longer counts as pending', async () => {
    const guarded = await guardedTlsServer({ handshakeTimeoutMs: 300 });
    const client = await tlsClient(guarded.port);
    client.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await expect.poll(() => guarded.requests.length).toBe(1);
    expect(guarded.guard.pending).toBe(1);
    guarded.guard.sessionStarted(guarded.requests[0]!);
    expect(guarded.guard.pending).toBe(0);
    // Past the timeout: the request arrived in time, so nothing is refused.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(guarded.refusals).toEqual([]);
    expect(client.destroyed).toBe(false);
  });

  it('refuses over the limits before the TLS handshake (closed, status 0), and counts per address on the TCP peer', async () => {
    const perAddress = new AddressCounter(1);
    const guarded = await guardedTlsServer({ perAddress, maxPending: 2 });
    await tlsClient(guarded.port, '127.0.0.2');
    await expect(tlsClient(guarded.port, '127.0.0.2')).rejects.toThrow();
    await tcpClient(guarded.port, '127.0.0.3');
    await expect(tlsClient(guarded.port, '127.0.0.4')).rejects.toThrow();
    expect(guarded.refusals.map((refusal) => [refusal.code, refusal.status, refusal.remoteAddress])).toEqual([
      [ErrorCode.TooManyFromAddress, 0, '127.0.0.2'],
      [ErrorCode.TooManyPending, 0, '127.0.0.4'],
    ]);
  });

  it('lets go of everything when the connections close', async () => {
    const perAddress = new AddressCounter(10);
    const guarded = await guardedTlsServer({ perAddress });
    const clients = [await tlsClient(guarded.port), await tlsClient(guarded.port), await tcpClient(guarded.port)];
    await expect.poll(() => guarded.guard.pending).toBe(3);
    for (const client of clients) client.destroy();
    await expect.poll(() => guarded.guard.pending).toBe(0);
    await expect.poll(() => perAddress.clients).toBe(0);
  });
});
