/**
 * The store's backlog, read at most once per interval however many scrapes and API calls ask: the read visits
 * every stored outbox entry (see MirrorStore.backlog), so it is paid for per interval, not per request. The
 * interval grows with the read's cost (a slow read is not repeated back to back), and a read that takes too
 * long or fails leaves the last good value in place, marked stale, rather than stalling the scrape.
 */
import type { LabelledBacklog } from '../proxy.js';

export const BACKLOG_MAX_AGE_MS = 2_000;
/** A read slower than this answers with the last value; the read goes on and updates it when it is done. */
export const BACKLOG_WAIT_MS = 1_000;
/** The interval is at least this many times the last read's duration. */
const COST_FACTOR = 10;

export interface BacklogTotals {
  readonly messages: number;
  readonly bytes: number;
  /** Epoch ms of the oldest waiting entry; null when nothing waits. */
  readonly oldestEnqueuedAt: number | null;
}

export class BacklogCache {
  readonly #read: () => Promise<readonly LabelledBacklog[]>;
  readonly #maxAgeMs: number;
  readonly #waitMs: number;
  readonly #onError: (error: Error) => void;
  #value: readonly LabelledBacklog[] = [];
  /** performance.now() of the last read's end, and how long it took. */
  #readAt = Number.NEGATIVE_INFINITY;
  #lastDurationMs = 0;
  /** Epoch ms of the last read that succeeded; undefined before the first. */
  #goodAt: number | undefined;
  #pending: Promise<readonly LabelledBacklog[]> | undefined;
  /** The last read's failure; cleared by a read that succeeds. */
  #lastError: Error | undefined;

  constructor(
    read: () => Promise<readonly LabelledBacklog[]>,
    options: { readonly maxAgeMs?: number; readonly waitMs?: number; readonly onError?: (error: Error) => void } = {},
  ) {
    this.#read = read;
    this.#maxAgeMs = options.maxAgeMs ?? BACKLOG_MAX_AGE_MS;
    this.#waitMs = options.waitMs ?? BACKLOG_WAIT_MS;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** For the status API: when the value was read, and why the last read failed. */
  get health(): { readonly readAt: number | undefined; readonly error: string | undefined; readonly reading: boolean } {
    return { readAt: this.#goodAt, error: this.#lastError?.message, reading: this.#pending !== undefined };
  }

  /**
   * The backlog, read anew when the last read is older than the interval; the last good value (possibly
   * stale, see `health`) when the store fails, or does not answer within the wait.
   */
  get(): Promise<readonly LabelledBacklog[]> {
    const interval = Math.max(this.#maxAgeMs, COST_FACTOR * this.#lastDurationMs);
    if (this.#pending === undefined && performance.now() - this.#readAt < interval) return Promise.resolve(this.#value);
    this.#pending ??= this.#readNow();
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<readonly LabelledBacklog[]>((resolve) => {
      timer = setTimeout(() => resolve(this.#value), this.#waitMs).unref();
    });
    return Promise.race([this.#pending, waited]).finally(() => clearTimeout(timer));
  }

  #readNow(): Promise<readonly LabelledBacklog[]> {
    const started = performance.now();
    return this.#read()
      .then(
        (value) => {
          this.#value = value;
          this.#goodAt = Date.now();
          this.#lastError = undefined;
          return value;
        },
        (error: unknown) => {
          this.#lastError = error instanceof Error ? error : new Error(String(error));
          this.#onError(this.#lastError);
          return this.#value;
        },
      )
      .finally(() => {
        this.#readAt = performance.now();
        this.#lastDurationMs = this.#readAt - started;
        this.#pending = undefined;
      });
  }
}

/** Sums rows into totals per key. */
export function totalsBy(rows: readonly LabelledBacklog[], keyOf: (row: LabelledBacklog) => string): Map<string, BacklogTotals> {
  const totals = new Map<string, { messages: number; bytes: number; oldestEnqueuedAt: number | null }>();
  for (const row of rows) {
    const key = keyOf(row);
    const total = totals.get(key) ?? { messages: 0, bytes: 0, oldestEnqueuedAt: null };
    total.messages += row.messages;
    total.bytes += row.bytes;
    if (row.oldestEnqueuedAt !== null && (total.oldestEnqueuedAt === null || row.oldestEnqueuedAt < total.oldestEnqueuedAt)) {
      total.oldestEnqueuedAt = row.oldestEnqueuedAt;
    }
    totals.set(key, total);
  }
  return totals;
}

/** Seconds since `epochMs`, or null. */
export function ageSeconds(epochMs: number | null, now = Date.now()): number | null {
  return epochMs === null ? null : Math.max(0, Math.round((now - epochMs) / 1000));
}
