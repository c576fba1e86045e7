/**
 * The limits that act as a connection is accepted, before any HTTP: real sockets on loopback, other 127.x
 * addresses standing for other clients.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressCounter } from '../../src/admission/address-counter.js';
import { ConnectionGuard, type ConnectionGuardOptions, type ConnectionRefusal } from '../../src/admission/connection-guard.js';
import { ErrorCode } from '../../src/errors.js';
import { closeAll, onCleanup } from '../support/harness.js';

afterEach(closeAll);

interface Guarded {
  readonly guard: ConnectionGuard;
  readonly port: number;
  readonly refusals: ConnectionRefusal[];
  /** Server-side sockets, in the order accepted. */
  readonly accepted: Socket[];
}

async function guardedServer(options: Partial<ConnectionGuardOptions> = {}): Promise<Guarded> {
  const refusals: ConnectionRefusal[] = [];
  const accepted: Socket[] = [];
  const guard = new ConnectionGuard({ maxPending: 100, handshakeTimeoutMs: 60_000, onRefused: (refusal) => refusals.push(refusal), ...options });
  const server: Server = createServer((request, response) => {
    if (!guard.requestReceived(request.socket)) return;
    response.end('ok');
  });
  server.on('connection', (socket: Socket) => accepted.push(socket));
  guard.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(async () => {
    guard.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { guard, port: (server.address() as AddressInfo).port, refusals, accepted };
}

/** A raw TCP client from `localAddress`, connected. */
async function rawClient(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {
    // A reset after a refusal is fine: the test reads what arrived before.
  });
  onCleanup(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Everything the server sends until it closes the connection. */
async function responseOf(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await once(socket, 'close');
  return text;
}

/** Waits until the server has accepted `count` connections (the client's 'connect' can come first). */
async function accepted(guarded: Guarded, count: number): Promise<void> {
  await expect.poll(() => guarded.accepted.length).toBe(count);
}

describe('ConnectionGuard', () => {
  it('answers 503 with Retry-After, before any request, once max_pending_handshakes connections are pending', async () => {
    const guarded = await guardedServer({ maxPending: 2 });
    const held = [await rawClient(guarded.port), await rawClient(guarded.port)];
    await accepted(guarded, 2);
    expect(guarded.guard.pending).toBe(2);
    const third = await rawClient(guarded.port);
    const answer = await responseOf(third);
    expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(answer).toContain('Retry-After: 30\r\n');
    expect(guarded.refusals).toMatchObject([
      { code: ErrorCode.TooManyPending, status: 503, limit: 'max_pending_handshakes', remoteAddress: '127.0.0.1', fields: { max_pending_handshakes: 2 } },
    ]);
    // A pending connection that leaves makes room.
    held[0]?.destroy();
    await expect.poll(() => guarded.guard.pending).toBe(1);
    const fourth = await rawClient(guarded.port);
    fourth.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await responseOf(fourth)).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it('counts the TCP peer against max_connections_per_ip, sessions included: other addresses are not affected', async () => {
    const guarded = await guardedServer({ perAddress: new AddressCounter(2) });
    const first = await rawClient(guarded.port, '127.0.0.2');
    await rawClient(guarded.port, '127.0.0.2');
    await accepted(guarded, 2);
    // A connection that became a charger session still counts against its address.
    guarded.guard.sessionStarted(guarded.accepted[0]!);
    expect(guarded.guard.pending).toBe(1);
    const over = await rawClient(guarded.port, '127.0.0.2');
    const answer = await responseOf(over);
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toContain('Retry-After: 30\r\n');
    expect(guarded.refusals).toMatchObject([{ code: ErrorCode.TooManyFromAddress, remoteAddress: '127.0.0.2', limit: 'max_connections_per_ip' }]);
    const elsewhere = await rawClient(guarded.port, '127.0.0.3');
    elsewhere.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await responseOf(elsewhere)).toMatch(/^HTTP\/1\.1 200 OK/);
    first.destroy();
    await expect.poll(() => guarded.accepted.filter((socket) => !socket.closed).length).toBe(1);
    const again = await rawClient(guarded.port, '127.0.0.2');
    again.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await responseOf(again)).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it('drops a connection that sends nothing, and one that never finishes its request, after handshakeTimeoutMs with 408', async () => {
    const guarded = await guardedServer({ handshakeTimeoutMs: 100 });
    const silent = await rawClient(guarded.port);
    const slow = await rawClient(guarded.port);
    slow.write('GET /ocpp/CP-1 HTTP/1.1\r\nHost: x\r\n');
    const started = performance.now();
    const [silentAnswer, slowAnswer] = await Promise.all([responseOf(silent), responseOf(slow)]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
    expect(silentAnswer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(slowAnswer).toMatch(/^HTTP\/1\.1 408 /);
    expect(guarded.refusals.map((refusal) => refusal.code)).toEqual([ErrorCode.HandshakeTimeout, ErrorCode.HandshakeTimeout]);
    await expect.poll(() => guarded.guard.pending).toBe(0);
  });

  it('answers Node\'s own headersTimeout on a later request of a kept-alive connection with 408, reported once', async () => {
    const guarded = await guardedServer();
    const client = await rawClient(guarded.port);
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await accepted(guarded, 1);
    const answer = responseOf(client);
    await expect.poll(() => guarded.guard.requestReceived(guarded.accepted[0]!)).toBe(true);
    guarded.guard.requestTimedOut(guarded.accepted[0]!);
    guarded.guard.requestTimedOut(guarded.accepted[0]!);
    expect(await answer).toMatch(/HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(guarded.refusals).toMatchObject([{ code: ErrorCode.HandshakeTimeout, status: 408, remoteAddress: '127.0.0.1' }]);
  });

  it('stops the timer once the request is complete', async () => {
    const guarded = await guardedServer({ handshakeTimeoutMs: 100 });
    const client = await rawClient(guarded.port);
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await expect.poll(() => text).toMatch(/^HTTP\/1\.1 200 OK/);
    // A barrier instead of a sleep: a connection accepted later times out later than the first one would have.
    const later = await rawClient(guarded.port);
    expect(await responseOf(later)).toMatch(/^HTTP\/1\.1 408 /);
    expect(guarded.refusals).toHaveLength(1);
    expect(client.closed).toBe(false);
  });
});
