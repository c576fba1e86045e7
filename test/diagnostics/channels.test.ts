/**
 * The core publishes what it decides on `node:diagnostics_channel` (observability subscribes; the core
 * imports no metrics code): one real proxy, a charger and a secondary, and the events they produce.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { channels } from '../../src/diagnostics/channels.js';
import { answers16, closeAll, connectRawCharger, exchange, ocpp16, onCleanup, receivedTexts, startProxy, startRawCsms } from '../support/harness.js';

afterEach(closeAll);

function record<T>(channel: { subscribe(listener: (message: T) => void): () => void }): T[] {
  const seen: T[] = [];
  onCleanup(channel.subscribe((message) => seen.push(message)));
  return seen;
}

describe('diagnostics channels', () => {
  it('publish sessions, routed frames, link states, outbox appends and acks, store commits and leases', async () => {
    const sessions = record(channels.sessionStarted);
    const ended = record(channels.sessionEnded);
    const frames = record(channels.frameRouted);
    const links = record(channels.linkState);
    const appended = record(channels.outboxAppended);
    const acked = record(channels.outboxAcked);
    const commits = record(channels.storeCommit);
    const leases = record(channels.leaseAcquired);
    const released = record(channels.leaseReleased);
    const answered = record(channels.chargerCallAnswered);
    const handshakes = record(channels.handshake);
    const frameData = record(channels.frameData);

    const primary = await startRawCsms({ answer: answers16(100) });
    const secondary = await startRawCsms({ answer: answers16(555) });
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url, name: 'energy' }] });
    const charger = await connectRawCharger(url('/CP-DIAG'));
    await exchange(charger, ocpp16.heartbeat('hb-1'));
    await expect.poll(() => receivedTexts(secondary).length).toBe(1);
    await expect.poll(() => acked.length).toBe(1);

    expect(sessions).toEqual([{ chargerId: 'CP-DIAG', sessionId: expect.any(Number) as number, protocol: 'ocpp1.6', remoteAddress: '127.0.0.1', frames: expect.any(Float64Array) as Float64Array }]);
    expect(handshakes).toEqual([{ chargerId: 'CP-DIAG', outcome: 'accepted', status: 101, code: undefined, remoteAddress: '127.0.0.1' }]);
    // Every frame on every leg, with its bytes: the heartbeat in from the charger, out to the primary, mirrored out to the secondary.
    const heartbeat = ocpp16.heartbeat('hb-1').text;
    const legsOfHeartbeat = frameData
      .filter((message) => message.data.toString() === heartbeat)
      .map((message) => `${message.leg}:${message.direction}${message.secondary === undefined ? '' : `:${message.secondary}`}`);
    expect(legsOfHeartbeat).toEqual(['charger:in', 'primary:out', 'secondary:out:energy']);
    expect(frames).toContainEqual({
      chargerId: 'CP-DIAG',
      source: 'charger',
      type: 'call',
      action: 'Heartbeat',
      bytes: expect.any(Number) as number,
      actions: ['forward', 'mirror-call'],
    });
    expect(frames).toContainEqual({
      chargerId: 'CP-DIAG',
      source: 'primary',
      type: 'callresult',
      action: undefined,
      bytes: expect.any(Number) as number,
      actions: ['forward', 'learn-primary-answer'],
    });
    expect(frames).toContainEqual(expect.objectContaining({ source: 'secondary', secondary: 'energy', type: 'callresult', actions: ['ack-delivery'] }));
    expect(links.map((link) => link.state)).toEqual(expect.arrayContaining(['connecting', 'open']));
    expect(appended).toEqual([expect.objectContaining({ chargerId: 'CP-DIAG', secondary: 'energy', action: 'Heartbeat' })]);
    expect(acked).toEqual([expect.objectContaining({ chargerId: 'CP-DIAG', secondary: 'energy', seq: appended[0]?.seq })]);
    expect(commits.length).toBeGreaterThan(0);
    expect(commits[0]).toMatchObject({ engine: 'sqlite' });
    expect(leases).toEqual([expect.objectContaining({ chargerId: 'CP-DIAG' })]);
    expect(answered).toEqual([{ chargerId: 'CP-DIAG', action: 'Heartbeat', durationMs: expect.any(Number) as number }]);

    charger.socket.close(1000);
    await expect.poll(() => ended.length).toBe(1);
    await expect.poll(() => released.length).toBe(1);
  });

  it('a subscriber that throws never reaches the frame path', async () => {
    onCleanup(channels.frameRouted.subscribe(() => {
      throw new Error('observer bug');
    }));
    const primary = await startRawCsms({ answer: answers16(100) });
    const { url } = await startProxy(primary.url);
    const charger = await connectRawCharger(url('/CP-THROW'));
    await exchange(charger, ocpp16.heartbeat('still-served'));
  });
});
