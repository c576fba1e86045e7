import { once } from 'node:events';
import type { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fakeHandshake } from './fake-handshake.js';

describe('Handshake', () => {
  it('takes the Authorization header and the TCP peer from the request', () => {
    const { handshake } = fakeHandshake({ headers: { authorization: 'Basic Q1AtMTpzZWNyZXQ=' }, remoteAddress: '192.0.2.7' });
    expect(handshake.authorization).toBe('Basic Q1AtMTpzZWNyZXQ=');
    expect(handshake.remoteAddress).toBe('192.0.2.7');
  });

  it('writes an IPv4 peer of a dual-stack listener as people do, not as ::ffff:a.b.c.d (review); IPv6 stays', () => {
    expect(fakeHandshake({ remoteAddress: '::ffff:192.0.2.7' }).handshake.remoteAddress).toBe('192.0.2.7');
    expect(fakeHandshake({ remoteAddress: '2001:db8::7' }).handshake.remoteAddress).toBe('2001:db8::7');
    expect(fakeHandshake({ remoteAddress: '::ffff:abcd' }).handshake.remoteAddress).toBe('::ffff:abcd');
  });

  it('logs where the charger connects from: the TCP peer and the path without its query', () => {
    const { handshake } = fakeHandshake({ url: '/ocpp/CP-1?token=secret', remoteAddress: '192.0.2.7', headers: { 'x-forwarded-for': '198.51.100.9' } });
    expect(handshake.logFields).toEqual({ remote_address: '192.0.2.7', path: '/ocpp/CP-1' });
  });

  it('with trustProxy, takes the address from X-Forwarded-For and names the proxy', () => {
    const request = { url: '/CP-1', remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': 'forged, 198.51.100.9' } };
    expect(fakeHandshake(request, undefined, { trustProxy: true }).handshake.logFields).toEqual({
      remote_address: '198.51.100.9',
      path: '/CP-1',
      forwarded_by: '10.0.0.2',
    });
    // Without a usable header, the TCP peer as always.
    const bare = fakeHandshake({ url: '/CP-1', remoteAddress: '10.0.0.2', headers: {} }, undefined, { trustProxy: true });
    expect(bare.handshake.logFields).toEqual({ remote_address: '10.0.0.2', path: '/CP-1' });
    expect(bare.handshake.remoteAddress).toBe('10.0.0.2');
  });

  it('throws, naming the step, when a part is read before the step that fills it ran', () => {
    const { handshake } = fakeHandshake();
    expect(() => handshake.offeredSubprotocols).toThrow(/checkUpgrade/);
    expect(() => handshake.charger).toThrow(/identifyCharger/);
    expect(() => handshake.primary).toThrow(/dialPrimary/);
    expect(handshake.knownIdentity).toBeUndefined();
    handshake.charger = { identity: 'CP 1', urlSegment: 'CP%201' };
    expect(handshake.knownIdentity).toBe('CP 1');
  });

  it('abandon() undoes what the steps registered, newest first, once', () => {
    const { handshake } = fakeHandshake();
    const undone: string[] = [];
    handshake.onAbandon(() => undone.push('primary'));
    handshake.onAbandon(() => undone.push('claim'));
    handshake.abandon();
    handshake.abandon();
    expect(undone).toEqual(['claim', 'primary']);
  });

  it('cancel() aborts its signal', () => {
    const { handshake } = fakeHandshake();
    expect(handshake.signal.aborted).toBe(false);
    handshake.cancel();
    handshake.cancel();
    expect(handshake.signal.aborted).toBe(true);
  });
});

describe('Handshake.watchSocket / upgradeHead', () => {
  it('without a watch, the head is the one the upgrade came with', () => {
    const { handshake } = fakeHandshake({}, Buffer.from('head'));
    expect(handshake.upgradeHead().toString()).toBe('head');
  });

  it('keeps what the charger sends before its 101 and hands it back after the head, once', async () => {
    const { handshake, socket } = fakeHandshake({}, Buffer.from('head|'));
    handshake.watchSocket(1024);
    await written(socket, 'early-1|');
    await written(socket, 'early-2');
    expect(handshake.upgradeHead().toString()).toBe('head|early-1|early-2');
    expect(handshake.upgradeHead().toString()).toBe('head|early-1|early-2');
    expect(socket.isPaused()).toBe(true);
    expect(socket.listenerCount('data')).toBe(0);
    expect(socket.listenerCount('close')).toBe(0);
  });

  it.each([
    ['ends its side', (socket: PassThrough) => socket.end()],
    ['resets the connection', (socket: PassThrough) => socket.destroy(new Error('ECONNRESET'))],
  ])('cancels the handshake when the charger %s', async (_how, leave) => {
    const { handshake, socket } = fakeHandshake();
    handshake.watchSocket(1024);
    leave(socket);
    await once(handshake.signal, 'abort');
    expect(handshake.signal.aborted).toBe(true);
  });

  it('drops a charger that sends more than the bound before its 101', async () => {
    const { handshake, socket } = fakeHandshake();
    handshake.watchSocket(10);
    socket.write(Buffer.alloc(11));
    await once(socket, 'close');
    expect(socket.destroyed).toBe(true);
    expect(handshake.signal.aborted).toBe(true);
  });

  it('no longer cancels once the head is taken', async () => {
    const { handshake, socket } = fakeHandshake();
    handshake.watchSocket(1024);
    handshake.upgradeHead();
    socket.destroy();
    await once(socket, 'close');
    expect(handshake.signal.aborted).toBe(false);
  });
});

/** Writes as the charger would and waits until the watch has read it. */
async function written(socket: PassThrough, chunk: string): Promise<void> {
  const read = once(socket, 'data');
  socket.write(chunk);
  await read;
}
