/**
 * What the admin listener serves, behind one interface: `LocalBackend` reads this process's proxy (one
 * process, or one worker answering the cluster primary), and the cluster primary's backend
 * (cluster-backend.ts) asks every worker and merges their answers. The HTTP side (server.ts) knows only this.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Proxy } from '../proxy.js';
import { BacklogCache } from './backlog-cache.js';
import { renderLiveEvent, type StreamEvent, type StreamFilter } from './event-stream.js';
import { ProxyMetrics } from './metrics.js';
import { ProxyObserver } from './observer.js';
import {
  chargerDetail,
  chargerList,
  secondaryList,
  statusDocument,
  type ChargerDetailJson,
  type ChargerStatus,
  type SecondaryJson,
  type StatusJson,
  type StatusSources,
} from './status.js';

export interface MetricsText {
  readonly contentType: string;
  readonly body: string;
}

export interface AdminBackend {
  status(): Promise<StatusJson>;
  chargers(): Promise<ChargerStatus[]>;
  /** Undefined when the charger is not connected. */
  charger(id: string): Promise<ChargerDetailJson | undefined>;
  secondaries(): Promise<SecondaryJson[]>;
  /** False when the charger is not connected. */
  disconnect(id: string): Promise<boolean>;
  /** False when no secondary has this name. */
  setPaused(name: string, paused: boolean): Promise<boolean>;
  metrics(): Promise<MetricsText>;
  /** Live events matching `filter` until the returned function is called. */
  live(filter: StreamFilter, listener: (event: StreamEvent) => void): () => void;
  close(): void;
}

export interface LocalBackendOptions {
  readonly proxy: Proxy;
  readonly config: Readonly<Config>;
  /** Subscribed before the proxy's first charger: made by the caller when it must exist early. */
  readonly observer?: ProxyObserver;
  /** Where a failing backlog read is said (at most once a minute). */
  readonly log?: Logger;
}

/** While the store's backlog cannot be read, one warning a minute. */
const BACKLOG_ERROR_REMINDER_MS = 60_000;

export class LocalBackend implements AdminBackend {
  readonly observer: ProxyObserver;
  readonly #proxy: Proxy;
  readonly #ownsObserver: boolean;
  readonly #metrics: ProxyMetrics;
  readonly #sources: StatusSources;

  constructor(options: LocalBackendOptions) {
    const { proxy, config } = options;
    this.#proxy = proxy;
    this.#ownsObserver = options.observer === undefined;
    this.observer = options.observer ?? new ProxyObserver({ perCharger: config.metrics_per_charger });
    let warnedAt = Number.NEGATIVE_INFINITY;
    const backlog = new BacklogCache(() => proxy.backlog(), {
      onError: (error) => {
        if (performance.now() - warnedAt < BACKLOG_ERROR_REMINDER_MS) return;
        warnedAt = performance.now();
        options.log?.warn({ err: error }, 'the store\'s backlog cannot be read: the status API and metrics show the last value read');
      },
    });
    this.#metrics = new ProxyMetrics({ proxy, observer: this.observer, backlog, perCharger: config.metrics_per_charger });
    this.#sources = { proxy, observer: this.observer, backlog, config };
  }

  /** The prom-client registry, for the cluster primary's aggregation. */
  get registry(): ProxyMetrics['registry'] {
    return this.#metrics.registry;
  }

  status(): Promise<StatusJson> {
    return statusDocument(this.#sources);
  }

  chargers(): Promise<ChargerStatus[]> {
    return chargerList(this.#sources);
  }

  charger(id: string): Promise<ChargerDetailJson | undefined> {
    return chargerDetail(this.#sources, id);
  }

  secondaries(): Promise<SecondaryJson[]> {
    return secondaryList(this.#sources);
  }

  disconnect(id: string): Promise<boolean> {
    return Promise.resolve(this.#proxy.disconnect(id));
  }

  setPaused(name: string, paused: boolean): Promise<boolean> {
    return Promise.resolve(this.#proxy.setSecondaryPaused(name, paused));
  }

  metrics(): Promise<MetricsText> {
    return this.#metrics.scrape();
  }

  live(filter: StreamFilter, listener: (event: StreamEvent) => void): () => void {
    return this.observer.onLive((event) => {
      const rendered = renderLiveEvent(event, filter);
      if (rendered !== undefined) listener(rendered);
    });
  }

  close(): void {
    this.#metrics.close();
    if (this.#ownsObserver) this.observer.close();
  }
}
