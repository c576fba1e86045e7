/**
 * Delivery of one (charger, secondary) outbox over the secondary's socket, the
 * way OCPP-J wants it (1.6 §4.1.1, 2.0.1 Part 4 §4.1.1): one CALL in flight,
 * in order, each waiting for the answer or the answer timeout; resent with the
 * same id up to `maxAttempts` sends, then skipped (logged and counted). A SEND
 * (2.1) is written and done: nothing waits for it.
 *
 * Each time the socket (re)opens, the charger's last BootNotification goes first
 * under a fresh id: CSMSs refuse traffic until they have seen one on the
 * connection, and chargers do not boot again after a reconnect. A connection that
 * dies on that replay counts as an attempt at the entry that waits behind it, so a
 * secondary that cannot take a message cannot stall its outbox for ever.
 *
 * Nothing here can reach the charger or the primary: every failure ends here
 * (logged, counted, retried).
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, StoreError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Leg } from '../links/leg.js';
import type { OcppVersion } from '../ocpp/error-codes.js';
import { MessageType, parseFrame, serializeFrame } from '../ocpp/frame.js';
import { withMessageId } from '../ocpp/readdress.js';
import { backoffDelay } from '../links/backoff.js';
import { rewriteForSecondary } from '../routing/rewrite.js';
import { primaryTransactionIdFromStartResult, REWRITE_RELEVANT_ACTIONS } from '../routing/transactions.js';
import type { MirrorStore, OutboxRecord } from '../store/store.js';
import type { LeaseHandle } from './lease-keeper.js';
import type { Outbox } from './outbox.js';
import type { TransactionBook } from './transaction-book.js';

export interface DeliveryTiming {
  readonly answerTimeoutMs: number;
  readonly maxAttempts: number;
}

export interface DeliveryEvents {
  /** An entry was given up: `reason` says why. */
  onGivenUp(record: OutboxRecord, reason: 'max-attempts' | 'unsendable', attempts: number): void;
  /** An entry was answered (or, for a SEND, written). */
  onDelivered(record: OutboxRecord): void;
  /** The store refused an acknowledgement's fence: the lease was lost; delivery waits until it is taken again. */
  onLeaseLost(): void;
  /** A frame or connection the secondary could not take counts against the link (slower reconnects). */
  onLinkFailure(): void;
}

export interface DeliveryOptions {
  readonly chargerId: string;
  readonly version: OcppVersion;
  readonly store: MirrorStore;
  readonly outbox: Outbox;
  readonly book: TransactionBook;
  readonly lease: Pick<LeaseHandle, 'fence' | 'valid' | 'current' | 'lost'>;
  readonly timing: DeliveryTiming;
  readonly log: Logger;
  readonly events: DeliveryEvents;
}

interface InFlight {
  readonly id: string;
  /** Undefined for the replayed BootNotification, which is not in the outbox. */
  readonly record: OutboxRecord | undefined;
  /** `performance.now()` when the answer is due. */
  readonly dueAt: number;
}

/** Retry delays for reading a store that cannot be read right now (locked, failing). */
const READ_RETRY_BASE_MS = 200;
const READ_RETRY_MAX_MS = 30_000;
/** How soon a delivery waiting for its charger's lease looks again. */
const LEASE_RECHECK_MS = 200;
/** Entries skipped or SENDs written in one run before yielding to the event loop. */
const MAX_STEPS_PER_RUN = 256;

export class Delivery {
  readonly #o: DeliveryOptions;
  #leg: Leg | undefined;
  #inFlight: InFlight | undefined;
  #replayDue = false;
  /** Sends of the current head entry (keyed by seq): only the head is ever attempted. */
  #attempts = { seq: 0, count: 0 };
  #running = false;
  #rerun = false;
  #closed = false;
  #readFailures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #answerTimer: NodeJS.Timeout | undefined;
  /** Whether `#answerTimer` runs for a whole answer timeout (then `refresh()` re-arms it for the next send). */
  #answerTimerIsFull = false;

