/**
 * The MirrorStore contract, as one suite every implementation runs (memory, SQLite, and any
 * engine added later): `describeStoreContract(name, open)`. Nothing here knows how a store
 * batches or where it keeps its data; time is a clock the suite moves, never a sleep.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, StoreError } from '../../src/errors.js';
import type {
  Fence,
  MirrorStore,
  NewOutboxRecord,
  OutboxLimits,
  OutboxRecord,
  PrunePolicy,
  RemoteStartTag,
  StreamKey,
  TransactionLink,
} from '../../src/store/store.js';

export interface StoreUnderTest {
  readonly store: MirrorStore;
  /** Removes what `open` made besides the store (files, databases); the suite closes the store itself. */
  readonly cleanup?: () => void | Promise<void>;
}

/** Opens a new, empty store that reads the time from `now` (epoch ms) for leases, activity and link times. */
export type OpenStore = (now: () => number) => Promise<StoreUnderTest>;

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const LEASE_TTL_MS = MINUTE;
const ROOMY: OutboxLimits = { maxMessages: 10_000, maxBytes: 10_000_000 };

const A: StreamKey = { chargerId: 'CP-1', secondaryKey: 'name:a' };
const B: StreamKey = { chargerId: 'CP-1', secondaryKey: 'name:b' };
const OTHER_CHARGER: StreamKey = { chargerId: 'CP-2', secondaryKey: 'name:a' };

const TAG_16: RemoteStartTag = { version: '1.6', idTag: 'REMOTE-1' };
const TAG_2X: RemoteStartTag = {
  version: '2.x',
  idToken: { idToken: 'ABC123', type: 'ISO14443', additionalInfo: [{ additionalIdToken: 'x', type: 'y' }] },
  remoteStartId: 42,
};

/** A charger message; `n` makes it unique. Frames of the same `pad` have the same size. */
function entry(n: number, overrides: Partial<NewOutboxRecord> & { pad?: number } = {}): NewOutboxRecord {
  const { pad = 0, ...rest } = overrides;
  const action = rest.action ?? 'MeterValues';
  return {
    frame: JSON.stringify([2, `m-${String(n).padStart(4, '0')}`, action, { connectorId: 1, data: 'x'.repeat(pad) }]),
    messageId: `m-${String(n).padStart(4, '0')}`,
    action,
    kind: 'call',
    priority: 'droppable',
    startRef: null,
    txRef: null,
    enqueuedAt: T0 + n,
    ...rest,
  };
}

function stored(record: NewOutboxRecord, seq: number): OutboxRecord {
  return { ...record, seq, bytes: Buffer.byteLength(record.frame) };
}

function link(startRef: string, overrides: Partial<TransactionLink> = {}): TransactionLink {
  return { startRef, primaryTxId: null, secondaryTxId: null, remoteStart: null, stoppedAt: null, ...overrides };
}

export async function expectStoreError(promise: Promise<unknown>, code: ErrorCode): Promise<StoreError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  if (!(error instanceof StoreError)) throw new Error('unreachable');
  expect(error.code).toBe(code);
  return error;
}

async function appendAll(store: MirrorStore, stream: StreamKey, records: NewOutboxRecord[], limits = ROOMY): Promise<number[]> {
  const results = await Promise.all(records.map((record) => store.append(stream, record, limits)));
  return results.map((result) => result.seq);
}

async function readAll(store: MirrorStore, stream: StreamKey): Promise<OutboxRecord[]> {
  return store.read(stream, 0, 100_000, Number.MAX_SAFE_INTEGER);
}

