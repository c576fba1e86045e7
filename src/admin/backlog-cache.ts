/**
 * The store's backlog, read at most once per `maxAgeMs` however many scrapes and API calls ask: the read
 * visits every stored outbox entry (see MirrorStore.backlog), so it is paid for per interval, not per request.
 */
import type { LabelledBacklog } from '../proxy.js';

export const BACKLOG_MAX_AGE_MS = 2_000;

export interface BacklogTotals {
  readonly messages: number;
  readonly bytes: number;
  /** Epoch ms of the oldest waiting entry; null when nothing waits. */
  readonly oldestEnqueuedAt: number | null;
}

export class BacklogCache {
  readonly #read: () => Promise<readonly LabelledBacklog[]>;
  readonly #maxAgeMs: number;
  #value: readonly LabelledBacklog[] = [];
  #readAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<readonly LabelledBacklog[]> | undefined;
  /** The last read's failure, for the status API; cleared by a read that succeeds. */
  lastError: Error | undefined;

  constructor(read: () => Promise<readonly LabelledBacklog[]>, maxAgeMs = BACKLOG_MAX_AGE_MS) {
    this.#read = read;
    this.#maxAgeMs = maxAgeMs;
  }

  /** The backlog, at most `maxAgeMs` old; after a failed read, the last one that succeeded. */
  get(): Promise<readonly LabelledBacklog[]> {
    if (performance.now() - this.#readAt < this.#maxAgeMs) return Promise.resolve(this.#value);
    this.#pending ??= this.#read()
      .then(
        (value) => {
          this.#value = value;
          this.lastError = undefined;
          return value;
        },
        (error: unknown) => {
          this.lastError = error instanceof Error ? error : new Error(String(error));
          return this.#value;
        },
      )
      .finally(() => {
        this.#readAt = performance.now();
        this.#pending = undefined;
      });
    return this.#pending;
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