  constructor(options: DeliveryOptions) {
    this.#o = options;
  }

  /** The socket opened: replay the BootNotification, then deliver. */
  attach(leg: Leg): void {
    this.#leg = leg;
    this.#replayDue = true;
    this.wake();
  }

  /** The socket is gone: what was in flight will be sent again on the next one. */
  detach(): void {
    this.#leg = undefined;
    const inFlight = this.#inFlight;
    if (inFlight === undefined) return;
    this.#inFlight = undefined;
    if (inFlight.record === undefined) this.#replayFailed();
  }

  /** Whether `id` is the message in flight to the secondary (for the routing table). */
  isInFlight(id: string): boolean {
    return this.#inFlight?.id === id;
  }

  /** The secondary answered the message in flight. */
  answered(id: string, type: MessageType, data: Buffer): void {
    const inFlight = this.#inFlight;
    if (inFlight?.id !== id) return;
    this.#inFlight = undefined;
    const { record } = inFlight;
    if (record !== undefined) {
      if (type === MessageType.CallResult) this.#learn(record, data);
      else this.#o.log.info({ action: record.action }, 'secondary answered with a CALLERROR');
      this.#done(record);
    }
    this.wake();
  }

  /** New entries may be waiting (an append committed, the socket opened): deliver what can be. */
  wake(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#rerun = true;
      return;
    }
    // The common case (the next entry in memory, nothing to rewrite) costs no promise.
    if (this.#sendWithoutWaiting()) return;
    this.#running = true;
    this.#run()
      .catch((error: unknown) => {
        // A store read inside a rewrite, say: try again later, never stall until the next append.
        this.#o.log.error({ err: error }, 'mirror delivery failed unexpectedly; retrying later');
        this.#retryLater(error);
      })
      .finally(() => {
        this.#running = false;
        if (this.#rerun) {
          this.#rerun = false;
          this.wake();
        }
      });
  }

