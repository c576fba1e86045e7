/**
 * The cluster primary's admin backend against fake workers: what it sums and what it takes from one worker,
 * how it keeps a stuck or vanished worker from holding a request, and what it tells a worker that starts later.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClusterBackend } from '../../src/admin/cluster-backend.js';
import type { StreamEvent } from '../../src/admin/event-stream.js';
import type { ChargerStatus, SecondaryJson, StatusJson } from '../../src/admin/status.js';
import type { AdminRequest, PrimaryToWorker } from '../../src/cluster/messages.js';
import type { WorkerPort } from '../../src/cluster/supervisor.js';
import { configSchema } from '../../src/config/schema.js';
import { captureLogs, type CapturedLogs } from '../support/harness.js';

const config = configSchema.parse({
  primary_csms_url: 'ws://127.0.0.1:1/ocpp',
  workers: 2,
  secondary_csms: [{ url: 'ws://127.0.0.1:2/ocpp', name: 'energy' }, { url: 'ws://user:secret@127.0.0.1:3/ocpp?token=x' }],
});
const ANONYMOUS = 'ws://127.0.0.1:3/ocpp';

/** What a fake worker answers: a value, or 'silent' (never answers), or a thrown error. */
type Answer = (request: AdminRequest) => unknown;
const SILENT = Symbol('silent');

interface FakeWorker {
  readonly port: WorkerPort;
  readonly sent: PrimaryToWorker[];
  connected: boolean;
}

function startBackend(answerTimeoutMs = 5_000): { backend: ClusterBackend; logs: CapturedLogs } {
  const logs = captureLogs('debug');
  return { backend: new ClusterBackend({ config, log: logs.logger, answerTimeoutMs }), logs };
}

/** A worker that has announced itself, answering each request on the next tick as `answer` says. */
function addWorker(backend: ClusterBackend, id: number, answer: Answer): FakeWorker {
  const worker: FakeWorker = {
    sent: [],
    connected: true,
    port: {
      id,
      send(message) {
        if (!worker.connected) return false;
        worker.sent.push(message);
        if (message.ocppSplitter !== 'admin-request') return true;
        const { requestId, request } = message;
        setImmediate(() => {
          let result: unknown;
          try {
            result = answer(request);
          } catch (error) {
            backend.received(worker.port, { ocppSplitter: 'admin-response', requestId, error: (error as Error).message });
            return;
          }
          if (result !== SILENT) backend.received(worker.port, { ocppSplitter: 'admin-response', requestId, result });
        });
        return true;
      },
    },
  };
  backend.received(worker.port, { ocppSplitter: 'admin-ready' });
  return worker;
}

function status(chargers: number, outbox: number, frames: number): StatusJson {
  return {
    version: 'test',
    uptime_s: 1,
    started_at: new Date(0).toISOString(),
    store: { engine: 'sqlite', backlog_read_at: null, backlog_error: null },
    config: { port: 9000 },
    counts: { chargers, pending_handshakes: 1, secondaries: 2, secondaries_paused: 0, links_connected: chargers, outbox_messages: outbox, outbox_bytes: outbox * 10 },
    frames_total: { charger: frames, primary: frames, secondary: 0 },
    handshakes: { accepted: chargers, invalid_id: 1 },
  };
}

function charger(id: string, connectedAt = '2024-01-01T00:00:00.000Z'): ChargerStatus {
  return { id, protocol: 'ocpp1.6', remote_address: null, connected_at: connectedAt, last_frame_at: null, primary: { state: 'open' }, secondaries: [] };
}

function secondary(name: string, delivered: number, errors: Array<{ at: string; message: string }>): SecondaryJson {
  const recent = errors.map((error) => ({ ...error, charger: 'CP' }));
  return {
    name,
    url: 'ws://x',
    paused: false,
    links_connected: 1,
    outbox_messages: 5,
    outbox_bytes: 50,
    oldest_age_s: 3,
    delivered_total: delivered,
    dropped_total: 1,
    last_error: recent.at(-1) ?? null,
    recent_errors: recent,
  };
}

function answering(answers: Partial<Record<AdminRequest['op'], unknown>>): Answer {
  return (request) => {
    if (!(request.op in answers)) throw new Error(`no answer for ${request.op}`);
    return answers[request.op];
  };
}

