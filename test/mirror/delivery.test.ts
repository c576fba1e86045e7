/**
 * Delivery on its own: a real WebSocket pair on loopback (the secondary's end is a
 * plain `ws` server socket the test drives), the in-memory store, no proxy.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ErrorCode, StoreError } from '../../src/errors.js';
import { Keepalive } from '../../src/links/keepalive.js';
import { Leg } from '../../src/links/leg.js';
import { createLogger } from '../../src/logging/logger.js';
import { Delivery } from '../../src/mirror/delivery.js';
import { MemoryBudget } from '../../src/mirror/memory-budget.js';
import { Outbox } from '../../src/mirror/outbox.js';
import { TransactionBook } from '../../src/mirror/transaction-book.js';
import { MemoryMirrorStore } from '../../src/store/memory-store.js';
import type { MirrorStore, NewOutboxRecord, OutboxRecord } from '../../src/store/store.js';
import { withFaults } from '../support/store-faults.js';

const log = createLogger('silent');
const CHARGER = 'CP-D';
const STREAM = { chargerId: CHARGER, secondaryKey: 'name:s' };
const LIMITS = { maxMessages: 1000, maxBytes: 1024 * 1024 };
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function call(id: string, action = 'Heartbeat', payload = '{}'): NewOutboxRecord {
  return { frame: `[2,"${id}","${action}",${payload}]`, messageId: id, action, kind: 'call', priority: 'droppable', startRef: null, txRef: null, enqueuedAt: Date.now() };
}

/** The secondary's end of one connection: every frame it receives, and a way to answer or drop. */
interface Peer {
  readonly socket: WebSocket;
  readonly frames: string[];
  next(): Promise<string>;
}

