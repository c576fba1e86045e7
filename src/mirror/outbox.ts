/**
 * One (charger, secondary) outbox as its delivery sees it: appends go to the store
 * (which assigns the order and enforces the limits in the same commit), and the
 * entries to deliver come back in order — from a small in-memory window while the
 * outbox keeps up, from the store in pages when it does not (a long outage, a
 * restart, more than the memory budget). Never the whole backlog in memory.
 *
 * Invariant: `#window` is always a contiguous run of the stream's stored entries
 * right after `#cursor`; when `#complete`, it is all of them.
 */
import type { Logger } from '../logging/logger.js';
import { ErrorCode, StoreError } from '../errors.js';
import type { DropReason } from '../diagnostics/channels.js';
import type { DroppedRecord, Fence, MirrorStore, NewOutboxRecord, OutboxLimits, OutboxRecord, StreamKey } from '../store/store.js';
import type { MemoryBudget } from './memory-budget.js';

/** Entries per store read, and the bytes a read may bring at most (one entry more when it alone is larger). */
export const PAGE_ENTRIES = 64;
export const PAGE_BYTES = 1024 * 1024;
/** Reads in one `head()` before giving up for this turn (a store that keeps changing under us). */
const MAX_READS_PER_HEAD = 8;

export interface OutboxEvents {
  /** An entry was dropped (full outbox) or lost (store overloaded or failing). */
  onDropped(entry: Pick<DroppedRecord, 'action' | 'priority' | 'bytes'> & { seq: number }, reason: DropReason): void;
  /** A new entry is committed: a delivery waiting for one may go on. */
  onAvailable(): void;
  /** An entry was committed (for observers; the window may or may not hold it). */
  onAppended?(record: OutboxRecord): void;
}

export interface OutboxOptions {
  readonly stream: StreamKey;
  readonly store: MirrorStore;
  readonly limits: OutboxLimits;
  readonly budget: MemoryBudget;
  readonly log: Logger;
  readonly events: OutboxEvents;
}

