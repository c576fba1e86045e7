/**
 * UpstreamLink's pause and resume (the admin API's pause of a secondary): no dialling while paused, one socket
 * at a time, and the owner hears of every socket's end exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Keepalive } from '../../src/links/keepalive.js';
import type { Leg } from '../../src/links/leg.js';
import { UpstreamLink, type UpstreamEvents } from '../../src/links/upstream-link.js';
import { closeAll, onCleanup, startRawCsms } from '../support/harness.js';

afterEach(closeAll);

const TIMING = { connectTimeoutMs: 2_000, reconnectDelayMs: 100, reconnectMaxDelayMs: 200, stableAfterMs: 60_000, maxPayload: 1 << 20, perMessageDeflate: false };

function recordingLink(url: string): { link: UpstreamLink; log: string[]; opened: () => Promise<Leg> } {
  const log: string[] = [];
  const waiters: Array<(leg: Leg) => void> = [];
  const events: UpstreamEvents = {
    onOpen: (leg) => {
      log.push('open');
      waiters.shift()?.(leg);
    },
    onFrame: () => undefined,
    onDisconnect: () => log.push('disconnect'),
    onWaiting: (why) => log.push(`waiting: ${why}`),
    onError: (error) => log.push(`error: ${error.message}`),
  };
  const keepalive = new Keepalive(0, 2);
  const link = new UpstreamLink({ url, subprotocols: ['ocpp1.6'], headers: {} }, TIMING, keepalive, events);
  onCleanup(() => {
    link.terminate();
    keepalive.close();
  });
  return { link, log, opened: () => new Promise((resolve) => waiters.push(resolve)) };
}

describe('UpstreamLink pause and resume', () => {
  it('closes the socket on pause, dials nothing while paused, and dials again on resume', async () => {
    const csms = await startRawCsms();
    const { link, log, opened } = recordingLink(csms.url);
    const first = opened();
    link.start();
    await first;
    const peer = csms.peers[0]!;
    link.pause();
    expect((await peer.closed).code).toBe(1001);
    await new Promise((resolve) => setTimeout(resolve, 300)); // longer than the reconnect delay: nothing may dial
    expect(csms.peers).toHaveLength(1);
    expect(log).toEqual(['open', 'disconnect']);
    const second = opened();
    link.resume();
    await second;
    expect(csms.peers).toHaveLength(2);
    expect(log).toEqual(['open', 'disconnect', 'open']);
  });

  it('resumed before the old socket finished closing: the owner hears of its end once, and one socket stays', async () => {
    const csms = await startRawCsms();
    const { link, log, opened } = recordingLink(csms.url);
    const first = opened();
    link.start();
    await first;
    const second = opened();
    link.pause();
    link.resume(); // at once: the first socket is still closing
    await second;
    await csms.peers[0]!.closed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(log).toEqual(['open', 'disconnect', 'open']);
    expect(csms.peers.filter((peer) => peer.socket.readyState === peer.socket.OPEN)).toHaveLength(1);
  });

  it('paused while dialling: the dial is abandoned and no socket stays open', async () => {
    let release!: () => void;
    const csms = await startRawCsms({ holdUpgrade: new Promise<void>((resolve) => (release = resolve)) });
    const { link, log } = recordingLink(csms.url);
    link.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    link.pause();
    release();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(log).toEqual([]);
    expect(csms.peers.filter((peer) => peer.socket.readyState === peer.socket.OPEN)).toHaveLength(0);
  });

  it('close() while paused settles `closed`', async () => {
    const csms = await startRawCsms();
    const { link, opened } = recordingLink(csms.url);
    const first = opened();
    link.start();
    await first;
    link.pause();
    link.close();
    await link.closed;
  });
});
