/**
 * Decide before upgrading: the proxy dials the primary first and answers the
 * charger's upgrade with what the primary said.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connectRawCharger, onCleanup, startProxy, startRawCsms, upgradeStatus } from '../support/harness.js';

afterEach(closeAll);

async function httpGet(port: number, path: string): Promise<{ status: number; body: string; type: string | undefined }> {
  const request = httpRequest({ host: '127.0.0.1', port, path });
  request.end();
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of response) body += String(chunk);
  return { status: response.statusCode ?? 0, body, type: response.headers['content-type'] };
}

describe('charge point identity from the URL', () => {
  it.each([
    ['/CP-1', 'CP-1'],
    ['/ocpp/CP-1', 'CP-1'],
    ['/ws/CP-1', 'CP-1'],
    ['/any/deep/prefix/CP-1', 'CP-1'],
    ['/ocpp/CP-1?token=abc', 'CP-1'],
    ['/ocpp/CP%7c1', 'CP%7C1'],
    ['/ocpp/CP|1', 'CP%7C1'],
  ])('%s reaches the primary as …/ocpp/%s', async (path, segment) => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    await connectRawCharger(url(path));
    expect(csms.requests[0]?.url).toBe(`/ocpp/${segment}`);
  });

  it.each([
    ['missing', '/'],
    ['empty after prefix', '/ocpp/'],
    ['too long', `/ocpp/${'x'.repeat(49)}`],
    ['with a colon', '/ocpp/CP:1'],
    ['with a space', '/ocpp/CP%201'],
    ['bad percent-encoding', '/ocpp/CP%E0%A4%A'],
  ])('refuses an identity that is %s with 400, without dialling the primary', async (_label, path) => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    const result = await upgradeStatus(url(path));
    expect(result.status).toBe(400);
    expect(csms.requests).toHaveLength(0);
  });

  it('accepts a 48-character identity', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    expect((await upgradeStatus(url(`/${'x'.repeat(48)}`))).status).toBe(101);
  });
});

describe('the primary URL', () => {
  it('keeps the endpoint’s own path and query and appends the raw identity', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(`ws://127.0.0.1:${csms.port}/base/path?tenant=7`);
    await connectRawCharger(url('/CP-Q?ignored=1'));
    expect(csms.requests[0]?.url).toBe('/base/path/CP-Q?tenant=7');
  });

  it('uses the endpoint as it is when primary_csms_append_charge_point_id is false', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(`ws://127.0.0.1:${csms.port}/one/url/per/charger`, {
      primary_csms_append_charge_point_id: false,
    });
    await connectRawCharger(url('/CP-FULL'));
    expect(csms.requests[0]?.url).toBe('/one/url/per/charger');
  });

  it('offers the charger’s exact sub-protocol list and Authorization header', async () => {
    const csms = await startRawCsms({ handleProtocols: (offered) => (offered.has('ocpp1.6') ? 'ocpp1.6' : false) });
    const { url } = await startProxy(csms.url);
    const authorization = `Basic ${Buffer.from('CP-AUTH:secret-password-16').toString('base64')}`;
    const charger = await connectRawCharger(url('/CP-AUTH'), ['ocpp2.0.1', 'ocpp1.6', 'ocpp2.0'], { headers: { Authorization: authorization } });
    const offered = csms.requests[0]?.headers['sec-websocket-protocol']?.split(',').map((name) => name.trim());
    expect(offered).toEqual(['ocpp2.0.1', 'ocpp1.6', 'ocpp2.0']);
    expect(csms.requests[0]?.headers.authorization).toBe(authorization);
    expect(charger.protocol).toBe('ocpp1.6');
  });
});

describe('when the primary does not accept', () => {
  it.each([401, 403, 404, 409, 500])('a primary %i refuses the charger with the same status', async (status) => {
    const csms = await startRawCsms({ refuseWith: { status } });
    const { url } = await startProxy(csms.url);
    expect((await upgradeStatus(url('/CP-R'))).status).toBe(status);
  });

  it('passes on WWW-Authenticate so a charger can tell an auth failure', async () => {
    const csms = await startRawCsms({ refuseWith: { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="ocpp"' } } });
    const { url } = await startProxy(csms.url);
    const result = await upgradeStatus(url('/CP-R'));
    expect(result.status).toBe(401);
    expect(result.headers['www-authenticate']).toBe('Basic realm="ocpp"');
  });

  it('answers 502 when the primary is unreachable', async () => {
    const closedPort = createTcpServer();
    closedPort.listen(0, '127.0.0.1');
    await once(closedPort, 'listening');
    const { port } = closedPort.address() as AddressInfo;
    await new Promise<void>((resolve) => closedPort.close(() => resolve()));
    const { url, logs } = await startProxy(`ws://127.0.0.1:${port}/ocpp`);
    expect((await upgradeStatus(url('/CP-DOWN'))).status).toBe(502);
    await logs.waitFor('primary unreachable');
  });

  it('answers 504 when the primary accepts TCP but never answers the upgrade', async () => {
    const silent = createTcpServer((socket: Socket) => onCleanup(() => socket.destroy()));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    onCleanup(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const { port } = silent.address() as AddressInfo;
    const { url } = await startProxy(`ws://127.0.0.1:${port}/ocpp`, { primary_connect_timeout_ms: 300 });
    expect((await upgradeStatus(url('/CP-SLOW'))).status).toBe(504);
  });

  it('completes the handshake without a sub-protocol and closes at once when there is no common one', async () => {
    const csms = await startRawCsms({ handleProtocols: () => false });
    const { url } = await startProxy(csms.url);
    const result = await upgradeStatus(url('/CP-NOPROTO'), ['ocpp2.0.1']);
    expect(result.status).toBe(101);
    expect(result.headers['sec-websocket-protocol']).toBeUndefined();
    // ws (as a client that offered protocols) fails such a handshake itself; the proxy has closed its side already.
  });

  it('abandons the primary handshake when the charger leaves while it is pending', async () => {
    const silent = createTcpServer((socket: Socket) => onCleanup(() => socket.destroy()));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    onCleanup(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const { port } = silent.address() as AddressInfo;
    const { url, logs } = await startProxy(`ws://127.0.0.1:${port}/ocpp`, { primary_connect_timeout_ms: 10_000 });
    const attempt = await import('ws').then(({ WebSocket }) => new WebSocket(url('/CP-GONE'), ['ocpp1.6']));
    attempt.on('error', () => {});
    await once(silent, 'connection');
    attempt.terminate();
    await logs.waitFor('charger left before the primary answered');
  });
});

describe('plain HTTP on the WebSocket port', () => {
  it('GET /healthz answers 200 with a small JSON body', async () => {
    const csms = await startRawCsms();
    const { port } = await startProxy(csms.url);
    const health = await httpGet(port, '/healthz');
    expect(health.status).toBe(200);
    expect(health.type).toMatch(/application\/json/);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', chargers: 0 });
  });

  it('any other request gets a short text saying what this is', async () => {
    const csms = await startRawCsms();
    const { port } = await startProxy(csms.url);
    const page = await httpGet(port, '/');
    expect(page.status).toBe(426);
    expect(page.body).toMatch(/OCPP-J WebSocket proxy/);
  });

  it('refuses a malformed upgrade with 400 without dialling the primary', async () => {
    const csms = await startRawCsms();
    const { port } = await startProxy(csms.url);
    const request = httpRequest({ host: '127.0.0.1', port, path: '/CP-1', headers: { Connection: 'Upgrade', Upgrade: 'websocket' } });
    request.end();
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    response.resume();
    expect(response.statusCode).toBe(400);
    expect(csms.requests).toHaveLength(0);
  });
});