  /**
   * Stops sending. A message still in flight stays recorded: an answer that
   * crosses our close frame still marks it delivered, so it is not sent again.
   */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#answerTimer);
    this.#answerTimer = undefined;
  }

  /**
   * Does what `#run` would, when it needs nothing from the store: returns true when it
   * sent the next entry or there is nothing to do, false when `#run` must take over.
   */
  #sendWithoutWaiting(): boolean {
    if (this.#replayDue || !this.#o.lease.valid()) return false;
    const leg = this.#leg;
    if (leg === undefined || !leg.isOpen || this.#inFlight !== undefined) return true;
    const head = this.#o.outbox.peek();
    if (head === 'unknown') return false;
    if (head === undefined) return true;
    if (head.kind !== 'call' || REWRITE_RELEVANT_ACTIONS.has(head.action)) return false;
    if (this.#attempts.seq !== head.seq) this.#attempts = { seq: head.seq, count: 0 };
    if (this.#attempts.count >= this.#o.timing.maxAttempts) return false;
    this.#attempts.count += 1;
    this.#send(leg, head.frame, head.messageId, head);
    return true;
  }

  async #run(): Promise<void> {
    for (let steps = 0; steps < MAX_STEPS_PER_RUN; steps += 1) {
      // Only while this process holds the charger's lease: two owners never both deliver.
      if (!this.#o.lease.valid()) {
        await this.#o.lease.fence();
        if (!this.#o.lease.valid()) {
          this.#recheckLeaseLater();
          return;
        }
      }
      const leg = this.#leg;
      if (this.#closed || leg === undefined || !leg.isOpen || this.#inFlight !== undefined) return;
      let head: OutboxRecord | undefined;
      try {
        head = await this.#o.outbox.head();
        this.#readFailures = 0;
      } catch (error) {
        this.#retryLater(error);
        return;
      }
      // The socket may have changed or something else sent while we read.
      if (leg !== this.#leg || this.#inFlight !== undefined || this.#closed) return;
      if (head !== undefined && this.#attempts.seq !== head.seq) this.#attempts = { seq: head.seq, count: 0 };
      // Checked before each send (the replay included), not only on timeouts: a CALL on which the
      // secondary drops the connection, or that waits behind a replay it drops, gives up after maxAttempts.
      if (head !== undefined && this.#attempts.count >= this.#o.timing.maxAttempts) {
        this.#giveUp(head, 'max-attempts');
        continue;
      }
      if (this.#replayDue) {
        this.#replayDue = false;
        if (head?.action !== 'BootNotification' && (await this.#replayBoot(leg))) return;
        continue;
      }
      if (head === undefined) return;
      const text = await this.#prepare(head);
      if (leg !== this.#leg || this.#inFlight !== undefined || this.#closed) return;
      if (!this.#o.lease.valid()) {
        this.#recheckLeaseLater();
        return;
      }
      if (text === undefined) {
        this.#giveUp(head, 'unsendable');
        continue;
      }
      this.#attempts.count += 1;
      if (head.kind === 'send') {
        // Never answered (2.1 SEND): written, and done once the socket has taken it.
        if (!(await leg.sendAndDrain(text))) return;
        this.#done(head);
        continue;
      }
      this.#send(leg, text, head.messageId, head);
      return;
    }
    // Many entries in one go: let everyone else have the event loop, then go on.
    setImmediate(() => this.wake());
  }

  #send(leg: Leg, text: string, id: string, record: OutboxRecord | undefined): void {
    if (!leg.send(text, false)) return;
    this.#inFlight = { id, record, dueAt: performance.now() + this.#o.timing.answerTimeoutMs };
    // One timer per delivery, re-armed per send (a timer made and cleared per message costs more than the send).
    if (this.#answerTimer !== undefined && this.#answerTimerIsFull) {
      this.#answerTimer.refresh();
    } else {
      clearTimeout(this.#answerTimer);
      this.#answerTimer = setTimeout(this.#onAnswerTimer, this.#o.timing.answerTimeoutMs).unref();
      this.#answerTimerIsFull = true;
    }
  }

  /** Sends the last BootNotification under a fresh id; false when there is none to send. */
  async #replayBoot(leg: Leg): Promise<boolean> {
    let boot: string | undefined;
    try {
      boot = await this.#o.store.loadLastBoot(this.#o.chargerId);
    } catch (error) {
      this.#o.log.warn({ err: error }, 'last BootNotification cannot be read from the store: not replayed');
      return false;
    }
    if (boot === undefined || leg !== this.#leg || this.#inFlight !== undefined) return false;
    const id = randomUUID();
    const text = withMessageId(boot, id);
    if (text === undefined) return false;
    this.#send(leg, text, id, undefined);
    return this.#inFlight !== undefined;
  }

  readonly #onAnswerTimer = (): void => {
    const inFlight = this.#inFlight;
    if (inFlight === undefined || this.#closed) return;
    const early = inFlight.dueAt - performance.now();
    // Armed for an earlier message: wait for the rest of this one's time.
    if (early > 1) {
      this.#answerTimer = setTimeout(this.#onAnswerTimer, Math.ceil(early)).unref();
      this.#answerTimerIsFull = false;
      return;
    }
    this.#timedOut();
  };

  #timedOut(): void {
    const inFlight = this.#inFlight;
    if (inFlight === undefined) return;
    this.#inFlight = undefined;
    if (inFlight.record === undefined) this.#replayFailed();
    this.#o.log.debug({ action: inFlight.record?.action ?? 'BootNotification', attempt: this.#attempts.count }, 'secondary did not answer in time');
    // The next run resends it, or skips it once it has had all its attempts.
    this.wake();
  }

  /** The replay was not answered: an attempt at the entry waiting behind it. */
  #replayFailed(): void {
    this.#o.events.onLinkFailure();
    // Nothing waiting behind the replay (seq 0): nothing to charge.
    if (this.#attempts.seq !== 0) this.#attempts.count += 1;
  }

  /** The frame for this secondary: the original bytes, or a rewrite when a rule applies; undefined when it cannot be made. */
  async #prepare(record: OutboxRecord): Promise<string | undefined> {
    // Most traffic (Heartbeat, StatusNotification, …) carries nothing a rule rewrites: the original bytes go.
    if (!REWRITE_RELEVANT_ACTIONS.has(record.action)) return record.frame;
    const context = await this.#o.book.rewriteContext(record);
    if (context === undefined) return record.frame;
    try {
      const parsed = parseFrame(record.frame);
      if (!parsed.ok || parsed.frame.type !== MessageType.Call) return undefined;
      const rewritten = rewriteForSecondary(this.#o.version, parsed.frame, context);
      return rewritten.changed ? serializeFrame({ ...parsed.frame, payload: rewritten.payload }) : record.frame;
    } catch (error) {
      // A payload no JSON round trip survives (thousands of levels deep): it cannot be rewritten.
      this.#o.log.warn({ err: error, action: record.action }, 'message cannot be rewritten for this secondary');
      return undefined;
    }
  }

  #giveUp(record: OutboxRecord, reason: 'max-attempts' | 'unsendable'): void {
    this.#o.events.onGivenUp(record, reason, this.#attempts.count);
    this.#ack(record);
  }

  #done(record: OutboxRecord): void {
    this.#o.events.onDelivered(record);
    this.#ack(record);
  }

  #ack(record: OutboxRecord): void {
    // The lease as it is now: if it was lost and taken again since the send, the new token acks it.
    const fence = this.#o.lease.current();
    if (fence === undefined) return;
    this.#o.outbox.ack(record.seq, fence).catch((error: unknown) => {
      if (error instanceof StoreError && error.code === ErrorCode.LeaseLost) {
        // The lease keeper asks for the lease again; until it has it, nothing is sent.
        this.#o.log.error({ token: fence.token }, 'the store refused this process’s lease on the charger: delivery waits until it holds it again');
        this.#o.lease.lost(fence);
        this.#o.events.onLeaseLost();
        return;
      }
      // The entry stays in the store; a later session may send it again (at least once).
      this.#o.log.warn({ err: error, action: record.action }, 'delivered message could not be removed from the store');
    });
  }

  /** Transaction bookkeeping from a secondary's CALLRESULT. */
  #learn(record: OutboxRecord, data: Buffer): void {
    const { book, version } = this.#o;
    if (record.startRef !== null && version === '1.6') {
      let secondaryTxId: string | undefined;
      try {
        const parsed = parseFrame(data);
        if (parsed.ok && parsed.frame.type === MessageType.CallResult) secondaryTxId = primaryTransactionIdFromStartResult(parsed.frame.payload);
      } catch (error) {
        this.#o.log.warn({ err: error }, 'secondary StartTransaction answer cannot be read');
      }
      if (secondaryTxId !== undefined) void book.secondaryAnswered(record.startRef, secondaryTxId);
    } else if (record.startRef === null && record.txRef !== null && record.priority === 'transaction') {
      // The transaction's end reached this secondary: its link is kept for a grace period (resent stops).
      void book.stopped(record.txRef);
    }
  }

  /** The lease is being renewed or taken again: look again shortly (never a busy loop). */
  #recheckLeaseLater(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.wake(), LEASE_RECHECK_MS).unref();
  }

  #retryLater(error: unknown): void {
    const delayMs = backoffDelay(this.#readFailures, READ_RETRY_BASE_MS, READ_RETRY_MAX_MS);
    this.#readFailures += 1;
    if (this.#readFailures === 1) this.#o.log.warn({ err: error, retry_in_ms: delayMs }, 'secondary backlog cannot be read from the store yet; delivery waits');
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.wake(), delayMs).unref();
  }
}

