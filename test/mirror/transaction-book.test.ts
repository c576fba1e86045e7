/**
 * One secondary's transaction books, without sockets: ids per secondary (1.6), remote starts,
 * resent starts and stops (chargers resend both routinely), and restart from the store.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { decodeRemoteStart, encodeRemoteStart, TransactionBook } from '../../src/mirror/transaction-book.js';
import { MemoryMirrorStore } from '../../src/store/memory-store.js';
import type { MirrorStore, OutboxRecord } from '../../src/store/store.js';

const log = createLogger('silent');
const CHARGER = 'CP-T';

async function book(store: MirrorStore = new MemoryMirrorStore(), version: '1.6' | '2.0.1' = '1.6', idTagOverride?: string) {
  const grant = (await store.acquireLease(CHARGER, 'me', 60_000)) ?? (await store.acquireLease(CHARGER, 'me', 60_000));
  if (grant === undefined) throw new Error('no lease');
  return new TransactionBook({ chargerId: CHARGER, secondaryKey: 'name:s', version, store, fence: () => Promise.resolve(grant), idTagOverride, log });
}

function record(overrides: Partial<OutboxRecord>): OutboxRecord {
  return {
    seq: 1,
    bytes: 10,
    frame: '[2,"x","MeterValues",{}]',
    messageId: 'x',
    action: 'MeterValues',
    kind: 'call',
    priority: 'droppable',
    startRef: null,
    txRef: null,
    enqueuedAt: 0,
    ...overrides,
  };
}

describe('TransactionBook (1.6)', () => {
  it('maps the primary’s transactionId to this secondary’s for the transaction’s later messages', async () => {
    const b = await book();
    await b.bindStart('ref');
    await b.primaryAnswered('ref', '100');
    await b.secondaryAnswered('ref', '555');
    expect(await b.rewriteContext(record({ txRef: '100' }))).toMatchObject({ secondaryTxId: '555' });
  });

  it('a resent StartTransaction (same reference) keeps the ids already known', async () => {
    const b = await book();
    await b.bindStart('ref');
    await b.primaryAnswered('ref', '100');
    await b.secondaryAnswered('ref', '555');
    await b.bindStart('ref');
    expect(await b.rewriteContext(record({ txRef: '100' }))).toMatchObject({ secondaryTxId: '555' });
  });

  it('a resent StopTransaction after the first was answered still gets this secondary’s id (grace period)', async () => {
    const b = await book();
    await b.bindStart('ref');
    await b.primaryAnswered('ref', '100');
    await b.secondaryAnswered('ref', '555');
    await b.stopped('100');
    const stop = record({ action: 'StopTransaction', priority: 'transaction', txRef: '100' });
    expect(await b.rewriteContext(stop)).toMatchObject({ secondaryTxId: '555' });
  });

  it('survives a restart: a new book over the same store knows the links', async () => {
    const store = new MemoryMirrorStore();
    const first = await book(store);
    await first.bindStart('ref');
    await first.primaryAnswered('ref', '100');
    await first.secondaryAnswered('ref', '555');
    const second = await book(store);
    expect(await second.rewriteContext(record({ txRef: '100' }))).toMatchObject({ secondaryTxId: '555' });
  });

  it('gives a remote start’s idTag to the next start only, once', async () => {
    const b = await book();
    await b.saveRemoteStart({ version: '1.6', idTag: 'SECONDARY-TAG' });
    await b.bindStart('ref-1');
    await b.bindStart('ref-2');
    const start = (startRef: string) => record({ action: 'StartTransaction', priority: 'transaction', startRef });
    expect(await b.rewriteContext(start('ref-1'))).toMatchObject({ remoteStartIdTag: 'SECONDARY-TAG' });
    expect((await b.rewriteContext(start('ref-2')))?.remoteStartIdTag).toBeUndefined();
  });

  it('without any rule, the original bytes go (no context)', async () => {
    const b = await book();
    expect(await b.rewriteContext(record({ action: 'Heartbeat' }))).toBeUndefined();
  });

  it('charger_map id_tag applies to every message that carries one', async () => {
    const b = await book(new MemoryMirrorStore(), '1.6', 'MAPPED');
    expect(await b.rewriteContext(record({ action: 'Authorize' }))).toEqual({ idTagOverride: 'MAPPED' });
  });
});

describe('TransactionBook (2.x)', () => {
  it('keeps no link without a remote start: the charger’s transactionId is the same for everyone', async () => {
    const store = new MemoryMirrorStore();
    const b = await book(store, '2.0.1');
    await b.bindStart('tx-abc');
    expect(await store.findTransactionLinkByStartRef(CHARGER, 'name:s', 'tx-abc')).toBeUndefined();
  });

  it('binds a RequestStartTransaction’s idToken and remoteStartId to the transaction it started', async () => {
    const b = await book(new MemoryMirrorStore(), '2.0.1');
    const tag = decodeRemoteStart('2.0.1', JSON.stringify({ idToken: { idToken: 'T', type: 'Central' }, remoteStartId: 7 }));
    expect(tag).toEqual({ version: '2.x', idToken: { idToken: 'T', type: 'Central' }, remoteStartId: 7 });
    if (tag === undefined) return;
    await b.saveRemoteStart(tag);
    await b.bindStart('tx-1');
    const started = record({ action: 'TransactionEvent', priority: 'transaction', startRef: 'tx-1' });
    const context = await b.rewriteContext(started);
    expect(context?.remoteStartIdTag).toBe(encodeRemoteStart(tag));
  });

  it('decodeRemoteStart refuses what is not a valid 2.x remote start', () => {
    expect(decodeRemoteStart('2.0.1', 'not json')).toBeUndefined();
    expect(decodeRemoteStart('2.0.1', JSON.stringify({ idToken: { idToken: 'T', type: 'Central' } }))).toBeUndefined();
  });
});
