/**
 * Either side closing closes the other; a reconnecting charger replaces its old
 * session; dead sockets are found by ping; shutdown is graceful; nothing leaks.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { callResultFrame, closeAll, connectRawCharger, onCleanup, recordPeer, startProxy, startRawCsms } from '../support/harness.js';

afterEach(closeAll);

describe('closing', () => {
  it('the primary closing closes the charger with the primary’s code and reason', async () => {
    const csms = await startRawCsms();
    const { url, proxy } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-C1'));
    const primary = await csms.nextPeer();
    primary.socket.close(4001, 'csms says bye');
    expect(await charger.closed).toEqual({ code: 4001, reason: 'csms says bye' });
    await expect.poll(() => proxy.sessions.size).toBe(0);
  });

  it('the primary vanishing closes the charger with 1011', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-C2'));
    const primary = await csms.nextPeer();
    primary.socket.terminate();
    expect(await charger.closed).toEqual({ code: 1011, reason: 'primary CSMS connection lost' });
  });

  it('the charger closing closes the primary with the charger’s code and reason', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-C3'));
    const primary = await csms.nextPeer();
    charger.socket.close(1000, 'rebooting');
    expect(await primary.closed).toEqual({ code: 1000, reason: 'rebooting' });
  });

  it('the charger vanishing closes the primary with 1001', async () => {
    const csms = await startRawCsms();
    const { url, logs } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-C4'));
    const primary = await csms.nextPeer();
    charger.socket.terminate();
    expect(await primary.closed).toEqual({ code: 1001, reason: 'charger connection lost' });
    await logs.waitFor('charger disconnected');
  });
});

describe('a second connection with the same identity', () => {
  it('replaces the first: old sockets closed, a warning logged, the new session works', async () => {
    const csms = await startRawCsms();
    const { url, proxy, logs } = await startProxy(csms.url);
    const first = await connectRawCharger(url('/CP-DUP'));
    const firstPrimary = await csms.nextPeer();
    const second = await connectRawCharger(url('/CP-DUP'));
    const secondPrimary = await csms.nextPeer();

    expect((await first.closed).code).toBe(1001);
    expect((await firstPrimary.closed).code).toBe(1001);
    await logs.waitFor('charge point id already connected: the older connection is replaced');
    expect(proxy.sessions.size).toBe(1);

    second.socket.send('[2,"after","Heartbeat",{}]');
    expect((await secondPrimary.nextFrame()).data.toString()).toBe('[2,"after","Heartbeat",{}]');
    // The replaced session ending late must not evict its successor.
    await expect.poll(() => proxy.sessions.get('CP-DUP')).toBeDefined();
    expect(proxy.sessions.size).toBe(1);
  });
});

describe('keepalive', () => {
  it('pings the charger and terminates it after missed pongs, closing the primary too', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url, { ping_interval_ms: 1000, ping_max_missed: 1 });
    const charger = await connectRawCharger(url('/CP-DEAD'), ['ocpp1.6'], { autoPong: false });
    const primary = await csms.nextPeer();
    const pinged = once(charger.socket, 'ping');
    await pinged;
    expect((await charger.closed).code).toBe(1006);
    expect((await primary.closed).code).toBe(1001);
  });

  it('pings the primary and drops a primary that stops answering, closing the charger', async () => {
    const csms = await startRawCsms({ autoPong: false });
    const { url } = await startProxy(csms.url, { ping_interval_ms: 1000, ping_max_missed: 1 });
    const charger = await connectRawCharger(url('/CP-DEADPRIMARY'));
    expect((await charger.closed).code).toBe(1011);
  });

  it('keeps a live connection open across several ping rounds', async () => {
    const csms = await startRawCsms();
    const { url, proxy } = await startProxy(csms.url, { ping_interval_ms: 1000, ping_max_missed: 1 });
    const charger = await connectRawCharger(url('/CP-ALIVE'));
    for (let round = 0; round < 3; round += 1) await once(charger.socket, 'ping');
    expect(charger.socket.readyState).toBe(WebSocket.OPEN);
    expect(proxy.sessions.size).toBe(1);
  });
});

describe('shutdown and leaks', () => {
  it('close() closes every charger with 1001 and its primary, then resolves', async () => {
    const csms = await startRawCsms();
    const { url, proxy } = await startProxy(csms.url);
    const chargers = await Promise.all([1, 2, 3].map((n) => connectRawCharger(url(`/CP-S${n}`))));
    const primaries = await Promise.all(chargers.map(() => csms.nextPeer()));
    await proxy.close();
    for (const charger of chargers) expect((await charger.closed).code).toBe(1001);
    for (const primary of primaries) expect((await primary.closed).code).toBe(1001);
    expect(proxy.sessions.size).toBe(0);
    await proxy.close(); // idempotent
  });

  it('close() drops chargers that do not finish the closing handshake in time', async () => {
    const csms = await startRawCsms();
    const { url, proxy } = await startProxy(csms.url, { shutdown_timeout_ms: 200 });
    // A raw TCP-level charger that never answers the close frame: pause its socket.
    const socket = new WebSocket(url('/CP-STUBBORN'), ['ocpp1.6']);
    onCleanup(() => socket.terminate());
    const charger = recordPeer(socket);
    await once(socket, 'open');
    await csms.nextPeer();
    socket.pause();
    const started = Date.now();
    await proxy.close();
    expect(Date.now() - started).toBeLessThan(5000);
    socket.resume();
    await charger.closed;
  });

  it('refuses new chargers with 503 once shutdown has begun', async () => {
    const csms = await startRawCsms();
    const { url, proxy } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-LAST'));
    await csms.nextPeer();
    const closing = proxy.close();
    charger.socket.pause(); // keep the closing handshake pending a moment
    const late = new WebSocket(url('/CP-LATE'), ['ocpp1.6']);
    const status = await new Promise<number>((resolve) => {
      late.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      late.on('error', () => resolve(0));
    });
    charger.socket.resume();
    await closing;
    expect([0, 503]).toContain(status);
  });

  it('leaves no session, keepalive entry or socket behind after 25 chargers come and go', async () => {
    const csms = await startRawCsms();
    const { url, proxy } = await startProxy(csms.url, { ping_interval_ms: 1000 });
    for (let round = 0; round < 5; round += 1) {
      const chargers = await Promise.all(Array.from({ length: 5 }, (_, n) => connectRawCharger(url(`/CP-L${round}-${n}`))));
      for (const charger of chargers) charger.socket.close(1000, 'bye');
      await Promise.all(chargers.map((charger) => charger.closed));
    }
    await expect.poll(() => proxy.stats()).toMatchObject({ chargers: 0, pendingHandshakes: 0, keepaliveSockets: 0 });
    await expect.poll(() => csms.wss.clients.size).toBe(0);
    const health = await fetch(`http://127.0.0.1:${new URL(url('/')).port}/healthz`);
    expect(await health.json()).toMatchObject({ chargers: 0 });
  });

  it('with two secondaries, leaves no session, mirror socket, keepalive entry or timer behind', async () => {
    const csms = await startRawCsms();
    const answer = ({ id }: { id: string }) => callResultFrame(id, {});
    const s1 = await startRawCsms({ answer });
    const s2 = await startRawCsms({ answer });
    const { url, proxy } = await startProxy(csms.url, {
      ping_interval_ms: 1000,
      secondary_ping_interval_ms: 1000,
      secondary_csms: [{ url: s1.url }, { url: s2.url }],
    });
    for (let round = 0; round < 3; round += 1) {
      const chargers = await Promise.all(Array.from({ length: 5 }, (_, n) => connectRawCharger(url(`/CP-M${round}-${n}`))));
      await expect.poll(() => s1.wss.clients.size + s2.wss.clients.size).toBe(10);
      for (const charger of chargers) charger.socket.send('[2,"hb","Heartbeat",{}]');
      for (const charger of chargers) charger.socket.close(1000, 'bye');
      await Promise.all(chargers.map((charger) => charger.closed));
    }
    await expect.poll(() => proxy.stats()).toMatchObject({ chargers: 0, pendingHandshakes: 0, keepaliveSockets: 0 });
    await expect.poll(() => s1.wss.clients.size + s2.wss.clients.size + csms.wss.clients.size).toBe(0);
    expect(proxy.stats().mirror.mirrorFailures).toBe(0);
  });
});
