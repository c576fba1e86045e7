/**
 * The write-behind queue of a store that commits in groups. Writes wait here until the next
 * commit: `commitIntervalMs` after the first write of a batch, or in the next turn for an urgent
 * one. A commit that fails as a whole keeps every write queued, is reported, and is retried with
 * jittered exponential backoff (short for a lock held elsewhere, longer for a failing disk).
 * Knows nothing of SQL: the store hands it `commit`, which runs one batch as one transaction.
 */
import type { StoreError } from '../errors.js';
import { backoffDelay } from '../links/backoff.js';

/** First retry of a commit refused for a lock (another connection is writing), doubling up to the maximum. */
export const BUSY_RETRY_INITIAL_MS = 10;
export const BUSY_RETRY_MAX_MS = 1_000;
/** First retry of a commit that failed otherwise (disk full, I/O error), doubling up to the maximum. */
const FAILURE_RETRY_INITIAL_MS = 100;
const FAILURE_RETRY_MAX_MS = 5_000;
/** How long `drain()` keeps retrying a commit refused for a lock before giving the writes up. */
const DRAIN_BUSY_WAIT_MS = 5_000;
/**
 * One commit takes at most this many writes and (about) this many bytes; the rest follow in the
 * next turn. Bounds how long one commit holds the event loop after a long outage.
 */
const MAX_WRITES_PER_COMMIT = 5_000;
const MAX_BYTES_PER_COMMIT = 4 * 1024 * 1024;

export interface QueuedWrite<C> {
  /** Bytes this write holds in memory until committed (what a store's budget counts). */
  readonly bytes: number;
  /** Runs inside the commit transaction; returns how to settle the caller's promise once the commit is done. */
  readonly apply: (context: C) => () => void;
  readonly reject: (error: Error) => void;
}

export interface CommitInfo {
  readonly durationMs: number;
  readonly writes: number;
}

export interface WriteQueueOptions<C> {
  readonly commitIntervalMs: number;
  /** Runs the batch as one transaction; returns the settlements in batch order; throws when the commit failed as a whole. */
  readonly commit: (batch: readonly QueuedWrite<C>[]) => Array<() => void>;
  /** A commit refused for a lock held elsewhere: retried sooner. */
  readonly isBusy: (cause: unknown) => boolean;
  /** The error reported for a failed commit; `next` says what happens to the writes. */
  readonly describeFailure: (writes: number, next: string, cause: unknown) => StoreError;
  readonly onWriteError: (error: StoreError, pendingWrites: number) => void;
  readonly onCommit: (info: CommitInfo) => void;
  /** What a `flush()` still waiting when `drain()` starts rejects with. */
  readonly closed: () => Error;
}

export class WriteQueue<C> {
  readonly #o: WriteQueueOptions<C>;
  #queue: Array<QueuedWrite<C>> = [];
  #pendingBytes = 0;
  /** Writes accepted / settled by a commit so far: `flush()` waits until the second reaches the first. */
  #accepted = 0;
  #settled = 0;
  #commitTimer: NodeJS.Timeout | undefined;
  #commitImmediate: NodeJS.Immediate | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Failed commits in a row, for the backoff. */
  #failures = 0;
  #healthy = true;
  #commitCount = 0;
  #draining = false;

  constructor(options: WriteQueueOptions<C>) {
    this.#o = options;
  }

