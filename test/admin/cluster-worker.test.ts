/**
 * A worker's side of the cluster admin listener, over a fake IPC channel: it answers the primary from its
 * backend, applies the paused set, streams what the primary subscribed to, and drops (and counts) live events
 * rather than queue them without bound when the channel is backed up.
 */
import { describe, expect, it } from 'vitest';
import type { MetricsText } from '../../src/admin/backend.js';
import { MAX_EVENTS_IN_FLIGHT, serveAdminToPrimary, type PrimaryChannel, type WorkerBackend } from '../../src/admin/cluster-worker.js';
import type { StreamEvent, StreamFilter } from '../../src/admin/event-stream.js';
import type { StatusJson } from '../../src/admin/status.js';
import type { PrimaryToWorker, WorkerToPrimary } from '../../src/cluster/messages.js';
import { captureLogs } from '../support/harness.js';

interface FakeChannel extends PrimaryChannel {
  readonly sent: WorkerToPrimary[];
  /** Callbacks of sends not yet confirmed. */
  readonly unconfirmed: Array<(error: Error | null) => void>;
  /** What send() says about the channel's backlog. */
  writable: boolean;
  deliver(message: unknown): void;
}

function fakeChannel(): FakeChannel {
  const listeners = new Set<(message: unknown) => void>();
  const channel: FakeChannel = {
    sent: [],
    unconfirmed: [],
    writable: true,
    connected: true,
    send(message, done) {
      channel.sent.push(message);
      channel.unconfirmed.push(done);
      return channel.writable;
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    deliver(message) {
      for (const listener of listeners) listener(message);
    },
  };
  return channel;
}

interface FakeBackend extends WorkerBackend {
  readonly paused: Array<[string, boolean]>;
  readonly listeners: Map<StreamFilter, (event: StreamEvent) => void>;
  closed: boolean;
}

function fakeBackend(): FakeBackend {
  const backend: FakeBackend = {
    paused: [],
    listeners: new Map(),
    closed: false,
    registry: { getMetricsAsJSON: () => Promise.resolve([]) },
    status: () => Promise.resolve({ version: 'x' } as unknown as StatusJson),
    chargers: () => Promise.resolve([]),
    charger: () => Promise.resolve(undefined),
    secondaries: () => Promise.reject(new Error('store is locked')),
    disconnect: (id) => Promise.resolve(id === 'CP-1'),
    setPaused(name, paused) {
      backend.paused.push([name, paused]);
      return Promise.resolve(name === 'energy');
    },
    metrics: () => Promise.resolve<MetricsText>({ contentType: 'text/plain', body: '' }),
    live(filter, listener) {
      backend.listeners.set(filter, listener);
      return () => backend.listeners.delete(filter);
    },
    close() {
      backend.closed = true;
    },
  };
  return backend;
}

async function responseTo(channel: FakeChannel, requestId: number): Promise<WorkerToPrimary> {
  await expect.poll(() => channel.sent.find((message) => message.ocppSplitter === 'admin-response' && message.requestId === requestId), { timeout: 2_000 }).toBeDefined();
  return channel.sent.find((message) => message.ocppSplitter === 'admin-response' && message.requestId === requestId)!;
}

function request(requestId: number, body: Extract<PrimaryToWorker, { ocppSplitter: 'admin-request' }>['request']): PrimaryToWorker {
  return { ocppSplitter: 'admin-request', requestId, request: body };
}

const FRAME: StreamEvent = { event: 'frame', data: { charger: 'CP-1' } };

describe('serveAdminToPrimary', () => {
  it('announces itself and answers each request from its backend; "not there" is null, a failure is an error', async () => {
    const channel = fakeChannel();
    const backend = fakeBackend();
    const link = serveAdminToPrimary(backend, { log: captureLogs().logger, channel });
    expect(channel.sent).toEqual([{ ocppSplitter: 'admin-ready' }]);
    channel.deliver(request(1, { op: 'status' }));
    channel.deliver(request(2, { op: 'charger', id: 'CP-9' }));
    channel.deliver(request(3, { op: 'disconnect', id: 'CP-1' }));
    channel.deliver(request(4, { op: 'secondaries' }));
    channel.deliver(request(5, { op: 'metrics' }));
    expect(await responseTo(channel, 1)).toEqual({ ocppSplitter: 'admin-response', requestId: 1, result: { version: 'x' } });
    expect(await responseTo(channel, 2)).toEqual({ ocppSplitter: 'admin-response', requestId: 2, result: null });
    expect(await responseTo(channel, 3)).toEqual({ ocppSplitter: 'admin-response', requestId: 3, result: true });
    expect(await responseTo(channel, 4)).toEqual({ ocppSplitter: 'admin-response', requestId: 4, error: 'store is locked' });
    expect(await responseTo(channel, 5)).toEqual({ ocppSplitter: 'admin-response', requestId: 5, result: [] });
    link.close();
  });

  it('ignores what it does not know: other kinds, malformed requests, and everything once closed', async () => {
    const channel = fakeChannel();
    const backend = fakeBackend();
    const link = serveAdminToPrimary(backend, { log: captureLogs().logger, channel });
    channel.deliver({ ocppSplitter: 'admin-request', requestId: 1, request: { op: 'drop-tables' } });
    channel.deliver({ ocppSplitter: 'admin-request', requestId: '2', request: { op: 'status' } });
    channel.deliver({ ocppSplitter: 'admin-paused', names: [1] });
    channel.deliver({ ocppSplitter: 'admin-subscribe', subscriptionId: 1, filter: null });
    channel.deliver({ ocppSplitter: 'granted', requestId: 1 });
    channel.deliver('admin-request');
    link.close();
    expect(backend.closed).toBe(true);
    channel.deliver(request(3, { op: 'status' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(channel.sent).toEqual([{ ocppSplitter: 'admin-ready' }]);
    expect(backend.paused).toEqual([]);
    expect(backend.listeners.size).toBe(0);
  });

  it('pauses what the primary says is paused, and says when it cannot', async () => {
    const channel = fakeChannel();
    const backend = fakeBackend();
    const logs = captureLogs();
    const link = serveAdminToPrimary(backend, { log: logs.logger, channel });
    channel.deliver({ ocppSplitter: 'admin-paused', names: ['energy', 'gone'] });
    expect(backend.paused).toEqual([
      ['energy', true],
      ['gone', true],
    ]);
    expect(await logs.waitFor('could not pause a secondary as the cluster primary asked: unknown here, or the proxy is not listening yet')).toMatchObject({ secondary: 'gone' });
    link.close();
  });

  it('streams a subscription\'s events until unsubscribed, and ends every subscription when closed', () => {
    const channel = fakeChannel();
    const backend = fakeBackend();
    const link = serveAdminToPrimary(backend, { log: captureLogs().logger, channel });
    channel.deliver({ ocppSplitter: 'admin-subscribe', subscriptionId: 7, filter: { leg: 'primary' } });
    channel.deliver({ ocppSplitter: 'admin-subscribe', subscriptionId: 8, filter: {} });
    expect([...backend.listeners.keys()]).toEqual([{ leg: 'primary' }, {}]);
    for (const listener of backend.listeners.values()) listener(FRAME);
    expect(channel.sent.slice(1)).toEqual([
      { ocppSplitter: 'admin-event', subscriptionId: 7, event: FRAME },
      { ocppSplitter: 'admin-event', subscriptionId: 8, event: FRAME },
    ]);
    channel.deliver({ ocppSplitter: 'admin-unsubscribe', subscriptionId: 7 });
    expect([...backend.listeners.keys()]).toEqual([{}]);
    link.close();
    expect(backend.listeners.size).toBe(0);
  });

  it('drops and counts live events while the channel to the primary is backed up, and says how many once it drains', async () => {
    const channel = fakeChannel();
    const backend = fakeBackend();
    const logs = captureLogs();
    const link = serveAdminToPrimary(backend, { log: logs.logger, channel });
    channel.deliver({ ocppSplitter: 'admin-subscribe', subscriptionId: 1, filter: {} });
    const emit = [...backend.listeners.values()][0]!;
    channel.writable = false;
    emit(FRAME); // queued, but the channel says: no more
    emit(FRAME);
    emit(FRAME);
    expect(channel.sent.filter((message) => message.ocppSplitter === 'admin-event')).toHaveLength(1);
    expect(link.droppedEvents).toBe(2);
    channel.writable = true;
    for (const done of channel.unconfirmed.splice(0)) done(null);
    expect(await logs.waitFor('live events dropped: the channel to the cluster primary was backed up')).toMatchObject({ level: 'warn', dropped: 2 });
    emit(FRAME);
    expect(channel.sent.filter((message) => message.ocppSplitter === 'admin-event')).toHaveLength(2);

    // Unconfirmed writes are bounded too, even when every send says the channel is fine.
    for (let i = 0; i < MAX_EVENTS_IN_FLIGHT + 10; i += 1) emit(FRAME);
    expect(channel.sent.filter((message) => message.ocppSplitter === 'admin-event')).toHaveLength(1 + MAX_EVENTS_IN_FLIGHT);
    expect(link.droppedEvents).toBe(2 + 11);
    link.close();
  });
});