export function describeStoreContract(name: string, open: OpenStore): void {
  describe(`${name}: MirrorStore contract`, () => {
    let clock = T0;
    const opened: StoreUnderTest[] = [];

    beforeEach(() => {
      clock = T0;
    });

    afterEach(async () => {
      for (const subject of opened.splice(0)) {
        await subject.store.close();
        await subject.cleanup?.();
      }
    });

    async function openStore(): Promise<MirrorStore> {
      const subject = await open(() => clock);
      opened.push(subject);
      return subject.store;
    }

    function advance(ms: number): void {
      clock += ms;
    }

    /** Prune as of the clock's now. */
    function policy(overrides: Partial<PrunePolicy> = {}): PrunePolicy {
      return { now: clock, retentionMs: DAY, stoppedLinkGraceMs: HOUR, configuredSecondaries: ['name:a', 'name:b'], ...overrides };
    }

    async function lease(store: MirrorStore, chargerId = 'CP-1', owner = 'owner-1', ttlMs = LEASE_TTL_MS): Promise<Fence> {
      const grant = await store.acquireLease(chargerId, owner, ttlMs);
      if (grant === undefined) throw new Error(`lease of ${chargerId} not granted to ${owner}`);
      return grant;
    }

    describe('outbox', () => {
      it('assigns increasing seqs per stream and keeps every field, streams apart', async () => {
        const store = await openStore();
        const start = entry(1, {
          action: 'StartTransaction',
          priority: 'transaction',
          startRef: 'ref-1',
          frame: '[2,"m-0001","StartTransaction",{"idTag":"ÄBC-✓"}]',
        });
        const records = [start, entry(2, { txRef: 'tx-1', kind: 'send' }), entry(3)];
        const seqs = await appendAll(store, A, records);
        const [other] = await appendAll(store, B, [entry(4)]);
        expect(seqs[0]).toBeGreaterThan(0);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(new Set(seqs).size).toBe(3);

        const read = await readAll(store, A);
        expect(read).toEqual(records.map((record, i) => stored(record, seqs[i] ?? -1)));
        // bytes are UTF-8 bytes, not UTF-16 units.
        expect(read[0]?.bytes).toBe(Buffer.byteLength(start.frame));
        expect(read[0]?.bytes).toBeGreaterThan(start.frame.length);
        expect(await readAll(store, B)).toEqual([stored(entry(4), other ?? -1)]);
        expect(await readAll(store, OTHER_CHARGER)).toEqual([]);
      });

      it('settles appends in call order, with seqs in call order', async () => {
        const store = await openStore();
        const order: number[] = [];
        const appends = Array.from({ length: 50 }, (_, i) =>
          store.append(A, entry(i), ROOMY).then((result) => {
            order.push(i);
            return result.seq;
          }),
        );
        const seqs = await Promise.all(appends);
        expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
        for (let i = 1; i < seqs.length; i += 1) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? Infinity);
      });

      it('never reuses a seq, even after every entry was acked', async () => {
        const store = await openStore();
        const fence = await lease(store);
        const first = await appendAll(store, A, [entry(1), entry(2)]);
        for (const seq of first) await store.ack(A, seq, fence);
        expect(await store.stats(A)).toEqual({ messages: 0, bytes: 0, oldestEnqueuedAt: null });
        const [next] = await appendAll(store, A, [entry(3)]);
        expect(next).toBeGreaterThan(Math.max(...first));
      });

      it('reads pages after a seq, oldest first, at most `limit` entries', async () => {
        const store = await openStore();
        const seqs = await appendAll(store, A, [entry(1), entry(2), entry(3), entry(4), entry(5)]);
        const page1 = await store.read(A, 0, 2, Number.MAX_SAFE_INTEGER);
        expect(page1.map((r) => r.seq)).toEqual(seqs.slice(0, 2));
        const page2 = await store.read(A, page1.at(-1)?.seq ?? 0, 2, Number.MAX_SAFE_INTEGER);
        expect(page2.map((r) => r.seq)).toEqual(seqs.slice(2, 4));
        const page3 = await store.read(A, page2.at(-1)?.seq ?? 0, 2, Number.MAX_SAFE_INTEGER);
        expect(page3.map((r) => r.seq)).toEqual(seqs.slice(4));
        expect(await store.read(A, seqs[4] ?? 0, 2, Number.MAX_SAFE_INTEGER)).toEqual([]);
      });

      it('stops a page at maxBytes, but always returns the first entry', async () => {
        const store = await openStore();
        const records = [entry(1, { pad: 100 }), entry(2, { pad: 100 }), entry(3, { pad: 100 })];
        const size = Buffer.byteLength(records[0]?.frame ?? '');
        const seqs = await appendAll(store, A, records);
        expect((await store.read(A, 0, 10, 2 * size)).map((r) => r.seq)).toEqual(seqs.slice(0, 2));
        expect((await store.read(A, 0, 10, 2 * size - 1)).map((r) => r.seq)).toEqual(seqs.slice(0, 1));
        expect((await store.read(A, 0, 10, 1)).map((r) => r.seq)).toEqual(seqs.slice(0, 1));
        expect((await store.read(A, 0, 10, 0)).map((r) => r.seq)).toEqual(seqs.slice(0, 1));
      });

      it('ack removes one entry, is idempotent, and ignores a seq of another stream', async () => {
        const store = await openStore();
        const fence = await lease(store);
        const seqs = await appendAll(store, A, [entry(1), entry(2), entry(3)]);
        const [ofB] = await appendAll(store, B, [entry(4)]);
        await store.ack(A, seqs[1] ?? 0, fence);
        await store.ack(A, seqs[1] ?? 0, fence);
        await store.ack(A, 999_999, fence);
        await store.ack(A, ofB ?? 0, fence);
        expect((await readAll(store, A)).map((r) => r.seq)).toEqual([seqs[0], seqs[2]]);
        expect((await readAll(store, B)).map((r) => r.seq)).toEqual([ofB]);
        expect((await store.stats(A)).messages).toBe(2);
      });

      it('stats count messages, bytes and the oldest enqueuedAt', async () => {
        const store = await openStore();
        const fence = await lease(store);
        expect(await store.stats(A)).toEqual({ messages: 0, bytes: 0, oldestEnqueuedAt: null });
        const records = [entry(1, { pad: 10 }), entry(2, { pad: 200 }), entry(3)];
        const seqs = await appendAll(store, A, records);
        const bytes = records.map((record) => Buffer.byteLength(record.frame));
        expect(await store.stats(A)).toEqual({ messages: 3, bytes: bytes[0]! + bytes[1]! + bytes[2]!, oldestEnqueuedAt: T0 + 1 });
        await store.ack(A, seqs[0] ?? 0, fence);
        expect(await store.stats(A)).toEqual({ messages: 2, bytes: bytes[1]! + bytes[2]!, oldestEnqueuedAt: T0 + 2 });
        expect(await store.stats(B)).toEqual({ messages: 0, bytes: 0, oldestEnqueuedAt: null });
      });

      it('backlog lists every outbox that holds entries, with its stats, and no empty one', async () => {
        const store = await openStore();
        const fence = await lease(store);
        expect(await store.backlog()).toEqual([]);
        const a = [entry(1), entry(2, { pad: 50 })];
        const seqsA = await appendAll(store, A, a);
        await appendAll(store, B, [entry(3)]);
        await appendAll(store, OTHER_CHARGER, [entry(4), entry(5)]);
        await store.ack(B, (await readAll(store, B))[0]?.seq ?? 0, fence);
        await store.ack(A, seqsA[0] ?? 0, fence);
        const byStream = (await store.backlog()).sort((x, y) => `${x.chargerId}${x.secondaryKey}`.localeCompare(`${y.chargerId}${y.secondaryKey}`));
        expect(byStream).toEqual([
          { ...A, messages: 1, bytes: Buffer.byteLength(a[1]!.frame), oldestEnqueuedAt: T0 + 2 },
          { ...OTHER_CHARGER, messages: 2, bytes: Buffer.byteLength(entry(4).frame) + Buffer.byteLength(entry(5).frame), oldestEnqueuedAt: T0 + 4 },
        ]);
      });

      it('refuses bad arguments with a RangeError and stores nothing', async () => {
        const store = await openStore();
        await expect(store.append(A, entry(1), { maxMessages: 0, maxBytes: 100 })).rejects.toThrow(RangeError);
        await expect(store.append(A, entry(1), { maxMessages: 1, maxBytes: Number.NaN })).rejects.toThrow(RangeError);
        await expect(store.append(A, entry(1, { enqueuedAt: 1.5 }), ROOMY)).rejects.toThrow(RangeError);
        // An unknown priority or kind (a JavaScript caller) would make every later read of the stream fail.
        const unknownPriority: NewOutboxRecord = JSON.parse(JSON.stringify({ ...entry(1), priority: 'urgent' })) as NewOutboxRecord;
        await expect(store.append(A, unknownPriority, ROOMY)).rejects.toThrow(/priority/);
        const unknownKind: NewOutboxRecord = JSON.parse(JSON.stringify({ ...entry(1), kind: 'result' })) as NewOutboxRecord;
        await expect(store.append(A, unknownKind, ROOMY)).rejects.toThrow(/kind/);
        await expect(store.read(A, 0, 0, 100)).rejects.toThrow(RangeError);
        await expect(store.read(A, -1, 10, 100)).rejects.toThrow(RangeError);
        expect(await store.stats(A)).toEqual({ messages: 0, bytes: 0, oldestEnqueuedAt: null });
      });
    });

    describe('outbox limits', () => {
      it('drops the oldest droppable entry first, then the oldest of any priority', async () => {
        const store = await openStore();
        const limits: OutboxLimits = { maxMessages: 3, maxBytes: 1_000_000 };
        const t1 = entry(1, { action: 'StartTransaction', priority: 'transaction' });
        const d1 = entry(2);
        const t2 = entry(3, { action: 'StopTransaction', priority: 'transaction' });
        const [s1, s2, s3] = await appendAll(store, A, [t1, d1, t2], limits);

        const d2 = entry(4);
        const r4 = await store.append(A, d2, limits);
        expect(r4.dropped).toEqual([{ seq: s2, action: 'MeterValues', priority: 'droppable', bytes: Buffer.byteLength(d1.frame) }]);

        // The only droppable entry left is the one before; the new one is never its own victim.
        const t3 = entry(5, { action: 'StartTransaction', priority: 'transaction' });
        const r5 = await store.append(A, t3, limits);
        expect(r5.dropped.map((d) => d.seq)).toEqual([r4.seq]);

        // No droppable entry left: the oldest goes.
        const t4 = entry(6, { action: 'StopTransaction', priority: 'transaction' });
        const r6 = await store.append(A, t4, limits);
        expect(r6.dropped).toEqual([
          { seq: s1, action: 'StartTransaction', priority: 'transaction', bytes: Buffer.byteLength(t1.frame) },
        ]);
        expect((await readAll(store, A)).map((r) => r.seq)).toEqual([s3, r5.seq, r6.seq]);
        expect((await store.stats(A)).messages).toBe(3);
      });

      it('keeps the appended entry even when it is the only droppable one', async () => {
        const store = await openStore();
        const limits: OutboxLimits = { maxMessages: 2, maxBytes: 1_000_000 };
        const [s1, s2] = await appendAll(
          store,
          A,
          [entry(1, { priority: 'transaction' }), entry(2, { priority: 'transaction' })],
          limits,
        );
        const result = await store.append(A, entry(3), limits);
        expect(result.dropped.map((d) => d.seq)).toEqual([s1]);
        expect((await readAll(store, A)).map((r) => r.seq)).toEqual([s2, result.seq]);
      });

      it('drops as many entries as the byte limit needs, in drop order', async () => {
        const store = await openStore();
        const small = Buffer.byteLength(entry(0, { pad: 100 }).frame);
        const limits: OutboxLimits = { maxMessages: 100, maxBytes: 4 * small };
        const seqs = await appendAll(
          store,
          A,
          [entry(1, { pad: 100, priority: 'transaction' }), entry(2, { pad: 100 }), entry(3, { pad: 100, priority: 'transaction' }), entry(4, { pad: 100 })],
          limits,
        );
        expect((await store.stats(A)).bytes).toBe(4 * small);
        // Needs the room of three small entries: both droppable ones, then the oldest.
        const big = entry(5, { pad: 100 + small + 10 });
        const result = await store.append(A, big, limits);
        expect(result.dropped.map((d) => d.seq)).toEqual([seqs[1], seqs[3], seqs[0]]);
        expect((await readAll(store, A)).map((r) => r.seq)).toEqual([seqs[2], result.seq]);
        const stats = await store.stats(A);
        expect(stats).toEqual({ messages: 2, bytes: small + Buffer.byteLength(big.frame), oldestEnqueuedAt: T0 + 3 });
        expect(stats.bytes).toBeLessThanOrEqual(limits.maxBytes);
      });

      it('refuses an entry that alone exceeds maxBytes, leaving the stream as it was', async () => {
        const store = await openStore();
        const limits: OutboxLimits = { maxMessages: 10, maxBytes: 300 };
        const [s1] = await appendAll(store, A, [entry(1)], limits);
        const huge = entry(2, { pad: 400, action: 'DataTransfer' });
        const result = await store.append(A, huge, limits);
        expect(result).toEqual({
          seq: 0,
          dropped: [{ seq: 0, action: 'DataTransfer', priority: 'droppable', bytes: Buffer.byteLength(huge.frame) }],
        });
        expect((await readAll(store, A)).map((r) => r.seq)).toEqual([s1]);
        const [s3] = await appendAll(store, A, [entry(3)], limits);
        expect(s3).toBeGreaterThan(s1 ?? Infinity);
      });
    });

    describe('leases', () => {
      it('grants a free lease, refuses another owner meanwhile, and re-grants its owner a higher token', async () => {
        const store = await openStore();
        const first = await store.acquireLease('CP-1', 'owner-1', LEASE_TTL_MS);
        expect(first).toMatchObject({ chargerId: 'CP-1', owner: 'owner-1', expiresAt: T0 + LEASE_TTL_MS });
        expect(Number.isSafeInteger(first?.token)).toBe(true);
        expect(await store.acquireLease('CP-1', 'owner-2', LEASE_TTL_MS)).toBeUndefined();
        advance(1_000);
        const again = await store.acquireLease('CP-1', 'owner-1', LEASE_TTL_MS);
        expect(again?.token).toBeGreaterThan(first?.token ?? Infinity);
        expect(again?.expiresAt).toBe(T0 + 1_000 + LEASE_TTL_MS);
        // Leases are per charger.
        expect(await store.acquireLease('CP-2', 'owner-2', LEASE_TTL_MS)).toMatchObject({ chargerId: 'CP-2', owner: 'owner-2' });
      });

      it('says who holds a lease, and lets an owner known to be gone be replaced at once', async () => {
        const store = await openStore();
        expect(await store.leaseHolder('CP-1')).toBeUndefined();
        const dead = await lease(store, 'CP-1', 'owner-dead');
        expect(await store.leaseHolder('CP-1')).toEqual({ owner: 'owner-dead', expiresAt: T0 + LEASE_TTL_MS });
        // Replacing someone else than the holder changes nothing.
        expect(await store.acquireLease('CP-1', 'owner-2', LEASE_TTL_MS, 'owner-other')).toBeUndefined();
        const taken = await store.acquireLease('CP-1', 'owner-2', LEASE_TTL_MS, 'owner-dead');
        expect(taken).toMatchObject({ owner: 'owner-2' });
        expect(taken?.token).toBeGreaterThan(dead.token);
        // The replaced owner's writes are refused from now on.
        await expect(store.ack(A, 1, dead)).rejects.toMatchObject({ code: ErrorCode.LeaseLost });
        advance(LEASE_TTL_MS + 1);
        expect(await store.leaseHolder('CP-1')).toBeUndefined();
      });

      it('renews and releases; tokens keep rising across owners and releases', async () => {
        const store = await openStore();
        const first = await lease(store, 'CP-1', 'owner-1');
        advance(30_000);
        const renewed = await store.renewLease('CP-1', first, LEASE_TTL_MS);
        expect(renewed).toEqual({ chargerId: 'CP-1', owner: 'owner-1', token: first.token, expiresAt: T0 + 30_000 + LEASE_TTL_MS });
        await store.releaseLease('CP-1', first);
        expect(await store.renewLease('CP-1', first, LEASE_TTL_MS)).toBeUndefined();

        const second = await lease(store, 'CP-1', 'owner-2');
        expect(second.token).toBeGreaterThan(first.token);
        await store.releaseLease('CP-1', second);
        const third = await lease(store, 'CP-1', 'owner-1');
        expect(third.token).toBeGreaterThan(second.token);
      });

      it('lets another owner take an expired lease; the old fence then can neither renew nor write', async () => {
        const store = await openStore();
        const old = await lease(store, 'CP-1', 'owner-1');
        const [seq] = await appendAll(store, A, [entry(1)]);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-1'), old);
        await store.savePendingRemoteStart('CP-1', 'name:a', TAG_16, old);

        advance(LEASE_TTL_MS - 1);
        expect(await store.acquireLease('CP-1', 'owner-2', LEASE_TTL_MS)).toBeUndefined();
        advance(1);
        const taken = await lease(store, 'CP-1', 'owner-2');
        expect(taken.token).toBeGreaterThan(old.token);

        expect(await store.renewLease('CP-1', old, LEASE_TTL_MS)).toBeUndefined();
        await expectStoreError(store.ack(A, seq ?? 0, old), ErrorCode.LeaseLost);
        await expectStoreError(store.putTransactionLink('CP-1', 'name:a', link('ref-2'), old), ErrorCode.LeaseLost);
        await expectStoreError(store.setPrimaryTransactionId('CP-1', 'ref-1', '42', old), ErrorCode.LeaseLost);
        await expectStoreError(store.setSecondaryTransactionId('CP-1', 'name:a', 'ref-1', '7', old), ErrorCode.LeaseLost);
        await expectStoreError(store.markTransactionStopped('CP-1', 'name:a', 'ref-1', T0, old), ErrorCode.LeaseLost);
        await expectStoreError(store.savePendingRemoteStart('CP-1', 'name:a', TAG_2X, old), ErrorCode.LeaseLost);
        await expectStoreError(store.takePendingRemoteStart('CP-1', 'name:a', old), ErrorCode.LeaseLost);
        // The stale owner's release does not free the new owner's lease.
        await store.releaseLease('CP-1', old);
        expect(await store.acquireLease('CP-1', 'owner-3', LEASE_TTL_MS)).toBeUndefined();

        // Nothing changed.
        expect((await readAll(store, A)).map((r) => r.seq)).toEqual([seq]);
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toEqual(link('ref-1'));
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-2')).toBeUndefined();
        expect(await store.takePendingRemoteStart('CP-1', 'name:a', taken)).toEqual(TAG_16);
        // The new owner writes.
        await store.ack(A, seq ?? 0, taken);
        expect(await readAll(store, A)).toEqual([]);
      });

      it('refuses writes under an expired lease nobody took, and renews it (no one else wrote meanwhile)', async () => {
        const store = await openStore();
        const fence = await lease(store);
        const [seq] = await appendAll(store, A, [entry(1)]);
        advance(LEASE_TTL_MS);
        await expectStoreError(store.ack(A, seq ?? 0, fence), ErrorCode.LeaseLost);
        const renewed = await store.renewLease('CP-1', fence, LEASE_TTL_MS);
        expect(renewed).toMatchObject({ token: fence.token, expiresAt: T0 + 2 * LEASE_TTL_MS });
        await store.ack(A, seq ?? 0, fence);
        expect(await readAll(store, A)).toEqual([]);
      });

      it('refuses a fence with the right owner and a wrong token, or another owner', async () => {
        const store = await openStore();
        const fence = await lease(store);
        const [seq] = await appendAll(store, A, [entry(1)]);
        await expectStoreError(store.ack(A, seq ?? 0, { owner: fence.owner, token: fence.token - 1 }), ErrorCode.LeaseLost);
        await expectStoreError(store.ack(A, seq ?? 0, { owner: 'owner-2', token: fence.token }), ErrorCode.LeaseLost);
        expect(await store.renewLease('CP-1', { owner: fence.owner, token: fence.token + 1 }, LEASE_TTL_MS)).toBeUndefined();
        expect((await readAll(store, A)).map((r) => r.seq)).toEqual([seq]);
        await store.ack(A, seq ?? 0, fence);
        expect(await readAll(store, A)).toEqual([]);
      });

      it('a refused write does not fail the writes made with it', async () => {
        const store = await openStore();
        const fence = await lease(store);
        const seqs = await appendAll(store, A, [entry(1), entry(2)]);
        const outcomes = await Promise.allSettled([
          store.ack(A, seqs[0] ?? 0, { owner: 'intruder', token: fence.token }),
          store.append(A, entry(3), ROOMY),
          store.ack(A, seqs[1] ?? 0, fence),
          store.saveLastBoot('CP-1', 'boot'),
        ]);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
        const read = await readAll(store, A);
        expect(read.map((r) => r.messageId)).toEqual(['m-0001', 'm-0003']);
        expect(await store.loadLastBoot('CP-1')).toBe('boot');
      });
    });

    describe('transaction book', () => {
      it('creates links and finds them by startRef and by primary id, per secondary', async () => {
        const store = await openStore();
        const fence = await lease(store);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-1', { primaryTxId: '42', secondaryTxId: 'a-1', remoteStart: TAG_2X }), fence);
        await store.putTransactionLink('CP-1', 'name:b', link('ref-1', { primaryTxId: '42', secondaryTxId: 'b-1', remoteStart: TAG_16 }), fence);
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toEqual(
          link('ref-1', { primaryTxId: '42', secondaryTxId: 'a-1', remoteStart: TAG_2X }),
        );
        expect(await store.findTransactionLinkByPrimaryId('CP-1', 'name:b', '42')).toEqual(
          link('ref-1', { primaryTxId: '42', secondaryTxId: 'b-1', remoteStart: TAG_16 }),
        );
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:c', 'ref-1')).toBeUndefined();
        expect(await store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '43')).toBeUndefined();
        expect(await store.findTransactionLinkByPrimaryId('CP-2', 'name:a', '42')).toBeUndefined();
      });

      it('a resent start keeps the ids and remote start already known; new values replace them', async () => {
        const store = await openStore();
        const fence = await lease(store);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-1', { remoteStart: TAG_16 }), fence);
        await store.setPrimaryTransactionId('CP-1', 'ref-1', '42', fence);
        await store.setSecondaryTransactionId('CP-1', 'name:a', 'ref-1', '501', fence);
        await store.markTransactionStopped('CP-1', 'name:a', 'ref-1', T0 + 5, fence);
        const known = link('ref-1', { primaryTxId: '42', secondaryTxId: '501', remoteStart: TAG_16, stoppedAt: T0 + 5 });

        await store.putTransactionLink('CP-1', 'name:a', link('ref-1'), fence);
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toEqual(known);

        await store.putTransactionLink('CP-1', 'name:a', link('ref-1', { primaryTxId: '43', remoteStart: TAG_2X }), fence);
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toEqual({ ...known, primaryTxId: '43', remoteStart: TAG_2X });
      });

      it("setPrimaryTransactionId fills every secondary's link with that startRef, and only those", async () => {
        const store = await openStore();
        const fence = await lease(store);
        const other = await lease(store, 'CP-2');
        await store.putTransactionLink('CP-1', 'name:a', link('ref-1'), fence);
        await store.putTransactionLink('CP-1', 'name:b', link('ref-1', { secondaryTxId: '9' }), fence);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-2'), fence);
        await store.putTransactionLink('CP-2', 'name:a', link('ref-1'), other);
        await store.setPrimaryTransactionId('CP-1', 'ref-1', '42', fence);
        await store.setPrimaryTransactionId('CP-1', 'ref-unknown', '43', fence);

        expect((await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1'))?.primaryTxId).toBe('42');
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:b', 'ref-1')).toEqual(
          link('ref-1', { primaryTxId: '42', secondaryTxId: '9' }),
        );
        expect((await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-2'))?.primaryTxId).toBeNull();
        expect((await store.findTransactionLinkByStartRef('CP-2', 'name:a', 'ref-1'))?.primaryTxId).toBeNull();
        expect(await store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '43')).toBeUndefined();
      });

      it('setSecondaryTransactionId and markTransactionStopped change one link; unknown links stay unknown', async () => {
        const store = await openStore();
        const fence = await lease(store);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-1'), fence);
        await store.putTransactionLink('CP-1', 'name:b', link('ref-1'), fence);
        await store.setSecondaryTransactionId('CP-1', 'name:a', 'ref-1', '501', fence);
        await store.markTransactionStopped('CP-1', 'name:a', 'ref-1', T0 + 9, fence);
        await store.markTransactionStopped('CP-1', 'name:a', 'ref-9', T0 + 9, fence);
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toEqual(
          link('ref-1', { secondaryTxId: '501', stoppedAt: T0 + 9 }),
        );
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:b', 'ref-1')).toEqual(link('ref-1'));
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-9')).toBeUndefined();
      });

      it('finds the most recently updated link when a primary reuses a transaction id', async () => {
        const store = await openStore();
        const fence = await lease(store);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-1', { primaryTxId: '42', secondaryTxId: 'a-1' }), fence);
        advance(1_000);
        // A primary that restarted its counter hands out 42 again for a later transaction.
        await store.putTransactionLink('CP-1', 'name:a', link('ref-2', { primaryTxId: '42', secondaryTxId: 'a-2' }), fence);
        expect((await store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '42'))?.startRef).toBe('ref-2');
        advance(1_000);
        // An update of the older link makes it the most recent one.
        await store.setSecondaryTransactionId('CP-1', 'name:a', 'ref-1', 'a-1b', fence);
        expect((await store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '42'))?.startRef).toBe('ref-1');
      });
    });

    describe('remote starts', () => {
      it('keeps the latest remote start per (charger, secondary), typed, and hands it out once', async () => {
        const store = await openStore();
        const fence = await lease(store);
        const other = await lease(store, 'CP-2');
        expect(await store.takePendingRemoteStart('CP-1', 'name:a', fence)).toBeUndefined();
        await store.savePendingRemoteStart('CP-1', 'name:a', TAG_16, fence);
        await store.savePendingRemoteStart('CP-1', 'name:a', TAG_2X, fence);
        await store.savePendingRemoteStart('CP-1', 'name:b', TAG_16, fence);
        await store.savePendingRemoteStart('CP-2', 'name:a', TAG_16, other);
        expect(await store.takePendingRemoteStart('CP-1', 'name:a', fence)).toEqual(TAG_2X);
        expect(await store.takePendingRemoteStart('CP-1', 'name:a', fence)).toBeUndefined();
        expect(await store.takePendingRemoteStart('CP-1', 'name:b', fence)).toEqual(TAG_16);
        expect(await store.takePendingRemoteStart('CP-2', 'name:a', other)).toEqual(TAG_16);
      });

      it('a take made right after a save, without waiting, gets it', async () => {
        const store = await openStore();
        const fence = await lease(store);
        const saved = store.savePendingRemoteStart('CP-1', 'name:a', TAG_16, fence);
        const taken = store.takePendingRemoteStart('CP-1', 'name:a', fence);
        await saved;
        expect(await taken).toEqual(TAG_16);
      });
    });

    describe('boot replay', () => {
      it('keeps the last BootNotification per charger, the newest replacing the older', async () => {
        const store = await openStore();
        expect(await store.loadLastBoot('CP-1')).toBeUndefined();
        await store.saveLastBoot('CP-1', '[2,"1","BootNotification",{"chargePointVendor":"A"}]');
        await store.saveLastBoot('CP-1', '[2,"2","BootNotification",{"chargePointVendor":"B"}]');
        await store.saveLastBoot('CP-2', '[2,"9","BootNotification",{}]');
        expect(await store.loadLastBoot('CP-1')).toBe('[2,"2","BootNotification",{"chargePointVendor":"B"}]');
        expect(await store.loadLastBoot('CP-2')).toBe('[2,"9","BootNotification",{}]');
      });
    });

    describe('prune', () => {
      const NOTHING = { staleOutboxEntries: 0, orphanOutboxEntries: 0, transactionLinks: 0, remoteStarts: 0, lastBoots: 0 };

      /** A charger with a bit of everything, its lease released (so not protected). */
      async function populate(store: MirrorStore, chargerId: string, release = true): Promise<Fence> {
        const fence = await lease(store, chargerId);
        const a = { chargerId, secondaryKey: 'name:a' };
        const b = { chargerId, secondaryKey: 'name:b' };
        await appendAll(store, a, [entry(1), entry(2)]);
        await appendAll(store, b, [entry(3)]);
        await store.saveLastBoot(chargerId, `boot of ${chargerId}`);
        await store.putTransactionLink(chargerId, 'name:a', link('ref-1', { primaryTxId: '1' }), fence);
        await store.savePendingRemoteStart(chargerId, 'name:b', TAG_16, fence);
        if (release) await store.releaseLease(chargerId, fence);
        return fence;
      }

      it('reports nothing on an empty store', async () => {
        const store = await openStore();
        expect(await store.prune(policy())).toEqual(NOTHING);
      });

      it('forgets chargers not seen for the retention period, and only those', async () => {
        const store = await openStore();
        await populate(store, 'CP-OLD');
        advance(DAY + 1);
        await populate(store, 'CP-NEW');
        expect(await store.prune(policy())).toEqual({ staleOutboxEntries: 3, orphanOutboxEntries: 0, transactionLinks: 1, remoteStarts: 1, lastBoots: 1 });

        expect(await readAll(store, { chargerId: 'CP-OLD', secondaryKey: 'name:a' })).toEqual([]);
        expect(await store.stats({ chargerId: 'CP-OLD', secondaryKey: 'name:b' })).toEqual({ messages: 0, bytes: 0, oldestEnqueuedAt: null });
        expect(await store.loadLastBoot('CP-OLD')).toBeUndefined();
        expect(await store.findTransactionLinkByStartRef('CP-OLD', 'name:a', 'ref-1')).toBeUndefined();
        const back = await lease(store, 'CP-OLD');
        expect(await store.takePendingRemoteStart('CP-OLD', 'name:b', back)).toBeUndefined();

        expect(await readAll(store, { chargerId: 'CP-NEW', secondaryKey: 'name:a' })).toHaveLength(2);
        expect(await store.loadLastBoot('CP-NEW')).toBe('boot of CP-NEW');
        expect(await store.prune(policy())).toEqual(NOTHING);
      });

      it('counts an append or a boot as activity', async () => {
        const store = await openStore();
        await populate(store, 'CP-1');
        await populate(store, 'CP-2');
        advance(DAY);
        await store.saveLastBoot('CP-1', 'boot again');
        await appendAll(store, { chargerId: 'CP-2', secondaryKey: 'name:a' }, [entry(9)]);
        advance(1);
        expect((await store.prune(policy())).staleOutboxEntries).toBe(0);
        expect(await store.loadLastBoot('CP-1')).toBe('boot again');
      });

      it('keeps every entry of a charger whose lease is held, however old, but not its finished transactions', async () => {
        const store = await openStore();
        const fence = await populate(store, 'CP-1', false);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-done', { stoppedAt: T0 }), fence);
        advance(DAY + HOUR);
        const renewed = await store.renewLease('CP-1', fence, LEASE_TTL_MS);
        expect(renewed).toBeDefined();
        expect(await store.prune(policy({ configuredSecondaries: ['name:a'] }))).toEqual({ ...NOTHING, transactionLinks: 1 });
        expect(await readAll(store, A)).toHaveLength(2);
        expect(await readAll(store, B)).toHaveLength(1);
        expect(await store.loadLastBoot('CP-1')).toBe('boot of CP-1');
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toBeDefined();
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-done')).toBeUndefined();
        expect(await store.takePendingRemoteStart('CP-1', 'name:b', fence)).toEqual(TAG_16);

        // Once the lease has expired, it is an ordinary stale charger.
        advance(LEASE_TTL_MS);
        expect((await store.prune(policy())).staleOutboxEntries).toBe(3);
      });

      it('removes the outboxes of secondaries no longer configured', async () => {
        const store = await openStore();
        await populate(store, 'CP-1');
        const before = await readAll(store, B);
        expect(await store.prune(policy({ configuredSecondaries: ['name:a'] }))).toEqual({ ...NOTHING, orphanOutboxEntries: 1 });
        expect(await readAll(store, B)).toEqual([]);
        expect(await readAll(store, A)).toHaveLength(2);
        // The stream starts again without reusing a seq.
        const [seq] = await appendAll(store, B, [entry(10)]);
        expect(seq).toBeGreaterThan(before[0]?.seq ?? Infinity);
      });

      it('removes links stopped longer ago than the grace period, and links not updated for the retention period', async () => {
        const store = await openStore();
        const fence = await lease(store, 'CP-1', 'owner-1', 2 * DAY);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-idle'), fence);
        advance(DAY - HOUR);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-running'), fence);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-stopped-long-ago', { stoppedAt: clock - HOUR - 1 }), fence);
        await store.putTransactionLink('CP-1', 'name:a', link('ref-stopped-recently', { stoppedAt: clock }), fence);
        await store.releaseLease('CP-1', fence);
        advance(HOUR + 1);
        // At the prune: ref-idle was last updated DAY + 1 ago; the stops were 2 h + 2 ms and 1 h + 1 ms ago.
        const report = await store.prune(policy({ stoppedLinkGraceMs: 2 * HOUR }));
        expect(report).toEqual({ ...NOTHING, transactionLinks: 2 });
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-idle')).toBeUndefined();
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-stopped-long-ago')).toBeUndefined();
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-stopped-recently')).toBeDefined();
        expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-running')).toBeDefined();
      });

      it('removes remote starts older than the retention period', async () => {
        const store = await openStore();
        const fence = await lease(store, 'CP-1', 'owner-1', 2 * DAY);
        await store.savePendingRemoteStart('CP-1', 'name:a', TAG_16, fence);
        advance(HOUR);
        await store.savePendingRemoteStart('CP-1', 'name:b', TAG_2X, fence);
        await store.releaseLease('CP-1', fence);
        advance(DAY - HOUR + 1);
        expect(await store.prune(policy())).toEqual({ ...NOTHING, remoteStarts: 1 });
        const back = await lease(store);
        expect(await store.takePendingRemoteStart('CP-1', 'name:a', back)).toBeUndefined();
        expect(await store.takePendingRemoteStart('CP-1', 'name:b', back)).toEqual(TAG_2X);
      });
    });

    describe('close', () => {
      it('is idempotent, and every method rejects with StoreUnavailable afterwards', async () => {
        const store = await openStore();
        const fence = await lease(store);
        await store.flush();
        await store.close();
        await store.close();
        const calls: Array<() => Promise<unknown>> = [
          () => store.append(A, entry(1), ROOMY),
          () => store.read(A, 0, 10, 1_000),
          () => store.ack(A, 1, fence),
          () => store.stats(A),
          () => store.savePendingRemoteStart('CP-1', 'name:a', TAG_16, fence),
          () => store.takePendingRemoteStart('CP-1', 'name:a', fence),
          () => store.putTransactionLink('CP-1', 'name:a', link('r'), fence),
          () => store.setPrimaryTransactionId('CP-1', 'r', '1', fence),
          () => store.setSecondaryTransactionId('CP-1', 'name:a', 'r', '1', fence),
          () => store.markTransactionStopped('CP-1', 'name:a', 'r', T0, fence),
          () => store.findTransactionLinkByStartRef('CP-1', 'name:a', 'r'),
          () => store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '1'),
          () => store.saveLastBoot('CP-1', 'x'),
          () => store.loadLastBoot('CP-1'),
          () => store.acquireLease('CP-1', 'owner-1', LEASE_TTL_MS),
          () => store.renewLease('CP-1', fence, LEASE_TTL_MS),
          () => store.releaseLease('CP-1', fence),
          () => store.prune(policy()),
          () => store.flush(),
        ];
        for (const call of calls) {
          expect((await expectStoreError(call(), ErrorCode.StoreUnavailable)).message).toBe('store is closed');
        }
      });

      it('commits the writes made before close', async () => {
        const store = await openStore();
        const pending = store.append(A, entry(1), ROOMY);
        const closed = store.close();
        expect((await pending).seq).toBeGreaterThan(0);
        await closed;
      });
    });
  });
}