  get pendingWrites(): number {
    return this.#queue.length;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** False after a failed commit until a commit succeeds again. */
  get healthy(): boolean {
    return this.#healthy;
  }

  get commitCount(): number {
    return this.#commitCount;
  }

  /** Queues a write; `urgent`: commit in the next turn rather than after `commitIntervalMs`. */
  push(write: QueuedWrite<C>, urgent: boolean): void {
    this.#queue.push(write);
    this.#pendingBytes += write.bytes;
    this.#accepted += 1;
    this.#schedule(urgent);
  }

  /** Commits every write accepted so far; rejects with the commit's StoreError when it fails (the writes stay queued). */
  async flush(): Promise<void> {
    const target = this.#accepted;
    while (this.#settled < target) {
      if (this.#draining) throw this.#o.closed();
      const error = this.#commit(true);
      if (error !== undefined) throw error;
      // More than one commit's worth: let the event loop breathe between them.
      if (this.#settled < target) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Stops scheduling, commits what it can (a lock is retried for up to {@link DRAIN_BUSY_WAIT_MS};
   * any other failure is reported and ends it), then rejects what is left with `lost(lastError)`.
   */
  async drain(lost: (cause: StoreError | undefined) => Error): Promise<void> {
    this.#draining = true;
    this.#clearTimers();
    const deadline = performance.now() + DRAIN_BUSY_WAIT_MS;
    let lastError: StoreError | undefined;
    let busyFailures = 0;
    while (this.#queue.length > 0) {
      lastError = this.#commit(false);
      if (lastError === undefined) continue;
      if (!this.#o.isBusy(lastError.cause) || performance.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(busyFailures, BUSY_RETRY_INITIAL_MS, BUSY_RETRY_MAX_MS)));
      busyFailures += 1;
    }
    const left = this.#queue;
    this.#queue = [];
    this.#pendingBytes = 0;
    for (const write of left) write.reject(lost(lastError));
    this.#clearTimers();
  }

  #schedule(urgent: boolean): void {
    // While a retry is due the store is failing: new writes wait for it rather than re-running
    // a failing batch (and reporting it) every few milliseconds.
    if (this.#draining || this.#retryTimer !== undefined || this.#commitImmediate !== undefined) return;
    if (urgent || this.#o.commitIntervalMs === 0) {
      clearTimeout(this.#commitTimer);
      this.#commitTimer = undefined;
      // Not unref'd (it runs in the next iteration, it cannot keep a process alive): on Node 20 a
      // timer set in a microtask right after an unref'd immediate ran never fired, so the next
      // write's commit hung (test: "commits a write made right after a lease operation").
      this.#commitImmediate = setImmediate(this.#onCommitDue);
    } else if (this.#commitTimer === undefined) {
      this.#commitTimer = setTimeout(this.#onCommitDue, this.#o.commitIntervalMs).unref();
    }
  }

  readonly #onCommitDue = (): void => {
    // A failure is reported through onWriteError and retried; never thrown into the event loop.
    this.#commit(true);
  };

  readonly #onRetryDue = (): void => {
    this.#retryTimer = undefined;
    this.#commit(true);
  };

  /** Commits the head of the queue; returns (after reporting it) the error of a failed commit. */
  #commit(retry: boolean): StoreError | undefined {
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    clearImmediate(this.#commitImmediate);
    this.#commitImmediate = undefined;
    const batch = this.#nextBatch();
    if (batch.length === 0) return undefined;

    const started = performance.now();
    let settlements: Array<() => void>;
    try {
      settlements = this.#o.commit(batch);
    } catch (cause) {
      return this.#failed(batch.length, cause, retry);
    }
    const durationMs = performance.now() - started;

    this.#queue.splice(0, batch.length);
    for (const write of batch) this.#pendingBytes -= write.bytes;
    this.#settled += batch.length;
    this.#commitCount += 1;
    this.#healthy = true;
    this.#failures = 0;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    for (const settle of settlements) settle();
    // More than one commit's worth was queued: the rest goes in the next turn.
    if (this.#queue.length > 0) this.#schedule(true);
    this.#o.onCommit({ durationMs, writes: batch.length });
    return undefined;
  }

  #nextBatch(): Array<QueuedWrite<C>> {
    let bytes = 0;
    let count = 0;
    for (const write of this.#queue) {
      if (count > 0 && (count >= MAX_WRITES_PER_COMMIT || bytes + write.bytes > MAX_BYTES_PER_COMMIT)) break;
      bytes += write.bytes;
      count += 1;
    }
    return this.#queue.slice(0, count);
  }

  #failed(writes: number, cause: unknown, retry: boolean): StoreError {
    this.#healthy = false;
    const delayMs = this.#o.isBusy(cause)
      ? backoffDelay(this.#failures, BUSY_RETRY_INITIAL_MS, BUSY_RETRY_MAX_MS)
      : backoffDelay(this.#failures, FAILURE_RETRY_INITIAL_MS, FAILURE_RETRY_MAX_MS);
    this.#failures += 1;
    // A failure while a retry is already due (an explicit flush) keeps that retry.
    const retrying = retry && !this.#draining && this.#retryTimer === undefined;
    if (retrying) this.#retryTimer = setTimeout(this.#onRetryDue, delayMs).unref();
    const error = this.#o.describeFailure(writes, retrying ? `kept, retrying in ${delayMs} ms` : 'kept', cause);
    this.#o.onWriteError(error, this.#queue.length);
    return error;
  }

  #clearTimers(): void {
    clearTimeout(this.#commitTimer);
    clearImmediate(this.#commitImmediate);
    clearTimeout(this.#retryTimer);
    this.#commitTimer = undefined;
    this.#commitImmediate = undefined;
    this.#retryTimer = undefined;
  }
}