async function socketPair(): Promise<{ leg: Leg; peer: Peer; onClose: Promise<void>; setAnswerHandler: (h: (data: Buffer, isBinary: boolean) => void) => void }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  await once(client, 'open');
  const [serverSide] = await accepted;
  cleanups.push(() => client.terminate());
  const frames: string[] = [];
  const waiters: ((text: string) => void)[] = [];
  serverSide.on('message', (data: Buffer) => {
    const text = data.toString();
    frames.push(text);
    waiters.shift()?.(text);
  });
  let handler: (data: Buffer, isBinary: boolean) => void = () => undefined;
  let resolveClose!: () => void;
  const onClose = new Promise<void>((resolve) => (resolveClose = resolve));
  const leg = new Leg('secondary', client, {
    onFrame: (_leg, data, isBinary) => handler(data, isBinary),
    onClose: () => resolveClose(),
    onError: () => undefined,
  }, new Keepalive(0, 1));
  let seen = 0;
  const peer: Peer = {
    socket: serverSide,
    frames,
    next: () => {
      const index = seen++;
      const known = frames[index];
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
  return { leg, peer, onClose, setAnswerHandler: (h) => (handler = h) };
}

async function setup(options: { store?: MirrorStore; maxAttempts?: number; answerTimeoutMs?: number; version?: '1.6' | '2.0.1'; leaseValid?: () => boolean; onLost?: () => void; lease?: ConstructorParameters<typeof Delivery>[0]['lease'] } = {}) {
  const store = options.store ?? new MemoryMirrorStore();
  const owner = 'test';
  const grant = options.lease?.current() ?? (await store.acquireLease(CHARGER, owner, 60_000));
  if (grant === undefined) throw new Error('no lease');
  const fence = () => Promise.resolve(grant);
  const version = options.version ?? '1.6';
  const book = new TransactionBook({ chargerId: CHARGER, secondaryKey: STREAM.secondaryKey, version, store, fence, idTagOverride: undefined, log });
  const events = { givenUp: [] as { action: string; reason: string; attempts: number }[], delivered: [] as string[], leaseLost: 0, linkFailures: 0 };
  const wake = { delivery: undefined as Delivery | undefined };
  const outbox = new Outbox({
    stream: STREAM,
    store,
    limits: LIMITS,
    budget: new MemoryBudget(1024 * 1024),
    log,
    events: { onDropped: () => undefined, onAvailable: () => wake.delivery?.wake() },
  });
  const delivery = new Delivery({
    chargerId: CHARGER,
    version,
    store,
    outbox,
    book,
    lease: options.lease ?? { fence, valid: options.leaseValid ?? (() => true), current: () => grant, lost: options.onLost ?? (() => undefined) },
    timing: { answerTimeoutMs: options.answerTimeoutMs ?? 5_000, maxAttempts: options.maxAttempts ?? 3 },
    log,
    events: {
      onGivenUp: (record: OutboxRecord, reason, attempts) => events.givenUp.push({ action: record.action, reason, attempts }),
      onDelivered: (record) => events.delivered.push(record.messageId),
      onLeaseLost: () => (events.leaseLost += 1),
      onLinkFailure: () => (events.linkFailures += 1),
    },
  });
  wake.delivery = delivery;
  cleanups.push(() => delivery.close());
  /** Connects a fresh socket pair and attaches it; answers are routed back into the delivery. */
  const connect = async () => {
    const pair = await socketPair();
    pair.setAnswerHandler((data) => {
      const [type, id] = JSON.parse(data.toString()) as [number, string];
      delivery.answered(id, type as 3 | 4, data);
    });
    void pair.onClose.then(() => delivery.detach());
    delivery.attach(pair.leg);
    return pair;
  };
  return { store, outbox, delivery, events, connect, book };
}

const idOf = (text: string): string => (JSON.parse(text) as unknown[])[1] as string;
const answer = (peer: Peer, text: string, payload = '{}') => peer.socket.send(`[3,"${idOf(text)}",${payload}]`);

describe('Delivery', () => {
  it('sends one CALL at a time, in order, the next only after the answer', async () => {
    const { outbox, connect, events } = await setup();
    for (const id of ['a', 'b', 'c']) outbox.append(call(id));
    const { peer } = await connect();
    const first = await peer.next();
    expect(idOf(first)).toBe('a');
    // Nothing else while 'a' is unanswered.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(peer.frames).toHaveLength(1);
    answer(peer, first);
    answer(peer, await peer.next());
    answer(peer, await peer.next());
    await expect.poll(() => events.delivered).toEqual(['a', 'b', 'c']);
    expect(peer.frames.map(idOf)).toEqual(['a', 'b', 'c']);
  });

  it('replays the last BootNotification under a fresh id on every (re)connect, before the backlog', async () => {
    const { store, outbox, connect } = await setup();
    await store.saveLastBoot(CHARGER, '[2,"boot-1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]');
    outbox.append(call('a'));
    const { peer } = await connect();
    const replay = await peer.next();
    expect(JSON.parse(replay)).toEqual([2, expect.any(String), 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }]);
    expect(idOf(replay)).not.toBe('boot-1');
    answer(peer, replay);
    expect(idOf(await peer.next())).toBe('a');
  });

  it('resends an unanswered CALL with the same id, then skips it after maxAttempts sends and goes on', async () => {
    const { outbox, connect, events } = await setup({ answerTimeoutMs: 100, maxAttempts: 3 });
    outbox.append(call('lost'));
    outbox.append(call('next'));
    const { peer } = await connect();
    for (let i = 0; i < 3; i += 1) expect(idOf(await peer.next())).toBe('lost');
    const next = await peer.next();
    expect(idOf(next)).toBe('next');
    expect(events.givenUp).toEqual([{ action: 'Heartbeat', reason: 'max-attempts', attempts: 3 }]);
  });

  it('counts a connection lost on the replayed BootNotification as an attempt at the waiting entry (no livelock)', async () => {
    const { store, outbox, connect, events } = await setup({ maxAttempts: 2 });
    await store.saveLastBoot(CHARGER, '[2,"boot","BootNotification",{}]');
    outbox.append(call('blocked'));
    outbox.append(call('after'));
    // A secondary that closes on every message: the replay never gets through.
    for (let i = 0; i < 2; i += 1) {
      const { peer, onClose } = await connect();
      expect((JSON.parse(await peer.next()) as unknown[])[2]).toBe('BootNotification');
      peer.socket.terminate();
      await onClose;
    }
    expect(events.linkFailures).toBe(2);
    const { peer } = await connect();
    answer(peer, await peer.next()); // the replay, answered at last
    expect(idOf(await peer.next())).toBe('after');
    expect(events.givenUp).toEqual([{ action: 'Heartbeat', reason: 'max-attempts', attempts: 2 }]);
  });

  it('writes SENDs (2.1) without waiting for an answer; the CALL after them goes at once', async () => {
    const { outbox, connect, events } = await setup({ version: '2.0.1' });
    const send = (id: string): NewOutboxRecord => ({ ...call(id, 'NotifyPeriodicEventStream'), frame: `[6,"${id}","NotifyPeriodicEventStream",{}]`, kind: 'send' });
    outbox.append(send('s1'));
    outbox.append(send('s2'));
    outbox.append(call('c1'));
    const { peer } = await connect();
    expect([await peer.next(), await peer.next(), await peer.next()].map(idOf)).toEqual(['s1', 's2', 'c1']);
    await expect.poll(() => events.delivered).toEqual(['s1', 's2']);
  });

  it('skips, for this secondary only, an entry that cannot be rewritten, without holding back the next', async () => {
    const { outbox, connect, events, book } = await setup();
    // A 1.6 transaction whose MeterValues must be rewritten (this secondary's transactionId) but cannot be parsed.
    await book.bindStart('ref-1');
    await book.primaryAnswered('ref-1', '100');
    await book.secondaryAnswered('ref-1', '555');
    outbox.append({ ...call('broken', 'MeterValues', '{"transactionId":100,'), txRef: '100' });
    outbox.append(call('fine'));
    const { peer } = await connect();
    expect(idOf(await peer.next())).toBe('fine');
    expect(events.givenUp).toEqual([{ action: 'MeterValues', reason: 'unsendable', attempts: 0 }]);
  });

  it('rewrites a 1.6 MeterValues with this secondary’s own transactionId', async () => {
    const { outbox, connect, book } = await setup();
    await book.bindStart('ref-1');
    await book.primaryAnswered('ref-1', '100');
    await book.secondaryAnswered('ref-1', '555');
    outbox.append({ ...call('mv', 'MeterValues', '{"connectorId":1,"transactionId":100,"meterValue":[]}'), txRef: '100' });
    const { peer } = await connect();
    expect(JSON.parse(await peer.next())).toEqual([2, 'mv', 'MeterValues', { connectorId: 1, transactionId: 555, meterValue: [] }]);
  });

  it('stops delivering once its lease has expired, and for good when the store refuses its fence', async () => {
    const store = new MemoryMirrorStore();
    const stale = withFaults(store, { ack: () => Promise.reject(new StoreError(ErrorCode.LeaseLost, 'taken')) });
    let held = true;
    let lost = 0;
    const { outbox, connect, events } = await setup({ store: stale, leaseValid: () => held, onLost: () => (lost += 1) });
    outbox.append(call('a'));
    outbox.append(call('b'));
    const { peer } = await connect();
    const first = await peer.next();
    // The lease expires (renewal failed): by this process's clock it is no longer ours.
    held = false;
    answer(peer, first);
    await expect.poll(() => events.leaseLost).toBe(1);
    // The keeper is told, so that it asks for the lease again.
    expect(lost).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(peer.frames.map(idOf)).toEqual(['a']);
  });

  it('waits while the store cannot be read, then delivers everything in order', async () => {
    const store = new MemoryMirrorStore();
    let locked = true;
    const lockable = withFaults(store, {
      read: (...args: Parameters<MirrorStore['read']>) => (locked ? Promise.reject(new StoreError(ErrorCode.StoreUnavailable, 'locked')) : store.read(...args)),
    });
    const { outbox, connect } = await setup({ store: lockable });
    outbox.append(call('a'));
    const { peer } = await connect();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.frames).toEqual([]);
    locked = false;
    expect(idOf(await peer.next())).toBe('a');
  });

  it('goes on after a store read that fails once while preparing a rewrite (review: it stalled until the next append)', async () => {
    const base = new MemoryMirrorStore();
    let failNext = true;
    const store = withFaults(base, {
      findTransactionLinkByStartRef: (...args: Parameters<MirrorStore['findTransactionLinkByStartRef']>) => {
        if (!failNext) return base.findTransactionLinkByStartRef(...args);
        failNext = false;
        return Promise.reject(new StoreError(ErrorCode.StoreUnavailable, 'disk I/O error (once)'));
      },
    });
    const { outbox, connect } = await setup({ store });
    outbox.append({ ...call('start-1', 'StartTransaction', '{"connectorId":1,"idTag":"T","meterStart":0,"timestamp":"2026-01-01T00:00:00Z"}'), priority: 'transaction', startRef: 'ref-1' });
    const { peer } = await connect();
    expect(idOf(await peer.next())).toBe('start-1');
    expect(failNext).toBe(false);
  });

  it('after its lease is lost and taken again while idle, acknowledges with the new lease and goes on (review)', async () => {
    const store = new MemoryMirrorStore();
    const first = await store.acquireLease(CHARGER, 'me', 60_000);
    if (first === undefined) throw new Error('no lease');
    let current = first;
    const lease = { fence: () => Promise.resolve(current), valid: () => true, current: () => current, lost: () => undefined };
    const { outbox, connect, events } = await setup({ store, lease });
    outbox.append(call('a'));
    const { peer } = await connect();
    answer(peer, await peer.next());
    await expect.poll(() => events.delivered).toEqual(['a']);
    // Lost and taken again (a new token) while nothing was being sent.
    const again = await store.acquireLease(CHARGER, 'me', 60_000);
    if (again === undefined) throw new Error('no lease');
    current = again;
    outbox.append(call('b'));
    answer(peer, await peer.next());
    outbox.append(call('c'));
    expect(idOf(await peer.next())).toBe('c');
    expect(events.leaseLost).toBe(0);
    await expect.poll(async () => (await store.stats(STREAM)).messages).toBe(1);
  });
});
