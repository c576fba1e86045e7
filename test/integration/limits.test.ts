/**
 * Issue 11, findings 1 and 2: the limits of a proxy on a public network, driven with real sockets on
 * loopback (other 127.x addresses stand for other clients), in bounded loops. Each refusal is answered
 * (503 with Retry-After, or 408), logged at a bounded rate, and counted on the handshake channel.
 */
import { once } from 'node:events';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { handshakeResult } from '../../src/admin/observer.js';
import { channels, type HandshakeMessage } from '../../src/diagnostics/channels.js';
import { ErrorCode } from '../../src/errors.js';
import { closeAll, connectRawCharger, onCleanup, startProxy, startRawCsms, type StartedProxy } from '../support/harness.js';

afterEach(closeAll);

const LIMIT_LINE = 'connection refused by a limit';

/** Every handshake decision published while the test runs. */
function recordHandshakes(): HandshakeMessage[] {
  const seen: HandshakeMessage[] = [];
  onCleanup(channels.handshake.subscribe((message) => seen.push(message)));
  return seen;
}

interface Attempt {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly socket: WebSocket;
}

/** A WebSocket upgrade from `localAddress` (127.0.0.1 unless said), with the status the proxy answered. */
async function attempt(proxy: StartedProxy, path: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<Attempt> {
  const socket = new WebSocket(proxy.url(path), ['ocpp1.6'], { localAddress: options.localAddress, headers: options.headers });
  socket.on('error', () => {
    // A refusal is the expected outcome here.
  });
  onCleanup(() => socket.terminate());
  return new Promise((resolve) => {
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, headers: response.headers, socket });
    });
    socket.once('upgrade', (response: IncomingMessage) => resolve({ status: response.statusCode ?? 0, headers: response.headers, socket }));
  });
}

/** A raw TCP connection to the proxy that sends nothing unless told. */
async function rawConnection(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {
    // A reset after a refusal is fine: the test reads what arrived before it.
  });
  onCleanup(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** What the proxy wrote on `socket` until it closed it. */
async function answerOf(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  if (!socket.closed) await once(socket, 'close');
  return text;
}

function upgradeRequest(path: string): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Protocol: ocpp1.6',
    '',
    '',
  ].join('\r\n');
}

async function healthz(proxy: StartedProxy): Promise<{ status: number; body: { chargers?: number } }> {
  const response = await fetch(`http://127.0.0.1:${proxy.port}/healthz`);
  return { status: response.status, body: (await response.json()) as { chargers?: number } };
}