describe('ClusterBackend', () => {
  it('sums what each worker owns, and takes the shared store\'s backlog from one worker, not once per worker', async () => {
    const { backend } = startBackend();
    addWorker(backend, 1, answering({ status: status(2, 7, 10) }));
    addWorker(backend, 2, answering({ status: status(3, 7, 5) }));
    const merged = await backend.status();
    expect(merged.counts).toEqual({ chargers: 5, pending_handshakes: 2, secondaries: 2, secondaries_paused: 0, links_connected: 5, outbox_messages: 7, outbox_bytes: 70 });
    expect(merged.frames_total).toEqual({ charger: 15, primary: 15, secondary: 0 });
    expect(merged.handshakes).toEqual({ accepted: 5, invalid_id: 2 });
    expect(merged.store).toEqual({ engine: 'sqlite', backlog_read_at: null, backlog_error: null });
    expect(merged.config).toEqual({ port: 9000 });
    backend.close();
  });

  it('answers from its own configuration when no worker is there', async () => {
    const { backend } = startBackend();
    const merged = await backend.status();
    expect(merged.counts.chargers).toBe(0);
    expect(merged.frames_total).toEqual({ charger: 0, primary: 0, secondary: 0 });
    expect(merged.config).toMatchObject({ workers: 2, secondaries: [{ name: 'energy' }, { name: ANONYMOUS, url: ANONYMOUS }] });
    expect(await backend.chargers()).toEqual([]);
    expect((await backend.secondaries()).map((entry) => [entry.name, entry.paused, entry.links_connected])).toEqual([
      ['energy', false, 0],
      [ANONYMOUS, false, 0],
    ]);
    backend.close();
  });

  it('leaves out a worker that does not answer in time, says so, and does not hold the request', async () => {
    const { backend, logs } = startBackend(100);
    addWorker(backend, 1, answering({ status: status(2, 0, 0) }));
    addWorker(backend, 2, () => SILENT);
    const started = performance.now();
    const merged = await backend.status();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(merged.counts.chargers).toBe(2);
    expect(logs.lines.find((line) => line.msg === 'workers did not answer an admin request in time; their part is left out')).toMatchObject({
      level: 'warn',
      workers: [2],
      op: 'status',
    });
    backend.close();
  });

  it('does not wait for a worker that exits, nor ask one that cannot be reached', async () => {
    const { backend } = startBackend(60_000);
    addWorker(backend, 1, answering({ chargers: [charger('CP-1')] }));
    const stuck = addWorker(backend, 2, () => SILENT);
    const unreachable = addWorker(backend, 3, () => SILENT);
    unreachable.connected = false;
    const pending = backend.chargers();
    setImmediate(() => backend.workerGone(2));
    expect((await pending).map((entry) => entry.id)).toEqual(['CP-1']);
    expect(backend.workers).toEqual([1, 3]);
    expect(stuck.sent.filter((message) => message.ocppSplitter === 'admin-request')).toHaveLength(1);
    backend.close();
  });

  it('leaves out a worker that answers with an error or a shape it does not know', async () => {
    const { backend, logs } = startBackend();
    addWorker(backend, 1, answering({ chargers: [charger('CP-1')] }));
    addWorker(backend, 2, answering({}));
    addWorker(backend, 3, answering({ chargers: { not: 'a list' } }));
    expect((await backend.chargers()).map((entry) => entry.id)).toEqual(['CP-1']);
    expect(logs.lines.filter((line) => line.level === 'warn').map((line) => [line.worker, line.msg])).toEqual([
      [2, 'a worker could not answer an admin request; its part is left out'],
      [3, 'a worker answered an admin request with an unexpected shape; its part is left out'],
    ]);
    backend.close();
  });

  it('lists every worker\'s chargers sorted, the newer of a charger seen on two, and finds one charger wherever it is', async () => {
    const { backend } = startBackend();
    const detail = { ...charger('CP-B'), recent_frames: [] };
    addWorker(backend, 1, answering({ chargers: [charger('CP-C'), charger('CP-A', '2024-01-01T00:00:00.000Z')], charger: null, disconnect: false }));
    addWorker(backend, 2, answering({ chargers: [charger('CP-B'), charger('CP-A', '2024-01-02T00:00:00.000Z')], charger: detail, disconnect: true }));
    const list = await backend.chargers();
    expect(list.map((entry) => [entry.id, entry.connected_at.slice(0, 10)])).toEqual([
      ['CP-A', '2024-01-02'],
      ['CP-B', '2024-01-01'],
      ['CP-C', '2024-01-01'],
    ]);
    expect(await backend.charger('CP-B')).toEqual(detail);
    expect(await backend.disconnect('CP-B')).toBe(true);
    backend.close();
  });

  it('merges secondaries: sums per worker, backlog from one, errors in time order and bounded, paused as the primary knows it', async () => {
    const { backend } = startBackend();
    const at = (second: number): string => new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString();
    const early = Array.from({ length: 8 }, (_, i) => ({ at: at(i * 2), message: `w1-${i}` }));
    const late = Array.from({ length: 8 }, (_, i) => ({ at: at(i * 2 + 1), message: `w2-${i}` }));
    addWorker(backend, 1, answering({ secondaries: [secondary('energy', 3, early), secondary(ANONYMOUS, 1, [])], setPaused: true }));
    addWorker(backend, 2, answering({ secondaries: [secondary('energy', 4, late), secondary(ANONYMOUS, 1, [])], setPaused: true }));
    expect(await backend.setPaused('energy', true)).toBe(true);
    const [energy, anonymous] = await backend.secondaries();
    expect(energy).toMatchObject({ name: 'energy', paused: true, links_connected: 2, outbox_messages: 5, outbox_bytes: 50, oldest_age_s: 3, delivered_total: 7, dropped_total: 2 });
    expect(energy?.recent_errors.map((error) => error.message)).toEqual(['w1-3', 'w2-3', 'w1-4', 'w2-4', 'w1-5', 'w2-5', 'w1-6', 'w2-6', 'w1-7', 'w2-7']);
    expect(energy?.last_error?.message).toBe('w2-7');
    expect(anonymous).toMatchObject({ name: ANONYMOUS, url: ANONYMOUS, paused: false, last_error: null });
    backend.close();
  });

  it('pauses on every worker, remembers it, and tells a worker that starts later; refuses an unknown name', async () => {
    const { backend } = startBackend();
    const first = addWorker(backend, 1, answering({ setPaused: true, status: status(0, 0, 0) }));
    expect(await backend.setPaused('nope', true)).toBe(false);
    expect(first.sent).toEqual([]);
    expect(await backend.setPaused('energy', true)).toBe(true);
    expect(first.sent.map((message) => (message.ocppSplitter === 'admin-request' ? message.request : message))).toEqual([{ op: 'setPaused', name: 'energy', paused: true }]);
    expect((await backend.status()).counts.secondaries_paused).toBe(1);

    backend.workerGone(1);
    const replacement = addWorker(backend, 3, answering({}));
    expect(replacement.sent).toEqual([{ ocppSplitter: 'admin-paused', names: ['energy'] }]);
    expect(await backend.setPaused('energy', false)).toBe(true);
    const afterResume = addWorker(backend, 4, answering({}));
    expect(afterResume.sent).toEqual([]);
    backend.close();
  });

  it('streams live events from every worker, also one that starts later, until unsubscribed', () => {
    const { backend } = startBackend();
    const one = addWorker(backend, 1, answering({}));
    const received: StreamEvent[] = [];
    const unsubscribe = backend.live({ charger: 'CP-1' }, (event) => received.push(event));
    const two = addWorker(backend, 2, answering({}));
    for (const worker of [one, two]) expect(worker.sent).toEqual([{ ocppSplitter: 'admin-subscribe', subscriptionId: 1, filter: { charger: 'CP-1' } }]);
    const event = (worker: number): StreamEvent => ({ event: 'session', data: { charger: 'CP-1', worker } });
    backend.received(one.port, { ocppSplitter: 'admin-event', subscriptionId: 1, event: event(1) });
    backend.received(two.port, { ocppSplitter: 'admin-event', subscriptionId: 1, event: event(2) });
    backend.received(two.port, { ocppSplitter: 'admin-event', subscriptionId: 99, event: event(99) });
    expect(received).toEqual([event(1), event(2)]);
    unsubscribe();
    unsubscribe();
    for (const worker of [one, two]) expect(worker.sent.at(-1)).toEqual({ ocppSplitter: 'admin-unsubscribe', subscriptionId: 1 });
    for (const worker of [one, two]) expect(worker.sent).toHaveLength(2);
    backend.received(one.port, { ocppSplitter: 'admin-event', subscriptionId: 1, event: event(3) });
    expect(received).toHaveLength(2);
    backend.close();
  });

  it('merges the workers\' metrics by each metric\'s aggregator: counters sum, a store gauge is not doubled', async () => {
    const registries = [1, 2].map((worker) => {
      const registry = new Registry();
      new Counter({ name: 'frames_total', help: 'h', registers: [registry] }).inc(worker * 10);
      new Gauge({ name: 'outbox_messages', help: 'h', registers: [registry], aggregator: 'max' }).set(4);
      return registry;
    });
    const { backend } = startBackend();
    const [json1, json2] = await Promise.all(registries.map((registry) => registry.getMetricsAsJSON()));
    // Through JSON, as over IPC.
    addWorker(backend, 1, () => JSON.parse(JSON.stringify(json1)) as unknown);
    addWorker(backend, 2, () => JSON.parse(JSON.stringify(json2)) as unknown);
    const { body, contentType } = await backend.metrics();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toMatch(/^frames_total 30$/m);
    expect(body).toMatch(/^outbox_messages 4$/m);
    backend.close();
  });

  it('settles what is pending when closed', async () => {
    const { backend } = startBackend(60_000);
    addWorker(backend, 1, () => SILENT);
    const pending = backend.chargers();
    backend.close();
    expect(await pending).toEqual([]);
    backend.close();
  });
});
