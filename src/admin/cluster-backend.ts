/**
 * The cluster primary's admin backend: the primary serves no charger, so every question goes over IPC to every
 * worker that announced itself (cluster-worker.ts), and the answers are merged into the view one process
 * would give. Bounded: a worker that does not answer within `answerTimeoutMs` is left out (and logged), so an
 * HTTP request never waits on a stuck worker.
 *
 * What is summed and what is not: chargers, links, frames and handshakes belong to one worker each and add up;
 * the outbox backlog is read from the store all workers share, so every worker reports the whole of it and it
 * is taken from one. Whether a secondary is paused is the primary's own record: it tells every worker,
 * including one that starts later.
 */
import { AggregatorRegistry, type Aggregator } from 'prom-client';
import type { AdminRequest, AdminWorkerMessage } from '../cluster/messages.js';
import type { WorkerAdminHandler, WorkerPort } from '../cluster/supervisor.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { secondaryLabel } from '../mirror/secondary-link.js';
import { redactUrl } from '../util/redact-url.js';
import { VERSION } from '../version.js';
import type { AdminBackend, MetricsText } from './backend.js';
import type { StreamEvent, StreamFilter } from './event-stream.js';
import { RECENT_ERRORS_PER_SECONDARY } from './observer.js';
import type { ChargerDetailJson, ChargerStatus, SecondaryErrorJson, SecondaryJson, StatusJson } from './status.js';

/** Milliseconds a worker has to answer one admin request before its part is left out. */
export const WORKER_ANSWER_TIMEOUT_MS = 5_000;

export interface ClusterBackendOptions {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly answerTimeoutMs?: number;
}

interface PendingRequest {
  readonly request: AdminRequest;
  /** Workers whose answer is awaited. */
  readonly waiting: Set<number>;
  answer(workerId: number, message: Extract<AdminWorkerMessage, { ocppSplitter: 'admin-response' }>): void;
  leave(workerId: number): void;
  finish(): void;
}

interface Subscription {
  readonly filter: StreamFilter;
  readonly listener: (event: StreamEvent) => void;
}

type Guard<T> = (value: unknown) => value is T;

export class ClusterBackend implements AdminBackend, WorkerAdminHandler {
  readonly #config: Readonly<Config>;
  readonly #log: Logger;
  readonly #answerTimeoutMs: number;
  readonly #startedAt = Date.now();
  /** The configured secondaries' labels, in config order: the names pause and resume accept. */
  readonly #labels: readonly string[];
  /** Workers that announced `admin-ready`, by id. */
  readonly #workers = new Map<number, WorkerPort>();
  readonly #pending = new Map<number, PendingRequest>();
  readonly #subscriptions = new Map<number, Subscription>();
  readonly #paused = new Set<string>();
  #nextRequestId = 1;
  #nextSubscriptionId = 1;
  #closed = false;

  constructor(options: ClusterBackendOptions) {
    this.#config = options.config;
    this.#log = options.log;
    this.#answerTimeoutMs = options.answerTimeoutMs ?? WORKER_ANSWER_TIMEOUT_MS;
    this.#labels = options.config.secondary_csms.map(secondaryLabel);
  }