/** A primary that accepts TCP and never answers an upgrade: every charger stays pending until it leaves. */
async function silentPrimary(): Promise<string> {
  const held: Socket[] = [];
  const server = createTcpServer((socket) => held.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(() => {
    for (const socket of held) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ocpp`;
}

describe('max_connections', () => {
  it('refuses the charger past the limit with 503 and Retry-After; a reconnect of a connected id and /healthz still get through', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { max_connections: 2 });
    const handshakes = recordHandshakes();
    await connectRawCharger(proxy.url('/CP-1'));
    const second = await connectRawCharger(proxy.url('/CP-2'));

    const refused = await attempt(proxy, '/CP-3');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(await proxy.logs.waitFor(LIMIT_LINE)).toMatchObject({
      level: 'warn',
      tag: 'CP-3',
      limit: 'max_connections',
      max_connections: 2,
      status: 503,
      remote_address: '127.0.0.1',
      suppressed: 0,
    });
    expect(handshakes.filter((message) => message.code === ErrorCode.TooManyConnections)).toMatchObject([{ outcome: 'refused', status: 503, chargerId: 'CP-3' }]);
    expect(handshakeResult('refused', ErrorCode.TooManyConnections)).toBe('too_many_connections');
    // The primary was never asked.
    expect(csms.requests.map((request) => request.url)).toEqual(['/ocpp/CP-1', '/ocpp/CP-2']);

    // A charger that reconnects under a connected id is never locked out by its own old connection.
    expect((await attempt(proxy, '/CP-1')).status).toBe(101);
    // /healthz is no charger: it answers while the charger limit is reached (the container HEALTHCHECK).
    expect(await healthz(proxy)).toMatchObject({ status: 200, body: { chargers: 2 } });

    second.socket.close();
    await second.closed;
    await expect.poll(() => proxy.proxy.stats().chargers).toBe(1);
    expect((await attempt(proxy, '/CP-3')).status).toBe(101);
  });

  it('logs a flood of refusals once per interval, and counts every one', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { max_connections: 1 });
    const handshakes = recordHandshakes();
    await connectRawCharger(proxy.url('/CP-1'));
    const FLOOD = 5;
    for (let i = 0; i < FLOOD; i += 1) expect((await attempt(proxy, `/CP-X${i}`)).status).toBe(503);
    expect(handshakes.filter((message) => message.code === ErrorCode.TooManyConnections)).toHaveLength(FLOOD);
    expect(proxy.logs.lines.filter((line) => line.msg === LIMIT_LINE)).toHaveLength(1);
  });
});

describe('max_connections_per_ip', () => {
  it('counts the TCP peer as the connection is accepted: one address is refused, another still connects', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { max_connections_per_ip: 2 });
    const handshakes = recordHandshakes();
    expect((await attempt(proxy, '/CP-A1', { localAddress: '127.0.0.2' })).status).toBe(101);
    // A silent connection counts as much as a charger session.
    await rawConnection(proxy.port, '127.0.0.2');
    await expect.poll(() => proxy.proxy.stats().pendingConnections).toBe(1);

    const refused = await attempt(proxy, '/CP-A2', { localAddress: '127.0.0.2' });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(await proxy.logs.waitFor(LIMIT_LINE)).toMatchObject({ limit: 'max_connections_per_ip', max_connections_per_ip: 2, remote_address: '127.0.0.2' });
    expect(handshakes.filter((message) => message.code === ErrorCode.TooManyFromAddress)).toMatchObject([
      { outcome: 'refused', status: 503, remoteAddress: '127.0.0.2', chargerId: undefined },
    ]);
    // Refused before its request was read: the primary never heard of it.
    expect(csms.requests.map((request) => request.url)).toEqual(['/ocpp/CP-A1']);

    expect((await attempt(proxy, '/CP-B1', { localAddress: '127.0.0.3' })).status).toBe(101);
  });

  it('silent sockets from one address (finding 2, scaled down) stop at the limit; other addresses and /healthz are not affected', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { max_connections_per_ip: 10 });
    const ATTACK = 30;
    const attacker = await Promise.all(Array.from({ length: ATTACK }, () => rawConnection(proxy.port, '127.0.0.2')));
    // Read what the proxy answers, so a refused socket sees its end.
    for (const socket of attacker) socket.resume();
    await expect.poll(() => attacker.filter((socket) => socket.closed).length).toBe(ATTACK - 10);
    expect(proxy.proxy.stats().pendingConnections).toBe(10);
    expect((await attempt(proxy, '/CP-OK', { localAddress: '127.0.0.3' })).status).toBe(101);
    expect((await healthz(proxy)).status).toBe(200);
  });

  it('with trust_proxy, counts the X-Forwarded-For address once the request is read, not the reverse proxy', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { max_connections_per_ip: 1, trust_proxy: true });
    const from = (address: string) => ({ headers: { 'X-Forwarded-For': address } });
    expect((await attempt(proxy, '/CP-F1', from('198.51.100.1'))).status).toBe(101);
    expect((await attempt(proxy, '/CP-F2', from('198.51.100.2'))).status).toBe(101);
    const refused = await attempt(proxy, '/CP-F3', from('forged, 198.51.100.1'));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(await proxy.logs.waitFor(LIMIT_LINE)).toMatchObject({ limit: 'max_connections_per_ip', remote_address: '198.51.100.1', forwarded_by: '127.0.0.1' });
  });
});

describe('max_pending_handshakes', () => {
  it('answers 503 at once to a connection past the limit, before reading it; room again once they leave', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { max_pending_handshakes: 3 });
    const silent = await Promise.all([0, 1, 2].map(() => rawConnection(proxy.port)));
    await expect.poll(() => proxy.proxy.stats().pendingConnections).toBe(3);

    const refused = await attempt(proxy, '/CP-P');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(await proxy.logs.waitFor(LIMIT_LINE)).toMatchObject({ limit: 'max_pending_handshakes', max_pending_handshakes: 3, remote_address: '127.0.0.1' });

    for (const socket of silent) socket.destroy();
    await expect.poll(() => proxy.proxy.stats().pendingConnections).toBe(0);
    const charger = await connectRawCharger(proxy.url('/CP-P'));
    // A charger session is no longer pending.
    expect(proxy.proxy.stats().pendingConnections).toBe(0);
    charger.socket.close();
  });
});

describe('max_pending_handshake_bytes', () => {
  it('bounds the sum over every pending handshake: the charger that would go past it gets 503, the others keep theirs', async () => {
    const BUDGET = 64 * 1024;
    const PUSH = 20 * 1024;
    const CHARGERS = 6;
    const primary = await silentPrimary();
    const proxy = await startProxy(primary, { max_pending_handshake_bytes: BUDGET, primary_connect_timeout_ms: 60_000 });
    const chargers: Socket[] = [];
    for (let i = 0; i < CHARGERS; i += 1) {
      const socket = await rawConnection(proxy.port);
      socket.write(upgradeRequest(`/CP-B${i}`));
      chargers.push(socket);
    }
    // Every upgrade waits for the primary, which never answers.
    await expect.poll(() => proxy.proxy.stats().pendingHandshakes).toBe(CHARGERS);

    const answers: Array<Promise<string>> = [];
    for (const socket of chargers) {
      answers.push(answerOf(socket));
      const before = proxy.proxy.stats().pendingHandshakeBytes;
      const refusalsBefore = proxy.logs.lines.length;
      socket.write(Buffer.alloc(PUSH, 0x61));
      // Either its bytes are held, or it is refused (the log line is throttled: count closed sockets instead).
      await expect.poll(() => proxy.proxy.stats().pendingHandshakeBytes === before + PUSH || socket.closed || proxy.logs.lines.length > refusalsBefore).toBe(true);
      expect(proxy.proxy.stats().pendingHandshakeBytes).toBeLessThanOrEqual(BUDGET);
    }
    const held = Math.floor(BUDGET / PUSH);
    await expect.poll(() => chargers.filter((socket) => socket.closed).length).toBe(CHARGERS - held);
    expect(proxy.proxy.stats().pendingHandshakeBytes).toBe(held * PUSH);
    expect(proxy.proxy.stats().pendingHandshakes).toBe(held);
    const refusedAnswers = await Promise.all(answers.slice(held));
    for (const answer of refusedAnswers) expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*Retry-After: 30\r\n/);
    expect(await proxy.logs.waitFor(LIMIT_LINE)).toMatchObject({ limit: 'max_pending_handshake_bytes', max_pending_handshake_bytes: BUDGET, tag: `CP-B${held}` });

    // The held ones leave: their bytes are given back, and nothing stays counted.
    for (const socket of chargers) socket.destroy();
    await expect.poll(() => proxy.proxy.stats()).toMatchObject({ pendingHandshakes: 0, pendingHandshakeBytes: 0, pendingConnections: 0 });
  });
});

describe('handshake_timeout_ms', () => {
  it('drops a connection that sends nothing, and one that never finishes its request, with 408; sessions are not affected', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { handshake_timeout_ms: 1000 });
    const charger = await connectRawCharger(proxy.url('/CP-T'));
    const primary = await csms.nextPeer();
    const started = performance.now();
    const silent = await rawConnection(proxy.port);
    const partial = await rawConnection(proxy.port);
    partial.write('GET /ocpp/CP-SLOW HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const [silentAnswer, partialAnswer] = await Promise.all([answerOf(silent), answerOf(partial)]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(silentAnswer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(partialAnswer).toMatch(/^HTTP\/1\.1 408 /);
    expect(await proxy.logs.waitFor(LIMIT_LINE)).toMatchObject({ limit: 'handshake_timeout_ms', handshake_timeout_ms: 1000, status: 408, remote_address: '127.0.0.1' });
    expect(csms.requests).toHaveLength(1);

    // The charger connected before is a session: no handshake timer runs for it.
    charger.socket.send('[2,"t1","Heartbeat",{}]');
    expect((await primary.nextFrame()).data.toString()).toBe('[2,"t1","Heartbeat",{}]');
    expect(proxy.proxy.stats().pendingConnections).toBe(0);
  });
});
