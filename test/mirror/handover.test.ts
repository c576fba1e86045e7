/**
 * When a mirror's backlog changes hands — a session replaced while a CALL is in
 * flight, or a store that cannot be read when a charger connects — nothing is
 * lost and nothing already answered is sent again. Regressions from review.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_STORE_FILE_NAME } from '../../src/store/sqlite-store.js';
import { callResultFrame, closeAll, connectRawCharger, onCleanup, startProxy, startRawCsms } from '../support/harness.js';

afterEach(closeAll);

it('an answer that crosses the close of a replaced session still counts: the new session does not resend it', async () => {
  const primary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
  const secondary = await startRawCsms();
  const { url, logs } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
  const first = await connectRawCharger(url('/CP-HANDOVER'));
  const oldPeer = await secondary.nextPeer();
  first.socket.send('[2,"c1","Heartbeat",{}]');
  expect((await oldPeer.nextFrame()).data.toString()).toBe('[2,"c1","Heartbeat",{}]');

  // The old secondary connection stops reading, so it cannot see our close frame yet…
  oldPeer.socket.pause();
  const second = await connectRawCharger(url('/CP-HANDOVER'));
  await logs.waitFor('charge point id already connected: the older connection is replaced');
  // …and answers the in-flight CALL while the proxy is already closing that link.
  oldPeer.socket.send(callResultFrame('c1', {}));
  oldPeer.socket.resume();

  const newPeer = await secondary.nextPeer();
  second.socket.send('[2,"c2","Heartbeat",{}]');
  expect((await newPeer.nextFrame()).data.toString()).toBe('[2,"c2","Heartbeat",{}]');
});

it('a store that cannot be written when a charger connects delays its mirror, never disables it', async () => {
  const primary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
  const secondary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
  const { url, config, logs } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }], log_level: 'info' });

  // Another connection holding the database's write lock: the proxy's commits fail at once (no busy wait) and are retried.
  const lock = new Database(join(config.data_dir, DEFAULT_STORE_FILE_NAME));
  onCleanup(() => lock.close());
  lock.exec('BEGIN IMMEDIATE');
  const before = await connectRawCharger(url('/CP-BEFORE'));
  await secondary.nextPeer();
  before.socket.send('[2,"a1","Heartbeat",{}]');
  await logs.waitFor('store write failed; keeping the writes in memory and retrying');

  const charger = await connectRawCharger(url('/CP-STORE'));
  // Its lease cannot be taken while the store is locked: its mirror waits, its messages are kept.
  charger.socket.send('[2,"b1","Heartbeat",{}]');
  charger.socket.send('[2,"b2","Heartbeat",{}]');
  // The charger ↔ primary path does not wait for the store.
  expect((await charger.nextFrame()).data.toString()).toBe(callResultFrame('b1', {}));
  expect((await charger.nextFrame()).data.toString()).toBe(callResultFrame('b2', {}));
  lock.exec('ROLLBACK');

  const peer = await secondary.nextPeer();
  expect((await peer.nextFrame()).data.toString()).toBe('[2,"b1","Heartbeat",{}]');
  expect((await peer.nextFrame()).data.toString()).toBe('[2,"b2","Heartbeat",{}]');
  // Every retry failed while the lock was held; the log said so once, and says when it is over.
  expect(await logs.waitFor('store writes recovered')).toMatchObject({ level: 'info', failing_for_ms: expect.any(Number) as number });
  expect(logs.lines.filter((line) => line.msg === 'store write failed; keeping the writes in memory and retrying')).toHaveLength(1);
}, 60_000);

it('a charger that reconnects while the store is locked longer than the handover wait: everything arrives, in order (review)', async () => {
  const primary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
  const secondary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
  const { url, config } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
  const first = await connectRawCharger(url('/CP-LOCKED-HANDOVER'));
  first.socket.send('[2,"boot","BootNotification",{"chargePointVendor":"A","chargePointModel":"B"}]');
  await first.nextFrame();
  const firstLink = await secondary.nextPeer();
  await firstLink.nextFrame();

  const lock = new Database(join(config.data_dir, DEFAULT_STORE_FILE_NAME));
  onCleanup(() => lock.close());
  lock.exec('BEGIN IMMEDIATE');
  for (const id of ['X1', 'X2', 'X3']) {
    first.socket.send(`[2,"${id}","Heartbeat",{}]`);
    await first.nextFrame();
  }
  const second = await connectRawCharger(url('/CP-LOCKED-HANDOVER'));
  for (const id of ['Y1', 'Y2', 'Y3']) {
    second.socket.send(`[2,"${id}","Heartbeat",{}]`);
    await second.nextFrame();
  }
  // Longer than the 2 s the new session waits for the old one's sockets.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  lock.exec('ROLLBACK');

  const link = await secondary.nextPeer();
  const ids: string[] = [];
  for (let i = 0; i < 7; i += 1) ids.push(String((JSON.parse((await link.nextFrame()).data.toString()) as unknown[])[1]));
  // The replayed BootNotification (fresh id) first, then the old session's messages, then the new one's.
  expect(ids.slice(1)).toEqual(['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3']);
}, 30_000);

it('a proxy stops within its shutdown deadline (plus the store’s last 5 s for a lock) while the store stays locked (review)', async () => {
  const primary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
  const secondary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
  const { url, config, proxy } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }], shutdown_timeout_ms: 1_000 });
  const charger = await connectRawCharger(url('/CP-STOP-LOCKED'));
  await secondary.nextPeer();
  const lock = new Database(join(config.data_dir, DEFAULT_STORE_FILE_NAME));
  onCleanup(() => lock.close());
  lock.exec('BEGIN IMMEDIATE');
  charger.socket.send('[2,"z1","Heartbeat",{}]');
  await charger.nextFrame();
  const started = performance.now();
  await proxy.close();
  expect(performance.now() - started).toBeLessThan(9_000);
  expect(proxy.stats().chargers).toBe(0);
  lock.exec('ROLLBACK');
}, 30_000);