  /** Ids of the workers that answer admin requests now. */
  get workers(): number[] {
    return [...this.#workers.keys()];
  }

  received(worker: WorkerPort, message: AdminWorkerMessage): void {
    if (this.#closed) return;
    switch (message.ocppSplitter) {
      case 'admin-ready':
        this.#workerReady(worker);
        return;
      case 'admin-response':
        this.#pending.get(message.requestId)?.answer(worker.id, message);
        return;
      case 'admin-event':
        // An event already in flight when its subscription ended is simply not delivered.
        this.#subscriptions.get(message.subscriptionId)?.listener(message.event);
        return;
    }
  }

  workerGone(workerId: number): void {
    this.#workers.delete(workerId);
    for (const pending of [...this.#pending.values()]) pending.leave(workerId);
  }

  async status(): Promise<StatusJson> {
    const answers = await this.#ask({ op: 'status' }, isStatusJson);
    const first = answers[0];
    const sum = (pick: (status: StatusJson) => number): number => answers.reduce((total, status) => total + pick(status), 0);
    return {
      version: VERSION,
      uptime_s: Math.round((Date.now() - this.#startedAt) / 1000),
      started_at: new Date(this.#startedAt).toISOString(),
      store: first?.store ?? null,
      config: first?.config ?? this.#configSection(),
      counts: {
        chargers: sum((status) => status.counts.chargers),
        pending_handshakes: sum((status) => status.counts.pending_handshakes),
        secondaries: this.#labels.length,
        secondaries_paused: this.#paused.size,
        links_connected: sum((status) => status.counts.links_connected),
        // The store is shared: each worker reports all of it.
        outbox_messages: first?.counts.outbox_messages ?? 0,
        outbox_bytes: first?.counts.outbox_bytes ?? 0,
      },
      frames_total: addRecords({ charger: 0, primary: 0, secondary: 0 }, answers.map((status) => status.frames_total)),
      handshakes: addRecords({}, answers.map((status) => status.handshakes)),
    };
  }

  async chargers(): Promise<ChargerStatus[]> {
    const answers = await this.#ask({ op: 'chargers' }, isChargerList);
    // A charger lives on one worker, but while a reconnection moves it to another both may list it: keep the newer.
    const byId = new Map<string, ChargerStatus>();
    for (const charger of answers.flat()) {
      const known = byId.get(charger.id);
      if (known === undefined || known.connected_at < charger.connected_at) byId.set(charger.id, charger);
    }
    return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  async charger(id: string): Promise<ChargerDetailJson | undefined> {
    const answers = await this.#ask({ op: 'charger', id }, isChargerDetailOrNull);
    return answers.find((detail): detail is ChargerDetailJson => detail !== null);
  }

  async secondaries(): Promise<SecondaryJson[]> {
    const answers = (await this.#ask({ op: 'secondaries' }, isSecondaryList)).flat();
    return this.#config.secondary_csms.map((secondary) => {
      const name = secondaryLabel(secondary);
      const views = answers.filter((view) => view.name === name);
      const first = views[0];
      const errors = views
        .flatMap((view) => view.recent_errors)
        .sort((a, b) => a.at.localeCompare(b.at))
        .slice(-RECENT_ERRORS_PER_SECONDARY);
      const sum = (pick: (view: SecondaryJson) => number): number => views.reduce((total, view) => total + pick(view), 0);
      return {
        name,
        url: redactUrl(secondary.url),
        paused: this.#paused.has(name),
        links_connected: sum((view) => view.links_connected),
        outbox_messages: first?.outbox_messages ?? 0,
        outbox_bytes: first?.outbox_bytes ?? 0,
        oldest_age_s: first?.oldest_age_s ?? null,
        delivered_total: sum((view) => view.delivered_total),
        dropped_total: sum((view) => view.dropped_total),
        last_error: errors.at(-1) ?? null,
        recent_errors: errors,
      };
    });
  }

  async disconnect(id: string): Promise<boolean> {
    const answers = await this.#ask({ op: 'disconnect', id }, isBoolean);
    return answers.includes(true);
  }

  async setPaused(name: string, paused: boolean): Promise<boolean> {
    if (!this.#labels.includes(name)) return false;
    // Kept here first: a worker that starts while the others are told is told when it announces itself.
    if (paused) this.#paused.add(name);
    else this.#paused.delete(name);
    await this.#ask({ op: 'setPaused', name, paused }, isBoolean);
    return true;
  }

  async metrics(): Promise<MetricsText> {
    const answers = await this.#ask({ op: 'metrics' }, isMetricsJson);
    // Each metric merges by its own `aggregator`: counters and histograms sum, the store's gauges take the max (metrics.ts).
    const merged = AggregatorRegistry.aggregate(answers);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  live(filter: StreamFilter, listener: (event: StreamEvent) => void): () => void {
    const subscriptionId = this.#nextSubscriptionId++;
    this.#subscriptions.set(subscriptionId, { filter, listener });
    for (const worker of this.#workers.values()) worker.send({ ocppSplitter: 'admin-subscribe', subscriptionId, filter });
    return () => {
      if (!this.#subscriptions.delete(subscriptionId)) return;
      for (const worker of this.#workers.values()) worker.send({ ocppSplitter: 'admin-unsubscribe', subscriptionId });
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const subscriptionId of this.#subscriptions.keys()) {
      for (const worker of this.#workers.values()) worker.send({ ocppSplitter: 'admin-unsubscribe', subscriptionId });
    }
    this.#subscriptions.clear();
    for (const pending of [...this.#pending.values()]) pending.finish();
    this.#workers.clear();
  }

  /** A worker (new, or a replacement after a crash) answers from now on: tell it what the operator chose. */
  #workerReady(worker: WorkerPort): void {
    this.#workers.set(worker.id, worker);
    if (this.#paused.size > 0) worker.send({ ocppSplitter: 'admin-paused', names: [...this.#paused] });
    for (const [subscriptionId, { filter }] of this.#subscriptions) worker.send({ ocppSplitter: 'admin-subscribe', subscriptionId, filter });
  }

  /**
   * Asks every worker; settles with the answers that came (in worker id order) once all have answered, or
   * left, or the timeout passed. An answer that is an error or not of the expected shape is left out.
   */
  #ask<T>(request: AdminRequest, guard: Guard<T>): Promise<T[]> {
    const workers = [...this.#workers.values()];
    if (this.#closed || workers.length === 0) return Promise.resolve([]);
    const log = this.#log;
    const requestId = this.#nextRequestId++;
    const waiting = new Set(workers.map((worker) => worker.id));
    const answers = new Map<number, T>();
    return new Promise((resolve) => {
      const pending: PendingRequest = {
        request,
        waiting,
        answer(workerId, message) {
          if (!waiting.has(workerId)) return;
          if (message.error !== undefined) {
            log.warn({ worker: workerId, op: request.op, error: message.error }, 'a worker could not answer an admin request; its part is left out');
          } else if (!guard(message.result)) {
            log.warn({ worker: workerId, op: request.op }, 'a worker answered an admin request with an unexpected shape; its part is left out');
          } else {
            answers.set(workerId, message.result);
          }
          pending.leave(workerId);
        },
        leave(workerId) {
          if (waiting.delete(workerId) && waiting.size === 0) pending.finish();
        },
        finish: () => {
          if (!this.#pending.delete(requestId)) return;
          clearTimeout(timer);
          resolve([...answers.entries()].sort(([a], [b]) => a - b).map(([, answer]) => answer));
        },
      };
      this.#pending.set(requestId, pending);
      // Created before any worker is asked, so finish() always finds it.
      const timer = setTimeout(() => {
        log.warn({ workers: [...waiting], op: request.op, timeout_ms: this.#answerTimeoutMs }, 'workers did not answer an admin request in time; their part is left out');
        pending.finish();
      }, this.#answerTimeoutMs);
      timer.unref();
      // Every worker is awaited before the first is asked: an answer may come back before the loop ends.
      for (const worker of workers) {
        if (!worker.send({ ocppSplitter: 'admin-request', requestId, request })) pending.leave(worker.id);
      }
    });
  }

  /** The status document's `config`, from the primary's own configuration: only when no worker answered. */
  #configSection(): Record<string, unknown> {
    const config = this.#config;
    return {
      port: config.port,
      host: config.host ?? null,
      primary_csms_url: redactUrl(config.primary_csms_url),
      secondaries: config.secondary_csms.map((secondary) => ({ name: secondaryLabel(secondary), url: redactUrl(secondary.url) })),
      workers: config.workers,
      admin_port: config.admin_port,
      log_level: config.log_level,
      data_dir: config.data_dir,
    };
  }
}

function addRecords(base: Record<string, number>, records: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const total = { ...base };
  for (const record of records) for (const [key, count] of Object.entries(record)) total[key] = (total[key] ?? 0) + count;
  return total;
}

// The guards check what the merge reads: the rest of an answer is our own LocalBackend's document, passed on.

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumberRecord(value: unknown): value is Record<string, number> {
  return isObject(value) && Object.values(value).every((count) => typeof count === 'number');
}

function isBoolean(value: unknown): value is boolean {
  return typeof value === 'boolean';
}

const STATUS_COUNTS = ['chargers', 'pending_handshakes', 'links_connected', 'outbox_messages', 'outbox_bytes'] as const;

function isStatusJson(value: unknown): value is StatusJson {
  if (!isObject(value) || !isObject(value.config) || !(value.store === null || isObject(value.store))) return false;
  const counts = value.counts;
  return isObject(counts) && STATUS_COUNTS.every((key) => typeof counts[key] === 'number') && isNumberRecord(value.frames_total) && isNumberRecord(value.handshakes);
}

function isChargerStatus(value: unknown): value is ChargerStatus {
  return isObject(value) && typeof value.id === 'string' && typeof value.connected_at === 'string';
}

function isChargerList(value: unknown): value is ChargerStatus[] {
  return Array.isArray(value) && value.every(isChargerStatus);
}

function isChargerDetailOrNull(value: unknown): value is ChargerDetailJson | null {
  return value === null || (isObject(value) && Array.isArray(value.recent_frames) && isChargerStatus(value));
}

function isSecondaryError(value: unknown): value is SecondaryErrorJson {
  return isObject(value) && typeof value.at === 'string' && typeof value.charger === 'string' && typeof value.message === 'string';
}

const SECONDARY_NUMBERS = ['links_connected', 'outbox_messages', 'outbox_bytes', 'delivered_total', 'dropped_total'] as const;

function isSecondaryJson(value: unknown): value is SecondaryJson {
  return (
    isObject(value) &&
    typeof value.name === 'string' &&
    SECONDARY_NUMBERS.every((key) => typeof value[key] === 'number') &&
    (value.oldest_age_s === null || typeof value.oldest_age_s === 'number') &&
    Array.isArray(value.recent_errors) &&
    value.recent_errors.every(isSecondaryError)
  );
}

function isSecondaryList(value: unknown): value is SecondaryJson[] {
  return Array.isArray(value) && value.every(isSecondaryJson);
}

const AGGREGATORS: ReadonlySet<unknown> = new Set<Aggregator>(['omit', 'sum', 'first', 'min', 'max', 'average']);

/** One worker's `registry.getMetricsAsJSON()`: AggregatorRegistry.aggregate throws on an unknown aggregator. */
function isMetricsJson(value: unknown): value is object[] {
  return (
    Array.isArray(value) &&
    value.every((metric) => isObject(metric) && typeof metric.name === 'string' && AGGREGATORS.has(metric.aggregator) && Array.isArray(metric.values))
  );
}
