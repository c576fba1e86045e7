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
}, 60_000);