export class Outbox {
  readonly #o: OutboxOptions;
  /** The last entry delivered or given up by this outbox (0 = from the start of the stream). */
  #cursor = 0;
  readonly #window: OutboxRecord[] = [];
  #windowBytes = 0;
  #complete = false;
  /** Appends of this outbox that resolved: a read that overlapped one cannot prove the stream empty. */
  #appendsResolved = 0;
  #pendingWrites = 0;
  #settledWaiters: (() => void)[] = [];
  #closed = false;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  /**
   * Stores a charger message for this secondary (`bytes`: the frame's UTF-8 length, when the caller
   * knows it already). Never throws; a failure is reported through `onDropped`.
   */
  append(record: NewOutboxRecord, bytes: number = Buffer.byteLength(record.frame)): void {
    this.#pendingWrites += 1;
    this.#o.store.append(this.#o.stream, record, this.#o.limits).then(
      (result) => {
        for (const dropped of result.dropped) this.#forget(dropped.seq);
        for (const dropped of result.dropped) this.#o.events.onDropped(dropped, 'queue-full');
        if (result.seq > 0) {
          const stored: OutboxRecord = { ...record, seq: result.seq, bytes };
          this.#o.events.onAppended?.(stored);
          this.#committed(stored);
        }
        this.#writeSettled();
      },
      (error: unknown) => {
        const reason: DropReason = error instanceof StoreError && error.code === ErrorCode.StoreOverloaded ? 'store-overloaded' : 'store-failed';
        this.#o.log.error({ err: error, action: record.action }, 'message could not be stored for this secondary: lost for it');
        this.#o.events.onDropped({ seq: 0, action: record.action, priority: record.priority, bytes }, reason);
        this.#writeSettled();
      },
    );
  }

  /** Settles once every append and ack made so far has been committed or has failed. */
  settled(): Promise<void> {
    if (this.#pendingWrites === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settledWaiters.push(resolve));
  }

  /**
   * Without waiting: the oldest undelivered entry when it is in memory; `undefined` when
   * there is none at all; `'unknown'` when only the store can tell (use `head()`).
   */
  peek(): OutboxRecord | undefined | 'unknown' {
    const first = this.#window[0];
    if (first !== undefined) return first;
    return this.#complete ? undefined : 'unknown';
  }

  /**
   * The oldest undelivered entry, or undefined when there is none. Rejects when the
   * store cannot be read (the caller retries later).
   */
  async head(): Promise<OutboxRecord | undefined> {
    for (let reads = 0; reads < MAX_READS_PER_HEAD && !this.#closed; reads += 1) {
      const first = this.#window[0];
      if (first !== undefined) return first;
      if (this.#complete) return undefined;
      const resolvedBefore = this.#appendsResolved;
      const after = this.#cursor;
      const rows = await this.#o.store.read(this.#o.stream, after, PAGE_ENTRIES, PAGE_BYTES);
      // Closed while reading: its window's memory is already given back; reserve none again.
      if (this.#closed) return undefined;
      // Something else moved the cursor or filled the window while we read: look again.
      if (this.#cursor !== after || this.#window.length > 0) continue;
      for (const row of rows) {
        if (row.seq <= this.#cursor) continue;
        // At least one entry, whatever the budget: delivery must go on.
        if (this.#window.length > 0 && !this.#o.budget.tryReserve(row.bytes)) break;
        if (this.#window.length === 0) this.#o.budget.reserve(row.bytes);
        this.#push(row);
      }
      if (rows.length === 0 && this.#appendsResolved === resolvedBefore) this.#complete = true;
    }
    return this.#window[0];
  }

  /**
   * The entry is done with (answered, or given up): the next `head()` is the one after it.
   * Resolves once the store has removed it; rejects with StoreError(LeaseLost) when
   * another owner has taken the charger.
   */
  ack(seq: number, fence: Fence): Promise<void> {
    this.#forget(seq);
    if (seq > this.#cursor) this.#cursor = seq;
    this.#pendingWrites += 1;
    const acked = this.#o.store.ack(this.#o.stream, seq, fence);
    // A session that takes over this outbox must see this ack, or it would send the entry again.
    void acked.then(
      () => this.#writeSettled(),
      () => this.#writeSettled(),
    );
    return acked;
  }

  /** Lets go of the window's memory; pending appends still complete. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.budget.release(this.#windowBytes);
    this.#windowBytes = 0;
    this.#window.length = 0;
    this.#complete = false;
  }

  #committed(record: OutboxRecord): void {
    this.#appendsResolved += 1;
    if (this.#closed) return;
    const last = this.#window.at(-1)?.seq ?? this.#cursor;
    if (this.#complete && record.seq > last) {
      if (this.#o.budget.tryReserve(record.bytes)) this.#push(record);
      // Over budget: it stays in the store only, and is read from there in its turn.
      else this.#complete = false;
    }
    this.#o.events.onAvailable();
  }

  #push(record: OutboxRecord): void {
    this.#window.push(record);
    this.#windowBytes += record.bytes;
  }

  /** Removes an entry from the window (acked, or dropped by the store). */
  #forget(seq: number): void {
    // Nearly always the head: `shift()` is O(1) in V8 where `splice(0, 1)` copies the whole window.
    const entry = this.#window[0]?.seq === seq ? this.#window.shift() : this.#removeFromWindow(seq);
    if (entry === undefined) return;
    this.#windowBytes -= entry.bytes;
    this.#o.budget.release(entry.bytes);
  }

  #removeFromWindow(seq: number): OutboxRecord | undefined {
    const index = this.#window.findIndex((entry) => entry.seq === seq);
    return index === -1 ? undefined : this.#window.splice(index, 1)[0];
  }

  #writeSettled(): void {
    this.#pendingWrites -= 1;
    if (this.#pendingWrites === 0) for (const resolve of this.#settledWaiters.splice(0)) resolve();
  }
}
