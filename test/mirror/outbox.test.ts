/**
 * The outbox on its own (no sockets): order, paging, the memory budget, drops and
 * store failures, against the in-memory store and a store that fails on purpose.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, StoreError } from '../../src/errors.js';
import { createLogger } from '../../src/logging/logger.js';
import { MemoryBudget } from '../../src/mirror/memory-budget.js';
import { Outbox, PAGE_ENTRIES, type OutboxEvents } from '../../src/mirror/outbox.js';
import { MemoryMirrorStore } from '../../src/store/memory-store.js';
import type { Fence, MirrorStore, NewOutboxRecord } from '../../src/store/store.js';
import { withFaults } from '../support/store-faults.js';

const log = createLogger('silent');
const STREAM = { chargerId: 'CP-1', secondaryKey: 'name:s' };
const LIMITS = { maxMessages: 10_000, maxBytes: 16 * 1024 * 1024 };

function message(i: number, overrides: Partial<NewOutboxRecord> = {}): NewOutboxRecord {
  return {
    frame: `[2,"m-${i}","Heartbeat",{}]`,
    messageId: `m-${i}`,
    action: 'Heartbeat',
    kind: 'call',
    priority: 'droppable',
    startRef: null,
    txRef: null,
    enqueuedAt: 1_700_000_000_000 + i,
    ...overrides,
  };
}

interface Setup {
  store: MirrorStore;
  outbox: Outbox;
  budget: MemoryBudget;
  fence: Fence;
  dropped: { action: string; reason: string }[];
  available: { count: number };
}

async function setup(options: { store?: MirrorStore; budgetBytes?: number; limits?: typeof LIMITS } = {}): Promise<Setup> {
  const store = options.store ?? new MemoryMirrorStore();
  const grant = await store.acquireLease(STREAM.chargerId, 'me', 60_000);
  if (grant === undefined) throw new Error('no lease');
  const budget = new MemoryBudget(options.budgetBytes ?? 1024 * 1024);
  const dropped: Setup['dropped'] = [];
  const available = { count: 0 };
  const events: OutboxEvents = {
    onDropped: (entry, reason) => dropped.push({ action: entry.action, reason }),
    onAvailable: () => (available.count += 1),
  };
  const outbox = new Outbox({ stream: STREAM, store, limits: options.limits ?? LIMITS, budget, log, events });
  return { store, outbox, budget, fence: grant, dropped, available };
}

/** Reads every entry through head/ack, as delivery does. */
async function drain(outbox: Outbox, fence: Fence, max = 10_000): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < max; i += 1) {
    const head = await outbox.head();
    if (head === undefined) break;
    ids.push(head.messageId);
    await outbox.ack(head.seq, fence);
  }
  return ids;
}

describe('Outbox', () => {
  it('gives back what was appended, in order, each once', async () => {
    const { outbox, fence, available } = await setup();
    for (let i = 0; i < 5; i += 1) outbox.append(message(i));
    await outbox.settled();
    expect(available.count).toBe(5);
    expect(await drain(outbox, fence)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    expect(await outbox.head()).toBeUndefined();
  });

  it('delivers a backlog left by an earlier session (read in pages) before what is new', async () => {
    const store = new MemoryMirrorStore();
    const total = PAGE_ENTRIES * 3 + 5;
    for (let i = 0; i < total; i += 1) await store.append(STREAM, message(i), LIMITS);
    const { outbox, fence } = await setup({ store });
    outbox.append(message(total));
    await outbox.settled();
    const ids = await drain(outbox, fence);
    expect(ids).toEqual(Array.from({ length: total + 1 }, (_, i) => `m-${i}`));
  });

  it('keeps within the memory budget whatever the backlog: the rest stays in the store and is paged in', async () => {
    const frameBytes = Buffer.byteLength(message(0).frame);
    const { outbox, fence, budget } = await setup({ budgetBytes: frameBytes * 4 });
    let peak = 0;
    for (let i = 0; i < 100; i += 1) outbox.append(message(i));
    await outbox.settled();
    const ids: string[] = [];
    for (;;) {
      const head = await outbox.head();
      peak = Math.max(peak, budget.usedBytes);
      if (head === undefined) break;
      ids.push(head.messageId);
      await outbox.ack(head.seq, fence);
    }
    expect(ids).toHaveLength(100);
    expect(ids).toEqual([...ids].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2))));
    expect(peak).toBeLessThanOrEqual(budget.maxBytes);
    outbox.close();
    expect(budget.usedBytes).toBe(0);
  });

  it('reports entries the store dropped to stay within the limits, and never delivers them', async () => {
    const { outbox, fence, dropped } = await setup({ limits: { maxMessages: 2, maxBytes: LIMITS.maxBytes } });
    outbox.append(message(0, { action: 'StartTransaction', priority: 'transaction' }));
    outbox.append(message(1));
    outbox.append(message(2));
    await outbox.settled();
    expect(dropped).toEqual([{ action: 'Heartbeat', reason: 'queue-full' }]);
    expect(await drain(outbox, fence)).toEqual(['m-0', 'm-2']);
  });

  it('a store over its budget loses the message for this secondary: reported, never thrown', async () => {
    const store = new MemoryMirrorStore();
    const failing = withFaults(store, { append: () => Promise.reject(new StoreError(ErrorCode.StoreOverloaded, 'full')) });
    const { outbox, dropped } = await setup({ store: failing });
    outbox.append(message(0));
    await outbox.settled();
    expect(dropped).toEqual([{ action: 'Heartbeat', reason: 'store-overloaded' }]);
  });

  it('head() rejects while the store cannot be read, and works once it can', async () => {
    const store = new MemoryMirrorStore();
    await store.append(STREAM, message(0), LIMITS);
    let broken = true;
    const flaky = withFaults(store, {
      read: (...args: Parameters<MirrorStore['read']>) => (broken ? Promise.reject(new StoreError(ErrorCode.StoreUnavailable, 'locked')) : store.read(...args)),
    });
    const { outbox } = await setup({ store: flaky });
    await expect(outbox.head()).rejects.toMatchObject({ code: ErrorCode.StoreUnavailable });
    broken = false;
    expect((await outbox.head())?.messageId).toBe('m-0');
  });

  it('an ack with a stale fence is refused by the store (another owner took the charger)', async () => {
    const { outbox, store } = await setup();
    outbox.append(message(0));
    await outbox.settled();
    const head = await outbox.head();
    await expect(outbox.ack(head?.seq ?? 0, { owner: 'someone-else', token: 999 })).rejects.toMatchObject({ code: ErrorCode.LeaseLost });
    expect((await store.stats(STREAM)).messages).toBe(1);
  });

  it('gives back every byte of the memory budget when closed during a paged read (review)', async () => {
    const store = new MemoryMirrorStore();
    for (let i = 0; i < 5; i += 1) await store.append(STREAM, message(i), LIMITS);
    let releaseRead!: () => void;
    const readGate = new Promise<void>((resolve) => (releaseRead = resolve));
    const slow = withFaults(store, {
      read: async (...args: Parameters<MirrorStore['read']>) => {
        await readGate;
        return store.read(...args);
      },
    });
    const { outbox, budget } = await setup({ store: slow });
    const head = outbox.head();
    outbox.close();
    releaseRead();
    expect(await head).toBeUndefined();
    expect(budget.usedBytes).toBe(0);
  });
});
