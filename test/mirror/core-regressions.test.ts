/**
 * Regressions for the defects measured on the seed's core (core issue, "What was measured"), each
 * through a real proxy with raw peers. Each test failed on the code before the rework.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  answers16,
  callResultFrame,
  closeAll,
  connectRawCharger,
  exchange,
  freePort,
  ocpp16,
  queryStore,
  receivedTexts,
  startProxy,
  startRawCsms,
  startRawCsmsOnPort,
  type RawCsms,
  type RawPeer,
} from '../support/harness.js';

afterEach(closeAll);

const FAST_RECONNECT = { secondary_reconnect_delay_ms: 100, secondary_reconnect_max_delay_ms: 400 } as const;
const POLL = { timeout: 10_000, interval: 20 } as const;
const PRIMARY_TX = 100;
const SECONDARY_TX = 555;

const parse = (text: string): unknown[] => JSON.parse(text) as unknown[];

describe('bounded in bytes (defect 2)', () => {
  it('keeps at most secondary_queue_max_bytes per charger and secondary, dropping the oldest droppable first', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondaryPort = await freePort();
    const maxBytes = 64 * 1024;
    const { url, proxy, config, logs } = await startProxy(primary.url, {
      secondary_csms: [{ url: `ws://127.0.0.1:${secondaryPort}/ocpp` }],
      secondary_queue_max_bytes: maxBytes,
      ...FAST_RECONNECT,
    });
    const charger = await connectRawCharger(url('/CP-BYTES'));
    const start = ocpp16.startTransaction('big-start');
    await exchange(charger, start);
    // 20 DataTransfers of 10 KB each: 200 KB for a 64 KiB outbox.
    const bulky = Array.from({ length: 20 }, (_, i) => ({
      id: `dt-${i}`,
      text: JSON.stringify([2, `dt-${i}`, 'DataTransfer', { vendorId: 'acme', data: 'x'.repeat(10_000) }]),
    }));
    for (const call of bulky) {
      charger.socket.send(call.text);
      await charger.nextFrame();
    }
    const stored = () => queryStore(config.data_dir, 'SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS bytes FROM outbox')[0];
    await expect.poll(() => proxy.stats().mirror.mirrorDropped, POLL).toBeGreaterThanOrEqual(14);
    expect(Number(stored()?.bytes)).toBeLessThanOrEqual(maxBytes);
    const line = await logs.waitFor('secondary outbox full: oldest message dropped');
    expect(line).toMatchObject({ action: 'DataTransfer', priority: 'droppable', max_bytes: maxBytes });

    // When the secondary comes, the transaction start is still there, then the newest messages, in order.
    const secondary = await startRawCsmsOnPort(secondaryPort, { answer: answers16(SECONDARY_TX) });
    const kept = Number(stored()?.n);
    await expect.poll(() => receivedTexts(secondary).length, POLL).toBe(kept);
    const ids = receivedTexts(secondary).map((text) => parse(text)[1]);
    expect(ids[0]).toBe('big-start');
    expect(ids.slice(1)).toEqual(bulky.slice(bulky.length - (kept - 1)).map((call) => call.id));
  });
});

describe('transactions survive retries (defect 4)', () => {
  it('a resent StartTransaction (new id, same content) keeps one link; a resent StopTransaction still gets the secondary’s id', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondary = await startRawCsms({ answer: answers16(SECONDARY_TX) });
    const { url, config } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }], ...FAST_RECONNECT });
    const charger = await connectRawCharger(url('/CP-RESEND'));
    const start = ocpp16.startTransaction('start-1');
    const resentStart = { ...start, id: 'start-2', text: start.text.replace('"start-1"', '"start-2"') };
    await exchange(charger, start);
    await exchange(charger, resentStart);
    const stop = ocpp16.stopTransaction('stop-1', PRIMARY_TX);
    await exchange(charger, stop);
    // The charger did not get the stop's answer (say): it sends it again, same id, after the first was delivered.
    await expect.poll(() => receivedTexts(secondary).length, POLL).toBe(3);
    await exchange(charger, stop);
    await expect.poll(() => receivedTexts(secondary).length, POLL).toBe(4);
    const stops = receivedTexts(secondary).slice(2).map(parse);
    for (const received of stops) expect(received).toEqual([2, 'stop-1', 'StopTransaction', { ...stop.payload, transactionId: SECONDARY_TX }]);
    const links = queryStore(config.data_dir, 'SELECT secondary_tx_id, stopped_at IS NOT NULL AS stopped FROM transaction_links');
    expect(links).toEqual([{ secondary_tx_id: String(SECONDARY_TX), stopped: 1 }]);
  });
});

describe('frames no JSON round trip survives (defect 5)', () => {
  const deepPayload = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;

  it('a charger’s 10,000-level-deep answer to a secondary’s command reaches that secondary, never the primary', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondary = await startRawCsms({ answer: answers16(SECONDARY_TX) });
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
    const charger = await connectRawCharger(url('/CP-DEEP'));
    const primaryPeer = await primary.nextPeer();
    const link = await secondary.nextPeer();
    link.socket.send(JSON.stringify([2, 'get-1', 'GetConfiguration', {}]));
    const command = parse((await charger.nextFrame()).data.toString());
    expect(command[2]).toBe('GetConfiguration');
    charger.socket.send(`[3,"${String(command[1])}",${deepPayload}]`);
    const answer = await link.nextFrame();
    expect(answer.data.toString()).toBe(`[3,"get-1",${deepPayload}]`);
    // Nothing reached the primary but what the charger sent it (nothing here).
    await exchange(charger, ocpp16.heartbeat('after'));
    expect(primaryPeer.frames.map((frame) => parse(frame.data.toString())[1])).toEqual(['after']);
  });

  it('a secondary’s command 10,000 levels deep reaches the charger as sent (review: it crashed the process)', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondary = await startRawCsms({ answer: answers16(SECONDARY_TX) });
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
    const charger = await connectRawCharger(url('/CP-DEEPCMD'));
    const link = await secondary.nextPeer();
    const deepKey = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    link.socket.send(`[2,"get-deep","GetConfiguration",{"key":${deepKey}}]`);
    const command = (await charger.nextFrame()).data.toString();
    const proxyId = String(parse(command)[1]);
    expect(command).toBe(`[2,"${proxyId}","GetConfiguration",{"key":${deepKey}}]`);
    charger.socket.send(`[3,"${proxyId}",{"configurationKey":[]}]`);
    expect((await link.nextFrame()).data.toString()).toBe('[3,"get-deep",{"configurationKey":[]}]');
    await exchange(charger, ocpp16.heartbeat('alive'));
  });

  it('a 2.0.1 RequestStartTransaction with customData 10,000 levels deep is refused, not a crash (review)', async () => {
    const primary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, { currentTime: '2026-01-01T00:00:00Z' }) });
    const secondary = await startRawCsms();
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
    const charger = await connectRawCharger(url('/CP-DEEPSTART'), ['ocpp2.0.1']);
    const link = await secondary.nextPeer();
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    link.socket.send(`[2,"rs-1","RequestStartTransaction",{"remoteStartId":1,"idToken":{"idToken":"T","type":"Central","customData":{"vendorId":"v","x":${deep}}}}]`);
    const answer = parse((await link.nextFrame()).data.toString());
    expect(answer.slice(0, 3)).toEqual([4, 'rs-1', 'FormatViolation']);
    charger.socket.send('[2,"hb","Heartbeat",{}]');
    expect(parse((await charger.nextFrame()).data.toString())[1]).toBe('hb');
  });

  it('a deep 1.6 MeterValues that cannot be rewritten is skipped for that secondary, and never holds back the next CALL', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondary = await startRawCsms({ answer: answers16(SECONDARY_TX) });
    const { url, proxy } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }], ...FAST_RECONNECT });
    const charger = await connectRawCharger(url('/CP-DEEPMV'));
    await exchange(charger, ocpp16.startTransaction('s'));
    await expect.poll(() => receivedTexts(secondary).length, POLL).toBe(1);
    const deepMeter = `[2,"deep-mv","MeterValues",{"connectorId":1,"transactionId":${PRIMARY_TX},"meterValue":[],"x":${deepPayload}}]`;
    charger.socket.send(deepMeter);
    await charger.nextFrame();
    const next = ocpp16.heartbeat('next');
    await exchange(charger, next);
    await expect.poll(() => receivedTexts(secondary).map((text) => parse(text)[1]), POLL).toEqual(['s', 'next']);
    expect(proxy.stats().mirror.mirrorUnsendable).toBe(1);
  });
});

describe('no livelock (defect 6)', () => {
  it('a secondary that closes on every message is retried ever more slowly, and its backlog still moves', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const connects: number[] = [];
    const secondary: RawCsms = await startRawCsms();
    const watch = (): void => {
      void secondary.nextPeer().then((peer: RawPeer) => {
        connects.push(performance.now());
        peer.socket.on('message', () => peer.socket.terminate());
        watch();
      });
    };
    watch();
    const { url, proxy } = await startProxy(primary.url, {
      secondary_csms: [{ url: secondary.url }],
      secondary_reconnect_delay_ms: 100,
      secondary_reconnect_max_delay_ms: 800,
      secondary_max_attempts: 2,
    });
    const charger = await connectRawCharger(url('/CP-LIVELOCK'));
    await exchange(charger, ocpp16.boot('boot'));
    await exchange(charger, ocpp16.heartbeat('hb'));
    // The BootNotification is sent twice (closed on both), skipped; then every reconnect replays it first and
    // is closed on that replay, which counts against the Heartbeat: skipped after two such connections.
    await expect.poll(() => proxy.stats().mirror.mirrorSkipped, POLL).toBe(2);
    const waitedAtLeast = (from: number, to: number): number => (connects[to] ?? 0) - (connects[from] ?? 0);
    await expect.poll(() => connects.length, POLL).toBeGreaterThanOrEqual(5);
    // Delays grow (100, 200, 400, 800 ms ± 20 %): the backoff never reset although every connection succeeded.
    expect(waitedAtLeast(3, 4)).toBeGreaterThan(waitedAtLeast(0, 1) * 2);
  });
});

describe('backpressure toward a secondary (defect 7)', () => {
  it('a secondary that floods CALLs and never reads our answers stops being read', async () => {
    const primary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
    const secondary = await startRawCsms();
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
    const charger = await connectRawCharger(url('/CP-FLOOD'));
    const link = await secondary.nextPeer();
    link.socket.pause(); // never reads what the proxy answers
    const filler = 'x'.repeat(4_000);
    // Refused locally (Reset is the primary's): each CALL costs the proxy an answer it cannot deliver.
    for (let i = 0; i < 8_000; i += 1) link.socket.send(JSON.stringify([2, `r-${i}`, 'Reset', { type: 'Soft', filler }]));
    // The proxy stopped reading: what the secondary wrote piles up on its side of the connection.
    await expect.poll(() => link.socket.bufferedAmount, POLL).toBeGreaterThan(2 * 1024 * 1024);
    // And the charger ↔ primary path did not notice.
    await exchange(charger, ocpp16.heartbeat('still-fine'));
  });
});

describe('a malformed charger answer to a secondary’s command (review)', () => {
  it('goes to that secondary (as a CALLERROR it can read), never to the primary', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondary = await startRawCsms({ answer: answers16(SECONDARY_TX) });
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
    const charger = await connectRawCharger(url('/CP-MALFORMED'));
    const primaryPeer = await primary.nextPeer();
    const link = await secondary.nextPeer();
    link.socket.send(JSON.stringify([2, 'get-1', 'GetConfiguration', {}]));
    const proxyId = String(parse((await charger.nextFrame()).data.toString())[1]);
    charger.socket.send(`[3,"${proxyId}",null]`);
    const answer = parse((await link.nextFrame()).data.toString());
    expect(answer.slice(0, 2)).toEqual([4, 'get-1']);
    await exchange(charger, ocpp16.heartbeat('after'));
    expect(primaryPeer.frames.map((frame) => frame.data.toString())).toEqual([ocpp16.heartbeat('after').text]);
  });
});
